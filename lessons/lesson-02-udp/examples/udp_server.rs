//! Chapter 2's first program, the server: a UDP echo server in a handful of calls.
//! `cargo run -p lesson-02 --example udp_server -- 127.0.0.1:8080`
//!
//! Compare it with chapter 1's echo server: no `listen`, no `accept`, no connection loop.
//! One socket receives from every client, and each datagram comes with its sender's address.

use std::io::{self, Write};
use std::net::UdpSocket;

fn main() -> io::Result<()> {
    let addr = std::env::args().nth(1);
    let addr = addr.as_deref().unwrap_or("127.0.0.1:8080");

    // socket(AF_INET, SOCK_DGRAM) and bind, in one call. Nothing more: nobody will connect.
    let socket = UdpSocket::bind(addr)?;
    println!("listening on {}", socket.local_addr()?);
    io::stdout().flush()?;

    // Like the original's recv(1024): a longer datagram would be cut short (see the chapter).
    let mut buf = [0u8; 1024];
    loop {
        // One call, one whole datagram, and the address to answer.
        let (n, peer) = socket.recv_from(&mut buf)?;
        let text = String::from_utf8_lossy(&buf[..n]);
        eprintln!("{n} bytes from {peer}: {text:?}");
        // The reply is one datagram too, addressed to whoever sent this one.
        socket.send_to(&buf[..n], peer)?;
    }
}
