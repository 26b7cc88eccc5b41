"""The built site kept alive: one real MkDocs build, then only the pages a save changes.

The first build is MkDocs' own (`mkdocs.commands.build.build`, with the kb hook and every
plugin). A small plugin rides along and keeps what an update needs: the Files, the Navigation,
the theme's Jinja environment, and per page its search entries and sidebar. An update asks
kb.emit.serve.graph which pages changed, then runs MkDocs' page pipeline on those only (read,
Markdown, render, the theme template, the same plugin events a build runs) and writes them,
the search index from the kept entries, the /notes/<id>/ redirects, and after a change to the
hierarchy the previous/next links, 404.html and the sitemap.
"""
from __future__ import annotations

import gc
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from mkdocs.commands.build import _build_page, _build_theme_template, build
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs import utils

from ..mkdocs_adapter import KbAdapter, _redirect_html
from .graph import Changes, LiveGraph
from ...link.hierarchy import ROOT, dest_of, href_of, url_of
from ...render.search import NAMES_FIELD, names_of

log = logging.getLogger("mkdocs.kb.serve")


class Capture(BasePlugin):
    """Rides along a build: keeps its Files, Navigation and theme environment, and per page the
    search entries and the sidebar it got (the last handler of each event)."""

    def __init__(self) -> None:
        self.files: Files | None = None
        self.nav: Navigation | None = None
        self.env: Any = None
        self.search: Any = None
        self.entries: dict[str, list] = {}      # src_uri -> the page's search entries
        self.sidebar: dict[str, str] = {}       # fname -> the sidebar HTML the kb hook gave it
        self._start = 0

    @event_priority(-1000)
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        self.search = next((p for name, p in config.plugins.items()
                            if name in ("material/search", "search") and hasattr(p, "search_index")), None)
        return config

    @event_priority(-1000)
    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        self.files = files
        return files

    @event_priority(-1000)
    def on_nav(self, nav: Navigation, *, config: MkDocsConfig, files: Files) -> Navigation:
        self.nav = nav
        return nav

    @event_priority(-1000)
    def on_env(self, env: Any, *, config: MkDocsConfig, files: Files) -> Any:
        self.env = env
        return env

    def _index(self) -> list | None:
        idx = getattr(self.search, "search_index", None)
        if idx is None:
            return None
        return idx.entries if hasattr(idx, "entries") else getattr(idx, "_entries", None)

    @event_priority(1000)       # before the search plugin indexes the page
    def _before(self, context: dict, *, page: Page, config: MkDocsConfig, nav: Navigation) -> dict:
        entries = self._index()
        self._start = len(entries) if entries is not None else 0
        return context

    @event_priority(-1000)      # after it, and after the kb hook's sidebar
    def _after(self, context: dict, *, page: Page, config: MkDocsConfig, nav: Navigation) -> dict:
        entries = self._index()
        if entries is not None:
            self.entries[page.file.src_uri] = entries[self._start:]
        if page.file.src_uri.endswith(".md") and "kb_nav" in context:
            self.sidebar[page.file.src_uri[:-3]] = context["kb_nav"]
        return context

    on_page_context = CombinedEvent(_before, _after)


@dataclass
class Report:
    """One update, for the log: what was written, and how long it took."""
    full: bool = False
    pages: int = 0
    removed: int = 0
    problems: list[str] = field(default_factory=list)


class LiveSite:
    """A site built into `site_dir`, and brought up to date file by file."""

    def __init__(self, config_file: Path, site_dir: Path, serve_url: str | None = None):
        self.config_file = Path(config_file).resolve()
        self.site_dir = Path(site_dir).resolve()
        self.serve_url = serve_url
        self.config: MkDocsConfig
        self.capture: Capture
        self.graph: LiveGraph
        self.ids: dict[str, str] = {}
        self._ordered: list[Page] | None = None     # the pages in previous/next order (the kb hook's)
        self._by_fname: dict[str, Page] | None = None   # the notes' pages (kept with the documentation pages)
        self._unnamed: list[Page] = []
        self._nav_kept = True       # the last change to the hierarchy kept the top of the navigation
        self.search_due = False     # pages were written, the search index not yet (finish)
        self.templates_due = False  # the hierarchy changed, 404.html and the sitemap not yet (finish)
        self._doc_files: list[File] | None = None   # the documentation pages, in the build's order
        self._index_head: str | None = None     # the search index's text before its entries
        self._index_parts: dict[str, tuple[list, str | None, str]] = {}   # src_uri -> (entries, names, JSON)

    # -- the full build -----------------------------------------------------------------
    def full_build(self) -> None:
        gc.unfreeze()       # the last build's objects can go
        config = load_config(config_file=str(self.config_file), site_dir=str(self.site_dir))
        if self.serve_url:
            config.site_url = self.serve_url
        capture = Capture()
        config.plugins["kb-live"] = capture
        config.plugins.on_startup(command="serve", dirty=False)
        build(config, serve_url=self.serve_url)
        adapter = next((p._kb for p in config.plugins.values() if isinstance(getattr(p, "_kb", None), KbAdapter)), None)
        if adapter is None or adapter.site is None:
            raise RuntimeError("the kb hook is not in mkdocs.yml's hooks: kb serve needs it")
        self.config, self.capture = config, capture
        self.graph = LiveGraph(adapter.site, sidebar=capture.sidebar, site_name=str(config.site_name or ""))
        self.search_due = self.templates_due = False
        self._doc_files = None
        self._index_parts = {}
        self._index_head = _index_head(Path(config.site_dir) / "search" / "search_index.json") \
            if self._post_build_is_search_only() else None
        self.ids = adapter.site.ids()
        self._ordered = self._by_fname = None
        # What the build made stays for the server's life: out of the collector's way, so that a
        # collection during an update does not walk the whole site (seconds at 10,000 notes).
        gc.collect()
        gc.freeze()

    @property
    def due(self) -> bool:
        """Pages were written and the search index, 404.html or the sitemap not yet (finish)."""
        return self.search_due or self.templates_due

    @property
    def docs_dir(self) -> Path:
        return Path(self.config.docs_dir).resolve()

    @property
    def data_dir(self) -> Path:
        return self.graph.site.data_dir

    # -- an update ----------------------------------------------------------------------
    def update(self, note_paths: Iterable[Path], data_rels: Iterable[str], other: Iterable[str] = (),
               search: bool = True) -> Report:
        """Notes (flat notes/*.md, changed, new or deleted), data files (paths inside data/) and
        other files of the docs folder (images: copied as MkDocs copies them). With search=False
        the pages are written and the search index, 404.html and the sitemap are left to
        `finish` (the server serves the pages first)."""
        for rel in other:
            self._copy_static(rel)
        ch = self.graph.apply(note_paths, data_rels)
        report = Report(problems=[d.format() for n in ch.notes for d in n.problems])
        if not (ch.rerender or ch.patch or ch.removed or ch.ids_changed):
            return report
        config, cap = self.config, self.capture
        files, h = cap.files, self.graph.site.hierarchy
        assert files is not None
        docs = self.documentation_pages()
        for fname in sorted(ch.removed | ch.kind_changed):
            file = files.get_file_from_path(f"{fname}.md")
            if file is None:
                continue
            files.remove(file)
            self._doc_files = docs = [f for f in docs if f is not file]
            if self._by_fname is not None:
                self._by_fname.pop(fname, None)
            cap.entries.pop(file.src_uri, None)
            if fname in ch.removed:
                _unlink(Path(file.abs_dest_path))
        for fname in sorted(ch.added | ch.kind_changed):
            if h.pages[fname].kind == "note":
                file = File(f"{fname}.md", config.docs_dir, config.site_dir, config.use_directory_urls)
            else:
                file = File.generated(config, f"{fname}.md", content="")
            file.dest_uri, file.url = dest_of(fname), href_of(fname) or "./"
            files.append(file)
            docs.append(file)
            page = Page(None, file, config)
            if self._by_fname is not None:
                self._by_fname[fname] = page
        rerender = set(ch.rerender)
        doc_files = self.documentation_pages()
        if ch.nav_changed:
            footers = self._renav()
            self._nav_kept = footers is not None
            if footers is None:
                pages = [f.page for f in doc_files if f.page is not None]
                before = {id(p): (p.previous_page, p.next_page) for p in pages}
                config.plugins.on_nav(Navigation([], pages), config=config, files=files)
                footers = {p.file.src_uri[:-3] for p in pages if before.get(id(p)) != (p.previous_page, p.next_page)}
                self._ordered = None
            for fname in ch.retitled:       # the footers beside a page show its title
                file = files.get_file_from_path(f"{fname}.md")
                for q in (file.page.previous_page, file.page.next_page) if file is not None and file.page else ():
                    if q is not None:
                        footers.add(q.file.src_uri[:-3])
            rerender |= footers
        patched = 0
        for fname, pairs in sorted(ch.patch.items()):
            if fname in rerender:
                continue
            if self._patch(fname, pairs, files):
                patched += 1
            else:
                rerender.add(fname)
        pages = []
        for fname in sorted(rerender):
            file = files.get_file_from_path(f"{fname}.md")
            if file is not None and file.page is not None:
                pages.append((fname, file.page))
        for _fname, page in pages:     # all first, as MkDocs does: footers show their neighbours' titles
            self._populate(page, files)
        for fname, page in pages:
            _build_page(page, config, doc_files, cap.nav, cap.env)
            self._write_downloads(fname)
        written = [f for f, _ in pages]
        report.pages, report.removed = len(written) + patched, len(ch.removed)
        self.search_due = self.search_due or bool(written or ch.removed)
        # 404.html shows the top of the navigation, the sitemap every page: after a save that
        # changed neither (a note retitled or reordered below the top), they stay as they are.
        top = {ROOT} | set(h.pages[ROOT].children if ROOT in h.pages else ())
        self.templates_due = self.templates_due or ch.nav_changed and bool(
            ch.added or ch.removed or ch.kind_changed or not self._nav_kept or (set(ch.retitled) | set(ch.rerender)) & top)
        if ch.ids_changed:
            self._write_redirects(ch.redirects)
        if search:
            self.finish()
        return report

    def finish(self, templates: bool = True) -> None:
        """What the pages written since the last call leave to write: the search index, and
        (with `templates`) after pages came or went 404.html and the sitemap."""
        self.write_search()
        if templates and self.templates_due:
            self.templates_due = False
            cap = self.capture
            for template in self.config.theme.static_templates:
                _build_theme_template(template, cap.env, cap.files, self.config, cap.nav)

    def documentation_pages(self) -> list[File]:
        """The Files' documentation pages (MkDocs lists them anew on each call: 0.07 s at 10,000
        notes), kept until a page comes or goes."""
        if self._doc_files is None:
            assert self.capture.files is not None
            self._doc_files = self.capture.files.documentation_pages()
        return self._doc_files

    def _populate(self, page: Page, files: Files) -> None:
        """MkDocs' reading of one page (as mkdocs.commands.build's _populate_page). A note that
        is not UTF-8 gets kb's reading (with replacement characters): MkDocs' own would stop."""
        config = self.config
        config._current_page = page
        try:
            page = config.plugins.on_pre_page(page, config=config, files=files)
            try:
                page.read_source(config)
            except ValueError:
                page.markdown, page.meta = "", {}
            page.markdown = config.plugins.on_page_markdown(page.markdown, page=page, config=config, files=files)
            page.render(config, files)
            page.content = config.plugins.on_page_content(page.content, page=page, config=config, files=files)
        finally:
            config._current_page = None

    def _renav(self) -> set[str] | None:
        """The kb hook's on_nav done in place (previous and next pages in the hierarchy's order),
        where it and this module's are the only on_nav steps and the top of the navigation (the
        home page and its children) is the same pages as before: the pages whose previous or
        next page changed. None: run on_nav."""
        plugins, cap = self.config.plugins, self.capture
        nav = cap.nav
        if nav is None:
            return None
        for method in plugins.events.get("nav", ()):
            owner = plugins.get(plugins._event_origins.get(method, ""))
            if owner is None or not (owner is cap or isinstance(getattr(owner, "_kb", None), KbAdapter)):
                return None
        h = self.graph.site.hierarchy
        if ROOT not in h.pages:
            return None
        if self._by_fname is None:
            every = [f.page for f in self.documentation_pages() if f.page is not None]
            self._by_fname = {p.file.src_uri[:-3]: p for p in every if p.file.src_uri.endswith(".md")}
            self._unnamed = [p for p in every if not p.file.src_uri.endswith(".md")]
        by_fname = self._by_fname
        top = [by_fname[c] for c in h.pages[ROOT].children if c in by_fname]
        home = [by_fname[ROOT]] if ROOT in by_fname else []
        if len(home + top) != len(nav.items) or any(a is not b for a, b in zip(home + top, nav.items)):
            return None
        old = self._ordered if self._ordered is not None else [p for p in nav.pages if p.previous_page is not None or p.next_page is not None]
        new = [by_fname[p.fname] for p in h.walk(ROOT) if p.fname in by_fname and p.in_nav]
        # Only the span where the order differs (from the first page that differs to the last)
        # has new neighbours; each page there is compared with what it had.
        n, i = min(len(old), len(new)), 0
        while i < n and old[i] is new[i]:
            i += 1
        j = 0
        while j < n - i and old[-1 - j] is new[-1 - j]:
            j += 1
        lo = max(0, i - 1)
        footers: set[str] = set()
        still = {id(p) for p in new[lo:len(new) - j + 1]}
        for p in old[lo:len(old) - j + 1]:
            if id(p) not in still and (p.previous_page is not None or p.next_page is not None):
                p.previous_page = p.next_page = None        # out of the order (nav_exclude) or gone
                footers.add(p.file.src_uri[:-3])
        for k in range(lo, min(len(new), len(new) - j + 1)):
            p = new[k]
            prev, nxt = new[k - 1] if k > 0 else None, new[k + 1] if k + 1 < len(new) else None
            if p.previous_page is not prev or p.next_page is not nxt:
                p.previous_page, p.next_page = prev, nxt
                footers.add(p.file.src_uri[:-3])
        seen = set(map(id, new))    # the home page is the same (the top of the navigation is)
        nav.pages = new + [p for p in by_fname.values() if id(p) not in seen] + self._unnamed
        self._ordered = new
        return footers

    def _patch(self, fname: str, pairs: list[tuple[str, str]], files: Files) -> bool:
        """A page whose body and title are unchanged: its furniture (breadcrumbs, lists after the
        text, sidebar) replaced in the written HTML. False where a string to replace is not found
        exactly once (the page is then rendered in full)."""
        file = files.get_file_from_path(f"{fname}.md")
        if file is None or file.page is None:
            return False
        path = Path(file.abs_dest_path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return False
        spans = []
        for old, new in pairs:
            if not old or text.count(old) != 1:
                return False
            i = text.index(old)
            spans.append((i, i + len(old), new))
        spans.sort()
        if any(a[1] > b[0] for a, b in zip(spans, spans[1:])):
            return False
        out, pos = [], 0
        for start, end, new in spans:
            out += [text[pos:start], new]
            pos = end
        out.append(text[pos:])
        utils.write_file("".join(out).encode("utf-8", errors="xmlcharrefreplace"), str(path))
        return True

    def write_search(self) -> None:
        """The search index from every page's kept entries, written by the build's own post-build
        step (the search plugin writes it, the kb hook adds its fields); where those two are the
        only post-build steps, written here from each page's entries kept as JSON (see _write_index)."""
        if not self.search_due:
            return
        self.search_due = False
        cap = self.capture
        idx = getattr(cap.search, "search_index", None)
        if idx is None or cap.files is None:
            return
        if self._index_head is not None:
            self._write_index(self._index_head)
            return
        entries = [e for f in self.documentation_pages() for e in cap.entries.get(f.src_uri, ())]
        setattr(idx, "entries" if hasattr(idx, "entries") else "_entries", entries)
        self.config.plugins.on_post_build(config=self.config)

    def _post_build_is_search_only(self) -> bool:
        """Whether the build's post-build steps are the search plugin's and the kb hook's only."""
        plugins = self.config.plugins
        for method in plugins.events.get("post_build", ()):
            owner = plugins.get(plugins._event_origins.get(method, ""))
            if owner is None or not (owner is self.capture.search or isinstance(getattr(owner, "_kb", None), KbAdapter)):
                return False
        return self.capture.search is not None

    def _write_index(self, head: str) -> None:
        """The search index as the search plugin and kb.render.search.tune_index write it, from each page's
        entries as JSON, kept until the page is written again or its `names` change (at 10,000
        notes the index is 23,000 pages' entries: serialising them all took 0.7 s a save)."""
        site = self.graph.site
        pages = site.hierarchy.pages
        linked = self.graph.linked_values     # fname -> the cell values its tables link (see LiveGraph)
        cap, kept, parts = self.capture, self._index_parts, []
        fresh: dict[str, tuple[list, str | None, str]] = {}
        every: dict[str, str] | None = None
        for f in self.documentation_pages():
            entries = cap.entries.get(f.src_uri)
            if not entries:
                continue
            fname = f.src_uri[:-3] if f.src_uri.endswith(".md") else ""
            page = pages.get(fname)
            own = names_of(fname, linked.get(fname, ())) if page is not None and page.kind == "note" and fname != ROOT else None
            hit = kept.get(f.src_uri)
            if hit is not None and hit[0] is entries and hit[1] == own:
                fresh[f.src_uri] = hit
                parts.append(hit[2])
                continue
            docs = []
            for e in entries:
                loc = e.get("location") if isinstance(e, dict) else None
                value = None
                if isinstance(loc, str) and "#" not in loc:
                    if loc == (href_of(fname) or "./") and fname in pages:
                        value = own
                    else:   # an entry not at its page's own address: look it up as tune_index does
                        if every is None:
                            every = {href_of(g): names_of(g, linked.get(g, ())) for g, p in pages.items()
                                     if p.kind == "note" and g != ROOT}
                        value = every.get(loc)
                        if value is None and loc in ("./", ""):
                            value = every.get("") or every.get("./")
                docs.append({**e, NAMES_FIELD: value} if value else e)
            part = ",".join(json.dumps(d, ensure_ascii=False, separators=(",", ":"), default=str) for d in docs)
            fresh[f.src_uri] = (entries, own, part)
            parts.append(part)
        self._index_parts = fresh
        path = Path(self.config.site_dir) / "search" / "search_index.json"
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".search_index.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(head)
                out.write(",".join(parts))
                out.write("]}")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _write_redirects(self, redirects: dict[str, str | None]) -> None:
        """The /notes/<id>/ redirects of these ids: to their note now, or gone (None)."""
        for nid, fname in sorted(redirects.items()):
            if fname is None:
                if self.ids.pop(nid, None) is not None:
                    _unlink(self.site_dir / "notes" / nid / "index.html")
            elif self.ids.get(nid) != fname:
                utils.write_file(_redirect_html(nid, fname).encode("utf-8"),
                                 str(self.site_dir / "notes" / nid / "index.html"))
                self.ids[nid] = fname

    def _write_downloads(self, fname: str) -> None:
        page = self.graph.site.pages.get(fname)
        for block in page.blocks if page else ():
            for name, data in block.downloads:
                utils.write_file(data, str(self.site_dir / (url_of(fname) + name)))

    def _copy_static(self, rel: str) -> None:
        src, dest = self.docs_dir / rel, self.site_dir / rel
        if src.is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
        else:
            _unlink(dest)


def _index_head(path: Path) -> str | None:
    """The search index's text up to its first entry (`{"config":{...},"docs":[`), as the
    build wrote it; None where it is not of that form."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read(1 << 16)
    except (OSError, UnicodeDecodeError):
        return None
    start = '{"config":'
    if not text.startswith(start):
        return None
    try:
        _, end = json.JSONDecoder().raw_decode(text, len(start))
    except ValueError:
        return None
    return text[:end] + ',"docs":[' if text.startswith(',"docs":[', end) else None


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        return
    try:
        path.parent.rmdir()     # an empty folder goes with its page, as a full build would not make it
    except OSError:
        pass
