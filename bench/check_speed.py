#!/usr/bin/env python3
"""How fast is `kb check`? And the built-site link check, next to lychee.

    python bench/check_speed.py [--gen PATH] [--sizes 1000 10000] [--build-size 1000] [--profile]

Generates synthetic vaults (gen_vault.py, flavor kb) in a temporary folder, writes kb's
bytecode (as an installed package has it), times `kb check` on each (wall clock of the real command, best of 3: without its note cache, with an
empty one, with a full one, with a full one after a checkout gave every file a new time, and
after editing one note), builds one site with
`mkdocs build` (not strict: the figures are about speed) and times the HTML link check
of `kb build` and, when installed (`pip install -e '.[bench]'`), lychee on that site.
Target: `kb check` on 10,000 notes under 2 s. --profile prints where the time goes.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_GEN = ROOT.parent / "shared" / "bench" / "gen_vault.py"
TARGET_S = 2.0


def bin_path(name: str) -> str | None:
    """A tool installed next to this Python (the venv), else on PATH."""
    local = Path(sys.executable).with_name(name)
    return str(local) if local.is_file() else shutil.which(name)


def best_of(cmd: list[str], runs: int = 3, cwd: Path | None = None,
            before: Callable[[], object] = lambda: None) -> tuple[float, int]:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    best, rc = float("inf"), 0
    for _ in range(runs):
        before()
        t = time.perf_counter()
        rc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        best = min(best, time.perf_counter() - t)
    return best, rc


def generate(gen: Path, out: Path, notes: int) -> Path:
    subprocess.run([sys.executable, str(gen), str(out), "--notes", str(notes), "--flavor", "kb"],
                   check=True, stdout=subprocess.DEVNULL)
    cfg = out / "mkdocs.yml"
    hook = (ROOT / "hooks" / "kb_hook.py").as_posix()
    cfg.write_text(cfg.read_text(encoding="utf-8") + f"\nhooks:\n  - {hook}\n", encoding="utf-8")
    # As in a working copy: files last changed a while ago (the note cache checks notes changed
    # in the last two seconds by their content).
    set_times(out, 600)
    return out


def compile_kb() -> None:
    """Write kb's bytecode, as an installed package has it (pip compiles at install; an editable
    install on first import, unless PYTHONDONTWRITEBYTECODE is set): the figures are of the
    checks, not of compiling kb's source on every run (about 50 ms)."""
    import compileall
    compileall.compile_dir(ROOT / "kb", quiet=1)


def set_times(folder: Path, seconds_ago: float) -> None:
    then = time.time() - seconds_ago
    for path in folder.rglob("*"):
        os.utime(path, (then, then))


def check_rows(kb: str, vault: Path, n: int, runs: int) -> list[tuple[str, int, float, str]]:
    """kb check without its cache, with an empty one, with a full one, after a checkout (every
    file has a new time, the cache is the one restored) and after an edit."""
    cmd = [kb, "-C", str(vault), "check"]
    cache = vault / ".kb-cache" / "notes"
    edited = sorted((vault / "notes").glob("*.md"))[n // 2]
    checkouts = iter(range(1, 100))

    def checkout() -> None:     # what a clone, a branch switch or a cache restored in CI looks like
        set_times(vault / "notes", 300 - next(checkouts))
        set_times(vault / "data", 300)

    def edit() -> None:         # what a pre-commit run sees: one note just saved
        with edited.open("a", encoding="utf-8") as f:
            f.write("\nOne more line.\n")

    rows = []
    for task, extra, before in (("kb check --no-cache", ["--no-cache"], lambda: None),
                                ("kb check, empty cache (first run)", [], lambda: shutil.rmtree(cache, True)),
                                ("kb check, cache full (nothing changed)", [], lambda: None),
                                ("kb check, cache full, after a checkout", [], checkout),
                                ("kb check, one note edited", [], edit)):
        if task.startswith("kb check, cache full"):
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)    # fill it
        secs, rc = best_of(cmd + extra, runs, before=before)
        verdict = ("meets the 2 s target" if secs < TARGET_S else "over the 2 s target") if n == 10000 else ""
        rows.append((task, n, secs, f"exit {rc} {verdict}".strip()))
    return rows


def profile_check(vault: Path, top: int = 25) -> str:
    from kb.check.checker import check
    prof = cProfile.Profile()
    prof.runcall(check, vault)
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(top)
    return buf.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gen", type=Path, default=DEFAULT_GEN, help="gen_vault.py (default: %(default)s)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--build-size", type=int, default=1000, help="vault size for the site link checks (0: skip)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="cProfile kb check on the largest vault")
    args = ap.parse_args()
    if not args.gen.is_file():
        print(f"no generator at {args.gen}; pass --gen PATH", file=sys.stderr)
        return 2
    kb = bin_path("kb") or ""
    compile_kb()
    rows: list[tuple[str, int, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        vaults = {n: generate(args.gen, Path(tmp) / f"v{n}", n) for n in sorted(set(args.sizes) | {args.build_size} - {0})}
        for n in sorted(args.sizes):
            rows.extend(check_rows(kb, vaults[n], n, args.runs))
        if args.build_size:
            vault = vaults[args.build_size]
            site = vault / "site"
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(vault / "mkdocs.yml"),
                            "-d", str(site)], check=True, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))
            rows.append(("mkdocs build (once)", args.build_size, time.perf_counter() - t, ""))
            probe = ("import sys; from pathlib import Path; from kb.check.htmlcheck import check_site; "
                     "sys.exit(1 if check_site(Path(sys.argv[1])) else 0)")
            secs, rc = best_of([sys.executable, "-c", probe, str(site)], args.runs)
            rows.append(("kb build's HTML link check", args.build_size, secs, f"exit {rc}"))
            lychee = bin_path("lychee")
            if lychee:
                base = [lychee, "--offline", "--include-fragments", "--no-progress"]
                secs, rc = best_of([*base, str(site)], args.runs)
                rows.append(("lychee --offline --include-fragments", args.build_size, secs,
                             f"exit {rc}" + (" (false alarms: directory URLs, 404.html's /links)" if rc else "")))
                # What it takes for lychee to read MkDocs' directory URLs the way a web server does.
                secs, rc = best_of([*base, "--index-files", "index.html", "--root-dir", str(site), str(site)], args.runs)
                rows.append(("  ... --index-files index.html --root-dir", args.build_size, secs, f"exit {rc}"))
            else:
                rows.append(("lychee (not installed: pip install -e '.[bench]')", args.build_size, float("nan"), ""))
        print(f"{'task':<44} {'notes':>6} {'seconds':>8}  note")
        for task, n, secs, note in rows:
            print(f"{task:<44} {n:>6} {secs:>8.2f}  {note}")
        if args.profile:
            print(profile_check(vaults[max(args.sizes)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
