"""The safe expression language of `where` and `derive`, evaluated on pandas columns.

Grammar (a subset of Python's expression syntax, checked against an allow-list):

- columns: a bare name when the column name is a Python identifier (`Model`,
  `Application`), otherwise in backticks: `Avg Throughput (/sec)`. Bare names are
  identifier-only on purpose: `Batch Size > 4` would otherwise be ambiguous, and an
  unknown bare name that starts a known column ("Batch") gets a hint to use backticks;
- numbers (`1e6`, `3.5`), strings (`"NLP"`, `'NLP'`), `True`/`False`;
- `+ - * / // % **`, unary `-`/`+`, comparisons (`== != < <= > >=`, chained),
  `and`/`or`/`not`, `x in [..]` / `x not in [..]` with a list of constants, parentheses.

Everything else (calls, attributes, subscripts, dunder names, lambdas, comprehensions,
conditional expressions, f-strings, bit operators...) is refused with a message saying
what is not allowed. The text is parsed with `ast` in mode="eval" and then walked by
our own evaluator on pandas Series: nothing is ever passed to eval(), exec(),
DataFrame.eval or DataFrame.query.

Numeric constants become floats so `9 ** 9 ** 9` overflows to inf instead of building a
huge integer; arithmetic on text columns is refused (no `Model * 1000000`).
"""
from __future__ import annotations

import ast
import operator
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from kb.parse.diagnostics import did_you_mean

# name -> (integer codes aligned with the frame, -1 = missing; the distinct values they index)
CodesFn = Callable[[str], Optional[tuple[np.ndarray, np.ndarray]]]

MAX_EXPR_CHARS = 4000
_PLACEHOLDER = "_kb_col_{}_"


class ExprError(ValueError):
    """An expression that is not allowed or cannot be evaluated; the message is for authors."""


@dataclass(frozen=True)
class Expr:
    """A parsed, allow-listed expression. `names` are the columns it reads."""

    text: str
    tree: ast.Expression
    columns: Mapping[str, str]          # placeholder identifier -> backticked column name
    names: frozenset[str] = field(default_factory=frozenset)

    def evaluate(self, df: pd.DataFrame, codes: CodesFn | None = None) -> pd.Series | Any:
        """`codes` (optional) lets text == / != / in compare small integers instead of strings."""
        return _Evaluator(df, self.columns, codes).visit(self.tree.body)


# --- parsing -----------------------------------------------------------------------

def _replace_backticks(text: str) -> tuple[str, dict[str, str]]:
    """Swap `quoted column names` for placeholder identifiers, leaving string literals alone."""
    out: list[str] = []
    cols: dict[str, str] = {}
    by_name: dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"":
            j = i + 1
            while j < n and text[j] != ch:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif ch == "`":
            j = text.find("`", i + 1)
            if j < 0:
                raise ExprError(f"unclosed backtick at character {i + 1}")
            name = text[i + 1:j]
            if not name:
                raise ExprError("empty column name ``")
            if name not in by_name:
                by_name[name] = _PLACEHOLDER.format(len(by_name))
                cols[by_name[name]] = name
            out.append(by_name[name])
            i = j + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out), cols


_BINOPS: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", operator.add),
    ast.Sub: ("-", operator.sub),
    ast.Mult: ("*", operator.mul),
    ast.Div: ("/", operator.truediv),
    ast.FloorDiv: ("//", operator.floordiv),
    ast.Mod: ("%", operator.mod),
    ast.Pow: ("**", operator.pow),
}
_CMPOPS: dict[type, tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Eq: ("==", operator.eq),
    ast.NotEq: ("!=", operator.ne),
    ast.Lt: ("<", operator.lt),
    ast.LtE: ("<=", operator.le),
    ast.Gt: (">", operator.gt),
    ast.GtE: (">=", operator.ge),
}
_REFUSED_OPS = {
    ast.BitAnd: "'&' is not allowed (use 'and')",
    ast.BitOr: "'|' is not allowed (use 'or')",
    ast.BitXor: "'^' is not allowed",
    ast.LShift: "'<<' is not allowed",
    ast.RShift: "'>>' is not allowed",
    ast.MatMult: "'@' is not allowed",
    ast.Invert: "'~' is not allowed (use 'not')",
    ast.Is: "'is' is not allowed (use '==')",
    ast.IsNot: "'is not' is not allowed (use '!=')",
}
_REFUSED_NODES = {
    ast.Call: "function calls are not allowed",
    ast.Attribute: "attribute access ('.name') is not allowed",
    ast.Subscript: "subscripts ('[...]') are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.IfExp: "conditional expressions ('x if c else y') are not allowed",
    ast.Dict: "dictionaries are not allowed",
    ast.Set: "sets are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.NamedExpr: "':=' is not allowed",
    ast.Starred: "'*' unpacking is not allowed",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
    ast.YieldFrom: "'yield' is not allowed",
    ast.Slice: "slices are not allowed",
}


def _refuse(node: ast.AST) -> ExprError:
    for kind, msg in _REFUSED_NODES.items():
        if isinstance(node, kind):
            return ExprError(msg)
    return ExprError(f"'{type(node).__name__}' is not allowed in expressions")


def _check(node: ast.AST, names: set[str], columns: Mapping[str, str]) -> None:
    """Walk the tree and refuse anything outside the allow-list; collect column names."""
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINOPS:
            raise ExprError(_REFUSED_OPS.get(type(node.op), "operator not allowed"))
        _check(node.left, names, columns)
        _check(node.right, names, columns)
    elif isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd, ast.Not)):
            raise ExprError(_REFUSED_OPS.get(type(node.op), "operator not allowed"))
        _check(node.operand, names, columns)
    elif isinstance(node, ast.BoolOp):
        for v in node.values:
            _check(v, names, columns)
    elif isinstance(node, ast.Compare):
        _check(node.left, names, columns)
        for op, right in zip(node.ops, node.comparators):
            if isinstance(op, (ast.In, ast.NotIn)):
                if not isinstance(right, (ast.List, ast.Tuple)):
                    raise ExprError("'in' needs a list of values: x in [1, 2]")
                for elt in right.elts:
                    if not _is_constant(elt):
                        raise ExprError("the list after 'in' may only hold numbers and strings")
            elif type(op) in _CMPOPS:
                _check(right, names, columns)
            else:
                raise ExprError(_REFUSED_OPS.get(type(op), "comparison not allowed"))
    elif isinstance(node, ast.Name):
        if node.id.startswith("__") or node.id.endswith("__"):
            raise ExprError(f"dunder names such as '{node.id}' are not allowed")
        if node.id in ("True", "False"):
            return
        names.add(columns.get(node.id, node.id))
    elif isinstance(node, ast.Constant):
        if not _is_constant(node):
            raise ExprError(f"constant {node.value!r} is not allowed (numbers, strings, True, False)")
    elif isinstance(node, (ast.List, ast.Tuple)):
        raise ExprError("a list is only allowed after 'in'")
    else:
        raise _refuse(node)


def _is_constant(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _is_constant(node.operand) and not isinstance(getattr(node.operand, "value", ""), str)
    return isinstance(node, ast.Constant) and (
        isinstance(node.value, (str, bool, float)) or type(node.value) is int)


def parse(text: str) -> Expr:
    """Parse and allow-list-check an author's expression; raise ExprError if not allowed."""
    text = str(text)
    if not text.strip():
        raise ExprError("empty expression")
    if len(text) > MAX_EXPR_CHARS:
        raise ExprError(f"expression longer than {MAX_EXPR_CHARS} characters")
    source, columns = _replace_backticks(text)
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as e:
        where = f" at character {e.offset}" if e.offset else ""
        hint = " (column names with spaces or symbols go in backticks: `Batch Size`)" if columns == {} else ""
        raise ExprError(f"syntax error{where}: {e.msg}{hint}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExprError("expression too deeply nested or invalid") from None
    names: set[str] = set()
    try:
        _check(tree.body, names, columns)
    except RecursionError:
        raise ExprError("expression too deeply nested") from None
    return Expr(text, tree, columns, frozenset(names))


# --- evaluation ----------------------------------------------------------------------

def _is_numeric(v: Any) -> bool:
    if isinstance(v, pd.Series):
        return ptypes.is_numeric_dtype(v.dtype) and not ptypes.is_bool_dtype(v.dtype)
    return isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_))


def _is_text(v: Any) -> bool:
    if isinstance(v, pd.Series):
        return ptypes.is_string_dtype(v.dtype) or v.dtype == object
    return isinstance(v, str)


def _is_bool(v: Any) -> bool:
    if isinstance(v, pd.Series):
        return ptypes.is_bool_dtype(v.dtype)
    return isinstance(v, (bool, np.bool_))


def _describe(v: Any) -> str:
    if _is_numeric(v):
        return "a number"
    if _is_bool(v):
        return "a condition"
    if _is_text(v):
        return "text"
    return "a value of another type"


class _Evaluator:
    def __init__(self, df: pd.DataFrame, columns: Mapping[str, str], codes: CodesFn | None = None):
        self.df = df
        self.columns = columns
        self.codes = codes

    def label(self, node: ast.AST) -> str:
        if isinstance(node, ast.Name):
            name = self.columns.get(node.id, node.id)
            return f"column '{name}'"
        return "a sub-expression"

    def visit(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant):
            v = node.value
            return float(v) if type(v) is int else v
        if isinstance(node, ast.Name):
            return self.column(node.id)
        if isinstance(node, ast.UnaryOp):
            v = self.visit(node.operand)
            if isinstance(node.op, ast.Not):
                self.need_bool(v, "not", node.operand)
                return ~v if isinstance(v, pd.Series) else not v
            self.need_number(v, "-" if isinstance(node.op, ast.USub) else "+", node.operand)
            return -v if isinstance(node.op, ast.USub) else +v
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.BoolOp):
            word = "and" if isinstance(node.op, ast.And) else "or"
            values = [self.visit(v) for v in node.values]
            for v, sub in zip(values, node.values):
                self.need_bool(v, word, sub)
            result = values[0]
            for v in values[1:]:
                result = _combine(result, v, word)
            return result
        if isinstance(node, ast.Compare):
            return self.compare(node)
        raise _refuse(node)  # unreachable after _check, kept as a second guard

    def column(self, ident: str) -> pd.Series | bool:
        if ident in ("True", "False"):
            return ident == "True"
        name = self.columns.get(ident, ident)
        if name in self.df.columns:
            return self.df[name]
        known = [str(c) for c in self.df.columns]
        prefixed = [c for c in known if c.startswith(name) and c != name]
        if ident not in self.columns and prefixed:
            hint = f" (did you mean `{prefixed[0]}`? names with spaces or symbols go in backticks)"
        else:
            hint = did_you_mean(name, known) or " (known columns: " + ", ".join(known) + ")"
        raise ExprError(f"unknown column '{name}'{hint}")

    def need_number(self, v: Any, op: str, node: ast.AST) -> None:
        if not _is_numeric(v):
            raise ExprError(f"'{op}' needs numbers, but {self.label(node)} is {_describe(v)}")

    def need_bool(self, v: Any, op: str, node: ast.AST) -> None:
        if not _is_bool(v):
            raise ExprError(f"'{op}' needs conditions (comparisons), but {self.label(node)} is {_describe(v)}")

    def binop(self, node: ast.BinOp) -> Any:
        sym, fn = _BINOPS[type(node.op)]
        a, b = self.visit(node.left), self.visit(node.right)
        if sym == "+" and _is_text(a) and _is_text(b):
            return fn(a, b)
        self.need_number(a, sym, node.left)
        self.need_number(b, sym, node.right)
        with np.errstate(all="ignore"):
            if isinstance(a, pd.Series) or isinstance(b, pd.Series):
                return fn(a, b)
            try:  # both scalars: numpy semantics (x/0 -> inf, overflow -> inf) instead of exceptions
                return fn(np.float64(a), np.float64(b))
            except (ZeroDivisionError, OverflowError, FloatingPointError):
                return float("nan")

    def fast_compare(self, node: ast.Compare) -> pd.Series | None:
        """`column == "text"`, `!=`, `in [...]` on a column with cached codes: no string compares."""
        if self.codes is None or len(node.ops) != 1 or not isinstance(node.left, ast.Name):
            return None
        op, right = node.ops[0], node.comparators[0]
        if isinstance(op, (ast.Eq, ast.NotEq)) and isinstance(right, ast.Constant) and isinstance(right.value, str):
            values = [right.value]
        elif isinstance(op, (ast.In, ast.NotIn)) and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in right.elts):  # type: ignore[attr-defined]
            values = [e.value for e in right.elts]  # type: ignore[attr-defined]
        else:
            return None
        name = self.columns.get(node.left.id, node.left.id)
        if name not in self.df.columns:
            return None
        got = self.codes(name)
        if got is None:
            return None
        codes, uniques = got
        wanted = np.searchsorted(uniques, values)
        hits = [int(w) for w, v in zip(wanted, values) if w < len(uniques) and uniques[w] == v]
        mask = np.isin(codes, hits) if len(hits) != 1 else codes == hits[0]
        if isinstance(op, (ast.NotEq, ast.NotIn)):
            mask = ~mask
        return pd.Series(mask, index=self.df.index)

    def compare(self, node: ast.Compare) -> Any:
        fast = self.fast_compare(node)
        if fast is not None:
            return fast
        left = self.visit(node.left)
        result = None
        for op, right_node in zip(node.ops, node.comparators):
            if isinstance(op, (ast.In, ast.NotIn)):
                values = [_constant_value(e) for e in right_node.elts]  # type: ignore[attr-defined]
                if isinstance(left, pd.Series):
                    r = left.isin(values)
                    part = ~r if isinstance(op, ast.NotIn) else r
                else:
                    part = (left in values) != isinstance(op, ast.NotIn)
                right = None
            else:
                sym, fn = _CMPOPS[type(op)]
                right = self.visit(right_node)
                if sym not in ("==", "!=") and not (
                        (_is_numeric(left) and _is_numeric(right)) or (_is_text(left) and _is_text(right))):
                    raise ExprError(f"cannot compare {_describe(left)} with {_describe(right)} using '{sym}'")
                try:
                    part = fn(left, right)
                except (TypeError, ValueError) as e:
                    raise ExprError(f"cannot compare with '{sym}': {e}") from None
                if isinstance(part, pd.Series):
                    part = part.fillna(False).astype(bool)
            result = part if result is None else _combine(result, part, "and")
            left = right
        return result


def _combine(a: Any, b: Any, word: str) -> Any:
    if isinstance(a, pd.Series) or isinstance(b, pd.Series):
        return (a & b) if word == "and" else (a | b)
    return (a and b) if word == "and" else (a or b)


def _constant_value(node: ast.AST) -> Any:
    if isinstance(node, ast.UnaryOp):
        v = _constant_value(node.operand)
        return -v if isinstance(node.op, ast.USub) else v
    v = node.value  # type: ignore[attr-defined]
    return v


def evaluate_condition(expr: Expr, df: pd.DataFrame, codes: CodesFn | None = None) -> pd.Series:
    """Evaluate a `where` expression to a boolean mask aligned with df."""
    v = expr.evaluate(df, codes)
    if isinstance(v, pd.Series):
        if not ptypes.is_bool_dtype(v.dtype):
            raise ExprError(f"'where' needs a condition (e.g. a comparison), but this is {_describe(v)}")
        return v.fillna(False).astype(bool)
    if isinstance(v, (bool, np.bool_)):
        return pd.Series(bool(v), index=df.index)
    raise ExprError(f"'where' needs a condition (e.g. a comparison), but this is {_describe(v)}")


def evaluate_column(expr: Expr, df: pd.DataFrame) -> pd.Series:
    """Evaluate a `derive` expression to a column aligned with df (scalars are broadcast)."""
    v = expr.evaluate(df)
    if isinstance(v, pd.Series):
        return v
    return pd.Series(v, index=df.index)
