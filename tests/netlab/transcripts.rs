//! Every ```console block in the network lab's appendix is run again here, and its output must match.

#[test]
fn appendix_transcripts() {
    testkit::check_transcripts(
        "netlab",
        env!("CARGO_BIN_EXE_netlab"),
        "../../book/src/appendix-network-lab.md",
    );
}
