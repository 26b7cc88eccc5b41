"""Reading the data folder's YAML files (links.yml, schema.yml) as nodes, with line numbers."""
from __future__ import annotations

from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node

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


def node_pos(node: Node | None) -> tuple[int, int]:
    """1-based line and column of a node (0, 0 for the whole file)."""
    return (node.start_mark.line + 1, node.start_mark.column + 1) if node is not None else (0, 0)


def compose_mapping(path: Path, display: str, code: str, expected: str) -> tuple[MappingNode | None, list[Diagnostic]]:
    """The file's top-level mapping; `expected` says what it should map when it is something else."""
    root, diags = compose_file(path, display, code)
    if root is not None and not isinstance(root, MappingNode):
        diags.append(Diagnostic(display, *node_pos(root), "error", expected, code))
        return None, diags
    return root, diags
