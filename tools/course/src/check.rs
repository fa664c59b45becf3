//! Running an exercise's checks (`cargo test -p lesson-NN --test exercises -- exN_M::`) and
//! turning libtest's output into something a student reads.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};

use crate::{Course, Exercise};

/// One check (one `#[test]`) and how it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// libtest's name, e.g. `ex5_1::reads_in_pieces`.
    pub test: String,
    pub passed: bool,
    /// For a failure: what the check said, cleaned (see [`clean_failure`]).
    pub message: String,
}

impl CheckResult {
    /// `reads in pieces`: the module path dropped, underscores turned to spaces.
    pub fn readable_name(&self) -> String {
        readable(&self.test)
    }
}

/// What running a lesson's exercise checks gave.
#[derive(Debug, Clone)]
pub enum Run {
    /// The code did not compile: the compiler's messages, without cargo's progress lines.
    CompileError(String),
    /// cargo stopped before building anything (an unknown package, a broken Cargo.toml): what
    /// it said.
    CargoError(String),
    /// The checks ran (some may have stopped early: see `stopped_early`).
    Ran {
        results: Vec<CheckResult>,
        /// Set when the test binary ended without its summary (it crashed or was killed):
        /// the end of what it wrote to stderr.
        stopped_early: Option<String>,
    },
}

/// The outcome of one exercise's checks.
#[derive(Debug, Clone)]
pub enum Outcome {
    CompileError(String),
    CargoError(String),
    /// No test in module `exN_M` ran: the exercise has no checks.
    NoChecks,
    Checked {
        results: Vec<CheckResult>,
        stopped_early: Option<String>,
    },
}

impl Outcome {
    pub fn passed(&self) -> bool {
        match self {
            Outcome::Checked {
                results,
                stopped_early,
            } => stopped_early.is_none() && !results.is_empty() && results.iter().all(|r| r.passed),
            _ => false,
        }
    }
}

/// Whether libtest's `test` (e.g. `checks::ex5_1::reads_in_pieces`) is in module `module`.
pub fn in_module(test: &str, module: &str) -> bool {
    let mut segments: Vec<&str> = test.split("::").collect();
    segments.pop();
    segments.contains(&module)
}

/// `ex5_1::reads_in_pieces` → `reads in pieces`.
pub fn readable(test: &str) -> String {
    test.rsplit("::").next().unwrap_or(test).replace('_', " ")
}

/// The `cargo test` command that runs `filter`'s checks of `package`, as the runner runs it.
pub fn command(course: &Course, package: &str, filter: Option<&str>) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&course.root)
        .args([
            "test",
            "-p",
            package,
            "--test",
            "exercises",
            "--no-fail-fast",
        ])
        .arg("--")
        .args(["--color", "never"]);
    if let Some(filter) = filter {
        cmd.arg(filter);
    }
    // The student reads the panic message, not a backtrace, whatever their shell sets.
    cmd.env("RUST_BACKTRACE", "0")
        .env("RUST_LIB_BACKTRACE", "0")
        .env("CARGO_TERM_COLOR", "never")
        // The checks must not read the learner's keyboard (`watch` reads it).
        .stdin(Stdio::null());
    cmd
}

/// Runs the checks of `package` whose names contain `filter` (all of them without one).
pub fn run_package(course: &Course, package: &str, filter: Option<&str>) -> Result<Run> {
    let output = command(course, package, filter)
        .output()
        .context("cannot run cargo (is it installed and on your PATH?)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    Ok(parse_run(&stdout, &stderr, output.status.success()))
}

/// Runs `ex`'s checks.
pub fn check(course: &Course, ex: &Exercise) -> Result<Outcome> {
    let module = ex.module();
    let run = run_package(course, &ex.package, Some(&format!("{module}::")))?;
    Ok(outcome_of(&run, &module))
}

/// The part of a lesson's run that belongs to exercise module `module`.
pub fn outcome_of(run: &Run, module: &str) -> Outcome {
    match run {
        Run::CompileError(text) => Outcome::CompileError(text.clone()),
        Run::CargoError(text) => Outcome::CargoError(text.clone()),
        Run::Ran {
            results,
            stopped_early,
        } => {
            // `ex1_1::` is also a substring of `ex11_1::`: keep the tests of exactly this module.
            let mine: Vec<CheckResult> = results
                .iter()
                .filter(|r| in_module(&r.test, module))
                .cloned()
                .collect();
            if mine.is_empty() && stopped_early.is_none() {
                Outcome::NoChecks
            } else {
                Outcome::Checked {
                    results: mine,
                    stopped_early: stopped_early.clone(),
                }
            }
        }
    }
}

/// Reads cargo test's output: libtest's on stdout, cargo's (and the compiler's) on stderr.
pub fn parse_run(stdout: &str, stderr: &str, success: bool) -> Run {
    let ran = stdout.lines().any(|l| l.starts_with("running "));
    if !ran {
        if success {
            return Run::Ran {
                results: Vec::new(),
                stopped_early: None,
            };
        }
        let messages = compiler_messages(stderr);
        if stderr.contains("could not compile") || stderr.contains("error[E") {
            return Run::CompileError(messages);
        }
        return Run::CargoError(messages);
    }

    let mut outcomes: Vec<(String, bool)> = Vec::new();
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("test ")
            && let Some((name, result)) = rest.rsplit_once(" ... ")
        {
            match result.trim() {
                "ok" => outcomes.push((name.to_string(), true)),
                r if r.starts_with("FAILED") => outcomes.push((name.to_string(), false)),
                // `ignored` checks are neither passed nor failed: a check must not be ignored
                // (CI proves none is), so the runner counts one as not passed.
                r if r.starts_with("ignored") => outcomes.push((name.to_string(), false)),
                _ => {}
            }
        }
    }
    // Tests run in parallel and report as they finish: sorted by name, a check keeps its place
    // from one run to the next.
    outcomes.sort();
    let sections = failure_sections(stdout);
    let results = outcomes
        .into_iter()
        .map(|(test, passed)| {
            let message = if passed {
                String::new()
            } else if let Some(text) = sections.get(&test) {
                clean_failure(text)
            } else if stdout.contains(&format!("test {test} ... ignored")) {
                "this check is marked #[ignore], so it did not run".to_string()
            } else {
                String::new()
            };
            CheckResult {
                test,
                passed,
                message,
            }
        })
        .collect();
    let finished = stdout.lines().any(|l| l.starts_with("test result: "));
    let stopped_early = (!finished).then(|| tail(&compiler_messages(stderr), 20));
    Run::Ran {
        results,
        stopped_early,
    }
}

/// The "---- NAME stdout ----" sections of libtest's failure report, by test name.
fn failure_sections(stdout: &str) -> BTreeMap<String, String> {
    let mut sections = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in stdout.lines() {
        let header = line
            .strip_prefix("---- ")
            .and_then(|l| l.strip_suffix(" ----"))
            .and_then(|l| {
                l.strip_suffix(" stdout")
                    .or_else(|| l.strip_suffix(" stderr"))
            });
        if let Some(name) = header {
            if let Some((name, text)) = current.take() {
                sections.insert(name, text);
            }
            current = Some((name.to_string(), String::new()));
            continue;
        }
        // The list of failed names after the sections ends the last one.
        if line == "failures:" || line.starts_with("test result: ") {
            if let Some((name, text)) = current.take() {
                sections.insert(name, text);
            }
            continue;
        }
        if let Some((_, text)) = current.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    if let Some((name, text)) = current {
        sections.insert(name, text);
    }
    sections
}

/// A failing check's report, as a student should read it: without the
/// "thread '…' panicked at file:line:col:" lines (the file is the check's, not the learner's),
/// without the notes about RUST_BACKTRACE and without any stack backtrace; `todo!`'s
/// "not yet implemented" said plainly.
///
/// What the test printed before its first panic (a server's log, the learner's own prints)
/// comes after the message, under "printed:", and only its last lines: the message is what
/// the student must read first.
pub fn clean_failure(text: &str) -> String {
    let (printed, message) = match text.lines().position(|l| is_panic_header(l.trim())) {
        Some(first) => {
            let lines: Vec<&str> = text.lines().collect();
            (lines[..first].join("\n"), lines[first..].join("\n"))
        }
        None => (String::new(), text.to_string()),
    };
    let message = clean_lines(&message);
    let printed = clean_lines(&printed);
    if printed.is_empty() {
        return message;
    }
    const SHOWN: usize = 8;
    let lines: Vec<&str> = printed.lines().collect();
    let skipped = lines.len().saturating_sub(SHOWN);
    let mut out = format!("{message}\nprinted");
    if skipped > 0 {
        out.push_str(&format!(" (its last {SHOWN} lines of {})", lines.len()));
    }
    out.push(':');
    for line in &lines[skipped..] {
        out.push_str("\n  ");
        out.push_str(line);
    }
    out
}

/// `clean_failure` for one part of the report.
fn clean_lines(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut in_backtrace = false;
    for line in text.lines() {
        if in_backtrace {
            // A backtrace's frames are indented; its closing note is not a frame but is noise.
            if line.starts_with(' ') || line.starts_with('\t') {
                continue;
            }
            in_backtrace = false;
        }
        let trimmed = line.trim();
        if trimmed == "stack backtrace:" {
            in_backtrace = true;
            continue;
        }
        if is_panic_header(trimmed) {
            continue;
        }
        if trimmed.starts_with("note:") && trimmed.contains("RUST_BACKTRACE") {
            continue;
        }
        out.push(plain_todo(line));
    }
    while out.first().is_some_and(|l| l.trim().is_empty()) {
        out.remove(0);
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out.join("\n")
}

/// "thread 'ex5_1::x' panicked at tests/…/checks.rs:10:5:" (with or without a thread id).
fn is_panic_header(line: &str) -> bool {
    line.starts_with("thread '") && line.contains(" panicked at ") && line.ends_with(':')
}

fn plain_todo(line: &str) -> String {
    if let Some(rest) = line.strip_prefix("not yet implemented: ") {
        format!("not written yet: {rest}")
    } else if line.trim() == "not yet implemented" {
        "not written yet".to_string()
    } else {
        line.to_string()
    }
}

/// The compiler's own messages from cargo's stderr: cargo's progress lines (Compiling,
/// Blocking, Finished, Running, …) and warnings dropped, so the errors stand out.
pub fn compiler_messages(stderr: &str) -> String {
    const PROGRESS: &[&str] = &[
        "Compiling ",
        "Blocking ",
        "Finished ",
        "Running ",
        "Checking ",
        "Fresh ",
        "Updating ",
        "Locking ",
        "Downloading ",
        "Downloaded ",
        "Adding ",
        "Building ",
        "Doc-tests ",
        "Waiting ",
    ];
    let mut out: Vec<&str> = Vec::new();
    let mut in_warning = false;
    for line in stderr.lines() {
        let trimmed = line.trim_start();
        if PROGRESS.iter().any(|p| trimmed.starts_with(p)) {
            continue;
        }
        if line.starts_with("warning") {
            // A warning block runs to the next blank line. "warning: `x` generated N warnings"
            // is one line.
            in_warning = true;
            continue;
        }
        if in_warning {
            if line.trim().is_empty() {
                in_warning = false;
            }
            continue;
        }
        out.push(line);
    }
    while out.first().is_some_and(|l| l.trim().is_empty()) {
        out.remove(0);
    }
    while out.last().is_some_and(|l| l.trim().is_empty()) {
        out.pop();
    }
    out.join("\n")
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAILED_RUN: &str = "
running 3 tests
test ex5_1::reads_nothing_for_zero ... ok
test ex5_1::reads_in_pieces ... FAILED
test ex5_1::fails_on_early_end ... FAILED

failures:

---- ex5_1::reads_in_pieces stdout ----

thread 'ex5_1::reads_in_pieces' (4242) panicked at tests/lesson-05/exercises/checks.rs:120:5:
assertion `left == right` failed: recv_exact returned \"hel\", not \"hello\"
  left: \"hel\"
 right: \"hello\"
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace

---- ex5_1::fails_on_early_end stdout ----

thread 'ex5_1::fails_on_early_end' panicked at lessons/lesson-05/src/exercises.rs:10:5:
not yet implemented: read until n bytes came
stack backtrace:
   0: rust_begin_unwind
             at /rustc/x/library/std/src/panicking.rs:665:5
   1: core::panicking::panic_fmt
note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.


failures:
    ex5_1::fails_on_early_end
    ex5_1::reads_in_pieces

test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
";

    #[test]
    fn failures_read_as_sentences() {
        let Run::Ran {
            results,
            stopped_early,
        } = parse_run(FAILED_RUN, "", false)
        else {
            panic!("not a run");
        };
        assert_eq!(stopped_early, None);
        assert_eq!(results.len(), 3);
        // Sorted by name: fails_on_early_end, reads_in_pieces, reads_nothing_for_zero.
        assert!(results[2].passed);
        assert_eq!(results[1].readable_name(), "reads in pieces");
        assert_eq!(
            results[1].message,
            "assertion `left == right` failed: recv_exact returned \"hel\", not \"hello\"\n  left: \"hel\"\n right: \"hello\""
        );
        assert_eq!(
            results[0].message,
            "not written yet: read until n bytes came"
        );
    }

    #[test]
    fn what_was_printed_comes_after_the_message_and_only_its_end() {
        let mut text = String::new();
        for i in 1..=10 {
            text.push_str(&format!("connected from 127.0.0.1:{i}\n"));
        }
        text.push_str("thread 'ex1_2::x' panicked at tests/lesson-01/exercises/checks.rs:9:5:\n");
        text.push_str("no reply came back\n");
        let shown = clean_failure(&text);
        assert!(shown.starts_with("no reply came back\nprinted (its last 8 lines of 10):\n"));
        assert!(shown.ends_with("  connected from 127.0.0.1:10"));
        assert!(!shown.contains("127.0.0.1:2\n"), "{shown}");
        assert_eq!(
            clean_failure("thread 't' panicked at a.rs:1:1:\nplain\n"),
            "plain"
        );
    }

    #[test]
    fn only_the_module_s_own_tests() {
        let run = parse_run(
            "running 2 tests\ntest checks::ex1_1::a ... ok\ntest checks::ex11_1::b ... FAILED\ntest result: FAILED.\n",
            "",
            false,
        );
        assert!(outcome_of(&run, "ex1_1").passed());
        assert!(matches!(outcome_of(&run, "ex1_2"), Outcome::NoChecks));
    }

    #[test]
    fn compile_errors_without_cargo_noise() {
        let stderr = "   Compiling lesson-05 v0.1.0 (/x)\nBlocking waiting for file lock on build directory\nwarning: unused variable: `x`\n --> src/a.rs:1:1\n\nerror[E0308]: mismatched types\n --> src/exercises.rs:3:5\n\nerror: could not compile `lesson-05` (lib) due to 1 previous error\n";
        let Run::CompileError(text) = parse_run("", stderr, false) else {
            panic!("not a compile error");
        };
        assert_eq!(
            text,
            "error[E0308]: mismatched types\n --> src/exercises.rs:3:5\n\nerror: could not compile `lesson-05` (lib) due to 1 previous error"
        );
    }
}
