//! A chat client for the tests of Part II (lessons 8-10): one TCP connection to a chat server,
//! read a line at a time, where every read fails the test after [`TIMEOUT`](crate::TIMEOUT) instead of hanging.
//!
//! The lines are the chat protocol's (`book/src/part2-chat.md`): a client gets
//! `* welcome; send your name`, answers with its name, and then every line it sends reaches
//! every other client as `name: line`.

use std::io::{self, BufRead, BufReader, ErrorKind, Write};
use std::net::{Shutdown, TcpStream};

use crate::{Server, TIMEOUT, connect};

pub mod scenario;

/// The server's first line to every client it accepts.
pub const WELCOME: &str = "* welcome; send your name";

/// Starts `bin server 127.0.0.1:0 EXTRA…`, a chat server of Part II on a port from the OS,
/// owned by the returned [`Server`] (killed on drop).
pub fn server(bin: &str, extra: &[&str]) -> Server {
    Server::start(bin, &[&["server", "127.0.0.1:0"], extra].concat())
}

/// One client of a chat server, as a test drives it.
#[derive(Debug)]
pub struct ChatClient {
    /// The name this client joined with (empty until it has one).
    pub name: String,
    reader: BufReader<TcpStream>,
}

impl ChatClient {
    /// Connects to `addr` and returns before reading anything: for tests of what happens
    /// before a name (the welcome line, the cap, a name that never comes).
    pub fn connect(addr: &str) -> ChatClient {
        ChatClient {
            name: String::new(),
            reader: BufReader::new(connect(addr)),
        }
    }

    /// Connects with a receive buffer of `bytes` (set before connecting, so that the window
    /// it offers is small from the start), and returns before reading anything: for a client
    /// that is to stop reading, and fill up after a few KiB.
    pub fn connect_with_receive_buffer(addr: &str, bytes: usize) -> ChatClient {
        let to: std::net::SocketAddr = addr
            .parse()
            .unwrap_or_else(|_| panic!("{addr:?} is not a socket address"));
        let socket = socket2::Socket::new(
            socket2::Domain::for_address(to),
            socket2::Type::STREAM,
            None,
        )
        .unwrap();
        socket.set_recv_buffer_size(bytes).unwrap();
        socket
            .connect_timeout(&to.into(), TIMEOUT)
            .unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        let stream: TcpStream = socket.into();
        stream.set_read_timeout(Some(TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(TIMEOUT)).unwrap();
        ChatClient {
            name: String::new(),
            reader: BufReader::new(stream),
        }
    }

    /// Connects, reads the welcome line, sends `name`, and reads the line that accepts it
    /// (`* hello NAME; others here: N`), which it returns.
    pub fn join(addr: &str, name: &str) -> ChatClient {
        let mut client = ChatClient::connect(addr);
        client.expect(WELCOME);
        client.send(name);
        let hello = client.line();
        assert!(
            hello.starts_with(&format!("* hello {name}; others here: ")),
            "{name} was not accepted: {hello:?}"
        );
        client.name = name.to_string();
        client
    }

    /// Sends `line` and a newline.
    pub fn send(&mut self, line: &str) {
        self.send_bytes(format!("{line}\n").as_bytes());
    }

    /// Sends `bytes` exactly as given (no newline added): half lines, bytes that are not UTF-8.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.reader
            .get_mut()
            .write_all(bytes)
            .unwrap_or_else(|e| panic!("{}: cannot send {bytes:?}: {e}", self.who()));
    }

    /// The next line from the server, without its newline. Fails the test if none comes
    /// within [`TIMEOUT`](crate::TIMEOUT), or if the server closes first.
    pub fn line(&mut self) -> String {
        match self.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => panic!("{}: the server closed the connection", self.who()),
            Err(e) => panic!("{}: no line from the server: {e}", self.who()),
        }
    }

    /// Reads the next line and fails the test unless it is `expected`.
    pub fn expect(&mut self, expected: &str) {
        let line = self.line();
        assert_eq!(line, expected, "{}: unexpected line", self.who());
    }

    /// Reads until the server closes the connection (an end of stream or a reset) and returns
    /// the lines that came first. Fails the test if the server keeps it open past [`TIMEOUT`](crate::TIMEOUT).
    pub fn expect_closed(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            match self.next_line() {
                Ok(Some(line)) => lines.push(line),
                Ok(None) => return lines,
                Err(e) if e.kind() == ErrorKind::ConnectionReset => return lines,
                Err(e) => panic!(
                    "{}: the server did not close the connection: {e}; lines so far: {lines:?}",
                    self.who()
                ),
            }
        }
    }

    /// Ends this client's sending side (a half-close): the server sees the end of stream.
    pub fn finish(&mut self) {
        // The peer may already have gone; a half-close of a dead socket is not this test's point.
        let _ = self.reader.get_ref().shutdown(Shutdown::Write);
    }

    /// The socket, for a test that needs to change it (shrink its buffer, reset it).
    pub fn stream(&self) -> &TcpStream {
        self.reader.get_ref()
    }

    /// Takes the socket back, dropping any bytes read but not yet returned as lines.
    pub fn into_stream(self) -> TcpStream {
        self.reader.into_inner()
    }

    fn next_line(&mut self) -> io::Result<Option<String>> {
        let mut bytes = Vec::new();
        let n = self.reader.read_until(b'\n', &mut bytes)?;
        if n == 0 {
            return Ok(None);
        }
        if bytes.pop() != Some(b'\n') {
            return Err(io::Error::new(
                ErrorKind::UnexpectedEof,
                format!("a line cut off by the end of stream: {bytes:?}"),
            ));
        }
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|e| io::Error::new(ErrorKind::InvalidData, e))
    }

    fn who(&self) -> String {
        if self.name.is_empty() {
            "a client with no name yet".to_string()
        } else {
            self.name.clone()
        }
    }
}
