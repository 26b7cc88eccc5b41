"""Where a project is and what its mkdocs.yml says about folders (used by every `kb` command)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

CONFIG = "mkdocs.yml"


class ProjectError(Exception):
    """No usable project here: a usage problem (exit 2)."""


class _ConfigLoader(yaml.SafeLoader):
    """Reads mkdocs.yml without executing anything: `!ENV`, `!!python/name:` etc. become None."""


_ConfigLoader.add_multi_constructor("!", lambda loader, suffix, node: None)
_ConfigLoader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


@dataclass(frozen=True)
class Project:
    root: Path          # the folder holding mkdocs.yml
    docs_dir: Path      # the vault (notes/)
    data_dir: Path
    site_dir: Path

    @property
    def config_file(self) -> Path:
        return self.root / CONFIG

    def rel(self, path: Path) -> str:
        """A path as messages show it: relative to the project root when inside it."""
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)


def find_project(start: Path) -> Project:
    """The project whose mkdocs.yml is in `start` or the nearest folder above it."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG).is_file():
            return load_project(folder)
    raise ProjectError(f"no {CONFIG} in {start} or any folder above it; "
                       f"run kb in the project folder or pass -C DIR")


def load_project(root: Path) -> Project:
    root = root.resolve()
    try:
        cfg = yaml.load((root / CONFIG).read_text(encoding="utf-8"), Loader=_ConfigLoader) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ProjectError(f"cannot read {root / CONFIG}: {e}") from e
    if not isinstance(cfg, dict):
        raise ProjectError(f"{root / CONFIG} is not a YAML mapping")
    docs = cfg.get("docs_dir") or "docs"
    site = cfg.get("site_dir") or "site"
    return Project(root, (root / str(docs)).resolve(), root / "data", (root / str(site)).resolve())
