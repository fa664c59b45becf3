//! mdBook renders a missing include as nothing and a missing anchor as an empty block, so a
//! chapter can silently lose its code. This test reads every chapter and fails on either.

use std::fs;
use std::path::{Path, PathBuf};

fn book_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../book/src")
}

fn chapters(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("book/src is readable") {
        let path = entry.unwrap().path();
        if path.is_dir() {
            chapters(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// Every `{{#include PATH[:SELECTOR]}}` (and `rustdoc_include`) in `text`.
fn includes(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    for directive in ["{{#include ", "{{#rustdoc_include "] {
        let mut rest = text;
        while let Some(start) = rest.find(directive) {
            let after = &rest[start + directive.len()..];
            let end = after
                .find("}}")
                .expect("an include directive is closed with }}");
            found.push(after[..end].trim());
            rest = &after[end..];
        }
    }
    found
}

/// The lines between `ANCHOR: name` and `ANCHOR_END: name`, or why there are none.
fn anchored(file: &str, name: &str) -> Result<Vec<String>, String> {
    let is = |line: &str, marker: &str| {
        line.split_once(marker)
            .is_some_and(|(_, rest)| rest.trim() == name)
    };
    let lines: Vec<&str> = file.lines().collect();
    let starts: Vec<usize> = (0..lines.len())
        .filter(|&i| is(lines[i], "ANCHOR:"))
        .collect();
    let ends: Vec<usize> = (0..lines.len())
        .filter(|&i| is(lines[i], "ANCHOR_END:"))
        .collect();
    match (starts.as_slice(), ends.as_slice()) {
        ([s], [e]) if s < e => Ok(lines[s + 1..*e]
            .iter()
            .filter(|l| !l.contains("ANCHOR"))
            .map(|l| l.to_string())
            .collect()),
        _ => Err(format!(
            "anchor `{name}`: {} starts, {} ends",
            starts.len(),
            ends.len()
        )),
    }
}

#[test]
fn every_include_resolves_to_a_non_empty_slice() {
    let mut files = Vec::new();
    chapters(&book_src(), &mut files);
    assert!(
        !files.is_empty(),
        "no chapters found under {:?}",
        book_src()
    );
    let mut problems = Vec::new();
    let mut checked = 0;
    for chapter in &files {
        let text = fs::read_to_string(chapter).unwrap();
        for target in includes(&text) {
            checked += 1;
            let (path, selector) = target.split_once(':').unwrap_or((target, ""));
            let full = chapter.parent().unwrap().join(path);
            let Ok(source) = fs::read_to_string(&full) else {
                problems.push(format!("{}: {target}: no such file", chapter.display()));
                continue;
            };
            if selector.starts_with(|c: char| c.is_ascii_digit()) || selector.starts_with(':') {
                problems.push(format!(
                    "{}: {target}: line ranges drift; use an anchor",
                    chapter.display()
                ));
                continue;
            }
            let body = if selector.is_empty() {
                Ok(source.lines().map(str::to_string).collect())
            } else {
                anchored(&source, selector)
            };
            match body {
                Ok(lines) if lines.iter().any(|l| !l.trim().is_empty()) => {}
                Ok(_) => problems.push(format!("{}: {target}: empty", chapter.display())),
                Err(why) => problems.push(format!("{}: {target}: {why}", chapter.display())),
            }
        }
    }
    assert!(checked > 0, "the book includes no code at all");
    assert!(
        problems.is_empty(),
        "{} of {checked} includes are broken:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_checker_sees_a_missing_anchor() {
    let file = "// ANCHOR: here\nfn f() {}\n// ANCHOR_END: here\n";
    assert!(
        anchored(file, "here")
            .unwrap()
            .iter()
            .any(|l| l.contains("fn f"))
    );
    assert!(anchored(file, "there").is_err());
    assert!(
        anchored("// ANCHOR: e\n// ANCHOR_END: e\n", "e")
            .unwrap()
            .is_empty()
    );
}
