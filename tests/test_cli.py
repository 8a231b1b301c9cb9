"""The command line, run for real as a subprocess: modes, exit codes, bad input, atomic writes."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

EXAMPLE = ROOT / "examples" / "fastapi-naive"
NAIVE = "FROM python:3.12\nRUN apt-get update\nRUN apt-get install -y curl\nCOPY . /app\nRUN pip install -r /app/requirements.txt\n"
GOOD = "FROM python:3.12-slim-trixie\nENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1\nRUN pip install --no-cache-dir flask\nUSER 10001\n"


def dfix(*args, cwd=None, wrapper=()):
    command = [*wrapper, sys.executable, "-m", "dfix", *map(str, args)]
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, check=False)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "Dockerfile").write_text(NAIVE)
    return tmp_path


def test_dry_run_is_the_default_and_writes_nothing(project):
    proc = dfix(project)
    assert proc.returncode == 0, proc.stderr
    assert "-RUN apt-get update\n" in proc.stdout and "+RUN pip install --no-cache-dir" in proc.stdout
    assert "\x1b[" not in proc.stdout  # plain when not a terminal
    assert (project / "Dockerfile").read_text() == NAIVE


def test_check_exit_codes(project, tmp_path_factory):
    assert dfix("--check", project).returncode == 1
    good = tmp_path_factory.mktemp("good")
    (good / "Dockerfile").write_text(GOOD)
    (good / ".dockerignore").write_text(".git\n.env\n.venv\n")
    proc = dfix("--check", good)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_write_is_atomic_keeps_mode_and_settles(project):
    target = project / "Dockerfile"
    target.chmod(0o640)
    proc = dfix("--write", project)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_text() != NAIVE
    # no temp file left behind; the .dockerignore DF601 writes is new, with the usual mode
    assert sorted(p.name for p in project.iterdir()) == [".dockerignore", "Dockerfile"]
    assert stat.S_IMODE((project / ".dockerignore").stat().st_mode) == 0o644
    assert dfix("--check", project).returncode == 0


def test_write_through_symlink_keeps_the_link(project):
    link = project / "Containerfile"
    real = project / "real.txt"
    real.write_text(NAIVE)
    (project / "Dockerfile").unlink()
    link.symlink_to(real.name)
    assert dfix("--write", link).returncode == 0
    assert link.is_symlink() and real.read_text() != NAIVE


def test_bad_inputs_each_get_one_line_and_the_rest_goes_on(tmp_path):
    good = tmp_path / "good" / "Dockerfile"
    good.parent.mkdir()
    good.write_text(NAIVE)
    bad = {
        "empty/Dockerfile": b"",
        "binary/Dockerfile": b"FROM a\x00\x01\x02\n",
        "latin1/Dockerfile": b"FROM a\nLABEL author=\"Jos\xe9\"\n",
        "heredoc/Dockerfile": b"FROM a\nRUN <<EOF\necho never closed\n",
        "escape/Dockerfile": b"# escape=x\nFROM a\n",
    }
    for name, data in bad.items():
        (tmp_path / name).parent.mkdir()
        (tmp_path / name).write_bytes(data)
    (tmp_path / "dangling").mkdir()
    (tmp_path / "dangling" / "Dockerfile").symlink_to("missing-target")
    proc = dfix("--write", tmp_path)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("dfix: error:")]
    expected = {
        "empty/Dockerfile": "no instructions",
        "binary/Dockerfile": "binary",
        "latin1/Dockerfile": "not UTF-8",
        "heredoc/Dockerfile": "unterminated heredoc",
        "escape/Dockerfile": "invalid escape",
        "dangling/Dockerfile": "dangling symlink",
    }
    for name, words in expected.items():
        matching = [e for e in errors if str(tmp_path / name) in e]
        assert len(matching) == 1 and words in matching[0], (name, errors)
    assert len(errors) == len(expected)
    assert good.read_text() != NAIVE  # the good file was still fixed
    for name, data in bad.items():
        assert (tmp_path / name).read_bytes() == data


def test_unreadable_file_is_an_error(tmp_path):
    locked = tmp_path / "Dockerfile"
    locked.write_text(NAIVE)
    locked.chmod(0o000)
    wrapper = []
    if os.geteuid() == 0:
        # root reads anything through CAP_DAC_OVERRIDE; drop it so mode 000 means what it says
        assert shutil.which("setpriv"), "root needs setpriv (util-linux) to test an unreadable file"
        wrapper = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    probe = subprocess.run([*wrapper, "cat", str(locked)], capture_output=True, check=False)
    assert probe.returncode != 0, "the file must really be unreadable for the test"
    proc = dfix("--check", locked, wrapper=wrapper)
    assert proc.returncode == 2
    assert f"dfix: error: {locked}: cannot read" in proc.stderr
    locked.chmod(0o600)


def test_select_and_ignore(project):
    only_pip = dfix("--select", "DF105", project)
    assert "--no-cache-dir" in only_pip.stdout and "--no-install-recommends" not in only_pip.stdout
    by_hadolint = dfix("--select", "DL3015", project)
    assert "--no-install-recommends" in by_hadolint.stdout and "--no-cache-dir" not in by_hadolint.stdout
    ignored = dfix("--ignore", "DF1", project)
    assert ignored.returncode == 0 and "DF1" not in ignored.stdout
    assert "DF201" in ignored.stdout  # other families still run


def test_json_format(project):
    proc = dfix("--format", "json", project)
    data = json.loads(proc.stdout)
    (record,) = data["files"]
    assert record["changed"] is True
    assert {f["code"] for f in record["applied"]} >= {"DF101", "DF103", "DF104", "DF105"}
    assert data["summary"]["changed"] == 1


def test_discovery_skips_vendored_and_ignored(tmp_path):
    for rel in ["app/Dockerfile", "svc/api.Dockerfile", "svc/Dockerfile.dev", "Containerfile",
                ".git/Dockerfile", "node_modules/x/Dockerfile", ".venv/Dockerfile", "build/Dockerfile"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(NAIVE)
    (tmp_path / ".gitignore").write_text("build/\n")
    proc = dfix("--format", "json", tmp_path)
    found = sorted(Path(r["path"]).relative_to(tmp_path).as_posix() for r in json.loads(proc.stdout)["files"])
    assert found == ["Containerfile", "app/Dockerfile", "svc/Dockerfile.dev", "svc/api.Dockerfile"]


def test_rules_and_explain():
    listing = dfix("rules")
    assert listing.returncode == 0 and "DF104" in listing.stdout and "DL3009" in listing.stdout
    explained = dfix("explain", "DL3009")
    assert explained.returncode == 0
    for heading in ("## What it does", "## Why", "## Example", "## Fix safety"):
        assert heading in explained.stdout
    assert dfix("explain", "DF999").returncode == 2
    assert dfix("--version").stdout.startswith("dfix ")


def test_the_example_in_the_readme_runs():
    proc = dfix("--check", EXAMPLE)
    assert proc.returncode == 1
    assert "examples/fastapi-naive/Dockerfile" in proc.stdout


def test_folders_named_like_dockerfiles_are_searched(tmp_path):
    """A folder whose name matches a Dockerfile pattern is a folder: the walk goes into it, and one named on
    the command line is searched like any directory (a real tree had 23 of 321 Dockerfiles in such folders)."""
    inside = ["api.Dockerfile/Dockerfile", "Dockerfile.d/base.Dockerfile", "Dockerfile/Containerfile",
              "Dockerfile/nested.Dockerfile/Dockerfile.dev", "svc/Dockerfile"]
    for rel in inside:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(NAIVE)
    (tmp_path / "empty.Dockerfile").mkdir()
    proc = dfix("--format", "json", tmp_path)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    found = sorted(Path(r["path"]).relative_to(tmp_path).as_posix() for r in json.loads(proc.stdout)["files"])
    assert found == sorted(inside)
    named = dfix("--format", "json", tmp_path / "Dockerfile")
    assert named.returncode == 0 and named.stderr == "", named.stderr
    found = sorted(Path(r["path"]).relative_to(tmp_path).as_posix() for r in json.loads(named.stdout)["files"])
    assert found == ["Dockerfile/Containerfile", "Dockerfile/nested.Dockerfile/Dockerfile.dev"]


BUILDKIT_NOTICE = ("dfix: notice: BuildKit's parser (the dockerfile package) is not available on this platform: "
                   "the guard is off")


def test_missing_buildkit_parser_is_said_once_per_run(tmp_path):
    """Where the `dockerfile` package cannot be imported the guard is off: one notice per run, also from
    worker processes (more files than run inline) and with --quiet; none with --no-buildkit-check."""
    blocker = tmp_path / "no-buildkit"
    blocker.mkdir()
    (blocker / "dockerfile.py").write_text('raise ImportError("no wheel for this platform")\n')
    tree = tmp_path / "tree"
    for index in range(40):
        (tree / f"svc{index}").mkdir(parents=True)
        (tree / f"svc{index}" / "Dockerfile").write_text(NAIVE if index % 2 else GOOD)
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": os.pathsep.join([str(blocker), str(ROOT)])}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "dfix", "--jobs", "2", *args, str(tree)],
                              capture_output=True, text=True, env=env, check=False)

    for args in ((), ("--quiet",), ("--format", "json")):
        proc = run(*args)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.splitlines().count(BUILDKIT_NOTICE) == 1, (args, proc.stderr)
        assert "+RUN pip install --no-cache-dir" in proc.stdout or args == ("--format", "json")
    silent = run("--no-buildkit-check")
    assert silent.returncode == 0 and "notice" not in silent.stderr, silent.stderr
    normal = dfix("--jobs", "2", tree)  # where the package imports, nothing is said
    assert normal.returncode == 0 and "notice" not in normal.stderr, normal.stderr
