//! Chapter 2 exercises. Check one with `cargo course check 2.1` (its hint:
//! `cargo course hint 2.1`).
//!
//! Each item below compiles, but does not yet do what its exercise asks: the checks fail
//! until you change it. The chapter states each task and gives a hint;
//! once your code passes, `cargo course check` says
//! where the worked answer is.

#![allow(unused_variables)]

use std::fmt;
use std::io::{self, ErrorKind};
use std::net::UdpSocket;
use std::time::{Duration, Instant};

// ANCHOR: ping_stats
/// Exercise 2.1: the summary `ping` prints when it stops.
///
/// `results` has one entry per ping sent: `Some(rtt)` when its reply came back, `None` when
/// it was lost. `min`, `avg` and `max` are `None` when no reply came back at all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PingStats {
    pub sent: usize,
    pub received: usize,
    pub min: Option<Duration>,
    pub avg: Option<Duration>,
    pub max: Option<Duration>,
}

impl PingStats {
    pub fn from_results(results: &[Option<Duration>]) -> PingStats {
        todo!("count the pings and their replies; find the shortest, mean and longest RTT")
    }

    /// The share of pings that got no reply, in percent (0.0 when nothing was sent).
    pub fn loss_percent(&self) -> f64 {
        todo!("lost / sent, as a percentage")
    }
}

/// Two lines, like ping's (times in milliseconds, three decimals; no second line when no
/// reply came back):
///
/// ```text
/// 4 sent, 3 received, 25.0% loss
/// rtt min/avg/max = 1.000/2.000/3.000 ms
/// ```
impl fmt::Display for PingStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!("write the summary")
    }
}
// ANCHOR_END: ping_stats

// ANCHOR: ping_once
/// Exercise 2.2: a pinger that late replies cannot fool.
///
/// `socket` is connected to an echo server. Send `ping <seq>` (for example `ping 7`) and wait
/// at most `timeout`, in total, for the reply to *this* ping. Return its round-trip time, or
/// `None` if it did not come back in time.
pub fn ping_once(socket: &UdpSocket, seq: u64, timeout: Duration) -> io::Result<Option<Duration>> {
    let start = Instant::now();
    socket.send(format!("ping {seq}").as_bytes())?;
    socket.set_read_timeout(Some(timeout))?;
    let mut buf = [0u8; 1024];
    // TODO: a late reply to an earlier ping arrives here too; it must not count as this one's.
    match socket.recv(&mut buf) {
        Ok(_) => Ok(Some(start.elapsed())),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Ok(None),
        Err(e) => Err(e),
    }
}
// ANCHOR_END: ping_once
