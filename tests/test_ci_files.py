"""The CI the project gives its users: a GitHub Actions workflow and a pre-commit hook that run kb."""
from __future__ import annotations

import yaml

from test_cli_support import ROOT


def test_the_workflow_checks_with_annotations_then_builds_and_keeps_the_note_cache() -> None:
    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "kb.yml").read_text(encoding="utf-8"))
    assert {"push", "pull_request"} <= set(flow[True] if True in flow else flow["on"])   # YAML 1.1 reads `on` as true
    steps = flow["jobs"]["check-and-build"]["steps"]
    runs = [s.get("run", "").strip() for s in steps]
    check, build = runs.index("kb check --format github"), runs.index("kb build")
    assert check < build
    cache = [i for i, s in enumerate(steps) if s.get("uses", "").startswith("actions/cache@")]
    assert cache and cache[0] < check
    assert steps[cache[0]]["with"]["path"] == ".kb-cache/notes"


def test_the_pre_commit_hook_runs_kb_check_on_notes() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["entry"] == "kb check" and hook["files"] == r"^notes/.*\.md$"
