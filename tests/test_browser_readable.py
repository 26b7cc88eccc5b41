"""Data a reader can read, in a real browser (Debian's chromium, offline): the project's own
site and a small generated project, each built with `mkdocs build` and served over local HTTP.

- every table's key columns lie inside its scroll box at 1366x768 and on a 390x844 phone;
- no two texts of any chart's SVG overlap, and chart text is at least 9 px on the phone;
- typing into the real search box puts the page about the thing first;
- no page type asks any host but 127.0.0.1 for anything;
- hovering a link shows the target's title and first paragraph (not on a touch screen);
- tags show as chips linked to their tag pages; the site name is in the sidebar once;
- axe-core finds no serious or critical violation in the light or the dark scheme.
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Iterator

import pytest

from test_browser_tables import ARGS, CHROMIUM, _Quiet, browser  # noqa: F401  (browser: a shared fixture)

ROOT = Path(__file__).resolve().parents[1]
SIZES = [(1366, 768), (390, 844)]

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed "
                                 "(make browser installs Debian's chromium)"),
              pytest.mark.timeout(900)]


def _build(proj: Path, out: Path) -> None:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-d", str(out)], cwd=proj, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (out / "index.html").is_file()


def _serve(site: Path) -> tuple[str, http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/", server


@pytest.fixture(scope="module")
def project_site(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The project's own notes and data, built as shipped."""
    site = tmp_path_factory.mktemp("readable") / "site"
    _build(ROOT, site)
    base, server = _serve(site)
    yield base, site
    server.shutdown()
    server.server_close()


WIDE_COLUMNS = ["Name", "Family", "Region", "vCPUs", "Memory (GB)", "Accelerators", "Network (Gbps)",
                "Storage", "Latency P50 (ms)", "Latency P90 (ms)", "Latency P99 (ms)", "Batch Size",
                "Throughput (/sec)", "Hourly rate", "Cost per 1M requests"]


@pytest.fixture(scope="module")
def small_site(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """A generated project: a 15-column table, a note with a tag, a stub, a chart."""
    proj = tmp_path_factory.mktemp("small")
    (proj / "notes").mkdir()
    (proj / "data").mkdir()
    rows = [",".join(WIDE_COLUMNS)]
    for i in range(20):
        rows.append(f"inst-{i}.48xlarge,fam{i % 3},us-east-1,{4 * (i + 1)},{16 * (i + 1)},{i % 4},{25 * (i % 4 + 1)},"
                    f"ebs-only storage,{i + 1.5},{i + 2.5},{i + 3.5},{2 ** (i % 6)},{100 + 37 * i},{0.5 + i / 7:.3f},"
                    f"{(0.5 + i / 7) / (100 + 37 * i) * 1e6 / 3600:.4f}")
    (proj / "data" / "wide.csv").write_text("\n".join(rows) + "\n")
    (proj / "mkdocs.yml").write_text(textwrap.dedent(f"""\
        site_name: Small
        docs_dir: notes
        theme:
          name: material
          custom_dir: {ROOT / 'overrides'}
          font: false
          features: [navigation.instant]
        hooks:
          - {ROOT / 'hooks' / 'kb_hook.py'}
        plugins:
          - search
        markdown_extensions: [attr_list, md_in_html, tables, admonition, pymdownx.details, pymdownx.superfences]
    """))
    (proj / "notes" / "root.md").write_text(textwrap.dedent("""\
        ---
        id: root0000000000000000001
        title: Home
        ---
        Wide data in [[data.wide]]; a #sample tag; the [[deep one|hardware.gpu.deep]].
    """))
    (proj / "notes" / "data.wide.md").write_text(textwrap.dedent("""\
        ---
        id: datawide000000000000001
        title: Wide data
        tags: [sample, "<b>x</b>"]
        ---
        ```table
        source: wide.csv
        caption: Fifteen columns, the cost last
        ```

        ```chart
        source: wide.csv
        x: Name
        y: Cost per 1M requests
        kind: bar
        limit: 12
        ```
    """))
    (proj / "notes" / "hardware.gpu.deep.md").write_text(textwrap.dedent("""\
        ---
        id: deep0000000000000000001
        title: Deep note
        ---
        Its parents hardware and hardware.gpu are stubs. <script>window.kbHacked = 1</script>

        ## Second part

        What the <b>second</b> part says.
    """))
    site = proj / "site"
    _build(proj, site)
    base, server = _serve(site)
    yield base, site
    server.shutdown()
    server.server_close()
    shutil.rmtree(proj, ignore_errors=True)


def _table_pages(site: Path) -> list[str]:
    return sorted(str(p.parent.relative_to(site)) + "/" for p in site.rglob("index.html")
                  if "kb-data kb-table" in p.read_text(encoding="utf-8")
                  or "kb-chart-data" in p.read_text(encoding="utf-8"))


def _chart_pages(site: Path) -> list[str]:
    return sorted(str(p.parent.relative_to(site)) + "/" for p in site.rglob("index.html")
                  if "kb-chart-svg" in p.read_text(encoding="utf-8"))


def _path(page: str) -> str:
    return "" if page == "./" else page


# For each table: the key headers (not kb-more) that lie outside the visible part of its box.
# At 1366 every key column counts; on a phone those marked data-kb-give may give way.
KEYS_OUT_OF_VIEW = """(phone) => [...document.querySelectorAll('.kb-data table')].map(t => {
  const details = t.closest('details'); if (details) details.open = true;
  return t; }).map(t => {
  const box = t.closest('.kb-scroll').getBoundingClientRect();
  const heads = [...t.tHead.rows[0].cells].filter(th => !th.classList.contains('kb-more'));
  const out = heads.filter(th => !(phone && th.hasAttribute('data-kb-give'))).filter(th => {
    const r = th.getBoundingClientRect();
    return r.width === 0 || r.left < box.left - 1 || r.right > box.right + 1; });
  return {caption: t.caption ? t.caption.textContent : '', keys: heads.length,
          out: out.map(th => th.textContent.trim())};
})"""


def _keys_in_view(browser, base: str, pages: list[str]) -> list[str]:  # noqa: F811
    problems = []
    for w, h in SIZES:
        context = browser.new_context(viewport={"width": w, "height": h})
        pg = context.new_page()
        for page in pages:
            pg.goto(base + _path(page))
            pg.wait_for_selector(".kb-data th button.kb-sort", state="attached")
            pg.wait_for_timeout(50)          # the details just opened answer with a toggle event
            for t in pg.evaluate(KEYS_OUT_OF_VIEW, w < 500):
                assert t["keys"] >= 1
                if t["out"]:
                    problems.append(f"{w}x{h} {page} {t['caption'][:50]!r}: {t['out']} outside the box")
        context.close()
    return problems


def test_key_columns_in_view_on_every_project_page(browser, project_site):  # noqa: F811
    base, site = project_site
    pages = _table_pages(site)
    assert len(pages) > 10
    assert _keys_in_view(browser, base, pages) == []


def test_fifteen_columns_show_the_answer_and_the_rest_on_a_click(browser, small_site):  # noqa: F811
    base, _ = small_site
    assert _keys_in_view(browser, base, ["data/wide/"]) == []
    context = browser.new_context(viewport={"width": 390, "height": 844})
    pg = context.new_page()
    pg.goto(base + "data/wide/")
    table = pg.locator(".kb-table table")
    cost = table.locator("th", has_text="Cost per 1M requests")
    assert cost.is_visible() and table.locator("th", has_text="Storage").is_hidden()
    button = pg.locator(".kb-table button.kb-cols")
    assert button.inner_text().startswith("More columns (")
    button.click()
    assert table.locator("th", has_text="Storage").is_visible()
    assert table.locator("th:visible").count() == 15
    assert button.inner_text() == "Fewer columns"
    # The box scrolls sideways; the first column and the header stay where they were.
    box = pg.locator(".kb-table .kb-scroll")
    first = table.locator("tbody tr").first.locator("td").first
    x0 = first.bounding_box()["x"]
    box.evaluate("b => { b.scrollLeft = 400; }")
    pg.wait_for_timeout(50)
    assert abs(first.bounding_box()["x"] - x0) < 1
    assert "kb-scrolled" in pg.locator(".kb-table .kb-frame").get_attribute("class")
    context.close()


OVERLAPS = """() => [...document.querySelectorAll('svg.kb-chart-svg')].map(svg => {
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const boxes = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim()).map(t => {
    const r = t.getBoundingClientRect();
    return {t: t.textContent.trim(), l: r.left, r: r.right, top: r.top, b: r.bottom,
            px: parseFloat(getComputedStyle(t).fontSize) * scale}; });
  const over = [];
  boxes.forEach((a, i) => boxes.slice(i + 1).forEach(b => {
    if (a.l < b.r - 0.5 && b.l < a.r - 0.5 && a.top < b.b - 0.5 && b.top < a.b - 0.5) over.push(a.t + ' | ' + b.t);
  }));
  return {label: svg.getAttribute('aria-label'), texts: boxes.length, over,
          smallest: Math.min(...boxes.map(b => b.px))};
})"""


@pytest.mark.parametrize("which", ["project_site", "small_site"])
def test_no_chart_text_overlaps_and_a_phone_can_read_it(browser, which, request):  # noqa: F811
    base, site = request.getfixturevalue(which)
    pages = _chart_pages(site)
    assert pages
    problems = []
    for w, h in SIZES:
        context = browser.new_context(viewport={"width": w, "height": h})
        pg = context.new_page()
        for page in pages:
            pg.goto(base + _path(page))
            for c in pg.evaluate(OVERLAPS):
                assert c["texts"] > 3
                if c["over"]:
                    problems.append(f"{w} {page} {c['label']!r}: {c['over'][:3]}")
                if w < 500 and c["smallest"] < 9:
                    problems.append(f"{w} {page} {c['label']!r}: text {c['smallest']:.1f} px")
        context.close()
    assert problems == []


SEARCHES = [("resnet50", "models/cv/resnet50/"), ("ResNet-50", "models/cv/resnet50/"),
            ("llama2-70b", "models/llm/llama2-70b/"), ("trn1", "hardware/aws/trn1/"), ("T4", "hardware/gpu/t4/"),
            ("bert-base-uncased", "models/nlp/bert/"), ("inf2", "hardware/aws/inf2/"), ("a100", "hardware/gpu/a100/"),
            # an instance: the page of its family (links.yml links it there), not a section that names it
            ("g4dn.xlarge", "hardware/gpu/t4/"), ("inf2.48xlarge", "hardware/aws/inf2/")]


@pytest.mark.parametrize("query, expected", SEARCHES)
def test_search_box_puts_the_page_about_it_first(browser, project_site, query, expected):  # noqa: F811
    base, site = project_site
    if not (site / expected / "index.html").is_file():
        pytest.skip(f"the project has no page {expected}")
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    pg = context.new_page()
    pg.goto(base)
    pg.locator("label.md-search__icon, .md-search__input").first.click()
    pg.locator("input.md-search__input").press_sequentially(query)
    pg.wait_for_selector(".md-search-result__item", timeout=15000)
    pg.wait_for_timeout(300)                 # results settle on the last keystroke
    first = pg.eval_on_selector(".md-search-result__item > a.md-search-result__link", "a => a.href")
    context.close()
    assert first.split("?")[0].split("#")[0] == base + expected


def test_search_index_separates_table_cells(project_site):
    import json
    _, site = project_site
    docs = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))["docs"]
    text = " ".join(d["text"] for d in docs)
    assert "inf1.xlarge" in text
    assert "inf1.xlarge1" not in text and "xlarge$" not in text


def test_search_index_holds_each_question_once_and_data_pages_below_notes(project_site):
    import json
    import re
    _, site = project_site
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    docs = index["docs"]
    titles = [d["title"] for d in docs if d["title"].endswith("?")]
    assert len(titles) > 50 and len(titles) == len(set(titles))
    faq = (site / "faq" / "index.html").read_text(encoding="utf-8")
    listed = re.findall(r'<li><a href="([^"]+)#[^"]+">([^<]+\?)</a></li>', faq)
    assert len(listed) > 50
    for href, question in listed:        # each question found once: on its own page, not in the list
        hits = [d["location"] for d in docs if question in d["title"] or question in d["text"]]
        assert [h for h in hits if h.startswith("faq/#")] == [], question
    assert not any(d["location"].startswith("faq/#") and "?" in d["title"] for d in docs)
    assert all(d.get("boost") == 0.5 for d in docs if d["location"].startswith("data/"))
    assert not any("boost" in d for d in docs if d["location"].startswith("hardware/"))
    assert index["config"]["fields"]["names"]["boost"] > index["config"]["fields"]["title"]["boost"]
    names = {d["location"]: d.get("names", "") for d in docs}
    assert "inf2.48xlarge" in names["hardware/aws/inf2/"].split()
    assert "g4dn.xlarge" in names["hardware/gpu/t4/"].split()


def _off_machine(browser, base: str, paths: list[str]) -> list[str]:  # noqa: F811
    """Every request a page makes that is not to the local server (they are refused, and listed)."""
    seen: list[str] = []
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    pg = context.new_page()
    pg.on("request", lambda r: None if r.url.startswith(base) or r.url.startswith(("data:", "blob:"))
          else seen.append(r.url))
    pg.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base) else route.abort())
    for path in paths:
        pg.goto(base + path)
        pg.wait_for_load_state("networkidle")
    pg.goto(base)                            # search: the worker and its index
    pg.locator("label.md-search__icon, .md-search__input").first.click()
    pg.locator("input.md-search__input").press_sequentially("data")
    pg.wait_for_selector(".md-search-result__item", timeout=15000)
    pg.wait_for_load_state("networkidle")
    context.close()
    return seen


def test_no_request_leaves_the_machine_on_any_page_type(browser, small_site, project_site):  # noqa: F811
    base, site = small_site
    redirect = next(p for p in (site / "notes").iterdir() if p.is_dir())
    paths = ["", "data/wide/",                    # notes, one with a table and a chart
             "hardware/", "hardware/gpu/",        # stubs
             "tags/sample/",                      # a tag page
             f"notes/{redirect.name}/",           # a redirect from a note id
             "no/such/page/"]                     # the 404 page
    for path in paths[:-1]:
        assert (site / path / "index.html").is_file(), path
    assert _off_machine(browser, base, paths) == []
    base, site = project_site
    assert _off_machine(browser, base, ["", "hardware/aws/inf1/", "hardware/instances/", "faq/",
                                        "data/neuron/", "no/such/page/"]) == []


def test_hovering_a_link_previews_its_page(browser, small_site):  # noqa: F811
    base, _ = small_site
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    pg = context.new_page()
    pg.goto(base)
    card = pg.locator(".kb-preview")
    pg.locator(".md-content a", has_text="deep one").hover()
    card.wait_for(state="visible", timeout=5000)
    assert card.locator(".kb-preview__title").inner_text() == "Deep note"
    assert card.locator(".kb-preview__text").inner_text().startswith("Its parents hardware and hardware.gpu are stubs.")
    assert card.locator("script, b, a").count() == 0 and pg.evaluate("window.kbHacked") is None
    box, link = card.bounding_box(), pg.locator(".md-content a", has_text="deep one").bounding_box()
    assert box["y"] >= link["y"] + link["height"] and box["x"] + box["width"] <= 1366
    pg.mouse.move(5, 700)                    # away: the card goes
    card.wait_for(state="hidden", timeout=5000)
    context.close()
    # A phone: no hover, no card.
    context = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    pg = context.new_page()
    pg.goto(base)
    pg.locator(".md-content a", has_text="deep one").hover()
    pg.wait_for_timeout(800)
    assert pg.locator(".kb-preview").count() == 0
    context.close()


def test_preview_of_a_link_to_a_heading_shows_that_section(browser, small_site):  # noqa: F811
    base, site = small_site
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    pg = context.new_page()
    pg.goto(base + "data/wide/")
    pg.evaluate("""() => { const a = document.createElement('a'); a.id = 'probe';
        a.href = '../../hardware/gpu/deep/#second-part'; a.textContent = 'second';
        document.querySelector('.md-content__inner').prepend(a); }""")
    pg.locator("#probe").hover()
    card = pg.locator(".kb-preview")
    card.wait_for(state="visible", timeout=5000)
    assert card.locator(".kb-preview__title").inner_text() == "Second part"
    assert card.locator(".kb-preview__text").inner_text() == "What the second part says."
    context.close()


def test_tags_show_as_chips_linked_to_their_pages_and_the_site_name_once(browser, small_site):  # noqa: F811
    base, site = small_site
    html = (site / "data" / "wide" / "index.html").read_text(encoding="utf-8")
    assert "<b>x</b>" not in html and "#&lt;b&gt;x&lt;/b&gt;" in html
    for w, h in SIZES:
        context = browser.new_context(viewport={"width": w, "height": h})
        pg = context.new_page()
        pg.goto(base + "data/wide/")
        chips = pg.locator(".kb-tags a.kb-tag")
        assert chips.all_inner_texts() == ["#sample", "#<b>x</b>"]
        chips.first.click()
        pg.wait_for_url(base + "tags/sample/")
        assert pg.locator("h1").inner_text().rstrip("\u00b6").strip() == "sample"
        pg.goto(base + "hardware/gpu/deep/")
        sidebar = pg.locator(".md-sidebar--primary")
        assert sidebar.inner_text().count("Small") == 1, sidebar.inner_text()
        context.close()


def test_site_name_once_in_the_sidebar_where_the_home_page_has_that_title(browser, project_site):  # noqa: F811
    import yaml
    base, site = project_site
    name = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["site_name"]
    for w, h in SIZES:
        context = browser.new_context(viewport={"width": w, "height": h})
        pg = context.new_page()
        for path in ("", "hardware/gpu/b200/"):
            pg.goto(base + path)
            if w < 500:                      # the sidebar is the drawer: open it
                pg.locator("label.md-header__button[for='__drawer']").click()
                pg.wait_for_timeout(300)
            nav = pg.locator(".md-sidebar--primary nav.md-nav--primary")
            assert nav.inner_text().count(name) == 1, (w, path)
            home = nav.locator("a.md-nav__link").first
            assert home.inner_text().strip() == "Home"
        context.close()


AXE_VERSION = "4.11.0"


@pytest.fixture(scope="module")
def axe_js() -> str:
    """axe-core, installed once by npm into .cache/axe (git-ignored); never part of the site."""
    prefix = ROOT / ".cache" / "axe"
    path = prefix / "node_modules" / "axe-core" / "axe.min.js"
    if not path.is_file():
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed: axe-core cannot be installed (scripts/install-axe.sh)")
        done = subprocess.run(["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                               f"axe-core@{AXE_VERSION}"], capture_output=True, text=True, timeout=300)
        if done.returncode != 0 or not path.is_file():
            pytest.skip(f"npm could not install axe-core@{AXE_VERSION}: {done.stderr.strip()[-300:]}")
    return path.read_text(encoding="utf-8")


AXE_RUN = """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '))"""


def test_pages_pass_axe_in_both_schemes(browser, project_site, small_site, axe_js):  # noqa: F811
    pages = [(project_site, ""), (project_site, "hardware/gpu/b200/"),            # home, a table
             (project_site, "methods/cost-per-million/"), (project_site, "faq/"),  # a chart, the FAQ
             (small_site, "hardware/gpu/"), (small_site, "data/wide/")]           # a stub, tags and a chart
    problems = []
    for scheme in ("light", "dark"):
        context = browser.new_context(viewport={"width": 1366, "height": 768}, color_scheme=scheme)
        pg = context.new_page()
        for (base, site), path in pages:
            assert (site / path / "index.html").is_file(), path
            pg.goto(base + path)
            if base == project_site[0]:      # the project's palette follows prefers-color-scheme
                assert pg.evaluate("document.body.getAttribute('data-md-color-scheme')") == \
                    ("slate" if scheme == "dark" else "default")
            pg.add_script_tag(content=axe_js)
            problems += [f"{scheme} /{path}: {v}" for v in pg.evaluate(AXE_RUN)]
        context.close()
    assert problems == []
