//! The runner in Chinese: `cargo course hint 5.1 --lang zh-CN` shows the hint from the book's
//! zh-CN catalog (`book/po/zh-CN.po`).
//!
//! There is no second copy of the hints to keep in step: the book's preprocessor puts each hint
//! into its chapter, mdbook-xgettext makes one message of each of its paragraphs (the lines of a
//! paragraph joined by spaces), and the catalog translates that message. So the runner looks up
//! the same paragraphs. CI holds the catalog complete (`tools/i18n.py check`), and a test here
//! checks that every hint and heading is found in it.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};

/// The language a learner asked for: `--lang` if given, else the environment (`COURSE_LANG`,
/// then the usual locale variables), so a Chinese system gets Chinese hints. `None` is English.
pub fn choose(flag: Option<&str>, env: impl Fn(&str) -> Option<String>) -> Option<&'static str> {
    let wanted = match flag {
        Some(lang) => lang.to_string(),
        None => ["COURSE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|var| env(var))
            .find(|value| !value.is_empty())?,
    };
    // zh, zh-CN, zh_CN.UTF-8, zh-Hans: all Chinese; anything else (en, C, POSIX) is English.
    let lower = wanted.to_ascii_lowercase();
    (lower == "zh" || lower.starts_with("zh-") || lower.starts_with("zh_")).then_some("zh-CN")
}

/// A gettext catalog's translations: msgid → msgstr, without the fuzzy and the empty ones.
#[derive(Debug, Default)]
pub struct Catalog {
    messages: HashMap<String, String>,
}

impl Catalog {
    /// Reads `book/po/LANG.po` under the course's root.
    pub fn load(root: &Path, lang: &str) -> Result<Catalog> {
        let path = root.join("book").join("po").join(format!("{lang}.po"));
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the {lang} catalog {}", path.display()))?;
        Ok(Catalog::parse(&text))
    }

    /// Parses the PO format as GNU gettext's tools write it: entries separated by a blank
    /// line, each with `msgid "…"` and `msgstr "…"` (continued on lines that are a quoted
    /// string alone) and maybe a `#, fuzzy` flag. Obsolete entries (`#~`) are comments here.
    pub fn parse(text: &str) -> Catalog {
        let mut messages = HashMap::new();
        for entry in text.split("\n\n") {
            // [msgid, msgstr], and which of them a continuation line adds to.
            let mut strings = [String::new(), String::new()];
            let mut current = None;
            let mut fuzzy = false;
            for line in entry.lines().map(str::trim) {
                if let Some(flags) = line.strip_prefix("#,") {
                    fuzzy |= flags.split(',').any(|f| f.trim() == "fuzzy");
                } else if let Some(rest) = line.strip_prefix("msgid ") {
                    strings[0] = unquote(rest);
                    current = Some(0);
                } else if let Some(rest) = line.strip_prefix("msgstr ") {
                    strings[1] = unquote(rest);
                    current = Some(1);
                } else if let (true, Some(i)) = (line.starts_with('"'), current) {
                    strings[i].push_str(&unquote(line));
                }
            }
            let [id, translation] = strings;
            if !id.is_empty() && !translation.is_empty() && !fuzzy {
                messages.insert(id, translation);
            }
        }
        Catalog { messages }
    }

    pub fn get(&self, msgid: &str) -> Option<&str> {
        self.messages.get(msgid).map(String::as_str)
    }

    /// Translates Markdown made of paragraphs (a hint): each paragraph is looked up as the
    /// message mdbook-xgettext makes of it. Returns the text and the paragraphs not found, which
    /// stay in English.
    pub fn paragraphs(&self, markdown: &str) -> (String, Vec<String>) {
        let mut out = Vec::new();
        let mut missing = Vec::new();
        for paragraph in split_paragraphs(markdown) {
            match self.get(&paragraph) {
                Some(translation) => out.push(translation.to_string()),
                None => {
                    out.push(paragraph.clone());
                    missing.push(paragraph);
                }
            }
        }
        (out.join("\n\n"), missing)
    }
}

/// The paragraphs of `markdown` as single lines (a soft line break is a space in the message).
pub fn split_paragraphs(markdown: &str) -> Vec<String> {
    let mut paragraphs = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in markdown.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(current.join(" "));
                current.clear();
            }
        } else {
            current.push(line.trim());
        }
    }
    if !current.is_empty() {
        paragraphs.push(current.join(" "));
    }
    paragraphs
}

fn unquote(quoted: &str) -> String {
    let inner = quoted
        .trim()
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or("");
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PO: &str = r#"msgid ""
msgstr ""
"Language: zh_CN\n"

#: src/ch05.md:1
msgid "First line of a paragraph, "
"continued."
msgstr "一段话的第一行，"
"接着写完。"

#, fuzzy
msgid "Old"
msgstr "旧的"

msgid "Empty"
msgstr ""

msgid "Quote \"x\"\n"
msgstr "引号“x”\n"
"#;

    #[test]
    fn parses_continued_strings_and_skips_fuzzy_and_empty_entries() {
        let catalog = Catalog::parse(PO);
        assert_eq!(
            catalog.get("First line of a paragraph, continued."),
            Some("一段话的第一行，接着写完。")
        );
        assert_eq!(catalog.get("Old"), None);
        assert_eq!(catalog.get("Empty"), None);
        assert_eq!(catalog.get("Quote \"x\"\n"), Some("引号“x”\n"));
        assert_eq!(catalog.get(""), None);
    }

    #[test]
    fn paragraphs_are_looked_up_as_one_line_and_missing_ones_stay_english() {
        let catalog = Catalog::parse(PO);
        let (text, missing) =
            catalog.paragraphs("First line of a paragraph,\ncontinued.\n\nNot translated yet.\n");
        assert_eq!(text, "一段话的第一行，接着写完。\n\nNot translated yet.");
        assert_eq!(missing, vec!["Not translated yet.".to_string()]);
    }

    #[test]
    fn the_language_comes_from_the_flag_then_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |var: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == var)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(choose(Some("zh-CN"), env(&[])), Some("zh-CN"));
        assert_eq!(choose(Some("en"), env(&[("LANG", "zh_CN.UTF-8")])), None);
        assert_eq!(choose(None, env(&[("LANG", "zh_CN.UTF-8")])), Some("zh-CN"));
        assert_eq!(
            choose(None, env(&[("LC_ALL", "C"), ("LANG", "zh_CN.UTF-8")])),
            None
        );
        assert_eq!(choose(None, env(&[("COURSE_LANG", "zh")])), Some("zh-CN"));
        assert_eq!(choose(None, env(&[])), None);
    }
}
