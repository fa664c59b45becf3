//! Lesson 3: a remote shell.
//!
//! The client sends a command line; the server runs it through the platform shell and sends
//! back everything the command printed, standard output and standard error together. The wire
//! format is the original tutorial's, on purpose: no framing at all. A command is whatever one
//! `read` on the server returns, and a reply is whatever one `read` on the client returns
//! (at most 1024 bytes). Lesson 4 shows what that costs.
//!
//! What this lesson adds to lesson 1's two loops is the care a server needs when it runs
//! programs for strangers: it listens on loopback unless told otherwise, it reads a command's
//! output through one pipe so the command cannot block on a full pipe, it caps how much output
//! it keeps, it kills a command (and everything the command started) that runs too long, and
//! it never sends an empty reply.

use std::io::{self, BufRead, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use course_cli::next_command;

pub mod demo;
pub mod exercises;

/// The address the lesson's server binds when none is given: loopback, so only programs on
/// this machine can connect.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// How long a command may run before the server kills it, unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// How many bytes of a command's output the server keeps (1 MiB); the rest is read and dropped.
pub const DEFAULT_MAX_OUTPUT: usize = 1024 * 1024;

/// The size of the one read the server makes for a command, and the client for a reply.
pub const BUFFER_SIZE: usize = 1024;

/// What the server allows a single command.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall-clock time before the command and everything it started is killed.
    pub timeout: Duration,
    /// Output bytes kept for the reply; anything beyond is drained and counted, not stored.
    pub max_output: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            timeout: DEFAULT_TIMEOUT,
            max_output: DEFAULT_MAX_OUTPUT,
        }
    }
}

// ANCHOR: warning
/// The warning the server prints when it listens anywhere but loopback, or `None` on loopback.
pub fn exposure_warning(addr: SocketAddr) -> Option<String> {
    if addr.ip().is_loopback() {
        return None;
    }
    Some(format!(
        "warning: listening on {addr}, which is not a loopback address: anyone who can reach \
         this address can run commands as you on this machine. Use 127.0.0.1 unless you mean it."
    ))
}
// ANCHOR_END: warning

// ANCHOR: serve_one
/// The connection loop: serve clients one after another, forever.
///
/// Nothing a client does can end this loop: however a conversation ends, the server logs it
/// and goes back to `accept`.
pub fn connection_loop(listener: &TcpListener, limits: &Limits, log: &mut impl FnMut(String)) -> ! {
    loop {
        serve_one(listener, limits, log);
    }
}

/// Waits for one client and runs its commands until it leaves.
pub fn serve_one(listener: &TcpListener, limits: &Limits, log: &mut impl FnMut(String)) {
    let (mut conn, peer) = match listener.accept() {
        Ok(accepted) => accepted,
        Err(e) => return log(format!("accept failed: {e}")),
    };
    log(format!("connected from {peer}"));
    match communication_loop(&mut conn, limits, log) {
        Ok(()) => log(format!(
            "{peer} closed the connection normally (read returned 0 bytes)"
        )),
        // A reset while we wait for a command, or a client that left before its reply
        // (the write fails with "broken pipe": std ignores SIGPIPE, so it is an error
        // value, not a signal that kills the server).
        Err(e) => log(format!("{peer} disconnected abnormally: {}", e.kind())),
    }
}
// ANCHOR_END: serve_one

// ANCHOR: communication_loop
/// The communication loop: one read is one command; run it, send back what it printed.
pub fn communication_loop<S: Read + Write>(
    conn: &mut S,
    limits: &Limits,
    log: &mut impl FnMut(String),
) -> io::Result<()> {
    let mut buf = [0u8; BUFFER_SIZE];
    loop {
        let n = match conn.read(&mut buf) {
            // End of stream: the client closed its end.
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        // No framing: whatever this one read returned is the command. (Lesson 4 shows two
        // quick commands arriving in one read, and lesson 5 fixes it.)
        let request = &buf[..n];
        log(format!("running {:?}", String::from_utf8_lossy(request)));
        let ran =
            command_text(request).and_then(|command| run_command(shell_command(command), limits));
        let (reply, summary) = match ran {
            Ok(outcome) => (outcome.reply(), outcome.summary()),
            Err(e) => (
                format!("[remote shell: could not run the command: {e}]\n").into_bytes(),
                format!("could not run: {e}"),
            ),
        };
        log(format!(
            "finished: {summary}; sending {} bytes",
            reply.len()
        ));
        // `write_all`, not one `write`: a big reply may need several. (The original's
        // `conn.send` could send only part of it and never notice.)
        conn.write_all(&reply)?;
    }
}
// ANCHOR_END: communication_loop

// ANCHOR: command_text
/// The command in the bytes of one read: they must be UTF-8 text, or nothing runs.
///
/// `String::from_utf8_lossy` would run anything, turning each byte that is not UTF-8 into
/// `�` (three bytes), which the shell's "not found" message then repeats: a kilobyte of such
/// bytes came back as a three-kilobyte error. Refused, it costs one short line.
pub fn command_text(request: &[u8]) -> io::Result<&str> {
    std::str::from_utf8(request).map_err(|e| {
        let offset = e.valid_up_to();
        io::Error::new(
            ErrorKind::InvalidData,
            format!(
                "the command is not UTF-8 text (byte {offset} is 0x{:02X})",
                request[offset]
            ),
        )
    })
}
// ANCHOR_END: command_text

// ANCHOR: shell_command
/// The command line, ready to run through the platform's shell.
///
/// The shell is what makes `ls | wc -l` or `echo $HOME` work, exactly as typed at a prompt.
/// It is also what makes this server dangerous: the shell will run anything.
pub fn shell_command(command_line: &str) -> Command {
    #[cfg(unix)]
    {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(command_line);
        cmd
    }
    #[cfg(windows)]
    {
        let mut cmd = Command::new("cmd");
        cmd.arg("/C").arg(command_line);
        cmd
    }
}
// ANCHOR_END: shell_command

/// How a command ended, and what it printed.
#[derive(Debug)]
pub struct Outcome {
    /// The first `max_output` bytes it printed, stdout and stderr interleaved.
    pub output: Vec<u8>,
    /// How many bytes it printed in all (more than `output.len()` when the output was cut).
    pub produced: u64,
    /// `Some(limit)` when the command ran past its time limit and was killed.
    pub timed_out_after: Option<Duration>,
    /// Its exit status (after a timeout: killed by a signal).
    pub status: ExitStatus,
}

// ANCHOR: run_spawn
/// Runs `cmd` with stdin closed and stdout and stderr captured together, within `limits`.
pub fn run_command(mut cmd: Command, limits: &Limits) -> io::Result<Outcome> {
    // ONE pipe for both outputs. With two pipes we would have to read them in some order,
    // and a command that fills the pipe we are not reading (about 64 KiB) blocks forever
    // while we wait on the other one: the original's `stdout.read()` then `stderr.read()`
    // deadlock. One pipe has no order to get wrong, and the output interleaves as it
    // would in a terminal.
    let (reader, writer) = io::pipe()?;
    cmd.stdin(Stdio::null()) // a command that asks for input gets end of file, not a hang
        .stdout(writer.try_clone()?)
        .stderr(writer);
    // Put the command in a process group of its own, so that a timeout can kill everything
    // it started, not only the shell.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);

    // A thread drains the pipe and hands us chunks. The channel is bounded, so a command
    // that prints faster than we store is slowed down rather than filling our memory.
    let (chunks, from_reader) = mpsc::sync_channel::<Vec<u8>>(8);
    let stop = Arc::new(AtomicBool::new(false));
    let stop_seen_by_reader = Arc::clone(&stop);
    // The thread starts before the command. Starting a thread can fail (the process limit,
    // memory): `Builder::spawn` then returns the error, where `thread::spawn` would panic and
    // take the whole server down. Failing here, nothing runs yet, so nothing is left behind.
    let reader_thread = thread::Builder::new()
        .spawn(move || drain(reader, chunks, &stop_seen_by_reader))
        .map_err(|e| io::Error::new(e.kind(), format!("cannot start a thread: {e}")))?;

    let mut child = cmd.spawn()?;
    // `cmd` still holds our copies of the pipe's write end. End of file only comes when
    // every write end is closed, so ours must go now, or the reader would wait forever.
    drop(cmd);
    // ANCHOR_END: run_spawn

    // ANCHOR: run_collect
    // A limit too long to add to the clock (only a caller that skips the command line's
    // checks can give one) would panic here; a year is as good as no limit.
    let year = Duration::from_secs(365 * 24 * 3600);
    let deadline = Instant::now()
        .checked_add(limits.timeout)
        .unwrap_or_else(|| Instant::now() + year);
    let mut output = Vec::new();
    let mut produced = 0u64;
    let mut keep = |chunk: Vec<u8>| {
        produced += chunk.len() as u64;
        let room = limits.max_output.saturating_sub(output.len());
        // Past the cap we still read (so the command is not blocked), but we do not store.
        output.extend_from_slice(&chunk[..chunk.len().min(room)]);
    };
    let finished = loop {
        match from_reader.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(chunk) => keep(chunk),
            // The reader hung up: end of file, every process holding the pipe has let go.
            Err(RecvTimeoutError::Disconnected) => break true,
            Err(RecvTimeoutError::Timeout) => break false,
        }
    };
    // ANCHOR_END: run_collect
    // ANCHOR: run_finish
    // The output is closed; the shell is normally gone too, but it could close its output
    // and keep running, so the deadline still applies to it.
    let status = match finished {
        true => wait_until(&mut child, deadline),
        false => Ok(None),
    };
    if !matches!(status, Ok(Some(_))) {
        kill_process_group(&mut child);
        // Collect what was printed before the kill; give up after a second if some
        // process escaped the group and still holds the pipe.
        let grace = Instant::now() + Duration::from_secs(1);
        while let Ok(chunk) =
            from_reader.recv_timeout(grace.saturating_duration_since(Instant::now()))
        {
            keep(chunk);
        }
    }
    // Let go of the pipe, even if a process that escaped the group (`setsid sleep 1000 &`)
    // still holds it: otherwise every such command would leave a thread and a pipe behind.
    // Dropping the channel wakes a reader that waits to hand over a chunk; `stop`, one that
    // waits for output. On Unix, wait until it is gone (50 ms at most: see `drain`).
    drop(from_reader);
    stop.store(true, Ordering::Relaxed);
    #[cfg(unix)]
    let _ = reader_thread.join();
    #[cfg(not(unix))]
    drop(reader_thread); // it goes on its own when the pipe closes
    let (status, timed_out_after) = match status? {
        Some(status) => (status, None),
        // Reap the shell, so that it does not stay behind as a zombie.
        None => (child.wait()?, Some(limits.timeout)),
    };
    Ok(Outcome {
        output,
        produced,
        timed_out_after,
        status,
    })
}
// ANCHOR_END: run_finish

// ANCHOR: run_helpers
/// Reads the pipe to its end, sending each chunk; stops early if nobody listens any more, or
/// when told to `stop`.
fn drain(mut reader: io::PipeReader, chunks: mpsc::SyncSender<Vec<u8>>, stop: &AtomicBool) {
    let mut buf = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::Relaxed) {
        // Wait for output 50 ms at a time, not in `read`: a process the command left behind
        // can keep the pipe open for hours, and `read` would wait with it.
        if !readable(&reader, Duration::from_millis(50)) {
            continue;
        }
        match reader.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if chunks.send(buf[..n].to_vec()).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return,
        }
    }
}

// ANCHOR_END: run_helpers

// ANCHOR: readable
/// Waits at most `wait` for the pipe to have output (or end of file): `false` if not yet.
#[cfg(unix)]
fn readable(reader: &io::PipeReader, wait: Duration) -> bool {
    use std::os::fd::AsRawFd;
    let mut watched = libc::pollfd {
        fd: reader.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let millis = libc::c_int::try_from(wait.as_millis()).unwrap_or(libc::c_int::MAX);
    // SAFETY: poll(2) reads and writes exactly the one `pollfd` we pass (count 1), and it
    // lives on our stack for the whole call.
    let ready = unsafe { libc::poll(&mut watched, 1, millis) };
    // An error (-1) counts as ready too: `read` then reports it, or waits as it did without us.
    ready != 0
}

/// Elsewhere, no `poll`: `read` waits, and a reader whose pipe stays open stays with it.
#[cfg(not(unix))]
fn readable(_reader: &io::PipeReader, _wait: Duration) -> bool {
    true
}
// ANCHOR_END: readable

// ANCHOR: wait_until
/// Waits for `child` to exit until `deadline`; `None` if it is still running then.
fn wait_until(child: &mut Child, deadline: Instant) -> io::Result<Option<ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(5));
    }
}
// ANCHOR_END: wait_until

// ANCHOR: kill
/// Kills the command and everything it started.
///
/// `sh -c 'sleep 100; echo done'` runs `sleep` as a child of the shell. Killing only the shell
/// would leave `sleep` running, holding our pipe open, so the reader would never see end of
/// file. The shell was started as the leader of a new process group (its group id is its
/// pid), and its children inherit the group, so one signal to the group reaches them all.
fn kill_process_group(child: &mut Child) {
    #[cfg(unix)]
    {
        let pgid = libc::pid_t::try_from(child.id()).expect("a pid fits in pid_t");
        // SAFETY: kill(2) has no memory-safety preconditions. The group id cannot belong to
        // anyone else yet: the shell is its leader and has not been reaped (we wait below).
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
    }
    // Elsewhere, kill what we can: the shell itself.
    #[cfg(not(unix))]
    let _ = child.kill();
}
// ANCHOR_END: kill

impl Outcome {
    /// What the command printed, followed by a note when the output was cut or the command
    /// was killed. Lessons 5 and 6 send exactly this; they need no placeholder (below).
    pub fn output_with_notes(&self) -> Vec<u8> {
        let mut reply = self.output.clone();
        if self.produced > self.output.len() as u64 {
            end_line(&mut reply);
            reply.extend_from_slice(
                format!(
                    "[remote shell: output cut to its first {} bytes; the command printed {}]\n",
                    self.output.len(),
                    self.produced
                )
                .as_bytes(),
            );
        }
        if let Some(limit) = self.timed_out_after {
            end_line(&mut reply);
            reply.extend_from_slice(
                format!(
                    "[remote shell: command timed out after {} and was killed]\n",
                    describe(limit)
                )
                .as_bytes(),
            );
        }
        reply
    }

    // ANCHOR: never_empty
    /// The bytes sent back to the client: never empty.
    pub fn reply(&self) -> Vec<u8> {
        let mut reply = self.output_with_notes();
        // Zero bytes would be no reply at all: the client's read would just keep waiting
        // (and a read of 0 bytes means "connection closed"). So a silent command gets a
        // fixed line, in ASCII, which every client can decode (the original's Python client
        // decodes replies as GBK).
        if reply.is_empty() {
            reply = format!(
                "[remote shell: the command printed nothing, {}]\n",
                describe_status(self.status)
            )
            .into_bytes();
        }
        reply
    }
    // ANCHOR_END: never_empty
}

impl Outcome {
    /// One line for the server's log: how the command ended.
    pub fn summary(&self) -> String {
        match self.timed_out_after {
            Some(limit) => format!("timed out after {}, killed", describe(limit)),
            None => describe_status(self.status),
        }
    }
}

/// Starts a new line unless the text is empty or already ends one.
fn end_line(text: &mut Vec<u8>) {
    if text.last().is_some_and(|&b| b != b'\n') {
        text.push(b'\n');
    }
}

/// `10 s`, or `300 ms` for a limit that is not whole seconds.
pub fn describe(limit: Duration) -> String {
    if limit.subsec_millis() == 0 {
        format!("{} s", limit.as_secs())
    } else {
        format!("{} ms", limit.as_millis())
    }
}

/// `exit status 0`, or `killed by signal 9`.
pub fn describe_status(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    if let Some(signal) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return format!("killed by signal {signal}");
    }
    format!("{status}")
}

/// Sends one command and reads its reply with ONE read into a 1024-byte buffer.
///
/// This is the original's `recv(1024)`, kept on purpose: a reply longer than 1024 bytes is
/// cut here, and the rest waits in the socket to be mistaken for the next reply (lesson 4).
/// Zero bytes from `read` means the server closed the connection.
pub fn send_command<S: Read + Write>(conn: &mut S, command: &str) -> io::Result<Vec<u8>> {
    conn.write_all(command.as_bytes())?;
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

/// The client's loop: one line of input, one command, one reply printed.
///
/// Empty lines are skipped and `quit` or end of input ends the session. If the server hangs
/// up, the error is returned (and the `client` command exits with a failure status).
pub fn client_session<S: Read + Write>(
    conn: &mut S,
    mut input: impl BufRead,
    out: &mut impl Write,
    prompt: bool,
) -> io::Result<()> {
    while let Some(command) = next_command(&mut input, out, prompt)? {
        let reply = send_command(conn, &command)?;
        out.write_all(String::from_utf8_lossy(&reply).as_bytes())?;
        // Most replies end with a newline; one cut at 1024 bytes may not. Keep the next
        // prompt on a line of its own.
        if !reply.ends_with(b"\n") {
            writeln!(out)?;
        }
        out.flush()?;
    }
    Ok(())
}
