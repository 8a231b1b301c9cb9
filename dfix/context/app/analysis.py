"""One reading of an app: the state the command, the module search, the evaluator, the servers and the
frameworks share while they fill in an AppFacts. Each job lives in its own module; this class only joins
them and runs them in order."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .command import CommandReader
from .evaluate import Evaluator
from .modules import ModuleSearch
from .ports import Listening
from .routes import RouteDiscovery
from .source import _Mod, _Scope
from .target import AppTarget
from .values import _Obj

if TYPE_CHECKING:
    from .facts import AppFacts


class Analysis(CommandReader, ModuleSearch, Evaluator, AppTarget, RouteDiscovery, Listening):
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

    def run(self) -> None:
        words = self.read_command(self.argv)
        if words:
            self.dispatch(words)
        self.finish_port()
        self.finish_health()
