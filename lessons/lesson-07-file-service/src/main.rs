//! `lesson-07`: the file server, its client, and a narrated demo.

use std::io::{self, IsTerminal, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use course_cli::{number, seconds};
use lesson_07::client::{Client, session};
use lesson_07::server::{self, Settings};
use lesson_07::{
    DEFAULT_ADDR, DEFAULT_MAX_FILE, DEFAULT_MAX_HEADER, DEFAULT_MAX_REPLY, DEFAULT_ROOT,
};

// Every number a flag takes is checked before the server listens, against a range that says
// what makes sense: 0 clients or a 0-byte header would make a server that serves nothing.

/// `--max-clients`: a thread each, and as many again to say "busy".
const CLIENTS: std::ops::RangeInclusive<u64> = 1..=10_000;
/// `--max-header-size`: room for the smallest request, and at most what the client itself
/// accepts (one header is read into memory whole).
const HEADER_BYTES: std::ops::RangeInclusive<u64> = 64..=DEFAULT_MAX_REPLY as u64;
/// `--max-file-size`: a file's length is a signed 64-bit number (`off_t`) on Unix.
const FILE_BYTES: std::ops::RangeInclusive<u64> = 1..=i64::MAX as u64;

/// Lesson 7: a small file service. `get` and `put` files with a JSON header, the bytes streamed
/// and checked with MD5, names kept inside one folder, files written atomically.
#[derive(Parser)]
#[command(name = "lesson-07", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the files of one folder until interrupted.
    Server {
        /// Address to listen on. The default is loopback, reachable only from this machine;
        /// any other address prints a warning. Port 0 lets the OS choose.
        #[arg(default_value = DEFAULT_ADDR)]
        addr: String,
        /// The folder to serve, created if missing. Names never reach outside it.
        #[arg(long, value_name = "DIR", default_value = DEFAULT_ROOT)]
        root: PathBuf,
        /// Serve at most this many clients at once (1 to 10000); one more is told the server is
        /// busy.
        #[arg(long, value_name = "N", default_value_t = 64,
              value_parser = number::<usize>(CLIENTS))]
        max_clients: usize,
        /// Close a connection that has been silent this many seconds (0.001 to 86400): in the
        /// middle of a transfer, or between commands (a person at the prompt counts as silent).
        #[arg(long, value_name = "SECS", default_value = "300", value_parser = seconds)]
        idle_timeout: Duration,
        /// Close a connection whose request (or trailer) is not whole this many seconds after
        /// its first byte (0.001 to 86400), however often bytes of it come.
        #[arg(long, value_name = "SECS", default_value = "30", value_parser = seconds)]
        header_deadline: Duration,
        /// The largest header accepted, in bytes (64 to 16777216).
        #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_HEADER,
              value_parser = number::<usize>(HEADER_BYTES))]
        max_header_size: usize,
        /// The largest file accepted by put, in bytes (1 to 2^63-1; 4 GiB by default).
        #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FILE,
              value_parser = number::<u64>(FILE_BYTES))]
        max_file_size: u64,
    },
    /// Run get, put (or post), ls and quit, one per line of standard input.
    Client {
        /// Address of the server.
        #[arg(default_value = DEFAULT_ADDR)]
        addr: String,
        /// The local folder that get saves into and put reads from.
        #[arg(long, value_name = "DIR", default_value = ".")]
        dir: PathBuf,
        /// Give up when the server has been silent this many seconds (0.001 to 86400).
        #[arg(long, value_name = "SECS", default_value = "60", value_parser = seconds)]
        timeout: Duration,
        /// The largest file get accepts, in bytes (1 to 2^63-1; 4 GiB by default).
        #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FILE,
              value_parser = number::<u64>(FILE_BYTES))]
        max_file_size: u64,
    },
    /// Server and client in one process: a scripted, narrated session.
    Demo,
}

fn main() -> anyhow::Result<ExitCode> {
    match Cli::parse().command {
        Command::Server {
            addr,
            root,
            max_clients,
            idle_timeout,
            header_deadline,
            max_header_size,
            max_file_size,
        } => {
            std::fs::create_dir_all(&root)
                .with_context(|| format!("cannot create the folder {}", root.display()))?;
            let settings = Settings {
                max_clients,
                idle_timeout,
                header_deadline,
                max_header: max_header_size,
                max_file: max_file_size,
                ..Settings::new(root)
            };
            let listener =
                TcpListener::bind(&addr).with_context(|| format!("cannot listen on {addr}"))?;
            let log: server::Log = Arc::new(|line| eprintln!("{line}"));
            // After the bind, so that a second server started on the same port by mistake
            // stops before it touches the first one's uploads; before `listening on`, so that
            // whoever waits for that line knows the folder is clean.
            server::remove_leftovers(&settings.root, &log);
            let local = listener.local_addr()?;
            let mut out = io::stdout();
            writeln!(out, "listening on {local}")?;
            out.flush()?;
            eprintln!("serving the folder {}", settings.root.display());
            if let Some(warning) = server::exposure_warning(local, &settings) {
                eprintln!("{warning}");
            }
            server::run(listener, settings, log)
        }
        Command::Client {
            addr,
            dir,
            timeout,
            max_file_size,
        } => {
            let stdin = io::stdin();
            let interactive = stdin.is_terminal();
            let conn =
                TcpStream::connect(&addr).with_context(|| format!("cannot connect to {addr}"))?;
            // A server that stops talking must not hang the client forever.
            conn.set_read_timeout(Some(timeout))?;
            conn.set_write_timeout(Some(timeout))?;
            let mut client = Client::new(conn, dir);
            client.max_file = max_file_size;
            // indicatif would hide the bar on a pipe by itself; saying so keeps it explicit.
            client.progress = io::stderr().is_terminal();
            let tally = session(
                &mut client,
                stdin.lock(),
                &mut io::stdout(),
                interactive,
                true,
            )?;
            // A script needs to know that something failed; a person at the prompt has seen it.
            if tally.broken || (tally.failed > 0 && !interactive) {
                eprintln!("{} of {} commands failed", tally.failed, tally.commands);
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo => {
            lesson_07::demo::run(&mut io::stdout())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
