"""`table` blocks end to end: real CSVs, real pandas, assertions on the HTML that comes out."""
from __future__ import annotations

import csv
import io
import os
import shutil
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from kb.data import CSV_READS, DataContext, check_block, render_block

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "data_engine"
NOTES = {"hardware.aws.inf1", "models.nlp.bert", "models.cv.se-resnext101-32x4d"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    for f in FIXTURES.glob("*.csv"):
        shutil.copy(f, data / f.name)
    return tmp_path


def context(project: Path) -> DataContext:
    return DataContext(project / "data", project, lambda fname: fname in NOTES, known_notes=NOTES)


def render(project: Path, body: str, *, kind: str = "table", line: int = 10, ctx: DataContext | None = None,
           block_id: str = "table-1"):
    return render_block(kind, textwrap.dedent(body), ctx or context(project), note_path="notes/x.md",
                        body_line=line, href=lambda f: "../" + f.replace(".", "/") + "/", block_id=block_id)


class Cells(HTMLParser):
    """Header texts and body rows (text, attributes) of the first table in a fragment."""

    def __init__(self, html: str):
        super().__init__()
        self.head: list[str] = []
        self.rows: list[list[tuple[str, dict]]] = []
        self._cell: list[str] | None = None
        self._attrs: dict = {}
        self._in_head = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "thead":
            self._in_head = True
        elif tag == "tr" and not self._in_head:
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell, self._attrs = [], dict(attrs)

    def handle_endtag(self, tag):
        if tag == "thead":
            self._in_head = False
        elif tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell)
            if self._in_head:
                self.head.append(text)
            else:
                self.rows[-1].append((text, self._attrs))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def column(self, name: str) -> list[str]:
        i = self.head.index(name)
        return [r[i][0] for r in self.rows]

    def records(self) -> list[dict[str, str]]:
        return [{h: c[0] for h, c in zip(self.head, r)} for r in self.rows]


def ok(result):
    assert result.diagnostics == [], [d.format() for d in result.diagnostics]
    assert "\n\n" not in result.html and not any(not line.strip() for line in result.html.split("\n"))
    return Cells(result.html)


# --- the seed page's three Neuron tables, declaratively ----------------------------

NLP_PERF = """\
    source: neuronperf_nlp.csv
    merge:
      - source: instance_prices.csv
        on: Inst. Type
    derive:
      Cost per 1M inferences: 1e6 / `Avg Throughput (/sec)` * `On-Demand hourly rate` / 3600
    columns: [Model, Framework, Inst. Type, Avg Throughput (/sec), Latency P50 (ms), Latency P99 (ms), Cost per 1M inferences, Application Type, Neuron Version, Run Mode, Batch Size, Model details]
    sort: [Model, Cost per 1M inferences]
    round: {Avg Throughput (/sec): 0, Latency P50 (ms): 0, Latency P99 (ms): 0}
    format: {Cost per 1M inferences: "${:,.3f}"}
    caption: NeuronPerf NLP results
"""

TUTORIALS = """\
    source: data.csv
    merge:
      - source: instance_prices.csv
        on: Inst. Type
    where: Application == "{app}"
    derive:
      Cost per 1M inferences: 1e6 / `Avg Throughput (/sec)` * `On-Demand hourly rate` / 3600
    columns: [Model, Framework, Inst. Type, Avg Throughput (/sec), Latency P50 (ms), Latency P99 (ms), Cost per 1M inferences, Application Type, Neuron Version, Run Mode, Batch Size, Model details]
    sort: [Model, Cost per 1M inferences]
    {head}
    round: {{Avg Throughput (/sec): 0, Latency P50 (ms): 0, Latency P99 (ms): 0}}
    format: {{Cost per 1M inferences: "${{:,.3f}}"}}
"""


def seed_reference(csv_name: str, app: str | None, head: int | None) -> pd.DataFrame:
    """The seed's df-table code, reproduced here to compute what the page must show."""
    df = pd.read_csv(FIXTURES / csv_name)
    prices = pd.read_csv(FIXTURES / "instance_prices.csv")
    df = pd.merge(df, prices, on="Inst. Type")
    if app:
        df = df[df["Application"] == app]
    df["Cost"] = 1.0e6 / df["Avg Throughput (/sec)"] * (df["On-Demand hourly rate"] / 3.6e3)
    df = df.sort_values(["Model", "Cost"])
    if head:
        df = df.groupby("Model").head(head)
    return df


def test_seed_nlp_table_bert_base_cased_costs_0054(project):
    t = ok(render(project, NLP_PERF))
    rows = t.records()
    bert = next(r for r in rows if r["Model"] == "BERT base (bert-base-cased)" and r["Inst. Type"] == "inf1.xlarge")
    assert bert["Cost per 1M inferences"] == "$0.054"
    assert bert["Avg Throughput (/sec)"] == "1179"           # round 0 shows an integer
    assert bert["Latency P99 (ms)"] == "42"
    ref = seed_reference("neuronperf_nlp.csv", None, None)
    assert t.column("Model") == ref["Model"].tolist()
    assert t.column("Cost per 1M inferences") == [f"${c:,.3f}" for c in ref["Cost"]]
    assert "<caption>NeuronPerf NLP results</caption>" in render(project, NLP_PERF).html


def test_seed_tutorial_nlp_table(project):
    t = ok(render(project, TUTORIALS.format(app="NLP", head="")))
    ref = seed_reference("data.csv", "NLP", None)
    assert len(t.rows) == len(ref) == 3
    assert set(t.column("Model")) == {"BERT base"}
    assert t.column("Cost per 1M inferences") == [f"${c:,.3f}" for c in ref["Cost"]]


def test_seed_cv_table_two_cheapest_per_model(project):
    t = ok(render(project, TUTORIALS.format(app="CV", head="head: {by: Model, n: 2}")))
    ref = seed_reference("data.csv", "CV", 2)
    assert t.column("Model") == ref["Model"].tolist()
    assert t.column("Inst. Type") == ref["Inst. Type"].tolist()
    assert t.column("Cost per 1M inferences") == [f"${c:,.3f}" for c in ref["Cost"]]
    one = ok(render(project, TUTORIALS.format(app="CV", head="head: {by: Model, n: 1}")))
    assert one.column("Model") == sorted(set(ref["Model"]))   # head really cuts per group


def test_cost_sorts_as_a_number_not_as_text(project):
    (project / "data" / "costs.csv").write_text("Item,Cost\nb,2\nc,10\na,9.5\nd,\n")
    body = """\
        source: costs.csv
        sort: [Cost]
        format: {Cost: "${:,.3f}"}
    """
    t = ok(render(project, body))
    assert t.column("Cost") == ["$2.000", "$9.500", "$10.000", "\u2014"]   # missing last
    assert [a.get("data-sort-value") for _, a in [r[1] for r in t.rows]] == ["2.0", "9.5", "10.0", None]
    desc = ok(render(project, body.replace("[Cost]", "[-Cost]")))
    assert desc.column("Cost") == ["$10.000", "$9.500", "$2.000", "\u2014"]


# --- NVIDIA ConvNets data ----------------------------------------------------------

SE = 'model == "se-resnext101-32x4d"'


def test_se_resnext_throughput_tables(project):
    body = f"""\
        source: nvidia_convnets.csv
        where: {SE} and batch_size in [64, 256]
        columns: [gpu, precision, batch_size, throughput_avg_img_per_s, latency_avg_ms]
        sort: [gpu, precision, batch_size]
    """
    rows = ok(render(project, body)).records()
    got = {(r["gpu"], r["precision"], r["batch_size"]): r["throughput_avg_img_per_s"] for r in rows}
    assert got[("V100-16GB", "FP32", "256")] == "508"
    assert got[("V100-16GB", "AMP (mixed precision)", "256")] == "1576"
    assert got[("T4", "AMP (mixed precision)", "64")] == "527"
    assert len(rows) == 8


def test_head_keeps_first_rows_of_each_group_after_sorting(project):
    body = f"""\
        source: nvidia_convnets.csv
        where: {SE}
        columns: [gpu, precision, batch_size, throughput_avg_img_per_s]
        sort: [gpu, -throughput_avg_img_per_s]
        head: {{by: gpu, n: 2}}
    """
    rows = ok(render(project, body)).records()
    assert [(r["gpu"], r["throughput_avg_img_per_s"]) for r in rows] == [
        ("T4", "527"), ("T4", "527"), ("V100-16GB", "1576"), ("V100-16GB", "1533")]


def test_limit_and_default_columns(project):
    t = ok(render(project, "source: instance_prices.csv\nlimit: 2\n"))
    assert t.head == ["Inst. Type", "On-Demand hourly rate"]
    assert t.column("Inst. Type") == ["inf1.xlarge", "inf1.2xlarge"]


# --- values: missing, non-finite, merge how=left, escaping, download ----------------

def test_non_finite_results_show_a_dash(project):
    (project / "data" / "z.csv").write_text("Name,A,B\nx,1,0\ny,,2\nz,4,2\n")
    t = ok(render(project, "source: z.csv\nderive:\n  R: A / B\n  S: (A - A) / (B - B)\n"))
    assert t.column("R") == ["\u2014", "\u2014", "2"]
    assert t.column("S") == ["\u2014"] * 3
    assert t.column("A") == ["1", "\u2014", "4"]


def test_merge_left_keeps_rows_without_a_price(project):
    (project / "data" / "perf.csv").write_text("Model,Inst. Type,T\nm1,inf1.xlarge,100\nm2,inf2.xlarge,200\n")
    body = """\
        source: perf.csv
        merge:
          - source: instance_prices.csv
            on: Inst. Type
            how: {how}
        derive:
          Cost: 1e6 / T * `On-Demand hourly rate` / 3600
        format: {{Cost: "${{:,.3f}}"}}
    """
    left = ok(render(project, body.format(how="left")))
    assert left.column("Model") == ["m1", "m2"]
    assert left.column("On-Demand hourly rate") == ["0.228", "\u2014"]
    assert left.column("Cost") == ["$0.633", "\u2014"]
    inner = ok(render(project, body.format(how="inner")))
    assert inner.column("Model") == ["m1"]


def test_every_cell_is_escaped(project):
    (project / "data" / "evil.csv").write_text(
        'Name,Note\n<script>alert(1)</script>,"<img src=x onerror=alert(2)>"\nok,"a & b"\n')
    res = render(project, "source: evil.csv\ncaption: <b>bold</b>\n")
    ok(res)
    assert "<script>" not in res.html and "<img" not in res.html and "<b>" not in res.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in res.html
    assert "a &amp; b" in res.html


def test_download_is_formula_safe(project):
    (project / "data" / "f.csv").write_text(
        'Name,Value,Note\n=HYPERLINK("http://x"),-3,+cmd\n@SUM(A1),2,-x\nplain,1,fine\n')
    res = render(project, "source: f.csv\ndownload: true\n", block_id="table-7")
    ok(res)
    assert 'href="table-7.csv"' in res.html
    [(name, data)] = res.downloads
    assert name == "table-7.csv"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert rows[0] == ["Name", "Value", "Note"]
    assert rows[1] == ["'=HYPERLINK(\"http://x\")", "-3", "'+cmd"]    # numbers stay numbers
    assert rows[2] == ["'@SUM(A1)", "2", "'-x"]
    assert rows[3] == ["plain", "1", "fine"]


# --- reading once, caching across builds --------------------------------------------

def test_csv_is_read_once_for_many_blocks_and_builds(project):
    path = str((project / "data" / "neuronperf_nlp.csv").resolve())
    ctx = context(project)
    bodies = [NLP_PERF, "source: neuronperf_nlp.csv\nlimit: 1\n", "source: neuronperf_nlp.csv\nsort: [-Model]\n",
              "source: neuronperf_nlp.csv\nwhere: '`Batch Size` > 6'\n", "source: ./neuronperf_nlp.csv\n"]
    for i, body in enumerate(bodies):
        ok(render(project, body, ctx=ctx, block_id=f"table-{i}"))
    assert CSV_READS[path] == 1
    ok(render(project, NLP_PERF, ctx=context(project)))           # next serve rebuild, same file
    assert CSV_READS[path] == 1
    p = project / "data" / "neuronperf_nlp.csv"
    p.write_text(p.read_text().replace("1179.2", "2000.0"))
    os.utime(p, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns + 1_000_000))
    ok(render(project, NLP_PERF, ctx=context(project)))
    assert CSV_READS[path] == 2


# --- errors: located, helpful, visible ----------------------------------------------

def errors(project, body, line=10, kind="table"):
    res = render(project, body, line=line, kind=kind)
    assert res.diagnostics, "expected an error"
    assert 'class="admonition failure' in res.html and "<table" not in res.html
    assert res.diagnostics == check_block(kind, textwrap.dedent(body), context(project),
                                          note_path="notes/x.md", body_line=line)
    return res


def test_unknown_key_with_did_you_mean_and_line(project):
    res = errors(project, "source: data.csv\ncolumns: [Model]\nsortt: [Model]\n", line=20)
    [d] = res.diagnostics
    assert (d.path, d.line, d.severity) == ("notes/x.md", 22, "error")
    assert "unknown key 'sortt'" in d.message and 'did you mean "sort"' in d.message
    assert "notes/x.md:22" in res.html


def test_unknown_column_lists_known_columns(project):
    res = errors(project, "source: instance_prices.csv\ncolumns:\n  - Inst. Type\n  - Hourly\n", line=5)
    [d] = res.diagnostics
    assert d.line == 8
    assert "unknown column 'Hourly'" in d.message
    assert "known columns: Inst. Type, On-Demand hourly rate" in d.message
    res = errors(project, "source: instance_prices.csv\nsort: [-Inst Type]\n")
    assert 'did you mean "Inst. Type"' in res.diagnostics[0].message


def test_unknown_column_in_expression_is_located(project):
    res = errors(project, "source: data.csv\nderive:\n  X: 1\n  Y: '`Avg Thruput` * 2'\n", line=3)
    [d] = res.diagnostics
    assert d.line == 6 and "Avg Thruput" in d.message and 'did you mean "Avg Throughput (/sec)"' in d.message


def test_unquoted_backtick_value_gets_a_hint(project):
    res = errors(project, "source: data.csv\nwhere: `Batch Size` > 1\n", line=3)
    [d] = res.diagnostics
    assert d.line == 4 and "must be quoted" in d.message


def test_bad_expression_in_block(project):
    res = errors(project, "source: data.csv\nwhere: Model.__class__ == 1\n", line=1)
    assert res.diagnostics[0].line == 2
    assert "attribute access" in res.diagnostics[0].message


def test_unknown_file_did_you_mean(project):
    res = errors(project, "source: dta.csv\n")
    assert 'did you mean "data.csv"' in res.diagnostics[0].message
    res = errors(project, "source: data.csv\nmerge: [{source: prices.csv, on: Inst. Type}]\n")
    assert "no file 'prices.csv'" in res.diagnostics[0].message and res.diagnostics[0].line == 11


@pytest.mark.parametrize("source", ["../secret.csv", "sub/../../secret.csv", "/etc/passwd.csv", "link.csv",
                                    "linkdir/secret.csv"])
def test_sources_outside_data_are_refused(project, source):
    secret = project / "secret.csv"
    secret.write_text("a\n1\n")
    (project / "data" / "link.csv").symlink_to(secret)
    (project / "data" / "linkdir").symlink_to(project)
    res = errors(project, f"source: {source}\n")
    assert res.diagnostics[0].code == "data-path-outside"
    assert res.diagnostics[0].line == 10


@pytest.mark.parametrize("template, message", [
    ("{0.real}", "must be empty"),
    ("{[0]}", "must be empty"),
    ("{x}", "must be empty"),
    ("{!r}", "conversions"),
    ("{:,.3f} {:,.3f}", "exactly one"),
    ("no field", "exactly one"),
    ("{:{w}}", "nested"),
    ("{:q}", "not a valid format spec"),
    ("{:999999999}", "above"),
])
def test_bad_format_templates(project, template, message):
    res = errors(project, f"source: instance_prices.csv\nformat:\n  On-Demand hourly rate: '{template}'\n", line=1)
    [d] = res.diagnostics
    assert d.line == 3 and message in d.message and d.code == "data-bad-format"


def test_template_not_fitting_a_text_column_is_an_error(project):
    res = errors(project, "source: instance_prices.csv\nformat: {Inst. Type: '{:.2f}'}\n")
    assert "does not fit" in res.diagnostics[0].message and res.diagnostics[0].line == 11


def test_many_mistakes_reported_together(project):
    res = errors(project, "source: data.csv\nlimit: many\nhead: {by: Model}\nkind: bar\ncaption: [1]\n")
    assert [d.line for d in res.diagnostics] == [11, 12, 13, 14]


def test_error_box_escapes_the_message(project):
    res = errors(project, "source: data.csv\n<script>: 1\n")
    assert "<script>" not in res.html and "&lt;script&gt;" in res.html


def test_yaml_errors_are_located(project):
    res = errors(project, "source: data.csv\ncolumns: [Model\n", line=4)
    assert res.diagnostics[0].line >= 5 and "invalid YAML" in res.diagnostics[0].message
    res = errors(project, "just text\n")
    assert "key: value" in res.diagnostics[0].message


def test_unparsable_csv_is_a_clear_error(project):
    (project / "data" / "broken.csv").write_text("a,b\n1,2\n3,4,5\n")
    res = errors(project, "source: broken.csv\n")
    assert "data/broken.csv (line 3)" in res.diagnostics[0].message
    diags = context(project).diagnostics()
    assert any(d.path == "data/broken.csv" and d.line == 3 for d in diags)
