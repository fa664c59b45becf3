//! `lesson-07 demo`: the original's header, then this lesson's service, then damage in transit.
//!
//! Everything printed is decided by the program, never by timing: transfer speeds are left out,
//! and the damaged byte is chosen by offset.

use std::fs;
use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::thread;

use netlab::{Directions, Options, Proxy};

use crate::client::{Client, session};
use crate::original::{pack_header_as_meant, pack_header_as_written};
use crate::server::{self, Settings};
use crate::{Header, read_header, write_header};

/// Runs the narrated session, writing it to `out`.
pub fn run(out: &mut impl Write) -> anyhow::Result<()> {
    original_header(out)?;
    service(out)?;
    Ok(())
}

fn original_header(out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(out, "== 1. The original's \"fixed-length\" header ==")?;
    let file = b"hello, world\n";
    let written = pack_header_as_written("hello.txt", file.len() as u64, 300);
    let meant = pack_header_as_meant("hello.txt", file.len() as u64, 300);
    writeln!(
        out,
        "pack_header meant to pad the JSON to 300 bytes: {} bytes.",
        meant.len()
    )?;
    writeln!(out, "As written it sends {} bytes:", written.len())?;
    writeln!(out, "  {}", String::from_utf8_lossy(&written))?;
    writeln!(
        out,
        "because zfill returns a padded copy, and the code drops it."
    )?;
    // What the receiver's recv(1024) finds once the header and the file have both arrived.
    let mut stream = written.clone();
    stream.extend_from_slice(file);
    let got = &stream[..stream.len().min(1024)];
    writeln!(
        out,
        "The receiver's recv(1024) gets {} bytes: the header and the whole file, {}",
        got.len(),
        netlab::preview(&got[written.len()..], 40)
    )?;
    match serde_json::from_slice::<serde_json::Value>(got) {
        Ok(_) => writeln!(out, "and, by luck, they parse.")?,
        Err(e) => writeln!(out, "and json.loads fails on them: {e}.")?,
    }
    writeln!(out)?;
    writeln!(
        out,
        "This lesson frames each header with its length instead:"
    )?;
    let mut frame = Vec::new();
    write_header(&mut frame, &Header::request("get", Some("hello.txt")))?;
    let (length, json) = frame.split_at(4);
    writeln!(
        out,
        "  {:02x} {:02x} {:02x} {:02x} then {} ({} bytes)",
        length[0],
        length[1],
        length[2],
        length[3],
        String::from_utf8_lossy(json),
        json.len()
    )?;
    writeln!(out)?;
    Ok(())
}

fn service(out: &mut impl Write) -> anyhow::Result<()> {
    let place = tempfile::tempdir()?;
    let (server_dir, client_dir) = (place.path().join("server"), place.path().join("client"));
    fs::create_dir(&server_dir)?;
    fs::create_dir(&client_dir)?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let settings = Settings::new(&server_dir);
    thread::spawn(move || server::run(listener, settings, Arc::new(|_| {})));

    writeln!(out, "== 2. get and put, checked ==")?;
    writeln!(
        out,
        "A server on an ephemeral port serves an empty folder; the client has two files."
    )?;
    fs::write(client_dir.join("hello.txt"), b"hello, world\n")?;
    fs::write(client_dir.join("notes – résumé 文件.txt"), "ünïcödé\n")?;
    let mut client = Client::new(TcpStream::connect(addr)?, &client_dir);
    for command in ["put hello.txt", "put notes – résumé 文件.txt", "ls"] {
        run_command(out, &mut client, command)?;
    }
    writeln!(
        out,
        "The client deletes its copy of hello.txt and fetches it back:"
    )?;
    fs::remove_file(client_dir.join("hello.txt"))?;
    for command in [
        "get hello.txt",
        "get ../../etc/passwd",
        "get /etc/passwd",
        "get missing.txt",
        "delete hello.txt",
        "ls",
    ] {
        run_command(out, &mut client, command)?;
    }
    writeln!(
        out,
        "Each refusal was a reply: the connection is still in use."
    )?;
    writeln!(
        out,
        "The client checked those names itself; a client that does not gets the same"
    )?;
    writeln!(
        out,
        "answer from the server. Sent raw, the request and its reply:"
    )?;
    let mut raw = TcpStream::connect(addr)?;
    let request = Header::request("get", Some("../../etc/passwd"));
    write_header(&mut raw, &request)?;
    let reply = read_header(&mut raw, crate::DEFAULT_MAX_HEADER)?.unwrap_or_default();
    writeln!(out, "  -> {}", serde_json::to_string(&request)?)?;
    // The reply's JSON escapes the quotes in the text; show the text itself.
    writeln!(
        out,
        "  <- a header whose error is: {}",
        reply.error.unwrap_or_default()
    )?;
    writeln!(out)?;

    writeln!(out, "== 3. A byte damaged in transit ==")?;
    let big: Vec<u8> = (0..1024 * 1024 + 1).map(|i: u32| (i % 251) as u8).collect();
    fs::write(server_dir.join("big.bin"), &big)?;
    let corrupt_at = 100_000;
    writeln!(
        out,
        "The lab proxy inverts byte {corrupt_at} of what the server sends: inside big.bin's body."
    )?;
    let proxy = Proxy::on_loopback(
        addr,
        Options {
            corrupt: Some(corrupt_at),
            directions: Directions::ToClient,
            ..Options::default()
        },
    )?;
    let mut damaged = Client::new(TcpStream::connect(proxy.local_addr())?, &client_dir);
    run_command(out, &mut damaged, "get big.bin")?;
    writeln!(out, "In the client's folder now: {}", names(&client_dir)?)?;
    writeln!(out, "Without the proxy, the same request:")?;
    run_command(out, &mut client, "get big.bin")?;
    writeln!(out, "In the client's folder now: {}", names(&client_dir)?)?;
    Ok(())
}

/// Runs one command line through the real client session and shows it as a user would see it.
fn run_command(out: &mut impl Write, client: &mut Client, command: &str) -> io::Result<()> {
    writeln!(out, ">>> {command}")?;
    session(client, command.as_bytes(), out, false, false)?;
    Ok(())
}

/// Every entry in `dir`, hidden ones included, sorted.
fn names(dir: &Path) -> io::Result<String> {
    let mut names = fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<io::Result<Vec<_>>>()?;
    names.sort();
    Ok(names.join(", "))
}
