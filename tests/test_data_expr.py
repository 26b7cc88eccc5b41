"""The expression language of `where`/`derive`: what it computes and everything it refuses."""
from __future__ import annotations

import math
import time

import pandas as pd
import pytest

from kb.data import expr


@pytest.fixture
def df() -> pd.DataFrame:
    return pd.DataFrame({
        "Model": ["bert", "resnet", "yolo", "gpt"],
        "Batch Size": [1, 8, 16, 0],
        "Avg Throughput (/sec)": [100.0, 250.5, float("nan"), 40.0],
        "Application": ["NLP", "CV", "CV", "NLP"],
        "price": [0.2, 0.4, 0.4, 0.0],
    })


def ev(text: str, df: pd.DataFrame):
    return expr.parse(text).evaluate(df)


def test_arithmetic_with_backticked_columns(df):
    out = ev("1e6 / `Avg Throughput (/sec)` * price / 3600", df)
    assert out.iloc[0] == pytest.approx(1e6 / 100 * 0.2 / 3600)
    assert math.isnan(out.iloc[2])                      # missing stays missing


def test_all_operators(df):
    assert ev("`Batch Size` // 3", df).tolist() == [0, 2, 5, 0]
    assert ev("`Batch Size` % 3", df).tolist() == [1, 2, 1, 0]
    assert ev("`Batch Size` ** 2", df).tolist() == [1, 64, 256, 0]
    assert ev("-`Batch Size` + 1", df).tolist() == [0, -7, -15, 1]
    assert ev("(1 + 2) * 3", df) == 9


def test_division_by_zero_is_not_finite(df):
    out = ev("price / `Batch Size`", df)
    assert math.isinf(out.iloc[3]) or math.isnan(out.iloc[3])
    assert math.isinf(ev("1 / 0", df)) or math.isnan(ev("1 / 0", df))


def test_conditions(df):
    cond = expr.evaluate_condition
    assert cond(expr.parse('Application == "NLP"'), df).tolist() == [True, False, False, True]
    assert cond(expr.parse("Model in ['bert', 'yolo']"), df).tolist() == [True, False, True, False]
    assert cond(expr.parse("Model not in ['bert']"), df).tolist() == [False, True, True, True]
    assert cond(expr.parse("1 <= `Batch Size` < 16"), df).tolist() == [True, True, False, False]
    assert cond(expr.parse("not (Application == 'CV') or `Batch Size` > 10"), df).tolist() == \
        [True, False, True, True]
    assert cond(expr.parse("`Avg Throughput (/sec)` > 50 and price != 0"), df).tolist() == \
        [True, True, False, False]


def test_backtick_inside_string_literal_is_text(df):
    e = expr.parse("Model == 'a`b'")
    assert e.names == {"Model"}
    assert not expr.evaluate_condition(e, df).any()


def test_names_lists_the_columns_read():
    assert expr.parse("`Avg Throughput (/sec)` / `Batch Size` + price").names == \
        {"Avg Throughput (/sec)", "Batch Size", "price"}


def test_text_concatenation_but_no_text_arithmetic(df):
    assert ev("Model + '-' + Application", df).iloc[0] == "bert-NLP"
    with pytest.raises(expr.ExprError, match="needs numbers"):
        ev("Model * 1000000", df)


def test_huge_power_does_not_hang(df):
    start = time.monotonic()
    v = ev("9 ** 9 ** 9 ** 9", df)
    assert time.monotonic() - start < 1
    assert math.isinf(v) or math.isnan(v)


@pytest.mark.parametrize("text, message", [
    ("__import__('os').system('true')", "function calls are not allowed"),
    ("open('/etc/passwd')", "function calls are not allowed"),
    ("Model.upper", "attribute access"),
    ("Model.__class__", "attribute access"),
    ("Model[0]", "subscripts"),
    ("lambda: 1", "lambda is not allowed"),
    ("[m for m in Model]", "comprehensions are not allowed"),
    ("{m for m in Model}", "comprehensions are not allowed"),
    ("__class__", "dunder names"),
    ("__builtins__ == 1", "dunder names"),
    ("1 if Model else 2", "conditional expressions"),
    ("f'{Model}'", "f-strings are not allowed"),
    ("price & 1", "'&' is not allowed"),
    ("~price", "'~' is not allowed"),
    ("Model is None", "'is' is not allowed"),
    ("{1: 2}", "dictionaries are not allowed"),
    ("(x := 1)", "':=' is not allowed"),
    ("Model in Application", "'in' needs a list"),
    ("Model in [price]", "only hold numbers and strings"),
    ("[1, 2]", "only allowed after 'in'"),
    ("b'x' == Model", "not allowed"),
    ("Model ==", "syntax error"),
    ("`Batch Size", "unclosed backtick"),
    ("", "empty expression"),
])
def test_refusals(text, message):
    with pytest.raises(expr.ExprError, match=message.replace("(", r"\(").replace("[", r"\[")):
        expr.parse(text)


def test_unknown_column_suggests_backticks_for_a_prefix(df):
    with pytest.raises(expr.ExprError, match=r"did you mean `Batch Size`"):
        ev("Batch > 1", df)
    with pytest.raises(expr.ExprError, match=r'did you mean "Model"'):
        ev("Modle == 'x'", df)


def test_where_must_be_a_condition(df):
    with pytest.raises(expr.ExprError, match="needs a condition"):
        expr.evaluate_condition(expr.parse("price * 2"), df)
    with pytest.raises(expr.ExprError, match="needs conditions"):
        ev("price and Model == 'x'", df)


def test_ordering_text_against_number_is_refused(df):
    with pytest.raises(expr.ExprError, match="cannot compare"):
        ev("Model > 3", df)


def test_fast_text_comparisons_match_the_plain_ones():
    df = pd.DataFrame({"Model": ["b", "a", None, "c", "a", "zz"], "n": range(6)})
    df["Model"] = df["Model"].astype("str")
    codes, uniques = pd.factorize(df["Model"], sort=True)
    provider = lambda name: (codes, uniques.to_numpy(dtype=object)) if name == "Model" else None  # noqa: E731
    for text in ["Model == 'a'", "Model != 'a'", "Model == 'missing'", "Model in ['a', 'c', 'nope']",
                 "Model not in ['a']", "Model == 'a' or n > 4", "not Model == 'zz'"]:
        e = expr.parse(text)
        fast = expr.evaluate_condition(e, df, provider).tolist()
        plain = expr.evaluate_condition(e, df).tolist()
        assert fast == plain, text
