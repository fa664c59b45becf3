//! `lesson-01 demo`: the server in a thread, the client in `main`, one narrated session.
//!
//! The server's log lines travel to the narrator through a channel, and the narrator prints
//! each one at the moment the client's actions guarantee it exists, so the transcript reads
//! the same on every run.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::Duration;

use crate::{Listener, echo_once, reset, serve_one};

/// Runs the demo, narrating to `out`.
pub fn run(out: &mut impl Write) -> anyhow::Result<()> {
    writeln!(out, "Lesson 1: an echo server and its client")?;
    writeln!(out)?;

    let listener = TcpListener::bind("127.0.0.1:0")?;
    writeln!(out, "[server] listening on {}", listener.local_addr()?)?;
    let addr = listener.local_addr()?;
    let log = spawn_server(listener, 5);

    writeln!(out, "-- a client talks, then closes: its kernel sends FIN")?;
    let mut conn = connect(addr)?;
    // Waiting for the server's log line is what keeps this transcript in order: the line
    // exists once the server has accepted us, whatever the scheduler does.
    show(out, &log, 1)?;
    talk(out, &mut conn, "hello")?;
    talk(out, &mut conn, "sockets are byte pipes")?;
    writeln!(out, "[client] close")?;
    drop(conn);
    show(out, &log, 1)?;

    killed_client(out, &log, addr)?;

    writeln!(
        out,
        "-- a client closes with an echo it never read: its kernel sends RST"
    )?;
    let mut conn = connect(addr)?;
    show(out, &log, 1)?;
    conn.write_all(b"never read")?;
    // `peek` waits until the echo is in our receive buffer, and leaves it there, unread.
    conn.peek(&mut [0u8; 1])?;
    writeln!(
        out,
        "[client] sent \"never read\"; its echo arrived, unread"
    )?;
    writeln!(out, "[client] close")?;
    drop(conn);
    show(out, &log, 1)?;

    writeln!(
        out,
        "-- a client sets SO_LINGER to 0, then closes: RST again"
    )?;
    let mut conn = connect(addr)?;
    show(out, &log, 1)?;
    talk(out, &mut conn, "about to reset")?;
    writeln!(out, "[client] close with SO_LINGER 0")?;
    reset(conn)?;
    show(out, &log, 1)?;

    writeln!(
        out,
        "-- the server went back to accept; the next client is served"
    )?;
    let mut conn = connect(addr)?;
    show(out, &log, 1)?;
    talk(out, &mut conn, "still there?")?;
    writeln!(out, "[client] close")?;
    drop(conn);
    show(out, &log, 1)?;

    #[cfg(unix)]
    unix_part(out)?;
    Ok(())
}

/// A client that is a real process, killed while it is connected: what the server sees when
/// a client crashes. This program starts itself again as `lesson-01 client ADDR`.
fn killed_client(
    out: &mut impl Write,
    log: &Receiver<String>,
    addr: SocketAddr,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "-- a client process is killed: its kernel closes its socket for it"
    )?;
    let mut child = Command::new(std::env::current_exe()?)
        .args(["client", &addr.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    writeln!(
        out,
        "[client] started `lesson-01 client` as a child process"
    )?;
    show(out, log, 1)?;
    // Keep the child's stdin open: end of input would make it quit normally, not be killed.
    let mut stdin = child.stdin.take().expect("stdin is piped");
    writeln!(stdin, "hello from a child process")?;
    // Its printed echo proves it is inside its conversation, with nothing left unread.
    let printed = first_line(child.stdout.take().expect("stdout is piped"));
    match printed.recv_timeout(Duration::from_secs(5)) {
        Ok(line) => writeln!(out, "[client] the child printed the echo {line:?}")?,
        Err(_) => {
            let _ = child.kill();
            anyhow::bail!("the child client printed no echo within 5 s");
        }
    }
    writeln!(out, "[client] kill the child process")?;
    child.kill()?;
    child.wait()?;
    show(out, log, 1)?;
    Ok(())
}

/// The first line `pipe` gives, read on a thread so the caller can wait for it with a limit.
fn first_line(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut line = String::new();
        if BufReader::new(pipe).read_line(&mut line).is_ok() {
            let _ = tx.send(line.trim_end().to_string());
        }
    });
    rx
}

/// A connection to the demo's server whose reads give up instead of hanging.
fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let conn = TcpStream::connect(addr)?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    Ok(conn)
}

/// The same server and client code over a Unix-domain socket.
#[cfg(unix)]
fn unix_part(out: &mut impl Write) -> anyhow::Result<()> {
    use std::os::unix::net::UnixStream;

    writeln!(out, "-- the same two loops over a Unix-domain socket")?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("echo.sock");
    let listener = crate::bind_unix(&path)?;
    writeln!(out, "[server] listening on <temporary folder>/echo.sock")?;
    let log = spawn_server(listener, 1);
    let mut conn = UnixStream::connect(&path)?;
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    show(out, &log, 1)?;
    talk(out, &mut conn, "same code, other family")?;
    writeln!(out, "[client] close")?;
    drop(conn);
    show(out, &log, 1)?;
    Ok(())
}

/// Serves `clients` clients in a thread; their log lines arrive on the returned channel.
fn spawn_server<L>(listener: L, clients: usize) -> Receiver<String>
where
    L: Listener + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for _ in 0..clients {
            serve_one(&listener, &mut |line| {
                let _ = tx.send(line);
            });
        }
    });
    rx
}

/// One message and its echo, narrated.
fn talk<S: io::Read + Write>(out: &mut impl Write, conn: &mut S, message: &str) -> io::Result<()> {
    let reply = echo_once(conn, message.as_bytes())?;
    writeln!(
        out,
        "[client] sent {message:?}, got back {:?}",
        String::from_utf8_lossy(&reply)
    )
}

/// Prints the server's next `n` log lines, waiting (bounded) for each.
fn show(out: &mut impl Write, log: &Receiver<String>, n: usize) -> anyhow::Result<()> {
    for _ in 0..n {
        let line = log.recv_timeout(Duration::from_secs(5))?;
        writeln!(out, "[server] {line}")?;
    }
    Ok(())
}
