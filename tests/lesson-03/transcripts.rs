//! Every ```console block in chapter 3 is run again here, and its output must match.
//! `[..]` in a transcript stands for what changes from run to run (ports, addresses).

#[test]
fn chapter_transcripts() {
    trycmd::TestCases::new()
        .register_bin("lesson-03", trycmd::cargo::cargo_bin!("lesson-03"))
        .case("../../book/src/ch03-remote-shell.md");
}
