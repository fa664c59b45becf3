#!/usr/bin/env python3
"""Opens every page of the built book in headless Chromium and checks what a reader sees.

Usage:
    python3 tools/book-check.py [--build book/build] [--edition zh-CN] [--chromium chromium]
                                [--timeout 60]

For every page of one edition (book/build/*.html, or book/build/zh-CN/*.html with --edition
zh-CN), the whole site served from 127.0.0.1 on a free port, it checks:
  fonts     every non-ASCII character in a `pre` or `code` element is drawn with the book's own
            webfont (so it looks the same on Linux, macOS and Windows), except Chinese, which may
            also be drawn with a font of the book's Chinese stack (theme/editions.css); every run
            of ASCII there is drawn with some font; and every run of Chinese in the prose is drawn
            with a font of that stack (not a fallback, not empty boxes);
  switch    the menu bar's language switch leads to the same page in the other edition;
  markdown  no `**` of an emphasis that did not render, and no `[!NOTE]`-style marker of an
            admonition that did not become a note box, is left in the prose;
  sidebar   every numbered chapter carries its number once (mdBook's label, not also the title),
            the introduction and the appendices carry none, every page of SUMMARY.md is listed,
            and a page whose title starts with a number has the sidebar's number;
  diagrams  every mermaid block became an SVG diagram, not mermaid's error picture;
  includes  no `{{#` directive is left unexpanded;
  links     every link to a page of the book leads to a built page, and to an anchor it has
            (and, once for the book, every page in book/src is listed in SUMMARY.md);
  errors    the page threw no JavaScript exception and logged no console or network error.

It prints one line per page, the reasons for each failure, and `N passed, N failed`; it exits 1
when a page fails and 2 when it cannot run the check at all.

It needs python3 (standard library only) and Chromium, driven through the DevTools protocol on a
pipe (`--remote-debugging-pipe`: commands on fd 3, replies on fd 4, NUL-separated JSON). Every
wait has a deadline, and Chromium's whole process group is killed when the check ends.
"""

import argparse
import functools
import html
import http.server
import json
import os
import pathlib
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import unicodedata

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The family name inside book/theme/fonts/code-glyphs.woff2 (see tools/book-font.py).
CODE_FONT = "Course Code Glyphs"
# The Chinese font stack of book/theme/editions.css (--cjk-fonts) and code-glyphs.css.
CJK_FONTS = {
    "PingFang SC",
    "Hiragino Sans GB",
    "Microsoft YaHei",
    "Noto Sans CJK SC",
    "Noto Sans Mono CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
}
# Chinese characters and the full-width punctuation around them: one character class, used here
# and (through PAGE_SCRIPT's %(cjk)s) in the page.
CJK_CLASS = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
CJK_RUN = re.compile(f"^[{CJK_CLASS}]+$")
EDITIONS = {"": "zh-CN", "zh-CN": ""}  # each edition's folder -> the other's
MAX_PROBLEMS = 30  # reasons printed for one page
NUMBER_PREFIX = re.compile(r"^\s*\d+(\.\d+)*\.?\s")


class CheckError(Exception):
    """The check itself could not run (no browser, a protocol timeout): exit status 2."""


class Browser:
    """Headless Chromium, spoken to over the DevTools pipe."""

    def __init__(self, binary, timeout, log_path):
        self.timeout = timeout
        self.next_id = 0
        self.replies = {}
        self.events = []
        self.closed = False
        self.lock = threading.Condition()
        self.profile = tempfile.mkdtemp(prefix="book-check-profile-")
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()
        args = [
            binary,
            "--headless",
            "--remote-debugging-pipe",
            f"--user-data-dir={self.profile}",
            # As root (CI) Chromium refuses to start without this; the pages are our own book.
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-sync",
            "--mute-audio",
            "--window-size=1280,1000",
            "about:blank",
        ]
        self.log = open(log_path, "wb")
        try:
            self.pid = os.posix_spawn(
                binary,
                args,
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, to_browser_r, 3),
                    (os.POSIX_SPAWN_DUP2, from_browser_w, 4),
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, self.log.fileno(), 1),
                    (os.POSIX_SPAWN_DUP2, self.log.fileno(), 2),
                ],
                # Its own process group, so that kill() reaches the renderers and the zygote too.
                setpgroup=0,
            )
        finally:
            os.close(to_browser_r)
            os.close(from_browser_w)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        buffer = b""
        while True:
            try:
                chunk = os.read(self.from_browser, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self.lock:
                    self.closed = True
                    self.lock.notify_all()
                return
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            with self.lock:
                for raw in messages:
                    message = json.loads(raw)
                    if "id" in message:
                        self.replies[message["id"]] = message
                    else:
                        self.events.append(message)
                self.lock.notify_all()

    def send(self, method, params=None, session=None):
        """Sends a command without waiting; returns its id for wait()."""
        with self.lock:
            self.next_id += 1
            ident = self.next_id
        message = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self.to_browser, data) :]
        except OSError as error:
            raise CheckError(f"Chromium stopped reading commands ({error})") from error
        return ident

    def wait(self, ident, method, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        with self.lock:
            while ident not in self.replies:
                left = deadline - time.monotonic()
                if self.closed:
                    raise CheckError(f"Chromium exited while waiting for {method}")
                if left <= 0:
                    raise CheckError(f"no reply to {method} within {timeout or self.timeout:.0f} s")
                self.lock.wait(left)
            reply = self.replies.pop(ident)
        if "error" in reply:
            raise CheckError(f"{method} failed: {reply['error'].get('message')}")
        return reply["result"]

    def call(self, method, params=None, session=None, timeout=None):
        return self.wait(self.send(method, params, session), method, timeout)

    def wait_event(self, method, session, timeout):
        """Waits for an event of this session; returns it, or None at the deadline."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for event in self.events:
                    if event.get("method") == method and event.get("sessionId") == session:
                        self.events.remove(event)
                        return event
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    return None
                self.lock.wait(left)

    def take_events(self, session):
        with self.lock:
            mine = [e for e in self.events if e.get("sessionId") == session]
            self.events = [e for e in self.events if e.get("sessionId") != session]
        return mine

    def evaluate(self, session, expression, timeout=None):
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            session,
            timeout,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CheckError(f"the check's own script failed in the page: {text}")
        return result["result"].get("value")

    def kill(self):
        try:
            if not self.closed:
                self.call("Browser.close", timeout=5)
        except CheckError:
            pass
        for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline:
                if os.waitpid(self.pid, os.WNOHANG) != (0, 0):
                    break
                time.sleep(0.05)
            else:
                continue
            break
        try:
            os.killpg(self.pid, signal.SIGKILL)  # anything of the group still left
        except ProcessLookupError:
            pass
        for fd in (self.to_browser, self.from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


def serve(build):
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(build))
    )
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def summary_links(summary):
    """Reads SUMMARY.md: [(page.html, title, numbered)] in order."""
    links = []
    for line in summary.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^(\s*[-*]\s+)?\[(.+)\]\(([^)]+)\.md\)\s*$", line)
        if match:
            links.append((match.group(3) + ".html", match.group(2), match.group(1) is not None))
    return links


def page_titles(pages):
    """Maps each page's file name to the text of its first heading in `main`."""
    titles = {}
    for page in pages:
        text = page.read_text(encoding="utf-8")
        main = text[text.find("<main") :]
        match = re.search(r"<h1\b[^>]*>(.*?)</h1>", main, re.S)
        if match:
            titles[page.name] = html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()
    return titles


def page_ids(pages):
    """Maps each page's file name to the set of its element ids (link targets)."""
    return {
        page.name: set(re.findall(r'\bid="([^"]+)"', page.read_text(encoding="utf-8")))
        for page in pages
    }


def broken_links(page, ids):
    """Links of this page to a page of the book that was not built, or to a missing anchor."""
    problems = []
    for match in re.finditer(r'<a\s[^>]*?href="([^"]*)"', page.read_text(encoding="utf-8")):
        href = html.unescape(match.group(1))
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", href) or href.startswith("/"):
            continue  # another site, or mdBook's absolute links on 404.html
        target, _, anchor = href.partition("#")
        target = target or page.name
        if "/" in target or not target.endswith(".html"):
            continue
        if target not in ids:
            problems.append(
                f"links: {href!r} goes to a page that was not built (is it in SUMMARY.md?)"
            )
        elif anchor and anchor not in ids[target]:
            problems.append(f"links: {href!r}: {target} has no anchor {anchor!r}")
    return sorted(set(problems))


def describe(ch):
    return f"U+{ord(ch):04X} {ch!r} ({unicodedata.name(ch, 'no name')})"


# Runs in the page before its own scripts: print.html opens the print dialog on load, and a
# headless browser has nobody to close it; mermaid replaces each diagram's source with the SVG, so
# keep the sources to explain a diagram that fails.
CAPTURE_SCRIPT = r"""
window.print = () => {};
document.addEventListener('DOMContentLoaded', () => {
  window.__bookCheckMermaid = [...document.querySelectorAll('pre.mermaid')].map(d => d.textContent);
});
"""

# Runs in the page after load: waits (bounded) for the web fonts and the mermaid diagrams, then
# wraps every non-blank ASCII run and every non-ASCII character of `pre`/`code` text in a span
# numbered by `data-bc`, so that the protocol can ask which font drew each of them.
PAGE_SCRIPT = r"""
(async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const deadline = Date.now() + %(mermaid_ms)d;
  const diagrams = () => [...document.querySelectorAll('pre.mermaid')];
  // Mermaid renders on load, asynchronously; its error picture is an SVG too (checked below).
  while (Date.now() < deadline && !diagrams().every(d => d.querySelector('svg'))) {
    await sleep(50);
  }
  const sources = window.__bookCheckMermaid || [];
  const mermaidDiagrams = await Promise.all(diagrams().map(async (d, i) => {
    const svg = d.querySelector('svg');
    const role = svg ? (svg.getAttribute('aria-roledescription') || '') : '';
    const shown = svg ? svg.cloneNode(true) : d;
    if (svg) for (const s of shown.querySelectorAll('style')) s.remove();
    const text = shown.textContent.replace(/\s+/g, ' ');
    const error = role === 'error' || /Syntax error in text/.test(text);
    const source = (sources[i] || '').trim();
    let why = '';
    if (error && window.mermaid && source) {
      try { await window.mermaid.parse(source); } catch (e) { why = String(e.message || e); }
    }
    const above = [...document.querySelectorAll('main h1, main h2, main h3')]
      .filter(h => h.compareDocumentPosition(d) & Node.DOCUMENT_POSITION_FOLLOWING).pop();
    return {svg: !!svg, error, why, kind: source.split('\n')[0].trim(),
            heading: above ? above.textContent.trim() : ''};
  }));

  // Hidden lines of Rust listings and folded <details> (solutions) are part of the book: show
  // them for the check, since text that is not displayed is drawn with no font at all.
  for (const c of document.querySelectorAll('.hide-boring')) c.classList.remove('hide-boring');
  for (const d of document.querySelectorAll('details')) d.open = true;

  const roots = [...document.querySelectorAll('pre, code')]
    .filter(e => !e.closest('pre.mermaid') && !e.parentElement.closest('pre, code'));
  const runs = [];
  let block = 0;
  // First find the displayed text nodes, then wrap: asking for layout between DOM changes would
  // lay the page out again for every node.
  const shown = [];
  for (const root of roots) {
    block += 1;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const parent = walker.currentNode.parentElement;
      if (parent && parent.getClientRects().length > 0) shown.push([walker.currentNode, block]);
    }
  }
  // Chinese in the prose: every run of it, outside code and diagrams (block 0).
  const cjk = /[%(cjk)s]/u;
  const prose = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (prose.nextNode()) {
    const node = prose.currentNode, parent = node.parentElement;
    if (!parent || !cjk.test(node.data) || parent.closest('pre, code, svg, script, style')) continue;
    if (parent.getClientRects().length > 0) shown.push([node, 0]);
  }
  for (const [node, block] of shown) {
    const parts = node.data.match(block === 0
      ? /[%(cjk)s]+|[^%(cjk)s]+/gu
      : /[\x21-\x7e]+|[%(cjk)s]+|[^\x00-\x7f]|[\x00-\x20\x7f]+/gu) || [];
    if (!parts.some(p => /[^\x00-\x20\x7f]/.test(p))) continue;
    const fragment = document.createDocumentFragment();
    for (const part of parts) {
      const blank = /^[\x00-\x20\x7f]+$/.test(part) || (part.length === 1 && /\s/u.test(part));
      if (blank || (block === 0 && !cjk.test(part))) { fragment.append(part); continue; }
      const span = document.createElement('span');
      span.textContent = part;
      span.setAttribute('data-bc', '');
      span.setAttribute('data-block', String(block));
      fragment.append(span);
    }
    node.replaceWith(fragment);
  }
  document.body.getBoundingClientRect();  // lay out the new spans before asking for fonts
  await Promise.race([document.fonts.ready, sleep(%(font_ms)d)]);
  const spans = [...document.querySelectorAll('[data-bc]')];
  for (const s of spans) {
    let line = '';
    if (/[^\x00-\x7f]/.test(s.textContent)) {  // the line around a non-ASCII character
      const block = (s.closest('pre, code') || s.parentElement).textContent;
      line = (block.split('\n').find(l => l.includes(s.textContent)) || '').trim().slice(0, 100);
    }
    runs.push({text: s.textContent, block: Number(s.getAttribute('data-block')), line,
               visible: s.getClientRects().length > 0});
  }

  const faces = [...document.fonts].filter(f => f.family.replace(/["']/g, '') === %(family)s)
    .map(f => f.status);
  const sidebar = [...document.querySelectorAll('ol.chapter')].slice(0, 1).flatMap(ol =>
    [...ol.querySelectorAll('a[href]')].map(a => {
      const strong = a.querySelector('strong');
      const label = strong ? strong.textContent.trim() : '';
      let title = a.textContent.trim();
      if (strong) title = title.slice(title.indexOf(label) + label.length).trim();
      return {href: a.getAttribute('href'), label, title};
    }));
  // Markdown that did not render: `**` left in the prose (an emphasis whose closing `**` follows
  // punctuation and precedes a letter cannot close, CommonMark's flanking rule; a translation
  // that writes `**TCP。**除非` shows its asterisks).
  const stray = [];
  const texts = document.createTreeWalker(document.querySelector('main') || document.body, NodeFilter.SHOW_TEXT);
  while (texts.nextNode() && stray.length < 3) {
    const node = texts.currentNode;
    if (node.parentElement.closest('pre, code, script, style')) continue;
    // Also an admonition's marker shown as text instead of a note box.
    const m = /\*\*|\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\]/.exec(node.data);
    if (m) stray.push(node.data.slice(Math.max(0, m.index - 20), m.index + 22).replace(/\s+/g, ' '));
  }
  const toggle = document.querySelector('.menu-bar a.language-switch');
  return {runs, mermaid: mermaidDiagrams, faces, sidebar,
          languageSwitch: toggle ? {href: toggle.href, text: toggle.textContent} : null, stray,
          text: document.body ? document.body.innerText : ''};
})()
"""


def check_switch(switch, base_url, edition, page, build_root):
    """The language switch: present, and leading to this page in the other edition."""
    if switch is None:
        if page.name == "toc.html":
            return []  # mdBook's sidebar alone, for readers without JavaScript: no menu bar
        return ["switch: no language switch (a.language-switch) in the menu bar"]
    other = EDITIONS[edition]
    expected = f"{base_url}/{other + '/' if other else ''}{page.name}"
    href = switch["href"].split("#")[0]
    if href != expected:
        return [f"switch: {switch['text']!r} leads to {href}, not to this page in the other "
                f"edition ({expected})"]
    if not (build_root / other / page.name).is_file():
        return [f"switch: {href} was not built (build both editions: python3 tools/i18n.py build)"]
    return []


def check_page(browser, base_url, page, summary, titles, ids, args):
    """Returns (problems, facts) for one page."""
    problems = []
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    try:
        for method in ("Page.enable", "Runtime.enable", "Log.enable", "DOM.enable", "CSS.enable"):
            browser.call(method, session=session)
        browser.call(
            "Page.addScriptToEvaluateOnNewDocument",
            {"source": CAPTURE_SCRIPT},
            session,
        )
        prefix = f"{args.edition}/" if args.edition else ""
        browser.call("Page.navigate", {"url": f"{base_url}/{prefix}{page.name}"}, session)
        if browser.wait_event("Page.loadEventFired", session, args.timeout) is None:
            problems.append(f"the page did not finish loading within {args.timeout:.0f} s")
            return problems, {}
        result = browser.evaluate(
            session,
            PAGE_SCRIPT
            % {
                "mermaid_ms": int(args.mermaid_timeout * 1000),
                "font_ms": 10000,
                "family": json.dumps(CODE_FONT),
                "cjk": CJK_CLASS,
            },
            timeout=args.mermaid_timeout + 30,
        )

        # fonts: ask, for every span, which fonts drew its glyphs. Pipelined: all asks first.
        root = browser.call("DOM.getDocument", {"depth": 0}, session)["root"]["nodeId"]
        nodes = browser.call(
            "DOM.querySelectorAll", {"nodeId": root, "selector": "[data-bc]"}, session
        )["nodeIds"]
        runs = result["runs"]
        if len(nodes) != len(runs):
            raise CheckError(f"{page.name}: {len(runs)} code runs in the page, {len(nodes)} nodes")
        asks = [browser.send("CSS.getPlatformFontsForNode", {"nodeId": n}, session) for n in nodes]
        non_ascii = {}
        bad_chars = {}
        cjk_runs = 0
        for run, ask in zip(runs, asks, strict=True):
            fonts = browser.wait(ask, "CSS.getPlatformFontsForNode")["fonts"]
            drawn = [f for f in fonts if f.get("glyphCount", 0) > 0]
            text = run["text"]
            if run["block"] == 0 or CJK_RUN.match(text):
                # Chinese, in the prose (block 0) or in code: the book's code font or the
                # Chinese stack.
                if not run["visible"]:
                    continue
                allowed = [
                    f
                    for f in drawn
                    if f.get("familyName") in CJK_FONTS
                    or (f.get("isCustomFont") and f.get("familyName") == CODE_FONT)
                ]
                if not drawn or len(allowed) != len(drawn):
                    where = "the prose" if run["block"] == 0 else f"code block {run['block']}"
                    used = ", ".join(str(f.get("familyName")) for f in drawn) or "no font"
                    key = ("cjk", used)
                    if key not in bad_chars:
                        bad_chars[key] = (
                            f"Chinese in {where} ({text[:12]!r}, line {run['line'][:60]!r}) is "
                            f"drawn with {used}, not a font of the book's Chinese stack "
                            f"({', '.join(sorted(CJK_FONTS))})"
                        )
                cjk_runs += 1
            elif not run["visible"]:
                problems.append(f"code block {run['block']}: {text!r} is not displayed")
                non_ascii[text] = non_ascii.get(text, 0) + 1
                ours = drawn and all(
                    f.get("isCustomFont") and f.get("familyName") == CODE_FONT for f in drawn
                )
                if not ours and text not in bad_chars:
                    used = (
                        ", ".join(
                            f"{f.get('familyName')}{' (web font)' if f.get('isCustomFont') else ''}"
                            for f in drawn
                        )
                        or "no font"
                    )
                    bad_chars[text] = (
                        f"{describe(text)} in code block {run['block']} is drawn with {used}, "
                        f"not the book's {CODE_FONT} (line: {run['line']!r}); "
                        "run bash tools/book-font.sh to add it to the font"
                    )
            elif not drawn:
                problems.append(
                    f"code block {run['block']}: {text[:40]!r} is drawn with no font at all"
                )
        problems.extend(bad_chars.values())
        if non_ascii and "loaded" not in result["faces"]:
            problems.append(
                f"the page has non-ASCII code but the {CODE_FONT} web font did not load "
                f"(font faces: {result['faces'] or 'none declared'})"
            )

        # sidebar
        sidebar = result["sidebar"]
        if not sidebar:
            problems.append("no sidebar (ol.chapter) on the page")
        else:
            # mdBook 0.5 also lists the current page's headings (links with a #fragment).
            pages_listed = [item for item in sidebar if "#" not in item["href"]]
            listed = {}
            for item in pages_listed:
                listed.setdefault(item["href"], item)
            for href, title, numbered in summary:
                item = listed.get(href)
                if item is None:
                    problems.append(f"sidebar: {href} ({title!r} in SUMMARY.md) is missing")
                    continue
                if NUMBER_PREFIX.match(item["title"]):
                    problems.append(
                        f"sidebar: {item['label']} {item['title']!r} carries a number in its "
                        "title too; the number belongs to mdBook's label only"
                    )
                if numbered and not re.fullmatch(r"\d+(\.\d+)*\.", item["label"]):
                    problems.append(f"sidebar: chapter {item['title']!r} has no number")
                if not numbered and item["label"]:
                    problems.append(
                        f"sidebar: {item['title']!r} is not a numbered chapter but is labelled "
                        f"{item['label']!r}"
                    )
            # A chapter's title starts with its number (`# 4. Sticky packets`); an introduction's
            # or an appendix's does not. The sidebar's label must say the same.
            for item in pages_listed:
                href = item["href"]
                title = titles.get(href)
                if title is None or re.fullmatch(r"\d+\.\d+(\.\d+)*\.", item["label"]):
                    continue  # not a page of this build, or a section inside a chapter
                number = re.match(r"^(\d+)\.\s", title)
                if item["label"] and not number:
                    problems.append(
                        f"sidebar: {href} is labelled {item['label']}, but its title {title!r} "
                        "is not a numbered chapter's (an introduction or appendix takes no number)"
                    )
                elif number and item["label"] != number.group(1) + ".":
                    problems.append(
                        f"sidebar: {href} is labelled {item['label'] or 'with no number'}, "
                        f"but its title {title!r} says {number.group(1)}"
                    )

        # diagrams
        for number, diagram in enumerate(result["mermaid"], 1):
            where = f"under {diagram['heading']!r}" if diagram["heading"] else "at the top"
            diagram["source"] = f"a {diagram['kind'] or 'diagram'} {where}"
            if not diagram["svg"]:
                problems.append(
                    f"mermaid diagram {number} ({diagram['source']}) was not rendered "
                    f"within {args.mermaid_timeout:.0f} s"
                )
            elif diagram["error"]:
                why = " ".join(diagram["why"].split()) or "(no message from mermaid.parse)"
                why = why.split(" Expecting ")[0]  # the list of tokens it wanted says little
                if ";" in why and diagram["kind"].startswith("sequenceDiagram"):
                    why += " (a ';' ends a statement in a sequence diagram: reword, or write #59;)"
                problems.append(
                    f"mermaid diagram {number} ({diagram['source']}) shows mermaid's "
                    f"'Syntax error' picture: {why}"
                )

        for snippet in result["stray"]:
            problems.append(
                f"markdown: shown as text, Markdown that did not render: …{snippet}… "
                "(an emphasis: put punctuation outside the **…**; an admonition: its marker "
                "must be the first line of its blockquote)"
            )
        problems.extend(broken_links(page, ids))
        problems.extend(
            check_switch(result["languageSwitch"], base_url, args.edition, page, args.build)
        )

        # includes
        for where, text in (
            ("the HTML file", page.read_text(encoding="utf-8")),
            ("the page", result["text"]),
        ):
            if "{{#" in text:
                at = text.index("{{#")
                problems.append(f"{where} has an unexpanded directive: {text[at : at + 60]!r}")
                break

        # errors: let late console messages arrive, then take every event of this page.
        time.sleep(0.2)
        for event in browser.take_events(session):
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                text = details.get("exception", {}).get("description") or details.get("text")
                problems.append(f"JavaScript exception: {str(text).splitlines()[0]}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                text = " ".join(
                    str(a.get("value", a.get("description", ""))) for a in params.get("args", [])
                )
                problems.append(f"console.{params['type']}: {text[:200]}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                if entry.get("url", "").endswith("/favicon.ico"):
                    continue  # asked for by the browser itself on toc.html, which names no icon
                where = f" {entry['url']}" if entry.get("url") else ""
                problems.append(
                    f"browser error ({entry.get('source')}): {entry.get('text')}{where}"
                )
        facts = {
            "runs": len(runs),
            "non_ascii": "".join(sorted(non_ascii)),
            "diagrams": len(result["mermaid"]),
            "cjk_runs": cjk_runs,
        }
        return problems, facts
    finally:
        try:
            browser.call("Target.closeTarget", {"targetId": target}, timeout=10)
        except CheckError:
            pass


def chromium_major(binary):
    import subprocess

    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=60).stdout
    match = re.search(r"(\d+)\.\d+\.\d+", out)
    return (int(match.group(1)) if match else None), out.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", type=pathlib.Path, default=ROOT / "book/build")
    parser.add_argument(
        "--summary", type=pathlib.Path, default=None, help="default: BUILD/../src/SUMMARY.md"
    )
    parser.add_argument(
        "--edition",
        default="",
        choices=sorted(EDITIONS),
        help="check this edition's pages (BUILD/EDITION/*.html); default: the English root",
    )
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "chromium"))
    parser.add_argument("--timeout", type=float, default=60, help="seconds for each protocol step")
    parser.add_argument(
        "--mermaid-timeout", type=float, default=20, help="seconds to wait for diagrams"
    )
    args = parser.parse_args()

    build = args.build.resolve()
    args.build = build
    summary_file = args.summary or build.parent / "src/SUMMARY.md"
    pages = sorted((build / args.edition).glob("*.html"))
    if not pages:
        print(f"book-check: no pages in {build}; build the book first", file=sys.stderr)
        return 2
    binary = shutil.which(args.chromium)
    if binary is None:
        print(f"book-check: {args.chromium} not found (apt-get install chromium)", file=sys.stderr)
        return 2
    summary = summary_links(summary_file)
    titles = page_titles(pages)
    ids = page_ids(pages)
    if not summary:
        print(f"book-check: no chapters found in {summary_file}", file=sys.stderr)
        return 2

    # SIGTERM (a CI timeout) ends the check through `finally`, so Chromium is killed too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    log = tempfile.NamedTemporaryFile(prefix="book-check-chromium-", suffix=".log", delete=False)
    log.close()
    server = serve(build)
    base_url = f"http://127.0.0.1:{server.server_address[1]}"
    browser = None
    passed = failed = 0
    started = time.monotonic()
    # A page of book/src that SUMMARY.md does not list is never built: its links lead nowhere.
    listed = {html_name for html_name, _, _ in summary}
    unlisted = sorted(
        md.name
        for md in summary_file.parent.glob("*.md")
        if md.name != "SUMMARY.md" and md.with_suffix(".html").name not in listed
    )
    if unlisted:
        failed += 1
        print(f"FAIL {summary_file.name}: not listed, so never built: {', '.join(unlisted)}")
    try:
        major, version = chromium_major(binary)
        print(f"book-check: {version}, {len(pages)} pages served from {base_url}")
        browser = Browser(binary, args.timeout, log.name)
        browser.call("Browser.getVersion", timeout=args.timeout)
        for page in pages:
            page_started = time.monotonic()
            problems, facts = check_page(browser, base_url, page, summary, titles, ids, args)
            took = time.monotonic() - page_started
            if problems:
                failed += 1
                print(f"FAIL {page.name} ({took:.1f} s)")
                for problem in problems[:MAX_PROBLEMS]:
                    print(f"     {problem}")
                if len(problems) > MAX_PROBLEMS:
                    print(f"     ... and {len(problems) - MAX_PROBLEMS} more problems")
            else:
                passed += 1
                extra = f", non-ASCII {facts['non_ascii']}" if facts["non_ascii"] else ""
                if facts["cjk_runs"]:
                    extra += f", {facts['cjk_runs']} runs of Chinese"
                print(
                    f"ok   {page.name}: {facts['runs']} code runs{extra}, "
                    f"{facts['diagrams']} diagrams ({took:.1f} s)"
                )
    except CheckError as error:
        print(f"book-check: could not run the check: {error}", file=sys.stderr)
        tail = pathlib.Path(log.name).read_text(errors="replace").splitlines()[-20:]
        if tail:
            print("last lines of Chromium's log:\n    " + "\n    ".join(tail), file=sys.stderr)
        return 2
    finally:
        if browser is not None:
            browser.kill()
        server.shutdown()
        os.unlink(log.name)
    print(f"book-check: {len(pages)} pages in {time.monotonic() - started:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
