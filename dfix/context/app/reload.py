"""Auto-reload and debugger switches left on in the app's code (uvicorn.run(reload=True), Flask
app.run(debug=True)), and their rewrite with libcst: only those arguments removed or set False, proven with
Python's own parser."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .analysis import Analysis

from ...records import record
from .source import _cst, _Mod, _Scope
from .values import UNKNOWN


@record
class ReloadCall:
    """A call that turns on the auto-reloader/debugger and runs when the container's command runs."""

    file: str  # context-relative path
    line: int
    description: str  # e.g. "uvicorn.run(..., reload=True)"
    # The whole file rewritten with libcst: the reload/debug keywords of every reported call in this file
    # removed (or set False where removal would shift a positional argument), every other byte kept; the
    # same text for each ReloadCall of one file. None when dfix could not prove the rewrite changes only
    # those arguments (see notes).
    fixed_source: str | None


def report_reload_calls(an: Analysis, served: list[tuple[str, _Scope, Any]]) -> None:
    """uvicorn.run(reload=True) and Flask app.run(debug=True / use_reloader=True) the script reaches."""
    found: dict[str, list[tuple[Any, list[tuple[int, str, bool]]]]] = {}
    mods: dict[str, _Mod] = {}
    for kind, scope, call in served:
        if kind == "uvicorn" and an.qual(scope, call.func) not in ("uvicorn.run", "uvicorn.main.run"):
            continue  # uvicorn.Config's reload does nothing without uvicorn.run
        keywords = {"uvicorn": ("reload",), "app.run": ("debug", "use_reloader")}.get(kind, ())
        offending: list[tuple[int, str, bool]] = []
        positional = 0
        for index, arg in enumerate(call.args):
            if arg.star:
                if arg.star == "**":
                    an.note(f"{scope.mod.rel}:{scope.mod.line(call)} passes **keywords, which could turn on reloading.")
                break
            name = arg.keyword.value if arg.keyword is not None else None
            if name is None:
                if kind == "app.run" and positional == 2:
                    name = "debug"
                    if an.evaluate(scope, arg.value) is True:
                        offending.append((index, name, True))
                positional += 1
                continue
            if name in keywords:
                value = an.evaluate(scope, arg.value)
                if value is True:
                    offending.append((index, name, False))
                elif value is UNKNOWN:
                    an.note(f"{scope.mod.rel}:{scope.mod.line(call)} sets {name}= to a value dfix cannot read; not reported.")
        if offending:
            found.setdefault(scope.mod.rel, []).append((call, offending))
            mods[scope.mod.rel] = scope.mod
    for rel, calls in found.items():
        mod = mods[rel]
        fixed = _fix_source(an, mod, calls)
        for call, offending in calls:
            callee = mod.code(call.func)
            parts = [f"{mod.code(call.args[i].value)} as the {_ordinal(_positional_index(call, i))} positional argument ({name})"
                     if positional else f"{name}={mod.code(call.args[i].value)}" for i, name, positional in offending]
            an.f.reload_calls.append(ReloadCall(rel, mod.line(call), f"{callee}(..., {', '.join(parts)})", fixed))


def _fix_source(an: Analysis, mod: _Mod, calls: list[tuple[Any, list[tuple[int, str, bool]]]]) -> str | None:
    cst = _cst()
    replacements: dict[int, Any] = {}
    for call, offending in calls:
        new = call
        for index, _, positional in sorted(offending, reverse=True):
            if positional:
                args = list(new.args)
                args[index] = args[index].with_changes(value=cst.Name("False"))
                new = new.with_changes(args=args)
            else:
                new = _without_arg(new, index)
        replacements[id(call)] = new

    class Replace(cst.CSTTransformer):
        def leave_Call(an, original: Any, updated: Any) -> Any:
            return replacements.get(id(original), updated)

    fixed = mod.tree.visit(Replace()).code
    if fixed == mod.text or not _same_program_but(mod, fixed, calls):
        an.note(f"dfix could not prove its rewrite of {mod.rel} changes only the reload arguments; no fixed source.")
        return None
    return fixed


def _ordinal(n: int) -> str:
    return {1: "first", 2: "second", 3: "third"}.get(n, f"{n}th")


def _positional_index(call: Any, index: int) -> int:
    return sum(1 for arg in call.args[: index + 1] if arg.keyword is None and not arg.star)


def _has_comment(ws: Any) -> bool:
    cst = _cst()
    return isinstance(ws, cst.ParenthesizedWhitespace) and (
        ws.first_line.comment is not None or any(line.comment is not None for line in ws.empty_lines)
    )


def _merge_ws(keep: Any, drop: Any, closing: bool) -> Any:
    """The whitespace left where an argument was removed. ``keep`` led into the argument, ``drop``
    followed it. Own-line comments of both survive; the argument's same-line comment goes with it."""
    cst = _cst()
    PW = cst.ParenthesizedWhitespace
    if isinstance(drop, PW):
        first = keep.first_line if isinstance(keep, PW) else cst.TrailingWhitespace(newline=drop.first_line.newline)
        empty = [*(keep.empty_lines if isinstance(keep, PW) else ()), *drop.empty_lines]
        return PW(first_line=first, empty_lines=empty, indent=drop.indent, last_line=drop.last_line)
    if not closing:
        return keep
    if isinstance(keep, PW) and any(line.comment is not None for line in keep.empty_lines):
        return PW(first_line=keep.first_line, empty_lines=keep.empty_lines, indent=keep.indent, last_line=drop)
    return drop


def _without_arg(call: Any, index: int) -> Any:
    """``call`` with argument ``index`` removed, the commas and line layout around it kept."""
    cst = _cst()
    args = list(call.args)
    arg = args[index]
    has_comma = not isinstance(arg.comma, cst.MaybeSentinel)
    whitespace_before_args = call.whitespace_before_args
    if has_comma:
        drop = arg.comma.whitespace_after
        if index > 0:
            prev = args[index - 1]
            args[index - 1] = prev.with_changes(comma=prev.comma.with_changes(
                whitespace_after=_merge_ws(prev.comma.whitespace_after, drop, closing=index == len(args) - 1)))
        else:
            whitespace_before_args = _merge_ws(whitespace_before_args, drop, closing=len(args) == 1)
    else:
        drop = arg.whitespace_after_arg
        if index > 0:
            prev = args[index - 1]
            keep = prev.comma.whitespace_after if not isinstance(prev.comma, cst.MaybeSentinel) else prev.whitespace_after_arg
            args[index - 1] = prev.with_changes(comma=cst.MaybeSentinel.DEFAULT,
                                                whitespace_after_arg=_merge_ws(keep, drop, closing=True))
        else:
            whitespace_before_args = _merge_ws(whitespace_before_args, drop, closing=True)
    del args[index]
    if not args and not _has_comment(whitespace_before_args):
        whitespace_before_args = cst.SimpleWhitespace("")
    return call.with_changes(args=args, whitespace_before_args=whitespace_before_args)


def _same_program_but(mod: _Mod, fixed: str, calls: list[tuple[Any, list[tuple[int, str, bool]]]]) -> bool:
    """Whether ``fixed`` is, to Python's own parser, the original program with exactly the reported
    arguments removed (keywords) or set to False (positionals) and nothing else changed."""
    try:
        before, after = ast.parse(mod.text), ast.parse(fixed)
    except (SyntaxError, ValueError):
        return False
    lines = mod.text.splitlines(keepends=True)
    wanted: dict[tuple[int, int], list[tuple[int, str, bool]]] = {}
    for call, offending in calls:
        start = mod.pos[call].start
        if start.line - 1 >= len(lines):
            return False
        col = len(lines[start.line - 1][: start.column].encode("utf-8"))
        wanted[(start.line, col)] = offending
    matched = 0
    for node in ast.walk(before):
        if not isinstance(node, ast.Call) or (node.lineno, node.col_offset) not in wanted:
            continue
        offending = wanted[(node.lineno, node.col_offset)]
        matched += 1
        names = {name for _, name, positional in offending if not positional}
        node.keywords = [k for k in node.keywords if k.arg not in names]
        for _, _, positional in offending:
            if positional:
                node.args[2] = ast.Constant(False)
    return matched == len(wanted) and ast.dump(before) == ast.dump(after)
