"""Lines that Python-Markdown cannot get through in reasonable time, found before it sees them.

Python-Markdown's inline patterns try every '[' (and '<') against the rest of the line: a line
of 1,000 unclosed '[' takes a quarter of a second, 8,000 take 16 seconds, 100,000 hang the
build. Such a line is reported (`kb check` and the build, at the note's line) and the page
shows an error block in its place; the rest of the page and of the site builds as usual.
Lines in fenced code are left alone: Markdown does not look inside them.
"""
from __future__ import annotations

import html
import re

from .diagnostics import Diagnostic
from .syntax import code_blocks

MAX_OPEN = 200      # unclosed (or nested) '[' or '<' on one line: about 10 ms of Markdown at most
_BRACKET_RE = re.compile(r"[\[\]]")
CODE = "pathological-line"


def _why(line: str) -> str | None:
    """What makes this line too much for Markdown, or None."""
    for opener, closer in (("[", "]"), ("<", ">")):
        opened = line.count(opener)
        if opened <= MAX_OPEN:
            continue
        unclosed = opened - line.count(closer)
        if unclosed > MAX_OPEN:
            return f"{unclosed:,} unclosed '{opener}'"
        if opener == "[":
            depth = deepest = 0
            for m in _BRACKET_RE.finditer(line):
                depth = depth + 1 if m[0] == "[" else max(depth - 1, 0)
                deepest = max(deepest, depth)
            if deepest > MAX_OPEN:
                return f"'[' nested {deepest:,} deep"
    return None


def pathological_lines(text: str) -> list[tuple[int, str]]:
    """(0-based line, what is wrong) of every line outside fenced code that Markdown would
    take too long over. Two counts in C for the usual note."""
    if text.count("[") <= MAX_OPEN and text.count("<") <= MAX_OPEN:
        return []
    fences, _ = code_blocks(text)
    in_code: set[int] = set()
    for f in fences:
        in_code.update(range(f.start_line, f.end_line + 1))
    out = []
    for i, line in enumerate(text.split("\n")):
        if i not in in_code and (len(line) > MAX_OPEN):
            why = _why(line)
            if why is not None:
                out.append((i, why))
    return out


def line_problems(rel: str, body: str, body_line: int) -> list[Diagnostic]:
    """The note's pathological lines as problems at their lines in the file."""
    return [Diagnostic(rel, body_line + i + 1, 1, "error",
                       f"this line holds {why}: Markdown would take minutes over it, so the page shows an error "
                       "in its place; break the line up, close the brackets, or put it in a code block", CODE)
            for i, why in pathological_lines(body)]


def guard_markdown(text: str) -> str:
    """The page's Markdown with each pathological line replaced by an error block."""
    found = pathological_lines(text)
    if not found:
        return text
    lines = text.split("\n")
    for i, why in found:
        lines[i] = ('\n<div class="kb-bad-input" role="alert"><p><strong>A line of this note could not be shown:'
                    f'</strong> it holds {html.escape(why)}.</p></div>\n')
    return "\n".join(lines)
