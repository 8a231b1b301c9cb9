"""DF302 for real, where the app writes at start (issue 12, item 3): what the container writes when it starts
must stay writable by the user DF302 switches to.

- a uv project started with `uv run`, which syncs the environment (dev group included) at start into the
  `.venv` a RUN made at build time as root: it exited at once with `Permission denied`;
- a Django app with its SQLite file in the working directory, migrated at build time and again at start:
  the database stayed root's, and the first request that saved a session got a 500.

Each is built twice (original and rewrite) by `dfix verify`, run and probed: the rewrite must answer like the
original, as uid 10001. Needs the engine scripts/setup-engine.sh installs; about a minute each on 2 cores.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dfix.verify import runs_as_non_root, verify

from .test_verify_build import env, leftovers, podman  # noqa: F401  (session fixtures: the engine)

APPS = Path(__file__).resolve().parent / "builds"


def _verified(app: str, tmp_path: Path, podman) -> tuple[object, str]:  # noqa: F811
    context = tmp_path / app
    shutil.copytree(APPS / app, context)
    report = verify(context, podman, rebuild=False)
    assert leftovers(podman, report) == []
    assert report.original.builds, report.original.build_error
    assert report.rewrite.builds, report.rewrite.build_error
    assert report.original.status == 200 and report.original.running, report.original.routes
    # the numbers for the run log (pytest -s): what the hand-over costs in size
    print(json.dumps({"app": app, "size_mb": [report.original.size_mb, report.rewrite.size_mb],
                      "layers": [report.original.layers, report.rewrite.layers]}))
    return report, context.joinpath("Dockerfile").read_text()


@pytest.mark.build
def test_uv_run_syncs_at_start_as_the_user(tmp_path, podman):  # noqa: F811
    report, _ = _verified("uv-run-sync", tmp_path, podman)
    assert "DF302" in report.applied, report.applied
    assert report.rewrite.running and report.rewrite.status == 200, (report.rewrite.status, report.rewrite.routes)
    assert report.ok, report.reasons
    assert runs_as_non_root(report) and report.rewrite.uid == 10001
    # the environment is handed over in the layers that wrote it, not copied again by a chown layer: the
    # rewrite (a user, the venv handed over) is no larger than the original beyond useradd's files
    assert report.rewrite.size_mb <= report.original.size_mb + 0.1, (report.original.size_mb, report.rewrite.size_mb)


@pytest.mark.build
def test_django_sqlite_in_the_working_directory_stays_writable(tmp_path, podman):  # noqa: F811
    report, _ = _verified("django-sqlite", tmp_path, podman)
    assert "DF302" in report.applied, report.applied
    assert report.rewrite.running and report.rewrite.status == 200, (report.rewrite.status, report.rewrite.routes)
    assert report.ok, report.reasons
    assert runs_as_non_root(report) and report.rewrite.uid == 10001
    assert report.rewrite.size_mb <= report.original.size_mb + 0.1, (report.original.size_mb, report.rewrite.size_mb)
