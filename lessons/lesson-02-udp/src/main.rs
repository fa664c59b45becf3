//! `lesson-02`: a UDP echo server, its client, and a narrated demo of UDP next to TCP.

use std::io::{self, IsTerminal, Write};
use std::net::{ToSocketAddrs, UdpSocket};
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use course_cli::{milliseconds, number};
use lesson_02::{DEFAULT_ADDR, client_session, client_socket, exposure_warning, serve};

// Every number a flag takes is checked before the socket is bound, against a range that says
// what makes sense; the help text of each flag states its range.

/// `--drop-every`: 1 drops every datagram (total loss); past a million the loss would never
/// show in a lesson.
const DROP_EVERY: std::ops::RangeInclusive<u64> = 1..=1_000_000;

/// Lesson 2: UDP vs TCP — a UDP echo server and client.
#[derive(Parser)]
#[command(name = "lesson-02", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the UDP echo server until interrupted.
    Server {
        /// Address to listen on. The default is loopback, reachable only from this machine;
        /// any other address prints a warning. Port 0 lets the OS choose.
        #[arg(default_value = DEFAULT_ADDR)]
        addr: String,
        /// Simulate loss: ignore every N-th datagram (the 2nd, 4th, … with N = 2); N from 1 to
        /// 1000000.
        #[arg(long, value_name = "N",
              value_parser = number::<u64>(DROP_EVERY))]
        drop_every: Option<u64>,
    },
    /// Send each line of standard input as one datagram and report its reply or its loss.
    Client {
        /// Address of the server.
        #[arg(default_value = DEFAULT_ADDR)]
        addr: String,
        /// How long to wait for each reply before calling it lost, in milliseconds (1 to
        /// 86400000).
        // The default is lesson_02::DEFAULT_TIMEOUT, as a test below checks.
        #[arg(long, value_name = "MS", default_value = "1000", value_parser = milliseconds)]
        timeout_ms: Duration,
    },
    /// UDP and TCP side by side: boundaries, connections, truncation, loss.
    Demo,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Server { addr, drop_every } => {
            let socket = UdpSocket::bind(&addr).with_context(|| format!("cannot bind {addr}"))?;
            let local = socket.local_addr()?;
            announce(local)?;
            // A warning, not a refusal: serving other machines is a fair wish, if a conscious one.
            if let Some(warning) = exposure_warning(local) {
                eprintln!("{warning}");
            }
            serve(&socket, drop_every, &mut |line| eprintln!("{line}"))
        }
        Command::Client { addr, timeout_ms } => {
            let server = addr
                .to_socket_addrs()
                .with_context(|| format!("cannot resolve {addr}"))?
                .next()
                .with_context(|| format!("{addr} resolves to no address"))?;
            let socket = client_socket(server).with_context(|| format!("cannot reach {addr}"))?;
            let stdin = io::stdin();
            let prompt = stdin.is_terminal();
            client_session(&socket, stdin.lock(), &mut io::stdout(), prompt, timeout_ms)?;
            Ok(())
        }
        Command::Demo => lesson_02::demo::run(&mut io::stdout()),
    }
}

/// The first stdout line of every server in the course, flushed at once so that whoever
/// started the server (a test, a script) can read the real address.
fn announce(addr: impl std::fmt::Display) -> io::Result<()> {
    let mut out = io::stdout();
    writeln!(out, "listening on {addr}")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_library_s() {
        let Command::Client { timeout_ms, .. } = Cli::parse_from(["lesson-02", "client"]).command
        else {
            unreachable!("the arguments name the client")
        };
        assert_eq!(timeout_ms, lesson_02::DEFAULT_TIMEOUT);
    }
}
