"""`kb serve` against clean builds: after random saves of every kind, the pages it serves over
HTTP are the pages a full build of the same vault makes, file by file.

A real `kb serve` process, real file edits (text, links, headings, titles, tags, desc, new,
deleted and renamed notes, CSV and links.yml edits), real HTTP fetches; the reference is the
same first build, run again from scratch on the final vault. Bad saves (a half-written file,
broken YAML, a broken table, bytes that are not UTF-8) are served with the problem shown and
do not stop the server.
"""
from __future__ import annotations

import difflib
import gzip
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORDS = "latency batch kernel tensor cache graph token layer queue model core fuse".split()

MKDOCS_YML = """site_name: Serve test
docs_dir: notes
theme:
  name: material
  custom_dir: {root}/overrides
  features: [navigation.footer]
hooks:
  - {root}/hooks/kb_hook.py
plugins:
  - search
markdown_extensions:
  - attr_list
  - md_in_html
  - tables
  - toc:
      permalink: true
"""


# -- a small vault ---------------------------------------------------------------------------
def _note(rng: random.Random, fname: str, names: list[str], i: int) -> str:
    title = fname.rsplit(".", 1)[-1].capitalize() + f" {i}"
    tags = f"tags: [{rng.choice(WORDS)}]\n" if rng.random() < 0.3 else ""
    order = f"nav_order: {rng.randint(1, 5)}\n" if rng.random() < 0.2 else ""
    lines = ["---", f"id: id{i:03d}", f"title: {title}", f"desc: About {rng.choice(WORDS)} {i}",
             f"updated: {1700000000000 + i}", f"created: {1600000000000 + i}"]
    body = [tags + order + "---", "", f"Intro {rng.choice(WORDS)}. ^intro{i}", ""]
    for k in range(rng.randint(1, 3)):
        body += [f"## Part {k}", "", " ".join(rng.choice(WORDS) for _ in range(8)) + ".", ""]
        other = rng.choice(names)
        body.append(f"See [[{other}]] and [[about it|{other}#part-0]] #{rng.choice(WORDS)}.")
        body.append("")
    r = rng.random()
    if r < 0.15:
        body += [f"![[{rng.choice(names)}#part-0]]", ""]
    elif r < 0.2:
        body += [f"![[{rng.choice(names)}.*]]", ""]
    elif r < 0.35:
        body += ["```table", "source: speed.csv", f"where: Model == \"{rng.choice(['m1', 'm2'])}\"",
                 "columns: [Model, Chip, Speed]", "```", ""]
    elif r < 0.45:      # a second CSV: a save of one leaves the other's tables as they are
        body += ["```table", "source: chips.csv", f"where: Chip != \"{rng.choice(['c1', 'c2'])}\"", "```", ""]
    return "\n".join(lines) + "\n" + "\n".join(body)


def make_vault(root: Path, seed: int = 1, n: int = 40) -> list[str]:
    rng = random.Random(seed)
    names: list[str] = ["root"]
    while len(names) < n:
        depth = rng.randint(1, 3)
        name = ".".join([rng.choice(["alpha", "beta", "gamma"])] + [rng.choice(WORDS) for _ in range(depth - 1)])
        if name not in names:
            names.append(name)
    (root / "notes").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "mkdocs.yml").write_text(MKDOCS_YML.format(root=ROOT))
    for i, fname in enumerate(names):
        (root / "notes" / f"{fname}.md").write_text(_note(rng, fname, names, i))
    (root / "notes" / "root.md").write_text("---\nid: root\ntitle: Home\n---\n\nWelcome. [[alpha]]\n")
    (root / "data" / "speed.csv").write_text("Model,Chip,Speed\nm1,c1,10\nm1,c2,20\nm2,c1,30\n")
    (root / "data" / "chips.csv").write_text("Chip,Vendor\nc1,v1\nc2,v2\nc3,v1\n")
    (root / "data" / "links.yml").write_text(f"Chip:\n  c1: {names[1]}\nVendor:\n  v1: {names[2]}\n")
    return names


# -- the server ------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    def __init__(self, project: Path):
        self.port = _free_port()
        env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
        self.log = open(project / "serve.log", "w")
        self.proc = subprocess.Popen([str(Path(sys.executable).parent / "kb"), "-C", str(project), "serve",
                                      "-a", f"127.0.0.1:{self.port}"],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.base = f"http://127.0.0.1:{self.port}/"
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                self.epoch = int(self.get("livereload/0/0"))
                return
            except (urllib.error.URLError, ConnectionError, ValueError):
                assert self.proc.poll() is None, (project / "serve.log").read_text()
                time.sleep(0.2)
        raise AssertionError("kb serve did not start")

    def get(self, path: str, timeout: float = 70) -> str:
        with urllib.request.urlopen(self.base + path, timeout=timeout) as r:
            return r.read().decode()

    def status(self, path: str) -> int:
        try:
            with urllib.request.urlopen(self.base + path, timeout=30) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def settle(self) -> None:
        """Wait for the update a save started, then until no further one follows."""
        self.epoch = int(self.get(f"livereload/{self.epoch}/1"))
        while True:
            try:
                with urllib.request.urlopen(self.base + f"livereload/{self.epoch}/2", timeout=0.6) as r:
                    self.epoch = int(r.read())
            except (TimeoutError, urllib.error.URLError, socket.timeout):
                return

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    p = tmp_path / "proj"
    p.mkdir()
    return p


# -- comparison ------------------------------------------------------------------------------
URL_RE = re.compile(r"<url>.*?</url>", re.S)
LIVERELOAD_RE = re.compile(r"<script>(?:(?!</script>).)*?livereload(?:(?!</script>).)*</script>", re.S)


def clean_build(project: Path, port: int, out: Path) -> Path:
    """The reference: a full build of the vault as it is now, as `kb serve` makes its first."""
    code = (f"from kb.emit.serve.live import LiveSite; from pathlib import Path; "
            f"LiveSite(Path({str(project / 'mkdocs.yml')!r}), Path({str(out)!r}), 'http://127.0.0.1:{port}/').full_build()")
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return out


def compare(served: Served, ref: Path, gone: set[str]) -> None:
    pages = sorted(p.relative_to(ref).as_posix() for p in ref.rglob("*.html"))
    assert len(pages) > 40
    diffs = []
    for rel in pages:
        url = rel[:-len("index.html")] if rel.endswith("index.html") else rel
        got = LIVERELOAD_RE.sub("", served.get(url))
        want = (ref / rel).read_text()
        if got != want:
            diffs.append(rel)
            if len(diffs) == 1:
                first = "\n".join(list(difflib.unified_diff(want.split("\n"), got.split("\n"), "clean", "served",
                                                             lineterm="", n=1))[:40])
    assert not diffs, f"{len(diffs)} of {len(pages)} pages differ from a clean build: {diffs[:10]}\n{first}"
    for url in sorted(gone):
        if not (ref / url / "index.html").exists():
            assert served.status(url) == 404, f"{url} is still served"
    got_index = json.loads(served.get("search/search_index.json"))
    want_index = json.loads((ref / "search" / "search_index.json").read_text())
    key = lambda d: json.dumps(d, sort_keys=True)      # noqa: E731  (order is free)
    got_docs, want_docs = sorted(map(key, got_index["docs"])), sorted(map(key, want_index["docs"]))
    if got_docs != want_docs:
        first = "\n".join(list(difflib.unified_diff(want_docs, got_docs, "clean", "served", lineterm="", n=0))[:12])
        raise AssertionError(f"the search index differs from a clean build's:\n{first}")
    assert got_index["config"] == want_index["config"]
    # The sitemap (its .gz unpacked: gzip stamps the time), its entries in any order (a page a
    # save added comes last, as in the search index), and the /notes/<id>/ redirects: each id
    # the vault ever had redirects as in the clean build, or is gone.
    with urllib.request.urlopen(served.base + "sitemap.xml.gz", timeout=30) as r:
        got_gz = gzip.decompress(r.read()).decode()
    for got_map in (served.get("sitemap.xml"), got_gz):
        got_urls, want_urls = (sorted(URL_RE.findall(m)) for m in (got_map, (ref / "sitemap.xml").read_text()))
        assert len(want_urls) > 40 and got_urls == want_urls, "\n".join(
            list(difflib.unified_diff(want_urls, got_urls, "clean", "served", lineterm="", n=0))[:12])
        assert URL_RE.sub("", got_map) == URL_RE.sub("", (ref / "sitemap.xml").read_text())
    for nid in [f"id{i:03d}" for i in range(60)] + [f"id{500 + s}" for s in range(40)]:
        if not (ref / "notes" / nid / "index.html").exists():
            assert served.status(f"notes/{nid}/") == 404, f"the redirect notes/{nid}/ is still served"


# -- the edits -------------------------------------------------------------------------------
def _fm_set(text: str, key: str, value: str) -> str:
    head, sep, body = text.partition("\n---\n")
    lines = [ln for ln in head.split("\n") if not ln.startswith(f"{key}:")]
    lines.append(f"{key}: {value}")
    return "\n".join(lines) + sep + body


def random_edit(rng: random.Random, project: Path, step: int) -> tuple[str, set[str]]:
    notes_dir = project / "notes"
    files = sorted(p for p in notes_dir.glob("*.md") if p.name != "root.md")
    names = [p.stem for p in files]
    path = rng.choice(files)
    text = path.read_text()
    kind = rng.choice(["text", "link", "broken-link", "title", "heading", "tags", "desc", "embed", "order",
                       "new", "new-deep", "delete", "rename", "csv", "csv", "table", "links-yml", "unpublish",
                       "exclude"])
    gone: set[str] = set()
    if kind == "text":
        path.write_text(text + f"\nMore {rng.choice(WORDS)} {step}.\n")
    elif kind == "link":
        path.write_text(text + f"\nAlso [[{rng.choice(names)}]].\n")
    elif kind == "broken-link":
        path.write_text(text + f"\nSoon [[alpha.new{step % 3}]] and [[beta.later{step % 4}#part-0]].\n")
    elif kind == "title":
        path.write_text(_fm_set(text, "title", f"Retitled {rng.choice(WORDS)} {step}"))
    elif kind == "heading":
        path.write_text(text.replace("## Part 0", f"## Part {rng.choice(['0', '7', 'x'])}", 1))
    elif kind == "tags":
        path.write_text(_fm_set(text, "tags", f"[{rng.choice(WORDS)}, t{step % 3}]"))
    elif kind == "desc":
        path.write_text(_fm_set(text, "desc", f"Now about {rng.choice(WORDS)}"))
    elif kind == "embed":
        path.write_text(text + f"\n![[{rng.choice(names)}]]\n")
    elif kind == "order":
        path.write_text(_fm_set(text, "nav_order", str(rng.randint(0, 9))))
    elif kind in ("new", "new-deep"):
        base = rng.choice(names) if kind == "new" else f"gamma.deep{step}.mid"
        fname = f"{base}.new{step}" if kind == "new-deep" or rng.random() < 0.5 else f"alpha.new{step % 3}"
        (notes_dir / f"{fname}.md").write_text(_note(rng, fname, names, 500 + step))
    elif kind == "delete":
        path.unlink()
        gone.add(path.stem.replace(".", "/") + "/")
    elif kind == "rename":
        new = notes_dir / f"beta.later{step % 4}.md"
        if new.exists():
            return "", gone     # nothing saved
        os.rename(path, new)
        gone.add(path.stem.replace(".", "/") + "/")
    elif kind == "csv":     # a row more, or the linked cells (names in the search index) changed
        csv = project / "data" / rng.choice(["speed.csv", "chips.csv"])
        if csv.name == "speed.csv":
            csv.write_text(csv.read_text() + f"m{rng.randint(1, 2)},c{rng.randint(1, 3)},{step}\n")
        else:
            rows = [f"c{k},v{rng.randint(1, 3)}" for k in range(1, 4) if rng.random() < 0.7]
            csv.write_text("\n".join(["Chip,Vendor", *rows]) + "\n")
    elif kind == "table":   # a table shows other rows, or goes
        tables = [p for p in files if "```table" in p.read_text()]
        if not tables:
            return "", gone
        path = rng.choice(tables)
        text = path.read_text()
        where = re.search(r'where: .*', text)
        new = rng.choice(['where: Model == "m2"', 'where: Chip == "c2"', 'where: Vendor != "v1"', ""])
        path.write_text(text.replace(where[0], new, 1) if where else text + "\nNo table.\n")
    elif kind == "links-yml":
        vendor = rng.randint(2, 3)
        (project / "data" / "links.yml").write_text(f"Chip:\n  c{rng.randint(1, 3)}: {rng.choice(names)}\n"
                                                    f"Vendor:\n  v1: {names[0]}\n  v{vendor}: {rng.choice(names)}\n")
    elif kind == "unpublish":
        path.write_text(_fm_set(text, "published", rng.choice(["false", "true"])))
    elif kind == "exclude":     # out of the sidebar and of previous/next, or back
        path.write_text(_fm_set(text, "nav_exclude", rng.choice(["true", "false"])))
    return kind, gone


def test_served_pages_equal_a_clean_build_after_random_saves(project: Path, tmp_path: Path) -> None:
    make_vault(project)
    served = Served(project)
    try:
        rng = random.Random(11)
        gone: set[str] = set()
        kinds = []
        for step in range(36):
            kind, g = random_edit(rng, project, step)
            kinds.append(kind)
            gone |= g
            if kind:
                served.settle()
            # Midway too (an error early on is easier to read), and after each CSV or table save:
            # a save of one CSV leaves the other's tables, and the search names they link, as they are.
            if step in (11, 23) or kind in ("csv", "table"):
                compare(served, clean_build(project, served.port, tmp_path / f"ref{step}"), gone)
        compare(served, clean_build(project, served.port, tmp_path / "ref"), gone)
        assert "full rebuild" not in (project / "serve.log").read_text()
    finally:
        served.stop()


def test_bad_saves_show_their_problem_and_the_server_goes_on(project: Path) -> None:
    names = make_vault(project, seed=3, n=12)
    note = project / "notes" / f"{names[2]}.md"
    rel = f"notes/{names[2]}.md"
    url = names[2].replace(".", "/") + "/"
    good = note.read_text()
    served = Served(project)
    try:
        # Half-written: the save stopped inside the frontmatter (no closing '---' yet).
        note.write_text(good[:30])
        served.settle()
        page = served.get(url)
        assert f"{rel}:1:1: warning: frontmatter has no closing" in page, page
        # ... before its first byte (an editor that empties the file first).
        note.write_text("")
        served.settle()
        assert served.status(url) == 200 and "frontmatter has no closing" not in served.get(url)
        # ... inside a wikilink: the text as written, the rest of the page.
        note.write_text(good + "\nSee [[alpha.lat")
        served.settle()
        page = served.get(url)
        assert "See [[alpha.lat" in page and "Intro" in page
        # ... inside a table block: its error in place of the table, at the note's line.
        note.write_text(good + "\n```table\nsource: speed.csv\nwhere: Model ==")
        served.settle()
        page = served.get(url)
        assert "This table cannot be shown" in page and f"{rel}:" in page, page
        # Broken YAML in the frontmatter: the error at the top of the page (the file, the line,
        # the fix, as text), the body after it.
        note.write_text("---\nid: x\ntitle: [<script>alert(1)</script>\n---\n\nBody after bad YAML.\n")
        served.settle()
        page = served.get(url)
        assert "Body after bad YAML." in page
        assert re.search(re.escape(rel) + r":[34]:1: warning: frontmatter is not valid YAML \(.*\); fix the YAML "
                         r"between the &#x27;---&#x27; lines \[frontmatter\]", page), page
        assert page.index("frontmatter is not valid YAML") < page.index("Body after bad YAML.")
        assert "<script>alert" not in page
        # A broken table: its error in place of the table, named with the note and the line.
        note.write_text(good + "\n```table\nsource: nosuch.csv\n```\n")
        served.settle()
        page = served.get(url)
        assert "nosuch.csv" in page and "frontmatter is not valid YAML" not in page
        # Bytes that are not UTF-8: served (with replacement characters and the error), no hang.
        note.write_bytes(b"---\nid: y\ntitle: Latin\n---\n\ncaf\xe9 \xff\xfe end\n")
        served.settle()
        page = served.get(url)
        assert "caf\ufffd" in page and f"{rel}:6:4: error: the note is not UTF-8 (byte 0xE9 on line 6)" in page
        assert served.status("") == 200
        # The next good save recovers.
        note.write_text(good + "\nRecovered fine.\n")
        served.settle()
        page = served.get(url)
        assert "Recovered fine." in page and "nosuch.csv" not in page and "cannot be shown" not in page
        assert "not UTF-8" not in page and "kb-note-problems" not in page
        log = (project / "serve.log").read_text()
        assert "failed" not in log and "Traceback" not in log, log[-2000:]
    finally:
        served.stop()


def test_bad_files_at_the_first_build_are_served_and_recover(project: Path) -> None:
    """A note that is not UTF-8, a Markdown page in a subfolder that is not UTF-8, and a note with
    broken frontmatter, all there before `kb serve` starts: it starts, each page shows its problem,
    and a good save of each recovers."""
    names = make_vault(project, seed=5, n=12)
    latin = project / "notes" / f"{names[3]}.md"
    broken = project / "notes" / f"{names[4]}.md"
    sub = project / "notes" / "extra" / "page.md"
    sub.parent.mkdir()
    good_latin, good_broken = latin.read_text(), broken.read_text()
    latin.write_bytes(good_latin.encode() + b"\nna\xefve caf\xe9\n")
    latin_line = good_latin.count("\n") + 2
    broken.write_text("---\nid: b\ntitle: 'unclosed\n---\n\nBroken body.\n")
    sub.write_bytes(b"# Extra\n\nSub caf\xe9 page.\n")
    served = Served(project)
    try:
        latin_url, broken_url = (n.replace(".", "/") + "/" for n in names[3:5])
        page = served.get(latin_url)
        assert "na\ufffdve caf\ufffd" in page
        assert f"notes/{names[3]}.md:{latin_line}:3: error: the note is not UTF-8" in page
        page = served.get(broken_url)
        assert "Broken body." in page and f"notes/{names[4]}.md:" in page and "frontmatter is not valid YAML" in page
        assert "Sub caf\ufffd page." in served.get("extra/page/")
        log = (project / "serve.log").read_text()
        assert "notes/extra/page.md:3:8: error: the note is not UTF-8" in log, log
        assert "Traceback" not in log, log
        # Good saves recover.
        latin.write_text(good_latin + "\nnaive cafe\n")
        broken.write_text(good_broken + "\nMended body.\n")
        served.settle()
        sub.write_text("# Extra\n\nSub cafe page.\n")
        served.settle()
        page = served.get(latin_url)
        assert "naive cafe" in page and "not UTF-8" not in page
        page = served.get(broken_url)
        assert "Mended body." in page and "frontmatter is not valid YAML" not in page
        assert "Sub cafe page." in served.get("extra/page/")
        assert served.status("") == 200
    finally:
        served.stop()
