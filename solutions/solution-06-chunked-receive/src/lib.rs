//! Solutions to chapter 6's exercises, with the reasoning behind each choice.

use std::io::{self, ErrorKind, Read, Write};

use lesson_06::{CHUNK_SIZE, MAX_LENGTH_DIGITS};

/// The most bytes a LEB128 varint for a `u64` can take: 64 bits, 7 per byte.
const MAX_VARINT_BYTES: usize = 10;

// ANCHOR: varint_send
/// Exercise 6.1: a varint length prefix, then the payload, in one write.
pub fn send_varint_frame(conn: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    let mut frame = Vec::with_capacity(MAX_VARINT_BYTES + payload.len());
    let mut length = payload.len() as u64;
    // Why low bits first: the receiver can add each byte's 7 bits in as it arrives
    // (`value |= bits << shift`) without knowing yet how many bytes will follow.
    loop {
        let low = (length & 0x7f) as u8;
        length >>= 7;
        if length == 0 {
            // Why the high bit is clear on the last byte only: it is the varint's own end
            // mark. That is what the classic protocol's ASCII digits lack: the receiver knows
            // the length is complete without waiting for anything else.
            frame.push(low);
            break;
        }
        frame.push(low | 0x80);
    }
    frame.extend_from_slice(payload);
    // Why one buffer and one write: two small writes (length, then body) can wait for an
    // acknowledgement under Nagle's algorithm; the chapter's benchmark shows the cost.
    conn.write_all(&frame)
}
// ANCHOR_END: varint_send

// ANCHOR: varint_recv
/// Exercise 6.1: receive one varint-framed message.
pub fn recv_varint_frame(conn: &mut impl Read, max: u64) -> io::Result<Vec<u8>> {
    let mut length = 0u64;
    let mut complete = false;
    // Why a limit on the count: a stream of 0x80 bytes never ends a varint. Without a limit
    // we would read forever (and the shift would run past 63 bits).
    for shift in (0..MAX_VARINT_BYTES as u32).map(|i| i * 7) {
        // Why one byte at a time: we do not know how long the varint is until we see its last
        // byte, and a bigger read could swallow the payload's first bytes (or the next
        // frame's, for an empty payload). `read_exact` on one byte also handles EOF for us.
        let mut byte = [0u8; 1];
        conn.read_exact(&mut byte).map_err(|e| match e.kind() {
            ErrorKind::UnexpectedEof => io::Error::new(
                ErrorKind::UnexpectedEof,
                "the connection closed inside a varint length",
            ),
            _ => e,
        })?;
        let bits = u64::from(byte[0] & 0x7f);
        // Why shift back and compare: the tenth byte may carry only one bit of a u64; the
        // shift would silently drop the others.
        let shifted = bits << shift;
        if shifted >> shift != bits {
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                "a varint length that does not fit in 64 bits",
            ));
        }
        length |= shifted;
        if byte[0] & 0x80 == 0 {
            complete = true;
            break;
        }
    }
    if !complete {
        return Err(io::Error::new(
            ErrorKind::InvalidData,
            format!("a varint length longer than {MAX_VARINT_BYTES} bytes"),
        ));
    }
    // ANCHOR_END: varint_recv
    // ANCHOR: varint_payload
    // Why check before reading the payload: the number came from the network. Refusing it
    // here costs nothing; allocating it first could cost all our memory.
    if length > max {
        return Err(io::Error::new(
            ErrorKind::InvalidData,
            format!("a frame of {length} bytes is over the limit of {max}"),
        ));
    }
    // Why `take` + `read_to_end` and then a length check: `take` makes it impossible to read
    // past the frame, and `read_to_end` grows the buffer as bytes arrive instead of trusting
    // `length` with an allocation up front.
    let mut payload = Vec::new();
    conn.take(length).read_to_end(&mut payload)?;
    if payload.len() as u64 != length {
        return Err(io::Error::new(
            ErrorKind::UnexpectedEof,
            format!(
                "the connection closed after {} of {length} payload bytes",
                payload.len()
            ),
        ));
    }
    Ok(payload)
}
// ANCHOR_END: varint_payload

// ANCHOR: recv_to_writer
/// Exercise 6.2: receive a reply straight into a writer, one chunk at a time.
pub fn recv_to_writer(conn: &mut impl Read, length: u64, out: &mut impl Write) -> io::Result<u64> {
    // Why one fixed buffer: memory use is 1 KiB whatever `length` says, so a 10 GB reply can
    // go to a file, and a lying length cannot make us allocate anything.
    let mut buf = [0u8; CHUNK_SIZE];
    let mut remaining = length;
    let mut reads = 0;
    while remaining > 0 {
        // Why `min` with what remains: the byte after this reply is someone else's. (Compare
        // in u64 first: `remaining` may be far larger than any usize on a 32-bit machine.)
        let want = remaining.min(CHUNK_SIZE as u64) as usize;
        let n = match conn.read(&mut buf[..want]) {
            Ok(0) => {
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    format!(
                        "the connection closed after {} of {length} bytes",
                        length - remaining
                    ),
                ));
            }
            Ok(n) => n,
            // Why retry: an interrupted read received nothing; it is not a failure.
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        reads += 1;
        // Why pass it on now, and with `write_all`: the writer may be a file or a terminal,
        // and a `write` may take only part of a chunk.
        out.write_all(&buf[..n])?;
        remaining -= n as u64;
    }
    Ok(reads)
}
// ANCHOR_END: recv_to_writer

// ANCHOR: send_chunked
/// Exercise 6.3, the server's side: each read of `input` goes out at once, as one chunk.
pub fn send_chunked(
    conn: &mut impl Write,
    input: &mut impl Read,
    max_chunk: usize,
) -> io::Result<u64> {
    if max_chunk == 0 {
        // Why refuse: a 0-byte read means "no more input", so no data would ever be sent.
        return Err(io::Error::new(
            ErrorKind::InvalidInput,
            "max_chunk must be at least 1",
        ));
    }
    // Why one fixed buffer: the sender holds one chunk, never the whole output.
    let mut buf = vec![0u8; max_chunk];
    let mut frame = Vec::with_capacity(max_chunk + MAX_LENGTH_DIGITS + 1);
    let mut sent = 0u64;
    loop {
        // Why ONE read per chunk, and no loop to fill the buffer: what this read returns is
        // ready now. A second read could wait minutes for output that does not exist yet,
        // while the client sees nothing.
        let n = match input.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        // Why 0 is never a data chunk: `0\n` is the end mark. A read returns 0 only at the
        // end of the input, which is exactly when the end mark goes out.
        if n == 0 {
            break;
        }
        // Why header and data in one buffer and one write: two small writes can wait ~40 ms
        // for an acknowledgement (Nagle's algorithm; the chapter's benchmark).
        frame.clear();
        frame.extend_from_slice(format!("{n}\n").as_bytes());
        frame.extend_from_slice(&buf[..n]);
        conn.write_all(&frame)?;
        // Why flush: if `conn` is buffered, a chunk still in its buffer has not been sent.
        conn.flush()?;
        sent += n as u64;
    }
    conn.write_all(b"0\n")?;
    conn.flush()?;
    Ok(sent)
}
// ANCHOR_END: send_chunked

// ANCHOR: recv_chunked_into
/// Exercise 6.3, the client's side: chunk by chunk into `out`, until the end chunk.
pub fn recv_chunked_into(
    conn: &mut impl Read,
    out: &mut impl Write,
    max_chunk: usize,
) -> io::Result<u64> {
    let mut received = 0u64;
    loop {
        let length = recv_chunk_header(conn, max_chunk)?;
        // Why stop here: `0\n` is the sender's "that was all". Reading on would take the
        // next message's bytes, or wait for bytes that will never come.
        if length == 0 {
            return Ok(received);
        }
        // Why 6.2's `recv_to_writer`: exactly `length` bytes, through a 1 KiB buffer, each
        // piece passed on as it arrives. Memory stays 1 KiB whatever `max_chunk` is, and an
        // early end of stream is already `UnexpectedEof`.
        recv_to_writer(conn, length, out)?;
        // Why flush: whoever reads `out` (a terminal, a file) sees each chunk when it comes.
        out.flush()?;
        received += length;
    }
}
// ANCHOR_END: recv_chunked_into

// ANCHOR: chunk_header
// Why this format, `5\nhello` … `0\n`: it is this chapter's length, in the decimal digits the
// classic protocol sends, with the end mark that protocol lacks, so the receiver knows where a
// length ends without waiting. Nothing follows the data: the length says where it ends.
// HTTP/1.1's chunked coding is the same idea, with the length in hex and `\r\n` after the
// length and after the data (RFC 9112, section 7.1).
/// Reads one chunk header, digits then `\n`, and refuses it as soon as it cannot be right.
fn recv_chunk_header(conn: &mut impl Read, max_chunk: usize) -> io::Result<u64> {
    let invalid = |why: String| io::Error::new(ErrorKind::InvalidData, why);
    let (mut length, mut digits) = (0u64, 0);
    loop {
        // Why one byte at a time: only the `\n` says where the header ends. A bigger read
        // could take data bytes, or, after `0\n`, the next message's.
        let mut byte = [0u8; 1];
        conn.read_exact(&mut byte).map_err(|e| match e.kind() {
            ErrorKind::UnexpectedEof => io::Error::new(
                ErrorKind::UnexpectedEof,
                "the connection closed before the end chunk (0 and a newline)",
            ),
            _ => e,
        })?;
        match byte[0] {
            b'\n' if digits > 0 => return Ok(length),
            digit @ b'0'..=b'9' if digits < MAX_LENGTH_DIGITS => {
                digits += 1;
                length = length
                    .saturating_mul(10)
                    .saturating_add(u64::from(digit - b'0'));
                // Why check at every digit: the number comes from the network. A header of a
                // million 9s is refused after a few bytes, before any data is read.
                if length > max_chunk as u64 {
                    return Err(invalid(format!(
                        "a chunk of over {max_chunk} bytes announced"
                    )));
                }
            }
            other => {
                return Err(invalid(format!(
                    "a chunk header must be digits and a newline; got \"{}\"",
                    [other].escape_ascii()
                )));
            }
        }
    }
}
// ANCHOR_END: chunk_header
