//! The checks for chapter 6's exercises, written against `crate::ex`: the starter in lessons/
//! (where they must fail) or the solution (where they must pass). The checks of exercise 6.N
//! are in module `ex6_N`; `cargo course check 6.N` runs them.

use std::io::{self, Cursor, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::ex;

use netlab::{Directions, Options, Proxy, preview};
use testkit::{TIMEOUT, Trickle, read_some};

/// A writer that keeps every write apart, to count them and see their sizes.
#[derive(Default)]
struct Writes(Vec<Vec<u8>>);

impl Write for Writes {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.push(buf.to_vec());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Writes {
    fn all(&self) -> Vec<u8> {
        self.0.concat()
    }
}

/// Deterministic, varied bytes: no two neighbouring positions look alike.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// Bytes as hex, `ac 02`: for binary data such as a varint, where text would mean nothing.
fn hex(bytes: &[u8]) -> String {
    let shown: Vec<String> = bytes.iter().take(16).map(|b| format!("{b:02x}")).collect();
    let more = if bytes.len() > 16 { " ..." } else { "" };
    format!("{}{more}", shown.join(" "))
}

/// How `got` differs from `want`, in words: sizes, or where the first difference is.
fn difference(got: &[u8], want: &[u8]) -> String {
    match got.iter().zip(want).position(|(g, w)| g != w) {
        Some(at) => format!("they differ first at byte {at}"),
        None if got.len() < want.len() => {
            format!("{} of {} bytes arrived", got.len(), want.len())
        }
        None => format!("{} bytes instead of {}", got.len(), want.len()),
    }
}

/// Fails the check, in a sentence, unless `result` is an error of `kind`; returns the error.
fn expect_error<T>(result: io::Result<T>, kind: ErrorKind, what: &str) -> io::Error {
    match result {
        Ok(_) => panic!("{what}: your function returned Ok; it must fail with {kind:?}"),
        Err(e) if e.kind() == kind => e,
        Err(e) => panic!(
            "{what}: your function must fail with {kind:?}, but it failed with {:?} (\"{e}\")",
            e.kind()
        ),
    }
}

// ---- Exercise 6.1: a varint length prefix ----

mod ex6_1 {
    use super::*;

    #[test]
    fn varint_frames_have_the_right_bytes_in_one_write() {
        let cases: [(usize, &[u8]); 6] = [
            (0, &[0x00]),
            (1, &[0x01]),
            (127, &[0x7f]),
            (128, &[0x80, 0x01]),
            (300, &[0xac, 0x02]),
            (16_384, &[0x80, 0x80, 0x01]),
        ];
        for (len, prefix) in cases {
            let payload = pattern(len);
            let mut writes = Writes::default();
            ex::send_varint_frame(&mut writes, &payload)
                .unwrap_or_else(|e| panic!("send_varint_frame failed on {len} bytes: {e}"));
            assert!(
                writes.0.len() == 1,
                "a {len}-byte payload went out in {} writes: length and payload must go in ONE \
                 write",
                writes.0.len()
            );
            let frame = writes.all();
            let (varint, rest) = frame.split_at(prefix.len().min(frame.len()));
            assert!(
                varint == prefix,
                "the varint for {len} must be {}; your frame starts {}",
                hex(prefix),
                hex(&frame)
            );
            assert!(
                rest == payload,
                "after the varint for {len}, the frame must be the payload, unchanged: {}",
                difference(rest, &payload)
            );
        }
    }

    #[test]
    fn varint_frames_round_trip_through_a_network_that_cuts_everything() {
        for len in [0, 1, 127, 128, 300, 16_383, 16_384, 1_048_577] {
            let payload = pattern(len);
            let mut stream = Vec::new();
            ex::send_varint_frame(&mut stream, &payload)
                .unwrap_or_else(|e| panic!("send_varint_frame failed on {len} bytes: {e}"));
            let mut conn = Trickle::new(stream);
            let got = ex::recv_varint_frame(&mut conn, 64 << 20).unwrap_or_else(|e| {
                panic!("recv_varint_frame failed on a {len}-byte frame, arriving 1 to 7 bytes at a time: {e}")
            });
            assert!(
                got == payload,
                "a {len}-byte payload came back different: {}",
                difference(&got, &payload)
            );
        }
    }

    #[test]
    fn a_varint_frame_ends_exactly_where_the_next_begins() {
        let mut stream = Vec::new();
        let sent = [b"".to_vec(), pattern(200), b"last".to_vec()];
        for payload in &sent {
            ex::send_varint_frame(&mut stream, payload)
                .unwrap_or_else(|e| panic!("send_varint_frame failed: {e}"));
        }
        let mut conn = Trickle::new(stream);
        for (i, want) in sent.iter().enumerate() {
            let got = ex::recv_varint_frame(&mut conn, 1000).unwrap_or_else(|e| {
                panic!("three frames in a row (0, 200 and 4 bytes): frame {} failed: {e}; did the frame before it read too far?", i + 1)
            });
            assert!(
                got == *want,
                "three frames in a row (0, 200 and 4 bytes): frame {} came back as {} ({}): \
                 a receive that reads past its frame takes the next one's bytes",
                i + 1,
                preview(&got, 24),
                difference(&got, want)
            );
        }
    }

    #[test]
    fn a_varint_length_over_the_limit_is_refused_before_the_payload() {
        let mut stream = Vec::new();
        ex::send_varint_frame(&mut stream, &pattern(300)).unwrap();
        let mut conn = Cursor::new(stream);
        expect_error(
            ex::recv_varint_frame(&mut conn, 299),
            ErrorKind::InvalidData,
            "a 300-byte frame with a limit of 299",
        );
        assert!(
            conn.position() == 2,
            "a 300-byte frame with a limit of 299: only its 2-byte varint may be read before the \
             length is refused; your function read {} bytes",
            conn.position()
        );
    }

    #[test]
    fn an_endless_or_oversized_varint_is_refused() {
        // Sixty-four continuation bytes: no u64 varint is that long.
        let mut conn = Cursor::new(vec![0x80u8; 64]);
        expect_error(
            ex::recv_varint_frame(&mut conn, u64::MAX),
            ErrorKind::InvalidData,
            "a varint of 64 bytes, each with the high bit set",
        );
        assert!(
            conn.position() <= 10,
            "a varint whose bytes all say \"more follows\": refuse it after at most 10 bytes; \
             your function read {}",
            conn.position()
        );
        // Ten bytes whose value needs more than 64 bits.
        let mut too_big = vec![0xffu8; 9];
        too_big.push(0x7f);
        expect_error(
            ex::recv_varint_frame(&mut Cursor::new(too_big), u64::MAX),
            ErrorKind::InvalidData,
            "a 10-byte varint whose value needs 70 bits",
        );
    }

    #[test]
    fn a_varint_frame_cut_short_is_unexpected_eof() {
        let mut stream = Vec::new();
        ex::send_varint_frame(&mut stream, &pattern(300)).unwrap();
        for cut in [0, 1, 2, 150, 301] {
            expect_error(
                ex::recv_varint_frame(&mut Trickle::new(stream[..cut].to_vec()), 1000),
                ErrorKind::UnexpectedEof,
                &format!("a 302-byte frame whose stream ends after {cut} bytes"),
            );
        }
    }
}

// ---- Exercise 6.2: receive into a writer ----

mod ex6_2 {
    use super::*;

    #[test]
    fn recv_to_writer_copies_exact_bytes_and_leaves_the_next_message() {
        for len in [0usize, 1, 1023, 1024, 1025, 3 * 1024 * 1024 + 17] {
            let mut data = pattern(len);
            data.extend_from_slice(b"NEXT MESSAGE");
            let mut conn = Trickle::new(data);
            let mut out = Writes::default();
            ex::recv_to_writer(&mut conn, len as u64, &mut out).unwrap_or_else(|e| {
                panic!("recv_to_writer failed on a {len}-byte reply, arriving 1 to 7 bytes at a time: {e}")
            });
            let got = out.all();
            assert!(
                got == pattern(len),
                "a {len}-byte reply reached `out` changed: {}",
                difference(&got, &pattern(len))
            );
            assert!(
                conn.consumed() == len,
                "a {len}-byte reply: your function read {} bytes, past its end into the next \
                 message",
                conn.consumed()
            );
        }
    }

    #[test]
    fn recv_to_writer_never_asks_for_more_than_a_chunk_or_what_remains() {
        let len = 5000;
        let mut data = pattern(len);
        data.extend_from_slice(b"NEXT");
        let mut conn = Trickle::new(data);
        ex::recv_to_writer(&mut conn, len as u64, &mut io::sink())
            .unwrap_or_else(|e| panic!("recv_to_writer failed on a {len}-byte reply: {e}"));
        let mut received = 0;
        for (i, (&asked, &given)) in conn.asked.iter().zip(&conn.given).enumerate() {
            let remaining = len - received;
            assert!(
                asked <= 1024 && asked <= remaining,
                "read {} asked for {asked} bytes with {remaining} remaining: ask for at most \
                 1024, and never for more than remains",
                i + 1
            );
            received += given;
        }
        assert!(
            received == len,
            "your reads took {received} bytes of a {len}-byte reply"
        );
    }

    #[test]
    fn recv_to_writer_passes_each_chunk_on_as_it_arrives() {
        let len = 10_000;
        let mut conn = Cursor::new(pattern(len));
        let mut out = Writes::default();
        ex::recv_to_writer(&mut conn, len as u64, &mut out)
            .unwrap_or_else(|e| panic!("recv_to_writer failed on a {len}-byte reply: {e}"));
        let largest = out.0.iter().map(Vec::len).max().unwrap_or(0);
        assert!(
            largest <= 1024,
            "one write of {largest} bytes to `out`: the reply was held instead of passed on \
             chunk by chunk"
        );
        assert!(
            out.all() == pattern(len),
            "a {len}-byte reply reached `out` changed: {}",
            difference(&out.all(), &pattern(len))
        );
    }

    #[test]
    fn recv_to_writer_counts_its_reads() {
        let count = |conn: &mut dyn Read, len: u64| {
            ex::recv_to_writer(&mut &mut *conn, len, &mut io::sink())
                .unwrap_or_else(|e| panic!("recv_to_writer failed on a {len}-byte reply: {e}"))
        };
        let reads = count(&mut Cursor::new(pattern(2500)), 2500);
        assert!(
            reads == 3,
            "2500 bytes from a reader that gives all it is asked for take 3 reads (1024, 1024, \
             452); your function returned {reads}"
        );
        let reads = count(&mut Trickle::new(pattern(28)), 28);
        assert!(
            reads == 7,
            "28 bytes arriving 1, 2, ... 7 bytes at a time take 7 reads; your function returned \
             {reads}"
        );
        let reads = count(&mut Cursor::new(Vec::new()), 0);
        assert!(
            reads == 0,
            "an empty reply needs no read; your function returned {reads}"
        );
    }

    #[test]
    fn recv_to_writer_reports_a_reply_cut_short() {
        let mut conn = Trickle::new(pattern(700));
        let mut out = Writes::default();
        expect_error(
            ex::recv_to_writer(&mut conn, 1000, &mut out),
            ErrorKind::UnexpectedEof,
            "a 1000-byte reply whose stream ends after 700 bytes",
        );
        assert!(
            out.all() == pattern(700),
            "a reply cut short after 700 bytes: pass on what did arrive before failing; `out` \
             got something else: {}",
            difference(&out.all(), &pattern(700))
        );
    }
}

// ---- Exercise 6.3: chunked transfer, over real sockets ----

/// The chapter, relative to the package whose tests run (lesson-06 or solution-06).
const PAGE: &str = "../../book/src/ch06-chunked-receive.md";

/// The chunk size the 6.3 checks allow.
const MAX_CHUNK: usize = 4096;

/// How long a 6.3 check waits for the learner's code before it says what probably went wrong.
const PATIENCE: Duration = Duration::from_secs(5);

/// The checks' own encoder, independent of yours: each part as one chunk, then `0\n`.
fn chunked(parts: &[&[u8]]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("{}\n", part.len()).as_bytes());
        body.extend_from_slice(part);
    }
    body.extend_from_slice(b"0\n");
    body
}

/// One TCP connection on loopback: `server` is the accepted end, `client` the connecting end,
/// through the network lab if one is asked for. Every read and write on both is bounded.
struct Link {
    server: TcpStream,
    client: TcpStream,
    _lab: Option<Proxy>,
}

/// The lab's setting for checks where the receiver matters: everything the server sends
/// arrives cut into pieces of 1 to 7 bytes.
fn cut_to_client() -> Options {
    Options {
        split: Some((1, 7)),
        seed: 63,
        directions: Directions::ToClient,
        ..Options::default()
    }
}

fn link(lab: Option<Options>) -> Link {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a listener on 127.0.0.1:0");
    let server_addr = listener.local_addr().unwrap();
    let lab = lab.map(|options| Proxy::on_loopback(server_addr, options).expect("the lab starts"));
    let to = lab.as_ref().map_or(server_addr, Proxy::local_addr);
    let client = TcpStream::connect(to).expect("connect to the test's listener");
    // accept() has no timeout of its own: poll, bounded (through the lab, its connection to
    // the listener comes a moment after ours).
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + TIMEOUT;
    let server = loop {
        match listener.accept() {
            Ok((server, _)) => break server,
            Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(2));
            }
            Err(e) => panic!("the test's listener accepted nothing within {TIMEOUT:?}: {e}"),
        }
    };
    server.set_nonblocking(false).unwrap();
    for end in [&server, &client] {
        end.set_read_timeout(Some(TIMEOUT)).unwrap();
        end.set_write_timeout(Some(TIMEOUT)).unwrap();
    }
    Link {
        server,
        client,
        _lab: lab,
    }
}

/// A thread of the check's (one side of the connection), whose end is waited for with a bound
/// and whose panic, if any, is reported in words.
struct Side<T> {
    handle: JoinHandle<T>,
    done: Receiver<()>,
}

/// Sends on its channel when dropped, even when the thread unwinds from a panic.
struct DoneOnDrop(Sender<()>);

impl Drop for DoneOnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

fn side<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Side<T> {
    let (tx, done) = mpsc::channel();
    let handle = thread::spawn(move || {
        let _done = DoneOnDrop(tx);
        work()
    });
    Side { handle, done }
}

impl Side<()> {
    /// Waits for one of the check's own threads, which cannot fail unless the test machine does.
    fn end(self) {
        self.finish()
            .unwrap_or_else(|e| panic!("the check's own side of the connection failed: {e}"));
    }
}

/// What your `send_chunked` did, in words.
fn sender_outcome(sender: Side<io::Result<u64>>) -> String {
    match sender.finish() {
        Ok(Ok(n)) => format!("it returned Ok({n})"),
        Ok(Err(e)) => format!("it returned an error: {e}"),
        Err(e) => e,
    }
}

impl<T> Side<T> {
    /// What the thread returned, or what went wrong with it, in words.
    fn finish(self) -> Result<T, String> {
        match self.done.recv_timeout(TIMEOUT) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {}
            Err(RecvTimeoutError::Timeout) => {
                return Err(format!("it was still running after {TIMEOUT:?}"));
            }
        }
        self.handle.join().map_err(|panic| {
            let message = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            format!("it panicked: {message}")
        })
    }
}

/// What can go wrong while the checks read a chunked body from your sender.
#[derive(Debug)]
enum WireError {
    /// Nothing arrived within the read timeout.
    Silent,
    /// The connection ended.
    Closed,
    /// Bytes that are not the chunk format.
    Garbled(String),
}

/// The checks' own chunk reader: one chunk (empty for the end chunk) from `conn`.
fn read_chunk(conn: &mut TcpStream) -> Result<Vec<u8>, WireError> {
    let mut header = Vec::new();
    loop {
        let mut byte = [0u8; 1];
        match read_some(conn, &mut byte) {
            Ok(0) => return Err(WireError::Closed),
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) if header.len() < 20 => header.push(byte[0]),
            Ok(_) => {
                return Err(WireError::Garbled(format!(
                    "a chunk header longer than 20 bytes: {}",
                    preview(&header, 24)
                )));
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(WireError::Silent);
            }
            Err(e) => return Err(WireError::Garbled(format!("the read failed: {e}"))),
        }
    }
    let length: usize = std::str::from_utf8(&header)
        .ok()
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|digits| digits.parse().ok())
        .ok_or_else(|| {
            WireError::Garbled(format!(
                "a chunk header must be digits and a newline; got {}",
                preview(&[&header[..], b"\n"].concat(), 24)
            ))
        })?;
    if length > MAX_CHUNK {
        return Err(WireError::Garbled(format!(
            "a chunk of {length} bytes, over max_chunk ({MAX_CHUNK})"
        )));
    }
    let mut data = vec![0u8; length];
    let mut filled = 0;
    while filled < length {
        match read_some(conn, &mut data[filled..]) {
            Ok(0) => return Err(WireError::Closed),
            Ok(n) => filled += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(WireError::Silent);
            }
            Err(e) => return Err(WireError::Garbled(format!("the read failed: {e}"))),
        }
    }
    Ok(data)
}

/// A failure of your sender, in words, with what its thread did.
fn sender_failed(sender: Side<io::Result<u64>>, what: &str, wire: WireError) -> ! {
    let outcome = sender_outcome(sender);
    match wire {
        WireError::Silent => panic!("{what}: nothing more arrived within {TIMEOUT:?} ({outcome})"),
        WireError::Closed => panic!("{what}: the connection closed ({outcome})"),
        WireError::Garbled(why) => panic!("{what}: {why} ({outcome})"),
    }
}

/// An input that hands over `first`, then blocks (bounded) until the check says that `first`
/// has arrived on the other side of the socket, then hands over `rest`, then ends.
struct StallingInput {
    first: Cursor<Vec<u8>>,
    rest: Cursor<Vec<u8>>,
    go_on: Option<Receiver<()>>,
}

impl Read for StallingInput {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if (self.first.position() as usize) < self.first.get_ref().len() {
            return self.first.read(buf);
        }
        // Once, and bounded: if the check gave up (or never hears from the sender), go on
        // anyway, so that the sender's thread ends.
        if let Some(go_on) = self.go_on.take() {
            let _ = go_on.recv_timeout(TIMEOUT);
        }
        self.rest.read(buf)
    }
}

/// Runs your `send_chunked` on the server end of `link`, with `input`, in a thread.
fn run_sender(
    server: TcpStream,
    input: impl Read + Send + 'static,
    max_chunk: usize,
) -> Side<io::Result<u64>> {
    side(move || {
        let (mut server, mut input) = (server, input);
        ex::send_chunked(&mut server, &mut input, max_chunk)
    })
}

/// Writes `bytes` from the server end in a thread, then holds the connection open until
/// `close` is sent (or dropped): a close must not be what ends a receive.
fn run_peer(server: TcpStream, bytes: Vec<u8>, close: Receiver<()>) -> Side<()> {
    side(move || {
        let mut server = server;
        let _ = server.write_all(&bytes);
        let _ = close.recv_timeout(TIMEOUT);
    })
}

/// A writer that tells the check each time bytes reach it.
struct Tell {
    got: Vec<u8>,
    tell: Sender<usize>,
}

impl Write for Tell {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.got.extend_from_slice(buf);
        let _ = self.tell.send(self.got.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

mod ex6_3 {
    use super::*;

    #[test]
    fn the_sender_writes_the_chapters_example_byte_for_byte() {
        // An input whose reads return "hello", then " world", then the end.
        let mut input = Cursor::new(b"hello".to_vec()).chain(Cursor::new(b" world".to_vec()));
        let mut wire = Vec::new();
        ex::send_chunked(&mut wire, &mut input, MAX_CHUNK)
            .unwrap_or_else(|e| panic!("send_chunked failed on \"hello world\": {e}"));
        // The chapter shows the bytes with `␊` for a newline, as netlab::preview does.
        let book = testkit::book_block(PAGE, "chunked-hello");
        let (shown, want) = (preview(&wire, 64), format!("\"{}\"", book.trim_end()));
        assert!(
            shown == want,
            "\"hello world\", read as \"hello\" and then \" world\", must go out as {want}, as \
             the chapter shows it; yours sent {shown}"
        );
    }

    #[test]
    fn the_sender_sends_each_chunk_before_its_input_has_ended() {
        let first = b"the first lines of a long command's output\n".to_vec();
        let rest = b"and the rest, much later\n".to_vec();
        let (go_on, waits) = mpsc::channel();
        let input = StallingInput {
            first: Cursor::new(first.clone()),
            rest: Cursor::new(rest.clone()),
            go_on: Some(waits),
        };
        let Link {
            server, mut client, ..
        } = link(None);
        let sender = run_sender(server, input, MAX_CHUNK);
        // The input has handed over `first` and now waits: a sender that streams sends it now.
        client.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut got = Vec::new();
        while got.len() < first.len() {
            match read_chunk(&mut client) {
                Ok(chunk) if chunk.is_empty() => panic!(
                    "your sender sent the end chunk after {} bytes, while its input had more",
                    got.len()
                ),
                Ok(chunk) => got.extend_from_slice(&chunk),
                Err(WireError::Silent) => {
                    drop(go_on);
                    panic!(
                        "your sender waits for the whole input before sending: its input gave it \
                         {} bytes and is now waiting for more (as a command that is still \
                         running would), and after {PATIENCE:?} only {} of them had arrived. Send \
                         each chunk as soon as one read of the input returns it.",
                        first.len(),
                        got.len()
                    );
                }
                Err(wire) => {
                    // Let the input end, so that the sender's thread can end too.
                    drop(go_on);
                    sender_failed(sender, "while the input was waiting", wire)
                }
            }
        }
        assert!(
            got == first,
            "the first chunks carried {} instead of {}",
            preview(&got, 48),
            preview(&first, 48)
        );
        // Ignored if it fails: a sender that already gave up is reported just below.
        let _ = go_on.send(());
        client.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut later = Vec::new();
        loop {
            match read_chunk(&mut client) {
                Ok(chunk) if chunk.is_empty() => break,
                Ok(chunk) => later.extend_from_slice(&chunk),
                Err(wire) => sender_failed(sender, "after the input went on", wire),
            }
        }
        assert!(
            later == rest,
            "after the wait, the chunks carried {} instead of {}",
            preview(&later, 48),
            preview(&rest, 48)
        );
        match sender.finish() {
            Ok(Ok(n)) => assert!(
                n == (first.len() + rest.len()) as u64,
                "send_chunked sent {} bytes of input but returned {n}",
                first.len() + rest.len()
            ),
            Ok(Err(e)) => panic!("send_chunked sent everything, then returned an error: {e}"),
            Err(e) => panic!("send_chunked sent everything, but then {e}"),
        }
    }

    #[test]
    fn the_sender_writes_whole_chunks_of_at_most_max_chunk() {
        let inputs: [(&str, Box<dyn Read>, Vec<u8>); 3] = [
            (
                "an empty input",
                Box::new(Cursor::new(Vec::new())),
                Vec::new(),
            ),
            (
                "10000 bytes from an input that gives all it is asked for",
                Box::new(Cursor::new(pattern(10_000))),
                pattern(10_000),
            ),
            (
                "100 bytes from an input that gives 1 to 7 bytes a read",
                Box::new(Trickle::new(pattern(100))),
                pattern(100),
            ),
        ];
        for (what, mut input, want) in inputs {
            let mut writes = Writes::default();
            let sent = ex::send_chunked(&mut writes, &mut input, MAX_CHUNK)
                .unwrap_or_else(|e| panic!("{what}: send_chunked failed: {e}"));
            assert!(
                sent == want.len() as u64,
                "{what}: send_chunked returned {sent}; it must return how many bytes of input it \
                 sent, {}",
                want.len()
            );
            // Each write must hold whole chunks: header and data go out together.
            let mut data = Vec::new();
            let mut ended = false;
            for (i, write) in writes.0.iter().enumerate() {
                let mut rest = &write[..];
                while !rest.is_empty() {
                    assert!(
                        !ended,
                        "{what}: more bytes came after a chunk of length 0, in write {}: a \
                         0-length chunk is the end mark, sent only once the input has ended",
                        i + 1
                    );
                    let newline = rest.iter().position(|&b| b == b'\n');
                    let length = newline
                        .and_then(|at| std::str::from_utf8(&rest[..at]).ok())
                        .and_then(|digits| digits.parse::<usize>().ok())
                        .filter(|_| rest[0].is_ascii_digit());
                    let (Some(at), Some(length)) = (newline, length) else {
                        if rest.len() < write.len() {
                            panic!(
                                "{what}: in write {}, after a chunk's data, came {}, which is \
                                 not a chunk header: a header gives the exact length of its \
                                 data, in decimal digits, then a newline",
                                i + 1,
                                preview(rest, 24)
                            )
                        }
                        panic!(
                            "{what}: write {} is {}: each write must hold whole chunks, a \
                             header (digits and a newline) and all of its data. Build the \
                             header and the data in one buffer and write it once (`write!` \
                             writes its pieces one by one)",
                            i + 1,
                            preview(write, 24)
                        )
                    };
                    assert!(
                        length <= MAX_CHUNK,
                        "{what}: a chunk of {length} bytes is over max_chunk ({MAX_CHUNK}): read the \
                         input into a buffer of max_chunk bytes"
                    );
                    rest = &rest[at + 1..];
                    assert!(
                        rest.len() >= length,
                        "{what}: write {} is {}: the chunk's header went out without all of \
                         its {length} bytes. Put the header and the data in one buffer and \
                         write it once: two small writes can wait 40 ms for an \
                         acknowledgement (this chapter's benchmark)",
                        i + 1,
                        preview(write, 24)
                    );
                    data.extend_from_slice(&rest[..length]);
                    rest = &rest[length..];
                    ended = length == 0;
                }
            }
            assert!(
                ended,
                "{what}: the last write must end with the end chunk, \"0␊\""
            );
            assert!(
                data == want,
                "{what}: the chunks carried other bytes: {}",
                difference(&data, &want)
            );
        }
    }

    #[test]
    fn the_receiver_gets_bodies_cut_into_1_to_7_byte_pieces() {
        let big = pattern(100_000);
        let cases: [(&str, Vec<&[u8]>); 4] = [
            ("an empty body", vec![]),
            ("a body of one 1-byte chunk", vec![b"x"]),
            (
                "a body of chunks of 1, 4096 and 7 bytes",
                vec![b"x", &big[..4096], &big[..7]],
            ),
            (
                "a 100000-byte body in chunks of 4000",
                big.chunks(4000).collect(),
            ),
        ];
        for (what, parts) in cases {
            let want = parts.concat();
            let Link {
                server,
                mut client,
                _lab,
            } = link(Some(cut_to_client()));
            let (close, closing) = mpsc::channel();
            let peer = run_peer(server, chunked(&parts), closing);
            let mut out = Vec::new();
            let got = ex::recv_chunked_into(&mut client, &mut out, MAX_CHUNK).unwrap_or_else(|e| {
                panic!("{what}, arriving 1 to 7 bytes at a time: recv_chunked_into failed: {e}")
            });
            assert!(
                out == want,
                "{what}, arriving 1 to 7 bytes at a time: `out` got other bytes: {}",
                difference(&out, &want)
            );
            assert!(
                got == want.len() as u64,
                "{what}: recv_chunked_into returned {got}; it must return how many bytes of data \
                 it received, {}",
                want.len()
            );
            drop(close);
            peer.end();
        }
    }

    #[test]
    fn sender_and_receiver_together_on_empty_one_byte_and_big_replies() {
        for (len, lab) in [
            (0, Some(cut_to_client())),
            (1, Some(cut_to_client())),
            (20_000, Some(cut_to_client())),
            // Direct: the lab cutting 3 MiB into 1..7-byte pieces only makes the check slow.
            (3 * 1024 * 1024 + 17, None),
        ] {
            let how = if lab.is_some() {
                ", cut into 1..7-byte pieces"
            } else {
                ""
            };
            let want = pattern(len);
            let Link {
                server,
                mut client,
                _lab,
            } = link(lab);
            let sender = run_sender(server, Cursor::new(want.clone()), 64 * 1024);
            let mut out = Vec::new();
            let got = match ex::recv_chunked_into(&mut client, &mut out, 64 * 1024) {
                Ok(got) => got,
                Err(e) => {
                    // Closed first, so that a sender blocked on a full socket ends at once.
                    drop(client);
                    panic!(
                        "{len} bytes{how}: recv_chunked_into failed: {e} (send_chunked: {})",
                        sender_outcome(sender)
                    )
                }
            };
            let sent = sender.finish();
            assert!(
                out == want,
                "{len} bytes{how}: what arrived differs from what was sent: {}",
                difference(&out, &want)
            );
            assert!(
                got == len as u64,
                "{len} bytes{how}: recv_chunked_into returned {got}; it must return how many bytes \
                 of data it received, {len}"
            );
            match sent {
                Ok(Ok(n)) => assert!(
                    n == len as u64,
                    "{len} bytes{how}: send_chunked returned {n}; it must return how many bytes of \
                     input it sent, {len}"
                ),
                Ok(Err(e)) => panic!("{len} bytes: send_chunked returned an error: {e}"),
                Err(e) => panic!("{len} bytes: send_chunked: {e}"),
            }
        }
    }

    #[test]
    fn a_chunk_header_over_the_cap_or_not_a_number_is_refused_before_any_data() {
        let endless = vec![b'9'; 1000];
        let cases: [(&str, &[u8]); 4] = [
            (
                "a header of 5000 (max_chunk is 4096), then no data yet",
                b"5000\n",
            ),
            ("a header of 1000 nines and no newline", &endless),
            ("a header that is not a number, \"hello␊\"", b"hello\n"),
            ("an empty header, \"␊\"", b"\n"),
        ];
        for (what, bytes) in cases {
            let Link {
                server,
                mut client,
                _lab,
            } = link(Some(cut_to_client()));
            client.set_read_timeout(Some(PATIENCE)).unwrap();
            let (close, closing) = mpsc::channel();
            let peer = run_peer(server, bytes.to_vec(), closing);
            let result = ex::recv_chunked_into(&mut client, &mut io::sink(), MAX_CHUNK);
            match result {
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    panic!(
                        "{what}: your receiver was still reading after {PATIENCE:?}. Check each \
                         digit as it comes: refuse the length as soon as it is over max_chunk, \
                         before reading any data"
                    )
                }
                other => {
                    expect_error(other, ErrorKind::InvalidData, what);
                }
            }
            drop(close);
            peer.end();
        }
    }

    #[test]
    fn a_body_cut_before_its_end_chunk_is_unexpected_eof() {
        let body = chunked(&[b"hello", b" world"]);
        let end = body.len() - 2;
        for (cut, where_) in [
            (1, "inside the first header"),
            (4, "inside the first chunk's data"),
            (8, "inside the second header"),
            (end, "just before the end chunk"),
            (end + 1, "between the end chunk's 0 and its newline"),
        ] {
            let Link {
                server,
                mut client,
                _lab,
            } = link(Some(cut_to_client()));
            // No run_peer: the connection must really end, with a close, after `cut` bytes.
            let sent = body[..cut].to_vec();
            let peer = side(move || {
                let mut server = server;
                let _ = server.write_all(&sent);
            });
            let result = ex::recv_chunked_into(&mut client, &mut io::sink(), MAX_CHUNK);
            let what = format!("a body whose stream ends {where_}");
            if result.is_ok() {
                panic!(
                    "{what}: your receiver returned Ok. Only \"0␊\" ends a body: an end of \
                     stream before it means the sender died in the middle of the reply"
                );
            }
            expect_error(result, ErrorKind::UnexpectedEof, &what);
            peer.end();
        }
    }

    #[test]
    fn the_receiver_passes_each_chunk_on_before_the_next_arrives() {
        let first = pattern(3000);
        let Link {
            server,
            mut client,
            _lab,
        } = link(Some(cut_to_client()));
        let (tell, told) = mpsc::channel();
        let header_and_first = chunked(&[&first])[..first.len() + 5].to_vec();
        let total = first.len();
        // The peer sends the first chunk, then the rest only once `out` has all of it. Its
        // writes may fail only if the receiver has already given up, which is reported below.
        let peer = side(move || {
            let mut server = server;
            let _ = server.write_all(&header_and_first);
            let deadline = Instant::now() + PATIENCE;
            loop {
                match told.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(n) if n >= total => break,
                    Ok(_) => {}
                    // Timeout: give up and close, so that the receiver ends too.
                    // Disconnected: the receiver has returned, there is nothing to wait for.
                    Err(why) => return Err(why),
                }
            }
            let _ = server.write_all(&chunked(&[b"and the end"]));
            Ok(())
        });
        let mut out = Tell {
            got: Vec::new(),
            tell,
        };
        let result = ex::recv_chunked_into(&mut client, &mut out, MAX_CHUNK);
        // Your receiver has returned: the peer stops waiting for `out`.
        let Tell { got, tell } = out;
        drop(tell);
        let waited = peer
            .finish()
            .unwrap_or_else(|e| panic!("the check's sender: {e}"));
        assert!(
            !matches!(waited, Err(RecvTimeoutError::Timeout)),
            "your receiver keeps the data to itself: the whole first chunk ({total} bytes) had \
             arrived, and {PATIENCE:?} later `out` had only {} of them. Write each chunk to `out` \
             as it arrives, so that memory stays small and the user sees the reply as it comes",
            got.len()
        );
        result.unwrap_or_else(|e| panic!("recv_chunked_into failed: {e}"));
        let want = [&first[..], b"and the end"].concat();
        assert!(
            got == want,
            "`out` got other bytes: {}",
            difference(&got, &want)
        );
    }

    #[test]
    fn the_receiver_never_reads_past_the_end_chunk() {
        let parts: [&[u8]; 3] = [b"one", &pattern(2000), b"three"];
        let mut bytes = chunked(&parts);
        let body = bytes.len();
        bytes.extend_from_slice(b"NEXT MESSAGE");
        let Link {
            server,
            mut client,
            _lab,
        } = link(None);
        let (close, closing) = mpsc::channel();
        let peer = run_peer(server, bytes.clone(), closing);
        // Wait until every byte, the next message's too, is in the receive buffer: a receive
        // that asks for more than it may take then certainly gets it.
        let deadline = Instant::now() + TIMEOUT;
        while client.peek(&mut vec![0u8; bytes.len()]).unwrap_or(0) < bytes.len() {
            assert!(
                Instant::now() < deadline,
                "the check's bytes did not arrive"
            );
            thread::sleep(Duration::from_millis(1));
        }
        client.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut out = Vec::new();
        match ex::recv_chunked_into(&mut client, &mut out, MAX_CHUNK) {
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => panic!(
                "your receiver was still reading {PATIENCE:?} after the whole body had arrived: \
                 stop at the end chunk, \"0␊\"; the sender keeps the connection open for the \
                 next message"
            ),
            Err(e) => panic!("recv_chunked_into failed on a {body}-byte body: {e}"),
        }
        drop(close);
        peer.end();
        let mut left = Vec::new();
        client
            .read_to_end(&mut left)
            .expect("the rest of the stream can be read");
        assert!(
            left == b"NEXT MESSAGE",
            "after a body came \"NEXT MESSAGE\", and your receiver took {} of its bytes: it read \
             past the end chunk. Read a header one byte at a time, and a chunk's data with reads \
             no bigger than what remains of it",
            12 - left.len().min(12)
        );
    }
}
