"""The link graph as plain data: what each page read, linked and drew, without MkDocs; and a
build that neither imports nor forks the checker's data checks."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from kb.site import Site
from kb.link.linkgraph import LinkGraph, block_sources
from kb.parse.names import name_key
from kb.parse.vault import Vault


def _vault(tmp_path: Path, notes: dict[str, str]) -> Path:
    (tmp_path / "notes").mkdir()
    for fname, body in notes.items():
        (tmp_path / "notes" / f"{fname}.md").write_text(f"---\nid: {fname.replace('.', '')}\ntitle: {fname}\n---\n{body}")
    return tmp_path


NOTES = {
    "root": "Home.\n",
    "a": "## Part\n\nSee [[b]] and [[b#part]] and [[gone]] and [[c|text]].\n\n![[b#part]]\n",
    "b": "## Part\n\nB's part, with [[c]].\n\n![[hw.*]]\n",
    "c": "C.\n",
    "hw.one": "One.\n",
    "hw.two": "Two.\n",
}


def test_what_each_page_read_and_links(tmp_path: Path) -> None:
    site = Site(_vault(tmp_path, NOTES))
    g = site.graph
    # a embeds b's section, which embeds hw's children: nested reads are a's too
    assert set(g.reads_of["a"].notes) == {"b", "hw", "hw.one", "hw.two"} and set(g.reads_of["a"].children) == {"hw"}
    assert g.reads_of["b"].keys() == {"*hw", name_key("hw"), name_key("hw.one"), name_key("hw.two")}
    assert "c" not in g.reads_of                                # nothing to expand
    assert g.backlinks_of["a"] == {"b", "c"}                    # [[c|text]]: c, as only c exists
    assert g.backlinks["c"] == {"a", "b"} and g.backlinks["hw"] == {"b"}
    # Names a's links may mean, broken ones too (a note named so would mend them), not its own
    assert g.names_linked("a") == {"b", "c", "text", "gone"}
    assert g.names_linked("root") == set()


def test_unlink_and_unprepare_give_back_what_they_linked(tmp_path: Path) -> None:
    g = Site(_vault(tmp_path, NOTES)).graph
    assert g.unlink("a") == {"b", "c"} and "b" not in g.backlinks and g.backlinks["c"] == {"b"}
    assert g.link(g.vault.notes["a"]) == {"b", "c"} and g.backlinks["b"] == {"a"}
    assert g.unprepare("c") == set() and "c" not in g.prepared


def test_csvs_a_block_reads(tmp_path: Path) -> None:
    assert block_sources("source: x.csv\nmerge:\n  - source: sub/y.csv\n") == {"x.csv", "sub/y.csv"}
    assert block_sources("source: [not: closed") == set()
    _vault(tmp_path, {"t": "```table\nsource: x.csv\n```\n"})
    g = LinkGraph(Vault(tmp_path / "notes", tmp_path))
    assert g.csvs_read("t") == {"x.csv"} and g.csvs_read("nothing") == set()


def test_a_build_leaves_the_data_checks_to_kb_check(tmp_path: Path) -> None:
    _vault(tmp_path, NOTES)
    code = textwrap.dedent(f"""
        import sys
        from kb.site import Site
        Site({str(tmp_path)!r})
        assert "kb.check.datacheck" not in sys.modules, "the build imported the data check"
        Site({str(tmp_path)!r}, render_pages=False)
        assert "kb.check.datacheck" in sys.modules
    """)
    subprocess.run([sys.executable, "-c", code], check=True)
