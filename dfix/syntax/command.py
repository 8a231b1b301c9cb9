"""The command an image runs: CMD/ENTRYPOINT as words with source spans, in either form."""

from __future__ import annotations

import json
import posixpath
import re

from ..records import record
from .arguments import json_string_spans
from .document import Document, Instruction
from .shell import script_of

_GLOB = set("*?[")


@record
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
    command = _literal_simple_command(script_of(doc, ins), doc.text)
    if command is None:
        return None
    return [CommandWord(w.value, w.start, w.end) for w in command.words]  # type: ignore[arg-type]


def _literal_simple_command(script, text: str):
    """The script's one simple command when all its words are literal: no operator, assignment, redirection,
    expansion, glob or `~` (which the shell would expand); None otherwise."""
    if not script.ok or len(script.commands) != 1 or script.operators or script.last_statement_type != "command":
        return None
    command = script.commands[0]
    if command.assignments or command.redirected or any(w.value is None for w in command.words):
        return None
    for word in command.words:
        raw = text[word.start:word.end]
        if (_GLOB & set(raw) and not raw.startswith(("'", '"'))) or raw.startswith("~"):
            return None
    return command


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


# Where `exec` would change what runs: builtins and keywords have no program to exec, or run a different one.
_NOT_EXECUTABLE = frozenset({
    ":", ".", "source", "alias", "bg", "break", "builtin", "cd", "command", "continue", "declare", "echo", "eval",
    "exec", "exit", "export", "false", "fg", "getopts", "hash", "jobs", "kill", "let", "local", "printf", "pwd",
    "read", "readonly", "return", "set", "shift", "test", "[", "[[", "time", "times", "trap", "true", "type",
    "typeset", "ulimit", "umask", "unalias", "unset", "wait",
})


@record(frozen=True)
class FinalCommand:
    """The last command a shell text runs, when it is one simple command the shell can hand PID 1 to."""

    exec_at: int | None  # where `exec ` goes (a character offset of the text); None: it already starts with exec
    next_word_at: int | None  # after an existing `exec`: where its program starts


def final_command(text: str) -> FinalCommand | str:
    """Where `exec ` makes the last command of ``text`` replace the shell, or why it cannot.

    Safe only where the shell has nothing left to do once that command starts: it is the last statement
    (at the top level, or the right end of `&&`/`||`), a simple command of a literal program that is not a
    builtin, with no assignment before it; the text starts no background job, sets no trap and defines
    no function (exec would drop the trap, or find no program by the function's name)."""
    data = text.encode("utf-8")
    root = _parse_text(data)
    if root is None:
        return "the shell text cannot be read"
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "function_definition":
            return "it defines a shell function"
        if not node.is_named and node.type == "&":
            return "it starts a process in the background"
        if node.type == "command":
            name = node.child_by_field_name("name")
            if name is not None and data[name.start_byte:name.end_byte] == b"trap":
                return "it sets a trap, which exec would drop"
        stack.extend(node.children)
    statements = [c for c in root.named_children if c.type != "comment"]
    if not statements:
        return "it runs no command"
    last = statements[-1]
    while last.type in ("list", "redirected_statement"):
        # tree-sitter puts `a && b > log` as a redirect around the list: the shell applies it to b alone
        parts = [c for c in last.named_children if c.type != "comment" and not c.type.endswith("_redirect")]
        if not parts:
            return "its last command is only a redirection"
        last = parts[-1] if last.type == "list" else last.child_by_field_name("body") or parts[0]
    if last.type != "command":
        kind = {"pipeline": "a pipeline", "subshell": "a subshell", "negated_command": "a negated command"}
        return f"its last command is {kind.get(last.type, 'a compound command (' + last.type + ')')}"
    if any(c.type == "variable_assignment" for c in last.named_children):
        return "an assignment comes before its last command (shells differ in what exec does with it)"
    name = last.child_by_field_name("name")
    inner = name.named_children[0] if name is not None and name.named_children else name
    program = _shell_literal(inner, data) if inner is not None else None
    if program is None:
        return "its last command's program is not a literal word"
    offset = _char_offset(data, name.start_byte)
    if program == "exec":
        args = [c for c in last.named_children if c.type not in ("command_name", "comment") and not c.type.endswith("_redirect")]
        if not args:
            return "its last command is an exec without a program"
        return FinalCommand(None, _char_offset(data, args[0].start_byte))
    if posixpath.basename(program) in _NOT_EXECUTABLE or program in _NOT_EXECUTABLE:
        return f"its last command, {program}, is a shell builtin"
    return FinalCommand(offset, None)


def without_final_exec(text: str) -> str:
    """``text`` without the `exec` before its last command (the contract's view: exec only changes which process
    is PID 1), when that exec runs a program and takes no options."""
    final = final_command(text)
    if isinstance(final, str) or final.exec_at is not None or final.next_word_at is None:
        return text
    if text[final.next_word_at:].startswith("-"):
        return text
    start = text.rfind("exec", 0, final.next_word_at)
    return text[:start] + text[final.next_word_at:]


def with_final_exec(text: str) -> str | None:
    """``text`` with `exec ` before its last command (unchanged when it is already there); None when unsafe."""
    final = final_command(text)
    if isinstance(final, str):
        return None
    if final.exec_at is None:
        return text
    return text[:final.exec_at] + "exec " + text[final.exec_at:]


def literal_command(text: str) -> list[str] | None:
    """The words of ``text`` when it is one simple command of literal words (no expansion, glob or operator)."""
    from .shell import _parse_relative

    command = _literal_simple_command(_parse_relative(text), text)
    return None if command is None else [w.value for w in command.words]  # type: ignore[misc]


def _parse_text(data: bytes):
    from .shell import _parser

    root = _parser().parse(data).root_node
    return None if root.has_error else root


def _shell_literal(node, data: bytes) -> str | None:
    from .shell import _literal

    return _literal(node, data)


def _char_offset(data: bytes, byte: int) -> int:
    return len(data[:byte].decode("utf-8"))


def command_is_paired(doc: Document, stage, ins: Instruction) -> bool:
    """Whether an ENTRYPOINT receives this CMD, or a CMD (of this stage or one built on it) follows this
    ENTRYPOINT: then the form of the instruction decides the argv the other one gets."""
    if ins.keyword == "ENTRYPOINT":
        return any(o.keyword == "CMD" for s in [stage, *doc.descendants(stage)] for o in s.body if o.index > ins.index)
    chain = doc.stage_chain(stage)
    return any(o.keyword == "ENTRYPOINT" for link in chain for o in link.body if o.index < ins.index)


def shell_tokens(text: str) -> tuple[tuple[str, str], ...] | None:
    """The shell text as its tokens (kind, text): two texts with the same tokens differ only in the blanks
    between them, which the shell ignores. None when it cannot be read."""
    data = text.encode("utf-8")
    root = _parse_text(data)
    if root is None:
        return None
    return tuple((kind, data[a:b].decode("utf-8")) for kind, a, b in _leaves(root))


def tidy_joins(text: str, joins: list[int]) -> str:
    """``text`` with the blanks around each continuation join (a character offset where BuildKit removed an
    escaped line break) made one space, where they lie between the shell's tokens, not inside a quoted one."""
    data = text.encode("utf-8")
    root = _parse_text(data)
    if root is None:
        return text
    inside = [(_char_offset(data, a), _char_offset(data, b)) for _, a, b in _leaves(root)]
    for join in sorted(joins, reverse=True):
        start = join
        while start > 0 and text[start - 1] in " \t":
            start -= 1
        stop = join
        while stop < len(text) and text[stop] in " \t":
            stop += 1
        if stop - start <= 1 or start == 0 or stop == len(text):
            continue
        if any(a < stop and start < b for a, b in inside):
            continue
        text = text[:start] + " " + text[stop:]
    return text


def _leaves(root):
    stack = [root]
    out = []
    while stack:
        node = stack.pop()
        if node.child_count == 0:
            out.append((node.type, node.start_byte, node.end_byte))
        else:
            stack.extend(reversed(node.children))
    return out


def shell_text_of(argv: list[str]) -> str | None:
    """The text of an exec-form `[SHELL, …, "-c", TEXT]` (a POSIX shell's), else None."""
    from .shell import POSIX_SHELLS

    if len(argv) < 3 or posixpath.basename(argv[0]) not in POSIX_SHELLS:
        return None
    option = argv[-2]
    if not (option.startswith("-") and not option.startswith("--") and option.endswith("c")):
        return None
    return argv[-1]


def healthcheck_shell_text(ins) -> tuple[int, str] | None:
    """(offset in the arguments, text) of a HEALTHCHECK's command in shell form; None for NONE or a JSON array
    (BuildKit reads the text after CMD as JSON when it parses as an array of strings, as for CMD itself)."""
    match = re.match(r"(?i)CMD\s+", ins.args)
    if match is None:
        return None
    text = ins.args[match.end():].rstrip()
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return None
    return match.end(), text
