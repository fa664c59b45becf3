//! `lesson-06 demo`: a server in a thread, the network lab's proxy in front of it, and a client
//! in `main`, narrated.
//!
//! Everything that varies from run to run (ports, how many reads a reply took) is confined to
//! parts of lines that the chapter's transcript matches with `[..]`. The server's log lines
//! travel to the narrator through a channel, and the narrator prints each one once the client's
//! actions guarantee it exists. The proxy's cuts are seeded, and the length message is the only
//! thing the server has sent when the proxy reads it, so the trace of its pieces is the same on
//! every run.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;

use anyhow::{Context, ensure};
use netlab::{Directions, Flow, Options, Piece, Proxy};

use crate::{ACK, CHUNK_SIZE, MAX_FRAME, Settings, recv_chunked, recv_with_length, request};

/// The proxy's seed: it cuts the 7-digit length into 3 pieces, the first of one digit.
const SEED: u64 = 10;

/// The big command: 1 MiB and one byte of `seq`'s output.
const BIG_COMMAND: &str = "seq 1 200000 | head -c 1048577";

/// Runs the demo, narrating to `out`.
pub fn run(out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(out, "Lesson 6: chunked receive")?;
    writeln!(out)?;

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let server_addr = listener.local_addr()?;
    writeln!(out, "[server] listening on {server_addr}")?;
    let log = spawn_server(listener);
    let (trace_tx, trace) = mpsc::channel();
    let proxy = Proxy::on_loopback(
        server_addr,
        Options {
            split: Some((1, 7)),
            seed: SEED,
            directions: Directions::ToClient,
            trace: Some(trace_tx),
            ..Options::default()
        },
    )?;
    writeln!(
        out,
        "[proxy] listening on {}: it cuts everything the server sends into pieces of 1 to 7 bytes",
        proxy.local_addr()
    )?;
    writeln!(
        out,
        "-- the client connects to the proxy, which connects to the server"
    )?;
    let mut conn = connect(proxy.local_addr())?;
    show(out, &log, 1)?;

    writeln!(out, "[client] $ {BIG_COMMAND}")?;
    conn.write_all(BIG_COMMAND.as_bytes())?;
    let expected = seq_output(1_048_577);
    let digits = expected.len().to_string();
    // What only a demo can do: it knows how many digits the length has, so it reads exactly
    // that many. A real client cannot know, and takes what its one read returns.
    let mut length = vec![0u8; digits.len()];
    conn.read_exact(&mut length)?;
    // The length has arrived, so the server has logged the command and its outcome.
    show(out, &log, 2)?;
    let pieces = pieces_of_length(&trace, digits.len())?;
    // Seen all we need: stop collecting (the proxy ignores a trace nobody reads).
    drop(trace);
    writeln!(
        out,
        "[proxy] the length \"{}\" went to the client in {} pieces:",
        length.escape_ascii(),
        pieces.len()
    )?;
    for piece in &pieces {
        writeln!(out, "    {piece}")?;
    }
    writeln!(
        out,
        "-- a client's one read for the length could return only \"{}\": the digits carry no end mark.",
        pieces[0].bytes.escape_ascii()
    )?;
    writeln!(
        out,
        "-- this demo knows the answer has {} digits and reads exactly that many; a real client cannot (see the 4-byte header below)",
        digits.len()
    )?;
    ensure!(length == digits.as_bytes(), "unexpected length message");
    writeln!(out, "[client] length {digits}; sending recv_ready")?;
    conn.write_all(ACK)?;

    writeln!(
        out,
        "[client] receiving: reads of at most {CHUNK_SIZE} bytes, the last one sized to what remains"
    )?;
    let mut counting = CountingReader::new(&mut conn);
    let reply = recv_chunked(&mut counting, expected.len())?;
    // Data has arrived, so the server has read our recv_ready and logged it.
    show(out, &log, 1)?;
    writeln!(
        out,
        "[client] {} bytes arrived in {} reads; the first read returned {} bytes, the largest {}",
        reply.len(),
        counting.reads,
        counting.first.unwrap_or(0),
        counting.largest
    )?;
    ensure!(reply == expected, "the reply differs from seq's output");
    writeln!(
        out,
        "[client] announced {digits}, received {}: the same bytes `seq` printed, byte for byte",
        reply.len()
    )?;

    writeln!(
        out,
        "-- the next replies are exact too: the first receive took nothing that was not its own"
    )?;
    // One-digit lengths: the proxy cannot cut them, so the client's own `request` is enough.
    for command in ["echo next", "true"] {
        writeln!(out, "[client] $ {command}")?;
        let reply = request(&mut conn, command)?;
        show(out, &log, 3)?;
        writeln!(
            out,
            "[client] got {} bytes: \"{}\"",
            reply.len(),
            shown(&reply)
        )?;
    }
    writeln!(out, "[client] close")?;
    drop(conn);
    show(out, &log, 1)?;
    drop(proxy);

    writeln!(out)?;
    header_demo(out, &expected)
}

/// The 4-byte header, through a proxy that cuts both directions.
fn header_demo(out: &mut impl Write, big: &[u8]) -> anyhow::Result<()> {
    writeln!(
        out,
        "-- the next step: a 4-byte length header, through a proxy that cuts BOTH directions"
    )?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let server_addr = listener.local_addr()?;
    let log = spawn_framed_echo(listener);
    let proxy = Proxy::on_loopback(
        server_addr,
        Options {
            split: Some((1, 7)),
            seed: SEED,
            ..Options::default()
        },
    )?;
    writeln!(
        out,
        "[framed server] listening on {server_addr}; it sends every frame it gets back"
    )?;
    let mut conn = connect(proxy.local_addr())?;
    let second = b"next";
    writeln!(
        out,
        "[client] two frames in ONE write: {} bytes of `seq` output, then \"next\"",
        big.len()
    )?;
    let mut both = Vec::new();
    crate::send_with_length(&mut both, big)?;
    crate::send_with_length(&mut both, second)?;
    conn.write_all(&both)?;
    let first_back = recv_with_length(&mut conn, MAX_FRAME)?;
    let second_back = recv_with_length(&mut conn, MAX_FRAME)?;
    // Both frames are back, so the server has logged both.
    show_as(out, &log, 2, "[framed server]")?;
    ensure!(
        first_back == big && second_back == second,
        "a frame changed"
    );
    writeln!(
        out,
        "[client] frame 1: {} bytes, equal to what was sent",
        first_back.len()
    )?;
    writeln!(
        out,
        "[client] frame 2: \"{}\": the first receive stopped exactly at its end",
        second_back.escape_ascii()
    )?;
    Ok(())
}

/// Bytes as text, escaped, with a newline shown as `␊` (as the network lab's trace shows it).
fn shown(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string().replace("\\n", "␊")
}

/// The first bytes `seq 1 200000` prints, as the big command's output.
pub fn seq_output(len: usize) -> Vec<u8> {
    let mut text = Vec::new();
    let mut i = 1u32;
    while text.len() < len {
        text.extend_from_slice(format!("{i}\n").as_bytes());
        i += 1;
    }
    text.truncate(len);
    text
}

/// Collects the proxy's pieces toward the client until the first `len` bytes are covered.
fn pieces_of_length(trace: &Receiver<Piece>, len: usize) -> anyhow::Result<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut covered = 0;
    while covered < len {
        let piece = trace
            .recv_timeout(Duration::from_secs(10))
            .context("the proxy's trace went quiet")?;
        // The command going the other way is traced too.
        if piece.flow == Flow::ToClient {
            covered = piece.offset as usize + piece.bytes.len();
            pieces.push(piece);
        }
    }
    Ok(pieces)
}

/// Counts the reads it passes on, and remembers the first and the largest.
struct CountingReader<'a, R> {
    inner: &'a mut R,
    reads: usize,
    first: Option<usize>,
    largest: usize,
}

impl<'a, R> CountingReader<'a, R> {
    fn new(inner: &'a mut R) -> Self {
        CountingReader {
            inner,
            reads: 0,
            first: None,
            largest: 0,
        }
    }
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.reads += 1;
        self.first.get_or_insert(n);
        self.largest = self.largest.max(n);
        Ok(n)
    }
}

/// Serves one client in a thread; its log lines arrive on the returned channel.
fn spawn_server(listener: TcpListener) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        crate::serve_one(&listener, &Settings::default(), &mut |line| {
            let _ = tx.send(line);
        });
    });
    rx
}

/// A server for framed messages: sends each frame back, until the client closes.
fn spawn_framed_echo(listener: TcpListener) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || -> io::Result<()> {
        let (mut conn, _) = listener.accept()?;
        conn.set_read_timeout(Some(Duration::from_secs(10)))?;
        for number in 1.. {
            let Ok(frame) = recv_with_length(&mut conn, MAX_FRAME) else {
                return Ok(());
            };
            let shown = if frame.len() <= 16 {
                format!(": \"{}\"", frame.escape_ascii())
            } else {
                String::new()
            };
            let _ = tx.send(format!("frame {number}: {} bytes{shown}", frame.len()));
            crate::send_with_length(&mut conn, &frame)?;
        }
        Ok(())
    });
    rx
}

fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let conn = TcpStream::connect(addr)?;
    conn.set_read_timeout(Some(Duration::from_secs(20)))?;
    Ok(conn)
}

/// Prints the server's next `n` log lines, waiting (bounded) for each.
fn show(out: &mut impl Write, log: &Receiver<String>, n: usize) -> anyhow::Result<()> {
    show_as(out, log, n, "[server]")
}

fn show_as(
    out: &mut impl Write,
    log: &Receiver<String>,
    n: usize,
    who: &str,
) -> anyhow::Result<()> {
    for _ in 0..n {
        let line = log
            .recv_timeout(Duration::from_secs(20))
            .context("the server's log went quiet")?;
        writeln!(out, "{who} {line}")?;
    }
    Ok(())
}
