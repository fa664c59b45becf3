//! Chapter 1 exercises. Check one with `cargo course check 1.1` (its hint:
//! `cargo course hint 1.1`).
//!
//! Each function below compiles and runs, but does not yet do what its exercise asks:
//! the checks fail until you change it. The chapter states each task and gives a hint;
//! once your code passes, `cargo course check` says
//! where the worked answer is.

use std::io::{self, Read, Write};
use std::net::TcpListener;

// ANCHOR: upper_echo
/// Exercise 1.1: an echo that shouts. Reply to every message with its ASCII letters in
/// upper case (`hello, World` comes back as `HELLO, WORLD`); leave every other byte alone.
pub fn upper_echo_loop<S: Read + Write>(conn: &mut S) -> io::Result<()> {
    // TODO: write your own communication loop instead of calling the plain echo.
    crate::communication_loop(conn)
}
// ANCHOR_END: upper_echo

// ANCHOR: concurrent
/// Exercise 1.2: serve several clients at once. A client that stays connected must not keep
/// the next one waiting. Log to stderr as the lesson's server does.
pub fn serve_concurrently(listener: TcpListener) -> io::Result<()> {
    // TODO: serve each client on its own thread.
    crate::connection_loop(&listener, &mut |line| eprintln!("{line}"))
}
// ANCHOR_END: concurrent
