"""The theme as the hook renders it: blocks reused across pages of one depth (kb/render/theme_memo.py)
must come out as if rendered for each page, and the page furniture (breadcrumbs, children,
backlinks) is navigation: in the table of contents, not in the search index."""
from __future__ import annotations

import json
import posixpath
import re

import pytest

from kb.render.theme_memo import TITLE_MARK, BlockMemo
from test_site_notes import Build, build_vault, note

TITLES = {
    "root": "Home base",
    "hw": "Hardware",
    "hw.gpu": "GPUs & friends",
    "hw.gpu.t4": 'T4 "Turing"',
    "hw.cpu": "CPUs",
    "guide.intro": "Getting started",
    # First URL segments that are also folders of theme files: never served from the memo.
    "assets.logos": "Logos we use",
    "assets.javascripts.notes": "Script notes",
    "search.tips": "Search tips",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Build:
    notes = {f: note(f"Body of {t}. See [[hw.gpu]].\n\n## Details\n\nMore text.\n", id=f.replace(".", "-"), title=t)
             for f, t in TITLES.items()}
    b = build_vault(tmp_path_factory.mktemp("theme"), notes)
    assert b.rc == 0, b.log
    return b


def _url(fname: str) -> str:
    return "" if fname == "root" else fname.replace(".", "/") + "/"


def _head_refs(source: str) -> list[str]:
    """The theme's files a page's <head> loads: stylesheets, the icon, scripts."""
    head = source.split("</head>", 1)[0]
    refs = re.findall(r'<link rel="(?:stylesheet|icon)" href="([^"]+)"', head)
    refs += re.findall(r'<script src="([^"]+)"', head)
    return [r for r in refs if not r.startswith(("http:", "https:", "//"))]


@pytest.mark.parametrize("fname", sorted(TITLES) + ["guide"])
def test_every_page_gets_its_own_header_and_working_asset_urls(site: Build, fname: str) -> None:
    url = _url(fname) if fname in TITLES else "guide/"      # "guide" is a stub page
    page = site.page(url)
    topic = page.tree.find("div", **{"data-md-component": "header-topic"})
    assert topic is not None
    expected = TITLES.get(fname, "Guide")
    assert " ".join(topic.text().split()) == expected
    refs = _head_refs(page.source) + re.findall(r'<script src="([^"]+)"', page.source.split("</head>", 1)[1])
    assert any("main." in r and r.endswith(".css") for r in refs)
    for ref in refs:
        target = posixpath.normpath(posixpath.join("/" + url, ref.split("?")[0])).lstrip("/")
        assert (site.site / target).is_file(), f"/{url}: {ref} points to /{target}, which is not there"
    config = json.loads(page.tree.find("script", id="__config").text())
    assert posixpath.normpath(posixpath.join("/" + url, config["base"])) == "/"
    worker = posixpath.normpath(posixpath.join("/" + url, config["search"])).lstrip("/")
    assert (site.site / worker).is_file()
    logo = page.tree.find("a", cls="md-header__button")
    assert page.resolve(logo.attrs["href"])[0] == ""       # the logo leads home


def test_same_depth_pages_share_the_head_but_not_the_title(site: Build) -> None:
    gpu, cpu = site.page("hw/gpu/"), site.page("hw/cpu/")
    assert _head_refs(gpu.source) == _head_refs(cpu.source)
    assert gpu.title != cpu.title
    assert TITLE_MARK not in gpu.source and TITLE_MARK not in cpu.source


def test_block_memo_renders_once_per_depth_and_never_for_reserved_folders() -> None:
    calls: list[str] = []

    def render(text: str):
        def caller() -> str:
            calls.append(text)
            return text
        return caller

    memo = BlockMemo(reserved={"assets"})
    assert memo.block("styles", "a/b/", caller=render("first")) == "first"
    assert memo.block("styles", "c/d/", caller=render("second")) == "first"      # same depth: reused
    assert memo.block("styles", "c/", caller=render("third")) == "third"         # other depth
    assert memo.block("styles", "assets/x/", caller=render("own")) == "own"      # reserved: its own
    assert memo.block("styles", None, caller=render("no page")) == "no page"     # the 404 page
    assert calls == ["first", "third", "own", "no page"]

    renders: list[str] = []

    def header_for(meta: dict):
        def caller() -> str:
            renders.append(meta["title"])
            return f"<h>{meta['title']}</h>"
        return caller

    meta_a, meta_b = {"title": "Alpha"}, {"title": "Beta & co"}
    assert memo.titled("header", "x/", meta_a, caller=header_for(meta_a)) == "<h>Alpha</h>"
    assert memo.titled("header", "y/", meta_b, caller=header_for(meta_b)) == "<h>Beta & co</h>"
    assert renders == [TITLE_MARK] and meta_a["title"] == "Alpha"    # one render; the title put back

    twice = BlockMemo()
    shown = {"title": "T"}
    out = twice.titled("header", "x/", shown, caller=lambda: f"{shown['title']}|{shown['title']}")
    assert out == "T|T"                         # the title twice: rendered per page, not cut
    assert twice.titled("header", "y/", shown, caller=lambda: f"{shown['title']}!") == "T!"


def test_furniture_is_in_the_toc_but_not_in_search(site: Build) -> None:
    gpu = site.page("hw/gpu/")
    toc = gpu.tree.find("nav", cls="md-nav--secondary")
    assert toc is not None
    hrefs = [h for _, h in toc.links()]
    assert "#details" in hrefs and "#kb-children" in hrefs and "#kb-backlinks" in hrefs
    index = json.loads((site.site / "search" / "search_index.json").read_text(encoding="utf-8"))
    docs = [d for d in index["docs"] if d["location"].startswith("hw/gpu/") and not d["location"].startswith("hw/gpu/t4")]
    assert any("Body of GPUs" in d["text"] for d in docs)               # the note's own words
    assert not any(d["title"] in ("Backlinks", "Children") for d in index["docs"])
    text = " ".join(d["text"] for d in docs)
    assert "Getting started" not in text and "T4" not in text            # backlink and child titles


def test_search_index_tuned_entry_by_entry_as_when_read_whole(tmp_path) -> None:
    """kb.render.search rewrites the index one entry at a time; the bytes are those of reading it whole,
    and an index not laid out as Material writes it is read whole (or left, if not an index)."""
    from kb.render.search import tune_index

    names = {"a/": "a &amp; b", "": "home"}
    material = ('{"config":{"lang":["en"],"fields":{"title":{"boost":1000.0}}},"docs":[{"location":"",'
                '"title":"Home","text":"é"},{"location":"a/","title":"A","text":""},{"location":"a/#x"},3]}')
    spaced = ' { "docs" : [ {"location":"a/"} , {"location":"b/"} ] , "x" : NaN } \n'
    for text, ok in ((material, True), (spaced, True), ('{"docs":[1],"docs":[{"location":"a/"}]}', True),
                     ('{"docs":[{"location":"a/"},]}', False), ('{"docs":{}}', False), ("[]", False)):
        path = tmp_path / "search_index.json"
        path.write_text(text, encoding="utf-8")
        assert tune_index(path, names) is ok, text
        if not ok:
            assert path.read_text(encoding="utf-8") == text
            continue
        data = json.loads(text)
        data.setdefault("config", {}).setdefault("fields", {}).setdefault("names", {"boost": 1e4})
        for doc in data["docs"]:
            if isinstance(doc, dict) and doc.get("location") in names:
                doc["names"] = names[doc["location"]]
        assert path.read_text(encoding="utf-8") == json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        assert [p.name for p in tmp_path.iterdir()] == ["search_index.json"]
