"""The shell text of a RUN, read with tree-sitter-bash over the masked source so offsets are source offsets.

The masked region is the raw source from the first shell character to the end of the last code line,
with every byte BuildKit drops (comment and empty lines inside the continuation, each escape character,
the whitespace after it, each EOL) replaced by a space of the same length.
"""

from __future__ import annotations

import os
from bisect import bisect_left

from ..records import field, record
from .document import Document, Instruction

_PARSER = None
_SHELL_FORM = frozenset({"RUN", "CMD", "ENTRYPOINT"})
_LITERAL_ESCAPES_IN_DQ = '"\\$`\n'
NON_POSIX_SHELLS = ("powershell", "pwsh", "cmd")
WINDOWS_BASES = ("windows", "servercore", "nanoserver")


def _parser():
    global _PARSER
    if _PARSER is None:
        from tree_sitter import Language, Parser

        _PARSER = Parser(Language(_bash_language()))
    return _PARSER


def _bash_language():
    """tree-sitter-bash's grammar from its compiled binding alone: the package's __init__ imports
    importlib.resources (and with it tempfile, shutil, zipfile: ~10 ms at every start) for a query file
    dfix never reads. Any surprise in the package's layout falls back to the plain import."""
    import sys

    binding = sys.modules.get("tree_sitter_bash._binding")
    if binding is None:
        try:
            from importlib.machinery import EXTENSION_SUFFIXES, ExtensionFileLoader
            from importlib.util import find_spec, module_from_spec, spec_from_file_location

            package = find_spec("tree_sitter_bash")
            folders = package.submodule_search_locations if package is not None else None
            path = next((os.path.join(folder, "_binding" + suffix) for folder in folders or ()
                         for suffix in EXTENSION_SUFFIXES if os.path.isfile(os.path.join(folder, "_binding" + suffix))), None)
            if path is not None:
                name = "tree_sitter_bash._binding"
                spec = spec_from_file_location(name, path, loader=ExtensionFileLoader(name, path))
                binding = module_from_spec(spec)
                spec.loader.exec_module(binding)
        except (ImportError, OSError, AttributeError):
            binding = None
    if binding is None:
        import tree_sitter_bash as binding
    return binding.language()


@record(slots=True)
class Word:
    value: str | None  # the literal value, None when it expands something at run time
    start: int  # source offsets
    end: int


@record(slots=True)
class Command:
    words: list[Word]
    start: int
    end: int
    assignments: dict[str, str | None] = field(default_factory=dict)
    redirected: bool = False  # has a redirection (>, <, 2>&1, <<<): only a shell can run it
    # the program's base name (``/usr/bin/pip3`` -> ``pip3``); set once, rules ask it thousands of times
    name: str | None = field(init=False, default=None)
    package: object = field(init=False, default=False)  # packages.package_command's answer, once computed

    def __post_init__(self) -> None:
        if self.words:
            program = self.words[0].value
            if program is not None:
                self.name = program[program.rfind("/") + 1:]  # os.path.basename's answer, without its calls

    @property
    def argv(self) -> list[str | None]:
        return [w.value for w in self.words]


@record(slots=True)
class Script:
    """The commands of one RUN; ``ok`` is False when the text could not be read as POSIX shell."""

    ok: bool
    commands: list[Command] = field(default_factory=list)
    start: int = 0  # source offset of the first top-level statement
    end: int = 0  # source offset just past the last top-level statement (comments excluded)
    operators: frozenset[str] = frozenset()  # separators between top-level statements
    last_statement_type: str = ""
    source: str = ""  # the masked text it was read from (offsets relative to ``start`` of the region)


def script_of(doc: Document, ins: Instruction) -> Script:
    """The parsed shell of a RUN (cached per document)."""
    cache = doc.__dict__.setdefault("_shell_cache", {})
    key = ins.index if ins.inner is None else -ins.index - 1
    if key not in cache:
        cache[key] = _read(doc, ins)
    return cache[key]


def is_posix_shell(doc: Document, ins: Instruction) -> bool:
    """False where the escape is a backtick, SHELL names a non-POSIX shell, or the base is Windows."""
    if doc.escape != "\\":
        return False
    stage = doc.stage_of(ins)
    if stage is None:
        return True
    for link in doc.stage_chain(stage):
        if any(marker in link.base_expanded.lower() for marker in WINDOWS_BASES):
            return False
    shell = _declared_shell(doc, ins)
    if shell:
        program = os.path.basename(shell[0]).lower().removesuffix(".exe")
        if program in NON_POSIX_SHELLS:
            return False
    return True


DEFAULT_SHELL = ("/bin/sh", "-c")
POSIX_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh"})


def shell_in_force(doc: Document, ins: Instruction) -> list[str] | None:
    """The argv a shell-form instruction's text is appended to (the stage's SHELL, else `/bin/sh -c`), when it
    is a POSIX shell's; None for Windows, a backtick escape, or a SHELL that is not one of the POSIX shells."""
    if not is_posix_shell(doc, ins):
        return None
    shell = _declared_shell(doc, ins)
    if shell is None:
        return list(DEFAULT_SHELL)
    if not shell or os.path.basename(shell[0]) not in POSIX_SHELLS:
        return None
    return list(shell)


def shell_instruction_in_force(doc: Document, ins: Instruction) -> Instruction | None:
    """The last SHELL before `ins` in its stage or the stages it is built on (None: the default shell)."""
    stage = doc.stage_of(ins)
    if stage is None:
        return None
    found: Instruction | None = None
    for link in doc.stage_chain(stage):
        for other in link.instructions:
            if other.index >= ins.index and link is stage:
                break
            if other.keyword == "SHELL" and other.json_args is not None:
                found = other
    return found


def _declared_shell(doc: Document, ins: Instruction) -> list[str] | None:
    found = shell_instruction_in_force(doc, ins)
    return None if found is None else found.json_args


def _read(doc: Document, ins: Instruction) -> Script:
    target = ins.inner or ins
    if target.keyword not in _SHELL_FORM or target.is_json or not is_posix_shell(doc, ins):
        return Script(ok=False)
    if ins.heredocs:
        return _read_heredoc_script(doc, ins, target)
    region = shell_region(doc, ins)
    if region is None:
        return Script(ok=False)
    return _parse_region(*region)


def shell_region(doc: Document, ins: Instruction) -> tuple[int, str] | None:
    """(source offset, text) of a shell-form instruction's shell text as the shell reads it, each byte
    BuildKit drops (escaped line breaks, comment lines inside) a space, so offsets in it are source offsets."""
    target = ins.inner or ins
    offsets = ins.raw.offsets
    lo = target.args_logical
    if lo >= len(offsets):
        return None
    region_start = offsets[lo]
    region_end = offsets[-1] + 1
    text = doc.text
    if region_end - region_start == len(offsets) - lo:
        # offsets only grow: as many as the span is wide means nothing is dropped (a one-line RUN)
        return region_start, text[region_start:region_end]
    masked = _masked_by_line(doc, ins.raw, lo, region_start)
    if masked is None:
        chars = [" "] * (region_end - region_start)
        for src in offsets[lo:]:
            chars[src - region_start] = text[src]
        masked = "".join(chars)
    return region_start, masked


def _masked_by_line(doc: Document, raw, lo: int, region_start: int) -> str | None:
    """The masked region from slices: the characters a line keeps are one run (the tokenizer keeps a
    line up to its escape), so each line is a slice and each gap spaces. None when a line's kept
    characters are not one run after all, for the caller's character-by-character copy."""
    offsets = raw.offsets
    text = doc.text
    parts: list[str] = []
    pos = region_start
    a = lo
    for line in doc.lines[raw.first_line:raw.last_line + 1]:
        b = bisect_left(offsets, line.stop, a)
        if b == a:
            continue
        start, end = offsets[a], offsets[b - 1] + 1
        if end - start != b - a or start < pos:
            return None
        parts.append(" " * (start - pos))
        parts.append(text[start:end])
        pos, a = end, b
    if a != len(offsets):
        return None
    return "".join(parts)


def _read_heredoc_script(doc: Document, ins: Instruction, target: Instruction) -> Script:
    """`RUN <<EOF` with nothing else: the body is the script the default shell runs."""
    if len(ins.heredocs) != 1 or target.args != target.raw.logical[slice(*ins.heredocs[0].marker)].strip():
        return Script(ok=False)
    body = ins.heredocs[0].body_lines
    if not body:
        return Script(ok=False)
    lines = doc.lines
    region_start = lines[body.start].start
    region_end = lines[body.stop - 1].end
    # CRs before the newline are not shell text; a space of the same length keeps offsets exact
    source = doc.text[region_start:region_end].replace("\r\n", " \n")
    return _parse_region(region_start, source)


_PARSED: dict[str, tuple[int, Script]] = {}  # text -> the region start its Script was placed at, and it
_PLACED: dict[tuple[str, int], Script] = {}


def _parse_region(region_start: int, source: str) -> Script:
    """Parsed once per distinct text: the fix loop re-reads every RUN each pass, and most are unchanged.
    The text's first Script is built in place; a caller elsewhere gets a copy moved to its own place. A RUN
    that neither changed nor moved since the last pass gets the very same Script back (nothing changes a
    Script once built; Command.package only remembers what its words say), so nothing is copied again."""
    placed = _PLACED.get((source, region_start))
    if placed is not None:
        return placed
    parsed = _PARSED.get(source)
    if parsed is None:
        if len(_PARSED) > 4096:  # a bulk run sees thousands of files: keep the cache bounded
            _PARSED.clear()
        placed = _parse_at(source, region_start)
        _PARSED[source] = (region_start, placed)
    else:
        placed_at, script = parsed
        placed = _rebase(script, region_start - placed_at)
    if len(_PLACED) > 512:  # only the passes over one file ask again: a small cache is enough
        _PLACED.clear()
    _PLACED[(source, region_start)] = placed
    return placed


def _rebase(script: Script, shift: int) -> Script:
    if not script.ok:
        return script
    commands = [
        Command([Word(w.value, w.start + shift, w.end + shift) for w in c.words], c.start + shift, c.end + shift,
                dict(c.assignments), c.redirected)
        for c in script.commands
    ]
    return Script(True, commands, script.start + shift, script.end + shift, script.operators, script.last_statement_type,
                  script.source)


def _parse_relative(source: str) -> Script:
    return _parse_at(source, 0)


def _parse_at(source: str, region_start: int) -> Script:
    """The Script of ``source`` with offsets counted from ``region_start``."""
    data = source.encode("utf-8")
    char_of_byte: list[int] | None = None  # None: ASCII, where a byte offset is the character offset
    if len(data) != len(source):
        char_of_byte = [0] * (len(data) + 1)
        pos = 0
        for index, ch in enumerate(source):
            width = len(ch.encode("utf-8"))
            for k in range(width):
                char_of_byte[pos + k] = index
            pos += width
        char_of_byte[len(data)] = len(source)

    tree = _parser().parse(data)
    root = tree.root_node
    if root.has_error:
        return Script(ok=False)
    commands: list[Command] = []
    top = root.named_children
    _collect(top, source, data, char_of_byte, region_start, commands, "program")
    statements = [c for c in top if c.type != "comment"]
    operators = frozenset(
        data[c.start_byte:c.end_byte].decode() for c in root.children if not c.is_named
    )
    if not statements:
        return Script(ok=True, commands=commands, start=region_start, end=region_start, source=source)
    # newlines separate top-level statements without an operator token
    if len(statements) > 1 and not operators:
        operators = frozenset({"\n"})
    last = statements[-1]
    start, end = statements[0].start_byte, last.end_byte
    if char_of_byte is not None:
        start, end = char_of_byte[start], char_of_byte[end]
    return Script(
        ok=True,
        commands=commands,
        start=region_start + start,
        end=region_start + end,
        operators=operators,
        last_statement_type=last.type,
        source=source,
    )


# builtins whose effect outlives the command: the shell's directory, options, variables, traps, descriptors
_STATEFUL_BUILTINS = frozenset({
    "cd", "pushd", "popd", "set", "shopt", "umask", "ulimit", "source", ".", "exec", "exit", "return", "trap",
    "alias", "unalias", "eval", "read", "readarray", "mapfile", "shift", "getopts", "hash", "enable", "builtin",
    "command", "export", "unset", "local", "readonly", "declare", "typeset", "wait", "bind", "complete",
})
_TREES: dict[str, object] = {}


def _tree(source: str):
    """The tree of a script's text, again: rules that ask about its structure are few, so it is not kept."""
    tree = _TREES.get(source)
    if tree is None:
        if len(_TREES) > 256:
            _TREES.clear()
        tree = _TREES[source] = _parser().parse(source.encode("utf-8"))
    return tree


def is_and_chain(script: Script) -> bool:
    """One statement, a command or commands joined by `&&` only (no `;`, `||`, `&` or newline between them):
    a failing command fails the whole, and `&& more` after it runs only when all of it succeeded."""
    if not script.ok or script.end <= script.start:
        return False
    root = _tree(script.source).root_node
    if any(not child.is_named for child in root.children):
        return False
    statements = [c for c in root.named_children if c.type != "comment"]
    if len(statements) != 1:
        return False
    node = statements[0]
    while node.type == "list":
        if any(not child.is_named and child.type != "&&" for child in node.children):
            return False
        parts = [c for c in node.named_children if c.type != "comment"]
        if any(p.type == "list" for p in parts[1:]):
            return False
        node = parts[0]
    return True


def state_leak(script: Script) -> str | None:
    """What in the script changes the shell's state for commands after it (a `cd`, `export`, `set`, a
    variable, a function, a background job, ...), named; None when nothing does. Commands whose name is not
    a literal word could be any of these. Looked for everywhere, subshells included: an over-cautious answer
    only costs a fix."""
    if not script.ok:
        return "shell dfix cannot read"
    for command in script.commands:
        if not command.words or command.words[0].value is None:
            if command.words or command.assignments:
                return "a command whose name is only known at run time" if command.words else "a variable assignment"
            continue
        if command.name in _STATEFUL_BUILTINS:
            return f"`{command.name}`"
    stack = [_tree(script.source).root_node]
    while stack:
        node = stack.pop()
        kind = node.type
        if kind == "function_definition":
            return "a function definition"
        if kind == "declaration_command":
            return f"`{node.children[0].type}`"
        if kind == "unset_command":
            return "`unset`"
        if kind in ("variable_assignment", "variable_assignments") and (node.parent is None or node.parent.type != "command"):
            return "a variable assignment"
        if kind == "&" and not node.is_named:
            return "a background job (`&`)"
        stack.extend(node.children)
    return None


def _collect(children: list, source: str, data: bytes, char_of_byte: list[int] | None, shift: int,
             out: list[Command], parent_kind: str) -> None:
    """The commands among ``children`` (a node's named children, the node of type ``parent_kind``) and in
    them, in source order, a command before those nested in it; words are not looked into. ``source`` is
    ``data`` decoded; ``char_of_byte`` maps byte offsets to its character offsets, None where they are equal;
    ``shift`` is added to every offset the commands hold. Each node's type and children are asked once:
    tree-sitter builds a new object on each ask."""
    for child in children:
        kind = child.type
        if kind == "command":
            _command(child, source, data, char_of_byte, shift, out, parent_kind == "redirected_statement")
        elif kind not in _WORD_NODES:
            _collect(child.named_children, source, data, char_of_byte, shift, out, kind)


def _command(node, source: str, data: bytes, char_of_byte: list[int] | None, shift: int, out: list[Command],
             redirected: bool) -> None:
    at = len(out)
    out.append(None)  # type: ignore[arg-type]  # its place, before the commands nested in it
    words: list[Word] = []
    assignments: dict[str, str | None] = {}
    for child in node.named_children:
        kind = child.type
        if kind in _WORD_NODES:
            start, end = child.start_byte, child.end_byte
            if char_of_byte is not None:
                start, end = char_of_byte[start], char_of_byte[end]
            words.append(Word(_literal_as(child, kind, source[start:end], data), start + shift, end + shift))
            continue
        if kind == "command_name":
            start, end = child.start_byte, child.end_byte
            if char_of_byte is not None:
                start, end = char_of_byte[start], char_of_byte[end]
            named = child.named_children
            value = None  # a command_name with no named child is never a literal
            if named:
                inner = named[0]
                inner_kind = inner.type
                value = _literal_as(inner, inner_kind, data[inner.start_byte:inner.end_byte].decode(), data)
                if inner_kind in _WORD_NODES:
                    named = named[1:]
            words.append(Word(value, start + shift, end + shift))
            _collect(named, source, data, char_of_byte, shift, out, kind)
            continue
        if kind == "variable_assignment":
            name = child.child_by_field_name("name")
            value_node = child.child_by_field_name("value")
            if name is not None:
                key = data[name.start_byte:name.end_byte].decode()
                assignments[key] = _literal(value_node, data) if value_node is not None else ""
        elif kind in _REDIRECTS:
            redirected = True
        elif kind != "comment":
            start, end = child.start_byte, child.end_byte
            if char_of_byte is not None:
                start, end = char_of_byte[start], char_of_byte[end]
            words.append(Word(_literal_as(child, kind, source[start:end], data), start + shift, end + shift))
        _collect(child.named_children, source, data, char_of_byte, shift, out, kind)
    start, end = node.start_byte, node.end_byte
    if char_of_byte is not None:
        start, end = char_of_byte[start], char_of_byte[end]
    out[at] = Command(words, start + shift, end + shift, assignments, redirected)


_WORD_NODES = frozenset({"word", "string", "raw_string", "concatenation"})


_REDIRECTS = frozenset({"file_redirect", "heredoc_redirect", "herestring_redirect"})


def _literal(node, data: bytes) -> str | None:
    return _literal_as(node, node.type, data[node.start_byte:node.end_byte].decode("utf-8"), data)


def _literal_as(node, kind: str, raw: str, data: bytes) -> str | None:
    """_literal, for a node whose type and text the caller has already."""
    if kind in ("word", "number"):
        if "$" in raw or "`" in raw:
            return None
        if "*" in raw or "?" in raw or "[" in raw:
            return raw
        return _unescape(raw)
    if kind == "raw_string":
        return raw[1:-1]
    if kind == "string":
        if any(c.type not in ("string_content", '"') for c in node.children):
            return None
        return _unescape_double(raw[1:-1])
    if kind == "concatenation":
        parts = [_literal(c, data) for c in node.children]
        return None if any(p is None for p in parts) else "".join(parts)  # type: ignore[arg-type]
    return None


def _unescape(raw: str) -> str:
    if "\\" not in raw:
        return raw  # most words: nothing to undo
    out = []
    i = 0
    while i < len(raw):
        if raw[i] == "\\" and i + 1 < len(raw):
            i += 1
        out.append(raw[i])
        i += 1
    return "".join(out)


def _unescape_double(raw: str) -> str:
    if "\\" not in raw:
        return raw
    out = []
    i = 0
    while i < len(raw):
        if raw[i] == "\\" and i + 1 < len(raw) and raw[i + 1] in _LITERAL_ESCAPES_IN_DQ:
            i += 1
        out.append(raw[i])
        i += 1
    return "".join(out)
