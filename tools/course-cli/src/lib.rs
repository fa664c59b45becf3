//! How every lesson's client reads its commands, so that all of them behave alike:
//! one command per line of input, the `>>> ` prompt only when a person is typing, empty
//! lines skipped, and `quit` or the end of input ending the session.
//!
//! This is course tooling, not a lesson: no sockets here.

use std::io::{self, BufRead, Write};

/// Reads the next command, or `None` when the session is over (`quit` or end of input).
///
/// With `prompt` set (the caller checks that stdin is a terminal), `>>> ` is written to `out`
/// before each line is read. The command comes back trimmed of surrounding whitespace.
pub fn next_command(
    input: &mut impl BufRead,
    out: &mut impl Write,
    prompt: bool,
) -> io::Result<Option<String>> {
    let mut line = String::new();
    loop {
        if prompt {
            write!(out, ">>> ")?;
            out.flush()?;
        }
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(None); // end of input, like typing Ctrl-D
        }
        match line.trim() {
            "" => continue, // nothing to send
            "quit" => return Ok(None),
            command => return Ok(Some(command.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commands(input: &str, prompt: bool) -> (Vec<String>, String) {
        let mut input = input.as_bytes();
        let mut out = Vec::new();
        let mut got = Vec::new();
        while let Some(command) = next_command(&mut input, &mut out, prompt).unwrap() {
            got.push(command);
        }
        (got, String::from_utf8(out).unwrap())
    }

    #[test]
    fn skips_empty_lines_and_stops_at_quit() {
        let (got, out) = commands("  ls -l \n\n \t\nwhoami\nquit\nnever\n", false);
        assert_eq!(got, ["ls -l", "whoami"]);
        assert_eq!(out, "", "no prompt when stdin is not a terminal");
    }

    #[test]
    fn stops_at_end_of_input_and_prompts_for_every_line() {
        let (got, out) = commands("a\n\nb", true);
        assert_eq!(got, ["a", "b"]);
        assert_eq!(out, ">>> >>> >>> >>> ");
    }
}
