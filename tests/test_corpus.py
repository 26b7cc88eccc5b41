"""The real Dendron vaults (shared/corpora/dendron-site, the docs, and dendron-handbook) build:
a page for every published note, no Dendron syntax left in any page's text, and every warning
names a target that really is missing. Run alone with: pytest tests/test_corpus.py -s
"""
from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CORPORA = {name: ROOT.parent / "shared" / "corpora" / name / "vault" for name in ("dendron-site", "dendron-handbook")}
# What each corpus holds at least (a whole copy): pages of published notes, images in the vault
# (the handbook's are all on the web).
LEAST = {"dendron-site": {"pages": 900, "images": 10}, "dendron-handbook": {"pages": 200, "images": 0}}

LEFTOVER_RE = re.compile(r"!?\[\[[^\[\]\n]+\]\]|\{\{\s*fm\.")
WARN_RE = re.compile(r'WARNING\s+-\s+(notes/\S+?\.md):(\d+):(\d+): (\w+): (.*) \[([\w-]+)\]$')
MKDOCS_MISSING_RE = re.compile(r"WARNING\s+-\s+Doc file '([^']+)' contains a link '([^']+)', but the target is not found")


def _norm(text: str) -> str:
    """An independent, crude heading key: letters and digits only."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _frontmatter(path: Path) -> dict:
    text = path.read_text(encoding="utf-8", errors="replace")
    m = re.match(r"---\n(.*?)\n---", text, re.S)
    try:
        return yaml.safe_load(m.group(1)) or {} if m else {}
    except yaml.YAMLError:
        return {}


@pytest.fixture(scope="module", params=sorted(CORPORA))
def corpus_build(request, tmp_path_factory):
    corpus = request.param
    if not CORPORA[corpus].is_dir():
        pytest.skip(f"the {corpus} corpus is not beside the project")
    project = tmp_path_factory.mktemp(corpus)
    shutil.copytree(CORPORA[corpus], project / "notes")
    config = (ROOT / "mkdocs.yml").read_text()
    config = config.replace("custom_dir: overrides", f"custom_dir: {ROOT / 'overrides'}")
    (project / "mkdocs.yml").write_text(config)
    shutil.copytree(ROOT / "hooks", project / "hooks", ignore=shutil.ignore_patterns("__pycache__"))
    (project / "data").mkdir()     # a vault with no data of its own
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-d", "site"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return project, proc.stderr


def _published(project: Path) -> list[str]:
    out = []
    for p in sorted((project / "notes").glob("*.md")):
        if _frontmatter(p).get("published") is not False:
            out.append(p.name[:-3])
    return out


def _least(request, what: str) -> int:
    return LEAST[request.node.callspec.params["corpus_build"]][what]


def test_a_page_for_every_published_note(corpus_build, request):
    project, _ = corpus_build
    names = _published(project)
    assert len(names) > _least(request, "pages")
    missing = [n for n in names
               if not (project / "site" / ("" if n == "root" else n.replace(".", "/")) / "index.html").is_file()]
    assert missing == []


def _page_text(page: str) -> str:
    m = re.search(r'<article class="md-content__inner md-typeset">(.*?)</article>', page, re.S)
    body = m.group(1) if m else page
    body = re.sub(r"<pre\b.*?</pre>|<code\b.*?</code>|<script\b.*?</script>|<!--.*?-->", " ", body, flags=re.S)
    # Attribute values (titles of broken links hold the reason) are not page text.
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def test_no_dendron_syntax_left_outside_code(corpus_build):
    project, _ = corpus_build
    leftovers = []
    for page in (project / "site").rglob("index.html"):
        text = _page_text(page.read_text(encoding="utf-8"))
        # A lone '[[' in prose (never closed) is text to Dendron too; a whole [[...]] is not.
        m = LEFTOVER_RE.search(text)
        if m:
            leftovers.append(f"{page.relative_to(project / 'site')}: {text[max(0, m.start() - 40):m.end() + 20]!r}")
    assert leftovers == []


def test_warnings_name_only_targets_that_are_really_missing(corpus_build):
    project, log = corpus_build
    notes = project / "notes"
    ours = [m for m in map(WARN_RE.search, log.splitlines()) if m]
    assert ours, "the corpus has real broken links; the build should report them"
    files = {p.name[:-3].lower(): p for p in notes.glob("*.md")}     # names match without case

    def text_of(name: str) -> str:      # a target with no file is a stub page: no headings, no blocks
        return files[name.lower()].read_text(encoding="utf-8") if name.lower() in files else ""

    wrong = []
    for m in ours:
        path, line, col, _sev, msg, code = m.groups()
        src_lines = (project / path).read_text(encoding="utf-8").split("\n")
        written = src_lines[int(line) - 1][int(col) - 1:]
        target = re.search(r'in "([^"]+)"', msg)
        if code == "broken-link" or (code == "broken-embed" and msg.startswith("no note named")):
            name = re.search(r'no note named "([^"]+)"', msg).group(1)
            if name.lower() in files and _frontmatter(files[name.lower()]).get("published") is not False:
                wrong.append(m.group(0))
            if not (written.startswith("[[") or written.startswith("![[")):
                wrong.append(f"{m.group(0)} (points at {written[:30]!r})")
        elif code in ("broken-anchor", "broken-embed") and msg.startswith("no heading"):
            heading = re.search(r'no heading "([^"]+)"', msg).group(1)
            text = re.sub(r"^```.*?^```", "", text_of(target.group(1)), flags=re.S | re.M)
            text = re.sub(r"<!--.*?(?:-->|\Z)", "", text, flags=re.S)     # a heading in a comment is no heading
            headings = [_norm(h) for h in re.findall(r"(?m)^#{1,6}\s+(.*?)\s*$", text)]
            if _norm(heading) in headings:
                wrong.append(m.group(0))
        elif code == "broken-block" or msg.startswith("no block"):
            block = re.search(r'no block "\^([^"]+)"', msg).group(1)
            if re.search(rf"\^{re.escape(block)}\s*$", text_of(target.group(1)), re.M):
                wrong.append(m.group(0))
        elif code == "embed-cycle":
            assert "![[" in written
        elif code == "missing-asset":       # an image or file: the URL is at the place, the file is not there
            url, file = re.search(r'"([^"]+)": no file (\S+);', msg).groups()
            if not written.startswith(url) or (project / file).exists():
                wrong.append(m.group(0))
        else:
            wrong.append(f"unexpected warning: {m.group(0)}")
    assert wrong == []
    for m in map(MKDOCS_MISSING_RE.search, log.splitlines()):
        if m:   # MkDocs' own link check: the file really is not there
            doc, link = m.groups()
            assert not (notes / Path(doc).parent / link).exists(), m.group(0)


def test_vault_images_resolve_from_their_pages(corpus_build, request):
    """`/assets/...` and `assets/...` images land as URLs relative to their page that find the
    file in site/ (where it is in the vault); none is left root-absolute or as kb's placeholder."""
    project, _ = corpus_build
    site = project / "site"
    resolved, wrong = 0, []
    for page in site.rglob("index.html"):
        url = page.parent.relative_to(site).as_posix()
        body = page.read_text(encoding="utf-8")
        for src in re.findall(r'<img\b[^>]*?\ssrc="([^"]*)"', body):
            src = html.unescape(src)
            if re.match(r"[a-z]+:", src) and not src.startswith("kbasset:") or src.startswith("data:"):
                continue
            if src.startswith(("/", "kbasset:")):
                wrong.append(f"{url}: {src}")
                continue
            target = (page.parent / src.split("#")[0]).resolve()
            rel = target.relative_to(site.resolve()).as_posix()
            if target.is_file():
                resolved += 1
            elif (project / "notes" / rel).exists():
                wrong.append(f"{url}: {src} (in the vault, not found from the page)")
    assert wrong == []
    assert resolved >= _least(request, "images")


def test_raw_html_blocks_read_as_commonmark(corpus_build, request):
    """Raw HTML ends at a blank line and Markdown follows (CommonMark's HTML blocks): the heading
    and list that dendron.topic.markdown writes between <details> and </details> render as a
    heading and a list, and an <iframe> over several lines is passed on whole, in no paragraph."""
    if request.node.callspec.params["corpus_build"] != "dendron-site":
        pytest.skip("the notes looked at are in the dendron-site corpus")
    project, _ = corpus_build
    page = (project / "site" / "dendron" / "topic" / "markdown" / "index.html").read_text(encoding="utf-8")
    m = re.search(r"<p>This is how it looks</p>\s*<details>(.*?)</details>", page, re.S)
    assert m, "the folded section is missing"
    assert '<h2 id="heading">' in m[1] and "<ol>\n<li>A numbered</li>" in m[1] and "<li>With some</li>" in m[1]
    assert "## Heading" not in m[1] and "1. A numbered" not in m[1]
    page = (project / "site" / "community" / "events" / "greenhouse" / "index.html").read_text(encoding="utf-8")
    assert re.search(r'\n<iframe\n  src="https://lu\.ma/[^"]+"\n(?:  .*\n)+></iframe>\n', page)
    assert "<p><iframe" not in page
