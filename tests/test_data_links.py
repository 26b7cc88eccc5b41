"""data/links.yml cross-links and data/schema.yml validation, with their messages."""
from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest

from kb.data import DataContext, render_block

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "data_engine"
NOTES = {"hardware.aws.inf1", "hardware.aws.inf1.xlarge", "models.nlp.bert", "models.cv.se-resnext101-32x4d"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    for f in FIXTURES.glob("*.csv"):
        shutil.copy(f, tmp_path / "data" / f.name)
    return tmp_path


def write(project: Path, name: str, text: str) -> None:
    (project / "data" / name).write_text(textwrap.dedent(text))


def context(project: Path) -> DataContext:
    return DataContext(project / "data", project, lambda f: f in NOTES, known_notes=NOTES)


def render(ctx: DataContext, body: str):
    return render_block("table", textwrap.dedent(body), ctx, note_path="notes/p.md", body_line=3,
                        href=lambda f: "../" + f.replace(".", "/") + "/", block_id="t")


LINKS = """\
    Inst. Type:
      inf1.xlarge: hardware.aws.inf1.xlarge
      "inf1.*": hardware.aws.inf1
    Model:
      "BERT base*": models.nlp.bert
      se-resnext101-32x4d: models.cv.se-resnext101-32x4d
"""


def test_cells_link_to_notes_and_report_linked_notes(project):
    write(project, "links.yml", LINKS)
    ctx = context(project)
    assert ctx.diagnostics() == []
    assert ctx.links_for("Inst. Type", "inf1.xlarge") == "hardware.aws.inf1.xlarge"   # exact beats glob
    assert ctx.links_for("Inst. Type", "inf1.6xlarge") == "hardware.aws.inf1"
    assert ctx.links_for("Inst. Type", "inf2.xlarge") is None
    assert ctx.links_for("Framework", "inf1.xlarge") is None
    res = render(ctx, "source: data.csv\ncolumns: [Model, Inst. Type]\nwhere: Application == 'NLP'\n")
    assert res.diagnostics == []
    assert '<a href="../models/nlp/bert/">BERT base</a>' in res.html
    assert '<a href="../hardware/aws/inf1/">inf1.6xlarge</a>' in res.html
    assert res.linked_notes == {"models.nlp.bert", "hardware.aws.inf1", "hardware.aws.inf1.xlarge"}


def test_linked_notes_are_only_about_shown_rows(project):
    write(project, "links.yml", LINKS)
    ctx = context(project)
    res = render(ctx, "source: data.csv\ncolumns: [Model, Inst. Type]\nwhere: Application == 'CV'\n")
    assert "models.nlp.bert" not in res.linked_notes
    assert res.linked_notes == {"hardware.aws.inf1", "hardware.aws.inf1.xlarge"}
    res = render(ctx, "source: data.csv\ncolumns: [Model]\n")          # Inst. Type not shown: no link
    assert res.linked_notes == {"models.nlp.bert"}


def test_unknown_note_in_links_is_an_error_with_line(project):
    write(project, "links.yml", """\
        Inst. Type:
          "inf1.*": hardware.aws.inf
        Model:
          x: [not, text]
    """)
    diags = context(project).diagnostics()
    assert [(d.path, d.line, d.severity) for d in diags] == [("data/links.yml", 2, "error"), ("data/links.yml", 4, "error")]
    assert 'no note named "hardware.aws.inf"' in diags[0].message
    assert 'did you mean "hardware.aws.inf1"' in diags[0].message


def test_schema_validation_names_file_line_and_column(project):
    write(project, "bad.csv", """\
        Model,Batch Size,Throughput
        a,1,100

        b,two,200
        c,3,
        d,4,n/a
        e,5,fast
    """)
    write(project, "schema.yml", """\
        bad.csv:
          required: [Model, Latency]
          numeric: [Batch Size, Throughput]
        data.csv:
          numeric: [Batch Size]
          requird: [Model]
        nope.csv:
          required: [X]
    """)
    diags = [d for d in context(project).diagnostics()]
    text = "\n".join(d.format() for d in diags)
    assert "data/bad.csv:1:0: error: required column 'Latency' is missing" in text
    assert "data/bad.csv:4:0: error: column 'Batch Size' must be numeric, but holds 'two'" in text  # blank line 3
    assert "data/bad.csv:7:0: error: column 'Throughput' must be numeric, but holds 'fast'" in text
    assert "bad.csv:5" not in text and "bad.csv:6" not in text       # empty and n/a cells are just missing
    assert re.search(r"data/schema.yml:6:\d+: error: unknown key 'requird' \(did you mean \"required\"\?\)", text)
    assert re.search(r"data/schema.yml:7:\d+: error: no file 'nope.csv' in data/", text)
    # The table still renders: bad cells are missing values, the build reports the errors.
    res = render(context(project), "source: bad.csv\n")
    assert res.diagnostics == [] and "\u2014" in res.html


def test_real_schema_passes_on_fixture_copies(project):
    write(project, "schema.yml", """\
        instance_prices.csv:
          required: [Inst. Type, On-Demand hourly rate]
          numeric: [On-Demand hourly rate]
    """)
    assert context(project).diagnostics() == []
