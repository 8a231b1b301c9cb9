"""The web frameworks dfix reads, one module each, registered in ``FRAMEWORKS`` by the name AppFacts.framework
reports.

A framework module lists ``CONSTRUCTORS``: the qualified names of the calls that make its app, router or
blueprint objects, as (kind, framework, interface). It may add ``own_prefix(an, obj)`` (a prefix the
object's own routes carry; None when it cannot be read) and ``declared_routes(an, obj, seen)`` (routes
the constructor call itself lists). Decorators (@app.get, @bp.route) and include/register/mount calls,
shared by several frameworks, are read in ../routes.py; Django's URL configuration is its own world
(django.py).

Teaching dfix a framework: one module here and one line in ``FRAMEWORKS``.
"""

from __future__ import annotations

from types import ModuleType

from . import django, fastapi, flask, litestar, starlette

FRAMEWORKS: dict[str, ModuleType] = {
    "fastapi": fastapi,
    "starlette": starlette,
    "flask": flask,
    "django": django,
    "litestar": litestar,
}

CONSTRUCTORS = {qual: made for framework in FRAMEWORKS.values() for qual, made in framework.CONSTRUCTORS.items()}
