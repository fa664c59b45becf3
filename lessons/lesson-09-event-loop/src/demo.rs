//! `lesson-09 demo`: a spinning wait against a poll, then the chat server on a thread of its
//! own with scripted clients, then edge triggering's trap.
//!
//! The narrator waits for the lines it expects (every read bounded), never for time; the only
//! sleep is the slow peer of the first act, which is what is being waited for. The CPU figures
//! change from run to run: they sit at the end of their lines.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::spin::{measure, wait_by_polling, wait_by_spinning};
use crate::{Config, Engine, StopSender, stop_signal};

/// How long the narrator waits for any line before it calls the demo broken.
const WAIT: Duration = Duration::from_secs(10);

/// Runs the demo, narrating to `out`.
pub fn run(out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(out, "Lesson 9: an event loop")?;
    writeln!(out)?;
    writeln!(out, "-- waiting 300 ms for a line, two ways")?;
    let spin = measure(Duration::from_millis(300), wait_by_spinning)?;
    let polled = measure(Duration::from_millis(300), wait_by_polling)?;
    writeln!(
        out,
        "spinning on WouldBlock: {} reads; CPU {:.0}% of a core",
        spin.reads,
        spin.cpu_share() * 100.0
    )?;
    writeln!(
        out,
        "poll, then one read:    {} read; CPU {:.0}% of a core",
        polled.reads,
        polled.cpu_share() * 100.0
    )?;
    writeln!(out)?;

    writeln!(out, "-- the chat server, on one thread with poll")?;
    let (addr, stop, server) = start(Config::default())?;
    let mut alice = Client::join(addr, "alice", out)?;
    let mut bob = Client::join(addr, "bob", out)?;
    alice.expect("* bob joined", out)?;
    alice.send_raw(b"hel", out)?;
    alice.send_raw(b"lo bob\n", out)?;
    bob.expect("alice: hello bob", out)?;
    writeln!(
        out,
        "(the server kept \"hel\" in alice's partial line until the rest came)"
    )?;
    bob.send_raw(b"bye\n", out)?;
    alice.expect("bob: bye", out)?;
    drop(bob);
    alice.expect("* bob left", out)?;
    stop.stop();
    alice.expect("* server shutting down", out)?;
    alice.expect_closed(out)?;
    server
        .join()
        .map_err(|_| anyhow::anyhow!("the server thread panicked"))??;
    writeln!(out, "server: stopped")?;
    writeln!(out)?;

    for once in [true, false] {
        let how = if once {
            "ONCE per event (wrong)"
        } else {
            "until WouldBlock (right)"
        };
        writeln!(
            out,
            "-- epoll, edge-triggered, 16-byte reads, reading {how}"
        )?;
        let config = Config {
            engine: Engine::Polling,
            read_size: 16,
            read_once_per_event: once,
            ..Config::default()
        };
        let (addr, stop, server) = start(config)?;
        let mut alice = Client::join(addr, "alice", out)?;
        let mut bob = Client::join(addr, "bob", out)?;
        alice.expect("* bob joined", out)?;
        alice.send_raw(b"first line here\nsecond line\n", out)?;
        bob.expect("alice: first line here", out)?;
        if once {
            writeln!(
                out,
                "(\"second line\" waits in the kernel: no new edge, no event, no read)"
            )?;
            alice.send_raw(b"third\n", out)?;
        }
        bob.expect("alice: second line", out)?;
        stop.stop();
        drop((alice, bob));
        server
            .join()
            .map_err(|_| anyhow::anyhow!("the server thread panicked"))??;
        if once {
            writeln!(out)?;
        }
    }
    Ok(())
}

type ServerThread = thread::JoinHandle<std::io::Result<()>>;

fn start(config: Config) -> anyhow::Result<(SocketAddr, StopSender, ServerThread)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let (watch, stop) = stop_signal()?;
    let server = thread::Builder::new()
        .name("server".into())
        .spawn(move || crate::serve(listener, &config, watch, &mut |_| {}))
        .context("cannot start the server thread")?;
    Ok((addr, stop, server))
}

/// A scripted client that prints what it sends and receives.
struct Client {
    name: &'static str,
    reader: BufReader<TcpStream>,
}

impl Client {
    fn join(addr: SocketAddr, name: &'static str, out: &mut impl Write) -> anyhow::Result<Client> {
        let conn = TcpStream::connect(addr)?;
        conn.set_read_timeout(Some(WAIT))?;
        let mut client = Client {
            name,
            reader: BufReader::new(conn),
        };
        client.expect("* welcome; send your name", out)?;
        client.send_raw(format!("{name}\n").as_bytes(), out)?;
        let hello = client.line()?;
        writeln!(out, "{name:>5} < {hello}")?;
        Ok(client)
    }

    fn send_raw(&mut self, bytes: &[u8], out: &mut impl Write) -> anyhow::Result<()> {
        let shown = String::from_utf8_lossy(bytes).replace('\n', "␊");
        writeln!(out, "{:>5} > {shown}", self.name)?;
        self.reader.get_mut().write_all(bytes)?;
        Ok(())
    }

    fn line(&mut self) -> anyhow::Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            bail!("{}: the server closed the connection", self.name);
        }
        Ok(line.trim_end_matches('\n').to_string())
    }

    fn expect(&mut self, expected: &str, out: &mut impl Write) -> anyhow::Result<()> {
        let line = self.line()?;
        if line != expected {
            bail!("{}: expected {expected:?}, got {line:?}", self.name);
        }
        writeln!(out, "{:>5} < {line}", self.name)?;
        Ok(())
    }

    fn expect_closed(&mut self, out: &mut impl Write) -> anyhow::Result<()> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? != 0 {
            bail!("{}: expected the end, got {line:?}", self.name);
        }
        writeln!(out, "{:>5} : the server closed the connection", self.name)?;
        Ok(())
    }
}
