//! `lesson-06`: the length-prefixed remote shell, its chunked client, and a narrated demo.

use std::io::{self, IsTerminal, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use course_cli::{number, seconds};
use lesson_03::Limits;
use lesson_06::{
    DEFAULT_ADDR, DEFAULT_MAX_OUTPUT, MAX_REPLY, Settings, client_session, connection_loop,
    exposure_warning,
};

// Every number a flag takes is checked before the server listens, against a range that says
// what makes sense; the help text of each flag states its range. The time flags take
// `course_cli::seconds`: 0.001 to 86400 seconds, so that no timeout is zero (a zero socket
// timeout is an error, and would drop every client) and no deadline can overflow the clock.

/// `--max-output`: at least one byte, and at most what this lesson's client accepts
/// (`MAX_REPLY`, 64 MiB), less a kilobyte for the note that says the output was cut.
const OUTPUT_BYTES: std::ops::RangeInclusive<u64> = 1..=(MAX_REPLY - 1024) as u64;

/// Lesson 6: chunked receive. A remote shell whose replies carry their length; the client reads
/// them 1024 bytes at a time until the whole reply is there.
#[derive(Parser)]
#[command(name = "lesson-06", version)]
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
        /// Kill a command (and everything it started) after this many seconds (0.001 to 86400).
        #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds)]
        timeout: Duration,
        /// Close a connection whose client has been silent this many seconds (0.001 to 86400).
        #[arg(long, value_name = "SECS", default_value = "300", value_parser = seconds)]
        idle_timeout: Duration,
        /// Keep at most this many bytes of a command's output (1 to 67107840, 8 MiB by
        /// default); the reply says when it was cut.
        #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_OUTPUT,
              value_parser = number::<usize>(OUTPUT_BYTES))]
        max_output: usize,
    },
    /// Send each line of standard input as a command and print the whole reply.
    Client {
        /// Address of the server.
        #[arg(default_value = DEFAULT_ADDR)]
        addr: String,
        /// Give up when the server has been silent this many seconds (0.001 to 86400).
        #[arg(long, value_name = "SECS", default_value = "60", value_parser = seconds)]
        read_timeout: Duration,
    },
    /// Server, proxy and client in one process: a scripted, narrated session.
    Demo,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Server {
            addr,
            timeout,
            idle_timeout,
            max_output,
        } => {
            let settings = Settings {
                limits: Limits {
                    timeout,
                    max_output,
                },
                idle_timeout,
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
            connection_loop(&listener, &settings, &mut |line| eprintln!("{line}"))
        }
        Command::Client { addr, read_timeout } => {
            let stdin = io::stdin();
            let prompt = stdin.is_terminal();
            let mut conn =
                TcpStream::connect(&addr).with_context(|| format!("cannot connect to {addr}"))?;
            // A server that stops talking must not hang the client forever.
            conn.set_read_timeout(Some(read_timeout))?;
            conn.set_write_timeout(Some(read_timeout))?;
            client_session(&mut conn, stdin.lock(), &mut io::stdout(), prompt).map_err(|e| match e
                .kind()
            {
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => anyhow::anyhow!(
                    "the server sent nothing for {}",
                    lesson_03::describe(read_timeout)
                ),
                _ => e.into(),
            })
        }
        Command::Demo => lesson_06::demo::run(&mut io::stdout()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults are written as text for clap; they must stay the library's constants.
    #[test]
    fn the_defaults_are_the_library_s() {
        let Command::Server {
            timeout,
            idle_timeout,
            ..
        } = Cli::parse_from(["lesson-06", "server"]).command
        else {
            unreachable!("the arguments name the server")
        };
        assert_eq!(timeout, lesson_03::DEFAULT_TIMEOUT);
        assert_eq!(idle_timeout, lesson_06::DEFAULT_IDLE_TIMEOUT);
        let Command::Client { read_timeout, .. } = Cli::parse_from(["lesson-06", "client"]).command
        else {
            unreachable!("the arguments name the client")
        };
        assert_eq!(read_timeout, lesson_06::DEFAULT_CLIENT_TIMEOUT);
    }
}
