"""`kb serve`: MkDocs' LiveReloadServer over a LiveSite, told which files changed.

MkDocs' server polls the disk every half second and rebuilds everything on any change. Here
the same server (its HTTP handling, live reload and "wait for the build" logic) watches with
the system's file events (inotify on Linux) and hands the changed paths to LiveSite, which
writes only the pages they affect. mkdocs.yml, hooks and the theme are rebuilt in full.
An update never raises: a failed one is logged and the last good site stays served (MkDocs'
own loop would stop answering until a build succeeds).
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
import traceback
from pathlib import Path

import watchdog.events
import watchdog.observers
from mkdocs.livereload import LiveReloadServer

from .live import LiveSite

log = logging.getLogger("mkdocs.kb.serve")

_LATER = ("/search/search_index.json", "/404.html", "/sitemap.xml", "/sitemap.xml.gz")   # written after the pages
_WRITES = {"created", "modified", "deleted", "moved", "closed"}   # not opened / closed_no_write: reads
TEMPLATES_DELAY = 0.5   # seconds without a save before 404.html and the sitemap are written again


class KbServer(LiveReloadServer):
    def __init__(self, live: LiveSite, host: str, port: int):
        super().__init__(builder=self._rebuild, host=host, port=port, root=str(live.site_dir))
        self.live = live
        self.observer = watchdog.observers.Observer()     # file events at once, not a poll
        self.build_delay = 0.03     # saves come as several events; they settle within this
        self._changed: set[str] = set()
        self._search_cond = threading.Condition()     # held to read or change live.due
        self.last_update: tuple[float, str] = (0.0, "")

    def watch(self, path: str, func: None = None, *, recursive: bool = True) -> None:
        path = os.path.abspath(path)
        if path in self._watched_paths:
            self._watched_paths[path] += 1
            return
        self._watched_paths[path] = 1
        handler = watchdog.events.FileSystemEventHandler()
        handler.on_any_event = self._event      # type: ignore[method-assign]
        self._watch_refs[path] = self.observer.schedule(handler, path, recursive=recursive)

    def _event(self, event: watchdog.events.FileSystemEvent) -> None:
        if event.is_directory or event.event_type not in _WRITES:
            return
        paths = [os.fsdecode(event.src_path)]
        if getattr(event, "dest_path", ""):
            paths.append(os.fsdecode(event.dest_path))
        beside = self.live.config_file.parent
        paths = [p for p in paths if Path(p).parent != beside or Path(p).name == self.live.config_file.name]
        if not paths:   # a log or any other file beside mkdocs.yml: that folder is watched only for it
            return
        with self._rebuild_cond:
            self._changed.update(paths)
            self._want_rebuild = True
            self._rebuild_cond.notify_all()

    def _rebuild(self) -> None:
        """Write the changed pages and show them (browsers reload), then the search index: a
        request for the index waits for it; if another save came meanwhile, the index waits for
        that one's pages too."""
        with self._rebuild_cond:
            paths, self._changed = self._changed, set()
        start = time.perf_counter()
        with self._search_cond:
            what = rebuild(self.live, paths, search=False)
        self.last_update = (time.perf_counter() - start, what)
        if what:
            log.info(f"{what} in {self.last_update[0]:.2f} s")
        if not self.live.due:
            return
        with self._epoch_cond:      # the pages are written: serve them, reload the browsers
            self._visible_epoch = self._wanted_epoch
            self._epoch_cond.notify_all()
        with self._rebuild_cond:
            if self._want_rebuild:
                return      # the next update writes the index
        with self._search_cond:
            if rebuild_search(self.live, templates=False):
                self._search_cond.notify_all()
        if not self.live.templates_due:
            return
        # 404.html and the sitemap (pages came or went) once no save follows for a moment: a
        # save in the meantime is not kept waiting for them (its update writes them after it).
        with self._rebuild_cond:
            if self._rebuild_cond.wait_for(lambda: self._want_rebuild, timeout=TEMPLATES_DELAY):
                return
        with self._search_cond:
            if rebuild_search(self.live):
                self._search_cond.notify_all()

    def _serve_request(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.endswith(_LATER):
            written = (lambda: not self.live.search_due) if path.endswith(_LATER[0]) else (lambda: not self.live.due)
            with self._search_cond:
                self._search_cond.wait_for(written, timeout=120)
        return super()._serve_request(environ, start_response)


def rebuild_search(live: LiveSite, templates: bool = True) -> bool:
    """Write what the last updates left due (the search index, and with `templates` 404.html and
    the sitemap). Never raises: a failure builds everything."""
    try:
        live.finish(templates=templates)
        return True
    except Exception:
        traceback.print_exc()
        log.error("kb serve: writing the search index failed; building everything again")
    try:
        live.full_build()
    except Exception:
        traceback.print_exc()
        log.error("kb serve: the build failed; the last good site is still served. Fix the file and save again")
        live.search_due = live.templates_due = False
    return True


def rebuild(live: LiveSite, paths: set[str], search: bool = True) -> str:
    """Bring the site up to date with these changed paths; a sentence for the log. Never raises.
    With search=False the search index, 404.html and the sitemap are left to rebuild_search."""
    notes, data, other, full = classify(live, paths)
    try:
        if full:
            live.full_build()
            return "full rebuild"
        if not (notes or data or other):
            return ""
        report = live.update(notes, data, other, search=search)
        for line in report.problems:
            log.warning(line)
        return f"{report.pages} page(s) written, {report.removed} removed"
    except Exception:
        traceback.print_exc()
        log.error("kb serve: the update failed; building everything again")
    try:
        live.full_build()
        return "full rebuild"
    except Exception:
        traceback.print_exc()
        log.error("kb serve: the build failed; the last good site is still served. Fix the file and save again")
        return "failed"


def classify(live: LiveSite, paths: set[str]) -> tuple[list[Path], list[str], list[str], bool]:
    """Changed paths as notes (flat notes/*.md), data files (relative to data/), other files of
    the docs folder, and whether a full rebuild is needed (mkdocs.yml, hooks, theme, anything else)."""
    docs, data = live.docs_dir, live.data_dir
    notes: list[Path] = []
    data_rels: list[str] = []
    other: list[str] = []
    full = False
    for raw in paths:
        p = Path(os.path.abspath(raw))
        name = p.name
        if name.startswith(".") or name.endswith("~") or name.endswith(".swp") or ".kb-tmp" in name:
            continue        # editors' and kb's own temp files
        if p.is_relative_to(docs):
            rel = p.relative_to(docs)
            if any(part.startswith(".") for part in rel.parts):
                continue
            if len(rel.parts) == 1 and name.endswith(".md"):
                notes.append(p)
            elif name.endswith(".md"):
                full = True     # Markdown in a subfolder: a plain MkDocs page
            else:
                other.append(rel.as_posix())
        elif p.is_relative_to(data):
            data_rels.append(p.relative_to(data).as_posix())
        elif p.parent == live.config_file.parent and p != live.config_file:
            continue        # other files beside mkdocs.yml (the folder is watched for mkdocs.yml)
        else:
            full = True
    return notes, data_rels, other, full


def serve(config_file: Path, host: str = "127.0.0.1", port: int = 8000) -> int:
    site_dir = Path(tempfile.mkdtemp(prefix="kb_serve_"))
    try:
        live = LiveSite(config_file, site_dir, serve_url=f"http://{host}:{port}/")
        start = time.perf_counter()
        live.full_build()
        log.info(f"first build in {time.perf_counter() - start:.1f} s")
        server = KbServer(live, host, port)
        server.error_handler = lambda code: _error_page(site_dir, code)
        for path in watched(live):
            server.watch(str(path), recursive=path.is_dir() and path != live.config_file.parent)
        try:
            server.serve()
        except KeyboardInterrupt:
            log.info("Shutting down...")
        finally:
            server.shutdown()
    finally:
        shutil.rmtree(site_dir, ignore_errors=True)
    return 0


def watched(live: LiveSite) -> list[Path]:
    """The docs and data folders, the folder of mkdocs.yml (for mkdocs.yml itself), the theme's
    own folder, and what mkdocs.yml's `watch:` names (hooks/)."""
    config = live.config
    out = [live.docs_dir, live.data_dir, live.config_file.parent]
    custom = config.theme.custom_dir
    if custom:
        out.append(Path(custom))
    out += [Path(p) for p in config.watch]
    seen, result = set(), []
    for p in out:
        p = p.resolve()
        if p.exists() and p not in seen:
            seen.add(p)
            result.append(p)
    return result


def _error_page(site_dir: Path, code: int) -> bytes | None:
    page = site_dir / f"{code}.html"
    return page.read_bytes() if code in (404, 500) and page.is_file() else None
