#!/usr/bin/env bash
# Regenerates the book's code-glyph webfont (book/theme/fonts/code-glyphs.woff2, its license and
# its list of characters) from the characters the built book's code blocks use, then checks the
# book in a browser. Run it after a chapter adds a non-ASCII character to a code block (the
# browser check says so), and commit the three files in book/theme/fonts/.
#
#   bash tools/book-font.sh
#
# Needs: Debian's Noto font packages (the glyphs' sources; installed here when run as root),
# python3 with venv, and what `bash .ci/run book browser` needs. fontTools comes from PyPI at the
# versions pinned below, in a virtual environment under target/ (which git ignores).
set -euo pipefail
exec </dev/null
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FONTTOOLS_VERSION=4.68.0 # builds the font (fontTools.fontBuilder) and writes WOFF2
BROTLI_VERSION=1.2.1     # the compression WOFF2 needs
FONT_PACKAGES=(fonts-noto-mono fonts-noto-core fonts-noto-cjk)
VENV=target/book-font-venv

missing=()
for package in "${FONT_PACKAGES[@]}"; do
    dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
        missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "book-font: the glyphs come from Debian's Noto fonts; install them first:" >&2
        echo "    sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
    echo "book-font: installing ${missing[*]} (the glyphs' sources, about 100 MB)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null ||
        { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null; }
fi

if ! "$VENV/bin/python" -c "
import sys, fontTools, brotli
sys.exit(fontTools.version != '$FONTTOOLS_VERSION' or brotli.__version__ != '$BROTLI_VERSION')
" 2>/dev/null; then
    echo "book-font: fontTools $FONTTOOLS_VERSION and brotli $BROTLI_VERSION into $VENV"
    python3 -m venv --clear "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check \
        "fonttools==$FONTTOOLS_VERSION" "brotli==$BROTLI_VERSION"
fi

echo "book-font: building the book to find the characters of its code blocks"
bash .ci/run book >/dev/null
"$VENV/bin/python" tools/book-font.py --build book/build

echo "book-font: rebuilding the book with the new font and checking every page in Chromium"
bash .ci/run book browser
