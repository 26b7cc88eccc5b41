"""One message type for the build's warnings and `kb check`: path:line:col: severity: message [code]."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from operator import attrgetter
from typing import Iterable, Literal, Sequence

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Diagnostic:
    path: str          # relative to the project root, e.g. "notes/a.b.md" or "data/links.yml"
    line: int          # 1-based; 0 when the whole file is meant
    col: int           # 1-based; 0 when the whole line is meant
    severity: Severity
    message: str
    code: str          # short kebab-case id, e.g. "broken-link"

    def format(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.severity}: {self.message} [{self.code}]"

    def github(self) -> str:
        kind = "error" if self.severity == "error" else "warning"
        # GitHub's workflow-command escaping: a note named "a::b" or "x,y" cannot end the
        # properties early, and no value can start a command of its own on a new line.
        msg = self.message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        path = _gh_property(self.path)
        return (f"::{kind} file={path},line={max(self.line, 1)},col={max(self.col, 1)},"
                f"title={_gh_property(self.code)}::{msg}")


def _gh_property(value: str) -> str:
    return (value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
            .replace(":", "%3A").replace(",", "%2C"))


# The dataclass's own order, as a key: its generated __lt__ (a Python call per comparison) made
# sorting a few hundred thousand problems take seconds.
sort_key = attrgetter("path", "line", "col", "severity", "message", "code")


def did_you_mean(name: str, known: Iterable[str], n: int = 1, *, ignore_case: bool = False) -> str:
    """' (did you mean "x"?)' when a near name exists, else ''.

    rapidfuzz does the scoring in C: a vault of 10,000 names with hundreds of broken
    links would take seconds with difflib.
    """
    choices = known if isinstance(known, (list, tuple)) else list(known)
    if not choices or not name:
        return ""
    from rapidfuzz import fuzz, process     # only where there is something to suggest: a clean run needs none
    # Note names match without regard to case (kb/parse/names.py), so they are scored that way;
    # columns and keys are case-sensitive, and their case helps pick the right one.
    found = process.extract(name, choices, scorer=fuzz.ratio, processor=str.lower if ignore_case else None,
                            limit=n, score_cutoff=60)
    if not found:
        return ""
    return " (did you mean " + " or ".join(f'"{c}"' for c, _score, _i in found) + "?)"


def render(diags: Sequence[Diagnostic], fmt: str = "text") -> str:
    diags = sorted(diags, key=sort_key)
    if fmt == "json":
        return json.dumps([asdict(d) for d in diags], indent=2)
    if fmt == "github":
        return "\n".join(d.github() for d in diags)
    return "\n".join(d.format() for d in diags)
