"""What --verify asks of a candidate beyond `dfix verify`'s comparison, and how its report reads: the judge
on real ImageStats values, no engine (the builds themselves are tests/test_verify_fix_build.py's)."""

from __future__ import annotations

from dfix.candidates import SIZE_SLACK_MB, _candidate_reasons
from dfix.report.output import verification_lines
from dfix.verify import Engine, ImageStats, VerifyReport
from dfix.verify.compare import _judge


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
    _judge(failed, Engine("podman", "/usr/bin/podman"))
    assert failed.reasons == ["the rewrite does not build"] and _candidate_reasons(failed) == []


def test_a_healthcheck_the_original_also_passed_is_judged_once():
    both = report(healthcheck="unhealthy")
    both.original.healthcheck = "healthy"
    _judge(both, Engine("podman", "/usr/bin/podman"))
    assert "the original's healthcheck passes, the rewrite's does not" in both.reasons
    assert _candidate_reasons(both) == []


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


def test_a_rewrite_is_staged_with_the_ignore_files_the_fixes_write(tmp_path):
    """The candidate builds with the Dockerfile-specific ignore file as DF601 leaves it (it was copied from
    the user's folder, unfixed), from a copy of the context; the user's files stay as they are."""
    from dfix.engine import Options, context_for, fix_text
    from dfix.verify import stage_rewrite

    context = tmp_path / "ctx"
    context.mkdir()
    (context / "app.py").write_text("print(1)\n")
    dockerfile = context / "Dockerfile"
    dockerfile.write_text("FROM python:3.12-slim\nCOPY app.py /app/\nCMD [\"python\", \"/app/app.py\"]\n")
    (context / "Dockerfile.dockerignore").write_text("*.md\n")
    result = fix_text(dockerfile.read_text(), str(dockerfile), Options(), context=context_for(dockerfile))
    fixed_ignore = result.side_files[str(context / "Dockerfile.dockerignore")][1]
    assert ".git" in fixed_ignore
    rewritten, rewrite_context = stage_rewrite(tmp_path / "stage", dockerfile, context, result)
    assert rewritten.read_text() == result.fixed and rewrite_context != context
    assert (rewritten.parent / "Dockerfile.dockerignore").read_text() == fixed_ignore
    assert (rewrite_context / "Dockerfile.dockerignore").read_text() == fixed_ignore
    assert (context / "Dockerfile.dockerignore").read_text() == "*.md\n"
