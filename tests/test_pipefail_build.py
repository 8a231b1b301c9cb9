"""DF108 for real: on the bookworm and trixie stand-ins (dash as /bin/sh) and under BusyBox ash (Alpine's
shell, from Debian's busybox package, as /bin/sh and /bin/ash), a pipeline whose writer fails builds before
dfix's SHELL and fails after it; a working pipeline builds under it; a SIGPIPE writer is left alone, and
would indeed fail the build under pipefail."""

from __future__ import annotations

import subprocess
import uuid

import pytest

from dfix.engine import Options, fix_text

from .test_verify_build import podman_build, env, podman  # noqa: F401  (session fixtures: the engine)

ONLY_DF108 = Options(select=frozenset({"DF108"}))
WORKS = "RUN echo 'echo piped > /piped' | sh && printf 'b\\na\\n' | sort | tr -d '\\n' > /sorted\n"
WRITER_FAILS = "RUN cat /no/such/installer.sh | sh\n"
SIGPIPE = "RUN yes | head -n 1 > /first\n"
ASH = ("FROM debian:bookworm-slim\n"
       "RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends busybox >/dev/null "
       "&& rm -rf /var/lib/apt/lists/* && ln -s /bin/busybox /bin/ash && ln -sf /bin/busybox /bin/sh\n")


def _build(podman, tmp_path, text: str, tags: list[str]) -> subprocess.CompletedProcess:  # noqa: F811
    tag = f"localhost/dfix-pipefail-{uuid.uuid4().hex[:10]}:test"
    dockerfile = tmp_path / f"{tag.split('-')[-1].replace(':', '-')}.Dockerfile"
    dockerfile.write_text(text)
    # the docker format: buildah ignores SHELL in an OCI image ("SHELL is not supported for OCI image format")
    proc = podman_build(podman, "--format", "docker", "--pull=never", "--network", "host",
                        "-f", str(dockerfile), "-t", tag, str(tmp_path))
    if proc.returncode == 0:
        tags.append(tag)
    return proc


def _fixed(text: str) -> str:
    result = fix_text(text, "Dockerfile", ONLY_DF108)
    assert result.error is None and result.withheld is None
    return result.fixed


def _prove(podman, tmp_path, tags, base: str, family_base: str, shell: str) -> None:  # noqa: F811
    original = f"FROM {family_base}\n{WORKS}{WRITER_FAILS}"
    fixed = _fixed(original)
    assert f'SHELL ["{shell}", "-o", "pipefail", "-c"]\n' in fixed
    on_base = lambda text: text.replace(f"FROM {family_base}\n", f"FROM {base}\n", 1)  # noqa: E731

    before = _build(podman, tmp_path, on_base(original), tags)
    assert before.returncode == 0, before.stderr[-2000:]
    after = _build(podman, tmp_path, on_base(fixed), tags)
    assert after.returncode != 0 and "/no/such/installer.sh" in after.stderr + after.stdout
    works = _build(podman, tmp_path, on_base(_fixed(f"FROM {family_base}\n{WORKS}")), tags)
    assert works.returncode == 0, works.stderr[-2000:]

    sigpipe = f"FROM {family_base}\n{WORKS}{SIGPIPE}"
    result = fix_text(sigpipe, "Dockerfile", ONLY_DF108)
    assert result.fixed == sigpipe and "SIGPIPE" in result.remaining[0].reason
    forced = sigpipe.replace(WORKS, f'SHELL ["{shell}", "-o", "pipefail", "-c"]\n{WORKS}')
    assert _build(podman, tmp_path, on_base(sigpipe), tags).returncode == 0
    assert _build(podman, tmp_path, on_base(forced), tags).returncode != 0, "yes | head passed under pipefail"


@pytest.mark.build
@pytest.mark.parametrize("base", ["python:3.12-slim-bookworm", "python:3.12-slim-trixie"])
def test_debian_pipefail_shell_builds_as_it_should(base, podman, tmp_path):  # noqa: F811
    tags: list[str] = []
    try:
        _prove(podman, tmp_path, tags, base, base, "/bin/bash")
    finally:
        subprocess.run([podman.path, "rmi", *tags], env=podman.env, capture_output=True)


@pytest.mark.build
def test_alpine_pipefail_shell_builds_as_it_should_under_busybox_ash(podman, tmp_path):  # noqa: F811
    tags: list[str] = []
    try:
        ash = _build(podman, tmp_path, ASH, tags)
        assert ash.returncode == 0, ash.stderr[-2000:]
        # dfix writes the Alpine SHELL for an alpine stage; the build runs it on the BusyBox stand-in
        _prove(podman, tmp_path, tags, tags[0], "alpine:3.20", "/bin/ash")
    finally:
        subprocess.run([podman.path, "rmi", *reversed(tags)], env=podman.env, capture_output=True)
