//! `lesson-09`: the chat server on one thread and an event loop, its client, and a demo.

use std::io::{self, Write};
use std::net::TcpListener;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use course_cli::{number, seconds};
use lesson_09::{Config, DEFAULT_ADDR, DEFAULT_MAX_CLIENTS, Engine, READ_SIZE, stop_signal};

/// Lesson 9: the chat server on one thread, with poll (or epoll/kqueue) and non-blocking sockets.
#[derive(Parser)]
#[command(name = "lesson-09", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the chat server until Ctrl-C (or SIGTERM).
    Server {
        /// Address to listen on. Port 0 lets the OS choose.
        #[arg(default_value = DEFAULT_ADDR)]
        addr: String,
        /// How the loop waits: `poll` (rustix, level-triggered) or `polling` (epoll/kqueue,
        /// edge-triggered).
        #[arg(long, value_enum, default_value = "poll")]
        engine: Engine,
        /// Refuse connections beyond this many (1 to 100000).
        #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CLIENTS,
              value_parser = number::<usize>(1..=100_000))]
        max_clients: usize,
        /// A client must send its name within this many seconds (0.001 to 86400).
        #[arg(long, value_name = "SECS", default_value = "30", value_parser = seconds)]
        name_timeout: Duration,
        /// On shutdown, wait at most this many seconds (0.001 to 86400) for clients to take
        /// their last lines.
        #[arg(long, value_name = "SECS", default_value = "5", value_parser = seconds)]
        grace: Duration,
        /// The size of the loop's one read buffer, in bytes (1 to 1048576). Tests make it
        /// tiny to show what edge triggering does to a loop that reads once.
        #[arg(long, value_name = "BYTES", default_value_t = READ_SIZE, hide = true,
              value_parser = number::<usize>(1..=1_048_576))]
        read_size: usize,
        /// The chapter's deliberate bug (with `--engine polling`): read once per event
        /// instead of until WouldBlock.
        #[arg(long, hide = true)]
        edge_read_once: bool,
    },
    /// Connect, print every line from the server, and send each line you type.
    Client {
        /// Address of the server.
        #[arg(default_value = DEFAULT_ADDR)]
        addr: String,
        /// Send NAME as the first line.
        #[arg(long)]
        name: Option<String>,
    },
    /// A narrated session: a spinning wait against a poll, then the chat with scripted clients.
    Demo,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Server {
            addr,
            engine,
            max_clients,
            name_timeout,
            grace,
            read_size,
            edge_read_once,
        } => {
            let config = Config {
                max_clients,
                name_timeout,
                grace,
                engine,
                read_size,
                read_once_per_event: edge_read_once,
            };
            let listener =
                TcpListener::bind(&addr).with_context(|| format!("cannot listen on {addr}"))?;
            let (watch, sender) = stop_signal()?;
            // The ctrlc crate runs the handler on a thread of its own. If that thread cannot
            // start, the server still serves: only a Ctrl-C would then kill it without notice.
            let handler = sender.try_clone()?;
            if let Err(e) = ctrlc::set_handler(move || handler.stop()) {
                eprintln!(
                    "warning: cannot handle Ctrl-C ({e}); the server may not stop gracefully"
                );
            }
            let mut out = io::stdout();
            writeln!(out, "listening on {}", listener.local_addr()?)?;
            out.flush()?;
            lesson_09::serve(listener, &config, watch, &mut |line| eprintln!("{line}"))?;
            drop(sender); // kept until here: a loop whose every sender is gone stops
            writeln!(out, "stopped")?;
            Ok(())
        }
        Command::Client { addr, name } => {
            let mut conn = std::net::TcpStream::connect(&addr)
                .with_context(|| format!("cannot connect to {addr}"))?;
            lesson_09::client::run(
                &mut conn,
                name.as_deref(),
                &mut io::stdin(),
                &mut io::stdout(),
            )?;
            Ok(())
        }
        Command::Demo => lesson_09::demo::run(&mut io::stdout()),
    }
}
