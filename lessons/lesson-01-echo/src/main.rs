//! `lesson-01`: an echo server, its client, and a narrated demo of both.

use std::io::{self, IsTerminal, Write};
#[cfg(unix)]
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use lesson_01::{
    DEFAULT_ADDR, bind_step_by_step, client_session, connection_loop, exposure_warning,
};

/// Lesson 1: an echo server and client over TCP (or a Unix socket).
#[derive(Parser)]
#[command(name = "lesson-01", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the echo server until interrupted.
    Server {
        /// Address to listen on (port 0 lets the OS choose); anything but loopback prints a
        /// warning.
        #[arg(default_value = DEFAULT_ADDR)]
        addr: String,
        /// Listen on a Unix-domain socket at this path instead of TCP.
        #[cfg(unix)]
        #[arg(long, value_name = "PATH")]
        unix: Option<PathBuf>,
        /// Create the socket one system call at a time (socket2) instead of `TcpListener::bind`.
        #[arg(long)]
        step_by_step: bool,
    },
    /// Send each line of standard input and print its echo.
    Client {
        /// Address of the server.
        #[arg(default_value = DEFAULT_ADDR)]
        addr: String,
        /// Connect to a Unix-domain socket at this path instead of TCP.
        #[cfg(unix)]
        #[arg(long, value_name = "PATH")]
        unix: Option<PathBuf>,
    },
    /// Server and client in one process: a scripted, narrated session.
    Demo,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Server {
            addr,
            #[cfg(unix)]
            unix,
            step_by_step,
        } => {
            #[cfg(unix)]
            if let Some(path) = unix {
                return serve_unix(path);
            }
            let listener = if step_by_step {
                let addr = std::net::ToSocketAddrs::to_socket_addrs(&addr)
                    .with_context(|| format!("cannot resolve {addr}"))?
                    .next()
                    .with_context(|| format!("{addr} resolves to no address"))?;
                bind_step_by_step(addr)
            } else {
                std::net::TcpListener::bind(&addr)
            }
            .with_context(|| format!("cannot listen on {addr}"))?;
            let local = listener.local_addr()?;
            announce(local)?;
            if let Some(warning) = exposure_warning(local) {
                eprintln!("{warning}");
            }
            connection_loop(&listener, &mut |line| eprintln!("{line}"))
        }
        Command::Client {
            addr,
            #[cfg(unix)]
            unix,
        } => {
            let stdin = io::stdin();
            let prompt = stdin.is_terminal();
            let mut out = io::stdout();
            #[cfg(unix)]
            if let Some(path) = unix {
                let mut conn = std::os::unix::net::UnixStream::connect(&path)
                    .with_context(|| format!("cannot connect to {}", path.display()))?;
                return Ok(client_session(&mut conn, stdin.lock(), &mut out, prompt)?);
            }
            let mut conn = std::net::TcpStream::connect(&addr)
                .with_context(|| format!("cannot connect to {addr}"))?;
            Ok(client_session(&mut conn, stdin.lock(), &mut out, prompt)?)
        }
        Command::Demo => lesson_01::demo::run(&mut io::stdout()),
    }
}

/// The first stdout line of every server in the course, flushed at once so that whoever
/// started the server (a test, a script) can read the real address.
fn announce(addr: impl std::fmt::Display) -> io::Result<()> {
    let mut out = io::stdout();
    writeln!(out, "listening on {addr}")?;
    out.flush()
}

#[cfg(unix)]
fn serve_unix(path: PathBuf) -> anyhow::Result<()> {
    let listener = lesson_01::bind_unix(&path)
        .with_context(|| format!("cannot listen on {}", path.display()))?;
    // The socket file must not outlive the server: removed on Ctrl-C or SIGTERM here, and by
    // `SocketFile`'s drop on any other way out of this function.
    let cleanup = path.clone();
    ctrlc::set_handler(move || {
        let _ = std::fs::remove_file(&cleanup);
        std::process::exit(130);
    })?;
    let _socket_file = lesson_01::SocketFile(path.clone());
    announce(path.display())?;
    connection_loop(&listener, &mut |line| eprintln!("{line}"))
}
