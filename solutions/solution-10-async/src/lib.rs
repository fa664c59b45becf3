//! Worked solutions to chapter 10's exercises. Each says why it is written the way it is.

use std::time::Duration;

use bytes::BytesMut;
use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

pub use lesson_10::exercises::{End, Farewell};
pub use lesson_10::{LineError, Message, NOT_UTF8, SHUTTING_DOWN};

// ANCHOR: relay
/// Exercise 10.1: one task, two sources.
pub async fn relay(
    lines: &mut (impl Stream<Item = Result<BytesMut, LineError>> + Unpin),
    out: &mut (impl AsyncWrite + Unpin),
    me: u64,
    name: &str,
    room: &broadcast::Sender<Message>,
    inbox: &mut broadcast::Receiver<Message>,
    stop: &CancellationToken,
) -> End {
    loop {
        // Why `select!`: it polls all three futures, and the first to finish wins; the
        // others are dropped, which is safe here because none of them has taken anything yet
        // (a line half read stays in the codec's buffer; a message not yet received stays in
        // the channel). That is what makes these three "cancel-safe".
        tokio::select! {
            // Why `biased` and the token first: with a random order, a client that sends
            // without pause could win the draw many times in a row and delay the shutdown.
            biased;
            () = stop.cancelled() => return End::Shutdown,
            message = inbox.recv() => match message {
                // Why skip our own: the protocol has no echo, and the channel gives every
                // receiver every message, the sender's included.
                Ok(message) if message.from == me => {}
                Ok(message) => {
                    // Why this write may wait: while it does, this task reads nothing, and
                    // the channel keeps the messages that come meanwhile; the other tasks go on.
                    if out.write_all(&message.line).await.is_err() {
                        return End::Failed;
                    }
                }
                // Why give up: the channel has overwritten messages this client never got.
                // Going on would show it a conversation with holes in it.
                Err(RecvError::Lagged(_)) => return End::TooSlow,
                // Why Shutdown: no sender is left, so nothing will ever come again.
                Err(RecvError::Closed) => return End::Shutdown,
            },
            line = lines.next() => match line {
                None => return End::Closed,
                Some(Err(LineError::TooLong)) => return End::TooLong,
                Some(Err(_)) => return End::Failed,
                Some(Ok(line)) if line.is_empty() => {}
                Some(Ok(line)) => match std::str::from_utf8(&line) {
                    Ok(text) => {
                        // Why ignore the error: `send` fails only when no receiver exists,
                        // that is, when nobody is there to hear.
                        let _ = room.send(Message {
                            from: me,
                            line: format!("{name}: {text}\n").into(),
                        });
                    }
                    Err(_) => {
                        if out.write_all(NOT_UTF8.as_bytes()).await.is_err() {
                            return End::Failed;
                        }
                    }
                },
            },
        }
    }
}
// ANCHOR_END: relay

// ANCHOR: farewell
/// Exercise 10.2: the last words, within the grace.
pub async fn farewell(
    out: &mut (impl AsyncWrite + Unpin),
    me: u64,
    inbox: &mut broadcast::Receiver<Message>,
    grace: Duration,
) -> Farewell {
    // Why one `async` block under one `timeout`: the grace bounds the whole goodbye, not
    // each write; a client that reads one byte a second would otherwise stretch it forever.
    let goodbye = async {
        loop {
            match inbox.try_recv() {
                Ok(message) if message.from == me => {}
                Ok(message) => out.write_all(&message.line).await?,
                // Why go on: `Lagged` says how many were lost, and the receiver now points
                // at the oldest message still kept: the rest can still be sent.
                Err(TryRecvError::Lagged(_)) => {}
                // Why `try_recv` and stop at Empty: `recv` would wait for messages that
                // nobody will send while the server stops.
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        out.write_all(SHUTTING_DOWN.as_bytes()).await?;
        // Why shut down: the client learns that nothing more will come (a FIN) now, not
        // when the socket is dropped later.
        out.shutdown().await
    };
    match timeout(grace, goodbye).await {
        // Why Said on an error too: a client that has gone needs no more words.
        Ok(_) => Farewell::Said,
        // Why this is enough to stop: dropping `goodbye` drops the write that waited.
        Err(_elapsed) => Farewell::GraceRanOut,
    }
}
// ANCHOR_END: farewell
