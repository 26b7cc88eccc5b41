"""What `kb check` reads of a plain note, without the general scanner.

Most notes of a big vault hold prose, wikilinks, headings and fenced code blocks at the start
of their lines, and nothing else the scanner looks for: no inline code, tildes, comments,
tags, users, frontmatter variables or block anchors. For those, `outline` finds the refs,
headings and data blocks with a few passes of the regex engine over the whole body, where
the scanner takes Python steps per link and per code range (about half of a first run's
parse). Anything else returns None and goes to the scanner; the two agree on every note
where `outline` answers (tests/test_outline.py compares them).
"""
from __future__ import annotations

from itertools import repeat

from .headings import Heading, commonmark_blocks, heading_lines, headings_at
from .syntax import _HTML_LINE_RE, _TAG_AT_START_RE, _TAG_FAST_RE, _WIKI_FAST_RE, WIKI_RE, Fence, plain_prose

# The scanner's syntax that plain_prose leaves in: frontmatter variables, users, block anchors.
_OTHER = ("{{", "@", "^")

Outline = tuple[list[tuple[str, str]], list[Heading], dict[str, int], list[Fence]]


def outline(body: str, data_kinds: tuple[str, ...]) -> Outline | None:
    """(refs, headings, block ids, data fences) of a plain note's body, as the scanner finds
    them; None where the body holds anything else. `data_kinds`: the fence infos kept."""
    for other in _OTHER:
        if other[0] in body and other in body:   # one character first: a search for it is 30x faster
            return None
    if _TAG_FAST_RE.search(body) or _TAG_AT_START_RE.match(body):
        return None
    plain = plain_prose(body, data_kinds)
    if plain is None:
        return None
    prose, data = plain
    if "[[" not in prose:
        refs: list[tuple[str, str]] = []
    elif "<" in prose and _HTML_LINE_RE.search(prose):
        return None             # raw HTML, where a wikilink is no link: the scanner's
    elif "![[" in prose:
        refs = [("embed" if bang else "link", inner.strip()) for bang, inner in WIKI_RE.findall(prose)]
    else:
        refs = list(zip(repeat("link"), map(str.strip, _WIKI_FAST_RE.findall(prose))))
    heads = headings_at(commonmark_blocks(body, heading_lines(body, prose))) if "#" in prose else []
    return refs, heads, {}, data
