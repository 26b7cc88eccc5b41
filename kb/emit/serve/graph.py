"""The pages a save reaches, and the built Site brought up to date after it.

Knows nothing of MkDocs. A `Site` (kb.site) is built once, by the first full build; after
that `LiveGraph.apply` changes it in place for the notes and data files that changed and
returns the pages whose output may differ. What each page depends on is the link graph's
(kb.link.linkgraph); here it is indexed the other way round, from what changed to the pages:

  links_to     name key -> pages whose links or embeds name it (broken ones too: a new note
               mends them), so a new title, heading or existence reaches the pages that show it
  readers      name key -> pages whose embeds read that note (nested embeds included), or
               "*" + key for a wildcard embed that read its children
  csv_readers  CSV path -> notes whose data blocks read it

The pages it returns are candidates: each is rendered again by the Site and compared with
what it was (its Markdown, furniture, sidebar, title), so a candidate set too large costs time
but never correctness; one too small would be a bug, which tests/test_serve_incremental.py
looks for by comparing with clean builds.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

from ...link.hierarchy import Hierarchy, parent_of
from ...link.linkgraph import LinkGraph, id_is_segment
from ...parse.names import name_key
from ...parse.vault import QUESTIONS_KIND, Note, fname_of, load_note
from ...render.localnav import local_nav
from ...render.pages import Page
from ...site import Site


@dataclass
class Changes:
    """What one update did to the site's pages (fnames)."""
    rerender: set[str] = field(default_factory=set)     # pages to render and write again
    added: set[str] = field(default_factory=set)        # new pages (also in rerender)
    removed: set[str] = field(default_factory=set)      # pages gone (their files to delete)
    kind_changed: set[str] = field(default_factory=set)  # a stub became a note or back: a new File
    patch: dict[str, list[tuple[str, str]]] = field(default_factory=dict)   # pages whose body is the
    # same and only their furniture differs (breadcrumbs, lists, sidebar): (old, new) strings of their HTML
    nav_changed: bool = False                           # the hierarchy was rebuilt: prev/next, 404, sitemap
    ids_changed: bool = False                           # /notes/<id>/ redirects to write again
    redirects: dict[str, str | None] = field(default_factory=dict)     # those ids: their note now (None: gone)
    retitled: set[str] = field(default_factory=set)     # pages whose title changed (footers beside them show it)
    notes: list[Note] = field(default_factory=list)     # the notes read again (their problems to report)


def _card(n: Note | None) -> tuple | None:
    """What other pages show of a note: its name in lists, links, breadcrumbs and sidebars."""
    if n is None:
        return None
    return (n.published, n.title, n.nav_order, n.nav_exclude, n.id)


def _id_card(n: Note | None) -> tuple | None:
    """What the /notes/<id>/ redirects read of a note."""
    return None if n is None else (n.id, n.published)


def _published(n: Note | None) -> Note | None:
    return n if n is not None and n.published else None


def _redirect_of(vault: Any, nid: str) -> str | None:
    """The note /notes/<id>/ leads to (as Site.ids has it), None for none."""
    notes = vault.by_id.get(nid)
    return notes[0].fname if notes and notes[0].published and id_is_segment(nid) else None


def _tag_facts(n: Note | None) -> tuple:
    if n is None:
        return ()
    return (tuple(n.tags), tuple(v for k, v in n.refs if k in ("tag", "user")))


class LiveGraph:
    """A built Site, the pages that depend on each note or CSV, and updates of both after saves."""

    def __init__(self, site: Site, sidebar: dict[str, str] | None = None, site_name: str = ""):
        self.site = site
        self.graph = site.graph
        self.site_name = site_name      # the sidebar lists a home page of this title as "Home"
        self.links_to: dict[str, set[str]] = {}
        self.names_of: dict[str, set[str]] = {}
        self.readers: dict[str, set[str]] = {}
        self.reads_of: dict[str, set[str]] = {}
        self.csv_readers: dict[str, set[str]] = {}
        self.csvs_of: dict[str, set[str]] = {}
        self.wildcards: set[str] = set()    # pages with a wildcard embed (they list children)
        self.questions = {f for f, n in site.vault.notes.items() if _has_questions(n)}
        # Each table block text as last drawn (kb.data.render keeps them per DataContext): a data
        # save compares the tables drawn again with these.
        self._tables: dict[tuple, Any] = dict(getattr(site.prep.data, "drawn", None) or {})
        # The search index's names from data tables: per table text the (note, cell value) pairs
        # links.yml linked as it was last drawn, per page those of its tables, and per note the
        # values linked to it with the number of pages that show each (a clean build's names
        # are the values every page's tables link; a CSV save draws only the tables that read it).
        self._cells: dict[tuple[str, str], set[tuple[str, str]]] = dict(getattr(site.prep.data, "cells", None) or {})
        self.cells_of: dict[str, frozenset[tuple[str, str]]] = {}
        self.linked_values: dict[str, dict[str, int]] = {}
        for fname in self.graph.prepared:   # the build expanded every page, recording what it read
            self._index_reads(fname)
            self._index_links(fname)
            self._index_csvs(fname, True)
            self._index_cells(fname)
        self.sidebar: dict[str, str] = sidebar if sidebar is not None else {}

    # -- the dependency map, the other way round ----------------------------------------------
    def _expand(self, fname: str) -> None:
        """Expand a page's embeds again (the link graph records every note and children list
        they read)."""
        self.graph.forget(fname)
        self.graph.expanded(fname)
        self._index_reads(fname)

    def _index_reads(self, fname: str) -> None:
        for key in self.reads_of.pop(fname, ()):
            self.readers.get(key, set()).discard(fname)
        reads = self.graph.reads_of.get(fname)
        keys = reads.keys() - {name_key(fname)} if reads is not None else set()
        self.reads_of[fname] = keys
        if any(k.startswith("*") for k in keys):
            self.wildcards.add(fname)
        else:
            self.wildcards.discard(fname)
        for key in keys:
            self.readers.setdefault(key, set()).add(fname)

    def _index_links(self, fname: str) -> None:
        for key in self.names_of.pop(fname, ()):
            self.links_to.get(key, set()).discard(fname)
        keys = self.graph.names_linked(fname)
        if keys or fname in self.graph.prepared:
            self.names_of[fname] = keys
        for key in keys:
            self.links_to.setdefault(key, set()).add(fname)

    def _index_csvs(self, fname: str, published: bool) -> None:
        for rel in self.csvs_of.pop(fname, ()):
            self.csv_readers.get(rel, set()).discard(fname)
        note = self.graph.vault.notes.get(fname)
        if not published or note is None or not note.data_fences:
            return
        rels = self.graph.csvs_read(fname)
        self.csvs_of[fname] = rels
        for rel in rels:
            self.csv_readers.setdefault(rel, set()).add(fname)

    def _index_cells(self, fname: str) -> None:
        """The values a page's tables link, counted under each note they link to."""
        note = self.graph.vault.notes.get(fname)
        new: frozenset[tuple[str, str]] = frozenset()
        if fname in self.graph.prepared and note is not None and note.data_fences:
            new = frozenset().union(*(self._cells.get((f.info.split(" ")[0], f.body), ()) for f in note.data_fences))
        old = self.cells_of.pop(fname, frozenset())
        if new:
            self.cells_of[fname] = new
        for target, value in old - new:
            counts = self.linked_values[target]
            counts[value] -= 1
            if not counts[value]:
                del counts[value]
                if not counts:
                    del self.linked_values[target]
        for target, value in new - old:
            counts = self.linked_values.setdefault(target, {})
            counts[value] = counts.get(value, 0) + 1

    def _linking(self, names: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for n in names:
            out |= self.links_to.get(name_key(n), set())
        return out

    # -- an update ----------------------------------------------------------------------
    def apply(self, note_paths: Iterable[Path], data_rels: Iterable[str]) -> Changes:
        """Bring the Site up to date with these note files (changed, new or deleted) and data
        files (paths inside data/: CSVs, links.yml, schema.yml)."""
        site, g, vault = self.site, self.graph, self.site.vault
        ch = Changes()
        # 1. Read the notes again (a file that is not there any more is a deleted note).
        new_notes: dict[str, Note | None] = {}
        prefix = _rel_prefix(vault.dir, vault.root)
        for path in note_paths:
            fname = fname_of(path)
            note = load_note(path, prefix + path.name) if path.is_file() else None
            old = vault.notes.get(fname)
            if note is old:
                continue        # the same content (load_note keeps the parse of unchanged bytes)
            new_notes[fname] = note
            if note is not None:
                ch.notes.append(note)
        data_rels = {PurePosixPath(r).as_posix() for r in data_rels}
        if not new_notes and not data_rels:
            return ch
        old_notes = {f: vault.notes.get(f) for f in new_notes}
        old_h = site.hierarchy
        old_pages = dict(site.pages)
        ids = {n.id for n in [*old_notes.values(), *new_notes.values()] if n is not None and n.id} \
            if any(_id_card(old_notes[f]) != _id_card(n) for f, n in new_notes.items()) else set()
        old_ids = {nid: _redirect_of(vault, nid) for nid in ids}

        # Which notes' data blocks are drawn again.
        redraw: set[str] = set()
        links_text = _read_text(site.data_dir / "links.yml")
        whole_data = any(r in ("links.yml", "schema.yml") for r in data_rels) or any(
            (old_notes[f] is None) != (new_notes[f] is None) and f in links_text for f in new_notes)
        if whole_data:
            redraw = set(self.csvs_of)
        for rel in data_rels:
            redraw |= self.csv_readers.get(rel, set())
        read_again = set(redraw)    # each drawn now or known to be the same: their cells are this drawing's
        drawn: dict[str, tuple[Any, set[str]]] = {}
        if redraw and not new_notes:    # a data save: the notes whose blocks come out the same left alone
            site.prep.data = site.prep.data_context()
            redraw, drawn = self._redrawn(redraw)

        # 2. Pages whose expansion read a changed note: their anchors before the change.
        touched = {name_key(f) for f in new_notes}
        expand_again = {f for f in set(new_notes) | redraw if f in g.prepared}
        for key in touched | {name_key(f) for f in redraw}:
            expand_again |= self.readers.get(key, set())
        wildcard = {f for f in self.wildcards if f in self.reads_of}
        old_anchors = {f: _anchor_sig(g, f) for f in expand_again | wildcard if f in g.prepared}

        # 3. The vault, tags and the hierarchy.
        for fname, note in new_notes.items():
            old = old_notes[fname]
            if old is not None and old.id:
                same = vault.by_id.get(old.id, [])
                same[:] = [n for n in same if n is not old]
                if not same:
                    vault.by_id.pop(old.id, None)
            if note is None:
                vault.notes.pop(fname, None)
            else:
                vault.notes[fname] = note
        if any(old_notes[f] is None for f in new_notes):     # name order, as a full build reads them
            vault.notes = dict(sorted(vault.notes.items(), key=lambda kv: kv[0] + ".md"))
        for fname, note in new_notes.items():      # each id's notes in name order, as a build lists them
            if note is not None and note.id:
                vault.by_id.setdefault(note.id, []).append(note)
                vault.by_id[note.id].sort(key=lambda n: n.fname + ".md")
        tags_changed = any(_tag_facts(_published(old_notes[f])) != _tag_facts(_published(n)) for f, n in new_notes.items())
        if tags_changed:
            g.retag()
        rebuild = tags_changed or any(_card(old_notes[f]) != _card(n) for f, n in new_notes.items())
        touched: set[str] | None = set()    # pages the hierarchy's update made again (None: all)
        if rebuild:     # the pages that differ made again, or all of them where that is not simple
            updated = g.hierarchy.updated({f: n for f, n in new_notes.items() if _published(n) is not None},
                                          g.tagged, g.mentions, new_notes)
            if updated is None:
                g.rebuild()
                touched = None
            else:
                g.hierarchy = updated
                touched = updated.touched
            ch.nav_changed = True
        else:
            for fname, note in new_notes.items():
                page = site.hierarchy.pages.get(fname)
                if page is not None and note is not None:
                    page.note = note
        h = g.hierarchy
        g.relink()      # the resolver's memo holds titles and anchors
        if (whole_data or data_rels) and new_notes:
            site.prep.data = site.prep.data_context()

        # Pages that came or went, or changed kind (a stub that became a note).
        if touched is None:
            ch.added = set(h.pages) - set(old_h.pages)
            ch.removed = set(old_h.pages) - set(h.pages)
            touched = set(h.pages) & set(old_h.pages)
        else:
            ch.added = {f for f in touched if f in h.pages and f not in old_h.pages}
            ch.removed = {f for f in touched if f in old_h.pages and f not in h.pages}
        ch.kind_changed = {f for f in touched if f in h.pages and f in old_h.pages and h.pages[f].kind != old_h.pages[f].kind}
        for f in ch.removed:
            site.pages.pop(f, None)
            self.sidebar.pop(f, None)

        # 4. Prepare again: {{fm.*}} and data blocks of changed notes and of notes whose CSVs changed.
        candidates: set[str] = set(ch.added) | ch.kind_changed
        prepare = {f for f in set(new_notes) | redraw if _published(vault.notes.get(f)) is not None}
        for fname in set(new_notes) | redraw:
            # The blocks its own text drew (its page's list holds those of the notes it embeds too,
            # which stay theirs).
            old_doc, old_note = g.prepared.get(fname), old_notes[fname] if fname in old_notes else vault.notes.get(fname)
            if old_doc is not None and old_note is not None and old_note.data_fences:
                for key in _BLOCK_KEY_RE.findall(old_doc.text):
                    site.prep.blocks.pop(key, None)
            candidates |= g.unprepare(fname)
        for fname in sorted(prepare):
            doc, linked = drawn[fname] if fname in drawn else (site.prep.doc(vault.notes[fname]), site.prep.linked)
            g.set_prepared(fname, doc, linked)
            candidates |= linked
            self._index_csvs(fname, True)
        for fname in new_notes:
            if fname not in prepare:
                self._index_csvs(fname, False)
        self._tables.update(getattr(site.prep.data, "drawn", None) or {})    # the tables as drawn now
        self._cells.update(getattr(site.prep.data, "cells", None) or {})
        for fname in read_again | set(new_notes):
            self._index_cells(fname)

        # 5. Expand again; a page whose headings or block ids changed is news to pages linking to it.
        if rebuild:
            expand_again |= wildcard
        for key in {name_key(f) for f in ch.added | ch.removed}:
            expand_again |= self.readers.get(key, set())
        expand_again = {f for f in expand_again | prepare if f in g.prepared}     # new notes are prepared only now
        for fname in expand_again | set(new_notes) | redraw:
            g.forget(fname)
        for fname in sorted(expand_again):
            self._expand(fname)
        for fname in sorted(expand_again | set(new_notes)):
            self._index_links(fname)
        for fname in [f for f in new_notes if f not in g.prepared]:   # deleted or unpublished
            for key in self.reads_of.pop(fname, ()):
                self.readers.get(key, set()).discard(fname)
            self.wildcards.discard(fname)
        anchors_changed = {f for f in old_anchors if _anchor_sig(g, f) != old_anchors[f]}
        candidates |= expand_again | prepare

        # 6. Link again (backlinks) the notes whose links may resolve differently now.
        carded = {f for f, n in new_notes.items() if _card(old_notes[f]) != _card(n)}
        news = carded | anchors_changed | ch.added | ch.removed | ch.kind_changed
        relink = set(new_notes) | self._linking(news)
        for fname in sorted(relink):
            candidates |= g.unlink(fname)
            note = vault.notes.get(fname)
            if note is not None and fname in g.prepared:
                candidates |= g.link(note)
        candidates |= relink | self._linking(news)

        # 7. Lists that show a changed note: tag pages, its parent's children, breadcrumbs and
        # sidebars below each page whose list of children looks different now.
        for fname in new_notes:
            for n in (old_notes[fname], new_notes[fname]):
                if n is None:
                    continue
                for t in n.tags:
                    candidates.add("tags." + t)
                for kind, value in n.refs:
                    if kind in ("tag", "user"):
                        candidates.add(("tags." if kind == "tag" else "user.") + value)
            parent = parent_of(fname)
            if parent is not None:
                candidates.add(h.canon(parent))
        around: set[str] = set()    # pages below a list or title that changed: their sidebars, breadcrumbs
        if rebuild:
            for root in self._changed_lists(old_h, h, set(new_notes) | ch.added | ch.removed | ch.kind_changed):
                candidates.add(root)
                around |= _subtree(h, root)
        for fname, note in new_notes.items():
            if note is not None and _has_questions(note):
                self.questions.add(fname)
            else:
                self.questions.discard(fname)
        candidates |= self.questions
        candidates = {h.canon(f) for f in candidates}
        around -= candidates

        # 8. Render the candidates; keep those whose output differs. A note below a changed list
        # or title whose own text, title and lists are the same gets its breadcrumbs made again.
        for fname in sorted(candidates | around):
            page = h.pages.get(fname)
            if page is None:
                continue
            old_page = old_pages.get(fname)
            if old_h.pages.get(fname) is not None and old_h.pages[fname].title != page.title:
                ch.retitled.add(fname)
            if fname in around and old_page is not None and _furniture_only(old_h, h, fname):
                new_page = dataclasses.replace(old_page, before=site.renderer._breadcrumbs(fname))
            else:
                new_page = site.renderer.render(fname)
            site.pages[fname] = new_page
            nav = local_nav(h, fname, self.site_name)
            old_nav = self.sidebar.get(fname)
            if (fname in ch.added or fname in ch.kind_changed or old_page is None or old_nav is None
                    or not _same_body(old_page, new_page)
                    or old_h.pages.get(fname) is None or old_h.pages[fname].title != page.title
                    or fname in new_notes):
                ch.rerender.add(fname)
            else:   # the same body and title: only what sits around it may differ, patched in place
                pairs = [(a, b) for a, b in ((old_page.before, new_page.before), (old_page.after, new_page.after),
                                             (old_nav, nav)) if a != b]
                if pairs:
                    ch.patch[fname] = pairs
            self.sidebar[fname] = nav
        ch.redirects = {nid: now for nid in ids if (now := _redirect_of(vault, nid)) != old_ids[nid]}
        ch.ids_changed = bool(ch.redirects)
        return ch

    def _redrawn(self, redraw: set[str]) -> tuple[set[str], dict[str, tuple[Any, set[str]]]]:
        """The notes among `redraw` whose data blocks (drawn again here, with the data as it is
        now) differ from before, and what they were prepared to. A note whose blocks all come
        out the same (a changed CSV row that none of them shows) keeps its prepared text and its
        blocks: its page is the same."""
        g, prep = self.graph, self.site.prep
        changed: set[str] = set()
        drawn: dict[str, tuple[Any, set[str]]] = {}
        tables = getattr(prep.data, "drawn", None)      # (kind, text, download) -> a table drawn now
        same: dict[tuple, bool] = {}    # block texts drawn now as before

        def known_same(key: tuple) -> bool:
            if key not in same and tables is not None and key in tables:
                same[key] = self._tables.get(key) == tables[key]
            return same.get(key, False)

        for fname in sorted(redraw):
            old, note = g.prepared.get(fname), g.vault.notes.get(fname)
            if old is None or note is None:
                changed.add(fname)
                continue
            # Tables alone, each text drawn the same as before on another page: the same page,
            # without drawing it (a table's HTML is the same on every page; see kb.data.render).
            fences = [(f.info.split(" ")[0], f.body) for f in note.data_fences]
            if fences and all(k == QUESTIONS_KIND or (k == "table" and known_same((k, b, None))) for k, b in fences):
                continue
            doc = prep.doc(note)
            linked = set(prep.linked)
            if linked == g.data_links_of.get(fname, set()) and _same_blocks(prep.blocks, old.text, doc.text):
                for key in _BLOCK_KEY_RE.findall(doc.text):
                    prep.blocks.pop(key, None)
            else:
                changed.add(fname)
                drawn[fname] = (doc, linked)
        return changed, drawn

    def _changed_lists(self, old: Hierarchy, new: Hierarchy, names: set[str]) -> set[str]:
        """Pages whose shown children (names, titles, order, in_nav) differ, among the ancestors
        of the changed names; and a retitled page (its subtree's breadcrumbs show it)."""
        roots: set[str] = set()
        for fname in names:
            chain, f = [fname], fname
            while (f := parent_of(f)) is not None:
                chain.append(f)
            for a in chain:
                o, n = old.find(a), new.find(a)
                po, pn = old.pages.get(o) if o else None, new.pages.get(n) if n else None
                if pn is not None and (_shown(old, po) != _shown(new, pn)
                                       or (po is not None and po.title != pn.title)):
                    roots.add(pn.fname)     # (a page gone: its parent's list changed, next in the chain)
        return roots


def _shown(h: Hierarchy, page: Any) -> tuple | None:
    if page is None:
        return None
    return tuple((c, h.pages[c].title, h.pages[c].in_nav) for c in page.children)


def _furniture_only(old: Hierarchy, new: Hierarchy, fname: str) -> bool:
    """A note page that nothing changed but pages above it or beside them: the same note, kind,
    title and list of children (names, titles, order), no link in its desc (rendered with the
    title it names)."""
    po, pn = old.pages.get(fname), new.pages.get(fname)
    return (po is not None and pn is not None and pn.kind == po.kind == "note" and pn.note is po.note
            and pn.title == po.title and "[[" not in (pn.note.desc or "")
            and fname.split(".", 1)[0] not in ("tags", "user") and _shown(old, po) == _shown(new, pn))


def _subtree(h: Hierarchy, root: str) -> set[str]:
    return {p.fname for p in h.walk(root)} if root in h.pages else set()


def _same_body(a: Page, b: Page) -> bool:
    """The same page but for its furniture (breadcrumbs before, lists after): the same Markdown,
    HTML, blocks and sections (the headings the table of contents gets from the furniture)."""
    return (a.markdown, a.html, a.sections, [(x.html, x.downloads) for x in a.blocks]) == \
           (b.markdown, b.html, b.sections, [(x.html, x.downloads) for x in b.blocks]) \
        or _without_keys(a) == _without_keys(b)


def _without_keys(p: Page) -> tuple:
    """A page's body with its blocks' placeholder keys (numbered per drawing) set aside."""
    md = p.markdown
    for i, b in enumerate(p.blocks):
        md = md.replace(b.key, f"\0block{i}\0")
    return (md, p.html, p.sections, [(x.html, x.downloads) for x in p.blocks])


def _anchor_sig(g: LinkGraph, fname: str) -> tuple | None:
    if fname not in g.prepared:
        return None
    idx = g.anchors(fname)
    if idx is None:
        return None
    return (tuple((h.slug, h.text) for h in idx.headings), frozenset(idx.blocks))


_BLOCK_KEY_RE = re.compile(r"kbblock\d+x")


def _same_blocks(blocks: dict[str, Any], old: str, new: str) -> bool:
    """Two preparations of a note the same but for their blocks' placeholder keys (numbered per
    drawing), their blocks drawn the same."""
    a, b = _BLOCK_KEY_RE.findall(old), _BLOCK_KEY_RE.findall(new)
    if len(a) != len(b) or len(set(a)) != len(a):
        return False
    for x, y in zip(a, b):
        bx, by = blocks.get(x), blocks.get(y)
        if bx is None or by is None or (bx.html, bx.downloads) != (by.html, by.downloads):
            return False
    keys = dict(zip(a, b))
    return _BLOCK_KEY_RE.sub(lambda m: keys[m[0]], old) == new


def _has_questions(note: Note) -> bool:
    return note.published and any(f.info.split(" ")[0] == QUESTIONS_KIND for f in note.data_fences)


def _rel_prefix(notes_dir: Path, root: Path) -> str:
    try:
        return notes_dir.relative_to(root).as_posix() + "/"
    except ValueError:
        return notes_dir.as_posix() + "/"


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
