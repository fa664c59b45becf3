//! Chapter 8 exercises. Check one with `cargo course check 8.1` (or 8.2), or run
//! `cargo course watch`, which checks the next unsolved exercise every time you save.
//!
//! Each item below compiles, but does not yet do what its exercise asks: the checks fail
//! until you change it. The checks run the lesson's server with your function in place of
//! the lesson's own (`Config { offer, shut_down, .. }`). The chapter states each task;
//! `cargo course hint 8.1` gives a hint.

use std::net::Shutdown;
use std::sync::mpsc::SyncSender;
use std::time::Duration;

use crate::{Line, Offer, Room};

// ANCHOR: offer
/// Exercise 8.1: put `line` into one client's outbox, never waiting.
///
/// The caller holds the room's lock. Return `Offer::Queued` if the line is in the outbox,
/// `Offer::Full` if the outbox already holds `OUTBOX_LIMIT` lines (the room then disconnects
/// that client), and `Offer::Gone` if the client's writer has ended.
pub fn offer(outbox: &SyncSender<Line>, line: Line) -> Offer {
    // TODO: `send` waits while the outbox is full, with the room locked.
    match outbox.send(line) {
        Ok(()) => Offer::Queued,
        Err(_) => Offer::Gone,
    }
}
// ANCHOR_END: offer

// ANCHOR: shut_down
/// Exercise 8.2: stop the room, gracefully and within `grace`.
///
/// The server has stopped accepting. Every client must get `SHUTTING_DOWN` after whatever is
/// already in its outbox; each connection closes once its outbox is sent; new lines are no
/// longer taken; and this function returns by `grace` at the latest, having shut down
/// whatever is still open.
pub fn shut_down(room: &Room, grace: Duration) {
    // TODO: tell, let the writers drain, wait (bounded), then force what is left.
    let _ = grace;
    for member in room.lock().clients.values() {
        let _ = member.stream.shutdown(Shutdown::Both);
    }
}
// ANCHOR_END: shut_down
