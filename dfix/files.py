"""Finding Dockerfiles (and the Compose files beside them), reading them strictly and writing them atomically."""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path
from typing import Iterator

from .lazy_regex import lazy_compile


SKIP_DIRS = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache"})
_PATTERNS = ("Dockerfile", "Dockerfile.*", "*.Dockerfile", "Containerfile", "Containerfile.*")
# the patterns as one regex (fnmatchcase of each, or-ed): discovery asks for every name in the tree
_DOCKERFILE_NAME = lazy_compile("|".join(fnmatch.translate(pattern) for pattern in _PATTERNS))


COMPOSE_NAME = lazy_compile(r"(?:docker-)?compose(?:[.\-_][A-Za-z0-9_.\-]+)?\.ya?ml\Z", re.IGNORECASE)


def is_compose_name(name: str) -> bool:
    """compose.yaml, docker-compose.yml and their variants: docker-compose.override.yml,
    compose.dev.yaml, docker-compose-prod.yml (not compose.yaml.example)."""
    return COMPOSE_NAME.match(name) is not None


def is_dockerfile_name(name: str) -> bool:
    if name.endswith(".dockerignore"):
        return False
    return _DOCKERFILE_NAME.match(name) is not None


def is_fixable_name(name: str) -> bool:
    """A Dockerfile or a Compose file (compose.yaml, docker-compose.override.yml, …): what a walk yields."""
    return is_dockerfile_name(name) or is_compose_name(name)


class InputError(Exception):
    """A path that cannot be processed; the message is one line."""


def discover(paths: list[Path]) -> Iterator[Path | InputError]:
    """Dockerfiles and Compose files under the given paths, in a stable order; errors are yielded, not raised."""
    seen: set[str] = set()
    # one root walks each file once: remembering them would cost memory in proportion to the fleet
    dedupe = len(paths) > 1
    for root in paths:
        if root.is_symlink() and not root.exists():
            yield InputError(f"{root}: dangling symlink")
            continue
        if not root.exists():
            yield InputError(f"{root}: no such file or directory")
            continue
        if root.is_dir():  # whatever its name: `Dockerfile.d/` is a folder to search, not a bad file
            for found in _walk(root):
                if isinstance(found, InputError) or not dedupe:
                    yield found
                    continue
                key = os.path.abspath(found)
                if key not in seen:
                    seen.add(key)
                    yield found
            continue
        if os.path.abspath(root) not in seen:
            seen.add(os.path.abspath(root))
            yield root


def _walk(top: Path) -> Iterator[Path | InputError]:
    """Dockerfiles under `top` in the order of their paths as strings (a folder's entries by name, a
    subfolder's at the place of `name/`), so reports list files by path; streamed, one folder at a time,
    with a stack rather than recursion, so no depth of folders is too deep."""
    stack = [_listing(str(top), [])]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        full, is_dir, is_link, ignores = entry
        if is_dir:
            # a folder named like a Dockerfile (`api.Dockerfile/`) is searched too
            if not is_link and os.path.basename(full) not in SKIP_DIRS and not _ignored(full, True, ignores):
                stack.append(_listing(full, ignores))
            continue
        if not is_fixable_name(os.path.basename(full)) or _ignored(full, False, ignores):
            continue
        if is_link and not os.path.exists(full):
            yield InputError(f"{full}: dangling symlink")
            continue
        yield Path(full)


def _listing(dirpath: str, ignores: list) -> Iterator[tuple[str, bool, bool, list]]:
    """A folder's entries, sorted, with the ignore files that apply in it: (path, is a folder, is a link, ignores)."""
    spec = _gitignore(dirpath)
    if spec is not None:
        ignores = [*ignores, (dirpath, spec)]
    try:
        with os.scandir(dirpath) as listing:
            # a symlink to a folder is listed as a folder and not followed, as os.walk does
            entries = [(entry.name, _is_dir(entry), entry.is_symlink()) for entry in listing]
    except OSError:
        return iter(())  # an unreadable folder is skipped, as os.walk skips it
    entries.sort(key=lambda e: e[0] + "/" if e[1] else e[0])
    return iter([(os.path.join(dirpath, name), is_dir, is_link, ignores) for name, is_dir, is_link in entries])


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _gitignore(directory: str):
    path = os.path.join(directory, ".gitignore")
    if not os.path.isfile(path):
        return None
    import pathspec  # lazy: only when a repository has ignore files

    with open(path, encoding="utf-8", errors="replace") as handle:
        return pathspec.GitIgnoreSpec.from_lines(handle)


def _ignored(full: str, is_dir: bool, ignores) -> bool:
    for base, spec in ignores:
        rel = os.path.relpath(full, base).replace(os.sep, "/")
        if spec.match_file(rel + ("/" if is_dir else "")):
            return True
    return False


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a Dockerfile") from None
    except FileNotFoundError:
        if path.is_symlink():
            raise InputError(f"{path}: dangling symlink") from None
        raise InputError(f"{path}: no such file") from None
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror or err}") from None


def write_atomic(path: Path, data: bytes) -> None:
    """Write through a temp file in the same directory and os.replace, keeping mode (and owner when allowed)."""
    import tempfile  # a check never writes: tempfile imports random, which a check would pay for at start

    target = path.resolve()
    try:
        info = target.stat()
        mode, owner = info.st_mode & 0o7777, (info.st_uid, info.st_gid)
    except FileNotFoundError:  # a new file a fix adds (a .dockerignore): the usual mode, our owner
        mode, owner = 0o644, None
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".dfix-tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        if owner is not None and hasattr(os, "chown"):
            try:
                os.chown(temp, *owner)
            except PermissionError:
                pass
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
