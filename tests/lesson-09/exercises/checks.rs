//! The checks for chapter 9's exercises, written against `crate::ex`: the starter in lessons/
//! (where they must fail) or the solution (where they must pass). `cargo course check 9.N`
//! runs the tests in `mod ex9_N`. A failing check says in words what went wrong; every wait
//! is bounded.

use crate::ex;

/// Shows bytes as text, `␊` for a newline and `␍` for a carriage return.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .replace('\n', "␊")
        .replace('\r', "␍")
}

mod ex9_1 {
    use super::{ex, text};

    /// Feeds `data` to the decoder in pieces of 1, 2, ..., 7, 1, 2, ... bytes.
    fn in_pieces(data: &[u8]) -> (Vec<Vec<u8>>, Vec<u8>, Result<(), ex::LineTooLong>) {
        let (mut partial, mut lines) = (Vec::new(), Vec::new());
        let (mut rest, mut size) = (data, 1);
        while !rest.is_empty() {
            let (piece, tail) = rest.split_at(size.min(rest.len()));
            if let Err(e) = ex::decode_lines(&mut partial, piece, &mut lines) {
                return (lines, partial, Err(e));
            }
            rest = tail;
            size = size % 7 + 1;
        }
        (lines, partial, Ok(()))
    }

    fn shown(lines: &[Vec<u8>]) -> Vec<String> {
        lines.iter().map(|l| text(l)).collect()
    }

    #[test]
    fn lines_cut_into_pieces_of_1_to_7_bytes_come_out_whole() {
        let data = b"hello bob\r\nhow are you?\n\nsee you\r\nand an unfinished li";
        let (lines, partial, result) = in_pieces(data);
        assert_eq!(result, Ok(()), "no line here is too long");
        assert_eq!(
            shown(&lines),
            ["hello bob", "how are you?", "", "see you"],
            "the lines, fed 1 to 7 bytes at a time: a read may end anywhere in a line, and \
             the start must wait in `partial` for the rest"
        );
        assert_eq!(
            text(&partial),
            "and an unfinished li",
            "what follows the last newline must stay in `partial`"
        );
    }

    #[test]
    fn a_cr_is_dropped_only_just_before_the_newline() {
        let (mut partial, mut lines) = (Vec::new(), Vec::new());
        assert_eq!(
            ex::decode_lines(&mut partial, b"a\rb\r", &mut lines),
            Ok(())
        );
        assert_eq!(ex::decode_lines(&mut partial, b"\n", &mut lines), Ok(()));
        assert_eq!(
            shown(&lines),
            ["a␍b"],
            "`a\\rb\\r` then `\\n` is the line `a\\rb`: only the \\r before the \\n goes, even \
             when the \\n comes in the next read"
        );
    }

    #[test]
    fn a_line_over_max_line_is_refused_as_soon_as_byte_1025_comes() {
        let (mut partial, mut lines) = (Vec::new(), Vec::new());
        assert_eq!(ex::decode_lines(&mut partial, b"ok\n", &mut lines), Ok(()));
        for i in 0..ex::MAX_LINE {
            let r = ex::decode_lines(&mut partial, b"x", &mut lines);
            assert_eq!(
                r,
                Ok(()),
                "after {} bytes the line is not too long yet",
                i + 1
            );
        }
        assert_eq!(
            ex::decode_lines(&mut partial, b"x", &mut lines),
            Err(ex::LineTooLong),
            "the 1025th byte without a newline must be refused at once, without waiting for \
             a newline that may never come"
        );
        assert_eq!(
            shown(&lines),
            ["ok"],
            "the line before the long one is still delivered"
        );
    }

    #[test]
    fn exactly_max_line_bytes_then_crlf_is_a_line() {
        let line = vec![b'y'; ex::MAX_LINE];
        let mut data = line.clone();
        data.extend_from_slice(b"\r\n");
        let (lines, partial, result) = in_pieces(&data);
        assert_eq!(
            result,
            Ok(()),
            "1024 bytes then \\r\\n is the longest allowed line"
        );
        assert_eq!(lines, [line], "the 1024-byte line, without its \\r");
        assert!(partial.is_empty(), "nothing left over: {}", text(&partial));
    }

    #[test]
    fn a_long_line_that_comes_whole_with_its_newline_is_refused_too() {
        let mut data = b"first\n".to_vec();
        data.extend(std::iter::repeat_n(b'z', 2000));
        data.push(b'\n');
        let (mut partial, mut lines) = (Vec::new(), Vec::new());
        assert_eq!(
            ex::decode_lines(&mut partial, &data, &mut lines),
            Err(ex::LineTooLong),
            "a line of 2000 bytes, newline included, in one read: too long"
        );
        assert_eq!(shown(&lines), ["first"]);
    }
}

mod ex9_2 {
    use std::collections::VecDeque;
    use std::io::{self, ErrorKind, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::rc::Rc;
    use std::thread;
    use std::time::Duration;

    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use socket2::SockRef;

    use super::{ex, text};

    /// A socket that takes at most 3 bytes per write, and says `WouldBlock` (or, once,
    /// `Interrupted`) on every other call.
    #[derive(Default)]
    struct Choppy {
        taken: Vec<u8>,
        calls: usize,
    }

    impl Write for Choppy {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.calls += 1;
            match self.calls % 2 {
                0 if self.calls == 2 => Err(ErrorKind::Interrupted.into()),
                0 => Err(ErrorKind::WouldBlock.into()),
                _ => {
                    let n = buf.len().min(3);
                    self.taken.extend_from_slice(&buf[..n]);
                    Ok(n)
                }
            }
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn outbox(messages: &[&str]) -> VecDeque<Rc<[u8]>> {
        messages.iter().map(|m| Rc::from(m.as_bytes())).collect()
    }

    #[test]
    fn partial_writes_are_resumed_where_they_stopped() {
        let mut conn = Choppy::default();
        let mut queue = outbox(&["alice: hi\n", "bob: hello there\n", "* carol joined\n"]);
        let mut sent = 0;
        let mut blocked = 0;
        for _ in 0..200 {
            match ex::flush_outbox(&mut conn, &mut queue, &mut sent) {
                Ok(ex::Flushed::Empty) => break,
                Ok(ex::Flushed::Blocked) => blocked += 1,
                Err(e) => panic!(
                    "flush_outbox failed with `{e}` after the socket took {:?}: `WouldBlock` \
                     means \"not now\" (return Flushed::Blocked), `Interrupted` means \"again\"",
                    text(&conn.taken)
                ),
            }
        }
        assert_eq!(
            text(&conn.taken),
            text(b"alice: hi\nbob: hello there\n* carol joined\n"),
            "every byte once, in order: a write may take only part of a message, and the \
             rest must go next time, from `sent`"
        );
        assert!(
            blocked > 0,
            "the socket said WouldBlock: that must come back as Flushed::Blocked"
        );
        assert!(
            queue.is_empty() && sent == 0,
            "the outbox ends empty, `sent` at 0"
        );
        let calls = conn.calls;
        let again = ex::flush_outbox(&mut conn, &mut queue, &mut sent).unwrap();
        assert_eq!(
            again,
            ex::Flushed::Empty,
            "an empty outbox is Flushed::Empty"
        );
        assert_eq!(conn.calls, calls, "nothing to write: no write at all");
    }

    fn writable(conn: &TcpStream) -> bool {
        let mut fds = [PollFd::new(conn, PollFlags::OUT)];
        let ten_s = Timespec {
            tv_sec: 10,
            tv_nsec: 0,
        };
        poll(&mut fds, Some(&ten_s)).expect("poll") > 0
    }

    #[test]
    fn a_socket_with_a_tiny_send_buffer_blocks_then_takes_the_rest() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut peer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (conn, _) = listener.accept().unwrap();
        // Tiny buffers on both sides, and a peer that does not read yet: the socket fills.
        SockRef::from(&conn).set_send_buffer_size(4096).unwrap();
        SockRef::from(&peer).set_recv_buffer_size(4096).unwrap();
        conn.set_nonblocking(true).unwrap();
        let messages: Vec<String> = (0..300)
            .map(|i| format!("{i:03} {}\n", "m".repeat(995)))
            .collect();
        let expected: String = messages.concat();
        let mut queue: VecDeque<Rc<[u8]>> =
            messages.iter().map(|m| Rc::from(m.as_bytes())).collect();
        let mut sent = 0;
        let mut writer = &conn;
        let first = ex::flush_outbox(&mut writer, &mut queue, &mut sent);
        assert!(
            matches!(first, Ok(ex::Flushed::Blocked)),
            "300 kB into a socket with a 4 KiB buffer whose peer does not read: the socket \
             must fill, and flush_outbox must say Flushed::Blocked, got {first:?}"
        );
        assert!(!queue.is_empty(), "messages must stay queued for later");
        // Now the peer reads everything; we flush each time poll says there is room.
        peer.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let total = expected.len();
        let reader = thread::spawn(move || {
            let mut got = Vec::new();
            while got.len() < total {
                let mut buf = [0u8; 8192];
                match peer.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            got
        });
        let mut rounds = 0;
        while !queue.is_empty() && rounds < 100_000 {
            rounds += 1;
            assert!(writable(&conn), "the socket never became writable again");
            match ex::flush_outbox(&mut writer, &mut queue, &mut sent) {
                Ok(_) => {}
                Err(e) => panic!("flush_outbox failed: {e}"),
            }
        }
        drop(conn);
        let got = reader.join().unwrap();
        assert_eq!(got.len(), total, "the peer must get every byte, once");
        assert!(
            got == expected.as_bytes(),
            "the bytes arrived changed or out of order"
        );
    }
}
