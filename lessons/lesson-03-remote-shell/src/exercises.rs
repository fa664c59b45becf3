//! Chapter 3 exercises. Check one with `cargo course check 3.1` (its hint:
//! `cargo course hint 3.1`).
//!
//! Each function below compiles and runs, but does not yet do what its exercise asks:
//! the checks fail until you change it. The chapter states each task and gives a hint;
//! once your code passes, `cargo course check` says
//! where the worked answer is.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};

use crate::Limits;

// ANCHOR: session
/// Exercise 3.1: a `cd` that lasts. One `Session` per connection, with its own working
/// directory. `cd DIR` (relative or absolute) moves the session there; `cd` alone goes home;
/// a `cd` that fails replies with an error and leaves the directory alone; every other
/// command runs in the session's directory. Replies are never empty.
#[derive(Debug)]
pub struct Session {
    dir: PathBuf,
    limits: Limits,
}

impl Session {
    /// A session whose commands start in `dir`.
    pub fn starting_in(dir: PathBuf) -> Session {
        Session {
            dir,
            limits: Limits::default(),
        }
    }

    /// The session's working directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs one command line and returns the reply for the client.
    pub fn reply(&mut self, command_line: &str) -> Vec<u8> {
        // TODO: handle `cd` here, and run every other command in `self.dir`.
        match crate::run_command(crate::shell_command(command_line), &self.limits) {
            Ok(outcome) => outcome.reply(),
            Err(e) => format!("[remote shell: could not run the command: {e}]\n").into_bytes(),
        }
    }
}
// ANCHOR_END: session

// ANCHOR: allowed
/// Why [`allowed`] refused a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Nothing but whitespace.
    Empty,
    /// The line holds this shell metacharacter (the first one found), which could chain,
    /// substitute or redirect to run something that is not on the list.
    Metacharacter(char),
    /// The program (the line's first word) is not on the allow-list.
    NotAllowed(String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Empty => write!(f, "empty command"),
            Refusal::Metacharacter(c) => write!(f, "shell metacharacter {c:?} is not allowed"),
            Refusal::NotAllowed(program) => write!(f, "{program:?} is not on the allow-list"),
        }
    }
}

/// Exercise 3.2: an allow-list. Accept `command_line` only if its program (first word) is
/// exactly one of `allow_list` and the line holds none of the shell's metacharacters that
/// run, chain or redirect commands: `; | & $ ` (backtick) `< > ( ) { } \` and newlines.
/// Look for metacharacters first.
pub fn allowed(command_line: &str, allow_list: &[&str]) -> Result<(), Refusal> {
    // TODO: a prefix is not a program, and a listed program can be followed by another.
    if allow_list
        .iter()
        .any(|program| command_line.starts_with(program))
    {
        Ok(())
    } else {
        let first = command_line.split_whitespace().next().unwrap_or("");
        Err(Refusal::NotAllowed(first.to_string()))
    }
}
// ANCHOR_END: allowed

// ANCHOR: half_close_client
/// Exercise 3.3, the client: send all of `request`, shut down the writing half of `conn` (the
/// server then sees the end of the request), and return the reply, read until the server
/// closes the connection.
pub fn send_request_then_half_close(mut conn: TcpStream, request: &str) -> io::Result<Vec<u8>> {
    conn.write_all(request.as_bytes())?;
    // TODO: tell the server that the request is complete.
    let mut reply = Vec::new();
    conn.read_to_end(&mut reply)?;
    Ok(reply)
}
// ANCHOR_END: half_close_client

// ANCHOR: half_close_server
/// The most bytes a request of exercise 3.3 may have: 64 KiB.
pub const MAX_REQUEST: usize = 64 * 1024;

/// Exercise 3.3, the server: read the request until the end of the stream, run it with the
/// shell, send back the reply, and close. A request over `MAX_REQUEST` bytes is not run: reply
/// with a line that gives the limit in bytes, and return an error.
pub fn serve_one_request(mut conn: TcpStream, limits: &Limits) -> io::Result<()> {
    // TODO: a request ends where the stream ends, not at a newline; and it has a size cap.
    let mut request = String::new();
    BufReader::new(&conn).read_line(&mut request)?;
    let reply = match crate::run_command(crate::shell_command(&request), limits) {
        Ok(outcome) => outcome.reply(),
        Err(e) => format!("[remote shell: could not run the command: {e}]\n").into_bytes(),
    };
    conn.write_all(&reply)
}
// ANCHOR_END: half_close_server
