"""The Python app a Dockerfile's command runs: ``analyze_app`` (facts.py) is the one entry point; the
modules beside it each do one job of reading the app (their docstrings say which). Importing this package
costs only facts.py; the command's reader loads when an app is analysed, and the readers of Python code
and each server's module only once the command starts them."""

from .facts import AppFacts, analyze_app

__all__ = ["HEALTH_PATHS", "AppFacts", "ReloadCall", "Route", "analyze_app"]


def __getattr__(name: str):
    if name == "Route":
        from .route import Route

        return Route
    if name == "ReloadCall":
        from .reload import ReloadCall

        return ReloadCall
    if name == "HEALTH_PATHS":
        from .route import HEALTH_PATHS

        return HEALTH_PATHS
    raise AttributeError(name)
