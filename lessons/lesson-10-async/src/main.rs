//! `lesson-10`: Part II's chat server with tokio, its client, and a narrated demo.

use std::io::{self, Write};
use std::panic;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use course_cli::{number, seconds};
use lesson_10::{
    Config, DEFAULT_ADDR, DEFAULT_MAX_CLIENTS, MAX_CLIENTS, Server, Stopped, THREADS, serve,
    stderr_log,
};
use tokio::net::TcpListener;
use tokio::runtime::{Builder, Runtime};
use tokio::signal::unix::{SignalKind, signal};

/// Lesson 10: a chat server with tokio: a task per client, a broadcast channel, a line codec,
/// and shutdown by cancellation.
#[derive(Parser)]
#[command(name = "lesson-10", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the chat server until Ctrl-C or SIGTERM.
    Server {
        /// Address to listen on. Port 0 lets the OS choose.
        #[arg(default_value = DEFAULT_ADDR)]
        addr: String,
        /// Refuse connections beyond this many (1 to 100000).
        #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CLIENTS,
              value_parser = number::<usize>(MAX_CLIENTS))]
        max_clients: usize,
        /// Close a connection that sends no valid name within this many seconds (0.001 to 86400).
        #[arg(long, value_name = "SECS", default_value = "30", value_parser = seconds)]
        name_timeout: Duration,
        /// At shutdown, wait at most this many seconds for clients to take their last lines
        /// (0.001 to 86400).
        #[arg(long, value_name = "SECS", default_value = "5", value_parser = seconds)]
        grace: Duration,
        /// Worker threads of the runtime (1 to 64); 1 runs every task on the main thread.
        #[arg(long, value_name = "N", default_value_t = 1, value_parser = number::<usize>(THREADS))]
        threads: usize,
    },
    /// Print what the server sends; send each line of standard input (`quit` or its end stops).
    Client {
        /// Address of the server.
        #[arg(default_value = DEFAULT_ADDR)]
        addr: String,
        /// Send this name as the first line.
        #[arg(long)]
        name: Option<String>,
    },
    /// A server and scripted clients in one process: a narrated session.
    Demo,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Server {
            addr,
            max_clients,
            name_timeout,
            grace,
            threads,
        } => {
            let config = Config {
                max_clients,
                name_timeout,
                grace,
            };
            let runtime = runtime(threads)?;
            let stopped = runtime.block_on(run_server(&addr, config))?;
            // Dropping the runtime drops every task still running: their sockets close.
            drop(runtime);
            if let Stopped::GraceRanOut(open) = stopped {
                eprintln!("the grace ran out: closed {open} connections");
            }
            println!("stopped");
            Ok(())
        }
        Command::Client { addr, name } => {
            let runtime = runtime(1)?;
            let ran = runtime.block_on(lesson_10::client::run(
                &addr,
                name.as_deref(),
                tokio::io::stdin(),
                &mut io::stdout(),
            ));
            // tokio reads stdin on a blocking thread that may still wait for a line: don't
            // wait for it.
            runtime.shutdown_background();
            ran.with_context(|| format!("chat with {addr}"))
        }
        Command::Demo => lesson_10::demo::run(&mut io::stdout()),
    }
}

// ANCHOR: runtime
/// The runtime: with one thread, tasks take turns on the main thread; with more, worker
/// threads share them. If the workers cannot start, one thread still serves.
fn runtime(threads: usize) -> io::Result<Runtime> {
    if threads > 1 {
        // tokio panics (rather than returning an error) when the OS refuses a worker thread:
        // catch that, quietly, and fall back to the main thread alone.
        let hook = panic::take_hook();
        panic::set_hook(Box::new(|_| {}));
        let built = panic::catch_unwind(|| {
            let mut builder = Builder::new_multi_thread();
            builder.worker_threads(threads).enable_all().build()
        });
        panic::set_hook(hook);
        match built {
            Ok(Ok(runtime)) => return Ok(runtime),
            Ok(Err(e)) => eprintln!("cannot start {threads} worker threads ({e}); using one"),
            Err(_) => eprintln!("cannot start {threads} worker threads; using one"),
        }
    }
    Builder::new_current_thread().enable_all().build()
}
// ANCHOR_END: runtime

// ANCHOR: run_server
async fn run_server(addr: &str, config: Config) -> anyhow::Result<Stopped> {
    // Listen for the signals before saying we listen: a SIGTERM that comes right after the
    // first line must stop the server politely, not kill it.
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let mut out = io::stdout();
    writeln!(out, "listening on {}", listener.local_addr()?)?;
    out.flush()?;
    let signalled = async move {
        tokio::select! {
            _ = interrupt.recv() => eprintln!("SIGINT: shutting down"),
            _ = terminate.recv() => eprintln!("SIGTERM: shutting down"),
        }
    };
    Ok(serve(listener, Server::new(config, stderr_log()), signalled).await)
}
// ANCHOR_END: run_server
