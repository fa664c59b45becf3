//! Worked solutions to chapter 9's exercises. Each says why it is written the way it is.

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Write};
use std::rc::Rc;

pub use lesson_09::{Flushed, LineTooLong, MAX_LINE};

// ANCHOR: decode_lines
/// Exercise 9.1: the buffered decoder.
pub fn decode_lines(
    partial: &mut Vec<u8>,
    incoming: &[u8],
    lines: &mut Vec<Vec<u8>>,
) -> Result<(), LineTooLong> {
    let mut rest = incoming;
    while let Some(end) = rest.iter().position(|&b| b == b'\n') {
        // Why `take`: the line's start may have come in an earlier read and waits in
        // `partial`; taking it leaves `partial` empty for the next line, with no copy.
        let mut line = std::mem::take(partial);
        line.extend_from_slice(&rest[..end]);
        rest = &rest[end + 1..];
        // Why only here: a `\r` is dropped only when the `\n` follows it, and the two may
        // have come in different reads; a `\r` inside a line is the sender's business.
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        // Why check whole lines too: 2,000 bytes and a newline can come in one read.
        if line.len() > MAX_LINE {
            return Err(LineTooLong);
        }
        lines.push(line);
    }
    partial.extend_from_slice(rest);
    // Why not wait for the newline: a client that never sends one would make the server hold
    // an endless line. 1025 bytes without a newline is already too long, unless the 1025th
    // is a `\r` whose `\n` has not come yet (1024 bytes then `\r\n` is allowed).
    let cr_may_end_it = partial.len() == MAX_LINE + 1 && partial.last() == Some(&b'\r');
    if partial.len() > MAX_LINE && !cr_may_end_it {
        return Err(LineTooLong);
    }
    Ok(())
}
// ANCHOR_END: decode_lines

// ANCHOR: flush_outbox
/// Exercise 9.2: the write side.
pub fn flush_outbox(
    conn: &mut impl Write,
    outbox: &mut VecDeque<Rc<[u8]>>,
    sent: &mut usize,
) -> io::Result<Flushed> {
    while let Some(front) = outbox.front() {
        // Why `[*sent..]`: an earlier write took the start of this message; sending it again
        // would duplicate bytes in the middle of the stream.
        let n = match conn.write(&front[*sent..]) {
            // Why an error: a write that takes nothing of a non-empty buffer never will.
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => n,
            // Why not an error: the socket's buffer is full. The loop asks poll for POLLOUT
            // and calls again when there is room; `sent` remembers where to resume.
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(Flushed::Blocked),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        *sent += n;
        // Why pop only now: a message leaves the queue once its last byte is written, and
        // the next one starts at its first byte.
        if *sent == front.len() {
            outbox.pop_front();
            *sent = 0;
        }
    }
    // Why say so: with nothing left to write, POLLOUT would wake a level-triggered loop at
    // once, every time (a socket with room is always writable): drop write interest.
    Ok(Flushed::Empty)
}
// ANCHOR_END: flush_outbox
