"""The command an image runs: CMD/ENTRYPOINT as words with source spans, in either form."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from .arguments import json_string_spans
from .document import Document, Instruction
from .shell import script_of

_GLOB = set("*?[")


@dataclass
class CommandWord:
    value: str
    start: int  # source span of the word (the JSON string with its quotes, in exec form)
    end: int


def command_words(doc: Document, ins: Instruction) -> list[CommandWord] | None:
    """Exec form: the array; shell form: the words of one simple command of literal words. Else None.

    Read once per instruction (several rules and the contract ask); callers only read the list."""
    cached = ins.__dict__.get("_command_words", _UNREAD)
    if cached is _UNREAD:
        cached = ins.__dict__["_command_words"] = _command_words(doc, ins)
    return cached


_UNREAD = object()


def _command_words(doc: Document, ins: Instruction) -> list[CommandWord] | None:
    if ins.is_json:
        spans = json_string_spans(ins.raw.logical[ins.args_logical:])
        if spans is None:
            return None
        base = ins.args_logical
        return [CommandWord(v, *ins.source_span(base + s, base + e)) for v, s, e in spans]
    script = script_of(doc, ins)
    if not script.ok or len(script.commands) != 1 or script.operators or script.last_statement_type != "command":
        return None
    command = script.commands[0]
    if command.assignments or command.redirected or any(w.value is None for w in command.words):
        return None
    for word in command.words:
        raw = doc.text[word.start:word.end]
        if (_GLOB & set(raw) and not raw.startswith(("'", '"'))) or raw.startswith("~"):
            return None  # the shell would expand it
    return [CommandWord(w.value, w.start, w.end) for w in command.words]  # type: ignore[arg-type]


def program(words: list[str]) -> tuple[str, int]:
    """The server program and the index of its first argument (`python -m uvicorn` -> uvicorn)."""
    if not words:
        return "", 0
    first = 1 if posixpath.basename(words[0]) == "exec" and len(words) > 1 else 0
    name = posixpath.basename(words[first])
    if name.startswith("python") and first + 2 < len(words) and words[first + 1] == "-m":
        return words[first + 2], first + 3
    return name, first + 1


# Development flags of Python servers, and whether each takes a value.
DEV_FLAGS = {
    "uvicorn": {"--reload": False, "--reload-dir": True, "--reload-include": True, "--reload-exclude": True,
                "--reload-delay": True},
    "gunicorn": {"--reload": False, "--reload-engine": True, "--reload-extra-file": True},
    "hypercorn": {"--reload": False},
    "flask": {"--reload": False, "--debug": False, "--debugger": False},
}


def dev_flag_positions(values: list[str]) -> list[tuple[int, int]]:
    """(first, last) word indices of each development flag (with its value) in a server command."""
    name, first = program(values)
    flags = DEV_FLAGS.get(name)
    out: list[tuple[int, int]] = []
    if flags is None:
        return out
    i = first
    while i < len(values):
        option, eq, _ = values[i].partition("=")
        if option in flags:
            last = i + 1 if flags[option] and not eq and i + 1 < len(values) else i
            out.append((i, last))
            i = last + 1
            continue
        i += 1
    return out
