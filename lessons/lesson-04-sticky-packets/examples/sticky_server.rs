//! Chapter 4's first program, the server: chapter 3's remote shell, except that each reply is
//! TWO writes, a status line and then the command's output. It runs whatever it is sent, so
//! keep it on loopback (the default).

use std::io::{self, Read, Write};
use std::net::TcpListener;
use std::process::Command;

fn main() -> io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:8080".into());
    let listener = TcpListener::bind(&addr)?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (mut conn, peer) = listener.accept()?;
        eprintln!("connected from {peer}");
        let mut buf = [0u8; 1024];
        loop {
            // One read is taken as one command: the same mistake, on the way in.
            let n = match conn.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let command = String::from_utf8_lossy(&buf[..n]).into_owned();
            let result = Command::new("sh").arg("-c").arg(&command).output()?;
            let status = match result.status.code() {
                Some(code) => format!("[exit status {code}]\n"),
                None => "[killed by a signal]\n".to_string(),
            };
            let mut output = result.stdout;
            output.extend_from_slice(&result.stderr);
            // A header, then a body: two writes. The bytes go into one stream, and nothing
            // in it will say where the first write ended.
            if conn.write_all(status.as_bytes()).is_err() || conn.write_all(&output).is_err() {
                break;
            }
            eprintln!("{command:?}: wrote {} + {}", status.len(), output.len());
        }
        eprintln!("{peer} left");
    }
}
