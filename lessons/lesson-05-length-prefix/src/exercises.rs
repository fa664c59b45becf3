//! Chapter 5 exercises. Check one with `cargo course check 5.1` (5.2, 5.3), or run
//! `cargo course watch`, which checks the next unsolved exercise every time you save.
//!
//! Each item below compiles, but does not yet do what its exercise asks: the checks fail
//! until you change it. The chapter states each task; `cargo course hint 5.1` gives a hint,
//! and once your code passes, `cargo course check` says
//! where the worked answer is.

// The starters of 5.3 do not use their parameters and fields yet: your code will.
#![allow(unused_variables, dead_code)]

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;

use lesson_03::{command_text, run_command, shell_command};

use crate::{MAX_REPLY, ServerConfig};

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

// ANCHOR: frame_format
// Exercise 5.3's frames: the length as ASCII digits, a newline, then that many bytes.
// `hello` is sent as `5␊hello`, and an empty message as `0␊`.

/// The longest frame body accepted (64 MiB, the lesson client's limit).
pub const MAX_FRAME: usize = MAX_REPLY;
/// The most digits a header may have: 8, as many as `MAX_FRAME` has.
pub const MAX_DIGITS: usize = 8;
/// How many bytes a `FrameReader` asks its stream for at a time.
pub const READ_SIZE: usize = 1024;

/// Sends one frame: header and body in one write, so they leave together.
pub fn write_frame(conn: &mut impl Write, body: &[u8]) -> io::Result<()> {
    if body.len() > MAX_FRAME {
        let why = format!("a frame of {} bytes is over MAX_FRAME", body.len());
        return Err(io::Error::new(ErrorKind::InvalidInput, why));
    }
    let mut frame = format!("{}\n", body.len()).into_bytes();
    frame.extend_from_slice(body);
    conn.write_all(&frame)
}

/// The reply to one command: what lesson 5's server sends for it (chapter 3's limits).
pub fn run(command: &[u8]) -> Vec<u8> {
    let limits = ServerConfig::default().limits;
    match command_text(command).and_then(|c| run_command(shell_command(c), &limits)) {
        Ok(outcome) => outcome.output_with_notes(),
        Err(e) => format!("[remote shell: could not run the command: {e}]\n").into_bytes(),
    }
}
// ANCHOR_END: frame_format

// ANCHOR: try_parse_frame
/// Exercise 5.3, part 1: look for one whole frame at the start of `buffer`.
///
/// `Ok(Some((body, used)))`: a whole frame is there; `used` counts its bytes, header
/// included. `Ok(None)`: not yet, the header or the body is cut short; that is not an error.
/// An `ErrorKind::InvalidData` error: the bytes can never be a frame (the header is not 1 to
/// `MAX_DIGITS` digits and a newline), or the length is over `MAX_FRAME`. Fail as soon as the
/// bytes show it, without waiting for more: when a byte before the newline is not a digit,
/// when there are more than `MAX_DIGITS` digits, and when a whole header has a length over
/// `MAX_FRAME` (do not wait for its body).
pub fn try_parse_frame(buffer: &[u8]) -> io::Result<Option<(Vec<u8>, usize)>> {
    // TODO: find the newline, check the digits and the length, then look for the whole body.
    todo!("parse one frame from the start of the buffer")
}
// ANCHOR_END: try_parse_frame

// ANCHOR: frame_reader
/// Exercise 5.3, part 2: the frames on a stream, however they were cut into reads.
///
/// `next_frame` returns the next frame's body, or `Ok(None)` when the stream ends between two
/// frames. A stream that ends inside a frame is an `ErrorKind::UnexpectedEof` error. Bytes
/// read past the end of a frame stay in `buffer`, for the next call.
#[derive(Debug)]
pub struct FrameReader<R> {
    stream: R,
    buffer: Vec<u8>,
}

impl<R: Read> FrameReader<R> {
    pub fn new(stream: R) -> FrameReader<R> {
        FrameReader {
            stream,
            buffer: Vec::new(),
        }
    }

    pub fn next_frame(&mut self) -> io::Result<Option<Vec<u8>>> {
        // TODO: a loop: parse what is buffered; if there is no whole frame, read up to
        // READ_SIZE more bytes onto the end of the buffer.
        todo!("buffer, try to parse, else read more")
    }
}
// ANCHOR_END: frame_reader

// ANCHOR: pipeline
/// Exercise 5.3, part 3: the server. Read the command frames on `conn` one by one, and answer
/// each with a frame holding `run(command)`, in order. When the client closes between two
/// frames, return `Ok(())`.
pub fn serve_frames(conn: TcpStream) -> io::Result<()> {
    // TODO: a FrameReader on `&conn` to read, `write_frame(&mut &conn, …)` to answer.
    todo!("answer every command frame")
}

/// Exercise 5.3, part 4: the client. Send every command as a frame, all of them before you
/// read any reply (that is pipelining), then read one reply frame per command. Return the
/// replies in the order of the commands.
pub fn pipeline(conn: TcpStream, commands: &[&str]) -> io::Result<Vec<Vec<u8>>> {
    // TODO: first all the writes, then all the reads.
    todo!("send every command, then read every reply")
}
// ANCHOR_END: pipeline
