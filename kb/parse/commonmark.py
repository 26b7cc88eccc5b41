"""Lists as CommonMark writes them, read right by Python-Markdown.

Dendron previews notes with remark (CommonMark): a nested list is indented to its parent's
text (2 spaces under `- `, 3 under `1. `), and a list may follow a paragraph line with no
blank line between. Python-Markdown nests at 4 spaces a level and wants the blank line, so
such lists render flat or as a paragraph. This preprocessor rewrites each list line's indent
to Python-Markdown's (4 per level, the item's text and blocks moved with it, code included,
unchanged inside) and adds the blank lines Python-Markdown needs:
  - before a list that interrupts a top-level paragraph (as CommonMark allows);
  - before an item that closes a nested list which held a blank line (Python-Markdown
    would otherwise take the item into that nested list);
  - before a block that ends a list without one (a heading after an item);
  - before a nested list that interrupts a paragraph inside an item;
  - before a fence straight after a top-level paragraph line (CommonMark ends the paragraph
    there; Python-Markdown would put the code inside it).
With `sane_lists` (registered beside it) a change of list type starts a new list, as in
CommonMark. A change of bullet (`-`, `*`, `+`) or of ordered delimiter (`.`, `)`) starts a
new list in CommonMark too, and a blank line ends a block quote (`> a`, blank, `> b` are two
quotes); Python-Markdown would join both, so an empty HTML comment (`<!-- -->`, shown as
nothing) goes between them. Block quotes at the top level and in list items have their
content passed through the same rewriting (a list or an HTML block inside a quote). Raw HTML
blocks are CommonMark's (spec 0.31, 4.6): types 1-5 (`<pre`, `<script`, `<style`, `<textarea`; `<!--`; `<?`; `<!X`; `<![CDATA[`) from
their start line to the first line holding their end, types 6 (a block tag: `<div`,
`<details`...) and 7 (a line holding one lone tag, which cannot interrupt a paragraph) to a
blank line, or to the end of their list item or quote; each is taken out whole into
Python-Markdown's HTML stash, so that nothing in it (a fence, a blank line, a heading) is read
as Markdown and Python-Markdown's own HTML rules (a `<div>` to its `</div>`) do not apply, and
is never wrapped in a paragraph. What follows a blank line is Markdown again. A tag that
Python-Markdown alone reads as a block (`<video>`...) starting a paragraph line is stashed on its
own, so that it stays in the paragraph, as in CommonMark. md_in_html's
block (a tag with a `markdown` attribute) is left to Python-Markdown to its closing tag. An ATX
heading indented 1-3 spaces loses its indent (Python-Markdown reads it only at column 0).
A fence opens whatever its info string holds, as in CommonMark: where pymdownx.superfences
would not read it (`md foo.md`), the first word stays the language and the rest is dropped.
Nothing else changes; fenced code outside lists is passed over whole.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from markdown import Markdown
from markdown.extensions import Extension
from markdown.extensions.footnotes import FootnoteExtension
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor
from xml.etree import ElementTree as etree

_MARKER_RE = re.compile(r"(?P<ind> *)(?P<m>[-*+]|\d{1,9}[.)])(?P<sp> +|$)(?P<rest>.*)")
_HR_RE = re.compile(r" {0,3}([-*_])(?: *\1){2,} *$")
_FENCE_RE = re.compile(r"(?P<ind> *)(?P<f>`{3,}|~{3,})(?P<info>.*)")
# A fence's opening line as pymdownx.superfences reads it (its RE_NESTED_FENCE_START): a
# language, then `{attributes}` or `key="value"` options, or what it does not recognise.
_SF_FENCE_RE = re.compile(r"""(?x)
    (?:`{3,}|~{3,})
    (?:[ \t]*\.?(?P<lang>[\w#.+-]+)(?=[\t ]|$))?
    (?:[ \t]*(\{(?P<attrs>[^\n]*)\})
       | (?P<options>(?:(?:[ \t]*[a-zA-Z][a-zA-Z0-9_]*(?:=(?P<quot>"|').*?(?P=quot))?)(?=[\t ]|$))+)
       | (?P<other>(?:(?:[ \t]*[^\s]+)(?=[\t ]|$))+)
    )?[ \t]*$""")
_SF_OPTION_RE = re.compile(r"""(?P<key>[a-zA-Z][a-zA-Z0-9_]*)(?:=(?P<quot>"|')(?P<value>.*?)(?P=quot))?""")
# The options superfences' highlighting takes, and what their values must look like.
_SF_OPTIONS = {"hl_lines": re.compile(r"\d+(?:-\d+)?(?:[ \t]+\d+(?:-\d+)?)*$"),
               "linenums": re.compile(r"\d+"), "title": None, "title_mode": None}
# Lines that start a block of their own: never the lazy continuation of a paragraph (an HTML
# block that may interrupt one too: see _starts_block).
_BLOCK_START_RE = re.compile(r" {0,3}(?:#{1,6}(?:[ \t]|$)|>)")
# A line that starts with a tag: what Python-Markdown reads as HTML (inside a `markdown` block).
_TAG_START_RE = re.compile(r" {0,3}<[A-Za-z/!?]")
_QUOTE_RE = re.compile(r" {0,3}> ?")
_ATX_RE = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)")

# CommonMark's HTML blocks (spec 0.31, 4.6): what starts one (after up to 3 spaces), and for
# types 1-5 what ends it (the line holding it); types 6 and 7 end before a blank line.
_HTML_BLOCK_NAMES = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|"
    "dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|h[1-6]|head|header|"
    "hr|html|iframe|legend|li|link|main|menu|menuitem|nav|noframes|ol|optgroup|option|p|param|"
    "search|section|summary|table|tbody|td|tfoot|th|thead|title|tr|track|ul")
_ATTRIBUTE = r"""(?:[ \t]+[A-Za-z_:][\w.:-]*(?:[ \t]*=[ \t]*(?:[^ \t"'=<>`\x00-\x1f]+|'[^']*'|"[^"]*"))?)"""
_HTML_BLOCKS: tuple[tuple[re.Pattern, re.Pattern | None, str], ...] = (
    (re.compile(r"<(?:script|pre|style|textarea)(?=[ \t>]|$)", re.I),
     re.compile(r"</(?:script|pre|style|textarea)>", re.I), ""),
    (re.compile(r"<!--"), re.compile(r"-->"), "-->"),
    (re.compile(r"<\?"), re.compile(r"\?>"), "?>"),
    (re.compile(r"<![A-Za-z]"), re.compile(r">"), ">"),
    (re.compile(r"<!\[CDATA\["), re.compile(r"\]\]>"), "]]>"),
    (re.compile(rf"</?(?:{_HTML_BLOCK_NAMES})(?=[ \t>]|/>|$)", re.I), None, ""),
    # (a lone <pre>, <script>, <style>, <textarea> or its closing tag is none: the spec's rule)
    (re.compile(rf"(?!</?(?i:script|pre|style|textarea)(?![A-Za-z0-9-]))"
                rf"(?:<[A-Za-z][A-Za-z0-9-]*{_ATTRIBUTE}*[ \t]*/?>|</[A-Za-z][A-Za-z0-9-]*[ \t]*>)[ \t]*$"), None, ""),
)
_OPEN_TAG_RE = re.compile(r" {0,3}<([A-Za-z][A-Za-z0-9-]*)")
# Tags that Python-Markdown reads as a block of raw HTML at a line's start, CommonMark not.
_PM_BLOCK_TAG_RE = re.compile(rf" {{0,3}}(</?(?i:canvas|group|hgroup|map|math|noscript|object|output|progress|video)"
                              rf"(?:{_ATTRIBUTE}*[ \t]*/?>|[ \t]*>))")
# A tag with a `markdown` attribute: md_in_html's block, whose content Python-Markdown reads.
_MARKDOWN_ATTR_RE = re.compile(rf" {{0,3}}<[A-Za-z][A-Za-z0-9-]*(?:{_ATTRIBUTE})*?[ \t]+markdown(?=[ \t=/>]|$)")
_INTERRUPT_RE = re.compile(r" *(?:#{1,6}(?:[ \t]|$)|>)")
# Between two lists (or two quotes) that Python-Markdown would join: a raw HTML block of its own.
_SEPARATOR = "<!-- -->"


@dataclass
class _Item:
    content: int        # the column of the item's text, as written (CommonMark's rule)
    new: int            # the column Python-Markdown reads it at: 4 per level
    blank: bool = False  # a blank line has been seen inside the item
    ordered: bool = False
    char: str = "-"     # the bullet, or the ordered delimiter: another one starts a new list


def _is_marker(line: str) -> re.Match | None:
    m = _MARKER_RE.match(line)
    if m is None or _HR_RE.match(line):
        return None
    return m


def normalize_lists(text: str) -> str:
    """The text with its lists indented and separated as Python-Markdown needs."""
    if not any(c in text for c in "-*+") and not re.search(r"\d[.)]", text):
        return text
    return "\n".join(normalize_lines(text.split("\n")))


def _indent(line: str) -> int:
    if "\t" in line:
        line = line.expandtabs(4)
    return len(line) - len(line.lstrip(" "))


def _dedent(line: str, width: int) -> str:
    """The line less `width` columns of its indentation (its container's)."""
    if "\t" in line[:len(line) - len(line.lstrip())]:
        line = line.expandtabs(4)
    return line[min(width, len(line) - len(line.lstrip(" "))):]


def _html_kind(text: str) -> int:
    """The type (1-7) of CommonMark HTML block that the text starts, or 0."""
    s = text.lstrip(" ")
    if not s.startswith("<") or len(text) - len(s) > 3:
        return 0
    return next((k for k, (start, _, _) in enumerate(_HTML_BLOCKS, 1) if start.match(s)), 0)


def _starts_block(line: str, tags: bool = False) -> bool:
    """The line starts a block that ends a paragraph: a heading, a quote, or an HTML block of
    types 1-6 (type 7 cannot interrupt a paragraph). With `tags` (inside md_in_html's block,
    which Python-Markdown reads) any line starting with a tag, as Python-Markdown reads it."""
    if _BLOCK_START_RE.match(line):
        return True
    return bool(_TAG_START_RE.match(line)) if tags else 0 < _html_kind(line) < 7


def normalize_lines(lines: list[str], stash: Callable[[str], str] | None = None,
                    inline: Callable[[str], str] | None = None,
                    record: tuple[set[int], list[int]] | None = None) -> list[str]:
    """`stash` keeps raw HTML blocks out of Markdown's reach and answers the line that stands for
    each (Python-Markdown's HTML stash), `inline` the same for a tag inside a paragraph; without
    them, HTML blocks are passed on as they are. `record` gathers the numbers of the lines in
    HTML blocks at the top level, in list items and in block quotes, and of the top level's
    ATX headings indented 1-3 spaces."""
    out: list[str] = []
    stack: list[_Item] = []
    fence: tuple[str, int, int] | None = None    # the open fence: its run, indent as written, indent now
    prev = "blank"        # what the last line was: blank, para (paragraph text), item (an item's first line), other
    quoted = False        # the last block at the top level was a block quote
    region: list | None = None    # md_in_html's block (a tag with `markdown`): its name, how deep
    i = 0
    while i < len(lines):
        raw = lines[i]
        i += 1
        line = raw.expandtabs(4) if "\t" in raw[:len(raw) - len(raw.lstrip())] else raw
        if fence is not None:
            run, was, now = fence
            lead = len(line) - len(line.lstrip(" "))
            if stack and line.strip() and lead < stack[-1].content:
                # The item ends, and the fence with it (CommonMark): Python-Markdown needs the closing line.
                out.append(" " * now + run)
                fence = None
                prev = "fenced"
        if fence is not None:
            body = line[min(lead, was):]
            out.append((" " * now + body) if line.strip() else "")
            stripped = line.strip()
            base = stack[-1].content if stack else 0
            if stripped.startswith(run[0] * len(run)) and not stripped.strip(run[0]) and lead - base < 4:
                # (indented 4 or more past its container, it is code text: CommonMark); a longer
                # closing run closes it too, which Python-Markdown needs written as the opening one
                out[-1] = " " * now + run
                fence = None
                prev = "fenced"      # Python-Markdown reads a line straight after it into its paragraph
                continue
            prev = "other"
            continue
        if not line.strip():
            out.append("")
            for item in stack:
                item.blank = True
            prev = "blank"
            continue
        if prev == "fenced":
            out.append("")
            for item in stack:
                item.blank = True
            prev = "blank"
        ind = len(line) - len(line.lstrip(" "))
        tags = region is not None      # inside md_in_html's block: its HTML is Python-Markdown's
        if region is not None:
            region[1] += (len(re.findall(rf"<{region[0]}(?=[\s/>]|$)", line, re.I))
                          - len(re.findall(rf"</{region[0]}\s*>", line, re.I)))
            if region[1] <= 0:
                region = None
        if _QUOTE_RE.match(line) and (not stack or ind < stack[0].content):
            # A block quote at the top level (ending any list): its content rewritten as a
            # document of its own; a quote after a blank line is a new quote.
            if stack and prev != "blank":
                out.append("")
            stack.clear()
            if prev == "blank" and quoted:
                out.extend([_SEPARATOR, ""])
            elif prev not in ("blank", "fenced"):
                out.append("")
            first = i - 1
            inner = [_QUOTE_RE.sub("", line, count=1)]
            while i < len(lines) and lines[i].strip():
                nxt = lines[i]
                if _QUOTE_RE.match(nxt):
                    inner.append(_QUOTE_RE.sub("", nxt, count=1))
                elif _lazy_in_quote(nxt, inner[-1]):
                    # Text going on the quote's paragraph (CommonMark's lazy line), as text.
                    text = nxt.strip()
                    inner.append("\\" + text if _MARKER_RE.match(text) and not _HR_RE.match(text) else text)
                else:
                    break
                i += 1
            # (its content's lines are the quote's, one for one: its HTML blocks recorded at theirs)
            sub: tuple[set[int], list[int]] | None = (set(), []) if record is not None else None
            out.extend(("> " + x) if x else ">" for x in normalize_lines(inner, stash, inline, sub))
            if record is not None and sub is not None:
                record[0].update(first + k for k in sub[0])
            if i < len(lines) and lines[i].strip():
                out.append("")           # what follows is not in the quote: Python-Markdown would take it in
            quoted = True
            prev = "blank"
            continue
        if not stack and prev == "blank":
            quoted = False
        m = _is_marker(line)
        # The container the marker would open in: the innermost item whose text it is indented to.
        inside = len(stack)
        while inside and ind < stack[inside - 1].content:
            inside -= 1
        base = stack[inside - 1].content if inside else 0
        if m is not None and ind - base >= 4:
            m = None                     # indented code, or a paragraph's text
            if prev in ("para", "item"):
                # Text going on the paragraph: Python-Markdown would start a list there, backslashed it is text.
                line = re.sub(r"^( *)(\d{1,9}(?=[.)])|[-*+])", lambda g: g[1] + ("\\" + g[2] if g[2][0] in "-*+" else g[2] + "\\"), line, count=1)
        if m is not None and inside == len(stack) and prev in ("para", "item") and not _may_interrupt(m):
            m = None                     # "2. x" inside a paragraph is text; an empty "-" under one too
            # Python-Markdown would still start a list at "2." in an item: backslashed, it is text.
            line = re.sub(r"^( *\d{1,9})([.)])", r"\1\\\2", line)
        lazy = (m is None and prev in ("para", "item") and not _starts_block(line, tags)
                and not _FENCE_RE.match(line) and not _HR_RE.match(line))
        # Close the items this line is not inside (a lazy continuation line stays in the paragraph).
        closed: list[_Item] = []
        while stack and ind < stack[-1].content and not lazy:
            closed.append(stack.pop())
        if m is not None:
            level = len(stack)
            char = m["m"][-1]
            separated = False
            if level == 0 and not closed and prev in ("para", "other"):
                out.append("")           # a list straight after a paragraph (or heading...) line
            elif level and not closed and prev in ("para", "quote"):
                out.append("")           # a nested list straight after a paragraph inside the item
                for item in stack:
                    item.blank = True
            elif closed and out and out[-1] != "" and (
                    any(c.blank for c in closed) or closed[-1].ordered != m["m"][0].isdigit()):
                out.append("")           # leaving a list that held a blank line, or a change of list type
                for item in stack:
                    item.blank = True    # the list this item goes on in holds a blank line now
            if closed and closed[-1].char != char and closed[-1].ordered == m["m"][0].isdigit():
                # Another bullet or delimiter: a new list (CommonMark), which Python-Markdown
                # would join to the one before without something between them.
                if out and out[-1] != "":
                    out.append("")
                out.extend([" " * (4 * level) + _SEPARATOR, ""])
                for item in stack:
                    item.blank = True
                separated = True
            marker = m["m"] if m["m"][-1] not in ")" else m["m"][:-1] + "."
            col = 4 * level
            rest = m["rest"]
            sp = len(m["sp"])
            content = ind + len(m["m"]) + (sp if 0 < sp <= 4 else 1)
            if sp > 4 and rest:          # 5+ spaces: the text is indented code inside the item
                rest = " " * (sp - 1) + rest
            empty = not rest
            if empty and out and out[-1].strip():
                # An empty item under a text line: Python-Markdown would read "- " as a setext
                # underline; an empty comment (shown as nothing) keeps it an item.
                rest = _SEPARATOR
            out.append(" " * col + marker + " " + rest)    # "- " with nothing after: an empty item
            stack.append(_Item(content, col + 4, ordered=m["m"][0].isdigit(), char=char, blank=separated))
            prev = "blank" if empty else "item"
            continue
        where = stack[-1].content if stack else 0
        kind = _html_kind(line[where:]) if m is None and 0 <= ind - where < 4 else 0
        if kind == 7 and prev in ("para", "item"):
            kind = 0                     # a lone tag cannot interrupt a paragraph: its text
        if kind and tags and kind != 2:
            kind = 0                     # inside md_in_html's block: Python-Markdown's HTML
        if kind in (6, 7) and _MARKDOWN_ATTR_RE.match(line[where:]):
            # md_in_html's block (`<div markdown>`): left to Python-Markdown, which reads its content
            # as Markdown, to its closing tag; the HTML in it too.
            name = _OPEN_TAG_RE.match(line[where:])[1]
            depth = (len(re.findall(rf"<{name}(?=[\s/>]|$)", line, re.I))
                     - len(re.findall(rf"</{name}\s*>", line, re.I)))
            region = [name, depth] if depth > 0 else None
            kind, tags = 0, True
        if kind:
            first = i - 1
            # CommonMark's HTML block: types 1-5 (<pre>, <script>, <style>, <textarea>; a comment;
            # <?; <!X; CDATA) from their start line to the first line holding their end (that line
            # whole); types 6 (a block tag) and 7 (a lone tag) to a blank line. Or to the end of the
            # container (an item: a line indented less than its text; a quote: its end).
            start, end, closer = _HTML_BLOCKS[kind - 1]
            block = [line[where:]]
            closes = end is None or bool(end.search(block[0]))
            while i < len(lines) and (end is None or not closes):
                nxt = lines[i]
                if end is None and not nxt.strip():
                    break                # types 6 and 7: a blank line ends it
                if stack and nxt.strip() and _indent(nxt) < where:
                    break                # the item ends, and the block with it
                i += 1
                block.append(_dedent(nxt, where) if stack else nxt)
                closes = end is None or bool(end.search(nxt))
            while not closes and len(block) > 1 and not block[-1].strip():
                block.pop()              # blank lines before what ends the item are not in it
                i -= 1
            if record is not None:
                record[0].update(range(first, i))
            if stash is None:            # passed on as written (moved with its item)
                col = stack[-1].new if stack else 0
                out.extend((" " * col + x) if x.strip() else "" for x in block)
                prev = "other"
                continue
            # Taken out whole as raw HTML, before fences and HTML blocks are looked for: nothing
            # in it is Markdown (a fence, a blank line, a heading), and Python-Markdown's own HTML
            # rules do not apply. One of types 1-5 left open is closed at its end, so that it does
            # not hide the rest of the page.
            if not closes:
                closer = closer or f"</{_OPEN_TAG_RE.match(block[0])[1].lower()}>"
            holder = stash("\n".join(block) + ("" if closes else "\n" + closer))
            if stack:
                if closed and prev != "blank":
                    out.append("")       # after a nested list (or Python-Markdown reads it into that list)
                    for item in stack:
                        item.blank = True
                out.append(" " * stack[-1].new + holder)
                prev = "para"
            else:
                if out and out[-1] != "":
                    out.append("")       # it ends a paragraph or list (CommonMark)
                out.extend([holder, ""])
                prev = "blank"
            continue
        if closed and not stack and prev != "blank":
            out.append("")               # a block that ends a list needs a blank line before it
        if stack:
            top = stack[-1]
            extra = ind - top.content
            col = top.new + (extra if extra >= 4 else 0)     # 4 more: indented code in the item
            if (closed or (prev in ("para", "item") and _INTERRUPT_RE.match(line))) and prev != "blank":
                # After a nested list (or Python-Markdown reads it into that list); before a quote or
                # heading that interrupts the item's paragraph (or Python-Markdown reads it as text).
                out.append("")
                for item in stack:
                    item.blank = True
            text = line.lstrip(" ")
            if prev == "item" and 0 <= extra < 4 and re.fullmatch(r"(?:-+|=+)[ \t]*", text):
                # A setext underline under the item's first line: CommonMark's heading, which
                # Python-Markdown does not read in an item; written as an ATX heading.
                head = _MARKER_RE.match(out[-1])
                out[-1] = out[-1][:head.start("rest")] + ("# " if text[0] == "=" else "## ") + head["rest"]
                prev = "other"
                continue
            if 0 <= extra < 4 and text.startswith(">") and not tags:
                # A block quote in the item: its content rewritten as a document of its own, as at
                # the top level (its HTML blocks, lists and quotes read by CommonMark's rules).
                first = i - 1
                inner = [_QUOTE_RE.sub("", _dedent(line, top.content), count=1)]
                while i < len(lines) and lines[i].strip():
                    nxt = lines[i]
                    if _indent(nxt) >= top.content and _QUOTE_RE.match(_dedent(nxt, top.content)):
                        inner.append(_QUOTE_RE.sub("", _dedent(nxt, top.content), count=1))
                    elif _lazy_in_quote(nxt, inner[-1]) and not _is_marker(nxt):
                        inner.append(nxt.strip())
                    else:
                        break
                    i += 1
                sub = (set(), []) if record is not None else None
                out.extend(" " * top.new + (("> " + x) if x else ">")
                           for x in normalize_lines(inner, stash, inline, sub))
                if record is not None and sub is not None:
                    record[0].update(first + k for k in sub[0])
                if i < len(lines) and lines[i].strip():
                    out.append("")       # what follows is not in the quote: Python-Markdown would take it in
                    for item in stack:
                        item.blank = True
                    prev = "blank"
                else:
                    prev = "quote"
                continue
            out.append(" " * col + text)
            f = _FENCE_RE.match(line)
            if f is not None and ind - top.content < 4 and not (f["f"][0] == "`" and "`" in f["info"]):
                out[-1] = " " * col + f["f"] + fence_info(f["f"], f["info"])
                fence = (f["f"], ind, col)
                prev = "other"
            else:
                # (a quote or heading indented to the item's text, not past it, starts a block of its own)
                own = text if extra < 4 else line
                prev = "para" if not _starts_block(own, tags) and not _HR_RE.match(own) else (
                    "quote" if own.startswith(">") else "other")
            continue
        f = _FENCE_RE.match(line)
        if f is not None and ind < 4 and not (f["f"][0] == "`" and "`" in f["info"]):
            if prev == "para":
                out.append("")           # a fence interrupts a paragraph (CommonMark); Python-Markdown needs the blank
            out.append(line[:f.start("info")] + fence_info(f["f"], f["info"]))
            fence = (f["f"], ind, ind)
            prev = "other"
            continue
        if 0 < ind < 4 and _ATX_RE.match(line):
            line = line.lstrip(" ")      # an ATX heading indented 1-3 (CommonMark); Python-Markdown wants it at 0
            if record is not None:
                record[1].append(i - 1)
        elif inline is not None and not tags and (t := _PM_BLOCK_TAG_RE.match(line)):
            # A tag that Python-Markdown takes for a block of raw HTML at a line's start (`<video>`),
            # which CommonMark reads as a paragraph's text: taken out on its own, it stays in it.
            line = line[:t.start(1)] + inline(t[1]) + line[t.end(1):]
        out.append(line)
        if ind >= 4 and prev == "blank":
            prev = "other"               # indented code
        else:
            prev = "para" if not _starts_block(line, tags) and not _HR_RE.match(line) else "other"
    if fence is not None:        # unclosed: code to the end (CommonMark); Python-Markdown needs the line
        out.append(" " * fence[2] + fence[0])
    return out


def fence_info(run: str, info: str) -> str:
    """A fence's info string as written after its run, made one that pymdownx.superfences opens
    a fence with. CommonMark opens a fence whatever the info string holds (its first word is the
    language); superfences only where it reads as a language and its own options (`title="x"`,
    `hl_lines="1 2"`, `linenums="1"`, `{.lang #id}`), and otherwise shows the fence as text (a
    stray heading where the code holds a `#` line). Options superfences reads are kept (a bare
    `linenums` is `linenums="1"`); anything else is dropped, leaving the first word as the
    language (where it is one superfences takes: `md` of `md foo.md`)."""
    m = _SF_FENCE_RE.match(run + info)
    if m is not None and not m["other"]:
        if m["options"] is None:
            return info                  # a language alone, or attributes
        fixed = info
        for o in _SF_OPTION_RE.finditer(m["options"]):
            key, value = o["key"], o["value"]
            if key == "linenums" and value is None:
                fixed = fixed.replace(o[0], 'linenums="1"', 1)
                continue
            check = _SF_OPTIONS.get(key, False)
            if check is False or value is None or (check is not None and not check.match(value)):
                break
        else:
            return fixed
    word = info.split(None, 1)[0] if info.strip() else ""
    return " " + word if re.fullmatch(r"\.?[\w#.+-]+", word) else ""


def top_level_blocks(text: str) -> tuple[set[int], list[int]]:
    """The numbers of the lines of `text` (0 the first) in raw HTML blocks at the top level, in
    list items and in block quotes, and of its ATX headings indented 1-3 spaces at the top
    level: what a scan for headings that reads `#` at a line's start must leave out (its text
    is HTML) and take in (a heading), and where a wikilink is no link."""
    record: tuple[set[int], list[int]] = (set(), [])
    normalize_lines(text.split("\n"), lambda html: "", None, record)
    return record


def _lazy_in_quote(line: str, last: str) -> bool:
    """A line without `>` that goes on the paragraph a quote ends with: not a block of its own
    (a list item at the top level, a heading, a fence, a rule...) and after paragraph text."""
    if not last.strip() or _FENCE_RE.match(last) or _starts_block(last, True) or _HR_RE.match(last):
        return False
    ind = len(line) - len(line.lstrip(" "))
    if _starts_block(line) or _FENCE_RE.match(line) or _HR_RE.match(line):
        return False
    m = _is_marker(line)
    return m is None or ind >= 4        # a marker here starts a list: the quote is not its container


def _may_interrupt(m: re.Match) -> bool:
    """CommonMark: a list interrupts a paragraph only with text, and an ordered one only from 1."""
    if not m["rest"].strip():
        return False
    return not m["m"][0].isdigit() or m["m"][:-1] == "1"


class _ListPreprocessor(Preprocessor):
    def __init__(self, md: Markdown) -> None:
        super().__init__(md)
        self.holders: set[str] = set()     # the placeholders of the HTML blocks taken out

    def run(self, lines: list[str]) -> list[str]:
        self.holders = set()
        return normalize_lines(lines, self._stash, self.md.htmlStash.store)

    def _stash(self, html: str) -> str:
        holder = self.md.htmlStash.store(html)
        self.holders.add(holder)
        return holder


class _HtmlBlocksUnwrapped(Postprocessor):
    """An HTML block is no paragraph (CommonMark): Python-Markdown wraps a placeholder standing
    alone in <p> unless its HTML starts with a block-level tag (`<img>`, `<a>`, `<span>` it
    wraps). Runs before the stash is put back."""

    def __init__(self, md: Markdown, pre: _ListPreprocessor) -> None:
        super().__init__(md)
        self.pre = pre

    def run(self, text: str) -> str:
        if not self.pre.holders:
            return text
        return re.sub(r"<p>\s*(\x02wzxhzdk:\d+\x03)\s*</p>", lambda m: m[1] if m[1] in self.pre.holders else m[0], text)


class _UnreferencedFootnotes(Treeprocessor):
    """CommonMark's footnotes (GFM, remark's, markdown-it's) list only the definitions that the
    text refers to; Python-Markdown's list every one. Runs after the inline pass, which records
    the references: drops the others and numbers what is left (in the text too) by its place."""

    def run(self, root: etree.Element) -> None:
        fn = next((e for e in self.md.registeredExtensions if isinstance(e, FootnoteExtension)), None)
        if fn is None or not fn.footnotes:
            return
        used = {fn.makeFootnoteId(k) for k in fn.footnote_order}
        div = next((d for d in root.iter("div") if d.get("class") == "footnote"), None)
        ol = div.find("ol") if div is not None else None
        if ol is None or len(used) == len(ol):
            return
        numbers: dict[str, int] = {}
        for li in list(ol):
            ident = li.get("id", "")
            if ident not in used:
                ol.remove(li)
                continue
            numbers[ident] = len(numbers) + 1
            back = li.find('.//a[@class="footnote-backref"]')
            if back is not None:
                back.set("title", fn.getConfig("BACKLINK_TITLE").format(numbers[ident]))
        if not numbers:
            parent = next((p for p in root.iter() if div in list(p)), None)
            if parent is not None:
                parent.remove(div)
            return
        for a in root.iter("a"):
            if a.get("class") == "footnote-ref" and a.get("href", "")[1:] in numbers:
                a.text = fn.getConfig("SUPERSCRIPT_TEXT").format(numbers[a.get("href")[1:]])


class CommonMarkLists(Extension):
    """Registers the list preprocessor (after whitespace is normalised, before code fences and
    HTML blocks are taken out), `sane_lists`, and the footnote pass (after the inline pass and
    the footnotes' reordering, before their duplicate back-links)."""

    def extendMarkdown(self, md: Markdown) -> None:
        pre = _ListPreprocessor(md)
        md.preprocessors.register(pre, "kb_commonmark_lists", 27)
        md.postprocessors.register(_HtmlBlocksUnwrapped(md, pre), "kb_html_blocks", 35)
        md.treeprocessors.register(_UnreferencedFootnotes(md), "kb_unreferenced_footnotes", 17)
        md.registerExtensions(["sane_lists"], {})


def makeExtension(**kwargs) -> CommonMarkLists:  # noqa: N802 (Python-Markdown's name)
    return CommonMarkLists(**kwargs)
