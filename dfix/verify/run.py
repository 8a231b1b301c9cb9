"""One verification's images and containers: building and tagging the images, running one container at a
time on the ports it binds (a lock per port, so verify runs on one machine take turns), the rebuild after
an app edit, and removing all of it whatever happens.

Original and rewrite run one after the other with host networking: both bind the same port, and a
container network cannot be relied on where there is no systemd and no bridge.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from .engines import Engine
from .probing import port_free, probe
from .results import ImageStats, VerifyError

LOCK_WAIT = 600.0  # one run holds a port for its probe: at most ~1 min per image
PORT_WAIT = 10.0  # for a port that another run (original, then rewrite) is still letting go


@contextlib.contextmanager
def _port_locks(ports: list[int]):
    """Hold a lock per port while our container binds it, so verify runs on one machine take turns
    (two runs of the same app would otherwise probe each other's container)."""
    import fcntl  # POSIX only, like the engines verify drives

    handles = []
    try:
        for port in sorted(ports):
            handle = open(Path(tempfile.gettempdir()) / f"dfix-verify-port-{port}.lock", "a+")
            handles.append(handle)
            deadline = time.monotonic() + LOCK_WAIT
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise VerifyError(f"port {port} stayed taken by another dfix verify for {LOCK_WAIT:.0f} s") from None
                    time.sleep(0.5)
        yield
    finally:
        for handle in handles:
            handle.close()  # closing releases the lock


class _Run:
    """One verification: what it created, so that all of it is removed whatever happens."""

    def __init__(self, engine: Engine, keep: bool, name: str | None = None) -> None:
        self.engine = engine
        self.keep = keep
        self.name = name or f"dfix-verify-{uuid.uuid4().hex[:10]}"
        self.images: list[tuple[str, bool]] = []  # (tag, kept with keep=True)
        self.tmp = Path(tempfile.mkdtemp(prefix="dfix-verify-"))

    def build(self, dockerfile: Path, context: Path, name: str, stats: ImageStats | None = None, keepable: bool = True) -> tuple[bool, float, str, dict]:
        tag = f"localhost/{self.name}:{name}"
        ok, seconds, log = self.engine.build(dockerfile, context, tag)
        info = self.engine.inspect(tag) if ok else {}
        if ok or info:
            self.images.append((tag, keepable))
        if stats is not None:
            stats.builds, stats.build_seconds = ok, seconds
            if ok:
                stats.image, stats.image_id = tag, info.get("Id")
                stats.size_mb = round(info["Size"] / 1e6, 1) if info.get("Size") is not None else None
                stats.layers = info.get("Layers")
                stats.user = (info.get("Config") or {}).get("User") or ""
            else:
                stats.build_error = log
        return ok, seconds, log, info

    def run_and_probe(self, stats: ImageStats, config: dict, ports: list[int], routes: list[str] | None = None) -> None:
        if not self.engine.can_run:
            return
        with _port_locks(ports):
            for port in ports:
                # host networking: a port someone else holds would answer for an app that is not ours
                waited = time.monotonic() + PORT_WAIT
                while not port_free(port) and time.monotonic() < waited:
                    time.sleep(0.5)
                if not port_free(port):
                    raise VerifyError(f"port {port} is in use on this machine; free it to verify")
            cid = self.engine.start(stats.image)
            if cid is None:
                return
            try:
                stats.ran = True
                health = (config.get("Healthcheck") or {}).get("Test") or []
                probe(self.engine, cid, ports, bool(health) and health[0] != "NONE", stats, routes=routes)
                stats.uid = self.engine.exec_id_u(cid) if stats.running else None
                stats.run_log = self.engine.logs(cid) or None
            finally:
                self.engine.remove_container(cid)
            # the next container binds the same port: wait (bounded) for the kernel to let it go
            deadline = time.monotonic() + PORT_WAIT
            while any(not port_free(p) for p in ports) and time.monotonic() < deadline:
                time.sleep(0.2)
        if stats.uid is None:
            stats.uid = self.engine.oneshot_id_u(stats.image)
        if self.engine.can_run:
            stats.compilers = self.engine.compilers(stats.image)

    def rebuild(self, stats: ImageStats, app_file: Path, copy: Path, original: Path, dockerfile: Path, name: str) -> None:
        target = copy / app_file.relative_to(original)
        data = app_file.read_bytes()
        # unique content every time: the layer cache would otherwise answer from an earlier run
        marker = f"\n# dfix verify rebuild {uuid.uuid4().hex}\n".encode()
        target.write_bytes(data + (b"" if data.endswith(b"\n") or not data else b"\n") + marker)
        ok, seconds, _, _ = self.build(dockerfile, copy, f"{name}-rebuild", keepable=False)
        target.write_bytes(data)
        stats.rebuild_seconds = seconds if ok else None
        stats.rebuild_steps = getattr(self.engine, "last_steps", [])
        stats.rebuild_file = str(app_file.relative_to(original))

    def cleanup(self) -> list[str]:
        kept = []
        for tag, keepable in reversed(self.images):
            if self.keep and keepable:
                kept.append(tag)
            else:
                self.engine.remove_image(tag)
        shutil.rmtree(self.tmp, ignore_errors=True)
        return kept
