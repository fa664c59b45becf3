//! What no client can take from lesson 9's server, on both engines: garbage, an endless line,
//! a reset in the middle of a line, silence, and a reader that stops reading. The bound the
//! chapter states: one turn of the loop does at most one read (poll) or BUDGET reads
//! (polling) per ready connection, so a bad client costs the others one turn, not a wait;
//! here every line the others exchange must still arrive within testkit's read timeout.

use std::thread;

use testkit::Server;
use testkit::chat::scenario::{bystanders, still_chatting};
use testkit::chat::{ChatClient, WELCOME};

#[path = "common.rs"]
mod common;
use common::{BIN, on_both_engines};

// The scenarios are written once, in `testkit::chat::scenario`, for every server of Part II.
on_both_engines! {
    fns: [out_of_descriptors_the_server_pauses_accepting_instead_of_spinning],
    scenarios: [
        garbage_costs_its_sender_nothing_more_than_notices,
        an_endless_line_is_cut_at_1025_bytes_while_others_chat,
        a_reset_in_the_middle_of_a_line_is_a_leave,
        a_silent_client_holds_nothing_up_and_loses_its_place,
        a_reader_that_stops_is_dropped_after_1000_waiting_messages,
    ],
}

#[test]
fn a_server_that_cannot_start_threads_still_serves() {
    // The event loop starts no thread per client; only the Ctrl-C handler wants one.
    let mut server = testkit::server_whose_threads_cannot_start(BIN, &["server", "127.0.0.1:0"]);
    server.expect_stderr("cannot handle Ctrl-C");
    let (mut x, mut y) = bystanders(server.addr());
    still_chatting(&mut x, &mut y, "no threads needed");
}

/// The CPU time (user + system) process `pid` has used, from /proc/PID/stat.
fn cpu_time(pid: u32) -> std::time::Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf reads a constant of the system; no memory is involved.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    std::time::Duration::from_millis(ticks * 1000 / per_second)
}

/// A server allowed 32 file descriptors, and 40 clients: accept fails with EMFILE while the
/// rest wait in the backlog. Retrying at once would fail at once, for ever: a spin. The server
/// pauses accepting for 100 ms instead, and when descriptors are free again it accepts the
/// waiting clients (under edge triggering no new event comes for them: the retry must).
fn out_of_descriptors_the_server_pauses_accepting_instead_of_spinning(engine: &str) {
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", "ulimit -n 32 && exec \"$0\" \"$@\""])
        .args([BIN, "server", "127.0.0.1:0", "--engine", engine]);
    let mut server = Server::spawn(cmd);
    let mut clients: Vec<_> = (0..40)
        .map(|_| ChatClient::connect(server.addr()))
        .collect();
    server.expect_stderr("accept failed");
    // A measurement over a fixed window, as in the chapter's spinning test: a ratio of CPU
    // time to wall time, which a spinning server would push near a whole core.
    let window = std::time::Duration::from_millis(500);
    let (start, cpu0) = (std::time::Instant::now(), cpu_time(server.pid()));
    thread::sleep(window);
    let share = (cpu_time(server.pid()) - cpu0).as_secs_f64() / start.elapsed().as_secs_f64();
    assert!(
        share < 0.2,
        "out of descriptors, the server used {:.0}% of a core",
        share * 100.0
    );
    // Free descriptors: the first clients were accepted (the backlog is first in, first out).
    let mut last = clients.pop().expect("40 clients");
    clients.clear();
    last.expect(WELCOME);
}
