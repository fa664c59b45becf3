//! The smallest file client: `file_client ADDR NAME` asks for NAME, reads exactly `size` bytes,
//! and saves them in the current folder only if their MD5 is the one the server announced.
use std::io::{Read, Result, Write};
use std::net::TcpStream;
use std::{env, fs, process};

use md5::{Digest, Md5};
use serde_json::{Value, json};

fn main() -> Result<()> {
    let addr = env::args().nth(1).unwrap_or("127.0.0.1:8080".to_string());
    let name = env::args().nth(2).unwrap_or("hello.txt".to_string());
    let mut conn = TcpStream::connect(addr)?;
    send_frame(&mut conn, &json!({"command": "get", "name": name}))?;
    let header = read_frame(&mut conn)?; // {"name":…,"size":…,"md5":…} or {"error":…}
    if let Some(error) = header["error"].as_str() {
        eprintln!("error: {error}");
        process::exit(1);
    }
    let size = header["size"].as_u64().expect("the header has a size");
    // Exactly `size` bytes: the header said where the file ends.
    let mut body = vec![0; size as usize];
    conn.read_exact(&mut body)?;
    let md5 = format!("{:x}", Md5::digest(&body));
    if header["md5"] != md5 {
        eprintln!("error: {name:?} arrived damaged (md5 {md5}); nothing was saved");
        process::exit(1);
    }
    // Saved under the name we asked for, not a name from the reply.
    fs::write(&name, &body)?;
    println!("got {name:?}: {size} bytes, md5 {md5}");
    Ok(())
}

fn send_frame(conn: &mut TcpStream, header: &Value) -> Result<()> {
    let json = header.to_string(); // length and JSON in one write (chapter 6)
    conn.write_all(&[&(json.len() as u32).to_be_bytes()[..], json.as_bytes()].concat())
}

fn read_frame(conn: &mut TcpStream) -> Result<Value> {
    let mut length = [0; 4];
    conn.read_exact(&mut length)?;
    let mut json = vec![0; u32::from_be_bytes(length) as usize];
    conn.read_exact(&mut json)?;
    Ok(serde_json::from_slice(&json)?)
}
