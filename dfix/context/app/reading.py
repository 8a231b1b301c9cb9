"""One reading of an app, as it starts: the state every job shares while it fills in an AppFacts, the
container's command (command.py) and the port (ports.py). When the command starts a Python program the
reading carries on as an ``Analysis`` (analysis.py), which adds the readers of the app's code, so a
container that runs no Python never imports them."""

from __future__ import annotations

import os
import posixpath
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .command import CommandReader
from .ports import Listening

if TYPE_CHECKING:
    from .facts import AppFacts
    from .source import _Mod, _Scope
    from .values import _Obj


class Reading(CommandReader, Listening):
    def __init__(self, root: Path, argv: list[str], workdir: str, env: dict[str, str],
                 resolve: Callable[[str], str | None], exposed: list[int], facts: AppFacts) -> None:
        self.root = root
        self.argv = argv
        self.cwd = posixpath.normpath(workdir if workdir.startswith("/") else "/" + workdir)
        self.env = env
        self.resolve_path = resolve
        self.exposed = exposed
        self.overlay: dict[str, str] = {}
        self.f = facts
        self.path: list[str] = []  # container sys.path entries, in order
        self.src_fallback: str | None = None
        self.mods: dict[str, _Mod | None] = {}  # by context-relative path
        self.by_name: dict[str, _Mod | None] = {}
        self.func_scopes: dict[int, _Scope] = {}
        self.objs: dict[int, _Obj] = {}
        self.registrations: dict[int, list[tuple]] = {}
        self.scanned: set[str] = set()
        # the port, by precedence: (port, source, host)
        self.port_cmd: tuple[int, str] | None = None
        self.port_code: tuple[int, str] | None = None
        self.port_config: tuple[int, str] | None = None
        self.port_env: tuple[int, str] | None = None
        self.unix_socket = False
        self.shell_env_used: list[str] = []  # ENV names the shell command expanded
        self.entry: list[_Mod] = []  # modules the server certainly imports or runs

    def note(self, text: str) -> None:
        if text not in self.f.notes:
            self.f.notes.append(text)

    def context_file(self, container_path: str) -> str | None:
        """The context-relative path of the file the COPY instructions put at ``container_path``."""
        rel = self.resolve_path(posixpath.normpath(container_path))
        if rel is None:
            return None
        rel = posixpath.normpath(rel.replace("\\", "/")).lstrip("/")
        if rel.startswith("../") or rel == "..":
            return None
        return rel if rel in self.overlay or os.path.isfile(os.path.join(self.root, rel)) else None

    def abs_path(self, path: str, base: str | None = None) -> str:
        return posixpath.normpath(posixpath.join(base or self.cwd, path))

    def start(self) -> tuple[str, list[str]] | None:
        """The Python server the command starts (a name in servers.SERVERS, or "python") and the words after its
        program; None, noted why, when it starts none."""
        words = self.read_command(self.argv)
        if not words:
            return None
        server = self.server_kind(words)
        if server is None:
            self.note(f"The command runs {words[0]}, which is not a Python server dfix knows.")
            return None
        return server, words[1:]

    def finish(self) -> None:
        self.finish_port()
        self.finish_health()
