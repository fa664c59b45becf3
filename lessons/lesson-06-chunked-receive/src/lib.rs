//! Lesson 6: chunked receive.
//!
//! The wire format is lesson 5's, the classic length prefix: the client sends a command, the
//! server answers with the output's length in ASCII digits, the client says `recv_ready`, and
//! the server sends exactly that many bytes. What this lesson changes is how the client takes
//! those bytes: not with one read, which returns whatever has arrived so far, but with a loop of
//! reads of at most 1024 bytes, the last one sized to what remains, until the announced length
//! is complete. That is the original tutorial's "plan two", and it is how every framed protocol
//! receives a message.
//!
//! The library also holds the same receive written with std's `read_exact`, and the next step:
//! a 4-byte binary length header, which closes the classic protocol's last hole (the length
//! itself is unframed) and saves the handshake's round trip.

use std::io::{self, BufRead, ErrorKind, Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use course_cli::next_command;
use lesson_03::{Limits, Outcome, command_text, describe, run_command, shell_command};

pub mod demo;
pub mod exercises;

/// The address the lesson's server binds when none is given: loopback, so only programs on
/// this machine can connect.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// The most the client asks for in one read, and the size of the server's one read for a
/// command.
pub const CHUNK_SIZE: usize = 1024;

/// What the client sends once it knows the length: "I am ready for the data".
pub const ACK: &[u8] = b"recv_ready";

/// The longest reply the client accepts (64 MiB). A length above it is refused before a single
/// byte of the reply is read or allocated.
pub const MAX_REPLY: usize = 64 * 1024 * 1024;

/// The most digits a length message may have. `u64::MAX` has 20; anything longer is not a
/// length, whatever its value.
pub const MAX_LENGTH_DIGITS: usize = 20;

/// How many bytes of a command's output the server keeps (8 MiB); the rest is counted, dropped,
/// and mentioned in a note at the end of the reply.
pub const DEFAULT_MAX_OUTPUT: usize = 8 * 1024 * 1024;

/// How long the server waits on a silent client (for a command, an acknowledgement, or room to
/// write) before it gives up on that connection and serves the next one. Five minutes: a person
/// reading the book between two commands counts as silent, and must not lose the session.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// How long the client waits for the server. It must be longer than the server's time limit for
/// a command (10 s by default), or a slow command would look like a dead server.
pub const DEFAULT_CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

/// The largest payload the 4-byte header framing accepts unless told otherwise (64 MiB).
pub const MAX_FRAME: usize = 64 * 1024 * 1024;

/// What the server allows: per command (lesson 3's limits), and per connection.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The time limit and output cap for each command.
    pub limits: Limits,
    /// How long any one read or write on a connection may wait.
    pub idle_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            limits: Limits {
                timeout: lesson_03::DEFAULT_TIMEOUT,
                max_output: DEFAULT_MAX_OUTPUT,
            },
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }
}

/// The warning the server prints when it listens anywhere but loopback: chapter 3's, since
/// this server runs commands for whoever connects just as that one did.
pub use lesson_03::exposure_warning;

// ---- The server ----

/// The connection loop: serve clients one after another, forever.
pub fn connection_loop(
    listener: &TcpListener,
    settings: &Settings,
    log: &mut impl FnMut(String),
) -> ! {
    loop {
        serve_one(listener, settings, log);
    }
}

/// Waits for one client and runs its commands until it leaves, misbehaves or falls silent.
pub fn serve_one(listener: &TcpListener, settings: &Settings, log: &mut impl FnMut(String)) {
    let (mut conn, peer) = match listener.accept() {
        Ok(accepted) => accepted,
        Err(e) => return log(format!("accept failed: {e}")),
    };
    log(format!("connected from {peer}"));
    // One client at a time: a client that goes quiet must not hold the server forever. Every
    // read and every write on this connection gives up after the idle timeout.
    let timeouts = conn
        .set_read_timeout(Some(settings.idle_timeout))
        .and_then(|()| conn.set_write_timeout(Some(settings.idle_timeout)));
    if let Err(e) = timeouts {
        return log(format!("{peer}: cannot set timeouts: {e}"));
    }
    let ended = communication_loop(&mut conn, &settings.limits, log);
    log(match ended {
        Ok(()) => format!("{peer} closed the connection normally (read returned 0 bytes)"),
        Err(e) => match e.kind() {
            // A read or write timeout: EAGAIN on Unix (WouldBlock), or TimedOut elsewhere.
            ErrorKind::WouldBlock | ErrorKind::TimedOut => format!(
                "{peer} was silent for {}; closing the connection",
                describe(settings.idle_timeout)
            ),
            // Our own errors: a wrong acknowledgement, or an end of stream in mid-protocol.
            ErrorKind::InvalidData => {
                format!("{peer}: protocol error: {e}; closing the connection")
            }
            ErrorKind::UnexpectedEof => format!("{peer}: {e}; closing the connection"),
            // A reset, or a client that left before its reply (broken pipe).
            kind => format!("{peer} disconnected abnormally: {kind}"),
        },
    });
}

// ANCHOR: communication_loop
/// The communication loop: a command, its length, the client's `recv_ready`, the data.
pub fn communication_loop<S: Read + Write>(
    conn: &mut S,
    limits: &Limits,
    log: &mut impl FnMut(String),
) -> io::Result<()> {
    while let Some(request) = recv_command(conn)? {
        log(format!("running {:?}", String::from_utf8_lossy(&request)));
        // Only text is run: chapter 3's `command_text` refuses other bytes in one short line.
        let ran =
            command_text(&request).and_then(|command| run_command(shell_command(command), limits));
        let (reply, summary) = match ran {
            Ok(outcome) => (reply_of(&outcome), outcome.summary()),
            Err(e) => (
                format!("[remote shell: could not run the command: {e}]\n").into_bytes(),
                format!("could not run: {e}"),
            ),
        };
        log(format!(
            "finished: {summary}; announcing {} bytes",
            reply.len()
        ));
        send_reply(conn, &reply, log)?;
    }
    Ok(())
}

/// The server's one read for a command, as bytes; `None` when the client has closed the
/// connection.
///
/// The command is not framed (the original's `conn.recv(1024)`): whatever this read returns is
/// the command. The protocol is lockstep, so a well-behaved client never has a second command
/// in flight.
pub fn recv_command(conn: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut buf = [0u8; CHUNK_SIZE];
    loop {
        match conn.read(&mut buf) {
            // End of stream: the client closed its end.
            Ok(0) => return Ok(None),
            Ok(n) => return Ok(Some(buf[..n].to_vec())),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
}
// ANCHOR_END: communication_loop

// ANCHOR: send_reply
/// Sends one reply: its length, then (once the client is ready) its bytes.
pub fn send_reply<S: Read + Write>(
    conn: &mut S,
    reply: &[u8],
    log: &mut impl FnMut(String),
) -> io::Result<()> {
    // 1. The length in ASCII digits, in one write, and nothing else: no newline, no padding.
    //    Nothing marks where the digits end; the client takes what its one read returns.
    conn.write_all(reply.len().to_string().as_bytes())?;
    // 2. Wait until the client says it is ready. Only then can the data not run into the length
    //    in the client's one read.
    read_ack(conn)?;
    log(format!(
        "recv_ready received; sending {} bytes",
        reply.len()
    ));
    // 3. The data, all of it: `write_all` loops until every byte is written.
    conn.write_all(reply)
}
// ANCHOR_END: send_reply

/// Reads the client's `recv_ready`, however the network cut it, and fails as soon as what has
/// arrived cannot become `recv_ready`.
pub fn read_ack(conn: &mut impl Read) -> io::Result<()> {
    let mut got = [0u8; ACK.len()];
    let mut filled = 0;
    while filled < ACK.len() {
        // Ask only for what is still missing: `recv_` and `ready` may arrive apart.
        match conn.read(&mut got[filled..]) {
            Ok(0) => {
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    format!(
                        "the client closed the connection before acknowledging the length \
                         (received \"{}\")",
                        got[..filled].escape_ascii()
                    ),
                ));
            }
            Ok(n) => filled += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        // Check at once: `ok` can never become `recv_ready`, so waiting for the other eight
        // bytes would only keep every other client waiting.
        if !ACK.starts_with(&got[..filled]) {
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                format!(
                    "expected \"recv_ready\", received \"{}\"",
                    got[..filled].escape_ascii()
                ),
            ));
        }
    }
    Ok(())
}

/// The reply for a command: what it printed, plus chapter 3's note if the output was cut or
/// the command timed out. Unlike lesson 3's reply, it may be empty: the length `0` says so.
pub fn reply_of(outcome: &Outcome) -> Vec<u8> {
    outcome.output_with_notes()
}

// ---- The client ----

// ANCHOR: request
/// Sends one command and receives its whole reply.
pub fn request<S: Read + Write>(conn: &mut S, command: &str) -> io::Result<Vec<u8>> {
    // The server takes a command with ONE read of up to 1024 bytes: a longer command would be
    // cut, and its rest taken for the next command. Zero bytes would be no message at all.
    if command.is_empty() || command.len() > CHUNK_SIZE {
        return Err(io::Error::new(
            ErrorKind::InvalidInput,
            format!(
                "a command must be 1 to {CHUNK_SIZE} bytes long (this one is {})",
                command.len()
            ),
        ));
    }
    // 1. The command, as it is: no length, no end mark.
    conn.write_all(command.as_bytes())?;
    // 2. The length: one read, checked before we believe it.
    let length = recv_length(conn, MAX_REPLY)?;
    // 3. Tell the server we are ready: only now will it send the data.
    conn.write_all(ACK)?;
    // 4. The data, in chunks, until `length` bytes have arrived.
    recv_chunked(conn, length)
}
// ANCHOR_END: request

/// Reads the server's length message (one read, as the original does) and checks it.
pub fn recv_length(conn: &mut impl Read, max: usize) -> io::Result<usize> {
    let mut buf = [0u8; CHUNK_SIZE];
    let n = loop {
        match conn.read(&mut buf) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            other => break other?,
        }
    };
    if n == 0 {
        return Err(io::Error::new(
            ErrorKind::UnexpectedEof,
            "the server closed the connection instead of sending a length",
        ));
    }
    parse_length(&buf[..n], max)
}

/// `b"1048577"` → 1048577, if it is a plain decimal number no larger than `max`.
pub fn parse_length(message: &[u8], max: usize) -> io::Result<usize> {
    let invalid = |why: String| io::Error::new(ErrorKind::InvalidData, why);
    // Digits only: no sign, no spaces, no newline, not empty. `str::parse` alone would accept
    // a leading `+`.
    if message.is_empty() || !message.iter().all(u8::is_ascii_digit) {
        return Err(invalid(format!(
            "the server's length message is not a number: \"{}\"",
            message.escape_ascii()
        )));
    }
    // Count the digits before converting, so that a thousand digits are refused as what they
    // are, not as an overflow.
    if message.len() > MAX_LENGTH_DIGITS {
        return Err(invalid(format!(
            "the server's length message is absurd: {} digits",
            message.len()
        )));
    }
    let length = std::str::from_utf8(message)
        .ok()
        .and_then(|digits| digits.parse::<u64>().ok())
        .ok_or_else(|| invalid("the server's length message does not fit in 64 bits".into()))?;
    // The length comes from the network: refuse it before anything is allocated for it.
    match usize::try_from(length) {
        Ok(length) if length <= max => Ok(length),
        _ => Err(invalid(format!(
            "the server announced {length} bytes, more than this client accepts ({max})"
        ))),
    }
}

// ANCHOR: recv_chunked
/// Receives exactly `length` bytes, at most [`CHUNK_SIZE`] per read.
pub fn recv_chunked(conn: &mut impl Read, length: usize) -> io::Result<Vec<u8>> {
    // Grow as bytes arrive rather than reserving `length` up front: a server that announces a
    // lot and sends little then costs us little.
    let mut reply = Vec::new();
    let mut buf = [0u8; CHUNK_SIZE];
    while reply.len() < length {
        // Ask for a full chunk, or for exactly what is left if that is less. Bytes past the end
        // of this reply belong to the next message, and a read cannot give bytes back.
        let want = (length - reply.len()).min(CHUNK_SIZE);
        let n = match conn.read(&mut buf[..want]) {
            // 0 means end of stream: the server closed before the whole reply was here.
            Ok(0) => {
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    format!(
                        "the connection closed after {} of {length} bytes",
                        reply.len()
                    ),
                ));
            }
            // A short read is not an error: `n` is what has arrived so far, 1 to `want` bytes.
            Ok(n) => n,
            // A signal interrupted the read before any byte came: just try again.
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        // Count what actually arrived, not what we asked for.
        reply.extend_from_slice(&buf[..n]);
    }
    Ok(reply)
}
// ANCHOR_END: recv_chunked

// ANCHOR: read_exact
/// The same receive, with std's `read_exact` doing the loop.
pub fn recv_with_read_exact(conn: &mut impl Read, length: usize) -> io::Result<Vec<u8>> {
    // The buffer's size is the stop condition: exactly `length` bytes, never one more.
    let mut reply = vec![0u8; length];
    // `read_exact` loops over short reads and retries interrupted ones; end of stream before
    // the buffer is full is `UnexpectedEof`. It does not say how much had arrived.
    conn.read_exact(&mut reply).map_err(|e| match e.kind() {
        ErrorKind::UnexpectedEof => io::Error::new(
            ErrorKind::UnexpectedEof,
            format!("the connection closed before all {length} bytes arrived"),
        ),
        _ => e,
    })?;
    Ok(reply)
}
// ANCHOR_END: read_exact

/// The client's loop: one line of input, one command, one reply printed.
///
/// Empty lines are skipped and `quit` or end of input ends the session. Any error (the server
/// hung up, a bad length, a reply cut short) is returned, and the `client` command exits with a
/// failure status.
pub fn client_session<S: Read + Write>(
    conn: &mut S,
    mut input: impl BufRead,
    out: &mut impl Write,
    prompt: bool,
) -> io::Result<()> {
    while let Some(command) = next_command(&mut input, out, prompt)? {
        let reply = request(conn, &command)?;
        // The bytes as they came: the command's output is not ours to re-encode.
        out.write_all(&reply)?;
        // Keep the next prompt on a line of its own.
        if !reply.is_empty() && !reply.ends_with(b"\n") {
            writeln!(out)?;
        }
        out.flush()?;
    }
    Ok(())
}

// ---- The next step: a 4-byte length header ----

// ANCHOR: header
/// Sends `payload` as one frame: its length as a 4-byte big-endian number, then the payload.
pub fn send_with_length(conn: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    let length = u32::try_from(payload.len()).map_err(|_| {
        io::Error::new(
            ErrorKind::InvalidInput,
            format!("{} bytes do not fit a 4-byte length", payload.len()),
        )
    })?;
    // Header and payload in ONE buffer and one `write_all`. Two writes (a 4-byte header, then
    // the body) can wait ~40 ms for an acknowledgement: see the benchmark.
    let mut frame = Vec::with_capacity(4 + payload.len());
    frame.extend_from_slice(&length.to_be_bytes());
    frame.extend_from_slice(payload);
    conn.write_all(&frame)
}

/// Receives one frame sent by [`send_with_length`], refusing a length above `max`.
pub fn recv_with_length(conn: &mut impl Read, max: usize) -> io::Result<Vec<u8>> {
    // Always exactly four bytes, so there is no question of where the length ends: the network
    // may cut them anywhere, and `read_exact` puts them back together.
    let mut header = [0u8; 4];
    conn.read_exact(&mut header).map_err(|e| match e.kind() {
        ErrorKind::UnexpectedEof => io::Error::new(
            ErrorKind::UnexpectedEof,
            "the connection closed where a 4-byte length was expected",
        ),
        _ => e,
    })?;
    let length = u32::from_be_bytes(header) as usize;
    // Still a number from the network: check it before a single byte is allocated for it.
    if length > max {
        return Err(io::Error::new(
            ErrorKind::InvalidData,
            format!("a frame of {length} bytes is over the limit of {max}"),
        ));
    }
    recv_chunked(conn, length)
}
// ANCHOR_END: header
