"""Reading the data folder's YAML files (links.yml, schema.yml) as nodes, with line numbers."""
from __future__ import annotations

from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node

from kb.parse import yamlguard
from kb.parse.diagnostics import Diagnostic

# libyaml when present: specs and data files are parsed on every build.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# links.yml and schema.yml are a few KB; a file this big is a mistake (or an attack) to refuse.
YAML_FILE_MAX_BYTES = 5 * 1024 * 1024


def compose_file(path: Path, display: str, code: str) -> tuple[Node | None, list[Diagnostic]]:
    """The file's node tree (None when missing, empty or broken) and what was wrong with it."""
    if not path.is_file():
        return None, []
    try:
        size = path.stat().st_size
        if size > YAML_FILE_MAX_BYTES:
            return None, [Diagnostic(display, 0, 0, "error", f"{path.name} is {size / 2**20:.1f} MB, over the "
                                     f"{YAML_FILE_MAX_BYTES >> 20} MB limit for YAML files: make it smaller", "too-large")]
        data = path.read_bytes()
    except OSError as e:
        return None, [Diagnostic(display, 0, 0, "error", f"cannot read {path.name} ({e.strerror}): "
                                 "fix its permissions or replace it", "unreadable")]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        return None, [Diagnostic(display, line, col, "error", f"{path.name} is not UTF-8 (byte 0x{data[e.start]:02X}): "
                                 "save it as UTF-8", "encoding")]
    try:
        return yamlguard.compose(text, LOADER), []
    except yamlguard.YamlLimitError as e:
        return None, [Diagnostic(display, e.line, 1 if e.line else 0, "error", f"{path.name} {e.problem}", "yaml-limit")]
    except yaml.YAMLError as e:
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
