//! Solutions to chapter 5's exercises, with the reasoning behind each choice.

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;

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

// Exercise 5.3's given parts: the frame format, `write_frame` and `run`, as the lesson has them.
pub use lesson_05::exercises::{MAX_DIGITS, MAX_FRAME, READ_SIZE, run, write_frame};

// ANCHOR: try_parse_frame
/// Exercise 5.3, part 1: one whole frame from the start of `buffer`, if it is there.
pub fn try_parse_frame(buffer: &[u8]) -> io::Result<Option<(Vec<u8>, usize)>> {
    let invalid = |why: String| Err(io::Error::new(ErrorKind::InvalidData, why));
    // Why look for the newline in the first MAX_DIGITS + 1 bytes only: no header is longer.
    // A peer that sends digits and never a newline must not make us wait, and buffer, for ever.
    let head = &buffer[..buffer.len().min(MAX_DIGITS + 1)];
    let newline = head.iter().position(|&b| b == b'\n');
    let digits = &head[..newline.unwrap_or(head.len())];
    // Why check the digits before the newline has come: a byte that is not a digit will never
    // become one. Waiting for the newline would delay the same answer, or wait for ever if the
    // peer sends nothing more.
    if !digits.iter().all(u8::is_ascii_digit) {
        return invalid(format!(
            "a frame header is not a number: \"{}\"",
            head.escape_ascii()
        ));
    }
    if digits.len() > MAX_DIGITS {
        return invalid(format!("a frame header has more than {MAX_DIGITS} digits"));
    }
    let Some(newline) = newline else {
        // Why not an error: the header was cut by the network, and the rest is on its way.
        return Ok(None);
    };
    if digits.is_empty() {
        return invalid("a frame header has no digits".to_string());
    }
    // At most 8 digits: the number fits in a usize, so this cannot overflow.
    let length = digits.iter().fold(0, |n, d| n * 10 + usize::from(d - b'0'));
    // Why refuse now, with the body still to come: the length says how much we must keep in
    // memory. A peer that announces 99999999 bytes is refused before it sends one of them.
    if length > MAX_FRAME {
        return invalid(format!(
            "a frame of {length} bytes is over MAX_FRAME ({MAX_FRAME})"
        ));
    }
    let end = newline + 1 + length;
    // Why Ok(None) again: a body cut short is the same case as a header cut short.
    if buffer.len() < end {
        return Ok(None);
    }
    Ok(Some((buffer[newline + 1..end].to_vec(), end)))
}
// ANCHOR_END: try_parse_frame

// ANCHOR: frame_reader
/// Exercise 5.3, part 2: the frames on a stream, however they were cut into reads.
#[derive(Debug)]
pub struct FrameReader<R> {
    stream: R,
    // Why the buffer lives as long as the reader: a read can return the end of one frame and
    // the start of the next. Those bytes are ours now; the socket will not give them again.
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
        let mut chunk = [0u8; READ_SIZE];
        loop {
            // Why parse BEFORE reading: the last read may have brought two frames. The second
            // is here already, and its sender may send nothing more until it gets a reply:
            // a read now would wait for bytes that never come.
            if let Some((body, used)) = try_parse_frame(&self.buffer)? {
                // Why remove only `used` bytes: the rest is the next frame, or its start.
                self.buffer.drain(..used);
                return Ok(Some(body));
            }
            // No whole frame yet. Not enough data is not an error: read more, and try again.
            let n = match self.stream.read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if n == 0 {
                // Why 0 is fine only with an empty buffer: then the peer closed between two
                // frames, the normal end. Bytes in the buffer are a frame it never finished.
                if self.buffer.is_empty() {
                    return Ok(None);
                }
                let why = format!(
                    "the stream ended inside a frame ({} bytes of it came)",
                    self.buffer.len()
                );
                return Err(io::Error::new(ErrorKind::UnexpectedEof, why));
            }
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }
}
// ANCHOR_END: frame_reader

// ANCHOR: serve_frames
/// Exercise 5.3, part 3: the server, one reply frame per command frame.
pub fn serve_frames(conn: TcpStream) -> io::Result<()> {
    // Why `&conn` twice: a `&TcpStream` can read and write, so the reader borrows the socket
    // to read, and the replies go out through a second borrow of the same socket.
    let mut frames = FrameReader::new(&conn);
    let mut out = &conn;
    // Why `while let`: `Ok(None)` is the client closing between two commands, the normal end.
    // A bad header or a half frame is an error, and `?` ends the conversation with it.
    while let Some(command) = frames.next_frame()? {
        // Why no `recv_ready`: the reply's header ends with a newline, so the client finds
        // where the length ends by itself. No handshake, no round trip per command.
        // Why answer each frame at once: the server cannot know if more commands are coming,
        // and a client that waits for this reply sends nothing more until it has it.
        write_frame(&mut out, &run(&command))?;
    }
    Ok(())
}
// ANCHOR_END: serve_frames

// ANCHOR: pipeline
/// Exercise 5.3, part 4: the client. All the commands, then all the replies.
pub fn pipeline(conn: TcpStream, commands: &[&str]) -> io::Result<Vec<Vec<u8>>> {
    // Why frame every command into one buffer and send it with one write: the commands leave
    // together, and Nagle's algorithm (chapter 4) has no small writes to hold back.
    let mut batch = Vec::new();
    for command in commands {
        write_frame(&mut batch, command.as_bytes())?;
    }
    // Why writing everything before reading cannot get stuck here: the commands are small, so
    // they fit in the sockets' buffers while the replies wait for us. A client that pipelines
    // megabytes must read while it writes (a second thread, or an event loop).
    (&conn).write_all(&batch)?;
    let mut frames = FrameReader::new(&conn);
    let mut replies = Vec::with_capacity(commands.len());
    for _ in commands {
        // Why the end of the stream is an error here: the server owes us one reply per command.
        match frames.next_frame()? {
            Some(reply) => replies.push(reply),
            None => {
                let why = format!(
                    "the server closed the connection after {} of {} replies",
                    replies.len(),
                    commands.len()
                );
                return Err(io::Error::new(ErrorKind::UnexpectedEof, why));
            }
        }
    }
    Ok(replies)
}
// ANCHOR_END: pipeline
