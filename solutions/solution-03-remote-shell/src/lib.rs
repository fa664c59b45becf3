//! Solutions to chapter 3's exercises, with the reasoning behind each choice.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};

use lesson_03::{Limits, run_command, shell_command};

/// The starter's type, reused: the checks compare refusals of this one type.
pub use lesson_03::exercises::Refusal;

/// The starter's cap on a request of exercise 3.3, reused: the checks test this one.
pub use lesson_03::exercises::MAX_REQUEST;

/// Exercise 3.1: a session with a working directory of its own.
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

    // ANCHOR: session_reply
    /// Runs one command line and returns the reply for the client.
    pub fn reply(&mut self, command_line: &str) -> Vec<u8> {
        // Why the server has to understand `cd` at all: every command runs in a new shell
        // (`sh -c`), and a shell's `cd` changes only that shell's directory, which is gone
        // when it exits. The only directory that survives from one command to the next is
        // one the server remembers.
        let mut words = command_line.split_whitespace();
        if words.next() == Some("cd") {
            let target = words.next();
            // Why only a plain `cd DIR`: anything fancier (`cd x && ls`) is a shell
            // program, and we would have to be a shell to run it. It goes to `sh`, where its
            // `cd` lasts for that one command, as it always did.
            if words.next().is_none() {
                return match self.change_dir(target) {
                    // Why a reply for a successful `cd`: it prints nothing in a terminal,
                    // but zero bytes would leave the client waiting.
                    Ok(()) => {
                        format!("[remote shell: now in {}]\n", self.dir.display()).into_bytes()
                    }
                    Err(e) => format!("[remote shell: cd: {e}]\n").into_bytes(),
                };
            }
        }
        let mut cmd = shell_command(command_line);
        // Why `current_dir` and not a `cd` prepended to the command line: no quoting to get
        // wrong (a directory may be called `a b` or `x; rm -rf ~`), and the directory is set
        // by the OS for the child before the shell even starts.
        cmd.current_dir(&self.dir);
        match run_command(cmd, &self.limits) {
            Ok(outcome) => outcome.reply(),
            Err(e) => format!("[remote shell: could not run the command: {e}]\n").into_bytes(),
        }
    }
    // ANCHOR_END: session_reply

    // ANCHOR: session_cd
    fn change_dir(&mut self, target: Option<&str>) -> io::Result<()> {
        let target = match target {
            // Why `HOME`: it is what a shell's `cd` uses. Without it there is no home to go
            // to, and saying so beats guessing.
            None | Some("~") => std::env::var_os("HOME")
                .map(PathBuf::from)
                .ok_or_else(|| io::Error::other("HOME is not set"))?,
            Some(dir) => PathBuf::from(dir),
        };
        // Why `join`: a relative path is relative to the SESSION's directory, not the
        // server's; and joining an absolute path replaces the base, so both kinds work.
        // Why `canonicalize`: it fails if the path does not exist, and it resolves `..` and
        // symbolic links, so `dir()` and `pwd` name the same place.
        let new_dir = self
            .dir
            .join(&target)
            .canonicalize()
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", target.display())))?;
        if !new_dir.is_dir() {
            return Err(io::Error::other(format!(
                "{}: not a directory",
                target.display()
            )));
        }
        // Only now, with every check passed, does the session move: a failed `cd` leaves
        // it where it was.
        self.dir = new_dir;
        Ok(())
    }
}
// ANCHOR_END: session_cd

// ANCHOR: allowed
/// Characters that make the shell do more than run one program with arguments: chain (`;`,
/// `&`, `|`, newline), substitute (`$`, backtick), redirect (`<`, `>`), group (`(`, `)`,
/// `{`, `}`), or escape one of these (`\`).
const METACHARACTERS: &[char] = &[
    ';', '&', '|', '\n', '\r', '$', '`', '<', '>', '(', ')', '{', '}', '\\',
];

/// Exercise 3.2: run only programs from a list.
pub fn allowed(command_line: &str, allow_list: &[&str]) -> Result<(), Refusal> {
    // Why metacharacters first, over the WHOLE line: the shell reads the whole line, and
    // `ls; rm -rf ~` starts with an allowed program. Checking the first word tells us only
    // which program runs first, not which programs run.
    if let Some(c) = command_line.chars().find(|c| METACHARACTERS.contains(c)) {
        return Err(Refusal::Metacharacter(c));
    }
    // Why the first whitespace-separated word, compared whole: `starts_with("ls")` also
    // accepts `lsblk`, `lsof` and `ls_anything_you_like`. Equality does not.
    let Some(program) = command_line.split_whitespace().next() else {
        return Err(Refusal::Empty);
    };
    if allow_list.contains(&program) {
        // Why this is still not a sandbox: the arguments reach the program unchecked, and
        // some programs run others or do damage on their own (`env rm x` runs `rm`,
        // `find . -delete` deletes). The list must hold only programs that cannot.
        Ok(())
    } else {
        Err(Refusal::NotAllowed(program.to_string()))
    }
}
// ANCHOR_END: allowed

// ANCHOR: half_close_client
/// Exercise 3.3, the client: a request that ends with a half-close.
pub fn send_request_then_half_close(mut conn: TcpStream, request: &str) -> io::Result<Vec<u8>> {
    conn.write_all(request.as_bytes())?;
    // Why shut down the writing half: a request may hold any bytes, newlines too, so no byte
    // can mark its end. `shutdown(Write)` sends a FIN after the last byte, and the server's
    // read returns 0: the request is complete. Only our writing half closes: the connection
    // still carries the reply the other way.
    conn.shutdown(Shutdown::Write)?;
    // Why read to the end: the reply has no length and no end marker either. The server closes
    // the connection after the last byte of it, and our read returns 0.
    let mut reply = Vec::new();
    conn.read_to_end(&mut reply)?;
    Ok(reply)
}
// ANCHOR_END: half_close_client

// ANCHOR: half_close_server
/// Exercise 3.3, the server: one request, read until the end of the stream.
pub fn serve_one_request(mut conn: TcpStream, limits: &Limits) -> io::Result<()> {
    // Why `take`: `read_to_end` alone keeps whatever a client sends, for as long as it sends.
    // One byte over the cap is enough to know that the request is too big, so we read at most
    // that, and never wait for more. (`read_to_end` reads again after `Interrupted`.)
    let mut request = Vec::new();
    (&mut conn)
        .take(MAX_REQUEST as u64 + 1)
        .read_to_end(&mut request)?;
    if request.len() > MAX_REQUEST {
        let refusal = format!("[remote shell: request refused: it is over {MAX_REQUEST} bytes]");
        // Why tell the client: otherwise it only sees the connection close. A client that sent
        // even more may still miss this line: we close with its bytes unread, which sends a
        // reset (chapter 1). Reading them all first would let any client keep us busy.
        conn.write_all(format!("{refusal}\n").as_bytes())?;
        return Err(io::Error::new(ErrorKind::InvalidData, refusal));
    }
    // Why `command_text`: `shell_command` takes text, and the lesson's `communication_loop`
    // refuses bytes that are not UTF-8 the same way, in one short line (a lossy conversion
    // would run them, and the shell would repeat each as a three-byte `�`).
    let ran = lesson_03::command_text(&request).and_then(|s| run_command(shell_command(s), limits));
    let reply = match ran {
        Ok(outcome) => outcome.reply(),
        Err(e) => format!("[remote shell: could not run the command: {e}]\n").into_bytes(),
    };
    conn.write_all(&reply)?;
    // Why nothing more: `conn` is dropped here, which closes the connection. That close is
    // how the client knows that the reply is complete.
    Ok(())
}
// ANCHOR_END: half_close_server
