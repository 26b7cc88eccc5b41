"""Parse the inside of a wikilink or embed into a structured reference.

Forms (SPEC "Links and embeds"): `a.b`, `text|a.b` (Dendron's order), `a.b|text`
(Obsidian's order, when only the left side names a note), `a.b#heading`,
`#heading`, `a.b#^block`, `dendron://VAULT/a.b`, `a.b#h1:#h2`, `a.b#h1:#*`,
`a.b.*`, and Dendron's heading offsets `a.b#h1,1:#*`.
"""
from __future__ import annotations

import re
from typing import Callable, NamedTuple

from .syntax import new_tuple

VAULT_RE = re.compile(r"^dendron://(?P<vault>[^/]+)/")
OFFSET_RE = re.compile(r",\d+$")


class Ref(NamedTuple):
    """A parsed wikilink (a tuple: big vaults parse tens of thousands)."""
    raw: str                 # the inner text as written
    fname: str               # target note ('' for this note)
    alias: str | None        # link text, if written
    anchor: str | None       # heading text or slug, as written (without '#')
    anchor_end: str | None   # end of a range: heading, or '*' for the end of the note
    block: str | None        # block id for '#^id'
    wildcard: bool           # 'a.b.*': the children of a.b
    vault: str | None
    target_span: tuple[int, int]   # where the target (vault prefix + fname) stands in raw
    swapped: bool = False    # True when read in Obsidian's order (target|text)

    @property
    def target_text(self) -> str:
        return self.raw[self.target_span[0]:self.target_span[1]]


def _parse_target(raw: str, start: int, end: int) -> tuple[str, str | None, str | None, str | None, bool, str | None, tuple[int, int]]:
    """Split raw[start:end] into fname, anchor, anchor_end, block, wildcard, vault, fname span."""
    text = raw[start:end]
    lead = len(text) - len(text.lstrip())
    text = text.strip()
    pos = start + lead
    vault = None
    m = VAULT_RE.match(text)
    span_start = pos
    if m:
        vault = m["vault"]
        text = text[m.end():]
        pos += m.end()
    hash_at = text.find("#")
    fname_part = text if hash_at < 0 else text[:hash_at]
    frag = None if hash_at < 0 else text[hash_at + 1:]
    fname = fname_part.strip()
    span = (span_start, pos + len(fname_part.rstrip()))
    wildcard = fname.endswith(".*")
    if wildcard:
        fname = fname[:-2]
        span = (span[0], span[1] - 2)
    anchor = anchor_end = block = None
    if frag is not None:
        if frag.startswith("^"):
            block, sep, rest = frag[1:].partition(":")
            block = block.strip()
            if sep and rest.startswith("#"):     # a range from a block: ^id:#* or ^id:#heading
                anchor_end = OFFSET_RE.sub("", rest[1:]).strip() or "*"
        else:
            first, sep, rest = frag.partition(":")
            # ':' only splits a range when what follows is another '#' anchor.
            if sep and rest.startswith("#"):
                anchor = OFFSET_RE.sub("", first).strip()
                anchor_end = OFFSET_RE.sub("", rest[1:]).strip() or "*"
            else:
                anchor = OFFSET_RE.sub("", frag.rstrip(":")).strip()
    return fname, anchor, anchor_end, block, wildcard, vault, span


_PLAIN_RE = re.compile(r"[^\s|#:]+")      # 'a.b.c': no alias, anchor, vault or space
# 'text|a.b#heading-slug': Dendron's order, a plain target, a plain anchor.
_ALIASED_RE = re.compile(r"([^|]*)\|([^\s|#:]+)#([\w\-]+)")


def _unescape_bar(text: str) -> str:
    """Link text written before a table's escaped bar (`[[text\\|a.b]]`) without that backslash."""
    return text[:-1] if text.endswith("\\") else text


def parse_ref(raw: str, exists: Callable[[str], bool] | None = None) -> Ref:
    """Parse a wikilink's inner text. `exists(fname)` settles the alias order when given."""
    if _PLAIN_RE.fullmatch(raw) and not raw.endswith(".*"):     # the usual link, without the general parse
        return new_tuple(Ref, (raw, raw, None, None, None, None, False, None, (0, len(raw)), False))
    m = _ALIASED_RE.fullmatch(raw)
    if m and not m[2].endswith(".*") and (exists is None or exists(m[2])):   # the usual aliased link
        return new_tuple(Ref, (raw, m[2], _unescape_bar(m[1]).strip(), m[3], None, None, False, None, m.span(2), False))
    bar = raw.find("|")
    if bar < 0:
        f, a, ae, b, w, v, span = _parse_target(raw, 0, len(raw))
        return Ref(raw, f, None, a, ae, b, w, v, span)
    # In a Markdown table the bar is written `\|`; its backslash belongs to neither side.
    left_end = bar - 1 if raw[bar - 1:bar] == "\\" else bar
    left, right = raw[:left_end].strip(), raw[bar + 1:].strip()
    f, a, ae, b, w, v, span = _parse_target(raw, bar + 1, len(raw))
    dendron = Ref(raw, f, left, a, ae, b, w, v, span)
    if exists is None or exists(f) or f == "":
        return dendron
    f2, a2, ae2, b2, w2, v2, span2 = _parse_target(raw, 0, left_end)
    if f2 and exists(f2) and " " not in f2:
        return Ref(raw, f2, right, a2, ae2, b2, w2, v2, span2, swapped=True)
    return dendron


def with_fname(ref: Ref, new_fname: str) -> str:
    """The inner text with the target note renamed; text, anchors and vault prefix kept."""
    s, e = ref.target_span
    old = ref.raw[s:e]
    prefix = VAULT_RE.match(old)
    keep = old[:prefix.end()] if prefix else ""
    return ref.raw[:s] + keep + new_fname + ref.raw[e:]
