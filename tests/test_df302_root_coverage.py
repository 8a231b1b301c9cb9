"""Issue 16's measure (benchmarks/df302_root_coverage.py): of the production Python final stages that run
as root, how many dfix makes non-root and why it leaves the others. The script is run as a user runs it,
on a small corpus whose every file is there for one of its criteria, and on fixtures/realworld."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from .conftest import FIXTURES, ROOT

SCRIPT = ROOT / "benchmarks" / "df302_root_coverage.py"

CORPUS = {
    # production Python, root: fixed
    "flask-app": ("FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
                  "COPY . .\nCMD [\"gunicorn\", \"-b\", \"0.0.0.0:8000\", \"app:app\"]\n"),
    # Python from apt on a plain Debian base, an app command and no code copied: production, fixed
    "apt-python": ("FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y --no-install-recommends python3 "
                   "&& rm -rf /var/lib/apt/lists/*\nCMD [\"python3\", \"-m\", \"http.server\", \"8000\"]\n"),
    # production Python, root, left: port 80
    "port-80": ("FROM python:3.12-slim\nWORKDIR /code\nCOPY . .\nRUN pip install -r requirements.txt\n"
                "CMD [\"uvicorn\", \"main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"80\"]\n"),
    # production Python, already non-root: not counted as root
    "non-root": ("FROM python:3.12-slim\nRUN useradd -u 1000 app\nWORKDIR /app\nCOPY . .\nUSER app\n"
                 "CMD [\"python\", \"main.py\"]\n"),
    # not production: a docker-library-style base (bare REPL), ONBUILD, a devcontainer, no Python at all
    "python-base": "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y python3\nCMD [\"python3\"]\n",
    "onbuild": "FROM python:3.12\nWORKDIR /app\nONBUILD COPY . .\nONBUILD RUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n",
    ".devcontainer": "FROM mcr.microsoft.com/devcontainers/python:3.12\nCOPY requirements.txt /tmp/\nRUN pip install -r /tmp/requirements.txt\n",
    "node-app": "FROM node:22-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n",
}


def run(*args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, env=env, check=False)


def test_the_measure_follows_its_criteria(tmp_path):
    for name, text in CORPUS.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "Dockerfile").write_text(text)
        (tmp_path / name / "requirements.txt").write_text("flask\n")
    proc = run(tmp_path, "--json", "--classify")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(proc.stdout)
    kinds = {os.path.basename(os.path.dirname(path)): facts["kind"] for path, facts in out["classified"].items()}
    assert kinds == {
        "flask-app": "production Python, root", "apt-python": "production Python, root", "port-80": "production Python, root",
        "non-root": "production Python, non-root", "python-base": "other", "onbuild": "other", ".devcontainer": "other",
        "node-app": "other",
    }
    assert (out["production Python"], out["root"], out["fixed"], out["left"]) == (4, 3, 2, 1)
    assert out["left_percent"] == 33.3
    assert out["per_reason"] == {"the app binds port …, below 1024, which a non-root user cannot bind everywhere": 1}
    assert out["discrepancies"] == []


def test_on_the_realworld_corpus_every_root_stage_is_fixed_or_left_with_a_documented_reason():
    proc = run(FIXTURES / "realworld", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(proc.stdout)
    assert out["discrepancies"] == []
    assert out["fixed"] + out["left"] == out["root"] > 0
    assert out["left_percent"] <= 20  # issue 16's "Done when"
    assert not any(reason.startswith("UNDOCUMENTED") for reason in out["per_reason"])
    # Jupyter-style bases that run as a non-root user are not counted as root
    assert not any("jupyter" in path for path in out["left_files"])
    # the text report is the same numbers for a reader
    text = run(FIXTURES / "realworld")
    assert text.returncode == 0 and f"{out['left_percent']:.1f}% left" in text.stdout
