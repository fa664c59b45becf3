//! The zh-CN catalog's style lint (`python3 tools/i18n.py lint`, part of CI's i18n gate) finds
//! each kind of problem it promises, and passes a clean entry. The rest of the gate (msgcmp
//! against a POT extracted from the book) needs mdbook-xgettext, so `.ci/run`'s i18n step runs it.

use std::path::Path;

const HEADER: &str = "msgid \"\"\nmsgstr \"\"\n\"Content-Type: text/plain; charset=UTF-8\\n\"\n\"Language: zh_CN\\n\"\n\n";

/// Runs the lint on a catalog holding `entries` (English, Chinese); returns (exit code, output).
fn lint(entries: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let po = dir.path().join("lint.po");
    let quote = |s: &str| {
        format!(
            "\"{}\"",
            s.replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n")
        )
    };
    let mut text = HEADER.to_string();
    for (english, chinese) in entries {
        text.push_str(&format!(
            "#: src/test.md:1\nmsgid {}\nmsgstr {}\n\n",
            quote(english),
            quote(chinese)
        ));
    }
    std::fs::write(&po, text).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/i18n.py");
    // testkit::client: killed if it runs longer than testkit's TIMEOUT.
    let out = testkit::client("python3")
        .arg(script)
        .arg("lint")
        .arg(&po)
        .output()
        .expect("python3 runs");
    let all =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), all)
}

#[test]
fn a_clean_translation_passes() {
    if !testkit::have_tool("python3", "--version") {
        return;
    }
    let (code, out) = lint(&[
        (
            "A read returns at most `n` bytes: see [chapter 4](ch04.md#x).",
            "一次读取最多返回 `n` 个字节：见[第 4 章](ch04.md#x)。",
        ),
        (
            "    // The connection loop: one client after another.\n",
            "    // 连接循环：一个客户端接着一个客户端。\n",
        ),
        ("**Time:** 40 min", "**时间**：40 分钟"),
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("0 problems"), "{out}");
}

#[test]
fn each_kind_of_problem_is_reported() {
    if !testkit::have_tool("python3", "--version") {
        return;
    }
    let cases: &[(&str, &str, &str)] = &[
        (
            "Call `accept` now.",
            "现在调用 accept。",
            "code spans differ",
        ),
        (
            "See [it](ch04.md#x).",
            "见[它](ch05.md#x)。",
            "link targets differ",
        ),
        (
            "A socket, then a port.",
            "一个套接字,然后一个端口。",
            "ASCII punctuation after Chinese",
        ),
        (
            "Wait 40 ms.",
            "等待40 ms。",
            "no space between Chinese and Latin",
        ),
        (
            "It (the kernel) waits.",
            "它(内核)在等。",
            "ASCII parentheses around Chinese",
        ),
        (
            "**Time:** 40 min",
            "**时间：**40 分钟",
            "does not close the emphasis",
        ),
        ("The sticky packet is a myth.", "那个包是个误会。", "粘包"),
        ("the connection loop", "外层循环", "连接循环"),
        ("the communication loop", "通信循环", "通讯循环"),
        ("the header says the length", "头部给出长度", "报头"),
        (
            "    // One read, like the original's.\n    // It returns what has arrived.\n",
            "    // 只读一次。\n// 返回已经到达的数据。\n",
            "does not start like the English",
        ),
        (
            "This sentence stays here.",
            "This sentence stays here.",
            "left in English",
        ),
    ];
    let entries: Vec<(&str, &str)> = cases.iter().map(|(e, c, _)| (*e, *c)).collect();
    let (code, out) = lint(&entries);
    assert_eq!(code, Some(1), "{out}");
    for (english, _, expected) in cases {
        assert!(
            out.contains(expected),
            "the lint did not report {expected:?} for {english:?}:\n{out}"
        );
    }
}
