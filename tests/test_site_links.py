"""SPEC "Links and embeds", checked on the real site: every row of the table, the code rule,
the broken cases (visible on the page, reported with file:line:col and a code, fatal with
--strict) and ordinary Markdown links, on vaults built by the real `mkdocs build`.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from test_site_notes import Build, Html, assert_no_dead_links, build_vault, note, target_of

AB = """Intro paragraph of a.b.

## Some Heading

Section text SH.

### Sub Heading

Sub text.

## Second

Second text.

## Third

Third text.

A block sentence here. ^block-id

- list item one ^item-1
- list item two

Own line block.
^own-line

```md
# Fenced Heading
```
"""

LINKS = """P01 [[a.b]]

P02 [[my text|a.b]]

P03 [[a.b|obsidian text]]

P04 [[a.b#some-heading]]

P05 [[a.b#Some Heading]]

P06 [[#local-heading]]

P07 [[dendron://myvault/a.b]]

P08 [[a.b#^block-id]] and [[a.b#^item-1]] and [[a.b#^own-line]]

P09 #perf and #newtag

P10 @alice and @bob

P11 `[[a.b]]` and `#notag` and `@nouser` and `![[a.b]]` and `^notblock` and `{{fm.title}}`

```text
[[a.b]] ![[a.b]] #fencetag @fenceuser {{fm.title}}
line ^fenceblock
```

P12 [md link](a.b.md) and [web](https://example.com/x#frag) and [anchor md](a.b.md#second)

P13 [[a.b.c|a.b.d]]

P14 mail me@example.com and see issue#12 and https://example.com/#frag

P15 [[sp]]

| marker | link |
|---|---|
| T01 | [[table text\\|a.b]] |
| T02 | [[a.b\\|obsidian in table]] |
| T03 | [[table heading\\|a.b#second]] |

## Local Heading

Local text.
"""

VAULT: dict[str, str] = {
    "root": note("Home.\n", id="root", title="Home"),
    "a.b": note(AB, id="ab", title="Alpha Beta"),
    "a.b.c": note("Body of C.\n\nSecond para of C with [[a.b]].\n", id="abc", title="C Child", nav_order=2),
    "a.b.d": note("Body of D.\n", id="abd", title="D Child", nav_order=1),
    "links": note(LINKS, id="links", title="Links", tags="[perf]"),
    "tags.perf": note("The perf tag.\n", id="tagperf", title="Perf Tag"),
    "user.bob": note("Bob's own page.\n", id="ubob", title="Bob B"),
    "sp": note("Special title.\n", id="sp", title="C++ <Fast> & _Slow_"),
    "emb.whole": note("Before.\n\n![[a.b]]\n\nAfter.\n", id="e1", title="Whole"),
    "emb.section": note("![[a.b#some-heading]]\n", id="e2", title="Section"),
    "emb.range": note("![[a.b#some-heading:#third]]\n", id="e3", title="Range"),
    "emb.rangeend": note("![[a.b#second:#*]]\n", id="e4", title="Range End"),
    "emb.rangestar": note("![[a.b#some-heading,1:#*]]\n", id="e4s", title="Range Star"),
    "emb.rangelast": note("![[a.b#third:#*]]\n", id="e4l", title="Range Last"),
    "emb.wild": note("![[a.b.*]]\n", id="e5", title="Wild"),
    "emb.list": note("- first item\n- ![[a.b.c]]\n- third item\n", id="e6", title="List"),
    "emb.olist": note("1. first item\n2. ![[a.b.d]]\n3. third item\n", id="e7", title="Ordered List"),
    "emb.nested": note("- first item\n\n    ![[a.b.c]]\n\n- third item\n", id="e8", title="Nested"),
    "emb.quote": note("> ![[a.b.d]]\n", id="e9", title="Quote"),
    "src.s": note("## Part\n\nSee [[#other-part]] and [[#^sblk]].\n\n## Other Part\n\nText. ^sblk\n",
                  id="srcs", title="Source"),
    "emb.selfref": note("![[src.s#part]]\n", id="e10", title="Self Refs"),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """Every working form in one vault, built with --strict."""
    return build_vault(tmp_path_factory.mktemp("site-links"), VAULT, strict=True)


@pytest.fixture(scope="module")
def ok(site: Build) -> Build:
    assert site.rc == 0, site.log
    return site


def para(page: Html, marker: str):
    """The paragraph of the article that starts with marker (P01, P02, ...)."""
    for p in page.article.find_all("p"):
        if p.text().strip().startswith(marker + " "):
            return p
    raise AssertionError(f"no paragraph {marker} on /{page.url}")


def one_link(page: Html, marker: str) -> tuple[str, str]:
    links = para(page, marker).links()
    assert len(links) == 1, links
    return links[0]


def test_every_form_builds_strict_without_warnings(site: Build) -> None:
    assert site.rc == 0, site.log
    assert not site.warnings, "\n".join(site.warnings)


def test_no_wikilink_syntax_left_outside_code(ok: Build) -> None:
    for fname in VAULT:
        url = "" if fname == "root" else fname.replace(".", "/") + "/"
        text = ok.page(url).article.text(skip_code=True)
        assert "[[" not in text and "]]" not in text, url


def test_every_link_reaches_a_page_and_id(ok: Build) -> None:
    assert_no_dead_links(ok)


# -- links ---------------------------------------------------------------------------------

@pytest.mark.parametrize("marker, text, target", [
    ("P01", "Alpha Beta", "a/b/"),          # [[a.b]]: the title
    ("P02", "my text", "a/b/"),             # [[text|a.b]]: Dendron's order
    ("P03", "obsidian text", "a/b/"),       # [[a.b|text]]: Obsidian's order, left side names a note
    ("P13", "a.b.c", "a/b/d/"),             # both sides name notes: Dendron's order wins
])
def test_link_text_and_target(ok: Build, marker: str, text: str, target: str) -> None:
    page = ok.page("links/")
    got_text, href = one_link(page, marker)
    assert got_text == text
    assert target_of(ok, page, href) == target


@pytest.mark.parametrize("marker, text, target", [
    ("T01", "table text", "a/b/"),          # a table writes the bar as \|: [[text\|a.b]]
    ("T02", "obsidian in table", "a/b/"),
    ("T03", "table heading", "a/b/#second"),   # target_of checks that the id exists
])
def test_aliased_link_in_a_table_with_an_escaped_bar(ok: Build, marker: str, text: str, target: str) -> None:
    page = ok.page("links/")
    row = next(tr for tr in page.article.find_all("tr") if tr.text().strip().startswith(marker))
    links = row.links()
    assert len(links) == 1, row.text()
    assert links[0][0] == text
    url, _, frag = target.partition("#")
    assert target_of(ok, page, links[0][1]) == url
    assert links[0][1].endswith("#" + frag) if frag else "#" not in links[0][1]


@pytest.mark.parametrize("marker", ["P04", "P05"])
def test_link_to_a_heading_by_slug_or_text(ok: Build, marker: str) -> None:
    page = ok.page("links/")
    _, href = one_link(page, marker)
    assert href.endswith("#some-heading"), href
    assert target_of(ok, page, href) == "a/b/"
    assert "some-heading" in ok.page("a/b/").ids()


def test_link_to_a_heading_of_the_same_note(ok: Build) -> None:
    page = ok.page("links/")
    _, href = one_link(page, "P06")
    assert href == "#local-heading"
    assert "local-heading" in page.ids()


def test_link_with_vault_prefix(ok: Build) -> None:
    page = ok.page("links/")
    text, href = one_link(page, "P07")
    assert not href.startswith("dendron:"), href
    assert text == "Alpha Beta"
    assert target_of(ok, page, href) == "a/b/"


@pytest.mark.parametrize("block", ["block-id", "item-1", "own-line"])
def test_link_to_a_block(ok: Build, block: str) -> None:
    page = ok.page("links/")
    hrefs = [h for _, h in para(page, "P08").links()]
    href = next(h for h in hrefs if page.resolve(h)[1] == "^" + block)
    assert target_of(ok, page, href) == "a/b/"
    target = ok.page("a/b/")
    assert "^" + block in target.ids()
    assert "^" + block not in target.article.text(skip_code=True)


def test_block_marker_is_hidden_and_its_text_kept(ok: Build) -> None:
    text = ok.page("a/b/").article.text()
    assert "A block sentence here." in text
    assert "list item one" in text and "Own line block." in text
    assert "^" not in text


def test_link_text_from_a_title_with_markdown_characters(ok: Build) -> None:
    page = ok.page("links/")
    text, href = one_link(page, "P15")
    assert text == "C++ <Fast> & _Slow_"
    assert target_of(ok, page, href) == "sp/"


# -- tags and users ------------------------------------------------------------------------------

def _listed(page: Html, anchor: str) -> list[str]:
    return [t for t, _ in page.section_links(anchor)]


def test_hashtag_links_to_an_existing_tag_note(ok: Build) -> None:
    page = ok.page("links/")
    links = dict(para(page, "P09").links())
    assert target_of(ok, page, links["#perf"]) == "tags/perf/"
    tag = ok.page("tags/perf/")
    assert tag.h1() == "Perf Tag"
    assert "The perf tag." in tag.article.text()
    assert _listed(tag, "kb-tagged") == ["Links"]       # frontmatter tags and #perf: listed once


def test_hashtag_makes_a_generated_tag_page(ok: Build) -> None:
    page = ok.page("links/")
    links = dict(para(page, "P09").links())
    assert target_of(ok, page, links["#newtag"]) == "tags/newtag/"
    tag = ok.page("tags/newtag/")
    listed = tag.section_links("kb-tagged")
    assert [t for t, _ in listed] == ["Links"]
    assert target_of(ok, tag, listed[0][1]) == "links/"


def test_user_tags(ok: Build) -> None:
    page = ok.page("links/")
    links = dict(para(page, "P10").links())
    assert target_of(ok, page, links["@alice"]) == "user/alice/"      # generated
    assert target_of(ok, page, links["@bob"]) == "user/bob/"          # the note user.bob
    assert "Bob's own page." in ok.page("user/bob/").article.text()
    assert "Links" in [t for t, _ in ok.page("user/alice/").article.links()]


def test_no_tags_or_users_from_addresses(ok: Build) -> None:
    p = para(ok.page("links/"), "P14")
    assert p.links() == []
    assert "me@example.com" in p.text() and "issue#12" in p.text()
    assert not ok.exists("user/example.com/") and not ok.exists("tags/frag/") and not ok.exists("tags/12/")


# -- code is left alone ------------------------------------------------------------------------

def test_inline_code_is_untouched(ok: Build) -> None:
    p = para(ok.page("links/"), "P11")
    assert p.links() == []
    codes = [c.text() for c in p.find_all("code")]
    assert codes == ["[[a.b]]", "#notag", "@nouser", "![[a.b]]", "^notblock", "{{fm.title}}"]


def test_fenced_code_is_untouched(ok: Build) -> None:
    pre = ok.page("links/").article.find("pre")
    assert pre is not None
    assert pre.text() == "[[a.b]] ![[a.b]] #fencetag @fenceuser {{fm.title}}\nline ^fenceblock\n"
    assert pre.find("a") is None


def test_code_makes_no_tag_or_user_pages(ok: Build) -> None:
    for url in ("tags/notag/", "tags/fencetag/", "user/nouser/", "user/fenceuser/"):
        assert not ok.exists(url), url
    # A heading inside a fence is not a heading of the note.
    assert "fenced-heading" not in ok.page("a/b/").ids()


# -- ordinary Markdown links --------------------------------------------------------------------

def test_markdown_links_keep_working(ok: Build) -> None:
    page = ok.page("links/")
    links = dict(para(page, "P12").links())
    assert target_of(ok, page, links["md link"]) == "a/b/"
    assert target_of(ok, page, links["anchor md"]) == "a/b/"
    assert links["anchor md"].endswith("#second")
    assert links["web"] == "https://example.com/x#frag"


# -- embeds -----------------------------------------------------------------------------------

def test_embed_whole_note_without_frontmatter(ok: Build) -> None:
    page = ok.page("emb/whole/")
    text = page.article.text()
    for s in ("Before.", "Intro paragraph of a.b.", "Section text SH.", "Third text.",
              "A block sentence here.", "After."):
        assert s in text, s
    assert text.index("Before.") < text.index("Intro paragraph") < text.index("After.")
    for leak in ("id: ab", "title: Alpha Beta", "---"):
        assert leak not in text, leak
    assert page.article.find("hr") is None
    # Page furniture of the embedded note (its children list) is not embedded.
    assert "D Child" not in text
    assert page.h1() == "Whole"


def test_embed_one_section(ok: Build) -> None:
    text = ok.page("emb/section/").article.text()
    assert "Section text SH." in text and "Sub text." in text       # subsections belong to it
    for s in ("Intro paragraph", "Second text.", "Third text."):
        assert s not in text, s


def test_embed_heading_range(ok: Build) -> None:
    text = ok.page("emb/range/").article.text()
    assert "Section text SH." in text and "Second text." in text
    for s in ("Intro paragraph", "Third text.", "A block sentence"):
        assert s not in text, s


def test_embed_heading_to_the_next_heading(ok: Build) -> None:
    """`#h:#*` ends before the next heading of any level, as Dendron's findHeader matches `*`;
    with no heading after it, at the end of the note."""
    text = ok.page("emb/rangeend/").article.text()
    assert "Second text." in text
    for s in ("Intro paragraph", "Section text SH.", "Third text.", "A block sentence here."):
        assert s not in text, s
    star = ok.page("emb/rangestar/").article.text()       # a deeper heading ends it too
    assert "Section text SH." in star and "Some Heading" not in star
    for s in ("Sub Heading", "Sub text.", "Second text."):
        assert s not in star, s
    last = ok.page("emb/rangelast/").article.text()
    for s in ("Third text.", "A block sentence here.", "Own line block."):
        assert s in last, s
    assert "Second text." not in last


def test_embed_children_in_navigation_order(ok: Build) -> None:
    page = ok.page("emb/wild/")
    text = page.article.text()
    assert "Body of D." in text and "Body of C." in text
    assert text.index("Body of D.") < text.index("Body of C.")      # nav_order 1 before 2
    # A link inside embedded text is relative to the embedding page.
    href = dict(page.article.links())["Alpha Beta"]
    assert target_of(ok, page, href) == "a/b/"


def _list_items(page: Html, tag: str) -> list:
    lists = page.article.find_all(tag)
    assert len(lists) == 1, f"{len(lists)} <{tag}> on /{page.url}: the list was split"
    return [li for li in lists[0].children if not isinstance(li, str) and li.tag == "li"]


def test_embed_in_a_list_item_keeps_the_list(ok: Build) -> None:
    page = ok.page("emb/list/")
    assert page.article.find("h2") is None
    items = _list_items(page, "ul")
    assert len(items) == 3
    assert "first item" in items[0].text()
    assert "Body of C." in items[1].text() and "Second para of C" in items[1].text()
    assert "third item" in items[2].text()


def test_embed_in_an_ordered_list_item_keeps_the_list(ok: Build) -> None:
    items = _list_items(ok.page("emb/olist/"), "ol")
    assert len(items) == 3
    assert "Body of D." in items[1].text()


def test_embed_indented_under_a_list_item_stays_in_it(ok: Build) -> None:
    items = _list_items(ok.page("emb/nested/"), "ul")
    assert len(items) == 2
    assert "Body of C." in items[0].text() and "Second para of C" in items[0].text()


def test_embed_in_a_blockquote_stays_quoted(ok: Build) -> None:
    quote = ok.page("emb/quote/").article.find("blockquote")
    assert quote is not None and "Body of D." in quote.text()


def test_same_note_links_inside_an_embed_point_to_the_embedded_note(ok: Build) -> None:
    page = ok.page("emb/selfref/")
    assert page.article.find(cls="kb-broken") is None
    crumbs = {h for _, h in page.article.find(cls="kb-breadcrumbs").links()}
    hrefs = [h for _, h in page.article.links() if not h.startswith("#") and h not in crumbs]
    assert len(hrefs) == 2, page.article.links()
    assert [target_of(ok, page, h) for h in hrefs] == ["src/s/", "src/s/"]
    assert [page.resolve(h)[1] for h in hrefs] == ["other-part", "^sblk"]


def test_embed_depth_five_is_allowed(tmp_path: Path) -> None:
    notes = {"root": note("Home.\n", id="root", title="Home")}
    notes.update({f"deep.d{i}": note(f"Level {i}.\n\n![[deep.d{i + 1}]]\n", id=f"d{i}", title=f"D{i}")
                  for i in range(1, 6)})
    notes["deep.d6"] = note("Bottom.\n", id="d6", title="D6")
    b = build_vault(tmp_path, notes, strict=True)
    assert b.rc == 0, b.log
    text = b.page("deep/d1/").article.text()
    assert "Bottom." in text and b.page("deep/d1/").article.find(cls="kb-broken") is None


# ==============================================================================================
# Broken links and embeds
# ==============================================================================================

BASE = {
    "root": note("Home.\n", id="root", title="Home"),
    "a.b": note("Intro.\n\n## Some Heading\n\nText. ^blk\n\n```md\n# fake\n```\n", id="ab", title="Alpha Beta"),
    "a.b.c": note("C.\n", id="abc", title="C"),
}

DEEP = {f"deep.d{i}": note(f"Level {i}.\n\n![[deep.d{i + 1}]]\n", id=f"d{i}", title=f"D{i}") for i in range(1, 7)}
DEEP["deep.d7"] = note("Bottom.\n", id="d7", title="D7")

# case -> (notes, note reported, the text at the reported position, code, words of the message)
CASES: dict[str, tuple[dict[str, str], str, str, str, str]] = {
    "no-note": ({"bad.link": note("Line one.\n\nSee [[a.c]] here.\n", id="b1", title="Bad Link")},
                "bad.link", "[[a.c]]", "broken-link", 'no note named "a.c" (did you mean "a.b.c"?)'),
    "no-note-alias": ({"bad.alias": note("See [[x.nothere|y.nothere]].\n", id="b2", title="Bad Alias")},
                      "bad.alias", "[[x.nothere|y.nothere]]", "broken-link", "y.nothere"),
    "no-heading": ({"bad.anchor": note("Text.\n\nSee [[a.b#no-such-heading]].\n", id="b3", title="Bad Anchor")},
                   "bad.anchor", "[[a.b#no-such-heading]]", "broken-anchor", "no-such-heading"),
    "fenced-heading": ({"bad.fenced": note("See [[a.b#fake]].\n", id="b4", title="Bad Fenced")},
                       "bad.fenced", "[[a.b#fake]]", "broken-anchor", "fake"),
    "same-note-heading": ({"bad.local": note("## Here\n\nSee [[#there]].\n", id="b5", title="Bad Local")},
                          "bad.local", "[[#there]]", "broken-anchor", "there"),
    "no-block": ({"bad.block": note("See [[a.b#^nope]].\n", id="b6", title="Bad Block")},
                 "bad.block", "[[a.b#^nope]]", "broken-block", "nope"),
    "embed-no-note": ({"bad.embed": note("Start.\n\n![[a.nothere]]\n", id="b7", title="Bad Embed")},
                      "bad.embed", "![[a.nothere]]", "broken-embed", "a.nothere"),
    "embed-no-heading": ({"bad.embedhead": note("Start.\n\n![[a.b#no-such-heading]]\n", id="b8",
                                                title="Bad Embed Heading")},
                         "bad.embedhead", "![[a.b#no-such-heading]]", "broken-embed", "no-such-heading"),
    "embed-no-block": ({"bad.embedblock": note("Start.\n\n![[a.b#^nope]]\n", id="b9", title="Bad Embed Block")},
                       "bad.embedblock", "![[a.b#^nope]]", "broken-embed", "nope"),
    "embed-bad-range": ({"bad.range": note("Start.\n\n![[a.b#some-heading:#nowhere]]\n", id="b10",
                                           title="Bad Range")},
                        "bad.range", "![[a.b#some-heading:#nowhere]]", "broken-embed", "nowhere"),
    "embed-no-children": ({"bad.wild": note("Start.\n\n![[zz.*]]\n", id="b11", title="Bad Wild")},
                          "bad.wild", "![[zz.*]]", "broken-embed", "zz"),
    "embed-self": ({"cyc.self": note("Self.\n\n![[cyc.self]]\n", id="c0", title="Cyc Self")},
                   "cyc.self", "![[cyc.self]]", "embed-cycle", "cyc.self > cyc.self"),
    "embed-cycle": ({"cyc.one": note("One.\n\n![[cyc.two]]\n", id="c1", title="Cyc One"),
                     "cyc.two": note("Two.\n\n![[cyc.one]]\n", id="c2", title="Cyc Two")},
                    "cyc.one", "![[cyc.two]]", "embed-cycle", "cyc.one > cyc.two > cyc.one"),
    "embed-depth": (DEEP, "deep.d1", "![[deep.d2]]", "embed-depth", "deeper than 5"),
}


def _position(text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of needle in a file's text."""
    for i, line in enumerate(text.split("\n"), start=1):
        if needle in line:
            return i, line.index(needle) + 1
    raise AssertionError(f"{needle!r} not in the note")


def _url(fname: str) -> str:
    return fname.replace(".", "/") + "/"


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """All the broken cases in one vault, built without --strict."""
    notes = dict(BASE)
    for case_notes, *_ in CASES.values():
        notes.update(case_notes)
    b = build_vault(tmp_path_factory.mktemp("site-broken"), notes)
    assert b.rc == 0, b.log
    return b


@pytest.mark.parametrize("case", list(CASES))
def test_broken_is_reported_at_file_line_col_with_its_code(broken: Build, case: str) -> None:
    notes, fname, needle, code, words = CASES[case]
    line, col = _position(notes[fname], needle)
    path = f"notes/{fname}.md"
    found = [w for w in broken.warnings if f"{path}:" in w and f"[{code}]" in w]
    assert found, f"no [{code}] warning for {path}:\n" + "\n".join(broken.warnings)
    assert any(f"{path}:{line}:{col}:" in w for w in found), f"expected {path}:{line}:{col}: in {found}"
    assert any(words in w for w in found), f"{words!r} not in {found}"


@pytest.mark.parametrize("case", list(CASES))
def test_broken_renders_visibly(broken: Build, case: str) -> None:
    _, fname, *_ = CASES[case]
    page = broken.page(_url(fname))
    spans = page.article.find_all(cls="kb-broken")
    assert spans, f"no .kb-broken on /{page.url}"
    text = page.article.text(skip_code=True)
    assert "[[" not in text and "]]" not in text, text
    for s in spans:
        assert s.tag != "a" and s.find("a") is None     # not a link to nowhere
        assert s.attrs.get("title"), "the reason is not given on hover"


def test_depth_is_reported_only_where_it_is_exceeded(broken: Build) -> None:
    assert not [w for w in broken.warnings if "notes/deep.d2.md" in w]
    assert "Bottom." in broken.page("deep/d2/").article.text()


def test_no_warnings_beyond_the_cases(broken: Build) -> None:
    reported = {CASES[c][1] for c in CASES} | {"cyc.two"}      # a cycle closes in both of its notes
    others = [w for w in broken.warnings if not any(f"notes/{f}.md:" in w for f in reported)]
    assert not others, "\n".join(others)


# One case per code: each alone must fail a --strict build (a build each, so not all 14).
STRICT_CASES = ["no-note", "no-heading", "no-block", "embed-no-note", "embed-cycle", "embed-depth"]


@pytest.mark.parametrize("case", STRICT_CASES)
def test_broken_fails_strict_build(tmp_path: Path, case: str) -> None:
    notes, fname, _, code, _ = CASES[case]
    b = build_vault(tmp_path, {**BASE, **notes}, strict=True)
    assert b.rc != 0, f"--strict passed with a {code}:\n{b.log}"
    assert f"notes/{fname}.md:" in b.log and f"[{code}]" in b.log, b.log
