//! Chapter 10's first program (`examples/async_chat.rs`): a task per client and one broadcast
//! channel. Each line reaches every other client, not its sender, and a client that says
//! nothing stalls nobody.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

use testkit::Server;

fn example() -> std::path::PathBuf {
    testkit::example_bin("async_chat", "examples/async_chat.rs")
}

fn line(conn: &mut BufReader<TcpStream>) -> String {
    let mut line = String::new();
    conn.read_line(&mut line)
        .expect("a line within the timeout");
    line
}

#[test]
fn a_line_reaches_every_other_client_and_not_its_sender() {
    let mut server = Server::start(example(), &["127.0.0.1:0"]);
    let mut clients = Vec::new();
    for _ in 0..3 {
        let conn = testkit::connect(server.addr());
        // Subscribed before the next one connects: the task is spawned right after the log line.
        server.expect_stderr("joined");
        clients.push(BufReader::new(conn));
    }
    // The silent one, first in the accept order, holds nobody up.
    let _silent = &clients[0];
    let me = clients[1].get_ref().local_addr().unwrap();
    clients[1].get_mut().write_all(b"hello\nsecond\n").unwrap();
    assert_eq!(line(&mut clients[2]), format!("{me}: hello\n"));
    assert_eq!(line(&mut clients[2]), format!("{me}: second\n"));
    assert_eq!(line(&mut clients[0]), format!("{me}: hello\n"));
    // No echo: the sender's next line is someone else's.
    let other = clients[2].get_ref().local_addr().unwrap();
    clients[2].get_mut().write_all(b"back\n").unwrap();
    assert_eq!(line(&mut clients[1]), format!("{other}: back\n"));
}

#[test]
fn a_client_that_leaves_is_noticed_and_the_others_go_on() {
    let mut server = Server::start(example(), &["127.0.0.1:0"]);
    let mut a = BufReader::new(testkit::connect(server.addr()));
    server.expect_stderr("joined");
    let b = testkit::connect(server.addr());
    server.expect_stderr("joined");
    let mut c = testkit::connect(server.addr());
    server.expect_stderr("joined");
    drop(b);
    server.expect_stderr("left");
    let me = c.local_addr().unwrap();
    c.write_all(b"still here\n").unwrap();
    assert_eq!(line(&mut a), format!("{me}: still here\n"));
}
