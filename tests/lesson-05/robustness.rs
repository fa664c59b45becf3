//! What no client can take from lesson 5's server: a thread that cannot start does not kill
//! it, and bytes that are not text get a short refusal, not three times their size. (Chapter
//! 3's tests cover a process left behind holding the output: the runner is chapter 3's.)

use std::io::{Read, Write};

use lesson_05::{ACK, ServerConfig, communication_loop, recv_length};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-05");

#[cfg(target_os = "linux")]
#[test]
fn a_thread_that_cannot_start_gets_the_client_an_error_and_the_server_goes_on() {
    let mut server = testkit::server_whose_threads_cannot_start(BIN, &["server", "127.0.0.1:0"]);
    for _ in 0..2 {
        // A new connection each time: the server must be back at `accept`, not dead.
        let mut conn = testkit::connect(server.addr());
        // The lesson's four steps, done here: command, length, `recv_ready`, data.
        conn.write_all(b"echo hi").unwrap();
        let announced = recv_length(&mut conn).expect("a length, not a closed connection");
        conn.write_all(ACK).unwrap();
        let mut reply = vec![0u8; announced];
        conn.read_exact(&mut reply).unwrap();
        let reply = String::from_utf8(reply).unwrap();
        assert!(
            reply.starts_with("[remote shell: could not run the command: cannot start a thread"),
            "the reply should say the command could not run, and why: {reply:?}"
        );
    }
    server.expect_stderr("cannot start a thread");
    assert!(server.is_running(), "the server died");
}

#[test]
fn bytes_that_are_not_text_get_a_short_refusal_not_three_times_their_size() {
    // 63 commands of 1024 bytes of 0xFF, one per read, as a client can send them: 63 KB,
    // each followed by the client's `recv_ready` for its reply.
    let command = vec![0xFFu8; 1024];
    let sent = 63 * command.len();
    let mut conn = testkit::Scripted::new([command, ACK.to_vec()].into_iter().cycle().take(2 * 63));
    communication_loop(&mut conn, &ServerConfig::default(), &mut |_| {}).unwrap();
    // Before, the shell's "not found" repeated each command with every byte turned into three.
    assert!(
        conn.written.len() < sent / 4,
        "{} bytes of replies for {sent} bytes of commands",
        conn.written.len()
    );
    // Each reply: its length, then the refusal.
    let refusal = "[remote shell: could not run the command: the command is not UTF-8 text \
                   (byte 0 is 0xFF)]\n";
    let refusal = format!("{}{refusal}", refusal.len());
    assert_eq!(String::from_utf8_lossy(&conn.written), refusal.repeat(63));
}
