"""`kb check --external` against a real HTTP server on 127.0.0.1 started by the test."""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from test_cli_support import lines_of, make_vault, run_kb, write_note

BODY = 9   # first body line of a note written by write_note


class Handler(BaseHTTPRequestHandler):
    counts: Counter = Counter()
    lock = threading.Lock()

    def log_message(self, *args) -> None:   # keep test output quiet
        pass

    def _answer(self, status: int, location: str | None = None) -> None:
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", "2")
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(b"ok")

    def _route(self) -> None:
        path = self.path
        with self.lock:
            self.counts[path] += 1
            seen = self.counts[path]
        try:
            if path == "/ok":
                self._answer(200)
            elif path == "/missing":
                self._answer(404)
            elif path == "/redirect-ok":
                self._answer(302, "/ok")
            elif path == "/redirect-404":
                self._answer(301, "/missing")
            elif path == "/slow":
                time.sleep(3)
                self._answer(200)
            elif path == "/no-head":
                self._answer(405 if self.command == "HEAD" else 200)
            elif path == "/flaky":
                self._answer(503 if seen == 1 else 200)
            else:
                self._answer(404)
        except (BrokenPipeError, ConnectionResetError):
            pass    # the client gave up (the slow URL): that is the point

    do_GET = _route
    do_HEAD = _route


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def hits(path: str) -> int:
    with Handler.lock:
        return Handler.counts[path]


@pytest.fixture
def proj(tmp_path: Path, server: str) -> Path:
    p = make_vault(tmp_path)
    write_note(p, "x.web", (
        f"Alive: [ok]({server}/ok) and <{server}/redirect-ok>.\n"                  # line 9
        f"Dead: {server}/missing. And [moved]({server}/redirect-404 \"title\").\n"  # line 10
        f"Slow: see {server}/slow\n"                                                # line 11
        f"HEAD refused: {server}/no-head, retried: ({server}/flaky)\n"              # line 12
        f"`{server}/code-only`\n"                                                   # line 13
        "\n```\n" f"{server}/fenced-only\n" "```\n"))
    return p


def check(proj: Path, *extra: str):
    return run_kb("check", "--external", "--timeout", "0.5", "--retries", "1", *extra, cwd=proj)


def test_external_links(proj: Path, server: str) -> None:
    Handler.counts.clear()
    started = time.monotonic()
    r = check(proj)
    elapsed = time.monotonic() - started
    assert r.returncode == 1, r.stdout + r.stderr
    out = lines_of(r)
    assert [ln.split(": error: ")[0] for ln in out] == [
        f"notes/x.web.md:{BODY + 1}:7", f"notes/x.web.md:{BODY + 1}:{len(f'Dead: {server}/missing. And [moved](') + 1}",
        f"notes/x.web.md:{BODY + 2}:11"]
    assert f"dead link {server}/missing: 404 Not Found" in out[0]
    assert f"dead link {server}/redirect-404: 404 Not Found (redirected to {server}/missing)" in out[1]
    assert f"dead link {server}/slow: timed out after 0.5 s (2 tries)" in out[2]
    assert all(ln.endswith("[dead-external-link]") for ln in out)
    # HEAD first, GET only where HEAD failed; redirects followed; retries on 503; nothing in code.
    assert hits("/ok") >= 2 and hits("/redirect-ok") == 1
    assert hits("/no-head") == 2 and hits("/flaky") == 2
    assert hits("/slow") == 2                     # one retry, no GET after a timeout
    assert hits("/code-only") == 0 and hits("/fenced-only") == 0
    assert elapsed < 20

    # The live URLs are cached; a second run asks only about the dead ones again.
    cache = json.loads((proj / ".kb-cache" / "external.json").read_text(encoding="utf-8"))
    assert sorted(cache["ok"]) == sorted(f"{server}{p}" for p in ("/ok", "/redirect-ok", "/no-head", "/flaky"))
    before = Counter(Handler.counts)
    r2 = check(proj)
    assert r2.returncode == 1 and lines_of(r2) == out
    asked = Counter(Handler.counts) - before
    assert set(asked) == {"/missing", "/redirect-404", "/slow"}


def test_only_live_links_pass(tmp_path: Path, server: str) -> None:
    p = make_vault(tmp_path)
    write_note(p, "x.web", f"[ok]({server}/ok), <{server}/redirect-ok>\n")
    r = check(p, "--cache-ttl", "0.001")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == ""


def test_external_off_by_default(proj: Path) -> None:
    Handler.counts.clear()
    r = run_kb("check", cwd=proj)
    assert r.returncode == 0, r.stdout
    assert sum(Handler.counts.values()) == 0
    assert not (proj / ".kb-cache" / "external.json").exists()
