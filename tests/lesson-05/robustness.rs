//! What no client can take from lesson 5's server: a thread that cannot start does not kill
//! it, and bytes that are not text get a short refusal, not three times their size. (Chapter
//! 3's tests cover a process left behind holding the output: the runner is chapter 3's.)

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::process::Command;

use lesson_05::{ACK, ServerConfig, communication_loop, recv_length};
use testkit::Server;

const BIN: &str = env!("CARGO_BIN_EXE_lesson-05");

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
    // 63 commands of 1024 bytes of 0xFF, one per read, as a client can send them: 63 KB,
    // each followed by the client's `recv_ready` for its reply.
    let command = vec![0xFFu8; 1024];
    let sent = 63 * command.len();
    let mut conn = Script {
        reads: [command, ACK.to_vec()]
            .into_iter()
            .cycle()
            .take(2 * 63)
            .collect(),
        written: Vec::new(),
    };
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
