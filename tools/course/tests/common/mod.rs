//! A small course, built in a temporary folder for each test: one lesson package with three
//! exercises (two in anchored regions of one file, one a whole file without checks), their
//! checks, a solution package, a book, and a git repository with everything committed.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

pub const EXERCISES_RS: &str = "lessons/lesson-01-demo/src/exercises.rs";

/// How long a run of the runner may take: the first one compiles the fixture's packages.
pub const TIMEOUT: Duration = Duration::from_secs(240);

const FILES: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        "[workspace]\nresolver = \"3\"\nmembers = [\"lessons/*\", \"solutions/*\"]\n",
    ),
    (".gitignore", "/.course/\n/Cargo.lock\n/target/\n"),
    (
        "lessons/lesson-01-demo/Cargo.toml",
        r#"[package]
name = "lesson-01"
version = "0.1.0"
edition = "2024"

[[test]]
name = "exercises"
path = "../../tests/lesson-01/exercises/starter.rs"
test = false
"#,
    ),
    (
        "lessons/lesson-01-demo/src/lib.rs",
        "pub mod exercises;\npub mod extra;\n",
    ),
    (
        EXERCISES_RS,
        r#"//! The demo's exercises.

// ANCHOR: add
/// Exercise 1.1: add two numbers.
pub fn add(a: u32, b: u32) -> u32 {
    // TODO: add them.
    let _ = (a, b);
    0
}
// ANCHOR_END: add

// ANCHOR: greet
/// Exercise 1.2: greet someone.
pub fn greet(name: &str) -> String {
    todo!("greet {name} by name")
}
// ANCHOR_END: greet
"#,
    ),
    (
        "lessons/lesson-01-demo/src/extra.rs",
        "//! Exercise 1.3: a whole file, and no checks.\n",
    ),
    (
        "lessons/lesson-01-demo/exercises.toml",
        r#"chapter = "book/src/ch01-demo.md"

[[exercise]]
id = "1.1"
title = "`add`"
level = "core"
socket = false
edit = [{ file = "lessons/lesson-01-demo/src/exercises.rs", anchor = "add" }]
solution = [{ file = "solutions/solution-01-demo/src/lib.rs", anchor = "add" }]
hint = """
Use the `+` operator.
"""

[[exercise]]
id = "1.2"
title = "`greet`"
level = "stretch"
socket = false
edit = [{ file = "lessons/lesson-01-demo/src/exercises.rs", anchor = "greet" }]
solution = [{ file = "solutions/solution-01-demo/src/lib.rs", anchor = "greet" }]
hint = "`format!` builds a `String`."

[[exercise]]
id = "1.3"
title = "a file without checks"
level = "stretch"
socket = true
edit = [{ file = "lessons/lesson-01-demo/src/extra.rs" }]
solution = [{ file = "solutions/solution-01-demo/src/lib.rs" }]
hint = "There is nothing to do."
"#,
    ),
    (
        "tests/lesson-01/exercises/starter.rs",
        "use lesson_01::exercises as ex;\n\nmod checks;\n",
    ),
    (
        "tests/lesson-01/exercises/solution.rs",
        "use solution_01 as ex;\n\nmod checks;\n",
    ),
    (
        "tests/lesson-01/exercises/checks.rs",
        r#"use crate::ex;

mod ex1_1 {
    use super::ex;

    #[test]
    fn adds_two_and_three() {
        assert_eq!(ex::add(2, 3), 5, "add(2, 3) should be 5");
    }

    #[test]
    fn adds_zero() {
        assert_eq!(ex::add(0, 7), 7, "add(0, 7) should be 7");
    }
}

mod ex1_2 {
    use super::ex;

    #[test]
    fn greets_by_name() {
        assert_eq!(ex::greet("Ada"), "Hello, Ada!");
    }
}
"#,
    ),
    (
        "solutions/solution-01-demo/Cargo.toml",
        r#"[package]
name = "solution-01"
version = "0.1.0"
edition = "2024"

[dependencies]
lesson-01 = { path = "../../lessons/lesson-01-demo" }

[[test]]
name = "exercises"
path = "../../tests/lesson-01/exercises/solution.rs"
"#,
    ),
    (
        "solutions/solution-01-demo/src/lib.rs",
        r#"// ANCHOR: add
/// Why: `+` is all it takes.
pub fn add(a: u32, b: u32) -> u32 {
    a + b
}
// ANCHOR_END: add

// ANCHOR: greet
pub fn greet(name: &str) -> String {
    format!("Hello, {name}!")
}
// ANCHOR_END: greet
"#,
    ),
    (
        "book/book.toml",
        "[book]\ntitle = \"Demo\"\nsrc = \"src\"\n\n[preprocessor.course]\ncommand = \"MDBOOK_COURSE\"\nbefore = [\"links\"]\n",
    ),
    (
        "book/src/SUMMARY.md",
        "# Summary\n\n- [Demo](ch01-demo.md)\n",
    ),
    ("book/src/ch01-demo.md", CHAPTER),
];

/// The fixture's chapter, with every directive.
pub const CHAPTER: &str = r#"# 1. Demo

> [!NOTE]
> **Time:** about 10 min reading,
> 20 min exercises
>
> **Exercises:** {{#course exercises 1}}

It takes {{#course time 1}}, by its own header.

## Exercises

{{#course heading 1.1}}

Write `add`.

> {{#course hint 1.1}}

{{#course check 1.1}}

{{#course solution 1.1}}

{{#course heading 1.2}}

{{#course hint 1.2}}

{{#course solution 1.2}}

{{#course heading 1.3}}

{{#course hint 1.3}}

{{#course solution 1.3}}

```markdown
{{#course hint 9.9}} is left alone in a code block.
```
"#;

/// The body of 1.1's region, solved.
pub const ADD_SOLVED: &str = "pub fn add(a: u32, b: u32) -> u32 {\n    a + b\n}\n";
/// The body of 1.2's region, solved.
pub const GREET_SOLVED: &str =
    "pub fn greet(name: &str) -> String {\n    format!(\"Hello, {name}!\")\n}\n";

pub struct Fixture {
    pub dir: tempfile::TempDir,
}

/// Where a fixture at `dir` builds: its own target folder. Not one shared by every fixture:
/// cargo names a workspace member's artifacts by its path *relative to the workspace root*, so
/// two fixtures would build the same file names, and one test could run the other's checks. The
/// fixture's crates have no dependencies, so a build of its own costs about a second.
pub fn target_dir(dir: &Path) -> PathBuf {
    dir.join("target")
}

pub fn git(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@localhost",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl Fixture {
    /// The course, committed to a fresh git repository.
    pub fn new() -> Fixture {
        let dir = tempfile::Builder::new()
            .prefix("course-fixture-")
            .tempdir()
            .expect("temp dir");
        let preprocessor = env!("CARGO_BIN_EXE_mdbook-course");
        for (path, text) in FILES {
            let file = dir.path().join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, text.replace("MDBOOK_COURSE", preprocessor)).unwrap();
        }
        git(dir.path(), &["init", "--quiet"]);
        git(dir.path(), &["add", "--all"]);
        git(dir.path(), &["commit", "--quiet", "-m", "the fixture"]);
        Fixture { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    pub fn write(&self, rel: &str, text: &str) {
        std::fs::write(self.path(rel), text).unwrap();
    }

    /// Replaces the body of anchor `anchor`'s region in `rel` (written atomically, as editors do).
    pub fn set_region(&self, rel: &str, anchor: &str, body: &str) {
        let mut text = self.read(rel);
        let range = course::anchor::region(&text, anchor).expect("the anchor is there");
        text.replace_range(range, body);
        let temp = self.path(&format!("{rel}.tmp"));
        std::fs::write(&temp, text).unwrap();
        std::fs::rename(temp, self.path(rel)).unwrap();
    }

    pub fn region(&self, rel: &str, anchor: &str) -> String {
        let text = self.read(rel);
        text[course::anchor::region(&text, anchor).unwrap()].to_string()
    }

    /// The runner, ready to run in the fixture.
    pub fn course_cmd(&self, args: &[&str]) -> Command {
        course_in(self.dir.path(), args)
    }

    /// Runs the runner to its end (bounded).
    pub fn course(&self, args: &[&str]) -> Run {
        run_bounded(self.course_cmd(args))
    }
}

pub fn course_in(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_course"));
    cmd.current_dir(dir)
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir(dir))
        .env_remove("RUST_BACKTRACE")
        // English unless a test asks otherwise, whatever the locale of the machine.
        .env("COURSE_LANG", "en")
        .stdin(Stdio::null());
    cmd
}

#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `cmd` to its end, killing it after [`TIMEOUT`].
pub fn run_bounded(mut cmd: Command) -> Run {
    let mut child = ChildGuard(
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the command starts"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let stderr = child.0.stderr.take().unwrap();
    let out = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "{cmd:?} ran for over {TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code(),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// A child process that is killed and reaped when the test lets go of it, pass or fail.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running `cargo course watch`, its stdout read line by line.
pub struct Watch {
    pub child: ChildGuard,
    lines: Receiver<String>,
    pub seen: Vec<String>,
}

impl Watch {
    pub fn start(mut cmd: Command, stdin: Stdio) -> Watch {
        let mut child = ChildGuard(
            cmd.stdin(stdin)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("watch starts"),
        );
        let stdout = child.0.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Watch {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (bounded) for a line that contains `text`; fails with everything seen so far.
    pub fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(text);
                    self.seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(e) => panic!(
                    "watch never printed {text:?} ({e:?}); it printed:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    pub fn send(&mut self, line: &str) {
        let stdin = self.child.0.stdin.as_mut().expect("stdin is piped");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    pub fn output(&self) -> String {
        self.seen.join("\n")
    }
}
