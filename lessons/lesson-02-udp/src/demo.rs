//! `lesson-02 demo`: four small experiments that put UDP next to TCP, narrated.
//!
//! Every result printed here is the same on every run, by construction: datagrams on the
//! loopback interface are not lost, the TCP reader waits until all bytes are buffered before
//! it reads, and the echo server's log lines travel to the narrator through a channel and are
//! printed when the client's actions guarantee they exist. Only round-trip times vary.

use std::io::Write;
use std::net::UdpSocket;
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;

use crate::{
    Heard, Tally, WAIT, echo_once, send_connected, send_to_unconnected, serve, tcp_connect,
    tcp_stream, truncate_datagram, udp_datagrams, unused_tcp_addr, unused_udp_addr,
};

/// How long the demo waits before it calls a datagram lost, or a silence a silence.
const DEMO_TIMEOUT: Duration = Duration::from_millis(500);

/// Runs the demo, narrating to `out`.
pub fn run(out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(out, "Lesson 2: UDP vs TCP")?;
    boundaries(out)?;
    no_connection(out)?;
    truncation(out)?;
    loss(out)?;
    Ok(())
}

fn text(bytes: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(bytes))
}

fn boundaries(out: &mut impl Write) -> anyhow::Result<()> {
    let messages: [&[u8]; 3] = [b"one", b"two", b"three"];
    writeln!(out)?;
    writeln!(out, "1. Datagrams keep their boundaries; a stream does not")?;
    writeln!(
        out,
        "[udp] three send_to calls: \"one\", \"two\", \"three\""
    )?;
    for (i, datagram) in udp_datagrams(&messages)?.iter().enumerate() {
        writeln!(
            out,
            "[udp] recv_from #{}: {} bytes {}",
            i + 1,
            datagram.len(),
            text(datagram)
        )?;
    }
    writeln!(
        out,
        "[tcp] three write_all calls: \"one\", \"two\", \"three\""
    )?;
    writeln!(
        out,
        "[tcp] (the reader waits until all 11 bytes are buffered, then reads once)"
    )?;
    let read = tcp_stream(&messages)?;
    writeln!(out, "[tcp] read #1: {} bytes {}", read.len(), text(&read))?;
    Ok(())
}

fn no_connection(out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "2. UDP has no connection: sending to a port where nobody listens"
    )?;
    let udp = unused_udp_addr()?;
    let (sent, heard) = send_to_unconnected(udp, DEMO_TIMEOUT)?;
    writeln!(out, "[udp] send_to a closed port: Ok, {sent} bytes sent")?;
    writeln!(out, "[udp] then recv_from: {}", heard_line(&heard))?;
    let (sent, heard) = send_connected(udp, DEMO_TIMEOUT)?;
    writeln!(out, "[udp, connected] send: Ok, {sent} bytes sent")?;
    writeln!(out, "[udp, connected] then recv: {}", heard_line(&heard))?;
    match tcp_connect(unused_tcp_addr()?) {
        Ok(_) => writeln!(
            out,
            "[tcp] connect to a closed port: Ok (someone took the port?)"
        )?,
        Err(e) => writeln!(out, "[tcp] connect to a closed port: error: {}", e.kind())?,
    }
    Ok(())
}

fn heard_line(heard: &Heard) -> String {
    match heard {
        Heard::Datagram(data) => format!("a datagram? {}", text(data)),
        Heard::Nothing => format!(
            "nothing within {} ms, and no error",
            DEMO_TIMEOUT.as_millis()
        ),
        Heard::Error(kind) => format!("error: {kind}"),
    }
}

fn truncation(out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(out)?;
    writeln!(out, "3. A datagram larger than the buffer is cut short")?;
    writeln!(
        out,
        "[udp] send a 2000-byte datagram, then \"small\"; receive into 1024 bytes"
    )?;
    let (first, second) = truncate_datagram(2000, b"small", 1024)?;
    writeln!(
        out,
        "[udp] recv #1: {} bytes (the first 1024 of 2000)",
        first.len()
    )?;
    writeln!(
        out,
        "[udp] recv #2: {} bytes {}",
        second.len(),
        text(&second)
    )?;
    writeln!(
        out,
        "[udp] the other {} bytes of the big datagram are gone",
        2000 - first.len()
    )?;
    Ok(())
}

// ANCHOR: demo_loss
fn loss(out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "4. Loss and timeouts: an echo server that drops every 2nd datagram"
    )?;
    let socket = UdpSocket::bind("127.0.0.1:0")?;
    let server = socket.local_addr()?;
    let (tx, log) = mpsc::channel();
    // The server runs forever in its thread; the demo ends when `main` returns.
    thread::spawn(move || serve(&socket, Some(2), &mut |line| drop(tx.send(line))));

    let client = crate::client_socket(server)?;
    let mut tally = Tally::default();
    for i in 1..=4 {
        let message = format!("ping {i}");
        tally.sent += 1;
        writeln!(out, "[client] send {message:?}")?;
        let result = echo_once(&client, message.as_bytes(), DEMO_TIMEOUT)?;
        // The server logged this datagram before it replied (or instead of replying), so the
        // line is there to show, in the order things happened.
        show(out, &log)?;
        match result {
            Some((reply, rtt)) => {
                tally.received += 1;
                // The round-trip time differs on every run; the book shows it as `[..]`.
                let ms = rtt.as_secs_f64() * 1000.0;
                writeln!(out, "[client] reply {} in {ms:.3} ms", text(&reply))?;
            }
            None => writeln!(
                out,
                "[client] lost: no reply within {} ms",
                DEMO_TIMEOUT.as_millis()
            )?,
        }
    }
    writeln!(out, "[client] {tally}")?;
    Ok(())
}
// ANCHOR_END: demo_loss

/// Prints the server's next log line, with the client's port (it varies) left out.
fn show(out: &mut impl Write, log: &Receiver<String>) -> anyhow::Result<()> {
    let line = log.recv_timeout(WAIT)?;
    let line = match line.split_once(" from ") {
        Some((count, rest)) => match rest.split_once(": ") {
            Some((_peer, what)) => format!("{count} from the client: {what}"),
            None => line,
        },
        None => line,
    };
    writeln!(out, "[server] {line}")?;
    Ok(())
}
