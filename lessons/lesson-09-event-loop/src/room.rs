//! The chat's state and protocol, for both engines. Nothing here waits: every method does what
//! can be done now and returns. The engines call [`Room::admit`] for a new connection,
//! [`Room::read`] when one is readable, mark it dirty when it is writable, and then
//! [`Room::flush_dirty`], [`Room::expire`] and [`Room::settle`].

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::io::{ErrorKind, Write};
use std::net::{Shutdown, TcpStream};
use std::rc::Rc;
use std::time::Instant;

use crate::{
    ANNOUNCE_LIMIT, CLOSE_TIMEOUT, Config, Flushed, LineTooLong, MAX_LINE, OUTBOX_LIMIT,
    decode_lines, flush_outbox, read_some,
};

const WELCOME: &[u8] = b"* welcome; send your name\n";
const BAD_NAME: &[u8] = b"* bad name: use 1 to 32 letters, digits, '_', '-' or '.'\n";
const NOT_UTF8: &[u8] = b"* not UTF-8; line dropped\n";
const TOO_LONG: &[u8] = b"* line too long (over 1024 bytes); bye\n";
const NO_NAME: &[u8] = b"* no name in time; bye\n";
const SHUTTING_DOWN: &[u8] = b"* server shutting down\n";

// ANCHOR: conn
/// One connection: everything a thread per client kept on its stack, kept here instead.
/// No read buffer of its own: the loop reads every socket into one shared buffer, and only an
/// unfinished line is copied out into `partial`.
pub struct Conn {
    pub stream: TcpStream,
    /// What came after the last newline (empty, and unallocated, most of the time).
    partial: Vec<u8>,
    /// Messages still to be written, each shared by all its receivers (`Rc`: one copy).
    outbox: VecDeque<Rc<[u8]>>,
    /// How many bytes of `outbox[0]` a partial write already took.
    sent: usize,
    name: Option<Rc<str>>,
    phase: Phase,
    /// When this connection must have named itself, or finished closing.
    deadline: Option<Instant>,
    id: u64,
    /// Whether the engine has asked for writability (the `polling` engine keeps track).
    pub write_interest: bool,
    dirty: bool,
}
// ANCHOR_END: conn

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reading lines: a name first, then messages.
    Open,
    /// Out of the room; sending what is queued, then closing. `eof`: the peer closed its side,
    /// so there is nothing more to read.
    Closing { eof: bool },
    /// Dropped at the next `settle` (a reset, an error, a reader that fell too far behind).
    Dead,
}

impl Conn {
    /// Whether the loop should ask for readability.
    pub fn wants_read(&self) -> bool {
        matches!(self.phase, Phase::Open | Phase::Closing { eof: false })
    }

    /// Whether the loop should ask for writability: only while output waits. Asking for it
    /// with nothing to write would wake a level-triggered loop at once, every time.
    pub fn wants_write(&self) -> bool {
        !self.outbox.is_empty()
    }
}

/// What one read did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// Bytes came: there may be more.
    Progress,
    /// Nothing more now (`WouldBlock`), or the connection is finished with reading.
    Done,
}

/// Every connection, by key, and the names in use.
pub struct Room<'a> {
    config: Config,
    slots: Vec<Option<Conn>>,
    free: Vec<usize>,
    live: usize,
    names: HashMap<Rc<str>, usize>,
    timers: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    next_id: u64,
    dirty: Vec<usize>,
    dead: Vec<usize>,
    /// Streams closed since the engine last looked: the `polling` engine must deregister
    /// them before they are dropped.
    pub closed: Vec<TcpStream>,
    /// Connections written to since the engine last looked (their write interest may change).
    pub flushed: Vec<usize>,
    grace_end: Option<Instant>,
    lines: Vec<Vec<u8>>,
    log: &'a mut dyn FnMut(&str),
}

impl<'a> Room<'a> {
    pub fn new(config: Config, log: &'a mut dyn FnMut(&str)) -> Room<'a> {
        Room {
            config,
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
            names: HashMap::new(),
            timers: BinaryHeap::new(),
            next_id: 0,
            dirty: Vec::new(),
            dead: Vec::new(),
            closed: Vec::new(),
            flushed: Vec::new(),
            grace_end: None,
            lines: Vec::new(),
            log,
        }
    }

    /// A line for the log (stderr).
    pub fn note(&mut self, line: &str) {
        (self.log)(line);
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Every live connection, with its key.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Conn)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(k, c)| c.as_ref().map(|c| (k, c)))
    }

    pub fn get_mut(&mut self, key: usize) -> Option<&mut Conn> {
        self.slots.get_mut(key).and_then(Option::as_mut)
    }

    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Shutting down, and nobody left: the loop can end.
    pub fn finished(&self) -> bool {
        self.grace_end.is_some() && self.live == 0
    }

    pub fn shutting_down(&self) -> bool {
        self.grace_end.is_some()
    }

    // ANCHOR: admit
    /// A new connection: refused over the cap, else welcomed, with a deadline for its name.
    pub fn admit(&mut self, mut stream: TcpStream) -> Option<usize> {
        let peer = stream
            .peer_addr()
            .map_or_else(|_| "?".to_string(), |a| a.to_string());
        if self.live >= self.config.max_clients {
            let full = format!(
                "* server full ({} clients); try later\n",
                self.config.max_clients
            );
            // A fresh socket's buffer is empty: this short write is taken whole, or the
            // client is already gone and it does not matter.
            let _ = stream.write(full.as_bytes());
            (self.log)(&format!("{peer}: refused, server full"));
            return None;
        }
        if stream.set_nonblocking(true).is_err() {
            return None;
        }
        // Each line is one small write; Nagle's algorithm would hold the next one back.
        let _ = stream.set_nodelay(true);
        let deadline = Instant::now() + self.config.name_timeout;
        let key = self.insert(stream, deadline);
        self.push(key, Rc::from(WELCOME));
        Some(key)
    }
    // ANCHOR_END: admit

    fn insert(&mut self, stream: TcpStream, deadline: Instant) -> usize {
        let id = self.next_id;
        self.next_id += 1;
        let conn = Conn {
            stream,
            partial: Vec::new(),
            outbox: VecDeque::new(),
            sent: 0,
            name: None,
            phase: Phase::Open,
            deadline: Some(deadline),
            id,
            write_interest: false,
            dirty: false,
        };
        let key = match self.free.pop() {
            Some(key) => {
                self.slots[key] = Some(conn);
                key
            }
            None => {
                self.slots.push(Some(conn));
                self.slots.len() - 1
            }
        };
        self.live += 1;
        self.timers.push(Reverse((deadline, id, key)));
        key
    }

    // ANCHOR: read
    /// One read from connection `key` into the loop's shared buffer, and every complete line
    /// in it handled.
    pub fn read(&mut self, key: usize, buf: &mut [u8]) -> ReadOutcome {
        let Some(conn) = self.get_mut(key) else {
            return ReadOutcome::Done;
        };
        if !conn.wants_read() {
            return ReadOutcome::Done;
        }
        let closing = matches!(conn.phase, Phase::Closing { .. });
        let n = match read_some(&mut conn.stream, buf) {
            // Not an error: nothing has come since the last read. Back to the loop.
            Err(e) if e.kind() == ErrorKind::WouldBlock => return ReadOutcome::Done,
            Err(e) => {
                self.kill(key, &format!("error: {e}"));
                return ReadOutcome::Done;
            }
            Ok(0) => {
                // The end of stream: send what is queued, then close (rule 6).
                self.leave(key, "end of stream");
                if let Some(conn) = self.get_mut(key) {
                    conn.phase = Phase::Closing { eof: true };
                }
                self.close_when_flushed(key);
                return ReadOutcome::Done;
            }
            Ok(n) => n,
        };
        if closing {
            return ReadOutcome::Progress; // a client we said bye to: its bytes are discarded
        }
        let mut lines = std::mem::take(&mut self.lines);
        let Some(conn) = self.get_mut(key) else {
            return ReadOutcome::Done;
        };
        let decoded = decode_lines(&mut conn.partial, &buf[..n], &mut lines);
        if conn.partial.is_empty() {
            conn.partial = Vec::new(); // give back a long line's memory
        }
        for line in lines.drain(..) {
            self.line(key, &line);
        }
        self.lines = lines;
        if decoded == Err(LineTooLong) {
            self.bye(key, TOO_LONG, &format!("line over {MAX_LINE} bytes"));
        }
        ReadOutcome::Progress
    }
    // ANCHOR_END: read

    // ANCHOR: line
    /// One complete line from connection `key`: its name, or a message for everyone else.
    fn line(&mut self, key: usize, line: &[u8]) {
        let Some(conn) = self.get_mut(key) else {
            return;
        };
        if conn.phase != Phase::Open {
            return;
        }
        if let Some(name) = conn.name.clone() {
            if line.is_empty() {
                return;
            }
            if std::str::from_utf8(line).is_err() {
                self.push(key, Rc::from(NOT_UTF8));
                return;
            }
            // One copy of the message, shared by every receiver's outbox.
            let mut msg = Vec::with_capacity(name.len() + 2 + line.len() + 1);
            msg.extend_from_slice(name.as_bytes());
            msg.extend_from_slice(b": ");
            msg.extend_from_slice(line);
            msg.push(b'\n');
            self.broadcast(Some(key), Rc::from(msg));
            return;
        }
        let name = std::str::from_utf8(line).map(str::trim).unwrap_or("");
        if !valid_name(name) {
            self.push(key, Rc::from(BAD_NAME));
        } else if self.names.contains_key(name) {
            self.push(key, Rc::from(format!("* name taken: {name}\n").as_bytes()));
        } else {
            self.join(key, Rc::from(name));
        }
    }
    // ANCHOR_END: line

    fn join(&mut self, key: usize, name: Rc<str>) {
        let others = self.names.len();
        self.names.insert(name.clone(), key);
        if let Some(conn) = self.get_mut(key) {
            conn.name = Some(name.clone());
            conn.deadline = None;
        }
        let hello = format!("* hello {name}; others here: {others}\n");
        self.push(key, Rc::from(hello.as_bytes()));
        if self.names.len() <= ANNOUNCE_LIMIT {
            let joined = format!("* {name} joined\n");
            self.broadcast(Some(key), Rc::from(joined.as_bytes()));
        }
        (self.log)(&format!("{name} joined ({} named)", self.names.len()));
    }

    /// Takes `key` out of the room (if it was in), announcing it while the room is small.
    fn leave(&mut self, key: usize, why: &str) {
        let Some(conn) = self.get_mut(key) else {
            return;
        };
        let Some(name) = conn.name.take() else {
            return;
        };
        let before = self.names.len();
        self.names.remove(&name);
        if before <= ANNOUNCE_LIMIT {
            self.broadcast(Some(key), Rc::from(format!("* {name} left\n").as_bytes()));
        }
        (self.log)(&format!("{name} left ({why})"));
    }

    // ANCHOR: broadcast
    /// Queues `msg` for every named client but `from`. A client with more than OUTBOX_LIMIT
    /// messages waiting is too slow: it is marked dead here and dropped by `settle`.
    fn broadcast(&mut self, from: Option<usize>, msg: Rc<[u8]>) {
        for (key, slot) in self.slots.iter_mut().enumerate() {
            let Some(conn) = slot else { continue };
            if Some(key) == from || conn.name.is_none() || conn.phase != Phase::Open {
                continue;
            }
            conn.outbox.push_back(msg.clone());
            // Over the limit? The kernel may take some now: the limit is on what it cannot.
            if conn.outbox.len() > OUTBOX_LIMIT
                && !matches!(
                    flush_outbox(&mut conn.stream, &mut conn.outbox, &mut conn.sent),
                    Ok(Flushed::Empty)
                )
                && conn.outbox.len() > OUTBOX_LIMIT
            {
                conn.phase = Phase::Dead;
                self.dead.push(key);
            } else if !conn.dirty {
                conn.dirty = true;
                self.dirty.push(key);
            }
        }
    }
    // ANCHOR_END: broadcast

    fn push(&mut self, key: usize, msg: Rc<[u8]>) {
        if let Some(conn) = self.get_mut(key) {
            conn.outbox.push_back(msg);
            if !conn.dirty {
                conn.dirty = true;
                self.dirty.push(key);
            }
        }
    }

    /// Marks `key` as having something to write (or as writable again).
    pub fn mark_dirty(&mut self, key: usize) {
        self.push_dirty(key);
    }

    fn push_dirty(&mut self, key: usize) {
        if let Some(conn) = self.get_mut(key)
            && !conn.dirty
        {
            conn.dirty = true;
            self.dirty.push(key);
        }
    }

    /// A last line for `key`, then closing once it is sent (rules 3 and 5, and shutdown).
    fn bye(&mut self, key: usize, last: &[u8], why: &str) {
        self.leave(key, why);
        let Some(conn) = self.get_mut(key) else {
            return;
        };
        if let Phase::Closing { .. } | Phase::Dead = conn.phase {
            return;
        }
        conn.phase = Phase::Closing { eof: false };
        conn.partial = Vec::new();
        self.push(key, Rc::from(last));
        self.close_when_flushed(key);
        if !why.is_empty() {
            (self.log)(&format!("connection {key}: {why}; bye"));
        }
    }

    /// A closing connection gets CLOSE_TIMEOUT (or what is left of the grace) to take what is
    /// queued for it.
    fn close_when_flushed(&mut self, key: usize) {
        let limit = Instant::now() + CLOSE_TIMEOUT;
        let limit = self.grace_end.map_or(limit, |g| g.min(limit));
        if let Some(conn) = self.get_mut(key) {
            conn.deadline = Some(limit);
            let id = conn.id;
            self.timers.push(Reverse((limit, id, key)));
        }
        self.push_dirty(key);
    }

    /// Drops `key` at the next `settle`, announcing its leave.
    pub fn kill(&mut self, key: usize, why: &str) {
        self.leave(key, why);
        if let Some(conn) = self.get_mut(key)
            && conn.phase != Phase::Dead
        {
            conn.phase = Phase::Dead;
            self.dead.push(key);
        }
    }

    // ANCHOR: flush_dirty
    /// Writes to every connection that has something queued (or became writable), once.
    /// A connection whose queue empties while it is closing is closed here.
    pub fn flush_dirty(&mut self) {
        while let Some(key) = self.dirty.pop() {
            let Some(conn) = self.get_mut(key) else {
                continue;
            };
            conn.dirty = false;
            if conn.phase == Phase::Dead {
                continue;
            }
            self.flushed.push(key);
            let conn = self.get_mut(key).expect("just seen");
            match flush_outbox(&mut conn.stream, &mut conn.outbox, &mut conn.sent) {
                Ok(Flushed::Blocked) => {} // write interest stays: the engine asks for it
                Ok(Flushed::Empty) => {
                    if conn.outbox.capacity() > 64 {
                        conn.outbox = VecDeque::new(); // a backlog's memory, given back
                    }
                    if let Phase::Closing { .. } = conn.phase {
                        self.finish_close(key);
                    }
                }
                Err(e) => self.kill(key, &format!("error: {e}")),
            }
            self.settle();
        }
    }
    // ANCHOR_END: flush_dirty

    /// Everything is sent: half-close (the client sees the end of stream after our last line),
    /// throw away what the client sent that nobody read, so that the close is a FIN and not a
    /// reset (chapter 1), and close.
    fn finish_close(&mut self, key: usize) {
        let Some(conn) = self.get_mut(key) else {
            return;
        };
        let _ = conn.stream.shutdown(Shutdown::Write);
        let mut scrap = [0u8; 4096];
        for _ in 0..16 {
            match read_some(&mut conn.stream, &mut scrap) {
                Ok(n) if n > 0 => continue,
                _ => break,
            }
        }
        conn.phase = Phase::Dead;
        self.dead.push(key);
    }

    /// Drops the connections marked dead. A leave announced to a slow reader can overflow its
    /// outbox in turn: the loop goes on until no connection is marked.
    pub fn settle(&mut self) {
        while let Some(key) = self.dead.pop() {
            let slow = self
                .slots
                .get(key)
                .and_then(Option::as_ref)
                .is_some_and(|c| c.outbox.len() > OUTBOX_LIMIT && c.name.is_some());
            if slow {
                // Rule 8: announced as a leave; it is dead, so it gets nothing more itself.
                self.leave(
                    key,
                    &format!("over {OUTBOX_LIMIT} messages waiting; dropped"),
                );
            }
            if let Some(conn) = self.slots.get_mut(key).and_then(Option::take) {
                self.release(key, conn);
            }
        }
    }

    fn release(&mut self, key: usize, conn: Conn) {
        if let Some(name) = &conn.name {
            self.names.remove(name);
        }
        self.free.push(key);
        self.live -= 1;
        self.closed.push(conn.stream);
    }

    // ANCHOR: expire
    /// Deadlines that have passed: a name that did not come in time, a close that took too
    /// long, the end of the grace period.
    pub fn expire(&mut self, now: Instant) {
        while let Some(&Reverse((when, id, key))) = self.timers.peek() {
            if when > now {
                break;
            }
            self.timers.pop();
            let Some(conn) = self.get_mut(key) else {
                continue;
            };
            if conn.id != id || conn.deadline.is_none_or(|d| d > now) {
                continue; // a stale timer: the slot was reused, or the deadline moved
            }
            match conn.phase {
                Phase::Open => self.bye(key, NO_NAME, "no name in time"),
                Phase::Closing { .. } => self.kill(key, "did not take its last lines in time"),
                Phase::Dead => {}
            }
        }
        if self.grace_end.is_some_and(|g| g <= now) {
            let keys: Vec<usize> = self.iter().map(|(k, _)| k).collect();
            for key in keys {
                self.kill(key, "grace period over");
            }
        }
        self.settle();
    }
    // ANCHOR_END: expire

    /// The earliest deadline, for the wait's timeout.
    pub fn next_deadline(&self) -> Option<Instant> {
        let timer = self.timers.peek().map(|Reverse((when, _, _))| *when);
        match (timer, self.grace_end) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Rule 9: every client gets the shutdown line after what is queued for it, and is closed
    /// once that is sent, or when the grace period runs out.
    pub fn begin_shutdown(&mut self) {
        if self.grace_end.is_some() {
            return;
        }
        self.grace_end = Some(Instant::now() + self.config.grace);
        let keys: Vec<usize> = self.iter().map(|(k, _)| k).collect();
        for key in keys {
            let Some(conn) = self.get_mut(key) else {
                continue;
            };
            match conn.phase {
                Phase::Open => {
                    conn.name = None; // no leave announcements while everyone goes
                    conn.phase = Phase::Closing { eof: false };
                    self.push(key, Rc::from(SHUTTING_DOWN));
                    self.close_when_flushed(key);
                }
                Phase::Closing { eof } => {
                    if eof {
                        self.push(key, Rc::from(SHUTTING_DOWN));
                    }
                }
                Phase::Dead => {}
            }
        }
        self.names.clear();
        (self.log)("shutting down");
    }
}

/// Rule 2: 1 to 32 ASCII letters, digits, `_`, `-` or `.`.
pub fn valid_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_connection_is_small() {
        let size = std::mem::size_of::<Option<super::Conn>>();
        assert!(size <= 160, "Conn is {size} bytes");
        eprintln!("size of Option<Conn>: {size}");
    }
}
