"""What every rule is: a code, a hadolint cross-reference, a safety level, its docs, and a check."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, ClassVar, Iterator

from ..records import field, record
from ..syntax import Document, Edit

if TYPE_CHECKING:
    from ..context import BuildContext


class Safety(str, Enum):
    SAFE = "safe"  # cannot change what the image does; applied by --write
    MIGRATION = "migration"  # dfix's purpose; applied by --write, guarded by the contract check
    UNSAFE = "unsafe"  # changes the contract knowingly; only with --unsafe-fixes
    REPORT = "report"  # reported with what to do, never fixed: the change needs a decision dfix cannot make


@record(frozen=True)
class FileChange:
    """A whole new text for another file of the build context (a .dockerignore, the app's code)."""

    path: str  # context-relative
    text: str


@record(frozen=True)
class Finding:
    code: str
    line: int  # 1-based
    message: str
    edits: tuple[Edit, ...] = ()
    reason: str | None = None  # why no fix is offered
    files: tuple[FileChange, ...] = ()
    unsafe: bool = False  # this fix needs --unsafe-fixes even where the rule's others do not

    @property
    def fixable(self) -> bool:
        return bool(self.edits or self.files)


@record
class RuleContext:
    """What a rule may know besides the document: the build context and user options."""

    build_context: "BuildContext | None" = None
    options: dict = field(default_factory=dict)


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]  # kebab-case, used in fixture folders
    hadolint: ClassVar[tuple[str, ...]] = ()
    title: ClassVar[str]
    safety: ClassVar[Safety] = Safety.SAFE
    what: ClassVar[str]
    why: ClassVar[str]
    example: ClassVar[tuple[str, str]]
    fix_safety: ClassVar[str]
    # contract facets this rule changes on purpose (the guard compares every other facet)
    changes: ClassVar[frozenset[str]] = frozenset()
    # rules that place things relative to the finished layout (the user switch, a multi-stage split) run in
    # a later phase, once every earlier phase has nothing left to fix
    phase: ClassVar[int] = 0
    # findings about the whole file (line 1), not an instruction: no line of the input to trace them to
    about_the_file: ClassVar[bool] = False

    def check(self, doc: Document, ctx: RuleContext) -> Iterator[Finding]:
        raise NotImplementedError

    def finding(self, line: int, message: str, edits=(), reason: str | None = None, files=(), unsafe=False) -> Finding:
        return Finding(self.code, line, message, tuple(edits), reason, tuple(files), unsafe)

    @classmethod
    def docs(cls) -> str:
        before, after = cls.example
        refs = ", ".join(cls.hadolint) or "none"
        return (
            f"{cls.code} {cls.name}: {cls.title}\n\n"
            f"hadolint: {refs}    fix safety: {cls.safety.value}\n\n"
            f"## What it does\n{cls.what}\n\n## Why\n{cls.why}\n\n"
            f"## Example\n{_indent(before)}\nbecomes\n{_indent(after)}\n\n## Fix safety\n{cls.fix_safety}\n"
        )


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())
