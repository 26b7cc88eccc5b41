"""Find Dendron syntax in a Markdown body, with positions, outside code.

One scanner serves the renderer, the checker and `kb rename`, so all three agree
on what is a link. Fenced code blocks and inline code spans are never touched.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from bisect import bisect_right
from functools import lru_cache
from typing import Literal, NamedTuple

TokenKind = Literal["link", "embed", "tag", "user", "fmvar"]

FENCE_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)$")
# [[...]] and ![[...]]; the inner part may not hold a newline or another [[.
WIKI_RE = re.compile(r"(?P<bang>!?)\[\[(?P<inner>[^\[\]\n]+?)\]\]")
# The same, starting with a literal so the regex engine can skip ahead fast; '!' checked by hand.
_WIKI_FAST_RE = re.compile(r"\[\[(?P<inner>[^\[\]\n]+?)\]\]")
_TAG_FAST_RE = re.compile(r"#(?P<name>[A-Za-z][\w\-./]*)")
_USER_FAST_RE = re.compile(r"@(?P<name>[A-Za-z][\w\-.]*)")
# Dendron hashtags: '#' after start/space/'(', a letter first, then word chars, '-', '.', '/'.
TAG_RE = re.compile(r"(?<![^\s(\[])#(?P<name>[A-Za-z][\w\-./]*)")
# Dendron user tags: '@' after start/space/'(', a letter first (so e-mail addresses are left alone).
USER_RE = re.compile(r"(?<![^\s(\[])@(?P<name>[A-Za-z][\w\-.]*)")
FMVAR_RE = re.compile(r"\{\{\s*fm\.(?P<name>[\w\-.]+)\s*\}\}")
# Dendron block anchors: ` ^id` ending a line (or alone on it).
BLOCK_ANCHOR_RE = re.compile(r"(?:^|[ \t])\^(?P<id>[A-Za-z0-9][\w\-]*)[ \t]*$", re.M)
HEADING_RE = re.compile(r"^(?P<hashes>#{1,6})[ \t]+(?P<text>.*?)(?:[ \t]+#+)?[ \t]*$")


class Token(NamedTuple):
    """One piece of Dendron syntax (a tuple: big vaults make hundreds of thousands)."""
    kind: TokenKind
    start: int      # offset in the body
    end: int
    line: int       # 0-based line in the body
    col: int        # 0-based column in that line
    text: str       # the whole match, e.g. "![[a.b#h]]"
    value: str      # inner text of a wikilink, the tag or user name, the fm key

    @property
    def inner_start(self) -> int:
        """Offset in the body where the inner text of a wikilink starts."""
        return self.start + (3 if self.kind == "embed" else 2)


@dataclass(frozen=True)
class Fence:
    start_line: int     # 0-based line of the opening fence
    end_line: int       # 0-based line of the closing fence (or last line if unclosed)
    info: str           # the info string, stripped ("table", "python", ...)
    indent: str
    body: str           # text between the fences
    start: int = 0      # offsets of the whole block in the text
    end: int = 0


_FENCE_LINE_RE = re.compile(r"^([ \t]*)(`{3,}|~{3,})([^\n]*)$", re.M)
_BACKTICK_LINE_RE = re.compile(r"^[^\n]*`[^\n]*$", re.M)
_HEADING_ANY_RE = re.compile(r"^#{1,6}[ \t]", re.M)


def fences_text(text: str) -> list[Fence]:
    """Fenced code blocks (``` or ~~~), also indented ones inside lists."""
    return code_blocks(text)[0]


_COMMENT_OPEN = "<!--"


@lru_cache(maxsize=64)
def _dedent_re(indent: int) -> re.Pattern:
    return re.compile(rf"^(?![ \t]{{{indent}}}|[ \t]*$)", re.M)


def code_blocks(text: str) -> tuple[list[Fence], list[tuple[int, int]]]:
    """Fenced code blocks and HTML comments, in document order (a fence inside a comment
    is no fence, and a comment inside a fence is code), as Markdown renderers see them."""
    has_fence = "```" in text or "~~~" in text
    has_comment = _COMMENT_OPEN in text
    if not has_fence and not has_comment:
        return [], []
    out: list[Fence] = []
    comments: list[tuple[int, int]] = []
    pos = 0
    while True:
        fm = _FENCE_LINE_RE.search(text, pos) if has_fence else None
        while fm is not None and fm[2][0] == "`" and "`" in fm[3]:
            fm = _FENCE_LINE_RE.search(text, fm.end())
        cpos = text.find(_COMMENT_OPEN, pos) if has_comment else -1
        if cpos >= 0 and (fm is None or cpos < fm.start()):
            close = text.find("-->", cpos + 4)
            end = len(text) if close < 0 else close + 3
            comments.append((cpos, end))
            pos = end
            continue
        if fm is None:
            break
        closer = None
        for m in _FENCE_LINE_RE.finditer(text, fm.end()):
            if m[2][0] == fm[2][0] and len(m[2]) >= len(fm[2]) and not m[3].strip():
                closer = m
                break
        if fm[1]:
            # A fence inside a list item also ends where the item ends: at a non-blank
            # line indented less than the fence (CommonMark's container rule).
            dedent = _dedent_re(len(fm[1].expandtabs(4))).search(text, fm.end())
            if dedent is not None and (closer is None or dedent.start() < closer.start()):
                end = dedent.start() - 1
                out.append(Fence(text.count("\n", 0, fm.start()), text.count("\n", 0, end),
                                 fm[3].strip(), fm[1], text[fm.end() + 1:end], fm.start(), end))
                pos = dedent.start()
                continue
        if closer is None:   # unclosed: code to the end, as CommonMark says
            out.append(Fence(text.count("\n", 0, fm.start()), text.count("\n"), fm[3].strip(), fm[1],
                             text[fm.end() + 1:], fm.start(), len(text)))
            break
        body = text[fm.end() + 1:closer.start() - 1] if closer.start() > fm.end() + 1 else ""
        out.append(Fence(text.count("\n", 0, fm.start()), text.count("\n", 0, closer.start()),
                         fm[3].strip(), fm[1], body, fm.start(), closer.end()))
        pos = closer.end()
    return out, comments


def fences(lines: list[str]) -> list[Fence]:
    return fences_text("\n".join(lines))


def code_line_mask(lines: list[str], fence_list: list[Fence] | None = None) -> list[bool]:
    mask = [False] * len(lines)
    for f in fence_list if fence_list is not None else fences(lines):
        for k in range(f.start_line, f.end_line + 1):
            mask[k] = True
    return mask


def inline_code_spans(line: str) -> list[tuple[int, int]]:
    """Column ranges of inline code spans (CommonMark: a run of N backticks closes with N)."""
    spans, i = [], 0
    while True:
        s = line.find("`", i)
        if s < 0:
            return spans
        e = s
        while e < len(line) and line[e] == "`":
            e += 1
        run = line[s:e]
        close = re.search(r"(?<!`)" + run + r"(?!`)", line[e:])
        if not close:
            i = e
            continue
        spans.append((s, e + close.end()))
        i = e + close.end()


def prose_lines(lines: list[str], mask: list[bool], needle: str):
    """(index, line, in_code) for lines outside fences that contain `needle`; in_code(col) says
    whether a column falls in an inline code span."""
    for i, line in enumerate(lines):
        if mask[i] or needle not in line:
            continue
        spans = inline_code_spans(line) if "`" in line else []
        yield i, line, (lambda col, spans=spans: any(a <= col < b for a, b in spans))


class TextIndex:
    """Line starts and code ranges of one text, for offset -> (line, col) and 'is this code?'."""

    def __init__(self, text: str, comments_are_code: bool = True):
        self.text = text
        self.fences, comments = code_blocks(text)
        ranges = [(f.start, f.end) for f in self.fences] + (comments if comments_are_code else [])
        if "`" in text:
            for m in _BACKTICK_LINE_RE.finditer(text):
                if not self._in(ranges, m.start()):
                    ranges.extend((m.start() + a, m.start() + b) for a, b in inline_code_spans(m[0]))
        ranges.sort()
        self.code = ranges
        self._code_starts = [r[0] for r in ranges]

    @staticmethod
    def _in(ranges: list[tuple[int, int]], pos: int) -> bool:
        return any(a <= pos < b for a, b in ranges)

    def in_code(self, pos: int, end: int | None = None) -> bool:
        i = bisect_right(self._code_starts, pos) - 1
        if i >= 0 and pos < self.code[i][1]:
            return True
        if end is not None:   # a match that starts before a code span and runs into it
            j = bisect_right(self._code_starts, end - 1) - 1
            return j > i
        return False

    def pos(self, offset: int) -> tuple[int, int]:
        # Counting in C beats a table of line starts for the few tokens a note has.
        text = self.text
        return text.count("\n", 0, offset), offset - text.rfind("\n", 0, offset) - 1

    def line_at(self, offset: int) -> str:
        start = self.text.rfind("\n", 0, offset) + 1
        end = self.text.find("\n", offset)
        return self.text[start:end if end >= 0 else len(self.text)]


def scan(body: str, kinds: tuple[TokenKind, ...] = ("link", "embed", "tag", "user", "fmvar"),
         index: TextIndex | None = None, in_comments: bool = False) -> list[Token]:
    """Every token of the given kinds outside code, in body order.

    `in_comments`: also inside HTML comments. Rendering wants that (Python-Markdown
    shows a comment that holds a fence as text); checking does not.
    """
    want_wiki = ("link" in kinds or "embed" in kinds) and "[[" in body
    want_tag = "tag" in kinds and "#" in body
    want_user = "user" in kinds and "@" in body
    want_fm = "fmvar" in kinds and "{{" in body
    if not (want_wiki or want_tag or want_user or want_fm):
        return []
    ix = index or TextIndex(body, comments_are_code=not in_comments)
    found: list[Token] = []
    wiki_spans: list[tuple[int, int]] = []

    def add(kind: TokenKind, start: int, end: int, text: str, value: str) -> None:
        line, col = ix.pos(start)
        found.append(Token(kind, start, end, line, col, text, value))

    if want_wiki:
        for m in _WIKI_FAST_RE.finditer(body):
            start = m.start()
            bang = start > 0 and body[start - 1] == "!"
            if bang:
                start -= 1
            # Only where '[[' itself is code: an alias may hold inline code ([[`cmd`|a.b]]).
            if ix.in_code(start):
                continue
            wiki_spans.append((start, m.end()))
            kind: TokenKind = "embed" if bang else "link"
            if kind in kinds:
                add(kind, start, m.end(), body[start:m.end()], m["inner"].strip())
    if want_fm:
        for m in FMVAR_RE.finditer(body):
            if not ix.in_code(m.start(), m.end()):
                add("fmvar", m.start(), m.end(), m[0], m["name"])
    wiki_starts = [a for a, _ in wiki_spans]

    def free(a: int) -> bool:
        if ix.in_code(a):
            return False
        i = bisect_right(wiki_starts, a) - 1
        return not (i >= 0 and a < wiki_spans[i][1])

    for want, rx, kind, strip, sigil in ((want_tag, _TAG_FAST_RE, "tag", ".-/", "#"),
                                         (want_user, _USER_FAST_RE, "user", ".-", "@")):
        if not want:
            continue
        for m in rx.finditer(body):
            # Only after start, white space, '(' or '[' (not inside words, URLs, e-mail addresses).
            if m.start() > 0 and body[m.start() - 1] not in " \t\n([":
                continue
            name = m["name"].rstrip(strip)
            if not name or not free(m.start()):
                continue
            line, col = ix.pos(m.start())
            text = ix.line_at(m.start())
            if kind == "tag" and HEADING_RE.match(text):
                continue
            if _in_url(text, col):
                continue
            found.append(Token(kind, m.start(), m.start() + 1 + len(name), line, col, sigil + name, name))  # type: ignore[arg-type]
    found.sort(key=lambda t: t.start)
    return found


def _in_url(line: str, pos: int) -> bool:
    """True inside a Markdown link target '](...)' or an autolink / bare URL."""
    before = line[:pos]
    paren = before.rfind("](")
    if paren >= 0 and ")" not in before[paren:]:
        return True
    lt = before.rfind("<")
    if lt >= 0 and ">" not in before[lt:]:
        return True
    word = before.split()[-1] if before.split() else ""
    return "://" in word
