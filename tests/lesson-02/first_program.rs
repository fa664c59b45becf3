//! Chapter 2's first program (`examples/udp_server.rs`, `examples/udp_client.rs`), run for real.
//!
//! The stage's point, over real sockets: each `send_to` is one datagram and each `recv_from`
//! returns one, so messages sent back to back stay apart. Also what the first program gets
//! wrong (a 1024-byte buffer cuts long datagrams), and the outputs the chapter shows.

use std::net::UdpSocket;

use testkit::{Server, TIMEOUT};

const PAGE: &str = "../../book/src/ch02-udp-vs-tcp.md";

fn server() -> Server {
    let bin = testkit::example_bin("udp_server", "examples/udp_server.rs");
    Server::start(bin, &["127.0.0.1:0"])
}

fn client_bin() -> std::path::PathBuf {
    testkit::example_bin("udp_client", "examples/udp_client.rs")
}

/// A plain UDP socket whose receives fail after [`TIMEOUT`] instead of hanging.
fn socket() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.set_read_timeout(Some(TIMEOUT)).unwrap();
    socket
}

#[test]
fn three_datagrams_sent_back_to_back_are_received_as_three() {
    let mut server = server();
    let socket = socket();
    // Back to back, before the server has answered anything: on a TCP stream these three
    // writes could be read as one "onetwothree" (the lesson's demo shows it).
    for message in ["one", "two", "three"] {
        socket.send_to(message.as_bytes(), server.addr()).unwrap();
    }
    // The server's log: one recv_from per datagram, each with exactly one message.
    for expected in ["3 bytes from", "3 bytes from", "5 bytes from"] {
        let line = server.expect_stderr(" bytes from ");
        assert!(line.starts_with(expected), "{line}");
    }
    // And the replies are three datagrams as well, in a buffer that could hold all three.
    let mut buf = [0u8; 1024];
    for expected in ["one", "two", "three"] {
        let (n, from) = socket.recv_from(&mut buf).expect("an echo came back");
        assert_eq!(&buf[..n], expected.as_bytes());
        assert_eq!(
            from,
            server.socket_addr(),
            "the reply comes from the server's socket"
        );
    }
}

#[test]
fn a_datagram_longer_than_the_buffer_comes_back_cut() {
    let mut server = server();
    let socket = socket();
    let long: Vec<u8> = (0..2000).map(|i| b'a' + (i % 26) as u8).collect();
    socket.send_to(&long, server.addr()).unwrap();
    let mut buf = [0u8; 4096];
    let (n, _) = socket.recv_from(&mut buf).expect("an echo came back");
    // The server's recv_from filled its 1024 bytes and the system threw the rest away.
    assert_eq!(&buf[..n], &long[..1024]);
    server.expect_stderr("1024 bytes from");
}

#[test]
fn the_client_sends_each_line_and_prints_each_reply_as_the_chapter_shows() {
    let mut server = server();
    let stdout = testkit::stdout_on_success(
        testkit::client(client_bin())
            .arg(server.addr())
            .write_stdin("one\ntwo\n\nthree\n"),
    );
    testkit::assert_text_matches(&testkit::book_block(PAGE, "udp_client"), &stdout);

    // The server's side of the same session: one line per datagram, the empty one included.
    let mut log = format!("listening on {}\n", server.addr());
    for _ in 0..4 {
        log += &server.expect_stderr(" bytes from ");
        log.push('\n');
    }
    testkit::assert_text_matches(&testkit::book_block(PAGE, "udp_server"), &log);
}

#[test]
fn the_client_calls_a_missing_reply_lost_and_carries_on() {
    // Nobody listens there: the datagrams leave, and nothing comes back.
    let nobody = lesson_02::unused_udp_addr().unwrap().to_string();
    let stdout = testkit::stdout_on_success(
        testkit::client(client_bin())
            .arg(&nobody)
            .write_stdin("hello?\nanyone?\n"),
    );
    testkit::assert_text_matches(&testkit::book_block(PAGE, "udp_client_lost"), &stdout);
}
