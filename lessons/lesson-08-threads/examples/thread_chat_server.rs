//! The first program: a chat server with a thread per client, std only. Each line a client
//! sends goes to every other client. No names, no limits: the lesson adds them.
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

type Clients = Arc<Mutex<Vec<(SocketAddr, TcpStream)>>>;

fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:8080".into());
    let listener = TcpListener::bind(addr)?;
    println!("listening on {}", listener.local_addr()?);
    let clients: Clients = Arc::new(Mutex::new(Vec::new()));
    for conn in listener.incoming() {
        let conn = conn?;
        let peer = conn.peer_addr()?;
        // The table keeps a second handle on the socket, to write to it.
        clients.lock().unwrap().push((peer, conn.try_clone()?));
        let clients = clients.clone();
        // One thread per client: while it waits for its client, the others go on.
        thread::spawn(move || serve(conn, peer, clients));
    }
    Ok(())
}

fn serve(conn: TcpStream, peer: SocketAddr, clients: Clients) {
    for line in BufReader::new(conn).lines() {
        let Ok(line) = line else { break };
        let message = format!("{peer}: {line}\n");
        // Every other client gets the line, written while we hold the lock.
        for (other, stream) in clients.lock().unwrap().iter_mut() {
            if *other != peer {
                let _ = stream.write_all(message.as_bytes());
            }
        }
    }
    // The client has gone: take it out of the table.
    clients.lock().unwrap().retain(|(other, _)| *other != peer);
}
