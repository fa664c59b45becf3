//! Chapter 8's first program (`examples/thread_chat_server.rs` and `thread_chat_client.rs`)
//! does the stage's job: each line goes to every other client, and a client that says nothing
//! stalls nobody, because each client has a thread.

use std::io::{BufRead, BufReader, Write};

use testkit::Server;

fn example(name: &str) -> std::path::PathBuf {
    testkit::example_bin(name, &format!("examples/{name}.rs"))
}

fn reader(addr: &str) -> BufReader<std::net::TcpStream> {
    BufReader::new(testkit::connect(addr))
}

fn line(conn: &mut BufReader<std::net::TcpStream>) -> String {
    let mut line = String::new();
    conn.read_line(&mut line)
        .expect("a line within the timeout");
    line
}

#[test]
fn a_line_reaches_every_other_client_while_a_silent_one_waits() {
    let server = Server::start(example("thread_chat_server"), &["127.0.0.1:0"]);
    // Connected first, so that the server has it in its table before anyone speaks: it
    // accepts in the order the connections were made.
    let _silent = testkit::connect(server.addr());
    let mut alice = reader(server.addr());
    let mut bob = reader(server.addr());
    let bob_addr = bob.get_ref().local_addr().unwrap();
    bob.get_mut().write_all(b"hello\n").unwrap();
    assert_eq!(line(&mut alice), format!("{bob_addr}: hello\n"));
    let alice_addr = alice.get_ref().local_addr().unwrap();
    alice.get_mut().write_all(b"hi bob\n").unwrap();
    assert_eq!(line(&mut bob), format!("{alice_addr}: hi bob\n"));
}

#[test]
fn the_client_sends_its_lines_and_prints_what_comes() {
    let server = Server::start(example("thread_chat_server"), &["127.0.0.1:0"]);
    let mut alice = reader(server.addr());
    let out = testkit::stdout_on_success(
        testkit::client(example("thread_chat_client"))
            .arg(server.addr())
            .write_stdin("hello\nquit\nnot sent\n"),
    );
    // Nobody spoke to the client; it ended after the server closed, once its input had.
    assert_eq!(out, "");
    assert!(line(&mut alice).ends_with(": hello\n"));
}
