//! `lesson-04 demo`: the server in a thread, a client in `main`, both kinds of sticky packet.
//!
//! The transcript is the same on every run, by construction. The server runs with its trace on
//! and sends its log lines through a channel, so the narrator learns the size of every write
//! the server made. Before each of its reads, the client waits (peeking, never sleeping) until
//! every one of those bytes is in its receive buffer, and only then makes its ONE plain read of
//! 1024 bytes. So each read returns the same bytes on every run: no luck of timing involved.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;

use crate::{BUFFER_SIZE, Settings, describe, preview, read_once, serve_one, wait_until_buffered};

/// How long any step of the demo may wait for the server before it gives up.
const WAIT: Duration = Duration::from_secs(10);

/// Runs the demo, narrating to `out`.
pub fn run(out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(out, "Lesson 4: sticky packets")?;
    writeln!(out)?;
    writeln!(
        out,
        "Each reply is two writes: a status line, then the output. The client reads ONCE, at most {BUFFER_SIZE} bytes."
    )?;
    writeln!(
        out,
        "Before each read, the demo's client waits until every byte the server wrote is in its socket,"
    )?;
    writeln!(out, "so the reads end in the same places on every run.")?;
    writeln!(out)?;

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    writeln!(out, "[server] listening on {addr} (tracing its writes)")?;
    let log = spawn_server(listener);
    let mut client = Client {
        conn: connect(addr)?,
        reads: 0,
        buffered: 0,
    };
    show(out, &log)?;

    writeln!(out)?;
    writeln!(out, "1. A reply longer than one read")?;
    client.command(out, &log, "seq 1 1000")?;
    client.read(out)?;
    writeln!(
        out,
        "[client] {} bytes of this reply are still in the socket",
        client.buffered
    )?;
    let hi_len = client.command(out, &log, "echo hi")?;
    let reply = client.read(out)?;
    writeln!(
        out,
        "[client] that is not the reply to `echo hi`: it is more of seq's output (\"{}\" to \"{}\")",
        first_line(&reply),
        last_line(&reply)
    )?;
    writeln!(
        out,
        "[client] {} bytes still wait: the rest of seq's output, then the reply to `echo hi`;",
        client.buffered
    )?;
    writeln!(
        out,
        "[client] the next commands' reads would return those, instead of their own replies"
    )?;
    // Catch up, so that part 2 starts clean: read exactly what is waiting.
    let mut rest = vec![0u8; client.buffered];
    client.conn.read_exact(&mut rest)?;
    client.buffered = 0;
    let hi = &rest[rest.len() - hi_len..];
    writeln!(
        out,
        "[client] (the demo reads all {} of them now; they end with {}, the real reply to `echo hi`)",
        rest.len(),
        preview(hi)
    )?;

    writeln!(out)?;
    writeln!(out, "2. Two writes, one read")?;
    client.command(out, &log, "echo hello")?;
    client.read(out)?;
    writeln!(
        out,
        "[client] two writes, one read: nothing in the bytes says where the first write ended"
    )?;
    writeln!(
        out,
        "[client] (a read made between their arrivals would have returned the status line alone)"
    )?;

    writeln!(out)?;
    writeln!(out, "[client] close")?;
    drop(client);
    show(out, &log)?;
    Ok(())
}

/// The demo's client: a connection, how many reads it made, and how many bytes the server has
/// written that the client has not read yet.
struct Client {
    conn: TcpStream,
    reads: usize,
    buffered: usize,
}

impl Client {
    /// Sends `command` and shows the server's log about it (`running`, then its two writes);
    /// returns how many bytes the server wrote in reply.
    fn command(
        &mut self,
        out: &mut impl Write,
        log: &Receiver<String>,
        command: &str,
    ) -> anyhow::Result<usize> {
        writeln!(out, "[client] $ {command}")?;
        self.conn.write_all(command.as_bytes())?;
        show(out, log)?; // running "…"
        let mut reply_len = 0;
        for _ in 0..2 {
            let line = show(out, log)?;
            reply_len += written(&line)
                .ok_or_else(|| anyhow::anyhow!("expected a write in the server's trace: {line}"))?;
        }
        self.buffered += reply_len;
        Ok(reply_len)
    }

    /// Waits until everything the server wrote is buffered, then makes ONE read, as the
    /// lesson's client does.
    fn read(&mut self, out: &mut impl Write) -> anyhow::Result<Vec<u8>> {
        writeln!(
            out,
            "[client] ({} bytes are waiting in the socket; now ONE read of up to {BUFFER_SIZE})",
            self.buffered
        )?;
        wait_until_buffered(&self.conn, self.buffered, WAIT)?;
        let reply = read_once(&mut self.conn)?;
        self.reads += 1;
        self.buffered -= reply.len();
        writeln!(out, "[client] read #{}: {}", self.reads, describe(&reply))?;
        Ok(reply)
    }
}

/// Serves one client in a thread, with its trace on; its log lines arrive on the channel.
fn spawn_server(listener: TcpListener) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let settings = Settings {
            trace: true,
            ..Settings::default()
        };
        serve_one(&listener, &settings, &mut |line| {
            let _ = tx.send(line);
        });
    });
    rx
}

fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let conn = TcpStream::connect(addr)?;
    conn.set_read_timeout(Some(WAIT))?;
    Ok(conn)
}

/// Prints the server's next log line (waiting for it, bounded) and returns it.
fn show(out: &mut impl Write, log: &Receiver<String>) -> anyhow::Result<String> {
    let line = log.recv_timeout(WAIT)?;
    writeln!(out, "[server] {line}")?;
    Ok(line)
}

/// The size in a trace line `write #N: SIZE bytes …`.
fn written(line: &str) -> Option<usize> {
    let (_, rest) = line.strip_prefix("write #")?.split_once(": ")?;
    rest.split_once(' ')?.0.parse().ok()
}

fn first_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .next()
        .unwrap_or("")
        .to_string()
}

fn last_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .last()
        .unwrap_or("")
        .to_string()
}
