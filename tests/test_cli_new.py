"""`kb new`: a Dendron note with a fresh id; never overwrites; bad names are usage errors."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml

from test_cli_support import make_vault, run_kb


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    return make_vault(tmp_path)


def frontmatter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_new_note_has_dendron_frontmatter(proj: Path) -> None:
    start = int(time.time() * 1000)
    r = run_kb("new", "hardware.aws.inference-accelerator", cwd=proj)
    end = int(time.time() * 1000)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "notes/hardware.aws.inference-accelerator.md"
    fm = frontmatter(proj / "notes" / "hardware.aws.inference-accelerator.md")
    assert list(fm) == ["id", "title", "desc", "updated", "created"]
    assert re.fullmatch(r"[a-z0-9]{23}", fm["id"])
    assert fm["title"] == "Inference Accelerator"
    assert fm["desc"] == ""
    assert fm["created"] == fm["updated"] and start <= fm["created"] <= end
    # The new note is a clean part of the vault.
    assert run_kb("check", "--strict", cwd=proj).returncode == 0


def test_ids_differ(proj: Path) -> None:
    run_kb("new", "a.one", cwd=proj)
    run_kb("new", "a.two", cwd=proj)
    assert frontmatter(proj / "notes" / "a.one.md")["id"] != frontmatter(proj / "notes" / "a.two.md")["id"]


@pytest.mark.parametrize("title", ["T4: the card", "#1 choice", "'quoted'", "0.08", "yes", "Ünïcode — ok"])
def test_title_option_round_trips_through_yaml(proj: Path, title: str) -> None:
    r = run_kb("new", "hardware.gpu.x", "--title", title, cwd=proj)
    assert r.returncode == 0, r.stderr
    assert frontmatter(proj / "notes" / "hardware.gpu.x.md")["title"] == title


def test_refuses_to_overwrite(proj: Path) -> None:
    path = proj / "notes" / "hardware.gpu.md"
    before = path.read_bytes()
    r = run_kb("new", "hardware.gpu", cwd=proj)
    assert r.returncode == 1
    assert "notes/hardware.gpu.md already exists; not overwriting it" in r.stderr
    assert path.read_bytes() == before


@pytest.mark.parametrize("fname", ["a..b", ".a", "a.", "a b", "a/b", "a#b", "a|b", "a.b.md", "a.*"])
def test_bad_fname_is_usage_error(proj: Path, fname: str) -> None:
    before = sorted(p.name for p in (proj / "notes").iterdir())
    r = run_kb("new", fname, cwd=proj)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("kb new: ")
    assert sorted(p.name for p in (proj / "notes").iterdir()) == before


def test_dash_C(proj: Path, tmp_path: Path) -> None:
    r = run_kb("-C", str(proj), "new", "guides.quickstart", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (proj / "notes" / "guides.quickstart.md").is_file()
