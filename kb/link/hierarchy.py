"""The site's pages as plain data: notes, stubs for missing ancestors, tag and user pages.

Dendron's hierarchy: `a.b.c` is a child of `a.b`; top-level notes are children of
`root`. URL of `a.b.c` is `a/b/c/`; `root` is the home page.
"""
from __future__ import annotations

import html
import re
from collections import ChainMap
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Iterator, Literal
from urllib.parse import quote

from ..parse.names import NameIndex
from ..parse.vault import Note, title_from_fname

PageKind = Literal["note", "stub", "tag", "user"]
ROOT = "root"


def parent_of(fname: str) -> str | None:
    if fname == ROOT:
        return None
    return fname.rsplit(".", 1)[0] if "." in fname else ROOT


def url_of(fname: str) -> str:
    """Site-relative URL with a trailing slash ('' for the home page)."""
    return "" if fname == ROOT else fname.replace(".", "/") + "/"


def dest_of(fname: str) -> str:
    return url_of(fname) + "index.html"


def href_of(fname: str) -> str:
    """url_of as it goes in a link: percent-encoded as MkDocs writes its own URLs, so a name
    such as `javascript:x` stays a path (never a scheme) and '#', '?', '%' stay in it."""
    return quote(url_of(fname))


def src_of(fname: str) -> str:
    """The page's source path inside docs_dir (flat, as Dendron keeps notes)."""
    return f"{fname}.md"


@lru_cache(maxsize=65536)
def _segments(fname: str) -> tuple[str, ...]:
    return tuple(p for p in href_of(fname).split("/") if p)


def relative_url(from_fname: str, to_fname: str) -> str:
    """URL of one page relative to another, both at their directory URLs (percent-encoded)."""
    a, b = _segments(from_fname), _segments(to_fname)   # every sidebar link asks: cached
    common, n = 0, min(len(a), len(b))
    while common < n and a[common] == b[common]:
        common += 1
    parts = [".."] * (len(a) - common) + list(b[common:])
    return "/".join(parts) + "/" if parts else "./"


_WORD_RE = re.compile(r"[^\W_]+")


def _title_words(titles: Iterable[str]) -> dict[str, str]:
    """casefold -> the first spelling with a capital letter, over the words of the titles."""
    out: dict[str, str] = {}
    for t in titles:
        for w in _WORD_RE.findall(t):
            if w != w.lower():
                out.setdefault(w.casefold(), w)
    return out


def _stub_spellings(pages: dict[str, "SitePage"], fnames: Iterable[str]) -> Iterator[tuple[str, str]]:
    """The title of each stub among FNAMES, from its name, spelled as the titles below it and the
    notes beside it spell its words. Deepest first, and the caller sets each title before the
    next is spelled, so that a stub above a stub sees the spelling found."""
    notes_below: dict[str, dict[str, str]] = {}     # page -> words of its notes' titles (memo)

    def beside(fname: str | None) -> dict[str, str]:
        if fname is None or fname not in pages:
            return {}
        w = notes_below.get(fname)
        if w is None:
            w = notes_below[fname] = _title_words(pages[c].title for c in sorted(pages[fname].children)
                                                  if pages[c].kind == "note")
        return w

    stubs = [f for f in fnames if pages[f].kind == "stub" and f != ROOT]
    stubs.sort(key=lambda f: -f.count("."))
    for f in stubs:
        page = pages[f]
        known = ChainMap(_title_words(pages[c].title for c in sorted(page.children)), beside(page.parent))
        yield f, title_from_fname(f, known)


@dataclass
class SitePage:
    fname: str
    kind: PageKind
    note: Note | None
    title: str
    parent: str | None = None
    children: list[str] = field(default_factory=list)   # in navigation order

    @property
    def in_nav(self) -> bool:
        return not (self.note is not None and self.note.nav_exclude)

    def sort_key(self) -> tuple:
        order = self.note.nav_order if self.note is not None else None
        return (order is None, order if order is not None else 0.0, self.title.casefold(), self.fname)


class Hierarchy:
    """Every page of the site, with parents and children, built from the published notes."""

    def __init__(self, notes: dict[str, Note], tags: Iterable[str] = (), users: Iterable[str] = ()):
        self.pages: dict[str, SitePage] = {}
        # Names match without regard to case (as in Dendron): a note whose name differs from an
        # earlier one (in file-name order) only in case is left out, and listed in `clashes`.
        self.names = names = NameIndex()
        self.clashes: list[tuple[str, str]] = []       # (the note kept, the note left out)
        for fname in sorted(notes):
            held = names.add(fname)
            if held != fname:
                self.clashes.append((held, fname))
                continue
            self.pages[fname] = SitePage(fname, "note", notes[fname], notes[fname].title)
        for kind, prefix, names_ in (("tag", "tags.", tags), ("user", "user.", users)):
            for name in names_:
                fname = prefix + name
                if fname not in names:
                    names.add(fname)
                    self.pages[fname] = SitePage(fname, kind, None, title_from_fname(name) if kind == "user" else name)
        pages = self.pages
        # Each page to its parent, making missing ones as stubs; in name order, so that a stub takes
        # the spelling of the first page below it (`a.Java.x` before `a.java.y`: stub `a.Java`).
        for fname in sorted(pages):
            page = pages[fname]
            while (parent := parent_of(page.fname)) is not None:
                held = names.find(parent)
                if held is not None:
                    page.parent = held
                    pages[held].children.append(page.fname)
                    break
                page.parent = names.add(parent)
                up = pages[parent] = SitePage(parent, "stub", None, "Home" if parent == ROOT else title_from_fname(parent))
                up.children.append(page.fname)
                page = up
        for f, title in _stub_spellings(pages, list(pages)):
            pages[f].title = title
        for page in pages.values():
            if len(page.children) > 1:      # most pages have none or one (a key each costs)
                page.children.sort(key=lambda f: pages[f].sort_key())
        self._nav_children: dict[str, list[str]] = {}
        self._title_html: dict[str, str] = {}
        self._made_with = (list(tags), list(users))
        self._variants: bool | None = None

    # -- an update in place of a rebuild (kb serve) --------------------------------------------
    def _case_variants(self) -> bool:
        """Whether two names differ only in case (clashing notes, or a page filed under a parent
        spelled otherwise): then the spelling of a page depends on all the names below it."""
        if self._variants is None:
            self._variants = bool(self.clashes) or any(
                p.parent is not None and p.parent != parent_of(f) for f, p in self.pages.items())
        return self._variants

    def updated(self, notes: dict[str, Note], tags: Iterable[str], users: Iterable[str],
                changed: Iterable[str]) -> Hierarchy | None:
        """`Hierarchy(notes, tags, users)` made from this one, where only the notes named in
        `changed` differ from those it was made from (retitled, reordered, new, deleted): the
        pages that differ are made again, the others shared. This one is left as it was. None
        where that is not simple (names that differ only in case, a tag or user page that comes
        or goes, the last page gone): then make it anew."""
        tags, users = list(tags), list(users)
        if (set(tags), set(users)) != tuple(map(set, self._made_with)) or self._case_variants():
            return None
        changed = sorted(set(changed))
        if any(f.split(".", 1)[0] in ("tags", "user") for f in changed):
            return None
        new = Hierarchy.__new__(Hierarchy)
        new.pages = pages = dict(self.pages)
        new.names = names = NameIndex()
        names._by_key = dict(self.names._by_key)
        new.clashes, new._nav_children, new._title_html = [], {}, {}
        new._made_with, new._variants = (tags, users), False
        new.touched = set()     # the pages made again or gone (set at the end)
        own: set[str] = set()       # pages copied for the new hierarchy (the old one's stay as they were)
        gone: set[str] = set()
        reorder = False             # pages came, went or changed kind: their order is made again

        def mine(f: str) -> SitePage:
            if f not in own:
                p = pages[f]
                pages[f] = SitePage(p.fname, p.kind, p.note, p.title, p.parent, list(p.children))
                own.add(f)
            return pages[f]

        resort: set[str] = set()    # pages whose children's order may change
        around: set[str] = set()    # names whose stubs around them are spelled again
        for fname in changed:
            note, page = notes.get(fname), pages.get(fname)
            f = fname
            while f is not None:    # a name spelled otherwise than the page holding its key
                held = names.find(f)
                if held is not None and held != f:
                    return None
                f = parent_of(f)
            if note is not None and page is not None:       # changed, or a stub that became a note
                reorder = reorder or page.kind != "note"
                p = mine(fname)
                p.kind, p.note, p.title = "note", note, note.title
            elif note is not None:                          # new: under its parent, stubs made up to it
                reorder = True
                child = pages[fname] = SitePage(fname, "note", note, note.title)
                own.add(fname)
                names.add(fname)
                while (parent := parent_of(child.fname)) is not None:
                    child.parent = parent
                    if parent in pages:
                        mine(parent).children.append(child.fname)
                        break
                    up = pages[parent] = SitePage(parent, "stub", None, "Home" if parent == ROOT else title_from_fname(parent))
                    own.add(parent)
                    names.add(parent)
                    up.children.append(child.fname)
                    child = up
            elif page is not None and page.children:        # deleted, with pages below: a stub
                reorder = True
                p = mine(fname)
                p.kind, p.note, p.title = "stub", None, "Home" if fname == ROOT else title_from_fname(fname)
            elif page is not None:                          # deleted: gone, and the stubs left empty above it
                f = fname
                while True:
                    parent = pages[f].parent
                    del pages[f]
                    own.discard(f)
                    gone.add(f)
                    names._by_key.pop(f.lower(), None)
                    if parent is None:
                        return None     # the home page gone: no page left
                    up = mine(parent)
                    up.children.remove(f)
                    if up.kind != "stub" or up.children or parent == ROOT:
                        break
                    f = parent
                if ROOT in pages and not pages[ROOT].children and pages[ROOT].kind == "stub":
                    return None
            else:
                continue        # neither a page before nor now (unpublished, edited)
            around.add(fname)
        # Stubs spelled again: those above a changed name, and those beside it (spelled from the
        # titles of the notes under the same parent), deepest first as _stub_spellings gives them.
        respell: set[str] = set()
        for fname in around:
            f = fname
            while f is not None:
                if f in pages:
                    respell.add(f)
                    resort.add(f)
                f = parent_of(f)
            parent = parent_of(fname)
            if parent in pages:
                respell.update(c for c in pages[parent].children if pages[c].kind == "stub")
        for f, title in _stub_spellings(pages, sorted(respell)):
            page = pages[f]
            if title != page.title:
                mine(f).title = title
                if page.parent is not None:
                    resort.add(page.parent)
        for f in resort:
            if f in pages and len(pages[f].children) > 1:
                mine(f).children.sort(key=lambda c: pages[c].sort_key())
        new.touched = own | gone
        if not (reorder or gone) and (tags, users) == self._made_with:
            return new
        # The pages in the order a build makes them ("did you mean" takes the first of equals).
        base = sorted(f for f, p in pages.items() if p.kind == "note")
        base += [f for prefix, kind, names_ in (("tags.", "tag", tags), ("user.", "user", users))
                 for f in (prefix + n for n in names_) if f in pages and pages[f].kind == kind]
        order = dict.fromkeys(base)
        for f in sorted(base):
            while (parent := parent_of(f)) is not None and parent not in order:
                order[parent] = None
                f = parent
        if len(order) != len(pages):
            return None
        new.pages = {f: pages[f] for f in order}
        return new

    def title_html(self, fname: str) -> str:
        """The page's title, escaped for HTML (every sidebar that lists the page needs it)."""
        t = self._title_html.get(fname)
        if t is None:
            t = self._title_html[fname] = html.escape(self.pages[fname].title)
        return t

    def nav_children(self, fname: str) -> list[str]:
        """Children shown in navigation (not nav_exclude), in order."""
        kids = self._nav_children.get(fname)
        if kids is None:
            page = self.pages.get(fname)
            kids = self._nav_children[fname] = [c for c in page.children if self.pages[c].in_nav] if page else []
        return kids

    def __contains__(self, fname: str) -> bool:
        return fname in self.pages

    def find(self, fname: str) -> str | None:
        """The page a name means, in the page's own spelling (names match without regard to case)."""
        return fname if fname in self.pages else self.names.find(fname)

    def canon(self, fname: str) -> str:
        """find(fname), or the name as it is where no page has it."""
        return self.find(fname) or fname

    def ancestors(self, fname: str) -> list[str]:
        """From the home page down to the parent."""
        out = []
        p = self.pages[fname].parent
        while p is not None and p in self.pages:
            out.append(p)
            p = self.pages[p].parent
        return out[::-1]

    def walk(self, fname: str = ROOT) -> Iterable[SitePage]:
        """Pages in navigation order, depth first (the order of prev/next links)."""
        stack = [fname]
        while stack:
            f = stack.pop()
            page = self.pages[f]
            yield page
            stack.extend(reversed(page.children))
