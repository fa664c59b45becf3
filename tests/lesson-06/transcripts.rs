//! Every ```console block in chapter 6 is run again here, and its output must match.
//! `[..]` in a transcript stands for what changes from run to run (ports, read counts).

#[test]
fn chapter_transcripts() {
    // A chapter without transcripts would pass vacuously; it must have some.
    let chapter = include_str!("../../book/src/ch06-chunked-receive.md");
    assert!(
        chapter.contains("```console"),
        "chapter 6 has no transcript to check"
    );
    trycmd::TestCases::new()
        .register_bin("lesson-06", trycmd::cargo::cargo_bin!("lesson-06"))
        .case("../../book/src/ch06-chunked-receive.md");
}
