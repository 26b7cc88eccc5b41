"""MLPerf Inference results -> data/mlperf/inference_v<round>[_open|_partial].csv.

Input: a round's `summary_results.json` (a list of one object per system x benchmark x
scenario; v4.1 on), or the hand-assembled `datacenter_closed_partial.csv` of a round whose
summary is not available (v5.0). Rows of the datacenter suite are kept; the closed division
goes to `inference_v<R>.csv`, the open one to `inference_v<R>_open.csv`, a partial round to
`inference_v<R>_partial.csv`. The first 17 columns are the layout the v4.1 file has always
had, so notes written against it keep working; provenance and derived columns follow.

Nothing from the input is evaluated: JSON is parsed with the json module, CSV with csv.
"""
from __future__ import annotations

import csv
import fnmatch
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..schema import Rules
from .csvfiles import ImportRefused, Table

COLUMNS = [
    "ID", "Submitter", "Availability", "System", "Accelerator Family", "Accelerator",
    "Accelerators per node", "Nodes", "Total accelerators", "Processor", "Model", "Scenario",
    "Result", "Units", "Weight Data Types", "Software", "Results path",
    "Division", "Suite", "Result per accelerator (derived)", "Round", "Coverage", "Source file",
]
KEY = ("ID", "Model", "Scenario", "Results path")
RULES = Rules(
    required=("ID", "Submitter", "System", "Accelerator Family", "Accelerator", "Model", "Scenario",
              "Result", "Units", "Division", "Round", "Coverage", "Source file"),
    numeric=("Accelerators per node", "Nodes", "Total accelerators", "Result",
             "Result per accelerator (derived)"),
)
# A partial extract (v5.0) was read from checker logs, which carry no result IDs.
PARTIAL_RULES = Rules(tuple(c for c in RULES.required if c != "ID"), RULES.numeric)
FAMILIES_FILE = "mlperf/accelerator_families.csv"
CPU_ONLY = "None (CPU only)"
# Units of a rate: dividing them by the number of accelerators gives a per-accelerator rate.
RATE_UNITS = ("Samples/s", "Queries/s", "Tokens/s")
_ROUND = re.compile(r"^v?(\d+\.\d+)$")
# Fields every summary record must have (v4.1 to v6.0 all do; v6.0 adds others).
SUMMARY_FIELDS = ("ID", "Submitter", "Availability", "Category", "Suite", "System", "Model", "Scenario",
                  "Nodes", "Processor", "Accelerator", "a#", "Location", "Software", "weight_data_types",
                  "version", "Performance_Result", "Performance_Units")
PARTIAL_FIELDS = ("round", "division", "suite", "submitter", "availability", "system_name", "accelerator",
                  "accelerators_per_node", "model", "scenario", "performance_result", "performance_units",
                  "source", "result_path")


@dataclass(frozen=True)
class Record:
    """One result, already checked, in the terms of the output columns."""

    id: str
    submitter: str
    availability: str
    system: str
    accelerator: str
    per_node: int | None
    nodes: int
    processor: str
    model: str
    scenario: str
    result: float
    units: str
    weights: str
    software: str
    path: str
    division: str
    suite: str
    round: str
    source: str


def number_text(x: float | int | None) -> str:
    """Stable text for a number: whole numbers without '.0' for counts, repr() otherwise
    (the shortest text that reads back as the same float)."""
    if x is None:
        return ""
    if isinstance(x, int):
        return str(x)
    return repr(float(x))


def load_families(data_dir: Path) -> list[tuple[str, str]]:
    """(glob, family) pairs, first match wins."""
    path = data_dir / FAMILIES_FILE
    if not path.is_file():
        raise ImportRefused(f"data/{FAMILIES_FILE} is missing; it maps submitted accelerator names to families")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows or set(rows[0]) != {"Pattern", "Accelerator Family"}:
        raise ImportRefused(f"data/{FAMILIES_FILE} must have the columns Pattern, Accelerator Family")
    for i, r in enumerate(rows, start=2):
        if None in r or None in r.values() or not r["Pattern"] or not r["Accelerator Family"]:
            raise ImportRefused(f"data/{FAMILIES_FILE}: line {i} needs exactly two non-empty cells "
                                "(quote a pattern that holds a comma)")
    return [(r["Pattern"], r["Accelerator Family"]) for r in rows]


def _match(accelerator: str, families: list[tuple[str, str]]) -> str | None:
    for pattern, family in families:
        if fnmatch.fnmatchcase(accelerator, pattern):
            return family
    return None


def family_of(accelerator: str, families: list[tuple[str, str]]) -> str:
    if accelerator == CPU_ONLY:
        return CPU_ONLY
    # Unknown: the name as submitted (reported, see unmapped()).
    return _match(accelerator, families) or accelerator


# ------------------------------------------------------------------ summary_results.json

def _where(name: str, index: int, rec: dict[str, Any]) -> str:
    rid = rec.get("ID") if isinstance(rec, dict) else None
    return f"{name}: record {index}" + (f" (ID {rid})" if isinstance(rid, str) and rid else "")


def _text(rec: dict[str, Any], field: str, where: str) -> str:
    v = rec[field]
    if v is None:
        return ""
    if not isinstance(v, (str, int, float)) or isinstance(v, bool):
        raise ImportRefused(f"{where}: '{field}' must be text, not {type(v).__name__}")
    return str(v).strip()


def _count(v: Any, field: str, where: str, *, empty_ok: bool) -> int | None:
    """A whole number >= 1 given as int, float or text; '' when empty_ok (CPU-only systems)."""
    if isinstance(v, str) and v.strip() == "" and empty_ok:
        return None
    try:
        f = float(v) if not isinstance(v, bool) else math.nan
    except (TypeError, ValueError):
        f = math.nan
    if not math.isfinite(f) or f != int(f) or f < 1:
        raise ImportRefused(f"{where}: '{field}' must be a whole number of at least 1, not {v!r}")
    return int(f)


def _round_name(version: str, where: str) -> str:
    m = _ROUND.match(version)
    if not m:
        raise ImportRefused(f"{where}: 'version' must look like v5.1, not {version!r}")
    return "v" + m.group(1)


def read_summary(path: Path, name: str) -> list[Record]:
    """Records of the datacenter suite; refuses the whole file at its first bad record."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ImportRefused(f"{name}: cannot read ({e.strerror})") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ImportRefused(f"{name}: not UTF-8 text (byte {e.start}); expected an MLPerf summary_results.json") from None
    except json.JSONDecodeError as e:
        cut = " (the file ends early: truncated?)" if e.pos >= len(raw.rstrip()) else ""
        raise ImportRefused(f"{name}: not valid JSON at line {e.lineno}, column {e.colno}: {e.msg}{cut}; "
                            "expected an MLPerf summary_results.json") from None
    if not isinstance(data, list) or not data:
        raise ImportRefused(f"{name}: expected a JSON list of result records (MLPerf summary_results.json), "
                            f"found {type(data).__name__ if data else 'an empty list'}")
    records: list[Record] = []
    rounds: set[str] = set()
    for i, rec in enumerate(data):
        where = _where(name, i, rec)
        if not isinstance(rec, dict):
            raise ImportRefused(f"{where}: a record must be a JSON object, not {type(rec).__name__}")
        missing = [f for f in SUMMARY_FIELDS if f not in rec]
        if missing:
            raise ImportRefused(f"{where}: missing field{'s' if len(missing) > 1 else ''} "
                                f"{', '.join(repr(m) for m in missing)}; is this an MLPerf Inference "
                                "summary_results.json (v4.1 or later)?")
        suite = _text(rec, "Suite", where)
        rnd = _round_name(_text(rec, "version", where), where)
        rounds.add(rnd)
        if len(rounds) > 1:
            raise ImportRefused(f"{where}: mixes rounds {', '.join(sorted(rounds))}; import one round at a time")
        if "datacenter" not in [s.strip() for s in suite.split(",")]:
            continue
        result = rec["Performance_Result"]
        if isinstance(result, bool) or not isinstance(result, (int, float)) or not math.isfinite(result) \
                or result < 0:
            raise ImportRefused(f"{where}: 'Performance_Result' must be a number of at least 0, not {result!r}")
        division = _text(rec, "Category", where)
        if division not in ("closed", "open"):
            raise ImportRefused(f"{where}: 'Category' must be closed or open, not {division!r}")
        accelerator = _text(rec, "Accelerator", where)
        per_node = _count(rec["a#"], "a#", where, empty_ok=True)
        for field in ("ID", "System", "Model", "Scenario", "Performance_Units"):
            if not _text(rec, field, where):
                raise ImportRefused(f"{where}: '{field}' is empty")
        location = _text(rec, "Location", where)
        # v6.0 writes './closed/.../Offline/performance/run_1'; earlier rounds the folder itself.
        location = re.sub(r"/performance/run_\d+$", "", location.removeprefix("./"))
        records.append(Record(
            id=_text(rec, "ID", where), submitter=_text(rec, "Submitter", where),
            availability=_text(rec, "Availability", where), system=_text(rec, "System", where),
            accelerator=accelerator or CPU_ONLY, per_node=per_node if accelerator else None,
            nodes=_count(rec["Nodes"], "Nodes", where, empty_ok=False) or 1,
            processor=_text(rec, "Processor", where), model=_text(rec, "Model", where),
            scenario=_text(rec, "Scenario", where), result=float(result),
            units=_text(rec, "Performance_Units", where), weights=_text(rec, "weight_data_types", where),
            software=_text(rec, "Software", where), path=location, division=division, suite=suite,
            round=rnd, source=f"mlcommons/inference_results_{rnd}:{path.name}"))
    return records


# ------------------------------------------------------------- the partial-round CSV (v5.0)

def read_partial(path: Path, name: str) -> list[Record]:
    """The columns of shared sources' `datacenter_closed_partial.csv` (one row per result)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise ImportRefused(f"{name}: not UTF-8 text (byte {e.start})") from None
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    missing = [f for f in PARTIAL_FIELDS if f not in header]
    if missing:
        raise ImportRefused(f"{name}: line 1: missing column{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(missing)}; expected a partial-round CSV such as "
                            "datacenter_closed_partial.csv, or give a summary_results.json")
    records = []
    for row in reader:
        where = f"{name}: line {reader.line_num}"
        if None in row or any(v is None for v in row.values()):
            raise ImportRefused(f"{where}: wrong number of cells (is the file truncated?)")
        try:
            result = float(row["performance_result"])
        except ValueError:
            result = math.nan
        if not math.isfinite(result) or result < 0:
            raise ImportRefused(f"{where}: 'performance_result' must be a number, not {row['performance_result']!r}")
        if row["suite"] != "datacenter" or row["division"] not in ("closed", "open"):
            raise ImportRefused(f"{where}: only datacenter rows of the closed or open division are expected")
        per_node = _count(row["accelerators_per_node"], "accelerators_per_node", where, empty_ok=True)
        source = row["source"]
        records.append(Record(
            id="", submitter=row["submitter"], availability=row["availability"].lower(),
            system=row["system_name"], accelerator=row["accelerator"] or CPU_ONLY, per_node=per_node,
            nodes=1, processor="", model=row["model"], scenario=row["scenario"], result=result,
            units=row["performance_units"], weights="", software="", path=row["result_path"],
            division=row["division"], suite="datacenter", round=_round_name(row["round"], where),
            source=source))
    if not records:
        raise ImportRefused(f"{name}: no result rows")
    return records


# ------------------------------------------------------------------------------ tables

def tables(records: list[Record], families: list[tuple[str, str]], *, partial: bool) -> list[Table]:
    """One table per division (or one partial table), rows in the input's order."""
    if not records:
        raise ImportRefused("no datacenter results in the input; nothing to import")
    rnd = records[0].round
    groups: dict[str, list[list[str]]] = {}
    seen: dict[tuple[str, ...], int] = {}
    for r in records:
        total = r.per_node * r.nodes if r.per_node else None
        per_acc = round(r.result / total, 4) if total and r.units in RATE_UNITS else None
        if partial:
            rel = f"mlperf/inference_{rnd}_partial.csv"
        else:
            rel = f"mlperf/inference_{rnd}.csv" if r.division == "closed" else f"mlperf/inference_{rnd}_open.csv"
        key = (rel, r.id, r.model, r.scenario, r.path)
        if key in seen:
            raise ImportRefused(f"result {r.id or r.path} {r.model} {r.scenario} appears twice in the input; "
                                "each system, benchmark and scenario must appear once")
        seen[key] = 1
        groups.setdefault(rel, []).append([
            r.id, r.submitter, r.availability, r.system, family_of(r.accelerator, families), r.accelerator,
            number_text(r.per_node), number_text(r.nodes), number_text(total), r.processor, r.model,
            r.scenario, number_text(r.result), r.units, r.weights, r.software, r.path,
            r.division, r.suite, number_text(per_acc), r.round, "partial" if partial else "complete",
            r.source,
        ])
    rules = PARTIAL_RULES if partial else RULES
    return [Table(rel, list(COLUMNS), rows, KEY, rules) for rel, rows in sorted(groups.items())]


def unmapped(records: list[Record], families: list[tuple[str, str]]) -> list[str]:
    """Submitted accelerator names no family pattern matches (shown under their own name)."""
    return sorted({r.accelerator for r in records
                   if r.accelerator != CPU_ONLY and _match(r.accelerator, families) is None})


def plan(path: Path, data_dir: Path, display: str) -> tuple[list[Table], list[str]]:
    """The tables an input file becomes, and accelerator names without a family."""
    if not path.is_file():
        raise ImportRefused(f"{display}: no such file")
    families = load_families(data_dir)
    partial = path.suffix.lower() == ".csv"
    records = read_partial(path, display) if partial else read_summary(path, display)
    return tables(records, families, partial=partial), unmapped(records, families)
