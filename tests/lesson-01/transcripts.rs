//! Every ```console block in chapter 1 is run again here, and its output must match.
//! `[..]` in a transcript stands for what changes from run to run (ports, addresses).

#[test]
fn chapter_transcripts() {
    // A chapter without transcripts would pass vacuously; it must have some.
    let chapter = include_str!("../../book/src/ch01-echo.md");
    assert!(
        chapter.contains("```console"),
        "chapter 1 has no transcript to check"
    );
    trycmd::TestCases::new()
        .register_bin("lesson-01", trycmd::cargo::cargo_bin!("lesson-01"))
        .case("../../book/src/ch01-echo.md");
}
