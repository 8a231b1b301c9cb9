"""Compose files (compose.yaml, docker-compose.yml and their override and per-environment files), fixed
the way Dockerfiles are: rules find, splices fix (document.py says why splices), passes until nothing
more applies, and a guard before anything is written.

The guard: the output must parse; its model (anchors resolved, merge keys applied) must equal the
input's everywhere except the keys the applied fixes change on purpose (so an edit that reached an
aliased node, and with it another service, is caught); every `depends_on` must still name the same
services; and the output must validate against the Compose Specification's JSON schema
(dfix/data/compose-spec.json) with no error the input did not already have (the vendored schema is a
2021 version: newer keys such as `develop` are errors to it, in the input and the output alike).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Sequence

from ..files import is_compose_name  # discovery owns the name test
from ..records import replace

MAX_PASSES = 10


def fix_compose(text: str, path: str, options, rules: Sequence | None = None, location: str | None = None):
    """The FileResult of fixing one Compose file's text, named `path` in messages; `location` (default:
    `path`) is where it lives: its name says development or production, its folder anchors bind mounts."""
    from ..engine import FileResult, _settings
    from ..rules import COMPOSE_RULES, RuleContext
    from ..syntax import apply_edits
    from .document import ComposeDocument, ComposeSyntaxError

    result = FileResult(path, original=text, fixed=text)
    where = path if location is None else location
    rules = [rule() for rule in COMPOSE_RULES if options.enabled(rule)] if rules is None else list(rules)
    try:
        doc = ComposeDocument.parse(text, where)
    except ComposeSyntaxError as err:
        result.error = str(err)
        return result
    ctx = RuleContext(options=_settings(options))
    passes: list[list] = []  # each pass's edits, to map a later pass's offsets back to the input
    applied, current = [], doc
    try:
        for _ in range(MAX_PASSES):
            findings = [f for rule in rules for f in rule.check(current, ctx)]
            chosen, edits = [], []
            for finding in findings:
                if not finding.fixable or (_unsafe(finding, rules) and not options.unsafe_fixes):
                    continue
                if any(e.conflicts_with(x) for e in finding.edits for x in edits):
                    continue
                chosen.append(finding)
                edits.extend(finding.edits)
            if not chosen:
                remaining = findings
                break
            applied.extend(_in_input(f, passes, text) for f in chosen)
            passes.append(edits)
            current = ComposeDocument.parse(apply_edits(current.text, edits), where)
        else:
            result.error = f"fixes did not settle after {MAX_PASSES} passes"
            return result
    except ComposeSyntaxError as err:
        result.withheld = f"a fix produced a file that does not parse ({err})"
        result.remaining = [replace(f, edits=(), reason=f"held back: {result.withheld}") for f in _first(doc, rules, ctx)]
        return result
    except Exception as err:  # a bug in a rule must not stop the other files, nor write this one
        result.error = f"internal error, file left unchanged: {type(err).__name__}: {err}"
        return result
    remaining = [_in_input(f, passes, text) for f in remaining]
    failure = guard(doc, current, applied) if applied else None
    if failure is not None:
        result.withheld = failure
        result.remaining = sorted(
            [replace(f, edits=(), reason=f"held back: {failure}") if f.fixable else f for f in _first(doc, rules, ctx)],
            key=lambda f: (f.line, f.code))
        return result
    result.fixed, result.applied, result.remaining = current.text, applied, remaining
    return result


def _unsafe(finding, rules) -> bool:
    from ..rules import Safety

    rule = next(r for r in rules if r.code == finding.code)
    return rule.safety is Safety.UNSAFE or finding.unsafe


def _first(doc, rules, ctx) -> list:
    return [f for rule in rules for f in rule.check(doc, ctx)]


def _in_input(finding, passes: list[list], original: str):
    """The finding with its offset (and line) in the input: undo each earlier pass's splices; an offset
    inside text a fix wrote maps to the place it was written at."""
    offset = finding.offset
    for edits in reversed(passes):
        offset = _before_edits(offset, edits)
    return replace(finding, offset=offset, line=original.count("\n", 0, offset) + 1)


def _before_edits(offset: int, edits) -> int:
    shift = 0  # how much longer the new text is than the old one before the current edit
    for edit in sorted(edits, key=lambda e: (e.start, e.end)):
        new_start = edit.start + shift
        if offset < new_start:
            break
        if offset < new_start + len(edit.text):
            return edit.start
        shift += len(edit.text) - (edit.end - edit.start)
    return offset - shift


# -- the guard -------------------------------------------------------------------------------------

def guard(before, after, applied) -> str | None:
    """Why `after` must not replace `before`, or None when it may."""
    intended = {path for finding in applied for path in finding.paths}
    old, new = _without(before.model, intended), _without(after.model, intended)
    if old != new:
        return "the Compose model would change beyond the keys the fixes set: " + _first_difference(old, new)
    for name, service in (before.model.get("services") or {}).items():
        if not isinstance(service, dict) or "depends_on" not in service:
            continue
        was = _dependencies(service.get("depends_on"))
        now = _dependencies(((after.model.get("services") or {}).get(name) or {}).get("depends_on"))
        if was != now:
            return f"services.{name}.depends_on would name {sorted(now)} instead of {sorted(was)}"
    unchecked = _healthy_without_check(after.model) - _healthy_without_check(before.model)
    if unchecked:
        return "{} would wait for {} to be healthy, which has no healthcheck".format(*sorted(unchecked)[0])
    old_errors, new_errors = schema_errors(before.model), schema_errors(after.model)
    introduced = sorted(key for key in new_errors if key not in old_errors)
    if introduced:
        return "the output breaks the Compose Specification's schema: " + new_errors[introduced[0]]
    return None


def _healthy_without_check(model) -> set[tuple[str, str]]:
    """(service, dependency) pairs where Compose would wait for a health state that never comes."""
    services = model.get("services") if isinstance(model, dict) else None
    if not isinstance(services, dict):
        return set()
    out = set()
    for name, service in services.items():
        depends = service.get("depends_on") if isinstance(service, dict) else None
        if not isinstance(depends, dict):
            continue
        for dependency, how in depends.items():
            if not (isinstance(how, dict) and how.get("condition") == "service_healthy"):
                continue
            target = services.get(dependency)
            check = target.get("healthcheck") if isinstance(target, dict) else None
            if not isinstance(check, dict) or check.get("disable") or check.get("test") in (["NONE"], "NONE"):
                out.add((name, dependency))
    return out


def _dependencies(value) -> set:
    if isinstance(value, list):
        return set(value)
    if isinstance(value, dict):
        return set(value)
    return set()


def _unshared(value):
    """A copy in which no two places share an object (deepcopy keeps the sharing an alias made)."""
    if isinstance(value, dict):
        return {key: _unshared(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unshared(item) for item in value]
    return value


def _without(model, paths) -> object:
    out = _unshared(model)
    for path in paths:
        node = out
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(path[-1], None)
    return out


def _first_difference(old, new, where: str = "") -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            if old.get(key) != new.get(key):
                return _first_difference(old.get(key), new.get(key), f"{where}.{key}" if where else str(key))
    return where or "the whole file"


@lru_cache(maxsize=1)
def _validator():
    import jsonschema  # lazy: only a run that meets a Compose file pays for it

    schema = json.loads((resources.files("dfix") / "data" / "compose-spec.json").read_text("utf-8"))
    return jsonschema.Draft201909Validator(schema)


def schema_errors(model) -> dict[str, str]:
    """The schema's complaints about `model`: "where (which rule of the schema)" -> its message. Keyed
    without the message, which quotes the offending value: a value the fix extends keeps its old error."""
    out = {}
    for error in _validator().iter_errors(model):
        where = ".".join(str(p) for p in error.absolute_path) or "(top level)"
        out[f"{where} ({'/'.join(str(p) for p in error.schema_path)})"] = f"{where}: {error.message}"
    return out


__all__ = ["fix_compose", "guard", "is_compose_name", "schema_errors"]
