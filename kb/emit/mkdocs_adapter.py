"""Adapts the core Site to MkDocs events. The only module that imports MkDocs."""
from __future__ import annotations

import html
import logging
from importlib import resources
from pathlib import Path

from jinja2 import Environment
from markupsafe import Markup
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import AnchorLink

from .journal import JournalError, recover_for_build
from ..link.hierarchy import ROOT, dest_of, href_of, url_of
from ..parse.linelimits import guard_markdown
from ..parse.noteread import UNUSABLE, error_body, link_loops, read_note
from ..parse.vault import decode_note
from ..render.localnav import local_nav
from ..render.search import names_of, page_boost, tune_index
from ..render.theme_memo import BlockMemo
from ..site import Site

log = logging.getLogger("mkdocs.plugins.kb")

ASSETS = ("kb.css", "kb-tables.css", "kb-tables.js", "kb-preview.css", "kb-preview.js")
# Markdown as Dendron's preview reads it (CommonMark lists, footnotes), whatever the vault's
# mkdocs.yml lists.
MARKDOWN_EXTENSIONS = ("kb.parse.commonmark", "footnotes")


class KbAdapter:
    def __init__(self) -> None:
        self.site: Site | None = None
        self.docs_prefix = ""       # the docs folder as messages show it ("notes/")
        # A one-off build (`mkdocs build`, `kb build`): what the site's steps no longer need is
        # dropped as the build goes (see _let_go). kb serve and `mkdocs serve` keep it all.
        self.let_go = False

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.let_go = command in ("build", "gh-deploy")

    # -- config -------------------------------------------------------------
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        for ext in MARKDOWN_EXTENSIONS:
            if ext not in config.markdown_extensions:
                config.markdown_extensions.append(ext)
        try:    # a `kb rename` killed midway is finished first (see kb.emit.journal)
            line = recover_for_build(config.config_file_path, config.docs_dir)
        except (JournalError, OSError) as e:
            raise PluginError(f"kb: {e}") from e
        if line:
            log.info(f"kb: {line}")
        root = Path(config.config_file_path).resolve().parent
        docs = Path(config.docs_dir)
        self.docs_prefix = (docs.relative_to(root).as_posix() if docs.is_relative_to(root) else docs.as_posix()) + "/"
        loops = link_loops(docs, self.docs_prefix)
        if loops:   # MkDocs walks docs_dir following links: it would never end (or end in a traceback)
            raise PluginError("\n".join(d.format() for d in loops))
        for name in ASSETS:
            target = config.extra_javascript if name.endswith(".js") else config.extra_css
            path = f"assets/kb/{name}"
            if path not in [str(x) for x in target]:
                target.append(path)
        return config

    # -- theme: blocks rendered once per depth (see theme_memo) ----------------
    def on_env(self, env: Environment, config: MkDocsConfig, files: Files) -> Environment:
        reserved = {f.url.split("/", 1)[0] for f in files if not f.is_documentation_page()}
        reserved.update(str(p).split("/", 1)[0] for p in [*config.extra_css, *config.extra_javascript])
        env.globals["kb_memo"] = BlockMemo(reserved)    # new each build: the theme's output may change
        return env

    # -- files: hierarchy URLs, generated pages, redirects --------------------
    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        root = Path(config.config_file_path).resolve().parent
        site = Site(root, config.docs_dir, root / "data")
        self.site = site
        level = _level(config)
        for d in site.diagnostics:
            log.log(level, d.format())
        pages = site.hierarchy.pages
        for f in list(files):
            if not f.src_uri.endswith(".md") or "/" in f.src_uri:
                continue
            fname = f.src_uri[:-3]
            if fname not in pages:    # unpublished notes are not part of the site
                files.remove(f)
                continue
            note = site.vault.notes.get(fname)
            if note is not None and any(d.code in UNUSABLE for d in note.problems):
                # MkDocs would read the file itself (and stop on it): the page comes from the
                # vault, which shows what it could of the note, or why not.
                files.remove(f)
                f = File.generated(config, f.src_uri, content="")
                files.append(f)
            f.dest_uri, f.url = dest_of(fname), href_of(fname) or "./"
        for fname, page in pages.items():
            if page.kind != "note":
                gen = File.generated(config, f"{fname}.md", content="")    # its HTML comes in on_page_content
                gen.dest_uri, gen.url = dest_of(fname), href_of(fname) or "./"
                files.append(gen)
        for nid, fname in site.ids().items():
            if f"notes/{nid}/index.html" in files.src_uris:
                continue
            files.append(File.generated(config, f"notes/{nid}/index.html", content=_redirect_html(nid, fname)))
        for page in site.pages.values():
            for block in page.blocks:
                for name, data in block.downloads:
                    uri = url_of(page.fname) + name
                    if uri not in files.src_uris:
                        files.append(File.generated(config, uri, content=data))
        for name in ASSETS:
            asset = resources.files("kb") / "assets" / name
            if asset.is_file():
                files.append(File.generated(config, f"assets/kb/{name}", content=asset.read_bytes()))
        if self.let_go:
            _let_go(site)
        return files

    # -- navigation: the hierarchy, in Dendron's order ------------------------
    def on_nav(self, nav: Navigation, config: MkDocsConfig, files: Files) -> Navigation:
        site = self.site
        assert site is not None
        by_fname: dict[str, Page] = {}
        for p in nav.pages:
            if p.file.src_uri.endswith(".md"):
                by_fname[p.file.src_uri[:-3]] = p
        ordered = [by_fname[p.fname] for p in site.hierarchy.walk(ROOT) if p.fname in by_fname and p.in_nav] \
            if ROOT in site.hierarchy.pages else list(by_fname.values())
        seen = {id(p) for p in ordered}
        rest = [p for p in nav.pages if id(p) not in seen]   # nav_exclude: no place in prev/next
        for i, p in enumerate(ordered):
            p.previous_page = ordered[i - 1] if i > 0 else None
            p.next_page = ordered[i + 1] if i + 1 < len(ordered) else None
        for p in rest:
            p.previous_page = p.next_page = None
        pages = ordered + rest
        top = [by_fname[c] for c in site.hierarchy.pages[ROOT].children if c in by_fname] \
            if ROOT in site.hierarchy.pages else ordered
        home = [by_fname[ROOT]] if ROOT in by_fname else []
        return Navigation(home + top, pages)

    # -- pages ----------------------------------------------------------------
    def on_page_read_source(self, page: Page, config: MkDocsConfig) -> str | None:
        """The page's source, so that MkDocs reads no file itself (its reading stops the build on
        bytes that are not UTF-8). A note's Markdown comes from the vault (on_page_markdown): none
        here. Any other Markdown page (in a subfolder of the docs) is read as kb reads a note: a
        bad byte shows as U+FFFD and is reported at its line, a file that cannot be read shows an
        error block."""
        if self.site is not None and _fname(page) in self.site.pages:
            return ""
        path = page.file.abs_src_path
        if page.file.generated_by is not None or path is None:
            return None
        data, _, problem = read_note(path, self.docs_prefix + page.file.src_uri)
        if problem is not None:
            log.log(_level(config), problem.format())
        if data is None:
            return error_body(problem.message if problem else "")
        return decode_note(data).removeprefix("\ufeff")    # MkDocs reads a BOM as none

    def on_page_markdown(self, markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
        fname = _fname(page)
        if self.site is None or fname not in self.site.pages:
            return markdown
        # Material trusts page.meta: it writes `description`, `author`, `subtitle`, the search's
        # `tags` into pages raw and picks the page's template by `template`. Frontmatter is
        # Dendron's (other keys are ignored): MkDocs sees only what kb puts there, escaped.
        kb_page = self.site.hierarchy.pages[fname]
        page.meta.clear()
        # The title MkDocs shows in <title>, the header, the footer and search: Dendron's, not the
        # file name's. Material writes page titles as HTML, raw in some places and through `| e`
        # in others: escaped once here, as Markup so that `| e` leaves it as it is.
        page.meta["title"] = Markup(html.escape(kb_page.title))
        if kb_page.note is not None and kb_page.note.tags:     # search shows a result's tags as HTML
            page.meta["tags"] = [html.escape(t) for t in kb_page.note.tags]
        if kb_page.kind != "note":   # stubs, tag and user pages only list links: keep search to notes
            page.meta["search"] = {"exclude": True}
        elif (boost := page_boost(fname)) is not None:     # data pages below the notes (kb.render.search)
            page.meta["search"] = {"boost": boost}
        # '' for generated pages: their HTML comes in on_page_content. A line Markdown would take
        # minutes over becomes an error block (kb/parse/linelimits.py; the note's problems name it).
        return guard_markdown(self.site.pages[fname].markdown)

    def on_page_content(self, content: str, page: Page, config: MkDocsConfig, files: Files) -> str:
        fname = _fname(page)
        if self.site is None or fname not in self.site.pages:
            return content
        kb_page = self.site.pages[fname]
        return kb_page.html if kb_page.html is not None else self.site.finish_html(fname, content)

    def on_page_context(self, context: dict, page: Page, config: MkDocsConfig, nav: Navigation) -> dict:
        """Runs after the search plugin has indexed the page (the hook sets a late priority): the
        furniture is navigation, not content, so search neither indexes nor parses it."""
        fname = _fname(page)
        if self.site is None or fname not in self.site.hierarchy.pages:
            return context
        context["kb_nav"] = local_nav(self.site.hierarchy, fname, str(config.site_name or ""))
        kb_page = self.site.pages.get(fname)
        if kb_page is not None and kb_page.html is None and page.content is not None:
            page.content = self.site.furnish(fname, page.content)
            if kb_page.sections:   # the furniture's headings join the page's table of contents
                items = page.toc.items
                toc = items[0].children if len(items) == 1 and items[0].level == 1 else items
                toc.extend(AnchorLink(html.escape(title), anchor, 2) for title, anchor in kb_page.sections)
        if self.let_go:     # the page is drawn: its Markdown and furniture are not read again
            self.site.pages.pop(fname, None)
        return context

    def on_post_build(self, config: MkDocsConfig) -> None:
        """Runs after the search plugin has written its index (the hook sets a late priority):
        each note's first entry gets its names (see kb.render.search)."""
        site = self.site
        if site is None:
            return
        linked = site.data.links.looked_up() if site.data is not None else {}
        names = {href_of(f): names_of(f, linked.get(f, ())) for f, p in site.hierarchy.pages.items()
                 if p.kind == "note" and f != ROOT}
        tune_index(Path(config.site_dir) / "search" / "search_index.json", names)


def _level(config: MkDocsConfig) -> int:
    """The level kb's problems are logged at. `mkdocs build -q` raises the log level to ERROR
    before `--strict` counts warnings, so a quiet strict build would pass a broken vault: there
    the problems go out as errors."""
    return logging.ERROR if config.strict and not log.isEnabledFor(logging.WARNING) else logging.WARNING


def _let_go(site: Site) -> None:
    """Every page of the site is drawn (Site renders them all): the notes' text and parse and
    the prepared and expanded pages are not read again in a one-off build, whose pages MkDocs
    goes on to convert. Dropped, their memory serves MkDocs' pages instead of adding to them."""
    graph = site.graph
    for fname in list(graph.prepared):
        graph.forget(fname)
    graph.prepared.clear()
    for note in site.vault.notes.values():
        note.let_go()


def _fname(page: Page) -> str:
    return page.file.src_uri[:-3] if page.file.src_uri.endswith(".md") else ""


def _redirect_html(nid: str, fname: str) -> str:
    # The redirect lives at notes/<id>/; the note's URL relative to it.
    target = "../../" + href_of(fname)
    t = html.escape(target, quote=True)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Redirecting</title>'
            f'<link rel="canonical" href="{t}"><meta http-equiv="refresh" content="0; url={t}">'
            f'<meta name="robots" content="noindex"></head>'
            f'<body><a href="{t}">{html.escape(fname)}</a></body></html>')
