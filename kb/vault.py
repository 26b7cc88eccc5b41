"""The vault model: every note parsed once, cached by content across rebuilds."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from .diagnostics import Diagnostic
from .headings import Doc, Heading
from .syntax import Fence, Token, scan

FM_RE = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.S)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe loading (libyaml when present: frontmatter parsing dominates big vaults) that keeps
    dates as text (Dendron writes epoch ms; ISO dates are converted by to_millis)."""


_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


_SIMPLE_LINE = re.compile(r"^([A-Za-z_][\w\-]*):(?:[ \t]+(.*?))?[ \t]*$")
_INT_RE = re.compile(r"^-?\d+$")
_FLOAT_RE = re.compile(r"^-?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?$")
_YAML_SPECIAL = set("[]{}&*!|>%@`#,?:-<=")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"}


def _fast_frontmatter(text: str) -> dict[str, Any] | None:
    """Dendron's usual frontmatter (flat `key: scalar` lines) without a YAML parser.

    Parsing YAML dominates `kb check` on big vaults; anything beyond plain scalars
    (lists, quotes with escapes, booleans, nesting) returns None and goes to YAML.
    """
    out: dict[str, Any] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        m = _SIMPLE_LINE.match(line)
        if not m:
            return None
        key, value = m[1], m[2] or ""
        if not value:
            return None          # empty, or a nested block below: let YAML decide
        first = value[0]
        if first in "'\"":
            if len(value) < 2 or value[-1] != first or first in value[1:-1] or "\\" in value:
                return None
            out[key] = value[1:-1]
        elif first in _YAML_SPECIAL or value.lower() in _RESERVED or ": " in value or " #" in value:
            return None
        elif _INT_RE.match(value):
            out[key] = int(value)
        elif _FLOAT_RE.match(value):
            out[key] = float(value)
        else:
            out[key] = value
    return out


def title_from_fname(fname: str) -> str:
    """`inference-accelerator` -> "Inference Accelerator" (as Dendron does)."""
    last = fname.split(".")[-1]
    return " ".join(w[:1].upper() + w[1:] for w in re.split(r"[-_ ]+", last) if w) or last


def to_millis(value: Any) -> int | None:
    """Epoch milliseconds from Dendron's number or an ISO date/datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        d = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.timezone.utc)
    return int(d.timestamp() * 1000)


@dataclass
class Note:
    fname: str
    path: Path             # absolute
    rel: str               # path for messages, e.g. "notes/a.b.md"
    text: str              # the whole file
    fm: dict[str, Any]
    body: str
    body_line: int         # 0-based line in the file where the body starts
    has_frontmatter: bool
    problems: list[Diagnostic] = field(default_factory=list)

    # -- frontmatter fields ------------------------------------------------
    @property
    def id(self) -> str | None:
        v = self.fm.get("id")
        return str(v) if v not in (None, "") else None

    @property
    def title(self) -> str:
        t = self.fm.get("title")
        return str(t).strip() if t not in (None, "") else title_from_fname(self.fname)

    @property
    def desc(self) -> str:
        d = self.fm.get("desc")
        return str(d) if d not in (None,) else ""

    @property
    def updated(self) -> int | None:
        return to_millis(self.fm.get("updated"))

    @property
    def created(self) -> int | None:
        return to_millis(self.fm.get("created"))

    @property
    def tags(self) -> list[str]:
        t = self.fm.get("tags")
        if t is None or t == "":
            return []
        items = t if isinstance(t, list) else [t]
        return [str(x).lstrip("#").strip() for x in items if str(x).strip()]

    @property
    def nav_order(self) -> float | None:
        v = self.fm.get("nav_order")
        try:
            return float(v) if v is not None else None
        except (TypeError, ValueError):
            return None

    @property
    def nav_exclude(self) -> bool:
        return self.fm.get("nav_exclude") is True

    @property
    def published(self) -> bool:
        return self.fm.get("published") is not False

    @property
    def child_links(self) -> bool:
        cfg = self.fm.get("config")
        try:
            return cfg["global"]["enableChildLinks"] is not False  # type: ignore[index]
        except (TypeError, KeyError):
            return True

    # -- body structure, computed once --------------------------------------
    @cached_property
    def doc(self) -> Doc:
        return Doc(self.body)

    @property
    def lines(self) -> list[str]:
        return self.doc.lines

    @property
    def fences(self) -> list[Fence]:
        return self.doc.index.fences

    @property
    def code_mask(self) -> list[bool]:
        return self.doc.mask

    @property
    def headings(self) -> list[Heading]:
        return self.doc.headings

    @property
    def blocks(self) -> dict[str, int]:
        return self.doc.blocks

    @cached_property
    def tokens(self) -> list[Token]:
        return scan(self.body, index=self.doc.index) if self.body else []

    def fm_line(self, key: str) -> int:
        """1-based line of a top-level frontmatter key (1 when not found)."""
        for i, line in enumerate(self.text.split("\n")[:self.body_line], start=1):
            if line.startswith(f"{key}:"):
                return i
        return 1

    def file_pos(self, body_line: int, col: int = 0) -> tuple[int, int]:
        """1-based (line, col) in the file for a 0-based body position."""
        return self.body_line + body_line + 1, col + 1


def parse_note(path: Path, rel: str, text: str) -> Note:
    fname = path.name[:-3]
    problems: list[Diagnostic] = []
    m = FM_RE.match(text)
    fm: dict[str, Any] = {}
    if m:
        body = text[m.end():]
        body_line = text[:m.end()].count("\n")
        try:
            fast = _fast_frontmatter(m.group(1) or "")
            loaded = fast if fast is not None else yaml.load(m.group(1) or "", Loader=_Loader)
            if isinstance(loaded, dict):
                fm = {str(k): v for k, v in loaded.items()}
            elif loaded is not None:
                problems.append(Diagnostic(rel, 1, 1, "warning", "frontmatter is not a YAML mapping", "frontmatter"))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            line = (mark.line + 2) if mark else 1
            problems.append(Diagnostic(rel, line, 1, "warning",
                                       f"frontmatter is not valid YAML ({getattr(e, 'problem', e)}); fix the YAML between the '---' lines",
                                       "frontmatter"))
    else:
        body, body_line = text, 0
        problems.append(Diagnostic(rel, 1, 1, "warning",
                                   "no frontmatter: add Dendron frontmatter (id, title, desc, updated, created) between '---' lines, e.g. with `kb new`",
                                   "frontmatter"))
    note = Note(fname, path, rel, text, fm, body, body_line, bool(m), problems)
    if m and not note.id:
        problems.append(Diagnostic(rel, 2, 1, "warning", "frontmatter has no id: add a unique `id:` (kb new writes one)", "missing-id"))
    return note


_CACHE: dict[Path, tuple[str, Note]] = {}


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def load_note(path: Path, rel: str) -> Note:
    """Parse a note, or reuse the parse from a previous build if its content is unchanged."""
    data = path.read_bytes()
    key = _digest(data)
    hit = _CACHE.get(path)
    if hit and hit[0] == key:
        return hit[1]
    note = parse_note(path, rel, data.decode("utf-8", errors="replace"))
    _CACHE[path] = (key, note)
    return note


class Vault:
    """All notes of one notes/ folder, by fname."""

    def __init__(self, notes_dir: Path, project_root: Path | None = None):
        self.dir = notes_dir.resolve()
        self.root = (project_root or self.dir.parent).resolve()
        self.notes: dict[str, Note] = {}
        self.by_id: dict[str, list[Note]] = {}
        try:
            prefix = self.dir.relative_to(self.root).as_posix() + "/"
        except ValueError:
            prefix = self.dir.as_posix() + "/"
        for entry in sorted(os.scandir(self.dir), key=lambda e: e.name):
            if not entry.name.endswith(".md") or not entry.is_file():
                continue
            note = load_note(Path(entry.path), prefix + entry.name)
            self.notes[note.fname] = note
            if note.id:
                self.by_id.setdefault(note.id, []).append(note)

    def __contains__(self, fname: str) -> bool:
        return fname in self.notes

    def get(self, fname: str) -> Note | None:
        return self.notes.get(fname)

    @property
    def published(self) -> dict[str, Note]:
        return {f: n for f, n in self.notes.items() if n.published}
