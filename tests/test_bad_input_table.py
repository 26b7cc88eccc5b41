"""The README's "Bad input" table: a plain Markdown table whose every row names tests that exist."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _section(text: str, heading: str) -> str:
    start = text.index(heading + "\n")
    end = text.find("\n## ", start + len(heading))
    return text[start:end if end >= 0 else len(text)]


def test_every_row_names_an_existing_test() -> None:
    section = _section((ROOT / "README.md").read_text(encoding="utf-8"), "## Bad input")
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]     # past the header and rule
    assert rows, "the Bad input table has no rows"
    defined = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        defined.update(re.findall(r"(?m)^def (test_\w+)\(", path.read_text(encoding="utf-8")))
    for row in rows:
        named = re.findall(r"`(test_\w+)`", row.rsplit("|", 2)[-2])
        assert named, f"a row names no test: {row}"
        missing = [name for name in named if name not in defined]
        assert not missing, f"no such test {missing} for the row: {row}"
