"""DataContext: one per build; the CSVs (through the module-level cache), schema and links."""
from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable

import pandas as pd

from kb.parse.diagnostics import Diagnostic

from . import store
from .links import LinkRules, load_links
from .schema import Rules, load_schema


class DataContext:
    """One per build. Holds the CSV store (module-level cache survives serve rebuilds) and links.yml.

    `known_notes` (optional) lets a links.yml error suggest the note that was meant.
    """

    def __init__(self, data_dir: Path, project_root: Path, note_exists: Callable[[str], bool],
                 known_notes: Iterable[str] | None = None):
        self.data_dir = Path(data_dir)
        self.project_root = Path(project_root)
        rel = os.path.relpath(self.data_dir.resolve(), self.project_root.resolve())
        self.data_display = Path(rel).as_posix()
        self.links: LinkRules
        self.links, self._link_diags = load_links(self.data_dir / "links.yml", self.display("links.yml"),
                                                  note_exists, known_notes)
        self.schema: dict[str, Rules]
        self.schema, self._schema_diags = load_schema(self.data_dir / "schema.yml", self.display("schema.yml"),
                                                      self.data_dir)
        self._frames: dict[str, pd.DataFrame | store.DataError] = {}   # this build's memo
        self._problems: dict[str, list[Diagnostic]] = {}
        self._tables: dict[tuple[str, str], object] = {}     # (kind, block text) -> engine result
        # (kind, block text, download) -> a table's HTML, the notes it links to and their hrefs
        self.drawn: dict[tuple[str, str, str | None], tuple[str, frozenset[str], dict[str, str]]] = {}
        # (kind, block text) -> (note fname, cell value) of each cell links.yml linked as it was
        # drawn (kb serve keeps the search index's names per table from these)
        self.cells: dict[tuple[str, str], set[tuple[str, str]]] = {}

    def table(self, kind: str, body: str, run: Callable[[], object]) -> object:
        """The engine's result for a block's text, computed once per build: a table shown on
        several pages costs one evaluation. Errors are not kept (they carry the note's lines)."""
        key = (kind, body)
        hit = self._tables.get(key)
        if hit is None:
            hit = self._tables[key] = run()
        return hit

    def display(self, rel: str) -> str:
        """A data file's path as messages show it, e.g. 'data/neuron/vision.csv'."""
        return f"{self.data_display}/{rel}" if self.data_display != "." else rel

    def frame(self, rel: str) -> pd.DataFrame:
        """The validated frame for a path relative to data/; raises store.DataError. Never mutate it."""
        rel = PurePosixPath(rel).as_posix()   # "./a.csv" and "a.csv" are one file
        hit = self._frames.get(rel)
        if hit is None:
            hit = self._load(rel)
            self._frames[rel] = hit
        if isinstance(hit, store.DataError):
            raise hit
        return hit

    def _load(self, rel: str) -> pd.DataFrame | store.DataError:
        try:
            path = store.resolve(self.data_dir, rel)
            store.read(path)        # parse errors surface here (validate reads the same cached frame)
        except store.DataError as e:
            if e.code == "data-csv-parse":
                self._problems[rel] = [Diagnostic(self.display(rel), e.line, 0, "error", e.message, e.code)]
            return e
        except OSError as e:
            return store.DataError(f"cannot read '{rel}': {e.strerror}", "data-csv-parse")
        rules = self.schema.get(rel, Rules())
        checked = store.validate(path, rules.required, rules.numeric)
        self._problems[rel] = [Diagnostic(self.display(rel), p.line, 0, "error", p.message, p.code)
                               for p in checked.problems]
        return checked.frame

    def diagnostics(self) -> list[Diagnostic]:
        """Problems in links.yml, schema.yml and every CSV under data/ (each CSV is read once, cached)."""
        for rel in store.list_csvs(self.data_dir):
            if rel not in self._frames:
                self._frames[rel] = self._load(rel)
        out = list(self._link_diags) + list(self._schema_diags)
        for rel in sorted(self._problems):
            out.extend(self._problems[rel])
        return out

    def links_for(self, column: str, value: str) -> str | None:
        """The note fname a cell links to, or None."""
        return self.links.lookup(column, value)
