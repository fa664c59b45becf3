//! `lesson-10 demo`: the server and four scripted clients, all tasks of one runtime on one
//! thread.
//!
//! The server's log lines come to the narrator through a channel, and the narrator prints one
//! only when a client's own reading guarantees it has been logged, so the transcript reads the
//! same on every run. Ports are the only thing that change; they sit where `[..]` matches them.

use std::io::Write;
use std::time::Duration;

use anyhow::{Context, bail};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::time::timeout;
use tokio_util::codec::FramedRead;

use crate::client::CLIENT_MAX_LINE;
use crate::{Config, LineCodec, MAX_LINE, Server, Stopped, serve};

/// How long the narrator waits for anything before it calls the demo broken.
const WAIT: Duration = Duration::from_secs(10);
/// The name deadline in the demo: short, so that the silent client's turn is quick.
const NAME_TIMEOUT: Duration = Duration::from_millis(300);

/// Runs the demo, narrating to `out`.
pub fn run(out: &mut impl Write) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(narrate(out))
}

/// One scripted client: its name for the narration, its lines, its sending half.
struct Client {
    who: &'static str,
    lines: FramedRead<tokio::net::tcp::OwnedReadHalf, LineCodec>,
    out: OwnedWriteHalf,
}

impl Client {
    async fn connect(who: &'static str, addr: std::net::SocketAddr) -> anyhow::Result<Client> {
        let (read, out) = TcpStream::connect(addr).await?.into_split();
        let lines = FramedRead::new(read, LineCodec::with_max_length(CLIENT_MAX_LINE));
        Ok(Client { who, lines, out })
    }

    /// Sends `bytes`, narrated as `shown`.
    async fn send(&mut self, o: &mut impl Write, shown: &str, bytes: &[u8]) -> anyhow::Result<()> {
        writeln!(o, "[{}] > {shown}", self.who)?;
        Ok(self.out.write_all(bytes).await?)
    }

    /// Reads the next line and prints it.
    async fn show(&mut self, o: &mut impl Write) -> anyhow::Result<String> {
        let line = timeout(WAIT, self.lines.next())
            .await
            .with_context(|| format!("{} got no line", self.who))?
            .with_context(|| format!("{} was disconnected", self.who))??;
        let line = String::from_utf8_lossy(&line).into_owned();
        writeln!(o, "[{}] {line}", self.who)?;
        Ok(line)
    }

    /// Waits for the server to close this connection.
    async fn closed(&mut self, o: &mut impl Write) -> anyhow::Result<()> {
        match timeout(WAIT, self.lines.next()).await? {
            None => Ok(writeln!(o, "[{}] (connection closed)", self.who)?),
            Some(line) => bail!("{} got {line:?}, not the end", self.who),
        }
    }
}

async fn narrate(o: &mut impl Write) -> anyhow::Result<()> {
    writeln!(
        o,
        "Lesson 10: the chat with tokio: a task per client, one broadcast channel"
    )?;
    writeln!(o)?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    writeln!(o, "[server] listening on {addr}")?;
    let (log_tx, mut log) = mpsc::unbounded_channel();
    let config = Config {
        name_timeout: NAME_TIMEOUT,
        ..Config::default()
    };
    let server = Server::new(
        config,
        std::sync::Arc::new(move |line| drop(log_tx.send(line))),
    );
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let serving = tokio::spawn(serve(listener, server, async move {
        let _ = stop_rx.await;
    }));
    let mut server_log = async |o: &mut dyn Write| -> anyhow::Result<()> {
        let line = timeout(WAIT, log.recv())
            .await?
            .context("the server stopped")?;
        Ok(writeln!(o, "[server] {line}")?)
    };

    writeln!(o, "-- alice and bob connect: each is a task in the server")?;
    let mut alice = Client::connect("alice", addr).await?;
    alice.show(o).await?;
    alice.send(o, "alice", b"alice\n").await?;
    alice.show(o).await?;
    server_log(o).await?;
    let mut bob = Client::connect("bob", addr).await?;
    bob.show(o).await?;
    bob.send(o, "bob", b"bob\n").await?;
    bob.show(o).await?;
    server_log(o).await?;
    alice.show(o).await?;

    writeln!(
        o,
        "-- one message goes into the broadcast channel once; bob's task takes it out"
    )?;
    alice.send(o, "hi bob", b"hi bob\n").await?;
    bob.show(o).await?;
    writeln!(
        o,
        "-- the codec drops the ␍ before a ␊, and the server refuses bytes that are not UTF-8"
    )?;
    bob.send(o, "hi alice␍", b"hi alice\r\n").await?;
    alice.show(o).await?;
    bob.send(o, "(the bytes FF FE)", b"\xff\xfe\n").await?;
    bob.show(o).await?;

    writeln!(o)?;
    writeln!(
        o,
        "-- carol says nothing: her name deadline is a tokio::time::timeout ({NAME_TIMEOUT:?} here)"
    )?;
    let mut carol = Client::connect("carol", addr).await?;
    carol.show(o).await?;
    carol.show(o).await?;
    carol.closed(o).await?;
    server_log(o).await?;

    writeln!(
        o,
        "-- dave sends {} bytes and no newline: the codec stops him at once",
        MAX_LINE + 1
    )?;
    let mut dave = Client::connect("dave", addr).await?;
    dave.show(o).await?;
    dave.send(o, &format!("{} x", MAX_LINE + 1), &[b'x'; MAX_LINE + 1])
        .await?;
    dave.show(o).await?;
    dave.closed(o).await?;
    server_log(o).await?;

    writeln!(o)?;
    writeln!(
        o,
        "-- Ctrl-C: the server cancels its token; every task sends its last line and closes"
    )?;
    let _ = stop_tx.send(());
    for client in [&mut alice, &mut bob] {
        client.show(o).await?;
        client.closed(o).await?;
    }
    match timeout(WAIT, serving).await?? {
        Stopped::Clean => writeln!(o, "[server] every task ended within the grace: stopped")?,
        Stopped::GraceRanOut(n) => bail!("{n} connections were still open after the grace"),
    }
    Ok(())
}
