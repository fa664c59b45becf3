//! Every ```console block in chapter 7 is run again here, and its output must match.

#[test]
fn chapter_transcripts() {
    // A chapter without transcripts would pass vacuously; it must have some.
    let chapter = include_str!("../../book/src/ch07-file-service.md");
    assert!(
        chapter.contains("```console"),
        "chapter 7 has no transcript to check"
    );
    trycmd::TestCases::new()
        .register_bin("lesson-07", trycmd::cargo::cargo_bin!("lesson-07"))
        .case("../../book/src/ch07-file-service.md");
}
