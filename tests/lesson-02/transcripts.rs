//! Every ```console block in chapter 2 is run again here, and its output must match.
//! `[..]` in a transcript stands for what changes from run to run (round-trip times).

#[test]
fn chapter_transcripts() {
    trycmd::TestCases::new()
        .register_bin("lesson-02", trycmd::cargo::cargo_bin!("lesson-02"))
        .case("../../book/src/ch02-udp-vs-tcp.md");
}
