//! Chapter 9's first program: a chat server on ONE thread. `poll` sleeps until some socket is
//! ready; then an accept or a read on it cannot block. Whatever a client sends goes to all
//! the others. Left out (the lesson adds them): names, whole lines, and writes that never block.
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use rustix::event::{PollFd, PollFlags, poll};

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1);
    let listener = TcpListener::bind(addr.as_deref().unwrap_or("127.0.0.1:8080"))?;
    println!("listening on {}", listener.local_addr()?);
    let mut clients: Vec<TcpStream> = Vec::new();
    loop {
        // 1. One list: the listener, then every client, each with the question "readable?".
        let mut fds = vec![PollFd::new(&listener, PollFlags::IN)];
        fds.extend(clients.iter().map(|c| PollFd::new(c, PollFlags::IN)));
        // 2. Sleep until at least one of them has something: no CPU spent while nothing happens.
        poll(&mut fds, None)?;
        let ready: Vec<bool> = fds.iter().map(|fd| !fd.revents().is_empty()).collect();
        drop(fds);
        // 3. The listener is ready: a connection is waiting, so accept returns at once.
        if ready[0] {
            let (client, peer) = listener.accept()?;
            eprintln!("{peer} joined");
            clients.push(client);
        }
        // 4. A client is ready: it sent something, or closed. One read returns at once.
        let mut gone = Vec::new();
        for i in (0..clients.len()).filter(|&i| ready.get(i + 1) == Some(&true)) {
            let mut buf = [0u8; 1024];
            match clients[i].read(&mut buf) {
                Ok(0) | Err(_) => gone.push(i),
                Ok(n) => {
                    for other in clients.iter().enumerate().filter(|(j, _)| *j != i) {
                        // A blocking write: a client that stops reading stops everyone.
                        let _ = (&*other.1).write_all(&buf[..n]);
                    }
                }
            }
        }
        for i in gone.into_iter().rev() {
            clients.remove(i); // dropping the stream closes it
            eprintln!("a client left");
        }
    }
}
