"""Shown rows -> an HTML table (every cell escaped) and the download CSV (formula-safe).

Only the shown rows are formatted here, so this per-cell loop is bounded by what a
reader sees. The fragment has no blank lines: Markdown would end a raw HTML block there.
The <table> carries no class on purpose: mkdocs-material styles and wraps only
`table:not([class])`; kb-tables.js finds it as `.kb-data table`.
"""
from __future__ import annotations

import csv
import html
import io
import math
import re
from typing import Any, Callable

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from .engine import BlockError, Table

MISSING = "\u2014"                     # an em dash: missing or not a finite number
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TALL_ROWS = 15                         # a longer table scrolls in its box, under a header kept in view
PROSE_CHARS = 40                       # a text column with a longer cell (prose, a URL) may wrap


def esc(text: str) -> str:
    """HTML-escape text; line breaks become <br> so a cell can never open a blank line."""
    out = html.escape(text, quote=True)
    return out.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")


def _is_number_column(s: pd.Series) -> bool:
    return ptypes.is_numeric_dtype(s.dtype) and not ptypes.is_bool_dtype(s.dtype)


def plain_number(v: float | int, digits: int | None = None) -> str:
    """A number as a reader expects it: 974 not 974.0, `digits` decimals when rounded."""
    if digits is not None:
        return str(int(v)) if digits <= 0 else f"{v:.{digits}f}"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    f = float(v)
    if f.is_integer() and abs(f) < 1e15:
        return str(int(f))
    return repr(f)


def _finite(v: Any) -> bool:
    try:
        return v is not None and not pd.isna(v) and math.isfinite(float(v))
    except (TypeError, ValueError):
        return False


def cell_text(v: Any, numeric: bool, digits: int | None, template: str | None) -> str | None:
    """Display text of one cell, None when missing/non-finite. Raises ValueError for a bad template."""
    if numeric:
        if not _finite(v):
            return None
        if template is not None:
            return template.format(round(float(v), digits) if digits is not None else v)
        return plain_number(v, digits)
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    text = str(v)
    return template.format(text) if template is not None else text


_HYPHENATED = re.compile(r"[^\s<>/]*-[^\s<>/]*")


def keep_names(escaped: str) -> str:
    """Hyphenated names (llama2-70b, SE-ResNeXt101-32x4d) in a no-wrap span: a narrow column
    wraps a cell at its spaces (or after the '/' of org/model), never inside a name.
    Takes and returns escaped HTML."""
    out = _HYPHENATED.sub(lambda m: f'<span class="kb-nb">{m.group()}</span>' if len(m.group()) > 1 else m.group(),
                          escaped)
    return out.replace("/<span", "/<wbr><span")


def _classes(*names: str) -> str:
    names = tuple(n for n in names if n)
    return f' class="{" ".join(names)}"' if names else ""


def _give(column: str, give_way: dict[str, int] | None) -> str:
    order = (give_way or {}).get(column)
    return f' data-kb-give="{order}"' if order else ""


def _is_prose(values: Any) -> bool:
    """A text column long enough to be prose or a URL may wrap; short ones (identifiers
    such as inf2.48xlarge or llama2-70b) never wrap, so they are never broken mid-name."""
    return any(isinstance(v, str) and len(v) > PROSE_CHARS for v in values)


def render_table(table: Table, *, link: Callable[[str, str], str | None], href: Callable[[str], str],
                 caption: str | None, download: str | None,
                 more: frozenset[str] = frozenset(),
                 give_way: dict[str, int] | None = None) -> tuple[str, set[str]]:
    """The <table> (plus download link) and the fnames of the notes its cells link to.

    Columns in `more` are marked kb-more: the browser hides them behind a toggle when the
    table is too wide; on a screen too narrow even then, the key columns in `give_way` are
    hidden too, 1 first (their header says so in data-kb-give). Cells are separated by line breaks, which browsers ignore in a table
    but the search index reads as spaces (no 'inf1.xlarge1179' tokens)."""
    df = table.frame
    linked: set[str] = set()
    cols = list(df.columns)
    numeric = [_is_number_column(df[c]) for c in cols]
    values = [df[c].to_numpy(dtype=object) for c in cols]
    extra = ["kb-more" if c in more else "" for c in cols]
    wrap = ["kb-wrap" if not numeric[j] and _is_prose(values[j]) else "" for j in range(len(cols))]
    lines = ["<table>"]
    if caption:
        lines.append(f"<caption>{esc(caption)}</caption>")
    lines.append("<thead><tr>\n" + "\n".join(
        f'<th scope="col"{_classes("kb-num" if num else "", x)}{_give(c, give_way)}>{esc(c)}</th>'
        for c, num, x in zip(cols, numeric, extra)) + "\n</tr></thead>")
    lines.append("<tbody>")
    for r in range(len(df)):
        cells = []
        for j, c in enumerate(cols):
            v = values[j][r]
            tmpl = table.templates.get(c)
            try:
                text = cell_text(v, numeric[j], table.digits.get(c), tmpl.value if tmpl else None)
            except (ValueError, TypeError) as e:
                raise BlockError(f"format: template {tmpl.value!r} does not fit {v!r} in column '{c}' ({e})",
                                 tmpl.line, tmpl.col, "data-bad-format") from None
            if text is None:
                cls = _classes("kb-num" if numeric[j] else "", "kb-missing", extra[j])
                cells.append(f"<td{cls}>{MISSING}</td>")
                continue
            inner = esc(text) if numeric[j] or wrap[j] else keep_names(esc(text))
            key = plain_number(v) if numeric[j] else str(v)
            fname = link(c, key)
            if fname:
                linked.add(fname)
                inner = f'<a href="{html.escape(href(fname), quote=True)}">{inner}</a>'
            if numeric[j]:
                cells.append(f'<td{_classes("kb-num", extra[j])} data-sort-value="{float(v)!r}">{inner}</td>')
            else:
                cells.append(f"<td{_classes(wrap[j], extra[j])}>{inner}</td>")
        lines.append("<tr>\n" + "\n".join(cells) + "\n</tr>")
    lines.append("</tbody>")
    lines.append("</table>")
    lines = _scroll_box(lines, caption or "Table", tall=len(df) > TALL_ROWS)
    if download:
        name = html.escape(download, quote=True)
        lines.append(f'<p class="kb-download"><a href="{name}" download="{name}">Download these rows (CSV)</a></p>')
    return "\n".join(lines), linked


def _scroll_box(table_lines: list[str], label: str, *, tall: bool) -> list[str]:
    """The table inside its own scroll box (a focusable region, so keys scroll it too); the
    outer frame carries the fade that says more columns lie to the right."""
    return [f'<div class="kb-frame{" kb-tall" if tall else ""}">',
            f'<div class="kb-scroll" tabindex="0" role="region" aria-label="{esc(label)}">',
            *table_lines, "</div>", "</div>"]


def defuse(text: str) -> str:
    """Keep spreadsheets from running a cell as a formula (OWASP CSV injection advice)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def download_csv(table: Table) -> bytes:
    """The shown rows as CSV: numbers as numbers (rounded, unformatted), text defused, missing empty."""
    df = table.frame
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([defuse(str(c)) for c in df.columns])
    numeric = [_is_number_column(df[c]) for c in df.columns]
    values = [df[c].to_numpy(dtype=object) for c in df.columns]
    for r in range(len(df)):
        row = []
        for j, c in enumerate(df.columns):
            v = values[j][r]
            if numeric[j]:
                row.append(plain_number(v, table.digits.get(c)) if _finite(v) else "")
            elif v is None or (not isinstance(v, str) and pd.isna(v)):
                row.append("")
            else:
                row.append(defuse(str(v)))
        w.writerow(row)
    return buf.getvalue().encode("utf-8")
