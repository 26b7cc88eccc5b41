"""What each page of a built Site read, and the Site brought up to date after saves.

Knows nothing of MkDocs. A `Site` (kb.compile) is built once, by the first full build; after
that `LiveGraph.apply` changes it in place for the notes and data files that changed and
returns the pages whose output may differ. Its dependency map:

  links_to     name key -> pages whose links or embeds name it (broken ones too: a new note
               mends them), so a new title, heading or existence reaches the pages that show it
  readers      name key -> pages whose embeds read that note (nested embeds included), or
               "*" + key for a wildcard embed that read its children
  csv_readers  CSV path -> notes whose data blocks read it
  backlinks_of / data_links_of   what each note added to the Site's backlinks and "In the data"

The pages it returns are candidates: each is rendered again by the Site and compared with
what it was (its Markdown, furniture, sidebar, title), so a candidate set too large costs time
but never correctness; one too small would be a bug, which tests/test_serve_incremental.py
looks for by comparing with clean builds.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

from ..compile import Page, Site
from ..embeds import Expander
from ..hierarchy import Hierarchy, parent_of
from ..localnav import local_nav
from ..names import name_key
from ..refs import parse_ref
from ..resolve import Resolver
from ..syntax import scan
from ..vault import QUESTIONS_KIND, Note, fname_of, load_note


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
    notes: list[Note] = field(default_factory=list)     # the notes read again (their problems to report)


def _card(n: Note | None) -> tuple | None:
    """What other pages show of a note: its name in lists, links, breadcrumbs and sidebars."""
    if n is None:
        return None
    return (n.published, n.title, n.nav_order, n.nav_exclude, n.id)


def _tag_facts(n: Note | None) -> tuple:
    if n is None:
        return ()
    return (tuple(n.tags), tuple(v for k, v in n.refs if k in ("tag", "user")))


def _names(value: str) -> set[str]:
    """Keys of the notes a link's inner text may mean: `[[x|y]]` is y, or x where only x exists
    (Obsidian's order), so both are kept."""
    out = set()
    right = parse_ref(value).fname
    if right:
        out.add(name_key(right))
    if "|" in value:
        left = parse_ref(value, lambda n: n != right).fname
        if left:
            out.add(name_key(left))
    return out


class LiveGraph:
    """A built Site, its dependency map, and updates of both after saves."""

    def __init__(self, site: Site, sidebar: dict[str, str] | None = None, site_name: str = ""):
        self.site = site
        self.site_name = site_name      # the sidebar lists a home page of this title as "Home"
        self.links_to: dict[str, set[str]] = {}
        self.names_of: dict[str, set[str]] = {}
        self.readers: dict[str, set[str]] = {}
        self.reads_of: dict[str, set[str]] = {}
        self.csv_readers: dict[str, set[str]] = {}
        self.csvs_of: dict[str, set[str]] = {}
        self.backlinks_of: dict[str, set[str]] = {}
        self.data_links_of: dict[str, set[str]] = {}
        self._recording: set[str] | None = None
        self._install_expander()
        # Pages with embeds expanded again, recording what they read (the first build did not).
        for fname in site.prepared:
            if site.vault.notes[fname].has_embed_syntax:
                site._expanded.pop(fname, None)
                self._expand(fname)
        for fname, note in site.vault.notes.items():
            if fname in site.prepared:
                self._index_links(fname, note)
                self._index_csvs(fname, note)
        for target, sources in site.backlinks.items():
            for s in sources:
                self.backlinks_of.setdefault(s, set()).add(target)
        for target, sources in site.data_pages.items():
            for s in sources:
                self.data_links_of.setdefault(s, set()).add(target)
        self.sidebar: dict[str, str] = sidebar if sidebar is not None else {}

    # -- the dependency map -------------------------------------------------------------
    def _install_expander(self) -> None:
        site = self.site
        site.expander = Expander(self._source, self._children, site.resolver.parse, site.hierarchy.canon)

    def _source(self, fname: str):
        if self._recording is not None:
            self._recording.add(name_key(fname))
        return self.site._source(fname)

    def _children(self, fname: str) -> list[str]:
        if self._recording is not None:
            self._recording.add("*" + name_key(fname))
        return self.site._children(fname)

    def _expand(self, fname: str) -> None:
        """Expand a page's embeds now, recording every note (and children list) they read."""
        for key in self.reads_of.pop(fname, ()):
            self.readers.get(key, set()).discard(fname)
        self._recording = reads = set()
        try:
            self.site.expanded(fname)
        finally:
            self._recording = None
        reads.discard(name_key(fname))
        self.reads_of[fname] = reads
        for key in reads:
            self.readers.setdefault(key, set()).add(fname)

    def _index_links(self, fname: str, note: Note | None) -> None:
        for key in self.names_of.pop(fname, ()):
            self.links_to.get(key, set()).discard(fname)
        if note is None or fname not in self.site.prepared:
            return
        keys: set[str] = set()
        for kind, value in note.refs:
            if kind in ("link", "embed"):
                keys |= _names(value)
        if note.has_embed_syntax:   # the links of embedded text are rendered on this page too
            for tok in scan(self.site.expanded(fname).text, ("link", "embed")):
                keys |= _names(tok.value)
        keys.discard(name_key(fname))
        self.names_of[fname] = keys
        for key in keys:
            self.links_to.setdefault(key, set()).add(fname)

    def _index_csvs(self, fname: str, note: Note | None) -> None:
        for rel in self.csvs_of.pop(fname, ()):
            self.csv_readers.get(rel, set()).discard(fname)
        if note is None or not note.data_fences:
            return
        rels = set()
        for fence in note.data_fences:
            rels |= _block_sources(fence.body)
        self.csvs_of[fname] = rels
        for rel in rels:
            self.csv_readers.setdefault(rel, set()).add(fname)

    def _linking(self, names: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for n in names:
            out |= self.links_to.get(name_key(n), set())
        return out

    # -- an update ----------------------------------------------------------------------
    def apply(self, note_paths: Iterable[Path], data_rels: Iterable[str]) -> Changes:
        """Bring the Site up to date with these note files (changed, new or deleted) and data
        files (paths inside data/: CSVs, links.yml, schema.yml)."""
        site, vault = self.site, self.site.vault
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
        old_ids = site.ids()

        # Which notes' data blocks are drawn again.
        redraw: set[str] = set()
        links_text = _read_text(site.data_dir / "links.yml")
        whole_data = any(r in ("links.yml", "schema.yml") for r in data_rels) or any(
            (old_notes[f] is None) != (new_notes[f] is None) and f in links_text for f in new_notes)
        if whole_data:
            redraw = set(self.csvs_of)
        for rel in data_rels:
            redraw |= self.csv_readers.get(rel, set())

        # 2. Pages whose expansion read a changed note: their anchors before the change.
        touched = {name_key(f) for f in new_notes}
        expand_again = {f for f in new_notes if f in site.prepared} | (redraw & set(site.prepared))
        for key in touched | {name_key(f) for f in redraw}:
            expand_again |= self.readers.get(key, set())
        wildcard = {f for f, reads in self.reads_of.items() if any(k.startswith("*") for k in reads)}
        old_anchors = {f: _anchor_sig(site, f) for f in expand_again | wildcard if f in site.prepared}

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
        if any(_card(old_notes[f]) != _card(n) for f, n in new_notes.items()):
            vault.by_id.clear()
            for note in vault.notes.values():
                if note.id:
                    vault.by_id.setdefault(note.id, []).append(note)
        else:
            for fname, note in new_notes.items():
                if note is not None and note.id:
                    vault.by_id.setdefault(note.id, []).append(note)
                    vault.by_id[note.id].sort(key=lambda n: n.fname + ".md")
        published = vault.published
        tags_changed = any(_tag_facts(old_notes[f]) != _tag_facts(n) or _card(old_notes[f]) != _card(n)
                           for f, n in new_notes.items())
        if tags_changed:
            site.tagged, site.mentions = site._collect_tags(published)
        rebuild = tags_changed or any(_card(old_notes[f]) != _card(n) for f, n in new_notes.items())
        if rebuild:
            site.hierarchy = Hierarchy(published, site.tagged, site.mentions)
            ch.nav_changed = True
        else:
            for fname, note in new_notes.items():
                page = site.hierarchy.pages.get(fname)
                if page is not None and note is not None:
                    page.note = note
        h = site.hierarchy
        site.resolver = Resolver(vault, h, site.anchors)     # its memo holds titles and anchors
        self._install_expander()
        if whole_data or data_rels:
            site.data = site._data_context()

        # Pages that came or went, or changed kind (a stub that became a note).
        ch.added = set(h.pages) - set(old_h.pages)
        ch.removed = set(old_h.pages) - set(h.pages)
        ch.kind_changed = {f for f in set(h.pages) & set(old_h.pages) if h.pages[f].kind != old_h.pages[f].kind}
        for f in ch.removed:
            site.pages.pop(f, None)
            self.sidebar.pop(f, None)

        # 4. Prepare again: {{fm.*}} and data blocks of changed notes and of notes whose CSVs changed.
        candidates: set[str] = set(ch.added) | ch.kind_changed
        prepare = {f for f in new_notes if f in published} | (redraw & set(published))
        for fname in set(new_notes) | redraw:
            old_page = old_pages.get(fname)
            for b in old_page.blocks if old_page else ():
                site.blocks.pop(b.key, None)
            for target in self.data_links_of.pop(fname, ()):
                site.data_pages.get(target, set()).discard(fname)
                candidates.add(target)
            site.prepared.pop(fname, None)
        outer = site.data_pages
        for fname in sorted(prepare):
            note = vault.notes[fname]
            site.data_pages = {}
            try:
                site.prepared[fname] = site._prepared_doc(note)
                mine = set(site.data_pages)
            finally:
                site.data_pages = outer
            for target in mine:
                outer.setdefault(target, set()).add(fname)
            if mine:
                self.data_links_of[fname] = mine
            candidates |= mine
            self._index_csvs(fname, note)
        for fname in new_notes:
            if fname not in prepare:
                self._index_csvs(fname, None)

        # 5. Expand again; a page whose headings or block ids changed is news to pages linking to it.
        if rebuild:
            expand_again |= wildcard
        for key in {name_key(f) for f in ch.added | ch.removed}:
            expand_again |= self.readers.get(key, set())
        expand_again = (expand_again | prepare) & set(site.prepared)     # new notes are prepared only now
        for fname in expand_again | set(new_notes) | redraw:
            site._expanded.pop(fname, None)
            site._anchors.pop(fname, None)
            site._embed_problems.pop(fname, None)
        for fname in sorted(expand_again):
            self._expand(fname)
        for fname in sorted(expand_again | set(new_notes)):
            self._index_links(fname, vault.notes.get(fname))
        for fname in set(new_notes) - set(site.prepared):   # deleted or unpublished
            for key in self.reads_of.pop(fname, ()):
                self.readers.get(key, set()).discard(fname)
        anchors_changed = {f for f in old_anchors if _anchor_sig(site, f) != old_anchors[f]}
        candidates |= expand_again | prepare

        # 6. Check again (backlinks) the notes whose links may resolve differently now.
        carded = {f for f, n in new_notes.items() if _card(old_notes[f]) != _card(n)}
        news = carded | anchors_changed | ch.added | ch.removed | ch.kind_changed
        recheck = set(new_notes) | self._linking(news)
        for fname in sorted(recheck):
            for target in self.backlinks_of.pop(fname, ()):
                site.backlinks.get(target, set()).discard(fname)
                candidates.add(target)
            note = vault.notes.get(fname)
            if note is None or fname not in site.prepared:
                continue
            outer_bl, outer_diags = site.backlinks, site.diagnostics
            site.backlinks, site.diagnostics = {}, []
            try:
                site._check_note(note)
                mine = site.backlinks
            finally:
                site.backlinks, site.diagnostics = outer_bl, outer_diags
            for target, srcs in mine.items():
                outer_bl.setdefault(target, set()).update(srcs)
            self.backlinks_of[fname] = set(mine)
            candidates |= set(mine)
        for target in [t for t, s in site.backlinks.items() if not s]:
            del site.backlinks[target]
        for target in [t for t, s in site.data_pages.items() if not s]:
            del site.data_pages[target]
        candidates |= recheck | self._linking(news)

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
        if rebuild:
            for root in self._changed_lists(old_h, h, set(new_notes) | ch.added | ch.removed | ch.kind_changed):
                candidates |= _subtree(h, root)
        candidates |= {f for f, n in vault.notes.items() if _has_questions(n)}
        candidates = {h.canon(f) for f in candidates}

        # 8. Render the candidates; keep those whose output differs.
        for fname in sorted(candidates):
            page = h.pages.get(fname)
            if page is None:
                continue
            render = site._render_page if page.kind == "note" else site._render_generated
            new_page = render(fname)
            site.pages[fname] = new_page
            nav = local_nav(h, fname, self.site_name)
            old_page = old_pages.get(fname)
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
        ch.ids_changed = site.ids() != old_ids
        return ch

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


def _anchor_sig(site: Site, fname: str) -> tuple | None:
    if fname not in site.prepared:
        return None
    idx = site.anchors(fname)
    if idx is None:
        return None
    return (tuple((h.slug, h.text) for h in idx.headings), frozenset(idx.blocks))


def _has_questions(note: Note) -> bool:
    return note.published and any(f.info.split(" ")[0] == QUESTIONS_KIND for f in note.data_fences)


def _block_sources(body: str) -> set[str]:
    """The CSV paths a table or chart block names (`source`, and each merge's `source`)."""
    from .. import yamlguard
    from ..vault import _Loader
    try:
        spec = yamlguard.load(body, _Loader)
    except Exception:       # a broken block reads no CSV; it is drawn again when its note changes
        return set()
    out: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if k == "source" and isinstance(v, str):
                    out.add(PurePosixPath(v).as_posix())
                else:
                    walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
    walk(spec)
    return out


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
