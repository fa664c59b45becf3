//! Exercise 7.6: a client written from the protocol page alone.
//!
//! Read `book/src/ch07-protocol.md`, then write these three functions with `std`, `serde_json`
//! and `md5` (the md-5 crate) only: no item of this crate (nothing from `crate::`, `super::` or
//! `lesson_07::`). A check reads this file and fails if it names one.

#![allow(unused_variables)]

use std::io;
use std::net::TcpStream;
use std::path::Path;

// ANCHOR: own_client
/// `ls`: the names in the server's folder. A refusal is an error whose text is the server's.
pub fn ls(conn: &mut TcpStream) -> io::Result<Vec<String>> {
    todo!("send the ls request frame, read the reply frame")
}

/// `get`: fetch `name` into `dir`, and return its size. Keep the file only if the MD5 of the
/// bytes received matches the trailer's: otherwise return an error, and leave `dir` as it was
/// (no file called `name`, or the one that was there before). Leave no other file behind.
pub fn get(conn: &mut TcpStream, dir: &Path, name: &str) -> io::Result<u64> {
    todo!("request, reply header, exactly size bytes, trailer, compare MD5s")
}

/// `put`: send the file `name` from `dir`, and return its size. An error if the server
/// refuses the request or does not keep the file.
pub fn put(conn: &mut TcpStream, dir: &Path, name: &str) -> io::Result<u64> {
    todo!("request with size, go-ahead, body, trailer, final reply")
}
// ANCHOR_END: own_client
