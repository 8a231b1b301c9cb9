"""dfix: a Dockerfile auto-fixer that never breaks the build."""

__version__ = "0.1.0"
