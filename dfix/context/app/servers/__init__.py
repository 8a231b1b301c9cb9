"""The servers dfix reads, one module each, registered by name in ``SERVERS``.

A row of ``SERVERS`` says how a container's command names the server: the programs that start it, the
modules ``python -m`` starts it by, and the calls in a script's code that start it (qualified names). The
module says the rest: ``DEFAULT_PORT``, ``cli(an, args)`` for the words after the program and, for a server
a script can start, ``started(an, scope, call)``. ``server(name)`` imports a module the first time a command
names it, so a container that runs no Python server loads none of them. ``python`` itself (python.py) is
not in the table: it hands ``-m`` modules and scripts on to the others.

Teaching dfix a server: one module here and one row in ``SERVERS``.
"""

from __future__ import annotations

from types import ModuleType

# name (AppFacts.server): (module here, programs, `python -m` modules, calls in a script's code)
SERVERS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "uvicorn": ("uvicorn", ("uvicorn",), ("uvicorn",),
                ("uvicorn.run", "uvicorn.main.run", "uvicorn.Config", "uvicorn.config.Config")),
    "gunicorn": ("gunicorn", ("gunicorn",), ("gunicorn",), ()),
    "hypercorn": ("hypercorn", ("hypercorn",), ("hypercorn",), ()),
    "daphne": ("daphne", ("daphne",), ("daphne",), ()),
    "flask": ("flask", ("flask",), ("flask",), ()),
    "waitress": ("waitress", ("waitress-serve", "waitress"), ("waitress",), ("waitress.serve",)),
    "django-runserver": ("django_admin", ("django-admin", "django-admin.py"), ("django",), ()),
    "fastapi-cli": ("fastapi", ("fastapi",), (), ()),
    "granian": ("granian", ("granian",), ("granian",), ()),
}

BY_PROGRAM = {program: name for name, (_, programs, _, _) in SERVERS.items() for program in programs}
BY_PYTHON_MODULE = {module: name for name, (_, _, modules, _) in SERVERS.items() for module in modules}
STARTED_BY = {qual: name for name, (_, _, _, calls) in SERVERS.items() for qual in calls}


def server(name: str) -> ModuleType:
    """The module that reads the server ``name`` (a key of SERVERS, or "python")."""
    module = SERVERS[name][0] if name in SERVERS else name
    # as `from . import module` does it (importlib.import_module would hide it from -X importtime)
    return getattr(__import__(__name__, fromlist=[module]), module)


def default_port(name: str | None) -> int | None:
    """The port the server ``name`` listens on unless told otherwise; None for a name not in the table."""
    return server(name).DEFAULT_PORT if name in SERVERS else None
