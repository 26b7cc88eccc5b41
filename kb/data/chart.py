"""Shown rows -> an inline SVG chart drawn at build time with matplotlib (no JavaScript).

Light and dark schemes: the figure is transparent, and every text, axis and grid colour
is drawn in a sentinel colour that is rewritten to `currentColor`, so the chart takes
the page's text colour. Data colours come from a palette of mid-luminance hues that
read on white and on Material's slate background. Output is deterministic (fixed
svg.hashsalt, no date) and compacted (no metadata, short coordinates, one line).
"""
from __future__ import annotations

import hashlib
import html
import io
import re
import textwrap
import threading
from collections import OrderedDict
from typing import Any

import pandas as pd
from pandas.api import types as ptypes

from .engine import BlockError
from .spec import BlockSpec

PALETTE = ("#2f8fd8", "#e07b1a", "#1fa27a", "#d9487a", "#8f6fd6", "#b39200", "#16a0b0", "#9a7b5a",
           "#6d8f1f", "#c05dbe", "#4f7cc4", "#d15a3c")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "p", "h", "*")
MAX_SERIES = len(PALETTE)
_FG = "#010203"     # sentinel: text, axes, ticks -> currentColor
_GRID = "#020304"   # sentinel: grid -> currentColor, faint
_CACHE: "OrderedDict[str, str]" = OrderedDict()
_CACHE_SIZE = 512
_LOCK = threading.Lock()

_RC = {
    "svg.hashsalt": "kb-chart",
    "svg.fonttype": "none",          # real <text>: small, selectable, inherits the page font
    "font.size": 11,
    "xtick.labelsize": 10.5,
    "ytick.labelsize": 10.5,
    "text.color": _FG,
    "axes.labelcolor": _FG,
    "axes.edgecolor": _FG,
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "axes.formatter.useoffset": False,
    "grid.color": _GRID,
    "grid.alpha": 0.25,
    "grid.linewidth": 0.6,
    "xtick.color": _FG,
    "ytick.color": _FG,
    "legend.frameon": False,
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "savefig.facecolor": "none",
    "savefig.edgecolor": "none",
}


def _numeric(s: pd.Series) -> bool:
    return ptypes.is_numeric_dtype(s.dtype) and not ptypes.is_bool_dtype(s.dtype)


def _label(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return "\u2014" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


def chart_lines(df: pd.DataFrame, spec: BlockSpec) -> list[tuple[str, pd.DataFrame, str]]:
    """(legend label, rows, y column) per line or bar group; raises BlockError for data it cannot draw."""
    assert spec.x is not None
    x, ys = spec.x.value, [v.value for v in spec.y]
    for v in spec.y:
        if not _numeric(df[v.value]):
            raise BlockError(f"y column '{v.value}' is not numeric", v.line, v.col, "data-bad-value")
    if spec.chart_kind == "scatter" or (spec.log_x and spec.chart_kind != "bar"):
        if not _numeric(df[x]):
            raise BlockError(f"x column '{x}' must be numeric for a {spec.chart_kind} chart"
                             + (" with log_x" if spec.log_x else ""), spec.x.line, spec.x.col, "data-bad-value")
    groups: list[tuple[str, pd.DataFrame]] = [("", df)]
    if spec.series:
        col = spec.series.value
        keys = pd.unique(df[col].to_numpy(dtype=object))
        groups = [(_label(k), df[df[col].isna()] if _label(k) == "—" else df[df[col] == k]) for k in keys]
    lines = [(f"{name} · {y}" if name and len(ys) > 1 else (name or y), g, y) for name, g in groups for y in ys]
    if len(lines) > MAX_SERIES:
        where = spec.series or spec.y[0]
        raise BlockError(f"{len(lines)} lines or bar groups are too many to read (at most {MAX_SERIES}); "
                         "narrow the rows with 'where'", where.line, where.col, "data-bad-value")
    return lines


def render_svg(df: pd.DataFrame, spec: BlockSpec, block_id: str) -> str:
    """The chart as one line of inline SVG; raises BlockError for data it cannot draw."""
    assert spec.x is not None
    x, ys = spec.x.value, [v.value for v in spec.y]
    lines = chart_lines(df, spec)
    key = hashlib.sha256(repr((block_id, spec.chart_kind, x, ys, spec.log_x, spec.log_y, spec.title,
                               [(n, y, g[[x, y]].to_numpy().tolist()) for n, g, y in lines])).encode()).hexdigest()
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    svg = _compact(_draw(lines, x, ys, spec), block_id, spec.title or ", ".join(ys) + f" by {x}")
    with _LOCK:
        _CACHE[key] = svg
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return svg


def _draw(lines: list[tuple[str, pd.DataFrame, str]], x: str, ys: list[str], spec: BlockSpec) -> str:
    import matplotlib  # lazily: only builds with charts pay for the import
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, NullFormatter

    with matplotlib.rc_context(_RC):
        horizontal = spec.chart_kind == "bar" and not _numeric(pd.concat([g[x] for _, g, _ in lines]))
        fig = Figure(figsize=(WIDTH_IN, _bar_height(lines, x) if horizontal else HEIGHT_IN))
        FigureCanvasAgg(fig)   # a canvas that can measure text, for _untangle_x_labels
        ax = fig.add_subplot()
        if horizontal:
            _hbars(ax, lines, x, ys, spec)
        elif spec.chart_kind == "bar":
            _bars(ax, lines, x)
        else:
            for i, (name, g, y) in enumerate(lines):
                g = g[[x, y]].dropna(subset=[y])
                if spec.chart_kind == "line" and _numeric(g[x]):
                    g = g.sort_values(x, kind="stable")
                xs = g[x].to_numpy() if _numeric(g[x]) else g[x].astype(str).to_numpy()
                style = dict(color=PALETTE[i % len(PALETTE)], marker=MARKERS[i % len(MARKERS)], label=name)
                if spec.chart_kind == "scatter":
                    ax.scatter(xs, g[y].to_numpy(), s=22, **style)
                else:
                    ax.plot(xs, g[y].to_numpy(), linewidth=1.8, markersize=4.5, **style)
        plain = FuncFormatter(lambda v, _pos: f"{v:,.6g}")
        if spec.log_x and spec.chart_kind != "bar":
            ax.set_xscale("log", base=2 if _powers_of_two(lines, x) else 10)
            ax.xaxis.set_major_formatter(plain)
            ax.xaxis.set_minor_formatter(NullFormatter())
        if spec.log_y:   # the value axis: across, for horizontal bars
            (ax.set_xscale if horizontal else ax.set_yscale)("log")
            (ax.xaxis if horizontal else ax.yaxis).set_minor_formatter(NullFormatter())
        value_axis, value_label = (ax.xaxis, ax.set_xlabel) if horizontal else (ax.yaxis, ax.set_ylabel)
        value_axis.set_major_formatter(plain)
        if not horizontal:
            ax.set_xlabel(_wrap(x, 55))
        if len(ys) == 1:
            value_label(_wrap(ys[0], 55 if horizontal else 40))
        if spec.title:   # wrapped: a long title would run past the figure's edges
            ax.set_title(_wrap(spec.title, 46))
        fig.tight_layout()
        if not horizontal:
            _untangle_x_labels(fig, ax)
        if len(lines) > 1:   # under the plot and its labels, where it can cover neither
            bottom = ax.get_tightbbox(fig.canvas.get_renderer()).transformed(fig.transFigure.inverted()).y0
            fig.legend(loc="upper center", bbox_to_anchor=(0.5, bottom - 0.01), bbox_transform=fig.transFigure,
                       ncols=1 if max(len(n) for n, _, _ in lines) > 26 else 2, fontsize=10.5, handlelength=1.5, columnspacing=1.2)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None}, transparent=True,
                    bbox_inches="tight", pad_inches=0.05)
    return buf.getvalue()


# 5.2 inches (374 pt): on a 390-px phone, where the chart spans the screen, the smallest
# text (10.5 pt) still draws at about 10 px.
WIDTH_IN = 5.2
HEIGHT_IN = 3.4
LABEL_CHARS = 22     # category labels wrap to lines this long (at spaces, or after a '/')


def _wrap(text: str, width: int) -> str:
    """Wrapped at spaces and after '/', never inside a name (no break at hyphens)."""
    out: list[str] = []
    for line in textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [text]:
        while len(line) > width and "/" in line[:-1]:
            cut = line.index("/", 0, len(line) - 1) + 1
            out.append(line[:cut])
            line = line[cut:]
        out.append(line)
    return "\n".join(out)


def _bar_height(lines: list[tuple[str, pd.DataFrame, str]], x: str) -> float:
    """Enough height for every category's (wrapped) label and its bars."""
    cats = pd.unique(pd.concat([g[x] for _, g, _ in lines]).dropna())
    rows = sum(max(1, _wrap(_label(c), LABEL_CHARS).count("\n") + 1, len(lines) * 0.7) for c in cats)
    return min(1.3 + 0.24 * rows, 14.0)


def _hbars(ax: Any, lines: list[tuple[str, pd.DataFrame, str]], x: str, ys: list[str], spec: BlockSpec) -> None:
    """Categories down the side, bars across: every label reads horizontally, whatever its
    length or the number of categories. The first category is at the top, as in the table."""
    cats = list(pd.unique(pd.concat([g[x] for _, g, _ in lines]).dropna()))
    pos = {c: i for i, c in enumerate(cats)}
    height = 0.8 / max(len(lines), 1)
    for i, (name, g, y) in enumerate(lines):
        g = g.dropna(subset=[x]).drop_duplicates(subset=[x])
        offs = [pos[c] - 0.4 + height * (i + 0.5) for c in g[x]]
        bars = ax.barh(offs, g[y].fillna(0).to_numpy(), height=height * 0.92, color=PALETTE[i % len(PALETTE)],
                       label=name)
        if len(lines) == 1:   # one series: its values beside the bars save a trip to the axis
            ax.bar_label(bars, labels=[f"{v:,.4g}" if pd.notna(v) else "\u2014" for v in g[y]], padding=3,
                         fontsize=10.5)
    ax.set_yticks(range(len(cats)), [_wrap(_label(c), LABEL_CHARS) for c in cats])
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    if len(lines) == 1:
        ax.margins(x=0.14)    # room for the value labels at the bars' ends


def _untangle_x_labels(fig: Any, ax: Any) -> None:
    """Tilt, then thin, the x tick labels until no two overlap (measured, not guessed)."""
    import math

    def overlapping(angle: float) -> bool:
        renderer = fig.canvas.get_renderer()
        shown = [t for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
        if not angle:
            boxes = [t.get_window_extent(renderer) for t in shown]
            return any(a.x1 > b.x0 - 2 for a, b in zip(boxes, boxes[1:]))
        # Tilted labels are parallel: they clear each other when the gap between their
        # anchors, across the slant, exceeds a line of text.
        xs = [ax.transData.transform((t.get_position()[0], 0))[0] for t in shown]
        line = max((t.get_fontsize() for t in shown), default=10) * fig.dpi / 72 * 1.3
        return any((b - a) * math.sin(math.radians(angle)) < line for a, b in zip(xs, xs[1:]))
    if not overlapping(0):
        return
    angle = 35.0
    for t in ax.get_xticklabels():
        t.set_text(t.get_text().replace("\n", " "))
        t.set_rotation(angle)
        t.set_horizontalalignment("right")
        t.set_rotation_mode("anchor")
    fig.tight_layout()
    step = 2
    while overlapping(angle) and step < 50:
        for i, t in enumerate(ax.get_xticklabels()):
            t.set_visible(i % step == 0)
        step += 1
    fig.tight_layout()


def _powers_of_two(lines: list[tuple[str, pd.DataFrame, str]], x: str) -> bool:
    vals = pd.concat([g[x] for _, g, _ in lines]).dropna()
    return bool(len(vals)) and bool(((vals > 0) & (vals == vals.round())).all()) and \
        all((int(v) & (int(v) - 1)) == 0 for v in pd.unique(vals))


def _bars(ax: Any, lines: list[tuple[str, pd.DataFrame, str]], x: str) -> None:
    allx = pd.concat([g[x] for _, g, _ in lines])
    cats = list(pd.unique(allx.dropna()))
    if _numeric(allx):
        cats.sort()
    pos = {c: i for i, c in enumerate(cats)}
    width = 0.8 / max(len(lines), 1)
    for i, (name, g, y) in enumerate(lines):
        g = g.dropna(subset=[x]).drop_duplicates(subset=[x])
        offs = [pos[c] - 0.4 + width * (i + 0.5) for c in g[x]]
        ax.bar(offs, g[y].fillna(0).to_numpy(), width=width * 0.92, color=PALETTE[i % len(PALETTE)], label=name)
    ax.set_xticks(range(len(cats)), [_label(c) for c in cats])
    ax.grid(axis="x", visible=False)


_NUM = re.compile(r"-?\d+\.\d+")
_COORD_ATTR = re.compile(r'(\s(?:d|x|y|width|height|transform|points|viewBox)=")([^"]*)(")')
_FONT_FAMILY = re.compile(r"font-family:[^;\"]*;?\s*")


def _short(m: re.Match) -> str:
    body = _NUM.sub(lambda n: f"{float(n.group()):.2f}".rstrip("0").rstrip("."), m.group(2))
    return m.group(1) + re.sub(r"\s+", " ", body).strip() + m.group(3)


_G_TAG = re.compile(r"<g(\s[^>]*)?>|</g>")


def _unwrap_groups(svg: str) -> str:
    """Drop attribute-less <g> wrappers (matplotlib nests many) and groups left empty."""
    out, stack, last = [], [], 0
    for m in _G_TAG.finditer(svg):
        out.append(svg[last:m.start()])
        last = m.end()
        if m.group(0) == "</g>":
            if stack.pop():
                out.append("</g>")
        else:
            keep = bool(m.group(1) and m.group(1).strip())
            stack.append(keep)
            if keep:
                out.append(m.group(0))
    out.append(svg[last:])
    return "".join(out)


def _compact(svg: str, block_id: str, label: str) -> str:
    """Inline-ready SVG: no prolog, metadata or global <style>; currentColor; unique ids; one line."""
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r"<style[^>]*>.*?</style>", "", svg, flags=re.S)   # its `*{}` rule would hit the whole page
    svg = re.sub(r"<defs>\s*</defs>", "", svg)
    svg = _FONT_FAMILY.sub("", svg)
    svg = svg.replace(_FG, "currentColor").replace(_GRID, "currentColor")
    svg = _COORD_ATTR.sub(_short, svg)
    referenced = set(re.findall(r'url\(#([^)]+)\)', svg)) | set(re.findall(r'href="#([^"]+)"', svg))
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", block_id)

    def fix_id(m: re.Match) -> str:
        return f' id="{prefix}-{m.group(1)}"' if m.group(1) in referenced else ""
    svg = re.sub(r'\sid="([^"]+)"', fix_id, svg)
    svg = re.sub(r'url\(#([^)]+)\)', lambda m: f"url(#{prefix}-{m.group(1)})", svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r'\stransform="rotate\(-?0 [^"]*\)"', "", svg)
    svg = re.sub(r'<path d="[^"]*" style="fill: none"/>', "", svg)   # invisible background patches
    svg = _unwrap_groups(svg)
    svg = re.sub(r"\s*\n\s*", " ", svg)
    svg = re.sub(r">\s+<", "><", svg).strip()
    svg = re.sub(r'^<svg([^>]*?)\swidth="[^"]*"\sheight="[^"]*"',
                 lambda m: f'<svg{m.group(1)} class="kb-chart-svg" role="img" aria-label="{html.escape(label, quote=True)}"',
                 svg, count=1)
    return svg
