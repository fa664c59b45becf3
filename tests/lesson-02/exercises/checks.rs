//! The checks for chapter 2's exercises, written against `crate::ex` (the starter or the
//! solution). Every socket wait is bounded, so an unsolved exercise fails instead of hanging.

use std::net::{SocketAddr, UdpSocket};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::ex;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ---- 2.1 ping statistics -------------------------------------------------------------------

#[test]
fn ping_stats_count_replies_and_losses() {
    let stats = ex::PingStats::from_results(&[Some(ms(1)), None, Some(ms(3)), Some(ms(2))]);
    assert_eq!((stats.sent, stats.received), (4, 3));
    assert!(
        (stats.loss_percent() - 25.0).abs() < 1e-9,
        "loss was {}",
        stats.loss_percent()
    );
}

#[test]
fn ping_stats_min_avg_max_ignore_lost_pings() {
    let stats = ex::PingStats::from_results(&[Some(ms(1)), None, Some(ms(3)), Some(ms(2))]);
    assert_eq!(stats.min, Some(ms(1)));
    assert_eq!(stats.avg, Some(ms(2)), "a lost ping is not a 0 ms reply");
    assert_eq!(stats.max, Some(ms(3)));
}

#[test]
fn ping_stats_with_no_reply_have_no_rtt() {
    let stats = ex::PingStats::from_results(&[None, None]);
    assert_eq!((stats.sent, stats.received), (2, 0));
    assert_eq!((stats.min, stats.avg, stats.max), (None, None, None));
    assert!((stats.loss_percent() - 100.0).abs() < 1e-9);
    let nothing = ex::PingStats::from_results(&[]);
    assert_eq!(
        nothing.loss_percent(),
        0.0,
        "nothing sent is no loss (and not NaN)"
    );
}

#[test]
fn ping_stats_display_like_ping() {
    let stats = ex::PingStats::from_results(&[Some(ms(1)), None, Some(ms(3)), Some(ms(2))]);
    assert_eq!(
        stats.to_string(),
        "4 sent, 3 received, 25.0% loss\nrtt min/avg/max = 1.000/2.000/3.000 ms"
    );
    let fast = ex::PingStats::from_results(&[Some(Duration::from_micros(123))]);
    assert_eq!(
        fast.to_string(),
        "1 sent, 1 received, 0.0% loss\nrtt min/avg/max = 0.123/0.123/0.123 ms"
    );
    let lost = ex::PingStats::from_results(&[None, None, None]);
    assert_eq!(lost.to_string(), "3 sent, 0 received, 100.0% loss");
}

// ---- 2.2 a pinger that late replies cannot fool ---------------------------------------------

/// How long each ping waits in these checks.
const PING_TIMEOUT: Duration = Duration::from_millis(500);

/// A UDP server that follows a script instead of echoing: for the n-th datagram it receives,
/// it sends the n-th list of replies (possibly none, possibly a late reply to an earlier
/// ping). Returns its address and a handle that yields the requests it received.
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

fn pinger(server: SocketAddr) -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(server).unwrap();
    socket
}

fn ping(socket: &UdpSocket, seq: u64) -> Option<Duration> {
    ex::ping_once(socket, seq, PING_TIMEOUT).unwrap()
}

#[test]
fn ping_once_skips_a_late_reply_to_an_earlier_ping() {
    // Ping 1's reply is held back and only sent when ping 2 arrives; ping 2 gets no reply.
    let (addr, server) = scripted_server(&[&[], &["ping 1"]]);
    let socket = pinger(addr);
    assert_eq!(ping(&socket, 1), None, "ping 1 got no reply in time");
    assert_eq!(
        ping(&socket, 2),
        None,
        "ping 2 got no reply of its own: the late reply to ping 1 must not count for it"
    );
    assert_eq!(
        server.join().unwrap(),
        ["ping 1", "ping 2"],
        "the pings sent"
    );
}

#[test]
fn ping_once_finds_its_reply_behind_a_late_one() {
    // Ping 2 gets the late reply to ping 1 first, then its own; ping 3 is answered at once;
    // ping 4 gets nothing. A pinger that takes any datagram falls one reply behind.
    let (addr, server) = scripted_server(&[&[], &["ping 1", "ping 2"], &["ping 3"], &[]]);
    let socket = pinger(addr);
    let results: Vec<bool> = (1..=4).map(|seq| ping(&socket, seq).is_some()).collect();
    assert_eq!(
        results,
        [false, true, true, false],
        "which pings got their own reply"
    );
    assert_eq!(
        server.join().unwrap(),
        ["ping 1", "ping 2", "ping 3", "ping 4"]
    );
}

#[test]
fn ping_once_matches_the_whole_sequence_number() {
    // `ping 12` starts with `ping 1`, but it is not ping 1's reply.
    let (addr, server) = scripted_server(&[&["ping 12"]]);
    let socket = pinger(addr);
    assert_eq!(
        ping(&socket, 1),
        None,
        "`ping 12` is not the reply to ping 1"
    );
    assert_eq!(server.join().unwrap(), ["ping 1"]);
}

#[test]
fn ping_once_bounds_the_whole_wait_by_the_timeout() {
    // A stale reply arrives right away; it must not restart the clock, and the ping must
    // still give up after about PING_TIMEOUT.
    let (addr, server) = scripted_server(&[&["ping 0"]]);
    let socket = pinger(addr);
    let start = std::time::Instant::now();
    assert_eq!(
        ping(&socket, 1),
        None,
        "`ping 0` is not the reply to ping 1"
    );
    let waited = start.elapsed();
    assert!(
        waited >= PING_TIMEOUT,
        "gave up after {waited:?}, before the timeout"
    );
    assert!(
        waited < PING_TIMEOUT * 3,
        "waited {waited:?}, far beyond the timeout"
    );
    assert_eq!(server.join().unwrap(), ["ping 1"]);
}
