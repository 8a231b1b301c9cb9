"""Where a piece of rewritten text came from in the input: findings are reported in the user's lines.

The engine fixes in passes, so a later pass reads text that earlier passes moved, copied or inserted.
Each pass is recorded here as the text it read and the edits it applied; an offset in the newest text is
walked back through the passes to an offset in the input. Text that an edit inserted is traced to the
same line in the text the pass read when there is one: rules move and copy instructions verbatim (a
dependency install moved above the app copy, a setup step copied into a builder), and the finding is
about the instruction where the user wrote it. A line with no such source (a new `USER`, a new
`HEALTHCHECK`) points to where it was inserted: the line that now follows it in the input.
"""

from __future__ import annotations

from typing import Sequence

from .document import Document
from .edits import Edit


class _Pass:
    __slots__ = ("before", "after", "edits", "new_starts")

    def __init__(self, before: str, after: str, edits: Sequence[Edit]) -> None:
        self.before = before
        self.after = after
        self.edits = sorted(edits, key=lambda e: (e.start, e.end))
        self.new_starts: list[int] = []
        delta = 0
        for edit in self.edits:
            self.new_starts.append(edit.start + delta)
            delta += len(edit.text) - (edit.end - edit.start)

    def back(self, offset: int) -> int:
        """The offset in ``before`` that ``offset`` in ``after`` came from."""
        delta = 0
        for edit, new_start in zip(self.edits, self.new_starts):
            if offset < new_start:
                break
            if offset < new_start + len(edit.text):
                return self._source_of_inserted(edit, offset)
            delta = new_start + len(edit.text) - edit.end
        return offset - delta

    def _source_of_inserted(self, edit: Edit, offset: int) -> int:
        line_start = self.after.rfind("\n", 0, offset) + 1
        line_end = self.after.find("\n", offset)
        line = self.after[line_start:line_end if line_end >= 0 else len(self.after)].rstrip("\r")
        if line.strip():
            # first where this pass took text away (a move), then anywhere it read (a copy)
            removed = [(e.start, e.end) for e in self.edits if e.end > e.start]
            for lo, hi in [*removed, (0, len(self.before))]:
                found = _find_line(self.before, line, lo, hi, near=edit.start)
                if found is not None:
                    return found + min(offset - line_start, len(line))
            found = _derived_from(self.before, line, near=edit.start)
            if found is not None:
                return found
        return edit.start


def _find_line(text: str, line: str, lo: int, hi: int, near: int) -> int | None:
    """The start of a whole line equal to ``line`` within text[lo:hi], the one nearest ``near``."""
    best = None
    at = text.find(line, lo, hi)
    while at >= 0:
        end = at + len(line)
        whole = (at == 0 or text[at - 1] == "\n") and (end == len(text) or text[end] in "\r\n")
        if whole and (best is None or abs(at - near) < abs(best - near)):
            best = at
        at = text.find(line, at + 1, hi)
    return best


def _derived_from(text: str, line: str, near: int) -> int | None:
    """The start of the line ``line`` was made from, when a rule wrote a variant of a user's line (the
    manifest-only `uv sync --no-install-project` beside the user's `uv sync`): the most alike line that
    starts with the same two words (the keyword and the command), and is alike enough to be its source."""
    head = line.split()[:2]
    if len(head) < 2:
        return None
    import difflib  # rare: only for a finding on a line a rule wrote

    best, best_score = None, 0.6
    at = 0
    while at < len(text):
        end = text.find("\n", at)
        end = len(text) if end < 0 else end
        candidate = text[at:end].rstrip("\r")
        if candidate.split()[:2] == head:
            score = difflib.SequenceMatcher(None, candidate.strip(), line.strip()).ratio()
            if score > best_score or (score == best_score and best is not None and abs(at - near) < abs(best - near)):
                best, best_score = at, score
        at = end + 1
    return best


class Origins:
    """Maps lines of the document after any number of passes to lines of the input document."""

    def __init__(self, doc: Document) -> None:
        self.input = doc
        self.passes: list[_Pass] = []

    def record(self, before: Document, after: Document, edits: Sequence[Edit]) -> None:
        if edits:
            self.passes.append(_Pass(before.text, after.text, edits))

    def input_line(self, line: int, current: Document) -> int:
        """The 1-based line of the input that 1-based ``line`` of ``current`` came from."""
        if not self.passes:
            return line
        offset = current.lines[min(max(line, 1), len(current.lines)) - 1].start
        for step in reversed(self.passes):
            offset = step.back(offset)
        return self.input.line_index_at(offset) + 1
