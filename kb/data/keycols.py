"""Which columns of a generated table are its key: always in view, the rest one click away.

A reader opens a table for one answer (a cost, a price, a throughput) about one thing (an
instance type, a model). Those columns must never sit behind a horizontal scroll, so the
browser hides the others behind a "More columns" toggle when the whole table does not fit.
A block names them with `key: [..]`; otherwise they are chosen here from what the block
already says about itself.
"""
from __future__ import annotations

import re
from typing import Iterable

from .spec import BlockSpec

# A column whose name says it is the answer: money or rate.
ANSWER_NAME = re.compile(r"cost|price|\$|usd|throughput|per 1m|per hour|hourly|/ ?h(ou)?r|tokens ?/ ?s|/ ?sec\b|qps|"
                         r"samples ?/ ?s|images ?/ ?s|inferences ?/ ?s", re.I)
MAX_DEFAULT = 4   # more than this many default key columns would not fit a phone


# ... unless it says it is about the answer: where a price came from, or when.
NOT_ANSWER = re.compile(r"source|as of|date|url|link|note", re.I)


def answer_columns(columns: Iterable[str]) -> list[str]:
    """Columns whose name says they hold the answer (cost, price, throughput), in order."""
    return [c for c in columns if ANSWER_NAME.search(c) and not NOT_ANSWER.search(c)]


ALWAYS = 2        # the first two key columns never give way, however narrow the screen


def key_columns(spec: BlockSpec, shown: list[str], linked: set[str]) -> list[str]:
    """The key columns of a block, most important first.

    Named by `key`, they are taken in the order written. Otherwise: the first column (it
    identifies the row), the answer (the first derived column: a block derives what it is
    there to show; else the first column named as cost, price or throughput), the columns
    cells link from (what a row is about), the other answers, a chart's axes, then the
    sort and `head` columns; at most MAX_DEFAULT of them.
    """
    if spec.key is not None:
        return [v.value for v in spec.key]
    if not shown:
        return []
    answers = [name.value for name, _ in spec.derive] + answer_columns(shown)
    answers = [c for c in answers if c in shown]
    chart = ([spec.x.value] if spec.x else []) + [v.value for v in spec.y]
    context = [v.value.lstrip("-") for v in spec.sort] + [v.value for v in spec.head_by]
    picked: list[str] = []
    for c in [shown[0]] + answers[:1] + [c for c in shown if c in linked] + answers[1:] + chart + context:
        if c in shown and c not in picked and len(picked) < MAX_DEFAULT:
            picked.append(c)
    return picked


def give_way_order(key: list[str]) -> dict[str, int]:
    """Key columns that may be hidden on a screen too narrow for them all: 1 goes first."""
    rest = key[ALWAYS:]
    return {c: len(rest) - i for i, c in enumerate(rest)}
