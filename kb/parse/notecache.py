"""What `kb check` keeps between runs: a summary of every note, so unchanged notes are not re-read.

A summary (Note.summary) holds a note's frontmatter, problems, refs (its tokens as checking
reads them), headings, block ids and data blocks: everything checking needs but the text,
which is read only where a pass asks for it. An entry is used while its file's size and
modification time are the same, as git's index does; where only the time changed (a
checkout, a clone, a cache restored in CI) the file is read and the entry is used if its
content hash is the same. An entry whose file
changed within `RACY_NS` of the save is always checked by content: an edit in the same clock
tick with the same size could not be told from the cached version by its time.

Results that span notes (anchors of expanded pages, embed problems) are kept with the content
hashes of the notes they read; the problems of data/ and of data blocks with the content hash
of data/ (its files' hashes are computed again only where a size or time changed).

The files are JSON (never pickle: a cache in a cloned repository must not be able to run
code), written and read with orjson (the standard library's encoder took a quarter of a
second for the summaries of 10,000 notes, orjson a sixth of that), and keyed by a hash of
this package's source, so a new kb ignores an old cache.
"""
from __future__ import annotations

import hashlib
import os
import sys
import time
import zlib
from pathlib import Path
from typing import Any, Callable, Iterable

import orjson

CACHE_DIR = Path(".kb-cache") / "notes"
SHARDS = 16
RACY_NS = 2_000_000_000
FORMAT = 4

StatKey = tuple[int, int]       # (st_mtime_ns, st_size)
UNTIMED = -1                    # the mtime kept for a file saved while fresh: check its content


def digest(data: bytes) -> str:
    """The content hash the cache keeps for a note."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def code_version() -> str:
    """Changes whenever kb's code (or the Python running it) does: summaries come from that code."""
    h = hashlib.blake2b(f"{FORMAT} {sys.version}".encode(), digest_size=12)
    package = Path(__file__).resolve().parents[1]    # kb/, not kb/parse/
    for path in sorted(package.rglob("*.py")):
        h.update(path.relative_to(package).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def file_digest(path: str) -> str:
    """digest() of a file of any size, read in pieces."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _json_safe(fm: dict) -> bool:
    """Whether frontmatter survives JSON unchanged (YAML can hold sets, bytes, dates, int keys,
    integers past 64 bits, infinities...)."""
    for v in fm.values():   # the usual frontmatter: strings and small integers, no round trip
        if type(v) is not str and not (type(v) is int and -_INT64 <= v < _INT64):
            break
    else:
        return True
    try:
        return orjson.loads(orjson.dumps(fm)) == fm
    except (TypeError, ValueError):
        return False


_INT64 = 1 << 63


def _as_tuple(value: Any) -> Any:
    """orjson's hook for what it does not write itself: NamedTuples (Heading), as arrays."""
    if isinstance(value, tuple):
        return tuple(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


class NoteCache:
    """Summaries by note path; `get` what is still valid, `put` what was parsed, `save` once.

    Kept in SHARDS files by a hash of the path, so that after an edit only one is rewritten;
    the results that span notes (expanded pages, data checks) are in one more file.
    """

    def __init__(self, project_root: Path):
        self.dir = Path(project_root) / CACHE_DIR
        self.version = code_version()
        self._old: list[dict[str, list]] = [{} for _ in range(SHARDS)]
        self._new: list[dict[str, list]] = [{} for _ in range(SHARDS)]
        self._dirty = [False] * SHARDS
        self._old_data: dict = {}
        self._data: dict | None = None
        self._data_size: tuple = ()       # what the kept data results held: has this run added any?
        self._old_derived: dict[str, list] = {}
        self._derived: dict[str, list] = {}
        self._derived_dirty = False
        for i in range(SHARDS):
            self._old[i] = self._load(f"notes-{i:02d}.json").get("notes") or {}
        self._held = set().union(*self._old)        # every note with an entry (has(): no hash per note)
        shared = self._load("shared.json")
        self._old_data = shared.get("data") or {}
        self._old_derived = shared.get("derived") or {}

    def _load(self, name: str) -> dict:
        try:
            raw = orjson.loads((self.dir / name).read_bytes())
        except (OSError, ValueError):
            return {}       # no cache yet, or a damaged file: start over
        return raw if isinstance(raw, dict) and raw.get("version") == self.version else {}

    @staticmethod
    def _shard(rel: str) -> int:
        return zlib.crc32(rel.encode()) % SHARDS

    def has(self, rel: str) -> bool:
        """Whether an entry for this note was kept (else it is parsed without a stat first)."""
        return rel in self._held

    def get(self, rel: str, key: StatKey) -> tuple[bool, str, list] | None:
        """(timed, content hash, summary) of the entry for a note of this size: `timed` when its
        time is the file's too (use it); else the caller compares the file's content hash and
        calls `renew` if it is the same."""
        i = self._shard(rel)
        entry = self._old[i].get(rel)
        if entry is None or entry[1] != key[1]:
            return None
        timed = entry[0] == key[0]
        if timed:
            self._new[i][rel] = entry
        return timed, entry[2], entry[3]

    def renew(self, rel: str, key: StatKey) -> None:
        """The note's text is what the entry was made from: keep the entry under the file's new time."""
        i = self._shard(rel)
        _time, size, hash_, summary = self._old[i][rel]
        self._new[i][rel] = [key[0], size, hash_, summary]
        self._dirty[i] = True

    def put(self, rel: str, key: StatKey, hash_: str, summary: list | Any) -> None:
        """Keep a parsed note's summary; or the note itself, summarised when saved (by the
        process that saves, beside the link checks, where there is one)."""
        if isinstance(summary, list) and not _json_safe(summary[0]):
            return
        i = self._shard(rel)
        self._new[i][rel] = [key[0], key[1], hash_, summary]
        self._dirty[i] = True

    def derived(self, key: str, names: str, current: Callable[[str], str | None],
                children: Callable[[str], list[str]]) -> Any:
        """A result that depends on several notes (an expanded page), if none of them changed:
        `current` gives a note's content hash."""
        entry = self._old_derived.get(key)
        if entry is None or entry[0] != names:
            return None
        _names, reads, kids, value = entry
        for fname, hash_then in reads.items():
            if current(fname) != hash_then:
                return None
        for fname, listed in kids.items():
            if children(fname) != listed:
                return None
        self._derived[key] = entry
        return value

    def put_derived(self, key: str, names: str, reads: dict[str, str | None],
                    kids: dict[str, list[str]], value: Any) -> None:
        self._derived[key] = [names, reads, kids, value]
        self._derived_dirty = True

    def data_results(self, folder: Path, names: Iterable[str]) -> dict:
        """The data checks' results kept for this content of `folder` (data/) and these note names:
        {"context": problems of the CSVs and links.yml, "blocks": {block text: problems}}, filled
        in by the caller; empty ones when something changed."""
        fingerprint, files = self._fingerprint(folder, names)
        old = self._old_data
        if old.get("fingerprint") == fingerprint and isinstance(old.get("blocks"), dict):
            self._data = dict(old, files=files)
            self._data_size = (len(old["blocks"]), "context" in old, old.get("files"))
        else:
            self._data = {"fingerprint": fingerprint, "files": files, "blocks": {}}
        return self._data

    def _fingerprint(self, folder: Path, names: Iterable[str]) -> tuple[str, dict[str, list]]:
        """A hash of every file's path and content under `folder` and of `names`, and each file's
        [mtime, size, content hash]: a hash is computed again only where the size or time changed."""
        h = hashlib.blake2b(digest_size=16)
        known = self._old_data.get("files") if isinstance(self._old_data.get("files"), dict) else {}
        files: dict[str, list] = {}
        fresh_after = time.time_ns() - RACY_NS
        for dirpath, dirs, filenames in os.walk(folder):
            dirs.sort()
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, folder)
                st = os.stat(path)
                then = known.get(rel)
                same = isinstance(then, list) and len(then) == 3 and then[:2] == [st.st_mtime_ns, st.st_size]
                hash_ = then[2] if same else file_digest(path)
                files[rel] = [st.st_mtime_ns if st.st_mtime_ns < fresh_after else UNTIMED, st.st_size, hash_]
                h.update(f"{rel}\0{hash_}\n".encode())
        h.update("\n".join(names).encode())
        return h.hexdigest(), files

    def save(self, notes: bool = True, shared: bool = True) -> None:
        """Write what changed in this run (entries of notes gone are dropped), each file atomically:
        the note summaries and/or the results that span notes."""
        fresh_before = time.time_ns() - RACY_NS
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            for i in range(SHARDS) if notes else ():
                if self._dirty[i] or len(self._new[i]) != len(self._old[i]):
                    self._write(f"notes-{i:02d}.json", {"notes": self._entries(i, fresh_before)})
            if not shared:
                return
            data = self._data
            data_same = data is None or (len(data["blocks"]), "context" in data, data["files"]) == self._data_size
            if self._derived_dirty or not data_same or len(self._derived) != len(self._old_derived):
                self._write("shared.json", {"data": data, "derived": self._derived})
        except OSError:
            pass        # a read-only checkout still gets checked, just not faster next time

    def _entries(self, i: int, fresh_before: int) -> dict[str, list]:
        """Shard i as saved: notes summarised, those changed in the last RACY_NS untimed."""
        out = {}
        for rel, (mtime, size, hash_, summary) in self._new[i].items():
            if not isinstance(summary, list):
                summary = summary.summary()
                if not _json_safe(summary[0]):
                    continue
            out[rel] = [mtime if mtime < fresh_before else UNTIMED, size, hash_, summary]
        return out

    def _write(self, name: str, content: dict) -> None:
        tmp = self.dir / f".{name}.{os.getpid()}.tmp"
        tmp.write_bytes(orjson.dumps({"version": self.version, **content}, default=_as_tuple))
        os.replace(tmp, self.dir / name)
