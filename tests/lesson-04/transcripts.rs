//! Every ```console block in chapter 4 is run again here, and its output must match.
//! `[..]` in a transcript stands for what changes from run to run (ports, addresses).

#[test]
fn chapter_transcripts() {
    testkit::check_transcripts(
        "lesson-04",
        env!("CARGO_BIN_EXE_lesson-04"),
        "../../book/src/ch04-sticky-packets.md",
    );
}
