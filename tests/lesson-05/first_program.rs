//! Chapter 5's first program (`examples/prefix_server.rs` and `prefix_client.rs`) does the
//! stage's job: a reply far longer than one 1024-byte read arrives whole, and the next command
//! gets its own reply, not the rest of the last one (chapter 4's sticky packet is gone).

use predicates::str::contains;
use testkit::Server;

const PAGE: &str = "../../book/src/ch05-length-prefix.md";

fn example(name: &str) -> std::path::PathBuf {
    testkit::example_bin(name, &format!("examples/{name}.rs"))
}

#[test]
fn a_long_reply_arrives_whole_and_the_next_reply_is_its_own() {
    let server = Server::start(example("prefix_server"), &["127.0.0.1:0"]);
    let seq: String = (1..=10_000).map(|i| format!("{i}\n")).collect();
    assert_eq!(seq.len(), 48_894, "the number the chapter quotes");
    let expected = format!("{seq}next\n");
    testkit::client(example("prefix_client"))
        .arg(server.addr())
        .write_stdin("seq 1 10000\necho next\nquit\n")
        .assert()
        .success()
        .stdout(expected)
        .stderr(contains("[48894 bytes]\n[5 bytes]\n"));
}

#[test]
fn an_empty_reply_is_the_length_zero() {
    let server = Server::start(example("prefix_server"), &["127.0.0.1:0"]);
    testkit::client(example("prefix_client"))
        .arg(server.addr())
        .write_stdin("true\necho after\n")
        .assert()
        .success()
        .stdout("after\n")
        .stderr(contains("[0 bytes]\n[6 bytes]\n"));
}

#[test]
fn the_client_prints_what_the_chapter_shows() {
    let server = Server::start(example("prefix_server"), &["127.0.0.1:0"]);
    // The chapter shows stdout and stderr together, as a terminal does: `2>&1` through sh.
    // The client writes each reply (a whole number of lines, so Rust's line-buffered stdout
    // passes it on at once) before its stderr note, so the order is fixed.
    let stdout = testkit::stdout_on_success(
        testkit::client("sh")
            .args(["-c", "\"$0\" \"$1\" 2>&1"])
            .arg(example("prefix_client"))
            .arg(server.addr())
            .write_stdin("seq 1 10000\necho next\n"),
    );
    testkit::assert_text_matches(&testkit::book_block(PAGE, "first-program"), &stdout);
}
