//! Every ```console block in chapter 10 is run again here, and its output must match.
//! `[..]` in a transcript stands for what changes from run to run (ports).

#[test]
fn chapter_transcripts() {
    testkit::check_transcripts(
        "lesson-10",
        env!("CARGO_BIN_EXE_lesson-10"),
        "../../book/src/ch10-async.md",
    );
}
