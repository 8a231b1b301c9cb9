"""The TOML reader (the standard library's tomllib, tomli on Python 3.10), imported on first use: importing it
costs a one-file run ~8 ms, and most runs read no TOML at all."""

from __future__ import annotations

from types import ModuleType


def tomllib() -> ModuleType:
    try:
        import tomllib as reader
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as reader  # type: ignore[no-redef]
    return reader
