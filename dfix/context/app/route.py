"""A route an app serves, as the frameworks' readers report it, and the paths a health check looks for."""

from __future__ import annotations

from ...records import record

HEALTH_PATHS = ("/health", "/healthz", "/ping", "/status", "/ready")


@record
class Route:
    path: str
    methods: tuple[str, ...]  # upper case; ("*",) for a Django view, which any method reaches
    file: str
    line: int
