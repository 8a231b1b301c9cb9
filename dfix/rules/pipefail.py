"""DF108: a RUN whose pipeline hides a failing producer, fixed with a SHELL that sets pipefail."""

from __future__ import annotations

import os
import re

from .. import base_images
from ..lazy_regex import lazy_compile
from ..pragmas import Pragmas
from ..records import field, record
from ..syntax import Edit
from ..syntax.command import command_is_paired, healthcheck_shell_text, literal_command
from ..syntax.shell import (
    Script, _literal, _parse_region, _parser, is_posix_shell, script_of, shell_instruction_in_force,
)
from .base import Rule, Safety

# The shell each family has, with pipefail. bash is Essential on Debian and Ubuntu; on Alpine /bin/ash is the
# same BusyBox binary as /bin/sh, so only the option changes there. No -e: it would stop at the first failing
# command of `a; b`, which is more than pipefail asks for.
SHELLS = {
    "debian": ("/bin/bash", "-o", "pipefail", "-c"),
    "alpine": ("/bin/ash", "-o", "pipefail", "-c"),
}
_FAMILY_SHELL = {"debian": "debian", "ubuntu": "debian", "alpine": "alpine"}  # base_images' family -> SHELLS
PIPEFAIL_PROGRAMS = frozenset({"bash", "ash", "zsh", "ksh", "mksh", "busybox"})

# Readers that stop before the end of their input: their writer then dies of SIGPIPE (exit 141), which pipefail
# turns into a failed build where it passed.
_EARLY_EXIT = frozenset({"head", "read", "true", "false", ":", "exit", "echo", "printf", "sleep"})
_GREPS = frozenset({"grep", "egrep", "fgrep", "zgrep", "rg"})
_GREP_EARLY_SHORT = frozenset("qmlL")
_GREP_EARLY_LONG = ("--quiet", "--silent", "--max-count", "--files-with-matches", "--files-without-match")
_SED_QUIT = lazy_compile(r"(^|[;{}\s\d$/])[qQ]\s*\d*\s*($|[;}])")
_AWK_EXIT = lazy_compile(r"\bexit\b")
# Readers that read their input to the end when they succeed.
_READS_ALL = frozenset({
    "sh", "bash", "ash", "dash", "zsh", "perl", "ruby", "node", "php", "tar", "bsdtar", "cpio",
    "gzip", "gunzip", "zcat", "bzip2", "bunzip2", "bzcat", "xz", "unxz", "xzcat", "zstd", "unzstd", "base64",
    "sha1sum", "sha224sum", "sha256sum", "sha384sum", "sha512sum", "md5sum", "b2sum", "cksum",
    "cat", "tac", "tee", "sort", "uniq", "wc", "tr", "cut", "paste", "fold", "fmt", "nl", "rev", "column",
    "tail", "sed", "awk", "gawk", "mawk", "jq", "yq", "xargs", "gpg", "gpg2", "apt-key", "debconf-set-selections",
    "chpasswd", "crontab", "patch", "psql", "mysql", "sqlite3", "envsubst", "iconv", "od", "hexdump", "xxd",
    "openssl", "dpkg", "bc",
}) | _GREPS
_PYTHON = lazy_compile(r"^python[\d.]*$")
# Writers whose non-zero exit is an answer, not a failure: grep finding nothing, diff finding a difference.
_ANSWERS_WITH_STATUS = _GREPS | {"diff", "cmp"}

# What bash reads differently from dash (Debian's /bin/sh) in a script that works under dash.
_BASH_NODES = {
    "ansi_c_string": "`$'…'` quoting",
    "translated_string": '`$"…"` quoting',
    "process_substitution": "process substitution",
    "herestring_redirect": "a here-string (`<<<`)",
    "array": "an array",
    "subscript": "an array subscript",
    "c_style_for_statement": "`for ((…))`",
    "brace_expression": "brace expansion",
}
_BASH_COMMANDS = frozenset({
    "source", "pushd", "popd", "dirs", "shopt", "declare", "typeset", "let", "mapfile", "readarray", "select",
    "coproc", "time", "disown", "enable", "builtin", "caller", "compgen", "complete", "bind", "help", "history",
    "alias", "unalias", "[[",
})
_BASH_VARIABLES = frozenset({
    "UID", "EUID", "RANDOM", "SRANDOM", "SECONDS", "EPOCHSECONDS", "EPOCHREALTIME", "BASHPID", "BASH", "BASHOPTS",
    "BASH_VERSION", "BASH_VERSINFO", "BASH_SOURCE", "BASH_LINENO", "BASH_REMATCH", "PIPESTATUS", "HOSTNAME",
    "HOSTTYPE", "OSTYPE", "MACHTYPE", "GROUPS", "FUNCNAME", "SHELLOPTS", "DIRSTACK", "REPLY", "HISTCMD",
})
# variables bash reads from the environment at start
_BASH_STARTUP_ENV = frozenset({"BASH_ENV", "SHELLOPTS", "BASHOPTS", "POSIXLY_CORRECT"})
# bash's variables that keep the environment's value (checked on bash 5.2): the same under both shells when an
# ARG or ENV sets them
_BASH_VARIABLES_FROM_ENV = frozenset({"UID", "EUID", "HOSTNAME"})
_BRACES = lazy_compile(r"(?<![$\\])\{[^{}\s\"'$]*(,|\.\.)[^{}\s\"']*\}")
_POSIX_EXPANSION = lazy_compile(r"^(#?)([A-Za-z_]\w*|\d+|[@*#?$!-])(:?[-=?+]|%%?|##?|$)", re.S)
_PRINTF_BASH = lazy_compile(r"\\[xuUeE]|%q|%\(")


# the programs _Reader.command reads the arguments of
_COMMANDS_READ = _BASH_COMMANDS | {"echo", "printf", "[", "test", "read", "trap", "set", "exec", "export", "wait"}
# the node types _Reader.visit reads
_VISITED = frozenset({
    "pipeline", "command", "test_command", "function_definition", "compound_statement", "file_redirect", "expansion",
    "variable_name", "variable_assignment", "word", "concatenation", *_BASH_NODES,
})


@record
class _Pipe:
    offset: int  # byte offset in the script, to tell whether an earlier `set -o pipefail` covers it
    text: str
    verdict: str = "ok"  # "ok", "unsafe" (the fix needs --unsafe-fixes), "sigpipe" (never fixed)
    why: str = ""


@record
class _Reading:
    pipes: list[_Pipe] = field(default_factory=list)  # pipelines no earlier `set -o pipefail` covers
    bash_only: list[str] = field(default_factory=list)  # what bash would read differently than dash
    bash_variables: list[str] = field(default_factory=list)  # bash's own variables the script reads


_READINGS: dict[str, _Reading] = {}


def read_script(script: Script) -> _Reading:
    """The pipelines of a parsed script and what in it bash reads differently than dash (cached per text)."""
    source = script.source
    reading = _READINGS.get(source)
    if reading is None:
        if len(_READINGS) > 2048:  # a bulk run sees thousands of files: keep the cache bounded
            _READINGS.clear()
        data = source.encode("utf-8")
        reading = _READINGS[source] = _Reader(data).read(_parser().parse(data).root_node)
    return reading


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reading = _Reading()
        self.pipefail_from: int | None = None
        self.inner_pipelines: set[int] = set()

    def text(self, node) -> str:
        return self.data[node.start_byte:node.end_byte].decode("utf-8", "replace")

    def read(self, root) -> _Reading:
        # each node with its parent's type (tree-sitter's node.parent walks down from the root again); visit
        # only for the types it looks at, in the same order (depth first, children in order)
        visited = _VISITED
        visit = self.visit
        stack = [(root, "")]
        pop, extend = stack.pop, stack.extend
        while stack:
            node, parent = pop()
            kind = node.type
            if kind in visited:
                visit(node, kind, parent)
            if node.child_count:
                extend([(child, kind) for child in reversed(node.children)])
        covered = self.pipefail_from
        if covered is not None:
            self.reading.pipes = [p for p in self.reading.pipes if p.offset < covered]
        return self.reading

    def visit(self, node, kind: str, parent: str) -> None:
        bash = self.reading.bash_only
        if kind == "pipeline":
            if node.id not in self.inner_pipelines:  # a nested one is a part of its parent's
                self.pipeline(node)
        elif kind == "command":
            self.command(node)
        elif kind in _BASH_NODES:
            bash.append(_BASH_NODES[kind])
        elif kind == "test_command" and self.text(node).startswith("[["):
            bash.append("`[[ … ]]`")
        elif kind == "test_command" and re.search(r"\s==\s", self.text(node)):
            bash.append("`==` in `[` (dash's test has only `=`)")
        elif kind == "function_definition" and node.children and node.children[0].type == "function":
            bash.append("the `function` keyword")
        elif kind == "compound_statement" and self.text(node).startswith("(("):
            bash.append("`((…))` arithmetic")
        elif kind == "file_redirect" and self.text(node).startswith("&>"):
            bash.append("`&>` (dash runs the command in the background)")
        elif kind == "expansion" and not _POSIX_EXPANSION.match(self.text(node)[2:-1]):
            bash.append(f"`{self.text(node)}`")
        elif kind == "variable_name" and parent in ("simple_expansion", "expansion"):
            if self.text(node) in _BASH_VARIABLES:
                self.reading.bash_variables.append(self.text(node))
        elif kind == "variable_assignment":
            name = node.child_by_field_name("name")
            if name is not None and self.text(name) in _BASH_VARIABLES:
                bash.append(f"an assignment to {self.text(name)} (bash's own variable)")
        elif kind in ("word", "concatenation") and parent in ("command", "for_statement"):
            # a brace expansion has a `{` (an ASCII byte: never part of another character in UTF-8)
            if self.data.find(b"{", node.start_byte, node.end_byte) >= 0 and _BRACES.search(self.text(node)):
                bash.append(f"brace expansion in `{self.text(node)}`")

    def command(self, node) -> None:
        name = self.program(node)
        if name not in _COMMANDS_READ:  # most commands: their arguments are not worth reading
            return
        words = self.words(node)
        args = words[1:]
        bash = self.reading.bash_only
        if name in _BASH_COMMANDS:
            bash.append(f"`{name}`")
        elif name == "echo" and (args[:1] in (["-e"], ["-E"]) or any(a is not None and "\\" in a for a in args)):
            bash.append("`echo` with backslashes or `-e` (dash's echo reads escapes, bash's prints them)")
        elif name == "printf" and (args[:1] == ["-v"] or any(a is not None and _PRINTF_BASH.search(a) for a in args)):
            bash.append("a `printf` format dash does not have")
        elif name in ("[", "test") and "==" in args:
            bash.append("`==` in `[` (dash's test has only `=`)")
        elif name == "read" and any(a is not None and a.startswith("-") and set(a[1:]) - set("rp") for a in args):
            bash.append("`read` with an option dash does not have")
        elif name == "trap" and any(a in ("ERR", "DEBUG", "RETURN") for a in args):
            bash.append("a bash-only trap")
        elif name == "set" and self.sets_pipefail(args):
            if self.pipefail_from is None or node.start_byte < self.pipefail_from:
                self.pipefail_from = node.start_byte
        elif name in ("exec", "export", "wait") and any(a in ("-a", "-c", "-l", "-f", "-n") for a in args[:1]):
            bash.append(f"`{name} {args[0]}`")

    @staticmethod
    def sets_pipefail(args: list[str | None]) -> bool:
        for flag, value in zip(args, args[1:]):
            if flag is not None and re.fullmatch(r"[-+][a-zA-Z]*o", flag) and value == "pipefail":
                return flag.startswith("-")
        return False

    def program(self, node) -> str | None:
        """The base name of the command's program, as os.path.basename(self.words(node)[0] or "") (None: no
        program)."""
        for child in node.named_children:
            if child.type == "command_name":
                inner = child.named_children[0] if child.named_children else child
                return os.path.basename(_literal(inner, self.data) or "")
        return None

    def words(self, node) -> list[str | None]:
        out = []
        for child in node.named_children:
            if child.type == "command_name":
                inner = child.named_children[0] if child.named_children else child
                out.append(_literal(inner, self.data))
            elif child.type in ("word", "string", "raw_string", "concatenation", "number", "simple_expansion", "expansion",
                                "command_substitution"):
                if out:
                    out.append(_literal(child, self.data))
        return out

    def stages(self, node) -> list:
        """The commands of a pipeline, in order. tree-sitter-bash reads `a | b | c && d` as `a | (b | (c && d))`
        (`|` binds tighter in bash): a list's first part is the pipeline's, the rest follows it."""
        out = []
        for child in node.named_children:
            while child.type == "list" and child.named_children:
                child = child.named_children[0]
            if child.type == "pipeline":
                self.inner_pipelines.add(child.id)
                out.extend(self.stages(child))
            elif child.type != "comment":
                out.append(child)
        if any(not c.is_named and self.text(c) == "|&" for c in node.children):
            self.reading.bash_only.append("`|&`")
        return out

    def pipeline(self, node) -> None:
        stages = self.stages(node)
        pipe = _Pipe(node.start_byte, " ".join(self.text(node).split()))
        for position, stage in enumerate(stages):
            while stage.type in ("redirected_statement", "negated_command") and stage.named_children:
                stage = stage.named_children[0]
            words = self.words(stage) if stage.type == "command" else []
            name = os.path.basename(words[0]) if words and words[0] else None
            if position < len(stages) - 1:
                if name == "yes":
                    self.judge(pipe, "sigpipe", "`yes` only ends when its reader is gone (SIGPIPE)")
                elif name in _ANSWERS_WITH_STATUS:
                    answer = "when the files differ" if name in ("diff", "cmp") else "when nothing matches"
                    self.judge(pipe, "unsafe", f"`{name}` exits 1 {answer}, which pipefail makes a failed build")
            if position == 0:
                continue
            early = self.stops_early(stage, name, words[1:])
            if early:
                self.judge(pipe, "sigpipe", f"{early} stops reading early: what writes to it dies of SIGPIPE")
            elif not self.reads_all(stage, name):
                self.judge(pipe, "unsafe", f"`{name or self.text(stage).split()[0]}` may stop reading before the end")
        self.reading.pipes.append(pipe)

    @staticmethod
    def judge(pipe: _Pipe, verdict: str, why: str) -> None:
        rank = {"ok": 0, "unsafe": 1, "sigpipe": 2}
        if rank[verdict] > rank[pipe.verdict]:
            pipe.verdict, pipe.why = verdict, why

    def stops_early(self, stage, name: str | None, args: list[str | None]) -> str | None:
        if name in _EARLY_EXIT:
            return f"`{name}`"
        if name in _GREPS:
            for arg in args:
                if arg == "--":
                    break
                if arg and arg.startswith("--") and arg.startswith(_GREP_EARLY_LONG):
                    return f"`{name} {arg}`"
                if arg and re.match(r"^-[A-Za-z]+", arg) and not arg.startswith("--") and _GREP_EARLY_SHORT & set(arg[1:]):
                    return f"`{name} {arg}`"
        if name == "sed" and any(a is not None and not a.startswith("-") and _SED_QUIT.search(a) for a in args):
            return "`sed` with `q`"
        if name in ("awk", "gawk", "mawk") and any(a is not None and _AWK_EXIT.search(a) for a in args):
            return f"`{name}` with `exit`"
        if name is None and stage.type == "while_statement":
            if re.search(r"\b(break|exit|return)\b", self.text(stage)):
                return "a `while` loop with `break`/`exit`"
        return None

    def reads_all(self, stage, name: str | None) -> bool:
        if name is not None:
            return name in _READS_ALL or bool(_PYTHON.match(name))
        if stage.type == "while_statement":
            condition = stage.child_by_field_name("condition")
            return condition is not None and self.text(condition).lstrip().startswith("read")
        return False


class Pipefail(Rule):
    code = "DF108"
    name = "pipefail"
    hadolint = ("DL4006",)
    title = "a RUN with a pipeline whose writer may fail unnoticed"
    safety = Safety.MIGRATION
    what = (
        "Adds `SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]` (Debian, Ubuntu) or "
        "`SHELL [\"/bin/ash\", \"-o\", \"pipefail\", \"-c\"]` (Alpine) before the first RUN of a stage whose "
        "pipeline has no pipefail, so `curl … | sh` fails the build when curl fails instead of running an empty "
        "script. The SHELL covers the rest of the stage and the stages built on it; a stage built on one whose SHELL "
        "already sets pipefail gets the same SHELL again where it has a pipeline, as hadolint reads each stage apart."
    )
    why = (
        "A pipeline's status is its last command's: without pipefail a failed download piped into `sh`, `tar` "
        "or `python` leaves a broken image that builds green."
    )
    example = (
        "FROM python:3.12-slim\nRUN curl -fsSL https://example.com/install.sh | sh",
        'FROM python:3.12-slim\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN curl -fsSL https://example.com/install.sh | sh',
    )
    fix_safety = (
        "Migration: a build whose pipeline writer fails now fails, which is the point; nothing else changes. "
        "Left alone, with the reason: a stage where a reader stops early (`head`, `grep -q`, `sed q`, `yes |`: the "
        "writer dies of SIGPIPE, which pipefail would turn into a failed build); a stage on Debian whose later "
        "RUN, CMD, ENTRYPOINT or HEALTHCHECK (or one of a stage built on it) uses what bash reads differently "
        "than dash, Debian's /bin/sh (`echo` with backslashes or `-e`, `[[`, brace expansion, `$'…'`, `&>`, "
        "`source`, bash's own variables such as `$RANDOM`); a stage whose shell dfix does not know (not Debian, "
        "Ubuntu or Alpine); a SHELL already set without pipefail; a later pipeline that a pragma exempts from "
        "DL4006. `set -o pipefail` inside the RUN is not used: bookworm's dash rejects it (trixie's accepts it) "
        "and hadolint still reports DL4006 on it. A pipeline whose reader dfix does not know to read to the end, "
        "or whose writer answers with its status (`grep … |`, `diff … |`), is fixed only with --unsafe-fixes. "
        "Under bash a shell-form CMD of one command runs that command as PID 1 (bash execs it), as DF503's "
        "exec form does; the image's config records the SHELL. Windows stages are not looked at. buildah and podman "
        "keep SHELL only when they build in the docker format (`--format docker`): in an OCI image it is dropped "
        "with a warning, and the RUNs keep /bin/sh."
    )
    changes = frozenset({"pipefail"})

    def check(self, doc, ctx):
        for stage in doc.stages:
            needing = []
            for ins in stage.body:
                if ins.keyword != "RUN" or ("|" not in ins.args and not ins.heredocs):
                    continue
                if ins.is_json or not is_posix_shell(doc, ins):
                    continue  # exec form, Windows or a non-POSIX SHELL: no sh pipelines
                if _sets_pipefail(_own_shell(stage, ins)):
                    continue
                script = script_of(doc, ins)
                if script.ok:
                    if "|" in script.source and read_script(script).pipes:
                        needing.append(ins)
                elif "|" in ins.args.replace("||", ""):
                    needing.append(ins)
            if not needing:
                continue
            first = needing[0]
            also = ", ".join(str(ins.line_number) for ins in needing[1:])
            message = "pipeline without pipefail: a failing writer goes unnoticed" + (f" (also lines {also})" if also else "")
            inherited = shell_instruction_in_force(doc, first)
            if inherited is not None and _sets_pipefail(inherited.json_args):
                # hadolint reads each stage's SHELL apart: the same SHELL again changes nothing but that
                yield self.finding(first.line_number, message, [_insert_shell(doc, first, inherited.json_args)])
                continue
            if inherited is not None:
                yield self.finding(first.line_number, message, reason=f"the SHELL on line {inherited.line_number} has "
                                   "no -o pipefail: add it there (dfix leaves a SHELL you chose as it is)")
                continue
            chain = doc.stage_chain(stage)
            family = _FAMILY_SHELL.get(base_images.family(doc, chain) or "")
            if family not in SHELLS:
                yield self.finding(first.line_number, message, reason=f"the shell of `{chain[0].base_expanded}` is not "
                                   "known (Debian, Ubuntu and Alpine are): set a SHELL with -o pipefail yourself")
                continue
            problem, unsafe = self._blockers(doc, stage, first, family)
            if problem:
                yield self.finding(first.line_number, message, reason=problem)
                continue
            if unsafe:
                message += f"; unsafe, {unsafe}"
            yield self.finding(first.line_number, message, [_insert_shell(doc, first, SHELLS[family])], unsafe=bool(unsafe))

    def _blockers(self, doc, stage, first, family) -> tuple[str | None, str | None]:
        """Why the SHELL cannot go before `first` (None if it can), and why it needs --unsafe-fixes (None if not)."""
        unsafe = None
        names = _arg_and_env_names(doc, stage)
        debian = family == "debian"
        if debian and _BASH_STARTUP_ENV & names:
            return f"{sorted(_BASH_STARTUP_ENV & names)[0]} is set, which bash reads at start", None
        for ins in doc.instructions:
            if (ins.inner or ins).keyword == "HEALTHCHECK" and healthcheck_shell_text(ins.inner or ins) is not None:
                # Docker runs a shell-form check with the image's SHELL, podman with /bin/sh: only a file without
                # any SHELL runs the same one on both
                return (f"the shell-form HEALTHCHECK on line {ins.line_number} would run under the SHELL on Docker "
                        "and /bin/sh on podman (its exec form first: DF503 writes it where it can)"), None
        for ins in _under_the_new_shell(doc, stage, first):
            where = f"line {ins.line_number}"
            script = _shell_script(doc, ins)
            if script is None:
                continue
            if not script.ok:
                if debian or "|" in (ins.inner or ins).args.replace("||", ""):
                    return f"dfix cannot read the shell of {where}, which would run under {SHELLS[family][0]}", None
                continue
            target = ins.inner or ins
            if target.keyword in ("CMD", "ENTRYPOINT") and (
                    literal_command(target.args) is None or command_is_paired(doc, doc.stage_of(ins), target)):
                # the image's command would become [SHELL…, TEXT]: another program as PID 1, and pipefail in it
                return (f"the shell-form {target.keyword} on {where} would run under {SHELLS[family][0]} "
                        "(its exec form first: DF503 writes it where it can)"), None
            reading = read_script(script)
            if debian:
                if reading.bash_only:
                    return f"{where} uses {reading.bash_only[0]}, which bash reads differently than dash (/bin/sh)", None
                own = [v for v in reading.bash_variables if not (v in _BASH_VARIABLES_FROM_ENV and v in names)]
                if own:
                    return f"{where} reads ${own[0]}, a variable bash sets itself and dash does not", None
            for pipe in reading.pipes:
                if pipe.verdict == "sigpipe":
                    return f"{where}: in `{_short(pipe.text)}`, {pipe.why}", None
                if ins is not first and _exempt(doc, ins):
                    return f"{where} has a pipeline a pragma exempts from DL4006", None
                if unsafe is None and pipe.verdict == "unsafe":
                    unsafe = f"{where}: in `{_short(pipe.text)}`, {pipe.why}"
        return None, unsafe


def _exempt(doc, ins) -> bool:
    """Whether a pragma exempts `ins` from DL4006/DF108: the engine reads pragmas for the findings; this rule
    also needs them for the later RUNs its SHELL would govern."""
    return Pragmas.of(doc).suppresses("DF108", ins.line_number, ("DL4006",))


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


def _shell_script(doc, ins) -> Script | None:
    """The shell text an instruction hands to SHELL (None when it hands none: exec form, other keywords)."""
    target = ins.inner or ins
    if target.is_json:
        return None
    if target.keyword in ("RUN", "CMD", "ENTRYPOINT"):
        return script_of(doc, ins)
    if target.keyword == "HEALTHCHECK":
        found = healthcheck_shell_text(target)
        return _parse_region(0, found[1]) if found is not None else None
    return None


def _own_shell(stage, ins) -> list[str]:
    """The argv of the last SHELL of the stage itself before `ins` (hadolint reads each stage apart)."""
    argv: list[str] = []
    for other in stage.body:
        if other.index >= ins.index:
            break
        if other.keyword == "SHELL":
            argv = other.json_args or []
    return argv


def _sets_pipefail(argv: list[str] | None) -> bool:
    if not argv or os.path.basename(argv[0]).removesuffix(".exe") not in PIPEFAIL_PROGRAMS:
        return False
    return any(re.fullmatch(r"-[a-zA-Z]*o", a) and b == "pipefail" for a, b in zip(argv, argv[1:])) or "-opipefail" in argv


def _under_the_new_shell(doc, stage, first):
    """What a SHELL inserted before `first` governs: the rest of the stage and the stages built on it, each up
    to a SHELL of its own."""
    for link in [stage, *doc.descendants(stage)]:
        for ins in link.body:
            if link is stage and ins.index < first.index:
                continue
            if ins.keyword == "SHELL":
                break
            yield ins


def _arg_and_env_names(doc, stage) -> set[str]:
    names: set[str] = set()
    for link in [*doc.stage_chain(stage), *doc.descendants(stage)]:
        for ins in link.body:
            if ins.keyword == "ENV":
                names.update(key for key, _ in ins.key_values())
            elif ins.keyword == "ARG":
                names.update(word.partition("=")[0] for word, _, _ in ins.words)
    return names


def _insert_shell(doc, first, argv) -> Edit:
    """`SHELL [...]` on its own line above `first` and the comments that belong to it, as the file writes
    its keywords and lines."""
    line_index = doc.comment_block_start(first)
    line = doc.lines[line_index]
    indent = doc.text[doc.lines[first.first_line].start:first.keyword_span[0]]
    keyword = "shell" if first.keyword_text.islower() else "SHELL"
    eol = line.eol or doc.eol
    body = ", ".join(f'"{a}"' for a in argv)
    return Edit.insert(line.start, f"{indent}{keyword} [{body}]{eol}")
