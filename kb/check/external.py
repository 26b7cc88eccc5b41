"""`kb check --external`: are the http(s) links in the notes alive?

HEAD first (GET when a server refuses HEAD), redirects followed by hand (so HEAD stays
HEAD), retries with backoff on connection errors, timeouts, 5xx and 429, a bounded
thread pool (and at most two requests at a time per host), and an on-disk cache of
the URLs found alive, so a second run within the TTL does not ask again.
"""
from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable
from urllib.parse import urljoin, urlsplit

from ..parse.diagnostics import Diagnostic
from ..parse.syntax import prose_lines
from ..parse.vault import Note

CACHE_FILE = Path(".kb-cache") / "external.json"
USER_AGENT = "kb-linkcheck/0.1 (+https://www.mkdocs.org)"
MAX_REDIRECTS = 10
PER_HOST = 2
# Where a URL starts; how it ends is settled by what precedes it (see _url_at).
URL_START_RE = re.compile(r"https?://", re.I)
_TRAILING = ".,;:!?*_~'\""
HOST_RE = re.compile(r"[\w.-]+|[0-9a-fA-F:.]+")   # names (IDN too), IPv4 and IPv6 addresses


@dataclass(frozen=True)
class UrlUse:
    url: str
    path: str       # the note, for messages
    line: int       # 1-based, in the file
    col: int


@dataclass(frozen=True)
class Verdict:
    ok: bool
    detail: str                 # "200 OK", "404 Not Found", "timed out after 0.5 s (3 tries)", ...
    status: int | None = None   # the final HTTP status; None when no answer came


# -- finding URLs ---------------------------------------------------------------------------------
def find_urls(note: Note) -> list[UrlUse]:
    """http(s) URLs in Markdown links, autolinks and bare text; never in code."""
    out: list[UrlUse] = []
    mask = note.code_mask
    for i, line, in_code in prose_lines(note.lines, mask, "://"):
        pos = 0
        while True:
            m = URL_START_RE.search(line, pos)
            if not m:
                break
            url, end = _url_at(line, m.start())
            pos = max(end, m.end())
            if in_code(m.start()) or not _real_host(url):
                continue
            ln, col = note.file_pos(i, m.start())
            out.append(UrlUse(url, note.rel, ln, col))
    return out


def _real_host(url: str) -> bool:
    """False for placeholders such as https://{USER}.github.io or https://<host>/."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    return bool(host) and HOST_RE.fullmatch(host) is not None


def _url_at(line: str, start: int) -> tuple[str, int]:
    """The URL starting at `start` and where it ends, by its context: (...), <...> or bare."""
    before = line[:start]
    if before.endswith("<"):
        end = line.find(">", start)
        end = len(line) if end < 0 else end
        return line[start:end].strip(), end
    in_parens = before.endswith("(")
    depth, i = 0, start
    while i < len(line):
        c = line[i]
        if c.isspace() or c in "<>\"'`" or (c in "[]" and not in_parens):
            break
        if c == "(":
            depth += 1
        elif c == ")":
            if depth == 0:
                break
            depth -= 1
        i += 1
    url = line[start:i]
    if not in_parens:
        while url and url[-1] in _TRAILING:
            url = url[:-1]
    return url, start + len(url)


# -- asking servers -------------------------------------------------------------------------------
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401 - urllib's API
        return None     # redirects are followed by hand so that a HEAD stays a HEAD


_OPENER = urllib.request.build_opener(_NoRedirect)


class Checker:
    def __init__(self, timeout: float = 10.0, retries: int = 2, backoff: float = 0.25):
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._hosts: dict[str, threading.Semaphore] = {}
        self._lock = threading.Lock()

    def _host_slot(self, url: str) -> threading.Semaphore:
        host = urlsplit(url).netloc.lower()
        with self._lock:
            return self._hosts.setdefault(host, threading.Semaphore(PER_HOST))

    def check(self, url: str) -> Verdict:
        verdict = self._check_method(url, "HEAD")
        # Many servers answer HEAD wrongly (405, 403, 404 for HEAD only): GET settles it.
        # No second round for no answer or a server error: those were retried already.
        if not verdict.ok and verdict.status is not None and verdict.status != 429 and \
                (verdict.status < 500 or verdict.status == 501):
            verdict = self._check_method(url, "GET")
        return verdict

    def _check_method(self, url: str, method: str) -> Verdict:
        seen = 0
        current = url
        while True:
            status, location, detail = self._request(current, method)
            if status is None:
                return Verdict(False, detail)
            if 300 <= status < 400 and status != 304 and location:
                seen += 1
                if seen > MAX_REDIRECTS:
                    return Verdict(False, f"more than {MAX_REDIRECTS} redirects")
                current = urljoin(current, location)
                continue
            via = f" (redirected to {current})" if current != url else ""
            return Verdict(status < 400, f"{detail}{via}", status)

    def _request(self, url: str, method: str) -> tuple[int | None, str | None, str]:
        """(status, Location, detail) after retries; status None when no answer came."""
        detail = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            req = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
            try:
                with self._host_slot(url), _OPENER.open(req, timeout=self.timeout) as resp:
                    if method == "GET":
                        resp.read(1024)    # the body beyond this does not matter
                    return resp.status, None, f"{resp.status} {resp.reason}"
            except urllib.error.HTTPError as e:
                status, reason, location = e.code, e.reason, e.headers.get("Location")
                e.close()
                detail = f"{status} {reason}"
                if status == 429 or status >= 500:
                    delay = _retry_after(e.headers.get("Retry-After"))
                    if delay and attempt < self.retries:
                        time.sleep(min(delay, 5.0))
                    continue
                return status, location, detail
            except (TimeoutError, socket.timeout):
                detail = f"timed out after {self.timeout:g} s"
            except urllib.error.URLError as e:
                if isinstance(e.reason, (TimeoutError, socket.timeout)):
                    detail = f"timed out after {self.timeout:g} s"
                else:
                    detail = f"connection failed: {e.reason}"
            except (OSError, ValueError) as e:
                detail = f"connection failed: {e}"
        tries = self.retries + 1
        suffix = f" ({tries} tries)" if tries > 1 else ""
        return (None if not detail[:1].isdigit() else int(detail.split()[0])), None, detail + suffix


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


# -- the cache ----------------------------------------------------------------------------------
class Cache:
    """URL -> time it was last found alive. Dead links are never cached: they are asked again."""

    def __init__(self, path: Path, ttl: float):
        self.path, self.ttl = path, ttl
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            self.ok: dict[str, float] = {k: float(v["checked"]) for k, v in data.get("ok", {}).items()}
        except (OSError, ValueError, AttributeError, TypeError, KeyError):
            self.ok = {}

    def fresh(self, url: str, now: float) -> bool:
        checked = self.ok.get(url)
        return checked is not None and now - checked < self.ttl

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        payload = {"version": 1, "ok": {u: {"checked": t} for u, t in sorted(self.ok.items())}}
        tmp.write_text(json.dumps(payload, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)


def check_external(notes: Iterable[Note], project_root: Path, *, timeout: float = 10.0, retries: int = 2,
                   concurrency: int = 8, cache_ttl: float = 86400.0, backoff: float = 0.25) -> list[Diagnostic]:
    uses = [u for n in notes if n.published for u in find_urls(n)]
    cache = Cache(project_root / CACHE_FILE, cache_ttl)
    now = time.time()
    todo = sorted({u.url for u in uses if not cache.fresh(u.url, now)})
    checker = Checker(timeout, retries, backoff)
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        verdicts = dict(zip(todo, pool.map(checker.check, todo)))
    for url, v in verdicts.items():
        if v.ok:
            cache.ok[url] = now
        else:
            cache.ok.pop(url, None)
    if cache_ttl > 0:
        try:
            cache.save()
        except OSError:
            pass    # a read-only checkout still gets its answer, only slower next time
    out = []
    for u in uses:
        v = verdicts.get(u.url)
        if v is None or v.ok:
            continue
        if v.status == 429:     # rate limited even after retries: unknown, not dead
            out.append(Diagnostic(u.path, u.line, u.col, "warning",
                                  f"could not check {u.url}: {v.detail}; try again later", "external-link-unchecked"))
        else:
            out.append(Diagnostic(u.path, u.line, u.col, "error",
                                  f"dead link {u.url}: {v.detail}; fix or remove it", "dead-external-link"))
    return out
