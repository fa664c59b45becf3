//! Solutions to chapter 4's exercises, with the reasoning behind each choice.

use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};

// ANCHOR: line_connection
/// Exercise 4.1: a line protocol, with one buffered reader for the whole connection.
#[derive(Debug)]
pub struct LineConnection<S> {
    // Why the connection owns a `BufReader` and not the bare stream: a `BufReader` reads as
    // much as the socket has (up to 8 KiB), hands out one line, and KEEPS the rest for the
    // next call. That rest is the next line, or the start of it. A reader created for one
    // call and dropped at its end throws the rest away with it, and those bytes are gone
    // from the socket too: the kernel gave them to us already. So the reader must live as
    // long as the connection.
    reader: BufReader<S>,
}

impl<S: Read + Write> LineConnection<S> {
    pub fn new(stream: S) -> LineConnection<S> {
        LineConnection {
            reader: BufReader::new(stream),
        }
    }

    pub fn send_line(&mut self, line: &str) -> io::Result<()> {
        // Why `get_mut`: a `BufReader` buffers reads only; writes go straight to the stream
        // underneath, so reaching it this way cannot reorder or lose anything.
        // Why one `write_all` of the line and its newline together: two writes would be
        // just as correct (the reader finds the newline wherever it lands), but one write
        // is one system call, and a small one that Nagle's algorithm need not hold back.
        let mut message = String::with_capacity(line.len() + 1);
        message.push_str(line);
        message.push('\n');
        self.reader.get_mut().write_all(message.as_bytes())
    }

    pub fn read_line(&mut self) -> io::Result<Option<String>> {
        let mut line = String::new();
        // Why `read_line` finds whole lines whatever the reads were: it takes bytes from the
        // buffer up to a newline, and when the buffer runs out before one, it reads the
        // socket again. A line cut into pieces by the network is joined; two lines that
        // arrived in one read are handed out one at a time.
        // Zero bytes means end of stream with nothing left: there is no next line.
        if self.reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        // Why strip only one `\n`: it is the frame, not the content. A last line without
        // one (the stream ended first) is returned as it is, like `BufRead::lines` does.
        if line.ends_with('\n') {
            line.pop();
        }
        Ok(Some(line))
    }
}
// ANCHOR_END: line_connection

// ANCHOR: dot_frame
/// The end marker: a line holding only a dot.
const END: &[u8] = b".\n";

/// Exercise 4.2, part 1: dot framing (SMTP does this to end a mail's text).
pub fn dot_frame(output: &[u8]) -> Vec<u8> {
    let mut framed = Vec::with_capacity(output.len() + END.len() + 1);
    // Why work line by line: the marker is a LINE holding only a dot, so only the start of
    // a line can look like it. `split_inclusive` keeps each line's `\n`, and gives the last
    // line even when it has none.
    for line in output.split_inclusive(|&b| b == b'\n') {
        // Why double EVERY leading dot, not only a line that is exactly ".": the reader
        // removes one dot from every line that starts with one, so `..` must come out as
        // `..` and `.x` as `.x`. One rule in each direction, no exceptions to get wrong.
        // After this, no content line can be `.\n`: the marker is unambiguous.
        if line.starts_with(b".") {
            framed.push(b'.');
        }
        framed.extend_from_slice(line);
    }
    // Why add a missing newline: otherwise the marker would be glued to the last line
    // (`hi.\n`) and never be seen. The price: "hi" and "hi\n" frame, and so read back,
    // the same. SMTP pays it too; a length prefix (chapter 5) does not have to.
    if framed.last().is_some_and(|&b| b != b'\n') {
        framed.push(b'\n');
    }
    framed.extend_from_slice(END);
    framed
}
// ANCHOR_END: dot_frame

// ANCHOR: read_dot_framed
/// Exercise 4.2, part 2: read ONE dot-framed reply.
pub fn read_dot_framed(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut output = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        // Why `read_until(b'\n')` on a `BufRead` we are lent, not a reader of our own: it
        // takes bytes up to and including the newline, and what lies beyond stays in the
        // caller's buffer, for the next reply. A reader made here would swallow it (4.1).
        // Why bytes and not `read_line`: the output is whatever the command printed, and
        // need not be UTF-8.
        let n = reader.read_until(b'\n', &mut line)?;
        // Why an error at the end of the stream, even with some lines read: without the
        // marker we cannot tell a whole reply from one the connection cut short.
        if n == 0 || !line.ends_with(b"\n") {
            return Err(io::Error::new(
                ErrorKind::UnexpectedEof,
                "the stream ended before the reply's end marker",
            ));
        }
        // Why compare the whole line: `..\n` (a dot in the output) or `.x\n` start with a
        // dot but are content; only `.\n` itself ends the reply.
        if line == END {
            return Ok(output);
        }
        // Undo the doubling: every line that starts with a dot had one added.
        let content = line.strip_prefix(b".").unwrap_or(&line);
        output.extend_from_slice(content);
    }
}
// ANCHOR_END: read_dot_framed
