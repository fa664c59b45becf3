//! Chapter 6's first program, the client: for each line of input it sends the command, reads
//! the 4-byte length, then reads the reply 1024 bytes at a time until all of it is in.
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
        conn.write_all(command.as_bytes())?;
        // Always exactly 4 bytes: `read_exact` reads until it has them all.
        let mut header = [0u8; 4];
        conn.read_exact(&mut header)?;
        let length = u32::from_be_bytes(header) as usize;
        // Plan two: read until `length` bytes are in, never asking for more than what is left.
        let mut reply = Vec::new();
        let mut chunk = [0u8; 1024];
        let mut reads = 0;
        while reply.len() < length {
            let want = (length - reply.len()).min(1024);
            let n = conn.read(&mut chunk[..want])?;
            if n == 0 {
                let why = format!("closed after {} of {length} bytes", reply.len());
                return Err(io::Error::new(ErrorKind::UnexpectedEof, why));
            }
            reply.extend_from_slice(&chunk[..n]); // `n` bytes came, maybe fewer than `want`
            reads += 1;
        }
        io::stdout().write_all(&reply)?;
        eprintln!("[{length} bytes; reads: {reads}]");
    }
    Ok(())
}
