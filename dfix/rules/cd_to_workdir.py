from __future__ import annotations

import posixpath

from .. import base_images
from ..lazy_regex import lazy_compile
from ..records import record
from ..syntax import Edit, LineKind
from ..syntax.command import _char_offset, _parse_text
from ..syntax.shell import _literal, script_of, shell_region
from .base import Rule, Safety

_DIRECTORY_CHANGES = frozenset({"cd", "pushd", "popd"})
# a path WORKDIR takes as written: no quotes, blanks, escapes or variables to expand differently
_PLAIN_PATH = lazy_compile(r"^/[A-Za-z0-9_.@+:/=,-]*$")
_READS_DIRECTORY_NAME = lazy_compile(r"\b(OLDPWD|PWD|pwd)\b")


class CdToWorkdir(Rule):
    code = "DF204"
    name = "cd-to-workdir"
    hadolint = ("DL3003",)
    title = "`cd` in a RUN instead of WORKDIR"
    safety = Safety.SAFE
    what = (
        "A RUN that starts with `cd /absolute/path && …` becomes `WORKDIR /absolute/path`, the RUN without the "
        "`cd`, and a WORKDIR back to the directory in force before, so everything after runs where it ran."
    )
    why = (
        "WORKDIR says where the build works in one place a reader sees; a `cd` buried in a RUN is easy to "
        "miss, and copying the RUN elsewhere silently drops it."
    )
    example = (
        "WORKDIR /app\nRUN cd /src/tool && make install",
        "WORKDIR /app\nWORKDIR /src/tool\nRUN make install\nWORKDIR /app",
    )
    fix_safety = (
        "The RUN's commands run in the same directory and everything after it in the same directory as "
        "before: the WORKDIR back is left out only where the next instruction is an absolute WORKDIR anyway, "
        "or the stage ends and neither the image nor another stage is built on it. Applied only where the "
        "`cd` is the RUN's first command, to a plain absolute path, joined by `&&` to the rest (and every "
        "operator after it `&&`, so a missing directory failed the whole RUN), and where the directory in force "
        "before is known: an absolute WORKDIR in the stage or a stage it is built on, else the base image's own "
        "WORKDIR from dfix's base-image table (a base the table has no row for is reported). One difference stays, on purpose: WORKDIR creates a "
        "missing directory where `cd` failed, so a build that stopped there goes on. Reported: a relative "
        "path or a variable, `cd -`, a `cd` later in the RUN or in a subshell, pushd/popd, a RUN that reads "
        "$PWD, a cache mount at a relative target."
    )

    def check(self, doc, ctx):
        for stage in doc.stages:
            for ins in stage.body:
                if ins.keyword != "RUN" or ins.heredocs:
                    continue
                script = script_of(doc, ins)
                if not script.ok:
                    continue
                changes = [c for c in script.commands if c.name in _DIRECTORY_CHANGES]
                if not changes:
                    continue
                message = f"RUN changes directory with {changes[0].name}: use WORKDIR"
                plan = _plan(doc, stage, ins, len(changes)) if script.commands[0].name in _DIRECTORY_CHANGES else (
                    f"the {changes[0].name} is not the RUN's first command: what runs before it runs where the RUN starts")
                if isinstance(plan, str):
                    yield self.finding(ins.line_number, message, reason=plan)
                    continue
                yield self.finding(ins.line_number, message, plan.edits(doc, stage, ins))


@record
class _Plan:
    path: str
    cut: tuple[int, int]  # source span of `cd PATH && ` and the blanks or line breaks up to the next command
    restore: str | None  # the WORKDIR to go back to, None when nothing after needs it

    def edits(self, doc, stage, ins) -> list[Edit]:
        keyword = str.lower if ins.keyword_text.islower() else str.upper
        first = doc.lines[ins.first_line]
        line_text = doc.text[first.start:first.end]
        indent = line_text[:len(line_text) - len(line_text.lstrip(" \t"))]
        eol = doc.eol
        out = [Edit.insert(ins.start, f"{indent}{keyword('WORKDIR')} {self.path}{eol}"), Edit.delete(*self.cut)]
        if self.restore is not None:
            last = doc.lines[ins.last_line]
            back = f"{indent}{keyword('WORKDIR')} {self.restore}"
            out.append(Edit.insert(ins.stop, back + eol if last.eol else eol + back))
        return out


def _plan(doc, stage, ins, changes: int) -> _Plan | str:
    region = shell_region(doc, ins)
    if ins.inner is not None or region is None:
        return "a RUN inside ONBUILD"
    region_start, text = region
    data = text.encode("utf-8")
    root = _parse_text(data)
    if root is None:
        return "the shell text cannot be read"
    statements = [c for c in root.named_children if c.type != "comment"]
    if len(statements) != 1 or statements[0].type != "list":
        return "the cd is not the first command joined by && to the rest of the RUN"
    node = statements[0]
    while node.type == "list":
        operators = [c.type for c in node.children if not c.is_named]
        if operators != ["&&"]:
            return "an operator other than && follows the cd: a missing directory would not fail the RUN"
        node = [c for c in node.named_children if c.type != "comment"][0]
    if node.type != "command" or node.child_by_field_name("name") is None:
        return "the cd runs in a subshell or a compound command: only what is inside it runs there"
    name = node.child_by_field_name("name")
    if data[name.start_byte:name.end_byte] in (b"pushd", b"popd"):
        return "pushd/popd keep a stack of directories, which WORKDIR has no equivalent for"
    if data[name.start_byte:name.end_byte] != b"cd":
        return "the cd is not the RUN's first command"
    if changes > 1:
        return "the RUN changes directory more than once"
    arguments = [c for c in node.named_children if c.type not in ("command_name", "comment")]
    if len(arguments) != 1 or any(c.type == "variable_assignment" for c in node.named_children):
        return "cd takes other than one directory here"
    path = _literal(arguments[0], data)
    if path is None or not _PLAIN_PATH.match(path) or path != data[arguments[0].start_byte:arguments[0].end_byte].decode():
        return "cd goes to a relative path, a variable or a quoted path, which WORKDIR would read differently"
    rest = node.parent.named_children[1] if node.parent is not None and node.parent.type == "list" else None
    if rest is None:
        return "the cd is not the first command joined by && to the rest of the RUN"
    if _READS_DIRECTORY_NAME.search(data[rest.start_byte:].decode("utf-8")):
        return "the RUN reads the directory's name ($PWD, pwd), which WORKDIR may spell differently (symlinks)"
    if any(not m.get("target", "/").startswith("/") for m in ins.mounts):
        return "a --mount with a relative target is placed relative to the working directory"
    previous = base_images.workdir_at(doc, ins)
    if previous is None:
        return "the working directory before the RUN is the base image's, which neither the Dockerfile nor dfix's base-image table says"
    cut = (region_start + _char_offset(data, node.start_byte), region_start + _char_offset(data, rest.start_byte))
    first, last = doc.line_index_at(cut[0]), doc.line_index_at(cut[1])
    if any(doc.lines[i].kind is LineKind.CONT_COMMENT for i in range(first, last + 1)):
        return "comment lines between the cd and the next command would be lost"
    return _Plan(path, cut, None if _nothing_after_needs(doc, stage, ins, previous, path) else previous)


def _nothing_after_needs(doc, stage, ins, previous: str, path: str) -> bool:
    if previous == posixpath.normpath(path):
        return True
    later = [o for o in stage.body if o.index > ins.index]
    if later:
        follow = later[0]
        return follow.keyword == "WORKDIR" and _PLAIN_PATH.match(follow.args.strip()) is not None
    return stage is not doc.final_stage and not doc.descendants(stage)
