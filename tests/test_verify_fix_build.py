"""`dfix --write --verify`, for real: the candidates are built, run and probed with podman (the engine
scripts/setup-engine.sh installs), and only a proven rewrite is written. The apps are stdlib servers, so a
build is a COPY and a user: the minutes go to what --verify decides, not to pip."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dfix.report.output import verification_lines

from .conftest import ROOT
from .test_verify_build import env, podman, tiny_app  # noqa: F401  (fixtures)

APPS = ROOT / "tests" / "apps"


def run_dfix(env, *args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dfix", *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}, check=False)


def write_verified(env, source: Path, tmp_path: Path) -> tuple[dict, Path]:
    """`dfix --write --verify --format json` on a copy of ``source``: its one file record and the copy."""
    context = tmp_path / source.name
    shutil.copytree(source, context)
    proc = run_dfix(env, "--write", "--verify", "--format", "json", context)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    (record,) = json.loads(proc.stdout)["files"]
    return record, context


@pytest.mark.build
def test_a_slim_base_the_app_cannot_run_on_falls_back_and_names_the_rule(tmp_path, env, buildkit):
    """Both apps start only with a program the full image has (gcc, git): the unsafe candidate (slim base)
    builds but its container stops; the bisection names DF402 with the app's own error, and the candidate
    without it, non-root and pinned, is written. Two contexts, verified side by side with --build-jobs 2."""
    contexts = {}
    for app, program in (("runs_gcc", "gcc"), ("runs_git", "git")):
        contexts[app] = tmp_path / app
        shutil.copytree(APPS / app, contexts[app])
    proc = run_dfix(env, "--write", "--verify", "--build-jobs", "2", "--format", "json", *contexts.values())
    assert proc.returncode == 0, proc.stderr + proc.stdout
    records = {Path(r["path"]).parent.name: r for r in json.loads(proc.stdout)["files"]}
    for app, program in (("runs_gcc", "gcc"), ("runs_git", "git")):
        record = records[app]
        check = record["verify"]
        first, last = check["attempts"][0], check["attempts"][-1]
        assert first["name"] == "unsafe" and not first["ok"]
        assert "DF402" in first["rules"]
        assert any("stopped" in reason for reason in first["reasons"]), first
        assert [c["code"] for c in first["culprits"]] == ["DF402"]
        assert program in first["culprits"][0]["log"]  # the app's own error: No such file or directory: 'gcc'
        assert last["ok"] and check["written"] == last["name"] == "default without DF402"
        assert "DF402" not in last["rules"] and "DF302" in last["rules"]
        assert last["uid"] == 10001
        assert last["size_mb"] <= check["original_size_mb"] + 0.5
        written = (contexts[app] / "Dockerfile").read_text()
        assert written.startswith("FROM python:3.12-trixie\n")  # pinned, still the full image
        assert "USER 10001" in written
        buildkit.parse_string(written)
        (reported,) = [f for f in record["reported"] if f["code"] == "DF402"]
        assert reported["reason"].startswith("--verify: ") and "stopped" in reported["reason"]
        assert "DF402" not in [f["code"] for f in record["applied"]]
    # the text report says the same (its lines are made from this record)
    text = "\n".join(verification_lines(records["runs_git"]["verify"], "dry-run"))
    assert "unsafe (" in text and "): not written: " in text
    assert "DF402 is responsible: " in text and "git" in text.split("DF402 is responsible: ", 1)[1]
    assert "default without DF402 (" in text and "): would be written: builds, answers like the original" in text
    # a second run with --verify changes nothing: DF402 is proven wrong again, everything else is done
    again = run_dfix(env, "--check", "--verify", "--format", "json", contexts["runs_git"])
    assert again.returncode == 0, again.stderr + again.stdout


@pytest.mark.build
def test_repos_with_patch_dir_patch_the_proven_candidate(tmp_path, env):
    """Bulk mode goes through the same proof: the patch holds the first candidate that passed."""
    repo = tmp_path / "repo"
    tiny_app(repo, 8093)
    git_env = {**env, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "HOME": str(tmp_path)}
    for args in (["init", "-q", "-b", "main"], ["add", "."],
                 ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "app"]):
        subprocess.run(["git", *args], cwd=repo, env=git_env, check=True, capture_output=True)
    listing = tmp_path / "repos.txt"
    listing.write_text(f"{repo}\n")
    proc = run_dfix(git_env, "--repos", listing, "--patch-dir", tmp_path / "patches", "--verify", "--format", "json",
                    "--work-dir", tmp_path / "work")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    data = json.loads(proc.stdout)
    (record,) = data["files"]
    assert record["verify"]["written"] is not None and record["verify"]["attempts"][-1]["ok"]
    patch = (tmp_path / "patches" / "repo.patch").read_text()
    assert "+USER 10001" in patch
    assert data["repositories"][0]["status"] == "patched"


@pytest.mark.build
def test_uv_install_with_no_cache_dir_is_written_and_builds(tmp_path, env, buildkit):
    """uv takes --no-cache-dir as --no-cache and refuses the flag twice: DF107 must not add it, and the
    rewrite --verify writes is one that built, answered like the original and ran as 10001."""
    record, context = write_verified(env, APPS / "uv_no_cache_dir", tmp_path)
    check = record["verify"]
    assert check["written"] is not None, check
    chosen = check["attempts"][-1]
    assert chosen["ok"] and chosen["uid"] == 10001 and not check["attempts"][0]["culprits"]
    assert "DF107" not in chosen["rules"]
    written = (context / "Dockerfile").read_text()
    buildkit.parse_string(written)
    (install,) = [line for line in written.splitlines() if "uv pip install" in line]
    assert install.count("--no-cache") == 1, install
    assert "USER 10001" in written


# Flask and Starlette on the full python image, whose dependencies compile against its headers (psycopg2
# and mysqlclient from source; lxml, Pillow), imported at start so a missing library stops the app: the
# most ambitious candidate, a builder on the full image and a slim runtime with the libraries the
# extensions load, is the one written. One --verify per app: the compiles are the cost.
COMPILED_APPS = {"flask-psycopg2-lxml": "libpq5", "starlette-pillow-mysql": "libmariadb3"}


@pytest.mark.build
@pytest.mark.parametrize("app", sorted(COMPILED_APPS))
def test_full_base_with_compiled_dependencies_is_written_slim_with_a_builder(app, tmp_path, env, buildkit):
    record, context = write_verified(env, ROOT / "examples" / app, tmp_path)
    check = record["verify"]
    (chosen,) = check["attempts"]
    assert check["written"] == chosen["name"] == "unsafe" and chosen["ok"], check
    assert chosen["routes"] == check["original_routes"] and chosen["routes"]["/"] == 200, check
    assert chosen["healthcheck"] == "healthy" and chosen["uid"] == 10001
    assert chosen["compilers"] == []
    assert chosen["size_mb"] <= 0.5 * check["original_size_mb"], (chosen["size_mb"], check["original_size_mb"])
    written = (context / "Dockerfile").read_text()
    buildkit.parse_string(written)
    froms = [line.split()[1:] for line in written.splitlines() if line.startswith("FROM ")]
    assert froms == [["python:3.12-trixie", "AS", "builder"], ["python:3.12-slim-trixie"]], froms
    assert COMPILED_APPS[app] in written.split("FROM python:3.12-slim-trixie")[1]


@pytest.mark.build
def test_an_app_that_writes_where_its_user_cannot_keeps_root_and_the_other_fixes_land(tmp_path, env):
    """The default candidate's non-root user cannot open /var/log/app.log: DF302 is found responsible with
    the app's PermissionError, and the candidate without it (pinned base, env defaults, .dockerignore) is
    written. The user's image keeps running as root, said in the report, rather than not starting."""
    record, context = write_verified(env, APPS / "writes_var_log", tmp_path)
    check = record["verify"]
    first, last = check["attempts"][0], check["attempts"][-1]
    assert first["name"] == "default" and not first["ok"]  # nothing unsafe applies: the ladder starts there
    assert [c["code"] for c in first["culprits"]] == ["DF302"]
    assert "PermissionError" in first["culprits"][0]["log"]
    assert last["ok"] and check["written"] == last["name"] == "default without DF302"
    assert {"DF401", "DF601"} <= set(last["rules"]) and last["uid"] == 0
    written = (context / "Dockerfile").read_text()
    assert "USER" not in written and written.startswith("FROM python:3.12-slim-trixie\n")
    assert (context / ".dockerignore").is_file()
    (reported,) = [f for f in record["reported"] if f["code"] == "DF302"]
    assert reported["reason"].startswith("--verify: ")
