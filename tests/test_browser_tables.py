"""Generated tables in a real browser: a real `mkdocs build` of a small project with the
project's hook, served over local HTTP, driven by headless Debian Chromium (offline)."""
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

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed "
                                "(make browser installs Debian's chromium)")

VALUES = [100, 9, 10, 1000, 2, 50, 7, 300, 11, 1, 0.5, None, 25]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build the project, then serve it; yields the base URL."""
    proj = tmp_path_factory.mktemp("browser")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(proj / "site")))
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    (proj / "notes").mkdir()
    (proj / "data").mkdir()
    rows = ["Name,Value,Note"] + [f"item-{i},{'' if v is None else v},n{i}" for i, v in enumerate(VALUES)]
    (proj / "data" / "vals.csv").write_text("\n".join(rows) + "\n")
    (proj / "mkdocs.yml").write_text(textwrap.dedent(f"""\
        site_name: Tables
        site_url: {base}
        docs_dir: notes
        theme:
          name: material
          features: [navigation.instant]
        hooks:
          - {ROOT / 'hooks' / 'kb_hook.py'}
        markdown_extensions: [attr_list, md_in_html, tables, admonition, pymdownx.details, pymdownx.superfences]
    """))
    (proj / "notes" / "root.md").write_text(textwrap.dedent("""\
        ---
        id: root0000000000000000001
        title: Home
        ---
        See [the other page](other.md).

        ```table
        source: vals.csv
        format: {Value: "${:,.1f}"}
        caption: Values
        ```
    """))
    (proj / "notes" / "other.md").write_text(textwrap.dedent("""\
        ---
        id: other000000000000000001
        title: Other
        ---
        ```table
        source: vals.csv
        limit: 5
        ```
    """))
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q"], cwd=proj, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (proj / "site" / "index.html").is_file()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    server.server_close()
    shutil.rmtree(proj, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, site):
    context = browser.new_context()
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    # Offline: anything not served by the local server is refused, so no CDN can be relied on.
    pg.route("**/*", lambda route: route.continue_() if route.request.url.startswith(site) else route.abort())
    pg.goto(site)
    pg.wait_for_selector(".kb-data th button.kb-sort")
    yield pg
    assert errors == []
    context.close()


def column(pg, index: int) -> list[str]:
    return pg.eval_on_selector_all(
        ".kb-data table tbody tr:not([hidden])", f"rows => rows.map(r => r.cells[{index}].textContent.trim())")


def test_numeric_header_sorts_numbers_as_numbers(page):
    header = page.locator(".kb-data th").nth(1)
    header.locator("button").click()
    values = column(page, 1)
    assert values == ["$0.5", "$1.0", "$2.0", "$7.0", "$9.0", "$10.0", "$11.0", "$25.0", "$50.0", "$100.0",
                      "$300.0", "$1,000.0", "\u2014"]                  # 9 < 10 < 100, missing last
    assert header.get_attribute("aria-sort") == "ascending"
    header.locator("button").click()
    assert column(page, 1) == ["$1,000.0", "$300.0", "$100.0", "$50.0", "$25.0", "$11.0", "$10.0", "$9.0",
                               "$7.0", "$2.0", "$1.0", "$0.5", "\u2014"]  # missing still last
    assert header.get_attribute("aria-sort") == "descending"
    assert page.locator(".kb-data th").nth(0).get_attribute("aria-sort") == "none"


def test_keyboard_sorts_text_in_natural_order(page):
    page.locator(".kb-data th").nth(1).locator("button").click()    # scramble the order first
    button = page.locator(".kb-data th").nth(0).locator("button")
    button.focus()
    page.keyboard.press("Enter")
    assert column(page, 0) == [f"item-{i}" for i in range(13)]
    page.keyboard.press(" ")
    assert column(page, 0) == [f"item-{i}" for i in reversed(range(13))]


def test_filter_box_hides_rows(page):
    box = page.locator(".kb-data .kb-filter input")
    assert box.count() == 1                                           # 13 rows > 10
    assert len(column(page, 0)) == 13
    box.fill("item-1")
    assert sorted(column(page, 0)) == ["item-1", "item-10", "item-11", "item-12"]
    assert "4 of 13" in page.locator(".kb-data .kb-filter-count").inner_text()
    box.fill("")
    assert len(column(page, 0)) == 13


def test_instant_navigation_sets_up_new_pages_once(page, site):
    page.evaluate("window.kbStillHere = true")
    page.click("text=the other page")
    page.wait_for_url(site + "other/")
    # The URL changes before Material swaps the content in: wait for the other page's own title.
    page.locator("article h1", has_text="Other").wait_for()
    page.wait_for_selector(".kb-data th button.kb-sort")
    assert page.evaluate("window.kbStillHere === true")                # no reload: Material swapped the page
    assert page.locator(".kb-data .kb-filter input").count() == 0      # 5 rows: no filter box
    page.go_back()
    page.locator("article h1", has_text="Home").wait_for()
    page.wait_for_selector(".kb-data .kb-filter input")
    assert page.locator(".kb-data .kb-filter input").count() == 1      # set up once, not twice
    assert page.locator(".kb-data th button.kb-sort button").count() == 0
