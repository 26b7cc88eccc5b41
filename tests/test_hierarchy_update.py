"""`Hierarchy.updated` (kb serve's update of the hierarchy after a save) against a hierarchy made
anew from the same notes: after random retitles, reorders, new notes (deep ones too), deletions,
unpublished notes and tags, the same pages in the same order, with the same kinds, notes,
titles, parents and children; where names differ only in case it declines (None)."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from kb.link.hierarchy import Hierarchy
from kb.link.linkgraph import LinkGraph
from kb.parse.vault import Vault, load_note

WORDS = ["gpu", "Cache", "tensor", "kernel", "batch", "LLM", "queue"]


def _state(h: Hierarchy) -> list[tuple]:
    return [(f, p.kind, id(p.note), p.title, p.parent, tuple(p.children)) for f, p in h.pages.items()]


def _write(path: Path, title: str, extra: str = "") -> None:
    path.write_text(f"---\nid: {path.stem}\ntitle: {title}\n{extra}---\n\nText.\n")


def _set(path: Path, key: str, value: str) -> None:
    head, sep, body = path.read_text().partition("\n---\n")
    lines = [ln for ln in head.split("\n") if not ln.startswith(key + ":")] + [f"{key}: {value}"]
    path.write_text("\n".join(lines) + sep + body)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_updated_equals_a_hierarchy_made_anew(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    notes = tmp_path / "notes"
    notes.mkdir()
    _write(notes / "root.md", "Home")
    for i in range(60):
        name = ".".join(rng.choice(["hw", "sw", "ml"]) if d == 0 else rng.choice(WORDS).lower() + str(rng.randint(0, 3))
                        for d in range(rng.randint(1, 4)))
        _write(notes / f"{name}.md", f"{rng.choice(WORDS)} {i}",
               f"tags: [{rng.choice(['t1', 't2'])}]\n" if rng.random() < 0.2 else "")
    vault = Vault(notes, tmp_path)
    graph = LinkGraph(vault)
    h = graph.hierarchy
    used = 0
    for step in range(150):
        files = sorted(p for p in notes.glob("*.md") if p.name != "root.md")
        path = rng.choice(files)
        kind = rng.choice(["title", "order", "exclude", "unpublish", "tags", "new", "new-deep", "new-beside", "delete"])
        changed = [path.stem]
        if kind == "title":
            _set(path, "title", f"{rng.choice(WORDS)} {rng.choice(WORDS)} {step}")
        elif kind == "order":
            _set(path, "nav_order", str(rng.randint(0, 4)))
        elif kind == "exclude":
            _set(path, "nav_exclude", rng.choice(["true", "false"]))
        elif kind == "unpublish":
            _set(path, "published", rng.choice(["false", "true"]))
        elif kind == "tags":
            _set(path, "tags", f"[{rng.choice(['t1', 't2'])}]")
        elif kind.startswith("new"):
            base = {"new": path.stem, "new-deep": f"{path.stem}.deep{step}.mid",
                    "new-beside": path.stem.rpartition(".")[0] or "ml"}[kind]
            changed = [f"{base}.n{step}"]
            _write(notes / f"{changed[0]}.md", f"{rng.choice(WORDS)} {step}")
        else:
            path.unlink()
        for fname in changed:
            p = notes / f"{fname}.md"
            if p.exists():
                vault.notes[fname] = load_note(p, f"notes/{p.name}")
            else:
                vault.notes.pop(fname, None)
        vault.notes = dict(sorted(vault.notes.items(), key=lambda kv: kv[0] + ".md"))
        graph.retag()
        published = vault.published
        up = h.updated(published, graph.tagged, graph.mentions, changed)
        anew = Hierarchy(published, graph.tagged, graph.mentions)
        if up is not None:
            used += 1
            assert _state(up) == _state(anew), (step, kind, changed)
        h = up or anew
    assert used > 100


def test_names_that_differ_only_in_case_are_made_anew(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    _write(notes / "a.java.x.md", "X")
    vault = Vault(notes, tmp_path)
    graph = LinkGraph(vault)
    _write(notes / "a.Java.y.md", "Y")    # a full build names the stub after the first name below it
    vault.notes["a.Java.y"] = load_note(notes / "a.Java.y.md", "notes/a.Java.y.md")
    assert graph.hierarchy.updated(vault.published, graph.tagged, graph.mentions, ["a.Java.y"]) is None
