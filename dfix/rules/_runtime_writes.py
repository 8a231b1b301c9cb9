"""What a non-root user's container writes when it starts, for DF302: the project environment `uv run`
syncs, uv's cache, folders a Django management command or the app creates under its own directory, and
the entrypoint script that starts it. DF302 hands those folders to the user, or says why it cannot."""

from __future__ import annotations

import posixpath

from ..lazy_regex import lazy_compile
from ..syntax.shell import script_of


def entry_script(command: list[str]) -> str | None:
    for word in command[:3]:
        if word.endswith(".sh") or "entrypoint" in posixpath.basename(word):
            return word
    return None


def read_context_script(ctx, doc, stage, script: str) -> str | None:
    context = ctx.build_context
    if context is None:
        return None
    name = posixpath.basename(script)
    for ins in stage.body:
        if ins.keyword not in ("COPY", "ADD") or ins.flag("from") or ins.heredocs:
            continue
        args = ins.json_args if ins.is_json else [w for w, _, _ in ins.words]
        for source in args[:-1]:
            for candidate in (source, posixpath.join(source, name), posixpath.join(source, script.lstrip("./"))):
                path = context.root / candidate.lstrip("/")
                if path.is_file() and path.name == name:
                    try:
                        return path.read_text(encoding="utf-8", errors="replace")
                    except OSError:
                        return None
    return None


# Why a port below 1024 keeps root: Docker (20.10+) lets any user bind it (ip_unprivileged_port_start=0),
# podman, host networking and some Kubernetes runtimes do not; and the port is the image's interface
# (compose files and manifests map to it), so moving it is not dfix's to decide.


def within(path: str, folder: str) -> bool:
    return folder != "/" and (path == folder or path.startswith(folder.rstrip("/") + "/"))


# `uv run` (not `uv run --no-sync`) syncs the project's environment, dev group included, before it runs
_UV_RUN = lazy_compile(r"(?<![\w/.-])uv\s+run\b([^\n;&|]*)")
_TRUE = frozenset({"1", "true", "yes", "on"})
_UV_ENV_COMMANDS = frozenset({"sync", "run", "add", "remove", "venv"})
PYTHON = lazy_compile(r"^python(\d+(\.\d+)*)?$")


def final_env(chain) -> dict[str, str]:
    env: dict[str, str] = {}
    for link in chain:
        for ins in link.body:
            if ins.keyword == "ENV":
                env.update(ins.key_values())
    return env


def uv_cache_dirs(env: dict[str, str]) -> list[str]:
    """The uv cache folder the ENV names (UV_CACHE_DIR, or XDG_CACHE_HOME's); the user's home otherwise."""
    if env.get("UV_NO_CACHE", "").strip().lower() in _TRUE:
        return []
    for name in ("UV_CACHE_DIR", "XDG_CACHE_HOME"):
        value = env.get(name, "").strip()
        if value.startswith("/"):
            return [posixpath.normpath(value)]
    return []


def _option_value(words: list[str], *names: str) -> str | None:
    value = None
    for k, word in enumerate(words):
        for name in names:
            if word == name and k + 1 < len(words):
                value = words[k + 1]
            elif word.startswith(name + "="):
                value = word[len(name) + 1:]
    return value


def _start_text(ctx, doc, stage, command: list[str]) -> str:
    text = " ".join(command)
    script = entry_script(command)
    if script:
        text += "\n" + (read_context_script(ctx, doc, stage, script) or "")
    return text


def _project_env(project: str, env: dict[str, str]) -> str:
    venv = env.get("UV_PROJECT_ENVIRONMENT") or ".venv"
    return posixpath.normpath(posixpath.join(project, venv))


def synced_env(doc, ctx, stage, chain, command: list[str], app_dir: str | None) -> str | None:
    """The project environment a `uv run` at container start syncs (writes into), or None."""
    env = final_env(chain)
    if env.get("UV_NO_SYNC", "").strip().lower() in _TRUE or app_dir is None:
        return None
    for match in _UV_RUN.finditer(_start_text(ctx, doc, stage, command)):
        words = match.group(1).split()
        if "--no-sync" in words:
            continue
        project = posixpath.join(app_dir, _option_value(words, "--project", "--directory") or ".")
        if "$" in project or "$" in env.get("UV_PROJECT_ENVIRONMENT", ""):
            return None
        return _project_env(project, env)
    return None


_UV_VENV_VALUES = frozenset({"--python", "-p", "--prompt", "--index-url", "-i", "--extra-index-url", "--index",
                             "--default-index", "--cache-dir", "--directory", "--project", "--link-mode",
                             "--exclude-newer", "--config-file", "--index-strategy", "--keyring-provider"})


def _writes_env(doc, ins, venv: str, env: dict[str, str]) -> bool:
    """Whether the RUN creates or installs into the environment at ``venv`` (uv, venv, virtualenv)."""
    cwd = doc.workdir_at(ins)
    if ins.keyword != "RUN" or cwd is None:
        return False
    script = script_of(doc, ins)
    if not script.ok:
        return venv in ins.args
    for command in script.commands:
        argv = [w or "" for w in command.argv]
        if command.name == "uv":
            at = next((k for k, w in enumerate(argv) if k and not w.startswith("-")), None)
            if at is None or argv[at] not in _UV_ENV_COMMANDS:
                continue
            project = posixpath.join(cwd, _option_value(argv, "--project", "--directory") or ".")
            local = {**env, **{k: v for k, v in command.assignments.items() if v is not None}}
            target = _project_env(project, local)
            if argv[at] == "venv":
                paths = [w for k, w in enumerate(argv[at + 1:], at + 1)
                         if not w.startswith("-") and not (argv[k - 1] in _UV_VENV_VALUES)]
                target = posixpath.normpath(posixpath.join(cwd, paths[0])) if paths else target
            if target == venv:
                return True
        elif command.name == "virtualenv" or (PYTHON.match(command.name or "") and argv[1:3] == ["-m", "venv"]):
            if venv in [posixpath.normpath(posixpath.join(cwd, w)) for w in argv[1:] if w and not w.startswith("-")]:
                return True
    return False


_MANAGE = lazy_compile(r"(^|/)manage\.py$")


def _runs_django_management(command) -> bool:
    argv = [w or "" for w in command.argv]
    if command.name == "django-admin":
        return True
    if _MANAGE.search(argv[0] if argv else ""):
        return True
    return bool(PYTHON.match(command.name or "")) and len(argv) > 1 and bool(_MANAGE.search(argv[1]))


def _created_folders(command, cwd: str, app_dir: str) -> list[str]:
    """The folders `mkdir` makes inside the app's folder, with the parents `-p` makes on the way."""
    argv = [w for w in command.argv]
    if command.name != "mkdir" or None in argv:
        return []
    parents = any(w == "--parents" or (w.startswith("-") and not w.startswith("--") and "p" in w) for w in argv[1:])
    out: list[str] = []
    for word in argv[1:]:
        if word.startswith("-"):
            continue
        path = posixpath.normpath(posixpath.join(cwd, word))
        if not within(path, app_dir) or path == app_dir:
            continue
        chain = [path]
        while parents and posixpath.dirname(chain[0]) != app_dir and within(posixpath.dirname(chain[0]), app_dir):
            chain.insert(0, posixpath.dirname(chain[0]))
        out += [p for p in chain if p not in out]
    return out


def runtime_write_handovers(doc, stage, app_dir: str | None, synced: str | None, uid: int):
    """(RUN, commands to append) for each RUN of the final stage that writes, as root, where the app writes
    again at start: the environment `uv run` syncs, folders made in the app's folder, and what Django's
    management commands (migrate: a SQLite file; collectstatic) leave in it."""
    owner = f"{uid}:{uid}"
    env = final_env(doc.stage_chain(stage))
    env_handed = False
    for ins in stage.body:
        if ins.keyword != "RUN":
            continue
        script = script_of(doc, ins)
        cwd = doc.workdir_at(ins)
        if not script.ok or cwd is None or "&" in script.operators or script.end <= script.start:
            continue
        commands = []
        if synced is not None and _writes_env(doc, ins, synced, env):
            # the first RUN hands the whole environment over; a later one only what it added, so the files
            # of the earlier layer are not copied into this one again
            commands.append(f"find {synced} ! -user {uid} -exec chown -h {owner} {{}} +" if env_handed
                            else f"chown -R {owner} {synced}")
            env_handed = True
        if app_dir not in (None, "/"):
            folders = [f for c in script.commands for f in _created_folders(c, cwd, app_dir)]
            if within(cwd, app_dir) and any(_runs_django_management(c) for c in script.commands):
                # what it writes (a SQLite file, STATIC_ROOT) depends on settings; only the new files are handed over
                commands.append(f"find {app_dir} ! -user {uid} -exec chown -h {owner} {{}} +")
            elif folders:
                commands.append(f"chown {owner} " + " ".join(folders))
        if commands:
            yield ins, commands


def runtime_writes_blocked(doc, ctx, stage, chain, command) -> str | None:
    """Why the environment `uv run` syncs at start cannot be handed to the user, if it cannot."""
    app_dir = doc.workdir_at(stage.instructions[-1], including=True)
    synced = synced_env(doc, ctx, stage, chain, command, app_dir)
    if synced is None:
        return None
    env = final_env(chain)
    for link in chain[:-1]:
        if any(_writes_env(doc, ins, synced, env) for ins in link.body):
            return (f"`uv run` syncs {synced} at start, which stage {link.name or link.index} builds as root; "
                    "hand it over there (chown) or start with `uv run --no-sync`")
    for ins in stage.body:
        if not _writes_env(doc, ins, synced, env):
            continue
        script = script_of(doc, ins)
        if not script.ok or ins.is_json or "&" in script.operators or script.end <= script.start:
            return (f"`uv run` syncs {synced} at start, which line {ins.line_number} builds as root in a RUN "
                    "dfix cannot extend with a chown")
    return None
