"""Every link and anchor in a built site resolves: relative href/src to a file, #fragment to an id.

External links (http:, https:, mailto:, data:, javascript: and any other scheme) are
not this module's business; `kb check --external` looks at the notes' web links.
"""
from __future__ import annotations

import bisect
import html
import os
import posixpath
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..parse.diagnostics import Diagnostic

LINK_ATTRS = {
    "a": "href", "area": "href", "link": "href",
    "img": "src", "script": "src", "iframe": "src", "audio": "src", "video": "src",
    "source": "src", "embed": "src", "track": "src",
}


# Link attributes of the tags in LINK_ATTRS, and ids. Regular expressions, not a full parser:
# the pages are MkDocs' own output, and a site has thousands of them.
LINK_RE = re.compile(r"<(?P<tag>a|area|link|img|script|iframe|audio|video|source|embed|track)\b"
                     r"(?P<pre>[^>]*?)\s(?P<attr>href|src)\s*=\s*(?:\"(?P<v1>[^\"]*)\"|'(?P<v2>[^']*)'|(?P<v3>[^\s>]+))",
                     re.I)
ID_RE = re.compile(r"\s(?:id|name)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+))", re.I)
# Where tags are not markup: comments, and the bodies of script and style elements.
OPAQUE_RE = re.compile(r"<!--(.*?)-->|<(script|style)\b[^>]*>(.*?)</\2\s*>", re.S | re.I)


@dataclass
class PageInfo:
    ids: set[str] = field(default_factory=set)
    links: list[tuple[str, int]] = field(default_factory=list)    # (url, offset in text)
    text: str = ""

    def position(self, offset: int) -> tuple[int, int]:
        """1-based line and column of an offset (computed only for problems)."""
        line = self.text.count("\n", 0, offset) + 1
        return line, offset - (self.text.rfind("\n", 0, offset) + 1) + 1


def _unescape(value: str) -> str:
    return html.unescape(value) if "&" in value else value


def scan_text(text: str) -> PageInfo:
    """Ids and link URLs of one HTML page, with where each link starts."""
    info = PageInfo(text=text)
    # Inside comments and script/style bodies nothing is a tag (the <script src> tag itself is).
    skip = [m.span(1) if m.group(1) is not None else m.span(3) for m in OPAQUE_RE.finditer(text)]
    starts = [s for s, _ in skip]

    def hidden(pos: int) -> bool:
        i = bisect.bisect_right(starts, pos) - 1
        return i >= 0 and pos < skip[i][1]

    for m in LINK_RE.finditer(text):
        tag = m.group("tag").lower()
        if m.group("attr").lower() != LINK_ATTRS[tag] or (skip and hidden(m.start())):
            continue
        value = m.group("v1") if m.group("v1") is not None else m.group("v2") if m.group("v2") is not None else m.group("v3")
        info.links.append((_unescape(value), m.start()))
    for m in ID_RE.finditer(text):
        if skip and hidden(m.start()):
            continue
        info.ids.add(_unescape(m.group(1) if m.group(1) is not None else m.group(2) if m.group(2) is not None else m.group(3)))
    return info


def scan_page(path: Path) -> PageInfo:
    return scan_text(path.read_text(encoding="utf-8", errors="replace"))


def check_site(site: Path, display: str | None = None) -> list[Diagnostic]:
    """Problems with internal links in every .html file under `site`.

    `display` is how the site folder is named in messages (e.g. "site"), default its path.
    The pages are read one at a time and each is let go once read: what stays is its ids, and
    for links into other pages, which pages ask each (page, fragment). Pages with a problem are
    read again for the line and column of each (they are few; a site without problems is read once).
    """
    site = site.resolve()
    shown = display if display is not None else site.as_posix()
    files: set[str] = set()
    dirs: set[str] = {"."}
    html_pages: list[str] = []
    for dirpath, dirnames, filenames in os.walk(site):
        rel_dir = Path(dirpath).relative_to(site).as_posix()
        dirs.update(posixpath.normpath(posixpath.join(rel_dir, d)) for d in dirnames)
        for name in filenames:
            rel = posixpath.normpath(posixpath.join(rel_dir, name))
            files.add(rel)
            if name.endswith((".html", ".htm")):
                html_pages.append(rel)
    html_pages.sort()
    ids: dict[str, frozenset[str]] = {}
    wanted: dict[tuple[str, str], list[str]] = {}    # (page, fragment) -> the pages linking to it
    bad: set[str] = set()
    seen: dict[tuple[str, str], tuple | None] = {}   # the same links recur (sidebar, footer); bounded
    for rel in html_pages:
        info = scan_page(site / rel)
        ids[rel] = frozenset(sys.intern(i) for i in info.ids)
        folder = posixpath.dirname(rel)
        if len(seen) > 20_000:
            seen.clear()
        for url, _offset in info.links:
            key = (rel, url) if url.startswith("#") else (folder, url)
            if key in seen:
                res = seen[key]
            else:
                seen[key] = res = _resolve(url, rel, files, dirs)
            if res is None:
                continue
            why, target, frag = res
            if why:
                bad.add(rel)
                break
            if not frag or not target.endswith((".html", ".htm")):
                continue
            if target in ids:
                if frag not in ids[target]:
                    bad.add(rel)
                    break
            else:
                users = wanted.setdefault((target, frag), [])
                if not users or users[-1] is not rel:
                    users.append(rel)
        del info
    for (target, frag), users in wanted.items():
        if target in ids and frag not in ids[target]:
            bad.update(users)
    wanted.clear()
    out: list[Diagnostic] = []
    for rel in sorted(bad):
        info = scan_page(site / rel)
        for url, offset in info.links:
            why = _problem(url, rel, files, dirs, ids)
            if why:
                line, col = info.position(offset)
                out.append(Diagnostic(f"{shown}/{rel}", line, col, "error", f'link "{url}": {why}', "broken-html-link"))
    return out


def _resolve(url: str, page: str, files: set[str], dirs: set[str]) -> tuple[str | None, str, str] | None:
    """(problem with the file, target file, fragment) of a link, or None for a link that is not
    to this site (http, mailto...)."""
    url = url.strip()
    if not url or url.startswith("//"):
        return None
    parts = urlsplit(url)
    if parts.scheme:
        return None     # http(s), mailto, data, javascript, ...: not a file of this site
    frag = unquote(parts.fragment)
    if parts.path:
        base = "" if parts.path.startswith("/") else posixpath.dirname(page)
        target = posixpath.normpath(posixpath.join(base, unquote(parts.path).lstrip("/")))
        if target == ".." or target.startswith("../"):
            return "points outside the site", target, frag
        if target in dirs or parts.path.endswith("/"):     # a directory URL means its index.html
            target = posixpath.normpath(posixpath.join(target, "index.html"))
        if target not in files:
            return f"no file {target} in the built site", target, frag
    else:
        target = page
    return None, target, frag


def _problem(url: str, page: str, files: set[str], dirs: set[str], ids: dict[str, frozenset[str]]) -> str | None:
    res = _resolve(url, page, files, dirs)
    if res is None:
        return None
    why, target, frag = res
    if why:
        return why
    if frag and target in ids and frag not in ids[target]:
        return f'no element with id "{frag}" in {target}'
    return None
