//! Every ```console block in chapter 1 is run again here, and its output must match.
//! `[..]` in a transcript stands for what changes from run to run (ports, addresses).

#[test]
fn chapter_transcripts() {
    testkit::check_transcripts(
        "lesson-01",
        env!("CARGO_BIN_EXE_lesson-01"),
        "../../book/src/ch01-echo.md",
    );
}
