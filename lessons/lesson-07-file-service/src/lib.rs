//! Lesson 7: a small file service.
//!
//! The classic tutorial ends with an FTP-like service: the client asks for a file with `get` or
//! sends one with `post`, a JSON header describes the file, the bytes follow, and an MD5 digest
//! says whether they arrived intact. This lesson keeps that shape and fixes what the original got
//! wrong:
//!
//! - every header is framed by a 4-byte big-endian length (lesson 6's header), not "300 bytes,
//!   padded", so a header can never run into the file's bytes;
//! - the body is streamed through fixed buffers, never held in memory whole, and hashed on the
//!   way, so a verified transfer needs no second pass over the data: the digest travels in a
//!   *trailer* header after the body;
//! - the receiver writes into a temporary file beside the final one and renames it into place
//!   only once the digest matches, so a broken or corrupted transfer leaves nothing behind;
//! - a name from the network is a name, never a path: [`resolve`] confines it to one folder.
//!
//! The modules: this file holds the wire format and the name rules both sides share;
//! [`server`] and [`client`] are the two programs; [`original`] replays the original's header
//! bug; [`demo`] is the narrated session.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};

pub mod client;
pub mod demo;
pub mod exercises;
pub mod original;
pub mod server;

/// The address the server binds when none is given: loopback, so only programs on this machine
/// can read or write its files.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// The folder the server serves when `--root` is not given, created under the current directory.
pub const DEFAULT_ROOT: &str = "lesson-07-files";

/// The largest header either side accepts (64 KiB): a length above it is refused before a byte
/// of the header is allocated.
pub const DEFAULT_MAX_HEADER: usize = 64 * 1024;

/// The largest reply header the client accepts (16 MiB): larger than a request may be, because
/// an `ls` of a folder of many files is a single header.
pub const DEFAULT_MAX_REPLY: usize = 16 * 1024 * 1024;

/// The largest file either side accepts (4 GiB) unless told otherwise.
pub const DEFAULT_MAX_FILE: u64 = 4 * 1024 * 1024 * 1024;

/// The size of the one buffer a body passes through, on both sides.
pub const BUFFER_SIZE: usize = 128 * 1024;

/// The longest name, in bytes of UTF-8: what most file systems allow for one name.
pub const MAX_NAME: usize = 255;

/// The longest refusal text, in bytes: a reply to a huge request is not huge itself.
pub const MAX_REFUSAL: usize = 1024;

/// How many characters of a name or command a message shows (see [`quoted`]).
const QUOTED_CHARS: usize = 64;

/// `text` in quotes and escaped, as `{:?}` writes it, for a message about something a client
/// sent: at most 64 characters of it, then `…` and its length. A reply that echoed a 60 KB name
/// whole, each odd character escaped into several, would be several times the request's size.
pub fn quoted(text: &str) -> String {
    let mut shown = String::new();
    let mut chars = 0;
    for (at, c) in text.char_indices() {
        // One character, escaped as it would be inside the whole string's `{:?}`.
        let escaped = format!("{:?}", &text[at..at + c.len_utf8()]);
        let escaped = &escaped[1..escaped.len() - 1];
        chars += escaped.chars().count();
        if chars > QUOTED_CHARS {
            return format!("\"{shown}\"… ({} bytes)", text.len());
        }
        shown.push_str(escaped);
    }
    format!("\"{shown}\"")
}

// ---- Headers ----

// ANCHOR: header_struct
/// Every header on the wire is one JSON object of these fields; each message uses some of them
/// (the protocol page lists which). Fields a message does not use are left out of the JSON.
///
/// As in the original, a header with an `error` is a refusal: the request failed, and no body
/// follows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// In a request: what to do (`get`, `put`, `ls`; `post` is accepted for `put`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The file's name: one name inside the server's folder, never a path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The body's length in bytes: exactly this many raw bytes follow the header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The MD5 digest of the body, as 32 lowercase hex digits: sent in the trailer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    /// Why a request failed. A reply with an error has no body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The reply to `ls`: the names in the server's folder, sorted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<String>>,
    /// Exercise 7.5's resumed `get`: where in the file the body starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}
// ANCHOR_END: header_struct

impl Header {
    /// A request: `{"command": command, "name": name}`.
    pub fn request(command: &str, name: Option<&str>) -> Header {
        Header {
            command: Some(command.to_string()),
            name: name.map(str::to_string),
            ..Header::default()
        }
    }

    /// A refusal: `{"error": text}`, the text cut to [`MAX_REFUSAL`] bytes.
    pub fn refusal(text: impl Into<String>) -> Header {
        let mut text = text.into();
        // The texts quote what the client sent only through `quoted`, which keeps 64 characters
        // of it; this is the backstop for a text that quotes it some other way (a JSON parser's
        // error message), so that a refusal is never much larger than the request behind it.
        if text.len() > MAX_REFUSAL {
            let mut end = MAX_REFUSAL;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            text.push('…');
        }
        Header {
            error: Some(text),
            ..Header::default()
        }
    }

    /// The trailer after a body: `{"md5": digest}`.
    pub fn trailer(md5: String) -> Header {
        Header {
            md5: Some(md5),
            ..Header::default()
        }
    }

    /// A file's description: `{"name": name, "size": size}`.
    pub fn file(name: &str, size: u64) -> Header {
        Header {
            name: Some(name.to_string()),
            size: Some(size),
            ..Header::default()
        }
    }
}

// ANCHOR: write_header
/// Sends one header: its JSON's length as 4 bytes, big-endian, then the JSON, in one write.
pub fn write_header(conn: &mut impl Write, header: &Header) -> io::Result<()> {
    let json = serde_json::to_vec(header)?;
    let length = u32::try_from(json.len())
        .map_err(|_| io::Error::new(ErrorKind::InvalidInput, "a header over 4 GiB"))?;
    // One buffer, one write: a 4-byte write followed by another small one can wait for a
    // delayed acknowledgement (lesson 6's benchmark measured 40 ms a time).
    let mut frame = Vec::with_capacity(4 + json.len());
    frame.extend_from_slice(&length.to_be_bytes());
    frame.extend_from_slice(&json);
    conn.write_all(&frame)
}
// ANCHOR_END: write_header

// ANCHOR: read_header
/// Receives one header, or `None` if the connection closed cleanly before its first byte (the
/// peer is done). A length above `max` is refused before anything is allocated.
///
/// An error of kind `InvalidData` means the frame was read whole but its JSON is not a header:
/// the stream is still in step, and the connection can go on.
pub fn read_header(conn: &mut impl Read, max: usize) -> io::Result<Option<Header>> {
    let mut length = [0u8; 4];
    // The first byte on its own: 0 bytes here is a clean end, anywhere later it is a cut.
    if read_some(conn, &mut length[..1])? == 0 {
        return Ok(None);
    }
    conn.read_exact(&mut length[1..])
        .map_err(cut("a header's length"))?;
    let length = u32::from_be_bytes(length) as usize;
    if length > max {
        // The stream cannot be trusted after this (we will not skip that many bytes), so this
        // is not InvalidData: the caller closes the connection.
        return Err(io::Error::other(format!(
            "a header of {length} bytes is over the limit of {max}"
        )));
    }
    let mut json = vec![0u8; length];
    conn.read_exact(&mut json).map_err(cut("a header"))?;
    // serde would also fill the struct from a JSON array, by position; the protocol says a
    // header is an object, so look at its first character before parsing.
    if json.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(io::Error::new(
            ErrorKind::InvalidData,
            "a header that is not a JSON object",
        ));
    }
    serde_json::from_slice(&json).map(Some).map_err(|e| {
        io::Error::new(
            ErrorKind::InvalidData,
            format!("a header that is not a JSON object of known fields: {e}"),
        )
    })
}
// ANCHOR_END: read_header

/// The error for a body that ended after `got` of its `size` bytes.
fn cut_short(got: u64, size: u64) -> io::Error {
    io::Error::new(
        ErrorKind::UnexpectedEof,
        format!("the connection closed after {got} of {size} bytes"),
    )
}

/// Turns "end of stream" into an error that says where the stream ended.
fn cut(what: &'static str) -> impl Fn(io::Error) -> io::Error {
    move |e| match e.kind() {
        ErrorKind::UnexpectedEof => io::Error::new(
            ErrorKind::UnexpectedEof,
            format!("the connection closed in the middle of {what}"),
        ),
        _ => e,
    }
}

// ---- Bodies ----

// ANCHOR: read_some
/// One `read`, tried again if a signal interrupted it: `Interrupted` means no byte was
/// delivered and none was lost (chapter 6's rule). `read_exact` and `io::copy` retry on their
/// own; a loop that calls `read` itself must do it too.
pub fn read_some(from: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    loop {
        match from.read(buffer) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            result => return result,
        }
    }
}
// ANCHOR_END: read_some

/// The MD5 digest as the protocol writes it: 32 lowercase hex digits, as `md5sum` prints it.
pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

// ANCHOR: send_body
/// Sends exactly `size` bytes of `file` through one buffer, hashing them on the way, and
/// returns their MD5 for the trailer: one pass over the data. `progress` hears of every chunk.
///
/// A file that ends before `size` bytes is an error: the receiver was promised `size` bytes,
/// and the only honest thing left is to close the connection.
pub fn send_body(
    file: &mut impl Read,
    conn: &mut impl Write,
    size: u64,
    progress: &mut dyn FnMut(u64),
) -> io::Result<String> {
    let mut buffer = vec![0u8; BUFFER_SIZE];
    let mut md5 = Md5::new();
    let mut remaining = size;
    while remaining > 0 {
        let want = remaining.min(BUFFER_SIZE as u64) as usize;
        let n = read_some(file, &mut buffer[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                ErrorKind::UnexpectedEof,
                format!("the file ended {remaining} bytes early: it shrank while being sent"),
            ));
        }
        md5.update(&buffer[..n]);
        // write_all, not write: one `write` may take only part of the buffer (the original's
        // `send` instead of `sendall`).
        conn.write_all(&buffer[..n])?;
        remaining -= n as u64;
        progress(n as u64);
    }
    Ok(hex(&md5.finalize()))
}
// ANCHOR_END: send_body

/// What [`receive_body`] got: the digest of the bytes that arrived, and, if writing them out
/// failed part way, why (the body was still read to its end, so the connection is in step).
#[derive(Debug)]
pub struct Received {
    /// MD5 of the `size` bytes read from the connection.
    pub md5: String,
    /// The first error from the output, if any; bytes after it were read and dropped.
    pub write_error: Option<io::Error>,
}

// ANCHOR: receive_body
/// Receives exactly `size` bytes into `out` through one buffer, hashing them on the way.
///
/// Each read asks for at most what remains, so not a byte of the trailer is taken (lesson 6's
/// rule). If `out` fails (a full disk), the rest of the body is still read and hashed, so the
/// connection stays in step and the peer gets a proper refusal.
pub fn receive_body(
    conn: &mut impl Read,
    out: &mut impl Write,
    size: u64,
    progress: &mut dyn FnMut(u64),
) -> io::Result<Received> {
    let mut buffer = vec![0u8; BUFFER_SIZE];
    let mut md5 = Md5::new();
    let mut write_error = None;
    let mut remaining = size;
    while remaining > 0 {
        let want = remaining.min(BUFFER_SIZE as u64) as usize;
        let n = read_some(conn, &mut buffer[..want])?;
        if n == 0 {
            // 0 means the peer closed: the body is incomplete, and nothing will be saved.
            return Err(cut_short(size - remaining, size));
        }
        md5.update(&buffer[..n]);
        if write_error.is_none()
            && let Err(e) = out.write_all(&buffer[..n])
        {
            write_error = Some(e);
        }
        remaining -= n as u64;
        progress(n as u64);
    }
    Ok(Received {
        md5: hex(&md5.finalize()),
        write_error,
    })
}
// ANCHOR_END: receive_body

/// [`send_body`] for a file and a socket, with the hashing on a second thread: see
/// [`send_file_on`]. The server's `get` and the client's `put` send this way.
pub fn send_file(
    file: &File,
    conn: &TcpStream,
    size: u64,
    progress: &mut dyn FnMut(u64),
) -> io::Result<String> {
    let hasher = thread::Builder::new().name("hasher".into());
    send_file_on(hasher, file, conn, size, progress)
}

// ANCHOR: send_file
/// Sends exactly `size` bytes of `file`, from its start, and returns their MD5, with the
/// hashing on a second thread, which `hasher` makes.
///
/// Each thread reads the file at its own offsets: the hasher reads every byte into its buffer,
/// and this thread has the kernel send them ([`copy_file`]), so the two overlap. The digest is
/// of the bytes the hasher read: if the file changes during the transfer, the bytes sent can
/// differ, and the receiver, which hashes what it gets, reports the file damaged (a false
/// alarm, never a damaged file accepted).
pub fn send_file_on(
    hasher: thread::Builder,
    file: &File,
    conn: &TcpStream,
    size: u64,
    progress: &mut dyn FnMut(u64),
) -> io::Result<String> {
    let stop = AtomicBool::new(false);
    thread::scope(|scope| {
        let Ok(hashing) = hasher.spawn_scoped(scope, || hash_file(file, size, &stop)) else {
            // No second thread (no memory for its stack): hash on this one, as `send_body` does.
            return send_body(&mut FromStart::new(file), &mut &*conn, size, progress);
        };
        let sent = copy_file(file, conn, size, progress);
        // A send that failed ends the transfer: the hasher need not read on.
        stop.store(sent.is_err(), Ordering::Relaxed);
        let md5 = hashing
            .join()
            .map_err(|_| io::Error::other("the hashing thread panicked"));
        sent.and(md5?)
    })
}
// ANCHOR_END: send_file

/// A connection that a whole file can be sent on: a `TcpStream` uses [`send_file`], any other
/// stream [`send_body`] (the client's `put` works on either).
pub trait Connection: Read + Write + Sized {
    /// Sends exactly `size` bytes of `file`, from its start, and returns their MD5.
    fn send_file(
        &mut self,
        file: &File,
        size: u64,
        progress: &mut dyn FnMut(u64),
    ) -> io::Result<String> {
        send_body(&mut FromStart::new(file), self, size, progress)
    }
}

impl Connection for TcpStream {
    fn send_file(
        &mut self,
        file: &File,
        size: u64,
        progress: &mut dyn FnMut(u64),
    ) -> io::Result<String> {
        send_file(file, self, size, progress)
    }
}

/// The MD5 of the first `size` bytes of `file`, read through one buffer at explicit offsets, so
/// that the sender's reads, at theirs, are not disturbed. Gives up when `stop` is set.
fn hash_file(file: &File, size: u64, stop: &AtomicBool) -> io::Result<String> {
    let mut buffer = vec![0u8; BUFFER_SIZE];
    let mut md5 = Md5::new();
    let mut done = 0;
    while done < size {
        if stop.load(Ordering::Relaxed) {
            return Err(io::Error::other("the transfer stopped"));
        }
        let want = (size - done).min(BUFFER_SIZE as u64) as usize;
        let n = read_at(file, &mut buffer[..want], done)?;
        if n == 0 {
            return Err(shrank(size - done));
        }
        md5.update(&buffer[..n]);
        done += n as u64;
    }
    Ok(hex(&md5.finalize()))
}

// ANCHOR: copy_file
/// Sends exactly `size` bytes of `file`, from its start, to `conn`, with no hashing.
///
/// On Linux, `sendfile` asks the kernel to send straight from the file's pages in the page
/// cache: nothing is copied into this program and back out. Elsewhere, or if the kernel says
/// the file cannot be sent that way, the bytes go through one buffer.
pub fn copy_file(
    file: &File,
    conn: &TcpStream,
    size: u64,
    progress: &mut dyn FnMut(u64),
) -> io::Result<()> {
    let mut sent = 0;
    #[cfg(target_os = "linux")]
    while sent < size {
        use std::os::fd::AsRawFd;
        let chunk = (size - sent).min(SEND_CHUNK) as usize;
        // An offset past what `off_t` holds (a 32-bit system): the loop below does the rest.
        let Ok(mut offset) = libc::off_t::try_from(sent) else {
            break;
        };
        // SAFETY: two open descriptors, and a pointer to a local that outlives the call.
        let n = unsafe { libc::sendfile(conn.as_raw_fd(), file.as_raw_fd(), &mut offset, chunk) };
        match n {
            -1 => match io::Error::last_os_error() {
                e if e.kind() == ErrorKind::Interrupted => continue,
                // A file system that cannot do it: the loop below does the rest.
                e if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => break,
                e => return Err(e),
            },
            0 => return Err(shrank(size - sent)),
            n => {
                sent += n as u64;
                progress(n as u64);
            }
        }
    }
    let mut buffer = Vec::new();
    while sent < size {
        buffer.resize(BUFFER_SIZE, 0);
        let want = (size - sent).min(BUFFER_SIZE as u64) as usize;
        let n = read_at(file, &mut buffer[..want], sent)?;
        if n == 0 {
            return Err(shrank(size - sent));
        }
        (&mut &*conn).write_all(&buffer[..n])?;
        sent += n as u64;
        progress(n as u64);
    }
    Ok(())
}
// ANCHOR_END: copy_file

/// How much one `sendfile` call is asked to send: progress is reported between calls.
#[cfg(target_os = "linux")]
const SEND_CHUNK: u64 = 1024 * 1024;

/// One read of `file` at `offset`, tried again if a signal interrupted it. On Unix it leaves the
/// file's own position alone (Windows moves it, which is harmless: every read here says where).
fn read_at(file: &File, buffer: &mut [u8], offset: u64) -> io::Result<usize> {
    loop {
        #[cfg(unix)]
        let read = std::os::unix::fs::FileExt::read_at(file, buffer, offset);
        #[cfg(windows)]
        let read = std::os::windows::fs::FileExt::seek_read(file, buffer, offset);
        match read {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            result => return result,
        }
    }
}

/// A file read from its start, whatever its own position: each read is at an explicit offset.
struct FromStart<'a> {
    file: &'a File,
    offset: u64,
}

impl<'a> FromStart<'a> {
    fn new(file: &'a File) -> FromStart<'a> {
        FromStart { file, offset: 0 }
    }
}

impl Read for FromStart<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let n = read_at(self.file, buffer, self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }
}

/// The error for a file that ended `missing` bytes before the size that was announced.
fn shrank(missing: u64) -> io::Error {
    io::Error::new(
        ErrorKind::UnexpectedEof,
        format!("the file ended {missing} bytes early: it shrank while being sent"),
    )
}

/// [`receive_body`], with the hashing on a second thread: see [`receive_body_hashing_on`].
pub fn receive_body_hashing_beside(
    conn: &mut impl Read,
    out: &mut impl Write,
    size: u64,
    progress: &mut dyn FnMut(u64),
) -> io::Result<Received> {
    let hasher = thread::Builder::new().name("hasher".into());
    receive_body_hashing_on(hasher, conn, out, size, progress)
}

// ANCHOR: receive_beside
/// [`receive_body`], with the hashing on a second thread, which `hasher` makes.
///
/// Hashing is the slowest step, and MD5 cannot be split across cores, but it can run *beside*
/// the copying: this thread moves bytes from the socket to the file, a second one hashes them.
/// Four buffers of 128 KiB go round between the two, so memory stays fixed. Both receivers use
/// it, the client's `get` and the server's `put`. See the chapter's benchmark.
pub fn receive_body_hashing_on(
    hasher: thread::Builder,
    conn: &mut impl Read,
    out: &mut impl Write,
    size: u64,
    progress: &mut dyn FnMut(u64),
) -> io::Result<Received> {
    const BUFFERS: usize = 4;
    let (full_tx, full_rx) = mpsc::sync_channel::<(Vec<u8>, usize)>(BUFFERS);
    let (empty_tx, empty_rx) = mpsc::sync_channel::<Vec<u8>>(BUFFERS);
    for _ in 0..BUFFERS {
        empty_tx
            .send(vec![0u8; BUFFER_SIZE])
            .expect("room for every buffer");
    }
    thread::scope(|scope| {
        let hashing = hasher.spawn_scoped(scope, move || {
            let mut md5 = Md5::new();
            for (buffer, n) in full_rx {
                md5.update(&buffer[..n]);
                let _ = empty_tx.send(buffer); // back for another read
            }
            hex(&md5.finalize())
        });
        // A thread that cannot start (no memory for its stack, too many threads) is no reason
        // to fail a transfer: hash on this thread instead.
        let Ok(hashing) = hashing else {
            return receive_body(conn, out, size, progress);
        };
        let copied = copy_body(conn, out, size, progress, &full_tx, &empty_rx);
        drop(full_tx); // the hasher's loop ends when the last chunk is hashed
        let md5 = hashing
            .join()
            .map_err(|_| io::Error::other("the hashing thread panicked"))?;
        copied.map(|write_error| Received { md5, write_error })
    })
}
// ANCHOR_END: receive_beside

// ANCHOR: copy_body
/// The copying half of [`receive_body_hashing_beside`]: socket to `out`, each buffer then
/// handed to the hasher.
fn copy_body(
    conn: &mut impl Read,
    out: &mut impl Write,
    size: u64,
    progress: &mut dyn FnMut(u64),
    to_hash: &mpsc::SyncSender<(Vec<u8>, usize)>,
    empty: &mpsc::Receiver<Vec<u8>>,
) -> io::Result<Option<io::Error>> {
    let mut write_error = None;
    let mut remaining = size;
    while remaining > 0 {
        let mut buffer = empty
            .recv()
            .map_err(|_| io::Error::other("the hasher stopped"))?;
        // A whole buffer, as far as the body goes: fewer, larger writes and hand-overs.
        let want = remaining.min(buffer.len() as u64) as usize;
        let mut n = 0;
        while n < want {
            match read_some(conn, &mut buffer[n..want])? {
                // 0 means the peer closed: the body is incomplete, and nothing will be saved.
                0 => return Err(cut_short(size - remaining + n as u64, size)),
                got => n += got,
            }
        }
        if write_error.is_none()
            && let Err(e) = out.write_all(&buffer[..n])
        {
            write_error = Some(e);
        }
        to_hash
            .send((buffer, n))
            .map_err(|_| io::Error::other("the hasher stopped"))?;
        remaining -= n as u64;
        progress(n as u64);
    }
    Ok(write_error)
}
// ANCHOR_END: copy_body

// ---- Names ----

/// Why a name was refused: said to whoever sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadName(pub String);

impl fmt::Display for BadName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadName {}

// ANCHOR: check_name
/// Checks that `name` is one plain file name: something that can only mean a file directly in
/// the folder being served, whatever the operating system.
pub fn check_name(name: &str) -> Result<(), BadName> {
    let refuse = |why: &str| Err(BadName(format!("refused the name {}: {why}", quoted(name))));
    if name.is_empty() {
        return refuse("it is empty");
    }
    if name.len() > MAX_NAME {
        return refuse("it is longer than 255 bytes");
    }
    if name.contains('\0') {
        // The OS would end the name at the NUL: "a.txt\0.png" would open "a.txt".
        return refuse("it contains a NUL byte");
    }
    if name.chars().any(char::is_control) {
        return refuse("it contains a control character");
    }
    if name.contains('/') || name.contains('\\') {
        // '\' is a separator on Windows; refusing it everywhere keeps one rule for all.
        return refuse(
            "it contains a path separator (a slash or a backslash); names are not paths",
        );
    }
    if name.len() >= 2 && name.as_bytes()[1] == b':' && name.as_bytes()[0].is_ascii_alphabetic() {
        return refuse("it starts with a drive prefix");
    }
    if name.starts_with('.') {
        // "." and ".." are the folder and its parent; other dot names are hidden files and
        // the server's own temporary files.
        return refuse("it starts with '.'");
    }
    // What is left can only be one normal component; say so in the language of std::path too.
    match Path::new(name).components().collect::<Vec<_>>()[..] {
        [Component::Normal(_)] => Ok(()),
        _ => refuse("it is not a single file name"),
    }
}
// ANCHOR_END: check_name

// ANCHOR: resolve
/// The path that `name` stands for inside `root`, or why it may not be used.
///
/// The name must pass [`check_name`]. If something already exists there, it must be a regular
/// file, or a symbolic link whose target (followed all the way) is a regular file inside
/// `root`: a link that leads out of the folder is refused like `../x` would be.
pub fn resolve(root: &Path, name: &str) -> Result<PathBuf, BadName> {
    check_name(name)?;
    let path = root.join(name);
    let refuse = |why: String| Err(BadName(format!("refused the name {}: {why}", quoted(name))));
    match fs::symlink_metadata(&path) {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(path), // a new file: fine
        Err(e) => refuse(format!("cannot look at it: {e}")),
        Ok(meta) if meta.file_type().is_symlink() => {
            // The OS follows the link all the way; its error says why it could not.
            let (target, root) = match (fs::canonicalize(&path), fs::canonicalize(root)) {
                (Ok(target), Ok(root)) => (target, root),
                (Err(e), _) if is_loop(&e) => {
                    return refuse("it is a loop of symbolic links".into());
                }
                (Err(e), _) if e.kind() == ErrorKind::NotFound => {
                    return refuse("it is a link to nothing".into());
                }
                (Err(e), _) => return refuse(format!("cannot follow its link: {e}")),
                (_, Err(e)) => return refuse(format!("cannot look at the folder: {e}")),
            };
            if !target.starts_with(&root) {
                return refuse("it is a symbolic link that leads outside the folder".into());
            }
            match fs::metadata(&target) {
                Ok(meta) if meta.is_file() => Ok(path),
                Ok(meta) => refuse(format!(
                    "it is a link to something that is not a regular file ({})",
                    kind_of(&meta)
                )),
                Err(e) => refuse(format!("cannot follow its link: {e}")),
            }
        }
        Ok(meta) if !meta.is_file() => {
            refuse(format!("it is not a regular file ({})", kind_of(&meta)))
        }
        Ok(_) => Ok(path),
    }
}
// ANCHOR_END: resolve

/// Whether `e` is the OS saying "too many levels of symbolic links" (ELOOP): a loop.
fn is_loop(e: &io::Error) -> bool {
    #[cfg(unix)]
    let code = Some(libc::ELOOP);
    #[cfg(not(unix))]
    let code = None;
    code.is_some() && e.raw_os_error() == code
}

/// What something that is not a regular file is, for a refusal: `a directory`, `a FIFO`, ….
fn kind_of(meta: &fs::Metadata) -> &'static str {
    let kind = meta.file_type();
    if kind.is_dir() {
        "a directory"
    } else {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            if kind.is_fifo() {
                "a FIFO"
            } else if kind.is_socket() {
                "a socket"
            } else if kind.is_char_device() {
                "a character device"
            } else if kind.is_block_device() {
                "a block device"
            } else {
                "of an unknown type"
            }
        }
        #[cfg(not(unix))]
        "of an unknown type"
    }
}

// ANCHOR: temp_file
/// A new, empty temporary file in `dir`, for a file on its way in: `.XXXXXX.part`.
///
/// In the same folder as the final file, so that renaming it into place never crosses file
/// systems (a rename within one is atomic); a dot name, so no client can ask for it; and not
/// built from the file's name, so a 255-byte name still has room. Dropped without `persist`, it
/// deletes itself.
pub fn temp_file_in(dir: &Path) -> io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".").rand_bytes(6).suffix(".part");
    // tempfile's default is 0600 (private). A received file should get the permissions any new
    // file gets here: 0666 less the umask, as `open` would give it.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    builder.tempfile_in(dir)
}
// ANCHOR_END: temp_file

/// Whether `name` is one that [`temp_file_in`] makes: `.`, six ASCII letters or digits,
/// `.part`. The server deletes such files at start (a killed server leaves them behind), so
/// this must never match a name that something else makes: no client can send a name that
/// starts with `.`, and exercise 7.5's `NAME.part` does not.
pub fn is_temp_name(name: &str) -> bool {
    name.strip_prefix('.')
        .and_then(|rest| rest.strip_suffix(".part"))
        .is_some_and(|random| {
            random.len() == 6 && random.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// The names in `root` that [`resolve`] would serve, sorted: what `ls` shows.
pub fn list(root: &Path) -> io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(root)? {
        let entry = entry?;
        // A name that is not UTF-8 cannot be asked for in a JSON string: leave it out.
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if resolve(root, &name).is_ok() {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_and_leave_out_unused_fields() {
        let mut wire = Vec::new();
        write_header(&mut wire, &Header::file("a b.txt", 3)).unwrap();
        let json = br#"{"name":"a b.txt","size":3}"#;
        assert_eq!(&wire[..4], &(json.len() as u32).to_be_bytes());
        assert_eq!(&wire[4..], json);
        let back = read_header(&mut &wire[..], 1024).unwrap().unwrap();
        assert_eq!(back, Header::file("a b.txt", 3));
    }

    #[test]
    fn a_clean_end_is_none_and_a_cut_is_an_error() {
        assert!(read_header(&mut &b""[..], 1024).unwrap().is_none());
        let e = read_header(&mut &[0u8, 0][..], 1024).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedEof);
        let e = read_header(&mut &[0u8, 0, 0, 9, b'{'][..], 1024).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedEof);
    }

    #[test]
    fn an_oversized_length_is_refused_before_reading_it() {
        let e = read_header(&mut &[0u8, 1, 0, 1][..], 1024).unwrap_err();
        assert!(e.to_string().contains("65537 bytes"), "{e}");
    }

    #[test]
    fn bad_json_is_invalid_data() {
        for json in [
            &b"[]"[..],
            br#"["get","a.txt"]"#,
            b"nope",
            br#"{"size":"big"}"#,
        ] {
            let mut frame = (json.len() as u32).to_be_bytes().to_vec();
            frame.extend_from_slice(json);
            let e = read_header(&mut &frame[..], 1024).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidData, "{json:?}");
        }
    }

    #[test]
    fn bodies_are_hashed_on_the_way() {
        let data: Vec<u8> = (0..=255).collect();
        let mut wire = Vec::new();
        let sent = send_body(&mut &data[..], &mut wire, 256, &mut |_| {}).unwrap();
        let mut out = Vec::new();
        let got = receive_body(&mut &wire[..], &mut out, 256, &mut |_| {}).unwrap();
        assert_eq!(out, data);
        assert_eq!(sent, got.md5);
        // md5sum of the bytes 0..=255
        assert_eq!(sent, "e2c865db4162bed963bfaa9ef6ac18f0");
    }

    #[test]
    fn both_receivers_agree_and_stop_at_the_body_end() {
        let data: Vec<u8> = (0..3 * BUFFER_SIZE + 7).map(|i| (i % 251) as u8).collect();
        let mut wire = data.clone();
        wire.extend_from_slice(b"TRAILER");
        let mut conn = &wire[..];
        let mut out = Vec::new();
        let got = receive_body_hashing_beside(&mut conn, &mut out, data.len() as u64, &mut |_| {})
            .unwrap();
        assert_eq!(out, data);
        assert_eq!(conn, b"TRAILER");
        let mut plain = Vec::new();
        let expected = receive_body(&mut &data[..], &mut plain, data.len() as u64, &mut |_| {});
        assert_eq!(got.md5, expected.unwrap().md5);
        let e = receive_body_hashing_beside(&mut &data[..10], &mut Vec::new(), 11, &mut |_| {});
        assert_eq!(e.unwrap_err().kind(), ErrorKind::UnexpectedEof);
    }

    /// A connected pair of loopback sockets, both with timeouts, so that no test can hang.
    fn socket_pair() -> (TcpStream, TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let near = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (far, _) = listener.accept().unwrap();
        for conn in [&near, &far] {
            conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .unwrap();
            conn.set_write_timeout(Some(std::time::Duration::from_secs(10)))
                .unwrap();
        }
        (near, far)
    }

    /// A file holding `data`, and `data`'s MD5.
    fn file_of(data: &[u8]) -> (tempfile::NamedTempFile, String) {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(data).unwrap();
        (file, hex(&Md5::digest(data)))
    }

    /// Sends `size` bytes of `file` with `send_file_on` and returns its result and what arrived.
    fn send_over_socket(
        hasher: thread::Builder,
        file: &File,
        size: u64,
    ) -> (io::Result<String>, Vec<u8>) {
        let (near, far) = socket_pair();
        let reading = thread::spawn(move || {
            let mut got = Vec::new();
            (&far).read_to_end(&mut got).map(|_| got)
        });
        let mut reported = 0;
        let sent = send_file_on(hasher, file, &near, size, &mut |n| reported += n);
        drop(near); // the end of the stream for the reader
        let got = reading.join().unwrap().unwrap();
        if sent.is_ok() {
            assert_eq!(reported, size, "progress heard of every byte");
        }
        (sent, got)
    }

    #[test]
    fn send_file_sends_the_bytes_and_their_digest_with_or_without_a_second_thread() {
        let data: Vec<u8> = (0..3 * BUFFER_SIZE + 7).map(|i| (i % 251) as u8).collect();
        let (file, md5) = file_of(&data);
        let size = data.len() as u64;
        let (sent, got) = send_over_socket(thread::Builder::new(), file.as_file(), size);
        assert_eq!((sent.unwrap(), got == data), (md5.clone(), true));
        // A hasher that cannot start (a stack no machine has): the bytes are hashed on the
        // sending thread, and nothing else changes.
        let impossible = thread::Builder::new().stack_size(1 << 62);
        assert!(
            thread::Builder::new()
                .stack_size(1 << 62)
                .spawn(|| {})
                .is_err()
        );
        let (sent, got) = send_over_socket(impossible, file.as_file(), size);
        assert_eq!((sent.unwrap(), got == data), (md5, true));
    }

    #[test]
    fn send_file_fails_cleanly_when_the_file_is_shorter_than_announced() {
        let data = vec![7u8; 1000];
        let (file, _) = file_of(&data);
        let (sent, got) = send_over_socket(thread::Builder::new(), file.as_file(), 2000);
        let e = sent.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedEof, "{e}");
        assert!(e.to_string().contains("1000 bytes early"), "{e}");
        assert_eq!(
            got, data,
            "the bytes that exist were sent, and nothing else"
        );
    }

    #[test]
    fn receive_stops_at_the_body_end() {
        let mut conn = &b"abcdeTRAILER"[..];
        let mut out = Vec::new();
        receive_body(&mut conn, &mut out, 5, &mut |_| {}).unwrap();
        assert_eq!(out, b"abcde");
        assert_eq!(conn, b"TRAILER");
    }

    /// A reader whose every other call fails with `Interrupted`, as a read cut short by a
    /// signal handler does (EINTR), before it hands out the next bytes.
    struct Interrupting<R> {
        inner: R,
        interrupt: bool,
    }

    impl<R: Read> Read for Interrupting<R> {
        fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(io::Error::from(ErrorKind::Interrupted));
            }
            self.inner.read(buffer)
        }
    }

    fn interrupting(bytes: &[u8]) -> Interrupting<&[u8]> {
        Interrupting {
            inner: bytes,
            interrupt: false,
        }
    }

    #[test]
    fn an_interrupted_read_is_tried_again_everywhere() {
        let data: Vec<u8> = (0..2 * BUFFER_SIZE + 3).map(|i| (i % 251) as u8).collect();
        let size = data.len() as u64;
        let mut wire = Vec::new();
        write_header(&mut wire, &Header::file("a.txt", size)).unwrap();
        let md5 = send_body(&mut interrupting(&data), &mut wire, size, &mut |_| {}).unwrap();
        let header = read_header(&mut interrupting(&wire), 1024)
            .unwrap()
            .unwrap();
        assert_eq!(header, Header::file("a.txt", size));
        let body = &wire[wire.len() - data.len()..];
        let mut out = Vec::new();
        let got = receive_body(&mut interrupting(body), &mut out, size, &mut |_| {}).unwrap();
        assert_eq!((out, got.md5), (data.clone(), md5.clone()));
        let mut out = Vec::new();
        let got = receive_body_hashing_beside(&mut interrupting(body), &mut out, size, &mut |_| {})
            .unwrap();
        assert_eq!((out, got.md5), (data, md5));
    }

    #[test]
    fn quoted_shows_at_most_64_characters() {
        assert_eq!(quoted("a \"b\""), r#""a \"b\"""#);
        let long = "\u{7f}".repeat(60_000);
        let shown = quoted(&long);
        assert!(shown.len() < 100, "{shown}");
        assert!(shown.ends_with("… (60000 bytes)"), "{shown}");
        assert_eq!(quoted(&"x".repeat(64)), format!("{:?}", "x".repeat(64)));
    }

    #[test]
    fn temp_names_are_recognised_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        for _ in 0..20 {
            let temp = temp_file_in(dir.path()).unwrap();
            let name = temp.path().file_name().unwrap().to_str().unwrap();
            assert!(is_temp_name(name), "{name}");
        }
        for other in [
            ".part",
            ".abc12.part",
            ".abcdefg.part",
            ".ab-123.part",
            "abc123.part",
        ] {
            assert!(!is_temp_name(other), "{other}");
        }
    }

    #[test]
    fn names_are_single_plain_names() {
        for good in ["a.txt", "a b.txt", "résumé ünïcode 文件.pdf", "x", "a..b"] {
            assert_eq!(check_name(good), Ok(()), "{good:?}");
        }
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "/etc/passwd",
            "a\\b",
            "C:x",
            "c:\\Windows",
            "a\0b",
            "a\nb",
            ".hidden",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_name(&"x".repeat(256)).is_err());
    }
}
