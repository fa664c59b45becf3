//! The checks for chapter 3's exercises, one module per exercise (`ex3_1`, `ex3_2`, `ex3_3`),
//! written against `crate::ex`: the starter in lessons/ (where they must fail) or the solution
//! (where they must pass).

use std::fmt::Debug;

use crate::ex;

/// Fails with a sentence: `what`, then what was expected and what came instead.
#[track_caller]
fn expect_eq<T: PartialEq + Debug>(got: T, expected: T, what: &str) {
    if got != expected {
        panic!("{what}: expected {expected:?}, got {got:?}");
    }
}

/// Bytes as text for a message a person reads; a byte that is not UTF-8 shows as `�`.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

mod ex3_1 {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::ex::Session;

    /// A fresh directory with a `sub` folder inside, both canonical (no symlinks, no `..`).
    fn playground() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().expect("a temporary directory");
        std::fs::create_dir(tmp.path().join("sub")).unwrap();
        let root = tmp.path().canonicalize().unwrap();
        (tmp, root)
    }

    /// Where `pwd` runs in this session, as a canonical path.
    fn pwd(session: &mut Session) -> PathBuf {
        let reply = text(&session.reply("pwd"));
        Path::new(reply.trim_end())
            .canonicalize()
            .unwrap_or_else(|e| {
                panic!("`pwd` replied {reply:?}, which is not a directory that exists ({e})")
            })
    }

    /// Fails with both paths unless they are the same.
    #[track_caller]
    fn expect_dir(got: &Path, expected: &Path, what: &str) {
        if got != expected {
            panic!(
                "{what}: expected {}, got {}",
                expected.display(),
                got.display()
            );
        }
    }

    #[test]
    fn cd_to_a_relative_dir_lasts_for_later_commands() {
        let (_tmp, root) = playground();
        let mut session = Session::starting_in(root.clone());
        let reply = session.reply("cd sub");
        assert!(!reply.is_empty(), "`cd sub` must still send a reply");
        expect_dir(
            &pwd(&mut session),
            &root.join("sub"),
            "after `cd sub`, where `pwd` runs",
        );
        expect_dir(
            session.dir(),
            &root.join("sub"),
            "after `cd sub`, the session's dir()",
        );
    }

    #[test]
    fn cd_takes_absolute_paths_and_dot_dot() {
        let (_tmp, root) = playground();
        let mut session = Session::starting_in(root.clone());
        let absolute = format!("cd {}", root.join("sub").display());
        session.reply(&absolute);
        expect_dir(
            &pwd(&mut session),
            &root.join("sub"),
            &format!("after `{absolute}`, where `pwd` runs"),
        );
        session.reply("cd ..");
        expect_dir(&pwd(&mut session), &root, "after `cd ..`, where `pwd` runs");
    }

    #[test]
    fn a_bad_cd_is_an_error_and_moves_nothing() {
        let (_tmp, root) = playground();
        std::fs::write(root.join("a-file"), b"").unwrap();
        let mut session = Session::starting_in(root.clone());
        for bad in ["cd no-such-dir", "cd a-file"] {
            let reply = text(&session.reply(bad));
            assert!(
                !reply.trim().is_empty(),
                "`{bad}` must reply with an error, but the reply was empty"
            );
            expect_dir(
                session.dir(),
                &root,
                &format!("`{bad}` must leave the session's dir() alone"),
            );
            expect_dir(
                &pwd(&mut session),
                &root,
                &format!("after `{bad}`, commands must still run in the session's directory"),
            );
        }
    }

    #[test]
    fn cd_alone_goes_home() {
        let (_tmp, root) = playground();
        let mut session = Session::starting_in(root.clone());
        let reply = session.reply("cd");
        match std::env::var_os("HOME") {
            Some(home) => {
                let home = Path::new(&home).canonicalize().unwrap();
                expect_dir(
                    &pwd(&mut session),
                    &home,
                    "after `cd` alone (it goes to $HOME), where `pwd` runs",
                );
            }
            None => {
                assert!(
                    !reply.is_empty(),
                    "without HOME, `cd` alone must reply with an error"
                );
                expect_dir(
                    &pwd(&mut session),
                    &root,
                    "without HOME, `cd` alone must not move the session",
                );
            }
        }
    }

    #[test]
    fn sessions_do_not_share_a_directory() {
        let (_tmp, root) = playground();
        let mut first = Session::starting_in(root.clone());
        let mut second = Session::starting_in(root.clone());
        first.reply("cd sub");
        expect_dir(
            &pwd(&mut second),
            &root,
            "another session's `cd sub` must not move this one; where `pwd` runs",
        );
        expect_dir(
            &pwd(&mut first),
            &root.join("sub"),
            "after `cd sub`, where `pwd` runs",
        );
    }
}

mod ex3_2 {
    use super::*;
    use crate::ex::Refusal;

    const LIST: &[&str] = &["ls", "cat", "echo"];

    /// Fails with a sentence unless `allowed(line, LIST)` returns `expected`.
    #[track_caller]
    fn expect_allowed(line: &str, expected: Result<(), Refusal>) {
        expect_eq(
            ex::allowed(line, LIST),
            expected,
            &format!("allowed({line:?}, {LIST:?})"),
        );
    }

    #[test]
    fn listed_programs_run_with_their_arguments() {
        expect_allowed("ls -l /tmp", Ok(()));
        expect_allowed("echo hello world", Ok(()));
        // Leading whitespace is not part of the program.
        expect_allowed("  cat\tnotes.txt", Ok(()));
    }

    #[test]
    fn a_prefix_is_not_a_program() {
        expect_allowed("lsblk", Err(Refusal::NotAllowed("lsblk".into())));
        expect_allowed(
            "catch-fire --now",
            Err(Refusal::NotAllowed("catch-fire".into())),
        );
        expect_allowed("rm -rf /", Err(Refusal::NotAllowed("rm".into())));
    }

    #[test]
    fn a_listed_program_cannot_smuggle_another() {
        let cases = [
            ("ls; rm -rf ~", ';'),
            ("ls && rm -rf ~", '&'),
            ("ls & rm -rf ~", '&'),
            ("ls | sh", '|'),
            ("ls\nrm -rf ~", '\n'),
            ("echo $(rm -rf ~)", '$'),
            ("echo `rm -rf ~`", '`'),
            ("echo ${HOME}", '$'),
            ("echo pwned > ~/.bashrc", '>'),
            ("cat < /etc/shadow", '<'),
            ("ls (rm)", '('),
            ("ls \\; rm", '\\'),
        ];
        for (line, first) in cases {
            expect_allowed(line, Err(Refusal::Metacharacter(first)));
        }
    }

    #[test]
    fn an_empty_line_is_refused_as_empty() {
        expect_allowed("", Err(Refusal::Empty));
        expect_allowed(" \t ", Err(Refusal::Empty));
    }
}

mod ex3_3 {
    //! The learner's server and client over real TCP on loopback: the server against a raw
    //! test client, the client against a test server, and the two together.

    use std::io::{self, ErrorKind, Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::sync::mpsc::{self, RecvTimeoutError};
    use std::thread;
    use std::time::{Duration, Instant};

    use lesson_03::Limits;

    use super::*;

    /// How long a check waits for the learner's code before it fails.
    const PATIENCE: Duration = Duration::from_secs(5);

    /// How long the test server waits for the end of the client's request: a few seconds.
    const END_OF_REQUEST: Duration = Duration::from_secs(3);

    /// Two commands on two lines: a request that one line cannot carry.
    const TWO_LINES: &str = "echo one\necho two\n";

    /// A reply as text for a failure message, cut after 200 characters: a wrong server can
    /// send pages.
    fn shown(bytes: &[u8]) -> String {
        let all = text(bytes);
        match all.char_indices().nth(200) {
            Some((at, _)) => format!("{:?}... ({} bytes in all)", &all[..at], bytes.len()),
            None => format!("{all:?}"),
        }
    }

    /// A connected pair over loopback: (the client's end, the server's end). Nothing listens
    /// once it returns.
    fn connected_pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        // The connection is already queued, so this accept returns at once.
        let (server, _) = listener.accept().unwrap();
        (client, server)
    }

    /// Runs the learner's `serve_one_request` on `conn`, on a thread of its own.
    fn learner_server(conn: TcpStream) -> mpsc::Receiver<io::Result<()>> {
        let (done, result) = mpsc::channel();
        thread::spawn(move || {
            let _ = done.send(ex::serve_one_request(conn, &Limits::default()));
        });
        result
    }

    /// What `serve_one_request` returned, waiting at most PATIENCE for it.
    fn server_result(result: &mpsc::Receiver<io::Result<()>>) -> io::Result<()> {
        match result.recv_timeout(PATIENCE) {
            Ok(outcome) => outcome,
            Err(RecvTimeoutError::Timeout) => panic!(
                "serve_one_request still runs {PATIENCE:?} after the client read its reply: \
                 does it return once it has sent the reply?"
            ),
            Err(RecvTimeoutError::Disconnected) => {
                panic!("serve_one_request panicked (its message is above)")
            }
        }
    }

    /// The test client's read of a reply: until the server closes, within PATIENCE. `sent`
    /// describes the request, for the failure message.
    fn read_reply(conn: &mut TcpStream, sent: &str) -> Vec<u8> {
        let deadline = Instant::now() + PATIENCE;
        let mut reply = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!(
                    "after the request {sent}, the server sent {} but did not close the \
                     connection within {PATIENCE:?}: the server must close it after the reply",
                    shown(&reply)
                );
            }
            conn.set_read_timeout(Some(left)).unwrap();
            match conn.read(&mut buf) {
                Ok(0) => return reply,
                Ok(n) => reply.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!(
                    "after the request {sent}, the connection broke before the reply ended \
                     ({e}); the reply so far: {}. A server that closes before it has read \
                     the whole request sends a reset (chapter 1)",
                    shown(&reply)
                ),
            }
        }
    }

    /// The test client sends `bytes` (`what` describes them), within PATIENCE.
    fn send(client: &mut TcpStream, bytes: &[u8], what: &str) {
        client.set_write_timeout(Some(PATIENCE)).unwrap();
        client.write_all(bytes).unwrap_or_else(|e| {
            panic!(
                "the test client could not send {what} ({e}): the server stopped reading it, \
                 or closed the connection"
            )
        });
    }

    /// The test client shuts down its writing half: the end of its request.
    fn half_close(client: &TcpStream) {
        client.shutdown(Shutdown::Write).unwrap_or_else(|e| {
            panic!(
                "the test client could not shut down its writing half ({e}): the server closed \
                 the connection before the end of the request"
            )
        });
    }

    /// Fails with a sentence unless the reply to `sent` (a description of the request) is
    /// `expected`.
    #[track_caller]
    fn expect_reply(sent: &str, reply: &[u8], expected: &str, advice: &str) {
        if reply != expected.as_bytes() {
            panic!(
                "the reply to the request {sent} was {}, expected {expected:?}. {advice}",
                shown(reply)
            );
        }
    }

    #[test]
    fn server_runs_a_request_that_ends_with_a_half_close() {
        let (mut client, server_end) = connected_pair();
        let server = learner_server(server_end);
        send(&mut client, TWO_LINES.as_bytes(), &format!("{TWO_LINES:?}"));
        half_close(&client);
        let reply = read_reply(&mut client, &format!("{TWO_LINES:?}"));
        expect_reply(
            &format!("{TWO_LINES:?}"),
            &reply,
            "one\ntwo\n",
            "The server must run the whole request, every line of it.",
        );
        if let Err(e) = server_result(&server) {
            panic!("serve_one_request returned the error \"{e}\" for a good request");
        }
    }

    #[test]
    fn server_waits_for_the_end_of_the_request() {
        let (mut client, server_end) = connected_pair();
        let server = learner_server(server_end);
        // Sent in three pieces, the first a whole line. After each of the first two, the test
        // looks for an early answer for a moment. A server that waits for the end of the
        // stream never sends one, so this wait cannot fail a good server.
        let pieces = ["echo one\n", "echo t", "wo\n"];
        let mut sent = String::new();
        for (i, piece) in pieces.iter().enumerate() {
            sent.push_str(piece);
            send(&mut client, piece.as_bytes(), &format!("{sent:?}"));
            if i == pieces.len() - 1 {
                break;
            }
            client
                .set_read_timeout(Some(Duration::from_millis(300)))
                .unwrap();
            let mut buf = [0u8; 1024];
            match client.peek(&mut buf) {
                Ok(n) => panic!(
                    "after only part of the request, {sent:?}, the server {} before the \
                     end of the request. A request ends when read returns 0 (the client shut \
                     down its writing half), not at a newline",
                    if n == 0 {
                        "closed the connection".to_string()
                    } else {
                        format!("answered {:?}", text(&buf[..n]))
                    }
                ),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!(
                    "after only part of the request, {sent:?}, the connection broke ({e}): \
                     the server must wait for the end of the request"
                ),
            }
        }
        half_close(&client);
        let sent = format!("{sent:?}");
        let reply = read_reply(&mut client, &sent);
        expect_reply(
            &sent,
            &reply,
            "one\ntwo\n",
            "The server must run the whole request, however it arrives.",
        );
        if let Err(e) = server_result(&server) {
            panic!("serve_one_request returned the error \"{e}\" for a good request");
        }
    }

    #[test]
    fn client_half_closes_then_reads_the_whole_reply() {
        let (client, mut server_end) = connected_pair();
        // A test server that only answers once it has seen the end of the request. Its reply
        // is long (about 90 KB), so one read cannot hold it.
        let reply: String = (1..=4000)
            .map(|i| format!("line {i:04} of the reply\n"))
            .collect();
        let to_send = reply.clone();
        let test_server = thread::spawn(move || -> Result<Vec<u8>, Vec<u8>> {
            let deadline = Instant::now() + END_OF_REQUEST;
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    // Dropping `server_end` closes the connection: the client's read ends.
                    return Err(request);
                }
                server_end.set_read_timeout(Some(left)).unwrap();
                match server_end.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                    Err(_) => return Err(request),
                }
            }
            server_end.set_write_timeout(Some(PATIENCE)).unwrap();
            // A client that left early makes this fail; its check says what went wrong.
            let _ = server_end.write_all(to_send.as_bytes());
            Ok(request)
        });

        client.set_read_timeout(Some(PATIENCE)).unwrap();
        let result = ex::send_request_then_half_close(client, TWO_LINES);
        let seen = test_server
            .join()
            .expect("the test server panicked (its message is above)");
        match seen {
            Err(request) => panic!(
                "the test server received {:?}, then still waited for the end of the request \
                 after {END_OF_REQUEST:?}. Did the client shut down its writing half \
                 (`conn.shutdown(Shutdown::Write)`) after sending the request?",
                text(&request)
            ),
            Ok(request) if request != TWO_LINES.as_bytes() => panic!(
                "the client was asked to send {TWO_LINES:?}, but the server received {:?}",
                text(&request)
            ),
            Ok(_) => {}
        }
        match result {
            Err(e) => panic!("send_request_then_half_close returned the error \"{e}\""),
            Ok(got) if got.is_empty() => panic!(
                "the server sent a reply of {} bytes, but the client returned none. Shut down \
                 only the writing half (`Shutdown::Write`), then read until the server closes",
                reply.len()
            ),
            Ok(got) if got != reply.as_bytes() => panic!(
                "the server sent a reply of {} bytes, then closed the connection; the client \
                 returned {} bytes. Read until the server closes (read returns 0)",
                reply.len(),
                got.len()
            ),
            Ok(_) => {}
        }
    }

    #[test]
    fn client_and_server_together_run_a_two_line_request() {
        let (client, server_end) = connected_pair();
        let server = learner_server(server_end);
        client.set_read_timeout(Some(PATIENCE)).unwrap();
        let reply = match ex::send_request_then_half_close(client, TWO_LINES) {
            Ok(reply) => reply,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => panic!(
                "your client got no complete reply from your server within {PATIENCE:?}. Does \
                 the client shut down its writing half after the request? Does the server \
                 close the connection after the reply?"
            ),
            Err(e) => panic!("send_request_then_half_close returned the error \"{e}\""),
        };
        expect_reply(
            &format!("{TWO_LINES:?}"),
            &reply,
            "one\ntwo\n",
            "Both lines' output should be there: the server reads the request until the end \
             of the stream, and the client reads the reply until the server closes.",
        );
        if let Err(e) = server_result(&server) {
            panic!("serve_one_request returned the error \"{e}\" for a good request");
        }
    }

    #[test]
    fn server_runs_a_request_of_exactly_max_request_bytes() {
        let (mut client, server_end) = connected_pair();
        let server = learner_server(server_end);
        // Exactly MAX_REQUEST bytes: two commands, with a long shell comment between them.
        let (first, last) = ("echo one\n", "\necho two\n");
        let request = format!(
            "{first}{}{last}",
            "#".repeat(ex::MAX_REQUEST - first.len() - last.len())
        );
        let summary = format!(
            "{first:?}, a comment, {last:?}, {} bytes in all (exactly MAX_REQUEST)",
            request.len()
        );
        send(&mut client, request.as_bytes(), &summary);
        half_close(&client);
        let reply = read_reply(&mut client, &summary);
        expect_reply(
            &summary,
            &reply,
            "one\ntwo\n",
            "A request of MAX_REQUEST bytes is allowed: only a longer one is refused.",
        );
        if let Err(e) = server_result(&server) {
            panic!(
                "serve_one_request returned the error \"{e}\" for a request of MAX_REQUEST bytes"
            );
        }
    }

    #[test]
    fn server_refuses_a_request_over_the_cap() {
        let (mut client, server_end) = connected_pair();
        let server = learner_server(server_end);
        // One byte over the cap: a command line, then a shell comment to fill it. The client
        // does not shut down its writing half: the server must refuse without waiting for the
        // end. It can read every byte, so its close after the refusal is a normal one.
        let command = "echo should-not-run\n";
        let request = format!(
            "{command}{}",
            "#".repeat(ex::MAX_REQUEST + 1 - command.len())
        );
        let summary = format!(
            "{command:?} and a comment, {} bytes in all (1 over MAX_REQUEST)",
            request.len()
        );
        send(&mut client, request.as_bytes(), &summary);
        client.set_read_timeout(Some(PATIENCE)).unwrap();
        // After an error, `reply` still holds what arrived before it.
        let mut reply = Vec::new();
        let ended = client.read_to_end(&mut reply);
        assert!(
            !text(&reply).contains("should-not-run"),
            "the server ran the request {summary}, and replied {}: a request over \
             MAX_REQUEST bytes must not run",
            shown(&reply)
        );
        match ended {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => panic!(
                "after the request {summary}, the server sent {} and did not close the \
                 connection within {PATIENCE:?}. Stop reading once the request is over \
                 MAX_REQUEST bytes: refuse it, without waiting for its end",
                shown(&reply)
            ),
            Err(e) => panic!(
                "after the request {summary}, the connection broke ({e}); the reply so far: {}",
                shown(&reply)
            ),
        }
        assert!(
            text(&reply).contains(&ex::MAX_REQUEST.to_string()),
            "the server replied {} to the request {summary}: the reply should say that the \
             request is over {} bytes (the number, MAX_REQUEST)",
            shown(&reply),
            ex::MAX_REQUEST
        );
        assert!(
            server_result(&server).is_err(),
            "serve_one_request returned Ok(()) for a request it refused: return an error, so \
             that its caller can log it"
        );
    }
}
