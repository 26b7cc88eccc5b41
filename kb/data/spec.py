"""A `table`/`chart` block body (YAML) -> a validated BlockSpec that remembers file lines.

The body is composed (not loaded) so every key and value keeps its position; a
Diagnostic points at the line of the offending key or value inside the note.
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .yamlfile import LOADER
from ..parse import yamlguard

from kb.parse.diagnostics import Diagnostic, did_you_mean

from . import expr as exprmod


T = TypeVar("T")

DATA_KEYS = ("source", "merge", "where", "derive", "columns", "key", "sort", "head", "limit",
             "round", "format", "caption", "download")
CHART_KEYS = ("x", "y", "series", "kind", "log_x", "log_y", "title")
CHART_KINDS = ("line", "bar", "scatter")
MAX_FORMAT_NUMBER = 100  # widths/precisions above this only bloat the page


@dataclass(frozen=True)
class Val(Generic[T]):
    """A value from the block with the 1-based file line/column it was written at."""

    value: T
    line: int
    col: int


@dataclass
class MergeSpec:
    source: Val[str]
    on: list[Val[str]]
    how: Val[str]


@dataclass
class BlockSpec:
    kind: str
    line: int                                   # file line of the body's first line
    source: Val[str] | None = None
    merge: list[MergeSpec] = field(default_factory=list)
    where: Val[exprmod.Expr] | None = None
    derive: list[tuple[Val[str], Val[exprmod.Expr]]] = field(default_factory=list)
    columns: list[Val[str]] | None = None
    key: list[Val[str]] | None = None           # columns always in view; None: chosen by kb.data.keycols
    sort: list[Val[str]] = field(default_factory=list)
    head_by: list[Val[str]] = field(default_factory=list)
    head_n: Val[int] | None = None
    limit: Val[int] | None = None
    round: list[tuple[Val[str], int]] = field(default_factory=list)
    format: list[tuple[Val[str], Val[str]]] = field(default_factory=list)
    caption: str | None = None
    download: bool = False
    x: Val[str] | None = None
    y: list[Val[str]] = field(default_factory=list)
    series: Val[str] | None = None
    chart_kind: str = "line"
    log_x: bool = False
    log_y: bool = False
    title: str | None = None


class _Parser:
    def __init__(self, kind: str, note_path: str, body_line: int):
        self.kind = kind
        self.note_path = note_path
        self.body_line = body_line
        self.diags: list[Diagnostic] = []

    # -- helpers ------------------------------------------------------------------
    def loc(self, node: Node) -> tuple[int, int]:
        return self.body_line + node.start_mark.line, node.start_mark.column + 1

    def err(self, node: Node | None, message: str, code: str) -> None:
        line, col = self.loc(node) if node is not None else (self.body_line, 0)
        self.diags.append(Diagnostic(self.note_path, line, col, "error", f"{self.kind}: {message}", code))

    def val(self, node: Node, value: T) -> Val[T]:
        line, col = self.loc(node)
        return Val(value, line, col)

    def text(self, node: Node, key: str) -> Val[str] | None:
        if isinstance(node, ScalarNode) and node.value.strip():
            return self.val(node, node.value)
        self.err(node, f"'{key}' must be a single text value", "data-bad-value")
        return None

    def names(self, node: Node, key: str) -> list[Val[str]]:
        """A column name or a list of column names."""
        if isinstance(node, ScalarNode):
            v = self.text(node, key)
            return [v] if v else []
        if isinstance(node, SequenceNode):
            out = []
            for item in node.value:
                v = self.text(item, key)
                if v:
                    out.append(v)
            return out
        self.err(node, f"'{key}' must be a column name or a list of column names", "data-bad-value")
        return []

    def scalar(self, node: Node) -> Any:
        if not isinstance(node, ScalarNode):
            return node
        try:
            return SafeConstructor().construct_object(node, deep=True)
        except ConstructorError:
            return node.value

    def integer(self, node: Node, key: str, lo: int, hi: int | None = None) -> Val[int] | None:
        v = self.scalar(node)
        if isinstance(v, int) and not isinstance(v, bool) and v >= lo and (hi is None or v <= hi):
            return self.val(node, v)
        rng = f"from {lo} to {hi}" if hi is not None else f"at least {lo}"
        self.err(node, f"'{key}' must be a whole number {rng}, not {_show(node)}", "data-bad-value")
        return None

    def boolean(self, node: Node, key: str) -> bool:
        v = self.scalar(node)
        if isinstance(v, bool):
            return v
        self.err(node, f"'{key}' must be true or false, not {_show(node)}", "data-bad-value")
        return False

    def mapping(self, node: Node, key: str) -> list[tuple[ScalarNode, Node]]:
        if not isinstance(node, MappingNode):
            self.err(node, f"'{key}' must be a mapping (name: value)", "data-bad-value")
            return []
        seen: set[str] = set()
        out = []
        for k, v in node.value:
            if not isinstance(k, ScalarNode):
                self.err(k, f"keys of '{key}' must be plain names", "data-bad-value")
                continue
            if k.value in seen:
                self.err(k, f"duplicate name '{k.value}' in '{key}'", "data-duplicate-key")
                continue
            seen.add(k.value)
            out.append((k, v))
        return out

    def expression(self, node: Node, key: str) -> Val[exprmod.Expr] | None:
        if not isinstance(node, ScalarNode):
            self.err(node, f"'{key}' must be an expression (text)", "data-bad-expression")
            return None
        try:
            return self.val(node, exprmod.parse(node.value))
        except exprmod.ExprError as e:
            self.err(node, f"bad expression in '{key}' ({node.value!s}): {e}", "data-bad-expression")
            return None

    # -- the block ----------------------------------------------------------------
    def parse(self, body: str) -> BlockSpec | None:
        spec = BlockSpec(kind=self.kind, line=self.body_line)
        try:
            root = yamlguard.compose(body, LOADER)
        except yamlguard.YamlLimitError as e:
            self.diags.append(Diagnostic(self.note_path, self.body_line + max(e.line - 1, 0), 1, "error",
                                         f"{self.kind} block {e.problem}", "yaml-limit"))
            return None
        except yaml.MarkedYAMLError as e:
            mark = e.problem_mark or e.context_mark
            line = self.body_line + (mark.line if mark else 0)
            col = mark.column + 1 if mark else 0
            hint = ""
            # libyaml does not name the character; look at the value where it stopped.
            at = body.split("\n")[mark.line][mark.column:] if mark and mark.line < len(body.split("\n")) else ""
            if "'`'" in str(e.problem) or at.startswith("`"):
                hint = " (a value that starts with a backtick must be quoted: where: \"`A b` > 1\")"
            self.diags.append(Diagnostic(self.note_path, line, col, "error",
                                         f"{self.kind}: invalid YAML: {e.problem or e}{hint}", "data-bad-yaml"))
            return None
        except yaml.YAMLError as e:
            self.err(None, f"invalid YAML: {e}", "data-bad-yaml")
            return None
        if root is None:
            self.err(None, "empty block: it needs at least 'source: some.csv'", "data-missing-key")
            return None
        if not isinstance(root, MappingNode):
            self.err(root, "the block must be YAML 'key: value' lines (source, where, columns...)",
                     "data-bad-yaml")
            return None
        allowed = DATA_KEYS + (CHART_KEYS if self.kind == "chart" else ())
        for knode, vnode in self.mapping(root, self.kind):
            key = knode.value
            if key not in allowed:
                hint = did_you_mean(key, allowed)
                if not hint and key in CHART_KEYS:
                    hint = " (only in a 'chart' block)"
                self.err(knode, f"unknown key '{key}'{hint}; known keys: {', '.join(allowed)}",
                         "data-unknown-key")
                continue
            getattr(self, "key_" + key)(spec, vnode)
        if spec.source is None:
            self.err(root, "missing 'source' (a CSV file in data/)", "data-missing-key")
        if self.kind == "chart":
            if spec.x is None:
                self.err(root, "missing 'x' (the column for the horizontal axis)", "data-missing-key")
            if not spec.y:
                self.err(root, "missing 'y' (a column or a list of columns)", "data-missing-key")
        return spec

    def key_source(self, spec: BlockSpec, node: Node) -> None:
        spec.source = self.text(node, "source")

    def key_merge(self, spec: BlockSpec, node: Node) -> None:
        items = node.value if isinstance(node, SequenceNode) else [node]
        for item in items:
            fields = dict((k.value, (k, v)) for k, v in self.mapping(item, "merge"))
            for name, (k, _) in fields.items():
                if name not in ("source", "on", "how"):
                    self.err(k, f"unknown key '{name}' in 'merge'{did_you_mean(name, ('source', 'on', 'how'))}; "
                                "known keys: source, on, how", "data-unknown-key")
            if "source" not in fields or "on" not in fields:
                if isinstance(item, MappingNode):
                    self.err(item, "each 'merge' entry needs 'source' and 'on'", "data-missing-key")
                continue
            src = self.text(fields["source"][1], "merge: source")
            on = self.names(fields["on"][1], "merge: on")
            how = self.val(item, "inner")
            if "how" in fields:
                hnode = fields["how"][1]
                h = self.text(hnode, "merge: how")
                if h and h.value not in ("inner", "left"):
                    self.err(hnode, f"'how' must be inner or left, not '{h.value}'", "data-bad-value")
                elif h:
                    how = h
            if src and on:
                spec.merge.append(MergeSpec(src, on, how))

    def key_where(self, spec: BlockSpec, node: Node) -> None:
        spec.where = self.expression(node, "where")

    def key_derive(self, spec: BlockSpec, node: Node) -> None:
        for k, v in self.mapping(node, "derive"):
            e = self.expression(v, f"derive: {k.value}")
            if e:
                spec.derive.append((self.val(k, k.value), e))

    def key_columns(self, spec: BlockSpec, node: Node) -> None:
        spec.columns = self.names(node, "columns")

    def key_key(self, spec: BlockSpec, node: Node) -> None:
        spec.key = self.names(node, "key")

    def key_sort(self, spec: BlockSpec, node: Node) -> None:
        spec.sort = self.names(node, "sort")

    def key_head(self, spec: BlockSpec, node: Node) -> None:
        fields = dict((k.value, (k, v)) for k, v in self.mapping(node, "head"))
        for name, (k, _) in fields.items():
            if name not in ("by", "n"):
                self.err(k, f"unknown key '{name}' in 'head'{did_you_mean(name, ('by', 'n'))}; known keys: by, n",
                         "data-unknown-key")
        if "n" not in fields or "by" not in fields:
            if isinstance(node, MappingNode):
                self.err(node, "'head' needs 'by' (a column) and 'n' (rows per group); use 'limit' for "
                               "the first rows overall", "data-missing-key")
            return
        spec.head_by = self.names(fields["by"][1], "head: by")
        spec.head_n = self.integer(fields["n"][1], "head: n", 1)

    def key_limit(self, spec: BlockSpec, node: Node) -> None:
        spec.limit = self.integer(node, "limit", 0)

    def key_round(self, spec: BlockSpec, node: Node) -> None:
        for k, v in self.mapping(node, "round"):
            digits = self.integer(v, f"round: {k.value}", -15, 15)
            if digits:
                spec.round.append((self.val(k, k.value), digits.value))

    def key_format(self, spec: BlockSpec, node: Node) -> None:
        for k, v in self.mapping(node, "format"):
            if not isinstance(v, ScalarNode):
                self.err(v, f"format for '{k.value}' must be a template such as \"${{:,.3f}}\"",
                         "data-bad-format")
                continue
            problem = check_template(v.value)
            if problem:
                self.err(v, f"bad format template {v.value!r} for '{k.value}': {problem}", "data-bad-format")
            else:
                spec.format.append((self.val(k, k.value), self.val(v, v.value)))

    def key_caption(self, spec: BlockSpec, node: Node) -> None:
        v = self.text(node, "caption")
        spec.caption = v.value if v else None

    def key_download(self, spec: BlockSpec, node: Node) -> None:
        spec.download = self.boolean(node, "download")

    def key_x(self, spec: BlockSpec, node: Node) -> None:
        spec.x = self.text(node, "x")

    def key_y(self, spec: BlockSpec, node: Node) -> None:
        spec.y = self.names(node, "y")

    def key_series(self, spec: BlockSpec, node: Node) -> None:
        spec.series = self.text(node, "series")

    def key_kind(self, spec: BlockSpec, node: Node) -> None:
        v = self.text(node, "kind")
        if v and v.value not in CHART_KINDS:
            self.err(node, f"'kind' must be one of {', '.join(CHART_KINDS)}, not '{v.value}'"
                           f"{did_you_mean(v.value, CHART_KINDS)}", "data-bad-value")
        elif v:
            spec.chart_kind = v.value

    def key_log_x(self, spec: BlockSpec, node: Node) -> None:
        spec.log_x = self.boolean(node, "log_x")

    def key_log_y(self, spec: BlockSpec, node: Node) -> None:
        spec.log_y = self.boolean(node, "log_y")

    def key_title(self, spec: BlockSpec, node: Node) -> None:
        v = self.text(node, "title")
        spec.title = v.value if v else None


def _show(node: Node) -> str:
    return repr(node.value) if isinstance(node, ScalarNode) else "a list or mapping"


_NUMBER = re.compile(r"\d+")


def check_template(template: str) -> str | None:
    """Why a format template is refused, or None. Exactly one `{:spec}` field, nothing else."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as e:
        return str(e)
    fields = [p for p in parts if p[1] is not None]
    if len(fields) != 1:
        return f"it needs exactly one '{{:spec}}' field, found {len(fields)}"
    _, name, spec, conversion = fields[0]
    if name:
        return f"the field must be empty as in '{{:,.2f}}', not '{{{name}...}}' (no names, attributes or indexes)"
    if conversion:
        return f"conversions such as '!{conversion}' are not allowed"
    if "{" in spec or "}" in spec:
        return "nested fields are not allowed"
    if any(int(n) > MAX_FORMAT_NUMBER for n in _NUMBER.findall(spec)):
        return f"widths and precisions above {MAX_FORMAT_NUMBER} are not allowed"
    for sample in (1234.5, 1234, "x"):
        try:
            format(sample, spec)
            return None
        except (ValueError, TypeError):
            continue
    return f"'{spec}' is not a valid format spec"


def parse_spec(kind: str, body: str, *, note_path: str, body_line: int) -> tuple[BlockSpec | None, list[Diagnostic]]:
    """Validate a block body. Returns the spec (None when unusable) and every problem found."""
    p = _Parser(kind, note_path, body_line)
    spec = p.parse(body)
    return spec, p.diags
