"""Issue 16: every DF302 report left has a reason from a short documented list (README, "DF302: why a final
stage is left running as root"). The list is held to the rule's code (each reason `_why_not` can return,
rendered with `…` for what varies, is a row, and each row is one of them) and to the real-world corpus: dfix
is run over fixtures/realworld as a user runs it, and each DF302 report's reason is one of the list's."""

from __future__ import annotations

import ast
import json
import re
from collections import Counter

from .conftest import FIXTURES, ROOT
from .test_cli import dfix

HEADING = "### DF302: why a final stage is left running as root"
RULE_MODULES = (ROOT / "dfix" / "rules" / "non_root_user.py", ROOT / "dfix" / "rules" / "_runtime_writes.py")
REASON_FUNCTIONS = ("_why_not", "runtime_writes_blocked")


def _section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert HEADING in text, "README has no DF302 reasons section"
    return re.split(r"\n#{2,3} ", text.split(HEADING, 1)[1], maxsplit=1)[0]


def documented_rule_reasons() -> list[str]:
    """The first cell of each row: one code span (`x`, or `` x `` where x holds a backtick)."""
    rows = [line for line in _section().splitlines() if line.startswith("| `")]
    spans = [re.match(r"\| (`+) ?(.*?) ?\1 \|", line) for line in rows]
    assert all(spans), rows
    return [span.group(2) for span in spans]


def documented_guard_reasons() -> list[str]:
    paragraph = _section().split("As for every rule", 1)[1]
    return re.findall(r"`([^`]+)`", paragraph)


def _render(node) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "…" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _render(node.left) + _render(node.right)
    return "…"


def reasons_in_code() -> set[str]:
    """Every reason text DF302's checks return, `…` where the text is computed."""
    found = set()
    trees = [ast.parse(module.read_text(encoding="utf-8")) for module in RULE_MODULES]
    for function in (node for tree in trees for node in ast.walk(tree)):
        if not (isinstance(function, ast.FunctionDef) and function.name in REASON_FUNCTIONS):
            continue
        for node in ast.walk(function):
            value = node.value if isinstance(node, ast.Return) else None
            if value is None or (isinstance(value, ast.Constant) and value.value is None):
                continue
            if isinstance(value, ast.Call) and getattr(value.func, "id", None) in REASON_FUNCTIONS:
                continue  # handed on to the other check, whose returns are read too
            found.add(_render(value))
    return found


def _pattern(reason: str) -> re.Pattern:
    return re.compile(".*?".join(re.escape(part) for part in reason.split("…")), re.DOTALL)


def test_the_documented_list_is_the_rules_list():
    documented = documented_rule_reasons()
    assert len(documented) == len(set(documented))
    assert set(documented) == reasons_in_code()


def test_every_df302_report_on_the_corpus_has_a_documented_reason():
    proc = dfix("--format", "json", FIXTURES / "realworld")
    assert proc.returncode == 0, proc.stderr
    files = json.loads(proc.stdout)["files"]
    patterns = [(r, _pattern(r)) for r in documented_rule_reasons() + documented_guard_reasons()]
    reported = [(f["path"], r["reason"]) for f in files for r in f["reported"] if r["code"] == "DF302"]
    fixed = sum(1 for f in files for r in f["applied"] if r["code"] == "DF302")
    assert reported and fixed
    per_reason: Counter = Counter()
    for path, reason in reported:
        matching = [documented for documented, pattern in patterns if pattern.fullmatch(reason or "")]
        assert len(matching) == 1, f"{path}: DF302's reason {reason!r} matches {len(matching)} documented reasons"
        per_reason[matching[0]] += 1
    # the corpus numbers, for the run log (pytest -s)
    print(json.dumps({"root_final_stages": fixed + len(reported), "fixed": fixed, "reported": len(reported),
                      "per_reason": dict(per_reason.most_common())}, indent=1, ensure_ascii=False))
