from __future__ import annotations

import posixpath

from ..pragmas import Pragmas
from ..syntax import Edit, LineKind
from ..syntax.packages import package_command
from ..syntax.shell import Script, is_and_chain, is_posix_shell, script_of, shell_instruction_in_force, state_leak
from .base import Rule, Safety
from .base_image_pin import stage_base
from ._split_plan import plans_on, run_kind
from .python_slim_base import _variant

# hadolint's DL3059 scope: a RUN of more commands is a grouping its author chose
MAX_COMMANDS = 2
# a joined RUN longer than this is harder to read than the layer it saves is worth
MAX_CODE_LINES = 50
MAX_CHARS = 4000
# what `/bin/sh -c` and the shells that read the same language do with one script
_POSIX_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox"})
# commands that leave a process running after they return: it would still run while the next step does
_DAEMONS = frozenset({"service", "systemctl", "start-stop-daemon", "nohup", "setsid", "daemonize", "dockerd"})
# installs of a project's dependencies from its manifests, by the words that start them: the layer the
# manifest copy keeps cached
_PROJECT_INSTALLS = {
    "poetry": (("install",), ("sync",)), "pipenv": (("install",), ("sync",)), "uv": (("sync",),),
    "npm": (("ci",), ("install",), ("i",)), "yarn": ((), ("install",)), "pnpm": (("install",), ("i",)),
    "bundle": (("install",),), "composer": (("install",),), "go": (("mod", "download"),),
    "cargo": (("fetch",),), "conda": (("env", "create"), ("env", "update")), "mamba": (("env", "create"), ("env", "update")),
}
_PHASE_ONE = frozenset({"--no-root", "--no-install-project"})
_MESSAGE = "consecutive RUNs in one stage: one RUN, one layer"
_JOINED = "consecutive RUNs in one stage: the next RUN joined into this one, one layer"


class JoinRuns(Rule):
    code = "DF202"
    name = "join-runs"
    hadolint = ("DL3059",)
    title = "consecutive RUN instructions that can be one"
    safety = Safety.SAFE
    what = (
        "Joins a RUN to the RUN right before it in the same stage (nothing but comments or blank lines between) "
        "with `&&`, when each is at most two commands (as hadolint's DL3059 counts: a longer RUN is a grouping "
        "its author chose): on one line when both are one short line, else on a continuation line in the file's "
        "style (leading `&&` or trailing `&& \\`). Comments between stay on their lines, inside the RUN; blank "
        "lines between go."
    )
    why = (
        "Each RUN is a layer: a file the first writes and the second deletes still ships in the first layer, "
        "and every layer costs a little to pull and to store. Short steps read as well in one RUN."
    )
    example = (
        "RUN chmod +x /app/entrypoint.sh\nRUN mkdir -p /app/data",
        "RUN chmod +x /app/entrypoint.sh && mkdir -p /app/data",
    )
    fix_safety = (
        "Safe: the same commands run in the same order, by the same shell, with the same flags and mounts, and "
        "the build still stops at the first that fails. So it is applied only when both RUNs are shell form "
        "without a heredoc, have equal flags (no tmpfs or writable bind mount, whose contents each RUN starts "
        "afresh), run under the default shell (or a SHELL that is sh/bash with `-c`), are each one command or "
        "an `&&` chain (after a `;`, `||`, `&` or newline, `&& next` would not be one more step), and the first "
        "ends in its last command, not a comment, and leaves no state behind that the second would now see: "
        "`cd`, `export`, `set`, `unset`, `umask`, `source`, `exec`, `exit`, `trap`, `shopt`, `alias`, `read`, "
        "`eval`, a variable or function of the shell, a background job, a daemon it starts. Not when a pragma "
        "comment names either RUN (it would cover the other's commands). Layer caching: a change above both "
        "(a copied file, a build argument) reruns both either way; joined, an edit of the second's text also "
        "reruns the first. That matters only when the first is the expensive step that the manifest copy "
        "keeps cached, so the install of a project's dependencies from its manifests (pip -r, poetry, pipenv, "
        "uv sync, npm ci, bundle, composer, go mod download, ...) is not joined with a step after it that "
        "installs nothing, nor a dependency-only half of an install (`--no-root`, `--no-install-project`). In "
        "the final stage that DF403/DF402 split into a builder and a runtime, only RUNs the split treats alike "
        "(package installs, dependency installs, tool installs, other steps) are joined, so it sees the same "
        "steps. A joined RUN stays under 50 lines and 4000 characters."
    )
    # after every rule that moves or splits RUNs (DF201, DF302, DF403, DF402): they plan on the steps the
    # author wrote; joining runs on the finished layout, and so joins their own inserted RUNs too
    phase = 4

    def check(self, doc, ctx):
        for stage in doc.stages:
            body = stage.body
            split = None  # computed on the first pair that needs it
            size = None  # (code lines, characters) of the RUN the previous pair joined into
            for first, second in zip(body, body[1:]):
                if not (_plain_run(first) and _plain_run(second)):
                    size = None
                    continue
                a, b = script_of(doc, first), script_of(doc, second)
                if not (a.ok and b.ok) or len(a.commands) > MAX_COMMANDS or len(b.commands) > MAX_COMMANDS:
                    size = None
                    continue
                if _flags(first) != _flags(second):
                    size = None
                    continue  # different flags: hadolint does not ask, and the steps are not alike
                if split is None:
                    split = splits(doc, stage)
                group = size or _size(doc, first)
                reason = _why_not(doc, stage, first, second, a, b, split)
                if reason is None:
                    added = _size(doc, second)
                    joined = (group[0] + added[0], group[1] + added[1])
                    if joined[0] > MAX_CODE_LINES or joined[1] > MAX_CHARS:
                        reason = f"the joined RUN would be {joined[0]} lines, {joined[1]} characters long"
                if reason is not None:
                    size = None
                    yield self.finding(second.line_number, _MESSAGE, reason=reason)
                    continue
                size = joined
                # named on the RUN that takes the other in (the second may be one a fix wrote, with no line of its own)
                yield self.finding(first.line_number, _JOINED,
                                   _join_edits(doc, first, second, a, b, group))


def _plain_run(ins) -> bool:
    return ins.keyword == "RUN" and ins.inner is None


def _flags(ins) -> list[str]:
    return sorted(f"{f.name}={f.value}" for f in ins.flags)


def _size(doc, ins) -> tuple[int, int]:
    return len(ins.code_lines), ins.stop - ins.start


def _why_not(doc, stage, first, second, a, b, split) -> str | None:
    if first.heredocs or second.heredocs or first.is_json or second.is_json:
        return "a RUN in exec form or with a heredoc is not a shell command to chain"
    if not is_posix_shell(doc, first) or not _default_shell(doc, first):
        return "the stage's SHELL is not sh or bash with -c"
    for mount in first.mounts:
        kind = mount.get("type", "bind")
        if kind == "tmpfs" or (kind == "bind" and any(k in mount for k in ("rw", "readwrite"))):
            return "a tmpfs or writable bind mount starts empty (or as in the context) for each RUN"
    pragmas = Pragmas.of(doc)
    if pragmas.by_line.get(first.line_number) or pragmas.by_line.get(second.line_number):
        return "a pragma comment names one of the RUNs, and would cover the other's commands"
    between = doc.lines[first.last_line + 1:second.first_line]
    if any(line.kind not in (LineKind.COMMENT, LineKind.BLANK) for line in between):
        return "something other than comments stands between the RUNs"
    if not is_and_chain(a) or not is_and_chain(b):
        return "a RUN separates commands with `;`, `||`, `&` or a newline, so `&&` would not simply add a step"
    last = doc.lines[first.last_line]
    if not last.start <= a.end <= last.end or doc.text[a.end:last.end].strip():
        return f"line {first.line_number}'s RUN does not end in its last command (a comment follows it)"
    head = range(second.first_line, doc.line_index_at(b.start))
    if any(doc.lines[i].kind is not LineKind.CODE and doc.lines[i].kind is not LineKind.CONT_CODE for i in head):
        return "a comment sits between the second RUN's keyword and its command"
    leak = state_leak(a) or _daemon(a)
    if leak:
        return f"line {first.line_number}'s RUN has {leak}, whose effect the second would now see"
    if _phase_one(a) or _phase_one(b):
        return "a dependency-only install (--no-root, --no-install-project) is the layer DF201 keeps apart"
    if _installs_project(a) or _installs_project(b):
        return ("the install of the project's dependencies from its manifests stays a step of its own, the "
                "layer the manifest copy keeps cached")
    if split:
        kinds = {run_kind(a, first), run_kind(b, second), run_kind(Script(True, a.commands + b.commands), first)}
        if len(kinds) > 1:
            return "DF403/DF402 move the stage's installs into a builder step by step, and these are different steps"
    return None


def splits(doc, stage) -> bool:
    """Whether DF403 or DF402 read this stage RUN by RUN to split it into a builder and a runtime: the final
    stage when it ships build packages for Python, or a single stage on a full python image that installs
    Python dependencies. (After a split the final stage is the runtime, which they leave alone.)"""
    if stage is not doc.final_stage:
        return False
    if plans_on(doc, stage):
        return True
    if len(doc.stages) != 1:
        return False
    base = stage_base(doc, stage)
    full_python = base.ref is not None and base.ref.hub_name == "python" and _variant(base.ref.tag) == "full"
    return full_python and plans_on(doc, stage, full_base=True)


def _default_shell(doc, ins) -> bool:
    found = shell_instruction_in_force(doc, ins)
    shell = None if found is None else found.json_args
    if shell is None:
        return True
    return bool(shell) and posixpath.basename(shell[0]) in _POSIX_SHELLS and shell[-1] == "-c"


def _daemon(script) -> str | None:
    for command in script.commands:
        words = [w.value or "" for w in command.words]
        if command.name in _DAEMONS or (command.name or "").startswith("/etc/init.d/") or (
                words[:1] and words[0].startswith("/etc/init.d/")):
            return f"`{command.name}`, which may leave a process running"
    return None


def _phase_one(script) -> bool:
    return any(w.value in _PHASE_ONE for c in script.commands for w in c.words)


def _installs_project(script) -> bool:
    """An install that reads the project's manifests (requirements, lock files), not named packages."""
    for command in script.commands:
        pkg = package_command(command)
        if pkg is not None and pkg.tool == "pip" and pkg.action == "install":
            if pkg.has_option("-r", "--requirement", "-c", "--constraint", "-e", "--editable") or any(
                    (w.value or "").startswith((".", "/")) for w in pkg.operands):
                return True
            continue
        words = [w.value or "" for w in command.words[1:]]
        if command.name == "uv" and words[:2] == ["pip", "install"]:
            if any(w in ("-r", "--requirement") or w.startswith("--requirement=") for w in words):
                return True
            continue
        verbs = [w for w in words if not w.startswith("-")]
        for start in _PROJECT_INSTALLS.get(command.name or "", ()):
            # npm/pnpm with package names install those packages, not the project's
            if tuple(verbs[:len(start)]) == start and (command.name not in ("npm", "pnpm") or len(verbs) == 1):
                return True
    return False


def _join_edits(doc, first, second, a, b, group) -> list[Edit]:
    last = doc.lines[first.last_line]
    between = range(first.last_line + 1, second.first_line)
    # one line only while the whole joined RUN stays one short line (`group` is what it has grown to so far)
    one_line = (group[0] == 1 and len(second.code_lines) == 1 and not between
                and group[1] + 4 + (doc.lines[second.last_line].end - b.start) <= 100)
    if one_line:
        return [Edit(a.end, b.start, " && ")]
    style, indent = _style(doc, first, second)
    edits = [Edit(a.end, last.end, f" && {doc.escape}" if style == "trailing" else f" {doc.escape}")]
    # an empty line inside a continuation is deprecated in BuildKit: the blank lines go, the comments stay
    edits += [Edit.delete(doc.lines[i].start, doc.lines[i].stop) for i in between if doc.lines[i].kind is LineKind.BLANK]
    edits.append(Edit(second.start, b.start, indent if style == "trailing" else f"{indent}&& "))
    return edits


def _style(doc, first, second) -> tuple[str, str]:
    """The file's continuation style, `leading` (`\\` then `    && next`) or `trailing` (`&& \\` then
    `    next`), and its indentation: first from the two RUNs, then from the file's other RUNs."""
    own = [first, second]
    others = [i for i in doc.instructions if i.keyword == "RUN" and i not in own]
    for group in (own, others):
        for ins in group:
            code = [doc.text[doc.lines[i].start:doc.lines[i].end] for i in ins.code_lines]
            for prev, line in zip(code, code[1:]):
                if line.lstrip().startswith("&&"):
                    return "leading", _indent(line)
                if prev.rstrip(" \t\\`").endswith("&&"):
                    return "trailing", _indent(line)
    base = _indent(doc.text[first.start:doc.lines[first.first_line].end])
    return "leading", base + "    "


def _indent(text: str) -> str:
    return text[: len(text) - len(text.lstrip(" \t"))]
