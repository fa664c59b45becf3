//! Chapter 7's first program, `file_server` and `file_client`, over real sockets: a file comes
//! back byte for byte with its MD5 checked, a byte damaged on the way is caught, and a name that
//! is a path is refused. The outputs the chapter shows are compared with fresh runs.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use md5::{Digest, Md5};
use netlab::{Directions, Options, Proxy};
use testkit::{KillOnDrop, Server, TIMEOUT};

const PAGE: &str = "../../book/src/ch07-file-service.md";

fn server_bin() -> PathBuf {
    testkit::example_bin("file_server", "examples/file_server.rs")
}

fn client_bin() -> PathBuf {
    testkit::example_bin("file_client", "examples/file_client.rs")
}

/// A `file_server` serving `folder` (it serves the folder it runs in), on an ephemeral port.
fn start_server(folder: &Path) -> Server {
    let mut cmd = Command::new(server_bin());
    cmd.arg("127.0.0.1:0").current_dir(folder);
    Server::spawn(cmd)
}

/// Runs `file_client ADDR NAME` in `dir`, and gives up (killing it) after the test timeout.
fn fetch(addr: &str, name: &str, dir: &Path) -> Output {
    let child = Command::new(client_bin())
        .args([addr, name])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the client starts");
    let mut guard = KillOnDrop(child);
    // The outputs are a line or two: they fit in the pipes, so waiting first cannot deadlock.
    let status = testkit::wait_with_deadline(&mut guard.0, TIMEOUT)
        .expect("the client finishes within the test timeout");
    let mut output = Output {
        status,
        stdout: Vec::new(),
        stderr: Vec::new(),
    };
    guard
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut output.stdout)
        .unwrap();
    guard
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut output.stderr)
        .unwrap();
    output
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Varied bytes, every byte value present: a binary file, larger than one socket buffer.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[test]
fn a_file_comes_back_identical_with_its_md5_checked() {
    let served = tempfile::tempdir().unwrap();
    let mine = tempfile::tempdir().unwrap();
    let data = pattern(1_048_577);
    fs::write(served.path().join("big.bin"), &data).unwrap();
    fs::write(served.path().join("hello.txt"), "hello, world\n").unwrap();
    let server = start_server(served.path());

    let got = fetch(server.addr(), "big.bin", mine.path());
    assert!(got.status.success(), "{}", text(&got.stderr));
    assert_eq!(fs::read(mine.path().join("big.bin")).unwrap(), data);
    let md5 = lesson_07::hex(&Md5::digest(&data));
    assert_eq!(
        text(&got.stdout),
        format!("got \"big.bin\": 1048577 bytes, md5 {md5}\n")
    );

    // What the chapter shows for hello.txt is what a run prints.
    let got = fetch(server.addr(), "hello.txt", mine.path());
    assert!(got.status.success(), "{}", text(&got.stderr));
    testkit::assert_text_matches(&testkit::book_block(PAGE, "first-get"), &text(&got.stdout));
}

#[test]
fn a_byte_damaged_on_the_way_is_caught_and_nothing_is_saved() {
    let served = tempfile::tempdir().unwrap();
    let mine = tempfile::tempdir().unwrap();
    fs::write(served.path().join("big.bin"), pattern(200_000)).unwrap();
    let server = start_server(served.path());
    // The lab inverts byte 100 000 of what the server sends: inside the file, after the header.
    let options = Options {
        corrupt: Some(100_000),
        directions: Directions::ToClient,
        ..Options::default()
    };
    let lab = Proxy::on_loopback(server.socket_addr(), options).unwrap();

    let got = fetch(&lab.local_addr().to_string(), "big.bin", mine.path());
    assert!(!got.status.success());
    assert!(
        text(&got.stderr).contains("arrived damaged"),
        "{}",
        text(&got.stderr)
    );
    assert!(
        !mine.path().join("big.bin").exists(),
        "a damaged file was saved"
    );
}

#[test]
fn a_name_that_is_a_path_is_refused() {
    let top = tempfile::tempdir().unwrap();
    let served = top.path().join("served");
    let mine = top.path().join("mine");
    fs::create_dir(&served).unwrap();
    fs::create_dir(&mine).unwrap();
    // A file one folder above the served one: `../secret.txt` from the server's point of view.
    fs::write(top.path().join("secret.txt"), "not for you\n").unwrap();
    fs::write(served.join(".hidden"), "not for you either\n").unwrap();
    let server = start_server(&served);

    for name in ["../secret.txt", ".hidden"] {
        let got = fetch(server.addr(), name, &mine);
        assert!(!got.status.success(), "{name} was served");
        testkit::assert_text_matches(
            &testkit::book_block(PAGE, "first-refused"),
            &text(&got.stderr),
        );
    }
    assert_eq!(
        fs::read_dir(&mine).unwrap().count(),
        0,
        "the client saved something"
    );
    // Each refusal ended one connection, not the server: the next client is served.
    fs::write(served.join("hello.txt"), "hello, world\n").unwrap();
    let got = fetch(server.addr(), "hello.txt", &mine);
    assert!(got.status.success(), "{}", text(&got.stderr));
}
