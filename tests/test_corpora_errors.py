"""Both Dendron corpora (beside the project, when present) give `kb check` no false errors:
every broken link, heading or block it reports is checked against the files, independently
of kb (names without case, headings by their letters and digits outside code and comments,
block ids by text; a target with no file of its own is a stub page, without headings or blocks).
"""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from test_cli_support import run_kb

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpora"
CORPORA = ["dendron-site", "dendron-handbook"]
MSG_RE = re.compile(r"^(notes/\S+\.md):(\d+):(\d+): error: (.*) \[([\w-]+)\]$")


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _headings(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    text = re.sub(r"<!--.*?(?:-->|\Z)", "", text, flags=re.S)     # a heading in a comment is no heading
    return {_key(m[1]) for m in re.finditer(r"^#{1,6}\s+(.*?)\s*#*\s*$", text, re.M)}


def checked_corpus(corpus: str, tmp_path: Path) -> tuple[Path, subprocess.CompletedProcess]:
    """A project holding a copy of the corpus's vault, and what `kb check` said of it (skips
    when the corpus is not beside the project)."""
    vault = SHARED / corpus / "vault"
    if not vault.is_dir():
        pytest.skip(f"the {corpus} corpus is not beside the project")
    proj = tmp_path / "proj"
    shutil.copytree(vault, proj / "notes")
    (proj / "data").mkdir()
    (proj / "mkdocs.yml").write_text("site_name: corpus\ndocs_dir: notes\n", encoding="utf-8")
    return proj, run_kb("check", cwd=proj)


@pytest.mark.parametrize("corpus", CORPORA)
def test_every_reported_target_is_really_missing(corpus: str, tmp_path: Path) -> None:
    proj, r = checked_corpus(corpus, tmp_path)
    files = {p.name[:-3].lower(): p for p in (proj / "notes").glob("*.md")}
    false: list[str] = []
    checked = 0
    for line in r.stdout.splitlines():
        m = MSG_RE.match(line)
        if not m:
            continue
        message, code = m[4], m[5]
        if code == "broken-link" and (n := re.match(r'no note named "([^"]+)"', message)):
            checked += 1
            if n[1].lower() in files:
                false.append(line)
        elif code in ("broken-anchor", "broken-embed") and (h := re.search(r'no heading "([^"]+)"(?: after "[^"]+")? in "([^"]+)"', message)):
            checked += 1
            target = files.get(h[2].lower())       # None: a stub page, which has no headings
            if target is not None and _key(h[1]) in _headings(target):
                false.append(line)
        elif code in ("broken-block", "broken-embed") and (b := re.search(r'no block "\^([^"]+)"(?: after "[^"]+")? in "([^"]+)"', message)):
            checked += 1
            target = files.get(b[2].lower())
            if target is not None and re.search(rf"(?:^|\s)\^{re.escape(b[1])}\s*$",
                                           target.read_text(encoding="utf-8", errors="replace"), re.M):
                false.append(line)
    assert checked > 0
    assert not false, f"{len(false)} reported but present:\n" + "\n".join(false[:20])
