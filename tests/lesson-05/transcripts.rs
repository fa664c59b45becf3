//! Every ```console block in chapter 5 is run again here, and its output must match.
//! `[..]` in a transcript stands for what changes from run to run (ports, addresses, and how
//! many bytes one read happened to return).

#[test]
fn chapter_transcripts() {
    testkit::check_transcripts(
        "lesson-05",
        env!("CARGO_BIN_EXE_lesson-05"),
        "../../book/src/ch05-length-prefix.md",
    );
}
