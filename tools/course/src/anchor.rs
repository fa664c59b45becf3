//! mdBook's anchors: `// ANCHOR: name` … `// ANCHOR_END: name`. The lines strictly between the
//! two marker lines are the anchor's region; `reset` puts a region back and the progress record
//! fingerprints it.

use std::ops::Range;

/// Succeeds if `line` holds the marker `marker` (`ANCHOR:` or `ANCHOR_END:`) for `name`, as
/// mdBook reads it: the marker, optional spaces, the name, then no more name characters.
fn is_marker(line: &str, marker: &str, name: &str) -> bool {
    let mut rest = line;
    while let Some(at) = rest.find(marker) {
        // `ANCHOR:` must not be the tail of a longer word (`XANCHOR:`).
        let before = &rest[..at];
        let word_start = before
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let after = rest[at + marker.len()..].trim_start();
        if word_start
            && let Some(tail) = after.strip_prefix(name)
            && tail
                .chars()
                .next()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '-'))
        {
            return true;
        }
        rest = &rest[at + marker.len()..];
    }
    false
}

/// The byte range of anchor `name`'s region in `text`: from the start of the line after the
/// `ANCHOR: name` line to the start of the `ANCHOR_END: name` line. `None` if either marker is
/// missing, or the end comes first.
pub fn region(text: &str, name: &str) -> Option<Range<usize>> {
    let mut start = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let next = offset + line.len();
        match start {
            None if is_marker(line, "ANCHOR:", name) => start = Some(next),
            Some(begin) if is_marker(line, "ANCHOR_END:", name) => return Some(begin..offset),
            None if is_marker(line, "ANCHOR_END:", name) => return None,
            _ => {}
        }
        offset = next;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "a\n// ANCHOR: one\nx\ny\n// ANCHOR_END: one\n// ANCHOR: one_more\nz\n// ANCHOR_END: one_more\n";

    #[test]
    fn finds_the_lines_strictly_between() {
        let r = region(TEXT, "one").unwrap();
        assert_eq!(&TEXT[r], "x\ny\n");
        let r = region(TEXT, "one_more").unwrap();
        assert_eq!(&TEXT[r], "z\n");
    }

    #[test]
    fn a_longer_name_is_not_the_name() {
        assert_eq!(region(TEXT, "on"), None);
        assert_eq!(region("// ANCHOR: a\n", "a"), None);
        assert_eq!(region("// ANCHOR_END: a\n// ANCHOR: a\n", "a"), None);
    }

    #[test]
    fn an_empty_region() {
        let text = "// ANCHOR: e\n// ANCHOR_END: e\n";
        assert_eq!(region(text, "e"), Some(13..13));
    }
}
