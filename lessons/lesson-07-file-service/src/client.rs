//! The file client: `get`, `put` (or `post`), `ls`, and any other word sent as a command.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, ErrorKind, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use course_cli::next_command;
use indicatif::{ProgressBar, ProgressStyle};

use crate::{
    BadName, Connection, Header, read_header, receive_body_hashing_beside, resolve, temp_file_in,
    write_header,
};

/// Why a command failed.
#[derive(Debug)]
pub enum Failure {
    /// A clear "no" (from the server, or from the client's own checks): the connection is fine
    /// and the next command can go ahead.
    Refused(String),
    /// The connection broke, timed out or stopped making sense: the session is over.
    Broken(io::Error),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Refused(text) => f.write_str(text),
            Failure::Broken(e) => write!(f, "the connection failed: {e}"),
        }
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Broken(e)
    }
}

impl From<BadName> for Failure {
    fn from(e: BadName) -> Failure {
        Failure::Refused(e.0)
    }
}

/// A finished, verified transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// The file's name.
    pub name: String,
    /// How many bytes went over the wire (the file's size).
    pub size: u64,
    /// The MD5 both sides agreed on.
    pub md5: String,
    /// From the request to the verified file.
    pub elapsed: Duration,
}

impl Transfer {
    /// `"a b.txt": 1048577 bytes, md5 1a2b…`: everything but the speed, which changes per run.
    pub fn describe(&self) -> String {
        format!("{:?}: {} bytes, md5 {}", self.name, self.size, self.md5)
    }

    /// Throughput in megabytes (10^6 bytes) per second.
    pub fn megabytes_per_second(&self) -> f64 {
        self.size as f64 / 1e6 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// A connection to a file server, and the local folder its files go to and come from.
pub struct Client<S = TcpStream> {
    conn: S,
    dir: PathBuf,
    /// The largest header accepted from the server (16 MiB by default: an `ls` of a big
    /// folder is one header).
    pub max_header: usize,
    /// The largest file `get` accepts.
    pub max_file: u64,
    /// Draw a progress bar on stderr during transfers.
    pub progress: bool,
}

impl<S: Connection> Client<S> {
    /// A client talking over `conn`, keeping its files in `dir`, with the default limits and no
    /// progress bar.
    pub fn new(conn: S, dir: impl Into<PathBuf>) -> Client<S> {
        Client {
            conn,
            dir: dir.into(),
            max_header: crate::DEFAULT_MAX_REPLY,
            max_file: crate::DEFAULT_MAX_FILE,
            progress: false,
        }
    }

    /// The local folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Sends a request and reads the reply header; a refusal becomes `Failure::Refused`.
    pub fn ask(&mut self, request: &Header) -> Result<Header, Failure> {
        write_header(&mut self.conn, request)?;
        let reply = self.reply()?;
        match reply.error {
            Some(error) => Err(Failure::Refused(error)),
            None => Ok(reply),
        }
    }

    fn reply(&mut self) -> Result<Header, Failure> {
        read_header(&mut self.conn, self.max_header)?.ok_or_else(|| {
            Failure::Broken(io::Error::new(
                ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ))
        })
    }

    // ANCHOR: get
    /// Fetches `name` from the server into the local folder, verified, or not at all.
    pub fn get(&mut self, name: &str) -> Result<Transfer, Failure> {
        let started = Instant::now();
        // The name we save under is the one we asked for, checked by the same rules the server
        // uses, never a name taken from the reply.
        let path = resolve(&self.dir, name)?;
        let mut temp = temp_file_in(&self.dir).map_err(|e| {
            Failure::Refused(format!(
                "cannot create a file in {}: {e}",
                self.dir.display()
            ))
        })?;
        let reply = self.ask(&Header::request("get", Some(name)))?;
        let size = reply
            .size
            .ok_or_else(|| broken("the reply to get has no size"))?;
        if size > self.max_file {
            // We cannot refuse politely any more: the body is on its way. Closing is the answer.
            return Err(broken(&format!(
                "the server offers {size} bytes, over this client's limit of {}",
                self.max_file
            )));
        }
        // ANCHOR_END: get
        // ANCHOR: get_verify
        let bar = self.bar(size, "get", name);
        let received =
            receive_body_hashing_beside(&mut self.conn, temp.as_file_mut(), size, &mut |n| {
                bar.inc(n)
            })?;
        bar.finish_and_clear();
        let trailer = self.reply()?;
        if let Some(e) = received.write_error {
            return Err(Failure::Refused(format!(
                "cannot store {name:?}: {e}; nothing was saved"
            )));
        }
        if trailer.md5.as_deref() != Some(received.md5.as_str()) {
            // `temp` is dropped on the way out: the damaged bytes go with it.
            return Err(Failure::Refused(format!(
                "{name:?} arrived damaged: the server's MD5 is {}, the bytes received have {}; \
                 nothing was saved",
                trailer.md5.as_deref().unwrap_or("missing"),
                received.md5
            )));
        }
        temp.persist(&path)
            .map_err(|e| Failure::Refused(format!("cannot store {name:?}: {}", e.error)))?;
        Ok(Transfer {
            name: name.to_string(),
            size,
            md5: received.md5,
            elapsed: started.elapsed(),
        })
    }
    // ANCHOR_END: get_verify

    /// Sends the local file `name` to the server, which keeps it only if its MD5 matches.
    pub fn put(&mut self, name: &str) -> Result<Transfer, Failure> {
        let started = Instant::now();
        let path = resolve(&self.dir, name)?;
        let file = File::open(&path).map_err(|e| match e.kind() {
            ErrorKind::NotFound => {
                Failure::Refused(format!("there is no file named {name:?} here"))
            }
            _ => Failure::Refused(format!("cannot open {name:?}: {e}")),
        })?;
        let size = file.metadata()?.len();
        let request = Header {
            size: Some(size),
            ..Header::request("put", Some(name))
        };
        // The reply is the go-ahead: a refusal (a bad name, a file too big) costs no body.
        self.ask(&request)?;
        let bar = self.bar(size, "put", name);
        let md5 = self.conn.send_file(&file, size, &mut |n| bar.inc(n))?;
        bar.finish_and_clear();
        write_header(&mut self.conn, &Header::trailer(md5.clone()))?;
        let saved = self.reply()?;
        if let Some(error) = saved.error {
            return Err(Failure::Refused(error));
        }
        Ok(Transfer {
            name: name.to_string(),
            size,
            md5,
            elapsed: started.elapsed(),
        })
    }

    /// The names in the server's folder.
    pub fn ls(&mut self) -> Result<Vec<String>, Failure> {
        let reply = self.ask(&Header::request("ls", None))?;
        Ok(reply.files.unwrap_or_default())
    }

    fn bar(&self, size: u64, verb: &str, name: &str) -> ProgressBar {
        if !self.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(size).with_message(format!("{verb} {name}"));
        let style = ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} {eta}",
        )
        .expect("a valid template")
        .progress_chars("=> ");
        bar.set_style(style);
        bar
    }
}

fn broken(text: &str) -> Failure {
    Failure::Broken(io::Error::new(ErrorKind::InvalidData, text.to_string()))
}

/// How a session went.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Commands run.
    pub commands: usize,
    /// Commands that failed (refused, or cut short by a broken connection).
    pub failed: usize,
    /// Whether the session ended because the connection broke.
    pub broken: bool,
}

/// Runs commands from `input` until `quit` or its end, writing each result to `out`.
///
/// A refused command is reported and the session goes on; a broken connection ends it.
pub fn session<S: Connection>(
    client: &mut Client<S>,
    mut input: impl BufRead,
    out: &mut impl Write,
    prompt: bool,
    show_speed: bool,
) -> io::Result<Tally> {
    let mut tally = Tally::default();
    while let Some(line) = next_command(&mut input, out, prompt)? {
        tally.commands += 1;
        // The name is the rest of the line, spaces and all.
        let (word, name) = match line.split_once(char::is_whitespace) {
            Some((word, rest)) => (word, Some(rest.trim())),
            None => (line.as_str(), None),
        };
        let speed = |t: &Transfer| match show_speed {
            true => format!(", {:.1} MB/s", t.megabytes_per_second()),
            false => String::new(),
        };
        let result = match (word, name) {
            ("get", Some(name)) => client
                .get(name)
                .map(|t| format!("got {}{}", t.describe(), speed(&t))),
            ("put" | "post", Some(name)) => client
                .put(name)
                .map(|t| format!("put {}{}", t.describe(), speed(&t))),
            ("get" | "put" | "post", None) => Err(Failure::Refused(format!("usage: {word} NAME"))),
            ("ls", _) => client.ls().map(|files| match files.is_empty() {
                true => "(no files)".to_string(),
                false => files.join("\n"),
            }),
            // Anything else goes to the server as it is: the server decides what it knows.
            (word, name) => client
                .ask(&Header::request(word, name))
                .map(|_| "ok".to_string()),
        };
        match result {
            Ok(text) => writeln!(out, "{text}")?,
            Err(failure) => {
                tally.failed += 1;
                writeln!(out, "error: {failure}")?;
                if let Failure::Broken(_) = failure {
                    tally.broken = true;
                    break;
                }
            }
        }
    }
    Ok(tally)
}
