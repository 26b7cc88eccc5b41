"""`kb rename`: every link form rewritten, subtrees moved, ids kept, all or nothing."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from test_cli_support import lines_of, make_vault, run_kb, tree_bytes, write_note

REFS = """\
Plain [[hardware.gpu]], Dendron [[GPU text|hardware.gpu]], Obsidian [[hardware.gpu|Obsidian text]].
Heading [[hardware.gpu#memory]], [[hardware.gpu#Some Heading|x]]... block [[hardware.gpu#^fast-mem]].
Vault [[dendron://main/hardware.gpu]] and [[ spaced | hardware.gpu ]].
Child [[hardware.gpu.t4]], [[T4 card|hardware.gpu.t4#specs]]; untouched: [[hardware]], [[hardware.gpus]], [[#local]].
![[hardware.gpu]]

![[hardware.gpu#memory:#serving]]

![[hardware.gpu#memory:#*]]

![[hardware.gpu.*]]

Markdown [file](hardware.gpu.t4.md#specs) and `[[hardware.gpu]]` in code.

```
[[hardware.gpu]] ![[hardware.gpu]]
```
"""

EXPECTED = """\
Plain [[hardware.accel]], Dendron [[GPU text|hardware.accel]], Obsidian [[hardware.accel|Obsidian text]].
Heading [[hardware.accel#memory]], [[hardware.accel#Some Heading|x]]... block [[hardware.accel#^fast-mem]].
Vault [[dendron://main/hardware.accel]] and [[ spaced | hardware.accel ]].
Child [[hardware.accel.t4]], [[T4 card|hardware.accel.t4#specs]]; untouched: [[hardware]], [[hardware.gpus]], [[#local]].
![[hardware.accel]]

![[hardware.accel#memory:#serving]]

![[hardware.accel#memory:#*]]

![[hardware.accel.*]]

Markdown [file](hardware.accel.t4.md#specs) and `[[hardware.gpu]]` in code.

```
[[hardware.gpu]] ![[hardware.gpu]]
```
"""


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    p = make_vault(tmp_path)
    write_note(p, "refs", REFS)
    return p


def notes(proj: Path) -> list[str]:
    return sorted(p.name for p in (proj / "notes").glob("*.md"))


def ids(proj: Path) -> dict[str, str]:
    out = {}
    for p in (proj / "notes").glob("*.md"):
        fm = yaml.safe_load(p.read_text(encoding="utf-8").split("---")[1])
        out[fm["id"]] = p.name
    return out


def test_rename_subtree_rewrites_every_link_form(proj: Path) -> None:
    before_ids = ids(proj)
    t4_before = (proj / "notes" / "hardware.gpu.t4.md").read_text(encoding="utf-8")
    r = run_kb("rename", "hardware.gpu", "hardware.accel", cwd=proj)
    assert r.returncode == 0, r.stderr
    assert notes(proj) == ["guides.md", "hardware.accel.md", "hardware.accel.t4.md", "hardware.accel.v100.md",
                           "hardware.md", "refs.md", "root.md", "tags.inference.md"]
    body = (proj / "notes" / "refs.md").read_text(encoding="utf-8").split("---\n\n", 1)[1]
    assert body == EXPECTED
    # The heading link in another note, the link inside a moved note, and the ids.
    assert "[[GPU memory|hardware.accel#memory]]" in (proj / "notes" / "guides.md").read_text(encoding="utf-8")
    t4_after = (proj / "notes" / "hardware.accel.t4.md").read_text(encoding="utf-8")
    assert t4_after == t4_before.replace("[[hardware.gpu]]", "[[hardware.accel]]")
    after_ids = ids(proj)
    assert set(after_ids) == set(before_ids)
    assert after_ids["gpu0000000000000000000a"] == "hardware.accel.md"
    assert after_ids["t40000000000000000000aa"] == "hardware.accel.t4.md"
    # Listed on stdout: the moves and the updated files.
    out = lines_of(r)
    assert "renamed notes/hardware.gpu.t4.md -> notes/hardware.accel.t4.md" in out
    assert "updated notes/refs.md (15 references)" in out
    # And the vault is clean afterwards (apart from the planted [[hardware.gpus]] and the heading).
    check = run_kb("check", cwd=proj)
    codes = sorted(ln.rsplit("[", 1)[1] for ln in lines_of(check))
    assert codes == ["broken-anchor]", "broken-anchor]", "broken-link]"], check.stdout


def test_links_yml_values_updated_keeping_comments_and_quotes(proj: Path) -> None:
    r = run_kb("rename", "hardware.gpu", "hardware.accel", cwd=proj)
    assert r.returncode == 0, r.stderr
    assert (proj / "data" / "links.yml").read_text(encoding="utf-8") == (
        "# Which note a cell is about.\n"
        "GPU:\n"
        "  T4: hardware.accel.t4   # the Turing card\n"
        '  "V100": "hardware.accel.v100"\n')
    assert "updated data/links.yml (2 references)" in lines_of(r)


def test_rename_a_leaf_keeps_siblings(proj: Path) -> None:
    r = run_kb("rename", "hardware.gpu.t4", "hardware.gpu.tesla-t4", cwd=proj)
    assert r.returncode == 0, r.stderr
    assert "hardware.gpu.tesla-t4.md" in notes(proj) and "hardware.gpu.v100.md" in notes(proj)
    body = (proj / "notes" / "refs.md").read_text(encoding="utf-8")
    assert "Child [[hardware.gpu.tesla-t4]], [[T4 card|hardware.gpu.tesla-t4#specs]]" in body
    assert "[file](hardware.gpu.tesla-t4.md#specs)" in body
    assert "Plain [[hardware.gpu]]," in body


def test_rename_tag_note_rewrites_hashtags_and_frontmatter_tags(proj: Path) -> None:
    write_note(proj, "tagged", "About #inference and #inference.batching, not #inferences.\n",
               extra="tags:\n  - inference\n  - other\n")
    r = run_kb("rename", "tags.inference", "tags.ml-inference", cwd=proj)
    assert r.returncode == 0, r.stderr
    text = (proj / "notes" / "tagged.md").read_text(encoding="utf-8")
    assert "tags:\n  - ml-inference\n  - other\n" in text
    assert "About #ml-inference and #ml-inference.batching, not #inferences." in text
    gpu = (proj / "notes" / "hardware.gpu.md").read_text(encoding="utf-8")
    assert "tags: [ml-inference]\n" in gpu
    assert (proj / "notes" / "tags.ml-inference.md").is_file()
    assert "Everything tagged #ml-inference." in (proj / "notes" / "tags.ml-inference.md").read_text(encoding="utf-8")


def test_rename_user_note_rewrites_mentions(proj: Path) -> None:
    write_note(proj, "user.alice", "Alice.\n")
    write_note(proj, "meeting", "Asked @alice, mailed alice@example.com.\n")
    r = run_kb("rename", "user.alice", "user.alice-b", cwd=proj)
    assert r.returncode == 0, r.stderr
    assert "Asked @alice-b, mailed alice@example.com." in (proj / "notes" / "meeting.md").read_text(encoding="utf-8")


def test_old_dendron_fname_and_hpath_follow_the_move(proj: Path) -> None:
    write_note(proj, "hardware.gpu.a100", "Ampere.\n", extra="fname: hardware.gpu.a100\nhpath: hardware/gpu/a100\n")
    r = run_kb("rename", "hardware.gpu", "hardware.accel", cwd=proj)
    assert r.returncode == 0, r.stderr
    text = (proj / "notes" / "hardware.accel.a100.md").read_text(encoding="utf-8")
    assert "fname: hardware.accel.a100\nhpath: hardware/accel/a100\n" in text
    assert run_kb("check", "--strict", cwd=proj).returncode == 1     # only the planted broken links in refs
    assert "frontmatter-hierarchy" not in run_kb("check", cwd=proj).stdout


def test_dry_run_lists_and_changes_nothing(proj: Path) -> None:
    before = tree_bytes(proj)
    r = run_kb("rename", "hardware.gpu", "hardware.accel", "--dry-run", cwd=proj)
    assert r.returncode == 0, r.stderr
    assert tree_bytes(proj) == before
    assert lines_of(r) == [
        "would rename notes/hardware.gpu.md -> notes/hardware.accel.md",
        "would rename notes/hardware.gpu.t4.md -> notes/hardware.accel.t4.md",
        "would rename notes/hardware.gpu.v100.md -> notes/hardware.accel.v100.md",
        "would update data/links.yml (2 references)",
        "would update notes/guides.md (1 reference)",
        "would update notes/refs.md (15 references)",
    ]
    assert "nothing changed" in r.stderr


def test_clash_is_refused_and_nothing_changes(proj: Path) -> None:
    write_note(proj, "hardware.accel.t4", "Already here.\n")
    before = tree_bytes(proj)
    r = run_kb("rename", "hardware.gpu", "hardware.accel", cwd=proj)
    assert r.returncode == 1
    assert "refusing to rename: notes/hardware.accel.t4.md already exists; choose another name or remove it" in r.stderr
    assert tree_bytes(proj) == before


def test_missing_old_is_refused(proj: Path) -> None:
    before = tree_bytes(proj)
    r = run_kb("rename", "hardware.gpux", "hardware.accel", cwd=proj)
    assert r.returncode == 1
    assert 'no note named "hardware.gpux"' in r.stderr and 'did you mean "hardware.gpu"' in r.stderr
    assert tree_bytes(proj) == before


@pytest.mark.parametrize("old,new,code", [
    ("hardware.gpu", "hardware gpu", 2), ("hardware.gpu", "a..b", 2), ("hardware.gpu.md", "x", 2),   # malformed
    ("hardware.gpu", "hardware.gpu", 1), ("tags.inference", "inference", 1), ("root", "home", 1),    # refused
])
def test_bad_names_are_refused(proj: Path, old: str, new: str, code: int) -> None:
    before = tree_bytes(proj)
    r = run_kb("rename", old, new, cwd=proj)
    assert r.returncode == code, r.stderr
    assert r.stderr.startswith("kb rename: ")
    assert tree_bytes(proj) == before


@pytest.mark.parametrize("fail_after", ["0", "2", "4", "6"])
def test_failure_midway_restores_every_file(proj: Path, fail_after: str) -> None:
    before = tree_bytes(proj)
    r = run_kb("rename", "hardware.gpu", "hardware.accel", cwd=proj, env={"KB_RENAME_FAIL_AFTER": fail_after})
    assert r.returncode == 1
    assert f"rename failed after {fail_after} file operations" in r.stderr
    assert "every file was restored" in r.stderr
    assert tree_bytes(proj) == before      # same files (no temp files left), same bytes
    # And the same rename without the forced failure goes through.
    assert run_kb("rename", "hardware.gpu", "hardware.accel", cwd=proj).returncode == 0
