"""Reading the data folder's YAML files (links.yml, schema.yml) as nodes, with line numbers."""
from __future__ import annotations

from pathlib import Path

import yaml
from yaml.nodes import Node

from kb.diagnostics import Diagnostic

# libyaml when present: specs and data files are parsed on every build.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def compose_file(path: Path, display: str, code: str) -> tuple[Node | None, list[Diagnostic]]:
    """The file's node tree (None when missing, empty or broken) and what was wrong with it."""
    if not path.is_file():
        return None, []
    try:
        return yaml.compose(path.read_text(encoding="utf-8"), Loader=LOADER), []
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        mark = getattr(e, "problem_mark", None)
        return None, [Diagnostic(display, mark.line + 1 if mark else 0, mark.column + 1 if mark else 0,
                                 "error", f"invalid YAML: {getattr(e, 'problem', None) or e}", code)]
