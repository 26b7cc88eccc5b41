#!/usr/bin/env python3
"""Live-preview benchmark: from a save to the new HTML served over HTTP, `kb serve` against
`mkdocs serve` (the project's hook, every page rebuilt) on the same generated vault.

    python bench/serve_speed.py [--notes 1000 10000] [--saves 20] [--stock-saves 20 3] [--gen PATH]
                                [--servers kb mkdocs]

For each size, the shared generator writes a vault; each server is started on it and sent
the same saves, in turn: a note's text, a new link (timed until the link's target lists it
under Backlinks), a title, a new note, a deleted note, a CSV. A save is timed from the
write until an HTTP fetch returns the changed page (for a CSV: until the server has taken
the save in, then one fetch). Prints the median and 95th percentile per server, and the
peak memory (RSS) of `mkdocs build`, of `kb serve` (its first build and the saves) and of
`kb check`. `--stock-saves` is per size: a stock save at 10,000 notes takes over a minute.
Figures, not pass/fail.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from build_speed import DEFAULT_GEN, generate, use_project_build  # noqa: E402

BIN = Path(sys.executable).parent
ENV = dict(os.environ, NO_MKDOCS_2_WARNING="1")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=600) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, ""


class Server:
    def __init__(self, cmd: list[str], project: Path, port: int):
        self.base = f"http://127.0.0.1:{port}/"
        self.log = open(project / f"serve-{port}.log", "w")
        start = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=project, env=ENV, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        while True:
            try:
                self.epoch = int(fetch(self.base + "livereload/0/0")[1])
                break
            except (urllib.error.URLError, ConnectionError, ValueError):
                if self.proc.poll() is not None:
                    raise RuntimeError((project / f"serve-{port}.log").read_text()[-2000:])
                time.sleep(0.2)
        self.first_build = time.perf_counter() - start

    def wait_for(self, url: str, done, start: float) -> float:
        while True:
            status, text = fetch(self.base + url)
            if done(status, text):
                return time.perf_counter() - start
            time.sleep(0.005)

    def next_epoch(self, start: float) -> float:
        self.epoch = int(fetch(self.base + f"livereload/{self.epoch}/1")[1])
        return time.perf_counter() - start

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def url_of(fname: str) -> str:
    return "" if fname == "root" else fname.replace(".", "/") + "/"


def backlinks(text: str) -> str:
    i = text.find('id="kb-backlinks"')
    return text[i:text.find("</ul>", i)] if i >= 0 else ""


def saves(project: Path, server: Server, n: int, tag: str) -> list[tuple[str, float]]:
    """n saves of six kinds, each timed until its effect is served."""
    notes = sorted(p for p in (project / "notes").glob("*.md") if p.name != "root.md")
    out = []
    for i in range(n):
        kind = ("text", "link", "title", "new", "delete", "csv")[i % 6]
        note = notes[(i * 7919) % len(notes)]
        fname, marker = note.stem, f"zq{tag}{i}x"
        start = time.perf_counter()
        if kind == "text":
            with open(note, "a") as f:
                f.write(f"\nEdited {marker}.\n")
            t = server.wait_for(url_of(fname), lambda s, x: marker in x, start)
        elif kind == "link":
            target = notes[(i * 104729 + 1) % len(notes)].stem
            title = re.search(r"^title: (.*)$", note.read_text(), re.M)[1].strip()
            start = time.perf_counter()
            with open(note, "a") as f:
                f.write(f"\nSee also [[{target}]].\n")
            t = server.wait_for(url_of(target), lambda s, x: title in backlinks(x), start)
        elif kind == "title":
            text = note.read_text()
            note.write_text(re.sub(r"^title: .*$", f"title: Title {marker}", text, count=1, flags=re.M))
            t = server.wait_for(url_of(fname), lambda s, x: f"Title {marker}" in x, start)
        elif kind == "new":
            new = f"{fname}.new{marker}"
            (project / "notes" / f"{new}.md").write_text(f"---\nid: {marker}\ntitle: New {marker}\n---\n\nNew note.\n")
            t = server.wait_for(url_of(new), lambda s, x: s == 200 and f"New {marker}" in x, start)
        elif kind == "delete":
            note.unlink()
            notes.remove(note)
            t = server.wait_for(url_of(fname), lambda s, x: s == 404 or (s == 200 and "no note of its own" in x), start)
        else:
            server.epoch = int(fetch(server.base + "livereload/0/0")[1])    # the site as it is now
            start = time.perf_counter()
            csv = project / "data" / "bench.csv"
            lines = csv.read_text().splitlines()
            lines[1 + i % (len(lines) - 1)] = lines[1 + i % (len(lines) - 1)].replace(".", "1.", 1)
            csv.write_text("\n".join(lines) + "\n")
            t = server.next_epoch(start)
            fetch(server.base + url_of(fname))
            t = time.perf_counter() - start
        out.append((kind, t))
        time.sleep(0.3)     # let each save settle before the next
    return out


def peak_of(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of a command run to its end."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def summary(name: str, times: list[tuple[str, float]]) -> str:
    xs = sorted(t for _, t in times)
    p95 = xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]
    kinds = {}
    for k, t in times:
        kinds.setdefault(k, []).append(t)
    per = ", ".join(f"{k} {statistics.median(v):.2f}" for k, v in kinds.items())
    return f"  {name:<12} saves {len(xs):>2}  median {statistics.median(xs):6.2f} s  p95 {p95:6.2f} s  ({per})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--notes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--saves", type=int, default=20)
    ap.add_argument("--stock-saves", type=int, nargs="+", default=[20, 3],
                    help="saves sent to mkdocs serve, per size (the last one repeats)")
    ap.add_argument("--gen", type=Path, default=DEFAULT_GEN)
    ap.add_argument("--servers", nargs="+", choices=["kb", "mkdocs"], default=["kb", "mkdocs"],
                    help="which servers to time (kb serve alone skips minutes of stock rebuilds at 10,000 notes)")
    a = ap.parse_args()
    if not a.gen.is_file():
        print(f"generator not found: {a.gen} (pass --gen PATH)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="kb-serve-bench-"))
    try:
        for k, n in enumerate(a.notes):
            stock_n = a.stock_saves[min(k, len(a.stock_saves) - 1)]
            print(f"{n} notes", flush=True)
            project = tmp / f"kb-{n}"
            generate(a.gen, project, n, "kb")
            use_project_build(project)
            secs, build_mb = peak_of([str(BIN / "mkdocs"), "build", "-q", "-d", str(tmp / "site")], project)
            print(f"  mkdocs build: {secs:.1f} s, peak RSS {build_mb:.0f} MB", flush=True)
            secs, check_mb = peak_of([str(BIN / "kb"), "check", "--no-cache"], project)
            print(f"  kb check --no-cache: {secs:.2f} s, peak RSS {check_mb:.0f} MB", flush=True)
            for name, cmd, count in (("kb serve", [str(BIN / "kb"), "serve", "-a"], a.saves),
                                     ("mkdocs serve", [str(BIN / "mkdocs"), "serve", "--livereload", "-a"], stock_n)):
                if name.split()[0] not in a.servers:
                    continue
                work = tmp / f"served-{name.split()[0]}-{n}"
                shutil.copytree(project, work)
                port = free_port()
                server = Server(cmd + [f"127.0.0.1:{port}"], work, port)
                first = f"  {name}: first build {server.first_build:.1f} s"
                try:
                    times = saves(work, server, count, name.split()[0])
                    rss = server.peak_rss_mb()
                finally:
                    server.stop()
                print(f"{first}, peak RSS {rss:.0f} MB", flush=True)
                print(summary(name, times), flush=True)
                shutil.rmtree(work, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
