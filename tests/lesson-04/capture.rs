//! The chapter's capture, made again: `tcpdump` on the loopback interface while one command
//! goes through the lesson's server, compared with the block `capture` in chapter 4.
//!
//! What it shows holds on every run, by construction:
//! - The server's two writes leave as two segments. The status line leaves at once: nothing
//!   the server sent is waiting for an acknowledgement. Nagle's algorithm (on by default) then
//!   holds the output back until that acknowledgement comes, so it cannot join the status
//!   line's segment, which has already gone. Each is smaller than one segment can carry on
//!   loopback (about 64 KiB), so neither is cut.
//! - The client's one read takes both: it waits (peeking) until all 22 bytes are in its
//!   receive buffer, as the lesson's demo does, and only then reads.
//!
//! It needs `tcpdump` and the right to capture (root, or CAP_NET_RAW). Without either it
//! skips, unless `COURSE_REQUIRE_TOOLS=1`.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use lesson_04::{read_once, wait_until_buffered};
use testkit::{KillOnDrop, Server, TIMEOUT};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-04");
const PAGE: &str = "../../book/src/ch04-sticky-packets.md";

/// Skips the test (or fails it, under `COURSE_REQUIRE_TOOLS=1`) when tcpdump cannot capture.
fn cannot_capture(why: &str) {
    assert!(
        std::env::var_os("COURSE_REQUIRE_TOOLS").is_none_or(|v| v != "1"),
        "tcpdump cannot capture here, and COURSE_REQUIRE_TOOLS=1: {why}"
    );
    eprintln!("skipped: tcpdump cannot capture here (run as root to see it): {why}");
}

/// The ports in a line `IP 127.0.0.1.FROM > 127.0.0.1.TO: …`.
fn ports(line: &str) -> (u16, u16) {
    let (from, to) = line
        .strip_prefix("IP ")
        .and_then(|l| l.split_once(": "))
        .and_then(|(addrs, _)| addrs.split_once(" > "))
        .unwrap_or_else(|| panic!("not a capture line: {line}"));
    let port = |a: &str| a.rsplit_once('.').unwrap().1.parse().unwrap();
    (port(from), port(to))
}

#[test]
fn two_writes_leave_as_two_segments_and_one_read_takes_both() {
    if !testkit::have_tool("tcpdump", "--version") {
        return;
    }
    let mut server = Server::start(BIN, &["server", "127.0.0.1:0", "--trace"]);
    let port = server.socket_addr().port();

    // Only the handshake's SYNs and the segments that end a write (PSH): five, then stop.
    // -l: print each line at once; -n: numbers, not names; -t: no time stamps, which change
    // with every run; --immediate-mode: hand over each packet as it comes.
    let filter = format!("tcp port {port} and tcp[tcpflags] & (tcp-syn|tcp-push) != 0");
    let mut tcpdump = Command::new("tcpdump");
    tcpdump
        .args([
            "-i",
            "lo",
            "-l",
            "-n",
            "-t",
            "--immediate-mode",
            "-c",
            "5",
            &filter,
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut tcpdump = KillOnDrop(tcpdump.spawn().expect("tcpdump runs"));
    let stderr = testkit::lines_of(tcpdump.0.stderr.take().unwrap());
    // Capturing has started when tcpdump says `listening on`. Without the right to capture,
    // it prints why and exits instead, which closes its stderr.
    let mut said = Vec::new();
    loop {
        match stderr.recv_timeout(TIMEOUT) {
            Ok(line) if line.starts_with("listening on") => break,
            Ok(line) => said.push(line),
            Err(_) => return cannot_capture(&format!("no `listening on` line; it said {said:?}")),
        }
    }

    // One command, as the lesson's client sends it, and one read once both writes are here.
    let mut conn = testkit::connect(server.addr());
    conn.write_all(b"echo hello").unwrap();
    assert_eq!(
        server.expect_stderr("write #1:"),
        "write #1: 16 bytes \"[exit status 0]␊\""
    );
    assert_eq!(
        server.expect_stderr("write #2:"),
        "write #2: 6 bytes \"hello␊\""
    );
    wait_until_buffered(&conn, 22, TIMEOUT).unwrap();
    assert_eq!(
        read_once(&mut conn).unwrap(),
        b"[exit status 0]\nhello\n",
        "one read, bytes of both writes"
    );

    // tcpdump stops by itself after five packets.
    let status = testkit::wait_with_deadline(&mut tcpdump.0, TIMEOUT)
        .expect("tcpdump saw five packets and stopped");
    assert!(status.success(), "tcpdump failed: {status}");
    let mut captured = String::new();
    tcpdump
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut captured)
        .unwrap();
    drop(conn);

    testkit::assert_text_matches(&testkit::book_block(PAGE, "capture"), &captured);
    // The book's block hides the ports; check the directions here. The command goes to the
    // server, and both data segments after it come from the server.
    let lines: Vec<&str> = captured.lines().collect();
    assert_eq!(ports(lines[2]).1, port, "{}", lines[2]);
    assert_eq!(ports(lines[3]).0, port, "{}", lines[3]);
    assert_eq!(ports(lines[4]).0, port, "{}", lines[4]);
}
