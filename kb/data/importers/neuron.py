"""AWS Neuron SDK benchmark CSVs -> data/neuron/{encoder,decoder,encoder_decoder,vision}.csv.

Input: a folder of aws-neuron/aws-neuron-sdk (the repository root, or its
`about-neuron/benchmarks` folder; a folder holding one `head_<commit>/` copy of the root
also works). The inference tables of the inf2 and trn1 pages are read, in a fixed order:
for each platform, for each file family, the throughput file then the latency file. Each
output file joins one kind of model. Cells are text and stay text: numbers are copied as
written, so importing the same files again changes no byte.

Changes made to the source cells (data/README.md lists them for readers):
- `Inst. Type` lower-cased (the inf2 files write `Inf2.xlarge`);
- columns renamed to carry units and one spelling across files (RENAME);
- `Scripts` -> `Script`: the Sphinx markup becomes plain URLs (the docs' extlinks roles,
  `:ref:`/`:doc:` to a file of the repository, inline `` `text <url>`_ `` links);
- leading/trailing spaces and stray quote characters around a cell removed;
- vision rows gain `Model Family` (from the file they came from); a row that is an exact
  duplicate of an earlier one (real-time rows appear in both vision files) is kept once;
- `Source file` = `aws-neuron/aws-neuron-sdk:<path in the repository>@<short commit>`
  (`@commit` left out where the commit cannot be found).

Nothing from the input is evaluated: CSV is parsed with the csv module.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from ..schema import Rules
from .csvfiles import ImportRefused, Table

REPO = "aws-neuron/aws-neuron-sdk"
BENCHMARKS = "about-neuron/benchmarks"
PLATFORMS = ("inf2", "trn1")
MODES = ("throughput", "latency")

# The docs' conf.py `extlinks` for the roles the benchmark tables use (%s = the role's target).
EXTLINKS = {
    "benchmark-pt": "https://github.com/aws-neuron/aws-neuron-sdk/blob/master/src/benchmark/pytorch/%s_benchmark.py",
    "compile-pt": "https://github.com/aws-neuron/aws-neuron-sdk/blob/master/src/benchmark/pytorch/%s_compile.py",
    "llama-sample": "https://github.com/aws-neuron/aws-neuron-samples/blob/master/torch-neuronx/"
                    "transformers-neuronx/inference/%s.ipynb",
}
REPO_BLOB = "https://github.com/aws-neuron/aws-neuron-sdk/blob/master"

RENAME = {
    "Throughput (inference/second)": "Throughput (inferences/s)",
    "Throughput (inference/sec)": "Throughput (inferences/s)",
    "Output Token Throughput (tokens/sec)": "Output Throughput (tokens/s)",
    "Throughput (tokens/second)": "Throughput (tokens/s)",
    "TTFT Latency P50 (ms)": "TTFT P50 (ms)",
    "TTFT Latency P99 (ms)": "TTFT P99 (ms)",
    "TPOT Latency P50 (ms)": "TPOT P50 (ms)",
    "TPOT Latency P99 (ms)": "TPOT P99 (ms)",
    "Sequence Length": "Sequence Length (tokens)",
    "Input Length": "Input Length (tokens)",
    "Output Length": "Output Length (tokens)",
    "Compilation Autocast Data Type": "Autocast Data Type",
    "Scripts": "Script",
}
APPLICATION_TYPES = ("Batch", "Real Time")
ADDED = ("Model Family", "Source file")      # columns the importer adds, not read from the source


@dataclass(frozen=True)
class Kind:
    """One output file: its columns, the source file families it joins, its rules."""

    rel: str
    columns: tuple[str, ...]
    families: tuple[tuple[str, str], ...]     # (file stem after '<mode>_data_', Model Family or '')
    platforms: tuple[str, ...]
    key: tuple[str, ...]
    rules: Rules


KINDS = (
    Kind("neuron/encoder.csv",
         ("Model", "Inst. Type", "Application Type", "Batch Size", "Sequence Length (tokens)",
          "Throughput (inferences/s)", "Latency P50 (ms)", "Latency P99 (ms)", "Task", "Model Data Type",
          "Autocast Data Type", "Run Mode", "Framework", "Neuron Version", "OS Type", "Script", "Source file"),
         (("encoder", ""),), PLATFORMS,
         ("Model", "Inst. Type", "Application Type", "Batch Size", "Sequence Length (tokens)"),
         Rules(required=("Model", "Inst. Type", "Application Type", "Batch Size", "Throughput (inferences/s)",
                         "Latency P50 (ms)", "Latency P99 (ms)"),
               numeric=("Batch Size", "Sequence Length (tokens)", "Throughput (inferences/s)",
                        "Latency P50 (ms)", "Latency P99 (ms)"))),
    Kind("neuron/decoder.csv",
         ("Model", "Inst. Type", "Application Type", "TP Degree", "Batch Size", "Sequence Length (tokens)",
          "Input Length (tokens)", "Output Length (tokens)", "Output Throughput (tokens/s)", "TTFT P50 (ms)",
          "TTFT P99 (ms)", "TPOT P50 (ms)", "TPOT P99 (ms)", "Task", "Model Data Type", "Autocast Data Type",
          "Weight Storage Data Type", "Run Mode", "Framework", "Neuron Version", "Script", "Source file"),
         (("decoder", ""),), PLATFORMS,
         ("Model", "Inst. Type", "Application Type", "TP Degree", "Batch Size", "Sequence Length (tokens)",
          "Input Length (tokens)", "Output Length (tokens)"),
         Rules(required=("Model", "Inst. Type", "Application Type", "Batch Size", "Output Throughput (tokens/s)",
                         "TTFT P50 (ms)", "TPOT P50 (ms)"),
               numeric=("TP Degree", "Batch Size", "Sequence Length (tokens)", "Input Length (tokens)",
                        "Output Length (tokens)", "Output Throughput (tokens/s)", "TTFT P50 (ms)", "TTFT P99 (ms)",
                        "TPOT P50 (ms)", "TPOT P99 (ms)"))),
    Kind("neuron/encoder_decoder.csv",
         ("Model", "Inst. Type", "Application Type", "TP Degree", "DP Degree", "Batch Size",
          "Sequence Length (tokens)", "Input Length (tokens)", "Output Length (tokens)", "Throughput (tokens/s)",
          "Latency per Token P50 (ms)", "Latency per Token P99 (ms)", "Task", "Model Data Type",
          "Autocast Data Type", "Run Mode", "Framework", "Neuron Version", "Script", "Source file"),
         (("encoder_decoder", ""),), PLATFORMS,
         ("Model", "Inst. Type", "Application Type", "TP Degree", "DP Degree", "Batch Size",
          "Sequence Length (tokens)", "Input Length (tokens)", "Output Length (tokens)"),
         Rules(required=("Model", "Inst. Type", "Application Type", "Throughput (tokens/s)",
                         "Latency per Token P50 (ms)"),
               numeric=("TP Degree", "DP Degree", "Batch Size", "Sequence Length (tokens)", "Input Length (tokens)",
                        "Output Length (tokens)", "Throughput (tokens/s)", "Latency per Token P50 (ms)",
                        "Latency per Token P99 (ms)"))),
    Kind("neuron/vision.csv",
         ("Model", "Inst. Type", "Application Type", "Batch Size", "Image Size", "Throughput (inferences/s)",
          "Latency P50 (ms)", "Latency P99 (ms)", "Task", "Model Family", "Model Data Type", "Autocast Data Type",
          "Run Mode", "Framework", "Neuron Version", "Script", "Source file"),
         # The combined inf2/*_data_vision.csv (older numbers) is not read.
         (("vision_cnn", "CNN"), ("vision_transformers", "Vision transformer"),
          ("vision_sd", "Stable Diffusion"), ("vision_dit", "Diffusion transformer")),
         ("inf2",),
         ("Model", "Inst. Type", "Application Type", "Batch Size", "Image Size"),
         Rules(required=("Model", "Inst. Type", "Application Type", "Batch Size", "Throughput (inferences/s)",
                         "Latency P50 (ms)", "Latency P99 (ms)"),
               numeric=("Batch Size", "Throughput (inferences/s)", "Latency P50 (ms)", "Latency P99 (ms)"))),
)

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_INSTANCE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9-]+(/[a-z][a-z0-9-]*\.[a-z0-9-]+)*$")
_ROLE = re.compile(r":([a-z][a-z0-9-]*):`([^`]*)`")
_INLINE_LINK = re.compile(r"`([^`<]*)<([^<>`\s]+)>`__?")
_TITLED = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.S)
_HEX = re.compile(r"^[0-9a-f]{7,40}$")


# ------------------------------------------------------------------------ Sphinx markup

def _role_url(role: str, content: str) -> str:
    m = _TITLED.match(content)
    target = (m.group(2) if m else content).strip()
    if role in EXTLINKS:
        if not target or any(c in target for c in "%/ "):
            raise ValueError(f"the :{role}: target {target!r} is not a file name")
        return EXTLINKS[role] % target
    if role in ("ref", "doc"):
        # A docs cross-reference: only one that names a file of the repository has a URL.
        if m and target.startswith("/") and re.search(r"\.[A-Za-z0-9]+$", target):
            return REPO_BLOB + target
        raise ValueError(f"the :{role}: reference {content!r} names no file of the repository, "
                         "so it has no plain URL")
    raise ValueError(f"unknown Sphinx role :{role}: (known: {', '.join(sorted(EXTLINKS))}, ref, doc)")


def plain_links(text: str) -> str:
    """A Scripts cell with its Sphinx markup turned into plain URLs; text between links stays.
    Raises ValueError (the reason) for markup that has no URL."""
    out = _ROLE.sub(lambda m: _role_url(m.group(1), m.group(2)), text)
    out = _INLINE_LINK.sub(lambda m: m.group(2), out)
    if "`" in out:
        raise ValueError(f"Sphinx markup that is not a link: {text!r}")
    return out


# ------------------------------------------------------------------------ finding files

@dataclass(frozen=True)
class Source:
    bench: Path                 # the benchmarks folder (holds inf2/, trn1/)
    display: str                # how messages name it
    prefix: str                 # its path inside the repository, posix
    commits: dict[str, str]     # repository path -> commit (from a manifest), may be empty
    commit: str                 # commit of the whole checkout, '' if not known


def _git_head(start: Path) -> tuple[Path, str] | None:
    """(work tree root, HEAD commit) of the git checkout holding `start`, read from .git."""
    for folder in (start, *start.parents):
        dot = folder / ".git"
        if not dot.exists():
            continue
        gitdir = dot
        if dot.is_file():                              # a worktree or submodule: 'gitdir: PATH'
            line = dot.read_text(encoding="utf-8", errors="replace").strip()
            if not line.startswith("gitdir:"):
                return folder, ""
            gitdir = (folder / line[len("gitdir:"):].strip()).resolve()
        common = gitdir
        if (gitdir / "commondir").is_file():
            common = (gitdir / (gitdir / "commondir").read_text(encoding="utf-8").strip()).resolve()
        try:
            head = (gitdir / "HEAD").read_text(encoding="utf-8").strip()
        except OSError:
            return folder, ""
        if not head.startswith("ref:"):
            return folder, head if _HEX.match(head) else ""
        ref = head[4:].strip()
        for base in (gitdir, common):
            p = base / ref
            if p.is_file():
                sha = p.read_text(encoding="utf-8").strip()
                return folder, sha if _HEX.match(sha) else ""
        packed = common / "packed-refs"
        if packed.is_file():
            for line in packed.read_text(encoding="utf-8").splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[1] == ref and _HEX.match(parts[0]):
                    return folder, parts[0]
        return folder, ""
    return None


def _manifest(start: Path) -> tuple[Path, dict[str, tuple[str, str]]] | None:
    """The nearest manifest.csv above `start` (a folder of copied source files): its folder
    and local_path -> (original_path, commit) for this repository's rows."""
    for folder in (start, *start.parents):
        path = folder / "manifest.csv"
        if not path.is_file():
            continue
        try:
            with open(path, newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
        except (OSError, UnicodeDecodeError, csv.Error):
            return None
        if not rows or not {"local_path", "repo", "original_path", "commit"} <= set(rows[0]):
            return None
        return folder, {r["local_path"]: (r["original_path"], r["commit"])
                        for r in rows if r.get("repo") == REPO and r.get("commit")}
    return None


def _is_bench(folder: Path) -> bool:
    return all((folder / p).is_dir() for p in PLATFORMS)


def locate(folder: Path, display: str) -> Source:
    """The benchmarks folder of DIR and what is known of its provenance."""
    if not folder.is_dir():
        raise ImportRefused(f"{display}: no such folder; give a checkout of {REPO} "
                            f"(its root or its {BENCHMARKS} folder)")
    folder = folder.resolve()
    if _is_bench(folder):
        bench, shown = folder, display
    elif _is_bench(folder / BENCHMARKS):
        bench, shown = folder / BENCHMARKS, f"{display.rstrip('/')}/{BENCHMARKS}"
    else:
        # A folder of copies holding one snapshot of the root, named head_<commit>.
        heads = sorted(p for p in folder.glob("head_*") if _is_bench(p / BENCHMARKS))
        if len(heads) > 1:
            raise ImportRefused(f"{display}: holds {len(heads)} snapshots ({', '.join(p.name for p in heads)}); "
                                "give the one to import")
        if not heads:
            raise ImportRefused(f"{display}: no Neuron benchmark CSVs here (no {BENCHMARKS}/inf2 and "
                                f"{BENCHMARKS}/trn1); give a checkout of {REPO} or its {BENCHMARKS} folder")
        bench, shown = heads[0] / BENCHMARKS, f"{display.rstrip('/')}/{heads[0].name}/{BENCHMARKS}"
    commits: dict[str, str] = {}
    commit = ""
    prefix = f"{bench.parent.name}/{bench.name}"
    man = _manifest(bench)
    if man:                                  # copies listed in a manifest: commit per file
        base, rows = man
        local = bench.relative_to(base).as_posix() + "/"
        for lp, (orig, sha) in rows.items():
            if lp.startswith(local):
                commits[orig] = sha
                inner = lp[len(local):]
                if orig.endswith("/" + inner):
                    prefix = orig[: -len(inner) - 1]
    git = None if commits else _git_head(bench)
    # Only a checkout whose root holds the benchmarks folder two levels down is the Neuron
    # repository; a git repository further up (a project that copied the files) says nothing.
    if git and bench.parent.parent == git[0]:
        commit = git[1]
    if not commit and not commits:
        # A copy named after its commit (head_81ce03a/...).
        for part in reversed(bench.parts):
            m = re.match(r"^head_([0-9a-f]{7,40})$", part)
            if m:
                commit = m.group(1)
                break
    return Source(bench, shown, prefix, commits, commit)


# ------------------------------------------------------------------------ reading

def _clean(cell: str) -> str:
    cell = cell.strip()
    if len(cell) >= 2 and cell[0] == cell[-1] == '"':        # '"FP32, BF16"' written with its quotes
        cell = cell[1:-1].strip()
    return cell


def read_file(src: Source, rel: str, kind: Kind, family: str) -> list[tuple[list[str], str]]:
    """(output row, where) for each data row of one source file; refuses the whole import at
    the first bad row, naming the file and its line."""
    path = src.bench / rel
    shown = f"{src.display.rstrip('/')}/{rel}"
    if not path.is_file():
        raise ImportRefused(f"{shown}: missing; every {kind.rel} source file must be there "
                            f"({', '.join(f'{m}_data_{s}.csv' for s, _ in kind.families for m in MODES)} "
                            f"under {', '.join(kind.platforms)})")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise ImportRefused(f"{shown}: not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise ImportRefused(f"{shown}: cannot read ({e.strerror})") from None
    reader = csv.reader(text.splitlines())
    try:
        header = [h.strip() for h in next(reader, [])]
    except csv.Error as e:
        raise ImportRefused(f"{shown}: line 1: not CSV ({e})") from None
    names = [RENAME.get(h, h) for h in header]
    wanted = [c for c in kind.columns if c not in ADDED]
    missing = [c for c in wanted if c not in names]
    unknown = [h for h, n in zip(header, names) if n not in wanted]
    dup = sorted({n for n in names if names.count(n) > 1})
    if missing or unknown or dup:
        why = "; ".join(filter(None, [
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}" if missing else "",
            f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} (the importer must learn "
            "where it goes)" if unknown else "",
            f"column {', '.join(dup)} twice" if dup else ""]))
        raise ImportRefused(f"{shown}: line 1: {why}")
    repo_path = f"{src.prefix}/{rel}"
    commit = src.commits.get(repo_path, src.commit)
    provenance = f"{REPO}:{repo_path}" + (f"@{commit[:7]}" if commit else "")
    index = {n: i for i, n in enumerate(names)}
    out = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue                                          # blank line (one file ends with one)
            model = cells[index["Model"]].strip() if len(cells) > index["Model"] else ""
            where = f"{shown}: line {line}" + (f" ({model})" if model else "")
            if len(cells) != len(header):
                raise ImportRefused(f"{where}: {len(cells)} cells, the header has {len(header)} "
                                    "(is the file truncated, or a comma unquoted?)")
            values = {n: _clean(cells[i]) for n, i in index.items()}
            values["Inst. Type"] = values["Inst. Type"].lower()
            values["Model Family"] = family
            values["Source file"] = provenance
            for col in kind.rules.required:
                if not values[col]:
                    raise ImportRefused(f"{where}: '{col}' is empty")
            for col in kind.rules.numeric:
                if values[col] and not _NUMBER.match(values[col]):
                    raise ImportRefused(f"{where}: '{col}' must be a number, not {values[col]!r}")
            if values["Application Type"] not in APPLICATION_TYPES:
                raise ImportRefused(f"{where}: 'Application Type' must be Batch or Real Time, "
                                    f"not {values['Application Type']!r}")
            if not _INSTANCE.match(values["Inst. Type"]):
                raise ImportRefused(f"{where}: 'Inst. Type' must be an EC2 instance type such as inf2.xlarge, "
                                    f"not {values['Inst. Type']!r}")
            try:
                values["Script"] = plain_links(values["Script"])
            except ValueError as e:
                raise ImportRefused(f"{where}: 'Scripts': {e}") from None
            out.append(([values[c] for c in kind.columns], where))
    except csv.Error as e:
        raise ImportRefused(f"{shown}: line {reader.line_num}: not CSV ({e})") from None
    return out


def table(src: Source, kind: Kind) -> Table:
    rows: list[list[str]] = []
    seen_rows: set[tuple[str, ...]] = set()
    seen_keys: dict[tuple[str, ...], str] = {}
    prov = kind.columns.index("Source file")
    key_idx = [kind.columns.index(k) for k in kind.key]
    for platform in kind.platforms:
        for stem, family in kind.families:
            for mode in MODES:
                for row, where in read_file(src, f"{platform}/{mode}_data_{stem}.csv", kind, family):
                    same = tuple(row[:prov] + row[prov + 1:])
                    if same in seen_rows:
                        continue                           # the same measurement listed in two files
                    key = tuple(row[i] for i in key_idx)
                    if key in seen_keys:
                        raise ImportRefused(f"{where}: same {', '.join(kind.key)} as {seen_keys[key]} "
                                            "with other numbers; which one is right?")
                    seen_rows.add(same)
                    seen_keys[key] = where
                    rows.append(row)
    if not rows:
        raise ImportRefused(f"{src.display}: no rows for {kind.rel}")
    return Table(kind.rel, list(kind.columns), rows, kind.key, kind.rules)


def plan(folder: Path, display: str) -> list[Table]:
    """The four data/neuron tables a checkout folder becomes."""
    src = locate(folder, display)
    return [table(src, kind) for kind in KINDS]
