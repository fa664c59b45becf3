//! `lesson-08 demo`: first the one-at-a-time server, stalled by a client that says nothing;
//! then the threaded server, with a silent client, a chat, a client that stops reading, and
//! a graceful stop.
//!
//! Servers run on threads of this process and send their log lines through a channel. The
//! narrator waits for the lines it expects (from the clients or from the log), never for a
//! time, so the transcript reads the same on every run. The one check of an absence (bob has
//! received nothing) holds by construction: the one-at-a-time server is still inside its
//! read from alice, and cannot have written to bob.

use std::io::{self, BufRead, BufReader, ErrorKind, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;

use anyhow::{Context, bail};
use socket2::{Domain, Socket, Type};

use crate::{Config, Log, Stop, serve, serve_one_at_a_time};

/// How long the narrator waits for any line before it calls the demo broken.
const WAIT: Duration = Duration::from_secs(10);

/// Runs the demo, narrating to `out`.
pub fn run(out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "Lesson 8: a chat server, one client at a time, then a thread per client"
    )?;
    one_at_a_time(out)?;
    threaded(out)
}

fn one_at_a_time(out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "-- 1. the original's loop: accept, serve that client until it leaves, accept"
    )?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let (log, lines) = channel_log();
    thread::Builder::new().spawn(move || serve_one_at_a_time(&listener, &*log))?;
    let mut alice = Client::connect(addr, "alice")?;
    alice.show(out)?;
    writeln!(out, "[alice] (says nothing)")?;
    let mut bob = Client::connect(addr, "bob")?;
    bob.send(out, "bob")?;
    bob.send(out, "hello? anyone?")?;
    // The server is blocked reading alice's name: nobody else can be served.
    writeln!(
        out,
        "[bob] has received {} bytes: the server still waits for alice",
        bob.ready()?
    )?;
    writeln!(out, "[alice] leaves")?;
    drop(alice);
    bob.show(out)?;
    bob.show(out)?;
    writeln!(out, "[server log] {}", wait_log(&lines, "bob: ")?)?;
    Ok(())
}

fn threaded(out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "-- 2. a thread per client: a silent client stalls nobody"
    )?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let stop = Stop::new(&listener)?;
    let (log, lines) = channel_log();
    let config = Config {
        grace: Duration::from_secs(2),
        ..Config::default()
    };
    let (server_stop, server) = (stop.clone(), thread::Builder::new());
    let server = server.spawn(move || serve(&listener, &config, &server_stop, log))?;
    let mut alice = Client::connect(addr, "alice")?;
    alice.show(out)?;
    writeln!(out, "[alice] (says nothing)")?;
    let mut bob = Client::join(out, addr, "bob")?;
    let mut carol = Client::join(out, addr, "carol")?;
    bob.show(out)?;
    bob.send(out, "hi carol")?;
    carol.show(out)?;

    writeln!(out)?;
    writeln!(
        out,
        "-- 3. dave stops reading: his outbox fills, and the server disconnects him"
    )?;
    let dave = Client::join_small(out, addr, "dave")?;
    bob.show(out)?;
    carol.show(out)?;
    writeln!(out, "[dave] (reads nothing from now on)")?;
    writeln!(
        out,
        "[bob] sends 1000-byte lines, and carol reads each, until dave is gone"
    )?;
    let line = "x".repeat(1000);
    let mut sent = 0;
    let left = loop {
        if sent > 100_000 {
            bail!("dave was not disconnected after {sent} lines");
        }
        bob.conn
            .get_mut()
            .write_all(format!("{line}\n").as_bytes())?;
        sent += 1;
        let got = carol.line()?;
        if got.starts_with("* ") {
            break got;
        }
    };
    writeln!(out, "[carol] {left}")?;
    // Bob's last line came after the leave: carol reads it, in silence.
    if !carol.line()?.starts_with("bob: ") {
        bail!("carol: not bob's last line");
    }
    bob.show(out)?;
    writeln!(out, "[server log] {}", wait_log(&lines, "dave left")?)?;
    drop(dave);

    writeln!(out)?;
    writeln!(
        out,
        "-- 4. Ctrl-C: stop accepting, tell everyone, let the outboxes drain, exit"
    )?;
    bob.send(out, "last words")?;
    carol.show(out)?;
    stop.request();
    for client in [&mut alice, &mut bob, &mut carol] {
        client.show(out)?;
        client.show_close(out)?;
    }
    if server.join().is_err() {
        bail!("the server thread panicked");
    }
    writeln!(out, "[server] stopped")?;
    Ok(())
}

/// A log that sends each line into a channel, and the channel's receiving end.
fn channel_log() -> (Log, Receiver<String>) {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let log: Log = Arc::new(move |line: &str| {
        let _ = tx.lock().map(|tx| tx.send(line.to_string()));
    });
    (log, rx)
}

/// Waits for the log line that contains `needle`; the other lines are not this act's point.
fn wait_log(lines: &Receiver<String>, needle: &str) -> anyhow::Result<String> {
    loop {
        let line = lines
            .recv_timeout(WAIT)
            .with_context(|| format!("no log line {needle:?}"))?;
        if line.contains(needle) {
            return Ok(line);
        }
    }
}

/// A scripted client, whose every read waits at most `WAIT`.
struct Client {
    who: &'static str,
    conn: BufReader<TcpStream>,
}

impl Client {
    fn connect(addr: SocketAddr, who: &'static str) -> anyhow::Result<Client> {
        Client::wrap(TcpStream::connect(addr)?, who)
    }

    fn wrap(conn: TcpStream, who: &'static str) -> anyhow::Result<Client> {
        conn.set_read_timeout(Some(WAIT))?;
        Ok(Client {
            who,
            conn: BufReader::new(conn),
        })
    }

    fn join(out: &mut impl Write, addr: SocketAddr, who: &'static str) -> anyhow::Result<Client> {
        let mut client = Client::connect(addr, who)?;
        client.show(out)?;
        client.send(out, who)?;
        client.show(out)?;
        Ok(client)
    }

    /// Joins with a receive buffer shrunk to 4 KiB (set before connecting, so that the
    /// window the client offers is small from the start): a client whose buffers fill fast.
    fn join_small(
        out: &mut impl Write,
        addr: SocketAddr,
        who: &'static str,
    ) -> anyhow::Result<Client> {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        socket.set_recv_buffer_size(4096)?;
        socket.connect(&addr.into())?;
        let mut client = Client::wrap(socket.into(), who)?;
        client.show(out)?;
        client.send(out, who)?;
        client.show(out)?;
        Ok(client)
    }

    fn line(&mut self) -> anyhow::Result<String> {
        let mut line = String::new();
        if self.conn.read_line(&mut line)? == 0 {
            bail!("{}: the server closed the connection", self.who);
        }
        Ok(line.trim_end_matches('\n').to_string())
    }

    fn show(&mut self, out: &mut impl Write) -> anyhow::Result<()> {
        let line = self.line()?;
        writeln!(out, "[{}] {line}", self.who)?;
        Ok(())
    }

    fn show_close(&mut self, out: &mut impl Write) -> anyhow::Result<()> {
        let mut rest = String::new();
        match self.conn.read_line(&mut rest) {
            Ok(0) => writeln!(out, "[{}] (the server closed the connection)", self.who)?,
            Ok(_) => bail!("{}: another line: {rest:?}", self.who),
            Err(e) => bail!("{}: no end of stream: {e}", self.who),
        }
        Ok(())
    }

    fn send(&mut self, out: &mut impl Write, line: &str) -> anyhow::Result<()> {
        writeln!(out, "[{}] > {line}", self.who)?;
        self.conn
            .get_mut()
            .write_all(format!("{line}\n").as_bytes())?;
        Ok(())
    }

    /// How many bytes have arrived and wait to be read, without waiting for any.
    fn ready(&mut self) -> io::Result<usize> {
        let conn = self.conn.get_ref();
        conn.set_nonblocking(true)?;
        let mut buf = [0u8; 64];
        let ready = match conn.peek(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => 0,
            Err(e) => return Err(e),
        };
        conn.set_nonblocking(false)?;
        Ok(ready)
    }
}
