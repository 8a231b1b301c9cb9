"""What a Python dependency install reads from the build context: requirement files and their
includes, pyproject/poetry/pipenv/uv manifests."""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import PurePosixPath

from ..lazy_regex import lazy_compile
from ..records import field, record
from ..tomlreader import tomllib
from . import BuildContext

_INCLUDE = lazy_compile(r"^\s*(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=\S))(\S+)")
_LOCAL_OPTION = lazy_compile(r"^\s*(-e|--editable|-f|--find-links)(?:\s*=\s*|\s+)(\S+)")
_URL = lazy_compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://|^git\+|^hg\+|^svn\+|^bzr\+")


@record
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
        return tomllib().loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib().TOMLDecodeError):
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


_IMPORT = lazy_compile(r"^[ \t]*(?:from[ \t]+([A-Za-z_]\w*)(?:\.[\w.]*)?[ \t]+import\b|import[ \t]+([^#\n;]+))", re.M)
_NOT_APP_CODE = frozenset({".git", ".venv", "venv", "env", "node_modules", "__pycache__", ".tox", ".nox",
                           "site-packages", ".mypy_cache", ".pytest_cache"})
_MOST_FILES = 5000


def imported_top_level_modules(context: BuildContext) -> frozenset[str] | None:
    """Top-level modules the context's Python files import (absolute imports, read by pattern, not run);
    None when there are too many files to read, so a caller cannot take silence for an answer."""
    found: set[str] = set()
    seen = 0
    for folder, dirs, files in os.walk(context.root):
        dirs[:] = [d for d in dirs if d not in _NOT_APP_CODE]
        for name in files:
            if not name.endswith(".py"):
                continue
            seen += 1
            if seen > _MOST_FILES:
                return None
            rel = os.path.relpath(os.path.join(folder, name), context.root)
            text = context.read_text(rel) or ""
            for match in _IMPORT.finditer(text):
                if match.group(1):
                    found.add(match.group(1))
                    continue
                for part in match.group(2).split(","):
                    module = part.strip().split(" ")[0].split(".")[0].strip("()")
                    if module.isidentifier():
                        found.add(module)
    return frozenset(found)


def canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


_canonical = canonical_name


def declared_distributions(context: BuildContext, folder: str = "") -> set[str]:
    """Distribution names a project's lock files and manifests name (canonical form): poetry.lock,
    Pipfile.lock, uv.lock, Pipfile and pyproject.toml in ``folder`` of the context."""
    names: set[str] = set()
    base = folder.strip("/")
    join = (lambda n: f"{base}/{n}") if base else (lambda n: n)
    for lock in ("poetry.lock", "uv.lock"):
        text = context.read_text(join(lock)) or ""
        names.update(_canonical(n) for n in re.findall(r'^name = "([^"]+)"', text, re.M))
    pipfile_lock = context.read_text(join("Pipfile.lock"))
    if pipfile_lock:
        try:
            data = json.loads(pipfile_lock)
        except ValueError:
            data = {}
        for section in ("default", "develop"):
            names.update(_canonical(n) for n in (data.get(section) or {}))
    pipfile = load_toml(context, join("Pipfile")) or {}
    for section in ("packages", "dev-packages"):
        names.update(_canonical(n) for n in (pipfile.get(section) or {}))
    pyproject = load_toml(context, join("pyproject.toml")) or {}
    poetry = pyproject.get("tool", {}).get("poetry", {})
    tables = [poetry.get("dependencies") or {}, poetry.get("dev-dependencies") or {}]
    tables += [group.get("dependencies") or {} for group in (poetry.get("group") or {}).values()]
    for table in tables:
        names.update(_canonical(n) for n in table if n != "python")
    project = pyproject.get("project", {})
    requirements = list(project.get("dependencies") or [])
    for extra in (project.get("optional-dependencies") or {}).values():
        requirements += extra
    for requirement in requirements:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        if match:
            names.add(_canonical(match.group(1)))
    return names


_REQUIREMENT_FILE = lazy_compile(r"(^|/)(requirements[^/]*|[^/]*requirements)\.(txt|in)$|^requirements/[^/]+\.(txt|in)$")
_REQUIREMENT_NAME = lazy_compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def required_distributions(context: BuildContext, folder: str = "") -> set[str]:
    """Every distribution the context's manifests name (canonical form): what declared_distributions
    reads, plus the requirement files (requirements*.txt, requirements/*.txt and their -r includes).
    A superset of what one install installs, for callers to whom a name too many costs little."""
    names = declared_distributions(context, folder)
    base = folder.strip("/")
    roots = []
    seen = 0
    for dirpath, dirs, files in os.walk(context.root / base if base else context.root):
        dirs[:] = sorted(d for d in dirs if d not in _NOT_APP_CODE)
        rel_dir = os.path.relpath(dirpath, context.root)
        for name in files:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if _REQUIREMENT_FILE.search(rel):
                roots.append(rel)
        seen += len(files)
        if len(roots) > 50 or seen > _MOST_FILES:  # a huge context: the names found so far
            break
    followed = follow_requirements(context, sorted(roots))
    for rel in followed.files:
        try:
            lines = (context.root / rel).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for raw in _logical_lines(lines):
            line = raw.split(" #", 1)[0].strip()
            if not line or line.startswith(("#", "-")) or _URL.match(line):
                continue
            match = _REQUIREMENT_NAME.match(line)
            if match:
                names.add(_canonical(match.group(1)))
    return names


_PIN_FILE = lazy_compile(r"^(requirements[^/]*|[^/]*requirements|constraints[^/]*)\.txt$")
_EXACT_PIN = lazy_compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([A-Za-z0-9][A-Za-z0-9.+!_-]*)\s*(?:;.*)?$")
_PINS_CACHE: dict[tuple, dict[str, tuple[str, str]]] = {}


_PIN_FILES_CACHE: dict[tuple, list[str]] = {}


def pin_files(context: BuildContext) -> list[str]:
    """The files in the context that may pin versions, in the order they are trusted: requirement and
    constraints files at the top or in requirements/, then poetry.lock, uv.lock, pdm.lock, Pipfile.lock."""
    folders = [(folder, context.root / folder if folder else context.root) for folder in ("", "requirements")]
    # every pass of every Dockerfile of a folder asks: list it again only when it changed
    key = tuple((str(path), _stamp_of(path)) for _, path in folders)
    found = _PIN_FILES_CACHE.get(key)
    if found is None:
        found = []
        for folder, path in folders:
            try:
                names = sorted(os.listdir(path))
            except OSError:
                continue
            found += [f"{folder}/{n}" if folder else n for n in names
                      if _PIN_FILE.match(n) or (folder and n.endswith(".txt")) or (not folder and n in _LOCKS)]
        found.sort(key=lambda rel: rel in _LOCKS and _LOCKS.index(rel) + 1)
        if len(_PIN_FILES_CACHE) > 256:
            _PIN_FILES_CACHE.clear()
        _PIN_FILES_CACHE[key] = found
    return found


_LOCKS = ("poetry.lock", "uv.lock", "pdm.lock", "Pipfile.lock")


def _stamp_of(path) -> tuple[int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (0, 0)
    return (stat.st_mtime_ns, stat.st_size)


def pinned_versions(context: BuildContext) -> dict[str, tuple[str, str]]:
    """Canonical distribution name -> (exact version, file that pins it), from the context's pin files (an
    `==` line of a requirements or constraints file, a lock's package). The first file that pins a name wins."""
    files = pin_files(context)
    key = (str(context.root), tuple((rel, _stamp(context, rel)) for rel in files))
    cached = _PINS_CACHE.get(key)
    if cached is not None:
        return cached
    pins: dict[str, tuple[str, str]] = {}
    for rel in files:
        text = context.read_text(rel)
        if not text:
            continue
        for name, version in pins_in(rel, text):
            pins.setdefault(_canonical(name), (version, rel))
    if len(_PINS_CACHE) > 256:
        _PINS_CACHE.clear()
    _PINS_CACHE[key] = pins
    return pins


def _stamp(context: BuildContext, rel: str) -> tuple[int, int]:
    return _stamp_of(context.root / rel)


def pins_in(rel: str, text: str) -> list[tuple[str, str]]:
    name = PurePosixPath(rel).name
    if name == "Pipfile.lock":
        try:
            data = json.loads(text)
        except ValueError:
            return []
        out = []
        for section in ("default", "develop"):
            for package, spec in (data.get(section) or {}).items():
                version = spec.get("version", "") if isinstance(spec, dict) else ""
                if version.startswith("=="):
                    out.append((package, version[2:]))
        return out
    if name.endswith(".lock"):
        try:
            data = tomllib().loads(text)
        except (tomllib().TOMLDecodeError, ValueError):
            return []
        out = []
        for package in data.get("package") or []:
            if not isinstance(package, dict):
                continue
            source = package.get("source") or {}
            if "editable" in source or "virtual" in source:
                continue  # uv.lock's own project
            if package.get("name") and package.get("version"):
                out.append((package["name"], str(package["version"])))
        return out
    out = []
    for raw in _logical_lines(text.splitlines()):
        line = raw.split(" #", 1)[0].split(" --hash", 1)[0].strip()
        match = _EXACT_PIN.match(line)
        if match and "*" not in match.group(2):
            out.append((match.group(1), match.group(2)))
    return out
