//! The checks for chapter 7's exercises, written against `crate::ex`: the starter in lessons/
//! (where they must fail) or the solution (where they must pass). The checks of exercise 7.N
//! are in `mod ex7_N`; `cargo course check 7.N` runs only those.
//!
//! 7.1 to 7.3 work on files and readers. 7.4 to 7.6 talk to the lesson's real server over TCP on
//! 127.0.0.1, port 0: `server::run_with` on a thread, with the exercise's handler seeing each
//! request first. Every read is bounded by `testkit::TIMEOUT`; a cut is made by a relay that
//! stops at a chosen byte, and damage by the lab proxy at a chosen offset.

use std::fs::{self, File};
use std::io::{self, Cursor, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant, UNIX_EPOCH};

use lesson_07::client::{Client, Failure};
use lesson_07::server::{self, Handler, Settings};
use lesson_07::{BUFFER_SIZE, Header, list, read_header, write_header};
use md5::{Digest as _, Md5};
use netlab::{Directions, Options, Proxy};
use sha2::Sha256;
use tempfile::TempDir;
use testkit::{TIMEOUT, Trickle};

use crate::ex;

/// A temporary folder holding `root` (the folder served) and, beside it, `outside`: a folder
/// the server must never touch. Both disappear with the `TempDir`.
fn playground() -> (TempDir, PathBuf, PathBuf) {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let root = tmp.path().join("root");
    let outside = tmp.path().join("outside");
    fs::create_dir(&root).unwrap();
    fs::create_dir(&outside).unwrap();
    (tmp, root, outside)
}

/// Deterministic, varied bytes: no two neighbouring positions look alike.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

/// 1 MiB and one byte: more than one buffer, one read, or one socket buffer holds.
const BIG: usize = 1_048_577;

#[cfg(unix)]
fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

fn md5_hex(bytes: &[u8]) -> String {
    lesson_07::hex(&Md5::digest(bytes))
}

/// "the same N bytes", or where two byte strings first differ, as a sentence: never a list of
/// numbers a person has to compare by eye.
fn compare_bytes(got: &[u8], want: &[u8]) -> Option<String> {
    if got == want {
        return None;
    }
    let at = got.iter().zip(want).take_while(|(a, b)| a == b).count();
    Some(format!(
        "{} bytes where {} were expected; they differ from byte {at} on: {} instead of {}",
        got.len(),
        want.len(),
        netlab::preview(&got[at.min(got.len())..], 16),
        netlab::preview(&want[at.min(want.len())..], 16),
    ))
}

/// A result as a sentence's end: `Ok(5)`, or `the error "…"` (an error's own words, which
/// `{:?}` would bury in its fields).
fn outcome<T: std::fmt::Debug, E: std::fmt::Display>(result: &Result<T, E>) -> String {
    match result {
        Ok(value) => format!("Ok({value:?})"),
        Err(e) => format!("the error \"{e}\""),
    }
}

/// Fails with `what` and the difference unless the file at `path` holds exactly `want`.
fn assert_file_holds(path: &Path, want: &[u8], what: &str) {
    let got = fs::read(path).unwrap_or_else(|e| panic!("{what}: cannot read {path:?}: {e}"));
    if let Some(difference) = compare_bytes(&got, want) {
        panic!("{what}: {path:?} holds {difference}");
    }
}

// ---- The lesson's server, with an exercise's handler, on a thread ----

/// The test server's idle timeout: shorter than the wait on drop, so a connection left open
/// still ends in time, and shorter than a read's `TIMEOUT`, so a handler that never replies is
/// seen as a close after `IDLE`.
const IDLE: Duration = Duration::from_secs(TIMEOUT.as_secs() / 2);

/// `server::run_with` on 127.0.0.1:0, serving a fresh folder, `handler` seeing every request
/// first. On drop it is told to stop, woken by one connection, and waited for (bounded).
struct TestServer {
    addr: SocketAddr,
    /// Holds `root` and, beside it, `outside` (with a file `x`), which no request may reach.
    tmp: TempDir,
    stop: Arc<AtomicBool>,
    done: mpsc::Receiver<()>,
}

impl TestServer {
    fn start(handler: Handler) -> TestServer {
        let tmp = tempfile::tempdir().expect("a temporary folder");
        fs::create_dir(tmp.path().join("root")).unwrap();
        fs::create_dir(tmp.path().join("outside")).unwrap();
        fs::write(tmp.path().join("outside").join("x"), "keep").unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port on loopback");
        let addr = listener.local_addr().unwrap();
        let mut settings = Settings::new(tmp.path().join("root"));
        settings.idle_timeout = IDLE;
        let stop = Arc::new(AtomicBool::new(false));
        let (done_tx, done) = mpsc::channel();
        let stop_for_server = Arc::clone(&stop);
        thread::spawn(move || {
            server::run_with(
                listener,
                settings,
                Arc::new(|_| {}),
                handler,
                &stop_for_server,
            );
            let _ = done_tx.send(());
        });
        TestServer {
            addr,
            tmp,
            stop,
            done,
        }
    }

    /// The plain lesson server: a handler that leaves every request to it.
    fn plain() -> TestServer {
        TestServer::start(Arc::new(|_, _, _| Ok(false)))
    }

    fn root(&self) -> PathBuf {
        self.tmp.path().join("root")
    }

    /// The file beside the served folder: `../outside/x` from inside it.
    fn outside(&self) -> PathBuf {
        self.tmp.path().join("outside").join("x")
    }

    /// A connection whose every read and write gives up after `TIMEOUT`.
    fn connect(&self) -> TcpStream {
        testkit::connect(&self.addr.to_string())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept, which then sees `stop`
        // Returns at once if the server thread panicked (a handler's `todo!`).
        let _ = self.done.recv_timeout(TIMEOUT);
    }
}

/// The request as JSON, as the student would write it in a message.
fn json(header: &Header) -> String {
    serde_json::to_string(header).expect("a header is JSON")
}

/// Sends `request` and reads one reply header, failing with a sentence that says what went
/// wrong and what the student probably forgot.
fn ask(conn: &mut TcpStream, request: &Header) -> Header {
    let sent = json(request);
    if let Err(e) = write_header(conn, request) {
        panic!("could not send {sent} to the server: {e}");
    }
    let asked = Instant::now();
    match read_header(conn, 16 << 20) {
        Ok(Some(reply)) => reply,
        // A panic or an error closes the connection at once; a close after about IDLE is the
        // server giving up on a connection where nothing more came, so no reply was sent. (Half
        // of IDLE: the server's wait began when the request arrived, a little before `asked`.)
        Ok(None) if asked.elapsed() >= IDLE / 2 => panic!(
            "no answer to {sent} in {IDLE:?}, then the server closed the idle connection. Does \
             your handler send a reply before it returns Ok(true)?"
        ),
        Ok(None) => panic!(
            "the server closed the connection instead of answering {sent}. Did your handler \
             panic (a `todo!` left), or return an error?"
        ),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => panic!(
            "no answer to {sent} after {TIMEOUT:?}: does your handler send its reply, and return \
             Ok(false) for requests it leaves to the server?"
        ),
        Err(e) => panic!("the answer to {sent} could not be read: {e}"),
    }
}

fn request(command: &str, name: &str) -> Header {
    Header::request(command, Some(name))
}

/// `ls` on `conn`, which must still be in step with the server.
fn ls_after(conn: &mut TcpStream, after: &str) -> Vec<String> {
    let reply = ask(conn, &Header::request("ls", None));
    reply.files.clone().unwrap_or_else(|| {
        panic!(
            "after {after}, the reply to ls was {}: the connection is out of step (a reply too \
             many, or one missing)",
            json(&reply)
        )
    })
}

/// Exercise 7.1: ls with sizes and times.
mod ex7_1 {
    use super::*;

    /// Sets a file's modification time to `secs` (and `nanos`) after the epoch.
    fn set_modified(path: &Path, secs: u64, nanos: u32) {
        File::options()
            .write(true)
            .open(path)
            .and_then(|file| file.set_modified(UNIX_EPOCH + Duration::new(secs, nanos)))
            .unwrap();
    }

    fn names(entries: &[ex::Entry]) -> Vec<&str> {
        entries.iter().map(|entry| entry.name.as_str()).collect()
    }

    fn entry(name: &str, size: u64) -> ex::Entry {
        ex::Entry {
            name: name.to_string(),
            size,
            modified: 0,
        }
    }

    /// The student's `list_detailed(root)`, which must succeed here.
    fn detailed(root: &Path) -> Vec<ex::Entry> {
        ex::list_detailed(root).unwrap_or_else(|e| panic!("list_detailed failed: {e}"))
    }

    #[test]
    fn list_detailed_shows_exactly_the_names_ls_shows() {
        let (_tmp, root, outside) = playground();
        for name in ["a.txt", "b b.txt", "Zebra.txt", "résumé.txt", ".hidden"] {
            fs::write(root.join(name), name).unwrap();
        }
        fs::create_dir(root.join("folder")).unwrap();
        fs::create_dir(root.join(".git")).unwrap();
        fs::write(outside.join("secret"), "secret").unwrap();
        let mut expected = vec!["Zebra.txt", "a.txt", "b b.txt", "résumé.txt"];
        #[cfg(unix)]
        {
            use std::ffi::OsStr;
            use std::os::unix::ffi::OsStrExt;
            symlink("a.txt", root.join("inside-link"));
            symlink(outside.join("secret"), root.join("outside-link"));
            symlink("../outside/secret", root.join("relative-out"));
            symlink("nowhere", root.join("dangling"));
            symlink("folder", root.join("folder-link"));
            // Not UTF-8: no JSON string can name it, so no client could ask for it.
            fs::write(root.join(OsStr::from_bytes(b"bad\xff.txt")), "x").unwrap();
            expected.insert(3, "inside-link");
        }
        assert_eq!(list(&root).unwrap(), expected, "the fixture itself");
        let entries = detailed(&root);
        assert_eq!(
            names(&entries),
            expected,
            "exactly the names lesson_07::list returns, in its order (byte order: 'Z' before 'a')"
        );
    }

    #[test]
    fn list_detailed_gives_each_file_its_size() {
        let (_tmp, root, _outside) = playground();
        let sizes = [0, 1, 999, BUFFER_SIZE + 1];
        for (i, size) in sizes.into_iter().enumerate() {
            fs::write(root.join(format!("file{i}")), pattern(size)).unwrap();
        }
        let entries = detailed(&root);
        let got: Vec<(&str, u64)> = entries.iter().map(|e| (e.name.as_str(), e.size)).collect();
        let want: Vec<(String, u64)> = sizes
            .into_iter()
            .enumerate()
            .map(|(i, size)| (format!("file{i}"), size as u64))
            .collect();
        let want: Vec<(&str, u64)> = want.iter().map(|(n, s)| (n.as_str(), *s)).collect();
        assert_eq!(got, want, "each file's name and its size in bytes");
    }

    #[test]
    fn list_detailed_gives_modification_times_in_whole_seconds_since_the_epoch() {
        let (_tmp, root, _outside) = playground();
        fs::write(root.join("old.txt"), "old").unwrap();
        fs::write(root.join("new.txt"), "new").unwrap();
        // 2001-09-09 01:46:40 UTC, and 2023-11-14 22:13:20.9 UTC: the .9 is cut off, not rounded.
        set_modified(&root.join("old.txt"), 1_000_000_000, 0);
        set_modified(&root.join("new.txt"), 1_700_000_000, 900_000_000);
        let entries = detailed(&root);
        let times: Vec<(&str, u64)> = entries
            .iter()
            .map(|e| (e.name.as_str(), e.modified))
            .collect();
        assert_eq!(
            times,
            [("new.txt", 1_700_000_000), ("old.txt", 1_000_000_000)],
            "modified: whole seconds since 1970-01-01 00:00 UTC, the fraction cut off"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_link_inside_the_folder_shows_its_targets_size_and_time() {
        let (_tmp, root, _outside) = playground();
        fs::write(root.join("target.txt"), pattern(1000)).unwrap();
        set_modified(&root.join("target.txt"), 1_000_000_000, 0);
        // The link itself is 10 bytes ("target.txt") and was made just now.
        symlink("target.txt", root.join("link"));
        let entries = detailed(&root);
        let want = |name: &str| ex::Entry {
            name: name.to_string(),
            size: 1000,
            modified: 1_000_000_000,
        };
        assert_eq!(
            entries,
            [want("link"), want("target.txt")],
            "a link shows what `get` would send: its target's size and time"
        );
    }

    #[test]
    fn list_detailed_of_an_empty_folder_is_empty_and_of_a_missing_one_an_error() {
        let (_tmp, root, _outside) = playground();
        fs::create_dir(root.join("only-a-folder")).unwrap();
        fs::write(root.join(".only-hidden"), "x").unwrap();
        assert_eq!(
            detailed(&root),
            [],
            "a folder with only a folder and a dot file in it: no entries"
        );
        let err = ex::list_detailed(&root.join("missing"))
            .expect_err("a folder that does not exist is an error, not an empty listing");
        assert_eq!(
            err.kind(),
            ErrorKind::NotFound,
            "the error for a missing folder should be NotFound: {err}"
        );
    }

    #[test]
    fn format_listing_right_aligns_the_sizes_in_one_column() {
        let entries = [
            entry("a.txt", 5),
            entry("big.iso", 1_048_576),
            entry("empty", 0),
        ];
        assert_eq!(
            ex::format_listing(&entries),
            "      5  a.txt\n1048576  big.iso\n      0  empty\n",
            "sizes right-aligned, as wide as the widest, two spaces, the name, a newline"
        );
        assert_eq!(
            ex::format_listing(&[entry("x y", 42)]),
            "42  x y\n",
            "one entry: the column is as wide as its size"
        );
        assert_eq!(ex::format_listing(&[]), "", "no entries: an empty string");
    }
}

/// Exercise 7.2: delete that respects the root.
mod ex7_2 {
    use super::*;

    /// The student's `delete(root, name)`, which must succeed here.
    fn deleted(root: &Path, name: &str) {
        if let Err(refused) = ex::delete(root, name) {
            panic!("delete({name:?}) should delete the file, but refused: {refused}");
        }
    }

    #[test]
    fn delete_removes_exactly_that_file() {
        let (_tmp, root, _outside) = playground();
        for name in ["a.txt", "a.txt.bak", "b.txt"] {
            fs::write(root.join(name), name).unwrap();
        }
        deleted(&root, "a.txt");
        assert!(!root.join("a.txt").exists(), "a.txt is still there");
        assert_eq!(
            list(&root).unwrap(),
            ["a.txt.bak", "b.txt"],
            "after delete(\"a.txt\"), the other files stay"
        );
        deleted(&root, "b.txt");
        deleted(&root, "a.txt.bak");
        assert_eq!(
            list(&root).unwrap(),
            Vec::<String>::new(),
            "every file deleted: the folder is empty"
        );
        assert!(root.is_dir(), "the folder itself stays");
    }

    #[test]
    fn delete_refuses_every_name_that_is_not_a_plain_name() {
        let (_tmp, root, outside) = playground();
        fs::write(outside.join("x"), "keep").unwrap();
        fs::write(root.join(".hidden"), "keep").unwrap();
        fs::create_dir(root.join("sub")).unwrap();
        fs::write(root.join("sub").join("inner"), "keep").unwrap();
        fs::write(root.join("a"), "keep").unwrap();
        let absolute = outside.join("x");
        let absolute = absolute.to_str().expect("a UTF-8 temporary path");
        for name in [
            "../outside/x",
            "..",
            ".",
            "",
            absolute,
            "sub/inner",
            "sub\\inner",
            "a\0b",
            "C:x",
            ".hidden",
        ] {
            assert!(ex::delete(&root, name).is_err(), "{name:?} must be refused");
        }
        assert!(
            outside.join("x").exists(),
            "a file outside the folder was deleted"
        );
        assert!(root.join(".hidden").exists(), ".hidden was deleted");
        assert!(
            root.join("sub").join("inner").exists(),
            "sub/inner was deleted"
        );
        assert!(root.join("a").exists(), "a was deleted");
    }

    #[test]
    fn delete_of_a_missing_file_says_there_is_no_such_file() {
        let (_tmp, root, _outside) = playground();
        fs::write(root.join("other.txt"), "keep").unwrap();
        let err = ex::delete(&root, "missing.txt").expect_err("nothing to delete is an error");
        let text = err.to_string().to_lowercase();
        assert!(
            text.contains("no file") || text.contains("no such file"),
            "the error should say there is no such file: {err}"
        );
        assert!(root.join("other.txt").exists(), "other.txt was deleted too");
    }

    #[test]
    fn delete_refuses_a_folder() {
        let (_tmp, root, _outside) = playground();
        fs::create_dir(root.join("empty")).unwrap();
        fs::create_dir(root.join("full")).unwrap();
        fs::write(root.join("full").join("inner"), "keep").unwrap();
        assert!(
            ex::delete(&root, "empty").is_err(),
            "a folder is not a file"
        );
        assert!(ex::delete(&root, "full").is_err(), "a folder is not a file");
        assert!(root.join("empty").is_dir(), "the empty folder was removed");
        assert!(
            root.join("full").join("inner").exists(),
            "a file inside the folder \"full\" was removed"
        );
    }

    #[cfg(unix)]
    #[test]
    fn delete_refuses_a_link_that_leads_out_of_the_folder() {
        let (_tmp, root, outside) = playground();
        fs::write(outside.join("secret"), "keep").unwrap();
        symlink(outside.join("secret"), root.join("absolute-out"));
        symlink("../outside/secret", root.join("relative-out"));
        for name in ["absolute-out", "relative-out"] {
            assert!(ex::delete(&root, name).is_err(), "{name} leads outside");
            assert!(
                fs::symlink_metadata(root.join(name)).is_ok(),
                "refused, yet the link {name} was removed"
            );
        }
        assert_eq!(
            fs::read_to_string(outside.join("secret")).unwrap(),
            "keep",
            "the file outside the folder must stay as it was"
        );
    }

    #[cfg(unix)]
    #[test]
    fn delete_of_a_link_inside_removes_the_link_not_its_target() {
        let (_tmp, root, _outside) = playground();
        fs::write(root.join("target.txt"), "keep").unwrap();
        symlink("target.txt", root.join("link"));
        deleted(&root, "link");
        assert!(
            fs::symlink_metadata(root.join("link")).is_err(),
            "the link is still there"
        );
        assert_eq!(
            fs::read_to_string(root.join("target.txt")).unwrap(),
            "keep",
            "the link's target must stay as it was"
        );
    }
}

/// Exercise 7.3: SHA-256 instead of MD5.
mod ex7_3 {
    use super::*;

    /// The digest as the sha2 crate computes it in one call, to compare with.
    fn reference(data: &[u8]) -> String {
        Sha256::digest(data)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// A reader that fails if asked for more than `max` bytes in one read.
    struct AtMost {
        data: Cursor<Vec<u8>>,
        max: usize,
    }

    impl Read for AtMost {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if buf.len() > self.max {
                return Err(io::Error::other(format!(
                    "asked for {} bytes in one read, over the {} allowed",
                    buf.len(),
                    self.max
                )));
            }
            self.data.read(buf)
        }
    }

    /// A reader that is interrupted before every real read, and breaks after `fail_after` bytes.
    struct Flaky {
        data: Cursor<Vec<u8>>,
        interrupt: bool,
        fail_after: Option<u64>,
    }

    impl Read for Flaky {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.interrupt = !self.interrupt;
            if self.interrupt {
                return Err(ErrorKind::Interrupted.into());
            }
            if self.fail_after.is_some_and(|at| self.data.position() >= at) {
                return Err(ErrorKind::ConnectionReset.into());
            }
            let limit = match self.fail_after {
                Some(at) => (at - self.data.position()) as usize,
                None => buf.len(),
            };
            let n = buf.len().min(limit);
            self.data.read(&mut buf[..n])
        }
    }

    #[test]
    fn sha256_matches_the_nist_examples() {
        // FIPS 180-2's examples: the empty message and "abc".
        assert_eq!(
            ex::sha256_hex(&mut &b""[..]).expect("an empty reader has a digest"),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "the SHA-256 of no bytes at all"
        );
        assert_eq!(
            ex::sha256_hex(&mut &b"abc"[..]).expect("a reader of 3 bytes has a digest"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "the SHA-256 of the 3 bytes \"abc\""
        );
    }

    #[test]
    fn sha256_of_a_large_input_matches_the_sha2_crate() {
        let data = pattern(1024 * 1024 + 1);
        let mut reader = Cursor::new(data.clone());
        let digest = ex::sha256_hex(&mut reader).expect("a reader of 1 MiB has a digest");
        assert_eq!(digest.len(), 64, "64 hex digits, not {digest:?}");
        assert!(
            digest
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "64 lowercase hex digits: {digest}"
        );
        assert_eq!(digest, reference(&data), "the SHA-256 of 1 MiB and 1 byte");
        assert_eq!(
            reader.position(),
            data.len() as u64,
            "the reader should be read to its end"
        );
    }

    #[test]
    fn sha256_reads_until_the_end_however_the_bytes_are_cut() {
        for len in [1, 7, 64, 1000, 100_000] {
            let data = pattern(len);
            let mut reader = Trickle::new(data.clone());
            let digest = ex::sha256_hex(&mut reader).expect("a reader of bytes has a digest");
            assert_eq!(digest, reference(&data), "{len} bytes, 1..7 at a time");
            assert_eq!(
                reader.consumed(),
                len,
                "all {len} bytes should be read, not fewer"
            );
            assert_eq!(
                reader.given.last(),
                Some(&0),
                "stop only when a read returns 0"
            );
        }
    }

    #[test]
    fn sha256_never_asks_for_more_than_buffer_size_at_once() {
        let data = pattern(3 * BUFFER_SIZE + 5);
        let mut reader = AtMost {
            data: Cursor::new(data.clone()),
            max: BUFFER_SIZE,
        };
        let digest = ex::sha256_hex(&mut reader)
            .expect("one read at most BUFFER_SIZE bytes: the input is never held whole");
        assert_eq!(
            digest,
            reference(&data),
            "the SHA-256 of 3 buffers and 5 bytes"
        );
    }

    #[test]
    fn sha256_retries_an_interrupted_read_and_returns_any_other_error() {
        let data = pattern(10_000);
        let mut reader = Flaky {
            data: Cursor::new(data.clone()),
            interrupt: false,
            fail_after: None,
        };
        assert_eq!(
            ex::sha256_hex(&mut reader).expect("an interrupted read is tried again"),
            reference(&data),
            "the SHA-256 of 10 000 bytes, read between interruptions"
        );
        let mut reader = Flaky {
            data: Cursor::new(data),
            interrupt: false,
            fail_after: Some(5000),
        };
        let err =
            ex::sha256_hex(&mut reader).expect_err("a broken reader is an error, not a digest");
        assert_eq!(
            err.kind(),
            ErrorKind::ConnectionReset,
            "the reader's own error should come back as it was: {err}"
        );
    }
}

/// Exercise 7.4: `delete`, end to end.
mod ex7_4 {
    use super::*;

    fn delete_server() -> TestServer {
        TestServer::start(Arc::new(|conn, root, request| {
            ex::serve_delete(conn, root, request)
        }))
    }

    /// A server with `a.txt`, `a.txt.bak`, `b.txt` and a folder `sub`.
    fn delete_server_with_files() -> TestServer {
        let server = delete_server();
        for name in ["a.txt", "a.txt.bak", "b.txt"] {
            fs::write(server.root().join(name), name).unwrap();
        }
        fs::create_dir(server.root().join("sub")).unwrap();
        server
    }

    #[test]
    fn delete_over_the_socket_removes_exactly_that_file() {
        let server = delete_server_with_files();
        let mut conn = server.connect();
        let reply = ask(&mut conn, &request("delete", "a.txt"));
        assert_eq!(
            json(&reply),
            r#"{"name":"a.txt"}"#,
            "the reply to a delete that worked"
        );
        assert_eq!(
            testkit::names_in(&server.root()),
            ["a.txt.bak", "b.txt", "sub"],
            "after delete a.txt, the server's folder should hold the rest"
        );
    }

    #[test]
    fn refusals_are_replies_and_the_server_goes_on() {
        let server = delete_server_with_files();
        let escape = "../outside/x";
        let mut conn = server.connect();
        for (name, why) in [
            (escape, "a name that leads out of the folder"),
            ("missing.txt", "a name with no file"),
            ("sub", "a folder"),
        ] {
            let reply = ask(&mut conn, &request("delete", name));
            assert!(
                reply.error.is_some(),
                "delete {name:?} ({why}) must be refused with {{\"error\": why}}, not {}",
                json(&reply)
            );
        }
        let reply = ask(&mut conn, &Header::request("delete", None));
        assert!(
            reply.error.is_some(),
            "a delete without a name must be refused, not answered {}",
            json(&reply)
        );
        let missing = ask(&mut conn, &request("delete", "missing.txt"));
        let text = missing.error.unwrap_or_default().to_lowercase();
        assert!(
            text.contains("no file") || text.contains("no such file"),
            "the refusal for a missing file should say there is no such file: {text:?}"
        );
        assert_eq!(
            fs::read_to_string(server.outside()).ok().as_deref(),
            Some("keep"),
            "a file outside the server's folder was deleted"
        );
        let files = ls_after(&mut conn, "four refused deletes");
        assert_eq!(
            files,
            ["a.txt", "a.txt.bak", "b.txt"],
            "nothing was deleted"
        );
        // get is still the server's own: the handler must leave it alone.
        let reply = ask(&mut conn, &request("get", "b.txt"));
        assert_eq!(reply, Header::file("b.txt", 5), "the reply to get b.txt");
        let mut body = [0u8; 5];
        if let Err(e) = conn.read_exact(&mut body) {
            panic!("the 5 bytes of b.txt after the reply to get did not come: {e}");
        }
        let trailer = read_header(&mut conn, 1024).ok().flatten();
        assert!(
            trailer.is_some_and(|t| t.md5.is_some()),
            "get b.txt should end with the server's trailer {{\"md5\": …}}: does your handler \
             return Ok(false) for a get?"
        );
        let files = ls_after(&mut server.connect(), "a new connection");
        assert_eq!(
            files,
            ["a.txt", "a.txt.bak", "b.txt"],
            "ls on a new connection"
        );
    }

    /// A test peer: answers each request it receives with the next of `replies`, and hands the
    /// requests back when the connection ends.
    fn peer(replies: Vec<Header>) -> (SocketAddr, thread::JoinHandle<Vec<Header>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            conn.set_read_timeout(Some(TIMEOUT)).unwrap();
            let mut seen = Vec::new();
            for reply in replies {
                match read_header(&mut conn, 1 << 20) {
                    Ok(Some(request)) => seen.push(request),
                    _ => break,
                }
                write_header(&mut conn, &reply).unwrap();
            }
            seen
        });
        (addr, handle)
    }

    #[test]
    fn the_client_sends_delete_and_shows_the_reply() {
        let (addr, peer) = peer(vec![
            Header {
                name: Some("a.txt".into()),
                ..Header::default()
            },
            Header::refusal("refused the name \"../x\": it contains a path separator"),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let mut client = Client::new(testkit::connect(&addr.to_string()), dir.path());
        let shown = ex::delete_remote(&mut client, "a.txt");
        assert_eq!(
            shown.as_deref().map_err(|e| e.to_string()),
            Ok("deleted \"a.txt\""),
            "what the client shows for a delete that worked"
        );
        match ex::delete_remote(&mut client, "../x") {
            Err(Failure::Refused(text)) => assert!(
                text.contains("path separator"),
                "a refusal should show the server's words, not {text:?}"
            ),
            other => panic!(
                "a refusal from the server should be Failure::Refused, not {}",
                outcome(&other)
            ),
        }
        drop(client);
        let seen = peer.join().expect("the test peer");
        let seen: Vec<String> = seen.iter().map(json).collect();
        assert_eq!(
            seen,
            [
                r#"{"command":"delete","name":"a.txt"}"#,
                r#"{"command":"delete","name":"../x"}"#
            ],
            "the requests the client sent: one each time, and the name as it was given (the \
             server decides which names to refuse)"
        );
    }

    #[test]
    fn client_and_server_together() {
        let server = delete_server_with_files();
        let escape = "../outside/x";
        let dir = tempfile::tempdir().unwrap();
        let mut client = Client::new(server.connect(), dir.path());
        let shown = ex::delete_remote(&mut client, "b.txt").map_err(|e| e.to_string());
        assert_eq!(shown.as_deref(), Ok("deleted \"b.txt\""), "delete b.txt");
        for name in [escape, "missing.txt", "sub"] {
            match ex::delete_remote(&mut client, name) {
                Err(Failure::Refused(_)) => {}
                other => panic!(
                    "delete {name:?} should be Failure::Refused, not {}",
                    outcome(&other)
                ),
            }
        }
        assert!(
            server.outside().exists(),
            "a file outside the server's folder was deleted"
        );
        let files = client.ls().map_err(|e| e.to_string());
        assert_eq!(
            files,
            Ok(vec!["a.txt".to_string(), "a.txt.bak".to_string()]),
            "ls after the deletes, on the same connection"
        );
    }
}

/// Exercise 7.5: a `get` that resumes.
mod ex7_5 {
    use super::*;

    /// A server whose folder holds `big.bin`: BIG bytes of `pattern`.
    fn resume_server() -> TestServer {
        let server = TestServer::start(Arc::new(|conn, root, request| {
            ex::serve_get_from(conn, root, request)
        }));
        fs::write(server.root().join("big.bin"), pattern(BIG)).unwrap();
        server
    }

    fn get_from(name: &str, offset: u64) -> Header {
        Header {
            offset: Some(offset),
            ..request("get", name)
        }
    }

    /// A one-connection relay between a client and `server` that counts the bytes it forwards
    /// toward the client, and, given a `limit`, forwards exactly that many, then closes both
    /// connections: a download cut at a chosen byte, every time.
    fn relay(server: SocketAddr, limit: Option<u64>) -> (SocketAddr, Arc<AtomicU64>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let forwarded = Arc::new(AtomicU64::new(0));
        let count = Arc::clone(&forwarded);
        thread::spawn(move || {
            let (client, _) = listener.accept().unwrap();
            let upstream = TcpStream::connect(server).unwrap();
            upstream.set_read_timeout(Some(TIMEOUT)).unwrap();
            // A client that stops reading cannot hold the relay: its writes give up too.
            client.set_write_timeout(Some(TIMEOUT)).unwrap();
            let (mut from_client, mut to_server) =
                (client.try_clone().unwrap(), upstream.try_clone().unwrap());
            thread::spawn(move || {
                let _ = io::copy(&mut from_client, &mut to_server);
                let _ = to_server.shutdown(Shutdown::Write);
            });
            let (mut from_server, mut to_client) = (&upstream, &client);
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                let left = limit.map_or(buffer.len() as u64, |limit| {
                    limit - count.load(Ordering::SeqCst)
                });
                let want = left.min(buffer.len() as u64) as usize;
                if want == 0 {
                    break; // the limit: not one byte more
                }
                let n = match testkit::read_some(&mut from_server, &mut buffer[..want]) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                // Counted before it is written: once the client has a byte, it is counted.
                count.fetch_add(n as u64, Ordering::SeqCst);
                if to_client.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
            let _ = client.shutdown(Shutdown::Both);
            let _ = upstream.shutdown(Shutdown::Both);
        });
        (addr, forwarded)
    }

    #[test]
    fn the_server_sends_the_whole_files_md5_and_only_the_rest() {
        let server = resume_server();
        let mut conn = server.connect();
        let reply = ask(&mut conn, &get_from("big.bin", 1000));
        let want = Header {
            md5: Some(md5_hex(&pattern(BIG))),
            offset: Some(1000),
            ..Header::file("big.bin", BIG as u64)
        };
        assert_eq!(
            json(&reply),
            json(&want),
            "the reply to {}: the WHOLE file's size and MD5, and the offset",
            json(&get_from("big.bin", 1000))
        );
        let mut rest = vec![0u8; BIG - 1000];
        if let Err(e) = conn.read_exact(&mut rest) {
            panic!(
                "after the reply, the server should send the {} bytes from offset 1000 to the \
                 end of the file, but they did not all come: {e}",
                BIG - 1000
            );
        }
        if let Some(difference) = compare_bytes(&rest, &pattern(BIG)[1000..]) {
            panic!("the body should be the file from byte 1000 on; it was {difference}");
        }
        let files = ls_after(
            &mut conn,
            "a get from offset 1000 (no trailer after its body)",
        );
        assert_eq!(files, ["big.bin"]);
        // At the very end: a header, and no bytes at all.
        let reply = ask(&mut conn, &get_from("big.bin", BIG as u64));
        assert_eq!(
            reply.size,
            Some(BIG as u64),
            "offset = size: {}",
            json(&reply)
        );
        ls_after(&mut conn, "a get from the last byte, which sends no bytes");
        // A plain get, without an offset, is still the lesson's: header, body, trailer.
        let reply = ask(&mut conn, &request("get", "big.bin"));
        assert_eq!(
            json(&reply),
            json(&Header::file("big.bin", BIG as u64)),
            "a get without an offset is the server's own: leave it alone (return Ok(false))"
        );
    }

    #[test]
    fn the_server_refuses_an_offset_beyond_the_end_and_goes_on() {
        let server = resume_server();
        let mut conn = server.connect();
        for bad in [
            get_from("big.bin", BIG as u64 + 1),
            get_from("missing.bin", 0),
            get_from("../outside/x", 0),
        ] {
            let reply = ask(&mut conn, &bad);
            assert!(
                reply.error.is_some(),
                "{} must be refused with {{\"error\": why}}, not answered {}",
                json(&bad),
                json(&reply)
            );
            ls_after(&mut conn, &format!("the refusal of {}", json(&bad)));
        }
    }

    #[test]
    fn a_get_with_nothing_to_resume_fetches_the_whole_file() {
        let server = resume_server();
        let dir = tempfile::tempdir().unwrap();
        let got = ex::get_resuming(&mut server.connect(), dir.path(), "big.bin");
        assert_eq!(
            got.map_err(|e| e.to_string()),
            Ok(BIG as u64),
            "with no big.bin.part, the whole file is received"
        );
        assert_file_holds(&dir.path().join("big.bin"), &pattern(BIG), "after the get");
        assert_eq!(
            testkit::names_in(dir.path()),
            ["big.bin"],
            "after a get that worked, only the file is left (big.bin.part is renamed)"
        );
    }

    #[test]
    fn an_interrupted_get_resumes_and_transfers_only_the_rest() {
        let server = resume_server();
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("big.bin.part");
        // 1. Cut: the relay forwards 300 000 bytes of the reply, then closes.
        let (addr, _) = relay(server.addr, Some(300_000));
        let cut = ex::get_resuming(
            &mut testkit::connect(&addr.to_string()),
            dir.path(),
            "big.bin",
        );
        assert!(
            cut.is_err(),
            "a get cut after 300 000 bytes must fail, not return {}",
            outcome(&cut)
        );
        assert!(
            !dir.path().join("big.bin").exists(),
            "a cut get left big.bin"
        );
        let kept = fs::read(&part).unwrap_or_else(|e| {
            panic!("a cut get must leave big.bin.part for the next try, but: {e}")
        });
        assert!(
            (299_000..300_000).contains(&kept.len()),
            "after a cut at 300 000 bytes (a header, then the file), big.bin.part holds {} \
             bytes: write each piece to it as it arrives",
            kept.len()
        );
        if let Some(difference) = compare_bytes(&kept, &pattern(BIG)[..kept.len()]) {
            panic!("big.bin.part should be the start of the file; it holds {difference}");
        }
        // 2. Resume, through a relay that counts.
        let (addr, forwarded) = relay(server.addr, None);
        let rest = (BIG - kept.len()) as u64;
        let got = ex::get_resuming(
            &mut testkit::connect(&addr.to_string()),
            dir.path(),
            "big.bin",
        );
        match got {
            Ok(n) if n == rest => {}
            Ok(n) => panic!(
                "the resumed get returned Ok({n}): it should return the number of bytes it \
                 received, the {rest} that big.bin.part lacked"
            ),
            Err(e) => panic!(
                "the resumed get (big.bin.part had {} bytes) failed with the error \"{e}\". If \
                 the MD5s differ: the reply's md5 is the whole file's, so hash the whole \
                 big.bin.part, from its first byte, after the new bytes are appended",
                kept.len()
            ),
        }
        let sent = forwarded.load(Ordering::SeqCst);
        assert!(
            (rest..rest + 1000).contains(&sent),
            "the server sent {sent} bytes for the resumed get; the rest of the file is {rest}: \
             ask for offset = the length of big.bin.part"
        );
        assert_file_holds(
            &dir.path().join("big.bin"),
            &pattern(BIG),
            "after the resume",
        );
        assert!(
            !part.exists(),
            "big.bin.part is still there after the resume"
        );
    }

    /// `get_resuming` must fail with `Failure::Refused`; returns its text.
    fn refused(dir: &Path, server: &TestServer, why: &str) -> String {
        match ex::get_resuming(&mut server.connect(), dir, "big.bin") {
            Err(Failure::Refused(text)) => text,
            other => panic!(
                "{why}: get_resuming should return Failure::Refused, not {}",
                outcome(&other)
            ),
        }
    }

    #[test]
    fn a_part_longer_than_the_file_is_refused_and_nothing_changes() {
        let server = resume_server();
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("big.bin"), "the old version").unwrap();
        fs::write(dir.path().join("big.bin.part"), pattern(BIG + 10)).unwrap();
        let text = refused(dir.path(), &server, "big.bin.part is longer than the file");
        assert!(!text.is_empty(), "the refusal should say why");
        assert_file_holds(
            &dir.path().join("big.bin"),
            b"the old version",
            "a refused get must leave big.bin as it was",
        );
    }

    #[test]
    fn a_refused_get_leaves_no_part_behind() {
        let server = resume_server();
        let dir = tempfile::tempdir().unwrap();
        match ex::get_resuming(&mut server.connect(), dir.path(), "missing.bin") {
            Err(Failure::Refused(_)) => {}
            other => panic!(
                "get_resuming of a file the server does not have should return the server's \
                 refusal as Failure::Refused, not {}",
                outcome(&other)
            ),
        }
        assert_eq!(
            testkit::names_in(dir.path()),
            Vec::<String>::new(),
            "a refused get must leave the folder as it was: open missing.bin.part only after \
             the reply says yes"
        );
    }

    #[test]
    fn a_part_with_wrong_bytes_fails_the_whole_files_md5() {
        let server = resume_server();
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("big.bin"), "the old version").unwrap();
        let wrong: Vec<u8> = pattern(5000).iter().map(|b| b ^ 1).collect();
        fs::write(dir.path().join("big.bin.part"), wrong).unwrap();
        let text = refused(dir.path(), &server, "big.bin.part holds other bytes");
        assert!(
            text.to_lowercase().contains("md5"),
            "the refusal should say that the MD5 does not match: {text:?}"
        );
        assert_file_holds(
            &dir.path().join("big.bin"),
            b"the old version",
            "after an MD5 mismatch, big.bin must stay as it was",
        );
        assert!(
            !dir.path().join("big.bin.part").exists(),
            "after an MD5 mismatch, delete big.bin.part: resuming from it would fail again"
        );
    }
}

/// Exercise 7.6: a client from the protocol page alone.
mod ex7_6 {
    use super::*;

    use ex::own_client;

    /// Fails unless the student's file names nothing of the lesson's crate (comment lines
    /// aside): exercise 7.6 is written from the protocol page, not from the lesson's code.
    fn written_from_the_page_alone() {
        let (path, source) = crate::OWN_CLIENT;
        for (number, line) in source.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for word in ["lesson_07::", "crate::", "super::"] {
                assert!(
                    !code.contains(word),
                    "line {} of {path} uses `{word}`: write exercise 7.6 with std, serde_json \
                     and md5 only, from book/src/ch07-protocol.md: {}",
                    number + 1,
                    line.trim()
                );
            }
        }
    }

    /// A plain server with `big.bin` (BIG bytes), `empty` (none) and `a b – ü.txt`.
    fn server_with_files() -> TestServer {
        written_from_the_page_alone();
        let server = TestServer::plain();
        fs::write(server.root().join("big.bin"), pattern(BIG)).unwrap();
        fs::write(server.root().join("empty"), "").unwrap();
        fs::write(server.root().join("a b – ü.txt"), "ünïcödé\n").unwrap();
        fs::write(server.root().join(".hidden"), "no").unwrap();
        fs::create_dir(server.root().join("folder")).unwrap();
        server
    }

    fn proxy(to: SocketAddr, directions: Directions) -> Proxy {
        let options = Options {
            corrupt: Some(100_000),
            directions,
            ..Options::default()
        };
        Proxy::on_loopback(to, options).expect("the lab proxy starts")
    }

    #[test]
    fn ls_lists_the_servers_files() {
        let server = server_with_files();
        let mut conn = server.connect();
        let files = own_client::ls(&mut conn).map_err(|e| e.to_string());
        assert_eq!(
            files,
            Ok(list(&server.root()).unwrap()),
            "ls should give the names in the reply's \"files\", in its order"
        );
        let files = own_client::ls(&mut conn).map_err(|e| e.to_string());
        assert!(
            files.is_ok(),
            "a second ls on the same connection: {}",
            outcome(&files)
        );
        // A refusal: with its folder gone, the server replies {"error": "cannot list the
        // folder: …"}.
        fs::remove_dir_all(server.root()).unwrap();
        match own_client::ls(&mut conn) {
            Err(e) if e.to_string().contains("cannot list the folder") => {}
            other => panic!(
                "when the server cannot read its folder, it replies {{\"error\": \"cannot list \
                 the folder: …\"}}: ls should return an error with the server's text, not {}",
                outcome(&other)
            ),
        }
    }

    #[test]
    fn get_gives_the_exact_bytes_and_a_refusal_is_an_error() {
        let server = server_with_files();
        let dir = tempfile::tempdir().unwrap();
        let mut conn = server.connect();
        for name in ["big.bin", "empty", "a b – ü.txt"] {
            let want = fs::read(server.root().join(name)).unwrap();
            let got = own_client::get(&mut conn, dir.path(), name).map_err(|e| e.to_string());
            assert_eq!(got, Ok(want.len() as u64), "get {name:?} returns its size");
            assert_file_holds(
                &dir.path().join(name),
                &want,
                &format!("after get {name:?}"),
            );
        }
        let mut want = vec!["big.bin", "empty", "a b – ü.txt"];
        want.sort();
        assert_eq!(
            testkit::names_in(dir.path()),
            want,
            "after these three gets, the folder should hold these three files and nothing else \
             (no temporary file left)"
        );
        let missing = own_client::get(&mut conn, dir.path(), "missing.bin");
        assert!(
            missing.is_err(),
            "get of a missing file must be an error, not {}",
            outcome(&missing)
        );
        assert_eq!(
            testkit::names_in(dir.path()),
            want,
            "a refused get must leave the folder as it was"
        );
        let files = own_client::ls(&mut conn).map_err(|e| e.to_string());
        assert!(
            files.is_ok(),
            "ls after a refused get, on the same connection: {}",
            outcome(&files)
        );
    }

    #[test]
    fn put_stores_the_exact_bytes() {
        let server = server_with_files();
        let dir = tempfile::tempdir().unwrap();
        let data = pattern(BIG + 7);
        fs::write(dir.path().join("up.bin"), &data).unwrap();
        fs::write(dir.path().join("nothing"), "").unwrap();
        let mut conn = server.connect();
        for (name, want) in [("up.bin", &data[..]), ("nothing", &b""[..])] {
            let sent = own_client::put(&mut conn, dir.path(), name).map_err(|e| e.to_string());
            assert_eq!(sent, Ok(want.len() as u64), "put {name:?} returns its size");
            // The server renames the file into place before its final reply, so after that
            // reply the file is there, every time; without it, maybe not yet.
            assert!(
                server.root().join(name).exists(),
                "put {name:?} returned, but the server's folder has no {name:?}: does put wait \
                 for the server's final reply (saved, or an error) before it returns?"
            );
            assert_file_holds(
                &server.root().join(name),
                want,
                &format!("after put {name:?}"),
            );
        }
        let files = own_client::ls(&mut conn).map_err(|e| e.to_string());
        assert!(
            files.is_ok_and(|files| files.contains(&"up.bin".to_string())),
            "after put up.bin, ls on the same connection should list it"
        );
    }

    #[test]
    fn a_refused_put_is_an_error_and_sends_no_body() {
        let server = server_with_files();
        let dir = tempfile::tempdir().unwrap();
        // `C:x` is a fine file name here, and the server refuses it (it looks like a drive).
        // Its bytes are not a frame: sent after the refusal, they would end the connection.
        fs::write(dir.path().join("C:x"), "some bytes, not a frame").unwrap();
        let mut conn = server.connect();
        let sent = own_client::put(&mut conn, dir.path(), "C:x");
        assert!(
            sent.is_err(),
            "the server refuses the name \"C:x\": put must return an error, not {}",
            outcome(&sent)
        );
        let files = own_client::ls(&mut conn);
        assert!(
            files.is_ok(),
            "ls after a refused put, on the same connection: {}. After a refusal, put must send \
             nothing more: not the body, not a trailer",
            outcome(&files)
        );
    }

    #[test]
    fn a_byte_flipped_on_the_way_down_is_caught() {
        let server = server_with_files();
        let proxy = proxy(server.addr, Directions::ToClient);
        let dir = tempfile::tempdir().unwrap();
        let mut conn = testkit::connect(&proxy.local_addr().to_string());
        let got = own_client::get(&mut conn, dir.path(), "big.bin");
        assert!(
            got.is_err(),
            "byte 100 000 was flipped on the way: the MD5 check must make get fail, not return {}",
            outcome(&got)
        );
        assert_eq!(
            testkit::names_in(dir.path()),
            Vec::<String>::new(),
            "a damaged get must leave the folder as it was (empty): no big.bin, and no file \
             that holds the damaged bytes"
        );
        // Again, over a new connection (the lab damages each one), with an older big.bin here.
        fs::write(dir.path().join("big.bin"), "the old version").unwrap();
        let mut conn = testkit::connect(&proxy.local_addr().to_string());
        let got = own_client::get(&mut conn, dir.path(), "big.bin");
        assert!(
            got.is_err(),
            "a damaged get must fail, not return {}",
            outcome(&got)
        );
        assert_file_holds(
            &dir.path().join("big.bin"),
            b"the old version",
            "a damaged get must leave the big.bin that was there: write into another file, \
             and rename it only once the MD5s match",
        );
    }

    #[test]
    fn a_byte_flipped_on_the_way_up_is_an_error() {
        let server = server_with_files();
        let proxy = proxy(server.addr, Directions::ToServer);
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("up.bin"), pattern(BIG)).unwrap();
        let mut conn = testkit::connect(&proxy.local_addr().to_string());
        let sent = own_client::put(&mut conn, dir.path(), "up.bin");
        assert!(
            sent.is_err(),
            "byte 100 000 was flipped on the way: the server refuses the file, so put must \
             fail, not return {}",
            outcome(&sent)
        );
        assert!(
            !server.root().join("up.bin").exists(),
            "the server kept a damaged file"
        );
    }
}
