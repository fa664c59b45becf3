//! `lesson-05`: the remote shell with a length prefix, its client, and a narrated demo.

use std::io::{self, IsTerminal, Write};
use std::net::TcpListener;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use course_cli::{number, seconds};
use lesson_05::{
    DEFAULT_ADDR, DEFAULT_MAX_OUTPUT, MAX_REPLY, ServerConfig, client_session, connection_loop,
    exposure_warning,
};

// Every number a flag takes is checked before the server listens, against a range that says
// what makes sense; the help text of each flag states its range. The time flags take
// `course_cli::seconds`: 0.001 to 86400 seconds, so that no timeout is zero (a zero socket
// timeout is an error, and would drop every client) and no deadline can overflow the clock.

/// `--max-output`: at least one byte, and at most what this lesson's client accepts
/// (`MAX_REPLY`, 64 MiB), less a kilobyte for the note that says the output was cut.
const OUTPUT_BYTES: std::ops::RangeInclusive<u64> = 1..=(MAX_REPLY - 1024) as u64;

/// Lesson 5: a remote shell whose server announces each reply's length and waits for
/// `recv_ready` before sending it.
#[derive(Parser)]
#[command(name = "lesson-05", version)]
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
        /// Keep at most this many bytes of a command's output (1 to 67107840); the rest is
        /// counted, not sent.
        #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_OUTPUT,
              value_parser = number::<usize>(OUTPUT_BYTES))]
        max_output: usize,
        /// Close a connection whose client sends nothing (or takes nothing) for this many
        /// seconds (0.001 to 86400), so that one silent client cannot hold the server.
        // The defaults are the library's constants, as a test below checks.
        #[arg(long, value_name = "SECS", default_value = "300", value_parser = seconds)]
        idle_timeout: Duration,
    },
    /// Send each line of standard input as a command and print the output. The output is
    /// received with ONE read, so a long one comes up short: the client says so on stderr.
    Client {
        /// Address of the server.
        #[arg(default_value = DEFAULT_ADDR)]
        addr: String,
        /// Give up on a server that sends nothing for this many seconds (0.001 to 86400).
        #[arg(long, value_name = "SECS", default_value = "60", value_parser = seconds)]
        timeout: Duration,
    },
    /// Server and client in one process, and the network lab between them: a narrated session.
    Demo,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Server {
            addr,
            timeout,
            max_output,
            idle_timeout,
        } => {
            let mut config = ServerConfig::default();
            config.limits.timeout = timeout;
            config.limits.max_output = max_output;
            config.idle_timeout = idle_timeout;
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
            connection_loop(&listener, &config, &mut |line| eprintln!("{line}"))
        }
        Command::Client { addr, timeout } => {
            let stdin = io::stdin();
            let prompt = stdin.is_terminal();
            let mut conn = lesson_05::connect(&addr, timeout)
                .with_context(|| format!("cannot connect to {addr}"))?;
            client_session(
                &mut conn,
                stdin.lock(),
                &mut io::stdout(),
                &mut io::stderr(),
                prompt,
            )?;
            Ok(())
        }
        Command::Demo => lesson_05::demo::run(&mut io::stdout()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_library_s() {
        let Command::Server {
            timeout,
            idle_timeout,
            ..
        } = Cli::parse_from(["lesson-05", "server"]).command
        else {
            unreachable!("the arguments name the server")
        };
        assert_eq!(timeout, lesson_03::DEFAULT_TIMEOUT);
        assert_eq!(idle_timeout, lesson_05::DEFAULT_IDLE_TIMEOUT);
        let Command::Client { timeout, .. } = Cli::parse_from(["lesson-05", "client"]).command
        else {
            unreachable!("the arguments name the client")
        };
        assert_eq!(timeout, lesson_05::DEFAULT_CLIENT_TIMEOUT);
    }
}
