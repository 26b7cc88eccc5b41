"""The parser's fast paths answer exactly as the general rule they stand in for: frontmatter
found without its pattern and read without YAML, headings read without the heading pattern,
tags found with a look-back.
Each is compared with its oracle on real notes and on many generated ones."""
from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
import yaml

from kb.parse.headings import headings_at
from kb.parse.syntax import HEADING_RE, scan
from kb.parse.vault import _fast_frontmatter, _Loader, frontmatter_span

ROOT = Path(__file__).resolve().parents[1]
# Frontmatter as one pattern (the rule frontmatter_span follows): '---', then the YAML up to the
# next line '---', which may be the second line (`??`).
FM_RE = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)??---[ \t]*(?:\r?\n|\Z)", re.S)
VAULTS = [ROOT / "notes", ROOT / "tests" / "fixtures" / "cli" / "vault" / "notes",
          ROOT.parent / "shared" / "corpora" / "dendron-site" / "vault"]


def frontmatters() -> list[str]:
    out = []
    for folder in VAULTS:
        for path in sorted(folder.glob("*.md")) if folder.is_dir() else []:
            m = FM_RE.match(path.read_text(encoding="utf-8"))
            if m and m.group(1):
                out.append(m.group(1))
    return out


def generated_frontmatters(n: int, seed: int = 7) -> list[str]:
    keys = ["id", "title", "k-2", "_x", "9a", "a b", "é", "", "on", "Y", "null"]
    seps = [":", ": ", ":\t", ":  ", "", " :"]
    values = ["x", "1", "1.5", "'q'", '"q"', "a b", "a: b", "a #c", "true", "No", "[1]", "- x", "", " ",
              "x ", "x\t", "'a'b'", "\\", "1e5", ".5", "-3", "007", "010", "é", "1_000", "0x1F", "~", "null",
              "+1", "1.5e+3", "1.5e3", ".inf", ".NaN", "1:20", "2024-01-02", "0", "12.", "0.50", "x:y", "١٢"]
    r = random.Random(seed)
    out = []
    for _ in range(n):
        lines = [r.choice(keys) + r.choice(seps) + r.choice(values) for _ in range(r.randint(1, 5))]
        if r.random() < 0.2:
            lines.insert(r.randint(0, len(lines)), r.choice(["", "  "]))
        out.append(r.choice(["\n", "\r\n"]).join(lines) + "\n")
    return out


def _span_is_pattern(texts: list[str]) -> int:
    """Asserts frontmatter_span agrees with FM_RE on every text; returns how many have frontmatter."""
    found = 0
    for text in texts:
        m, span = FM_RE.match(text), frontmatter_span(text)
        assert (span is None) == (m is None), repr(text)
        if m:
            found += 1
            assert (text[span[0]:span[1]] or None, span[2]) == (m.group(1), m.end()), repr(text)
    return found


def test_frontmatter_found_without_its_pattern_is_what_the_pattern_finds() -> None:
    """frontmatter_span gives FM_RE's YAML and body start, on the project's notes and generated texts."""
    own = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "notes").glob("*.md"))]
    assert _span_is_pattern(own) == len(own) > 50      # every shipped note has frontmatter
    pieces = ["---", "--- ", "---\t", "----", "-- -", " ---", "\n", "\r\n", "\r", "a: b", "x", "", "  ", "#"]
    r = random.Random(2)
    openers = ["---\n", "---\r\n", "--- \t\n", "---\r", ""]
    generated = [r.choice(openers) + "".join(r.choice(pieces) for _ in range(r.randint(1, 10)))
                 for _ in range(20_000)]
    assert _span_is_pattern(generated) > 1_000         # the generator reaches both outcomes often


@pytest.mark.skipif(not VAULTS[-1].is_dir(), reason="the dendron-site corpus is not in ../shared/corpora")
def test_frontmatter_span_on_the_dendron_docs_vault() -> None:
    texts = [p.read_text(encoding="utf-8") for p in sorted(VAULTS[-1].glob("*.md"))]
    assert _span_is_pattern(texts) > 900


def test_frontmatter_read_without_yaml_is_what_yaml_reads() -> None:
    texts = frontmatters() + generated_frontmatters(20_000)
    answered = 0
    for text in texts:
        fast = _fast_frontmatter(text)
        if fast is None:
            continue            # left to YAML
        answered += 1
        expected = yaml.load(text, Loader=_Loader)
        expected = {} if expected is None else expected        # blank frontmatter: no keys either way
        assert fast == expected, text
        assert [type(v) for v in fast.values()] == [type(v) for v in expected.values()], text
    assert answered > 300       # the fast path is taken (on about half of real notes)


def reference_headings(lines: list[str]) -> list[tuple[int, str]]:
    """(level, text) by the heading pattern alone, as headings were read before the fast path."""
    out = []
    for line in lines:
        m = HEADING_RE.match(line)
        if m:
            out.append((len(m["hashes"]), m["text"].strip()))
    return out


def test_headings_read_without_the_pattern_are_what_the_pattern_reads() -> None:
    parts = ["#", "##", "######", "#######", " ", "\t", "Title", "a b", "#", " #", " ##", "  ", "x#", "\r", "é"]
    r = random.Random(11)
    lines = ["".join(r.choice(parts) for _ in range(r.randint(1, 6))) for _ in range(20_000)]
    lines = [line for line in lines if line.startswith("#")]
    found = [(h.level, h.text) for h in headings_at(list(enumerate(lines)))]
    assert found == reference_headings(lines)
    assert len(found) > 1_000


def reference_tags(body: str) -> list[str]:
    """#tags after the start, white space, '(' or '[' (not in headings), as the rule says."""
    out = []
    for m in re.finditer(r"#([A-Za-z][\w\-./]*)", body):
        start = m.start()
        if start and body[start - 1] not in " \t\n([":
            continue
        line_start = body.rfind("\n", 0, start) + 1
        line_end = body.find("\n", start)
        if HEADING_RE.match(body[line_start:line_end if line_end >= 0 else len(body)]):
            continue
        name = m[1].rstrip(".-/")
        if name:
            out.append(name)
    return out


@pytest.mark.parametrize("seed", range(3))
def test_tags_found_with_a_look_back_are_the_tags_the_rule_finds(seed: int) -> None:
    parts = ["#", "#a", "#gpu.t4", "#x-", "x#y", "(#p)", "[#q] ", " ", "\n", "\t", "word", "#9", "e@mail", "##", "# "]
    r = random.Random(seed)
    for _ in range(3_000):
        body = "".join(r.choice(parts) for _ in range(r.randint(1, 12)))
        assert [t.value for t in scan(body, ("tag",))] == reference_tags(body), body


QUALIFY_PIECES = ["[[#h]]", "[[ #h]]", "[[a|#h]]", "[[a| #h]]", "[[a|]]", "[[ ]]", "[[dendron://v/#h]]",
                  "[[dendron://v/]]", "[[a.b#h]]", "[[a.b]]", "[[#h|a]]", "[[a.*]]", "![[#h]]", "`[[#h]]`",
                  "# head", "x#y", "http://x/#y", "a|b", "see", "[[a|b#c]]", "[[\u00a0#h]]", "\n", "```\n"]


def test_qualify_leaves_alone_exactly_the_texts_it_would_not_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """qualify skips texts where no reference can name no note; the full pass agrees on them."""
    import kb.link.embeds
    from kb.parse.refs import parse_ref
    parse = lambda raw: parse_ref(raw, {"a", "a.b"}.__contains__)  # noqa: E731
    r = random.Random(5)
    texts = [" ".join(r.choice(QUALIFY_PIECES) for _ in range(r.randint(1, 8))) for _ in range(5_000)]
    fast = [kb.link.embeds.qualify(t, "n.x", parse) for t in texts]
    skipped = sum("[[" in t and "#" in t and not kb.link.embeds._MAYBE_SAME_NOTE_RE.search(t) for t in texts)
    monkeypatch.setattr(kb.link.embeds, "_MAYBE_SAME_NOTE_RE", re.compile(""))     # always the full pass
    full = [kb.link.embeds.qualify(t, "n.x", parse) for t in texts]
    assert fast == full
    assert sum(f != t for f, t in zip(fast, texts)) > 1_000 and skipped > 100    # both ways, often


def test_a_heading_key_belongs_to_the_first_heading_that_has_it() -> None:
    """Two headings with one text: a link by the text or the slug goes to the first, as the
    first holds the plain id in the built page; the second answers to its own id."""
    from kb.parse.headings import Heading
    from kb.link.resolve import AnchorIndex
    first, second = Heading(2, "Setup", "setup", 3), Heading(2, "Setup", "setup_1", 9)
    idx = AnchorIndex([first, second], set())
    assert idx.find("setup") == idx.find("Setup") == first
    assert idx.find("setup_1") == second


def test_a_heading_found_by_scanning_is_the_one_the_table_finds() -> None:
    """A page's first lookups scan its headings; later ones use a table of keys: the same answer."""
    from kb.parse.headings import canonical
    from kb.link.resolve import AnchorIndex
    words = ["Setup", "setup", "Set_up", "Set-up", "set up", "Set  up", "A b", "a_b", "a-b", "É", "x_1", "x"]
    r = random.Random(4)
    asked = 0
    for _ in range(2_000):
        lines = ["#" * r.randint(1, 3) + " " + r.choice(words) for _ in range(r.randint(1, 6))]
        heads = headings_at(list(enumerate(lines)))
        anchors = [r.choice(words + [h.slug for h in heads] + [canonical(h.slug) for h in heads]) for _ in range(3)]
        table = AnchorIndex(heads, set())
        table._asked = 99           # noqa: SLF001 (straight to the table)
        for anchor in anchors:
            assert AnchorIndex(heads, set()).find(anchor) == table.find(anchor), (lines, anchor)
            asked += table.find(anchor) is not None
    assert asked > 3_000


REF_PIECES = ["a", "a.b", "x", " ", "|", "#", "#h", "h-1", "^b", ":", ",1", ".*", "dendron://v/", "é", "*",
              "text", "\u00a0", "_", "-"]


def test_links_read_without_the_general_parse_read_as_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """parse_ref's shortcuts for `a.b` and `text|a.b#h` give the general parse's Ref."""
    import kb.parse.refs
    r = random.Random(3)
    raws = [f"{r.choice(['', 'about a', ' t '])}|{r.choice(['a', 'a.b', 'x'])}#{r.choice(['h', 'h-1', 'é_2'])}"
            for _ in range(300)]
    raws += ["".join(r.choice(REF_PIECES) for _ in range(r.randint(1, 7))) for _ in range(20_000)]
    exists = {"a", "a.b", "t"}.__contains__
    fast = [(kb.parse.refs.parse_ref(raw, exists), kb.parse.refs.parse_ref(raw)) for raw in raws]
    taken = sum(bool(kb.parse.refs._ALIASED_RE.fullmatch(raw)) for raw in raws)
    monkeypatch.setattr(kb.parse.refs, "_PLAIN_RE", re.compile(r"(?!)"))       # never: the general parse
    monkeypatch.setattr(kb.parse.refs, "_ALIASED_RE", re.compile(r"(?!)"))
    assert fast == [(kb.parse.refs.parse_ref(raw, exists), kb.parse.refs.parse_ref(raw)) for raw in raws]
    assert taken > 300


def test_an_empty_frontmatter_ends_at_its_second_line() -> None:
    """A later '---' line (a thematic break in the body) does not stretch an empty frontmatter."""
    from kb.parse.vault import parse_note
    note = parse_note("notes/a.md", "notes/a.md", "---\n---\nBody\n\n---\n\nmore\n")
    assert note.fm == {} and note.has_frontmatter
    assert note.body == "Body\n\n---\n\nmore\n" and note.body_line == 2


EMBED_PIECES = ["![[a]]", "![[a.b#h]]", "[[a]]", "!", "![[", "[[", "]]", "!![[b]]", "![[[c]]", "x", " ", "\n",
                "`", "```\n", "<!--", "-->", "[[a|![[b]]]]", "#t", "\t"]


@pytest.mark.parametrize("in_comments", [False, True])
def test_embeds_found_alone_are_the_embeds_of_a_full_scan(in_comments: bool) -> None:
    """scan(..., ("embed",)) reads only '![[' matches: the same tokens as the full scan's embeds."""
    r = random.Random(9)
    found = 0
    for _ in range(5_000):
        body = "".join(r.choice(EMBED_PIECES) for _ in range(r.randint(1, 12)))
        alone = scan(body, ("embed",), in_comments=in_comments)
        full = [t for t in scan(body, ("link", "embed"), in_comments=in_comments) if t.kind == "embed"]
        assert alone == full, repr(body)
        found += len(alone)
    assert found > 2_000


def test_heading_ids_are_the_ids_python_markdown_gives() -> None:
    """Ids of headings with inline Markdown (what the slug memo keeps per line) are toc's own."""
    import markdown
    lines = ["## The `foo` **bar**", "## See [the docs](https://x.org/a) &amp; more", "## __init__ and *x*",
             "## <span>Tagged</span> text", "## Title", "## Title", "### a_b-c  d", "#### Ünïcode — dash",
             "## Closed ##"]
    html = markdown.markdown("\n\n".join(lines), extensions=["toc"])
    assert [h.slug for h in headings_at(list(enumerate(lines)))] == re.findall(r'<h\d id="([^"]+)"', html)
