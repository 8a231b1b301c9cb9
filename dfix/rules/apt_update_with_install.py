from __future__ import annotations

from ..syntax import Edit
from ..syntax.shell import script_of
from .base import Rule, Safety
from ._apt import NEEDS_LISTS, apt_actions, is_update_only

# instructions that may stand between `RUN apt-get update` and the install it serves
_TRANSPARENT = frozenset({"ENV", "ARG", "LABEL"})


class AptUpdateWithInstall(Rule):
    code = "DF103"
    name = "apt-update-with-install"
    hadolint = ()
    title = "apt-get update not in the same RUN as apt-get install"
    safety = Safety.SAFE
    what = (
        "Moves a lone `RUN apt-get update` into the RUN of the install it serves, and adds `apt-get update &&` "
        "to an install whose RUN fetches no index."
    )
    why = (
        "Layers are cached one by one: a cached `apt-get update` layer keeps a stale index, so a later change "
        "to the install line fetches package versions that no longer exist and the build fails."
    )
    example = (
        "RUN apt-get update\nRUN apt-get install -y --no-install-recommends curl",
        "RUN apt-get update && apt-get install -y --no-install-recommends curl",
    )
    fix_safety = (
        "Safe: the same commands run in the same order; only the layer boundary moves. Applied only when the "
        "install RUN is one command or an `&&` chain (so a failing update still fails the build) and both RUNs "
        "have the same flags."
    )

    def check(self, doc, ctx):
        for stage in doc.stages:
            body = stage.body
            served: set[int] = set()
            for pos, ins in enumerate(body):
                if ins.keyword != "RUN":
                    continue
                script = script_of(doc, ins)
                if not is_update_only(script):
                    continue
                target = next((other for other in body[pos + 1:] if other.keyword not in _TRANSPARENT), None)
                yield self._join(doc, ins, target, served)
            for ins in body:
                if ins.keyword != "RUN" or ins.index in served:
                    continue
                script = script_of(doc, ins)
                if not script.ok:
                    continue
                actions = apt_actions(script)
                if "install" not in actions or "update" in actions[: actions.index("install")]:
                    continue
                if not script.operators <= {"&&"}:
                    yield self.finding(
                        ins.line_number, "apt-get install without apt-get update in the same RUN",
                        reason="the RUN chains commands with ';', '||' or '&', so a prepended update could fail unseen",
                    )
                    continue
                yield self.finding(
                    ins.line_number,
                    "apt-get install without apt-get update in the same RUN",
                    [Edit.insert(script.start, "apt-get update && ")],
                )

    def _join(self, doc, update, target, served):
        message = "apt-get update alone in a RUN; joined with the install it serves"
        if target is None or target.keyword != "RUN":
            return self.finding(update.line_number, message, reason="no RUN with apt-get install follows it")
        script = script_of(doc, target)
        actions = apt_actions(script) if script.ok else []
        if not any(a in NEEDS_LISTS for a in actions) or "update" in actions:
            return self.finding(update.line_number, message, reason="the next RUN does not install with apt")
        served.add(target.index)
        if not script.operators <= {"&&"}:
            return self.finding(
                update.line_number, message,
                reason="the install RUN chains commands with ';', '||' or '&', so the update could fail unseen",
            )
        if update.flags and _flag_set(update) != _flag_set(target):
            return self.finding(update.line_number, message, reason="the two RUNs have different flags")
        command = script_of(doc, update).commands[0]
        update_text = doc.text[command.start:command.end]
        if "\n" in update_text:
            return self.finding(update.line_number, message, reason="the update command spans several lines")
        return self.finding(
            update.line_number,
            message,
            [Edit.delete(update.start, update.stop), Edit.insert(script.start, update_text + " && ")],
        )


def _flag_set(ins) -> list[str]:
    return sorted(f"{f.name}={f.value}" for f in ins.flags)
