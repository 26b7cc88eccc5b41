"""Notes are parsed once and the parse is reused across `mkdocs serve` rebuilds while
their content is unchanged (the hook module, and so this cache, lives for the process)."""
from __future__ import annotations

from pathlib import Path

import kb.parse.vault as vault_mod
from kb.site import Site
from kb.parse.vault import Vault


def _count_parses(monkeypatch) -> list[str]:
    seen: list[str] = []
    real = vault_mod.parse_note

    def counting(path, rel, text):
        seen.append(path.name)
        return real(path, rel, text)

    monkeypatch.setattr(vault_mod, "parse_note", counting)
    return seen


def test_unchanged_notes_are_not_parsed_again(tmp_path: Path, monkeypatch) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a.md").write_text("---\nid: a\n---\nSee [[b]].\n")
    (notes / "b.md").write_text("---\nid: b\n---\nB.\n")
    seen = _count_parses(monkeypatch)
    first = Vault(notes, tmp_path)
    assert sorted(seen) == ["a.md", "b.md"]
    seen.clear()
    second = Vault(notes, tmp_path)                     # a rebuild: nothing changed
    assert seen == [] and second.notes["a"] is first.notes["a"]
    (notes / "b.md").write_text("---\nid: b\n---\nB, edited.\n")
    third = Vault(notes, tmp_path)                      # only the edited note is parsed again
    assert seen == ["b.md"] and third.notes["a"] is first.notes["a"]
    assert "edited" in third.notes["b"].body


def test_a_build_parses_each_note_once(tmp_path: Path, monkeypatch) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    for i in range(5):
        (notes / f"n{i}.md").write_text(f"---\nid: n{i}\n---\n## Part\n\n![[n{(i + 1) % 5}#part]] [[n{(i + 2) % 5}#part]]\n")
    seen = _count_parses(monkeypatch)
    Site(tmp_path, "notes", "data")
    assert sorted(seen) == [f"n{i}.md" for i in range(5)]
