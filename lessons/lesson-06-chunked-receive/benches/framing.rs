//! `cargo bench -p lesson-06`: what a framing costs per message, on loopback.
//!
//! A plain `main`, no benchmark framework. For each variant, a server thread and a client in
//! this thread exchange request/response messages in lockstep over one loopback connection.
//! A round gives every variant a fresh connection and a time budget (or a message limit,
//! whichever ends first); the variants take turns, round after round, so that a burst of
//! activity elsewhere on the machine hits them all alike, and each row reports the median of
//! its rounds. The variants:
//!
//! - the classic handshake (command; length in ASCII; `recv_ready`; data), as in this lesson;
//! - a 4-byte header and the payload in one write (`send_with_length`);
//! - a 4-byte header and the payload in two writes (header first, then the body);
//!
//! each with Nagle's algorithm on (the default) and off (`TCP_NODELAY`), for a 100-byte and a
//! 64 KiB reply. Under `cargo test --benches` (no `--bench` argument) it runs a few messages of
//! each, as a smoke test.

use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use lesson_06::{
    MAX_FRAME, MAX_REPLY, recv_command, recv_with_length, request, send_reply, send_with_length,
};

/// The request each message carries (the "command").
const REQUEST: &[u8] = b"get";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Protocol {
    Handshake,
    Header,
    HeaderTwoWrites,
}

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Protocol::Handshake => "handshake: length, recv_ready, data",
            Protocol::Header => "4-byte header, one write",
            Protocol::HeaderTwoWrites => "4-byte header, two writes",
        }
    }
}

// ANCHOR: two_writes
/// The tempting way to send a frame: the header, then the body, as two writes.
fn send_header_then_body(conn: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    let length = u32::try_from(payload.len()).expect("payload fits in 4 bytes");
    conn.write_all(&length.to_be_bytes())?;
    // With Nagle's algorithm on, this small write waits until the header is acknowledged, and
    // the receiver delays that acknowledgement, hoping to piggyback it on a reply it cannot
    // send before it has the body.
    conn.write_all(payload)
}
// ANCHOR_END: two_writes

/// One variant's result in one round.
struct Round {
    messages: u32,
    elapsed: Duration,
}

/// One variant, over all rounds.
struct Row {
    payload: usize,
    protocol: Protocol,
    nodelay: bool,
    rounds: Vec<Round>,
}

impl Row {
    /// The median of the rounds' times per message.
    fn per_message(&self) -> f64 {
        let mut times: Vec<f64> = self
            .rounds
            .iter()
            .map(|round| round.elapsed.as_secs_f64() / f64::from(round.messages))
            .collect();
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    }

    fn messages(&self) -> u32 {
        self.rounds.iter().map(|round| round.messages).sum()
    }
}

fn main() -> io::Result<()> {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then only a smoke test.
    let full = std::env::args().any(|arg| arg == "--bench");
    let (rounds, budget, max_messages) = if full {
        (5, Duration::from_millis(300), 4_000)
    } else {
        (1, Duration::from_millis(50), 5)
    };
    let started = Instant::now();
    if !full {
        println!("smoke test only: run `cargo bench -p lesson-06` for figures worth comparing");
    }
    println!(
        "framing: request/response messages in lockstep over loopback, one connection per round;"
    );
    println!(
        "{rounds} rounds; in each, every row runs for {} ms or {max_messages} messages, whichever ends first.",
        budget.as_millis()
    );
    let mut rows = Vec::new();
    for payload in [100, 64 * 1024] {
        for protocol in [
            Protocol::Handshake,
            Protocol::Header,
            Protocol::HeaderTwoWrites,
        ] {
            for nodelay in [false, true] {
                rows.push(Row {
                    payload,
                    protocol,
                    nodelay,
                    rounds: Vec::new(),
                });
            }
        }
    }
    for _ in 0..rounds {
        for row in &mut rows {
            let round = measure(row.payload, row.protocol, row.nodelay, budget, max_messages)?;
            row.rounds.push(round);
        }
    }
    for payload in [100, 64 * 1024] {
        let table: Vec<&Row> = rows.iter().filter(|row| row.payload == payload).collect();
        print_table(&table);
    }
    println!(
        "\nper message: the median of the rounds. baseline: the 4-byte header in one write, Nagle on (the default)."
    );
    println!("total time: {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// One round of one variant: a fresh connection, 3 warm-up messages, then the timed ones.
fn measure(
    payload: usize,
    protocol: Protocol,
    nodelay: bool,
    budget: Duration,
    max_messages: u32,
) -> io::Result<Round> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let reply: Vec<u8> = (0..payload).map(|i| b'a' + (i % 26) as u8).collect();
    let server = thread::spawn(move || -> io::Result<()> {
        let (mut conn, _) = listener.accept()?;
        conn.set_nodelay(nodelay)?;
        serve(&mut conn, protocol, &reply)
    });
    let mut conn = TcpStream::connect(addr)?;
    conn.set_nodelay(nodelay)?;
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    for _ in 0..3 {
        exchange(&mut conn, protocol, payload)?;
    }
    let start = Instant::now();
    let mut messages = 0;
    while messages < max_messages && start.elapsed() < budget {
        exchange(&mut conn, protocol, payload)?;
        messages += 1;
    }
    let elapsed = start.elapsed();
    // Closing ends the server's loop.
    drop(conn);
    server.join().expect("the server thread panicked")?;
    Ok(Round { messages, elapsed })
}

/// The server side of one connection, until the client closes it.
fn serve(conn: &mut TcpStream, protocol: Protocol, reply: &[u8]) -> io::Result<()> {
    loop {
        match protocol {
            Protocol::Handshake => {
                if recv_command(conn)?.is_none() {
                    return Ok(());
                }
                send_reply(conn, reply, &mut |_| {})?;
            }
            Protocol::Header | Protocol::HeaderTwoWrites => {
                // An error here is the client closing between frames: the end of the run.
                if recv_with_length(conn, MAX_FRAME).is_err() {
                    return Ok(());
                }
                if protocol == Protocol::Header {
                    send_with_length(conn, reply)?;
                } else {
                    send_header_then_body(conn, reply)?;
                }
            }
        }
    }
}

/// One message: the request out, the whole reply back, checked.
fn exchange(conn: &mut TcpStream, protocol: Protocol, payload: usize) -> io::Result<()> {
    let reply = match protocol {
        Protocol::Handshake => request(conn, std::str::from_utf8(REQUEST).unwrap())?,
        Protocol::Header => {
            send_with_length(conn, REQUEST)?;
            recv_with_length(conn, MAX_FRAME)?
        }
        Protocol::HeaderTwoWrites => {
            send_header_then_body(conn, REQUEST)?;
            recv_with_length(conn, MAX_FRAME)?
        }
    };
    assert!(payload <= MAX_REPLY);
    assert_eq!(reply.len(), payload, "a reply of the wrong size");
    Ok(())
}

fn print_table(rows: &[&Row]) {
    let baseline = rows
        .iter()
        .find(|row| row.protocol == Protocol::Header && !row.nodelay)
        .expect("the baseline row")
        .per_message();
    println!("\nreply of {} bytes", rows[0].payload);
    println!(
        "{:<38} {:>11} {:>9} {:>13} {:>12} {:>12}",
        "protocol", "TCP_NODELAY", "messages", "per message", "messages/s", "vs baseline"
    );
    for row in rows {
        let per = row.per_message();
        println!(
            "{:<38} {:>11} {:>9} {:>13} {:>12.0} {:>11.2}x",
            row.protocol.name(),
            if row.nodelay { "on" } else { "off" },
            row.messages(),
            format_duration(per),
            1.0 / per,
            per / baseline
        );
    }
}

/// `12.3 µs`, `40.1 ms`.
fn format_duration(secs: f64) -> String {
    if secs >= 1e-3 {
        format!("{:.2} ms", secs * 1e3)
    } else {
        format!("{:.1} µs", secs * 1e6)
    }
}
