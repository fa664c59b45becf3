//! A tiny chat server (a thread per client, one mutex) for the smoke run only: it lets
//! `cargo test -p chat-bench` check the harness without Python and without the lessons.
//! Protocol subset: welcome, name, hello with the count, `NAME: line` to the others.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

type Room = Arc<Mutex<Vec<(usize, Vec<u8>, TcpStream)>>>;

pub fn serve(addr: &str) -> i32 {
    let listener = match TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("tiny server: cannot bind {addr}: {e}");
            return 1;
        }
    };
    let local = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    println!("listening on {local}");
    let _ = std::io::stdout().flush();
    let room: Room = Arc::default();
    for (id, stream) in listener.incoming().enumerate() {
        let Ok(stream) = stream else { continue };
        let room = Arc::clone(&room);
        let spawned = thread::Builder::new().spawn(move || client(id, stream, room));
        if let Err(e) = spawned {
            eprintln!("tiny server: no thread for client {id}: {e}");
        }
    }
    0
}

fn client(id: usize, mut stream: TcpStream, room: Room) {
    let Ok(reader) = stream.try_clone() else {
        return;
    };
    // Without it, Nagle's algorithm holds each small line until the last is acknowledged.
    let _ = stream.set_nodelay(true);
    let _ = stream.write_all(b"* welcome; send your name\n");
    let mut name: Option<Vec<u8>> = None;
    for line in BufReader::new(reader).split(b'\n') {
        let Ok(mut line) = line else { break };
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let mut members = room.lock().unwrap_or_else(|e| e.into_inner());
        match &name {
            None => {
                let hello = format!(
                    "* hello {}; others here: {}\n",
                    String::from_utf8_lossy(&line),
                    members.len()
                );
                let Ok(writer) = stream.try_clone() else {
                    return;
                };
                members.push((id, line.clone(), writer));
                name = Some(line);
                let _ = stream.write_all(hello.as_bytes());
            }
            Some(me) if !line.is_empty() => {
                let text = [me.as_slice(), b": ", &line, b"\n"].concat();
                for (other, _, writer) in members.iter_mut() {
                    if *other != id {
                        let _ = writer.write_all(&text);
                    }
                }
            }
            Some(_) => {}
        }
    }
    room.lock()
        .unwrap_or_else(|e| e.into_inner())
        .retain(|(other, _, _)| *other != id);
}
