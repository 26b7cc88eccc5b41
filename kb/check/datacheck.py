"""The data side of `kb check`: problems of data/ (CSVs, schema.yml, links.yml) and of every
table and chart block, without drawing anything.

Results are kept in the note cache while the content of data/ and the note names stay the
same; then pandas is not even imported. What is not kept is worked out by `Job`: with `fork`,
in a process started before the notes are parsed, while the process is still small (a fork of
a big one makes both pay for copying the pages they write). Importing pandas and reading the
CSVs take about half a second: a small vault's check is shorter, so the job starts at once;
in a big one (`late`) it waits until it is sent the blocks, and takes the processor the parse
does not need: the one left while the links are checked.
"""
from __future__ import annotations

from dataclasses import astuple
from pathlib import Path
from typing import Any, Callable

from ..parse.diagnostics import Diagnostic
from ..parse.forked import Job
from ..parse.notecache import NoteCache

Block = tuple[str, str, str, int]      # kind, block text, note path, line of the block's first line


class DataCheck:
    """`add` every block while the notes are prepared, `send` them, then `diagnostics()` once."""

    def __init__(self, data_dir: Path, project_root: Path, names: list[str],
                 cache: NoteCache | None = None, fork: bool = False, late: bool = False):
        self._args = (data_dir, project_root, names)
        self._late = late
        self._memo: dict[str, Any] = cache.data_results(data_dir, names) if cache is not None else {"blocks": {}}
        self._uses: list[tuple[str, str, int]] = []      # (memo key, note path, line) per block
        self._todo: dict[str, Block] = {}                # blocks whose problems are not known yet
        self._sent: dict[str, Block] | None = None       # the blocks sent to the job, once sent
        self._job: Job | None = None
        if "context" not in self._memo:
            self._job = Job(self._work, fork)

    def add(self, kind: str, body: str, path: str, body_line: int) -> None:
        """A block of a note; its problems come with `diagnostics()`. Vaults repeat blocks:
        each distinct text is checked once."""
        key = kind + "\n" + body
        self._uses.append((key, path, body_line))
        if key not in self._memo["blocks"] and key not in self._todo and key not in (self._sent or ()):
            self._todo[key] = (kind, body, path, body_line)

    def send(self) -> None:
        """Start the job on the blocks added so far (it works while the links are checked)."""
        if self._job is not None and self._sent is None:
            self._sent, self._todo = self._todo, {}
            self._job.send(self._sent)

    def diagnostics(self) -> list[Diagnostic]:
        """Problems of data/ and of every block added (each at its own note's lines)."""
        self.send()
        if self._job is not None:
            self._record(*self._job.result(), self._sent or {})
            self._job = None
        if self._todo:      # blocks not sent (the context's problems were kept, or added late)
            job = Job(self._work, fork=False)
            job.send(self._todo)
            self._record(*job.result(), self._todo)
            self._todo = {}
        out = [Diagnostic(*d) for d in self._memo.get("context", [])]
        blocks = self._memo["blocks"]
        for key, path, body_line in self._uses:
            out.extend(Diagnostic(other or path, line if other else line + body_line, col, sev, msg, code)
                       for other, line, col, sev, msg, code in blocks[key])
        self._uses = []
        return out

    def _record(self, context: list[Diagnostic] | None, found: dict[str, list[Diagnostic]],
                done: dict[str, Block]) -> None:
        if context is not None:
            self._memo["context"] = [list(astuple(d)) for d in context]
        for key, (_kind, _body, path, body_line) in done.items():
            # Lines in the note are kept relative to the block; other files' (a CSV's) as they are.
            self._memo["blocks"][key] = [
                [None, d.line - body_line, d.col, d.severity, d.message, d.code] if d.path == path
                else [d.path, d.line, d.col, d.severity, d.message, d.code] for d in found.get(key, [])]

    def _work(self, receive: Callable[[], Any]) -> tuple[list[Diagnostic] | None, dict[str, list[Diagnostic]]]:
        """In the job (once it receives the blocks, if `late`): the context's problems (unless
        kept), then those of the blocks."""
        todo: dict[str, Block] | None = (receive() or {}) if self._late else None
        data_dir, root, names = self._args
        try:
            from ..data import DataContext, check_block
        except ImportError:         # the data engine is optional for vaults without data/
            if todo is None:
                receive()
            return [], {}
        known = set(names)
        ctx = DataContext(data_dir, root, known.__contains__, known_notes=names)
        context = ctx.diagnostics() if "context" not in self._memo else None
        if todo is None:
            todo = receive() or {}
        found = {key: check_block(kind, body, ctx, note_path=path, body_line=line)
                 for key, (kind, body, path, line) in todo.items()}
        return context, found
