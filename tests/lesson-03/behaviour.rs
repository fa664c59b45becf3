//! Lesson 3's promises, checked against the real `lesson-03` binary (and, for the parts of
//! running a command that need no network, against the library).

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

use lesson_03::{Limits, run_command, shell_command};
use predicates::str::contains;
use testkit::{Server, TIMEOUT};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-03");

fn server(extra: &[&str]) -> Server {
    let mut args = vec!["server", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    Server::start(BIN, &args)
}

/// Sends `command` and reads until `expected.len()` bytes arrived (or the read timeout).
fn exchange(conn: &mut TcpStream, command: &str, expected: &[u8]) {
    conn.write_all(command.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.len() < expected.len() {
        match testkit::read_some(conn, &mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("read failed after {:?}: {e}", String::from_utf8_lossy(&got)),
        }
    }
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(expected),
        "reply to {command:?}"
    );
}

/// Reads until the reply ends with `suffix` (the server's closing line).
fn read_until_suffix(conn: &mut TcpStream, suffix: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(suffix) {
        match testkit::read_some(conn, &mut buf) {
            Ok(0) => panic!(
                "connection closed after {:?}",
                String::from_utf8_lossy(&got)
            ),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("read failed after {:?}: {e}", String::from_utf8_lossy(&got)),
        }
    }
    got
}

#[test]
fn output_comes_back_byte_for_byte_stdout_and_stderr_together() {
    let server = server(&[]);
    let mut conn = testkit::connect(server.addr());
    exchange(
        &mut conn,
        "printf 'out 1\\n'; printf 'err 1\\n' >&2; printf 'out 2\\n'; printf 'err 2' >&2",
        b"out 1\nerr 1\nout 2\nerr 2",
    );
    // The communication loop goes on: a second command on the same connection.
    exchange(&mut conn, "echo again", b"again\n");
}

#[test]
fn a_command_that_prints_nothing_gets_a_fixed_ascii_reply() {
    let server = server(&[]);
    let mut conn = testkit::connect(server.addr());
    exchange(
        &mut conn,
        "true",
        b"[remote shell: the command printed nothing, exit status 0]\n",
    );
    exchange(
        &mut conn,
        "exit 3",
        b"[remote shell: the command printed nothing, exit status 3]\n",
    );
}

#[cfg(unix)]
fn is_gone(pid: i32) -> bool {
    // SAFETY: kill(2) with signal 0 only checks that the process exists.
    if unsafe { libc::kill(pid, 0) } != 0 {
        return true;
    }
    // A zombie (killed, not yet reaped by its new parent) still answers signal 0.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit(')')
                .next()
                .map(|rest| rest.trim_start().starts_with(['Z', 'X']))
        })
        .unwrap_or(false)
}

#[cfg(unix)]
#[test]
fn a_runaway_command_and_its_children_are_killed_and_the_client_told() {
    let mut server = server(&["--timeout", "1"]);
    let mut conn = testkit::connect(server.addr());
    let start = Instant::now();
    // The shell starts `sleep` in the background, prints its pid, and waits for it.
    conn.write_all(b"sleep 30 & echo $!; wait").unwrap();
    let reply = read_until_suffix(&mut conn, b"was killed]\n");
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(900),
        "killed too early: {elapsed:?}"
    );
    // Not a speed requirement: the background `sleep 30` would have kept the pipe open for
    // 30 s, so anything well short of that proves the group was killed.
    assert!(
        elapsed < Duration::from_secs(20),
        "the reply waited for the background sleep: {elapsed:?}"
    );
    let text = String::from_utf8(reply).unwrap();
    let (pid, note) = text.split_once('\n').unwrap();
    assert_eq!(
        note,
        "[remote shell: command timed out after 1 s and was killed]\n"
    );
    let pid: i32 = pid
        .parse()
        .unwrap_or_else(|_| panic!("first line should be a pid: {text:?}"));
    // The grandchild `sleep` was in the shell's process group, so it died too.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !is_gone(pid) {
        assert!(
            Instant::now() < deadline,
            "the background sleep (pid {pid}) survived the timeout"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server.expect_stderr("timed out after 1 s, killed");
    // The server answers the next command.
    exchange(&mut conn, "echo next", b"next\n");
}

#[test]
fn a_timeout_in_milliseconds_keeps_the_output_so_far() {
    let server = server(&["--timeout-ms", "1500"]);
    let mut conn = testkit::connect(server.addr());
    exchange(
        &mut conn,
        "echo before; sleep 30; echo after",
        b"before\n[remote shell: command timed out after 1500 ms and was killed]\n",
    );
}

#[test]
fn a_client_that_resets_is_followed_by_a_client_served_normally() {
    let mut server = server(&[]);
    let mut conn = testkit::connect(server.addr());
    exchange(&mut conn, "echo one", b"one\n");
    testkit::reset(conn);
    server.expect_stderr("disconnected abnormally");
    let mut conn = testkit::connect(server.addr());
    exchange(&mut conn, "echo two", b"two\n");
    assert!(server.is_running());
}

#[test]
fn a_client_that_closes_is_logged_as_closed_normally() {
    let mut server = server(&[]);
    let mut conn = testkit::connect(server.addr());
    exchange(&mut conn, "echo one", b"one\n");
    drop(conn);
    server.expect_stderr("closed the connection normally");
    let mut conn = testkit::connect(server.addr());
    exchange(&mut conn, "echo two", b"two\n");
}

#[test]
fn a_client_that_vanishes_before_its_reply_does_not_stop_the_server() {
    let mut server = server(&[]);
    let gate = testkit::Gate::new();
    let mut conn = testkit::connect(server.addr());
    // The command waits for the gate, so the client is certainly gone before the server
    // writes the reply: by construction, not by timing.
    conn.write_all(gate.command("seq 1 100000").as_bytes())
        .unwrap();
    server.expect_stderr("running");
    testkit::reset(conn);
    gate.open();
    // Writing ~600 KB to a reset connection fails (EPIPE or ECONNRESET): that ends this
    // connection, not the server.
    server.expect_stderr("disconnected abnormally");
    let mut conn = testkit::connect(server.addr());
    exchange(&mut conn, "echo still here", b"still here\n");
    assert!(server.is_running());
}

#[test]
fn binding_anything_but_loopback_prints_a_warning() {
    let line = testkit::warning_off_loopback(BIN);
    assert!(
        line.contains("anyone who can reach this address can run commands as you"),
        "{line}"
    );
}

#[test]
fn help_shows_the_loopback_default() {
    testkit::assert_loopback_default(BIN, lesson_03::DEFAULT_ADDR);
}

#[test]
fn the_client_prints_replies_and_skips_empty_lines() {
    let server = server(&[]);
    testkit::client(BIN)
        .args(["client", server.addr()])
        .write_stdin("echo hi\n\ntrue\nquit\necho never sent\n")
        .assert()
        .success()
        .stdout("hi\n[remote shell: the command printed nothing, exit status 0]\n");
}

#[test]
fn the_client_reads_once_into_1024_bytes() {
    let server = server(&[]);
    // 2000 zeros, no newline. The server sends them with one write; the client's one read
    // takes the first 1024 and prints them (plus a newline, as the reply had none).
    let expected = format!("{}\n", "0".repeat(1024));
    testkit::client(BIN)
        .args(["client", server.addr()])
        .write_stdin("printf '%02000d' 0\nquit\n")
        .assert()
        .success()
        .stdout(expected);
}

#[test]
fn the_client_says_so_and_fails_when_the_server_hangs_up() {
    // A stand-in server that takes one command and closes without replying.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let fake = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut buf = [0u8; 64];
        let n = testkit::read_some(&mut conn, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"echo hi");
        // Dropping `conn` closes it: the client's read returns 0 bytes.
    });
    testkit::client(BIN)
        .args(["client", &addr])
        .write_stdin("echo hi\n")
        .assert()
        .failure()
        .stderr(contains("the server closed the connection"));
    fake.join().unwrap();
}

/// Chapter 3, for the blocks whose output a test produces (`<!-- check: NAME -->`).
const PAGE: &str = "../../book/src/ch03-remote-shell.md";

/// The original tutorial's client, shipped with the lesson (fixed only to take an address).
fn original_client() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("python/original_client.py")
}

/// Runs the original client with `input` piped in; returns its stdout, then its stderr.
fn run_original_client(addr: &str, input: &str) -> (std::process::ExitStatus, String) {
    let output = testkit::client("python3")
        .arg(original_client())
        .arg(addr)
        // Its own messages are Chinese: print them as UTF-8 whatever the locale says.
        .env("PYTHONIOENCODING", "utf-8")
        .write_stdin(input)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status, text)
}

#[test]
fn the_client_session_in_the_book() {
    // The server runs in a directory of its own, which `pwd` shows: `cd /usr` did not last.
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["server", "127.0.0.1:0"]).current_dir(dir.path());
    let server = Server::spawn(cmd);
    let printed = client_prints(
        server.addr(),
        "echo $((6 * 7))\ncat /no/such/file\ncd /usr\npwd\nquit\n",
    );
    testkit::assert_text_matches(&testkit::book_block(PAGE, "client-session"), &printed);
    assert!(printed.ends_with(&format!(
        "{}\n",
        dir.path().canonicalize().unwrap().display()
    )));
}

#[test]
fn nc_is_a_client_too() {
    if !testkit::have_tool("nc", "-h") {
        return;
    }
    let mut server = server(&[]);
    let (host, port) = server.addr().rsplit_once(':').unwrap();
    // OpenBSD's nc needs -N to close its side at the end of its input; without it, nc
    // would wait for more from the server, and the server for another command.
    let output = testkit::client("sh")
        .args(["-c", &format!("printf 'echo hi\\n' | nc -N {host} {port}")])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    testkit::assert_text_matches(
        &testkit::book_block(PAGE, "nc"),
        &String::from_utf8(output).unwrap(),
    );
    // nc sent the newline too: the command is every byte that arrived.
    server.expect_stderr(r#"running "echo hi\n""#);
    server.expect_stderr("closed the connection normally");
}

#[test]
fn the_original_python_client_works_and_decodes_replies_as_gbk() {
    if !testkit::have_tool("python3", "--version") {
        return;
    }
    let mut server = server(&[]);
    // ASCII replies come through; UTF-8 `你好` is read as GBK (mojibake); `你` alone is not
    // valid GBK and kills the client.
    let (status, printed) = run_original_client(
        server.addr(),
        "echo hello\ntrue\necho 你好\necho 你\nquit\n",
    );
    testkit::assert_text_matches(&testkit::book_block(PAGE, "original-client"), &printed);
    assert!(!status.success());
    server.expect_stderr(r#"running "echo 你""#);
}

#[test]
fn the_original_client_fails_on_a_character_cut_at_1024_bytes() {
    if !testkit::have_tool("python3", "--version") {
        return;
    }
    let server = server(&[]);
    // 1023 zeros, then the 3 bytes of `你`: recv(1024) ends after the character's first byte.
    let (status, printed) = run_original_client(server.addr(), "printf '%01023d你' 0\nquit\n");
    assert!(!status.success());
    assert!(
        printed.ends_with(
            "UnicodeDecodeError: 'gbk' codec can't decode byte 0xe4 in position 1023: \
             incomplete multibyte sequence\n"
        ),
        "{printed}"
    );
}

#[test]
fn gbk_bytes_reach_the_rust_client_as_replacement_characters() {
    // `你好` in GBK is C4 E3 BA C3, what `cmd` on a Chinese Windows would print. We cannot run
    // that here, so printf makes the same bytes.
    let server = server(&[]);
    let printed = client_prints(server.addr(), "printf '\\304\\343\\272\\303\\n'\nquit\n");
    testkit::assert_text_matches(&testkit::book_block(PAGE, "gbk-bytes"), &printed);
}

// ---- Running a command, without the network ----

#[test]
fn output_is_capped_but_the_command_is_never_blocked() {
    // `yes` never stops: it is killed at the timeout, and we keep only `max_output` bytes of
    // the gigabytes it printed meanwhile.
    let limits = Limits {
        timeout: Duration::from_secs(1),
        max_output: 1000,
    };
    let outcome = run_command(shell_command("yes"), &limits).unwrap();
    assert_eq!(outcome.output.len(), 1000);
    assert!(outcome.produced > 1000);
    assert_eq!(outcome.timed_out_after, Some(limits.timeout));
    let reply = String::from_utf8(outcome.reply()).unwrap();
    assert!(
        reply.contains("[remote shell: output cut to its first 1000 bytes"),
        "{reply}"
    );
    assert!(reply.ends_with("[remote shell: command timed out after 1 s and was killed]\n"));
}

#[test]
fn a_full_stderr_pipe_cannot_deadlock_the_server() {
    // ~590 KB on stderr before a word on stdout: with two pipes read in the order stdout,
    // stderr, the command would block on a full stderr pipe while we wait for stdout's end.
    let outcome = run_command(
        shell_command("seq 1 100000 >&2; echo done"),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(outcome.timed_out_after, None);
    assert_eq!(outcome.produced, 588_895 + 5);
    assert!(outcome.output.ends_with(b"99999\n100000\ndone\n"));
}

#[test]
fn commands_get_an_empty_stdin_not_the_servers() {
    // `cat` with no arguments reads stdin: end of file at once, so it exits with no output.
    let outcome = run_command(shell_command("cat"), &Limits::default()).unwrap();
    assert_eq!(outcome.timed_out_after, None);
    assert_eq!(
        outcome.reply(),
        b"[remote shell: the command printed nothing, exit status 0]\n"
    );
}

/// What `lesson-03 client` prints on stdout when it reads `input` from stdin, talking to
/// `addr`; it must end successfully.
fn client_prints(addr: &str, input: &str) -> String {
    testkit::stdout_on_success(
        testkit::client(BIN)
            .args(["client", addr])
            .write_stdin(input),
    )
}

// ---- Every numeric flag is checked before the server listens ----

#[test]
fn every_numeric_flag_refuses_what_is_out_of_range_before_the_server_listens() {
    let server = ["server", "127.0.0.1:0"];
    // u64::MAX seconds used to be accepted, and `Instant::now() + timeout` panicked on the
    // first command; 0 killed every command at once.
    for value in testkit::BAD_SECONDS {
        testkit::assert_flag_refused(BIN, &server, "--timeout", value, "0.001 to 86400");
    }
    for value in ["0", "86400001", "18446744073709551615", "1.5"] {
        testkit::assert_flag_refused(BIN, &server, "--timeout-ms", value, "1 to 86400000");
    }
}

#[test]
fn the_longest_time_limits_are_taken_and_the_first_command_runs() {
    for limit in [["--timeout", "86400"], ["--timeout-ms", "86400000"]] {
        let mut server = server(&limit);
        let mut conn = testkit::connect(server.addr());
        exchange(&mut conn, "echo hi", b"hi\n");
        assert!(server.is_running(), "{limit:?}");
    }
}
