//! The Python client in `lessons/lesson-07-file-service/python/file_client.py`, written from the
//! protocol page alone, against the real `lesson-07 server`: if the page and the server ever
//! disagree, this fails. Skipped where python3 is missing, except in CI.

use std::fs;
use std::path::Path;

use netlab::{Directions, Options, Proxy};
use testkit::Server;

const BIN: &str = env!("CARGO_BIN_EXE_lesson-07");
const CLIENT: &str = "python/file_client.py";

fn python(dir: &Path, addr: &str, args: &[&str]) -> assert_cmd::assert::Assert {
    testkit::client("python3")
        .arg(CLIENT)
        .args(["--dir", dir.to_str().unwrap(), addr])
        .args(args)
        .assert()
}

fn stdout_of(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}

#[test]
fn the_python_client_puts_lists_and_gets_files_byte_for_byte() {
    if !testkit::have_tool("python3", "--version") {
        return;
    }
    let (root, mine, theirs) = (tempdir(), tempdir(), tempdir());
    let big: Vec<u8> = (0..1_048_577u32).map(|i| (i * 7 + i / 251) as u8).collect();
    fs::write(mine.path().join("big.bin"), &big).unwrap();
    fs::write(mine.path().join("名字 with spaces.txt"), "你好\n").unwrap();
    let server = Server::start(BIN, &["server", "127.0.0.1:0", "--root", path(&root)]);

    let put = python(
        mine.path(),
        server.addr(),
        &["put", "big.bin", "名字 with spaces.txt"],
    );
    let out = stdout_of(&put);
    put.success();
    assert!(out.contains("put 'big.bin': 1048577 bytes, md5 "), "{out}");
    assert_eq!(fs::read(root.path().join("big.bin")).unwrap(), big);

    let ls = python(mine.path(), server.addr(), &["ls"]);
    assert_eq!(stdout_of(&ls), "big.bin\n名字 with spaces.txt\n");
    ls.success();

    python(
        theirs.path(),
        server.addr(),
        &["get", "big.bin", "名字 with spaces.txt"],
    )
    .success();
    assert_eq!(fs::read(theirs.path().join("big.bin")).unwrap(), big);
    assert_eq!(
        fs::read_to_string(theirs.path().join("名字 with spaces.txt")).unwrap(),
        "你好\n"
    );
    assert_eq!(
        testkit::names_in(theirs.path()),
        ["big.bin", "名字 with spaces.txt"]
    );
}

#[test]
fn the_python_client_reports_refusals_and_keeps_going() {
    if !testkit::have_tool("python3", "--version") {
        return;
    }
    let (root, dir) = (tempdir(), tempdir());
    fs::write(root.path().join("here.txt"), "here\n").unwrap();
    let server = Server::start(BIN, &["server", "127.0.0.1:0", "--root", path(&root)]);

    // A missing file is refused by the server, a path by the client itself, and the request
    // after both still works on the same connection.
    let get = python(
        dir.path(),
        server.addr(),
        &["get", "missing", "../x", "here.txt"],
    );
    let out = stdout_of(&get);
    get.code(1);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("get missing: refused: "), "{out}");
    assert!(lines[1].starts_with("refused the name '../x'"), "{out}");
    assert!(lines[2].starts_with("got 'here.txt': 5 bytes"), "{out}");
    assert_eq!(testkit::names_in(dir.path()), ["here.txt"]);
}

#[test]
fn a_file_damaged_on_the_way_is_caught_by_md5_and_not_saved() {
    if !testkit::have_tool("python3", "--version") {
        return;
    }
    let (root, dir) = (tempdir(), tempdir());
    fs::write(root.path().join("data.bin"), vec![b'x'; 100_000]).unwrap();
    let server = Server::start(BIN, &["server", "127.0.0.1:0", "--root", path(&root)]);
    // The lab flips one byte of what the server sends, inside the body (after the 4-byte length
    // and the header), where only the digest can notice it.
    let options = Options {
        corrupt: Some(5_000),
        directions: Directions::ToClient,
        ..Options::default()
    };
    let lab = Proxy::on_loopback(server.socket_addr(), options).unwrap();

    let get = python(
        dir.path(),
        &lab.local_addr().to_string(),
        &["get", "data.bin"],
    );
    let out = stdout_of(&get);
    get.code(1);
    assert!(out.starts_with("get data.bin: damaged on the way"), "{out}");
    assert!(
        testkit::names_in(dir.path()).is_empty(),
        "nothing saved, not even a .part"
    );
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn path(dir: &tempfile::TempDir) -> &str {
    dir.path().to_str().unwrap()
}
