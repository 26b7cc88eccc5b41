"""Checks over the shipped data files (data/) and the notes that use them.

These tests guard the content, not the engine: that the CSVs keep the columns the
notes rely on, that numbers parse, that the figures quoted from the sources are
still the ones in the files, and that data/links.yml, data/schema.yml and
data/README.md stay in step with the CSVs and the notes.
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
NOTES = ROOT / "notes"

CSV_FILES = sorted(p.relative_to(DATA).as_posix() for p in DATA.rglob("*.csv"))


def load(rel: str) -> pd.DataFrame:
    return pd.read_csv(DATA / rel, dtype=str, keep_default_na=False)


def num(df: pd.DataFrame, col: str) -> pd.Series:
    return pd.to_numeric(df[col].replace("", None), errors="raise")


@pytest.fixture(scope="module")
def schema() -> dict:
    return yaml.safe_load((DATA / "schema.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def links() -> dict:
    return yaml.safe_load((DATA / "links.yml").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- files


def test_expected_files_present():
    for rel in [
        "neuronperf_nlp.csv",
        "data.csv",
        "instance_prices.csv",
        "neuron/encoder.csv",
        "neuron/decoder.csv",
        "neuron/vision.csv",
        "nvidia/convnets_inference.csv",
        "prices/ec2_on_demand_us_east_1.csv",
        "mlperf/inference_v4.1.csv",
        "schema.yml",
        "links.yml",
        "README.md",
    ]:
        assert (DATA / rel).is_file(), rel


def test_every_csv_has_a_schema_entry(schema):
    assert sorted(schema) == CSV_FILES


def test_every_csv_is_documented_in_readme():
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for rel in CSV_FILES:
        assert f"`{rel}`" in readme, f"data/README.md says nothing about {rel}"


@pytest.mark.parametrize("rel", CSV_FILES)
def test_csv_well_formed(rel):
    df = load(rel)
    assert len(df) > 0
    assert len(set(df.columns)) == len(df.columns)
    assert all(c == c.strip() and c for c in df.columns), list(df.columns)
    # no Sphinx markup left in any cell
    for col in df.columns:
        bad = df[col].str.contains(r":[a-z-]+:`|`_", regex=True)
        assert not bad.any(), (rel, col, df[col][bad].tolist()[:2])


@pytest.mark.parametrize("rel", CSV_FILES)
def test_schema_required_and_numeric(rel, schema):
    df = load(rel)
    entry = schema[rel]
    assert set(entry) <= {"required", "numeric"}
    for col in entry.get("required", []):
        assert col in df.columns, f"{rel}: missing required column {col!r}"
        assert (df[col] != "").any(), f"{rel}: required column {col!r} is empty"
    for col in entry.get("numeric", []):
        assert col in df.columns, f"{rel}: numeric column {col!r} not in file"
        num(df, col)  # raises if any non-empty cell is not a number


@pytest.mark.parametrize("rel", CSV_FILES)
def test_instance_types_lowercase(rel):
    df = load(rel)
    if "Inst. Type" not in df.columns:
        return
    vals = df["Inst. Type"]
    assert (vals == vals.str.lower()).all(), vals[vals != vals.str.lower()].tolist()
    assert vals.str.match(r"^[a-z0-9]+(-[a-z0-9]+)?\.[a-z0-9-]+$").all()   # p6-b200.48xlarge, c7i.metal-24xl


# ----------------------------------------------------------------------- the seed figures


def test_root_files_keep_source_columns():
    nlp = load("neuronperf_nlp.csv")
    assert list(nlp.columns[:19]) == [
        "Model", "Scripts", "Source", "Framework", "Inst. Type", "Num Cores", "Seq. Length",
        "Avg Throughput (/sec)", "Max Throughput", "Threads", "Latency P50 (ms)",
        "Latency P90 (ms)", "Latency P95 (ms)", "Latency P99 (ms)", "Application Type",
        "Neuron Version", "Run Mode", "Batch Size", "Model details",
    ]
    assert list(load("instance_prices.csv").columns) == ["Inst. Type", "On-Demand hourly rate"]
    assert "Application" in load("data.csv").columns
    assert (load("data.csv")["Tutorial"].str.len() > 5).all()


def test_bert_base_cased_cost_per_million_on_inf1_xlarge():
    nlp = load("neuronperf_nlp.csv").merge(load("instance_prices.csv"), on="Inst. Type")
    row = nlp[(nlp["Model"] == "BERT base (bert-base-cased)") & (nlp["Inst. Type"] == "inf1.xlarge")]
    assert len(row) == 1
    thr = float(row["Avg Throughput (/sec)"].iloc[0])
    price = float(row["On-Demand hourly rate"].iloc[0])
    assert f"${1e6 / thr * price / 3600:,.3f}" == "$0.054"


def test_data_csv_applications():
    df = load("data.csv")
    assert set(df["Application"]) == {"NLP", "CV"}
    assert set(df["Inst. Type"]) <= set(load("instance_prices.csv")["Inst. Type"])


@pytest.mark.parametrize(
    "gpu,precision,batch,img_s",
    [
        ("V100-16GB", "FP32", 256, 508),
        ("V100-16GB", "AMP", 256, 1576),
        ("T4", "AMP", 64, 527),
        ("T4", "FP32", 1, 40),
    ],
)
def test_se_resnext_seed_figures(gpu, precision, batch, img_s):
    df = load("nvidia/convnets_inference.csv")
    row = df[
        (df["Model"] == "se-resnext101-32x4d")
        & (df["GPU"] == gpu)
        & (df["Precision"] == precision)
        & (num(df, "Batch Size") == batch)
    ]
    assert len(row) == 1
    assert float(row["Throughput (img/s)"].iloc[0]) == img_s


def test_nvidia_convnets_shape():
    df = load("nvidia/convnets_inference.csv")
    assert set(df["GPU"]) == {"V100-16GB", "T4", "A100-80GB"}
    assert set(df["Precision"]) == {"FP32", "TF32", "AMP"}
    assert set(num(df, "Batch Size")) == {1, 2, 4, 8, 16, 32, 64, 128, 256}
    assert df["Source"].str.startswith("NVIDIA/DeepLearningExamples:PyTorch/Classification/ConvNets/").all()
    # every GPU in the benchmark has an instance to price it
    assert set(df["GPU"]) == set(load("nvidia/gpu_instances.csv")["GPU"])


def test_neuron_files_cover_inf2_and_trn1():
    for rel in ["neuron/encoder.csv", "neuron/decoder.csv", "neuron/encoder_decoder.csv"]:
        df = load(rel)
        fams = set(df["Inst. Type"].str.split(".").str[0])
        assert fams == {"inf2", "trn1"}, (rel, fams)
        assert set(df["Application Type"]) == {"Batch", "Real Time"}
    enc = load("neuron/encoder.csv")
    row = enc[(enc["Model"] == "bert-base-uncased") & (enc["Inst. Type"] == "inf2.xlarge")
              & (enc["Application Type"] == "Batch")]
    assert round(float(row["Throughput (inferences/s)"].iloc[0]), 1) == 2674.2


def test_benchmarked_instances_have_prices():
    prices = set(load("prices/ec2_on_demand_us_east_1.csv")["Inst. Type"])
    for rel in ["neuronperf_nlp.csv", "data.csv", "neuron/encoder.csv", "neuron/decoder.csv",
                "neuron/encoder_decoder.csv", "neuron/vision.csv", "nvidia/gpu_instances.csv"]:
        missing = set(load(rel)["Inst. Type"]) - prices
        assert not missing, (rel, missing)


def test_price_table():
    df = load("prices/ec2_on_demand_us_east_1.csv")
    assert df["Inst. Type"].is_unique
    assert (num(df, "On-Demand hourly rate") > 0).all()
    by = dict(zip(df["Inst. Type"], num(df, "On-Demand hourly rate")))
    assert by["inf1.xlarge"] == pytest.approx(0.228)
    assert by["g4dn.xlarge"] == pytest.approx(0.526)
    assert by["p3.2xlarge"] == pytest.approx(3.06)
    assert set(df["Accelerator Kind"]) == {"GPU", "Inferentia", "Trainium", "CPU"}
    cpu = df[df["Accelerator Kind"] == "CPU"]
    assert (num(cpu, "Accelerators per instance") == 0).all()
    assert (num(df[df["Accelerator Kind"] != "CPU"], "Accelerators per instance") >= 1).all()


def test_mlperf_subset():
    df = load("mlperf/inference_v4.1.csv")
    assert len(df) == 827
    assert set(df["Scenario"]) == {"Offline", "Server"}
    assert set(df["Units"]) <= {"Samples/s", "Queries/s", "Tokens/s"}
    assert (num(df, "Result") > 0).all()
    assert (df["Accelerator Family"] != "").all()
    acc = df[df["Accelerator"] != "None (CPU only)"]
    assert (num(acc, "Total accelerators") == num(acc, "Accelerators per node") * num(acc, "Nodes")).all()


# ---------------------------------------------------------------------- links.yml


def test_links_targets_are_notes(links):
    assert isinstance(links, dict) and links
    for column, mapping in links.items():
        assert isinstance(mapping, dict), column
        for pattern, fname in mapping.items():
            assert (NOTES / f"{fname}.md").is_file(), f"links.yml {column}/{pattern} -> {fname}: no note"


def test_links_columns_exist_and_patterns_match(links):
    frames = [load(rel) for rel in CSV_FILES]
    for column, mapping in links.items():
        values = set()
        for df in frames:
            if column in df.columns:
                values |= set(df[column])
        assert values, f"links.yml column {column!r} is in no CSV"
        for pattern in mapping:
            assert any(fnmatch.fnmatchcase(v, str(pattern)) for v in values), (
                f"links.yml {column}: {pattern!r} matches no value"
            )


def test_key_values_are_linked(links):
    def target(column, value):
        for pattern, fname in links[column].items():
            if fnmatch.fnmatchcase(value, str(pattern)):
                return fname
        return None

    assert target("Model", "se-resnext101-32x4d") == "models.cv.se-resnext101-32x4d"
    assert target("GPU", "V100-16GB") == "hardware.gpu.v100"
    assert target("Inst. Type", "inf1.xlarge") == "hardware.aws.inf1"
    assert target("Inst. Type", "inf2.48xlarge") == "hardware.aws.inf2"
    assert target("Inst. Type", "trn1.32xlarge") == "hardware.aws.trn1"
    for value in set(load("prices/ec2_on_demand_us_east_1.csv")["Inst. Type"]):
        assert target("Inst. Type", value), value
    for value in set(load("nvidia/convnets_inference.csv")["Model"]):
        assert target("Model", value), value


# ------------------------------------------------------------------ notes use the data

MY_NOTES = sorted(
    p for p in NOTES.glob("*.md")
    if p.stem == "root" or p.stem.split(".")[0] in {"hardware", "models", "data"}
)
FENCE = re.compile(r"^```(table|chart)\s*\n(.*?)^```", re.S | re.M)


def blocks(path: Path):
    return [(kind, yaml.safe_load(body)) for kind, body in FENCE.findall(path.read_text(encoding="utf-8"))]


def test_content_notes_exist():
    names = {p.stem for p in MY_NOTES}
    for fname in ["root", "hardware", "hardware.instances", "models.cv.se-resnext101-32x4d",
                  "data", "data.mlperf-v41", "data.prices", "data.neuron", "data.nvidia-convnets"]:
        assert fname in names


@pytest.mark.parametrize("path", MY_NOTES, ids=lambda p: p.stem)
def test_note_blocks_reference_shipped_files(path):
    for kind, spec in blocks(path):
        assert isinstance(spec, dict), (path.name, kind)
        sources = [spec["source"]] + [m["source"] for m in spec.get("merge", []) or []]
        for src in sources:
            assert src in CSV_FILES, f"{path.name}: {kind} block reads unknown file {src!r}"


def test_block_counts():
    kinds = [k for p in MY_NOTES for k, _ in blocks(p)]
    assert kinds.count("table") >= 8
    assert kinds.count("chart") >= 3
