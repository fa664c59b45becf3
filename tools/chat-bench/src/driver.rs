//! The client driver: one thread, one `polling::Poller`, thousands of non-blocking sockets.
//!
//! It runs in its own process (the benchmark re-executes itself with `--driver`), so the server's
//! figures are the server's alone. It talks to the benchmark over stdin/stdout, one report line
//! per phase (tab-separated `key=value` fields), and waits for `go` on stdin after the joins, while
//! the benchmark reads the server's memory, threads and descriptors.

use std::io::{self, BufRead, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use polling::{Event, Events, PollMode, Poller};
use socket2::{Domain, Socket, Type};

/// What one driver run does; passed on the command line by the benchmark.
#[derive(Clone, Debug)]
pub struct Plan {
    pub addr: SocketAddr,
    pub clients: usize,
    /// Messages sent one at a time for the latency phase.
    pub messages: usize,
    /// Clients that send at once in the throughput phase, lines each per round, rounds.
    pub senders: usize,
    pub lines: usize,
    pub rounds: usize,
    pub join_deadline: Duration,
    pub message_deadline: Duration,
    pub latency_deadline: Duration,
    pub throughput_deadline: Duration,
}

/// At most this many clients are connecting or waiting for their hello at once, so the server's
/// accept queue (std's backlog is 128) never overflows: an overflowing queue drops SYNs, and the
/// kernel retries them only after a second, which would measure the kernel, not the server.
const JOIN_WINDOW: usize = 100;

impl Plan {
    pub fn to_args(&self) -> Vec<String> {
        vec![
            self.addr.to_string(),
            self.clients.to_string(),
            self.messages.to_string(),
            self.senders.to_string(),
            self.lines.to_string(),
            self.rounds.to_string(),
            self.join_deadline.as_millis().to_string(),
            self.message_deadline.as_millis().to_string(),
            self.latency_deadline.as_millis().to_string(),
            self.throughput_deadline.as_millis().to_string(),
        ]
    }

    pub fn from_args(args: &[String]) -> Result<Plan, String> {
        if args.len() != 10 {
            return Err(format!("--driver takes 10 arguments, got {}", args.len()));
        }
        let n = |i: usize| -> Result<usize, String> {
            args[i]
                .parse()
                .map_err(|e| format!("argument {}: {e}", i + 1))
        };
        let ms = |i: usize| n(i).map(|v| Duration::from_millis(v as u64));
        Ok(Plan {
            addr: args[0].parse().map_err(|e| format!("address: {e}"))?,
            clients: n(1)?,
            messages: n(2)?,
            senders: n(3)?,
            lines: n(4)?,
            rounds: n(5)?,
            join_deadline: ms(6)?,
            message_deadline: ms(7)?,
            latency_deadline: ms(8)?,
            throughput_deadline: ms(9)?,
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Connecting,
    Naming,
    Named,
    Closed,
}

struct Client {
    sock: Option<TcpStream>,
    state: State,
    /// The start of a line whose end has not come yet.
    partial: Vec<u8>,
    /// Bytes the kernel has not taken yet (only ever a few lines).
    out: Vec<u8>,
}

#[derive(Default)]
struct Counters {
    connecting: usize,
    naming: usize,
    named: usize,
    /// Clients closed by the server (end of stream or error) after they had joined.
    closed_after_join: usize,
    /// Closed before their hello: refused, reset, or the server gave up on them.
    closed_before_join: usize,
    first_failure: Option<String>,
    /// The line every receiver of the current latency message should get, and how many got it.
    expect: Vec<u8>,
    expect_got: usize,
    /// Chat lines from the throughput phase (their text starts with `t`).
    bulk_got: u64,
    /// Server notices other than the expected ones (welcome, hello, joined, left).
    other_notices: u64,
    last_notice: Option<String>,
}

struct Driver {
    // Field order matters: the poller is dropped (closed) before the sockets registered in it.
    poller: Poller,
    events: Events,
    clients: Vec<Client>,
    c: Counters,
    scratch: Vec<u8>,
}

/// Writes one report line and flushes it.
fn report(fields: &[(&str, String)]) {
    let line: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut out = io::stdout().lock();
    // The benchmark reads these; if it has gone, there is no one to tell.
    let _ = writeln!(out, "{}", line.join("\t"));
    let _ = out.flush();
}

fn clean(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

/// Runs the whole plan and reports. Returns the process's exit code.
pub fn run(plan: &Plan) -> i32 {
    let mut d = match Driver::new(plan.clients) {
        Ok(d) => d,
        Err(e) => {
            report(&[
                ("phase", "joins".into()),
                ("ok", "false".into()),
                ("named", "0".into()),
                ("reason", clean(&format!("cannot start the driver: {e}"))),
            ]);
            return 1;
        }
    };

    // Phase 1: every client connects, sends its name, gets its hello.
    let started = Instant::now();
    let joined = d.join_all(plan);
    let secs = started.elapsed().as_secs_f64();
    let mut fields = vec![
        ("phase", "joins".to_string()),
        ("ok", joined.is_ok().to_string()),
        ("named", d.c.named.to_string()),
        ("secs", format!("{secs:.3}")),
    ];
    if let Err(reason) = &joined {
        fields.push(("reason", clean(reason)));
    }
    report(&fields);

    // The benchmark measures the server now; wait for its word (or its end).
    let mut line = String::new();
    if io::stdin().lock().read_line(&mut line).unwrap_or(0) == 0 || line.trim() != "go" {
        return 0;
    }
    if joined.is_err() {
        return 0;
    }

    // Phase 2: one message at a time; the time until every other client has it.
    let (samples, failure) = d.latency(plan);
    let mut fields = vec![
        ("phase", "latency".to_string()),
        ("samples", samples.len().to_string()),
    ];
    if !samples.is_empty() {
        fields.push((
            "us",
            samples
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(","),
        ));
    }
    if let Some(reason) = failure {
        fields.push(("reason", clean(&reason)));
    }
    report(&fields);

    // Phase 3: many senders at once; deliveries per second.
    let (delivered, expected, secs, failure) = d.throughput(plan);
    let mut fields = vec![
        ("phase", "throughput".to_string()),
        ("delivered", delivered.to_string()),
        ("expected", expected.to_string()),
        ("secs", format!("{secs:.3}")),
    ];
    if let Some(reason) = failure {
        fields.push(("reason", clean(&reason)));
    }
    report(&fields);

    let mut fields = vec![
        ("phase", "end".to_string()),
        ("closed_after_join", d.c.closed_after_join.to_string()),
        ("other_notices", d.c.other_notices.to_string()),
    ];
    if let Some(notice) = &d.c.last_notice {
        fields.push(("last_notice", clean(notice)));
    }
    report(&fields);
    0
}

impl Driver {
    fn new(n: usize) -> io::Result<Driver> {
        let mut clients = Vec::with_capacity(n);
        for _ in 0..n {
            clients.push(Client {
                sock: None,
                state: State::Closed,
                partial: Vec::new(),
                out: Vec::new(),
            });
        }
        Ok(Driver {
            poller: Poller::new()?,
            events: Events::with_capacity(NonZeroUsize::new(1024).expect("1024 is not zero")),
            clients,
            c: Counters::default(),
            scratch: vec![0; 64 * 1024],
        })
    }

    fn alive(&self) -> usize {
        self.c.named
    }

    fn fail(&mut self, text: String) {
        if self.c.first_failure.is_none() {
            self.c.first_failure = Some(text);
        }
    }

    fn join_all(&mut self, plan: &Plan) -> Result<(), String> {
        let deadline = Instant::now() + plan.join_deadline;
        let mut next = 0;
        loop {
            while next < plan.clients && self.c.connecting + self.c.naming < JOIN_WINDOW {
                if let Err(e) = self.connect(next, plan.addr) {
                    return Err(format!("client {next} could not connect: {e}"));
                }
                next += 1;
            }
            if self.c.named == plan.clients {
                return Ok(());
            }
            if let Some(why) = &self.c.first_failure {
                return Err(format!(
                    "{} of {} joined; {} closed before their hello: {why}",
                    self.c.named, plan.clients, self.c.closed_before_join
                ));
            }
            if self.c.closed_after_join > 0 {
                return Err(format!(
                    "{} joined clients were disconnected during the joins",
                    self.c.closed_after_join
                ));
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "joins did not settle within {:.0} s: {} of {} named, {} connecting, {} waiting for hello",
                    plan.join_deadline.as_secs_f64(),
                    self.c.named,
                    plan.clients,
                    self.c.connecting,
                    self.c.naming
                ));
            }
            self.turn(deadline)?;
        }
    }

    fn connect(&mut self, i: usize, addr: SocketAddr) -> io::Result<()> {
        let sock = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
        sock.set_nonblocking(true)?;
        match sock.connect(&addr.into()) {
            Ok(()) => {}
            Err(e)
                if e.raw_os_error() == Some(libc::EINPROGRESS)
                    || e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        let stream: TcpStream = sock.into();
        // SAFETY: every socket is deleted from the poller before it is closed (`close`), and the
        // poller is dropped before `clients` (field order of `Driver`).
        unsafe {
            self.poller
                .add_with_mode(&stream, Event::writable(i), PollMode::Level)?
        };
        let client = &mut self.clients[i];
        client.sock = Some(stream);
        client.state = State::Connecting;
        self.c.connecting += 1;
        Ok(())
    }

    /// One round of the event loop: wait until something is ready (or the deadline), handle it.
    fn turn(&mut self, deadline: Instant) -> Result<(), String> {
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(100));
        self.events.clear();
        match self.poller.wait(&mut self.events, Some(wait)) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => return Ok(()),
            Err(e) => return Err(format!("poll failed: {e}")),
        }
        let ready: Vec<Event> = self.events.iter().collect();
        for ev in ready {
            let i = ev.key;
            if self.clients[i].state == State::Connecting {
                if ev.writable || ev.readable {
                    self.connected(i);
                }
                continue;
            }
            if ev.writable {
                self.flush(i);
            }
            if ev.readable {
                self.read(i);
            }
        }
        Ok(())
    }

    fn connected(&mut self, i: usize) {
        let sock = self.clients[i]
            .sock
            .as_ref()
            .expect("a connecting client has a socket");
        let error = match sock.take_error() {
            Ok(None) => sock.peer_addr().err(),
            Ok(Some(e)) | Err(e) => Some(e),
        };
        if error.is_none() {
            let _ = sock.set_nodelay(true);
        }
        self.c.connecting -= 1;
        self.c.naming += 1;
        self.clients[i].state = State::Naming;
        if let Some(e) = error {
            self.fail(format!("connect failed: {e}"));
            self.close(i);
            return;
        }
        let name = format!("c{i}\n");
        self.send(i, name.as_bytes());
    }

    /// Writes what the kernel takes now; the rest waits for writability.
    fn send(&mut self, i: usize, bytes: &[u8]) {
        let client = &mut self.clients[i];
        client.out.extend_from_slice(bytes);
        self.flush(i);
    }

    fn flush(&mut self, i: usize) {
        let client = &mut self.clients[i];
        let Some(sock) = client.sock.as_mut() else {
            return;
        };
        while !client.out.is_empty() {
            match sock.write(&client.out) {
                Ok(0) => break,
                Ok(n) => {
                    client.out.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    // The read side will see the end and count it.
                    client.out.clear();
                    break;
                }
            }
        }
        let interest = if client.out.is_empty() {
            Event::readable(i)
        } else {
            Event::all(i)
        };
        let _ = self
            .poller
            .modify_with_mode(&*sock, interest, PollMode::Level);
    }

    fn read(&mut self, i: usize) {
        loop {
            let Some(sock) = self.clients[i].sock.as_mut() else {
                return;
            };
            match sock.read(&mut self.scratch) {
                Ok(0) => {
                    self.close(i);
                    return;
                }
                Ok(n) => {
                    let mut start = 0;
                    // Split into lines; a line may have begun in an earlier read.
                    while let Some(pos) = self.scratch[start..n].iter().position(|&b| b == b'\n') {
                        let end = start + pos;
                        if self.clients[i].partial.is_empty() {
                            let line = std::mem::take(&mut self.scratch);
                            self.on_line(i, &line[start..end]);
                            self.scratch = line;
                        } else {
                            let mut line = std::mem::take(&mut self.clients[i].partial);
                            line.extend_from_slice(&self.scratch[start..end]);
                            self.on_line(i, &line);
                            line.clear();
                            self.clients[i].partial = line;
                        }
                        start = end + 1;
                    }
                    let rest = &self.scratch[start..n];
                    self.clients[i].partial.extend_from_slice(rest);
                    if n < self.scratch.len() {
                        return;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    self.close(i);
                    return;
                }
            }
        }
    }

    fn on_line(&mut self, i: usize, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(notice) = line.strip_prefix(b"* ") {
            if notice.starts_with(b"hello ") && self.clients[i].state == State::Naming {
                self.clients[i].state = State::Named;
                self.c.naming -= 1;
                self.c.named += 1;
            } else if !(notice.starts_with(b"welcome")
                || notice.ends_with(b" joined")
                || notice.ends_with(b" left"))
            {
                self.c.other_notices += 1;
                let text = String::from_utf8_lossy(&notice[..notice.len().min(120)]).into_owned();
                if self.clients[i].state != State::Named {
                    self.fail(format!("server said: * {text}"));
                }
                self.c.last_notice = Some(format!("* {text}"));
            }
            return;
        }
        if !self.c.expect.is_empty() && line == self.c.expect.as_slice() {
            self.c.expect_got += 1;
        } else if let Some(pos) = line.windows(2).position(|w| w == b": ")
            && line.get(pos + 2) == Some(&b't')
        {
            self.c.bulk_got += 1;
        }
    }

    fn close(&mut self, i: usize) {
        let client = &mut self.clients[i];
        if let Some(sock) = client.sock.take() {
            let _ = self.poller.delete(&sock);
        }
        let state = std::mem::replace(&mut client.state, State::Closed);
        client.partial = Vec::new();
        client.out = Vec::new();
        match state {
            State::Connecting => {
                self.c.connecting -= 1;
                self.c.closed_before_join += 1;
            }
            State::Naming => {
                self.c.naming -= 1;
                self.c.closed_before_join += 1;
                let text = "the server closed a connection before its hello".to_string();
                self.fail(text);
            }
            State::Named => {
                self.c.named -= 1;
                self.c.closed_after_join += 1;
            }
            State::Closed => {}
        }
    }

    /// Sends `plan.messages` lines, one at a time, each from one of the first 100 clients in
    /// turn, and times each until every other client has it.
    fn latency(&mut self, plan: &Plan) -> (Vec<u64>, Option<String>) {
        let phase_end = Instant::now() + plan.latency_deadline;
        let mut samples = Vec::with_capacity(plan.messages);
        let senders = plan.clients.min(100);
        for k in 0..plan.messages {
            let Some(sender) = (0..senders)
                .map(|s| (k + s) % senders)
                .find(|&s| self.clients[s].state == State::Named)
            else {
                return (samples, Some("no sender left".into()));
            };
            self.c.expect = format!("c{sender}: m{k}").into_bytes();
            self.c.expect_got = 0;
            let started = Instant::now();
            let deadline = (started + plan.message_deadline).min(phase_end);
            self.send(sender, format!("m{k}\n").as_bytes());
            loop {
                // Every named client but the sender; a client the server cut off is no longer waited for.
                if self.c.expect_got >= self.alive().saturating_sub(1) {
                    samples.push(started.elapsed().as_micros() as u64);
                    break;
                }
                if Instant::now() >= deadline {
                    let why = if deadline == phase_end && Instant::now() >= phase_end {
                        format!(
                            "phase time ({:.0} s) ran out",
                            plan.latency_deadline.as_secs_f64()
                        )
                    } else {
                        format!("{:.0} s per message", plan.message_deadline.as_secs_f64())
                    };
                    self.c.expect.clear();
                    return (
                        samples,
                        Some(format!(
                            "message {k} reached {} of {} others within {why}",
                            self.c.expect_got,
                            self.alive().saturating_sub(1)
                        )),
                    );
                }
                if let Err(e) = self.turn(deadline) {
                    return (samples, Some(e));
                }
            }
        }
        self.c.expect.clear();
        (samples, None)
    }

    /// `plan.senders` clients each send `plan.lines` lines at once, `plan.rounds` times (the next
    /// round when the last is delivered: at most senders × lines messages wait in the server for
    /// any one client, well under its OUTBOX_LIMIT of 1000).
    fn throughput(&mut self, plan: &Plan) -> (u64, u64, f64, Option<String>) {
        let started = Instant::now();
        let deadline = started + plan.throughput_deadline;
        let senders = plan.senders.min(plan.clients);
        let mut expected: u64 = 0;
        self.c.bulk_got = 0;
        for round in 0..plan.rounds {
            let receivers = self.alive().saturating_sub(1) as u64;
            let mut sent = 0;
            for s in 0..senders {
                if self.clients[s].state != State::Named {
                    continue;
                }
                let mut text = String::new();
                for j in 0..plan.lines {
                    text.push_str(&format!("t{round}.{j}\n"));
                }
                self.send(s, text.as_bytes());
                sent += plan.lines as u64;
            }
            expected += sent * receivers;
            loop {
                let elapsed = started.elapsed().as_secs_f64();
                if self.c.bulk_got
                    >= expected.saturating_sub(self.c.closed_after_join as u64 * sent)
                {
                    break;
                }
                if Instant::now() >= deadline {
                    return (
                        self.c.bulk_got,
                        expected,
                        elapsed,
                        Some(format!(
                            "round {} of {} not delivered within {:.0} s",
                            round + 1,
                            plan.rounds,
                            plan.throughput_deadline.as_secs_f64()
                        )),
                    );
                }
                if let Err(e) = self.turn(deadline) {
                    return (self.c.bulk_got, expected, elapsed, Some(e));
                }
            }
        }
        (
            self.c.bulk_got,
            expected,
            started.elapsed().as_secs_f64(),
            None,
        )
    }
}
