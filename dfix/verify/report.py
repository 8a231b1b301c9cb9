"""A verification as the user reads it: the two images side by side in a table (text), or the report as JSON."""

from __future__ import annotations

import json

from .compare import describe_answer
from .results import ImageStats, VerifyReport


def _cell(value, unit: str = "") -> str:
    if value is None:
        return "-"
    if value is True or value is False:
        return "yes" if value else "no"
    return f"{value}{unit}"


def table_rows(report: VerifyReport) -> list[tuple[str, str, str]]:
    def answer(s: ImageStats) -> str:
        if not s.ran:
            return "-"
        return f"{s.status} {s.route}" if s.status is not None else "no answer"

    def user(s: ImageStats) -> str:
        if s.user is None:
            return "-"
        return f"{s.user or 'root (unset)'}, uid {_cell(s.uid)}"

    def running(s: ImageStats) -> str:
        if not s.ran:
            return "-"
        if s.running:
            return "yes" + (f" ({s.restarts} restarts)" if s.restarts else "")
        return "no" + (f", exit code {s.exit_code}" if s.exit_code is not None else "")

    def imports(s: ImageStats) -> str:
        if s.imports is None:
            return "-"
        return "yes" if s.imports else f"no: {s.import_error}"

    # one row per probed route, in probe order: what each image answered to the same request
    route_rows = [(f"  GET {route}", lambda s, route=route: describe_answer(s, route))
                  for route in dict.fromkeys(report.original.probed + report.rewrite.probed)]
    module = report.original.module or report.rewrite.module
    rows = []
    for label, get in (
        ("builds", lambda s: _cell(s.builds)),
        ("answers", answer),
        *route_rows,
        ("running after the probes", running),
        *([(f"imports {module}", imports)] if module else []),
        ("healthcheck", lambda s: s.healthcheck or "none"),
        ("size", lambda s: _cell(s.size_mb, " MB")),
        ("layers", lambda s: _cell(s.layers)),
        ("user", user),
        ("build time", lambda s: _cell(s.build_seconds, " s")),
        ("rebuild after an app change", lambda s: _cell(s.rebuild_seconds, " s")),
        ("layers reused by that rebuild", lambda s: f"{sum(c for _, c in s.rebuild_steps)}/{len(s.rebuild_steps)}" if s.rebuild_steps else "-"),
        ("compilers inside", lambda s: "-" if s.compilers is None else (", ".join(s.compilers) or "none")),
    ):
        rows.append((label, get(report.original), get(report.rewrite)))
    return rows


def print_report(report: VerifyReport, output_format: str = "text") -> None:
    import sys

    if output_format == "json":
        print(json.dumps(report.to_dict(), indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    title = f"{report.dockerfile} ({report.engine})"
    if not report.changed:
        title += ": dfix changes nothing, one image"
    table = Table(title=title, title_justify="left")
    table.add_column("")
    table.add_column("original")
    table.add_column("rewrite" + (f" ({', '.join(report.applied)})" if report.applied else "")
                     + "".join(f" + {side}" for side in report.side_files))
    for row in table_rows(report):
        table.add_row(*row)
    console = Console(file=sys.stdout, width=max(100, Console().width))
    console.print(table)
    for stats, name in ((report.original, "original"), (report.rewrite, "rewrite")):
        if stats.build_error and not (name == "rewrite" and not report.changed):
            console.print(f"{name} build failed:\n{stats.build_error}", markup=False, highlight=False)
    for reason in report.reasons:
        console.print(f"note: {reason}" if report.ok else f"worse: {reason}", markup=False, highlight=False)
    for tag in report.kept:
        console.print(f"kept {tag}", markup=False, highlight=False)
    console.print("verified: the rewrite builds and answers every probed route like the original" if report.ok
                  else "not verified", markup=False, highlight=False)
