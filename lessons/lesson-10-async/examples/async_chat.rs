//! The first program: chapter 8's chat server, with tokio. Each client is a task, not a thread,
//! and each line goes once into a broadcast channel that every task reads. No names, no limits:
//! the lesson adds them.
use std::net::SocketAddr;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast::{Receiver, Sender, channel};

/// A line for the room, and who sent it (who must not get it back).
type Line = (SocketAddr, String);

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:8080".into());
    let listener = TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    // One channel for the room: it keeps the last 1,000 lines for the tasks still to read them.
    let (room, _) = channel::<Line>(1000);
    loop {
        let (conn, peer) = listener.accept().await?;
        let inbox = room.subscribe(); // from here on, every line is kept for this client
        eprintln!("{peer} joined");
        // A task per client: `thread::spawn`'s twin, but a task is a few hundred bytes.
        tokio::spawn(serve(conn, peer, room.clone(), inbox));
    }
}

async fn serve(conn: TcpStream, peer: SocketAddr, room: Sender<Line>, mut inbox: Receiver<Line>) {
    let (read, mut write) = conn.into_split();
    let mut lines = BufReader::new(read).lines();
    loop {
        // Wait for whichever comes first: a line from this client, or a line for it.
        tokio::select! {
            line = lines.next_line() => match line {
                Ok(Some(line)) => drop(room.send((peer, format!("{peer}: {line}\n")))),
                _ => break, // the end of the stream, or an error: the client has gone
            },
            Ok((from, line)) = inbox.recv() => {
                if from != peer && write.write_all(line.as_bytes()).await.is_err() {
                    break;
                }
            }
        }
    }
    eprintln!("{peer} left");
}
