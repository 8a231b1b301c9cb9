"""Run the rules, apply their edits, and guard the result before anyone writes it.

Fixes are applied in passes, like ruff: each pass takes every allowed finding whose edits do not
conflict with an earlier one, re-tokenizes, and runs the rules again, until a pass finds nothing more
to fix. The last pass is the idempotence check. The guard then requires that BuildKit's parser accepts
the output and reads the same instruction boundaries as our tokenizer, and that the image contract is
unchanged apart from what the applied rules change on purpose. A file that fails keeps its bytes; when
several rules applied, each is tried alone so one bad fix does not hold back the others.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

from . import oracle
from .context import BuildContext
from .contract import contract, differences
from .lazy_regex import lazy_compile
from .pragmas import Pragmas
from .records import field, record, replace
from .rules import ALL_RULES, Finding, Rule, RuleContext, Safety, unknown_code
from .syntax import Document, DockerfileSyntaxError, EditConflict, apply_edits, tokenize
from .syntax.origins import Origins

MAX_PASSES = 10


@record
class Options:
    select: frozenset[str] | None = None  # codes or code prefixes; None = all
    ignore: frozenset[str] = frozenset()
    unsafe_fixes: bool = False
    use_oracle: bool = True
    pin_digest: bool = False  # DF401 also writes the digest a local engine knows for each base image
    uid: int | None = None  # DF302's non-root user; None: the rule's default
    base_image_pins: dict[str, str] | None = None  # DF401: "image" or "image:tag" -> tag, before its table

    def enabled(self, rule: type[Rule]) -> bool:
        def matches(patterns: Iterable[str]) -> bool:
            return any(rule.code.startswith(p) or p in rule.hadolint for p in patterns)

        if self.select is not None and not matches(self.select):
            return False
        return not matches(self.ignore)


@record
class FileResult:
    path: str
    original: str = ""
    fixed: str = ""
    applied: list[Finding] = field(default_factory=list)
    remaining: list[Finding] = field(default_factory=list)
    error: str | None = None  # bad input: nothing was fixed
    withheld: str | None = None  # fixes found but held back by the guard, and why
    buildkit_missing: bool = False  # the guard wanted BuildKit's parser and it cannot be imported here
    # other files of the build context the fixes rewrite: absolute path -> (text before or None, text after)
    side_files: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    # (1-based line in the input, message): things to tell the user that do not stop the file (a pragma
    # that is malformed or names no rule)
    warnings: list[tuple[int, str]] = field(default_factory=list)
    verification: dict | None = None  # --verify: the candidates built and which one is written (candidates.py)

    def column(self, line: int) -> int:
        """The 1-based column where the instruction on `line` of the input starts: its first non-blank
        character (a BOM is no column: editors and code scanning count from the character after it)."""
        lines = self.original.removeprefix("\ufeff").split("\n")
        body = lines[line - 1] if 0 < line <= len(lines) else ""
        return len(body) - len(body.lstrip(" \t")) + 1 if body.strip() else 1

    def findings(self) -> list[tuple[Finding, bool]]:
        """Every finding with whether its fix is applied, in report order: by line, then code."""
        both = [(f, True) for f in self.applied] + [(f, False) for f in self.remaining]
        return sorted(both, key=lambda pair: (pair[0].line, pair[0].code))

    @property
    def changed(self) -> bool:
        return self.error is None and (self.fixed != self.original or bool(self.side_files))


class GuardFailure(Exception):
    pass


def load_rules(options: Options) -> list[Rule]:
    return [rule() for rule in ALL_RULES if options.enabled(rule)]


def read_source(data: bytes) -> str:
    """Decode a Dockerfile, refusing what is not one: binary, non-UTF-8, empty."""
    if b"\x00" in data:
        raise DockerfileSyntaxError("binary file (NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DockerfileSyntaxError(f"not UTF-8 text (invalid byte at offset {err.start})") from None
    return text


def fix_text(
    text: str,
    path: str = "<stdin>",
    options: Options | None = None,
    rules: Sequence[Rule] | None = None,
    context: BuildContext | None = None,
) -> FileResult:
    options = options or Options()
    rules = list(rules) if rules is not None else load_rules(options)
    result = FileResult(path, original=text, fixed=text)
    try:
        doc = tokenize(text)
    except DockerfileSyntaxError as err:
        result.error = str(err)
        return result
    if not doc.instructions:
        result.error = "file with no instructions"
        return result
    result.warnings = list(Pragmas.of(doc, unknown_code).warnings)  # read on the input, so the lines are the user's
    ctx = RuleContext(build_context=context, options=_settings(options))
    try:
        outcome = _fix_effective(doc, rules, ctx, options)
    except Exception as err:  # a bug in a rule must not stop the other files, nor write this one
        result.error = f"internal error, file left unchanged: {type(err).__name__}: {err}"
        return result
    if outcome.failure is None:
        _store(result, outcome, context)
        return result
    # Hold back only what fails: retry with each applied rule alone, keep those that pass together.
    codes = sorted({f.code for f in outcome.applied})
    passing = []
    for code in codes:
        single = _fix_effective(doc, [r for r in rules if r.code == code], ctx, options)
        if single.failure is None:
            passing.append(code)
    if passing and len(passing) < len(codes):
        kept = _fix_effective(doc, [r for r in rules if r.code in passing], ctx, options)
        if kept.failure is None:
            _store(result, kept, context)
            result.withheld = f"{', '.join(c for c in codes if c not in passing)} held back: {outcome.failure}"
            result.remaining = _with_rest(kept.remaining, outcome.applied, passing)
            return result
    result.withheld = outcome.failure
    by_code = {r.code: r for r in rules}
    result.remaining = [
        _without_fix(f, f"held back: {outcome.failure}")
        if f.fixable and _allowed(by_code[f.code], options, f) else f
        for f in outcome.first_findings
    ]
    return result


def _fix_effective(doc: Document, rules: Sequence[Rule], ctx: RuleContext, options: Options) -> _Outcome:
    """_fix, with every applied fix shown to remove its finding: a fix after which its rule still finds the
    same thing on the same line of the input had no effect there, so its edits are withheld (and the
    finding reported with the reason) rather than written."""
    withheld: dict[tuple[str, int], str] = {}
    while True:  # ends: each round withholds at least one more fix, or returns
        outcome = _fix(doc, rules, ctx, options, withheld)
        if outcome.failure is not None:
            return outcome
        still = {(f.code, f.line, f.message): f for f in outcome.remaining}
        ineffective = {
            (f.code, f.line): still[(f.code, f.line, f.message)] for f in outcome.applied
            if (f.code, f.line, f.message) in still and (f.code, f.line) not in withheld
        }
        if not ineffective:
            return outcome
        for key, after in ineffective.items():
            withheld[key] = "its fix would leave the finding in place" + (f" (after it: {after.reason})" if after.reason else "")


def _settings(options: Options) -> dict:
    settings: dict = {"pin_digest": options.pin_digest}
    # only what is set: a rule's .get(key, default) must see its default, not None
    if options.uid is not None:
        settings["uid"] = options.uid
    if options.base_image_pins:
        settings["base_image_pins"] = dict(options.base_image_pins)
    return settings


def _with_rest(remaining: list[Finding], applied: list[Finding], passing: list[str]) -> list[Finding]:
    held = [f for f in applied if f.code not in passing]
    return remaining + [_without_fix(f, "held back by the contract guard") for f in held]


def _store(result: FileResult, outcome: _Outcome, context: BuildContext | None = None) -> None:
    result.fixed = outcome.doc.text
    result.applied = outcome.applied
    result.remaining = outcome.remaining
    if context is not None:
        for rel, text in sorted(outcome.files.items()):
            before = context.read_text(rel) if context.exists(rel) else None
            if before != text:
                result.side_files[str(context.root / rel)] = (before, text)


@record
class _Outcome:
    doc: Document
    applied: list[Finding]
    remaining: list[Finding]
    first_findings: list[Finding]
    failure: str | None = None
    files: dict[str, str] = field(default_factory=dict)  # context-relative path -> new text


def _allowed(rule: Rule, options: Options, finding: Finding | None = None) -> bool:
    unsafe = rule.safety is Safety.UNSAFE or (finding is not None and finding.unsafe)
    return not unsafe or options.unsafe_fixes


def _fix(
    doc: Document, rules: Sequence[Rule], ctx: RuleContext, options: Options,
    withheld: dict[tuple[str, int], str] | None = None,
) -> _Outcome:
    by_code = {r.code: r for r in rules}
    applied: list[Finding] = []
    current = doc
    origins = Origins(doc)
    first: list[Finding] | None = None
    files: dict[str, str] = {}
    phases = sorted({rule.phase for rule in rules})
    for _ in range(MAX_PASSES):
        # read again each pass: a fix may move the lines a pragma and its instruction are on
        pragmas = Pragmas.of(current)
        findings: list[Finding] = []
        # each finding as the user will see it (lines of the input, held back where a fix had no effect),
        # made only for the findings a pass reports or applies
        shown: dict[int, Finding] = {}

        def show(finding: Finding, seen_in: Document = current) -> Finding:
            if id(finding) not in shown:
                seen = _in_input(finding, by_code[finding.code], origins, seen_in)
                reason = withheld.get((seen.code, seen.line)) if withheld else None
                shown[id(finding)] = seen if reason is None else _without_fix(seen, reason)
            return shown[id(finding)]

        chosen, edits, touched = [], [], set()
        # a later phase's rules run only once the earlier phases have nothing to fix: they plan against
        # the finished layout, and the pass that finds nothing at all has run every rule
        for phase in phases:
            found = [] if pragmas.whole_file else [
                f for rule in rules if rule.phase == phase for f in rule.check(current, ctx)
                if not pragmas.suppresses(f.code, f.line, rule.hadolint)
            ]
            findings.extend(found)
            for finding in found:
                if not finding.fixable or not _allowed(by_code[finding.code], options, finding):
                    continue
                if withheld and not show(finding).fixable:
                    continue
                if any(e.conflicts_with(x) for e in finding.edits for x in edits):
                    continue
                if any(change.path in touched for change in finding.files):
                    continue
                chosen.append(finding)
                edits.extend(finding.edits)
                touched.update(change.path for change in finding.files)
            if chosen:
                break
        if first is None:
            first = [show(f) for f in findings]
        if not chosen:
            remaining = [show(f) for f in findings]
            break
        chosen_input = [show(f) for f in chosen]
        try:
            # a pass that only rewrites other files (DF601's .dockerignore) leaves the text as it is: the
            # document, and what it has cached, stays valid
            if edits:
                before = current
                current = tokenize(apply_edits(before.text, edits))
                origins.record(before, current, edits)
        except (DockerfileSyntaxError, EditConflict) as err:
            # name the pass's findings too, so fix_text can retry each rule alone
            return _Outcome(doc, applied + chosen_input, [], first, f"a fix produced text that does not tokenize ({err})")
        changes = {change.path: change.text for f in chosen for change in f.files}
        if changes:
            files.update(changes)
            ctx = RuleContext(build_context=ctx.build_context.with_changes(changes), options=ctx.options)
        applied.extend(chosen_input)
    else:
        return _Outcome(doc, applied, [], first or [], f"fixes did not settle after {MAX_PASSES} passes")
    if not applied:
        return _Outcome(doc, [], remaining, first or [])
    changes = frozenset().union(*(by_code[f.code].changes for f in applied))
    failure = guard(doc, current, changes, options.use_oracle)
    if failure is None and files and ctx.build_context is not None:
        failure = _guard_context(current, ctx.build_context)
    # the guard read the rewrite, which the user does not get to see: its lines are named in theirs
    failure = _lines_in_input(failure, origins, current)
    return _Outcome(current, applied, remaining, first or [], failure, files)


_LINE_REFERENCE = lazy_compile(r"\bline (\d+)\b")


def _in_input(finding: Finding, rule: Rule, origins: Origins, seen_in: Document) -> Finding:
    """The finding as the user sees it: its line (and the lines its message names) in the input file."""
    if rule.about_the_file or not origins.passes:
        return finding  # line 1 means the file; before any edit the pass's lines are the input's
    line = origins.input_line(finding.line, seen_in)
    message = _lines_in_input(finding.message, origins, seen_in)
    reason = _lines_in_input(finding.reason, origins, seen_in)
    if (line, message, reason) == (finding.line, finding.message, finding.reason):
        return finding
    return replace(finding, line=line, message=message, reason=reason)


def _lines_in_input(message: str | None, origins: Origins, seen_in: Document) -> str | None:
    """A message about `seen_in` (a pass's text the user never sees) with each "line N" it names mapped to
    the user's file."""
    if not message or "line " not in message:
        return message
    return _LINE_REFERENCE.sub(lambda m: f"line {origins.input_line(int(m.group(1)), seen_in)}", message)


def _without_fix(finding: Finding, reason: str) -> Finding:
    return replace(finding, edits=(), files=(), reason=reason)


def _guard_context(doc: Document, context: BuildContext) -> str | None:
    """A rewritten .dockerignore must not hide anything a COPY/ADD names from the build context."""
    from .context.dockerignore import DockerIgnore

    ignore = DockerIgnore.of(context)
    if ignore is None:
        return None
    for ins in doc.instructions:
        if ins.keyword not in ("COPY", "ADD") or ins.flag("from") or ins.heredocs:
            continue
        args = ins.json_args if ins.is_json else [w for w, _, _ in ins.words]
        for source in args[:-1]:
            if source in (".", "./") or "://" in source or "$" in source:
                continue
            if ignore.ignored(source.lstrip("/")):
                return f".dockerignore would hide {source}, which line {ins.line_number} copies"
    return None


def guard(before: Document, after: Document, changes: frozenset[str] = frozenset(), use_oracle: bool = True) -> str | None:
    """Why ``after`` must not replace ``before``, or None when it may."""
    if use_oracle:
        # the output only: a misreading of the input that survives the fixes shows up there as well
        try:
            theirs = oracle.instruction_lines(after.text)
        except oracle.OracleError as err:
            return f"BuildKit's parser rejects the output: {err}"
        if theirs is not None and not any(d.name == "check" for d in after.directives):  # v0.12.5 predates `# check=`
            ours = [(i.first_line + 1, i.last_line + 1) for i in after.instructions]
            if [(s, e) for _, s, e in theirs] != ours:
                return "BuildKit's parser splits the output into instructions differently than dfix"
    if after.text == before.text:
        return None  # the contract is a function of the text: the same text has the same contract
    changed = differences(contract(before), contract(after), changes)
    if changed:
        return "the image contract would change: " + ", ".join(changed)
    return None


def context_for(path: Path) -> BuildContext:
    """The Dockerfile's folder as its build context. Called once the file has been read: Path.resolve()
    would stat the folder again only to report a symlink loop, which that read rules out."""
    return BuildContext(Path(os.path.realpath(path.parent)), dockerfile=path.name)
