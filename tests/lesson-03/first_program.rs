//! Chapter 3's first program (`examples/shell_server.rs`, `examples/shell_client.rs`) runs
//! commands over a real socket, and its one read of 1024 bytes loses the end of a long reply
//! to the next command, as the chapter says.

use std::path::PathBuf;

use testkit::Server;

fn server() -> Server {
    let bin = testkit::example_bin("shell_server", "examples/shell_server.rs");
    Server::start(bin, &["127.0.0.1:0"])
}

fn client() -> PathBuf {
    testkit::example_bin("shell_client", "examples/shell_client.rs")
}

/// Feeds `input` to the example client and returns what it printed on stdout.
fn run_client(server: &Server, input: &str) -> String {
    testkit::stdout_on_success(
        testkit::client(client())
            .arg(server.addr())
            .write_stdin(input),
    )
}

#[test]
fn it_runs_commands_and_sends_back_stdout_stderr_and_a_note_for_silence() {
    let mut server = server();
    let printed = run_client(
        &server,
        "echo hello\n\necho oops >&2; echo fine\ntrue\nquit\necho never sent\n",
    );
    // stdout comes first, then stderr: `output` collects them apart, and the server joins them.
    testkit::assert_text_matches(
        &testkit::book_block("../../book/src/ch03-remote-shell.md", "first-program"),
        &printed,
    );
    server.expect_stderr("running \"true\"");
    assert!(server.is_running());
}

#[test]
fn a_reply_over_1024_bytes_spills_into_the_next_one() {
    let server = server();
    // 2000 zeros, no newline: the server sends them with one `write_all`, and on loopback they
    // arrive together. The client's one read takes 1024; the other 976 wait in the socket, and
    // the read after `echo hi` returns them, whether or not "hi" has arrived behind them yet.
    let printed = run_client(&server, "printf '%02000d' 0\necho hi\nquit\n");
    let zeros = "0".repeat(2000);
    assert!(
        printed == zeros || printed == format!("{zeros}hi\n"),
        "expected 2000 zeros (and maybe `hi`), got {} bytes: {printed:?}",
        printed.len()
    );
}
