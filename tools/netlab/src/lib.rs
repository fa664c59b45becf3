//! The network lab: a TCP proxy that sits between a client and a server and forwards every byte,
//! in order, unchanged, while changing *how* the bytes travel.
//!
//! On loopback a small write usually arrives as one read, so message-boundary bugs hide. The
//! proxy makes them show: `split` cuts every chunk it forwards into small pieces, `merge` holds
//! what arrives and sends it on as one write, `delay` waits between pieces, and a trace reports
//! every piece. Lessons use it as a library in their demos and tests; learners run the `netlab`
//! binary by hand (`netlab proxy --listen ADDR --to ADDR --split 1..7`).

use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// Which way bytes flow through the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flow {
    /// From the client that connected to the proxy, on to the server.
    ToServer,
    /// From the server back to the client.
    ToClient,
}

/// Which flows the shaping options (`split`, `merge`, `delay`) apply to. Tracing always covers both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Directions {
    #[default]
    Both,
    ToServer,
    ToClient,
}

/// One write the proxy made: a piece of one connection's byte stream in one direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Which accepted connection, counting from 1.
    pub connection: u64,
    pub flow: Flow,
    /// Where the piece starts in this direction's byte stream.
    pub offset: u64,
    pub bytes: Vec<u8>,
}

// ANCHOR: options
/// How the proxy shapes the bytes it forwards. `Options::default()` forwards them untouched.
#[derive(Debug, Clone)]
pub struct Options {
    /// Re-send every chunk as pieces whose sizes are drawn from `min..=max` (the last piece of a
    /// chunk is whatever remains). `None`: forward chunks as they were read.
    pub split: Option<(usize, usize)>,
    /// Seed for the piece sizes; the same seed gives the same cuts.
    pub seed: u64,
    /// Hold what arrives until the sender has been quiet for `merge_window` (or closed, or
    /// `MERGE_LIMIT` bytes are held), then send it all as one write.
    pub merge: bool,
    pub merge_window: Duration,
    /// Wait this long before each write.
    pub delay: Duration,
    /// Flip every bit of the byte at this offset of each shaped direction's stream (counting
    /// from 0 on every connection), and only that byte: a fault that TCP's own checksum would
    /// have caught on a real wire, made here above TCP so an application-level digest must.
    pub corrupt: Option<u64>,
    /// Which directions `split`, `merge`, `delay` and `corrupt` apply to.
    pub directions: Directions,
    /// Every piece written, in each direction, is also sent here.
    pub trace: Option<Sender<Piece>>,
}
// ANCHOR_END: options

/// The most a merge holds before it sends what it has.
pub const MERGE_LIMIT: usize = 64 * 1024;

/// The default quiet time that ends a merge.
pub const DEFAULT_MERGE_WINDOW: Duration = Duration::from_millis(50);

impl Default for Options {
    fn default() -> Self {
        Options {
            split: None,
            seed: 0,
            merge: false,
            merge_window: DEFAULT_MERGE_WINDOW,
            delay: Duration::ZERO,
            corrupt: None,
            directions: Directions::Both,
            trace: None,
        }
    }
}

/// How long the proxy waits to reach the server before it gives up on a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A running proxy. It accepts connections on a background thread until it is dropped; the
/// connections it already forwards go on until either side closes.
pub struct Proxy {
    local_addr: SocketAddr,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Binds `listen` (port 0 picks a free port) and forwards every connection to `to`.
    pub fn start(listen: SocketAddr, to: SocketAddr, options: Options) -> io::Result<Proxy> {
        options.check()?;
        let listener = TcpListener::bind(listen)?;
        Proxy::from_listener(listener, to, options)
    }

    /// Forwards every connection accepted on an already bound `listener` to `to`.
    pub fn from_listener(
        listener: TcpListener,
        to: SocketAddr,
        options: Options,
    ) -> io::Result<Proxy> {
        options.check()?;
        let local_addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let stop = Arc::clone(&stop);
            thread::Builder::new()
                .name("netlab-accept".into())
                .spawn(move || accept_loop(listener, to, options, &stop))?
        };
        Ok(Proxy {
            local_addr,
            stop,
            acceptor: Some(acceptor),
        })
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A proxy on a port of loopback that the OS picks, in front of `to`: what tests and demos
    /// want.
    pub fn on_loopback(to: SocketAddr, options: Options) -> io::Result<Proxy> {
        Proxy::start(SocketAddr::from(([127, 0, 0, 1], 0)), to, options)
    }
}

/// Collects the traced pieces of one direction until they cover at least `total` bytes
/// (pieces of the other direction are skipped), waiting at most `timeout` for each.
pub fn pieces_until(
    trace: &Receiver<Piece>,
    flow: Flow,
    total: u64,
    timeout: Duration,
) -> Result<Vec<Piece>, RecvTimeoutError> {
    let mut pieces = Vec::new();
    let mut seen = 0;
    while seen < total {
        let piece = trace.recv_timeout(timeout)?;
        if piece.flow == flow {
            seen += piece.bytes.len() as u64;
            pieces.push(piece);
        }
    }
    Ok(pieces)
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // accept() has no timeout; a connection of our own wakes it so it can see the flag.
        let _ = TcpStream::connect_timeout(&self.local_addr, CONNECT_TIMEOUT);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

impl Options {
    /// Refuses settings that cannot work, before anything is bound.
    fn check(&self) -> io::Result<()> {
        if let Some((min, max)) = self.split
            && (min == 0 || min > max)
        {
            return Err(io::Error::new(
                ErrorKind::InvalidInput,
                format!("split sizes must satisfy 1 <= MIN <= MAX (got {min}..{max})"),
            ));
        }
        Ok(())
    }

    /// Whether split, merge and delay apply to bytes flowing `flow`.
    fn shapes(&self, flow: Flow) -> bool {
        match self.directions {
            Directions::Both => true,
            Directions::ToServer => flow == Flow::ToServer,
            Directions::ToClient => flow == Flow::ToClient,
        }
    }
}

fn accept_loop(listener: TcpListener, to: SocketAddr, options: Options, stop: &AtomicBool) {
    let mut connections = 0u64;
    for client in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let client = match client {
            Ok(client) => client,
            // A connection that failed before we accepted it (e.g. reset in the backlog)
            // is that client's problem, not the proxy's: keep accepting.
            Err(_) => continue,
        };
        connections += 1;
        let options = options.clone();
        let id = connections;
        // Reaching the server may take a while; do it off the accept thread.
        let _ = thread::Builder::new()
            .name(format!("netlab-{id}"))
            .spawn(move || forward(id, client, to, options));
    }
}

/// Connects to the server and runs one pump per direction until both sides have closed.
fn forward(id: u64, client: TcpStream, to: SocketAddr, options: Options) {
    let server = match TcpStream::connect_timeout(&to, CONNECT_TIMEOUT) {
        Ok(server) => server,
        Err(err) => {
            eprintln!("netlab: connection {id}: cannot reach {to}: {err}");
            return; // dropping `client` closes it: the client sees end of stream
        }
    };
    let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up = {
        let options = options.clone();
        thread::spawn(move || Pump::new(id, Flow::ToServer, options).run(client, server2))
    };
    Pump::new(id, Flow::ToClient, options).run(server, client2);
    let _ = up.join();
}

/// Moves the bytes of one direction of one connection, shaping them on the way.
struct Pump {
    id: u64,
    flow: Flow,
    options: Options,
    shaped: bool,
    rng: SplitMix64,
    /// How many bytes this direction has forwarded so far.
    offset: u64,
    /// What a merge is holding back.
    held: Vec<u8>,
}

impl Pump {
    fn new(id: u64, flow: Flow, options: Options) -> Pump {
        // Each connection and direction gets its own stream of piece sizes, so a run with the
        // same seed cuts the same bytes the same way whatever the threads' timing.
        let stream = id.wrapping_mul(2) + (flow == Flow::ToClient) as u64;
        let rng = SplitMix64(options.seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        Pump {
            id,
            flow,
            shaped: options.shapes(flow),
            options,
            rng,
            offset: 0,
            held: Vec::new(),
        }
    }

    fn run(mut self, mut from: TcpStream, mut to: TcpStream) {
        match self.pump(&mut from, &mut to) {
            // The sender closed its side: say so to the receiver, after everything it sent.
            Ok(()) => {
                let _ = to.shutdown(Shutdown::Write);
            }
            // A reset, or a receiver that went away: there is no clean way on, so end both
            // directions of both sockets; each side sees its connection end.
            Err(_) => {
                let _ = to.shutdown(Shutdown::Both);
                let _ = from.shutdown(Shutdown::Both);
            }
        }
    }

    // ANCHOR: pump
    fn pump(&mut self, from: &mut TcpStream, to: &mut TcpStream) -> io::Result<()> {
        let merging = self.shaped && self.options.merge;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // While a merge holds bytes, a read waits only `merge_window`: the sender's
            // silence is what ends the merge.
            let waiting_to_flush = merging && !self.held.is_empty();
            from.set_read_timeout(waiting_to_flush.then_some(self.options.merge_window))?;
            match from.read(&mut buf) {
                // End of stream: send on what we hold, then pass the close on.
                Ok(0) => return self.flush(to),
                Ok(n) if merging => {
                    self.held.extend_from_slice(&buf[..n]);
                    if self.held.len() >= MERGE_LIMIT {
                        self.flush(to)?;
                    }
                }
                Ok(n) => self.send(&buf[..n], to)?,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    self.flush(to)?;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    // Bytes already read were sent by the peer; deliver them before giving up.
                    let _ = self.flush(to);
                    return Err(e);
                }
            }
        }
    }
    // ANCHOR_END: pump

    fn flush(&mut self, to: &mut TcpStream) -> io::Result<()> {
        if self.held.is_empty() {
            return Ok(());
        }
        let held = std::mem::take(&mut self.held);
        self.send(&held, to)
    }

    // ANCHOR: send
    /// Writes one chunk on, cut into pieces if asked to.
    fn send(&mut self, mut chunk: &[u8], to: &mut TcpStream) -> io::Result<()> {
        while !chunk.is_empty() {
            let size = match self.options.split {
                Some((min, max)) if self.shaped => self.rng.between(min, max).min(chunk.len()),
                _ => chunk.len(),
            };
            let (piece, rest) = chunk.split_at(size);
            if self.shaped && !self.options.delay.is_zero() {
                thread::sleep(self.options.delay);
            }
            let mut damaged;
            let mut piece = piece;
            if let Some(at) = self.options.corrupt.filter(|_| self.shaped) {
                // Is the doomed byte in this piece? Then send a copy with that byte inverted.
                if let Some(i) = at
                    .checked_sub(self.offset)
                    .filter(|&i| i < piece.len() as u64)
                {
                    damaged = piece.to_vec();
                    damaged[i as usize] ^= 0xff;
                    piece = &damaged;
                }
            }
            to.write_all(piece)?;
            if let Some(trace) = &self.options.trace {
                let _ = trace.send(Piece {
                    connection: self.id,
                    flow: self.flow,
                    offset: self.offset,
                    bytes: piece.to_vec(),
                });
            }
            self.offset += piece.len() as u64;
            chunk = rest;
        }
        Ok(())
    }
    // ANCHOR_END: send
}

/// A small, fast, seedable random number generator (SplitMix64). Piece sizes need to be
/// reproducible, not unpredictable.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `min..=max`.
    fn between(&mut self, min: usize, max: usize) -> usize {
        let span = (max - min) as u64 + 1;
        min + (self.next() % span) as usize
    }
}

/// How many bytes of a piece a trace line shows.
pub const PREVIEW: usize = 32;

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Flow::ToServer => "client->server",
            Flow::ToClient => "server->client",
        })
    }
}

impl fmt::Display for Piece {
    /// `[1] server->client @1024 +7 "1␊2␊3␊4"`: connection, direction, offset in that
    /// direction's stream, size, and the first bytes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {} @{} +{} {}",
            self.connection,
            self.flow,
            self.offset,
            self.bytes.len(),
            preview(&self.bytes, PREVIEW)
        )
    }
}

/// The first `max` bytes of `bytes`, quoted, readable on one line: control characters become
/// their Unicode pictures (a newline is `␊`, a carriage return `␍`), bytes that are not UTF-8
/// become `�`, and `...` follows the quote when there was more.
pub fn preview(bytes: &[u8], max: usize) -> String {
    let shown = &bytes[..bytes.len().min(max)];
    let text: String = String::from_utf8_lossy(shown)
        .chars()
        .map(|c| match c {
            // U+2400..U+241F are pictures of the control characters 0x00..0x1F.
            '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or(c),
            '\u{7f}' => '␡',
            c => c,
        })
        .collect();
    let more = if bytes.len() > max { "..." } else { "" };
    format!("\"{text}\"{more}")
}

/// Fails with a message a student can read unless `got` is `expected`: `what`, then both
/// sides' lengths and bytes as [`preview`] text, from a little before the first byte where
/// they differ (so a long message shows where it went wrong, not its common start).
#[track_caller]
pub fn assert_bytes(got: &[u8], expected: &[u8], what: &str) {
    if got == expected {
        return;
    }
    let same = got.iter().zip(expected).take_while(|(a, b)| a == b).count();
    let from = same.saturating_sub(8);
    let place = match from {
        0 => String::new(),
        _ => format!(" (from byte {from} on)"),
    };
    let show = |bytes: &[u8]| preview(bytes.get(from..).unwrap_or_default(), 48);
    panic!(
        "{what}\n  expected {} bytes{place}: {}\n  got      {} bytes{place}: {}",
        expected.len(),
        show(expected),
        got.len(),
        show(got),
    );
}
