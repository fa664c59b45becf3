//! `lesson-03 demo`: two servers in threads, a client in `main`, one narrated session.
//!
//! The servers' log lines travel to the narrator through channels, and the narrator prints
//! each one at the moment the client's actions guarantee it exists (a server logs a command
//! before it sends the reply), so the transcript reads the same on every run.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;

use crate::{BUFFER_SIZE, Limits, describe, send_command, serve_one};

/// Runs the demo, narrating to `out`.
pub fn run(out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(out, "Lesson 3: a remote shell")?;
    writeln!(out)?;

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    writeln!(
        out,
        "[server] listening on {addr} (commands time out after 10 s)"
    )?;
    let log = spawn_server(listener, Limits::default());

    writeln!(
        out,
        "-- a client connects; each command is run by `sh -c` on the server"
    )?;
    let mut conn = connect(addr)?;
    show(out, &log, 1)?;
    run_and_show(out, &log, &mut conn, "echo hello")?;

    writeln!(
        out,
        "-- a command that prints nothing still gets a reply: zero bytes would be no reply"
    )?;
    run_and_show(out, &log, &mut conn, "true")?;

    writeln!(
        out,
        "-- stdout and stderr share one pipe, so they arrive in the order they were written"
    )?;
    run_and_show(
        out,
        &log,
        &mut conn,
        "echo to-stdout; echo to-stderr >&2; echo to-stdout-again",
    )?;

    writeln!(
        out,
        "-- a long reply: the client reads ONCE, into a {BUFFER_SIZE}-byte buffer"
    )?;
    let command = "seq 1 400";
    writeln!(out, "[client] $ {command}")?;
    let reply = send_command(&mut conn, command)?;
    show(out, &log, 2)?;
    let text = String::from_utf8_lossy(&reply);
    let lines: Vec<&str> = text.lines().collect();
    writeln!(
        out,
        "[client] got {} bytes: {:?} to {:?}",
        reply.len(),
        lines.first().unwrap_or(&""),
        lines.last().unwrap_or(&"")
    )?;
    // `seq 1 400` prints 1492 bytes: 9 lines of 2 bytes, 90 of 3 and 301 of 4.
    let rest = 1492 - reply.len();
    writeln!(
        out,
        "[client] the other {rest} bytes are still waiting in the socket: the next command's read would return them (lesson 4)"
    )?;
    let mut leftover = vec![0u8; rest];
    conn.read_exact(&mut leftover)?;
    writeln!(
        out,
        "[client] (the demo drains them now, so nothing spills over)"
    )?;
    writeln!(out, "[client] close")?;
    drop(conn);
    show(out, &log, 1)?;

    writeln!(out)?;
    // Long enough for `echo started` to run first, even on a busy machine, so that the
    // transcript is always the same; short enough not to keep you waiting.
    let short = Limits {
        timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    writeln!(
        out,
        "[server] a second server, listening on {addr} (commands time out after {})",
        describe(short.timeout)
    )?;
    let log = spawn_server(listener, short);
    writeln!(
        out,
        "-- a runaway command is killed, with everything it started; the client is told"
    )?;
    let mut conn = connect(addr)?;
    show(out, &log, 1)?;
    run_and_show(
        out,
        &log,
        &mut conn,
        "echo started; sleep 5; echo never-printed",
    )?;
    writeln!(out, "-- and the server carries on with the next command")?;
    run_and_show(out, &log, &mut conn, "echo still here")?;
    writeln!(out, "[client] close")?;
    drop(conn);
    show(out, &log, 1)?;
    Ok(())
}

/// Serves one client in a thread; its log lines arrive on the returned channel.
fn spawn_server(listener: TcpListener, limits: Limits) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        serve_one(&listener, &limits, &mut |line| {
            let _ = tx.send(line);
        });
    });
    rx
}

fn connect(addr: std::net::SocketAddr) -> std::io::Result<TcpStream> {
    let conn = TcpStream::connect(addr)?;
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    Ok(conn)
}

/// One command, the server's two log lines about it, and the reply, narrated.
fn run_and_show(
    out: &mut impl Write,
    log: &Receiver<String>,
    conn: &mut TcpStream,
    command: &str,
) -> anyhow::Result<()> {
    writeln!(out, "[client] $ {command}")?;
    let reply = send_command(conn, command)?;
    // The reply has arrived, so the server has logged both lines about this command.
    show(out, log, 2)?;
    writeln!(out, "[client] got {} bytes:", reply.len())?;
    for line in String::from_utf8_lossy(&reply).lines() {
        writeln!(out, "    {line}")?;
    }
    Ok(())
}

/// Prints the server's next `n` log lines, waiting (bounded) for each.
fn show(out: &mut impl Write, log: &Receiver<String>, n: usize) -> anyhow::Result<()> {
    for _ in 0..n {
        let line = log.recv_timeout(Duration::from_secs(10))?;
        writeln!(out, "[server] {line}")?;
    }
    Ok(())
}
