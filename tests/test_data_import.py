"""`kb data import mlperf FILE`: the committed MLPerf CSVs are exactly what the importer makes
from the public summary files; bad input is refused with one message, exit 1 and data/
untouched; --dry-run reports and writes nothing.

Tests marked `shared` read the raw summary files in ../shared/sources and skip without them;
the others write a small summary file of their own.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from test_cli_support import run_kb

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT.parent / "shared" / "sources"
SUMMARY = {rnd: SOURCES / f"mlcommons-inference_results_v{rnd}" / "summary_results.json"
           for rnd in ("4.1", "5.1", "6.0")}
PARTIAL = SOURCES / "mlcommons-inference_results_v5.0" / "datacenter_closed_partial.csv"


def need(path: Path) -> None:
    if not path.is_file():
        pytest.skip(f"../shared/sources is not here (missing {path.relative_to(ROOT.parent)})")


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under a folder, by relative path, with its bytes (temp files included)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def copy(tmp_path: Path) -> Path:
    """A project holding a copy of the committed data/ (no notes needed to import)."""
    proj = tmp_path / "proj"
    proj.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", proj / "mkdocs.yml")
    (proj / "notes").mkdir()
    shutil.copytree(ROOT / "data", proj / "data")
    return proj


def shuffle_rows(path: Path, drop: int = 1) -> None:
    """Reverse a CSV's rows and drop the last few, so an import has work to do."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    path.write_text(header + "".join(reversed(rows[drop:])), encoding="utf-8")


# ------------------------------------------------------------ the committed files (shared)

@pytest.mark.parametrize("rnd", ["5.1", "6.0", "4.1"])
def test_import_reproduces_committed_csvs(copy: Path, rnd: str) -> None:
    need(SUMMARY[rnd])
    targets = [f"mlperf/inference_v{rnd}.csv", f"mlperf/inference_v{rnd}_open.csv"]
    for rel in targets:
        shuffle_rows(copy / "data" / rel, drop=2)
    r = run_kb("data", "import", "mlperf", str(SUMMARY[rnd]), cwd=copy)
    assert r.returncode == 0, r.stderr
    assert f"data/mlperf/inference_v{rnd}.csv: 2 rows added, 0 removed, 0 changed" in r.stdout
    for rel in targets:
        assert (copy / "data" / rel).read_bytes() == (ROOT / "data" / rel).read_bytes(), rel
    # Importing the same file again changes no byte of data/.
    before = snapshot(copy / "data")
    again = run_kb("data", "import", "mlperf", str(SUMMARY[rnd]), cwd=copy)
    assert again.returncode == 0, again.stderr
    assert f"data/mlperf/inference_v{rnd}.csv: unchanged" in again.stdout
    assert snapshot(copy / "data") == before


def test_partial_round_reproduces_committed_csv(copy: Path) -> None:
    need(PARTIAL)
    rel = "mlperf/inference_v5.0_partial.csv"
    (copy / "data" / rel).write_text("ID\n", encoding="utf-8")
    r = run_kb("data", "import", "mlperf", str(PARTIAL), cwd=copy)
    assert r.returncode == 0, r.stderr
    assert (copy / "data" / rel).read_bytes() == (ROOT / "data" / rel).read_bytes()
    text = (ROOT / "data" / rel).read_text(encoding="utf-8")
    assert ",partial," in text and ",complete," not in text


def test_dry_run_reports_counts_and_writes_nothing(copy: Path) -> None:
    need(SUMMARY["6.0"])
    shuffle_rows(copy / "data" / "mlperf/inference_v6.0.csv", drop=3)
    (copy / "data" / "mlperf/inference_v6.0_open.csv").unlink()
    before = snapshot(copy / "data")
    r = run_kb("data", "import", "mlperf", str(SUMMARY["6.0"]), "--dry-run", cwd=copy)
    assert r.returncode == 0, r.stderr
    assert "data/mlperf/inference_v6.0.csv: 3 rows added, 0 removed, 0 changed, 448 unchanged" in r.stdout
    assert "data/mlperf/inference_v6.0_open.csv: new file, 14 rows" in r.stdout
    assert "dry run, nothing written" in r.stderr
    assert snapshot(copy / "data") == before


def test_per_accelerator_figure_and_provenance() -> None:
    need(SUMMARY["5.1"])
    import csv
    raw = {(r["ID"], r["Model"], r["Scenario"]): r for r in json.loads(SUMMARY["5.1"].read_text())}
    with open(ROOT / "data/mlperf/inference_v5.1.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows and {r["Division"] for r in rows} == {"closed"}
    for row in rows:
        src = raw[(row["ID"], row["Model"], row["Scenario"])]
        assert src["Category"] == "closed" and "datacenter" in src["Suite"]
        assert float(row["Result"]) == src["Performance_Result"]
        assert row["Round"] == "v5.1" and row["Source file"].endswith(":summary_results.json")
        assert src["Location"].startswith(row["Results path"])
        if src["a#"] != "" and src["Performance_Units"] in ("Tokens/s", "Samples/s", "Queries/s"):
            expect = src["Performance_Result"] / (src["Nodes"] * int(src["a#"]))
            assert float(row["Result per accelerator (derived)"]) == pytest.approx(expect, abs=1e-4)
        else:
            assert row["Result per accelerator (derived)"] == ""


# ------------------------------------------------------------ synthetic input (no ../shared)

def record(i: int, **over) -> dict:
    rec = {"ID": f"9.9-{i:04d}", "Submitter": "Acme", "Availability": "available", "Category": "closed",
           "Suite": "datacenter", "System": f"Box {i}", "Platform": "p", "UsedModel": "llama2-70b-99",
           "Model": "llama2-70b-99", "Scenario": "Offline", "Nodes": 1, "Processor": "CPU X",
           "Accelerator": "NVIDIA H100-SXM-80GB", "a#": 8, "Location": f"closed/Acme/results/b{i}/llama2-70b-99/Offline",
           "Software": "stack 1.0", "weight_data_types": "fp8", "version": "v9.9",
           "Performance_Result": 1000.0 * (i + 1), "Performance_Units": "Tokens/s"}
    rec.update(over)
    return rec


@pytest.fixture()
def small(tmp_path: Path) -> Path:
    """A project with only what importing needs: the families file and a schema."""
    proj = tmp_path / "small"
    (proj / "notes").mkdir(parents=True)
    (proj / "data" / "mlperf").mkdir(parents=True)
    shutil.copy(ROOT / "mkdocs.yml", proj / "mkdocs.yml")
    shutil.copy(ROOT / "data/mlperf/accelerator_families.csv", proj / "data/mlperf/accelerator_families.csv")
    (proj / "data" / "schema.yml").write_text(
        "mlperf/accelerator_families.csv:\n  required: [Pattern, Accelerator Family]\n", encoding="utf-8")
    return proj


def write_summary(path: Path, records: list) -> Path:
    path.write_text(json.dumps(records, indent=1), encoding="utf-8")
    return path


def test_synthetic_import_writes_schema_and_is_idempotent(small: Path, tmp_path: Path) -> None:
    src = write_summary(tmp_path / "summary_results.json",
                        [record(0), record(1, Category="open"), record(2, Suite="edge")])
    dry = run_kb("data", "import", "mlperf", str(src), "--dry-run", cwd=small)
    assert dry.returncode == 0, dry.stderr
    assert "data/mlperf/inference_v9.9.csv: new file, 1 rows" in dry.stdout
    assert "data/mlperf/inference_v9.9_open.csv: new file, 1 rows" in dry.stdout
    assert not (small / "data/mlperf/inference_v9.9.csv").exists()
    r = run_kb("data", "import", "mlperf", str(src), cwd=small)
    assert r.returncode == 0, r.stderr
    text = (small / "data/mlperf/inference_v9.9.csv").read_text(encoding="utf-8")
    assert "NVIDIA H100,NVIDIA H100-SXM-80GB,8,1,8," in text          # family, count, total
    assert ",1000.0,Tokens/s," in text and ",closed,datacenter,125.0,v9.9,complete," in text
    assert "Box 2" not in text                                         # edge suite left out
    assert "mlperf/inference_v9.9.csv:" in (small / "data/schema.yml").read_text(encoding="utf-8")
    before = snapshot(small / "data")
    assert run_kb("data", "import", "mlperf", str(src), cwd=small).returncode == 0
    assert snapshot(small / "data") == before


def refused(proj: Path, src: Path, kind: str = "mlperf") -> str:
    """The one line `kb data import KIND SRC` prints when it refuses; data/ keeps every byte."""
    before = snapshot(proj / "data")
    r = run_kb("data", "import", kind, str(src), cwd=proj)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert snapshot(proj / "data") == before                          # no byte changed, no temp file left
    return lines[0]


@pytest.fixture()
def seeded(small: Path, tmp_path: Path) -> Path:
    """The small project after one good import, so refusals must leave real files alone."""
    src = write_summary(tmp_path / "good.json", [record(0), record(1)])
    assert run_kb("data", "import", "mlperf", str(src), cwd=small).returncode == 0
    return small


def test_truncated_file_is_refused(seeded: Path, tmp_path: Path) -> None:
    text = json.dumps([record(0), record(1), record(2)])
    src = tmp_path / "truncated.json"
    src.write_text(text[: len(text) // 2], encoding="utf-8")
    msg = refused(seeded, src)
    assert "truncated.json" in msg and "not valid JSON" in msg and "truncated" in msg


def test_non_json_file_is_refused(seeded: Path, tmp_path: Path) -> None:
    src = tmp_path / "results.json"
    src.write_text("ID,Model\n9.9-0001,llama2-70b-99\n", encoding="utf-8")
    msg = refused(seeded, src)
    assert "results.json" in msg and "not valid JSON at line 1" in msg


def test_wrong_schema_record_is_refused(seeded: Path, tmp_path: Path) -> None:
    src = write_summary(tmp_path / "bad.json", [record(0), record(1), record(2, Performance_Result="fast")])
    msg = refused(seeded, src)
    assert "bad.json: record 2 (ID 9.9-0002)" in msg and "'Performance_Result' must be a number" in msg


def test_record_missing_a_field_is_refused(seeded: Path, tmp_path: Path) -> None:
    rec = record(1)
    del rec["Accelerator"]
    msg = refused(seeded, write_summary(tmp_path / "old.json", [record(0), rec]))
    assert "old.json: record 1 (ID 9.9-0001): missing field 'Accelerator'" in msg


def test_not_a_list_and_bad_count_are_refused(seeded: Path, tmp_path: Path) -> None:
    msg = refused(seeded, write_summary(tmp_path / "obj.json", {"results": []}))
    assert "obj.json" in msg and "expected a JSON list" in msg
    msg = refused(seeded, write_summary(tmp_path / "cnt.json", [record(0, **{"a#": "eight"})]))
    assert "cnt.json: record 0 (ID 9.9-0000): 'a#' must be a whole number" in msg


def test_partial_csv_without_columns_is_refused(seeded: Path, tmp_path: Path) -> None:
    src = tmp_path / "partial.csv"
    src.write_text("round,model\nv5.0,resnet\n", encoding="utf-8")
    msg = refused(seeded, src)
    assert "partial.csv: line 1: missing columns" in msg


def test_missing_file_is_refused(seeded: Path, tmp_path: Path) -> None:
    msg = refused(seeded, tmp_path / "nowhere.json")
    assert "nowhere.json: no such file" in msg
