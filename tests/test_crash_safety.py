"""`kb rename` and `kb build` killed with SIGKILL at chosen file operations (KB_FAULT_KILL_AFTER):
afterwards the vault is wholly old or wholly new, site/ is a whole site, nothing temporary stays."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_cli_support import kb_command, lines_of, make_vault, run_kb, tree_bytes, write_note

KILLED = -signal.SIGKILL
SUBTREE, NEW = "area6", "zone6"


# -- a 2,000-note vault -------------------------------------------------------------------------
def big_vault(tmp_path: Path) -> Path:
    """The CLI fixture plus 10 areas of 200 notes; every note links to its area and to a note in
    each of the three areas after it, so area6 (201 notes) has ~800 references from ~800 files."""
    proj = make_vault(tmp_path)
    for a in range(10):
        write_note(proj, f"area{a}", f"Area {a}: [[area{(a + 1) % 10}]].\n")
        for i in range(200):
            refs = " ".join(f"[[area{(a + k) % 10}.n{(i * 7 + k) % 200}]]" for k in range(1, 4))
            write_note(proj, f"area{a}.n{i}", f"Note {i} of area {a}: {refs}, ![[area{a}]], "
                                              f"[md](area{(a + 3) % 10}.n{i}.md).\n")
    with (proj / "data" / "links.yml").open("a", encoding="utf-8") as f:
        f.write("Area:\n" + "".join(f"  a{i}: {SUBTREE}.n{i}\n" for i in range(20)))
    return proj


def vault_state(proj: Path) -> dict[str, bytes]:
    return {p.relative_to(proj).as_posix(): p.read_bytes()
            for folder in ("notes", "data") for p in sorted((proj / folder).rglob("*")) if p.is_file()}


def set_state(proj: Path, state: dict[str, bytes]) -> None:
    now = vault_state(proj)
    for rel in set(now) - set(state):
        (proj / rel).unlink()
    for rel, data in state.items():
        if now.get(rel) != data:
            (proj / rel).write_bytes(data)


def leftovers(proj: Path) -> list[str]:
    """Journal and temp files anywhere in the project (the .kb-cache of kb check aside)."""
    return sorted(p.relative_to(proj).as_posix() for p in proj.rglob("*")
                  if p.name == ".kb-journal" or p.name.endswith(".kb-tmp"))


def which(state: dict[str, bytes], old: dict[str, bytes], new: dict[str, bytes]) -> str:
    if state == old:
        return "old"
    if state == new:
        return "new"
    mixed = sorted(k for k in set(state) | set(old) | set(new) if state.get(k) not in (old.get(k), new.get(k)))
    return f"mixed: {len(mixed)} files are neither old nor new, e.g. {mixed[:3]}"


@pytest.fixture(scope="module")
def renamed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes], dict[str, bytes], int, int]:
    """The vault, its state before and after a successful rename, and the rename's file counts."""
    proj = big_vault(tmp_path_factory.mktemp("crash"))
    old = vault_state(proj)
    dry = run_kb("rename", SUBTREE, NEW, "--dry-run", cwd=proj)
    assert dry.returncode == 0, dry.stderr
    moves = sum(ln.startswith("would rename ") for ln in lines_of(dry))
    updates = sum(ln.startswith("would update ") for ln in lines_of(dry))
    assert moves == 201 and updates > 500, (moves, updates)
    r = run_kb("rename", SUBTREE, NEW, cwd=proj)
    assert r.returncode == 0, r.stderr
    new = vault_state(proj)
    assert leftovers(proj) == []
    set_state(proj, old)
    return proj, old, new, moves + updates, moves


def kill_rename_at(proj: Path, op: int, env: dict[str, str] | None = None,
                   names: tuple[str, str] = (SUBTREE, NEW)) -> None:
    r = run_kb("rename", *names, cwd=proj, env={"KB_FAULT_KILL_AFTER": str(op), **(env or {})})
    assert r.returncode == KILLED, f"not killed at operation {op}: exit {r.returncode}\n{r.stderr}"


def kill_point(phase: str, writes: int, removals: int) -> int:
    """The file operation a phase's kill comes after. Operations: 3 to write the journal (folder,
    partial file, complete), 2 per written file (temp, replace), 1 per removed note, 2 to remove
    the journal."""
    journal = 3
    commit_writes = journal + 2 * writes
    commit_end = commit_writes + removals
    return {
        "journal-folder": 1, "journal-partial": 2, "journal-complete": journal,
        "temp-file-halfway": journal + 2 * (writes // 2) + 1,     # written, not yet moved in
        "last-write": commit_writes, "removals-halfway": commit_writes + removals // 2,
        "last-removal": commit_end, "journal-file-removed": commit_end + 1,
    }[phase]


# phase -> the vault after the next command, what that command says, the command
PHASES = {
    "journal-folder": ("old", "", ("new", "bad name")),     # an empty folder: removed silently
    "journal-partial": ("old", "kb: rolled back an interrupted rename: it had changed no file yet (0 files restored)",
                        ("check",)),
    "journal-complete": ("new", f'kb: finished an interrupted rename "{SUBTREE}" -> "{NEW}": ', ("new", "bad name")),
    "temp-file-halfway": ("new", f'kb: finished an interrupted rename "{SUBTREE}" -> "{NEW}": ', ("new", "bad name")),
    "last-write": ("new", f'kb: finished an interrupted rename "{SUBTREE}" -> "{NEW}": ', ("check",)),
    "removals-halfway": ("new", f'kb: finished an interrupted rename "{SUBTREE}" -> "{NEW}": ', ("new", "bad name")),
    "last-removal": ("new", f'kb: finished an interrupted rename "{SUBTREE}" -> "{NEW}": 0 files', ("new", "bad name")),
    "journal-file-removed": ("new", "", ("new", "bad name")),
}


@pytest.mark.parametrize("phase", PHASES)
def test_rename_killed_in_every_phase_is_finished_or_undone(renamed, phase: str) -> None:
    proj, old, new, writes, removals = renamed
    expected, message, command = PHASES[phase]
    set_state(proj, old)
    kill_rename_at(proj, kill_point(phase, writes, removals))
    r = run_kb(*command, cwd=proj)      # any kb command recovers first, then does its own work
    assert r.returncode == (0 if command == ("check",) else 2), r.stderr
    assert which(vault_state(proj), old, new) == expected
    assert leftovers(proj) == []
    said = [ln for ln in r.stderr.splitlines() if "interrupted rename" in ln]
    if message:
        assert len(said) == 1 and said[0].startswith(message), r.stderr
    else:
        assert said == [], r.stderr


def test_rename_killed_while_rolling_back_or_recovering(renamed) -> None:
    proj, old, new, writes, _removals = renamed
    half = writes // 2
    # An ordinary failure halfway leaves the old vault and nothing else.
    set_state(proj, old)
    r = run_kb("rename", SUBTREE, NEW, cwd=proj, env={"KB_RENAME_FAIL_AFTER": str(half)})
    assert r.returncode == 1 and f"rename failed after {half} file operations" in r.stderr
    assert "every file was restored" in r.stderr
    assert which(vault_state(proj), old, new) == "old" and leftovers(proj) == []
    # Killed while rolling that failure back: the next command finishes the rollback.
    set_state(proj, old)
    kill_rename_at(proj, 3 + 2 * half + 1 + 20, env={"KB_RENAME_FAIL_AFTER": str(half)})
    r = run_kb("check", cwd=proj)
    assert r.returncode == 0, r.stderr
    assert f'kb: rolled back an interrupted rename "{SUBTREE}" -> "{NEW}": ' in r.stderr
    assert which(vault_state(proj), old, new) == "old" and leftovers(proj) == []
    # Killed mid-commit, then the recovering command killed too: the one after finishes it.
    set_state(proj, old)
    kill_rename_at(proj, 3 + writes)
    r = run_kb("check", cwd=proj, env={"KB_FAULT_KILL_AFTER": "40"})
    assert r.returncode == KILLED, r.stderr
    r = run_kb("rename", NEW, "zone7", "--dry-run", cwd=proj)
    assert r.returncode == 0, r.stderr
    assert f'kb: finished an interrupted rename "{SUBTREE}" -> "{NEW}": ' in r.stderr
    assert which(vault_state(proj), old, new) == "new" and leftovers(proj) == []


def test_damaged_journal_is_reported_and_kept(tmp_path: Path) -> None:
    proj = make_vault(tmp_path)
    kill_rename_at(proj, 5, names=("hardware.gpu", "hardware.accel"))
    journal = proj / ".kb-journal" / "rename"
    data = bytearray(journal.read_bytes())
    data[-1] ^= 0xFF
    journal.write_bytes(bytes(data))
    before = tree_bytes(proj)
    r = run_kb("check", cwd=proj)
    assert r.returncode == 1
    assert r.stderr.startswith("kb: .kb-journal/rename:1: the journal of an interrupted rename is damaged")
    assert "git status" in r.stderr
    assert tree_bytes(proj) == before       # nothing replayed, nothing deleted


def test_mkdocs_build_finishes_an_interrupted_rename(tmp_path: Path) -> None:
    ref = make_vault(tmp_path, "ref")
    assert run_kb("rename", "hardware.gpu", "hardware.accel", cwd=ref).returncode == 0
    proj = make_vault(tmp_path)
    kill_rename_at(proj, 6, names=("hardware.gpu", "hardware.accel"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=proj, capture_output=True,
                       text=True, env={**env, "NO_MKDOCS_2_WARNING": "1"}, timeout=300)
    assert r.returncode == 0, r.stderr
    assert 'kb: finished an interrupted rename "hardware.gpu" -> "hardware.accel": ' in r.stderr
    assert vault_state(proj) == vault_state(ref) and leftovers(proj) == []
    assert (proj / "site" / "hardware" / "accel" / "t4" / "index.html").is_file()


# -- kb build -------------------------------------------------------------------------------------
def strays(proj: Path) -> list[str]:
    return sorted(p.name for p in proj.iterdir() if p.name.startswith(".site.kb-"))


def kill_build_at(proj: Path, op: int, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    r = run_kb("build", cwd=proj, env={"KB_FAULT_KILL_AFTER": str(op), **(env or {})})
    assert r.returncode == KILLED, f"not killed at operation {op}: exit {r.returncode}\n{r.stderr}"
    return r


def test_build_killed_at_each_step_leaves_a_whole_site(tmp_path: Path) -> None:
    proj = make_vault(tmp_path)
    for rel in ("index.html", "hardware/gpu/index.html", "assets/old.css"):     # a site built before
        (tmp_path / "old-site" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "old-site" / rel).write_text(f"old {rel}", encoding="utf-8")
    shutil.copytree(tmp_path / "old-site", proj / "site")
    old = tree_bytes(proj / "site")
    seen: list[dict[str, str]] = []

    # Exchange (Linux, macOS). Operations: each stray removed, the fresh folder, the exchange, the cleanup.
    kill_build_at(proj, 1)                          # fresh folder made, MkDocs not yet run
    assert tree_bytes(proj / "site") == old
    first = strays(proj)
    assert len(first) == 1 and first[0].startswith(".site.kb-new-")
    kill_build_at(proj, 1 + 2)                      # the stray removed, fresh folder, exchange
    seen.append(tree_bytes(proj / "site"))
    assert seen[-1] != old and not set(first) & set(strays(proj))    # the first stray is gone
    assert len(strays(proj)) == 1                   # the old site, under the fresh folder's name

    # Two renames (no exchange): killed between them site/ is missing until the next build.
    no_exchange = {"KB_BUILD_NO_EXCHANGE": "1"}
    shutil.rmtree(proj / "site")
    shutil.copytree(tmp_path / "old-site", proj / "site")
    kill_build_at(proj, len(strays(proj)) + 2, no_exchange)        # strays, fresh, site -> old
    assert not (proj / "site").exists()
    r = kill_build_at(proj, 1)                      # the next build puts the old site back first
    assert "kb build: put back site from .site.kb-old-" in r.stderr
    assert tree_bytes(proj / "site") == old
    kill_build_at(proj, len(strays(proj)) + 3, no_exchange)        # strays, fresh, site -> old, fresh -> site
    seen.append(tree_bytes(proj / "site"))
    assert [s[:13] for s in strays(proj)] == [".site.kb-old-"]

    # A whole build: every stray removed, and the sites seen were this new site.
    r = run_kb("build", cwd=proj)
    assert r.returncode == 0, r.stderr
    new = tree_bytes(proj / "site")
    assert "hardware/gpu/t4/index.html" in new
    assert seen == [new, new]
    assert sorted(p.name for p in proj.iterdir()) == ["data", "mkdocs.yml", "notes", "site"]


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"     # a zombie has exited; only its parent's wait is missing


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux /proc to find the MkDocs child")
def test_killing_kb_build_kills_mkdocs(tmp_path: Path) -> None:
    proj = make_vault(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    kb = subprocess.Popen([*kb_command(), "build"], cwd=proj, env={**env, "NO_MKDOCS_2_WARNING": "1"},
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        children: list[int] = []
        while not children and kb.poll() is None and time.monotonic() < deadline:
            children = _children(kb.pid)
            time.sleep(0.02)
        assert children, "kb build started no child process"
    finally:
        kb.send_signal(signal.SIGKILL)
        kb.wait()
    deadline = time.monotonic() + 20
    while any(_alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(c) for c in children), f"MkDocs ({children}) outlived kb build"
    assert not (proj / "site").exists() and len(strays(proj)) == 1
