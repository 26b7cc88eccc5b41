"""`kb data import neuron DIR`: the committed data/neuron CSVs are exactly what the importer
makes from the AWS Neuron SDK benchmark CSVs; bad input is refused with one message naming
file and line, exit 1 and data/ untouched; --dry-run reports and writes nothing.

Tests that read ../shared/sources skip without it; the others write a small checkout of
their own (every file the importer reads, one or two rows each).
"""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
from pathlib import Path

import pytest

from test_cli_support import run_kb
from test_data_import import copy, refused as refused_import, snapshot  # noqa: F401 (copy: a fixture)

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT.parent / "shared" / "sources" / "aws-neuron-sdk"
HEAD = SOURCES / "head_81ce03a"
BENCH = HEAD / "about-neuron" / "benchmarks"
TARGETS = ["neuron/encoder.csv", "neuron/decoder.csv", "neuron/encoder_decoder.csv", "neuron/vision.csv"]


def need_sources() -> None:
    if not BENCH.is_dir():
        pytest.skip("../shared/sources is not here (missing aws-neuron-sdk/head_81ce03a)")


def rows_of(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# ------------------------------------------------------------ the committed files (shared)

@pytest.mark.parametrize("where", ["sources", "head", "benchmarks"])
def test_import_reproduces_committed_csvs(copy: Path, where: str) -> None:
    need_sources()
    folder = {"sources": SOURCES, "head": HEAD, "benchmarks": BENCH}[where]
    dec = copy / "data" / "neuron" / "decoder.csv"
    lines = dec.read_text(encoding="utf-8").splitlines(keepends=True)
    dec.write_text(lines[0] + "".join(reversed(lines[3:])), encoding="utf-8")    # 2 rows dropped, order upset
    vis = copy / "data" / "neuron" / "vision.csv"
    vis.write_text(vis.read_text(encoding="utf-8").splitlines(keepends=True)[0], encoding="utf-8")   # header only
    r = run_kb("data", "import", "neuron", str(folder), cwd=copy)
    assert r.returncode == 0, r.stderr
    assert "data/neuron/decoder.csv: 2 rows added, 0 removed, 0 changed, 88 unchanged" in r.stdout
    assert "data/neuron/vision.csv: 36 rows added, 0 removed, 0 changed, 0 unchanged" in r.stdout
    assert "data/neuron/encoder.csv: unchanged (32 rows)" in r.stdout
    for rel in TARGETS:
        assert (copy / "data" / rel).read_bytes() == (ROOT / "data" / rel).read_bytes(), rel
    before = snapshot(copy / "data")
    again = run_kb("data", "import", "neuron", str(folder), cwd=copy)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count(": unchanged (") == 4
    assert snapshot(copy / "data") == before


def test_dry_run_reports_counts_and_writes_nothing(copy: Path) -> None:
    need_sources()
    path = copy / "data" / "neuron" / "encoder.csv"
    header, *rows = path.read_text(encoding="utf-8").splitlines(keepends=True)
    rows[0] = rows[0].replace(",3147.09984049,", ",1.5,")          # a changed measurement
    extra = rows[1].replace("bert-base-uncased,", "made-up-model,")  # a row the source does not have
    path.write_text(header + "".join(rows[:5] + rows[6:]) + extra, encoding="utf-8")   # one row gone
    before = snapshot(copy / "data")
    r = run_kb("data", "import", "neuron", str(SOURCES), "--dry-run", cwd=copy)
    assert r.returncode == 0, r.stderr
    assert "data/neuron/encoder.csv: 1 rows added, 1 removed, 1 changed, 30 unchanged" in r.stdout
    assert "dry run, nothing written (1 of 4 files would change)" in r.stderr
    assert snapshot(copy / "data") == before


def test_committed_rows_keep_source_values_and_provenance() -> None:
    """Each committed row is a source row: numbers as written, instance lower-cased, the
    Scripts markup a URL, the source file and commit named."""
    need_sources()
    for rel in TARGETS:
        for row in rows_of(ROOT / "data" / rel):
            repo, _, rest = row["Source file"].partition(":")
            path, _, commit = rest.partition("@")
            assert repo == "aws-neuron/aws-neuron-sdk" and commit == "81ce03a", row["Source file"]
            assert row["Inst. Type"] == row["Inst. Type"].lower() and row["Script"].startswith("https://github.com/")
            assert "`" not in row["Script"] and "<" not in row["Script"]
            src = [s for s in rows_of(HEAD / path)
                   if s["Model"] == row["Model"] and s["Inst. Type"].lower() == row["Inst. Type"]
                   and s["Batch Size"] == row["Batch Size"] and s["Application Type"] == row["Application Type"]]
            assert src, (rel, row["Model"])
            latency = "Latency P50 (ms)" if "Latency P50 (ms)" in row else (
                "TTFT Latency P50 (ms)" if "TTFT P50 (ms)" in row else "Latency per Token P50 (ms)")
            mine = row.get("Latency P50 (ms)") or row.get("TTFT P50 (ms)") or row["Latency per Token P50 (ms)"]
            assert mine in {s[latency] for s in src}


# ------------------------------------------------------------ a small checkout of our own

HEADERS = {
    "encoder": "Model,Scripts,Framework,Inst. Type,Task,Throughput (inference/second),Latency P50 (ms),"
               "Latency P99 (ms),Application Type,Neuron Version,Run Mode,Batch Size,Sequence Length,"
               "Model Data Type,Compilation Autocast Data Type,OS Type",
    "decoder": "Model,Scripts,Framework,Inst. Type,Task,Output Token Throughput (tokens/sec),TTFT Latency P50 (ms),"
               "TTFT Latency P99 (ms),TPOT Latency P50 (ms),TPOT Latency P99 (ms),Application Type,Neuron Version,"
               "Run Mode,TP Degree,Batch Size,Sequence Length,Input Length,Output Length,Model Data Type,"
               "Compilation Autocast Data Type,Weight Storage Data Type",
    "encoder_decoder": "Model,Scripts,Framework,Inst. Type,Task,Throughput (tokens/second),"
                       "Latency per Token P50 (ms),Latency per Token P99 (ms),Application Type,Neuron Version,"
                       "Run Mode,TP Degree,DP Degree,Batch Size,Sequence Length,Input Length,Output Length,"
                       "Model Data Type,Compilation Autocast Data Type",
    "vision": "Model,Image Size,Scripts,Framework,Inst. Type,Task,Throughput (inference/sec),Latency P50 (ms),"
              "Latency P99 (ms),Application Type,Neuron Version,Run Mode,Batch Size,Model Data Type,"
              "Compilation Autocast Data Type",
}


def source_row(kind: str, model: str, inst: str, app: str, script: str) -> dict[str, str]:
    row = {h: "" for h in HEADERS[kind].split(",")}
    row.update({"Model": model, "Scripts": script, "Framework": "PyTorch 2.9", "Inst. Type": inst, "Task": "T",
                "Application Type": app, "Neuron Version": "2.27.0", "Run Mode": "Data Parallel",
                "Batch Size": "1" if app == "Real Time" else "8", "Model Data Type": "FP32",
                "Compilation Autocast Data Type": "Matmult-BF16"})
    for h in row:
        if "Throughput" in h:
            row[h] = "100.5"
        elif "(ms)" in h:
            row[h] = "2.25"
        elif h in ("Sequence Length", "Input Length", "Output Length", "TP Degree", "DP Degree"):
            row[h] = "128"
    if "Image Size" in row:
        row["Image Size"] = "224x224"
    if "OS Type" in row:
        row["OS Type"] = "U22"
    return row


def write_csv(path: Path, rows: list[dict[str, str]], header: str) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header.split(","), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buf.getvalue(), encoding="utf-8")


def make_checkout(root: Path) -> Path:
    """A folder laid out as aws-neuron/aws-neuron-sdk, one row per source file."""
    bench = root / "about-neuron" / "benchmarks"
    files = [(p, k, k) for p in ("inf2", "trn1") for k in ("encoder", "decoder", "encoder_decoder")]
    files += [("inf2", "vision", f"vision_{s}") for s in ("cnn", "transformers", "sd", "dit")]
    scripts = {
        "encoder": ":compile-pt:`Compile <bert>` + :benchmark-pt:`Benchmark <bert>`",
        "decoder": ":llama-sample:`Sample <meta-llama-3-8b-sampling>`",
        "encoder_decoder": "`Tutorial <https://example.org/t5.ipynb>`_",
        "vision": ":ref:`Evaluate YOLO </src/examples/pytorch/yolo.ipynb>`",
    }
    for platform, kind, stem in files:
        inst = "Inf2.xlarge" if platform == "inf2" else "trn1.2xlarge"
        for mode, app in (("throughput", "Batch"), ("latency", "Real Time")):
            row = source_row(kind, f"{stem}-model", inst, app, scripts[kind])
            write_csv(bench / platform / f"{mode}_data_{stem}.csv", [row], HEADERS[kind])
    # The real-time row of a vision family listed in the throughput file as well: kept once.
    cnn = bench / "inf2" / "throughput_data_vision_cnn.csv"
    write_csv(cnn, [source_row("vision", "vision_cnn-model", "Inf2.xlarge", "Batch", scripts["vision"]),
                    source_row("vision", "vision_cnn-model", "Inf2.xlarge", "Real Time", scripts["vision"])],
              HEADERS["vision"])
    return bench


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout.strip()


def test_small_checkout_normalises_and_names_its_commit(copy: Path, tmp_path: Path) -> None:
    checkout = tmp_path / "aws-neuron-sdk"
    make_checkout(checkout)
    if shutil.which("git"):
        git("init", "-q", cwd=checkout)
        git("add", ".", cwd=checkout)
        git("commit", "-q", "-m", "benchmarks", cwd=checkout)
        commit = git("rev-parse", "HEAD", cwd=checkout)[:7]
    else:
        commit = ""
    r = run_kb("data", "import", "neuron", str(checkout), cwd=copy)
    assert r.returncode == 0, r.stderr
    enc = rows_of(copy / "data" / "neuron" / "encoder.csv")
    assert [(x["Model"], x["Inst. Type"], x["Application Type"]) for x in enc] == [
        ("encoder-model", "inf2.xlarge", "Batch"), ("encoder-model", "inf2.xlarge", "Real Time"),
        ("encoder-model", "trn1.2xlarge", "Batch"), ("encoder-model", "trn1.2xlarge", "Real Time")]
    base = "https://github.com/aws-neuron/aws-neuron-sdk/blob/master"
    assert enc[0]["Script"] == (f"{base}/src/benchmark/pytorch/bert_compile.py + "
                                f"{base}/src/benchmark/pytorch/bert_benchmark.py")
    assert enc[0]["Throughput (inferences/s)"] == "100.5" and enc[0]["Sequence Length (tokens)"] == "128"
    expected_source = "aws-neuron/aws-neuron-sdk:about-neuron/benchmarks/inf2/throughput_data_encoder.csv"
    assert enc[0]["Source file"] == expected_source + (f"@{commit}" if commit else "")
    dec = rows_of(copy / "data" / "neuron" / "decoder.csv")
    assert dec[0]["Script"] == ("https://github.com/aws-neuron/aws-neuron-samples/blob/master/torch-neuronx/"
                                "transformers-neuronx/inference/meta-llama-3-8b-sampling.ipynb")
    assert rows_of(copy / "data" / "neuron" / "encoder_decoder.csv")[0]["Script"] == "https://example.org/t5.ipynb"
    vis = rows_of(copy / "data" / "neuron" / "vision.csv")
    assert vis[0]["Script"] == f"{base}/src/examples/pytorch/yolo.ipynb"
    assert [x["Model Family"] for x in vis] == ["CNN", "CNN", "Vision transformer", "Vision transformer",
                                                "Stable Diffusion", "Stable Diffusion",
                                                "Diffusion transformer", "Diffusion transformer"]
    before = snapshot(copy / "data")
    assert run_kb("data", "import", "neuron", str(checkout / "about-neuron" / "benchmarks"), cwd=copy).returncode == 0
    assert snapshot(copy / "data") == before                      # same bytes from the benchmarks folder


def refused(proj: Path, folder: Path) -> str:
    return refused_import(proj, folder, "neuron")


@pytest.fixture()
def checkout(tmp_path: Path) -> Path:
    return make_checkout(tmp_path / "repo")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_non_number_is_refused(copy: Path, checkout: Path) -> None:
    edit(checkout / "trn1" / "latency_data_decoder.csv", ",Real Time,2.27.0,Data Parallel,128,1,",
         ",Real Time,2.27.0,Data Parallel,128,one,")
    msg = refused(copy, checkout.parents[1])
    assert "about-neuron/benchmarks/trn1/latency_data_decoder.csv: line 2 (decoder-model)" in msg
    assert "'Batch Size' must be a number, not 'one'" in msg


def test_truncated_row_is_refused(copy: Path, checkout: Path) -> None:
    path = checkout / "inf2" / "throughput_data_encoder.csv"
    path.write_text(path.read_text(encoding="utf-8")[:-40], encoding="utf-8")
    msg = refused(copy, checkout)
    assert "inf2/throughput_data_encoder.csv: line 2 (encoder-model)" in msg and "truncated" in msg


def test_markup_without_a_url_is_refused(copy: Path, checkout: Path) -> None:
    edit(checkout / "inf2" / "latency_data_vision_sd.csv", ":ref:`Evaluate YOLO </src/examples/pytorch/yolo.ipynb>`",
         ":ref:`hf-bert-pretraining-tutorial`")
    msg = refused(copy, checkout)
    assert "inf2/latency_data_vision_sd.csv: line 2 (vision_sd-model)" in msg and "no plain URL" in msg
    edit(checkout / "inf2" / "latency_data_vision_sd.csv", ":ref:`hf-bert-pretraining-tutorial`",
         ":nb-link:`Sample <x>`")
    assert "unknown Sphinx role :nb-link:" in refused(copy, checkout)


def test_missing_file_unknown_column_and_wrong_folder_are_refused(copy: Path, checkout: Path,
                                                                  tmp_path: Path) -> None:
    edit(checkout / "trn1" / "throughput_data_encoder_decoder.csv", "DP Degree", "Data Parallel Degree")
    msg = refused(copy, checkout)
    assert "trn1/throughput_data_encoder_decoder.csv: line 1: missing column DP Degree" in msg
    assert "unknown column Data Parallel Degree" in msg
    (checkout / "inf2" / "latency_data_vision_dit.csv").unlink()
    (checkout / "trn1" / "throughput_data_encoder_decoder.csv").unlink()
    assert "trn1/throughput_data_encoder_decoder.csv: missing" in refused(copy, checkout)
    assert "no Neuron benchmark CSVs here" in refused(copy, tmp_path)
    assert "no such folder" in refused(copy, tmp_path / "nowhere")


def test_rows_breaking_the_schema_are_refused_whole(copy: Path, checkout: Path) -> None:
    """The schema is checked on the new files beside their targets: one bad file, no file moved."""
    edit(copy / "data" / "schema.yml", "neuron/vision.csv:\n  required: [Model,",
         "neuron/vision.csv:\n  required: [Pixels, Model,")
    msg = refused(copy, checkout)
    assert "the new data/neuron/vision.csv breaks data/schema.yml" in msg and "nothing was written" in msg
    assert not list((copy / "data" / "neuron").glob(".*.tmp"))
