//! Chapter 2's first program, the client: each line of standard input goes out as one
//! datagram, and the reply is printed. End it with Ctrl-D (end of input).
//! `cargo run -p lesson-02 --example udp_client -- 127.0.0.1:8080`

use std::io::{self, BufRead, ErrorKind};
use std::net::UdpSocket;
use std::time::Duration;

fn main() -> io::Result<()> {
    let server = std::env::args().nth(1);
    let server = server.as_deref().unwrap_or("127.0.0.1:8080");

    // Any local address and port will do (port 0: the system picks one). There is no
    // connect: each datagram carries the server's address itself.
    let socket = UdpSocket::bind("0.0.0.0:0")?;
    // A datagram can be lost, and so can its reply. Without a timeout, recv_from would
    // wait forever for a reply that will never come.
    socket.set_read_timeout(Some(Duration::from_secs(1)))?;

    let mut buf = [0u8; 1024];
    for line in io::stdin().lock().lines() {
        let line = line?;
        // One send_to, one datagram. An empty line is sent too: an empty datagram.
        socket.send_to(line.as_bytes(), server)?;
        match socket.recv_from(&mut buf) {
            Ok((n, _from)) => println!("{}", String::from_utf8_lossy(&buf[..n])),
            // The timeout ran out: Unix reports WouldBlock, Windows TimedOut.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                println!("no reply within 1 s: lost")
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
