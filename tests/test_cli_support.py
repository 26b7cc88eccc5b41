"""Shared helpers for the `kb` command tests (no tests here): a fixture vault in tmp_path, and
the real `kb` command run as a subprocess on it."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "cli" / "vault"


def kb_command() -> list[str]:
    """The installed `kb` entry point next to this Python, else the module."""
    script = Path(sys.executable).with_name("kb")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "kb.emit.cli"]


def mkdocs_yml() -> str:
    """The project's mkdocs.yml with the hook and theme overrides pointing into the project."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^(\s*-\s*)hooks/kb_hook\.py\s*$", lambda m: m[1] + (ROOT / "hooks" / "kb_hook.py").as_posix(), text)
    text = re.sub(r"(?m)^(\s*custom_dir:\s*)overrides\s*$", lambda m: m[1] + (ROOT / "overrides").as_posix(), text)
    text = re.sub(r"(?m)^[ \t]*-[ \t]*hooks[ \t]*\n", "", text)     # `watch: [hooks]`: the copy has no hooks folder
    return text


def make_vault(tmp_path: Path, name: str = "proj") -> Path:
    dest = tmp_path / name
    shutil.copytree(FIXTURE, dest)
    (dest / "mkdocs.yml").write_text(mkdocs_yml(), encoding="utf-8")
    return dest


def run_kb(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "KB_RENAME_FAIL_AFTER"}
    full_env.update(NO_MKDOCS_2_WARNING="1", **(env or {}))
    return subprocess.run([*kb_command(), *args], cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout)


def note_text(note_id: str, title: str, body: str, extra: str = "") -> str:
    return (f"---\nid: {note_id}\ntitle: {title}\ndesc: ''\nupdated: 1700000000000\n"
            f"created: 1700000000000\n{extra}---\n\n{body}")


def write_note(proj: Path, fname: str, body: str, *, note_id: str | None = None, extra: str = "") -> Path:
    path = proj / "notes" / f"{fname}.md"
    nid = note_id or ("x" + hashlib.sha1(fname.encode()).hexdigest()[:22])
    path.write_text(note_text(nid, fname.split(".")[-1].title(), body, extra), encoding="utf-8")
    return path


def tree_bytes(folder: Path) -> dict[str, str]:
    """Every file under folder -> its sha256 (byte-for-byte comparisons)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def lines_of(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.strip()]
