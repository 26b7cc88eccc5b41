"""data/links.yml: which note a cell is about, by column and exact value or glob.

    Inst. Type:
      "inf1.*": hardware.aws.inf1
    Model:
      SE-ResNeXt101-32x4d: models.cv.se-resnext101-32x4d

Exact keys win over globs; globs are tried in file order (fnmatch, case-sensitive).
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from yaml.nodes import MappingNode, ScalarNode

from .yamlfile import compose_mapping, node_pos
from kb.parse.diagnostics import Diagnostic, did_you_mean


_GLOB_CHARS = set("*?[")


@dataclass
class LinkRules:
    exact: dict[str, dict[str, str]] = field(default_factory=dict)
    globs: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    _memo: dict[tuple[str, str], str | None] = field(default_factory=dict, repr=False)

    def columns(self) -> set[str]:
        return set(self.exact) | set(self.globs)

    def lookup(self, column: str, value: str) -> str | None:
        key = (column, value)
        if key in self._memo:
            return self._memo[key]
        found = self.exact.get(column, {}).get(value)
        if found is None:
            for pattern, fname in self.globs.get(column, ()):
                if fnmatch.fnmatchcase(value, pattern):
                    found = fname
                    break
        self._memo[key] = found
        return found

    def looked_up(self) -> dict[str, set[str]]:
        """Note fname -> the cell values linked to it so far (those the tables have shown)."""
        out: dict[str, set[str]] = {}
        for (_column, value), fname in self._memo.items():
            if fname is not None:
                out.setdefault(fname, set()).add(value)
        return out


def load_links(path: Path, display: str, note_exists: Callable[[str], bool],
               known_notes: Iterable[str] | None = None) -> tuple[LinkRules, list[Diagnostic]]:
    """Read links.yml (missing file: no links). `display` is its path for messages."""
    rules = LinkRules()
    diags: list[Diagnostic] = []
    known = sorted(known_notes) if known_notes is not None else []

    def err(node, message: str, code: str = "data-links") -> None:
        line, col = node_pos(node)
        diags.append(Diagnostic(display, line, col, "error", message, code))

    root, problems = compose_mapping(path, display, "data-links", "links.yml must map column names to {value or glob: note fname}")
    diags.extend(problems)
    if root is None:
        return rules, diags
    for cnode, mnode in root.value:
        if not isinstance(cnode, ScalarNode):
            err(cnode, "a column name must be plain text")
            continue
        column = cnode.value
        if not isinstance(mnode, MappingNode):
            err(mnode, f"'{column}' must map values (or globs) to note fnames")
            continue
        for vnode, fnode in mnode.value:
            if not isinstance(vnode, ScalarNode) or not isinstance(fnode, ScalarNode) or not fnode.value:
                err(vnode, f"under '{column}', each entry must be 'value: note.fname'")
                continue
            fname = fnode.value.strip()
            if not note_exists(fname):
                err(fnode, f"no note named \"{fname}\"{did_you_mean(fname, known, ignore_case=True)} (for {column} = {vnode.value})",
                    "data-links-note")
                continue
            if _GLOB_CHARS & set(vnode.value):
                rules.globs.setdefault(column, []).append((vnode.value, fname))
            else:
                if vnode.value in rules.exact.get(column, {}):
                    err(vnode, f"duplicate value '{vnode.value}' under '{column}'")
                rules.exact.setdefault(column, {})[vnode.value] = fname
    return rules, diags
