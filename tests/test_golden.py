"""Golden fixtures: fixtures/<rule-name>/<case>/before.Dockerfile -> after.Dockerfile.

The case folder is the build context. In a folder named after a rule only that rule runs, so each
expectation shows one fix; in fixtures/all-rules/ every rule runs. Every output must also be
idempotent and parse with BuildKit's parser with the same instruction boundaries.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dfix.context import BuildContext
from dfix.engine import Options, fix_text
from dfix.rules import ALL_RULES

from .conftest import FIXTURES, buildkit_lines

RULE_BY_NAME = {rule.name: rule for rule in ALL_RULES}
CASES = sorted(p.parent for p in FIXTURES.glob("*/*/before.Dockerfile"))


def _options(case):
    group = case.parent.name
    if group in RULE_BY_NAME:
        # only this rule runs, so its fix shows whatever its safety level
        return Options(select=frozenset({RULE_BY_NAME[group].code}), unsafe_fixes=True)
    assert group == "all-rules", f"fixture group {group!r} names no rule"
    if not _side_expectations(case):
        # .dockerignore writing has its own cases; here it runs where a case states what it expects
        return Options(ignore=frozenset({"DF601"}))
    return Options()


def _side_expectations(case) -> dict[str, bytes]:
    """Expected other files: `after.dockerignore` for .dockerignore, `after.Dockerfile.dockerignore` for that one."""
    return {
        "." + p.name.removeprefix("after.") if p.name == "after.dockerignore" else p.name.removeprefix("after."): p.read_bytes()
        for p in case.glob("after.*")
        if p.name != "after.Dockerfile"
    }


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_golden(case, buildkit):
    before = (case / "before.Dockerfile").read_bytes().decode("utf-8")
    expected = (case / "after.Dockerfile").read_bytes().decode("utf-8")
    options = _options(case)
    context = BuildContext(case, dockerfile="Dockerfile")
    result = fix_text(before, str(case), options, context=context)
    assert result.error is None
    assert result.fixed == expected, f"withheld: {result.withheld}"
    sides = {Path(path).name: after.encode("utf-8") for path, (_, after) in result.side_files.items()}
    assert sides == _side_expectations(case)
    written = context.with_changes({str(Path(path).relative_to(case.resolve())): after for path, (_, after) in result.side_files.items()})
    again = fix_text(result.fixed, str(case), options, context=written)
    assert again.fixed == result.fixed and not again.side_files, "a second run changed the output"
    assert buildkit_lines(result.fixed) is not None


def test_every_rule_has_fixtures():
    groups = {case.parent.name for case in CASES}
    missing = [rule.name for rule in ALL_RULES if rule.name not in groups]
    assert not missing, f"rules without golden fixtures: {missing}"
