"""Writing imported tables into data/: deterministic CSV text, a per-file diff, and an
all-or-nothing replace after the new files pass data/schema.yml.

Every importer hands over an `Output`: the CSV files it wants (path relative to data/,
header, rows of text cells) and the schema rules each must meet. Nothing in data/
changes until every new file is written beside its target and validated; then each is
moved into place with os.replace (atomic per file on one filesystem).
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..schema import Rules, load_schema
from ..store import DataError, validate


class ImportRefused(Exception):
    """The input cannot be imported; the message names the file, the record and the fix."""


@dataclass
class Table:
    rel: str                                 # path inside data/, posix
    header: list[str]
    rows: list[list[str]]
    key: tuple[str, ...]                     # columns that identify a row, for the diff
    rules: Rules                             # what schema.yml must hold for this file


@dataclass
class FileChange:
    rel: str
    new_file: bool
    added: int
    removed: int
    changed: int
    unchanged: int
    text: str = field(repr=False, default="")
    reordered: bool = False

    @property
    def touched(self) -> bool:
        return self.new_file or self.reordered or bool(self.added or self.removed or self.changed)

    def describe(self) -> str:
        if self.new_file:
            return f"data/{self.rel}: new file, {self.added} rows"
        if not self.touched:
            return f"data/{self.rel}: unchanged ({self.unchanged} rows)"
        if self.reordered:
            return f"data/{self.rel}: same {self.unchanged} rows, in a new order"
        return (f"data/{self.rel}: {self.added} rows added, {self.removed} removed, "
                f"{self.changed} changed, {self.unchanged} unchanged")


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    """The exact bytes a table is stored as: minimal quoting, '\\n' line ends."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _keyed(header: list[str], rows: list[list[str]], key: tuple[str, ...]) -> dict[tuple[str, ...], list[str]]:
    idx = [header.index(k) for k in key if k in header]
    out: dict[tuple[str, ...], list[str]] = {}
    for row in rows:
        values = dict(zip(header, row))
        out[tuple(row[i] for i in idx) if idx else tuple(row)] = [values.get(h, "") for h in header]
    return out


def diff(data_dir: Path, table: Table) -> FileChange:
    """How the file on disk would change (rows matched by the table's key columns)."""
    text = csv_text(table.header, table.rows)
    path = data_dir / table.rel
    if not path.is_file():
        return FileChange(table.rel, True, len(table.rows), 0, 0, 0, text)
    old_text = path.read_text(encoding="utf-8")
    if old_text == text:
        return FileChange(table.rel, False, 0, 0, 0, len(table.rows), text)
    reader = csv.reader(io.StringIO(old_text))
    old_header = next(reader, [])
    old = _keyed(old_header, [r for r in reader if r], table.key)
    # Compare in the new header's terms, so an added column counts as a change of each row.
    old = {k: [dict(zip(old_header, v)).get(h, "") if h in old_header else None for h in table.header]
           for k, v in ((k, list(v)) for k, v in old.items())}
    new = _keyed(table.header, table.rows, table.key)
    added = sum(1 for k in new if k not in old)
    removed = sum(1 for k in old if k not in new)
    changed = sum(1 for k in new if k in old and old[k] != new[k])
    unchanged = sum(1 for k in new if k in old and old[k] == new[k])
    # Same rows, other bytes: only the order of rows or columns moved.
    reordered = not (added or removed or changed)
    return FileChange(table.rel, False, added, removed, changed, unchanged, text, reordered)


def _schema_entry(rel: str, rules: Rules) -> str:
    """A schema.yml entry in the file's own style, for a file the schema does not know yet."""
    def flow(names: tuple[str, ...]) -> str:
        return "[" + ", ".join(names) + "]"
    return f"{rel}:\n  required: {flow(rules.required)}\n  numeric: {flow(rules.numeric)}\n"


def apply(data_dir: Path, tables: list[Table], source_name: str) -> tuple[list[FileChange], bool]:
    """Validate every changed table, then move them into data/. Returns the changes and
    whether schema.yml gained entries. Raises ImportRefused and leaves data/ untouched."""
    changes = [diff(data_dir, t) for t in tables]
    schema_path = data_dir / "schema.yml"
    schema, problems = load_schema(schema_path, "data/schema.yml", data_dir)
    if problems:
        raise ImportRefused(f"data/schema.yml is broken ({problems[0].message}); fix it first, then import again")
    missing = [t for t in tables if t.rel not in schema]
    temps: list[tuple[str, Path]] = []
    try:
        for t, ch in zip(tables, changes):
            if not ch.touched:
                continue
            target = data_dir / t.rel
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(ch.text)
            temps.append((t.rel, Path(tmp)))
            rules = schema.get(t.rel, t.rules)
            _check(Path(tmp), t.rel, rules, source_name)
            if t.rel in schema:
                _check(Path(tmp), t.rel, t.rules, source_name)   # the importer's own contract too
        if missing:
            text = schema_path.read_text(encoding="utf-8")
            text += ("" if text.endswith("\n") else "\n") + "".join(_schema_entry(t.rel, t.rules) for t in missing)
            fd, tmp = tempfile.mkstemp(prefix=".schema.yml.", suffix=".tmp", dir=data_dir)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            temps.append(("schema.yml", Path(tmp)))
        for rel, tmp in temps:
            os.replace(tmp, data_dir / rel)
        temps = []
    finally:
        for _, tmp in temps:
            tmp.unlink(missing_ok=True)
    return changes, bool(missing)


def _check(tmp: Path, rel: str, rules: Rules, source_name: str) -> None:
    try:
        result = validate(tmp, rules.required, rules.numeric)
    except DataError as e:
        raise ImportRefused(f"{source_name}: the new data/{rel} would not parse ({e.message}); "
                            "nothing was written") from None
    if result.problems:
        p = result.problems[0]
        raise ImportRefused(f"{source_name}: the new data/{rel} breaks data/schema.yml at its line {p.line} "
                            f"({p.message}); nothing was written. Fix the input, or the schema entry "
                            f"for {rel} if the columns changed on purpose")
