//! Every ```console block in chapter 2 is run again here, and its output must match.
//! `[..]` in a transcript stands for what changes from run to run (round-trip times).

#[test]
fn chapter_transcripts() {
    testkit::check_transcripts(
        "lesson-02",
        env!("CARGO_BIN_EXE_lesson-02"),
        "../../book/src/ch02-udp-vs-tcp.md",
    );
}
