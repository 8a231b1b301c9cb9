"""Issue 15's live stack test: the guide's shape (a FastAPI app that connects to PostgreSQL and Redis at
start-up, a docker-compose.yml with a plain depends_on list and no healthchecks) brought up for real
before and after dfix's fix, with the postgres and redis stand-ins scripts/setup-engine.sh makes, by
`dfix verify` (dfix/verify/stack.py, which drives dfix.compose.stack) run as the user runs it.

What the containers' start times and health states must show: the original starts the app before the
database is ready (so it dies); the fixed file holds the app back until the database's healthcheck
passes, and the app then answers HTTP. "Ready" for the original's database is timed with the very check
the fixed file gives it (DF701's pg_isready, run in the container), so both stacks are judged alike.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dfix.compose.stack import why_no_engine
from dfix.verify.stack import print_stack_report, report_from_dict

from .conftest import ROOT

APP = ROOT / "tests" / "apps" / "compose_stack"
ENGINE_ROOT = Path(os.environ.get("DFIX_ENGINE_ROOT") or ROOT / ".engine")

pytestmark = pytest.mark.build


def _engine_env() -> dict[str, str]:
    env = dict(os.environ)
    settings = ENGINE_ROOT / "env.sh"
    if "CONTAINERS_CONF" not in env and settings.is_file():
        for line in settings.read_text().splitlines():
            if line.startswith("export ") and "=" in line:
                key, _, value = line[len("export "):].partition("=")
                env[key] = value
    return env


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_verify_shows_the_fixed_stack_waits_for_a_healthy_database_and_answers(tmp_path, capsys):
    missing = why_no_engine()
    if missing:
        pytest.skip(missing)
    env = _engine_env()
    podman = shutil.which("podman")
    for image in ("postgres:17", "redis:8-alpine", "python:3.12-slim"):
        if podman and subprocess.run([podman, "image", "exists", f"docker.io/library/{image}"],
                                      env=env, check=False).returncode:
            pytest.skip(f"no stand-in {image}: run scripts/setup-engine.sh")
    t0 = time.monotonic()
    app_dir = tmp_path / "compose_stack"
    shutil.copytree(APP, app_dir)
    before = _snapshot(app_dir)
    run = subprocess.run([sys.executable, "-m", "dfix", "verify", "--format", "json", str(app_dir)],
                         capture_output=True, text=True, env={**env, "PYTHONPATH": str(ROOT)}, timeout=600, check=False)
    seconds = time.monotonic() - t0
    assert run.returncode == 0, run.stderr + run.stdout
    report = json.loads(run.stdout)
    assert _snapshot(app_dir) == before  # the user's files are only read; the rewrite was staged elsewhere
    assert report["compose_file"] == str(app_dir / "docker-compose.yml") and report["ok"] and report["reasons"] == []
    assert report["changed"] and {"DF701", "DF705"} <= set(report["applied"]), report["applied"]
    # the app, as dfix reads its code: FastAPI's /health on uvicorn's --port
    assert report["apps"] == [{"service": "app", "dockerfile": str(app_dir / "Dockerfile"), "port": 8000,
                               "route": "/health", "route_from": "code", "depends_on": ["db", "cache"]}]

    original, rewrite = report["original"], report["rewrite"]
    assert original["up"] and rewrite["up"]
    # the original: no healthchecks, so the short form only orders the starts; the app was started while
    # PostgreSQL was still being made, and died on the connection
    services = original["services"]
    app, db = services["app"], services["db"]
    assert db["ready_by"] == "ready" and services["cache"]["ready_by"] == "ready"  # timed by pg_isready / redis-cli
    assert app["started"] < db["ready"], services
    assert app["exit_code"] not in (None, 0) and app["state"] != "running", app
    seen = original["apps"]["app"]
    dependency = {d["service"]: d for d in seen["dependencies"]}
    assert dependency["db"]["before_ready"] and dependency["db"]["gap"] < 0, seen
    assert not seen["answers"] and seen["status"] is None
    assert "connection" in seen["log"].lower(), seen["log"]

    # the rewrite: DF701's healthchecks on db and cache, DF705's on the app; compose held the app back
    # until both had passed, and the app then answered
    services = rewrite["services"]
    app, db, cache = services["app"], services["db"], services["cache"]
    assert db["ready_by"] == cache["ready_by"] == app["ready_by"] == "healthy", services
    assert db["ready"] is not None and cache["ready"] is not None, services
    assert app["started"] > db["ready"] and app["started"] > cache["ready"], services
    assert app["state"] == "running" and app["exit_code"] is None and app["restarts"] == 0, app
    seen = rewrite["apps"]["app"]
    assert all(not d["before_ready"] and d["gap"] > 0 for d in seen["dependencies"]), seen
    assert seen["answers"] and seen["status"] == 200 and seen["url"].endswith(":8000/health"), seen
    assert seen["body"] == '{"database":"app","cache":true}', seen
    # DF705's healthcheck, run as Docker runs a CMD test (podman 4.3's Docker API splits the test's words on
    # spaces, podman#26519, so its own `healthcheck run` cannot judge it)
    assert seen["healthcheck"] == "passes", seen
    assert seen["log"] is None

    # the text report says the same from the same facts
    print_stack_report(report_from_dict(report))
    text = capsys.readouterr().out
    gap_before, gap_after = -dependency["db"]["gap"], next(d["gap"] for d in seen["dependencies"] if d["service"] == "db")
    assert f"original: app started {gap_before:.1f} s before db was ready" in text, text
    assert f"rewrite: app started {gap_after:.1f} s after db was healthy" in text, text
    assert "GET /health answers 200; its healthcheck passes" in text, text
    assert text.rstrip().endswith("verified: the rewritten stack's app answers once its dependencies are ready"), text
    with capsys.disabled():
        print(f"\nstack verify: original app started {gap_before:.1f} s before its database was ready; fixed app "
              f"{gap_after:.1f} s after its database was healthy; dfix verify {seconds:.1f} s")
