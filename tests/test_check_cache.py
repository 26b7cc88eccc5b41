"""`kb check` keeps note summaries and embed and data results in .kb-cache/notes/: a run that
reuses them reports exactly what a run without them does, and every change that matters
(a note, a note it embeds, a new note, a CSV) is seen."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from test_cli_support import ROOT, lines_of, make_vault, run_kb, write_note

from kb.parse.notecache import CACHE_DIR
from kb.parse.vault import Note, parse_note

BODY = 9        # first body line of a note written by write_note


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    return make_vault(tmp_path)


def check(proj: Path, *args: str):
    return run_kb("check", *args, cwd=proj)


def age(proj: Path, seconds: float = 60, *only: Path) -> None:
    """Notes and data (or `only` these files) last changed a minute ago: old enough for the cache
    to keep them (new ones are re-read until a save finds them two seconds old, as git does)."""
    then = time.time() - seconds
    for path in only or [p for folder in ("notes", "data") for p in (proj / folder).rglob("*")]:
        os.utime(path, (then, then))


def cached_notes(proj: Path) -> dict[str, list]:
    out: dict[str, list] = {}
    for shard in (proj / CACHE_DIR).glob("notes-*.json"):
        out.update(json.loads(shard.read_text(encoding="utf-8"))["notes"])
    return out


def warm(proj: Path, *args: str):
    """Fill the cache, then run again from it; both runs must agree."""
    first = check(proj, *args)
    second = check(proj, *args)
    assert (first.returncode, first.stdout) == (second.returncode, second.stdout)
    return second


@pytest.mark.parametrize("value", ["123456789012345678901234567890", ".inf", "!!set {a, b}", "!!binary aGk=",
                                   "{1: one}"])
def test_frontmatter_json_cannot_hold_is_parsed_every_run(proj: Path, value: str) -> None:
    """Values JSON (as the cache writes it) would change: the note is not kept, and is checked
    alike from a warm run."""
    (proj / "notes" / "odd.md").write_text(f"---\nid: odd\ntitle: Odd\nodd: {value}\n---\n\n"
                                           "See [[hardware.gpu.t5]].\n", encoding="utf-8")
    age(proj)
    cold = check(proj, "--no-cache", "--format", "json")
    hot = warm(proj, "--format", "json")
    assert hot.stdout == cold.stdout and '"path": "notes/odd.md"' in hot.stdout
    kept = cached_notes(proj)
    assert "notes/hardware.gpu.md" in kept and "notes/odd.md" not in kept


def test_a_warm_run_reports_what_a_run_without_cache_reports(proj: Path) -> None:
    write_note(proj, "x.links", "See [[hardware.gpu.t5]] and [[hardware.gpu#memmory]].\n"
                                "Block [[hardware.gpu#^nope]] and {{fm.nothing}}.\n"
                                "Again [[hardware.gpu.t5]].\n")
    write_note(proj, "x.embeds", "![[hardware.gpu#nope]]\n\n![[x.loop]]\n\n ![[hardware.gpu#nope]]\n")
    write_note(proj, "x.loop", "![[x.embeds]]\n")
    write_note(proj, "x.table", "```table\nsource: bench.csv\ncolumns: [GPU, Thruput]\n```\n")
    (proj / "notes" / "nofm.md").write_text("Plain.\n", encoding="utf-8")
    age(proj)
    cold = check(proj, "--no-cache", "--format", "json")
    assert not (proj / CACHE_DIR).exists()          # --no-cache writes nothing
    hot = warm(proj, "--format", "json")
    assert cached_notes(proj).keys() >= {"notes/x.links.md", "notes/hardware.gpu.md"}
    assert hot.returncode == cold.returncode == 1
    assert hot.stdout == cold.stdout
    found = json.loads(hot.stdout)
    codes = {d["code"] for d in found}
    assert {"broken-link", "broken-anchor", "broken-block", "broken-embed", "embed-cycle",
            "data-unknown-column", "frontmatter"} <= codes, codes
    # The cache keeps no positions: a problem is placed where each of its links stands.
    places = lambda path, text: [(d["line"], d["col"]) for d in found  # noqa: E731
                                 if d["path"] == path and text in d["message"]]
    (line, col), (again, col2) = places("notes/x.links.md", '"hardware.gpu.t5"')
    assert (again - line, col, col2) == (2, 5, 7)
    (line, col), (again, col2) = places("notes/x.embeds.md", '"nope"')
    assert (again - line, col, col2) == (4, 1, 2)


def poison(proj: Path, rel: str, old: str, new: str) -> None:
    """Change what the cache says a note holds (its file stays as it is): a run that reports the
    change used the summary instead of reading the note."""
    for shard in (proj / CACHE_DIR).glob("notes-*.json"):
        content = json.loads(shard.read_text(encoding="utf-8"))
        if rel in content["notes"]:
            entry = content["notes"][rel]
            entry[-1] = json.loads(json.dumps(entry[-1]).replace(old, new))
            shard.write_text(json.dumps(content), encoding="utf-8")


def test_the_cache_is_used_for_notes_whose_size_and_time_are_unchanged(proj: Path) -> None:
    """What the cache is for: an unchanged stat means the note is not read again. (Like git, an
    edit that keeps both is not seen; the two-second rule below keeps that from happening in
    practice.)"""
    path = write_note(proj, "x.links", "See [[hardware.gpu.t4]].\n")
    age(proj)
    assert warm(proj).returncode == 0
    st = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("gpu.t4", "gpu.t9"), encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert check(proj).returncode == 0                  # from the summary
    r = check(proj, "--no-cache")
    assert r.returncode == 1 and 'no note named "hardware.gpu.t9"' in r.stdout


def test_a_first_run_keys_each_note_by_its_size_and_time(proj: Path) -> None:
    """Notes the cache never held are keyed by the read that parsed them (no stat first):
    the keys are the files' own, so the next run reads none of them."""
    age(proj)
    assert check(proj).returncode == 0
    kept = cached_notes(proj)
    notes = sorted((proj / "notes").glob("*.md"))
    assert len(kept) == len(notes)
    for path in notes:
        st = path.stat()
        assert kept[f"notes/{path.name}"][:2] == [st.st_mtime_ns, st.st_size], path.name


def test_after_a_checkout_notes_with_the_same_content_come_from_the_cache(proj: Path) -> None:
    """A clone, a checkout or a cache restored in CI gives every file a new time: a note whose
    content hash is unchanged is still not parsed again, and one whose content changed is."""
    path = write_note(proj, "x.links", "See [[hardware.gpu.t4]].\n")
    other = write_note(proj, "x.other", "See [[hardware.gpu.t4]].\n")
    age(proj)
    assert warm(proj).returncode == 0
    poison(proj, "notes/x.links.md", "hardware.gpu.t4", "hardware.gpu.t8")
    poison(proj, "notes/x.other.md", "hardware.gpu.t4", "hardware.gpu.t8")
    other.write_text(other.read_text(encoding="utf-8").replace("gpu.t4", "gpu.t6"), encoding="utf-8")
    age(proj, 30)                                       # every file has a new time
    r = check(proj)
    assert r.returncode == 1
    links, other_line = lines_of(r)                     # x.links from its summary, x.other read again
    assert links.startswith("notes/x.links.md:") and 'no note named "hardware.gpu.t8"' in links
    assert other_line.startswith("notes/x.other.md:") and 'no note named "hardware.gpu.t6"' in other_line
    assert cached_notes(proj)["notes/x.links.md"][0] == path.stat().st_mtime_ns   # kept under its new time


def test_a_note_changed_within_two_seconds_is_checked_by_content(proj: Path) -> None:
    """The racy case: a note saved right after an edit is kept without its time, or an edit in the
    same clock tick that keeps the size would be missed; its content hash decides."""
    path = write_note(proj, "x.links", "See [[hardware.gpu.t4]].\n")
    assert check(proj).returncode == 0
    assert cached_notes(proj)["notes/x.links.md"][0] == -1
    st = path.stat()
    path.write_text(path.read_text(encoding="utf-8").replace("gpu.t4", "gpu.t9"), encoding="utf-8")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    r = check(proj)
    assert r.returncode == 1 and 'no note named "hardware.gpu.t9"' in r.stdout


def test_editing_a_note_is_seen(proj: Path) -> None:
    path = write_note(proj, "x.links", "See [[hardware.gpu.t4]].\n")
    age(proj)
    assert warm(proj).returncode == 0
    path.write_text(path.read_text(encoding="utf-8") + "And [[hardware.gpu#memmory]].\n", encoding="utf-8")
    r = check(proj)
    assert r.returncode == 1
    (line,) = lines_of(r)
    assert line.startswith(f"notes/x.links.md:{BODY + 1}:5: error: ") and line.endswith("[broken-anchor]")


@pytest.mark.parametrize("host, user, where, code", [
    # the anchors of a page with embeds are kept with the notes the expansion read
    ("Intro.\n\n![[t.part]]\n", "See [[t.host#deep-heading]].\n", f"notes/t.user.md:{BODY}:5:", "broken-anchor"),
    # and so is what is wrong with an embed
    ("Intro.\n\n![[t.part#deep-heading]]\n", "Nothing.\n", f"notes/t.host.md:{BODY + 2}:1:", "broken-embed"),
], ids=["links-to-the-embedding-page", "the-embed-itself"])
def test_a_heading_gone_from_an_embedded_note_is_seen(proj: Path, host: str, user: str, where: str, code: str) -> None:
    """Only the embedded note changes: what was kept for the page that embeds it must go."""
    write_note(proj, "t.host", host)
    part = write_note(proj, "t.part", "## Deep Heading\n\nText.\n")
    write_note(proj, "t.user", user)
    age(proj)
    assert warm(proj).returncode == 0
    part.write_text(part.read_text(encoding="utf-8").replace("Deep Heading", "Other Heading"), encoding="utf-8")
    r = check(proj)
    assert r.returncode == 1
    (line,) = lines_of(r)
    assert line.startswith(f"{where} error: ") and line.endswith(f"[{code}]")


def test_a_new_note_mends_links_and_wildcard_embeds(proj: Path) -> None:
    write_note(proj, "x.links", "See [[x.later]].\n")
    write_note(proj, "w.host", "![[w.kids.*]]\n")
    write_note(proj, "w.kids.one", "## One\n")
    write_note(proj, "x.user", "See [[w.host#two]].\n")
    age(proj)
    r = warm(proj)
    assert 'no note named "x.later"' in r.stdout and 'no heading "two" in "w.host"' in r.stdout
    write_note(proj, "x.later", "Here.\n")
    write_note(proj, "w.kids.two", "## Two\n")
    r = check(proj)
    assert r.returncode == 0, r.stdout


def test_a_new_note_changes_how_an_embed_reads(proj: Path) -> None:
    """`![[t.a|t.b]]` embeds t.a while only t.a exists (Obsidian's order), t.b once it does
    (Dendron's): no note the embed read has changed, yet the page has."""
    write_note(proj, "t.host", "![[t.a|t.b]]\n")
    write_note(proj, "t.a", "## Alpha\n")
    write_note(proj, "t.user", "See [[t.host#beta]].\n")
    age(proj)
    assert 'no heading "beta" in "t.host"' in warm(proj).stdout
    age(proj, 30, write_note(proj, "t.b", "## Beta\n"))      # every other file as the cache saw it
    r = check(proj)
    assert r.returncode == 0, r.stdout


def test_a_changed_csv_is_checked_again(proj: Path) -> None:
    write_note(proj, "x.table", "```table\nsource: bench.csv\ncolumns: [GPU, Throughput]\n```\n")
    age(proj)
    assert warm(proj).returncode == 0
    csv = proj / "data" / "bench.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace("Throughput", "Thruput"), encoding="utf-8")
    age(proj, 30, csv)      # an old file again, but not the one the cache saw
    r = check(proj)
    assert r.returncode == 1
    mine = [ln for ln in lines_of(r) if ln.startswith("notes/x.table.md:")]
    assert len(mine) == 1 and mine[0].startswith(f"notes/x.table.md:{BODY + 2}:") and "Throughput" in mine[0]


def test_after_a_checkout_the_anchors_of_expanded_pages_come_from_the_cache(proj: Path) -> None:
    """The anchors of a page with embeds are kept with the content hashes of the notes it read."""
    write_note(proj, "t.host", "Intro.\n\n![[t.part]]\n")
    write_note(proj, "t.part", "## Deep Heading\n\nText.\n")
    write_note(proj, "t.user", "See [[t.host#deep-heading]].\n")
    age(proj)
    assert warm(proj).returncode == 0
    shared = proj / CACHE_DIR / "shared.json"
    content = json.loads(shared.read_text(encoding="utf-8"))
    heads, blocks = content["derived"]["anchors:t.host"][-1]
    assert heads == [[2, "Deep Heading", "deep-heading", 3]]
    content["derived"]["anchors:t.host"][-1] = [[[2, "Kept Heading", "kept-heading", 3]], blocks]
    shared.write_text(json.dumps(content), encoding="utf-8")
    age(proj, 30)
    r = check(proj)
    assert r.returncode == 1 and 'no heading "deep-heading" in "t.host"' in r.stdout


def test_after_a_checkout_data_results_come_from_the_cache(proj: Path) -> None:
    """Data problems are kept with the content of data/: new file times alone change nothing."""
    write_note(proj, "x.table", "```table\nsource: bench.csv\ncolumns: [GPU, Thruput]\n```\n")
    age(proj)
    assert "Thruput" in warm(proj).stdout
    shared = proj / CACHE_DIR / "shared.json"
    said = "unknown column 'Thruput'"           # the kept message (the block text is the key)
    shared.write_text(shared.read_text(encoding="utf-8").replace(said, "Poisoned"), encoding="utf-8")
    age(proj, 30)
    r = check(proj)
    assert r.returncode == 1 and "Poisoned" in r.stdout and said not in r.stdout
    csv = proj / "data" / "bench.csv"
    csv.write_text(csv.read_text(encoding="utf-8") + "\n", encoding="utf-8")    # new content: checked again
    age(proj, 20, csv)
    r = check(proj)
    assert r.returncode == 1 and said in r.stdout and "Poisoned" not in r.stdout


def test_a_damaged_or_foreign_cache_is_ignored(proj: Path) -> None:
    write_note(proj, "x.links", "See [[hardware.gpu.t5]].\n")
    age(proj)
    expected = check(proj, "--no-cache").stdout
    assert warm(proj).stdout == expected
    shards = sorted((proj / CACHE_DIR).glob("*.json"))
    assert shards
    for i, shard in enumerate(shards):     # half garbage, half from "another version" of kb
        shard.write_text("{not json" if i % 2 else json.dumps({"version": "other", "notes": {}}), encoding="utf-8")
    r = check(proj)
    assert r.returncode == 1 and r.stdout == expected
    assert json.loads(shards[0].read_text(encoding="utf-8"))["version"] != "other"   # rewritten


SAMPLES = [ROOT / "notes", ROOT / "tests" / "fixtures" / "cli" / "vault" / "notes",
           ROOT.parent / "shared" / "corpora" / "dendron-site" / "vault"]


def test_notes_parsed_in_worker_processes_are_the_notes_parsed_here(tmp_path: Path, monkeypatch) -> None:
    """The first run parses in several processes: the notes it gets back are the same. Without
    the cache (`--no-cache`) they are too, and no content hash is computed: only the cache uses it."""
    import kb.parse.vault
    from kb.parse.notecache import NoteCache
    from kb.parse.vault import Vault
    monkeypatch.setattr(kb.parse.vault, "PARALLEL_MIN", 1)
    serial = Vault(ROOT / "notes", ROOT)
    parallel = Vault(ROOT / "notes", ROOT, NoteCache(tmp_path), jobs=2)
    uncached = Vault(ROOT / "notes", ROOT, None, jobs=2)
    assert list(parallel.notes) == list(uncached.notes) == list(serial.notes) and len(serial.notes) > 10
    for fname, note in serial.notes.items():
        other = parallel.notes[fname]
        assert (other.fm, other.refs, other.tokens, other.headings, other.blocks, other.problems, other.digest) == \
            (note.fm, note.refs, note.tokens, note.headings, note.blocks, note.problems, note.digest), fname
        assert note.digest is not None
        bare = uncached.notes[fname]
        assert (bare.fm, bare.refs, bare.tokens, bare.headings, bare.blocks, bare.problems, bare.digest) == \
            (note.fm, note.refs, note.tokens, note.headings, note.blocks, note.problems, None), fname


@pytest.mark.parametrize("folder", [p for p in SAMPLES if p.is_dir()], ids=lambda p: p.parent.name)
def test_a_note_from_its_summary_is_the_parsed_note(folder: Path) -> None:
    """Everything checking reads from a note is the same whether parsed or rebuilt from JSON."""
    for path in sorted(folder.glob("*.md")):
        parsed = parse_note(path, path.name, path.read_text(encoding="utf-8"))
        summary = json.loads(json.dumps(parsed.summary()))
        if summary[0] != parsed.fm:
            continue              # frontmatter JSON cannot hold: never cached (NoteCache.put)
        cached = Note.from_summary(path, path.name, summary)
        for attr in ("fname", "fm", "body_line", "has_frontmatter", "problems", "refs", "tokens", "headings", "blocks",
                     "data_fences", "has_fmvars", "has_embed_syntax", "has_md_links", "title", "id", "published"):
            got = getattr(cached, attr)
            if attr == "refs":      # lists when read from JSON, as they are used: unpacked
                got = [tuple(r) for r in got]
            assert got == getattr(parsed, attr), (path.name, attr)
        assert cached.body == parsed.body and cached.text == parsed.text     # read on demand
