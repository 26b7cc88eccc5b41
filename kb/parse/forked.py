"""Work done beside the main one in a forked process (`kb check` on Linux), or in line elsewhere.

A forked child starts with a copy of everything the parent has built, so it needs neither
imports nor pickled inputs; it may be sent one more message, and pickles back its result.
Only the `kb` command uses this (`jobs > 1`): it runs no other threads that a fork could
catch holding a lock.
"""
from __future__ import annotations

import os
import pickle
import struct
import sys
import traceback
from typing import Any, Callable, TypeVar

CAN_FORK = sys.platform.startswith("linux")
T = TypeVar("T")
R = TypeVar("R")


def spread(items: list[T], jobs: int, here: Callable[[list[T]], R],
           there: Callable[[list[T]], Any], lead: float = 1.0) -> tuple[R, list[Any]]:
    """Split `items` into `jobs` chunks: here(first chunk) in this process while forked processes
    run there(chunk) on the others; their results, in order, come back. The first chunk is
    `lead` times the size of the others (which are equal, the last maybe shorter): more where a
    worker's result costs this process to take in, so that all end together."""
    first = min(len(items), round(len(items) * lead / (lead + jobs - 1)))
    size = max(1, -(-(len(items) - first) // max(1, jobs - 1)))
    chunks = [items[:first]] + [items[i:i + size] for i in range(first, len(items), size)]
    workers = [Job(lambda _message, chunk=chunk: there(chunk), fork=True) for chunk in chunks[1:]]
    return here(chunks[0]), [worker.result() for worker in workers]


class Job:
    """fn(receive) running in a child process: `send` gives it one message, `result` waits."""

    def __init__(self, fn: Callable[[Callable[[], Any]], Any], fork: bool):
        self._fn = fn
        self._message: Any = None
        self._pid = 0
        if not (fork and CAN_FORK):
            return
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        pid = os.fork()
        if pid == 0:    # the child: run, write the result, and leave without running the parent's exit code
            status = 0
            try:
                os.close(self._to_child)
                os.close(self._from_child)

                def receive() -> Any:
                    data = _read_all(to_child_r)
                    return pickle.loads(data) if data else None   # None: the parent sent nothing
                try:
                    payload = pickle.dumps((True, fn(receive)), protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException:       # reported by the parent, with the child's traceback
                    payload = pickle.dumps((False, traceback.format_exc()))
                _write_all(from_child_w, payload)
            except BaseException:
                status = 1
            finally:
                os._exit(status)
        self._pid = pid
        os.close(to_child_r)
        os.close(from_child_w)

    def send(self, message: Any) -> None:
        if self._pid:
            _write_all(self._to_child, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
            self._to_child = -1
        else:
            self._message = message

    def result(self) -> Any:
        if not self._pid:
            return self._fn(lambda: self._message)
        if self._to_child >= 0:          # nothing was sent: the child receives None
            os.close(self._to_child)
        data = _read_all(self._from_child)
        os.waitpid(self._pid, 0)
        self._pid = 0
        if not data:
            raise RuntimeError("a kb worker process ended without a result")
        ok, value = pickle.loads(data)
        if not ok:
            raise RuntimeError(f"a kb worker process failed:\n{value}")
        return value


# Messages are framed by their length: a process forked later holds copies of these pipes'
# ends, so the end of a message cannot wait for every copy to close.
_LEN = struct.Struct("<Q")


def _read_all(fd: int) -> bytes:
    """One message (b"" when the other side closed without sending)."""
    try:
        head = _read_n(fd, _LEN.size)
        return _read_n(fd, _LEN.unpack(head)[0]) if len(head) == _LEN.size else b""
    finally:
        os.close(fd)


def _read_n(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    try:
        view = memoryview(_LEN.pack(len(data)) + data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
