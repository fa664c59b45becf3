//! The book's preprocessor: expands the `{{#course …}}` directives from exercises.toml.
//!
//! mdBook runs `mdbook-course` with `[context, book]` as JSON on stdin and reads the book back
//! from stdout. Only chapters' `content` is rewritten; everything else passes through as it came.
//!
//! Directives, each on a line of its own (after an optional `> ` blockquote prefix, which every
//! line it expands to keeps), except `exercises`, which may stand inside a line:
//! - `{{#course exercises 5}}`: "5.1 `recv_exact` (core) · 5.2 `send_all` (stretch)"
//! - `{{#course heading 5.1}}`: `### Exercise 5.1: <title>`
//! - `{{#course hint 5.1}}`: the hint in a `<details>` block
//! - `{{#course check 5.1}}`: a ```sh block with `cargo course check 5.1`
//! - `{{#course solution 5.1}}`: where the solution is, and a `<details>` block that includes
//!   its anchors (mdBook's `links` preprocessor, which runs after this one, expands the
//!   `{{#include}}`s); in the student edition, a line saying it is not in this edition.
//!
//! A directive inside a fenced code block is left alone.
//!
//! It also gives every heading an explicit id, `## Title {#title}`, the one mdBook would make
//! from the English title. The zh-CN edition translates the titles (mdbook-gettext runs after
//! this preprocessor, and keeps the `{#…}`), so without it every `chapter.md#anchor` link of
//! the Chinese pages would point at an id that is no longer there.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use serde_json::Value;

use crate::{Course, Exercise};

const OPEN: &str = "{{#course";

/// The directives every exercise needs somewhere in the book.
const REQUIRED: &[&str] = &["heading", "hint", "solution"];

/// The preprocessor's state across the chapters of one book.
pub struct Preprocessor<'a> {
    course: &'a Course,
    student_edition: bool,
    /// The book's `src` folder, relative to the workspace root (e.g. `book/src`).
    src: PathBuf,
    /// (directive, exercise id) → the chapters it appears in.
    seen: BTreeMap<(String, String), BTreeSet<String>>,
    /// Every chapter's source as mdBook gave it, by its path in `src`: `{{#course time N}}`
    /// reads another chapter's header.
    pub chapters: BTreeMap<String, String>,
    pub errors: Vec<String>,
}

impl<'a> Preprocessor<'a> {
    pub fn new(course: &'a Course, src: PathBuf, student_edition: bool) -> Preprocessor<'a> {
        Preprocessor {
            course,
            student_edition,
            src,
            seen: BTreeMap::new(),
            chapters: BTreeMap::new(),
            errors: Vec::new(),
        }
    }

    /// Expands one chapter's directives. `path` is the chapter's path in the book's `src`.
    pub fn chapter(&mut self, path: Option<&str>, content: &str) -> String {
        let chapter_file = match path {
            Some(p) => self.src.join(p),
            None => self.src.join("(draft chapter)"),
        };
        let chapter_dir = chapter_file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let shown = slash(&chapter_file);
        let mut out = String::with_capacity(content.len());
        let mut fence: Option<(char, usize)> = None;
        for (index, line) in content.split_inclusive('\n').enumerate() {
            let (body, newline) = match line.strip_suffix('\n') {
                Some(b) => (b, "\n"),
                None => (line, ""),
            };
            let (prefix, rest) = split_quote(body);
            if step_fence(&mut fence, rest) {
                out.push_str(line);
                continue;
            }
            if fence.is_some() || !rest.contains(OPEN) {
                out.push_str(line);
                continue;
            }
            let at = format!("{shown}:{}", index + 1);
            match self.line(rest, prefix, &chapter_dir, &shown, &at) {
                Ok(expanded) => {
                    out.push_str(&expanded);
                    out.push_str(newline);
                }
                Err(e) => {
                    self.errors.push(format!("{at}: {e}"));
                    out.push_str(line);
                }
            }
        }
        heading_ids(&out)
    }

    /// Expands the directives of one line (without its blockquote prefix `prefix`).
    fn line(
        &mut self,
        rest: &str,
        prefix: &str,
        chapter_dir: &Path,
        chapter: &str,
        at: &str,
    ) -> Result<String> {
        let trimmed = rest.trim();
        let directives = find_directives(rest)?;
        let alone = directives.len() == 1 && directives[0].0 == trimmed;
        let mut line = rest.to_string();
        for (text, words) in directives.iter().rev() {
            let kind = words.first().map(String::as_str).unwrap_or("");
            let arg = match words.as_slice() {
                [_, arg] => arg.as_str(),
                _ => {
                    return Err(anyhow!(
                        "`{text}` is not a directive: write {{{{#course KIND ID}}}}, KIND one of exercises, time, heading, hint, check, solution"
                    ));
                }
            };
            if kind == "time" {
                let time = self.time(arg).map_err(|e| anyhow!("`{text}`: {e}"))?;
                let start = line.rfind(text.as_str()).expect("found above");
                line.replace_range(start..start + text.len(), &time);
                continue;
            }
            if kind == "exercises" {
                let n: u32 = arg
                    .parse()
                    .map_err(|_| anyhow!("`{text}`: `{arg}` is not a chapter number"))?;
                let list: Vec<String> = self
                    .course
                    .chapter(n)
                    .map(|e| format!("{} {} ({})", e.id, e.title, e.level))
                    .collect();
                if list.is_empty() {
                    return Err(anyhow!(
                        "`{text}`: no exercises.toml lists an exercise of chapter {n}"
                    ));
                }
                let start = line.rfind(text.as_str()).expect("found above");
                line.replace_range(start..start + text.len(), &list.join(" · "));
                continue;
            }
            if !["heading", "hint", "check", "solution"].contains(&kind) {
                return Err(anyhow!(
                    "`{text}`: unknown directive `{kind}` (known: exercises, time, heading, hint, check, solution)"
                ));
            }
            if !alone {
                return Err(anyhow!("`{text}` must be alone on its line"));
            }
            let ex = self.course.get(arg).map_err(|e| anyhow!("`{text}`: {e}"))?;
            self.seen
                .entry((kind.to_string(), ex.id.clone()))
                .or_default()
                .insert(chapter.to_string());
            if kind == "heading" && slash(Path::new(&ex.chapter)) != chapter {
                self.errors.push(format!(
                    "{at}: exercise {}'s heading is here, but {} says its chapter is {}",
                    ex.id, ex.source, ex.chapter
                ));
            }
            if kind == "solution" && !prefix.is_empty() && !self.student_edition {
                return Err(anyhow!(
                    "`{text}` cannot be in a blockquote: the code it includes would end the quote"
                ));
            }
            let lines = self.expand(kind, ex, chapter_dir);
            return Ok(lines
                .iter()
                .map(|l| {
                    if l.is_empty() {
                        prefix.trim_end().to_string()
                    } else {
                        format!("{prefix}{l}")
                    }
                })
                .collect::<Vec<_>>()
                .join("\n"));
        }
        Ok(format!("{prefix}{line}"))
    }

    /// `{{#course time N}}`: what chapter N's header block says under **Time:**, on one line,
    /// so that a plan (the teacher's guide) never keeps a copy of it.
    fn time(&self, arg: &str) -> Result<String> {
        let n: u32 = arg
            .parse()
            .map_err(|_| anyhow!("`{arg}` is not a chapter number"))?;
        let ex = self
            .course
            .chapter(n)
            .next()
            .ok_or_else(|| anyhow!("no exercises.toml lists an exercise of chapter {n}"))?;
        let file = Path::new(&ex.chapter);
        let in_src = file.strip_prefix(&self.src).unwrap_or(file);
        let content = self
            .chapters
            .get(&slash(in_src))
            .ok_or_else(|| anyhow!("chapter {n}'s page {} is not in the book", ex.chapter))?;
        let mut lines = content.lines().map(|l| split_quote(l).1.trim());
        let first = lines
            .find_map(|l| l.strip_prefix("**Time:**"))
            .ok_or_else(|| anyhow!("{} has no **Time:** line in its header", ex.chapter))?;
        let mut time = first.trim().to_string();
        for more in lines.take_while(|l| !l.is_empty() && !l.starts_with("**")) {
            time.push(' ');
            time.push_str(more);
        }
        Ok(time)
    }

    fn expand(&self, kind: &str, ex: &Exercise, chapter_dir: &Path) -> Vec<String> {
        match kind {
            "heading" => vec![format!("### {}", ex.heading())],
            "hint" => {
                let mut lines = vec![
                    "<details><summary>Hint</summary>".to_string(),
                    String::new(),
                ];
                lines.extend(ex.hint.trim().lines().map(str::to_owned));
                lines.extend([String::new(), "</details>".to_string()]);
                lines
            }
            "check" => vec![
                "```sh".to_string(),
                format!("cargo course check {}", ex.id),
                "```".to_string(),
            ],
            "solution" if self.student_edition => vec![format!(
                "The worked solution to exercise {} is not in this edition of the course: ask your teacher.",
                ex.id
            )],
            "solution" => {
                let mut files: Vec<String> = Vec::new();
                for s in &ex.solution {
                    if !files.contains(&s.file) {
                        files.push(s.file.clone());
                    }
                }
                let files: Vec<String> = files.iter().map(|f| format!("`{f}`")).collect();
                let mut lines = vec![
                    format!(
                        "The solution, with why each step is there, is in {}.",
                        join_and(&files)
                    ),
                    String::new(),
                    "<details><summary>Solution</summary>".to_string(),
                    String::new(),
                ];
                for s in &ex.solution {
                    let rel = relative(chapter_dir, Path::new(&s.file));
                    let target = match &s.anchor {
                        Some(anchor) => format!("{rel}:{anchor}"),
                        None => rel,
                    };
                    lines.extend([
                        "```rust".to_string(),
                        format!("{{{{#include {target}}}}}"),
                        "```".to_string(),
                        String::new(),
                    ]);
                }
                lines.push("</details>".to_string());
                lines
            }
            _ => unreachable!("checked by the caller"),
        }
    }

    /// After every chapter: each exercise must have its heading, hint and solution somewhere.
    pub fn finish(&mut self) {
        for ex in &self.course.exercises {
            let missing: Vec<&str> = REQUIRED
                .iter()
                .copied()
                .filter(|kind| !self.seen.contains_key(&(kind.to_string(), ex.id.clone())))
                .collect();
            if !missing.is_empty() {
                self.errors.push(format!(
                    "{}: exercise {} ({}) has no {} in the book; every exercise needs its heading, hint and solution directives",
                    ex.chapter,
                    ex.id,
                    ex.source,
                    missing
                        .iter()
                        .map(|k| format!("{{{{#course {k} {}}}}}", ex.id))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        for ((kind, id), chapters) in &self.seen {
            if kind != "check" && chapters.len() > 1 {
                self.errors.push(format!(
                    "{{{{#course {kind} {id}}}}} appears in more than one chapter: {}",
                    chapters.iter().cloned().collect::<Vec<_>>().join(", ")
                ));
            }
        }
    }
}

/// Appends `{#id}` to every ATX heading outside code blocks that has no id yet: the id mdBook
/// itself would give it (mdbook-html's `id_from_content` and `unique_id`: the heading's text,
/// lower-cased, letters, digits, `_` and `-` kept, whitespace made `-`, the rest dropped; a
/// repeated id gets `-1`, `-2`, …). The English browser check proves they agree: every link to
/// an anchor must still find it.
fn heading_ids(content: &str) -> String {
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut out = String::with_capacity(content.len() + 256);
    let mut fence: Option<(char, usize)> = None;
    for line in content.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let (_, rest) = split_quote(body);
        if step_fence(&mut fence, rest) {
            out.push_str(line);
            continue;
        }
        let title = heading_text(rest);
        match title {
            Some(title) if fence.is_none() && !title.trim_end().ends_with('}') => {
                let id = unique_id(&id_from_content(&plain_text(title)), &mut used);
                out.push_str(body.trim_end());
                out.push_str(&format!(" {{#{id}}}"));
                out.push_str(newline);
            }
            _ => out.push_str(line),
        }
    }
    out
}

/// The text of an ATX heading line (`## Title ##` → `Title`), or None.
fn heading_text(line: &str) -> Option<&str> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let level = rest.len() - rest.trim_start_matches('#').len();
    if !(1..=6).contains(&level) {
        return None;
    }
    let text = &rest[level..];
    if !(text.is_empty() || text.starts_with(' ') || text.starts_with('\t')) {
        return None;
    }
    let text = text.trim();
    // A closing sequence of `#`s, preceded by a space, is not part of the title.
    let without = text.trim_end_matches('#');
    let text = if without.len() < text.len() && (without.is_empty() || without.ends_with(' ')) {
        without.trim_end()
    } else {
        text
    };
    (!text.is_empty()).then_some(text)
}

/// What a reader sees of a heading's Markdown: code spans' text, links' text, no emphasis
/// markers, no HTML tags, backslash escapes resolved.
fn plain_text(markdown: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = markdown.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '`' => {
                let ticks = chars[i..].iter().take_while(|&&c| c == '`').count();
                let close = (i + ticks..chars.len().saturating_sub(ticks - 1)).find(|&j| {
                    chars[j..j + ticks].iter().all(|&c| c == '`')
                        && chars.get(j + ticks) != Some(&'`')
                        && chars[j - 1] != '`'
                });
                match close {
                    Some(j) => {
                        let inner: String = chars[i + ticks..j].iter().collect();
                        out.push_str(inner.trim());
                        i = j + ticks;
                    }
                    None => {
                        out.extend(&chars[i..i + ticks]);
                        i += ticks;
                    }
                }
            }
            '\\' if i + 1 < chars.len() && chars[i + 1].is_ascii_punctuation() => {
                out.push(chars[i + 1]);
                i += 2;
            }
            '*' | '[' => i += 1,
            ']' if chars.get(i + 1) == Some(&'(') => {
                // Skip the link's target: `](…)`.
                let end = chars[i..].iter().position(|&c| c == ')').map(|p| i + p + 1);
                i = end.unwrap_or(chars.len());
            }
            ']' => i += 1,
            '<' => {
                let end = chars[i..].iter().position(|&c| c == '>').map(|p| i + p + 1);
                i = end.unwrap_or(chars.len());
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// mdbook-html 0.5's `id_from_content`.
fn id_from_content(content: &str) -> String {
    content
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|ch| {
            if ch.is_alphanumeric() || ch == '_' || ch == '-' {
                Some(ch)
            } else if ch.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// mdbook-html 0.5's `unique_id`.
fn unique_id(id: &str, used: &mut BTreeSet<String>) -> String {
    if used.insert(id.to_string()) {
        return id.to_string();
    }
    (1..)
        .map(|n| format!("{id}-{n}"))
        .find(|candidate| used.insert(candidate.clone()))
        .expect("some suffix is free")
}

/// Follows the fenced code blocks of a page, one line (without its blockquote prefix) at a
/// time: true when the line is a fence, opening or closing one (`fence` says which is open).
fn step_fence(fence: &mut Option<(char, usize)>, rest: &str) -> bool {
    let Some(marker) = fence_marker(rest) else {
        return false;
    };
    match *fence {
        None => *fence = Some(marker),
        Some((c, n)) if marker.0 == c && marker.1 >= n && is_closing(rest) => *fence = None,
        _ => {}
    }
    true
}

/// Splits a line into its blockquote prefix (`> `, `>`, `> > `…) and the rest.
fn split_quote(line: &str) -> (&str, &str) {
    let mut end = 0;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'>') {
        i += 1;
        if bytes[i - 1] == b'>' {
            end = i;
            if i < bytes.len() && bytes[i] == b' ' {
                i += 1;
                end = i;
            }
        }
    }
    line.split_at(end)
}

/// A fence line's character and length: ``` or ~~~ (at most 3 spaces in).
fn fence_marker(rest: &str) -> Option<(char, usize)> {
    let indent = rest.len() - rest.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let t = &rest[indent..];
    for c in ['`', '~'] {
        let n = t.len() - t.trim_start_matches(c).len();
        if n >= 3 {
            return Some((c, n));
        }
    }
    None
}

/// A closing fence has nothing after its marker.
fn is_closing(rest: &str) -> bool {
    rest.trim()
        .trim_start_matches('`')
        .trim_start_matches('~')
        .is_empty()
}

/// Every `{{#course …}}` in a line: its text and its words.
fn find_directives(line: &str) -> Result<Vec<(String, Vec<String>)>> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start..];
        let end = after
            .find("}}")
            .ok_or_else(|| anyhow!("`{after}` has no closing `}}}}`"))?;
        let text = &after[..end + 2];
        let words = text[OPEN.len()..end]
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        found.push((text.to_string(), words));
        rest = &after[end + 2..];
    }
    Ok(found)
}

/// `a`, `a and b`, `a, b and c`.
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// A path with forward slashes, whatever the OS.
fn slash(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// The path from folder `from` to `to`, both relative to the same root and without `..`.
pub fn relative(from: &Path, to: &Path) -> String {
    let from: Vec<Component> = from
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect();
    let to: Vec<Component> = to
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

/// Every chapter's path and source, before any is expanded.
fn collect_chapters(items: Option<&Value>, into: &mut BTreeMap<String, String>) {
    for item in items.and_then(Value::as_array).into_iter().flatten() {
        let Some(chapter) = item.get("Chapter") else {
            continue;
        };
        if let (Some(path), Some(content)) = (
            chapter.get("path").and_then(Value::as_str),
            chapter.get("content").and_then(Value::as_str),
        ) {
            into.insert(path.to_string(), content.to_string());
        }
        collect_chapters(chapter.get("sub_items"), into);
    }
}

fn walk(items: &mut Value, pre: &mut Preprocessor) {
    let Some(items) = items.as_array_mut() else {
        return;
    };
    for item in items {
        let Some(chapter) = item.get_mut("Chapter") else {
            continue;
        };
        let path = chapter
            .get("path")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(content) = chapter.get("content").and_then(Value::as_str) {
            let new = pre.chapter(path.as_deref(), content);
            chapter["content"] = Value::String(new);
        }
        if let Some(sub) = chapter.get_mut("sub_items") {
            walk(sub, pre);
        }
    }
}

/// Runs the preprocessor on mdBook's input (`[context, book]`): the book to print, or the
/// errors to report (each naming its chapter).
/// The second pass, `mdbook-course --after-gettext`, which book.toml runs after mdbook-gettext:
/// mdbook-i18n-helpers 0.4 writes a translated admonition's marker as text, `> \[!NOTE\] …`
/// on the line of the paragraph, so mdBook would show "[!NOTE]" instead of a note box. This
/// puts the marker back on a line of its own. On an untranslated book it changes nothing.
pub fn run_after_gettext(input: &str) -> Result<Value> {
    let input: Value = serde_json::from_str(input).context("mdBook's input is not JSON")?;
    let mut book = input
        .get(1)
        .cloned()
        .ok_or_else(|| anyhow!("mdBook's input is not [context, book]"))?;
    fn visit(items: &mut Value) {
        let Some(items) = items.as_array_mut() else {
            return;
        };
        for item in items {
            if let Some(chapter) = item.get_mut("Chapter") {
                if let Some(content) = chapter.get("content").and_then(Value::as_str) {
                    let fixed = restore_admonitions(content);
                    chapter["content"] = Value::String(fixed);
                }
                if let Some(sub) = chapter.get_mut("sub_items") {
                    visit(sub);
                }
            }
        }
    }
    match book.get_mut("items") {
        Some(items) => visit(items),
        None => return Err(anyhow!("mdBook's book has no `items`")),
    }
    Ok(book)
}

/// `> \[!NOTE\] text` → `> [!NOTE]` and `> text` on the next line (any of GitHub's five kinds).
pub fn restore_admonitions(content: &str) -> String {
    const KINDS: &[&str] = &["NOTE", "TIP", "IMPORTANT", "WARNING", "CAUTION"];
    let mut out = String::with_capacity(content.len());
    for line in content.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let quote_end = body
            .char_indices()
            .take_while(|&(_, c)| c == ' ' || c == '>')
            .last()
            .map(|(i, c)| i + c.len_utf8())
            .unwrap_or(0);
        let (prefix, rest) = body.split_at(quote_end);
        let marker = KINDS.iter().find_map(|kind| {
            rest.strip_prefix(&format!("\\[!{kind}\\]"))
                .map(|r| (kind, r))
        });
        match marker {
            Some((kind, text)) if prefix.contains('>') => {
                // The marker must be the blockquote's first line: drop the empty quoted line
                // mdbook-gettext puts before it.
                let last_line_start = out[..out.len().saturating_sub(1)]
                    .rfind('\n')
                    .map_or(0, |i| i + 1);
                let last_line = &out[last_line_start..];
                if !last_line.is_empty()
                    && last_line.trim().trim_start_matches('>').trim().is_empty()
                    && last_line.contains('>')
                {
                    out.truncate(last_line_start);
                }
                out.push_str(&format!("{prefix}[!{kind}]\n"));
                if !text.trim().is_empty() {
                    out.push_str(&format!("{prefix}{}{newline}", text.trim_start()));
                }
            }
            _ => out.push_str(line),
        }
    }
    out
}

pub fn run(input: &str) -> Result<std::result::Result<Value, Vec<String>>> {
    let input: Value = serde_json::from_str(input).context("mdBook's input is not JSON")?;
    let [context, book] = input
        .as_array()
        .and_then(|a| <&[Value; 2]>::try_from(a.as_slice()).ok())
        .ok_or_else(|| anyhow!("mdBook's input is not [context, book]"))?;
    let book_root = PathBuf::from(
        context
            .get("root")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("mdBook's context has no `root`"))?,
    );
    let config = context.get("config");
    let src_name = config
        .and_then(|c| c.pointer("/book/src"))
        .and_then(Value::as_str)
        .unwrap_or("src");
    let student_edition = config
        .and_then(|c| c.pointer("/preprocessor/course/student-edition"))
        .and_then(Value::as_bool)
        .unwrap_or(false);

    let root = crate::workspace_root(&book_root)?;
    let course = Course::load(&root)?;
    let book_root = book_root
        .canonicalize()
        .with_context(|| format!("cannot read {}", book_root.display()))?;
    let src = book_root
        .join(src_name)
        .strip_prefix(&root)
        .map(Path::to_path_buf)
        .map_err(|_| anyhow!("the book {} is not inside the course", book_root.display()))?;

    let mut book = book.clone();
    let mut pre = Preprocessor::new(&course, src, student_edition);
    let items = book.get("items").or_else(|| book.get("sections"));
    collect_chapters(items, &mut pre.chapters);
    if let Some(items) = book.get_mut("items") {
        walk(items, &mut pre);
    } else if let Some(sections) = book.get_mut("sections") {
        // mdBook 0.4 called them `sections`.
        walk(sections, &mut pre);
    } else {
        return Err(anyhow!("mdBook's book has no `items`"));
    }
    pre.finish();
    if pre.errors.is_empty() {
        Ok(Ok(book))
    } else {
        Ok(Err(pre.errors))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn headings_get_the_ids_mdbook_would_give_them() {
        let page = "# 4. Sticky packets\n\n## The `recv_exact` [helper](x.md#y)\n\n\
                    ```sh\n# not a heading\n```\n\n## Deep dive: why?\n## Deep dive: why?\n\
                    ## Kept {#mine}\n> ### Quoted *one*\n";
        assert_eq!(
            super::heading_ids(page),
            "# 4. Sticky packets {#4-sticky-packets}\n\n\
             ## The `recv_exact` [helper](x.md#y) {#the-recv_exact-helper}\n\n\
             ```sh\n# not a heading\n```\n\n\
             ## Deep dive: why? {#deep-dive-why}\n## Deep dive: why? {#deep-dive-why-1}\n\
             ## Kept {#mine}\n> ### Quoted *one* {#quoted-one}\n"
        );
    }

    #[test]
    fn an_escaped_admonition_marker_gets_its_own_line_back() {
        let translated =
            " > \n > \\[!NOTE\\] **学完本章**\n > \n > - 一\n\nText \\[!NOTE\\] stays.\n";
        assert_eq!(
            super::restore_admonitions(translated),
            " > [!NOTE]\n > **学完本章**\n > \n > - 一\n\nText \\[!NOTE\\] stays.\n"
        );
        let english = "> [!WARNING]\n> Run it on 127.0.0.1.\n";
        assert_eq!(super::restore_admonitions(english), english);
    }

    use super::*;

    #[test]
    fn relative_paths_from_the_chapter() {
        assert_eq!(
            relative(Path::new("book/src"), Path::new("solutions/s/src/lib.rs")),
            "../../solutions/s/src/lib.rs"
        );
        assert_eq!(
            relative(Path::new("book/src/part"), Path::new("book/src/x.md")),
            "../x.md"
        );
    }

    #[test]
    fn quotes_and_fences() {
        assert_eq!(split_quote("> {{#course x}}"), ("> ", "{{#course x}}"));
        assert_eq!(split_quote("> > a"), ("> > ", "a"));
        assert_eq!(split_quote("a > b"), ("", "a > b"));
        assert_eq!(fence_marker("```rust"), Some(('`', 3)));
        assert_eq!(fence_marker("    ```"), None);
    }
}
