"""Unified diffs that show exactly what changes, including line endings and a missing final newline."""

from __future__ import annotations

import difflib
import sys
from typing import TextIO

_NO_EOL = "\\ No newline at end of file\n"


def unified_diff(before: str | None, after: str, path: str) -> str:
    """`before` None: a new file (`--- /dev/null`)."""
    a = (before or "").splitlines(keepends=True)
    b = after.splitlines(keepends=True)
    out = []
    for line in difflib.unified_diff(a, b, "/dev/null" if before is None else f"a/{path}", f"b/{path}"):
        if line.startswith(("---", "+++")):
            out.append(line.rstrip("\r\n") + "\n")
            continue
        if not line.endswith("\n"):
            out.append(line + "\n" + _NO_EOL)
        else:
            out.append(line)
    return "".join(out)


def print_diff(diff: str, stream: TextIO = sys.stdout, color: bool = False) -> None:
    if not color:
        stream.write(diff)
        return
    from rich.console import Console  # lazy: rich costs ~100 ms to import
    from rich.text import Text

    console = Console(file=stream, highlight=False, soft_wrap=True)
    styles = {"+": "green", "-": "red", "@": "cyan"}
    for line in diff.splitlines():
        style = "bold" if line.startswith(("---", "+++")) else styles.get(line[:1], "")
        console.print(Text(line, style=style))
