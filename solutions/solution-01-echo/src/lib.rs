//! Solutions to chapter 1's exercises, with the reasoning behind each choice.

use std::io::{self, ErrorKind, Read, Write};
use std::net::TcpListener;
use std::thread;

// ANCHOR: upper_echo
/// Exercise 1.1: an echo that shouts.
pub fn upper_echo_loop<S: Read + Write>(conn: &mut S) -> io::Result<()> {
    let mut buf = [0u8; 1024];
    loop {
        let n = match conn.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        // Why bytes and not `str::to_uppercase`: a read can end in the middle of a multi-byte
        // UTF-8 character, so a chunk is not always valid text. ASCII letters are single
        // bytes, so changing them one byte at a time is safe at any cut, and every other
        // byte (including the pieces of a split character) passes through untouched.
        buf[..n].make_ascii_uppercase();
        conn.write_all(&buf[..n])?;
    }
}
// ANCHOR_END: upper_echo

// ANCHOR: concurrent
/// Exercise 1.2: one thread per client.
pub fn serve_concurrently(listener: TcpListener) -> io::Result<()> {
    loop {
        // Why accept stays on this thread: only the listener can hand out connections, and
        // it is quick; the slow part (talking) moves to a thread of its own.
        let (mut conn, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) => {
                eprintln!("accept failed: {e}");
                continue;
            }
        };
        eprintln!("connected from {peer}");
        // Why `move`: the thread owns its connection, and its end is closed when the thread
        // finishes. Why we never join: the server does not wait for a client to leave
        // before it accepts the next; a client that stays forever costs one thread, not the
        // service. (A real server caps the number of threads; lesson 7 does.)
        // Why `Builder` and not `thread::spawn`: a thread can fail to start (the process
        // limit, no memory for its stack), and `thread::spawn` then panics, which would end
        // the server for every client. Here only this client loses: its connection is
        // dropped (closed) with the closure, and the loop goes on.
        let talk = move || match lesson_01::communication_loop(&mut conn) {
            Ok(()) => eprintln!("{peer} closed the connection normally (read returned 0 bytes)"),
            Err(e) => eprintln!("{peer} disconnected abnormally: {}", e.kind()),
        };
        if let Err(e) = thread::Builder::new().spawn(talk) {
            eprintln!("{peer}: no thread to serve it ({e}); connection closed");
        }
    }
}
// ANCHOR_END: concurrent
