//! The course's own exercises (lessons/*/exercises.toml) load and are valid: ids unique and
//! matching their lesson, levels known, every `edit` and `solution` file and anchor present.

use std::path::Path;

#[test]
fn the_course_s_exercises_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = course::workspace_root(&root).expect("the workspace");
    let course = course::Course::load(&root).unwrap_or_else(|e| panic!("{e:#}"));
    assert!(
        !course.exercises.is_empty(),
        "no lessons/*/exercises.toml lists an exercise"
    );
    for ex in &course.exercises {
        assert_eq!(
            ex.id,
            format!("{}.{}", ex.chapter_number, ex.number),
            "{}",
            ex.source
        );
        assert!(!ex.plain_title().contains('`'));
    }
}

/// `cargo course hint 5.1 --lang zh-CN` reads the book's zh-CN catalog: every exercise's heading
/// and every paragraph of its hint must have a (non-fuzzy) translation there. CI's i18n gate
/// holds the whole catalog complete; this says which hint is missing, in the runner's terms.
#[test]
fn every_hint_and_heading_has_its_chinese_in_the_catalog() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = course::workspace_root(&root).expect("the workspace");
    let course = course::Course::load(&root).unwrap_or_else(|e| panic!("{e:#}"));
    let catalog = course::i18n::Catalog::load(&root, "zh-CN").unwrap_or_else(|e| panic!("{e:#}"));
    let mut missing = Vec::new();
    for ex in &course.exercises {
        let heading = ex.heading();
        if catalog.get(&heading).is_none() {
            missing.push(format!("{}: the heading {heading:?}", ex.id));
        }
        for paragraph in catalog.paragraphs(&ex.hint).1 {
            missing.push(format!("{}: the hint's paragraph {paragraph:?}", ex.id));
        }
    }
    assert!(
        missing.is_empty(),
        "not translated in book/po/zh-CN.po (run python3 tools/i18n.py update, then translate; \
         mdbook-xgettext writes emphasis as _word_, so a hint must too):\n{}",
        missing.join("\n")
    );
}
