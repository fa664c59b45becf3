#!/usr/bin/env python3
"""The zh-CN edition's catalog: extract, update, and check it.

Usage (from anywhere in the repository):
    python3 tools/i18n.py pot              # target/i18n/messages.pot: what must be translated
    python3 tools/i18n.py update           # merge that POT into book/po/zh-CN.po (msgmerge)
    python3 tools/i18n.py check            # the CI gate: complete, no fuzzy, and the style lint
    python3 tools/i18n.py lint FILE.po...  # the style lint alone, on any PO file
    python3 tools/i18n.py stats            # messages and words, per chapter
    python3 tools/i18n.py build            # both editions, one site: book/build, book/build/zh-CN

English is the source (book/src, with the exercises and the included code expanded). mdBook runs
the `mdbook-xgettext` renderer (mdbook-i18n-helpers) over the book after its preprocessors, so the
POT holds every paragraph, heading, list item, table cell, the comments of included code, and the
exercises' task statements and hints. Three kinds of message are then left out, because the
contract (DESIGN.md, "Translations") keeps them in English in both editions:
  - whole `console` and `text` code blocks: transcripts and program output, checked in English
    (except a protocol exchange drawn by hand, lines of `→ request` and `← reply`: its notes are
    prose, and translated; the JSON in it stays as it is);
  - string literals of included code (the programs print English), except Python docstrings;
  - messages with no English word outside code spans, links and tags (`TcpStream`, 粘包, 0.1 ms).
mdbook-gettext leaves a message with no translation as it is, so these stay English.

`check` fails when a message of the fresh POT has no translation in book/po/zh-CN.po or only a
fuzzy one (GNU gettext's msgcmp), or when `lint` finds a problem. The lint checks what a reader of
the Chinese would notice, and what would break the page:
  - every inline code span, link target, HTML tag and {{#…}} directive of the English is kept;
  - a translated code comment keeps each line's indentation and comment marker;
  - full-width punctuation next to Chinese (，。：；？！（）), not ASCII;
  - a space between Chinese and Latin letters, digits or code, and none inside 中文 runs;
  - the course's terms (appendix-terms.md): 粘包, 连接循环, 通讯循环, 报头 where the English says so;
  - a message whose "translation" is its English unchanged, where the English has words.
"""

import argparse
import collections
import os
import pathlib
import re
import shutil
import subprocess
import sys
import unicodedata

ROOT = pathlib.Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
CATALOG = BOOK / "po" / "zh-CN.po"
OUT = ROOT / "target" / "i18n"

# The editions besides English: (language, directory under book/build, title, description).
# The title and description are the book's, from book.toml, which has one of each.
EDITIONS = [
    (
        "zh-CN",
        "zh-CN",
        "Rust 套接字编程：重讲一部经典教程",
        "套接字编程，每个阶段一个小小的 Rust 程序，重讲一部经典的 Python 教程。",
    ),
]

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RE = re.compile(f"[{CJK}]")

# Terms the course fixes (appendix-terms.md): when the English has the left side, the Chinese
# must have the right side. Lower case; matched on word boundaries.
TERMS = [
    (r"sticky packets?", "粘包"),
    (r"connection loop", "连接循环"),
    (r"communication loop", "通讯循环"),
    (r"(?:fixed-length |length )?headers?(?! block)", "报头"),
]
# A message that mentions "header" only as part of these is not about the protocol's header.
TERM_EXCEPTIONS = {
    "报头": re.compile(
        r"header block|http header|headers? of|header line|--header|chapter's header|"
        r"its header|task header",
        re.I,
    )
}


# ---- PO files -------------------------------------------------------------------------------

class Entry:
    def __init__(self):
        self.comments = []  # lines starting with '#'
        self.msgid = ""
        self.msgstr = ""
        self.obsolete = False

    @property
    def fuzzy(self):
        return any(c.startswith("#,") and "fuzzy" in c for c in self.comments)

    @property
    def refs(self):
        out = []
        for c in self.comments:
            if c.startswith("#:"):
                out.extend(c[2:].split())
        return out


def unquote(s):
    s = s.strip()
    assert s.startswith('"') and s.endswith('"'), s
    body = s[1:-1]
    out = []
    i = 0
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            out.append(escapes.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def read_po(path):
    entries = []
    cur = Entry()
    field = None
    lineno = 0

    def flush():
        nonlocal cur
        if cur.msgid or cur.msgstr or cur.comments:
            entries.append(cur)
        cur = Entry()

    for raw in pathlib.Path(path).read_text(encoding="utf-8").splitlines():
        lineno += 1
        line = raw.strip()
        if line.startswith("#~"):
            cur.obsolete = True
            continue
        if not line:
            if field is not None:
                flush()
                field = None
            continue
        if line.startswith("#"):
            if field is not None:
                flush()
                field = None
            cur.comments.append(line)
        elif line.startswith("msgid "):
            if field == "msgstr":
                flush()
            field = "msgid"
            cur.msgid = unquote(line[6:])
        elif line.startswith("msgstr "):
            field = "msgstr"
            cur.msgstr = unquote(line[7:])
        elif line.startswith('"'):
            if field == "msgid":
                cur.msgid += unquote(line)
            elif field == "msgstr":
                cur.msgstr += unquote(line)
            else:
                raise SystemExit(f"{path}:{lineno}: a string outside msgid/msgstr")
        elif line.startswith("msgctxt") or line.startswith("msgid_plural"):
            raise SystemExit(f"{path}:{lineno}: {line.split()[0]} is not used by this catalog")
        else:
            raise SystemExit(f"{path}:{lineno}: cannot read this line: {line[:60]}")
    flush()
    return [e for e in entries if not e.obsolete]


def quote(s):
    s = s.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\r", "\\r")
    if "\n" not in s[:-1]:
        return '"' + s.replace("\n", "\\n") + '"'
    parts = s.split("\n")
    lines = ['""']
    for i, p in enumerate(parts):
        if i < len(parts) - 1:
            lines.append('"' + p + '\\n"')
        elif p:
            lines.append('"' + p + '"')
    return "\n".join(lines)


def write_po(path, header, entries):
    out = [header.rstrip("\n"), ""]
    for e in entries:
        out.extend(e.comments)
        out.append("msgid " + quote(e.msgid))
        out.append("msgstr " + quote(e.msgstr))
        out.append("")
    pathlib.Path(path).write_text("\n".join(out), encoding="utf-8")


def header_of(path):
    text = pathlib.Path(path).read_text(encoding="utf-8").lstrip("\n")
    return text.split("\n\n", 1)[0] + "\n"


# ---- what is translated ---------------------------------------------------------------------

# One string literal: Rust (b"", r#""#, '…'), Python ('…', "…"), or shell ('…').
LITERAL = r"""(?:[bB]?[rR]\#+"[\s\S]*?"\#+|[bBrRfF]{0,2}"(?:[^"\\]|\\.)*"|[bB]?'(?:[^'\\]|\\.)*')"""
ONLY_LITERALS = re.compile(rf"\s*{LITERAL}(?:[\s,+]*{LITERAL})*\s*", re.S)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)
LINK_TARGET = re.compile(r"\]\(([^)\s]*)(?:\s+\"[^\"]*\")?\)")
URL = re.compile(r"https?://\S+")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")
DIRECTIVE = re.compile(r"\{\{#[^}]*\}\}")


def strip_code(text):
    """The text without code spans, link targets, URLs, tags and directives."""
    text = CODE_SPAN.sub(" ", text)
    text = LINK_TARGET.sub("]", text)
    text = URL.sub(" ", text)
    text = TAG.sub(" ", text)
    text = DIRECTIVE.sub(" ", text)
    return text


def kept_in_english(msgid):
    """Why a message of the raw POT is not translated, or None when it is."""
    first = msgid.split("\n", 1)[0]
    if re.match(r"```\s*text\b", first) and re.search(r"^[→←] ", msgid, re.M):
        # A protocol exchange drawn by hand (→ request, ← reply): its notes are prose. Without
        # the messages themselves (JSON, English on the wire) and the placeholders, what is left?
        notes = re.sub(r"\{.*\}|\b[A-Z]{3,}\b|^```.*$", " ", msgid, flags=re.M)
        if re.search(r"[a-z]{3,}", notes):
            return None
    if re.match(r"```\s*(console|text)\b", first):
        return "transcript or output"
    if first.startswith("```"):
        return None  # a whole block of another kind (a mermaid diagram): its labels are prose
    if not msgid.lstrip().startswith(('"""', "'''", 'r"""')) and ONLY_LITERALS.fullmatch(msgid):
        return "string literal"
    if not re.search(r"[A-Za-z]{2,}", strip_code(msgid)):
        return "no English words"
    return None


def extract():
    """Runs mdbook-xgettext; returns (raw POT path, filtered POT path)."""
    if shutil.which("mdbook-xgettext") is None:
        raise SystemExit("mdbook-xgettext is not installed: bash .ci/run installs it, or "
                         "cargo install mdbook-i18n-helpers --locked --version 0.4.0")
    raw_dir = OUT / "raw"
    shutil.rmtree(raw_dir, ignore_errors=True)
    env = dict(os.environ)
    env["MDBOOK_OUTPUT"] = '{"xgettext": {"pot-file": "messages.pot"}}'
    env.pop("MDBOOK_BOOK__LANGUAGE", None)
    run = subprocess.run(["mdbook", "build", str(BOOK), "-d", str(raw_dir)], env=env,
                         capture_output=True, text=True)
    if run.returncode != 0:
        sys.stderr.write(run.stdout + run.stderr)
        raise SystemExit("extracting the POT failed (mdbook build with the xgettext renderer)")
    raw = raw_dir / "messages.pot"
    entries = read_po(raw)
    header = header_of(raw)
    kept = []
    left = collections.Counter()
    for e in entries:
        if not e.msgid:
            continue
        why = kept_in_english(e.msgid)
        if why:
            left[why] += 1
        else:
            kept.append(e)
    pot = OUT / "messages.pot"
    write_po(pot, header, kept)
    return raw, pot, kept, left


# ---- the lint -------------------------------------------------------------------------------

PUNCT_AFTER = re.compile(rf"[{CJK}][,.;:!?](?=\s|$|[{CJK}])|[{CJK}][,;:!?]")
PUNCT_BEFORE = re.compile(rf"(?<![A-Za-z0-9])[,;:!?][{CJK}]")
HALF_PARENS = re.compile(rf"\([^()]*[{CJK}][^()]*\)")
NO_SPACE = re.compile(rf"[{CJK}][A-Za-z0-9`]|[A-Za-z0-9`][{CJK}]")
SPACE_IN_CJK = re.compile(rf"[{CJK}] [{CJK}]")
COMMENT_PREFIX = re.compile(r"^(\s*)(///?!?|#!?|<!--)?")


def comment_prefixes(text):
    return {COMMENT_PREFIX.match(line).group(0) for line in text.split("\n") if line.strip()}


def is_punct(ch):
    """CommonMark's "Unicode punctuation character": general category P or S."""
    return unicodedata.category(ch)[0] in "PS"


def emphasis_problems(text):
    """Emphasis markers that CommonMark cannot pair as meant: a closing `**` (or `*`) after
    punctuation and before a letter or a Chinese character does not close (`**TCP。**除非`
    shows its asterisks); likewise an opening one before punctuation and after a letter."""
    problems = []
    text = CODE_SPAN.sub("x", text)
    for marker in ("**", "*"):
        pattern = re.compile(r"(?<!\*)\*\*(?!\*)" if marker == "**" else r"(?<![*\\])\*(?!\*)")
        spots = [m.start() for m in pattern.finditer(text)]
        for n, at in enumerate(spots):
            before = text[at - 1] if at > 0 else " "
            after = text[at + len(marker)] if at + len(marker) < len(text) else " "
            closing = n % 2 == 1
            if closing and is_punct(before) and not (after.isspace() or is_punct(after)):
                problems.append(f"'{marker}' after {before!r} and before {after!r} does not close "
                                "the emphasis: put the punctuation outside it")
            if not closing and is_punct(after) and not (before.isspace() or is_punct(before)):
                problems.append(f"'{marker}' after {before!r} and before {after!r} does not open "
                                "the emphasis: put the punctuation outside it")
        text = pattern.sub("", text) if marker == "**" else text
    return problems


def lint_entry(e):
    """Problems with one translated entry, as strings."""
    problems = []
    s, t = e.msgid, e.msgstr
    if not t:
        return problems

    def same(kind, regex, group=0):
        a = collections.Counter(m.group(group) for m in regex.finditer(s))
        b = collections.Counter(m.group(group) for m in regex.finditer(t))
        if a != b:
            lost = list((a - b).elements())
            extra = list((b - a).elements())
            detail = []
            if lost:
                detail.append("missing " + ", ".join(repr(x) for x in lost[:3]))
            if extra:
                detail.append("not in the English " + ", ".join(repr(x) for x in extra[:3]))
            problems.append(f"{kind} differ: " + "; ".join(detail))

    if not s.startswith("```"):  # a whole block (a diagram): its fences are not code spans
        same("code spans", CODE_SPAN)
    same("link targets", LINK_TARGET, 1)
    same("directives", DIRECTIVE)
    same("HTML tags", TAG)

    if re.match(r"\s*(//|#)", s) or "\n" in s.strip() and re.search(r"^\s*//", s, re.M):
        allowed = comment_prefixes(s)
        for line in t.split("\n"):
            if line.strip() and COMMENT_PREFIX.match(line).group(0) not in allowed:
                problems.append(f"comment line {line[:40]!r} does not start like the English's "
                                f"lines ({', '.join(repr(p) for p in sorted(allowed))})")
                break
    if s.startswith("```") and t.split("\n", 1)[0] != s.split("\n", 1)[0]:
        problems.append("a code block's first line (its fence and language) changed")
    lead_s = s[: len(s) - len(s.lstrip(" "))]
    lead_t = t[: len(t) - len(t.lstrip(" "))]
    if lead_s != lead_t:
        problems.append(f"the English starts with {len(lead_s)} spaces, the translation with "
                        f"{len(lead_t)}")
    if s.endswith("\n") != t.endswith("\n"):
        problems.append("the English ends with a line break and the translation does not, or "
                        "the other way round")

    if not s.startswith("```") and not re.match(r"\s*(//|#)", s):
        problems.extend(emphasis_problems(t))

    prose = strip_code(t)
    if CJK_RE.search(prose):
        # The check looks at prose only: code spans, links and tags were replaced by a space.
        bare = CODE_SPAN.sub("`x`", t)
        bare = LINK_TARGET.sub("]", bare)
        bare = URL.sub("u", bare)
        bare = TAG.sub("", bare)
        for regex, what in [
            (PUNCT_AFTER, "ASCII punctuation after Chinese (use ，。：；？！)"),
            (PUNCT_BEFORE, "ASCII punctuation before Chinese (use ，。：；？！)"),
            (HALF_PARENS, "ASCII parentheses around Chinese (use （）)"),
            (NO_SPACE, "no space between Chinese and Latin letters, digits or code"),
            (SPACE_IN_CJK, "a space between two Chinese characters"),
        ]:
            m = regex.search(bare)
            if m:
                around = bare[max(0, m.start() - 8): m.end() + 8].replace("\n", " ")
                problems.append(f"{what}: …{around}…")
    elif re.search(r"\b[a-z]{3,}\b.*\b[a-z]{3,}\b", strip_code(s), re.S) and t == s:
        problems.append("left in English")

    low = strip_code(s).lower()
    for english, chinese in TERMS:
        if re.search(rf"\b{english}\b", low):
            exception = TERM_EXCEPTIONS.get(chinese)
            if exception and exception.search(s):
                continue
            if chinese not in t:
                problems.append(f"the English says {english.split('(')[0]!r}: the course's term "
                                f"is {chinese} (appendix-terms.md)")
    return problems


def lint(paths):
    count = 0
    for path in paths:
        for e in read_po(path):
            if not e.msgid or not e.msgstr:
                continue
            for p in lint_entry(e):
                count += 1
                where = e.refs[0] if e.refs else path
                print(f"{where}: {p}\n    msgid: {e.msgid[:90]!r}")
    return count


# ---- commands -------------------------------------------------------------------------------

def cmd_pot(_args):
    raw, pot, kept, left = extract()
    print(f"{pot.relative_to(ROOT)}: {len(kept)} messages to translate; kept in English: "
          + ", ".join(f"{n} {why}" for why, n in sorted(left.items())))


def cmd_update(_args):
    _, pot, kept, _ = extract()
    if not CATALOG.exists():
        raise SystemExit(f"{CATALOG} does not exist: start it with msginit -i {pot} -l zh_CN")
    subprocess.run(["msgmerge", "--quiet", "--update", "--backup=none", "--width=100",
                    str(CATALOG), str(pot)], check=True)
    subprocess.run(["msgattrib", "--no-obsolete", "--width=100", "-o", str(CATALOG),
                    str(CATALOG)], check=True)
    print_stats(kept)


def cmd_check(_args):
    _, pot, kept, _ = extract()
    failed = False
    if not CATALOG.exists():
        raise SystemExit(f"CATALOG MISSING: {CATALOG}")
    # msgcmp: every msgid of the POT must be in the catalog with a translation; a fuzzy one
    # counts as missing (no --use-fuzzy), and so does an empty one (no --use-untranslated).
    cmp = subprocess.run(["msgcmp", str(CATALOG), str(pot)], capture_output=True, text=True)
    if cmp.returncode != 0:
        lines = cmp.stderr.strip().splitlines()
        # msgcmp's words for an empty entry, a fuzzy one, and one the catalog lacks.
        missing = sum(1 for line in lines if re.search(
            r"this message is untranslated|needs to be reviewed|used but not defined", line))
        print("\n".join(lines[:40]))
        if len(lines) > 40:
            print(f"… and {len(lines) - 40} more lines")
        print(f"zh-CN catalog INCOMPLETE: {missing} of {len(kept)} messages have no "
              "(non-fuzzy) translation. Run `python3 tools/i18n.py update`, translate the "
              "empty and fuzzy entries of book/po/zh-CN.po, and remove their fuzzy flags.")
        failed = True
    fmt = subprocess.run(["msgfmt", "--check-format", "-o", os.devnull, str(CATALOG)],
                         capture_output=True, text=True)
    if fmt.returncode != 0:
        print(fmt.stderr)
        failed = True
    problems = lint([CATALOG])
    if problems:
        print(f"zh-CN catalog: {problems} style problems (see above)")
        failed = True
    if failed:
        sys.exit(1)
    print(f"zh-CN catalog complete: {len(kept)} of {len(kept)} messages translated, none fuzzy, "
          "lint clean")


def cmd_build(_args):
    # English first: its build empties book/build, the Chinese one goes inside it.
    build = BOOK / "build"
    env = dict(os.environ)
    env.pop("MDBOOK_BOOK__LANGUAGE", None)
    print("== the English edition: book/build", flush=True)
    if subprocess.run(["mdbook", "build", str(BOOK)], env=env).returncode != 0:
        raise SystemExit("mdbook build (English) failed")
    for language, folder, title, description in EDITIONS:
        print(f"== the {language} edition: book/build/{folder}", flush=True)
        env = dict(os.environ)
        env["MDBOOK_BOOK__LANGUAGE"] = language
        env["MDBOOK_BOOK__TITLE"] = title
        env["MDBOOK_BOOK__DESCRIPTION"] = description
        # 404.html links its scripts absolutely, from the site's root: this edition's is here.
        env["MDBOOK_OUTPUT__HTML__SITE_URL"] = f"/{folder}/"
        run = subprocess.run(["mdbook", "build", str(BOOK), "-d", str(build / folder)], env=env)
        if run.returncode != 0:
            raise SystemExit(f"mdbook build ({language}) failed")


def cmd_lint(args):
    n = lint(args.files)
    print(f"{n} problems")
    sys.exit(1 if n else 0)


def words(text):
    return len(strip_code(text).split())


def cmd_stats(_args):
    print_stats(extract()[2])


def print_stats(kept):
    """Messages, words and translated messages per chapter, for the POT's messages `kept`."""
    done = {}
    if CATALOG.exists():
        done = {e.msgid: e for e in read_po(CATALOG)}
    per = collections.defaultdict(lambda: [0, 0, 0])
    for e in kept:
        f = e.refs[0].split(":")[0] if e.refs else "?"
        per[f][0] += 1
        per[f][1] += words(e.msgid)
        d = done.get(e.msgid)
        if d and d.msgstr and not d.fuzzy:
            per[f][2] += 1
    for f, (n, w, ok) in sorted(per.items(), key=lambda kv: -kv[1][1]):
        print(f"{f:40} {n:5} messages {w:6} words  {ok:5} translated")
    total = [sum(v[i] for v in per.values()) for i in range(3)]
    print(f"{'all':40} {total[0]:5} messages {total[1]:6} words  {total[2]:5} translated")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("pot").set_defaults(func=cmd_pot)
    sub.add_parser("update").set_defaults(func=cmd_update)
    sub.add_parser("check").set_defaults(func=cmd_check)
    sub.add_parser("stats").set_defaults(func=cmd_stats)
    sub.add_parser("build").set_defaults(func=cmd_build)
    p = sub.add_parser("lint")
    p.add_argument("files", nargs="+")
    p.set_defaults(func=cmd_lint)
    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
