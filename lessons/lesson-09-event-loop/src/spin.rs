//! Why an event loop waits in `poll` and not in a loop around a non-blocking read: a
//! spinning thread burns a whole core doing nothing. Measured with the thread's own CPU time
//! (`getrusage(RUSAGE_THREAD)` on Linux), beside the wall-clock time of the same wait.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, poll};

/// What one wait cost.
#[derive(Debug, Clone, Copy)]
pub struct WaitCost {
    /// How long the wait took (the same for both ways: the data comes when it comes).
    pub wall: Duration,
    /// CPU time the waiting thread used meanwhile.
    pub cpu: Duration,
    /// How many reads it made.
    pub reads: u64,
}

impl WaitCost {
    /// CPU time as a share of the wait: 1.0 is a whole core.
    pub fn cpu_share(&self) -> f64 {
        self.cpu.as_secs_f64() / self.wall.as_secs_f64().max(1e-9)
    }
}

/// Whose CPU time: the calling thread's, where the system can say (Linux).
#[cfg(target_os = "linux")]
const WHO: libc::c_int = libc::RUSAGE_THREAD;
/// Elsewhere the whole process's: while a measurement runs, its other threads sleep.
#[cfg(not(target_os = "linux"))]
const WHO: libc::c_int = libc::RUSAGE_SELF;

/// The CPU time (user + system) the calling thread has used so far (on Linux; the process's
/// elsewhere).
pub fn thread_cpu_time() -> Duration {
    // SAFETY: getrusage only writes into the struct we pass; zeroed is a valid `rusage`.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(WHO, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

// ANCHOR: spin
/// Waits for data by asking again and again: a non-blocking read returns `WouldBlock` at once,
/// and the loop asks again at once. Correct, and a whole core spent on asking.
pub fn wait_by_spinning(conn: &mut TcpStream, buf: &mut [u8]) -> io::Result<(usize, u64)> {
    conn.set_nonblocking(true)?;
    let mut reads = 0;
    loop {
        reads += 1;
        match conn.read(buf) {
            Ok(n) => return Ok((n, reads)),
            Err(e) if e.kind() == ErrorKind::WouldBlock => continue, // ask again, at once
            Err(e) => return Err(e),
        }
    }
}

/// Waits for data the right way: `poll` puts the thread to sleep until the kernel says the
/// socket is readable. Then ONE read, which cannot block.
pub fn wait_by_polling(conn: &mut TcpStream, buf: &mut [u8]) -> io::Result<(usize, u64)> {
    conn.set_nonblocking(true)?;
    let mut fds = [PollFd::new(&*conn, PollFlags::IN)];
    poll(&mut fds, None)?; // no timeout: sleep until something happens
    Ok((conn.read(buf)?, 1))
}
// ANCHOR_END: spin

/// A way to wait for one read: it returns the bytes read and how many reads it made.
pub type WaitFn = fn(&mut TcpStream, &mut [u8]) -> io::Result<(usize, u64)>;

/// Runs `wait` on a loopback connection whose peer sends one line after `delay`, and
/// measures it.
pub fn measure(delay: Duration, wait: WaitFn) -> io::Result<WaitCost> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let mut peer = TcpStream::connect(listener.local_addr()?)?;
    let (mut conn, _) = listener.accept()?;
    // The delay is the thing waited for, not a synchronisation: the peer is slow on purpose.
    let sender = thread::Builder::new().spawn(move || {
        thread::sleep(delay);
        peer.write_all(b"hello\n")
    })?;
    let mut buf = [0u8; 64];
    let (start, cpu0) = (Instant::now(), thread_cpu_time());
    let (_, reads) = wait(&mut conn, &mut buf)?;
    let cost = WaitCost {
        wall: start.elapsed(),
        cpu: thread_cpu_time() - cpu0,
        reads,
    };
    sender
        .join()
        .map_err(|_| io::Error::other("the sender panicked"))??;
    Ok(cost)
}
