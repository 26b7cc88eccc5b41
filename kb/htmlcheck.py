"""Every link and anchor in a built site resolves: relative href/src to a file, #fragment to an id.

External links (http:, https:, mailto:, data:, javascript: and any other scheme) are
not this module's business; `kb check --external` looks at the notes' web links.
"""
from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .diagnostics import Diagnostic

LINK_ATTRS = {
    "a": "href", "area": "href", "link": "href",
    "img": "src", "script": "src", "iframe": "src", "audio": "src", "video": "src",
    "source": "src", "embed": "src", "track": "src",
}


@dataclass
class PageInfo:
    ids: set[str] = field(default_factory=set)
    links: list[tuple[str, int, int]] = field(default_factory=list)    # (url, line, col)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.info = PageInfo()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        want = LINK_ATTRS.get(tag)
        for name, value in attrs:
            if value is None:
                continue
            if name == "id" or (name == "name" and tag == "a"):
                self.info.ids.add(value)
            elif name == want:
                line, col = self.getpos()
                self.info.links.append((value, line, col + 1))

    handle_startendtag = handle_starttag


def scan_page(path: Path) -> PageInfo:
    parser = _Collector()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    return parser.info


def check_site(site: Path, display: str | None = None) -> list[Diagnostic]:
    """Problems with internal links in every .html file under `site`.

    `display` is how the site folder is named in messages (e.g. "site"), default its path.
    """
    site = site.resolve()
    shown = display if display is not None else site.as_posix()
    pages: dict[str, PageInfo] = {}
    for dirpath, _dirs, files in os.walk(site):
        for name in files:
            if name.endswith((".html", ".htm")):
                full = Path(dirpath) / name
                pages[full.relative_to(site).as_posix()] = scan_page(full)
    out: list[Diagnostic] = []
    for rel, info in sorted(pages.items()):
        for url, line, col in info.links:
            why = _problem(url, rel, site, pages)
            if why:
                out.append(Diagnostic(f"{shown}/{rel}", line, col, "error", f'link "{url}": {why}', "broken-html-link"))
    return out


def _problem(url: str, page: str, site: Path, pages: dict[str, PageInfo]) -> str | None:
    url = url.strip()
    if not url or url.startswith("//"):
        return None
    parts = urlsplit(url)
    if parts.scheme:
        return None     # http(s), mailto, data, javascript, ...: not a file of this site
    if parts.path:
        base = "" if parts.path.startswith("/") else posixpath.dirname(page)
        target = posixpath.normpath(posixpath.join(base, unquote(parts.path).lstrip("/")))
        if target == ".." or target.startswith("../"):
            return "points outside the site"
        full = site / target if target != "." else site
        if full.is_dir() or parts.path.endswith("/"):     # a directory URL means its index.html
            target = posixpath.normpath(posixpath.join(target, "index.html"))
            full = site / target
        if not full.is_file():
            return f"no file {target} in the built site"
    else:
        target = page
    frag = unquote(parts.fragment)
    if frag and target in pages and frag not in pages[target].ids:
        return f'no element with id "{frag}" in {target}'
    return None
