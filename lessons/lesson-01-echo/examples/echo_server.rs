//! The first program: an echo server made of the classic calls, one client at a time.
//! Run it with `cargo run -p lesson-01 --example echo_server -- 127.0.0.1:8080`.

use std::io::{Read, Write};
use std::net::TcpListener;

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:8080".into());
    // socket + bind + listen: Rust's `bind` makes all three calls.
    let listener = TcpListener::bind(&addr)?;
    // The real address (port 0 means "any free port"), flushed so a script can read it now.
    println!("listening on {}", listener.local_addr()?);
    std::io::stdout().flush()?;

    // The connection loop: one client after another.
    loop {
        // accept waits for a client and returns a new socket for that one conversation.
        let (mut conn, peer) = listener.accept()?;
        eprintln!("connected from {peer}");
        let mut buf = [0u8; 1024];
        // The communication loop: read what arrived, send the same bytes back.
        loop {
            let n = match conn.read(&mut buf) {
                // 0 bytes is not "nothing yet": the client closed its end.
                Ok(0) => {
                    eprintln!("{peer} closed the connection");
                    break;
                }
                Ok(n) => n,
                // A broken connection ends this conversation, not the server.
                Err(e) => {
                    eprintln!("{peer} disconnected abnormally: {e}");
                    break;
                }
            };
            // `write_all`, not `write`: a single `write` may send only part of the bytes.
            if let Err(e) = conn.write_all(&buf[..n]) {
                eprintln!("{peer} disconnected abnormally: {e}");
                break;
            }
        }
        // `conn` is dropped here, which closes our end; back to `accept`.
    }
}
