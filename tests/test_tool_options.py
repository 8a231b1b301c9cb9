"""The flags dfix adds are checked by the tools themselves: every uv command line in dfix's output for the
golden fixtures and the real-world corpus is handed to the real uv, which must not refuse its options
(a flag given twice under an alias, an unknown one). A second `--no-cache` after `--no-cache-dir` broke a
real build: `error: the argument '--no-cache' cannot be used multiple times`."""

from __future__ import annotations

import os
import subprocess

import pytest

from dfix.context import BuildContext
from dfix.engine import Options, fix_text
from dfix.rules._shell import run_scripts
from dfix.syntax import tokenize

from .conftest import FIXTURES

CASES = sorted(FIXTURES.glob("*/*/before.Dockerfile")) + sorted((FIXTURES / "realworld").glob("*.Dockerfile"))
# clap's words for a command line it cannot parse
REFUSED = ("cannot be used multiple times", "unexpected argument", "invalid value", "a value is required")


def _uv() -> str:
    try:
        from uv import find_uv_bin
    except ImportError:
        pytest.skip("the uv package is not installed (pip install -e '.[test]' installs it)")
    return find_uv_bin()


def _uv_commands(text: str):
    for _, _, script in run_scripts(tokenize(text)):
        for command in script.commands:
            words = [w.value for w in command.words]
            if command.name != "uv" or None in words or any("$" in w for w in words):
                continue
            if words[1:2] == ["sync"] or words[1:3] == ["pip", "install"]:
                yield words


def test_uv_accepts_every_uv_command_dfix_writes(tmp_path):
    uv = _uv()
    seen = set()
    for path in CASES:
        text = path.read_bytes().decode("utf-8")
        result = fix_text(text, str(path), Options(unsafe_fixes=True), context=BuildContext(path.parent, dockerfile=path.name))
        for words in _uv_commands(result.fixed):
            seen.add(tuple(words))
    assert len(seen) >= 5, seen
    env = {**os.environ, "UV_CACHE_DIR": str(tmp_path / "cache"), "UV_NO_PROGRESS": "1"}
    refused = []
    for words in sorted(seen):
        # only the options are judged: --dry-run and --offline keep uv from installing or fetching anything
        extra = [flag for flag in ("--dry-run", "--offline") if flag not in words]
        proc = subprocess.run([uv, *words[1:], *extra], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=60, check=False)
        if any(marker in proc.stderr for marker in REFUSED):
            refused.append(f"{' '.join(words)}: {proc.stderr.strip().splitlines()[0]}")
    assert not refused, "\n".join(refused)


def test_uv_refuses_the_flag_twice_so_the_check_can_fail(tmp_path):
    uv = _uv()
    proc = subprocess.run([uv, "pip", "install", "--no-cache-dir", "--no-cache", "--dry-run", "--offline", "x"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert "cannot be used multiple times" in proc.stderr
