//! The event loop on `poll(2)`, through rustix's safe `event::poll`. Level-triggered: poll
//! reports a socket as long as it CAN make progress, so reading once per report is enough.

use std::io::{self, ErrorKind, Read};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::io::Errno;

use crate::StopWatch;
use crate::room::Room;

/// At most this many accepts per report, so a flood of connections cannot starve the rest.
const ACCEPTS_PER_TURN: usize = 64;

// ANCHOR: poll_loop
pub(crate) fn run(listener: TcpListener, room: &mut Room, stop: &StopWatch) -> io::Result<()> {
    let mut buf = vec![0u8; room.config().read_size]; // the ONE read buffer
    let mut listener = Some(listener);
    let mut accept_paused_until: Option<Instant> = None;
    let mut ready: Vec<(usize, PollFlags)> = Vec::new();
    while !room.finished() {
        let now = Instant::now();
        let accepting = accept_paused_until.is_none_or(|t| t <= now);
        let timeout = [
            room.next_deadline(),
            accept_paused_until.filter(|_| !accepting),
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|d| d.saturating_duration_since(now));
        let (stop_ready, accept_ready) = wait(
            room,
            stop,
            listener.as_ref().filter(|_| accepting),
            timeout,
            &mut ready,
        )?;
        if stop_ready {
            let _ = (&stop.0).read(&mut [0u8; 16]);
            listener = None; // stop accepting: connecting clients are refused from now on
            room.begin_shutdown();
        }
        if let (true, Some(l)) = (accept_ready, &listener) {
            accept_paused_until = accept_some(l, room);
        }
        for &(key, revents) in &ready {
            if revents.intersects(PollFlags::IN | PollFlags::ERR | PollFlags::HUP) {
                room.read(key, &mut buf);
            }
            if revents.intersects(PollFlags::OUT | PollFlags::ERR | PollFlags::HUP) {
                room.mark_dirty(key);
            }
        }
        room.settle();
        room.expire(Instant::now());
        room.flush_dirty();
        room.closed.clear(); // poll keeps no registration: dropping is closing
        room.flushed.clear();
    }
    Ok(())
}
// ANCHOR_END: poll_loop

// ANCHOR: poll_wait
/// One call to poll: the stop socket, the listener, and every connection with the events it
/// wants now. Fills `ready` with the connections that have something to report.
fn wait(
    room: &Room,
    stop: &StopWatch,
    listener: Option<&TcpListener>,
    timeout: Option<Duration>,
    ready: &mut Vec<(usize, PollFlags)>,
) -> io::Result<(bool, bool)> {
    let mut fds = Vec::with_capacity(room.len() + 2);
    let mut keys = Vec::with_capacity(room.len());
    fds.push(PollFd::new(&stop.0, PollFlags::IN));
    if let Some(l) = listener {
        fds.push(PollFd::new(l, PollFlags::IN));
    }
    let first_conn = fds.len();
    for (key, conn) in room.iter() {
        let mut events = PollFlags::empty();
        if conn.wants_read() {
            events |= PollFlags::IN;
        }
        if conn.wants_write() {
            events |= PollFlags::OUT; // only while output waits
        }
        fds.push(PollFd::new(&conn.stream, events));
        keys.push(key);
    }
    // No timeout: wait for ever. Otherwise until the next deadline (rounded up to 1 ms).
    let timeout = timeout.map(|t| Timespec::try_from(t.max(Duration::from_millis(1))));
    let timeout = timeout.map(|t| {
        t.unwrap_or(Timespec {
            tv_sec: 86_400,
            tv_nsec: 0,
        })
    });
    ready.clear();
    match poll(&mut fds, timeout.as_ref()) {
        Ok(_) => {}
        Err(Errno::INTR) => return Ok((false, false)),
        Err(e) => return Err(e.into()),
    }
    let conns = fds[first_conn..].iter().zip(&keys);
    ready.extend(
        conns
            .filter(|(fd, _)| !fd.revents().is_empty())
            .map(|(fd, &k)| (k, fd.revents())),
    );
    let accept = listener.is_some() && !fds[1].revents().is_empty();
    Ok((!fds[0].revents().is_empty(), accept))
}
// ANCHOR_END: poll_wait

/// Accepts what is waiting (up to ACCEPTS_PER_TURN). Out of file descriptors, accepting would
/// fail at once on every turn, a spin: pause it for 100 ms instead.
pub(crate) fn accept_some(listener: &TcpListener, room: &mut Room) -> Option<Instant> {
    for _ in 0..ACCEPTS_PER_TURN {
        match listener.accept() {
            Ok((stream, _)) => {
                room.admit(stream);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return None,
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::Interrupted | ErrorKind::ConnectionAborted
                ) => {}
            Err(e) => {
                room.note(&format!("accept failed: {e}; pausing accepts for 100 ms"));
                return Some(Instant::now() + Duration::from_millis(100));
            }
        }
    }
    None
}
