//! The book's preprocessor (`mdbook-course`), fed mdBook's JSON as mdBook 0.5 sends it, and (where
//! mdbook is installed) through a real `mdbook build`.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{CHAPTER, Fixture};
use serde_json::{Value, json};

/// Runs the preprocessor on one chapter (`ch01-demo.md`) of the fixture's book.
fn preprocess(f: &Fixture, content: &str, student_edition: bool) -> (Option<i32>, String, String) {
    let mut course_table = json!({ "command": "mdbook-course" });
    if student_edition {
        course_table["student-edition"] = json!(true);
    }
    let input = json!([
        {
            "root": f.path("book"),
            "config": {
                "book": { "title": "Demo", "src": "src" },
                "preprocessor": { "course": course_table }
            },
            "renderer": "html",
            "mdbook_version": "0.5.4"
        },
        {
            "items": [
                {
                    "Chapter": {
                        "name": "Demo",
                        "content": content,
                        "number": [1],
                        "sub_items": [],
                        "path": "ch01-demo.md",
                        "source_path": "ch01-demo.md",
                        "parent_names": []
                    }
                },
                "Separator",
                { "PartTitle": "More" }
            ]
        }
    ]);
    let mut child = common::ChildGuard(
        Command::new(env!("CARGO_BIN_EXE_mdbook-course"))
            .current_dir(f.path("book"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    child
        .0
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let stdout = child.0.stdout.take().unwrap();
    let stderr = child.0.stderr.take().unwrap();
    let err = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap());
    let out = std::io::read_to_string(stdout).unwrap();
    let status = child.0.wait().unwrap();
    (status.code(), out, err.join().unwrap())
}

fn content_of(book: &str) -> String {
    let book: Value = serde_json::from_str(book).expect("the preprocessor prints the book as JSON");
    assert_eq!(book["items"][1], "Separator", "other items pass through");
    assert_eq!(book["items"][2]["PartTitle"], "More");
    book["items"][0]["Chapter"]["content"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn supports_every_renderer() {
    let status = Command::new(env!("CARGO_BIN_EXE_mdbook-course"))
        .args(["supports", "html"])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn directives_expand_from_exercises_toml() {
    let f = Fixture::new();
    let (code, out, err) = preprocess(&f, CHAPTER, false);
    assert_eq!(code, Some(0), "{err}");
    let content = content_of(&out);
    assert!(
        content.contains(
            "> **Exercises:** 1.1 `add` (core) · 1.2 `greet` (stretch) · 1.3 a file without checks (stretch)\n"
        ),
        "{content}"
    );
    // Every heading gets the id mdBook would give it, written out (the zh-CN edition keeps it).
    assert!(
        content.contains("\n### Exercise 1.1: `add` {#exercise-11-add}\n"),
        "{content}"
    );
    // `time` reads the chapter's header, continuation lines joined.
    assert!(
        content.contains("It takes about 10 min reading, 20 min exercises, by its own header."),
        "{content}"
    );
    // In a blockquote, every line keeps the prefix.
    assert!(
        content.contains(
            "> <details><summary>Hint</summary>\n>\n> Use the `+` operator.\n>\n> </details>\n"
        ),
        "{content}"
    );
    assert!(
        content.contains("```sh\ncargo course check 1.1\n```\n"),
        "{content}"
    );
    assert!(
        content.contains(
            "The solution, with why each step is there, is in `solutions/solution-01-demo/src/lib.rs`.\n\n\
             <details><summary>Solution</summary>\n\n\
             ```rust\n{{#include ../../solutions/solution-01-demo/src/lib.rs:add}}\n```\n\n</details>\n"
        ),
        "{content}"
    );
    // Without an anchor, the whole file.
    assert!(
        content.contains("{{#include ../../solutions/solution-01-demo/src/lib.rs}}"),
        "{content}"
    );
    // A directive in a code block is left alone.
    assert!(
        content.contains("```markdown\n{{#course hint 9.9}} is left alone in a code block.\n```"),
        "{content}"
    );
}

#[test]
fn the_student_edition_leaves_the_solutions_out() {
    let f = Fixture::new();
    let (code, out, err) = preprocess(&f, CHAPTER, true);
    assert_eq!(code, Some(0), "{err}");
    let content = content_of(&out);
    assert!(!content.contains("solutions/"), "{content}");
    assert!(
        !content.contains("<summary>Solution</summary>"),
        "{content}"
    );
    assert!(
        content.contains(
            "The worked solution to exercise 1.1 is not in this edition of the course: ask your teacher."
        ),
        "{content}"
    );
    // The rest is as in the full edition.
    assert!(content.contains("### Exercise 1.1: `add`"), "{content}");
}

#[test]
fn an_unknown_id_fails_the_build() {
    let f = Fixture::new();
    let chapter = format!("{CHAPTER}\n{{{{#course hint 9.9}}}}\n");
    let (code, _, err) = preprocess(&f, &chapter, false);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("book/src/ch01-demo.md:"), "{err}");
    assert!(err.contains("there is no exercise 9.9"), "{err}");

    let chapter = format!("{CHAPTER}\n{{{{#course explain 1.1}}}}\n");
    let (code, _, err) = preprocess(&f, &chapter, false);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("unknown directive `explain`"), "{err}");
}

#[test]
fn an_exercise_without_its_heading_fails_the_build() {
    let f = Fixture::new();
    let chapter = CHAPTER.replace("{{#course heading 1.2}}\n", "");
    let (code, _, err) = preprocess(&f, &chapter, false);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("book/src/ch01-demo.md"), "{err}");
    assert!(err.contains("exercise 1.2"), "{err}");
    assert!(err.contains("{{#course heading 1.2}}"), "{err}");
}

/// mdBook's own `links` preprocessor runs after this one and expands the `{{#include}}`s it
/// writes: the built page shows the solution's code.
#[test]
fn a_real_mdbook_build_includes_the_solutions() {
    if Command::new("mdbook").arg("--version").output().is_err() {
        eprintln!("skipped: mdbook is not installed");
        return;
    }
    let f = Fixture::new();
    let out = Command::new("mdbook")
        .current_dir(f.path("book"))
        .arg("build")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = std::fs::read_to_string(f.path("book/book/ch01-demo.html")).unwrap();
    assert!(page.contains("Exercise 1.1: <code>add</code>"), "{page}");
    assert!(page.contains("a + b"), "{page}");
    assert!(page.contains("<summary>Solution</summary>"), "{page}");
    assert!(!page.contains("{{#include"), "{page}");
    // Only the directive in the code block is left as it was.
    assert_eq!(page.matches("{{#course").count(), 1, "{page}");
}
