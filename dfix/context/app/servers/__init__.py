"""The servers dfix reads, one module each, registered in ``SERVERS``.

A server module says which programs start it (``EXECUTABLES``, and ``PYTHON_MODULES`` for ``python -m``),
the name AppFacts.server reports and the port it listens on by default, and has ``cli(an, args)`` for the
words after the program. A server a script can start from its own code also lists those calls in
``STARTED_BY`` (qualified names) and reads one in ``started(an, scope, call)``. ``python`` itself
(python.py) is not in the table: it hands ``-m`` modules and scripts on to the others.

Teaching dfix a server: one module here and one line in ``SERVERS``.
"""

from __future__ import annotations

from types import ModuleType

from . import daphne, django_admin, fastapi, flask, granian, gunicorn, hypercorn, uvicorn, waitress

SERVERS: tuple[ModuleType, ...] = (
    uvicorn,
    gunicorn,
    hypercorn,
    daphne,
    flask,
    waitress,
    django_admin,
    fastapi,
    granian,
)

BY_NAME = {server.NAME: server for server in SERVERS}
BY_PROGRAM = {program: server for server in SERVERS for program in server.EXECUTABLES}
BY_PYTHON_MODULE = {module: server for server in SERVERS for module in server.PYTHON_MODULES}
STARTED_BY = {qual: server for server in SERVERS for qual in getattr(server, "STARTED_BY", ())}
DEFAULT_PORTS = {server.NAME: server.DEFAULT_PORT for server in SERVERS}
