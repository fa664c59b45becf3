//! Every ```console block in the network lab's appendix is run again here, and its output must match.

#[test]
fn appendix_transcripts() {
    let page = "../../book/src/appendix-network-lab.md";
    let text = std::fs::read_to_string(page).expect("the appendix exists");
    assert!(
        text.contains("```console"),
        "the appendix should show the lab running"
    );
    trycmd::TestCases::new()
        .register_bin("netlab", trycmd::cargo::cargo_bin!("netlab"))
        .case(page);
}
