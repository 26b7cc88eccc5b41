"""data/schema.yml: per-CSV column contract.

    some/file.csv:
      required: [Model, Inst. Type]
      numeric: [Avg Throughput (/sec), Batch Size]
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kb.parse.diagnostics import Diagnostic, did_you_mean

from .yamlfile import compose_mapping, node_pos
from .store import list_csvs


RULE_KEYS = ("required", "numeric")


@dataclass(frozen=True)
class Rules:
    required: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()


def load_schema(path: Path, display: str, data_dir: Path) -> tuple[dict[str, Rules], list[Diagnostic]]:
    """Rules per CSV (paths relative to data/) and the problems in the schema file itself."""
    schema: dict[str, Rules] = {}
    diags: list[Diagnostic] = []

    def err(node: Node | None, message: str) -> None:
        line, col = node_pos(node)
        diags.append(Diagnostic(display, line, col, "error", message, "data-schema"))

    root, problems = compose_mapping(path, display, "data-schema", "schema.yml must map CSV paths to {required: [...], numeric: [...]}")
    diags.extend(problems)
    if root is None:
        return schema, diags
    known = list_csvs(data_dir)
    for fnode, rnode in root.value:
        if not isinstance(fnode, ScalarNode):
            err(fnode, "a CSV path must be plain text")
            continue
        rel = fnode.value
        if rel not in known:
            err(fnode, f"no file '{rel}' in data/{did_you_mean(rel, known)}")
            continue
        if not isinstance(rnode, MappingNode):
            err(rnode, f"'{rel}' must map 'required' and/or 'numeric' to lists of columns")
            continue
        lists: dict[str, tuple[str, ...]] = {}
        for knode, vnode in rnode.value:
            key = getattr(knode, "value", "")
            if key not in RULE_KEYS:
                err(knode, f"unknown key '{key}'{did_you_mean(str(key), RULE_KEYS)}; known keys: required, numeric")
                continue
            items = vnode.value if isinstance(vnode, SequenceNode) else [vnode]
            if not all(isinstance(i, ScalarNode) for i in items):
                err(vnode, f"'{key}' must be a list of column names")
                continue
            lists[key] = tuple(i.value for i in items)
        schema[rel] = Rules(lists.get("required", ()), lists.get("numeric", ()))
    return schema, diags
