//! Chapter 4's first program, run: the examples `sticky_server` and `sticky_client`.
//!
//! The sticky packet they show happens on every run, by construction, not by timing. The
//! reply to `seq 1 1000` is 3909 bytes (a 16-byte status line and 3893 bytes of output), and
//! the client makes one read of at most 1024 bytes per command. Two such reads take at most
//! 2048 bytes, so whatever the second one returns, and however much, is seq's output: never
//! the reply to `echo hi`. How much each read returns does depend on timing, so the test
//! checks every byte against the stream the server wrote, wherever the reads ended.

use testkit::Server;

const SERVER: &str = "examples/sticky_server.rs";
const CLIENT: &str = "examples/sticky_client.rs";

/// What the server wrote for `seq 1 1000`: its status line, then seq's output.
fn seq_reply() -> String {
    let numbers: String = (1..=1000).map(|i| format!("{i}\n")).collect();
    format!("[exit status 0]\n{numbers}")
}

/// The client's output, cut into (command, bytes the one read returned) pairs. Each reply is
/// a header line `--- reply to "CMD": one read, N bytes`, the N bytes, and a newline if they
/// did not end with one.
fn replies(stdout: &str) -> Vec<(String, String)> {
    let mut rest = stdout;
    let mut found = Vec::new();
    while let Some(header) = rest.strip_prefix("--- reply to ") {
        let (line, after) = header.split_once('\n').expect("a whole header line");
        let (command, size) = line.split_once(": one read, ").expect("the header's form");
        let size: usize = size.strip_suffix(" bytes").unwrap().parse().unwrap();
        let (bytes, after) = after.split_at(size);
        found.push((command.trim_matches('"').to_string(), bytes.to_string()));
        rest = if bytes.ends_with('\n') {
            after
        } else {
            after
                .strip_prefix('\n')
                .expect("the client ends a cut line")
        };
    }
    assert!(rest.is_empty(), "unexpected output: {rest:?}");
    found
}

#[test]
fn the_reply_to_echo_hi_is_more_of_seqs_output() {
    let server_bin = testkit::example_bin("sticky_server", SERVER);
    let client_bin = testkit::example_bin("sticky_client", CLIENT);
    let mut server = Server::start(&server_bin, &["127.0.0.1:0"]);
    let output = testkit::client(&client_bin)
        .arg(server.addr())
        .write_stdin("seq 1 1000\necho hi\nquit\n")
        .assert()
        .success()
        .get_output()
        .clone();
    // The server answered `seq 1 1000` correctly, with two writes.
    assert_eq!(
        server.expect_stderr("\"seq 1 1000\""),
        "\"seq 1 1000\": wrote 16 + 3893"
    );

    let stdout = String::from_utf8(output.stdout).expect("ASCII only");
    let replies = replies(&stdout);
    assert_eq!(replies.len(), 2, "one read per command:\n{stdout}");
    let (seq_read, hi_read) = (&replies[0], &replies[1]);
    assert_eq!(
        (seq_read.0.as_str(), hi_read.0.as_str()),
        ("seq 1 1000", "echo hi")
    );
    for (command, bytes) in &replies {
        assert!(
            (1..=1024).contains(&bytes.len()),
            "{command}: {}",
            bytes.len()
        );
    }

    // The two reads took the server's stream in order, from its first byte...
    let stream = seq_reply();
    let (first, rest) = stream.split_at(seq_read.1.len());
    assert_eq!(seq_read.1, first);
    // ...so the second read, the client's "reply" to `echo hi`, is the next part of seq's
    // output: 2048 bytes at most, out of 3909.
    assert!(seq_read.1.len() + hi_read.1.len() < stream.len());
    assert_eq!(hi_read.1, &rest[..hi_read.1.len()]);
    assert!(
        !hi_read.1.contains("hi") && !hi_read.1.contains("[exit status"),
        "the reply to `echo hi` should be seq's numbers: {:?}",
        hi_read.1
    );
}
