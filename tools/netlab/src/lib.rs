//! The network lab: a TCP proxy that sits between a client and a server and forwards every byte,
//! in order, unchanged, while changing *how* the bytes travel.
//!
//! On loopback a small write usually arrives as one read, so message-boundary bugs hide. The
//! proxy makes them show: `split` cuts every chunk it forwards into small pieces, `merge` holds
//! what arrives and sends it on as one write, `delay` waits between pieces, and a trace reports
//! every piece. Lessons use it as a library in their demos and tests; learners run the `netlab`
//! binary by hand (`netlab proxy --listen ADDR --to ADDR --split 1..7`).

use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::mpsc::Sender;
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
    /// Which directions `split`, `merge` and `delay` apply to.
    pub directions: Directions,
    /// Every piece written, in each direction, is also sent here.
    pub trace: Option<Sender<Piece>>,
}

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
            directions: Directions::Both,
            trace: None,
        }
    }
}

/// A running proxy. It accepts connections on a background thread until dropped.
pub struct Proxy {
    local_addr: SocketAddr,
}

impl Proxy {
    /// Binds `listen` (use port 0 for any free port) and forwards every connection to `to`.
    pub fn start(listen: SocketAddr, to: SocketAddr, options: Options) -> io::Result<Proxy> {
        let listener = TcpListener::bind(listen)?;
        Ok(Proxy::from_listener(listener, to, options))
    }

    /// Forwards every connection accepted on an already bound `listener` to `to`.
    pub fn from_listener(listener: TcpListener, to: SocketAddr, options: Options) -> Proxy {
        let _ = (listener, to, options);
        todo!()
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

impl fmt::Display for Piece {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let _ = f;
        todo!()
    }
}
