//! Part II's benchmark (issue 12): the three chat servers side by side, at 1,000, 5,000 and
//! 10,000 connected clients, on this machine.
//!
//! ```text
//! cargo bench -p chat-bench
//! ```
//!
//! is the one command. It builds `lesson-08` (threads), `lesson-09` (event loop, each `--engine`
//! its `server --help` lists) and `lesson-10` (async) in release, and runs each of them, and a
//! 40-line Python `selectors` server (`py/chat_server.py`, if `python3` is there) as a reference,
//! one at a time, each as its own process (`server 127.0.0.1:0 --max-clients N`). The clients
//! live in another process: the benchmark re-executes itself as a client driver, one thread with
//! `polling` over N non-blocking sockets (`src/driver.rs`). Per server and count it measures:
//!
//! - **joins**: the time until all N clients are connected, named and have their hello (at most
//!   100 join at once). Servers announce a join only while the room has at most 100 people
//!   (protocol point 7), so the joins are not quadratic;
//! - **RSS per connection** once they have joined (`VmRSS` minus the idle server's, over N), the
//!   server's threads (`/proc/PID/status`) and open descriptors (`/proc/PID/fd`);
//! - **one message to all**: p50 and p99 over 100 messages sent one at a time (send, wait until
//!   all N-1 others have it, next);
//! - **deliveries per second** while 100 clients send 5 lines each at once, in rounds (a round
//!   starts when the last is delivered, so at most 500 messages wait for any one client, under
//!   the servers' `OUTBOX_LIMIT` of 1000); clients the server cut off are counted.
//!
//! Every wait has a deadline: a phase that fails says how in the table's notes and the run goes
//! on. The table (Markdown) and the machine line go to stdout, and to
//! `target/chat-bench/table.md`; `tools/chat-bench/table.md`, which the book shows, is a copy
//! of one full run. Progress goes to stderr. The benchmark raises its open-file limit (soft, within the hard limit; the servers
//! inherit it) and says so when the hard limit is too low for a count.
//!
//! Environment: `CHAT_BENCH_COUNTS=100,1000` (a quick run), `CHAT_BENCH_MESSAGES=100`,
//! `CHAT_BENCH_SERVERS=lesson-09,python` (labels containing any of these), and
//! `CHAT_BENCH_NO_BUILD=1` (use the release binaries already built).
//!
//! `cargo test -p chat-bench` runs the same binary as a smoke run (20 clients, 5 messages)
//! against a tiny thread-per-client server and the Python server, and fails if the harness does
//! not see every join and every message.

mod driver;
mod tiny;

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

pub use driver::Plan;

/// The goals of issue 12 for the event-loop and async servers at 10,000 clients.
const GOAL_RSS_KIB: f64 = 4.0;
const GOAL_P99_MS: f64 = 50.0;
/// Descriptors each process needs beyond one per client (listener, poller, pipes, logs).
const FD_SLACK: u64 = 64;

/// The benchmark binary's `main`: a client driver, a tiny server, a smoke run or the full run.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--driver") => {
            return match Plan::from_args(&args[1..]) {
                Ok(plan) => ExitCode::from(driver::run(&plan) as u8),
                Err(e) => {
                    eprintln!("chat-bench driver: {e}");
                    ExitCode::from(2)
                }
            };
        }
        Some("--tiny-server") => {
            return ExitCode::from(
                tiny::serve(args.get(1).map_or("127.0.0.1:0", String::as_str)) as u8,
            );
        }
        _ => {}
    }
    // cargo-nextest lists the tests of a harness = false binary with `--list --format terse`.
    if args.iter().any(|a| a == "--list") {
        if !args.iter().any(|a| a == "--ignored") {
            println!("smoke: test");
        }
        return ExitCode::SUCCESS;
    }
    if args.iter().any(|a| a == "--bench") {
        full_run()
    } else {
        smoke_run()
    }
}

// ---------------------------------------------------------------------------------------------
// Processes that cannot outlive the benchmark.

/// A child process killed and reaped on drop.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Lines of a child's stdout, read on a thread so that every wait can have a deadline.
fn line_channel(out: impl io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let spawned = thread::Builder::new()
        .name("child-stdout".into())
        .spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
    if let Err(e) = spawned {
        eprintln!("chat-bench: no thread to read a child's output: {e}");
    }
    rx
}

fn next_line(rx: &Receiver<String>, wait: Duration) -> Result<String, String> {
    match rx.recv_timeout(wait) {
        Ok(line) => Ok(line),
        Err(RecvTimeoutError::Timeout) => {
            Err(format!("no report within {:.0} s", wait.as_secs_f64()))
        }
        Err(RecvTimeoutError::Disconnected) => Err("the process ended without a report".into()),
    }
}

/// Runs a command to its end within `limit`, its output on our stderr. Err says why not.
fn run_bounded(cmd: &mut Command, limit: Duration) -> Result<(), String> {
    let stderr = io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| e.to_string())?;
    cmd.stdin(Stdio::null()).stdout(Stdio::from(stderr));
    let child = cmd.spawn().map_err(|e| format!("cannot start: {e}"))?;
    let mut guard = Guard(child);
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = guard.0.try_wait().map_err(|e| e.to_string())? {
            return if status.success() {
                Ok(())
            } else {
                Err(format!("failed ({status})"))
            };
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "did not finish within {:.0} s (killed)",
                limit.as_secs_f64()
            ));
        }
        thread::sleep(Duration::from_millis(100)); // polling a child's exit, not synchronising
    }
}

/// Runs a command and returns its stdout, within `limit`.
fn output_bounded(program: &Path, args: &[&str], limit: Duration) -> Option<String> {
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut guard = Guard(child);
    let rx = line_channel(guard.0.stdout.take()?);
    let deadline = Instant::now() + limit;
    let mut text = String::new();
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                text.push_str(&line);
                text.push('\n');
            }
            Err(RecvTimeoutError::Disconnected) => return Some(text),
            Err(RecvTimeoutError::Timeout) => return None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The machine: limits and what /proc says.

/// Raises the soft RLIMIT_NOFILE to at least `wanted` if the hard limit allows. Returns the
/// limits now in force, (soft, hard), and the soft limit before.
fn raise_nofile(wanted: u64) -> (u64, u64, u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return (0, 0, 0);
    }
    let before = lim.rlim_cur;
    let hard = lim.rlim_max;
    let target = wanted.min(hard);
    if target > before {
        lim.rlim_cur = target;
        // SAFETY: setrlimit reads the struct; a soft limit within the hard one needs no privilege.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } == 0 {
            return (target, hard, before);
        }
    }
    (before, hard, before)
}

fn proc_status(pid: u32) -> Option<(u64, u64)> {
    let text = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        line[name.len()..].split_whitespace().next()?.parse().ok()
    };
    Some((field("VmRSS:")?, field("Threads:")?))
}

/// The CPU time that process `pid` has used, in seconds, as (user, system): fields 14 and 15
/// of `/proc/PID/stat`, in clock ticks of 10 ms. System time includes the kernel's loopback
/// work done on the process's behalf (a write on loopback also runs the receiving side's TCP).
fn cpu_secs(pid: u32) -> Option<(f64, f64)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user as f64 / 100.0, system as f64 / 100.0))
}

fn fd_count(pid: u32) -> Option<usize> {
    Some(fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

fn load_average() -> String {
    let text = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn machine_line(limits: (u64, u64, u64), load_start: &str) -> String {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown CPU".to_string(), |s| s.trim().to_string());
    let cores = thread::available_parallelism().map_or(0, |n| n.get());
    let read = |p: &str| fs::read_to_string(p).map_or("?".into(), |s| s.trim().to_string());
    let (soft, hard, before) = limits;
    let raised = if soft > before {
        format!(" (raised from {before})")
    } else {
        String::new()
    };
    format!(
        "Machine: {cpu}, {cores} cores, Linux {}; load average at start {load_start}, at end {}; \
         RLIMIT_NOFILE soft {soft}{raised}, hard {hard}; pid_max {}, threads-max {}.",
        read("/proc/sys/kernel/osrelease"),
        load_average(),
        read("/proc/sys/kernel/pid_max"),
        read("/proc/sys/kernel/threads-max"),
    )
}

// ---------------------------------------------------------------------------------------------
// The servers.

#[derive(Clone, Debug)]
struct Server {
    label: String,
    program: PathBuf,
    /// Arguments before the address, and the flags after it; `{max}` becomes the cap.
    before: Vec<String>,
    after: Vec<String>,
    /// The goals of issue 12 apply (event loop and async).
    goal: bool,
}

fn python_server() -> Result<Server, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("py/chat_server.py");
    match output_bounded(
        Path::new("python3"),
        &["--version"],
        Duration::from_secs(10),
    ) {
        Some(_) => Ok(Server {
            label: "python selectors (reference)".into(),
            program: "python3".into(),
            before: vec![script.to_string_lossy().into_owned()],
            after: vec![],
            goal: false,
        }),
        None => Err("python3 not found: the Python reference row is skipped".into()),
    }
}

fn tiny_server() -> Result<Server, String> {
    let exe = std::env::current_exe().map_err(|e| format!("no path to this binary: {e}"))?;
    Ok(Server {
        label: "tiny (smoke only)".into(),
        program: exe,
        before: vec!["--tiny-server".into()],
        after: vec![],
        goal: false,
    })
}

/// The directory where `cargo build --release` puts binaries: ours is `<target>/<profile>/deps/x`.
fn release_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.join("release"))
}

/// Builds (unless CHAT_BENCH_NO_BUILD) and inspects the three lessons; Err rows say why one is missing.
fn lesson_servers(filter: Option<&[String]>, notes: &mut Vec<String>) -> Vec<Server> {
    let Some(dir) = release_dir() else {
        notes.push("cannot find the target directory; no lesson servers".into());
        return vec![];
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let build = std::env::var_os("CHAT_BENCH_NO_BUILD").is_none();
    let mut servers = Vec::new();
    for (package, kind, goal) in [
        ("lesson-08", "threads", false),
        ("lesson-09", "event loop", true),
        ("lesson-10", "async", true),
    ] {
        if filter.is_some_and(|f| {
            !f.iter()
                .any(|f| f.contains(package) || package.contains(f.as_str()))
        }) {
            continue;
        }
        if build {
            eprintln!("chat-bench: building {package} (release)");
            let built = run_bounded(
                Command::new(&cargo).args(["build", "--release", "--quiet", "-p", package]),
                Duration::from_secs(1200),
            );
            if let Err(e) = built {
                notes.push(format!(
                    "{package} ({kind}): `cargo build --release -p {package}` {e}; not measured"
                ));
                continue;
            }
        }
        let program = dir.join(package);
        let Some(help) = output_bounded(&program, &["server", "-h"], Duration::from_secs(10))
        else {
            notes.push(format!(
                "{package} ({kind}): `{} server --help` did not answer; not measured",
                program.display()
            ));
            continue;
        };
        let mut after = Vec::new();
        if help.contains("--max-clients") {
            after.extend(["--max-clients".to_string(), "{max}".to_string()]);
        } else {
            notes.push(format!(
                "{package}: `server --help` lists no --max-clients; run with its default cap"
            ));
        }
        let engines = engines(&help);
        if engines.is_empty() {
            servers.push(Server {
                label: format!("{package} ({kind})"),
                program: program.clone(),
                before: vec!["server".into()],
                after: after.clone(),
                goal,
            });
        }
        for engine in engines {
            let mut after = after.clone();
            after.extend(["--engine".to_string(), engine.clone()]);
            servers.push(Server {
                label: format!("{package} ({kind}, {engine})"),
                program: program.clone(),
                before: vec!["server".into()],
                after,
                goal,
            });
        }
        // A server with `--threads` (lesson 10's runtime) runs a second time on two worker
        // threads: one thread's writes are the floor of the one-to-all time (see the CPU
        // column), and two threads split them, on a machine whose clients need a core too.
        if help.contains("--threads") {
            let mut after = after.clone();
            after.extend(["--threads".to_string(), "2".to_string()]);
            servers.push(Server {
                label: format!("{package} ({kind}, 2 threads)"),
                program: program.clone(),
                before: vec!["server".into()],
                after,
                goal,
            });
        }
    }
    servers
}

/// The values of `--engine` that clap's short help (`-h`) lists as `[possible values: a, b]`
/// (the long `--help` lists them one per line instead).
fn engines(help: &str) -> Vec<String> {
    let Some(at) = help.find("--engine") else {
        return vec![];
    };
    let rest = &help[at..];
    let Some(start) = rest.find("possible values: ") else {
        return vec![];
    };
    let list = &rest[start + "possible values: ".len()..];
    let end = list.find(']').unwrap_or(list.len());
    list[..end]
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// One server at one count.

#[derive(Default, Debug)]
struct Row {
    server: String,
    goal: bool,
    clients: usize,
    joins_secs: Option<f64>,
    rss_kib_per_conn: Option<f64>,
    threads: Option<u64>,
    fds: Option<usize>,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    samples: usize,
    /// CPU time per message of the one-to-all phase: the server's, and the client driver's.
    /// (user, system) in ms.
    server_cpu_ms: Option<(f64, f64)>,
    clients_cpu_ms: Option<(f64, f64)>,
    deliveries_per_s: Option<f64>,
    delivered_all: bool,
    cut_off: Option<usize>,
    notes: Vec<String>,
}

struct Settings {
    messages: usize,
    senders: usize,
    lines: usize,
    smoke: bool,
    logs: PathBuf,
}

fn fields(line: &str) -> HashMap<String, String> {
    line.split('\t')
        .filter_map(|f| f.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn last_stderr_line(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_default();
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("(nothing)");
    line.chars().take(160).collect()
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1] as f64 / 1000.0
}

fn measure(server: &Server, n: usize, s: &Settings) -> Row {
    let mut row = Row {
        server: server.label.clone(),
        goal: server.goal,
        clients: n,
        ..Row::default()
    };
    if let Err(e) = measure_into(server, n, s, &mut row) {
        row.notes.push(e);
    }
    row
}

fn measure_into(server: &Server, n: usize, s: &Settings, row: &mut Row) -> Result<(), String> {
    let log = s.logs.join(format!(
        "{}-{n}.stderr",
        server.label.replace([' ', '(', ')', ','], "_")
    ));
    let log_file =
        fs::File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let max = (n + 16).to_string();
    let mut cmd = Command::new(&server.program);
    cmd.args(&server.before)
        .arg("127.0.0.1:0")
        .args(server.after.iter().map(|a| {
            if a == "{max}" {
                max.as_str()
            } else {
                a.as_str()
            }
        }))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log_file));
    let child = cmd
        .spawn()
        .map_err(|e| format!("server did not start: {e}"))?;
    let mut srv = Guard(child);
    let pid = srv.0.id();
    let out = line_channel(srv.0.stdout.take().expect("stdout is piped"));
    let first = next_line(&out, Duration::from_secs(15)).map_err(|e| {
        format!(
            "server gave no `listening on` line: {e}; stderr: {}",
            last_stderr_line(&log)
        )
    })?;
    let addr = first
        .strip_prefix("listening on ")
        .ok_or_else(|| format!("server's first line is {first:?}, not `listening on ADDR`"))?
        .trim()
        .parse()
        .map_err(|e| format!("server's address in {first:?}: {e}"))?;
    let (idle_kib, _) = proc_status(pid).ok_or("cannot read the idle server's /proc status")?;

    let plan = Plan {
        addr,
        clients: n,
        messages: s.messages,
        senders: s.senders.min(n),
        lines: s.lines,
        rounds: if s.smoke {
            2
        } else {
            let per_round = (s.senders.min(n) * s.lines * n.saturating_sub(1)).max(1);
            3_000_000usize.div_ceil(per_round).clamp(1, 20)
        },
        join_deadline: if s.smoke {
            Duration::from_secs(10)
        } else {
            Duration::from_millis(20_000 + 5 * n as u64)
        },
        message_deadline: Duration::from_secs(5),
        latency_deadline: Duration::from_secs(if s.smoke { 10 } else { 60 }),
        throughput_deadline: Duration::from_secs(if s.smoke { 10 } else { 30 }),
    };
    let exe = std::env::current_exe().map_err(|e| format!("no path to this binary: {e}"))?;
    let child = Command::new(exe)
        .arg("--driver")
        .args(plan.to_args())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("client driver did not start: {e}"))?;
    let mut drv = Guard(child);
    let mut go: ChildStdin = drv.0.stdin.take().expect("stdin is piped");
    let reports = line_channel(drv.0.stdout.take().expect("stdout is piped"));
    let margin = Duration::from_secs(15);

    let server_gone = |srv: &mut Guard| -> Option<String> {
        match srv.0.try_wait() {
            Ok(Some(status)) => Some(format!(
                "the server exited ({status}); its last stderr line: {}",
                last_stderr_line(&log)
            )),
            _ => None,
        }
    };

    // Joins.
    let joins = fields(
        &next_line(&reports, plan.join_deadline + margin).map_err(|e| format!("joins: {e}"))?,
    );
    // Measure the server with everyone in the room (or as many as got in).
    if let Some((rss, threads)) = proc_status(pid) {
        let named: usize = joins.get("named").and_then(|v| v.parse().ok()).unwrap_or(0);
        if named > 0 {
            row.rss_kib_per_conn = Some(rss.saturating_sub(idle_kib) as f64 / named as f64);
        }
        row.threads = Some(threads);
        row.fds = fd_count(pid);
    }
    if joins.get("ok").map(String::as_str) == Some("true") {
        row.joins_secs = joins.get("secs").and_then(|v| v.parse().ok());
    } else {
        let reason = joins
            .get("reason")
            .cloned()
            .unwrap_or_else(|| "joins failed".into());
        row.notes.push(format!("joins failed: {reason}"));
        if let Some(gone) = server_gone(&mut srv) {
            row.notes.push(gone);
        }
        let _ = writeln!(go, "stop");
        return Ok(());
    }
    let drv_pid = drv.0.id();
    let cpu_before = (cpu_secs(pid), cpu_secs(drv_pid));
    writeln!(go, "go").map_err(|e| format!("client driver gone: {e}"))?;

    // One message at a time.
    let latency = fields(
        &next_line(&reports, plan.latency_deadline + margin)
            .map_err(|e| format!("latency: {e}"))?,
    );
    let mut samples: Vec<u64> = latency
        .get("us")
        .map(|v| v.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_default();
    if !samples.is_empty() {
        // Where the time of one message goes: the server's CPU (its writes, and the kernel's
        // loopback work done on its behalf) and the clients' (their reads), per message.
        let per_message = |before: Option<(f64, f64)>, now: Option<(f64, f64)>| {
            let (before, now) = (before?, now?);
            let n = samples.len() as f64;
            Some((
                (now.0 - before.0) * 1000.0 / n,
                (now.1 - before.1) * 1000.0 / n,
            ))
        };
        row.server_cpu_ms = per_message(cpu_before.0, cpu_secs(pid));
        row.clients_cpu_ms = per_message(cpu_before.1, cpu_secs(drv_pid));
    }
    samples.sort_unstable();
    row.samples = samples.len();
    if !samples.is_empty() {
        row.p50_ms = Some(percentile(&samples, 50.0));
        row.p99_ms = Some(percentile(&samples, 99.0));
    }
    if let Some(reason) = latency.get("reason") {
        row.notes.push(format!(
            "one-to-all: {reason} ({} of {} messages timed)",
            samples.len(),
            plan.messages
        ));
    }

    // Many senders at once.
    let bulk = fields(
        &next_line(&reports, plan.throughput_deadline + margin)
            .map_err(|e| format!("throughput: {e}"))?,
    );
    let delivered: f64 = bulk
        .get("delivered")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let expected: f64 = bulk
        .get("expected")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let secs: f64 = bulk.get("secs").and_then(|v| v.parse().ok()).unwrap_or(0.0);
    if secs > 0.0 && delivered > 0.0 {
        row.deliveries_per_s = Some(delivered / secs);
    }
    row.delivered_all = !bulk.contains_key("reason");
    if let Some(reason) = bulk.get("reason") {
        row.notes.push(format!(
            "burst: {reason}; rate over the {secs:.1} s it ran, {:.0}% of {expected:.0} deliveries",
            100.0 * delivered / expected.max(1.0)
        ));
    }

    let end = fields(&next_line(&reports, margin).map_err(|e| format!("end: {e}"))?);
    let cut: usize = end
        .get("closed_after_join")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    row.cut_off = Some(cut);
    if cut > 0 {
        row.notes.push(format!(
            "the server disconnected {cut} joined clients (too slow, or worse)"
        ));
    }
    if let Some(notice) = end.get("last_notice") {
        row.notes
            .push(format!("unexpected server notice: {notice}"));
    }
    if let Some(gone) = server_gone(&mut srv) {
        row.notes.push(gone);
    }
    drop(srv);
    let deadline = Instant::now() + margin;
    while drv.0.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20)); // polling a child's exit, not synchronising
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The table.

fn ms(v: Option<f64>) -> String {
    match v {
        Some(x) if x < 10.0 => format!("{x:.2} ms"),
        Some(x) => format!("{x:.0} ms"),
        None => "—".into(),
    }
}

fn thousands(x: f64) -> String {
    let s = format!("{:.0}", x);
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn goal_cell(r: &Row) -> String {
    if !r.goal {
        return "—".into();
    }
    let rss_ok = r.rss_kib_per_conn.is_some_and(|v| v <= GOAL_RSS_KIB);
    let p99_ok = r.p99_ms.is_some_and(|v| v <= GOAL_P99_MS) && r.samples > 0;
    match (rss_ok, p99_ok) {
        (true, true) => "met".into(),
        (false, true) => "missed: RSS".into(),
        (true, false) => "missed: p99".into(),
        (false, false) => "missed: RSS, p99".into(),
    }
}

/// The table, in full for the terminal, or `compact` for the book (a page is narrower than a
/// terminal): no descriptors (about one per client), no cut-off count (stated in the notes when
/// not 0), no goal column (the chapters say it), and shorter server names.
fn table(rows: &[Row], notes: &[String], machine: &str, s: &Settings, compact: bool) -> String {
    // (header, right-aligned, in the compact table)
    let columns: [(&str, bool, bool); 13] = [
        ("server", false, true),
        ("clients", true, true),
        ("joins settled", true, true),
        ("RSS / conn", true, true),
        ("threads", true, true),
        ("fds", true, false),
        ("one to all p50", true, true),
        ("p99", true, true),
        ("CPU / message: server, clients", true, true),
        ("deliveries/s (burst)", true, true),
        ("cut off", true, false),
        ("goal ≤ 4 KiB, p99 ≤ 50 ms", false, false),
        ("notes", false, true),
    ];
    let shown = |i: usize| !compact || columns[i].2;
    let mut out = String::new();
    let mut header = String::from("|");
    let mut rule = String::from("|");
    for (i, (name, right, _)) in columns.iter().enumerate() {
        if shown(i) {
            header.push_str(&format!(" {name} |"));
            rule.push_str(if *right { "---:|" } else { "---|" });
        }
    }
    out.push_str(&format!("{header}\n{rule}\n"));
    let mut footnotes = Vec::new();
    for r in rows {
        let mut refs = Vec::new();
        for note in &r.notes {
            footnotes.push(format!(
                "{} at {}: {note}",
                r.server,
                thousands(r.clients as f64)
            ));
            refs.push(format!("[{}]", footnotes.len()));
        }
        let rate = r.deliveries_per_s.map_or("—".into(), |v| {
            if r.delivered_all {
                thousands(v)
            } else {
                format!("{} (partial)", thousands(v))
            }
        });
        let name = if compact {
            // "lesson-09 (event loop, poll)" -> "9 (poll)"
            r.server
                .trim_start_matches("lesson-")
                .trim_start_matches('0')
                .replace("event loop, ", "")
                .replace(" (reference)", "")
        } else {
            r.server.clone()
        };
        let cells: [String; 13] = [
            name,
            thousands(r.clients as f64),
            r.joins_secs
                .map_or("failed".into(), |v| format!("{v:.2} s")),
            r.rss_kib_per_conn
                .map_or("—".into(), |v| format!("{v:.1} KiB")),
            r.threads.map_or("—".into(), |v| v.to_string()),
            r.fds.map_or("—".into(), |v| v.to_string()),
            ms(r.p50_ms),
            ms(r.p99_ms),
            match (r.server_cpu_ms, r.clients_cpu_ms) {
                (Some((su, ss)), Some((cu, cs))) => format!(
                    "{:.1} ms ({:.0}% kernel), {:.1} ms",
                    su + ss,
                    100.0 * ss / (su + ss).max(1e-9),
                    cu + cs
                ),
                _ => "—".into(),
            },
            rate,
            r.cut_off.map_or("—".into(), |v| v.to_string()),
            goal_cell(r),
            refs.join(" "),
        ];
        out.push('|');
        for (i, cell) in cells.iter().enumerate() {
            if shown(i) {
                out.push_str(&format!(" {cell} |"));
            }
        }
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&format!(
        "Joins: at most 100 clients connect at once; each sends its name at once and counts as joined at its \
         hello. The servers announce a join only while the room has at most 100 people (protocol point 7), so \
         the joins are not quadratic. One to all: {} messages, one at a time, from the first 100 clients in \
         turn, timed until all N-1 others have read it; CPU / message is the server's and the client \
         driver's CPU time (user + system, from /proc/PID/stat; the share in the kernel for the server) \
         over that phase, divided by the messages. Burst: {} clients send {} lines each at once, in rounds \
         (a round starts when the last is delivered), deliveries = lines × (N-1). Cut off: joined clients the \
         server disconnected. RSS / conn = (VmRSS with everyone joined - idle VmRSS) / N. The clients run in \
         one other process on the same {} cores, so figures include its share of the CPU. Goals (issue 12) \
         apply to the event-loop and async servers at 10,000 clients.\n\n",
        s.messages,
        s.senders,
        s.lines,
        thread::available_parallelism().map_or(0, |n| n.get()),
    ));
    for (i, note) in footnotes.iter().enumerate() {
        // A list, so that Markdown keeps one note per line.
        out.push_str(&format!("- [{}] {note}\n", i + 1));
    }
    if !footnotes.is_empty() {
        out.push('\n');
    }
    for note in notes {
        out.push_str(&format!("- {note}\n"));
    }
    if !notes.is_empty() {
        out.push('\n');
    }
    out.push_str(machine);
    out.push('\n');
    out
}

// ---------------------------------------------------------------------------------------------
// The two runs.

fn env_list(name: &str) -> Option<Vec<String>> {
    let v = std::env::var(name).ok()?;
    let list: Vec<String> = v
        .split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect();
    (!list.is_empty()).then_some(list)
}

fn logs_dir() -> PathBuf {
    let dir = release_dir()
        .and_then(|d| d.parent().map(|t| t.join("chat-bench")))
        .unwrap_or_else(|| std::env::temp_dir().join("chat-bench"));
    let _ = fs::create_dir_all(&dir);
    dir
}

/// Runs every server at every count; `limits` is what `raise_nofile` returned.
fn run_all(
    servers: &[Server],
    counts: &[usize],
    limits: (u64, u64, u64),
    s: &Settings,
    notes: &mut Vec<String>,
) -> Vec<Row> {
    let wanted = counts.iter().max().copied().unwrap_or(0) as u64 + FD_SLACK;
    let usable = limits.0.saturating_sub(FD_SLACK) as usize;
    if limits.0 < wanted {
        let text = format!(
            "RLIMIT_NOFILE: the hard limit is {}, too low for {} clients (each process needs about N + {FD_SLACK} \
             descriptors); counts above {usable} are skipped. Raise the hard limit (as root: `ulimit -Hn 20000`, \
             or LimitNOFILE= in a service) and run again.",
            limits.1,
            counts.iter().max().copied().unwrap_or(0)
        );
        eprintln!("chat-bench: {text}");
        notes.push(text);
    } else {
        eprintln!(
            "chat-bench: RLIMIT_NOFILE soft {} (was {}), hard {}",
            limits.0, limits.2, limits.1
        );
    }
    let mut rows = Vec::new();
    for &n in counts {
        if n > usable {
            continue;
        }
        for server in servers {
            eprintln!("chat-bench: {} with {n} clients ...", server.label);
            let started = Instant::now();
            let row = measure(server, n, s);
            eprintln!(
                "chat-bench:   {:.1} s: joins {:?} s, RSS/conn {:?} KiB, threads {:?}, fds {:?}, p50 {:?} ms, p99 {:?} ms, {:?}/s{}",
                started.elapsed().as_secs_f64(),
                row.joins_secs,
                row.rss_kib_per_conn.map(|v| (v * 10.0).round() / 10.0),
                row.threads,
                row.fds,
                row.p50_ms,
                row.p99_ms,
                row.deliveries_per_s.map(|v| v.round()),
                if row.notes.is_empty() {
                    String::new()
                } else {
                    format!("; {}", row.notes.join("; "))
                }
            );
            rows.push(row);
        }
    }
    rows
}

fn full_run() -> ExitCode {
    let started = Instant::now();
    let load_start = load_average();
    let counts: Vec<usize> = match env_list("CHAT_BENCH_COUNTS") {
        Some(list) => match list
            .iter()
            .map(|c| c.parse::<usize>())
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(counts) if counts.iter().all(|&c| c >= 2) => counts,
            _ => {
                eprintln!(
                    "chat-bench: CHAT_BENCH_COUNTS must be numbers of at least 2, like 100,1000"
                );
                return ExitCode::from(2);
            }
        },
        None => vec![1000, 5000, 10_000],
    };
    let messages = match std::env::var("CHAT_BENCH_MESSAGES")
        .ok()
        .map(|v| v.parse::<usize>())
    {
        None => 100,
        Some(Ok(m)) if m >= 1 => m,
        Some(_) => {
            eprintln!("chat-bench: CHAT_BENCH_MESSAGES must be a number of at least 1");
            return ExitCode::from(2);
        }
    };
    let filter = env_list("CHAT_BENCH_SERVERS");
    let mut notes = Vec::new();
    // The file limit first: the servers inherit it.
    let wanted = counts.iter().max().copied().unwrap_or(0) as u64 + FD_SLACK;
    let limits = raise_nofile(wanted);
    let mut servers = lesson_servers(filter.as_deref(), &mut notes);
    match python_server() {
        Ok(py) => servers.push(py),
        Err(e) => notes.push(e),
    }
    if let Some(filter) = &filter {
        servers.retain(|s| filter.iter().any(|f| s.label.contains(f.as_str())));
    }
    let settings = Settings {
        messages,
        senders: 100,
        lines: 5,
        smoke: false,
        logs: logs_dir(),
    };
    let rows = run_all(&servers, &counts, limits, &settings, &mut notes);
    notes.push(format!(
        "Wall time of this run: {:.0} s.",
        started.elapsed().as_secs_f64()
    ));
    let machine = machine_line(limits, &load_start);
    print!("{}", table(&rows, &notes, &machine, &settings, false));
    // The book shows this file as it is (tools/chat-bench/table.md is a copy of it), so
    // the figures in the chapters are the ones a run printed, not figures typed in.
    let file = settings.logs.join("table.md");
    match fs::write(
        &file,
        format!(
            "{}\nCommand: `cargo bench -p chat-bench`.\n",
            table(&rows, &notes, &machine, &settings, true)
        ),
    ) {
        Ok(()) => println!("\nThe table is also in {}.", file.display()),
        Err(e) => eprintln!("chat-bench: cannot write {}: {e}", file.display()),
    }
    println!("Servers' stderr logs: {}.", settings.logs.display());
    let _ = io::stdout().flush();
    ExitCode::SUCCESS
}

/// The harness checked cheaply: 20 clients, 5 messages, against the tiny server and Python.
fn smoke_run() -> ExitCode {
    let load_start = load_average();
    let mut notes = Vec::new();
    let mut servers = Vec::new();
    match tiny_server() {
        Ok(t) => servers.push(t),
        Err(e) => {
            eprintln!("chat-bench smoke: {e}");
            return ExitCode::FAILURE;
        }
    }
    match python_server() {
        Ok(py) => servers.push(py),
        Err(e) => notes.push(e),
    }
    let settings = Settings {
        messages: 5,
        senders: 5,
        lines: 5,
        smoke: true,
        logs: std::env::temp_dir(),
    };
    let limits = raise_nofile(20 + FD_SLACK);
    let rows = run_all(&servers, &[20], limits, &settings, &mut notes);
    let machine = machine_line(limits, &load_start);
    print!("{}", table(&rows, &notes, &machine, &settings, false));
    let mut failed = Vec::new();
    for r in &rows {
        let ok = r.joins_secs.is_some()
            && r.samples == settings.messages
            && r.delivered_all
            && r.cut_off == Some(0)
            && r.notes.is_empty()
            && r.rss_kib_per_conn.is_some()
            && r.fds.is_some_and(|f| f >= 20);
        if !ok {
            failed.push(format!("{}: {r:?}", r.server));
        }
    }
    if failed.is_empty() {
        println!(
            "test smoke ... ok\n\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out"
        );
        ExitCode::SUCCESS
    } else {
        for f in &failed {
            eprintln!("chat-bench smoke FAILED: {f}");
        }
        println!(
            "test smoke ... FAILED\n\ntest result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out"
        );
        ExitCode::FAILURE
    }
}
