"""Bad input gets a clear message naming the file, the line and the fix, from `kb check` and from
the build, and loses nothing: YAML bombs, non-UTF-8 notes, link loops, unreadable and oversized
notes, lines Markdown would hang on, missing-value spellings in CSV columns. The README's
"Bad input" table names these tests."""
from __future__ import annotations

import html
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_cli_support import lines_of, make_vault, run_kb, write_note

ROOT = Path(__file__).resolve().parents[1]
BODY = 9        # write_note's body starts on line 9
GUARD_S = 120   # against a hang only: these runs take a second or two


def mkdocs(proj: Path, *args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("mkdocs")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    return subprocess.run([str(exe), "build", *args], cwd=proj, env=env, capture_output=True, text=True,
                          timeout=GUARD_S)


def billion_laughs(last: str = "tags: *i") -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    prev = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
        prev = name
    return "\n".join(lines + [last]) + "\n"


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    return make_vault(tmp_path)


# -- YAML ---------------------------------------------------------------------------------------
def test_yaml_bomb_in_frontmatter(proj: Path) -> None:
    (proj / "notes" / "bomb.md").write_text("---\nid: bomb\n" + billion_laughs() + "---\n\nBody.\n", encoding="utf-8")
    r = run_kb("check", "--no-cache", cwd=proj, timeout=GUARD_S)
    assert r.returncode == 1
    found = [line for line in lines_of(r) if line.endswith("[yaml-limit]")]
    # The first collection whose expansion passes the limit: `e: &e [*d, ...]` (66,430 values), file line 7.
    assert found == ["notes/bomb.md:7:1: error: frontmatter uses too many YAML aliases (they expand to more than "
                     "10,000 values; write the values out or use fewer aliases) [yaml-limit]"], r.stdout


def test_yaml_nesting_and_self_reference_in_frontmatter(proj: Path) -> None:
    (proj / "notes" / "deep.md").write_text("---\nid: deep\ntags: " + "[" * 50_000 + "]" * 50_000 + "\n---\n\nB\n",
                                            encoding="utf-8")
    (proj / "notes" / "loop.md").write_text("---\nid: loop\ntags: &t [a, *t]\n---\n\nB\n", encoding="utf-8")
    r = run_kb("check", "--no-cache", cwd=proj, timeout=GUARD_S)
    assert r.returncode == 1
    out = lines_of(r)
    assert "notes/deep.md:3:1: error: frontmatter nests YAML collections more than 100 deep [yaml-limit]" in out
    assert ("notes/loop.md:3:1: error: frontmatter uses a YAML alias inside the collection it names "
            "(an endless value) [yaml-limit]") in out


def test_yaml_bomb_in_links_yml_and_table_block(proj: Path) -> None:
    (proj / "data" / "links.yml").write_text(billion_laughs("x: *i"), encoding="utf-8")
    write_note(proj, "x.table", "Intro.\n\n```table\nsource: bench.csv\n" + billion_laughs("caption: *i") + "```\n")
    r = run_kb("check", "--no-cache", cwd=proj, timeout=GUARD_S)
    assert r.returncode == 1
    out = lines_of(r)
    assert any(line.startswith("data/links.yml:5:1: error: links.yml uses too many YAML aliases")
               and line.endswith("[yaml-limit]") for line in out), out
    # The block's YAML starts on file line BODY + 3; its line 6 (`e: &e ...`) is BODY + 8.
    assert any(line.startswith(f"notes/x.table.md:{BODY + 8}:1: error: table block uses too many YAML aliases")
               for line in out), out


def test_yaml_limits_leave_ordinary_aliases_alone() -> None:
    from kb.parse import yamlguard
    import yaml
    text = "base: &b {batch: 1, precision: fp16}\nrun1: {<<: *b, batch: 4}\nrun2: *b\n"
    assert yamlguard.load(text, yaml.SafeLoader) == yaml.load(text, Loader=yaml.SafeLoader)


# -- note files ---------------------------------------------------------------------------------
def test_non_utf8_note(proj: Path) -> None:
    path = write_note(proj, "x.latin", "Line one.\nLine two.\n")
    path.write_bytes(path.read_bytes() + b"caf\xe9 au lait\n")
    r = run_kb("check", cwd=proj, timeout=GUARD_S)
    assert r.returncode == 1
    assert lines_of(r) == [f"notes/x.latin.md:{BODY + 2}:4: error: the note is not UTF-8 (byte 0xE9 on line "
                           f"{BODY + 2}): save it as UTF-8 (each bad byte shows as \N{REPLACEMENT CHARACTER} until "
                           "then) [encoding]"]
    b = mkdocs(proj)
    assert b.returncode == 0 and "Traceback" not in b.stderr, b.stderr
    assert "[encoding]" in b.stderr
    page = (proj / "site" / "x" / "latin" / "index.html").read_text(encoding="utf-8")
    assert "caf\N{REPLACEMENT CHARACTER} au lait" in page and "Line two." in page
    assert mkdocs(proj, "--strict").returncode == 1
    assert path.read_bytes().endswith(b"caf\xe9 au lait\n")       # nothing written back


def test_non_utf8_page_in_a_subfolder(proj: Path) -> None:
    """A Markdown page beside the notes (in a subfolder: MkDocs builds it as a plain page)."""
    (proj / "notes" / "extra").mkdir()
    (proj / "notes" / "extra" / "page.md").write_bytes(b"# Extra\n\nSub caf\xe9 page.\n")
    b = mkdocs(proj)
    assert b.returncode == 0 and "Traceback" not in b.stderr, b.stderr
    assert "notes/extra/page.md:3:8: error: the note is not UTF-8 (byte 0xE9 on line 3)" in b.stderr
    page = (proj / "site" / "extra" / "page" / "index.html").read_text(encoding="utf-8")
    assert "Sub caf\N{REPLACEMENT CHARACTER} page." in page
    assert mkdocs(proj, "--strict").returncode == 1


def test_broken_frontmatter(proj: Path) -> None:
    (proj / "notes" / "x.yaml.md").write_text("---\nid: y1\ntitle: <b>Bold</b>: [unclosed\n---\n\nBody.\n",
                                              encoding="utf-8")
    (proj / "notes" / "x.cut.md").write_text("---\nid: c1\ntitle: Cut sh", encoding="utf-8")
    r = run_kb("check", cwd=proj, timeout=GUARD_S)
    out = lines_of(r)
    yaml_line = next(ln for ln in out if ln.startswith("notes/x.yaml.md:"))
    assert yaml_line.startswith("notes/x.yaml.md:3:1: warning: frontmatter is not valid YAML (")
    assert yaml_line.endswith("); fix the YAML between the '---' lines [frontmatter]")
    assert ("notes/x.cut.md:1:1: warning: frontmatter has no closing '---' line: end the frontmatter with a line "
            "of three dashes (until then the whole file shows as text) [frontmatter]") in out
    assert not any("[missing-id]" in ln for ln in out), out      # the id is there, the YAML is not
    b = mkdocs(proj)
    assert b.returncode == 0 and "Traceback" not in b.stderr, b.stderr
    assert yaml_line in b.stderr
    page = (proj / "site" / "x" / "yaml" / "index.html").read_text(encoding="utf-8")
    assert "This note has problems" in page and html.escape(yaml_line) in page
    assert page.index("frontmatter is not valid YAML") < page.index("Body.") and "<b>Bold" not in page
    page = (proj / "site" / "x" / "cut" / "index.html").read_text(encoding="utf-8")
    assert "frontmatter has no closing" in page and "Cut sh" in page
    assert mkdocs(proj, "--strict").returncode == 1


def test_symlink_loop_to_a_note(proj: Path) -> None:
    os.symlink("x.self.md", proj / "notes" / "x.self.md")
    r = run_kb("check", cwd=proj, timeout=GUARD_S)
    assert r.returncode == 1
    assert lines_of(r) == ["notes/x.self.md:1:0: error: the note is a symbolic link that loops back on itself: "
                           "point it at a real file or remove it [unreadable]"]
    b = mkdocs(proj)
    assert b.returncode == 0 and "Traceback" not in b.stderr, b.stderr
    page = (proj / "site" / "x" / "self" / "index.html").read_text(encoding="utf-8")
    assert "This note could not be shown." in page and "loops back on itself" in page
    assert (proj / "site" / "hardware" / "gpu" / "index.html").is_file()     # the rest of the site


def test_symlink_loop_to_a_folder(proj: Path) -> None:
    os.symlink("..", proj / "notes" / "up")
    r = run_kb("check", cwd=proj, timeout=GUARD_S)
    assert r.returncode == 1
    message = ("notes/up:0:0: error: notes/up is a symbolic link to a folder that holds it (..): the site build "
               "would walk it forever; remove the link [link-loop]")
    assert lines_of(r) == [message]
    b = mkdocs(proj)
    assert b.returncode == 1 and "Traceback" not in b.stderr, b.stderr
    assert message in b.stderr


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_note(proj: Path) -> None:
    path = write_note(proj, "x.locked", "Secret.\n")
    path.chmod(0)
    try:
        r = run_kb("check", cwd=proj, timeout=GUARD_S)
        assert r.returncode == 1
        assert lines_of(r) == ["notes/x.locked.md:1:0: error: the note cannot be read (permission denied): "
                               "make it readable, e.g. chmod u+r [unreadable]"]
        b = mkdocs(proj)
        assert b.returncode == 0 and "Traceback" not in b.stderr, b.stderr
    finally:
        path.chmod(0o644)


def test_note_over_the_size_limit(proj: Path) -> None:
    from kb.parse.noteread import NOTE_MAX_BYTES
    path = write_note(proj, "x.huge", "A line of prose with [[hardware.gpu]].\n" * (NOTE_MAX_BYTES // 38 + 10))
    r = run_kb("check", cwd=proj, timeout=GUARD_S)
    assert r.returncode == 1
    size = path.stat().st_size / 2**20
    assert lines_of(r) == [f"notes/x.huge.md:1:0: error: the note is {size:.1f} MB, over the "
                           f"{NOTE_MAX_BYTES >> 20} MB limit: split it into smaller notes [too-large]"]
    b = mkdocs(proj)
    assert b.returncode == 0 and "Traceback" not in b.stderr, b.stderr
    page = (proj / "site" / "x" / "huge" / "index.html").read_text(encoding="utf-8")
    assert "This note could not be shown." in page and "A line of prose" not in page


def test_pathological_line(proj: Path) -> None:
    write_note(proj, "x.brackets", "Before the line.\n\n" + "[[" * 100_000 + "\n\nAfter the line.\n")
    r = run_kb("check", cwd=proj, timeout=GUARD_S)
    assert r.returncode == 1
    message = (f"notes/x.brackets.md:{BODY + 2}:1: error: this line holds 200,000 unclosed '[': Markdown would take "
               "minutes over it, so the page shows an error in its place; break the line up, close the brackets, "
               "or put it in a code block [pathological-line]")
    assert lines_of(r) == [message]
    b = mkdocs(proj)
    assert b.returncode == 0 and message in b.stderr, b.stderr
    page = (proj / "site" / "x" / "brackets" / "index.html").read_text(encoding="utf-8")
    assert "A line of this note could not be shown:" in page
    assert "Before the line." in page and "After the line." in page and "[[[[" not in page
    assert (proj / "site" / "hardware" / "gpu" / "index.html").is_file()


def test_pathological_line_in_code_is_left_alone(proj: Path) -> None:
    write_note(proj, "x.code", "```text\n" + "[" * 5000 + "\n```\n")
    r = run_kb("check", cwd=proj, timeout=GUARD_S)
    assert r.returncode == 0, r.stdout


# -- CSV ----------------------------------------------------------------------------------------
def test_missing_value_spellings_keep_a_column_numeric(proj: Path) -> None:
    (proj / "data" / "gaps.csv").write_text("Model,Score,Name\na,1.5,NA\nb,NaN,Bob\nc,N/A,null\nd,-,x\ne,,y\nf,12,z\n",
                                            encoding="utf-8")
    write_note(proj, "x.gaps", "```table\nsource: gaps.csv\nwhere: Score > 1\nderive:\n  Double: Score * 2\n"
               "sort: [-Score]\n```\n\n```table\nsource: gaps.csv\ncolumns: [Model, Score, Name]\n```\n")
    r = run_kb("check", cwd=proj, timeout=GUARD_S)
    assert r.returncode == 0, r.stdout + r.stderr
    b = mkdocs(proj, "--strict")
    assert b.returncode == 0, b.stderr
    page = (proj / "site" / "x" / "gaps" / "index.html").read_text(encoding="utf-8")
    first, second = page.split("<table")[1:3]
    assert ">24<" in first and ">3<" in first and ">NaN<" not in first     # numbers: filtered and doubled
    cells = second.count("\N{EM DASH}")
    assert cells == 4 and "N/A" not in second and ">NA<" in second and ">null<" in second   # text stays text
