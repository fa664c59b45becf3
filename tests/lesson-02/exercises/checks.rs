//! The checks for chapter 2's exercises, one module per exercise (`ex2_1`, `ex2_2`), written
//! against `crate::ex` (the starter or the solution). Every socket wait is bounded, so an
//! unsolved exercise fails instead of hanging.

use std::fmt::Debug;
use std::time::Duration;

use crate::ex;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Fails with a sentence: `what`, then what was expected and what came instead.
#[track_caller]
fn expect_eq<T: PartialEq + Debug>(got: T, expected: T, what: &str) {
    if got != expected {
        panic!("{what}: expected {expected:?}, got {got:?}");
    }
}

mod ex2_1 {
    use super::*;

    /// Four pings, the second lost.
    fn four_pings() -> ex::PingStats {
        ex::PingStats::from_results(&[Some(ms(1)), None, Some(ms(3)), Some(ms(2))])
    }

    #[track_caller]
    fn expect_loss(stats: &ex::PingStats, expected: f64, what: &str) {
        let loss = stats.loss_percent();
        assert!(
            (loss - expected).abs() < 1e-9,
            "{what}: expected {expected}% loss, got {loss}%"
        );
    }

    #[test]
    fn ping_stats_count_replies_and_losses() {
        let stats = four_pings();
        expect_eq(stats.sent, 4, "4 pings, one lost: sent");
        expect_eq(stats.received, 3, "4 pings, one lost: received");
        expect_loss(&stats, 25.0, "4 pings, one lost");
    }

    #[test]
    fn ping_stats_min_avg_max_ignore_lost_pings() {
        let stats = four_pings();
        expect_eq(stats.min, Some(ms(1)), "replies of 1, 3 and 2 ms: min");
        expect_eq(
            stats.avg,
            Some(ms(2)),
            "replies of 1, 3 and 2 ms and one lost ping (a lost ping is not a 0 ms reply): avg",
        );
        expect_eq(stats.max, Some(ms(3)), "replies of 1, 3 and 2 ms: max");
    }

    #[test]
    fn ping_stats_with_no_reply_have_no_rtt() {
        let stats = ex::PingStats::from_results(&[None, None]);
        expect_eq(stats.sent, 2, "2 pings, both lost: sent");
        expect_eq(stats.received, 0, "2 pings, both lost: received");
        expect_eq(
            (stats.min, stats.avg, stats.max),
            (None, None, None),
            "2 pings, both lost: (min, avg, max)",
        );
        expect_loss(&stats, 100.0, "2 pings, both lost");
        let nothing = ex::PingStats::from_results(&[]);
        expect_loss(&nothing, 0.0, "no ping sent is no loss (and not NaN)");
    }

    #[track_caller]
    fn expect_summary(stats: &ex::PingStats, expected: &str) {
        let got = stats.to_string();
        assert!(
            got == expected,
            "the summary should be these lines:\n{expected}\nbut it was:\n{got}"
        );
    }

    #[test]
    fn ping_stats_display_like_ping() {
        expect_summary(
            &four_pings(),
            "4 sent, 3 received, 25.0% loss\nrtt min/avg/max = 1.000/2.000/3.000 ms",
        );
        expect_summary(
            &ex::PingStats::from_results(&[Some(Duration::from_micros(123))]),
            "1 sent, 1 received, 0.0% loss\nrtt min/avg/max = 0.123/0.123/0.123 ms",
        );
        expect_summary(
            &ex::PingStats::from_results(&[None, None, None]),
            "3 sent, 0 received, 100.0% loss",
        );
    }
}

mod ex2_2 {
    use std::net::{SocketAddr, UdpSocket};
    use std::thread::{self, JoinHandle};
    use std::time::Instant;

    use super::*;

    /// How long each ping waits in these checks.
    const PING_TIMEOUT: Duration = Duration::from_millis(500);

    /// A UDP server that follows a script instead of echoing: for the n-th datagram it
    /// receives, it sends the n-th list of replies (possibly none, possibly a late reply to an
    /// earlier ping). Returns its address and a handle that yields the requests it received.
    fn scripted_server(script: &[&[&str]]) -> (SocketAddr, JoinHandle<Vec<String>>) {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        let addr = socket.local_addr().unwrap();
        let script: Vec<Vec<String>> = script
            .iter()
            .map(|replies| replies.iter().map(|r| r.to_string()).collect())
            .collect();
        let handle = thread::spawn(move || {
            let mut requests = Vec::new();
            let mut buf = [0u8; 1024];
            for replies in script {
                // Bounded: if the pinger stops sending, the server gives up after 3 s.
                let Ok((n, peer)) = socket.recv_from(&mut buf) else {
                    break;
                };
                requests.push(String::from_utf8_lossy(&buf[..n]).into_owned());
                for reply in replies {
                    socket.send_to(reply.as_bytes(), peer).unwrap();
                }
            }
            requests
        });
        (addr, handle)
    }

    /// The datagrams the scripted server received, compared with those expected.
    #[track_caller]
    fn expect_requests(server: JoinHandle<Vec<String>>, expected: &[&str]) {
        let got = server
            .join()
            .expect("the test's scripted server panicked (its message is above)");
        expect_eq(
            got.iter().map(String::as_str).collect::<Vec<_>>(),
            expected.to_vec(),
            "the datagrams the server received",
        );
    }

    fn pinger(server: SocketAddr) -> UdpSocket {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.connect(server).unwrap();
        socket
    }

    fn ping(socket: &UdpSocket, seq: u64) -> Option<Duration> {
        ex::ping_once(socket, seq, PING_TIMEOUT)
            .unwrap_or_else(|e| panic!("ping_once for ping {seq} returned the error \"{e}\""))
    }

    /// Fails with a sentence unless ping `seq` got its own reply exactly when `expected`.
    #[track_caller]
    fn expect_reply(socket: &UdpSocket, seq: u64, expected: bool, why: &str) {
        match (ping(socket, seq), expected) {
            (Some(_), true) | (None, false) => {}
            (Some(rtt), false) => panic!(
                "ping {seq} returned a round-trip time ({rtt:?}), but it got no reply of its \
                 own: {why}"
            ),
            (None, true) => {
                panic!("ping {seq} returned None, but its own reply came back in time: {why}")
            }
        }
    }

    #[test]
    fn ping_once_skips_a_late_reply_to_an_earlier_ping() {
        // Ping 1's reply is held back and only sent when ping 2 arrives; ping 2 gets no reply.
        let (addr, server) = scripted_server(&[&[], &["ping 1"]]);
        let socket = pinger(addr);
        expect_reply(&socket, 1, false, "the server did not answer it");
        expect_reply(
            &socket,
            2,
            false,
            "the only datagram was `ping 1`, the late reply to ping 1",
        );
        expect_requests(server, &["ping 1", "ping 2"]);
    }

    #[test]
    fn ping_once_finds_its_reply_behind_a_late_one() {
        // Ping 2 gets the late reply to ping 1 first, then its own; ping 3 is answered at
        // once; ping 4 gets nothing. A pinger that takes any datagram falls one reply behind.
        let (addr, server) = scripted_server(&[&[], &["ping 1", "ping 2"], &["ping 3"], &[]]);
        let socket = pinger(addr);
        expect_reply(&socket, 1, false, "the server did not answer it");
        expect_reply(
            &socket,
            2,
            true,
            "`ping 2` came right after `ping 1`, the late reply to ping 1",
        );
        expect_reply(&socket, 3, true, "the server answered `ping 3` at once");
        expect_reply(&socket, 4, false, "the server did not answer it");
        expect_requests(server, &["ping 1", "ping 2", "ping 3", "ping 4"]);
    }

    #[test]
    fn ping_once_matches_the_whole_sequence_number() {
        let (addr, server) = scripted_server(&[&["ping 12"]]);
        let socket = pinger(addr);
        expect_reply(
            &socket,
            1,
            false,
            "the only datagram was `ping 12`, which starts like `ping 1` but is not its reply",
        );
        expect_requests(server, &["ping 1"]);
    }

    #[test]
    fn ping_once_bounds_the_whole_wait_by_the_timeout() {
        // A stale reply arrives right away; it must not restart the clock, and the ping must
        // still give up after about PING_TIMEOUT.
        let (addr, server) = scripted_server(&[&["ping 0"]]);
        let socket = pinger(addr);
        let start = Instant::now();
        expect_reply(
            &socket,
            1,
            false,
            "the only datagram was `ping 0`, a late reply to an earlier ping",
        );
        let waited = start.elapsed();
        assert!(
            waited >= PING_TIMEOUT,
            "ping 1 gave up after {waited:?}, before its timeout of {PING_TIMEOUT:?}: skip a \
             stale reply and keep waiting for the time that is left"
        );
        assert!(
            waited < PING_TIMEOUT * 3,
            "ping 1 waited {waited:?}, far beyond its timeout of {PING_TIMEOUT:?}: the \
             timeout is for the whole wait, not for each datagram"
        );
        expect_requests(server, &["ping 1"]);
    }
}
