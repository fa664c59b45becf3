//! Lesson 4: sticky packets.
//!
//! The remote shell of lesson 3, with one change to the reply: the server sends a short status
//! line first (`[exit status 0]`), then the command's output, as TWO writes. That is how many
//! server authors would write it: a header, then a body. The client still reads each reply with
//! ONE read of at most 1024 bytes, and prints whatever that read returned.
//!
//! Nothing in a TCP byte stream marks where one write ended, so the client cannot see the
//! reply's boundaries. Two things go wrong, and this lesson makes both visible:
//!
//! - a reply longer than the read does not fit, and the rest comes out as the "reply" to the
//!   next command;
//! - the status line and the output, written separately, come out of one read together (or, if
//!   the read runs between their arrivals, apart).
//!
//! Commands run exactly as in lesson 3 (`lesson_03::run_command`). All the socket code, the
//! loops, reads and writes, is this lesson's own.

use std::io::{self, BufRead, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use course_cli::next_command;
pub use lesson_03::Limits;
use lesson_03::{command_text, run_command, shell_command};

pub mod demo;
pub mod exercises;

/// The address the lesson's server binds when none is given: loopback, so only programs on
/// this machine can connect.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// The size of the one read the server makes for a command, and the client for a reply.
pub const BUFFER_SIZE: usize = 1024;

/// The warning the server prints when it listens anywhere but loopback: chapter 3's, since
/// this server runs commands for whoever connects just as that one did.
pub use lesson_03::exposure_warning;

/// How the server behaves, besides what it allows a command.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// What each command may take: time and output (lesson 3's limits).
    pub limits: Limits,
    /// Log every write the server makes, with its size and its bytes.
    pub trace: bool,
    /// Turn Nagle's algorithm off (TCP_NODELAY) on every connection.
    pub nodelay: bool,
}

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

/// Waits for one client and runs its commands until it leaves.
pub fn serve_one(listener: &TcpListener, settings: &Settings, log: &mut impl FnMut(String)) {
    let (mut conn, peer) = match listener.accept() {
        Ok(accepted) => accepted,
        Err(e) => return log(format!("accept failed: {e}")),
    };
    log(format!("connected from {peer}"));
    // Nagle's algorithm is on by default: a small write waits while earlier data is not yet
    // acknowledged. `--nodelay` turns it off, to compare.
    if settings.nodelay
        && let Err(e) = conn.set_nodelay(true)
    {
        log(format!("cannot set TCP_NODELAY: {e}"));
    }
    match communication_loop(&mut conn, settings, log) {
        Ok(()) => log(format!(
            "{peer} closed the connection normally (read returned 0 bytes)"
        )),
        // A reset, or a client that left before its reply: that conversation is over, the
        // server is not.
        Err(e) => log(format!("{peer} disconnected abnormally: {}", e.kind())),
    }
}

// ANCHOR: communication_loop
/// The communication loop: one read is one command; the reply is a status line and the
/// output, written one after the other.
pub fn communication_loop<S: Read + Write>(
    conn: &mut S,
    settings: &Settings,
    log: &mut impl FnMut(String),
) -> io::Result<()> {
    let mut buf = [0u8; BUFFER_SIZE];
    // Counts this connection's writes, so that the trace can name each one.
    let mut writes = 0;
    loop {
        let n = match conn.read(&mut buf) {
            // End of stream: the client closed its end.
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        // Still no framing on the way in: whatever this one read returned is the command.
        let request = &buf[..n];
        log(format!("running {:?}", String::from_utf8_lossy(request)));
        // Only text is run: chapter 3's `command_text` refuses other bytes in one short line.
        let (status_line, output) = match command_text(request) {
            Ok(command) => answer(command, &settings.limits),
            Err(e) => could_not_run(e),
        };
        // A header, then a body: two writes. Each `write_all` hands its bytes to the kernel
        // and returns; the kernel sends them when and how it likes. Nothing in the stream
        // records that there were two writes, or where the first one ended.
        for part in [&status_line, &output] {
            conn.write_all(part)?;
            writes += 1;
            if settings.trace {
                log(format!("write #{writes}: {}", describe(part)));
            }
        }
    }
}
// ANCHOR_END: communication_loop

/// Runs `command` as lesson 3 does, and returns the reply's two parts: a status line ending
/// in a newline, and the output (lesson 3's reply, never empty).
pub fn answer(command: &str, limits: &Limits) -> (Vec<u8>, Vec<u8>) {
    match run_command(shell_command(command), limits) {
        Ok(outcome) => (
            format!("[{}]\n", outcome.summary()).into_bytes(),
            outcome.reply(),
        ),
        Err(e) => could_not_run(e),
    }
}

/// The reply's two parts for a command that could not run.
fn could_not_run(e: io::Error) -> (Vec<u8>, Vec<u8>) {
    (
        b"[could not run the command]\n".to_vec(),
        format!("[remote shell: could not run the command: {e}]\n").into_bytes(),
    )
}

// ANCHOR: client
/// Sends one command and reads its reply the only way this client knows: ONE read into a
/// 1024-byte buffer.
///
/// The read returns what has arrived by the time it runs, up to 1024 bytes: maybe the whole
/// reply, maybe the status line alone, maybe the first 1024 bytes of a long reply, maybe the
/// end of the PREVIOUS reply. Nothing tells the client which.
pub fn send_command<S: Read + Write>(conn: &mut S, command: &str) -> io::Result<Vec<u8>> {
    conn.write_all(command.as_bytes())?;
    read_once(conn)
}

/// One read of at most [`BUFFER_SIZE`] bytes. Zero bytes means the server closed the
/// connection, which is an error here: a reply was expected.
pub fn read_once(conn: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut buf = [0u8; BUFFER_SIZE];
    let n = loop {
        match conn.read(&mut buf) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            other => break other?,
        }
    };
    if n == 0 {
        return Err(io::Error::new(
            ErrorKind::UnexpectedEof,
            "the server closed the connection",
        ));
    }
    Ok(buf[..n].to_vec())
}
// ANCHOR_END: client

/// The client's loop: one line of input, one command, one read, printed.
///
/// With `trace`, each read's number, size and first and last bytes go there (the `client`
/// command passes standard error), so that you can see where each read began and ended.
pub fn client_session<S: Read + Write>(
    conn: &mut S,
    mut input: impl BufRead,
    out: &mut impl Write,
    prompt: bool,
    mut trace: Option<&mut dyn Write>,
) -> io::Result<()> {
    let mut reads = 0;
    while let Some(command) = next_command(&mut input, out, prompt)? {
        let reply = send_command(conn, &command)?;
        reads += 1;
        if let Some(trace) = trace.as_mut() {
            writeln!(trace, "read #{reads}: {}", describe(&reply))?;
        }
        out.write_all(String::from_utf8_lossy(&reply).as_bytes())?;
        // A read that stopped in the middle of a line: keep the next prompt on its own line.
        if !reply.ends_with(b"\n") {
            writeln!(out)?;
        }
        out.flush()?;
    }
    Ok(())
}

/// `1024 bytes "[exit status 0]␊1␊2␊3␊"…"278␊279␊"`: a size, and the bytes at both ends.
pub fn describe(bytes: &[u8]) -> String {
    format!("{} bytes {}", bytes.len(), preview(bytes))
}

/// Runs of up to this many bytes are shown whole.
pub const PREVIEW_WHOLE: usize = 40;
/// About how many bytes a long run shows at each end.
pub const PREVIEW_END: usize = 20;

/// The bytes, quoted, on one line; a long run as its two ends joined by `…`.
///
/// Control characters become their Unicode pictures, as in the network lab's trace: a newline
/// is `␊`, a tab `␉`, a carriage return `␍`. Bytes that are not UTF-8 become `�`. The ends are
/// exact, because they are the point: where a read began and where it stopped. Inside, each
/// end is trimmed to whole lines when it can be, so that it is easy to read.
pub fn preview(bytes: &[u8]) -> String {
    if bytes.len() <= PREVIEW_WHOLE {
        return quote(bytes);
    }
    let head = &bytes[..PREVIEW_END];
    let head = match head.iter().rposition(|&b| b == b'\n') {
        Some(i) => &head[..=i],
        None => head,
    };
    let tail = &bytes[bytes.len() - PREVIEW_END..];
    let tail = match tail.iter().position(|&b| b == b'\n') {
        Some(i) if i + 1 < tail.len() => &tail[i + 1..],
        _ => tail,
    };
    format!("{}…{}", quote(head), quote(tail))
}

fn quote(bytes: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(bytes)
        .chars()
        .map(|c| match c {
            // U+2400..U+241F picture the control characters 0x00..0x1F; U+2421 is DEL.
            '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or(c),
            '\u{7f}' => '\u{2421}',
            c => c,
        })
        .collect();
    format!("\"{text}\"")
}

// ANCHOR: wait_until_buffered
/// Waits (at most `limit`) until at least `total` bytes sit in the socket's receive buffer,
/// without taking any of them.
///
/// This is how the demo and the tests make sticky packets happen on every run: they do not
/// hope that the reader is slow, they wait until every byte they expect has arrived, and only
/// then make the one plain read. `peek` copies what is buffered and leaves it there.
pub fn wait_until_buffered(stream: &TcpStream, total: usize, limit: Duration) -> io::Result<()> {
    // A limit too long to add to the clock is a caller's mistake: say so, do not panic.
    let deadline = Instant::now()
        .checked_add(limit)
        .ok_or(ErrorKind::InvalidInput)?;
    let old_timeout = stream.read_timeout()?;
    stream.set_read_timeout(Some(limit))?;
    let mut buf = vec![0u8; total];
    let result = loop {
        // `peek` waits until at least one byte is there, then returns at once with what is.
        match stream.peek(&mut buf) {
            Ok(0) => break Err(ErrorKind::UnexpectedEof.into()),
            Ok(seen) if seen >= total => break Ok(()),
            Ok(_) if Instant::now() >= deadline => break Err(ErrorKind::TimedOut.into()),
            // Some bytes are still on their way (microseconds behind, on loopback): look
            // again shortly rather than spin.
            Ok(_) => thread::sleep(Duration::from_millis(1)),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    stream.set_read_timeout(old_timeout)?;
    result
}
// ANCHOR_END: wait_until_buffered
