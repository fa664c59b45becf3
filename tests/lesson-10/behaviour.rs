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
use testkit::chat::{ChatClient, WELCOME, scenario};
use testkit::{BAD_SECONDS, Server};
use tokio_util::codec::Decoder;

const BIN: &str = env!("CARGO_BIN_EXE_lesson-10");

fn server(extra: &[&str]) -> Server {
    testkit::chat::server(BIN, extra)
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

// Each scenario is written once, in `testkit::chat::scenario`, for every server of Part II.

#[test]
fn welcome_name_hello_and_joined_byte_for_byte() {
    scenario::welcome_name_hello_and_joined_byte_for_byte(server);
}

#[test]
fn a_message_reaches_every_other_named_client_and_not_its_sender() {
    scenario::lines_reach_every_other_client_as_sent_without_echo(server);
}

#[test]
fn messages_from_one_sender_arrive_in_the_order_sent() {
    scenario::one_sender_s_lines_arrive_in_order(server);
}

#[test]
fn a_bad_name_or_a_taken_one_gets_a_reason_and_another_try() {
    scenario::bad_and_taken_names_are_refused_and_the_client_may_try_again(server);
}

#[test]
fn a_name_that_does_not_come_in_time_costs_the_connection() {
    let mut server = scenario::a_name_must_come_in_time(server);
    server.expect_stderr("sent no name in time");
}

#[test]
fn empty_lines_are_skipped_and_lines_that_are_not_utf8_are_refused_to_their_sender() {
    scenario::a_line_that_is_not_utf8_is_dropped_and_its_sender_stays(server);
}

#[test]
fn a_line_of_1025_bytes_disconnects_its_sender_and_1024_are_delivered() {
    assert_eq!(MAX_LINE, 1024);
    scenario::a_line_of_1024_bytes_is_delivered_and_byte_1025_ends_the_client(server);
}

#[test]
fn an_over_long_line_is_refused_while_waiting_for_the_name_too() {
    scenario::the_name_line_has_the_same_cap(server);
}

#[test]
fn leaving_is_announced_and_the_name_is_free_again() {
    scenario::a_leave_is_announced_and_the_name_is_free_again(server);
}

#[test]
fn at_end_of_stream_what_was_queued_is_sent_before_the_close() {
    scenario::the_client_sends_its_lines_and_prints_every_line(BIN, server);
}

#[test]
fn joins_and_leaves_are_announced_only_while_the_room_is_small() {
    scenario::joins_and_leaves_are_announced_only_while_the_room_has_at_most_100(server);
}

#[test]
fn over_the_cap_a_client_is_told_and_closed_and_a_place_comes_back() {
    let mut server = scenario::a_full_server_says_so_and_closes_and_a_place_comes_back(server);
    server.expect_stderr("refused: the server is full");
}

#[test]
fn sigterm_tells_every_client_then_stops() {
    scenario::sigterm_tells_every_client_after_its_queued_lines_then_stopped(server);
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
    let on_two_threads = |extra: &[&str]| server(&[&["--threads", "2"], extra].concat());
    scenario::one_sender_s_lines_arrive_in_order(on_two_threads);
    scenario::a_leave_is_announced_and_the_name_is_free_again(on_two_threads);
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
