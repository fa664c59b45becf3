//! Lesson 1: an echo server and its client.
//!
//! The server has the two loops of every classic socket server:
//! - the *connection loop* waits for the next client (`accept`) and serves it;
//! - the *communication loop* reads what that client sends and writes it straight back, until
//!   the client hangs up.
//!
//! The same two loops serve TCP (AF_INET) and Unix-domain (AF_UNIX) sockets: they only need
//! something that can `accept` and connections that are `Read + Write`.

use std::io::{self, BufRead, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
#[cfg(unix)]
use std::os::unix::net::{UnixListener, UnixStream};
#[cfg(unix)]
use std::path::{Path, PathBuf};

use course_cli::next_command;
use socket2::{Domain, Protocol, SockRef, Socket, Type};

pub mod demo;
pub mod exercises;

/// The address the lesson's server binds when none is given.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

// ANCHOR: listener
/// What the server needs from a listening socket: the next client, and a name to log it by.
///
/// Implemented for [`TcpListener`] and (on Unix) [`UnixListener`], so the loops below are
/// written once for both address families.
pub trait Listener {
    /// The connection `accept` returns: a byte stream we can read from and write to.
    type Conn: Read + Write;

    /// Blocks until a client connects.
    fn accept_client(&self) -> io::Result<(Self::Conn, String)>;
}

impl Listener for TcpListener {
    type Conn = TcpStream;

    fn accept_client(&self) -> io::Result<(TcpStream, String)> {
        let (conn, peer) = self.accept()?;
        Ok((conn, peer.to_string()))
    }
}

#[cfg(unix)]
impl Listener for UnixListener {
    type Conn = UnixStream;

    fn accept_client(&self) -> io::Result<(UnixStream, String)> {
        let (conn, _peer) = self.accept()?;
        // A Unix client rarely binds a path of its own, so it has no name to show.
        Ok((conn, "a local client".to_string()))
    }
}
// ANCHOR_END: listener

// ANCHOR: connection_loop
/// The connection loop: serve clients one after another, forever.
///
/// Nothing a client does can end this loop: however a conversation ends, the server logs
/// it and goes back to `accept`. `log` gets one line per event and decides where it goes:
/// `main` prints it to stderr, the demo sends it to its narrator.
pub fn connection_loop<L: Listener>(listener: &L, log: &mut impl FnMut(String)) -> ! {
    loop {
        serve_one(listener, log);
    }
}

/// Waits for one client and talks to it until it leaves.
pub fn serve_one<L: Listener>(listener: &L, log: &mut impl FnMut(String)) {
    // `accept` blocks until a client has connected. It can fail for reasons that have
    // nothing to do with this client (the process is out of file descriptors, EMFILE, say):
    // log it, carry on.
    let (mut conn, peer) = match listener.accept_client() {
        Ok(accepted) => accepted,
        Err(e) => return log(format!("accept failed: {e}")),
    };
    log(format!("connected from {peer}"));
    match communication_loop(&mut conn) {
        Ok(()) => log(format!(
            "{peer} closed the connection normally (read returned 0 bytes)"
        )),
        Err(e) => log(format!("{peer} disconnected abnormally: {}", e.kind())),
    }
    // `conn` is dropped here, which closes our end of the connection.
}
// ANCHOR_END: connection_loop

// ANCHOR: communication_loop
/// The communication loop: echo every byte back until the client closes the connection.
///
/// Returns `Ok(())` when the client closed normally, and the error when the connection broke
/// (a reset, a timeout). Generic over the stream, so it serves TCP and Unix sockets alike.
pub fn communication_loop<S: Read + Write>(conn: &mut S) -> io::Result<()> {
    let mut buf = [0u8; 1024];
    loop {
        let n = match conn.read(&mut buf) {
            // 0 bytes is not "nothing yet": it is end of stream. The client closed its end.
            Ok(0) => return Ok(()),
            Ok(n) => n,
            // A signal interrupted the wait; nothing happened to the connection, so wait again.
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            // A reset or any other failure ends this conversation, not the server.
            Err(e) => return Err(e),
        };
        // `write` may send fewer bytes than asked; `write_all` loops until all are sent.
        conn.write_all(&buf[..n])?;
    }
}
// ANCHOR_END: communication_loop

// ANCHOR: warning
/// The warning every server in the course prints when it listens anywhere but loopback.
///
/// An echo server does no harm, but a port open on the network is open to everyone who can
/// reach it, and the habit matters more from lesson 3 on, where the server runs commands.
pub fn exposure_warning(addr: SocketAddr) -> Option<String> {
    if addr.ip().is_loopback() {
        return None;
    }
    Some(format!(
        "warning: listening on {addr}, which is not a loopback address: anyone who can reach \
         this address can connect to this server. Use 127.0.0.1 unless you mean it."
    ))
}
// ANCHOR_END: warning

// ANCHOR: client
/// Sends `message` and reads its echo.
///
/// The server sends back exactly what it received, so the client knows how many bytes to
/// expect: `read_exact` keeps reading until all of them have arrived, however the stream
/// happens to cut them into pieces.
pub fn echo_once<S: Read + Write>(conn: &mut S, message: &[u8]) -> io::Result<Vec<u8>> {
    conn.write_all(message)?;
    let mut reply = vec![0u8; message.len()];
    conn.read_exact(&mut reply)?;
    Ok(reply)
}

/// The client's loop: one command, one message, one echo printed.
///
/// `next_command` is the course's CLI contract (shared by every lesson's client): it shows
/// the `>>> ` prompt when a person is typing, skips empty lines, and returns `None` at `quit`
/// or end of input. Dropping the connection then tells the server we are done.
pub fn client_session<S: Read + Write>(
    conn: &mut S,
    mut input: impl BufRead,
    out: &mut impl Write,
    prompt: bool,
) -> io::Result<()> {
    while let Some(message) = next_command(&mut input, out, prompt)? {
        let reply = echo_once(conn, message.as_bytes())?;
        writeln!(out, "{}", String::from_utf8_lossy(&reply))?;
    }
    Ok(())
}
// ANCHOR_END: client

// ANCHOR: step_by_step
/// The four system calls hidden inside `TcpListener::bind`, made one at a time with socket2.
pub fn bind_step_by_step(addr: SocketAddr) -> io::Result<TcpListener> {
    // socket(AF_INET, SOCK_STREAM): ask the OS for a TCP socket of the address's family.
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // setsockopt(SO_REUSEADDR): let a restarted server bind its port at once, even while
    // connections from the previous run linger in TIME_WAIT.
    socket.set_reuse_address(true)?;
    // bind: claim the address. Port 0 asks the OS to pick a free port.
    socket.bind(&addr.into())?;
    // listen(5): start accepting; up to 5 finished handshakes may queue up for `accept`.
    socket.listen(5)?;
    Ok(socket.into())
}
// ANCHOR_END: step_by_step

// ANCHOR: reset
/// Closes `conn` with a reset (RST) instead of the normal goodbye (FIN).
///
/// SO_LINGER with a zero timeout makes `close` throw away unsent data and send RST: the peer's
/// next read fails with "connection reset" instead of returning 0 bytes. A crashed or killed
/// process does not do this on Linux (nor, by its documentation, on macOS): its kernel closes
/// its sockets with FIN, unless unread data is waiting in them.
pub fn reset(conn: TcpStream) -> io::Result<()> {
    SockRef::from(&conn).set_linger(Some(std::time::Duration::ZERO))?;
    drop(conn);
    Ok(())
}
// ANCHOR_END: reset

// ANCHOR: bind_unix
/// Binds a Unix-domain socket at `path`, taking care of a stale socket file.
///
/// A Unix socket lives at a path, and the file stays behind when a server dies without
/// cleaning up, so the next `bind` fails with "address in use". The file may only be removed
/// when nobody answers on it: removing a live server's socket would orphan that server.
#[cfg(unix)]
pub fn bind_unix(path: &Path) -> io::Result<UnixListener> {
    use std::os::unix::fs::FileTypeExt;

    match UnixListener::bind(path) {
        Err(e) if e.kind() == ErrorKind::AddrInUse => {}
        other => return other,
    }
    let refuse = |why: &str| {
        let why = format!("{}: {why}; leaving it alone", path.display());
        Err(io::Error::new(ErrorKind::AddrInUse, why))
    };
    if !std::fs::symlink_metadata(path)?.file_type().is_socket() {
        return refuse("exists and is not a socket");
    }
    // A probe that never waits: a blocking connect to a live server whose queue is full would
    // wait until that server accepts someone, perhaps for ever.
    match connect_at_once(path) {
        Ok(()) => refuse("a server is already listening there"),
        // Nobody accepts connections there: the file is stale, left by a server that died.
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
            std::fs::remove_file(path)?;
            UnixListener::bind(path)
        }
        // Its queue of connections is full: a stuck server is still a live one.
        Err(e) if e.kind() == ErrorKind::WouldBlock => {
            refuse("a server is alive there but not accepting connections")
        }
        Err(e) => refuse(&format!("cannot tell if a server is alive there ({e})")),
    }
}

/// Removes the socket file when dropped (the server's normal exit path).
#[cfg(unix)]
#[derive(Debug)]
pub struct SocketFile(pub PathBuf);

#[cfg(unix)]
impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
// ANCHOR_END: bind_unix

/// Connects to the Unix socket at `path` without ever waiting, and hangs up at once.
///
/// A Unix socket's connect completes (or fails) inside the call: the kernel puts the connection
/// straight into the listener's queue. When that queue is full, a blocking connect sleeps until
/// the server accepts someone, which a stuck server never does. A non-blocking one fails at
/// once instead, with `WouldBlock` (EAGAIN on Linux), so `bind_unix` can leave the path alone.
#[cfg(unix)]
fn connect_at_once(path: &Path) -> io::Result<()> {
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    socket.set_nonblocking(true)?;
    socket.connect(&socket2::SockAddr::unix(path)?)
}
