"""Swap two folders in one atomic step: Linux renameat2(RENAME_EXCHANGE), macOS renamex_np(RENAME_SWAP).

Both names exist before and after, so a reader (or a kill -9) never sees either one missing.
`exchange` answers False where the system or the file system cannot do it; the caller then
falls back to two renames.
"""
from __future__ import annotations

import ctypes
import errno
import os
import sys
from pathlib import Path

NO_EXCHANGE_ENV = "KB_BUILD_NO_EXCHANGE"   # test hook: behave as if the system had no exchange

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2     # linux/fs.h
_RENAME_SWAP = 2         # macOS sys/stdio.h
_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV}


def _libc_function(name: str):
    try:
        return getattr(ctypes.CDLL(None, use_errno=True), name)
    except (OSError, AttributeError):
        return None


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap what the names a and b point to; False if that is not possible here."""
    if os.environ.get(NO_EXCHANGE_ENV):
        return False
    if sys.platform.startswith("linux"):
        fn = _libc_function("renameat2")
        if fn is None:
            return False
        fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
        rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    elif sys.platform == "darwin":
        fn = _libc_function("renamex_np")
        if fn is None:
            return False
        fn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint]
        rc = fn(os.fsencode(a), os.fsencode(b), _RENAME_SWAP)
    else:
        return False
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in _UNSUPPORTED:
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))
