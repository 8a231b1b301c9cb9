from __future__ import annotations

from ..syntax import Edit
from ..syntax.shell import script_of
from .base import Rule, Safety
from ._apt import LISTS_DIR, apt_actions, is_update_only, lists_are_cached, relies_on_lists, removes_lists

CLEANUP = f"rm -rf {LISTS_DIR}/*"


class AptListsCleanup(Rule):
    code = "DF104"
    name = "apt-lists-cleanup"
    hadolint = ("DL3009",)
    title = "apt lists left in the image"
    safety = Safety.SAFE
    what = (
        f"Appends `&& {CLEANUP}` to the RUN that ran apt, after its last code line: on the same line for a "
        "one-line RUN, on a new continuation line in the file's style (leading `&&` or trailing `&& \\`) otherwise."
    )
    why = (
        "`apt-get update` downloads the package index (tens of MB) into /var/lib/apt/lists; removed in a later "
        "RUN it still ships in this layer."
    )
    example = (
        "RUN apt-get update && apt-get install -y --no-install-recommends curl",
        f"RUN apt-get update && apt-get install -y --no-install-recommends curl && {CLEANUP}",
    )
    fix_safety = (
        "Safe: the index is only needed while apt runs. Not applied when a later RUN of the stage (or of a "
        "stage built on it) still reads the lists, when the lists are a cache mount, or in stages that do "
        "not reach the final image."
    )

    def check(self, doc, ctx):
        for stage in doc.stages:
            if not doc.reaches_final(stage):
                continue
            later_stages = doc.descendants(stage)
            for pos, ins in enumerate(stage.body):
                if ins.keyword != "RUN":
                    continue
                script = script_of(doc, ins)
                if not script.ok:
                    continue
                actions = apt_actions(script)  # first: most RUNs run no apt, and the mounts are then not read
                if "update" not in actions and "install" not in actions:
                    continue
                if removes_lists(script) or lists_are_cached(ins):
                    continue
                message = "apt lists are not removed in the RUN that fetched them"
                if is_update_only(script):
                    continue  # DF103 joins it with its install first
                later = [o for o in stage.body[pos + 1:] if o.keyword == "RUN"]
                later += [o for s in later_stages for o in s.body if o.keyword == "RUN"]
                if any(relies_on_lists(doc, other) for other in later):
                    yield self.finding(ins.line_number, message, reason="a later RUN still reads the apt lists")
                    continue
                if "&" in script.operators or script.end <= script.start:
                    yield self.finding(ins.line_number, message, reason="the RUN ends in a background job")
                    continue
                yield self.finding(ins.line_number, message, [Edit.insert(script.end, _cleanup_text(doc, ins, script.end))])


def _cleanup_text(doc, ins, at: int, command: str = CLEANUP) -> str:
    """`&& command` after the RUN's last code line, in the RUN's own continuation style."""
    if len(ins.code_lines) == 1:
        return f" && {command}"
    line = doc.lines[doc.line_index_at(at)]
    eol = line.eol or doc.eol
    cont = [doc.text[doc.lines[i].start:doc.lines[i].end] for i in ins.code_lines[1:]]
    leading_lines = [c for c in cont if c.strip().startswith("&&")]
    leading = bool(leading_lines)
    indent = _indent(leading_lines[-1] if leading else cont[-1]) or "    "
    trailing = not leading and any(c.rstrip(" \t\\").endswith("&&") for c in
                                   [doc.text[doc.lines[i].start:doc.lines[i].end] for i in ins.code_lines])
    if trailing:
        # align with the lines that start a command (those after a line ending in `&&`)
        code = [doc.text[doc.lines[i].start:doc.lines[i].end] for i in ins.code_lines]
        starts = [line for prev, line in zip(code, code[1:]) if prev.rstrip(" \t\\").endswith("&&")]
        indent = _indent(starts[-1]) if starts else indent
        return f" && {doc.escape}{eol}{indent}{command}"
    return f" {doc.escape}{eol}{indent}&& {command}"


def _indent(text: str) -> str:
    return text[: len(text) - len(text.lstrip(" \t"))]
