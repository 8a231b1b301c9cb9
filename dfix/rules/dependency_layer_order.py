from __future__ import annotations

import json
import posixpath

from .. import base_images
from ..context.dockerignore import DockerIgnore
from ..context.python import follow_requirements, is_local_reference, load_toml, pyproject_extra_files
from ..contract import hands_over_ownership
from ..records import field, record
from ..syntax import Edit
from ..syntax.document import absolute_destination, relative_destination
from ..syntax.packages import package_command
from ..syntax.shell import Command, script_of
from .base import Rule, Safety

# Instructions that may stand between the app copy and the install: they move up with the install.
_MOVABLE = frozenset({"WORKDIR", "ENV", "ARG", "LABEL", "EXPOSE", "USER"})
# Commands an install RUN may also run without reading the build context.
_HARMLESS = frozenset({"set", "true", ":", "echo", "mkdir", "export"})
_SAFE_RM_PREFIXES = ("/root/.cache", "/tmp/", "/var/lib/apt/lists", "/var/cache/")
_PIP_REQUIREMENT_OPTIONS = {"-r": "-r", "--requirement": "-r", "-c": "-c", "--constraint": "-c"}
_PIP_LOCAL_OPTIONS = frozenset({"-e", "--editable", "-f", "--find-links"})
_MESSAGE = (
    "dependencies are installed after the app code is copied, so every code edit reinstalls them; "
    "install them from the manifests first"
)


@record
class _Plan:
    manifests: list[str] = field(default_factory=list)  # container paths the install reads
    phase_one: list[tuple[int, str]] = field(default_factory=list)  # (source offset, text) to insert
    reason: str | None = None


class DependencyLayerOrder(Rule):
    code = "DF201"
    name = "dependency-layer-order"
    hadolint = ()
    title = "dependency install after the app code copy"
    safety = Safety.MIGRATION
    what = (
        "Moves a pip/poetry/pipenv/uv install that runs after `COPY . …` above it, behind a COPY of only the "
        "manifests it reads (same destination, same --chown/--chmod). poetry and uv first install the "
        "dependencies without the project (`--no-root`, `--no-install-project`), then the project after the copy."
    )
    why = (
        "Docker reuses a layer only while everything before it is unchanged. With the code copied first, "
        "editing one line of Python invalidates the install layer and every dependency is downloaded and "
        "built again; with the manifests first, the install layer stays cached until the dependencies change."
    )
    example = (
        "WORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt",
        "WORKDIR /app\nCOPY requirements.txt ./\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .",
    )
    fix_safety = (
        "Applied only when the build context shows exactly which files the install reads (requirement files "
        "and their -r/-c includes, pyproject.toml, lock files) and that none of them is ignored or a local path "
        "that needs the code; when nothing but WORKDIR/ENV/ARG/LABEL/EXPOSE/USER stands between the copy and the "
        "install; and when the install RUN runs nothing else that could read copied files. Otherwise reported."
    )
    changes = frozenset()  # the guard's contract already treats the manifest copy and phase one as equivalent

    def check(self, doc, ctx):
        for stage in doc.stages:
            finding = self._stage(doc, stage, ctx)
            if finding is not None:
                yield finding

    def _stage(self, doc, stage, ctx):
        body = stage.body
        for pos, install in enumerate(body):
            if install.keyword != "RUN" or install.flags and any(f.name != "mount" for f in install.flags):
                continue
            script = script_of(doc, install)
            if not script.ok or not _is_dependency_install(script):
                continue
            copy_pos = next(
                (k for k in range(pos - 1, -1, -1)
                 if body[k].keyword in ("COPY", "ADD") and not body[k].flag("from") and not body[k].heredocs
                 and _copies_a_directory(body[k], ctx)),
                None,
            )
            if copy_pos is None:
                continue
            copy = body[copy_pos]
            between = body[copy_pos + 1:pos]
            blocker = next((b for b in between if b.keyword not in _MOVABLE), None)
            if blocker is not None:
                return self.finding(
                    install.line_number, _MESSAGE,
                    reason=f"line {blocker.line_number} ({blocker.keyword}) stands between the app copy and the "
                    "install and may read copied files",
                )
            return self._plan_move(doc, stage, copy, between, install, script, ctx)
        return None

    def _plan_move(self, doc, stage, copy, between, install, script, ctx):
        context = ctx.build_context
        if context is None:
            return self.finding(install.line_number, _MESSAGE, reason="no build context to read the manifests from")
        workdir_install = doc.workdir_at(install)
        workdir_copy = doc.workdir_at(copy)
        if workdir_install is None or workdir_copy is None:
            return self.finding(install.line_number, _MESSAGE, reason="a WORKDIR depends on a variable")
        if any(b.keyword in ("ENV", "ARG") for b in between) and "$" in copy.args:
            return self.finding(install.line_number, _MESSAGE, reason="the copy uses a variable set after it")
        mapping = _copy_mapping(doc, copy, workdir_copy, context)
        if isinstance(mapping, str):
            return self.finding(install.line_number, _MESSAGE, reason=mapping)
        dest_dir, sources = mapping
        for other in between:
            if other.keyword == "WORKDIR":
                target = doc.workdir_at(other, including=True)
                if target is None or (target != dest_dir and target.startswith(dest_dir.rstrip("/") + "/")):
                    return self.finding(
                        install.line_number, _MESSAGE, reason="a WORKDIR after the copy names a folder the copy creates"
                    )
                if not copy.args.split()[-1].startswith("/") and not copy.is_json:
                    return self.finding(install.line_number, _MESSAGE, reason="the copy's destination is relative")
        plan = _install_plan(doc, script, workdir_install, context, sources, dest_dir)
        if plan.reason:
            return self.finding(install.line_number, _MESSAGE, reason=plan.reason)
        if plan.phase_one and _phase_one_done(doc, stage, copy, install, plan):
            return None
        ignore = DockerIgnore.of(context)
        manifest_sources: list[str] = []
        for container_path in plan.manifests:
            rel = _context_path(container_path, dest_dir, sources)
            if rel is None:
                continue  # read from the image, not from this copy
            if not (context.root / rel).is_file():
                return self.finding(install.line_number, _MESSAGE, reason=f"{rel} is not in the build context")
            if ignore is not None and ignore.ignored(rel):
                return self.finding(install.line_number, _MESSAGE, reason=f"{rel} is excluded by .dockerignore")
            if rel not in manifest_sources:
                manifest_sources.append(rel)
        return self.finding(
            install.line_number, _MESSAGE, _move_edits(doc, copy, between, install, manifest_sources, sources, plan)
        )


def _phase_one_done(doc, stage, copy, install, plan) -> bool:
    """The dependency-only half of this install already runs before the copy (an earlier split): an earlier
    RUN with the same commands and the phase flag. Options other than that flag are not compared: other fixes
    add theirs (uv's --no-cache) to either half, in different passes."""
    flags = {text.strip() for _, text in plan.phase_one}

    def shape(script):
        # DF302's hand-over differs between the halves (the first chowns the environment, the second only
        # what it added)
        return [tuple(w.value or "" for w in c.words if not (w.value or "").startswith("-")) for c in script.commands
                if not hands_over_ownership(w.value or "" for w in c.words)]

    wanted = shape(script_of(doc, install))
    for other in stage.body:
        if other.index >= copy.index or other.keyword != "RUN":
            continue
        script = script_of(doc, other)
        words = {w.value for c in script.commands for w in c.words} if script.ok else set()
        if script.ok and shape(script) == wanted and flags <= words:
            return True
    return False


def _is_dependency_install(script) -> bool:
    for command in script.commands:
        pkg = package_command(command)
        if pkg is not None and pkg.tool == "pip" and pkg.action == "install":
            return True
        name = command.name
        args = [w.value for w in command.words[1:]]
        if name == "poetry" and "install" in args:
            return True
        if name == "pipenv" and any(a in ("install", "sync") for a in args):
            return True
        if name == "uv" and ("sync" in args or args[:2] == ["pip", "install"]):
            return True
    return False


def _copies_a_directory(copy, ctx) -> bool:
    sources = copy.json_args[:-1] if copy.is_json else [w for w, _, _ in copy.words[:-1]]
    for source in sources:
        if source in (".", "./") or source.endswith("/"):
            return True
        context = ctx.build_context
        if context is not None and (context.root / source).is_dir():
            return True
    return False


def _copy_mapping(doc, copy, workdir: str, context):
    """(destination directory, [(context source, is_dir)]) of an app copy, or why it cannot be mapped."""
    args = copy.json_args if copy.is_json else [w for w, _, _ in copy.words]
    if len(args) < 2:
        return "the copy has no destination"
    *sources, dest = args
    if any("$" in s for s in args) or any(ch in s for s in sources for ch in "*?["):
        return "the copy uses variables or wildcards"
    if copy.flag("exclude") or copy.flag("parents"):
        return "the copy filters files (--exclude/--parents)"
    dest_dir = posixpath.normpath(posixpath.join(workdir, dest))
    mapped = []
    for source in sources:
        rel = posixpath.normpath(source.lstrip("/")) if source not in (".", "./") else "."
        if rel.startswith(".."):
            return f"{source} is outside the build context"
        is_dir = rel == "." or (context.root / rel).is_dir()
        if not is_dir and not (len(sources) > 1 or dest.endswith("/")):
            return "the copy renames a single file"
        mapped.append((rel, is_dir))
    return dest_dir, mapped


def _context_path(container_path: str, dest_dir: str, sources) -> str | None:
    for rel, is_dir in sources:
        if is_dir:
            prefix = dest_dir.rstrip("/") + "/"
            if container_path.startswith(prefix):
                inner = container_path[len(prefix):]
                return inner if rel == "." else f"{rel}/{inner}"
        elif container_path == posixpath.join(dest_dir, posixpath.basename(rel)):
            return rel
    return None


def _install_plan(doc, script, cwd: str, context, sources, dest_dir) -> _Plan:
    plan = _Plan()

    def local(path: str) -> str:
        return posixpath.normpath(posixpath.join(cwd, path))

    def manifests_under(names: list[str], optional: set[str]) -> None:
        for name in names:
            container = local(name)
            rel = _context_path(container, dest_dir, sources)
            if name in optional and (rel is None or not (context.root / rel).is_file()):
                continue
            plan.manifests.append(container)

    for command in script.commands:
        name = command.name
        values = [w.value for w in command.words]
        if any(v is None for v in values):
            plan.reason = f"`{doc.text[command.start:command.end]}` depends on a variable"
            return plan
        pkg = package_command(command)
        if pkg is not None and pkg.tool == "pip":
            if pkg.action != "install":
                if pkg.action is None:
                    continue
                plan.reason = f"the install RUN also runs `pip {pkg.action}`"
                return plan
            if not _pip_install(command, pkg, plan, local, context, dest_dir, sources):
                return plan
            continue
        if name == "poetry":
            sub = next((v for v in values[1:] if not v.startswith("-")), None)
            if sub in ("config", "self", "--version", None):
                continue
            if sub != "install" or "--only-root" in values or any(v.startswith(("--directory", "-C", "--project", "-P")) for v in values):
                plan.reason = f"the install RUN also runs `poetry {sub}`"
                return plan
            manifests_under(["pyproject.toml", "poetry.lock", "poetry.toml"], {"poetry.lock", "poetry.toml"})
            _add_readme(plan, context, local, dest_dir, sources)
            if "--no-root" not in values:
                word = next(w for w in command.words if w.value == "install")
                plan.phase_one.append((word.end, " --no-root"))
            continue
        if name == "pipenv":
            sub = next((v for v in values[1:] if not v.startswith("-")), None)
            if sub not in ("install", "sync"):
                plan.reason = f"the install RUN also runs `pipenv {sub}`"
                return plan
            operands = [v for v in values[values.index(sub) + 1:] if not v.startswith("-")]
            if operands:
                plan.reason = "pipenv install with packages named changes the Pipfile"
                return plan
            pipfile_rel = _context_path(local("Pipfile"), dest_dir, sources)
            pipfile = (context.root / pipfile_rel) if pipfile_rel else None
            if pipfile is not None and pipfile.is_file() and "path" in pipfile.read_text(encoding="utf-8", errors="replace"):
                data = load_toml(context, pipfile_rel)
                if data is None or _pipfile_has_path(data):
                    plan.reason = "the Pipfile installs a local path, which needs the app code"
                    return plan
            manifests_under(["Pipfile", "Pipfile.lock"], {"Pipfile.lock"})
            continue
        if name == "uv":
            if values[1:3] == ["pip", "install"]:
                pkg_like = package_command(Command(command.words[1:], command.start, command.end))
                if pkg_like is None or not _pip_install(command, pkg_like, plan, local, context, dest_dir, sources):
                    plan.reason = plan.reason or "uv pip install could not be read"
                    return plan
                continue
            sub = next((v for v in values[1:] if not v.startswith("-")), None)
            if sub == "venv":
                continue
            if sub != "sync" or any(v.startswith(("--directory", "--project", "--package", "--all-packages")) for v in values):
                plan.reason = f"the install RUN also runs `uv {sub}`"
                return plan
            rel = _context_path(local("pyproject.toml"), dest_dir, sources)
            data = load_toml(context, rel) if rel else None
            if data is not None and data.get("tool", {}).get("uv", {}).get("workspace"):
                plan.reason = "a uv workspace needs its members' code to resolve"
                return plan
            manifests_under(["pyproject.toml", "uv.lock", ".python-version"], {"uv.lock", ".python-version"})
            _add_readme(plan, context, local, dest_dir, sources)
            if "--no-install-project" not in values:
                word = next(w for w in command.words if w.value == "sync")
                plan.phase_one.append((word.end, " --no-install-project"))
            continue
        if name in ("python", "python3") and values[1:3] == ["-m", "venv"]:
            continue
        if name == "rm" and all(v.startswith("-") or v.startswith(_SAFE_RM_PREFIXES) for v in values[1:]):
            continue
        if name in _HARMLESS or hands_over_ownership(values):
            continue
        plan.reason = f"the install RUN also runs `{name}`, which may read the app code"
        return plan
    return plan


def _pip_install(command, pkg, plan, local, context, dest_dir, sources) -> bool:
    words = [w.value for w in command.words]
    start = words.index(pkg.action) + 1 if pkg.action in words else 1
    requirement_files: list[str] = []
    i = start
    while i < len(words):
        word = words[i]
        option, eq, joined = word.partition("=")
        if option in _PIP_REQUIREMENT_OPTIONS or (word[:2] in ("-r", "-c") and len(word) > 2 and not word.startswith("--")):
            if option in _PIP_REQUIREMENT_OPTIONS:
                value = joined if eq else (words[i + 1] if i + 1 < len(words) else "")
                i += 1 if eq else 2
            else:
                value = word[2:]
                i += 1
            if not value or "://" in value:
                plan.reason = "a requirement file is fetched or missing"
                return False
            requirement_files.append(value)
            continue
        if option in _PIP_LOCAL_OPTIONS:
            value = joined if eq else (words[i + 1] if i + 1 < len(words) else "")
            if is_local_reference(value) or "://" not in value:
                plan.reason = f"pip installs from a local path ({value}), which needs the app code"
                return False
            i += 1 if eq else 2
            continue
        if word.startswith("-"):
            i += 1
            continue
        if is_local_reference(word):
            plan.reason = f"pip installs the project itself ({word}), which needs the app code"
            return False
        i += 1
    roots = []
    for value in requirement_files:
        container = local(value)
        rel = _context_path(container, dest_dir, sources)
        if rel is None:
            continue  # already in the image before the copy
        roots.append(rel)
    found = follow_requirements(context, roots)
    if found.problem:
        plan.reason = found.problem
        return False
    for rel in found.files:
        plan.manifests.append(_container_of(rel, dest_dir, sources))
    return True


def _container_of(rel: str, dest_dir: str, sources) -> str:
    for source, is_dir in sources:
        if is_dir and (source == "." or rel == source or rel.startswith(source + "/")):
            inner = rel if source == "." else rel[len(source) + 1:]
            return posixpath.join(dest_dir, inner)
        if not is_dir and rel == source:
            return posixpath.join(dest_dir, posixpath.basename(source))
    return posixpath.join(dest_dir, rel)


def _add_readme(plan, context, local, dest_dir, sources) -> None:
    rel = _context_path(local("pyproject.toml"), dest_dir, sources)
    data = load_toml(context, rel) if rel else None
    if data is None:
        return
    base = posixpath.dirname(local("pyproject.toml"))
    for readme in pyproject_extra_files(data):
        plan.manifests.append(posixpath.normpath(posixpath.join(base, readme)))


def _pipfile_has_path(data: dict) -> bool:
    for section in ("packages", "dev-packages"):
        for spec in data.get(section, {}).values():
            if isinstance(spec, dict) and "path" in spec:
                return True
    return False


def _move_edits(doc, copy, between, install, manifest_sources, sources, plan) -> list[Edit]:
    text = doc.text
    first_line = doc.comment_block_start(copy)
    insert_at = doc.lines[first_line].start
    eol = doc.lines[copy.first_line].eol or doc.eol
    indent = text[doc.lines[copy.first_line].start:copy.keyword_span[0]]
    pieces = [_manifest_copy(doc, copy, manifest_sources, sources, indent, eol)] if manifest_sources else []
    moved = list(between)
    for ins in between:
        pieces.append(_block_text(doc, ins, eol))
    if plan.phase_one:
        start = doc.lines[doc.comment_block_start(install)].start
        block = _block_text(doc, install, eol)
        for offset, insertion in sorted(plan.phase_one, reverse=True):
            rel = offset - start
            block = block[:rel] + insertion + block[rel:]
        pieces.append(block)
    else:
        pieces.append(_block_text(doc, install, eol))
        moved.append(install)
    return [Edit.insert(insert_at, "".join(pieces)), *_delete_blocks(doc, moved)]


def _manifest_copy(doc, copy, manifest_sources, sources, indent: str, eol: str) -> str:
    keyword = "copy" if copy.keyword_text.islower() else "COPY"
    flags = [doc.text[slice(*copy.source_span(f.start, f.end))] for f in copy.flags if f.name in ("chown", "chmod", "link")]
    dest = copy.json_args[-1] if copy.is_json else copy.words[-1][0]
    groups: dict[str, list[str]] = {}
    for rel in manifest_sources:
        inner = rel
        for source, is_dir in sources:
            if is_dir and source != "." and (rel == source or rel.startswith(source + "/")):
                inner = rel[len(source) + 1:]
            elif not is_dir and rel == source:
                inner = posixpath.basename(rel)
        groups.setdefault(posixpath.dirname(inner), []).append(rel)
    lines = []
    # a relative destination without a WORKDIR of the file lands in the base's working directory: written
    # as that absolute path where it is known (hadolint's DL3045), as the user wrote it where it is not
    workdir = None
    if relative_destination(dest) and dest[0] not in "'\"" and not doc.workdir_set_before(copy):
        workdir = base_images.workdir_at(doc, copy)
    for sub, rels in groups.items():
        target = dest.rstrip("/") + ("/" + sub if sub else "") + "/"
        if workdir is not None:
            target = absolute_destination(target, workdir) or target
        words = [keyword, *flags, *rels, target]
        if any(" " in w for w in rels + [target]):
            words = [keyword, *flags, json.dumps([*rels, target])]
        lines.append(indent + " ".join(words) + eol)
    return "".join(lines)



def _block_text(doc, ins, eol: str) -> str:
    start = doc.lines[doc.comment_block_start(ins)].start
    text = doc.text[start:ins.stop]
    return text if doc.lines[ins.last_line].eol else text + eol


def _delete_blocks(doc, instructions) -> list[Edit]:
    """Delete whole lines of the moved instructions; contiguous runs merge into one splice."""
    spans: list[list[int]] = []
    if not instructions:
        return []
    for ins in instructions:
        start = doc.lines[doc.comment_block_start(ins)].start
        if spans and spans[-1][1] == start:
            spans[-1][1] = ins.stop
        else:
            spans.append([start, ins.stop])
    last = spans[-1]
    if last[1] == len(doc.text) and not doc.text.endswith("\n") and last[0] > 0:
        # the file ended without a newline: the line before the deletion becomes the last, without its EOL
        previous = doc.lines[doc.line_index_at(last[0] - 1)]
        last[0] = previous.end
    return [Edit.delete(a, b) for a, b in spans]
