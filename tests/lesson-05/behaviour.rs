//! Lesson 5's promises, checked against the real `lesson-05` binary, the library's functions,
//! and the network lab.
//!
//! The classic protocol frames neither the command nor the length, so a test that goes through
//! a proxy that splits must not depend on where a cut falls in them. The rules followed here:
//! splitting is applied toward the client only; a test that checks the server's bytes does the
//! handshake itself, reading exactly the number of digits it expects; the client's one-read
//! receive is tested on the data phase, after the test did the length; the client binary runs
//! directly or through a lab that merges (merging never cuts a message).

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use lesson_05::{ACK, MAX_REPLY, expect_ack, parse_length, recv_reply};
use netlab::{Directions, Flow, Options, Proxy};
use predicates::str::contains;
use testkit::{Server, TIMEOUT};

#[path = "../original/length_prefix.rs"]
mod original;

const BIN: &str = env!("CARGO_BIN_EXE_lesson-05");

fn server(extra: &[&str]) -> Server {
    let mut args = vec!["server", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    Server::start(BIN, &args)
}

/// A command that prints exactly `n` bytes of `x`, and those bytes.
fn xs(n: usize) -> (String, Vec<u8>) {
    (format!("head -c {n} /dev/zero | tr '\\0' x"), vec![b'x'; n])
}

/// A command that prints the first `n` bytes of `seq 1 200000`, and those bytes: varied
/// bytes, so a piece lost, doubled or out of order shows.
fn seq(n: usize) -> (String, Vec<u8>) {
    let all: Vec<u8> = (1..=200_000)
        .flat_map(|i| format!("{i}\n").into_bytes())
        .collect();
    assert!(n <= all.len());
    (format!("seq 1 200000 | head -c {n}"), all[..n].to_vec())
}

/// Every size the chapter promises: nothing, around the original's 1024-byte reads, and more
/// than 1 MiB.
fn cases() -> Vec<(String, Vec<u8>)> {
    vec![
        ("true".to_string(), Vec::new()),
        xs(1023),
        xs(1024),
        seq(1025),
        seq(1024 * 1024 + 1),
    ]
}

/// The four steps, done by the test: it knows the output, so it reads exactly as many digits
/// as the length has, then exactly `length` bytes. Checks every byte the server sent.
fn exchange(conn: &mut TcpStream, command: &str, expected: &[u8]) {
    conn.write_all(command.as_bytes()).unwrap();
    let digits = expected.len().to_string();
    let mut got = vec![0u8; digits.len()];
    conn.read_exact(&mut got)
        .unwrap_or_else(|e| panic!("reading the length for {command:?}: {e}"));
    assert_eq!(
        String::from_utf8_lossy(&got),
        digits,
        "the length for {command:?}"
    );
    conn.write_all(ACK).unwrap();
    let mut data = vec![0u8; expected.len()];
    conn.read_exact(&mut data)
        .unwrap_or_else(|e| panic!("reading the output of {command:?}: {e}"));
    assert!(
        data == expected,
        "the output of {command:?} differs ({} bytes)",
        data.len()
    );
}

/// All the sizes on one connection, then one more command. Had the server sent a byte too
/// many, or too few, the next length would be wrong.
fn every_size(addr: SocketAddr) {
    let mut conn = testkit::connect(&addr.to_string());
    for (command, expected) in cases() {
        exchange(&mut conn, &command, &expected);
    }
    exchange(&mut conn, "echo next", b"next\n");
}

fn lab(to: SocketAddr, options: Options) -> Proxy {
    Proxy::on_loopback(to, options).expect("the proxy starts")
}

/// Reads until the peer closes; panics on a timeout. What arrived.
fn read_until_closed(conn: &mut TcpStream) -> Vec<u8> {
    let mut rest = Vec::new();
    conn.read_to_end(&mut rest)
        .unwrap_or_else(|e| panic!("expected the server to close the connection: {e}"));
    rest
}

/// After a bad client, a good one is served normally.
fn still_serving(server: &mut Server) {
    assert!(server.is_running());
    let mut conn = testkit::connect(server.addr());
    exchange(&mut conn, "echo still here", b"still here\n");
}

// ---- Exact bytes ----

#[test]
fn the_server_sends_exact_lengths_and_bytes() {
    let server = server(&[]);
    every_size(server.socket_addr());
}

#[test]
fn exact_bytes_through_the_lab_splitting_toward_the_client() {
    let server = server(&[]);
    for seed in [1, 2] {
        let proxy = lab(
            server.socket_addr(),
            Options {
                split: Some((1, 7)),
                seed,
                directions: Directions::ToClient,
                ..Options::default()
            },
        );
        every_size(proxy.local_addr());
    }
}

#[test]
fn exact_bytes_through_the_lab_merging_both_ways() {
    let server = server(&[]);
    let proxy = lab(
        server.socket_addr(),
        Options {
            merge: true,
            ..Options::default()
        },
    );
    every_size(proxy.local_addr());
}

#[test]
fn the_output_cap_is_announced_in_the_length() {
    let server = server(&["--max-output", "1000"]);
    let mut conn = testkit::connect(server.addr());
    let mut expected = vec![b'x'; 1000];
    expected.extend_from_slice(
        b"\n[remote shell: output cut to its first 1000 bytes; the command printed 1500]\n",
    );
    exchange(&mut conn, &xs(1500).0, &expected);
}

// ---- The client binary ----

/// The commands of `cases()` below 1 MiB, as the client's input, and what it must print.
fn small_cases_script() -> (String, Vec<u8>) {
    let mut input = String::new();
    let mut output = Vec::new();
    for (command, expected) in cases().into_iter().filter(|(_, e)| e.len() < 2048) {
        input.push_str(&command);
        input.push('\n');
        output.extend_from_slice(&expected);
    }
    input.push_str("echo done\nquit\necho never sent\n");
    output.extend_from_slice(b"done\n");
    (input, output)
}

#[test]
fn the_client_prints_exactly_the_output() {
    let server = server(&[]);
    let (input, output) = small_cases_script();
    testkit::client(BIN)
        .args(["client", server.addr()])
        .write_stdin(input)
        .assert()
        .success()
        .stdout(output)
        .stderr("");
}

#[test]
fn the_client_prints_exactly_the_output_through_the_merging_lab() {
    let server = server(&[]);
    let proxy = lab(
        server.socket_addr(),
        Options {
            merge: true,
            ..Options::default()
        },
    );
    let (input, output) = small_cases_script();
    testkit::client(BIN)
        .args(["client", &proxy.local_addr().to_string()])
        .write_stdin(input)
        .assert()
        .success()
        .stdout(output)
        .stderr("");
}

#[test]
fn the_client_skips_empty_lines_and_stops_at_quit() {
    let server = server(&[]);
    testkit::client(BIN)
        .args(["client", server.addr()])
        .write_stdin("echo hi\n\n   \ntrue\necho there\nquit\necho never sent\n")
        .assert()
        .success()
        .stdout("hi\nthere\n");
}

#[test]
fn the_clients_one_read_falls_short_through_the_lab() {
    // The lab cuts everything the server sends into pieces of 1 to 7 bytes. A read returns
    // what has arrived, so the one read cannot return a mebibyte.
    let server = server(&[]);
    let proxy = lab(
        server.socket_addr(),
        Options {
            split: Some((1, 7)),
            directions: Directions::ToClient,
            ..Options::default()
        },
    );
    let mut conn = testkit::connect(&proxy.local_addr().to_string());
    let (command, expected) = seq(1024 * 1024 + 1);
    conn.write_all(command.as_bytes()).unwrap();
    let mut digits = [0u8; 7];
    conn.read_exact(&mut digits).unwrap();
    assert_eq!(&digits, b"1048577");
    conn.write_all(ACK).unwrap();
    let got = recv_reply(&mut conn, expected.len()).unwrap();
    assert!(!got.is_empty());
    assert!(
        got.len() < expected.len(),
        "one read returned all {} bytes",
        got.len()
    );
    assert!(
        expected.starts_with(&got),
        "the bytes it did return are the reply's first ones"
    );
}

#[test]
fn the_client_says_when_one_read_falls_short_and_the_next_command_trips() {
    // Directly, without the lab: a socket's receive buffer starts at 128 KiB on Linux
    // (tcp_rmem), far less than the reply, so one read cannot take it all. The length itself
    // is one write of seven digits, read whole.
    let server = server(&[]);
    let (command, expected) = xs(1024 * 1024 + 1);
    let output = testkit::client(BIN)
        .args(["client", server.addr()])
        .write_stdin(format!("{command}\necho next\n"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let got = output.stdout.len();
    assert!(got > 0 && got < expected.len(), "printed {got} bytes");
    assert!(expected.starts_with(&output.stdout));
    assert!(
        stderr.contains(&format!(
            "[got {got} of 1048577 bytes; the rest is still in the socket]"
        )),
        "{stderr}"
    );
    // The next command's length read returns the leftover x's: refused, not believed.
    assert!(
        stderr.contains("the server's length is not a number: \"x"),
        "{stderr}"
    );
    assert!(!output.status.success());
}

#[test]
fn the_original_python_client_gets_every_byte() {
    let mut server = server(&[]);
    if original::check_original_client(server.addr(), &cases()) {
        server.expect_stderr("closed the connection normally");
    }
}

const PAGE: &str = "../../book/src/ch05-length-prefix.md";

#[test]
fn the_scripted_client_prints_what_the_chapter_shows() {
    let server = server(&[]);
    // stdout and stderr together, as the chapter shows them: `2>&1` through sh. The client
    // flushes each reply before it writes its note on stderr, so the order is fixed; where
    // the one read ends varies, and the chapter shows `[..]` there. No backtrace under the
    // final error, whatever the environment says.
    let output = testkit::client("sh")
        .args(["-c", "\"$0\" client \"$1\" 2>&1", BIN, server.addr()])
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .write_stdin("echo hello\ntrue\nseq 1 100000\necho next\n")
        .output()
        .unwrap();
    assert!(!output.status.success());
    testkit::assert_text_matches(
        &testkit::book_block(PAGE, "lesson-client"),
        &String::from_utf8_lossy(&output.stdout),
    );
}

#[test]
fn the_shipped_original_client_runs_as_the_chapter_shows() {
    if !testkit::have_tool("python3", "--version") {
        return;
    }
    let mut server = server(&[]);
    // The very file the chapter tells the reader to run, unchanged, with the server's address
    // as its argument instead of the default address it has in the tutorial.
    let printed = testkit::stdout_on_success(
        testkit::client("python3")
            .args(["python/original_client.py", server.addr()])
            // It prints a Chinese label: UTF-8, whatever this machine's locale is.
            .env("PYTHONIOENCODING", "utf-8")
            .write_stdin("echo hello\ntrue\nquit\n"),
    );
    testkit::assert_text_matches(&testkit::book_block(PAGE, "original-client"), &printed);
    server.expect_stderr("closed the connection normally");
}

// ---- What the lab shows about the protocol ----

#[test]
fn the_length_itself_leaves_the_lab_in_pieces() {
    // The server writes the seven digits of 1048577 in one write. The lab re-sends them in
    // pieces of at most 3 bytes: at least three pieces, whatever the seed. A client's one read
    // could return any prefix of them; nothing in the protocol says where the digits end.
    let server = server(&[]);
    let (trace_tx, trace) = mpsc::channel();
    let proxy = lab(
        server.socket_addr(),
        Options {
            split: Some((1, 3)),
            directions: Directions::ToClient,
            trace: Some(trace_tx),
            ..Options::default()
        },
    );
    let mut conn = testkit::connect(&proxy.local_addr().to_string());
    conn.write_all(seq(1024 * 1024 + 1).0.as_bytes()).unwrap();
    let mut digits = [0u8; 7];
    conn.read_exact(&mut digits).unwrap();
    assert_eq!(&digits, b"1048577");
    let pieces = netlab::pieces_until(&trace, Flow::ToClient, 7, TIMEOUT).expect("a trace line");
    let joined: Vec<u8> = pieces.iter().flat_map(|p| p.bytes.clone()).collect();
    assert_eq!(joined, b"1048577");
    assert!(pieces.len() >= 3, "{pieces:?}");
    assert!(pieces.iter().all(|p| p.bytes.len() <= 3));
    assert_eq!(pieces[0].offset, 0);
    assert!(pieces[0].to_string().starts_with("[1] server->client @0 +"));
}

// ---- The acknowledgement ----

/// A stream that hands out scripted pieces, one per read, and panics if read after its
/// script: proof that the caller did not wait for more.
struct Script(VecDeque<&'static [u8]>);

impl Read for Script {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let piece = self
            .0
            .pop_front()
            .expect("read again after the script ended: it waited for bytes it did not need");
        assert!(
            piece.len() <= buf.len(),
            "asked for fewer bytes than the piece"
        );
        buf[..piece.len()].copy_from_slice(piece);
        Ok(piece.len())
    }
}

#[test]
fn an_acknowledgement_in_pieces_is_accepted() {
    let mut conn = Script([&b"rec"[..], b"v_", b"r", b"eady"].into());
    expect_ack(&mut conn).unwrap();
    assert!(conn.0.is_empty());
}

#[test]
fn a_wrong_acknowledgement_fails_at_its_first_wrong_byte() {
    for (pieces, shown) in [
        (vec![&b"ok"[..]], r#"got "ok""#),
        (vec![b"RECV_READY"], r#"got "RECV_READY""#),
        (vec![b"recv_", b"s"], r#"got "recv_s""#),
        (vec![b"\xff\x00"], r#"got "\xff\x00""#),
    ] {
        // The script ends after the wrong byte: reading again would panic.
        let mut conn = Script(pieces.into());
        let e = expect_ack(&mut conn).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidData);
        let message = e.to_string();
        assert!(
            message.starts_with(r#"wrong acknowledgement: expected "recv_ready", "#),
            "{message}"
        );
        assert!(message.ends_with(shown), "{message}");
    }
}

#[test]
fn the_server_takes_an_acknowledgement_cut_by_the_lab() {
    // The lab cuts what the client sends into pieces of 1 to 3 bytes, 5 ms apart. The
    // commands are one byte long (`:` prints nothing), because an unframed command could be
    // cut too; the acknowledgement, read in pieces, must be put back together.
    let mut server = server(&[]);
    let proxy = lab(
        server.socket_addr(),
        Options {
            split: Some((1, 3)),
            delay: Duration::from_millis(5),
            directions: Directions::ToServer,
            ..Options::default()
        },
    );
    let mut conn = testkit::connect(&proxy.local_addr().to_string());
    for _ in 0..2 {
        conn.write_all(b":").unwrap();
        let mut length = [0u8; 1];
        conn.read_exact(&mut length).unwrap();
        assert_eq!(&length, b"0");
        conn.write_all(ACK).unwrap();
        server.expect_stderr("acknowledged; sending 0 bytes");
    }
}

#[test]
fn a_wrong_acknowledgement_ends_that_connection_at_once() {
    // The idle timeout is 300 s and `expect_stderr` waits 10 s at most: a server that waited
    // for the other 8 bytes of "recv_ready" would fail this test.
    let mut server = server(&[]);
    for (ack, shown) in [
        (&b"ok"[..], r#"got "ok""#),
        (b"RECV_READY", r#"got "RECV_READY""#),
        (b"\xff\xfe garbage", r#"got "\xff"#),
    ] {
        let mut conn = testkit::connect(server.addr());
        conn.write_all(b"echo hi").unwrap();
        let mut length = [0u8; 1];
        conn.read_exact(&mut length).unwrap();
        assert_eq!(&length, b"3");
        conn.write_all(ack).unwrap();
        let line = server.expect_stderr("wrong acknowledgement");
        assert!(line.contains(r#"expected "recv_ready""#), "{line}");
        assert!(line.contains(shown), "{line}");
        assert!(line.contains("closing the connection"), "{line}");
        assert!(
            read_until_closed(&mut conn).is_empty(),
            "no data after a wrong ack"
        );
        still_serving(&mut server);
    }
}

// ---- Clients that misbehave or vanish ----

#[test]
fn a_reset_while_the_server_waits_for_the_ack_ends_only_that_connection() {
    let mut server = server(&[]);
    let mut conn = testkit::connect(server.addr());
    conn.write_all(b"echo hi").unwrap();
    let mut length = [0u8; 1];
    conn.read_exact(&mut length).unwrap();
    testkit::reset(conn);
    server.expect_stderr("disconnected abnormally: connection reset");
    still_serving(&mut server);
}

#[test]
fn a_reset_between_commands_ends_only_that_connection() {
    let mut server = server(&[]);
    let mut conn = testkit::connect(server.addr());
    exchange(&mut conn, "echo one", b"one\n");
    testkit::reset(conn);
    server.expect_stderr("disconnected abnormally: connection reset");
    still_serving(&mut server);
}

#[test]
fn a_client_that_leaves_before_acknowledging_is_logged_clearly() {
    let mut server = server(&[]);
    let mut conn = testkit::connect(server.addr());
    conn.write_all(b"echo hi").unwrap();
    let mut length = [0u8; 1];
    conn.read_exact(&mut length).unwrap();
    conn.write_all(b"recv_").unwrap();
    drop(conn);
    let line = server.expect_stderr("closed the connection before acknowledging");
    assert!(
        line.ends_with(r#"(it sent only "recv_"); closing the connection"#),
        "{line}"
    );
    still_serving(&mut server);
}

#[test]
fn a_client_that_vanishes_before_its_length_does_not_stop_the_server() {
    let mut server = server(&[]);
    let gate = testkit::Gate::new();
    let mut conn = testkit::connect(server.addr());
    // The command waits for the gate, so the client is certainly gone before the server
    // writes the length: by construction, not by timing.
    conn.write_all(gate.command("echo late").as_bytes())
        .unwrap();
    server.expect_stderr("running");
    testkit::reset(conn);
    gate.open();
    server.expect_stderr("disconnected abnormally");
    still_serving(&mut server);
}

#[test]
fn a_command_that_cannot_run_gets_a_reply_not_a_crash() {
    // A NUL byte cannot be passed to a program: the command fails to start, and the client
    // hears why.
    let server = server(&[]);
    let mut conn = testkit::connect(server.addr());
    conn.write_all(b"echo \x00garbage\xff").unwrap();
    let length = lesson_05::recv_length(&mut conn).unwrap();
    conn.write_all(ACK).unwrap();
    let mut reply = vec![0u8; length];
    conn.read_exact(&mut reply).unwrap();
    let reply = String::from_utf8_lossy(&reply);
    assert!(
        reply.starts_with("[remote shell: could not run the command: "),
        "{reply}"
    );
    exchange(&mut conn, "echo next", b"next\n");
}

#[test]
fn a_silent_client_is_dropped_after_the_idle_timeout() {
    let mut server = server(&["--idle-timeout", "1"]);
    // Silent before its command.
    let mut quiet = testkit::connect(server.addr());
    server.expect_stderr("connected from");
    server.expect_stderr("silent for 1 s; closing the connection");
    assert!(read_until_closed(&mut quiet).is_empty());
    // Silent instead of acknowledging.
    let mut conn = testkit::connect(server.addr());
    conn.write_all(b"echo hi").unwrap();
    let mut length = [0u8; 1];
    conn.read_exact(&mut length).unwrap();
    server.expect_stderr("silent for 1 s; closing the connection");
    assert!(read_until_closed(&mut conn).is_empty());
    still_serving(&mut server);
}

// ---- The client checks the length ----

/// A stand-in server for one connection, running `script` on it.
fn fake_server(script: impl FnOnce(TcpStream) + Send + 'static) -> (String, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(TIMEOUT)).unwrap();
        script(conn);
    });
    (addr, handle)
}

/// Sends `length` after the command, then keeps the connection open until the client leaves
/// (so a client that waited for more digits would hang) and checks the client sent nothing
/// more: no `recv_ready` for a length it refused.
fn fake_length(length: &'static [u8]) -> (String, JoinHandle<()>) {
    fake_server(move |mut conn| {
        let mut buf = [0u8; 64];
        let n = testkit::read_some(&mut conn, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"echo hi");
        conn.write_all(length).unwrap();
        let mut rest = Vec::new();
        conn.read_to_end(&mut rest).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&rest),
            "",
            "the client acknowledged a length it should refuse"
        );
    })
}

/// Runs the client against a fake server, sending `echo hi`: the client must fail, saying
/// `message` on stderr, and the fake server's own checks must pass.
fn client_fails_saying(addr: &str, fake: JoinHandle<()>, message: impl Into<String>) {
    testkit::client(BIN)
        .args(["client", addr])
        .write_stdin("echo hi\n")
        .assert()
        .failure()
        .stderr(contains(message.into()));
    fake.join().unwrap();
}

#[test]
fn the_client_refuses_a_length_that_is_not_a_number() {
    let (addr, fake) = fake_length(b"abc");
    client_fails_saying(&addr, fake, r#"the server's length is not a number: "abc""#);
}

#[test]
fn the_client_refuses_an_absurd_length() {
    let (addr, fake) = fake_length(b"99999999999999999999");
    client_fails_saying(
        &addr,
        fake,
        "the server announced 99999999999999999999 bytes, more than this client accepts (67108864)",
    );
}

#[test]
fn the_client_says_so_when_the_server_hangs_up_instead_of_a_length() {
    let (addr, fake) = fake_server(|mut conn| {
        let mut buf = [0u8; 64];
        let n = testkit::read_some(&mut conn, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"echo hi");
    });
    client_fails_saying(
        &addr,
        fake,
        "the server closed the connection instead of sending a length",
    );
}

#[test]
fn the_client_says_so_when_the_server_hangs_up_instead_of_the_data() {
    let (addr, fake) = fake_server(|mut conn| {
        let mut buf = [0u8; 64];
        let n = testkit::read_some(&mut conn, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"echo hi");
        conn.write_all(b"5").unwrap();
        let mut ack = [0u8; 10];
        conn.read_exact(&mut ack).unwrap();
        assert_eq!(&ack, ACK);
    });
    client_fails_saying(
        &addr,
        fake,
        "the server closed the connection after announcing 5 bytes and sending none",
    );
}

#[test]
fn parse_length_believes_only_plain_digits_up_to_the_cap() {
    for good in ["0", "5", "007", "1048577", &MAX_REPLY.to_string()] {
        assert_eq!(
            parse_length(good.as_bytes()).unwrap(),
            good.parse::<usize>().unwrap(),
            "{good:?}"
        );
    }
    let too_big = (MAX_REPLY + 1).to_string();
    let too_long = "1".repeat(21);
    for bad in [
        "",
        "+5",
        "-5",
        " 5",
        "5 ",
        "5\n",
        "1_0",
        "0x10",
        "abc",
        "١٢",
        too_big.as_str(),
        "18446744073709551616",
        too_long.as_str(),
    ] {
        let e = parse_length(bad.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidData, "{bad:?}");
    }
}

// ---- The command-line contract ----

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
    testkit::assert_loopback_default(BIN, lesson_05::DEFAULT_ADDR);
    // The client connects to the same default.
    testkit::client(BIN)
        .args(["client", "--help"])
        .assert()
        .success()
        .stdout(contains(format!("[default: {}]", lesson_05::DEFAULT_ADDR)));
    testkit::client(BIN)
        .args(["server", "--help"])
        .assert()
        .success()
        .stdout(contains("--idle-timeout"))
        // Five minutes: a student reading a reply between two commands keeps the connection.
        .stdout(contains(format!(
            "[default: {}]",
            lesson_05::DEFAULT_IDLE_TIMEOUT.as_secs()
        )))
        .stdout(contains("--max-output"));
}

#[test]
fn a_client_with_no_server_fails_clearly() {
    // A port nobody listens on: bind one, note it, close it.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    testkit::client(BIN)
        .args(["client", &addr])
        .write_stdin("echo hi\n")
        .assert()
        .failure()
        .stderr(contains(format!("cannot connect to {addr}")));
}

// ---- Every numeric flag is checked before the server listens ----

#[test]
fn every_numeric_flag_refuses_what_is_out_of_range_before_the_server_listens() {
    let server = ["server", "127.0.0.1:0"];
    // Port 9 is never reached: the flag is refused before the client connects.
    let client = ["client", "127.0.0.1:9"];
    // `--idle-timeout 0` used to be taken, and every client was dropped at once (a zero socket
    // timeout is an error); u64::MAX seconds of `--timeout` panicked on the first command.
    let seconds = testkit::BAD_SECONDS;
    for (args, flag) in [
        (&server, "--timeout"),
        (&server, "--idle-timeout"),
        (&client, "--timeout"),
    ] {
        for value in seconds {
            testkit::assert_flag_refused(BIN, args, flag, value, "0.001 to 86400");
        }
    }
    for value in ["0", "67107841", "18446744073709551615", "-1"] {
        testkit::assert_flag_refused(BIN, &server, "--max-output", value, "from 1 to 67107840");
    }
}

#[test]
fn every_numeric_flag_takes_the_ends_of_its_range() {
    let mut longest = server(&[
        "--timeout",
        "86400",
        "--idle-timeout",
        "86400",
        "--max-output",
        "67107840",
    ]);
    let printed = testkit::stdout_on_success(
        testkit::client(BIN)
            .args(["client", longest.addr(), "--timeout", "86400"])
            .write_stdin("echo hi\n"),
    );
    assert_eq!(printed, "hi\n");
    still_serving(&mut longest);
    // The short ends: a millisecond is a timeout, not "no timeout"; one byte of output is kept.
    let mut shortest = server(&[
        "--timeout",
        "0.001",
        "--idle-timeout",
        "0.001",
        "--max-output",
        "1",
    ]);
    assert!(shortest.is_running());
}
