"""Theme blocks rendered once per page depth instead of once per page.

Material renders the same <head> assets, header, search box and config script into
every page; only their relative URLs change with the page's depth, and the header
shows the page title. Rendering them for each of thousands of pages is a large share
of the build. The theme override (overrides/main.html) wraps those blocks in
`{% call kb_memo.block(...) %}` or `kb_memo.titled(...)`: the first page at a depth
renders the block, later pages at that depth reuse it.

Why reuse is exact: every URL in these blocks points at the site root (the home page)
or at a non-page file (theme assets, extra CSS/JS). From a page at depth d, MkDocs
writes such a URL as "../" * d + target unless the page's own URL shares its first
segment with the target (a note called `assets.x`). Pages whose first segment names a
folder holding any non-page file are therefore always rendered, never memoized (over-
cautious for a folder that only holds a data download, and still exact).
"""
from __future__ import annotations

from typing import Callable, Iterable

TITLE_MARK = "\x00kb-title\x00"   # cannot occur in a page title read from YAML or a file name


class BlockMemo:
    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self.reserved = {r for r in reserved if r}    # first URL segments of non-page files
        self._blocks: dict[tuple[str, int], str] = {}
        self._untitled: set[str] = set()      # blocks that showed the title more than once

    @staticmethod
    def _depth(url: str) -> int:
        return url.count("/")    # page URLs are directory URLs ("", "a/", "a/b/")

    def _key(self, name: str, url: str | None) -> tuple[str, int] | None:
        if url is None or url.split("/", 1)[0] in self.reserved or not (url == "" or url.endswith("/")):
            return None
        return name, self._depth(url)

    def block(self, name: str, url: str | None, *, caller: Callable[[], str]) -> str:
        """A block that depends on the configuration and the page's depth only."""
        key = self._key(name, url)
        if key is None:
            return caller()
        out = self._blocks.get(key)
        if out is None:
            out = self._blocks[key] = caller()
        return out

    def titled(self, name: str, url: str | None, meta: dict | None, *, caller: Callable[[], str]) -> str:
        """A block that also shows `page.meta.title` (raw, as Material writes it): rendered
        once with a marker in the title's place, the marker replaced for each page."""
        key = self._key(name, url)
        title = meta.get("title") if meta else None
        if key is None or name in self._untitled or not isinstance(title, str) or not title:
            return caller()
        out = self._blocks.get(key)
        if out is None:
            meta["title"] = TITLE_MARK
            try:
                out = caller()
            finally:
                meta["title"] = title
            if out.count(TITLE_MARK) != 1:   # not the one place we expect: render it per page
                self._untitled.add(name)
                return caller()
            self._blocks[key] = out
        return out.replace(TITLE_MARK, title)
