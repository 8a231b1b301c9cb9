"""What the Compose rules share: their base class and a finding that knows where it is and what it changes."""

from __future__ import annotations

from typing import ClassVar

from ..records import record
from .base import Finding, Rule


@record(frozen=True)
class ComposeFinding(Finding):
    offset: int = 0  # where in the text the finding is about (the engine maps it to the input's line)
    # model paths the fix changes on purpose, ("services", "app", "depends_on"): the guard compares the rest
    paths: tuple[tuple[str, ...], ...] = ()


class ComposeRule(Rule):
    """A rule over a Compose file (dfix.compose.document.ComposeDocument) rather than a Dockerfile."""

    kind: ClassVar[str] = "compose"

    def at(self, doc, node, message: str, edits=(), reason: str | None = None, paths=()) -> ComposeFinding:
        offset = node.start_mark.index
        return ComposeFinding(self.code, doc.line_of(offset), message, tuple(edits), reason, offset=offset,
                              paths=tuple(paths))
