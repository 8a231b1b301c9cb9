from __future__ import annotations

# dfix.compose is imported inside the functions: a run over Dockerfiles alone never loads it
import re

from ._compose import ComposeRule
from .base import Safety
from .compose_dev_flags import _environment

SECRET_WORDS = frozenset({"PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY"})
_FLAGS = frozenset({"true", "false", "yes", "no", "on", "off"})  # USE_TOKEN_AUTH: "true" says no secret


def is_secret_name(name: str) -> bool:
    """API_KEY, POSTGRES_PASSWORD, SECRET_KEY, GITHUB_TOKEN; not POSTGRES_PASSWORD_FILE (a path) nor MONKEY."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+|(?<=[a-z])(?=[A-Z])", name) if w]
    upper = [w.upper() for w in words]
    if not upper or upper[-1] in ("FILE", "PATH", "ID", "NAME", "URL", "LENGTH", "USER"):
        return False
    return any(w in SECRET_WORDS or w.endswith(("PASSWORD", "SECRET", "TOKEN")) for w in upper)


def mask(value: str) -> str:
    """Never the value itself: its length only."""
    return f"<{len(value)} characters>"


class ComposeLiteralSecret(ComposeRule):
    code = "DF704"
    name = "compose-literal-secret"
    title = "a literal password, secret, token or key in a production Compose file's environment"
    safety = Safety.REPORT
    what = (
        "Reports an `environment:` variable whose name says it holds a secret (PASSWORD, SECRET, TOKEN, "
        "KEY: `POSTGRES_PASSWORD`, `SECRET_KEY`, `API_TOKEN`) and whose value is written in the file, in "
        "a production Compose file (see DF703 for which files are for development). The value is never "
        "printed: the report gives its length. A value from the environment (`${DB_PASSWORD}`) is fine."
    )
    why = (
        "A password in the Compose file is in every clone and every fork of the repository and in its "
        "history for good; for local development that is harmless, in production it is a leak."
    )
    example = (
        "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: hunter2",
        "(reported) services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n"
        "    # or env_file: .env (not committed), or secrets: with POSTGRES_PASSWORD_FILE",
    )
    fix_safety = (
        "Report: where the secret should live (an env_file kept out of git, `secrets:`, the deployment's "
        "own store) is the user's decision, and the literal must also be rotated: it is in the history."
    )

    def check(self, doc, ctx):
        from ..compose.document import mapping_get

        if doc.development:
            return
        for service in doc.services.values():
            env = mapping_get(service.node, "environment")
            if env is None:
                continue
            for name, value, node in _environment(env):
                if value is None or not isinstance(name, str) or not is_secret_name(name):
                    continue
                value = str(value)
                if not value.strip() or value.lower() in _FLAGS or "${" in value or re.fullmatch(r"\$[A-Za-z_][A-Za-z0-9_]*", value):
                    continue
                yield self.at(doc, node, f"{service.name}: {name} is set to a literal value ({mask(value)})",
                              reason="read it from env_file: (kept out of git) or secrets:, not the Compose file")
