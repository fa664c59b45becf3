//! The checks for chapter 5's exercises, written against `crate::ex`: the starter in
//! lessons/ (where they must fail) or the solution (where they must pass). The checks of
//! exercise 5.N are in `mod ex5_N`; `cargo course check 5.N` runs them.
//!
//! A failing check's message is what a student reads: it says, in words, what went wrong, and
//! shows bytes as text. Every wait is bounded, so an unsolved exercise fails instead of hanging.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use lesson_05::{ACK, ServerConfig, serve_one};
use netlab::{Directions, Options, Proxy};

use crate::ex;

/// A stream that hands out its bytes in the pieces it was given, as a network might: each
/// read returns at most one piece (or part of one, if the buffer is smaller), and a scripted
/// error is returned once, in its place. After the last piece: end of stream.
struct Pieces {
    script: VecDeque<Result<Vec<u8>, ErrorKind>>,
    reads: usize,
    ends: usize,
}

impl Pieces {
    fn new(script: impl IntoIterator<Item = Result<Vec<u8>, ErrorKind>>) -> Pieces {
        Pieces {
            script: script.into_iter().collect(),
            reads: 0,
            ends: 0,
        }
    }

    /// `data` cut into pieces of 1, 2, …, 7, 1, 2, … bytes.
    fn cut(data: &[u8]) -> Pieces {
        let mut script = Vec::new();
        let mut rest = data;
        let mut size = 1;
        while !rest.is_empty() {
            let (piece, tail) = rest.split_at(size.min(rest.len()));
            script.push(Ok(piece.to_vec()));
            rest = tail;
            size = size % 7 + 1;
        }
        Pieces::new(script)
    }

    /// `data` in two pieces: its first `at` bytes, then the rest.
    fn cut_at(data: &[u8], at: usize) -> Pieces {
        let (first, rest) = data.split_at(at);
        Pieces::new([Ok(first.to_vec()), Ok(rest.to_vec())])
    }
}

impl Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        assert!(
            self.reads < 100_000,
            "read was called 100000 times: is the loop stuck?"
        );
        assert!(!buf.is_empty(), "{}", EMPTY_BUFFER);
        match self.script.pop_front() {
            None => {
                self.ends += 1;
                assert!(self.ends < 100, "{}", READ_AFTER_END);
                Ok(0)
            }
            Some(Err(kind)) => Err(io::Error::from(kind)),
            Some(Ok(mut piece)) => {
                let n = piece.len().min(buf.len());
                buf[..n].copy_from_slice(&piece[..n]);
                if n < piece.len() {
                    // The caller asked for less than this piece: the rest waits for the next read.
                    self.script.push_front(Ok(piece.split_off(n)));
                }
                Ok(n)
            }
        }
    }
}

const READ_AFTER_END: &str = "read returned 0 bytes 100 times, and your loop kept reading: 0 \
     bytes means the stream has ended, and nothing more will ever come";

const EMPTY_BUFFER: &str = "read was called with an empty buffer. Such a read returns 0 at once, \
     and 0 looks like the end of the stream: read into a buffer that has room (a Vec made with \
     `with_capacity` still has length 0)";

/// A reader that must not be read: `recv_exact(0)` has nothing to read.
struct MustNotRead;

impl Read for MustNotRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        panic!(
            "recv_exact(0) called read (with a {}-byte buffer), but 0 bytes need no read. A \
             read into an empty buffer returns 0, and 0 looks like the end of the stream",
            buf.len()
        )
    }
}

/// A writer that accepts at most `at_most` bytes per write, after returning the scripted
/// errors first, and keeps everything it accepted.
struct Trickle {
    at_most: usize,
    errors: VecDeque<ErrorKind>,
    accepted: Vec<u8>,
    writes: usize,
}

impl Trickle {
    fn new(at_most: usize, errors: impl IntoIterator<Item = ErrorKind>) -> Trickle {
        Trickle {
            at_most,
            errors: errors.into_iter().collect(),
            accepted: Vec::new(),
            writes: 0,
        }
    }
}

impl Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writes += 1;
        assert!(
            self.writes < 100_000,
            "write was called 100000 times: is the loop stuck?"
        );
        if let Some(kind) = self.errors.pop_front() {
            return Err(io::Error::from(kind));
        }
        let n = buf.len().min(self.at_most);
        self.accepted.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Some bytes where a reordering or a lost piece shows.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// Some text where a reordering or a lost piece shows: `0123456789abcdef0123…`.
fn text(len: usize) -> Vec<u8> {
    b"0123456789abcdef"
        .iter()
        .copied()
        .cycle()
        .take(len)
        .collect()
}

/// Bytes as a student can read them: text, control characters as pictures (`␊`), at most
/// 48 of them, then `...`.
fn show(bytes: &[u8]) -> String {
    netlab::preview(bytes, 48)
}

mod ex5_1 {
    use super::*;

    #[test]
    fn recv_exact_gathers_a_reply_that_arrives_in_pieces() {
        let data = pattern(1025);
        let mut conn = Pieces::cut(&data);
        let got = ex::recv_exact(&mut conn, data.len()).unwrap_or_else(|e| {
            panic!("recv_exact failed, though all 1025 bytes were there, in pieces of 1 to 7: {e}")
        });
        assert!(
            got.len() == data.len(),
            "recv_exact returned {} of the 1025 bytes. One read returns what has arrived so \
             far; keep reading until you have all n",
            got.len()
        );
        assert!(got == data, "the bytes came back changed or out of order");
    }

    #[test]
    fn recv_exact_stops_at_n_and_leaves_the_rest() {
        let script = [b"he".to_vec(), b"llo wo".to_vec(), b"rld".to_vec()].map(Ok);
        let mut conn = Pieces::new(script);
        let first = ex::recv_exact(&mut conn, 5)
            .unwrap_or_else(|e| panic!("recv_exact(5) failed, though 11 bytes were there: {e}"));
        netlab::assert_bytes(&first, b"hello", "recv_exact(5) on \"hello world\"");
        let second = ex::recv_exact(&mut conn, 6).unwrap_or_else(|e| {
            panic!("the second recv_exact(6) failed: did the first take bytes past its 5th? {e}")
        });
        netlab::assert_bytes(
            &second,
            b" world",
            "the next recv_exact(6): the first call must not take bytes past its 5th",
        );
    }

    #[test]
    fn recv_exact_fails_with_unexpected_eof_when_the_stream_ends_early() {
        let mut conn = Pieces::new([Ok(b"abc".to_vec())]);
        match ex::recv_exact(&mut conn, 10) {
            Err(e) => assert!(
                e.kind() == ErrorKind::UnexpectedEof,
                "the stream ended after 3 of 10 bytes: that is UnexpectedEof, not {:?} ({e})",
                e.kind()
            ),
            Ok(got) => panic!(
                "the stream ended after 3 of 10 bytes, yet recv_exact returned Ok({}): a read \
                 of 0 bytes means no more bytes will ever come",
                show(&got)
            ),
        }
        let mut empty = Pieces::new([]);
        match ex::recv_exact(&mut empty, 1) {
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {}
            Err(e) => panic!(
                "an empty stream has no byte to give: UnexpectedEof, not {:?} ({e})",
                e.kind()
            ),
            Ok(got) => panic!(
                "an empty stream has no byte to give, yet recv_exact(1) returned Ok({})",
                show(&got)
            ),
        }
    }

    #[test]
    fn recv_exact_retries_an_interrupted_read() {
        let mut conn = Pieces::new([
            Err(ErrorKind::Interrupted),
            Ok(b"hel".to_vec()),
            Err(ErrorKind::Interrupted),
            Ok(b"lo".to_vec()),
        ]);
        let got = ex::recv_exact(&mut conn, 5).unwrap_or_else(|e| {
            panic!(
                "recv_exact gave up on an interrupted read ({e}): an Interrupted read has read \
                 nothing, so try it again"
            )
        });
        netlab::assert_bytes(&got, b"hello", "recv_exact(5) with interrupted reads");
    }

    #[test]
    fn recv_exact_of_zero_bytes_reads_nothing() {
        let got = ex::recv_exact(&mut MustNotRead, 0)
            .unwrap_or_else(|e| panic!("recv_exact(0) failed, but 0 bytes need no read: {e}"));
        assert!(got.is_empty(), "recv_exact(0) returned {}", show(&got));
    }

    #[test]
    fn recv_exact_receives_a_mebibyte_through_the_network_lab() {
        // The lesson's own server, behind the lab, which cuts everything the server sends into
        // pieces of 1 to 7 bytes. The test does steps 1 to 3 itself; recv_exact does step 4.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server_addr = listener.local_addr().unwrap();
        thread::spawn(move || serve_one(&listener, &ServerConfig::default(), &mut |_| {}));
        let options = Options {
            split: Some((1, 7)),
            directions: Directions::ToClient,
            ..Options::default()
        };
        let proxy = Proxy::on_loopback(server_addr, options).expect("start the network lab");
        let mut conn = testkit::connect(&proxy.local_addr().to_string());
        // Bounded: a recv_exact that wants more than is coming fails within 3 s, not never.
        conn.set_read_timeout(Some(Duration::from_secs(3))).unwrap();

        let expected: Vec<u8> = (1..=200_000)
            .flat_map(|i| format!("{i}\n").into_bytes())
            .take(1_048_577)
            .collect();
        conn.write_all(b"seq 1 200000 | head -c 1048577").unwrap();
        let mut digits = [0u8; 7];
        conn.read_exact(&mut digits)
            .expect("the lesson's server sends the length");
        netlab::assert_bytes(&digits, b"1048577", "the lesson's server announced");
        conn.write_all(ACK).unwrap();
        let got = ex::recv_exact(&mut conn, expected.len()).unwrap_or_else(|e| {
            panic!("recv_exact failed to receive the 1048577 bytes of the reply: {e}")
        });
        assert!(
            got.len() == expected.len(),
            "recv_exact returned {} of the 1048577 bytes: one read returns what has arrived \
             so far; keep reading until you have all n",
            got.len()
        );
        assert!(got == expected, "the reply came back changed");

        // Nothing was left behind, and nothing was taken from the next reply.
        conn.write_all(b"echo next").unwrap();
        let mut digit = [0u8; 1];
        conn.read_exact(&mut digit)
            .expect("the lesson's server sends the next length");
        netlab::assert_bytes(
            &digit,
            b"5",
            "the next command's length (did recv_exact leave bytes of the reply behind?)",
        );
        conn.write_all(ACK).unwrap();
        let got = ex::recv_exact(&mut conn, 5)
            .unwrap_or_else(|e| panic!("recv_exact failed on the next reply: {e}"));
        netlab::assert_bytes(&got, b"next\n", "the reply to `echo next`");
    }
}

mod ex5_2 {
    use super::*;

    #[test]
    fn send_all_keeps_writing_until_everything_is_accepted() {
        let data = pattern(1025);
        let mut conn = Trickle::new(3, []);
        ex::send_all(&mut conn, &data).unwrap_or_else(|e| {
            panic!("send_all failed on a writer that takes 3 bytes at a time: {e}")
        });
        assert!(
            conn.accepted.len() == data.len(),
            "send_all handed over {} of the 1025 bytes. `write` returns how many bytes it \
             took; write the rest too",
            conn.accepted.len()
        );
        assert!(conn.accepted == data, "bytes were sent twice or skipped");
    }

    #[test]
    fn send_all_retries_an_interrupted_write() {
        let mut conn = Trickle::new(4, [ErrorKind::Interrupted, ErrorKind::Interrupted]);
        ex::send_all(&mut conn, b"recv_ready").unwrap_or_else(|e| {
            panic!("send_all gave up on an interrupted write ({e}): it wrote nothing; try it again")
        });
        netlab::assert_bytes(
            &conn.accepted,
            b"recv_ready",
            "what send_all handed over, 4 bytes at a time",
        );
    }

    #[test]
    fn send_all_reports_a_writer_that_accepts_nothing() {
        let mut conn = Trickle::new(0, []);
        match ex::send_all(&mut conn, b"hello") {
            Err(e) => assert!(
                e.kind() == ErrorKind::WriteZero,
                "a writer that accepts 0 bytes is a WriteZero error, not {:?} ({e})",
                e.kind()
            ),
            Ok(()) => panic!("0 of 5 bytes were accepted, yet send_all returned Ok"),
        }
    }

    #[test]
    fn send_all_of_nothing_writes_nothing() {
        let mut conn = Trickle::new(0, []);
        ex::send_all(&mut conn, b"")
            .unwrap_or_else(|e| panic!("sending nothing must succeed, yet send_all failed: {e}"));
        assert!(
            conn.writes == 0,
            "send_all called write for an empty message: there is nothing to send, so do not \
             call write at all"
        );
    }
}

// ---- Helpers for exercise 5.3: the test's own side of each conversation ----

/// How long a check waits on the learner's code (a read, a thread) before it says what
/// probably went wrong.
const WAIT: Duration = Duration::from_secs(5);

/// A frame, made by the test itself (not with your code): length, newline, body.
fn frame(body: &[u8]) -> Vec<u8> {
    let mut framed = format!("{}\n", body.len()).into_bytes();
    framed.extend_from_slice(body);
    framed
}

/// The test's own frame reader, to read what your server or client sends.
fn read_frame(reader: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut header = Vec::new();
    if reader.read_until(b'\n', &mut header)? == 0 {
        return Ok(None);
    }
    let bad = || {
        io::Error::new(
            ErrorKind::InvalidData,
            format!(
                "{} is not a frame header (digits, then a newline)",
                show(&header)
            ),
        )
    };
    let digits = header.strip_suffix(b"\n").ok_or_else(bad)?;
    let length: usize = std::str::from_utf8(digits)
        .ok()
        .and_then(|d| d.parse().ok())
        .ok_or_else(bad)?;
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    Ok(Some(body))
}

/// The network lab in front of `to`, cutting what goes each way into pieces of 1 to 7 bytes.
fn lab(to: SocketAddr, seed: u64) -> Proxy {
    let options = Options {
        split: Some((1, 7)),
        seed,
        ..Options::default()
    };
    Proxy::on_loopback(to, options).expect("start the network lab")
}

/// A connection with every read and write bounded by `WAIT`.
fn connect(addr: SocketAddr) -> TcpStream {
    let conn = TcpStream::connect(addr).expect("connect to the test's listener");
    conn.set_read_timeout(Some(WAIT)).unwrap();
    conn.set_write_timeout(Some(WAIT)).unwrap();
    conn
}

/// A test peer: accepts one connection, writes `bytes` in one write, then closes it (or, with
/// `hold_open`, keeps it open until the other side closes, or for twice `WAIT` at most: longer
/// than a reader waits, so a reader that waits for more bytes fails with its own timeout).
fn peer(bytes: Vec<u8>, hold_open: bool) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let _ = conn.write_all(&bytes);
        if hold_open {
            conn.set_read_timeout(Some(WAIT * 2)).unwrap();
            let _ = conn.read(&mut [0u8; 64]);
        }
    });
    addr
}

/// A socket for your `FrameReader`. It stops a loop that keeps reading after the end of the
/// stream (a read returns 0 there at once, for ever) or that reads into an empty buffer.
struct Socket {
    conn: TcpStream,
    ends: usize,
}

impl Socket {
    fn to(addr: SocketAddr) -> Socket {
        Socket {
            conn: connect(addr),
            ends: 0,
        }
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        assert!(!buf.is_empty(), "{}", EMPTY_BUFFER);
        let n = self.conn.read(buf)?;
        if n == 0 {
            self.ends += 1;
            assert!(self.ends < 100, "{}", READ_AFTER_END);
        }
        Ok(n)
    }
}

/// What an error from your code probably means, in words.
fn said(e: &io::Error) -> String {
    match e.kind() {
        ErrorKind::WouldBlock | ErrorKind::TimedOut => format!(
            "a timeout (a read waited {} s for bytes that were not coming)",
            WAIT.as_secs()
        ),
        kind => format!("the error {kind:?} ({e})"),
    }
}

/// Runs `f` on a thread of its own, so that a loop in your code cannot hang the check: the
/// answer is waited for `limit` at most. A panic comes back as its message.
fn on_a_thread<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> mpsc::Receiver<Result<T, String>> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let result = catch_unwind(AssertUnwindSafe(f)).map_err(|panic| {
            panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_string())
        });
        let _ = tx.send(result);
    });
    rx
}

/// Waits until `total` bytes are in `conn`'s receive buffer (peek, bounded), so that the next
/// read returns them all: by construction, not by timing.
fn wait_until_buffered(conn: &TcpStream, total: usize) {
    let deadline = Instant::now() + WAIT;
    let mut buf = vec![0u8; total];
    while conn.peek(&mut buf).expect("peek at the test's socket") < total {
        assert!(Instant::now() < deadline, "the test's bytes did not arrive");
        thread::sleep(Duration::from_millis(1));
    }
}

/// Your server, `ex::serve_frames`, on a listener of its own; its result comes back on the
/// channel once the connection ends.
fn start_your_server() -> (SocketAddr, mpsc::Receiver<Result<io::Result<()>, String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let result = on_a_thread(move || {
        let (conn, _) = listener.accept().unwrap();
        // Bounded: a server that waits for bytes that never come fails, it does not hang. It
        // waits longer than the client does, so when both wait, the client's timeout comes
        // first, every time, and the failure says the same thing on every run.
        conn.set_read_timeout(Some(WAIT * 2)).unwrap();
        conn.set_write_timeout(Some(WAIT)).unwrap();
        ex::serve_frames(conn)
    });
    (addr, result)
}

/// What became of your server, if it has stopped, for a failure message. It waits a second
/// for the outcome: a server that has just closed the connection sends it a moment later.
fn your_server(outcome: &mpsc::Receiver<Result<io::Result<()>, String>>) -> String {
    const ANSWER_AT_ONCE: &str = "Does serve_frames answer each command frame with a frame \
                                  (write_frame) as soon as it has read it?";
    match outcome.recv_timeout(Duration::from_secs(1)) {
        Ok(Err(panic)) => format!("serve_frames panicked: {panic}"),
        Ok(Ok(Err(e))) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            format!(
                "serve_frames waited {} s for a command that was not coming: the client sends \
                 nothing more until it has its replies. {ANSWER_AT_ONCE}",
                (WAIT * 2).as_secs()
            )
        }
        Ok(Ok(Err(e))) => format!("serve_frames ended with {}", said(&e)),
        Ok(Ok(Ok(()))) => "serve_frames returned Ok(()) while the client still waited for \
                           replies: did next_frame return Ok(None) before the end of the \
                           stream, or did the loop stop after one command?"
            .to_string(),
        Err(_) => ANSWER_AT_ONCE.to_string(),
    }
}

/// What an error from your `pipeline` probably means, in words.
fn your_client(e: &io::Error) -> String {
    match e.kind() {
        ErrorKind::InvalidData => format!(
            "{}. Your client found no frame header where a reply should start: does it keep ONE \
             FrameReader for all the replies? The bytes after one reply are the start of the \
             next",
            said(e)
        ),
        _ => said(e),
    }
}

/// Commands whose replies are known: short and long, empty, a command longer than a
/// `FrameReader`'s read, and replies that look like frames.
fn commands() -> Vec<(String, Vec<u8>)> {
    let long = "x".repeat(3000);
    let mut list = vec![
        ("echo one".to_string(), b"one\n".to_vec()),
        ("true".to_string(), Vec::new()),
        (String::new(), Vec::new()),
        (format!("echo {long}"), format!("{long}\n").into_bytes()),
        ("printf '5\\nhello'".to_string(), b"5\nhello".to_vec()),
        (
            "seq 1 20000".to_string(),
            (1..=20000)
                .map(|i| format!("{i}\n"))
                .collect::<String>()
                .into_bytes(),
        ),
    ];
    for i in 1..=30 {
        list.push((format!("echo {i}"), format!("{i}\n").into_bytes()));
    }
    list
}

mod ex5_3 {
    use super::*;

    #[test]
    fn try_parse_frame_finds_a_whole_frame_and_what_it_used() {
        let cases: [(&[u8], &[u8], usize); 5] = [
            (b"5\nhello", b"hello", 7),
            (b"5\nhello5\nworld", b"hello", 7),
            (b"0\n", b"", 2),
            (b"0\n0\n", b"", 2),
            (b"00000003\nabc...", b"abc", 12),
        ];
        for (buffer, body, used) in cases {
            match ex::try_parse_frame(buffer) {
                Ok(Some((got, got_used))) => {
                    netlab::assert_bytes(
                        &got,
                        body,
                        &format!("try_parse_frame({}): the body", show(buffer)),
                    );
                    assert!(
                        got_used == used,
                        "try_parse_frame({}) said it used {got_used} bytes; the frame is {used} \
                         bytes long, header included (what follows is the next frame)",
                        show(buffer)
                    );
                }
                Ok(None) => panic!(
                    "try_parse_frame({}) returned Ok(None), but a whole frame is there",
                    show(buffer)
                ),
                Err(e) => panic!(
                    "try_parse_frame({}) failed, but a whole frame is there: {e}",
                    show(buffer)
                ),
            }
        }
    }

    #[test]
    fn try_parse_frame_waits_for_a_header_or_body_cut_anywhere() {
        let mut long = frame(&text(1234));
        long.truncate(40);
        for whole in [frame(b"hello, world"), frame(b""), long] {
            for end in 0..whole.len() {
                let cut = &whole[..end];
                match ex::try_parse_frame(cut) {
                    Ok(None) => {}
                    Ok(Some((body, _))) if !cut.contains(&b'\n') => panic!(
                        "try_parse_frame({}) returned a frame, {}, but the header has no newline \
                         yet: more digits may follow (\"1\" may be the start of \"12␊\"). A \
                         header is whole only at its newline",
                        show(cut),
                        show(&body)
                    ),
                    Ok(Some((body, _))) => panic!(
                        "try_parse_frame({}) returned a frame, {}, but that frame is not whole \
                         yet",
                        show(cut),
                        show(&body)
                    ),
                    Err(e) => panic!(
                        "try_parse_frame({}) failed ({e}), but these bytes are only the start of \
                         a frame, cut by the network: not enough data yet is Ok(None), not an \
                         error",
                        show(cut)
                    ),
                }
            }
        }
    }

    #[test]
    fn try_parse_frame_refuses_a_bad_or_oversized_header_at_once() {
        let too_long = format!("{}\n", ex::MAX_FRAME + 1).into_bytes();
        let cases: [(&[u8], &str); 9] = [
            (b"x\n", "not a number"),
            (b"-1\n", "not a number"),
            (b"+5\nhello", "not a number"),
            (b" 5\nhello", "not a number"),
            (b"\nhello", "no digits"),
            (b"12a", "a byte that is no digit, even before the newline"),
            (
                b"123456789",
                "more digits than MAX_DIGITS, even before the newline",
            ),
            (
                b"99999999\n",
                "a length over MAX_FRAME, with none of the body yet",
            ),
            (
                &too_long,
                "a length over MAX_FRAME, with none of the body yet",
            ),
        ];
        for (buffer, why) in cases {
            match ex::try_parse_frame(buffer) {
                Err(e) if e.kind() == ErrorKind::InvalidData => {}
                Err(e) => panic!(
                    "try_parse_frame({}) failed with {:?}; a header that can never be right is \
                     InvalidData",
                    show(buffer),
                    e.kind()
                ),
                Ok(None) => panic!(
                    "try_parse_frame({}) returned Ok(None): more bytes cannot make this a frame \
                     ({why}), so a reader would wait for ever. Return an InvalidData error",
                    show(buffer)
                ),
                Ok(Some((body, _))) => panic!(
                    "try_parse_frame({}) accepted a frame, {}, with a bad header ({why})",
                    show(buffer),
                    show(&body)
                ),
            }
        }
    }

    #[test]
    fn frame_reader_finds_every_frame_wherever_the_stream_is_cut() {
        // Three frames, one bigger than READ_SIZE, cut into two reads at every position: the
        // headers are cut at every place they can be.
        let bodies = [
            b"hello, world".to_vec(),
            Vec::new(),
            text(ex::READ_SIZE + 500),
        ];
        let stream: Vec<u8> = bodies.iter().flat_map(|b| frame(b)).collect();
        for at in 1..stream.len() {
            let mut reader = ex::FrameReader::new(Pieces::cut_at(&stream, at));
            for (i, body) in bodies.iter().enumerate() {
                let cut = show(&stream[at.saturating_sub(6)..at]);
                match reader.next_frame() {
                    Ok(Some(got)) => netlab::assert_bytes(
                        &got,
                        body,
                        &format!(
                            "frame {} of 3, with the first read ending after {cut}",
                            i + 1
                        ),
                    ),
                    Ok(None) => panic!(
                        "next_frame returned Ok(None) before frame {} of 3 (the first read \
                         ended after {cut}): the stream had not ended; read more",
                        i + 1
                    ),
                    Err(e) => panic!(
                        "next_frame failed on frame {} of 3, with the first read ending after \
                         {cut}: {e}. A read can bring the end of one frame and the start of the \
                         next: keep those bytes in the buffer, and remove only the `used` bytes \
                         of the frame you return",
                        i + 1
                    ),
                }
            }
            match reader.next_frame() {
                Ok(None) => {}
                other => panic!(
                    "after the last frame the stream ended cleanly, so next_frame must return \
                     Ok(None); it returned {other:?}"
                ),
            }
        }
    }

    #[test]
    fn two_frames_in_one_read_need_no_second_read() {
        // Both frames in one write, all of them in the socket before the first read: that read
        // takes both. The peer then sends nothing more, as a peer waiting for a reply would.
        let both = [frame(b"first"), frame(b"second")].concat();
        let total = both.len();
        let addr = peer(both, true);
        let socket = Socket::to(addr);
        wait_until_buffered(&socket.conn, total);
        let mut reader = ex::FrameReader::new(socket);
        let first = reader.next_frame();
        assert!(
            matches!(&first, Ok(Some(body)) if body == b"first"),
            "the first frame was \"first\"; next_frame returned {first:?}"
        );
        match reader.next_frame() {
            Ok(Some(body)) => netlab::assert_bytes(&body, b"second", "the second frame"),
            Ok(None) => panic!("next_frame returned Ok(None), but a second frame was there"),
            Err(e) => panic!(
                "the second frame came in the same read as the first, yet next_frame did not \
                 return it: {}. After the first frame, keep the rest of the buffer (remove only \
                 the `used` bytes), and try to parse it BEFORE you read again: the peer sends \
                 nothing more until it gets a reply",
                said(&e)
            ),
        }
    }

    #[test]
    fn frame_reader_reads_many_frames_cut_by_the_lab() {
        // 300 frames of 0 to 150 bytes (every tenth empty), one of 100 000: sent in one
        // write, cut into pieces of 1 to 7 bytes on their way, then the peer closes.
        let mut bodies: Vec<Vec<u8>> = (0..300)
            .map(|i| {
                if i % 10 == 0 {
                    Vec::new()
                } else {
                    text(i * 37 % 151)
                }
            })
            .collect();
        bodies[150] = text(100_000);
        let stream: Vec<u8> = bodies.iter().flat_map(|b| frame(b)).collect();
        let proxy = lab(peer(stream, false), 53);
        let mut reader = ex::FrameReader::new(Socket::to(proxy.local_addr()));
        for (i, body) in bodies.iter().enumerate() {
            match reader.next_frame() {
                Ok(Some(got)) => {
                    netlab::assert_bytes(&got, body, &format!("frame {} of 300", i + 1));
                }
                Ok(None) => panic!(
                    "next_frame returned Ok(None) after {i} of 300 frames, but the rest were \
                     still coming"
                ),
                Err(e) => panic!(
                    "next_frame failed on frame {} of 300 ({} bytes): {}. Bytes read past the \
                     end of a frame are the start of the next: do they stay in the buffer?",
                    i + 1,
                    body.len(),
                    said(&e)
                ),
            }
        }
        match reader.next_frame() {
            Ok(None) => {}
            other => panic!(
                "after the last frame the peer closed the connection: next_frame must return \
                 Ok(None); it returned {other:?}"
            ),
        }
    }

    #[test]
    fn a_peer_that_closes_inside_a_frame_is_unexpected_eof() {
        let cases: [(&[u8], usize, &str); 3] = [
            (b"12", 0, "in the middle of a header"),
            (b"10\nabc", 0, "after 3 of the body's 10 bytes"),
            (
                b"5\nhello3\nab",
                1,
                "in the second frame, after 2 of its 3 bytes",
            ),
        ];
        for (seed, (bytes, whole, where_)) in cases.into_iter().enumerate() {
            let proxy = lab(peer(bytes.to_vec(), false), seed as u64);
            let mut reader = ex::FrameReader::new(Socket::to(proxy.local_addr()));
            for _ in 0..whole {
                let got = reader.next_frame();
                assert!(
                    matches!(&got, Ok(Some(_))),
                    "the stream {} starts with a whole frame; next_frame returned {got:?}",
                    show(bytes)
                );
            }
            match reader.next_frame() {
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => {}
                Ok(None) => panic!(
                    "the peer sent {} and closed the connection {where_}, yet next_frame \
                     returned Ok(None), the clean end. Bytes left in the buffer are a frame that \
                     was cut: that is an UnexpectedEof error",
                    show(bytes)
                ),
                Ok(Some(body)) => panic!(
                    "the peer sent {} and closed {where_}, yet next_frame returned a frame, {}",
                    show(bytes),
                    show(&body)
                ),
                Err(e) => panic!(
                    "the peer sent {} and closed {where_}: next_frame should fail with \
                     UnexpectedEof, not with {}",
                    show(bytes),
                    said(&e)
                ),
            }
        }
    }

    #[test]
    fn an_oversized_length_is_refused_before_the_body() {
        // The peer announces too much, or sends a header that can never end, and then sends
        // nothing more: a reader that waits for the body waits for ever.
        let too_long = format!("{}\n", ex::MAX_FRAME + 1).into_bytes();
        let cases = [too_long, b"123456789".to_vec(), b"12x".to_vec()];
        for (seed, bytes) in cases.into_iter().enumerate() {
            let proxy = lab(peer(bytes.clone(), true), seed as u64);
            let mut reader = ex::FrameReader::new(Socket::to(proxy.local_addr()));
            match reader.next_frame() {
                Err(e) if e.kind() == ErrorKind::InvalidData => {}
                Err(e) => panic!(
                    "the peer sent {} and nothing more: next_frame should refuse that header \
                     with InvalidData at once, without waiting for more, but ended with {}",
                    show(&bytes),
                    said(&e)
                ),
                Ok(got) => panic!(
                    "the peer sent {} and nothing more: next_frame should refuse that header \
                     with InvalidData, but returned Ok({got:?})",
                    show(&bytes)
                ),
            }
        }
    }

    #[test]
    fn your_server_answers_pipelined_commands_through_the_lab() {
        let commands = commands();
        let (server_addr, outcome) = start_your_server();
        let proxy = lab(server_addr, 7);
        let conn = connect(proxy.local_addr());
        // Every command, framed by the test, in one write: the server gets several frames
        // per read, and, through the lab, headers cut in two.
        let batch: Vec<u8> = commands
            .iter()
            .flat_map(|(c, _)| frame(c.as_bytes()))
            .collect();
        (&conn).write_all(&batch).unwrap();
        let mut replies = BufReader::new(&conn);
        for (i, (command, expected)) in commands.iter().enumerate() {
            let reply = match read_frame(&mut replies) {
                Ok(Some(reply)) => reply,
                problem => {
                    let got = match problem {
                        Ok(_) => "the server closed the connection".to_string(),
                        Err(e) => said(&e),
                    };
                    let why = your_server(&outcome);
                    panic!(
                        "no reply {} of {} (to {}): {got}. {why}",
                        i + 1,
                        commands.len(),
                        show(command.as_bytes())
                    )
                }
            };
            let empty = match expected.is_empty() {
                true => " (a command that prints nothing still gets a reply: the frame 0␊)",
                false => "",
            };
            netlab::assert_bytes(
                &reply,
                expected,
                &format!(
                    "reply {} of {}, to {}{empty}",
                    i + 1,
                    commands.len(),
                    show(command.as_bytes())
                ),
            );
        }
        // The client is done: it closes its writing half, between two frames.
        conn.shutdown(Shutdown::Write).unwrap();
        match outcome.recv_timeout(WAIT) {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => panic!(
                "the client closed the connection between two commands, the normal end, yet \
                 serve_frames returned an error: {}",
                said(&e)
            ),
            Ok(Err(panic)) => panic!("serve_frames panicked at the end: {panic}"),
            Err(_) => panic!(
                "serve_frames did not return within {} s after the client closed: when \
                 next_frame returns Ok(None), the conversation is over",
                WAIT.as_secs()
            ),
        }
    }

    #[test]
    fn your_client_pipelines_its_commands_through_the_lab() {
        let commands = ["echo one", "empty", "big", "two words", "", "last"];
        let reply_to = |command: &str| -> Vec<u8> {
            match command {
                "empty" | "" => Vec::new(),
                "big" => text(100_000),
                other => format!("you said {other}\n").into_bytes(),
            }
        };
        // The test's server reads EVERY command before it answers any: only a client that
        // sends them all before it reads gets its replies.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server_addr = listener.local_addr().unwrap();
        let server = on_a_thread(move || -> Result<usize, String> {
            let (conn, _) = listener.accept().unwrap();
            conn.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let mut requests = BufReader::new(&conn);
            let mut replies = Vec::new();
            for n in 0..commands.len() {
                match read_frame(&mut requests) {
                    Ok(Some(command)) => {
                        replies.extend(frame(&reply_to(&String::from_utf8_lossy(&command))))
                    }
                    Ok(None) => return Err(format!("the client closed after {n} commands")),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        return Err(format!("only {n} of them came within 2 s"));
                    }
                    Err(e) => return Err(format!("after {n} commands: {e}")),
                }
            }
            (&conn).write_all(&replies).map_err(|e| e.to_string())?;
            // Then wait for the client to close: it must not send anything more.
            conn.set_read_timeout(Some(WAIT)).unwrap();
            let mut extra = Vec::new();
            let _ = requests.read_to_end(&mut extra);
            Ok(extra.len())
        });
        let proxy = lab(server_addr, 11);
        let conn = connect(proxy.local_addr());
        let client = on_a_thread(move || ex::pipeline(conn, &commands));
        match server.recv_timeout(WAIT * 2) {
            Ok(Ok(Ok(0))) => {}
            Ok(Ok(Ok(extra))) => panic!(
                "after its {} commands the client sent {extra} more bytes",
                commands.len()
            ),
            Ok(Ok(Err(why))) => panic!(
                "the test's server expected {} commands, all sent before any reply is read \
                 (pipelining), but {why}. Send every command first, then read the replies",
                commands.len()
            ),
            Ok(Err(panic)) => panic!("the test's server failed: {panic}"),
            Err(_) => panic!(
                "the test's server still waits for your client to close after {} s: does \
                 pipeline return once it has one reply per command?",
                (WAIT * 2).as_secs()
            ),
        }
        let replies = match client.recv_timeout(WAIT) {
            Ok(Ok(Ok(replies))) => replies,
            Ok(Ok(Err(e))) => panic!("pipeline failed: {}", your_client(&e)),
            Ok(Err(panic)) => panic!("pipeline panicked: {panic}"),
            Err(_) => panic!("pipeline did not return within {} s", WAIT.as_secs()),
        };
        assert!(
            replies.len() == commands.len(),
            "pipeline returned {} replies for {} commands",
            replies.len(),
            commands.len()
        );
        for (i, (command, reply)) in commands.iter().zip(&replies).enumerate() {
            netlab::assert_bytes(
                reply,
                &reply_to(command),
                &format!(
                    "reply {} of {}, to {}",
                    i + 1,
                    commands.len(),
                    show(command.as_bytes())
                ),
            );
        }
    }

    #[test]
    fn your_client_and_your_server_together_through_the_lab() {
        let list = commands();
        let (server_addr, outcome) = start_your_server();
        let proxy = lab(server_addr, 23);
        let conn = connect(proxy.local_addr());
        let names: Vec<String> = list.iter().map(|(c, _)| c.clone()).collect();
        let client = on_a_thread(move || {
            let commands: Vec<&str> = names.iter().map(String::as_str).collect();
            ex::pipeline(conn, &commands)
        });
        let replies = match client.recv_timeout(WAIT * 2) {
            Ok(Ok(Ok(replies))) => replies,
            Ok(Ok(Err(e))) if e.kind() == ErrorKind::InvalidData => {
                panic!("pipeline failed against serve_frames: {}", your_client(&e))
            }
            Ok(Ok(Err(e))) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                // The client gave up and closed, so whatever the server did since says nothing.
                panic!(
                    "pipeline failed against serve_frames: {}. One end waited for the other, \
                     and either can be wrong: the checks of your server alone and of your \
                     client alone tell which",
                    said(&e)
                )
            }
            Ok(Ok(Err(e))) => panic!(
                "pipeline failed against serve_frames: {}. {}",
                said(&e),
                your_server(&outcome)
            ),
            Ok(Err(panic)) => panic!("pipeline panicked: {panic}"),
            Err(_) => panic!(
                "pipeline did not return within {} s against serve_frames",
                (WAIT * 2).as_secs()
            ),
        };
        assert!(
            replies.len() == list.len(),
            "pipeline returned {} replies for {} commands",
            replies.len(),
            list.len()
        );
        for (i, ((command, expected), reply)) in list.iter().zip(&replies).enumerate() {
            netlab::assert_bytes(
                reply,
                expected,
                &format!(
                    "reply {} of {}, to {}",
                    i + 1,
                    list.len(),
                    show(command.as_bytes())
                ),
            );
        }
        // pipeline has returned, and dropped its connection: the server's conversation is over.
        match outcome.recv_timeout(WAIT) {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => panic!(
                "your client closed after its replies, yet serve_frames returned an error: {}",
                said(&e)
            ),
            Ok(Err(panic)) => panic!("serve_frames panicked: {panic}"),
            Err(_) => panic!(
                "serve_frames did not return within {} s after your client closed: when \
                 next_frame returns Ok(None), the conversation is over",
                WAIT.as_secs()
            ),
        }
    }
}
