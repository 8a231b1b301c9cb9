"""DF204: the contract guard reads `WORKDIR X` + RUN + `WORKDIR back` as `RUN cd X && …`, and nothing looser;
the CLI writes the rewrite and hadolint's DL3003 goes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from dfix.contract import contract, differences
from dfix.syntax import tokenize

from .conftest import FIXTURES, ROOT

BEFORE = "FROM python:3.12-slim\nWORKDIR /app\nRUN cd /src/tool && make install\nCOPY . .\n"


def _diff(after: str, before: str = BEFORE) -> list[str]:
    return differences(contract(tokenize(before)), contract(tokenize(after)))


def test_the_workdir_pair_is_the_cd():
    assert _diff("FROM python:3.12-slim\nWORKDIR /app\nWORKDIR /src/tool\nRUN make install\nWORKDIR /app\nCOPY . .\n") == []


def test_a_wrong_or_missing_way_back_changes_the_contract():
    assert _diff("FROM python:3.12-slim\nWORKDIR /app\nWORKDIR /src/tool\nRUN make install\nWORKDIR /srv\nCOPY . .\n")
    assert _diff("FROM python:3.12-slim\nWORKDIR /app\nWORKDIR /src/tool\nRUN make install\nCOPY . .\n")
    assert _diff("FROM python:3.12-slim\nWORKDIR /app\nWORKDIR /src\nRUN make install\nWORKDIR /app\nCOPY . .\n")


def test_the_base_workdir_comes_from_the_table_or_nothing_is_folded():
    before = "FROM python:3.12-slim\nRUN cd /src/tool && make install\nCOPY . .\n"
    assert _diff("FROM python:3.12-slim\nWORKDIR /src/tool\nRUN make install\nWORKDIR /\nCOPY . .\n", before) == []
    unknown = before.replace("python:3.12-slim", "registry.example.com/team/base:2.3")
    assert _diff(unknown.replace("RUN cd /src/tool && make install", "WORKDIR /src/tool\nRUN make install\nWORKDIR /"), unknown)


def test_write_removes_hadolint_dl3003(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_bytes((FIXTURES / "cd-to-workdir" / "restore-previous" / "before.Dockerfile").read_bytes())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    check = subprocess.run([sys.executable, "-m", "dfix", "--check", "--select", "DF204", str(dockerfile)],
                           capture_output=True, text=True, env=env)
    assert check.returncode == 1, check.stderr
    write = subprocess.run([sys.executable, "-m", "dfix", "--write", "--select", "DF204", str(dockerfile)],
                           capture_output=True, text=True, env=env)
    assert write.returncode == 0, write.stderr
    assert dockerfile.read_bytes() == (FIXTURES / "cd-to-workdir" / "restore-previous" / "after.Dockerfile").read_bytes()
    lint = subprocess.run(["hadolint", "--no-fail", "-f", "json", str(dockerfile)], capture_output=True, text=True)
    assert "DL3003" not in {w["code"] for w in json.loads(lint.stdout)}
