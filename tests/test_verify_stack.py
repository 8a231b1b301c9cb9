"""`dfix verify` on a Compose file or a folder holding one: which file it brings up, and the errors that
stop it before any container starts (one line, exit 2). The stack brought up for real is
tests/test_compose_stack.py (a build test)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dfix.verify import compose_file_in

from .conftest import ROOT

APP = ROOT / "tests" / "apps" / "compose_stack"


def _verify(*args: str, path_env: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if path_env is not None:
        env["PATH"] = path_env
    return subprocess.run([sys.executable, "-m", "dfix", "verify", *args], capture_output=True, text=True,
                          env=env, timeout=60, check=False)


def test_a_folder_without_a_compose_file_or_dockerfile_is_one_line(tmp_path):
    proc = _verify(str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr == f"dfix: error: {tmp_path}: no Dockerfile, Containerfile or Compose file in this directory\n"
    assert proc.stdout == ""


def test_a_compose_file_that_is_not_yaml_is_one_line(tmp_path):
    (tmp_path / "compose.yaml").write_text("services: [\n")
    proc = _verify(str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"dfix: error: {tmp_path / 'compose.yaml'}: not valid YAML: "), proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stdout == ""


def test_a_stack_without_an_app_built_here_has_nothing_to_probe(tmp_path):
    (tmp_path / "docker-compose.yml").write_text("services:\n  db:\n    image: postgres:17\n")
    proc = _verify(str(tmp_path / "docker-compose.yml"))
    assert proc.returncode == 2
    assert proc.stderr == (f"dfix: error: {tmp_path / 'docker-compose.yml'}: no service is built from a Dockerfile "
                           "in its folder: no app to probe\n")


def test_no_engine_is_one_line_naming_the_compose_file(tmp_path):
    app = tmp_path / "app"
    shutil.copytree(APP, app)
    bare = tmp_path / "bin"
    bare.mkdir()
    proc = _verify(str(app), path_env=str(bare))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"dfix: error: {app / 'docker-compose.yml'}: no container engine: "), proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stdout == ""
    podman = shutil.which("podman")
    if podman:  # podman alone cannot wait for healthy services: docker-compose drives it
        (bare / "podman").symlink_to(podman)
        proc = _verify(str(app), path_env=str(bare))
        assert proc.returncode == 2
        assert proc.stderr.startswith(f"dfix: error: {app / 'docker-compose.yml'}: podman is here but "
                                      "docker-compose is not"), proc.stderr
        assert proc.stderr.count("\n") == 1


def test_keep_is_for_a_dockerfile(tmp_path):
    shutil.copytree(APP, tmp_path / "app")
    proc = _verify("--keep", str(tmp_path / "app"))
    assert proc.returncode == 2
    assert proc.stderr == "dfix: error: --keep keeps a Dockerfile's two images; a Compose stack is always torn down\n"


def test_the_main_file_is_verified_and_the_override_left_out(tmp_path):
    for name in ("docker-compose.yml", "docker-compose.override.yml", "Dockerfile"):
        (tmp_path / name).write_text("services: {}\n")
    assert compose_file_in(tmp_path) == (tmp_path / "docker-compose.yml", [tmp_path / "docker-compose.override.yml"])
    # Compose's own order of default names
    (tmp_path / "compose.yaml").write_text("services: {}\n")
    assert compose_file_in(tmp_path)[0] == tmp_path / "compose.yaml"


def test_without_a_default_name_the_one_production_file_is_verified(tmp_path):
    (tmp_path / "compose.dev.yml").write_text("services: {}\n")
    (tmp_path / "compose.prod.yml").write_text("services: {}\n")
    assert compose_file_in(tmp_path) == (tmp_path / "compose.prod.yml", [tmp_path / "compose.dev.yml"])
    (tmp_path / "compose.staging.yml").write_text("services: {}\n")
    proc = _verify(str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr == (f"dfix: error: {tmp_path}: 3 Compose files and no compose.yaml or docker-compose.yml: name "
                           "the one to verify (compose.dev.yml, compose.prod.yml, compose.staging.yml)\n")


def test_a_dockerfile_path_is_still_an_image_verify(tmp_path):
    assert compose_file_in(APP / "Dockerfile") is None
    assert compose_file_in(tmp_path) is None
    assert compose_file_in(Path(tmp_path / "docker-compose.yml")) == (tmp_path / "docker-compose.yml", [])


def _run(app_started: float, db_ready: float | None, status: int | None, state: str = "running") -> dict:
    gap = None if db_ready is None else round(app_started - db_ready, 1)
    return {
        "up": True, "up_error": None, "up_seconds": 12.0,
        "services": {
            "app": {"started": app_started, "ready": None, "ready_by": "started", "state": state, "health": "",
                    "exit_code": None if state == "running" else 1, "restarts": 0},
            "db": {"started": 1.0, "ready": db_ready, "ready_by": "ready", "state": "running", "health": "",
                   "exit_code": None, "restarts": 0},
        },
        "apps": {"app": {"dependencies": [{"service": "db", "ready_by": "ready", "ready": db_ready,
                                           "before_ready": db_ready is None or app_started < db_ready, "gap": gap}],
                         "url": None, "status": status, "answer_error": None if status else "no answer",
                         "body": None, "answers": status is not None and status < 500, "healthcheck": None,
                         "log": None}},
    }


def test_the_rewrite_decides_the_verdict_and_says_why(capsys):
    from dfix.verify.stack import _judge, print_stack_report, report_from_dict

    base = {"compose_file": "/x/compose.yaml", "project_directory": "/x", "engine": "podman, docker-compose",
            "changed": True, "applied": ["DF701"], "not_used": [], "ok": False, "reasons": [],
            "apps": [{"service": "app", "dockerfile": "/x/Dockerfile", "port": 8000, "route": "/health",
                      "route_from": "code", "depends_on": ["db"]}]}
    # the original's failure is shown, not held against the rewrite
    report = report_from_dict({**base, "original": _run(1.5, 9.0, None, "exited"), "rewrite": _run(9.6, 9.0, 200)})
    _judge(report)
    assert report.ok and report.reasons == []
    # a rewrite that still starts the app first, or whose app answers 503, is not verified
    report = report_from_dict({**base, "original": _run(1.5, 9.0, None, "exited"), "rewrite": _run(2.0, 9.0, 503)})
    _judge(report)
    assert not report.ok
    assert report.reasons == ["app started before db was ready (7.0 s)", "app does not answer GET /health: answers 503"]
    report = report_from_dict({**base, "original": _run(1.5, 9.0, None, "exited"), "rewrite": _run(2.0, None, None)})
    _judge(report)
    assert report.reasons == ["app started before db was ready (not ready within the wait)",
                              "app does not answer GET /health: no answer"]
    print_stack_report(report)
    text = capsys.readouterr().out
    assert "original: app started 7.5 s before db was ready; exited 1; GET /health: no answer" in text, text
    assert "rewrite: app started before db was ready (it was not, within the wait); running; GET /health: no answer" \
        in text, text
    assert "worse: app started before db was ready (not ready within the wait)" in text
    assert text.rstrip().endswith("not verified")
