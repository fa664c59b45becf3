//! The original tutorial's plan-one client (`lessons/lesson-05-length-prefix/python/
//! original_client.py`, the file the chapter tells the reader to run), run with python3 against
//! a server of lesson 5 or 6. Both lessons speak its protocol byte for byte; their tests share
//! this runner.
//!
//! The tests run that very file, not a copy. What it prints cannot be checked byte for byte as
//! it stands: it prints each piece of a reply decoded on its own, with a newline added after
//! each, so where one piece ended and the reply's own newline began is lost. So a small Python
//! harness (below) runs the file's code unchanged, with three of Python's built-ins replaced
//! around it: `print` writes the length as "<length>\n" and each piece as its raw bytes,
//! `input` reads a line without a prompt, and every socket gets a timeout. The client's logic,
//! its loop and its bugs, are exactly what the reader runs.

/// The client the chapter ships.
const CLIENT: &str =
    include_str!("../../lessons/lesson-05-length-prefix/python/original_client.py");

/// Runs the client's source (argv[1]) against the address argv[2], with the built-ins the test
/// needs replaced. The client calls `print` in two ways: `print('信息长度是:', length)` once
/// per reply, and `print(data.decode('gbk'))` once per piece received. The tests' replies are
/// ASCII, which GBK decodes and encodes back to the very same bytes.
const HARNESS: &str = r#"
import builtins, socket, sys
source, address = sys.argv[1], sys.argv[2]
out = sys.stdout.buffer
def test_print(*args):
    if len(args) == 2:
        out.write(b'%d\n' % args[1])
    else:
        out.write(args[0].encode('gbk'))
builtins.print = test_print
# No prompt; at the end of the input, 'quit' (the client itself would stop with EOFError).
builtins.input = lambda prompt='': sys.stdin.readline() or 'quit'
# The client sets no timeout: a server that never answers must not hang the test.
socket.setdefaulttimeout(10)
sys.argv = ['original_client.py', address]
exec(compile(source, 'original_client.py', 'exec'), {'__name__': '__main__'})
"#;

/// Sends each command of `cases` through the original client connected to `addr`, and checks
/// that it received, for each, the length and then exactly the expected bytes. Returns `false`
/// when python3 is not installed (and `COURSE_REQUIRE_TOOLS` is not set), so the caller can
/// skip its remaining checks.
pub fn check_original_client(addr: &str, cases: &[(String, Vec<u8>)]) -> bool {
    if !testkit::have_tool("python3", "--version") {
        return false;
    }
    let mut input = String::new();
    let mut expected = Vec::new();
    for (command, reply) in cases {
        input.push_str(command);
        input.push('\n');
        // The harness writes "<length>\n" and then the bytes, for every reply.
        expected.extend_from_slice(format!("{}\n", reply.len()).as_bytes());
        expected.extend_from_slice(reply);
    }
    input.push_str("quit\n");
    let output = testkit::client("python3")
        .args(["-c", HARNESS, CLIENT, addr])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the original client failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The client's catch-all `except` turns any error into a quiet exit: a missing reply shows
    // up as missing bytes.
    assert_eq!(
        output.stdout.len(),
        expected.len(),
        "bytes the original client received (stderr: {})",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.stdout == expected,
        "the original client received different bytes"
    );
    true
}
