//! Chapter 3's first program, the client: each line of standard input is a command; it is
//! sent, and the reply printed. `quit` or the end of input stops it.
//! Usage: shell_client [ADDR] (default 127.0.0.1:8080)

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1);
    let mut conn = TcpStream::connect(addr.as_deref().unwrap_or("127.0.0.1:8080"))?;
    let mut lines = std::io::stdin().lock().lines();
    let mut buf = [0u8; 1024];
    loop {
        // The prompt goes to stderr, so that stdout holds only the replies.
        eprint!(">>> ");
        let Some(line) = lines.next() else { break };
        let line = line?;
        let command = line.trim();
        // Sending zero bytes sends nothing, and no reply would come: skip empty lines.
        if command.is_empty() {
            continue;
        }
        if command == "quit" {
            break;
        }
        conn.write_all(command.as_bytes())?;
        // ONE read of at most 1024 bytes, like the original's `recv(1024)`. A longer reply
        // does not fit, and its rest stays in the socket (chapter 4).
        let n = conn.read(&mut buf)?;
        if n == 0 {
            eprintln!("the server closed the connection");
            break;
        }
        print!("{}", String::from_utf8_lossy(&buf[..n]));
        std::io::stdout().flush()?;
    }
    Ok(())
}
