//! The lab proxy keeps its promise: whatever it does to *how* bytes travel, every byte arrives,
//! in order, unchanged, and a close on either side is passed on.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener};
use std::sync::mpsc::{self, Receiver};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use netlab::{Directions, Flow, Options, Piece, Proxy};
use testkit::TIMEOUT;

/// A test server for one connection: it sends `reply` while it reads everything the client
/// sends until end of stream, then closes. The thread returns what it read.
fn sink_and_source(reply: Vec<u8>) -> (SocketAddr, JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(TIMEOUT)).unwrap();
        conn.set_write_timeout(Some(TIMEOUT)).unwrap();
        let mut writer = conn.try_clone().unwrap();
        // Write and read at the same time: with both directions full, doing one after the
        // other could deadlock on full socket buffers.
        let sender = thread::spawn(move || {
            writer.write_all(&reply).unwrap();
            writer.shutdown(Shutdown::Write).unwrap();
        });
        let mut got = Vec::new();
        (&conn).read_to_end(&mut got).unwrap();
        sender.join().unwrap();
        got
    });
    (addr, handle)
}

/// A client of the proxy that does the same from its side: sends `data`, closes its sending
/// side, and reads until the server's close. Returns what it read.
fn exchange(proxy: SocketAddr, data: Vec<u8>) -> Vec<u8> {
    let conn = testkit::connect(&proxy.to_string());
    let mut writer = conn.try_clone().unwrap();
    let sender = thread::spawn(move || {
        writer.write_all(&data).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut got = Vec::new();
    (&conn).read_to_end(&mut got).unwrap();
    sender.join().unwrap();
    got
}

/// Bytes that show a reordering or an off-by-one: every position differs from its neighbours
/// and all 256 values occur.
fn pattern(len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(salt) ^ (i >> 8) as u8)
        .collect()
}

fn run_both_ways(options: Options, up_len: usize, down_len: usize) {
    let up = pattern(up_len, 1);
    let down = pattern(down_len, 2);
    let (server, server_thread) = sink_and_source(down.clone());
    let proxy = Proxy::on_loopback(server, options).unwrap();
    let got_down = exchange(proxy.local_addr(), up.clone());
    let got_up = server_thread.join().unwrap();
    assert!(
        got_up == up,
        "client->server bytes changed: sent {}, got {}",
        up.len(),
        got_up.len()
    );
    assert!(
        got_down == down,
        "server->client bytes changed: sent {}, got {}",
        down.len(),
        got_down.len()
    );
}

#[test]
fn untouched_forwarding_keeps_every_byte_both_ways() {
    run_both_ways(Options::default(), 300_000, 200_001);
}

#[test]
fn split_into_tiny_pieces_keeps_every_byte_both_ways() {
    let options = Options {
        split: Some((1, 7)),
        seed: 42,
        ..Options::default()
    };
    run_both_ways(options, 50_000, 70_001);
}

#[test]
fn merge_keeps_every_byte_both_ways() {
    let options = Options {
        merge: true,
        ..Options::default()
    };
    run_both_ways(options, 300_000, 200_001);
}

#[test]
fn split_merge_and_delay_together_keep_every_byte() {
    let options = Options {
        split: Some((3, 900)),
        merge: true,
        delay: Duration::from_micros(50),
        seed: 7,
        ..Options::default()
    };
    run_both_ways(options, 20_000, 20_000);
}

#[test]
fn corrupt_inverts_exactly_one_byte_in_each_shaped_direction() {
    // Cut into pieces too, so the doomed byte may sit anywhere in a piece.
    let at = 70_001;
    let options = Options {
        corrupt: Some(at),
        split: Some((1, 4096)),
        seed: 7,
        directions: Directions::ToClient,
        ..Options::default()
    };
    let (up, down) = (pattern(100_000, 1), pattern(100_000, 2));
    let (server, server_thread) = sink_and_source(down.clone());
    let proxy = Proxy::on_loopback(server, options).unwrap();
    let got_down = exchange(proxy.local_addr(), up.clone());
    assert!(
        server_thread.join().unwrap() == up,
        "the unshaped direction is untouched"
    );
    let changed: Vec<usize> = (0..down.len())
        .filter(|&i| got_down[i] != down[i])
        .collect();
    assert_eq!(changed, [at as usize]);
    assert_eq!(got_down[at as usize], !down[at as usize]);
}

#[test]
fn shaping_one_direction_leaves_the_other_alone() {
    let (tx, rx) = mpsc::channel();
    let options = Options {
        split: Some((1, 2)),
        directions: Directions::ToClient,
        trace: Some(tx),
        ..Options::default()
    };
    let (server, server_thread) = sink_and_source(b"0123456789".to_vec());
    let proxy = Proxy::on_loopback(server, options).unwrap();
    let got = exchange(proxy.local_addr(), b"abcdefghij".to_vec());
    assert_eq!(got, b"0123456789");
    assert_eq!(server_thread.join().unwrap(), b"abcdefghij");
    drop(proxy);
    let pieces: Vec<Piece> = rx.try_iter().collect();
    // Ten bytes written at once arrive as one chunk; the client's direction was not shaped,
    // so it went on whole, while pieces of 1..2 bytes need at least five writes.
    let up: Vec<_> = pieces.iter().filter(|p| p.flow == Flow::ToServer).collect();
    let down: Vec<_> = pieces.iter().filter(|p| p.flow == Flow::ToClient).collect();
    assert_eq!(up.len(), 1, "client->server should be untouched: {up:?}");
    assert!(
        down.len() >= 5 && down.iter().all(|p| (1..=2).contains(&p.bytes.len())),
        "{down:?}"
    );
}

/// Collects trace pieces until one direction has delivered `total` bytes.
fn pieces_until(rx: &Receiver<Piece>, flow: Flow, total: u64) -> Vec<Piece> {
    netlab::pieces_until(rx, flow, total, TIMEOUT).expect("a trace piece within the timeout")
}

#[test]
fn trace_reports_every_piece_with_contiguous_offsets_and_sizes_in_range() {
    let (tx, rx) = mpsc::channel();
    let options = Options {
        split: Some((2, 5)),
        seed: 1,
        trace: Some(tx),
        ..Options::default()
    };
    let down = pattern(5000, 3);
    let (server, _server_thread) = sink_and_source(down.clone());
    let proxy = Proxy::on_loopback(server, options).unwrap();
    let got = exchange(proxy.local_addr(), Vec::new());
    assert_eq!(got, down);

    let pieces = pieces_until(&rx, Flow::ToClient, down.len() as u64);
    let mut offset = 0;
    let mut joined = Vec::new();
    for piece in &pieces {
        assert_eq!(piece.offset, offset, "offsets must follow each other");
        // Only the last piece of a chunk may be shorter than MIN (it is what remains).
        assert!(
            piece.bytes.len() <= 5,
            "piece of {} bytes with --split 2..5",
            piece.bytes.len()
        );
        offset += piece.bytes.len() as u64;
        joined.extend_from_slice(&piece.bytes);
    }
    assert_eq!(joined, down, "the traced pieces are the bytes delivered");
    assert!(
        pieces.len() >= 1000,
        "5000 bytes in pieces of at most 5: {} pieces",
        pieces.len()
    );
}

#[test]
fn the_same_seed_cuts_the_same_chunk_the_same_way() {
    let cuts = |seed| {
        let (tx, rx) = mpsc::channel();
        let options = Options {
            split: Some((1, 9)),
            seed,
            trace: Some(tx),
            ..Options::default()
        };
        // One write of 200 bytes is one chunk for the proxy: the cuts depend only on the seed.
        let (server, _server_thread) = sink_and_source(pattern(200, 9));
        let proxy = Proxy::on_loopback(server, options).unwrap();
        exchange(proxy.local_addr(), Vec::new());
        let sizes: Vec<usize> = pieces_until(&rx, Flow::ToClient, 200)
            .iter()
            .map(|p| p.bytes.len())
            .collect();
        sizes
    };
    assert_eq!(cuts(5), cuts(5));
    assert_ne!(cuts(5), cuts(6), "different seeds should cut differently");
}

#[test]
fn merge_sends_several_writes_on_as_one() {
    let (tx, rx) = mpsc::channel();
    // A window longer than any test: only the client's close (or the 64 KiB limit) can end this
    // merge, so the result does not depend on how fast the writes follow each other.
    let options = Options {
        merge: true,
        merge_window: Duration::from_secs(3600),
        trace: Some(tx),
        ..Options::default()
    };
    let (server, server_thread) = sink_and_source(Vec::new());
    let proxy = Proxy::on_loopback(server, options).unwrap();
    let mut conn = testkit::connect(&proxy.local_addr().to_string());
    for word in ["one ", "two ", "three ", "four ", "five"] {
        conn.write_all(word.as_bytes()).unwrap();
    }
    conn.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    conn.read_to_end(&mut rest).unwrap();
    assert_eq!(server_thread.join().unwrap(), b"one two three four five");
    let up = pieces_until(&rx, Flow::ToServer, 23);
    assert_eq!(
        up.len(),
        1,
        "five writes should reach the server as one: {up:?}"
    );
}

#[test]
fn merge_ends_when_the_sender_goes_quiet() {
    // A request/response exchange through a merging proxy still works: the client waits for
    // the reply, so its silence must release the request.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = listener.local_addr().unwrap();
    let echo = thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut buf = [0u8; 5];
        conn.read_exact(&mut buf).unwrap();
        conn.write_all(&buf).unwrap();
    });
    let options = Options {
        merge: true,
        ..Options::default()
    };
    let proxy = Proxy::on_loopback(server, options).unwrap();
    let mut conn = testkit::connect(&proxy.local_addr().to_string());
    conn.write_all(b"hello").unwrap();
    let mut reply = [0u8; 5];
    conn.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"hello");
    echo.join().unwrap();
}

#[test]
fn half_close_is_passed_on_in_each_direction() {
    // The client closes its sending side first; the server must see end of stream, and can
    // still answer; then the server's close reaches the client.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let server = listener.local_addr().unwrap();
    let server_thread = thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        conn.set_read_timeout(Some(TIMEOUT)).unwrap();
        let mut request = Vec::new();
        conn.read_to_end(&mut request).unwrap(); // returns only at the client's close
        conn.write_all(format!("got {} bytes", request.len()).as_bytes())
            .unwrap();
        // dropping `conn` closes the server's side
    });
    let options = Options {
        split: Some((1, 3)),
        ..Options::default()
    };
    let proxy = Proxy::on_loopback(server, options).unwrap();
    let mut conn = testkit::connect(&proxy.local_addr().to_string());
    conn.write_all(b"question").unwrap();
    conn.shutdown(Shutdown::Write).unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap(); // ends only if the server's close was passed on
    assert_eq!(answer, "got 8 bytes");
    server_thread.join().unwrap();
}

#[test]
fn an_unreachable_server_closes_the_client() {
    // A port that was free a moment ago: nothing listens there now.
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let proxy = Proxy::on_loopback(dead, Options::default()).unwrap();
    let mut conn = testkit::connect(&proxy.local_addr().to_string());
    let mut buf = [0u8; 16];
    assert_eq!(
        testkit::read_some(&mut conn, &mut buf).unwrap(),
        0,
        "the proxy should close the client"
    );
}

#[test]
fn bad_split_sizes_are_refused() {
    let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
    for split in [(0, 3), (5, 4)] {
        let options = Options {
            split: Some(split),
            ..Options::default()
        };
        let err = Proxy::start(any, any, options).err().expect("refused");
        assert!(err.to_string().contains("MIN <= MAX"), "{err}");
    }
}

/// The `netlab proxy` binary on a free loopback port, in front of `to`, with `extra` options.
fn proxy_binary(to: SocketAddr, extra: &[&str]) -> testkit::Server {
    let to = to.to_string();
    let mut args = vec!["proxy", "--listen", "127.0.0.1:0", "--to", &to];
    args.extend_from_slice(extra);
    testkit::Server::start(env!("CARGO_BIN_EXE_netlab"), &args)
}

#[test]
fn the_binary_without_trace_keeps_forwarding_and_corrupts_where_told() {
    let (server, _server_thread) = sink_and_source(b"hello\n".to_vec());
    let mut proxy = proxy_binary(server, &["--corrupt", "1"]);
    let got = exchange(proxy.socket_addr(), b"hi".to_vec());
    assert_eq!(got, [b'h', !b'e', b'l', b'l', b'o', b'\n']);
    // With nothing to print, the proxy still runs until it is stopped, as a server does.
    assert!(proxy.is_running());
}

#[test]
fn the_binary_prints_its_address_first_and_traces_pieces() {
    let (server, _server_thread) = sink_and_source(b"hello\n".to_vec());
    let mut proxy = proxy_binary(server, &["--split", "1..3", "--seed", "7", "--trace"]);
    let got = exchange(proxy.socket_addr(), b"hi".to_vec());
    assert_eq!(got, b"hello\n");
    // Six bytes in pieces of 1..3: at least two trace lines for the server's direction.
    let mut lines = Vec::new();
    let mut delivered = 0;
    while delivered < 6 {
        let line = proxy.expect_stdout_line();
        if line.contains("server->client") {
            let size: usize = line
                .split(" +")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            delivered += size;
            lines.push(line);
        }
    }
    assert!(lines.len() >= 2, "{lines:?}");
    assert!(lines[0].starts_with("[1] server->client @0 +"), "{lines:?}");
}

#[test]
fn the_binary_refuses_a_bad_split_with_a_clear_message() {
    testkit::client(env!("CARGO_BIN_EXE_netlab"))
        .args(["proxy", "--listen", "127.0.0.1:0", "--split", "7..1"])
        .assert()
        .failure()
        .stderr(predicates::str::contains("need 1 <= MIN <= MAX"));
}

#[test]
fn previews_are_one_readable_line() {
    assert_eq!(
        netlab::preview(b"1\n2\r\n", 32),
        "\"1\u{240a}2\u{240d}\u{240a}\""
    );
    assert_eq!(netlab::preview(b"abcdef", 4), "\"abcd\"...");
    assert_eq!(netlab::preview(b"\xff\x00", 4), "\"\u{fffd}\u{2400}\"");
    assert_eq!(netlab::preview("é".as_bytes(), 4), "\"é\"");
}
