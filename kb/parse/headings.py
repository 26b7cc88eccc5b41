"""Headings and block anchors of a note, with the ids MkDocs' toc will give them."""
from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from typing import Callable, NamedTuple

from .lazy import cached
from .syntax import (BLOCK_ANCHOR_RE, HEADING_LINE_RE, HEADING_RE, WIKI_RE, Fence, TextIndex, code_line_mask,
                     fences, new_tuple, plain_prose)

_LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_TAG_RE = re.compile(r"(?<!\\)<[^>]+>")      # a backslashed '<' is text (Python-Markdown shows it)
_CODE_RE = re.compile(r"(`+)(.+?)\1")
_ESCAPED_RE = re.compile(r"\\([\\`*_{}\[\]()>#+\-.!])")   # Python-Markdown's backslash escapes ('<' is not one)
_EMPH_RE = re.compile(r"(\*{1,3}|_{2,3})(?=\S)(.+?)(?<=\S)\1")
_ATTR_ID_RE = re.compile(r"\{:?\s*#([\w\-]+)[^}]*\}\s*$")      # attr_list's `{#id}` ending a heading


@lru_cache(maxsize=65536)
def slugify(text: str) -> str:
    """Python-Markdown's toc slugify (the ids MkDocs gives headings)."""
    value = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


@lru_cache(maxsize=65536)
def canonical(anchor: str) -> str:
    """A key under which Dendron's and MkDocs' spellings of one heading meet."""
    return re.sub(r"-+", "-", slugify(anchor.replace("_", "-"))).strip("-")


@lru_cache(maxsize=65536)
def heading_plain_text(md: str) -> str:
    """The text toc slugifies: inline Markdown rendered and tags stripped (close enough)."""
    t = WIKI_RE.sub(lambda m: m["inner"].split("|")[0], md)
    t = _LINK_RE.sub(r"\1", t)
    t = _EMPH_RE.sub(r"\2", t)
    if "`" in t:    # a code span's '<' is text, not a tag (`<T>` stays in the id as toc keeps it)
        t = _CODE_RE.sub(lambda m: html.escape(m[2], quote=False), t).replace("`", "")
    t = _TAG_RE.sub("", t)
    if "\\" in t:
        t = _ESCAPED_RE.sub(r"\1", t)
    return html.unescape(t)


class Heading(NamedTuple):
    """One heading (a tuple: a big vault has tens of thousands, made again from the cache per run)."""
    level: int
    text: str      # as written
    slug: str      # the id in the built page
    line: int      # 0-based line in the body


def headings(lines: list[str], mask: list[bool] | None = None) -> list[Heading]:
    mask = mask if mask is not None else code_line_mask(lines, fences(lines))
    return headings_at([(i, line) for i, line in enumerate(lines) if not mask[i] and line.startswith("#")])


def headings_at(candidates: list[tuple[int, str]]) -> list[Heading]:
    """Headings among the given (line number, line) pairs (outside code), with toc's ids."""
    out: list[Heading] = []
    used: dict[str, int] = {}
    memo = _LINE_HEADINGS
    for i, line in candidates:
        found = memo.get(line, _UNSEEN)
        if found is _UNSEEN:
            if len(memo) >= _MEMO_MAX:
                memo.clear()
            found = memo[line] = _heading_of(line)
        if found is None:
            continue
        level, text, slug = found
        base = slug
        if slug in used:   # toc de-duplicates repeated ids with _1, _2, ...
            used[base] += 1
            slug = f"{base}_{used[base]}"
        else:
            used[slug] = 0
        out.append(new_tuple(Heading, (level, text, slug, i)))
    return out


# A heading line's level, text and id before de-duplication, by the line: vaults repeat
# their headings ("## Summary"), and slugifying one takes several regex passes.
_LINE_HEADINGS: dict[str, tuple[int, str, str] | None] = {}
_MEMO_MAX = 1 << 16
_UNSEEN = object()


def _heading_of(line: str) -> tuple[int, str, str] | None:
    rest = line.lstrip("#")
    level = len(line) - len(rest)
    if not 1 <= level <= 6 or not rest or rest[0] not in " \t":
        return None
    if line[-1] in "# \t":   # maybe a closing '###': the full pattern
        m = HEADING_RE.match(line)
        if not m:
            return None
        text = m["text"].strip()
    else:                   # the usual heading: the text is all that follows the '#'s
        text = rest.strip()
    attr = _ATTR_ID_RE.search(text) if "{" in text else None
    if attr:      # an explicit id from attr_list wins
        return level, text[:attr.start()].strip(), attr[1]
    return level, text, slugify(heading_plain_text(text))


def heading_lines(text: str, searched: str, in_code: Callable[[int], bool] | None = None) -> list[tuple[int, str]]:
    """(line number, line) of the lines of `text` that may be headings: those starting with
    1-6 '#' and a blank in `searched` (the text, or the text with its code blanked out),
    and not where `in_code` says."""
    found, line, last = [], 0, 0
    for m in HEADING_LINE_RE.finditer("\n" + searched):
        start = m.start()       # the line's start in the text
        if in_code is None or not in_code(start):
            line += text.count("\n", last, start)
            last = start
            end = text.find("\n", start)
            found.append((line, text[start:end if end >= 0 else len(text)]))
    return found


# Lines where CommonMark's blocks decide what is a heading: a raw HTML block (a `#` line in it
# is its text, not a heading) and an ATX heading indented 1-3 spaces (a heading at the top level).
# (Comments are code to the heading scan already.)
_TAG_LINE_RE = re.compile(r"\n {0,3}<(?!!--)[A-Za-z!?/]")
_INDENTED_HEADING_RE = re.compile(r"\n {1,3}#{1,6}(?:[ \t\n]|$)")


def commonmark_blocks(text: str, found: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The (line number, line) pairs that may be headings, as the page renders the text (see
    kb.parse.commonmark): less those in raw HTML blocks, with the top level's indented ATX headings."""
    before = False      # a line starting with a tag before the last heading: an HTML block may hold it
    if found and "<" in text:
        m = _TAG_LINE_RE.search("\n" + text)
        before = m is not None and text.count("\n", 0, m.start()) < found[-1][0]
    if not before and not (" #" in text and _INDENTED_HEADING_RE.search("\n" + text)):
        return found
    from .commonmark import top_level_blocks
    html, indented = top_level_blocks(text)
    if not html and not indented:
        return found
    lines = text.split("\n")
    out = [(i, line) for i, line in found if i not in html] + [(i, lines[i].lstrip(" ")) for i in indented]
    out.sort(key=lambda pair: pair[0])
    return out


class Doc:
    """A Markdown text with its structure computed once: lines, code, headings, blocks."""

    def __init__(self, text: str):
        self.text = text

    @cached
    def lines(self) -> list[str]:
        return self.text.split("\n")

    @cached
    def plain(self) -> tuple[str, list[Fence]] | None:
        """The text with its code blanked out, and its fences, where fences are all its code."""
        return plain_prose(self.text, None)

    @cached
    def index(self) -> TextIndex:
        return TextIndex(self.text, plain=self.plain)

    @cached
    def mask(self) -> list[bool]:
        return code_line_mask(self.lines, self.index.fences)

    @cached
    def headings(self) -> list[Heading]:
        if "#" not in self.text:
            return []
        plain = self.plain
        if plain is not None:       # code only in fences: look for headings where it is not
            return headings_at(commonmark_blocks(self.text, heading_lines(self.text, plain[0])))
        return headings_at(commonmark_blocks(self.text, heading_lines(self.text, self.text, self.index.in_code)))

    @cached
    def blocks(self) -> dict[str, int]:
        if "^" not in self.text:
            return {}
        ix = self.index
        out: dict[str, int] = {}
        for m in BLOCK_ANCHOR_RE.finditer(self.text):
            if not ix.in_code(m.start("id")):
                out.setdefault(m["id"], ix.pos(m.start("id"))[0])
        return out

