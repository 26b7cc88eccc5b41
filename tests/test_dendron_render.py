"""A note renders as Dendron's preview shows it (issue #15), on a small vault built by the real
`mkdocs build`: CommonMark lists, footnotes, embeds on adjacent lines, CRLF files, list-item
and block-range embeds, Dendron's `#heading,N` offset.
"""
from __future__ import annotations

import pytest

from test_site_notes import Build, build_vault, note

NOTES = {
    "root": note("Home\n", id="root", title="Home"),
    "lists": note("Intro line:\n- a\n  - a1\n    - a2\n- b\n\nSteps:\n1. one\n   - one-sub\n2. two\n",
                  id="lists", title="Lists"),
    "foot": note("Claim[^1] and another[^two].\n\n[^1]: See [[lists]].\n[^two]: Plain.\n",
                 id="foot", title="Foot"),
    "src": note("## Intro\n\nfirst para\n\nsecond para\n\n## Next\n\nnext text\n\n"
                "Para one. ^p1\n\n- item one\n- item two ^i2\n  - sub of two\n- item three ^i3\n- item four\n",
                id="src", title="Src"),
    "emb": note("![[src#^i2]]\n![[src#^p1:#^i3]]\n![[src#intro,1:#next]]\n", id="emb", title="Emb"),
    "pair": note("![[src#^p1]]\n![[src#^i3]]\n", id="pair", title="Pair"),
    # A raw HTML block is no Markdown: a wikilink, tag or embed in it shows as written, as in
    # Dendron's preview (a missing note there no broken link); after its blank line, a link.
    "rawhtml": note("<div class=\"box\">\nSee [[lists]], [[no.such.note]], #tagged and ![[src]]\n</div>\n\n"
                    "After it, [[lists]].\n", id="rawhtml", title="Raw HTML"),
    # The same in a block quote, a quote in a quote and a quote in a list item.
    "quoted": note("> <div class=\"q1\">\n> See [[lists]], [[no.such.note]] and #tagged\n> </div>\n>\n"
                   "> After it, [[src]].\n\n"
                   "> > <div class=\"q2\">\n> > See [[lists]] and @someone\n> > </div>\n\n"
                   "- item\n  > <div class=\"q3\">\n  > See [[lists]] and ![[src]]\n  > </div>\n",
                   id="quoted", title="Quoted"),
    # A tag over several lines is one tag (CommonMark's inline raw HTML); a type-7 block start
    # needs the whole tag on its first line, so after `<a` ... `>` the text is a paragraph's.
    "tags": note("Text <span class=\"t1\"\n title=\"[[lists]] #tagged\">sp</span> more.\n\n"
                 "<a class=\"t2\"\nhref=\"x\">\n[[lists]]</a>\n", id="tags", title="Tags"),
    # What is inside a comment is left as written: an embed there is not expanded (the embedded
    # note's `-->` would end the comment early). `<!--` in inline code opens no comment.
    "dash": note("a --> b\n", id="dash", title="Dash"),
    "commented": note("Before <!-- ![[dash]] [[no.such.note]] --> after.\n\n<!-- ![[dash]] -->\n\n"
                      "Write `<!--` to start one: [[lists]].\n", id="commented", title="Commented"),
    # Fences whose info string holds more than superfences' options: fences all the same (CommonMark).
    "fences": note("Text.\n\n```md foo.md\n# not a heading\n```\n\n```js title=\"x.js\"\nlet a = 1;\n```\n\n"
                   "``` weird {info\n## nor this\n```\n\n- item\n\n  ~~~py extra words\n  # comment\n  ~~~\n",
                   id="fences", title="Fences"),
}
CRLF = "---\r\nid: crlf\r\ntitle: Crlf\r\n---\r\n\r\nA paragraph. ^paragraph-1\r\n\r\n- x\r\n  - y\r\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Build:
    dest = tmp_path_factory.mktemp("render")
    (dest / "notes").mkdir()
    (dest / "notes" / "crlf.md").write_bytes(CRLF.encode())
    notes = dict(NOTES, linker=note("[[crlf#^paragraph-1]]\n", id="linker", title="Linker"))
    b = build_vault(dest, notes)
    assert b.rc == 0, b.log
    assert not [w for w in b.warnings if "error" in w], b.warnings
    return b


def _lists(node) -> list[str]:
    """The nesting of lists as text: 'ul[li ul[li ul[li]] li]'."""
    out = []
    for child in node.children:
        if getattr(child, "tag", None) == "h2" and child.attrs.get("id", "").startswith("kb-"):
            break       # the page's furniture (children, backlinks) follows
        if getattr(child, "tag", None) in ("ul", "ol", "li"):
            inner = " ".join(_lists(child))
            out.append(f"{child.tag}[{inner}]" if inner else child.tag)
        elif getattr(child, "tag", None):
            out.extend(_lists(child))
    return out


def test_two_space_nested_list_and_a_list_after_a_paragraph_line(site: Build) -> None:
    art = site.page("lists/").article
    assert _lists(art) == ["ul[li[ul[li[ul[li]]]] li]", "ol[li[ul[li]] li]"]
    assert "Intro line:" in [p.text().strip() for p in art.find_all("p")]


def test_footnotes_with_a_wikilink_inside(site: Build) -> None:
    page = site.page("foot/")
    refs = page.article.find_all("a", cls="footnote-ref")
    assert len(refs) == 2
    notes = page.article.find("div", cls="footnote")
    assert notes is not None and "Lists" in notes.text()
    assert "[^1]" not in page.article.text() and not page.article.find_all(cls="kb-broken")


def test_a_list_item_embed_brings_its_sub_items_not_its_siblings(site: Build) -> None:
    text = site.page("emb/").article.text()
    assert "item two" in text and "sub of two" in text
    assert text.count("item one") == 1 and "item four" not in text   # item one: from the range only


def test_block_to_block_range(site: Build) -> None:
    text = site.page("emb/").article.text()
    assert "Para one." in text and "item three" in text and "item four" not in text


def test_heading_offset_leaves_out_the_heading(site: Build) -> None:
    page = site.page("emb/")
    assert "first para" in page.article.text() and "second para" in page.article.text()
    assert "intro" not in page.ids() and "next text" not in page.article.text()


def test_embeds_on_adjacent_lines_are_separate_blocks(site: Build) -> None:
    art = site.page("pair/").article
    paras = [p.text().strip() for p in art.find_all("p")]
    assert "Para one." in paras
    assert _lists(art) == ["ul[li]"] and "item three" in art.find("ul").text()


def test_crlf_block_anchor_makes_an_id(site: Build) -> None:
    page = site.page("crlf/")
    assert "^paragraph-1" not in page.article.text()
    assert "^paragraph-1" in page.ids()
    assert _lists(page.article) == ["ul[li[ul[li]]]"]


def test_a_fence_with_more_than_a_language_in_its_info_string_is_a_fence(site: Build) -> None:
    art = site.page("fences/").article
    blocks = art.find_all("pre")
    assert len(blocks) == 4, art.text()
    assert [b.text().strip() for b in blocks] == ["# not a heading", "let a = 1;", "## nor this", "# comment"]
    headings = [h.text().strip() for t in ("h1", "h2") for h in art.find_all(t)]
    assert not [h for h in headings if "heading" in h or "nor this" in h], headings
    assert "```" not in art.text() and "~~~" not in art.text()
    assert "x.js" in art.text()            # superfences' own title option still read


def test_a_wikilink_in_a_raw_html_block_shows_as_written(site: Build) -> None:
    art = site.page("rawhtml/").article
    box = art.find("div", cls="box")
    assert box is not None
    assert " ".join(box.text().split()) == "See [[lists]], [[no.such.note]], #tagged and ![[src]]"
    assert not box.find_all("a") and "](" not in box.text()
    assert ("Lists", "../lists/") in art.links()           # after the block's blank line: a link
    assert not art.find_all(cls="kb-broken")


def test_a_wikilink_in_a_raw_html_block_in_a_quote_shows_as_written(site: Build) -> None:
    art = site.page("quoted/").article
    texts = {}
    for cls in ("q1", "q2", "q3"):
        box = art.find("div", cls=cls)
        assert box is not None, (cls, art.text())
        assert not box.find_all("a") and "](" not in box.text(), box.text()
        texts[cls] = " ".join(box.text().split())
    assert texts == {"q1": "See [[lists]], [[no.such.note]] and #tagged", "q2": "See [[lists]] and @someone",
                     "q3": "See [[lists]] and ![[src]]"}
    links = art.links()
    assert ("Src", "../src/") in links and ("Lists", "../lists/") not in links   # after the block: a link
    assert not art.find_all(cls="kb-broken")


def test_a_wikilink_in_a_tag_over_several_lines_shows_as_written(site: Build) -> None:
    art = site.page("tags/").article
    span = art.find("span", cls="t1")
    assert span is not None and span.attrs["title"] == "[[lists]] #tagged", art.text()
    a = art.find("a", cls="t2")          # the tag's text after it is a paragraph's: a link
    assert a is not None and a.attrs["href"] == "x"
    assert ("Lists", "../lists/") in art.links()


def test_a_comment_is_left_as_written(site: Build) -> None:
    html = (site.site / "commented" / "index.html").read_text(encoding="utf-8")
    assert "<!-- ![[dash]] [[no.such.note]] -->" in html and "<!-- ![[dash]] -->" in html
    art = site.page("commented/").article
    text = " ".join(art.text().split())
    assert "a --> b" not in text and "-->" not in text and "<!--" in text, text
    assert "Before after." in text
    assert ("Lists", "../lists/") in art.links()       # after `<!--` in inline code: a link
    assert not art.find_all(cls="kb-broken")
