//! The checks for chapter 1's exercises. The same file is compiled twice: by `starter.rs`
//! against the learner's code and by `solution.rs` against the solutions.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use crate::ex;

/// Short on purpose: an unsolved exercise should fail in seconds, not hang.
const PATIENCE: Duration = Duration::from_secs(3);

fn connect(addr: std::net::SocketAddr) -> TcpStream {
    let conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(PATIENCE)).unwrap();
    conn
}

/// Serves one connection with `upper_echo_loop` on a thread; returns the client's end.
fn upper_echo_server() -> (TcpStream, thread::JoinHandle<std::io::Result<()>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = thread::spawn(move || {
        let (mut conn, _) = listener.accept()?;
        ex::upper_echo_loop(&mut conn)
    });
    (connect(addr), server)
}

/// Bytes as text for a message a person reads (`"HELLO"`, not `[72, 69, …]`); a byte that is
/// not UTF-8 shows as `�`.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn exchange(conn: &mut TcpStream, message: &[u8]) -> Vec<u8> {
    conn.write_all(message).unwrap();
    let mut reply = vec![0u8; message.len()];
    conn.read_exact(&mut reply).unwrap_or_else(|e| {
        panic!(
            "no complete reply to {:?} within {PATIENCE:?} ({e}): is the server busy elsewhere?",
            text(message)
        )
    });
    reply
}

/// Fails with both sides as text. Only when the text cannot show the difference (two
/// different bytes that are not UTF-8 both print as `�`) does it add the bytes as numbers.
fn assert_reply(message: &[u8], reply: &[u8], expected: &[u8]) {
    if reply == expected {
        return;
    }
    let bytes = if text(reply) == text(expected) {
        format!(" (as bytes: got {reply:?}, expected {expected:?})")
    } else {
        String::new()
    };
    panic!(
        "sent {:?}, got back {:?}, expected {:?}{bytes}",
        text(message),
        text(reply),
        text(expected)
    );
}

#[test]
fn upper_echo_shouts_ascii_letters() {
    let (mut conn, _server) = upper_echo_server();
    let message = b"hello, World 42!";
    assert_reply(message, &exchange(&mut conn, message), b"HELLO, WORLD 42!");
}

#[test]
fn upper_echo_leaves_other_bytes_alone_and_ends_cleanly() {
    let (mut conn, server) = upper_echo_server();
    // "é" is two bytes in UTF-8; a byte of 0xff is not text at all. Only `a` and `b` change.
    let message = "aé\u{0}b"
        .as_bytes()
        .iter()
        .copied()
        .chain([0xff])
        .collect::<Vec<u8>>();
    let expected = "Aé\u{0}B"
        .as_bytes()
        .iter()
        .copied()
        .chain([0xff])
        .collect::<Vec<u8>>();
    assert_reply(&message, &exchange(&mut conn, &message), &expected);
    drop(conn);
    assert!(
        server.join().unwrap().is_ok(),
        "a normal close must end the loop with Ok"
    );
}

#[test]
fn a_waiting_client_does_not_block_the_next_one() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || ex::serve_concurrently(listener));

    let mut first = connect(addr);
    let message = b"I am staying";
    assert_reply(message, &exchange(&mut first, message), message);
    // `first` is still connected: a server that serves one client at a time never gets here.
    let mut second = connect(addr);
    assert_reply(b"me too", &exchange(&mut second, b"me too"), b"me too");
    let message = b"still served";
    assert_reply(message, &exchange(&mut first, message), message);
}

#[test]
fn many_clients_are_served_at_once() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || ex::serve_concurrently(listener));

    // Connect all first, then talk to them in reverse order: only a server that serves them
    // side by side can answer the last one while the first is still waiting.
    let mut clients: Vec<TcpStream> = (0..8).map(|_| connect(addr)).collect();
    for (i, conn) in clients.iter_mut().enumerate().rev() {
        let message = format!("client {i}");
        let message = message.as_bytes();
        assert_reply(message, &exchange(conn, message), message);
    }
}
