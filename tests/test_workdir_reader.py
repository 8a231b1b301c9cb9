"""Issue 16's leftover: one reader of the working directory in force, base_images.workdir_at (the base
image's own from the table, then the file's WORKDIRs, ENV values resolved, through the stages it is built
on). DF204 and the contract guard's reading of `WORKDIR X` + RUN + `WORKDIR back` used a second walker of
their own (Document.known_workdir_at) that knew no ENV value."""

from __future__ import annotations

import os
import subprocess
import sys

from dfix import base_images, contract
from dfix.contract import differences
from dfix.syntax import Document, tokenize

from .conftest import ROOT


def _workdirs(text: str) -> list[str | None]:
    doc = tokenize(text)
    return [base_images.workdir_at(doc, ins) for ins in doc.instructions if ins.keyword == "RUN"]


def test_there_is_one_reader():
    assert not hasattr(Document, "known_workdir_at")
    assert not hasattr(contract, "known_workdir_at")


def test_the_reader_resolves_env_and_recovers_at_an_absolute_workdir():
    assert _workdirs("FROM python:3.12-slim\nENV APP_HOME=/app\nWORKDIR $APP_HOME\nRUN a\nWORKDIR sub\nRUN b\n") == ["/app", "/app/sub"]
    # a build argument: unknown, and a relative WORKDIR stays unknown, until an absolute one says again
    assert _workdirs("FROM python:3.12-slim\nARG D=/x\nWORKDIR $D\nRUN a\nWORKDIR sub\nRUN b\nWORKDIR /srv\nRUN c\n") == [None, None, "/srv"]
    # the base's own: from a row of the table, not from a base a build argument names, nor a Windows image
    assert _workdirs("FROM httpd:2.4\nRUN a\nWORKDIR htdocs\nRUN b\n") == ["/usr/local/apache2", "/usr/local/apache2/htdocs"]
    assert _workdirs("ARG V=3.12\nFROM python:${V}\nRUN a\n") == [None]
    assert _workdirs("FROM python:3.12-windowsservercore\nRUN a\n") == [None]
    assert _workdirs("FROM registry.example.com/team/base:2.3\nRUN a\n") == [None]


def test_the_guard_reads_the_cd_under_an_env_workdir():
    before = "FROM python:3.12-slim\nENV APP_HOME=/app\nWORKDIR $APP_HOME\nRUN cd /src/tool && make install\nCOPY . .\n"
    after = before.replace("RUN cd /src/tool && make install", "WORKDIR /src/tool\nRUN make install\nWORKDIR /app")
    assert differences(contract.contract(tokenize(before)), contract.contract(tokenize(after))) == []
    wrong = after.replace("WORKDIR /app\nCOPY", "WORKDIR /srv\nCOPY")
    assert differences(contract.contract(tokenize(before)), contract.contract(tokenize(wrong)))


def test_df204_fixes_a_cd_under_an_env_workdir(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_bytes((ROOT / "fixtures" / "cd-to-workdir" / "env-workdir" / "before.Dockerfile").read_bytes())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "dfix", "--write", "--select", "DF204", str(dockerfile)],
                          capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    assert dockerfile.read_bytes() == (ROOT / "fixtures" / "cd-to-workdir" / "env-workdir" / "after.Dockerfile").read_bytes()
