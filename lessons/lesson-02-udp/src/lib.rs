//! Lesson 2: UDP next to TCP.
//!
//! A UDP socket sends and receives *datagrams*: each `send_to` is one message, and each
//! `recv_from` returns one whole message (or as much of it as fits). There is no connection:
//! nobody answers "hello" before the first datagram leaves, and nobody tells the sender when a
//! datagram is lost. A TCP socket is a *stream*: a connection comes first, and then bytes flow,
//! in order, with no message boundaries at all.
//!
//! This crate holds the lesson's UDP echo server and client, and the small experiments the demo
//! narrates (each one a function, so the tests can check the same claims the book makes).

use std::fmt;
use std::io::{self, BufRead, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::thread;
use std::time::{Duration, Instant};

use course_cli::next_command;

pub mod demo;
pub mod exercises;

/// The address the lesson's server binds when none is given.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// How long the client waits for a reply before it calls the datagram lost.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(1000);

/// The largest payload a UDP datagram can carry over IPv4 is 65 507 bytes, so a buffer of
/// 64 KiB receives any datagram whole.
pub const MAX_DATAGRAM: usize = 65_536;

// ANCHOR: server
/// The UDP echo server: receive a datagram, send the same bytes back to whoever sent it.
///
/// There is no `accept` and no connection loop: one socket receives from every client, and
/// each datagram carries its sender's address. With `drop_every: Some(n)` the server ignores
/// every n-th datagram, so that a client on the same machine can see what loss looks like.
/// Nothing a client sends can end this loop.
pub fn serve(socket: &UdpSocket, drop_every: Option<u64>, log: &mut impl FnMut(String)) -> ! {
    // One buffer large enough for any datagram: a smaller one would silently cut long
    // messages short (see `truncate_datagram`).
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut count: u64 = 0;
    loop {
        let (n, peer) = match socket.recv_from(&mut buf) {
            // Unlike TCP's `read`, 0 bytes is not "end of stream": it is an empty datagram,
            // a message like any other. UDP has no stream to end.
            Ok(received) => received,
            // A signal interrupted the wait; nothing happened to the socket.
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            // Some systems report an earlier send's failure here (Windows: WSAECONNRESET when
            // a reply hit a closed port). That was one client's problem; keep serving.
            Err(e) => {
                log(format!("recv_from failed: {} (ignored)", e.kind()));
                continue;
            }
        };
        count += 1;
        let what = describe(&buf[..n]);
        if drop_every.is_some_and(|every| count.is_multiple_of(every)) {
            log(format!(
                "#{count} from {peer}: {what}, dropped (simulated loss)"
            ));
            continue;
        }
        // Logged before the reply leaves, so that whoever holds the reply knows this line exists.
        log(format!("#{count} from {peer}: {what}, echoing"));
        // One `send_to` sends one whole datagram (or fails): there is no partial send to
        // finish, unlike TCP's `write`.
        if let Err(e) = socket.send_to(&buf[..n], peer) {
            log(format!(
                "#{count}: send_to {peer} failed: {} (ignored)",
                e.kind()
            ));
        }
    }
}
// ANCHOR_END: server

/// A datagram as the logs show it: its size, and its text when it is short and printable.
pub fn describe(data: &[u8]) -> String {
    let bytes = if data.len() == 1 { "byte" } else { "bytes" };
    match std::str::from_utf8(data) {
        Ok(text) if data.len() <= 40 => format!("{} {bytes} {text:?}", data.len()),
        _ => format!("{} {bytes}", data.len()),
    }
}

// ANCHOR: warning
/// The warning the server prints when it listens anywhere but loopback, or `None` on loopback.
///
/// An echo server runs no commands, but it answers anyone, at the sender's address written in
/// the datagram. UDP does not check that address: a forged one turns the server into a tool that
/// sends datagrams to a third machine (or to another echo server, back and forth forever).
pub fn exposure_warning(addr: SocketAddr) -> Option<String> {
    if addr.ip().is_loopback() {
        return None;
    }
    Some(format!(
        "warning: listening on {addr}, which is not a loopback address: anyone who can reach \
         this address can make this server send datagrams, to any address they write as the \
         sender's. Use 127.0.0.1 unless you mean it."
    ))
}
// ANCHOR_END: warning

// ANCHOR: client_socket
/// The client's socket: bound to any local port, and *connected* to the server.
///
/// `connect` on a UDP socket sends nothing. It records the peer, so that `send` needs no
/// address, `recv` only accepts datagrams from that peer, and (on Linux and the BSDs) an
/// ICMP "port unreachable" coming back is reported as `ConnectionRefused` by the next call.
pub fn client_socket(server: SocketAddr) -> io::Result<UdpSocket> {
    let local: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse().unwrap()
    } else {
        "[::]:0".parse().unwrap()
    };
    let socket = UdpSocket::bind(local)?;
    socket.connect(server)?;
    Ok(socket)
}
// ANCHOR_END: client_socket

// ANCHOR: echo_once
/// Sends `message` and waits at most `timeout` for the next datagram from the server.
///
/// Returns the reply and the round-trip time, or `None` when nothing came back in time: a
/// lost datagram (ours or the reply) is not an error UDP can report, only a silence. Without
/// the timeout, `recv` would wait forever for a reply that will never come.
pub fn echo_once(
    socket: &UdpSocket,
    message: &[u8],
    timeout: Duration,
) -> io::Result<Option<(Vec<u8>, Duration)>> {
    // `set_read_timeout(Some(ZERO))` is an error: a zero timeout is not "don't wait".
    socket.set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
    let start = Instant::now();
    socket.send(message)?;
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        match socket.recv(&mut buf) {
            // Whatever arrives first is taken as the reply. A late reply to an earlier message
            // would be taken too: exercise 2.2 fixes that.
            Ok(n) => return Ok(Some((buf[..n].to_vec(), start.elapsed()))),
            // The timeout expired: Unix reports WouldBlock, Windows TimedOut.
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(None);
            }
            // A signal cut the wait short: wait again, for what is left of the timeout only.
            Err(e) if e.kind() == ErrorKind::Interrupted => {
                let left = timeout.saturating_sub(start.elapsed());
                if left.is_zero() {
                    return Ok(None);
                }
                socket.set_read_timeout(Some(left))?;
            }
            Err(e) => return Err(e),
        }
    }
}
// ANCHOR_END: echo_once

/// What a client session sent and got back, shown like `3 sent, 2 received, 33.3% loss`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub sent: u64,
    pub received: u64,
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lost = self.sent - self.received;
        let loss = if self.sent == 0 {
            0.0
        } else {
            100.0 * lost as f64 / self.sent as f64
        };
        write!(
            f,
            "{} sent, {} received, {loss:.1}% loss",
            self.sent, self.received
        )
    }
}

/// The client's loop: one line of input, one datagram, one reply (or one loss) reported.
///
/// Empty lines are skipped and `quit` or end of input ends the session, which prints the
/// tally. A refused datagram (nobody listening) is reported and counted as lost: the client
/// itself carries on, because UDP has no connection to lose.
pub fn client_session(
    socket: &UdpSocket,
    mut input: impl BufRead,
    out: &mut impl Write,
    prompt: bool,
    timeout: Duration,
) -> io::Result<Tally> {
    let mut tally = Tally::default();
    while let Some(message) = next_command(&mut input, out, prompt)? {
        tally.sent += 1;
        match echo_once(socket, message.as_bytes(), timeout) {
            Ok(Some((reply, rtt))) => {
                tally.received += 1;
                let reply = String::from_utf8_lossy(&reply);
                writeln!(
                    out,
                    "reply {reply:?} in {:.3} ms",
                    rtt.as_secs_f64() * 1000.0
                )?;
            }
            Ok(None) => writeln!(out, "lost: no reply within {} ms", timeout.as_millis())?,
            // The ICMP "port unreachable" for an earlier datagram, reported on a connected
            // socket: the server is not running, or not on that port.
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => {
                writeln!(out, "lost: {} (is the server running?)", e.kind())?;
            }
            Err(e) => return Err(e),
        }
    }
    writeln!(out, "{tally}")?;
    Ok(tally)
}

/// How long the experiments below wait for something that is bound to happen.
pub const WAIT: Duration = Duration::from_secs(5);

// ANCHOR: udp_datagrams
/// Sends each message as its own datagram, then receives them: one `recv_from` per datagram,
/// each returning exactly one message.
pub fn udp_datagrams(messages: &[&[u8]]) -> io::Result<Vec<Vec<u8>>> {
    let receiver = UdpSocket::bind("127.0.0.1:0")?;
    receiver.set_read_timeout(Some(WAIT))?;
    let sender = UdpSocket::bind("127.0.0.1:0")?;
    for message in messages {
        sender.send_to(message, receiver.local_addr()?)?;
    }
    // All three datagrams are waiting in the receive buffer by now, side by side. A buffer
    // much larger than all of them together still gets one datagram per call: the kernel
    // keeps each datagram separate and hands them out one at a time.
    let mut buf = [0u8; 1024];
    let mut received = Vec::new();
    for _ in messages {
        let (n, _from) = receiver.recv_from(&mut buf)?;
        received.push(buf[..n].to_vec());
    }
    Ok(received)
}
// ANCHOR_END: udp_datagrams

// ANCHOR: tcp_stream
/// Writes each message with its own `write_all` on a TCP connection, waits until all the bytes
/// have reached the receiver, and then reads once: that one read returns everything.
pub fn tcp_stream(messages: &[&[u8]]) -> io::Result<Vec<u8>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let mut writer = TcpStream::connect(listener.local_addr()?)?;
    let (mut reader, _peer) = listener.accept()?;
    // No Nagle: each write leaves at once as a segment of its own. The sender does not merge
    // them; what merges them is the receiver's buffer, which only holds bytes.
    writer.set_nodelay(true)?;
    for message in messages {
        writer.write_all(message)?;
    }
    let total = messages.iter().map(|m| m.len()).sum();
    wait_until_buffered(&reader, total, WAIT)?;
    let mut buf = [0u8; 1024];
    let n = reader.read(&mut buf)?;
    Ok(buf[..n].to_vec())
}
// ANCHOR_END: tcp_stream

// ANCHOR: wait_until_buffered
/// Waits (at most `limit`) until `total` bytes sit in the stream's receive buffer.
///
/// `peek` copies what is buffered without consuming it, so we can look until all the
/// bytes of the three writes are there. This is what makes the demo deterministic: we do not
/// hope that the reader is slow, we wait until it is "too late" for the boundaries.
pub fn wait_until_buffered(stream: &TcpStream, total: usize, limit: Duration) -> io::Result<()> {
    // A limit too long to add to the clock is a caller's mistake: say so, do not panic.
    let deadline = Instant::now()
        .checked_add(limit)
        .ok_or(ErrorKind::InvalidInput)?;
    stream.set_read_timeout(Some(limit))?;
    let mut buf = vec![0u8; total];
    loop {
        // `peek` blocks until at least one byte is there, then returns at once with whatever is.
        let seen = stream.peek(&mut buf)?;
        if seen == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        if seen >= total {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(ErrorKind::TimedOut.into());
        }
        // Some bytes are still on their way (they are, at most, microseconds behind): look
        // again shortly instead of spinning on a core.
        thread::sleep(Duration::from_millis(1));
    }
}
// ANCHOR_END: wait_until_buffered

/// A local address where nobody listens for UDP: bind port 0, note the port the OS chose,
/// and close the socket again.
pub fn unused_udp_addr() -> io::Result<SocketAddr> {
    UdpSocket::bind("127.0.0.1:0")?.local_addr()
    // The socket is dropped here, so the port is free (and, for a moment, surely unused).
}

/// The same for TCP. TCP and UDP ports are separate spaces: a free UDP port says nothing
/// about the TCP port with the same number.
pub fn unused_tcp_addr() -> io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

// ANCHOR: dead_port
/// What a socket heard after it sent a datagram.
#[derive(Debug, PartialEq, Eq)]
pub enum Heard {
    /// A datagram came back.
    Datagram(Vec<u8>),
    /// Nothing, and no error, within the wait.
    Nothing,
    /// The receive call failed: the system reported what became of our datagram.
    Error(ErrorKind),
}

/// Sends a datagram to `addr` with `send_to` from an unconnected socket, then listens for
/// `wait`. The send itself "succeeds" (`Ok(bytes sent)`) whether or not anyone listens:
/// it only means the datagram left.
pub fn send_to_unconnected(addr: SocketAddr, wait: Duration) -> io::Result<(usize, Heard)> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    let sent = socket.send_to(b"anyone there?", addr)?;
    let mut buf = [0u8; 1024];
    socket.set_read_timeout(Some(wait))?;
    let heard = hear(socket.recv_from(&mut buf).map(|(n, _)| buf[..n].to_vec()));
    Ok((sent, heard))
}

/// The same through a *connected* UDP socket: the system now knows which peer the socket
/// talks to, so it can attach the ICMP "port unreachable" that comes back to it, and the
/// next call reports `ConnectionRefused` (Linux, the BSDs, macOS).
pub fn send_connected(addr: SocketAddr, wait: Duration) -> io::Result<(usize, Heard)> {
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    socket.connect(addr)?;
    let sent = socket.send(b"anyone there?")?;
    let mut buf = [0u8; 1024];
    socket.set_read_timeout(Some(wait))?;
    let heard = hear(socket.recv(&mut buf).map(|n| buf[..n].to_vec()));
    Ok((sent, heard))
}

/// A TCP connect needs an answer before it returns: where nobody listens, the peer's system
/// answers the SYN with a reset, and `connect` fails at once with `ConnectionRefused`.
pub fn tcp_connect(addr: SocketAddr) -> io::Result<TcpStream> {
    TcpStream::connect_timeout(&addr, WAIT)
}
// ANCHOR_END: dead_port

/// A receive's result, as the demo reports it: a timeout is silence, not an error.
fn hear(received: io::Result<Vec<u8>>) -> Heard {
    match received {
        Ok(data) => Heard::Datagram(data),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Heard::Nothing,
        Err(e) => Heard::Error(e.kind()),
    }
}

// ANCHOR: truncation
/// Sends a `big`-byte datagram and then `small`, and receives both with a `buf_len`-byte
/// buffer. Returns the two receive results: the first is cut to `buf_len`, and the next call
/// returns `small`. The rest of the big datagram is gone for good.
pub fn truncate_datagram(
    big: usize,
    small: &[u8],
    buf_len: usize,
) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let receiver = UdpSocket::bind("127.0.0.1:0")?;
    receiver.set_read_timeout(Some(WAIT))?;
    let sender = UdpSocket::bind("127.0.0.1:0")?;
    sender.connect(receiver.local_addr()?)?;
    let pattern: Vec<u8> = (0..big).map(|i| b'a' + (i % 26) as u8).collect();
    sender.send(&pattern)?;
    sender.send(small)?;
    let mut buf = vec![0u8; buf_len];
    let first = recv_truncating(&receiver, &mut buf)?;
    let first = buf[..first].to_vec();
    let second = recv_truncating(&receiver, &mut buf)?;
    Ok((first, buf[..second].to_vec()))
}
// ANCHOR_END: truncation

// ANCHOR: recv_truncating
/// `recv` that treats a truncated datagram the same way on every system.
///
/// Unix returns the bytes that fit, as a success. Windows fills the buffer the same way but
/// reports WSAEMSGSIZE (error 10040) instead of the length: the data is there, the rest is
/// gone either way, so we return the buffer's length.
pub fn recv_truncating(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<usize> {
    match socket.recv(buf) {
        #[cfg(windows)]
        Err(e) if e.raw_os_error() == Some(10040) => Ok(buf.len()),
        other => other,
    }
}
// ANCHOR_END: recv_truncating
