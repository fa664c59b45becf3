//! The hex dumps in the protocol page's "A worked example" come from this run: a raw socket
//! sends the page's requests to the real `lesson-07 server`, records every piece the server
//! sends back, prints each piece as the page prints it, and compares. If one byte of the page
//! or of what the server sends changes, this fails.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;

use testkit::{Server, assert_text_matches, book_block, connect};

const BIN: &str = env!("CARGO_BIN_EXE_lesson-07");
const PAGE: &str = "../../book/src/ch07-protocol.md";

/// The file the example serves and then uploads again: 13 bytes.
const HELLO: &[u8] = b"hello, world\n";
/// Its MD5, as the trailer carries it. Written out rather than computed, because the page shows
/// the trailer the client sends; the server refuses the put if this is not the body's digest.
const TRAILER: &str = r#"{"md5":"22c3683b094136c3398391ae71b20f04"}"#;

#[test]
fn the_worked_example_shows_the_bytes_the_server_really_sends() {
    let root = tempfile::tempdir().expect("a temporary root");
    fs::write(root.path().join("hello.txt"), HELLO).unwrap();
    let dir = root.path().to_str().expect("a UTF-8 temporary path");
    let server = Server::start(BIN, &["server", "127.0.0.1:0", "--root", dir]);
    let mut conn = connect(server.addr());

    // get: the request, then the three pieces of the answer, each read to its announced end.
    let request = frame(r#"{"command":"get","name":"hello.txt"}"#);
    conn.write_all(&request).unwrap();
    let shown = dump("client -> server: the request", &request);
    check("get-request", &shown);

    let header = read_frame(&mut conn);
    let size = size_in(&header);
    let body = read_exact(&mut conn, size);
    let trailer = read_frame(&mut conn);
    let shown = [
        dump("server -> client: the header", &header),
        dump("server -> client: the body", &body),
        dump("server -> client: the trailer", &trailer),
    ]
    .concat();
    check("get-reply", &shown);
    assert_eq!(body, HELLO, "the body is the file");

    // put: the same bytes as copy.txt, on the same connection.
    let request = frame(r#"{"command":"put","name":"copy.txt","size":13}"#);
    conn.write_all(&request).unwrap();
    let go_ahead = read_frame(&mut conn);
    let upload = [HELLO, &frame(TRAILER)].concat();
    conn.write_all(&upload).unwrap();
    let saved = read_frame(&mut conn);
    let shown = [
        dump("client -> server: the request", &request),
        dump("server -> client: the go-ahead", &go_ahead),
        dump("client -> server: the body, then the trailer", &upload),
        dump("server -> client: saved", &saved),
    ]
    .concat();
    check("put-session", &shown);
    assert_eq!(fs::read(root.path().join("copy.txt")).unwrap(), HELLO);
}

/// Compares with the page's block `name`: first with the book's matcher, for its readable
/// message, then byte for byte, so that a `[..]` slipped into a dump cannot loosen the check.
fn check(name: &str, shown: &str) {
    let expected = book_block(PAGE, name);
    assert_text_matches(&expected, shown);
    assert_eq!(expected, shown, "block `{name}` of {PAGE}, byte for byte");
}

/// A frame as the protocol sends it: the JSON's length in 4 big-endian bytes, then the JSON.
fn frame(json: &str) -> Vec<u8> {
    let len = u32::try_from(json.len()).expect("a short header");
    [&len.to_be_bytes()[..], json.as_bytes()].concat()
}

/// One whole frame from the server, prefix included: exactly the bytes it sent for it.
fn read_frame(conn: &mut TcpStream) -> Vec<u8> {
    let prefix = read_exact(conn, 4);
    let len = u32::from_be_bytes(prefix.clone().try_into().unwrap());
    [prefix, read_exact(conn, len as usize)].concat()
}

/// Exactly `n` bytes; the socket's read timeout (from `testkit::connect`) bounds the wait.
fn read_exact(conn: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    conn.read_exact(&mut buf)
        .unwrap_or_else(|e| panic!("reading {n} bytes from the server: {e}"));
    buf
}

/// The body's size, as the header frame announces it.
fn size_in(header: &[u8]) -> usize {
    let json: serde_json::Value = serde_json::from_slice(&header[4..]).expect("a JSON header");
    let size = json["size"].as_u64().expect("a header with a size");
    usize::try_from(size).unwrap()
}

/// A piece as the page prints it: a title with the byte count, then 16 bytes a line, each line
/// its offset, the bytes in hex, and the same bytes as ASCII, `.` for any that is not printable.
fn dump(title: &str, bytes: &[u8]) -> String {
    let mut out = format!("{title}, {} bytes\n", bytes.len());
    for (i, line) in bytes.chunks(16).enumerate() {
        let hex: Vec<String> = line.iter().map(|b| format!("{b:02x}")).collect();
        let ascii: String = line
            .iter()
            .map(|&b| {
                if b == b' ' || b.is_ascii_graphic() {
                    char::from(b)
                } else {
                    '.'
                }
            })
            .collect();
        out += &format!("  {:04x}  {:<47}  {ascii}\n", i * 16, hex.join(" "));
    }
    out
}
