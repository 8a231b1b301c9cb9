from __future__ import annotations

from ..syntax import Edit
from .base import Rule, Safety
from ..syntax.command import command_words, dev_flag_positions, program

class NoReload(Rule):
    code = "DF504"
    name = "no-reload"
    hadolint = ()
    title = "development reload or debug mode in the image's command"
    safety = Safety.MIGRATION
    what = (
        "Removes `--reload` (and its `--reload-*` options) from uvicorn, gunicorn and hypercorn, and "
        "`--reload`/`--debug`/`--debugger` from `flask run`, in CMD and ENTRYPOINT."
    )
    why = (
        "A reloader watches the file system and restarts workers on change: it costs CPU, runs a second "
        "process, and in Flask's debug mode exposes an interactive debugger that runs arbitrary code."
    )
    example = (
        'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--reload"]',
        'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0"]',
    )
    fix_safety = "Changes how the server runs, on purpose; every other word of the command is kept."
    changes = frozenset({"command-dev-flags"})

    def check(self, doc, ctx):
        for ins in doc.instructions:
            if ins.keyword not in ("CMD", "ENTRYPOINT"):
                continue
            words = command_words(doc, ins)
            if not words:
                continue
            values = [w.value for w in words]
            name, _ = program(values)
            edits, removed = [], []
            for first, last in dev_flag_positions(values):
                edits.append(Edit.delete(words[first - 1].end, words[last].end))
                removed.append(" ".join(values[first:last + 1]))
            if edits:
                yield self.finding(ins.line_number, f"{name} runs with {', '.join(removed)} in the image", edits)
