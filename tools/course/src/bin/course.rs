//! `cargo course`: the course runner (the alias is in .cargo/config.toml).
//!
//! - `cargo course list [--json] [--verify]`: every exercise, done or pending, and the progress
//! - `cargo course check 5.1`: one exercise's checks against your code
//! - `cargo course hint 5.1 [--lang zh-CN]`: its hint (in Chinese with `--lang zh-CN`, or when
//!   the locale is Chinese: `LANG=zh_CN.UTF-8`; `--lang en` for English)
//! - `cargo course watch [--poll]`: checks the next unsolved exercise each time you save
//! - `cargo course reset 5.1`: puts back that exercise's untouched starter, nothing else
//! - `cargo course student-edition DIR`: a copy of the course without the solutions

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};
use course::check::{self, Outcome};
use course::progress::{Progress, Status};
use course::{Course, Exercise};

#[derive(Parser)]
#[command(
    name = "cargo course",
    bin_name = "cargo course",
    about = "Check, and keep track of, the course's exercises.",
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every exercise of every chapter, done or pending, and your progress.
    List {
        /// A machine-readable report (JSON), e.g. for a teacher to collect.
        #[arg(long)]
        json: bool,
        /// Check every exercise again first (this takes a while).
        #[arg(long)]
        verify: bool,
    },
    /// Runs one exercise's checks against your code, e.g. `cargo course check 5.1`.
    Check { id: String },
    /// Shows one exercise's hint, e.g. `cargo course hint 5.1` (显示提示：`--lang zh-CN`).
    Hint {
        id: String,
        /// zh-CN for the hint in Chinese, from the book's catalog; en for English. Without it,
        /// COURSE_LANG or the locale (LC_ALL, LC_MESSAGES, LANG) decides: zh_CN.UTF-8 is Chinese.
        #[arg(long, value_name = "LANG", value_parser = ["en", "zh-CN", "zh"])]
        lang: Option<String>,
    },
    /// Checks the first unsolved exercise every time you save, and moves on when it passes.
    Watch {
        /// Look at the files every second instead of waiting for file events.
        #[arg(long)]
        poll: bool,
    },
    /// Puts back one exercise's untouched starter code (and nothing else), e.g. `cargo course reset 5.1`.
    Reset { id: String },
    /// Writes a copy of the course without the worked solutions, for students.
    StudentEdition { dir: PathBuf },
}

fn main() -> ExitCode {
    #[cfg(unix)]
    // SAFETY: called first, before any other thread exists; SIG_DFL is a valid handler. With it,
    // `cargo course list --json | head` ends quietly, as other Unix programs do, instead of
    // panicking on a closed pipe.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<ExitCode> {
    let root = course::workspace_root(&std::env::current_dir()?)?;
    if let Command::StudentEdition { dir } = &command {
        return student_edition(&root, dir);
    }
    let (course, warnings) = Course::load_for_learner(&root)?;
    for w in &warnings {
        eprintln!("note: {w}");
    }
    match command {
        Command::List { json, verify } => list(&course, json, verify),
        Command::Check { id } => {
            let ex = course.get(&id)?;
            Ok(if check_and_record(&course, ex)? {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Hint { id, lang } => {
            let ex = course.get(&id)?;
            match course::i18n::choose(lang.as_deref(), |var| std::env::var(var).ok()) {
                Some(lang) => hint_translated(&course, ex, lang)?,
                None => hint(ex),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Watch { poll } => watch(&course, poll),
        Command::Reset { id } => reset(&course, course.get(&id)?),
        Command::StudentEdition { .. } => unreachable!("handled above"),
    }
}

// ---- list ----

fn list(course: &Course, json: bool, verify: bool) -> Result<ExitCode> {
    let mut progress = Progress::load(&course.root)?;
    if verify {
        verify_all(course, &mut progress)?;
    }
    let statuses: Vec<(&Exercise, Status)> = course
        .exercises
        .iter()
        .map(|ex| (ex, progress.status(course, ex)))
        .collect();
    let done = statuses.iter().filter(|(_, s)| s.is_done()).count();
    let total = statuses.len();
    if json {
        let report = Report {
            exercises: statuses
                .iter()
                .map(|(ex, status)| ReportEntry {
                    id: &ex.id,
                    title: ex.plain_title(),
                    level: ex.level.to_string(),
                    socket: ex.socket,
                    chapter: ex.chapter_number,
                    status: status.word(),
                    changed_since_it_passed: *status == Status::Changed,
                })
                .collect(),
            done,
            total,
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    print_list(course, &statuses);
    Ok(ExitCode::SUCCESS)
}

/// `cargo course list --json`: what a teacher collects from a class.
#[derive(serde::Serialize)]
struct Report<'a> {
    exercises: Vec<ReportEntry<'a>>,
    done: usize,
    total: usize,
}

#[derive(serde::Serialize)]
struct ReportEntry<'a> {
    id: &'a str,
    /// Without the markdown's backticks.
    title: String,
    level: String,
    socket: bool,
    chapter: u32,
    /// "done" or "pending".
    status: &'static str,
    /// It passed once, but its code changed since (so it is pending).
    changed_since_it_passed: bool,
}

fn print_list(course: &Course, statuses: &[(&Exercise, Status)]) {
    if statuses.is_empty() {
        println!("The course has no exercises yet.");
        return;
    }
    let width = statuses
        .iter()
        .map(|(ex, _)| ex.plain_title().chars().count())
        .max()
        .unwrap_or(0);
    let mut chapter = None;
    for (ex, status) in statuses {
        if chapter != Some(ex.chapter_number) {
            chapter = Some(ex.chapter_number);
            let title = course
                .chapter_title(ex)
                .unwrap_or_else(|| format!("Chapter {}", ex.chapter_number));
            println!("\n{title}  ({})", ex.chapter);
        }
        let (mark, word) = match status {
            Status::Done => ("✓", "done"),
            Status::Pending => (" ", "pending"),
            Status::Changed => (" ", "pending (changed since it passed)"),
        };
        println!(
            "  {mark} {:<5} {:<width$}  {:<7}  {word}",
            ex.id,
            ex.plain_title(),
            ex.level.to_string()
        );
    }
    println!();
    println!("{}", summary(statuses));
    if let Some((next, _)) = statuses.iter().find(|(_, s)| !s.is_done()) {
        println!(
            "Next: {} {}. Check it with `cargo course check {}`, or run `cargo course watch`.",
            next.id,
            next.plain_title(),
            next.id
        );
    }
}

/// "3 of 22 done (core: 2 of 12)".
fn summary(statuses: &[(&Exercise, Status)]) -> String {
    let done = statuses.iter().filter(|(_, s)| s.is_done()).count();
    let core: Vec<_> = statuses
        .iter()
        .filter(|(ex, _)| ex.level == course::Level::Core)
        .collect();
    let core_done = core.iter().filter(|(_, s)| s.is_done()).count();
    format!(
        "{done} of {} done (core: {core_done} of {})",
        statuses.len(),
        core.len()
    )
}

/// Runs every lesson's checks once, and records each exercise as it came out.
fn verify_all(course: &Course, progress: &mut Progress) -> Result<()> {
    let mut packages: Vec<&str> = Vec::new();
    for ex in &course.exercises {
        if !packages.contains(&ex.package.as_str()) {
            packages.push(&ex.package);
        }
    }
    for package in packages {
        // stderr: stdout may be the JSON report.
        eprintln!("checking every exercise of {package} …");
        let run = check::run_package(course, package, None)?;
        for ex in course.exercises.iter().filter(|e| e.package == package) {
            if check::outcome_of(&run, &ex.module()).passed() {
                progress.record_pass(course, ex);
            } else {
                progress.forget(&ex.id);
            }
        }
    }
    progress.save()
}

// ---- check ----

/// Checks `ex`, tells the learner how it went, and records it. True if it passed.
fn check_and_record(course: &Course, ex: &Exercise) -> Result<bool> {
    println!("Checking {} {} …", ex.id, ex.plain_title());
    let outcome = check::check(course, ex)?;
    let passed = report(course, ex, &outcome);
    let mut progress = Progress::load(&course.root)?;
    if passed {
        progress.record_pass(course, ex);
    } else {
        progress.forget(&ex.id);
    }
    progress.save()?;
    Ok(passed)
}

/// Prints how a check went; true if it passed.
fn report(course: &Course, ex: &Exercise, outcome: &Outcome) -> bool {
    match outcome {
        Outcome::CompileError(text) => {
            println!(
                "✗ {}: your code does not compile yet. The compiler says:\n",
                ex.id
            );
            println!("{text}");
            false
        }
        Outcome::CargoError(text) => {
            println!(
                "✗ {}: cargo could not run the checks of {}. It says:\n",
                ex.id, ex.package
            );
            println!("{text}");
            false
        }
        Outcome::NoChecks => {
            println!(
                "✗ {}: no check ran. The `exercises` tests of {} have no test in a module `{}`: \
                 this is a mistake in the course, not in your code. Please tell your teacher.",
                ex.id,
                ex.package,
                ex.module()
            );
            false
        }
        Outcome::Checked {
            results,
            stopped_early,
        } => {
            for r in results {
                if r.passed {
                    println!("  ✓ {}", r.readable_name());
                } else {
                    println!("  ✗ {}", r.readable_name());
                    for line in r.message.lines() {
                        println!("      {line}");
                    }
                }
            }
            if let Some(tail) = stopped_early {
                println!("\nThe checks stopped before they finished (a crash?). The last words:");
                for line in tail.lines() {
                    println!("    {line}");
                }
            }
            println!();
            if outcome.passed() {
                passed_message(course, ex, results.len());
                true
            } else {
                let failed = results.iter().filter(|r| !r.passed).count();
                println!(
                    "✗ {} is not done yet: {failed} of {} checks fail.",
                    ex.id,
                    results.len()
                );
                println!(
                    "  The task: {}, under \"{}\". A hint: cargo course hint {}",
                    ex.chapter,
                    ex.heading_text(),
                    ex.id
                );
                false
            }
        }
    }
}

fn passed_message(course: &Course, ex: &Exercise, checks: usize) {
    println!(
        "✓ {} passed ({checks} check{}).",
        ex.id,
        if checks == 1 { "" } else { "s" }
    );
    if course.has_solutions() {
        println!("  Compare with the worked solution, which says why each step is there:");
        for s in &ex.solution {
            println!("    {s}");
        }
        println!(
            "  The book shows it too, under \"{}\" (open \"Solution\").",
            ex.heading_text()
        );
    } else {
        println!("  The worked solution is not in this edition of the course: ask your teacher.");
    }
}

// ---- hint ----

fn hint(ex: &Exercise) {
    println!("Hint for {} {}:\n", ex.id, ex.plain_title());
    println!("{}", ex.hint.trim_end());
    println!(
        "\nThe task is in {}, under \"{}\".",
        ex.chapter,
        ex.heading_text()
    );
}

/// The hint in another language, from the book's catalog. A paragraph the catalog does not
/// have yet (the English changed since it was translated) is shown in English, with a note.
fn hint_translated(course: &Course, ex: &Exercise, lang: &str) -> Result<()> {
    let catalog = course::i18n::Catalog::load(&course.root, lang)?;
    let heading = catalog
        .get(&ex.heading())
        .map(|h| h.replace('`', ""))
        .unwrap_or_else(|| ex.heading_text());
    let (text, missing) = catalog.paragraphs(&ex.hint);
    println!("【提示】{heading}\n");
    println!("{text}");
    println!("\n任务在 {} 的“{heading}”一节。", ex.chapter);
    if !missing.is_empty() {
        eprintln!(
            "note: {} paragraph(s) of this hint are not in book/po/{lang}.po yet: shown in English",
            missing.len()
        );
    }
    Ok(())
}

// ---- reset ----

fn reset(course: &Course, ex: &Exercise) -> Result<ExitCode> {
    let done = course::reset::reset(course, ex)?;
    println!(
        "Reset {} {}: the starter code from git's `{}`.",
        ex.id,
        ex.plain_title(),
        done.git_ref
    );
    for (entry, changed) in &done.entries {
        if *changed {
            println!("  {entry}: put back");
        } else {
            println!("  {entry}: already the starter, unchanged");
        }
    }
    println!("Nothing else was changed.");
    let mut progress = Progress::load(&course.root)?;
    progress.forget(&ex.id);
    progress.save()?;
    Ok(ExitCode::SUCCESS)
}

// ---- student edition ----

fn student_edition(root: &Path, dir: &Path) -> Result<ExitCode> {
    let written = course::edition::write(root, dir)?;
    println!(
        "Wrote the student edition of the course to {}: {} files, without solutions/ and without \
         the solutions in the book.",
        written.dir.display(),
        written.files
    );
    println!(
        "It is a git repository of its own, with the tag `course-start`: `cargo course reset` reads the starters from it."
    );
    if !written.uncommitted.is_empty() {
        println!(
            "The copy has the course as its last commit has it. Not in it, because they are not \
             committed here: {}",
            written.uncommitted.join(", ")
        );
    }
    println!("Next:");
    println!("  cd {} && cargo course list", written.dir.display());
    println!("  mdbook build book    (the book, in book/build)");
    Ok(ExitCode::SUCCESS)
}

// ---- watch ----

enum Event {
    /// A file event in a watched folder.
    Files,
    /// A line typed on stdin.
    Line(String),
}

/// What the learner can type while `watch` waits.
const COMMANDS: &str = "Type h and Enter for the hint, l for the list, q to quit.";

const POLL: Duration = Duration::from_secs(1);

fn watch(course: &Course, poll_only: bool) -> Result<ExitCode> {
    let (tx, rx) = mpsc::channel();

    // stdin: one line, one command. At the end of stdin (a closed terminal, or no terminal at
    // all) watch goes on watching: only `q` or Ctrl-C ends it.
    let lines = tx.clone();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if lines.send(Event::Line(line)).is_err() {
                break;
            }
        }
    });

    // File events for the folders of every file an exercise edits. Editors often save by
    // writing a new file and renaming it, so the folder is watched, not the file.
    let mut how = if poll_only {
        "polling every 1 s, as --poll asks".to_string()
    } else {
        "file events; also polling every 1 s in case they do not arrive".to_string()
    };
    let _watcher = if poll_only {
        None
    } else {
        match start_watcher(course, tx) {
            Ok(w) => Some(w),
            Err(e) => {
                how = format!("polling every 1 s: file events are not available here ({e:#})");
                None
            }
        }
    };

    let terminal = std::io::stdout().is_terminal();
    loop {
        let progress = Progress::load(&course.root)?;
        let Some(ex) = course
            .exercises
            .iter()
            .find(|ex| !progress.status(course, ex).is_done())
        else {
            println!(
                "\nEvery exercise is done: {} of {}. Well done!",
                course.exercises.len(),
                course.exercises.len()
            );
            return Ok(ExitCode::SUCCESS);
        };
        if terminal {
            // Clear the screen and go to its top, so the latest check is all there is.
            print!("\x1b[2J\x1b[H");
        }
        // Taken before the check: a save during the check is a change after it.
        let before = snapshot(course, ex);
        if check_and_record(course, ex)? {
            let progress = Progress::load(&course.root)?;
            if let Some(next) = course
                .exercises
                .iter()
                .find(|e| !progress.status(course, e).is_done())
            {
                println!("\nOn to {} {}.\n", next.id, next.plain_title());
            }
            continue;
        }
        println!();
        println!(
            "watching {} ({how})",
            ex.edit
                .iter()
                .map(|e| e.file.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!("{COMMANDS}");
        loop {
            match rx.recv_timeout(POLL) {
                Ok(Event::Line(line)) => match line.trim() {
                    "h" => {
                        println!();
                        hint(ex);
                        println!("\n{COMMANDS}");
                    }
                    "l" => {
                        let progress = Progress::load(&course.root)?;
                        let statuses: Vec<(&Exercise, Status)> = course
                            .exercises
                            .iter()
                            .map(|e| (e, progress.status(course, e)))
                            .collect();
                        print_list(course, &statuses);
                        println!("\n{COMMANDS}");
                    }
                    "q" => return Ok(ExitCode::SUCCESS),
                    "" => {}
                    other => println!("`{other}` is not a command. {COMMANDS}"),
                },
                Ok(Event::Files) => {
                    // An editor's save is often several events: let them settle before the
                    // contents are compared below, so that one save is one check.
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // Neither stdin nor a watcher is left: polling still works.
                    std::thread::sleep(POLL);
                }
            }
            if snapshot(course, ex) != before {
                break;
            }
        }
    }
}

fn start_watcher(course: &Course, tx: mpsc::Sender<Event>) -> Result<notify::RecommendedWatcher> {
    use notify::Watcher;
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // Reading a file is an event too (watch's own polling reads them every second); only
        // what can change a file's contents matters.
        if let Ok(event) = event
            && !matches!(
                event.kind,
                notify::EventKind::Access(_) | notify::EventKind::Other
            )
        {
            let _ = tx.send(Event::Files);
        }
    })?;
    let mut dirs: Vec<PathBuf> = Vec::new();
    for ex in &course.exercises {
        for e in &ex.edit {
            if let Some(dir) = course.root.join(&e.file).parent()
                && !dirs.iter().any(|d| d == dir)
            {
                dirs.push(dir.to_path_buf());
            }
        }
    }
    if dirs.is_empty() {
        bail!("no file to watch");
    }
    for dir in &dirs {
        watcher.watch(dir, notify::RecursiveMode::NonRecursive)?;
    }
    Ok(watcher)
}

/// The contents of the files `ex` edits (None for a missing file).
fn snapshot(course: &Course, ex: &Exercise) -> Vec<Option<Vec<u8>>> {
    ex.edit
        .iter()
        .map(|e| std::fs::read(course.root.join(&e.file)).ok())
        .collect()
}
