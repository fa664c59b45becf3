//! Every ```console block in chapter 3 is run again here, and its output must match.
//! `[..]` in a transcript stands for what changes from run to run (ports, addresses).

#[test]
fn chapter_transcripts() {
    testkit::check_transcripts(
        "lesson-03",
        env!("CARGO_BIN_EXE_lesson-03"),
        "../../book/src/ch03-remote-shell.md",
    );
}
