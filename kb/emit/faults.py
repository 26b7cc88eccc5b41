"""Crash test hook: KB_FAULT_KILL_AFTER=N makes this process kill itself with SIGKILL right after
its Nth file operation (counted by `kb rename`, its journal recovery, and `kb build`).

A kill -9 cannot be caught, so it proves what a power cut or an OOM kill would leave behind.
Unset (the normal case) it costs one counter increment per operation.
"""
from __future__ import annotations

import os
import signal

KILL_AFTER_ENV = "KB_FAULT_KILL_AFTER"

_done = 0
_limit: int | None = None
_read = False


def step() -> None:
    """One file operation has just completed."""
    global _done, _limit, _read
    if not _read:
        value = os.environ.get(KILL_AFTER_ENV, "").strip()
        _limit = int(value) if value.isdigit() else None
        _read = True
    _done += 1
    if _limit is not None and _done >= _limit:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
