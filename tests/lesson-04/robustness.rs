//! What no client can take from lesson 4's server: a thread that cannot start does not kill
//! it, and bytes that are not text get a short refusal, not three times their size. (Chapter
//! 3's tests cover a process left behind holding the output: the runner is chapter 3's.)

use std::io::Write;

use lesson_04::{Settings, communication_loop};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-04");

#[cfg(target_os = "linux")]
#[test]
fn a_thread_that_cannot_start_gets_the_client_an_error_and_the_server_goes_on() {
    let mut server = testkit::server_whose_threads_cannot_start(BIN, &["server", "127.0.0.1:0"]);
    for _ in 0..2 {
        // A new connection each time: the server must be back at `accept`, not dead.
        let mut conn = testkit::connect(server.addr());
        conn.write_all(b"echo hi").unwrap();
        // Both parts of the reply, the status line and the output: one line each.
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while got.iter().filter(|&&b| b == b'\n').count() < 2 {
            match testkit::read_some(&mut conn, &mut buf) {
                Ok(0) => panic!(
                    "the server closed the connection after {:?}",
                    String::from_utf8_lossy(&got)
                ),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => panic!("no reply ({e}) after {:?}", String::from_utf8_lossy(&got)),
            }
        }
        let reply = String::from_utf8(got).unwrap();
        assert!(
            reply.starts_with(
                "[could not run the command]\n\
                 [remote shell: could not run the command: cannot start a thread"
            ),
            "the reply should say the command could not run, and why: {reply:?}"
        );
    }
    assert!(server.is_running(), "the server died");
}

#[test]
fn bytes_that_are_not_text_get_a_short_refusal_not_three_times_their_size() {
    // 63 commands of 1024 bytes of 0xFF, one per read, as a client can send them: 63 KB.
    let requests = vec![vec![0xFFu8; 1024]; 63];
    let sent: usize = requests.iter().map(Vec::len).sum();
    let mut conn = testkit::Scripted::new(requests);
    communication_loop(&mut conn, &Settings::default(), &mut |_| {}).unwrap();
    // Before, the shell's "not found" repeated each command with every byte turned into three.
    assert!(
        conn.written.len() < sent / 4,
        "{} bytes of replies for {sent} bytes of commands",
        conn.written.len()
    );
    let refusal = "[could not run the command]\n[remote shell: could not run the command: \
                   the command is not UTF-8 text (byte 0 is 0xFF)]\n";
    assert_eq!(String::from_utf8_lossy(&conn.written), refusal.repeat(63));
}
