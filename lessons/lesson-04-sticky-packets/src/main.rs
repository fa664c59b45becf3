//! `lesson-04`: the remote shell whose replies stick together, its client, and a narrated demo.

use std::io::{self, IsTerminal, Write};
use std::net::{TcpListener, TcpStream};

use anyhow::Context;
use clap::{Parser, Subcommand};
use lesson_04::{DEFAULT_ADDR, Settings, client_session, connection_loop, exposure_warning};

/// Lesson 4: sticky packets. The remote shell of lesson 3, whose client reads each reply with
/// one read of 1024 bytes: watch the replies spill into each other.
#[derive(Parser)]
#[command(name = "lesson-04", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the remote-shell server until interrupted. Each reply is two writes: a status line,
    /// then the output. Anyone who can connect can run commands as you: keep it on loopback.
    Server {
        /// Address to listen on. The default is loopback, reachable only from this machine;
        /// any other address prints a warning. Port 0 lets the OS choose.
        #[arg(default_value = DEFAULT_ADDR)]
        addr: String,
        /// Log every write the server makes (its size and its bytes) on standard error.
        #[arg(long)]
        trace: bool,
        /// Turn Nagle's algorithm off (TCP_NODELAY): small writes go out at once instead of
        /// waiting for the previous one to be acknowledged.
        #[arg(long)]
        nodelay: bool,
    },
    /// Send each line of standard input as a command and print what ONE read of at most 1024
    /// bytes returns.
    Client {
        /// Address of the server.
        #[arg(default_value = DEFAULT_ADDR)]
        addr: String,
        /// Show every read (its size and its bytes at both ends) on standard error.
        #[arg(long)]
        trace: bool,
    },
    /// Server and client in one process: both kinds of sticky packet, narrated.
    Demo,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Server {
            addr,
            trace,
            nodelay,
        } => {
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
            let settings = Settings {
                trace,
                nodelay,
                ..Settings::default()
            };
            connection_loop(&listener, &settings, &mut |line| eprintln!("{line}"))
        }
        Command::Client { addr, trace } => {
            let stdin = io::stdin();
            let prompt = stdin.is_terminal();
            let mut conn =
                TcpStream::connect(&addr).with_context(|| format!("cannot connect to {addr}"))?;
            let mut stderr = io::stderr();
            let trace = trace.then_some(&mut stderr as &mut dyn Write);
            client_session(&mut conn, stdin.lock(), &mut io::stdout(), prompt, trace)?;
            Ok(())
        }
        Command::Demo => lesson_04::demo::run(&mut io::stdout()),
    }
}
