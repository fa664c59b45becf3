//! The smallest file server: `get NAME` for the files of the folder it runs in, one request per
//! connection. A request and a reply's header are frames: 4 bytes of length, then JSON.
use std::io::{Read, Result, Write};
use std::net::{TcpListener, TcpStream};
use std::{env, fs};

use md5::{Digest, Md5};
use serde_json::{Value, json};

fn main() -> Result<()> {
    let addr = env::args().nth(1).unwrap_or("127.0.0.1:8080".to_string());
    let listener = TcpListener::bind(addr)?;
    println!("listening on {}", listener.local_addr()?);
    for conn in listener.incoming() {
        // A failing client ends only its own connection (an accept error still ends the server).
        serve(conn?).unwrap_or_else(|e| eprintln!("client failed: {e}"));
    }
    Ok(())
}

fn serve(mut conn: TcpStream) -> Result<()> {
    let request = read_frame(&mut conn)?; // {"command":"get","name":"hello.txt"}
    let name = request["name"].as_str().unwrap_or("");
    // A name, never a path: no "../x", no "/etc/passwd", no ".hidden" (the lesson has more rules).
    if name.contains('/') || name.starts_with('.') {
        return send_frame(&mut conn, &json!({"error": "names are not paths"}));
    }
    let Ok(body) = fs::read(name) else {
        return send_frame(&mut conn, &json!({"error": "no such file"}));
    };
    let md5 = format!("{:x}", Md5::digest(&body));
    let header = json!({"name": name, "size": body.len(), "md5": md5});
    send_frame(&mut conn, &header)?;
    conn.write_all(&body) // all of it: one `write` may take only a part
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
