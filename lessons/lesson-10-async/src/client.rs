//! The course's chat client, in tokio: what the server sends is printed, what is typed is sent,
//! and one `select!` waits for whichever comes first.

use std::io::{self, Write};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_util::codec::{FramedRead, FramedWrite};

use crate::{LineCodec, LineError};

/// The longest line the client accepts from a server: a message is a name, `: ` and a line of
/// up to MAX_LINE bytes, so a server line may be longer than a client's; this leaves room.
pub const CLIENT_MAX_LINE: usize = 64 * 1024;

// ANCHOR: client
/// Connects to `addr`, sends `name` first if given, then every line of `typed`; prints every
/// line from the server to `out`. At the end of `typed` (or `quit`) it half-closes and keeps
/// printing until the server closes.
pub async fn run(
    addr: &str,
    name: Option<&str>,
    typed: impl AsyncRead + Unpin,
    out: &mut impl Write,
) -> io::Result<()> {
    let (read, write) = TcpStream::connect(addr).await?.into_split();
    let mut from_server = FramedRead::new(read, LineCodec::with_max_length(CLIENT_MAX_LINE));
    let mut to_server = FramedWrite::new(write, LineCodec::new());
    if let Some(name) = name {
        to_server.send(name).await.map_err(into_io)?;
    }
    let mut typed = BufReader::new(typed).lines();
    let mut typing = true;
    loop {
        tokio::select! {
            line = from_server.next() => match line {
                Some(Ok(line)) => {
                    out.write_all(&line)?;
                    out.write_all(b"\n")?;
                    out.flush()?;
                }
                None => return Ok(()),
                Some(Err(LineError::Io(e))) if e.kind() == io::ErrorKind::ConnectionReset => {
                    eprintln!("the server reset the connection");
                    return Ok(());
                }
                Some(Err(e)) => return Err(into_io(e)),
            },
            line = typed.next_line(), if typing => match line? {
                Some(line) if line.trim() != "quit" => {
                    to_server.send(line.as_str()).await.map_err(into_io)?;
                }
                // The end of input, or `quit`: no more to say, but keep listening.
                _ => {
                    typing = false;
                    to_server.get_mut().shutdown().await?;
                }
            },
        }
    }
}
// ANCHOR_END: client

fn into_io(e: LineError) -> io::Error {
    match e {
        LineError::Io(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidData, other),
    }
}
