//! Lesson 7's promises, checked against the real `lesson-07` binaries, and against the server
//! with raw requests where a well-behaved client would refuse to send them.
//!
//! Deterministic by construction: damage is done at a chosen offset by the lab proxy, "killed in
//! the middle" is a relay that stops forwarding at a chosen byte count before the kill, and
//! "several at once" holds every connection open while the others are served.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;

use lesson_07::client::Client;
use lesson_07::{DEFAULT_ADDR, Header, read_header, write_header};
use md5::{Digest, Md5};
use netlab::{Directions, Options, Proxy};
use predicates::str::contains;
use tempfile::TempDir;
use testkit::{KillOnDrop, Server, TIMEOUT};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-07");

/// 1 MiB and one byte: more than one buffer, one read, or one socket buffer holds.
const BIG: usize = 1_048_577;

/// A server process serving a fresh temporary folder.
struct FileServer {
    process: Server,
    root: TempDir,
}

impl FileServer {
    fn start(extra: &[&str]) -> FileServer {
        let root = tempfile::tempdir().unwrap();
        let mut args = vec![
            "server",
            "127.0.0.1:0",
            "--root",
            root.path().to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        FileServer {
            process: Server::start(BIN, &args),
            root,
        }
    }

    fn addr(&self) -> &str {
        self.process.addr()
    }

    fn socket_addr(&self) -> SocketAddr {
        self.process.socket_addr()
    }

    fn root(&self) -> &Path {
        self.root.path()
    }

    /// A raw connection, every read and write bounded by the test timeout.
    fn connect(&self) -> TcpStream {
        testkit::connect(self.addr())
    }
}

/// Varied bytes: no two neighbours alike, every byte value present in a long enough file.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn md5_hex(bytes: &[u8]) -> String {
    lesson_07::hex(&Md5::digest(bytes))
}

/// Runs the client binary with `script` on stdin, in `dir`, against `addr`.
fn run_client(addr: &str, dir: &Path, script: &str) -> assert_cmd::assert::Assert {
    testkit::client(BIN)
        .args(["client", addr, "--dir", dir.to_str().unwrap()])
        .write_stdin(script)
        .assert()
}

/// Sends one request header and reads one reply header.
fn ask(conn: &mut TcpStream, request: &Header) -> Header {
    write_header(conn, request).unwrap();
    read_header(conn, 1 << 20)
        .unwrap()
        .expect("a reply, not the end of the connection")
}

fn put_request(name: &str, size: u64) -> Header {
    Header {
        size: Some(size),
        ..Header::request("put", Some(name))
    }
}

fn ls(conn: &mut TcpStream) -> Vec<String> {
    let reply = ask(conn, &Header::request("ls", None));
    assert_eq!(reply.error, None, "{reply:?}");
    reply.files.expect("ls lists files")
}

// ---- Round trips ----

#[test]
fn files_of_every_shape_go_up_and_come_back_identical() {
    let server = FileServer::start(&[]);
    let (up, down) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("one-byte", vec![b'x']),
        ("big.bin", pattern(BIG)),
        ("all-256.bin", (0..=255u8).collect()),
    ];
    for (name, bytes) in &files {
        fs::write(up.path().join(name), bytes).unwrap();
    }
    let puts: String = files.iter().map(|(n, _)| format!("put {n}\n")).collect();
    let output = run_client(server.addr(), up.path(), &puts).success();
    let stdout = String::from_utf8_lossy(&output.get_output().stdout).into_owned();
    for (name, bytes) in &files {
        // The summary names the file, its size, its MD5 and a speed.
        let line = format!(
            "put {name:?}: {} bytes, md5 {}, ",
            bytes.len(),
            md5_hex(bytes)
        );
        assert!(stdout.contains(&line), "{line:?} not in {stdout:?}");
        assert_eq!(
            &fs::read(server.root().join(name)).unwrap(),
            bytes,
            "{name} on the server"
        );
    }
    assert!(stdout.contains(" MB/s"), "{stdout}");

    let gets: String = files.iter().map(|(n, _)| format!("get {n}\n")).collect();
    let output = run_client(server.addr(), down.path(), &format!("{gets}quit\n")).success();
    let stdout = String::from_utf8_lossy(&output.get_output().stdout).into_owned();
    for (name, bytes) in &files {
        let line = format!(
            "got {name:?}: {} bytes, md5 {}, ",
            bytes.len(),
            md5_hex(bytes)
        );
        assert!(stdout.contains(&line), "{line:?} not in {stdout:?}");
        assert_eq!(
            &fs::read(down.path().join(name)).unwrap(),
            bytes,
            "{name} fetched"
        );
    }
    // Nothing else on either side: no temporary file outlived its transfer.
    let mut names: Vec<String> = files.iter().map(|(n, _)| n.to_string()).collect();
    names.sort();
    assert_eq!(testkit::names_in(server.root()), names);
    assert_eq!(testkit::names_in(down.path()), names);
    // The progress bar is for terminals only; on a pipe, stderr stays quiet.
    assert_eq!(String::from_utf8_lossy(&output.get_output().stderr), "");
}

#[test]
fn long_names_fit_and_received_files_get_the_usual_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let server = FileServer::start(&[]);
    let (up, down) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // The longest name allowed: 255 bytes, some of them two-byte characters.
    let name = format!("{}{}", "é".repeat(100), "x".repeat(55));
    assert_eq!(name.len(), 255);
    fs::write(up.path().join(&name), "long\n").unwrap();
    run_client(server.addr(), up.path(), &format!("put {name}\n")).success();
    run_client(server.addr(), down.path(), &format!("get {name}\n")).success();
    // Any new file here gets 0666 less the umask; a received one should too, not 0600.
    fs::write(down.path().join("reference"), "").unwrap();
    let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let usual = mode(&down.path().join("reference"));
    assert_eq!(mode(&down.path().join(&name)), usual);
    assert_eq!(mode(&server.root().join(&name)), usual);
}

#[test]
fn a_listing_larger_than_a_request_may_be_still_arrives() {
    let server = FileServer::start(&[]);
    for i in 0..3000 {
        let name = format!("file number {i:05} with a long name.txt");
        fs::write(server.root().join(name), "").unwrap();
    }
    assert_eq!(ls(&mut server.connect()).len(), 3000);
    let dir = tempfile::tempdir().unwrap();
    run_client(server.addr(), dir.path(), "ls\n")
        .success()
        .stdout(contains("file number 02999 with a long name.txt\n"));
}

#[test]
fn a_file_changed_on_the_server_is_sent_with_its_new_digest() {
    // The server remembers the digests of files it has sent or saved whole. An edit of the same
    // size, with the old modification time put back, must still not be served with the old one.
    let server = FileServer::start(&[]);
    let path = server.root().join("notes.txt");
    fs::write(&path, "version one\n").unwrap();
    let modified = fs::metadata(&path).unwrap().modified().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        run_client(server.addr(), dir.path(), "get notes.txt\n")
            .success()
            .stdout(contains(md5_hex(b"version one\n")));
    }
    let file = fs::OpenOptions::new().write(true).open(&path).unwrap();
    (&file).write_all(b"version two\n").unwrap();
    file.set_modified(modified).unwrap();
    drop(file);
    run_client(server.addr(), dir.path(), "get notes.txt\n")
        .success()
        .stdout(contains(md5_hex(b"version two\n")));
    assert_eq!(
        fs::read(dir.path().join("notes.txt")).unwrap(),
        b"version two\n"
    );
}

#[test]
fn names_with_spaces_and_unicode_work_and_post_means_put() {
    let server = FileServer::start(&[]);
    let (up, down) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let name = "my notes – résumé 文件 ✓.txt";
    fs::write(up.path().join(name), "ünïcödé\n").unwrap();
    run_client(server.addr(), up.path(), &format!("post {name}\nls\n"))
        .success()
        .stdout(contains(format!("put {name:?}: ")))
        .stdout(contains(format!("\n{name}\n")));
    run_client(server.addr(), down.path(), &format!("get {name}\n"))
        .success()
        .stdout(contains(format!("got {name:?}: ")));
    assert_eq!(
        fs::read_to_string(down.path().join(name)).unwrap(),
        "ünïcödé\n"
    );
}

// ---- Names ----

/// Every way out of the folder that a name could try.
const ESCAPES: [&str; 12] = [
    "..",
    ".",
    "../secret.txt",
    "../../../../etc/passwd",
    "/etc/passwd",
    "sub/../../secret.txt",
    "..\\secret.txt",
    "C:\\Windows\\win.ini",
    "C:secret.txt",
    "secret.txt\0.png",
    "",
    ".hidden",
];

#[test]
fn every_escape_is_refused_by_the_server_and_nothing_outside_changes() {
    let server = FileServer::start(&[]);
    // A file next to the root, and a symbolic link inside the root that points at it.
    let outside = server
        .root()
        .parent()
        .unwrap()
        .join(format!("outside-{}.txt", server.socket_addr().port()));
    fs::write(&outside, "outside\n").unwrap();
    let _cleanup = RemoveOnDrop(outside.clone());
    std::os::unix::fs::symlink(&outside, server.root().join("link-out")).unwrap();
    std::os::unix::fs::symlink("/nowhere/at/all", server.root().join("dangling")).unwrap();

    let mut conn = server.connect();
    let mut names: Vec<&str> = ESCAPES.to_vec();
    names.extend(["link-out", "dangling"]);
    for name in names {
        let reply = ask(&mut conn, &Header::request("get", Some(name)));
        let error = reply
            .error
            .unwrap_or_else(|| panic!("get {name:?} was not refused"));
        assert!(error.contains("refused the name"), "get {name:?}: {error}");
        // A put is refused before its body: the reply to the request is the refusal.
        let reply = ask(&mut conn, &put_request(name, 4));
        let error = reply
            .error
            .unwrap_or_else(|| panic!("put {name:?} was not refused"));
        assert!(error.contains("refused the name"), "put {name:?}: {error}");
    }
    assert_eq!(fs::read_to_string(&outside).unwrap(), "outside\n");
    // The connection is still in step, and the listing shows neither link.
    assert_eq!(ls(&mut conn), Vec::<String>::new());
}

#[test]
fn a_link_that_stays_inside_the_folder_is_served() {
    let server = FileServer::start(&[]);
    fs::write(server.root().join("real.txt"), "real\n").unwrap();
    std::os::unix::fs::symlink("real.txt", server.root().join("alias.txt")).unwrap();
    let down = tempfile::tempdir().unwrap();
    run_client(server.addr(), down.path(), "get alias.txt\n").success();
    assert_eq!(
        fs::read_to_string(down.path().join("alias.txt")).unwrap(),
        "real\n"
    );
}

#[test]
fn the_client_checks_names_too_and_saves_only_under_the_name_it_asked_for() {
    let server = FileServer::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    run_client(
        server.addr(),
        dir.path(),
        "get ../escape.txt\nput /etc/passwd\n",
    )
    .failure()
    .stdout(contains(r#"error: refused the name "../escape.txt""#))
    .stdout(contains(r#"error: refused the name "/etc/passwd""#))
    .stderr(contains("2 of 2 commands failed"));

    // A server that answers with another name: the client still writes only what it asked for.
    let liar = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = liar.local_addr().unwrap();
    let lying = thread::spawn(move || {
        let (mut conn, _) = liar.accept().unwrap();
        conn.set_read_timeout(Some(TIMEOUT)).unwrap();
        read_header(&mut conn, 1024).unwrap();
        write_header(&mut conn, &Header::file("../../evil.txt", 3)).unwrap();
        conn.write_all(b"abc").unwrap();
        write_header(&mut conn, &Header::trailer(md5_hex(b"abc"))).unwrap();
    });
    let mut client = Client::new(testkit::connect(&addr.to_string()), dir.path());
    client.get("wanted.txt").unwrap();
    lying.join().unwrap();
    assert_eq!(testkit::names_in(dir.path()), ["wanted.txt"]);
}

// ---- Errors that leave the connection usable ----

#[test]
fn a_missing_file_is_an_error_and_a_script_exits_non_zero() {
    let server = FileServer::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    run_client(server.addr(), dir.path(), "get missing.txt\nls\n")
        .failure()
        .stdout(contains(
            "error: there is no file named \"missing.txt\" on the server\n(no files)\n",
        ))
        .stderr(contains("1 of 2 commands failed"));
    assert_eq!(testkit::names_in(dir.path()), Vec::<String>::new());
}

#[test]
fn unknown_commands_and_bad_headers_get_a_reply_and_the_connection_goes_on() {
    let server = FileServer::start(&[]);
    fs::write(server.root().join("a.txt"), "a\n").unwrap();
    let mut conn = server.connect();
    let reply = ask(&mut conn, &Header::request("delete", Some("a.txt")));
    assert!(reply.error.unwrap().contains(r#"unknown command "delete""#));
    let reply = ask(&mut conn, &Header::request("get", None));
    assert_eq!(reply.error.as_deref(), Some("get needs a name"));
    // A frame whose JSON is not a header at all.
    for junk in [
        &b"not json"[..],
        b"[1,2]",
        br#"["get","a.txt"]"#,
        b"{\"size\":-1}",
    ] {
        conn.write_all(&(junk.len() as u32).to_be_bytes()).unwrap();
        conn.write_all(junk).unwrap();
        let reply = read_header(&mut conn, 1 << 20).unwrap().unwrap();
        assert!(
            reply.error.unwrap().starts_with("not a request"),
            "{junk:?}"
        );
    }
    assert_eq!(ls(&mut conn), ["a.txt"]);
    // The same through the client, which sends words it does not know as they are.
    let dir = tempfile::tempdir().unwrap();
    run_client(server.addr(), dir.path(), "delete a.txt\nls\n")
        .failure()
        .stdout(contains("error: unknown command \"delete\""))
        .stdout(contains("\na.txt\n"));
}

#[test]
fn a_file_over_the_cap_is_refused_before_its_body() {
    let server = FileServer::start(&["--max-file-size", "10"]);
    let mut conn = server.connect();
    let reply = ask(&mut conn, &put_request("big.bin", 11));
    assert!(
        reply
            .error
            .unwrap()
            .contains("over this server's limit of 10")
    );
    // No body was expected: the next header is read as a request.
    let reply = ask(&mut conn, &put_request("small.bin", 10));
    assert_eq!(reply, Header::file("small.bin", 10), "the go-ahead");
    conn.write_all(b"0123456789").unwrap();
    let reply = ask(&mut conn, &Header::trailer(md5_hex(b"0123456789")));
    assert_eq!(reply.error, None);
    assert_eq!(
        fs::read(server.root().join("small.bin")).unwrap(),
        b"0123456789"
    );
}

#[test]
fn an_oversized_header_ends_only_that_connection() {
    let mut server = FileServer::start(&["--max-header-size", "100"]);
    let mut conn = server.connect();
    conn.write_all(&101u32.to_be_bytes()).unwrap();
    // The server does not read 101 bytes on trust: it closes.
    let mut rest = Vec::new();
    conn.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"");
    server
        .process
        .expect_stderr("a header of 101 bytes is over the limit of 100");
    assert_eq!(ls(&mut server.connect()), Vec::<String>::new());
}

// ---- Damage and interruption: nothing saved under the final name ----

#[test]
fn a_byte_damaged_on_the_way_down_is_caught_and_nothing_is_saved() {
    let server = FileServer::start(&[]);
    fs::write(server.root().join("big.bin"), pattern(BIG)).unwrap();
    let proxy = proxy(server.socket_addr(), 100_000, Directions::ToClient);
    let dir = tempfile::tempdir().unwrap();
    run_client(&proxy.local_addr().to_string(), dir.path(), "get big.bin\n")
        .failure()
        .stdout(contains(format!(
            "error: \"big.bin\" arrived damaged: the server's MD5 is {}",
            md5_hex(&pattern(BIG))
        )))
        .stdout(contains("nothing was saved"));
    assert_eq!(testkit::names_in(dir.path()), Vec::<String>::new());
}

#[test]
fn a_byte_damaged_on_the_way_up_is_caught_and_nothing_is_saved() {
    let mut server = FileServer::start(&[]);
    let proxy = proxy(server.socket_addr(), 100_000, Directions::ToServer);
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("big.bin"), pattern(BIG)).unwrap();
    run_client(
        &proxy.local_addr().to_string(),
        dir.path(),
        "put big.bin\nls\n",
    )
    .failure()
    .stdout(contains("error: \"big.bin\" arrived damaged"))
    .stdout(contains("(no files)"));
    server.process.expect_stderr("arrived damaged");
    assert_eq!(testkit::names_in(server.root()), Vec::<String>::new());
}

#[test]
fn an_upload_cut_short_leaves_no_file_and_the_server_goes_on() {
    let mut server = FileServer::start(&[]);
    for reset in [false, true] {
        let mut conn = server.connect();
        assert_eq!(
            ask(&mut conn, &put_request("cut.bin", 1000)),
            Header::file("cut.bin", 1000)
        );
        conn.write_all(&[7u8; 400]).unwrap();
        if reset {
            testkit::reset(conn);
        } else {
            drop(conn);
        }
        let line = server.process.expect_stderr("cut.bin");
        assert!(line.contains("receiving"), "{line}");
        let line = server.process.expect_stderr("closing the connection");
        assert!(line.contains("of 1000 bytes") || reset, "{line}");
        assert_eq!(testkit::names_in(server.root()), Vec::<String>::new());
    }
    assert!(server.process.is_running());
}

#[test]
fn a_client_killed_in_the_middle_of_a_put_leaves_no_file() {
    let mut server = FileServer::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    // Bigger than every socket buffer on the way, so the client is still writing when killed.
    let size = 32 * 1024 * 1024;
    fs::write(dir.path().join("huge.bin"), pattern(size)).unwrap();
    let relay = Relay::start(server.socket_addr(), Toward::Server, 2 * 1024 * 1024);
    let mut client = spawn_client(relay.addr, dir.path(), "put huge.bin\n");
    relay.wait_until_stalled();
    server.process.expect_stderr("receiving \"huge.bin\"");
    client.0.kill().unwrap();
    client.0.wait().unwrap();
    relay.release();
    server.process.expect_stderr("closing the connection");
    assert_eq!(testkit::names_in(server.root()), Vec::<String>::new());
    assert!(server.process.is_running());
}

#[test]
fn a_client_killed_in_the_middle_of_a_get_leaves_no_file_under_the_name() {
    let server = FileServer::start(&[]);
    fs::write(server.root().join("huge.bin"), pattern(32 * 1024 * 1024)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::start(server.socket_addr(), Toward::Client, 2 * 1024 * 1024);
    let mut client = spawn_client(relay.addr, dir.path(), "get huge.bin\n");
    relay.wait_until_stalled();
    client.0.kill().unwrap();
    client.0.wait().unwrap();
    relay.release();
    // SIGKILL runs no clean-up, so a hidden `.part` file may stay; the name itself never appears.
    let names = testkit::names_in(dir.path());
    assert!(
        names
            .iter()
            .all(|n| n.starts_with('.') && n.ends_with(".part")),
        "{names:?}"
    );
}

// ---- Several clients ----

#[test]
fn several_clients_are_served_at_once() {
    let server = FileServer::start(&[]);
    // Three connections open together, answered in the opposite order they were opened: a
    // server that served one client at a time would never answer the third.
    let mut conns: Vec<TcpStream> = (0..3).map(|_| server.connect()).collect();
    for conn in conns.iter_mut().rev() {
        assert_eq!(ls(conn), Vec::<String>::new());
    }
    // Eight clients each put and get their own file at the same time.
    let addr = server.addr().to_string();
    let workers: Vec<_> = (0..8)
        .map(|i| {
            let addr = addr.clone();
            thread::spawn(move || {
                let (up, down) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
                let name = format!("file {i}.bin");
                let bytes: Vec<u8> = pattern(256 * 1024 + i)
                    .into_iter()
                    .map(|b| b ^ i as u8)
                    .collect();
                fs::write(up.path().join(&name), &bytes).unwrap();
                let sent = Client::new(testkit::connect(&addr), up.path())
                    .put(&name)
                    .unwrap();
                let got = Client::new(testkit::connect(&addr), down.path())
                    .get(&name)
                    .unwrap();
                assert_eq!(sent.md5, md5_hex(&bytes));
                assert_eq!(got.md5, sent.md5);
                assert_eq!(fs::read(down.path().join(&name)).unwrap(), bytes);
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("a client failed");
    }
    assert_eq!(ls(&mut conns[0]).len(), 8);
}

#[test]
fn one_client_over_the_cap_is_told_the_server_is_busy() {
    let mut server = FileServer::start(&["--max-clients", "1"]);
    let mut first = server.connect();
    assert_eq!(ls(&mut first), Vec::<String>::new()); // being served
    let mut second = server.connect();
    let reply = ask(&mut second, &Header::request("ls", None));
    assert!(reply.error.unwrap().starts_with("the server is busy"));
    assert!(
        read_header(&mut second, 1024).unwrap().is_none(),
        "then it closes"
    );
    // The first client never noticed; once it leaves, its place is free.
    assert_eq!(ls(&mut first), Vec::<String>::new());
    drop(first);
    server.process.expect_stderr("closed the connection");
    assert_eq!(ls(&mut server.connect()), Vec::<String>::new());
}

#[test]
fn a_silent_client_is_dropped_after_the_idle_timeout() {
    let mut server = FileServer::start(&["--idle-timeout", "0.2"]);
    let mut conn = server.connect();
    let mut rest = Vec::new();
    conn.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, b"");
    server.process.expect_stderr("silent too long");
    assert_eq!(ls(&mut server.connect()), Vec::<String>::new());
}

// ---- The command line ----

#[test]
fn the_default_folder_is_created_under_the_current_directory() {
    let cwd = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["server", "127.0.0.1:0"]).current_dir(cwd.path());
    let mut server = Server::spawn(cmd);
    server.expect_stderr("serving the folder lesson-07-files");
    assert!(cwd.path().join(lesson_07::DEFAULT_ROOT).is_dir());
}

#[test]
fn the_server_binds_loopback_unless_told_otherwise() {
    testkit::assert_loopback_default(BIN, DEFAULT_ADDR);
    let root = tempfile::tempdir().unwrap();
    let line = testkit::warning_off_loopback_with(BIN, &["--root", root.path().to_str().unwrap()]);
    assert!(line.contains("read and overwrite the files"), "{line}");
}

// ---- Test equipment ----

/// Removes a file when the test ends, pass or fail.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

fn proxy(to: SocketAddr, offset: u64, directions: Directions) -> Proxy {
    let options = Options {
        corrupt: Some(offset),
        directions,
        ..Options::default()
    };
    Proxy::on_loopback(to, options).unwrap()
}

fn spawn_client(addr: SocketAddr, dir: &Path, script: &str) -> KillOnDrop {
    let mut child = Command::new(BIN)
        .args(["client", &addr.to_string(), "--dir", dir.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Keep stdin open (no `quit`, no end of input): the client is busy with the transfer.
    child
        .stdin
        .as_mut()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    KillOnDrop(child)
}

#[derive(Clone, Copy, PartialEq)]
enum Toward {
    Server,
    Client,
}

/// A one-connection relay that forwards everything, except that in one direction it stops
/// after `limit` bytes and holds both connections open until released: a transfer frozen in
/// the middle, every time.
struct Relay {
    addr: SocketAddr,
    stalled: mpsc::Receiver<()>,
    release: mpsc::Sender<()>,
}

impl Relay {
    fn start(server: SocketAddr, toward: Toward, limit: usize) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (stalled_tx, stalled) = mpsc::channel();
        let (release, release_rx) = mpsc::channel::<()>();
        thread::spawn(move || {
            let (client, _) = listener.accept().unwrap();
            let upstream = TcpStream::connect(server).unwrap();
            let (limited_from, limited_to, free_from, free_to) = match toward {
                Toward::Server => (&client, &upstream, &upstream, &client),
                Toward::Client => (&upstream, &client, &client, &upstream),
            };
            let (mut free_from, mut free_to) =
                (free_from.try_clone().unwrap(), free_to.try_clone().unwrap());
            thread::spawn(move || {
                let _ = std::io::copy(&mut free_from, &mut free_to);
            });
            let (mut from, mut to) = (
                limited_from.try_clone().unwrap(),
                limited_to.try_clone().unwrap(),
            );
            let mut left = limit;
            let mut buf = vec![0u8; 64 * 1024];
            while left > 0 {
                let n = testkit::read_some(&mut from, &mut buf[..left.min(64 * 1024)]).unwrap();
                assert!(n > 0, "the stream ended before the relay's limit");
                to.write_all(&buf[..n]).unwrap();
                left -= n;
            }
            stalled_tx.send(()).unwrap();
            // Frozen: until the test says so (or gives up), nothing more moves this way.
            let _ = release_rx.recv_timeout(TIMEOUT * 3);
            let _ = client.shutdown(std::net::Shutdown::Both);
            let _ = upstream.shutdown(std::net::Shutdown::Both);
        });
        Relay {
            addr,
            stalled,
            release,
        }
    }

    fn wait_until_stalled(&self) {
        self.stalled
            .recv_timeout(TIMEOUT)
            .expect("the transfer reached the relay's limit");
    }

    fn release(self) {
        let _ = self.release.send(());
    }
}
