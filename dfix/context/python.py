"""What a Python dependency install reads from the build context: requirement files and their
includes, pyproject/poetry/pipenv/uv manifests."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from . import BuildContext

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

_INCLUDE = re.compile(r"^\s*(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=\S))(\S+)")
_LOCAL_OPTION = re.compile(r"^\s*(-e|--editable|-f|--find-links)(?:\s*=\s*|\s+)(\S+)")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://|^git\+|^hg\+|^svn\+|^bzr\+")


@dataclass
class RequirementFiles:
    """Requirement files reached from the ones an install names, with context-relative paths."""

    files: list[str] = field(default_factory=list)
    problem: str | None = None  # why the install also reads something else


def is_local_reference(value: str) -> bool:
    """A pip operand or requirement line that names a path in the context rather than a package."""
    value = value.strip().strip("'\"")
    if not value or _URL.match(value):
        return value.startswith(("file:", "git+file:"))
    if value.startswith((".", "/", "~")) or value.startswith("file:"):
        return True
    if "/" in value or "\\" in value:
        return "@" not in value  # "pkg @ https://..." is a direct reference to a URL, not a path
    return bool(re.search(r"\.(whl|tar\.gz|zip|tar\.bz2|tgz)$", value))


def follow_requirements(context: BuildContext, roots: list[str]) -> RequirementFiles:
    """Follow -r/-c includes (relative to the including file) and flag lines that read local paths."""
    out = RequirementFiles()
    pending = list(roots)
    while pending:
        rel = pending.pop(0)
        if rel in out.files:
            continue
        path = context.root / rel
        if not path.is_file():
            out.problem = f"{rel} is not in the build context"
            return out
        out.files.append(rel)
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            out.problem = f"{rel} cannot be read as text"
            return out
        base = PurePosixPath(rel).parent
        for raw in _logical_lines(lines):
            line = raw.split(" #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            include = _INCLUDE.match(line)
            if include:
                target = include.group(2)
                if _URL.match(target):
                    continue
                pending.append(str(PurePosixPath(*(base / target).parts)) if not target.startswith("/") else target)
                continue
            local = _LOCAL_OPTION.match(line)
            if local:
                if is_local_reference(local.group(2)) or not _URL.match(local.group(2)):
                    out.problem = f"{rel} installs from a local path ({line}), which needs the app code"
                    return out
                continue
            if line.startswith("-"):
                continue  # --index-url, --hash and friends read nothing from the context
            first = _first_token(line)
            if is_local_reference(first):
                out.problem = f"{rel} installs from a local path ({first}), which needs the app code"
                return out
    out.files = [_normal(f) for f in out.files]
    return out


def _logical_lines(lines: list[str]) -> list[str]:
    out: list[str] = []
    buffer = ""
    for line in lines:
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        out.append(buffer + line)
        buffer = ""
    if buffer:
        out.append(buffer)
    return out


def _first_token(line: str) -> str:
    try:
        parts = shlex.split(line)
    except ValueError:
        parts = line.split()
    return parts[0] if parts else ""


def _normal(rel: str) -> str:
    parts: list[str] = []
    for part in PurePosixPath(rel).parts:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts)


def load_toml(context: BuildContext, rel: str) -> dict | None:
    path = context.root / rel
    if not path.is_file():
        return None
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


def pyproject_extra_files(data: dict) -> list[str]:
    """Files a pyproject names that its tools read even before the code (the readme)."""
    readme = data.get("project", {}).get("readme") or data.get("tool", {}).get("poetry", {}).get("readme")
    if isinstance(readme, dict):
        readme = readme.get("file")
    if isinstance(readme, str):
        return [readme]
    if isinstance(readme, list):
        return [r for r in readme if isinstance(r, str)]
    return []
