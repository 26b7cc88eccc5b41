#!/usr/bin/env python3
"""Is parsing linear in a note's size? Times of `kb check` and of the build's parse for one big note.

    python bench/parse_scaling.py [--sizes 0.5 2 8 50] [--kinds realistic brackets ...]

For each size (MB) and kind of content, one note of that size is written into a copy of the
test fixture vault, and timed (best of 2):
  - `kb check --no-cache`, run in this process (kb.emit.cli.main), the note size limit lifted
    (kb.parse.noteread.NOTE_MAX_BYTES): the parse itself is what is measured, not the refusal;
  - the build's parse: kb.site.Site over the vault (everything the MkDocs hook computes
    before Python-Markdown, which the size limit and the pathological-line guard keep away
    from such notes).
Linear means: the seconds per MB stay about the same as the size grows.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import io
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

FM = "---\nid: big\ntitle: Big\ndesc: ''\nupdated: 1700000000000\ncreated: 1700000000000\n---\n\n"
WORDS = "the model runs on inf1 with batch size latency throughput cost per million inferences".split()


def realistic(size: int) -> str:
    """Paragraphs with wikilinks, headings, fenced code, lists with inline code, tags, users, blocks."""
    r = random.Random(1)
    parts, n, i = [], 0, 0
    while n < size:
        i += 1
        k = i % 10
        if k == 0:
            s = f"## Section {i}\n\n"
        elif k == 5:
            s = "```python\n" + "\n".join(f"x{j} = f({j})  # [[not.a.link]]" for j in range(5)) + "\n```\n\n"
        elif k == 7:
            s = f"- item with `code {i}` and [[hardware.gpu.t4]] ^blk{i}\n- second #tag{i % 7} @user{i % 3}\n\n"
        else:
            s = " ".join(r.choice(WORDS) for _ in range(60)) + " see [[hardware.gpu.t4]] and [[hardware.gpu#memory]].\n\n"
        parts.append(s)
        n += len(s)
    return "".join(parts)


def repeat(unit: str) -> Callable[[int], str]:
    return lambda size: unit * (size // len(unit))


KINDS: dict[str, Callable[[int], str]] = {
    "realistic": realistic,
    "brackets": repeat("[["),                     # one line of '[[' (the guard's case)
    "tags-one-line": repeat("#tag "),
    "code-lines": repeat("a `x` b\n"),
    "fences": repeat("```\ncode\n```\n"),
    "list-fences": repeat("- a\n  ```\n  code\n  ```\n"),
    "broken-links": lambda size: "".join(f"[[no.such{i}]]\n" for i in range(size // 16)),
}


def best(fn: Callable[[], object], runs: int = 2) -> float:
    out = float("inf")
    for _ in range(runs):
        gc.collect()
        t = time.perf_counter()
        fn()
        out = min(out, time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[0.5, 2, 8, 50])
    ap.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    args = ap.parse_args()

    from test_cli_support import make_vault
    import kb.parse.noteread
    from kb.emit.cli import main as kb_main
    from kb.site import Site
    kb.parse.noteread.NOTE_MAX_BYTES = 1 << 40        # measure the parse, not the refusal

    with tempfile.TemporaryDirectory() as tmp:
        proj = make_vault(Path(tmp))
        note = proj / "notes" / "big.md"
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            kb_main(["-C", str(proj), "check", "--no-cache"])     # imports (pandas) out of the figures
        Site(proj, "notes", "data")
        print(f"{'content':<14} {'MB':>5} {'kb check s':>11} {'s/MB':>6} {'build parse s':>14} {'s/MB':>6}")
        for kind in args.kinds:
            for mb in args.sizes:
                note.write_text(FM + KINDS[kind](int(mb * 1e6)), encoding="utf-8")

                def check() -> None:
                    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                        kb_main(["-C", str(proj), "check", "--no-cache"])

                c = best(check)
                b = best(lambda: Site(proj, "notes", "data"))
                print(f"{kind:<14} {mb:>5g} {c:>11.2f} {c / mb:>6.2f} {b:>14.2f} {b / mb:>6.2f}", flush=True)
        shutil.rmtree(proj, ignore_errors=True)


if __name__ == "__main__":
    main()
