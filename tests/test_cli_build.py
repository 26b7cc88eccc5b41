"""`kb build`: strict build, HTML link check, one swap; a failure leaves the old site byte for byte."""
from __future__ import annotations

from pathlib import Path

import pytest

from kb.check.htmlcheck import check_site
from test_cli_support import lines_of, make_vault, run_kb, tree_bytes, write_note


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A vault with a site built once by `kb build` (tests copy what they change)."""
    proj = make_vault(tmp_path_factory.mktemp("built"))
    r = run_kb("build", cwd=proj)
    assert r.returncode == 0, r.stdout + r.stderr
    return proj


def test_good_vault_builds(built: Path) -> None:
    site = built / "site"
    assert (site / "index.html").is_file()
    assert (site / "hardware" / "gpu" / "t4" / "index.html").is_file()
    page = (site / "guides" / "index.html").read_text(encoding="utf-8")
    assert 'href="../hardware/gpu/#memory"' in page
    # No temporary folders left beside the site.
    assert sorted(p.name for p in built.iterdir()) == ["data", "mkdocs.yml", "notes", "site"]


def test_rebuild_replaces_the_site(tmp_path: Path) -> None:
    proj = make_vault(tmp_path)
    (proj / "site").mkdir()
    (proj / "site" / "stale.html").write_text("old", encoding="utf-8")
    write_note(proj, "hardware.gpu.a100", "Ampere.\n")
    r = run_kb("build", cwd=proj)
    assert r.returncode == 0, r.stderr
    assert not (proj / "site" / "stale.html").exists()
    assert (proj / "site" / "hardware" / "gpu" / "a100" / "index.html").is_file()
    assert sorted(p.name for p in proj.iterdir()) == ["data", "mkdocs.yml", "notes", "site"]


def _old_site(proj: Path, built: Path) -> dict[str, str]:
    import shutil
    shutil.copytree(built / "site", proj / "site")
    return tree_bytes(proj / "site")


def test_broken_vault_leaves_old_site_untouched(tmp_path: Path, built: Path) -> None:
    proj = make_vault(tmp_path)
    before = _old_site(proj, built)
    write_note(proj, "x.broken", "See [[hardware.gpu.t5]].\n")
    r = run_kb("build", cwd=proj)
    assert r.returncode == 1
    assert "mkdocs build --strict failed" in r.stderr and "site was left as it was" in r.stderr
    assert "hardware.gpu.t5" in r.stderr      # MkDocs' own warning names the problem
    assert tree_bytes(proj / "site") == before
    assert sorted(p.name for p in proj.iterdir()) == ["data", "mkdocs.yml", "notes", "site"]


def test_bad_href_in_built_html_fails_the_build(tmp_path: Path, built: Path) -> None:
    """Raw HTML in a note is passed through by MkDocs unchecked: the HTML check catches it."""
    proj = make_vault(tmp_path)
    before = _old_site(proj, built)
    # The page is at x/raw/: two levels down.
    write_note(proj, "x.raw", '<a href="../../nowhere/">gone</a> and <a href="../../hardware/gpu/#no-such-id">x</a>\n')
    r = run_kb("build", cwd=proj)
    assert r.returncode == 1, r.stdout + r.stderr
    out = lines_of(r)
    assert any(ln.startswith("site/x/raw/index.html:") and 'link "../../nowhere/": no file nowhere/index.html' in ln
               for ln in out), out
    assert any('link "../../hardware/gpu/#no-such-id": no element with id "no-such-id" in hardware/gpu/index.html' in ln
               for ln in out), out
    assert "broken link(s) in the built HTML" in r.stderr
    assert tree_bytes(proj / "site") == before


def test_site_dir_option(tmp_path: Path) -> None:
    proj = make_vault(tmp_path)
    out = tmp_path / "public"
    r = run_kb("build", "--site-dir", str(out), cwd=proj)
    assert r.returncode == 0, r.stderr
    assert (out / "index.html").is_file() and not (proj / "site").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj", "public"]


def test_refuses_to_build_over_the_project(tmp_path: Path) -> None:
    proj = make_vault(tmp_path)
    before = tree_bytes(proj)
    r = run_kb("build", "--site-dir", ".", cwd=proj)
    assert r.returncode == 1 and "refusing to build into" in r.stderr
    assert tree_bytes(proj) == before


# -- the HTML checker on its own ----------------------------------------------------------------
def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_html_checker_on_a_small_tree(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _write(site, "index.html", (
        '<html><body><h1 id="top">Home</h1>\n'
        '<a href="a/">a</a> <a href="a/index.html#sec">sec</a> <a href="#top">top</a>\n'
        '<a href="https://example.com/x">ext</a> <a href="mailto:x@example.com">m</a>\n'
        '<img src="data:image/png;base64,AAAA"> <a href="javascript:void(0)">j</a>\n'
        '<a href="a/?q=1#sec">query</a> <a href="a/#sp%20ace">space</a> <a href="#">empty</a>\n'
        '<a href="missing/">missing</a>\n'
        '<a href="a/#nope">bad anchor</a>\n'
        '<img src="img/logo.png"><script src="js/app.js"></script>\n'
        '<a href="../outside.html">out</a> <a href="/a/">abs</a> <a name="legacy"></a>\n'
        "</body></html>\n"))
    _write(site, "a/index.html", '<h2 id="sec">S</h2><p id="sp ace"></p><a href="../#legacy">back</a>'
                                 '<a href="../index.html#top">home</a><a href="../#gone">x</a>')
    _write(site, "img/logo.png", "png")
    probs = check_site(site, display="site")
    got = [(d.path, d.line, d.col, d.message) for d in probs]
    assert got == [
        ("site/a/index.html", 1, 104, 'link "../#gone": no element with id "gone" in index.html'),
        ("site/index.html", 6, 1, 'link "missing/": no file missing/index.html in the built site'),
        ("site/index.html", 7, 1, 'link "a/#nope": no element with id "nope" in a/index.html'),
        ("site/index.html", 8, 25, 'link "js/app.js": no file js/app.js in the built site'),
        ("site/index.html", 9, 1, 'link "../outside.html": points outside the site'),
    ]
    assert all(d.code == "broken-html-link" and d.severity == "error" for d in probs)
