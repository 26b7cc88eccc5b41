"""Pass 3: the notes' problems, at their own lines: ids, names that differ only in case, every
link, embed and {{fm.*}} resolved against the link graph, images and files that are not there.

Knows nothing of MkDocs. The build runs it for the problems it reports; `kb check` also checks
the data blocks (kb.check.datacheck) and lints more (kb.check.checker).
"""
from __future__ import annotations

import logging
from pathlib import Path

from ..link.linkgraph import LinkGraph, id_is_segment
from ..parse.diagnostics import Diagnostic
from ..parse.vault import Note
from ..render.media import MediaRef, note_media
from ..render.prepare import fm_lookup

log = logging.getLogger("kb")


class NoteChecker:
    """Problems go into `diagnostics`, in the order they are found."""

    def __init__(self, graph: LinkGraph, notes_dir: Path, project_root: Path):
        self.graph = graph
        self.notes_dir, self.root = notes_dir, project_root
        self.diagnostics: list[Diagnostic] = []
        self._embed_problems: dict[str, dict[str, list | None]] = {}
        self._media_found: dict[str, bool] = {}     # vault path -> is a file (many notes show one logo)

    def take(self) -> list[Diagnostic]:
        """The problems found so far, handed over (and forgotten here)."""
        found, self.diagnostics = self.diagnostics, []
        return found

    def check_ids(self) -> None:
        for nid, notes in self.graph.vault.by_id.items():
            if not id_is_segment(nid):
                self.diagnostics.append(Diagnostic(
                    notes[0].rel, notes[0].fm_line("id"), 1, "warning",
                    f'id "{nid}" cannot be a folder of /notes/<id>/ (no "/", "\\", control characters, '
                    '"." or ".."): no redirect is made; give this note an id of letters, digits, "-" and "_"',
                    "bad-id"))
            for other in notes[1:]:
                self.diagnostics.append(Diagnostic(
                    other.rel, other.fm_line("id"), 1, "error",
                    f'duplicate id "{nid}" (also in {notes[0].rel}): give this note a new unique id', "duplicate-id"))

    def check_case_clashes(self) -> None:
        """Two notes whose names differ only in case are one name to Dendron (and to a
        case-insensitive file system): the first in file-name order is built, the other is not."""
        notes = self.graph.vault.notes
        for kept, dropped in self.graph.hierarchy.clashes:
            note, first = notes[dropped], notes[kept]
            self._diag(note, 1, 1, f'"{dropped}" and "{kept}" differ only in case, which Dendron does not tell apart '
                       f"({first.rel} is built, this note is not): rename one of them", "case-clash")

    def check(self, note: Note) -> None:
        # The hottest loop of `kb check` (a big vault has 10+ links per note): locals, no calls per
        # link. Positions are looked up only for a problem (a note from the cache is read then).
        fname = note.fname
        resolve = self.graph.resolver.resolve_text
        known = self.graph.resolver.absolute_targets(suggest=True)
        reported: set[tuple[str, str]] = set()
        for kind, value in note.refs:
            if kind == "link":
                t = known.get(value) or resolve(value, fname, True)
                if t.error:
                    self._diag_each(note, kind, value, t.error, t.code, reported)
            elif kind == "embed":
                prob = self._embed_problem(note, value)
                if prob:
                    self._diag_each(note, kind, value, prob[0], prob[1], reported)
            elif kind == "fmvar" and (kind, value) not in reported and not fm_lookup(note.fm, value)[0]:
                reported.add((kind, value))
                for line, col in _places(note, kind, value):
                    log.info("%s:%d:%d: frontmatter has no key %r for {{fm.%s}}", note.rel, line, col, value, value)
        for ref in note_media(note):
            self._check_media(note, ref)

    def _embed_problem(self, note: Note, inner: str) -> list | None:
        """[message, code] of what is wrong with an embed in `note`, or None."""
        found = self._embed_problems.get(note.fname)
        if found is None:
            expander = self.graph.expander

            def probe() -> dict[str, list | None]:
                out = {}
                for kind, value in note.refs:
                    if kind == "embed" and value not in out:
                        p = expander.problem(value, note.fname)
                        out[value] = [p.message, p.code] if p else None
                return out
            found = self._embed_problems[note.fname] = self.graph.derived("embeds", note.fname, probe)
        return found.get(inner)

    def _check_media(self, note: Note, ref: MediaRef) -> None:
        """An image or file the note points at must be in the vault (MkDocs copies it to the site)."""
        found = self._media_found.get(ref.path)
        if found is None:
            found = self._media_found[ref.path] = (self.notes_dir / ref.path).is_file()
        if not found:
            line, col = note.file_pos(ref.line, ref.col)
            where = (self.notes_dir / ref.path).relative_to(self.root).as_posix() \
                if self.notes_dir.is_relative_to(self.root) else str(self.notes_dir / ref.path)
            self._diag(note, line, col, f'{"image" if ref.image else "file"} "{ref.url}": no file {where}; '
                       "add the file or correct the path", "missing-asset", "warning")

    def _diag_each(self, note: Note, kind: str, value: str, message: str, code: str,
                   reported: set[tuple[str, str]]) -> None:
        """One problem at every place the note has this token (once per note: refs repeat)."""
        if (kind, value) not in reported:
            reported.add((kind, value))
            for line, col in _places(note, kind, value):
                self._diag(note, line, col, message, code)

    def _diag(self, note: Note, line: int, col: int, message: str, code: str, severity: str = "error") -> None:
        self.diagnostics.append(Diagnostic(note.rel, line, col, severity, message, code))  # type: ignore[arg-type]


def _places(note: Note, kind: str, value: str) -> list[tuple[int, int]]:
    """1-based (line, col) in the file of each token of this kind and value; the body's first
    line if the text no longer has one (a file changed under a cached summary): a problem is
    never dropped."""
    first = note.body_line + 1
    places = note.__dict__.get("_kb_places")
    if places is None:      # every token's place, grouped once: a scan per problem was quadratic
        places = note.__dict__["_kb_places"] = {}
        for t in note.tokens:
            places.setdefault((t.kind, t.value), []).append((first + t.line, t.col + 1))
    return places.get((kind, value)) or [(first, 1)]
