"""Process many files: read strictly, fix with the engine, report, write atomically. One file's failure
never stops the others; the exit code says what happened."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .engine import FileResult, Options, context_for, fix_text, load_rules, read_source
from .files import InputError, discover, read_bytes, write_atomic
from .syntax import DockerfileSyntaxError

EXIT_OK, EXIT_CHANGES, EXIT_ERROR = 0, 1, 2


@dataclass
class Summary:
    files: int = 0
    changed: int = 0
    fixes: int = 0
    reported: int = 0
    errors: list[str] = field(default_factory=list)


def process_file(path: Path, options: Options, write: bool) -> FileResult:
    display = str(path)
    try:
        text = read_source(read_bytes(path))
    except InputError as err:
        return FileResult(display, error=str(err).removeprefix(f"{display}: "))
    except DockerfileSyntaxError as err:
        return FileResult(display, error=str(err))
    result = fix_text(text, display, options, _rules(options), context_for(path))
    if write and result.changed:
        try:
            write_atomic(path, result.fixed.encode("utf-8"))
        except OSError as err:
            result.error = f"cannot write: {err.strerror or err}"
    return result


_RULES_CACHE: dict[tuple, list] = {}


def _rules(options: Options):
    key = (options.select, options.ignore)
    if key not in _RULES_CACHE:
        _RULES_CACHE[key] = load_rules(options)
    return _RULES_CACHE[key]


def _process_many(paths: list[Path], options: Options, write: bool, jobs: int):
    if jobs <= 1 or len(paths) < 2:
        for path in paths:
            yield process_file(path, options, write)
        return
    from concurrent.futures import ProcessPoolExecutor

    chunk = max(1, min(64, len(paths) // (jobs * 4)))
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        yield from pool.map(_process_star, [(p, options, write) for p in paths], chunksize=chunk)


def _process_star(args):
    return process_file(*args)


def run(paths: list[Path], options: Options, mode: str, output_format: str, quiet: bool, jobs: int = 1) -> int:
    summary = Summary()
    files: list[Path] = []
    for found in discover(paths):
        if isinstance(found, InputError):
            summary.errors.append(str(found))
            if output_format == "text":
                print(f"dfix: error: {found}", file=sys.stderr)
        else:
            files.append(found)
    color = output_format == "text" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    records = []
    for result in _process_many(files, options, mode == "write", jobs):
        summary.files += 1
        if result.error:
            summary.errors.append(f"{result.path}: {result.error}")
            if output_format == "text":
                print(f"dfix: error: {result.path}: {result.error}", file=sys.stderr)
            else:
                records.append(_record(result))
            continue
        if result.changed:
            summary.changed += 1
        summary.fixes += len(result.applied)
        summary.reported += len(result.remaining)
        if output_format == "json":
            records.append(_record(result))
        else:
            _print_text(result, mode, quiet, color)
    if output_format == "json":
        for message in summary.errors:
            if not any(r.get("error") and message.startswith(r["path"]) for r in records):
                path, _, error = message.partition(": ")
                records.append({"path": path, "error": error})
        json.dump({"files": records, "summary": _summary_json(summary, mode)}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif not quiet:
        print(_summary_line(summary, mode), file=sys.stderr)
    if summary.errors:
        return EXIT_ERROR
    if mode == "check" and summary.changed:
        return EXIT_CHANGES
    return EXIT_OK


def _print_text(result: FileResult, mode: str, quiet: bool, color: bool) -> None:
    from .report.diff import print_diff, unified_diff

    if result.changed and mode in ("dry-run", "check") and not (quiet and mode == "check"):
        print_diff(unified_diff(result.original, result.fixed, result.path), sys.stdout, color)
    if quiet:
        return
    for finding in result.applied:
        verb = "fixed" if mode == "write" else "fix"
        print(f"{result.path}:{finding.line}: {finding.code} {finding.message} [{verb}]")
    for finding in result.remaining:
        note = f" (not fixed: {finding.reason})" if finding.reason else " (no fix: unsafe, use --unsafe-fixes)" if finding.edits else ""
        print(f"{result.path}:{finding.line}: {finding.code} {finding.message}{note}")
    if result.withheld:
        print(f"{result.path}: fixes held back: {result.withheld}")


def _record(result: FileResult) -> dict:
    from .report.diff import unified_diff

    record = {"path": result.path, "changed": result.changed}
    if result.error:
        record["error"] = result.error
        return record
    record["applied"] = [{"code": f.code, "line": f.line, "message": f.message} for f in result.applied]
    record["reported"] = [
        {"code": f.code, "line": f.line, "message": f.message, "reason": f.reason} for f in result.remaining
    ]
    if result.withheld:
        record["withheld"] = result.withheld
    if result.changed:
        record["diff"] = unified_diff(result.original, result.fixed, result.path)
    return record


def _summary_json(summary: Summary, mode: str) -> dict:
    return {
        "mode": mode, "files": summary.files, "changed": summary.changed, "fixes": summary.fixes,
        "reported": summary.reported, "errors": len(summary.errors),
    }


def _summary_line(summary: Summary, mode: str) -> str:
    verb = {"write": "fixed", "check": "would fix", "dry-run": "would fix"}[mode]
    parts = [f"{summary.files} file{'s' if summary.files != 1 else ''} checked", f"{summary.changed} {verb} ({summary.fixes} fixes)"]
    if summary.reported:
        parts.append(f"{summary.reported} reported without a fix")
    if summary.errors:
        parts.append(f"{len(summary.errors)} error{'s' if len(summary.errors) != 1 else ''}")
    return "dfix: " + ", ".join(parts)
