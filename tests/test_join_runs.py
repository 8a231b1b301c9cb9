"""DF202 (hadolint DL3059): adjacent RUNs joined only where the shell runs the same steps, the contract
guard accepts exactly such a join, and dfix's own inserted RUNs do not leave a DL3059 behind."""

from __future__ import annotations

import json
import subprocess

import pytest

from dfix.contract import contract, differences
from dfix.engine import Options, fix_text
from dfix.syntax import tokenize
from dfix.syntax.shell import is_and_chain, script_of, state_leak

from .conftest import FIXTURES
from .test_cli import dfix


def _script(text: str):
    doc = tokenize(f"FROM debian:bookworm-slim\nRUN {text}\n")
    return script_of(doc, doc.instructions[1])


@pytest.mark.parametrize("text, chain", [
    ("a", True), ("a && b", True), ("a | b && c", True), ("a && (b || c)", True), ("if x; then y; fi", True),
    ("a; b", False), ("a || b", False), ("a && b || c", False), ("a &", False), ("a & b", False), ("a;", False),
])
def test_and_chain(text, chain):
    assert is_and_chain(_script(text)) is chain


@pytest.mark.parametrize("text, leak", [
    ("cd /tmp", "`cd`"), ("export A=1", "`export`"), ("set -e", "`set`"), ("unset A", "`unset`"),
    ("umask 077", "`umask`"), (". /etc/profile", "`.`"), ("source x", "`source`"), ("exec sh", "`exec`"),
    ("trap 'x' EXIT", "`trap`"), ("shopt -s globstar", "`shopt`"), ("alias ll=ls", "`alias`"),
    ("A=1", "a variable assignment"), ("f() { a; }", "a function definition"), ("pushd /x", "`pushd`"),
    ("$TOOL run", "a command whose name is only known at run time"), ("local x", "`local`"),
    ("(sleep 1 &)", "a background job (`&`)"),
    ("A=1 make", None), ("mkdir -p /x && chmod 0755 /x", None), ("echo \"$(pwd)\"", None),
])
def test_state_leak(text, leak):
    assert state_leak(_script(text)) == leak


JOINED_PAIR = "FROM debian:bookworm-slim\nWORKDIR /srv\nRUN mkdir -p data\nRUN touch data/.keep\nCMD [\"sh\"]\n"


def test_the_guard_accepts_a_join_and_nothing_like_it():
    before = contract(tokenize(JOINED_PAIR))
    joined = JOINED_PAIR.replace("data\nRUN touch", "data && touch")
    assert differences(before, contract(tokenize(joined))) == []
    # not across a WORKDIR: the second step would run elsewhere
    across = "FROM debian:bookworm-slim\nRUN mkdir -p data && touch data/.keep\nWORKDIR /srv\nCMD [\"sh\"]\n"
    assert differences(before, contract(tokenize(across))) == ["final.runs"]
    # not with other flags, nor in another order
    flagged = JOINED_PAIR.replace("RUN mkdir", "RUN --network=none mkdir").replace("data\nRUN touch", "data && touch")
    assert differences(before, contract(tokenize(flagged))) == ["final.runs"]
    swapped = JOINED_PAIR.replace("RUN mkdir -p data\nRUN touch data/.keep", "RUN touch data/.keep && mkdir -p data")
    assert differences(before, contract(tokenize(swapped))) == ["final.runs"]


def test_a_join_with_the_user_creation_is_the_same_contract():
    base = "FROM debian:bookworm-slim\nRUN groupadd --system --gid 10001 app && useradd --system --uid 10001 --gid 10001 app\n"
    apart = base + "RUN touch /srv.keep\nUSER 10001\n"
    joined = base.rstrip("\n") + " && touch /srv.keep\nUSER 10001\n"
    assert differences(contract(tokenize(apart)), contract(tokenize(joined))) == []


def test_every_refusal_fixture_reports_why_and_changes_nothing():
    refused = sorted(p for p in (FIXTURES / "join-runs").glob("*-refused"))
    assert len(refused) >= 9
    for case in refused:
        text = (case / "before.Dockerfile").read_bytes().decode()
        result = fix_text(text, str(case), Options(select=frozenset({"DF202"})))
        assert result.fixed == text, case.name
        if case.name not in ("windows-shell-refused", "different-mounts-refused"):
            assert [f.reason for f in result.remaining if f.code == "DF202"], case.name


APP = "FROM python:3.12-slim-bookworm\nRUN pip install flask==3.0.3\nCOPY app.py /srv/app.py\nCMD [\"python\", \"/srv/app.py\"]\n"


def test_dfix_own_user_run_joins_the_next_run_and_hadolint_sees_no_dl3059(tmp_path):
    (tmp_path / "app.py").write_text("print('hi')\n")
    (tmp_path / "Dockerfile").write_text(APP)
    proc = dfix("--write", "Dockerfile", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    fixed = (tmp_path / "Dockerfile").read_text()
    runs = [line for line in fixed.splitlines() if line.startswith("RUN")]
    assert len(runs) == 1 and runs[0].startswith("RUN groupadd"), fixed
    assert "&& pip install --no-cache-dir flask==3.0.3" in fixed
    lint = subprocess.run(["hadolint", "--no-fail", "-f", "json", str(tmp_path / "Dockerfile")],
                          capture_output=True, text=True, check=False)
    assert "DL3059" not in {w["code"] for w in json.loads(lint.stdout or "[]")}
    assert dfix("--check", "Dockerfile", cwd=tmp_path).returncode == 0  # a second run changes nothing
