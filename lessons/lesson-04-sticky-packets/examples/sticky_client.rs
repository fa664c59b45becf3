//! Chapter 4's first program, the client: each line of standard input is sent as a command,
//! and the reply is read with ONE read of at most 1024 bytes, as the original's client does.
//! Send `seq 1 1000`, then `echo hi`: the "reply" to `echo hi` is more of seq's numbers.

use std::io::{self, BufRead, Read, Write};
use std::net::TcpStream;

fn main() -> io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:8080".into());
    let mut conn = TcpStream::connect(&addr)?;
    let mut buf = [0u8; 1024];
    for line in io::stdin().lock().lines() {
        let line = line?;
        let command = line.trim();
        if command.is_empty() {
            continue;
        }
        if command == "quit" {
            break;
        }
        conn.write_all(command.as_bytes())?;
        // ONE read. It returns what has arrived by now, up to 1024 bytes: maybe the whole
        // reply, maybe a part of it, maybe what was left over from the reply before.
        let n = conn.read(&mut buf)?;
        if n == 0 {
            eprintln!("the server closed the connection");
            break;
        }
        println!("--- reply to {command:?}: one read, {n} bytes");
        let text = String::from_utf8_lossy(&buf[..n]);
        print!("{text}");
        // A read can stop in the middle of a line: end it, so the next reply starts cleanly.
        if !text.ends_with('\n') {
            println!();
        }
    }
    Ok(())
}
