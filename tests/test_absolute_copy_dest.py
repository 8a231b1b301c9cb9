"""DF203 (hadolint DL3045): relative COPY/ADD destinations without a WORKDIR, and the COPY lines dfix's own
rules write. hadolint itself is the judge of what counts as relative; the CLI runs as a subprocess."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from dfix import base_images
from dfix.contract import contract, differences
from dfix.syntax import tokenize

from .conftest import FIXTURES
from .test_cli import dfix

CASES = sorted((FIXTURES / "absolute-copy-dest").glob("*/before.Dockerfile"))
PLAIN = 'FROM python:3.12-slim\nCOPY . .\nRUN pip install -r requirements.txt\nCMD ["python","app.py"]\n'
COMPILED = ('FROM python:3.12\nRUN apt-get update && apt-get install -y gcc libpq-dev\nCOPY . .\n'
            'RUN pip install -r requirements.txt\nCMD ["python","app.py"]\n')


def _hadolint(path: Path, code: str) -> list[int]:
    proc = subprocess.run(["hadolint", "--no-fail", "-f", "json", str(path)], capture_output=True, text=True, check=False)
    return [w["line"] for w in json.loads(proc.stdout or "[]") if w["code"] == code]


def _app(tmp_path: Path, dockerfile: str) -> Path:
    (tmp_path / "Dockerfile").write_text(dockerfile)
    (tmp_path / "requirements.txt").write_text("flask==3.0.3\npsycopg2==2.9.9\n")
    (tmp_path / "app.py").write_text("import flask\n")
    return tmp_path


@pytest.mark.parametrize("before", CASES, ids=[p.parent.name for p in CASES])
def test_hadolint_flags_in_the_output_only_what_dfix_reports(before, tmp_path):
    """Every DL3045 hadolint raises on the input is fixed or reported by DF203 on that line, with a reason."""
    out = tmp_path / "Dockerfile"
    out.write_bytes(before.read_bytes())
    proc = dfix("--write", "--select", "DF203", "--unsafe-fixes", "--format", "json", out)
    assert proc.returncode == 0, proc.stderr
    reported = sorted(f["line"] for record in json.loads(proc.stdout)["files"] for f in record["reported"] if f["reason"])
    flagged = _hadolint(before, "DL3045")
    assert sorted(_hadolint(out, "DL3045")) == reported
    assert set(reported) <= set(flagged)
    assert out.read_bytes() == (before.parent / "after.Dockerfile").read_bytes()


@pytest.mark.parametrize("select", ["DF201", "DF201,DF403", ""])
def test_dependency_order_writes_no_relative_destination_without_workdir(tmp_path, select):
    app = _app(tmp_path, PLAIN)
    args = ["--select", select] if select else []
    proc = dfix("--write", *args, app)
    assert proc.returncode == 0, proc.stderr
    fixed = (app / "Dockerfile").read_text()
    assert "COPY requirements.txt /\nRUN pip install" in fixed
    # only the user's own COPY . ., when DF203 does not run, is left to hadolint
    user_line = [n for n, line in enumerate(fixed.splitlines(), 1) if line == "COPY . ."]
    assert _hadolint(app / "Dockerfile", "DL3045") == user_line
    assert bool(user_line) == bool(select)


@pytest.mark.parametrize("select", ["DF403", "DF201,DF403", ""])
def test_builder_stage_writes_no_relative_destination_without_workdir(tmp_path, select):
    app = _app(tmp_path, COMPILED)
    args = ["--select", select] if select else []
    proc = dfix("--write", *args, app)
    assert proc.returncode == 0, proc.stderr
    fixed = (app / "Dockerfile").read_text()
    assert " AS builder\n" in fixed
    builder = fixed.split("\n\n")[0]
    assert "COPY . .\n" not in builder and ("COPY . /\n" in builder or "COPY requirements.txt /\n" in builder)
    # only the user's own COPY . . in the runtime, when DF203 does not run, is left to hadolint
    user_line = [n for n, line in enumerate(fixed.splitlines(), 1) if line == "COPY . ."]
    assert _hadolint(app / "Dockerfile", "DL3045") == user_line
    assert bool(user_line) == bool(select)


def test_contract_resolves_destinations_against_the_working_directory():
    def copies(text):
        return contract(tokenize(text))

    dot, root = copies("FROM python:3.12-slim\nCOPY . .\n"), copies("FROM python:3.12-slim\nCOPY . /\n")
    assert differences(dot, root) == []
    assert differences(copies("FROM golang:1.22\nCOPY go.mod ./\n"), copies("FROM golang:1.22\nCOPY go.mod /go/\n")) == []
    # `.` is a folder, `/go` might be a file's new name: not the same copy
    assert differences(copies("FROM golang:1.22\nCOPY go.mod .\n"), copies("FROM golang:1.22\nCOPY go.mod /go\n"))
    # where the working directory is not known, a relative destination is only equal to itself
    assert differences(copies("FROM myorg/base\nCOPY . .\n"), copies("FROM myorg/base\nCOPY . /\n"))
    assert differences(copies("ARG B=python:3\nFROM $B\nCOPY . .\n"), copies("ARG B=python:3\nFROM $B\nCOPY . /\n"))
    # a WORKDIR of a parent stage is the working directory, whatever the base
    parent = "FROM myorg/base AS b\nWORKDIR /app\nFROM b\n"
    assert differences(copies(parent + "COPY x ./\n"), copies(parent + "COPY x /app/\n")) == []


def test_workdir_starts_from_the_base_image():
    doc = tokenize("FROM myorg/base AS a\nCOPY x y\nFROM a\nWORKDIR sub\nCOPY x y\nFROM perl:5.40\nCOPY x y\n"
                   "FROM php:8.3\nWORKDIR sub\nCOPY x y\n")
    copies = [i for i in doc.instructions if i.keyword == "COPY"]
    assert [base_images.workdir_at(doc, c) for c in copies] == [None, None, "/usr/src/app", "/var/www/html/sub"]
    # the document alone frames paths from `/`, relative to each other
    assert [doc.workdir_at(c) for c in copies] == ["/", "/sub", "/", "/sub"]
    assert doc.workdir_at(copies[3], start=None) is None
    chain = tokenize("FROM myorg/base\nWORKDIR a\nWORKDIR /b\nWORKDIR c\nCOPY x y\n")
    assert chain.workdir_at(chain.instructions[-1], start=None) == "/b/c"
