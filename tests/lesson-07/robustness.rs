//! Lesson 7's server against what would hold it or kill it (issue 11): a client that trickles a
//! header, a killed server's leftovers, huge requests, odd things in the folder, threads that
//! cannot start, and flags that make no sense.
//!
//! Deterministic by construction: a slow client is a raw socket that sends one byte per step and
//! watches for the close in between (the wait *is* its slowness); a thread that cannot start is
//! one that asks the OS for a stack larger than any address space, which the OS always refuses;
//! a killed server is killed while the test holds an upload open.

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::symlink;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use lesson_07::server::{self, Settings, ThreadMaker};
use lesson_07::{Header, is_temp_name, read_header, write_header};
use md5::{Digest, Md5};
use testkit::{Server, TIMEOUT};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-07");

/// A stack no machine can give a thread (2^62 bytes, beyond any 64-bit address space): asking
/// for it makes `spawn` fail, every time, as it does when memory or threads run out.
const IMPOSSIBLE_STACK: usize = 1 << 62;

/// The pace of a slow client: one byte, then this long watching for the server's close.
const STEP: Duration = Duration::from_millis(50);

fn start(root: &Path, extra: &[&str]) -> Server {
    let mut args = vec!["server", "127.0.0.1:0", "--root", root.to_str().unwrap()];
    args.extend_from_slice(extra);
    Server::start(BIN, &args)
}

fn frame(json: &[u8]) -> Vec<u8> {
    let mut frame = (json.len() as u32).to_be_bytes().to_vec();
    frame.extend_from_slice(json);
    frame
}

fn json(header: &Header) -> Vec<u8> {
    serde_json::to_vec(header).unwrap()
}

fn ask(conn: &mut TcpStream, request: &Header) -> Header {
    write_header(conn, request).unwrap();
    read_header(conn, 1 << 24)
        .unwrap()
        .expect("a reply, not the end of the connection")
}

fn ls(conn: &mut TcpStream) -> Vec<String> {
    let reply = ask(conn, &Header::request("ls", None));
    assert_eq!(reply.error, None, "{reply:?}");
    reply.files.expect("ls lists files")
}

fn put_request(name: &str, size: u64) -> Header {
    Header {
        size: Some(size),
        ..Header::request("put", Some(name))
    }
}

fn md5_hex(bytes: &[u8]) -> String {
    lesson_07::hex(&Md5::digest(bytes))
}

/// How a trickle ended: after how many bytes the server closed, and how long after the first.
struct Cut {
    sent: usize,
    after: Duration,
}

/// Sends `bytes` one at a time, watching for STEP after each whether the server has closed.
/// `None` if every byte went out and the server was still there.
fn trickle(conn: &mut TcpStream, bytes: &[u8]) -> Option<Cut> {
    conn.set_read_timeout(Some(STEP)).unwrap();
    let first = Instant::now();
    for (sent, byte) in bytes.iter().enumerate() {
        if conn.write_all(std::slice::from_ref(byte)).is_err() {
            return Some(Cut {
                sent,
                after: first.elapsed(),
            });
        }
        let mut one = [0u8; 1];
        match conn.read(&mut one) {
            Ok(0) => {
                return Some(Cut {
                    sent: sent + 1,
                    after: first.elapsed(),
                });
            }
            Ok(_) => panic!("the server answered a header it has not had whole"),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            // A byte sent after the server closed can come back as a reset.
            Err(_) => {
                return Some(Cut {
                    sent: sent + 1,
                    after: first.elapsed(),
                });
            }
        }
    }
    conn.set_read_timeout(Some(TIMEOUT)).unwrap();
    None
}

// ---- 4. A slow client cannot hold a slot for ever ----

#[test]
fn a_header_trickled_a_byte_at_a_time_is_cut_at_the_deadline() {
    let root = tempfile::tempdir().unwrap();
    // One place only, an idle timeout far longer than a step: only the deadline can end this.
    let mut server = start(
        root.path(),
        &[
            "--max-clients",
            "1",
            "--idle-timeout",
            "5",
            "--header-deadline",
            "0.5",
        ],
    );
    // 241 bytes: at one per step, 12 s to send whole, far past the deadline.
    let request = frame(&json(&Header::request("get", Some(&"x".repeat(200)))));
    let mut slow = testkit::connect(server.addr());
    let cut = trickle(&mut slow, &request).expect("the server never closed the slow client");
    assert!(cut.sent < request.len());
    // The clock starts at the first byte, which the server got after it was sent.
    assert!(
        cut.after >= Duration::from_millis(500),
        "cut after {:?}",
        cut.after
    );
    let line = server.expect_stderr("did not arrive whole");
    assert!(line.contains("within 0.5 s of its first byte"), "{line}");
    // The one place is free again: the next client is served, not told the server is busy.
    assert_eq!(
        ls(&mut testkit::connect(server.addr())),
        Vec::<String>::new()
    );
}

#[test]
fn a_trickled_trailer_is_cut_too_and_nothing_is_saved() {
    let root = tempfile::tempdir().unwrap();
    let mut server = start(
        root.path(),
        &["--idle-timeout", "5", "--header-deadline", "0.5"],
    );
    let mut conn = testkit::connect(server.addr());
    assert_eq!(
        ask(&mut conn, &put_request("a.txt", 3)),
        Header::file("a.txt", 3)
    );
    conn.write_all(b"abc").unwrap();
    let trailer = frame(&json(&Header::trailer(md5_hex(b"abc"))));
    let cut = trickle(&mut conn, &trailer).expect("the server never closed the slow client");
    assert!(cut.sent < trailer.len());
    server.expect_stderr("did not arrive whole");
    assert_eq!(testkit::names_in(root.path()), Vec::<String>::new());
}

#[test]
fn a_body_that_keeps_moving_is_not_cut_however_long_it_takes() {
    let root = tempfile::tempdir().unwrap();
    let server = start(
        root.path(),
        &["--idle-timeout", "5", "--header-deadline", "0.3"],
    );
    let body: Vec<u8> = (0..4096).map(|i| (i * 31 % 251) as u8).collect();
    let mut conn = testkit::connect(server.addr());
    let size = body.len() as u64;
    assert_eq!(
        ask(&mut conn, &put_request("slow.bin", size)),
        Header::file("slow.bin", size)
    );
    // Four pieces, each after a pause longer than the header deadline (but far shorter than
    // the idle timeout): the body takes four deadlines and more, and no wait in it is short.
    let pause = Duration::from_millis(400);
    for piece in body.chunks(1024) {
        thread::sleep(pause);
        conn.write_all(piece).unwrap();
    }
    let saved = ask(&mut conn, &Header::trailer(md5_hex(&body)));
    assert_eq!(saved.error, None, "{saved:?}");
    assert_eq!(fs::read(root.path().join("slow.bin")).unwrap(), body);
}

#[test]
fn a_client_over_the_cap_cannot_hold_the_busy_reply_by_trickling() {
    let root = tempfile::tempdir().unwrap();
    // The busy reply waits at most 5 s, or the idle timeout if shorter, for the whole request.
    let server = start(root.path(), &["--max-clients", "1", "--idle-timeout", "3"]);
    let mut first = testkit::connect(server.addr());
    assert_eq!(ls(&mut first), Vec::<String>::new());
    let mut second = testkit::connect(server.addr()); // over the cap: told it is busy
    // 441 bytes: 22 s to send at one per step, and no gap anywhere near the idle timeout.
    let request = frame(&json(&Header::request("get", Some(&"x".repeat(400)))));
    // The busy reply comes before the request is whole: keep what arrives, until the close.
    second.set_read_timeout(Some(STEP)).unwrap();
    let started = Instant::now();
    let mut got = Vec::new();
    for byte in &request {
        let _ = second.write_all(std::slice::from_ref(byte));
        let mut buffer = [0u8; 4096];
        match second.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buffer[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => break,
        }
    }
    let held = started.elapsed();
    assert!(
        held < Duration::from_secs(10),
        "the busy reply took {held:?}"
    );
    let reply = read_header(&mut &got[..], 1 << 16)
        .unwrap()
        .expect("a busy reply");
    assert!(reply.error.unwrap().starts_with("the server is busy"));
}

// ---- 5. Leftovers, reply sizes, reasons ----

#[test]
fn a_killed_servers_part_files_are_removed_at_start_and_nothing_else() {
    let root = tempfile::tempdir().unwrap();
    let mut server = start(root.path(), &[]);
    let mut conn = testkit::connect(server.addr());
    assert_eq!(
        ask(&mut conn, &put_request("cut.bin", 1000)),
        Header::file("cut.bin", 1000)
    );
    conn.write_all(&[7u8; 400]).unwrap();
    server.expect_stderr("receiving \"cut.bin\"");
    drop(server); // SIGKILL, in the middle of the upload: no destructor runs
    let left = testkit::names_in(root.path());
    assert!(left.len() == 1 && is_temp_name(&left[0]), "{left:?}");

    // Names the server does not make, and things that are not regular files: all stay.
    let keep = [
        ".abc12.part",
        ".abcdefg.part",
        ".abc-12.part",
        "abc123.part",
        ".abc123.part.txt",
        ".abc123.PART",
        "cut.bin.part",
    ];
    for name in keep {
        fs::write(root.path().join(name), "keep").unwrap();
    }
    fs::create_dir(root.path().join(".dir123.part")).unwrap();
    fs::write(
        root.path().join(".dir123.part").join(".abc123.part"),
        "keep",
    )
    .unwrap();
    fs::write(root.path().join("target.txt"), "keep").unwrap();
    symlink("target.txt", root.path().join(".lnk123.part")).unwrap();
    let mut expected: Vec<String> = keep.iter().map(|n| n.to_string()).collect();
    expected.extend([".dir123.part", ".lnk123.part", "target.txt"].map(String::from));
    expected.sort();

    let mut server = start(root.path(), &[]);
    let line = server.expect_stderr("removed");
    assert!(line.contains(&left[0]), "{line}");
    assert_eq!(testkit::names_in(root.path()), expected);
    assert_eq!(
        testkit::names_in(&root.path().join(".dir123.part")),
        [".abc123.part"]
    );
    assert_eq!(
        fs::read_to_string(root.path().join("target.txt")).unwrap(),
        "keep"
    );
}

#[test]
fn an_error_reply_is_never_much_larger_than_the_request() {
    let root = tempfile::tempdir().unwrap();
    let server = start(root.path(), &[]);
    let mut conn = testkit::connect(server.addr());
    // Each escaped into several characters by `{:?}`, and then again by JSON.
    let del = "\u{7f}".repeat(60_000);
    let quotes = "\"".repeat(30_000);
    let long_name = "é".repeat(30_000);
    let requests: Vec<Vec<u8>> = vec![
        json(&Header::request(&del, None)),
        json(&Header::request(&quotes, None)),
        json(&Header::request("get", Some(&long_name))),
        json(&Header::request("get", Some(&del))),
        json(&put_request(&quotes, u64::MAX)),
        format!("{{\"size\":\"{}\"}}", "x".repeat(60_000)).into_bytes(),
        format!(
            "{{\"command\":\"ls\",\"files\":[\"{}\",1]}}",
            "y".repeat(60_000)
        )
        .into_bytes(),
    ];
    for request in requests {
        let request = frame(&request);
        conn.write_all(&request).unwrap();
        let mut length = [0u8; 4];
        conn.read_exact(&mut length).unwrap();
        let length = u32::from_be_bytes(length) as usize;
        let mut reply = vec![0u8; length];
        conn.read_exact(&mut reply).unwrap();
        let reply: Header = serde_json::from_slice(&reply).unwrap();
        let error = reply.error.expect("a refusal");
        // At most 1 KiB of text, which JSON's escapes can at most double.
        assert!(
            4 + length <= 2 * 1024 + 64,
            "a request of {} bytes got a reply of {} bytes: {}…",
            request.len(),
            4 + length,
            error.chars().take(200).collect::<String>()
        );
    }
    // Every one was an answer: the connection is still in step.
    assert_eq!(ls(&mut conn), Vec::<String>::new());
}

#[test]
fn a_refusal_names_the_real_reason() {
    let root = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret"), "secret").unwrap();
    let r = root.path();
    symlink("loop-b", r.join("loop-a")).unwrap();
    symlink("loop-a", r.join("loop-b")).unwrap();
    symlink("self", r.join("self")).unwrap();
    symlink("nowhere", r.join("dangling")).unwrap();
    symlink(outside.path().join("secret"), r.join("outside")).unwrap();
    symlink(outside.path().join("gone"), r.join("outside-dangling")).unwrap();
    fs::create_dir(r.join("folder")).unwrap();
    symlink("folder", r.join("folder-link")).unwrap();
    let fifo = std::ffi::CString::new(r.join("fifo").to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) with a valid NUL-terminated path; no memory is shared.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0, "mkfifo");
    symlink("fifo", r.join("fifo-link")).unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(r.join("socket")).unwrap();

    let server = start(r, &[]);
    let mut conn = testkit::connect(server.addr());
    let loop_ = "it is a loop of symbolic links";
    let nothing = "it is a link to nothing";
    let linked = "it is a link to something that is not a regular file";
    for (name, why) in [
        ("loop-a", loop_.to_string()),
        ("self", loop_.to_string()),
        ("dangling", nothing.to_string()),
        ("outside-dangling", nothing.to_string()),
        (
            "outside",
            "it is a symbolic link that leads outside the folder".into(),
        ),
        ("folder", "it is not a regular file (a directory)".into()),
        ("folder-link", format!("{linked} (a directory)")),
        ("fifo", "it is not a regular file (a FIFO)".into()),
        ("fifo-link", format!("{linked} (a FIFO)")),
        ("socket", "it is not a regular file (a socket)".into()),
    ] {
        let expected = format!("refused the name {name:?}: {why}");
        let reply = ask(&mut conn, &Header::request("get", Some(name)));
        assert_eq!(
            reply.error.as_deref(),
            Some(expected.as_str()),
            "get {name}"
        );
        let reply = ask(&mut conn, &put_request(name, 4));
        assert_eq!(
            reply.error.as_deref(),
            Some(expected.as_str()),
            "put {name}"
        );
    }
    assert_eq!(ls(&mut conn), Vec::<String>::new());
    assert_eq!(
        fs::read_to_string(outside.path().join("secret")).unwrap(),
        "secret"
    );
}

// ---- 1. A thread that cannot start never kills a server ----

/// A `ThreadMaker` whose `fail`-th thread (counting from 0) cannot start.
fn failing_thread(fail: usize) -> ThreadMaker {
    let made = AtomicUsize::new(0);
    ThreadMaker(Arc::new(move || {
        let builder = thread::Builder::new();
        match made.fetch_add(1, Ordering::SeqCst) == fail {
            true => builder.stack_size(IMPOSSIBLE_STACK),
            false => builder,
        }
    }))
}

fn assert_spawn_fails_here() {
    let spawned = thread::Builder::new()
        .stack_size(IMPOSSIBLE_STACK)
        .spawn(|| {});
    assert!(
        spawned.is_err(),
        "this machine gave a thread a 2^62-byte stack: the test proves nothing"
    );
}

/// Reads the refusal a client gets when its thread cannot start, then the close.
fn assert_told_and_closed(conn: &mut TcpStream) {
    let reply = read_header(conn, 1 << 16).unwrap().expect("a reply");
    let error = reply.error.expect("a refusal");
    assert!(
        error.starts_with("the server cannot serve this connection: it could not start a thread"),
        "{error}"
    );
    assert!(
        read_header(conn, 1 << 16).unwrap().is_none(),
        "then it closes"
    );
}

fn log_to(lines: mpsc::Sender<String>) -> server::Log {
    let lines = std::sync::Mutex::new(lines);
    Arc::new(move |line| {
        let _ = lines.lock().unwrap().send(line);
    })
}

#[test]
fn a_thread_that_cannot_start_ends_only_its_own_connection() {
    assert_spawn_fails_here();
    let root = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let mut settings = Settings::new(root.path());
    settings.threads = failing_thread(1);
    let (log, lines) = mpsc::channel();
    // `run` never returns: its thread stays blocked in `accept` until the test process ends.
    thread::spawn(move || server::run(listener, settings, log_to(log)));

    let mut first = testkit::connect(&addr); // thread 0
    assert_eq!(ls(&mut first), Vec::<String>::new());
    let mut second = testkit::connect(&addr); // thread 1: cannot start
    assert_told_and_closed(&mut second);
    assert_eq!(
        ls(&mut first),
        Vec::<String>::new(),
        "the first client never noticed"
    );
    let mut third = testkit::connect(&addr); // thread 2
    assert_eq!(ls(&mut third), Vec::<String>::new());
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let line = lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("a log line saying the thread could not start");
        if line.contains("cannot start a thread") {
            break;
        }
    }
}

#[test]
fn the_exercise_server_survives_a_thread_that_cannot_start_too() {
    assert_spawn_fails_here();
    let root = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut settings = Settings::new(root.path());
    settings.threads = failing_thread(0);
    settings.idle_timeout = TIMEOUT / 2;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (done_tx, done) = mpsc::channel();
    let stop_for_server = Arc::clone(&stop);
    thread::spawn(move || {
        let handler: server::Handler = Arc::new(|_, _, _| Ok(false));
        server::run_with(
            listener,
            settings,
            Arc::new(|_| {}),
            handler,
            &stop_for_server,
        );
        let _ = done_tx.send(());
    });
    assert_told_and_closed(&mut testkit::connect(&addr.to_string()));
    let mut next = testkit::connect(&addr.to_string());
    assert_eq!(ls(&mut next), Vec::<String>::new());
    drop(next);
    stop.store(true, Ordering::SeqCst);
    let _ = TcpStream::connect(addr); // wakes the accept, which then sees `stop`
    done.recv_timeout(TIMEOUT).expect("run_with returned");
}

#[test]
fn a_hashing_thread_that_cannot_start_still_gives_the_file_and_its_digest() {
    assert_spawn_fails_here();
    let data: Vec<u8> = (0..3 * lesson_07::BUFFER_SIZE + 7)
        .map(|i| (i % 251) as u8)
        .collect();
    let mut wire = data.clone();
    wire.extend_from_slice(b"TRAILER");
    let mut conn = &wire[..];
    let mut out = Vec::new();
    let hasher = thread::Builder::new().stack_size(IMPOSSIBLE_STACK);
    let got = lesson_07::receive_body_hashing_on(
        hasher,
        &mut conn,
        &mut out,
        data.len() as u64,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(got.md5, md5_hex(&data));
    assert!(out == data, "the bytes written differ from the bytes sent");
    assert_eq!(conn, b"TRAILER", "not a byte past the body");
}

// ---- 2. Every numeric flag is checked before the server listens ----

#[test]
fn every_numeric_flag_is_checked_before_the_server_listens() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path().to_str().unwrap();
    let server = ["server", "127.0.0.1:0", "--root", root];
    let client = ["client", "127.0.0.1:9"];
    let cases: &[(&[&str], &str, &str)] = &[
        (&server, "--max-clients", "0"),
        (&server, "--max-clients", "10001"),
        (&server, "--max-clients", "18446744073709551616"),
        (&server, "--idle-timeout", "0"),
        (&server, "--idle-timeout", "1e300"),
        (&server, "--header-deadline", "0"),
        (&server, "--header-deadline", "1e300"),
        (&server, "--max-header-size", "0"),
        (&server, "--max-header-size", "63"),
        (&server, "--max-header-size", "4294967296"),
        (&server, "--max-file-size", "0"),
        (&server, "--max-file-size", "18446744073709551615"),
        (&client, "--timeout", "0"),
        (&client, "--timeout", "1e300"),
        (&client, "--max-file-size", "0"),
    ];
    for (command, flag, value) in cases {
        let output = testkit::client(BIN)
            .args(*command)
            .args([flag, value])
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
        assert_eq!(
            output.status.code(),
            Some(2),
            "{flag} {value}: {stdout}{stderr}"
        );
        assert_eq!(stdout, "", "{flag} {value}: nothing listens");
        let said = format!("invalid value '{value}' for '{flag} <");
        assert!(stderr.contains(&said), "{flag} {value}: {stderr}");
    }
}
