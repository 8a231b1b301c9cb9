"""DF202 for real: on the bookworm and trixie stand-ins, the Dockerfile with its small RUNs joined builds
where the original builds, with fewer layers, and leaves the same files behind (modes, owners, contents,
and what a later RUN deleted stays deleted)."""

from __future__ import annotations

import subprocess
import uuid

import pytest

from dfix.engine import Options, fix_text

from .test_verify_build import env, podman  # noqa: F401  (session fixtures: the engine)

ORIGINAL = """\
FROM {base}
RUN mkdir -p /srv/data/cache
RUN chmod 0750 /srv/data
# the state file the app reads at start
RUN echo ready > /srv/data/state && chown nobody /srv/data/state
RUN touch /srv/data/cache/tmp
RUN rm /srv/data/cache/tmp
CMD ["sh"]
"""
# what the image holds, read inside it: the same text from both images means the same files
INSPECT = "stat -c '%n %a %U %s' /srv/data /srv/data/state /srv/data/cache && cat /srv/data/state && ls -A /srv/data/cache"


def _build(podman, folder, text: str, tags: list[str]) -> str:  # noqa: F811
    tag = f"localhost/dfix-join-{uuid.uuid4().hex[:10]}:test"
    dockerfile = folder / f"{tag.split('-')[-1].replace(':', '-')}.Dockerfile"
    dockerfile.write_text(text)
    proc = subprocess.run([podman.path, "build", "--pull=never", "-f", str(dockerfile), "-t", tag, str(folder)],
                          env=podman.env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    tags.append(tag)
    return tag


def _run(podman, tag: str) -> str:  # noqa: F811
    proc = subprocess.run([podman.path, "run", "--rm", "--network", "none", tag, "sh", "-c", INSPECT],
                          env=podman.env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def _layers(podman, tag: str) -> int:  # noqa: F811
    proc = subprocess.run([podman.path, "image", "inspect", "--format", "{{len .RootFS.Layers}}", tag],
                          env=podman.env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout.strip())


@pytest.mark.build
@pytest.mark.parametrize("base", ["python:3.12-slim-bookworm", "python:3.12-slim-trixie"])
def test_joined_runs_build_the_same_files_in_fewer_layers(base, podman, tmp_path):  # noqa: F811
    original = ORIGINAL.format(base=base)
    result = fix_text(original, "Dockerfile", Options(select=frozenset({"DF202"})))
    assert result.error is None and result.withheld is None
    assert result.fixed.count("\nRUN ") < original.count("\nRUN "), result.fixed
    tags: list[str] = []
    try:
        before = _build(podman, tmp_path, original, tags)
        after = _build(podman, tmp_path, result.fixed, tags)
        assert _run(podman, after) == _run(podman, before)
        assert _layers(podman, after) < _layers(podman, before)
    finally:
        subprocess.run([podman.path, "rmi", *tags], env=podman.env, capture_output=True)
