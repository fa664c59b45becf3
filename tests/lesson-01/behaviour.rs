//! Lesson 1's promises, checked against the real `lesson-01` binary (and, for the socket
//! options, the library): echo over TCP and AF_UNIX, the two ways a conversation ends, and a
//! server that outlives every client.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use predicates::prelude::*;
use socket2::SockRef;
use testkit::{Server, client, connect};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-01");

fn tcp_server() -> Server {
    Server::start(BIN, &["server", "127.0.0.1:0"])
}

#[test]
fn echoes_bytes_back_and_logs_a_normal_close() {
    let mut server = tcp_server();
    let mut conn = connect(server.addr());
    server.expect_stderr("connected from");
    conn.write_all(b"hello").unwrap();
    let mut reply = [0u8; 5];
    conn.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"hello");
    drop(conn);
    server.expect_stderr("closed the connection normally");
}

#[test]
fn echoes_a_message_far_larger_than_its_buffer() {
    // 100 000 bytes go through a 1024-byte buffer in many reads: every byte must come back,
    // in order.
    let server = tcp_server();
    let mut conn = connect(server.addr());
    let message: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let writer = {
        let mut conn = conn.try_clone().unwrap();
        let message = message.clone();
        std::thread::spawn(move || conn.write_all(&message).unwrap())
    };
    let reply = testkit::read_at_least(&mut conn, message.len());
    writer.join().unwrap();
    assert_eq!(reply, message);
}

#[test]
fn a_reset_client_is_logged_and_the_next_client_is_served() {
    let mut server = tcp_server();
    let mut conn = connect(server.addr());
    conn.write_all(b"ping").unwrap();
    let mut reply = [0u8; 4];
    // Reading the echo proves the server is inside its communication loop with us.
    conn.read_exact(&mut reply).unwrap();
    SockRef::from(&conn)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(conn); // sends RST instead of FIN
    server.expect_stderr("disconnected abnormally: connection reset");

    let mut next = connect(server.addr());
    next.write_all(b"still there?").unwrap();
    let mut reply = [0u8; 12];
    next.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"still there?");
    assert!(server.is_running());
}

/// What a crash looks like on Linux: a killed client process closes with FIN, because its
/// kernel closes its sockets for it, and nothing was left unread.
#[test]
fn a_killed_client_process_closes_its_connection_normally() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut server = tcp_server();
    let mut child = testkit::KillOnDrop(
        Command::new(BIN)
            .args(["client", server.addr()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    server.expect_stderr("connected from");
    let mut stdin = child.0.stdin.take().unwrap();
    writeln!(stdin, "hello").unwrap();
    // The printed echo proves the client read everything the server sent. Its stdout closes
    // if it dies, so this read cannot hang.
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "hello\n");
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    server.expect_stderr("closed the connection normally");
    drop(stdin);
}

/// A reset comes from closing with unread data: here the echo, waiting in the client's
/// receive buffer.
#[test]
fn closing_with_an_unread_echo_resets_the_connection() {
    let mut server = tcp_server();
    let conn = connect(server.addr());
    server.expect_stderr("connected from");
    (&conn).write_all(b"never read").unwrap();
    // `peek` waits (bounded by the read timeout) until the echo is here, and leaves it unread.
    conn.peek(&mut [0u8; 1]).unwrap();
    drop(conn);
    server.expect_stderr("disconnected abnormally: connection reset");
    assert!(server.is_running());
}

#[test]
fn binding_anything_but_loopback_prints_a_warning() {
    let line = testkit::warning_off_loopback(BIN);
    assert!(
        line.contains("anyone who can reach this address can connect to this server"),
        "{line}"
    );
}

#[test]
fn loopback_needs_no_warning_and_is_the_default() {
    assert_eq!(
        lesson_01::exposure_warning("127.0.0.1:0".parse().unwrap()),
        None
    );
    testkit::assert_loopback_default(BIN, lesson_01::DEFAULT_ADDR);
}

#[test]
fn the_client_sends_each_line_skips_empty_ones_and_stops_at_quit() {
    let server = tcp_server();
    client(BIN)
        .args(["client", server.addr()])
        .write_stdin("hello\n\n   \nsockets\nquit\nnever sent\n")
        .assert()
        .success()
        // stdin is not a terminal here, so no `>>> ` prompt may appear.
        .stdout("hello\nsockets\n");
}

#[test]
fn the_client_reports_a_server_that_is_not_there() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    client(BIN)
        .args(["client", &port.to_string()])
        .write_stdin("hello\n")
        .assert()
        .failure()
        .stderr(predicate::str::contains("cannot connect"));
}

#[test]
fn the_step_by_step_server_echoes_too() {
    let server = Server::start(BIN, &["server", "127.0.0.1:0", "--step-by-step"]);
    client(BIN)
        .args(["client", server.addr()])
        .write_stdin("built by hand\n")
        .assert()
        .success()
        .stdout("built by hand\n");
}

#[test]
fn bind_step_by_step_sets_so_reuseaddr() {
    let listener = lesson_01::bind_step_by_step("127.0.0.1:0".parse().unwrap()).unwrap();
    assert!(SockRef::from(&listener).reuse_address().unwrap());
}

/// The chapter says what `TcpListener::bind` does for you on Unix; these are its claims.
#[cfg(unix)]
#[test]
fn std_bind_sets_so_reuseaddr_and_close_on_exec() {
    use std::os::fd::AsRawFd;

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    assert!(SockRef::from(&listener).reuse_address().unwrap());
    // SAFETY: fcntl(F_GETFD) on a descriptor we own only reads its flags.
    let flags = unsafe { libc::fcntl(listener.as_raw_fd(), libc::F_GETFD) };
    assert!(flags >= 0 && flags & libc::FD_CLOEXEC != 0);
}

#[cfg(unix)]
mod unix {
    use std::fs;
    use std::os::unix::net::{UnixListener, UnixStream};

    use super::*;

    #[test]
    fn echoes_over_an_af_unix_socket_with_the_same_client() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("echo.sock");
        let path = path.to_str().unwrap();
        let mut server = Server::start(BIN, &["server", "--unix", path]);
        assert_eq!(server.addr(), path);
        client(BIN)
            .args(["client", "--unix", path])
            .write_stdin("over a file\nquit\n")
            .assert()
            .success()
            .stdout("over a file\n");
        server.expect_stderr("a local client closed the connection normally");
    }

    #[test]
    fn a_stale_socket_file_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stale.sock");
        // A listener that is dropped leaves its file behind, as a crashed server would.
        drop(UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let server = Server::start(BIN, &["server", "--unix", path.to_str().unwrap()]);
        let mut conn = UnixStream::connect(&path).unwrap();
        conn.set_read_timeout(Some(testkit::TIMEOUT)).unwrap();
        conn.write_all(b"fresh").unwrap();
        let mut reply = [0u8; 5];
        conn.read_exact(&mut reply).unwrap();
        assert_eq!(&reply, b"fresh");
        drop(server);
    }

    #[test]
    fn a_live_socket_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("live.sock");
        let live = UnixListener::bind(&path).unwrap();
        client(BIN)
            .args(["server", "--unix", path.to_str().unwrap()])
            .assert()
            .failure()
            .stderr(predicate::str::contains("already listening"));
        // The other server's socket still works.
        let _conn = UnixStream::connect(&path).unwrap();
        live.accept().unwrap();
    }

    /// A live server that never accepts, its queue of waiting connections full: a blocking
    /// connect to it would wait for ever, so the old probe hung the server's start for ever.
    /// Linux only: there a non-blocking connect to a full queue fails with EAGAIN, which is
    /// how the test fills the queue, one connection at a time, with no timing involved.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_live_server_with_a_full_queue_is_left_alone_at_once() {
        use std::os::unix::fs::FileTypeExt;

        use socket2::{Domain, SockAddr, Socket, Type};

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stuck.sock");
        let addr = SockAddr::unix(&path).unwrap();
        let stuck = Socket::new(Domain::UNIX, Type::STREAM, None).unwrap();
        stuck.bind(&addr).unwrap();
        // The smallest queue there is (Linux lets one connection wait with a backlog of 0).
        stuck.listen(0).unwrap();
        let mut waiting = Vec::new();
        loop {
            let conn = Socket::new(Domain::UNIX, Type::STREAM, None).unwrap();
            conn.set_nonblocking(true).unwrap();
            match conn.connect(&addr) {
                Ok(()) => waiting.push(conn),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("filling the queue: {e}"),
            }
            assert!(waiting.len() < 16, "the queue never filled");
        }
        // `client` waits at most testkit::TIMEOUT: the old probe was killed there, silent.
        client(BIN)
            .args(["server", "--unix", path.to_str().unwrap()])
            .assert()
            .failure()
            .stdout("")
            .stderr(predicate::str::contains(
                "a server is alive there but not accepting connections; leaving it alone",
            ));
        // The stuck server's socket is still its own: what waited in its queue is still there.
        assert!(fs::symlink_metadata(&path).unwrap().file_type().is_socket());
        stuck.accept().unwrap();
    }

    #[test]
    fn a_file_that_is_not_a_socket_is_never_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        fs::write(&path, "precious").unwrap();
        client(BIN)
            .args(["server", "--unix", path.to_str().unwrap()])
            .assert()
            .failure()
            .stderr(predicate::str::contains("not a socket"));
        assert_eq!(fs::read_to_string(&path).unwrap(), "precious");
    }

    #[test]
    fn the_socket_file_is_removed_when_the_server_stops() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bye.sock");
        let server = Server::start(BIN, &["server", "--unix", path.to_str().unwrap()]);
        assert!(path.exists());
        server.terminate();
        assert!(!path.exists(), "the server left {} behind", path.display());
    }
}
