//! The same loop on the `polling` crate: epoll on Linux, kqueue on macOS and the BSDs, IOCP
//! on Windows. Sockets are registered once, not passed on every call, and the kernel hands
//! back only the ready ones: the cost of a wait does not grow with the number of idle clients.
//!
//! Registration is edge-triggered where the system has it (epoll and kqueue do): an event
//! means "something CHANGED", once. So every readable event must be drained until
//! `WouldBlock`; the bytes left behind by a loop that reads once would wait, unreported, until
//! the client sends more. `Config::read_once_per_event` makes exactly that mistake, on purpose.

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use polling::{Event, Events, PollMode, Poller};

use crate::StopWatch;
use crate::room::{ReadOutcome, Room};

const LISTENER: usize = 0;
const STOP: usize = 1;
/// Connection `key` is registered as `key + FIRST_CONN`.
const FIRST_CONN: usize = 2;
/// Reads (or accepts) per event before the loop turns to the others; what is left is not
/// forgotten: the key goes on `still_ready`, served on the next turn without waiting.
const BUDGET: usize = 16;

// ANCHOR: polling_setup
pub(crate) fn run(listener: TcpListener, room: &mut Room, stop: &StopWatch) -> io::Result<()> {
    let poller = Poller::new()?;
    let mode = if poller.supports_edge() {
        PollMode::Edge
    } else {
        PollMode::Level
    };
    // SAFETY: both stay open until `poller` is dropped, or are deleted from it first.
    unsafe {
        poller.add_with_mode(&listener, Event::readable(LISTENER), mode)?;
        poller.add_with_mode(&stop.0, Event::readable(STOP), mode)?;
    }
    let mut listener = Some(listener);
    let mut buf = vec![0u8; room.config().read_size];
    let mut events = Events::new();
    let mut still_ready: VecDeque<usize> = VecDeque::new();
    // When a failed accept (out of file descriptors, say) may be tried again.
    let mut accept_retry: Option<Instant> = None;
    // ANCHOR_END: polling_setup
    // ANCHOR: polling_turn
    while !room.finished() {
        // Work left from the last turn: look, but do not wait.
        let wake = room.next_deadline().into_iter().chain(accept_retry).min();
        let timeout = if still_ready.is_empty() {
            wake.map(|d| d.saturating_duration_since(Instant::now()))
        } else {
            Some(Duration::ZERO)
        };
        events.clear();
        match poller.wait(&mut events, timeout) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            other => other?,
        };
        let mut turn: Vec<usize> = still_ready.drain(..).collect();
        if accept_retry.is_some_and(|t| t <= Instant::now()) {
            accept_retry = None;
            turn.push(LISTENER); // no edge will come for a connection already waiting
        }
        for ev in events.iter() {
            if ev.key == STOP {
                let _ = (&stop.0).read(&mut [0u8; 16]);
                if let Some(l) = listener.take() {
                    poller.delete(&l)?; // stop accepting
                }
                room.begin_shutdown();
            } else if ev.readable || ev.key == LISTENER {
                turn.push(ev.key);
            }
            if ev.writable && ev.key >= FIRST_CONN {
                room.mark_dirty(ev.key - FIRST_CONN);
            }
        }
        for key in turn {
            let more = match (key, &listener) {
                (LISTENER, Some(l)) => accept_all(l, room, &poller, mode, &mut accept_retry)?,
                (LISTENER, None) => false,
                (key, _) => drain(room, key - FIRST_CONN, &mut buf),
            };
            if more {
                still_ready.push_back(key);
            }
        }
        room.settle();
        room.expire(Instant::now());
        room.flush_dirty();
        sync_interest(room, &poller, mode)?;
    }
    Ok(())
}
// ANCHOR_END: polling_turn

// ANCHOR: drain
/// Edge-triggered reading: read until `WouldBlock`, because no new event will come for the
/// bytes still waiting. Returns true if the budget ran out first (more may be waiting).
fn drain(room: &mut Room, key: usize, buf: &mut [u8]) -> bool {
    if room.config().read_once_per_event {
        // THE BUG: one read per event. What it leaves behind is never reported again.
        room.read(key, buf);
        return false;
    }
    for _ in 0..BUDGET {
        if room.read(key, buf) == ReadOutcome::Done {
            return false; // WouldBlock (or closed): the next edge will tell us
        }
    }
    true
}
// ANCHOR_END: drain

/// Accepts what is waiting, up to a budget; returns true if the budget ran out first. An
/// accept that fails (out of file descriptors, say) would fail again at once on every turn, a
/// spin: accepting pauses for 100 ms instead (`retry`).
fn accept_all(
    l: &TcpListener,
    room: &mut Room,
    poller: &Poller,
    mode: PollMode,
    retry: &mut Option<Instant>,
) -> io::Result<bool> {
    for _ in 0..BUDGET * 4 {
        match l.accept() {
            Ok((stream, _)) => {
                if let Some(key) = room.admit(stream)
                    && let Some(conn) = room.get_mut(key)
                {
                    // SAFETY: the stream is deleted from the poller before it is dropped
                    // (`sync_interest` deletes every stream in `room.closed`).
                    unsafe {
                        poller.add_with_mode(
                            &conn.stream,
                            Event::readable(key + FIRST_CONN),
                            mode,
                        )?
                    };
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::Interrupted | ErrorKind::ConnectionAborted
                ) => {}
            Err(e) => {
                room.note(&format!("accept failed: {e}; pausing accepts for 100 ms"));
                *retry = Some(Instant::now() + Duration::from_millis(100));
                return Ok(false);
            }
        }
    }
    Ok(true)
}

// ANCHOR: sync_interest
/// Write interest only while output waits: ask for it when a flush was blocked, drop it once
/// the outbox is empty. And deregister every closed stream before it is dropped.
fn sync_interest(room: &mut Room, poller: &Poller, mode: PollMode) -> io::Result<()> {
    for stream in room.closed.drain(..) {
        let _ = poller.delete(&stream);
    }
    // Only the connections this turn wrote to can have changed: no scan of the whole room.
    for key in std::mem::take(&mut room.flushed) {
        let Some(conn) = room.get_mut(key) else {
            continue;
        };
        if conn.wants_write() == conn.write_interest {
            continue;
        }
        conn.write_interest = conn.wants_write();
        let event = if conn.write_interest {
            Event::all(key + FIRST_CONN)
        } else {
            Event::readable(key + FIRST_CONN)
        };
        poller.modify_with_mode(&conn.stream, event, mode)?;
    }
    Ok(())
}
// ANCHOR_END: sync_interest
