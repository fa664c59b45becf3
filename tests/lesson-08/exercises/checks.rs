//! The checks for chapter 8's exercises, written against `crate::ex`: the starter in lessons/
//! (where they must fail) or the solution (where they must pass). `cargo course check 8.N`
//! runs the tests in `mod ex8_N`.
//!
//! Most checks run the lesson's real server (`lesson_08::serve`) on a thread of the test, on
//! 127.0.0.1 port 0, with the exercise's function in its `Config`, and talk to it over TCP.
//! Every read waits at most `testkit::TIMEOUT`; a failing check says in words what went wrong.

use std::net::{SocketAddr, TcpListener};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;

use lesson_08::{Config, Log, Stop};
use testkit::TIMEOUT;
use testkit::chat::ChatClient;

use crate::ex;

#[path = "../common.rs"]
mod common;

/// The lesson's server, running on a thread of this test with a given `Config`.
struct Running {
    addr: SocketAddr,
    stop: Stop,
    /// Says `()` when `serve` has returned (after its `shut_down`).
    done: Receiver<()>,
}

impl Running {
    fn start(config: Config) -> Running {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port on 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let stop = Stop::new(&listener).unwrap();
        let (finished, done) = mpsc::channel();
        let server_stop = stop.clone();
        // The server's log is not what these checks look at.
        let log: Log = Arc::new(|_: &str| {});
        thread::spawn(move || {
            lesson_08::serve(&listener, &config, &server_stop, log);
            let _ = finished.send(());
        });
        Running { addr, stop, done }
    }

    fn addr(&self) -> String {
        self.addr.to_string()
    }

    /// What Ctrl-C does in the binary: stop accepting, then `config.shut_down`.
    fn stop(&self) {
        self.stop.request();
    }

    /// Waits (at most `limit`) for `serve` to return; fails the check if it does not.
    fn wait_stopped(&self, limit: Duration, why: &str) {
        if self.done.recv_timeout(limit).is_err() {
            panic!("the server had not stopped {limit:?} after the stop: {why}");
        }
    }
}

impl Drop for Running {
    /// A check that failed leaves no server accepting behind it (a stuck one stays stuck).
    fn drop(&mut self) {
        self.stop.request();
    }
}

/// `client.line()`, with the check's own words if no line comes.
fn line_or(client: &mut ChatClient, what_went_wrong: &str) -> String {
    panic::catch_unwind(AssertUnwindSafe(|| client.line())).unwrap_or_else(|_| {
        panic!(
            "{}: no line within {TIMEOUT:?}. {what_went_wrong}",
            client.name
        )
    })
}

mod ex8_1 {
    use std::sync::mpsc;
    use std::thread;

    use lesson_08::{Config, Line, Offer};
    use testkit::TIMEOUT;
    use testkit::chat::ChatClient;

    use super::{Running, common, ex, line_or};

    /// Calls `ex::offer` on a thread, and waits at most `TIMEOUT` for its answer.
    fn offer(outbox: &mpsc::SyncSender<Line>, line: &str) -> Offer {
        let (outbox, line) = (outbox.clone(), Line::from(line));
        let (answer, answered) = mpsc::channel();
        thread::spawn(move || {
            let _ = answer.send(ex::offer(&outbox, line));
        });
        answered.recv_timeout(TIMEOUT).unwrap_or_else(|_| {
            panic!(
                "`offer` gave no answer within {TIMEOUT:?}: it waited for room in a full \
                 outbox. The caller holds the room's lock, so while it waits, no other \
                 client's line goes anywhere."
            )
        })
    }

    #[test]
    fn offer_answers_at_once_queued_full_or_gone() {
        let (outbox, queue) = mpsc::sync_channel::<Line>(3);
        for line in ["one", "two", "three"] {
            assert_eq!(
                offer(&outbox, line),
                Offer::Queued,
                "an outbox of 3 lines with room for {line:?}: the line must be queued"
            );
        }
        assert_eq!(
            offer(&outbox, "four"),
            Offer::Full,
            "the outbox already holds its 3 lines: the answer is `Offer::Full`"
        );
        let queued: Vec<String> = queue.try_iter().map(|l| l.to_string()).collect();
        assert_eq!(
            queued,
            ["one", "two", "three"],
            "the outbox must hold the queued lines, in order, and not the refused one"
        );
        drop(queue); // the client's writer has ended
        assert_eq!(
            offer(&outbox, "five"),
            Offer::Gone,
            "the receiving end (the writer) is gone: the answer is `Offer::Gone`"
        );
    }

    #[test]
    fn a_client_that_stops_reading_is_cut_off_and_the_others_keep_chatting() {
        let server = Running::start(Config {
            offer: ex::offer,
            ..Config::default()
        });
        let mut bob = ChatClient::join(&server.addr(), "bob");
        let mut carol = ChatClient::join(&server.addr(), "carol");
        bob.expect("* carol joined");
        let _slow = common::join_and_stop_reading(server.addr, "slow");
        bob.expect("* slow joined");
        carol.expect("* slow joined");
        // Bob talks; carol reads each line as it comes. Once slow's kernel buffers and its
        // outbox are full, the next line must disconnect slow, not stop the room.
        let line = "x".repeat(1000);
        let expected = format!("bob: {line}");
        let stuck = "The room stopped when slow's outbox filled up: `offer` waits while \
                     the outbox is full, with the room locked, so bob's line never reaches \
                     carol.";
        let mut sent = 0;
        let notice = loop {
            assert!(
                sent < 100_000,
                "slow was not disconnected after {sent} lines"
            );
            bob.send(&line);
            sent += 1;
            let got = line_or(&mut carol, stuck);
            if got.starts_with("* ") {
                break got;
            }
            assert_eq!(got, expected, "carol: a line out of place");
        };
        assert_eq!(
            notice, "* slow left",
            "carol: slow must be announced as gone"
        );
        assert_eq!(
            line_or(&mut carol, stuck),
            expected,
            "carol: bob's last line"
        );
        assert_eq!(
            line_or(&mut bob, stuck),
            "* slow left",
            "bob: slow must be announced"
        );
        // And the room goes on.
        carol.send("still here");
        assert_eq!(line_or(&mut bob, stuck), "carol: still here");
    }
}

mod ex8_2 {
    use std::time::{Duration, Instant};

    use lesson_08::Config;
    use testkit::TIMEOUT;
    use testkit::chat::{ChatClient, WELCOME};

    use super::{Running, common, ex};

    const NOTICE: &str = "* server shutting down";

    #[test]
    fn every_client_gets_the_notice_after_its_queued_lines_then_the_close() {
        let server = Running::start(Config {
            shut_down: ex::shut_down,
            ..Config::default()
        });
        let mut alice = ChatClient::join(&server.addr(), "alice");
        let mut bob = ChatClient::join(&server.addr(), "bob");
        let mut carol = ChatClient::join(&server.addr(), "carol");
        let mut unnamed = ChatClient::connect(&server.addr());
        unnamed.expect(WELCOME);
        alice.expect("* bob joined");
        alice.expect("* carol joined");
        bob.expect("* carol joined");
        // 50 lines for alice and carol. Once carol has them all, alice's are all in her outbox
        // or on their way (one broadcast puts a line into every outbox under one lock), and
        // she has read none of them.
        for i in 0..50 {
            bob.send(&format!("m{i}"));
        }
        for i in 0..50 {
            carol.expect(&format!("bob: m{i}"));
        }
        server.stop();
        let mut lines = alice.expect_closed();
        assert_eq!(
            lines.pop().as_deref(),
            Some(NOTICE),
            "alice: the last line before the close must be the notice ({} lines came)",
            lines.len() + 1
        );
        let queued: Vec<String> = (0..50).map(|i| format!("bob: m{i}")).collect();
        assert!(
            lines == queued,
            "alice: before the notice, the 50 lines queued for her, in order; {} lines came \
             instead, the first ones {:?}",
            lines.len(),
            &lines[..lines.len().min(3)]
        );
        for client in [&mut bob, &mut carol, &mut unnamed] {
            assert_eq!(
                client.expect_closed(),
                [NOTICE],
                "{}: the notice, then the close (named or not, every client is told)",
                if client.name.is_empty() {
                    "the client without a name"
                } else {
                    &client.name
                }
            );
        }
        server.wait_stopped(TIMEOUT, "every client had been told and closed");
    }

    #[test]
    fn a_client_that_does_not_read_is_closed_when_the_grace_runs_out() {
        let grace = Duration::from_secs(1);
        let config = Config {
            grace,
            shut_down: ex::shut_down,
            ..Config::default()
        };
        let server = Running::start(config);
        let mut bob = ChatClient::join(&server.addr(), "bob");
        let mut carol = ChatClient::join(&server.addr(), "carol");
        bob.expect("* carol joined");
        // First, how many lines fill a client that does not read: its outbox (1000 lines)
        // and the kernel's buffers between the two (a few thousand more on Linux).
        let _slow = common::join_and_stop_reading(server.addr, "slow");
        bob.expect("* slow joined");
        carol.expect("* slow joined");
        let (fill, notices) = common::talk_until_notice(&mut bob, &mut carol);
        assert_eq!(notices, ["* slow left"]);
        bob.expect("* slow left");
        // Then a second such client gets 500 lines fewer: its kernel buffers are full, so its
        // writer is blocked in `write`, and its outbox is half full. It will never drain.
        let stuck = common::join_and_stop_reading(server.addr, "stuck");
        bob.expect("* stuck joined");
        carol.expect("* stuck joined");
        common::talk(&mut bob, &mut carol, fill - 500);

        let started = Instant::now();
        server.stop();
        for client in [&mut bob, &mut carol] {
            assert_eq!(
                client.expect_closed(),
                [NOTICE],
                "{}: a client that reads gets the notice and the close at once, whatever \
                 another client does",
                client.name
            );
        }
        server.wait_stopped(
            grace + TIMEOUT,
            "a writer blocked in `write` to a client that does not read never ends by itself: \
             once the grace is over, shut its socket down",
        );
        let took = started.elapsed();
        assert!(
            took >= grace,
            "the server stopped {took:?} after the stop, before the grace of {grace:?} was \
             over: a client that reads slowly must get that long to receive its lines"
        );
        // The server has closed stuck's connection: reading it to the end ends.
        let mut rest = std::io::BufReader::new(stuck);
        let mut bytes = Vec::new();
        if let Err(e) = std::io::Read::read_to_end(&mut rest, &mut bytes) {
            assert!(
                e.kind() == std::io::ErrorKind::ConnectionReset,
                "stuck: its connection was not closed after the grace ({} bytes read): {e}",
                bytes.len()
            );
        }
    }
}
