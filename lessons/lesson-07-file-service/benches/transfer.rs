//! `cargo bench -p lesson-07`: what a verified transfer costs, next to a plain socket copy.
//!
//! A plain `main`, no benchmark framework. Everything runs as separate processes, the way a
//! learner runs the lesson: the real `lesson-07` binary as the server and as one client per
//! transfer, each client timed from its spawn to its exit. The comparison is a raw copy of the
//! same file by this benchmark's own executable, started again as two small programs: a sender
//! that reads the file and `write_all`s it to a socket, and a receiver that reads the socket and
//! writes a file, both through the lesson's 128 KiB buffer, with no header and no hashing.
//!
//! The phases:
//!
//! 1. a file of pseudo-random bytes (1 GiB; `LESSON07_BENCH_MIB` sets another size), hashed once
//!    here to time MD5 alone: the floor for any transfer that hashes every byte on one core;
//! 2. rounds of `md5sum` of the file (the cost of hashing it once, by a tool written in C), raw
//!    copy, `get` and `put`, taking turns so that a burst of activity elsewhere on the machine
//!    hits them all alike, after one warm-up round that is not counted; each row reports the
//!    median of its rounds, and its ratio to `md5sum` and to the raw copy;
//! 3. the same `get` and `put` with a 64 MiB file and a server of its own, to show that peak
//!    memory does not grow with the file (the body streams through one buffer);
//! 4. 50 clients at once, each fetching its own 10 MiB file.
//!
//! Every transfer is checked: the client exits with success, its summary line carries the
//! source's MD5 and size, and the received file has the source's bytes. Under
//! `cargo test --benches` (no `--bench` argument) it runs the same phases with small files, as a
//! smoke test.

use std::env;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use lesson_07::BUFFER_SIZE;
use md5::{Digest, Md5};

/// The binary under test, built by cargo with the bench's profile (release under `cargo bench`).
const LESSON_07: &str = env!("CARGO_BIN_EXE_lesson-07");

const MIB: u64 = 1024 * 1024;

/// How long a server may take to print its `listening on` line.
const STARTUP: Duration = Duration::from_secs(10);

/// Every socket in the benchmark gives up after this long without progress, so nothing can
/// hang: the clients get it as `--timeout`, the raw copy as read and write timeouts.
const IDLE_SECS: u64 = 30;

/// The concurrency phase: this many clients at once, against a server that serves this many.
const CLIENTS: usize = 50;
const MAX_CLIENTS: usize = 64;

/// What one run of the benchmark does.
struct Plan {
    full: bool,
    rounds: usize,
    /// The big file: 1 GiB unless `LESSON07_BENCH_MIB` says otherwise.
    size: u64,
    /// The file of the second memory measurement.
    small: u64,
    /// Each concurrent client's file.
    each: u64,
}

fn main() -> Result<()> {
    let args: Vec<String> = env::args().skip(1).collect();
    // This executable is also the raw copy's sender and receiver: see `raw_serve`.
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["raw-serve", file] => return raw_serve(Path::new(file)),
        ["raw-get", addr, out] => return raw_get(addr, Path::new(out)),
        _ => {}
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: then only a smoke test.
    let full = args.iter().any(|arg| arg == "--bench");
    let mib = match env::var("LESSON07_BENCH_MIB") {
        Ok(text) => text
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|&mib| mib > 0)
            .with_context(|| format!("LESSON07_BENCH_MIB={text:?} is not a number of MiB"))?,
        Err(_) if full => 1024,
        Err(_) => 8,
    };
    let plan = match full {
        true => Plan {
            full,
            rounds: 5,
            size: mib * MIB,
            small: 64 * MIB,
            each: 10 * MIB,
        },
        false => Plan {
            full,
            rounds: 1,
            size: mib * MIB,
            small: 2 * MIB,
            each: 256 * 1024,
        },
    };
    run(&plan)
}

// ---- The phases ----

/// Where the files live, all under one temporary folder that is removed at the end.
struct Folders {
    source: PathBuf,
    server: PathBuf,
    client: PathBuf,
    raw: PathBuf,
    logs: PathBuf,
}

fn run(plan: &Plan) -> Result<()> {
    let started = Instant::now();
    if !plan.full {
        println!("smoke test only: run `cargo bench -p lesson-07` for figures worth comparing");
    }
    println!("lesson-07 transfer benchmark, every process on loopback");
    println!("machine: {}; {}", machine(), load());
    println!(
        "file: {} of pseudo-random bytes (LESSON07_BENCH_MIB sets the size in MiB); {} of raw copy, get and put, in turns",
        size_text(plan.size),
        rounds_text(plan.rounds)
    );
    let temp = tempfile::Builder::new()
        .prefix("lesson-07-bench.")
        .tempdir()?;
    let folders = Folders {
        source: temp.path().join("source"),
        server: temp.path().join("server"),
        client: temp.path().join("client"),
        raw: temp.path().join("raw"),
        logs: temp.path().join("logs"),
    };
    for dir in [
        &folders.source,
        &folders.server,
        &folders.client,
        &folders.raw,
        &folders.logs,
    ] {
        fs::create_dir(dir)?;
    }
    println!("working folder: {}", temp.path().display());

    let big = folders.source.join("big.bin");
    let made = Instant::now();
    write_pseudo_random(&big, plan.size, 1)?;
    println!(
        "wrote {} in {:.2} s",
        big.display(),
        made.elapsed().as_secs_f64()
    );
    let hashed = md5_of(&big)?;
    println!(
        "MD5 alone: {:.2} s for the file, {:.1} MB/s (read and hash: {:.2} s); md5 {}",
        hashed.hashing.as_secs_f64(),
        mb_per_s(plan.size, hashed.hashing),
        hashed.total.as_secs_f64(),
        hashed.md5
    );

    let main = big_file_rounds(plan, &folders, &big, &hashed.md5)?;
    let small = small_file_rounds(plan, &folders)?;
    let many = many_clients(plan, &folders)?;

    print_tables(plan, &hashed, &main, &small, &many);
    println!(
        "\ntotal time: {:.1} s; {}",
        started.elapsed().as_secs_f64(),
        load()
    );
    Ok(())
}

/// One transfer: its time from spawn to exit, and what both sides used.
#[derive(Clone, Copy)]
struct Sample {
    elapsed: Duration,
    /// The speed the client printed: from its request to the verified file, no process start.
    reported: Option<f64>,
    client_cpu: Duration,
    client_rss_kib: u64,
    server_cpu: Duration,
}

/// The rounds of one file size.
#[derive(Default)]
struct Rows {
    size: u64,
    raw: Vec<Sample>,
    /// `md5sum` of the file, where the machine has it: hashing it once, and nothing else.
    md5sum: Vec<Sample>,
    /// The first `get` of a file the server has not read before: the server hashes it.
    get: Vec<Sample>,
    /// The same `get` again: the server knows the digest, and only the client hashes.
    get_again: Vec<Sample>,
    put: Vec<Sample>,
    /// Peak RSS of each server over all its rounds.
    server_rss_kib: u64,
    raw_server_rss_kib: u64,
}

/// Phase 2: raw copy, `get` and `put` of the big file, in turns, with one lesson server and one
/// raw sender that stay up for all the rounds.
fn big_file_rounds(plan: &Plan, folders: &Folders, big: &Path, md5: &str) -> Result<Rows> {
    let logs = &folders.logs;
    let server = Server::lesson(&folders.server, MAX_CLIENTS, &logs.join("server.log"))?;
    let raw_server = Server::raw(big, &logs.join("raw-server.log"))?;
    let mut rows = Rows {
        size: plan.size,
        ..Rows::default()
    };
    // Round 0 is a warm-up, checked but not counted: in trial runs the first raw copy of the
    // 1 GiB file took 1.5 to 2.5 s, the later ones 0.5 to 0.9 s.
    let md5sum = md5sum_here();
    for round in 0..=plan.rounds {
        let hashed = match md5sum {
            true => Some(md5sum_of(big, md5, logs)?),
            false => None,
        };
        let raw = raw_copy(&raw_server, big, &folders.raw.join("big.bin"), logs)?;
        // `get` links the source into the server's folder afresh (`put` removed it), so the
        // server has never seen this file: it hashes while it sends. The second `get` of the
        // unchanged file finds the digest in the server's cache.
        let get_first = get(&server, folders, big, md5)?;
        let get_again = get(&server, folders, big, md5)?;
        let put = put(&server, folders, big, md5)?;
        println!(
            "{}: md5sum {}, raw {}, get {}, get again {}, put {}",
            match round {
                0 => "warm-up (not counted)".to_string(),
                n => format!("round {n}"),
            },
            hashed.map_or("-".to_string(), |s| speed(plan.size, s.elapsed)),
            speed(plan.size, raw.elapsed),
            speed(plan.size, get_first.elapsed),
            speed(plan.size, get_again.elapsed),
            speed(plan.size, put.elapsed)
        );
        if round == 0 {
            continue;
        }
        rows.raw.push(raw);
        rows.md5sum.extend(hashed);
        rows.get.push(get_first);
        rows.get_again.push(get_again);
        rows.put.push(put);
    }
    // VmHWM is the peak over the server's whole life: every round above, not one transfer.
    rows.server_rss_kib = server.stop()?;
    rows.raw_server_rss_kib = raw_server.stop()?;
    Ok(rows)
}

/// Phase 3: `get` and `put` of a small file, with a server of its own, so that its peak RSS
/// can be compared with the big file's.
fn small_file_rounds(plan: &Plan, folders: &Folders) -> Result<Rows> {
    let file = folders.source.join("small.bin");
    write_pseudo_random(&file, plan.small, 2)?;
    let md5 = md5_of(&file)?.md5;
    let root = folders.server.with_file_name("server-small");
    fs::create_dir(&root)?;
    let server = Server::lesson(&root, MAX_CLIENTS, &folders.logs.join("server-small.log"))?;
    let folders = Folders {
        server: root,
        source: folders.source.clone(),
        client: folders.client.clone(),
        raw: folders.raw.clone(),
        logs: folders.logs.clone(),
    };
    let mut rows = Rows {
        size: plan.small,
        ..Rows::default()
    };
    for _ in 0..plan.rounds {
        rows.get.push(get(&server, &folders, &file, &md5)?);
        rows.put.push(put(&server, &folders, &file, &md5)?);
    }
    rows.server_rss_kib = server.stop()?;
    println!(
        "{} file, own server: get {}, put {} (medians)",
        size_text(plan.small),
        speed(plan.small, median(&rows.get, |s| s.elapsed)),
        speed(plan.small, median(&rows.put, |s| s.elapsed))
    );
    Ok(rows)
}

/// Whether this machine has `md5sum` (GNU coreutils; macOS has `md5` instead): without it the
/// table has no `md5sum` row and no ratios to it.
fn md5sum_here() -> bool {
    let found = Command::new("md5sum")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !found {
        println!("no md5sum on this machine: the table compares with the raw copy only");
    }
    found
}

/// `md5sum FILE`, timed like a client from spawn to exit: the cost of hashing the file once,
/// reading included, by a tool written in C. Its output must be the file's MD5.
fn md5sum_of(file: &Path, md5: &str, logs: &Path) -> Result<Sample> {
    let mut command = Command::new("md5sum");
    command.arg(file);
    let mut hashing = Client::spawn(command, "", &logs.join("md5sum.log"))?;
    let done = hashing.finish()?;
    ensure!(
        done.stdout.split_whitespace().next() == Some(md5),
        "md5sum printed {:?}, not the file's MD5 {md5}",
        done.stdout
    );
    Ok(done.sample(None, Duration::ZERO))
}

/// The raw copy: the sender is already listening, the receiver is timed from spawn to exit.
fn raw_copy(sender: &Server, source: &Path, out: &Path, logs: &Path) -> Result<Sample> {
    let server_cpu = sender.cpu()?;
    let mut command = Command::new(env::current_exe()?);
    command.arg("raw-get").arg(&sender.addr).arg(out);
    let mut receiver = Client::spawn(command, "", &logs.join("raw-get.log"))?;
    let done = receiver.finish()?;
    let server_cpu = sender.cpu()? - server_cpu;
    ensure!(
        same_bytes(source, out)?,
        "the raw copy differs from the source"
    );
    fs::remove_file(out)?;
    Ok(done.sample(None, server_cpu))
}

/// `get big.bin` into the client's folder, checked, then removed.
fn get(server: &Server, folders: &Folders, source: &Path, md5: &str) -> Result<Sample> {
    let name = file_name(source);
    let served = folders.server.join(name);
    // The server serves a second name for the source's bytes: no copy, no extra disk.
    if !served.exists() {
        fs::hard_link(source, &served)?;
    }
    let size = fs::metadata(source)?.len();
    let server_cpu = server.cpu()?;
    let log = folders.logs.join("client.log");
    let mut client = Client::lesson(&server.addr, &folders.client, &format!("get {name}"), &log)?;
    let done = client.finish()?;
    let server_cpu = server.cpu()? - server_cpu;
    let reported = summary_speed(&done.stdout, "got", name, size, md5)?;
    let received = folders.client.join(name);
    ensure!(
        same_bytes(source, &received)?,
        "the file got differs from the source"
    );
    fs::remove_file(received)?;
    Ok(done.sample(Some(reported), server_cpu))
}

/// `put big.bin` from a folder that holds the source under that name, checked on the server's
/// side, then removed there.
fn put(server: &Server, folders: &Folders, source: &Path, md5: &str) -> Result<Sample> {
    let name = file_name(source);
    let stored = folders.server.join(name);
    // Whatever the server holds under this name (the link `get` served) is replaced by the
    // upload; removing it first makes sure the bytes checked below are the ones that arrived.
    if stored.exists() {
        fs::remove_file(&stored)?;
    }
    let size = fs::metadata(source)?.len();
    let server_cpu = server.cpu()?;
    let log = folders.logs.join("client.log");
    // The source folder is the client's folder here: `put NAME` reads `NAME` from it.
    let mut client = Client::lesson(&server.addr, &folders.source, &format!("put {name}"), &log)?;
    let done = client.finish()?;
    let server_cpu = server.cpu()? - server_cpu;
    let reported = summary_speed(&done.stdout, "put", name, size, md5)?;
    ensure!(
        same_bytes(source, &stored)?,
        "the file put differs from the source"
    );
    fs::remove_file(stored)?;
    Ok(done.sample(Some(reported), server_cpu))
}

/// Phase 4's result.
struct Many {
    clients: usize,
    each: u64,
    walls: Vec<Duration>,
    slowest: Vec<Duration>,
    client_rss_kib: u64,
    server_rss_kib: u64,
}

/// Phase 4: `CLIENTS` clients started at once, each fetching its own file, all verified.
fn many_clients(plan: &Plan, folders: &Folders) -> Result<Many> {
    let root = folders.server.with_file_name("server-many");
    fs::create_dir(&root)?;
    let mut files = Vec::new();
    for i in 0..CLIENTS {
        let name = format!("file-{i:02}.bin");
        let path = root.join(&name);
        write_pseudo_random(&path, plan.each, 100 + i as u64)?;
        let md5 = md5_of(&path)?.md5;
        let dir = folders.client.join(format!("many-{i:02}"));
        fs::create_dir(&dir)?;
        files.push((name, path, md5, dir));
    }
    let server = Server::lesson(&root, MAX_CLIENTS, &folders.logs.join("server-many.log"))?;
    let mut many = Many {
        clients: CLIENTS,
        each: plan.each,
        walls: Vec::new(),
        slowest: Vec::new(),
        client_rss_kib: 0,
        server_rss_kib: 0,
    };
    for _ in 0..plan.rounds {
        let first = Instant::now();
        let mut clients = Vec::new();
        for (i, (name, _, _, dir)) in files.iter().enumerate() {
            let log = folders.logs.join(format!("many-{i:02}.log"));
            clients.push(Client::lesson(
                &server.addr,
                dir,
                &format!("get {name}"),
                &log,
            )?);
        }
        // One thread per client, each blocked in `wait4` on its own child: every client's end
        // is seen when it happens, whatever the order.
        let results: Vec<Result<Done>> = thread::scope(|scope| {
            let waiting: Vec<_> = clients
                .iter_mut()
                .map(|client| scope.spawn(move || client.finish()))
                .collect();
            waiting
                .into_iter()
                .map(|thread| thread.join().expect("a waiting thread panicked"))
                .collect()
        });
        let mut last = first;
        let mut slowest = Duration::ZERO;
        for ((name, path, md5, dir), done) in files.iter().zip(results) {
            let done = done?;
            summary_speed(&done.stdout, "got", name, plan.each, md5)?;
            let received = dir.join(name);
            ensure!(
                same_bytes(path, &received)?,
                "{name} differs from the source"
            );
            fs::remove_file(received)?;
            last = last.max(done.ended);
            slowest = slowest.max(done.elapsed);
            many.client_rss_kib = many.client_rss_kib.max(done.rss_kib);
        }
        let wall = last - first;
        println!(
            "{CLIENTS} clients at once, {} each: all verified in {:.2} s, {:.1} MB/s in all",
            size_text(plan.each),
            wall.as_secs_f64(),
            mb_per_s(plan.each * CLIENTS as u64, wall)
        );
        many.walls.push(wall);
        many.slowest.push(slowest);
    }
    many.server_rss_kib = server.stop()?;
    Ok(many)
}

// ---- The table ----

fn print_tables(plan: &Plan, hashed: &Hashed, main: &Rows, small: &Rows, many: &Many) {
    let size = plan.size;
    let raw = median(&main.raw, |s| s.elapsed);
    println!(
        "\n## {} over loopback: median of {}, each process timed from spawn to exit",
        size_text(size),
        rounds_text(plan.rounds)
    );
    println!();
    // Only when there is an `md5sum` row: its median, the unit of the "vs md5sum" column.
    let md5sum = (!main.md5sum.is_empty()).then(|| median(&main.md5sum, |s| s.elapsed));
    let versus = |time: Duration| match md5sum {
        Some(hashing) => format!("{:.2}x", time.as_secs_f64() / hashing.as_secs_f64()),
        None => "-".to_string(),
    };
    println!(
        "| transfer | time | MB/s | vs md5sum | vs raw | client-reported MB/s | client CPU | server CPU |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let rows: [(&str, &[Sample]); 5] = [
        (
            "md5sum of the file: hashing it once, no transfer",
            &main.md5sum,
        ),
        ("raw copy: 128 KiB buffer, no header, no hash", &main.raw),
        ("get, MD5-verified, first time (both sides hash)", &main.get),
        (
            "get again, MD5-verified (server's digest cached)",
            &main.get_again,
        ),
        ("put, MD5-verified (both sides hash)", &main.put),
    ];
    for (what, samples) in rows {
        if samples.is_empty() {
            continue;
        }
        let time = median(samples, |s| s.elapsed);
        let reported = match samples[0].reported {
            Some(_) => format!("{:.1}", median_f64(samples, |s| s.reported.unwrap_or(0.0))),
            None => "-".to_string(),
        };
        println!(
            "| {what} | {:.3} s | {:.1} | {} | {:.2}x | {reported} | {:.2} s | {:.2} s |",
            time.as_secs_f64(),
            mb_per_s(size, time),
            versus(time),
            time.as_secs_f64() / raw.as_secs_f64(),
            median(samples, |s| s.client_cpu).as_secs_f64(),
            median(samples, |s| s.server_cpu).as_secs_f64(),
        );
    }
    println!(
        "| MD5 alone in this process (the md-5 crate), hashing only, no reading | {:.3} s | {:.1} | {} | {:.2}x | - | - | - |",
        hashed.hashing.as_secs_f64(),
        mb_per_s(size, hashed.hashing),
        versus(hashed.hashing),
        hashed.hashing.as_secs_f64() / raw.as_secs_f64()
    );
    // The receiver of a verified transfer hashes every byte it gets, on one core (MD5 is a chain:
    // no block can be hashed before the one in front of it), so hashing the file once bounds
    // every verified row from below, however fast the socket is. A first `get` and a `put` hash
    // it twice, once on each side: on a machine with two cores, both cores are busy hashing.
    if let Some(hashing) = md5sum {
        let ratio =
            |rows: &[Sample]| median(rows, |s| s.elapsed).as_secs_f64() / hashing.as_secs_f64();
        println!(
            "\nfloor: a verified transfer cannot beat hashing the file once; md5sum does it in {:.3} s \
             ({:.2}x the raw copy). get takes {:.2}x md5sum the first time, {:.2}x again; put {:.2}x.",
            hashing.as_secs_f64(),
            hashing.as_secs_f64() / raw.as_secs_f64(),
            ratio(&main.get),
            ratio(&main.get_again),
            ratio(&main.put)
        );
    }

    println!("\n## Peak RSS (the body streams through a few fixed buffers)");
    println!();
    println!(
        "| file | server, all its rounds | get client | put client | raw sender | raw receiver |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for rows in [small, main] {
        let raw = |kib: u64| match rows.raw.is_empty() {
            true => "-".to_string(),
            false => format_kib(kib),
        };
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            size_text(rows.size),
            format_kib(rows.server_rss_kib),
            format_kib(max_rss(&rows.get)),
            format_kib(max_rss(&rows.put)),
            raw(rows.raw_server_rss_kib),
            raw(max_rss(&rows.raw)),
        );
    }

    let wall = median(&many.walls, |&d| d);
    println!(
        "\n## {} clients at once, each getting its own {} file, all MD5-verified (median of {})",
        many.clients,
        size_text(many.each),
        rounds_text(many.walls.len())
    );
    println!();
    println!("| wall time | MB/s in all | slowest client | server peak RSS | largest client RSS |");
    println!("|---:|---:|---:|---:|---:|");
    println!(
        "| {:.2} s | {:.1} | {:.2} s | {} | {} |",
        wall.as_secs_f64(),
        mb_per_s(many.each * many.clients as u64, wall),
        median(&many.slowest, |&d| d).as_secs_f64(),
        format_kib(many.server_rss_kib),
        format_kib(many.client_rss_kib),
    );

    println!(
        "\nMB/s: 10^6 bytes per second. Client CPU: user + system time of the client process (the raw"
    );
    println!(
        "receiver for the raw copy), from wait4. Server CPU: the server's (or raw sender's) user + system"
    );
    println!(
        "time during the transfer, from /proc/PID/stat in 10 ms ticks. RSS: the kernel's peak resident set"
    );
    println!(
        "(wait4's ru_maxrss for clients, VmHWM for servers, read just before each server is stopped)."
    );
    println!("\ncommand: cargo bench -p lesson-07");
    println!("quicker: LESSON07_BENCH_MIB=64 cargo bench -p lesson-07");
}

// ---- Processes ----

/// A child process, killed and reaped when dropped, whatever happened to the benchmark.
struct Process {
    child: Child,
    /// Set once `wait4` has reaped it: its pid may then be reused, so it is never signalled again.
    reaped: bool,
}

/// How a process ended, and what the kernel says it used.
struct Ended {
    status: ExitStatus,
    at: Instant,
    rss_kib: u64,
    cpu: Duration,
}

impl Process {
    fn spawn(command: &mut Command) -> Result<Process> {
        let child = command
            .spawn()
            .with_context(|| format!("cannot start {command:?}"))?;
        Ok(Process {
            child,
            reaped: false,
        })
    }

    fn pid(&self) -> libc::pid_t {
        self.child.id() as libc::pid_t
    }

    /// Waits for the end with `wait4` rather than `Child::wait`: it also returns the process's
    /// resource usage, peak RSS included, which is gone once the process is reaped.
    fn wait(&mut self) -> Result<Ended> {
        ensure!(!self.reaped, "process {} was already reaped", self.pid());
        let mut status = 0;
        // SAFETY: `rusage` is a C struct of integers, for which all zeroes is a valid value.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        loop {
            // SAFETY: both pointers are to locals that outlive the call.
            let pid = unsafe { libc::wait4(self.pid(), &mut status, 0, &mut usage) };
            if pid == self.pid() {
                break;
            }
            let e = io::Error::last_os_error();
            if e.kind() != ErrorKind::Interrupted {
                return Err(e).context("wait4");
            }
        }
        let at = Instant::now();
        self.reaped = true;
        Ok(Ended {
            status: ExitStatus::from_raw(status),
            at,
            // ru_maxrss is in KiB on Linux.
            rss_kib: usage.ru_maxrss as u64,
            cpu: from_timeval(usage.ru_utime) + from_timeval(usage.ru_stime),
        })
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if !self.reaped {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn from_timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}

/// A server process that has printed its `listening on` line.
struct Server {
    process: Process,
    addr: String,
    /// Kept open so that the server never writes into a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl Server {
    /// The lesson's server, serving `root`.
    fn lesson(root: &Path, max_clients: usize, log: &Path) -> Result<Server> {
        let mut command = Command::new(LESSON_07);
        command
            .args(["server", "127.0.0.1:0", "--idle-timeout"])
            .arg(IDLE_SECS.to_string())
            .arg("--max-clients")
            .arg(max_clients.to_string())
            .arg("--root")
            .arg(root);
        Server::start(command, log)
    }

    /// The raw copy's sender: this executable, sending `file` to whoever connects.
    fn raw(file: &Path, log: &Path) -> Result<Server> {
        let mut command = Command::new(env::current_exe()?);
        command.arg("raw-serve").arg(file);
        Server::start(command, log)
    }

    fn start(mut command: Command, log: &Path) -> Result<Server> {
        // The log goes to a file: a pipe nobody reads would fill up and stop the server.
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(log)?);
        let mut process = Process::spawn(&mut command)?;
        let stdout = process.child.stdout.take().expect("stdout is piped");
        // The first line is read on a thread so that a server that never prints it costs
        // STARTUP, not forever; on a timeout `process` is dropped (killed), which ends the read.
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let read = reader.read_line(&mut line).map(|_| line);
            let _ = tx.send((read, reader));
        });
        let (line, stdout) = rx.recv_timeout(STARTUP).map_err(|_| {
            anyhow::anyhow!(
                "{command:?} printed no `listening on` line in {STARTUP:?}; its log:\n{}",
                fs::read_to_string(log).unwrap_or_default()
            )
        })?;
        let line = line?;
        let Some(addr) = line.trim_end().strip_prefix("listening on ") else {
            bail!(
                "{command:?} printed {line:?}, not `listening on ADDR`; its log:\n{}",
                fs::read_to_string(log).unwrap_or_default()
            );
        };
        Ok(Server {
            addr: addr.to_string(),
            process,
            _stdout: stdout,
        })
    }

    /// CPU time used so far, from /proc/PID/stat (in clock ticks, usually 10 ms).
    fn cpu(&self) -> Result<Duration> {
        let stat = fs::read_to_string(format!("/proc/{}/stat", self.process.pid()))?;
        // The command name (field 2) may hold spaces: count fields from the ')' that ends it.
        // utime and stime are fields 14 and 15, so the 12th and 13th after it.
        let after = &stat[stat.rfind(')').context("a /proc stat line without ')'")? + 1..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
        // SAFETY: sysconf only reads a configuration value.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
        Ok(Duration::from_secs_f64(ticks as f64 / per_second as f64))
    }

    /// Stops the server and returns its peak RSS in KiB (VmHWM: the most it ever held resident,
    /// read before the kill, while /proc still has it).
    fn stop(mut self) -> Result<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.process.pid()))
            .context("the server is gone before the end of its phase")?;
        let hwm = status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().strip_suffix("kB"))
            .and_then(|kib| kib.trim().parse().ok())
            .context("no VmHWM in /proc/PID/status")?;
        self.process.child.kill()?;
        self.process.wait()?;
        Ok(hwm)
    }
}

/// A client process whose standard input has been written and closed.
struct Client {
    process: Process,
    started: Instant,
    log: PathBuf,
}

/// A client that has ended with success.
struct Done {
    stdout: String,
    elapsed: Duration,
    ended: Instant,
    rss_kib: u64,
    cpu: Duration,
}

impl Done {
    fn sample(&self, reported: Option<f64>, server_cpu: Duration) -> Sample {
        Sample {
            elapsed: self.elapsed,
            reported,
            client_cpu: self.cpu,
            client_rss_kib: self.rss_kib,
            server_cpu,
        }
    }
}

impl Client {
    /// `lesson-07 client ADDR --dir DIR` running `command` then `quit`.
    fn lesson(addr: &str, dir: &Path, command: &str, log: &Path) -> Result<Client> {
        let mut client = Command::new(LESSON_07);
        client
            .args(["client", addr, "--timeout"])
            .arg(IDLE_SECS.to_string())
            .arg("--dir")
            .arg(dir);
        Client::spawn(client, &format!("{command}\nquit\n"), log)
    }

    /// Starts `command` (the clock starts here) and gives it `script` as its whole input.
    fn spawn(mut command: Command, script: &str, log: &Path) -> Result<Client> {
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(File::create(log)?);
        let started = Instant::now();
        let mut process = Process::spawn(&mut command)?;
        // The script fits in the pipe's buffer, so this write cannot wait for the client;
        // dropping the pipe is the end of its input.
        let mut stdin = process.child.stdin.take().expect("stdin is piped");
        stdin.write_all(script.as_bytes())?;
        drop(stdin);
        Ok(Client {
            process,
            started,
            log: log.to_path_buf(),
        })
    }

    /// Reads the client's output to its end, then reaps it: the clock stops at its exit.
    fn finish(&mut self) -> Result<Done> {
        let mut stdout = String::new();
        let mut pipe = self.process.child.stdout.take().expect("stdout is piped");
        pipe.read_to_string(&mut stdout)?;
        let ended = self.process.wait()?;
        if !ended.status.success() {
            bail!(
                "the client ended with {}; it printed:\n{stdout}{}",
                ended.status,
                fs::read_to_string(&self.log).unwrap_or_default()
            );
        }
        Ok(Done {
            stdout,
            elapsed: ended.at - self.started,
            ended: ended.at,
            rss_kib: ended.rss_kib,
            cpu: ended.cpu,
        })
    }
}

/// Checks the client's summary line, `got "big.bin": SIZE bytes, md5 MD5, SPEED MB/s`, and
/// returns the speed it printed.
fn summary_speed(stdout: &str, verb: &str, name: &str, size: u64, md5: &str) -> Result<f64> {
    let expected = format!("{verb} {name:?}: {size} bytes, md5 {md5}, ");
    let speed = stdout
        .lines()
        .find_map(|line| line.strip_prefix(&expected))
        .with_context(|| {
            format!("expected a line starting {expected:?}; the client printed {stdout:?}")
        })?;
    speed
        .strip_suffix(" MB/s")
        .and_then(|number| number.parse().ok())
        .with_context(|| format!("no speed at the end of {speed:?}"))
}

// ---- The raw copy ----

/// The raw copy's sender: listens on an ephemeral port, and sends `file` to every connection,
/// through one buffer of the lesson's size, with nothing before or after it.
fn raw_serve(file: &Path) -> Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    println!("listening on {}", listener.local_addr()?);
    io::stdout().flush()?;
    loop {
        let (mut conn, peer) = listener.accept()?;
        conn.set_write_timeout(Some(Duration::from_secs(IDLE_SECS)))?;
        let sent = File::open(file).and_then(|mut file| {
            let mut buffer = vec![0u8; BUFFER_SIZE];
            loop {
                let n = lesson_07::read_some(&mut file, &mut buffer)?;
                if n == 0 {
                    return Ok(());
                }
                conn.write_all(&buffer[..n])?;
            }
        });
        // Closing the connection (dropping `conn`) is the end of the file for the receiver.
        if let Err(e) = sent {
            eprintln!("{peer}: {e}");
        }
    }
}

/// The raw copy's receiver: reads the connection to its end into `out`.
fn raw_get(addr: &str, out: &Path) -> Result<()> {
    let mut conn = TcpStream::connect(addr)?;
    conn.set_read_timeout(Some(Duration::from_secs(IDLE_SECS)))?;
    let mut file = File::create(out)?;
    let mut buffer = vec![0u8; BUFFER_SIZE];
    loop {
        let n = match conn.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        file.write_all(&buffer[..n])?;
    }
}

// ---- Files ----

/// Writes `size` pseudo-random bytes (splitmix64 from `seed`): varied, so nothing on the way
/// can shortcut them, and the same on every run.
fn write_pseudo_random(path: &Path, size: u64, seed: u64) -> Result<()> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut file = File::create(path)?;
    let mut buffer = vec![0u8; MIB as usize];
    let mut remaining = size;
    while remaining > 0 {
        for word in buffer.chunks_exact_mut(8) {
            word.copy_from_slice(&next().to_le_bytes());
        }
        let n = remaining.min(MIB) as usize;
        file.write_all(&buffer[..n])?;
        remaining -= n as u64;
    }
    // Onto the disk before any timing starts: otherwise the kernel writes these dirty pages back
    // in the middle of the first round, and whichever transfer runs then pays for it (a first
    // raw copy took 2.5 s instead of 0.6-0.9 s that way).
    file.sync_all()?;
    Ok(())
}

/// A file's MD5, and how long it took: hashing alone, and reading and hashing.
struct Hashed {
    md5: String,
    hashing: Duration,
    total: Duration,
}

fn md5_of(path: &Path) -> Result<Hashed> {
    let started = Instant::now();
    let mut file = File::open(path)?;
    let mut buffer = vec![0u8; BUFFER_SIZE];
    let mut md5 = Md5::new();
    let mut hashing = Duration::ZERO;
    loop {
        let n = lesson_07::read_some(&mut file, &mut buffer)?;
        if n == 0 {
            break;
        }
        // Only the hashing is timed here: the file was just written, and reading it back from
        // the page cache is a copy that the transfers pay for separately.
        let hashed = Instant::now();
        md5.update(&buffer[..n]);
        hashing += hashed.elapsed();
    }
    Ok(Hashed {
        md5: lesson_07::hex(&md5.finalize()),
        hashing,
        total: started.elapsed(),
    })
}

/// Whether two files hold the same bytes.
fn same_bytes(a: &Path, b: &Path) -> Result<bool> {
    let (mut a, mut b) = (File::open(a)?, File::open(b)?);
    let size = a.metadata()?.len();
    if b.metadata()?.len() != size {
        return Ok(false);
    }
    let (mut x, mut y) = (vec![0u8; MIB as usize], vec![0u8; MIB as usize]);
    let mut remaining = size;
    while remaining > 0 {
        let n = remaining.min(MIB) as usize;
        a.read_exact(&mut x[..n])?;
        b.read_exact(&mut y[..n])?;
        if x[..n] != y[..n] {
            return Ok(false);
        }
        remaining -= n as u64;
    }
    Ok(true)
}

fn file_name(path: &Path) -> &str {
    path.file_name()
        .and_then(|name| name.to_str())
        .expect("a UTF-8 file name")
}

// ---- Figures ----

fn median<T>(items: &[T], key: impl Fn(&T) -> Duration) -> Duration {
    let mut values: Vec<Duration> = items.iter().map(key).collect();
    values.sort();
    values[values.len() / 2]
}

fn median_f64<T>(items: &[T], key: impl Fn(&T) -> f64) -> f64 {
    let mut values: Vec<f64> = items.iter().map(key).collect();
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn max_rss(samples: &[Sample]) -> u64 {
    samples.iter().map(|s| s.client_rss_kib).max().unwrap_or(0)
}

fn mb_per_s(bytes: u64, time: Duration) -> f64 {
    bytes as f64 / 1e6 / time.as_secs_f64().max(1e-9)
}

/// `2.712 s (396.2 MB/s)`
fn speed(bytes: u64, time: Duration) -> String {
    format!(
        "{:.3} s ({:.1} MB/s)",
        time.as_secs_f64(),
        mb_per_s(bytes, time)
    )
}

/// `64 MiB`, `256 KiB`
fn size_text(bytes: u64) -> String {
    match bytes % MIB {
        0 => format!("{} MiB", bytes / MIB),
        _ => format!("{} KiB", bytes / 1024),
    }
}

/// `1 round`, `3 rounds`
fn rounds_text(rounds: usize) -> String {
    match rounds {
        1 => "1 round".to_string(),
        n => format!("{n} rounds"),
    }
}

/// `3.1 MiB`
fn format_kib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// The load average, for the record: other work on the machine slows every row, and the ratios
/// within one run are what a reader compares.
fn load() -> String {
    match fs::read_to_string("/proc/loadavg") {
        Ok(text) => {
            let averages: Vec<&str> = text.split_whitespace().take(3).collect();
            format!("load average {}", averages.join(" "))
        }
        Err(_) => "load average unknown".to_string(),
    }
}

/// The CPU model and how many cores, for the record.
fn machine() -> String {
    let model = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    let cores = thread::available_parallelism().map_or(0, |n| n.get());
    format!("{model}, {cores} cores")
}
