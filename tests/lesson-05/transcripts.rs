//! Every ```console block in chapter 5 is run again here, and its output must match.
//! `[..]` in a transcript stands for what changes from run to run (ports, addresses, and how
//! many bytes one read happened to return).

#[test]
fn chapter_transcripts() {
    // A chapter without transcripts would pass vacuously; it must have some.
    let chapter = include_str!("../../book/src/ch05-length-prefix.md");
    assert!(
        chapter.contains("```console"),
        "chapter 5 has no transcript to check"
    );
    trycmd::TestCases::new()
        .register_bin("lesson-05", trycmd::cargo::cargo_bin!("lesson-05"))
        .case("../../book/src/ch05-length-prefix.md");
}
