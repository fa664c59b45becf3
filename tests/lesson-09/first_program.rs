//! Chapter 9's first program (`examples/poll_chat.rs`): one thread and poll serve several
//! clients at once, and what one sends reaches the others, not itself.

use std::io::Write;

use testkit::Server;

fn example() -> std::path::PathBuf {
    testkit::example_bin("poll_chat", "examples/poll_chat.rs")
}

#[test]
fn what_one_client_sends_reaches_the_others() {
    let mut server = Server::start(example(), &["127.0.0.1:0"]);
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(testkit::connect(server.addr()));
        // Accepted before the next one connects: the server says so.
        server.expect_stderr("joined");
    }
    clients[0].write_all(b"hello from 0\n").unwrap();
    for c in &mut clients[1..] {
        assert_eq!(testkit::read_at_least(c, 13), b"hello from 0\n");
    }
    clients[2].write_all(b"and from 2\n").unwrap();
    for c in &mut clients[..2] {
        assert_eq!(testkit::read_at_least(c, 11), b"and from 2\n");
    }
    drop(clients.remove(1));
    server.expect_stderr("a client left");
    clients[0].write_all(b"still here\n").unwrap();
    assert_eq!(testkit::read_at_least(&mut clients[1], 11), b"still here\n");
}
