//! Chapter 6's first program, the server: it runs each command it receives, then sends the
//! output's length as a 4-byte header, then the output itself.
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1);
    let listener = TcpListener::bind(addr.as_deref().unwrap_or("127.0.0.1:8080"))?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (mut conn, peer) = listener.accept()?;
        eprintln!("connected from {peer}");
        let mut buf = [0u8; 1024];
        loop {
            // One read is one command, as in chapter 3: the command has no header.
            let n = match conn.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let command = String::from_utf8_lossy(&buf[..n]).into_owned();
            let output = match Command::new("sh").arg("-c").arg(&command).output() {
                Ok(output) => [output.stdout, output.stderr].concat(),
                Err(e) => format!("cannot run it: {e}\n").into_bytes(),
            };
            // The header: the length as 4 bytes, most significant first ("big-endian").
            // Its size never changes, so the client knows where it ends.
            let mut reply = (output.len() as u32).to_be_bytes().to_vec();
            reply.extend_from_slice(&output);
            // Header and output in one write; `write_all` sends every byte.
            if conn.write_all(&reply).is_err() {
                break;
            }
            eprintln!("ran {command:?}: sent 4 + {} bytes", output.len());
        }
        eprintln!("{peer} left");
    }
}
