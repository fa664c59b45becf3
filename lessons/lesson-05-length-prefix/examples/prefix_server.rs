//! Chapter 5's first program, the server: it runs each command it receives, sends the output's
//! length as decimal digits, waits for the client's `recv_ready`, then sends the output.
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
            // 1. One read is one command, as in chapter 3: nothing marks where it ends.
            let n = match conn.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let command = String::from_utf8_lossy(&buf[..n]).into_owned();
            let output = match Command::new("sh").arg("-c").arg(&command).output() {
                Ok(output) => [output.stdout, output.stderr].concat(),
                Err(e) => format!("cannot run it: {e}\n").into_bytes(),
            };
            // 2. The length, as decimal digits and nothing else: "48894".
            if conn.write_all(output.len().to_string().as_bytes()).is_err() {
                break;
            }
            // 3. Send nothing more until the client answers, so that the digits cannot run
            //    into the output on the wire. The answer is always these ten bytes.
            let mut ack = [0u8; 10];
            if conn.read_exact(&mut ack).is_err() || &ack != b"recv_ready" {
                break;
            }
            // 4. The output, all of it: `write_all` loops until every byte is handed over.
            if conn.write_all(&output).is_err() {
                break;
            }
            eprintln!("ran {command:?}: sent {} bytes", output.len());
        }
        eprintln!("{peer} left");
    }
}
