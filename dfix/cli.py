"""The command line. `dfix [PATH ...]` fixes; `dfix rules` and `dfix explain CODE` describe the rules.

Subcommand names win over paths of the same name (as with git): `dfix ./rules` reaches a directory
called `rules`.

The common line of pre-commit hooks and editors (`dfix --check FILE`, a few flags, paths) is read here
without typer, whose import costs more than checking one Dockerfile; every other line (help, version,
subcommands, stdin, --select, the bulk and verify options, any mistake) goes to typer in commands.py,
so its messages and exit codes stay the only ones.
"""

from __future__ import annotations

import sys
from typing import List, Optional

SUBCOMMANDS = ("rules", "explain", "verify")
_FLAGS = {
    "--check": "check", "--dry-run": "dry_run", "--write": "write", "-w": "write", "--diff": "diff",
    "--quiet": "quiet", "-q": "quiet", "--unsafe-fixes": "unsafe_fixes", "--pin-digest": "pin_digest",
    "--no-buildkit-check": "no_oracle",
}
_CHOICES = {"--format": ("text", "json", "sarif", "github"), "--fail-on": ("change", "finding")}


def _quick(args: list[str]) -> Optional[dict]:
    """The options of a plain fix line, or None for anything typer should read."""
    seen: dict = {"paths": [], "--format": "text", "--fail-on": "change"}
    i = 0
    while i < len(args):
        word = args[i]
        if word in _FLAGS and _FLAGS[word] not in seen:
            seen[_FLAGS[word]] = True
        elif word.partition("=")[0] in _CHOICES:
            name, equals, value = word.partition("=")
            if not equals:
                i += 1
                value = args[i] if i < len(args) else ""
            if value not in _CHOICES[name]:
                return None
            seen[name] = value
        elif word.partition("=")[0] in ("--jobs", "-j") and "jobs" not in seen:
            name, equals, value = word.partition("=")
            if not equals:
                i += 1
                value = args[i] if i < len(args) else ""
            if not (value.isascii() and value.isdigit() and int(value) >= 1):
                return None
            seen["jobs"] = int(value)
        elif word.startswith("-") or (not seen["paths"] and word in SUBCOMMANDS):
            return None
        else:
            seen["paths"].append(word)
        i += 1
    if sum(bool(seen.get(k)) for k in ("dry_run", "write", "check")) > 1 or (seen.get("diff") and seen.get("write")):
        return None
    return seen


def main(argv: Optional[List[str]] = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    quick = _quick(args)
    if quick is None:
        from .commands import main as typer_main

        typer_main(args)
        return
    import gc

    # importing dfix makes tens of thousands of objects that live as long as the process: the collector
    # would scan them again and again while they are made, and in every later collection; frozen, they
    # are out of its way (and left unwritten in the pages a forked worker shares)
    gc.disable()
    try:
        from pathlib import Path

        from .engine import Options
        from .runner import cpu_count, run
    finally:
        gc.freeze()
        gc.enable()

    options = Options(unsafe_fixes="unsafe_fixes" in quick, pin_digest="pin_digest" in quick,
                      use_oracle="no_oracle" not in quick)
    mode = "write" if "write" in quick else "check" if "check" in quick else "dry-run"
    try:
        code = run([Path(p) for p in quick["paths"] or ["."]], options, mode, quick["--format"], "quiet" in quick,
                   quick.get("jobs") or cpu_count(), None, None, quick["--fail-on"], None)
    except BrokenPipeError:
        _closed_stdout()
    sys.exit(code)


def program() -> None:
    """The `dfix` command (the console script, `python -m dfix`): main(), and then the process ends without
    the interpreter's teardown. Whoever calls main() itself gets the usual SystemExit and teardown."""
    try:
        main()
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            _end_process(done.code or 0)
        raise


def _closed_stdout() -> None:
    """The reader of stdout went away (`dfix --check . | head`): exit 1 without a word, as the full command
    line (click) does; what is still buffered goes nowhere rather than into a second error at exit."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    sys.exit(1)


def _end_process(code: int) -> None:
    """End the program now: the interpreter's teardown frees every module and object one by one, ~8 ms
    of a one-file run that has nothing left to release (mypy ends the same way). Not under a tracer,
    profiler or coverage, which write their results at exit."""
    if sys.gettrace() is not None or sys.getprofile() is not None or "coverage" in sys.modules:
        return
    import os

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        _closed_stdout()
    os._exit(code)


if __name__ == "__main__":
    main()
