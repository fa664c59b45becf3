//! Lesson 9: an event loop. The chat server of Part II (`book/src/part2-chat.md`) on ONE thread.
//!
//! Every socket is non-blocking: a read or a write that cannot proceed returns `WouldBlock`
//! instead of waiting. The thread waits in one place only, the readiness call, which tells it
//! which sockets can make progress: `poll` (through rustix, [`Engine::Poll`]) or epoll/kqueue
//! (through the `polling` crate, [`Engine::Polling`]). Everything a thread per client kept on
//! its stack (the half-read line, what is still to be written) is kept here, per connection,
//! in [`room`]'s `Conn`.
//!
//! - [`decode_lines`]: the buffered decoder (a connection's unfinished line, `MAX_LINE`);
//! - [`flush_outbox`]: the write side (as much as the socket takes, resumed later);
//! - [`room`]: the protocol, the same for both engines;
//! - `poll_loop` and `polling_loop`: the two ways of waiting;
//! - [`spin`]: why not to wait by spinning on `WouldBlock`.

use std::collections::VecDeque;
use std::io::{self, ErrorKind, IoSlice, Read, Write};
use std::net::TcpListener;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::Duration;

pub mod client;
pub mod demo;
pub mod exercises;
mod poll_loop;
mod polling_loop;
pub mod room;
pub mod spin;

/// The address the lesson's server binds when none is given.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// The longest line (not counting `\r\n`) the server accepts.
pub const MAX_LINE: usize = 1024;
/// The most messages that may wait for one client beyond what its socket buffer holds.
pub const OUTBOX_LIMIT: usize = 1000;
/// Joins and leaves are announced only while the room has at most this many named clients.
pub const ANNOUNCE_LIMIT: usize = 100;
/// `--max-clients` unless set.
pub const DEFAULT_MAX_CLIENTS: usize = 1000;
/// `--name-timeout` unless set.
pub const DEFAULT_NAME_TIMEOUT: Duration = Duration::from_secs(30);
/// `--grace` unless set.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);
/// The size of the loop's ONE read buffer, shared by every connection (64 KiB).
pub const READ_SIZE: usize = 64 * 1024;
/// How long a connection that is being closed (a bye line, an end of stream) may take to
/// accept what is still queued for it before it is dropped.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// How the loop waits for its sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// `poll(2)` through rustix: level-triggered, the whole set passed on every call.
    Poll,
    /// The `polling` crate: epoll on Linux, kqueue on macOS and BSD, IOCP on Windows;
    /// edge-triggered where the system supports it.
    Polling,
}

/// Everything the server needs besides its listener.
#[derive(Debug, Clone)]
pub struct Config {
    pub max_clients: usize,
    pub name_timeout: Duration,
    pub grace: Duration,
    pub engine: Engine,
    /// The size of the loop's read buffer ([`READ_SIZE`]; tests make it tiny).
    pub read_size: usize,
    /// The deliberate bug of the chapter: under edge triggering, read ONCE per event instead
    /// of until `WouldBlock`. Only the `polling` engine looks at it.
    pub read_once_per_event: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_clients: DEFAULT_MAX_CLIENTS,
            name_timeout: DEFAULT_NAME_TIMEOUT,
            grace: DEFAULT_GRACE,
            engine: Engine::Poll,
            read_size: READ_SIZE,
            read_once_per_event: false,
        }
    }
}

/// The loop's side of the shutdown signal: a socket the loop watches like any other, so a
/// signal wakes the one thread wherever it waits.
#[derive(Debug)]
pub struct StopWatch(pub(crate) UnixStream);

/// The other side: anyone (the Ctrl-C handler, a test, the demo) can ask the loop to stop.
#[derive(Debug)]
pub struct StopSender(UnixStream);

impl StopSender {
    /// Wakes the loop and starts its shutdown. Safe to call more than once.
    pub fn stop(&self) {
        // A full socket buffer means a stop is already on its way: nothing lost.
        let _ = (&self.0).write(b"x");
    }

    /// A second sender for the same loop. The loop also stops when every sender is gone, so
    /// keep one for as long as the loop should run.
    pub fn try_clone(&self) -> io::Result<StopSender> {
        Ok(StopSender(self.0.try_clone()?))
    }
}

/// A new stop signal: the loop gets the [`StopWatch`], the caller the [`StopSender`].
pub fn stop_signal() -> io::Result<(StopWatch, StopSender)> {
    let (watch, send) = UnixStream::pair()?;
    watch.set_nonblocking(true)?;
    send.set_nonblocking(true)?;
    Ok((StopWatch(watch), StopSender(send)))
}

/// Runs the chat server on `listener` until `stop` fires and every client is gone (or the
/// grace period is over). `log` gets one line per join, leave and refusal.
pub fn serve(
    listener: TcpListener,
    config: &Config,
    stop: StopWatch,
    log: &mut dyn FnMut(&str),
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let mut room = room::Room::new(config.clone(), log);
    match config.engine {
        Engine::Poll => poll_loop::run(listener, &mut room, &stop),
        Engine::Polling => polling_loop::run(listener, &mut room, &stop),
    }
}

/// A line that went past [`MAX_LINE`] bytes without a newline: the connection cannot be
/// resynchronised, so it is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineTooLong;

// ANCHOR: decode_lines
/// The buffered decoder. `partial` is what one connection has sent since its last newline;
/// `incoming` is what one read returned. Every complete line goes to `lines` (without `\n`, and
/// without a `\r` just before it); what follows the last newline stays in `partial`.
pub fn decode_lines(
    partial: &mut Vec<u8>,
    incoming: &[u8],
    lines: &mut Vec<Vec<u8>>,
) -> Result<(), LineTooLong> {
    let mut rest = incoming;
    while let Some(end) = rest.iter().position(|&b| b == b'\n') {
        // The line's first bytes may have come in earlier reads: they wait in `partial`.
        let mut line = std::mem::take(partial);
        line.extend_from_slice(&rest[..end]);
        rest = &rest[end + 1..];
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        if line.len() > MAX_LINE {
            return Err(LineTooLong);
        }
        lines.push(line);
    }
    partial.extend_from_slice(rest);
    // Known too long without waiting for its newline: 1025 bytes, unless the 1025th is the
    // `\r` of a `\r\n` whose `\n` is still on its way.
    let cr_wait = partial.len() == MAX_LINE + 1 && partial.last() == Some(&b'\r');
    if partial.len() > MAX_LINE && !cr_wait {
        return Err(LineTooLong);
    }
    Ok(())
}
// ANCHOR_END: decode_lines

/// What [`flush_outbox`] left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flushed {
    /// Everything was written: drop write interest.
    Empty,
    /// The socket took what it could (`WouldBlock`): keep write interest, resume later.
    Blocked,
}

// ANCHOR: flush_outbox
/// The write side. Writes as much of `outbox` as `conn` takes. `sent` counts the bytes of the
/// front message that an earlier, partial write already took: they must not go twice.
pub fn flush_outbox(
    conn: &mut impl Write,
    outbox: &mut VecDeque<Rc<[u8]>>,
    sent: &mut usize,
) -> io::Result<Flushed> {
    while !outbox.is_empty() {
        // Up to 64 messages in one system call (writev); the first from where it stopped.
        let mut slices = Vec::with_capacity(outbox.len().min(64));
        slices.push(IoSlice::new(&outbox[0][*sent..]));
        slices.extend(outbox.iter().skip(1).take(63).map(|m| IoSlice::new(m)));
        let mut n = match conn.write_vectored(&slices) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(Flushed::Blocked),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        // Retire every message the write finished; remember how far into the next it got.
        while n > 0 {
            let left = outbox[0].len() - *sent;
            if n < left {
                *sent += n;
                break;
            }
            n -= left;
            *sent = 0;
            outbox.pop_front();
        }
    }
    Ok(Flushed::Empty)
}
// ANCHOR_END: flush_outbox

/// One read into the shared buffer that survives `Interrupted`.
pub(crate) fn read_some(conn: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match conn.read(buf) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}
