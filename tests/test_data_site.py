"""A broken data block in a real site: the build goes on (error shown in place of the
table, a warning naming the note and line), --strict fails, and `mkdocs serve` keeps
serving and picks up the fix on the next rebuild."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CONFIG = f"""site_name: Data site
docs_dir: notes
theme:
  name: material
  custom_dir: {ROOT / 'overrides'}
hooks:
  - {ROOT / 'hooks' / 'kb_hook.py'}
markdown_extensions: [attr_list, md_in_html, tables, {{toc: {{permalink: true}}}}]
"""

CSV = "Model,Batch Size,Throughput (/sec)\nbert,1,100\nbert,8,900\n<script>alert(1)</script>,4,50\n"

GOOD = "```table\nsource: perf.csv\nsort: [-Throughput (/sec)]\n```\n"
BROKEN = "```table\nsource: perf.csv\ncolumns: [Model, Throughput]\n```\n"


def note(title: str, body: str) -> str:
    return f"---\nid: {title.lower()}\ntitle: {title}\n---\n\nIntro line.\n\n{body}"


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / "notes").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "mkdocs.yml").write_text(CONFIG)
    (tmp_path / "data" / "perf.csv").write_text(CSV)
    (tmp_path / "notes" / "root.md").write_text(note("Home", "See [[good]] and [[broken]].\n"))
    (tmp_path / "notes" / "good.md").write_text(note("Good", GOOD))
    (tmp_path / "notes" / "broken.md").write_text(note("Broken", BROKEN))
    (tmp_path / "notes" / "models.bert.md").write_text(note("BERT", "The model. See [[good]] and [[root]].\n"))
    (tmp_path / "data" / "links.yml").write_text("Model:\n  bert: models.bert\n")
    return tmp_path


def build(project: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "-d", "site", *extra], cwd=project,
                          env=env, capture_output=True, text=True, timeout=300)


def test_broken_block_does_not_stop_the_build(project: Path) -> None:
    proc = build(project)
    assert proc.returncode == 0, proc.stderr
    # The warning names the note, the line of the bad key, and the known columns.
    assert "notes/broken.md:10:" in proc.stderr and "Throughput" in proc.stderr, proc.stderr
    broken = (project / "site" / "broken" / "index.html").read_text()
    assert "kb-data-error" in broken and "Throughput (/sec)" in broken
    good = (project / "site" / "good" / "index.html").read_text()
    assert "<table" in good and "kb-data-error" not in good
    # Every cell is escaped.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in good and "<script>alert(1)" not in good


def test_strict_build_fails_on_a_broken_block(project: Path) -> None:
    proc = build(project, "--strict")
    assert proc.returncode != 0
    assert "notes/broken.md:10:" in proc.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def _wait_for(url: str, predicate, timeout: float = 120.0) -> str:
    deadline, last = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        try:
            last = _get(url)
            if predicate(last):
                return last
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} never matched; last page:\n{last[:2000]}")


def test_serve_shows_the_error_and_picks_up_the_fix(project: Path) -> None:
    port = _free_port()
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", "--livereload", "-a", f"127.0.0.1:{port}"],
                            cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        page = _wait_for(f"{base}/broken/", lambda t: "kb-data-error" in t)
        assert "Throughput (/sec)" in page                      # the message lists the known columns
        assert "<table" in _get(f"{base}/good/")                # the rest of the site is served
        (project / "notes" / "broken.md").write_text(note("Broken", GOOD))
        fixed = _wait_for(f"{base}/broken/", lambda t: "kb-data-error" not in t and "<table" in t)
        assert "900" in fixed
        assert proc.poll() is None                              # still serving
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_cells_link_to_notes_and_notes_list_the_pages_showing_them(project: Path) -> None:
    assert build(project).returncode == 0
    good = (project / "site" / "good" / "index.html").read_text()
    # A cell in a links.yml column links to its note (relative to this page)...
    assert '<a href="../models/bert/">bert</a>' in good
    # ...and the note lists, under "In the data", the pages whose tables show rows about it.
    bert = (project / "site" / "models" / "bert" / "index.html").read_text()
    section = bert.split('id="kb-in-the-data"', 1)[1]
    assert '<a href="../../good/">Good</a>' in section.split("</ul>", 1)[0]
    # The <script> model has no note: its cell is plain, escaped text.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</td>" in good


def test_links_yml_naming_a_missing_note_fails_the_strict_build(project: Path) -> None:
    (project / "data" / "links.yml").write_text("Model:\n  bert: models.bertt\n")
    proc = build(project, "--strict")
    assert proc.returncode != 0
    assert "data/links.yml:2:" in proc.stderr and "models.bertt" in proc.stderr


def test_a_block_repeated_on_several_pages(project: Path) -> None:
    """The same block text on two pages: evaluated once per build, yet each page gets its own
    table (own id) and a mistake in it is reported at each note's own line."""
    (project / "notes" / "again.md").write_text(note("Again", "More words.\n\n" + GOOD))
    bad_format = "```table\nsource: perf.csv\nformat: {Model: '{:.2f}'}\n```\n"
    (project / "notes" / "fmt.one.md").write_text(note("One", bad_format))
    (project / "notes" / "fmt.two.md").write_text(note("Two", "A\n\nB\n\n" + bad_format))
    proc = build(project)
    assert proc.returncode == 0, proc.stderr
    good = (project / "site" / "good" / "index.html").read_text()
    again = (project / "site" / "again" / "index.html").read_text()
    for page, bid in ((good, "table-good-1"), (again, "table-again-1")):
        assert f'id="{bid}"' in page and 'data-sort-value="900.0">900</td>' in page
    # The 'format' line: line 10 of fmt.one (4 of frontmatter, blank, intro, blank, fence, source)...
    assert "notes/fmt.one.md:10:17: error: table: format:" in proc.stderr, proc.stderr
    # ...and 4 lines further down in fmt.two, not where the first copy was.
    assert "notes/fmt.two.md:14:17: error: table: format:" in proc.stderr, proc.stderr


def test_pandas_is_imported_only_where_data_is_used(tmp_path: Path) -> None:
    """A vault with no data block and nothing in data/ builds without the data engine (pandas
    alone is tens of MB); a block that comes later (a kb serve save) still gets it."""
    (tmp_path / "notes").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "notes" / "root.md").write_text(note("Home", "Words.\n"))
    block_note = note("T", "```table\nsource: perf.csv\n```\n")
    code = textwrap.dedent(f"""
        import sys
        from kb.site import Site
        from kb.parse.vault import parse_note
        site = Site({str(tmp_path)!r})
        assert "pandas" not in sys.modules and site.data is None
        site.prep.doc(parse_note({str(tmp_path / "notes" / "t.md")!r}, "notes/t.md", {block_note!r}))
        (block,) = site.prep.blocks.values()
        assert site.data is not None and "perf.csv" in block.html and "not available" not in block.html, block.html
    """)
    subprocess.run([sys.executable, "-c", code], check=True)
