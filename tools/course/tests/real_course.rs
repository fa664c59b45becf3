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
