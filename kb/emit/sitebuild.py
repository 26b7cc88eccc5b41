"""`kb build`: a strict build into a fresh folder, a link check of the result, then one swap.

The old site is replaced only when everything passed; until then it is not touched,
so a failed build leaves it byte for byte as it was.

Crash safety. The site folder stays a real folder: GitHub Pages' upload, rsync and web servers
need nothing special, `mkdocs serve` (which builds into a temp folder of its own) is not
concerned, and a site/ that users already have is replaced like any other. A symlink flipped
to versioned folders was not chosen: copying tools and Pages uploads may store the link
instead of the site. The swap is one atomic exchange of the fresh folder and the site folder
(kb.emit.exchange), so when `kb build` is killed at any moment, site/ is the whole old or the whole
new site. Where no exchange is possible (not Linux or macOS, or a file system without it) two
renames are used; killed between them, site/ is missing and the old site waits beside it, and
the next `kb build` puts it back before anything else.

Temp folders are `.SITE.kb-new-PID-X` and `.SITE.kb-old-PID-X`; each build removes those whose
process is gone. The MkDocs child process dies with `kb build` (kb.emit.child).
"""
from __future__ import annotations

import glob
import os
import re
import secrets
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..check.htmlcheck import check_site
from . import faults
from .child import run_tied
from .exchange import exchange
from .faults import KILL_AFTER_ENV
from ..parse.diagnostics import Diagnostic
from ..parse.project import Project


@dataclass
class BuildResult:
    ok: bool
    reason: str = ""
    problems: list[Diagnostic] = field(default_factory=list)


def build(project: Project, site_dir: Path | None = None) -> BuildResult:
    site = (site_dir or project.site_dir).resolve()
    if site == project.root or site in project.root.parents or project.docs_dir.is_relative_to(site):
        return BuildResult(False, f"refusing to build into {site}: it holds the project or its notes; "
                                  f"choose a separate --site-dir")
    site.parent.mkdir(parents=True, exist_ok=True)
    _recover(project, site)
    fresh = _temp_folder(site, "new")
    faults.step()
    try:
        rc = _mkdocs_build(project, fresh)
        if rc != 0:
            return BuildResult(False, f"mkdocs build --strict failed (exit {rc}); see the messages above. "
                                      f"{project.rel(site)} was left as it was")
        problems = check_site(fresh, display=project.rel(site))
        if problems:
            return BuildResult(False, f"{len(problems)} broken link(s) in the built HTML; "
                                      f"{project.rel(site)} was left as it was", problems)
        _swap(fresh, site)
    finally:
        _remove(fresh)
    return BuildResult(True)


def _mkdocs_build(project: Project, out: Path) -> int:
    """MkDocs in a child process of this Python: its own logging, and the hook loaded fresh."""
    env = {k: v for k, v in os.environ.items() if k != KILL_AFTER_ENV}   # the kill hook is kb build's only
    env["NO_MKDOCS_2_WARNING"] = "1"
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict",
           "--config-file", str(project.config_file), "--site-dir", str(out)]
    return run_tied(cmd, project.root, env)


def _swap(fresh: Path, site: Path) -> None:
    """Put `fresh` where `site` is; afterwards `fresh` names the old site (deleted by the caller)."""
    if not site.exists():
        os.rename(fresh, site)
        faults.step()
        return
    if exchange(fresh, site):
        faults.step()
        _remove(fresh)
        faults.step()
        return
    old = _temp_folder(site, "old")
    os.rmdir(old)   # only the unique name is wanted: rename needs the target absent
    os.rename(site, old)
    faults.step()
    try:
        os.rename(fresh, site)
    except BaseException:
        os.rename(old, site)
        raise
    faults.step()
    _remove(old)
    faults.step()


# -- temp folders and what a killed build left ----------------------------------------------------
def _temp_folder(site: Path, kind: str) -> Path:
    """A new empty folder beside the site, named for this process (see _strays)."""
    while True:
        path = site.parent / f".{site.name}.kb-{kind}-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue


def _strays(site: Path) -> list[tuple[str, Path]]:
    """Temp folders beside the site left by builds that are no longer running: (kind, path)."""
    pattern = re.compile(rf"\.{re.escape(site.name)}\.kb-(new|old)-(?:(\d+)-)?[^/]*")
    out = []
    for path in site.parent.glob(f".{glob.escape(site.name)}.kb-*"):
        m = pattern.fullmatch(path.name)
        if m and not _running(int(m[2]) if m[2] else None):
            out.append((m[1], path))
    return sorted(out, key=lambda kp: _mtime(kp[1]))


def _running(pid: int | None) -> bool:
    if pid is None or pid == os.getpid():
        return False    # a name without a pid: made by an earlier kb
    if os.name == "nt":
        return True     # os.kill(pid, 0) would end the process there: keep the folder
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _mtime(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except OSError:
        return 0.0


def _recover(project: Project, site: Path) -> None:
    """Put back an old site that two renames left beside a missing site/; remove the strays."""
    strays = _strays(site)
    if not site.exists() and not site.is_symlink():
        olds = [p for kind, p in strays if kind == "old" and p.is_dir() and not p.is_symlink()]
        if olds:
            os.rename(olds[-1], site)
            print(f"kb build: put back {project.rel(site)} from {olds[-1].name}, left there by a build "
                  f"that was killed", file=sys.stderr)
            faults.step()
            strays = [(k, p) for k, p in strays if p != olds[-1]]
    for _kind, path in strays:
        _remove(path)
        faults.step()


def _remove(path: Path) -> None:
    """Delete a temp folder (or a link or file found under its name); never follows a link."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path, ignore_errors=True)
