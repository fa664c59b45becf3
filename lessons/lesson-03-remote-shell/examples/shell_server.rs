//! Chapter 3's first program, the server: the original's xshell in Rust. Each command a client
//! sends is run by `sh -c`, and what it printed goes back. Usage: shell_server [ADDR]
//! (default 127.0.0.1:8080). It runs what anyone who connects sends it: keep it on loopback.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1);
    let listener = TcpListener::bind(addr.as_deref().unwrap_or("127.0.0.1:8080"))?;
    println!("listening on {}", listener.local_addr()?);
    // The connection loop: one client after another.
    loop {
        let Ok((mut conn, peer)) = listener.accept() else {
            continue;
        };
        eprintln!("connected from {peer}");
        // The communication loop: one read is one command.
        let mut buf = [0u8; 1024];
        loop {
            let n = match conn.read(&mut buf) {
                Ok(0) | Err(_) => break, // closed, or reset: back to accept
                Ok(n) => n,
            };
            let command = String::from_utf8_lossy(&buf[..n]).into_owned();
            eprintln!("running {command:?}");
            // `output` waits for the command and gives it an empty stdin.
            let mut reply = match Command::new("sh").arg("-c").arg(&command).output() {
                Ok(out) => [out.stdout, out.stderr].concat(),
                Err(e) => format!("could not run it: {e}\n").into_bytes(),
            };
            // Zero bytes would be no reply at all: the client would wait forever.
            if reply.is_empty() {
                reply = b"(no output)\n".to_vec();
            }
            // `write_all` loops until every byte is sent; one `write` may send only some.
            if conn.write_all(&reply).is_err() {
                break;
            }
        }
        eprintln!("{peer} left");
    }
}
