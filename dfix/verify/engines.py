"""The container engines verify drives (podman, buildah, docker): finding one, and every call verify makes of
it (build, inspect, run, exec, logs, healthcheck, remove), each one subprocess with a timeout. It knows the
engines' command lines and output formats, nothing of what is compared.

Images are removed by their run-unique tag (see Engine.remove_image), containers by id with a short stop
timeout (shell-form CMDs do not forward SIGTERM).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from ..lazy_regex import lazy_compile
from ..records import record
from .results import VerifyError

ENGINES = ("podman", "buildah", "docker")
BUILD_TIMEOUT = 1800
BUILD_RETRIES = 2  # for the engine's own race with a parallel image removal, never for a failing step


@record
class Engine:
    name: str
    path: str
    env: dict[str, str] | None = None  # None: this process's environment

    @classmethod
    def find(cls, name: str | None = None, env: dict[str, str] | None = None) -> Engine:
        search = os.pathsep.join(filter(None, [(env or os.environ).get("PATH"), os.defpath]))
        if name is not None:
            if name not in ENGINES:
                raise VerifyError(f"unknown engine {name!r} (choose {', '.join(ENGINES)})")
            path = shutil.which(name, path=search)
            if path is None:
                raise VerifyError(f"{name} not found on PATH (scripts/setup-engine.sh installs podman)")
            return cls(name, path, env)
        for candidate in ENGINES:
            path = shutil.which(candidate, path=search)
            # a docker client alone is common; only a reachable daemon makes it an engine
            if path and (candidate != "docker" or cls(candidate, path, env)._ok(["version"])):
                return cls(candidate, path, env)
        raise VerifyError("no container engine found (podman, buildah or docker); scripts/setup-engine.sh installs one")

    @property
    def can_run(self) -> bool:
        return self.name != "buildah"  # buildah builds images; running them as services needs podman

    def _run(self, args: list[str], timeout: float = 120, **kw) -> subprocess.CompletedProcess:
        env = dict(self.env if self.env is not None else os.environ)
        if self.name == "docker":
            env.setdefault("DOCKER_BUILDKIT", "1")
        try:
            return subprocess.run(
                [self.path, *args], capture_output=True, text=True, timeout=timeout, env=env,
                stdin=subprocess.DEVNULL, check=False, **kw,
            )
        except subprocess.TimeoutExpired as err:  # subprocess.run has killed the client by then
            return subprocess.CompletedProcess(err.cmd, 124, "", f"timed out after {timeout:.0f} s")

    def _ok(self, args: list[str], timeout: float = 30) -> bool:
        return self._run(args, timeout).returncode == 0

    def build(self, dockerfile: Path, context: Path, tag: str) -> tuple[bool, float, str]:
        if self.name == "docker":
            args = ["build", "--network", "host", "-f", str(dockerfile), "-t", tag, str(context)]
        else:
            verb = "bud" if self.name == "buildah" else "build"
            # --format docker: OCI images drop HEALTHCHECK; --pull=never: the bases are local stand-ins
            args = [verb, "--format", "docker", "--pull=never", "--network", "host", "--layers",
                    "-f", str(dockerfile), "-t", tag, str(context)]
        start = time.monotonic()
        proc = self._run(args, timeout=BUILD_TIMEOUT)
        for _ in range(BUILD_RETRIES):
            # buildah before 1.43 fails a build whose cache lookup or commit meets a layer that a parallel
            # `rmi` just removed (buildah#5674: "layer not known"); the same build run again succeeds
            if proc.returncode == 0 or "layer not known" not in proc.stdout + proc.stderr:
                break
            proc = self._run(args, timeout=BUILD_TIMEOUT)
        seconds = round(time.monotonic() - start, 1)
        self.last_steps = build_steps(proc.stdout + proc.stderr)
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        return proc.returncode == 0, seconds, tail

    def inspect(self, image: str) -> dict:
        """Id, size in bytes, layer count and the Docker-style config of an image."""
        if self.name == "buildah":
            proc = self._run(["inspect", "--type", "image", image])
            data = json.loads(proc.stdout) if proc.returncode == 0 else {}
            docker = data.get("Docker", {})
            sizes = self._run(["images", "--json", image])
            size = None
            if sizes.returncode == 0:
                size = _parse_size((json.loads(sizes.stdout) or [{}])[0].get("size", ""))
            return {"Id": data.get("FromImageID"), "Size": size, "Layers": len(docker.get("rootfs", {}).get("diff_ids") or []),
                    "Config": docker.get("config") or {}}
        proc = self._run(["image", "inspect", image])
        if proc.returncode != 0:
            return {}
        data = json.loads(proc.stdout)[0]
        config = dict(data.get("Config") or {})
        if "Healthcheck" not in config and data.get("Healthcheck"):
            config["Healthcheck"] = data["Healthcheck"]  # podman keeps it beside Config
        return {"Id": data.get("Id"), "Size": data.get("Size"), "Layers": len((data.get("RootFS") or {}).get("Layers") or []),
                "Config": config}

    def start(self, image: str) -> str | None:
        args = ["run", "-d", "--network", "host", image]
        if self.name == "podman":
            args.insert(2, "--pull=never")
        proc = self._run(args, timeout=120)
        cid = proc.stdout.strip().splitlines()[-1] if proc.returncode == 0 and proc.stdout.strip() else None
        return cid

    def logs(self, cid: str, lines: int = 15) -> str:
        proc = self._run(["logs", "--tail", str(lines), cid], timeout=30)
        return (proc.stdout + proc.stderr).strip()

    def is_running(self, cid: str) -> bool:
        proc = self._run(["inspect", "--format", "{{.State.Running}}", cid], timeout=30)
        return proc.stdout.strip() == "true"

    def state(self, cid: str) -> dict:
        """Whether the container runs, its exit code and the engine's restart count."""
        proc = self._run(["inspect", cid], timeout=30)
        try:
            data = json.loads(proc.stdout)[0] if proc.returncode == 0 else {}
        except (ValueError, IndexError):
            data = {}
        state = data.get("State") or {}
        return {"running": bool(state.get("Running")), "exit_code": state.get("ExitCode"),
                "restarts": data.get("RestartCount", state.get("RestartCount"))}

    def exec_id_u(self, cid: str) -> int | None:
        proc = self._run(["exec", cid, "id", "-u"], timeout=30)
        return int(proc.stdout.strip()) if proc.returncode == 0 and proc.stdout.strip().isdigit() else None

    def oneshot_id_u(self, image: str) -> int | None:
        """`id -u` as the image's user, for an app that no longer runs; the container is removed by id."""
        with tempfile.TemporaryDirectory(prefix="dfix-verify-") as tmp:
            cidfile = Path(tmp) / "cid"
            proc = self._run(["run", "--cidfile", str(cidfile), "--network", "host", "--entrypoint", "id", image, "-u"], timeout=60)
            if cidfile.exists() and cidfile.read_text().strip():
                self.remove_container(cidfile.read_text().strip())
        out = proc.stdout.strip()
        return int(out) if proc.returncode == 0 and out.isdigit() else None

    def compilers(self, image: str) -> list[str] | None:
        """Which of gcc, cc, g++ and make the image has on its PATH; None when it has no shell to ask."""
        with tempfile.TemporaryDirectory(prefix="dfix-verify-") as tmp:
            cidfile = Path(tmp) / "cid"
            proc = self._run(["run", "--cidfile", str(cidfile), "--network", "host", "--user", "0", "--entrypoint",
                              "sh", image, "-c", "for c in gcc cc g++ make; do command -v $c >/dev/null && echo $c; done; true"],
                             timeout=60)
            if cidfile.exists() and cidfile.read_text().strip():
                self.remove_container(cidfile.read_text().strip())
        return proc.stdout.split() if proc.returncode == 0 else None

    def healthcheck(self, cid: str) -> bool:
        if self.name == "podman":
            # no systemd here, so podman schedules no checks: run one on demand (exit 0 = healthy)
            return self._ok(["healthcheck", "run", cid])
        proc = self._run(["inspect", "--format", "{{.State.Health.Status}}", cid], timeout=30)
        return proc.stdout.strip() == "healthy"

    def remove_container(self, cid: str) -> None:
        args = ["rm", "-f", cid] if self.name == "docker" else ["rm", "-f", "-t", "3", cid]
        self._run(args, timeout=60)

    def remove_image(self, tag: str) -> None:
        """Remove our image by its run-unique tag. rmi of a name only untags while another name holds the
        image: identical builds share an id through the layer cache, and `rmi ID` would delete theirs too."""
        self._run(["rmi", tag], timeout=120)


_STEP = lazy_compile(r"^(?:\[\d+/\d+\] )?STEP \d+/\d+: (.*)$")  # multi-stage builds prefix the stage


def build_steps(log: str) -> list[list]:
    """[instruction, cached] for each step of a podman/buildah build log ("--> Using cache" follows a reused one)."""
    steps: list[list] = []
    for line in log.splitlines():
        match = _STEP.match(line.strip())
        if match:
            steps.append([match.group(1), False])
        elif steps and line.strip().startswith("--> Using cache"):
            steps[-1][1] = True
    return steps


def _parse_size(text: str) -> int | None:
    match = re.fullmatch(r"\s*([\d.]+)\s*([kMGT]?B)\s*", text or "")
    if not match:
        return None
    scale = {"B": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}[match.group(2)]
    return int(float(match.group(1)) * scale)


def engine_env(root: Path) -> dict[str, str]:
    """This environment plus the exports of scripts/setup-engine.sh's env.sh under ``root``."""
    env = dict(os.environ)
    for line in (root / "env.sh").read_text().splitlines():
        match = re.fullmatch(r"export (\w+)=(.*)", line.strip())
        if match:
            env[match.group(1)] = match.group(2)
    return env
