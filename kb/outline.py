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

import re

from .headings import Heading, headings_at
from .syntax import _TAG_AT_START_RE, _TAG_FAST_RE, _WIKI_FAST_RE, HEADING_LINE_RE, WIKI_RE, Fence

# A backtick fence at the start of a line (in "\n" + body): its run of backticks and the rest.
_FENCE_RE = re.compile(r"\n(`{3,})([^\n]*)")
# What the outline does not read: the scanner's other syntax, and line ends it does not expect.
_OTHER = ("~~~", "<!--", "{{", "@", "^", "\r")

Outline = tuple[list[tuple[str, str]], list[Heading], dict[str, int], list[Fence]]


def outline(body: str, data_kinds: tuple[str, ...]) -> Outline | None:
    """(refs, headings, block ids, data fences) of a plain note's body, as the scanner finds
    them; None where the body holds anything else. `data_kinds`: the fence infos kept."""
    for other in _OTHER:
        if other in body:
            return None
    if _TAG_FAST_RE.search(body) or _TAG_AT_START_RE.match(body):
        return None
    padded = "\n" + body
    prose = body
    data: list[Fence] = []
    if "`" in body:
        found = _fences(body, padded, data_kinds, data)
        if found is None:
            return None
        prose = found
    if "[[" not in prose:
        refs: list[tuple[str, str]] = []
    elif "![[" in prose:
        refs = [("embed" if bang else "link", inner.strip()) for bang, inner in WIKI_RE.findall(prose)]
    else:
        refs = [("link", inner.strip()) for inner in _WIKI_FAST_RE.findall(prose)]
    heads: list[Heading] = []
    if "#" in prose:
        lines, line, last = [], 0, 0
        for m in HEADING_LINE_RE.finditer("\n" + prose if prose is not body else padded):
            start = m.start()       # the line's start in the body
            line += body.count("\n", last, start)
            last = start
            end = body.find("\n", start)
            lines.append((line, body[start:end if end >= 0 else len(body)]))
        heads = headings_at(lines)
    return refs, heads, {}, data


def _fences(body: str, padded: str, data_kinds: tuple[str, ...], data: list[Fence]) -> str | None:
    """The body with its fenced code blocks blanked out (offsets kept), the data blocks among
    them added to `data`; None unless every backtick is in a closed fence's opening or closing
    line at the start of a line (no inline code, no indented fences, no backticks in code)."""
    parts: list[str] = []
    pos = seen = 0
    opener: tuple[int, int, str, str] | None = None
    for m in _FENCE_RE.finditer(padded):
        fence, info = m[1], m[2]
        seen += len(fence)
        if opener is None:          # (an info with backticks makes no fence: the count below says so)
            opener = (m.start(), m.end() - 1, fence, info)
        elif len(fence) >= len(opener[2]) and not info.strip():
            start, stop, _, info = opener
            end, close = m.end() - 1, m.start()
            parts.append(body[pos:start])
            parts.append(" " * (end - start))
            pos = end
            kind = info.strip()
            if kind.split(" ")[0] in data_kinds:
                data.append(Fence(body.count("\n", 0, start), body.count("\n", 0, close), kind, "",
                                  body[stop + 1:close - 1] if close > stop + 1 else "", start, end))
            opener = None
        # else: a fence line inside the block (another info, or shorter): code
    if opener is not None or seen != body.count("`"):
        return None                 # unclosed, or backticks elsewhere
    parts.append(body[pos:])
    return "".join(parts)
