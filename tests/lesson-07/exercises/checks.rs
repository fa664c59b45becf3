//! The checks for chapter 7's exercises, written against `crate::ex`: the starter in lessons/
//! (where they must fail) or the solution (where they must pass).
//!
//! Every check works in its own temporary folder; nothing touches the network.

use std::fs::{self, File};
use std::io::{self, Cursor, ErrorKind, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use lesson_07::{BUFFER_SIZE, list};
use sha2::{Digest, Sha256};
use tempfile::TempDir;
use testkit::Trickle;

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

/// Sets a file's modification time to `secs` (and `nanos`) after the epoch.
fn set_modified(path: &Path, secs: u64, nanos: u32) {
    File::options()
        .write(true)
        .open(path)
        .and_then(|file| file.set_modified(UNIX_EPOCH + Duration::new(secs, nanos)))
        .unwrap();
}

#[cfg(unix)]
fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, link).unwrap();
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

// ---- Exercise 7.1: ls with sizes and times ----

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
    let entries = ex::list_detailed(&root).unwrap();
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
    let entries = ex::list_detailed(&root).unwrap();
    let got: Vec<(&str, u64)> = entries.iter().map(|e| (e.name.as_str(), e.size)).collect();
    let want: Vec<(String, u64)> = sizes
        .into_iter()
        .enumerate()
        .map(|(i, size)| (format!("file{i}"), size as u64))
        .collect();
    let want: Vec<(&str, u64)> = want.iter().map(|(n, s)| (n.as_str(), *s)).collect();
    assert_eq!(got, want);
}

#[test]
fn list_detailed_gives_modification_times_in_whole_seconds_since_the_epoch() {
    let (_tmp, root, _outside) = playground();
    fs::write(root.join("old.txt"), "old").unwrap();
    fs::write(root.join("new.txt"), "new").unwrap();
    // 2001-09-09 01:46:40 UTC, and 2023-11-14 22:13:20.9 UTC: the .9 is cut off, not rounded.
    set_modified(&root.join("old.txt"), 1_000_000_000, 0);
    set_modified(&root.join("new.txt"), 1_700_000_000, 900_000_000);
    let entries = ex::list_detailed(&root).unwrap();
    let times: Vec<(&str, u64)> = entries
        .iter()
        .map(|e| (e.name.as_str(), e.modified))
        .collect();
    assert_eq!(
        times,
        [("new.txt", 1_700_000_000), ("old.txt", 1_000_000_000)]
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
    let entries = ex::list_detailed(&root).unwrap();
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
    assert_eq!(ex::list_detailed(&root).unwrap(), []);
    let err = ex::list_detailed(&root.join("missing")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
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
        "      5  a.txt\n1048576  big.iso\n      0  empty\n"
    );
    assert_eq!(
        ex::format_listing(&[entry("x y", 42)]),
        "42  x y\n",
        "one entry: the column is as wide as its size"
    );
    assert_eq!(ex::format_listing(&[]), "");
}

// ---- Exercise 7.2: delete that respects the root ----

#[test]
fn delete_removes_exactly_that_file() {
    let (_tmp, root, _outside) = playground();
    for name in ["a.txt", "a.txt.bak", "b.txt"] {
        fs::write(root.join(name), name).unwrap();
    }
    ex::delete(&root, "a.txt").unwrap();
    assert!(!root.join("a.txt").exists(), "a.txt is still there");
    assert_eq!(list(&root).unwrap(), ["a.txt.bak", "b.txt"]);
    ex::delete(&root, "b.txt").unwrap();
    ex::delete(&root, "a.txt.bak").unwrap();
    assert_eq!(list(&root).unwrap(), Vec::<String>::new());
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
    assert!(root.join("other.txt").exists());
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
    assert!(root.join("full").join("inner").exists());
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
    assert_eq!(fs::read_to_string(outside.join("secret")).unwrap(), "keep");
}

#[cfg(unix)]
#[test]
fn delete_of_a_link_inside_removes_the_link_not_its_target() {
    let (_tmp, root, _outside) = playground();
    fs::write(root.join("target.txt"), "keep").unwrap();
    symlink("target.txt", root.join("link"));
    ex::delete(&root, "link").unwrap();
    assert!(
        fs::symlink_metadata(root.join("link")).is_err(),
        "the link is still there"
    );
    assert_eq!(fs::read_to_string(root.join("target.txt")).unwrap(), "keep");
}

// ---- Exercise 7.3: SHA-256 instead of MD5 ----

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
        ex::sha256_hex(&mut &b""[..]).unwrap(),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        ex::sha256_hex(&mut &b"abc"[..]).unwrap(),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn sha256_of_a_large_input_matches_the_sha2_crate() {
    let data = pattern(1024 * 1024 + 1);
    let mut reader = Cursor::new(data.clone());
    let digest = ex::sha256_hex(&mut reader).unwrap();
    assert_eq!(digest.len(), 64, "{digest}");
    assert!(
        digest
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "64 lowercase hex digits: {digest}"
    );
    assert_eq!(digest, reference(&data));
    assert_eq!(reader.position(), data.len() as u64, "read to the end");
}

#[test]
fn sha256_reads_until_the_end_however_the_bytes_are_cut() {
    for len in [1, 7, 64, 1000, 100_000] {
        let data = pattern(len);
        let mut reader = Trickle::new(data.clone());
        let digest = ex::sha256_hex(&mut reader).unwrap();
        assert_eq!(digest, reference(&data), "{len} bytes, 1..7 at a time");
        assert_eq!(reader.consumed(), len);
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
    assert_eq!(digest, reference(&data));
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
        reference(&data)
    );
    let mut reader = Flaky {
        data: Cursor::new(data),
        interrupt: false,
        fail_after: Some(5000),
    };
    let err = ex::sha256_hex(&mut reader).expect_err("a broken reader is an error, not a digest");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
}
