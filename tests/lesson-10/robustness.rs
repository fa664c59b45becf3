//! What no client can take from lesson 10's server: garbage, an endless line, a reset in the
//! middle of a line, silence, and a reader that stops reading. Each client is a task, and a
//! task that waits for its client gives the thread back to the others; here every line the
//! others exchange must still arrive within testkit's read timeout.

use std::io::Write;
use std::thread;

use socket2::SockRef;
use testkit::Server;
use testkit::chat::{ChatClient, WELCOME};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-10");

fn server(extra: &[&str]) -> Server {
    let mut args = vec!["server", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    Server::start(BIN, &args)
}

/// Two named clients that check the server still serves everyone else.
fn bystanders(addr: &str) -> (ChatClient, ChatClient) {
    let mut x = ChatClient::join(addr, "x");
    let y = ChatClient::join(addr, "y");
    x.expect("* y joined");
    (x, y)
}

fn still_chatting(x: &mut ChatClient, y: &mut ChatClient, text: &str) {
    x.send(text);
    y.expect(&format!("x: {text}"));
}

#[test]
fn garbage_costs_its_sender_nothing_more_than_notices() {
    let server = server(&[]);
    let (mut x, mut y) = bystanders(server.addr());
    let mut g = ChatClient::connect(server.addr());
    g.expect(WELCOME);
    // Bytes that are no name: a bad-name notice per line.
    g.send_bytes(b"\x00\x01\xff\xfe\n\x1b[2J\n");
    for _ in 0..2 {
        g.expect("* bad name: use 1 to 32 letters, digits, '_', '-' or '.'");
    }
    g.send("g");
    g.expect("* hello g; others here: 2");
    x.expect("* g joined");
    y.expect("* g joined");
    // Named, its non-UTF-8 lines are dropped; the codec goes on with the next line.
    let junk: Vec<u8> = (0..200u8)
        .map(|i| i.wrapping_mul(37) | 0x80)
        .chain(*b"\n")
        .collect();
    g.send_bytes(&junk);
    g.expect("* not UTF-8; line dropped");
    g.send("and a real line");
    x.expect("g: and a real line");
    y.expect("g: and a real line");
    still_chatting(&mut x, &mut y, "after the garbage");
}

#[test]
fn an_endless_line_is_cut_at_1025_bytes_while_others_chat() {
    let server = server(&[]);
    let (mut x, mut y) = bystanders(server.addr());
    let flood = ChatClient::join(server.addr(), "flood");
    x.expect("* flood joined");
    y.expect("* flood joined");
    // The flooder writes a megabyte without a newline from a thread; the codec refuses it at
    // the 1,025th byte, and the server buffers none of the rest.
    let mut conn = flood.into_stream();
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
    x.expect("* flood left");
    y.expect("* flood left");
    still_chatting(&mut x, &mut y, "the flood is over");
    writer.join().unwrap();
}

#[test]
fn a_reset_in_the_middle_of_a_line_is_a_leave() {
    let server = server(&[]);
    let (mut x, mut y) = bystanders(server.addr());
    let mut r = ChatClient::join(server.addr(), "r");
    x.expect("* r joined");
    y.expect("* r joined");
    r.send_bytes(b"half a li");
    testkit::reset(r.into_stream());
    x.expect("* r left");
    y.expect("* r left");
    still_chatting(&mut x, &mut y, "after the reset");
    // The name is free again, and the half line was never delivered.
    let _r = ChatClient::join(server.addr(), "r");
    x.expect("* r joined");
}

#[test]
fn an_end_of_stream_in_the_middle_of_a_line_delivers_nothing_of_it() {
    let server = server(&[]);
    let (mut x, mut y) = bystanders(server.addr());
    let mut h = ChatClient::join(server.addr(), "h");
    x.expect("* h joined");
    h.send_bytes(b"whole\nhalf a li");
    h.finish();
    for line in ["* h joined", "h: whole", "* h left"] {
        y.expect(line);
    }
    x.expect("h: whole");
    x.expect("* h left");
    still_chatting(&mut x, &mut y, "no half line came first");
}

#[test]
fn a_silent_client_holds_nothing_up() {
    let server = server(&["--name-timeout", "0.5"]);
    let mut silent = ChatClient::connect(server.addr());
    silent.expect(WELCOME);
    let named_silent = ChatClient::join(server.addr(), "quiet");
    // Meanwhile, others join and chat; then the unnamed one is told to go.
    let (mut x, mut y) = bystanders(server.addr());
    still_chatting(&mut x, &mut y, "while someone says nothing");
    assert_eq!(silent.expect_closed(), ["* no name in time; bye"]);
    still_chatting(&mut x, &mut y, "and after");
    drop(named_silent);
}

#[test]
fn a_client_that_sends_bad_names_and_reads_nothing_still_loses_its_place() {
    // It fills its own socket with bad-name notices it never reads; the notice of the
    // deadline cannot be written, and the server closes the connection anyway.
    let mut server = server(&["--name-timeout", "0.5", "--grace", "0.5"]);
    let hog = ChatClient::connect(server.addr());
    SockRef::from(hog.stream())
        .set_recv_buffer_size(4096)
        .unwrap();
    let bad = "no good\n".repeat(20_000);
    // The server answers each line; with nothing read, its writes stop, and so do its reads:
    // this write may stop part way (the test's write timeout), which is fine.
    let _ = hog.stream().write_all(bad.as_bytes());
    server.expect_stderr("sent no name in time");
    let (mut x, mut y) = bystanders(server.addr());
    still_chatting(&mut x, &mut y, "the hog is gone");
    drop(hog);
}

#[test]
fn a_reader_that_stops_is_dropped_after_1000_waiting_messages() {
    let server = server(&[]);
    // The slow client's receive buffer is made small and it never reads: what the server
    // sends it fills the socket's buffers, then waits in the broadcast channel.
    let slow = ChatClient::connect(server.addr());
    SockRef::from(slow.stream())
        .set_recv_buffer_size(4096)
        .unwrap();
    let mut slow = slow;
    slow.expect(WELCOME);
    slow.send("slow");
    slow.expect("* hello slow; others here: 0");
    let mut fast = ChatClient::join(server.addr(), "fast");
    let mut sender = ChatClient::join(server.addr(), "sender");
    fast.expect("* sender joined");
    // 8,000 lines of 1,000 bytes: 8 MB, more than the socket buffers plus 1,000 messages.
    let body = "m".repeat(990);
    let sending = thread::Builder::new()
        .spawn(move || {
            let all: String = (0..8000).map(|i| format!("{i:05} {body}\n")).collect();
            sender.send_bytes(all.as_bytes());
            sender
        })
        .unwrap();
    let mut left = false;
    for i in 0..8000 {
        let mut line = fast.line();
        if line == "* slow left" {
            left = true;
            line = fast.line();
        }
        assert!(
            line.starts_with(&format!("sender: {i:05} ")),
            "message {i} missing: {line:.40}"
        );
    }
    let _sender = sending.join().unwrap();
    assert!(left, "the slow reader was never dropped");
}

#[test]
fn a_server_that_cannot_start_threads_still_serves() {
    // With --threads 1 (the default) every task runs on the main thread, and tokio starts no
    // other: a numeric address needs no name lookup, which tokio would do on a thread.
    let server = testkit::server_whose_threads_cannot_start(BIN, &["server", "127.0.0.1:0"]);
    let mut a = ChatClient::join(server.addr(), "a");
    let mut b = ChatClient::join(server.addr(), "b");
    a.expect("* b joined");
    b.send("no threads needed");
    a.expect("b: no threads needed");
}

#[test]
fn a_server_asked_for_workers_it_cannot_start_falls_back_to_one_thread() {
    let mut server = testkit::server_whose_threads_cannot_start(
        BIN,
        &["server", "127.0.0.1:0", "--threads", "4"],
    );
    server.expect_stderr("cannot start 4 worker threads");
    let mut a = ChatClient::join(server.addr(), "a");
    let mut b = ChatClient::join(server.addr(), "b");
    a.expect("* b joined");
    b.send("one thread is enough");
    a.expect("b: one thread is enough");
}
