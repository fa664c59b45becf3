//! The chapter's first program (`lessons/lesson-01-echo/examples/`), run as a learner runs it:
//! the server echoes over a real socket and outlives its clients, and the client, driven by
//! its standard input, prints each echo.

use std::io::{Read, Write};
use std::path::PathBuf;

use testkit::{Server, client, connect};

fn server_bin() -> PathBuf {
    testkit::example_bin("echo_server", "examples/echo_server.rs")
}

fn client_bin() -> PathBuf {
    testkit::example_bin("echo_client", "examples/echo_client.rs")
}

fn exchange(conn: &mut std::net::TcpStream, message: &[u8]) {
    conn.write_all(message).unwrap();
    let mut reply = vec![0u8; message.len()];
    conn.read_exact(&mut reply).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&reply),
        String::from_utf8_lossy(message)
    );
}

#[test]
fn the_server_echoes_and_goes_back_to_accept() {
    let mut server = Server::start(server_bin(), &["127.0.0.1:0"]);
    let mut conn = connect(server.addr());
    server.expect_stderr("connected from");
    exchange(&mut conn, b"hello");
    exchange(&mut conn, b"sockets are byte pipes");
    drop(conn);
    server.expect_stderr("closed the connection");

    // A client that resets ends its own conversation, not the server.
    let mut conn = connect(server.addr());
    exchange(&mut conn, b"about to reset");
    testkit::reset(conn);
    server.expect_stderr("disconnected abnormally");

    let mut next = connect(server.addr());
    exchange(&mut next, b"still there?");
    assert!(server.is_running());
}

#[test]
fn the_server_takes_its_address_from_its_first_argument() {
    let server = Server::start(server_bin(), &["127.0.0.1:0"]);
    assert!(server.addr().starts_with("127.0.0.1:"), "{}", server.addr());
    assert_ne!(server.socket_addr().port(), 0, "the real port, not 0");
}

/// The chapter shows what the client printed for this input (`<!-- check: first-program -->`).
#[test]
fn the_client_sends_each_line_and_prints_its_echo() {
    let server = Server::start(server_bin(), &["127.0.0.1:0"]);
    let stdout = testkit::stdout_on_success(
        client(client_bin())
            .arg(server.addr())
            .write_stdin("hello\n\nsockets are byte pipes\nquit\nnever sent\n"),
    );
    testkit::assert_text_matches(
        &testkit::book_block("../../book/src/ch01-echo.md", "first-program"),
        &stdout,
    );
}

/// The chapter's "What goes wrong": the client's one `read` holds at most 1024 bytes, so a
/// longer line never comes back whole in one reply. By construction (the buffer's size), not
/// by timing.
#[test]
fn the_client_prints_at_most_1024_bytes_of_a_longer_echo() {
    let server = Server::start(server_bin(), &["127.0.0.1:0"]);
    let line = "x".repeat(2000);
    let stdout = testkit::stdout_on_success(
        client(client_bin())
            .arg(server.addr())
            .write_stdin(format!("{line}\n")),
    );
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        !first.is_empty() && first.len() <= 1024,
        "printed {} bytes of a 2000-byte echo",
        first.len()
    );
}
