"""What dfix knows about the app a Dockerfile's command runs, and ``analyze_app``, the one entry point the
rules use.

dfix reads the build context the way the container's Python would (the command's working directory and
sys.path, the files the COPY instructions put there) and never imports the app. libcst is imported only
inside the functions that parse Python, so commands that never look at the app do not pay for it.
Anything that cannot be read for sure is left None and explained in ``AppFacts.notes``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ...records import field, record

if TYPE_CHECKING:
    from .env_reads import EnvReads
    from .reload import ReloadCall
    from .route import Route


@record
class AppFacts:
    server: str | None = None  # "uvicorn", "gunicorn", "hypercorn", "daphne", "flask", "django-runserver", "fastapi-cli", "waitress", "granian", "python"
    framework: str | None = None  # "fastapi", "starlette", "flask", "django", "litestar"
    interface: str | None = None  # "asgi" | "wsgi" | "rsgi" (granian's own)
    module: str | None = None  # dotted module holding the app object, relative to module_root
    variable: str | None = None  # the app object's name there (the factory's name when factory is True)
    file: str | None = None  # context-relative path of that module
    routes: list[Route] = field(default_factory=list)
    health_route: str | None = None  # first of route.HEALTH_PATHS the app serves for GET (a Django "/healthz/" counts)
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
    env_reads: EnvReads | None = None,
) -> AppFacts:
    """Facts about the app ``argv`` starts in a container with this WORKDIR and ENV.

    ``resolve`` maps an absolute container path to the context-relative path the COPY instructions put
    there (or None); ``exposed`` are the final stage's EXPOSEd ports. ``env_reads``, when given, notes
    which ENV names the reading looked at (for a caller that reuses the facts).
    """
    from .reading import Reading

    facts = AppFacts()
    env = dict(env) if env_reads is None else env_reads.watched()
    reading = Reading(Path(context_root), list(argv), workdir or "/", env, resolve, list(exposed), facts)
    # files a pending fix rewrites (context-relative path -> text): read instead of the disk
    reading.overlay = dict(overlay or {})
    try:
        started = reading.start()
        if started is not None:
            from .analysis import Analysis  # the readers of Python code load only for a command that runs it
            from .servers import server

            name, args = started
            Analysis.carry_on(reading).start_program(server(name), args)
        reading.finish()
    except RecursionError:
        facts.notes.append("The app's code nests too deeply to analyse.")
    return facts
