//! `lesson-03`: a remote-shell server, its client, and a narrated demo of both.

use std::io::{self, IsTerminal, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
// Both time flags are parsed here, before the server listens: 0 or more than a day is refused
// with a message naming the flag, instead of a panic at the first command.
use course_cli::{milliseconds, seconds};
use lesson_03::{
    DEFAULT_ADDR, DEFAULT_MAX_OUTPUT, Limits, client_session, connection_loop, exposure_warning,
};

/// Lesson 3: a remote shell. The server runs each command it receives and sends back the output.
#[derive(Parser)]
#[command(name = "lesson-03", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the remote-shell server until interrupted. Anyone who can connect can run commands
    /// as you: keep it on loopback.
    Server {
        /// Address to listen on. The default is loopback, reachable only from this machine;
        /// any other address prints a warning. Port 0 lets the OS choose.
        #[arg(default_value = DEFAULT_ADDR)]
        addr: String,
        /// Kill a command (and everything it started) after this many seconds (0.001 to 86400)
        /// [default: 10].
        #[arg(long, value_name = "SECS", conflicts_with = "timeout_ms", value_parser = seconds)]
        timeout: Option<Duration>,
        /// The same limit in milliseconds (1 to 86400000).
        #[arg(long, value_name = "MS", value_parser = milliseconds)]
        timeout_ms: Option<Duration>,
    },
    /// Send each line of standard input as a command and print the reply (one read, at most
    /// 1024 bytes).
    Client {
        /// Address of the server.
        #[arg(default_value = DEFAULT_ADDR)]
        addr: String,
    },
    /// Server and client in one process: a scripted, narrated session.
    Demo,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Server {
            addr,
            timeout,
            timeout_ms,
        } => {
            let limits = Limits {
                timeout: timeout.or(timeout_ms).unwrap_or(lesson_03::DEFAULT_TIMEOUT),
                max_output: DEFAULT_MAX_OUTPUT,
            };
            // std's `bind` already sets SO_REUSEADDR on Unix, as the original did by hand.
            let listener =
                TcpListener::bind(&addr).with_context(|| format!("cannot listen on {addr}"))?;
            let local = listener.local_addr()?;
            let mut out = io::stdout();
            writeln!(out, "listening on {local}")?;
            out.flush()?;
            if let Some(warning) = exposure_warning(local) {
                eprintln!("{warning}");
            }
            connection_loop(&listener, &limits, &mut |line| eprintln!("{line}"))
        }
        Command::Client { addr } => {
            let stdin = io::stdin();
            let prompt = stdin.is_terminal();
            let mut conn =
                TcpStream::connect(&addr).with_context(|| format!("cannot connect to {addr}"))?;
            client_session(&mut conn, stdin.lock(), &mut io::stdout(), prompt)?;
            Ok(())
        }
        Command::Demo => lesson_03::demo::run(&mut io::stdout()),
    }
}
