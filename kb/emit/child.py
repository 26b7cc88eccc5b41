"""Run a child process that does not outlive this one.

Linux: the child asks the kernel for SIGKILL when its parent dies (prctl PR_SET_PDEATHSIG), which
holds even when the parent is killed with SIGKILL. Elsewhere the child gets its own process group,
and SIGTERM / SIGHUP / SIGINT sent to this process kill that group before this process goes.
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Callable

_PR_SET_PDEATHSIG = 1    # linux/prctl.h
_ON_LINUX = sys.platform.startswith("linux")


def _die_with(parent: int, prctl: Callable) -> Callable[[], None]:
    def preexec() -> None:      # runs in the child between fork and exec
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:     # the parent died before the request took effect
            os._exit(1)
    return preexec


def run_tied(cmd: list[str], cwd: Path, env: dict[str, str]) -> int:
    """cmd's exit code; the child is killed if this process dies first."""
    if _ON_LINUX:
        prctl = ctypes.CDLL(None, use_errno=True).prctl     # looked up here: no ctypes work after fork
        return subprocess.run(cmd, cwd=cwd, env=env, preexec_fn=_die_with(os.getpid(), prctl)).returncode
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, preexec_fn=os.setpgrp)   # its own process group
    names = ("SIGTERM", "SIGHUP", "SIGINT")
    sigs = [getattr(signal, n) for n in names if hasattr(signal, n)]

    def kill_group(signum: int, _frame: object) -> None:
        try:
            if hasattr(os, "killpg"):
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
        except OSError:
            pass
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    previous = {s: signal.signal(s, kill_group) for s in sigs}
    try:
        return proc.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
