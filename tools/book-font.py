#!/usr/bin/env python3
"""Builds the book's code-glyph webfont from the characters its code blocks use.

Browsers draw a character with the first font in the CSS stack that has it. The book's code
font (mdBook's Source Code Pro) has ASCII and Latin, but not the control pictures (U+2400 block)
or the Chinese of the transcripts, and stock fonts differ between Linux, macOS and Windows: on a
Debian machine with DejaVu fonts only, `␊` was an empty box. So the book ships one small font,
"Course Code Glyphs", first in the code font stack (book/theme/code-glyphs.css). It has every
non-ASCII character that appears in a `pre` or `code` element of the built book, and nothing
else: ASCII still falls through to Source Code Pro.

Usage (tools/book-font.sh does all of it, with the pinned fontTools):
    python3 tools/book-font.py [--build book/build] [--check]

    --check  builds nothing; exits 1 if the committed font lacks a character the book uses.

Every glyph is drawn from a Noto font installed by Debian's packages (SIL Open Font License 1.1):
fonts-noto-mono, fonts-noto-core and fonts-noto-cjk. Glyphs get the column width of the code
font (0.6 em, or 1.2 em for East Asian wide characters) so that transcripts stay aligned.
"""

import argparse
import html.parser
import pathlib
import sys
import unicodedata

ROOT = pathlib.Path(__file__).resolve().parent.parent
FONT = ROOT / "book/theme/fonts/code-glyphs.woff2"
LICENSE = ROOT / "book/theme/fonts/code-glyphs-OFL.txt"
MANIFEST = ROOT / "book/theme/fonts/code-glyphs.txt"
FAMILY = "Course Code Glyphs"
POSTSCRIPT = "CourseCodeGlyphs-Regular"

# Where glyphs come from, first match wins: (Debian package, file, face in a collection).
# The monospaced fonts come first so that a character keeps a code font's design.
SOURCES = [
    ("fonts-noto-mono", "/usr/share/fonts/truetype/noto/NotoSansMono-Regular.ttf", 0),
    (
        "fonts-noto-cjk",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "Noto Sans Mono CJK SC",
    ),
    ("fonts-noto-core", "/usr/share/fonts/truetype/noto/NotoSansSymbols2-Regular.ttf", 0),
    ("fonts-noto-core", "/usr/share/fonts/truetype/noto/NotoSansSymbols-Regular.ttf", 0),
    ("fonts-noto-core", "/usr/share/fonts/truetype/noto/NotoSansMath-Regular.ttf", 0),
    ("fonts-noto-core", "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", 0),
]
# The OFL's text, as Debian ships it in the package's copyright file.
OFL_SOURCE = pathlib.Path("/usr/share/doc/fonts-noto-cjk/copyright")

UNITS_PER_EM = 1000
# Source Code Pro, the code font the book uses for ASCII, advances 600 units per character.
NARROW, WIDE = 600, 1200
# Ascent and descent below Source Code Pro's (984 and 273), so that a line holding one of these
# glyphs is no taller than a line of ASCII.
ASCENT, DESCENT = 880, 220
MARGIN = 40  # least side bearing of a glyph that has to be shrunk to fit its column
# Control pictures (U+2400 block: ␊ ␍ ␀) are drawn at x-height, too small to read at code size
# in a transcript full of them: a quarter larger, they reach about cap height.
CONTROL_PICTURE_SCALE = 1.25
# A CJK glyph is drawn on a 1 em square; its column is 1.2 em, so at 1 em a line of Chinese
# looks spaced out. A tenth larger closes most of the gap.
WIDE_SCALE = 1.1


class CodeText(html.parser.HTMLParser):
    """Collects the text inside `pre` and `code` elements of one HTML page.

    Mermaid diagrams (`pre class="mermaid"`) are left out: the browser draws them as SVG pictures
    with mermaid's own fonts, not with the code font (tools/book-check.py leaves them out too)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open = []  # the pre/code elements we are in: True for a mermaid diagram
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if tag in ("pre", "code"):
            self.open.append("mermaid" in (dict(attrs).get("class") or "").split())

    def handle_endtag(self, tag):
        if tag in ("pre", "code") and self.open:
            self.open.pop()

    def handle_data(self, data):
        if self.open and not any(self.open):
            self.parts.append(data)


def code_characters(build):
    """Maps each non-ASCII character in a code element of the built book to its pages."""
    pages = sorted(build.glob("*.html"))
    if not pages:
        sys.exit(f"book-font: no HTML pages in {build}; build the book first (mdbook build book)")
    found = {}
    for page in pages:
        parser = CodeText()
        parser.feed(page.read_text(encoding="utf-8"))
        for ch in "".join(parser.parts):
            if ord(ch) > 127 and not ch.isspace():
                found.setdefault(ch, set()).add(page.name)
    return found


def describe(ch):
    return f"U+{ord(ch):04X} {ch} {unicodedata.name(ch, '(no name)')}"


def open_sources():
    from fontTools.ttLib import TTCollection, TTFont

    fonts = []
    missing = set()
    for package, path, face in SOURCES:
        if not pathlib.Path(path).exists():
            missing.add(package)
            continue
        if isinstance(face, str):
            chosen = [f for f in TTCollection(path).fonts if f["name"].getDebugName(1) == face]
            if not chosen:
                sys.exit(f"book-font: no face named {face!r} in {path}")
            font = chosen[0]
        else:
            font = TTFont(path, fontNumber=face)
        fonts.append((path, font))
    if missing:
        sys.exit(
            "book-font: the glyph sources are missing; install them with\n"
            f"    apt-get install -y {' '.join(sorted(missing))}"
        )
    return fonts


def build_font(chars):
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.boundsPen import BoundsPen
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.recordingPen import DecomposingRecordingPen
    from fontTools.pens.transformPen import TransformPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.misc.timeTools import timestampFromString

    sources = open_sources()
    order = [".notdef"]
    cmap, glyphs, metrics, manifest, copyrights = {}, {}, {}, [], []
    glyphs[".notdef"] = TTGlyphPen(None).glyph()
    metrics[".notdef"] = (NARROW, 0)
    unfound = []
    for ch in sorted(chars):
        found = [(p, f, f.getBestCmap().get(ord(ch))) for p, f in sources]
        found = [source for source in found if source[2] is not None]
        if not found:
            unfound.append(ch)
            continue
        path, font, name = found[0]
        glyph_set = font.getGlyphSet()
        scale = UNITS_PER_EM / font["head"].unitsPerEm
        outline = DecomposingRecordingPen(glyph_set)
        glyph_set[name].draw(outline)
        bounds_pen = BoundsPen(None)
        outline.replay(bounds_pen)
        advance = WIDE if unicodedata.east_asian_width(ch) in "WF" else NARROW
        source_advance = font["hmtx"][name][0] * scale
        if bounds_pen.bounds is None:  # a blank glyph
            transform = (scale, 0, 0, scale, 0, 0)
        else:
            x_min, _, x_max, _ = (v * scale for v in bounds_pen.bounds)
            width = x_max - x_min
            if 0x2400 <= ord(ch) <= 0x243F:
                grow = CONTROL_PICTURE_SCALE
            elif advance == WIDE:
                grow = WIDE_SCALE
            else:
                grow = 1.0
            if grow == 1.0 and source_advance == advance and x_min >= 0 and x_max <= advance:
                shrink, dx = 1.0, 0.0  # already drawn for this column: keep its spacing
            else:
                fit = (advance - 2 * MARGIN) / width if width else 1.0
                shrink = min(grow, fit)
                dx = (advance - width * shrink) / 2 - x_min * shrink
            transform = (scale * shrink, 0, 0, scale * shrink, dx, 0)
        tt_pen = TTGlyphPen(None)
        # PostScript outlines (the CJK collection) are cubic and run the other way round.
        cubic = "CFF " in font or "CFF2" in font
        target = Cu2QuPen(tt_pen, max_err=1.0, reverse_direction=True) if cubic else tt_pen
        outline.replay(TransformPen(target, transform))
        glyph = tt_pen.glyph()
        glyph_name = f"uni{ord(ch):04X}" if ord(ch) <= 0xFFFF else f"u{ord(ch):X}"
        glyph.recalcBounds(None)
        order.append(glyph_name)
        cmap[ord(ch)] = glyph_name
        glyphs[glyph_name] = glyph
        metrics[glyph_name] = (advance, getattr(glyph, "xMin", 0))
        family = font["name"].getDebugName(1)
        manifest.append(f"{describe(ch)}\tfrom {family} ({pathlib.Path(path).name})")
        notice = font["name"].getDebugName(0)
        if notice and notice not in copyrights:
            copyrights.append(notice)
    if unfound:
        sys.exit(
            "book-font: no source font has these characters; add a Noto font that has them to "
            "SOURCES in tools/book-font.py:\n" + "\n".join("    " + describe(c) for c in unfound)
        )

    builder = FontBuilder(UNITS_PER_EM, isTTF=True)
    builder.setupGlyphOrder(order)
    builder.setupCharacterMap(cmap)
    builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics(metrics)
    builder.setupHorizontalHeader(ascent=ASCENT, descent=-DESCENT, lineGap=0)
    builder.setupNameTable(
        {
            "copyright": "; ".join(copyrights),
            "familyName": FAMILY,
            "styleName": "Regular",
            "uniqueFontIdentifier": f"{POSTSCRIPT}; made by tools/book-font.py",
            "fullName": f"{FAMILY} Regular",
            "psName": POSTSCRIPT,
            "version": "Version 1.000",
            "description": "Noto glyphs for the non-ASCII characters of the book's code blocks.",
            "licenseDescription": "This Font Software is licensed under the SIL Open Font License, "
            "Version 1.1.",
            "licenseInfoURL": "https://openfontlicense.org",
        }
    )
    builder.setupOS2(
        sTypoAscender=ASCENT,
        sTypoDescender=-DESCENT,
        sTypoLineGap=0,
        usWinAscent=ASCENT,
        usWinDescent=DESCENT,
        achVendID="NONE",
        fsType=0,  # installable embedding, as the OFL allows
    )
    builder.setupPost(isFixedPitch=0)
    builder.setupHead(unitsPerEm=UNITS_PER_EM, fontRevision=1.0)
    # Same characters, same bytes: a fixed date (2026-01-01), not the time of the build.
    builder.font.recalcTimestamp = False
    builder.font["head"].created = builder.font["head"].modified = timestampFromString(
        "Thu Jan  1 00:00:00 2026"
    )
    builder.font.flavor = "woff2"
    FONT.parent.mkdir(parents=True, exist_ok=True)
    builder.save(FONT)
    return manifest, copyrights


def write_license(copyrights):
    lines = OFL_SOURCE.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if "SIL OPEN FONT LICENSE Version 1.1" in line)
    text = []
    for line in lines[start - 1 :]:
        if line.startswith("License:"):
            break
        line = line[1:] if line.startswith(" ") else line
        text.append("" if line == "." else line)
    header = [
        f"{FAMILY} (code-glyphs.woff2) is a Modified Version, made by tools/book-font.py, of",
        "Noto fonts as Debian packages them (fonts-noto-mono, fonts-noto-core, fonts-noto-cjk).",
        "It keeps their license. Copyright notices of the fonts its glyphs come from:",
        "",
        *("  " + c for c in copyrights),
        "",
    ]
    LICENSE.write_text("\n".join(header + text).rstrip() + "\n", encoding="utf-8")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=pathlib.Path, default=ROOT / "book/build")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()

    found = code_characters(args.build)
    if args.check:
        from fontTools.ttLib import TTFont

        have = set(TTFont(FONT).getBestCmap())
        lacking = sorted(ch for ch in found if ord(ch) not in have)
        for ch in lacking:
            print(f"not in {FONT.name}: {describe(ch)} (in {', '.join(sorted(found[ch]))})")
        if lacking:
            sys.exit("book-font: the font is out of date; run bash tools/book-font.sh")
        print(f"{FONT.name} has all {len(found)} non-ASCII characters of the book's code")
        return

    manifest, copyrights = build_font(found)
    write_license(copyrights)
    MANIFEST.write_text(
        f"# The characters in {FONT.name}, made by tools/book-font.py from book/build.\n"
        + "\n".join(manifest)
        + "\n",
        encoding="utf-8",
    )
    print(
        f"wrote {FONT.relative_to(ROOT)} ({FONT.stat().st_size} bytes, {len(manifest)} characters):"
    )
    print("\n".join("    " + line for line in manifest))


if __name__ == "__main__":
    main()
