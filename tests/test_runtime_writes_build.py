"""DF302 for real, where the app writes at start (issue 12, item 3): what the container writes when it starts
must stay writable by the user DF302 switches to.

- a uv project started with `uv run`, which syncs the environment (dev group included) at start into the
  `.venv` a RUN made at build time as root: it exited at once with `Permission denied`;
- a Django app with its SQLite file in the working directory, migrated at build time and again at start:
  the database stayed root's, and the first request that saved a session got a 500.

Each goes through `dfix --write --verify`: the original and the candidate are built, run and probed, and the
candidate must answer like the original, as uid 10001. Needs the engine scripts/setup-engine.sh installs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_verify_build import env  # noqa: F401  (session fixture: the engine)
from .test_verify_fix_build import write_verified

APPS = Path(__file__).resolve().parent / "builds"


def _verified(app: str, tmp_path: Path, env) -> tuple[dict, str]:  # noqa: F811
    """`dfix --write --verify` on a copy of the app: the first candidate, with DF302, must be the one written
    (a fallback that drops the non-root user would hide the bug), built, run and probed like the original."""
    record, context = write_verified(env, APPS / app, tmp_path)
    check = record["verify"]
    (chosen,) = check["attempts"]
    assert chosen["ok"] and check["written"] == chosen["name"], check
    assert "DF302" in chosen["rules"], chosen["rules"]
    assert chosen["uid"] == 10001
    assert chosen["routes"] == check["original_routes"] and chosen["routes"].get("/") == 200, check
    # the environment is handed over in the layers that wrote it, not copied again by a chown layer: the
    # rewrite (a user, the venv handed over) is no larger than the original beyond useradd's files
    assert chosen["size_mb"] <= check["original_size_mb"] + 0.1, (check["original_size_mb"], chosen["size_mb"])
    return check, (context / "Dockerfile").read_text()


@pytest.mark.build
def test_uv_run_syncs_at_start_as_the_user(tmp_path, env):  # noqa: F811
    _, written = _verified("uv-run-sync", tmp_path, env)
    assert "chown -R 10001:10001 /app/.venv" in written and 'CMD ["uv", "run"' in written


@pytest.mark.build
def test_django_sqlite_in_the_working_directory_stays_writable(tmp_path, env):  # noqa: F811
    _, written = _verified("django-sqlite", tmp_path, env)
    assert "manage.py migrate" in written and "-exec chown -h 10001:10001" in written
