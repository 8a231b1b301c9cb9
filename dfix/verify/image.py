"""Verify one Dockerfile: compute the rewrite exactly as `dfix --dry-run` would, write it to a temporary
folder outside the build context (the user's files are only ever read), build the original and the
rewrite, run and probe both, measure a rebuild after an app edit, and judge.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..config import ConfigError, options_for
from ..context import BuildContext
from ..engine import Options, fix_text, read_source
from ..files import InputError, read_bytes
from ..records import asdict
from ..syntax import DockerfileSyntaxError
from .app import _app_file, app_facts, app_ports, import_check, routes_to_probe
from .compare import _judge
from .engines import Engine
from .probing import DEFAULT_PORTS, port_free, ports_of
from .results import ImageStats, OriginalBuildError, VerifyError, VerifyReport
from .run import _Run


def _dockerfile_in(path: Path) -> tuple[Path, Path]:
    path = Path(path)
    if path.is_dir():
        for name in ("Dockerfile", "Containerfile"):
            if (path / name).is_file():
                return path / name, path
        raise VerifyError(f"{path}: no Dockerfile, Containerfile or Compose file in this directory")
    if path.is_file():
        return path, path.parent
    raise VerifyError(f"{path}: no such file or directory")


def stage_rewrite(folder: Path, dockerfile: Path, context: Path, result) -> tuple[Path, Path]:
    """Write a rewrite under ``folder`` (outside the user's files) to build it: its Dockerfile, and the build
    context it builds from, which is the user's own unless the fixes also rewrite context files (a
    .dockerignore), then a copy with them. A Dockerfile-specific ignore file goes beside the rewritten
    Dockerfile as the fixes leave it. Raises VerifyError for a fix that writes outside the context."""
    if any(not Path(side).resolve().is_relative_to(context) for side in result.side_files):
        raise VerifyError(f"{dockerfile}: a fix rewrites a file outside the build context")
    folder.mkdir(parents=True)
    rewrite_context = context
    if result.side_files:
        rewrite_context = folder / "context"
        shutil.copytree(context, rewrite_context, symlinks=True)
        for side, (_, side_text) in result.side_files.items():
            target = rewrite_context / Path(side).resolve().relative_to(context)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(side_text.encode("utf-8"))
    rewritten = folder / dockerfile.name
    rewritten.write_text(result.fixed, encoding="utf-8", newline="")
    ignore_name = dockerfile.name + ".dockerignore"
    side_ignore = dockerfile.with_name(ignore_name)
    if side_ignore.is_file() and dockerfile.parent.is_relative_to(context):
        side_ignore = rewrite_context / side_ignore.relative_to(context)  # as the fixes leave it
    if side_ignore.is_file():
        shutil.copyfile(side_ignore, rewritten.with_name(ignore_name))
    return rewritten, rewrite_context


def verify(context_dir: str | os.PathLike, engine: Engine | str | None = None, keep: bool = False,
           rebuild: bool = True, name: str | None = None, options: Options | None = None) -> VerifyReport:
    """Build, run and compare the original Dockerfile in ``context_dir`` and dfix's rewrite of it.

    The images are tagged ``localhost/NAME:original`` and ``:rewrite`` (NAME unique per run by default).
    ``options`` are the command line's (``--unsafe-fixes``, ``--select``); the Dockerfile's config applies over them.
    Raises OriginalBuildError when the original does not build: then nothing can be compared.
    """
    dockerfile, context = _dockerfile_in(Path(context_dir))
    shown = dockerfile  # as the user wrote it, for messages
    context = context.resolve()
    dockerfile = dockerfile.resolve()
    try:
        text = read_source(read_bytes(dockerfile))
    except InputError as err:
        raise VerifyError(str(err)) from None
    except DockerfileSyntaxError as err:
        raise VerifyError(f"{dockerfile}: {err}") from None
    try:
        options = options_for(dockerfile, options or Options())  # the same config a --dry-run would follow
    except ConfigError as err:
        raise VerifyError(str(err)) from None
    result = fix_text(text, str(dockerfile), options, context=BuildContext(context, dockerfile=dockerfile.name))
    if result.error:
        raise VerifyError(f"{dockerfile}: {result.error}")
    if not isinstance(engine, Engine):
        engine = Engine.find(engine)

    report = VerifyReport(str(context), str(dockerfile), engine.name, result.changed,
                          sorted({f.code for f in result.applied}), ImageStats(), ImageStats())
    run = _Run(engine, keep, name)
    try:
        rewritten, rewrite_context = stage_rewrite(run.tmp / "rewrite", dockerfile, context, result)
        report.side_files = sorted(str(Path(side).resolve().relative_to(context)) for side in result.side_files)

        _, _, _, info = run.build(dockerfile, context, "original", report.original)
        if not report.original.builds:
            raise OriginalBuildError(shown, report.original.build_error or "")
        if result.changed:
            run.build(rewritten, rewrite_context, "rewrite", report.rewrite)
        config = info.get("Config") or {}
        if not report.original.builds and report.rewrite.builds:
            config = engine.inspect(report.rewrite.image).get("Config") or {}
        facts = (app_facts(context, text, dockerfile.name), app_facts(rewrite_context, result.fixed, dockerfile.name))
        declared = app_ports(ports_of(config), *facts)
        ports = declared or [p for p in DEFAULT_PORTS if port_free(p)]
        routes = routes_to_probe(*facts)

        for stats, own_facts in zip((report.original, report.rewrite), facts):
            if stats.builds:
                image_config = engine.inspect(stats.image).get("Config") or {}
                run.run_and_probe(stats, image_config, ports, routes)
                stats.module, stats.imports, stats.import_error = import_check(
                    engine, stats.image, own_facts or facts[0] or facts[1], image_config)

        if rebuild and (report.original.builds or report.rewrite.builds):
            app_file = _app_file(context, config)
            if app_file is not None:
                copy = run.tmp / "context"
                shutil.copytree(context, copy, symlinks=True)
                copied_dockerfile = copy / dockerfile.relative_to(context) if dockerfile.is_relative_to(context) else dockerfile
                if report.original.builds:
                    run.rebuild(report.original, app_file, copy, context, copied_dockerfile, "original")
                if report.rewrite.builds:
                    if rewrite_context != context:
                        copy = rewrite_context  # a copy already, never the user's folder
                    run.rebuild(report.rewrite, app_file, copy, context, rewritten, "rewrite")

        if not result.changed:
            # the rewrite is the original byte for byte: one image, measured once
            report.rewrite = ImageStats(**asdict(report.original))
        _judge(report, engine)
    finally:
        report.kept = run.cleanup()
    return report
