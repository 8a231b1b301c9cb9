from __future__ import annotations

# dfix.compose is imported inside the functions: a run over Dockerfiles alone never loads it

from ._compose import ComposeRule
from .base import Safety


DEV_FLAGS = ("--reload", "--debug")
DEBUG_VARIABLES = ("DEBUG", "FLASK_DEBUG", "DJANGO_DEBUG", "APP_DEBUG")
TRUE = frozenset({"true", "1", "yes", "on"})


class ComposeDevFlags(ComposeRule):
    code = "DF703"
    name = "compose-dev-flags"
    title = "--reload, --debug or DEBUG=true in a production Compose file"
    safety = Safety.REPORT
    what = (
        "Reports `--reload` or `--debug` in a service's `command:` or `entrypoint:`, and `DEBUG` (also "
        "`FLASK_DEBUG`, `DJANGO_DEBUG`, `APP_DEBUG`) set true in its `environment:`, in a production "
        "Compose file: one that is not an override (`*.override.yml`), not named for development "
        "(`docker-compose.dev.yml`, `compose.local.yaml`) and whose app services do not bind-mount their "
        "source. Never edited."
    )
    why = (
        "A reloader watches the file system and restarts workers on every change, a debugger serves "
        "tracebacks (and with Werkzeug, a console) to whoever asks: development tools, not for the "
        "stack that serves users."
    )
    example = (
        'services:\n  app:\n    command: uvicorn app:app --host 0.0.0.0 --reload',
        "(reported) move --reload to docker-compose.override.yml, which `docker compose up` reads "
        "next to the file",
    )
    fix_safety = (
        "Report: the production command is the user's; the fix is an override file for development "
        "(compose.override.yaml), which dfix does not write for them."
    )

    def check(self, doc, ctx):
        from ..compose.document import mapping_get

        if doc.development:
            return
        for service in doc.services.values():
            for key in ("command", "entrypoint"):
                node = mapping_get(service.node, key)
                words = _words(service.model.get(key))
                if node is None:
                    continue
                for flag in DEV_FLAGS:
                    if any(w == flag or w.startswith(flag + "=") for w in words):
                        yield self.at(doc, node, f"{service.name}: {key} runs with {flag} in a production file",
                                      reason="development only: put it in an override file (compose.override.yaml)")
            env = mapping_get(service.node, "environment")
            if env is None:
                continue
            for name, value, node in _environment(env):
                if name.upper() in DEBUG_VARIABLES and str(value).strip().lower() in TRUE:
                    yield self.at(doc, node, f"{service.name}: {name}={value} in a production file",
                                  reason="development only: set it in an override file (compose.override.yaml)")


def _words(value) -> list[str]:
    if isinstance(value, list):
        return [str(w) for w in value]
    if isinstance(value, str):
        import shlex  # a Dockerfile run never reads a compose command

        try:
            return shlex.split(value)
        except ValueError:
            return value.split()
    return []


def _environment(node):
    """(name, value or None, node) for each variable set in `environment:`, mapping or list form."""
    from ..compose.document import kind

    if kind(node) == "mapping":
        for k, v in node.value:
            if kind(k) == "scalar" and kind(v) == "scalar":
                yield k.value, v.value if v.value != "" or v.style else None, k
    elif kind(node) == "sequence":
        for item in node.value:
            if kind(item) == "scalar" and isinstance(item.value, str):
                name, eq, value = item.value.partition("=")
                yield name, value if eq else None, item
