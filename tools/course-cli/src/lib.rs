//! How every lesson's client reads its commands, so that all of them behave alike:
//! one command per line of input, the `>>> ` prompt only when a person is typing, empty
//! lines skipped, and `quit` or the end of input ending the session. Also the one parser for
//! the lessons' timeout flags, [`seconds`].
//!
//! This is course tooling, not a lesson: no sockets here.

use std::io::{self, BufRead, Write};
use std::time::Duration;

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

/// A command-line number of seconds, greater than zero (`10`, `0.5`), for clap's `value_parser`:
/// the lessons' timeout flags all take their values this way.
pub fn seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if secs.is_finite() && secs > 0.0 && secs < 1e9 {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(format!("{text:?} must be more than 0 seconds"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_positive_numbers() {
        assert_eq!(seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(seconds("300"), Ok(Duration::from_secs(300)));
        for bad in ["0", "-1", "x", "inf", "NaN", ""] {
            assert!(seconds(bad).is_err(), "{bad:?}");
        }
    }

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
