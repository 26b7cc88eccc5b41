"""`outline` (what `kb check` reads of a plain note without the scanner) and headings read from
`plain_prose` answer exactly as the scanner does, or not at all: compared on the shipped notes,
the Dendron corpus, a generated vault and many bodies built from the pieces that make the
scanner's hard cases."""
from __future__ import annotations

import random
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

import kb.parse.headings
import kb.parse.syntax
from kb.parse.outline import outline
from kb.parse.syntax import TextIndex
from kb.parse.vault import REPLACED_KINDS, parse_note

ROOT = Path(__file__).resolve().parents[1]
VAULTS = [ROOT / "notes", ROOT / "tests" / "fixtures" / "cli" / "vault" / "notes",
          ROOT.parent / "shared" / "corpora" / "dendron-site" / "vault"]
GEN = ROOT.parent / "shared" / "bench" / "gen_vault.py"


@contextmanager
def general_path() -> Iterator[None]:
    """plain_prose never answers: code ranges, headings and tokens the general way (the oracle)."""
    saved = kb.parse.syntax.plain_prose
    kb.parse.syntax.plain_prose = kb.parse.headings.plain_prose = lambda *_args: None
    try:
        yield
    finally:
        kb.parse.syntax.plain_prose = kb.parse.headings.plain_prose = saved


def read(body: str) -> tuple:
    """Refs, headings, block ids, data fences and code ranges as a parsed note has them."""
    note = parse_note("x.md", "x.md", "---\nid: x\n---\n" + body)
    ix = TextIndex(body)
    return note.refs, note.headings, note.blocks, note.data_fences, (ix.fences, ix.code)


def agrees(body: str) -> bool:
    """Whether outline answered; asserts that an answer is the general path's, and that a note
    parsed with plain_prose (where it answers) has what the general path finds."""
    fast = outline(body, REPLACED_KINDS)
    parsed = read(body)
    with general_path():
        oracle = read(body)
    assert parsed == oracle, body
    if fast is not None:
        assert fast == oracle[:4], body
    return fast is not None


def bodies_in(folder: Path) -> list[str]:
    return [parse_note(p, p.name, p.read_text(encoding="utf-8")).body for p in sorted(folder.glob("*.md"))]


@pytest.mark.parametrize("folder", [p for p in VAULTS if p.is_dir()], ids=lambda p: p.parent.name)
def test_outline_reads_real_notes_as_the_scanner_does(folder: Path) -> None:
    answered = [agrees(body) for body in bodies_in(folder)]
    assert any(answered)        # plain notes exist in every vault, and are read the fast way


@pytest.mark.skipif(not GEN.is_file(), reason="the vault generator is in ../shared/bench")
def test_outline_reads_a_generated_vault_as_the_scanner_does(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(GEN), str(tmp_path / "v"), "--notes", "400", "--flavor", "kb"],
                   check=True, capture_output=True)
    answered = [agrees(body) for body in bodies_in(tmp_path / "v" / "notes")]
    assert sum(answered) >= 0.9 * len(answered)     # what the bench vault is made of: the fast way


PIECES = [
    "Text with [[a.b]] and [[c|d.e#f]].", "![[a.b]]", "!![[x]]", "![[[y]]", "[[ spaced ]]", "[[a]b]]",
    "# Title", "## Sec [[a.b]]", "### Closed ###", "####### seven", "#tag", " #tag", "a#b", "## A {#id}",
    "```", "```python", "````", "```table", "```chart x", "``` info ```", "  ```", "    ```", "```js",
    "code [[in.code]]", "`inline [[x]]`", "`a` [[b]]", "~~~", "<!-- [[c]] -->", "{{fm.title}}", "@user",
    "para ^block", "^id", "text\r", "", "", "", "plain words", "[[a.b#h1:#h2]]", "[[a.b.*]]", "]]", "[[",
]


def random_bodies(n: int, seed: int = 11) -> list[str]:
    r = random.Random(seed)
    return ["\n".join(r.choice(PIECES) for _ in range(r.randint(0, 14))) + r.choice(["", "\n"]) for _ in range(n)]


def test_outline_reads_generated_bodies_as_the_scanner_does() -> None:
    answered = [agrees(body) for body in random_bodies(20_000)]
    assert 2_000 < sum(answered) < len(answered)    # both ways are taken, many times each


def test_outline_leaves_what_it_does_not_read_to_the_scanner() -> None:
    for body in ["`code` [[a]]", "```\n[[a]]\n", "~~~\n[[a]]\n~~~", "<!-- [[a]] -->", "{{fm.x}}", "@me",
                 "#tag [[a]]", "x ^id", "a\r\nb", "```\nx ` y\n```", "  ```\n[[a]]\n  ```", "``` a`b\n```"]:
        assert outline(body, REPLACED_KINDS) is None, body
