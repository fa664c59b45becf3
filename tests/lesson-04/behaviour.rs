//! Lesson 4's promises, checked against the real `lesson-04` binary. The sticky packets the
//! chapter shows happen in these tests on every run, by construction: a reply larger than the
//! client's one read, and a reader that waits until both writes are buffered before it reads.

use std::io::Write;
use std::net::TcpListener;

use lesson_04::{read_once, wait_until_buffered};
use predicates::str::contains;
use testkit::{Server, TIMEOUT};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-04");

/// The status line of a command that exited with status 0.
const OK: &[u8] = b"[exit status 0]\n";

fn server(extra: &[&str]) -> Server {
    let mut args = vec!["server", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    Server::start(BIN, &args)
}

/// What `seq 1 1000` prints: 3893 bytes.
fn seq_output() -> Vec<u8> {
    (1..=1000)
        .map(|i| format!("{i}\n"))
        .collect::<String>()
        .into_bytes()
}

/// What the client prints for one read: the bytes, and a newline if they did not end a line.
fn shown(read: &[u8]) -> Vec<u8> {
    let mut text = read.to_vec();
    if !text.ends_with(b"\n") {
        text.push(b'\n');
    }
    text
}

/// The sizes in the client's trace lines, `read #N: SIZE bytes …`, in order.
fn read_sizes(trace: &str) -> Vec<usize> {
    trace
        .lines()
        .filter_map(|line| {
            let (_, rest) = line.strip_prefix("read #")?.split_once(": ")?;
            rest.split_once(' ')?.0.parse().ok()
        })
        .collect()
}

// ---- Cause (a): a reply longer than the read ----

#[test]
fn a_long_reply_spills_into_the_next_commands_reply() {
    let mut server = server(&[]);
    let output = testkit::client(BIN)
        .args(["client", server.addr(), "--trace"])
        .write_stdin("seq 1 1000\necho hi\nquit\n")
        .assert()
        .success()
        .get_output()
        .clone();
    // The server answered both commands, in order.
    server.expect_stderr("running \"seq 1 1000\"");
    server.expect_stderr("running \"echo hi\"");

    // What the server wrote, in order: seq's reply (3909 bytes), then echo's (19 bytes).
    let mut stream = OK.to_vec();
    stream.extend_from_slice(&seq_output());
    let seq_reply_len = stream.len();
    assert_eq!(seq_reply_len, 16 + 3893);
    stream.extend_from_slice(OK);
    stream.extend_from_slice(b"hi\n");

    // Each command got ONE read of at most 1024 bytes, and the reads took the stream in order.
    let trace = String::from_utf8_lossy(&output.stderr);
    let sizes = read_sizes(&trace);
    assert_eq!(sizes.len(), 2, "one read per command; trace: {trace}");
    assert!(sizes.iter().all(|&n| (1..=1024).contains(&n)), "{sizes:?}");
    let (first, rest) = stream.split_at(sizes[0]);
    let second = &rest[..sizes[1]];
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&[shown(first), shown(second)].concat()),
        "the client printed exactly what its two reads returned"
    );

    // The point: the "reply" to `echo hi` is more of seq's output. Both reads together took at
    // most 2048 bytes, and seq's reply alone is 3909, so this holds on every run.
    assert!(sizes[0] + sizes[1] < seq_reply_len);
    assert!(
        !second.starts_with(OK) && second.iter().any(u8::is_ascii_digit),
        "the second read should be seq's numbers, got {:?}",
        String::from_utf8_lossy(second)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !stdout.lines().any(|line| line == "hi"),
        "`hi` never reached the client: {stdout}"
    );
    assert_eq!(
        stdout.matches("[exit status").count(),
        1,
        "only seq's status line was read"
    );
}

// ---- Cause (b): two writes, one read ----

#[test]
fn the_status_line_and_the_output_are_two_writes_that_one_read_returns_together() {
    let mut server = server(&["--trace"]);
    let mut conn = testkit::connect(server.addr());
    conn.write_all(b"echo hello").unwrap();
    // The server's trace shows two writes...
    assert_eq!(
        server.expect_stderr("write #1:"),
        "write #1: 16 bytes \"[exit status 0]␊\""
    );
    assert_eq!(
        server.expect_stderr("write #2:"),
        "write #2: 6 bytes \"hello␊\""
    );
    // ...and a reader that waits until both are buffered gets them in ONE read.
    wait_until_buffered(&conn, 22, TIMEOUT).unwrap();
    assert_eq!(read_once(&mut conn).unwrap(), b"[exit status 0]\nhello\n");
    // The next reply continues the numbering: writes #3 and #4.
    conn.write_all(b"echo again").unwrap();
    server.expect_stderr("write #3: 16 bytes \"[exit status 0]␊\"");
    server.expect_stderr("write #4: 6 bytes \"again␊\"");
    assert_eq!(
        testkit::read_at_least(&mut conn, 22),
        b"[exit status 0]\nagain\n"
    );
}

#[test]
fn the_status_line_says_how_the_command_ended() {
    let server = server(&[]);
    let mut conn = testkit::connect(server.addr());
    conn.write_all(b"exit 3").unwrap();
    let expected: &[u8] =
        b"[exit status 3]\n[remote shell: the command printed nothing, exit status 3]\n";
    assert_eq!(
        testkit::read_at_least(&mut conn, expected.len()),
        expected,
        "a status line, then chapter 3's reply"
    );
}

// ---- The CLI contract ----

#[test]
fn the_client_is_scriptable_skips_empty_lines_and_stops_at_quit() {
    let mut server = server(&[]);
    let output = testkit::client(BIN)
        .args(["client", server.addr()])
        .write_stdin("echo hi\n\n   \nquit\necho never sent\n")
        .assert()
        .success()
        .get_output()
        .clone();
    // One read: the status line, perhaps with the output if it had arrived by then.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        ["[exit status 0]\n", "[exit status 0]\nhi\n"].contains(&stdout.as_ref()),
        "{stdout:?}"
    );
    assert!(output.stderr.is_empty(), "no trace unless asked for");
    assert_eq!(server.expect_stderr("running"), "running \"echo hi\"");
    // The server serves one client at a time: once it runs the next client's command, the
    // first client is gone, and it never sent the line after `quit`.
    let mut conn = testkit::connect(server.addr());
    conn.write_all(b"echo done").unwrap();
    assert_eq!(server.expect_stderr("running"), "running \"echo done\"");
}

#[test]
fn the_client_traces_each_read_on_stderr() {
    let server = server(&[]);
    let output = testkit::client(BIN)
        .args(["client", server.addr(), "--trace"])
        .write_stdin("printf x\n")
        .assert()
        .success()
        .get_output()
        .clone();
    let trace = String::from_utf8_lossy(&output.stderr);
    assert!(
        trace.starts_with("read #1: ") && trace.lines().count() == 1,
        "{trace:?}"
    );
}

#[test]
fn a_client_that_resets_is_followed_by_a_client_served_normally() {
    let mut server = server(&[]);
    let mut conn = testkit::connect(server.addr());
    conn.write_all(b"echo one").unwrap();
    assert_eq!(
        testkit::read_at_least(&mut conn, 20),
        b"[exit status 0]\none\n"
    );
    testkit::reset(conn);
    server.expect_stderr("disconnected abnormally");
    let mut conn = testkit::connect(server.addr());
    conn.write_all(b"echo two").unwrap();
    assert_eq!(
        testkit::read_at_least(&mut conn, 20),
        b"[exit status 0]\ntwo\n"
    );
    assert!(server.is_running());
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
        let n = std::io::Read::read(&mut conn, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"echo hi");
    });
    testkit::client(BIN)
        .args(["client", &addr])
        .write_stdin("echo hi\n")
        .assert()
        .failure()
        .stderr(contains("the server closed the connection"));
    fake.join().unwrap();
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
    testkit::assert_loopback_default(BIN, lesson_04::DEFAULT_ADDR);
}

// ---- The receive buffer (the chapter's deep dive "why the bytes travel the way they do") ----

/// On Linux a fresh connection's receive buffer is the middle number of `tcp_rmem` (128 KiB on
/// the machine the course is tested on), and the kernel grows it as the program reads
/// (autotuning), so no fixed kernel number bounds what one read can return.
#[cfg(target_os = "linux")]
#[test]
fn a_fresh_receive_buffer_is_tcp_rmem_default_and_grows_as_the_program_reads() {
    use std::io::Read;
    use std::net::TcpStream;

    let sysctl = |name: &str| {
        std::fs::read_to_string(format!("/proc/sys/net/ipv4/{name}"))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let default: usize = sysctl("tcp_rmem")
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("tcp_rmem holds three numbers");
    if sysctl("tcp_moderate_rcvbuf").trim() == "0" {
        eprintln!("skipped: autotuning is off here (net.ipv4.tcp_moderate_rcvbuf = 0)");
        return;
    }
    let size = |conn: &TcpStream| socket2::SockRef::from(conn).recv_buffer_size().unwrap();

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut reader = testkit::connect(&listener.local_addr().unwrap().to_string());
    let (mut writer, _) = listener.accept().unwrap();
    assert_eq!(
        size(&reader),
        default,
        "a fresh connection's receive buffer"
    );

    // 64 MiB, read as fast as it comes.
    const MIB: usize = 1 << 20;
    let sender = std::thread::spawn(move || {
        let chunk = vec![0u8; MIB];
        for _ in 0..64 {
            writer.write_all(&chunk).unwrap();
        }
    });
    let mut buf = vec![0u8; MIB];
    let mut got = 0;
    while got < 64 * MIB {
        let n = reader.read(&mut buf).unwrap();
        assert!(n > 0, "the stream ended after {got} bytes");
        got += n;
    }
    sender.join().unwrap();
    let grown = size(&reader);
    eprintln!("receive buffer: {default} bytes fresh, {grown} after 64 MiB");
    assert!(grown > default, "autotuning should have grown it: {grown}");
}

// ---- The trace format ----

#[test]
fn the_trace_shows_the_exact_ends_of_a_read() {
    use lesson_04::{describe, preview};
    assert_eq!(preview(b"[exit status 0]\n"), "\"[exit status 0]␊\"");
    // The demo's first read: the ends are trimmed to whole lines inside, never at the edges.
    let mut reply = OK.to_vec();
    reply.extend_from_slice(&seq_output());
    assert_eq!(
        describe(&reply[..1024]),
        "1024 bytes \"[exit status 0]␊1␊2␊\"…\"276␊277␊278␊279␊\""
    );
    // A read that stops in the middle of a number shows exactly where it stopped.
    assert!(describe(&reply[..1022]).ends_with("…\"275␊276␊277␊278␊27\""));
    // No newline near the ends: 20 bytes of each end.
    let xs = [b'x'; 100];
    assert_eq!(
        preview(&xs),
        format!("\"{}\"…\"{}\"", "x".repeat(20), "x".repeat(20))
    );
    // Other control characters and bytes that are not UTF-8.
    assert_eq!(preview(b"a\tb\r\n\xff"), "\"a␉b␍␊\u{fffd}\"");
}
