//! The file server: one thread per client, up to a cap; every name confined to one folder; every
//! received file written beside its final name and renamed into place only once verified.

use std::collections::HashMap;
use std::fmt;
use std::fs::{self, File, Metadata};
use std::io::{self, ErrorKind, Read};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::{
    BadName, Header, copy_file, is_temp_name, list, quoted, read_header,
    receive_body_hashing_beside, resolve, send_file, temp_file_in, write_header,
};

/// Everything the server allows and where it keeps its files.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The folder served: every name is a file directly inside it.
    pub root: PathBuf,
    /// How many clients are served at once; one more is told the server is busy.
    pub max_clients: usize,
    /// How long one read or write on a connection may wait before the server gives up on it.
    pub idle_timeout: Duration,
    /// How long a header may take to arrive whole, from its first byte: a client that sends a
    /// byte just often enough to beat the idle timeout still cannot hold its place for ever.
    pub header_deadline: Duration,
    /// The largest header accepted, in bytes.
    pub max_header: usize,
    /// The largest file accepted by `put`, in bytes.
    pub max_file: u64,
    /// Makes the builder of each connection's thread.
    pub threads: ThreadMaker,
}

impl Settings {
    /// The defaults, serving `root`.
    pub fn new(root: impl Into<PathBuf>) -> Settings {
        Settings {
            root: root.into(),
            max_clients: 64,
            idle_timeout: Duration::from_secs(300),
            header_deadline: Duration::from_secs(30),
            max_header: crate::DEFAULT_MAX_HEADER,
            max_file: crate::DEFAULT_MAX_FILE,
            threads: ThreadMaker::default(),
        }
    }
}

/// Makes the `thread::Builder` for each connection's thread: a plain one, unless a test wants to
/// see what happens when a thread cannot start (it returns a builder that asks for a stack no
/// machine has, and the OS refuses it, as it would when out of memory or threads).
#[derive(Clone)]
pub struct ThreadMaker(pub Arc<dyn Fn() -> thread::Builder + Send + Sync>);

impl Default for ThreadMaker {
    fn default() -> ThreadMaker {
        ThreadMaker(Arc::new(thread::Builder::new))
    }
}

impl fmt::Debug for ThreadMaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ThreadMaker")
    }
}

/// Deletes the temporary files that a server stopped in the middle of an upload left in `root`
/// (a killed process runs no destructors), saying so in the log. Only names that
/// [`temp_file_in`] makes ([`is_temp_name`]), only regular files, only in `root` itself: the
/// server touches nothing it did not make. Call it before serving, when no upload is under way.
pub fn remove_leftovers(root: &Path, log: &Log) {
    let entries = match fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) => return log(format!("cannot look for leftover temporary files: {e}")),
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|name| is_temp_name(name)) else {
            continue;
        };
        // `file_type` does not follow a link: a link by that name is not the server's.
        if !entry.file_type().is_ok_and(|kind| kind.is_file()) {
            continue;
        }
        log(match fs::remove_file(entry.path()) {
            Ok(()) => format!("removed {name}: an upload that a stopped server left unfinished"),
            Err(e) => format!("cannot remove {name}, an unfinished upload: {e}"),
        });
    }
}

/// Where the server's log lines go (stderr in the binary, a channel in tests and the demo).
pub type Log = Arc<dyn Fn(String) + Send + Sync>;

/// The warning printed when the server listens anywhere but loopback.
pub fn exposure_warning(addr: SocketAddr, settings: &Settings) -> Option<String> {
    (!addr.ip().is_loopback()).then(|| {
        format!(
            "warning: listening on {addr}, which is not a loopback address: anyone who can reach \
             this address can read and overwrite the files in {}. Use 127.0.0.1 unless you mean it.",
            settings.root.display()
        )
    })
}

// ANCHOR: accept_loop
/// The connection loop: accept clients forever, each on its own thread, at most
/// `settings.max_clients` at once.
pub fn run(listener: TcpListener, settings: Settings, log: Log) -> ! {
    let settings = Arc::new(settings);
    let cache = Arc::new(DigestCache::default());
    let serving = Arc::new(AtomicUsize::new(0));
    let refusing = Arc::new(AtomicUsize::new(0));
    loop {
        let (conn, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) => {
                log(format!("accept failed: {e}"));
                // Out of file descriptors, say: the error repeats until a client leaves, so
                // pause rather than spin and fill the log.
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        // Count the client before its thread starts, so two quick connections cannot both
        // squeeze under the cap. The `Slot` gives the place back when the thread ends,
        // however it ends.
        let (count, busy) = if serving.fetch_add(1, Ordering::SeqCst) < settings.max_clients {
            (&serving, false)
        } else {
            serving.fetch_sub(1, Ordering::SeqCst);
            // Saying "busy" takes a thread too: cap those as well, and beyond that just close.
            if refusing.fetch_add(1, Ordering::SeqCst) >= settings.max_clients {
                refusing.fetch_sub(1, Ordering::SeqCst);
                log(format!("{peer}: too many clients; closed without a word"));
                continue;
            }
            (&refusing, true)
        };
        // ANCHOR_END: accept_loop
        // ANCHOR: spawn_client
        let slot = Slot(Arc::clone(count));
        let (for_thread, log_for_thread) = (Arc::clone(&settings), Arc::clone(&log));
        let cache = Arc::clone(&cache);
        // To answer with if the thread cannot start: `spawn` then drops its closure, and the
        // connection inside it.
        let spare = conn.try_clone();
        let spawned = (settings.threads.0)()
            .name(format!("client {peer}"))
            .spawn(move || {
                if busy {
                    refuse_busy(conn, peer, &for_thread, &log_for_thread, slot);
                } else {
                    let cx = Context {
                        peer,
                        settings: &for_thread,
                        cache: &cache,
                        log: &log_for_thread,
                        handler: None,
                    };
                    serve(conn, &cx, slot);
                }
            });
        if let Err(e) = spawned {
            cannot_start(spare, peer, &e, &log);
        }
    }
}

/// What a connection's thread needs besides its socket: who the client is, and the server's
/// settings, digest cache and log.
#[derive(Clone, Copy)]
struct Context<'a> {
    peer: SocketAddr,
    settings: &'a Settings,
    cache: &'a DigestCache,
    log: &'a Log,
    handler: Option<&'a Handler>,
}

/// One place in a count of connections, given back on drop.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
// ANCHOR_END: spawn_client

/// Tells a client whose thread could not start that it will not be served, and closes. This
/// runs on the thread that accepts, so nothing here may wait: the socket is made non-blocking,
/// and a reply that does not fit at once is dropped.
fn cannot_start(spare: io::Result<TcpStream>, peer: SocketAddr, e: &io::Error, log: &Log) {
    let mut told = false;
    if let Ok(mut conn) = spare
        && conn.set_nonblocking(true).is_ok()
    {
        // Read what the client has already sent (a little, at most): closing with unread bytes
        // sends a reset, which can destroy the reply before the client reads it.
        let mut scratch = [0u8; 4096];
        for _ in 0..16 {
            if !matches!(conn.read(&mut scratch), Ok(n) if n > 0) {
                break;
            }
        }
        let text = format!(
            "the server cannot serve this connection: it could not start a thread for it ({e}); \
             try again later"
        );
        told = write_header(&mut conn, &Header::refusal(text)).is_ok();
        let _ = conn.shutdown(Shutdown::Write);
    }
    let told = if told {
        "told the client"
    } else {
        "could not tell the client"
    };
    log(format!(
        "{peer}: cannot start a thread: {e}; {told}, and closed"
    ));
}

/// Tells a client over the cap that the server is busy, as the reply to its first request.
///
/// The request is read first: closing a socket with unread bytes in it sends a reset, and a
/// reset can destroy the reply before the client reads it.
fn refuse_busy(mut conn: TcpStream, peer: SocketAddr, settings: &Settings, log: &Log, slot: Slot) {
    let wait = settings.idle_timeout.min(Duration::from_secs(5));
    let _ = conn.set_read_timeout(Some(wait));
    let _ = conn.set_write_timeout(Some(wait));
    // All of the request within `wait`, not each read: a client that trickles it must not hold
    // one of the few threads that say "busy".
    let mut reader = HeaderReader::new(&conn, wait, wait);
    (reader.started, reader.ends) = (true, Instant::now().checked_add(wait));
    let _ = read_header(&mut reader, settings.max_header);
    let text = format!(
        "the server is busy: {} clients are connected, the most it serves at once; try again later",
        settings.max_clients
    );
    let _ = write_header(&mut conn, &Header::refusal(text));
    drop((conn, slot));
    log(format!("{peer}: refused, busy"));
}

/// A handler for the commands chapter 7's exercises add (`delete`, a `get` that resumes). It
/// sees each request before the server's own commands: it answers on the connection and returns
/// `Ok(true)`, or returns `Ok(false)` and sends nothing, to leave the request to the server.
pub type Handler = Arc<dyn Fn(&mut TcpStream, &Path, &Header) -> io::Result<bool> + Send + Sync>;

/// The server of [`run`], with `handler` seeing every request first, for the exercises' checks:
/// it serves until `stop` is set (looked at after each accept), then returns once every
/// connection has ended. No cap on clients and no busy reply: the checks need neither.
pub fn run_with(
    listener: TcpListener,
    settings: Settings,
    log: Log,
    handler: Handler,
    stop: &AtomicBool,
) {
    let cache = DigestCache::default();
    let serving = Arc::new(AtomicUsize::new(0));
    // Scoped threads: returning means every connection's thread has ended too.
    thread::scope(|scope| {
        let mut threads = Vec::new();
        for conn in listener.incoming() {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            let Ok((conn, peer)) = conn.and_then(|c| c.peer_addr().map(|peer| (c, peer))) else {
                continue;
            };
            serving.fetch_add(1, Ordering::SeqCst);
            let slot = Slot(Arc::clone(&serving));
            let spare = conn.try_clone();
            let (settings, cache, log, handler) = (&settings, &cache, &log, &handler);
            let spawned = (settings.threads.0)()
                .name(format!("client {peer}"))
                .spawn_scoped(scope, move || {
                    let cx = Context {
                        peer,
                        settings,
                        cache,
                        log,
                        handler: Some(handler),
                    };
                    serve(conn, &cx, slot);
                });
            match spawned {
                Ok(thread) => threads.push(thread),
                Err(e) => cannot_start(spare, peer, &e, log),
            }
        }
        // A handler that panics (an exercise's `todo!`) ends its own connection only: joined
        // here, its panic is not raised a second time, in the thread that runs the server.
        for thread in threads {
            if thread.join().is_err() {
                log("a connection's thread panicked".to_string());
            }
        }
    });
}

// ANCHOR: serve
/// Serves one client until it leaves, breaks the protocol, or falls silent; then closes the
/// connection and gives back its `slot` under the cap.
fn serve(mut conn: TcpStream, cx: &Context, slot: Slot) {
    let Context {
        peer,
        settings,
        log,
        ..
    } = *cx;
    log(format!("connected from {peer}"));
    // Every read and write gives up after the idle timeout: a silent client must not hold a
    // thread and a place under the cap forever.
    let timeouts = conn
        .set_read_timeout(Some(settings.idle_timeout))
        .and_then(|()| conn.set_write_timeout(Some(settings.idle_timeout)));
    let ended = timeouts.and_then(|()| requests(&mut conn, cx));
    // Close and free the place first, then say so: whoever reads the log line may count on
    // both having happened.
    drop((conn, slot));
    log(match ended {
        Ok(()) => format!("{peer} closed the connection"),
        // A read or write that waited the whole idle timeout: the OS's own error (EAGAIN).
        Err(e) if is_os_timeout(&e) => {
            format!("{peer} was silent too long; closing the connection")
        }
        Err(e) => format!("{peer}: {e}; closing the connection"),
    });
}
// ANCHOR_END: serve

// ANCHOR: requests
/// The communication loop: one request after another. A refusal is a reply like any other;
/// only a broken stream (an error returned here) ends the connection.
fn requests(conn: &mut TcpStream, cx: &Context) -> io::Result<()> {
    let settings = cx.settings;
    loop {
        let request = match read_header_in_time(conn, settings) {
            Ok(Some(request)) => request,
            Ok(None) => return Ok(()),
            // The frame was read whole, so the stream is still in step: say what was wrong
            // and wait for the next request.
            Err(e) if e.kind() == ErrorKind::InvalidData => {
                write_header(conn, &Header::refusal(format!("not a request: {e}")))?;
                continue;
            }
            Err(e) => return Err(e),
        };
        // The exercises' commands (see `run_with`) come first; `run` has no handler.
        if let Some(handler) = cx.handler
            && handler(conn, &settings.root, &request)?
        {
            continue;
        }
        let command = request.command.as_deref().unwrap_or("");
        let name = request.name.as_deref();
        match (command, name) {
            ("get", Some(name)) => get(conn, cx, name)?,
            ("put" | "post", Some(name)) => put(conn, cx, name, request.size)?,
            ("ls", _) => {
                let reply = match list(&settings.root) {
                    Ok(files) => Header {
                        files: Some(files),
                        ..Header::default()
                    },
                    Err(e) => Header::refusal(format!("cannot list the folder: {e}")),
                };
                write_header(conn, &reply)?;
            }
            ("get" | "put" | "post", None) => {
                write_header(conn, &Header::refusal(format!("{command} needs a name")))?;
            }
            _ => {
                let command = quoted(command);
                let text = format!("unknown command {command}: this server knows get, put and ls");
                write_header(conn, &Header::refusal(text))?;
            }
        }
    }
}
// ANCHOR_END: requests

// ANCHOR: get
/// `get`: the file's header, its bytes, then the trailer with their MD5.
fn get(conn: &mut TcpStream, cx: &Context, name: &str) -> io::Result<()> {
    let Context {
        peer,
        settings,
        cache,
        log,
        ..
    } = *cx;
    let opened = resolve(&settings.root, name).and_then(|path| {
        let file = File::open(&path).map_err(|e| match e.kind() {
            ErrorKind::NotFound => {
                BadName(format!("there is no file named {name:?} on the server"))
            }
            _ => BadName(format!("cannot open {name:?}: {e}")),
        })?;
        let meta = file.metadata().map_err(|e| BadName(e.to_string()))?;
        Ok((file, meta))
    });
    let (file, meta) = match opened {
        Ok(opened) => opened,
        Err(refused) => return write_header(conn, &Header::refusal(refused.0)),
    };
    // ANCHOR_END: get
    // ANCHOR: get_send
    let size = meta.len();
    let state = FileState::of(&meta);
    write_header(conn, &Header::file(name, size))?;
    // From here on the client expects exactly `size` bytes: if the file cannot give them, the
    // error ends the connection, and the client keeps nothing.
    let md5 = match cache.digest(state) {
        // Sent or received whole before, and unchanged since: the digest is known, so the
        // bytes only need sending, which the kernel does from the page cache (`copy_file`).
        Some(md5) => {
            copy_file(&file, conn, size, &mut |_| {})?;
            md5
        }
        None => {
            let md5 = send_file(&file, conn, size, &mut |_| {})?;
            // Remember it only if the file did not change while it was being read.
            if FileState::of(&file.metadata()?) == state {
                cache.remember(state, &md5);
            }
            md5
        }
    };
    write_header(conn, &Header::trailer(md5.clone()))?;
    log(format!("{peer}: sent {name:?}, {size} bytes, md5 {md5}"));
    Ok(())
}
// ANCHOR_END: get_send

// ANCHOR: put
/// `put`: check the request, say "go ahead", receive into a temporary file, compare digests,
/// and only then rename the file into place.
fn put(conn: &mut TcpStream, cx: &Context, name: &str, size: Option<u64>) -> io::Result<()> {
    let Context {
        peer,
        settings,
        cache,
        log,
        ..
    } = *cx;
    // Everything that can be refused is refused now, before the client sends a single byte of
    // the body: the reply to the request is the go-ahead (compare lesson 5's `recv_ready`).
    let Some(size) = size else {
        return write_header(conn, &Header::refusal("put needs a size"));
    };
    if size > settings.max_file {
        let text = format!(
            "{} is {size} bytes, over this server's limit of {}",
            quoted(name),
            settings.max_file
        );
        return write_header(conn, &Header::refusal(text));
    }
    let path = match resolve(&settings.root, name) {
        Ok(path) => path,
        Err(refused) => return write_header(conn, &Header::refusal(refused.0)),
    };
    // Beside the final file, under a name no client can ask for; it deletes itself on drop.
    let mut temp = match temp_file_in(&settings.root) {
        Ok(temp) => temp,
        Err(e) => {
            return write_header(
                conn,
                &Header::refusal(format!("cannot store {name:?}: {e}")),
            );
        }
    };
    write_header(conn, &Header::file(name, size))?;
    log(format!("{peer}: receiving {name:?}, {size} bytes"));
    // ANCHOR_END: put
    // ANCHOR: put_verify
    // A broken connection here returns early: `temp` is dropped, and the partial file with it.
    let received = receive_body_hashing_beside(conn, temp.as_file_mut(), size, &mut |_| {})?;
    let trailer = read_header_in_time(conn, settings)?.ok_or_else(|| {
        io::Error::new(
            ErrorKind::UnexpectedEof,
            "the connection closed before the trailer",
        )
    })?;
    let reply = if let Some(e) = received.write_error {
        Header::refusal(format!("cannot store {name:?}: {e}; nothing was saved"))
    } else if trailer.md5.as_deref() != Some(received.md5.as_str()) {
        Header::refusal(format!(
            "{name:?} arrived damaged: the sender's MD5 is {}, the bytes received have {}; \
             nothing was saved",
            trailer.md5.as_deref().unwrap_or("missing"),
            received.md5
        ))
    } else {
        // The rename is atomic: another client sees the old file or the new one, never half.
        match temp.persist(&path) {
            Ok(file) => {
                // The next `get` of this file need not hash it again. (The state is read from
                // the open file after the rename, which changes its ctime.)
                if let Ok(meta) = file.metadata() {
                    cache.remember(FileState::of(&meta), &received.md5);
                }
                Header {
                    md5: Some(received.md5),
                    ..Header::file(name, size)
                }
            }
            Err(e) => Header::refusal(format!("cannot store {name:?}: {}", e.error)),
        }
    };
    log(format!(
        "{peer}: {}",
        match &reply.error {
            Some(error) => error.clone(),
            None => format!("saved {name:?}, {size} bytes, md5 {}", received_md5(&reply)),
        }
    ));
    write_header(conn, &reply)
}
// ANCHOR_END: put_verify

// ANCHOR: header_deadline
/// Reads one header (a request, or a trailer), which must arrive whole within the header
/// deadline of its first byte. Each read still waits at most the idle timeout, so a client
/// between requests may be silent that long; but one that trickles a header is cut off.
fn read_header_in_time(conn: &mut TcpStream, settings: &Settings) -> io::Result<Option<Header>> {
    let mut reader = HeaderReader::new(conn, settings.idle_timeout, settings.header_deadline);
    let header = read_header(&mut reader, settings.max_header);
    if reader.ends.is_some() {
        // A body comes next, maybe: it has only the idle timeout, so a transfer that keeps
        // moving is never cut, however long it takes.
        let reset = conn.set_read_timeout(Some(settings.idle_timeout));
        return header.and_then(|header| reset.map(|()| header));
    }
    header
}

/// A connection's reads while one header arrives: the clock starts at its first byte, and from
/// then on each read waits only for what is left of the deadline.
struct HeaderReader<'a> {
    conn: &'a TcpStream,
    idle: Duration,
    deadline: Duration,
    /// Whether the header's first byte has arrived.
    started: bool,
    /// When the header must be whole: set at its first byte.
    ends: Option<Instant>,
}
// ANCHOR_END: header_deadline

// ANCHOR: header_reader
impl Read for HeaderReader<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if let Some(ends) = self.ends {
            let left = ends.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.too_slow());
            }
            self.conn.set_read_timeout(Some(left.min(self.idle)))?;
        }
        let mut conn = self.conn;
        let n = match conn.read(buffer) {
            // The wait was cut short by the deadline, not by the idle timeout.
            Err(e) if is_os_timeout(&e) && self.ends.is_some_and(|t| Instant::now() >= t) => {
                return Err(self.too_slow());
            }
            result => result?,
        };
        if n > 0 && !self.started {
            self.started = true;
            // A deadline too far away to count to is none: the idle timeout still holds.
            self.ends = Instant::now().checked_add(self.deadline);
        }
        Ok(n)
    }
}
// ANCHOR_END: header_reader

impl<'a> HeaderReader<'a> {
    fn new(conn: &'a TcpStream, idle: Duration, deadline: Duration) -> HeaderReader<'a> {
        let (started, ends) = (false, None);
        HeaderReader {
            conn,
            idle,
            deadline,
            started,
            ends,
        }
    }

    fn too_slow(&self) -> io::Error {
        let secs = self.deadline.as_secs_f64();
        let text = format!("a header did not arrive whole within {secs} s of its first byte");
        io::Error::new(ErrorKind::TimedOut, text)
    }
}

/// Whether `e` is a socket's own timeout (EAGAIN; WSAETIMEDOUT on Windows), not an error that
/// the server made up, such as a header's deadline.
fn is_os_timeout(e: &io::Error) -> bool {
    e.raw_os_error().is_some() && matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

fn received_md5(reply: &Header) -> &str {
    reply.md5.as_deref().unwrap_or("")
}

// ANCHOR: digest_cache
/// The MD5 of files the server has already read or written whole, so that a `get` of a file
/// that has not changed since need not hash it again.
///
/// A stale entry can only cause a false alarm, never a false "all is well": the client hashes
/// what it receives, and bytes that do not match the digest are refused.
#[derive(Debug, Default)]
pub struct DigestCache {
    known: Mutex<HashMap<FileState, String>>,
}

/// How many digests the cache holds before it starts again from empty.
const CACHE_LIMIT: usize = 10_000;

impl DigestCache {
    fn digest(&self, state: Option<FileState>) -> Option<String> {
        let known = self
            .known
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        known.get(&state?).cloned()
    }

    fn remember(&self, state: Option<FileState>, md5: &str) {
        let Some(state) = state else { return };
        let mut known = self
            .known
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if known.len() >= CACHE_LIMIT {
            known.clear();
        }
        known.insert(state, md5.to_string());
    }
}
// ANCHOR_END: digest_cache

// ANCHOR: file_state
/// What identifies one version of one file: which file (device and inode), and its size and
/// times. A write changes the ctime, and an ordinary program cannot set it back, so a file with
/// the same state almost surely has the same bytes. Almost: two writes within one tick of the
/// file system's clock can leave every field the same, and root can set the clock back. Then a
/// stale digest is sent, and the client reports a file that is fine as damaged: a false alarm,
/// never a damaged file accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileState {
    device: u64,
    inode: u64,
    size: u64,
    modified: (i64, i64),
    changed: (i64, i64),
}

impl FileState {
    /// The state of a file; `None` where the platform does not say (then nothing is cached).
    pub fn of(meta: &Metadata) -> Option<FileState> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Some(FileState {
                device: meta.dev(),
                inode: meta.ino(),
                size: meta.size(),
                modified: (meta.mtime(), meta.mtime_nsec()),
                changed: (meta.ctime(), meta.ctime_nsec()),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            None
        }
    }
}
// ANCHOR_END: file_state
