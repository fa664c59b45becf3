//! Lesson 9's server, byte for byte against the chat protocol (`book/src/part2-chat.md`), run
//! twice: every test below runs on both engines, `poll` (rustix) and `polling` (epoll). Then
//! what the chapter shows: the cost of spinning, and edge triggering's stall.

use testkit::Server;
use testkit::chat::{ChatClient, WELCOME};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-09");

fn server(engine: &str, extra: &[&str]) -> Server {
    let mut args = vec!["server", "127.0.0.1:0", "--engine", engine];
    args.extend_from_slice(extra);
    Server::start(BIN, &args)
}

/// Each test is a function of the engine; this runs it on both.
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod poll {
            $( #[test] fn $name() { super::$name("poll") } )*
        }
        mod polling {
            $( #[test] fn $name() { super::$name("polling") } )*
        }
    };
}

on_both_engines!(
    welcome_name_and_the_count_of_others,
    joins_messages_and_leaves_reach_the_others_only,
    a_bad_name_and_a_taken_name_get_another_try,
    lines_are_sent_as_typed_cr_dropped_empty_skipped,
    a_line_that_is_not_utf8_is_dropped_with_a_notice,
    one_sender_s_messages_arrive_in_order,
    a_client_over_the_cap_is_told_and_closed,
    a_name_must_come_in_time,
    a_line_over_1024_bytes_ends_the_connection,
    a_line_of_1024_bytes_with_crlf_is_fine,
    end_of_input_still_prints_the_hello_line,
    joins_and_leaves_are_announced_only_in_a_small_room,
    shutdown_tells_everyone_and_prints_stopped,
);

fn welcome_name_and_the_count_of_others(engine: &str) {
    let server = server(engine, &[]);
    let mut first = ChatClient::connect(server.addr());
    first.expect(WELCOME);
    first.send("  alice \t");
    first.expect("* hello alice; others here: 0");
    let mut bob = ChatClient::connect(server.addr());
    bob.expect(WELCOME);
    bob.send("bob");
    bob.expect("* hello bob; others here: 1");
}

fn joins_messages_and_leaves_reach_the_others_only(engine: &str) {
    let server = server(engine, &[]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut bob = ChatClient::join(server.addr(), "bob");
    alice.expect("* bob joined");
    let mut carol = ChatClient::join(server.addr(), "carol");
    alice.expect("* carol joined");
    bob.expect("* carol joined");
    alice.send("hi all");
    bob.expect("alice: hi all");
    carol.expect("alice: hi all");
    // No echo: alice's next line is bob's, not her own.
    bob.send("hi alice");
    alice.expect("bob: hi alice");
    carol.expect("bob: hi alice");
    carol.finish();
    assert_eq!(carol.expect_closed(), Vec::<String>::new());
    alice.expect("* carol left");
    bob.expect("* carol left");
}

fn a_bad_name_and_a_taken_name_get_another_try(engine: &str) {
    let server = server(engine, &[]);
    let _alice = ChatClient::join(server.addr(), "alice");
    let mut c = ChatClient::connect(server.addr());
    c.expect(WELCOME);
    let bad = "* bad name: use 1 to 32 letters, digits, '_', '-' or '.'";
    for name in ["", "   ", "a b", "x".repeat(33).as_str(), "é", "a/b"] {
        c.send(name);
        c.expect(bad);
    }
    c.send("alice");
    c.expect("* name taken: alice");
    c.send(&"x".repeat(32));
    c.expect(&format!("* hello {}; others here: 1", "x".repeat(32)));
}

fn lines_are_sent_as_typed_cr_dropped_empty_skipped(engine: &str) {
    let server = server(engine, &[]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut bob = ChatClient::join(server.addr(), "bob");
    alice.expect("* bob joined");
    alice.send_bytes(b"\n\r\n  spaced out  \r\nlast\n");
    bob.expect("alice:   spaced out  ");
    bob.expect("alice: last");
}

fn a_line_that_is_not_utf8_is_dropped_with_a_notice(engine: &str) {
    let server = server(engine, &[]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut bob = ChatClient::join(server.addr(), "bob");
    alice.expect("* bob joined");
    alice.send_bytes(b"\xff\xfe bad\n");
    alice.expect("* not UTF-8; line dropped");
    alice.send("still here");
    bob.expect("alice: still here");
}

fn one_sender_s_messages_arrive_in_order(engine: &str) {
    let server = server(engine, &[]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut bob = ChatClient::join(server.addr(), "bob");
    alice.expect("* bob joined");
    let all: String = (0..500).map(|i| format!("message {i}\n")).collect();
    alice.send_bytes(all.as_bytes());
    for i in 0..500 {
        bob.expect(&format!("alice: message {i}"));
    }
}

fn a_client_over_the_cap_is_told_and_closed(engine: &str) {
    let server = server(engine, &["--max-clients", "2"]);
    let _a = ChatClient::join(server.addr(), "a");
    let mut b = ChatClient::connect(server.addr());
    b.expect(WELCOME);
    let mut c = ChatClient::connect(server.addr());
    assert_eq!(c.expect_closed(), ["* server full (2 clients); try later"]);
    // A place freed is a place taken again.
    b.finish();
    b.expect_closed();
    let mut d = ChatClient::connect(server.addr());
    d.expect(WELCOME);
}

fn a_name_must_come_in_time(engine: &str) {
    let server = server(engine, &["--name-timeout", "0.2"]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut silent = ChatClient::connect(server.addr());
    assert_eq!(silent.expect_closed(), [WELCOME, "* no name in time; bye"]);
    // A named client has no deadline: it still chats.
    let mut bob = ChatClient::join(server.addr(), "bob");
    alice.expect("* bob joined");
    bob.send("late but named");
    alice.expect("bob: late but named");
}

fn a_line_over_1024_bytes_ends_the_connection(engine: &str) {
    let server = server(engine, &[]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut bob = ChatClient::join(server.addr(), "bob");
    alice.expect("* bob joined");
    // 1025 bytes and no newline: the server does not wait for one.
    bob.send("ok first");
    alice.expect("bob: ok first");
    bob.send_bytes(&[b'y'; 1025]);
    assert_eq!(
        bob.expect_closed(),
        ["* line too long (over 1024 bytes); bye"]
    );
    alice.expect("* bob left");
    // Also while waiting for a name.
    let mut c = ChatClient::connect(server.addr());
    c.expect(WELCOME);
    c.send_bytes(&[b'n'; 2000]);
    assert_eq!(
        c.expect_closed(),
        ["* line too long (over 1024 bytes); bye"]
    );
}

fn a_line_of_1024_bytes_with_crlf_is_fine(engine: &str) {
    let server = server(engine, &[]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut bob = ChatClient::join(server.addr(), "bob");
    alice.expect("* bob joined");
    let line = "z".repeat(1024);
    bob.send_bytes(format!("{line}\r").as_bytes());
    bob.send_bytes(b"\n");
    alice.expect(&format!("bob: {line}"));
}

fn end_of_input_still_prints_the_hello_line(engine: &str) {
    let server = server(engine, &[]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let stdout = testkit::stdout_on_success(
        testkit::client(BIN)
            .args(["client", server.addr()])
            .write_stdin("bob\nhello from a pipe\n"),
    );
    assert_eq!(
        stdout,
        format!("{WELCOME}\n* hello bob; others here: 1\n"),
        "the client prints every line the server sent before it closed"
    );
    alice.expect("* bob joined");
    alice.expect("bob: hello from a pipe");
    alice.expect("* bob left");
    // `--name` sends the name first.
    let stdout = testkit::stdout_on_success(
        testkit::client(BIN)
            .args(["client", server.addr(), "--name", "carol"])
            .write_stdin("quit\nnot sent\n"),
    );
    assert_eq!(
        stdout,
        format!("{WELCOME}\n* hello carol; others here: 1\n")
    );
    alice.expect("* carol joined");
    alice.expect("* carol left");
}

fn joins_and_leaves_are_announced_only_in_a_small_room(engine: &str) {
    let server = server(engine, &[]);
    let mut first = ChatClient::join(server.addr(), "c1");
    let mut others = Vec::new();
    for i in 2..=101 {
        others.push(ChatClient::join(server.addr(), &format!("c{i}")));
        if i <= 100 {
            first.expect(&format!("* c{i} joined"));
        }
    }
    // The 101st join was not announced: the next line c1 gets is c2's message.
    others[0].send("after 101");
    first.expect("c2: after 101");
    // A leave from 101 is not announced; from 100 it is.
    let mut gone = others.pop().expect("c101");
    gone.finish();
    gone.expect_closed();
    let mut gone = others.pop().expect("c100");
    gone.finish();
    gone.expect_closed();
    first.expect("* c100 left");
}

fn shutdown_tells_everyone_and_prints_stopped(engine: &str) {
    let mut server = server(engine, &[]);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut bob = ChatClient::join(server.addr(), "bob");
    alice.expect("* bob joined");
    let mut unnamed = ChatClient::connect(server.addr());
    unnamed.expect(WELCOME);
    bob.send("before the end");
    alice.expect("bob: before the end");
    let pid = i32::try_from(server.pid()).expect("a pid fits");
    // SAFETY: kill(2) on our own child; no memory is involved.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(server.expect_stdout_line(), "stopped");
    for c in [&mut alice, &mut bob, &mut unnamed] {
        assert_eq!(c.expect_closed(), ["* server shutting down"]);
    }
    assert!(server.terminate().success());
}

// ---- What the chapter shows, beyond the protocol ----

#[test]
fn spinning_burns_a_core_and_poll_does_not() {
    use lesson_09::spin::{measure, wait_by_polling, wait_by_spinning};
    let wait = std::time::Duration::from_millis(300);
    let spin = measure(wait, wait_by_spinning).unwrap();
    let polled = measure(wait, wait_by_polling).unwrap();
    // Ratios of CPU time to wall time, not times: a loaded machine gives the spinner less of
    // a core, but never as little as a sleeping poll.
    assert!(
        spin.cpu_share() > 0.25,
        "spinning used only {:.0}% of a core",
        spin.cpu_share() * 100.0
    );
    assert!(
        polled.cpu_share() < 0.05,
        "poll used {:.0}% of a core",
        polled.cpu_share() * 100.0
    );
    assert!(spin.reads > 1000 && polled.reads == 1);
}

/// What the chapter says about non-blocking sockets and level-triggered poll, on a bare socket
/// pair: a read with nothing to read is `WouldBlock` (EAGAIN) at once; poll reports bytes left
/// unread again and again (level-triggered); a socket with room in its send buffer is writable,
/// and a socket at its end of stream readable, on every poll.
/// That is why the loop asks for OUT only while output waits, and stops asking for IN at EOF.
#[test]
fn wouldblock_and_the_states_that_are_always_ready() {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use std::io::{ErrorKind, Read, Write};
    use std::net::{TcpListener, TcpStream};

    let ready = |conn: &TcpStream, flags: PollFlags, secs: i64| {
        let mut fds = [PollFd::new(conn, flags)];
        let timeout = Timespec {
            tv_sec: secs,
            tv_nsec: 0,
        };
        poll(&mut fds, Some(&timeout)).unwrap();
        fds[0].revents()
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut peer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut conn, _) = listener.accept().unwrap();
    conn.set_nonblocking(true).unwrap();
    let err = conn.read(&mut [0u8; 16]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WouldBlock);
    assert_eq!(err.raw_os_error(), Some(libc::EAGAIN));
    assert!(
        ready(&conn, PollFlags::IN, 0).is_empty(),
        "nothing to read yet"
    );
    peer.write_all(&[b'x'; 32]).unwrap();
    assert!(ready(&conn, PollFlags::IN, 10).contains(PollFlags::IN));
    assert_eq!(conn.read(&mut [0u8; 16]).unwrap(), 16);
    let left = ready(&conn, PollFlags::IN, 0);
    assert!(left.contains(PollFlags::IN), "16 bytes left: readable");
    assert_eq!(conn.read(&mut [0u8; 16]).unwrap(), 16);
    assert!(ready(&conn, PollFlags::IN, 0).is_empty(), "all read");
    for _ in 0..3 {
        assert!(ready(&conn, PollFlags::OUT, 0).contains(PollFlags::OUT));
    }
    drop(peer); // its FIN: the end of stream
    assert!(ready(&conn, PollFlags::IN, 10).contains(PollFlags::IN));
    for _ in 0..3 {
        assert_eq!(conn.read(&mut [0u8; 16]).unwrap(), 0, "the end of stream");
        assert!(ready(&conn, PollFlags::IN, 0).contains(PollFlags::IN));
    }
}

/// alice writes two lines at once; the server reads 16 bytes at a time, so one read takes the
/// first line and leaves the second in the kernel. Edge-triggered, no event will come for it.
fn edge_setup(extra: &[&str]) -> (Server, ChatClient, ChatClient, ChatClient) {
    let mut args = vec!["--read-size", "16"];
    args.extend_from_slice(extra);
    let server = server("polling", &args);
    let mut alice = ChatClient::join(server.addr(), "alice");
    let mut bob = ChatClient::join(server.addr(), "bob");
    alice.expect("* bob joined");
    let carol = ChatClient::join(server.addr(), "carol");
    alice.expect("* carol joined");
    bob.expect("* carol joined");
    alice.send_bytes(b"first line here\nsecond line\n");
    bob.expect("alice: first line here");
    (server, alice, bob, carol)
}

#[test]
fn reading_once_per_edge_stalls_a_client_every_time() {
    let (_server, mut alice, mut bob, mut carol) = edge_setup(&["--edge-read-once"]);
    // The loop is not stuck: carol's line, sent after alice's, goes through...
    carol.send("ping");
    bob.expect("carol: ping");
    // ...while alice's second line still sits unread. Only her next bytes (a new edge) bring it.
    alice.send("third");
    bob.expect("alice: second line");
    alice.expect("carol: ping");
}

#[test]
fn draining_until_wouldblock_delivers_both_lines() {
    let (_server, _alice, mut bob, mut carol) = edge_setup(&[]);
    bob.expect("alice: second line");
    carol.send("ping");
    bob.expect("carol: ping");
}

#[test]
fn flags_are_checked_before_listening() {
    let server = ["server", "127.0.0.1:0"];
    for value in ["0", "100001", "-1", "x"] {
        testkit::assert_flag_refused(BIN, &server, "--max-clients", value, "1 to 100000");
    }
    for flag in ["--name-timeout", "--grace"] {
        for value in testkit::BAD_SECONDS {
            testkit::assert_flag_refused(BIN, &server, flag, value, "0.001 to 86400");
        }
    }
    let output = testkit::client(BIN)
        .args(["server", "127.0.0.1:0", "--engine", "select"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
}

#[test]
fn help_names_the_engines() {
    let output = testkit::client(BIN)
        .args(["server", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("poll") && help.contains("polling"), "{help}");
}
