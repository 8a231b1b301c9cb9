"""The document model: instructions with byte spans, flags, arguments and stages, over the tokens."""

from __future__ import annotations

import functools
import json
import posixpath
import re

from ..lazy_regex import lazy_compile
from ..records import field, record
from .arguments import Flag, parse_flags, parse_key_values, parse_mount, split_words
from .errors import DockerfileSyntaxError
from .tokenizer import GO_SPACE, LineKind, RawInstruction, Tokens, is_json_form, split_keyword, tokenize_text


class cached_property:  # noqa: N801 - used as functools.cached_property is
    """functools.cached_property without the lock that Python 3.11 takes on every first read (a few per
    instruction per pass adds up over a fleet). A document is never shared between threads."""

    def __init__(self, func) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.func(instance)
        return value


class Instruction:
    """One instruction. Offsets named ``*_start``/``*_end`` are source offsets; ``logical`` is BuildKit's view."""

    def __init__(self, doc: Document, index: int, raw: RawInstruction, logical_base: int = 0) -> None:
        self.doc = doc
        self.index = index
        self.raw = raw
        self._base = logical_base  # > 0 for the instruction inside ONBUILD
        # args: the arguments after the flags, as BuildKit sees them (trailing space trimmed)
        self.keyword_text, self.keyword, self.keyword_logical, flags, self.args_logical, self.args = \
            _head(raw.logical, logical_base)
        self.inner: Instruction | None = None
        if self.keyword == "ONBUILD" and logical_base == 0:
            self.inner = Instruction(doc, index, raw, self.args_logical)
        self.flags: list[Flag] = list(flags)

    # -- where it is ------------------------------------------------------------------------------
    @property
    def first_line(self) -> int:
        return self.raw.first_line

    @property
    def last_line(self) -> int:
        return self.raw.last_line

    @property
    def line_number(self) -> int:
        return self.raw.first_line + 1

    @property
    def start(self) -> int:
        """Offset of the first line's first character (indentation included)."""
        return self.doc.lines[self.raw.first_line].start

    @property
    def stop(self) -> int:
        """Offset just past the last line's EOL."""
        return self.doc.lines[self.raw.last_line].stop

    @property
    def keyword_span(self) -> tuple[int, int]:
        return self.source_span(*self.keyword_logical)

    def source(self, logical_index: int) -> int:
        return self.raw.offsets[logical_index]

    def source_span(self, lo: int, hi: int) -> tuple[int, int]:
        """Source span of logical [lo, hi); hi == lo gives an empty span at lo."""
        if hi <= lo:
            point = self.raw.offsets[lo] if lo < len(self.raw.offsets) else self.logical_end_source
            return point, point
        return self.raw.offsets[lo], self.raw.offsets[hi - 1] + 1

    @property
    def logical_end_source(self) -> int:
        """Source offset just past the last logical character."""
        offsets = self.raw.offsets
        return offsets[-1] + 1 if offsets else self.doc.lines[self.raw.first_line].end

    @cached_property
    def code_lines(self) -> list[int]:
        kinds = (LineKind.CODE, LineKind.CONT_CODE)
        return [i for i in range(self.raw.first_line, self.raw.last_line + 1) if self.doc.lines[i].kind in kinds]

    @property
    def last_code_line(self) -> int:
        return self.code_lines[-1]

    @property
    def is_multiline(self) -> bool:
        return self.raw.first_line != self.raw.last_line

    # -- what it says -----------------------------------------------------------------------------
    @property
    def logical(self) -> str:
        return self.raw.logical

    @property
    def heredocs(self):
        return self.raw.heredocs

    def flag(self, name: str) -> Flag | None:
        for f in self.flags:
            if f.name == name:
                return f
        return None

    def flag_values(self, name: str) -> list[str]:
        return [f.value or "" for f in self.flags if f.name == name]

    @cached_property
    def mounts(self) -> list[dict[str, str]]:
        return [parse_mount(value) for value in self.flag_values("mount")]

    def has_cache_mount(self, *targets: str, contains: str | None = None) -> bool:
        """A cache or tmpfs mount at one of ``targets`` (or below it), or whose target contains ``contains``."""
        for mount in self.mounts:
            if mount.get("type") not in ("cache", "tmpfs"):
                continue
            target = mount.get("target", "").rstrip("/")
            if contains and contains in target:
                return True
            if any(target == t.rstrip("/") for t in targets):
                return True
        return False

    @cached_property
    def json_args(self) -> list[str] | None:
        if self.keyword not in _MAYBE_JSON or self.inner is not None:
            return None
        args = self.args
        if not is_json_form(args):
            return None
        return json.loads(args.strip(GO_SPACE))

    @property
    def is_json(self) -> bool:
        return self.json_args is not None

    @cached_property
    def words(self) -> list[tuple[str, int, int]]:
        """Whitespace-delimited argument words with logical offsets."""
        base = self.args_logical
        return [(w, base + s, base + e) for w, s, e in split_words(self.raw.logical[base:])]

    def key_values(self) -> list[tuple[str, str]]:
        return parse_key_values(self.args, self.doc.escape)

    def line_text(self, line_index: int) -> str:
        line = self.doc.lines[line_index]
        return self.doc.text[line.start:line.end]

    def __repr__(self) -> str:
        return f"<Instruction {self.keyword} line {self.line_number}>"


_NO_FLAGS = frozenset({"MAINTAINER"})


@functools.lru_cache(maxsize=1024)
def _head(logical: str, logical_base: int) -> tuple[str, str, tuple[int, int], tuple[Flag, ...], int, str]:
    """The keyword as written and upper-cased, its logical span, the flags, where the arguments start and
    the arguments (trailing space trimmed).
    Read once per text: every pass tokenizes the whole file again, and most instructions are unchanged.
    ONBUILD has no flags of its own; its arguments are the inner instruction."""
    text = logical[logical_base:]
    keyword, keyword_end, rest = split_keyword(text)
    upper = keyword.upper()
    span = (logical_base + keyword_end - len(keyword), logical_base + keyword_end)
    if upper == "ONBUILD" and logical_base == 0:
        return keyword, upper, span, (), rest, logical[rest:].rstrip(GO_SPACE)
    args = logical[logical_base + rest:]
    if upper in _NO_FLAGS:
        flags, after = [], 0
    else:
        flags, after = parse_flags(args)
    base = logical_base + rest
    flags = tuple(Flag(f.name, f.value, base + f.start, base + f.end) for f in flags)
    return keyword, upper, span, flags, base + after, logical[base + after:].rstrip(GO_SPACE)
_MAYBE_JSON = frozenset({"RUN", "CMD", "ENTRYPOINT", "COPY", "ADD", "VOLUME", "SHELL"})


@record
class Stage:
    index: int
    from_instruction: Instruction
    name: str | None  # lower case, as BuildKit compares stage names
    base: str  # the image argument as written
    base_expanded: str  # with global ARG defaults substituted
    parent: int | None  # index of the stage this one is built on, if any
    instructions: list[Instruction] = field(default_factory=list)

    @property
    def body(self) -> list[Instruction]:
        """The stage's instructions after FROM."""
        return self.instructions[1:]


class Document:
    """A tokenized Dockerfile. ``render()`` gives back the exact input."""

    def __init__(self, tokens: Tokens) -> None:
        self.text = tokens.text
        self.bom = tokens.bom
        self.lines = tokens.lines
        self.directives = tokens.directives
        self.escape = tokens.escape
        self.instructions = [Instruction(self, i, raw) for i, raw in enumerate(tokens.instructions)]

    def render(self) -> str:
        return self.text

    @cached_property
    def eol(self) -> str:
        """The file's dominant line ending, for any line a fix adds."""
        crlf = sum(1 for line in self.lines if line.eol == "\r\n")
        lf = sum(1 for line in self.lines if line.eol == "\n")
        return "\r\n" if crlf > lf else "\n"

    @cached_property
    def global_args(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for ins in self.instructions:
            if ins.keyword == "FROM":
                break
            if ins.keyword == "ARG":
                for word, _, _ in ins.words:
                    name, eq, value = word.partition("=")
                    out[name] = _strip_quotes(value) if eq else out.get(name)
        return out

    @cached_property
    def stages(self) -> list[Stage]:
        stages: list[Stage] = []
        names: dict[str, int] = {}
        current: Stage | None = None
        for ins in self.instructions:
            if ins.keyword == "FROM":
                words = [w for w, _, _ in ins.words]
                base = words[0] if words else ""
                name = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else None
                expanded = expand_args(base, self.global_args)
                parent = names.get(expanded.lower())
                current = Stage(len(stages), ins, name, base, expanded, parent, [ins])
                stages.append(current)
                if name:
                    names[name] = current.index
            elif current is not None:
                current.instructions.append(ins)
        return stages

    def stage_of(self, ins: Instruction) -> Stage | None:
        return self._stage_by_index[ins.index]

    @cached_property
    def _stage_by_index(self) -> list[Stage | None]:
        """The stage of each instruction by its index (None before the first FROM): rules ask for every one."""
        out: list[Stage | None] = [None] * len(self.instructions)
        for stage in self.stages:
            for ins in stage.instructions:
                out[ins.index] = stage
        return out

    def stage_chain(self, stage: Stage) -> list[Stage]:
        """The stage and the stages it is built on, oldest first."""
        return list(self._chains[stage.index])  # the caller's to change

    @cached_property
    def _chains(self) -> list[tuple[Stage, ...]]:
        """Each stage's chain, built on its parent's: a parent is always an earlier stage (a FROM can only
        name a stage defined above it), and rules ask for chains thousands of times a run."""
        chains: list[tuple[Stage, ...]] = []
        for stage in self.stages:
            chains.append((stage,) if stage.parent is None else chains[stage.parent] + (stage,))
        return chains

    # Rules and the contract ask of most instructions, each walk from the start of the stage chain: a
    # document's answers are kept by instruction index (the only thing of ``ins`` they depend on).
    @cached_property
    def _answers(self) -> dict[tuple, object]:
        return {}

    def env_at(self, ins: Instruction) -> dict[str, str]:
        """ENV values in force at ``ins``, inherited through the stages it is built on."""
        return dict(self._env_before[ins.index])  # the caller's to change

    @cached_property
    def _env_before(self) -> list[dict[str, str]]:
        """The ENV in force before each instruction, by index, from one walk over the stages: a stage starts
        from its parent's (an earlier stage) final ENV. The dicts are shared between instructions."""
        out: list[dict[str, str]] = [{}] * len(self.instructions)
        ends: list[dict[str, str]] = []
        for stage in self.stages:
            env = {} if stage.parent is None else ends[stage.parent]
            out[stage.from_instruction.index] = env
            for other in stage.body:
                out[other.index] = env
                if other.keyword == "ENV":
                    env = {**env}
                    env.update(other.key_values())
            ends.append(env)
        return out

    def descendants(self, stage: Stage) -> list[Stage]:
        """Stages built (through FROM) on ``stage``, directly or not."""
        out: list[Stage] = []
        wanted = {stage.index}
        for other in self.stages[stage.index + 1:]:
            if other.parent in wanted:
                wanted.add(other.index)
                out.append(other)
        return out

    def reaches_final(self, stage: Stage) -> bool:
        """Whether this stage's filesystem is part of the final image (the final stage or one it is built on)."""
        final = self.final_stage
        return final is not None and stage in self.stage_chain(final)

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def workdir_at(self, ins: Instruction, including: bool = False, start: str | None = "/") -> str | None:
        """The working directory in force at ``ins`` (after it with ``including``), through the stages it is
        built on, from ``start``: the working directory of the image the first of those stages is built on.
        The default `/` is only a frame for paths relative to each other; dfix.base_images.workdir_at starts
        from the base image's real one, or from None when it is not known (then only an absolute WORKDIR on
        the way makes the result known). A variable is resolved when an ENV before it gives it a literal
        value (ENV values cannot be overridden at build time); None after a WORKDIR that names any other
        variable (an ARG, which --build-arg may change), which only the build knows, until an absolute
        WORKDIR sets it again."""
        before, after = self._workdirs(start)
        return (after if including else before)[ins.index]

    def _workdirs(self, start: str | None) -> tuple[list[str | None], list[str | None]]:
        """The working directory before and after each instruction, by index, from ``start``: one walk over
        the stages per start (a run asks of most instructions, from one or two starts), each stage from
        where its parent (an earlier stage) ended."""
        answers = self._answers
        key = ("workdirs", start)
        table = answers.get(key)
        if table is None:
            table = answers[key] = self._walk_workdirs(start)
        return table

    def _walk_workdirs(self, start: str | None) -> tuple[list[str | None], list[str | None]]:
        before: list[str | None] = [start] * len(self.instructions)
        after: list[str | None] = [start] * len(self.instructions)
        ends: list[tuple[str | None, dict[str, str]]] = []
        for stage in self.stages:
            if stage.parent is None:
                path, env = start, {}
            else:
                path, env = ends[stage.parent]
                env = dict(env)
            at = stage.from_instruction.index
            before[at] = after[at] = path
            for other in stage.body:
                before[other.index] = path
                keyword = other.keyword
                if keyword == "ENV":
                    env.update(other.key_values())
                elif keyword == "ARG":
                    for word, _, _ in other.words:
                        env.pop(word.split("=")[0], None)  # an ARG of the same name: no longer literal ENV
                elif keyword == "WORKDIR":
                    path = _next_workdir(path, other.args, env)
                after[other.index] = path
            ends.append((path, env))
        return before, after

    def workdir_set_before(self, ins: Instruction) -> bool:
        """Whether a WORKDIR of the file comes before ``ins``, in its stage or one it is built on: a relative
        path is then relative to a folder the file names (hadolint's DL3045 asks the same)."""
        stage = self.stage_of(ins)
        if stage is None:
            return False
        return any(o.keyword == "WORKDIR" and (link is not stage or o.index < ins.index)
                   for link in self.stage_chain(stage) for o in link.body)

    def comment_block_start(self, ins: Instruction) -> int:
        """The first line of the comment lines attached to an instruction (no blank line between): they move
        and go with it."""
        line = ins.first_line
        while line > 0 and self.lines[line - 1].kind is LineKind.COMMENT:
            line -= 1
        return line

    def line_index_at(self, offset: int) -> int:
        lo, hi = 0, len(self.lines) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.lines[mid].start <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo


def _strip_quotes(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _next_workdir(path: str | None, args: str, env: dict[str, str]) -> str | None:
    """The working directory after a WORKDIR with ``args``, from ``path`` with the literal ENV ``env``."""
    arg = args.strip().strip("'\"")
    if "$" in arg:
        names = {m.group(1) or m.group(4) for m in _VAR.finditer(arg)}
        resolved = all(n in env and "$" not in env[n] for n in names)
        arg = expand_args(arg, dict(env)).strip("'\"") if resolved else arg
        if "$" in arg:
            return None  # only the build knows it, until an absolute WORKDIR says again
    if arg.startswith("/"):
        return posixpath.normpath(arg)
    if path is not None:
        return posixpath.normpath(posixpath.join(path, arg))
    return path


_VAR = lazy_compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


def expand_args(value: str, args: dict[str, str | None]) -> str:
    """Substitute ``$NAME``, ``${NAME}``, ``${NAME:-default}`` and ``${NAME:+alt}`` with ARG defaults."""

    def sub(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(4)
        current = args.get(name)
        op, word = match.group(2), match.group(3)
        if op in (":-", "-"):
            return current if current else (word or "")
        if op in (":+", "+"):
            return (word or "") if current else ""
        return current or ""

    return _VAR.sub(sub, value)


def tokenize(data: str | bytes) -> Document:
    """Tokenize a Dockerfile; bytes must be UTF-8 (a BOM is kept)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise DockerfileSyntaxError(f"not UTF-8 text (byte {err.start})") from None
    doc = _DOCUMENTS.get(data)
    if doc is None:
        doc = Document(tokenize_text(data))
        if len(_DOCUMENTS) >= _DOCUMENTS_KEPT:
            del _DOCUMENTS[next(iter(_DOCUMENTS))]  # the oldest: a bulk run sees thousands of texts
        _DOCUMENTS[data] = doc
    return doc


# The Document of each recent text. The same text is read several times in a run: DF601 reads every sibling
# Dockerfile of a folder on the first one's pass, before each gets its own run; DF403 reads its split, which
# the next pass reads again; a fix held back re-runs the passes from the input. A Document is only read
# once made (what it works out on the way is a function of its text alone), so one is shared by them all.
_DOCUMENTS: dict[str, Document] = {}
_DOCUMENTS_KEPT = 256


_WINDOWS_ABSOLUTE = lazy_compile(r"^[A-Za-z]:[\\/]")


def relative_destination(dest: str) -> bool:
    """A COPY/ADD destination that lands relative to the working directory: not `/x`, not a Windows
    `C:\\x` or `C:/x`, and not a variable's value (`$HOME/x`), which may well be absolute."""
    bare = _strip_quotes(dest)
    return bool(bare) and not bare.startswith(("/", "$")) and not _WINDOWS_ABSOLUTE.match(bare)


def absolute_destination(dest: str, workdir: str) -> str | None:
    """Where a relative destination lands under ``workdir``, written so BuildKit reads the same place and
    the same kind: `.` and a trailing `/` name a folder the sources go into, so the result keeps a trailing
    `/`. None for what only the build can resolve (a variable) or what would read differently once cleaned
    (`x/.`, `..`, a backslash)."""
    if "$" in dest or "\\" in dest or not workdir.startswith("/"):
        return None
    into = dest in (".", "./") or dest.endswith("/")
    last = dest.rstrip("/").rsplit("/", 1)[-1]
    if last in (".", "..") and dest not in (".", "./"):
        return None
    path = posixpath.normpath(posixpath.join(workdir, dest))
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    return path + "/" if into and not path.endswith("/") else path


_NETWORK_SOURCE = lazy_compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://|^git@")


def add_source_is_remote(source: str) -> bool:
    """A URL or git source, which ADD fetches instead of copying from the context."""
    return bool(_NETWORK_SOURCE.match(source)) or source.endswith(".git") or ".git#" in source
