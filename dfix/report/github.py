"""GitHub Actions workflow commands: one `::warning` annotation per finding, `::error` per failure."""

from __future__ import annotations

from .output import Reporter, applied_note


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


class GithubReporter(Reporter):
    def file(self, result, mode, not_applied=None):
        if result.error:
            self.error(result.path, result.error)
            return
        path = _prop(result.path)
        for line, message in result.warnings:
            self.out.write(f"::warning file={path},line={line},title=dfix::{_data(message)}\n")
        applied = applied_note(mode, not_applied)
        for finding, fixed in result.findings():
            where = f"file={path},line={finding.line},col={result.column(finding.line)}"
            note = f" ({applied})" if fixed else f" (not fixed: {finding.reason})" if finding.reason else ""
            self.out.write(f"::warning {where},title={_prop(finding.code)}::{_data(finding.message + note)}\n")

    def error(self, path, message):
        self.out.write(f"::error file={_prop(path)}::{_data(message)}\n")

    def repository(self, outcome):
        if outcome.error:  # no file to point at: the repository is the title
            self.out.write(f"::error title={_prop(outcome.name)}::{_data(outcome.detail)}\n")
        elif outcome.status in ("skipped", "failed"):
            self.out.write(f"::warning title=dfix::{_data(outcome.line().removeprefix('dfix: '))}\n")
