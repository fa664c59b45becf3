//! Lesson 5: a length prefix, and the `recv_ready` handshake.
//!
//! The remote shell of lesson 3, with the original tutorial's first cure for sticky packets.
//! Each command is a four-step conversation:
//!
//! 1. the client sends the command line (no terminator: one read on the server is one command);
//! 2. the server runs it and sends the output's length as ASCII decimal digits, nothing else;
//! 3. the client answers with the ten bytes `recv_ready`;
//! 4. the server sends exactly that many bytes of output.
//!
//! The server does its part properly. The client, on purpose, does not: it receives the output
//! with ONE read of up to `length` bytes, and a long reply does not fit in one read. It says so,
//! and lesson 6 fixes it.
//!
//! Running the command is chapter 3's code (`lesson_03::run_command`); every line that touches
//! a socket is here.

use std::io::{self, BufRead, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use course_cli::next_command;
use lesson_03::{Limits, command_text, describe, run_command, shell_command};

pub mod demo;
pub mod exercises;

/// The address the lesson's server binds when none is given: loopback, so only programs on
/// this machine can connect.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// The size of the one read the server makes for a command, and the client for a length.
pub const BUFFER_SIZE: usize = 1024;

/// What the client sends when it is ready for the data: step 3 of every exchange.
pub const ACK: &[u8; 10] = b"recv_ready";

/// The longest reply the client accepts (64 MiB). A length above this is refused before a
/// single byte is allocated for it.
pub const MAX_REPLY: usize = 64 * 1024 * 1024;

/// The most digits a length message may have. 20 digits hold any `u64`; a longer "length" is
/// not a length.
pub const MAX_LENGTH_DIGITS: usize = 20;

/// How many bytes of a command's output the server keeps by default (8 MiB).
pub const DEFAULT_MAX_OUTPUT: usize = 8 * 1024 * 1024;

/// How long the server waits for a client to send something (or to take what it sends)
/// before it gives up on that client: five minutes, long enough for a person to read a reply
/// and think before typing the next command, short enough that a client that went silent
/// does not hold this one-client-at-a-time server for ever.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// How long the client waits for the server: longer than the server's default command time
/// limit (10 s), so a slow command is not mistaken for a dead server.
pub const DEFAULT_CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

/// Everything the server needs to know besides its listener.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// What each command may use: time and output (chapter 3).
    pub limits: Limits,
    /// The longest the server waits on one client's read or write.
    pub idle_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
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

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

// ANCHOR: connection_loop
/// The connection loop: serve clients one after another, forever.
pub fn connection_loop(
    listener: &TcpListener,
    config: &ServerConfig,
    log: &mut impl FnMut(String),
) -> ! {
    loop {
        serve_one(listener, config, log);
    }
}

/// Waits for one client and serves it until the conversation ends, however it ends.
pub fn serve_one(listener: &TcpListener, config: &ServerConfig, log: &mut impl FnMut(String)) {
    let (mut conn, peer) = match listener.accept() {
        Ok(accepted) => accepted,
        Err(e) => return log(format!("accept failed: {e}")),
    };
    log(format!("connected from {peer}"));
    // This server serves one client at a time, so a client that goes quiet would keep every
    // other client waiting. Every read and every write gets a deadline.
    let timeouts = conn
        .set_read_timeout(Some(config.idle_timeout))
        .and_then(|()| conn.set_write_timeout(Some(config.idle_timeout)));
    let result = timeouts.and_then(|()| communication_loop(&mut conn, config, log));
    log(match result {
        Ok(()) => format!("{peer} closed the connection normally (read returned 0 bytes)"),
        Err(e) => format!("{peer}: {}", why_it_ended(&e, config.idle_timeout)),
    });
    // `conn` is dropped here, after the log line: the client sees the close afterwards.
}

/// One line for the log: how a conversation that failed ended.
fn why_it_ended(e: &io::Error, idle_timeout: Duration) -> String {
    match e.kind() {
        // A socket timeout shows up as WouldBlock on Unix and TimedOut on Windows.
        ErrorKind::WouldBlock | ErrorKind::TimedOut => format!(
            "silent for {}; closing the connection",
            describe(idle_timeout)
        ),
        // The errors this lesson makes itself carry their own explanation.
        ErrorKind::InvalidData | ErrorKind::UnexpectedEof => {
            format!("{e}; closing the connection")
        }
        // A reset, or a client that left before its reply (the write fails with "broken
        // pipe": std ignores SIGPIPE, so it is an error value, not a signal that kills us).
        kind => format!("disconnected abnormally: {kind}"),
    }
}
// ANCHOR_END: connection_loop

// ANCHOR: communication_loop
/// The communication loop: the four steps, once per command, until the client closes.
pub fn communication_loop<S: Read + Write>(
    conn: &mut S,
    config: &ServerConfig,
    log: &mut impl FnMut(String),
) -> io::Result<()> {
    let mut buf = [0u8; BUFFER_SIZE];
    loop {
        // Step 1: the command. It is still unframed: whatever one read returns is the command,
        // exactly as in the original. (Lesson 4 showed what that costs; chapter 6 fixes it.)
        let n = match conn.read(&mut buf) {
            // End of stream between commands: the client is done. That is the normal end.
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let request = &buf[..n];
        log(format!("running {:?}", String::from_utf8_lossy(request)));
        // Only text is run: chapter 3's `command_text` refuses other bytes in one short line.
        let ran = command_text(request)
            .and_then(|command| run_command(shell_command(command), &config.limits));
        let (output, summary) = match ran {
            // What the command printed, with chapter 3's note if it was cut or killed. There is
            // no "printed nothing" line, as chapter 3 needed: the length 0 says it.
            Ok(outcome) => (outcome.output_with_notes(), outcome.summary()),
            Err(e) => (
                format!("[remote shell: could not run the command: {e}]\n").into_bytes(),
                format!("could not run: {e}"),
            ),
        };

        // Step 2: the length, as decimal digits and nothing else, in one write. An empty
        // output is simply the length `0`: with a length in front, "nothing" is a reply.
        log(format!(
            "finished: {summary}; announcing {} bytes",
            output.len()
        ));
        conn.write_all(output.len().to_string().as_bytes())?;

        // Step 3: wait for `recv_ready`. Until it comes we send nothing more, so the length
        // cannot run into the data on the wire: that is what the handshake is for.
        expect_ack(conn)?;

        // Step 4: the data, all of it. `write_all`, because one `write` may take only part.
        log(format!("acknowledged; sending {} bytes", output.len()));
        conn.write_all(&output)?;
    }
}
// ANCHOR_END: communication_loop

// ANCHOR: expect_ack
/// Reads the client's acknowledgement: exactly the ten bytes `recv_ready`.
///
/// The acknowledgement may arrive in pieces (`recv_` then `ready`), so one read is not
/// enough. But the server must not wait for ten bytes that will never come either: a client
/// that sends `ok` would hold the server until the idle timeout. So after every read, what
/// has arrived must still be the beginning of `recv_ready`; the first byte that is not ends
/// the conversation at once.
pub fn expect_ack(conn: &mut impl Read) -> io::Result<()> {
    let mut got = [0u8; ACK.len()];
    let mut filled = 0;
    while filled < ACK.len() {
        // Read at most what is still missing: anything after the acknowledgement is the next
        // command, and it is not ours to take.
        let n = match conn.read(&mut got[filled..]) {
            Ok(0) => {
                let sent = match filled {
                    0 => String::new(),
                    _ => format!(" (it sent only \"{}\")", got[..filled].escape_ascii()),
                };
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    format!("the client closed the connection before acknowledging{sent}"),
                ));
            }
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        filled += n;
        // Not a prefix of `recv_ready`: no amount of waiting can make it right.
        if got[..filled] != ACK[..filled] {
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                format!(
                    "wrong acknowledgement: expected \"{}\", got \"{}\"",
                    ACK.escape_ascii(),
                    got[..filled].escape_ascii()
                ),
            ));
        }
    }
    Ok(())
}
// ANCHOR_END: expect_ack

// ---------------------------------------------------------------------------------------------
// The client
// ---------------------------------------------------------------------------------------------

/// What the client got for one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The length the server announced.
    pub announced: usize,
    /// The bytes the one read returned: `announced` of them, or fewer.
    pub data: Vec<u8>,
}

impl Reply {
    /// True when the read returned fewer bytes than announced: the rest is still on its way,
    /// or already waiting in the socket.
    pub fn is_short(&self) -> bool {
        self.data.len() < self.announced
    }
}

// ANCHOR: request
/// One command, the client's side of the four steps.
pub fn request<S: Read + Write>(conn: &mut S, command: &str) -> io::Result<Reply> {
    // Step 1: the command's bytes, all of them.
    conn.write_all(command.as_bytes())?;
    // Step 2: how long the reply is. Checked before anything is allocated for it.
    let announced = recv_length(conn)?;
    // Step 3: tell the server to go ahead.
    conn.write_all(ACK)?;
    // Step 4: the data.
    let data = recv_reply(conn, announced)?;
    Ok(Reply { announced, data })
}
// ANCHOR_END: request

// ANCHOR: recv_length
/// Reads the server's length message with one read, as the original does, and checks it.
///
/// One read is all a client can do here: the digits have no terminator, so nothing tells the
/// client whether more digits are coming. The handshake at least guarantees that no data
/// follows them until we say `recv_ready`.
pub fn recv_length(conn: &mut impl Read) -> io::Result<usize> {
    let mut buf = [0u8; BUFFER_SIZE];
    let n = loop {
        match conn.read(&mut buf) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            other => break other?,
        }
    };
    // 0 bytes means end of stream: the server is gone, and no length is coming.
    if n == 0 {
        return Err(io::Error::new(
            ErrorKind::UnexpectedEof,
            "the server closed the connection instead of sending a length",
        ));
    }
    parse_length(&buf[..n])
}
// ANCHOR_END: recv_length

// ANCHOR: parse_length
/// Checks a length message: ASCII digits only, at most [`MAX_LENGTH_DIGITS`] of them, and no
/// more than [`MAX_REPLY`].
///
/// Python's `int()`, which the original uses, is far more forgiving: it accepts spaces, a
/// sign and underscores (`int(" +1_0 ")` is 10). A length is a promise about what comes
/// next, and a client should believe only a plain one.
pub fn parse_length(message: &[u8]) -> io::Result<usize> {
    let invalid = |why: String| io::Error::new(ErrorKind::InvalidData, why);
    if message.is_empty() {
        return Err(invalid("the server sent an empty length".into()));
    }
    if !message.iter().all(u8::is_ascii_digit) {
        return Err(invalid(format!(
            "the server's length is not a number: {}",
            preview(message)
        )));
    }
    if message.len() > MAX_LENGTH_DIGITS {
        return Err(invalid(format!(
            "the server's length has {} digits, more than any length can: {}",
            message.len(),
            preview(message)
        )));
    }
    // Only digits, at most 20 of them: the one thing left that can go wrong is the size.
    let digits = std::str::from_utf8(message).expect("ASCII digits are UTF-8");
    match digits.parse::<u64>() {
        Ok(length) if length <= MAX_REPLY as u64 => Ok(length as usize),
        // Too large for a u64 is certainly too large for us.
        _ => Err(invalid(format!(
            "the server announced {digits} bytes, more than this client accepts ({MAX_REPLY})"
        ))),
    }
}

/// Up to 16 bytes of `bytes`, quoted and escaped, for an error message.
fn preview(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(16)];
    let more = if bytes.len() > 16 { "..." } else { "" };
    format!("\"{}\"{more}", shown.escape_ascii())
}
// ANCHOR_END: parse_length

// ANCHOR: recv_reply
/// Receives the reply with ONE read of up to `length` bytes. This is the lesson's flaw,
/// kept on purpose.
///
/// `read` returns what has arrived so far, at least one byte and at most `length`. For a
/// short reply on loopback that is all of it. For a long one it is only what the socket had
/// received when the read ran, and the rest stays in the socket: the next command's
/// `recv_length` will read it, and take output for a length. Lesson 6 loops until all
/// `length` bytes are in.
pub fn recv_reply(conn: &mut impl Read, length: usize) -> io::Result<Vec<u8>> {
    // A zero-byte read would return 0 at once, which means "end of stream" everywhere else.
    // An empty reply needs no read at all.
    if length == 0 {
        return Ok(Vec::new());
    }
    // Safe to allocate: `parse_length` capped `length` at MAX_REPLY.
    let mut buf = vec![0u8; length];
    let n = loop {
        match conn.read(&mut buf) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            other => break other?,
        }
    };
    if n == 0 {
        return Err(io::Error::new(
            ErrorKind::UnexpectedEof,
            format!(
                "the server closed the connection after announcing {length} bytes and sending none"
            ),
        ));
    }
    buf.truncate(n);
    Ok(buf)
}
// ANCHOR_END: recv_reply

/// The client's loop: one line of input, one command, its output printed.
///
/// The output goes to `out`; a reply that came up short is reported on `err`, so that you
/// see it. Empty lines are skipped; `quit` or end of input ends the session; any error ends
/// it too, and is returned.
pub fn client_session<S: Read + Write>(
    conn: &mut S,
    mut input: impl BufRead,
    out: &mut impl Write,
    err: &mut impl Write,
    prompt: bool,
) -> io::Result<()> {
    while let Some(command) = next_command(&mut input, out, prompt)? {
        let reply = request(conn, &command).map_err(|e| match e.kind() {
            // A read or write deadline passed: say which, not "resource temporarily unavailable".
            ErrorKind::WouldBlock | ErrorKind::TimedOut => {
                io::Error::new(ErrorKind::TimedOut, "the server did not answer in time")
            }
            _ => e,
        })?;
        out.write_all(&reply.data)?;
        // At a terminal, keep the next prompt on a line of its own. (Not when scripted: there
        // the output is exactly the bytes the server sent.)
        if prompt && !reply.data.is_empty() && !reply.data.ends_with(b"\n") {
            writeln!(out)?;
        }
        out.flush()?;
        if reply.is_short() {
            // Say it, so that the flaw cannot go unnoticed: the missing bytes are not lost,
            // they are waiting in the socket, and the next command will trip over them.
            writeln!(
                err,
                "[got {} of {} bytes; the rest is still in the socket]",
                reply.data.len(),
                reply.announced
            )?;
        }
    }
    Ok(())
}

/// Connects to `addr` with the client's read and write timeouts set.
pub fn connect(addr: &str, timeout: Duration) -> io::Result<TcpStream> {
    let conn = TcpStream::connect(addr)?;
    // Every read has a deadline: a server that never answers cannot hang the client.
    conn.set_read_timeout(Some(timeout))?;
    conn.set_write_timeout(Some(timeout))?;
    Ok(conn)
}
