//! Lesson 8's promises: the chat protocol (`book/src/part2-chat.md`), byte for byte, checked
//! against the real `lesson-08` binary; and the one-at-a-time server the chapter starts from.

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

use testkit::chat::{ChatClient, WELCOME};
use testkit::{Server, TIMEOUT};

#[path = "common.rs"]
mod common;

const BIN: &str = env!("CARGO_BIN_EXE_lesson-08");

fn server(extra: &[&str]) -> Server {
    let mut args = vec!["server", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    Server::start(BIN, &args)
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
    let mut bob = ChatClient::join(server.addr(), "bob");
    let mut carol = ChatClient::join(server.addr(), "carol");
    bob.expect("* carol joined");
    bob.send("hello?");
    carol.expect("bob: hello?");
}

#[test]
fn welcome_name_hello_and_joined_byte_for_byte() {
    let server = server(&[]);
    let mut alice = testkit::connect(server.addr());
    alice.write_all(b"  alice  \r\n").unwrap();
    let got = testkit::read_at_least(&mut alice, 54);
    assert_eq!(
        String::from_utf8_lossy(&got),
        "* welcome; send your name\n* hello alice; others here: 0\n"
    );
    let mut bob = ChatClient::connect(server.addr());
    bob.expect(WELCOME);
    bob.send("bob");
    bob.expect("* hello bob; others here: 1");
    assert_eq!(
        String::from_utf8_lossy(&testkit::read_at_least(&mut alice, 13)),
        "* bob joined\n"
    );
}

#[test]
fn bad_and_taken_names_are_refused_and_the_client_may_try_again() {
    let server = server(&[]);
    let _alice = ChatClient::join(server.addr(), "alice");
    let mut other = ChatClient::connect(server.addr());
    other.expect(WELCOME);
    let bad = "* bad name: use 1 to 32 letters, digits, '_', '-' or '.'";
    for name in ["", "two words", "é", "a/b", &"x".repeat(33)] {
        other.send(name);
        other.expect(bad);
    }
    other.send_bytes(b"\xff\xfe\n");
    other.expect(bad);
    other.send("alice");
    other.expect("* name taken: alice");
    let longest = "A-z_0.9".repeat(4) + "abcd";
    assert_eq!(longest.len(), 32);
    other.send(&longest);
    other.expect(&format!("* hello {longest}; others here: 1"));
}

#[test]
fn lines_go_to_every_other_client_as_sent_in_order_without_echo() {
    let server = server(&[]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut bob = ChatClient::join(server.addr(), "bob");
    let mut carol = ChatClient::join(server.addr(), "carol");
    alice.expect("* bob joined");
    alice.expect("* carol joined");
    bob.expect("* carol joined");
    // Not trimmed; `\r\n` counts as `\n`; an empty line says nothing.
    alice.send_bytes(b"  spaced out  \r\n\n\r\n");
    for _ in 0..200 {
        alice.send_bytes(b"");
    }
    let many: String = (0..200).map(|i| format!("line {i}\n")).collect();
    alice.send_bytes(many.as_bytes());
    for receiver in [&mut bob, &mut carol] {
        receiver.expect("alice:   spaced out  ");
        for i in 0..200 {
            receiver.expect(&format!("alice: line {i}"));
        }
    }
    // No echo: alice's next line is bob's, not one of her own.
    bob.send("got them");
    alice.expect("bob: got them");
}

#[test]
fn a_line_that_is_not_utf8_is_dropped_and_its_sender_stays() {
    let server = server(&[]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut bob = ChatClient::join(server.addr(), "bob");
    alice.expect("* bob joined");
    bob.send_bytes(b"caf\xe9\n");
    bob.expect("* not UTF-8; line dropped");
    bob.send("café");
    alice.expect("bob: café");
}

#[test]
fn a_line_over_1024_bytes_ends_the_client_as_soon_as_byte_1025_comes() {
    let server = server(&[]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut bob = ChatClient::join(server.addr(), "bob");
    alice.expect("* bob joined");
    // 1024 bytes and `\r\n` is still a line.
    let longest = "y".repeat(1024);
    bob.send_bytes(format!("{longest}\r\n").as_bytes());
    alice.expect(&format!("bob: {longest}"));
    // 1025 bytes and no newline: the server does not wait for one.
    bob.send_bytes("z".repeat(1025).as_bytes());
    assert_eq!(
        bob.expect_closed(),
        ["* line too long (over 1024 bytes); bye"]
    );
    alice.expect("* bob left");
}

#[test]
fn the_name_line_has_the_same_cap() {
    let server = server(&[]);
    let mut client = ChatClient::connect(server.addr());
    client.expect(WELCOME);
    client.send_bytes("n".repeat(1025).as_bytes());
    assert_eq!(
        client.expect_closed(),
        ["* line too long (over 1024 bytes); bye"]
    );
}

#[test]
fn a_client_without_a_name_in_time_is_told_and_closed() {
    let mut server = server(&["--name-timeout", "0.3"]);
    let mut client = ChatClient::connect(server.addr());
    client.expect(WELCOME);
    client.send("bad name"); // a bad name does not restart the clock
    let lines = client.expect_closed();
    assert_eq!(
        lines,
        [
            "* bad name: use 1 to 32 letters, digits, '_', '-' or '.'",
            "* no name in time; bye"
        ]
    );
    server.expect_stderr("no name in time");
}

#[test]
fn a_full_server_says_so_and_closes_and_a_slot_frees_when_a_client_leaves() {
    let mut server = server(&["--max-clients", "2"]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let unnamed = ChatClient::connect(server.addr()); // a connection counts, named or not
    let mut third = ChatClient::connect(server.addr());
    assert_eq!(
        third.expect_closed(),
        ["* server full (2 clients); try later"]
    );
    drop(unnamed);
    // The slot is free once the server has seen the leave and closed the connection: until
    // then a new client is refused, after that it is welcome. Wait for that, bounded.
    server.expect_stderr("went before joining");
    let deadline = Instant::now() + TIMEOUT;
    let mut bob = loop {
        let mut next = ChatClient::connect(server.addr());
        let first = next.line();
        if first == WELCOME {
            next.send("bob");
            next.expect("* hello bob; others here: 1");
            break next;
        }
        assert_eq!(first, "* server full (2 clients); try later");
        assert!(Instant::now() < deadline, "the slot was not freed");
    };
    alice.expect("* bob joined");
    bob.send("in");
    alice.expect("bob: in");
}

#[test]
fn a_leave_is_announced_and_queued_lines_are_sent_before_the_close() {
    let server = server(&[]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    // `printf 'bob\n' | client`: bob's hello comes though his input has already ended.
    let out = testkit::stdout_on_success(
        testkit::client(BIN)
            .args(["client", server.addr()])
            .write_stdin("bob\nhi\n"),
    );
    assert_eq!(out, format!("{WELCOME}\n* hello bob; others here: 1\n"));
    alice.expect("* bob joined");
    alice.expect("bob: hi");
    alice.expect("* bob left");
}

#[test]
fn the_client_sends_its_name_and_prints_every_line() {
    let server = server(&[]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let out = testkit::stdout_on_success(
        testkit::client(BIN)
            .args(["client", server.addr(), "--name", "bob"])
            .write_stdin("hello\n\nquit\nnot sent\n"),
    );
    assert_eq!(out, format!("{WELCOME}\n* hello bob; others here: 1\n"));
    alice.expect("* bob joined");
    alice.expect("bob: hello");
    alice.expect("* bob left");
}

#[test]
fn joins_and_leaves_are_announced_only_while_the_room_has_at_most_100() {
    let mut server = server(&[]);
    let mut first = ChatClient::join(server.addr(), "c1");
    let mut others: Vec<ChatClient> = (2..=100)
        .map(|i| ChatClient::join(server.addr(), &format!("c{i}")))
        .collect();
    for i in 2..=100 {
        first.expect(&format!("* c{i} joined"));
    }
    // The 101st: told the count, not announced. Its first line reaches c1 next.
    let mut extra = ChatClient::connect(server.addr());
    extra.expect(WELCOME);
    extra.send("c101");
    extra.expect("* hello c101; others here: 100");
    extra.send("hi");
    first.expect("c101: hi");
    // A leave from 101 is not announced; from 100 it is.
    drop(extra);
    server.expect_stderr("c101 left");
    let mut last = others.pop().unwrap();
    last.finish();
    last.expect_closed();
    first.expect("* c100 left");
}

#[test]
fn sigterm_tells_every_client_after_its_queued_lines_then_stopped() {
    let server = server(&[]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut bob = ChatClient::join(server.addr(), "bob");
    let mut carol = ChatClient::join(server.addr(), "carol");
    let mut unnamed = ChatClient::connect(server.addr());
    unnamed.expect(WELCOME);
    for line in ["* bob joined", "* carol joined"] {
        alice.expect(line);
    }
    bob.expect("* carol joined");
    // 50 lines for alice and carol; once carol has them all, alice's are all queued (one
    // broadcast puts a line into every outbox under one lock), unread.
    for i in 0..50 {
        bob.send(&format!("m{i}"));
    }
    for i in 0..50 {
        carol.expect(&format!("bob: m{i}"));
    }
    let stdout = sigterm(server);
    let mut expected: Vec<String> = (0..50).map(|i| format!("bob: m{i}")).collect();
    expected.push("* server shutting down".into());
    assert_eq!(alice.expect_closed(), expected);
    for client in [&mut bob, &mut carol, &mut unnamed] {
        assert_eq!(client.expect_closed(), ["* server shutting down"]);
    }
    assert_eq!(stdout, "stopped");
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

/// SIGTERM, then the server's last stdout line; the server must exit 0 (within the bound of
/// `Server::terminate`, which sends a second SIGTERM that a stopping server ignores).
fn sigterm(mut server: Server) -> String {
    let line = sigterm_keep(&mut server);
    let status = server.terminate();
    assert!(status.success(), "the server exited with {status}");
    line
}

/// SIGTERM, and the next stdout line, keeping the server (its stderr) for the test.
fn sigterm_keep(server: &mut Server) -> String {
    let pid = libc::pid_t::try_from(server.pid()).unwrap();
    // SAFETY: kill(2) on a child we own; no memory-safety preconditions.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    server.expect_stdout_line()
}
