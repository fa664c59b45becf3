//! Chapter 4 exercises. Check one with `cargo course check 4.1` (or 4.2), or run
//! `cargo course watch`, which checks the next unsolved exercise every time you save.
//!
//! Each item below compiles, but does not yet do what its exercise asks: the checks fail
//! until you change it. The chapter states each task; `cargo course hint 4.1` gives a hint,
//! and once your code passes, `cargo course check` says
//! where the worked answer is.

#![allow(unused_variables)]

use std::io::{self, BufRead, BufReader, Read, Write};

// ANCHOR: line_connection
/// Exercise 4.1: a line protocol. Every message is one line of UTF-8 text ending in `\n`.
///
/// `send_line` writes `line` and a newline. `read_line` returns the next line without its
/// `\n` (a last line with no newline before the end of the stream comes back as it is), or
/// `None` at the end of the stream. However the lines were cut into reads, no line is lost,
/// split or glued to another.
#[derive(Debug)]
pub struct LineConnection<S> {
    stream: S,
}

impl<S: Read + Write> LineConnection<S> {
    pub fn new(stream: S) -> LineConnection<S> {
        LineConnection { stream }
    }

    pub fn send_line(&mut self, line: &str) -> io::Result<()> {
        self.stream.write_all(format!("{line}\n").as_bytes())
    }

    pub fn read_line(&mut self) -> io::Result<Option<String>> {
        // TODO: this reader lives for one call. What happens to what it read past the newline?
        let mut reader = BufReader::new(&mut self.stream);
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        if line.ends_with('\n') {
            line.pop();
        }
        Ok(Some(line))
    }
}
// ANCHOR_END: line_connection

// ANCHOR: dot_framing
/// Exercise 4.2, part 1: frame a reply so that the reader knows where it ends, whatever it
/// contains.
///
/// The output is taken as lines; a last line without a newline gets one. Every line that
/// starts with `.` gets one more `.` in front. Then comes the end marker, a line holding only
/// a dot: `.\n`. So `b"a\n.b"` becomes `b"a\n..b\n.\n"`, and empty output becomes `b".\n"`.
pub fn dot_frame(output: &[u8]) -> Vec<u8> {
    todo!("double the leading dots, then end with a line holding only a dot")
}

/// Exercise 4.2, part 2: read ONE framed reply from `reader`, undoing [`dot_frame`].
///
/// Read up to and including the end marker, and not one byte further: what follows belongs
/// to the next reply. A stream that ends before the end marker is an
/// `ErrorKind::UnexpectedEof` error: a cut reply is not a reply.
pub fn read_dot_framed(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    todo!("read lines until the end marker; drop the extra dot")
}
// ANCHOR_END: dot_framing
