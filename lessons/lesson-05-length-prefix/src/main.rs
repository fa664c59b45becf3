//! `lesson-05`: the remote shell with a length prefix, its client, and a narrated demo.

use std::io::{self, IsTerminal, Write};
use std::net::TcpListener;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use lesson_05::{
    DEFAULT_ADDR, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_OUTPUT, ServerConfig, client_session,
    connection_loop, exposure_warning,
};

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
        /// Kill a command (and everything it started) after this many seconds.
        #[arg(long, value_name = "SECS", default_value_t = 10)]
        timeout: u64,
        /// Keep at most this many bytes of a command's output (the rest is counted, not sent).
        #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_OUTPUT)]
        max_output: usize,
        /// Close a connection whose client sends nothing (or takes nothing) for this many
        /// seconds, so that one silent client cannot hold the server.
        #[arg(long, value_name = "SECS", default_value_t = DEFAULT_IDLE_TIMEOUT.as_secs())]
        idle_timeout: u64,
    },
    /// Send each line of standard input as a command and print the output. The output is
    /// received with ONE read, so a long one comes up short: the client says so on stderr.
    Client {
        /// Address of the server.
        #[arg(default_value = DEFAULT_ADDR)]
        addr: String,
        /// Give up on a server that sends nothing for this many seconds.
        #[arg(long, value_name = "SECS", default_value_t = 60)]
        timeout: u64,
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
            config.limits.timeout = Duration::from_secs(timeout);
            config.limits.max_output = max_output;
            config.idle_timeout = Duration::from_secs(idle_timeout);
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
            let mut conn = lesson_05::connect(&addr, Duration::from_secs(timeout))
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
