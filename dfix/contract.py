"""What an image does, as facets that a fix must leave equal (apart from the ones it changes on purpose).

Hygiene edits are normalised away here on purpose: the flags dfix adds (-y, --no-install-recommends,
--no-cache-dir, --no-cache), `apt-get update` and the apt lists cleanup, the layer boundaries between
RUNs, ADD of plain local files versus COPY, MAINTAINER versus a maintainer label. Everything else —
every other word of every command, every instruction, every flag — must match.
"""

from __future__ import annotations

import json
import posixpath
import re

from . import base_images
from .lazy_regex import lazy_compile
from .syntax import Document, Instruction
from .syntax.command import (
    command_is_paired, command_words, dev_flag_positions, healthcheck_shell_text, literal_command, shell_tokens,
    without_final_exec,
)
from .syntax.document import absolute_destination, add_source_is_remote, relative_destination
from .syntax.packages import package_command
from .syntax.shell import POSIX_SHELLS, is_posix_shell, script_of, shell_in_force

_HYGIENE_OPTIONS = {
    "apt": frozenset({"-y", "--no-install-recommends"}),
    "apk": frozenset({"--no-cache"}),
    "pip": frozenset({"--no-cache-dir"}),
    "uv": frozenset({"--no-cache"}),
}
_LISTS = "/var/lib/apt/lists"


def contract(doc: Document) -> dict[str, object]:
    first_from = doc.stages[0].from_instruction.index if doc.stages else None  # what is before it is in no stage
    facets: dict[str, object] = {
        "directives": [(d.name, d.value) for d in doc.directives],
        "preamble": [_instruction_key(doc, i) for i in doc.instructions[:first_from]],
        "stages": [(s.name, _image_name(s.base_expanded), _flags(s.from_instruction)) for s in doc.stages],
    }
    for stage in doc.stages:
        # the last stage is the image: named "final" so a conversion to multi-stage compares it with the
        # original single stage
        prefix = "final" if stage is doc.stages[-1] else f"stage{stage.index}"
        # the tag and digest apart, so pinning a base image can declare exactly that it changes them
        facets[f"{prefix}.base-tag"] = stage.base_expanded[len(_image_name(stage.base_expanded)):]
        labels: dict[str, str] = {}
        runs, others = [], []
        commands: dict[str, tuple] = {}
        folded, run_in = _workdir_folds(doc, stage)
        for ins in stage.body:
            keyword = ins.keyword
            if ins.index in folded:
                continue
            if keyword == "LABEL":
                labels.update(ins.key_values())
            elif keyword == "ENV":
                # per key, so a rule can declare exactly which variables it adds
                for key, value in ins.key_values():
                    facets.setdefault(f"{prefix}.env.{key}", []).append(value)
            elif keyword == "MAINTAINER":
                labels["maintainer"] = ins.args
            elif keyword in ("COPY", "ADD"):
                pass  # compared by _without_overwritten_copies
            elif keyword == "RUN":
                # a RUN that DF204's WORKDIR pair wraps runs, as `cd X && …`, where the stage was before it
                cwd = doc.workdir_at(doc.instructions[ins.index - 1] if ins.index in run_in else ins)
                items = _run_items(doc, ins, cwd)
                if ins.index in run_in:
                    items = [(_flags(ins) + (f"cwd={cwd}",), (), ("cd", run_in[ins.index]))] + items
                runs.append(items)
            elif keyword in ("CMD", "ENTRYPOINT"):
                # only the stage's last of each reaches the image (BuildKit empties an inherited CMD at an
                # ENTRYPOINT only while the stage has set none, and a later CMD sets it again either way)
                commands[keyword] = _command_key(doc, stage, ins)
            elif keyword == "HEALTHCHECK":
                facets.setdefault(f"{prefix}.healthcheck", []).append(_healthcheck_key(doc, ins))
            elif keyword == "USER":
                facets.setdefault(f"{prefix}.user", []).append(ins.args)
            elif keyword == "SHELL" and _pipefail_shell(ins.json_args):
                # pipefail apart, so DF108 can declare exactly that it adds it; the bash or ash SHELL it writes
                # is nothing else (which shell the stage has, and what runs under it, is the rule's to check)
                facets.setdefault(f"{prefix}.pipefail", []).append(tuple(ins.json_args))
                rest = _without_pipefail(ins.json_args)
                if rest not in (["/bin/bash", "-c"], ["/bin/ash", "-c"]):
                    others.append(("SHELL", _flags(ins), json.dumps(rest)))
            else:
                others.append(_instruction_key(doc, ins))
        for keyword in ("ENTRYPOINT", "CMD"):
            if keyword in commands:
                argv, dev = commands[keyword]
                facets[f"{prefix}.{keyword.lower()}"] = [argv]
                facets.setdefault(f"{prefix}.command-dev-flags", []).append(dev)
        facets[f"{prefix}.labels"] = labels
        copies = _without_overwritten_copies(doc, stage)
        # ownership apart, so the non-root fix can declare exactly that it hands the app files over
        facets[f"{prefix}.copies"] = [(k, tuple(f for f in fl if not f.startswith("chown=")), *r) for k, fl, *r in copies]
        facets[f"{prefix}.copy-chown"] = [tuple(f for f in fl if f.startswith("chown=")) for _, fl, *_ in copies]
        runs = _split_users(runs, facets, prefix)
        # RUN boundaries are not part of the contract (DF103 and DF202 join RUNs): compare the commands in order
        facets[f"{prefix}.runs"] = [item for run in _without_phase_one(runs) for item in run]
        facets[f"{prefix}.instructions"] = others
    return facets


_PLAIN_PATH = lazy_compile(r"^/[A-Za-z0-9_.@+:/=,-]*$")


def _workdir_folds(doc: Document, stage) -> tuple[set[int], dict[int, str]]:
    """`WORKDIR X`, a RUN, and a WORKDIR back to where the stage was is `RUN cd X && …` (DF204's rewrite, as a
    user may write it too): the WORKDIRs it folds away, and the RUNs that run in X. The WORKDIR back may be
    missing where nothing after reads the working directory: X is where the stage already was, the next
    instruction is an absolute WORKDIR, or the stage ends and nothing is built on it."""
    folded: set[int] = set()
    run_in: dict[int, str] = {}
    body = stage.body
    for k, ins in enumerate(body[:-1]):
        if ins.keyword != "WORKDIR":
            continue
        run = body[k + 1]
        path = ins.args.strip()
        if run.keyword != "RUN" or run.heredocs or not _PLAIN_PATH.match(path):
            continue
        previous = base_images.workdir_at(doc, ins)
        if previous is None:
            continue
        after = body[k + 2] if k + 2 < len(body) else None
        after_path = after.args.strip() if after is not None and after.keyword == "WORKDIR" else ""
        if _PLAIN_PATH.match(after_path) and posixpath.normpath(after_path) == previous:
            folded.add(after.index)
        elif not (posixpath.normpath(path) == previous or _PLAIN_PATH.match(after_path)
                  or (after is None and stage is not doc.final_stage and not doc.descendants(stage))):
            continue
        folded.add(ins.index)
        run_in[run.index] = path
    return folded, run_in


def differences(before: dict[str, object], after: dict[str, object], allowed: frozenset[str] = frozenset()) -> list[str]:
    # a facet is allowed to change when named in full, by its last parts ("base-tag" for "final.base-tag"),
    # or under a "stage0.*"
    suffixes = tuple("." + a for a in allowed)
    prefixes = tuple(a[:-1] for a in allowed if a.endswith(".*"))
    out = []
    for key in sorted(set(before) | set(after)):
        if key in allowed or key.endswith(suffixes) or key.startswith(prefixes):
            continue
        if before.get(key) != after.get(key):
            out.append(key)
    return out


def _pipefail_shell(argv: list[str] | None) -> bool:
    return bool(argv) and _without_pipefail(argv) != argv


def _without_pipefail(argv: list[str]) -> list[str]:
    """SHELL's argv without `-o pipefail` (in `-o pipefail` or a cluster such as `-eo pipefail`)."""
    out: list[str] = []
    skip = False
    for index, arg in enumerate(argv):
        if skip:
            skip = False
            continue
        following = argv[index + 1] if index + 1 < len(argv) else None
        if following == "pipefail" and re.fullmatch(r"-[a-zA-Z]*o", arg):
            skip = True
            if arg != "-o":
                out.append(arg[:-1])
            continue
        out.append(arg)
    return out


def _image_name(ref: str) -> str:
    """``registry/repo`` of ``registry/repo:tag@digest`` (a colon before the last slash is a port)."""
    name = ref.partition("@")[0]
    colon = name.rfind(":")
    return name[:colon] if colon > name.rfind("/") else name


def _flags(ins: Instruction) -> tuple[str, ...]:
    if not ins.flags:
        return ()
    return tuple(sorted(f"{f.name}={f.value}" for f in ins.flags))


def _normal(text: str) -> str:
    return " ".join(text.split())


def _instruction_key(doc: Document, ins: Instruction) -> tuple:
    inner = ins.inner
    if inner is not None and inner.keyword == "RUN":
        return ("ONBUILD", "RUN", tuple(_run_items(doc, ins)))
    if inner is not None:
        return ("ONBUILD", inner.keyword, _flags(inner), _normal(inner.args), _bodies(doc, ins))
    return (ins.keyword, _flags(ins), _normal(ins.args))


def _healthcheck_key(doc: Document, ins: Instruction) -> tuple:
    """The argv a HEALTHCHECK runs. A JSON array runs as it is; a shell form runs the image's shell with the text
    (Docker: its SHELL, else `/bin/sh -c`; podman: `/bin/sh -c`), which only without any SHELL is one argv,
    the same as `["/bin/sh", "-c", TEXT]`. The texts compare by their shell tokens."""
    found = healthcheck_shell_text(ins)
    match = re.match(r"(?i)CMD\s+", ins.args)
    if found is None and match is not None:
        try:
            values = json.loads(ins.args[match.end():])
        except ValueError:
            values = None
        if isinstance(values, list) and len(values) >= 3 and values[-2] == "-c":
            return ("HEALTHCHECK", _flags(ins), "argv", *values[:-1], _tokens(values[-1]))
    if found is not None:
        text = found[1]
        if is_posix_shell(doc, ins) and not any(other.keyword == "SHELL" for other in doc.instructions):
            return ("HEALTHCHECK", _flags(ins), "argv", "/bin/sh", "-c", _tokens(text))
        return ("HEALTHCHECK", _flags(ins), "shell", _tokens(text))
    return _instruction_key(doc, ins)


def _tokens(text: str) -> object:
    return shell_tokens(text) or _normal(text)


def _bodies(doc: Document, ins: Instruction) -> tuple[str, ...]:
    out = []
    for heredoc in ins.heredocs:
        lines = [doc.lines[i] for i in heredoc.body_lines]
        out.append("".join(doc.text[line.start:line.stop] for line in lines))
    return tuple(out)


def _copy_key(doc: Document, ins: Instruction) -> tuple:
    keyword = ins.keyword
    args = ins.json_args if ins.is_json else [w for w, _, _ in ins.words]
    if len(args) >= 2 and not (ins.heredocs and args[-1].startswith("<<")):
        args = [*args[:-1], _destination_in_force(doc, ins, args[-1] if ins.is_json else _strip_quotes(args[-1]))]
    if keyword == "ADD" and not ins.heredocs and not any(add_source_is_remote(s) for s in args[:-1]):
        plain = {f.name for f in ins.flags} <= {"chown", "chmod", "link", "exclude"}
        if plain:
            keyword = "COPY"
    return (keyword, _flags(ins), tuple(args), _bodies(doc, ins))


def _destination_in_force(doc: Document, ins: Instruction, dest: str) -> str:
    """A relative destination as the absolute path it lands on, where the working directory in force is
    known for certain (a WORKDIR of the file, or the base image's own from the table): `COPY . .` under
    python's `/` and `COPY . /` copy to the same place. Otherwise as written, so a change compares unequal."""
    if not relative_destination(dest):
        return dest
    workdir = base_images.workdir_at(doc, ins)
    resolved = absolute_destination(dest, workdir) if workdir is not None else None
    return dest if resolved is None else resolved


def _strip_quotes(word: str) -> str:
    return word[1:-1] if len(word) >= 2 and word[0] == word[-1] and word[0] in "'\"" else word


def _command_key(doc: Document, stage, ins: Instruction) -> tuple[tuple, tuple]:
    """The argv a CMD/ENTRYPOINT runs, split from its development flags. A shell form runs the stage's SHELL
    with its text appended, so `["/bin/sh", "-c", TEXT]` is the same command; a simple command of literal
    words, where no ENTRYPOINT/CMD pairing hands the argv on, runs as its own exec form. An `exec` before the
    last command of a shell text only makes that command PID 1 (DF503's purpose): not part of the contract."""
    paired = command_is_paired(doc, stage, ins)
    words = None if paired and not ins.is_json else command_words(doc, ins)
    values = [w.value for w in words] if words is not None else []
    if not ins.is_json and values[:1] == ["exec"]:
        # `exec PROGRAM …` runs PROGRAM's argv; `exec -a NAME …` and the like only run in a shell
        words, values = (words, values[1:]) if len(values) > 1 and not values[1].startswith("-") else (None, [])
    if words is None:
        shell = None if ins.is_json else shell_in_force(doc, ins)
        if shell is None:
            return ("shell", _normal(ins.args)), ()
        key, dev = _shell_text_key(ins.args)
        return ("argv", (*shell, key)), dev
    if ins.is_json and len(values) >= 2 and (values[:-1] == (shell_in_force(doc, ins) or [None]) or _runs_a_shell(values)):
        key, dev = _shell_text_key(values[-1])
        return ("argv", (*values[:-1], key)), dev
    dev = dev_flag_positions(values)
    dropped = {k for first, last in dev for k in range(first, last + 1)}
    argv = tuple(v for k, v in enumerate(values) if k not in dropped)
    return ("argv", argv), tuple(" ".join(values[a:b + 1]) for a, b in dev)


def _runs_a_shell(values: list) -> bool:
    """`["/bin/sh", "-c", TEXT]` and the like: a POSIX shell running a text, whatever SHELL the stage has (a
    SHELL added later, such as DF108's, does not change what an exec form runs)."""
    return len(values) >= 3 and values[-2] == "-c" and posixpath.basename(values[0] or "") in POSIX_SHELLS


_SHELL_TEXT_KEYS: dict[str, tuple[object, tuple[str, ...]]] = {}


def _shell_text_key(text: str) -> tuple[object, tuple[str, ...]]:
    """The text a shell runs, without the `exec` before its last command; a simple command of literal words
    as its words less their development flags (which DF504 removes on purpose). Kept by text (the guard
    reads the command of the input and of the rewrite, mostly the same text; the key is immutable)."""
    found = _SHELL_TEXT_KEYS.get(text)
    if found is None:
        if len(_SHELL_TEXT_KEYS) > 1024:  # a bulk run sees thousands of files: keep the cache bounded
            _SHELL_TEXT_KEYS.clear()
        found = _SHELL_TEXT_KEYS[text] = _read_shell_text_key(text)
    return found


def _read_shell_text_key(text: str) -> tuple[object, tuple[str, ...]]:
    text = without_final_exec(text)
    words = literal_command(text)
    if words is None:
        return shell_tokens(text) or text, ()
    dev = dev_flag_positions(words)
    dropped = {k for first, last in dev for k in range(first, last + 1)}
    return tuple(w for k, w in enumerate(words) if k not in dropped), tuple(" ".join(words[a:b + 1]) for a, b in dev)


_USER_TOOLS = frozenset({"useradd", "adduser", "groupadd", "addgroup"})


def _split_users(runs: list[list[tuple]], facets: dict, prefix: str) -> list[list[tuple]]:
    """The stage's RUN items without the users they create and the files they hand to a numeric user, which
    go to facets of their own (so DF302 can declare exactly that it adds them). Read item by item over the
    whole stage, not RUN by RUN, so joining adjacent RUNs (DF202) puts nothing in another facet: a user
    tool is a user tool in any RUN, and a `mkdir` is part of a hand-over when the command right after it
    hands over exactly the folders it makes."""
    flat = [(k, item) for k, run in enumerate(runs) for item in run]
    kept: list[list[tuple]] = [[] for _ in runs]
    for at, (k, item) in enumerate(flat):
        words = item[2] if len(item) == 3 else ()
        if not words or words[0] not in _SPLIT_PROGRAMS:  # what every test below needs: most items stay
            kept[k].append(item)
            continue
        following = flat[at + 1][1] if at + 1 < len(flat) else ()
        previous = flat[at - 1][1] if at else ()
        if (words and words[0] in _USER_TOOLS) or _installs_user_tools(words) or (
                words[1:] == ("clean", "all") and _installs_user_tools(previous[2] if len(previous) == 3 else ())
                and words[0] == previous[2][0]):
            # on a minimal RHEL-family base the user tools come from shadow-utils, installed (and its
            # package cache cleaned) in the RUN that creates the user
            facets.setdefault(f"{prefix}.users-created", []).append(item)
        elif _hands_over(item) or (words[:1] == ("mkdir",) and _hands_over(following)
                                   and _operands(words) == _operands(following[2])[1:]):
            # handing files to a numeric user changes who may write them, nothing they hold
            facets.setdefault(f"{prefix}.runtime-ownership", []).append(item)
        else:
            kept[k].append(item)
    return kept


_RPM_INSTALLERS = frozenset({"dnf", "yum", "microdnf"})
# the programs an item _split_users moves elsewhere starts with (a user tool, an installer of them or its
# clean-up, a hand-over's chown or find, the mkdir before one)
_SPLIT_PROGRAMS = _USER_TOOLS | _RPM_INSTALLERS | {"chown", "find", "mkdir"}


def _installs_user_tools(words) -> bool:
    """`dnf|yum|microdnf install -y shadow-utils`: the package that holds groupadd and useradd, alone."""
    return (len(words) > 2 and words[0] in _RPM_INSTALLERS and words[1] == "install"
            and [w for w in words[2:] if not w.startswith("-")] == ["shadow-utils"])


def _operands(words) -> list[str]:
    return [w for w in words[1:] if not w.startswith("-")]


_NUMERIC_OWNER = lazy_compile(r"^\d+:\d+$")


def _hands_over(item: tuple) -> bool:
    return len(item) == 3 and hands_over_ownership(item[2])


def hands_over_ownership(words) -> bool:
    """`chown [-R|-h] UID:GID paths` or `find PATH ! -user UID -exec chown -h UID:GID {} +`: DF302's hand-over."""
    words = tuple(words)
    if words and words[0] == "find" and "-exec" in words:
        words = words[words.index("-exec") + 1:]
    return len(words) > 2 and words[0] == "chown" and any(_NUMERIC_OWNER.match(w) for w in words[1:3])


_PHASE_ONE_FLAGS = ("--no-root", "--no-install-project")


def _without_phase_one(runs: list[list[tuple]]) -> list[list[tuple]]:
    """A dependency-only RUN (`poetry install --no-root`, `uv sync --no-install-project`) followed later by
    the same RUN without that flag installs nothing the full one would not: the image is the same."""
    def strip(run: list[tuple]) -> list[tuple]:
        return [item[:2] + (tuple(w for w in item[2] if w not in _PHASE_ONE_FLAGS),) if len(item) == 3 else item
                for item in run]

    out = []
    for index, run in enumerate(runs):
        phased = any(len(item) == 3 and (_PHASE_ONE_FLAGS[0] in item[2] or _PHASE_ONE_FLAGS[1] in item[2])
                     for item in run)
        if phased:
            later = [item for other in runs[index + 1:] for item in other]
            wanted = strip(run)
            # the full install may since share its RUN with steps next to it (DF202): found as a run of items
            if wanted and any(later[k:k + len(wanted)] == wanted for k in range(len(later))):
                continue
        out.append(run)
    return out


def _without_overwritten_copies(doc: Document, stage) -> list[tuple]:
    """COPY keys, leaving out a copy of files that a later copy in the stage, with the same flags, writes
    again from a directory that holds them (the manifests copied before a dependency install)."""
    copies = [ins for ins in stage.body if ins.keyword in ("COPY", "ADD")]
    keys = []
    for index, ins in enumerate(copies):
        if not any(_overwrites(doc, later, ins) for later in copies[index + 1:]):
            keys.append(_copy_key(doc, ins))
    return keys


def _sources_dest(ins: Instruction) -> tuple[list[str], str] | None:
    args = ins.json_args if ins.is_json else [w for w, _, _ in ins.words]
    if len(args) < 2 or ins.heredocs or ins.flag("from") or any("$" in a for a in args):
        return None
    return args[:-1], args[-1]


def _overwrites(doc: Document, later: Instruction, early: Instruction) -> bool:
    if _flags(later) != _flags(early):
        return False
    early_parts, later_parts = _sources_dest(early), _sources_dest(later)
    if early_parts is None or later_parts is None:
        return False
    # the working directories last: most pairs differ before, and a stage's only copy needs none
    later_dir, early_dir = doc.workdir_at(later), doc.workdir_at(early)
    if later_dir is None or early_dir is None:
        return False
    sources, dest = early_parts
    if len(sources) == 1 and not (dest == "." or dest.endswith("/")):  # BuildKit's test for "into a folder"
        return False
    early_dest = posixpath.normpath(posixpath.join(early_dir, dest))
    later_sources, later_dest = later_parts
    later_dest = posixpath.normpath(posixpath.join(later_dir, later_dest))
    for source in sources:
        source = posixpath.normpath(source)
        landing = posixpath.join(early_dest, posixpath.basename(source))
        covered = False
        for directory in later_sources:
            directory = posixpath.normpath(directory)
            if directory == ".":
                inner = source
            elif source.startswith(directory + "/"):
                inner = source[len(directory) + 1:]
            else:
                continue
            if posixpath.normpath(posixpath.join(later_dest, inner)) == landing:
                covered = True
        if not covered:
            return False
    return True


def _run_items(doc: Document, ins: Instruction, cwd: str | None = None) -> list[tuple]:
    script = script_of(doc, ins)
    # the directory it runs in goes with each command: RUNs may be joined (DF103, DF202), never across a WORKDIR
    flags = _flags(ins.inner or ins) + (f"cwd={cwd if cwd is not None else doc.workdir_at(ins)}",)
    if not script.ok:
        return [(flags, "raw", _normal(ins.args), _bodies(doc, ins))]
    items = []
    for command in script.commands:
        pkg = package_command(command)
        if pkg is not None and pkg.tool == "apt" and pkg.action == "update":
            continue
        if command.name == "rm" and any((w.value or "").startswith(_LISTS) for w in command.words):
            continue
        hygiene = _HYGIENE_OPTIONS.get(pkg.tool, frozenset()) if pkg else (
            _HYGIENE_OPTIONS["uv"] if command.name == "uv" else frozenset())
        values = [w.value for w in command.words]
        if None not in values:  # the common case: every word literal
            words = tuple([v for v in values if v not in hygiene] if hygiene else values)
        else:
            words = tuple(
                w.value if w.value is not None else "<" + _normal(doc.text[w.start:w.end]) + ">"
                for w in command.words
                if w.value not in hygiene
            )
        assignments = tuple(sorted(command.assignments.items(), key=str)) if command.assignments else ()
        items.append((flags, assignments, words))
    return items
