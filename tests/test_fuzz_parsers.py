"""Fuzz tests of the parsers that read what authors write: no exception escapes but the module's
own documented error type. Random text is built from the characters these parsers care about,
so that most inputs are near-misses of real syntax. Speed is not tested here (bench/)."""
from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.parse import yamlguard
from kb.data import expr
from kb.data.spec import parse_spec
from kb.parse.refs import parse_ref
from kb.parse.syntax import _in_url, _line_facts, code_blocks, scan
from kb.parse.vault import parse_note

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SYNTAX = st.sampled_from(["[[", "]]", "![[", "|", "#", "^", "@", "`", "```", "~~~", "\n", " ", "\t", "-", ":",
                          "*", "&", "{{", "}}", "fm.", "<!--", "-->", "](", ")", "<", ">", "a.b", "x", "é", "\r",
                          "'", '"', ",", "[", "]", "{", "}", "dendron://", "http://", ".md", "---"])
MARKUP = st.lists(st.one_of(SYNTAX, st.text(max_size=4)), max_size=60).map("".join)


@FUZZ
@given(MARKUP)
def test_wikilink_parser(raw: str) -> None:
    ref = parse_ref(raw)                        # no error type: any text is a reference, maybe a broken one
    assert isinstance(ref.fname, (str, type(None)))
    parse_ref(raw, exists=lambda f: f == "a.b")


@FUZZ
@given(MARKUP)
def test_scanner(body: str) -> None:
    for tok in scan(body) + scan(body, in_comments=True):
        assert body[tok.start:tok.end] == tok.text
        assert body.count("\n", 0, tok.start) == tok.line
        assert tok.start - (body.rfind("\n", 0, tok.start) + 1) == tok.col
    code_blocks(body)


@FUZZ
@given(MARKUP, MARKUP)
def test_frontmatter(fm: str, body: str) -> None:
    note = parse_note("/v/notes/a.b.md", "notes/a.b.md", f"---\n{fm}\n---\n{body}")
    assert isinstance(note.fm, dict)            # problems are reported, never raised
    note.tags, note.title, note.updated, note.nav_order


YAML_TEXT = st.lists(st.sampled_from(["a: ", "- ", "[", "]", "{", "}", "&x ", "*x", "&y ", "*y", "\n", "  ", ", ",
                                      "1", "'", '"', "? ", "<<: ", "!!str ", "|", ">", "#"]), max_size=40).map("".join)


@FUZZ
@given(YAML_TEXT)
def test_bounded_yaml(text: str) -> None:
    try:
        yamlguard.load(text, yamlguard_loader())
    except yaml.YAMLError:          # YamlLimitError is one
        pass


def yamlguard_loader() -> type:
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


BLOCK_TEXT = st.lists(st.one_of(st.sampled_from(["source: ", "bench.csv", "where: ", "derive:\n  ", "columns: ",
                                                 "sort: ", "head: ", "{by: ", "n: ", "limit: ", "round: ",
                                                 "format: ", "caption: ", "merge:\n  - ", "on: ", "x: ", "y: ",
                                                 "kind: ", "\n", "`A b`", "[", "]", "{", "}", "*a", "&a ", ", ",
                                                 "1", "-", "'", '"', "{:,.2f}"]), YAML_TEXT), max_size=30).map("".join)


@FUZZ
@given(st.sampled_from(["table", "chart"]), BLOCK_TEXT)
def test_table_block_spec(kind: str, body: str) -> None:
    spec, diags = parse_spec(kind, body, note_path="notes/a.md", body_line=3)
    assert spec is not None or diags                # either a spec or a reason


EXPR_TEXT = st.lists(st.sampled_from(["a", "`A b`", "1", "2.5", "'s'", '"t"', "+", "-", "*", "/", "//", "%", "**",
                                      "==", "<", ">=", "and", "or", "not", "in", "[", "]", "(", ")", ",", " ",
                                      "__x__", ".", "lambda", ":", "f(", "`", "x[0]", "1e309", "\n"]),
                     max_size=40).map("".join)


@FUZZ
@given(st.one_of(EXPR_TEXT, st.text(max_size=40)))
def test_expression_parser(text: str) -> None:
    try:
        expr.parse(text)
    except expr.ExprError:
        pass


# -- the tag scan's per-line facts against the rule they replace ------------------------------
def _in_url_rule(line: str, pos: int) -> bool:
    """The check as it was written first (a search of the whole line for each tag)."""
    before = line[:pos]
    paren = before.rfind("](")
    if paren >= 0 and ")" not in before[paren:]:
        return True
    lt = before.rfind("<")
    if lt >= 0 and ">" not in before[lt:]:
        return True
    word = before.split()[-1] if before.split() else ""
    return "://" in word


LINE = st.lists(st.sampled_from(["](", ")", "<", ">", " ", "\t", "\u00a0", "://", "x", "#t", "(", "["]),
                max_size=30).map("".join)


@FUZZ
@given(LINE)
def test_in_url_matches_its_rule(line: str) -> None:
    facts = _line_facts(line, 0, None)
    for pos in range(len(line) + 1):
        assert _in_url(facts, pos) == _in_url_rule(line, pos), (line, pos)
