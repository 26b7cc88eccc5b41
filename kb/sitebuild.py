"""`kb build`: a strict build into a fresh folder, a link check of the result, then one swap.

The old site is replaced only when everything passed; until then it is not touched,
so a failed build leaves it byte for byte as it was.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .diagnostics import Diagnostic
from .htmlcheck import check_site
from .project import Project


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
    fresh = Path(tempfile.mkdtemp(dir=site.parent, prefix=f".{site.name}.kb-new-"))
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
        if fresh.exists():
            shutil.rmtree(fresh, ignore_errors=True)
    return BuildResult(True)


def _mkdocs_build(project: Project, out: Path) -> int:
    """MkDocs in a child process of this Python: its own logging, and the hook loaded fresh."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict",
           "--config-file", str(project.config_file), "--site-dir", str(out)]
    return subprocess.run(cmd, cwd=project.root, env=env).returncode


def _swap(fresh: Path, site: Path) -> None:
    """Put `fresh` where `site` is, in two renames; the old site is only deleted after."""
    if not site.exists():
        os.rename(fresh, site)
        return
    old = Path(tempfile.mkdtemp(dir=site.parent, prefix=f".{site.name}.kb-old-"))
    os.rmdir(old)   # only the unique name is wanted: rename needs the target absent
    os.rename(site, old)
    try:
        os.rename(fresh, site)
    except BaseException:
        os.rename(old, site)
        raise
    shutil.rmtree(old, ignore_errors=True)
