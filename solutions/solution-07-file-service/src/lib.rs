//! Solutions to chapter 7's exercises, with the reasoning behind each choice.

use std::fs;
use std::io::{self, ErrorKind, Read};
use std::path::Path;
use std::time::UNIX_EPOCH;

use lesson_07::{BUFFER_SIZE, BadName, hex, list, resolve};
use sha2::{Digest, Sha256};

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
