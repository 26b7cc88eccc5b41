"""Note names match without regard to case, as in Dendron (SPEC "Notes"): links, embeds,
hierarchy parents and stubs, tags, `kb check` hints, `kb rename`; two notes whose names
differ only in case are an error naming both. Each note keeps its own spelling in its URL.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from test_cli_support import make_vault, run_kb, write_note
from test_site_notes import Build, build_vault, note, target_of

NOTES = {
    "root": note("Home [[prdct.graphml]] and [[PRDCT.GraphML#Intro]] and #Perf\n\n"
                 "![[t.cs.languages.java#intro]]\n", id="root", title="Home"),
    "prdct.GraphML": note("## Intro\n\ngraph text\n", id="g1", title="GraphML"),
    "t.cs.languages.Java": note("## Intro\n\njava text\n", id="j1", title="Java"),
    "t.cs.languages.java.virtual-threads": note("child #perf\n", id="vt", title="Virtual Threads"),
    # no note x.Lang: the stub takes the spelling of the first note below it in name order
    "x.Lang.b": note("b\n", id="xb", title="XB"),
    "x.lang.a": note("a\n", id="xa", title="XA"),
    "a.Dup": note("first\n", id="d1", title="Dup One"),
    "a.dup": note("second\n", id="d2", title="Dup Two"),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Build:
    b = build_vault(tmp_path_factory.mktemp("case"), NOTES)
    assert b.rc == 0, b.log
    return b


def test_links_resolve_without_case(site: Build) -> None:
    home = site.page("")
    hrefs = [href for text, href in home.article.links() if text in ("GraphML",)]
    assert len(hrefs) == 2
    assert [target_of(site, home, h) for h in hrefs] == ["prdct/GraphML/", "prdct/GraphML/"]
    assert not home.article.find_all(cls="kb-broken")


def test_embed_resolves_without_case(site: Build) -> None:
    assert "java text" in site.page("").article.text()


def test_a_child_sits_under_its_parent_whatever_the_case(site: Build) -> None:
    java = site.page("t/cs/languages/Java/")
    kids = java.section_links("kb-children")
    assert [text for text, _ in kids] == ["Virtual Threads"]
    assert target_of(site, java, kids[0][1]) == "t/cs/languages/java/virtual-threads/"   # own spelling kept
    assert not site.exists("t/cs/languages/java/")       # no stub beside the real note


def test_a_stub_takes_the_first_spelling_below_it(site: Build) -> None:
    assert site.exists("x/Lang/") and not site.exists("x/lang/")
    stub = site.page("x/Lang/")
    assert sorted(text for text, _ in stub.section_links("kb-children")) == ["XA", "XB"]


def test_tags_match_without_case(site: Build) -> None:
    tag = site.page("tags/Perf/")
    assert sorted(text for text, _ in tag.section_links("kb-tagged")) == ["Home", "Virtual Threads"]
    assert not site.exists("tags/perf/")


def test_notes_differing_only_in_case_are_an_error_naming_both(site: Build) -> None:
    clash = [w for w in site.warnings if "[case-clash]" in w]
    assert len(clash) == 1 and "notes/a.dup.md" in clash[0] and '"a.Dup"' in clash[0], site.warnings
    assert site.exists("a/Dup/") and not site.exists("a/dup/")


def test_kb_check_case(tmp_path: Path) -> None:
    proj = make_vault(tmp_path)
    write_note(proj, "hw.GraphML", "x")
    write_note(proj, "hw.Clash", "y")
    write_note(proj, "hw.clash", "z")
    write_note(proj, "hw.user", "[[hw.graphml]] [[HW.GRAPHML]] [[hw.grapml]]")
    r = run_kb("check", cwd=proj)
    assert r.returncode == 1
    out = r.stdout
    assert out.count("[broken-link]") == 1 and 'no note named "hw.grapml" (did you mean "hw.GraphML"?)' in out, out
    assert "notes/hw.clash.md:1:1: error:" in out and '"hw.Clash"' in out and "[case-clash]" in out


def test_rename_rewrites_links_in_any_case(tmp_path: Path) -> None:
    proj = make_vault(tmp_path)
    write_note(proj, "hw.GraphML", "x")
    write_note(proj, "hw.GraphML.sub", "x")
    user = write_note(proj, "hw.user", "[[hw.graphml]] [[text|HW.GRAPHML.sub#h]]")
    r = run_kb("rename", "hw.GraphML", "hw.graph", cwd=proj)
    assert r.returncode == 0, r.stdout + r.stderr
    text = user.read_text()
    assert "[[hw.graph]]" in text and "[[text|hw.graph.sub#h]]" in text
    assert (proj / "notes" / "hw.graph.sub.md").is_file()


def test_derived_parent_fields_match_without_case(tmp_path: Path) -> None:
    """`parent:` / `fname:` / `hpath:` / `children:` written in another case name the same notes:
    no warning; a parent that really is another note still warns."""
    proj = make_vault(tmp_path)
    write_note(proj, "hw.GraphML", "x")
    write_note(proj, "hw.GraphML.sub", "x", extra="fname: hw.graphml.sub\nhpath: HW/graphml/SUB\nparent: hw.graphml\n")
    write_note(proj, "hw.GraphML.other", "x", extra="parent: HW.GRAPHML\n")
    write_note(proj, "hw.other", "x", extra="children: [hw.graphml.sub]\n")      # line 7
    write_note(proj, "hw.GraphML.wrong", "x", extra="parent: HW\n")             # line 7: hw, not hw.GraphML
    r = run_kb("check", cwd=proj)
    warnings = [ln for ln in r.stdout.splitlines() if "[frontmatter-hierarchy]" in ln]
    assert [w.split(": warning: ")[0] for w in warnings] == [
        "notes/hw.GraphML.wrong.md:7:1", "notes/hw.other.md:7:1"], r.stdout
    assert 'the parent of "hw.GraphML.wrong" is "hw.GraphML"' in warnings[0]
    assert '"children" lists "hw.graphml.sub" (hw.GraphML.sub)' in warnings[1]


def test_rename_refuses_a_target_that_exists_in_another_case(tmp_path: Path) -> None:
    proj = make_vault(tmp_path)
    write_note(proj, "hw.old", "x")
    write_note(proj, "hw.New", "taken")
    before = {p.name: p.read_bytes() for p in (proj / "notes").iterdir()}
    r = run_kb("rename", "hw.old", "hw.new", cwd=proj)
    assert r.returncode == 1
    assert "refusing to rename: notes/hw.New.md already exists; choose another name or remove it" in r.stderr
    assert {p.name: p.read_bytes() for p in (proj / "notes").iterdir()} == before
    # Only the case of a name changes: the note is its own target, not a clash.
    r = run_kb("rename", "hw.New", "hw.NEW", cwd=proj)
    assert r.returncode == 0, r.stderr
    assert (proj / "notes" / "hw.NEW.md").is_file() and not (proj / "notes" / "hw.New.md").exists()
