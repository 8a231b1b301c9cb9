"""DF601 in a folder of many Dockerfiles: they share one .dockerignore, so each Dockerfile's fix reads what all
the others copy and use. Read from disk once per version of the folder, not once per pass of every file, and
never stale: a sibling dfix rewrites during the run (an atomic rename into the folder) is read again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dfix.engine import Options
from dfix.files import write_atomic
from dfix.runner import process_file

from .test_cli import ROOT

# what the rule waits for before it trusts a folder's ctime alone (file times come from a coarse clock)
QUIET_S = 2.2
APP = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY app.py .\nCMD ["python", "app.py"]\n'
VENV_ON_PATH = 'FROM python:3.12-slim\nWORKDIR /app\nCOPY app.py .\nENV PATH=/app/.venv/bin:$PATH\nCMD ["python", "app.py"]\n'

# runs the CLI in this process, counting the stat calls made on the folder's Dockerfiles
COUNTING = """
import os, runpy, sys
names = set(n for n in os.listdir('.') if n.endswith('Dockerfile'))
count = 0
def counting(real):
    def stat(path, *args, **kwargs):
        global count
        count += os.path.basename(os.fspath(path)) in names
        return real(path, *args, **kwargs)
    return stat
os.stat, os.lstat = counting(os.stat), counting(os.lstat)
sys.argv = ['dfix', *sys.argv[1:]]
try:
    runpy.run_module('dfix', run_name='__main__')
finally:
    sys.stderr.write(f'\\nstats: {count}\\n')
"""


def _quiet(*folders: Path) -> None:
    """Wait until the folders have not changed for QUIET_S, as a checkout being checked has not."""
    newest = max(os.stat(folder).st_ctime for folder in folders)
    time.sleep(max(0.0, newest + QUIET_S - time.time()))


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """A folder of many Dockerfiles, and two of two each (settled: quiet for a while; busy: just changed)."""
    many = tmp_path_factory.mktemp("many")
    (many / "app.py").write_text("print('hi')\n")
    for i in range(24):
        (many / f"s{i:02}.Dockerfile").write_text(APP.replace("app.py .", f"app.py /srv/{i}/"))
    pair = tmp_path_factory.mktemp("settled")
    for name, text in {"app.py": "print('hi')\n", "Dockerfile": APP, "worker.Dockerfile": APP}.items():
        (pair / name).write_text(text)
    _quiet(many, pair)
    return many, pair


def test_a_folder_of_dockerfiles_is_stated_once_per_file_not_once_per_pair(folders):
    many, _ = folders
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", COUNTING, "--check", "-j", "1", "--format", "json", "."],
                          cwd=many, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 1, proc.stderr
    assert '"DF601"' in proc.stdout  # the rule ran, for every file
    stats = int(proc.stderr.rsplit("stats: ", 1)[1])
    files = len(list(many.glob("*.Dockerfile")))
    # each file is read and discovered (a few stats each); asking each file's siblings anew on every
    # pass made it files * (files - 1) at least
    assert stats <= 4 * files, f"{stats} stats for {files} Dockerfiles"


def _ignore_file(folder: Path) -> str:
    result = process_file(folder / "Dockerfile", Options(select=frozenset({"DF601"})), write=False)
    assert result.error is None, result.error
    ((_, text),) = result.side_files.values()
    return text


@pytest.mark.parametrize("quiet", [True, False], ids=["settled-folder", "busy-folder"])
def test_a_sibling_rewritten_during_a_run_is_read_again(folders, tmp_path, quiet):
    """Two files in one process, as a run of many: the sibling's rewrite, by the atomic rename dfix --write
    itself does, changes what the first file's .dockerignore may name (a venv the sibling puts on PATH)."""
    folder = folders[1]
    if not quiet:
        folder = tmp_path
        for name, text in {"app.py": "print('hi')\n", "Dockerfile": APP, "worker.Dockerfile": APP}.items():
            (folder / name).write_text(text)
    assert ".venv/" in _ignore_file(folder).splitlines()
    write_atomic(folder / "worker.Dockerfile", VENV_ON_PATH.encode())
    assert ".venv/" not in _ignore_file(folder).splitlines(), "the sibling's new text was not read"
    write_atomic(folder / "worker.Dockerfile", APP.encode())
    assert ".venv/" in _ignore_file(folder).splitlines(), "the sibling's new text was not read"
