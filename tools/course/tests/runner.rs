//! The runner's own behaviour, against the small course of `common` (a fresh copy per test).

mod common;

use std::process::Stdio;

use common::{ADD_SOLVED, EXERCISES_RS, Fixture, GREET_SOLVED, Watch};

fn json(run: &common::Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", run.all()))
}

fn status_of(report: &serde_json::Value, id: &str) -> String {
    report["exercises"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == id)
        .unwrap_or_else(|| panic!("no {id} in {report}"))["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn list_shows_pending_then_done_then_changed() {
    let f = Fixture::new();
    let run = f.course(&["list"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("1. Demo"), "{}", run.all());
    assert!(run.stdout.contains("1.1   add"), "{}", run.all());
    assert!(
        run.stdout.contains("0 of 3 done (core: 0 of 1)"),
        "{}",
        run.all()
    );

    f.set_region(EXERCISES_RS, "add", ADD_SOLVED);
    let run = f.course(&["check", "1.1"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let run = f.course(&["list"]);
    assert!(
        run.stdout.contains("1 of 3 done (core: 1 of 1)"),
        "{}",
        run.all()
    );
    assert!(run.stdout.contains("✓ 1.1"), "{}", run.all());

    // The JSON report: every exercise, its fields, the counts; the title without backticks.
    let report = json(&f.course(&["list", "--json"]));
    assert_eq!(report["done"], 1);
    assert_eq!(report["total"], 3);
    let first = &report["exercises"][0];
    assert_eq!(first["id"], "1.1");
    assert_eq!(first["title"], "add");
    assert_eq!(first["level"], "core");
    assert_eq!(first["socket"], false);
    assert_eq!(first["chapter"], 1);
    assert_eq!(first["status"], "done");
    assert_eq!(status_of(&report, "1.2"), "pending");

    // Another exercise's region changes: 1.1 is still done.
    f.set_region(EXERCISES_RS, "greet", GREET_SOLVED);
    assert_eq!(
        status_of(&json(&f.course(&["list", "--json"])), "1.1"),
        "done"
    );

    // 1.1's own code changes after it passed: pending, and said so.
    f.set_region(EXERCISES_RS, "add", &format!("// tidied\n{ADD_SOLVED}"));
    let run = f.course(&["list"]);
    assert!(
        run.stdout.contains("pending (changed since it passed)"),
        "{}",
        run.all()
    );
    assert!(run.stdout.contains("0 of 3 done"), "{}", run.all());
    let report = json(&f.course(&["list", "--json"]));
    assert_eq!(status_of(&report, "1.1"), "pending");
    assert_eq!(report["exercises"][0]["changed_since_it_passed"], true);
}

#[test]
fn list_verify_checks_everything_again() {
    let f = Fixture::new();
    f.set_region(EXERCISES_RS, "add", ADD_SOLVED);
    f.set_region(EXERCISES_RS, "greet", GREET_SOLVED);
    // Solved, never checked: pending until --verify runs the checks.
    assert_eq!(json(&f.course(&["list", "--json"]))["done"], 0);
    let run = f.course(&["list", "--json", "--verify"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    let report = json(&run);
    assert_eq!(status_of(&report, "1.1"), "done");
    assert_eq!(status_of(&report, "1.2"), "done");
    // 1.3 has no checks: never done.
    assert_eq!(status_of(&report, "1.3"), "pending");
    assert_eq!(report["done"], 2);
}

#[test]
fn a_failing_check_reads_as_sentences_without_backtraces() {
    let f = Fixture::new();
    let mut cmd = f.course_cmd(&["check", "1.1"]);
    // Whatever the learner's shell sets, no backtrace reaches them.
    cmd.env("RUST_BACKTRACE", "1")
        .env("RUST_LIB_BACKTRACE", "1");
    let run = common::run_bounded(cmd);
    assert_eq!(run.code, Some(1), "{}", run.all());
    let out = &run.stdout;
    assert!(out.contains("  ✗ adds two and three"), "{}", run.all());
    assert!(out.contains("add(2, 3) should be 5"), "{}", run.all());
    assert!(
        out.contains("✗ 1.1 is not done yet: 2 of 2 checks fail."),
        "{}",
        run.all()
    );
    assert!(out.contains("cargo course hint 1.1"), "{}", run.all());
    for noise in [
        "stack backtrace",
        "panicked at",
        "RUST_BACKTRACE",
        "ex1_1::",
        "Compiling",
        "passed",
    ] {
        assert!(!out.contains(noise), "{noise:?} in:\n{}", run.all());
    }

    // `todo!("…")` reads as "not written yet".
    let run = f.course(&["check", "1.2"]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(
        run.stdout.contains("not written yet: greet Ada by name"),
        "{}",
        run.all()
    );
}

#[test]
fn a_passing_check_shows_the_solution_and_is_recorded() {
    let f = Fixture::new();
    f.set_region(EXERCISES_RS, "add", ADD_SOLVED);
    let run = f.course(&["check", "1.1"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout.contains("  ✓ adds two and three"),
        "{}",
        run.all()
    );
    assert!(
        run.stdout.contains("✓ 1.1 passed (2 checks)."),
        "{}",
        run.all()
    );
    assert!(
        run.stdout
            .contains("solutions/solution-01-demo/src/lib.rs (anchor `add`)"),
        "{}",
        run.all()
    );
    assert!(
        run.stdout.contains("under \"Exercise 1.1: add\""),
        "{}",
        run.all()
    );
    let progress = f.read(".course/progress.toml");
    assert!(progress.contains("\"1.1\""), "{progress}");
}

#[test]
fn code_that_does_not_compile_shows_the_compiler_s_errors() {
    let f = Fixture::new();
    f.set_region(
        EXERCISES_RS,
        "add",
        "pub fn add(a: u32, b: u32) -> u32 {\n    \"a + b\"\n}\n",
    );
    let run = f.course(&["check", "1.1"]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.stdout.contains("does not compile"), "{}", run.all());
    assert!(run.stdout.contains("error[E0308]"), "{}", run.all());
    assert!(run.stdout.contains("exercises.rs"), "{}", run.all());
    assert!(!run.stdout.contains("Compiling"), "{}", run.all());
}

#[test]
fn an_exercise_without_checks_is_an_error_not_a_pass() {
    let f = Fixture::new();
    let run = f.course(&["check", "1.3"]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.stdout.contains("no check ran"), "{}", run.all());
    assert!(run.stdout.contains("`ex1_3`"), "{}", run.all());
    assert!(!run.stdout.contains("passed"), "{}", run.all());
}

#[test]
fn an_unknown_id_lists_the_valid_ones() {
    let f = Fixture::new();
    for command in ["check", "hint", "reset"] {
        let run = f.course(&[command, "9.9"]);
        assert_eq!(run.code, Some(1), "{}", run.all());
        assert!(
            run.stderr
                .contains("there is no exercise 9.9. The exercises are: 1.1, 1.2, 1.3"),
            "{}",
            run.all()
        );
    }
}

#[test]
fn hint_prints_the_hint_and_where_the_task_is() {
    let f = Fixture::new();
    let run = f.course(&["hint", "1.1"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout.contains("Use the `+` operator."),
        "{}",
        run.all()
    );
    assert!(
        run.stdout
            .contains("book/src/ch01-demo.md, under \"Exercise 1.1: add\""),
        "{}",
        run.all()
    );
}

#[test]
fn hint_in_chinese_comes_from_the_book_s_catalog() {
    let f = Fixture::new();
    std::fs::create_dir_all(f.path("book/po")).unwrap();
    f.write(
        "book/po/zh-CN.po",
        "msgid \"\"\nmsgstr \"\"\n\"Language: zh_CN\\n\"\n\n\
         msgid \"Exercise 1.1: `add`\"\nmsgstr \"练习 1.1：`add`\"\n\n\
         msgid \"Use the `+` operator.\"\nmsgstr \"用 `+` 运算符。\"\n",
    );
    let run = f.course(&["hint", "1.1", "--lang", "zh-CN"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("用 `+` 运算符。"), "{}", run.all());
    assert!(!run.stdout.contains("Use the"), "{}", run.all());
    assert!(
        run.stdout
            .contains("book/src/ch01-demo.md 的“练习 1.1：add”"),
        "{}",
        run.all()
    );

    // The locale decides when there is no flag; --lang en wins over it.
    let mut cmd = f.course_cmd(&["hint", "1.1"]);
    cmd.env_remove("COURSE_LANG").env("LC_ALL", "zh_CN.UTF-8");
    let run = common::run_bounded(cmd);
    assert!(run.stdout.contains("用 `+` 运算符。"), "{}", run.all());
    let mut cmd = f.course_cmd(&["hint", "1.1", "--lang", "en"]);
    cmd.env("COURSE_LANG", "zh-CN");
    let run = common::run_bounded(cmd);
    assert!(
        run.stdout.contains("Use the `+` operator."),
        "{}",
        run.all()
    );

    // A hint the catalog does not have yet is shown in English, and the runner says so.
    let run = f.course(&["hint", "1.2", "--lang", "zh-CN"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(
        run.stdout.contains("`format!` builds a `String`."),
        "{}",
        run.all()
    );
    assert!(
        run.stderr.contains("not in book/po/zh-CN.po yet"),
        "{}",
        run.all()
    );
}

#[test]
fn reset_restores_one_region_and_leaves_the_rest_byte_for_byte() {
    let f = Fixture::new();
    let starter = f.read(EXERCISES_RS);
    f.set_region(EXERCISES_RS, "add", ADD_SOLVED);
    f.set_region(EXERCISES_RS, "greet", GREET_SOLVED);
    // Also a change outside every region, which reset must keep.
    let edited = format!("{}// my notes\n", f.read(EXERCISES_RS));
    f.write(EXERCISES_RS, &edited);
    assert_eq!(f.course(&["check", "1.1"]).code, Some(0));

    let run = f.course(&["reset", "1.1"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("git's `HEAD`"), "{}", run.all());
    assert!(
        run.stdout
            .contains("lessons/lesson-01-demo/src/exercises.rs (anchor `add`): put back"),
        "{}",
        run.all()
    );
    // 1.1's region is the starter's again…
    let starter_add = &starter[course::anchor::region(&starter, "add").unwrap()];
    assert_eq!(f.region(EXERCISES_RS, "add"), starter_add);
    // …and everything else is as the learner left it: the file is the edited one with only
    // that region swapped.
    let mut expected = edited.clone();
    expected.replace_range(course::anchor::region(&edited, "add").unwrap(), starter_add);
    assert_eq!(f.read(EXERCISES_RS), expected);
    assert_eq!(f.region(EXERCISES_RS, "greet"), GREET_SOLVED);
    // Its record is gone.
    assert!(!f.read(".course/progress.toml").contains("\"1.1\""));

    // A whole-file exercise comes back whole.
    f.write("lessons/lesson-01-demo/src/extra.rs", "changed\n");
    assert_eq!(f.course(&["reset", "1.3"]).code, Some(0));
    assert_eq!(
        f.read("lessons/lesson-01-demo/src/extra.rs"),
        "//! Exercise 1.3: a whole file, and no checks.\n"
    );
}

#[test]
fn reset_without_git_or_anchors_changes_nothing() {
    let f = Fixture::new();
    // The learner removed 1.1's anchor lines: reset cannot tell the region, and says so.
    let text = f.read(EXERCISES_RS).replace("// ANCHOR_END: add\n", "");
    f.write(EXERCISES_RS, &text);
    let run = f.course(&["reset", "1.1"]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.stderr.contains("ANCHOR_END: add"), "{}", run.all());
    assert_eq!(f.read(EXERCISES_RS), text);

    // No git at all.
    std::fs::remove_dir_all(f.path(".git")).unwrap();
    f.set_region(EXERCISES_RS, "greet", GREET_SOLVED);
    let before = f.read(EXERCISES_RS);
    let run = f.course(&["reset", "1.2"]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.stderr.contains("not a git checkout"), "{}", run.all());
    assert_eq!(f.read(EXERCISES_RS), before);
}

#[test]
fn watch_checks_on_every_save_and_moves_on() {
    let f = Fixture::new();
    // stdin at its end from the start: watch must go on all the same.
    let mut watch = Watch::start(f.course_cmd(&["watch", "--poll"]), Stdio::null());
    watch.wait_for("✗ 1.1 is not done yet");
    watch.wait_for("(polling every 1 s, as --poll asks)");
    f.set_region(EXERCISES_RS, "add", ADD_SOLVED);
    watch.wait_for("✓ 1.1 passed");
    watch.wait_for("Checking 1.2 greet");
    watch.wait_for("not written yet: greet Ada by name");
    watch.wait_for("watching lessons/lesson-01-demo/src/exercises.rs");
    f.set_region(EXERCISES_RS, "greet", GREET_SOLVED);
    watch.wait_for("✓ 1.2 passed");
    watch.wait_for("Checking 1.3");
    watch.wait_for("no check ran");
    // No screen clearing when stdout is not a terminal.
    assert!(!watch.output().contains("\x1b[2J"), "{}", watch.output());
    let progress = f.read(".course/progress.toml");
    assert!(
        progress.contains("\"1.1\"") && progress.contains("\"1.2\""),
        "{progress}"
    );
    assert!(watch.child.0.try_wait().unwrap().is_none(), "watch ended");
}

#[test]
fn watch_takes_commands_and_uses_file_events() {
    let f = Fixture::new();
    let mut watch = Watch::start(f.course_cmd(&["watch"]), Stdio::piped());
    watch.wait_for("✗ 1.1 is not done yet");
    watch.wait_for("(file events; also polling every 1 s in case they do not arrive)");
    watch.send("h");
    watch.wait_for("Use the `+` operator.");
    watch.send("l");
    watch.wait_for("0 of 3 done (core: 0 of 1)");
    watch.send("q");
    let deadline = std::time::Instant::now() + common::TIMEOUT;
    let status = loop {
        if let Some(status) = watch.child.0.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "q did not end watch");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success());
}

#[test]
fn watch_says_when_everything_is_done() {
    let f = Fixture::new();
    // Without 1.3 (it has no checks), solving 1.1 and 1.2 finishes the course.
    let toml = f.read("lessons/lesson-01-demo/exercises.toml");
    let cut = toml.find("[[exercise]]\nid = \"1.3\"").unwrap();
    f.write("lessons/lesson-01-demo/exercises.toml", &toml[..cut]);
    f.set_region(EXERCISES_RS, "add", ADD_SOLVED);
    f.set_region(EXERCISES_RS, "greet", GREET_SOLVED);
    let run = f.course(&["watch", "--poll"]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("✓ 1.1 passed"), "{}", run.all());
    assert!(run.stdout.contains("✓ 1.2 passed"), "{}", run.all());
    assert!(
        run.stdout.contains("Every exercise is done"),
        "{}",
        run.all()
    );
}

#[test]
fn the_student_edition_has_no_solutions_and_starts_pending() {
    let f = Fixture::new();
    // The learner's progress here must not travel.
    f.set_region(EXERCISES_RS, "add", ADD_SOLVED);
    assert_eq!(f.course(&["check", "1.1"]).code, Some(0));
    let edition_parent = tempfile::tempdir().unwrap();
    let edition = edition_parent.path().join("edition");
    let run = f.course(&["student-edition", edition.to_str().unwrap()]);
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("cargo course list"), "{}", run.all());

    assert!(!edition.join("solutions").exists());
    assert!(
        !edition
            .join("tests/lesson-01/exercises/solution.rs")
            .exists()
    );
    assert!(
        edition
            .join("tests/lesson-01/exercises/starter.rs")
            .exists()
    );
    assert!(!edition.join(".course").exists());
    let book = std::fs::read_to_string(edition.join("book/book.toml")).unwrap();
    assert!(book.contains("student-edition = true"), "{book}");
    let manifest = std::fs::read_to_string(edition.join("Cargo.toml")).unwrap();
    assert!(!manifest.contains("solutions"), "{manifest}");
    let tags = common::git(&edition, &["tag", "--list"]);
    assert_eq!(String::from_utf8_lossy(&tags.stdout).trim(), "course-start");
    // The copy is the last commit, not the working files: 1.1, solved here but not committed,
    // is the starter there, and the runner said what it left out.
    assert!(
        run.stdout.contains("not committed here") && run.stdout.contains(EXERCISES_RS),
        "{}",
        run.all()
    );
    let copied = std::fs::read_to_string(edition.join(EXERCISES_RS)).unwrap();
    assert!(!copied.contains(ADD_SOLVED.trim()), "{copied}");
    let status = common::git(&edition, &["status", "--porcelain"]);
    assert!(
        status.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );

    // …yet every exercise is pending there: progress is per copy.
    let report = json(&common::run_bounded(common::course_in(
        &edition,
        &["list", "--json"],
    )));
    assert_eq!(report["done"], 0);
    assert_eq!(report["total"], 3);

    // reset works there, from the tag.
    let run = common::run_bounded(common::course_in(&edition, &["reset", "1.2"]));
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("git's `course-start`"), "{}", run.all());

    // A pass there says the solution is not in this edition.
    std::fs::copy(f.path(EXERCISES_RS), edition.join(EXERCISES_RS)).unwrap();
    let run = common::run_bounded(common::course_in(&edition, &["check", "1.1"]));
    assert_eq!(run.code, Some(0), "{}", run.all());
    assert!(run.stdout.contains("not in this edition"), "{}", run.all());
    assert!(!run.stdout.contains("solutions/"), "{}", run.all());

    // A folder inside the course is refused.
    let run = f.course(&["student-edition", "student"]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.stderr.contains("inside the course"), "{}", run.all());
    assert!(!f.path("student").exists());

    // A folder that is not empty is refused.
    let run = f.course(&["student-edition", edition.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.all());
    assert!(run.stderr.contains("not empty"), "{}", run.all());
}
