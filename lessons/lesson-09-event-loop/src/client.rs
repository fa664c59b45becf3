//! The course client (`client [ADDR] [--name NAME]`), itself a small event loop: one thread
//! polls standard input and the socket, and serves whichever is ready.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};

use rustix::event::{PollFd, PollFlags, poll};

/// Prints every line from the server on `out`; sends NAME first, then each line of `input`
/// (`quit` ends it too). At the end of input it half-closes, and goes on printing until the
/// server closes. `input` must be a file descriptor poll can watch (stdin, a pipe).
pub fn run(
    conn: &mut TcpStream,
    name: Option<&str>,
    input: &mut (impl Read + std::os::fd::AsFd),
    out: &mut impl Write,
) -> io::Result<()> {
    if let Some(name) = name {
        conn.write_all(format!("{name}\n").as_bytes())?;
    }
    let mut typed: Vec<u8> = Vec::new(); // a typed line not yet ended by a newline
    let mut input_open = true;
    let mut buf = [0u8; 4096];
    loop {
        let input_fd = input.as_fd();
        let mut fds = vec![PollFd::new(&*conn, PollFlags::IN)];
        if input_open {
            fds.push(PollFd::new(&input_fd, PollFlags::IN));
        }
        match poll(&mut fds, None) {
            Err(rustix::io::Errno::INTR) => continue,
            other => other?,
        };
        let (server_ready, input_ready) = (
            !fds[0].revents().is_empty(),
            fds.get(1).is_some_and(|f| !f.revents().is_empty()),
        );
        drop(fds);
        if server_ready {
            match conn.read(&mut buf) {
                Ok(0) => return Ok(()), // the server closed: done
                Ok(n) => {
                    out.write_all(&buf[..n])?;
                    out.flush()?;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if input_ready {
            let n = match input.read(&mut buf) {
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                other => other?,
            };
            if n == 0 && !typed.is_empty() {
                typed.push(b'\n'); // a last line without its newline still goes
            }
            typed.extend_from_slice(&buf[..n]);
            let mut quit = n == 0;
            while let Some(end) = typed.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = typed.drain(..=end).collect();
                if line.trim_ascii() == b"quit" {
                    quit = true;
                    break;
                }
                conn.write_all(&line)?;
            }
            if quit {
                // Half-close: the server sees the end of stream and closes once it has sent
                // what is queued for us; we print it all.
                conn.shutdown(Shutdown::Write)?;
                input_open = false;
            }
        }
    }
}
