"""BlockSpec -> the rows and columns to show, with pandas doing every per-row step.

Order: merge, derive and where (where first when it reads no derived column), sort,
head, limit, columns, round. Every column a step names is checked before any work is
done, so a mistake is reported with the columns known at that point; the frame is then
cut down to the columns the block needs, which keeps big files cheap.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from kb.parse.diagnostics import did_you_mean

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


def _merged_columns(left: list[str], right: list[str], keys: list[str], source: str) -> list[str]:
    """The columns pd.merge(..., suffixes=("", " (source)")) will produce, known before merging."""
    return left + [c if c not in left else f"{c} ({source})" for c in right if c not in keys]


def run(spec: BlockSpec, ctx: DataContext) -> Table:
    """Evaluate a validated spec; raises BlockError on the first mistake."""
    assert spec.source is not None
    source = _load(ctx, spec.source)
    known = list(source.columns)
    merges: list[tuple[pd.DataFrame, list[str], str, str]] = []
    for m in spec.merge:
        right = _load(ctx, m.source)
        keys = [_need(k, known, "merge on (left side)") for k in m.on]
        for k in m.on:
            _need(k, list(right.columns), f"merge on (in {m.source.value})")
        merges.append((right, keys, m.how.value, m.source.value))
        known = _merged_columns(known, list(right.columns), keys, m.source.value)

    # Check every name before doing any work, with the columns known at each step.
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
    key_names = [_need(v, shown, "key (only shown columns)") for v in spec.key or ()]
    if len(set(key_names)) != len(key_names):
        v = next(v for i, v in enumerate(spec.key or ()) if v.value in key_names[:i])
        raise _fail(v, f"key: '{v.value}' is listed twice", "data-bad-value")
    digits = {_need(v, shown, "round (only shown columns)"): d for v, d in spec.round}
    templates = {_need(v, shown, "format (only shown columns)"): t for v, t in spec.format}

    # Only the columns this block reads travel through the pipeline (keeping any column a
    # merge could clash with, so merged names stay as checked above).
    needed = set(shown) | {k for k, _ in sort_keys} | set(head_by)
    for _, e in spec.derive:
        needed |= e.value.names
    if spec.where:
        needed |= spec.where.value.names
    for right, keys, _, _ in merges:
        needed |= set(keys) | set(right.columns)
    df = source[[c for c in source.columns if c in needed]]

    # A condition on the source's own columns filters before merging and deriving.
    early = spec.where is not None and spec.where.value.names <= set(source.columns) \
        and not (spec.where.value.names & derived)
    if early:
        df = df[_evaluate(spec.where, df, "where", _codes_provider(source, df, derived))]
    for right, keys, how, name in merges:
        try:
            df = pd.merge(df, right, on=keys, how=how, suffixes=("", f" ({name})"))
        except (ValueError, TypeError) as e:
            v = next(m.source for m in spec.merge if m.source.value == name)
            raise _fail(v, f"cannot merge {name} on {', '.join(keys)}: {e}", "data-merge") from None
    for name, e in spec.derive:
        df = df.assign(**{name.value: _evaluate(e, df, f"derive '{name.value}'")})
    # Row labels still point into the cached source frame unless a merge renumbered them.
    origin = source if not merges else None
    if spec.where is not None and not early:
        df = df[_evaluate(spec.where, df, "where", _codes_provider(origin, df, derived))]

    positions = None
    if sort_keys:
        if origin is not None and not (isinstance(origin.index, pd.RangeIndex) and origin.index.start == 0
                                       and origin.index.step == 1):
            origin = None
        arrays = [_sort_array(df, name, asc, spec, origin if name not in derived else None)
                  for name, asc in sort_keys]
        candidates = None
        if spec.limit is not None and len(df) > 4 * spec.limit.value + 1000 and \
                (not head_by or head_by == [sort_keys[0][0]]):
            candidates = _candidates(arrays[0], spec.limit.value, distinct=bool(head_by))
        positions = candidates if candidates is not None else np.arange(len(df))
        for a in reversed(arrays):   # least significant key first; stable sorts keep earlier keys' order
            positions = positions[np.argsort(a[positions], kind="stable")]
    if head_by and spec.head_n is not None:
        keys = df[head_by].iloc[positions] if positions is not None else df[head_by]
        keep = keys.groupby(head_by, sort=False, dropna=False).cumcount().to_numpy() < spec.head_n.value
        positions = (positions if positions is not None else np.arange(len(df)))[keep]
    if spec.limit is not None:
        positions = (positions if positions is not None else np.arange(len(df)))[:spec.limit.value]
    if positions is not None:
        df = df.iloc[positions]
    df = df[shown]
    for name, d in digits.items():
        if not (ptypes.is_numeric_dtype(df[name].dtype) and not ptypes.is_bool_dtype(df[name].dtype)):
            v = next(v for v, _ in spec.round if v.value == name)
            raise _fail(v, f"round: column '{name}' is not numeric", "data-bad-value")
        df = df.assign(**{name: df[name].round(d)})
    return Table(df, digits, templates)


def _sort_array(df: pd.DataFrame, name: str, ascending: bool, spec: BlockSpec,
                origin: pd.DataFrame | None) -> np.ndarray:
    """One sort key as an array where smaller sorts first and missing values sort last."""
    col = df[name]
    if ptypes.is_numeric_dtype(col.dtype) or ptypes.is_bool_dtype(col.dtype):
        values = col.to_numpy(dtype=float, na_value=np.nan)
        return values if ascending else -values        # numpy sorts NaN last either way
    try:
        if origin is not None and name in origin.columns:
            all_codes, uniques = store.sorted_codes(origin, name)
            codes, n = all_codes[df.index.to_numpy()], len(uniques)
        else:
            codes, uniques = pd.factorize(col, sort=True)
            n = len(uniques)
    except TypeError as e:
        v = next(v for v in spec.sort if v.value.lstrip("-").strip() == name)
        raise _fail(v, f"sort: cannot order the values of '{name}' ({e})", "data-bad-value") from None
    out = np.where(codes < 0, n, codes if ascending else n - 1 - codes)
    return out.astype(np.uint16 if n < 65535 else np.uint32)   # small ints: numpy's radix sort


def _candidates(primary: np.ndarray, n: int, *, distinct: bool) -> np.ndarray | None:
    """Positions that can reach the first n rows (or the first n groups of the primary key):
    everything at or below the n-th smallest primary value. None when it would not help."""
    if n == 0:
        return np.empty(0, dtype=np.intp)
    if distinct:
        if primary.dtype.kind != "u":
            return None
        present = np.flatnonzero(np.bincount(primary))
        if len(present) <= n:
            return None
        kth = present[n - 1]
    else:
        kth = np.partition(primary, n - 1)[n - 1]
        if primary.dtype.kind == "f" and np.isnan(kth):
            return None
    return np.flatnonzero(primary <= kth)


def _codes_provider(origin: pd.DataFrame | None, df: pd.DataFrame,
                    derived: set[str]) -> exprmod.CodesFn | None:
    """Cached (codes, sorted values) of the source's own text columns, for fast == and in.
    Only while df's row labels are positions in the cached source (no merge renumbered them)."""
    if origin is None or not (isinstance(origin.index, pd.RangeIndex) and origin.index.start == 0
                              and origin.index.step == 1):
        return None
    rows = None if df.index.equals(origin.index) else df.index.to_numpy()

    def codes(name: str) -> tuple[np.ndarray, np.ndarray] | None:
        if name in derived or name not in origin.columns or ptypes.is_numeric_dtype(origin[name].dtype) \
                or ptypes.is_bool_dtype(origin[name].dtype):
            return None
        try:
            all_codes, uniques = store.sorted_codes(origin, name)
        except TypeError:
            return None
        return (all_codes if rows is None else all_codes[rows]), uniques
    return codes


def _evaluate(v: Val[exprmod.Expr], df: pd.DataFrame, what: str,
              codes: exprmod.CodesFn | None = None) -> pd.Series:
    try:
        if what == "where":
            return exprmod.evaluate_condition(v.value, df, codes)
        return exprmod.evaluate_column(v.value, df)
    except exprmod.ExprError as err:
        raise _fail(v, f"{what}: {err}", "data-bad-expression") from None
