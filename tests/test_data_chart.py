"""`chart` blocks: SVG drawn at build time, scheme-neutral, deterministic, with the data beside it."""
from __future__ import annotations

import re
import shutil
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import pytest

from kb.data import DataContext, check_block, render_block

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "data_engine"

SE_CHART = """\
    source: nvidia_convnets.csv
    where: model == "se-resnext101-32x4d" and gpu == "V100-16GB"
    columns: [precision, batch_size, throughput_avg_img_per_s]
    x: batch_size
    y: throughput_avg_img_per_s
    series: precision
    kind: {kind}
    log_x: {log_x}
    title: SE-ResNeXt101-32x4d on V100, throughput against batch size
    caption: Images per second; higher is better
"""


@pytest.fixture
def ctx(tmp_path: Path) -> DataContext:
    (tmp_path / "data").mkdir()
    for f in FIXTURES.glob("*.csv"):
        shutil.copy(f, tmp_path / "data" / f.name)
    return DataContext(tmp_path / "data", tmp_path, lambda f: False)


def chart(ctx, body: str, block_id: str = "chart-1", line: int = 7):
    return render_block("chart", textwrap.dedent(body), ctx, note_path="notes/c.md", body_line=line,
                        href=lambda f: f, block_id=block_id)


class Texts(HTMLParser):
    def __init__(self, html: str):
        super().__init__()
        self.svg_texts: list[str] = []
        self.tds: list[str] = []
        self._where: str | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self._where = tag if tag in ("text", "td") else None

    def handle_endtag(self, tag):
        self._where = None

    def handle_data(self, data):
        if self._where == "text":
            self.svg_texts.append(data)
        elif self._where == "td":
            self.tds.append(data)


@pytest.mark.parametrize("kind, log_x", [("line", "true"), ("bar", "false"), ("scatter", "true")])
def test_throughput_chart_per_precision(ctx, kind, log_x):
    res = chart(ctx, SE_CHART.format(kind=kind, log_x=log_x))
    assert res.diagnostics == [], [d.format() for d in res.diagnostics]
    html = res.html
    assert html.count("<svg") == 1 and "<?xml" not in html and "<!DOCTYPE" not in html
    assert not any(not line.strip() for line in html.split("\n"))       # safe as a raw HTML block
    texts = Texts(html)
    assert "FP32" in texts.svg_texts and "AMP (mixed precision)" in texts.svg_texts   # one series each
    assert "batch_size" in texts.svg_texts
    # Readable in both schemes: no fixed black/white ink, no page-wide <style>, transparent.
    assert "currentColor" in html
    assert not re.search(r"#(000000|ffffff|010203)\b", html, re.I)
    assert "<style" not in html and "<metadata" not in html
    # The same rows as a table beside the chart.
    assert '<details class="kb-chart-data">' in html and "<table>" in html
    assert "1576" in texts.tds and "508" in texts.tds
    assert "<figcaption>Images per second; higher is better</figcaption>" in html
    # Compact.
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert len(svg) < 40_000


def test_chart_is_deterministic_and_ids_are_scoped(ctx):
    body = SE_CHART.format(kind="line", log_x="true")
    a = chart(ctx, body, block_id="chart-1").html
    from kb.data import chart as chartmod
    chartmod._CACHE.clear()                                            # really draw it again
    assert chart(ctx, body, block_id="chart-1").html == a
    ids = re.findall(r'\sid="([^"]+)"', a)
    assert ids and all(i.startswith("chart-1") for i in ids)
    refs = re.findall(r'url\(#([^)]+)\)|href="#([^"]+)"', a)
    assert all((r[0] or r[1]) in ids for r in refs)


def test_chart_errors(ctx):
    res = chart(ctx, """\
        source: nvidia_convnets.csv
        x: batch_size
        y: [throughput_avg_img_per_s, gpu]
    """)
    [d] = res.diagnostics
    assert d.line == 9 and "'gpu' is not numeric" in d.message
    assert 'class="admonition failure' in res.html
    res = chart(ctx, "source: nvidia_convnets.csv\nx: batch_size\ny: throughput_avg_img_per_s\nseries: model\n"
                     "kind: pie\nlog_z: true\n")
    assert [d.line for d in res.diagnostics] == [11, 12]
    assert "'kind' must be one of line, bar, scatter" in res.diagnostics[0].message
    assert 'did you mean "log_x"' in res.diagnostics[1].message or 'did you mean "log_y"' in res.diagnostics[1].message
    res = chart(ctx, "source: nvidia_convnets.csv\ny: throughput_avg_img_per_s\n")
    assert "missing 'x'" in res.diagnostics[0].message
    res = chart(ctx, "source: nvidia_convnets.csv\nx: batch_size\ny: throughput_avg_img_per_s\nseries: source\n"
                     "columns: [batch_size, throughput_avg_img_per_s]\n")
    assert "'source' must be among the shown columns" in res.diagnostics[0].message


def test_too_many_series_is_refused_and_check_block_agrees(ctx):
    body = "source: nvidia_convnets.csv\nx: batch_size\ny: throughput_avg_img_per_s\nseries: latency_avg_ms\n"
    res = chart(ctx, body)
    assert "too many" in res.diagnostics[0].message
    assert check_block("chart", body, ctx, note_path="notes/c.md", body_line=7) == res.diagnostics


def test_chart_keys_are_unknown_in_a_table(ctx):
    res = render_block("table", "source: data.csv\nx: Model\n", ctx, note_path="notes/c.md", body_line=1,
                       href=lambda f: f, block_id="t")
    assert "unknown key 'x'" in res.diagnostics[0].message and "only in a 'chart' block" in res.diagnostics[0].message
