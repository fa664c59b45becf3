//! Test support shared by every lesson's integration tests.
//!
//! Three promises, so that no test can hang or leave a process behind:
//! - every server a test starts is owned by a [`Server`], which kills and reaps it on drop;
//! - every wait (for the `listening on` line, for a log line, for a client) has a deadline;
//! - every socket from [`connect`] has read and write timeouts.
//!
//! Servers are always started on `127.0.0.1:0`; the real port comes from their first stdout line.

pub mod chat;

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// How long any single wait in a test may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// Closes `conn` with a reset (RST) instead of a normal close: SO_LINGER with a zero timeout
/// makes the kernel drop unsent data and abort the connection, as it also does for a program
/// that closes a socket with unread data. A killed process is not that on Linux: its kernel
/// closes its sockets with an ordinary FIN, unless unread data is waiting (chapter 1).
pub fn reset(conn: TcpStream) {
    socket2::SockRef::from(&conn)
        .set_linger(Some(Duration::ZERO))
        .expect("SO_LINGER can be set on a connected socket");
    drop(conn);
}

/// A reader over fixed bytes that hands them out in small pieces (1, 2, … 7, 1, 2, … bytes, or
/// less when less is asked for), as a network that cut them would, and records every read:
/// how many bytes it asked for (`asked`) and how many it got (`given`). Runs out with `Ok(0)`.
#[derive(Debug)]
pub struct Trickle {
    data: Vec<u8>,
    pos: usize,
    next: usize,
    pub asked: Vec<usize>,
    pub given: Vec<usize>,
}

impl Trickle {
    pub fn new(data: Vec<u8>) -> Trickle {
        Trickle {
            data,
            pos: 0,
            next: 0,
            asked: Vec::new(),
            given: Vec::new(),
        }
    }

    /// How many bytes the reads have taken so far; the rest is still "in the socket".
    pub fn consumed(&self) -> usize {
        self.pos
    }
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.asked.push(buf.len());
        self.next = self.next % 7 + 1;
        let n = buf.len().min(self.next).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        self.given.push(n);
        Ok(n)
    }
}

/// A door in a shell command that the test opens when it is ready.
///
/// `gate.command("echo late")` is a command line that waits until [`Gate::open`] is called,
/// then runs `echo late`. A test can then act (reset its connection, say) while the server's
/// command is certainly still running: by construction, not by timing.
pub struct Gate {
    dir: tempfile::TempDir,
}

impl Gate {
    pub fn new() -> Gate {
        Gate {
            dir: tempfile::tempdir().expect("a temporary directory for the gate"),
        }
    }

    /// A shell command line that waits for the gate to open, then runs `then`.
    pub fn command(&self, then: &str) -> String {
        let door = self.dir.path().join("open");
        format!(
            "while [ ! -e '{}' ]; do sleep 0.01; done; {then}",
            door.display()
        )
    }

    /// Lets every command made by [`Gate::command`] go on.
    pub fn open(&self) {
        std::fs::write(self.dir.path().join("open"), b"").expect("the gate can be opened");
    }
}

impl Default for Gate {
    fn default() -> Gate {
        Gate::new()
    }
}

/// The CLI contract for a server that runs commands or touches files: its default address,
/// shown in `server --help`, is on loopback, on the teaching port 8080.
pub fn assert_loopback_default(bin: impl AsRef<OsStr>, default_addr: &str) {
    let default: std::net::SocketAddr = default_addr.parse().expect("DEFAULT_ADDR is an address");
    assert!(
        default.ip().is_loopback(),
        "the default {default} is not loopback"
    );
    assert_eq!(default.port(), 8080, "the teaching port");
    let output = client(bin)
        .args(["server", "--help"])
        .output()
        .expect("server --help runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains(&format!("[default: {default}]")), "{help}");
    assert!(help.contains("loopback"), "the help should say why: {help}");
}

/// The other half of that contract: bound anywhere but loopback, the server says so on
/// stderr. Returns the warning line, for the lesson to check its wording.
pub fn warning_off_loopback(bin: impl AsRef<OsStr>) -> String {
    warning_off_loopback_with(bin, &[])
}

/// [`warning_off_loopback`] for a server that needs more arguments (say, the folder it serves).
pub fn warning_off_loopback_with(bin: impl AsRef<OsStr>, extra: &[&str]) -> String {
    let mut args = vec!["server", "0.0.0.0:0"];
    args.extend_from_slice(extra);
    let mut server = Server::start(bin, &args);
    assert!(server.addr().starts_with("0.0.0.0:"), "{}", server.addr());
    let line = server.expect_stderr("warning:");
    assert!(line.contains("not a loopback address"), "{line}");
    line
}

/// A server process owned by a test. Dropping it kills the process and waits for it.
#[derive(Debug)]
pub struct Server {
    child: Child,
    addr: String,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    stderr_seen: Vec<String>,
}

impl Server {
    /// Starts `bin args…` and waits (at most [`TIMEOUT`]) for `listening on <addr>` on stdout.
    pub fn start(bin: impl AsRef<OsStr>, args: &[&str]) -> Server {
        let mut cmd = Command::new(bin);
        cmd.args(args);
        Server::spawn(cmd)
    }

    /// Like [`Server::start`], for a command the caller has prepared (current dir, env, …).
    pub fn spawn(mut cmd: Command) -> Server {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("failed to start the server binary");
        let stdout = lines_of(child.stdout.take().expect("stdout is piped"));
        let stderr = lines_of(child.stderr.take().expect("stderr is piped"));
        let mut server = Server {
            child,
            addr: String::new(),
            stdout,
            stderr,
            stderr_seen: Vec::new(),
        };
        let first = server.stdout.recv_timeout(TIMEOUT).unwrap_or_else(|_| {
            let err = server.drain_stderr();
            panic!("the server printed no first line within {TIMEOUT:?}; stderr: {err:?}")
        });
        server.addr = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| {
                panic!("first stdout line should be `listening on ADDR`, got {first:?}")
            })
            .to_string();
        server
    }

    /// The address from the `listening on` line (`127.0.0.1:PORT`, or a socket path).
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The same address, parsed, for a TCP server.
    pub fn socket_addr(&self) -> std::net::SocketAddr {
        self.addr
            .parse()
            .unwrap_or_else(|_| panic!("{:?} is not a socket address", self.addr))
    }

    /// Waits for a stderr line containing `needle` and returns it; panics after [`TIMEOUT`],
    /// showing every stderr line seen so far.
    pub fn expect_stderr(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        if let Some(line) = self.stderr_seen.iter().find(|l| l.contains(needle)) {
            let line = line.clone();
            self.stderr_seen.retain(|l| *l != line);
            return line;
        }
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(line) => self.stderr_seen.push(line),
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => panic!(
                    "no stderr line containing {needle:?} within {TIMEOUT:?}; saw {:?}",
                    self.stderr_seen
                ),
            }
        }
    }

    /// Waits for the next stdout line after the `listening on` line.
    pub fn expect_stdout_line(&mut self) -> String {
        self.stdout
            .recv_timeout(TIMEOUT)
            .unwrap_or_else(|_| panic!("no further stdout line within {TIMEOUT:?}"))
    }

    /// Asks the server to stop the polite way (SIGTERM on Unix), then waits for it (bounded).
    pub fn terminate(mut self) -> ExitStatus {
        #[cfg(unix)]
        {
            let pid = libc::pid_t::try_from(self.child.id()).expect("pid fits in pid_t");
            // SAFETY: kill(2) with a pid we own; it has no memory-safety preconditions.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        #[cfg(not(unix))]
        let _ = self.child.kill();
        wait_with_deadline(&mut self.child, TIMEOUT)
            .unwrap_or_else(|| panic!("the server did not exit within {TIMEOUT:?} of SIGTERM"))
    }

    /// The server's process id (for `/proc/PID/…`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running (it has not crashed or exited).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    fn drain_stderr(&self) -> Vec<String> {
        let mut seen = self.stderr_seen.clone();
        while let Ok(line) = self.stderr.recv_timeout(Duration::from_millis(200)) {
            seen.push(line);
        }
        seen
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Any child process a test owns: killed and reaped on drop.
#[derive(Debug)]
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for `child` to exit, polling for at most `limit`; `None` if it is still running.
pub fn wait_with_deadline(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// A TCP connection to `addr` whose reads and writes fail after [`TIMEOUT`] instead of hanging.
pub fn connect(addr: &str) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
    stream
}

/// `assert_cmd` for a client binary, killed if it runs longer than [`TIMEOUT`].
pub fn client(bin: impl AsRef<OsStr>) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(bin);
    cmd.timeout(TIMEOUT);
    cmd
}

/// Runs `cmd` (made by [`client`], so it cannot hang), fails the test with its stderr unless it
/// exits with status 0, and returns what it printed on stdout, as text.
pub fn stdout_on_success(cmd: &mut assert_cmd::Command) -> String {
    let output = cmd.output().expect("the program can be started");
    assert!(
        output.status.success(),
        "{:?} failed ({}); stderr: {}",
        cmd,
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Every name in `dir`, hidden ones included (a leftover `.part` file counts), sorted.
pub fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| {
            e.expect("a readable entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// One `read`, again if a signal interrupted it. A test process catches SIGCHLD (assert_cmd's
/// timeout does, whenever any child of the test exits), and Linux does not restart a socket
/// read that has a timeout (signal(7)): it fails with `Interrupted`, which is no answer at all.
pub fn read_some(stream: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match stream.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Reads from `stream` until `expected` bytes arrived, end of stream, or the read timeout.
pub fn read_at_least(stream: &mut impl Read, expected: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.len() < expected {
        match read_some(stream, &mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("read failed after {} of {expected} bytes: {e}", got.len()),
        }
    }
    got
}

/// The lines of a child's pipe, as they come, through a channel: a test waits for one with
/// `recv_timeout`, so that no wait is unbounded.
pub fn lines_of(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Re-runs every ```console block of a book page against the binary `name` (built at `bin`),
/// and fails on any difference. `page` is relative to the package being tested, as test
/// binaries run there. A page without a single transcript fails too: it would pass vacuously.
pub fn check_transcripts(name: &str, bin: impl AsRef<std::path::Path>, page: &str) {
    let text = std::fs::read_to_string(page).unwrap_or_else(|e| panic!("cannot read {page}: {e}"));
    assert!(
        text.contains("```console"),
        "{page} has no transcript to check"
    );
    trycmd::TestCases::new()
        .register_bin(name, bin.as_ref())
        .case(page);
    // The cases run when the `TestCases` is dropped, at the end of this statement.
}

/// The path of an example program (`lessons/*/examples/NAME.rs`), as cargo built it beside this
/// test binary (`target/<profile>/examples/NAME`). `cargo test --workspace`, or `cargo test -p
/// lesson-NN`, builds a package's examples before it runs any test; a test run on its own with
/// `--test` does not, so a missing or out-of-date binary fails with the command that builds it.
/// `source` is the example's source file, relative to the package under test.
pub fn example_bin(name: &str, source: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its own path");
    // target/<profile>/deps/<test binary> -> target/<profile>/examples/<name>
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binaries live in target/<profile>/deps");
    let bin = profile_dir
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let rebuild = "build it with `cargo test -p <lesson>` or `cargo build -p <lesson> --examples`";
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| {
            panic!(
                "the example `{name}` is not built ({}): {rebuild}",
                bin.display()
            )
        });
    let written = std::fs::metadata(source)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| panic!("cannot read the example's source {source}: {e}"));
    assert!(
        built >= written,
        "the example `{name}` is older than {source}: {rebuild}"
    );
    bin
}

/// Whether the external program `tool` (python3, nc, tcpdump, …) can be run here. When it
/// cannot, a test that needs it prints why and skips, except when `COURSE_REQUIRE_TOOLS=1`
/// (`.ci/run` sets it after installing them): then a missing tool fails the test.
pub fn have_tool(tool: &str, version_arg: &str) -> bool {
    let ran = Command::new(tool)
        .arg(version_arg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !ran {
        assert!(
            std::env::var_os("COURSE_REQUIRE_TOOLS").is_none_or(|v| v != "1"),
            "`{tool}` is needed by this test and COURSE_REQUIRE_TOOLS=1, but it cannot be run"
        );
        eprintln!("skipped: `{tool}` is not installed here (CI installs it and runs this test)");
    }
    ran
}

/// The text of the fenced block that follows the line `<!-- check: NAME -->` in a book page
/// (`page` relative to the package under test). Blocks whose output a test produces (a capture,
/// `ss`, `nc`, a Python client) are marked so, and the test compares its run with
/// [`assert_text_matches`].
pub fn book_block(page: &str, name: &str) -> String {
    let text = std::fs::read_to_string(page).unwrap_or_else(|e| panic!("cannot read {page}: {e}"));
    let marker = format!("<!-- check: {name} -->");
    let mut lines = text.lines().skip_while(|l| l.trim() != marker);
    assert!(lines.next().is_some(), "{page} has no `{marker}`");
    let fence = lines
        .next()
        .filter(|l| l.starts_with("```"))
        .unwrap_or_else(|| panic!("in {page}, `{marker}` must be followed by a fenced block"));
    let fence = &fence[..fence.len() - fence.trim_start_matches('`').len()];
    let block: Vec<&str> = lines.take_while(|l| l.trim_end() != fence).collect();
    block.join("\n") + "\n"
}

/// Fails unless `actual` matches `expected` line by line, where `[..]` in an expected line
/// stands for any text within that line and a line that is only `...` stands for any number of
/// lines (the notation of trycmd's transcripts).
pub fn assert_text_matches(expected: &str, actual: &str) {
    fn line_matches(pattern: &str, line: &str) -> bool {
        let mut parts = pattern.split("[..]");
        let first = parts.next().unwrap_or("");
        let Some(mut rest) = line.strip_prefix(first) else {
            return false;
        };
        let parts: Vec<&str> = parts.collect();
        for (i, part) in parts.iter().enumerate() {
            if i + 1 == parts.len() {
                return rest.ends_with(part);
            }
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
        rest.is_empty()
    }
    fn matches(pattern: &[&str], lines: &[&str]) -> bool {
        match pattern.split_first() {
            None => lines.is_empty(),
            Some((&"...", more)) => (0..=lines.len()).any(|skip| matches(more, &lines[skip..])),
            Some((p, more)) => {
                lines.first().is_some_and(|l| line_matches(p, l)) && matches(more, &lines[1..])
            }
        }
    }
    let pattern: Vec<&str> = expected.lines().map(str::trim_end).collect();
    let lines: Vec<&str> = actual.lines().map(str::trim_end).collect();
    assert!(
        matches(&pattern, &lines),
        "the output does not match the book.\n--- the book shows:\n{expected}\n--- this run printed:\n{actual}"
    );
}

/// A server started so that no thread it asks for can start, to prove that a failed
/// `thread::Builder::spawn` costs one client, not the server.
///
/// `RUST_MIN_STACK` is the stack size std gives every new thread. A stack of 2^60 bytes fits in
/// no 64-bit address space that Linux gives a process (47 or 56 bits), so each `pthread_create`
/// fails with EAGAIN, every time, as root too (which an `RLIMIT_NPROC` would not achieve: Linux
/// does not apply it to root). Processes still start: `sh` does not care.
#[cfg(target_os = "linux")]
pub fn server_whose_threads_cannot_start(bin: impl AsRef<OsStr>, args: &[&str]) -> Server {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env("RUST_MIN_STACK", (1u64 << 60).to_string());
    Server::spawn(cmd)
}

/// A connection made of prepared reads, which records every byte written to it: a client
/// that sends exactly these pieces, in this order, then closes. Each read returns one piece
/// whole (the caller's buffer must hold it), then 0 for the end of the stream.
#[derive(Debug, Default)]
pub struct Scripted {
    pub reads: std::collections::VecDeque<Vec<u8>>,
    pub written: Vec<u8>,
}

impl Scripted {
    pub fn new(reads: impl IntoIterator<Item = Vec<u8>>) -> Scripted {
        Scripted {
            reads: reads.into_iter().collect(),
            written: Vec::new(),
        }
    }
}

impl Read for Scripted {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(piece) = self.reads.pop_front() else {
            return Ok(0);
        };
        buf[..piece.len()].copy_from_slice(&piece);
        Ok(piece.len())
    }
}

impl std::io::Write for Scripted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Values that no duration flag may take (`course_cli::seconds`: 0.001 to 86400): zero, below a
/// millisecond, over a day, overflowing, and not a number.
pub const BAD_SECONDS: [&str; 7] = [
    "0",
    "-1",
    "0.0001",
    "86400.5",
    "1e300",
    "18446744073709551615",
    "x",
];

/// Runs `BIN ARGS --FLAG=VALUE` and asserts it was refused at start: exit status 2 (a usage
/// error), nothing on stdout (no `listening on`), and a message that names the flag, the value
/// and `range`. `--flag=value`, so that a value such as `-1` is not read as a flag.
#[track_caller]
pub fn assert_flag_refused(
    bin: impl AsRef<OsStr>,
    args: &[&str],
    flag: &str,
    value: &str,
    range: &str,
) {
    let output = client(bin)
        .args(args)
        .arg(format!("{flag}={value}"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{flag} {value}: {stdout}{stderr}"
    );
    assert_eq!(stdout, "", "{flag} {value}: nothing listens");
    for said in [
        format!("invalid value '{value}' for '{flag} <"),
        range.to_string(),
    ] {
        assert!(stderr.contains(&said), "{flag} {value}: {stderr}");
    }
}

#[cfg(test)]
mod tests {
    use super::assert_text_matches;

    #[test]
    fn wildcards_match_within_a_line_and_across_lines() {
        assert_text_matches("a [..] c\n...\nend\n", "a b c\nx\ny\nend\n");
        assert_text_matches("port [..]\n", "port 4242\n");
        assert_text_matches("...\n", "");
    }

    #[test]
    #[should_panic(expected = "does not match")]
    fn a_different_line_fails() {
        assert_text_matches("a [..] c\n", "a b d\n");
    }

    #[test]
    #[should_panic(expected = "does not match")]
    fn a_missing_line_fails() {
        assert_text_matches("one\ntwo\n", "one\n");
    }
}
