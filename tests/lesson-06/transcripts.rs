//! Every ```console block in chapter 6 is run again here, and its output must match.
//! `[..]` in a transcript stands for what changes from run to run (ports, read counts).

#[test]
fn chapter_transcripts() {
    testkit::check_transcripts(
        "lesson-06",
        env!("CARGO_BIN_EXE_lesson-06"),
        "../../book/src/ch06-chunked-receive.md",
    );
}
