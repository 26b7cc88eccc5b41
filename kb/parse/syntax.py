"""Find Dendron syntax in a Markdown body, with positions, outside code.

One scanner serves the renderer, the checker and `kb rename`, so all three agree
on what is a link. Fenced code blocks and inline code spans are never touched.
"""
from __future__ import annotations

import itertools
import re
from bisect import bisect_left, bisect_right
from operator import itemgetter
from functools import lru_cache
from typing import Literal, NamedTuple

TokenKind = Literal["link", "embed", "tag", "user", "fmvar"]

# [[...]] and ![[...]]; the inner part may not hold a newline or a bracket (greedy: the same matches as
# a lazy `+?`, as nothing but "]]" may follow, and faster).
WIKI_RE = re.compile(r"(?P<bang>!?)\[\[(?P<inner>[^\[\]\n]+)\]\]")
# The same, starting with a literal so the regex engine can skip ahead fast; '!' checked by hand.
_WIKI_FAST_RE = re.compile(r"\[\[(?P<inner>[^\[\]\n]+)\]\]")
# Embeds alone (the same matches as WIKI_RE's with a '!': an inner holds no bracket, so no
# '![[' lies inside another match).
_EMBED_RE = re.compile(r"!\[\[(?P<inner>[^\[\]\n]+)\]\]")
# Dendron hashtags (#a.b/c) and user tags (@name): after start, white space, '(' or '[' (so e-mail
# addresses and URL fragments are left alone), a letter first. The sigil comes first in the pattern
# (the regex engine skips ahead to it), then a look back at the character before it; a tag at the
# very start of the text is matched on its own.
_TAG_FAST_RE = re.compile(r"#(?<=[ \t\n(\[]#)(?P<name>[A-Za-z][\w\-./]*)")
_USER_FAST_RE = re.compile(r"@(?<=[ \t\n(\[]@)(?P<name>[A-Za-z][\w\-.]*)")
_TAG_AT_START_RE = re.compile(r"#(?P<name>[A-Za-z][\w\-./]*)")
_USER_AT_START_RE = re.compile(r"@(?P<name>[A-Za-z][\w\-.]*)")
FMVAR_RE = re.compile(r"\{\{\s*fm\.(?P<name>[\w\-.]+)\s*\}\}")
# Dendron block anchors: ` ^id` ending a line (or alone on it).
BLOCK_ANCHOR_RE = re.compile(r"(?:^|[ \t])\^(?P<id>[A-Za-z0-9][\w\-]*)[ \t]*$", re.M)
HEADING_RE = re.compile(r"^(?P<hashes>#{1,6})[ \t]+(?P<text>.*?)(?:[ \t]+#+)?[ \t]*$")


# NamedTuple's own __new__ is a Python function: a big vault makes hundreds of thousands of
# tokens and headings, so hot paths build them as tuples.
new_tuple = tuple.__new__


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


class Fence(NamedTuple):
    """A fenced code block (a tuple: made for every block of every note parsed)."""
    start_line: int     # 0-based line of the opening fence
    end_line: int       # 0-based line of the closing fence (or last line if unclosed)
    info: str           # the info string, stripped ("table", "python", ...)
    indent: str
    body: str           # text between the fences
    start: int = 0      # offsets of the whole block in the text
    end: int = 0


# Line patterns start with a literal '\n' and run over "\n" + text: the regex engine then jumps
# from newline to newline in C, where '^' with re.M would try every character (5x slower).
# A match at offset q of the padded text is the line that starts at offset q of the text.
# (a backtick in a backtick fence's info string makes the line no fence: CommonMark)
_FENCE_LINE_RE = re.compile(r"\n([ \t]*)(`{3,}(?![^\n]*`)|~{3,})([^\n]*)")
HEADING_LINE_RE = re.compile(r"\n#{1,6}[ \t]")


class LineCounter:
    """0-based line of an offset, counted on from the previous offset asked for (from the start
    when asked for an earlier one): offsets asked in order cost one pass over the text in all,
    where counting from the start for each was quadratic in a note's size."""

    __slots__ = ("text", "at", "line", "start")

    def __init__(self, text: str):
        self.text, self.at, self.line, self.start = text, 0, 0, 0

    def __call__(self, offset: int) -> int:
        if offset < self.at:
            self.at = self.line = self.start = 0
        n = self.text.count("\n", self.at, offset)
        if n:
            self.line += n
            self.start = self.text.rfind("\n", self.at, offset) + 1
        self.at = offset
        return self.line

    def pos(self, offset: int) -> tuple[int, int]:
        """(line, column), both 0-based; the line's start is kept too, so that many offsets
        on one long line do not each search back to its start."""
        return self(offset), offset - self.start


def fences_text(text: str) -> list[Fence]:
    """Fenced code blocks (``` or ~~~), also indented ones inside lists."""
    return code_blocks(text)[0]


_COMMENT_OPEN = "<!--"


@lru_cache(maxsize=64)
def _dedent_re(indent: int) -> re.Pattern:
    """The next line (in padded text) that is not blank and indented less than `indent`."""
    return re.compile(rf"\n(?![ \t]{{{indent}}}|[ \t]*(?:\n|\Z))")


def _fence_line(padded: str, pos: int) -> tuple[int, int, str, str, str] | None:
    """(start, end, indent, fence, info) of the first fence line starting at or after `pos`."""
    m = _FENCE_LINE_RE.search(padded, pos)
    return None if m is None else (m.start(), m.end() - 1, m[1], m[2], m[3])


# What may come before a comment that starts an HTML block: indent, quote markers, list markers.
_BLOCK_LEAD_RE = re.compile(r"[ \t]*(?:(?:>|[-*+]|\d{1,9}[.)])[ \t]*)*")
_BLANK_LINE_RE = re.compile(r"\n[ \t]*\n")


def _comment_opens(text: str, at: int, close: int) -> bool:
    """Whether the `<!--` at `at` opens a comment, as CommonMark reads it: at a line's start (in
    its containers) an HTML block, closed or not; inside a line raw HTML only where `-->` closes
    it in the same paragraph (no blank line between), and not inside inline code (`<!--`)."""
    start = text.rfind("\n", 0, at) + 1
    if _BLOCK_LEAD_RE.fullmatch(text, start, at):
        return True
    if close < 0 or _BLANK_LINE_RE.search(text, at, close) is not None:
        return False
    if "`" in text[start:at]:
        end = text.find("\n", at)
        col = at - start
        if any(a <= col < b for a, b in inline_code_spans(text[start:len(text) if end < 0 else end])):
            return False
    return True


def code_blocks(text: str) -> tuple[list[Fence], list[tuple[int, int]]]:
    """Fenced code blocks and HTML comments, in document order (a fence inside a comment
    is no fence, and a comment inside a fence is code), as Markdown renderers see them."""
    has_fence = "```" in text or "~~~" in text
    has_comment = _COMMENT_OPEN in text
    if not has_fence and not has_comment:
        return [], []
    padded = "\n" + text
    out: list[Fence] = []
    comments: list[tuple[int, int]] = []
    pos = 0
    line_of = LineCounter(text)
    while True:
        fm = _fence_line(padded, pos) if has_fence else None
        while fm is not None and fm[3][0] == "`" and "`" in fm[4]:
            fm = _fence_line(padded, fm[1])
        cpos = text.find(_COMMENT_OPEN, pos) if has_comment else -1
        if cpos >= 0 and (fm is None or cpos < fm[0]):
            close = text.find("-->", cpos + 4)
            if not _comment_opens(text, cpos, close):
                pos = cpos + 4
                continue
            end = len(text) if close < 0 else close + 3
            comments.append((cpos, end))
            pos = end
            continue
        if fm is None:
            break
        start, stop, indent, fence, info = fm
        # A fence inside a list item also ends where the item ends: at a non-blank line
        # indented less than the fence (CommonMark's container rule). The closer is looked
        # for only up to there (looking further made many list-item fences quadratic).
        dedent = _dedent_re(len(indent.expandtabs(4))).search(padded, stop) if indent else None
        limit = len(padded)
        if dedent is not None:      # up to the end of the dedented line: a closer there still closes
            limit = padded.find("\n", dedent.start() + 1)
            limit = len(padded) if limit < 0 else limit
        closer = None
        for m in _FENCE_LINE_RE.finditer(padded, stop, limit):
            if m[2][0] == fence[0] and len(m[2]) >= len(fence) and not m[3].strip():
                closer = (m.start(), m.end() - 1)
                break
        if dedent is not None and (closer is None or dedent.start() < closer[0]):
            end = dedent.start() - 1
            out.append(Fence(line_of(start), line_of(end), info.strip(), indent, text[stop + 1:end], start, end))
            pos = dedent.start()
            continue
        if closer is None:   # unclosed: code to the end, as CommonMark says
            out.append(Fence(line_of(start), line_of(len(text)), info.strip(), indent,
                             text[stop + 1:], start, len(text)))
            break
        body = text[stop + 1:closer[0] - 1] if closer[0] > stop + 1 else ""
        out.append(Fence(line_of(start), line_of(closer[0]), info.strip(), indent, body, start, closer[1]))
        pos = closer[1]
    return out, comments


# A backtick fence at a line's start: its run of backticks and the rest of the line.
_TOP_FENCE_RE = re.compile(r"(`{3,})([^\n]*)")
_NOT_PLAIN = ("~~~", "<!--", "\r")


def plain_prose(text: str, keep: tuple[str, ...] | None = ()) -> tuple[str, list[Fence]] | None:
    """The text with its fenced code blocks blanked out (every offset kept), and those of its
    blocks whose info starts with a word in `keep` (all of them with None); None unless the
    text's only code is closed backtick fences at line starts: no inline code, no indented
    fence, no backtick inside a block, no tildes, no comments (and no CR line ends). Where it
    answers, the code ranges are the ones `code_ranges` finds, found from backtick to backtick
    instead of in Python steps per line (the usual note of a big vault; tests/test_outline.py
    compares the two)."""
    for other in _NOT_PLAIN:
        if other[0] in text and other in text:   # one character first: a search for it is 30x faster
            return None
    parts: list[str] = []
    kept: list[Fence] = []
    pos = 0
    opener: tuple[int, int, str, str] | None = None
    find, match = text.find, _TOP_FENCE_RE.match
    line_of = LineCounter(text)
    at = find("`")              # every backtick must start a fence line (find: memchr in C)
    while at >= 0:
        m = match(text, at) if at == 0 or text[at - 1] == "\n" else None
        if m is None or "`" in m[2]:
            return None             # inline code, or a backtick inside a block or an info
        fence, info = m[1], m[2]
        if opener is None:
            opener = (at, m.end(), fence, info)
        elif len(fence) >= len(opener[2]) and not info.strip():
            start, stop, _, info = opener
            end, close = m.end(), at
            parts.append(text[pos:start])
            parts.append(" " * (end - start))
            pos = end
            info = info.strip()
            if keep is None or (keep and info.split(" ")[0] in keep):
                kept.append(new_tuple(Fence, (line_of(start), line_of(close), info, "",
                                              text[stop + 1:close - 1] if close > stop + 1 else "", start, end)))
            opener = None
        # else: a fence line inside the block (another info, or shorter): code
        at = find("`", m.end())
    if opener is not None:
        return None                 # unclosed
    if not parts:
        return text, kept
    parts.append(text[pos:])
    return "".join(parts), kept


def fences(lines: list[str]) -> list[Fence]:
    return fences_text("\n".join(lines))


def code_line_mask(lines: list[str], fence_list: list[Fence] | None = None) -> list[bool]:
    mask = [False] * len(lines)
    for f in fence_list if fence_list is not None else fences(lines):
        for k in range(f.start_line, f.end_line + 1):
            mask[k] = True
    return mask


@lru_cache(maxsize=16)
def _closing_run(n: int) -> re.Pattern:
    """A run of exactly n backticks."""
    return re.compile(r"(?<!`)" + "`" * n + r"(?!`)")


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
        close = _closing_run(e - s).search(line, e)
        if not close:
            i = e
            continue
        spans.append((s, close.end()))
        i = close.end()


def prose_lines(lines: list[str], mask: list[bool], needle: str):
    """(index, line, in_code) for lines outside fences that contain `needle`; in_code(col) says
    whether a column falls in an inline code span."""
    for i, line in enumerate(lines):
        if mask[i] or needle not in line:
            continue
        spans = inline_code_spans(line) if "`" in line else []
        yield i, line, _in_spans(spans)


def _in_spans(spans: list[tuple[int, int]]):
    """in_code(col) for sorted, disjoint spans: a bisect (a scan of every span for every match
    was quadratic in a long line)."""
    starts = [a for a, _ in spans]

    def in_code(col: int) -> bool:
        i = bisect_right(starts, col) - 1
        return i >= 0 and col < spans[i][1]
    return in_code


def code_ranges(text: str, comments_are_code: bool = True) -> tuple[list[Fence], list[tuple[int, int]]]:
    """The fenced blocks of a text, and every range of it that is code, in order: fences, inline
    code spans and (`comments_are_code`) HTML comments."""
    fence_list, comments = code_blocks(text)
    blocks = sorted([(f.start, f.end) for f in fence_list] + (comments if comments_are_code else []))
    block_starts = [a for a, _ in blocks]       # blocks do not overlap: the one before a line is the only candidate
    ranges = list(blocks)
    tick = text.find("`")
    while tick >= 0:        # each line holding a backtick, once
        start = text.rfind("\n", 0, tick) + 1
        end = text.find("\n", tick)
        if end < 0:
            end = len(text)
        i = bisect_right(block_starts, start) - 1
        if not (i >= 0 and start < blocks[i][1]):
            ranges.extend((start + a, start + b) for a, b in inline_code_spans(text[start:end]))
        tick = text.find("`", end)
    ranges.sort()
    return fence_list, ranges


class TextIndex:
    """Line starts and code ranges of one text, for offset -> (line, col) and 'is this code?'."""

    def __init__(self, text: str, comments_are_code: bool = True,
                 plain: tuple[str, list[Fence]] | None | Literal[False] = False):
        """`plain`: plain_prose(text, None), where the caller has it already."""
        self.text = text
        if plain is False:
            plain = plain_prose(text, None)
        if plain is not None:       # the usual note: its fences are all its code
            self.fences = plain[1]
            self.code = [(f.start, f.end) for f in self.fences]
        else:
            self.fences, self.code = code_ranges(text, comments_are_code)
        self._code_starts = [r[0] for r in self.code]
        self._lines = LineCounter(text)
        self._line: tuple[int, str] = (-1, "")      # the last line asked for: (start, text)

    def in_code(self, pos: int, end: int | None = None) -> bool:
        i = bisect_right(self._code_starts, pos) - 1
        if i >= 0 and pos < self.code[i][1]:
            return True
        if end is not None:   # a match that starts before a code span and runs into it
            j = bisect_right(self._code_starts, end - 1) - 1
            return j > i
        return False

    def pos(self, offset: int) -> tuple[int, int]:
        # Counted on from the previous offset (callers ask in order): counting from the start
        # for each was quadratic in a note's size.
        return self._lines.pos(offset)

    def line_at(self, offset: int) -> str:
        self._lines(offset)
        start = self._lines.start
        if self._line[0] != start:      # many tokens on one long line: found once
            end = self.text.find("\n", offset)
            self._line = (start, self.text[start:end if end >= 0 else len(self.text)])
        return self._line[1]


def scan(body: str, kinds: tuple[TokenKind, ...] = ("link", "embed", "tag", "user", "fmvar"),
         index: TextIndex | None = None, in_comments: bool = False) -> list[Token]:
    """Every token of the given kinds outside code, in body order.

    `in_comments`: also inside HTML comments. Neither the page nor the check wants that (a
    comment shows nothing, and what is in it is left as written, as in Dendron's preview).
    """
    embeds_only = kinds == ("embed",)       # expanding: only those matches (no tag needs the links)
    want_wiki = ("![[" in body) if embeds_only else ("link" in kinds or "embed" in kinds) and "[[" in body
    want_tag = "tag" in kinds and "#" in body
    want_user = "user" in kinds and "@" in body
    want_fm = "fmvar" in kinds and "{{" in body
    if not (want_wiki or want_tag or want_user or want_fm):
        return []
    ix = index or TextIndex(body, comments_are_code=not in_comments)
    in_code = ix.in_code if ix.code else None
    found: list[Token] = []
    wiki_spans: list[tuple[int, int]] = []
    if want_wiki:
        # The hottest loop of a big vault's check (a dozen links a note): inlined, and lines
        # counted on from the previous link (links come in order).
        keep_link, keep_embed = "link" in kinds, "embed" in kinds
        line = last = line_start = 0
        for m in (_EMBED_RE if embeds_only else _WIKI_FAST_RE).finditer(body):
            start, end = m.span()
            bang = embeds_only or (start > 0 and body[start - 1] == "!")
            if bang and not embeds_only:
                start -= 1
            # Only where '[[' itself is code: an alias may hold inline code ([[`cmd`|a.b]]).
            if in_code is not None and in_code(start):
                continue
            wiki_spans.append((start, end))
            if keep_embed if bang else keep_link:
                n = body.count("\n", last, start)
                if n:
                    line += n
                    line_start = body.rfind("\n", last, start) + 1
                last = start
                found.append(new_tuple(Token, ("embed" if bang else "link", start, end, line,
                                                start - line_start, body[start:end], m[1].strip())))
    sorted_ = True          # wikilinks come in order; other kinds are mixed in by a sort
    if want_fm:
        for m in FMVAR_RE.finditer(body):
            if not ix.in_code(m.start(), m.end()):
                line, col = ix.pos(m.start())
                found.append(Token("fmvar", m.start(), m.end(), line, col, m[0], m["name"]))
                sorted_ = False
    wiki_starts = [a for a, _ in wiki_spans]
    facts: _LineFacts | None = None

    def free(a: int) -> bool:
        if ix.in_code(a):
            return False
        i = bisect_right(wiki_starts, a) - 1
        return not (i >= 0 and a < wiki_spans[i][1])

    for want, rx, first, kind, strip, sigil in ((want_tag, _TAG_FAST_RE, _TAG_AT_START_RE, "tag", ".-/", "#"),
                                                (want_user, _USER_FAST_RE, _USER_AT_START_RE, "user", ".-", "@")):
        if not want:
            continue
        # Only after start, white space, '(' or '[' (not inside words, URLs, e-mail addresses).
        at_start = first.match(body)
        for m in itertools.chain((at_start,) if at_start else (), rx.finditer(body)):
            name = m["name"].rstrip(strip)
            if not name or not free(m.start()):
                continue
            line, col = ix.pos(m.start())
            facts = _line_facts(ix.line_at(m.start()), line, facts)
            if kind == "tag" and facts[1]:
                continue
            if _in_url(facts, col):
                continue
            found.append(Token(kind, m.start(), m.start() + 1 + len(name), line, col, sigil + name, name))  # type: ignore[arg-type]
            sorted_ = False
    if not sorted_:
        found.sort(key=_START)
    if found and "<" in body:
        tag_line = _HTML_LINE_RE.search(body)
        # (only where a token comes at or after the first line that may open an HTML block)
        if tag_line and found[-1].line >= body.count("\n", 0, tag_line.start()):
            html = raw_html_lines(body)
            if html:
                found = [t for t in found if t.kind == "fmvar" or t.line not in html]
        if _REF_IN_TAG_RE.search(body):     # inside a tag (`<span title="[[x]]">`): its text
            found = [t for t in found if t.kind == "fmvar" or not in_tag(body, t.start)]
    return found


_START = itemgetter(1)      # Token.start
# A line starting with a tag (not a comment: that is code to the scan already), which may open
# a raw HTML block.
_HTML_LINE_RE = re.compile(r"^[ \t]*(?:>[ \t]*)*<(?!!--)[A-Za-z!?/]", re.M)


# A tag holding what may be a wikilink, #tag or @user (it may span lines).
_REF_IN_TAG_RE = re.compile(r"<[A-Za-z][^<>]*?(?:\[\[|\s[#@])")


_TAG_RE = re.compile(r"<[A-Za-z][^<>]*>")


@lru_cache(maxsize=8)
def _tag_spans(body: str) -> tuple[list[int], list[int]]:
    """The starts and ends of the body's tags (`<` to `>`), found once for all its tokens."""
    starts: list[int] = []
    ends: list[int] = []
    for m in _TAG_RE.finditer(body):
        a, b = m.span()
        if body.find("\n", a, b) >= 0 and (_BLANK_LINE_RE.search(body, a, b) is not None
                                            or body.find("`", a, b) >= 0):
            continue        # no tag across a paragraph's end; more likely `<T` in inline code
        starts.append(a)
        ends.append(b)
    return starts, ends


def in_tag(body: str, at: int) -> bool:
    """Whether `at` is inside an HTML tag (`<span title="here">`): HTML, which Dendron's preview
    reads whole, so nothing in it is a link. A tag may span lines inside a paragraph (CommonMark's
    inline raw HTML: `<span` on one line, `title="here">` on the next), not across a blank line."""
    starts, ends = _tag_spans(body)
    i = bisect_right(starts, at) - 1
    return i >= 0 and starts[i] < at < ends[i]


def raw_html_lines(body: str) -> set[int]:
    """The numbers (0 the first) of the lines of raw HTML blocks, as the page reads them
    (kb.parse.commonmark, CommonMark's rules: at the top level, in list items and in quotes).
    Nothing in them is Markdown: Dendron's preview shows a wikilink, embed, #tag or @user there as written, so the
    scan leaves them (a `{{fm.KEY}}` there is still its value)."""
    from .commonmark import top_level_blocks
    return top_level_blocks(body)[0]


# What the tag scan asks of a line, found once per line (a line holding thousands of tags
# made each of them search the whole line): (line number, is a heading, the line, the
# ranges inside a link target '](...)' or '<...>', their starts, the words' starts and ends as
# str.split finds them, where '://' occurs).
_LineFacts = tuple[int, bool, str, list[tuple[int, int]], list[int], list[int], list[int], list[int]]
_WORD_RE = re.compile(r"\S+")     # re's white space is str.split's


def _line_facts(text: str, line: int, last: _LineFacts | None) -> _LineFacts:
    if last is not None and last[0] == line:
        return last
    spans: list[tuple[int, int]] = []
    for opener, closer, skip in (("](", ")", 2), ("<", ">", 1)):
        close = -1
        at = text.find(opener)
        while at >= 0:      # a column c is inside when c >= at + skip and no closer is in [at, c)
            if close < at:
                close = text.find(closer, at)
                if close < 0:
                    close = len(text)
            spans.append((at + skip, close))
            at = text.find(opener, at + 1)
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    words = [m.span() for m in _WORD_RE.finditer(text)] if "://" in text else []
    marks, at = [], text.find("://")
    while at >= 0:
        marks.append(at)
        at = text.find("://", at + 1)
    return (line, bool(HEADING_RE.match(text)), text, merged, [a for a, _ in merged],
            [a for a, _ in words], [b for _, b in words], marks)


def _in_url(facts: _LineFacts, pos: int) -> bool:
    """True inside a Markdown link target '](...)' or an autolink / bare URL."""
    spans, starts = facts[3], facts[4]
    i = bisect_right(starts, pos) - 1
    if i >= 0 and pos <= spans[i][1]:
        return True
    # '://' in the last word of line[:pos] (as split() finds it: the last word starting
    # before pos, cut at pos).
    word_starts, word_ends, marks = facts[5], facts[6], facts[7]
    w = bisect_right(word_starts, pos - 1) - 1
    if w < 0:
        return False
    k = bisect_left(marks, word_starts[w])
    return k < len(marks) and marks[k] + 3 <= min(word_ends[w], pos)
