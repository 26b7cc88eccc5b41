"""Bounded YAML: every YAML the project reads from a note or data/ goes through here.

Aliases make a YAML document a graph: nine lines of anchors and aliases ("billion laughs")
describe a billion values, and whatever walks the loaded value (a list of tags, the note
cache's JSON) walks all of them. Deep nesting crashes libyaml's composer outright. So before
a value is built: the nesting is bounded, and the values that aliases add (the expanded size
of the node graph minus its own nodes) are counted; over a limit, YamlLimitError says which.
"""
from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_DEPTH = 100             # nested collections; real frontmatter and data files use under 10
MAX_ALIAS_VALUES = 10_000   # values that aliases may add to a document (a reused default or two)

_BLOCK_PREFIX_RE = re.compile(r"(?m)^[ \t?:-]*")   # indentation and compact '- '/'? ' nesting of a line


class YamlLimitError(yaml.YAMLError):
    """A document over one of the limits. `line` is 1-based in the YAML text (0: unknown);
    `problem` says what, in words that follow "frontmatter" or a file name."""

    def __init__(self, problem: str, line: int = 0):
        super().__init__(problem)
        self.problem = problem
        self.line = line


def _depth_bound(text: str) -> int:
    """An upper bound of the document's nesting: flow brackets open at once plus the block
    nesting a line's indentation and '- ' / '? ' indicators allow. Cheap, and loose only where
    brackets sit inside quotes."""
    flow = depth = 0
    if text.count("[") + text.count("{") > 0:
        for ch in re.findall(r"[\[\]{}]", text):
            depth = depth + 1 if ch in "[{" else max(depth - 1, 0)
            flow = max(flow, depth)
    block = max(map(len, _BLOCK_PREFIX_RE.findall(text)), default=0)
    return flow + 2 * block + 2


def _check_depth(text: str, loader: type) -> None:
    if len(text) <= MAX_DEPTH or _depth_bound(text) <= MAX_DEPTH:
        return
    # The bound says it may be deep: parse events (libyaml's parser keeps a stack, no recursion)
    # and stop at the first collection too deep, before reading the rest.
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlLimitError(f"nests YAML collections more than {MAX_DEPTH} deep",
                                     event.start_mark.line + 1 if event.start_mark else 0)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_aliases(root: Node) -> None:
    """Count the values the node graph expands to (each shared node once per use), iteratively
    and memoised per node: linear in the graph, whatever it expands to."""
    own: set[int] = set()
    size: dict[int, int] = {}
    cap = MAX_ALIAS_VALUES + 1
    stack: list[tuple[Node, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            total = 1 + sum(size[id(c)] for c in _children(node))
            size[key] = total
            if total - len(own) > MAX_ALIAS_VALUES and total > cap:
                raise YamlLimitError(f"uses too many YAML aliases (they expand to more than "
                                     f"{MAX_ALIAS_VALUES:,} values; write the values out or use fewer aliases)",
                                     node.start_mark.line + 1 if node.start_mark else 0)
            continue
        if key in size:
            continue
        if key in on_path:
            raise YamlLimitError("uses a YAML alias inside the collection it names (an endless value)",
                                 node.start_mark.line + 1 if node.start_mark else 0)
        own.add(key)
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in _children(node) if id(c) not in size)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return node.value
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def compose(text: str, loader: type) -> Node | None:
    """yaml.compose within the limits (YamlLimitError, else yaml's own errors)."""
    _check_depth(text, loader)
    node = yaml.compose(text, Loader=loader)
    if node is not None and "*" in text:     # no '*', no alias
        _check_aliases(node)
    return node


def load(text: str, loader: type) -> Any:
    """yaml.load within the limits: the value is built only from a node graph that passed."""
    if "*" not in text:
        _check_depth(text, loader)
        return yaml.load(text, Loader=loader)
    node = compose(text, loader)
    if node is None:
        return None
    builder = loader(text)
    try:
        return builder.construct_document(node)
    finally:
        builder.dispose()
