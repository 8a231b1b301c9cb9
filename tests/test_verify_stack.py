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
