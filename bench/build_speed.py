#!/usr/bin/env python3
"""Build-speed benchmark: the project's build against stock mkdocs-material, same pages.

    python bench/build_speed.py [--notes 500 1000 2000] [--runs N] [--gen PATH] [--big-data]

For each N, the shared generator writes N notes twice: in our syntax (wikilinks,
embeds, ```table blocks) built with the project's hook and theme overrides, and as
plain Markdown (nested folders, static tables) built with stock mkdocs-material
(navigation.indexes + navigation.prune, the best stock set-up). Prints both build
times (each the best of --runs builds, default 1), their ratio, the average page
size and each build's peak memory: the peak RSS of the `mkdocs build` process (the
highest of its --runs builds; MB of 2**20 bytes, as in the other benches), read from
the kernel when it exits (wait4). Neither build starts processes of its own, so that
is the build's whole peak. `--big-data` adds a 1,000,000-row CSV read by 200 table
blocks. Figures, not pass/fail: nothing here is a timed test.
"""
from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_GEN = ROOT.parent / "shared" / "bench" / "gen_vault.py"

PROJECT_YML = """site_name: Bench vault
docs_dir: notes
theme:
  name: material
  custom_dir: {overrides}
hooks:
  - {hook}
markdown_extensions:       # stock's set (tables, toc), plus the two the engine's output uses
  - attr_list
  - md_in_html
  - tables
  - toc:
      permalink: true
"""


def run(cmd: list[str], cwd: Path) -> None:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    subprocess.run(cmd, cwd=cwd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def run_measured(cmd: list[str], cwd: Path) -> int:
    """Run cmd; its peak RSS in KiB (the kernel's figure for the child, given when it is reaped)."""
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            err.seek(0)
            raise subprocess.CalledProcessError(proc.returncode, cmd, stderr=err.read())
    return usage.ru_maxrss      # KiB on Linux


def build_seconds(project: Path, runs: int = 1) -> tuple[float, int]:
    """Wall time of `mkdocs build`, the best of `runs` (each into a fresh site folder), and
    the highest peak RSS of those builds (KiB)."""
    best, peak = float("inf"), 0
    for _ in range(runs):
        shutil.rmtree(project / "site", ignore_errors=True)
        start = time.perf_counter()
        rss = run_measured([sys.executable, "-m", "mkdocs", "build", "-q", "-d", "site"], project)
        best = min(best, time.perf_counter() - start)
        peak = max(peak, rss)
    return best, peak


def page_stats(site: Path) -> tuple[int, float]:
    pages = list(site.rglob("index.html"))
    pages = [p for p in pages if "notes" not in p.relative_to(site).parts[:1]]   # not the id redirects
    total = sum(p.stat().st_size for p in pages)
    return len(pages), total / max(1, len(pages))


def generate(gen: Path, out: Path, notes: int, flavor: str) -> None:
    run([sys.executable, str(gen), str(out), "--notes", str(notes), "--flavor", flavor], ROOT)


def use_project_build(project: Path) -> None:
    (project / "mkdocs.yml").write_text(PROJECT_YML.format(overrides=ROOT / "overrides", hook=ROOT / "hooks" / "kb_hook.py"))


def compare(gen: Path, notes: int, tmp: Path, runs: int = 1) -> dict:
    ours, stock = tmp / f"kb-{notes}", tmp / f"plain-{notes}"
    generate(gen, ours, notes, "kb")
    use_project_build(ours)
    generate(gen, stock, notes, "plain")
    t_ours, rss_ours = build_seconds(ours, runs)
    t_stock, rss_stock = build_seconds(stock, runs)
    n_ours, size_ours = page_stats(ours / "site")
    n_stock, size_stock = page_stats(stock / "site")
    return {"notes": notes, "ours": t_ours, "stock": t_stock, "ratio": t_ours / t_stock,
            "pages_ours": n_ours, "pages_stock": n_stock, "size_ours": size_ours, "size_stock": size_stock,
            "rss_ours": rss_ours, "rss_stock": rss_stock}


def big_data(tmp: Path, rows: int = 1_000_000, blocks: int = 200) -> dict:
    """A 1,000,000-row CSV and 200 table blocks on it (each CSV is read once per build)."""
    project = tmp / "bigdata"
    (project / "notes").mkdir(parents=True)
    (project / "data").mkdir()
    rng = random.Random(7)
    models = ["resnet50", "bert-base", "bert-large", "gpt2", "t5-small", "vit-b16", "yolov5", "distilbert"]
    insts = ["inf1.xlarge", "inf2.xlarge", "g4dn.xlarge", "g5.xlarge", "p3.2xlarge", "c6i.4xlarge"]
    start = time.perf_counter()
    with open(project / "data" / "big.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Model", "Inst. Type", "Batch Size", "Throughput (/sec)", "Latency P99 (ms)"])
        for _ in range(rows):
            bs = rng.choice((1, 2, 4, 8, 16, 32, 64))
            thr = round(rng.uniform(10, 5000), 1)
            w.writerow([rng.choice(models), rng.choice(insts), bs, thr, round(bs / thr * 1000 * 1.3, 2)])
    gen_s = time.perf_counter() - start
    (project / "notes" / "root.md").write_text("---\nid: root\ntitle: Big data\n---\n\nMany tables.\n")
    for i in range(blocks):
        model, inst = models[i % len(models)], insts[i % len(insts)]
        (project / "notes" / f"t.n{i:03d}.md").write_text(
            f"---\nid: t{i:03d}\ntitle: Table {i}\n---\n\n"
            "```table\nsource: big.csv\n"
            f"where: Model == \"{model}\" and `Inst. Type` == \"{inst}\" and `Batch Size` >= {1 + i % 8}\n"
            "derive:\n  Per image (ms): 1000 / `Throughput (/sec)`\n"
            "columns: [Model, Inst. Type, Batch Size, Throughput (/sec), Per image (ms)]\n"
            "sort: [-Throughput (/sec)]\nlimit: 20\nround: {Per image (ms): 2}\n```\n")
    use_project_build(project)
    return {"rows": rows, "blocks": blocks, "csv_mb": (project / "data" / "big.csv").stat().st_size / 1e6,
            "gen_s": gen_s, "build": build_seconds(project)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--notes", type=int, nargs="+", default=[500, 1000, 2000])
    ap.add_argument("--gen", type=Path, default=DEFAULT_GEN, help="path of shared/bench/gen_vault.py")
    ap.add_argument("--big-data", action="store_true", help="also time a 1,000,000-row CSV with 200 blocks")
    ap.add_argument("--runs", type=int, default=1, help="time each build this many times, keep the best")
    ap.add_argument("--keep", action="store_true", help="keep the generated projects")
    a = ap.parse_args()
    if not a.gen.is_file():
        print(f"generator not found: {a.gen} (pass --gen PATH)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="kb-bench-"))
    print(f"{'notes':>6} {'project s':>10} {'stock s':>9} {'ratio':>6} {'pages':>6} {'avg page KB (project)':>22} "
          f"{'avg page KB (stock)':>20} {'peak MB (project)':>18} {'peak MB (stock)':>16}")
    for n in a.notes:
        r = compare(a.gen, n, tmp, a.runs)
        print(f"{r['notes']:>6} {r['ours']:>10.1f} {r['stock']:>9.1f} {r['ratio']:>6.2f} {r['pages_ours']:>6} "
              f"{r['size_ours'] / 1024:>22.1f} {r['size_stock'] / 1024:>20.1f} "
              f"{r['rss_ours'] / 1024:>18.0f} {r['rss_stock'] / 1024:>16.0f}", flush=True)
    if a.big_data:
        r = big_data(tmp)
        secs, peak = r["build"]
        print(f"\n1,000,000-row CSV ({r['csv_mb']:.0f} MB), {r['blocks']} table blocks: build {secs:.1f} s, "
              f"peak RSS {peak / 1024:.0f} MB")
    if a.keep:
        print(f"projects kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
