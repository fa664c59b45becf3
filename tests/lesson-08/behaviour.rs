//! Lesson 8's promises: the chat protocol (`book/src/part2-chat.md`), byte for byte, checked
//! against the real `lesson-08` binary; and the one-at-a-time server the chapter starts from.

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

use testkit::chat::scenario::{bystanders, still_chatting};
use testkit::chat::{ChatClient, WELCOME, scenario};
use testkit::{Server, TIMEOUT};

#[path = "common.rs"]
mod common;

const BIN: &str = env!("CARGO_BIN_EXE_lesson-08");

fn server(extra: &[&str]) -> Server {
    testkit::chat::server(BIN, extra)
}

/// How many bytes wait to be read on `conn`, without waiting for any.
fn pending(conn: &TcpStream) -> usize {
    conn.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 64];
    let n = match conn.peek(&mut buf) {
        Ok(n) => n,
        Err(e) if e.kind() == ErrorKind::WouldBlock => 0,
        Err(e) => panic!("peek: {e}"),
    };
    conn.set_nonblocking(false).unwrap();
    n
}

#[test]
fn one_at_a_time_a_silent_client_blocks_the_next_until_it_leaves() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, log) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    thread::spawn(move || {
        lesson_08::serve_one_at_a_time(&listener, &|line| {
            let _ = tx.lock().unwrap().send(line.to_string());
        })
    });
    let mut alice = ChatClient::connect(&addr);
    alice.expect(WELCOME); // the server is now serving alice, and waits for her name
    let mut bob = testkit::connect(&addr);
    bob.write_all(b"bob\nhello?\n").unwrap();
    // The server is inside its read from alice: it cannot have written to bob, or taken his
    // line. This holds by construction, at any moment we look, for as long as alice is silent.
    assert_eq!(pending(&bob), 0, "bob got bytes while alice was connected");
    assert!(
        log.try_recv().is_err(),
        "bob's line was delivered while alice was connected"
    );
    drop(alice);
    // Once alice leaves, bob is served: the welcome, the hello, and his line delivered.
    let mut bob = BufReader::new(bob);
    let mut lines = String::new();
    for _ in 0..2 {
        bob.read_line(&mut lines).unwrap();
    }
    assert_eq!(lines, format!("{WELCOME}\n* hello bob; others here: 0\n"));
    assert_eq!(log.recv_timeout(TIMEOUT).unwrap(), "bob: hello?");
}

#[test]
fn with_a_thread_per_client_a_silent_client_blocks_nobody() {
    let server = server(&[]);
    let mut silent = ChatClient::connect(server.addr());
    silent.expect(WELCOME);
    let (mut x, mut y) = bystanders(server.addr());
    still_chatting(&mut x, &mut y, "hello?");
}

// The protocol: each scenario is written once, in `testkit::chat::scenario`, for every server
// of Part II.

#[test]
fn welcome_name_hello_and_joined_byte_for_byte() {
    scenario::welcome_name_hello_and_joined_byte_for_byte(server);
}

#[test]
fn bad_and_taken_names_are_refused_and_the_client_may_try_again() {
    scenario::bad_and_taken_names_are_refused_and_the_client_may_try_again(server);
}

#[test]
fn lines_go_to_every_other_client_as_sent_without_echo() {
    scenario::lines_reach_every_other_client_as_sent_without_echo(server);
}

#[test]
fn lines_from_one_sender_go_out_in_order() {
    scenario::one_sender_s_lines_arrive_in_order(server);
}

#[test]
fn a_leave_is_announced_and_the_name_is_free_again() {
    scenario::a_leave_is_announced_and_the_name_is_free_again(server);
}

#[test]
fn a_line_that_is_not_utf8_is_dropped_and_its_sender_stays() {
    scenario::a_line_that_is_not_utf8_is_dropped_and_its_sender_stays(server);
}

#[test]
fn a_line_over_1024_bytes_ends_the_client_as_soon_as_byte_1025_comes() {
    scenario::a_line_of_1024_bytes_is_delivered_and_byte_1025_ends_the_client(server);
}

#[test]
fn the_name_line_has_the_same_cap() {
    scenario::the_name_line_has_the_same_cap(server);
}

#[test]
fn a_client_without_a_name_in_time_is_told_and_closed() {
    scenario::a_name_must_come_in_time(server);
}

#[test]
fn a_full_server_says_so_and_closes_and_a_slot_frees_when_a_client_leaves() {
    let mut server = scenario::a_full_server_says_so_and_closes_and_a_place_comes_back(server);
    server.expect_stderr("went before joining");
}

#[test]
fn the_client_sends_its_name_and_prints_every_line() {
    scenario::the_client_sends_its_lines_and_prints_every_line(BIN, server);
}

#[test]
fn joins_and_leaves_are_announced_only_while_the_room_has_at_most_100() {
    scenario::joins_and_leaves_are_announced_only_while_the_room_has_at_most_100(server);
}

#[test]
fn sigterm_tells_every_client_after_its_queued_lines_then_stopped() {
    scenario::sigterm_tells_every_client_after_its_queued_lines_then_stopped(server);
}

#[test]
fn sigterm_with_a_client_that_does_not_read_exits_within_the_grace() {
    let mut server = server(&["--grace", "1"]);
    let mut bob = ChatClient::join(server.addr(), "bob");
    let mut carol = ChatClient::join(server.addr(), "carol");
    bob.expect("* carol joined");
    // First, how many lines fill a client that does not read, here: its outbox (1000 lines)
    // and the kernel's buffers between the two (the rest, a few thousand on Linux).
    let _slow = common::join_and_stop_reading(server.socket_addr(), "slow");
    for client in [&mut bob, &mut carol] {
        client.expect("* slow joined");
    }
    let (fill, notices) = common::talk_until_notice(&mut bob, &mut carol);
    assert_eq!(notices, ["* slow left"]);
    bob.expect("* slow left");
    // Then a second such client gets 500 lines fewer: its kernel buffers are full (its
    // writer is blocked in `write`), and its outbox is half full, far from the limit.
    let _stuck = common::join_and_stop_reading(server.socket_addr(), "stuck");
    for client in [&mut bob, &mut carol] {
        client.expect("* stuck joined");
    }
    common::talk(&mut bob, &mut carol, fill - 500);
    let started = Instant::now();
    let stdout = sigterm_keep(&mut server);
    let took = started.elapsed();
    assert_eq!(carol.expect_closed(), ["* server shutting down"]);
    assert_eq!(stdout, "stopped");
    // The grace ran out for `stuck`, and the server closed it and went.
    assert!(
        took < TIMEOUT,
        "the server took {took:?} to stop, with --grace 1"
    );
    server.expect_stderr("grace period over");
    let status = server.terminate();
    assert!(status.success(), "the server exited with {status}");
}

/// SIGTERM, and the next stdout line, keeping the server (its stderr) for the test.
fn sigterm_keep(server: &mut Server) -> String {
    let pid = libc::pid_t::try_from(server.pid()).unwrap();
    // SAFETY: kill(2) on a child we own; no memory-safety preconditions.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    server.expect_stdout_line()
}
