//! `lesson-05 demo`: the server in a thread, clients in `main`, and the network lab between
//! them for the last act.
//!
//! The server's log lines travel to the narrator through a channel, and the narrator prints
//! each one once the client's actions guarantee it exists (the server logs a command before it
//! sends the length, and the acknowledgement before it sends the data), so the transcript
//! reads the same on every run. The one number that changes from run to run, how many bytes a
//! single read returned, sits at the end of its line.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;

use anyhow::bail;
use netlab::{Directions, Flow, Options, Piece, Proxy};

use crate::{ACK, ServerConfig, connection_loop, recv_length, recv_reply};

/// How long the narrator waits for anything before it calls the demo broken.
const WAIT: Duration = Duration::from_secs(10);

/// The command whose reply is too big for one read: exactly 1 MiB of `x` lines.
const BIG: &str = "yes x | head -c 1048576";
const BIG_LEN: usize = 1024 * 1024;

/// Where the lab cuts; with this seed the 7-digit length leaves in four pieces.
const SEED: u64 = 17;

/// Runs the demo, narrating to `out`.
pub fn run(out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(
        out,
        "Lesson 5: a length prefix, and the recv_ready handshake"
    )?;
    writeln!(out)?;

    let listener = TcpListener::bind("127.0.0.1:0")?;
    let server_addr = listener.local_addr()?;
    writeln!(out, "[server] listening on {server_addr}")?;
    let log = spawn_server(listener);

    // ---- One command, step by step ----
    writeln!(
        out,
        "-- a client connects and sends one command, in four steps"
    )?;
    let mut conn = connect(server_addr)?;
    show(out, &log, 1)?;
    step_by_step(out, &log, &mut conn, "echo hello")?;

    writeln!(
        out,
        "-- a command that prints nothing: the length 0 says so, and there is nothing to read"
    )?;
    step_by_step(out, &log, &mut conn, "true")?;
    writeln!(out, "[client] close")?;
    drop(conn);
    show(out, &log, 1)?;

    // ---- A wrong acknowledgement ----
    writeln!(out)?;
    writeln!(
        out,
        "-- another client answers \"ok\" instead of \"recv_ready\""
    )?;
    let mut conn = connect(server_addr)?;
    show(out, &log, 1)?;
    writeln!(out, "[client] 1. command: \"echo hi\"")?;
    conn.write_all(b"echo hi")?;
    let length = recv_length(&mut conn)?;
    show(out, &log, 2)?;
    writeln!(out, "[client] 2. length: \"{length}\"")?;
    writeln!(out, "[client] 3. acknowledgement: \"ok\"")?;
    conn.write_all(b"ok")?;
    // The server logs why it hangs up, then closes: our read sees the close after the line.
    let mut rest = Vec::new();
    conn.read_to_end(&mut rest)?;
    show(out, &log, 1)?;
    if !rest.is_empty() {
        bail!("the server sent data after a wrong acknowledgement");
    }
    writeln!(
        out,
        "[client] read returned 0 bytes: the server closed the connection"
    )?;
    writeln!(
        out,
        "-- it did not wait for 8 more bytes: no bytes can turn \"ok\" into \"recv_ready\""
    )?;

    // ---- A long reply, through the network lab ----
    writeln!(out)?;
    let (trace_tx, trace) = mpsc::channel();
    let options = Options {
        split: Some((1, 7)),
        seed: SEED,
        directions: Directions::ToClient,
        trace: Some(trace_tx),
        ..Options::default()
    };
    let proxy = Proxy::on_loopback(server_addr, options)?;
    writeln!(
        out,
        "-- now through the network lab, which re-sends everything the server writes in pieces"
    )?;
    writeln!(
        out,
        "   of 1 to 7 bytes (netlab proxy --split 1..7 --directions to-client --seed {SEED})"
    )?;
    let mut conn = connect(proxy.local_addr())?;
    show(out, &log, 1)?;
    writeln!(out, "[client] 1. command: {BIG}")?;
    conn.write_all(BIG.as_bytes())?;
    show(out, &log, 2)?;
    // The length is seven digits, written by the server in one write. The lab cuts it.
    writeln!(out, "[lab] the length leaves the lab in pieces:")?;
    let mut pieces: Vec<Piece> = Vec::new();
    while pieces.iter().map(|p| p.bytes.len()).sum::<usize>() < BIG_LEN.to_string().len() {
        let piece = trace.recv_timeout(WAIT)?;
        if piece.flow == Flow::ToClient {
            writeln!(out, "    {piece}")?;
            pieces.push(piece);
        }
    }
    // Only the length's pieces were wanted; with the receiver gone the lab stops tracing.
    drop(trace);
    let mut digits = vec![0u8; BIG_LEN.to_string().len()];
    conn.read_exact(&mut digits)?;
    let length = crate::parse_length(&digits)?;
    writeln!(
        out,
        "[client] 2. length: \"{length}\" (the demo reads exactly 7 digits, because it knows the answer;"
    )?;
    writeln!(
        out,
        "   a real client's one read could have returned just \"{}\": chapter 6)",
        pieces[0].bytes.escape_ascii()
    )?;
    writeln!(out, "[client] 3. acknowledgement: \"recv_ready\"")?;
    conn.write_all(ACK)?;
    let data = recv_reply(&mut conn, length)?;
    show(out, &log, 1)?;
    if data.len() >= length {
        bail!("one read returned the whole reply: the demo could not show the flaw");
    }
    writeln!(
        out,
        "[client] 4. data: ONE read of up to {length} bytes returned {} bytes",
        data.len()
    )?;
    writeln!(
        out,
        "[got {} of {length} bytes; the rest is still in the socket]",
        data.len()
    )?;
    writeln!(
        out,
        "-- a read returns what has arrived so far, never waiting for the rest. The bytes came"
    )?;
    writeln!(
        out,
        "   in pieces of a few bytes, and even without the lab a socket's receive buffer"
    )?;
    writeln!(
        out,
        "   (128 KiB to begin with on Linux) holds far less than 1 MiB."
    )?;

    writeln!(out, "[client] 1. command: echo next")?;
    conn.write_all(b"echo next")?;
    match recv_length(&mut conn) {
        Ok(length) => bail!("the length read returned a valid length ({length})"),
        Err(e) => {
            writeln!(
                out,
                "[client] 2. length: the one read returned output left over from the last reply:"
            )?;
            writeln!(out, "[client] error: {e}")?;
        }
    }
    writeln!(
        out,
        "-- the stream is out of step for good. Lesson 6 reads until all {length} bytes are in."
    )?;
    Ok(())
}

/// Runs the server's connection loop in a thread; its log lines arrive on the returned channel.
fn spawn_server(listener: TcpListener) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        connection_loop(&listener, &ServerConfig::default(), &mut |line| {
            let _ = tx.send(line);
        })
    });
    rx
}

fn connect(addr: SocketAddr) -> std::io::Result<TcpStream> {
    let conn = TcpStream::connect(addr)?;
    conn.set_read_timeout(Some(WAIT))?;
    Ok(conn)
}

/// One command through the four steps, each narrated with the server's log lines about it.
fn step_by_step(
    out: &mut impl Write,
    log: &Receiver<String>,
    conn: &mut TcpStream,
    command: &str,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "[client] 1. command: {command:?} ({} bytes, no terminator)",
        command.len()
    )?;
    conn.write_all(command.as_bytes())?;
    let length = recv_length(conn)?;
    // The length has arrived, so the server has logged the command and its length.
    show(out, log, 2)?;
    writeln!(
        out,
        "[client] 2. length: \"{length}\" (ASCII digits, nothing else, one read)"
    )?;
    writeln!(out, "[client] 3. acknowledgement: \"recv_ready\"")?;
    conn.write_all(ACK)?;
    let data = recv_reply(conn, length)?;
    // The server logs the acknowledgement before it sends the data. (For an empty reply
    // there is nothing to wait for; `show` waits for the line itself.)
    show(out, log, 1)?;
    writeln!(
        out,
        "[client] 4. data: one read of up to {length} bytes returned {}: {}",
        data.len(),
        netlab::preview(&data, 32)
    )?;
    Ok(())
}

/// Prints the server's next `n` log lines, waiting (bounded) for each.
fn show(out: &mut impl Write, log: &Receiver<String>, n: usize) -> anyhow::Result<()> {
    for _ in 0..n {
        let line = log.recv_timeout(WAIT)?;
        writeln!(out, "[server] {line}")?;
    }
    Ok(())
}
