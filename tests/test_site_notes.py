"""SPEC "Layout" and "Notes", checked on the real site: temp vaults built by the real
`mkdocs build` (the project's hook and theme overrides), assertions on the built HTML.

The helpers at the top (temp project, build, a small HTML tree) are shared with
test_site_links.py. One rich vault is built once for this module; the checks that
need a vault of their own (strict builds) build small ones.
"""
from __future__ import annotations

import os
import posixpath
import re
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOOK = ROOT / "hooks" / "kb_hook.py"
OVERRIDES = ROOT / "overrides"
SITE_NAME = "Test KB"


# -- a temp project ------------------------------------------------------------------

def mkdocs_yml() -> str:
    """The relevant parts of the project's mkdocs.yml, with the hook and overrides by absolute path.

    `navigation.footer` is added so Material renders the previous/next links the hook sets.
    """
    return f"""site_name: {SITE_NAME}
docs_dir: notes
use_directory_urls: true
theme:
  name: material
  custom_dir: {OVERRIDES.as_posix()}
  features:
    - navigation.instant
    - navigation.footer
    - content.code.copy
hooks:
  - {HOOK.as_posix()}
plugins:
  - search
validation:
  nav:
    omitted_files: ignore
    not_found: warn
    absolute_links: ignore
  links:
    not_found: warn
    anchors: warn
    absolute_links: ignore
    unrecognized_links: ignore
markdown_extensions:
  - attr_list
  - md_in_html
  - tables
  - admonition
  - toc:
      permalink: true
  - pymdownx.details
  - pymdownx.superfences
  - pymdownx.highlight
  - pymdownx.inlinehilite
"""


def note(body: str = "", **fm: object) -> str:
    """A note's text: frontmatter from the keyword arguments (YAML written by hand), then the body.

    Values are written as given (str() of them), so pass YAML: `tags="[gpu, perf]"`.
    """
    lines = ["---"] + [f"{k}: {v}" for k, v in fm.items()] + ["---", ""]
    return "\n".join(lines) + body


def write_project(dest: Path, notes: dict[str, str]) -> Path:
    """A project folder: mkdocs.yml and notes/<fname>.md for each entry."""
    (dest / "notes").mkdir(parents=True, exist_ok=True)
    (dest / "mkdocs.yml").write_text(mkdocs_yml(), encoding="utf-8")
    for fname, text in notes.items():
        (dest / "notes" / f"{fname}.md").write_text(text, encoding="utf-8")
    return dest


@dataclass
class Build:
    proj: Path
    rc: int
    log: str
    _pages: dict = field(default_factory=dict, repr=False)

    @property
    def site(self) -> Path:
        return self.proj / "site"

    @property
    def warnings(self) -> list[str]:
        return [line for line in self.log.splitlines() if line.startswith("WARNING")]

    def page(self, url: str) -> "Html":
        """The built page at a site URL like 'a/b/c/' ('' for the home page)."""
        if url not in self._pages:
            path = self.site / url / "index.html"
            assert path.is_file(), f"no page at /{url}: {path} is missing"
            self._pages[url] = Html.parse(path.read_text(encoding="utf-8"), url)
        return self._pages[url]

    def exists(self, url: str) -> bool:
        return (self.site / url / "index.html").is_file()


def build(proj: Path, *, strict: bool = False, quiet: bool = False) -> Build:
    cmd = [sys.executable, "-m", "mkdocs", "build", "-f", str(proj / "mkdocs.yml"), "-d", str(proj / "site")]
    if strict:
        cmd.append("--strict")
    if quiet:
        cmd.append("-q")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    r = subprocess.run(cmd, cwd=proj, env=env, capture_output=True, text=True, timeout=300)
    return Build(proj, r.returncode, r.stdout + r.stderr)


def build_vault(dest: Path, notes: dict[str, str], *, strict: bool = False) -> Build:
    return build(write_project(dest, notes), strict=strict)


# -- a small HTML tree (html.parser) -------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: "Node | None" = field(default=None, repr=False)
    children: list = field(default_factory=list, repr=False)     # Node or str

    @property
    def classes(self) -> list[str]:
        return self.attrs.get("class", "").split()

    def iter(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list["Node"]:
        out = []
        for n in self.iter():
            if tag is not None and n.tag != tag:
                continue
            if cls is not None and cls not in n.classes:
                continue
            if any(n.attrs.get(k.rstrip("_")) != v for k, v in attrs.items()):
                continue
            out.append(n)
        return out

    def find(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> "Node | None":
        found = self.find_all(tag, cls, **attrs)
        return found[0] if found else None

    def text(self, *, skip_code: bool = False) -> str:
        parts = []
        for c in self.children:
            if isinstance(c, str):
                parts.append(c)
            elif not (skip_code and c.tag in ("code", "pre")):
                parts.append(c.text(skip_code=skip_code))
        return "".join(parts)

    def links(self) -> list[tuple[str, str]]:
        """(text, href) of every <a href> inside, in document order."""
        return [(" ".join(a.text().split()), a.attrs["href"]) for a in self.find_all("a") if "href" in a.attrs]

    def next_element(self) -> "Node | None":
        """The next sibling element."""
        if self.parent is None:
            return None
        sibs = [c for c in self.parent.children if isinstance(c, Node)]
        i = next(k for k, c in enumerate(sibs) if c is self)
        return sibs[i + 1] if i + 1 < len(sibs) else None


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v or "") for k, v in attrs}, self.stack[-1])
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        node = Node(tag, {k: (v or "") for k, v in attrs}, self.stack[-1])
        self.stack[-1].children.append(node)

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


class Html:
    """A built page: its tree, its source and its site URL (for resolving relative links)."""

    def __init__(self, source: str, tree: Node, url: str):
        self.source = source
        self.tree = tree
        self.url = url

    @classmethod
    def parse(cls, source: str, url: str = "") -> "Html":
        b = _TreeBuilder()
        b.feed(source)
        b.close()
        return cls(source, b.root, url)

    @property
    def article(self) -> Node:
        node = self.tree.find("article", cls="md-content__inner")
        assert node is not None, "no <article class=md-content__inner>"
        return node

    @property
    def title(self) -> str:
        t = self.tree.find("title")
        return t.text().strip() if t else ""

    def h1(self) -> str:
        h = self.article.find("h1")
        assert h is not None, f"no <h1> on /{self.url}"
        return h.text().replace("\u00b6", "").strip()

    def ids(self) -> set[str]:
        return {n.attrs["id"] for n in self.tree.iter() if "id" in n.attrs}

    def sidebar(self) -> list[tuple[str, str]]:
        """(text, href) of the primary navigation's links, in order (the logo left out)."""
        nav = self.tree.find("nav", cls="md-nav--primary")
        assert nav is not None, "no primary navigation"
        return [(" ".join(a.text().split()), a.attrs["href"]) for a in nav.find_all("a")
                if "href" in a.attrs and "md-logo" not in a.classes]

    def sidebar_titles(self) -> list[str]:
        return [t for t, _ in self.sidebar()]

    def footer(self) -> dict[str, str]:
        """{'prev': href, 'next': href} of the footer's previous/next links that are there."""
        out = {}
        for kind in ("prev", "next"):
            a = self.tree.find("a", cls=f"md-footer__link--{kind}")
            if a is not None:
                out[kind] = a.attrs["href"]
        return out

    def section(self, anchor: str) -> Node | None:
        """The list after the heading with this id (e.g. kb-children), or None when no such heading."""
        h = self.article.find(id=anchor)
        if h is None:
            return None
        nxt = h.next_element()
        assert nxt is not None and nxt.tag in ("ul", "ol"), f"no list after #{anchor} on /{self.url}"
        return nxt

    def section_links(self, anchor: str) -> list[tuple[str, str]]:
        sec = self.section(anchor)
        return sec.links() if sec is not None else []

    def resolve(self, href: str) -> tuple[str, str]:
        """(site URL, fragment) that a relative href on this page points to."""
        parts = urlsplit(href)
        assert not parts.scheme and not parts.netloc, f"not a site-relative link: {href}"
        if not parts.path:
            return self.url, unquote(parts.fragment)
        path = posixpath.normpath(posixpath.join("/" + self.url, parts.path))
        url = path.strip("/")
        return (url + "/" if url else ""), unquote(parts.fragment)


def target_of(b: Build, page: Html, href: str) -> str:
    """The site URL an href points to, asserting the page (and the fragment's id) exists."""
    url, frag = page.resolve(href)
    assert b.exists(url), f"/{page.url}: {href!r} points to /{url}, which was not built"
    if frag:
        assert frag in b.page(url).ids(), f"/{page.url}: {href!r}: no id {frag!r} on /{url}"
    return url


def internal_hrefs(page: Html) -> list[str]:
    """Relative hrefs in the page's content and navigation (assets and external links left out)."""
    out = []
    for a in page.tree.find_all("a"):
        href = a.attrs.get("href")
        if not href or urlsplit(href).scheme or href.startswith(("//", "mailto:")):
            continue
        if "assets/" in href or href.endswith((".css", ".js", ".png", ".svg", ".csv", ".xml")):
            continue
        out.append(href)
    return out


def all_pages(b: Build) -> list[Html]:
    pages = []
    for path in sorted(b.site.rglob("index.html")):
        url = path.parent.relative_to(b.site).as_posix()
        url = "" if url == "." else url + "/"
        if url.startswith(("assets/", "search/")):
            continue
        pages.append(b.page(url))
    return pages


def assert_no_dead_links(b: Build) -> None:
    """Every relative link on every page (redirect pages aside) reaches a built page and id."""
    dead = []
    for page in all_pages(b):
        if page.url.startswith("notes/"):
            continue
        for href in internal_hrefs(page):
            url, frag = page.resolve(href)
            if not b.exists(url):
                dead.append(f"/{page.url}: {href} -> /{url} (no page)")
            elif frag and frag not in b.page(url).ids():
                dead.append(f"/{page.url}: {href} -> /{url}#{frag} (no such id)")
    assert not dead, "dead links:\n" + "\n".join(dead)


def warning_for(b: Build, path: str, code: str) -> list[str]:
    return [w for w in b.warnings if path in w and f"[{code}]" in w]


# ======================================================================================
# The rich vault of this module
# ======================================================================================

WIDE = 60

RICH: dict[str, str] = {
    "root": note("Welcome to the KB. Start at [[guide]].\n", id="root-id", title="KB Home",
                 updated=1700000000000, created=1690000000000),
    "guide": note(
        "Start with [[hw.gpu]].\n\n"
        "The plan: [[hw.secret]] and the gem: [[hw.hidden]].\n\n"
        "Owner: {{fm.owner}}; as code: `{{fm.owner}}`.\n",
        id="guide-id", title="Guide", nav_order=1, owner="Alice Example", tags="infra",
        created="2024-01-02", updated="2024-03-05"),
    "hw": note("All hardware.\n", id="hw-id", title="Hardware", nav_order=2,
               created=1600000000000, updated=1650000000000),
    "hw.zzz": note("Last by name, first by nav_order.\n", id="zzz-id", title="Zeta", nav_order=0.5),
    "hw.gpu": note("Graphics processors.\n\n## Memory\n\nHBM.\n", id="gpu-id", title="GPU", nav_order=1,
                   tags="[gpu, perf]", updated=1700000000000),
    "hw.gpu.h100": note("Hopper.\n", id="h100-id", title="H100"),
    "hw.aaa": note("First by fname, last by title.\n", id="aaa-id", title="Yotta"),
    "hw.cpu": note("Central processors.\n", id="cpu-id", title="CPU",
                   config="{global: {enableChildLinks: false}}"),
    "hw.cpu.x86": note("x86 cores.\n", id="x86-id", title="X86"),
    "hw.hidden": note("Not in the navigation.\n", id="hidden-id", title="Hidden Gem", nav_exclude="true"),
    "hw.secret": note("Never published.\n", id="secret-id", title="Secret Plan", published="false"),
    "proj.alpha.beta": note("Deep note with missing ancestors.\n", id="beta-id", title="Beta"),
    "inference-accelerator": note("No title in the frontmatter.\n", id="ia-id"),
    "nofm": "No frontmatter at all.\n",
    "noid": note("Frontmatter without id.\n", title="No Id"),
    "wide": note("Many children.\n", id="wide-id", title="Wide"),
}
RICH.update({f"wide.n{i:02d}": note(f"Item {i:02d} body.\n", id=f"wide-{i:02d}", title=f"Item {i:02d}")
             for i in range(1, WIDE + 1)})


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> Build:
    b = build_vault(tmp_path_factory.mktemp("site-notes"), RICH)
    assert b.rc == 0, b.log
    return b


# -- Layout and URLs ------------------------------------------------------------------------

def test_url_of_a_dotted_fname_is_its_path(rich: Build) -> None:
    assert (rich.site / "hw" / "gpu" / "h100" / "index.html").is_file()
    assert rich.page("hw/gpu/h100/").h1() == "H100"
    assert "Hopper." in rich.page("hw/gpu/h100/").article.text()
    # Flat file names are not URLs.
    assert not (rich.site / "hw.gpu.h100").exists()
    assert not (rich.site / "hw.gpu.h100" / "index.html").exists()


def test_root_is_the_home_page(rich: Build) -> None:
    home = rich.page("")
    assert home.h1() == "KB Home"
    assert "Welcome to the KB." in home.article.text()
    assert not (rich.site / "root").exists()
    assert home.article.find(cls="kb-breadcrumbs") is None      # no ancestors


def test_missing_ancestors_become_stub_pages_listing_children(rich: Build) -> None:
    stub = rich.page("proj/alpha/")
    assert stub.h1() == "Alpha"
    kids = stub.section_links("kb-children")
    assert [t for t, _ in kids] == ["Beta"]
    assert target_of(rich, stub, kids[0][1]) == "proj/alpha/beta/"
    top = rich.page("proj/")
    assert [t for t, _ in top.section_links("kb-children")] == ["Alpha"]
    assert target_of(rich, top, top.section_links("kb-children")[0][1]) == "proj/alpha/"
    # The note itself is at its URL with breadcrumbs through the stubs.
    beta = rich.page("proj/alpha/beta/")
    crumbs = beta.article.find(cls="kb-breadcrumbs")
    assert [t for t, _ in crumbs.links()] == ["KB Home", "Proj", "Alpha"]


@pytest.mark.parametrize("nid, url", [("gpu-id", "hw/gpu/"), ("h100-id", "hw/gpu/h100/"),
                                      ("root-id", ""), ("beta-id", "proj/alpha/beta/")])
def test_notes_id_redirects_to_the_note(rich: Build, nid: str, url: str) -> None:
    path = rich.site / "notes" / nid / "index.html"
    assert path.is_file(), f"no redirect page notes/{nid}/"
    page = Html.parse(path.read_text(encoding="utf-8"), f"notes/{nid}/")
    canonical = page.tree.find("link", rel="canonical")
    refresh = page.tree.find("meta", **{"http-equiv": "refresh"})
    assert canonical is not None and refresh is not None
    m = re.fullmatch(r"\s*0\s*;\s*url=(.+)", refresh.attrs["content"], re.I)
    assert m, refresh.attrs["content"]
    for href in (canonical.attrs["href"], m[1].strip()):
        assert target_of(rich, page, href) == url


def test_unpublished_note_has_no_redirect(rich: Build) -> None:
    assert not (rich.site / "notes" / "secret-id").exists()


# -- Navigation -----------------------------------------------------------------------------

def _order(titles: list[str], wanted: list[str]) -> list[str]:
    return [t for t in titles if t in wanted]


def test_sidebar_is_the_hierarchy_in_nav_order_then_title(rich: Build) -> None:
    page = rich.page("hw/gpu/")
    titles = page.sidebar_titles()
    assert titles[0] == "KB Home"
    # Top level: nav_order first (Guide 1, Hardware 2), then by title.
    assert _order(titles, ["Guide", "Hardware", "Inference Accelerator", "Proj", "Wide"]) == \
        ["Guide", "Hardware", "Inference Accelerator", "Proj", "Wide"]
    # Siblings under hw: Zeta (0.5), GPU (1), then CPU and Yotta by title (not by fname: hw.aaa is Yotta).
    assert _order(titles, ["Zeta", "GPU", "CPU", "Yotta"]) == ["Zeta", "GPU", "CPU", "Yotta"]
    # The tree: hw's children come right after Hardware, GPU's child right after GPU.
    i = titles.index("Hardware")
    assert titles[i + 1:i + 6] == ["Zeta", "GPU", "H100", "CPU", "Yotta"]
    # Every sidebar link reaches a built page.
    hrefs = dict(page.sidebar())
    assert target_of(rich, page, hrefs["H100"]) == "hw/gpu/h100/"
    assert target_of(rich, page, hrefs["Yotta"]) == "hw/aaa/"
    assert target_of(rich, page, hrefs["KB Home"]) == ""
    # The current page is marked.
    active = page.tree.find("a", cls="md-nav__link--active")
    assert active is not None and " ".join(active.text().split()) == "GPU"


def test_prev_next_follow_the_hierarchy(rich: Build) -> None:
    gpu = rich.page("hw/gpu/")
    assert target_of(rich, gpu, gpu.footer()["prev"]) == "hw/zzz/"
    assert target_of(rich, gpu, gpu.footer()["next"]) == "hw/gpu/h100/"
    h100 = rich.page("hw/gpu/h100/")
    assert target_of(rich, h100, h100.footer()["next"]) == "hw/cpu/"
    hw = rich.page("hw/")
    assert target_of(rich, hw, hw.footer()["prev"]) == "guide/"
    assert target_of(rich, hw, hw.footer()["next"]) == "hw/zzz/"
    home = rich.page("")
    assert "prev" not in home.footer()
    assert target_of(rich, home, home.footer()["next"]) == "guide/"
    # The nav_exclude'd note is skipped: after Yotta (hw.aaa) comes the next top-level note.
    aaa = rich.page("hw/aaa/")
    assert target_of(rich, aaa, aaa.footer()["next"]) == "inference-accelerator/"


def test_nav_exclude_keeps_the_note_out_of_the_navigation_only(rich: Build) -> None:
    page = rich.page("hw/hidden/")
    assert page.h1() == "Hidden Gem"
    for url in ("hw/", "hw/gpu/", "hw/aaa/", ""):
        assert "Hidden Gem" not in rich.page(url).sidebar_titles(), url
    assert "Hidden Gem" in page.sidebar_titles()      # its own sidebar still shows where it is
    # Links to it still work.
    guide = rich.page("guide/")
    href = dict(guide.article.links())["Hidden Gem"]
    assert target_of(rich, guide, href) == "hw/hidden/"


def test_nav_exclude_keeps_the_note_out_of_previous_next(rich: Build) -> None:
    for page in all_pages(rich):
        if page.url.startswith("notes/") or page.url == "hw/hidden/":
            continue
        for href in page.footer().values():
            assert page.resolve(href)[0] != "hw/hidden/", f"/{page.url} links to the excluded note in its footer"


def test_published_false_keeps_the_note_out_of_the_site(rich: Build) -> None:
    assert not (rich.site / "hw" / "secret").exists()
    for url in ("hw/", "hw/gpu/", "guide/", ""):
        page = rich.page(url)
        assert "Secret Plan" not in page.sidebar_titles(), url
        assert not any("secret" in href for _, href in page.tree.links()), url
    assert "Secret Plan" not in [t for t, _ in rich.page("hw/").section_links("kb-children")]
    # A link to it is plain text: neither a link nor a broken link, and no warning.
    guide = rich.page("guide/")
    assert "Secret Plan" in guide.article.text() or "hw.secret" in guide.article.text()
    assert guide.article.find(cls="kb-broken") is None
    assert not warning_for(rich, "notes/guide.md", "broken-link")
    assert "Never published." not in (rich.site / "search" / "search_index.json").read_text(encoding="utf-8")


# -- Page furniture ---------------------------------------------------------------------------

def test_breadcrumbs_to_the_ancestors(rich: Build) -> None:
    page = rich.page("hw/gpu/h100/")
    crumbs = page.article.find(cls="kb-breadcrumbs")
    assert crumbs is not None
    links = crumbs.links()
    assert [t for t, _ in links] == ["KB Home", "Hardware", "GPU"]
    assert [target_of(rich, page, h) for _, h in links] == ["", "hw/", "hw/gpu/"]
    top = rich.page("guide/").article.find(cls="kb-breadcrumbs")
    assert top is not None and [t for t, _ in top.links()] == ["KB Home"]


def test_children_section(rich: Build) -> None:
    hw = rich.page("hw/")
    kids = hw.section_links("kb-children")
    titles = [t for t, _ in kids]
    assert _order(titles, ["Zeta", "GPU", "CPU", "Yotta"]) == ["Zeta", "GPU", "CPU", "Yotta"]
    assert "Secret Plan" not in titles
    assert target_of(rich, hw, dict(kids)["GPU"]) == "hw/gpu/"
    assert [t for t, _ in rich.page("hw/gpu/").section_links("kb-children")] == ["H100"]
    # A leaf has no children section.
    assert rich.page("hw/gpu/h100/").section("kb-children") is None


def test_enable_child_links_false_hides_the_children_section(rich: Build) -> None:
    cpu = rich.page("hw/cpu/")
    assert cpu.section("kb-children") is None
    assert "kb-children" not in cpu.ids()
    # The child is still a page, and still in the navigation.
    assert rich.page("hw/cpu/x86/").h1() == "X86"
    assert "X86" in cpu.sidebar_titles()


def test_backlinks_section(rich: Build) -> None:
    gpu = rich.page("hw/gpu/")
    back = gpu.section_links("kb-backlinks")
    assert [t for t, _ in back] == ["Guide"]
    assert target_of(rich, gpu, back[0][1]) == "guide/"
    guide = rich.page("guide/")
    assert [t for t, _ in guide.section_links("kb-backlinks")] == ["KB Home"]
    # Nothing links to H100: no section.
    assert rich.page("hw/gpu/h100/").section("kb-backlinks") is None


@pytest.mark.parametrize("url, day", [("hw/", "2022-04-15"),          # epoch ms
                                      ("guide/", "2024-03-05"),       # ISO date
                                      ("", "2023-11-14")])
def test_updated_date(rich: Build, url: str, day: str) -> None:
    box = rich.page(url).article.find(cls="kb-updated")
    assert box is not None, f"no .kb-updated on /{url}"
    time = box.find("time")
    assert time is not None and time.attrs.get("datetime", "").startswith(day)
    assert day in time.text()


def test_dates_in_both_forms_raise_no_warning(rich: Build) -> None:
    for name in ("root", "guide", "hw"):
        assert not [w for w in rich.warnings if f"notes/{name}.md" in w], rich.warnings


def test_missing_title_comes_from_the_last_segment(rich: Build) -> None:
    page = rich.page("inference-accelerator/")
    assert page.h1() == "Inference Accelerator"
    assert "Inference Accelerator" in rich.page("").sidebar_titles()


@pytest.mark.parametrize("url, title", [("inference-accelerator/", "Inference Accelerator"),
                                        ("proj/alpha/", "Alpha"), ("tags/gpu/", "gpu")])
def test_html_title_is_the_note_title(rich: Build, url: str, title: str) -> None:
    assert rich.page(url).title == f"{title} - {SITE_NAME}"


def test_footer_labels_are_note_titles(rich: Build) -> None:
    a = rich.page("proj/").tree.find("a", cls="md-footer__link--next")
    assert a is not None and a.attrs.get("aria-label") == "Next: Alpha"


def test_missing_frontmatter_warns_and_builds(rich: Build) -> None:
    assert [w for w in rich.warnings if "notes/nofm.md" in w], rich.log
    page = rich.page("nofm/")
    assert "No frontmatter at all." in page.article.text()
    assert page.h1() == "Nofm"


def test_missing_id_warns_and_builds(rich: Build) -> None:
    assert [w for w in rich.warnings if "notes/noid.md" in w], rich.log
    page = rich.page("noid/")
    assert page.h1() == "No Id"
    assert "Frontmatter without id." in page.article.text()


def test_no_other_warnings(rich: Build) -> None:
    others = [w for w in rich.warnings if "notes/nofm.md" not in w and "notes/noid.md" not in w]
    assert not others, "\n".join(others)


def test_fm_variables_are_replaced_outside_code(rich: Build) -> None:
    guide = rich.page("guide/")
    text = guide.article.text(skip_code=True)
    assert "Owner: Alice Example;" in text
    assert "{{" not in text
    codes = [c.text() for c in guide.article.find_all("code")]
    assert "{{fm.owner}}" in codes


def test_fm_variable_keeps_its_wikilinks_and_shows_the_rest_as_text(tmp_path: Path) -> None:
    """As in Dendron, a wikilink in a frontmatter value links where the variable lands; markup in
    it stays text. (Dendron's backlinks come from the body as written, so it is no backlink.)"""
    b = build_vault(tmp_path, {
        "root": note("Home.\n", id="r", title="Home"),
        "a.b": note("Target.\n", id="ab", title="Target Note"),
        "c": note("See: {{fm.see}}\n", id="c", title="Citing", see="'[[a.b]] and <b>bold</b> *x*'"),
    }, strict=True)
    assert b.rc == 0, b.log
    page = b.page("c/")
    assert "See: Target Note and <b>bold</b> *x*" in page.article.text()
    assert [target_of(b, page, h) for t, h in page.article.links() if t == "Target Note"] == ["a/b/"]
    assert not page.article.find_all("b")


@pytest.mark.parametrize("tag, titles", [("infra", ["Guide"]), ("gpu", ["GPU"]), ("perf", ["GPU"])])
def test_frontmatter_tags_make_tag_pages(rich: Build, tag: str, titles: list[str]) -> None:
    page = rich.page(f"tags/{tag}/")
    links = [(t, h) for t, h in page.article.links() if "headerlink" not in h and not h.startswith("#")]
    crumbs = page.article.find(cls="kb-breadcrumbs")
    crumb_links = crumbs.links() if crumbs is not None else []
    listed = [(t, h) for t, h in links if (t, h) not in crumb_links]
    assert [t for t, _ in listed] == titles
    assert target_of(rich, page, listed[0][1]) == {"Guide": "guide/", "GPU": "hw/gpu/"}[titles[0]]


def test_sidebar_does_not_carry_the_whole_tree(rich: Build) -> None:
    page = rich.page("wide/n30/")
    side = page.sidebar()
    items = [t for t, _ in side if t.startswith("Item ")]
    assert "Item 30" in items
    assert len(items) < WIDE // 2, f"{len(items)} sibling links in the sidebar"
    more = [(t, h) for t, h in side if "more" in t]
    assert more, "no 'more' link for the siblings left out"
    for _, href in more:
        url, frag = page.resolve(href)
        assert url == "wide/"
        assert frag in ("", "kb-children")
        target_of(rich, page, href)
    # The parent lists them all.
    assert len(rich.page("wide/").section_links("kb-children")) == WIDE
    # The parent's own sidebar is bounded too.
    parent_items = [t for t, _ in rich.page("wide/").sidebar() if t.startswith("Item ")]
    assert len(parent_items) < WIDE // 2
    # A page far from 'wide' does not list its children at all.
    assert not [t for t in rich.page("hw/gpu/").sidebar_titles() if t.startswith("Item ")]


def test_every_link_in_the_site_reaches_a_page(rich: Build) -> None:
    assert_no_dead_links(rich)


# -- Strict builds ------------------------------------------------------------------------------

def test_clean_vault_builds_strict(tmp_path: Path) -> None:
    b = build_vault(tmp_path, {
        "root": note("Home. [[a.b]]\n", id="r", title="Home"),
        "a.b": note("# AB\n\nText.\n", id="ab", title="AB", updated=1700000000000),
    }, strict=True)
    assert b.rc == 0, b.log
    assert not b.warnings, b.log
    assert b.exists("a/") and b.exists("a/b/") and b.exists("notes/ab/")


@pytest.mark.parametrize("quiet", [False, True], ids=["verbose", "quiet"])
def test_strict_build_fails_on_a_broken_link_even_when_quiet(tmp_path: Path, quiet: bool) -> None:
    """`-q` lowers MkDocs' log level below warnings before --strict counts them: kb's problems
    must still fail the build, and be printed."""
    proj = write_project(tmp_path, {
        "root": note("Home. [[a.missing]]\n", id="r", title="Home"),
        "a.b": note("Text.\n", id="ab", title="AB"),
    })
    b = build(proj, strict=True, quiet=quiet)
    assert b.rc == 1, b.log
    assert "notes/root.md:5:7: error: no note named \"a.missing\"" in b.log, b.log
    assert "Aborted with" in b.log
    assert build(proj, quiet=True).rc == 0     # not strict: quiet stays quiet and the build passes


def test_backlinks_with_equal_titles_keep_one_order(tmp_path: Path) -> None:
    """Ties on the title are broken by the note's name, so the list is the same on every build."""
    notes = {"root": note("Home.\n", id="root", title="Home"), "target": note("Target.\n", id="t", title="Target")}
    for name in ("zeta.same", "alpha.same", "mid.same"):
        notes[name] = note("Links to [[target]].\n", id=name, title="Same")
    b = build_vault(tmp_path, notes)
    assert b.rc == 0, b.log
    back = b.page("target/").section_links("kb-backlinks")
    assert [target_of(b, b.page("target/"), h) for _, h in back] == ["alpha/same/", "mid/same/", "zeta/same/"]
