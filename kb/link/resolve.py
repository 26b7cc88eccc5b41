"""Resolve a parsed reference against the site: which page, which anchor, or why not."""
from __future__ import annotations

import re
from typing import Callable, NamedTuple

from .hierarchy import Hierarchy
from ..parse.diagnostics import did_you_mean
from ..parse.headings import Heading, canonical
from ..parse.names import NameIndex
from ..parse.refs import Ref, parse_ref
from ..parse.syntax import new_tuple
from ..parse.vault import Vault


URL_RE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)


class Target(NamedTuple):
    """Where a link goes (a tuple: one is made per distinct link of the vault)."""
    fname: str            # page the link goes to ('' never: same-note links name the note)
    anchor: str | None    # final id on that page
    text: str             # default link text
    error: str | None = None   # why the link is broken
    code: str = "broken-link"
    private: bool = False      # target exists but is not published
    url: str | None = None     # an external address written as a wikilink target
    alias: bool = False        # text is the author's (Markdown), not a title


_SCANS = 2      # lookups in a page's headings before it gets a table of keys


class AnchorIndex:
    """Heading and block ids of one built page, looked up the ways authors write them."""

    def __init__(self, headings: list[Heading], blocks: set[str]):
        self.headings = headings
        self.blocks = blocks
        self._by_key: dict[str, Heading] | None = None
        self._asked = 0

    def find(self, anchor: str) -> Heading | None:
        """The first heading that has `anchor`, or else its canonical form, as a key: its slug,
        or the canonical form of its text or slug."""
        by_key = self._by_key
        if by_key is None:
            self._asked += 1
            if self._asked <= _SCANS:      # most pages are asked for one anchor or two: no table
                return self._first(anchor) or self._first(canonical(anchor))
            # Each heading under three keys; the first heading to have a key keeps it (hence reversed).
            by_key = self._by_key = {key: h for h in reversed(self.headings)
                                     for key in (h.slug, canonical(h.text), canonical(h.slug))}
        return by_key.get(anchor) or by_key.get(canonical(anchor))

    def _first(self, key: str) -> Heading | None:
        for h in self.headings:
            if h.slug == key or canonical(h.text) == key or canonical(h.slug) == key:
                return h
        return None

    def suggestion(self, anchor: str) -> str:
        return did_you_mean(canonical(anchor), [h.slug for h in self.headings])


class Resolver:
    def __init__(self, vault: Vault, hierarchy: Hierarchy, anchors: Callable[[str], AnchorIndex | None]):
        self.vault = vault
        self.hierarchy = hierarchy
        self.anchors = anchors      # fname -> ids of its built page, computed on demand
        self._names = list(hierarchy.pages)
        # Big vaults link the same targets again and again: parse and resolve each text once.
        self._parsed: dict[str, Ref] = {}
        self._resolved: dict[tuple[str, str, bool], Target] = {}
        self._absolute: dict[bool, dict[str, Target]] = {False: {}, True: {}}   # refs that name their note
        self._notes = NameIndex(vault.notes)    # every note, published or not, by its name's key

    def exists(self, fname: str) -> bool:
        """A page or a note has this name (without regard to case, as in Dendron)."""
        return fname in self.hierarchy.pages or self.hierarchy.find(fname) is not None or fname in self._notes

    def parse(self, inner: str) -> Ref:
        ref = self._parsed.get(inner)
        if ref is None:
            ref = self._parsed[inner] = parse_ref(inner, self.exists)
        return ref

    def resolve(self, ref: Ref, from_fname: str, suggest: bool = False) -> Target:
        """Where a reference goes; `suggest` adds a did-you-mean to errors (only messages need it)."""
        key = (ref.raw, "" if ref.fname else from_fname, suggest)
        hit = self._resolved.get(key)
        if hit is None:
            hit = self._resolved[key] = self._resolve(ref, from_fname, suggest)
        return hit

    def absolute_targets(self, suggest: bool = False) -> dict[str, Target]:
        """inner text -> Target of the links resolved so far that name their note (read-only)."""
        return self._absolute[suggest]

    def resolve_text(self, inner: str, from_fname: str, suggest: bool = False) -> Target:
        """resolve(parse(inner)), with one lookup for the usual link that names its note."""
        memo = self._absolute[suggest]
        hit = memo.get(inner)
        if hit is None:
            ref = self.parse(inner)
            if not ref.fname:          # '#heading': relative to the note it is in
                return self.resolve(ref, from_fname, suggest)
            hit = memo[inner] = self._resolve(ref, from_fname, suggest)
        return hit

    def _resolve(self, ref: Ref, from_fname: str, suggest: bool) -> Target:
        # [[text|https://...]]: a web link written as a wikilink
        if not ref.vault and "://" in ref.raw and URL_RE.match(ref.target_text):
            return Target("", None, ref.alias or ref.target_text, url=ref.target_text)
        fname = ref.fname or from_fname
        found = self.hierarchy.find(fname)      # the page's own spelling: links match without case
        page = self.hierarchy.pages.get(found) if found is not None else None
        if page is None:
            spelled = self._notes.find(fname)
            note = self.vault.get(spelled) if spelled is not None else None
            if note is not None and not note.published:
                return Target(note.fname, None, ref.alias or note.title, private=True)
            hint = did_you_mean(fname, self._names, ignore_case=True) if suggest else ""
            return Target(fname, None, ref.alias or fname, f'no note named "{fname}"{hint}')
        return self._resolve_anchor(ref, page.fname, ref.alias or page.title, suggest)

    def _resolve_anchor(self, ref: Ref, fname: str, text: str, suggest: bool) -> Target:
        target = self._anchor_target(ref, fname, text, suggest)
        if not ref.alias:
            return target
        return new_tuple(Target, (*target[:7], True))      # alias=True

    def _anchor_target(self, ref: Ref, fname: str, text: str, suggest: bool) -> Target:
        if ref.block:
            idx = self.anchors(fname)
            if idx is None or ref.block not in idx.blocks:
                return Target(fname, None, text, f'no block "^{ref.block}" in "{fname}"', "broken-block")
            return Target(fname, "^" + ref.block, text)
        if ref.anchor:
            idx = self.anchors(fname)
            h = idx.find(ref.anchor) if idx else None
            if h is None:
                hint = idx.suggestion(ref.anchor) if idx and suggest else ""
                return Target(fname, None, text, f'no heading "{ref.anchor}" in "{fname}"{hint}', "broken-anchor")
            if not ref.alias and not ref.fname:
                text = h.text
            if ref.anchor_end and ref.anchor_end != "*" and not ref.anchor_end.startswith("^") \
                    and idx.find(ref.anchor_end) is None:     # (a block as the end: checked by the embed)
                return Target(fname, h.slug, text, f'no heading "{ref.anchor_end}" in "{fname}"', "broken-anchor")
            return new_tuple(Target, (fname, h.slug, text, None, "broken-link", False, None, False))
        return new_tuple(Target, (fname, None, text, None, "broken-link", False, None, False))
