"""`dfix verify`, for real: every example is built twice (original and rewrite), run, probed over HTTP
and inspected with the engine that scripts/setup-engine.sh installs (podman, local stand-in bases).

These need the engine; without it they fail rather than skip, as the README's test command sets it up.
Deselect them with `-m "not build"` on a machine that cannot run it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from dfix import verify as verify_mod
from dfix.verify import app as verify_app, run as verify_run
from dfix.verify.compare import _judge
from dfix.verify import Engine, ImageStats, VerifyError, VerifyReport, engine_env, runs_as_non_root, shrinks_by, verify

from .conftest import EXAMPLES, NO_SHARED, ROOT, SHARED_EXAMPLES, same_files

ENGINE_ROOT = Path(os.environ.get("DFIX_ENGINE_ROOT") or ROOT / ".engine")

POETRY_OFFLINE = pytest.mark.skip(reason="does not build offline: poetry asks the registry for per-version JSON "
                                         "metadata the proxy does not serve (shared/examples/README.md)")
SAMPLE_APPS = ["fastapi-naive", "flask-gunicorn", "django-postgres", "uv-api", "already-good", "poetry-api"]


def _sample_apps() -> list:
    """The shared sample apps as copied into examples/, and ../shared's own where they differ from the copy."""
    params = []
    for app in SAMPLE_APPS:
        marks = [POETRY_OFFLINE] if app == "poetry-api" else []
        params.append(pytest.param(EXAMPLES / app, id=f"examples/{app}", marks=marks))
        shared = SHARED_EXAMPLES / app
        if not shared.is_dir():
            shared_marks = [pytest.mark.skip(reason=NO_SHARED)]
        elif same_files(shared, EXAMPLES / app):
            shared_marks = marks or [pytest.mark.skip(reason=f"the same files as examples/{app}, which is built")]
        else:
            shared_marks = marks
        params.append(pytest.param(shared, id=f"shared/{app}", marks=shared_marks))
    return params

# ours: apt build dependencies on bookworm (flask-ldap) and on trixie, whose runtime library names differ
# (trixie-curl-ldap), a Django app, a uv project, Starlette, a non-Python base
OWN_APPS = ["flask-ldap", "trixie-curl-ldap", "django-gunicorn", "uv-worker-api", "starlette-api", "debian-static"]

TINY_SERVER = '''\
import http.server

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

http.server.HTTPServer(("0.0.0.0", {port}), Handler).serve_forever()
'''


@pytest.fixture(scope="session")
def env() -> dict[str, str]:
    if not (ENGINE_ROOT / "env.sh").is_file():
        pytest.fail(f"no engine under {ENGINE_ROOT}: run scripts/setup-engine.sh (or deselect with -m 'not build')")
    return engine_env(ENGINE_ROOT)


@pytest.fixture(scope="session")
def podman(env) -> Engine:
    return Engine.find("podman", env=env)


def tree(root: Path) -> dict[str, tuple[str, int, int]]:
    """Content, mode and mtime of every file: verify must leave the user's context exactly as it was."""
    return {
        str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mode, p.stat().st_mtime_ns)
        for p in sorted(root.rglob("*")) if p.is_file()
    }


def listing(engine: Engine, *args: str) -> str:
    """The output of a podman listing (`images -a`, `ps -a`). Podman 4.3 fails one now and then while
    another process removes an image ("checking if image ... is dangling: ... image not known"): the tests
    run in parallel, so it is asked again, a few times, before that counts as a failure."""
    for _ in range(5):
        proc = subprocess.run([engine.path, *args], env=engine.env, capture_output=True, text=True)
        if proc.returncode == 0:
            return proc.stdout
        time.sleep(1)
    raise AssertionError(f"podman {' '.join(args)} kept failing: {proc.stderr}")


def podman_build(engine: Engine, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`podman build ARGS`, run again when it met a layer a parallel test's `rmi` just removed (buildah
    before 1.43, buildah#5674: "layer not known"), as dfix.verify's own builds are; any other failure
    is returned as it is."""
    for _ in range(3):
        proc = subprocess.run([engine.path, "build", *args], env=engine.env, capture_output=True, text=True,
                              timeout=timeout)
        if proc.returncode == 0 or "layer not known" not in proc.stdout + proc.stderr:
            break
    return proc


def leftovers(engine: Engine, report: VerifyReport) -> list[str]:
    """Our containers and images still present after verify returned."""
    tags = {s.image for s in (report.original, report.rewrite) if s.image}
    found = []
    found += [line for line in listing(engine, "ps", "-a", "--format", "{{.ID}} {{.Image}}").splitlines()
              if any(t in line for t in tags)]
    for tag in tags:
        exists = subprocess.run([engine.path, "image", "exists", tag], env=engine.env, check=False)
        if exists.returncode == 0:
            found.append(tag)
    return found


def tiny_app(path: Path, port: int, cmd: str | None = None, extra: str = "") -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "server.py").write_text(TINY_SERVER.format(port=port))
    (path / "Dockerfile").write_text(
        "FROM python:3.12-slim\n"
        f"{extra}"
        "COPY server.py /srv/server.py\n"
        f"EXPOSE {port}\n"
        f"CMD {cmd or 'python3 /srv/server.py'}\n"
    )
    return path


def check_example(source: Path, tmp_path: Path, podman: Engine, keep: bool = False, rebuild: bool = True) -> VerifyReport:
    """Verify a copy of an example; with ``keep`` the two images stay for the caller to look into and remove.
    ``rebuild`` measures the rebuild after an app edit: two more builds, for the tests that assert on it."""
    context = tmp_path / source.name
    shutil.copytree(source, context, symlinks=True)
    before = tree(context)
    report = verify(context, podman, keep=keep, rebuild=rebuild)
    assert tree(context) == before, "verify changed the user's files"
    if not keep:
        assert leftovers(podman, report) == []
    for name, stats in (("original", report.original), ("rewrite", report.rewrite)):
        assert stats.builds, f"{name} does not build:\n{stats.build_error}"
        assert stats.status == 200, f"{name} answered {stats.status} ({stats.routes})"
        assert stats.running
        assert stats.rebuild_seconds is not None or not rebuild
    # no larger, up to the user DF302 adds: useradd's files and home (~20 kB, measured with podman history
    # on flask-gunicorn) can show as +0.1 MB where nothing else shrinks (the stand-in's pip keeps no cache)
    assert report.rewrite.size_mb <= report.original.size_mb + 0.1
    assert report.ok, report.reasons
    if report.changed:
        assert runs_as_non_root(report), f"the rewrite runs as uid {report.rewrite.uid}"
    # the numbers the table reports, printed for the run log (pytest -s)
    print(json.dumps({"app": source.name, **{k: [getattr(report.original, k), getattr(report.rewrite, k)]
                      for k in ("size_mb", "layers", "uid", "build_seconds", "rebuild_seconds")}}))
    return report


@pytest.mark.build
@pytest.mark.parametrize("source", _sample_apps())
def test_shared_example_verifies(source, tmp_path, podman):
    app = source.name
    report = check_example(source, tmp_path, podman)
    if app == "already-good":
        assert not report.changed and report.original.healthcheck == "healthy"
        assert report.original.uid == 10001
        return
    # issue #4: the HEALTHCHECK dfix adds from the app's own route reports healthy
    assert report.original.healthcheck is None and report.rewrite.healthcheck == "healthy"
    # issue #3: after one app file changes, the rewrite reuses the dependency install; the original does not
    assert _installs(report.rewrite)[0] is True, report.rewrite.rebuild_steps  # the dependency layer, reused
    assert False in _installs(report.original), report.original.rebuild_steps
    if app == "fastapi-naive":
        # python:3.12 is the full image: its gcc comes with the base, which only DF402 (unsafe) replaces
        assert "gcc" in report.original.compilers and "gcc" in report.rewrite.compilers
    if app == "django-postgres":
        # issue #5: compilers stay in the builder, and the image is at least 30% smaller
        assert report.original.compilers and "gcc" in report.original.compilers
        assert report.rewrite.compilers == [], report.rewrite.compilers
        assert shrinks_by(report, 0.30), (report.original.size_mb, report.rewrite.size_mb)


_INSTALL = re.compile(r"\b(pip3? install|-m pip install|uv sync|poetry install|pipenv install)\b")


def _installs(stats) -> list[bool]:
    """For each dependency-install step of the rebuild, in order: reused from the layer cache or run again."""
    return [cached for step, cached in stats.rebuild_steps if step.startswith("RUN") and _INSTALL.search(step)]


@pytest.mark.build
@pytest.mark.parametrize("app", OWN_APPS)
def test_own_example_verifies(app, tmp_path, podman):
    report = check_example(EXAMPLES / app, tmp_path, podman, rebuild=False)
    if "DF403" in report.applied:
        # issue #5: no compiler in the rewrite, whose runtime libraries (named for the base's Debian release)
        # installed and load: the app imports its compiled extensions before it answers
        assert report.original.compilers and report.rewrite.compilers == [], report.rewrite.compilers


@pytest.mark.build
def test_original_that_upgrades_pip_and_pins_packaging_verifies(tmp_path, podman):
    """Issue 12: the original's `pip install --upgrade pip` and its packaging==24.1 pin build on the stand-in
    as on the official image, since pip there is pip-managed (Debian's pip and python3-packaging were not:
    no RECORD, so pip could not uninstall them). Both images run the packaging the Dockerfile pins."""
    context = tmp_path / "pip-upgrade-api"
    shutil.copytree(EXAMPLES / "pip-upgrade-api", context)
    report = verify(context, podman, keep=True, rebuild=False)  # the rebuild would only time a second pip upgrade
    try:
        assert report.ok, report.reasons
        assert report.changed and "DF105" in report.applied and runs_as_non_root(report)
        for stats in (report.original, report.rewrite):
            assert stats.builds and stats.status == 200 and stats.running, stats
            got = podman._run(["run", "--rm", "--pull=never", "--entrypoint", "pip", stats.image, "show", "packaging"])
            assert got.returncode == 0, got.stderr
            assert "Version: 24.1" in got.stdout.splitlines(), got.stdout
    finally:
        for stats in (report.original, report.rewrite):
            podman.remove_image(stats.image)
    assert leftovers(podman, report) == []


# issue #5: projects whose dependencies compile, installed with a packaging tool (uv sync, pipenv --system,
# poetry with virtualenvs.create false; poetry reads a simple index, the API the offline proxy serves)
TOOL_APPS = [("uv-psycopg-api", "uv"), ("pipenv-mysql-api", "pipenv"), ("poetry-postgres-api", "poetry")]


@pytest.mark.build
@pytest.mark.parametrize(("app", "tool"), TOOL_APPS)
def test_packaging_tool_and_compilers_stay_in_the_builder(app, tool, tmp_path, podman):
    report = check_example(EXAMPLES / app, tmp_path, podman, keep=True, rebuild=False)
    try:
        assert "DF403" in report.applied, report.applied
        assert report.original.compilers and "gcc" in report.original.compilers
        assert report.rewrite.compilers == [], report.rewrite.compilers
        # the app answered, so its extension found the runtime library the rewrite installed instead of -dev
        found = {}
        for name, stats in (("original", report.original), ("rewrite", report.rewrite)):
            probe = subprocess.run([podman.path, "run", "--rm", "--pull=never", "--network", "host", "--entrypoint",
                                    "sh", stats.image, "-c", f"command -v {tool}"], env=podman.env,
                                   capture_output=True, text=True, timeout=120)
            found[name] = probe.returncode == 0
        assert found == {"original": True, "rewrite": False}, found
    finally:
        for stats in (report.original, report.rewrite):
            podman.remove_image(stats.image)
    assert leftovers(podman, report) == []


@pytest.mark.build
def test_cli_prints_json_and_exits_0(tmp_path, env):
    app = tiny_app(tmp_path / "tiny", 8091, extra="RUN apt-get update\nRUN apt-get install -y procps\n")
    proc = subprocess.run([sys.executable, "-m", "dfix", "verify", "--format", "json", str(app)],
                          capture_output=True, text=True, env={**env, "PYTHONPATH": str(ROOT)}, check=False)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    data = json.loads(proc.stdout)
    assert data["changed"] and data["ok"] and "DF103" in data["applied"]
    assert data["original"]["status"] == data["rewrite"]["status"] == 200
    assert data["original"]["route"] == "/health" and data["original"]["port"] == 8091
    assert data["rewrite"]["size_mb"] < data["original"]["size_mb"]  # no recommends, no apt lists


@pytest.mark.build
def test_cli_table(tmp_path, env):
    app = tiny_app(tmp_path / "tiny", 8092)
    proc = subprocess.run([sys.executable, "-m", "dfix", "verify", str(app)], capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(ROOT), "COLUMNS": "120"}, check=False)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert "200 /health" in proc.stdout and "verified" in proc.stdout


@pytest.mark.build
def test_original_that_does_not_build_is_an_error_and_cleaned_up(tmp_path, podman):
    """Nothing to compare with: an error of the input (exit 2), not "the rewrite does not build" (exit 1)."""
    app = tiny_app(tmp_path / "broken", 8093, extra="RUN apt-get update\nRUN exit 3\n")
    name = f"dfix-verify-broken-{uuid.uuid4().hex[:8]}"
    with pytest.raises(verify_mod.OriginalBuildError, match="the original does not build: .*exit status 3") as caught:
        verify(app, podman, name=name)
    assert "RUN exit 3" in caught.value.log
    images = listing(podman, "images", "-a", "--format", "{{.Repository}}")
    assert name not in images


def verify_cli(app: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dfix", "verify", *args, str(app)], capture_output=True, text=True,
                          env={**env, "PYTHONPATH": str(ROOT)}, check=False, timeout=300)


@pytest.mark.build
@pytest.mark.parametrize("output_format", ["text", "json"])
def test_cli_original_whose_run_fails_exits_2(tmp_path, env, output_format):
    app = tmp_path / "run-fails"
    app.mkdir()
    (app / "Dockerfile").write_text("FROM python:3.12-slim\nRUN apt-get update\nRUN false\n")
    proc = verify_cli(app, env, "--format", output_format)
    assert proc.returncode == 2, proc.stderr + proc.stdout
    assert proc.stdout == ""
    first, *log = proc.stderr.splitlines()
    assert first.startswith(f"dfix: error: {app / 'Dockerfile'}: the original does not build: "), first
    assert 'STEP "RUN false"' in first and "rewrite" not in proc.stderr
    assert any("RUN false" in line for line in log)  # the end of the build log follows the one line


@pytest.mark.build
def test_cli_original_whose_base_image_is_not_available_exits_2(tmp_path, env):
    app = tmp_path / "no-base"
    app.mkdir()
    (app / "Dockerfile").write_text("FROM registry.invalid/dfix/no-such-image:1\nRUN apt-get update\n")
    proc = verify_cli(app, env)
    assert proc.returncode == 2, proc.stderr + proc.stdout
    first = proc.stderr.splitlines()[0]
    assert first.startswith(f"dfix: error: {app / 'Dockerfile'}: the original does not build: "), first
    assert "registry.invalid/dfix/no-such-image:1" in first and "rewrite" not in proc.stderr


@pytest.mark.build
def test_app_that_exits_is_not_waited_for(tmp_path, podman):
    app = tiny_app(tmp_path / "exits", 8094, cmd='["python3", "-c", "raise SystemExit(3)"]',
                   extra="RUN apt-get update\n")
    report = verify(app, podman, rebuild=False)
    for stats in (report.original, report.rewrite):
        assert stats.ran and stats.running is False and stats.status is None
        assert stats.uid is not None  # measured in a one-shot container, since the app is gone
    assert report.original.uid == 0
    assert report.ok and "neither image answered HTTP" in report.reasons[0]
    assert leftovers(podman, report) == []


@pytest.mark.build
def test_keep_leaves_the_two_images(tmp_path, podman):
    app = tiny_app(tmp_path / "keep", 8095, extra="RUN apt-get update\n")
    report = verify(app, podman, keep=True, rebuild=False)
    try:
        assert sorted(report.kept) == sorted([report.original.image, report.rewrite.image])
        for tag in report.kept:
            assert subprocess.run([podman.path, "image", "exists", tag], env=podman.env).returncode == 0
    finally:
        for stats in (report.original, report.rewrite):
            podman.remove_image(stats.image)
    assert leftovers(podman, report) == []


@pytest.mark.build
def test_buildah_builds_but_does_not_run(tmp_path, env, podman):
    app = tiny_app(tmp_path / "buildah", 8096, extra="RUN apt-get update\n")
    report = verify(app, Engine.find("buildah", env=env), rebuild=False)
    assert report.engine == "buildah" and report.ok
    assert report.original.builds and report.rewrite.builds and not report.rewrite.ran
    assert report.original.size_mb > 0 and report.original.layers >= 2
    assert any(r.startswith("not run: buildah") for r in report.reasons)
    assert leftovers(podman, report) == []  # one store: podman sees what buildah left


@pytest.mark.build
def test_busy_port_is_a_one_line_error(tmp_path, podman, monkeypatch):
    monkeypatch.setattr(verify_run, "PORT_WAIT", 1.0)
    app = tiny_app(tmp_path / "busy", 8097)
    name = f"dfix-verify-busy-{uuid.uuid4().hex[:8]}"
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 8097))
        holder.listen()
        with pytest.raises(VerifyError, match="port 8097 is in use"):
            verify(app, podman, rebuild=False, name=name)
    images = listing(podman, "images", "-a", "--format", "{{.Repository}}")
    assert name not in images  # the aborted run removed what it had built


def test_bad_input_is_one_line(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = subprocess.run([sys.executable, "-m", "dfix", "verify", str(empty)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert proc.returncode == 2
    assert proc.stderr == f"dfix: error: {empty}: no Dockerfile, Containerfile or Compose file in this directory\n"
    (empty / "Dockerfile").write_bytes(b"FROM x\n\x00")
    with pytest.raises(VerifyError, match="binary file"):
        verify(empty)
    (empty / "Dockerfile").write_text("FROM python:3.12-slim\n")
    with pytest.raises(VerifyError, match="unknown engine 'rkt'"):
        verify(empty, "rkt")


def test_judgement():
    def stats(**kw) -> ImageStats:
        return ImageStats(**{"builds": True, "ran": True, "running": True, "status": 200, **kw})

    def judged(before: ImageStats, after: ImageStats) -> VerifyReport:
        report = VerifyReport("c", "c/Dockerfile", "podman", True, [], before, after)
        _judge(report, Engine("podman", "/usr/bin/podman"))
        return report

    assert judged(stats(), stats()).ok
    assert judged(stats(status=404), stats(status=200)).ok
    assert judged(stats(builds=False, ran=False, status=None), stats()).ok
    assert judged(stats(), stats(status=500)).reasons == ["the rewrite answers 500, the original 200"]
    assert not judged(stats(), stats(builds=False)).ok
    assert not judged(stats(healthcheck="healthy"), stats(healthcheck="unhealthy")).ok
    assert not judged(stats(status=None), stats(status=None, running=False)).ok
    assert runs_as_non_root(judged(stats(), stats(uid=10001)))
    assert not runs_as_non_root(judged(stats(), stats(uid=0)))
    assert shrinks_by(judged(stats(size_mb=835.0), stats(size_mb=500.0)), 0.30)
    assert not shrinks_by(judged(stats(size_mb=835.0), stats(size_mb=728.0)), 0.30)


def test_ports_and_app_file(tmp_path):
    assert verify_mod.ports_of({"ExposedPorts": {"8000/tcp": {}, "53/udp": {}}}) == [8000]
    assert verify_mod.ports_of({"Cmd": ["/bin/sh", "-c", "gunicorn --bind 0.0.0.0:5001 app:app"]}) == [5001]
    assert verify_mod.ports_of({"Cmd": ["uvicorn", "a:app", "--port", "8081"], "ExposedPorts": {"8081/tcp": {}}}) == [8081]
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "main.py").write_text("app = 1\n")
    (tmp_path / "setup.py").write_text("")
    found = verify_app._app_file(tmp_path, {"Cmd": ["uvicorn", "pkg.main:app"]})
    assert found == tmp_path / "src" / "pkg" / "main.py"
    assert verify_app._app_file(tmp_path, {}) == tmp_path / "src" / "pkg" / "main.py"
