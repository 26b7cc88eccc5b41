"""The rename journal: what makes `kb rename` all or nothing even when the process is killed.

Before the first change to the vault, `.kb-journal/rename` is written at the project root and
fsynced (file and folders). It holds, for every file the rename touches, its bytes before and
after (absent: no file) and its mode, so an interrupted rename can be rolled forward or back:

    .kb-journal/rename.partial   being written: nothing in the vault has changed yet
    .kb-journal/rename           complete: the vault is being changed
    .kb-journal/rollback         present beside it: the change failed and is being undone

Each file is written to `.NAME.kb-tmp` beside it and moved over it with os.replace, so every
file is at all times wholly its old or wholly its new bytes; replaying is idempotent. The files
are made durable by one sync before the journal is removed (not one fsync each: on a busy disk
a thousand fsyncs took seconds), so after a power cut the journal is still there to replay.
`recover` (run first by every `kb` command and by the MkDocs hook) finishes what it finds: a
complete journal is rolled forward, one marked for rollback is rolled back, a partial one is
discarded; then the journal and any temp file are removed.

A lock (flock on the project folder) is held while a journal is written, replayed or removed,
so a command started beside a running rename waits for it instead of replaying its journal.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from . import faults
from ..parse.project import Project

JOURNAL_DIR = ".kb-journal"
COMPLETE, PARTIAL, ROLLBACK = "rename", "rename.partial", "rollback"
TMP_SUFFIX = ".kb-tmp"
VERSION = 1


class JournalError(Exception):
    """A journal that cannot be replayed (damaged, or pointing outside the vault)."""


@dataclass
class Entry:
    path: Path
    before: bytes | None    # None: the file did not exist
    after: bytes | None     # None: the file is removed
    mode: int


def journal_dir(root: Path) -> Path:
    return root / JOURNAL_DIR


def temp_of(path: Path) -> Path:
    """The one temp name a file is written through (fixed, so recovery knows what to remove)."""
    return path.with_name(f".{path.name}{TMP_SUFFIX}")


@contextmanager
def vault_lock(root: Path) -> Iterator[None]:
    """Exclusive lock on the project folder, released by the kernel even on kill -9."""
    try:
        import fcntl
    except ImportError:     # not POSIX: no lock (concurrent renames are the user's to avoid)
        yield
        return
    fd = os.open(root, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)     # releases the lock


def fsync_dir(folder: Path) -> None:
    """Make a folder's entries (new, renamed, removed files) durable."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:     # some file systems (and Windows) cannot fsync a folder
        pass
    finally:
        os.close(fd)


# -- writing ---------------------------------------------------------------------------------
def write(root: Path, old: str, new: str, entries: list[Entry]) -> None:
    """Write the complete journal durably; the caller holds vault_lock."""
    folder = journal_dir(root)
    folder.mkdir()
    faults.step()
    blob: list[bytes] = []
    offset = 0
    items = []
    for e in entries:
        spans = []
        for data in (e.before, e.after):
            if data is None:
                spans.append(None)
            else:
                spans.append([offset, len(data)])
                blob.append(data)
                offset += len(data)
        items.append({"path": os.path.relpath(e.path, root), "mode": e.mode,
                      "before": spans[0], "after": spans[1]})
    digest = hashlib.sha256()
    for part in blob:
        digest.update(part)
    header = {"version": VERSION, "old": old, "new": new, "sha256": digest.hexdigest(), "entries": items}
    partial = folder / PARTIAL
    with open(partial, "wb") as f:
        f.write(json.dumps(header).encode("ascii") + b"\n")   # ascii: no raw newline inside
        f.writelines(blob)
        f.flush()
        os.fsync(f.fileno())
    faults.step()
    os.rename(partial, folder / COMPLETE)
    fsync_dir(folder)
    fsync_dir(root)
    faults.step()


def mark_rollback(root: Path) -> None:
    with open(journal_dir(root) / ROLLBACK, "wb") as f:
        os.fsync(f.fileno())
    fsync_dir(journal_dir(root))
    faults.step()


def remove(root: Path) -> None:
    """Remove the journal: the complete file first (from then on nothing is replayed)."""
    folder = journal_dir(root)
    (folder / COMPLETE).unlink(missing_ok=True)
    faults.step()
    for name in (ROLLBACK, PARTIAL):
        (folder / name).unlink(missing_ok=True)
    folder.rmdir()
    fsync_dir(root)
    faults.step()


def discard(root: Path) -> None:
    """Remove a journal whose writing failed (nothing in the vault was changed yet)."""
    folder = journal_dir(root)
    for name in (PARTIAL, COMPLETE, ROLLBACK):
        (folder / name).unlink(missing_ok=True)
    try:
        folder.rmdir()
    except OSError:
        pass


# -- replaying --------------------------------------------------------------------------------
def put(entry: Entry, data: bytes | None) -> None:
    """Make entry.path hold `data` (None: no file) in one atomic step."""
    path = entry.path
    if data is None:
        path.unlink(missing_ok=True)
        faults.step()
        return
    tmp = temp_of(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if hasattr(os, "fchmod"):      # 0o600 above until the mode is set: never wider than asked
            os.fchmod(fd, entry.mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    faults.step()
    os.replace(tmp, path)
    faults.step()


def settle(entries: list[Entry]) -> None:
    """Make every entry's file (and its folder entry) durable; call before removing the journal."""
    if hasattr(os, "sync"):
        os.sync()
        return
    for e in entries:    # no sync(): each file, then each folder
        if e.path.exists():
            with open(e.path, "rb+") as f:
                os.fsync(f.fileno())
    for folder in {e.path.parent for e in entries}:
        fsync_dir(folder)


def holds(path: Path, data: bytes | None) -> bool:
    if data is None:
        return not path.exists()
    try:
        return path.read_bytes() == data
    except OSError:
        return False


def load(project: Project) -> tuple[dict, list[Entry]]:
    """The complete journal's header and entries; JournalError if it is damaged."""
    root = project.root
    path = journal_dir(root) / COMPLETE
    raw = path.read_bytes()
    shown = project.rel(path)
    end = raw.find(b"\n")
    try:
        header = json.loads(raw[:end])
        blob = memoryview(raw)[end + 1:]
        if header.get("version") != VERSION or hashlib.sha256(blob).hexdigest() != header["sha256"]:
            raise ValueError("wrong version or checksum")
        entries = []
        allowed = {project.docs_dir.resolve(), project.data_dir.resolve()}
        for item in header["entries"]:
            file = (root / item["path"]).resolve()
            if file.parent not in allowed:
                raise ValueError(f"{item['path']} is outside the notes and data folders")
            data = [None if s is None else bytes(blob[s[0]:s[0] + s[1]]) for s in (item["before"], item["after"])]
            entries.append(Entry(file, data[0], data[1], int(item["mode"]) & 0o7777))
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as e:
        raise JournalError(
            f"{shown}:1: the journal of an interrupted rename is damaged ({e}); the vault may be "
            f"half renamed: compare it with version control (git status), then delete {JOURNAL_DIR}/") from None
    return header, entries


def replay(entries: list[Entry], forward: bool) -> int:
    """Put every entry on one side; returns how many files had to change."""
    changed = 0
    for e in entries:
        data = e.after if forward else e.before
        if not holds(e.path, data):
            put(e, data)
            changed += 1
    for e in entries:       # a temp written just before a kill
        temp_of(e.path).unlink(missing_ok=True)
    settle(entries)
    return changed


def recover(project: Project) -> str | None:
    """Finish or undo an interrupted rename; a line saying what was done, None if there was none."""
    folder = journal_dir(project.root)
    if not folder.exists():
        return None
    with vault_lock(project.root):
        return recover_locked(project)


def recover_for_build(config_file: str | None, docs_dir: str) -> str | None:
    """recover() for the MkDocs hook: a build never starts on a half-renamed vault. The rename
    is finished (or undone) rather than refused, so `mkdocs build` and `mkdocs serve` just work."""
    if not config_file:
        return None
    root = Path(config_file).resolve().parent
    return recover(Project(root, Path(docs_dir).resolve(), root / "data", root / "site"))


def recover_locked(project: Project) -> str | None:
    folder = journal_dir(project.root)
    if not folder.exists():
        return None          # the rename we waited for finished
    if (folder / COMPLETE).is_file():
        header, entries = load(project)
        names = f'"{header["old"]}" -> "{header["new"]}"'
        if (folder / ROLLBACK).exists():
            n = replay(entries, forward=False)
            line = f"rolled back an interrupted rename {names}: {n} file{'s' if n != 1 else ''} restored"
        else:
            n = replay(entries, forward=True)
            line = f"finished an interrupted rename {names}: {n} file{'s' if n != 1 else ''} written or removed"
        remove(project.root)
        return line
    partial = (folder / PARTIAL).exists()
    remove(project.root)
    # A partial journal: killed before the first change. An empty folder: killed after the last.
    return "rolled back an interrupted rename: it had changed no file yet (0 files restored)" if partial else None


def recover_and_report(project: Project, prog: str = "kb") -> bool:
    """recover() for a command: its line on stderr; False (with the reason printed) if it failed."""
    try:
        line = recover(project)
    except JournalError as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return False
    except OSError as e:
        print(f"{prog}: could not finish the interrupted rename recorded in {JOURNAL_DIR}/: {e}; "
              f"fix that and run kb again (the journal is kept)", file=sys.stderr)
        return False
    if line:
        print(f"{prog}: {line}", file=sys.stderr)
    return True
