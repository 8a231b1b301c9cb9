"""What a verification records: each image's measurements (ImageStats), the report that sets the two side by
side (VerifyReport), and the errors that stop a verification before there is anything to compare."""

from __future__ import annotations

import re
from pathlib import Path

from ..records import asdict, field, record


class VerifyError(Exception):
    """Verification could not run at all (no engine, bad Dockerfile, busy port); one line."""


class OriginalBuildError(VerifyError):
    """The original does not build (a RUN fails, the base image is not available): there is nothing to
    compare the rewrite with, so this is an error of the input, not a verdict on the rewrite."""

    def __init__(self, dockerfile: Path, log: str) -> None:
        self.log = log  # the end of the engine's output
        self.headline = _headline(log)
        super().__init__(f"{dockerfile}: the original does not build: {self.headline}")


def _headline(log: str) -> str:
    """The engine's own error line of a build log (podman `Error: ...`, docker `ERROR: ...`), else its last line."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in reversed(lines):
        match = re.match(r"(?:error|ERROR|Error):\s*(.*)", line)
        if match and match.group(1):
            return match.group(1)
    return lines[-1] if lines else "the engine printed nothing"


@record
class ImageStats:
    builds: bool = False
    build_seconds: float | None = None
    build_error: str | None = None  # last lines of the engine's output when the build failed
    image: str | None = None  # our tag
    image_id: str | None = None
    size_mb: float | None = None
    layers: int | None = None
    user: str | None = None  # .Config.User as written
    uid: int | None = None  # `id -u` inside the running container
    ran: bool = False
    running: bool | None = None  # still up after the probe (an app that crashed is not)
    port: int | None = None
    route: str | None = None
    status: int | None = None  # HTTP status of the best health route; None: never answered
    routes: dict[str, int] = field(default_factory=dict)  # each probed route that answered: its HTTP status
    probed: list[str] = field(default_factory=list)  # the routes probed, in order (health paths, then the app's)
    unanswered: dict[str, str] = field(default_factory=dict)  # probed, no HTTP answer: "timeout" or "no answer"
    exit_code: int | None = None  # after the probes, when the container had stopped
    restarts: int | None = None  # the engine's restart count after the probes
    module: str | None = None  # the app module the import check imported
    imports: bool | None = None  # it imports as the image's user in its WORKDIR; None: not checked
    import_error: str | None = None  # the last line Python printed when it did not
    healthcheck: str | None = None  # None: the image defines none; "healthy" / "unhealthy"
    rebuild_seconds: float | None = None  # after one app file changed
    rebuild_file: str | None = None
    rebuild_steps: list = field(default_factory=list)  # [instruction, reused from the layer cache] of that rebuild
    compilers: list[str] | None = None  # gcc, cc, g++, make found inside; None: not checked
    run_log: str | None = None  # the end of the container's output (what a crash says)


@record
class VerifyReport:
    context: str
    dockerfile: str
    engine: str
    changed: bool
    applied: list[str]
    original: ImageStats
    rewrite: ImageStats
    side_files: list[str] = field(default_factory=list)  # context files the rewrite also changes
    ok: bool = False
    reasons: list[str] = field(default_factory=list)  # why the rewrite is worse, or what was not checked
    kept: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)
