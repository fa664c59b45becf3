//! What no client can take from lesson 4's server: a thread that cannot start does not kill
//! it, and bytes that are not text get a short refusal, not three times their size. (Chapter
//! 3's tests cover a process left behind holding the output: the runner is chapter 3's.)

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::process::Command;

use lesson_04::{Settings, communication_loop};
use testkit::Server;

const BIN: &str = env!("CARGO_BIN_EXE_lesson-04");

/// The server, started so that no thread it asks for can start: `RUST_MIN_STACK` is the stack
/// std gives each new thread, and 2^60 bytes fit in no address space Linux gives a process, so
/// every `pthread_create` fails (EAGAIN), as root too. Processes still start.
#[cfg(target_os = "linux")]
fn server_whose_threads_cannot_start() -> Server {
    let mut cmd = Command::new(BIN);
    cmd.args(["server", "127.0.0.1:0"])
        .env("RUST_MIN_STACK", (1u64 << 60).to_string());
    Server::spawn(cmd)
}

#[cfg(target_os = "linux")]
#[test]
fn a_thread_that_cannot_start_gets_the_client_an_error_and_the_server_goes_on() {
    let mut server = server_whose_threads_cannot_start();
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

/// A connection made of prepared reads; it records every byte written to it.
struct Script {
    reads: VecDeque<Vec<u8>>,
    written: Vec<u8>,
}

impl Read for Script {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // Each prepared read is returned whole (they are at most 1024 bytes), then 0: the end.
        let Some(chunk) = self.reads.pop_front() else {
            return Ok(0);
        };
        buf[..chunk.len()].copy_from_slice(&chunk);
        Ok(chunk.len())
    }
}

impl Write for Script {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn bytes_that_are_not_text_get_a_short_refusal_not_three_times_their_size() {
    // 63 commands of 1024 bytes of 0xFF, one per read, as a client can send them: 63 KB.
    let requests = vec![vec![0xFFu8; 1024]; 63];
    let sent: usize = requests.iter().map(Vec::len).sum();
    let mut conn = Script {
        reads: requests.into(),
        written: Vec::new(),
    };
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
