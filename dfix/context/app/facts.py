"""The Python app a Dockerfile's command runs: which server, which app object, its routes, its port, and
the auto-reload switches left on in its code.

It reads the build context the way the container's Python would (the command's working directory and
sys.path, the files the COPY instructions put there) and never imports the app. libcst is imported only
inside the functions that parse Python, so commands that never look at the app do not pay for it.
Anything that cannot be read for sure is left None and explained in ``AppFacts.notes``.
"""

from __future__ import annotations

import ast
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

HEALTH_PATHS = ("/health", "/healthz", "/ping", "/status", "/ready")

# what each server listens on when nothing says otherwise
SERVER_DEFAULT_PORTS = {
    "uvicorn": 8000,
    "gunicorn": 8000,
    "hypercorn": 8000,
    "daphne": 8000,
    "flask": 5000,
    "django-runserver": 8000,
    "fastapi-cli": 8000,
    "waitress": 8080,
}


@dataclass
class Route:
    path: str
    methods: tuple[str, ...]  # upper case; ("*",) for a Django view, which any method reaches
    file: str
    line: int


@dataclass
class ReloadCall:
    """A call that turns on the auto-reloader/debugger and runs when the container's command runs."""

    file: str  # context-relative path
    line: int
    description: str  # e.g. "uvicorn.run(..., reload=True)"
    # The whole file rewritten with libcst: the reload/debug keywords of every reported call in this file
    # removed (or set False where removal would shift a positional argument), every other byte kept; the
    # same text for each ReloadCall of one file. None when dfix could not prove the rewrite changes only
    # those arguments (see notes).
    fixed_source: str | None


@dataclass
class AppFacts:
    server: str | None = None  # "uvicorn", "gunicorn", "hypercorn", "daphne", "flask", "django-runserver", "fastapi-cli", "waitress", "python"
    framework: str | None = None  # "fastapi", "starlette", "flask", "django"
    interface: str | None = None  # "asgi" | "wsgi"
    module: str | None = None  # dotted module holding the app object, relative to module_root
    variable: str | None = None  # the app object's name there (the factory's name when factory is True)
    file: str | None = None  # context-relative path of that module
    routes: list[Route] = field(default_factory=list)
    health_route: str | None = None  # first of HEALTH_PATHS the app serves for GET (a Django "/healthz/" counts)
    port: int | None = None
    port_source: str | None = None  # "cmd", "gunicorn-bind", "uvicorn.run", "app.run", "gunicorn-config", "env", "expose", "server-default"
    reload_calls: list[ReloadCall] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # beyond the first API
    host: str | None = None  # the address the server binds, when known
    factory: bool = False  # variable names a function that returns the app
    module_root: str | None = None  # container directory `module` is importable from (workdir, --app-dir, src/ ...)
    script: str | None = None  # context-relative path of the Python file the command runs (python x.py, -m pkg, manage.py)
    reload_switches: list[str] = field(default_factory=list)  # command words / ENV settings that turn auto-reload on


def analyze_app(
    context_root: Path,
    argv: list[str],
    workdir: str,
    env: dict[str, str],
    resolve: Callable[[str], str | None],
    exposed: list[int],
    overlay: dict[str, str] | None = None,
) -> AppFacts:
    """Facts about the app ``argv`` starts in a container with this WORKDIR and ENV.

    ``resolve`` maps an absolute container path to the context-relative path the COPY instructions put
    there (or None); ``exposed`` are the final stage's EXPOSEd ports.
    """
    facts = AppFacts()
    analysis = _Analysis(Path(context_root), list(argv), workdir or "/", dict(env), resolve, list(exposed), facts)
    # files a pending fix rewrites (context-relative path -> text): read instead of the disk
    analysis.overlay = dict(overlay or {})
    try:
        analysis.run()
    except RecursionError:
        facts.notes.append("The app's code nests too deeply to analyse.")
    return facts


# ---------------------------------------------------------------------------------------------------
# the command line

_SHELLS = {"sh", "bash", "dash", "ash", "zsh", "ksh"}
_PYTHON = re.compile(r"^(python|pypy)(\d+(\.\d+)*)?$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SHELL_OPERATORS = {"&&", "||", ";", "|", "&", ";;", "|&"}
_REDIRECTIONS = {">", ">>", "<", "<<", ">&", "<&", "&>", "&>>", ">|", "<>"}
_TRUE_WORDS = {"1", "true", "yes", "on"}

_UVICORN_VALUE = frozenset(
    "--host --port --uds --fd --reload-dir --reload-include --reload-exclude --reload-delay --workers --loop "
    "--http --ws --ws-max-size --ws-max-queue --ws-ping-interval --ws-ping-timeout --ws-per-message-deflate "
    "--lifespan --interface --env-file --log-config --log-level --root-path --limit-concurrency --backlog "
    "--limit-max-requests --limit-max-requests-jitter --timeout-keep-alive --timeout-graceful-shutdown "
    "--timeout-worker-healthcheck --ssl-keyfile --ssl-certfile --ssl-keyfile-password --ssl-version "
    "--ssl-cert-reqs --ssl-ca-certs --ssl-ciphers --header --app-dir --h11-max-incomplete-event-size "
    "--forwarded-allow-ips".split()
)
_GUNICORN_VALUE = frozenset(
    "-b --bind -c --config -k --worker-class -w --workers --threads -t --timeout --graceful-timeout "
    "--keep-alive --max-requests --max-requests-jitter --chdir --pythonpath -e --env --log-level "
    "--access-logfile --error-logfile --log-file --access-logformat --log-config --log-config-dict "
    "--log-config-json --log-syslog-to --log-syslog-prefix --log-syslog-facility -u --user -g --group -m "
    "--umask -p --pid -n --name --worker-connections --backlog --forwarded-allow-ips --worker-tmp-dir "
    "--limit-request-line --limit-request-fields --limit-request-field_size --certfile --keyfile --ca-certs "
    "--ssl-version --ciphers --cert-reqs --statsd-host --statsd-prefix --dogstatsd-tags --paste "
    "--paste-global --proxy-allow-from --reload-engine --reload-extra-file --logger-class --header-map "
    "--forwarder-headers".split()
)
_HYPERCORN_VALUE = frozenset(
    "-b --bind --insecure-bind --quic-bind -c --config -k --worker-class -w --workers --root-path "
    "--access-logfile --error-logfile --log-file --log-config --log-level --certfile --keyfile --ca-certs "
    "--ciphers -u --user -g --group -m --umask -p --pid --backlog --graceful-timeout --keep-alive "
    "--max-requests --max-requests-jitter --server-name --read-timeout --keyfile-password --statsd-host "
    "--statsd-prefix --websocket-ping-interval --access-logformat --access-log-format".split()
)
_DAPHNE_VALUE = frozenset(
    "-p --port -b --bind -u --unix-socket --fd -e --endpoint -v --verbosity -t --http-timeout --access-log "
    "--log-fmt --ping-interval --ping-timeout --application-close-timeout --root-path --proxy-headers-host "
    "--proxy-headers-port --websocket_timeout --websocket_connect_timeout --server-name".split()
)
_WAITRESS_VALUE = frozenset(
    "--host --port --listen --unix-socket --unix-socket-perms --url-scheme --url-prefix --ident --threads "
    "--backlog --recv-bytes --send-bytes --outbuf-overflow --outbuf-high-watermark --inbuf-overflow "
    "--connection-limit --cleanup-interval --channel-timeout --max-request-header-size "
    "--max-request-body-size --asyncore-loop-timeout --trusted-proxy --trusted-proxy-count "
    "--trusted-proxy-headers".split()
)
_FLASK_GLOBAL_VALUE = frozenset({"--app", "-A", "-e", "--env-file"})
_FLASK_RUN_VALUE = frozenset({"--host", "-h", "--port", "-p", "--cert", "--key", "--extra-files", "--exclude-patterns"})
_FASTAPI_VALUE = frozenset({"--host", "--port", "--app", "--workers", "--root-path", "--entrypoint", "-e", "--forwarded-allow-ips"})
_RUNSERVER_VALUE = frozenset({"--settings", "--pythonpath", "-v", "--verbosity"})
_UV_RUN_VALUE = frozenset(
    "--with --with-editable --with-requirements --group --extra --env-file --python -p --directory --project "
    "--package --index --index-url --extra-index-url --find-links -f --no-group --only-group".split()
)

# server CLIs that the command names directly or through `python -m`
_SERVER_PROGRAMS = {
    "uvicorn": "uvicorn",
    "gunicorn": "gunicorn",
    "hypercorn": "hypercorn",
    "daphne": "daphne",
    "flask": "flask",
    "waitress-serve": "waitress",
    "waitress": "waitress",
    "django-admin": "django-admin",
    "django-admin.py": "django-admin",
    "fastapi": "fastapi-cli",
}


def _options(words: Sequence[str], with_value: frozenset[str]) -> tuple[list[tuple[str, str | None]], list[str]]:
    """Split CLI words into (option, value) pairs and positionals; unknown options are taken as flags."""
    opts: list[tuple[str, str | None]] = []
    positional: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            positional.extend(words[i + 1:])
            break
        if word.startswith("--") and "=" in word:
            name, _, value = word.partition("=")
            opts.append((name, value))
        elif word in with_value:
            opts.append((word, words[i + 1] if i + 1 < len(words) else None))
            i += 1
        elif len(word) > 2 and word[0] == "-" and word[1] != "-" and word[:2] in with_value:
            opts.append((word[:2], word[2:].lstrip("=")))  # -b0.0.0.0:8000
        elif word.startswith("-") and len(word) > 1:
            opts.append((word, None))
        else:
            positional.append(word)
        i += 1
    return opts, positional


def _last(opts: list[tuple[str, str | None]], *names: str) -> str | None:
    found = None
    for name, value in opts:
        if name in names:
            found = value
    return found


def _has(opts: list[tuple[str, str | None]], *names: str) -> bool:
    return any(name in names for name, _ in opts)


def _port_number(text: str | None) -> int | None:
    if text is None or not text.strip().isdigit():
        return None
    value = int(text)
    return value if 0 < value < 65536 else None


def _split_hostport(bind: str) -> tuple[str | None, str | None]:
    """HOST:PORT, [v6]:PORT, :PORT or a bare HOST, as gunicorn, hypercorn and runserver write them."""
    if bind.startswith("["):
        host, _, rest = bind[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else None
    if bind.count(":") == 1:
        host, _, port = bind.partition(":")
        return host or None, port
    if bind.isdigit():
        return None, bind
    return bind, None


def _expand(text: str, env: dict[str, str], used: list[str], missing: list[str]) -> str:
    """$NAME, ${NAME}, ${NAME:-default} and ${NAME-default} outside single quotes, as the shell would."""
    out: list[str] = []
    i, single, double = 0, False, False
    while i < len(text):
        ch = text[i]
        if ch == "\\" and not single and i + 1 < len(text):
            out.append(text[i:i + 2])
            i += 2
            continue
        if ch == "'" and not double:
            single = not single
        elif ch == '"' and not single:
            double = not double
        elif ch == "$" and not single:
            match = re.match(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))", text[i:])
            if match:
                name = match.group(1) or match.group(4)
                value = env.get(name)
                if match.group(2) and (value is None or (match.group(2) == ":-" and value == "")):
                    value = match.group(3)
                elif value is not None:
                    used.append(name)
                if value is None or not re.fullmatch(r"[\w.:/,@+=-]*", value):
                    missing.append(name)
                    out.append(match.group(0))
                else:
                    out.append(value)
                i += len(match.group(0))
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _module_for_file(relpath: str) -> str:
    """The dotted name of a .py path relative to a sys.path entry."""
    parts = relpath[:-3].split("/") if relpath.endswith(".py") else relpath.split("/")
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(p for p in parts if p and p != ".")


# ---------------------------------------------------------------------------------------------------
# Python source, through libcst


def _cst():
    import libcst

    return libcst


@dataclass(eq=False)
class _Binding:
    kind: str  # "assign", "def", "class", "import", "from", "unknown"
    scope: "_Scope"
    node: Any = None  # the assigned value, FunctionDef or ClassDef
    target: str | None = None  # dotted module for "import"/"from"
    attr: str | None = None  # imported name for "from"


@dataclass(eq=False)
class _Mod:
    rel: str  # context-relative path
    name: str  # dotted import name (the file's stem for a script)
    package: bool
    text: str
    tree: Any
    pos: Any
    root: str  # container directory the name is relative to
    script: bool = False
    top: "_Scope | None" = None

    def line(self, node: Any) -> int:
        try:
            return self.pos[node].start.line
        except KeyError:
            return 0

    def code(self, node: Any) -> str:
        return self.tree.code_for_node(node)


class _Scope:
    """The names one module or function body binds, in source order."""

    def __init__(self, mod: _Mod, body: Any, parent: "_Scope | None", as_main: bool | None, params: Sequence[str] = ()) -> None:
        self.mod = mod
        self.parent = parent
        self.body = body
        self.as_main = as_main
        self.bindings: dict[str, list[_Binding]] = {}
        self.stars: list[str] = []
        for name in params:
            self._bind(name, _Binding("unknown", self))
        for stmt in _statements(body, as_main):
            self._collect(stmt)

    def _bind(self, name: str, binding: _Binding) -> None:
        self.bindings.setdefault(name, []).append(binding)

    def _collect(self, stmt: Any) -> None:
        cst = _cst()
        if isinstance(stmt, cst.Assign):
            for target in stmt.targets:
                self._bind_target(target.target, stmt.value)
        elif isinstance(stmt, cst.AnnAssign):
            self._bind_target(stmt.target, stmt.value)
        elif isinstance(stmt, cst.Import):
            for alias in stmt.names:
                dotted = _dotted(alias.name)
                if dotted is None:
                    continue
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self._bind(alias.asname.name.value, _Binding("import", self, target=dotted))
                else:
                    first = dotted.split(".")[0]
                    self._bind(first, _Binding("import", self, target=first))
        elif isinstance(stmt, cst.ImportFrom):
            module = _import_from_module(self.mod, stmt)
            if module is None:
                return
            if isinstance(stmt.names, cst.ImportStar):
                self.stars.append(module)
                return
            for alias in stmt.names:
                name = _dotted(alias.name)
                if name is None:
                    continue
                local = alias.asname.name.value if alias.asname is not None and isinstance(alias.asname.name, cst.Name) else name
                self._bind(local, _Binding("from", self, target=module, attr=name))
        elif isinstance(stmt, cst.FunctionDef):
            self._bind(stmt.name.value, _Binding("def", self, node=stmt))
        elif isinstance(stmt, cst.ClassDef):
            self._bind(stmt.name.value, _Binding("class", self, node=stmt))
        elif isinstance(stmt, (cst.For, cst.With)):
            targets = [stmt.target] if isinstance(stmt, cst.For) else [i.asname.name for i in stmt.items if i.asname]
            for target in targets:
                for name in _names_in_target(target):
                    self._bind(name, _Binding("unknown", self))

    def _bind_target(self, target: Any, value: Any) -> None:
        cst = _cst()
        if isinstance(target, cst.Name):
            self._bind(target.value, _Binding("assign", self, node=value) if value is not None else _Binding("unknown", self))
        else:
            for name in _names_in_target(target):
                self._bind(name, _Binding("unknown", self))


def _names_in_target(target: Any) -> list[str]:
    cst = _cst()
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for el in target.elements for n in _names_in_target(el.value)]
    if isinstance(target, cst.StarredElement):
        return _names_in_target(target.value)
    return []


def _dotted(node: Any) -> str | None:
    cst = _cst()
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


def _import_from_module(mod: _Mod, stmt: Any) -> str | None:
    level = len(stmt.relative)
    name = _dotted(stmt.module) if stmt.module is not None else ""
    if level == 0:
        return name or None
    package = mod.name if mod.package else mod.name.rpartition(".")[0]
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, name] if name else base) or None


def _is_main_test(test: Any) -> bool | None:
    """True for ``__name__ == "__main__"``, False for ``!=``, None for any other test."""
    cst = _cst()
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return None
    left, comp = test.left, test.comparisons[0]
    sides = [left, comp.comparator]
    names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
    strings = [s for s in sides if isinstance(s, cst.SimpleString) and s.evaluated_value == "__main__"]
    if len(names) != 1 or len(strings) != 1:
        return None
    if isinstance(comp.operator, cst.Equal):
        return True
    if isinstance(comp.operator, cst.NotEqual):
        return False
    return None


def _block(body: Any) -> list[Any]:
    """Statements of a Module, IndentedBlock or one-line suite."""
    return list(getattr(body, "body", []) or [])


def _statements(body: Any, as_main: bool | None) -> Iterator[Any]:
    """Small and compound statements a body runs, into if/try/with/for/while blocks but not into def or
    class bodies. ``as_main``: True when the module runs as the script (only the taken side of
    ``if __name__ == "__main__"``), False when it is imported (the other side), None for both."""
    cst = _cst()
    for stmt in _block(body):
        if isinstance(stmt, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            yield from stmt.body
        elif isinstance(stmt, cst.If):
            yield stmt
            yield from _if_statements(stmt, as_main)
        elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            yield stmt
        elif isinstance(stmt, (cst.Try, getattr(cst, "TryStar", cst.Try))):
            yield stmt
            yield from _statements(stmt.body, as_main)
            for handler in stmt.handlers:
                yield from _statements(handler.body, as_main)
            for extra in (stmt.orelse, stmt.finalbody):
                if extra is not None:
                    yield from _statements(extra.body, as_main)
        elif isinstance(stmt, (cst.With, cst.For, cst.While)):
            yield stmt
            yield from _statements(stmt.body, as_main)
            orelse = getattr(stmt, "orelse", None)
            if orelse is not None:
                yield from _statements(orelse.body, as_main)
        elif isinstance(stmt, cst.Match):
            yield stmt
            for case in stmt.cases:
                yield from _statements(case.body, as_main)
        else:
            yield stmt


def _if_statements(stmt: Any, as_main: bool | None) -> Iterator[Any]:
    cst = _cst()
    main = _is_main_test(stmt.test)
    take_body = take_else = True
    if main is not None and as_main is not None:
        take_body = main == as_main
        take_else = not take_body
    if take_body:
        yield from _statements(stmt.body, as_main)
    orelse = stmt.orelse
    if orelse is not None and take_else:
        if isinstance(orelse, cst.If):
            yield orelse
            yield from _if_statements(orelse, as_main)
        else:
            yield from _statements(orelse.body, as_main)


def _calls_in(node: Any) -> Iterator[Any]:
    """Calls inside one statement (outer before inner), not inside nested defs, lambdas or blocks."""
    cst = _cst()
    if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda, cst.IndentedBlock, cst.SimpleStatementSuite)):
        return
    if isinstance(node, cst.Call):
        yield node
    for child in node.children:
        yield from _calls_in(child)


def _arg(call: Any, position: int | None, *keywords: str) -> Any:
    """The value passed for a parameter, by keyword or position (None when absent or behind * / **)."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in keywords:
            return arg.value
    if position is None:
        return None
    index = 0
    for arg in call.args:
        if arg.star:
            return None
        if arg.keyword is not None:
            break
        if index == position:
            return arg.value
        index += 1
    return None


class _Unknown:
    def __repr__(self) -> str:
        return "<unknown>"


UNKNOWN: Any = _Unknown()


# ---------------------------------------------------------------------------------------------------
# what names refer to


@dataclass(eq=False)
class _Ext:
    """Something outside the build context, by qualified name ("fastapi.FastAPI", "os.environ.get")."""

    qual: str


@dataclass(eq=False)
class _ModRef:
    mod: _Mod


@dataclass(eq=False)
class _Local:
    """A name bound in the app's own code: its bindings in source order."""

    name: str
    bindings: list[_Binding]


@dataclass(eq=False)
class _Obj:
    """An app, router or blueprint object, identified by the call that made it."""

    kind: str  # "app", "router", "blueprint"
    framework: str
    interface: str | None
    call: Any
    scope: _Scope
    name: str | None  # the variable the call is assigned to
    factory: Any = None  # the FunctionDef that returns it, when made inside one


_CONSTRUCTORS = {
    "fastapi.FastAPI": ("app", "fastapi", "asgi"),
    "fastapi.applications.FastAPI": ("app", "fastapi", "asgi"),
    "starlette.applications.Starlette": ("app", "starlette", "asgi"),
    "flask.Flask": ("app", "flask", "wsgi"),
    "flask.app.Flask": ("app", "flask", "wsgi"),
    "django.core.wsgi.get_wsgi_application": ("app", "django", "wsgi"),
    "django.core.asgi.get_asgi_application": ("app", "django", "asgi"),
    "channels.routing.ProtocolTypeRouter": ("app", "django", "asgi"),
    "fastapi.APIRouter": ("router", "fastapi", None),
    "fastapi.routing.APIRouter": ("router", "fastapi", None),
    "starlette.routing.Router": ("router", "starlette", None),
    "flask.Blueprint": ("blueprint", "flask", None),
    "flask.blueprints.Blueprint": ("blueprint", "flask", None),
}
_METHOD_DECORATORS = {"get", "post", "put", "delete", "patch", "head", "options", "trace"}
_ROUTE_CLASSES = {"starlette.routing.Route", "starlette.routing.Mount", "fastapi.routing.APIRoute", "starlette.routing.WebSocketRoute", "starlette.routing.Host"}
_DJANGO_PATHS = {"django.urls.path", "django.urls.re_path", "django.conf.urls.url", "django.urls.conf.path", "django.urls.conf.re_path"}
_DJANGO_INCLUDE = {"django.urls.include", "django.conf.urls.include", "django.urls.conf.include"}
_ENV_GETTERS = {"os.environ.get", "os.getenv"}


class _Analysis:
    MAX_MODULES = 200
    MAX_FILE_BYTES = 2_000_000

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

    # -- entry ------------------------------------------------------------------------------------
    def run(self) -> None:
        words = self._command(self.argv)
        if words:
            self._dispatch(words)
        self._finish_port()
        self._finish_health()

    # -- files and modules --------------------------------------------------------------------------
    def _context_file(self, container_path: str) -> str | None:
        rel = self.resolve_path(posixpath.normpath(container_path))
        if rel is None:
            return None
        rel = posixpath.normpath(rel.replace("\\", "/")).lstrip("/")
        if rel.startswith("../") or rel == "..":
            return None
        path = self.root / rel
        return rel if rel in self.overlay or path.is_file() else None

    def _abs(self, path: str, base: str | None = None) -> str:
        return posixpath.normpath(posixpath.join(base or self.cwd, path))

    def _find_module(self, dotted: str) -> tuple[str, str, bool] | None:
        """(context path, sys.path entry, is package) of an importable module."""
        parts = dotted.split(".")
        if not all(p.isidentifier() for p in parts):
            return None
        entries = list(self.path)
        if self.src_fallback and self.src_fallback not in entries:
            entries.append(self.src_fallback)
        for entry in entries:
            base = posixpath.join(entry, *parts)
            for candidate, package in ((base + "/__init__.py", True), (base + ".py", False)):
                rel = self._context_file(candidate)
                if rel is not None:
                    if entry == self.src_fallback and entry not in self.path:
                        self.note(
                            f"{dotted} is not importable from {self.cwd}; dfix read it from {entry}/, assuming the "
                            f"project there is installed (as pip install ., poetry install or uv sync do)."
                        )
                    return rel, entry, package
        return None

    def _load_module(self, dotted: str) -> _Mod | None:
        if dotted in self.by_name:
            return self.by_name[dotted]
        found = self._find_module(dotted)
        mod = self._load(found[0], dotted, found[1], found[2]) if found else None
        self.by_name[dotted] = mod
        return mod

    def _load(self, rel: str, name: str, root: str, package: bool = False, script: bool = False) -> _Mod | None:
        if rel in self.mods:
            return self.mods[rel]
        self.mods[rel] = None
        if len(self.mods) > self.MAX_MODULES:
            self.note(f"The app has more than {self.MAX_MODULES} modules; dfix read only the first ones.")
            return None
        path = self.root / rel
        try:
            data = self.overlay[rel].encode("utf-8") if rel in self.overlay else path.read_bytes()
        except OSError as error:
            self.note(f"{rel} cannot be read ({error.strerror or error}).")
            return None
        if len(data) > self.MAX_FILE_BYTES:
            self.note(f"{rel} is larger than {self.MAX_FILE_BYTES} bytes; dfix did not read it.")
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            self.note(f"{rel} is not UTF-8 text; dfix did not read it.")
            return None
        cst = _cst()
        from libcst.metadata import PositionProvider

        try:
            tree = cst.parse_module(text)
            wrapper = cst.MetadataWrapper(tree)
            positions = wrapper.resolve(PositionProvider)
        except cst.ParserSyntaxError as error:
            self.note(f"{rel} has a Python syntax error (line {error.raw_line}): dfix did not read it.")
            return None
        except (RecursionError, ValueError, TypeError) as error:  # pragma: no cover - parser internals
            self.note(f"{rel} could not be parsed ({error}).")
            return None
        mod = _Mod(rel, name, package, text, wrapper.module, positions, root, script)
        mod.top = _Scope(mod, mod.tree, None, True if script else False)
        self.mods[rel] = mod
        return mod

    def _func_scope(self, scope: _Scope, func: Any) -> _Scope:
        key = id(func)
        if key not in self.func_scopes:
            params = [p.name.value for p in _all_params(func.params)]
            self.func_scopes[key] = _Scope(scope.mod, func.body, scope, None, params)
        return self.func_scopes[key]

    # -- name resolution ----------------------------------------------------------------------------
    def _lookup(self, scope: _Scope, name: str, depth: int = 0) -> list[_Binding] | None:
        current: _Scope | None = scope
        while current is not None:
            if name in current.bindings:
                return current.bindings[name]
            current = current.parent
        top = scope.mod.top
        if depth < 5 and top is not None:
            for star in reversed(top.stars):
                mod = self._load_module(star)
                if mod is not None and mod.top is not None:
                    found = self._lookup(mod.top, name, depth + 1)
                    if found:
                        return found
        return None

    def _resolve(self, scope: _Scope, expr: Any, depth: int = 0) -> _Ext | _ModRef | _Local | None:
        cst = _cst()
        if depth > 20:
            return None
        if isinstance(expr, cst.Name):
            bindings = self._lookup(scope, expr.value)
            if not bindings:
                return None
            return self._from_binding(expr.value, bindings, depth)
        if isinstance(expr, cst.Attribute):
            base = self._resolve(scope, expr.value, depth + 1)
            attr = expr.attr.value
            if isinstance(base, _Ext):
                return _Ext(f"{base.qual}.{attr}")
            if isinstance(base, _ModRef):
                return self._member(base.mod, attr, depth + 1)
        return None

    def _from_binding(self, name: str, bindings: list[_Binding], depth: int) -> _Ext | _ModRef | _Local | None:
        binding = bindings[-1]
        if binding.kind == "import":
            mod = self._load_module(binding.target)
            return _ModRef(mod) if mod is not None else _Ext(binding.target)
        if binding.kind == "from":
            mod = self._load_module(binding.target)
            if mod is None:
                sub = self._load_module(f"{binding.target}.{binding.attr}")
                return _ModRef(sub) if sub is not None else _Ext(f"{binding.target}.{binding.attr}")
            return self._member(mod, binding.attr, depth + 1)
        if binding.kind in ("assign", "def", "class"):
            return _Local(name, [b for b in bindings if b.kind in ("assign", "def", "class")])
        return None

    def _member(self, mod: _Mod, attr: str, depth: int) -> _Ext | _ModRef | _Local | None:
        bindings = self._lookup(mod.top, attr) if mod.top is not None else None
        if bindings:
            return self._from_binding(attr, bindings, depth)
        if mod.package:
            sub = self._load_module(f"{mod.name}.{attr}")
            if sub is not None:
                return _ModRef(sub)
        return None

    def _qual(self, scope: _Scope, expr: Any) -> str | None:
        ref = self._resolve(scope, expr)
        return ref.qual if isinstance(ref, _Ext) else None

    # -- app objects --------------------------------------------------------------------------------
    def _obj(self, scope: _Scope, expr: Any, depth: int = 0) -> _Obj | None:
        """The app/router/blueprint object an expression evaluates to, if dfix can tell."""
        cst = _cst()
        if depth > 12 or expr is None:
            return None
        if isinstance(expr, cst.Call):
            if id(expr) in self.objs:
                return self.objs[id(expr)]
            callee = self._resolve(scope, expr.func)
            if isinstance(callee, _Ext) and callee.qual in _CONSTRUCTORS:
                kind, framework, interface = _CONSTRUCTORS[callee.qual]
                obj = _Obj(kind, framework, interface, expr, scope, None)
                self.objs[id(expr)] = obj
                return obj
            if isinstance(callee, _Local) and callee.bindings[-1].kind == "def":
                binding = callee.bindings[-1]
                return self._returned(binding.scope, binding.node, depth + 1)
            return None
        ref = self._resolve(scope, expr)
        if isinstance(ref, _Local):
            for binding in reversed(ref.bindings):
                if binding.kind != "assign":
                    return None
                obj = self._obj(binding.scope, binding.node, depth + 1)
                if obj is not None:
                    if obj.name is None and isinstance(binding.node, cst.Call) and obj.call is binding.node:
                        obj.name = ref.name
                    return obj
                # `app = SomeMiddleware(app)` wraps the app made above; its routes are still served
                if not (isinstance(binding.node, cst.Call) and any(
                        isinstance(a.value, cst.Name) and a.value.value == ref.name for a in binding.node.args)):
                    return None
        return None

    def _returned(self, scope: _Scope, func: Any, depth: int) -> _Obj | None:
        """The object a factory function returns."""
        cst = _cst()
        inner = self._func_scope(scope, func)
        for stmt in _statements(func.body, None):
            if isinstance(stmt, cst.Return) and stmt.value is not None:
                obj = self._obj(inner, stmt.value, depth + 1)
                if obj is not None:
                    if obj.factory is None and obj.scope is inner:
                        obj.factory = func
                    return obj
        return None

    # -- evaluation of constants ---------------------------------------------------------------------
    def _eval(self, scope: _Scope, expr: Any, used: list[str] | None = None, depth: int = 0) -> Any:
        """A constant value (str, int, bool, None, list) or UNKNOWN; reads ENV through os.environ/getenv."""
        cst = _cst()
        if depth > 15 or expr is None:
            return UNKNOWN
        used = used if used is not None else []
        if isinstance(expr, cst.SimpleString):
            value = expr.evaluated_value
            return value if isinstance(value, str) else UNKNOWN
        if isinstance(expr, cst.ConcatenatedString):
            left, right = self._eval(scope, expr.left, used, depth + 1), self._eval(scope, expr.right, used, depth + 1)
            return left + right if isinstance(left, str) and isinstance(right, str) else UNKNOWN
        if isinstance(expr, cst.FormattedString):
            out = []
            for part in expr.parts:
                if isinstance(part, cst.FormattedStringText):
                    if "\\" in part.value or "{{" in part.value or "}}" in part.value:
                        return UNKNOWN
                    out.append(part.value)
                else:
                    if part.conversion or part.format_spec:
                        return UNKNOWN
                    value = self._eval(scope, part.expression, used, depth + 1)
                    if value is UNKNOWN or isinstance(value, list):
                        return UNKNOWN
                    out.append(str(value))
            return "".join(out)
        if isinstance(expr, cst.Integer):
            value = expr.evaluated_value
            return value if isinstance(value, int) else UNKNOWN
        if isinstance(expr, (cst.List, cst.Tuple)):
            items = []
            for element in expr.elements:
                if isinstance(element, cst.StarredElement):
                    return UNKNOWN
                items.append(self._eval(scope, element.value, used, depth + 1))
            return items
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            left, right = self._eval(scope, expr.left, used, depth + 1), self._eval(scope, expr.right, used, depth + 1)
            if type(left) is type(right) and isinstance(left, (str, int, list)) and not isinstance(left, bool):
                return left + right
            return UNKNOWN
        if isinstance(expr, cst.Name) and expr.value in ("True", "False", "None"):
            return {"True": True, "False": False, "None": None}[expr.value]
        if isinstance(expr, cst.Subscript):
            if self._qual(scope, expr.value) == "os.environ" and len(expr.slice) == 1:
                key = self._eval(scope, getattr(expr.slice[0].slice, "value", None), used, depth + 1)
                if isinstance(key, str) and key in self.env:
                    used.append(key)
                    return self.env[key]
            return UNKNOWN
        if isinstance(expr, cst.Call):
            qual = self._qual(scope, expr.func)
            if qual in _ENV_GETTERS:
                key = self._eval(scope, _arg(expr, 0, "key"), used, depth + 1)
                if not isinstance(key, str):
                    return UNKNOWN
                if key in self.env:
                    used.append(key)
                    return self.env[key]
                default = _arg(expr, 1, "default")
                return None if default is None else self._eval(scope, default, used, depth + 1)
            if isinstance(expr.func, cst.Name) and expr.func.value in ("int", "str") \
                    and self._lookup(scope, expr.func.value) is None and len(expr.args) == 1:
                value = self._eval(scope, expr.args[0].value, used, depth + 1)
                if expr.func.value == "str" and isinstance(value, (str, int)) and not isinstance(value, bool):
                    return str(value)
                if expr.func.value == "int":
                    if isinstance(value, int) and not isinstance(value, bool):
                        return value
                    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
                        return int(value)
            return UNKNOWN
        if isinstance(expr, (cst.Name, cst.Attribute)):
            ref = self._resolve(scope, expr)
            if isinstance(ref, _Local):
                last = ref.bindings[-1]
                if last.kind == "assign":
                    return self._eval(last.scope, last.node, used, depth + 1)
        return UNKNOWN

    # -- the command ------------------------------------------------------------------------------
    def _command(self, argv: list[str], depth: int = 0) -> list[str] | None:
        if not argv or not any(w.strip() for w in argv):
            self.note("The image has no command (no ENTRYPOINT or CMD).")
            return None
        head = posixpath.basename(argv[0])
        if head in _SHELLS and len(argv) >= 3 and argv[1].startswith("-") and "c" in argv[1] and not argv[1].startswith("--"):
            return self._shell(argv[2], depth)
        if any("$" in w for w in argv[1:]) or "$" in argv[0]:
            self.note("The exec-form command contains $ words, which Docker passes to the program unexpanded.")
        return self._unwrap(list(argv), shell=False, depth=depth)

    def _shell(self, script: str, depth: int) -> list[str] | None:
        used: list[str] = []
        missing: list[str] = []
        expanded = _expand(script, self.env, used, missing)
        for name in dict.fromkeys(missing):
            self.note(f"The shell command reads ${name}, which no ENV sets; dfix kept it as written.")
        self.shell_env_used = list(dict.fromkeys(used))
        if "`" in script or "$(" in script:
            self.note("The shell command uses command substitution, which dfix does not run.")
        try:
            lexer = shlex.shlex(expanded, posix=True, punctuation_chars=";&|()<>")
            lexer.whitespace_split = True
            tokens = list(lexer)
        except ValueError as error:
            self.note(f"The shell command cannot be split into words ({error}).")
            return None
        commands: list[list[str]] = [[]]
        skip_next = False
        for token in tokens:
            if skip_next:
                skip_next = False
                continue
            if token in _SHELL_OPERATORS:
                commands.append([])
            elif token in _REDIRECTIONS:
                skip_next = True
            elif token in ("(", ")", "{", "}"):
                continue
            else:
                commands[-1].append(token)
        commands = [c for c in commands if c]
        if not commands:
            self.note("The shell command is empty.")
            return None
        # the last command that starts a Python program is the server; a `cd` before it moves its cwd
        chosen, chosen_cwd = None, self.cwd
        cwd = self.cwd
        for command in commands:
            words = command[1:] if command[0] == "exec" else command
            if words and words[0] == "cd" and len(words) == 2:
                cwd = self._abs(words[1], cwd)
                continue
            unwrapped = self._unwrap(list(words), shell=True, depth=depth, quiet=True)
            if unwrapped and self._server_kind(unwrapped) is not None:
                chosen, chosen_cwd = words, cwd
        if chosen is None:
            chosen, chosen_cwd = commands[-1], cwd
        if len(commands) > 1:
            self.note(f"The shell command runs {len(commands)} commands; dfix read the one that starts the server: "
                      f"{' '.join(chosen)}.")
        self.cwd = chosen_cwd
        return self._unwrap(list(chosen), shell=True, depth=depth)

    def _unwrap(self, words: list[str], shell: bool, depth: int, quiet: bool = False) -> list[str] | None:
        """Strip what only starts the real program: env assignments, init shims, `poetry run` and kin,
        an entrypoint script that ends in `exec "$@"`."""
        for _ in range(10):
            if not words:
                return None
            head = posixpath.basename(words[0])
            if shell and _ENV_NAME.match(words[0]):
                name, _, value = words[0].partition("=")
                if not quiet:
                    self.env[name] = value
                words = words[1:]
            elif head == "env":
                rest = words[1:]
                while rest and (rest[0].startswith("-") or _ENV_NAME.match(rest[0])):
                    if _ENV_NAME.match(rest[0]) and not quiet:
                        name, _, value = rest[0].partition("=")
                        self.env[name] = value
                    rest = rest[1:]
                words = rest
            elif head in ("tini", "dumb-init", "tini-static"):
                rest = words[1:]
                while rest and rest[0].startswith("-") and rest[0] != "--":
                    rest = rest[1:]
                words = rest[1:] if rest and rest[0] == "--" else rest
            elif head in ("gosu", "su-exec") and len(words) > 2:
                words = words[2:]
            elif head in ("poetry", "pipenv", "pdm", "hatch", "rye") and len(words) > 1 and words[1] == "run":
                words = words[2:]
            elif head == "uv" and len(words) > 1 and words[1] == "run":
                _, rest = _first_positional(words[2:], _UV_RUN_VALUE)
                words = rest
            elif head == "ddtrace-run":
                words = words[1:]
            elif head == "opentelemetry-instrument":
                rest = words[1:]
                while rest and rest[0].startswith("--"):
                    rest = rest[1:] if "=" in rest[0] else rest[2:]
                words = rest
            elif head == "exec" and shell:
                words = words[1:]
            elif depth < 2 and self._is_shell_script(words):
                replaced = self._entry_script(words, depth, quiet)
                if replaced is None:
                    return words
                words = replaced
            else:
                return words
        return words

    def _is_shell_script(self, words: list[str]) -> bool:
        head = posixpath.basename(words[0])
        if head in _SHELLS and len(words) > 1 and not words[1].startswith("-"):
            return True
        return words[0].endswith(".sh")

    def _entry_script(self, words: list[str], depth: int, quiet: bool) -> list[str] | None:
        """The command an entrypoint shell script ends in: its last `exec` line, with "$@" standing for
        the words after the script."""
        script_index = 1 if posixpath.basename(words[0]) in _SHELLS else 0
        script = words[script_index]
        rel = self._context_file(self._abs(script))
        if rel is None:
            if not quiet:
                self.note(f"The command runs the script {script}, which dfix cannot find in the build context.")
            return None
        try:
            lines = (self.overlay[rel] if rel in self.overlay else (self.root / rel).read_text(encoding="utf-8")).splitlines()
        except (OSError, UnicodeDecodeError):
            return None
        rest = words[script_index + 1:]
        exec_lines = [line.strip() for line in lines if line.strip().startswith("exec ")]
        if not exec_lines:
            if not quiet:
                self.note(f"The entrypoint script {rel} does not end in an exec line; dfix did not follow it.")
            return None
        line = exec_lines[-1][len("exec "):]
        if line.strip() in ('"$@"', "$@"):
            if not quiet:
                self.note(f"The entrypoint script {rel} runs the command given to it (exec \"$@\").")
            return rest
        if not quiet:
            self.note(f"dfix read the server command from the last exec line of {rel}.")
        try:
            inner = shlex.split(line.replace('"$@"', " ".join(shlex.quote(w) for w in rest)))
        except ValueError:
            return None
        return inner

    def _server_kind(self, words: list[str]) -> str | None:
        head = posixpath.basename(words[0])
        if head in _SERVER_PROGRAMS:
            return _SERVER_PROGRAMS[head]
        if _PYTHON.match(head):
            return "python"
        return None

    # -- dispatch by program ------------------------------------------------------------------------
    def _dispatch(self, words: list[str]) -> None:
        head = posixpath.basename(words[0])
        program = _SERVER_PROGRAMS.get(head)
        args = words[1:]
        if program is None and _PYTHON.match(head):
            self._python(args)
            return
        if program is None:
            self.note(f"The command runs {words[0]}, which is not a Python server dfix knows.")
            return
        self._program(program, args)

    def _program(self, program: str, args: list[str]) -> None:
        handler = {
            "uvicorn": self._uvicorn,
            "gunicorn": self._gunicorn,
            "hypercorn": self._hypercorn,
            "daphne": self._daphne,
            "flask": self._flask_cli,
            "waitress": self._waitress,
            "django-admin": self._django_admin,
            "fastapi-cli": self._fastapi_cli,
        }[program]
        handler(args)

    def _base_path(self, first: str, extra: Sequence[str] = ()) -> None:
        """sys.path: the first entry, then directories a flag names, then PYTHONPATH."""
        entries = [first, *extra]
        for entry in self.env.get("PYTHONPATH", "").split(":"):
            if entry.strip():
                entries.append(self._abs(entry.strip()))
        self.path = list(dict.fromkeys(posixpath.normpath(e) for e in entries))
        # an installed src-layout project: pip/poetry/uv put <project>/src on sys.path through the venv
        if any(self._context_file(posixpath.join(self.cwd, name)) for name in ("pyproject.toml", "setup.py", "setup.cfg")):
            self.src_fallback = posixpath.join(self.cwd, "src")

    def _cmd_port(self, text: str | None, source: str, flag: str) -> None:
        if text is None:
            return
        port = _port_number(text)
        if port is None:
            self.note(f"The command's {flag} value {text!r} is not a port number.")
            return
        self.port_cmd = (port, "env" if self._from_env(text) else source)

    def _from_env(self, text: str) -> bool:
        """Whether a word of the shell command is the value of an ENV variable the shell expanded."""
        return any(self.env.get(name) == text for name in self.shell_env_used)

    def _python(self, args: list[str]) -> None:
        module = code = script = None
        rest: list[str] = []
        i = 0
        while i < len(args):
            word = args[i]
            if word == "-" or not word.startswith("-"):
                script, rest = word, args[i + 1:]
                break
            if word.startswith("--"):
                i += 2 if word == "--check-hash-based-pycs" else 1
                continue
            cluster = word[1:]  # -u, -OO, -Bu, -um app, -Xdev, -W ignore
            for j, ch in enumerate(cluster):
                if ch in "mcXW":
                    value = cluster[j + 1:]
                    if not value:
                        i += 1
                        value = args[i] if i < len(args) else ""
                    if ch == "m":
                        module, rest = value, args[i + 1:]
                    elif ch == "c":
                        code = value
                    break
            if module is not None or code is not None:
                break
            i += 1
        if code is not None:
            self.note("The command runs python -c code, which dfix does not analyse.")
            self.f.server = "python"
            return
        if module is not None:
            program = {"uvicorn": "uvicorn", "gunicorn": "gunicorn", "hypercorn": "hypercorn", "daphne": "daphne",
                       "flask": "flask", "waitress": "waitress", "django": "django-admin"}.get(module)
            if program is not None:
                self._program(program, rest)
                return
            self._python_module(module, rest)
            return
        if script is None:
            self.note("The command starts an interactive python.")
            self.f.server = "python"
            return
        self._python_script(script, rest)

    def _python_module(self, dotted: str, rest: list[str]) -> None:
        self._base_path(self.cwd)
        found = self._find_module(dotted)
        if found is None:
            self.note(f"python -m {dotted}: dfix cannot find that module in the build context.")
            self.f.server = "python"
            return
        rel, root, package = found
        if package:
            main_rel = self._context_file(posixpath.join(root, *dotted.split("."), "__main__.py"))
            if main_rel is None:
                self.note(f"python -m {dotted}: the package has no __main__.py in the build context.")
                self.f.server = "python"
                return
            rel = main_rel
            name = f"{dotted}.__main__"
        else:
            name = dotted
        mod = self._load(rel, name, root, package=False, script=True)
        self.f.script = rel
        if mod is None:
            self.f.server = "python"
            return
        self.entry.append(mod)
        if rest and rest[0] == "runserver" and self._calls_django(mod):
            self._runserver(rest[1:], mod)
            return
        self._script_servers(mod)

    def _python_script(self, script: str, rest: list[str]) -> None:
        path = self._abs(script)
        rel = self._context_file(path)
        self._base_path(posixpath.dirname(path))
        if rel is None:
            self.note(f"python {script}: dfix cannot find that file in the build context.")
            self.f.server = "python"
            return
        stem = posixpath.basename(path)[:-3] if path.endswith(".py") else posixpath.basename(path)
        mod = self._load(rel, stem, posixpath.dirname(path), script=True)
        self.f.script = rel
        if mod is None:
            self.f.server = "python"
            return
        self.entry.append(mod)
        if rest and rest[0] == "runserver":
            if self._calls_django(mod):
                self._runserver(rest[1:], mod)
                return
        self._script_servers(mod)

    def _calls_django(self, mod: _Mod) -> bool:
        """Whether the script hands its arguments to Django's management commands (manage.py does)."""
        return any((self._qual(scope, call.func) or "").startswith("django.core.management.")
                   for scope, call in self._reachable_calls(mod))

    # -- server CLIs --------------------------------------------------------------------------------
    def _uvicorn(self, args: list[str]) -> None:
        self.f.server = "uvicorn"
        opts, positional = _options(args, _UVICORN_VALUE)
        interface = _last(opts, "--interface")
        self.f.interface = "wsgi" if interface == "wsgi" else "asgi"
        app_dir = _last(opts, "--app-dir") or self.env.get("UVICORN_APP_DIR")
        self._base_path(self.cwd, [self._abs(app_dir)] if app_dir else [])
        self.f.host = _last(opts, "--host") or self.env.get("UVICORN_HOST") or "127.0.0.1"
        self._cmd_port(_last(opts, "--port"), "cmd", "--port")
        if self.port_cmd is None and _port_number(self.env.get("UVICORN_PORT")):
            self.port_env = (_port_number(self.env["UVICORN_PORT"]), "env")
        if _has(opts, "--uds", "--fd"):
            self.unix_socket = True
            self.note("uvicorn listens on a socket given by --uds/--fd, not on a TCP port.")
        if _has(opts, "--reload"):
            self.f.reload_switches.append("--reload")
        if self.env.get("UVICORN_RELOAD", "").lower() in _TRUE_WORDS:
            self.f.reload_switches.append(f"UVICORN_RELOAD={self.env['UVICORN_RELOAD']}")
        factory = _has(opts, "--factory") or self.env.get("UVICORN_FACTORY", "").lower() in _TRUE_WORDS
        target = positional[0] if positional else self.env.get("UVICORN_APP")
        if target is None:
            self.note("uvicorn is not given an app (MODULE:VARIABLE).")
            return
        self._import_target(target, factory=factory, default_attr=None)

    def _gunicorn(self, args: list[str]) -> None:
        self.f.server = "gunicorn"
        env_args: list[str] = []
        if self.env.get("GUNICORN_CMD_ARGS"):
            try:
                env_args = shlex.split(self.env["GUNICORN_CMD_ARGS"])
            except ValueError:
                self.note("GUNICORN_CMD_ARGS cannot be split into words.")
        env_opts, _ = _options(env_args, _GUNICORN_VALUE)
        opts, positional = _options(args, _GUNICORN_VALUE)
        chdir = _last(opts, "--chdir") or _last(env_opts, "--chdir")
        config_setting = _last(opts, "-c", "--config") or _last(env_opts, "-c", "--config")
        config = self._gunicorn_config(config_setting)
        chdir = chdir or config.get("chdir")
        if chdir:
            self.cwd = self._abs(chdir)
        pythonpath = [p for v in (config.get("pythonpath"), _last(env_opts, "--pythonpath"), _last(opts, "--pythonpath")) if v for p in v.split(",")]
        self._base_path(self.cwd, [self._abs(p.strip()) for p in pythonpath if p.strip()])
        worker = _last(opts, "-k", "--worker-class") or _last(env_opts, "-k", "--worker-class") or config.get("worker_class") or ""
        self.f.interface = "asgi" if "uvicorn" in worker.lower() or "asgi" in worker.lower() else "wsgi"
        binds = [v for n, v in opts if n in ("-b", "--bind") and v] or [v for n, v in env_opts if n in ("-b", "--bind") and v]
        if binds:
            self._bind(binds, "gunicorn-bind", "-b/--bind")
        elif config.get("bind"):
            self._bind(config["bind"], "gunicorn-config", "bind in the gunicorn config", from_env=config.get("bind_env", False))
        elif _port_number(self.env.get("PORT")):
            # gunicorn's own default: without a bind it listens on 0.0.0.0:$PORT when PORT is set
            self.port_env = (_port_number(self.env["PORT"]), "env")
            self.f.host = "0.0.0.0"
        else:
            self.f.host = "127.0.0.1"
        if _has(opts, "--reload") or _has(env_opts, "--reload") or config.get("reload") is True:
            self.f.reload_switches.append("--reload" if _has(opts, "--reload") or _has(env_opts, "--reload") else "reload = True (gunicorn config)")
        target = positional[-1] if positional else config.get("wsgi_app")
        if _has(opts, "--paste", "--paste-global"):
            self.note("gunicorn loads the app from a PasteDeploy file, which dfix does not read.")
            return
        if not target:
            self.note("gunicorn is not given an app (MODULE:VARIABLE).")
            return
        self._import_target(target, factory=None, default_attr="application")

    def _gunicorn_config(self, setting: str | None) -> dict[str, Any]:
        """bind, worker_class, wsgi_app, chdir, pythonpath and reload from gunicorn's Python config."""
        if setting is None:
            rel = self._context_file(posixpath.join(self.cwd, "gunicorn.conf.py"))
            if rel is None:
                return {}
        elif setting.startswith("python:"):
            self._base_path(self.cwd)
            found = self._find_module(setting[len("python:"):])
            rel = found[0] if found else None
        else:
            rel = self._context_file(self._abs(setting))
        if rel is None:
            self.note(f"The gunicorn config {setting} is not in the build context.")
            return {}
        if setting is not None and not setting.startswith("python:") and not rel.endswith(".py"):
            self.note(f"dfix reads only Python gunicorn configs, not {rel}.")
            return {}
        mod = self._load(rel, _module_for_file(posixpath.basename(rel)), self.cwd)
        if mod is None or mod.top is None:
            return {}
        out: dict[str, Any] = {}
        for name in ("bind", "worker_class", "wsgi_app", "chdir", "pythonpath", "reload"):
            bindings = mod.top.bindings.get(name)
            if not bindings or bindings[-1].kind != "assign":
                continue
            used: list[str] = []
            value = self._eval(mod.top, bindings[-1].node, used)
            if value is UNKNOWN:
                self.note(f"{name} in {rel} is not a constant dfix can read.")
                continue
            if name == "bind":
                value = [value] if isinstance(value, str) else value
                if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                    continue
                out["bind_env"] = bool(used)
            out[name] = value
        return out

    def _bind(self, binds: list[str], source: str, what: str, from_env: bool = False) -> None:
        """A server's bind addresses; ``source`` names where they were written."""
        if len(binds) > 1:
            self.note(f"The server binds {len(binds)} addresses; dfix took the first, {binds[0]}.")
        bind = binds[0]
        if bind.startswith(("unix:", "fd://")):
            self.unix_socket = True
            self.note(f"The server binds {bind}, not a TCP port.")
            return
        host, port_text = _split_hostport(bind)
        self.f.host = host
        if port_text is None:
            return  # a host alone: the server's default port
        port = _port_number(port_text)
        if port is None:
            self.note(f"{what} {bind!r} has no port number.")
            return
        if source == "gunicorn-config":
            self.port_config = (port, "env" if from_env else source)
        else:
            self.port_cmd = (port, "env" if self._from_env(port_text) else source)

    def _hypercorn(self, args: list[str]) -> None:
        self.f.server = "hypercorn"
        opts, positional = _options(args, _HYPERCORN_VALUE)
        self._base_path(self.cwd)
        binds = [v for n, v in opts if n in ("-b", "--bind", "--insecure-bind") and v]
        if binds:
            self._bind(binds, "cmd", "--bind")
        else:
            self.f.host = "127.0.0.1"
        if _last(opts, "-c", "--config"):
            self.note("dfix does not read hypercorn config files.")
        if _has(opts, "--reload"):
            self.f.reload_switches.append("--reload")
        worker = _last(opts, "-k", "--worker-class") or ""
        if not positional:
            self.note("hypercorn is not given an app (MODULE:VARIABLE).")
            return
        self._import_target(positional[-1], factory=None, default_attr="app")
        if self.f.interface is None:
            self.f.interface = "asgi" if worker != "sync" else "wsgi"

    def _daphne(self, args: list[str]) -> None:
        self.f.server = "daphne"
        self.f.interface = "asgi"
        opts, positional = _options(args, _DAPHNE_VALUE)
        self._base_path(self.cwd)
        self.f.host = _last(opts, "-b", "--bind") or "127.0.0.1"
        self._cmd_port(_last(opts, "-p", "--port"), "cmd", "-p/--port")
        for name, value in opts:
            if name in ("-e", "--endpoint") and value:
                match = re.search(r"(?:^|:)port=(\d+)", value)
                if match and self.port_cmd is None:
                    self._cmd_port(match.group(1), "cmd", "--endpoint")
        if _has(opts, "-u", "--unix-socket", "--fd"):
            self.unix_socket = True
            self.note("daphne listens on a socket, not on a TCP port.")
        if not positional:
            self.note("daphne is not given an app (MODULE:VARIABLE).")
            return
        self._import_target(positional[-1], factory=None, default_attr=None)

    def _waitress(self, args: list[str]) -> None:
        self.f.server = "waitress"
        self.f.interface = "wsgi"
        opts, positional = _options(args, _WAITRESS_VALUE)
        self._base_path(self.cwd)
        listen = _last(opts, "--listen")
        if listen:
            host, port_text = _split_hostport(listen)
            self.f.host = host
            self._cmd_port(port_text, "cmd", "--listen")
        else:
            self.f.host = _last(opts, "--host") or "0.0.0.0"
            self._cmd_port(_last(opts, "--port"), "cmd", "--port")
        if not positional:
            self.note("waitress-serve is not given an app (MODULE:VARIABLE).")
            return
        self._import_target(positional[-1], factory=_has(opts, "--call"), default_attr="application")

    def _flask_cli(self, args: list[str]) -> None:
        self.f.server = "flask"
        self.f.interface = "wsgi"
        global_opts, rest = _first_positional(args, _FLASK_GLOBAL_VALUE)
        if not rest or rest[0] != "run":
            self.note(f"flask {rest[0]} does not start a server." if rest else "flask without run starts no server.")
            return
        opts, _ = _options(rest[1:], _FLASK_RUN_VALUE)
        self._base_path(self.cwd)
        self.f.host = _last(opts, "--host", "-h") or self.env.get("FLASK_RUN_HOST") or "127.0.0.1"
        self._cmd_port(_last(opts, "--port", "-p"), "cmd", "--port")
        if self.port_cmd is None and _port_number(self.env.get("FLASK_RUN_PORT")):
            self.port_env = (_port_number(self.env["FLASK_RUN_PORT"]), "env")
        for flag in ("--debug", "--reload", "--debugger"):
            if _has(global_opts + opts, flag):
                self.f.reload_switches.append(flag)
        if self.env.get("FLASK_DEBUG", "").lower() in _TRUE_WORDS and not _has(global_opts, "--no-debug"):
            self.f.reload_switches.append(f"FLASK_DEBUG={self.env['FLASK_DEBUG']}")
        target = _last(global_opts, "--app", "-A") or self.env.get("FLASK_APP")
        self._flask_target(target)

    def _flask_target(self, target: str | None) -> None:
        """FLASK_APP / --app: "module", "module:name", "module:factory()", "path/file.py"; else discovery."""
        if target is None:
            for candidate in ("wsgi", "app"):
                if self._find_module(candidate) is not None:
                    target = candidate
                    break
            if target is None:
                self.note("flask run finds no app: FLASK_APP is not set and there is no wsgi.py or app.py.")
                return
        module, _, attr = target.partition(":")
        if module.endswith(".py") or "/" in module:
            path = self._abs(module[:-3] if module.endswith(".py") else module)
            # Flask puts the first directory above the file's packages on sys.path
            directory, name = posixpath.dirname(path), posixpath.basename(path)
            parts = [name]
            while self._context_file(posixpath.join(directory, "__init__.py")):
                parts.insert(0, posixpath.basename(directory))
                directory = posixpath.dirname(directory)
            self.path.insert(0, directory)
            module = ".".join(parts)
        factory = attr.endswith(")")
        if factory:
            attr = attr[: attr.index("(")]
        self._import_target(f"{module}:{attr}" if attr else module, factory=factory or None, default_attr=None, flask=True)

    def _fastapi_cli(self, args: list[str]) -> None:
        self.f.server = "fastapi-cli"
        self.f.interface = "asgi"
        if not args or args[0] not in ("run", "dev"):
            self.note("fastapi without run/dev does not start a server.")
            return
        opts, positional = _options(args[1:], _FASTAPI_VALUE)
        self.f.host = _last(opts, "--host") or ("0.0.0.0" if args[0] == "run" else "127.0.0.1")
        self._cmd_port(_last(opts, "--port"), "cmd", "--port")
        if args[0] == "dev" and not _has(opts, "--no-reload"):
            self.f.reload_switches.append("dev")
        elif _has(opts, "--reload"):
            self.f.reload_switches.append("--reload")
        self._base_path(self.cwd)
        entry = _last(opts, "--entrypoint", "-e")
        if entry:
            self._import_target(entry, factory=None, default_attr=None)
            return
        candidates = [positional[0]] if positional else ["main.py", "app.py", "api.py", "app/main.py", "app/app.py", "app/api.py"]
        for candidate in candidates:
            path = self._abs(candidate)
            if self._context_file(path) is None and self._context_file(posixpath.join(path, "__init__.py")):
                path = posixpath.join(path, "__init__.py")
            if self._context_file(path) is None:
                continue
            directory = posixpath.dirname(path)
            parts = [] if path.endswith("__init__.py") else [posixpath.basename(path)[:-3]]
            while self._context_file(posixpath.join(directory, "__init__.py")):
                parts.insert(0, posixpath.basename(directory))
                directory = posixpath.dirname(directory)
            self.path.insert(0, directory)
            attr = _last(opts, "--app")
            self._import_target(".".join(parts) + (f":{attr}" if attr else ""), factory=None, default_attr=None, names=("app", "api"))
            return
        self.note("fastapi run finds no app file (main.py, app.py, api.py or app/...).")

    def _django_admin(self, args: list[str]) -> None:
        if not args or args[0] != "runserver":
            self.note(f"django-admin {args[0]} does not start a server." if args else "django-admin without runserver starts no server.")
            return
        self._base_path(self.cwd)
        self._runserver(args[1:], None)

    def _runserver(self, args: list[str], script: _Mod | None) -> None:
        self.f.server = "django-runserver"
        self.f.framework = "django"
        self.f.interface = "wsgi"
        opts, positional = _options(args, _RUNSERVER_VALUE)
        if not _has(opts, "--noreload"):
            self.f.reload_switches.append("runserver")
        self.f.host = "127.0.0.1"
        if positional:
            host, port_text = _split_hostport(positional[0])
            if port_text is not None:
                self.f.host = host or self.f.host
                self._cmd_port(port_text, "cmd", "runserver address")
        extra = _last(opts, "--pythonpath")
        if extra:
            self.path.append(self._abs(extra))
        settings = _last(opts, "--settings") or self._settings_module(script)
        if settings is None:
            return
        self._django(settings, app_from_settings=True)

    # -- python scripts -----------------------------------------------------------------------------
    def _script_servers(self, mod: _Mod) -> None:
        """What a script starts: the first uvicorn.run / Flask app.run / waitress.serve its code reaches."""
        served: list[tuple[str, _Scope, Any]] = []
        for scope, call in self._reachable_calls(mod):
            qual = self._qual(scope, call.func)
            cst = _cst()
            if qual in ("uvicorn.run", "uvicorn.main.run", "uvicorn.Config", "uvicorn.config.Config"):
                served.append(("uvicorn", scope, call))
            elif qual in ("waitress.serve",):
                served.append(("waitress", scope, call))
            elif isinstance(call.func, cst.Attribute) and call.func.attr.value == "run":
                obj = self._obj(scope, call.func.value)
                if obj is not None and obj.kind == "app" and obj.framework == "flask":
                    served.append(("app.run", scope, call))
                elif obj is None and (_arg(call, None, "debug") is not None or _arg(call, None, "use_reloader") is not None):
                    self.note(f"{scope.mod.rel}:{scope.mod.line(call)} calls {scope.mod.code(call.func)} on an object dfix "
                              f"cannot identify as a Flask app.")
        self._report_reload_calls(served)
        if not served:
            self.f.server = "python"
            self.note(f"{mod.rel} starts no server dfix recognises (uvicorn.run, Flask app.run, waitress.serve).")
            return
        kinds = {(k, id(c)) for k, _, c in served}
        if len(kinds) > 1:
            self.note(f"{mod.rel} can start the server in {len(kinds)} places; dfix read the first.")
        kind, scope, call = served[0]
        if kind == "uvicorn":
            self._uvicorn_call(scope, call)
        elif kind == "waitress":
            self._waitress_call(scope, call)
        else:
            self._app_run_call(scope, call)

    def _reachable_calls(self, mod: _Mod) -> list[tuple[_Scope, Any]]:
        """Calls the script runs: its module code (the `__main__` side of `if __name__` tests) and, through
        calls, the bodies of the functions it reaches in its own and imported modules."""
        cst = _cst()
        out: list[tuple[_Scope, Any]] = []
        seen: set[int] = set()

        def run(scope: _Scope, statements: Iterator[Any]) -> None:
            for stmt in statements:
                if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)) or not hasattr(stmt, "children"):
                    continue
                if isinstance(stmt, (cst.If, cst.Try, cst.With, cst.For, cst.While, cst.Match)):
                    continue  # their blocks come through _statements; headers start no server
                for call in _calls_in(stmt):
                    out.append((scope, call))
                    callee = self._resolve(scope, call.func)
                    if isinstance(callee, _Local) and callee.bindings[-1].kind == "def":
                        binding = callee.bindings[-1]
                        func = binding.node
                        if id(func) in seen or len(seen) > 200:
                            continue
                        seen.add(id(func))
                        run(self._func_scope(binding.scope, func), _statements(func.body, None))

        run(mod.top, _statements(mod.tree, True))
        return out

    def _uvicorn_call(self, scope: _Scope, call: Any) -> None:
        mod = scope.mod
        self.f.server = "uvicorn"
        interface = self._eval(scope, _arg(call, None, "interface"))
        self.f.interface = "wsgi" if interface == "wsgi" else "asgi"
        host = self._eval(scope, _arg(call, None, "host"))
        self.f.host = host if isinstance(host, str) else ("127.0.0.1" if _arg(call, None, "host") is None else None)
        self._code_port(scope, call, "uvicorn.run", _arg(call, None, "port"))
        if _arg(call, None, "uds") is not None or _arg(call, None, "fd") is not None:
            self.unix_socket = True
            self.note("uvicorn.run listens on a socket (uds/fd), not on a TCP port.")
        app_dir = self._eval(scope, _arg(call, None, "app_dir"))
        factory = self._eval(scope, _arg(call, None, "factory")) is True
        target = _arg(call, 0, "app", "config_or_app")
        if isinstance(app_dir, str):
            self.path.insert(0, self._abs(app_dir))
        if target is None:
            self.note(f"{mod.rel}:{mod.line(call)}: uvicorn.run is not given an app dfix can read.")
            return
        value = self._eval(scope, target)
        if isinstance(value, str):
            self._import_target(value, factory=factory, default_attr=None)
            return
        self._app_from_object(scope, target, factory)

    def _waitress_call(self, scope: _Scope, call: Any) -> None:
        self.f.server = "waitress"
        self.f.interface = "wsgi"
        self._code_port(scope, call, "waitress.serve", _arg(call, None, "port"))
        host = self._eval(scope, _arg(call, None, "host"))
        self.f.host = host if isinstance(host, str) else "0.0.0.0"
        target = _arg(call, 0, "app")
        if target is not None:
            self._app_from_object(scope, target, False)

    def _app_run_call(self, scope: _Scope, call: Any) -> None:
        self.f.server = "flask"
        self.f.interface = "wsgi"
        host = self._eval(scope, _arg(call, 0, "host"))
        self.f.host = host if isinstance(host, str) else "127.0.0.1"
        self._code_port(scope, call, "app.run", _arg(call, 1, "port"))
        self._app_from_object(scope, call.func.value, False)

    def _code_port(self, scope: _Scope, call: Any, source: str, expr: Any) -> None:
        if expr is None:
            return
        used: list[str] = []
        value = self._eval(scope, expr, used)
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536:
            self.port_code = (value, "env" if used else source)
        elif value is None:
            return
        else:
            self.note(f"{scope.mod.rel}:{scope.mod.line(call)}: the port passed to {source} is not a constant dfix can read.")

    def _app_from_object(self, scope: _Scope, expr: Any, factory: bool) -> None:
        obj = self._obj(scope, expr)
        if obj is None:
            self.note(f"{scope.mod.rel}: dfix cannot tell which app object {scope.mod.code(expr)} is.")
            return
        self._use_obj(obj)

    # -- the app object ----------------------------------------------------------------------------
    def _import_target(self, target: str, factory: bool | None, default_attr: str | None,
                       flask: bool = False, names: Sequence[str] = ()) -> None:
        """MODULE[:ATTR] as the servers import it."""
        module, _, attr = target.partition(":")
        if module.endswith(".py") or "/" in module:
            # hypercorn and daphne accept a path; the module's directory goes on sys.path
            path = self._abs(module[:-3] if module.endswith(".py") else module)
            self.path.insert(0, posixpath.dirname(path))
            module = posixpath.basename(path)
        if attr.endswith(")"):
            attr = attr[: attr.index("(")]
            factory = True
        if not attr:
            attr = default_attr or ""
        found = self._find_module(module)
        if found is None:
            self.note(f"The app module {module} is not in the build context (searched {', '.join(self.path) or self.cwd}).")
            self.f.module, self.f.variable = module, attr or None
            return
        self.f.module, self.f.file, self.f.module_root = module, found[0], found[1]
        mod = self._load_module(module)
        if mod is None or mod.top is None:
            self.f.variable = attr or None
            return  # the loader noted why
        self.entry.append(mod)
        if not attr:
            attr = self._discover_attr(mod, flask, names)
            if not attr:
                return
        if "." in attr:
            self.note(f"The app attribute {attr} is an attribute path; dfix reads only plain names.")
            self.f.variable = attr
            return
        self.f.variable = attr
        bindings = self._lookup(mod.top, attr)
        if not bindings:
            self.note(f"{mod.rel} does not define {attr}.")
            return
        binding = bindings[-1]
        cst = _cst()
        if binding.kind == "def":
            obj = self._returned(binding.scope, binding.node, 0)
            if obj is not None:
                self.f.factory = True
                if factory is False:
                    self.note(f"{attr} in {mod.rel} returns the app, but the server is not told it is a factory (--factory).")
        else:
            obj = self._obj(mod.top, cst.Name(attr))
        if obj is None:
            self.note(f"dfix cannot tell what kind of app {attr} in {mod.rel} is.")
            return
        self._use_obj(obj, keep_location=True)

    def _discover_attr(self, mod: _Mod, flask: bool, names: Sequence[str]) -> str | None:
        """Flask's and the FastAPI CLI's rules for a module named without a variable."""
        cst = _cst()
        wanted = list(names) or (["app", "application"] if flask else [])
        for name in wanted:
            if mod.top.bindings.get(name):
                return name
        apps = [name for name, b in mod.top.bindings.items()
                if b[-1].kind == "assign" and (o := self._obj(mod.top, cst.Name(name))) is not None and o.kind == "app"]
        if len(apps) == 1:
            return apps[0]
        if flask:
            for name in ("create_app", "make_app"):
                bindings = mod.top.bindings.get(name)
                if bindings and bindings[-1].kind == "def":
                    return name
        self.note(f"dfix cannot tell which object in {mod.rel} is the app.")
        return None

    def _use_obj(self, obj: _Obj, keep_location: bool = False) -> None:
        if obj.kind != "app":
            self.note(f"The served object is a {obj.framework} {obj.kind}, not an app.")
        self.f.framework = obj.framework
        if self.f.interface is None:
            self.f.interface = obj.interface
        elif obj.interface and obj.interface != self.f.interface:
            self.note(f"The server speaks {self.f.interface.upper()} but the app is {obj.interface.upper()}.")
        mod = obj.scope.mod
        if not keep_location:
            self.f.module, self.f.file, self.f.module_root = mod.name, mod.rel, mod.root
            if obj.factory is not None:
                self.f.variable, self.f.factory = obj.factory.name.value, True
            else:
                self.f.variable = obj.name
        if obj.framework == "django":
            settings = self._settings_module(mod)
            if settings is None:
                self.note("The Django settings module is unknown (no DJANGO_SETTINGS_MODULE in ENV or code).")
                return
            self._django(settings, app_from_settings=False)
            return
        self.f.routes = self._routes_of(obj)

    # -- routes -------------------------------------------------------------------------------------
    def _routes_of(self, app: _Obj) -> list[Route]:
        for mod in [*self.entry, app.scope.mod]:
            self._scan_registrations(mod)
        routes: list[Route] = []
        for path, methods, mod, line in self._object_routes(app, set()):
            routes.append(Route(path, methods, mod.rel, line))
        return routes

    def _scan_registrations(self, start: _Mod) -> None:
        """Decorators and include/register/mount calls in the app's module and the local modules it imports."""
        pending = [start]
        while pending:
            mod = pending.pop(0)
            if mod.rel in self.scanned or mod.top is None:
                continue
            self.scanned.add(mod.rel)
            for scope in self._all_scopes(mod):
                pending.extend(self._imported_modules(scope))
                self._scan_scope(scope)

    def _all_scopes(self, mod: _Mod) -> Iterator[_Scope]:
        cst = _cst()
        todo = [mod.top]
        while todo:
            scope = todo.pop(0)
            yield scope
            for stmt in _statements(scope.body, scope.as_main):
                if isinstance(stmt, cst.FunctionDef):
                    todo.append(self._func_scope(scope, stmt))

    def _imported_modules(self, scope: _Scope) -> list[_Mod]:
        out = []
        for bindings in scope.bindings.values():
            for binding in bindings:
                if binding.kind == "import":
                    mod = self._load_module(binding.target)
                elif binding.kind == "from":
                    mod = self._load_module(binding.target)
                    sub = self._load_module(f"{binding.target}.{binding.attr}") if mod is None or mod.package else None
                    if sub is not None:
                        out.append(sub)
                else:
                    continue
                if mod is not None:
                    out.append(mod)
        for star in scope.stars:
            mod = self._load_module(star)
            if mod is not None:
                out.append(mod)
        return out

    def _register(self, obj: _Obj, entry: tuple) -> None:
        self.registrations.setdefault(id(obj.call), []).append(entry)

    def _scan_scope(self, scope: _Scope) -> None:
        cst = _cst()
        mod = scope.mod
        for stmt in _statements(scope.body, scope.as_main):
            if isinstance(stmt, cst.FunctionDef):
                for decorator in stmt.decorators:
                    dec = decorator.decorator
                    if not (isinstance(dec, cst.Call) and isinstance(dec.func, cst.Attribute)):
                        continue
                    obj = self._obj(scope, dec.func.value)
                    if obj is None:
                        continue
                    route = self._route_call(scope, dec, dec.func.attr.value, obj, decorator=True)
                    if route is not None:
                        self._register(obj, ("route", *route, mod, mod.line(decorator)))
                continue
            if isinstance(stmt, (cst.ClassDef, cst.If, cst.Try, cst.With, cst.For, cst.While, cst.Match)):
                continue
            for call in _calls_in(stmt):
                if not isinstance(call.func, cst.Attribute):
                    continue
                method = call.func.attr.value
                if method not in ("include_router", "register_blueprint", "mount", "add_url_rule", "add_api_route", "add_route", "route"):
                    continue
                obj = self._obj(scope, call.func.value)
                if obj is None:
                    continue
                line = mod.line(call)
                if method in ("include_router", "register_blueprint"):
                    child = self._obj(scope, _arg(call, 0, "router", "blueprint"))
                    if child is None:
                        self.note(f"{mod.rel}:{line}: dfix cannot tell which router {method} adds.")
                        continue
                    key = "prefix" if method == "include_router" else "url_prefix"
                    prefix = self._eval(scope, _arg(call, None, key)) if _arg(call, None, key) is not None else None
                    if prefix is UNKNOWN:
                        self.note(f"{mod.rel}:{line}: the {key} is not a constant dfix can read.")
                        continue
                    self._register(obj, ("child", child, prefix, "fastapi" if method == "include_router" else "flask"))
                elif method == "mount":
                    path = self._eval(scope, _arg(call, 0, "path"))
                    child = self._obj(scope, _arg(call, 1, "app"))
                    if isinstance(path, str) and child is not None:
                        self._register(obj, ("child", child, path, "mount"))
                else:
                    route = self._route_call(scope, call, method, obj, decorator=False)
                    if route is not None:
                        self._register(obj, ("route", *route, mod, line))

    def _route_call(self, scope: _Scope, call: Any, method: str, obj: _Obj, decorator: bool) -> tuple[str, tuple[str, ...]] | None:
        """(path, methods) of @x.get(path), @x.route(path, methods=...), x.add_url_rule(...) and kin."""
        if method in _METHOD_DECORATORS:
            methods: Any = (method.upper(),)
        elif method in ("route", "api_route", "add_url_rule", "add_api_route", "add_route"):
            if method == "route" and not decorator:
                return None
            given = _arg(call, None, "methods")
            if given is None:
                methods = ("GET",)
            else:
                value = self._eval(scope, given)
                if not (isinstance(value, list) and all(isinstance(m, str) for m in value)):
                    self.note(f"{scope.mod.rel}:{scope.mod.line(call)}: the route's methods are not a constant dfix can read.")
                    return None
                methods = tuple(m.upper() for m in value)
        else:
            return None
        path = self._eval(scope, _arg(call, 0, "path", "rule"))
        if not isinstance(path, str):
            self.note(f"{scope.mod.rel}:{scope.mod.line(call)}: the route path is not a constant dfix can read.")
            return None
        return path, methods

    def _object_routes(self, obj: _Obj, seen: set[int]) -> list[tuple[str, tuple[str, ...], _Mod, int]]:
        """Routes an object serves, with paths relative to where it is mounted (a FastAPI router's own
        prefix included; a Flask blueprint's url_prefix is applied where it is registered)."""
        if id(obj.call) in seen:
            return []
        seen = seen | {id(obj.call)}
        scope, call = obj.scope, obj.call
        own_prefix = ""
        if obj.kind == "router" and obj.framework == "fastapi":
            value = self._eval(scope, _arg(call, None, "prefix")) if _arg(call, None, "prefix") is not None else ""
            if not isinstance(value, str):
                self.note(f"{scope.mod.rel}:{scope.mod.line(call)}: the router prefix is not a constant dfix can read.")
                return []
            own_prefix = value
        out: list[tuple[str, tuple[str, ...], _Mod, int]] = []
        routes_arg = _arg(call, None, "routes")
        if routes_arg is not None and obj.framework in ("starlette", "fastapi"):
            out.extend(self._route_list(scope, routes_arg, seen))
        for entry in self.registrations.get(id(call), []):
            if entry[0] == "route":
                _, path, methods, mod, line = entry
                out.append((path, methods, mod, line))
            else:
                _, child, prefix, style = entry
                for path, methods, mod, line in self._object_routes(child, seen):
                    if style == "flask":
                        child_prefix = prefix
                        if child_prefix is None:
                            value = _arg(child.call, None, "url_prefix")
                            child_prefix = self._eval(child.scope, value) if value is not None else None
                            if child_prefix is UNKNOWN:
                                self.note("A blueprint's url_prefix is not a constant dfix can read.")
                                child_prefix = None
                        out.append((_flask_join(child_prefix, path), methods, mod, line))
                    elif style == "mount":
                        out.append((prefix.rstrip("/") + path, methods, mod, line))
                    else:
                        out.append(((prefix or "") + path, methods, mod, line))
        return [(own_prefix + path, methods, mod, line) for path, methods, mod, line in out]

    def _route_list(self, scope: _Scope, expr: Any, seen: set[int], depth: int = 0) -> list[tuple[str, tuple[str, ...], _Mod, int]]:
        """Starlette's routes=[Route(...), Mount(...)] (also through a name bound to the list)."""
        cst = _cst()
        mod = scope.mod
        if depth > 10:
            return []
        if isinstance(expr, (cst.Name, cst.Attribute)):
            ref = self._resolve(scope, expr)
            if isinstance(ref, _Local) and ref.bindings[-1].kind == "assign":
                binding = ref.bindings[-1]
                return self._route_list(binding.scope, binding.node, seen, depth + 1)
            self.note(f"{mod.rel}: dfix cannot read the route list {mod.code(expr)}.")
            return []
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            return self._route_list(scope, expr.left, seen, depth + 1) + self._route_list(scope, expr.right, seen, depth + 1)
        if not isinstance(expr, (cst.List, cst.Tuple)):
            self.note(f"{mod.rel}:{mod.line(expr)}: dfix cannot read the route list.")
            return []
        out = []
        for element in expr.elements:
            item = element.value
            if not isinstance(item, cst.Call):
                continue
            qual = self._qual(scope, item.func) or ""
            kind = qual.rsplit(".", 1)[-1]
            if qual not in _ROUTE_CLASSES and not qual.startswith(("starlette.", "fastapi.")):
                continue
            path = self._eval(scope, _arg(item, 0, "path"))
            if not isinstance(path, str):
                self.note(f"{mod.rel}:{mod.line(item)}: the route path is not a constant dfix can read.")
                continue
            if kind in ("Route", "APIRoute"):
                given = _arg(item, None, "methods")
                methods = self._eval(scope, given) if given is not None else ["GET"]
                if not (isinstance(methods, list) and all(isinstance(m, str) for m in methods)):
                    self.note(f"{mod.rel}:{mod.line(item)}: the route's methods are not a constant dfix can read.")
                    continue
                out.append((path, tuple(m.upper() for m in methods), mod, mod.line(item)))
            elif kind == "Mount":
                inner = _arg(item, None, "routes")
                if inner is not None:
                    children = self._route_list(scope, inner, seen, depth + 1)
                else:
                    child = self._obj(scope, _arg(item, 1, "app"))
                    children = self._object_routes(child, seen) if child is not None else []
                out.extend((path.rstrip("/") + p, m, cm, ln) for p, m, cm, ln in children)
        return out

    # -- Django ---------------------------------------------------------------------------------------
    def _settings_module(self, mod: _Mod | None) -> str | None:
        """DJANGO_SETTINGS_MODULE for code that runs ``mod``: os.environ[...] = x in it wins over ENV;
        ENV wins over its os.environ.setdefault(...); manage.py's choice is the last guess."""
        if mod is None:
            return self.env.get("DJANGO_SETTINGS_MODULE") or self._settings_from_manage()
        cst = _cst()
        forced = default = None
        for scope in self._all_scopes(mod):
            for stmt in _statements(scope.body, scope.as_main):
                if isinstance(stmt, cst.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0].target, cst.Subscript):
                    target = stmt.targets[0].target
                    if self._qual(scope, target.value) == "os.environ" and len(target.slice) == 1 \
                            and self._eval(scope, getattr(target.slice[0].slice, "value", None)) == "DJANGO_SETTINGS_MODULE":
                        value = self._eval(scope, stmt.value)
                        if isinstance(value, str):
                            forced = value
                if isinstance(stmt, (cst.FunctionDef, cst.ClassDef, cst.If, cst.Try, cst.With, cst.For, cst.While)):
                    continue
                for call in _calls_in(stmt):
                    if self._qual(scope, call.func) == "os.environ.setdefault" \
                            and self._eval(scope, _arg(call, 0, "key")) == "DJANGO_SETTINGS_MODULE":
                        value = self._eval(scope, _arg(call, 1, "default"))
                        if isinstance(value, str) and default is None:
                            default = value
        found = forced or self.env.get("DJANGO_SETTINGS_MODULE") or default
        if found is None and not mod.rel.endswith("manage.py"):
            found = self._settings_from_manage()
            if found is not None:
                self.note(f"{mod.rel} does not name its settings module; dfix took manage.py's, {found}.")
        return found

    def _settings_from_manage(self) -> str | None:
        rel = self._context_file(posixpath.join(self.cwd, "manage.py"))
        if rel is None:
            return None
        mod = self._load(rel, "manage", self.cwd)
        return self._settings_module(mod) if mod is not None else None

    def _django(self, settings_name: str, app_from_settings: bool) -> None:
        self.f.framework = "django"
        settings = self._load_module(settings_name)
        if settings is None:
            self.note(f"The Django settings module {settings_name} is not in the build context.")
            return
        root_urlconf = self._setting(settings, "ROOT_URLCONF")
        if app_from_settings:
            wsgi = self._setting(settings, "WSGI_APPLICATION")
            if isinstance(wsgi, str) and "." in wsgi:
                module, _, variable = wsgi.rpartition(".")
                found = self._find_module(module)
                self.f.module, self.f.variable = module, variable
                if found:
                    self.f.file, self.f.module_root = found[0], found[1]
        if not isinstance(root_urlconf, str):
            self.note(f"ROOT_URLCONF in {settings.rel} is missing or not a constant dfix can read.")
            return
        urls = self._load_module(root_urlconf)
        if urls is None:
            self.note(f"The URL configuration {root_urlconf} is not in the build context.")
            return
        self.f.routes = [Route(path, ("*",), mod.rel, line) for path, mod, line in self._urlpatterns(urls, "", set())]

    def _setting(self, settings: _Mod, name: str) -> Any:
        bindings = self._lookup(settings.top, name)
        if not bindings or bindings[-1].kind != "assign":
            return None
        return self._eval(bindings[-1].scope, bindings[-1].node)

    def _urlpatterns(self, mod: _Mod, prefix: str, seen: set[str]) -> list[tuple[str, _Mod, int]]:
        if mod.rel in seen or mod.top is None:
            return []
        seen = seen | {mod.rel}
        cst = _cst()
        out: list[tuple[str, _Mod, int]] = []
        bindings = self._lookup(mod.top, "urlpatterns")
        if not bindings:
            self.note(f"{mod.rel} defines no urlpatterns.")
            return []
        assigned = [b for b in bindings if b.kind == "assign"]
        if assigned:
            binding = assigned[-1]
            out.extend(self._pattern_list(binding.scope, binding.node, prefix, seen))
        for stmt in _statements(mod.tree, False):
            if isinstance(stmt, cst.AugAssign) and isinstance(stmt.target, cst.Name) and stmt.target.value == "urlpatterns":
                out.extend(self._pattern_list(mod.top, stmt.value, prefix, seen))
            elif isinstance(stmt, cst.Expr) and isinstance(stmt.value, cst.Call) and isinstance(stmt.value.func, cst.Attribute) \
                    and _dotted(stmt.value.func.value) == "urlpatterns" and stmt.value.args:
                method = stmt.value.func.attr.value
                if method == "append":
                    out.extend(self._pattern_item(mod.top, stmt.value.args[0].value, prefix, seen))
                elif method == "extend":
                    out.extend(self._pattern_list(mod.top, stmt.value.args[0].value, prefix, seen))
        return out

    def _pattern_list(self, scope: _Scope, expr: Any, prefix: str, seen: set[str]) -> list[tuple[str, _Mod, int]]:
        cst = _cst()
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            return self._pattern_list(scope, expr.left, prefix, seen) + self._pattern_list(scope, expr.right, prefix, seen)
        if isinstance(expr, (cst.List, cst.Tuple)):
            out = []
            for element in expr.elements:
                if not isinstance(element, cst.StarredElement):
                    out.extend(self._pattern_item(scope, element.value, prefix, seen))
            return out
        if isinstance(expr, cst.Name):
            ref = self._resolve(scope, expr)
            if isinstance(ref, _Local) and ref.bindings[-1].kind == "assign":
                return self._pattern_list(ref.bindings[-1].scope, ref.bindings[-1].node, prefix, seen)
        if isinstance(expr, cst.Call):
            qual = self._qual(scope, expr.func) or ""
            if qual.startswith("django.conf.urls.static"):
                return []  # static(...) serves files in DEBUG only
        self.note(f"{scope.mod.rel}:{scope.mod.line(expr)}: dfix cannot read these URL patterns.")
        return []

    def _pattern_item(self, scope: _Scope, item: Any, prefix: str, seen: set[str]) -> list[tuple[str, _Mod, int]]:
        cst = _cst()
        mod = scope.mod
        if not isinstance(item, cst.Call):
            return []
        qual = self._qual(scope, item.func)
        if qual not in _DJANGO_PATHS:
            return []
        route = self._eval(scope, _arg(item, 0, "route", "regex"))
        if not isinstance(route, str):
            self.note(f"{mod.rel}:{mod.line(item)}: the URL pattern is not a constant dfix can read.")
            return []
        if qual.endswith(("re_path", "url")):
            route = _regex_path(route)
            if route is None:
                return []  # a real regular expression: no single path to name
        view = _arg(item, 1, "view")
        if isinstance(view, cst.Call) and self._qual(scope, view.func) in _DJANGO_INCLUDE:
            return self._include(scope, view, prefix + route, seen)
        if isinstance(view, cst.Attribute) and view.attr.value == "urls":
            return []  # admin.site.urls and routers: their own URL sets, not one endpoint
        return [("/" + prefix + route, mod, mod.line(item))]

    def _include(self, scope: _Scope, call: Any, prefix: str, seen: set[str]) -> list[tuple[str, _Mod, int]]:
        cst = _cst()
        target = _arg(call, 0, "arg")
        if isinstance(target, cst.Tuple) and target.elements:
            target = target.elements[0].value
        value = self._eval(scope, target) if isinstance(target, (cst.SimpleString, cst.ConcatenatedString)) else UNKNOWN
        if isinstance(value, str):
            mod = self._load_module(value)
            if mod is None:
                self.note(f"The included URL configuration {value} is not in the build context.")
                return []
            return self._urlpatterns(mod, prefix, seen)
        if isinstance(target, (cst.List, cst.Tuple)):
            return self._pattern_list(scope, target, prefix, seen)
        ref = self._resolve(scope, target) if target is not None else None
        if isinstance(ref, _ModRef):
            return self._urlpatterns(ref.mod, prefix, seen)
        if isinstance(ref, _Local) and ref.bindings[-1].kind == "assign":
            return self._pattern_list(ref.bindings[-1].scope, ref.bindings[-1].node, prefix, seen)
        self.note(f"{scope.mod.rel}:{scope.mod.line(call)}: dfix cannot follow this include().")
        return []

    # -- reload calls ---------------------------------------------------------------------------------
    def _report_reload_calls(self, served: list[tuple[str, _Scope, Any]]) -> None:
        """uvicorn.run(reload=True) and Flask app.run(debug=True / use_reloader=True) the script reaches."""
        found: dict[str, list[tuple[Any, list[tuple[int, str, bool]]]]] = {}
        mods: dict[str, _Mod] = {}
        for kind, scope, call in served:
            if kind == "uvicorn" and self._qual(scope, call.func) not in ("uvicorn.run", "uvicorn.main.run"):
                continue  # uvicorn.Config's reload does nothing without uvicorn.run
            keywords = {"uvicorn": ("reload",), "app.run": ("debug", "use_reloader")}.get(kind, ())
            offending: list[tuple[int, str, bool]] = []
            positional = 0
            for index, arg in enumerate(call.args):
                if arg.star:
                    if arg.star == "**":
                        self.note(f"{scope.mod.rel}:{scope.mod.line(call)} passes **keywords, which could turn on reloading.")
                    break
                name = arg.keyword.value if arg.keyword is not None else None
                if name is None:
                    if kind == "app.run" and positional == 2:
                        name = "debug"
                        if self._eval(scope, arg.value) is True:
                            offending.append((index, name, True))
                    positional += 1
                    continue
                if name in keywords:
                    value = self._eval(scope, arg.value)
                    if value is True:
                        offending.append((index, name, False))
                    elif value is UNKNOWN:
                        self.note(f"{scope.mod.rel}:{scope.mod.line(call)} sets {name}= to a value dfix cannot read; not reported.")
            if offending:
                found.setdefault(scope.mod.rel, []).append((call, offending))
                mods[scope.mod.rel] = scope.mod
        for rel, calls in found.items():
            mod = mods[rel]
            fixed = self._fix_source(mod, calls)
            for call, offending in calls:
                callee = mod.code(call.func)
                parts = [f"{mod.code(call.args[i].value)} as the {_ordinal(_positional_index(call, i))} positional argument ({name})"
                         if positional else f"{name}={mod.code(call.args[i].value)}" for i, name, positional in offending]
                self.f.reload_calls.append(ReloadCall(rel, mod.line(call), f"{callee}(..., {', '.join(parts)})", fixed))

    def _fix_source(self, mod: _Mod, calls: list[tuple[Any, list[tuple[int, str, bool]]]]) -> str | None:
        cst = _cst()
        replacements: dict[int, Any] = {}
        for call, offending in calls:
            new = call
            for index, _, positional in sorted(offending, reverse=True):
                if positional:
                    args = list(new.args)
                    args[index] = args[index].with_changes(value=cst.Name("False"))
                    new = new.with_changes(args=args)
                else:
                    new = _without_arg(new, index)
            replacements[id(call)] = new

        class Replace(cst.CSTTransformer):
            def leave_Call(self, original: Any, updated: Any) -> Any:
                return replacements.get(id(original), updated)

        fixed = mod.tree.visit(Replace()).code
        if fixed == mod.text or not _same_program_but(mod, fixed, calls):
            self.note(f"dfix could not prove its rewrite of {mod.rel} changes only the reload arguments; no fixed source.")
            return None
        return fixed

    # -- the port and the health route ----------------------------------------------------------------
    def _finish_port(self) -> None:
        default = SERVER_DEFAULT_PORTS.get(self.f.server or "")
        for candidate in (self.port_cmd, self.port_code, self.port_config, self.port_env):
            if candidate is not None:
                self.f.port, self.f.port_source = candidate
                break
        if self.f.port is None and not self.unix_socket:
            ports = sorted(set(self.exposed))
            if len(ports) == 1:
                self.f.port, self.f.port_source = ports[0], "expose"
                if default is not None and default != ports[0]:
                    self.note(f"EXPOSE says {ports[0]} but {self.f.server} listens on {default} unless told otherwise; "
                              f"dfix found nothing telling it otherwise.")
            elif default is not None:
                self.f.port, self.f.port_source = default, "server-default"
                if len(ports) > 1:
                    self.note(f"EXPOSE lists several ports ({', '.join(map(str, ports))}).")
            elif len(ports) > 1:
                self.note(f"EXPOSE lists several ports ({', '.join(map(str, ports))}) and the server's port is unknown.")
        if self.f.port is not None and self.f.port_source not in ("expose", "server-default") and self.exposed \
                and self.f.port not in self.exposed:
            self.note(f"The server listens on {self.f.port} but EXPOSE lists {', '.join(map(str, sorted(set(self.exposed))))}.")

    def _finish_health(self) -> None:
        for wanted in HEALTH_PATHS:
            for route in self.f.routes:
                if route.path in (wanted, wanted + "/") and (set(route.methods) & {"GET", "*"}):
                    self.f.health_route = route.path
                    return


# ---------------------------------------------------------------------------------------------------
# small helpers


def _first_positional(words: list[str], with_value: frozenset[str]) -> tuple[list[tuple[str, str | None]], list[str]]:
    """Options up to the first positional word, and the words from there (a subcommand or program)."""
    opts: list[tuple[str, str | None]] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            return opts, words[i + 1:]
        if not word.startswith("-") or word == "-":
            break
        if "=" in word and word.startswith("--"):
            name, _, value = word.partition("=")
            opts.append((name, value))
        elif word in with_value:
            opts.append((word, words[i + 1] if i + 1 < len(words) else None))
            i += 1
        else:
            opts.append((word, None))
        i += 1
    return opts, words[i:]


def _all_params(params: Any) -> list[Any]:
    cst = _cst()
    out = [*params.posonly_params, *params.params, *params.kwonly_params]
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            out.append(star)
    return out


def _flask_join(prefix: str | None, rule: str) -> str:
    """Flask's Blueprint: url_prefix and rule joined with exactly one slash."""
    if prefix is None:
        return rule
    if not rule:
        return prefix
    return "/".join((prefix.rstrip("/"), rule.lstrip("/")))


def _regex_path(pattern: str) -> str | None:
    """The one path a simple re_path pattern matches (`^healthz/?$` → `healthz`), else None."""
    text = pattern
    if text.startswith("^"):
        text = text[1:]
    for end in ("\\Z", "$"):
        if text.endswith(end):
            text = text[: -len(end)]
    if text.endswith("/?"):
        text = text[:-2]
    unescaped = re.sub(r"\\(.)", r"\1", text)
    if re.search(r"[\\^$.|?*+()\[\]{}]", re.sub(r"\\.", "", text)):
        return None
    return unescaped


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(n, f"{n}th")


def _positional_index(call: Any, index: int) -> int:
    return sum(1 for arg in call.args[: index + 1] if arg.keyword is None and not arg.star)


def _has_comment(ws: Any) -> bool:
    cst = _cst()
    return isinstance(ws, cst.ParenthesizedWhitespace) and (
        ws.first_line.comment is not None or any(line.comment is not None for line in ws.empty_lines)
    )


def _merge_ws(keep: Any, drop: Any, closing: bool) -> Any:
    """The whitespace left where an argument was removed. ``keep`` led into the argument, ``drop``
    followed it. Own-line comments of both survive; the argument's same-line comment goes with it."""
    cst = _cst()
    PW = cst.ParenthesizedWhitespace
    if isinstance(drop, PW):
        first = keep.first_line if isinstance(keep, PW) else cst.TrailingWhitespace(newline=drop.first_line.newline)
        empty = [*(keep.empty_lines if isinstance(keep, PW) else ()), *drop.empty_lines]
        return PW(first_line=first, empty_lines=empty, indent=drop.indent, last_line=drop.last_line)
    if not closing:
        return keep
    if isinstance(keep, PW) and any(line.comment is not None for line in keep.empty_lines):
        return PW(first_line=keep.first_line, empty_lines=keep.empty_lines, indent=keep.indent, last_line=drop)
    return drop


def _without_arg(call: Any, index: int) -> Any:
    """``call`` with argument ``index`` removed, the commas and line layout around it kept."""
    cst = _cst()
    args = list(call.args)
    arg = args[index]
    has_comma = not isinstance(arg.comma, cst.MaybeSentinel)
    whitespace_before_args = call.whitespace_before_args
    if has_comma:
        drop = arg.comma.whitespace_after
        if index > 0:
            prev = args[index - 1]
            args[index - 1] = prev.with_changes(comma=prev.comma.with_changes(
                whitespace_after=_merge_ws(prev.comma.whitespace_after, drop, closing=index == len(args) - 1)))
        else:
            whitespace_before_args = _merge_ws(whitespace_before_args, drop, closing=len(args) == 1)
    else:
        drop = arg.whitespace_after_arg
        if index > 0:
            prev = args[index - 1]
            keep = prev.comma.whitespace_after if not isinstance(prev.comma, cst.MaybeSentinel) else prev.whitespace_after_arg
            args[index - 1] = prev.with_changes(comma=cst.MaybeSentinel.DEFAULT,
                                                whitespace_after_arg=_merge_ws(keep, drop, closing=True))
        else:
            whitespace_before_args = _merge_ws(whitespace_before_args, drop, closing=True)
    del args[index]
    if not args and not _has_comment(whitespace_before_args):
        whitespace_before_args = cst.SimpleWhitespace("")
    return call.with_changes(args=args, whitespace_before_args=whitespace_before_args)


def _same_program_but(mod: _Mod, fixed: str, calls: list[tuple[Any, list[tuple[int, str, bool]]]]) -> bool:
    """Whether ``fixed`` is, to Python's own parser, the original program with exactly the reported
    arguments removed (keywords) or set to False (positionals) and nothing else changed."""
    try:
        before, after = ast.parse(mod.text), ast.parse(fixed)
    except (SyntaxError, ValueError):
        return False
    lines = mod.text.splitlines(keepends=True)
    wanted: dict[tuple[int, int], list[tuple[int, str, bool]]] = {}
    for call, offending in calls:
        start = mod.pos[call].start
        if start.line - 1 >= len(lines):
            return False
        col = len(lines[start.line - 1][: start.column].encode("utf-8"))
        wanted[(start.line, col)] = offending
    matched = 0
    for node in ast.walk(before):
        if not isinstance(node, ast.Call) or (node.lineno, node.col_offset) not in wanted:
            continue
        offending = wanted[(node.lineno, node.col_offset)]
        matched += 1
        names = {name for _, name, positional in offending if not positional}
        node.keywords = [k for k in node.keywords if k.arg not in names]
        for _, _, positional in offending:
            if positional:
                node.args[2] = ast.Constant(False)
    return matched == len(wanted) and ast.dump(before) == ast.dump(after)
