"""The vault model: every note parsed once, cached by content across rebuilds."""
from __future__ import annotations

import datetime as dt
import marshal
import os
import re
from dataclasses import astuple
from operator import attrgetter
from pathlib import Path
from typing import Any, Mapping

import yaml

from . import yamlguard
from .diagnostics import Diagnostic
from .forked import CAN_FORK, spread
from .headings import Doc, Heading
from .lazy import cached
from .notecache import NoteCache, StatKey, digest
from .linelimits import line_problems
from .noteread import error_body, read_note
from .outline import outline
from .syntax import Fence, Token, new_tuple, scan

# Frontmatter: the YAML between a first line '---' and the next line '---' (blanks may follow
# the dashes), which may be the second line: an empty frontmatter ends there, as in Dendron.
_FM_OPEN_RE = re.compile(r"---[ \t]*\r?\n")
_FM_CLOSE_RE = re.compile(r"[ \t]*(?:\r?\n|\Z)")


def frontmatter_span(text: str) -> tuple[int, int, int] | None:
    """(start, end, body start) of the frontmatter's YAML (start == end where it is empty), None
    where the text has none. The closing line is looked for with str.find: one lazy pattern
    tries it at every character (a few µs a note; tests/test_parse_fast_paths.py holds that
    pattern and compares the two)."""
    if not text.startswith("---"):
        return None
    opener = _FM_OPEN_RE.match(text)
    if opener is None:
        return None
    start = pos = opener.end() - 1          # the opening line's newline
    while (i := text.find("\n---", pos)) >= 0:
        closer = _FM_CLOSE_RE.match(text, i + 4)
        if closer is not None:
            return start + 1, i + 1, closer.end()
        pos = i + 1
    return None


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe loading (libyaml when present: frontmatter parsing dominates big vaults) that keeps
    dates as text (Dendron writes epoch ms; ISO dates are converted by to_millis)."""


_Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


_KEY_RE = re.compile(r"[A-Za-z_][\w\-]*")
_KEYS_SEEN: set[str] = set()       # keys that passed _KEY_RE (a vault uses the same few)
# Numbers as YAML 1.1 reads them, in the forms where Python reads them the same; any other
# value starting with a digit, '.' or '+' (octal 010, 0x1F, 1_000, 1e5, 1:20, dates, .inf)
# goes to YAML.
_INT_RE = re.compile(r"(?:0|[1-9][0-9]*)\Z")
_FLOAT_RE = re.compile(r"(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+][0-9]+)?\Z")
_YAML_SPECIAL = set("[]{}&*!|>%@`#,?:-<=+")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"}     # YAML 1.1 booleans, null


def _fast_frontmatter(text: str) -> dict[str, Any] | None:
    """Dendron's usual frontmatter (flat `key: scalar` lines) without a YAML parser.

    Parsing YAML dominates `kb check` on big vaults; anything beyond plain scalars
    (lists, quotes with escapes, booleans, nesting) returns None and goes to YAML.
    """
    out: dict[str, Any] = {}
    for line in text.splitlines():
        key, colon, after = line.partition(":")
        if not colon:
            if line.strip():
                return None
            continue
        if key not in _KEYS_SEEN:
            if not _KEY_RE.fullmatch(key) or key.lower() in _RESERVED:     # `on:` is the key True
                return None
            _KEYS_SEEN.add(key)
        value = after.strip(" \t")
        if not value or after[0] not in " \t":
            return None          # empty, a nested block below, or `key:value`: let YAML decide
        first = value[0]
        if first in "'\"":
            if len(value) < 2 or value[-1] != first or first in value[1:-1] or "\\" in value:
                return None
            out[key] = value[1:-1]
        elif (first in _YAML_SPECIAL or (":" in value and ": " in value) or ("#" in value and " #" in value)
              or (len(value) < 6 and value.lower() in _RESERVED)):
            return None
        elif first.isdigit() or first == ".":
            if _INT_RE.match(value):
                out[key] = int(value)
            elif _FLOAT_RE.match(value):
                out[key] = float(value)
            else:
                return None
        else:
            out[key] = value
    return out


# Words kept upper-case in a title made from a name (`hardware.gpu` -> "GPU").
ACRONYMS = frozenset("""AI AMD API ARM ASIC AWS CNN CPU CUDA CV EC2 FAQ FP8 FP16 FP32 FPGA GCP GPU HBM HPC
    IO IPU LLM ML MLP NLP NPU ONNX RAM RNN SDK SQL SSD TPU TTFT UI VM VPU XLA""".split())


def _title_word(word: str, known: Mapping[str, str] | None) -> str:
    found = known.get(word.casefold()) if known else None
    if found is not None:
        return found
    up = word.upper()
    if up in ACRONYMS:
        return up
    if up.endswith("S") and up[:-1] in ACRONYMS:         # gpus -> GPUs
        return up[:-1] + "s"
    return word[:1].upper() + word[1:]


def title_from_fname(fname: str, known: Mapping[str, str] | None = None) -> str:
    """`inference-accelerator` -> "Inference Accelerator" (as Dendron does); a known acronym
    upper-case (`gpu` -> "GPU"); `known` (casefolded word -> spelling) spells the words it has."""
    last = fname.rpartition(".")[2]
    if last.isalnum():        # one word: no splitting (hierarchies have thousands of stub parents)
        return _title_word(last, known)
    return " ".join(_title_word(w, known) for w in re.split(r"[-_ ]+", last) if w) or last


def to_millis(value: Any) -> int | None:
    """Epoch milliseconds from Dendron's number or an ISO date/datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        d = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.timezone.utc)
    return int(d.timestamp() * 1000)


DATA_KINDS = ("table", "chart")        # fenced blocks drawn from data/
QUESTIONS_KIND = "questions"           # the fenced block listing the FAQ's questions
REPLACED_KINDS = DATA_KINDS + (QUESTIONS_KIND,)    # fenced blocks the compiler replaces


class Note:
    """One note file: frontmatter, body and the structure of the body, each computed once.

    A note made from a cached summary (`from_summary`) has its frontmatter, refs (its tokens
    as checking reads them), headings, block ids and data blocks without its text, which is
    read from disk only if something asks for it (an embed of the note, `{{fm.*}}`, its
    tokens, a rename, an external link check).
    """

    def __init__(self, fname: str, path: str | Path, rel: str, text: str | None, fm: dict[str, Any],
                 body: str | None, body_line: int, has_frontmatter: bool,
                 problems: list[Diagnostic] | None = None):
        self.fname = fname
        self.path = path               # absolute (a str where a big vault made it: Path() costs)
        self.rel = rel                 # path for messages, e.g. "notes/a.b.md"
        self._text = text              # the whole file (None: not read yet)
        self.fm = fm
        self._body = body
        self.body_line = body_line     # 0-based line in the file where the body starts
        self.has_frontmatter = has_frontmatter
        self.problems = problems if problems is not None else []
        self.digest: str | None = None   # content hash, when read through a NoteCache or load_note

    def __repr__(self) -> str:
        return f"Note({self.rel!r})"

    def let_go(self) -> None:
        """Drop the text and what was parsed from it (a one-off build does, once every page is
        drawn): whatever is asked for later is read and parsed again."""
        self._text = self._body = None
        for name in ("doc", "tokens", "refs", "data_fences"):
            self.__dict__.pop(name, None)

    # -- the text, read on demand for notes made from a summary ---------------
    @property
    def text(self) -> str:
        if self._text is None:
            self._text = read_text(self.path)
        return self._text

    @property
    def body(self) -> str:
        if self._body is None:
            span = frontmatter_span(self.text) if self.has_frontmatter else None
            self._body = self.text[span[2]:] if span else self.text
        return self._body

    # Cheap facts about the body that decide whether a pass needs the text at all.
    # (A rare character first: one is searched for with memchr, several 30x slower.)
    @cached
    def has_fmvars(self) -> bool:
        body = self.body
        return "{" in body and "{{" in body

    @cached
    def has_embed_syntax(self) -> bool:
        body = self.body
        return "!" in body and "![[" in body

    @cached
    def has_md_links(self) -> bool:
        return ".md" in self.body

    @cached
    def data_fences(self) -> list[Fence]:
        """Fenced blocks the compiler replaces (table, chart, questions)."""
        return [f for f in self.fences if f.info.split(" ")[0] in REPLACED_KINDS]

    # -- frontmatter fields ------------------------------------------------
    @property
    def id(self) -> str | None:
        v = self.fm.get("id")
        return str(v) if v not in (None, "") else None

    @property
    def title(self) -> str:
        t = self.fm.get("title")
        return str(t).strip() if t not in (None, "") else title_from_fname(self.fname)

    @property
    def desc(self) -> str:
        d = self.fm.get("desc")
        return str(d) if d not in (None,) else ""

    @property
    def updated(self) -> int | None:
        return to_millis(self.fm.get("updated"))

    @property
    def created(self) -> int | None:
        return to_millis(self.fm.get("created"))

    @property
    def tags(self) -> list[str]:
        t = self.fm.get("tags")
        if t is None or t == "":
            return []
        items = t if isinstance(t, list) else [t]
        return [str(x).lstrip("#").strip() for x in items if str(x).strip()]

    @property
    def nav_order(self) -> float | None:
        v = self.fm.get("nav_order")
        try:
            return float(v) if v is not None else None
        except (TypeError, ValueError):
            return None

    @property
    def nav_exclude(self) -> bool:
        return self.fm.get("nav_exclude") is True

    @property
    def published(self) -> bool:
        return self.fm.get("published") is not False

    @property
    def child_links(self) -> bool:
        cfg = self.fm.get("config")
        try:
            return cfg["global"]["enableChildLinks"] is not False  # type: ignore[index]
        except (TypeError, KeyError):
            return True

    # -- body structure, computed once --------------------------------------
    @cached
    def doc(self) -> Doc:
        return Doc(self.body)

    @property
    def lines(self) -> list[str]:
        return self.doc.lines

    @property
    def fences(self) -> list[Fence]:
        return self.doc.index.fences

    @property
    def code_mask(self) -> list[bool]:
        return self.doc.mask

    @property
    def headings(self) -> list[Heading]:
        return self.doc.headings

    @property
    def blocks(self) -> dict[str, int]:
        return self.doc.blocks

    @cached
    def tokens(self) -> list[Token]:
        return scan(self.body, index=self.doc.index) if self.body else []

    @cached
    def refs(self) -> list[tuple[str, str]]:
        """The tokens as checking reads them: (kind, value), in order; lists when read from the
        cache. The cache keeps these, not the tokens: a run from the cache then makes no object
        per token, and where a token is (its line and column) is looked up only for a problem
        (scanning a cached note's text then)."""
        return [(kind, value) for kind, _start, _end, _line, _col, _text, value in self.tokens]

    def fm_line(self, key: str) -> int:
        """1-based line of a top-level frontmatter key (1 when not found)."""
        for i, line in enumerate(self.text.split("\n")[:self.body_line], start=1):
            if line.startswith(f"{key}:"):
                return i
        return 1

    def file_pos(self, body_line: int, col: int = 0) -> tuple[int, int]:
        """1-based (line, col) in the file for a 0-based body position."""
        return self.body_line + body_line + 1, col + 1


    # -- the summary kept in the on-disk cache --------------------------------
    def summary(self) -> list:
        """Everything `kb check` needs from this file, as JSON-able lists."""
        # Refs and headings are tuples: JSON writes them as arrays, and reads them back as lists.
        return [self.fm, self.body_line, self.has_frontmatter,
                [list(astuple(d)) for d in self.problems], self.refs, self.headings, self.blocks,
                [[f.start_line, f.end_line, f.info, f.indent, f.body, f.start, f.end] for f in self.data_fences],
                [self.has_fmvars, self.has_embed_syntax, self.has_md_links]]

    @classmethod
    def from_summary(cls, path: str | Path, rel: str, s: list) -> "Note":
        fm, body_line, has_fm, problems, refs, heads, blocks, fences, flags = s
        note = cls(fname_of(path), path, rel, None, fm, None, body_line, has_fm,
                   [Diagnostic(*d) for d in problems])
        seeded = note.__dict__          # cached properties, filled in from the summary
        seeded["refs"] = refs
        seeded["data_fences"] = [Fence(*f) for f in fences]
        seeded["has_fmvars"], seeded["has_embed_syntax"], seeded["has_md_links"] = flags
        doc = seeded["doc"] = _LazyDoc(note)
        doc.__dict__["headings"] = [new_tuple(Heading, h) for h in heads]
        doc.__dict__["blocks"] = blocks
        return note


class _LazyDoc(Doc):
    """A note's Doc whose headings and blocks came from a summary; the text only when asked."""

    def __init__(self, note: Note):   # no super().__init__: `text` is read on demand
        self._note = note

    @cached
    def text(self) -> str:  # type: ignore[override]
        return self._note.body


NO_FRONTMATTER = ("no frontmatter: add Dendron frontmatter (id, title, desc, updated, created) between '---' "
                  "lines, e.g. with `kb new`")
UNCLOSED_FRONTMATTER = ("frontmatter has no closing '---' line: end the frontmatter with a line of three dashes "
                        "(until then the whole file shows as text)")
# Problems of the file itself that its page shows above its content: frontmatter that could not
# be used, bytes that are not UTF-8 (a note with no frontmatter at all is only warned about).
_SHOWN_CODES = frozenset(("frontmatter", "yaml-limit", "encoding"))


def page_problems(note: "Note") -> list[Diagnostic]:
    """The note's problems its page shows at its top, as `kb check` prints them."""
    return [d for d in note.problems if d.code in _SHOWN_CODES and d.message != NO_FRONTMATTER]


def fname_of(path: str | Path) -> str:
    """notes/a.b.md -> a.b"""
    return os.path.basename(path)[:-3]


def parse_note(path: str | Path, rel: str, text: str) -> Note:
    fname = fname_of(path)
    problems: list[Diagnostic] = []
    span = frontmatter_span(text)
    fm: dict[str, Any] = {}
    if span:
        start, end, body_start = span
        body = text[body_start:]
        body_line = text.count("\n", 0, body_start)
        try:
            source = text[start:end]
            loaded = _fast_frontmatter(source)      # keys already str
            if loaded is not None:
                fm = loaded
            else:
                loaded = yamlguard.load(source, _Loader)
                if isinstance(loaded, dict):
                    fm = {str(k): v for k, v in loaded.items()}
                elif loaded is not None:
                    problems.append(Diagnostic(rel, 1, 1, "warning", "frontmatter is not a YAML mapping",
                                               "frontmatter"))
        except yamlguard.YamlLimitError as e:     # frontmatter starts on the file's line 2
            problems.append(Diagnostic(rel, e.line + 1 if e.line else 1, 1, "error", f"frontmatter {e.problem}",
                                       "yaml-limit"))
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            line = (mark.line + 2) if mark else 1
            problems.append(Diagnostic(rel, line, 1, "warning",
                                       f"frontmatter is not valid YAML ({getattr(e, 'problem', e)}); fix the YAML between the '---' lines",
                                       "frontmatter"))
    elif _FM_OPEN_RE.match(text):      # a save that stopped inside the frontmatter, most likely
        body, body_line = text, 0
        problems.append(Diagnostic(rel, 1, 1, "warning", UNCLOSED_FRONTMATTER, "frontmatter"))
    else:
        body, body_line = text, 0
        problems.append(Diagnostic(rel, 1, 1, "warning", NO_FRONTMATTER, "frontmatter"))
    fm_failed = bool(problems)
    problems.extend(line_problems(rel, body, body_line))     # lines Markdown would hang on
    note = Note(fname, path, rel, text, fm, body, body_line, span is not None, problems)
    if span and not note.id and not fm_failed:
        problems.append(Diagnostic(rel, 2, 1, "warning", "frontmatter has no id: add a unique `id:` (kb new writes one)", "missing-id"))
    return note


_CACHE: dict[Path, tuple[str, Note]] = {}


def read_bytes(path: str | Path) -> bytes:
    """A file's bytes: one read of the size the file has (a quarter of the time of
    Path.read_bytes, whose buffers count in a big vault), more if it grew meanwhile."""
    return read_keyed(path)[0]


def read_keyed(path: str | Path) -> tuple[bytes, StatKey]:
    """A file's bytes and its (mtime, size) when opened: the note cache's key, without a stat
    of its own."""
    fd = os.open(path, os.O_RDONLY)
    try:
        st = os.fstat(fd)
        size = st.st_size
        data = os.read(fd, size + 1)
        if len(data) > size:        # it grew (a regular file reads short only at its end)
            chunks = [data]
            while chunk := os.read(fd, 1 << 16):
                chunks.append(chunk)
            data = b"".join(chunks)
        return data, (st.st_mtime_ns, size)
    finally:
        os.close(fd)


def read_text(path: str | Path) -> str:
    return _read(path, "")[0]


def _read(path: str | Path, rel: str) -> tuple[str, bytes | None, StatKey | None, Diagnostic | None]:
    """A note's text, bytes, cache key and problem (kb/parse/noteread.py): where the file could not be
    used (unreadable, a link loop, too big), the text is an error block and the bytes None."""
    data, key, problem = read_note(path, rel)
    if data is None:
        return error_body(problem.message if problem else ""), None, key, problem
    return decode_note(data), data, key, problem


def _content_key(data: bytes | None, problem: Diagnostic | None) -> str:
    """The content hash; for a file that could not be used, its problem (which changes with it)."""
    return digest(data) if data is not None else "refused:" + (problem.message if problem else "")


def _note_from(path: str | Path, rel: str, text: str, data: bytes | None, problem: Diagnostic | None) -> Note:
    if data is None:        # the error block is the whole page; no frontmatter to warn about
        return Note(fname_of(path), path, rel, text, {}, text, 0, False, [problem] if problem else [])
    note = parse_note(path, rel, text)
    if problem is not None:
        note.problems.append(problem)
    return note


def decode_note(data: bytes) -> str:
    """A note's text, its line ends read as LF: CRLF (and CR) files are common in vaults edited on
    Windows, and every pattern here (block anchors ending a line, headings, fences) reads '\n'."""
    text = data.decode("utf-8", errors="replace")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def load_note(path: Path, rel: str) -> Note:
    """Parse a note, or reuse the parse from a previous build if its content is unchanged."""
    text, data, _, problem = _read(path, rel)
    key = _content_key(data, problem)
    hit = _CACHE.get(path)
    if hit and hit[0] == key:
        return hit[1]
    note = _note_from(path, rel, text, data, problem)
    note.digest = key
    _CACHE[path] = (key, note)
    return note


PARALLEL_MIN = 500      # below this many notes to parse, starting processes costs more than it saves


NoteFile = tuple[str, str, os.DirEntry]     # absolute path, path for messages, directory entry


def note_files(notes_dir: Path, project_root: Path) -> list[NoteFile]:
    """The notes/*.md files in name order."""
    try:
        prefix = notes_dir.relative_to(project_root).as_posix() + "/"
    except ValueError:
        prefix = notes_dir.as_posix() + "/"
    with os.scandir(notes_dir) as it:
        # A link that leads nowhere (a loop, a missing file) is a note that cannot be read, and
        # is reported as one: MkDocs lists it as a page too.
        entries = [e for e in it if e.name.endswith(".md") and _is_note_file(e)]
    entries.sort(key=attrgetter("name"))
    return [(e.path, prefix + e.name, e) for e in entries]


def _is_note_file(entry: os.DirEntry) -> bool:
    """A file, or a symbolic link that is not to a folder: to nothing or in a loop is a note that
    cannot be read, reported as one (is_file raises for a loop)."""
    try:
        return entry.is_file() or (entry.is_symlink() and not entry.is_dir())
    except OSError:
        return True


def _read_notes(files: list[NoteFile], cache: NoteCache | None, jobs: int) -> list[Note]:
    """Notes from their valid summaries in `cache`; the others parsed (in `jobs` processes when
    there are many) and their summaries given to the cache."""
    notes: list[Note | None] = []
    misses: list[tuple[int, str, str]] = []
    retimed: list[tuple[int, str, str, StatKey, str, list]] = []   # entries whose file has a new time
    for path, rel, entry in files:
        if cache is None or not cache.has(rel):     # parsed, and keyed by the time it was read at
            misses.append((len(notes), path, rel))
            notes.append(None)
            continue
        st = entry.stat()
        key = (st.st_mtime_ns, st.st_size)
        found = cache.get(rel, key)
        if found is None:
            misses.append((len(notes), path, rel))
        elif found[0]:
            note = Note.from_summary(path, rel, found[2])
            note.digest = found[1]
            notes.append(note)
            continue
        else:
            retimed.append((len(notes), path, rel, key, found[1], found[2]))
        notes.append(None)
    if retimed:     # a checkout: the notes whose content hash is the one kept need no parse
        hashes = _digests([path for _, path, _, _, _, _ in retimed], jobs)
        for (i, path, rel, key, hash_, summary), now in zip(retimed, hashes):
            if now == hash_:
                cache.renew(rel, key)  # type: ignore[union-attr]
                note = notes[i] = Note.from_summary(path, rel, summary)
                note.digest = hash_
            else:
                misses.append((i, path, rel))
    todo = [(path, rel) for _, path, rel in misses]
    cached = cache is not None         # content hashes and summaries serve the cache only
    if jobs > 1 and len(misses) >= PARALLEL_MIN and CAN_FORK:
        parsed = _parse_parallel(todo, jobs, cached)
    else:
        parsed = _parsed(todo, cached)
    for (i, _, rel), (note, key, summary) in zip(misses, parsed):
        notes[i] = note
        if cache is not None and key is not None:       # (a note parsed here is summarised when saved)
            cache.put(rel, key, note.digest, summary if summary is not None else note)
    return notes  # type: ignore[return-value]


def _digests(paths: list[str], jobs: int) -> list[str]:
    """The content hashes of these files, read in `jobs` processes when there are many."""
    if jobs > 1 and len(paths) >= PARALLEL_MIN and CAN_FORK:
        mine, others = spread(paths, jobs, _digests_here, _digests_here)
        return mine + [h for found in others for h in found]
    return _digests_here(paths)


def _digests_here(paths: list[str]) -> list[str]:
    out = []
    for path in paths:
        data, _, problem = read_note(path, "")
        out.append(_content_key(data, problem))
    return out


Parsed = tuple[Note, StatKey | None, list | None]    # a note, its key in the cache, its summary


def _parsed(files: list[tuple[str, str]], cached: bool) -> list[Parsed]:
    """Parse for checking, with keys (when read) and content hashes if `cached` (else None):
    refs, headings and blocks (the slow part) by `outline` where the note is plain, else by the
    scanner (for the summary, or when first asked for)."""
    out = []
    for path, rel in files:
        text, data, key, problem = _read(path, rel)     # not load_note: a check runs once, no reuse
        note = _note_from(path, rel, text, data, problem)
        if cached:
            note.digest = _content_key(data, problem)
        found = outline(note.body, REPLACED_KINDS)
        if found is not None:       # seed what checking reads; the rest is computed if asked
            seeded = note.__dict__
            seeded["refs"], heads, blocks, seeded["data_fences"] = found
            doc = seeded["doc"] = Doc(note.body)
            doc.__dict__["headings"], doc.__dict__["blocks"] = heads, blocks
        note._text = None           # read again if asked (a problem's line): keeps memory small
        out.append((note, key if cached else None, None))
    return out


def _summaries(files: list[tuple[str, str]], cached: bool) -> bytes:
    """In a worker process: keys and content hashes (if `cached`) and summaries, their headings
    as plain tuples, marshalled: lists, tuples and strings only, from a process of our own
    (marshal writes them 4x and reads them 1.5x as fast as pickle; the main process waits
    for both)."""
    out = []
    for note, key, _ in _parsed(files, cached):
        summary = note.summary()
        out.append((note.digest, key, [*summary[:5], [tuple(h) for h in summary[5]], *summary[6:]]))
    return marshal.dumps(out)


def _parse_parallel(files: list[tuple[str, str]], jobs: int, cached: bool) -> list[Parsed]:
    """Parse in this process and jobs - 1 forked ones (fork: the workers need no imports)."""
    # This process parses more: taking in a worker's summaries costs it about a tenth of parsing them.
    out, others = spread(files, jobs, lambda chunk: _parsed(chunk, cached),
                         lambda chunk: _summaries(chunk, cached), lead=1.2)
    for found in others:
        for (path, rel), (hash_, key, summary) in zip(files[len(out):], marshal.loads(found)):
            note = Note.from_summary(path, rel, summary)
            note.digest = hash_
            out.append((note, key, summary))
    return out


class Vault:
    """All notes of one notes/ folder, by fname.

    With a NoteCache (`kb check`), unchanged notes come from their summaries; the rest are
    parsed, in `jobs` processes when there are many. A build (no cache, one job) reads every
    note, reusing this process's parse of unchanged content (`mkdocs serve`).
    """

    def __init__(self, notes_dir: Path, project_root: Path | None = None,
                 cache: NoteCache | None = None, jobs: int = 1, files: list[NoteFile] | None = None):
        self.dir = notes_dir.resolve()
        self.root = (project_root or self.dir.parent).resolve()
        self.notes: dict[str, Note] = {}
        self.by_id: dict[str, list[Note]] = {}
        files = files if files is not None else note_files(self.dir, self.root)
        if cache is None and jobs <= 1:     # a build: keep each parse for the next (mkdocs serve)
            notes = [load_note(Path(path), rel) for path, rel, _ in files]
        else:
            notes = _read_notes(files, cache, jobs)
        for note in notes:
            self.notes[note.fname] = note
            if note.id:
                self.by_id.setdefault(note.id, []).append(note)

    def __contains__(self, fname: str) -> bool:
        return fname in self.notes

    def get(self, fname: str) -> Note | None:
        return self.notes.get(fname)

    @property
    def published(self) -> dict[str, Note]:
        return {f: n for f, n in self.notes.items() if n.published}
