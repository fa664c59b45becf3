//! The chat protocol's promises (`book/src/part2-chat.md`), each written once, for every server
//! of Part II: lessons 8 (threads), 9 (an event loop, on two engines) and 10 (tokio).
//!
//! A scenario takes `start`, which starts the server under test with some extra flags (from
//! `--name-timeout`, `--max-clients`, `--grace`) and returns it; each lesson's tests have one
//! `#[test]` per scenario that passes its own way of starting its server. Scenarios that leave
//! something in the server's log worth checking return the server, so that a lesson can check
//! its own wording.

use std::io::{ErrorKind, Read, Write};
use std::thread;
use std::time::Instant;

use super::{ChatClient, WELCOME};
use crate::{Server, TIMEOUT};

/// The notice for a name that breaks the rules.
pub const BAD_NAME: &str = "* bad name: use 1 to 32 letters, digits, '_', '-' or '.'";
/// The notice, and the close, for a line over 1024 bytes.
pub const TOO_LONG: &str = "* line too long (over 1024 bytes); bye";
/// The notice for a line that is not UTF-8 (the line is dropped, the client stays).
pub const NOT_UTF8: &str = "* not UTF-8; line dropped";
/// The notice, and the close, for a client with no name when `--name-timeout` runs out.
pub const NO_NAME: &str = "* no name in time; bye";
/// The last line every client gets when the server stops.
pub const SHUTTING_DOWN: &str = "* server shutting down";
/// At most this many messages wait for one client; one more and it is cut off.
pub const WAITING_LIMIT: usize = 1000;

/// Two named clients, `x` and `y`, that check the server still serves everyone else.
pub fn bystanders(addr: &str) -> (ChatClient, ChatClient) {
    let mut x = ChatClient::join(addr, "x");
    let y = ChatClient::join(addr, "y");
    x.expect("* y joined");
    (x, y)
}

/// `x` says `text`, and `y` hears it: the room still works.
pub fn still_chatting(x: &mut ChatClient, y: &mut ChatClient, text: &str) {
    x.send(text);
    y.expect(&format!("{}: {text}", x.name));
}

/// `name` joins, and each of `others` sees the announcement.
pub fn join_seen_by(addr: &str, name: &str, others: &mut [&mut ChatClient]) -> ChatClient {
    let client = ChatClient::join(addr, name);
    for other in others {
        other.expect(&format!("* {name} joined"));
    }
    client
}

/// `alice` and then `bob` join; alice has seen bob's join.
fn alice_and_bob(addr: &str) -> (ChatClient, ChatClient) {
    let mut alice = ChatClient::join(addr, "alice");
    let bob = ChatClient::join(addr, "bob");
    alice.expect("* bob joined");
    (alice, bob)
}

/// `alice`, `bob` and then `carol` join; each has seen the joins after its own.
fn alice_bob_and_carol(addr: &str) -> (ChatClient, ChatClient, ChatClient) {
    let (mut alice, mut bob) = alice_and_bob(addr);
    let carol = join_seen_by(addr, "carol", &mut [&mut alice, &mut bob]);
    (alice, bob, carol)
}

// ---- The protocol, line by line ----

/// The welcome comes first, byte for byte, even to a client that sent its name before reading
/// it; the name is trimmed (spaces, a tab, a `\r`); the hello counts the others; a join is
/// announced to the others, byte for byte.
pub fn welcome_name_hello_and_joined_byte_for_byte(start: impl FnOnce(&[&str]) -> Server) {
    let server = start(&[]);
    let mut alice = crate::connect(server.addr());
    alice.write_all(b"  alice \t \r\n").unwrap();
    let expected = format!("{WELCOME}\n* hello alice; others here: 0\n");
    let got = crate::read_at_least(&mut alice, expected.len());
    assert_eq!(String::from_utf8_lossy(&got), expected);
    let mut bob = ChatClient::connect(server.addr());
    bob.expect(WELCOME);
    bob.send("bob");
    bob.expect("* hello bob; others here: 1");
    assert_eq!(
        String::from_utf8_lossy(&crate::read_at_least(&mut alice, 13)),
        "* bob joined\n"
    );
}

/// Empty, blank, spaced, too long, non-ASCII, non-UTF-8 and taken names each get a reason, and
/// the client another try; 32 characters of the allowed ones, trimmed, are a name.
pub fn bad_and_taken_names_are_refused_and_the_client_may_try_again(
    start: impl FnOnce(&[&str]) -> Server,
) {
    let server = start(&[]);
    let _alice = ChatClient::join(server.addr(), "alice");
    let mut other = ChatClient::connect(server.addr());
    other.expect(WELCOME);
    for name in ["", "   ", "two words", "é", "a/b", &"x".repeat(33)] {
        other.send(name);
        other.expect(BAD_NAME);
    }
    other.send_bytes(b"\xff\xfe\n");
    other.expect(BAD_NAME);
    other.send("alice");
    other.expect("* name taken: alice");
    let longest = "A-z_0.9".repeat(4) + "abcd";
    assert_eq!(longest.len(), 32);
    other.send(&format!("  {longest}\t\r"));
    other.expect(&format!("* hello {longest}; others here: 1"));
}

/// A line reaches every other named client as `name: line`, not trimmed; `\r\n` counts as
/// `\n`, a `\r` elsewhere is kept, an empty line says nothing; the sender gets no echo.
pub fn lines_reach_every_other_client_as_sent_without_echo(start: impl FnOnce(&[&str]) -> Server) {
    let server = start(&[]);
    let (mut alice, mut bob, mut carol) = alice_bob_and_carol(server.addr());
    alice.send_bytes(b"\n\r\n  spaced out  \r\nx\ry\n\n");
    for _ in 0..200 {
        alice.send_bytes(b""); // writes of nothing: no line
    }
    alice.send_bytes(b"last\n");
    for receiver in [&mut bob, &mut carol] {
        receiver.expect("alice:   spaced out  ");
        receiver.expect("alice: x\ry");
        receiver.expect("alice: last");
    }
    // No echo: alice's next line is bob's, not one of her own.
    bob.send("got them");
    alice.expect("bob: got them");
    carol.expect("bob: got them");
}

/// 500 lines written at once reach each of two readers whole and in the order sent.
pub fn one_sender_s_lines_arrive_in_order(start: impl FnOnce(&[&str]) -> Server) {
    let server = start(&[]);
    let (mut alice, mut bob, mut carol) = alice_bob_and_carol(server.addr());
    let all: String = (0..500).map(|i| format!("line {i}\n")).collect();
    alice.send_bytes(all.as_bytes());
    for receiver in [&mut bob, &mut carol] {
        for i in 0..500 {
            receiver.expect(&format!("alice: line {i}"));
        }
    }
}

/// A client that ends its stream is closed with nothing more to read, its leave is announced
/// to everyone else, and its name is free again.
pub fn a_leave_is_announced_and_the_name_is_free_again(start: impl FnOnce(&[&str]) -> Server) {
    let server = start(&[]);
    let (mut alice, mut bob, mut carol) = alice_bob_and_carol(server.addr());
    carol.finish();
    assert_eq!(carol.expect_closed(), Vec::<String>::new());
    alice.expect("* carol left");
    bob.expect("* carol left");
    let _carol = join_seen_by(server.addr(), "carol", &mut [&mut alice, &mut bob]);
}

/// A line that is not UTF-8 is dropped with a notice to its sender alone, who stays; the empty
/// lines around it say nothing, and the next line goes through.
pub fn a_line_that_is_not_utf8_is_dropped_and_its_sender_stays(
    start: impl FnOnce(&[&str]) -> Server,
) {
    let server = start(&[]);
    let (mut alice, mut bob) = alice_and_bob(server.addr());
    alice.send_bytes(b"\n\r\n\xc3\x28\ncaf\xe9\nstill here\r\n");
    alice.expect(NOT_UTF8);
    alice.expect(NOT_UTF8);
    bob.expect("alice: still here");
    // Bob got nothing for the empty lines nor the bad ones: his next line is the next message.
    alice.send("café");
    bob.expect("alice: café");
}

/// 1024 bytes and `\r\n` are a line, even with the `\r` and the `\n` in separate writes; at
/// byte 1025 without a newline the server does not wait for one: a notice, the close, a leave.
/// Returns the server: its log names the client that left, and must not repeat its line.
pub fn a_line_of_1024_bytes_is_delivered_and_byte_1025_ends_the_client(
    start: impl FnOnce(&[&str]) -> Server,
) -> Server {
    let mut server = start(&[]);
    let (mut alice, mut bob) = alice_and_bob(server.addr());
    let longest = "y".repeat(1024);
    bob.send_bytes(format!("{longest}\r").as_bytes());
    bob.send_bytes(b"\n");
    alice.expect(&format!("bob: {longest}"));
    bob.send(&format!("{longest}\r"));
    alice.expect(&format!("bob: {longest}"));
    bob.send_bytes("z".repeat(1025).as_bytes());
    assert_eq!(bob.expect_closed(), [TOO_LONG]);
    alice.expect("* bob left");
    let said = server.expect_stderr("bob left");
    assert!(
        said.len() < 200 && !said.contains("zzzz"),
        "the log line is short and does not repeat the line: {said}"
    );
    server
}

/// The name line has the same cap: byte 1025 without a newline ends the connection.
pub fn the_name_line_has_the_same_cap(start: impl FnOnce(&[&str]) -> Server) {
    let server = start(&[]);
    let mut client = ChatClient::connect(server.addr());
    client.expect(WELCOME);
    client.send_bytes("n".repeat(1025).as_bytes());
    assert_eq!(client.expect_closed(), [TOO_LONG]);
}

/// With `--name-timeout 0.3`, a client that sends no name, or only bad ones (they do not
/// restart the clock), is told and closed; a named client has no deadline. Returns the server,
/// whose log has said "no name in time".
pub fn a_name_must_come_in_time(start: impl FnOnce(&[&str]) -> Server) -> Server {
    let mut server = start(&["--name-timeout", "0.3"]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut silent = ChatClient::connect(server.addr());
    let mut trying = ChatClient::connect(server.addr());
    trying.expect(WELCOME);
    trying.send("bad name");
    assert_eq!(silent.expect_closed(), [WELCOME, NO_NAME]);
    assert_eq!(trying.expect_closed(), [BAD_NAME, NO_NAME]);
    server.expect_stderr("no name in time");
    // alice joined before both, and still chats.
    let mut bob = ChatClient::join(server.addr(), "bob");
    alice.expect("* bob joined");
    still_chatting(&mut alice, &mut bob, "named, no deadline");
    server
}

/// With `--max-clients 2`, a connection counts, named or not: a third is told the server is
/// full and closed. When one leaves, its place comes back (once the server has seen the leave:
/// tried again until then, bounded), and the newcomer joins the room. Returns the server.
pub fn a_full_server_says_so_and_closes_and_a_place_comes_back(
    start: impl FnOnce(&[&str]) -> Server,
) -> Server {
    let server = start(&["--max-clients", "2"]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut unnamed = ChatClient::connect(server.addr());
    unnamed.expect(WELCOME);
    let mut third = ChatClient::connect(server.addr());
    assert_eq!(
        third.expect_closed(),
        ["* server full (2 clients); try later"]
    );
    unnamed.finish();
    assert_eq!(unnamed.expect_closed(), Vec::<String>::new());
    let deadline = Instant::now() + TIMEOUT;
    let mut bob = loop {
        let mut next = ChatClient::connect(server.addr());
        let first = next.line();
        if first == WELCOME {
            next.send("bob");
            next.expect("* hello bob; others here: 1");
            next.name = "bob".into();
            break next;
        }
        assert_eq!(first, "* server full (2 clients); try later");
        assert!(Instant::now() < deadline, "the place never came back");
    };
    alice.expect("* bob joined");
    still_chatting(&mut bob, &mut alice, "in");
    server
}

/// Joins and leaves are announced only while the room has at most 100 named clients: the
/// 101st is told the count and not announced, nor is a leave from a room of 101; a leave from
/// a room of 100 is.
pub fn joins_and_leaves_are_announced_only_while_the_room_has_at_most_100(
    start: impl FnOnce(&[&str]) -> Server,
) {
    let server = start(&[]);
    let mut first = ChatClient::join(server.addr(), "c1");
    let mut others = Vec::new();
    for i in 2..=100 {
        others.push(ChatClient::join(server.addr(), &format!("c{i}")));
        first.expect(&format!("* c{i} joined"));
    }
    let mut extra = ChatClient::connect(server.addr());
    extra.expect(WELCOME);
    extra.send("c101");
    extra.expect("* hello c101; others here: 100");
    extra.name = "c101".into();
    // Not announced: the next line c1 gets is c101's message.
    still_chatting(&mut extra, &mut first, "hi");
    // A leave from 101 is not announced; from 100 it is. Each leave is complete when the
    // server closes the connection.
    extra.finish();
    extra.expect_closed();
    let mut last = others.pop().expect("c100");
    last.finish();
    last.expect_closed();
    first.expect("* c100 left");
}

/// SIGTERM: every client, named or not, gets the lines queued for it and then
/// `* server shutting down`, and is closed; the server prints `stopped` and exits 0.
#[cfg(unix)]
pub fn sigterm_tells_every_client_after_its_queued_lines_then_stopped(
    start: impl FnOnce(&[&str]) -> Server,
) {
    let mut server = start(&[]);
    let (mut alice, mut bob, mut carol) = alice_bob_and_carol(server.addr());
    let mut unnamed = ChatClient::connect(server.addr());
    unnamed.expect(WELCOME);
    // 50 lines for alice and carol; carol reads them all before the signal, alice none.
    for i in 0..50 {
        bob.send(&format!("m{i}"));
    }
    for i in 0..50 {
        carol.expect(&format!("bob: m{i}"));
    }
    let pid = libc::pid_t::try_from(server.pid()).expect("a pid fits in pid_t");
    // SAFETY: kill(2) on a child we own; no memory-safety preconditions.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(server.expect_stdout_line(), "stopped");
    let mut expected: Vec<String> = (0..50).map(|i| format!("bob: m{i}")).collect();
    expected.push(SHUTTING_DOWN.into());
    assert_eq!(alice.expect_closed(), expected);
    for client in [&mut bob, &mut carol, &mut unnamed] {
        assert_eq!(client.expect_closed(), [SHUTTING_DOWN]);
    }
    let status = server.terminate();
    assert!(status.success(), "the server exited with {status}");
}

/// The lesson's client (`bin client ADDR`): its first stdin line is the name, each next one a
/// message; at the end of its input it still prints every line the server sent before the
/// close. With `--name`, the name goes first; `quit` ends it, and what follows is not sent.
pub fn the_client_sends_its_lines_and_prints_every_line(
    bin: &str,
    start: impl FnOnce(&[&str]) -> Server,
) {
    let server = start(&[]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let out = crate::stdout_on_success(
        crate::client(bin)
            .args(["client", server.addr()])
            .write_stdin("bob\nhello from a pipe\n"),
    );
    assert_eq!(
        out,
        format!("{WELCOME}\n* hello bob; others here: 1\n"),
        "the client prints every line the server sent before it closed"
    );
    for line in ["* bob joined", "bob: hello from a pipe", "* bob left"] {
        alice.expect(line);
    }
    let out = crate::stdout_on_success(
        crate::client(bin)
            .args(["client", server.addr(), "--name", "carol"])
            .write_stdin("one\n\ntwo\nquit\nnot sent\n"),
    );
    assert_eq!(out, format!("{WELCOME}\n* hello carol; others here: 1\n"));
    for line in ["* carol joined", "carol: one", "carol: two", "* carol left"] {
        alice.expect(line);
    }
}

// ---- What no client can take from the server, or from the others ----

/// Bytes that are no name get a bad-name notice a line; once named, lines that are not UTF-8
/// (every byte but `\n`, then high bytes only) are dropped with a notice, while NUL and escape
/// bytes, which are UTF-8, pass as sent. The others chat on throughout.
pub fn garbage_costs_its_sender_nothing_more_than_notices(start: impl FnOnce(&[&str]) -> Server) {
    let server = start(&[]);
    let (mut x, mut y) = bystanders(server.addr());
    let mut g = ChatClient::connect(server.addr());
    g.expect(WELCOME);
    g.send_bytes(b"\x00\x01\xff\xfe\n\x1b[2J\n");
    for _ in 0..2 {
        g.expect(BAD_NAME);
    }
    g.send("g");
    g.expect("* hello g; others here: 2");
    g.name = "g".into();
    x.expect("* g joined");
    y.expect("* g joined");
    let every_byte: Vec<u8> = (0u8..=255).filter(|&b| b != b'\n').chain(*b"\n").collect();
    g.send_bytes(&every_byte);
    g.expect(NOT_UTF8);
    let junk: Vec<u8> = (0..200u8)
        .map(|i| i.wrapping_mul(37) | 0x80)
        .chain(*b"\n")
        .collect();
    g.send_bytes(&junk);
    g.expect(NOT_UTF8);
    g.send_bytes(b"\x00\x01\x1b[2J\n");
    x.expect("g: \u{0}\u{1}\u{1b}[2J");
    y.expect("g: \u{0}\u{1}\u{1b}[2J");
    still_chatting(&mut g, &mut x, "and a real line");
    y.expect("g: and a real line");
    still_chatting(&mut x, &mut y, "after the garbage");
    g.expect("x: after the garbage");
}

/// A megabyte without a newline, written from a thread: the server cuts its sender off after
/// 1025 bytes (a notice, if it can still be written, and the close), buffers none of the rest,
/// announces the leave, and takes a newcomer. Returns the server: its log says "flood left",
/// in a short line.
pub fn an_endless_line_is_cut_at_1025_bytes_while_others_chat(
    start: impl FnOnce(&[&str]) -> Server,
) -> Server {
    let mut server = start(&[]);
    let (mut x, mut y) = bystanders(server.addr());
    let mut flood = join_seen_by(server.addr(), "flood", &mut [&mut x, &mut y]);
    let mut conn = flood.stream().try_clone().unwrap();
    let writer = thread::Builder::new()
        .spawn(move || {
            let chunk = [b'a'; 64 * 1024];
            for _ in 0..16 {
                if conn.write_all(&chunk).is_err() {
                    break; // the server closed: what the test expects
                }
            }
        })
        .unwrap();
    let lines = flood.expect_closed();
    assert!(
        lines.is_empty() || lines == [TOO_LONG],
        "flood got {lines:?}"
    );
    x.expect("* flood left");
    y.expect("* flood left");
    let said = server.expect_stderr("flood left");
    assert!(said.len() < 200, "the log line is short: {said}");
    still_chatting(&mut x, &mut y, "the flood is over");
    let mut bob = join_seen_by(server.addr(), "bob", &mut [&mut x, &mut y]);
    still_chatting(&mut bob, &mut x, "after");
    writer.join().unwrap();
    server
}

/// A client that resets its connection in the middle of a line has left: the others are told,
/// the half line is never delivered, and its name is free again.
pub fn a_reset_in_the_middle_of_a_line_is_a_leave(start: impl FnOnce(&[&str]) -> Server) {
    let server = start(&[]);
    let (mut x, mut y) = bystanders(server.addr());
    let mut r = join_seen_by(server.addr(), "r", &mut [&mut x, &mut y]);
    r.send_bytes(b"half a li");
    crate::reset(r.into_stream());
    x.expect("* r left");
    y.expect("* r left");
    still_chatting(&mut x, &mut y, "after the reset");
    let _r = join_seen_by(server.addr(), "r", &mut [&mut x, &mut y]);
}

/// With `--name-timeout 0.5 --max-clients 4`, a client that says nothing holds up no one: a
/// named silent one and two others join and chat; the unnamed one is told and closed, its
/// place comes back (bounded retries), and the named silent one, with no deadline, stays.
pub fn a_silent_client_holds_nothing_up_and_loses_its_place(start: impl FnOnce(&[&str]) -> Server) {
    let server = start(&["--name-timeout", "0.5", "--max-clients", "4"]);
    let mut silent = ChatClient::connect(server.addr());
    silent.expect(WELCOME);
    let mut quiet = ChatClient::join(server.addr(), "quiet");
    let (mut x, mut y) = bystanders(server.addr());
    still_chatting(&mut x, &mut y, "while someone says nothing");
    assert_eq!(silent.expect_closed(), [NO_NAME]);
    still_chatting(&mut x, &mut y, "and after");
    for line in ["* x joined", "* y joined", "x: while someone says nothing"] {
        quiet.expect(line);
    }
    quiet.expect("x: and after");
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let mut next = ChatClient::connect(server.addr());
        let first = next.line();
        if first == WELCOME {
            break;
        }
        assert_eq!(first, "* server full (4 clients); try later");
        assert!(
            Instant::now() < deadline,
            "the silent one's place never came back"
        );
    }
}

/// A client whose receive buffer is 4 KiB and that never reads: a sender writes lines of 1,000
/// bytes, 100 at a time, and another reader gets every one of them, in order, each batch before
/// the next is sent (so that it is never the one behind), with `* slow left` among them after
/// more than 1,000 lines: the slow one was cut off, not waited for, and not before 1,000
/// messages waited for it. Its own connection then ends. Returns the server: its log says why
/// slow left.
pub fn a_reader_that_stops_is_dropped_after_1000_waiting_messages(
    start: impl FnOnce(&[&str]) -> Server,
) -> Server {
    const BATCH: usize = 100;
    const MOST: usize = 20_000; // 20 MB: more than any kernel buffers plus 1,000 messages
    let server = start(&[]);
    let mut slow = ChatClient::connect_with_receive_buffer(server.addr(), 4096);
    slow.expect(WELCOME);
    slow.send("slow");
    slow.expect("* hello slow; others here: 0");
    let mut fast = ChatClient::join(server.addr(), "fast");
    let mut sender = join_seen_by(server.addr(), "sender", &mut [&mut fast]);
    let body = "m".repeat(990);
    let mut left_after = None;
    let mut sent = 0;
    while left_after.is_none() {
        assert!(
            sent < MOST,
            "the slow reader was never dropped, after {sent} lines"
        );
        let batch: String = (sent..sent + BATCH)
            .map(|i| format!("{i:05} {body}\n"))
            .collect();
        sender.send_bytes(batch.as_bytes());
        for i in sent..sent + BATCH {
            let mut line = fast.line();
            if line == "* slow left" {
                assert_eq!(left_after, None, "slow left twice");
                left_after = Some(i);
                line = fast.line();
            }
            assert!(
                line.starts_with(&format!("sender: {i:05} ")),
                "message {i} missing: {line:.40}"
            );
        }
        sent += BATCH;
    }
    let left_after = left_after.expect("the loop ends once slow has left");
    assert!(
        left_after > WAITING_LIMIT,
        "slow left after {left_after} lines, with at most {WAITING_LIMIT} waiting"
    );
    // slow's connection is closed: what it can still read ends, without a hang.
    let mut rest = Vec::new();
    match slow.into_stream().read_to_end(&mut rest) {
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Err(e) => panic!("slow's connection did not end: {e}"),
    }
    // And the room goes on.
    still_chatting(&mut sender, &mut fast, "bye slow");
    server
}
