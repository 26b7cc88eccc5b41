"""notes/data.llm-cost.md: the cost per 1M tokens the built page shows is the one recomputed
here straight from the MLPerf summary file and the Karpenter price file (../shared/sources),
and the data it is computed from (the EC2 price file, the accelerator-to-instance mapping)
agrees with those sources."""
from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from test_data_site import CONFIG  # the same site settings as the data-block pages

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT.parent / "shared" / "sources"
SUMMARY_51 = SOURCES / "mlcommons-inference_results_v5.1" / "summary_results.json"
PRICES = SOURCES / "karpenter-provider-aws" / "instance_prices_on_demand_us-east-1_accelerator_families.csv"
SPECS = SOURCES / "karpenter-provider-aws" / "instance_type_accelerators.csv"
NOTE = ROOT / "notes" / "data.llm-cost.md"
COST = "USD per 1M tokens (estimate)"


def need(*paths: Path) -> None:
    for path in paths:
        if not path.is_file():
            pytest.skip(f"../shared/sources is not here (missing {path.relative_to(ROOT.parent)})")


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# ------------------------------------------------------------------------ the data files

def test_price_file_matches_karpenter() -> None:
    need(PRICES, SPECS)
    ours = {r["Inst. Type"]: r for r in rows(ROOT / "data/prices/ec2_accelerator_instances_us_east_1.csv")}
    prices = {r["Inst. Type"]: float(r["On-Demand hourly rate"]) for r in rows(PRICES)}
    specs = {r["instance_type"]: r for r in rows(SPECS)}
    assert set(ours) == set(specs) and set(prices) <= set(ours)
    for it, row in ours.items():
        if it in prices:
            assert float(row["On-Demand hourly rate"]) == prices[it], it
        else:
            assert row["On-Demand hourly rate"] == "" and row["Price per accelerator-hour"] == "", it
        count = specs[it]["gpu_count"] or specs[it]["accelerator_count"]
        if count and int(count) > 0 and it in prices:
            assert row["Instance accelerators"] == count, it
            assert float(row["Price per accelerator-hour"]) == pytest.approx(prices[it] / int(count), abs=1e-6)


def test_mapping_has_same_accelerator_and_count() -> None:
    need(SPECS)
    specs = {r["instance_type"]: r for r in rows(SPECS)}
    for row in rows(ROOT / "data/mlperf/system_to_instance.csv"):
        spec = specs[row["Inst. Type"]]
        assert spec["gpu_count"] == row["Accelerators per node"], row
        # karpenter's short name (h100, l40s, rtx-pro-server-6000) is in the MLPerf name
        words = spec["gpu_name"].replace("-server", "").replace("-", " ").upper().split()
        name = row["Accelerator"].upper().replace("-", " ")
        assert all(w in name for w in words), (row["Accelerator"], spec["gpu_name"])
        assert "estimate" in row["Caveat"]


# ------------------------------------------------------------------------ the built page


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The note built by mkdocs --strict in a project holding the committed data/ and the note
    (with a stub for each note it links to)."""
    proj = tmp_path_factory.mktemp("cost")
    shutil.copytree(ROOT / "data", proj / "data")
    (proj / "data" / "links.yml").unlink()           # its targets are notes this project lacks
    (proj / "notes").mkdir()
    text = NOTE.read_text(encoding="utf-8")
    shutil.copy(NOTE, proj / "notes" / NOTE.name)
    for target in set(re.findall(r"\[\[([^\]|#]+)", text)) | {"root"}:
        (proj / "notes" / f"{target}.md").write_text(f"---\nid: {target}\ntitle: {target}\n---\n\nStub.\n")
    (proj / "mkdocs.yml").write_text(CONFIG)
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", "site"], cwd=proj,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return (proj / "site" / "data" / "llm-cost" / "index.html").read_text(encoding="utf-8")


def tables(page: str) -> list[tuple[str, list[dict[str, str]]]]:
    """(caption, rows as header -> cell text) of every table on the page."""
    out = []
    for t in re.findall(r"<table.*?</table>", page, re.S):
        cap = re.search(r"<caption[^>]*>(.*?)</caption>", t, re.S)
        trs = re.findall(r"<tr.*?</tr>", t, re.S)
        cells = [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
                  for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, re.S)] for tr in trs]
        if cells:
            out.append((html.unescape(re.sub(r"<[^>]+>", "", cap.group(1))) if cap else "",
                        [dict(zip(cells[0], c)) for c in cells[1:]]))
    return out


def expected_cost(accelerator: str, instance: str) -> tuple[float, str]:
    """Cost per 1M tokens of the best closed datacenter llama2-70b-99 Offline result on this
    accelerator (per accelerator), at the instance's price per accelerator-hour; and its ID."""
    results = [r for r in json.loads(SUMMARY_51.read_text(encoding="utf-8"))
               if r["Category"] == "closed" and "datacenter" in r["Suite"] and r["Model"] == "llama2-70b-99"
               and r["Scenario"] == "Offline" and r["Accelerator"] == accelerator]
    best = max(results, key=lambda r: r["Performance_Result"] / (r["Nodes"] * int(r["a#"])))
    per_acc = best["Performance_Result"] / (best["Nodes"] * int(best["a#"]))
    price = {r["Inst. Type"]: float(r["On-Demand hourly rate"]) for r in rows(PRICES)}[instance]
    count = int({r["instance_type"]: r for r in rows(SPECS)}[instance]["gpu_count"])
    return price / count / 3600 / per_acc * 1e6, best["ID"]


def test_page_shows_recomputed_cost_for_h100_h200_b200(page: str) -> None:
    need(SUMMARY_51, PRICES, SPECS)
    found = [rs for cap, rs in tables(page) if "v5.1" in cap and "llama2-70b-99" in cap]
    assert len(found) == 1
    offline = {r["Accelerator"]: r for r in found[0] if r["Scenario"] == "Offline"}
    for accelerator, instance in [("NVIDIA H100-SXM-80GB", "p5.48xlarge"),
                                  ("NVIDIA H200-SXM-141GB", "p5en.48xlarge"),
                                  ("NVIDIA B200-SXM-180GB", "p6-b200.48xlarge")]:
        cost, rid = expected_cost(accelerator, instance)
        row = offline[accelerator]
        assert row["Inst. Type"] == instance
        assert row["ID"] == rid
        assert row[COST] == f"${cost:,.3f}", (accelerator, row[COST], cost)
    # An accelerator with no EC2 instance keeps its throughput and shows no cost (left merge).
    amd = [r for a, r in offline.items() if a.startswith("AMD Instinct MI325X")]
    assert amd and amd[0][COST] == "—" and float(amd[0]["Result per accelerator (derived)"]) > 0


def test_every_table_names_round_and_source(page: str) -> None:
    found = tables(page)
    assert len(found) >= 12
    for cap, _ in found:
        if not cap:
            continue                                  # a chart's data table
        assert re.search(r"MLPerf Inference v\d\.\d", cap) and "summary_results.json" in cap, cap
        assert "estimate" in cap, cap
