"""The site compiler: vault + data -> the Markdown of every page, the link graph, the diagnostics.

Knows nothing of MkDocs. Passes, each over every note once:
  1. prepare  - {{fm.*}} replaced, data blocks rendered (once) and left as placeholders
  2. expand   - embeds inlined; the final headings of every page are known
  3. check    - every link, embed and block of every note resolved against the pages;
                diagnostics at the note's own lines; backlinks collected
  4. render   - what authors wrote: links rewritten to Markdown links MkDocs validates;
                what the hierarchy makes (breadcrumbs, children, backlinks, stub pages):
                HTML, as its links all point at pages that exist
"""
from __future__ import annotations

import datetime as dt
import hashlib
import html
import itertools
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .diagnostics import Diagnostic
from .datacheck import DataCheck
from .embeds import Expander, broken_html
from .headings import Doc, Heading, heading_plain_text
from .hierarchy import ROOT, Hierarchy, href_of, relative_url, src_of
from .media import MediaRef, finish_html as media_html, note_media, rewrite as media_rewrite
from .names import NameIndex
from .notecache import NoteCache
from .resolve import AnchorIndex, Resolver, Target
from .syntax import BLOCK_ANCHOR_RE, FMVAR_RE, TextIndex, Token, new_tuple, scan
from .vault import QUESTIONS_KIND, Note, Vault

log = logging.getLogger("kb")

QUESTIONS_KEY = "kbquestionslist"     # placeholder for the generated list of questions
QUESTIONS_BEGIN, QUESTIONS_END = "kbquestionsbegin", "kbquestionsend"    # around the list once made
_QUESTIONS_RE = re.compile(rf"(?:<p>)?{QUESTIONS_BEGIN}(?:</p>)?(.*?)(?:<p>)?{QUESTIONS_END}(?:</p>)?", re.S)

_placeholder_ids = itertools.count(1)


def _names_hash(*groups: Iterable[str]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for names in groups:
        h.update("\n".join(names).encode())
        h.update(b"\0")
    return h.hexdigest()


def md_text(text: str) -> str:
    """Text that Markdown shows literally, in link brackets, a heading or a paragraph: its
    syntax backslashed ('{' too: attr_list would read `{: onclick=...}` as attributes), '&'
    and '<' as entities (Python-Markdown does not unescape a backslashed '<'), so no value
    becomes HTML, a link or an attribute."""
    return re.sub(r"([\\\[\]*_`{}])", r"\\\1", text.replace("&", "&amp;").replace("<", "&lt;"))


def alias_text(text: str) -> str:
    """An author's link text is Markdown (it may hold `code`); only brackets would end it."""
    return re.sub(r"([\[\]])", r"\\\1", text)


@dataclass
class RenderedBlock:
    key: str                  # placeholder written into the Markdown
    html: str
    downloads: list[tuple[str, bytes]]


@dataclass
class Page:
    fname: str
    markdown: str
    blocks: list[RenderedBlock] = field(default_factory=list)
    html: str | None = None     # finished HTML for generated pages (no Markdown to convert)
    before: str = ""            # furniture around a note's converted Markdown: breadcrumbs,
    after: str = ""             # then the lists of children, backlinks... and the date
    sections: list[tuple[str, str]] = field(default_factory=list)   # (title, id) of the h2s in `after`


class Site:
    """Everything a build or `kb check` needs, computed once per build."""

    def __init__(self, project_root: Path, notes_dir: str | Path = "notes", data_dir: str | Path = "data",
                 *, render_pages: bool = True, note_cache: NoteCache | None = None, jobs: int = 1,
                 vault: Vault | None = None, data_check: DataCheck | None = None):
        """`render_pages=False` checks only (`kb check`): data blocks are validated by
        `data_check`, not drawn, and `note_cache` keeps what embeds produce between runs."""
        self.root = Path(project_root).resolve()
        self.notes_dir = (self.root / notes_dir).resolve()
        self.data_dir = (self.root / data_dir).resolve()
        self.vault = vault if vault is not None else Vault(self.notes_dir, self.root, note_cache, jobs)
        self.diagnostics: list[Diagnostic] = []
        self.backlinks: dict[str, set[str]] = {}
        self.data_pages: dict[str, set[str]] = {}       # note fname -> pages whose tables show rows about it
        self.blocks: dict[str, RenderedBlock] = {}
        self.pages: dict[str, Page] = {}

        published = self.vault.published
        tags, users = self._collect_tags(published)
        self.tagged: dict[str, list[str]] = tags
        self.mentions: dict[str, list[str]] = users
        self.hierarchy = Hierarchy(published, tags, users)
        self.render_pages = render_pages
        self.data: Any = None       # the DataContext of a build (None without the data engine)
        self.data_check: DataCheck | None = None
        if render_pages:
            self.data = self._data_context()
            self.diagnostics.extend(self.data.diagnostics() if self.data is not None else [])
        else:
            self.data_check = data_check or DataCheck(self.data_dir, self.root, list(self.vault.notes), note_cache)

        for note in self.vault.notes.values():
            self.diagnostics.extend(note.problems)
        self._check_ids()
        self._check_case_clashes()
        # Prepared notes are needed by every pass; expanded pages and their anchors only
        # where something asks (a check touches few pages, a build all of them).
        self.prepared = {f: self._prepared_doc(n) for f, n in published.items()}
        if self.data_check is not None:
            self.data_check.send()      # every block is known: its checks go on beside the link checks
        self.resolver = Resolver(self.vault, self.hierarchy, self.anchors)
        self.expander = Expander(self._source, self._children, self.resolver.parse, self.hierarchy.canon)
        self._expanded: dict[str, Doc] = {}
        self._anchors: dict[str, AnchorIndex] = {}
        self._embed_problems: dict[str, dict[str, list | None]] = {}
        # `kb check` keeps what embeds produce (anchors of expanded pages, embed problems) with
        # the notes they read; see _derived.
        self._cache = note_cache if not render_pages else None
        self._names = _names_hash(self.hierarchy.pages, self.vault.notes) if self._cache else ""
        self._reads: tuple[dict[str, Any], dict[str, list[str]]] | None = None
        self._media_found: dict[str, bool] = {}     # vault path -> is a file (many notes show one logo)
        for note in published.values():
            self._check_note(note)
        if self.data_check is not None:
            self.diagnostics.extend(self.data_check.diagnostics())
        if render_pages:
            for page in self.hierarchy.pages.values():
                render = self._render_page if page.kind == "note" else self._render_generated
                self.pages[page.fname] = render(page.fname)

    # -- pass 0: what the hierarchy needs ---------------------------------------
    def _collect_tags(self, notes: dict[str, Note]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        """Tag and user names -> the notes that use them; spellings that differ only in case are
        one name (the first seen), as note names are."""
        tags: dict[str, list[str]] = {}
        users: dict[str, list[str]] = {}
        tag_names, user_names = NameIndex(), NameIndex()
        for fname, note in notes.items():
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
        self._tag_names, self._user_names = tag_names, user_names
        return tags, users

    def _data_context(self) -> Any:
        try:
            from .data import DataContext
        except ImportError:      # the data engine is optional for vaults without data/
            return None
        return DataContext(self.data_dir, self.root, lambda f: f in self.vault.notes, known_notes=self.vault.notes)

    def _check_ids(self) -> None:
        for nid, notes in self.vault.by_id.items():
            if not _id_is_segment(nid):
                self.diagnostics.append(Diagnostic(
                    notes[0].rel, notes[0].fm_line("id"), 1, "warning",
                    f'id "{nid}" cannot be a folder of /notes/<id>/ (no "/", "\\", control characters, '
                    '"." or ".."): no redirect is made; give this note an id of letters, digits, "-" and "_"',
                    "bad-id"))
            for other in notes[1:]:
                self.diagnostics.append(Diagnostic(
                    other.rel, other.fm_line("id"), 1, "error",
                    f'duplicate id "{nid}" (also in {notes[0].rel}): give this note a new unique id', "duplicate-id"))

    def _check_case_clashes(self) -> None:
        """Two notes whose names differ only in case are one name to Dendron (and to a
        case-insensitive file system): the first in file-name order is built, the other is not."""
        for kept, dropped in self.hierarchy.clashes:
            note, first = self.vault.notes[dropped], self.vault.notes[kept]
            self._diag(note, 1, 1, f'"{dropped}" and "{kept}" differ only in case, which Dendron does not tell apart '
                       f"({first.rel} is built, this note is not): rename one of them", "case-clash")

    def _child_notes(self, fname: str) -> list[str]:
        page = self.hierarchy.pages.get(fname)
        return [c for c in page.children if self.hierarchy.pages[c].kind == "note"] if page else []

    # -- pass 1: prepare --------------------------------------------------------
    def _prepared_doc(self, note: Note) -> Doc:
        if not note.has_fmvars and not note.data_fences:
            return note.doc           # most notes: reuse the parse (and do not read a cached note's text)
        text = self._prepare(note)
        return note.doc if text == note.body else Doc(text)

    def _prepare(self, note: Note) -> str:
        body = note.body
        if note.has_fmvars:
            body = self._fm_vars(note, body)
        wanted = note.data_fences
        if not wanted:
            return body
        lines = body.split("\n")
        for i, f in reversed(list(enumerate(wanted))):
            kind = f.info.split(" ")[0]
            if kind == QUESTIONS_KIND:
                key = QUESTIONS_KEY
            else:
                key = self._render_block(note, kind, f, i)
            lines[f.start_line:f.end_line + 1] = ["", f.indent + key, ""]
        return "\n".join(lines)

    def _fm_vars(self, note: Note, body: str, literal: Callable[[str], str] | None = None) -> str:
        """{{fm.KEY}} replaced by the value as text: `literal` makes it show as written where
        it lands (by default Markdown that shows the value as text and keeps its wikilinks,
        #tags and @users for the link pass, as Dendron links them; frontmatter is never markup)."""
        literal = literal or _value_md
        def sub(m: re.Match, depth: int = 0) -> str:
            found, value = _fm_lookup(note.fm, m["name"])
            text = "" if not found or value is None else str(value)
            # A value may itself hold variables (a desc quoting the title): one level, no loops.
            if depth:
                return FMVAR_RE.sub("", text)
            return literal(FMVAR_RE.sub(lambda m2: sub(m2, depth + 1), text))
        out, pos = [], 0      # joined once: a copy of the body per variable was quadratic
        for tok in scan(body, ("fmvar",)):
            out.append(body[pos:tok.start])
            out.append(FMVAR_RE.sub(sub, tok.text))
            pos = tok.end
        out.append(body[pos:])
        return "".join(out)

    def _render_block(self, note: Note, kind: str, fence, index: int) -> str:
        key = f"kbblock{next(_placeholder_ids)}x"
        body_line = note.body_line + fence.start_line + 2
        if self.data_check is not None:     # checking only: validate the block, draw nothing
            self.data_check.add(kind, fence.body, note.rel, body_line)
            self.blocks[key] = RenderedBlock(key, "", [])
            return key
        if self.data is None:
            html_ = broken_html(f"{kind} block", "the data engine is not available")
            self.blocks[key] = RenderedBlock(key, html_, [])
            return key
        from .data import render_block
        res = render_block(kind, fence.body, self.data, note_path=note.rel, body_line=body_line,
                           href=lambda f: "kbhref:" + f, block_id=f"{kind}-{_slug(note.fname)}-{index + 1}")
        self.diagnostics.extend(res.diagnostics)
        self.blocks[key] = RenderedBlock(key, res.html, list(res.downloads))
        for target in res.linked_notes:
            self.data_pages.setdefault(target, set()).add(note.fname)
        return key

    # -- pass 2: the expanded pages and their anchors, on demand -----------------
    def expanded(self, fname: str) -> Doc:
        doc = self._expanded.get(fname)
        if doc is None:
            prepared = self.prepared[fname]
            if self._as_written(fname):
                self._expanded[fname] = prepared     # nothing to expand
                return prepared
            text = self.expander.expand(fname, prepared.text)
            doc = prepared if text == prepared.text else Doc(text)
            self._expanded[fname] = doc
        return doc

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
                heads, blocks = self._derived("anchors", fname, lambda: self._expanded_ids(fname))
                if heads and type(heads[0]) is not Heading:     # lists, from the cache
                    heads = [new_tuple(Heading, h) for h in heads]
                idx = AnchorIndex(heads, set(blocks))
            self._anchors[fname] = idx
        return idx

    def _expanded_ids(self, fname: str) -> list:
        doc = self.expanded(fname)
        return [doc.headings, list(doc.blocks)]

    def _embed_problem(self, note: Note, inner: str) -> list | None:
        """[message, code] of what is wrong with an embed in `note`, or None."""
        found = self._embed_problems.get(note.fname)
        if found is None:
            def probe() -> dict[str, list | None]:
                out = {}
                for kind, value in note.refs:
                    if kind == "embed" and value not in out:
                        p = self.expander.problem(value, note.fname)
                        out[value] = [p.message, p.code] if p else None
                return out
            found = self._embed_problems[note.fname] = self._derived("embeds", note.fname, probe)
        return found.get(inner)

    # -- what embeds produce, kept between `kb check` runs ------------------------
    def _source(self, fname: str) -> Doc | None:
        if self._reads is not None:
            note = self.vault.notes.get(fname)
            self._reads[0][fname] = note.digest if note is not None else None
        return self.prepared.get(fname)

    def _children(self, fname: str) -> list[str]:
        kids = self._child_notes(fname)
        if self._reads is not None:
            self._reads[1][fname] = kids
        return kids

    def _derived(self, kind: str, fname: str, compute: Callable[[], Any]) -> Any:
        """compute(), or its result from the cache while every note it read is unchanged, the
        wildcard children it listed are the same and no page was added or removed."""
        if self._cache is None:
            return compute()
        key = f"{kind}:{fname}"
        current = lambda f: (self.vault.notes[f].digest if f in self.vault.notes else None)  # noqa: E731
        hit = self._cache.derived(key, self._names, current, self._child_notes)
        if hit is not None:
            return hit
        outer, self._reads = self._reads, ({fname: current(fname)}, {})
        try:
            value = compute()
        finally:
            reads, self._reads = self._reads, outer
        if outer is not None:
            outer[0].update(reads[0])
            outer[1].update(reads[1])
        self._cache.put_derived(key, self._names, reads[0], reads[1], value)
        return value

    # -- pass 3: check ------------------------------------------------------------
    def _check_note(self, note: Note) -> None:
        # The hottest loop of `kb check` (a big vault has 10+ links per note): locals, no calls per
        # link. Positions are looked up only for a problem (a note from the cache is read then).
        fname = note.fname
        resolve, backlinks = self.resolver.resolve_text, self.backlinks
        known = self.resolver.absolute_targets(suggest=True)
        reported: set[tuple[str, str]] = set()
        for kind, value in note.refs:
            if kind == "link":
                t = known.get(value) or resolve(value, fname, True)
                if t.error:
                    self._diag_each(note, kind, value, t.error, t.code, reported)
                elif self.render_pages and t.fname != fname and not t.private and not t.url:   # backlinks: pages only
                    linked = backlinks.get(t.fname)
                    if linked is None:
                        backlinks[t.fname] = {fname}
                    else:
                        linked.add(fname)
            elif kind == "embed":
                prob = self._embed_problem(note, value)
                if prob:
                    self._diag_each(note, kind, value, prob[0], prob[1], reported)
                target = self.hierarchy.canon(self.resolver.parse(value).fname or fname)
                if target != fname and target in self.hierarchy.pages:
                    backlinks.setdefault(target, set()).add(fname)
            elif kind == "fmvar" and (kind, value) not in reported and not _fm_lookup(note.fm, value)[0]:
                reported.add((kind, value))
                for line, col in _places(note, kind, value):
                    log.info("%s:%d:%d: frontmatter has no key %r for {{fm.%s}}", note.rel, line, col, value, value)
        for ref in note_media(note):
            self._check_media(note, ref)

    def _check_media(self, note: Note, ref: MediaRef) -> None:
        """An image or file the note points at must be in the vault (MkDocs copies it to the site)."""
        found = self._media_found.get(ref.path)
        if found is None:
            found = self._media_found[ref.path] = (self.notes_dir / ref.path).is_file()
        if not found:
            line, col = note.file_pos(ref.line, ref.col)
            where = (self.notes_dir / ref.path).relative_to(self.root).as_posix() \
                if self.notes_dir.is_relative_to(self.root) else str(self.notes_dir / ref.path)
            self._diag(note, line, col, f'{"image" if ref.image else "file"} "{ref.url}": no file {where}; '
                       "add the file or correct the path", "missing-asset", "warning")

    def _diag_each(self, note: Note, kind: str, value: str, message: str, code: str,
                   reported: set[tuple[str, str]]) -> None:
        """One problem at every place the note has this token (once per note: refs repeat)."""
        if (kind, value) not in reported:
            reported.add((kind, value))
            for line, col in _places(note, kind, value):
                self._diag(note, line, col, message, code)

    def _diag(self, note: Note, line: int, col: int, message: str, code: str, severity: str = "error") -> None:
        self.diagnostics.append(Diagnostic(note.rel, line, col, severity, message, code))  # type: ignore[arg-type]

    # -- pass 4: render -----------------------------------------------------------
    def _link(self, target: Target, from_fname: str) -> str:
        if target.error:
            return broken_html(target.text, target.error)
        if target.private:
            return f'<span class="kb-private">{html.escape(target.text)}</span>'
        if target.url:
            return f"[{alias_text(target.text)}](<{target.url}>)"
        anchor = f"#{target.anchor}" if target.anchor else ""
        dest = "" if target.fname == from_fname and anchor else src_of(target.fname)
        text = alias_text(target.text) if target.alias else md_text(target.text)
        return f"[{text}]({dest}{anchor})"

    def _rewrite(self, fname: str, body: str) -> str:
        toks = scan(body, ("link", "tag", "user", "embed"), in_comments=True)
        out, pos = [], 0
        for tok in toks:
            out.append(body[pos:tok.start])
            out.append(self._render_token(tok, fname))
            pos = tok.end
        out.append(body[pos:])
        text = "".join(out)
        if "^" in text:
            text = _anchor_blocks(text)
        return media_rewrite(text)      # images and files: made relative to the page in finish_html

    def _render_token(self, tok: Token, fname: str) -> str:
        if tok.kind == "link":
            return self._link(self.resolver.resolve(self.resolver.parse(tok.value), fname), fname)
        if tok.kind == "embed":   # left over only where expansion refused it
            return broken_html(tok.value, "embed could not be expanded")
        prefix = "tags." if tok.kind == "tag" else "user."
        return f"[{md_text(tok.text)}]({src_of(self.hierarchy.canon(prefix + tok.value))})"

    def _render_page(self, fname: str) -> Page:
        page = self.hierarchy.pages[fname]
        note = page.note
        assert note is not None
        parts: list[str] = []
        body = self._rewrite(fname, self.expanded(fname).text)
        if not any(h.level == 1 for h in self.expanded(fname).headings):
            parts.append(f"# {md_text(page.title)} {{: #kb-title }}\n")
        if note.desc and fname != ROOT:
            desc = self._desc_md(fname, note)
            desc = re.sub(r"^\s*([#>*+\-=]|\d+[.)])", r"\\\1", desc)   # one paragraph, whatever it starts with
            parts.append(f"{desc}\n{{: .kb-desc }}\n")
        parts.append(body)
        if QUESTIONS_KEY in body:
            parts[-1] = parts[-1].replace(QUESTIONS_KEY, self._questions_md())
        sections: list[tuple[str, list[str], str]] = []
        tag = self._tag_names.find(fname[5:]) if fname.startswith("tags.") else None
        if tag is not None:
            sections.append(("Notes tagged #" + tag, self.tagged[tag], "kb-tagged"))
        kids = self.hierarchy.nav_children(fname)
        if kids and note.child_links:
            sections.append(("Children", kids, "kb-children"))
        back = sorted(self.backlinks.get(fname, ()), key=lambda f: (self.hierarchy.pages[f].title.casefold(), f))
        if back:
            sections.append(("Backlinks", back, "kb-backlinks"))
        data_refs = sorted(self.data_pages.get(fname, set()) - {fname})
        if data_refs:
            sections.append(("In the data", data_refs, "kb-in-the-data"))
        after = [self._list_html(fname, title, fnames, anchor, with_desc=anchor == "kb-children")
                 for title, fnames, anchor in sections]
        if note.tags:
            after.insert(0, self._tags_html(fname, note.tags))
        if note.updated:
            day = dt.datetime.fromtimestamp(note.updated / 1000, dt.timezone.utc).strftime("%Y-%m-%d")
            after.append(f'<p class="kb-updated">Updated <time datetime="{day}">{day}</time></p>')
        blocks = [self.blocks[k] for k in dict.fromkeys(_BLOCK_KEY_RE.findall(body)) if k in self.blocks]
        return Page(fname, "\n".join(parts), blocks, before=self._breadcrumbs(fname), after="\n".join(after),
                    sections=[(title, anchor) for title, _, anchor in sections])

    def _desc_md(self, fname: str, note: Note) -> str:
        """The desc as one line of Markdown that shows it as written (frontmatter is text, not
        markup), its wikilinks, #tags and @users linked and its {{fm.*}} replaced."""
        text = note.desc.replace("\n", " ")
        out, pos = [], 0
        for tok in scan(text, ("link", "embed", "tag", "user", "fmvar")):
            out.append(md_text(text[pos:tok.start]))
            out.append(self._fm_vars(note, tok.text) if tok.kind == "fmvar" else self._render_token(tok, fname))
            pos = tok.end
        out.append(md_text(text[pos:]))
        return "".join(out)

    def _render_generated(self, fname: str) -> Page:
        """Stub, tag and user pages as finished HTML: only links the hierarchy vouches for, and
        no Markdown pass (a deep vault has more stubs than notes)."""
        page = self.hierarchy.pages[fname]
        out = [self._breadcrumbs(fname), f'<h1 id="kb-title">{html.escape(page.title)}{_permalink("kb-title")}</h1>']
        if page.kind == "tag":
            name = fname[5:]
            out.append(self._list_html(fname, f"Notes tagged #{name}", self.tagged.get(self._tag_names.find(name) or name, []), "kb-tagged"))
        elif page.kind == "user":
            name = fname[5:]
            out.append(self._list_html(fname, f"Notes mentioning @{name}", self.mentions.get(self._user_names.find(name) or name, []), "kb-mentions"))
        else:
            out.append("<p>This page has no note of its own; it groups the notes below it.</p>")
            out.append(self._list_html(fname, "Children", page.children, "kb-children", with_desc=True))
        return Page(fname, "", [], html="\n".join(o for o in out if o))

    # Page furniture (breadcrumbs, children, backlinks) is HTML made from the hierarchy, whose
    # pages all exist: only what authors wrote goes through Markdown and MkDocs' link checks.
    def _breadcrumbs(self, fname: str) -> str:
        crumbs = self.hierarchy.ancestors(fname)
        if not crumbs:
            return ""
        return ('<nav class="kb-breadcrumbs" aria-label="Breadcrumbs">'
                + " / ".join(self._a(fname, c) for c in crumbs) + "</nav>")

    def _a(self, here: str, to: str) -> str:
        return (f'<a href="{html.escape(relative_url(here, to), quote=True)}">'
                f'{self.hierarchy.title_html(to)}</a>')

    def _tags_html(self, here: str, tags: list[str]) -> str:
        """The note's frontmatter tags as chips, each a link to its tag page."""
        chips = []
        for t in dict.fromkeys(tags):
            page = self.hierarchy.find("tags." + (self._tag_names.find(t) or t))
            text = html.escape("#" + (page[5:] if page else t))
            chips.append(f'<a class="kb-tag" href="{html.escape(relative_url(here, page), quote=True)}">{text}</a>'
                         if page else f'<span class="kb-tag">{text}</span>')
        return f'<nav class="kb-tags" aria-label="Tags">{"".join(chips)}</nav>'

    def _list_html(self, here: str, title: str, fnames: list[str], anchor: str, *, with_desc: bool = False) -> str:
        items = []
        for f in fnames:
            p = self.hierarchy.pages.get(f)
            if p is None:
                continue
            desc = ""
            if with_desc and p.note is not None and p.note.desc:
                desc = " — " + html.escape(self._plain(f, self._fm_vars(p.note, p.note.desc, str)))
            items.append(f"<li>{self._a(here, f)}{desc}</li>")
        return f'<h2 id="{anchor}">{html.escape(title)}{_permalink(anchor)}</h2>\n<ul>{"".join(items)}</ul>'

    def _plain(self, fname: str, text: str) -> str:
        """Text with wikilinks, tags and user tags reduced to what they show."""
        if "[[" not in text:
            return text
        out, pos = [], 0
        for tok in scan(text, ("link", "embed")):
            out.append(text[pos:tok.start])
            out.append(self.resolver.resolve(self.resolver.parse(tok.value), fname).text)
            pos = tok.end
        out.append(text[pos:])
        return "".join(out)

    def _questions_md(self) -> str:
        """Every heading ending in '?' in the vault, grouped by top-level section and then by
        note, both in navigation order. The list repeats headings that search finds on their own
        pages: it is marked to stay out of the search index (see finish_html)."""
        out = []
        section = None
        for page in self.hierarchy.walk(ROOT) if ROOT in self.hierarchy.pages else []:
            if page.note is None:
                continue
            own_texts = {h.text for h in page.note.headings if h.text.endswith("?")}
            own = [h for h in self.expanded(page.fname).headings if h.text in own_texts]
            if not own:
                continue
            trail = self.hierarchy.ancestors(page.fname)[1:] + [page.fname]
            if trail[0] != section:
                section = trail[0]
                out.append(f"\n### [{md_text(self.hierarchy.pages[section].title)}]({src_of(section)})\n")
            if trail[1:]:     # a top-level note's own questions go right under its heading
                head = " / ".join(self.hierarchy.pages[a].title for a in trail[1:])
                out.append(f"\n#### [{md_text(head)}]({src_of(page.fname)})\n")
            # The heading as its page shows it (code unwrapped, entities read), then as text.
            out.extend(f"- [{md_text(heading_plain_text(h.text))}]({src_of(page.fname)}#{h.slug})" for h in own)
        return f"\n{QUESTIONS_BEGIN}\n" + "\n".join(out) + f"\n\n{QUESTIONS_END}\n"

    # -- for the adapter ----------------------------------------------------------
    def finish_html(self, fname: str, content: str) -> str:
        """Put rendered blocks in place of their placeholders; make data links, images and files
        relative."""
        page = self.pages.get(fname)
        if page is None:
            return content
        content = media_html(content, href_of(fname))
        if QUESTIONS_BEGIN in content:
            content = _QUESTIONS_RE.sub(_search_excluded, content)
        if not page.blocks:
            return content
        for b in page.blocks:
            content = re.sub(rf"(?:<p>)?{b.key}(?:</p>)?", lambda _m, h=b.html: h, content, count=1)
        # The fname is in the attribute as written there (escaped): read back, written again.
        return re.sub(r'href="kbhref:([^"#]+)(#[^"]*)?"',
                      lambda m: f'href="{html.escape(relative_url(fname, html.unescape(m[1])), quote=True)}{m[2] or ""}"',
                      content)

    def furnish(self, fname: str, content: str) -> str:
        """A note's converted content between its breadcrumbs and its lists (children, backlinks...)."""
        page = self.pages.get(fname)
        if page is None or not (page.before or page.after):
            return content
        return "\n".join(x for x in (page.before, content, page.after) if x)

    def ids(self) -> dict[str, str]:
        """Note id -> fname, for the /notes/<id>/ redirects (published notes, unique ids)."""
        out = {}
        for nid, notes in self.vault.by_id.items():
            if notes[0].published and _id_is_segment(nid):     # never a path that climbs out of notes/
                out[nid] = notes[0].fname
        return out


_BLOCK_KEY_RE = re.compile(r"kbblock\d+x")


def _value_md(text: str) -> str:
    """A frontmatter value as Markdown that shows it as written, except its wikilinks, #tags and
    @users, which stay as written so the link pass resolves (and checks) them."""
    out, pos = [], 0
    for tok in scan(text, ("link", "tag", "user")):
        out.append(md_text(text[pos:tok.start]))
        out.append(tok.text)
        pos = tok.end
    out.append(md_text(text[pos:]))
    return "".join(out)


def _id_is_segment(nid: str) -> bool:
    """The id names one folder: /notes/<id>/ holds its redirect and nothing climbs out of notes/."""
    return nid not in (".", "..") and not _NOT_IN_SEGMENT_RE.search(nid)


_NOT_IN_SEGMENT_RE = re.compile(r"[/\\\x00-\x1f\x7f]")


def _permalink(anchor: str) -> str:
    return f'<a class="headerlink" href="#{anchor}" title="Permanent link">&para;</a>'


def _slug(fname: str) -> str:
    return re.sub(r"[^\w-]+", "-", fname).strip("-")


def _places(note: Note, kind: str, value: str) -> list[tuple[int, int]]:
    """1-based (line, col) in the file of each token of this kind and value; the body's first
    line if the text no longer has one (a file changed under a cached summary): a problem is
    never dropped."""
    first = note.body_line + 1
    places = note.__dict__.get("_kb_places")
    if places is None:      # every token's place, grouped once: a scan per problem was quadratic
        places = note.__dict__["_kb_places"] = {}
        for t in note.tokens:
            places.setdefault((t.kind, t.value), []).append((first + t.line, t.col + 1))
    return places.get((kind, value)) or [(first, 1)]


def _fm_lookup(fm: dict, dotted: str) -> tuple[bool, Any]:
    """A frontmatter value by dotted key ({{fm.config.x}}): (found, value)."""
    value: Any = fm
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _anchor_blocks(text: str) -> str:
    """` ^id` ending a line becomes an HTML anchor (MkDocs sees ids in raw HTML)."""
    ix = TextIndex(text)
    out, pos = [], 0
    for m in BLOCK_ANCHOR_RE.finditer(text):
        caret = m.start("id") - 1
        if ix.in_code(caret):
            continue
        out.append(text[pos:caret])
        out.append(f'<a id="^{m["id"]}"></a>')
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def _search_excluded(m: re.Match) -> str:
    """The list's headings (and so their sections) marked for Material's search to skip."""
    return re.sub(r"<(h[1-6])\b", r"<\1 data-search-exclude", m[1])
