//! What no client can take from lesson 10's server: garbage, an endless line, a reset in the
//! middle of a line, silence, and a reader that stops reading. Each client is a task, and a
//! task that waits for its client gives the thread back to the others; here every line the
//! others exchange must still arrive within testkit's read timeout.

use std::io::Write;

use socket2::SockRef;
use testkit::Server;
use testkit::chat::scenario::{bystanders, still_chatting};
use testkit::chat::{ChatClient, scenario};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-10");

fn server(extra: &[&str]) -> Server {
    testkit::chat::server(BIN, extra)
}

// The scenarios are written once, in `testkit::chat::scenario`, for every server of Part II.

#[test]
fn garbage_costs_its_sender_nothing_more_than_notices() {
    scenario::garbage_costs_its_sender_nothing_more_than_notices(server);
}

#[test]
fn an_endless_line_is_cut_at_1025_bytes_while_others_chat() {
    scenario::an_endless_line_is_cut_at_1025_bytes_while_others_chat(server);
}

#[test]
fn a_reset_in_the_middle_of_a_line_is_a_leave() {
    scenario::a_reset_in_the_middle_of_a_line_is_a_leave(server);
}

#[test]
fn a_silent_client_holds_nothing_up() {
    scenario::a_silent_client_holds_nothing_up_and_loses_its_place(server);
}

#[test]
fn a_reader_that_stops_is_dropped_after_1000_waiting_messages() {
    scenario::a_reader_that_stops_is_dropped_after_1000_waiting_messages(server);
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
fn a_server_that_cannot_start_threads_still_serves() {
    // With --threads 1 (the default) every task runs on the main thread, and tokio starts no
    // other: a numeric address needs no name lookup, which tokio would do on a thread.
    let server = testkit::server_whose_threads_cannot_start(BIN, &["server", "127.0.0.1:0"]);
    let (mut x, mut y) = bystanders(server.addr());
    still_chatting(&mut x, &mut y, "no threads needed");
}

#[test]
fn a_server_asked_for_workers_it_cannot_start_falls_back_to_one_thread() {
    let mut server = testkit::server_whose_threads_cannot_start(
        BIN,
        &["server", "127.0.0.1:0", "--threads", "4"],
    );
    server.expect_stderr("cannot start 4 worker threads");
    let (mut x, mut y) = bystanders(server.addr());
    still_chatting(&mut x, &mut y, "one thread is enough");
}
