"""Content checks over the shipped vault (notes/*.md).

These tests read the Markdown files directly, without building the site, so they
guard the content itself: frontmatter, size of the vault, questions, live data
blocks and the link graph.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "notes"

FENCE_RE = re.compile(r"^(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$",
                      re.M | re.S)
INLINE_CODE_RE = re.compile(r"`[^`\n]*`")
WIKILINK_RE = re.compile(r"!?\[\[([^\[\]\n]+?)\]\]")
HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.M)


def split_note(path: Path) -> tuple[dict, str]:
    """(frontmatter, body) of a note; frontmatter is {} when missing."""
    text = path.read_text(encoding="utf-8")
    if text.startswith("---"):
        parts = re.split(r"^---[ \t]*$", text, maxsplit=2, flags=re.M)
        if len(parts) == 3:
            meta = yaml.safe_load(parts[1]) or {}
            assert isinstance(meta, dict), f"{path.name}: frontmatter is not a mapping"
            return meta, parts[2]
    return {}, text


def fenced_blocks(body: str) -> list[tuple[str, str]]:
    """(info string, body) of every fenced code block."""
    return [(m.group("info").strip(), m.group("body")) for m in FENCE_RE.finditer(body)]


def prose(body: str) -> str:
    """The body without fenced blocks and inline code."""
    return INLINE_CODE_RE.sub(" ", FENCE_RE.sub(" ", body))


def link_target(raw: str) -> str:
    """The note fname a wikilink points at ('' for a link to a heading of the same note)."""
    target = raw.split("|", 1)[1] if "|" in raw else raw
    target = target.strip()
    if target.startswith("dendron://"):
        target = target[len("dendron://"):].split("/", 1)[-1]
    return target.split("#", 1)[0].strip()


def resolve_link(raw: str, known: set[str]) -> str:
    """Dendron order [[text|fname]] first; Obsidian order [[fname|text]] when only its left side is a note."""
    target = link_target(raw)
    if target not in known and "|" in raw:
        left = link_target(raw.split("|", 1)[0])
        if left in known:
            return left
    return target


def vault() -> dict[str, tuple[dict, str]]:
    return {p.stem: split_note(p) for p in sorted(NOTES.glob("*.md"))}


VAULT = vault()
FNAMES = set(VAULT)
# A missing ancestor becomes a generated stub page, so links to it are real links too.
KNOWN = FNAMES | {".".join(f.split(".")[:i]) for f in FNAMES for i in range(1, f.count(".") + 1)}


def test_vault_has_at_least_40_notes():
    assert len(VAULT) >= 40, f"only {len(VAULT)} notes in notes/"


@pytest.mark.parametrize("fname", sorted(VAULT))
def test_note_has_id_title_desc(fname):
    meta, _ = VAULT[fname]
    for key in ("id", "title", "desc"):
        value = meta.get(key)
        assert isinstance(value, str) and value.strip(), f"{fname}: frontmatter '{key}' missing or empty"


def test_note_ids_are_unique():
    seen: dict[str, str] = {}
    for fname, (meta, _) in VAULT.items():
        nid = str(meta.get("id"))
        assert nid not in seen, f"{fname} and {seen[nid]} share the id {nid}"
        seen[nid] = fname


@pytest.mark.parametrize("fname", sorted(f for f in VAULT if f != "root"))
def test_note_has_at_least_60_words(fname):
    _, body = VAULT[fname]
    words = re.findall(r"[A-Za-z0-9][\w'’-]*", prose(body))
    assert len(words) >= 60, f"{fname}: only {len(words)} words"


@pytest.mark.parametrize("fname", sorted(VAULT))
def test_note_links_to_two_other_notes(fname):
    _, body = VAULT[fname]
    targets = {resolve_link(raw, KNOWN) for raw in WIKILINK_RE.findall(prose(body))}
    others = {t for t in targets if t and t != fname and t in KNOWN}
    assert len(others) >= 2, f"{fname}: wikilinks to other notes: {sorted(others)}"


def question_headings() -> list[tuple[str, str]]:
    out = []
    for fname, (_, body) in VAULT.items():
        for m in HEADING_RE.finditer(prose(body)):
            if m.group(2).strip().endswith("?"):
                out.append((fname, m.group(2).strip()))
    return out


def test_vault_has_at_least_25_questions():
    questions = question_headings()
    assert len(questions) >= 25, f"only {len(questions)} headings ending in '?'"


def test_faq_notes_hold_at_least_30_questions():
    faq = [q for q in question_headings() if q[0] == "faq" or q[0].startswith("faq.")]
    assert len(faq) >= 30, f"only {len(faq)} questions in the faq.* notes"


@pytest.mark.parametrize("fname", sorted(VAULT))
def test_headings_unique_within_note(fname):
    _, body = VAULT[fname]
    headings = [m.group(2).strip() for m in HEADING_RE.finditer(prose(body))]
    dupes = sorted({h for h in headings if headings.count(h) > 1})
    assert not dupes, f"{fname}: repeated headings {dupes}"


def count_blocks(kind: str) -> int:
    return sum(1 for _, body in VAULT.values() for info, _ in fenced_blocks(body) if info == kind)


def test_vault_has_at_least_10_tables_and_4_charts():
    assert count_blocks("table") >= 10, f"only {count_blocks('table')} table blocks"
    assert count_blocks("chart") >= 4, f"only {count_blocks('chart')} chart blocks"


@pytest.mark.parametrize("kind", ["table", "chart"])
def test_data_blocks_are_yaml_mappings_naming_an_existing_csv(kind):
    data = ROOT / "data"
    for fname, (_, body) in VAULT.items():
        for info, block in fenced_blocks(body):
            if info != kind:
                continue
            spec = yaml.safe_load(block)
            assert isinstance(spec, dict), f"{fname}: a {kind} block is not a YAML mapping"
            sources = [spec.get("source")] + [m.get("source") for m in spec.get("merge") or []]
            for src in sources:
                assert isinstance(src, str) and src, f"{fname}: a {kind} block has no source"
                assert (data / src).is_file(), f"{fname}: {kind} source data/{src} does not exist"
            if kind == "chart":
                assert spec.get("x") and spec.get("y"), f"{fname}: chart without x or y"


def test_data_block_columns_exist_in_their_csvs():
    """Every column a block shows must come from one of its CSVs or from its own `derive`."""
    import csv

    data = ROOT / "data"
    for fname, (_, body) in VAULT.items():
        for info, block in fenced_blocks(body):
            if info not in ("table", "chart"):
                continue
            spec = yaml.safe_load(block)
            sources = [spec["source"]] + [m["source"] for m in spec.get("merge") or []]
            known: set[str] = set()
            for src in sources:
                with open(data / src, newline="", encoding="utf-8") as fh:
                    known |= set(next(csv.reader(fh)))
            known |= set((spec.get("derive") or {}).keys())
            wanted = list(spec.get("columns") or [])
            for key in ("x", "series"):
                if spec.get(key):
                    wanted.append(spec[key])
            y = spec.get("y")
            wanted += y if isinstance(y, list) else ([y] if y else [])
            wanted += [s.lstrip("-") for s in spec.get("sort") or []]
            missing = [c for c in wanted if c not in known]
            assert not missing, f"{fname}: {info} block names unknown columns {missing}"


def test_faq_home_has_empty_questions_block():
    _, body = VAULT["faq"]
    blocks = [b for info, b in fenced_blocks(body) if info == "questions"]
    assert len(blocks) == 1, "faq.md needs exactly one ```questions block"
    assert blocks[0].strip() == "", "the ```questions block must be empty"


def test_cost_formula_is_live_not_typed():
    _, body = VAULT["methods.cost-per-million"]
    derived = [yaml.safe_load(b).get("derive") or {} for info, b in fenced_blocks(body) if info == "table"]
    assert any("Cost per 1M inferences" in d for d in derived)
    assert "1e6 / T × P / 3600" in body
