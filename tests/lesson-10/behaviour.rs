//! Lesson 10's promises, the chat protocol of `book/src/part2-chat.md` byte for byte, checked
//! against the real `lesson-10` binary (ports from the OS, every read bounded, the server
//! killed on drop), and the codec checked on its own, fed in pieces.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use lesson_10::{LineCodec, LineError, MAX_LINE};
use predicates::prelude::*;
use predicates::str::contains;
use testkit::chat::{ChatClient, WELCOME};
use testkit::{BAD_SECONDS, Server, TIMEOUT};
use tokio_util::codec::Decoder;

const BIN: &str = env!("CARGO_BIN_EXE_lesson-10");

fn server(extra: &[&str]) -> Server {
    let mut args = vec!["server", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    Server::start(BIN, &args)
}

// ---- The codec, without a socket ----

/// Feeds `bytes` to a codec in pieces of 1, 2, … 7 bytes, as a network might, and returns
/// every line it gave, and how it ended.
fn decode_in_pieces(bytes: &[u8]) -> (Vec<String>, Option<LineError>) {
    let mut codec = LineCodec::new();
    let mut buf = BytesMut::new();
    let mut lines = Vec::new();
    let mut size = 1;
    let mut rest = bytes;
    while !rest.is_empty() {
        let (piece, tail) = rest.split_at(size.min(rest.len()));
        rest = tail;
        size = size % 7 + 1;
        buf.extend_from_slice(piece);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(line)) => lines.push(String::from_utf8_lossy(&line).into_owned()),
                Ok(None) => break,
                Err(e) => return (lines, Some(e)),
            }
        }
    }
    match codec.decode_eof(&mut buf) {
        Ok(Some(line)) => lines.push(String::from_utf8_lossy(&line).into_owned()),
        Ok(None) => {}
        Err(e) => return (lines, Some(e)),
    }
    (lines, None)
}

#[test]
fn the_codec_cuts_lines_at_newlines_and_drops_a_cr_before_one() {
    let (lines, end) = decode_in_pieces(b"alice\nhi\r\n\r\nx\ry\n\n");
    assert_eq!(lines, ["alice", "hi", "", "x\ry", ""]);
    assert!(end.is_none());
}

#[test]
fn the_codec_takes_1024_bytes_and_refuses_1025_without_waiting_for_the_newline() {
    let full = vec![b'x'; MAX_LINE];
    for ending in [&b"\n"[..], b"\r\n"] {
        let (lines, end) = decode_in_pieces(&[&full[..], ending].concat());
        assert_eq!(lines, [String::from_utf8(full.clone()).unwrap()]);
        assert!(end.is_none());
    }
    // 1025 bytes and nothing more: refused, though no newline came.
    let (lines, end) = decode_in_pieces(&[b'x'; MAX_LINE + 1]);
    assert!(lines.is_empty());
    assert!(matches!(end, Some(LineError::TooLong)), "{end:?}");
    // 1024 bytes and a `\r`: the next byte decides.
    let mut codec = LineCodec::new();
    let mut buf = BytesMut::from(&[&full[..], b"\r"].concat()[..]);
    assert!(codec.decode(&mut buf).unwrap().is_none());
    buf.extend_from_slice(b"y");
    assert!(matches!(codec.decode(&mut buf), Err(LineError::TooLong)));
    // A long line that comes whole with its newline is refused too.
    let mut buf = BytesMut::from(&[&full[..], b"yz\n"].concat()[..]);
    assert!(matches!(
        LineCodec::new().decode(&mut buf),
        Err(LineError::TooLong)
    ));
}

#[test]
fn the_end_of_stream_in_the_middle_of_a_line_is_a_cut_off_line() {
    let (lines, end) = decode_in_pieces(b"one\nhalf a li");
    assert_eq!(lines, ["one"]);
    assert!(matches!(end, Some(LineError::CutOff(9))), "{end:?}");
}

/// What the chapter says about tokio-util's own `LinesCodec`, and why the lesson has its own
/// codec: each of these differs from the protocol.
#[test]
fn tokio_utils_lines_codec_differs_from_the_protocol_in_three_ways() {
    use tokio_util::codec::{FramedRead, LinesCodec, LinesCodecError};
    // 1. Its limit counts the `\r` of a `\r\n`: 1,024 bytes and `\r\n` are too long for it.
    let mut buf = BytesMut::from(&[&[b'x'; MAX_LINE][..], b"\r\n"].concat()[..]);
    let refused = LinesCodec::new_with_max_length(MAX_LINE).decode(&mut buf);
    assert!(
        matches!(refused, Err(LinesCodecError::MaxLineLengthExceeded)),
        "{refused:?}"
    );
    // 2. A line that is not UTF-8 is an error, and FramedRead ends the stream after an error:
    //    the next line is never read, as if the client had gone.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (first, second) = runtime.block_on(async {
        use futures_util::StreamExt;
        let mut lines = FramedRead::new(&b"\xff\nnext\n"[..], LinesCodec::new());
        (lines.next().await, lines.next().await)
    });
    assert!(
        matches!(&first, Some(Err(LinesCodecError::Io(e))) if e.kind() == std::io::ErrorKind::InvalidData),
        "{first:?}"
    );
    assert!(second.is_none(), "{second:?}");
    // 3. At the end of the stream, a line cut off is given as a line.
    let mut buf = BytesMut::from(&b"half a li"[..]);
    let last = LinesCodec::new().decode_eof(&mut buf).unwrap();
    assert_eq!(last.as_deref(), Some("half a li"));
}

// ---- The protocol, over TCP ----

#[test]
fn a_message_reaches_every_other_named_client_and_not_its_sender() {
    let server = server(&[]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut bob = ChatClient::connect(server.addr());
    bob.expect(WELCOME);
    bob.send("bob");
    bob.expect("* hello bob; others here: 1");
    alice.expect("* bob joined");
    let mut carol = ChatClient::join(server.addr(), "carol");
    alice.expect("* carol joined");
    bob.expect("* carol joined");
    alice.send("hi all");
    bob.expect("alice: hi all");
    carol.expect("alice: hi all");
    // No echo: alice's next line is bob's, not her own.
    bob.send("  spaces kept  ");
    alice.expect("bob:   spaces kept  ");
    carol.expect("bob:   spaces kept  ");
}

#[test]
fn messages_from_one_sender_arrive_in_the_order_sent() {
    let server = server(&[]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut bob = ChatClient::join(server.addr(), "bob");
    alice.expect("* bob joined");
    let all: String = (0..500).map(|i| format!("line {i}\n")).collect();
    alice.send_bytes(all.as_bytes());
    for i in 0..500 {
        bob.expect(&format!("alice: line {i}"));
    }
}

#[test]
fn a_bad_name_or_a_taken_one_gets_a_reason_and_another_try() {
    let server = server(&[]);
    let _alice = ChatClient::join(server.addr(), "alice");
    let mut c = ChatClient::connect(server.addr());
    c.expect(WELCOME);
    let bad = "* bad name: use 1 to 32 letters, digits, '_', '-' or '.'";
    for name in ["", "   ", "two words", "é", "a/b", &"x".repeat(33)] {
        c.send(name);
        c.expect(bad);
    }
    c.send_bytes(b"\xff\xfe\n");
    c.expect(bad);
    c.send("alice");
    c.expect("* name taken: alice");
    // Trimmed, and 32 characters are fine.
    let long = "A-b_c.0123456789012345678901234z";
    assert_eq!(long.len(), 32);
    c.send(&format!("  {long}\t\r"));
    c.expect(&format!("* hello {long}; others here: 1"));
}

#[test]
fn a_name_that_does_not_come_in_time_costs_the_connection() {
    let mut server = server(&["--name-timeout", "0.3"]);
    let mut silent = ChatClient::connect(server.addr());
    silent.expect(WELCOME);
    assert_eq!(silent.expect_closed(), ["* no name in time; bye"]);
    server.expect_stderr("sent no name in time");
    // Bad names do not extend the deadline.
    let mut trying = ChatClient::connect(server.addr());
    trying.expect(WELCOME);
    trying.send("no good");
    let lines = trying.expect_closed();
    assert_eq!(
        lines.last().map(String::as_str),
        Some("* no name in time; bye")
    );
}

#[test]
fn empty_lines_are_skipped_and_lines_that_are_not_utf8_are_refused_to_their_sender() {
    let server = server(&[]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut bob = ChatClient::join(server.addr(), "bob");
    alice.expect("* bob joined");
    alice.send_bytes(b"\n\r\n\xc3\x28\nstill here\r\n");
    alice.expect("* not UTF-8; line dropped");
    bob.expect("alice: still here");
    // Bob got nothing for the empty lines nor the bad one: his next line is the next message.
    alice.send("next");
    bob.expect("alice: next");
}

#[test]
fn a_line_of_1025_bytes_disconnects_its_sender_and_1024_are_delivered() {
    let mut server = server(&[]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut bob = ChatClient::join(server.addr(), "bob");
    alice.expect("* bob joined");
    let fits = "y".repeat(MAX_LINE);
    alice.send(&format!("{fits}\r"));
    bob.expect(&format!("alice: {fits}"));
    // No newline: the server must not wait for one.
    alice.send_bytes(&[b'z'; MAX_LINE + 1]);
    assert_eq!(
        alice.expect_closed(),
        ["* line too long (over 1024 bytes); bye"]
    );
    bob.expect("* alice left");
    let said = server.expect_stderr("alice left");
    assert!(!said.contains("zzzz"), "the log repeats the line: {said}");
}

#[test]
fn an_over_long_line_is_refused_while_waiting_for_the_name_too() {
    let server = server(&[]);
    let mut c = ChatClient::connect(server.addr());
    c.expect(WELCOME);
    c.send_bytes(&[b'n'; 5000]);
    assert_eq!(
        c.expect_closed(),
        ["* line too long (over 1024 bytes); bye"]
    );
}

#[test]
fn leaving_is_announced_and_the_name_is_free_again() {
    let server = server(&[]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut bob = ChatClient::join(server.addr(), "bob");
    alice.expect("* bob joined");
    bob.finish();
    assert_eq!(bob.expect_closed(), Vec::<String>::new());
    alice.expect("* bob left");
    let _bob = ChatClient::join(server.addr(), "bob");
    alice.expect("* bob joined");
}

#[test]
fn at_end_of_stream_what_was_queued_is_sent_before_the_close() {
    let server = server(&[]);
    // `printf 'alice\n' | client`: the hello line always arrives.
    testkit::client(BIN)
        .args(["client", server.addr()])
        .write_stdin("alice\n")
        .assert()
        .success()
        .stdout(format!("{WELCOME}\n* hello alice; others here: 0\n"));
    // With --name, the name first, then each line; the last one reaches bob before the close.
    let mut bob = ChatClient::join(server.addr(), "bob");
    testkit::client(BIN)
        .args(["client", server.addr(), "--name", "carol"])
        .write_stdin("one\ntwo\nquit\nnot sent\n")
        .assert()
        .success()
        .stdout(format!("{WELCOME}\n* hello carol; others here: 1\n"));
    for line in ["* carol joined", "carol: one", "carol: two", "* carol left"] {
        bob.expect(line);
    }
}

#[test]
fn joins_and_leaves_are_announced_only_while_the_room_is_small() {
    let server = server(&[]);
    let mut first = ChatClient::join(server.addr(), "c0");
    let mut others = Vec::new();
    for i in 1..100 {
        others.push(ChatClient::join(server.addr(), &format!("c{i}")));
        first.expect(&format!("* c{i} joined"));
    }
    // The 101st: the room would have 101 named clients, so no announcement.
    let mut last = ChatClient::connect(server.addr());
    last.expect(WELCOME);
    last.send("c100");
    last.expect("* hello c100; others here: 100");
    // A leave from a room of 101: not announced either. Then c0 hears the next message.
    drop(others.pop());
    last.send("after");
    first.expect("c100: after");
    // Now the room has 100: a leave is announced.
    drop(others.pop());
    first.expect("* c98 left");
}

#[test]
fn over_the_cap_a_client_is_told_and_closed_and_a_place_comes_back() {
    let mut server = server(&["--max-clients", "2"]);
    let _a = ChatClient::join(server.addr(), "a");
    let mut unnamed = ChatClient::connect(server.addr());
    unnamed.expect(WELCOME);
    let mut third = ChatClient::connect(server.addr());
    assert_eq!(
        third.expect_closed(),
        ["* server full (2 clients); try later"]
    );
    server.expect_stderr("refused: the server is full");
    unnamed.finish();
    unnamed.expect_closed();
    // The place is free once the server has seen the close: try until it is.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let mut c = ChatClient::connect(server.addr());
        if c.line() == WELCOME.trim_end_matches('\n') {
            break;
        }
        assert!(Instant::now() < deadline, "the place never came back");
    }
}

#[test]
fn sigterm_tells_every_client_then_stops() {
    let mut server = server(&[]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut bob = ChatClient::join(server.addr(), "bob");
    alice.expect("* bob joined");
    let mut unnamed = ChatClient::connect(server.addr());
    unnamed.expect(WELCOME);
    // Queued before the signal: delivered before the last line.
    alice.send("last words");
    bob.expect("alice: last words");
    let stdout_after = {
        let pid = server.pid();
        // SAFETY: kill(2) on a child we own.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
        server.expect_stdout_line()
    };
    for c in [&mut alice, &mut bob, &mut unnamed] {
        assert_eq!(c.expect_closed(), ["* server shutting down"]);
    }
    assert_eq!(stdout_after, "stopped");
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_client_that_reads_nothing_delays_the_stop_by_the_grace_at_most() {
    let mut server = server(&["--grace", "0.5"]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let stuck = ChatClient::join(server.addr(), "stuck");
    socket2::SockRef::from(stuck.stream())
        .set_recv_buffer_size(4096)
        .unwrap();
    alice.expect("* stuck joined");
    // Fill stuck's socket (server side and client side) with messages it never reads.
    let line = format!("{}\n", "m".repeat(1000));
    let mut pending = ChatClient::join(server.addr(), "filler");
    alice.expect("* filler joined");
    for _ in 0..600 {
        pending.send_bytes(line.as_bytes());
    }
    for _ in 0..600 {
        alice.line();
    }
    let started = Instant::now();
    // SAFETY: kill(2) on a child we own.
    unsafe { libc::kill(server.pid() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(server.expect_stdout_line(), "stopped");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_secs(3),
        "the stop took {took:?} with a grace of 0.5 s"
    );
    server.expect_stderr("the grace ran out");
    assert_eq!(alice.expect_closed(), ["* server shutting down"]);
    drop(stuck);
}

#[test]
fn more_worker_threads_serve_the_same_protocol() {
    let server = server(&["--threads", "2"]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut bob = ChatClient::join(server.addr(), "bob");
    alice.expect("* bob joined");
    for i in 0..200 {
        bob.send(&format!("b{i}"));
    }
    for i in 0..200 {
        alice.expect(&format!("bob: b{i}"));
    }
    drop(bob);
    alice.expect("* bob left");
}

#[test]
fn the_first_stdout_line_is_the_address_and_the_server_answers_there() {
    let mut child = testkit::KillOnDrop(
        Command::new(BIN)
            .args(["server", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut stdout = child.0.stdout.take().unwrap();
    let mut first = Vec::new();
    let mut byte = [0u8];
    while first.last() != Some(&b'\n') {
        assert_eq!(stdout.read(&mut byte).unwrap(), 1, "stdout closed early");
        first.push(byte[0]);
    }
    let first = String::from_utf8(first).unwrap();
    let addr = first.strip_prefix("listening on ").unwrap().trim_end();
    let mut c = testkit::connect(addr);
    c.write_all(b"x\n").unwrap();
    let mut got = [0u8; WELCOME.len()];
    c.read_exact(&mut got).unwrap();
    assert_eq!(&got, WELCOME.as_bytes());
}

#[test]
fn flags_are_checked_before_listening() {
    let args = ["server", "127.0.0.1:0"];
    for bad in ["0", "100001", "-1", "x"] {
        testkit::assert_flag_refused(BIN, &args, "--max-clients", bad, "1 to 100000");
    }
    for bad in ["0", "65", "x"] {
        testkit::assert_flag_refused(BIN, &args, "--threads", bad, "1 to 64");
    }
    for flag in ["--name-timeout", "--grace"] {
        for bad in BAD_SECONDS {
            testkit::assert_flag_refused(BIN, &args, flag, bad, "0.001 to 86400");
        }
    }
    testkit::client(BIN)
        .args(["server", "--help"])
        .assert()
        .success()
        .stdout(contains("(1 to 100000)").and(contains("(0.001 to 86400)")));
}
