//! Exercise 7.6: a client written from the protocol page alone (`book/src/ch07-protocol.md`),
//! with `std`, `serde_json` and `md5` only: nothing from the lesson's crate.

use std::fs::{self, File};
use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::Path;

use md5::{Digest, Md5};
use serde_json::{Value, json};

// ANCHOR: frames
/// The largest reply frame we accept: a listing is one frame, so allow a big one.
const MAX_FRAME: u32 = 16 * 1024 * 1024;

/// Sends one frame: the JSON's length as 4 bytes, big-endian, then the JSON.
fn send_frame(conn: &mut TcpStream, message: &Value) -> io::Result<()> {
    let json = serde_json::to_vec(message)?;
    // Why one buffer and one `write_all`: two small writes can wait for a delayed
    // acknowledgement (chapter 6), and `write` alone may send only part.
    let mut frame = (json.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(&json);
    conn.write_all(&frame)
}

/// Receives one frame. Why a refusal becomes an error here: the page says any reply may be
/// `{"error": TEXT}`, so every caller would check for it; once is enough.
fn receive_frame(conn: &mut TcpStream) -> io::Result<Value> {
    let mut length = [0u8; 4];
    // Why `read_exact`: the 4 bytes may arrive in pieces, like any bytes on a stream.
    conn.read_exact(&mut length)?;
    let length = u32::from_be_bytes(length);
    // Why check before allocating: a wrong length must not make us reserve 4 GiB.
    if length > MAX_FRAME {
        return Err(io::Error::other(format!("a reply of {length} bytes")));
    }
    let mut json = vec![0u8; length as usize];
    conn.read_exact(&mut json)?;
    let reply: Value = serde_json::from_slice(&json)?;
    match reply.get("error").and_then(Value::as_str) {
        Some(text) => Err(io::Error::other(text.to_string())),
        None => Ok(reply),
    }
}

/// `name`, if it is one plain name (the page's rules, the ones that matter to us): a name
/// with a separator, or starting with `.`, would lead out of our folder or onto a hidden file.
fn plain(name: &str) -> io::Result<&str> {
    match name.is_empty() || name.starts_with('.') || name.contains(['/', '\\', '\0']) {
        true => Err(io::Error::other(format!("refused the name {name:?}"))),
        false => Ok(name),
    }
}

/// The 32 lowercase hex digits the page asks for.
fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
// ANCHOR_END: frames

// ANCHOR: ls_get
/// `ls`: the names in the server's folder.
pub fn ls(conn: &mut TcpStream) -> io::Result<Vec<String>> {
    send_frame(conn, &json!({"command": "ls"}))?;
    let reply = receive_frame(conn)?;
    // Why `Vec<String>` through serde: anything else in `files` is a broken reply.
    serde_json::from_value(reply["files"].clone()).map_err(io::Error::from)
}

/// `get`: fetch `name` into `dir`; keep it only if the MD5s match.
pub fn get(conn: &mut TcpStream, dir: &Path, name: &str) -> io::Result<u64> {
    // Why check the name before asking: it becomes a path in our folder, and once the server
    // says yes, its body is on the way. Why a hidden temporary name: the final name must never
    // hold a damaged file, not even for a moment.
    let temp = dir.join(format!(".{}.part", plain(name)?));
    send_frame(conn, &json!({"command": "get", "name": name}))?;
    let reply = receive_frame(conn)?;
    let size = reply["size"]
        .as_u64()
        .ok_or_else(|| io::Error::other("the reply to get has no size"))?;
    let mut file = File::create(&temp)?;
    let mut md5 = Md5::new();
    // Why `take(size)`: exactly SIZE bytes are the body; the trailer comes right after them.
    // Why through the hasher: one pass over the bytes, hashed as they are written.
    let copied = io::copy(&mut (&*conn).take(size), &mut Tee(&mut file, &mut md5));
    let digest = hex(&md5.finalize());
    // Why read the trailer only after a whole body: after a cut, there is none.
    let trailer = match copied {
        Ok(n) if n == size => receive_frame(conn).ok(),
        _ => None,
    };
    if trailer.is_some_and(|trailer| trailer["md5"] == digest.as_str()) {
        fs::rename(&temp, dir.join(name))?;
        return Ok(size);
    }
    // Why delete and fail: a short or damaged body is worth nothing.
    let _ = fs::remove_file(&temp);
    Err(io::Error::new(
        ErrorKind::InvalidData,
        format!("{name:?} arrived damaged (MD5 mismatch, or cut short); nothing was saved"),
    ))
}
// ANCHOR_END: ls_get

// ANCHOR: put
/// `put`: send the file `name` from `dir`.
pub fn put(conn: &mut TcpStream, dir: &Path, name: &str) -> io::Result<u64> {
    let mut file = File::open(dir.join(plain(name)?))?;
    let size = file.metadata()?.len();
    send_frame(conn, &json!({"command": "put", "name": name, "size": size}))?;
    // Why wait: the go-ahead, or a refusal that costs no body (the page's put exchange).
    receive_frame(conn)?;
    let mut md5 = Md5::new();
    let sent = io::copy(&mut (&mut file).take(size), &mut Tee(&mut *conn, &mut md5))?;
    if sent < size {
        // Why give up: we promised SIZE bytes and cannot send them; closing is all that is left.
        return Err(io::Error::new(ErrorKind::UnexpectedEof, "the file shrank"));
    }
    send_frame(conn, &json!({"md5": hex(&md5.finalize())}))?;
    // Why read the last reply: only the server knows whether the digests matched.
    receive_frame(conn)?;
    Ok(size)
}

/// A writer that writes to the first and hashes into the second: one pass over the data.
struct Tee<'a, W>(&'a mut W, &'a mut Md5);

impl<W: Write> Write for Tee<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        // Why hash only what was written: `write` may take fewer bytes than it was given.
        let n = self.0.write(bytes)?;
        self.1.update(&bytes[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}
// ANCHOR_END: put
