from __future__ import annotations

import json
import posixpath
import re

from ..lazy_regex import lazy_compile
from ..syntax import Edit
from .. import base_images
from .base import Rule, Safety
from ._app import command_instructions, final_app

_KNOWN_PORT = frozenset({"cmd", "gunicorn-bind", "uvicorn.run", "app.run", "gunicorn-config", "env", "expose", "server-default"})
OPTIONS = "--interval=30s --timeout=5s --start-period=10s --retries=3"


class Healthcheck(Rule):
    code = "DF506"
    name = "healthcheck"
    hadolint = ()
    title = "an HTTP app without a HEALTHCHECK"
    safety = Safety.MIGRATION
    what = (
        "Adds a HEALTHCHECK that requests the app's health route (/health, /healthz, /ping, /status or /ready, "
        "found in its code) on the port it listens on, with the Python the image already has, since slim "
        "images have no curl."
    )
    why = (
        "Without one, Docker, Swarm and Compose see a container whose process runs as healthy even when the "
        "app hangs or fails every request; `depends_on: condition: service_healthy` cannot wait for it."
    )
    example = (
        'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]',
        "HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD [\"python\", \"-c\", "
        "\"import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)\"]\n"
        'CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]',
    )
    fix_safety = (
        "Applied by default when the route was found in the app's code and the port is known; when the app "
        "has none of the usual health routes the check requests `/` and needs --unsafe-fixes, since `/` may "
        "redirect, need auth or be slow. Reported when the port, the app or a Python to run the check "
        "cannot be told."
    )
    changes = frozenset({"healthcheck"})
    phase = 1

    def check(self, doc, ctx):
        stage = doc.final_stage
        if stage is None or any(i.keyword == "HEALTHCHECK" for link in doc.stage_chain(stage) for i in link.body):
            return
        facts = final_app(doc, ctx)
        if facts is None or facts.interface is None:
            return  # not an HTTP app dfix can read
        if facts.file is None:
            entry, cmd = command_instructions(doc, stage)
            yield self.finding((cmd or entry).line_number, "the HTTP app has no HEALTHCHECK",
                               reason="the app's code is not in the build context to find its routes")
            return
        entry, cmd = command_instructions(doc, stage)
        anchor = cmd or entry
        message = "the HTTP app has no HEALTHCHECK"
        if facts.port is None or facts.port_source not in _KNOWN_PORT:
            yield self.finding(anchor.line_number, message, reason="the port the app listens on is unknown")
            return
        conflict = next((n for n in facts.notes if n.startswith("EXPOSE says")), None)
        if conflict:
            yield self.finding(anchor.line_number, message, reason=conflict)
            return
        python = _python(doc, stage, entry, cmd)
        if python is None:
            yield self.finding(anchor.line_number, message, reason="no Python is known to be in the final image")
            return
        route = facts.health_route or "/"
        # the path exactly as the app declares it (Django's "healthz/"), so no redirect is needed
        route = next((r.path for r in facts.routes if r.path.rstrip("/") == route.rstrip("/") and r.path), route)
        hosts = _django_allows_loopback(ctx, facts) if facts.framework == "django" else True
        if hosts is False:
            yield self.finding(anchor.line_number, message, reason="Django's ALLOWED_HOSTS does not admit 127.0.0.1, "
                               "so a check from inside the container gets 400")
            return
        url = f"http://127.0.0.1:{facts.port}{route}"
        probe = f"import urllib.request; urllib.request.urlopen('{url}', timeout=4)"
        keyword = "healthcheck" if anchor.keyword_text.islower() else "HEALTHCHECK"
        line = f"{keyword} {OPTIONS} CMD {json.dumps([python, '-c', probe])}"
        first = doc.lines[anchor.first_line]
        indent = doc.text[first.start:anchor.keyword_span[0]]
        eol = first.eol or doc.eol
        guessed = facts.health_route is None or hosts is None
        yield self.finding(
            anchor.line_number,
            message + (f" (no health route found in the app: the check requests {route})" if guessed else ""),
            [Edit.insert(first.start, f"{indent}{line}{eol}")],
            unsafe=guessed,
        )


def _python(doc, stage, entry, cmd) -> str | None:
    """The interpreter the app itself runs with, or the Python of a python:* base image."""
    argv = (entry.json_args if entry and entry.is_json else []) + (cmd.json_args if cmd and cmd.is_json else [])
    if not argv and (entry or cmd):
        words = ((entry.args if entry else "") + " " + (cmd.args if cmd else "")).split()
        argv = [w for w in words if w != "exec"]
    if argv:
        first = argv[0]
        name = posixpath.basename(first)
        if re.match(r"^python(\d+(\.\d+)?)?$", name):
            return first
        if first.startswith("/") and posixpath.basename(posixpath.dirname(first)) == "bin":
            return posixpath.join(posixpath.dirname(first), "python")  # a virtualenv's console script
    if any(base_images.facts(s.base_expanded).python for s in doc.stage_chain(stage)):
        return "python"
    return None


_ALLOWED = lazy_compile(r"^ALLOWED_HOSTS\s*=\s*(.+)$", re.M)


def _django_allows_loopback(ctx, facts) -> bool | None:
    """True/False from a literal ALLOWED_HOSTS in the settings module; None when it is computed."""
    context = ctx.build_context
    candidates = sorted(context.root.glob("*/settings.py")) + sorted(context.root.glob("*/settings/*.py"))
    for path in candidates:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        match = _ALLOWED.search(text)
        if match is None:
            continue
        value = match.group(1)
        if not value.strip().startswith("["):
            return None
        return any(host in value for host in ('"*"', "'*'", "127.0.0.1", "localhost"))
    return None  # Django's default with DEBUG off admits nothing
