//! `lesson-01 demo`: the server in a thread, the client in `main`, one narrated session.
//!
//! The server's log lines travel to the narrator through a channel, and the narrator prints
//! each one at the moment the client's actions guarantee it exists, so the transcript reads
//! the same on every run.

use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;

use crate::{Listener, echo_once, reset, serve_one};

/// Runs the demo, narrating to `out`.
pub fn run(out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(out, "Lesson 1: an echo server and its client")?;
    writeln!(out)?;

    let listener = TcpListener::bind("127.0.0.1:0")?;
    writeln!(out, "[server] listening on {}", listener.local_addr()?)?;
    let addr = listener.local_addr()?;
    let log = spawn_server(listener, 3);

    writeln!(
        out,
        "-- a client talks, then closes the connection normally"
    )?;
    let mut conn = TcpStream::connect(addr)?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    // Waiting for the server's log line is what keeps this transcript in order: the line
    // exists once the server has accepted us, whatever the scheduler does.
    show(out, &log, 1)?;
    talk(out, &mut conn, "hello")?;
    talk(out, &mut conn, "sockets are byte pipes")?;
    writeln!(out, "[client] close")?;
    drop(conn);
    show(out, &log, 1)?;

    writeln!(
        out,
        "-- a client crashes: its connection is reset (SO_LINGER 0)"
    )?;
    let mut conn = TcpStream::connect(addr)?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    show(out, &log, 1)?;
    talk(out, &mut conn, "about to crash")?;
    writeln!(out, "[client] reset")?;
    reset(conn)?;
    show(out, &log, 1)?;

    writeln!(
        out,
        "-- the server went back to accept; the next client is served"
    )?;
    let mut conn = TcpStream::connect(addr)?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    show(out, &log, 1)?;
    talk(out, &mut conn, "still there?")?;
    writeln!(out, "[client] close")?;
    drop(conn);
    show(out, &log, 1)?;

    #[cfg(unix)]
    unix_part(out)?;
    Ok(())
}

/// The same server and client code over a Unix-domain socket.
#[cfg(unix)]
fn unix_part(out: &mut impl Write) -> anyhow::Result<()> {
    use std::os::unix::net::UnixStream;

    writeln!(out, "-- the same two loops over a Unix-domain socket")?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("echo.sock");
    let listener = crate::bind_unix(&path)?;
    writeln!(out, "[server] listening on <temporary folder>/echo.sock")?;
    let log = spawn_server(listener, 1);
    let mut conn = UnixStream::connect(&path)?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    show(out, &log, 1)?;
    talk(out, &mut conn, "same code, other family")?;
    writeln!(out, "[client] close")?;
    drop(conn);
    show(out, &log, 1)?;
    Ok(())
}

/// Serves `clients` clients in a thread; their log lines arrive on the returned channel.
fn spawn_server<L>(listener: L, clients: usize) -> Receiver<String>
where
    L: Listener + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for _ in 0..clients {
            serve_one(&listener, &mut |line| {
                let _ = tx.send(line);
            });
        }
    });
    rx
}

/// One message and its echo, narrated.
fn talk<S: io::Read + Write>(out: &mut impl Write, conn: &mut S, message: &str) -> io::Result<()> {
    let reply = echo_once(conn, message.as_bytes())?;
    writeln!(
        out,
        "[client] sent {message:?}, got back {:?}",
        String::from_utf8_lossy(&reply)
    )
}

/// Prints the server's next `n` log lines, waiting (bounded) for each.
fn show(out: &mut impl Write, log: &Receiver<String>, n: usize) -> anyhow::Result<()> {
    for _ in 0..n {
        let line = log.recv_timeout(Duration::from_secs(5))?;
        writeln!(out, "[server] {line}")?;
    }
    Ok(())
}
