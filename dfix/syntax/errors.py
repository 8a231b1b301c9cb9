"""Errors of the syntax layer."""

from __future__ import annotations


class DockerfileSyntaxError(ValueError):
    """The input is not a Dockerfile BuildKit would accept; ``line`` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message
