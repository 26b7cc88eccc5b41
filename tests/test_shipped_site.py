"""The shipped knowledge base, built strict the way `make build` does: clean, and its
rendered tables show the figures the seed documents publish."""
from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("shipped") / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(out)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "WARNING" not in proc.stderr, proc.stderr
    return out


def tables(page: Path) -> list[tuple[str, list[list[str]]]]:
    """(caption, rows of cell texts) for every generated table on a page."""
    out = []
    for m in re.finditer(r'<table[^>]*>(.*?)</table>', page.read_text(encoding="utf-8"), re.S):
        body = m.group(1)
        cap = re.search(r"<caption>(.*?)</caption>", body, re.S)
        rows = []
        for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
            cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, re.S)
            rows.append([html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
        out.append((html.unescape(re.sub(r"<[^>]+>", "", cap.group(1))) if cap else "", rows))
    return out


def row_with(page: Path, caption_part: str, *values: str) -> list[str]:
    for caption, rows in tables(page):
        if caption_part in caption:
            header = rows[0]
            for row in rows[1:]:
                if all(v in row for v in values):
                    return dict(zip(header, row))  # type: ignore[return-value]
    raise AssertionError(f"no row with {values} in a table captioned {caption_part!r} on {page}")


def test_bert_base_on_inf1_xlarge_costs_0_054_per_million(site: Path) -> None:
    page = site / "hardware" / "aws" / "inf1" / "index.html"
    row = row_with(page, "NeuronPerf", "inf1.xlarge")
    assert row["Model"].startswith("BERT base (bert-base-cased)")
    assert row["Cost per 1M inferences"] == "$0.054"


@pytest.mark.parametrize("caption, precision, batch, img_s", [
    ("V100", "FP32", "256", "508"),
    ("V100", "AMP", "256", "1576"),
    ("T4", "AMP", "64", "527"),
])
def test_se_resnext101_figures(site: Path, caption: str, precision: str, batch: str, img_s: str) -> None:
    page = site / "models" / "cv" / "se-resnext101-32x4d" / "index.html"
    row = row_with(page, f"SE-ResNeXt101-32x4d on one {caption}", precision, batch)
    assert row["Batch Size"] == batch and row["Precision"] == precision
    assert row["Throughput (img/s)"] == img_s


def test_the_questions_page_lists_every_question(site: Path) -> None:
    written = 0
    for note in (ROOT / "notes").glob("*.md"):
        text = re.sub(r"```.*?```", "", note.read_text(encoding="utf-8"), flags=re.S)
        written += len(re.findall(r"(?m)^#{1,6}\s+.*\?\s*$", text))
    faq = (site / "faq" / "index.html").read_text(encoding="utf-8")
    listed = re.findall(r'<li><a href="[^"]+#[^"]+">[^<]*\?</a></li>', faq)
    assert written >= 25 and len(listed) == written


def test_search_keeps_names_whole_and_splits_on_dashes(site: Path) -> None:
    """Instance types stay one token (a dot inside a name is part of it), hyphens split, and
    "resnet50" splits as "ResNet-50" does, so either spelling finds the other."""
    index = json.loads((site / "search" / "search_index.json").read_text())
    sep = re.compile(index["config"]["separator"])
    assert [t for t in sep.split("g4dn.xlarge and inf2.48xlarge.") if t] == ["g4dn.xlarge", "and", "inf2.48xlarge"]
    assert sep.split("se-resnext101") == ["se", "resnext", "101"]
    assert [t.lower() for t in sep.split("resnet50")] == [t.lower() for t in sep.split("ResNet-50")]
    assert any(d["location"].startswith("hardware/gpu/h100/") for d in index["docs"])


def test_every_note_page_names_a_source_or_links_to_data(site: Path) -> None:
    """Pages with figures (a generated table or chart) say where they come from."""
    missing = []
    for page in site.rglob("index.html"):
        text = page.read_text(encoding="utf-8")
        if 'class="kb-data' not in text:
            continue
        article = re.search(r"<article.*?</article>", text, re.S).group(0)
        if not re.search(r"(?i)source|README|documentation|MLPerf|price list|data/", article):
            missing.append(str(page.relative_to(site)))
    assert missing == []


def test_kb_check_is_clean_on_the_shipped_vault() -> None:
    proc = subprocess.run([str(Path(sys.executable).with_name("kb")), "check", "--strict"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_page_titles(site: Path) -> None:
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "<title>Inference Accelerator Knowledge Base</title>" in home
    h100 = (site / "hardware" / "gpu" / "h100" / "index.html").read_text(encoding="utf-8")
    assert "<title>NVIDIA H100 - Inference Accelerator Knowledge Base</title>" in h100
