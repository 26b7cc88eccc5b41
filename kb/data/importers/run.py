"""`kb data import KIND FILE|DIR [--dry-run]`: plan, report, then write (or not)."""
from __future__ import annotations

import sys
from pathlib import Path

from kb.parse.project import Project

from . import mlperf, neuron
from .csvfiles import ImportRefused, apply, diff

EXIT_OK, EXIT_PROBLEMS = 0, 1


def import_file(project: Project, kind: str, path: Path, *, dry_run: bool) -> int:
    """Import one file (mlperf) or folder (neuron); one message and exit 1 when the input is
    refused (data/ untouched)."""
    display = project.rel(path) if path.is_absolute() else path.as_posix()
    data_dir = project.data_dir
    try:
        if kind == "mlperf":
            tables, unmapped = mlperf.plan(path, data_dir, display)
        elif kind == "neuron":
            tables, unmapped = neuron.plan(path, display), []
        else:                                     # argparse offers only the kinds above
            raise ImportRefused(f"unknown kind {kind!r}")
        if dry_run:
            changes = [diff(data_dir, t) for t in tables]
        else:
            changes, schema_grew = apply(data_dir, tables, display)
    except ImportRefused as e:
        print(f"kb data import: {e}", file=sys.stderr)
        return EXIT_PROBLEMS
    for ch in changes:
        print(ch.describe())
    for name in unmapped:
        # Not an error: the rows keep the name as their family until the families file learns it.
        print(f"kb data import: warning: no family for accelerator {name!r}; add a pattern to "
              f"data/{mlperf.FAMILIES_FILE}", file=sys.stderr)
    touched = sum(1 for ch in changes if ch.touched)
    if dry_run:
        print(f"kb data import: dry run, nothing written ({touched} of {len(changes)} files would change)",
              file=sys.stderr)
    else:
        if schema_grew:
            print("kb data import: added entries for the new files to data/schema.yml", file=sys.stderr)
        print(f"kb data import: {touched} of {len(changes)} files changed; review with git diff data/, "
              "then document new files in data/README.md", file=sys.stderr)
    return EXIT_OK
