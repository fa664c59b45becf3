//! How every lesson's client reads its commands, so that all of them behave alike:
//! one command per line of input, the `>>> ` prompt only when a person is typing, empty
//! lines skipped, and `quit` or the end of input ending the session. Also the parsers for the
//! lessons' timeout flags, [`seconds`] and [`milliseconds`], with one range for all of them.
//!
//! This is course tooling, not a lesson: no sockets here.

use std::io::{self, BufRead, Write};
use std::ops::RangeInclusive;
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

/// The longest time any timeout flag of the course accepts: one day, in seconds.
///
/// A day is longer than any wait a lesson needs (a person leaving a session open overnight
/// included), and short enough that `Instant::now() + timeout`, a deadline in `SystemTime`,
/// or a socket's `SO_RCVTIMEO` can never overflow: a flag such as `--timeout
/// 18446744073709551615` is refused at start instead of panicking on the first command.
pub const MAX_SECONDS: u64 = 24 * 60 * 60;

/// The shortest time a timeout flag accepts: one millisecond. Anything shorter could round to
/// zero, and a zero socket timeout is an error (`set_read_timeout(Some(ZERO))`), not "don't
/// wait": a server given one would drop every client.
pub const MIN_MILLIS: u64 = 1;

/// A command-line number of seconds (`10`, `0.5`), from 0.001 to [`MAX_SECONDS`], for clap's
/// `value_parser`: every timeout flag in seconds takes its value this way, so that all of them
/// refuse the same values with the same words. Say the range in the flag's help text too:
/// "(0.001 to 86400)".
///
/// ```text
/// #[arg(long, value_name = "SECS", default_value = "300", value_parser = course_cli::seconds)]
/// idle_timeout: Duration,
/// ```
pub fn seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .ok()
        // NaN and infinities are in no range, so they are refused here too.
        .filter(|secs| (MIN_MILLIS as f64 / 1000.0..=MAX_SECONDS as f64).contains(secs))
        .ok_or_else(|| {
            format!("expected a number of seconds from 0.001 to {MAX_SECONDS} (one day)")
        })?;
    Ok(Duration::from_secs_f64(secs))
}

/// The same range as [`seconds`], for a flag in whole milliseconds (`1500`): 1 to 86400000.
pub fn milliseconds(text: &str) -> Result<Duration, String> {
    let max = MAX_SECONDS * 1000;
    let ms: u64 = text
        .trim()
        .parse()
        .ok()
        .filter(|ms| (MIN_MILLIS..=max).contains(ms))
        .ok_or_else(|| {
            format!("expected a whole number of milliseconds from {MIN_MILLIS} to {max} (one day)")
        })?;
    Ok(Duration::from_millis(ms))
}

/// A parser for a count or a size flag, for clap's `value_parser`: a whole number in `range`,
/// refused otherwise with a message that states the range (`-1`, `x` and `2^64` included,
/// which clap's own range parser reports without it).
///
/// ```text
/// #[arg(long, value_name = "BYTES", default_value_t = 1024, value_parser = course_cli::number(1..=65536))]
/// max_output: usize,
/// ```
pub fn number<T: TryFrom<u64>>(
    range: RangeInclusive<u64>,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
    move |text| {
        text.trim()
            .parse()
            .ok()
            .filter(|n| range.contains(n))
            // A value in range that does not fit `T` (a range wider than this machine's `usize`)
            // is refused too, never truncated.
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| {
                let (min, max) = (range.start(), range.end());
                format!("expected a whole number from {min} to {max}")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_from_a_millisecond_to_a_day() {
        assert_eq!(seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(seconds("300"), Ok(Duration::from_secs(300)));
        assert_eq!(seconds("0.001"), Ok(Duration::from_millis(1)));
        assert_eq!(seconds("86400"), Ok(Duration::from_secs(86_400)));
        for bad in [
            "0",
            "-1",
            "0.0009",
            "1e-300",
            "86400.5",
            "1e300",
            "18446744073709551615",
            "x",
            "inf",
            "NaN",
            "",
        ] {
            assert!(seconds(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn milliseconds_are_from_one_to_a_day() {
        assert_eq!(milliseconds("1500"), Ok(Duration::from_millis(1500)));
        assert_eq!(milliseconds("1"), Ok(Duration::from_millis(1)));
        assert_eq!(milliseconds("86400000"), Ok(Duration::from_secs(86_400)));
        for bad in [
            "0",
            "-1",
            "86400001",
            "18446744073709551615",
            "1.5",
            "x",
            "",
        ] {
            assert!(milliseconds(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn numbers_are_whole_and_in_their_range() {
        let bytes = number::<usize>(1..=65536);
        assert_eq!(bytes("1"), Ok(1));
        assert_eq!(bytes("65536"), Ok(65536));
        for bad in ["0", "65537", "-1", "1.5", "x", "", "18446744073709551616"] {
            assert_eq!(
                bytes(bad),
                Err("expected a whole number from 1 to 65536".to_string()),
                "{bad:?}"
            );
        }
        assert_eq!(
            number::<u8>(0..=1000)("300"),
            Err("expected a whole number from 0 to 1000".into())
        );
    }

    #[test]
    fn the_longest_timeout_fits_every_clock() {
        // What "cannot overflow" rests on: the largest value each parser returns can be added
        // to both clocks, with room to spare.
        for longest in [seconds("86400").unwrap(), milliseconds("86400000").unwrap()] {
            assert!(std::time::Instant::now().checked_add(longest).is_some());
            assert!(std::time::SystemTime::now().checked_add(longest).is_some());
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
