"""render_block / check_block: one `table` or `chart` fence -> HTML fragment + diagnostics."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Callable

from kb.parse.diagnostics import Diagnostic

from . import engine
from .chart import chart_lines, render_svg
from .context import DataContext
from .html import download_csv, esc, render_table
from .keycols import give_way_order, key_columns
from .spec import BlockSpec, parse_spec

KINDS = ("table", "chart")
WIDE_COLUMNS = 7   # a table with more columns lets its page use the screen's whole width


@dataclass
class BlockResult:
    html: str                                   # one fragment, no blank lines (a raw Markdown HTML block)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    linked_notes: set[str] = field(default_factory=set)
    downloads: list[tuple[str, bytes]] = field(default_factory=list)


def _safe_id(block_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", block_id) or "data"


def error_box(kind: str, diags: list[Diagnostic]) -> str:
    """A visible Material 'failure' admonition listing what is wrong, so serve shows it in place."""
    lines = ['<div class="admonition failure kb-data-error">',
             f'<p class="admonition-title">This {html.escape(kind)} cannot be shown</p>']
    lines += [f"<p>{esc(d.format())}</p>" for d in diags]
    lines.append("</div>")
    return "\n".join(lines)


_SPECS: dict[tuple[str, str, str, int], tuple[BlockSpec | None, list[Diagnostic]]] = {}
_SPECS_MAX = 50_000


def _spec(kind: str, body: str, note_path: str, body_line: int) -> tuple[BlockSpec | None, list[Diagnostic]]:
    if kind not in KINDS:
        return None, [Diagnostic(note_path, body_line, 0, "error",
                                 f"unknown data block '{kind}' (use table or chart)", "data-unknown-key")]
    # A block parsed again (a CSV it reads changed: every block reading it is drawn again) is the
    # same text at the same place: its spec is kept (specs are never changed once parsed).
    key = (kind, body, note_path, body_line)
    hit = _SPECS.get(key)
    if hit is None:
        spec, diags = parse_spec(kind, body, note_path=note_path, body_line=body_line)
        if len(_SPECS) >= _SPECS_MAX:
            _SPECS.clear()
        hit = _SPECS[key] = (spec if not diags else None), diags
    return hit[0], list(hit[1])


def _located(kind: str, note_path: str, e: engine.BlockError) -> Diagnostic:
    return Diagnostic(note_path, e.line, e.col, "error", f"{kind}: {e.message}", e.code)


def _evaluate(kind: str, body: str, spec: BlockSpec, ctx: DataContext) -> engine.Table:
    """The engine's table, once per block text and build (a table repeated on several pages is
    evaluated once); format templates from this block's spec, as their errors name its lines."""
    shared = ctx.table(kind, body, lambda: engine.run(spec, ctx))
    assert isinstance(shared, engine.Table)
    return engine.Table(shared.frame, shared.digits, {v.value: t for v, t in spec.format})


def _table_html(kind: str, body: str, spec: BlockSpec, table: engine.Table, ctx: DataContext,
                href: Callable[[str], str], caption: str | None, download: str | None,
                shown: list[str]) -> tuple[str, set[str]]:
    """The <table> of a block, drawn once per block text and build, as its evaluation is: the
    same text on another page gives the same table where its links (href of each note a cell
    links to) are the same from there, which is checked."""
    key = (kind, body, download)
    hit = ctx.drawn.get(key)
    if hit is not None and all(href(f) == url for f, url in hit[2].items()):
        return hit[0], set(hit[1])
    cols = key_columns(spec, shown, ctx.links.columns())
    cells, lookup = ctx.cells.setdefault((kind, body), set()), ctx.links.lookup

    def link(column: str, value: str) -> str | None:
        fname = lookup(column, value)
        if fname is not None:
            cells.add((fname, value))
        return fname

    table_html, linked = render_table(table, link=link, href=href, caption=caption, download=download,
                                      more=frozenset(shown) - set(cols), give_way=give_way_order(cols))
    ctx.drawn[key] = (table_html, frozenset(linked), {f: href(f) for f in linked})
    return table_html, linked


def render_block(kind: str, body: str, ctx: DataContext, *, note_path: str, body_line: int,
                 href: Callable[[str], str], block_id: str) -> BlockResult:
    """kind 'table' or 'chart'; body = the YAML text inside the fence; note_path e.g. 'notes/a.b.md';
    body_line = 1-based line in the note of the body's first line; href(fname) -> URL of that note
    relative to the page; block_id unique within the page (element id and download file name)."""
    ctx.cells.setdefault((kind, body), set())     # a block that fails links no cell
    spec, diags = _spec(kind, body, note_path, body_line)
    if spec is None:
        return BlockResult(error_box(kind, diags), diags)
    bid = _safe_id(block_id)
    download = f"{bid}.csv" if spec.download else None
    try:
        table = _evaluate(kind, body, spec, ctx)
        caption = spec.caption if kind == "table" else None
        shown = list(table.frame.columns)
        table_html, linked = _table_html(kind, body, spec, table, ctx, href, caption, download, shown)
        if kind == "table":
            wide = " kb-wide" if len(shown) > WIDE_COLUMNS else ""
            out = f'<div class="kb-data kb-table{wide}" id="{bid}">\n{table_html}\n</div>'
        else:
            svg = render_svg(table.frame, spec, bid)
            cap = f"<figcaption>{esc(spec.caption)}</figcaption>" if spec.caption else ""
            out = "\n".join([f'<div class="kb-data kb-chart" id="{bid}">',
                             f'<figure class="kb-chart-figure">{svg}{cap}</figure>',
                             '<details class="kb-chart-data">', "<summary>Data</summary>",
                             table_html, "</details>", "</div>"])
    except engine.BlockError as e:
        diags = [_located(kind, note_path, e)]
        return BlockResult(error_box(kind, diags), diags)
    downloads = [(download, download_csv(table))] if download else []
    return BlockResult(out, [], linked, downloads)


def check_block(kind: str, body: str, ctx: DataContext, *, note_path: str, body_line: int) -> list[Diagnostic]:
    """What render_block would report, without drawing charts or keeping HTML."""
    spec, diags = _spec(kind, body, note_path, body_line)
    if spec is None:
        return diags
    try:
        table = _evaluate(kind, body, spec, ctx)
        render_table(table, link=ctx.links_for, href=lambda f: f, caption=None, download=None)  # template errors
        if kind == "chart":
            chart_lines(table.frame, spec)
    except engine.BlockError as e:
        return [_located(kind, note_path, e)]
    return []
