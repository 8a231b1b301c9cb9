"""The command line as typer reads it: `dfix [PATH ...]` fixes; `dfix rules`, `dfix explain CODE` and
`dfix verify PATH`. cli.py sends here every command line its quick reader does not take."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import List, NoReturn, Optional

import typer

from . import __version__

SUBCOMMANDS = ("rules", "explain", "verify")


class Format(str, Enum):
    text = "text"
    json = "json"


class FixFormat(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


class FailOn(str, Enum):
    change = "change"
    finding = "finding"


EPILOG = """\b
Commands (first on the line; `dfix ./rules` reaches a folder called rules):
  dfix rules            the rule catalogue: code, name, safety, hadolint codes
  dfix explain CODE     a rule's docs (a dfix or hadolint code, or a name)
  dfix verify PATH      build the original and the rewrite, run both, compare

\b
Exit codes:
  0  fine
  1  --check: a change would be made;
     --fail-on finding: a finding is left without a fix
  2  an error: bad input or config, an unknown rule code, a bad option
     (2 wins over 1)
"""


def _split_codes(values: Optional[List[str]], option: str) -> Optional[frozenset[str]]:
    """The codes of a --select/--ignore, each checked: a code that names no rule selects nothing, silently."""
    if not values:
        return None
    from .rules import unknown_code

    given = [code.strip() for value in values for code in value.split(",") if code.strip()]
    for code in given:
        why = unknown_code(code.upper())
        if why is not None:
            _fail(f"{option} {code}: {why}")
    return frozenset(code.upper() for code in given)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"dfix {__version__}")
        raise typer.Exit()


fix_app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)


@fix_app.command(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
def fix(
    paths: List[str] = typer.Argument(
        None, help="Dockerfiles or directories to search (default: .); - reads one Dockerfile from stdin."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the diff, write nothing (the default)."),
    write: bool = typer.Option(False, "--write", "-w", help="Apply the fixes (atomic replace, file mode kept)."),
    check: bool = typer.Option(False, "--check", help="Exit 1 when any change would be made."),
    diff: bool = typer.Option(
        False, "--diff", help="With -: write the unified diff to stdout instead of the fixed text (paths: as --dry-run)."
    ),
    stdin_filename: Optional[str] = typer.Option(
        None, "--stdin-filename", help="With -: the path stdin stands for (config, per-file-ignores, build context, messages)."
    ),
    fail_on: FailOn = typer.Option(
        FailOn.change, "--fail-on",
        help="change: exit 1 only when --check finds a change to make; finding: also when any finding is "
        "left without a fix (a root image, a dev server), in any mode.",
    ),
    select: Optional[List[str]] = typer.Option(None, "--select", help="Only these codes or prefixes (DF1, DL3015)."),
    ignore: Optional[List[str]] = typer.Option(None, "--ignore", help="Skip these codes or prefixes."),
    unsafe_fixes: bool = typer.Option(False, "--unsafe-fixes", help="Also apply fixes marked unsafe."),
    pin_digest: bool = typer.Option(
        False, "--pin-digest", help="Pin base images to the digest a local podman/docker knows (image:tag@sha256:...)."
    ),
    output_format: FixFormat = typer.Option(FixFormat.text, "--format", help="text, json, sarif or github."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only errors (and the diff with --dry-run)."),
    jobs: Optional[int] = typer.Option(None, "--jobs", "-j", min=1, help="Files processed in parallel (default: the CPU count)."),
    repos: Optional[Path] = typer.Option(None, "--repos", help="A file listing repositories (local paths or git URLs), one a line."),
    work_dir: Optional[Path] = typer.Option(None, "--work-dir", help="Where --repos clones URLs (default: a temp folder)."),
    branch: Optional[str] = typer.Option(None, "--branch", help="With --repos --commit: the branch to commit the fixes on."),
    commit: bool = typer.Option(False, "--commit", help="With --repos --branch: commit the fixes on that branch (never pushed)."),
    patch_dir: Optional[Path] = typer.Option(None, "--patch-dir", help="With --repos: write one git patch per repository here."),
    shard: Optional[str] = typer.Option(None, "--shard", help="I/N: process only the I-th of N stable shares of the inputs."),
    no_oracle: bool = typer.Option(False, "--no-buildkit-check", help="Skip the BuildKit parser guard."),
    verify: bool = typer.Option(
        False, "--verify",
        help="Build and run each rewrite before it is written: try all fixes (unsafe ones too), then the "
        "default ones, each without the rules a build caught breaking; write the first that builds, answers "
        "like the original, runs as its user and is no larger (needs podman or docker).",
    ),
    build_jobs: int = typer.Option(1, "--build-jobs", min=1, help="With --verify: build contexts verified at once."),
    engine: Optional[str] = typer.Option(None, "--engine", help="With --verify: podman or docker (default: the first found)."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Fix Dockerfiles (apt/pip/apk hygiene, ADD->COPY, MAINTAINER->LABEL, guarded by BuildKit's parser) and Compose files."""
    from .engine import Options
    from .runner import run

    if sum((dry_run, write, check)) > 1:
        typer.echo("dfix: error: choose one of --dry-run, --write, --check", err=True)
        raise typer.Exit(2)
    if diff and write:
        _fail("--diff shows the changes and --write makes them: choose one")
    options = Options(
        select=_split_codes(select, "--select"),
        ignore=_split_codes(ignore, "--ignore") or frozenset(),
        unsafe_fixes=unsafe_fixes,
        pin_digest=pin_digest,
        use_oracle=not no_oracle,
    )
    mode = "write" if write else "check" if check else "dry-run"
    if paths == ["-"] or (stdin_filename is not None and not paths and repos is None):
        if verify:
            _fail("--verify builds the Dockerfile in its folder: give its path, not -")
        if shard or repos is not None or branch or commit or patch_dir or work_dir:
            _fail("- reads one Dockerfile from stdin: --repos, --shard and the bulk options do not apply")
        from .runner import run_stdin

        # stdout holds the fixed text (as with black and ruff), the diff with --diff or --dry-run, or
        # nothing with --check alone
        shows = "diff" if diff or dry_run else "nothing" if check else "text"
        # nothing is written in any case: the report says what would change, as a dry run does
        code = run_stdin(options, "check" if check else "dry-run", shows, output_format.value, quiet, stdin_filename,
                         fail_on.value)
        raise typer.Exit(code)
    if "-" in (paths or []):
        _fail("- reads one Dockerfile from stdin: give it alone, without other paths")
    if stdin_filename is not None:
        _fail("--stdin-filename names the file read from stdin: use it with -")
    share = _parse_shard(shard)
    settings = None
    if verify:
        from .runner import VerifySettings

        settings = VerifySettings(engine)
        jobs = build_jobs  # each worker builds one context at a time
    elif build_jobs != 1 or engine is not None:
        _fail("--build-jobs and --engine work with --verify")
    units = None
    if repos is not None:
        units = _repository_units(paths, repos, work_dir, branch, commit, patch_dir, share, write)
    elif branch or commit or patch_dir or work_dir:
        _fail("--branch, --commit, --patch-dir and --work-dir work on --repos")
    from .runner import cpu_count

    code = run([Path(p) for p in paths or ["."]], options, mode, output_format.value, quiet, jobs or cpu_count(), share, units,
               fail_on.value, settings)
    raise typer.Exit(code)


def _fail(message: str) -> NoReturn:
    typer.echo(f"dfix: error: {message}", err=True)
    raise typer.Exit(2)


def _parse_shard(value: Optional[str]) -> Optional[tuple[int, int]]:
    if value is None:
        return None
    index, _, total = value.partition("/")
    if not (index.isdigit() and total.isdigit() and 1 <= int(index) <= int(total)):
        _fail(f"--shard {value}: expected I/N with 1 <= I <= N, e.g. 1/4")
    return int(index), int(total)


def _repository_units(paths, repos, work_dir, branch, commit, patch_dir, share, write):
    from .bulk import BulkError, Plan, repository_units

    if paths:
        _fail("give paths or --repos, not both")
    if bool(branch) != commit:
        _fail("--branch and --commit go together: the fixes are committed on that branch")
    if write and (commit or patch_dir):
        _fail("--write changes the checkouts; --commit and --patch-dir never do: choose one")
    try:
        return repository_units(Plan(repos, work_dir, branch, patch_dir, write), share)
    except BulkError as err:
        _fail(str(err))


tools_app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False, no_args_is_help=True)


@tools_app.command("rules")
def list_rules(output_format: Format = typer.Option(Format.text, "--format")) -> None:
    """List the rule catalogue."""
    from .rules import CATALOGUE

    rules = sorted(CATALOGUE, key=lambda rule: rule.code)  # the catalogue is in run order, not reading order
    if output_format is Format.json:
        typer.echo(json.dumps([_rule_json(r) for r in rules], indent=2))
        return
    rows = [("CODE", "NAME", "SAFETY", "HADOLINT", "TITLE")]
    rows += [(r.code, r.name, r.safety.value, ",".join(r.hadolint) or "-", r.title) for r in rules]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[4])


@tools_app.command("explain")
def explain(code: str = typer.Argument(..., help="A dfix code (DF101), rule name, or hadolint code (DL3015).")) -> None:
    """Print a rule's documentation: what, why, example, fix safety."""
    from .rules import CATALOGUE

    wanted = code.strip()
    for rule in CATALOGUE:
        if wanted.upper() == rule.code or wanted == rule.name or wanted.upper() in rule.hadolint:
            typer.echo(rule.docs())
            return
    typer.echo(f"dfix: error: no rule {code!r} (see `dfix rules`)", err=True)
    raise typer.Exit(2)



@tools_app.command("verify")
def verify_command(
    path: str = typer.Argument(..., help="A build context (a folder with a Dockerfile) or a Dockerfile; a "
                               "Compose file, or a folder with one, brings the stack up."),
    engine: Optional[str] = typer.Option(None, "--engine", help="podman, buildah or docker (default: the first found)."),
    keep: bool = typer.Option(False, "--keep", help="Keep the two images (their tags are printed)."),
    output_format: Format = typer.Option(Format.text, "--format", help="text or json."),
    unsafe_fixes: bool = typer.Option(False, "--unsafe-fixes", help="Verify the rewrite with unsafe fixes too."),
) -> None:
    """Build the original and the rewritten image (or bring up the Compose stack), run both, compare (exit 0: the rewrite is no worse)."""
    from .engine import Options
    from .verify import VerifyError, print_report, verify
    from .verify import stack as stack_verify

    try:
        if stack_verify.compose_file_in(Path(path)) is not None:
            if keep:
                _fail("--keep keeps a Dockerfile's two images; a Compose stack is always torn down")
            report = stack_verify.verify_stack(path, engine, Options(unsafe_fixes=unsafe_fixes))
            stack_verify.print_stack_report(report, output_format.value)
            raise typer.Exit(0 if report.ok else 1)
        report = verify(Path(path), engine, keep, options=Options(unsafe_fixes=unsafe_fixes))
    except VerifyError as err:
        typer.echo(f"dfix: error: {err}", err=True)
        for line in getattr(err, "log", "").splitlines():  # the original's build log, when it does not build
            typer.echo(f"  {line}", err=True)
        raise typer.Exit(2)
    print_report(report, output_format.value)
    raise typer.Exit(0 if report.ok else 1)

def _rule_json(rule) -> dict:
    return {
        "code": rule.code, "name": rule.name, "hadolint": list(rule.hadolint), "safety": rule.safety.value,
        "title": rule.title, "what": rule.what, "why": rule.why, "fix_safety": rule.fix_safety,
        "example": {"before": rule.example[0], "after": rule.example[1]},
    }


def main(args: List[str]) -> None:
    first = next((a for a in args if not a.startswith("-")), None)
    app = tools_app if first in SUBCOMMANDS and args and args[0] == first else fix_app
    app(args=args, prog_name="dfix", standalone_mode=True)
