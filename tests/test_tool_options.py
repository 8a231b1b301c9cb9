"""The flags dfix adds are checked by the tools themselves: every uv command line in dfix's output for the
golden fixtures and the real-world corpus is handed to the real uv, which must not refuse its options
(a flag given twice under an alias, an unknown one). A second `--no-cache` after `--no-cache-dir` broke a
real build: `error: the argument '--no-cache' cannot be used multiple times`."""

from __future__ import annotations

import functools
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
    for fixed in _fixed_outputs():
        for words in _uv_commands(fixed):
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


@functools.cache
def _fixed_outputs() -> tuple[str, ...]:
    out = []
    for path in CASES:
        text = path.read_bytes().decode("utf-8")
        result = fix_text(text, str(path), Options(unsafe_fixes=True), context=BuildContext(path.parent, dockerfile=path.name))
        out.append(result.fixed)
    return tuple(out)


def _package_commands(text: str, tool: str, action: str):
    from dfix.syntax.packages import package_command

    for _, _, script in run_scripts(tokenize(text)):
        for command in script.commands:
            pkg = package_command(command)
            values = [w.value for w in command.words]
            if pkg is None or pkg.tool != tool or pkg.action != action or None in values or any("$" in v for v in values):
                continue
            start = values.index("pip") + 1 if values[0].startswith("python") else 1  # after `-m pip`
            # the options and their values, without the subcommand and the packages
            operands = {id(w) for w in pkg.operands} | {id(pkg.subcommand)}
            yield [w.value for w in command.words[start:] if id(w) not in operands]


def _pip_install_parser():
    try:
        from pip._internal.commands import create_command
    except ImportError:
        pytest.skip("pip's own option parser is not importable here")
    return create_command("install").parser


def _pip_flags_given_twice(parser, words: list[str]) -> list[str]:
    """pip's own parser names each option word (abbreviations resolved as pip resolves them); a flag that
    takes no value and appears twice is a flag dfix added next to the user's own spelling of it."""
    seen: dict[str, int] = {}
    k = 0
    while k < len(words):
        word = words[k]
        k += 1
        if not word.startswith("--") or word == "--":
            continue
        name = parser._match_long_opt(word.partition("=")[0])
        option = parser._long_opt[name]
        if option.takes_value():
            k += "=" not in word
            continue
        seen[name] = seen.get(name, 0) + 1
    return [name for name, count in seen.items() if count > 1 and name in ("--no-cache-dir",)]


def test_pip_accepts_every_pip_install_dfix_writes():
    parser = _pip_install_parser()
    seen = set()
    for fixed in _fixed_outputs():
        for words in _package_commands(fixed, "pip", "install"):
            seen.add(tuple(words))
    assert len(seen) >= 10, seen
    refused = []
    for words in sorted(seen):
        try:
            parser.parse_args(list(words))
        except SystemExit:
            refused.append(f"pip install {' '.join(words)}: pip refuses its options")
            continue
        twice = _pip_flags_given_twice(parser, list(words))
        if twice:
            refused.append(f"pip install {' '.join(words)}: {', '.join(twice)} given twice")
    assert not refused, "\n".join(refused)


def test_pip_reads_an_abbreviation_as_no_cache_dir():
    parser = _pip_install_parser()
    options, _ = parser.parse_args(["--no-cache", "flask"])
    assert options.cache_dir is False
    assert _pip_flags_given_twice(parser, ["--no-cache-dir", "--no-cache", "flask"]) == ["--no-cache-dir"]


def test_apt_get_accepts_every_apt_get_install_dfix_writes(tmp_path):
    import shutil

    apt_get = shutil.which("apt-get")
    if apt_get is None:
        pytest.skip("apt-get is not on this machine")
    seen = set()
    for fixed in _fixed_outputs():
        for words in _package_commands(fixed, "apt", "install"):
            seen.add(tuple(words))
    assert len(seen) >= 5, seen
    empty = tmp_path / "apt"
    (empty / "partial").mkdir(parents=True)
    # an empty package universe keeps each run to milliseconds; apt-get reads every option before it
    isolated = ["-o", f"Dir::State::Lists={empty}", "-o", "Dir::Etc::SourceList=/dev/null", "-o",
                f"Dir::Etc::SourceParts={empty}", "-o", "Dir::State::Status=/dev/null", "-o", f"Dir::Cache={empty}"]
    refused = []
    for words in sorted(seen):
        # the options alone, simulated
        proc = subprocess.run([apt_get, "-s", *isolated, *words, "install"], capture_output=True, text=True,
                              timeout=60, check=False)
        # apt's words for options it cannot read (a package or release it lacks is not the question here)
        if proc.returncode != 0 and ("not understood" in proc.stderr or "Sense " in proc.stderr):
            refused.append(f"apt-get {' '.join(words)}: {proc.stderr.strip().splitlines()[0]}")
    assert not refused, "\n".join(refused)


def test_a_commands_apt_settings_are_read_from_its_own_words():
    # PackageCommand keeps its apt_settings answer: each command's is its own, and asking twice reads the same
    from dfix.syntax.packages import package_command
    from dfix.syntax.tool_options import apt_settings

    doc = tokenize("FROM debian\nRUN apt-get install -qq a && apt-get install --no-install-recommends b\n")
    (_, _, script), = run_scripts(doc)
    first, second = (package_command(c) for c in script.commands)
    assert first.apt_settings() == apt_settings(["install", "-qq", "a"]) == {"quiet": "2"}
    assert second.apt_settings() == {"apt::install-recommends": "false"}
    assert first.apt_settings() is first.apt_settings()
