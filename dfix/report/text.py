"""The text format: findings one a line, diffs in dry-run and check mode, the summary table on stderr."""

from __future__ import annotations

import sys
from typing import TextIO

from .diff import print_diff, unified_diff
from .output import Reporter, side_display, summary_table, verification_lines


class TextReporter(Reporter):
    def __init__(
        self, out: TextIO, mode: str, quiet: bool, color: bool = False, repos: bool = False, diffs: bool = True
    ) -> None:
        super().__init__(out, mode, quiet)
        self.color = color
        self.repos = repos
        self.diffs = diffs  # False when the caller prints the diff elsewhere (stdin mode: on stdout)

    def file(self, result, mode, not_applied=None):
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
                print_diff(unified_diff(before, after, side_display(side, result.path)), self.out, self.color)
        if self.quiet:
            return
        write = self.out.write
        for finding, applied in result.findings():
            if applied:
                verb = f"not applied: {not_applied}" if not_applied else "fixed" if mode == "write" else "fix"
                write(f"{result.path}:{finding.line}: {finding.code} {finding.message} [{verb}]\n")
                continue
            note = (
                f" (not fixed: {finding.reason})" if finding.reason
                else " (no fix: unsafe, use --unsafe-fixes)" if finding.fixable else ""
            )
            write(f"{result.path}:{finding.line}: {finding.code} {finding.message}{note}\n")
        if result.withheld:
            write(f"{result.path}: fixes held back: {result.withheld}\n")
        if result.verification:
            for line in verification_lines(result.verification, mode):
                write(f"{result.path}: {line}\n")

    def error(self, path, message):
        print(f"dfix: error: {path}: {message}", file=sys.stderr)

    def repository(self, outcome):
        if outcome.error:
            self.error(outcome.name, outcome.detail)
        elif not self.quiet or outcome.status in ("skipped", "failed"):
            print(outcome.line(), file=sys.stderr)

    def end(self, summary):
        if not self.quiet:
            print(summary_table(summary, self.mode, self.repos), file=sys.stderr)
