"""A cached attribute for the parse objects that a big vault makes by the ten thousand."""
from __future__ import annotations

from typing import Any, Callable, Generic, TypeVar

T = TypeVar("T")


class cached(Generic[T]):
    """functools.cached_property without its per-instance lock (Python 3.11 takes one on every
    first access, which cost a big vault's check a tenth of its time). Not for objects shared
    between threads; ours are made and read by one."""

    def __init__(self, func: Callable[[Any], T]):
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> T:
        if obj is None:
            return self  # type: ignore[return-value]
        value = obj.__dict__[self.name] = self.func(obj)    # later reads find it in __dict__
        return value
