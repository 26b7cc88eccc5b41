"""`kb check`: everything the build would report, plus lint only the checker does. Builds no site."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable
from urllib.parse import unquote

from .datacheck import DataCheck
from ..link.hierarchy import parent_of
from ..parse.diagnostics import Diagnostic, did_you_mean, sort_key
from ..parse.forked import CAN_FORK, Job
from ..parse.names import name_key
from ..parse.notecache import NoteCache
from ..parse.noteread import link_loops
from ..parse.project import Project, load_project
from ..parse.syntax import prose_lines
from ..parse.vault import Note, Vault, note_files
from ..site import Site

DERIVED_KEYS = ("fname", "hpath", "parent", "children")
# From about this many notes, checking the links takes longer than importing pandas: the data
# checks wait for the parse to end and take the processor it leaves (see DataCheck).
LATE_DATA_MIN = 5000
# A relative Markdown link to a note file: [x](a.b.md) or [x](./a.b.md#frag).
MD_LINK_RE = re.compile(r"\]\(\s*<?(?P<target>[^()\s<>#]+\.md)(?:#[^)\s>]*)?>?(?:\s+\"[^\"]*\")?\s*\)")


def check(project_root: Path | Project, *, external: bool = False, timeout: float = 10.0, retries: int = 2,
          concurrency: int = 8, cache_ttl: float = 86400.0, cache: bool = False, jobs: int = 1) -> list[Diagnostic]:
    """Every problem in the project, sorted by file, line and column.

    `cache`: keep note summaries in .kb-cache/ and reuse those of unchanged notes;
    `jobs`: processors to use; with more than one (on Linux), changed notes are parsed in that
    many processes when there are many, and data/ is checked and the cache written beside them.
    """
    project = project_root if isinstance(project_root, Project) else load_project(Path(project_root))
    note_cache = NoteCache(project.root) if cache else None
    fork = jobs > 1 and CAN_FORK
    # Three things at once where there are processors: the notes parsed in all of them; data/
    # checked in one process (beside the parse in a small vault, after it in a big one); the
    # parsed notes' summaries written while links are checked.
    files = note_files(project.docs_dir.resolve(), project.root.resolve())
    data_check = DataCheck(project.data_dir.resolve(), project.root.resolve(), [entry.name[:-3] for _, _, entry in files],
                           note_cache, fork=fork, late=len(files) >= LATE_DATA_MIN)
    vault = Vault(project.docs_dir, project.root, note_cache, jobs, files=files)
    saving = Job(lambda _message: note_cache.save(shared=False), fork) if note_cache is not None and fork else None
    site = Site(project.root, project.docs_dir, project.data_dir, render_pages=False, note_cache=note_cache,
                vault=vault, data_check=data_check)
    diags = list(site.diagnostics)
    diags.extend(link_loops(project.docs_dir, project.rel(project.docs_dir) + "/"))   # the build would stop on them
    for note in site.vault.notes.values():      # (tests first: a call per note costs at 10,000)
        if not note.fm.keys().isdisjoint(DERIVED_KEYS):
            diags.extend(derived_field_problems(note, site.vault))
        if note.has_md_links and note.published:
            diags.extend(md_link_problems(note, project.docs_dir, site.vault.notes))
    if external:
        from .external import check_external   # network code only when asked for
        diags.extend(check_external(site.vault.notes.values(), project.root, timeout=timeout, retries=retries,
                                    concurrency=concurrency, cache_ttl=cache_ttl))
    if note_cache is not None:
        note_cache.save(notes=saving is None)
    if saving is not None:
        saving.result()
    return sorted(set(diags), key=sort_key)


# -- frontmatter written by old Dendron versions ------------------------------------------------
def derived_field_problems(note: Note, vault: Vault) -> list[Diagnostic]:
    """`fname`, `hpath`, `parent`, `children` that contradict the file's place in the hierarchy."""
    fm = note.fm
    if fm.keys().isdisjoint(DERIVED_KEYS):     # most notes (a test in C, not a generator per note)
        return []
    out: list[Diagnostic] = []

    def warn(key: str, message: str) -> None:
        out.append(Diagnostic(note.rel, note.fm_line(key), 1, "warning",
                              f"frontmatter {message}; Dendron derives it from the file name: "
                              f"remove `{key}:` or correct it", "frontmatter-hierarchy"))

    fname = note.fname
    # Names compare without regard to case, as Dendron compares them (`parent: A.b` is `a.b`).
    key = name_key(fname)
    if "fname" in fm and fm["fname"] is not None and name_key(str(fm["fname"]).strip()) != key:
        warn("fname", f'"fname: {fm["fname"]}" contradicts the file {note.rel} (fname "{fname}")')
    if "hpath" in fm and fm["hpath"] is not None and name_key(str(fm["hpath"]).strip().replace("/", ".")) != key:
        warn("hpath", f'"hpath: {fm["hpath"]}" contradicts the file {note.rel} (hierarchy "{fname}")')
    if "parent" in fm:
        expected = parent_of(fname)
        said = fm["parent"]
        if said in (None, ""):
            if expected is not None:
                warn("parent", f'"parent" is empty but the parent of "{fname}" is "{expected}"')
        else:
            named = _note_named(str(said).strip(), vault)
            if expected is None:
                warn("parent", f'"parent: {said}" but "{fname}" is the root and has no parent')
            elif named is not None and name_key(named) != name_key(expected):
                warn("parent", f'"parent: {said}" names "{named}" but the parent of "{fname}" is "{expected}"')
            elif named is None and _note_named(expected, vault) is not None:   # we know the parent, and this is not it
                warn("parent", f'"parent: {said}" names no note; the parent of "{fname}" is "{expected}"')
    children = fm.get("children")
    if isinstance(children, list):
        for child in children:
            named = _note_named(str(child).strip(), vault)
            if named is not None and name_key(parent_of(named) or "") != key:
                warn("children", f'"children" lists "{child}" ({named}), which is not a child of "{fname}"')
    return out


def _note_named(ref: str, vault: Vault) -> str | None:
    """The fname a derived field means: Dendron wrote ids, some tools wrote fnames (matched
    without regard to case, in the note's own spelling)."""
    if ref in vault.by_id:
        return vault.by_id[ref][0].fname
    if ref in vault.notes:
        return ref
    keys = vault.__dict__.get("_kb_name_keys")
    if keys is None:        # built once per vault, and only for the few notes with derived fields
        keys = vault.__dict__["_kb_name_keys"] = {}
        for f in sorted(vault.notes):
            keys.setdefault(name_key(f), f)
    return keys.get(name_key(ref))


# -- ordinary Markdown links to note files -----------------------------------------------------
def md_link_problems(note: Note, docs_dir: Path, known: Iterable[str] = ()) -> list[Diagnostic]:
    """`[x](a.b.md)` whose file is not in the vault (MkDocs warns; --strict fails)."""
    if not note.has_md_links:
        return []
    out: list[Diagnostic] = []
    mask = note.code_mask
    for i, line, in_code in prose_lines(note.lines, mask, ".md"):
        for m in MD_LINK_RE.finditer(line):
            target = unquote(m["target"])
            if "://" in target or target.startswith(("/", "mailto:")) or in_code(m.start()):
                continue
            if not (docs_dir / target).resolve().is_file():
                line_no, col = note.file_pos(i, m.start("target"))
                out.append(Diagnostic(note.rel, line_no, col, "error",
                                      f'link to "{target}", which is not a file in the vault'
                                      f'{did_you_mean(target, [k + ".md" for k in known], ignore_case=True)}',
                                      "broken-md-link"))
    return out


def summary(diags: list[Diagnostic], notes: int | None = None) -> str:
    errors = sum(d.severity == "error" for d in diags)
    warnings = len(diags) - errors
    where = f" in {notes} notes" if notes is not None else ""
    if not diags:
        return f"kb check: no problems{where}"
    return f"kb check: {_plural(errors, 'error')}, {_plural(warnings, 'warning')}{where}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"
