//! Chapter 7 exercises. Check your work with `cargo exercise lesson-07`.
//!
//! Each function below compiles, but stops with `todo!`: the checks fail until you write it.
//! The chapter states each task and gives a hint; `solutions/solution-07-file-service` has a
//! worked answer.

#![allow(unused_variables)]

use std::io::{self, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::BadName;

// ANCHOR: ls_detailed
/// Exercise 7.1: one line of a detailed `ls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The file's name, as `ls` shows it.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was last modified: whole seconds since the Unix epoch (1970-01-01 00:00 UTC).
    pub modified: u64,
}

/// Exercise 7.1: `ls` with sizes and times.
///
/// Return one [`Entry`] for each name that [`list`](crate::list) returns for `root` (the names
/// [`resolve`](crate::resolve) accepts), in the same order, with the file's size and
/// modification time. For a symbolic link, give its target's size and time, not the link's.
pub fn list_detailed(root: &Path) -> io::Result<Vec<Entry>> {
    todo!("for each name list(root) returns, look at its file's metadata")
}

/// Exercise 7.1: the listing for a person to read. One line per entry, each ending in `\n`:
/// the size, right-aligned in a column as wide as the largest size, two spaces, then the name.
/// No entries: an empty string.
pub fn format_listing(entries: &[Entry]) -> String {
    todo!("find the widest size, then format each line with that width")
}
// ANCHOR_END: ls_detailed

// ANCHOR: delete
/// Exercise 7.2: `delete`, confined to the folder.
///
/// Remove the file `name` in `root`. Refuse every name that [`resolve`](crate::resolve) refuses,
/// and anything that is not a file: a directory is refused. A missing file is an error that
/// says there is no file by that name. A symbolic link (inside the folder) is removed itself;
/// its target stays.
pub fn delete(root: &Path, name: &str) -> Result<(), BadName> {
    todo!("resolve the name, then remove that one file")
}
// ANCHOR_END: delete

// ANCHOR: sha256
/// Exercise 7.3: SHA-256 instead of MD5.
///
/// Return the SHA-256 digest of everything `reader` delivers, as 64 lowercase hex digits.
/// Read through one buffer of at most [`BUFFER_SIZE`](crate::BUFFER_SIZE) bytes until a read
/// returns 0, never holding the whole input in memory. An interrupted read is tried again;
/// any other error is returned.
pub fn sha256_hex(reader: &mut impl Read) -> io::Result<String> {
    todo!("feed each chunk to a sha2::Sha256, then hex() the result")
}
// ANCHOR_END: sha256
