//! Chapter 5 exercises. Check your work with `cargo exercise lesson-05`.
//!
//! Each function below compiles and runs, but does what the original tutorial did, not what
//! its exercise asks: the checks fail until you change it. The chapter states each task and
//! gives a hint; `solutions/solution-05-length-prefix` has a worked answer.

use std::io::{self, Read, Write};

// ANCHOR: recv_exact
/// Exercise 5.1: receive exactly `n` bytes.
///
/// Return a vector of exactly `n` bytes, read from `conn`, however the bytes arrive: in one
/// piece or in many. Never read past the `n`th byte (what follows belongs to someone else).
/// If the stream ends before `n` bytes came, fail with `ErrorKind::UnexpectedEof`; if a read
/// is interrupted (`ErrorKind::Interrupted`), try it again. For `n == 0`, do not read at all.
pub fn recv_exact(conn: &mut impl Read, n: usize) -> io::Result<Vec<u8>> {
    // TODO: one read returns what has arrived so far, not necessarily n bytes.
    let mut buf = vec![0u8; n];
    let got = conn.read(&mut buf)?;
    buf.truncate(got);
    Ok(buf)
}
// ANCHOR_END: recv_exact

// ANCHOR: send_all
/// Exercise 5.2: send all of `data`.
///
/// Hand every byte of `data` to `conn`, in order, however few bytes each `write` accepts. If
/// a write is interrupted, try it again. A write that accepts 0 bytes of a non-empty buffer
/// will never accept more: fail with `ErrorKind::WriteZero` instead of trying for ever. For
/// empty `data`, do not write at all.
pub fn send_all(conn: &mut impl Write, data: &[u8]) -> io::Result<()> {
    // TODO: like Python's `send`, one write may take only the beginning of `data`.
    let _sent = conn.write(data)?;
    Ok(())
}
// ANCHOR_END: send_all
