"""Process many files: read strictly, fix with the engine, report, write atomically. One file's failure
never stops the others; the exit code says what happened.

Inputs come in units: the paths on the command line are one unit, each repository of `--repos` is one
(see bulk.py). Files are processed in order, in parallel when --jobs allows, and their results are
streamed to the reporter as they arrive: only a bounded window of chunks is in flight, so memory does
not grow with the number of files. A unit is closed (commit, patch) once its last file is back. The
results of a repository fixed in a worktree are held until then (memory bounded by one repository):
whether their fixes were delivered, or the repository was skipped or failed, is known only at its close.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter, deque
from itertools import chain
from pathlib import Path
from typing import Iterable, Iterator

from . import oracle
from .config import ConfigError, options_for
from .engine import FileResult, Options, context_for, fix_text, load_rules, read_source
from .files import is_compose_name
from .files import InputError, discover, read_bytes, write_atomic
from .records import record
from .report.diff import unified_diff
from .report import make_reporter
from .report.output import Summary, side_display
from .syntax import DockerfileSyntaxError

EXIT_OK, EXIT_CHANGES, EXIT_ERROR = 0, 1, 2
BUILDKIT_MISSING = "dfix: notice: BuildKit's parser (the dockerfile package) is not available on this platform: the guard is off"
CHUNK = 16  # files per task sent to a worker: amortizes pickling without starving the other workers
INLINE_BELOW = 2 * CHUNK  # fewer files than this are not worth starting worker processes for
GENERATION = 64  # chunks per worker before the workers are replaced (see _ordered)

__all__ = [
    "EXIT_CHANGES", "EXIT_ERROR", "EXIT_OK", "Summary", "cpu_count", "exit_code", "in_shard", "process_file", "run", "run_stdin",
]


def process_file(path: Path, options: Options, write: bool, display: str | None = None,
                 verify: VerifySettings | None = None) -> FileResult:
    """Fix one Dockerfile with `options` (the command line's) over its nearest config file; with `verify`,
    the rewrite written is the one a real build proves (see candidates.py).

    A config file dfix cannot use comes back as an error result under the config's path, not the
    Dockerfile's: the file to correct is the config (run() reports it once however many it governs).
    """
    display = str(path) if display is None else display
    result = _fix_input(path, display, options, lambda: read_bytes(path))
    # --verify builds images: a Compose file has none of its own to build (the stack test is `dfix verify`'s)
    if verify is not None and not is_compose_name(path.name) and result.error is None and (result.changed or not options.unsafe_fixes):
        result = _proven(path, options, result, verify)
    if write and result.changed:
        try:
            if result.fixed != result.original:
                write_atomic(path, result.fixed.encode("utf-8"))
            for side, (_, text) in result.side_files.items():
                write_atomic(Path(side), text.encode("utf-8"))
        except OSError as err:
            result.error = f"cannot write: {err.strerror or err}"
    return result


@record(frozen=True)
class VerifySettings:
    """--verify's: which engine builds (None: the first found)."""
    engine: str | None = None


def _proven(path: Path, options: Options, result: FileResult, verify: VerifySettings) -> FileResult:
    from .candidates import prove
    from .verify import Engine, OriginalBuildError, VerifyError

    try:
        engine = Engine.find(verify.engine)
        if not engine.can_run:
            raise VerifyError(f"{engine.name} only builds: --verify runs the images (install podman)")
        chosen, verification = prove(path, options_for(path, options), result, engine)
    except OriginalBuildError as err:
        return FileResult(result.path, original=result.original, fixed=result.original,
                          error=f"--verify: the original does not build: {err.headline}")
    except VerifyError as err:
        return FileResult(result.path, original=result.original, fixed=result.original,
                          error=f"--verify: {str(err).removeprefix(f'{path}: ')}")
    chosen.verification = verification.to_dict()
    return chosen


def _config_display(config: Path, dockerfile: Path, display: str) -> str:
    """The config's path written the way its Dockerfile's is (relative stays relative, `repo/...` kept)."""
    if os.path.isabs(display):
        return str(config)
    rel = os.path.relpath(config, os.path.dirname(os.path.abspath(dockerfile)))
    return os.path.normpath(os.path.join(os.path.dirname(display), rel))


_RULES_CACHE: dict[tuple, list] = {}


def _rules(options: Options):
    key = (options.select, options.ignore)
    if key not in _RULES_CACHE:
        _RULES_CACHE[key] = load_rules(options)
    return _RULES_CACHE[key]


def _catalogue(options: Options) -> list:
    """The rules a report describes: the Dockerfile rules that run, then the Compose rules."""
    from .rules import COMPOSE_RULES

    return _rules(options) + [rule() for rule in COMPOSE_RULES if options.enabled(rule)]


def cpu_count() -> int:
    """The CPUs this process may run on (a container's limit, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def in_shard(key: str, shard: tuple[int, int] | None) -> bool:
    """Whether `key` belongs to shard I of N (1-based). sha256 rather than hash(): Python salts str
    hashes per process, and every CI runner must agree on the split."""
    if shard is None:
        return True
    import hashlib  # only sharded runs pay for it

    index, total = shard
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % total == index - 1


class PathsUnit:
    """The paths given on the command line."""

    name = None
    writes = False  # True for a repository worktree: fixes go there whatever the mode

    def __init__(self, paths: list[Path], shard: tuple[int, int] | None = None) -> None:
        self.paths = paths
        self.shard = shard
        self.applied: Counter = Counter()  # fixes by code in the files that changed without an error
        self.changed = 0  # files that changed without an error
        self.errors: list[str] = []  # "path: reason" of each file that could not be fixed

    def open(self) -> None:
        pass

    def inputs(self) -> Iterator[tuple[Path, str] | InputError]:
        seen: set[str] = set()
        dedupe = len(self.paths) > 1  # roots may overlap; one root walks each file once
        for root in self.paths:
            for found in discover([root]):
                if self.shard is not None:
                    where = Path(str(found).partition(": ")[0]) if isinstance(found, InputError) else found
                    if not in_shard(_shard_key(root, where), self.shard):
                        continue
                if isinstance(found, InputError):
                    yield found
                    continue
                if dedupe:
                    key = os.path.abspath(found)
                    if key in seen:
                        continue
                    seen.add(key)
                yield found, str(found)

    def close(self):
        return None

    def cleanup(self) -> None:
        pass


def _shard_key(root: Path, path: Path) -> str:
    """The path relative to the root it was found under, so runners in different checkouts agree."""
    try:
        rel = path.relative_to(root)
    except ValueError:
        return path.as_posix()
    return rel.as_posix() if rel.parts else path.as_posix()


def _worker_init(options: Options, verify: VerifySettings | None = None) -> None:
    global _WORKER_OPTIONS, _WORKER_VERIFY
    _WORKER_OPTIONS, _WORKER_VERIFY = options, verify


_WORKER_OPTIONS: Options | None = None
_WORKER_VERIFY: VerifySettings | None = None


def _work(tasks: list[tuple[Path, str, bool]]) -> list[FileResult]:
    return [process_file(path, _WORKER_OPTIONS, write, display, _WORKER_VERIFY) for path, display, write in tasks]


def _items(units: Iterable, opened: list, write: bool) -> Iterator[tuple]:
    """("task", unit, (path, display, write)), ("error", unit, path, message) and ("end", unit), in order."""
    for unit in units:
        opened.append(unit)
        unit.open()
        for found in unit.inputs():
            if isinstance(found, InputError):
                path, _, message = str(found).partition(": ")
                yield ("error", unit, path, message)
            else:
                yield ("task", unit, (found[0], found[1], write or unit.writes))
        yield ("end", unit)


def _ordered(items: Iterator[tuple], options: Options, jobs: int,
             verify: VerifySettings | None = None) -> Iterator[tuple[tuple, FileResult | None]]:
    """Each item with its result, in input order; with jobs > 1 the files run in worker processes.

    Workers are replaced by a fresh generation every GENERATION chunks each: BuildKit's parser (the
    `dockerfile` package, 3.4) leaks the fields of every command it returns, a few KB per file, so a
    long-lived process would grow with the fleet. This process never parses (it only discovers,
    reports and commits), so it stays small, and it forks the workers without a Go runtime in it.
    """
    head: list[tuple] = []
    # a verified file is minutes of building: two are worth a worker each
    inline_below = 2 if verify is not None else INLINE_BELOW
    chunk = 1 if verify is not None else CHUNK
    if jobs > 1:
        for item in items:
            head.append(item)
            if sum(1 for i in head if i[0] == "task") >= inline_below:
                break
        else:
            jobs = 1
    if jobs <= 1:
        for item in chain(head, items):
            yield item, (process_file(item[2][0], options, item[2][2], item[2][1], verify) if item[0] == "task" else None)
        return
    window: deque = deque()
    batch: list[tuple] = []
    pool, submitted = None, 0

    def submit() -> None:
        nonlocal pool, submitted
        tasks = [item[2] for item in batch if item[0] == "task"]
        future = None
        if tasks:
            if pool is None:
                pool, submitted = _pool(jobs, options, verify), 0
            future = pool.submit(_work, tasks)
            submitted += 1
        window.append((list(batch), future))
        batch.clear()

    def drain() -> Iterator[tuple[tuple, FileResult | None]]:
        nonlocal pool
        done, future = window.popleft()
        try:
            results = iter(future.result() if future is not None else ())
        except Exception as err:  # a worker died (killed, out of memory): its files fail, the run goes on
            reason = f"worker process failed: {type(err).__name__}: {err}".rstrip(": ")
            results = iter([FileResult(item[2][1], error=reason) for item in done if item[0] == "task"])
            if pool is not None and getattr(pool, "_broken", False):
                pool.shutdown(wait=False, cancel_futures=True)
                pool = None
        for item in done:
            yield item, (next(results) if item[0] == "task" else None)

    try:
        tasks_in_batch = 0
        for item in chain(head, items):
            batch.append(item)
            tasks_in_batch += item[0] == "task"
            # a unit's end waits in the batch with the files after it; flushing it keeps commits prompt
            if tasks_in_batch >= chunk or (item[0] == "end" and item[1].writes):
                submit()
                tasks_in_batch = 0
            while len(window) > 2 * jobs:
                yield from drain()
            if pool is not None and submitted >= GENERATION * jobs:
                while window:  # the old generation finishes its chunks before the new one starts
                    yield from drain()
                pool.shutdown(wait=True)
                pool = None
        if batch:
            submit()
        while window:
            yield from drain()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _pool(jobs: int, options: Options, verify: VerifySettings | None = None):
    # fork where it is safe and cheap (Linux): a worker starts with dfix already imported, and the pool
    # costs no import (concurrent.futures' costs ~45 ms, see pool.py)
    if sys.platform == "linux":
        from .pool import ForkPool

        return ForkPool(jobs, initializer=_worker_init, initargs=(options, verify))
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=jobs, initializer=_worker_init, initargs=(options, verify))


def run(
    paths: list[Path],
    options: Options,
    mode: str,
    output_format: str,
    quiet: bool,
    jobs: int = 1,
    shard: tuple[int, int] | None = None,
    units: list | None = None,
    fail_on: str = "change",
    verify: VerifySettings | None = None,
) -> int:
    """Process `paths` (or the given units, e.g. repositories) and report in `output_format`; with
    `verify`, `jobs` is the number of files built at once (--build-jobs)."""
    color = output_format == "text" and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    repos = units is not None
    # fixes made in repository worktrees are written (committed, patched) whatever the mode says
    shown = "write" if units and all(unit.writes for unit in units) else mode
    summary = Summary()
    if units is None:
        units = [PathsUnit(paths, shard)]
    progress = _Progress.start(units, repos) if sys.stderr.isatty() and not quiet else None
    reporter = make_reporter(output_format, _Stdout(), shown, quiet, color, repos)
    reporter.start(_catalogue(options))
    opened: list = []
    reported: set[tuple] = set()
    noticed = False
    # a worktree repository's results wait for its close: only then is it known whether its fixes
    # were committed or patched, or whether the repository was skipped or failed and they reached nothing
    held: list[FileResult] = []
    try:
        for item, result in _ordered(_items(units, opened, mode == "write"), options, jobs, verify):
            kind, unit = item[0], item[1]
            if kind == "task" and result.buildkit_missing and not noticed:
                noticed = True  # once per run, however many files and workers; --quiet too: it is about safety
                print(BUILDKIT_MISSING, file=sys.stderr, flush=True)
            if kind == "task" and result.error and (id(unit), result.path, result.error) in reported:
                # the same bad config again, for another Dockerfile it governs: said once is enough
                if progress:
                    progress.advance_file()
                continue
            if kind == "task":
                if result.error:
                    reported.add((id(unit), result.path, result.error))
                    unit.errors.append(f"{result.path}: {result.error}")
                elif result.changed:
                    unit.changed += 1
                    unit.applied.update(f.code for f in result.applied)
                if unit.writes:
                    held.append(result)
                else:
                    summary.add(result)
                    reporter.file(result, mode)
                if progress:
                    progress.advance_file()
            elif kind == "error":
                unit.errors.append(f"{item[2]}: {item[3]}")
                summary.errors.append(f"{item[2]}: {item[3]}")
                reporter.error(item[2], item[3])
            else:
                outcome = unit.close()
                unit.cleanup()
                not_applied = outcome.not_applied if outcome is not None else None
                for done in held:
                    summary.add(done, delivered=not not_applied)
                    reporter.file(done, "write", not_applied)
                held.clear()
                if outcome is not None:
                    summary.repositories[outcome.status] += 1
                    summary.outcomes.append(outcome)
                    if outcome.error:
                        summary.errors.append(f"{outcome.name}: {outcome.detail}")
                    reporter.repository(outcome)
                if progress:
                    progress.advance_unit()
    finally:
        for unit in opened:
            unit.cleanup()
        if progress:
            progress.stop()
    reporter.end(summary)
    sys.stdout.flush()
    return exit_code(summary, mode, fail_on)


def exit_code(summary: Summary, mode: str, fail_on: str = "change") -> int:
    """2 for any error; 1 for a change --check would make or, with fail_on "finding", for any finding left
    without a fix (in every mode: those are what --write cannot settle); else 0."""
    if summary.errors:
        return EXIT_ERROR
    if mode == "check" and summary.changed:
        return EXIT_CHANGES
    if fail_on == "finding" and summary.reported:
        return EXIT_CHANGES
    return EXIT_OK


def run_stdin(
    options: Options, mode: str, shows: str, output_format: str, quiet: bool, filename: str | None, fail_on: str = "change"
) -> int:
    """`dfix -`: one Dockerfile from stdin. stdout gets only what `shows` says ("text": the fixed text, byte
    for byte, the input itself when nothing changes; "diff"; "nothing"), and nothing at all for bad input;
    the report, in any format, goes to stderr. `filename` (--stdin-filename) stands in for the path: its
    nearest config, per-file-ignores, its folder as the build context, the name in messages. Other files a
    fix would write (DF601's .dockerignore) are shown in the diff but never written.
    """
    display = "-" if filename is None else filename
    data = sys.stdin.buffer.read()
    # without a name, the config of the current folder and no build context: the rules that read one
    # (DF201, DF601, the app's code) see none
    path = Path(display)
    result = _fix_input(path, display, options, lambda: data, filename is not None and os.path.isdir(path.parent))
    if result.buildkit_missing:
        print(BUILDKIT_MISSING, file=sys.stderr, flush=True)
    summary = Summary()
    summary.add(result)
    color = output_format == "text" and sys.stderr.isatty() and not os.environ.get("NO_COLOR")
    reporter = make_reporter(output_format, sys.stderr, mode, quiet, color, False, diffs=False)
    reporter.start(_catalogue(options))
    reporter.file(result, mode)
    if result.side_files and output_format == "text" and not quiet:
        for side in result.side_files:
            print(f"dfix: note: {side_display(side, display)} not written: a run on stdin writes only stdout", file=sys.stderr)
    reporter.end(summary)
    if result.error is None and shows != "nothing":
        if shows == "text":
            data = result.fixed.encode("utf-8")
        else:
            data = unified_diff(result.original, result.fixed, display).encode("utf-8")  # "" when unchanged
            for side, (before, after) in result.side_files.items():
                data += unified_diff(before, after, side_display(side, display)).encode("utf-8")
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return exit_code(summary, mode, fail_on)


def _fix_input(path: Path, display: str, options: Options, read, with_context: bool = True) -> FileResult:
    """The bytes `read()` gives, fixed as the Dockerfile at `path` (its nearest config, its folder as the
    build context unless `with_context` is False) and named `display` in messages."""
    try:
        options = options_for(path, options)
    except ConfigError as err:
        return FileResult(_config_display(err.path, path, display), error=err.message)
    try:
        text = read_source(read())
    except InputError as err:
        return FileResult(display, error=str(err).removeprefix(f"{path}: "))
    except DockerfileSyntaxError as err:
        return FileResult(display, error=str(err))
    if is_compose_name(path.name):
        from .compose import fix_compose

        return fix_compose(text, display, options, location=str(path))
    result = fix_text(text, display, options, _rules(options), context_for(path) if with_context else None)
    # asked where the guard runs (a worker when --jobs > 1): the parent need not load the Go runtime to know
    result.buildkit_missing = options.use_oracle and not oracle.available()
    return result


class _Stdout:
    """sys.stdout as it is at each write: while the progress bar runs on a shared terminal, that is
    rich's proxy that prints above the bar; before and after, the real stream."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()

    def isatty(self) -> bool:
        return sys.stdout.isatty()

    @property
    def encoding(self) -> str:
        return getattr(sys.stdout, "encoding", None) or "utf-8"


class _Progress:
    """A rich progress bar on stderr, only when stderr is a terminal (rich is imported only then)."""

    @classmethod
    def start(cls, units: list, repos: bool) -> "_Progress":
        self = cls()
        self.last = 0.0
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=Console(file=sys.stderr), transient=True,
            # no refresh thread: worker processes may be forked after the bar starts
            auto_refresh=False,
            # stdout is routed above the bar only when it shares the terminal; a pipe stays untouched
            redirect_stdout=sys.stdout.isatty(), redirect_stderr=True,
        )
        self.repos = self.bar.add_task("repositories", total=len(units)) if repos else None
        self.files = self.bar.add_task("files", total=None if repos else _count(units))
        self.bar.start()
        return self

    def advance_file(self) -> None:
        self.bar.advance(self.files)
        self._refresh()

    def advance_unit(self) -> None:
        if self.repos is not None:
            self.bar.advance(self.repos)
        self._refresh()

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self.last >= 0.1:
            self.last = now
            self.bar.refresh()

    def stop(self) -> None:
        self.bar.stop()


def _count(units: list) -> int:
    return sum(1 for unit in units for found in unit.inputs() if not isinstance(found, InputError))
