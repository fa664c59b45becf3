//! Lesson 2's promises, checked against the real binary and the library's functions.
//!
//! Each claim the chapter and the demo make (datagrams keep boundaries, a stream does not,
//! no connection, truncation, loss) has a test here. No fixed ports, no unbounded waits.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use lesson_02::{
    Heard, Tally, echo_once, send_connected, send_to_unconnected, serve, tcp_connect, tcp_stream,
    truncate_datagram, udp_datagrams, unused_tcp_addr, unused_udp_addr,
};
use predicates::prelude::*;
use testkit::{Server, TIMEOUT};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-02");
const PAGE: &str = "../../book/src/ch02-udp-vs-tcp.md";

/// A UDP socket connected to `addr`, whose reads fail after [`TIMEOUT`] instead of hanging.
fn udp_client(addr: &str) -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(addr).unwrap();
    socket.set_read_timeout(Some(TIMEOUT)).unwrap();
    socket
}

fn echo(socket: &UdpSocket, message: &[u8]) -> Vec<u8> {
    socket.send(message).unwrap();
    let mut buf = vec![0u8; 65_536];
    let n = socket.recv(&mut buf).expect("the echo came back");
    buf.truncate(n);
    buf
}

/// An echo server from the library, in a thread of this test (it ends with the test binary).
fn lib_server(drop_every: Option<u64>) -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    thread::spawn(move || serve(&socket, drop_every, &mut |_line| {}));
    addr
}

// ---- the server and client binaries -----------------------------------------------------------

#[test]
fn server_echoes_a_datagram_and_logs_it() {
    let mut server = Server::start(BIN, &["server", "127.0.0.1:0"]);
    let socket = udp_client(server.addr());
    assert_eq!(echo(&socket, b"hello"), b"hello");
    let line = server.expect_stderr("\"hello\"");
    assert!(line.starts_with("#1 from 127.0.0.1:"), "log line: {line:?}");
    assert!(
        line.ends_with("5 bytes \"hello\", echoing"),
        "log line: {line:?}"
    );
}

#[test]
fn server_survives_odd_datagrams_and_keeps_serving() {
    let mut server = Server::start(BIN, &["server", "127.0.0.1:0"]);
    let socket = udp_client(server.addr());
    // An empty datagram is a message of 0 bytes, not an end of stream: it is echoed.
    assert_eq!(echo(&socket, b""), b"");
    server.expect_stderr("0 bytes \"\", echoing");
    // A big datagram (the largest IPv4 allows, where the system lets us send it) comes back
    // whole: the server's buffer holds any datagram.
    let big_len = if cfg!(target_os = "linux") {
        65_507
    } else {
        9_000
    };
    let big: Vec<u8> = (0..big_len).map(|i| (i % 251) as u8).collect();
    assert_eq!(echo(&socket, &big), big);
    server.expect_stderr(&format!("{big_len} bytes, echoing"));
    // Bytes that are not text are just bytes.
    assert_eq!(echo(&socket, &[0xff, 0x00, 0xfe]), [0xff, 0x00, 0xfe]);
    // And a second client is served as before.
    let other = udp_client(server.addr());
    assert_eq!(echo(&other, b"still there?"), b"still there?");
    assert!(server.is_running());
}

#[test]
fn server_drop_every_drops_exactly_every_nth_datagram() {
    let mut server = Server::start(BIN, &["server", "127.0.0.1:0", "--drop-every", "2"]);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket.connect(server.addr()).unwrap();
    let got: Vec<bool> = (1..=4)
        .map(|i| {
            echo_once(
                &socket,
                format!("m{i}").as_bytes(),
                Duration::from_millis(1000),
            )
            .unwrap()
            .is_some()
        })
        .collect();
    assert_eq!(got, [true, false, true, false]);
    let line = server.expect_stderr("\"m2\", dropped (simulated loss)");
    assert!(line.starts_with("#2 from"), "log line: {line:?}");
    server.expect_stderr("\"m4\", dropped (simulated loss)");
}

#[test]
fn binding_anything_but_loopback_prints_a_warning() {
    let line = testkit::warning_off_loopback(BIN);
    assert!(
        line.contains("anyone who can reach this address can make this server send datagrams"),
        "{line}"
    );
}

#[test]
fn help_shows_the_loopback_default() {
    testkit::assert_loopback_default(BIN, lesson_02::DEFAULT_ADDR);
}

#[test]
fn a_lossy_session_looks_as_the_chapter_shows() {
    let mut server = Server::start(BIN, &["server", "127.0.0.1:0", "--drop-every", "3"]);
    let stdout = testkit::stdout_on_success(
        testkit::client(BIN)
            .args(["client", server.addr()])
            .write_stdin("one\ntwo\nthree\n"),
    );
    testkit::assert_text_matches(&testkit::book_block(PAGE, "client_session"), &stdout);
    // The server's side: one log line per datagram, the third one dropped.
    let log: Vec<String> = (0..3).map(|_| server.expect_stderr(" from ")).collect();
    testkit::assert_text_matches(
        &testkit::book_block(PAGE, "server_log"),
        &(log.join("\n") + "\n"),
    );
}

#[test]
fn client_reports_replies_and_a_summary() {
    let server = Server::start(BIN, &["server", "127.0.0.1:0"]);
    testkit::client(BIN)
        .args(["client", server.addr()])
        .write_stdin("hi\n\nthere\nquit\nnot sent\n")
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(
                r#"^reply "hi" in \d+\.\d{3} ms
reply "there" in \d+\.\d{3} ms
2 sent, 2 received, 0\.0% loss
$"#,
            )
            .unwrap(),
        );
}

#[test]
fn client_reports_loss_through_a_lossy_server() {
    let server = Server::start(BIN, &["server", "127.0.0.1:0", "--drop-every", "2"]);
    testkit::client(BIN)
        .args(["client", server.addr(), "--timeout-ms", "1000"])
        .write_stdin("a\nb\nc\n")
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(
                r#"^reply "a" in \d+\.\d{3} ms
lost: no reply within 1000 ms
reply "c" in \d+\.\d{3} ms
3 sent, 2 received, 33\.3% loss
$"#,
            )
            .unwrap(),
        );
}

#[test]
fn client_against_a_silent_socket_reports_loss_and_exits() {
    // A bound socket that never answers: every datagram arrives, no reply ever leaves.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    silent.set_read_timeout(Some(TIMEOUT)).unwrap();
    let start = Instant::now();
    testkit::client(BIN)
        .args(["client", &silent.local_addr().unwrap().to_string(), "--timeout-ms", "200"])
        .write_stdin("a\nb\n")
        .assert()
        .success()
        .stdout("lost: no reply within 200 ms\nlost: no reply within 200 ms\n2 sent, 0 received, 100.0% loss\n");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "took {:?}",
        start.elapsed()
    );
    let mut buf = [0u8; 16];
    assert_eq!(
        silent.recv(&mut buf).unwrap(),
        1,
        "the datagrams did arrive"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn client_reports_refusal_when_nobody_listens() {
    let nobody = unused_udp_addr().unwrap().to_string();
    testkit::client(BIN)
        .args(["client", &nobody, "--timeout-ms", "2000"])
        .write_stdin("hello?\n")
        .assert()
        .success()
        .stdout(
            "lost: connection refused (is the server running?)\n1 sent, 0 received, 100.0% loss\n",
        );
}

// ---- the library: the demo's claims --------------------------------------------------------------

#[test]
fn three_datagrams_stay_three() {
    let got = udp_datagrams(&[b"one", b"two", b"three"]).unwrap();
    assert_eq!(got, [&b"one"[..], b"two", b"three"]);
}

#[test]
fn three_tcp_writes_read_as_one() {
    let got = tcp_stream(&[b"one", b"two", b"three"]).unwrap();
    assert_eq!(
        got, b"onetwothree",
        "one read returned all three writes, glued together"
    );
}

/// The chapter's note on `MSG_WAITALL`: it waits for every byte the buffer asks for, across
/// writes made apart in time, and it consumes them, so it is no stand-in for "peek until
/// buffered, then one plain read".
#[cfg(unix)]
#[test]
fn msg_waitall_waits_for_every_byte_and_consumes_them() {
    use std::io::Write;
    use std::mem::MaybeUninit;
    use std::net::{TcpListener, TcpStream};

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut writer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (reader, _) = listener.accept().unwrap();
    reader.set_read_timeout(Some(TIMEOUT)).unwrap();
    let writes = thread::spawn(move || {
        for message in [&b"one"[..], b"two", b"three"] {
            writer.write_all(message).unwrap();
            // Not synchronisation: the writes are made apart in time on purpose, and the
            // assertions hold however long the pauses turn out to be.
            thread::sleep(Duration::from_millis(50));
        }
        // Returned, not dropped: a close would let the peek below see end of stream.
        writer
    });
    let mut buf = [MaybeUninit::<u8>::uninit(); 11];
    let n = socket2::SockRef::from(&reader)
        .recv_with_flags(&mut buf, libc::MSG_WAITALL)
        .unwrap();
    assert_eq!(n, 11, "one call returned all three writes");
    // Consumed: nothing is left to peek at.
    reader
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let err = reader.peek(&mut [0u8; 1]).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err}"
    );
    let _writer = writes.join().unwrap();
}

#[test]
fn send_to_a_dead_port_is_ok() {
    let (sent, heard) =
        send_to_unconnected(unused_udp_addr().unwrap(), Duration::from_millis(200)).unwrap();
    assert_eq!(sent, b"anyone there?".len());
    // Linux does not tell an unconnected socket about the ICMP error (Windows does, on the
    // next recv_from, which is why the server ignores errors there).
    #[cfg(target_os = "linux")]
    assert_eq!(heard, Heard::Nothing);
    #[cfg(not(target_os = "linux"))]
    let _ = heard;
}

#[cfg(target_os = "linux")]
#[test]
fn connected_udp_gets_connection_refused() {
    let (sent, heard) = send_connected(unused_udp_addr().unwrap(), TIMEOUT).unwrap();
    assert_eq!(sent, b"anyone there?".len(), "the send itself succeeded");
    assert_eq!(heard, Heard::Error(ErrorKind::ConnectionRefused));
}

#[test]
fn connected_udp_never_hangs() {
    // On every system the call returns within the wait: an error, or silence.
    let start = Instant::now();
    let (_sent, heard) =
        send_connected(unused_udp_addr().unwrap(), Duration::from_millis(300)).unwrap();
    assert!(
        matches!(heard, Heard::Error(_) | Heard::Nothing),
        "{heard:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn tcp_connect_to_a_dead_port_is_refused() {
    let err = tcp_connect(unused_tcp_addr().unwrap()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused);
    assert_eq!(err.kind().to_string(), "connection refused");
}

#[test]
fn a_datagram_is_truncated_to_the_buffer_and_the_rest_is_lost() {
    let (first, second) = truncate_datagram(2000, b"small", 1024).unwrap();
    let pattern: Vec<u8> = (0..1024).map(|i| b'a' + (i % 26) as u8).collect();
    assert_eq!(
        first, pattern,
        "the first recv returns the first 1024 bytes"
    );
    assert_eq!(
        second, b"small",
        "the next recv returns the next datagram, not the rest"
    );
}

#[test]
fn echo_once_reports_loss_and_round_trip_time() {
    let socket = lesson_02::client_socket(lib_server(Some(2))).unwrap();
    let timeout = Duration::from_millis(1000);
    let results: Vec<_> = (1..=4)
        .map(|i| echo_once(&socket, format!("ping {i}").as_bytes(), timeout).unwrap())
        .collect();
    assert_eq!(
        results[0].as_ref().map(|(reply, _)| reply.as_slice()),
        Some(&b"ping 1"[..])
    );
    assert!(results[1].is_none());
    assert_eq!(
        results[2].as_ref().map(|(reply, _)| reply.as_slice()),
        Some(&b"ping 3"[..])
    );
    assert!(results[3].is_none());
    let (_, rtt) = results[0].as_ref().unwrap();
    assert!(*rtt < timeout, "rtt {rtt:?}");
}

#[test]
fn echo_once_gives_up_after_the_timeout() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let socket = lesson_02::client_socket(silent.local_addr().unwrap()).unwrap();
    let start = Instant::now();
    assert_eq!(
        echo_once(&socket, b"anyone?", Duration::from_millis(200)).unwrap(),
        None
    );
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(150) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}

#[test]
fn tally_reads_like_ping() {
    assert_eq!(
        Tally {
            sent: 3,
            received: 2
        }
        .to_string(),
        "3 sent, 2 received, 33.3% loss"
    );
    assert_eq!(
        Tally::default().to_string(),
        "0 sent, 0 received, 0.0% loss"
    );
}

// ---- Every numeric flag is checked before anything listens ----

#[test]
fn every_numeric_flag_refuses_what_is_out_of_range_before_anything_listens() {
    let server = ["server", "127.0.0.1:0"];
    // Port 9 is never reached: the flag is refused before the client makes its socket.
    let client = ["client", "127.0.0.1:9"];
    for (args, flag, value, range) in [
        (&server, "--drop-every", "0", "from 1 to 1000000"),
        (&server, "--drop-every", "1000001", "from 1 to 1000000"),
        (
            &server,
            "--drop-every",
            "18446744073709551615",
            "from 1 to 1000000",
        ),
        (&server, "--drop-every", "-1", "from 1 to 1000000"),
        // 0 used to become 1 ms in silence; u64::MAX milliseconds, 584 million years.
        (&client, "--timeout-ms", "0", "1 to 86400000"),
        (&client, "--timeout-ms", "86400001", "1 to 86400000"),
        (
            &client,
            "--timeout-ms",
            "18446744073709551615",
            "1 to 86400000",
        ),
    ] {
        testkit::assert_flag_refused(BIN, args, flag, value, range);
    }
}

#[test]
fn every_numeric_flag_takes_the_ends_of_its_range() {
    for drop_every in ["1", "1000000"] {
        let mut server = Server::start(BIN, &["server", "127.0.0.1:0", "--drop-every", drop_every]);
        assert!(server.is_running(), "--drop-every {drop_every}");
    }
    let server = Server::start(BIN, &["server", "127.0.0.1:0"]);
    for timeout in ["1", "86400000"] {
        let printed = testkit::stdout_on_success(
            testkit::client(BIN)
                .args(["client", server.addr(), "--timeout-ms", timeout])
                .write_stdin("ping\n"),
        );
        // With 1 ms the reply may come too late: either line says the flag was taken.
        assert!(
            printed.starts_with("reply") || printed.starts_with("lost"),
            "--timeout-ms {timeout}: {printed}"
        );
    }
}
