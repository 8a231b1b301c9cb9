from __future__ import annotations

import json
import os
import re

from ..syntax import Edit
from ._compose import ComposeRule
from .base import Safety
from .healthcheck import OPTIONS, Healthcheck

# DF506's timing, in Compose's words
TIMING = tuple(option.removeprefix("--").replace("-", "_").split("=") for option in OPTIONS.split())


class ComposeAppHealthcheck(ComposeRule):
    code = "DF705"
    name = "compose-app-healthcheck"
    title = "an app service built from a Dockerfile, without a healthcheck in the image or the service"
    safety = Safety.MIGRATION
    what = (
        "A service built from a local Dockerfile (`build:`), with no `healthcheck:` and no HEALTHCHECK in "
        "that Dockerfile, gets the healthcheck DF506 would give the image: a request, with the image's own "
        "Python, to the health route found in the app's code on the port it listens on."
    )
    why = (
        "Compose sees a running container as healthy even when the app hangs or fails every request, and "
        "nothing can wait for it with `condition: service_healthy`."
    )
    example = (
        "services:\n  api:\n    build: .",
        "services:\n  api:\n    build: .\n    healthcheck:\n      test: [\"CMD\", \"python\", \"-c\", \"import urllib.request; "
        "urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)\"]\n      interval: 30s\n"
        "      timeout: 5s\n      start_period: 10s\n      retries: 3",
    )
    fix_safety = (
        "Migration, under DF506's conditions: the route was found in the app's code and the port is known "
        "(a guessed `/` is left out); the service must not override the command, entrypoint or `PORT`, "
        "which would make the image's port and route not the ones the service runs. Otherwise nothing is "
        "said: DF506 reports on the Dockerfile itself."
    )

    def check(self, doc, ctx):
        from ..context import BuildContext
        from ..rules.base import RuleContext
        from ..syntax import DockerfileSyntaxError, tokenize

        folder = os.path.dirname(os.path.abspath(doc.path))
        for service in doc.services.values():
            model = service.model
            if "healthcheck" in model or not _built_here(model) or doc.is_shared(service.node):
                continue
            if "command" in model or "entrypoint" in model or _sets_port(model.get("environment")):
                continue
            build = model["build"]
            context = build if isinstance(build, str) else build.get("context", ".")
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            root = os.path.normpath(os.path.join(folder, context))
            path = os.path.join(root, dockerfile)
            try:
                with open(path, encoding="utf-8") as handle:
                    image = tokenize(handle.read())
            except (OSError, UnicodeDecodeError, DockerfileSyntaxError):
                continue
            if os.path.dirname(os.path.normpath(path)) != root:
                continue  # a Dockerfile outside its context: DF506's reading of COPY would not hold
            seen = RuleContext(build_context=BuildContext(_real(root), dockerfile=os.path.basename(path)), options=ctx.options)
            found = [f for f in Healthcheck().check(image, seen) if f.fixable and not f.unsafe]
            if not found:
                continue
            probe = _probe(found[0].edits[0].text)
            if probe is None or doc.node_flow(service.node):
                continue
            yield self._insert(doc, service, probe)

    def _insert(self, doc, service, probe):
        nl = doc.newline
        column = doc.column(service.node.value[0][0])
        step = doc.indent_step(service)
        pad, inner = " " * column, " " * (column + step)
        test = "[" + ", ".join(json.dumps(word.replace("$", "$$")) for word in ["CMD", *probe]) + "]"
        lines = [f"{pad}healthcheck:", f"{inner}test: {test}"] + [f"{inner}{k}: {v}" for k, v in TIMING]
        at = doc.end_of_mapping(service.node)
        text = nl + nl.join(lines) if at == len(doc.text) and not doc.text.endswith("\n") else nl.join(lines) + nl
        url = re.search(r"https?://[^'\"]+", probe[-1])
        return self.at(doc, service.key, f"{service.name}: the app has no healthcheck: {url[0] if url else probe[0]}",
                       [Edit.insert(at, text)], paths=[("services", service.name, "healthcheck")])


def _built_here(model: dict) -> bool:
    build = model.get("build")
    if isinstance(build, dict):
        if "dockerfile_inline" in build:
            return False
        build = build.get("context", ".")
    return isinstance(build, str) and "://" not in build and not build.startswith("git@")


def _sets_port(environment) -> bool:
    if isinstance(environment, dict):
        return "PORT" in environment
    if isinstance(environment, list):
        return any(str(item).partition("=")[0] == "PORT" for item in environment)
    return False


def _real(root: str):
    from pathlib import Path

    return Path(os.path.realpath(root))


def _probe(healthcheck_line: str) -> list[str] | None:
    """The exec-form command of DF506's `HEALTHCHECK … CMD [...]` line."""
    _, cmd, rest = healthcheck_line.partition(" CMD ")
    try:
        words = json.loads(rest.strip())
    except ValueError:
        return None
    return words if cmd and isinstance(words, list) and all(isinstance(w, str) for w in words) else None
