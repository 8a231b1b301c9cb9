"""DF109: a `pip install` of a package without a version, where a file in the build context pins it, is
reported with the file and the version (real context folders, the CLI as a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from .conftest import ROOT

UV_LOCK = '''version = 1
[[package]]
name = "myapp"
version = "0.1.0"
source = { editable = "." }

[[package]]
name = "Uvicorn"
version = "0.30.1"
source = { registry = "https://pypi.org/simple" }
'''
PIPFILE_LOCK = {"default": {"httpx": {"version": "==0.27.0"}}, "develop": {"pytest": {"version": "==8.2.0"}}}


def _reported(tmp_path, dockerfile: str, *args: str) -> tuple[int, list[dict]]:
    (tmp_path / "Dockerfile").write_text(dockerfile)
    proc = subprocess.run([sys.executable, "-m", "dfix", "--select", "DL3013", "--format", "json", *args,
                           str(tmp_path / "Dockerfile")], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)["files"][0]["reported"]


def test_each_pin_file_kind_names_its_package_and_version(tmp_path):
    (tmp_path / "requirements.txt").write_text("Flask==3.0.3 \\\n    --hash=sha256:abc\nrequests>=2\n")
    (tmp_path / "constraints.txt").write_text("gunicorn==22.0.0 ; python_version >= '3.8'\n")
    (tmp_path / "uv.lock").write_text(UV_LOCK)
    (tmp_path / "Pipfile.lock").write_text(json.dumps(PIPFILE_LOCK))
    status, [finding] = _reported(
        tmp_path, "FROM python:3.12-slim\nRUN pip install --no-cache-dir flask gunicorn requests uvicorn[standard] "
                  "httpx myapp pytest black==24.4.0\n", "--fail-on", "finding")
    assert status == 1 and (finding["code"], finding["line"]) == ("DF109", 2)
    assert finding["message"] == (
        "pip installs without a version what the context pins: flask is pinned to 3.0.3 in requirements.txt, "
        "gunicorn is pinned to 22.0.0 in constraints.txt, uvicorn is pinned to 0.30.1 in uv.lock, "
        "httpx is pinned to 0.27.0 in Pipfile.lock, pytest is pinned to 8.2.0 in Pipfile.lock")


def test_a_poetry_lock_pin_and_python_m_pip(tmp_path):
    (tmp_path / "poetry.lock").write_text('[[package]]\nname = "redis"\nversion = "5.0.4"\n')
    _, [finding] = _reported(tmp_path, "FROM python:3.12-slim\nRUN python3 -m pip install redis\n")
    assert finding["message"].endswith("redis is pinned to 5.0.4 in poetry.lock")


def test_nothing_when_the_install_pins_it_itself_or_nothing_pins_it(tmp_path):
    (tmp_path / "requirements.txt").write_text("flask==3.0.3\n")
    for dockerfile in (
        "FROM python:3.12-slim\nCOPY requirements.txt /app/\nRUN pip install -r /app/requirements.txt flask\n",
        "FROM python:3.12-slim\nRUN pip install -c requirements.txt flask\n",
        "FROM python:3.12-slim\nRUN pip install flask==3.0.3 gunicorn\n",
        "FROM python:3.12-slim\nRUN pip install ./dist/flask-3.0.3.whl\n",
    ):
        assert _reported(tmp_path, dockerfile)[1] == [], dockerfile


def test_the_hadolint_pragma_silences_it(tmp_path):
    (tmp_path / "requirements.txt").write_text("flask==3.0.3\n")
    assert _reported(tmp_path, "FROM python:3.12-slim\n# hadolint ignore=DL3013\nRUN pip install flask\n")[1] == []
