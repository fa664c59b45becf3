//! Solutions to chapter 8's exercises, with the reasoning behind each choice.

use std::net::Shutdown;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::time::{Duration, Instant};

use lesson_08::{Line, Offer, Room, SHUTTING_DOWN};

// ANCHOR: offer
/// Exercise 8.1: put `line` into one client's outbox, never waiting.
pub fn offer(outbox: &SyncSender<Line>, line: Line) -> Offer {
    // Why `try_send`: the caller holds the room's lock, so a `send` that waits for room in a
    // full outbox would make every other reader wait for the lock, and every other client
    // for its lines: one client that stops reading would stop the chat. `try_send` answers at
    // once, and the caller decides.
    match outbox.try_send(line) {
        Ok(()) => Offer::Queued,
        // Why disconnect rather than drop the line: a client that silently misses lines
        // reads a conversation that never happened. A client that is disconnected knows it,
        // and the others see `* NAME left`. And 1000 lines is far more than a reader that is
        // merely slow falls behind: this one has stopped.
        Err(TrySendError::Full(_)) => Offer::Full,
        // Why not an error: the writer ends when its connection fails, before the reader has
        // noticed and left. The line has nobody to go to; the leave comes soon.
        Err(TrySendError::Disconnected(_)) => Offer::Gone,
    }
}
// ANCHOR_END: offer

// ANCHOR: shut_down
/// Exercise 8.2: stop the room, gracefully and within `grace`.
pub fn shut_down(room: &Room, grace: Duration) {
    // Why a deadline now: the grace period counts from the moment we stop, not per client.
    let deadline = Instant::now() + grace;
    {
        let mut members = room.lock();
        // Why `stopping` and names gone: no join can succeed now, and no leave is announced
        // to a room that is closing anyway.
        members.stopping = true;
        for member in members.clients.values_mut() {
            member.name = None;
            // Why `take` the outbox: the writer ends when its last sender is gone, after
            // sending what is queued. The notice goes in last, so it arrives after the lines
            // already queued. Why `try_send`: a full outbox is a client that stopped reading,
            // and we hold the lock: no waiting for it.
            if let Some(outbox) = member.outbox.take() {
                let _ = outbox.try_send(SHUTTING_DOWN.into());
            }
            // Why shut down the read side only: the reader, blocked in `read`, gets an end of
            // stream and exits (dropping its own sender), while the write side stays open
            // for the writer to finish.
            let _ = member.stream.shutdown(Shutdown::Read);
        }
    } // Why a block: the writers need the lock to say they are done; we must not hold it.
    // Why wait on the room's condition variable: each writer signals as it ends, so we
    // return as soon as the last one has, and no later than the deadline.
    if !room.wait_until_empty(deadline) {
        // Why force: a client that does not read can keep a writer in `write` for ever.
        // Shutting the socket down fails that write, and the writer ends.
        for member in room.lock().clients.values() {
            let _ = member.stream.shutdown(Shutdown::Both);
        }
    }
}
// ANCHOR_END: shut_down
