//! Chapter 6 exercises. Check one with `cargo course check 6.1` (6.2, 6.3), or run
//! `cargo course watch`, which checks the next unsolved one every time you save.
//!
//! Each function below compiles, but stops with `todo!`: the checks fail until you write it.
//! The chapter states each task; `cargo course hint 6.1` shows a hint, and
//! once your code passes, `cargo course check` says
//! where the worked answer is.

#![allow(unused_variables)]

use std::io::{self, Read, Write};

// ANCHOR: varint
/// Exercise 6.1: a varint length prefix.
///
/// Send `payload` as one frame: its length as an unsigned LEB128 varint (7 bits per byte, low
/// bits first, the high bit set on every byte but the last), then the payload, in ONE write.
pub fn send_varint_frame(conn: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    todo!("encode payload.len() as a varint, then write varint + payload in one write_all")
}

/// Receive one frame sent by [`send_varint_frame`]. A length above `max`, or a varint of more
/// than 10 bytes, is `InvalidData` (refused before the payload is read); end of stream before
/// the frame is complete is `UnexpectedEof`. Never read past the frame's end.
pub fn recv_varint_frame(conn: &mut impl Read, max: u64) -> io::Result<Vec<u8>> {
    todo!("read the varint one byte at a time, check it, then read exactly that many bytes")
}
// ANCHOR_END: varint

// ANCHOR: recv_to_writer
/// Exercise 6.2: receive a reply straight into a writer.
///
/// Copy exactly `length` bytes from `conn` to `out` through one buffer of
/// [`CHUNK_SIZE`](crate::CHUNK_SIZE) bytes: never ask `conn` for more than a chunk or than what
/// remains, and pass each chunk on to `out` as soon as it arrives. Return how many reads it
/// took. End of stream before `length` bytes is `UnexpectedEof`.
pub fn recv_to_writer(conn: &mut impl Read, length: u64, out: &mut impl Write) -> io::Result<u64> {
    todo!("loop: read at most min(1024, remaining) bytes, write them to out, count the reads")
}
// ANCHOR_END: recv_to_writer

// ANCHOR: chunked_transfer
/// Exercise 6.3, the server's side: send what `input` gives, as chunks, as soon as it comes.
///
/// A chunk is its length in decimal digits, `\n`, then that many bytes (`5\nhello`); `0\n`
/// ends the body. Send a chunk for each `input.read` (at most `max_chunk` bytes), header and
/// data in ONE write, before reading more. Return how many bytes of `input` were sent.
pub fn send_chunked(
    conn: &mut impl Write,
    input: &mut impl Read,
    max_chunk: usize,
) -> io::Result<u64> {
    todo!("loop: one read of input, one write of that chunk; at the end, the end chunk")
}

/// Exercise 6.3, the client's side: receive one chunked body, passing each chunk on to `out`.
///
/// A header that is not digits and `\n`, or a length above `max_chunk`, is `InvalidData`,
/// refused before any of its data is read. End of stream before `0\n` is `UnexpectedEof`.
/// Never read past `0\n`. Return how many bytes of data were received.
pub fn recv_chunked_into(
    conn: &mut impl Read,
    out: &mut impl Write,
    max_chunk: usize,
) -> io::Result<u64> {
    todo!("loop: read a header byte by byte, check it, copy that many bytes to out; stop at 0")
}
// ANCHOR_END: chunked_transfer
