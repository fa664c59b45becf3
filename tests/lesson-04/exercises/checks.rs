//! The checks for chapter 4's exercises, written against `crate::ex`: the starter in lessons/
//! (where they must fail) or the solution (where they must pass). The checks of exercise 4.N
//! are in `mod ex4_N`; `cargo course check 4.N` runs them.
//!
//! A failing check's message is what a student reads: it says, in words, what went wrong, and
//! shows bytes as text. Every read gives up after a timeout, so an unsolved exercise fails
//! instead of hanging.

use std::io::{self, BufRead, BufReader, Cursor, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::ex::{self, LineConnection};

const READ_TIMEOUT: Duration = Duration::from_secs(2);

/// A server that accepts one connection, makes one `write_all` per item of `writes`, and
/// closes the connection.
fn server_writing(writes: Vec<Vec<u8>>) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        for bytes in writes {
            conn.write_all(&bytes).unwrap();
        }
        // Dropping `conn` closes it: after the bytes, the reader sees end of stream.
    });
    (addr, handle)
}

fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(READ_TIMEOUT)).unwrap();
    stream
}

/// Bytes as a student can read them: text, control characters as pictures (`␊`), at most
/// 48 of them, then `...`.
fn show(bytes: &[u8]) -> String {
    netlab::preview(bytes, 48)
}

/// What an error from your code probably means, in words.
fn said(e: &io::Error) -> String {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => format!(
            "a timeout (a read waited {} s for bytes that were not coming)",
            READ_TIMEOUT.as_secs()
        ),
        kind => format!("the error {kind:?} ({e})"),
    }
}

mod ex4_1 {
    use super::*;

    /// What `read_line` returned, in words.
    fn line_or_end(line: &Option<String>) -> String {
        match line {
            Some(text) => format!("the line {}", show(text.as_bytes())),
            None => "None, the end of the stream".to_string(),
        }
    }

    /// Calls `read_line` and fails, in words, unless it returns `expected`.
    #[track_caller]
    fn expect_line<S: Read + Write>(
        conn: &mut LineConnection<S>,
        expected: Option<&str>,
        context: &str,
    ) {
        let expected = expected.map(str::to_string);
        match conn.read_line() {
            Ok(got) if got == expected => {}
            Ok(None) if expected.is_some() => panic!(
                "{context}: read_line should return {}, but returned {}. That line had \
                 arrived already: where did it go?",
                line_or_end(&expected),
                line_or_end(&None)
            ),
            Ok(got) => panic!(
                "{context}: read_line should return {}, but returned {}",
                line_or_end(&expected),
                line_or_end(&got)
            ),
            Err(e) => panic!(
                "{context}: read_line should return {}, but failed: {}. Those bytes had \
                 arrived already: where did they go?",
                line_or_end(&expected),
                said(&e)
            ),
        }
    }

    #[test]
    fn two_lines_in_one_read_are_both_returned() {
        let (addr, server) = server_writing(vec![b"first\nsecond\n".to_vec()]);
        let stream = connect(addr);
        // Both lines are in the socket before the first read, so that read takes both: by
        // construction, not by luck.
        lesson_04::wait_until_buffered(&stream, 13, READ_TIMEOUT).unwrap();
        let mut conn = LineConnection::new(&stream);
        let context = "the server sent \"first␊second␊\", which came in one read";
        expect_line(&mut conn, Some("first"), context);
        expect_line(&mut conn, Some("second"), context);
        expect_line(&mut conn, None, "then the server closed the connection");
        server.join().unwrap();
    }

    #[test]
    fn a_line_in_two_writes_is_joined_and_the_next_line_kept() {
        // The newline of "hello" and all of "world" travel in ONE write, so whichever read
        // returns that newline also returns "world\n".
        let (addr, server) = server_writing(vec![b"hel".to_vec(), b"lo\nworld\n".to_vec()]);
        let mut conn = LineConnection::new(connect(addr));
        let context = "the server wrote \"hel\", then \"lo␊world␊\"";
        expect_line(&mut conn, Some("hello"), context);
        expect_line(&mut conn, Some("world"), context);
        expect_line(&mut conn, None, "then the server closed the connection");
        server.join().unwrap();
    }

    #[test]
    fn the_lesson_servers_status_line_and_output_are_two_lines() {
        // Chapter 4's own server, in a thread: its reply to `echo hi` is two writes,
        // "[exit status 0]\n" and "hi\n".
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            lesson_04::serve_one(&listener, &lesson_04::Settings::default(), &mut |_| {});
        });
        let stream = connect(addr);
        let mut conn = LineConnection::new(&stream);
        conn.send_line("echo hi")
            .unwrap_or_else(|e| panic!("send_line(\"echo hi\") failed: {e}"));
        // Wait until both writes are buffered (16 + 3 bytes): the first read gets them both.
        lesson_04::wait_until_buffered(&stream, 19, testkit::TIMEOUT)
            .expect("the lesson's server answers `echo hi` with 19 bytes");
        let context = "the lesson's server answered `echo hi` with \"[exit status 0]␊hi␊\", \
                       which came in one read";
        expect_line(&mut conn, Some("[exit status 0]"), context);
        expect_line(&mut conn, Some("hi"), context);
    }
}

mod ex4_2 {
    use super::*;

    #[test]
    fn dot_frame_doubles_leading_dots_and_ends_with_a_lone_dot() {
        let cases: [(&[u8], &[u8], &str); 5] = [
            (
                b"hello\nworld\n",
                b"hello\nworld\n.\n",
                "the end marker follows",
            ),
            (b"a\n.b", b"a\n..b\n.\n", "a missing last newline is added"),
            (
                b".\n..\n",
                b"..\n...\n.\n",
                "every dot that starts a line is doubled",
            ),
            (
                b"a.\n b\n",
                b"a.\n b\n.\n",
                "only a dot at the START of a line is doubled",
            ),
            (b"", b".\n", "empty output is just the end marker"),
        ];
        for (output, framed, why) in cases {
            let got = ex::dot_frame(output);
            netlab::assert_bytes(&got, framed, &format!("dot_frame({}): {why}", show(output)));
        }
    }

    #[test]
    fn read_dot_framed_gives_back_what_was_framed() {
        let cases: [(&[u8], &[u8]); 7] = [
            (b"hello\n", b"hello\n"),
            (b"", b""),
            (b".\n", b".\n"),
            (b"a\n.\nb\n", b"a\n.\nb\n"),
            (b"..\n.x\n", b"..\n.x\n"),
            (b"no newline", b"no newline\n"),
            (b"\xff\xfe not UTF-8\n", b"\xff\xfe not UTF-8\n"),
        ];
        for (output, expected) in cases {
            let framed = ex::dot_frame(output);
            let mut reader = Cursor::new(framed.clone());
            let got = ex::read_dot_framed(&mut reader).unwrap_or_else(|e| {
                panic!(
                    "read_dot_framed failed on {}, a whole framed reply: {e}",
                    show(&framed)
                )
            });
            netlab::assert_bytes(
                &got,
                expected,
                &format!("read_dot_framed on {}", show(&framed)),
            );
            assert!(
                reader.position() == framed.len() as u64,
                "read_dot_framed on {} took {} of its {} bytes: it must read up to the end \
                 marker, and stop right after it",
                show(&framed),
                reader.position(),
                framed.len()
            );
        }
    }

    #[test]
    fn two_replies_in_one_read_are_told_apart() {
        let first: &[u8] = b"first reply\n.\nstill the first\n";
        let second: &[u8] = b"second reply\n";
        let mut both = ex::dot_frame(first);
        both.extend_from_slice(&ex::dot_frame(second));
        let total = both.len();
        // ONE write of both replies, all of it buffered before the first read.
        let (addr, server) = server_writing(vec![both]);
        let stream = connect(addr);
        lesson_04::wait_until_buffered(&stream, total, READ_TIMEOUT).unwrap();
        let mut reader = BufReader::new(&stream);
        for (i, reply) in [first, second].into_iter().enumerate() {
            let got = ex::read_dot_framed(&mut reader).unwrap_or_else(|e| {
                panic!(
                    "two replies came in one read, and read_dot_framed failed on reply {} of 2: \
                     {}. Did the first call take bytes of the second reply?",
                    i + 1,
                    said(&e)
                )
            });
            netlab::assert_bytes(
                &got,
                reply,
                &format!("reply {} of 2, both in one read", i + 1),
            );
        }
        match ex::read_dot_framed(&mut reader) {
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {}
            Err(e) => panic!(
                "after two replies the server closed the connection: read_dot_framed should \
                 fail with UnexpectedEof, not with {}",
                said(&e)
            ),
            Ok(got) => panic!(
                "after two replies the server closed the connection, yet read_dot_framed \
                 returned a third reply, {}",
                show(&got)
            ),
        }
        server.join().unwrap();
    }

    #[test]
    fn replies_cut_into_tiny_pieces_are_put_back_together() {
        // 500 lines, some of them starting with dots, framed, sent in one write, and cut by the
        // network lab into pieces of 1 to 3 bytes on their way to the client.
        let output: Vec<u8> = (1..=500)
            .map(|i| match i % 7 {
                0 => format!(".{i}\n"),
                3 => ".\n".to_string(),
                _ => format!("{i}\n"),
            })
            .collect::<String>()
            .into_bytes();
        let mut framed = ex::dot_frame(&output);
        framed.extend_from_slice(&ex::dot_frame(b"bye\n"));
        let (server_addr, server) = server_writing(vec![framed]);
        let options = netlab::Options {
            split: Some((1, 3)),
            seed: 4,
            directions: netlab::Directions::ToClient,
            ..netlab::Options::default()
        };
        let proxy = netlab::Proxy::on_loopback(server_addr, options).expect("start the proxy");
        let stream = connect(proxy.local_addr());
        let mut reader = BufReader::new(&stream);
        for (i, reply) in [&output[..], b"bye\n"].into_iter().enumerate() {
            let got = ex::read_dot_framed(&mut reader).unwrap_or_else(|e| {
                panic!(
                    "read_dot_framed failed on reply {} of 2, cut into pieces of 1 to 3 bytes: {}",
                    i + 1,
                    said(&e)
                )
            });
            netlab::assert_bytes(
                &got,
                reply,
                &format!("reply {} of 2, cut into pieces of 1 to 3 bytes", i + 1),
            );
        }
        server.join().unwrap();
    }

    #[test]
    fn a_reply_cut_off_by_the_end_of_the_stream_is_an_error() {
        let cut: [&[u8]; 4] = [b"", b"half a reply\n", b"no marker, no newline", b"line\n."];
        for bytes in cut {
            match ex::read_dot_framed(&mut Cursor::new(bytes)) {
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => {}
                Err(e) => panic!(
                    "the stream {} ended before the end marker: read_dot_framed should fail \
                     with UnexpectedEof, not with {}",
                    show(bytes),
                    said(&e)
                ),
                Ok(got) => panic!(
                    "the stream {} ended before the end marker, yet read_dot_framed returned \
                     the reply {}: without the marker, a cut reply looks whole",
                    show(bytes),
                    show(&got)
                ),
            }
        }
    }

    #[test]
    fn the_remote_shell_with_dot_framed_replies_through_the_lab() {
        // A remote shell whose server frames each reply with YOUR dot_frame, and whose client
        // reads it with YOUR read_dot_framed, through the lab, which cuts what goes either way
        // into pieces of 1 to 7 bytes. A command is a line; the server runs it as chapter 4's
        // does and sends the status line and the output, framed, in one write.
        let limits = lesson_04::Settings::default().limits;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server_addr = listener.local_addr().unwrap();
        let (outcome_tx, outcome) = mpsc::channel();
        thread::spawn(move || {
            let limits = lesson_04::Settings::default().limits;
            let (conn, _) = listener.accept().unwrap();
            // Longer than the client waits: a client stuck on a reply fails with its own
            // timeout, not with an end of stream that the server's giving up would cause.
            conn.set_read_timeout(Some(READ_TIMEOUT * 2)).unwrap();
            let serve = || -> io::Result<()> {
                let mut commands = BufReader::new(&conn);
                let mut command = String::new();
                while commands.read_line(&mut command)? > 0 {
                    let (status, output) = lesson_04::answer(command.trim_end(), &limits);
                    (&conn).write_all(&ex::dot_frame(&[status, output].concat()))?;
                    command.clear();
                }
                Ok(())
            };
            let result = catch_unwind(AssertUnwindSafe(serve));
            let _ = outcome_tx.send(result.map_err(|panic| {
                panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default()
            }));
        });
        let options = netlab::Options {
            split: Some((1, 7)),
            seed: 42,
            ..netlab::Options::default()
        };
        let proxy = netlab::Proxy::on_loopback(server_addr, options).expect("start the lab");
        let stream = connect(proxy.local_addr());
        let mut replies = BufReader::new(&stream);
        let commands = [
            "printf '.\\n..\\n.x\\nlast'",
            "seq 1 3000",
            "true",
            "printf .",
            "echo bye",
        ];
        // The first three one at a time, the last two in one write: their replies may come in
        // one read.
        for batch in [
            &commands[..1],
            &commands[1..2],
            &commands[2..3],
            &commands[3..],
        ] {
            let lines: String = batch.iter().map(|c| format!("{c}\n")).collect();
            (&stream).write_all(lines.as_bytes()).unwrap();
            for command in batch {
                let (status, output) = lesson_04::answer(command, &limits);
                let mut expected = [status, output].concat();
                if !expected.ends_with(b"\n") {
                    expected.push(b'\n');
                }
                let got = ex::read_dot_framed(&mut replies).unwrap_or_else(|e| {
                    let why = match outcome.try_recv() {
                        Ok(Err(panic)) => format!("The server's dot_frame panicked: {panic}"),
                        _ => "The server had sent it, framed by your dot_frame. Does dot_frame \
                              end every reply with the end marker, and does read_dot_framed \
                              stop right after it, leaving the next reply's bytes in the reader?"
                            .to_string(),
                    };
                    panic!(
                        "no reply to `{command}` came back whole: read_dot_framed failed with \
                         {}. {why}",
                        said(&e)
                    )
                });
                netlab::assert_bytes(
                    &got,
                    &expected,
                    &format!("the reply to `{command}`, dot-framed, through the lab"),
                );
            }
        }
    }
}
