//! Solutions to chapter 5's exercises, with the reasoning behind each choice.

use std::io::{self, ErrorKind, Read, Write};

// ANCHOR: recv_exact
/// Exercise 5.1: receive exactly `n` bytes.
pub fn recv_exact(conn: &mut impl Read, n: usize) -> io::Result<Vec<u8>> {
    // Why allocate `n` at once: the caller decided `n` (after checking it, as `parse_length`
    // does with its cap), so this is the memory the message needs anyway. Never call this
    // with a length nobody checked.
    let mut buf = vec![0u8; n];
    let mut filled = 0;
    // Why a loop: `read` returns whatever has arrived, from 1 byte up to the buffer's size.
    // Each round asks only for what is still missing, `buf[filled..]`, so the loop can never
    // take a byte past the `n`th: that byte belongs to the next message.
    // Why `while filled < n` also covers `n == 0`: the loop never runs, so we never call
    // `read` with an empty buffer, whose `Ok(0)` would look like the end of the stream.
    while filled < n {
        match conn.read(&mut buf[filled..]) {
            // Why 0 is an error here: it means the stream has ended, and no more bytes will
            // ever come. Returning the short buffer would hand the caller a message that
            // looks whole and is not. UnexpectedEof names the problem exactly.
            Ok(0) => {
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    format!("the stream ended after {filled} of {n} bytes"),
                ));
            }
            // Why `+=`: count what this read actually returned, not what we asked for (the
            // original's loop gets this right with `recv_size += len(data)`).
            Ok(got) => filled += got,
            // Why retry: a signal arrived before any data did; nothing was read and nothing
            // is wrong. Every other error is real, and goes to the caller.
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(buf)
}
// ANCHOR_END: recv_exact

// ANCHOR: send_all
/// Exercise 5.2: send all of `data`.
pub fn send_all(conn: &mut impl Write, mut data: &[u8]) -> io::Result<()> {
    // Why a loop: `write` returns how many bytes it accepted, which may be fewer than it was
    // given (a full send buffer and a timeout, a signal, a non-blocking socket). Python's
    // `send` is the same, and the original's servers ignore its result: a long reply could
    // lose its end without anyone noticing. `sendall`, like this loop, keeps going.
    // Why `while !data.is_empty()`: an empty message needs no write at all.
    while !data.is_empty() {
        match conn.write(data) {
            // Why 0 is an error: a writer that takes nothing of a non-empty buffer will take
            // nothing next time either. Looping would spin for ever; WriteZero says why.
            Ok(0) => {
                return Err(io::Error::new(
                    ErrorKind::WriteZero,
                    "the connection accepted 0 bytes",
                ));
            }
            // Why re-slice: the accepted bytes are gone; the next write starts right after
            // them, so nothing is sent twice and nothing is skipped.
            Ok(sent) => data = &data[sent..],
            // Why retry: interrupted before anything was written; try again.
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
// ANCHOR_END: send_all
