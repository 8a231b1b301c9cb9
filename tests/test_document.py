"""The document model: stages, FROM expansion, flags, JSON vs shell form, key=value pairs."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

from dfix.syntax import tokenize
from dfix.syntax.shell import is_posix_shell, script_of

from .conftest import ROOT

MULTI = """\
ARG PY=3.12
ARG VARIANT
FROM --platform=$BUILDPLATFORM python:${PY}-slim${VARIANT:+-}${VARIANT} AS Base
ENV A=1 B="two words"
FROM base AS build
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
FROM python:${PY:-3.11}
COPY --from=build --chown=10001:10001 /app /app
CMD ["python", "-m", "app"]
"""


def test_stages_and_from_expansion():
    doc = tokenize(MULTI)
    stages = doc.stages
    assert [s.name for s in stages] == ["base", "build", None]
    assert stages[0].base_expanded == "python:3.12-slim"
    assert stages[1].parent == 0  # stage names compare case-insensitively
    assert stages[2].base_expanded == "python:3.12"
    assert [s.index for s in doc.stage_chain(stages[1])] == [0, 1]
    assert doc.reaches_final(stages[2]) and not doc.reaches_final(stages[0])
    assert doc.env_at(stages[1].body[0]) == {"A": "1", "B": "two words"}


def test_flags_json_and_words():
    doc = tokenize(MULTI)
    frm = doc.instructions[2]
    assert frm.flag("platform").value == "$BUILDPLATFORM"
    run = doc.stages[1].body[0]
    assert run.mounts == [{"type": "cache", "target": "/root/.cache/pip"}]
    assert run.has_cache_mount(contains=".cache/pip")
    copy = doc.stages[2].body[0]
    assert [f.name for f in copy.flags] == ["from", "chown"]
    assert [w for w, _, _ in copy.words] == ["/app", "/app"]
    cmd = doc.stages[2].body[1]
    assert cmd.json_args == ["python", "-m", "app"]
    assert tokenize('FROM a\nCMD ["a", 1]\n').instructions[1].json_args is None  # not all strings: shell form


def test_legacy_env_and_quoted_labels():
    doc = tokenize('FROM a\nENV PATH /opt/bin:$PATH\nLABEL "x.y"="a b" z=\'c d\'\n')
    assert doc.instructions[1].key_values() == [("PATH", "/opt/bin:$PATH")]
    assert doc.instructions[2].key_values() == [("x.y", "a b"), ("z", "c d")]


def test_key_values_are_read_per_text_and_each_caller_gets_its_own_list():
    """Pairs are cached by text: another text must get its own, and a caller's change must not stick."""
    first = tokenize("FROM a\nENV A=1\n").instructions[1].key_values()
    first.append(("B", "2"))
    assert tokenize("FROM a\nENV A=1\n").instructions[1].key_values() == [("A", "1")]
    assert tokenize("FROM a\nENV A=2\n").instructions[1].key_values() == [("A", "2")]
    assert tokenize("# escape=`\nFROM a\nENV A=x`y\n").instructions[1].key_values() == [("A", "xy")]
    assert tokenize("FROM a\nENV A=x`y\n").instructions[1].key_values() == [("A", "x`y")]


def test_keyword_and_flags_follow_the_text():
    """Keyword and flags are read once per text: another text, or the same one under ONBUILD, gets its own."""
    def head(text: str):
        ins = tokenize(text).instructions[1]
        return ins.keyword, [(f.name, f.value) for f in ins.flags], ins.args

    assert head("FROM a\nCOPY --chown=1 x /y\n") == ("COPY", [("chown", "1")], "x /y")
    assert head("FROM a\nCOPY --chown=2 x /y\n") == ("COPY", [("chown", "2")], "x /y")
    assert head("FROM a\ncopy x /y\n") == ("COPY", [], "x /y")
    onbuild = tokenize("FROM a\nONBUILD COPY --chown=2 x /y\n").instructions[1]
    assert (onbuild.keyword, onbuild.flags, onbuild.args) == ("ONBUILD", [], "COPY --chown=2 x /y")
    assert (onbuild.inner.keyword, [f.value for f in onbuild.inner.flags], onbuild.inner.args) == ("COPY", ["2"], "x /y")


def test_stage_of_each_instruction():
    doc = tokenize("ARG V=1\nFROM a AS one\nRUN x\nFROM one\nRUN y\nCMD z\n")
    assert [doc.stage_of(i) and doc.stage_of(i).index for i in doc.instructions] == [None, 0, 0, 1, 1, 1]


def test_keyword_spans_and_lowercase():
    text = "from alpine\nrun  apk add curl\n"
    doc = tokenize(text)
    run = doc.instructions[1]
    assert run.keyword == "RUN" and run.keyword_text == "run"
    start, end = run.keyword_span
    assert text[start:end] == "run"
    assert run.args == "apk add curl"


def test_no_shell_analysis_where_the_shell_is_not_posix():
    windows = tokenize('# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN apt-get install x\n')
    assert not script_of(windows, windows.instructions[1]).ok
    pwsh = tokenize('FROM debian\nSHELL ["pwsh", "-Command"]\nRUN apt-get install x\n')
    assert not is_posix_shell(pwsh, pwsh.instructions[2])
    bash = tokenize('FROM debian\nSHELL ["/bin/bash", "-c"]\nRUN apt-get install x\n')
    assert script_of(bash, bash.instructions[2]).ok


def test_colored_diff_on_a_terminal(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM a\nRUN pip install x\n")
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["PYTHONPATH"] = str(ROOT)
    main, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "dfix", str(tmp_path)], stdout=child, stderr=subprocess.DEVNULL, env=env)
    os.close(child)
    output = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    proc.wait()
    assert b"\x1b[" in output and b"--no-cache-dir" in output


def test_heavy_imports_stay_lazy(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM a\nRUN pip install x\n")
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "dfix", "--check", str(tmp_path)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False,
    )
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert "dfix.engine" in imported  # the measurement works
    assert not {m for m in imported if m.split(".")[0] in ("rich", "libcst")}


CHAINED = """\
FROM python:3.12 AS base
WORKDIR app
ENV DIR=/srv X=1
FROM alpine AS other
WORKDIR /other
ENV X=2
FROM base AS build
WORKDIR $DIR/src
ARG DIR
WORKDIR $DIR
ENV X=3
WORKDIR /abs
FROM build
WORKDIR sub
ENV Y=4
RUN true
"""


def test_env_and_workdir_follow_each_stage_chain():
    """The ENV and working directory in force are read once for the whole document: each stage carries on
    from the stage it is built on (not from the one written above it), an ARG of an ENV's name makes its
    value unknown again, and every start gives its own answers."""
    doc = tokenize(CHAINED)
    ins = doc.instructions
    assert [doc.workdir_at(i) for i in ins] == [
        "/", "/", "/app", "/", "/", "/other", "/app", "/app", "/srv/src", "/srv/src", None, None, "/abs", "/abs",
        "/abs/sub", "/abs/sub"]
    assert [doc.workdir_at(i, including=True) for i in ins][7:10] == ["/srv/src", "/srv/src", None]
    assert doc.workdir_at(ins[1], including=True, start="/usr/src") == "/usr/src/app"
    assert doc.workdir_at(ins[1], including=True, start=None) is None
    assert doc.workdir_at(ins[1], including=True) == "/app"  # the default start again, after the others
    assert [doc.env_at(i).get("X") for i in ins] == [
        None, None, None, None, None, None, "1", "1", "1", "1", "1", "3", "3", "3", "3", "3"]
    assert doc.env_at(ins[15]) == {"DIR": "/srv", "X": "3", "Y": "4"}
    doc.env_at(ins[15])["X"] = "changed"  # the caller's copy: the document's answer stays
    assert doc.env_at(ins[15])["X"] == "3" and doc.env_at(ins[14])["X"] == "3"
    chain = doc.stage_chain(doc.stages[3])
    assert [s.index for s in chain] == [0, 2, 3]
    chain.clear()
    assert [s.index for s in doc.stage_chain(doc.stages[3])] == [0, 2, 3]
