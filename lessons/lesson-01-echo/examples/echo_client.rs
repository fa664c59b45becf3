//! The first program's client: send each line of standard input, print what comes back.
//! Run it with `cargo run -p lesson-01 --example echo_client -- 127.0.0.1:8080`.

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:8080".into());
    // socket + connect: one call. The OS picks our own port.
    let mut conn = TcpStream::connect(&addr)?;
    let mut buf = [0u8; 1024];

    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let message = line.trim();
        // An empty message cannot be sent: the server would see nothing arrive.
        if message.is_empty() {
            continue;
        }
        if message == "quit" {
            break;
        }
        conn.write_all(message.as_bytes())?;
        // One read, like the original's `recv(1024)`. It returns what has arrived so far,
        // at most 1024 bytes: not always the whole echo (see "What goes wrong").
        let n = conn.read(&mut buf)?;
        if n == 0 {
            eprintln!("the server closed the connection");
            break;
        }
        println!("{}", String::from_utf8_lossy(&buf[..n]));
    }
    // Dropping `conn` closes the connection: the server's next read returns 0 bytes.
    Ok(())
}
