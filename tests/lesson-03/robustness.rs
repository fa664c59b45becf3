//! What nothing may take from lesson 3's server: a thread that cannot start does not kill it, a
//! process a command leaves behind keeps no thread or pipe of it, and a reply to bytes that
//! are not text is no larger than they were. Each failure is made, not waited for.

use std::io::Write;
use std::net::TcpStream;
use std::process::Command;

use lesson_03::{Limits, communication_loop};
use testkit::Server;

const BIN: &str = env!("CARGO_BIN_EXE_lesson-03");

/// Sends `command` and reads one reply: everything up to and including its last newline.
fn exchange(conn: &mut TcpStream, command: &[u8]) -> String {
    conn.write_all(command).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(b"]\n") {
        match testkit::read_some(conn, &mut buf) {
            Ok(0) => panic!(
                "the server closed the connection after {:?}",
                String::from_utf8_lossy(&got)
            ),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => panic!("no reply ({e}) after {:?}", String::from_utf8_lossy(&got)),
        }
    }
    String::from_utf8(got).unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn a_thread_that_cannot_start_gets_the_client_an_error_and_the_server_goes_on() {
    let mut server = testkit::server_whose_threads_cannot_start(BIN, &["server", "127.0.0.1:0"]);
    for _ in 0..2 {
        // A new connection each time: the server must be back at `accept`, not dead.
        let mut conn = testkit::connect(server.addr());
        let reply = exchange(&mut conn, b"echo hi");
        assert!(
            reply.starts_with("[remote shell: could not run the command: cannot start a thread"),
            "the reply should say the command could not run, and why: {reply:?}"
        );
        // The same connection still works, and still says so.
        let again = exchange(&mut conn, b"echo again");
        assert_eq!(again, reply);
    }
    server.expect_stderr("could not run: cannot start a thread");
    assert!(server.is_running(), "the server died");
    // The thread is started before the command, so no `sh` was left running without a reader.
    assert_eq!(children_of(server.pid()), Vec::<u32>::new());
}

/// Kills a process that a test's command left behind, when the test ends however it ends.
#[cfg(target_os = "linux")]
struct KillPid(libc::pid_t);

#[cfg(target_os = "linux")]
impl Drop for KillPid {
    fn drop(&mut self) {
        // SAFETY: kill(2) has no memory-safety preconditions; the pid is the `sleep` we started.
        unsafe { libc::kill(self.0, libc::SIGKILL) };
    }
}

/// The server's threads, and how many pipes it holds open.
#[cfg(target_os = "linux")]
fn threads_and_pipes(pid: u32) -> (usize, usize) {
    let threads = std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .count();
    let pipes = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .filter(|target| target.to_string_lossy().starts_with("pipe:"))
        .count();
    (threads, pipes)
}

/// The pids of `pid`'s children (Linux lists them per thread).
#[cfg(target_os = "linux")]
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .map(|child| child.parse().unwrap())
                .collect::<Vec<u32>>()
        })
        .collect()
}

#[cfg(target_os = "linux")]
#[test]
fn a_process_that_escapes_the_group_keeps_no_thread_or_pipe_of_the_server() {
    let mut cmd = Command::new(BIN);
    cmd.args(["server", "127.0.0.1:0", "--timeout", "1"]);
    let mut server = Server::spawn(cmd);
    let before = threads_and_pipes(server.pid());
    let mut conn = testkit::connect(server.addr());
    let mut left_behind = Vec::new();
    for _ in 0..2 {
        // `setsid` puts `sleep` in a session (and a group) of its own, out of reach of the
        // group kill, and it holds the output pipe for 1000 s. `$!` is its pid.
        let reply = exchange(&mut conn, b"setsid sleep 1000 & echo $!");
        let (pid, note) = reply.split_once('\n').unwrap();
        left_behind.push(KillPid(pid.parse().unwrap()));
        assert_eq!(
            note,
            "[remote shell: command timed out after 1 s and was killed]\n"
        );
        // The reply is written after the runner has returned: by then the reader thread must
        // have let go of the pipe, although `sleep` still holds its other end.
        assert_eq!(
            threads_and_pipes(server.pid()),
            before,
            "threads and pipes of the server, after the command, compared with before it"
        );
    }
    server.expect_stderr("timed out after 1 s, killed");
    assert_eq!(
        exchange(&mut conn, b"echo $((6 * 7)); false; echo ]"),
        "42\n]\n"
    );
}

#[test]
fn bytes_that_are_not_text_get_a_short_refusal_not_three_times_their_size() {
    // 63 commands of 1024 bytes of 0xFF, one per read, as a client can send them: 63 KB.
    let requests = vec![vec![0xFFu8; 1024]; 63];
    let sent: usize = requests.iter().map(Vec::len).sum();
    let mut conn = testkit::Scripted::new(requests);
    let mut log = Vec::new();
    communication_loop(&mut conn, &Limits::default(), &mut |line| log.push(line)).unwrap();
    // Every command is answered, in one short line that says why it did not run. (Before, the
    // shell's "not found" repeated each command with every byte turned into three.)
    assert!(
        conn.written.len() < sent / 4,
        "{} bytes of replies for {sent} bytes of commands",
        conn.written.len()
    );
    let refusal = "[remote shell: could not run the command: the command is not UTF-8 text \
                   (byte 0 is 0xFF)]\n";
    assert_eq!(String::from_utf8_lossy(&conn.written), refusal.repeat(63));
    assert!(
        log.iter()
            .any(|line| line.contains("could not run: the command is not UTF-8"))
    );
}

#[test]
fn text_cut_in_the_middle_of_a_character_is_refused_too() {
    // `你` is three bytes; a read that ends after two of them holds no complete command.
    let mut conn = testkit::Scripted::new([b"echo \xE4\xBD".to_vec()]);
    communication_loop(&mut conn, &Limits::default(), &mut |_| {}).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&conn.written),
        "[remote shell: could not run the command: the command is not UTF-8 text \
         (byte 5 is 0xE4)]\n"
    );
}

/// A caller of the library may skip the command line's checks: a time limit too long to add
/// to the clock must not panic the runner (it is as good as no limit).
#[test]
fn a_time_limit_too_long_for_the_clock_does_not_panic() {
    let limits = Limits {
        timeout: std::time::Duration::MAX,
        ..Limits::default()
    };
    let outcome =
        lesson_03::run_command(lesson_03::shell_command("echo hi"), &limits).expect("echo runs");
    assert_eq!(String::from_utf8_lossy(&outcome.output), "hi\n");
    assert_eq!(outcome.timed_out_after, None);
}
