//! The checks for chapter 4's exercises, written against `crate::ex`: the starter in lessons/
//! (where they must fail) or the solution (where they must pass). Every read in them gives up
//! after `READ_TIMEOUT`, so an unsolved exercise fails instead of hanging.

use std::io::{BufReader, Cursor, ErrorKind, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
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
    stream
}

fn line(text: &str) -> Option<String> {
    Some(text.to_string())
}

// ---- Exercise 4.1: a line protocol ----

#[test]
fn two_lines_in_one_read_are_both_returned() {
    let (addr, server) = server_writing(vec![b"first\nsecond\n".to_vec()]);
    let stream = connect(addr);
    // Both lines are in the socket before the first read, so that read takes both: by
    // construction, not by luck.
    lesson_04::wait_until_buffered(&stream, 13, READ_TIMEOUT).unwrap();
    let mut conn = LineConnection::new(&stream);
    assert_eq!(conn.read_line().unwrap(), line("first"));
    assert_eq!(
        conn.read_line().unwrap(),
        line("second"),
        "the second line came in the same read as the first: where did it go?"
    );
    assert_eq!(conn.read_line().unwrap(), None, "then the stream ends");
    server.join().unwrap();
}

#[test]
fn a_line_in_two_writes_is_joined_and_the_next_line_kept() {
    // The newline of "hello" and all of "world" travel in ONE write, so whichever read
    // returns that newline also returns "world\n".
    let (addr, server) = server_writing(vec![b"hel".to_vec(), b"lo\nworld\n".to_vec()]);
    let mut conn = LineConnection::new(connect(addr));
    assert_eq!(conn.read_line().unwrap(), line("hello"));
    assert_eq!(conn.read_line().unwrap(), line("world"));
    assert_eq!(conn.read_line().unwrap(), None);
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
    conn.send_line("echo hi").unwrap();
    // Wait until both writes are buffered (16 + 3 bytes): the first read gets them both.
    lesson_04::wait_until_buffered(&stream, 19, testkit::TIMEOUT).unwrap();
    assert_eq!(conn.read_line().unwrap(), line("[exit status 0]"));
    let output = conn
        .read_line()
        .expect("the output line arrived with the status line; it must not be lost");
    assert_eq!(output, line("hi"));
}

// ---- Exercise 4.2: dot framing ----

#[test]
fn dot_frame_doubles_leading_dots_and_ends_with_a_lone_dot() {
    assert_eq!(ex::dot_frame(b"hello\nworld\n"), b"hello\nworld\n.\n");
    assert_eq!(
        ex::dot_frame(b"a\n.b"),
        b"a\n..b\n.\n",
        "a missing last newline is added"
    );
    assert_eq!(ex::dot_frame(b".\n..\n"), b"..\n...\n.\n");
    assert_eq!(
        ex::dot_frame(b"a.\n b\n"),
        b"a.\n b\n.\n",
        "only a dot at the START of a line is doubled"
    );
    assert_eq!(
        ex::dot_frame(b""),
        b".\n",
        "empty output is just the end marker"
    );
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
        let got =
            ex::read_dot_framed(&mut reader).unwrap_or_else(|e| panic!("reading {framed:?}: {e}"));
        assert_eq!(got, expected, "the reply framed as {framed:?}");
        assert_eq!(
            reader.position(),
            framed.len() as u64,
            "the reader stops right after the end marker"
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
    assert_eq!(ex::read_dot_framed(&mut reader).unwrap(), first);
    assert_eq!(ex::read_dot_framed(&mut reader).unwrap(), second);
    let end = ex::read_dot_framed(&mut reader).expect_err("the stream ended: no third reply");
    assert_eq!(end.kind(), ErrorKind::UnexpectedEof);
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
    assert_eq!(ex::read_dot_framed(&mut reader).unwrap(), output);
    assert_eq!(ex::read_dot_framed(&mut reader).unwrap(), b"bye\n");
    server.join().unwrap();
}

#[test]
fn a_reply_cut_off_by_the_end_of_the_stream_is_an_error() {
    let cut: [&[u8]; 4] = [b"", b"half a reply\n", b"no marker, no newline", b"line\n."];
    for bytes in cut {
        let err = ex::read_dot_framed(&mut Cursor::new(bytes))
            .expect_err("a reply without its end marker is not a reply");
        assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "for {bytes:?}");
    }
}
