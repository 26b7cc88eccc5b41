"""BlockSpec -> the rows and columns to show, with pandas doing every per-row step.

Order: merge, derive and where (where first when it reads no derived column), sort,
head, limit, columns, round. Every column a step names is checked before any work is
done, so a mistake is reported with the columns known at that point; the frame is then
cut down to the columns the block needs, which keeps big files cheap.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from pandas.api import types as ptypes

from kb.diagnostics import did_you_mean

from . import expr as exprmod
from . import store
from .context import DataContext
from .spec import BlockSpec, Val


class BlockError(Exception):
    """A mistake in a block, located at a file line of the note."""

    def __init__(self, message: str, line: int, col: int, code: str):
        super().__init__(message)
        self.message, self.line, self.col, self.code = message, line, col, code


@dataclass
class Table:
    frame: pd.DataFrame                       # shown rows and columns
    digits: dict[str, int] = field(default_factory=dict)
    templates: dict[str, Val[str]] = field(default_factory=dict)


def _fail(v: Val, message: str, code: str) -> BlockError:
    return BlockError(message, v.line, v.col, code)


def _unknown(name: str, known: list[str], what: str = "column") -> str:
    hint = did_you_mean(name, known)
    listing = "known columns: " + ", ".join(known)
    return f"unknown {what} '{name}'{hint}; {listing}"


def _need(v: Val[str], known: list[str], context: str) -> str:
    if v.value not in known:
        raise _fail(v, f"{context}: {_unknown(v.value, known)}", "data-unknown-column")
    return v.value


def _load(ctx: DataContext, source: Val[str]) -> pd.DataFrame:
    try:
        return ctx.frame(source.value)
    except store.DataError as e:
        where = f" (line {e.line})" if e.line else ""
        msg = e.message if e.code != "data-csv-parse" else f"{ctx.display(source.value)}{where}: {e.message}"
        raise _fail(source, msg, e.code) from None


def _sort_key(v: Val[str], known: list[str]) -> tuple[str, bool]:
    name = v.value
    if name in known:
        return name, True
    if name.startswith("-") and name[1:].strip() in known:
        return name[1:].strip(), False
    bare = name[1:].strip() if name.startswith("-") else name
    raise _fail(v, f"sort: {_unknown(bare, known)}", "data-unknown-column")


def run(spec: BlockSpec, ctx: DataContext) -> Table:
    """Evaluate a validated spec; raises BlockError on the first mistake."""
    assert spec.source is not None
    df = _load(ctx, spec.source)
    for m in spec.merge:
        right = _load(ctx, m.source)
        keys = [_need(k, list(df.columns), "merge on (left side)") for k in m.on]
        for k in m.on:
            _need(k, list(right.columns), f"merge on (in {m.source.value})")
        try:
            df = pd.merge(df, right, on=keys, how=m.how.value, suffixes=("", f" ({m.source.value})"))
        except (ValueError, TypeError) as e:
            raise _fail(m.source, f"cannot merge {m.source.value} on {', '.join(keys)}: {e}", "data-merge") from None

    # Check every name before doing any work, with the columns known at each step.
    known = list(df.columns)
    derived: set[str] = set()
    for name, e in spec.derive:
        missing = sorted(e.value.names - set(known))
        if missing:
            raise _fail(e, f"derive '{name.value}': {_unknown(missing[0], known)}", "data-unknown-column")
        if name.value not in known:
            known.append(name.value)
        derived.add(name.value)
    if spec.where:
        missing = sorted(spec.where.value.names - set(known))
        if missing:
            raise _fail(spec.where, f"where: {_unknown(missing[0], known)}", "data-unknown-column")
    sort_keys = [_sort_key(v, known) for v in spec.sort]
    head_by = [_need(v, known, "head: by") for v in spec.head_by]
    if spec.columns is not None:
        shown = []
        for v in spec.columns:
            name = _need(v, known, "columns")
            if name in shown:
                raise _fail(v, f"columns: '{name}' is listed twice", "data-bad-value")
            shown.append(name)
    else:
        shown = list(known)
    chart_cols = [v for v in ([spec.x] if spec.x else []) + spec.y + ([spec.series] if spec.series else [])]
    for v in chart_cols:
        _need(v, shown, f"{spec.kind} ('{v.value}' must be among the shown columns)")
    digits = {_need(v, shown, "round (only shown columns)"): d for v, d in spec.round}
    templates = {_need(v, shown, "format (only shown columns)"): t for v, t in spec.format}

    # Only the columns this block reads travel through the pipeline.
    needed = set(shown) | {k for k, _ in sort_keys} | set(head_by)
    for _, e in spec.derive:
        needed |= e.value.names
    if spec.where:
        needed |= spec.where.value.names
    df = df[[c for c in df.columns if c in needed]]

    try:
        where_first = spec.where is not None and not (spec.where.value.names & derived)
        if where_first:
            df = df[exprmod.evaluate_condition(spec.where.value, df)]
        for name, e in spec.derive:
            df = df.assign(**{name.value: exprmod.evaluate_column(e.value, df)})
        if spec.where is not None and not where_first:
            df = df[exprmod.evaluate_condition(spec.where.value, df)]
    except exprmod.ExprError as err:
        bad = _failing_expr(spec, df)
        raise _fail(bad, f"{err}", "data-bad-expression") from None

    if sort_keys:
        try:
            df = df.sort_values([k for k, _ in sort_keys], ascending=[a for _, a in sort_keys],
                                kind="stable", na_position="last")
        except TypeError as e:
            raise _fail(spec.sort[0], f"sort: cannot order these values ({e})", "data-bad-value") from None
    if head_by and spec.head_n is not None:
        df = df.groupby(head_by, sort=False, dropna=False).head(spec.head_n.value)
    if spec.limit is not None:
        df = df.head(spec.limit.value)
    df = df[shown]
    for name, d in digits.items():
        if not (ptypes.is_numeric_dtype(df[name].dtype) and not ptypes.is_bool_dtype(df[name].dtype)):
            v = next(v for v, _ in spec.round if v.value == name)
            raise _fail(v, f"round: column '{name}' is not numeric", "data-bad-value")
        df = df.assign(**{name: df[name].round(d)})
    return Table(df, digits, templates)


def _failing_expr(spec: BlockSpec, df: pd.DataFrame) -> Val:
    """The expression that raised, found again to report its own line (cheap: re-run on no rows)."""
    probe = df.head(0)
    candidates: list[Val] = [e for _, e in spec.derive] + ([spec.where] if spec.where else [])
    for v in candidates:
        try:
            if v is spec.where:
                exprmod.evaluate_condition(v.value, probe)
            else:
                exprmod.evaluate_column(v.value, probe)
                probe = probe.assign(**{n.value: exprmod.evaluate_column(e.value, probe)
                                        for n, e in spec.derive if e is v})
        except exprmod.ExprError:
            return v
    return candidates[0] if candidates else Val("", spec.line, 0)
