"""Edits are splices on the original text; applying them never touches a byte outside their spans."""

from __future__ import annotations

from typing import Iterable

from ..records import record


@record(frozen=True, slots=True)
class Edit:
    start: int
    end: int
    text: str

    @classmethod
    def insert(cls, at: int, text: str) -> Edit:
        return cls(at, at, text)

    @classmethod
    def delete(cls, start: int, end: int) -> Edit:
        return cls(start, end, "")

    def conflicts_with(self, other: Edit) -> bool:
        """Overlapping spans, or two insertions at one point (their order would be a guess)."""
        if self.start == self.end and other.start == other.end:
            return self.start == other.start
        # an insertion at either end of a replaced span lands beside text that is going away or moving:
        # whatever decided it looked at the old text, so it waits for the next pass
        if self.start == self.end:
            return other.start <= self.start <= other.end
        if other.start == other.end:
            return self.start <= other.start <= self.end
        return self.start < other.end and other.start < self.end


class EditConflict(ValueError):
    pass


def apply_edits(text: str, edits: Iterable[Edit]) -> str:
    """Apply non-conflicting edits; insertions at one point keep the order given."""
    ordered = sorted(enumerate(edits), key=lambda pair: (pair[1].start, pair[1].end, pair[0]))
    out: list[str] = []
    pos = 0
    for _, edit in ordered:
        if edit.start < pos:
            raise EditConflict(f"edit at {edit.start} overlaps an earlier edit ending at {pos}")
        out.append(text[pos:edit.start])
        out.append(edit.text)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)
