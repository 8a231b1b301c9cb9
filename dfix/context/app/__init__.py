"""The Python app a Dockerfile's command runs (see facts.py for the one entry point, ``analyze_app``)."""

from .facts import HEALTH_PATHS, AppFacts, ReloadCall, Route, analyze_app

__all__ = ["HEALTH_PATHS", "AppFacts", "ReloadCall", "Route", "analyze_app"]
