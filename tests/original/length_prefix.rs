//! The original tutorial's length-prefix client, run with python3 against a server of lesson 5
//! or 6. Both lessons speak its protocol byte for byte; their tests share this runner.

use std::process::Command;

/// The client's logic, unchanged; what was changed so that a test can check it is listed at
/// the top of the script.
const CLIENT: &str = include_str!("length_prefix_client.py");

/// Sends each command of `cases` through the original client connected to `addr`, and checks
/// that it received, for each, the length and then exactly the expected bytes. Returns `false`
/// (and says so) when python3 is not installed, so the caller can skip its remaining checks.
pub fn check_original_client(addr: &str, cases: &[(String, Vec<u8>)]) -> bool {
    if Command::new("python3").arg("--version").output().is_err() {
        println!("note: python3 is not installed; skipping the original client's test");
        return false;
    }
    let mut input = String::new();
    let mut expected = Vec::new();
    for (command, reply) in cases {
        input.push_str(command);
        input.push('\n');
        // The script writes "<length>\n" and then the bytes, for every reply.
        expected.extend_from_slice(format!("{}\n", reply.len()).as_bytes());
        expected.extend_from_slice(reply);
    }
    input.push_str("quit\n");
    let output = testkit::client("python3")
        .args(["-c", CLIENT, addr])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the original client failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        output.stdout.len(),
        expected.len(),
        "bytes the original client received"
    );
    assert!(
        output.stdout == expected,
        "the original client received different bytes"
    );
    true
}
