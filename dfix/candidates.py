"""`--verify`: write only a rewrite a real build has proven.

For one Dockerfile, the candidates go from the most ambitious down: every fix including the unsafe ones,
then the fixes the command line asks for, each time without the rules an earlier candidate was caught
breaking. Each candidate is built, run and probed against the original (built and probed once), and the
first one that builds, answers every probe with the original's status, passes its own HEALTHCHECK, runs
as the user it claims and is no larger than the original is the one written. When a candidate fails, the
rule responsible is found by building prefixes of its rules (a bisection: a few builds, not one per
rule), so the other rules can still land. Nothing is written when no candidate passes.

The engine work (build, run, probe, cleanup) is dfix/verify/'s; this module decides what to build.
"""

from __future__ import annotations

from pathlib import Path

from .engine import FileResult, Options, context_for, fix_text, load_rules, read_source
from .files import read_bytes
from .records import asdict, field, record, replace
from .rules import ALL_RULES
from .verify import (
    DEFAULT_PORTS, Engine, ImageStats, OriginalBuildError, VerifyReport, app_facts, app_ports, import_check,
    port_free, ports_of, routes_to_probe, stage_rewrite,
)
from .verify.compare import _judge
from .verify.run import _Run

# A candidate may be this much larger than the original and still count as "no larger": the user the
# non-root fix creates (its passwd lines and home) weighs about 20 kB, and the engines round sizes.
SIZE_SLACK_MB = 0.5
MAX_CANDIDATES = 6  # a bound on the ladder, each step one build: a rule found guilty is never retried
RULE_ORDER = {rule.code: index for index, rule in enumerate(ALL_RULES)}


@record
class Culprit:
    code: str
    reasons: list[str]
    log: str  # the failing step's output: the build's tail, or the container's when it ran and failed


@record
class Attempt:
    name: str  # "unsafe", "default", "default without DF302", ...
    rules: list[str]  # the codes of the fixes it applies
    ok: bool = False
    reasons: list[str] = field(default_factory=list)  # why it was not written
    size_mb: float | None = None
    uid: int | None = None
    routes: dict[str, int] = field(default_factory=dict)  # the status of each probed route
    healthcheck: str | None = None  # None: the candidate has none; "healthy" / "unhealthy"
    compilers: list[str] | None = None  # gcc, cc, g++, make on its PATH
    culprits: list[Culprit] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@record
class Verification:
    engine: str
    written: str | None = None  # the name of the candidate written; None: none passed or none was needed
    original_size_mb: float | None = None
    original_routes: dict[str, int] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    builds: int = 0  # images built, the original included

    def to_dict(self) -> dict:
        return asdict(self)


class Prover:
    """One original, built and probed once, and any number of rewrites of it built and judged against it."""

    def __init__(self, engine: Engine, dockerfile: Path, context: Path) -> None:
        self.engine = engine
        self.dockerfile = dockerfile
        self.context = context
        self.run = _Run(engine, keep=False)
        self.original = ImageStats()
        self.ports: list[int] = []
        self.routes: list[str] = []  # every candidate is probed on the original's routes
        self.facts = None  # the original's app (its module for the import check)
        self.builds = 0
        self._seen: dict[tuple, VerifyReport] = {}

    def measure_original(self) -> None:
        self.builds += 1
        _, _, _, info = self.run.build(self.dockerfile, self.context, "original", self.original)
        if not self.original.builds:
            raise OriginalBuildError(self.dockerfile, self.original.build_error or "")
        config = info.get("Config") or {}
        self.facts = app_facts(self.context, read_source(read_bytes(self.dockerfile)), self.dockerfile.name)
        self.routes = routes_to_probe(self.facts)
        self.ports = app_ports(ports_of(config), self.facts) or [p for p in DEFAULT_PORTS if port_free(p)]
        self.run.run_and_probe(self.original, config, self.ports, self.routes)
        self.original.module, self.original.imports, self.original.import_error = import_check(
            self.engine, self.original.image, self.facts, config)

    def judge(self, result: FileResult) -> VerifyReport:
        """Build, run and probe this rewrite; the report's ok and reasons say whether it may be written."""
        key = (result.fixed, tuple(sorted((k, v[1]) for k, v in result.side_files.items())))
        if key in self._seen:  # a bisection step that produces a text already judged
            return self._seen[key]
        if not self.original.builds:
            self.measure_original()  # on the first candidate: a file no candidate changes costs no build
        name = f"candidate{len(self._seen) + 1}"
        dockerfile, context = stage_rewrite(self.run.tmp / name, self.dockerfile, self.context, result)
        stats = ImageStats()
        self.builds += 1
        self.run.build(dockerfile, context, name, stats, keepable=False)
        if stats.builds:
            config = self.engine.inspect(stats.image).get("Config") or {}
            self.run.run_and_probe(stats, config, self.ports, self.routes)
            stats.module, stats.imports, stats.import_error = import_check(self.engine, stats.image, self.facts, config)
        report = VerifyReport(str(self.context), str(self.dockerfile), self.engine.name, True,
                              sorted({f.code for f in result.applied}), self.original, stats)
        _judge(report, self.engine)
        extra = _candidate_reasons(report)
        report.ok = report.ok and not extra
        report.reasons += extra
        # the image is measured: free its space now, a ladder builds several
        for tag, _ in list(self.run.images):
            if tag == stats.image:
                self.engine.remove_image(tag)
                self.run.images.remove((tag, False))
        self._seen[key] = report
        return report

    def cleanup(self) -> None:
        self.run.cleanup()


def _candidate_reasons(report: VerifyReport) -> list[str]:
    """What --verify asks of a rewrite beyond `dfix verify`'s comparison (_judge, which has said whether it
    builds, answers, keeps running and passes a HEALTHCHECK the original passes): its own HEALTHCHECK (one
    the fixes added) passes, it runs as the user it claims, and it is no larger than the original."""
    before, after = report.original, report.rewrite
    reasons = []
    if not after.builds:
        return reasons
    if after.healthcheck == "unhealthy" and before.healthcheck != "healthy":
        reasons.append("its HEALTHCHECK fails")
    claimed = (after.user or "").partition(":")[0]
    if after.uid is not None and claimed:
        if claimed.isdigit() and int(claimed) != after.uid:
            reasons.append(f"it claims user {claimed} but runs as uid {after.uid}")
        elif not claimed.isdigit() and claimed != "root" and after.uid == 0:
            reasons.append(f"it claims user {claimed} but runs as root")
    elif after.ran and after.uid is None and claimed not in ("", "root", "0"):
        reasons.append(f"it claims user {claimed} but no process could be started as it")
    if before.size_mb is not None and after.size_mb is not None and after.size_mb > before.size_mb + SIZE_SLACK_MB:
        reasons.append(f"it is larger than the original ({after.size_mb} MB > {before.size_mb} MB)")
    return reasons


def _failing_log(report: VerifyReport) -> str:
    stats = report.rewrite
    if not stats.builds:
        return stats.build_error or ""
    return stats.run_log or ""


def prove(path: Path, options: Options, default: FileResult, engine: Engine) -> tuple[FileResult, Verification]:
    """The candidate to write for the Dockerfile at ``path`` (its options already merged with its config)
    and what was tried. ``default`` is the rewrite dfix makes without --verify. Raises VerifyError (the
    original does not build, no engine): then nothing is written for this file."""
    dockerfile = Path(path).resolve()
    context = dockerfile.parent
    verification = Verification(engine.name)

    def fix(opts: Options) -> FileResult:
        return fix_text(default.original, default.path, opts, load_rules(opts), context_for(path))

    ladder: list[tuple[str, Options]] = []
    if not options.unsafe_fixes:
        ladder.append(("unsafe", replace(options, unsafe_fixes=True)))
    ladder.append(("default", options))
    prover = Prover(engine, dockerfile, context)
    guilty: dict[str, Culprit] = {}
    try:
        tried: set[str] = set()
        for level, level_options in ladder:
            while len(verification.attempts) < MAX_CANDIDATES:
                opts = _without(level_options, guilty)
                result = fix(opts) if (level != "default" or guilty) else default
                if result.error or not result.changed:
                    break
                if level == "unsafe" and not guilty and _same(result, default):
                    break  # no unsafe fix applies here: the default candidate is the same
                if result.fixed + repr(sorted(result.side_files.items())) in tried:
                    break  # the same text as a candidate above: it failed there
                tried.add(result.fixed + repr(sorted(result.side_files.items())))
                label = level
                if level == "unsafe" and guilty and _same(result, fix(_without(options, guilty))):
                    label = "default"  # no unsafe fix is left: say so
                name = label + "".join(f" without {c}" for c in sorted(guilty))
                codes = sorted({f.code for f in result.applied}, key=RULE_ORDER.get)
                attempt = Attempt(name, sorted(codes))
                verification.attempts.append(attempt)
                report = prover.judge(result)
                built = report.rewrite
                attempt.size_mb, attempt.uid, attempt.routes = built.size_mb, built.uid, dict(built.routes)
                attempt.healthcheck, attempt.compilers = built.healthcheck, built.compilers
                if report.ok:
                    attempt.ok = True
                    verification.written = name
                    return _with_withheld(result, default, guilty), verification
                attempt.reasons = report.reasons
                culprit = _bisect(prover, fix, opts, codes, report)
                if culprit is None:
                    break  # no single rule explains it: the next, more modest candidate
                attempt.culprits.append(culprit)
                guilty[culprit.code] = culprit
        return _nothing_written(default, verification, guilty), verification
    finally:
        verification.builds = prover.builds
        verification.original_size_mb = prover.original.size_mb
        verification.original_routes = dict(prover.original.routes)
        prover.cleanup()


def _same(one: FileResult, other: FileResult) -> bool:
    return one.fixed == other.fixed and one.side_files == other.side_files


def _without(options: Options, guilty: dict) -> Options:
    return replace(options, ignore=options.ignore | frozenset(guilty)) if guilty else options


def _bisect(prover: Prover, fix, options: Options, codes: list[str], failed: VerifyReport) -> Culprit | None:
    """The first rule whose fixes, added to those of the rules before it (in the order the engine runs
    them), make the rewrite fail: the smallest failing prefix. The original itself is the empty prefix,
    which passes by definition."""
    if not codes:
        return None
    low, high = 0, len(codes)  # prefix of `low` rules passes, of `high` fails
    failing = failed
    while high - low > 1:
        middle = (low + high) // 2
        result = fix(replace(options, select=frozenset(codes[:middle])))
        report = prover.judge(result) if result.changed and not result.error else None
        if report is None or report.ok:
            low = middle
        else:
            high, failing = middle, report
    return Culprit(codes[high - 1], failing.reasons, _failing_log(failing))


def _with_withheld(chosen: FileResult, default: FileResult, guilty: dict[str, Culprit]) -> FileResult:
    """The written candidate, with the findings of the rules left out reported (not applied) and why."""
    for finding in default.applied + default.remaining:
        if finding.code in guilty and not any(f.code == finding.code and f.line == finding.line for f in chosen.remaining):
            why = "; ".join(guilty[finding.code].reasons) or "its rewrite failed"
            chosen.remaining.append(replace(finding, reason=f"--verify: {why}"))
    return chosen


def _nothing_written(default: FileResult, verification: Verification, guilty: dict[str, Culprit]) -> FileResult:
    """No candidate passed: the file stays as it is, its findings reported, not applied, and why."""
    if not verification.attempts:
        return default  # nothing to prove: no candidate changes the file

    def why(finding, fallback):
        if finding.code in guilty:
            return "--verify: " + ("; ".join(guilty[finding.code].reasons) or "its rewrite failed")
        return fallback

    remaining = [replace(f, reason=why(f, "--verify: no rewrite with it passed")) for f in default.applied]
    remaining += [replace(f, reason=why(f, f.reason)) for f in default.remaining]
    result = FileResult(default.path, original=default.original, fixed=default.original, remaining=remaining,
                        warnings=default.warnings, buildkit_missing=default.buildkit_missing)
    if default.changed:
        result.withheld = "no candidate passed --verify: " + "; ".join(
            f"{a.name}: {'; '.join(a.reasons) or 'failed'}" for a in verification.attempts)
    return result
