#!/usr/bin/env python3
"""Peak memory and time of `kb build`'s HTML link check (kb/check/htmlcheck.py) on a built site.

    python bench/htmlcheck_memory.py SITE_DIR [--rev GIT_REV ...]

Each run is a fresh child process; its peak RSS comes from getrusage. `--rev` also runs the
kb/check/htmlcheck.py of those git revisions (for a before/after figure). Figures, not pass/fail.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import importlib.util, resource, sys, time
from pathlib import Path
spec = importlib.util.spec_from_file_location("kb._htmlcheck_probe", sys.argv[1])
mod = importlib.util.module_from_spec(spec); sys.modules[spec.name] = mod; spec.loader.exec_module(mod)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
problems = mod.check_site(Path(sys.argv[2]))
secs = time.perf_counter() - start
print(len(problems), f"{secs:.2f}", base / 1024, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def run(module: Path, site: Path) -> tuple[int, float, float, float]:
    out = subprocess.run([sys.executable, "-c", PROBE, str(module), str(site)], check=True,
                         capture_output=True, text=True, cwd=ROOT).stdout.split()
    return int(out[0]), float(out[1]), float(out[2]), float(out[3])


def _module_at(rev: str) -> str:
    """The check's source at REV: kb/check/htmlcheck.py, or kb/htmlcheck.py before kb/ was laid
    out by stage."""
    for where in ("kb/check/htmlcheck.py", "kb/htmlcheck.py"):
        shown = subprocess.run(["git", "show", f"{rev}:{where}"], cwd=ROOT, capture_output=True, text=True)
        if shown.returncode == 0:
            return shown.stdout
    raise SystemExit(f"{rev}: has no kb/check/htmlcheck.py nor kb/htmlcheck.py")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("site", type=Path)
    ap.add_argument("--rev", nargs="*", default=[])
    a = ap.parse_args()
    pages = sum(1 for _ in a.site.rglob("*.html"))
    print(f"{a.site}: {pages} HTML files")
    with tempfile.TemporaryDirectory() as tmp:
        modules = [("working tree", ROOT / "kb" / "check" / "htmlcheck.py")]
        for rev in a.rev:
            path = Path(tmp) / f"htmlcheck_{len(modules)}.py"
            path.write_text(_module_at(rev))
            modules.append((rev, path))
        for name, module in modules:
            n, secs, base, peak = run(module, a.site)
            print(f"  {name:<14} problems {n:>4}  {secs:6.2f} s  peak RSS {peak:6.0f} MB "
                  f"(of it {base:.0f} MB before the check)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
