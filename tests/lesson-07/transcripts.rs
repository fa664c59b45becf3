//! Every ```console block in chapter 7 is run again here, and its output must match.

#[test]
fn chapter_transcripts() {
    testkit::check_transcripts(
        "lesson-07",
        env!("CARGO_BIN_EXE_lesson-07"),
        "../../book/src/ch07-file-service.md",
    );
}
