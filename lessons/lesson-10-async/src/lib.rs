//! Lesson 10: Part II's chat server with tokio.
//!
//! Each client is a task: a small state machine that the runtime polls when its socket is ready,
//! written as straight-line code. The lines come through [`LineCodec`], chapter 4's newline
//! framing as a tokio-util `Decoder`; every message goes once into a broadcast channel, and each
//! named client's task takes it from there; shutdown is a `CancellationToken` that every task
//! watches, with a `TaskTracker` to wait for them, bounded by `--grace`.
//!
//! The protocol is the one of `book/src/part2-chat.md`; its exact bytes are the constants below.

use std::collections::HashSet;
use std::fmt;
use std::io;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{Notify, broadcast};
use tokio::time::{Instant, timeout, timeout_at};
use tokio_util::codec::{Decoder, Encoder, FramedRead};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub mod client;
pub mod demo;
pub mod exercises;

/// Where the server listens and the client connects unless told otherwise.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

// ANCHOR: limits
/// The longest line, in bytes, not counting its `\r\n` (the protocol's rule 5).
pub const MAX_LINE: usize = 1024;
/// The most messages that may wait for one client (rule 8).
pub const OUTBOX_LIMIT: usize = 1000;
/// Joins and leaves are announced only while the room has at most this many named clients.
pub const ANNOUNCE_LIMIT: usize = 100;
/// The longest name, in characters.
pub const MAX_NAME: usize = 32;
/// The read buffer each connection starts with. FramedRead's default is 8 KiB, which for
/// 10,000 idle clients would be 80 MiB of buffers that hold nothing.
pub const READ_BUFFER: usize = 128;
/// The kernel's send buffer for each client (Linux doubles it, and counts its bookkeeping in
/// it). Left alone, Linux lets it grow to 4 MiB (`tcp_wmem`): 40 GiB of kernel memory for
/// 10,000 clients that stop reading, and 4,000 messages hidden in the kernel before rule 8 could
/// see the client fall behind.
pub const SEND_BUFFER: usize = 32 * 1024;
// ANCHOR_END: limits

/// `--max-clients` unless set, and the range it takes.
pub const DEFAULT_MAX_CLIENTS: usize = 1000;
pub const MAX_CLIENTS: RangeInclusive<u64> = 1..=100_000;
/// `--name-timeout` and `--grace` unless set.
pub const DEFAULT_NAME_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);
/// `--threads`: how many worker threads the runtime has; 1 runs everything on the main thread.
pub const THREADS: RangeInclusive<u64> = 1..=64;

// The server's own lines (rule numbers of part2-chat.md).
pub const WELCOME: &str = "* welcome; send your name\n";
pub const BAD_NAME: &str = "* bad name: use 1 to 32 letters, digits, '_', '-' or '.'\n";
pub const NO_NAME_IN_TIME: &str = "* no name in time; bye\n";
pub const NOT_UTF8: &str = "* not UTF-8; line dropped\n";
pub const TOO_LONG: &str = "* line too long (over 1024 bytes); bye\n";
pub const SHUTTING_DOWN: &str = "* server shutting down\n";

/// How the server is set up: the values of its flags.
#[derive(Debug, Clone)]
pub struct Config {
    pub max_clients: usize,
    pub name_timeout: Duration,
    pub grace: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_clients: DEFAULT_MAX_CLIENTS,
            name_timeout: DEFAULT_NAME_TIMEOUT,
            grace: DEFAULT_GRACE,
        }
    }
}

// ANCHOR: codec_type
/// Chapter 4's framing as a codec: a line ends at `\n`, a `\r` just before it is dropped, and a
/// line may have at most `max_length` bytes. `FramedRead` calls `decode` whenever bytes have
/// come, with everything buffered so far; `decode` takes a whole line off the front, or says
/// "not yet" with `Ok(None)`, and FramedRead reads more.
#[derive(Debug)]
pub struct LineCodec {
    max_length: usize,
    /// How far the buffer has already been searched for `\n`: a line that comes in many
    /// pieces is searched once, not once per piece.
    searched: usize,
}

/// Why a line could not be read.
#[derive(Debug)]
pub enum LineError {
    /// More than the codec's `max_length` bytes came without a newline.
    TooLong,
    /// The stream ended in the middle of a line, after this many bytes of it.
    CutOff(usize),
    /// The socket failed (a reset, for one).
    Io(io::Error),
}
// ANCHOR_END: codec_type

impl LineCodec {
    /// A codec for the server's side: lines of at most [`MAX_LINE`] bytes.
    pub fn new() -> LineCodec {
        LineCodec::with_max_length(MAX_LINE)
    }

    pub fn with_max_length(max_length: usize) -> LineCodec {
        LineCodec {
            max_length,
            searched: 0,
        }
    }
}

impl Default for LineCodec {
    fn default() -> LineCodec {
        LineCodec::new()
    }
}

// ANCHOR: decode
impl Decoder for LineCodec {
    type Item = BytesMut;
    type Error = LineError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<BytesMut>, LineError> {
        // Search only the bytes that came since the last call.
        let fresh = buf[self.searched..].iter().position(|&b| b == b'\n');
        let Some(at) = fresh.map(|i| self.searched + i) else {
            self.searched = buf.len();
            // No newline yet. One byte more than the limit is already too long, unless it is
            // the `\r` of a `\r\n`: then the next byte decides.
            let over = buf.len().saturating_sub(self.max_length);
            if over > 1 || (over == 1 && buf[self.max_length] != b'\r') {
                return Err(LineError::TooLong);
            }
            return Ok(None); // not enough yet: not an error, FramedRead reads more
        };
        self.searched = 0;
        let mut line = buf.split_to(at + 1); // the line and its `\n`, off the buffer
        line.truncate(at);
        if line.last() == Some(&b'\r') {
            line.truncate(at - 1);
        }
        if line.len() > self.max_length {
            return Err(LineError::TooLong); // a long line that came whole, in one read
        }
        Ok(Some(line))
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<BytesMut>, LineError> {
        match self.decode(buf)? {
            Some(line) => Ok(Some(line)),
            None if buf.is_empty() => Ok(None), // the end, between lines
            None => Err(LineError::CutOff(buf.len())),
        }
    }
}
// ANCHOR_END: decode

// ANCHOR: encode
impl Encoder<&str> for LineCodec {
    type Error = LineError;

    fn encode(&mut self, line: &str, dst: &mut BytesMut) -> Result<(), LineError> {
        dst.reserve(line.len() + 1);
        dst.put_slice(line.as_bytes());
        dst.put_u8(b'\n');
        Ok(())
    }
}
// ANCHOR_END: encode

impl From<io::Error> for LineError {
    fn from(e: io::Error) -> LineError {
        LineError::Io(e)
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::TooLong => write!(f, "a line over {MAX_LINE} bytes"),
            LineError::CutOff(n) => write!(f, "the stream ended {n} bytes into a line"),
            LineError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LineError {}

/// Whether `name` is a valid name: 1 to 32 ASCII letters, digits, `_`, `-` or `.`.
pub fn valid_name(name: &str) -> bool {
    (1..=MAX_NAME).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

// ANCHOR: room
/// One line for the named clients: its bytes, shared by every receiver (a `Bytes` clone is a
/// reference count, not a copy), and who sent it, who must not get it back.
#[derive(Debug, Clone)]
pub struct Message {
    pub from: u64,
    pub line: Bytes,
}

/// What all tasks share: the names in use, the channel every message goes through, and the
/// number of connections (for the cap).
#[derive(Debug)]
pub struct Room {
    names: Mutex<HashSet<String>>,
    messages: broadcast::Sender<Message>,
    /// Woken at every message, for a task whose client's socket is full (see `deliver`).
    sent: Notify,
    connections: AtomicUsize,
    max_clients: usize,
}
// ANCHOR_END: room

impl Room {
    pub fn new(max_clients: usize) -> Room {
        // The channel keeps the last OUTBOX_LIMIT messages (tokio rounds it up to a power of
        // two); a receiver that falls further behind gets `Lagged`.
        let (messages, _) = broadcast::channel(OUTBOX_LIMIT);
        Room {
            names: Mutex::new(HashSet::new()),
            messages,
            sent: Notify::new(),
            connections: AtomicUsize::new(0),
            max_clients,
        }
    }

    fn names(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        // A panic while the lock was held left the set whole: use it.
        self.names.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ANCHOR: send
    /// Sends `line` to every named client except `from`. Never waits: the channel keeps the
    /// message, and each receiver takes it when its task runs.
    pub fn send(&self, from: u64, line: impl Into<Bytes>) {
        // An error only means nobody is listening.
        let _ = self.messages.send(Message {
            from,
            line: line.into(),
        });
        self.sent.notify_waiters();
    }
    // ANCHOR_END: send

    // ANCHOR: join
    /// Takes `name` for client `id`, or returns `None` if it is in use. On success: how many
    /// others are here, and the receiver through which this client gets every message sent
    /// from now on.
    pub fn join(&self, id: u64, name: &str) -> Option<(usize, broadcast::Receiver<Message>)> {
        let mut names = self.names();
        if !names.insert(name.to_string()) {
            return None;
        }
        // Subscribe under the lock, so that no message sent after the join can be missed.
        let receiver = self.messages.subscribe();
        if names.len() <= ANNOUNCE_LIMIT {
            self.send(id, format!("* {name} joined\n"));
        }
        Some((names.len() - 1, receiver))
    }

    /// Gives `name` back, announcing the leave (while the room is small) if `announce`.
    pub fn leave(&self, id: u64, name: &str, announce: bool) {
        let mut names = self.names();
        let before = names.len();
        names.remove(name);
        if announce && before <= ANNOUNCE_LIMIT {
            self.send(id, format!("* {name} left\n"));
        }
    }
    // ANCHOR_END: join

    /// How many clients have a name.
    pub fn named(&self) -> usize {
        self.names().len()
    }
}

/// Holds one place under the cap; gives it back when dropped, however the task ends.
struct Place(Arc<Room>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What the server prints while it runs: one diagnostic line each (stderr in the binary; the
/// demo and tests collect them).
pub type Log = Arc<dyn Fn(String) + Send + Sync>;

/// A log that writes to stderr.
pub fn stderr_log() -> Log {
    Arc::new(|line| eprintln!("{line}"))
}

/// The server's shared state and the means to stop it, handed to every task.
#[derive(Clone)]
pub struct Server {
    pub room: Arc<Room>,
    pub config: Config,
    pub token: CancellationToken,
    pub tracker: TaskTracker,
    pub log: Log,
}

impl Server {
    pub fn new(config: Config, log: Log) -> Server {
        Server {
            room: Arc::new(Room::new(config.max_clients)),
            config,
            token: CancellationToken::new(),
            tracker: TaskTracker::new(),
            log,
        }
    }
}

// ANCHOR: serve
/// Serves the chat on `listener` until `shutdown` completes (Ctrl-C in the binary), then stops
/// as rule 9 says and returns how it went.
pub async fn serve(
    listener: TcpListener,
    server: Server,
    shutdown: impl Future<Output = ()>,
) -> Stopped {
    let accepting = tokio::spawn(accept_loop(listener, server.clone()));
    shutdown.await;
    let stopped = stop(&server.token, &server.tracker, server.config.grace).await;
    // The accept loop ended when the token was cancelled; the listener closes with it.
    let _ = accepting.await;
    stopped
}
// ANCHOR_END: serve

// ANCHOR: stop
/// How a shutdown went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Every connection had its queue and its last line sent, and closed.
    Clean,
    /// The grace ran out with this many connections still open.
    GraceRanOut(usize),
}

/// Tells every task to finish, then waits for them, at most `grace`.
pub async fn stop(token: &CancellationToken, tracker: &TaskTracker, grace: Duration) -> Stopped {
    token.cancel(); // every `token.cancelled()` in every task completes now
    tracker.close(); // `wait` may finish once the tracker is empty
    match timeout(grace, tracker.wait()).await {
        Ok(()) => Stopped::Clean,
        // The tasks still running are dropped with the runtime, and their sockets closed.
        Err(_) => Stopped::GraceRanOut(tracker.len()),
    }
}
// ANCHOR_END: stop

// ANCHOR: accept_loop
/// Accepts until the server's token is cancelled: a task per client, under the cap.
pub async fn accept_loop(listener: TcpListener, server: Server) {
    let next_id = AtomicU64::new(1);
    loop {
        let (conn, peer) = tokio::select! {
            () = server.token.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, say: wait a little rather than spin.
                    (server.log)(format!("accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let room = &server.room;
        if room.connections.fetch_add(1, Ordering::Relaxed) >= room.max_clients {
            room.connections.fetch_sub(1, Ordering::Relaxed);
            refuse(conn, room.max_clients);
            (server.log)(format!("{peer} refused: the server is full"));
            continue;
        }
        let place = Place(room.clone());
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let server2 = server.clone();
        server.tracker.spawn(async move {
            let _place = place;
            connection(conn, id, server2).await;
        });
    }
}
// ANCHOR_END: accept_loop

/// Tells a client over the cap so and closes. A try: a new socket's buffer has room for one
/// short line, and the accept loop must not wait on any one client.
fn refuse(conn: TcpStream, max_clients: usize) {
    let _ =
        conn.try_write(format!("* server full ({max_clients} clients); try later\n").as_bytes());
}

/// One client's socket: lines in through the codec, bytes out unbuffered.
pub struct Conn {
    pub lines: FramedRead<OwnedReadHalf, LineCodec>,
    pub out: OwnedWriteHalf,
}

/// How a named client's session ended.
#[derive(Debug)]
enum Ending {
    /// End of stream from the client, between lines.
    Closed,
    /// Rule 5.
    TooLong,
    /// Rule 8.
    TooSlow,
    /// The server is stopping.
    Shutdown,
    /// A reset, or a line cut off by the end of the stream.
    Failed(LineError),
}

// ANCHOR: connection
/// One client, from accept to close.
async fn connection(stream: TcpStream, id: u64, server: Server) {
    let peer = stream
        .peer_addr()
        .map_or_else(|_| "a client".to_string(), |a| a.to_string());
    // A fixed send buffer also turns off Linux's autotuning for this socket.
    let _ = socket2::SockRef::from(&stream).set_send_buffer_size(SEND_BUFFER);
    // Each line is one small write; Nagle's algorithm (chapter 4) would hold the next one back
    // until the client's delayed ACK of the last, up to 40 ms on Linux.
    let _ = stream.set_nodelay(true);
    let (read, out) = stream.into_split();
    let lines = FramedRead::with_capacity(read, LineCodec::new(), READ_BUFFER);
    let mut conn = Conn { lines, out };
    if conn.out.write_all(WELCOME.as_bytes()).await.is_err() {
        return;
    }
    let grace = server.config.grace;
    let deadline = Instant::now() + server.config.name_timeout;
    let named = tokio::select! {
        () = server.token.cancelled() => {
            let _ = timeout(grace, conn.out.write_all(SHUTTING_DOWN.as_bytes())).await;
            return;
        }
        named = timeout_at(deadline, ask_name(&mut conn, id, &server.room)) => named,
    };
    let (name, others, mut inbox) = match named {
        Ok(Ok(named)) => named,
        Ok(Err(why)) => return (server.log)(format!("{peer} left before a name: {why}")),
        Err(_elapsed) => {
            // Bounded: a client that sent bad names and read none of the answers may have a
            // full socket, and it must not keep its place by not reading.
            let _ = timeout(grace, conn.out.write_all(NO_NAME_IN_TIME.as_bytes())).await;
            return (server.log)(format!("{peer} sent no name in time"));
        }
    };
    let hello = format!("* hello {name}; others here: {others}\n");
    let ending = match timeout(grace, conn.out.write_all(hello.as_bytes())).await {
        Ok(Ok(())) => {
            (server.log)(format!("{name} joined from {peer}"));
            chat(&mut conn, id, &name, &mut inbox, &server).await
        }
        Ok(Err(e)) => Ending::Failed(e.into()),
        Err(_elapsed) => Ending::Failed(io::Error::from(io::ErrorKind::TimedOut).into()),
    };
    finish(conn, id, &name, inbox, ending, &server).await;
}
// ANCHOR_END: connection

// ANCHOR: ask_name
/// Reads lines until one is a free, valid name, and takes it.
async fn ask_name(
    conn: &mut Conn,
    id: u64,
    room: &Room,
) -> Result<(String, usize, broadcast::Receiver<Message>), LineError> {
    loop {
        let line = match conn.lines.next().await {
            Some(Ok(line)) => line,
            Some(Err(LineError::TooLong)) => {
                let _ = conn.out.write_all(TOO_LONG.as_bytes()).await;
                return Err(LineError::TooLong);
            }
            Some(Err(e)) => return Err(e),
            None => return Err(io::Error::from(io::ErrorKind::UnexpectedEof).into()),
        };
        let name = std::str::from_utf8(&line).map(str::trim).unwrap_or("");
        let reply = if !valid_name(name) {
            BAD_NAME.to_string()
        } else if let Some((others, inbox)) = room.join(id, name) {
            return Ok((name.to_string(), others, inbox));
        } else {
            format!("* name taken: {name}\n")
        };
        conn.out.write_all(reply.as_bytes()).await?;
    }
}
// ANCHOR_END: ask_name

// ANCHOR: chat
/// A named client's session: every message for it goes out, every line from it goes to the
/// room, until one side ends it.
async fn chat(
    conn: &mut Conn,
    id: u64,
    name: &str,
    inbox: &mut broadcast::Receiver<Message>,
    server: &Server,
) -> Ending {
    loop {
        tokio::select! {
            // Look at the token first, so that a busy client cannot delay the shutdown.
            biased;
            () = server.token.cancelled() => return Ending::Shutdown,
            message = inbox.recv() => match message {
                Ok(message) if message.from == id => {} // no echo
                Ok(message) => {
                    if let Err(ending) = deliver(conn, &message.line, inbox, &server.room).await {
                        return ending;
                    }
                }
                Err(RecvError::Lagged(_)) => return Ending::TooSlow,
                Err(RecvError::Closed) => return Ending::Shutdown,
            },
            line = conn.lines.next() => match line {
                None => return Ending::Closed,
                Some(Err(LineError::TooLong)) => return Ending::TooLong,
                Some(Err(e)) => return Ending::Failed(e),
                Some(Ok(line)) if line.is_empty() => {}
                Some(Ok(line)) => match std::str::from_utf8(&line) {
                    Ok(text) => server.room.send(id, format!("{name}: {text}\n")),
                    Err(_) => {
                        if let Err(e) = conn.out.write_all(NOT_UTF8.as_bytes()).await {
                            return Ending::Failed(e.into());
                        }
                    }
                },
            },
        }
    }
}
// ANCHOR_END: chat

// ANCHOR: deliver
/// Writes one message to this client. If its socket is full the write waits, and while it
/// waits the task checks, at every new message, how far behind this client has fallen: more
/// than OUTBOX_LIMIT waiting, and it is cut off (rule 8), even if its write never completes.
async fn deliver(
    conn: &mut Conn,
    line: &[u8],
    inbox: &broadcast::Receiver<Message>,
    room: &Room,
) -> Result<(), Ending> {
    // The channel keeps 1,024 (a power of two); the rule's limit is 1,000.
    if inbox.len() > OUTBOX_LIMIT {
        return Err(Ending::TooSlow);
    }
    // Most of the time the socket has room: one try, no waiting, no bookkeeping.
    let rest = match conn.out.try_write(line) {
        Ok(n) if n == line.len() => return Ok(()),
        Ok(n) => &line[n..],
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => line,
        Err(e) => return Err(Ending::Failed(e.into())),
    };
    let write = conn.out.write_all(rest);
    tokio::pin!(write);
    loop {
        let more_sent = room.sent.notified();
        tokio::pin!(more_sent);
        more_sent.as_mut().enable(); // from here on, no `send` can be missed
        if inbox.len() > OUTBOX_LIMIT {
            return Err(Ending::TooSlow);
        }
        tokio::select! {
            written = &mut write => return written.map_err(|e| Ending::Failed(e.into())),
            () = more_sent => {}
        }
    }
}
// ANCHOR_END: deliver

// ANCHOR: finish
/// The end of a named client: leave the room, send what was queued for it (and the last line
/// of a shutdown), close.
async fn finish(
    mut conn: Conn,
    id: u64,
    name: &str,
    mut inbox: broadcast::Receiver<Message>,
    ending: Ending,
    server: &Server,
) {
    let shutdown = matches!(ending, Ending::Shutdown);
    // In a shutdown everybody leaves at once: no announcements.
    server.room.leave(id, name, !shutdown);
    (server.log)(format!("{name} left: {ending}"));
    // The last writes get `--grace` at most: a client that does not read must not keep its
    // socket (and its task) open forever.
    let last_words = async {
        match ending {
            Ending::TooLong => conn.out.write_all(TOO_LONG.as_bytes()).await?,
            Ending::Closed | Ending::Shutdown => {
                // What was sent before now is still in the channel for this receiver; what
                // comes after is not for someone who has left.
                for _ in 0..inbox.len() {
                    let Ok(message) = inbox.try_recv() else { break };
                    if message.from != id {
                        conn.out.write_all(&message.line).await?;
                    }
                }
                if shutdown {
                    conn.out.write_all(SHUTTING_DOWN.as_bytes()).await?;
                }
            }
            Ending::TooSlow | Ending::Failed(_) => {}
        }
        conn.out.shutdown().await
    };
    let _ = timeout(server.config.grace, last_words).await;
}
// ANCHOR_END: finish

impl fmt::Display for Ending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ending::Closed => write!(f, "end of stream"),
            Ending::TooLong => write!(f, "{}", LineError::TooLong),
            Ending::TooSlow => write!(f, "over {OUTBOX_LIMIT} messages behind"),
            Ending::Shutdown => write!(f, "the server is stopping"),
            Ending::Failed(e) => write!(f, "{e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What one client's task costs before its buffers grow: the future `connection` returns
    /// holds every variable that lives across an `.await`, so its size is the task's state.
    #[tokio::test]
    async fn a_task_is_small() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let server = Server::new(Config::default(), Arc::new(|_| {}));
        let task = connection(stream, 1, server);
        let size = std::mem::size_of_val(&task);
        println!("a connection's future: {size} bytes");
        assert!(size < 4096, "{size} bytes");
    }
}
