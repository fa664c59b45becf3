//! Lesson 9's server, byte for byte against the chat protocol (`book/src/part2-chat.md`), run
//! twice: every test below runs on both engines, `poll` (rustix) and `polling` (epoll). Then
//! what the chapter shows: the cost of spinning, and edge triggering's stall.

use testkit::Server;
use testkit::chat::{ChatClient, scenario};

#[path = "common.rs"]
mod common;
use common::{BIN, on_both_engines, server};

// The protocol: each scenario is written once, in `testkit::chat::scenario`, for every server
// of Part II; here each runs on both engines.
on_both_engines! {
    fns: [the_client_sends_its_lines_and_prints_every_line],
    scenarios: [
        welcome_name_hello_and_joined_byte_for_byte,
        bad_and_taken_names_are_refused_and_the_client_may_try_again,
        lines_reach_every_other_client_as_sent_without_echo,
        one_sender_s_lines_arrive_in_order,
        a_leave_is_announced_and_the_name_is_free_again,
        a_line_that_is_not_utf8_is_dropped_and_its_sender_stays,
        a_line_of_1024_bytes_is_delivered_and_byte_1025_ends_the_client,
        the_name_line_has_the_same_cap,
        a_name_must_come_in_time,
        a_full_server_says_so_and_closes_and_a_place_comes_back,
        joins_and_leaves_are_announced_only_while_the_room_has_at_most_100,
        sigterm_tells_every_client_after_its_queued_lines_then_stopped,
    ],
}

fn the_client_sends_its_lines_and_prints_every_line(engine: &str) {
    scenario::the_client_sends_its_lines_and_prints_every_line(BIN, |extra| server(engine, extra));
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
