"""Images and files in a Dendron vault (SPEC "Images and files"): `/assets/x.png` (vault root)
and `assets/x.png` (beside the flat notes) both mean notes/assets/x.png; on a page served at
/a/b/c/ each becomes a URL relative to the page that finds the file the build copied to site/.
A missing file is reported at its file, line and column by the build (a warning; --strict
fails) and by `kb check` (missing-asset); external images stay as written.
"""
from __future__ import annotations

import posixpath
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from test_cli_support import run_kb
from test_corpora_errors import checked_corpus
from test_site_notes import Build, Html, build, note, write_project

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "corpora"

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16

NOTES = {
    "root": note("Home ![logo](/assets/images/logo.png)\n", id="root", title="Home"),
    # line 5 of each file is the body's first line (frontmatter: ---, id, title, ---, blank)
    "a.b.c": note(
        "Root form ![x](/assets/images/logo.png) and relative ![y](assets/images/logo.png \"Logo\").\n"
        "A [manual](/assets/docs/manual%20v1.pdf) and a [sheet](assets/docs/sheet.csv#row=2).\n"
        '<img src="/assets/images/logo.png" alt="raw"> <img alt="rel" src=\'./assets/images/logo.png\'>\n'
        "External ![ext](https://example.com/x.png) and [site](https://example.com/a.pdf).\n"
        "`![code](/assets/none.png)` stays code.\n"
        "\n"
        "```\n"
        "![fenced](/assets/none.png)\n"
        "```\n",
        id="abc", title="ABC"),
    "a.embeds": note("![[a.b.c]]\n", id="emb", title="Embeds"),
    "x.missing": note("Text.\n\nSee ![gone](/assets/images/gone.png) and [doc](assets/docs/gone.pdf).\n"
                      '<img src="assets/images/gone2.png">\n', id="miss", title="Missing"),
}


def _assets(proj: Path) -> None:
    (proj / "notes" / "assets" / "images").mkdir(parents=True)
    (proj / "notes" / "assets" / "docs").mkdir(parents=True)
    (proj / "notes" / "assets" / "images" / "logo.png").write_bytes(PNG)
    (proj / "notes" / "assets" / "docs" / "manual v1.pdf").write_bytes(b"%PDF-1.4\n")
    (proj / "notes" / "assets" / "docs" / "sheet.csv").write_text("a,b\n1,2\n")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Build:
    proj = write_project(tmp_path_factory.mktemp("media"), NOTES)
    _assets(proj)
    return build(proj)


def _file_of(b: Build, page: Html, url: str) -> Path:
    """The file in site/ that a relative URL on a page points to (asserting it is relative)."""
    parts = urlsplit(url)
    assert not parts.scheme and not parts.netloc and not parts.path.startswith("/"), url
    path = posixpath.normpath(posixpath.join("/" + page.url, unquote(parts.path)))
    return b.site / path.lstrip("/")


def test_root_and_relative_images_resolve_from_a_deep_page(site: Build) -> None:
    page = site.page("a/b/c/")
    imgs = {n.attrs.get("alt"): n.attrs["src"] for n in page.article.find_all("img")}
    for alt in ("x", "y", "raw", "rel"):
        assert imgs[alt] == "../../../assets/images/logo.png", (alt, imgs)
        assert _file_of(site, page, imgs[alt]).read_bytes() == PNG
    assert imgs["ext"] == "https://example.com/x.png"


def test_files_resolve_with_their_fragment(site: Build) -> None:
    page = site.page("a/b/c/")
    links = dict(page.article.links())
    assert links["manual"] == "../../../assets/docs/manual%20v1.pdf"
    assert _file_of(site, page, links["manual"]).read_bytes() == b"%PDF-1.4\n"
    assert links["sheet"] == "../../../assets/docs/sheet.csv#row=2"
    assert _file_of(site, page, links["sheet"]).is_file()
    assert links["site"] == "https://example.com/a.pdf"


def test_home_page_and_embeds_resolve_from_where_they_land(site: Build) -> None:
    home = site.page("")
    (src,) = [n.attrs["src"] for n in home.article.find_all("img")]
    assert src == "assets/images/logo.png" and _file_of(site, home, src).is_file()
    emb = site.page("a/embeds/")
    srcs = [n.attrs["src"] for n in emb.article.find_all("img") if n.attrs.get("alt") in ("x", "y")]
    assert srcs == ["../../assets/images/logo.png"] * 2
    assert all(_file_of(site, emb, s).read_bytes() == PNG for s in srcs)


def test_code_is_left_as_written(site: Build) -> None:
    page = site.page("a/b/c/")
    codes = " ".join(n.text() for n in page.article.find_all("code"))
    assert "![code](/assets/none.png)" in codes and "![fenced](/assets/none.png)" in codes


def test_missing_files_are_reported_at_their_place(site: Build) -> None:
    assert site.rc == 0, site.log
    missing = [w for w in site.warnings if "[missing-asset]" in w]
    assert [re.search(r"notes/\S+:\d+:\d+", w)[0] for w in missing] == [
        "notes/x.missing.md:7:13", "notes/x.missing.md:7:48", "notes/x.missing.md:8:11"], site.warnings
    assert 'image "/assets/images/gone.png": no file notes/assets/images/gone.png' in missing[0]
    assert 'file "assets/docs/gone.pdf": no file notes/assets/docs/gone.pdf' in missing[1]
    assert not [w for w in site.warnings if "x.png" in w or "a.b.c.md" in w or "none.png" in w]


def test_strict_build_fails_on_a_missing_file(tmp_path: Path) -> None:
    proj = write_project(tmp_path, {"root": note("Home\n", id="root", title="Home"),
                                    "a.b": note("![gone](/assets/gone.png)\n", id="ab", title="AB")})
    b = build(proj, strict=True)
    assert b.rc != 0
    assert any("notes/a.b.md:5:9" in w and "[missing-asset]" in w for w in b.warnings), b.log
    (proj / "notes" / "assets").mkdir()
    (proj / "notes" / "assets" / "gone.png").write_bytes(PNG)
    assert build(proj, strict=True).rc == 0


def test_kb_check_reports_missing_files(tmp_path: Path) -> None:
    proj = write_project(tmp_path, NOTES)
    (proj / "data").mkdir()
    _assets(proj)
    r = run_kb("check", cwd=proj)
    assert r.returncode == 0, r.stdout + r.stderr        # a warning
    lines = [ln for ln in r.stdout.splitlines() if "[missing-asset]" in ln]
    assert lines == [
        'notes/x.missing.md:7:13: warning: image "/assets/images/gone.png": no file notes/assets/images/gone.png; '
        "add the file or correct the path [missing-asset]",
        'notes/x.missing.md:7:48: warning: file "assets/docs/gone.pdf": no file notes/assets/docs/gone.pdf; '
        "add the file or correct the path [missing-asset]",
        'notes/x.missing.md:8:11: warning: image "assets/images/gone2.png": no file notes/assets/images/gone2.png; '
        "add the file or correct the path [missing-asset]",
    ], r.stdout
    strict = run_kb("check", "--strict", cwd=proj)
    assert strict.returncode == 1


@pytest.mark.parametrize("corpus", ["dendron-site", "dendron-handbook"])
def test_corpus_images_are_reported_only_when_missing(corpus: str, tmp_path: Path) -> None:
    """Every missing-asset `kb check` reports on a real vault names a file that is not there,
    at a place that holds the URL; every local image URL in the vault whose file exists is not
    reported."""
    proj, r = checked_corpus(corpus, tmp_path)
    reported = []
    for ln in r.stdout.splitlines():
        m = re.match(r'^(notes/\S+\.md):(\d+):(\d+): warning: (?:image|file) "([^"]+)": no file (\S+); .*\[missing-asset\]$', ln)
        if not m:
            continue
        path, line, col, url, file = m.groups()
        written = (proj / path).read_text(encoding="utf-8").split("\n")[int(line) - 1]
        assert written[int(col) - 1:].startswith(url), ln
        assert not (proj / file).exists(), ln
        reported.append(file)
    if corpus == "dendron-site":       # it has images, some of them missing
        assert "notes/assets/images/logo_small.png" in reported
        assert not any("2020-09-13-08-45-00.png" in f for f in reported)
