//! The checks for chapter 1's exercises, one module per exercise (`ex1_1`, `ex1_2`). The same
//! file is compiled twice: by `starter.rs` against the learner's code and by `solution.rs`
//! against the solutions.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crate::ex;

/// Short on purpose: an unsolved exercise should fail in seconds, not hang.
const PATIENCE: Duration = Duration::from_secs(3);

fn connect(addr: SocketAddr) -> TcpStream {
    let conn = TcpStream::connect(addr)
        .unwrap_or_else(|e| panic!("could not connect to the server at {addr}: {e}"));
    conn.set_read_timeout(Some(PATIENCE)).unwrap();
    conn
}

/// Bytes as text for a message a person reads (`"HELLO"`, not `[72, 69, …]`); a byte that is
/// not UTF-8 shows as `�`.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Sends `message` and reads a reply of the same length. `if_silent` is the likely cause,
/// told to the student when no complete reply comes back in time.
fn exchange(conn: &mut TcpStream, message: &[u8], if_silent: &str) -> Vec<u8> {
    conn.write_all(message)
        .unwrap_or_else(|e| panic!("could not send {:?} to the server: {e}", text(message)));
    let mut reply = vec![0u8; message.len()];
    conn.read_exact(&mut reply).unwrap_or_else(|e| {
        // A read timeout is WouldBlock on Unix and TimedOut on Windows: say it in words.
        let why = match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => "nothing more arrived".into(),
            io::ErrorKind::UnexpectedEof => "the server closed the connection first".into(),
            _ => e.to_string(),
        };
        panic!(
            "sent {:?}, but no complete reply came back within {PATIENCE:?} ({why}). {if_silent}",
            text(message)
        )
    });
    reply
}

/// Fails with both sides as text. Only when the text cannot show the difference (two
/// different bytes that are not UTF-8 both print as `�`) does it add the bytes, escaped
/// (`\xff`).
fn assert_reply(message: &[u8], reply: &[u8], expected: &[u8]) {
    if reply == expected {
        return;
    }
    let bytes = if text(reply) == text(expected) {
        format!(
            " (byte by byte: got \"{}\", expected \"{}\")",
            reply.escape_ascii(),
            expected.escape_ascii()
        )
    } else {
        String::new()
    };
    panic!(
        "sent {:?}, got back {:?}, expected {:?}{bytes}",
        text(message),
        text(reply),
        text(expected)
    );
}

mod ex1_1 {
    use super::*;

    const IF_SILENT: &str = "Does upper_echo_loop write back every chunk it reads?";

    /// Serves one connection with `upper_echo_loop` on a thread; returns the client's end and
    /// a receiver for the loop's result.
    fn upper_echo_server() -> (TcpStream, mpsc::Receiver<io::Result<()>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = connect(listener.local_addr().unwrap());
        // The connection is already queued, so this accept returns at once.
        let (mut conn, _) = listener.accept().unwrap();
        let (done, result) = mpsc::channel();
        thread::spawn(move || {
            let _ = done.send(ex::upper_echo_loop(&mut conn));
        });
        (client, result)
    }

    #[test]
    fn upper_echo_shouts_ascii_letters() {
        let (mut conn, _server) = upper_echo_server();
        let message = b"hello, World 42!";
        assert_reply(
            message,
            &exchange(&mut conn, message, IF_SILENT),
            b"HELLO, WORLD 42!",
        );
    }

    #[test]
    fn upper_echo_leaves_other_bytes_alone_and_ends_cleanly() {
        let (mut conn, server) = upper_echo_server();
        // "é" is two bytes in UTF-8; a byte of 0xff is not text at all. Only `a` and `b` change.
        let message = [b"a\xc3\xa9\x00b".as_slice(), &[0xff]].concat();
        let expected = [b"A\xc3\xa9\x00B".as_slice(), &[0xff]].concat();
        assert_reply(
            &message,
            &exchange(&mut conn, &message, IF_SILENT),
            &expected,
        );
        drop(conn);
        match server.recv_timeout(PATIENCE) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!(
                "after the client closed normally, upper_echo_loop returned the error \
                 \"{e}\"; a read of 0 bytes is a normal close: return Ok(())"
            ),
            Err(mpsc::RecvTimeoutError::Timeout) => panic!(
                "upper_echo_loop still runs {PATIENCE:?} after the client closed: does it \
                 return when read returns 0?"
            ),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("upper_echo_loop panicked (its message is above)")
            }
        }
    }
}

mod ex1_2 {
    use super::*;

    const IF_SILENT: &str = "Is the server still busy with another client?";

    fn start_server() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // Never joined: the server runs until the test binary ends, as a server does.
        thread::spawn(move || ex::serve_concurrently(listener));
        addr
    }

    #[test]
    fn a_waiting_client_does_not_block_the_next_one() {
        let addr = start_server();
        let mut first = connect(addr);
        let message = b"I am staying";
        assert_reply(message, &exchange(&mut first, message, IF_SILENT), message);
        // `first` is still connected: a server that serves one client at a time never answers
        // the second one.
        let mut second = connect(addr);
        assert_reply(
            b"me too",
            &exchange(&mut second, b"me too", IF_SILENT),
            b"me too",
        );
        let message = b"still served";
        assert_reply(message, &exchange(&mut first, message, IF_SILENT), message);
    }

    #[test]
    fn many_clients_are_served_at_once() {
        let addr = start_server();
        // Connect all first, then talk to them in reverse order: only a server that serves
        // them side by side can answer the last one while the first is still waiting.
        let mut clients: Vec<TcpStream> = (0..8).map(|_| connect(addr)).collect();
        for (i, conn) in clients.iter_mut().enumerate().rev() {
            let message = format!("client {i}");
            let message = message.as_bytes();
            assert_reply(message, &exchange(conn, message, IF_SILENT), message);
        }
    }
}
