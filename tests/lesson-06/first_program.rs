//! Chapter 6's first program (`examples/chunked_server.rs` and `chunked_client.rs`): a reply
//! of hundreds of KiB arrives whole, directly and through a proxy that cuts it into pieces of
//! 1 to 3 bytes, and a reply cut short by the server is an error, not a hang.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;

use netlab::{Directions, Flow, Options, Proxy};
use testkit::{KillOnDrop, Server, TIMEOUT};

const PAGE: &str = "../../book/src/ch06-chunked-receive.md";

fn server() -> Server {
    let bin = testkit::example_bin("chunked_server", "examples/chunked_server.rs");
    Server::start(bin, &["127.0.0.1:0"])
}

fn client_bin() -> std::path::PathBuf {
    testkit::example_bin("chunked_client", "examples/chunked_client.rs")
}

/// What `seq 1 n` prints.
fn seq(n: u32) -> Vec<u8> {
    (1..=n)
        .flat_map(|i| format!("{i}\n").into_bytes())
        .collect()
}

/// Runs the client with `input` on stdin and returns what it printed on stdout and stderr,
/// in one stream, in the order it printed it (as a terminal, or `2>&1`, shows it).
fn run_client(addr: &str, input: &str) -> String {
    let (mut reader, writer) = std::io::pipe().expect("a pipe");
    let mut cmd = Command::new(client_bin());
    cmd.arg(addr)
        .stdin(Stdio::piped())
        .stdout(writer.try_clone().expect("a second end"))
        .stderr(writer);
    let mut child = KillOnDrop(cmd.spawn().expect("the client starts"));
    // The parent's copies of the pipe's write end must go, or the read below never ends.
    drop(cmd);
    let mut stdin = child.0.stdin.take().expect("stdin is piped");
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut out = Vec::new();
        let _ = reader.read_to_end(&mut out);
        let _ = tx.send(out);
    });
    let out = rx
        .recv_timeout(TIMEOUT)
        .expect("the client finished within the time limit");
    let status = testkit::wait_with_deadline(&mut child.0, TIMEOUT).expect("the client exits");
    let out = String::from_utf8(out).expect("the output is text");
    assert!(status.success(), "the client failed: {out}");
    out
}

#[test]
fn a_reply_of_hundreds_of_kib_arrives_whole_as_the_chapter_shows() {
    let mut server = server();
    let out = run_client(server.addr(), "seq 1 3\nseq 1 100000\necho next\nquit\n");
    // Byte for byte, not only the lines the book keeps.
    let mut expected = seq(3);
    expected.extend_from_slice(b"[6 bytes; reads: 1]\n");
    expected.extend_from_slice(&seq(100_000));
    assert!(
        out.as_bytes().starts_with(&expected),
        "the first {} bytes differ",
        expected.len()
    );
    testkit::assert_text_matches(&testkit::book_block(PAGE, "first-program"), &out);
    server.expect_stderr("sent 4 + 588895 bytes");
}

#[test]
fn the_reply_and_its_header_survive_a_proxy_that_cuts_them_into_1_to_3_bytes() {
    let server = server();
    let (trace, pieces) = mpsc::channel();
    // Only what the server sends is cut. The command has no header (one read is one command,
    // as in chapter 3), so a cut command would be run in parts: that hole is not the loop's.
    let options = Options {
        split: Some((1, 3)),
        directions: Directions::ToClient,
        trace: Some(trace),
        ..Options::default()
    };
    let proxy = Proxy::on_loopback(server.socket_addr(), options).expect("the proxy starts");
    let out = run_client(&proxy.local_addr().to_string(), "seq 1 40000\n");
    let mut expected = seq(40_000);
    expected.extend_from_slice(b"[228894 bytes; reads: ");
    assert!(out.as_bytes().starts_with(&expected), "the reply differs");
    // No piece is over 3 bytes, so the 4-byte header itself came in at least two pieces.
    let sent = netlab::pieces_until(&pieces, Flow::ToClient, 4 + 228_894, TIMEOUT).unwrap();
    assert!(sent[0].bytes.len() < 4, "{:?}", sent[0]);
    // At most 1024 bytes per read: at least 224 reads for 228 894 bytes.
    let reads: usize = out
        .rsplit("reads: ")
        .next()
        .unwrap()
        .trim_end()
        .trim_end_matches(']')
        .parse()
        .unwrap();
    assert!(reads >= 228_894_usize.div_ceil(1024), "{reads} reads");
}

#[test]
fn a_reply_cut_short_is_an_error_that_says_how_much_arrived() {
    // A stand-in server that announces 100 bytes, sends 10, and closes.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let fake = thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut command = [0u8; 1024];
        let _ = conn.read(&mut command).unwrap();
        let mut reply = 100u32.to_be_bytes().to_vec();
        reply.extend_from_slice(b"0123456789");
        conn.write_all(&reply).unwrap();
    });
    testkit::client(client_bin())
        .arg(addr.to_string())
        .write_stdin("seq 1 100\n")
        .assert()
        .failure()
        .stderr(predicates::str::contains("closed after 10 of 100 bytes"));
    fake.join().unwrap();
}
