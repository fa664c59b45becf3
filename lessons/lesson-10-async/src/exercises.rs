//! Chapter 10's exercises. Check one with `cargo course check 10.1` (or 10.2), or run
//! `cargo course watch`, which checks the next unsolved exercise every time you save.
//!
//! Each function below compiles, but does not yet do what its exercise asks: the checks fail
//! until you change it. The chapter states each task; `cargo course hint 10.1` gives a hint.

// The starters do not use every parameter yet: your code will.
#![allow(unused_variables)]

use std::time::Duration;

use bytes::BytesMut;
use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

pub use crate::{LineError, Message, NOT_UTF8, SHUTTING_DOWN};

/// How [`relay`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The client's stream of lines ended.
    Closed,
    /// The client sent a line over the codec's limit.
    TooLong,
    /// The client fell so far behind that the channel dropped messages meant for it.
    TooSlow,
    /// The token was cancelled: the server is stopping.
    Shutdown,
    /// A read or a write failed.
    Failed,
}

/// How [`farewell`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Farewell {
    /// Everything was written, and the write side shut down.
    Said,
    /// The grace ran out first.
    GraceRanOut,
}

// ANCHOR: relay
/// Exercise 10.1: one task, two sources.
///
/// Serve one named client (`me`, called `name`) until something ends it, and return what did.
/// Two things can happen, in any order, and neither may wait for the other:
/// - a line comes from `lines` (the client): an empty one is skipped; one that is UTF-8 goes
///   to the room as the message `name: line\n` (sent through `room`, `from: me`); one that is
///   not gets [`NOT_UTF8`] written to `out`. The end of `lines` is [`End::Closed`],
///   [`LineError::TooLong`] is [`End::TooLong`], any other error is [`End::Failed`].
/// - a message comes from `inbox`: unless it is `from: me`, write its line to `out` (a failed
///   write is [`End::Failed`]). If the channel says this receiver has lagged, [`End::TooSlow`].
///
/// And when `stop` is cancelled, return [`End::Shutdown`], however busy or silent the client.
pub async fn relay(
    lines: &mut (impl Stream<Item = Result<BytesMut, LineError>> + Unpin),
    out: &mut (impl AsyncWrite + Unpin),
    me: u64,
    name: &str,
    room: &broadcast::Sender<Message>,
    inbox: &mut broadcast::Receiver<Message>,
    stop: &CancellationToken,
) -> End {
    // TODO: written like a blocking thread, this waits for the client's next line before it
    // looks at the inbox, or at `stop`. A client that says nothing hears nothing.
    loop {
        match lines.next().await {
            None => return End::Closed,
            Some(Ok(line)) => {
                let text = String::from_utf8_lossy(&line);
                let _ = room.send(Message {
                    from: me,
                    line: format!("{name}: {text}\n").into(),
                });
            }
            Some(Err(_)) => return End::Failed,
        }
        while let Ok(message) = inbox.try_recv() {
            let _ = out.write_all(&message.line).await;
        }
    }
}
// ANCHOR_END: relay

// ANCHOR: farewell
/// Exercise 10.2: the last words, within the grace.
///
/// The server is stopping. Write to `out` every message already waiting in `inbox` (not those
/// `from: me`; if the receiver has lagged, skip what was lost and go on with the rest), then
/// [`SHUTTING_DOWN`], then shut down the write side, so that the client sees the end of the
/// stream. All of it within `grace`: a client that does not read must not hold the server
/// longer. Return [`Farewell::Said`] if it all went out (or the client had gone: nothing more
/// to do), [`Farewell::GraceRanOut`] if the grace ran out first.
pub async fn farewell(
    out: &mut (impl AsyncWrite + Unpin),
    me: u64,
    inbox: &mut broadcast::Receiver<Message>,
    grace: Duration,
) -> Farewell {
    // TODO: what was queued for this client is lost, the stream never ends, and a client
    // that does not read could make this wait forever.
    let _ = out.write_all(SHUTTING_DOWN.as_bytes()).await;
    Farewell::Said
}
// ANCHOR_END: farewell
