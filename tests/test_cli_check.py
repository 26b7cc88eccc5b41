"""`kb check`: each defect planted in a copy of the fixture vault is found at its line and column."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from test_cli_support import lines_of, make_vault, run_kb, write_note

# write_note puts 7 lines of frontmatter and a blank line first: the body starts on line 9.
BODY = 9


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    return make_vault(tmp_path)


def check(proj: Path, *args: str):
    return run_kb("check", *args, cwd=proj)


def test_fixture_vault_is_clean(proj: Path) -> None:
    r = check(proj)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == ""
    assert "no problems" in r.stderr


def test_broken_link_with_did_you_mean(proj: Path) -> None:
    write_note(proj, "x.links", "Intro line.\nSee [[hardware.gpu.t5]] now.\n")
    r = check(proj)
    assert r.returncode == 1
    assert ('notes/x.links.md:10:5: error: no note named "hardware.gpu.t5" (did you mean "hardware.gpu.t4"?) '
            '[broken-link]') in lines_of(r)
    assert "1 error" in r.stderr


def test_broken_heading_anchor(proj: Path) -> None:
    write_note(proj, "x.links", "About [[hardware.gpu#memmory]].\n")
    r = check(proj)
    assert r.returncode == 1
    (line,) = lines_of(r)
    assert line.startswith(f"notes/x.links.md:{BODY}:7: error: ")
    assert 'no heading "memmory" in "hardware.gpu"' in line and line.endswith("[broken-anchor]")


def test_anchors_of_a_page_with_a_data_block(proj: Path) -> None:
    """A page with a table answers with its note's headings and blocks: those before and after
    the block, not the '#' lines inside it (code, and then a drawn table)."""
    write_note(proj, "x.data", "## Before\n\n```table\nsource: bench.csv\n# Inside\n```\n\n## After\n\nA line ^kept\n")
    for args in ((), ("--no-cache",), ()):      # a first run, one without the cache, one from it
        write_note(proj, "x.links", "[[x.data#before]] [[x.data#after]] [[x.data#^kept]]\n[[x.data#inside]]\n")
        r = check(proj, *args)
        assert r.returncode == 1
        assert lines_of(r) == [f'notes/x.links.md:{BODY + 1}:1: error: no heading "inside" in "x.data" '
                               '[broken-anchor]'], args


def test_broken_block_anchor(proj: Path) -> None:
    write_note(proj, "x.links", "ok [[hardware.gpu#^fast-mem]]\nbad [[hardware.gpu#^fast-memory]]\n")
    r = check(proj)
    assert r.returncode == 1
    (line,) = lines_of(r)
    assert line == f'notes/x.links.md:{BODY + 1}:5: error: no block "^fast-memory" in "hardware.gpu" [broken-block]'


def test_broken_embed(proj: Path) -> None:
    write_note(proj, "x.embeds", "![[hardware.gpu#memory]]\n\n  ![[hardware.gpu.p100]]\n")
    r = check(proj)
    assert r.returncode == 1
    (line,) = lines_of(r)
    assert line.startswith(f"notes/x.embeds.md:{BODY + 2}:3: error: ")
    assert '"hardware.gpu.p100"' in line and line.endswith("[broken-embed]")


def test_embed_cycle(proj: Path) -> None:
    write_note(proj, "cyc.a", "Text.\n![[cyc.b]]\n")
    write_note(proj, "cyc.b", "![[cyc.a]]\n")
    r = check(proj)
    assert r.returncode == 1
    found = [ln for ln in lines_of(r) if ln.endswith("[embed-cycle]")]
    assert f"notes/cyc.a.md:{BODY + 1}:1: error: embed cycle: cyc.a > cyc.b > cyc.a [embed-cycle]" in found
    assert any(ln.startswith(f"notes/cyc.b.md:{BODY}:1: error: embed cycle") for ln in found)


def test_embeds_deeper_than_five(proj: Path) -> None:
    for i in range(8):
        write_note(proj, f"deep.d{i}", f"Level {i}.\n\n![[deep.d{i + 1}]]\n" if i < 7 else "Bottom.\n")
    r = check(proj)
    assert r.returncode == 1
    found = [ln for ln in lines_of(r) if ln.endswith("[embed-depth]")]
    assert any(ln.startswith(f"notes/deep.d0.md:{BODY + 2}:1: error: embeds nested deeper than 5") for ln in found)
    # d2 starts a chain of exactly five more embeds: it is fine.
    assert not any(ln.startswith("notes/deep.d2.md") for ln in found)


def test_duplicate_id(proj: Path) -> None:
    write_note(proj, "zz.copy", "A copy.\n", note_id="gpu0000000000000000000a")
    r = check(proj)
    assert r.returncode == 1
    (line,) = lines_of(r)
    assert line.startswith('notes/zz.copy.md:2:1: error: duplicate id "gpu0000000000000000000a" '
                           "(also in notes/hardware.gpu.md)")
    assert line.endswith("[duplicate-id]")


def test_missing_frontmatter_and_id_are_warnings(proj: Path) -> None:
    (proj / "notes" / "nofm.md").write_text("No frontmatter here.\n", encoding="utf-8")
    (proj / "notes" / "noid.md").write_text("---\ntitle: No id\n---\nBody.\n", encoding="utf-8")
    r = check(proj)
    assert r.returncode == 0, r.stdout + r.stderr
    out = lines_of(r)
    assert any(ln.startswith("notes/nofm.md:1:1: warning: no frontmatter") and ln.endswith("[frontmatter]")
               for ln in out)
    assert any(ln.startswith("notes/noid.md:2:1: warning: frontmatter has no id") and ln.endswith("[missing-id]")
               for ln in out)
    assert "0 errors, 2 warnings" in r.stderr
    strict = check(proj, "--strict")
    assert strict.returncode == 1
    assert lines_of(strict) == out


def test_frontmatter_contradicting_the_hierarchy(proj: Path) -> None:
    extra = ("fname: hardware.a100\n"          # line 7: wrong
             "hpath: hardware/gpu/a100\n"      # line 8: right (old slash form)
             "parent: hw00000000000000000000a\n"   # line 9: the id of `hardware`, not `hardware.gpu`
             "children: [t40000000000000000000aa]\n")   # line 10: t4 is not a child of a100
    write_note(proj, "hardware.gpu.a100", "Ampere.\n", extra=extra)
    # Consistent derived data is fine.
    write_note(proj, "hardware.gpu.t4.pcie", "Card.\n", extra="fname: hardware.gpu.t4.pcie\nparent: t40000000000000000000aa\n")
    r = check(proj)
    assert r.returncode == 0, r.stdout + r.stderr
    out = lines_of(r)
    assert [ln.split(": warning: ")[0] for ln in out] == [
        "notes/hardware.gpu.a100.md:7:1", "notes/hardware.gpu.a100.md:9:1", "notes/hardware.gpu.a100.md:10:1"]
    assert all(ln.endswith("[frontmatter-hierarchy]") for ln in out)
    assert '"fname: hardware.a100"' in out[0]
    assert 'the parent of "hardware.gpu.a100" is "hardware.gpu"' in out[1]
    assert check(proj, "--strict").returncode == 1


def test_broken_markdown_link_to_a_note_file(proj: Path) -> None:
    write_note(proj, "x.md-links", "[ok](hardware.gpu.md#memory) and [bad](hardware.gpx.md)\n`[code](nope.md)`\n")
    r = check(proj)
    assert r.returncode == 1
    (line,) = lines_of(r)
    assert line == (f'notes/x.md-links.md:{BODY}:40: error: link to "hardware.gpx.md", which is not a file in the '
                    f'vault (did you mean "hardware.gpu.md"?) [broken-md-link]')


def test_nothing_in_code_is_checked(proj: Path) -> None:
    write_note(proj, "x.code", "`[[no.such]]`\n\n```\n[[no.such]] ![[no.such]]\n```\n")
    assert check(proj).returncode == 0


def test_a_wikilink_in_a_raw_html_block_is_text_not_a_link(proj: Path) -> None:
    # The page shows it as written (no link), as Dendron's preview does: nothing to check.
    # After the blank line that ends the block it is a link again, and checked.
    write_note(proj, "x.html", "<div class=\"box\">\nSee [[no.such]] and ![[no.such]]\n</div>\n\n"
                               "- item\n  <details>\n  [[no.such]]\n  </details>\n\n"
                               "In a <span title=\"[[no.such]]\">tag</span> too.\n\n"
                               "After it [[no.such.two]].\n")
    r = check(proj)
    assert r.returncode == 1
    (line,) = lines_of(r)
    assert line.startswith(f'notes/x.html.md:{BODY + 11}:10: error: no note named "no.such.two"'), line


def test_a_wikilink_in_html_in_a_quote_a_tag_over_lines_or_a_comment_is_not_checked(proj: Path) -> None:
    # Each shows as written on the page (a quote's HTML block, a tag spread over lines, a
    # comment): nothing to check. `<!--` in inline code opens no comment: the link after it is one.
    write_note(proj, "x.quoted", "> <div>\n> [[no.such]]\n> </div>\n\n"
                                 "> > <div>\n> > ![[no.such]]\n> > </div>\n\n"
                                 "- item\n  > <div>\n  > [[no.such]] #x.tag\n  > </div>\n\n"
                                 "Text <span\n title=\"[[no.such]]\">sp</span>.\n\n"
                                 "Before <!-- ![[no.such]] --> after.\n\n"
                                 "Write `<!--` to open one: [[no.such.two]].\n")
    r = check(proj)
    assert r.returncode == 1
    (line,) = lines_of(r)
    assert line.startswith(f'notes/x.quoted.md:{BODY + 18}:27: error: no note named "no.such.two"'), line


# -- through the data engine --------------------------------------------------------------------
def test_table_with_unknown_column(proj: Path) -> None:
    write_note(proj, "x.table", "Intro.\n\n```table\nsource: bench.csv\ncolumns: [GPU, Thruput]\n```\n")
    r = check(proj)
    assert r.returncode == 1
    (line,) = lines_of(r)
    assert line.startswith(f"notes/x.table.md:{BODY + 4}:16: error: ")
    assert "Thruput" in line and '"Throughput"' in line


def test_links_yml_naming_a_missing_note(proj: Path) -> None:
    links = proj / "data" / "links.yml"
    links.write_text(links.read_text(encoding="utf-8") + "  A100: hardware.gpu.a1000\n", encoding="utf-8")
    r = check(proj)
    assert r.returncode == 1
    (line,) = lines_of(r)
    assert line.startswith('data/links.yml:5:9: error: no note named "hardware.gpu.a1000"')


def test_check_builds_no_site(proj: Path) -> None:
    check(proj)
    assert not (proj / "site").exists()


# -- output formats, usage ----------------------------------------------------------------------
def test_json_format(proj: Path) -> None:
    write_note(proj, "x.links", "See [[hardware.gpu.t5]].\n")
    (proj / "notes" / "nofm.md").write_text("Plain.\n", encoding="utf-8")
    r = check(proj, "--format", "json")
    assert r.returncode == 1
    data = json.loads(r.stdout)
    assert {tuple(sorted(d)) for d in data} == {("code", "col", "line", "message", "path", "severity")}
    by_code = {d["code"]: d for d in data}
    assert by_code["broken-link"] == {
        "path": "notes/x.links.md", "line": BODY, "col": 5, "severity": "error",
        "message": 'no note named "hardware.gpu.t5" (did you mean "hardware.gpu.t4"?)', "code": "broken-link"}
    assert by_code["frontmatter"]["severity"] == "warning"


def test_json_format_when_clean(proj: Path) -> None:
    r = check(proj, "--format", "json")
    assert r.returncode == 0 and json.loads(r.stdout) == []


def test_github_format(proj: Path) -> None:
    write_note(proj, "x.links", "See [[hardware.gpu.t5]].\n")
    r = check(proj, "--format", "github")
    assert r.returncode == 1
    (line,) = lines_of(r)
    assert line.startswith(f"::error file=notes/x.links.md,line={BODY},col=5,title=broken-link::no note named")


@pytest.mark.parametrize("args", [
    ["check", "--format", "xml"],
    ["check", "--bogus"],
    ["frobnicate"],
    [],
    ["rename", "only-one"],
    ["check", "--timeout", "-1"],
])
def test_bad_usage_exits_2(proj: Path, args: list[str]) -> None:
    r = run_kb(*args, cwd=proj)
    assert r.returncode == 2, r.stderr
    assert "usage:" in r.stderr


def test_no_project_here_exits_2(tmp_path: Path) -> None:
    r = run_kb("check", cwd=tmp_path)
    assert r.returncode == 2
    assert "no mkdocs.yml" in r.stderr and "-C DIR" in r.stderr


def test_dash_C_runs_from_another_folder(proj: Path, tmp_path: Path) -> None:
    write_note(proj, "x.links", "See [[hardware.gpu.t5]].\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = run_kb("-C", str(proj), "check", cwd=elsewhere)
    assert r.returncode == 1
    assert lines_of(r)[0].startswith(f"notes/x.links.md:{BODY}:5: error:")
    assert run_kb("-C", str(tmp_path / "missing"), "check", cwd=elsewhere).returncode == 2


def test_runs_from_a_subfolder_of_the_project(proj: Path) -> None:
    r = run_kb("check", cwd=proj / "notes")
    assert r.returncode == 0, r.stderr
