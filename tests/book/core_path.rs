//! The book's core path stays short: the prose outside deep dives of the introduction and the
//! seven chapters of Part I (the protocol page aside) is at most 16,000 words, as the course
//! promised when it became a course; Part II's (its protocol page and chapters 8-10), 11,000. Counted as `../shared/tools/book-metrics.py` counts: words of
//! letters, digits and apostrophes (a Chinese character is a word), outside code fences; a
//! heading that says "Deep dive" starts a deep dive and the next heading ends it, and so does
//! a `<details>` block.

use std::path::Path;

const LIMIT: usize = 16_000;
const PART_TWO_LIMIT: usize = 11_000;

/// (all words, words in deep dives) of one page.
fn count(text: &str) -> (usize, usize) {
    let (mut words, mut deep) = (0, 0);
    let (mut in_fence, mut in_deep) = (false, false);
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        let hashes = line.len() - line.trim_start_matches('#').len();
        if hashes > 0 && line[hashes..].starts_with(char::is_whitespace) {
            in_deep = line.to_lowercase().contains("deep dive");
        }
        if line.contains("<details") {
            in_deep = true;
        }
        if line.contains("</details>") {
            in_deep = false;
        }
        let n = words_in(line);
        words += n;
        if in_deep {
            deep += n;
        }
    }
    (words, deep)
}

/// Runs of ASCII letters, digits and `'`, plus each CJK ideograph on its own.
fn words_in(line: &str) -> usize {
    let mut n = 0;
    let mut in_word = false;
    for c in line.chars() {
        if ('\u{4e00}'..='\u{9fff}').contains(&c) {
            n += 1;
            in_word = false;
        } else if c.is_ascii_alphanumeric() || c == '\'' {
            if !in_word {
                n += 1;
            }
            in_word = true;
        } else {
            in_word = false;
        }
    }
    n
}

/// The pages of one part of the book: the `ch` pages whose chapter number is in `chapters`
/// (a chapter's extra pages, such as chapter 7's protocol, are reference, not path), and any
/// of the other pages named in `also`. Fails unless every chapter has its page.
fn part(chapters: std::ops::RangeInclusive<u32>, also: &[&str]) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../book/src");
    let mut pages: Vec<String> = std::fs::read_dir(&src)
        .expect("book/src")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| {
            also.contains(&n.as_str())
                || (n.starts_with("ch")
                    && n.ends_with(".md")
                    && !n.ends_with("-protocol.md")
                    && n[2..4].parse().is_ok_and(|c| chapters.contains(&c)))
        })
        .collect();
    pages.sort();
    assert_eq!(
        pages.len(),
        chapters.clone().count() + also.len(),
        "chapters {chapters:?} and {also:?}: {pages:?}"
    );
    pages
}

/// Fails if the core path of `pages` is over `limit` words, with a table of every page.
fn assert_core_path_within(pages: &[String], limit: usize) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../book/src");
    let mut total = 0;
    let mut table = String::new();
    for page in pages {
        let text = std::fs::read_to_string(src.join(page)).unwrap();
        let (words, deep) = count(&text);
        total += words - deep;
        table.push_str(&format!(
            "\n  {page:28} core {:5}  deep dives {deep:5}",
            words - deep
        ));
    }
    assert!(
        total <= limit,
        "the core path is {total} words, over {limit}: move what the stage's point does not \
         need into a deep dive, or say it shorter{table}"
    );
}

#[test]
fn the_core_path_is_at_most_16000_words() {
    assert_core_path_within(&part(1..=7, &["introduction.md"]), LIMIT);
}

/// Part II (the chat protocol page and chapters 8-10) has a path of its own, as short.
#[test]
fn part_two_core_path_is_at_most_11000_words() {
    assert_core_path_within(&part(8..=10, &["part2-chat.md"]), PART_TWO_LIMIT);
}

#[test]
fn counting_follows_the_rules() {
    let page = "# 1. A\n\nOne two.\n\n```rust\nlet not_counted = 1;\n```\n\n\
                ## Deep dive: more\n\nthree four five\n\n## Back\n\nsix 粘包 don't\n\n\
                <details><summary>Hint</summary>\n\nseven\n\n</details>\n";
    // Outside: "1 A", "One two", "Back", "six 粘 包 don't", the closing "details" (21 in all);
    // inside: "Deep dive more", "three four five", "details summary Hint summary", "seven".
    let (words, deep) = count(page);
    assert_eq!(deep, 3 + 3 + 4 + 1);
    assert_eq!(words, 2 + 2 + deep + 1 + 4 + 1);
}
