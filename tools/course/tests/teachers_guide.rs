//! The teacher's guide's class table (`<!-- check: class-table -->`) is what
//! `tools/class-table.py` prints for the reports in `tests/book/class-reports/`, and those reports
//! have the fields that `cargo course list --json` prints today.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn reports() -> Vec<PathBuf> {
    let mut reports: Vec<PathBuf> = std::fs::read_dir(root().join("tests/book/class-reports"))
        .expect("tests/book/class-reports")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    reports.sort();
    assert!(reports.len() >= 2, "the guide's example needs a class");
    reports
}

#[test]
fn the_guide_shows_what_the_script_prints_for_the_reports() {
    if !testkit::have_tool("python3", "--version") {
        return;
    }
    let output = Command::new("python3")
        .arg(root().join("tools/class-table.py"))
        .args(reports())
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let page = root().join("book/src/teachers-guide.md");
    let expected = testkit::book_block(page.to_str().unwrap(), "class-table");
    testkit::assert_text_matches(&expected, &String::from_utf8_lossy(&output.stdout));
}

/// The field names of a report: its own, and its exercises'.
fn fields(report: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let own = report.as_object().unwrap().keys().cloned().collect();
    let exercise = report["exercises"][0]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    (own, exercise)
}

#[test]
fn the_example_reports_have_todays_fields() {
    let out = Command::new(env!("CARGO_BIN_EXE_course"))
        .args(["list", "--json"])
        .current_dir(root())
        .output()
        .expect("the runner runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let today: Value = serde_json::from_slice(&out.stdout).expect("list --json prints JSON");
    for report in reports() {
        let example: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", report.display()));
        assert_eq!(
            fields(&example),
            fields(&today),
            "{} does not have the fields `cargo course list --json` prints today: make the \
             guide's example reports again",
            report.display()
        );
    }
}
