//! Solutions to chapter 7's exercises, with the reasoning behind each choice.

use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Read, Seek, SeekFrom};
use std::net::TcpStream;
use std::path::Path;
use std::time::UNIX_EPOCH;

use lesson_07::client::{Client, Failure};
use lesson_07::{
    BUFFER_SIZE, BadName, DEFAULT_MAX_REPLY, Header, hex, list, read_header, receive_body, resolve,
    send_body, write_header,
};
use md5::Md5;
use sha2::{Digest, Sha256};

pub mod own_client;

// ANCHOR: ls_detailed
/// Exercise 7.1's `Entry` is the starter's own type, so a client written against the lesson
/// can use the solution's listing unchanged.
pub use lesson_07::exercises::Entry;

/// Exercise 7.1: `ls` with sizes and times.
pub fn list_detailed(root: &Path) -> io::Result<Vec<Entry>> {
    // Why start from `list`: it already knows which names may be shown (the ones `resolve`
    // accepts) and sorts them. A second copy of those rules would drift from the first, and a
    // detailed `ls` that shows a name `get` refuses is a bug report waiting to happen.
    let mut entries = Vec::new();
    for name in list(root)? {
        // Why `fs::metadata` and not `symlink_metadata`: `metadata` follows a link, so a link
        // shows its target's size and time, what `get` would actually send. (`resolve` has
        // already checked that the target is a regular file inside the folder.)
        let meta = match fs::metadata(root.join(&name)) {
            Ok(meta) => meta,
            // Why skip NotFound: another client may delete the file between `list` and this
            // look. The folder changed while we read it; that is not a failure of `ls`.
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        // Why whole seconds since the epoch: a plain number travels in JSON unchanged and means
        // the same on every machine; the client turns it into a date in its own time zone.
        // `as_secs` truncates, as `ls -l` does. A time before 1970 (possible, if rare) counts
        // as 0 rather than failing the whole listing.
        let modified = meta
            .modified()?
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        entries.push(Entry {
            name,
            size: meta.len(),
            modified,
        });
    }
    Ok(entries)
}
// ANCHOR_END: ls_detailed

// ANCHOR: format_listing
/// Exercise 7.1: the listing for a person to read, sizes right-aligned.
pub fn format_listing(entries: &[Entry]) -> String {
    // Why measure first: a column is as wide as its widest cell, and that is only known once
    // every size has been seen. Two passes over a small list cost nothing.
    let width = entries
        .iter()
        .map(|entry| entry.size.to_string().len())
        .max()
        .unwrap_or(0);
    // Why `{:>width$}`: right-aligned numbers line their digits up by place value, so the
    // eye compares sizes at a glance; the names, after them, start in one column too.
    entries
        .iter()
        .map(|entry| format!("{:>width$}  {}\n", entry.size, entry.name))
        .collect()
}
// ANCHOR_END: format_listing

// ANCHOR: delete
/// Exercise 7.2: `delete`, confined to the folder.
pub fn delete(root: &Path, name: &str) -> Result<(), BadName> {
    // Why `resolve` and nothing else: it is the one gate between a name from the network and
    // the file system. It refuses paths, dot names, directories and links that lead out of
    // the folder; `delete` must never be the command that accepts what `get` refuses.
    let path = resolve(root, name)?;
    // Why `remove_file`: it unlinks a name. On a symbolic link it removes the link, never its
    // target, and it refuses a directory. That also covers the race where someone swaps the
    // file for a link or a folder after `resolve` looked: the worst case is that the swapped-in
    // link itself is removed, and it is inside the folder.
    fs::remove_file(&path).map_err(|e| match e.kind() {
        // Why not check existence first: `resolve` accepts a new name (for `put`), and a
        // separate "does it exist?" could be answered differently a moment later. Trying and
        // reading the error is the only answer that cannot go stale.
        ErrorKind::NotFound => BadName(format!("there is no file named {name:?}")),
        _ => BadName(format!("cannot delete {name:?}: {e}")),
    })
}
// ANCHOR_END: delete

// ANCHOR: sha256
/// Exercise 7.3: SHA-256 instead of MD5, streamed.
pub fn sha256_hex(reader: &mut impl Read) -> io::Result<String> {
    // Why one buffer on the heap: memory use is BUFFER_SIZE whatever the input's size, so a
    // 4 GiB file hashes in 128 KiB. (On the stack, 128 KiB is a large share of a thread's.)
    let mut buffer = vec![0u8; BUFFER_SIZE];
    // Why the same `Digest` interface as MD5: `new`, `update` chunk by chunk, `finalize`.
    // Swapping the algorithm changes one type; the streaming loop stays as it was.
    let mut sha256 = Sha256::new();
    loop {
        let n = match reader.read(&mut buffer) {
            // Why 0 ends the loop: it is the reader's "no more"; a short read is not.
            Ok(0) => break,
            Ok(n) => n,
            // Why retry: an interrupted read delivered nothing and lost nothing.
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        // Why only `..n`: the rest of the buffer holds bytes from an earlier read.
        sha256.update(&buffer[..n]);
    }
    // Why `hex`: the digest is 32 raw bytes; the protocol writes digests as lowercase hex,
    // as `sha256sum` prints them, and the lesson's `hex` already does that for MD5.
    Ok(hex(&sha256.finalize()))
}
// ANCHOR_END: sha256

// ANCHOR: serve_delete
/// Exercise 7.4, the server's side: the `delete` command.
pub fn serve_delete(conn: &mut TcpStream, root: &Path, request: &Header) -> io::Result<bool> {
    // Why send nothing for other commands: the server asks the handler about every request,
    // and exactly one reply may go back for each. A second one would be read by the client as
    // the answer to its next request, and the two sides would be out of step for good.
    if request.command.as_deref() != Some("delete") {
        return Ok(false);
    }
    // Why 7.2's `delete` and no check here: it goes through `resolve`, the one gate for a name
    // from the network, so `delete` refuses exactly what `get` and `put` refuse.
    let reply = match request.name.as_deref().map(|name| delete(root, name)) {
        None => Header::refusal("delete needs a name"),
        Some(Ok(())) => Header {
            name: request.name.clone(),
            ..Header::default()
        },
        // Why a refusal and not `Err`: a refused delete is an answer, and the connection is
        // still in step. An `Err` here would make the server close the connection.
        Some(Err(refused)) => Header::refusal(refused.0),
    };
    write_header(conn, &reply)?;
    Ok(true)
}

/// Exercise 7.4, the client's side: ask the server to delete `name`.
pub fn delete_remote(client: &mut Client, name: &str) -> Result<String, Failure> {
    // Why `ask`: it sends the frame, reads one reply, and turns an `error` into
    // `Failure::Refused`. The session prints that as `error: …` and goes on to the next command.
    // Why no name check here: nothing on this machine is touched, and the server, which owns
    // the folder, is the one that must refuse (a client can be written by anyone).
    client.ask(&Header::request("delete", Some(name)))?;
    Ok(format!("deleted {name:?}"))
}
// ANCHOR_END: serve_delete

// ANCHOR: serve_get_from
/// Exercise 7.5, the server's side: a `get` that starts at `offset`.
pub fn serve_get_from(conn: &mut TcpStream, root: &Path, request: &Header) -> io::Result<bool> {
    // Why only a `get` with an `offset`: a plain `get` stays the lesson's (with its trailer),
    // so an old client keeps working against this server.
    let (Some("get"), Some(offset)) = (request.command.as_deref(), request.offset) else {
        return Ok(false);
    };
    let opened = resolve(root, request.name.as_deref().unwrap_or(""))
        .and_then(|path| File::open(path).map_err(|e| BadName(format!("cannot open it: {e}"))));
    let mut file = match opened {
        Ok(file) => file,
        Err(refused) => return write_header(conn, &Header::refusal(refused.0)).map(|()| true),
    };
    let size = file.metadata()?.len();
    if offset > size {
        // Why refuse: the client's `.part` is longer than the file, so it is not a piece of
        // this file. No bytes from here can make it right; the client must start again.
        let text = format!("offset {offset} is beyond the end of the file ({size} bytes)");
        return write_header(conn, &Header::refusal(text)).map(|()| true);
    }
    // Why hash the whole file, not just the part sent: the client checks the whole file, its
    // `.part` included, and a digest of the new bytes alone says nothing about the old ones.
    // Why before the body: the digest goes in the header, so the client knows it up front;
    // the cost is a second read of the file (the lesson's digest cache would save it).
    let mut md5 = Md5::new();
    io::copy(&mut file, &mut md5)?;
    file.seek(SeekFrom::Start(offset))?;
    let header = Header {
        md5: Some(hex(&md5.finalize())),
        offset: Some(offset),
        ..Header::file(request.name.as_deref().unwrap_or(""), size)
    };
    write_header(conn, &header)?;
    // Why exactly `size - offset` bytes: that is what the header promised. If the file shrank
    // in between, `send_body` fails, the connection closes, and the client keeps its `.part`.
    send_body(&mut file, conn, size - offset, &mut |_| {})?;
    Ok(true)
}
// ANCHOR_END: serve_get_from

// ANCHOR: get_resuming
/// Exercise 7.5, the client's side: a `get` that resumes.
pub fn get_resuming(conn: &mut TcpStream, dir: &Path, name: &str) -> Result<u64, Failure> {
    // Why check the name: both paths below are built from it.
    let path = resolve(dir, name)?;
    let part_path = dir.join(format!("{name}.part"));
    // Why the `.part` file's length is the offset: every byte in it arrived, in order, from the
    // start of the file. What it lacks is everything after it.
    let offset = fs::metadata(&part_path).map_or(0, |meta| meta.len());
    write_header(
        conn,
        &Header {
            offset: Some(offset),
            ..Header::request("get", Some(name))
        },
    )?;
    let reply = read_header(conn, DEFAULT_MAX_REPLY)?
        .ok_or_else(|| Failure::Broken(io::ErrorKind::UnexpectedEof.into()))?;
    if let Some(error) = reply.error {
        // Why nothing is touched: the `.part` is opened only after the go-ahead.
        return Err(Failure::Refused(error));
    }
    let (Some(size), Some(md5)) = (reply.size, reply.md5) else {
        return Err(Failure::Refused("the reply has no size or no md5".into()));
    };
    if size < offset || reply.offset != Some(offset) {
        return Err(Failure::Refused(
            "the reply does not start where we asked".into(),
        ));
    }
    // Why append: the bytes already there stay, the new ones go after them. Why no temporary
    // file that deletes itself: a cut must leave these bytes for the next try.
    let mut part = OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(&part_path)?;
    // ANCHOR_END: get_resuming
    // ANCHOR: get_resuming_verify
    let received = receive_body(conn, &mut part, size - offset, &mut |_| {})?;
    if let Some(e) = received.write_error {
        return Err(Failure::Refused(format!("cannot store {name:?}: {e}")));
    }
    // Why hash the whole `.part` from its first byte: the old bytes came from another
    // connection, maybe days ago, maybe from another version of the file. Only the digest of
    // the whole file, compared with the server's, says the pieces belong together.
    part.seek(SeekFrom::Start(0))?;
    let mut whole = Md5::new();
    io::copy(&mut part, &mut whole)?;
    let whole = hex(&whole.finalize());
    if whole != md5 {
        // Why delete the `.part`: its bytes are wrong somewhere, and we cannot tell where;
        // resuming from it again would fail again. The next `get` starts from 0.
        let _ = fs::remove_file(&part_path);
        return Err(Failure::Refused(format!(
            "{name:?} does not match: the server's MD5 of the whole file is {md5}, the bytes \
             here have {whole}; {name:?} is unchanged and {name}.part is deleted"
        )));
    }
    // Why rename last: until now, `NAME` (if any) was the old file, whole. The rename swaps in
    // the new one at once, never half of it.
    fs::rename(&part_path, &path)?;
    Ok(size - offset)
}
// ANCHOR_END: get_resuming_verify
