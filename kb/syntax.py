"""Find Dendron syntax in a Markdown body, with positions, outside code.

One scanner serves the renderer, the checker and `kb rename`, so all three agree
on what is a link. Fenced code blocks and inline code spans are never touched.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Literal

TokenKind = Literal["link", "embed", "tag", "user", "fmvar"]

FENCE_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^\n]*)$")
# [[...]] and ![[...]]; the inner part may not hold a newline or another [[.
WIKI_RE = re.compile(r"(?P<bang>!?)\[\[(?P<inner>[^\[\]\n]+?)\]\]")
# Dendron hashtags: '#' after start/space/'(', a letter first, then word chars, '-', '.', '/'.
TAG_RE = re.compile(r"(?<![^\s(\[])#(?P<name>[A-Za-z][\w\-./]*)")
# Dendron user tags: '@' after start/space/'(', a letter first (so e-mail addresses are left alone).
USER_RE = re.compile(r"(?<![^\s(\[])@(?P<name>[A-Za-z][\w\-.]*)")
FMVAR_RE = re.compile(r"\{\{\s*fm\.(?P<name>[\w\-.]+)\s*\}\}")
BLOCK_ANCHOR_RE = re.compile(r"(?:^|\s)\^(?P<id>[A-Za-z0-9][\w\-]*)\s*$")
HEADING_RE = re.compile(r"^(?P<hashes>#{1,6})[ \t]+(?P<text>.*?)(?:[ \t]+#+)?[ \t]*$")


@dataclass(frozen=True)
class Token:
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


def fences(lines: list[str]) -> list[Fence]:
    """Fenced code blocks (``` or ~~~), also indented ones inside lists."""
    out: list[Fence] = []
    i, n = 0, len(lines)
    while i < n:
        m = FENCE_RE.match(lines[i])
        if not m or (m["fence"][0] == "`" and "`" in m["info"]):
            i += 1
            continue
        fence, indent = m["fence"], m["indent"]
        j = i + 1
        while j < n:
            c = lines[j].strip()
            if c.startswith(fence[0] * len(fence)) and set(c) == {fence[0]}:
                break
            j += 1
        end = min(j, n - 1)
        out.append(Fence(i, end, m["info"].strip(), indent, "\n".join(lines[i + 1:j])))
        i = j + 1
    return out


def code_line_mask(lines: list[str], fence_list: list[Fence] | None = None) -> list[bool]:
    mask = [False] * len(lines)
    for f in fence_list if fence_list is not None else fences(lines):
        for k in range(f.start_line, f.end_line + 1):
            mask[k] = True
    return mask


def _inline_code_spans(line: str) -> list[tuple[int, int]]:
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


def scan(body: str, kinds: tuple[TokenKind, ...] = ("link", "embed", "tag", "user", "fmvar")) -> list[Token]:
    """Every token of the given kinds outside code, in body order."""
    lines = body.split("\n")
    mask = code_line_mask(lines)
    tokens: list[Token] = []
    offset = 0
    want_wiki = "link" in kinds or "embed" in kinds
    for ln, line in enumerate(lines):
        if not mask[ln] and line:
            tokens.extend(_scan_line(line, ln, offset, kinds, want_wiki))
        offset += len(line) + 1
    return tokens


def _scan_line(line: str, ln: int, offset: int, kinds: tuple[TokenKind, ...], want_wiki: bool) -> Iterator[Token]:
    spans = _inline_code_spans(line) if "`" in line else []

    def in_code(a: int, b: int) -> bool:
        return any(s <= a < e or s < b <= e for s, e in spans)

    taken: list[tuple[int, int]] = []
    found: list[Token] = []
    if want_wiki and "[[" in line:
        for m in WIKI_RE.finditer(line):
            if in_code(m.start(), m.end()):
                continue
            kind: TokenKind = "embed" if m["bang"] else "link"
            taken.append((m.start(), m.end()))
            if kind in kinds:
                found.append(Token(kind, offset + m.start(), offset + m.end(), ln, m.start(), m[0], m["inner"].strip()))
    if "fmvar" in kinds and "{{" in line:
        for m in FMVAR_RE.finditer(line):
            if not in_code(m.start(), m.end()):
                found.append(Token("fmvar", offset + m.start(), offset + m.end(), ln, m.start(), m[0], m["name"]))

    def free(a: int, b: int) -> bool:
        return not in_code(a, b) and not any(s <= a < e for s, e in taken)

    if "tag" in kinds and "#" in line and not HEADING_RE.match(line):
        for m in TAG_RE.finditer(line):
            name = m["name"].rstrip(".-/")
            if name and free(m.start(), m.end()) and not _in_url(line, m.start()):
                found.append(Token("tag", offset + m.start(), offset + m.start() + 1 + len(name), ln, m.start(),
                                   "#" + name, name))
    if "user" in kinds and "@" in line:
        for m in USER_RE.finditer(line):
            name = m["name"].rstrip(".-")
            if name and free(m.start(), m.end()) and not _in_url(line, m.start()):
                found.append(Token("user", offset + m.start(), offset + m.start() + 1 + len(name), ln, m.start(),
                                   "@" + name, name))
    found.sort(key=lambda t: t.start)
    yield from found


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


def block_anchor(line: str) -> str | None:
    m = BLOCK_ANCHOR_RE.search(line)
    return m["id"] if m else None
