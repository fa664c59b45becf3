//! The checks for chapter 5's exercises, written against `crate::ex`: the starter in
//! lessons/ (where they must fail) or the solution (where they must pass).

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use lesson_05::{ACK, ServerConfig, serve_one};
use netlab::{Directions, Options, Proxy};

use crate::ex;

/// A stream that hands out its bytes in the pieces it was given, as a network might: each
/// read returns at most one piece (or part of one, if the buffer is smaller), and a scripted
/// error is returned once, in its place. After the last piece: end of stream.
struct Pieces {
    script: VecDeque<Result<Vec<u8>, ErrorKind>>,
    reads: usize,
}

impl Pieces {
    fn new(script: impl IntoIterator<Item = Result<Vec<u8>, ErrorKind>>) -> Pieces {
        Pieces {
            script: script.into_iter().collect(),
            reads: 0,
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
}

impl Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reads += 1;
        assert!(
            self.reads < 100_000,
            "read was called 100000 times: is the loop stuck?"
        );
        match self.script.pop_front() {
            None => Ok(0),
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

/// A reader that must not be read.
struct MustNotRead;

impl Read for MustNotRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        panic!(
            "read was called with a {}-byte buffer; nothing needed reading",
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

// ---- Exercise 5.1: recv_exact ----

#[test]
fn recv_exact_gathers_a_reply_that_arrives_in_pieces() {
    let data = pattern(1025);
    let mut conn = Pieces::cut(&data);
    let got = ex::recv_exact(&mut conn, data.len()).expect("all 1025 bytes are there");
    assert_eq!(got.len(), data.len(), "got {} of 1025 bytes", got.len());
    assert!(got == data, "the bytes came back changed or out of order");
}

#[test]
fn recv_exact_stops_at_n_and_leaves_the_rest() {
    let script = [b"he".to_vec(), b"llo wo".to_vec(), b"rld".to_vec()].map(Ok);
    let mut conn = Pieces::new(script);
    let first = ex::recv_exact(&mut conn, 5).expect("5 bytes are there");
    assert_eq!(String::from_utf8_lossy(&first), "hello");
    let second = ex::recv_exact(&mut conn, 6).expect("6 more bytes are there");
    assert_eq!(
        String::from_utf8_lossy(&second),
        " world",
        "the first call must not take bytes past its 5th"
    );
}

#[test]
fn recv_exact_fails_with_unexpected_eof_when_the_stream_ends_early() {
    let mut conn = Pieces::new([Ok(b"abc".to_vec())]);
    match ex::recv_exact(&mut conn, 10) {
        Err(e) => assert_eq!(e.kind(), ErrorKind::UnexpectedEof, "{e}"),
        Ok(got) => panic!(
            "the stream ended after 3 of 10 bytes, yet recv_exact returned Ok({:?})",
            String::from_utf8_lossy(&got)
        ),
    }
    let mut empty = Pieces::new([]);
    let result = ex::recv_exact(&mut empty, 1);
    assert!(
        result
            .as_ref()
            .is_err_and(|e| e.kind() == ErrorKind::UnexpectedEof),
        "an empty stream has no byte to give: {result:?}"
    );
}

#[test]
fn recv_exact_retries_an_interrupted_read() {
    let mut conn = Pieces::new([
        Err(ErrorKind::Interrupted),
        Ok(b"hel".to_vec()),
        Err(ErrorKind::Interrupted),
        Ok(b"lo".to_vec()),
    ]);
    let got = ex::recv_exact(&mut conn, 5).expect("an interrupted read is not a failure");
    assert_eq!(String::from_utf8_lossy(&got), "hello");
}

#[test]
fn recv_exact_of_zero_bytes_reads_nothing() {
    let got = ex::recv_exact(&mut MustNotRead, 0).expect("0 bytes need no read");
    assert!(got.is_empty());
}

#[test]
fn recv_exact_receives_a_mebibyte_through_the_network_lab() {
    // The lesson's own server, behind the lab, which cuts everything the server sends into
    // pieces of 1 to 7 bytes. The test does steps 1 to 3 itself; recv_exact does step 4.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server_addr = listener.local_addr().unwrap();
    std::thread::spawn(move || serve_one(&listener, &ServerConfig::default(), &mut |_| {}));
    let options = Options {
        split: Some((1, 7)),
        directions: Directions::ToClient,
        ..Options::default()
    };
    let proxy = Proxy::on_loopback(server_addr, options).unwrap();
    let mut conn = testkit::connect(&proxy.local_addr().to_string());
    // Bounded: a recv_exact that wants more than is coming fails within 3 s, not never.
    conn.set_read_timeout(Some(Duration::from_secs(3))).unwrap();

    let expected: Vec<u8> = (1..=200_000)
        .flat_map(|i| format!("{i}\n").into_bytes())
        .take(1_048_577)
        .collect();
    conn.write_all(b"seq 1 200000 | head -c 1048577").unwrap();
    let mut digits = [0u8; 7];
    conn.read_exact(&mut digits).unwrap();
    assert_eq!(&digits, b"1048577");
    conn.write_all(ACK).unwrap();
    let got = ex::recv_exact(&mut conn, expected.len()).expect("the whole reply");
    assert_eq!(got.len(), expected.len(), "got {} bytes", got.len());
    assert!(got == expected, "the reply came back changed");

    // Nothing was left behind, and nothing was taken from the next reply.
    conn.write_all(b"echo next").unwrap();
    let mut digit = [0u8; 1];
    conn.read_exact(&mut digit).unwrap();
    assert_eq!(&digit, b"5");
    conn.write_all(ACK).unwrap();
    let got = ex::recv_exact(&mut conn, 5).expect("the next reply");
    assert_eq!(String::from_utf8_lossy(&got), "next\n");
}

// ---- Exercise 5.2: send_all ----

#[test]
fn send_all_keeps_writing_until_everything_is_accepted() {
    let data = pattern(1025);
    let mut conn = Trickle::new(3, []);
    ex::send_all(&mut conn, &data).expect("a writer that takes 3 bytes at a time still works");
    assert_eq!(
        conn.accepted.len(),
        data.len(),
        "{} of 1025 bytes were sent",
        conn.accepted.len()
    );
    assert!(conn.accepted == data, "bytes were sent twice or skipped");
}

#[test]
fn send_all_retries_an_interrupted_write() {
    let mut conn = Trickle::new(4, [ErrorKind::Interrupted, ErrorKind::Interrupted]);
    ex::send_all(&mut conn, b"recv_ready").expect("an interrupted write is not a failure");
    assert_eq!(String::from_utf8_lossy(&conn.accepted), "recv_ready");
}

#[test]
fn send_all_reports_a_writer_that_accepts_nothing() {
    let mut conn = Trickle::new(0, []);
    match ex::send_all(&mut conn, b"hello") {
        Err(e) => assert_eq!(e.kind(), ErrorKind::WriteZero, "{e}"),
        Ok(()) => panic!("0 of 5 bytes were accepted, yet send_all returned Ok"),
    }
}

#[test]
fn send_all_of_nothing_writes_nothing() {
    let mut conn = Trickle::new(0, []);
    ex::send_all(&mut conn, b"").expect("sending nothing succeeds");
    assert_eq!(conn.writes, 0, "write was called for an empty message");
}
