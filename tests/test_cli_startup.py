"""`dfix --check FILE`, the pre-commit and editor line, starts without typer, rich or libcst, and says
exactly what the full command line reader (typer, commands.py) says for the same run."""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import ROOT

FILE = ROOT / "fixtures" / "realworld" / "asterisk-voip-expose-ranges.Dockerfile"
ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def _dfix(*args: str, importtime: bool = False) -> subprocess.CompletedProcess:
    flags = ["-X", "importtime"] if importtime else []
    return subprocess.run([sys.executable, *flags, "-m", "dfix", *args], capture_output=True, text=True, cwd=ROOT, env=ENV)


def test_one_file_check_imports_only_what_it_needs():
    proc = _dfix("--check", str(FILE), importtime=True)
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "dfix.engine" in imported and proc.returncode in (0, 1)
    heavy = {name for name in imported if name.split(".")[0] in ("typer", "click", "rich", "libcst")}
    assert not heavy, sorted(heavy)


def test_quick_reader_and_typer_agree():
    for extra in ([], ["--format", "json"], ["--quiet", "--fail-on=finding"], ["--diff", "-j", "1"]):
        quick = _dfix("--check", *extra, str(FILE))
        full = _dfix("--check", *extra, "--select", "DF", str(FILE))  # --select sends the line to typer
        assert (quick.returncode, quick.stdout, quick.stderr) == (full.returncode, full.stdout, full.stderr), extra
