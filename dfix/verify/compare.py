"""The verdict: whether the rewrite is no worse than the original, from the two images' measurements
(builds, each route's answer, healthcheck, the container's state after the probes, the module import),
and the assertions tests make of a report."""

from __future__ import annotations

from .engines import Engine
from .results import ImageStats, VerifyReport


def answer_rank(stats: ImageStats) -> int:
    """2: a success or redirect, 1: an HTTP answer of any kind, 0: none."""
    if stats.status is None:
        return 0
    return 2 if stats.status < 400 else 1


def _judge(report: VerifyReport, engine: Engine) -> None:
    before, after = report.original, report.rewrite
    reasons = []
    if not after.builds:
        reasons.append("the rewrite does not build")
    elif before.builds:
        compared = route_differences(before, after)
        if compared is not None:
            reasons.extend(compared)
        elif answer_rank(after) < answer_rank(before):  # no routes probed in both: the best answers
            reasons.append(f"the rewrite answers {after.status or 'nothing'}, the original {before.status}")
        if before.healthcheck == "healthy" and after.healthcheck != "healthy":
            reasons.append("the original's healthcheck passes, the rewrite's does not")
        reasons.extend(state_differences(before, after))
    report.ok = not reasons
    if not engine.can_run:
        reasons.append(f"not run: {engine.name} only builds; install podman to run and probe the images")
    elif report.ok and before.ran and before.status is None and after.status is None:
        reasons.append("neither image answered HTTP: compared by build and healthcheck only")
    report.reasons = reasons


def answer_class(stats: ImageStats, route: str) -> int | None:
    """A route's answer as the judge compares it: the status's class (2 for 2xx ...), None for none
    (a timeout in both images is alike; 200 and 500 are not)."""
    status = stats.routes.get(route)
    return None if status is None else status // 100


def describe_answer(stats: ImageStats, route: str) -> str:
    if route in stats.routes:
        return str(stats.routes[route])
    if route in stats.unanswered:
        return "timeout" if stats.unanswered[route] == "timeout" else "no answer"
    return "-"


def route_differences(before: ImageStats, after: ImageStats) -> list[str] | None:
    """One reason per route probed in both images whose answer differs in class; None when no route was
    probed in both (nothing to compare route by route)."""
    if not (before.ran and after.ran):
        return None
    common = [r for r in before.probed if r in after.probed]
    if not common:
        return None
    reasons = []
    for route in common:
        if answer_class(before, route) != answer_class(after, route):
            reasons.append(f"GET {route}: the original answers {describe_answer(before, route)}, "
                           f"the rewrite {describe_answer(after, route)}")
    return reasons


def state_differences(before: ImageStats, after: ImageStats) -> list[str]:
    """After the probes: the rewrite's container stopped (or crashed, or restarted) where the original's
    did not, and its app module imports in the original only."""
    reasons = []
    if before.running and after.ran and not after.running:
        exited = f" (exit code {after.exit_code})" if after.exit_code is not None else ""
        reasons.append(f"the rewrite's container stopped{exited}, the original's kept running")
    elif before.running is False and after.running is False and before.exit_code == 0 \
            and after.exit_code not in (0, None):
        reasons.append(f"the rewrite's container exited with {after.exit_code}, the original's with 0")
    if (after.restarts or 0) > (before.restarts or 0):
        reasons.append(f"the rewrite's container restarted {after.restarts} times, the original's {before.restarts or 0}")
    if before.imports and after.imports is False:
        reasons.append(f"the app module {after.module or before.module} does not import in the rewrite as its user: "
                       f"{after.import_error}")
    return reasons


def runs_as_non_root(report: VerifyReport) -> bool:
    return report.rewrite.uid not in (None, 0)


def shrinks_by(report: VerifyReport, fraction: float) -> bool:
    before, after = report.original.size_mb, report.rewrite.size_mb
    return before is not None and after is not None and after <= before * (1 - fraction)
