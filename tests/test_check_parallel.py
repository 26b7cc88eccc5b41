"""`kb check` spreads its work over processes where it can (notes parsed in forked workers,
data/ checked beside them, summaries written while links are checked): the problems found are
the same as in one process, and a worker's failure is reported, not lost."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_cli_support import make_vault, write_note

from kb.parse.forked import CAN_FORK, Job, spread
from kb.parse.notecache import CACHE_DIR
from kb.parse.vault import PARALLEL_MIN

# Run in a fresh interpreter: forking a pytest worker (which has threads) is not what kb does.
RUN_CHECK = """
import json, sys
from pathlib import Path
import kb.check.checker
from kb.check.checker import check
out = {}
for jobs in (1, 2):
    for cache in (False, True, True):        # without a cache, filling it, from it
        found = check(Path(sys.argv[1]), cache=cache, jobs=jobs)
        out.setdefault(f"{jobs}-{cache}", []).append([d.format() for d in found])
kb.check.checker.LATE_DATA_MIN = 0                 # the data checks start after the parse, as in a big vault
out["2-late"] = [[d.format() for d in check(Path(sys.argv[1]), cache=False, jobs=2)]]
print(json.dumps(out))
"""


@pytest.mark.skipif(not CAN_FORK, reason="kb forks workers on Linux only")
def test_one_process_and_several_find_the_same_problems(tmp_path: Path) -> None:
    proj = make_vault(tmp_path)
    n = PARALLEL_MIN + 20                       # enough notes for the parse to be spread
    for i in range(n):                          # a ring of links; the last one's heading is wrong
        write_note(proj, f"bulk.n{i:04d}", f"## Part {i}\n\nSee [[bulk.n{(i + 1) % n:04d}#part-{i + 1}]].\n")
    write_note(proj, "x.links", "See [[hardware.gpu.t5]] and [[hardware.gpu#memmory]] and [[bulk.n0003#^nope]].\n")
    write_note(proj, "x.embeds", "![[hardware.gpu#nope]]\n\n![[x.loop]]\n")
    write_note(proj, "x.loop", "![[x.embeds]]\n")
    write_note(proj, "x.table", "```table\nsource: bench.csv\ncolumns: [GPU, Thruput]\n```\n")
    # Parsed by a worker (last in name order): frontmatter of every kind YAML reads comes back
    # from it, and what JSON cannot hold stays out of the cache.
    (proj / "notes" / "zz.odd.md").write_text(
        "---\nid: zzodd\ntitle: Odd\nset: !!set {a, b}\nraw: !!binary aGk=\nbig: 123456789012345678901234567890\n"
        "when: 2024-01-02\npairs: !!omap [{a: 1}, {b: 2}]\nwide: .inf\n---\n\nSee [[nowhere.at.all]].\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-c", RUN_CHECK, str(proj)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    runs = json.loads(r.stdout)
    first = runs["1-False"][0]
    codes = {line.rsplit("[", 1)[1].rstrip("]") for line in first}
    assert {"broken-link", "broken-anchor", "broken-block", "broken-embed", "embed-cycle",
            "data-unknown-column"} <= codes, first
    assert any(line.startswith('notes/zz.odd.md:12:5: error: no note named "nowhere.at.all"') for line in first)
    assert [line for line in first if line.startswith("notes/bulk.")] == [
        f'notes/bulk.n{n - 1:04d}.md:11:5: error: no heading "part-{n}" in "bulk.n0000" '
        f'(did you mean "part-0"?) [broken-anchor]']
    for key, results in runs.items():
        for found in results:
            assert found == first, key


CHECK_ONCE = """
import sys
from pathlib import Path
from kb.check.checker import check
for d in check(Path(sys.argv[1]), cache=True, jobs=2):
    print(d.format())
"""


@pytest.mark.skipif(not CAN_FORK, reason="kb forks workers on Linux only")
def test_after_a_checkout_content_hashes_are_compared_in_several_processes(tmp_path: Path) -> None:
    """Every file has a new time: the notes are read and hashed in several processes, and the
    ones whose hash is the one kept come from the cache (shown by changing what it says)."""
    proj = make_vault(tmp_path)
    for i in range(PARALLEL_MIN + 20):
        write_note(proj, f"bulk.n{i:04d}", f"## Part {i}\n")
    write_note(proj, "x.links", "See [[hardware.gpu.t4]].\n")
    then = time.time() - 60
    for path in (proj / "notes").iterdir():
        os.utime(path, (then, then))
    run = lambda: subprocess.run([sys.executable, "-c", CHECK_ONCE, str(proj)],  # noqa: E731
                                 capture_output=True, text=True, timeout=300)
    assert run().stdout == ""
    for shard in (proj / CACHE_DIR).glob("notes-*.json"):
        content = json.loads(shard.read_text(encoding="utf-8"))
        if "notes/x.links.md" in content["notes"]:
            entry = content["notes"]["notes/x.links.md"]
            entry[-1] = json.loads(json.dumps(entry[-1]).replace("hardware.gpu.t4", "hardware.gpu.t7"))
            shard.write_text(json.dumps(content), encoding="utf-8")
    for path in (proj / "notes").iterdir():
        os.utime(path, (then + 30, then + 30))
    r = run()
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("notes/x.links.md:") and 'no note named "hardware.gpu.t7"' in r.stdout


def _twice(receive):
    return [x * 2 for x in receive()]


def _fails(receive):
    raise ValueError("no good")


@pytest.mark.parametrize("fork", [True, False] if CAN_FORK else [False])
def test_a_job_gets_its_message_and_gives_back_its_result(fork: bool) -> None:
    job = Job(_twice, fork)
    job.send(list(range(100_000)))          # more than a pipe holds at once
    assert job.result() == [x * 2 for x in range(100_000)]


@pytest.mark.skipif(not CAN_FORK, reason="kb forks workers on Linux only")
def test_a_failing_worker_is_reported_with_its_traceback() -> None:
    job = Job(_fails, fork=True)
    with pytest.raises(RuntimeError, match=r"(?s)kb worker process failed.*ValueError: no good"):
        job.result()


@pytest.mark.parametrize("jobs, lead", [(2, 1.15), (3, 1.5), (4, 1.0), (2, 1.0)])
def test_spread_gives_this_process_its_lead_and_keeps_the_order(jobs: int, lead: float) -> None:
    items = list(range(103))
    mine, others = spread(items, jobs, list, lambda chunk: [x * 10 for x in chunk], lead=lead)
    assert len(others) == jobs - 1
    assert mine + [x // 10 for found in others for x in found] == items
    assert len(mine) == round(103 * lead / (lead + jobs - 1))
    assert all(len(found) == len(others[0]) for found in others[:-1]) and len(others[-1]) <= len(others[0])
