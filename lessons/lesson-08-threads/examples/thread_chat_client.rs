//! The first program's client: one thread prints what the server sends, the main thread
//! sends each line of standard input. `nc 127.0.0.1 8080` does the same.
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;

fn main() -> io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:8080".into());
    let conn = TcpStream::connect(addr)?;
    let incoming = BufReader::new(conn.try_clone()?);
    // Lines may arrive at any time, even while we wait for stdin: a thread of their own.
    let printer = thread::spawn(move || {
        for line in incoming.lines() {
            let Ok(line) = line else { break };
            println!("{line}");
        }
    });
    let mut outgoing = &conn;
    for line in io::stdin().lock().lines() {
        let line = line?;
        if line == "quit" {
            break;
        }
        outgoing.write_all(format!("{line}\n").as_bytes())?;
    }
    // Half-close: the server sees the end, and we print what still comes until it closes.
    conn.shutdown(Shutdown::Write)?;
    let _ = printer.join();
    Ok(())
}
