//! The checks for chapter 6's exercises, written against `crate::ex`: the starter in lessons/
//! (where they must fail) or the solution (where they must pass).

use std::io::{self, Cursor, ErrorKind, Write};

use crate::ex;

use testkit::Trickle;

/// A writer that keeps every write apart, to count them and see their sizes.
#[derive(Default)]
struct Writes(Vec<Vec<u8>>);

impl Write for Writes {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.push(buf.to_vec());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Writes {
    fn all(&self) -> Vec<u8> {
        self.0.concat()
    }
}

/// Deterministic, varied bytes: no two neighbouring positions look alike.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

// ---- Exercise 6.1: a varint length prefix ----

#[test]
fn varint_frames_have_the_right_bytes_in_one_write() {
    let cases: [(usize, &[u8]); 6] = [
        (0, &[0x00]),
        (1, &[0x01]),
        (127, &[0x7f]),
        (128, &[0x80, 0x01]),
        (300, &[0xac, 0x02]),
        (16_384, &[0x80, 0x80, 0x01]),
    ];
    for (len, prefix) in cases {
        let payload = pattern(len);
        let mut writes = Writes::default();
        ex::send_varint_frame(&mut writes, &payload).unwrap();
        assert_eq!(
            writes.0.len(),
            1,
            "a {len}-byte payload: length and payload must go in ONE write"
        );
        let frame = writes.all();
        assert_eq!(&frame[..prefix.len()], prefix, "the varint for {len}");
        assert_eq!(
            &frame[prefix.len()..],
            &payload[..],
            "the payload for {len}"
        );
    }
}

#[test]
fn varint_frames_round_trip_through_a_network_that_cuts_everything() {
    for len in [0, 1, 127, 128, 300, 16_383, 16_384, 1_048_577] {
        let payload = pattern(len);
        let mut stream = Vec::new();
        ex::send_varint_frame(&mut stream, &payload).unwrap();
        let mut conn = Trickle::new(stream);
        let got = ex::recv_varint_frame(&mut conn, 64 << 20).unwrap();
        assert!(got == payload, "a {len}-byte payload came back different");
    }
}

#[test]
fn a_varint_frame_ends_exactly_where_the_next_begins() {
    let mut stream = Vec::new();
    ex::send_varint_frame(&mut stream, b"").unwrap();
    ex::send_varint_frame(&mut stream, &pattern(200)).unwrap();
    ex::send_varint_frame(&mut stream, b"last").unwrap();
    let mut conn = Trickle::new(stream);
    assert_eq!(ex::recv_varint_frame(&mut conn, 1000).unwrap(), b"");
    assert_eq!(
        ex::recv_varint_frame(&mut conn, 1000).unwrap(),
        pattern(200)
    );
    assert_eq!(ex::recv_varint_frame(&mut conn, 1000).unwrap(), b"last");
}

#[test]
fn a_varint_length_over_the_limit_is_refused_before_the_payload() {
    let mut stream = Vec::new();
    ex::send_varint_frame(&mut stream, &pattern(300)).unwrap();
    let mut conn = Cursor::new(stream);
    let err = ex::recv_varint_frame(&mut conn, 299).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{err}");
    assert_eq!(
        conn.position(),
        2,
        "only the 2-byte varint may be read before the length is refused"
    );
}

#[test]
fn an_endless_or_oversized_varint_is_refused() {
    // Eleven continuation bytes: no u64 varint is that long.
    let mut conn = Cursor::new(vec![0x80u8; 64]);
    let err = ex::recv_varint_frame(&mut conn, u64::MAX).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{err}");
    assert!(
        conn.position() <= 10,
        "refuse after at most 10 varint bytes"
    );
    // Ten bytes whose value needs more than 64 bits.
    let mut too_big = vec![0xffu8; 9];
    too_big.push(0x7f);
    let err = ex::recv_varint_frame(&mut Cursor::new(too_big), u64::MAX).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{err}");
}

#[test]
fn a_varint_frame_cut_short_is_unexpected_eof() {
    let mut stream = Vec::new();
    ex::send_varint_frame(&mut stream, &pattern(300)).unwrap();
    for cut in [0, 1, 2, 150, 301] {
        let err = ex::recv_varint_frame(&mut Trickle::new(stream[..cut].to_vec()), 1000)
            .expect_err("a frame cut short must be an error");
        assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "cut at {cut}: {err}");
    }
}

// ---- Exercise 6.2: receive into a writer ----

#[test]
fn recv_to_writer_copies_exact_bytes_and_leaves_the_next_message() {
    for len in [0usize, 1, 1023, 1024, 1025, 3 * 1024 * 1024 + 17] {
        let mut data = pattern(len);
        data.extend_from_slice(b"NEXT MESSAGE");
        let mut conn = Trickle::new(data);
        let mut out = Writes::default();
        ex::recv_to_writer(&mut conn, len as u64, &mut out).unwrap();
        assert!(out.all() == pattern(len), "{len} bytes came out different");
        assert_eq!(
            conn.consumed(),
            len,
            "read past the end of a {len}-byte reply"
        );
    }
}

#[test]
fn recv_to_writer_never_asks_for_more_than_a_chunk_or_what_remains() {
    let len = 5000;
    let mut data = pattern(len);
    data.extend_from_slice(b"NEXT");
    let mut conn = Trickle::new(data);
    ex::recv_to_writer(&mut conn, len as u64, &mut io::sink()).unwrap();
    let mut received = 0;
    for (i, (&asked, &given)) in conn.asked.iter().zip(&conn.given).enumerate() {
        let remaining = len - received;
        assert!(
            asked <= 1024 && asked <= remaining,
            "read {i} asked for {asked} bytes with {remaining} remaining"
        );
        received += given;
    }
    assert_eq!(received, len);
}

#[test]
fn recv_to_writer_passes_each_chunk_on_as_it_arrives() {
    let len = 10_000;
    let mut conn = Cursor::new(pattern(len));
    let mut out = Writes::default();
    ex::recv_to_writer(&mut conn, len as u64, &mut out).unwrap();
    let largest = out.0.iter().map(Vec::len).max().unwrap_or(0);
    assert!(
        largest <= 1024,
        "one write of {largest} bytes: the reply was held instead of passed on"
    );
    assert!(out.all() == pattern(len));
}

#[test]
fn recv_to_writer_counts_its_reads() {
    // A reader that gives all it is asked for: 1024 + 1024 + 452.
    let reads = ex::recv_to_writer(&mut Cursor::new(pattern(2500)), 2500, &mut io::sink()).unwrap();
    assert_eq!(reads, 3);
    // One that gives 1, 2, … 7 bytes at a time: 7 reads cover 28 bytes.
    let reads = ex::recv_to_writer(&mut Trickle::new(pattern(28)), 28, &mut io::sink()).unwrap();
    assert_eq!(reads, 7);
    let reads = ex::recv_to_writer(&mut Cursor::new(Vec::new()), 0, &mut io::sink()).unwrap();
    assert_eq!(reads, 0, "an empty reply needs no read");
}

#[test]
fn recv_to_writer_reports_a_reply_cut_short() {
    let mut conn = Trickle::new(pattern(700));
    let mut out = Writes::default();
    let err = ex::recv_to_writer(&mut conn, 1000, &mut out).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "{err}");
    assert!(out.all() == pattern(700), "what did arrive was passed on");
}
