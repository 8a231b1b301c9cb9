"""What verify asks of the app inside the image, from dfix's own reading of it (dfix.context.app): the
routes to probe and the ports to try, whether its module imports as the image's user, and which source
file to change to measure a rebuild."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from ..context import BuildContext
from ..lazy_regex import lazy_compile
from ..syntax import DockerfileSyntaxError
from .engines import Engine
from .probing import HEALTH_ROUTES

MAX_APP_ROUTES = 25  # routes found in the app's code, beyond the health paths
IMPORT_SECONDS = 30.0  # an app module that serves when imported (no __main__ guard) times out in both images
MANIFESTS = lazy_compile(
    r"(requirements.*\.(txt|in)|pyproject\.toml|poetry\.lock|uv\.lock|Pipfile(\.lock)?|setup\.(py|cfg)"
    r"|package(-lock)?\.json|.*Dockerfile.*|.*Containerfile.*|\.dockerignore|\.gitignore)"
)


def _is_parameterless(path: str) -> bool:
    return path.startswith("/") and not re.search(r"[<>{}()\[\]*?^$\\|+\s]", path)


def app_facts(context: Path, dockerfile_text: str, dockerfile_name: str | None = None):
    """What dfix reads of the app the Dockerfile's final stage runs (dfix.context.app.AppFacts), as the
    rules see it; None when there is no command or the Dockerfile cannot be read."""
    from ..rules._app import final_app
    from ..rules.base import RuleContext
    from ..syntax import tokenize

    try:
        doc = tokenize(dockerfile_text)
    except DockerfileSyntaxError:
        return None
    return final_app(doc, RuleContext(build_context=BuildContext(Path(context), dockerfile=dockerfile_name)))


def app_routes(context: Path, dockerfile_text: str, dockerfile_name: str | None = None) -> list[str]:
    """The parameterless GET routes found in the app's code (a Django view answers any method)."""
    facts = app_facts(context, dockerfile_text, dockerfile_name)
    return _get_routes(facts)


def _get_routes(facts) -> list[str]:
    if facts is None:
        return []
    found = [r.path for r in facts.routes if {"GET", "*"} & set(r.methods) and _is_parameterless(r.path)]
    return list(dict.fromkeys(found))[:MAX_APP_ROUTES]


def routes_to_probe(*facts) -> list[str]:
    """The health paths, then every parameterless GET route of the apps' code (original and rewrite
    alike, so both images get the same list), `/` last: it is the route most likely to do real work (a
    page that queries a database), and a hanging `/` must not hold a single-worker server while the
    others wait."""
    found: list[str] = []
    for each in facts:
        found.extend(_get_routes(each))
    ordered = [r for r in HEALTH_ROUTES if r != "/"] + [r for r in found if r != "/"] + ["/"]
    return list(dict.fromkeys(ordered))


def app_ports(declared: list[int], *facts) -> list[int]:
    """The port the app's code and command say it listens on first, then the image's declared ones. A
    server's default port counts only when the image declares none (it is a guess otherwise)."""
    found = [f.port for f in facts if f is not None and f.port is not None
             and (f.port_source != "server-default" or not declared)]
    return list(dict.fromkeys(found + list(declared)))


def _python_of(config: dict) -> str:
    """The interpreter the image's command runs with: its own python, the python beside a virtualenv's
    console script (/opt/venv/bin/gunicorn), else `python` on the image's PATH."""
    argv = list(config.get("Entrypoint") or []) + list(config.get("Cmd") or [])
    if len(argv) >= 3 and os.path.basename(argv[0]) in ("sh", "bash", "dash", "ash") and argv[1] == "-c":
        argv = argv[2].split()
    argv = [w for w in argv if w != "exec" and not re.match(r"^[A-Za-z_]\w*=", w)]
    if not argv:
        return "python"
    first = argv[0]
    if re.match(r"^python(\d+(\.\d+)*)?$", os.path.basename(first)):
        return first
    folder = os.path.dirname(first)
    if first.startswith("/") and os.path.basename(folder) == "bin" and folder not in (
            "/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"):
        return f"{folder}/python"
    return "python"


def import_check(engine: Engine, image: str, facts, config: dict | None = None) -> tuple[str | None, bool | None, str | None]:
    """Whether the app's module (from ``facts``) imports in ``image`` as its USER, in its WORKDIR:
    (module, imports, the last line of the error). (None, None, None) when there is no module to import
    or the engine cannot run images; imports is None when no Python could be started.

    No network, so an import that connects to a database fails fast instead of waiting on it."""
    if facts is None or not facts.module or not engine.can_run:
        return None, None, None
    module = facts.module
    code = f"import {module}"
    if facts.module_root:
        code = f"import sys; sys.path.insert(0, {facts.module_root!r}); {code}"
    pythons = list(dict.fromkeys([_python_of(config or {}), "python", "python3"]))
    for python in pythons:
        with tempfile.TemporaryDirectory(prefix="dfix-verify-") as tmp:
            cidfile = Path(tmp) / "cid"
            args = ["run", "--cidfile", str(cidfile), "--network", "none", "--entrypoint", python, image, "-c", code]
            if engine.name == "podman":
                args.insert(1, "--pull=never")
            proc = engine._run(args, timeout=IMPORT_SECONDS)
            if cidfile.exists() and cidfile.read_text().strip():
                engine.remove_container(cidfile.read_text().strip())
        if proc.returncode == 0:
            return module, True, None
        if proc.returncode == 124:
            return module, False, f"the import did not finish in {IMPORT_SECONDS:.0f} s"
        if proc.returncode in (126, 127):
            continue  # the engine could not start this interpreter (not in the image): try the next
        lines = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
        return module, False, lines[-1] if lines else f"exit status {proc.returncode}"
    return module, None, None


def _app_file(context: Path, config: dict) -> Path | None:
    """A source file of the app to change for the rebuild measure: the CMD's module when found."""
    command = " ".join((config.get("Entrypoint") or []) + (config.get("Cmd") or []))
    for module in re.findall(r"(?:^|[\s=])(?:-m\s+)?([A-Za-z_][\w.]*)(?=:[A-Za-z_]|\s|$)", command):
        parts = module.split(".")
        for base in (context, context / "src"):
            for candidate in (base.joinpath(*parts).with_suffix(".py"), base.joinpath(*parts, "__init__.py")):
                if candidate.is_file():
                    return candidate
    sources = sorted(
        (p for p in context.rglob("*.py") if not any(part.startswith(".") for part in p.relative_to(context).parts)
         and not MANIFESTS.fullmatch(p.name)),
        key=lambda p: (len(p.parts), str(p)),
    )
    if sources:
        return sources[0]
    others = sorted(p for p in context.rglob("*") if p.is_file() and not MANIFESTS.fullmatch(p.name)
                    and not any(part.startswith(".") for part in p.relative_to(context).parts))
    return others[0] if others else None
