"""Expand `![[...]]` embeds: whole notes, sections, heading ranges, block refs, wildcards."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Callable

from ..parse.headings import Doc, canonical
from ..parse.refs import Ref, with_fname
from ..parse.syntax import scan

MAX_DEPTH = 5


@dataclass(frozen=True)
class EmbedProblem:
    message: str
    code: str


def broken_html(text: str, why: str) -> str:
    """How a broken link or embed shows on the page: visible, with the reason on hover."""
    return f'<span class="kb-broken" title="{html.escape(why, quote=True)}">{html.escape(text)}</span>'


def select(doc: Doc, ref: Ref) -> tuple[str | None, str | None]:
    """The part of a note a reference asks for; (text, None) or (None, why not)."""
    if not ref.anchor and not ref.block:
        return doc.text, None
    lines = doc.lines
    if ref.block:
        ids = doc.blocks
        if ref.block not in ids:
            return None, f'no block "^{ref.block}"'
        i = ids[ref.block]
        start, end, indent = _block_span(lines, i)
        if ref.anchor_end:
            end, why = _range_end(doc, ref.anchor_end, i, "^" + ref.block, end)
            if why:
                return None, why
        return _dedent(lines[start:end], indent), None
    hs = doc.headings
    key = canonical(ref.anchor or "")
    first = next((h for h in hs if canonical(h.text) == key or h.slug == ref.anchor or canonical(h.slug) == key), None)
    if first is None:
        return None, f'no heading "{ref.anchor}"'
    if ref.anchor_end:
        end_line, why = _range_end(doc, ref.anchor_end, first.line, ref.anchor or "", len(lines))
        if why:
            return None, why
    else:   # the section: up to the next heading of the same or a higher level
        nxt = next((h for h in hs if h.line > first.line and h.level <= first.level), None)
        end_line = nxt.line if nxt else len(lines)
    start = _skip_blocks(lines, first.line, end_line, _offset(ref.raw))
    return "\n".join(lines[start:end_line]).rstrip(), None


def _range_end(doc: Doc, anchor_end: str, after: int, start_name: str, default: int) -> tuple[int, str | None]:
    """The line where a range ends (exclusive): `*` the next heading of any level, or the end of
    the note where none follows (Dendron's findHeader matches every heading for `*`, skipping the
    start itself), `^id` the end of that block (included, as Dendron does), a heading the line
    before it."""
    if anchor_end == "*":
        nxt = next((h for h in doc.headings if h.line > after), None)
        return (nxt.line if nxt else len(doc.lines)), None
    if anchor_end.startswith("^"):
        j = doc.blocks.get(anchor_end[1:])
        if j is None or j < after:
            return default, f'no block "{anchor_end}" after "{start_name}"'
        return _block_span(doc.lines, j)[1], None
    k2 = canonical(anchor_end)
    last = next((h for h in doc.headings if h.line > after and (canonical(h.text) == k2 or h.slug == anchor_end)), None)
    if last is None:
        return default, f'no heading "{anchor_end}" after "{start_name}"'
    return last.line, None


_ITEM_RE = re.compile(r"([ \t]*)(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")


def _block_span(lines: list[str], i: int) -> tuple[int, int, int]:
    """(start, end, indent) of the block whose anchor is on line i: a list item with its
    sub-items and without its siblings (as Dendron embeds it), or else the paragraph."""
    if lines[i].strip().startswith("^"):   # anchor alone on a line: the block above it
        start = i - 1
        while start > 0 and lines[start - 1].strip():
            start -= 1
        return max(start, 0), i, 0
    item = i
    while item >= 0 and lines[item].strip() and not _ITEM_RE.match(lines[item]):
        item -= 1                          # from a continuation line back to its item's marker
    m = _ITEM_RE.match(lines[item]) if item >= 0 and lines[item].strip() else None
    if m is None:                          # a paragraph: back to a blank line
        start = i
        while start > 0 and lines[start - 1].strip():
            start -= 1
        return start, i + 1, 0
    indent = len(m[1].expandtabs(4))
    end = item + 1
    while end < len(lines):
        line = lines[end]
        if not line.strip():
            nxt = next((k for k in range(end + 1, len(lines)) if lines[k].strip()), None)
            if nxt is None or _indent(lines[nxt]) <= indent:
                break
        elif _indent(line) <= indent:    # a sibling, or what follows the list
            break
        end += 1
    return item, end, indent


def _indent(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def _dedent(lines: list[str], indent: int) -> str:
    """The lines moved left by `indent` columns (an embedded item becomes a list of its own)."""
    if not indent:
        return "\n".join(lines)
    return "\n".join(l.expandtabs(4)[min(indent, _indent(l)):] for l in lines)


_OFFSET_RE = re.compile(r"#[^#:|]*?,(\d+)\s*(?::|$)")


def _offset(raw: str) -> int:
    """Dendron's `#heading,N`: the embed starts N blocks after the heading (1: without it)."""
    m = _OFFSET_RE.search(raw)
    return int(m[1]) if m else 0


def _skip_blocks(lines: list[str], start: int, end: int, n: int) -> int:
    """The line `n` blocks (the heading, then paragraphs and such between blank lines) after `start`."""
    pos = start
    for _ in range(n):
        if pos >= end:
            break
        if lines[pos].lstrip().startswith("#"):
            pos += 1
        else:
            while pos < end and lines[pos].strip():
                pos += 1
        while pos < end and not lines[pos].strip():
            pos += 1
    return pos


_LIST_MARKER_RE = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+")
_QUOTE_RE = re.compile(r"[ \t]*(?:>[ \t]?)+")


def _continuation(prefix: str) -> str | None:
    """How the lines of an embed continue the container it stands in; None inside a paragraph."""
    if not prefix.strip():
        return prefix
    if _LIST_MARKER_RE.fullmatch(prefix):
        # Python-Markdown continues a list item at its indent + 4 (not at the text's column).
        p = prefix.expandtabs(4)
        return " " * max(len(p) - len(p.lstrip()) + 4, len(p))
    if _QUOTE_RE.fullmatch(prefix):
        return prefix
    return None


# Where a reference may name no note: its target (after '[[', a '|' or a vault prefix's '/')
# starts with '#' or is empty. Texts without one are left as they are, without a scan.
_MAYBE_SAME_NOTE_RE = re.compile(r"(?:\[\[|\||/)\s*(?:#|\]\])")


def qualify(text: str, fname: str, parse: Callable[[str], Ref]) -> str:
    """Name the note in its same-note references ([[#h]] -> [[fname#h]]) before the text
    moves into another page, where '#h' would mean that page's heading."""
    if "[[" not in text or "#" not in text or not _MAYBE_SAME_NOTE_RE.search(text):
        return text
    out, pos = [], 0
    for t in scan(text, ("link", "embed")):
        s, e = t.inner_start, t.end - 2
        ref = parse(text[s:e])
        if ref.fname or ref.wildcard:
            continue
        out.append(text[pos:s])
        out.append(with_fname(ref, fname))
        pos = e
    out.append(text[pos:])
    return "".join(out)


class Expander:
    """Replaces embeds with the text they point to, recursively, up to MAX_DEPTH."""

    def __init__(self, source: Callable[[str], Doc | None], children: Callable[[str], list[str]],
                 parse: Callable[[str], Ref], canon: Callable[[str], str] = str):
        self.source = source          # fname -> prepared note as a Doc, None when no such (published) note
        self.children = children      # fname -> child fnames in navigation order
        self.parse = parse
        self.canon = canon            # a name as written -> the note's own spelling (names match without case)

    def expand(self, fname: str, body: str, stack: tuple[str, ...] = ()) -> str:
        stack = stack if stack else (fname,)
        if "![[" not in body:
            return body
        toks = scan(body, ("embed",))
        if not toks:
            return body
        out, pos = [], 0
        for t in toks:
            out.append(body[pos:t.start])
            line_start = body.rfind("\n", 0, t.start) + 1
            prefix = body[line_start:t.start]
            text = self._one(t.value, fname, stack, _continuation(prefix), t.text)
            line_end = body.find("\n", t.end)
            if not prefix.strip() and text and not body[t.end:line_end if line_end >= 0 else len(body)].strip():
                # An embed alone on its line is a block: blank lines keep it from running into an
                # embed (or text) on the next or the previous line.
                if line_start >= 2 and body[line_start - 2] != "\n":
                    text = "\n" + prefix + text      # the prefix alone makes a blank line
                if 0 <= line_end < len(body) - 1 and body[line_end + 1] != "\n":
                    text += "\n"
            out.append(text)
            pos = t.end
        out.append(body[pos:])
        return "".join(out)

    def problem(self, inner: str, fname: str, stack: tuple[str, ...] = ()) -> EmbedProblem | None:
        """What is wrong with an embed, found the way rendering finds it (cycles and depth included)."""
        text = self._one(inner, fname, stack or (fname,), "", "", probe=True)
        return self._probe if text is None else None

    _probe: EmbedProblem | None = None

    def _one(self, inner: str, fname: str, stack: tuple[str, ...], indent: str | None, written: str,
             probe: bool = False, nested: bool = False) -> str | None:
        ref = self.parse(inner)
        target = self.canon(ref.fname) if ref.fname else fname
        label = ref.alias or ref.fname or fname

        def fail(why: str, code: str, loop: tuple[str, ...] = ()) -> str | None:
            if probe:
                # Deeper problems belong to the note that holds them (reported there, once);
                # a note hears only of its own missing targets, depth, and cycles through itself.
                origin = stack[0].split("#")[0]
                in_loop = any(k.split("#")[0] == origin for k in loop)
                if nested and (code == "broken-embed" or (code == "embed-cycle" and not in_loop)):
                    return ""
                self._probe = EmbedProblem(why, code)
                return None
            return broken_html(label, why)

        if len(stack) > MAX_DEPTH:
            return fail(f"embeds nested deeper than {MAX_DEPTH} (through {' > '.join(stack)})", "embed-depth")
        names = self.children(target) if ref.wildcard else [target]
        section = "" if ref.wildcard else "#" + (ref.anchor or (("^" + ref.block) if ref.block else ""))
        if ref.wildcard and self.source(target) is None and not names:
            return fail(f'no note named "{target}" and no children to embed', "broken-embed")
        parts = []
        for name in names:
            key = name + (section if section != "#" else "")
            if key in stack:
                return fail(f"embed cycle: {' > '.join(stack + (key,))}", "embed-cycle", stack[stack.index(key):])
            doc = self.source(name)
            if doc is None:
                if ref.wildcard:
                    continue
                return fail(f'no note named "{name}"', "broken-embed")
            text, why = select(doc, ref)
            if text is None:
                return fail(f'{why} in "{name}"', "broken-embed")
            if probe:
                # Look one level down for cycles and depth, as rendering would.
                for t in scan(qualify(text, name, self.parse), ("embed",)):
                    if self._one(t.value, name, stack + (key,), "", "", probe=True, nested=True) is None:
                        return None
                continue
            parts.append(self.expand(name, qualify(text, name, self.parse), stack + (key,)).strip("\n"))
        if probe:
            return ""
        joined = "\n\n".join(parts)
        if indent is None:       # inside a paragraph: the embed becomes blocks of its own
            return "\n\n" + joined + "\n\n"
        # In a list item or a quote: the first line follows the marker, the rest keep the container.
        blank = indent.rstrip()
        lines = joined.split("\n")
        text = "\n".join([lines[0]] + [(indent + l) if l.strip() else blank for l in lines[1:]])
        # Several paragraphs: end with a blank line, or the next list item reads as their lazy continuation.
        return text + "\n" + blank if "\n\n" in joined and indent.strip() == "" and indent else text
