"""The link graph: what every page is and what it depends on, as plain data.

Knows nothing of MkDocs, and draws nothing. From the vault: tag and user names, the hierarchy
(pages, stubs, titles), the resolver; from the prepared notes (kb.render.prepare): each page's text
with its embeds expanded (pass 2) and its anchors, computed where something asks. Per page,
what it depends on, for `kb serve` to find the pages a save reaches and for `kb check`'s cache:

  reads_of       the notes (and children lists, for wildcards) its embeds read, nested ones too
  backlinks_of   the pages its links and embeds reach; `backlinks` is the other way round
  data_links_of  the notes its data blocks show rows about; `data_pages` the other way round
  names_linked   the name keys its links and embeds may mean (broken ones too: a new note mends them)
  csvs_read      the CSVs its data blocks read (and links.yml, schema.yml: every block reads them)
"""
from __future__ import annotations

import hashlib
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Callable, Iterable, Iterator

from .embeds import Expander
from .hierarchy import Hierarchy
from .resolve import AnchorIndex, Resolver
from ..parse.headings import Doc, Heading
from ..parse.names import NameIndex, name_key
from ..parse.notecache import NoteCache
from ..parse.refs import parse_ref
from ..parse.syntax import new_tuple, scan
from ..parse.vault import Note, Vault


@dataclass
class Reads:
    """What an expansion read: notes (with their content hash then, None for no such note) and
    the children lists that wildcard embeds listed."""
    notes: dict[str, str | None] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)

    def keys(self) -> set[str]:
        """As name keys: a note's, or "*" + a note's for its list of children."""
        return {name_key(f) for f in self.notes} | {"*" + name_key(f) for f in self.children}


class LinkGraph:
    """The pages of one build and the links between them; `cache` (`kb check`) keeps what
    expansions produce with the notes they read (see `derived`)."""

    def __init__(self, vault: Vault, cache: NoteCache | None = None):
        self.vault = vault
        self.tagged: dict[str, list[str]] = {}      # tag name -> notes that use it
        self.mentions: dict[str, list[str]] = {}    # user name -> notes that mention them
        self.tag_names, self.user_names = NameIndex(), NameIndex()
        self.retag()
        self.hierarchy = Hierarchy(vault.published, self.tagged, self.mentions)
        self.prepared: dict[str, Doc] = {}          # published note -> its text after pass 1
        self.reads_of: dict[str, Reads] = {}
        self.backlinks_of: dict[str, set[str]] = {}
        self.backlinks: dict[str, set[str]] = {}
        self.data_links_of: dict[str, set[str]] = {}
        self.data_pages: dict[str, set[str]] = {}
        self._expanded: dict[str, Doc] = {}
        self._anchors: dict[str, AnchorIndex] = {}
        self._reads: Reads | None = None
        self._cache = cache
        self._names = _names_hash(self.hierarchy.pages, vault.notes) if cache else ""
        self.resolver: Resolver
        self.expander: Expander
        self.relink()

    # -- names, tags and the hierarchy (kb serve calls these again after a save) -------------
    def retag(self) -> None:
        """Tag and user names -> the notes that use them; spellings that differ only in case are
        one name (the first seen), as note names are."""
        tags: dict[str, list[str]] = {}
        users: dict[str, list[str]] = {}
        tag_names, user_names = NameIndex(), NameIndex()
        for fname, note in self.vault.published.items():
            for t in note.tags:
                t = tag_names.add(t)
                if fname not in tags.setdefault(t, []):
                    tags[t].append(fname)
            for kind, value in note.refs:
                if kind == "tag":
                    value = tag_names.add(value)
                    if fname not in tags.setdefault(value, []):
                        tags[value].append(fname)
                elif kind == "user":
                    value = user_names.add(value)
                    if fname not in users.setdefault(value, []):
                        users[value].append(fname)
        self.tagged, self.mentions = tags, users
        self.tag_names, self.user_names = tag_names, user_names

    def rebuild(self) -> None:
        """The hierarchy made again from the published notes and tags."""
        self.hierarchy = Hierarchy(self.vault.published, self.tagged, self.mentions)

    def relink(self) -> None:
        """A new resolver and expander (the resolver's memo holds titles and anchors)."""
        self.resolver = Resolver(self.vault, self.hierarchy, self.anchors)
        self.expander = Expander(self._source, self._children, self.resolver.parse, self.hierarchy.canon)

    def child_notes(self, fname: str) -> list[str]:
        page = self.hierarchy.pages.get(fname)
        return [c for c in page.children if self.hierarchy.pages[c].kind == "note"] if page else []

    def ids(self) -> dict[str, str]:
        """Note id -> fname, for the /notes/<id>/ redirects (published notes, unique ids)."""
        out = {}
        for nid, notes in self.vault.by_id.items():
            if notes[0].published and id_is_segment(nid):     # never a path that climbs out of notes/
                out[nid] = notes[0].fname
        return out

    # -- pass 1's results -------------------------------------------------------------------
    def set_prepared(self, fname: str, doc: Doc, data_links: Iterable[str] = ()) -> None:
        self.prepared[fname] = doc
        mine = set(data_links)
        if mine:
            self.data_links_of[fname] = mine
        for target in mine:
            self.data_pages.setdefault(target, set()).add(fname)

    def unprepare(self, fname: str) -> set[str]:
        """Forget a note's prepared text; the notes its data blocks linked (their lists change)."""
        self.prepared.pop(fname, None)
        gone = self.data_links_of.pop(fname, set())
        for target in gone:
            _discard(self.data_pages, target, fname)
        return gone

    # -- pass 2: the expanded pages and their anchors, on demand -----------------------------
    def expanded(self, fname: str) -> Doc:
        doc = self._expanded.get(fname)
        if doc is None:
            prepared = self.prepared[fname]
            if self._as_written(fname):
                self._expanded[fname] = prepared     # nothing to expand
                return prepared
            with self.recording() as reads:
                text = self.expander.expand(fname, prepared.text)
            self.reads_of[fname] = reads
            doc = prepared if text == prepared.text else Doc(text)
            self._expanded[fname] = doc
        return doc

    def forget(self, fname: str) -> None:
        """Drop a page's expansion and anchors (what it read changed): computed again when asked."""
        self._expanded.pop(fname, None)
        self._anchors.pop(fname, None)
        self.reads_of.pop(fname, None)

    def _as_written(self, fname: str) -> bool:
        """The page is the note as written: no {{fm.*}}, data block or embed changes it (then a
        note from the cache needs neither its text nor an expansion)."""
        note = self.vault.notes[fname]
        return self.prepared[fname] is note.doc and not note.has_embed_syntax

    def anchors(self, fname: str) -> AnchorIndex | None:
        idx = self._anchors.get(fname)
        if idx is None and fname in self.prepared:
            note = self.vault.notes[fname]
            if not note.has_fmvars and not note.has_embed_syntax:
                # The note as written, or with data blocks drawn: a block takes the place of
                # lines of code, which hold no heading or block id. The note's own ids.
                doc = note.doc
                idx = AnchorIndex(doc.headings, set(doc.blocks))
            else:
                heads, blocks = self.derived("anchors", fname, lambda: self._expanded_ids(fname))
                if heads and type(heads[0]) is not Heading:     # lists, from the cache
                    heads = [new_tuple(Heading, h) for h in heads]
                idx = AnchorIndex(heads, set(blocks))
            self._anchors[fname] = idx
        return idx

    def _expanded_ids(self, fname: str) -> list:
        doc = self.expanded(fname)
        return [doc.headings, list(doc.blocks)]

    # -- what expansions read -----------------------------------------------------------------
    @contextmanager
    def recording(self, reads: Reads | None = None) -> Iterator[Reads]:
        """Record what the expander reads in here (also into a recording around this one)."""
        outer, self._reads = self._reads, reads if reads is not None else Reads()
        try:
            yield self._reads
        finally:
            mine, self._reads = self._reads, outer
            if outer is not None:
                outer.notes.update(mine.notes)
                outer.children.update(mine.children)

    def _source(self, fname: str) -> Doc | None:
        if self._reads is not None:
            note = self.vault.notes.get(fname)
            self._reads.notes[fname] = note.digest if note is not None else None
        return self.prepared.get(fname)

    def _children(self, fname: str) -> list[str]:
        kids = self.child_notes(fname)
        if self._reads is not None:
            self._reads.children[fname] = kids
        return kids

    def derived(self, kind: str, fname: str, compute: Callable[[], Any]) -> Any:
        """compute(), or its result from the cache while every note it read is unchanged, the
        wildcard children it listed are the same and no page was added or removed."""
        if self._cache is None:
            return compute()
        key = f"{kind}:{fname}"
        current = lambda f: (self.vault.notes[f].digest if f in self.vault.notes else None)  # noqa: E731
        hit = self._cache.derived(key, self._names, current, self.child_notes)
        if hit is not None:
            return hit
        with self.recording(Reads({fname: current(fname)}, {})) as reads:
            value = compute()
        self._cache.put_derived(key, self._names, reads.notes, reads.children, value)
        return value

    # -- links: backlinks, and the names each page's links may mean -------------------------------
    def link(self, note: Note) -> set[str]:
        """Record the pages this note's links and embeds reach (it is among their backlinks)."""
        fname = note.fname
        resolve, parse, h = self.resolver.resolve_text, self.resolver.parse, self.hierarchy
        known = self.resolver.absolute_targets(suggest=True)    # the checker's memo: one resolution
        targets: set[str] = set()
        for kind, value in note.refs:
            if kind == "link":
                t = known.get(value) or resolve(value, fname, True)
                if not t.error and t.fname != fname and not t.private and not t.url:   # pages only
                    targets.add(t.fname)
            elif kind == "embed":
                target = h.canon(parse(value).fname or fname)
                if target != fname and target in h.pages:
                    targets.add(target)
        if targets:
            self.backlinks_of[fname] = targets
        for target in targets:
            linked = self.backlinks.get(target)
            if linked is None:
                self.backlinks[target] = {fname}
            else:
                linked.add(fname)
        return targets

    def unlink(self, fname: str) -> set[str]:
        """Forget a note's backlinks; the pages that listed it."""
        gone = self.backlinks_of.pop(fname, set())
        for target in gone:
            _discard(self.backlinks, target, fname)
        return gone

    def names_linked(self, fname: str) -> set[str]:
        """Keys of the names a page's links and embeds may mean, its embedded text's included
        (they are rendered on the page too); not its own."""
        note = self.vault.notes.get(fname)
        if note is None or fname not in self.prepared:
            return set()
        keys: set[str] = set()
        for kind, value in note.refs:
            if kind in ("link", "embed"):
                keys |= _names(value)
        if note.has_embed_syntax:
            for tok in scan(self.expanded(fname).text, ("link", "embed")):
                keys |= _names(tok.value)
        keys.discard(name_key(fname))
        return keys

    def csvs_read(self, fname: str) -> set[str]:
        """The CSV paths (inside data/) a note's data blocks read."""
        note = self.vault.notes.get(fname)
        out: set[str] = set()
        for fence in note.data_fences if note is not None else ():
            out |= block_sources(fence.body)
        return out


def _discard(index: dict[str, set[str]], key: str, value: str) -> None:
    found = index.get(key)
    if found is not None:
        found.discard(value)
        if not found:
            del index[key]


def _names_hash(*groups: Iterable[str]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for names in groups:
        h.update("\n".join(names).encode())
        h.update(b"\0")
    return h.hexdigest()


def _names(value: str) -> set[str]:
    """Keys of the notes a link's inner text may mean: `[[x|y]]` is y, or x where only x exists
    (Obsidian's order), so both are kept."""
    out = set()
    right = parse_ref(value).fname
    if right:
        out.add(name_key(right))
    if "|" in value:
        left = parse_ref(value, lambda n: n != right).fname
        if left:
            out.add(name_key(left))
    return out


def block_sources(body: str) -> set[str]:
    """The CSV paths a table or chart block names (`source`, and each merge's `source`)."""
    from ..parse import yamlguard
    from ..parse.vault import _Loader
    try:
        spec = yamlguard.load(body, _Loader)
    except Exception:       # a broken block reads no CSV; it is drawn again when its note changes
        return set()
    out: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                if k == "source" and isinstance(v, str):
                    out.add(PurePosixPath(v).as_posix())
                else:
                    walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
    walk(spec)
    return out


def id_is_segment(nid: str) -> bool:
    """The id names one folder: /notes/<id>/ holds its redirect and nothing climbs out of notes/."""
    return nid not in (".", "..") and not _NOT_IN_SEGMENT_RE.search(nid)


_NOT_IN_SEGMENT_RE = re.compile(r"[/\\\x00-\x1f\x7f]")
