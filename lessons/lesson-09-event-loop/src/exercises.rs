//! Chapter 9 exercises. Check one with `cargo course check 9.1` (or 9.2), or run
//! `cargo course watch`, which checks the next unsolved exercise every time you save.
//!
//! Each item below compiles, but does not yet do what its exercise asks: the checks fail
//! until you change it. The chapter states each task; `cargo course hint 9.1` gives a hint.

// The starters do not use every parameter yet: your code will.
#![allow(unused_variables)]

use std::collections::VecDeque;
use std::io::{self, Write};
use std::rc::Rc;

pub use crate::{Flushed, LineTooLong, MAX_LINE};

// ANCHOR: decode_lines
/// Exercise 9.1: the buffered decoder.
///
/// `partial` holds what this connection sent after its last newline; `incoming` is what one
/// read returned. Push every complete line onto `lines`, without its `\n` and without a `\r`
/// just before it, in order. Keep what follows the last newline in `partial`, for the next
/// call. A line longer than `MAX_LINE` bytes is `Err(LineTooLong)`, as soon as you know it:
/// at the 1025th byte without a newline (unless that byte is the `\r` of a `\r\n`).
/// Lines before the long one still go onto `lines`.
#[allow(clippy::ptr_arg)] // `partial` is a Vec because your code will make it grow
pub fn decode_lines(
    partial: &mut Vec<u8>,
    incoming: &[u8],
    lines: &mut Vec<Vec<u8>>,
) -> Result<(), LineTooLong> {
    // TODO: one read can end in the middle of a line, or hold many.
    for line in incoming.split(|&b| b == b'\n') {
        if !line.is_empty() {
            lines.push(line.to_vec());
        }
    }
    Ok(())
}
// ANCHOR_END: decode_lines

// ANCHOR: flush_outbox
/// Exercise 9.2: the write side.
///
/// Write as much of `outbox` as the non-blocking `conn` takes, front first. `sent` is how many
/// bytes of `outbox[0]` an earlier write already took. Pop each message once it is wholly
/// written, and keep `sent` right for the next call. Return `Flushed::Empty` when the outbox
/// is empty (the loop drops write interest), `Flushed::Blocked` when `conn` says `WouldBlock`
/// (it keeps write interest). Retry `Interrupted`; any other error is returned.
pub fn flush_outbox(
    conn: &mut impl Write,
    outbox: &mut VecDeque<Rc<[u8]>>,
    sent: &mut usize,
) -> io::Result<Flushed> {
    // TODO: a write may take only part of a message, or nothing (WouldBlock).
    while let Some(message) = outbox.pop_front() {
        let _written = conn.write(&message)?;
    }
    Ok(Flushed::Empty)
}
// ANCHOR_END: flush_outbox
