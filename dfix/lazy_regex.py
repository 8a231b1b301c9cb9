"""Module-level regular expressions compiled when first used.

dfix's modules hold some sixty patterns, ~11 ms of compiling at every start (Python 3.11), and a one-file
run uses about half of them: the rules whose instructions a file lacks never ask. ``lazy_compile`` takes the
arguments of ``re.compile`` and stands for the pattern; its first use of an attribute (``search``,
``match``, ``pattern``, ...) compiles it, and each attribute is then an ordinary instance attribute, so
later calls cost what a compiled pattern's do. Pass it only where a pattern's methods are called, not to
``re.sub`` and the like, which need the compiled object (``.compiled`` gives it).
"""

from __future__ import annotations

import re
from typing import Any


class LazyPattern:
    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._source = (pattern, flags)

    @property
    def compiled(self) -> re.Pattern[str]:
        return re.compile(*self._source)  # re's own cache answers every call after the first

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy, pickle and the like probe for protocols: they are not the pattern's
            raise AttributeError(name)
        value = getattr(self.compiled, name)
        self.__dict__[name] = value
        return value

    def __reduce__(self) -> tuple:
        return lazy_compile, self._source  # what it stands for, not the compiled pattern's bound methods

    def __repr__(self) -> str:
        return f"lazy_compile({self._source[0]!r}, {self._source[1]!r})"


def lazy_compile(pattern: str, flags: int = 0) -> LazyPattern:
    return LazyPattern(pattern, flags)
