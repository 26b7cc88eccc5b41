"""Pass 1 of a page: a note's text with {{fm.*}} replaced and its data blocks drawn (or, for
`kb check`, validated) and left as placeholders.

Knows nothing of MkDocs or of the other pages: the embeds of pass 2 (kb.link.linkgraph) take the
prepared text of the notes they show, so a block is drawn once however many pages embed it.
The drawn blocks wait here for kb.render.pages to put them in place of their placeholders.
"""
from __future__ import annotations

import itertools
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ..link.embeds import broken_html
from ..parse.diagnostics import Diagnostic
from ..parse.headings import Doc
from ..parse.syntax import _HTML_LINE_RE, FMVAR_RE, Fence, in_tag, raw_html_lines, scan
from ..parse.vault import QUESTIONS_KIND, Note, Vault

if TYPE_CHECKING:       # the build draws blocks; only `kb check` validates them (and forks for it)
    from ..check.datacheck import DataCheck

QUESTIONS_KEY = "kbquestionslist"     # placeholder for the generated list of questions

_placeholder_ids = itertools.count(1)


def md_text(text: str) -> str:
    """Text that Markdown shows literally, in link brackets, a heading or a paragraph: its
    syntax backslashed ('{' too: attr_list would read `{: onclick=...}` as attributes), '&'
    and '<' as entities (Python-Markdown does not unescape a backslashed '<'), and quotes too
    (`&quot;`, `&#39;`: a value written into an HTML attribute stays inside its quotes), so no
    value becomes HTML, a link or an attribute. A reader sees the same characters."""
    if "&" in text or "<" in text or '"' in text or "'" in text:
        text = (text.replace("&", "&amp;").replace("<", "&lt;")
                .replace('"', "&quot;").replace("'", "&#39;"))
    return re.sub(r"([\\\[\]*_`{}])", r"\\\1", text)


@dataclass
class RenderedBlock:
    key: str                  # placeholder written into the Markdown
    html: str
    downloads: list[tuple[str, bytes]]


class Preparer:
    """Prepares notes for a build (`data_check` None: blocks drawn with the data engine) or for
    `kb check` (blocks handed to `data_check`, nothing drawn)."""

    def __init__(self, data_dir: Path, project_root: Path, vault: Vault, data_check: DataCheck | None = None):
        self.data_dir, self.root, self.vault = data_dir, project_root, vault
        self.data_check = data_check
        self.blocks: dict[str, RenderedBlock] = {}
        self.diagnostics: list[Diagnostic] = []     # the drawn blocks' problems
        self.data: Any = None       # the DataContext of a build (None without the data engine)
        self.linked: set[str] = set()   # notes the blocks drawn by the last `doc` show rows about
        if data_check is None and self._data_used():
            self.data = self.data_context()

    def data_context(self) -> Any:
        """A DataContext over data/ as it is now (kb serve makes a new one after a data save)."""
        try:
            from ..data import DataContext
        except ImportError:      # the data engine is optional for vaults without data/
            return None
        return DataContext(self.data_dir, self.root, lambda f: f in self.vault.notes, known_notes=self.vault.notes)

    def _data_used(self) -> bool:
        """Whether a note has a data block or data/ holds a file. If not, the data engine (and
        pandas, tens of MB) is not imported until a block asks for it (a kb serve save)."""
        try:
            with os.scandir(self.data_dir) as entries:
                if any(True for _ in entries):
                    return True
        except OSError:
            pass
        return any(note.data_fences for note in self.vault.notes.values())

    def doc(self, note: Note) -> Doc:
        """The note as its page starts from; `linked` says which notes its data blocks link."""
        self.linked = set()
        if not note.has_fmvars and not note.data_fences:
            return note.doc           # most notes: reuse the parse (and do not read a cached note's text)
        text = self._prepare(note)
        return note.doc if text == note.body else Doc(text)

    def _prepare(self, note: Note) -> str:
        body = note.body
        if note.has_fmvars:
            body = self.fm_vars(note, body)
        wanted = note.data_fences
        if not wanted:
            return body
        lines = body.split("\n")
        for i, f in reversed(list(enumerate(wanted))):
            kind = f.info.split(" ")[0]
            if kind == QUESTIONS_KIND:
                key = QUESTIONS_KEY
            else:
                key = self._block(note, kind, f, i)
            lines[f.start_line:f.end_line + 1] = ["", f.indent + key, ""]
        return "\n".join(lines)

    def fm_vars(self, note: Note, body: str, literal: Callable[[str], str] | None = None) -> str:
        """{{fm.KEY}} replaced by the value as text: `literal` makes it show as written where
        it lands (by default Markdown that shows the value as text and keeps its wikilinks,
        #tags and @users for the link pass, as Dendron links them; frontmatter is never markup)."""
        # In a raw HTML block or a tag nothing is Markdown (a wikilink is no link, a backslash
        # stays): there a value is HTML-escaped text, quotes too, so it stays inside an
        # attribute's quotes.
        toks = scan(body, ("fmvar",))
        html = (raw_html_lines(body) if literal is None and toks and _HTML_LINE_RE.search(body)
                else set())
        def sub(m: re.Match, depth: int = 0, as_text: Callable[[str], str] = literal or _value_md) -> str:
            found, value = fm_lookup(note.fm, m["name"])
            text = "" if not found or value is None else str(value)
            # A value may itself hold variables (a desc quoting the title): one level, no loops.
            if depth:
                return FMVAR_RE.sub("", text)
            return as_text(FMVAR_RE.sub(lambda m2: sub(m2, depth + 1), text))
        out, pos = [], 0      # joined once: a copy of the body per variable was quadratic
        for tok in toks:
            out.append(body[pos:tok.start])
            out.append(FMVAR_RE.sub(lambda m: sub(m, as_text=_html_text), tok.text)
                       if tok.line in html or in_tag(body, tok.start) else FMVAR_RE.sub(sub, tok.text))
            pos = tok.end
        out.append(body[pos:])
        return "".join(out)

    def _block(self, note: Note, kind: str, fence: Fence, index: int) -> str:
        key = f"kbblock{next(_placeholder_ids)}x"
        body_line = note.body_line + fence.start_line + 2
        if self.data_check is not None:     # checking only: validate the block, draw nothing
            self.data_check.add(kind, fence.body, note.rel, body_line)
            self.blocks[key] = RenderedBlock(key, "", [])
            return key
        if self.data is None:
            self.data = self.data_context()
        if self.data is None:
            html_ = broken_html(f"{kind} block", "the data engine is not available")
            self.blocks[key] = RenderedBlock(key, html_, [])
            return key
        from ..data import render_block
        res = render_block(kind, fence.body, self.data, note_path=note.rel, body_line=body_line,
                           href=lambda f: "kbhref:" + f, block_id=f"{kind}-{_slug(note.fname)}-{index + 1}")
        self.diagnostics.extend(res.diagnostics)
        self.blocks[key] = RenderedBlock(key, res.html, list(res.downloads))
        self.linked.update(res.linked_notes)
        return key


def _html_text(text: str) -> str:
    """A value as HTML text, in an element or an attribute (single or double quoted)."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;"))


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


def fm_lookup(fm: dict, dotted: str) -> tuple[bool, Any]:
    """A frontmatter value by dotted key ({{fm.config.x}}): (found, value)."""
    value: Any = fm
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return False, None
        value = value[part]
    return True, value


def _slug(fname: str) -> str:
    return re.sub(r"[^\w-]+", "-", fname).strip("-")
