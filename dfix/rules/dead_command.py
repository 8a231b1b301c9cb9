from __future__ import annotations

from ..syntax import Edit
from .base import Rule, Safety


class DeadCommand(Rule):
    code = "DF508"
    name = "dead-command"
    hadolint = ("DL4003", "DL4004")
    title = "a CMD or ENTRYPOINT that a later one in the same stage overrides"
    safety = Safety.SAFE
    what = "Removes a CMD (or ENTRYPOINT) that a later CMD (ENTRYPOINT) of the same stage replaces."
    why = (
        "Only the last CMD and the last ENTRYPOINT of a stage take effect; an earlier one reads as if it "
        "ran, which misleads whoever edits the file next."
    )
    example = ('CMD ["python", "app.py"]\nCMD ["gunicorn", "app:app"]', 'CMD ["gunicorn", "app:app"]')
    fix_safety = (
        "Safe: the image's command and entrypoint stay what they were. BuildKit empties an inherited CMD at "
        "an ENTRYPOINT only while the stage has set no CMD of its own, and the later CMD sets it again "
        "either way, so the earlier one never reaches the image. Comments around it stay."
    )

    def check(self, doc, ctx):
        for stage in doc.stages:
            for keyword in ("CMD", "ENTRYPOINT"):
                found = [ins for ins in stage.body if ins.keyword == keyword]
                for dead in found[:-1]:
                    yield self.finding(
                        dead.line_number,
                        f"{keyword} overridden by the {keyword} on line {found[-1].line_number}",
                        [Edit.delete(dead.start, dead.stop)],
                    )
