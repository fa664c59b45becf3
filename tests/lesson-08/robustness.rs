//! What no client can take from lesson 8's server, or from the other clients: garbage, a line
//! that never ends, a reset in the middle of a line, silence, a reader that stops reading, bad
//! flags, a thread that cannot start, and a cap on clients above what the system allows.

use testkit::chat::scenario::{bystanders, still_chatting};
use testkit::chat::{ChatClient, scenario};
use testkit::{BAD_SECONDS, Server};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-08");

fn server(extra: &[&str]) -> Server {
    testkit::chat::server(BIN, extra)
}

// The scenarios every server of Part II must pass are written once, in `testkit::chat::scenario`.

#[test]
fn garbage_gets_a_notice_and_the_room_goes_on() {
    scenario::garbage_costs_its_sender_nothing_more_than_notices(server);
}

#[test]
fn a_line_that_never_ends_costs_its_sender_the_connection_not_the_server_its_memory() {
    scenario::an_endless_line_is_cut_at_1025_bytes_while_others_chat(server);
}

#[test]
fn a_reset_in_the_middle_of_a_line_is_a_leave() {
    scenario::a_reset_in_the_middle_of_a_line_is_a_leave(server);
}

#[test]
fn silent_clients_hold_no_one_and_lose_their_slot_after_the_name_timeout() {
    scenario::a_silent_client_holds_nothing_up_and_loses_its_place(server);
}

#[test]
fn a_reader_that_stops_reading_is_disconnected_and_the_others_keep_chatting() {
    assert_eq!(lesson_08::OUTBOX_LIMIT, scenario::WAITING_LIMIT);
    let mut server = scenario::a_reader_that_stops_is_dropped_after_1000_waiting_messages(server);
    server.expect_stderr("slow left (too slow: 1000 lines waiting)");
}

#[test]
fn flags_out_of_range_are_refused_before_listening() {
    for value in ["0", "100001", "-1", "x", "1e3"] {
        testkit::assert_flag_refused(
            BIN,
            &["server", "127.0.0.1:0"],
            "--max-clients",
            value,
            "from 1 to 100000",
        );
    }
    for flag in ["--name-timeout", "--grace"] {
        for value in BAD_SECONDS {
            testkit::assert_flag_refused(
                BIN,
                &["server", "127.0.0.1:0"],
                flag,
                value,
                "from 0.001 to 86400",
            );
        }
    }
    let help = testkit::stdout_on_success(testkit::client(BIN).args(["server", "--help"]));
    for range in ["(1 to 100000)", "(0.001 to 86400)"] {
        assert!(help.contains(range), "--help states {range}: {help}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_thread_that_cannot_start_refuses_that_client_and_the_server_goes_on() {
    let mut server = testkit::server_whose_threads_cannot_start(BIN, &["server", "127.0.0.1:0"]);
    for _ in 0..3 {
        // A new connection each time: the server must be back at `accept`, not dead.
        let mut client = ChatClient::connect(server.addr());
        assert_eq!(
            client.expect_closed(),
            ["* server cannot take you now; try later"]
        );
    }
    server.expect_stderr("cannot start a thread");
    assert!(server.is_running(), "the server died");
}

/// Near Linux's limit on a process's memory mappings, a new thread can get its stack and not
/// std's signal stack, and std aborts the process: a cap above what `vm.max_map_count` allows
/// is lowered at start, with a warning, so that the clients beyond it are told "server full".
#[cfg(target_os = "linux")]
#[test]
fn a_cap_beyond_the_system_s_memory_mappings_is_lowered_with_a_warning() {
    let allowed = lesson_08::clients_the_system_allows().expect("Linux has vm.max_map_count");
    if allowed >= 100_000 {
        eprintln!("skipped: vm.max_map_count here allows {allowed} clients, above any cap");
        return;
    }
    let mut server = server(&["--max-clients", "100000"]);
    server.expect_stderr(&format!(
        "warning: --max-clients 100000 lowered to {allowed}:"
    ));
    // The same server still serves.
    let (mut x, mut y) = bystanders(server.addr());
    still_chatting(&mut x, &mut y, "hi");
}

/// A server with no file descriptor to spare still stops on SIGTERM, and tells its clients.
/// (`Stop` makes its wake-up socket at start: one made at Ctrl-C can fail with EMFILE, and if
/// a descriptor frees up just after, `accept` waits for ever. That race is not reproduced
/// here; this is the state it happens in.)
#[cfg(target_os = "linux")]
#[test]
fn sigterm_stops_a_server_that_has_used_its_file_descriptors() {
    const LIMIT: usize = 24;
    let mut cmd = std::process::Command::new("sh");
    cmd.args([
        "-c",
        &format!("ulimit -n {LIMIT} && exec \"$0\" server 127.0.0.1:0"),
        BIN,
    ]);
    let mut server = Server::spawn(cmd);
    let open = |pid: u32| {
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .count()
    };
    // Each client that has its hello holds one descriptor in the server: fill all but one.
    let mut clients = Vec::new();
    while open(server.pid()) < LIMIT - 1 {
        clients.push(ChatClient::join(
            server.addr(),
            &format!("c{}", clients.len()),
        ));
        assert!(
            clients.len() < LIMIT,
            "the server opens more descriptors than clients"
        );
    }
    let pid = libc::pid_t::try_from(server.pid()).unwrap();
    // SAFETY: kill(2) on a child we own; no memory-safety preconditions.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(server.expect_stdout_line(), "stopped");
    for client in &mut clients {
        let lines = client.expect_closed();
        assert_eq!(
            lines.last().map(String::as_str),
            Some("* server shutting down")
        );
    }
    let status = server.terminate();
    assert!(status.success(), "the server exited with {status}");
}
