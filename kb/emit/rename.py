"""`kb rename OLD NEW`: move a note and its subtree, and rewrite every reference to them.

All or nothing: every new file content is computed in memory first (`plan_rename`);
`apply_plan` then records it in a journal (kb.emit.journal), writes each file through a temp file
+ os.replace and, on any failure, puts every file back to its original bytes. A rename killed
midway is finished by the next `kb` command (or MkDocs build) from the journal.

Test hooks: KB_RENAME_FAIL_AFTER=N makes `apply_plan` raise after N files, so tests can prove
the rollback; KB_FAULT_KILL_AFTER=N (kb.emit.faults) kills the process after N file operations.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import journal
from .newnote import validate_fname
from ..parse import yamlguard
from ..parse.diagnostics import did_you_mean
from ..parse.names import NameIndex, name_key
from ..parse.project import Project
from ..parse.refs import parse_ref, with_fname
from ..parse.syntax import inline_code_spans, code_line_mask, fences
from ..parse.vault import Note, frontmatter_span, parse_note

FAIL_AFTER_ENV = "KB_RENAME_FAIL_AFTER"
ENCODING = ("utf-8", "surrogateescape")   # undecodable bytes survive a round trip untouched

# An ordinary Markdown link to a note file: [text](a.b.md) or (./a.b.md#frag).
MD_LINK_RE = re.compile(r"\]\(\s*<?(?P<dot>\./)?(?P<fname>[^()\s<>/#]+)\.md(?=[#)\s>])")


class RenameRefused(Exception):
    """The rename cannot be done as asked; nothing was changed (exit 1)."""


class RenameFailed(Exception):
    """Writing failed midway; every file was restored (exit 1)."""


@dataclass
class RenamePlan:
    old: str
    new: str
    moves: list[tuple[Path, Path]] = field(default_factory=list)      # note files: old path -> new path
    contents: dict[Path, bytes] = field(default_factory=dict)          # final bytes of every file written
    edits: dict[Path, int] = field(default_factory=dict)               # original path -> references rewritten
    project: Project | None = None                                       # where the journal goes

    def state(self) -> dict[Path, bytes | None]:
        """Every path the rename touches and its final content (None: removed)."""
        out: dict[Path, bytes | None] = {old: None for old, _ in self.moves}
        out.update(self.contents)
        return out


class Mapper:
    """Maps fnames under OLD to NEW (OLD itself and OLD.*); None for anything else."""

    def __init__(self, old: str, new: str):
        self.old, self.new = old, new
        self._key = name_key(old)     # links match names without regard to case (as in Dendron)

    def __call__(self, fname: str) -> str | None:
        key = name_key(fname)
        if key == self._key:
            return self.new
        if key.startswith(self._key + ".") and len(key) == len(fname):
            return self.new + fname[len(self.old):]
        return None


def plan_rename(project: Project, old: str, new: str) -> RenamePlan:
    """Every change the rename makes, in memory. UsageError for malformed names (exit 2),
    RenameRefused when the rename cannot be done as asked (exit 1)."""
    validate_fname(old, "OLD")
    validate_fname(new, "NEW")
    if old == "root":
        raise RenameRefused('"root" is the home page; rename the notes below it instead')
    if old == new:
        raise RenameRefused(f'OLD and NEW are both "{old}"; nothing to rename')
    for ns in ("tags.", "user."):
        if old.startswith(ns) != new.startswith(ns):
            raise RenameRefused(f'"{old}" -> "{new}": a {ns[:-1]} note can only be renamed within {ns}* '
                                f'(its #tag / @user references need a {ns} name)')
    notes_dir = project.docs_dir
    notes = _load_notes(project)
    mapped = Mapper(old, new)
    moving = sorted(f for f in notes if mapped(f))
    used_as_tag = old.startswith(("tags.", "user.")) and _tag_in_use(notes.values(), old)
    if not moving and not used_as_tag:
        hint = did_you_mean(old, notes, ignore_case=True)
        raise RenameRefused(f'no note named "{old}": {project.rel(notes_dir / (old + ".md"))} does not exist '
                            f"and no note is below it{hint}")
    # A target that exists in any case is taken (Dendron and a case-insensitive disk see one
    # name), unless that note is itself moving away (`a` -> `A` renames only the case).
    taken = {name_key(f): f for f in notes}
    clashes = [f for f in moving if (t := taken.get(name_key(mapped(f) or ""))) is not None and mapped(t) is None]
    if clashes:
        shown = ", ".join(project.rel(notes_dir / f"{taken[name_key(mapped(f) or '')]}.md") for f in clashes)
        raise RenameRefused(f"refusing to rename: {shown} already exist{'s' if len(clashes) == 1 else ''}; "
                            f"choose another name or remove {'it' if len(clashes) == 1 else 'them'}")

    names = NameIndex(_known_names(notes))
    exists: Callable[[str], bool] = names.__contains__
    plan = RenamePlan(old, new, project=project)
    for fname, note in notes.items():
        text, count = rewrite_note(note, mapped, exists)
        target = mapped(fname)
        if target is not None:
            dest = notes_dir / f"{target}.md"
            plan.moves.append((note.path, dest))
            plan.contents[dest] = text.encode(*ENCODING)
        elif count:
            plan.contents[note.path] = text.encode(*ENCODING)
        if count:
            plan.edits[note.path] = count
    links = project.data_dir / "links.yml"
    if links.is_file():
        original = links.read_bytes().decode(*ENCODING)
        text, count = rewrite_links_yml(original, mapped)
        if count:
            plan.contents[links] = text.encode(*ENCODING)
            plan.edits[links] = count
    return plan


def _load_notes(project: Project) -> dict[str, Note]:
    notes: dict[str, Note] = {}
    for path in sorted(project.docs_dir.glob("*.md")):
        if path.is_file():
            text = path.read_bytes().decode(*ENCODING)
            notes[path.name[:-3]] = parse_note(path, project.rel(path), text)
    return notes


def _known_names(notes: dict[str, Note]) -> set[str]:
    """What the resolver would call an existing page: notes, their ancestors, tag and user pages."""
    names: set[str] = set()
    for fname, note in notes.items():
        parts = fname.split(".")
        names.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        names.update("tags." + t for t in note.tags)
        for tok in note.tokens:
            if tok.kind in ("tag", "user"):
                names.add(("tags." if tok.kind == "tag" else "user.") + tok.value)
    names.add("root")
    return names


def _tag_in_use(notes, old: str) -> bool:
    kind, name = ("tag", old[5:]) if old.startswith("tags.") else ("user", old[5:])
    for note in notes:
        if kind == "tag" and any(t == name or t.startswith(name + ".") for t in note.tags):
            return True
        if any(t.kind == kind and (t.value == name or t.value.startswith(name + ".")) for t in note.tokens):
            return True
    return False


# -- rewriting ---------------------------------------------------------------------------------
Edit = tuple[int, int, str]   # text[start:end] becomes the string


def rewrite_note(note: Note, mapped: Mapper, exists: Callable[[str], bool]) -> tuple[str, int]:
    """The note's text with every reference to a renamed note rewritten, and how many there were."""
    text = note.text
    base = len(text) - len(note.body)      # where the body starts in the file
    edits: list[Edit] = []
    for tok in note.tokens:
        if tok.kind in ("link", "embed"):
            raw = tok.text[(3 if tok.kind == "embed" else 2):-2]
            lead = len(raw) - len(raw.lstrip())
            ref = parse_ref(tok.value, exists)
            target = mapped(ref.fname) if ref.fname else None
            if target is not None:
                start = base + tok.inner_start + lead
                edits.append((start, start + len(tok.value), with_fname(ref, target)))
        elif tok.kind in ("tag", "user"):
            prefix = "tags." if tok.kind == "tag" else "user."
            target = mapped(prefix + tok.value)
            if target is not None:
                edits.append((base + tok.start + 1, base + tok.end, target[len(prefix):]))
    edits.extend((base + s, base + e, r) for s, e, r in _md_link_edits(note, mapped))
    edits.extend(_fm_edits(text, note.fname, mapped))
    return apply_edits(text, edits), len(edits)


def _md_link_edits(note: Note, mapped: Mapper) -> list[Edit]:
    """`[x](a.b.md#h)` links outside code, as offsets in the body."""
    if ".md" not in note.body:
        return []
    lines = note.lines
    mask = code_line_mask(lines, fences(lines))
    out: list[Edit] = []
    offset = 0
    for i, line in enumerate(lines):
        if not mask[i] and ".md" in line:
            spans = inline_code_spans(line) if "`" in line else []
            for m in MD_LINK_RE.finditer(line):
                target = mapped(m["fname"])
                if target is not None and not any(s <= m.start() < e for s, e in spans):
                    out.append((offset + m.start("fname"), offset + m.end("fname"), target))
        offset += len(line) + 1
    return out


def _fm_edits(text: str, fname: str, mapped: Mapper) -> list[Edit]:
    """Frontmatter values naming renamed notes: `tags` (a string or a list, '#' allowed) and the
    `fname` / `hpath` that old Dendron versions wrote into a moved note itself."""
    span = frontmatter_span(text)
    if not span or span[0] == span[1]:
        return []
    moved = mapped(fname)
    if not mapped.old.startswith("tags.") and moved is None:
        return []
    start = span[0]
    src = text[start:span[1]]
    try:
        root = yamlguard.compose(src, yaml.SafeLoader)
    except yaml.YAMLError:
        return []
    if not isinstance(root, MappingNode):
        return []
    out: list[Edit] = []
    for key, value in root.value:
        if not isinstance(key, ScalarNode):
            continue
        if key.value == "tags":
            for node in value.value if isinstance(value, SequenceNode) else [value]:
                if isinstance(node, ScalarNode):
                    name = node.value.strip().lstrip("#").strip()
                    target = mapped("tags." + name) if name else None
                    if target is not None:
                        out.extend(_scalar_edit(src, node, name, target[5:]))
        elif key.value in ("fname", "hpath") and moved is not None and isinstance(value, ScalarNode):
            said = value.value.strip()
            if said == fname:
                out.extend(_scalar_edit(src, value, said, moved))
            elif said == fname.replace(".", "/"):
                out.extend(_scalar_edit(src, value, said, moved.replace(".", "/")))
    return [(start + s, start + e, r) for s, e, r in out]


def _scalar_edit(src: str, node: Node, old: str, new: str) -> list[Edit]:
    """Replace `old` by `new` inside one YAML scalar, keeping its quoting (plain or quoted text only)."""
    s, e = node.start_mark.index, node.end_mark.index
    written = src[s:e]
    at = written.find(old)
    if at < 0:     # escaped or folded: too clever to edit by hand; leave it (kb check will tell)
        return []
    return [(s + at, s + at + len(old), new)]


def rewrite_links_yml(text: str, mapped: Mapper) -> tuple[str, int]:
    """data/links.yml with renamed note fnames; comments, order and quoting kept."""
    try:
        root = yamlguard.compose(text, yaml.SafeLoader)
    except yaml.YAMLError:
        return text, 0      # kb check reports the broken file; don't guess
    if not isinstance(root, MappingNode):
        return text, 0
    edits: list[Edit] = []
    for _column, rules in root.value:
        if not isinstance(rules, MappingNode):
            continue
        for _value, fnode in rules.value:
            if isinstance(fnode, ScalarNode):
                fname = fnode.value.strip()
                target = mapped(fname) if fname else None
                if target is not None:
                    edits.extend(_scalar_edit(text, fnode, fname, target))
    return apply_edits(text, edits), len(edits)


def apply_edits(text: str, edits: list[Edit]) -> str:
    for s, e, rep in sorted(edits, reverse=True):
        text = text[:s] + rep + text[e:]
    return text


# -- writing, all or nothing ---------------------------------------------------------------------
def apply_plan(plan: RenamePlan) -> None:
    """Make the plan's state real through the journal (see kb.emit.journal); on a failure restore every
    file's original bytes. Killed at any point, the next `kb` command finishes or undoes it."""
    project = plan.project
    if project is None:
        raise ValueError("apply_plan needs a plan made by plan_rename (it knows the project)")
    root = project.root
    fail_after = _fail_after()
    with journal.vault_lock(root):
        if journal.journal_dir(root).exists():
            raise RenameFailed(f"another rename left {journal.JOURNAL_DIR}/ while this one was planned; "
                               f"nothing was changed: run kb rename again")
        entries = _entries(plan)
        try:
            journal.write(root, plan.old, plan.new, entries)
        except OSError as e:
            journal.discard(root)
            raise RenameFailed(f"could not write the journal {journal.JOURNAL_DIR}/ ({e}); "
                               f"nothing was changed") from e
        done = 0
        try:
            for entry in entries:
                if fail_after is not None and done >= fail_after:
                    raise OSError(f"forced failure after {done} file operations ({FAIL_AFTER_ENV})")
                journal.put(entry, entry.after)
                done += 1
            journal.settle(entries)      # durable before the journal goes
        except BaseException as e:
            extra = _roll_back(root, entries)
            raise RenameFailed(f"rename failed after {done} file operations: {e}{extra}") from e
        journal.remove(root)


def _entries(plan: RenamePlan) -> list[journal.Entry]:
    """Every touched file with its bytes before and after; writes first, removals last, so a
    note is never missing while the rename runs."""
    state = plan.state()
    modes = {p: p.stat().st_mode & 0o7777 for p in state if p.exists()}
    for old, new in plan.moves:
        modes.setdefault(new, modes.get(old, 0o644))
    ordered = sorted(state, key=lambda p: state[p] is None)
    return [journal.Entry(p, p.read_bytes() if p.exists() else None, state[p], modes.get(p, 0o644))
            for p in ordered]


def _roll_back(root: Path, entries: list[journal.Entry]) -> str:
    """Undo a failed commit; the journal stays (marked) if that fails too, for the next command."""
    try:
        journal.mark_rollback(root)
        journal.replay(entries, forward=False)
        journal.remove(root)
    except OSError as e:
        return (f"; could not restore every file ({e}): the next kb command retries from "
                f"{journal.JOURNAL_DIR}/")
    return "; every file was restored"


def _fail_after() -> int | None:
    value = os.environ.get(FAIL_AFTER_ENV)
    return int(value) if value and value.strip().isdigit() else None
