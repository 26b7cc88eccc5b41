"""Nothing from a note or a data file is ever live in the built site.

A temp project plants hostile values in every place a value can come from (frontmatter
title, desc, tags, id, aliases and custom keys used by {{fm.KEY}}, note names, headings,
link texts, CSV cells and column names, links.yml, table and chart captions and titles,
error messages that quote them), builds it with the real `mkdocs build`, then scans every
built file: no <script> but the theme's and kb's own, no on* attribute, no javascript:
URL, and search index titles and texts that are inert text. A second vault checks that
ordinary characters (&, <, quotes, non-ASCII) in titles show exactly as written.

A note's body is Markdown, raw HTML allowed as in MkDocs: that is the author's own markup.
The hostile headings and link texts here are written the ways Markdown shows literally
(code spans, backslash escapes, entities) and must stay literal wherever kb copies them.
"""
from __future__ import annotations

import hashlib
import json
import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from test_site_notes import Build, Html, Node, build, note, write_project

ROOT = Path(__file__).resolve().parents[1]

# Every payload calls alert(): any "alert(" in live script text, a handler or a URL is an injection.
TAG = "</title><script>alert('T')</script>"
IMG = "<img src=x onerror=alert(1)>"
ATTR = "\"' onmouseover=alert(2) x='"
JS = "javascript:alert(3)"
HOSTILE = f"{TAG}{IMG}{ATTR}"

# A note name cannot hold '/', so no closing tag; dots are hierarchy separators.
EVIL_FNAME = "x<img src=x onerror=alert(7)>"
SCHEME_FNAME = "javascript:alert(8);.x"      # its URL would be "javascript:alert(8);/x/"


def _yaml(value: str) -> str:
    return json.dumps(value)       # a JSON string is a YAML double-quoted scalar


def hostile_project(dest: Path) -> Path:
    notes = {
        "root": note("Home. See [[evil]], [[evil.child]], [[" + EVIL_FNAME + "]] and [[evil#why-scriptalert10script]].\n\n"
                     "Also [[`<script>alert(4)</script>`|evil]], [[\\<img src=x onerror=alert(5)\\>|evil]], "
                     "[[nosuch <img src=x onerror=alert(6)>]] and [[evil#no <img src=x onerror=alert(9)>]].\n\n"
                     "![[evil#a-img-srcx-onerroralert11-heading]]\n\n"
                     "```questions\n```\n",
                     id="root", title="Home"),
        "evil": note("Body of the hostile note: {{fm.custom}} and {{fm.title}} and {{fm.nested.key}}.\n\n"
                     "## Why `<script>alert(10)</script>`?\n\n"
                     "## A &lt;img src=x onerror=alert(11)&gt; heading?\n\n"
                     "## \\<img src=x onerror=alert(12)\\> escaped?\n\n"
                     "## {{fm.custom}}\n\n"
                     "## Quoted {{fm.quoted}}\n\n"
                     "<div title=\"{{fm.title}}\" data-x='{{fm.title}}'>In a raw block</div>\n\n"
                     "A <span title=\"{{fm.quoted}}\" data-y='{{fm.title}}'>span</span> in a paragraph.\n\n"
                     "<p title=\"{{fm.linky}}\">{{fm.linky}}</p>\n\n"
                     "And <span title=\"{{fm.linky}}\">a linked value</span>.\n\n"
                     "#tagged and @someone, and a link to [[other]].\n",
                     id=_yaml("evilid"), title=_yaml(HOSTILE), desc=_yaml(f"{IMG} [x]({JS}) {{{{fm.custom}}}} [[root]]"),
                     tags=json.dumps([IMG, "<b>bold", "x\" onclick=\"alert(13)"]),
                     aliases=json.dumps([HOSTILE]), custom=_yaml(f"{TAG} [click]({JS}) <{JS}>"),
                     nested=json.dumps({"key": IMG}), description=_yaml(HOSTILE), author=_yaml(HOSTILE),
                     subtitle=_yaml(HOSTILE), quoted=_yaml("Tom's \"best\" x='1' & co"),
                     linky=_yaml("[[root|x\" onmouseover=\"alert(16)]] y' onclick='alert(17)")),
        # Keys Material reads from page.meta: a template of its choosing and where it sends the reader.
        "redirector": note("Material would make this a redirect page.\n", id="redirector", title="Redirector",
                           template="redirect.html", location=_yaml("javascript:alert(15)")),
        "evil.child": note("A child.\n", id="evilchild", title=_yaml("Child " + TAG),
                           desc=_yaml(IMG)),
        EVIL_FNAME: note("Named by a hostile file name.\n", id=_yaml("idwith\"<b>quote")),
        SCHEME_FNAME: note("Under a scheme-like name, with a broken link: [[nosuch.note]].\n",
                           id="schemeid", title="Scheme child"),
        "other": note("Another note, between the hostile ones in prev/next.\n\n"
                      "[[evil]] again, and a heading link [[evil#a-img-srcx-onerroralert11-heading]].\n",
                      id=_yaml(f"{TAG}"), title="Other"),
        "traversal": note("An id that would climb out of notes/.\n", id=_yaml("../../escaped"), title="Traversal"),
        "data.page": note(
            "```table\nsource: evil.csv\ncaption: " + _yaml(HOSTILE) + "\ndownload: true\n```\n\n"
            "```chart\nsource: evil.csv\nx: n\ny: v\nseries: " + _yaml(f"{TAG}col") + "\nkind: bar\n"
            "title: " + _yaml(HOSTILE) + "\ncaption: " + _yaml(HOSTILE) + "\n```\n\n"
            "```table\nsource: " + _yaml("<script>alert(14)</script>.csv") + "\n```\n\n"
            "```table\nsource: evil.csv\ncolumns: [" + _yaml(f"{IMG}nope") + "]\n```\n\n"
            "```table\nsource: evil.csv\nwhere: " + _yaml(f"`{IMG}` == 1") + "\n```\n\n"
            "```table\nsource: evil.csv\nformat: {v: " + _yaml(f"{IMG}{{:.1f}}") + "}\n"
            "derive: {" + _yaml(f"{TAG}d") + ": v * 2}\n```\n",
            id="datapage", title="Data"),
    }
    proj = write_project(dest, notes)
    (proj / "data").mkdir()
    col = f"{TAG}col"
    rows = [f"name,n,v,{col}", f'"{IMG}",1,2,a', f'"{JS}",2,3,"{IMG}"', '"=cmd|\' /C calc\'!A0",3,4,b']
    csv = "\n".join(rows).replace(f"{TAG}col", '"' + col.replace('"', '""') + '"', 1) + "\n"
    (proj / "data" / "evil.csv").write_text(csv, encoding="utf-8")
    (proj / "data" / "links.yml").write_text(
        f"name:\n  {_yaml(IMG)}: {_yaml(EVIL_FNAME)}\n  {_yaml(JS)}: evil\n", encoding="utf-8")
    return proj


# -- what the theme and kb ship: the only scripts a page may hold ---------------------------

MATERIAL = Path(__import__("material").__file__).resolve().parent / "templates"
INLINE_SCRIPT_RE = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S)


def shipped_script_hashes() -> set[str]:
    """sha256 of every JavaScript file Material and kb ship."""
    files = [*MATERIAL.rglob("*.js"), *(Path(str(resources.files("kb"))) / "assets").glob("*.js")]
    return {hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def shipped_inline_scripts() -> list[re.Pattern]:
    """Material's inline scripts as patterns: a Jinja expression in one stands for a path or a
    name (letters, digits, '.', '/', '_', '-'), never for markup or code."""
    out = []
    for path in MATERIAL.rglob("*.html"):
        for attrs, body in INLINE_SCRIPT_RE.findall(path.read_text(encoding="utf-8")):
            if "src=" in attrs or "application/json" in attrs or not body.strip():
                continue
            parts = re.split(r"\{\{.*?\}\}|\{%.*?%\}", body.strip(), flags=re.S)
            out.append(re.compile(r"[\w./-]*".join(re.escape(p) for p in parts)))
    return out


# -- a scan of every built file -------------------------------------------------------------

URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "srcdoc"}


def _bad_url(value: str) -> bool:
    """A URL a browser would run: javascript:/vbscript: (entities already decoded by the parser;
    browsers ignore whitespace and control characters in the scheme, and never percent-decode it)."""
    squeezed = re.sub(r"[\x00-\x20]+", "", value).lower()
    return squeezed.startswith(("javascript:", "vbscript:", "data:text/html"))


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[tuple[dict[str, str], str]] = []
        self.problems: list[str] = []
        self._script: dict[str, str] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for k, v in a.items():
            if k.startswith("on"):
                self.problems.append(f"<{tag}> has an event handler {k}={v!r}")
            if (k in URL_ATTRS or k == "content") and _bad_url(v.split("url=", 1)[-1] if k == "content" else v):
                self.problems.append(f"<{tag} {k}={v!r}> runs script")
        if tag in ("iframe", "object", "embed", "base", "frame"):
            self.problems.append(f"<{tag}> element: {a}")
        if tag == "script":
            self._script, self._text = a, []

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._text)))
            self._script = None


def live_injections(site: Path) -> list[str]:
    """Everything in the built site that a browser would run and that is not the theme's own."""
    hashes, inline = shipped_script_hashes(), shipped_inline_scripts()
    found: list[str] = []
    files = sorted(p for p in site.rglob("*") if p.is_file())
    assert any(p.suffix == ".html" for p in files)
    for path in files:
        rel = path.relative_to(site).as_posix()
        if path.suffix in (".html", ".svg", ".xml"):
            s = _Scanner()
            s.feed(path.read_text(encoding="utf-8"))
            s.close()
            found += [f"{rel}: {p}" for p in s.problems]
            for attrs, body in s.scripts:
                if "src" in attrs:
                    src = unquote(urlsplit(attrs["src"]).path)     # 404.html's are absolute
                    target = (site / src.lstrip("/") if src.startswith("/") else path.parent / src).resolve()
                    ok = target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() in hashes
                elif attrs.get("type") == "application/json":   # data, not code: it must be only JSON
                    try:
                        json.loads(body)
                        ok = True
                    except ValueError:
                        ok = False
                else:
                    ok = any(p.fullmatch(body.strip()) for p in inline)
                if not ok:
                    found.append(f"{rel}: a script that is not the theme's: {attrs} {body[:120]!r}")
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))    # well-formed: it is data
    return found


# Material's search keeps these tags of a page's text (no attributes) and renders a result's
# title and text as HTML: anything else in the index would be live there.
SEARCH_TAGS = {"p", "code", "pre", "li", "ol", "ul", "sub", "sup"}


def search_markup(site: Path) -> list[str]:
    docs = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    bad = []
    for d in docs:
        for key, value in [("title", d["title"]), ("text", d["text"]), *(("tags", t) for t in d.get("tags", []))]:
            for tag in re.findall(r"<\s*(/?[^\s>/]*)([^>]*)>", value):
                name, rest = tag[0].lstrip("/").lower(), tag[1].strip()
                if name not in SEARCH_TAGS or rest:
                    bad.append(f"{d['location']} {key}: <{tag[0]}{tag[1]}> in {value[:160]!r}")
        if _bad_url(d["location"]):
            bad.append(f"location {d['location']!r}")
    return bad


# -- the hostile site -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Build:
    b = build(hostile_project(tmp_path_factory.mktemp("hostile")))
    assert b.rc == 0, b.log
    return b


def visible(node: Node | None) -> str:
    """The text a reader sees in an element (the headings' permalink sign left out)."""
    assert node is not None
    return " ".join(node.text().replace("\u00b6", "").split())


def test_no_built_file_holds_live_script(hostile: Build) -> None:
    assert live_injections(hostile.site) == []


def test_search_index_holds_inert_text(hostile: Build) -> None:
    assert search_markup(hostile.site) == []
    docs = json.loads((hostile.site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    titles = {d["location"]: d["title"] for d in docs}
    # Titles are HTML text, as Material renders them: escaped once, shown as written.
    assert Html.parse(titles["evil/"]).tree.text() == HOSTILE
    assert Html.parse(titles["evil/child/"]).tree.text() == "Child " + TAG
    tags = next(d["tags"] for d in docs if d["location"] == "evil/")    # Material shows them as HTML too
    assert [Html.parse(t).tree.text() for t in tags] == [IMG, "<b>bold", "x\" onclick=\"alert(13)"]


def test_hostile_title_shows_as_written_everywhere(hostile: Build) -> None:
    evil, child, home, other = (hostile.page(u) for u in ("evil/", "evil/child/", "", "other/"))
    assert evil.title == f"{HOSTILE} - Test KB"
    assert evil.h1() == HOSTILE
    topic = evil.tree.find("div", cls="md-header__topic", **{"data-md-component": "header-topic"})
    assert visible(topic) == HOSTILE
    assert (HOSTILE, "./") in evil.sidebar()
    assert visible(child.tree.find("nav", cls="kb-breadcrumbs")) == f"Home / {HOSTILE}"
    assert visible(child.tree.find("a", cls="md-footer__link--prev").find("div", cls="md-ellipsis")) == HOSTILE
    assert child.tree.find("a", cls="md-footer__link--prev").attrs["aria-label"] == f"Previous: {HOSTILE}"
    assert visible(home.tree.find("a", cls="md-footer__link--next").find("div", cls="md-ellipsis")) == HOSTILE
    assert (HOSTILE, "evil/") in home.article.links()                # [[evil]]: the title as link text
    assert (HOSTILE, "../evil/") in other.section_links("kb-backlinks")
    kids = evil.section("kb-children")
    assert visible(kids) == f"Child {TAG} — {IMG}"                  # the child's title and desc
    desc = evil.article.find("p", cls="kb-desc")
    assert visible(desc) == f"{IMG} [x]({JS}) {TAG} [click]({JS}) <{JS}> Home"
    assert [a.attrs["href"] for a in desc.find_all("a")] == ["../"]   # only the wikilink is a link


def test_frontmatter_values_in_the_body_are_text(hostile: Build) -> None:
    evil = hostile.page("evil/")
    body = visible(evil.article)
    assert f"{TAG} [click]({JS}) <{JS}> and {HOSTILE} and {IMG}." in body      # {{fm.KEY}}, nested keys too
    assert evil.article.find("h2", id="titlescriptalerttscript-clickjavascriptalert3-javascriptalert3") is not None
    # Quotes in a value are entities where it lands: shown as written, the same heading id,
    # and inside an HTML attribute's quotes (the title's `"' onmouseover=...` stays its text).
    assert visible(evil.article.find("h2", id="quoted-toms-best-x1-co")) == "Quoted Tom's \"best\" x='1' & co"
    div = next(d for d in evil.article.find_all("div") if d.text().strip() == "In a raw block")
    assert div.attrs["title"] == HOSTILE and div.attrs["data-x"] == HOSTILE
    linky = "[[root|x\" onmouseover=\"alert(16)]] y' onclick='alert(17)"
    para = next(p for p in evil.article.find_all("p") if p.attrs.get("title") == linky)
    assert para.text() == linky          # in a raw HTML block: as written, the wikilink no link
    assert [x.text() for x in evil.article.find_all("span", title=linky)] == ["a linked value"]   # in a tag too
    span = evil.article.find("span", title="Tom's \"best\" x='1' & co")
    assert span is not None and span.attrs["data-y"] == HOSTILE and span.text() == "span"
    assert [a for a in evil.article.find_all("a") if JS in a.attrs.get("href", "")] == []
    # Keys Material would read from page.meta (description, author, template, location) are not its.
    assert evil.tree.find("meta", name="description") is None and evil.tree.find("meta", name="author") is None
    redirector = hostile.page("redirector/")
    assert redirector.h1() == "Redirector" and redirector.tree.find("meta", **{"http-equiv": "refresh"}) is None


def test_hostile_names_and_tags_are_text_and_paths(hostile: Build) -> None:
    home = hostile.page("")
    links = dict(home.article.links())
    assert links[EVIL_FNAME.title().replace("X<Img Src=X Onerror=Alert(7)>", "X<img Src=x Onerror=alert(7)>")] \
        == "x%3Cimg%20src%3Dx%20onerror%3Dalert%287%29%3E/"
    # A note named like a URL scheme is reached by a path, never run as `javascript:`.
    hrefs = [h for _, h in home.sidebar() if "alert%288%29" in h]
    assert hrefs and all(not urlsplit(h).scheme for h in hrefs)
    assert hostile.exists("javascript:alert(8);/x/")
    tag = hostile.page("tags/" + IMG + "/")
    assert tag.h1() == IMG
    assert (HOSTILE, "../../evil/") in tag.section_links("kb-tagged")
    assert visible(tag.article.find("h2", id="kb-tagged")) == f"Notes tagged #{IMG}"


def test_hostile_ids_make_no_path_outside_notes(hostile: Build) -> None:
    notes = sorted(p.name for p in (hostile.site / "notes").iterdir())
    assert notes == sorted(["datapage", "evilchild", "evilid", 'idwith"<b>quote', "redirector", "root", "schemeid"])
    assert not (hostile.proj / "escaped").exists() and not (hostile.site / "escaped").exists()
    for name, line in (("other", 2), ("traversal", 2)):
        assert any(f"notes/{name}.md:{line}:1: warning: id " in w and "[bad-id]" in w for w in hostile.warnings)
    redirect = Html.parse((hostile.site / "notes" / 'idwith"<b>quote' / "index.html").read_text(encoding="utf-8"))
    a = redirect.tree.find("a")
    assert visible(a) == EVIL_FNAME and a.attrs["href"] == "../../x%3Cimg%20src%3Dx%20onerror%3Dalert%287%29%3E/"


def test_headings_and_link_texts_stay_literal_where_they_are_copied(hostile: Build) -> None:
    home = hostile.page("")
    texts = [t for t, _ in home.article.links()]
    assert "<script>alert(4)</script>" in texts                      # an alias in a code span
    broken = [visible(n) for n in home.article.find_all("span", cls="kb-broken")]
    assert "nosuch <img src=x onerror=alert(6)>" in broken
    assert any("no note named" in n.attrs["title"] and "alert(6)" in n.attrs["title"]
               for n in home.article.find_all("span", cls="kb-broken"))
    assert "A <img src=x onerror=alert(11)> heading?" in visible(home.article)   # the embedded section
    questions = [t for t, _ in home.article.links() if t.endswith("?")]    # the questions list
    assert questions == ["Why <script>alert(10)</script>?", "A <img src=x onerror=alert(11)> heading?",
                         "\\<img src=x onerror=alert(12)> escaped?"]


def test_data_values_are_text(hostile: Build) -> None:
    page = hostile.page("data/page/")
    table = page.article.find("div", cls="kb-table")
    assert visible(table.find("caption")) == HOSTILE
    assert [visible(th) for th in table.find_all("th")] == ["name", "n", "v", f"{TAG}col"]
    cells = [visible(td) for td in table.find_all("td")]
    assert IMG in cells and JS in cells
    link = next(a for a in table.find_all("a") if visible(a) == IMG)    # links.yml: the cell to its note
    assert link.attrs["href"] == "../../x%3Cimg%20src%3Dx%20onerror%3Dalert%287%29%3E/"
    chart = page.article.find("div", cls="kb-chart")
    assert visible(chart.find("figcaption")) == HOSTILE
    svg = chart.find("svg")
    assert svg.attrs["aria-label"].startswith(HOSTILE)
    drawn = [visible(t) for t in svg.find_all("text")]
    assert HOSTILE in " ".join(drawn) and IMG in drawn               # the title (wrapped) and a legend entry
    errors = [visible(e) for e in page.article.find_all("div", cls="kb-data-error")]
    assert any("<script>alert(14)</script>.csv" in e for e in errors)
    assert any(f"unknown column '{IMG}nope'" in e for e in errors)


def test_github_annotations_keep_hostile_names_in_their_fields(hostile: Build) -> None:
    """`kb check --format github` on the hostile vault: a note name holding ':' or a value holding
    a line break never ends an annotation's fields early or starts a command of its own."""
    from test_cli_support import run_kb
    r = run_kb("check", "--format", "github", cwd=hostile.proj)
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert lines and all(re.fullmatch(r"::(error|warning) file=[^:,]+,line=\d+,col=\d+,title=[\w-]+::.*", x)
                         for x in lines), lines
    assert any(x.startswith("::warning file=notes/traversal.md,line=2,col=1,title=bad-id::") for x in lines)
    assert any(x.startswith("::error file=notes/javascript%3Aalert(8);.x.md,line=") for x in lines)


# -- ordinary characters: escaped once, shown as written --------------------------------------

PLAIN_TITLES = {
    "amp": "A & B",
    "amp.kid": "Tom's \"quoted\" <tag> & café — 東京",
    "lit": "A &amp; B *x* _y_ `z` [w] {: .c } \\n",
}


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Build:
    notes = {"root": note("Links: [[amp]], [[amp.kid]] and [[lit]].\n", id="root", title="Home")}
    for i, (fname, title) in enumerate(PLAIN_TITLES.items()):
        notes[fname] = note(f"Body of {fname}; back to [[root]] and on to [[lit]].\n", id=f"n{i}",
                            title=_yaml(title), desc=_yaml(f"About {title}"))
    b = build(write_project(tmp_path_factory.mktemp("plain"), notes))
    assert b.rc == 0, b.log
    return b


def test_ordinary_characters_in_titles_show_exactly_as_written(plain: Build) -> None:
    home = plain.page("")
    links = home.article.links()
    for fname, title in PLAIN_TITLES.items():
        url = fname.replace(".", "/") + "/"
        page = plain.page(url)
        assert page.title == f"{title} - Test KB"
        assert page.h1() == title
        topic = page.tree.find("div", cls="md-header__topic", **{"data-md-component": "header-topic"})
        assert visible(topic) == " ".join(title.split())
        assert (" ".join(title.split()), "./") in page.sidebar()
        assert (" ".join(title.split()), url) in links
        assert visible(page.article.find("p", cls="kb-desc")) == " ".join(f"About {title}".split())
    kid = plain.page("amp/kid/")
    assert visible(kid.tree.find("nav", cls="kb-breadcrumbs")) == "Home / A & B"
    assert visible(plain.page("amp/").section("kb-children")) == f"{PLAIN_TITLES['amp.kid']} — About {PLAIN_TITLES['amp.kid']}"
    # The footer: the next page's title in the text and in the label, each escaped once.
    nxt = plain.page("amp/").tree.find("a", cls="md-footer__link--next")
    assert visible(nxt.find("div", cls="md-ellipsis")) == PLAIN_TITLES["amp.kid"]
    assert nxt.attrs["aria-label"] == f"Next: {PLAIN_TITLES['amp.kid']}"
    assert ("A & B", "../amp/") in plain.page("lit/").section_links("kb-backlinks")
    docs = json.loads((plain.site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    titles = {d["location"]: Html.parse(d["title"]).tree.text() for d in docs}
    assert titles["amp/"] == "A & B" and titles["amp/kid/"] == PLAIN_TITLES["amp.kid"]
    assert titles["lit/"] == PLAIN_TITLES["lit"]
    for path in plain.site.rglob("*.html"):
        assert "&amp;amp;" not in path.read_text(encoding="utf-8").replace("A &amp;amp; B", ""), path


# -- in a real browser: no dialog, even through search ------------------------------------------

CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-sync"]
HANDLERS = "[onerror],[onload],[onmouseover],[onclick],[onfocus]"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed (make browser installs "
                    "Debian's chromium)")
def test_hostile_pages_and_search_fire_no_dialog_in_a_browser(hostile: Build) -> None:
    import functools
    import http.server
    import threading

    from playwright.sync_api import sync_playwright

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):   # keep pytest output clean
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(hostile.site)))
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    dialogs: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            pg = browser.new_page()
            pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            pg.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base) else route.abort())
            for url in ("", "evil/", "evil/child/", "other/", "data/page/", "x%3Cimg%20src%3Dx%20onerror%3Dalert%287%29%3E/",
                        "tags/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E/"):
                pg.goto(base + url)
                pg.wait_for_load_state("load")
                assert pg.eval_on_selector_all(HANDLERS, "els => els.length") == 0, url
            pg.goto(base + "notes/idwith%22%3Cb%3Equote/")      # a redirect: to the hostile note's page
            pg.wait_for_url(base + "x%3Cimg%20src%3Dx%20onerror%3Dalert%287%29%3E/")
            pg.wait_for_load_state("load")
            pg.goto(base)
            pg.locator("article a", has_text="onmouseover").first.click()      # instant navigation to the note
            pg.locator("article h1", has_text="onmouseover").wait_for()
            for query in ("onerror", HOSTILE):      # typed: every prefix renders its results
                box = pg.locator("input.md-search__input")
                box.click()
                box.press("Control+a")
                box.press("Backspace")
                pg.keyboard.type(query, delay=15)
                pg.wait_for_timeout(1500)
                assert pg.eval_on_selector_all(HANDLERS, "els => els.length") == 0, query
            pg.locator("input.md-search__input").press("Control+a")
            pg.keyboard.type("onerror", delay=15)
            pg.wait_for_selector(".md-search-result__item", timeout=15000)
            titles = pg.eval_on_selector_all(".md-search-result__item h1", "els => els.map(e => e.textContent)")
            assert HOSTILE in titles                # found, and shown as text
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    assert dialogs == []
