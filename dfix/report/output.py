"""Reporters: each turns the stream of file results into one output format as the results arrive.

Nothing is kept per file beyond what the format needs at its end (errors for SARIF notifications, one
small record per repository), so memory stays flat however many files a fleet has.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from .diff import print_diff, unified_diff

if TYPE_CHECKING:
    from ..engine import FileResult


@dataclass
class Summary:
    files: int = 0
    changed: int = 0
    fixes: int = 0
    reported: int = 0
    errors: list[str] = field(default_factory=list)
    fixes_by_code: Counter = field(default_factory=Counter)
    reported_by_code: Counter = field(default_factory=Counter)
    repositories: Counter = field(default_factory=Counter)  # outcome status -> count

    def add(self, result: "FileResult") -> None:
        self.files += 1
        if result.error:
            self.errors.append(f"{result.path}: {result.error}")
            return
        if result.changed:
            self.changed += 1
        self.fixes += len(result.applied)
        self.reported += len(result.remaining)
        self.fixes_by_code.update(f.code for f in result.applied)
        self.reported_by_code.update(f.code for f in result.remaining)


@dataclass
class RepoOutcome:
    """What happened to one repository of a `--repos` run."""

    name: str
    source: str
    status: str  # checked, unchanged, committed, patched, skipped, error
    detail: str = ""
    files: tuple[str, ...] = ()  # repository-relative paths dfix changed
    branch: str | None = None
    commit: str | None = None
    patch: str | None = None
    location: str | None = None  # where the branch lives when that is a clone dfix made

    def as_json(self) -> dict:
        out = {"name": self.name, "source": self.source, "status": self.status}
        for key in ("detail", "branch", "commit", "patch", "location"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.files:
            out["files"] = list(self.files)
        return out

    def line(self) -> str:
        return f"dfix: {self.name}: {self.status}" + (f": {self.detail}" if self.detail else "")


class Reporter:
    def __init__(self, out: TextIO, mode: str, quiet: bool) -> None:
        self.out = out
        self.mode = mode
        self.quiet = quiet

    def start(self, rules) -> None:
        pass

    def file(self, result: "FileResult", mode: str) -> None:
        """A processed file; `mode` is "write" for a repository worktree whatever the run's mode."""

    def error(self, path: str, message: str) -> None:
        """An input that could not be processed (bad file, failed clone): one line, never a traceback."""

    def repository(self, outcome: RepoOutcome) -> None:
        """A repository is done: committed, patched, skipped, unchanged, checked, or an error."""

    def end(self, summary: Summary) -> None:
        pass


class TextReporter(Reporter):
    def __init__(
        self, out: TextIO, mode: str, quiet: bool, color: bool = False, repos: bool = False, diffs: bool = True
    ) -> None:
        super().__init__(out, mode, quiet)
        self.color = color
        self.repos = repos
        self.diffs = diffs  # False when the caller prints the diff elsewhere (stdin mode: on stdout)

    def file(self, result, mode):
        if result.error:
            self.error(result.path, result.error)
            return
        if not self.quiet:
            for line, message in result.warnings:
                print(f"dfix: warning: {result.path}:{line}: {message}", file=sys.stderr)
        if self.diffs and result.changed and mode in ("dry-run", "check") and not (self.quiet and mode == "check"):
            if result.fixed != result.original:
                print_diff(unified_diff(result.original, result.fixed, result.path), self.out, self.color)
            for side, (before, after) in result.side_files.items():
                print_diff(unified_diff(before, after, _display(side, result.path)), self.out, self.color)
        if self.quiet:
            return
        write = self.out.write
        for finding, applied in result.findings():
            if applied:
                verb = "fixed" if mode == "write" else "fix"
                write(f"{result.path}:{finding.line}: {finding.code} {finding.message} [{verb}]\n")
                continue
            note = (
                f" (not fixed: {finding.reason})" if finding.reason
                else " (no fix: unsafe, use --unsafe-fixes)" if finding.fixable else ""
            )
            write(f"{result.path}:{finding.line}: {finding.code} {finding.message}{note}\n")
        if result.withheld:
            write(f"{result.path}: fixes held back: {result.withheld}\n")

    def error(self, path, message):
        print(f"dfix: error: {path}: {message}", file=sys.stderr)

    def repository(self, outcome):
        if outcome.status == "error":
            self.error(outcome.name, outcome.detail)
        elif not self.quiet or outcome.status == "skipped":
            print(outcome.line(), file=sys.stderr)

    def end(self, summary):
        if not self.quiet:
            print(summary_table(summary, self.mode, self.repos), file=sys.stderr)


class JsonReporter(Reporter):
    """The same document as before (`{"files": [...], "summary": {...}}`), written record by record."""

    def start(self, rules):
        self.count = 0
        self.repos: list[dict] = []
        self.out.write('{\n  "files": [')

    def _emit(self, record: dict) -> None:
        text = json.dumps(record, indent=2).replace("\n", "\n    ")
        self.out.write(("," if self.count else "") + "\n    " + text)
        self.count += 1

    def file(self, result, mode):
        self._emit(file_record(result))

    def error(self, path, message):
        self._emit({"path": path, "error": message})

    def repository(self, outcome):
        self.repos.append(outcome.as_json())

    def end(self, summary):
        self.out.write("\n  ]" if self.count else "]")
        if self.repos:
            self.out.write(',\n  "repositories": ' + json.dumps(self.repos, indent=2).replace("\n", "\n  "))
        data = json.dumps(summary_json(summary, self.mode), indent=2).replace("\n", "\n  ")
        self.out.write(f',\n  "summary": {data}\n}}\n')


def _display(side: str, dockerfile: str) -> str:
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
        {"code": f.code, "line": f.line, "column": f.column, "message": f.message} for f, applied in findings if applied
    ]
    record["reported"] = [
        {"code": f.code, "line": f.line, "column": f.column, "message": f.message, "reason": f.reason}
        for f, applied in findings if not applied
    ]
    if result.withheld:
        record["withheld"] = result.withheld
    if result.warnings:
        record["warnings"] = [{"line": line, "message": message} for line, message in result.warnings]
    if result.changed:
        record["diff"] = unified_diff(result.original, result.fixed, result.path)
    if result.side_files:
        record["files"] = [
            {"path": _display(side, result.path), "created": before is None,
             "diff": unified_diff(before, after, _display(side, result.path))}
            for side, (before, after) in result.side_files.items()
        ]
    return record


def summary_json(summary: Summary, mode: str) -> dict:
    out = {
        "mode": mode, "files": summary.files, "changed": summary.changed, "fixes": summary.fixes,
        "reported": summary.reported, "errors": len(summary.errors),
        "fixes_by_code": dict(sorted(summary.fixes_by_code.items())),
    }
    if summary.repositories:
        out["repositories"] = dict(sorted(summary.repositories.items()))
    return out


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
    """The one-line summary, then a plain table: repositories, files, fixes by code, errors."""
    from ..rules import BY_CODE

    lines = [summary_line(summary, mode)]
    if not (repos or summary.fixes_by_code or summary.reported_by_code):
        return lines[0]
    rows: list[tuple[str, str, str]] = []
    if repos:
        total = sum(summary.repositories.values())
        states = ", ".join(f"{n} {status}" for status, n in sorted(summary.repositories.items()))
        rows.append(("repositories", str(total), states))
    rows.append(("files", str(summary.files), f"{summary.changed} {changed_verb(mode)}" if summary.changed else ""))
    for code in sorted(set(summary.fixes_by_code) | set(summary.reported_by_code)):
        title = BY_CODE[code].title if code in BY_CODE else ""
        fixed, reported = summary.fixes_by_code[code], summary.reported_by_code[code]
        rows.append((code, str(fixed), title + (f" ({reported} without a fix)" if reported else "")))
    rows.append(("errors", str(len(summary.errors)), ""))
    width = max(len(r[0]) for r in rows)
    count = max(len(r[1]) for r in rows)
    lines += [f"  {a:<{width}}  {b:>{count}}  {c}".rstrip() for a, b, c in rows]
    return "\n".join(lines)


def make_reporter(
    output_format: str, out: TextIO, mode: str, quiet: bool, color: bool, repos: bool, diffs: bool = True
) -> Reporter:
    if output_format == "json":
        return JsonReporter(out, mode, quiet)
    if output_format == "sarif":
        from .sarif import SarifReporter

        return SarifReporter(out, mode, quiet)
    if output_format == "github":
        from .github import GithubReporter

        return GithubReporter(out, mode, quiet)
    return TextReporter(out, mode, quiet, color, repos, diffs)
