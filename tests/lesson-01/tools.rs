//! The chapter's `nc` and `ss` blocks, produced again by running those tools against the
//! lesson's server, and compared with the book (`<!-- check: NAME -->` blocks). Each test skips
//! where its tool is missing, and fails instead under `COURSE_REQUIRE_TOOLS=1` (CI).

use std::io::{Read, Write};
use std::net::Shutdown;
use std::process::{Command, Stdio};

use testkit::{Server, assert_text_matches, book_block, connect, have_tool};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-01");
const PAGE: &str = "../../book/src/ch01-echo.md";

/// The book uses the teaching port 8080; the tests use a port the OS picked.
const SHOWN_PORT: &str = "8080";

/// `text` with `:PORT` written as `:WITH`, where PORT is a whole number (not the start of a
/// longer one). ss pads its port column, so `with` is padded to the same width.
fn replace_port(text: &str, port: u16, with: &str) -> String {
    let needle = format!(":{port}");
    let with = format!(":{with:<w$}", w = port.to_string().len());
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(&needle) {
        let after = &rest[at + needle.len()..];
        let whole = !after.starts_with(|c: char| c.is_ascii_digit());
        out.push_str(&rest[..at]);
        out.push_str(if whole { &with } else { &needle });
        rest = after;
    }
    out + rest
}

/// Runs `ss OPTIONS FILTER` with the server's real port in the filter, as the reader runs it
/// with 8080, and returns the command line and its output as the book shows them. Only the
/// header, the listening socket and this test's own connection are kept: a port number can be
/// reused while another test's old connections on it are still in TIME_WAIT.
fn ss(options: &str, filter: &str, server_port: u16, client_port: Option<u16>) -> String {
    let output = Command::new("ss")
        .args([
            options,
            &filter.replace(SHOWN_PORT, &server_port.to_string()),
        ])
        .stdin(Stdio::null())
        .output()
        .expect("ss runs");
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).expect("ss prints text");
    let ours = |line: &str| {
        client_port.is_some_and(|c| replace_port(line, c, "C") != line)
            || line.starts_with("LISTEN")
    };
    let mut shown = format!("$ ss {options} '{filter}'\n");
    for (i, line) in text.lines().enumerate() {
        if i == 0 || ours(line) {
            shown.push_str(&replace_port(line, server_port, SHOWN_PORT));
            shown.push('\n');
        }
    }
    shown
}

#[test]
fn replace_port_only_replaces_whole_port_numbers() {
    assert_eq!(
        replace_port("a:41733 b:417330 c:41733", 41733, "8080"),
        "a:8080  b:417330 c:8080 "
    );
}

#[test]
fn nc_is_a_client_for_the_echo_server() {
    if !have_tool("nc", "-h") {
        return;
    }
    let help = Command::new("nc").arg("-h").output().expect("nc -h runs");
    let help = String::from_utf8_lossy(&help.stdout) + String::from_utf8_lossy(&help.stderr);
    if !help.contains("OpenBSD netcat") {
        assert!(
            std::env::var_os("COURSE_REQUIRE_TOOLS").is_none_or(|v| v != "1"),
            "the book's `nc -N` is OpenBSD netcat's; this nc is another: {help}"
        );
        eprintln!("skipped: this nc is not OpenBSD netcat");
        return;
    }
    let server = Server::start(BIN, &["server", "127.0.0.1:0"]);
    let port = server.socket_addr().port().to_string();
    let output = testkit::client("nc")
        .args(["-N", "127.0.0.1", &port])
        .write_stdin("hello\nsockets are byte pipes\n")
        .output()
        .expect("nc runs");
    assert!(output.status.success(), "{output:?}");
    let shown = format!(
        "$ printf 'hello\\nsockets are byte pipes\\n' | nc -N 127.0.0.1 8080\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_text_matches(&book_block(PAGE, "nc"), &shown);
}

#[test]
fn ss_shows_the_listening_socket_and_its_backlog() {
    if !have_tool("ss", "-V") {
        return;
    }
    let server = Server::start(BIN, &["server", "127.0.0.1:0"]);
    let port = server.socket_addr().port();
    let shown = ss("-ltn", "sport = :8080", port, None);
    assert_text_matches(&book_block(PAGE, "ss-listen"), &shown);

    let step = Server::start(BIN, &["server", "127.0.0.1:0", "--step-by-step"]);
    let port = step.socket_addr().port();
    let shown = ss("-ltn", "sport = :8080", port, None);
    assert_text_matches(&book_block(PAGE, "ss-listen-step-by-step"), &shown);
}

#[test]
fn ss_shows_a_connection_established_then_in_time_wait_on_the_side_that_closed_first() {
    if !have_tool("ss", "-V") {
        return;
    }
    let mut server = Server::start(BIN, &["server", "127.0.0.1:0"]);
    let port = server.socket_addr().port();
    let mut conn = connect(server.addr());
    let client_port = conn.local_addr().unwrap().port();
    conn.write_all(b"hello").unwrap();
    let mut reply = [0u8; 5];
    // The echo proves the server has accepted us and is in its communication loop.
    conn.read_exact(&mut reply).unwrap();
    let shown = ss("-tan", "sport = :8080", port, Some(client_port));
    assert_text_matches(&book_block(PAGE, "ss-established"), &shown);

    // The client closes first (its FIN), the server answers with its own FIN. Our read
    // returning 0 bytes proves that FIN has arrived, so our end is now in TIME_WAIT.
    conn.shutdown(Shutdown::Write).unwrap();
    assert_eq!(conn.read(&mut reply).unwrap(), 0);
    server.expect_stderr("closed the connection normally");
    let shown = ss("-tan", "dport = :8080", port, Some(client_port));
    assert_text_matches(&book_block(PAGE, "ss-time-wait"), &shown);

    // The server closed second: its end goes away once our last ACK reaches it (LAST_ACK,
    // then nothing). That ACK is in flight on loopback, so ask again until it has landed.
    let deadline = std::time::Instant::now() + testkit::TIMEOUT;
    loop {
        let shown = ss("-tan", "sport = :8080", port, Some(client_port));
        if shown.lines().count() == 3 && shown.lines().nth(2).unwrap().starts_with("LISTEN") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server's end is still there:\n{shown}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
