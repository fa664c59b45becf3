//! `netlab proxy`: put the lab between a client and a server and watch how the bytes travel.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use netlab::{Directions, MERGE_LIMIT, Options, Proxy};

// Every number a flag takes is checked before the proxy listens, against a range that says what
// makes sense; the help text of each flag states its range. An absurd value is refused with a
// message naming the flag, never accepted to fail later on every connection.

/// `--split`: the proxy reads at most 64 KiB at a time, so a larger piece would never be cut.
const PIECE_MAX: usize = MERGE_LIMIT;
/// `--merge-window`: 0 would be a zero read timeout, which is an error on every connection,
/// not "no wait"; a minute of silence is already more than any merge a lesson shows.
const MERGE_WINDOW_MS: std::ops::RangeInclusive<u64> = 1..=60_000;
/// `--delay`: 0 is no delay; a minute per piece is already slower than anyone watches.
const DELAY_MS: std::ops::RangeInclusive<u64> = 0..=60_000;

#[derive(Parser)]
#[command(
    version,
    about = "The course's network lab: a TCP proxy that splits, merges, delays and traces bytes."
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Forward TCP connections from --listen to --to, shaping the bytes on the way. Bytes are
    /// never lost or reordered, and never altered unless --corrupt says so; a close on either
    /// side is passed on.
    Proxy(ProxyArgs),
    /// A one-minute tour: one message through a splitting proxy, with its trace.
    Demo,
}

#[derive(clap::Args)]
struct ProxyArgs {
    /// Where clients connect (port 0 picks a free port; the first line printed says which).
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: SocketAddr,
    /// The server to forward to.
    #[arg(long, default_value = "127.0.0.1:8080")]
    to: SocketAddr,
    /// Re-send every chunk as pieces of random size in MIN..MAX bytes (inclusive, 1 to 65536),
    /// e.g. 1..7.
    #[arg(long, value_name = "MIN..MAX", value_parser = parse_range)]
    split: Option<(usize, usize)>,
    /// Seed for the piece sizes (any 64-bit number), to repeat a run exactly (default: a new one,
    /// printed on stderr).
    #[arg(long)]
    seed: Option<u64>,
    /// Hold what arrives until the sender goes quiet, then send it on as one write.
    #[arg(long)]
    merge: bool,
    /// How long the sender must be quiet to end a merge, in milliseconds (1 to 60000).
    #[arg(long, value_name = "MS", default_value_t = 50,
          value_parser = whole(MERGE_WINDOW_MS))]
    merge_window: u64,
    /// Wait this many milliseconds before each piece (0 to 60000).
    #[arg(long, value_name = "MS", default_value_t = 0,
          value_parser = whole(DELAY_MS))]
    delay: u64,
    /// Invert the byte at this offset of each direction's stream (from 0, on every
    /// connection; any 64-bit offset): damage that only an application's own checksum can
    /// catch.
    #[arg(long, value_name = "OFFSET")]
    corrupt: Option<u64>,
    /// Which directions --split, --merge, --delay and --corrupt apply to.
    #[arg(long, value_enum, default_value_t = Which::Both)]
    directions: Which,
    /// Print every piece forwarded: connection, direction, offset, size and a preview.
    #[arg(long)]
    trace: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Which {
    Both,
    ToServer,
    ToClient,
}

/// A parser for a flag that takes a whole number in `range`, refused otherwise with a message
/// that states the range (for `-1` and `x` too, which clap's own range parser reports without
/// it). The lessons use `course_cli::number`, which says the same; the lab stands alone.
fn whole(
    range: std::ops::RangeInclusive<u64>,
) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync + 'static {
    move |text| {
        text.trim()
            .parse()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                let (min, max) = (range.start(), range.end());
                format!("expected a whole number from {min} to {max}")
            })
    }
}

/// `1..7` (or `5`, meaning `5..5`), within 1..=[`PIECE_MAX`].
fn parse_range(text: &str) -> anyhow::Result<(usize, usize)> {
    let (min, max) = match text.split_once("..") {
        Some((min, max)) => (min, max.strip_prefix('=').unwrap_or(max)),
        None => (text, text),
    };
    let min: usize = min
        .trim()
        .parse()
        .with_context(|| format!("{min:?} is not a size"))?;
    let max: usize = max
        .trim()
        .parse()
        .with_context(|| format!("{max:?} is not a size"))?;
    if min == 0 || min > max || max > PIECE_MAX {
        bail!("need 1 <= MIN <= MAX <= {PIECE_MAX}, got {min}..{max}");
    }
    Ok((min, max))
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Cmd::Proxy(args) => proxy(args),
        Cmd::Demo => demo(),
    }
}

fn proxy(args: ProxyArgs) -> anyhow::Result<()> {
    let seed = args.seed.unwrap_or_else(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        nanos as u64
    });
    let (trace_tx, trace_rx) = mpsc::channel();
    let options = Options {
        split: args.split,
        seed,
        merge: args.merge,
        merge_window: Duration::from_millis(args.merge_window),
        delay: Duration::from_millis(args.delay),
        corrupt: args.corrupt,
        directions: match args.directions {
            Which::Both => Directions::Both,
            Which::ToServer => Directions::ToServer,
            Which::ToClient => Directions::ToClient,
        },
        // Without --trace the proxy gets no sender, but this function keeps one (`_keep`), so
        // the printer below waits for ever, as a server does, instead of ending at once.
        trace: args.trace.then(|| trace_tx.clone()),
    };
    let _keep = trace_tx;
    let proxy = Proxy::start(args.listen, args.to, options)
        .with_context(|| format!("cannot listen on {}", args.listen))?;

    // The contract every course server keeps: this line first, flushed at once.
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {}", proxy.local_addr())?;
    out.flush()?;
    drop(out);
    eprintln!("netlab: forwarding to {}", args.to);
    if args.split.is_some() && args.seed.is_none() {
        eprintln!("netlab: seed {seed} (pass --seed {seed} to cut the same way again)");
    }

    // The pieces come from every connection's threads; one printer keeps each line whole.
    for piece in trace_rx {
        println!("{piece}");
    }
    Ok(())
}

/// One message through a splitting proxy. Everything printed is fixed by construction: the
/// client's message is one write, so the proxy reads it as one chunk, and the seed alone
/// decides where the pieces end.
fn demo() -> anyhow::Result<()> {
    const MESSAGE: &[u8] = b"GET /index.html HTTP/1.0\r\n\r\n";
    let timeout = Some(Duration::from_secs(10));

    // The server: reads until the client closes, and hands what it read to the narrator.
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let server_addr = listener.local_addr()?;
    let server = thread::spawn(move || -> std::io::Result<Vec<u8>> {
        let (mut conn, _) = listener.accept()?;
        conn.set_read_timeout(timeout)?;
        let mut received = Vec::new();
        conn.read_to_end(&mut received)?;
        Ok(received)
    });

    let (trace_tx, trace_rx) = mpsc::channel();
    let options = Options {
        split: Some((1, 7)),
        seed: 1,
        trace: Some(trace_tx),
        ..Options::default()
    };
    let proxy = Proxy::on_loopback(server_addr, options)?;
    println!(
        "A server that reads until end of stream, behind `netlab proxy --split 1..7 --seed 1 --trace`."
    );
    println!(
        "The client sends {} bytes in ONE write: {}",
        MESSAGE.len(),
        netlab::preview(MESSAGE, 64)
    );

    let mut client = TcpStream::connect(proxy.local_addr())?;
    client.set_read_timeout(timeout)?;
    client.write_all(MESSAGE)?;
    client.shutdown(Shutdown::Write)?;

    println!("The proxy writes it on in pieces; each trace line is one write:");
    let mut forwarded = 0;
    while forwarded < MESSAGE.len() {
        let piece = trace_rx.recv_timeout(Duration::from_secs(10))?;
        forwarded += piece.bytes.len();
        println!("  {piece}");
    }
    let received = server.join().expect("the server thread does not panic")?;
    println!(
        "The server read {} bytes, {}: the pieces change how bytes travel, never which bytes.",
        received.len(),
        if received == MESSAGE {
            "the same bytes in the same order"
        } else {
            "DIFFERENT bytes"
        }
    );
    println!(
        "A receiver that makes one read per message gets the first piece, or a few, or all of it:"
    );
    println!("whatever has arrived when its read runs. Only the receiver's own framing can tell.");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The arguments of `netlab proxy ARGS`, parsed as the binary parses them.
    fn parse(args: &[&str]) -> Result<ProxyArgs, clap::Error> {
        let argv = ["netlab", "proxy"].iter().chain(args);
        match Cli::try_parse_from(argv)?.command {
            Cmd::Proxy(args) => Ok(args),
            Cmd::Demo => unreachable!("the arguments name the proxy"),
        }
    }

    #[test]
    fn every_numeric_flag_takes_its_whole_range() {
        let args = parse(&[
            "--split",
            "1..65536",
            "--seed",
            "18446744073709551615",
            "--merge-window",
            "60000",
            "--delay",
            "60000",
            "--corrupt",
            "18446744073709551615",
        ])
        .unwrap();
        assert_eq!(args.split, Some((1, 65536)));
        assert_eq!((args.merge_window, args.delay), (60_000, 60_000));
        let args = parse(&["--merge-window", "1", "--delay", "0", "--corrupt", "0"]).unwrap();
        assert_eq!(
            (args.merge_window, args.delay, args.corrupt),
            (1, 0, Some(0))
        );
    }

    #[test]
    fn every_numeric_flag_refuses_what_is_out_of_range_naming_flag_value_and_range() {
        for (flag, value, range) in [
            ("--split", "0..7", "1 <= MIN <= MAX <= 65536"),
            ("--split", "7..1", "1 <= MIN <= MAX <= 65536"),
            ("--split", "1..65537", "1 <= MIN <= MAX <= 65536"),
            ("--split", "1..18446744073709551616", "not a size"),
            ("--seed", "18446744073709551616", ""),
            ("--seed", "-1", ""),
            ("--merge-window", "0", "from 1 to 60000"),
            ("--merge-window", "60001", "from 1 to 60000"),
            ("--merge-window", "18446744073709551615", "from 1 to 60000"),
            ("--merge-window", "x", "from 1 to 60000"),
            ("--delay", "60001", "from 0 to 60000"),
            ("--delay", "18446744073709551615", "from 0 to 60000"),
            ("--delay", "-1", "from 0 to 60000"),
            ("--corrupt", "-1", ""),
        ] {
            // `--flag=VALUE`, so that a value such as `-1` is not taken for a flag.
            let Err(e) = parse(&[&format!("{flag}={value}")]) else {
                panic!("{flag} {value} was accepted");
            };
            let said = e.to_string();
            assert!(
                said.contains(&format!("invalid value '{value}' for '{flag} <")),
                "{flag} {value}: {said}"
            );
            assert!(said.contains(range), "{flag} {value}: {said}");
        }
    }
}
