//! Every ```console block in chapter 9 is run again here, and its output must match. `[..]`
//! stands for what changes from run to run (ports, CPU figures, counts of reads).

#[test]
fn chapter_transcripts() {
    testkit::check_transcripts(
        "lesson-09",
        env!("CARGO_BIN_EXE_lesson-09"),
        "../../book/src/ch09-event-loop.md",
    );
}
