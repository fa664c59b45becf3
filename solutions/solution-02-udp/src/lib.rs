//! Solutions to chapter 2's exercises, with the reasoning behind each choice.

use std::fmt;
use std::io::{self, ErrorKind};
use std::net::UdpSocket;
use std::time::{Duration, Instant};

// ANCHOR: ping_stats
/// Exercise 2.1: the summary `ping` prints when it stops.
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
        // Why `flatten`: a lost ping has no round-trip time. It counts as sent, and must not
        // count as a zero-millisecond reply, or the average would look better than it is.
        let rtts: Vec<Duration> = results.iter().flatten().copied().collect();
        let received = rtts.len();
        // Why `Option` for the average: with no reply there is no mean to take (and
        // dividing by zero would panic). `u32::try_from` instead of `as`: no silent wrap.
        let avg = u32::try_from(received)
            .ok()
            .filter(|&n| n > 0)
            .map(|n| rtts.iter().sum::<Duration>() / n);
        PingStats {
            sent: results.len(),
            received,
            min: rtts.iter().min().copied(),
            avg,
            max: rtts.iter().max().copied(),
        }
    }

    /// The share of pings that got no reply, in percent (0.0 when nothing was sent).
    pub fn loss_percent(&self) -> f64 {
        // Why the guard: 0 of 0 is no loss, not NaN.
        if self.sent == 0 {
            return 0.0;
        }
        100.0 * (self.sent - self.received) as f64 / self.sent as f64
    }
}
// ANCHOR_END: ping_stats

// ANCHOR: ping_stats_display
impl fmt::Display for PingStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} sent, {} received, {:.1}% loss",
            self.sent,
            self.received,
            self.loss_percent()
        )?;
        // Why all three together: they exist exactly when at least one reply came back.
        if let (Some(min), Some(avg), Some(max)) = (self.min, self.avg, self.max) {
            // Why f64 milliseconds: loopback round trips take microseconds; whole
            // milliseconds would print 0/0/0.
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            write!(
                f,
                "\nrtt min/avg/max = {:.3}/{:.3}/{:.3} ms",
                ms(min),
                ms(avg),
                ms(max)
            )?;
        }
        Ok(())
    }
}
// ANCHOR_END: ping_stats_display

// ANCHOR: ping_once
/// Exercise 2.2: a pinger that late replies cannot fool.
pub fn ping_once(socket: &UdpSocket, seq: u64, timeout: Duration) -> io::Result<Option<Duration>> {
    // Why a sequence number in the payload: UDP does not pair replies with requests. A reply
    // that arrives after we gave up waiting is still delivered, to the *next* recv. Only the
    // payload can say which ping a reply answers.
    let request = format!("ping {seq}");
    let start = Instant::now();
    // Why one deadline for the whole wait: each stale reply we skip must not restart the
    // clock, or a stream of old replies could keep us waiting forever.
    let deadline = start + timeout;
    socket.send(request.as_bytes())?;
    let mut buf = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        // Why this check: `set_read_timeout(Some(ZERO))` is an error, and no time left means
        // the reply is late, that is, lost as far as this ping is concerned.
        if left.is_zero() {
            return Ok(None);
        }
        socket.set_read_timeout(Some(left))?;
        match socket.recv(&mut buf) {
            // Why compare the whole payload: `ping 1` is a prefix of `ping 12`.
            Ok(n) if buf[..n] == *request.as_bytes() => return Ok(Some(start.elapsed())),
            // A reply to an earlier ping, late: throw it away and keep waiting for ours.
            Ok(_) => continue,
            // Why not return at once: a timed-out wait can end a hair early. Going round
            // again lets the deadline check above decide, with the same clock every time.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}
// ANCHOR_END: ping_once
