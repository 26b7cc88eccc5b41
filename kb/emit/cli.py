"""The `kb` command: new, rename, check, build, data import. Exit codes: 0 fine, 1 problems found, 2 bad usage."""
from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path
from typing import Sequence

from ..parse.diagnostics import render
from ..parse.project import Project, ProjectError, find_project

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad usage already; this only makes the message point at --help."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
    return value


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a whole number >= 0: {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="kb", description="Author and check the knowledge base (a Dendron vault published with MkDocs).")
    p.add_argument("-C", dest="directory", metavar="DIR", help="run as if kb was started in DIR (like git -C)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    new = sub.add_parser("new", help="create notes/FNAME.md with Dendron frontmatter")
    new.add_argument("fname", metavar="FNAME", help="dotted note name, e.g. hardware.gpu.t4")
    new.add_argument("--title", help="the title (default: from the last part of FNAME)")

    ren = sub.add_parser("rename", help="rename a note and its subtree; rewrite every link to them")
    ren.add_argument("old", metavar="OLD")
    ren.add_argument("new", metavar="NEW")
    ren.add_argument("--dry-run", action="store_true", help="list what would change; change nothing")

    chk = sub.add_parser("check", help="check notes, links, embeds, tables, charts and data without building")
    chk.add_argument("--strict", action="store_true", help="warnings count as problems (exit 1)")
    chk.add_argument("--external", action="store_true", help="also check http(s) links (needs the network)")
    chk.add_argument("--format", choices=("text", "json", "github"), default="text",
                     help="text (default), json, or github (GitHub Actions annotations)")
    chk.add_argument("--timeout", type=_positive, default=10.0, metavar="SECONDS",
                     help="per request, for --external (default 10)")
    chk.add_argument("--retries", type=_count, default=2, metavar="N",
                     help="retries after a timeout, connection error, 429 or 5xx, for --external (default 2)")
    chk.add_argument("--jobs", type=_count, default=8, metavar="N",
                     help="requests at a time, for --external (default 8)")
    chk.add_argument("--no-cache", action="store_true",
                     help="read and parse every note, ignoring and not writing .kb-cache/notes/")
    chk.add_argument("--cache-ttl", type=_positive, default=86400.0, metavar="SECONDS",
                     help="how long a live URL is not asked again, for --external (default 86400)")

    srv = sub.add_parser("serve", help="build once, then serve with live reload, rendering only what a save changes")
    srv.add_argument("-a", "--dev-addr", default="127.0.0.1:8000", metavar="HOST:PORT",
                     help="where to serve (default 127.0.0.1:8000), as mkdocs serve's -a")

    bld = sub.add_parser("build", help="strict build, check the built HTML, then replace the site folder")
    bld.add_argument("--site-dir", metavar="DIR", help="where the site goes (default: site_dir of mkdocs.yml)")

    dat = sub.add_parser("data", help="maintain data/ (import public results files)")
    dsub = dat.add_subparsers(dest="data_command", metavar="ACTION", parser_class=_Parser)
    dsub.required = True
    imp = dsub.add_parser("import", help="write data/ CSVs from a public results file")
    isub = imp.add_subparsers(dest="kind", metavar="KIND", parser_class=_Parser)
    isub.required = True
    mlp = isub.add_parser("mlperf", help="an MLPerf Inference summary_results.json (v4.1 on) or a partial-round CSV")
    mlp.add_argument("file", metavar="FILE")
    mlp.add_argument("--dry-run", action="store_true", help="print what would change; write nothing")
    neu = isub.add_parser("neuron", help="the AWS Neuron SDK benchmark CSVs of an aws-neuron-sdk checkout")
    neu.add_argument("file", metavar="DIR", help="the checkout's root or its about-neuron/benchmarks folder")
    neu.add_argument("--dry-run", action="store_true", help="print what would change; write nothing")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.directory:
            if not Path(args.directory).is_dir():
                raise ProjectError(f"-C {args.directory}: no such folder")
            os.chdir(args.directory)     # as git -C does: relative paths are from DIR
        project = find_project(Path.cwd())
    except ProjectError as e:
        print(f"kb: {e}", file=sys.stderr)
        return EXIT_USAGE
    from .journal import recover_and_report     # a rename killed midway is finished first
    if not recover_and_report(project):
        return EXIT_PROBLEMS
    commands = {"new": cmd_new, "rename": cmd_rename, "check": cmd_check, "build": cmd_build,
                "data": cmd_data, "serve": cmd_serve}
    try:
        return commands[args.command](project, args)
    except KeyboardInterrupt:
        return 130


def cmd_new(project: Project, args: argparse.Namespace) -> int:
    from .newnote import UsageError, create_note, validate_fname
    try:
        validate_fname(args.fname)
    except UsageError as e:
        print(f"kb new: {e}", file=sys.stderr)
        return EXIT_USAGE
    if args.title is not None and not args.title.strip():
        print("kb new: --title is empty; give a title or leave the option out", file=sys.stderr)
        return EXIT_USAGE
    try:
        path = create_note(project.docs_dir, args.fname, args.title)
    except FileExistsError:
        rel = project.rel(project.docs_dir / f"{args.fname}.md")
        print(f"kb new: {rel} already exists; not overwriting it (edit it, or choose another name)", file=sys.stderr)
        return EXIT_PROBLEMS
    print(project.rel(path))
    return EXIT_OK


def cmd_rename(project: Project, args: argparse.Namespace) -> int:
    from .newnote import UsageError
    from .rename import RenameFailed, RenameRefused, apply_plan, plan_rename
    try:
        plan = plan_rename(project, args.old, args.new)
    except UsageError as e:
        print(f"kb rename: {e}", file=sys.stderr)
        return EXIT_USAGE
    except RenameRefused as e:
        print(f"kb rename: {e}", file=sys.stderr)
        return EXIT_PROBLEMS
    renamed, updated = ("would rename", "would update") if args.dry_run else ("renamed", "updated")
    moved = {old for old, _ in plan.moves}
    lines = [f"{renamed} {project.rel(old)} -> {project.rel(new)}" for old, new in plan.moves]
    for path, n in sorted(plan.edits.items()):
        if path not in moved:
            lines.append(f"{updated} {project.rel(path)} ({n} reference{'s' if n != 1 else ''})")
    if args.dry_run:
        print("\n".join(lines))
        print(f"kb rename: dry run, nothing changed ({len(plan.moves)} notes to rename, "
              f"{len(lines) - len(plan.moves)} other files to update)", file=sys.stderr)
        return EXIT_OK
    try:
        apply_plan(plan)
    except RenameFailed as e:
        print(f"kb rename: {e}", file=sys.stderr)
        return EXIT_PROBLEMS
    if lines:
        print("\n".join(lines))
    print(f'kb rename: "{plan.old}" is now "{plan.new}" ({len(plan.moves)} notes renamed, '
          f"{sum(plan.edits.values())} references rewritten)", file=sys.stderr)
    return EXIT_OK


def cmd_check(project: Project, args: argparse.Namespace) -> int:
    from ..check.checker import check, summary
    gc.disable()    # a short run that makes millions of objects and almost no cycles
    diags = check(project, external=args.external, timeout=args.timeout, retries=args.retries,
                  concurrency=max(1, args.jobs), cache_ttl=args.cache_ttl,
                  cache=not args.no_cache, jobs=_cpus())
    if diags or args.format == "json":
        print(render(diags, args.format))
    notes = sum(1 for _ in project.docs_dir.glob("*.md")) if project.docs_dir.is_dir() else 0
    print(summary(diags, notes), file=sys.stderr)
    errors = any(d.severity == "error" for d in diags)
    return EXIT_PROBLEMS if errors or (args.strict and diags) else EXIT_OK


def _cpus() -> int:
    """Processors this process may use (parsing changed notes is spread over them)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:      # not on Linux
        return os.cpu_count() or 1


def cmd_build(project: Project, args: argparse.Namespace) -> int:
    from .sitebuild import build
    site = Path(args.site_dir).resolve() if args.site_dir else None
    result = build(project, site)
    for d in result.problems:
        print(d.format())
    if not result.ok:
        print(f"kb build: {result.reason}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"kb build: built {project.rel(site or project.site_dir)}", file=sys.stderr)
    return EXIT_OK


def cmd_serve(project: Project, args: argparse.Namespace) -> int:
    host, _, port = args.dev_addr.rpartition(":")
    if not host or not port.isdigit():
        print(f"kb serve: -a {args.dev_addr}: give HOST:PORT, e.g. 127.0.0.1:8000", file=sys.stderr)
        return EXIT_USAGE
    import logging
    logging.basicConfig(format="%(levelname)-7s -  %(message)s", level=logging.INFO)
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    from .serve.server import serve
    return serve(project.config_file, host.strip("[]"), int(port))


def cmd_data(project: Project, args: argparse.Namespace) -> int:
    from ..data.importers.run import import_file
    return import_file(project, args.kind, Path(args.file), dry_run=args.dry_run)


def run() -> None:
    """The `kb` program: main(), then exit at once. Freeing the millions of objects a check of
    a big vault leaves, one by one, took longer than some whole checks."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
