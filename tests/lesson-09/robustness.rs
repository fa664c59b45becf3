//! What no client can take from lesson 9's server, on both engines: garbage, an endless line,
//! a reset in the middle of a line, silence, and a reader that stops reading. The bound the
//! chapter states: one turn of the loop does at most one read (poll) or BUDGET reads
//! (polling) per ready connection, so a bad client costs the others one turn, not a wait;
//! here every line the others exchange must still arrive within testkit's read timeout.

use std::io::Write;
use std::thread;

use socket2::SockRef;
use testkit::Server;
use testkit::chat::{ChatClient, WELCOME};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-09");

fn server(engine: &str, extra: &[&str]) -> Server {
    let mut args = vec!["server", "127.0.0.1:0", "--engine", engine];
    args.extend_from_slice(extra);
    Server::start(BIN, &args)
}

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
    garbage_costs_its_sender_nothing_more_than_notices,
    an_endless_line_is_cut_at_1025_bytes_while_others_chat,
    a_reset_in_the_middle_of_a_line_is_a_leave,
    a_silent_client_holds_nothing_up,
    a_reader_that_stops_is_dropped_after_1000_waiting_messages,
    out_of_descriptors_the_server_pauses_accepting_instead_of_spinning,
);

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

fn garbage_costs_its_sender_nothing_more_than_notices(engine: &str) {
    let server = server(engine, &[]);
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
    // Named, its non-UTF-8 lines are dropped; NUL bytes and escapes are UTF-8, and pass.
    let junk: Vec<u8> = (0..200u8)
        .map(|i| i.wrapping_mul(37) | 0x80)
        .chain(*b"\n")
        .collect();
    g.send_bytes(&junk);
    g.expect("* not UTF-8; line dropped");
    still_chatting(&mut x, &mut y, "after the garbage");
}

fn an_endless_line_is_cut_at_1025_bytes_while_others_chat(engine: &str) {
    let server = server(engine, &[]);
    let (mut x, mut y) = bystanders(server.addr());
    let flood = ChatClient::join(server.addr(), "flood");
    x.expect("* flood joined");
    y.expect("* flood joined");
    // The flooder writes a megabyte without a newline from a thread; the server cuts it off
    // after 1025 bytes and does not buffer the rest.
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

fn a_reset_in_the_middle_of_a_line_is_a_leave(engine: &str) {
    let server = server(engine, &[]);
    let (mut x, mut y) = bystanders(server.addr());
    let mut r = ChatClient::join(server.addr(), "r");
    x.expect("* r joined");
    y.expect("* r joined");
    r.send_bytes(b"half a li");
    testkit::reset(r.into_stream());
    x.expect("* r left");
    y.expect("* r left");
    still_chatting(&mut x, &mut y, "after the reset");
    // The name is free again.
    let _r = ChatClient::join(server.addr(), "r");
}

fn a_silent_client_holds_nothing_up(engine: &str) {
    let server = server(engine, &["--name-timeout", "0.5"]);
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

fn a_reader_that_stops_is_dropped_after_1000_waiting_messages(engine: &str) {
    let server = server(engine, &[]);
    // The slow client's receive buffer is made small and it never reads: what the server
    // sends it piles up in the server's socket buffer (at most a few MiB), then its outbox.
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
    // 8,000 lines of 1,000 bytes: 8 MB, more than any kernel buffer plus 1,000 messages.
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
    // The event loop starts no thread per client; only the Ctrl-C handler wants one.
    let mut server = testkit::server_whose_threads_cannot_start(BIN, &["server", "127.0.0.1:0"]);
    server.expect_stderr("cannot handle Ctrl-C");
    let mut a = ChatClient::join(server.addr(), "a");
    let mut b = ChatClient::join(server.addr(), "b");
    a.expect("* b joined");
    b.send("no threads needed");
    a.expect("b: no threads needed");
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
