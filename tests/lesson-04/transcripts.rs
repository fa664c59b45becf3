//! Every ```console block in chapter 4 is run again here, and its output must match.
//! `[..]` in a transcript stands for what changes from run to run (ports, addresses).

#[test]
fn chapter_transcripts() {
    // A chapter without transcripts would pass vacuously; it must have some.
    let chapter = include_str!("../../book/src/ch04-sticky-packets.md");
    assert!(
        chapter.contains("```console"),
        "chapter 4 has no transcript to check"
    );
    trycmd::TestCases::new()
        .register_bin("lesson-04", trycmd::cargo::cargo_bin!("lesson-04"))
        .case("../../book/src/ch04-sticky-packets.md");
}
