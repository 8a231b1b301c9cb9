"""What --verify asks of a candidate beyond `dfix verify`'s comparison, and how its report reads: the judge
on real ImageStats values, no engine (the builds themselves are tests/test_verify_fix_build.py's)."""

from __future__ import annotations

from dfix.candidates import SIZE_SLACK_MB, _candidate_reasons
from dfix.report.output import verification_lines
from dfix.verify import ImageStats, VerifyReport


def report(**rewrite) -> VerifyReport:
    original = ImageStats(builds=True, ran=True, running=True, size_mb=300.0, user="", uid=0, status=200,
                          routes={"/": 200}, probed=["/"])
    after = ImageStats(**{"builds": True, "ran": True, "running": True, "size_mb": 250.0, "user": "10001",
                          "uid": 10001, "status": 200, "routes": {"/": 200}, "probed": ["/"], **rewrite})
    return VerifyReport("ctx", "ctx/Dockerfile", "podman", True, ["DF302"], original, after)


def test_a_good_candidate_has_no_reasons():
    assert _candidate_reasons(report()) == []


def test_its_own_healthcheck_must_pass():
    assert _candidate_reasons(report(healthcheck="unhealthy")) == ["its HEALTHCHECK fails"]
    assert _candidate_reasons(report(healthcheck="healthy")) == []


def test_it_runs_as_the_user_it_claims():
    assert _candidate_reasons(report(uid=0)) == ["it claims user 10001 but runs as uid 0"]
    assert _candidate_reasons(report(user="app", uid=0)) == ["it claims user app but runs as root"]
    assert _candidate_reasons(report(user="app:app", uid=999)) == []
    assert _candidate_reasons(report(user="10001:10001", uid=10001)) == []


def test_no_larger_than_the_original_up_to_the_slack():
    assert _candidate_reasons(report(size_mb=300.0 + SIZE_SLACK_MB)) == []
    assert _candidate_reasons(report(size_mb=301.0)) == ["it is larger than the original (301.0 MB > 300.0 MB)"]


def test_a_candidate_that_does_not_build_says_so_once():
    failed = report(builds=False)
    failed.reasons = ["the rewrite does not build"]
    assert _candidate_reasons(failed) == []
    assert _candidate_reasons(report(builds=False)) == ["the rewrite does not build"]


def test_text_lines_say_what_was_written_and_why_not_the_rest():
    verification = {
        "engine": "podman", "builds": 5, "original_size_mb": 834.0, "written": "default without DF402",
        "attempts": [
            {"name": "unsafe", "rules": ["DF302", "DF402"], "ok": False, "size_mb": 243.4, "uid": None,
             "reasons": ["the rewrite's container stopped (exit code 1), the original's kept running"],
             "culprits": [{"code": "DF402", "reasons": ["the rewrite's container stopped (exit code 1), the "
                                                         "original's kept running"],
                           "log": "Traceback (most recent call last):\nFileNotFoundError: 'gcc'"}]},
            {"name": "default without DF402", "rules": ["DF302"], "ok": True, "size_mb": 834.0, "uid": 10001,
             "reasons": [], "culprits": []},
        ],
    }
    lines = verification_lines(verification, "write")
    assert lines[0] == "--verify (podman, 5 builds; original 834.0 MB):"
    assert lines[1].startswith("  unsafe (DF302, DF402): not written: the rewrite's container stopped")
    assert lines[2].startswith("    DF402 is responsible: ")
    assert "      | FileNotFoundError: 'gcc'" in lines
    assert lines[-1] == ("  default without DF402 (DF302): written: builds, answers like the original, 834.0 MB, "
                         "uid 10001")
    assert verification_lines({**verification, "builds": 1}, "dry-run")[0].startswith("--verify (podman, 1 build;")
    assert "would be written" in verification_lines(verification, "dry-run")[-1]
