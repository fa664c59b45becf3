//! Helpers shared by lesson 8's test files (each includes this file with `#[path]`).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};

use socket2::{Domain, Socket, Type};
use testkit::TIMEOUT;
use testkit::chat::{ChatClient, WELCOME};

/// A client that joins with a receive buffer shrunk to 4 KiB (before connecting, so the window
/// it offers is small from the start), and then reads nothing: its side fills after a few KiB.
pub fn join_and_stop_reading(addr: SocketAddr, name: &str) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(&addr.into()).unwrap();
    let conn: TcpStream = socket.into();
    conn.set_read_timeout(Some(TIMEOUT)).unwrap();
    conn.set_write_timeout(Some(TIMEOUT)).unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, format!("{WELCOME}\n"));
    (&conn).write_all(format!("{name}\n").as_bytes()).unwrap();
    line.clear();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with(&format!("* hello {name};")), "{line:?}");
    conn
}

/// `talker` sends 1000-byte lines, and `listener` reads each, until `listener` gets a notice
/// (a line starting `* `) instead of the talker's line. Returns how many lines were sent and
/// the notices; the talker's last line (sent before the notice was read) is read here too,
/// so `listener` is left with nothing pending. Bounded: fails after 100,000 lines.
pub fn talk_until_notice(
    talker: &mut ChatClient,
    listener: &mut ChatClient,
) -> (usize, Vec<String>) {
    let line = "x".repeat(1000);
    let expected = format!("{}: {line}", talker.name);
    for sent in 1..=100_000 {
        talker.send(&line);
        let got = listener.line();
        if got.starts_with("* ") {
            let mut notices = vec![got];
            loop {
                let next = listener.line();
                if next == expected {
                    return (sent, notices);
                }
                assert!(next.starts_with("* "), "{next:?}");
                notices.push(next);
            }
        }
        assert_eq!(got, expected, "{}: a line out of place", listener.name);
    }
    panic!("no notice after 100000 lines");
}

/// `talker` sends `n` 1000-byte lines, and `listener` reads each.
pub fn talk(talker: &mut ChatClient, listener: &mut ChatClient, n: usize) {
    let line = "x".repeat(1000);
    let expected = format!("{}: {line}", talker.name);
    for _ in 0..n {
        talker.send(&line);
        listener.expect(&expected);
    }
}
