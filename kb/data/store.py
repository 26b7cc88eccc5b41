"""CSV files under data/: safe path resolution, reading once, caching, validation.

The cache is module-level so it survives `mkdocs serve` rebuilds (the hook module is
reloaded, this one is not); an entry is reused while the file's resolved path,
mtime_ns and size are unchanged. READS counts real reads from disk, per path.
"""
from __future__ import annotations

import csv
import re
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from kb.parse.diagnostics import did_you_mean

READS: Counter[str] = Counter()          # resolved path -> times parsed from disk
_CACHE: dict[str, "_Entry"] = {}
_VALIDATED: dict[tuple, "Validated"] = {}
_LOCK = threading.Lock()
MAX_BAD_CELLS = 3                        # per column, to keep messages readable


class DataError(Exception):
    """A problem with a data file or path; `message` is for authors, `line` is in the CSV (0: none)."""

    def __init__(self, message: str, code: str, line: int = 0):
        super().__init__(message)
        self.message = message
        self.code = code
        self.line = line


@dataclass(frozen=True)
class _Entry:
    mtime_ns: int
    size: int
    frame: pd.DataFrame | None
    error: DataError | None
    duplicates: tuple[str, ...]


@dataclass(frozen=True)
class CsvProblem:
    line: int          # 1-based line in the CSV, header = 1
    message: str
    code: str


@dataclass(frozen=True)
class Validated:
    frame: pd.DataFrame
    problems: tuple[CsvProblem, ...]


def resolve(data_dir: Path, rel: str) -> Path:
    """The file a `source` names, refusing anything that is not inside data/ (also via symlinks)."""
    if "\\" in rel or PurePosixPath(rel).is_absolute() or PureWindowsPath(rel).is_absolute() \
            or PureWindowsPath(rel).drive:
        raise DataError(f"'{rel}' must be a path relative to data/, not an absolute path", "data-path-outside")
    if ".." in PurePosixPath(rel).parts:
        raise DataError(f"'{rel}' leaves data/ ('..' is not allowed)", "data-path-outside")
    root = data_dir.resolve()
    path = (root / rel).resolve()
    if not path.is_relative_to(root):
        raise DataError(f"'{rel}' resolves outside data/ (through a symbolic link)", "data-path-outside")
    if path.suffix.lower() != ".csv":
        raise DataError(f"'{rel}' is not a .csv file", "data-unknown-file")
    if not path.is_file():
        known = list_csvs(data_dir)
        hint = did_you_mean(rel, known) or (
            " (CSV files in data/: " + ", ".join(known[:30]) + (", ..." if len(known) > 30 else "") + ")"
            if known else " (data/ holds no CSV files)")
        raise DataError(f"no file '{rel}' in data/{hint}", "data-unknown-file")
    return path


def list_csvs(data_dir: Path) -> list[str]:
    """CSV files under data_dir as posix paths relative to it, sorted."""
    if not data_dir.is_dir():
        return []
    return sorted(p.relative_to(data_dir).as_posix() for p in data_dir.rglob("*.csv") if p.is_file())


def read(path: Path) -> pd.DataFrame:
    """The parsed CSV at a resolved path, from the cache while the file is unchanged."""
    entry = _entry(path)
    if entry.error:
        raise entry.error
    assert entry.frame is not None
    return entry.frame


def _entry(path: Path) -> _Entry:
    key = str(path)
    st = path.stat()
    with _LOCK:
        entry = _CACHE.get(key)
        if entry and entry.mtime_ns == st.st_mtime_ns and entry.size == st.st_size:
            return entry
        READS[key] += 1
        frame, error, dups = _parse(path)
        entry = _Entry(st.st_mtime_ns, st.st_size, frame, error, dups)
        _CACHE[key] = entry
        return entry


_LINE_IN_MESSAGE = re.compile(r"line (\d+)")


def _parse(path: Path) -> tuple[pd.DataFrame | None, DataError | None, tuple[str, ...]]:
    try:
        # Only empty cells are missing values: "NA" or "null" may be real data.
        frame = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, na_values=[""],
                            low_memory=False)
    except UnicodeDecodeError as e:
        return None, DataError(f"not UTF-8 text (byte {e.start})", "data-csv-parse"), ()
    except pd.errors.EmptyDataError:
        return None, DataError("empty file: a CSV needs a header line", "data-csv-parse", 1), ()
    except (pd.errors.ParserError, ValueError, OSError) as e:
        text = str(e).replace("Error tokenizing data. C error: ", "").strip()
        m = _LINE_IN_MESSAGE.search(text)
        return None, DataError(f"cannot parse CSV: {text}", "data-csv-parse", int(m.group(1)) if m else 0), ()
    frame.columns = [str(c) for c in frame.columns]
    return _numbers_with_gaps(frame), None, _duplicate_header(path)


# pandas' read_csv default missing-value spellings, and the dashes tables use for "none".
NA_SPELLINGS = frozenset(("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
                          "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
                          "-", "\u2013", "\u2014"))
_SAMPLE = 1000


def _numbers_with_gaps(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns of numbers whose other cells are all missing-value spellings (NaN, N/A, -...)
    become numeric, those cells missing. Only there: in a column of text, "NA" may be a name
    and stays as written (hence keep_default_na=False above)."""
    changed: dict[str, pd.Series] = {}
    for name in frame.columns:
        col = frame[name]
        if ptypes.is_numeric_dtype(col.dtype) or ptypes.is_bool_dtype(col.dtype):
            continue
        # A look at the first cells first: a text column is seen there without converting it all.
        if not _numbers_or_gaps(col.iloc[:_SAMPLE])[0]:
            continue
        ok, nums = _numbers_or_gaps(col)
        if ok and nums.notna().any():       # a column of gaps alone says nothing: left as written
            changed[name] = nums
    return frame.assign(**changed) if changed else frame


def _numbers_or_gaps(col: pd.Series) -> tuple[bool, pd.Series]:
    """(every cell is a number or a missing-value spelling; the numbers)."""
    nums = pd.to_numeric(col, errors="coerce")
    text = nums.isna() & col.notna()
    return not text.any() or bool(col[text].astype(str).str.strip().isin(NA_SPELLINGS).all()), nums


def _duplicate_header(path: Path) -> tuple[str, ...]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        header = next(csv.reader(f), [])
    seen: set[str] = set()
    dups = []
    for name in header:
        if name in seen:
            dups.append(name)
        seen.add(name)
    return tuple(dups)


def record_lines(path: Path) -> list[int]:
    """Start line of each non-blank CSV record (index 0 = header); pandas skips blank lines too."""
    starts: list[int] = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        end = 0
        for row in reader:
            start, end = end + 1, reader.line_num
            if row:
                starts.append(start)
    return starts


def validate(path: Path, required: tuple[str, ...], numeric: tuple[str, ...]) -> Validated:
    """Check a CSV against its schema entry; numeric columns come back as numbers (bad cells missing)."""
    entry = _entry(path)
    key = (str(path), entry.mtime_ns, entry.size, required, numeric)
    with _LOCK:
        hit = _VALIDATED.get(key)
    if hit:
        return hit
    frame = read(path)
    problems: list[CsvProblem] = []
    known = list(frame.columns)
    for name in entry.duplicates:
        problems.append(CsvProblem(1, f"duplicate column name '{name}'", "data-csv-schema"))
    for name in required:
        if name not in frame.columns:
            problems.append(CsvProblem(1, f"required column '{name}' is missing{_known(name, known)}",
                                       "data-csv-schema"))
    lines: list[int] | None = None
    coerced: dict[str, pd.Series] = {}
    for name in numeric:
        if name not in frame.columns:
            if name not in required:
                problems.append(CsvProblem(1, f"numeric column '{name}' is missing{_known(name, known)}",
                                           "data-csv-schema"))
            continue
        col = frame[name]
        if ptypes.is_numeric_dtype(col.dtype) and not ptypes.is_bool_dtype(col.dtype):
            continue
        nums = pd.to_numeric(col, errors="coerce")
        # A missing-value spelling is missing, not bad (SPEC), even where a bad cell kept the column text.
        bad = nums.isna() & col.notna() & ~col.astype(str).str.strip().isin(NA_SPELLINGS)
        if bad.any():
            lines = lines or record_lines(path)
            positions = [int(i) for i in bad.to_numpy().nonzero()[0]]
            for i, pos in enumerate(positions[:MAX_BAD_CELLS]):
                line = lines[pos + 1] if pos + 1 < len(lines) else pos + 2
                more = len(positions) - MAX_BAD_CELLS
                tail = f" ({more} more in this column)" if i == MAX_BAD_CELLS - 1 and more > 0 else ""
                problems.append(CsvProblem(line, f"column '{name}' must be numeric, but holds "
                                                 f"{str(col.iloc[pos])!r}{tail}", "data-csv-numeric"))
        coerced[name] = nums
    if coerced:
        frame = frame.assign(**coerced)
    result = Validated(frame, tuple(problems))
    with _LOCK:
        _VALIDATED[key] = result
    return result


def _known(name: str, known: list[str]) -> str:
    return did_you_mean(name, known) or " (columns: " + ", ".join(known) + ")"


_CODES: "dict[int, tuple[pd.DataFrame, dict[str, tuple[np.ndarray, np.ndarray]]]]" = {}
_CODES_FRAMES = 64


def sorted_codes(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Sort codes of a text column of a cached frame (missing = -1) and its sorted distinct
    values, computed once per frame and column: comparing or sorting a million strings is
    the slow part of most blocks, and many blocks read the same columns of the same file."""
    with _LOCK:
        hit = _CODES.get(id(frame))
        if hit is None or hit[0] is not frame:
            if len(_CODES) >= _CODES_FRAMES:
                _CODES.pop(next(iter(_CODES)))
            hit = _CODES[id(frame)] = (frame, {})
        cols = hit[1]
    if column not in cols:
        codes, uniques = pd.factorize(frame[column], sort=True)
        cols[column] = (codes, np.asarray(uniques, dtype=object))
    return cols[column]


def clear_cache() -> None:
    """Forget every cached file (tests and benchmarks)."""
    with _LOCK:
        _CACHE.clear()
        _VALIDATED.clear()
        _CODES.clear()
        READS.clear()
