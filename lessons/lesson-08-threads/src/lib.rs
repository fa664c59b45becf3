//! `lesson-08`: a chat server with a thread per client.
//!
//! Every connection gets two threads: a *reader*, which reads the client's lines and hands
//! each one to the room, and a *writer*, which sends the client what waits in its *outbox*, a
//! bounded queue. The room is one table behind one mutex: who is connected, under which name,
//! and the sending end of each outbox. A reader that wants to say something takes the lock,
//! puts the line into every other outbox without waiting (`try_send`), and lets go.
//!
//! The protocol is the one of `book/src/part2-chat.md`, which lessons 9 and 10 serve too.

pub mod demo;
pub mod exercises;

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, BufWriter, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use socket2::{Domain, Socket, Type};

/// Where the server listens, and where the client connects, unless told otherwise.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

// ANCHOR: limits
/// The longest line, in bytes, not counting its `\r\n`. One more byte without a newline and
/// the client is disconnected: a server must not buffer whatever a client sends.
pub const MAX_LINE: usize = 1024;
/// The most lines that may wait for one client. One more, and that client is disconnected.
pub const OUTBOX_LIMIT: usize = 1000;
/// Joins and leaves are announced only while the room has at most this many names.
pub const ANNOUNCE_LIMIT: usize = 100;
/// Each client thread's stack. A reader or writer needs a few KiB; std's default is 2 MiB.
/// Only the pages a thread touches cost memory, but 64 KiB also keeps 20,000 threads
/// within a small part of the address space.
pub const CLIENT_STACK: usize = 64 * 1024;
// ANCHOR_END: limits

/// The longest name, in characters.
pub const MAX_NAME: usize = 32;
/// `--max-clients` unless given, and the values it may take.
pub const DEFAULT_MAX_CLIENTS: usize = 1000;
pub const MAX_CLIENTS: RangeInclusive<u64> = 1..=100_000;
/// `--name-timeout` and `--grace` unless given.
pub const DEFAULT_NAME_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// The server's notices: every line of the protocol that the server writes itself.
pub const WELCOME: &str = "* welcome; send your name\n";
pub const BAD_NAME: &str = "* bad name: use 1 to 32 letters, digits, '_', '-' or '.'\n";
pub const NO_NAME_IN_TIME: &str = "* no name in time; bye\n";
pub const NOT_UTF8: &str = "* not UTF-8; line dropped\n";
pub const TOO_LONG: &str = "* line too long (over 1024 bytes); bye\n";
pub const SHUTTING_DOWN: &str = "* server shutting down\n";
/// Not part of the shared protocol: this server's answer when it cannot start a thread.
pub const NO_THREAD: &str = "* server cannot take you now; try later\n";

/// One line on its way to clients. One allocation, shared by every outbox it goes into.
pub type Line = Arc<str>;
/// Where the server's diagnostics go: stderr in the binary, a channel in the demo and tests.
pub type Log = Arc<dyn Fn(&str) + Send + Sync>;

/// A log that prints each line on stderr.
pub fn stderr_log() -> Log {
    Arc::new(|line: &str| eprintln!("{line}"))
}

// ANCHOR: one_at_a_time
/// The original tutorial's server loop, for a chat: accept one client, serve it until it
/// leaves, then accept the next. With one client at a time there is nobody to deliver to, so
/// each line goes to the server's log (`NAME: line`). This is what the chapter starts from.
pub fn serve_one_at_a_time(listener: &TcpListener, log: &dyn Fn(&str)) -> io::Result<()> {
    for conn in listener.incoming() {
        let conn = conn?;
        let mut lines = BufReader::new(&conn).lines();
        (&conn).write_all(WELCOME.as_bytes())?;
        // This read waits for as long as the client says nothing, and so does everyone else.
        let Some(Ok(name)) = lines.next() else {
            continue;
        };
        let name = name.trim().to_string();
        (&conn).write_all(format!("* hello {name}; others here: 0\n").as_bytes())?;
        for line in lines.map_while(Result::ok) {
            log(&format!("{name}: {line}"));
        }
        log(&format!("{name} left"));
    }
    Ok(())
}
// ANCHOR_END: one_at_a_time

/// How the server is set up: the flags, and two policies that chapter 8's exercises replace.
#[derive(Clone)]
pub struct Config {
    pub max_clients: usize,
    pub name_timeout: Duration,
    pub grace: Duration,
    /// Puts a line into one client's outbox (exercise 8.1).
    pub offer: fn(&SyncSender<Line>, Line) -> Offer,
    /// Stops the room once the server stops accepting (exercise 8.2).
    pub shut_down: fn(&Room, Duration),
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_clients: DEFAULT_MAX_CLIENTS,
            name_timeout: DEFAULT_NAME_TIMEOUT,
            grace: DEFAULT_GRACE,
            offer,
            shut_down,
        }
    }
}

// ANCHOR: room
/// The shared state: every connection, behind one mutex, and a condition variable that
/// says "a connection has ended" (the shutdown waits on it).
pub struct Room {
    members: Mutex<Members>,
    ended: Condvar,
    offer: fn(&SyncSender<Line>, Line) -> Offer,
    log: Log,
}

/// What the mutex guards.
pub struct Members {
    /// Every connection still open, named or not, by a number the server gives it.
    pub clients: HashMap<u64, Member>,
    /// Set when the server stops: no more joins, no more messages.
    pub stopping: bool,
    next_id: u64,
}

/// One connection, as the room sees it.
pub struct Member {
    /// `None` until the client has a name, and again once it is leaving.
    pub name: Option<String>,
    /// The sending end of the client's outbox; `None` once the client is leaving. Taking it
    /// away is how the writer learns to finish: it ends when every sender is gone.
    pub outbox: Option<SyncSender<Line>>,
    /// The socket, shared with the client's reader and writer threads (one file descriptor
    /// for all three), so that any thread can shut it down.
    pub stream: Arc<TcpStream>,
}
// ANCHOR_END: room

impl Members {
    /// How many clients have a name: the room's size, as announcements count it.
    pub fn named(&self) -> usize {
        self.clients.values().filter(|m| m.name.is_some()).count()
    }
}

// ANCHOR: offer
/// What happened to a line offered to one outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// It waits in the outbox; the client's writer will send it.
    Queued,
    /// The outbox already holds `OUTBOX_LIMIT` lines: the client has stopped reading.
    Full,
    /// The writer has ended (the connection failed): nobody will send it.
    Gone,
}

/// Puts `line` into `outbox` without ever waiting. Every reader calls this with the room
/// locked: one `send` that waited for a slow client would stop the whole room.
pub fn offer(outbox: &SyncSender<Line>, line: Line) -> Offer {
    match outbox.try_send(line) {
        Ok(()) => Offer::Queued,
        Err(TrySendError::Full(_)) => Offer::Full,
        Err(TrySendError::Disconnected(_)) => Offer::Gone,
    }
}
// ANCHOR_END: offer

impl Room {
    pub fn new(config: &Config, log: Log) -> Room {
        Room {
            members: Mutex::new(Members {
                clients: HashMap::new(),
                stopping: false,
                next_id: 0,
            }),
            ended: Condvar::new(),
            offer: config.offer,
            log,
        }
    }

    /// Locks the room. A thread that panicked while holding the lock leaves the table as it
    /// was between two whole operations (none of them can panic half way), so go on with it.
    pub fn lock(&self) -> MutexGuard<'_, Members> {
        self.members
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes one line to the server's log.
    pub fn log(&self, line: &str) {
        (self.log)(line)
    }

    /// Waits until every connection has ended, or `deadline` has passed: `true` if they all
    /// ended. Each connection's writer signals when it is done.
    pub fn wait_until_empty(&self, deadline: Instant) -> bool {
        let mut members = self.lock();
        while !members.clients.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            members = match self.ended.wait_timeout(members, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }

    // ANCHOR: broadcast
    /// Offers `text` to every named client except `from`. A client whose outbox is full is
    /// disconnected and its leave is announced in turn (which may find another full outbox:
    /// hence the list of work, not a recursion).
    fn broadcast(&self, members: &mut Members, from: Option<u64>, text: String) {
        let mut work = vec![(from, Line::from(text))];
        while let Some((from, line)) = work.pop() {
            let mut full = Vec::new();
            for (&id, member) in &members.clients {
                let Some(outbox) = member.outbox.as_ref().filter(|_| member.name.is_some()) else {
                    continue; // not named yet, or leaving
                };
                if Some(id) != from && (self.offer)(outbox, line.clone()) == Offer::Full {
                    full.push(id);
                }
            }
            for id in full {
                let before = members.named();
                if let Some(name) = self.evict(members, id) {
                    self.log(&format!(
                        "{name} left (too slow: {OUTBOX_LIMIT} lines waiting)"
                    ));
                    if before <= ANNOUNCE_LIMIT {
                        work.push((Some(id), Line::from(format!("* {name} left\n"))));
                    }
                }
            }
        }
    }
    // ANCHOR_END: broadcast

    // ANCHOR: evict
    /// Disconnects a client whose outbox is full: no further line is promised to it. Taking
    /// its outbox lets its writer end; shutting the socket down wakes both of its threads,
    /// even a writer blocked in `write` to a client that does not read.
    fn evict(&self, members: &mut Members, id: u64) -> Option<String> {
        let member = members.clients.get_mut(&id)?;
        member.outbox = None;
        let _ = member.stream.shutdown(Shutdown::Both);
        member.name.take()
    }
    // ANCHOR_END: evict

    // ANCHOR: join
    /// Takes `line` as the name of client `id`. `Err` holds the notice that refuses it.
    fn join(&self, id: u64, line: &[u8]) -> Result<String, String> {
        let name = std::str::from_utf8(line).unwrap_or("").trim();
        let valid = |c: char| c.is_ascii_alphanumeric() || "_-.".contains(c);
        if name.is_empty() || name.len() > MAX_NAME || !name.chars().all(valid) {
            return Err(BAD_NAME.to_string());
        }
        let mut members = self.lock();
        let taken = members
            .clients
            .values()
            .any(|m| m.name.as_deref() == Some(name));
        if taken {
            return Err(format!("* name taken: {name}\n"));
        }
        let others = members.named();
        let Some(member) = members.clients.get_mut(&id).filter(|m| m.outbox.is_some()) else {
            return Err(String::new()); // evicted or stopping meanwhile: nothing to say
        };
        member.name = Some(name.to_string());
        if let Some(outbox) = &member.outbox {
            (self.offer)(
                outbox,
                format!("* hello {name}; others here: {others}\n").into(),
            );
        }
        if others < ANNOUNCE_LIMIT {
            self.broadcast(&mut members, Some(id), format!("* {name} joined\n"));
        }
        Ok(name.to_string())
    }
    // ANCHOR_END: join

    /// Sends `NAME: text` to everyone else. `false` if this client is no longer in the room
    /// (it was disconnected for being slow, or the server is stopping).
    fn say(&self, id: u64, text: &str) -> bool {
        let mut members = self.lock();
        let Some(name) = members.clients.get(&id).and_then(|m| m.name.clone()) else {
            return false;
        };
        self.broadcast(&mut members, Some(id), format!("{name}: {text}\n"));
        true
    }

    /// Client `id`'s reader has ended: take its name and outbox away and announce the leave.
    /// The connection stays in the table until its writer has sent what was queued.
    fn leave(&self, id: u64, why: &str, peer: SocketAddr) {
        let mut members = self.lock();
        let before = members.named();
        // Already taken away: evicted (the evictor said so) or stopping.
        let Some(member) = members.clients.get_mut(&id).filter(|m| m.outbox.is_some()) else {
            return;
        };
        member.outbox = None;
        match member.name.take() {
            Some(name) => {
                self.log(&format!("{name} left ({why})"));
                if before <= ANNOUNCE_LIMIT && !members.stopping {
                    self.broadcast(&mut members, Some(id), format!("* {name} left\n"));
                }
            }
            None => self.log(&format!("{peer} went before joining ({why})")),
        }
    }

    /// Client `id`'s writer has ended: the connection is over, its slot is free.
    fn remove(&self, id: u64) {
        self.lock().clients.remove(&id);
        self.ended.notify_all();
    }
}

// ANCHOR: serve
/// Accepts clients until `stop` is requested, a reader and a writer thread for each, then
/// shuts the room down (`config.shut_down`) and returns.
pub fn serve(listener: &TcpListener, config: &Config, stop: &Stop, log: Log) {
    let room = Arc::new(Room::new(config, log));
    for conn in listener.incoming() {
        if stop.requested() {
            break; // this connection is `stop`'s own wake-up call
        }
        match conn {
            Ok(stream) => admit(&room, stream, config),
            Err(e) => {
                room.log(&format!("accept failed: {e}"));
                // Out of file descriptors (EMFILE) fails again at once: pause, don't spin.
                thread::sleep(Duration::from_millis(50));
            }
        }
    }
    let open = room.lock().clients.len();
    room.log(&format!("stopping: {open} connections open"));
    (config.shut_down)(&room, config.grace);
}
// ANCHOR_END: serve

// ANCHOR: admit
/// One new connection: refuse it if the room is full, else give it an outbox and two threads.
fn admit(room: &Arc<Room>, stream: TcpStream, config: &Config) {
    let peer = stream
        .peer_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0; 4], 0)));
    let (outbox, queue) = mpsc::sync_channel::<Line>(OUTBOX_LIMIT);
    // Each line is one small write; Nagle's algorithm (chapter 4) would hold the next one back
    // until the client's delayed ACK of the last, up to 40 ms on Linux.
    let _ = stream.set_nodelay(true);
    // One socket, three owners (the table, the reader, the writer), one file descriptor:
    // `&TcpStream` reads and writes, so no thread needs a copy of its own (`try_clone` costs
    // a descriptor each: 10,000 clients would need 30,000).
    let stream = Arc::new(stream);
    let id = {
        let mut members = room.lock();
        if members.clients.len() >= config.max_clients {
            drop(members);
            let full = format!(
                "* server full ({} clients); try later\n",
                config.max_clients
            );
            return refuse(room, &stream, &full, "server full");
        }
        members.next_id += 1;
        let id = members.next_id;
        let member = Member {
            name: None,
            outbox: Some(outbox.clone()),
            stream: stream.clone(),
        };
        members.clients.insert(id, member);
        id
    };
    // ANCHOR_END: admit
    // ANCHOR: admit_threads
    // The welcome goes first into the outbox, so nothing can overtake it.
    let _ = outbox.try_send(WELCOME.into());
    let (room_w, room_r, config) = (room.clone(), room.clone(), config.clone());
    let writer_stream = stream.clone();
    let writer = spawn(move || write_client(&room_w, id, &writer_stream, queue));
    if let Err(e) = writer {
        room.lock().clients.remove(&id);
        return refuse(
            room,
            &stream,
            NO_THREAD,
            &format!("cannot start a thread: {e}"),
        );
    }
    let reader = spawn(move || read_client(&room_r, id, &stream, outbox, &config));
    if let Err(e) = reader {
        // The writer runs: it sends the refusal after the welcome, then ends, as the
        // outbox's last sender goes with the failed thread's closure and the table's entry.
        let mut members = room.lock();
        if let Some(m) = members.clients.get_mut(&id) {
            m.outbox.take().map(|o| o.try_send(NO_THREAD.into()));
        }
        room.log(&format!("refused {peer}: cannot start a thread: {e}"));
    }
}
// ANCHOR_END: admit_threads

// ANCHOR: spawn
/// Starts a client thread with a small stack. `Builder::spawn` returns an error when the
/// thread cannot start (no memory, too many threads), where `thread::spawn` would panic and
/// take the accept loop, and so the server, down with it.
fn spawn(work: impl FnOnce() + Send + 'static) -> io::Result<thread::JoinHandle<()>> {
    thread::Builder::new().stack_size(stack_size()).spawn(work)
}

/// `CLIENT_STACK`, or more if `RUST_MIN_STACK` asks for more: std's own variable for the
/// stack of new threads, honoured here too, so a user can raise it without a rebuild.
fn stack_size() -> usize {
    let wanted = std::env::var("RUST_MIN_STACK")
        .ok()
        .and_then(|s| s.parse().ok());
    wanted.map_or(CLIENT_STACK, |w: usize| w.max(CLIENT_STACK))
}
// ANCHOR_END: spawn

// ANCHOR: clients_the_system_allows
/// Memory mappings a client costs: two threads, each with its stack and a guard page, and the
/// alternate signal stack and guard page that std gives every thread (to report a stack
/// overflow). `/proc/PID/maps` grows by 4 lines a thread.
pub const MAPS_PER_CLIENT: usize = 8;
/// Mappings left for everything else: the program, its libraries, malloc's arenas.
const MAPS_RESERVED: usize = 1024;

/// How many clients Linux's limit on a process's memory mappings (`vm.max_map_count`) leaves
/// room for, or `None` where there is no such limit to read. Near that limit, a new thread's
/// stack can be mapped while std's signal stack for it cannot, and std then aborts the whole
/// process: the cap on clients must keep the server below it.
pub fn clients_the_system_allows() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/sys/vm/max_map_count").ok()?;
    let max: usize = text.trim().parse().ok()?;
    Some((max.saturating_sub(MAPS_RESERVED) / MAPS_PER_CLIENT).max(1))
}
// ANCHOR_END: clients_the_system_allows

/// Tells a client why it cannot stay, then closes its connection.
fn refuse(room: &Room, mut stream: &TcpStream, notice: &str, why: &str) {
    let peer = stream
        .peer_addr()
        .map_or("a client".into(), |a| a.to_string());
    room.log(&format!("refused {peer}: {why}"));
    // A fresh socket's send buffer is empty: this short write cannot block.
    let _ = stream.write_all(notice.as_bytes());
    let _ = stream.shutdown(Shutdown::Write);
    discard_unread(stream);
}

/// Reads (without waiting) whatever the client has already sent, so that closing the
/// socket does not reset the connection and destroy the notice just sent (chapter 1).
fn discard_unread(mut stream: &TcpStream) {
    if stream.set_nonblocking(true).is_ok() {
        let mut sink = [0u8; 1024];
        for _ in 0..64 {
            if !matches!(stream.read(&mut sink), Ok(n) if n > 0) {
                break;
            }
        }
    }
}

/// What one call to [`next_line`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A whole line, in the buffer, without its `\n` (or `\r\n`).
    Line,
    /// More than `MAX_LINE` bytes and no newline: the client must go.
    TooLong,
    /// The end of the stream (a last line without its newline is dropped).
    End,
}

// ANCHOR: next_line
/// Reads the next line into `line` (cleared first). Knows that a line is too long as soon as
/// `MAX_LINE + 1` bytes have come without a newline: it never waits for the newline, and never
/// holds more than one buffer of a line it will refuse.
pub fn next_line(reader: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<Incoming> {
    line.clear();
    loop {
        let available = match reader.fill_buf() {
            Ok([]) => return Ok(Incoming::End), // 0 bytes: the client closed
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let newline = available.iter().position(|&b| b == b'\n');
        let take = newline.map_or(available.len(), |at| at + 1);
        line.extend_from_slice(&available[..take]);
        reader.consume(take);
        if newline.is_some() {
            line.pop(); // the `\n`
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(if line.len() > MAX_LINE {
                Incoming::TooLong
            } else {
                Incoming::Line
            });
        }
        // MAX_LINE + 1 bytes and no newline is too long, unless that last byte is a `\r`
        // whose `\n` is still on its way: then one byte more decides.
        let cr_last = line.len() == MAX_LINE + 1 && line.last() == Some(&b'\r');
        if line.len() > MAX_LINE && !cr_last {
            return Ok(Incoming::TooLong);
        }
    }
}
// ANCHOR_END: next_line

// ANCHOR: read_client
/// The reader thread: the name, then every line, until the client goes. Then the leave.
fn read_client(room: &Room, id: u64, stream: &TcpStream, outbox: SyncSender<Line>, c: &Config) {
    let peer = stream
        .peer_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0; 4], 0)));
    let mut reader = BufReader::with_capacity(2 * 1024, stream);
    let tell = |notice: &str| (room.offer)(&outbox, notice.into());
    let why = match wait_for_name(room, id, &mut reader, &tell, c.name_timeout) {
        Ok(name) => {
            room.log(&format!("{name} joined from {peer}"));
            chat(room, id, &mut reader, &tell)
        }
        Err(why) => why,
    };
    room.leave(id, &why, peer);
}

// ANCHOR_END: read_client

// ANCHOR: wait_for_name
/// Reads lines until one is a good name, or the time for it runs out.
fn wait_for_name(
    room: &Room,
    id: u64,
    reader: &mut BufReader<&TcpStream>,
    tell: &dyn Fn(&str) -> Offer,
    timeout: Duration,
) -> Result<String, String> {
    let deadline = Instant::now() + timeout;
    let mut line = Vec::new();
    loop {
        // A silent client must not hold its slot for ever: each read waits only for the
        // time that is left.
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            tell(NO_NAME_IN_TIME);
            return Err("no name in time".into());
        }
        reader
            .get_ref()
            .set_read_timeout(Some(left))
            .map_err(|e| e.to_string())?;
        match next_line(reader, &mut line) {
            Ok(Incoming::Line) => match room.join(id, &line) {
                Ok(name) => return Ok(name),
                Err(notice) if notice.is_empty() => return Err("stopped".into()),
                Err(notice) => {
                    tell(&notice); // and wait for another line
                }
            },
            Ok(Incoming::TooLong) => return Err(too_long(tell)),
            Ok(Incoming::End) => return Err("end of stream".into()),
            // The time ran out (Linux says WouldBlock): the loop's first lines say so.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
}

// ANCHOR_END: wait_for_name

// ANCHOR: chat
/// Every line after the name, until the client goes, the server stops, or it is evicted.
fn chat(
    room: &Room,
    id: u64,
    reader: &mut BufReader<&TcpStream>,
    tell: &dyn Fn(&str) -> Offer,
) -> String {
    if let Err(e) = reader.get_ref().set_read_timeout(None) {
        return e.to_string();
    }
    let mut line = Vec::new();
    loop {
        match next_line(reader, &mut line) {
            Ok(Incoming::Line) if line.is_empty() => {} // an empty line says nothing
            Ok(Incoming::Line) => match std::str::from_utf8(&line) {
                Ok(text) if room.say(id, text) => {}
                Ok(_) => return "disconnected".into(),
                Err(_) => {
                    tell(NOT_UTF8); // to the sender only, who stays
                }
            },
            Ok(Incoming::TooLong) => return too_long(tell),
            Ok(Incoming::End) => return "end of stream".into(),
            Err(e) => return e.to_string(),
        }
    }
}
// ANCHOR_END: chat

fn too_long(tell: &dyn Fn(&str) -> Offer) -> String {
    tell(TOO_LONG);
    format!("a line over {MAX_LINE} bytes")
}

// ANCHOR: writer
/// The writer thread: sends what comes into the outbox, in order, until every sender is
/// gone (the client is leaving) and the outbox is empty. Then it closes the sending side and
/// frees the client's slot.
fn write_client(room: &Room, id: u64, stream: &TcpStream, queue: Receiver<Line>) {
    let mut out = BufWriter::with_capacity(4 * 1024, stream);
    let mut result = Ok(());
    while let Ok(line) = queue.recv() {
        result = out.write_all(line.as_bytes());
        // Write what else is waiting, then flush once: fewer system calls under load.
        while let (Ok(()), Ok(line)) = (&result, queue.try_recv()) {
            result = out.write_all(line.as_bytes());
        }
        result = result.and_then(|()| out.flush());
        if result.is_err() {
            break;
        }
    }
    if result.is_err() {
        // The connection failed: wake the reader (it will announce the leave) and throw
        // away whatever still comes until it has.
        let _ = stream.shutdown(Shutdown::Both);
        for _ in queue {}
    } else {
        let _ = stream.shutdown(Shutdown::Write);
    }
    room.remove(id);
}
// ANCHOR_END: writer

// ANCHOR: shut_down
/// Stops the room: every client gets `* server shutting down` after what is already in its
/// outbox, and each connection closes once that is sent. After `grace`, whatever is still
/// open is shut down hard.
pub fn shut_down(room: &Room, grace: Duration) {
    let deadline = Instant::now() + grace;
    {
        let mut members = room.lock();
        members.stopping = true;
        for member in members.clients.values_mut() {
            member.name = None; // no more joins or leaves to announce
            if let Some(outbox) = member.outbox.take() {
                // Behind what is queued. A full outbox is a slow reader: no promise to it.
                let _ = outbox.try_send(SHUTTING_DOWN.into());
            }
            // Wakes the reader with an end of stream: it stops taking new lines.
            let _ = member.stream.shutdown(Shutdown::Read);
        }
    }
    if !room.wait_until_empty(deadline) {
        for member in room.lock().clients.values() {
            let _ = member.stream.shutdown(Shutdown::Both);
        }
        room.log("grace period over: the rest closed");
    }
}
// ANCHOR_END: shut_down

// ANCHOR: stop
/// Asks a running [`serve`] to stop, from any thread (the Ctrl-C handler's, a test's).
#[derive(Clone)]
pub struct Stop {
    requested: Arc<AtomicBool>,
    wake: SocketAddr,
    /// The socket that `request` connects, made in advance: a server at its limit of file
    /// descriptors could not make one when Ctrl-C comes, and would never wake up.
    waker: Arc<Socket>,
}

impl Stop {
    /// A stop for the server that will accept on `listener`.
    pub fn new(listener: &TcpListener) -> io::Result<Stop> {
        let mut wake = listener.local_addr()?;
        if wake.ip().is_unspecified() {
            wake.set_ip([127, 0, 0, 1].into()); // 0.0.0.0 is not an address to connect to
        }
        let waker = Socket::new(Domain::for_address(wake), Type::STREAM, None)?;
        Ok(Stop {
            requested: Arc::new(AtomicBool::new(false)),
            wake,
            waker: Arc::new(waker),
        })
    }

    /// Sets the flag, then connects once: `accept` returns, and the loop sees the flag.
    pub fn request(&self) {
        self.requested.store(true, Ordering::SeqCst);
        // Only the first request connects; another finds the socket connected, and that is fine.
        let _ = self
            .waker
            .connect_timeout(&self.wake.into(), Duration::from_secs(1));
    }

    pub fn requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }
}
// ANCHOR_END: stop

// ANCHOR: client
/// The chat client: prints every line from the server; sends `name` (if given), then each
/// line of `input`. At the end of `input` (or `quit`) it half-closes and prints what still
/// comes, until the server closes.
pub fn run_client(
    conn: TcpStream,
    name: Option<String>,
    input: impl BufRead + Send + 'static,
    out: &mut impl Write,
) -> io::Result<()> {
    let mut sending = conn.try_clone()?;
    let sender = thread::Builder::new().spawn(move || -> io::Result<()> {
        if let Some(name) = name {
            sending.write_all(format!("{name}\n").as_bytes())?;
        }
        for line in input.lines() {
            let line = line?;
            match line.trim() {
                "quit" => break,
                "" => continue,
                _ => sending.write_all(format!("{line}\n").as_bytes())?,
            }
        }
        sending.shutdown(Shutdown::Write)
    })?;
    let mut lines = BufReader::new(conn);
    let mut line = Vec::new();
    while lines.read_until(b'\n', &mut line)? > 0 {
        out.write_all(&line)?;
        out.flush()?;
        line.clear();
    }
    // The server closed. If stdin is still open, the sender is still waiting for it: leave it.
    // A sender that failed because the server had closed is no error of ours.
    if sender.is_finished() {
        match sender.join().unwrap_or(Ok(())) {
            Err(e) if !matches!(e.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset) => {
                return Err(e);
            }
            _ => {}
        }
    }
    Ok(())
}
// ANCHOR_END: client
