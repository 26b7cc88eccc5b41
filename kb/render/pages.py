"""Pass 4: each page's Markdown and HTML pieces, from the link graph and the prepared notes.

Knows nothing of MkDocs. What authors wrote stays Markdown, its links rewritten to Markdown
links MkDocs validates; what the hierarchy makes (breadcrumbs, lists of children, tagged notes,
backlinks, the notes in the data, stub, tag and user pages) is HTML, as its links all point at
pages that exist. After MkDocs has converted a note's Markdown, `finish_html` puts the drawn
data blocks in place and `furnish` puts the furniture around it.
"""
from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass, field

from ..link.embeds import broken_html
from ..link.hierarchy import ROOT, href_of, relative_url, src_of
from ..link.linkgraph import LinkGraph
from ..link.resolve import Target
from ..parse.headings import heading_plain_text
from ..parse.noteread import problems_html
from ..parse.syntax import BLOCK_ANCHOR_RE, TextIndex, Token, scan
from ..parse.vault import Note, page_problems
from .media import finish_html as media_html, rewrite as media_rewrite
from .prepare import QUESTIONS_KEY, Preparer, RenderedBlock, md_text

QUESTIONS_BEGIN, QUESTIONS_END = "kbquestionsbegin", "kbquestionsend"    # around the list once made
_QUESTIONS_RE = re.compile(rf"(?:<p>)?{QUESTIONS_BEGIN}(?:</p>)?(.*?)(?:<p>)?{QUESTIONS_END}(?:</p>)?", re.S)
_BLOCK_KEY_RE = re.compile(r"kbblock\d+x")


def alias_text(text: str) -> str:
    """An author's link text is Markdown (it may hold `code`); only brackets would end it."""
    return re.sub(r"([\[\]])", r"\\\1", text)


@dataclass
class Page:
    fname: str
    markdown: str
    blocks: list[RenderedBlock] = field(default_factory=list)
    html: str | None = None     # finished HTML for generated pages (no Markdown to convert)
    before: str = ""            # furniture around a note's converted Markdown: breadcrumbs,
    after: str = ""             # then the lists of children, backlinks... and the date
    sections: list[tuple[str, str]] = field(default_factory=list)   # (title, id) of the h2s in `after`


class PageRenderer:
    """Renders pages of `graph` into `pages`; `prep` holds the drawn data blocks."""

    def __init__(self, graph: LinkGraph, prep: Preparer):
        self.graph = graph
        self.prep = prep
        self.pages: dict[str, Page] = {}

    def render_all(self) -> None:
        for fname in self.graph.hierarchy.pages:
            self.pages[fname] = self.render(fname)

    def render(self, fname: str) -> Page:
        """The page as it is now (not stored: kb serve compares it with the one in `pages`)."""
        page = self.graph.hierarchy.pages[fname]
        return self.render_note(fname) if page.kind == "note" else self.render_generated(fname)

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
        toks = scan(body, ("link", "tag", "user", "embed"))
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
            return self._link(self.graph.resolver.resolve(self.graph.resolver.parse(tok.value), fname), fname)
        if tok.kind == "embed":   # left over only where expansion refused it
            return broken_html(tok.value, "embed could not be expanded")
        prefix = "tags." if tok.kind == "tag" else "user."
        return f"[{md_text(tok.text)}]({src_of(self.graph.hierarchy.canon(prefix + tok.value))})"

    def render_note(self, fname: str) -> Page:
        page = self.graph.hierarchy.pages[fname]
        note = page.note
        assert note is not None
        parts: list[str] = []
        body = self._rewrite(fname, self.graph.expanded(fname).text)
        if not any(h.level == 1 for h in self.graph.expanded(fname).headings):
            parts.append(f"# {md_text(page.title)} {{: #kb-title }}\n")
        if note.desc and fname != ROOT:
            desc = self._desc_md(fname, note)
            desc = re.sub(r"^\s*([#>*+\-=]|\d+[.)])", r"\\\1", desc)   # one paragraph, whatever it starts with
            parts.append(f"{desc}\n{{: .kb-desc }}\n")
        if shown := page_problems(note):    # frontmatter that could not be used, bytes not UTF-8
            parts.append(problems_html(shown))
        parts.append(body)
        if QUESTIONS_KEY in body:
            parts[-1] = parts[-1].replace(QUESTIONS_KEY, self._questions_md())
        sections: list[tuple[str, list[str], str]] = []
        tag = self.graph.tag_names.find(fname[5:]) if fname.startswith("tags.") else None
        if tag is not None:
            sections.append(("Notes tagged #" + tag, self.graph.tagged[tag], "kb-tagged"))
        kids = self.graph.hierarchy.nav_children(fname)
        if kids and note.child_links:
            sections.append(("Children", kids, "kb-children"))
        back = sorted(self.graph.backlinks.get(fname, ()), key=lambda f: (self.graph.hierarchy.pages[f].title.casefold(), f))
        if back:
            sections.append(("Backlinks", back, "kb-backlinks"))
        data_refs = sorted(self.graph.data_pages.get(fname, set()) - {fname})
        if data_refs:
            sections.append(("In the data", data_refs, "kb-in-the-data"))
        after = [self._list_html(fname, title, fnames, anchor, with_desc=anchor == "kb-children")
                 for title, fnames, anchor in sections]
        if note.tags:
            after.insert(0, self._tags_html(fname, note.tags))
        if note.updated:
            day = dt.datetime.fromtimestamp(note.updated / 1000, dt.timezone.utc).strftime("%Y-%m-%d")
            after.append(f'<p class="kb-updated">Updated <time datetime="{day}">{day}</time></p>')
        blocks = [self.prep.blocks[k] for k in dict.fromkeys(_BLOCK_KEY_RE.findall(body)) if k in self.prep.blocks]
        return Page(fname, "\n".join(parts), blocks, before=self._breadcrumbs(fname), after="\n".join(after),
                    sections=[(title, anchor) for title, _, anchor in sections])

    def _desc_md(self, fname: str, note: Note) -> str:
        """The desc as one line of Markdown that shows it as written (frontmatter is text, not
        markup), its wikilinks, #tags and @users linked and its {{fm.*}} replaced."""
        text = note.desc.replace("\n", " ")
        out, pos = [], 0
        for tok in scan(text, ("link", "embed", "tag", "user", "fmvar")):
            out.append(md_text(text[pos:tok.start]))
            out.append(self.prep.fm_vars(note, tok.text) if tok.kind == "fmvar" else self._render_token(tok, fname))
            pos = tok.end
        out.append(md_text(text[pos:]))
        return "".join(out)

    def render_generated(self, fname: str) -> Page:
        """Stub, tag and user pages as finished HTML: only links the hierarchy vouches for, and
        no Markdown pass (a deep vault has more stubs than notes)."""
        page = self.graph.hierarchy.pages[fname]
        out = [self._breadcrumbs(fname), f'<h1 id="kb-title">{html.escape(page.title)}{_permalink("kb-title")}</h1>']
        if page.kind == "tag":
            name = fname[5:]
            out.append(self._list_html(fname, f"Notes tagged #{name}", self.graph.tagged.get(self.graph.tag_names.find(name) or name, []), "kb-tagged"))
        elif page.kind == "user":
            name = fname[5:]
            out.append(self._list_html(fname, f"Notes mentioning @{name}", self.graph.mentions.get(self.graph.user_names.find(name) or name, []), "kb-mentions"))
        else:
            out.append("<p>This page has no note of its own; it groups the notes below it.</p>")
            out.append(self._list_html(fname, "Children", page.children, "kb-children", with_desc=True))
        return Page(fname, "", [], html="\n".join(o for o in out if o))

    # Page furniture (breadcrumbs, children, backlinks) is HTML made from the hierarchy, whose
    # pages all exist: only what authors wrote goes through Markdown and MkDocs' link checks.
    def _breadcrumbs(self, fname: str) -> str:
        crumbs = self.graph.hierarchy.ancestors(fname)
        if not crumbs:
            return ""
        return ('<nav class="kb-breadcrumbs" aria-label="Breadcrumbs">'
                + " / ".join(self._a(fname, c) for c in crumbs) + "</nav>")

    def _a(self, here: str, to: str) -> str:
        return (f'<a href="{html.escape(relative_url(here, to), quote=True)}">'
                f'{self.graph.hierarchy.title_html(to)}</a>')

    def _tags_html(self, here: str, tags: list[str]) -> str:
        """The note's frontmatter tags as chips, each a link to its tag page."""
        chips = []
        for t in dict.fromkeys(tags):
            page = self.graph.hierarchy.find("tags." + (self.graph.tag_names.find(t) or t))
            text = html.escape("#" + (page[5:] if page else t))
            chips.append(f'<a class="kb-tag" href="{html.escape(relative_url(here, page), quote=True)}">{text}</a>'
                         if page else f'<span class="kb-tag">{text}</span>')
        return f'<nav class="kb-tags" aria-label="Tags">{"".join(chips)}</nav>'

    def _list_html(self, here: str, title: str, fnames: list[str], anchor: str, *, with_desc: bool = False) -> str:
        items = []
        for f in fnames:
            p = self.graph.hierarchy.pages.get(f)
            if p is None:
                continue
            desc = ""
            if with_desc and p.note is not None and p.note.desc:
                desc = " — " + html.escape(self._plain(f, self.prep.fm_vars(p.note, p.note.desc, str)))
            items.append(f"<li>{self._a(here, f)}{desc}</li>")
        return f'<h2 id="{anchor}">{html.escape(title)}{_permalink(anchor)}</h2>\n<ul>{"".join(items)}</ul>'

    def _plain(self, fname: str, text: str) -> str:
        """Text with wikilinks, tags and user tags reduced to what they show."""
        if "[[" not in text:
            return text
        out, pos = [], 0
        for tok in scan(text, ("link", "embed")):
            out.append(text[pos:tok.start])
            out.append(self.graph.resolver.resolve(self.graph.resolver.parse(tok.value), fname).text)
            pos = tok.end
        out.append(text[pos:])
        return "".join(out)

    def _questions_md(self) -> str:
        """Every heading ending in '?' in the vault, grouped by top-level section and then by
        note, both in navigation order. The list repeats headings that search finds on their own
        pages: it is marked to stay out of the search index (see finish_html)."""
        out = []
        section = None
        for page in self.graph.hierarchy.walk(ROOT) if ROOT in self.graph.hierarchy.pages else []:
            if page.note is None:
                continue
            own_texts = {h.text for h in page.note.headings if h.text.endswith("?")}
            own = [h for h in self.graph.expanded(page.fname).headings if h.text in own_texts]
            if not own:
                continue
            trail = self.graph.hierarchy.ancestors(page.fname)[1:] + [page.fname]
            if trail[0] != section:
                section = trail[0]
                out.append(f"\n### [{md_text(self.graph.hierarchy.pages[section].title)}]({src_of(section)})\n")
            if trail[1:]:     # a top-level note's own questions go right under its heading
                head = " / ".join(self.graph.hierarchy.pages[a].title for a in trail[1:])
                out.append(f"\n#### [{md_text(head)}]({src_of(page.fname)})\n")
            # The heading as its page shows it (code unwrapped, entities read), then as text.
            out.extend(f"- [{md_text(heading_plain_text(h.text))}]({src_of(page.fname)}#{h.slug})" for h in own)
        return f"\n{QUESTIONS_BEGIN}\n" + "\n".join(out) + f"\n\n{QUESTIONS_END}\n"

    # -- for the adapter: the converted Markdown finished ---------------------------
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


def _permalink(anchor: str) -> str:
    return f'<a class="headerlink" href="#{anchor}" title="Permanent link">&para;</a>'


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
