"""Issue 15's live stack test: the guide's shape (a FastAPI app that connects to PostgreSQL and Redis at
start-up, a docker-compose.yml with a plain depends_on list and no healthchecks) brought up for real
before and after `dfix --write`, with the postgres and redis stand-ins scripts/setup-engine.sh makes.

What the containers' start times and health states must show: the original starts the app before the
database is ready (so it dies); the fixed file holds the app back until the database's healthcheck
passes, and the app then answers HTTP. "Ready" for the original's database is timed with the very check
the fixed file gives it (its healthcheck, run in the container), so both stacks are judged alike.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from dfix.compose.stack import Stack, open_engine, why_no_engine

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


@pytest.fixture(scope="module")
def engine():
    missing = why_no_engine()
    if missing:
        pytest.skip(missing)
    env = _engine_env()
    for image in ("postgres:17", "redis:8-alpine", "python:3.12-slim"):
        podman = shutil.which("podman")
        if podman and subprocess.run([podman, "image", "exists", f"docker.io/library/{image}"], env=env).returncode:
            pytest.skip(f"no stand-in {image}: run scripts/setup-engine.sh")
    with open_engine(env) as opened:
        yield opened


def _pg_probe(compose_file: Path) -> list[str]:
    """The fixed file's database healthcheck as an exec command (CMD-SHELL: through sh, with compose's $$ undone)."""
    test = yaml.safe_load(compose_file.read_text())["services"]["db"]["healthcheck"]["test"]
    assert test[0] == "CMD-SHELL", test
    return ["sh", "-c", test[1].replace("$$", "$")]


def test_the_fixed_stack_waits_for_a_healthy_database_and_answers(engine, tmp_path):
    t0 = time.monotonic()
    fixed = tmp_path / "fixed"
    shutil.copytree(APP, fixed)
    run = subprocess.run([sys.executable, "-m", "dfix", "--write", str(fixed / "docker-compose.yml")],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert run.returncode == 0, run.stderr + run.stdout
    assert "DF701" in run.stdout and "DF705" in run.stdout, run.stdout
    probe = {"db": _pg_probe(fixed / "docker-compose.yml")}

    fixed_seconds = time.monotonic() - t0
    original = tmp_path / "original"
    shutil.copytree(APP, original)
    with Stack(engine, original / "docker-compose.yml", probes=probe) as before:
        up = before.up()
        assert up.returncode == 0, before.up_output
        assert before.wait_for(lambda s: "app" in s.services and s.services["app"].state == "exited"
                               and s.services["db"].ready is not None, timeout=90), before.services
        app, db = before.services["app"], before.services["db"]
        # the short form only orders the starts: the app was started while PostgreSQL was still being made
        assert app.started < db.ready, (app, db)
        assert not db.has_healthcheck and db.health == ""
        assert app.exit_code not in (None, 0), app
        assert "connection" in before.logs("app").lower()
        original_seconds = time.monotonic() - t0 - fixed_seconds
        before_gap = db.ready - app.started

        with Stack(engine, fixed / "docker-compose.yml", probes=probe) as after:
            up = after.up()
            assert up.returncode == 0, after.up_output
            app, db, cache = (after.services[name] for name in ("app", "db", "cache"))
            assert db.has_healthcheck and cache.has_healthcheck and app.has_healthcheck
            # compose held the app back until both healthchecks had passed
            assert db.healthy is not None and cache.healthy is not None, (db, cache)
            assert app.started > db.healthy and app.started > cache.healthy, (app, db, cache)
            after_gap = app.started - db.healthy
            assert after.wait_for(lambda s: s.services["app"].state == "running", timeout=10), app
            body = _get(f"http://{after.address('app')}:8000/health", timeout=30)
            assert body == '{"database":"app","cache":true}', body
            # the app's healthcheck DF705 wrote, run as Docker runs a CMD test (podman 4.3's Docker API
            # splits the test's words on spaces, podman#26519, so its own `healthcheck run` cannot judge it)
            test = yaml.safe_load((fixed / "docker-compose.yml").read_text())["services"]["app"]["healthcheck"]["test"]
            assert test[0] == "CMD", test
            check = after.exec("app", *test[1:])
            assert check.returncode == 0, check.stderr + after.logs("app")
            assert after.services["app"].exit_code is None
    print(f"\nstack test: original app started {before_gap:.1f} s before its database was ready; fixed app "
          f"{after_gap:.1f} s after its database was healthy; dfix {fixed_seconds:.1f} s, original stack "
          f"{original_seconds:.1f} s, total {time.monotonic() - t0:.1f} s")


def _get(url: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
