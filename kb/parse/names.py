"""Note names as Dendron matches them: without regard to case.

Dendron finds `[[prdct.graphml]]` in `prdct.GraphML.md`, and files `a.java.x` under the
note `a.Java`. A name keeps its own spelling (in its file and its URL); lookups go
through its key, the lowercase form (Dendron lowercases names to compare them).
"""
from __future__ import annotations

from typing import Iterable


def name_key(fname: str) -> str:
    """The form under which two spellings of one note name meet."""
    return fname.lower()


class NameIndex:
    """Names by their key; the first spelling added keeps a key."""

    def __init__(self, names: Iterable[str] = ()):
        self._by_key: dict[str, str] = {}
        for name in names:
            self.add(name)

    def add(self, name: str) -> str:
        """Registers `name`; returns the spelling that holds its key (itself, or an earlier one)."""
        return self._by_key.setdefault(name.lower(), name)

    def find(self, name: str) -> str | None:
        """The spelling held for `name`'s key, or None."""
        return self._by_key.get(name.lower())

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._by_key
