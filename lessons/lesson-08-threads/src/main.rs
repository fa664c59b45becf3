//! `lesson-08`: the chat server with a thread per client, its client, and a narrated demo.

use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use course_cli::{number, seconds};
use lesson_08::{Config, DEFAULT_ADDR, DEFAULT_MAX_CLIENTS, MAX_CLIENTS, Stop, stderr_log};

/// Lesson 8: a chat server with a thread per client. Every line a client sends reaches every
/// other client; `nc` is a client too.
#[derive(Parser)]
#[command(name = "lesson-08", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the chat server until Ctrl-C (or SIGTERM), then stop gracefully.
    Server {
        /// Address to listen on. Port 0 lets the OS choose.
        #[arg(default_value = DEFAULT_ADDR)]
        addr: String,
        /// Refuse a client when this many are connected (1 to 100000).
        #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CLIENTS,
              value_parser = number::<usize>(MAX_CLIENTS))]
        max_clients: usize,
        /// Disconnect a client that has not sent a good name within this many seconds
        /// (0.001 to 86400), so that a silent client cannot hold a slot.
        #[arg(long, value_name = "SECS", default_value = "30", value_parser = seconds)]
        name_timeout: Duration,
        /// On Ctrl-C, give the clients this many seconds (0.001 to 86400) to receive what
        /// is queued for them, then close what is left and exit.
        #[arg(long, value_name = "SECS", default_value = "5", value_parser = seconds)]
        grace: Duration,
    },
    /// Print every line from the server; send NAME, then each line of standard input.
    Client {
        /// Address of the server.
        #[arg(default_value = DEFAULT_ADDR)]
        addr: String,
        /// Send this as the first line: the name to join with.
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
    },
    /// A one-at-a-time server stalled by a silent client, then the threaded server: narrated.
    Demo,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Server {
            addr,
            max_clients,
            name_timeout,
            grace,
        } => {
            // A cap the system cannot honour would end in an abort, not a refusal: lower it.
            let mut max_clients = max_clients;
            if let Some(allowed) = lesson_08::clients_the_system_allows()
                && max_clients > allowed
            {
                eprintln!(
                    "warning: --max-clients {max_clients} lowered to {allowed}: the threads of \
                     more clients would need more memory mappings than vm.max_map_count allows"
                );
                max_clients = allowed;
            }
            let config = Config {
                max_clients,
                name_timeout,
                grace,
                ..Config::default()
            };
            let listener =
                TcpListener::bind(&addr).with_context(|| format!("cannot listen on {addr}"))?;
            let mut out = io::stdout();
            writeln!(out, "listening on {}", listener.local_addr()?)?;
            out.flush()?;
            // ANCHOR: ctrlc
            let stop = Stop::new(&listener)?;
            let on_signal = stop.clone();
            // The `termination` feature makes this catch SIGTERM too. The handler runs on a
            // thread of its own; if that thread cannot start, the server still serves.
            if let Err(e) = ctrlc::set_handler(move || on_signal.request()) {
                eprintln!("warning: no graceful stop on Ctrl-C: {e}");
            }
            lesson_08::serve(&listener, &config, &stop, stderr_log());
            writeln!(out, "stopped")?;
            // ANCHOR_END: ctrlc
            Ok(())
        }
        Command::Client { addr, name } => {
            let conn =
                TcpStream::connect(&addr).with_context(|| format!("cannot connect to {addr}"))?;
            let stdin = io::BufReader::new(io::stdin());
            lesson_08::run_client(conn, name, stdin, &mut io::stdout())?;
            Ok(())
        }
        Command::Demo => lesson_08::demo::run(&mut io::stdout()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_library_s() {
        let Command::Server {
            name_timeout,
            grace,
            ..
        } = Cli::parse_from(["lesson-08", "server"]).command
        else {
            unreachable!("the arguments name the server")
        };
        assert_eq!(name_timeout, lesson_08::DEFAULT_NAME_TIMEOUT);
        assert_eq!(grace, lesson_08::DEFAULT_GRACE);
    }
}
