"""What every reporter shares: the Reporter interface, the run's Summary and per-repository outcomes, and the
records and tables the formats print. The reporters themselves live one a module (text, json_format,
sarif, github), registered by format name in report/__init__.py.

Nothing is kept per file beyond what the format needs at its end (errors for SARIF notifications, one
small record per repository), so memory stays flat however many files a fleet has.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import TYPE_CHECKING, TextIO

from ..records import field, record
from .diff import unified_diff

if TYPE_CHECKING:
    from ..engine import FileResult


@record
class Summary:
    files: int = 0
    changed: int = 0
    fixes: int = 0
    reported: int = 0
    errors: list[str] = field(default_factory=list)
    fixes_by_code: Counter = field(default_factory=Counter)
    reported_by_code: Counter = field(default_factory=Counter)
    repositories: Counter = field(default_factory=Counter)  # outcome status -> count
    outcomes: list["RepoOutcome"] = field(default_factory=list)  # one small record per repository, in order
    not_applied: int = 0  # fixes found in a repository that was skipped or failed: never delivered
    not_applied_by_code: Counter = field(default_factory=Counter)

    def add(self, result: "FileResult", delivered: bool = True) -> None:
        """Count a file; `delivered` is False when its repository was skipped or failed, so its fixes
        were found but reached no commit, patch or file: they are counted apart, not as fixed."""
        self.files += 1
        if result.error:
            self.errors.append(f"{result.path}: {result.error}")
            return
        self.reported += len(result.remaining)
        self.reported_by_code.update(f.code for f in result.remaining)
        if not delivered:
            self.not_applied += len(result.applied)
            self.not_applied_by_code.update(f.code for f in result.applied)
            return
        if result.changed:
            self.changed += 1
        self.fixes += len(result.applied)
        self.fixes_by_code.update(f.code for f in result.applied)


# a repository's one status (the JSON value) and how the text output says it
STATUS_LABELS = {
    "committed": "committed",  # --branch --commit (a patch may have been written as well)
    "patched": "patch written",  # --patch-dir
    "fixed": "fixed",  # --write: the checkout (or clone) fixed in place
    "unchanged": "nothing to do",  # a writing run that found nothing to fix
    "pending": "changes pending",  # --check / --dry-run: fixes to make
    "clean": "clean",  # --check / --dry-run: nothing to fix
    "skipped": "skipped",  # the detail says why; its fixes were not delivered
    "failed": "failed",  # the detail holds the error; with a worktree, nothing was delivered
}


@record
class RepoOutcome:
    """What happened to one repository of a `--repos` run."""

    name: str
    source: str
    status: str  # one of STATUS_LABELS
    detail: str = ""
    files: tuple[str, ...] = ()  # repository-relative paths dfix changed
    branch: str | None = None
    commit: str | None = None
    patch: str | None = None
    location: str | None = None  # where the branch lives when that is a clone dfix made
    # what reached the commit, patch or checkout (with --check/--dry-run: what would), counted as the
    # summary counts it: Dockerfiles changed and fixes applied
    files_changed: int = 0
    fixes: int = 0
    # why this repository's fixes reached nothing ("repository skipped"), when they did not
    not_applied: str | None = None
    # a failure of the repository itself (clone, git), not one of its files' errors already reported
    error: bool = False

    @property
    def label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    def as_json(self) -> dict:
        out = {"name": self.name, "source": self.source, "status": self.status}
        for key in ("detail", "branch", "commit", "patch", "location"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.files:
            out["files"] = list(self.files)
        out["files_changed"], out["fixes"] = self.files_changed, self.fixes
        return out

    def line(self) -> str:
        return f"dfix: {self.name}: {self.label}" + (f": {self.detail}" if self.detail else "")


class Reporter:
    def __init__(self, out: TextIO, mode: str, quiet: bool) -> None:
        self.out = out
        self.mode = mode
        self.quiet = quiet

    def start(self, rules) -> None:
        pass

    def file(self, result: "FileResult", mode: str, not_applied: str | None = None) -> None:
        """A processed file; `mode` is "write" for a repository worktree whatever the run's mode;
        `not_applied` says why its fixes were not delivered (its repository was skipped or failed)."""

    def error(self, path: str, message: str) -> None:
        """An input that could not be processed (bad file, failed clone): one line, never a traceback."""

    def repository(self, outcome: RepoOutcome) -> None:
        """A repository is done, with its one status (see STATUS_LABELS)."""

    def end(self, summary: Summary) -> None:
        pass


def side_display(side: str, dockerfile: str) -> str:
    """A side file's path written the way its Dockerfile's path was (relative stays relative)."""
    folder = os.path.dirname(dockerfile)
    base = os.path.abspath(folder or ".")
    if side.startswith(base + os.sep):
        return os.path.join(folder, os.path.relpath(side, base))
    return side


def file_record(result: "FileResult") -> dict:
    record = {"path": result.path, "changed": result.changed}
    if result.error:
        record["error"] = result.error
        return record
    findings = result.findings()
    record["applied"] = [
        {"code": f.code, "line": f.line, "column": result.column(f.line), "message": f.message}
        for f, applied in findings if applied
    ]
    record["reported"] = [
        {"code": f.code, "line": f.line, "column": result.column(f.line), "message": f.message, "reason": f.reason}
        for f, applied in findings if not applied
    ]
    if result.withheld:
        record["withheld"] = result.withheld
    if result.verification:
        record["verify"] = result.verification
    if result.warnings:
        record["warnings"] = [{"line": line, "message": message} for line, message in result.warnings]
    if result.changed:
        record["diff"] = unified_diff(result.original, result.fixed, result.path)
    if result.side_files:
        record["files"] = [
            {"path": side_display(side, result.path), "created": before is None,
             "diff": unified_diff(before, after, side_display(side, result.path))}
            for side, (before, after) in result.side_files.items()
        ]
    return record


def verification_lines(verification: dict, mode: str) -> list[str]:
    """What --verify built, in the text report: each candidate, whether it is the one written, why the
    others are not, the rule found responsible and the end of its failing step's output."""
    verb = "written" if mode == "write" else "would be written"
    lines = [f"--verify ({verification['engine']}, {plural(verification['builds'], 'build')}; "
             f"original {verification['original_size_mb']} MB):"]
    for attempt in verification["attempts"]:
        rules = ", ".join(attempt["rules"]) or "no fixes"
        if attempt["ok"]:
            lines.append(f"  {attempt['name']} ({rules}): {verb}: builds, answers like the original, "
                         f"{attempt['size_mb']} MB, uid {attempt['uid']}")
            continue
        lines.append(f"  {attempt['name']} ({rules}): not written: {'; '.join(attempt['reasons']) or 'failed'}")
        for culprit in attempt["culprits"]:
            lines.append(f"    {culprit['code']} is responsible: {'; '.join(culprit['reasons']) or 'failed'}")
            lines.extend(f"      | {log_line}" for log_line in culprit["log"].splitlines()[-10:])
    if verification["written"] is None and verification["attempts"]:
        lines.append("  no candidate passed: the file is left as it is")
    return lines


def summary_json(summary: Summary, mode: str) -> dict:
    out = {
        "mode": mode, "files": summary.files, "changed": summary.changed, "fixes": summary.fixes,
        "reported": summary.reported, "errors": len(summary.errors),
        "fixes_by_code": dict(sorted(summary.fixes_by_code.items())),
    }
    if summary.not_applied:
        out["not_applied"] = summary.not_applied
    if summary.repositories:
        out["repositories"] = dict(sorted(summary.repositories.items()))
    return out


def applied_note(mode: str, not_applied: str | None) -> str:
    """What became of an applied finding's fix, as the annotation formats (SARIF, GitHub) say it."""
    return f"not applied: {not_applied}" if not_applied else "fixed" if mode == "write" else "fixable: run dfix --write"


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    return f"{count} {noun if count == 1 else plural_form or noun + 's'}"


def changed_verb(mode: str) -> str:
    """What happened to the changed files: a dry run or a check changes nothing, it would."""
    return "changed" if mode == "write" else "would change"


def summary_line(summary: Summary, mode: str) -> str:
    parts = [
        f"{plural(summary.files, 'file')} checked",
        f"{summary.changed} {'fixed' if mode == 'write' else 'would change'} ({plural(summary.fixes, 'fix', 'fixes')})",
    ]
    if summary.reported:
        parts.append(f"{summary.reported} reported without a fix")
    if summary.errors:
        parts.append(plural(len(summary.errors), "error"))
    return "dfix: " + ", ".join(parts)


def summary_table(summary: Summary, mode: str, repos: bool = False) -> str:
    """The one-line summary; with --repos a table of one row per repository; then a plain table of
    files, fixes by code and errors. The rows' files and fixes add up to the summary's."""
    from ..rules import BY_CODE

    lines = [summary_line(summary, mode)]
    if not (repos or summary.fixes_by_code or summary.reported_by_code or summary.not_applied_by_code):
        return lines[0]
    if repos:
        lines += repository_table(summary.outcomes) + [""]
    rows: list[tuple[str, str, str]] = []
    rows.append(("files", str(summary.files), f"{summary.changed} {changed_verb(mode)}" if summary.changed else ""))
    codes = set(summary.fixes_by_code) | set(summary.reported_by_code) | set(summary.not_applied_by_code)
    for code in sorted(codes):
        title = BY_CODE[code].title if code in BY_CODE else ""
        notes = [f"{n} {what}" for n, what in (
            (summary.reported_by_code[code], "without a fix"), (summary.not_applied_by_code[code], "not applied"),
        ) if n]
        rows.append((code, str(summary.fixes_by_code[code]), title + (f" ({', '.join(notes)})" if notes else "")))
    rows.append(("errors", str(len(summary.errors)), ""))
    width = max(len(r[0]) for r in rows)
    count = max(len(r[1]) for r in rows)
    lines += [f"  {a:<{width}}  {b:>{count}}  {c}".rstrip() for a, b, c in rows]
    return "\n".join(lines)


def repository_table(outcomes: list[RepoOutcome]) -> list[str]:
    """One row per repository, as multi-gitter prints its runs, and a total row."""
    header = ("repository", "status", "files changed", "fixes", "detail")
    rows = [(o.name, o.label, str(o.files_changed), str(o.fixes), o.detail) for o in outcomes]
    states = Counter(o.label for o in outcomes)
    rows.append((
        "total", plural(len(outcomes), "repository", "repositories"),
        str(sum(o.files_changed for o in outcomes)), str(sum(o.fixes for o in outcomes)),
        ", ".join(f"{n} {label}" for label, n in states.items()),
    ))
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(4)]

    def line(row: tuple[str, ...]) -> str:
        name, status, files, fixes, detail = row
        return (f"  {name:<{widths[0]}}  {status:<{widths[1]}}  {files:>{widths[2]}}  {fixes:>{widths[3]}}  "
                f"{detail}").rstrip()

    return [line(header)] + [line(row) for row in rows]
