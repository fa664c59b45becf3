//! Every ```console block in chapter 8 is run again here, and its output must match.
//! `[..]` in a transcript stands for what changes from run to run (ports).

#[test]
fn chapter_transcripts() {
    testkit::check_transcripts(
        "lesson-08",
        env!("CARGO_BIN_EXE_lesson-08"),
        "../../book/src/ch08-threads.md",
    );
}
