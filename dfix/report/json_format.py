"""The json format: one document, ``{"files": [...], "summary": {...}}``, streamed record by record."""

from __future__ import annotations

import json

from .output import Reporter, file_record, summary_json


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

    def file(self, result, mode, not_applied=None):
        record = file_record(result)
        if not_applied and not result.error:
            record["not_applied"] = not_applied
        self._emit(record)

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
