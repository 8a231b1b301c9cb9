"""dfix over the real-world corpus (fixtures/realworld): no crash, every output parses with BuildKit,
a second run is a no-op, line endings/BOM/final newline kept, the contract kept as BuildKit reads it,
and hadolint's warnings for the fixed rules gone wherever the rule applies."""

from __future__ import annotations

import json
import posixpath
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from dfix.context import BuildContext
from dfix.engine import Options, fix_text

from .conftest import FIXTURES

CORPUS = sorted((FIXTURES / "realworld").glob("*.Dockerfile"))
FIXED_CODES = {"DL3015", "DL3014", "DL3009", "DL3042", "DL3019", "DL3020", "DL4000", "DL3006", "DL3007", "DL3025",
               "DL3003", "DL3059", "DL3045", "DL4006"}
DF302_UID = "10001"
DF502_ADDS = {("PYTHONDONTWRITEBYTECODE", "1"), ("PYTHONUNBUFFERED", "1")}
DF108_SHELLS = ({"/bin/bash", "/bin/ash"}, ["-o", "pipefail", "-c"])
HYGIENE_WORDS = {"-y", "--no-install-recommends", "--no-cache-dir", "--no-cache"}


@pytest.fixture(scope="module")
def results():
    out = {}
    for path in CORPUS:
        text = path.read_bytes().decode("utf-8")
        out[path.name] = (text, fix_text(text, str(path), Options(), context=BuildContext(path.parent)))
    return out


def test_corpus_is_broad():
    assert len(CORPUS) >= 60
    raw = [p.read_bytes() for p in CORPUS]
    assert sum(b"\r\n" in b for b in raw) >= 3
    assert sum(b.startswith(b"\xef\xbb\xbf") for b in raw) >= 1
    assert sum(b.startswith(b"# escape=`") for b in raw) >= 2
    assert sum(b"<<EOF" in b for b in raw) >= 5


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_fix_is_exact_and_idempotent(path, results, buildkit):
    text, result = results[path.name]
    assert result.error is None
    assert result.withheld is None, result.withheld
    fixed = result.fixed
    buildkit.parse_string(fixed)
    again = fix_text(fixed, str(path), Options(), context=BuildContext(path.parent))
    assert again.fixed == fixed
    assert fixed.startswith("\ufeff") == text.startswith("\ufeff")
    assert fixed.endswith("\n") == text.endswith("\n")
    if "\r\n" in text and not re.search(r"(?<!\r)\n", text):
        assert not re.search(r"(?<!\r)\n", fixed), "a CRLF file gained LF line endings"
    if "\r\n" not in text:
        assert "\r\n" not in fixed
    pinned = any(f.code in ("DF401", "DF402") for f in result.applied)
    if any(f.code == "DF403" for f in result.applied):
        assert_multi_stage_equivalent(buildkit, text, fixed)
    else:
        assert buildkit_contract(buildkit, text, pinned) == buildkit_contract(buildkit, fixed, pinned)


def test_corpus_gets_fixed(results):
    changed = [name for name, (text, result) in results.items() if result.changed]
    assert len(changed) >= 25


def test_hadolint_warnings_gone(results, tmp_path):
    before_paths, after_paths = [], []
    for path in CORPUS:
        text, result = results[path.name]
        out = tmp_path / path.name
        out.write_bytes(result.fixed.encode("utf-8"))
        after_paths.append(out)
        before_paths.append(path)
    before = _hadolint(before_paths)
    after = _hadolint(after_paths)
    assert sum(1 for w in before if w["code"] in FIXED_CODES) >= 50
    left = []
    consecutive = {}  # file -> DL3059 warnings left in it
    for warning in after:
        if warning["code"] == "DL3059":
            consecutive[Path(warning["file"]).name] = consecutive.get(Path(warning["file"]).name, 0) + 1
    for warning in after:
        if warning["code"] not in FIXED_CODES:
            continue
        name = Path(warning["file"]).name
        text, result = results[name]
        line = result.fixed.splitlines()[warning["line"] - 1]
        # findings name lines of the input: the instruction hadolint flags in the output, where the user wrote it
        reported = any(f.reason and _same_source(text.splitlines()[f.line - 1], line) for f in result.remaining)
        if warning["code"] == "DL3059":
            # the RUN flagged may carry another rule's fix: count DF202's reasons in the file instead
            reported = sum(1 for f in result.remaining if f.code == "DF202" and f.reason) >= consecutive[name]
        if reported or _not_applicable(warning["code"], line, result.fixed):
            continue
        left.append((name, warning["line"], warning["code"], line))
    assert left == []


def _same_source(before: str, after: str) -> bool:
    """The same instruction line, but for a COPY/ADD destination DF203 made absolute."""
    def key(line: str) -> list[str]:
        words = line.split()
        return words[:-1] if words and words[0].upper() in ("COPY", "ADD") else words
    return key(before) == key(after)


def _not_applicable(code: str, line: str, text: str) -> bool:
    if code == "DL3025" and line.lstrip().upper().startswith("HEALTHCHECK"):
        # a shell-form check runs with the image's SHELL under Docker and /bin/sh under podman: DF503 writes
        # the argv only without a SHELL, where both run the same
        return bool(re.search(r"(?im)^\s*SHELL\s", text))
    if code == "DL3020":
        # git sources can only be fetched by ADD; hadolint flags them anyway
        return bool(re.search(r"\s(git@|\S+\.git(#|\s))", line + " "))
    if code == "DL3042":
        # pip disables its cache for ANY valid PIP_NO_CACHE_DIR value (pip's _handle_no_cache_dir), and
        # reads a unique prefix such as `--no-cache` as --no-cache-dir; hadolint knows only the full spelling
        return "PIP_NO_CACHE_DIR" in text or any(_pip_reads_no_cache_dir(word) for word in line.split())
    return False


def _pip_reads_no_cache_dir(word: str) -> bool:
    import optparse

    from pip._internal.commands import create_command

    if not word.startswith("--no-ca"):
        return False
    try:
        return create_command("install").parser._match_long_opt(word) == "--no-cache-dir"
    except optparse.BadOptionError:
        return False


def _hadolint(paths):
    proc = subprocess.run(
        ["hadolint", "--no-fail", "-f", "json", *map(str, paths)], capture_output=True, text=True, check=False
    )
    return json.loads(proc.stdout or "[]")


# -- the contract as BuildKit reads it, independent of dfix's own model ---------------------------

_CLEANUP = ["rm", "-rf", "/var/lib/apt/lists/*"]


# official images whose Dockerfiles set no WORKDIR: a relative COPY destination lands under `/` (DF203)
_ROOT_WORKDIR_IMAGES = re.compile(r"^(python|debian|ubuntu|alpine|node|eclipse-temurin)(:|@|$)")


def _landing(dest: str, workdir: str) -> str:
    """Where a relative destination lands, a folder kept a folder (BuildKit: `.` or a final `/`)."""
    path = posixpath.normpath(posixpath.join(workdir, dest))
    return path + "/" if (dest == "." or dest.endswith("/")) and path != "/" else path


def buildkit_contract(buildkit, text: str, pinned: bool = False):
    stages: list[list] = []
    current: list = []
    shell = ["/bin/sh", "-c"]
    runs: list = []
    run_flags = None  # the flags of the RUN just before, while nothing else came after it
    parsed = buildkit.parse_string(text)
    has_shell = any((command.cmd or "").upper() == "SHELL" for command in parsed)
    # the working directory per stage name: `/` on an image that sets none, else unknown until a WORKDIR
    workdirs: dict[str, str | None] = {}
    stage_name = ""
    for command in parsed:
        cmd = (command.cmd or "").upper()
        value = list(command.value)
        flags = command.flags
        df108_shell = cmd == "SHELL" and value[:1] and value[0] in DF108_SHELLS[0] and value[1:] == DF108_SHELLS[1]
        if cmd != "RUN" and not (cmd == "USER" and value == [DF302_UID]) and not df108_shell:
            run_flags = None
        workdir = workdirs.get(stage_name)
        if cmd == "WORKDIR" and value:
            target = value[0]
            known = "$" not in target and (target.startswith("/") or workdir is not None)
            workdirs[stage_name] = posixpath.normpath(posixpath.join(workdir or "/", target)) if known else None
        if cmd in ("COPY", "ADD") and len(value) >= 2 and workdir is not None:
            dest = value[-1]
            if not dest.startswith(("/", "$")) and "$" not in dest:
                value[-1] = _landing(dest, workdir)
        if cmd == "FROM":
            base = value[0].lower() if value else ""
            stage_name = value[2].lower() if len(value) >= 3 and value[1].lower() == "as" else f"#{len(stages)}"
            workdirs[stage_name] = workdirs[base] if base in workdirs else "/" if _ROOT_WORKDIR_IMAGES.match(base) else None
            if current or runs:
                stages.append([current, [r for r in runs if r]])
            if pinned and value:
                # DF401/DF402 change the tag on purpose; the image name, stage name and flags must stay
                value[0] = re.sub(r"(:[^:/@]*)?(@.*)?$", "", value[0])
            current, runs = [("FROM", tuple(value), command.flags)], []
            shell = ["/bin/sh", "-c"]
            continue
        if cmd == "SHELL":
            shell = list(value)
        if cmd == "HEALTHCHECK" and any("urllib.request.urlopen('http://127.0.0.1:" in v for v in value):
            continue  # DF506's check on the app's own health route
        if cmd == "HEALTHCHECK" and value[:1] == ["CMD"] and not command.json and not has_shell:
            value = ["CMD", "/bin/sh", "-c", *value[1:]]  # what Docker and podman both run without a SHELL
        if cmd == "HEALTHCHECK" and value[:1] == ["CMD"] and len(value) == 4 and value[2] == "-c":
            value = [*value[:3], tuple(_words(value[3]))]
        if df108_shell:
            continue  # DF108 adds pipefail on purpose; what runs under the shell is the rule's to check
        if cmd == "USER" and value == [DF302_UID]:
            continue  # DF302 switches to its own user on purpose
        if cmd in ("COPY", "ADD"):
            flags = tuple(f for f in flags if f != f"--chown={DF302_UID}:{DF302_UID}")
        if cmd == "RUN":
            words = _words(value[0] if value else "") if not command.json else value
            if not command.json:
                words = _without_user_creation(words)
                if not words:
                    continue  # DF302's user creation
            bodies = [_words(h.content) for h in command.heredocs]
            normal = _normalise(words) + [w for body in bodies for w in _normalise(body)]
            # layer boundaries are not part of the contract (DF103 moves them, DF202 joins adjacent RUNs of
            # equal flags with `&&`); flags and words are
            if run_flags == flags and runs and runs[-1] and normal and not command.json:
                runs[-1].extend(["&&"] + normal)
            else:
                runs.append([f"flags={flags}"] + normal if normal else [])
            run_flags = flags if not command.json and not command.heredocs else None
            continue
        if cmd == "ENV":
            # DF502 adds exactly these two on purpose; anything else about ENV must stay
            pairs = [(value[i], value[i + 1]) for i in range(0, len(value) - 1, 2)]
            pairs = [p for p in pairs if p not in DF502_ADDS]
            if not pairs:
                continue
            value = [x for p in pairs for x in p]
        if cmd in ("CMD", "ENTRYPOINT"):
            value = _command_argv(value, command.json, shell)
        if cmd == "MAINTAINER":
            cmd, value = "LABEL", ["maintainer", " ".join(value)]
        elif cmd == "LABEL":
            value = [_unquote(v) for v in value]
        elif cmd == "ADD" and not any("://" in v or v.startswith("git@") for v in value[:-1]):
            cmd = "COPY"
        current.append((cmd, tuple(value), flags, command.sub_cmd))
    stages.append([current, [r for r in runs if r]])
    return [(instructions, [w for run in runs for w in run]) for instructions, runs in stages]


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError:
        return text.split()


_OWNER = f"{DF302_UID}:{DF302_UID}"


def _segments(words: list[str]) -> list[list[str]]:
    segments: list[list[str]] = [[]]
    for word in words:
        if word == "&&":
            segments.append([])
        else:
            segments[-1].append(word)
    return segments


def _without_user_creation(words: list[str]) -> list[str]:
    """DF302 creates its user and group (`groupadd … 10001 app && useradd … && mkdir -p DIRS && chown
    10001:10001 DIRS`) in a RUN of its own, which DF202 may join with the RUN next to it."""
    segments = _segments(words)
    kept = []
    for k, seg in enumerate(segments):
        if seg[:1] and seg[0] in ("groupadd", "addgroup", "useradd", "adduser") and DF302_UID in seg:
            continue
        following = segments[k + 1] if k + 1 < len(segments) else []
        if seg[:2] == ["mkdir", "-p"] and following[:2] == ["chown", _OWNER] and following[2:] == seg[2:]:
            continue
        kept.append(seg)
    return [w for k, seg in enumerate(kept) for w in (["&&"] if k else []) + seg]


def _without_handover(words: list[str]) -> list[str]:
    """DF302 hands what a RUN writes where the app writes at start to its user: `&& chown [-R] 10001:10001 …`
    or `&& find … -exec chown -h 10001:10001 {} +`, appended to the RUN's commands."""
    segments = _segments(words)
    kept = [seg for seg in segments if not (
        seg[:1] == ["chown"] and _OWNER in seg[1:3] or (seg[:1] == ["find"] and seg[-5:] == ["chown", "-h", _OWNER, "{}", "+"]))]
    return [w for k, seg in enumerate(kept) for w in (["&&"] if k else []) + seg]


def _normalise(words: list[str]) -> list[str]:
    out = [w for w in _without_handover(words) if w not in HYGIENE_WORDS]
    changed = True
    while changed:
        changed = False
        for i in range(len(out)):
            for seq in (["apt-get", "update"], ["apt", "update"], _CLEANUP):
                if out[i:i + len(seq)] == seq:
                    end = i + len(seq)
                    # apt-get update may carry options (-qq); drop them with it
                    while seq[-1] == "update" and end < len(out) and out[end].startswith("-"):
                        end += 1
                    if end < len(out) and out[end] == "&&":
                        end += 1
                    elif i > 0 and out[i - 1] == "&&":
                        i -= 1
                    del out[i:end]
                    changed = True
                    break
            if changed:
                break
    return out


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\$", "$").replace("\\\\", "\\")
    return value


_INSTALL = re.compile(r"\b(pip3?(\.\d+)? install|-m pip install|poetry install|pipenv (install|sync)|uv sync|uv pip install)\b")


def test_every_copy_before_install_is_fixed_or_reported(results, buildkit):
    expected, covered = 0, 0
    for path in CORPUS:
        text, result = results[path.name]
        copied_context = False
        phase_one: list[list[str]] = []  # installs that ran with --no-root/--no-install-project, flag removed
        for command in buildkit.parse_string(text):
            cmd = (command.cmd or "").upper()
            words = _words(" ".join(command.value)) if cmd == "RUN" else []
            if cmd == "FROM":
                copied_context, phase_one = False, []
            elif cmd in ("COPY", "ADD") and not any(f.startswith("--from") for f in command.flags):
                copied_context = copied_context or any(v in (".", "./") for v in command.value[:-1])
            elif cmd == "RUN" and {"--no-root", "--no-install-project"} & set(words):
                phase_one.append([w for w in words if w not in ("--no-root", "--no-install-project")])
            elif cmd == "RUN" and words in phase_one:
                continue  # the project's own install after its dependencies: the layout DF201 makes
            elif cmd == "RUN" and copied_context and _INSTALL.search(" ".join(command.value)):
                expected += 1
                findings = result.applied + result.remaining
                if any(f.code == "DF201" for f in findings):
                    covered += 1
                else:
                    pytest.fail(f"{path.name}:{command.start_line}: install after a context copy, no DF201")
                copied_context = False
    assert expected >= 5 and covered == expected


# Development flags DF504 removes on purpose (kept here apart from dfix's own table).
_DEV = {"--reload": 0, "--reload-dir": 1, "--reload-include": 1, "--reload-exclude": 1, "--reload-delay": 1,
        "--reload-engine": 1, "--reload-extra-file": 1, "--debug": 0, "--debugger": 0}
_SHELL_SYNTAX = re.compile(r"[$`|&;<>*?~()]")


def _command_argv(value: list[str], is_json: bool, shell: list[str]) -> list[str]:
    """BuildKit stores a shell form as SHELL + [text]. A text that is one simple command runs the same argv as
    its exec form (DF503's change); an `exec` before a command only makes it PID 1 (DF503's change too);
    blanks between shell words mean nothing; dev flags go (DF504)."""
    if not is_json:
        value = shell + [value[0] if value else ""]
    if len(value) == len(shell) + 1 and value[:-1] == shell:
        text = " ".join(value[-1].split())
        text = " ".join(re.sub(r"(^|&&|\|\||;)\s*exec\s+(?!-)", r"\1 ", text).split())
        if _SHELL_SYNTAX.search(text):
            return shell + ["shell:" + text]
        value = _words(text)
    out, skip = [], 0
    servers = {"uvicorn", "gunicorn", "hypercorn", "flask"}
    is_server = bool(set(v.rsplit("/", 1)[-1] for v in value[:3]) & servers)
    for word in value:
        if skip:
            skip -= 1
            continue
        option, eq, _ = word.partition("=")
        if is_server and option in _DEV:
            skip = 0 if eq else _DEV[option]
            continue
        out.append(word)
    return out


_DEPENDENCY_INSTALL = re.compile(r"\b(pip3? install|uv sync|uv pip install|poetry install|pipenv (install|sync))\b")
_TOOL_INSTALL = re.compile(r"\bpip3? install\b.*\b(poetry|pipenv|uv)\b")
_UV_IMAGE = re.compile(r"^--from=(ghcr\.io/)?astral-sh/uv\b")
_BUILD_ONLY = re.compile(r"^(build-essential|gcc|g\+\+|make|cmake|pkg-config|musl-dev|linux-headers|build-base|.*-dev)$")


def assert_multi_stage_equivalent(buildkit, before: str, after: str):
    """DF403: the runtime keeps every non-RUN instruction, the builder runs every pip install, no compiler ships."""
    old = list(buildkit.parse_string(before))
    new = list(buildkit.parse_string(after))
    starts = [i for i, c in enumerate(new) if (c.cmd or "").upper() == "FROM"]
    if sum((c.cmd or "").upper() == "FROM" for c in old) > 1:
        # already multi-stage: only the final stage's package installs change, to runtime libraries
        old_stages = [instructions for instructions, _ in buildkit_contract(buildkit, before, True)]
        assert [instructions for instructions, _ in buildkit_contract(buildkit, after, True)] == old_stages
        final_words = [w for c in new[starts[-1]:] if (c.cmd or "").upper() == "RUN" for w in _words(c.value[0])]
        assert not [w for w in final_words if _BUILD_ONLY.match(w)], final_words
        return
    assert len(starts) == 2 and [v.lower() for v in new[0].value[1:]] == ["as", "builder"]
    builder, runtime = new[starts[0]:starts[1]], new[starts[1]:]
    assert builder[0].value[0] == runtime[0].value[0]  # the same base image
    # the runtime stage alone, read with every other rule's normalisation, against the original stage
    lines = after.splitlines(keepends=True)
    runtime_text = "".join(lines[runtime[0].start_line - 1:])
    ((old_instructions, _),) = buildkit_contract(buildkit, before, True)
    ((new_instructions, _),) = buildkit_contract(buildkit, runtime_text, True)
    def environment_copy(ins) -> bool:  # /opt/venv, or a uv/poetry project's own .venv kept at its path
        return (ins[0] == "COPY" and ins[2] == ("--from=builder",) and len(set(ins[1])) == 1
                and (ins[1][0] == "/opt/venv" or ins[1][0].endswith("/.venv")))

    added = [i for i in new_instructions if environment_copy(i) or i == ("ENV", ("PATH", '"/opt/venv/bin:$PATH"'), (), None)]
    assert sum(map(environment_copy, added)) == 1, added
    # the packaging tool copied from uv's image stays in the builder
    tool_copies = [i for i in old_instructions if i[0] == "COPY" and any(_UV_IMAGE.match(f) for f in i[2])]
    assert [i for i in new_instructions if i not in added] == [i for i in old_instructions if i not in tool_copies]
    # command by command: DF202 may have joined an install with the step next to it
    installs = lambda cmds: [seg for c in cmds if (c.cmd or "").upper() == "RUN"  # noqa: E731
                             for seg in _segments(_normalise(_words(c.value[0])))
                             if _DEPENDENCY_INSTALL.search(" ".join(seg))]
    assert installs(old) and all(run in installs(builder) for run in installs(old))
    runtime_words = [w for c in runtime if (c.cmd or "").upper() == "RUN" for w in _words(c.value[0])]
    assert not [w for w in runtime_words if _BUILD_ONLY.match(w)], runtime_words
    assert not _TOOL_INSTALL.search(" ".join(runtime_words)), runtime_words


def _final_stage(commands):
    starts = [i for i, c in enumerate(commands) if (c.cmd or "").upper() == "FROM"]
    return commands[starts[-1]:] if starts else commands


def test_every_root_final_stage_gets_a_numeric_user_or_a_reason(results, buildkit):
    """Issue #4: a final stage that runs as root ends with a numeric non-root USER, or DF302 says why not."""
    checked = 0
    for path in CORPUS:
        text, result = results[path.name]
        users = [c.value[0] for c in _final_stage(list(buildkit.parse_string(text))) if (c.cmd or "").upper() == "USER"]
        if users and not re.match(r"^(root|0)(:.*)?$", users[-1]):
            continue
        checked += 1
        after = [c.value[0] for c in _final_stage(list(buildkit.parse_string(result.fixed))) if (c.cmd or "").upper() == "USER"]
        reported = any(f.code == "DF302" and f.reason for f in result.remaining)
        assert reported or (after and after[-1].isdigit() and after[-1] != "0"), path.name
    assert checked >= 30


def test_no_reload_left_in_a_final_command(results, buildkit):
    for path in CORPUS:
        _, result = results[path.name]
        for c in _final_stage(list(buildkit.parse_string(result.fixed))):
            if (c.cmd or "").upper() in ("CMD", "ENTRYPOINT"):
                words = " ".join(c.value)
                if re.search(r"\b(uvicorn|gunicorn|hypercorn)\b", words):
                    assert "--reload" not in words, path.name


def test_no_compiler_left_in_a_final_stage_unless_reported(results, buildkit):
    """Issue #5: a Python final stage that installs compilers or -dev headers is split, or DF403 says why not."""
    for path in CORPUS:
        text, result = results[path.name]
        final = _final_stage(list(buildkit.parse_string(result.fixed)))
        installs = " ".join(c.value[0] for c in final if (c.cmd or "").upper() == "RUN" and c.value)
        packages = set(re.findall(r"(?<![\w/.-])(build-essential|gcc|g\+\+|[\w.+-]+-dev)(?![\w.-])", installs))
        is_python = "python" in (final[0].value[0] if final and final[0].value else "") or "pip" in installs
        if not packages or not is_python:
            continue
        reported = any(f.code == "DF403" and f.reason for f in result.remaining)
        # a RUN that purges its own build packages ships none: DF403 rightly stays silent there
        purged = re.search(r"\b(apt-get|apt) (purge|remove|autoremove)|apk del", installs)
        assert reported or purged, f"{path.name}: {sorted(packages)} in the final stage, no DF403 reason"


def test_no_new_dl3066(results, tmp_path):
    """dfix never introduces a non-numeric USER (hadolint DL3066)."""
    after_paths = []
    for path in CORPUS:
        _, result = results[path.name]
        out = tmp_path / path.name
        out.write_bytes(result.fixed.encode("utf-8"))
        after_paths.append(out)
    count = lambda warnings: sum(1 for w in warnings if w["code"] == "DL3066")  # noqa: E731
    assert count(_hadolint(after_paths)) <= count(_hadolint(CORPUS))
