"""BuildKit's own parser (the optional `dockerfile` package) as a guard: it must accept what we write."""

from __future__ import annotations

_MODULE = None
_MISSING = object()


def available() -> bool:
    return _load() is not None


def _load():
    global _MODULE
    if _MODULE is None:
        try:
            import dockerfile  # noqa: PLC0415 - optional, and slow to import on the hot path

            _MODULE = dockerfile
        except ImportError:
            _MODULE = _MISSING
    return None if _MODULE is _MISSING else _MODULE


class OracleError(ValueError):
    pass


def instruction_lines(text: str) -> list[tuple[str, int, int]] | None:
    """(keyword, first line, last line) for each instruction as BuildKit reads it; None without the package."""
    module = _load()
    if module is None:
        return None
    try:
        commands = module.parse_string(text)
    except module.GoParseError as err:
        raise OracleError(str(err)) from None
    return [((c.cmd or "").upper(), c.start_line, c.end_line) for c in commands]
