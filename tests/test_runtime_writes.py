"""DF302 and what the container writes at start (issue 12, item 3), without building: the rewrite hands the
environment `uv run` syncs, and what build-time RUNs write in the app's folder, to the user in the layer that
wrote it; where it cannot, the finding is reported, not fixed. tests/test_runtime_writes_build.py builds them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from dfix.contract import contract, differences
from dfix.syntax import tokenize

from .test_cli import dfix

BUILDS = Path(__file__).resolve().parent / "builds"


def test_uv_run_sync_hands_each_layer_its_own_files(tmp_path):
    """All rules: DF201 splits the sync in two; the first hands the environment over, the second only what it
    added (a second `chown -R` would copy every dependency into its layer again), and a second run agrees."""
    context = tmp_path / "app"
    shutil.copytree(BUILDS / "uv-run-sync", context)
    proc = dfix("--write", context / "Dockerfile")
    assert proc.returncode == 0, proc.stderr
    text = (context / "Dockerfile").read_text()
    runs = [line for line in text.splitlines() if line.startswith("RUN uv sync")]
    assert runs == [
        "RUN uv sync --no-cache --no-install-project --no-dev && chown -R 10001:10001 /app/.venv",
        "RUN uv sync --no-cache --no-dev && find /app/.venv ! -user 10001 -exec chown -h 10001:10001 {} +",
    ]
    assert "USER 10001" in text and 'CMD ["uv", "run", "python", "server.py"]' in text  # the sync stays
    again = dfix("--check", "--format", "json", context / "Dockerfile")
    assert again.returncode == 0, again.stdout + again.stderr
    record = json.loads(again.stdout)["files"][0]
    assert not record["changed"] and not record["applied"]
    assert not [f for f in record["reported"] if f["code"] in ("DF201", "DF302")], record["reported"]


def test_env_built_in_a_parent_stage_is_reported_not_fixed(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    original = ("FROM python:3.12-slim AS base\nRUN pip install uv\nWORKDIR /app\nCOPY . .\nRUN uv sync --frozen\n\n"
                "FROM base\nCMD [\"uv\", \"run\", \"app.py\"]\n")
    dockerfile.write_text(original)
    proc = dfix("--write", "--select", "DF302", dockerfile)
    assert proc.returncode == 0, proc.stderr
    assert dockerfile.read_text() == original
    assert "`uv run` syncs /app/.venv at start, which stage base builds as root" in proc.stdout + proc.stderr


def test_the_guard_sees_a_hand_over_dropped():
    """The hand-over is its own facet: DF302 declares it; any other rule that lost it would be held back."""
    with_it = tokenize("FROM python:3.12-slim\nWORKDIR /app\nRUN uv sync && chown -R 10001:10001 /app/.venv\n")
    without = tokenize("FROM python:3.12-slim\nWORKDIR /app\nRUN uv sync\n")
    assert differences(contract(without), contract(with_it)) == ["final.runtime-ownership"]
    assert differences(contract(without), contract(with_it), frozenset({"runtime-ownership"})) == []
