//! Chapter 7 exercises. Check one with `cargo course check 7.1` (or `cargo course watch`);
//! `cargo course hint 7.1` shows its hint.
//!
//! Each function below compiles, but stops with `todo!`: the checks fail until you write it.
//! The chapter states each task; once your code passes, `cargo course check` says
//! where the worked answer is.
//! Exercise 7.6 is in its own file, `exercises/own_client.rs`.

#![allow(unused_variables)]

use std::io::{self, Read};
use std::net::TcpStream;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::BadName;
use crate::Header;
use crate::client::{Client, Failure};

pub mod own_client;

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

// ANCHOR: delete_command
/// Exercise 7.4, the server's side: the `delete` command.
///
/// The server calls this with every request before its own commands. For a request whose
/// `command` is `"delete"`: delete the file `request.name` in `root` with your [`delete`] (7.2),
/// reply `{"name": NAME}` once it is gone, or `{"error": why}` if it was refused (no name is
/// refused too), and return `Ok(true)`. For any other command: send nothing, return `Ok(false)`.
pub fn serve_delete(conn: &mut TcpStream, root: &Path, request: &Header) -> io::Result<bool> {
    todo!("answer delete requests; leave the others to the server")
}

/// Exercise 7.4, the client's side: ask the server to delete `name`.
///
/// Send `{"command": "delete", "name": name}` and read the reply. Return the line to show,
/// `deleted "NAME"` (the name in quotes, as `{:?}` writes it), or the server's refusal as
/// [`Failure::Refused`]. Send every name as it is: the server decides which to refuse.
pub fn delete_remote(client: &mut Client, name: &str) -> Result<String, Failure> {
    todo!("send the request, turn the reply into a line")
}
// ANCHOR_END: delete_command

// ANCHOR: resume
/// Exercise 7.5, the server's side: a `get` that starts at `offset`.
///
/// For a `get` request that has an `offset`: reply `{"name", "size", "md5", "offset"}`, where
/// `size` and `md5` are the WHOLE file's, then send its bytes from `offset` to the end, and no
/// trailer. An offset beyond the size is refused (`{"error": why}`). Return `Ok(true)`.
/// For any other request (a `get` without an offset too): send nothing, return `Ok(false)`.
pub fn serve_get_from(conn: &mut TcpStream, root: &Path, request: &Header) -> io::Result<bool> {
    todo!("check the offset, hash the whole file, send the header and the rest")
}

/// Exercise 7.5, the client's side: a `get` that resumes.
///
/// Bytes arrive in `NAME.part` in `dir`. Ask for `name` with `offset` = the `.part` file's
/// length (0 if there is none) and append what arrives. Then compare the MD5 of the whole
/// `.part` with the reply's `md5`: rename it to `NAME` only if they match; if not, delete it and
/// return [`Failure::Refused`] with a text that says the MD5s differ. A refusal leaves every
/// file as it was; a cut leaves the `.part` for the next try.
/// Returns how many bytes of the file this call received.
pub fn get_resuming(conn: &mut TcpStream, dir: &Path, name: &str) -> Result<u64, Failure> {
    todo!("offset = length of NAME.part; append; verify the whole file; rename")
}
// ANCHOR_END: resume
