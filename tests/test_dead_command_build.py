"""DF508 for real: each dead-command fixture's before and after are built with podman, and the images'
command and entrypoint are the same (the engine, not the contract check, says what reaches the image)."""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from .conftest import FIXTURES
from .test_verify_build import podman_build, env, listing, podman  # noqa: F401  (session fixtures: the engine)

CASES = sorted((FIXTURES / "dead-command").iterdir())


@pytest.mark.build
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_image_runs_the_same_command(case, podman):  # noqa: F811
    configs = []
    for name in ("before", "after"):
        tag = f"localhost/dfix-dead-command-{uuid.uuid4().hex[:8]}:{name}"
        build = podman_build(podman, "--format", "docker", "--pull=never", "-q", "-f",
                             str(case / f"{name}.Dockerfile"), "-t", tag, str(case))
        assert build.returncode == 0, build.stderr
        try:
            config = json.loads(listing(podman, "image", "inspect", tag))[0]["Config"]
        finally:
            subprocess.run([podman.path, "rmi", tag], env=podman.env, capture_output=True)
        configs.append((config.get("Entrypoint"), config.get("Cmd")))
    assert configs[0] == configs[1], configs
