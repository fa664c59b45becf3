//! Solutions to chapter 6's exercises, with the reasoning behind each choice.

use std::io::{self, ErrorKind, Read, Write};

use lesson_06::CHUNK_SIZE;

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
