"""One build's stages wired: vault + data -> the Markdown of every page, the link graph, the diagnostics.

Knows nothing of MkDocs. `Site` wires the passes, each over every note once, for the MkDocs
adapter, `kb check` and `kb serve`:
  1. prepare  (kb.render.prepare)   {{fm.*}} replaced, data blocks drawn (once) and left as placeholders
  2. expand   (kb.link.linkgraph) embeds inlined; the final headings of every page are known
  3. check    (kb.check.notecheck) every link, embed and block of every note resolved against the
              pages; diagnostics at the note's own lines; (kb.link.linkgraph) backlinks collected
  4. render   (kb.render.pages)     what authors wrote: links rewritten to Markdown links MkDocs
              validates; what the hierarchy makes (breadcrumbs, children, backlinks, stub
              pages): HTML, as its links all point at pages that exist
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .check.notecheck import NoteChecker
from .link.hierarchy import Hierarchy
from .link.linkgraph import LinkGraph
from .parse.diagnostics import Diagnostic
from .parse.notecache import NoteCache
from .parse.vault import Vault
from .render.pages import Page, PageRenderer
from .render.prepare import Preparer

if TYPE_CHECKING:
    from .check.datacheck import DataCheck


class Site:
    """Everything a build or `kb check` needs, computed once per build."""

    def __init__(self, project_root: Path, notes_dir: str | Path = "notes", data_dir: str | Path = "data",
                 *, render_pages: bool = True, note_cache: NoteCache | None = None, jobs: int = 1,
                 vault: Vault | None = None, data_check: DataCheck | None = None):
        """`render_pages=False` checks only (`kb check`): data blocks are validated by
        `data_check`, not drawn, and `note_cache` keeps what embeds produce between runs."""
        self.root = Path(project_root).resolve()
        self.notes_dir = (self.root / notes_dir).resolve()
        self.data_dir = (self.root / data_dir).resolve()
        self.vault = vault if vault is not None else Vault(self.notes_dir, self.root, note_cache, jobs)
        self.render_pages = render_pages
        if not render_pages and data_check is None:
            from .check.datacheck import DataCheck    # only a check forks for the data (see kb.check.datacheck)
            data_check = DataCheck(self.data_dir, self.root, list(self.vault.notes), note_cache)
        self.data_check = data_check if not render_pages else None
        self.diagnostics: list[Diagnostic] = []

        self.graph = graph = LinkGraph(self.vault, note_cache if not render_pages else None)
        self.prep = prep = Preparer(self.data_dir, self.root, self.vault, self.data_check)
        if prep.data is not None:
            self.diagnostics.extend(prep.data.diagnostics())
        self.checker = checker = NoteChecker(graph, self.notes_dir, self.root)
        self.renderer = PageRenderer(graph, prep)

        for note in self.vault.notes.values():
            self.diagnostics.extend(note.problems)
        checker.check_ids()
        checker.check_case_clashes()
        self.diagnostics.extend(checker.take())
        # Prepared notes are needed by every pass; expanded pages and their anchors only
        # where something asks (a check touches few pages, a build all of them).
        published = self.vault.published
        for fname, note in published.items():
            graph.set_prepared(fname, prep.doc(note), prep.linked)
        self.diagnostics.extend(prep.diagnostics)
        if self.data_check is not None:
            self.data_check.send()      # every block is known: its checks go on beside the link checks
        for note in published.values():
            if render_pages:            # backlinks are lists on pages: only a build needs them
                graph.link(note)
            checker.check(note)
        self.diagnostics.extend(checker.take())
        if self.data_check is not None:
            self.diagnostics.extend(self.data_check.diagnostics())
        if render_pages:
            self.renderer.render_all()

    # -- what the adapter, kb check and kb serve read --------------------------------------
    @property
    def hierarchy(self) -> Hierarchy:
        return self.graph.hierarchy

    @property
    def pages(self) -> dict[str, Page]:
        return self.renderer.pages

    @property
    def data(self) -> Any:
        """The DataContext of a build (None without the data engine, or for a check)."""
        return self.prep.data

    def finish_html(self, fname: str, content: str) -> str:
        return self.renderer.finish_html(fname, content)

    def furnish(self, fname: str, content: str) -> str:
        return self.renderer.furnish(fname, content)

    def ids(self) -> dict[str, str]:
        return self.graph.ids()
