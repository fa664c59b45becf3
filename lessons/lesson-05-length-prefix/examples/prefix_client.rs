//! Chapter 5's first program, the client: for each line of input it sends the command, reads
//! the length, answers `recv_ready`, then reads until it has that many bytes.
use std::io::{self, BufRead, ErrorKind, Read, Write};
use std::net::TcpStream;

fn main() -> io::Result<()> {
    let addr = std::env::args().nth(1);
    let mut conn = TcpStream::connect(addr.as_deref().unwrap_or("127.0.0.1:8080"))?;
    for line in io::stdin().lock().lines() {
        let command = line?;
        if command.is_empty() {
            continue;
        }
        if command == "quit" {
            break;
        }
        // 1. The command.
        conn.write_all(command.as_bytes())?;
        // 2. The length: one read. The server sends nothing after the digits until step 3,
        //    so this read cannot return output too.
        let mut buf = [0u8; 1024];
        let n = conn.read(&mut buf)?;
        let digits = String::from_utf8_lossy(&buf[..n]);
        let length: usize = digits.parse().map_err(|_| {
            io::Error::new(ErrorKind::InvalidData, format!("not a length: {digits:?}"))
        })?;
        // 3. Tell the server to go ahead.
        conn.write_all(b"recv_ready")?;
        // 4. Exactly `length` bytes. One read returns only what has arrived so far;
        //    `read_exact` reads again and again until it has them all.
        let mut reply = vec![0u8; length];
        conn.read_exact(&mut reply)?;
        io::stdout().write_all(&reply)?;
        eprintln!("[{length} bytes]");
    }
    Ok(())
}
