"""SARIF 2.1.0, streamed: the run's header (tool, rules with their docs) first, then one result per
finding as files finish, then the invocation with the errors. Validated in the tests against the
official OASIS schema (tests/sarif-schema-2.1.0.json)."""

from __future__ import annotations

import json
from pathlib import Path, PurePath
from urllib.parse import quote

from .. import __version__
from .output import Reporter, applied_note

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def artifact_uri(path: str) -> str:
    """A relative path stays relative (code scanning resolves it against the repository); an absolute
    one becomes a file URI. Either is percent-encoded, so the uri-reference format holds."""
    pure = PurePath(path)
    if pure.is_absolute():
        return Path(path).as_uri()
    return quote(pure.as_posix(), safe="/")


def rule_descriptor(rule) -> dict:
    docs = rule.docs()
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.what},
        "help": {"text": docs, "markdown": docs},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"hadolint": list(rule.hadolint), "fixSafety": rule.safety.value, "tags": [getattr(rule, "kind", "dockerfile")]},
    }


class SarifReporter(Reporter):
    def start(self, rules):
        self.index = {rule.code: i for i, rule in enumerate(rules)}
        self.count = 0
        self.notifications: list[dict] = []
        self.failed = False
        driver = {
            "name": "dfix",
            "version": __version__,
            "rules": [rule_descriptor(rule) for rule in rules],
        }
        head = json.dumps({"version": "2.1.0", "$schema": SCHEMA})[:-1]
        self.out.write(head + ', "runs": [{"tool": ' + json.dumps({"driver": driver}) + ', "results": [')

    def _result(self, path: str, finding, note: str, column: int) -> None:
        result = {
            "ruleId": finding.code,
            "level": "warning",
            "message": {"text": f"{finding.message} ({note})" if note else finding.message},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": artifact_uri(path)},
                "region": {"startLine": max(1, finding.line), "startColumn": column},
            }}],
        }
        if finding.code in self.index:
            result["ruleIndex"] = self.index[finding.code]
        self.out.write(("," if self.count else "") + "\n" + json.dumps(result))
        self.count += 1

    def file(self, result, mode, not_applied=None):
        if result.error:
            self.error(result.path, result.error)
            return
        for line, message in result.warnings:  # about dfix's own pragmas, not a rule's finding
            self.notifications.append({
                "level": "warning",
                "message": {"text": f"{result.path}:{line}: {message}"},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": artifact_uri(result.path)}, "region": {"startLine": line},
                }}],
            })
        applied = applied_note(mode, not_applied)
        for finding, fixed in result.findings():
            if fixed:
                self._result(result.path, finding, applied, result.column(finding.line))
                continue
            note = f"not fixed: {finding.reason}" if finding.reason else "fix is unsafe: --unsafe-fixes" if finding.edits else ""
            self._result(result.path, finding, note, result.column(finding.line))

    def error(self, path, message):
        self.failed = True
        self.notifications.append({
            "level": "error",
            "message": {"text": f"{path}: {message}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": artifact_uri(path)}}}],
        })

    def repository(self, outcome):
        if outcome.error:
            self.failed = True
            self.notifications.append({"level": "error", "message": {"text": f"{outcome.name}: {outcome.detail}"}})
        elif outcome.status in ("skipped", "failed", "committed", "patched", "fixed"):
            level = "warning" if outcome.status in ("skipped", "failed") else "note"
            self.notifications.append({"level": level, "message": {"text": outcome.line().removeprefix("dfix: ")}})

    def end(self, summary):
        invocation = {"executionSuccessful": not self.failed}
        if self.notifications:
            invocation["toolExecutionNotifications"] = self.notifications
        self.out.write("\n], " + '"invocations": [' + json.dumps(invocation) + "]}]}\n")

