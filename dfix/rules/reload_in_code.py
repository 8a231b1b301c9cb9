from __future__ import annotations

from .base import FileChange, Rule, Safety
from ._app import final_app


class ReloadInCode(Rule):
    code = "DF507"
    name = "reload-in-code"
    hadolint = ()
    title = "the app's own code turns on reload or debug mode"
    safety = Safety.UNSAFE
    what = (
        "Removes `reload=True` from `uvicorn.run(...)` and `debug=True`/`use_reloader=True` from Flask's "
        "`app.run(...)` on the path the image's command runs (a `__main__` block or what it calls), rewriting "
        "the Python file with libcst so every other byte stays."
    )
    why = "The same reasons as --reload on the command line: a file watcher, a second process, Flask's debugger."
    example = ('uvicorn.run("api.app:app", host="0.0.0.0", port=8080, reload=True)',
               'uvicorn.run("api.app:app", host="0.0.0.0", port=8080)')
    fix_safety = (
        "Unsafe: it edits the application's code, which a developer may run locally with reload on purpose. "
        "Offered only when the rewrite provably differs in nothing but those keywords."
    )
    changes = frozenset()

    def check(self, doc, ctx):
        facts = final_app(doc, ctx)
        if facts is None or not facts.reload_calls:
            return
        stage = doc.final_stage
        anchor = next((i for link in doc.stage_chain(stage) for i in link.body if i.keyword in ("CMD", "ENTRYPOINT")), None)
        line = anchor.line_number if anchor else 1
        done: set[str] = set()
        for call in facts.reload_calls:
            where = f"{call.file}:{call.line}"
            if call.fixed_source is None:
                yield self.finding(line, f"{call.description} runs in the image ({where})",
                                   reason="the rewrite could not be proven to change only that keyword")
                continue
            if call.file in done:
                continue
            done.add(call.file)
            yield self.finding(line, f"{call.description} runs in the image ({where})",
                               files=[FileChange(call.file, call.fixed_source)])
