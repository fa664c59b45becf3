//! Lesson 6's promises, checked against the real `lesson-06` binary and the library's receive
//! functions.
//!
//! The classic protocol's command and length are unframed, so a proxy that cut them would make
//! any client fail (that hole is the chapter's point, and the 4-byte header's reason to exist).
//! These tests are deterministic by construction: splitting applies to what the server sends
//! only, a test that checks the server's exact bytes does the length handshake itself (it knows
//! how many digits to expect), and the client's receive is tested on the data phase.

use std::io::{Cursor, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use lesson_06::{
    ACK, CHUNK_SIZE, MAX_FRAME, MAX_REPLY, parse_length, read_ack, recv_chunked, recv_with_length,
    recv_with_read_exact, request, send_with_length,
};
use netlab::{Directions, Flow, Options, Proxy};
use predicates::str::contains;
use testkit::{Server, TIMEOUT};

#[path = "../original/length_prefix.rs"]
mod original;

const BIN: &str = env!("CARGO_BIN_EXE_lesson-06");

/// 1 MiB and one byte: more than any single read can return (see the chapter).
const BIG: usize = 1_048_577;

fn server(extra: &[&str]) -> Server {
    let mut args = vec!["server", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    Server::start(BIN, &args)
}

/// A proxy in front of `to`, shaping as `options` says.
fn proxy(to: SocketAddr, options: Options) -> Proxy {
    Proxy::on_loopback(to, options).expect("the proxy starts")
}

/// Cuts what the server sends into pieces of 1 to 7 bytes; leaves what the client sends alone.
fn split_to_client() -> Options {
    Options {
        split: Some((1, 7)),
        seed: 6,
        directions: Directions::ToClient,
        ..Options::default()
    }
}

/// A command that prints exactly `n` bytes of `x`.
fn xs_command(n: usize) -> String {
    format!("head -c {n} /dev/zero | tr '\\0' x")
}

/// The first `n` bytes that `seq 1 200000` prints, and the command that prints them.
fn seq_command(n: usize) -> String {
    format!("seq 1 200000 | head -c {n}")
}

fn seq_bytes(n: usize) -> Vec<u8> {
    let mut text = Vec::new();
    let mut i = 1;
    while text.len() < n {
        text.extend_from_slice(format!("{i}\n").as_bytes());
        i += 1;
    }
    text.truncate(n);
    text
}

/// Commands whose output the test can compute: empty, around one chunk, and over 1 MiB.
fn sized_cases() -> Vec<(String, Vec<u8>)> {
    vec![
        ("true".to_string(), Vec::new()),
        (xs_command(1023), vec![b'x'; 1023]),
        (xs_command(1024), vec![b'x'; 1024]),
        (xs_command(1025), vec![b'x'; 1025]),
        (seq_command(BIG), seq_bytes(BIG)),
        ("echo end".to_string(), b"end\n".to_vec()),
    ]
}

/// Compares without printing a megabyte when they differ.
fn assert_same(got: &[u8], expected: &[u8], what: &str) {
    if got != expected {
        let at = got
            .iter()
            .zip(expected)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(expected.len()));
        panic!(
            "{what}: got {} bytes, expected {}; first difference at byte {at}",
            got.len(),
            expected.len()
        );
    }
}

/// The classic exchange done by hand, knowing the answer: the length is read as exactly as
/// many digits as `expected.len()` has, then exactly `expected.len()` bytes.
fn handshake_by_hand(conn: &mut TcpStream, command: &str, expected: &[u8]) {
    conn.write_all(command.as_bytes()).unwrap();
    let digits = expected.len().to_string();
    let mut length = vec![0u8; digits.len()];
    conn.read_exact(&mut length).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&length),
        digits,
        "length for {command:?}"
    );
    conn.write_all(ACK).unwrap();
}

fn exact_reply_by_hand(conn: &mut TcpStream, command: &str, expected: &[u8]) {
    handshake_by_hand(conn, command, expected);
    let mut data = vec![0u8; expected.len()];
    conn.read_exact(&mut data).unwrap();
    assert_same(&data, expected, command);
}

use testkit::Trickle;

// ---- The server's exact bytes ----

#[test]
fn replies_are_exact_for_empty_1023_1024_1025_and_over_1_mib() {
    let server = server(&[]);
    let mut conn = testkit::connect(server.addr());
    for (command, expected) in sized_cases() {
        exact_reply_by_hand(&mut conn, &command, &expected);
    }
}

#[test]
fn replies_are_exact_through_a_proxy_that_cuts_them_into_1_to_7_byte_pieces() {
    let server = server(&[]);
    let proxy = proxy(server.socket_addr(), split_to_client());
    let mut conn = testkit::connect(&proxy.local_addr().to_string());
    for (command, expected) in sized_cases() {
        exact_reply_by_hand(&mut conn, &command, &expected);
    }
}

#[test]
fn the_clients_request_is_exact_directly_and_through_a_proxy_that_merges() {
    let server = server(&[]);
    let merging = proxy(
        server.socket_addr(),
        Options {
            merge: true,
            ..Options::default()
        },
    );
    for addr in [server.addr().to_string(), merging.local_addr().to_string()] {
        let mut conn = testkit::connect(&addr);
        for (command, expected) in sized_cases() {
            let reply = request(&mut conn, &command).unwrap();
            assert_same(&reply, &expected, &format!("{command} via {addr}"));
        }
    }
}

#[test]
fn the_client_binary_prints_exact_replies_directly_and_through_a_merging_proxy() {
    let server = server(&[]);
    let merging = proxy(
        server.socket_addr(),
        Options {
            merge: true,
            ..Options::default()
        },
    );
    let mut input = String::new();
    let mut expected = Vec::new();
    for (command, reply) in sized_cases() {
        input.push_str(&command);
        input.push_str("\n\n"); // an empty line between commands: skipped
        expected.extend_from_slice(&reply);
        // The client ends a reply that has no final newline with one.
        if !reply.is_empty() && !reply.ends_with(b"\n") {
            expected.push(b'\n');
        }
    }
    input.push_str("quit\necho never sent\n");
    for addr in [server.addr().to_string(), merging.local_addr().to_string()] {
        let output = testkit::client(BIN)
            .args(["client", &addr])
            .write_stdin(input.clone())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_same(&output.stdout, &expected, &format!("client via {addr}"));
    }
}

// ---- The chunked receive ----

#[test]
fn one_read_falls_short_where_the_chunked_receive_is_exact() {
    let server = server(&[]);
    let proxy = proxy(server.socket_addr(), split_to_client());
    let mut conn = testkit::connect(&proxy.local_addr().to_string());
    let expected = seq_bytes(BIG);

    // Lesson 5's single read, with room for the whole reply: it returns what has arrived.
    // A fresh socket's receive buffer starts at 128 KiB (tcp_rmem's default on Linux), and
    // the proxy's tiny pieces fill it long before 1 MiB: one read cannot return the reply.
    handshake_by_hand(&mut conn, &seq_command(BIG), &expected);
    let mut buf = vec![0u8; BIG + 1];
    let n = conn.read(&mut buf).unwrap();
    assert!(n > 0 && n < BIG, "one read returned {n} of {BIG} bytes");
    // The rest is still on its way; the chunked receive takes exactly that.
    let rest = recv_chunked(&mut conn, BIG - n).unwrap();
    assert_same(&[&buf[..n], &rest[..]].concat(), &expected, "read + rest");

    // The chunked receive alone, and its read_exact twin.
    handshake_by_hand(&mut conn, &seq_command(BIG), &expected);
    assert_same(&recv_chunked(&mut conn, BIG).unwrap(), &expected, "chunked");
    handshake_by_hand(&mut conn, &seq_command(BIG), &expected);
    assert_same(
        &recv_with_read_exact(&mut conn, BIG).unwrap(),
        &expected,
        "read_exact",
    );
    // Nothing was taken from what followed: the next exchange is exact.
    exact_reply_by_hand(&mut conn, "echo end", b"end\n");
}

#[test]
fn the_receive_asks_for_at_most_1024_bytes_and_never_past_the_end() {
    let len = 5000;
    let mut data = seq_bytes(len);
    data.extend_from_slice(b"NEXT");
    let mut conn = Trickle::new(data);
    let reply = recv_chunked(&mut conn, len).unwrap();
    assert_same(&reply, &seq_bytes(len), "through 1..7-byte pieces");
    assert_eq!(conn.consumed(), len, "the receive read past its reply");
    assert!(conn.asked.iter().all(|&asked| asked <= CHUNK_SIZE));

    // With a reader that gives all it is asked for: 1024, 1024, … and the remainder last.
    let mut conn = Cursor::new([seq_bytes(2500), b"NEXT".to_vec()].concat());
    assert_same(
        &recv_chunked(&mut conn, 2500).unwrap(),
        &seq_bytes(2500),
        "2500",
    );
    assert_eq!(conn.position(), 2500);
}

#[test]
fn two_messages_back_to_back_the_receive_takes_exactly_the_first() {
    let first = seq_bytes(3000);
    let second = b"the next message".to_vec();
    let both = [first.clone(), second.clone()].concat();
    // In memory.
    let mut conn = Cursor::new(both.clone());
    assert_same(
        &recv_chunked(&mut conn, first.len()).unwrap(),
        &first,
        "first",
    );
    assert_same(
        &recv_chunked(&mut conn, second.len()).unwrap(),
        &second,
        "second",
    );
    // Over a real connection, sent in one write, and for both receive functions.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let sender = thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.write_all(&[both.clone(), both].concat()).unwrap();
    });
    let mut conn = testkit::connect(&addr.to_string());
    assert_same(
        &recv_chunked(&mut conn, first.len()).unwrap(),
        &first,
        "tcp 1",
    );
    assert_same(
        &recv_chunked(&mut conn, second.len()).unwrap(),
        &second,
        "tcp 2",
    );
    assert_same(
        &recv_with_read_exact(&mut conn, first.len()).unwrap(),
        &first,
        "tcp 3",
    );
    assert_same(
        &recv_with_read_exact(&mut conn, second.len()).unwrap(),
        &second,
        "tcp 4",
    );
    sender.join().unwrap();
    let mut rest = Vec::new();
    conn.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty(), "{} bytes left over", rest.len());
}

#[test]
fn end_of_stream_in_mid_message_is_an_error_that_says_how_much_arrived() {
    let err = recv_chunked(&mut Trickle::new(vec![b'x'; 10]), 100).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    assert_eq!(
        err.to_string(),
        "the connection closed after 10 of 100 bytes"
    );
    let err = recv_with_read_exact(&mut Trickle::new(vec![b'x'; 10]), 100).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    // An empty reply needs no read at all, so an empty stream is fine.
    assert_eq!(recv_chunked(&mut Cursor::new(b""), 0).unwrap(), b"");
}

// ---- The length message ----

#[test]
fn lengths_must_be_plain_digits_within_the_cap() {
    assert_eq!(parse_length(b"0", MAX_REPLY).unwrap(), 0);
    assert_eq!(parse_length(b"1048577", MAX_REPLY).unwrap(), BIG);
    assert_eq!(parse_length(b"007", MAX_REPLY).unwrap(), 7);
    assert_eq!(parse_length(b"67108864", MAX_REPLY).unwrap(), MAX_REPLY);
    for bad in [
        &b""[..],
        b"12a",
        b"-5",
        b"+5",
        b" 12",
        b"12\n",
        b"1e6",
        b"\xff\xfe",
        b"67108865",
        b"99999999999999999999",
        b"123456789012345678901234567890",
    ] {
        let err = parse_length(bad, MAX_REPLY).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::InvalidData,
            "{:?}",
            bad.escape_ascii()
        );
    }
}

#[test]
fn the_length_itself_goes_out_in_pieces_through_the_proxy() {
    // With pieces of at most 3 bytes, a 7-digit length is cut at least twice, by construction.
    // No client can tell "104" from "1048577" by looking: this is the hole the 4-byte header
    // closes. The test sees it in the proxy's trace.
    let server = server(&[]);
    let (trace_tx, trace) = mpsc::channel();
    let proxy = proxy(
        server.socket_addr(),
        Options {
            split: Some((1, 3)),
            directions: Directions::ToClient,
            trace: Some(trace_tx),
            ..Options::default()
        },
    );
    let mut conn = testkit::connect(&proxy.local_addr().to_string());
    let expected = seq_bytes(BIG);
    handshake_by_hand(&mut conn, &seq_command(BIG), &expected);
    let pieces: Vec<Vec<u8>> = netlab::pieces_until(&trace, Flow::ToClient, 7, TIMEOUT)
        .expect("a trace line")
        .into_iter()
        .map(|piece| piece.bytes)
        .collect();
    assert!(pieces.len() >= 3, "{pieces:?}");
    assert_eq!(pieces.concat(), b"1048577");
    drop(trace);
    assert_same(&recv_chunked(&mut conn, BIG).unwrap(), &expected, "data");
}

// ---- The 4-byte header ----

#[test]
fn the_4_byte_header_round_trips_empty_one_and_big_payloads() {
    let mut frame = Vec::new();
    send_with_length(&mut frame, b"hello").unwrap();
    assert_eq!(
        frame, b"\0\0\0\x05hello",
        "big-endian length, then the payload"
    );
    for payload in [Vec::new(), b"x".to_vec(), seq_bytes(BIG)] {
        let mut stream = Vec::new();
        send_with_length(&mut stream, &payload).unwrap();
        send_with_length(&mut stream, b"next").unwrap();
        let mut conn = Trickle::new(stream);
        assert_same(
            &recv_with_length(&mut conn, MAX_FRAME).unwrap(),
            &payload,
            "frame",
        );
        assert_eq!(recv_with_length(&mut conn, MAX_FRAME).unwrap(), b"next");
    }
}

#[test]
fn the_4_byte_header_survives_a_proxy_that_cuts_both_directions() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // A server that sends every frame back, until the client closes.
    let echo = thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(TIMEOUT)).unwrap();
        while let Ok(frame) = recv_with_length(&mut conn, MAX_FRAME) {
            send_with_length(&mut conn, &frame).unwrap();
        }
    });
    let proxy = proxy(
        addr,
        Options {
            split: Some((1, 7)),
            ..Options::default()
        },
    );
    let mut conn = testkit::connect(&proxy.local_addr().to_string());
    let payloads = [Vec::new(), b"x".to_vec(), seq_bytes(BIG), b"end".to_vec()];
    let mut all = Vec::new();
    for payload in &payloads {
        send_with_length(&mut all, payload).unwrap();
    }
    conn.write_all(&all).unwrap();
    for payload in &payloads {
        assert_same(
            &recv_with_length(&mut conn, MAX_FRAME).unwrap(),
            payload,
            "echoed frame",
        );
    }
    drop(conn);
    echo.join().unwrap();
}

#[test]
fn the_4_byte_header_refuses_a_length_over_the_cap_before_reading_the_body() {
    let mut stream = Vec::new();
    send_with_length(&mut stream, &seq_bytes(2000)).unwrap();
    let mut conn = Cursor::new(stream);
    let err = recv_with_length(&mut conn, 1999).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert_eq!(conn.position(), 4, "only the header was read");
    // An absurd header: nothing is allocated, the answer comes at once.
    let err = recv_with_length(&mut Cursor::new(b"\xff\xff\xff\xff"), MAX_FRAME).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    // End of stream inside the header, or inside the body.
    for cut in [&b""[..], b"\0\0", b"\0\0\0\x05hel"] {
        let err = recv_with_length(&mut Cursor::new(cut), MAX_FRAME).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::UnexpectedEof,
            "{:?}",
            cut.escape_ascii()
        );
    }
}

// ---- The original client ----

#[test]
fn the_original_python_client_receives_every_byte() {
    let mut server = server(&[]);
    if original::check_original_client(server.addr(), &sized_cases()) {
        server.expect_stderr("closed the connection normally");
    }
}

// ---- The server survives bad clients ----

/// After whatever the last client did, a new one is served normally.
fn next_client_is_served(server: &mut Server) {
    let mut conn = testkit::connect(server.addr());
    exact_reply_by_hand(&mut conn, "echo still here", b"still here\n");
    assert!(server.is_running());
}

#[test]
fn a_wrong_acknowledgement_is_refused_at_once() {
    for wrong in [&b"ok"[..], b"\xff\xfegarbage!", b"recv_readY"] {
        // The default idle timeout (300 s) is far longer than `expect_stderr` waits (10 s):
        // the server must notice from the bytes, not from the silence.
        let mut server = server(&[]);
        let mut conn = testkit::connect(server.addr());
        conn.write_all(b"echo hi").unwrap();
        let mut length = [0u8; 1];
        conn.read_exact(&mut length).unwrap();
        assert_eq!(&length, b"3");
        conn.write_all(wrong).unwrap();
        let line = server.expect_stderr("protocol error");
        assert!(line.contains("expected \"recv_ready\""), "{line}");
        // The server closed that connection without sending the data.
        let mut rest = Vec::new();
        conn.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty(), "{:?}", rest.escape_ascii());
        next_client_is_served(&mut server);
    }
}

#[test]
fn an_acknowledgement_cut_into_pieces_is_accepted() {
    // In the library: one byte at a time…
    let mut conn = Trickle::new(b"recv_readyNEXT".to_vec());
    read_ack(&mut conn).unwrap();
    assert_eq!(conn.consumed(), ACK.len(), "read past the acknowledgement");
    // … and against the binary, through a proxy that cuts what the client sends into pieces of
    // 1 to 3 bytes. The command is `:` (the shell's do-nothing), one byte that cannot be cut.
    let server = server(&[]);
    let proxy = proxy(
        server.socket_addr(),
        Options {
            split: Some((1, 3)),
            directions: Directions::ToServer,
            ..Options::default()
        },
    );
    let mut conn = testkit::connect(&proxy.local_addr().to_string());
    for _ in 0..3 {
        exact_reply_by_hand(&mut conn, ":", b"");
    }
}

#[test]
fn a_client_that_resets_or_leaves_before_acknowledging_is_logged() {
    let mut server = server(&[]);
    let mut conn = testkit::connect(server.addr());
    handshake_by_hand(&mut conn, "echo one", b"one\n");
    let mut data = [0u8; 4];
    conn.read_exact(&mut data).unwrap();
    // Half an acknowledgement, then a reset.
    conn.write_all(b"echo two").unwrap();
    let mut length = [0u8; 1];
    conn.read_exact(&mut length).unwrap();
    conn.write_all(b"recv_").unwrap();
    testkit::reset(conn);
    server.expect_stderr("disconnected abnormally");
    next_client_is_served(&mut server);

    // A clean close where the acknowledgement should be.
    let mut conn = testkit::connect(server.addr());
    conn.write_all(b"echo three").unwrap();
    conn.read_exact(&mut length).unwrap();
    conn.write_all(b"recv").unwrap();
    drop(conn);
    let line = server.expect_stderr("before acknowledging the length");
    assert!(line.contains("(received \"recv\")"), "{line}");
    next_client_is_served(&mut server);
}

#[test]
fn a_client_that_vanishes_during_a_big_reply_does_not_stop_the_server() {
    let mut server = server(&[]);
    let mut conn = testkit::connect(server.addr());
    // 5 MB: far more than the socket buffers hold, so the server is still writing when the
    // reset arrives, by construction.
    let expected = vec![b'x'; 5_000_000];
    handshake_by_hand(&mut conn, &xs_command(expected.len()), &expected);
    server.expect_stderr("recv_ready received");
    testkit::reset(conn);
    server.expect_stderr("disconnected abnormally");
    next_client_is_served(&mut server);
}

#[test]
fn a_silent_client_is_dropped_after_the_idle_timeout() {
    let mut server = server(&["--idle-timeout", "0.5"]);
    // Silent where a command is expected.
    let start = Instant::now();
    let _silent = testkit::connect(server.addr());
    let line = server.expect_stderr("was silent for 500 ms");
    assert!(line.contains("closing the connection"), "{line}");
    assert!(start.elapsed() >= Duration::from_millis(400));
    next_client_is_served(&mut server);
    // Silent where the acknowledgement is expected.
    let mut conn = testkit::connect(server.addr());
    conn.write_all(b"echo hi").unwrap();
    server.expect_stderr("announcing 3 bytes");
    server.expect_stderr("was silent for 500 ms");
    next_client_is_served(&mut server);
}

#[test]
fn the_output_cap_cuts_the_reply_and_says_so() {
    let server = server(&["--max-output", "100"]);
    let mut conn = testkit::connect(server.addr());
    // `seq 1 1000` prints 3893 bytes: 9 lines of 2 bytes, 90 of 3, 900 of 4 and one of 5.
    let mut expected = seq_bytes(100);
    if !expected.ends_with(b"\n") {
        expected.push(b'\n');
    }
    expected.extend_from_slice(
        b"[remote shell: output cut to its first 100 bytes; the command printed 3893]\n",
    );
    exact_reply_by_hand(&mut conn, "seq 1 1000", &expected);
}

// ---- The client refuses what it cannot trust ----

/// A stand-in server for one client: it takes the command, answers with `length`, and then
/// hands the connection to `then`. Returns its address and handle.
fn fake_server(
    length: &'static [u8],
    then: impl FnOnce(&mut TcpStream) + Send + 'static,
) -> (String, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut buf = [0u8; 64];
        let n = conn.read(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"echo hi");
        if !length.is_empty() {
            conn.write_all(length).unwrap();
        }
        then(&mut conn);
    });
    (addr, handle)
}

#[test]
fn the_client_refuses_a_length_that_is_not_a_number_or_absurd_at_once() {
    let cases: [(&'static [u8], &str); 6] = [
        (b"12a", "not a number: \"12a\""),
        (b"-5", "not a number"),
        (b" 12", "not a number"),
        (b"ok", "not a number"),
        (b"99999999999999999999999", "absurd: 23 digits"),
        (
            b"1000000000",
            "announced 1000000000 bytes, more than this client accepts",
        ),
    ];
    for (length, message) in cases {
        // The stand-in keeps the connection open: a client that waited for more would hang
        // until testkit's timeout, and fail the test.
        let (addr, fake) = fake_server(length, |conn| {
            let mut rest = Vec::new();
            conn.read_to_end(&mut rest).unwrap();
            assert!(
                rest.is_empty(),
                "the client acknowledged a bad length: {:?}",
                rest.escape_ascii()
            );
        });
        testkit::client(BIN)
            .args(["client", &addr])
            .write_stdin("echo hi\n")
            .assert()
            .failure()
            .stderr(contains(message));
        fake.join().unwrap();
    }
}

#[test]
fn the_client_reports_a_reply_cut_short_and_a_missing_length() {
    let (addr, fake) = fake_server(b"100", |conn| {
        let mut ack = [0u8; 10];
        conn.read_exact(&mut ack).unwrap();
        assert_eq!(&ack, ACK);
        conn.write_all(&[b'x'; 10]).unwrap();
        // Dropping `conn` closes it: 10 of 100 bytes.
    });
    testkit::client(BIN)
        .args(["client", &addr])
        .write_stdin("echo hi\n")
        .assert()
        .failure()
        .stderr(contains("the connection closed after 10 of 100 bytes"));
    fake.join().unwrap();

    let (addr, fake) = fake_server(b"", |_| {});
    testkit::client(BIN)
        .args(["client", &addr])
        .write_stdin("echo hi\n")
        .assert()
        .failure()
        .stderr(contains(
            "the server closed the connection instead of sending a length",
        ));
    fake.join().unwrap();
}

#[test]
fn the_client_refuses_a_command_the_server_could_not_read_in_one_piece() {
    let server = server(&[]);
    let long = format!("echo {}\n", "y".repeat(2000));
    testkit::client(BIN)
        .args(["client", server.addr()])
        .write_stdin(long)
        .assert()
        .failure()
        .stderr(contains(
            "a command must be 1 to 1024 bytes long (this one is 2005)",
        ));
}

// ---- The command line ----

#[test]
fn help_shows_the_loopback_default_and_the_limits() {
    testkit::assert_loopback_default(BIN, lesson_06::DEFAULT_ADDR);
    testkit::client(BIN)
        .args(["server", "--help"])
        .assert()
        .success()
        .stdout(contains(format!(
            "[default: {}]",
            lesson_06::DEFAULT_MAX_OUTPUT
        )))
        .stdout(contains(format!(
            "[default: {}]",
            lesson_06::DEFAULT_IDLE_TIMEOUT.as_secs()
        )));
    testkit::client(BIN)
        .args(["client", "--help"])
        .assert()
        .success()
        .stdout(contains(format!(
            "[default: {}]",
            lesson_06::DEFAULT_CLIENT_TIMEOUT.as_secs()
        )));
}

#[test]
fn binding_anything_but_loopback_prints_a_warning() {
    let line = testkit::warning_off_loopback(BIN);
    assert!(
        line.contains("anyone who can reach this address can run commands as you"),
        "{line}"
    );
}

#[test]
fn the_server_logs_each_step_of_the_exchange() {
    let mut server = server(&[]);
    let mut conn = testkit::connect(server.addr());
    exact_reply_by_hand(&mut conn, "printf abc", b"abc");
    server.expect_stderr("connected from 127.0.0.1:");
    server.expect_stderr("running \"printf abc\"");
    server.expect_stderr("finished: exit status 0; announcing 3 bytes");
    server.expect_stderr("recv_ready received; sending 3 bytes");
    drop(conn);
    server.expect_stderr("closed the connection normally");
}

// ---- Every numeric flag is checked before the server listens ----

#[test]
fn every_numeric_flag_refuses_what_is_out_of_range_before_the_server_listens() {
    let server = ["server", "127.0.0.1:0"];
    // Port 9 is never reached: the flag is refused before the client connects.
    let client = ["client", "127.0.0.1:9"];
    let seconds = testkit::BAD_SECONDS;
    for (args, flag) in [
        (&server, "--timeout"),
        (&server, "--idle-timeout"),
        (&client, "--read-timeout"),
    ] {
        for value in seconds {
            testkit::assert_flag_refused(BIN, args, flag, value, "0.001 to 86400");
        }
    }
    // 0 used to be taken (a server that sends nothing of any output); more than the client
    // accepts made replies that its own client refuses.
    for value in ["0", "67107841", "18446744073709551615", "-1"] {
        testkit::assert_flag_refused(BIN, &server, "--max-output", value, "from 1 to 67107840");
    }
}

#[test]
fn every_numeric_flag_takes_the_ends_of_its_range() {
    let longest = server(&[
        "--timeout",
        "86400",
        "--idle-timeout",
        "86400",
        "--max-output",
        "67107840",
    ]);
    let printed = testkit::stdout_on_success(
        testkit::client(BIN)
            .args(["client", longest.addr(), "--read-timeout", "86400"])
            .write_stdin("echo hi\n"),
    );
    assert_eq!(printed, "hi\n");
    let mut shortest = server(&[
        "--timeout",
        "0.001",
        "--idle-timeout",
        "0.001",
        "--max-output",
        "1",
    ]);
    assert!(shortest.is_running());
}
