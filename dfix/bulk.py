"""Many repositories in one run (`--repos FILE`): clone what is remote, fix each repository, and turn
the fixes into a branch with a commit (`--branch NAME --commit`) and/or a patch (`--patch-dir DIR`).
Nothing is ever pushed.

Each repository with --branch or --patch-dir is fixed in a `git worktree` of its own, detached at HEAD,
rather than in the user's checkout. The checkout (HEAD, index, working tree) is then never touched, not
even for a moment: no branch switch that a crash could leave behind, no stash, no file rewritten under
an editor. And the fixes see exactly the committed tree — the Dockerfiles and the build context next to
them — so the commit and the patch are what HEAD plus dfix gives. Whatever a fix writes in the worktree
(Dockerfiles, a .dockerignore DF601 writes) is found with `git status` there and committed by name.
A patch is that commit as `git format-patch` writes it; with --patch-dir alone the commit is made only
for that, and nothing refers to it once the worktree is gone.

Each repository ends with one status (see RepoOutcome): a file error or a git failure fails it as a
whole, and a failed or skipped repository delivers none of its fixes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Iterator

from . import __version__
from .files import InputError, discover
from .records import record
from .report.output import RepoOutcome, plural
from .runner import in_shard

# variables git sets for hooks; inherited, they would point every git call here at the wrong repository
_REPOSITORY_VARS = frozenset({
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR", "GIT_NAMESPACE", "GIT_PREFIX", "GIT_QUARANTINE_PATH",
})


class BulkError(Exception):
    """A problem with the repository list itself or with one repository; the message is one line."""


class GitError(BulkError):
    pass


@record
class Plan:
    repos_file: Path
    work_dir: Path | None = None
    branch: str | None = None  # with --commit: commit the fixes on this new branch
    patch_dir: Path | None = None
    write: bool = False  # --write without --branch/--patch-dir: fix the checkouts (and clones) in place

    @property
    def worktree(self) -> bool:
        return bool(self.branch or self.patch_dir)


def git(args: list[str], cwd: Path, what: str = "git", stdin: bytes | None = None, env: dict | None = None) -> bytes:
    env = {**{k: v for k, v in os.environ.items() if k not in _REPOSITORY_VARS}, **(env or {})}
    env["GIT_TERMINAL_PROMPT"] = "0"  # a private URL fails instead of waiting for a password
    env["GIT_LFS_SKIP_SMUDGE"] = "1"  # no large-file downloads for a checkout that only needs Dockerfiles
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, env=env, input=stdin, capture_output=True,
            stdin=None if stdin is not None else subprocess.DEVNULL,
        )
    except OSError as err:
        raise GitError(f"{what}: cannot run git: {err.strerror or err}") from None
    if proc.returncode != 0:
        lines = [line.strip() for line in proc.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
        # git's own verdict is its first fatal/error line; hints and advice follow it
        verdicts = [line for line in lines if line.startswith(("fatal: ", "error: "))]
        reason = (verdicts or lines or [f"git {args[0]} exited with {proc.returncode}"])[0]
        raise GitError(f"{what}: {reason.removeprefix('fatal: ').removeprefix('error: ')}")
    return proc.stdout


def is_url(spec: str) -> bool:
    return "://" in spec or re.match(r"^[\w.+-]+@[\w.-]+:", spec) is not None


def read_repos(path: Path) -> list[str]:
    """One local path or git URL a line; blank lines and `#` comments ignored; `-` reads stdin."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise BulkError(f"--repos {path}: cannot read: {reason}") from None
    return [s for s in (line.strip() for line in text.splitlines()) if s and not s.startswith("#")]


def repo_name(spec: str) -> str:
    tail = re.split(r"[/:\\]", spec.rstrip("/\\"))[-1]
    tail = tail.removesuffix(".git") if is_url(spec) or tail.endswith(".git") else tail
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", tail).strip("-.")
    return name or "repo"


def repository_units(plan: Plan, shard: tuple[int, int] | None = None) -> list["RepoUnit"]:
    if plan.branch:
        git(["check-ref-format", "--branch", plan.branch], Path.cwd(), "--branch")
    specs = read_repos(plan.repos_file)
    base = Path.cwd() if str(plan.repos_file) == "-" else plan.repos_file.resolve().parent
    if plan.patch_dir is not None:
        try:
            plan.patch_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise BulkError(f"--patch-dir {plan.patch_dir}: {err.strerror or err}") from None
    workspace = Workspace(plan.work_dir)
    # names come from the whole list, before sharding, so a repository has one name on every runner
    counts: Counter = Counter()
    units = []
    for spec in specs:
        name = repo_name(spec)
        counts[name] += 1
        if counts[name] > 1:
            name = f"{name}-{counts[name]}"
        if in_shard(spec, shard):
            units.append(RepoUnit(spec, name, plan, workspace, base))
    return units


class Workspace:
    """The work folder: clones of URLs and the temporary worktrees. A temp folder of our own is removed
    once empty; clones that hold a new branch stay, and their outcome says where."""

    def __init__(self, given: Path | None) -> None:
        self.given = given
        self.temporary = given is None
        self._path: Path | None = None

    @property
    def path(self) -> Path:
        if self._path is None:
            if self.given is None:
                self._path = Path(tempfile.mkdtemp(prefix="dfix-repos-"))
            else:
                try:
                    self.given.mkdir(parents=True, exist_ok=True)
                except OSError as err:
                    raise BulkError(f"--work-dir {self.given}: {err.strerror or err}") from None
                self._path = self.given.resolve()
        return self._path

    def fresh(self, name: str, under: str = "") -> Path:
        folder = self.path / under if under else self.path
        folder.mkdir(exist_ok=True)
        candidate, n = folder / name, 1
        while candidate.exists() or candidate.is_symlink():
            n += 1
            candidate = folder / f"{name}-{n}"
        return candidate

    def tidy(self) -> None:
        if self._path is None:
            return
        for folder in (self._path / ".worktrees", self._path) if self.temporary else (self._path / ".worktrees",):
            try:
                folder.rmdir()  # only when empty
            except OSError:
                pass


class RepoUnit:
    """One repository of the list; see the runner for the open / inputs / close / cleanup order."""

    def __init__(self, spec: str, name: str, plan: Plan, workspace: Workspace, base: Path) -> None:
        self.spec, self.name, self.plan, self.workspace, self.base = spec, name, plan, workspace, base
        self.writes = plan.worktree
        self.applied: Counter = Counter()  # the runner's count of fixes by code in files changed without error
        self.changed = 0  # ... and of those files
        self.errors: list[str] = []  # ... and "path: reason" of each file that could not be fixed
        self.failure: str | None = None
        self.top: Path | None = None  # the repository's top level: the user's checkout or our clone
        self.scan: Path | None = None  # where Dockerfiles are searched
        self.root: Path | None = None  # what display paths are relative to
        self.worktree: Path | None = None
        self.clone: Path | None = None
        self.keep_clone = False
        self.cleaned = False
        self.baseline: frozenset[str] = frozenset()

    # -- open ------------------------------------------------------------------------------------

    def open(self) -> None:
        try:
            self._open()
        except BulkError as err:
            self.failure = str(err)

    def _open(self) -> None:
        if is_url(self.spec):
            self.clone = self.workspace.fresh(self.name)
            git(["clone", "--depth", "1", "--quiet", "--", self.spec, str(self.clone)], self.workspace.path, "cannot clone")
            path = self.clone
        else:
            path = Path(self.spec).expanduser()
            path = path if path.is_absolute() else self.base / path
            if not path.is_dir():
                raise BulkError("no such directory" if not path.exists() else "not a directory")
        if not self.plan.worktree:
            self.scan = self.root = path
            return
        self.top = Path(git(["rev-parse", "--show-toplevel"], path, "not a git checkout").decode().strip())
        prefix = git(["rev-parse", "--show-prefix"], path).decode().strip()
        head = git(["rev-parse", "--verify", "HEAD^{commit}"], self.top, "no commit to start from").decode().strip()
        if self.plan.branch:
            if self._branch_exists():
                raise BulkError(f"branch {self.plan.branch} already exists; nothing done")
        self.worktree = self.workspace.fresh(self.name, ".worktrees")
        git(["worktree", "add", "--detach", "--quiet", str(self.worktree), head], self.top, "cannot create a worktree")
        # files git already calls changed in a fresh checkout (line-ending filters) are not dfix's to commit
        self.baseline = frozenset(_status_paths(git(_STATUS, self.worktree, "git status")))
        self.root = self.worktree
        self.scan = self.worktree / prefix if prefix else self.worktree

    def _branch_exists(self) -> bool:
        try:
            git(["rev-parse", "--verify", "--quiet", f"refs/heads/{self.plan.branch}"], self.top)
        except GitError:
            return False
        return True

    # -- inputs ----------------------------------------------------------------------------------

    def inputs(self) -> Iterator[tuple[Path, str] | InputError]:
        if self.failure or self.scan is None:
            return
        inside = self.worktree.resolve() if self.worktree else None
        targets: set[Path] = set()
        for found in discover([self.scan]):
            if isinstance(found, InputError):
                yield InputError(self._display_message(str(found)))
                continue
            display = self._display(found)
            if inside is not None:
                target = found.resolve()
                if not target.is_relative_to(inside):
                    # a fix written through this link would land outside the scratch checkout
                    yield InputError(f"{display}: symlink to a file outside the repository; left alone")
                    continue
                if target in targets:
                    continue  # another name for a file already queued: fixing it twice would race
                targets.add(target)
            yield found, display

    def _display(self, path: Path) -> str:
        try:
            rel = path.relative_to(self.root).as_posix()
        except ValueError:
            rel = path.as_posix()
        return f"{self.name}/{rel}"

    def _display_message(self, message: str) -> str:
        root = str(self.root)
        if message.startswith(root + os.sep):
            return f"{self.name}/" + message[len(root) + 1:].replace(os.sep, "/")
        return message

    # -- close -----------------------------------------------------------------------------------

    def close(self) -> RepoOutcome:
        """The repository's one status. A worktree repository with a file error fails as a whole:
        nothing is committed or patched, so a run after the file is mended starts from a clean slate."""
        outcome = RepoOutcome(self.name, self.spec, "failed")
        if self.failure:
            outcome.detail, outcome.error = self.failure, True
            return outcome
        if self.worktree is None:
            return self._in_place(outcome)
        if self.errors:
            outcome.detail = self._errors() + self._not_applied()
            outcome.not_applied = "repository failed"
            return outcome
        try:
            self._deliver(outcome)
        except BulkError as err:
            outcome = RepoOutcome(self.name, self.spec, "failed", str(err) + self._not_applied(), error=True)
            outcome.not_applied = "repository failed"
        return outcome

    def _errors(self) -> str:
        more = len(self.errors) - 1
        return self.errors[0] + (f" (and {plural(more, 'more error', 'more errors')})" if more else "")

    def _not_applied(self) -> str:
        total = sum(self.applied.values())
        return f"; {plural(total, 'fix', 'fixes')} not applied" if total else ""

    def _in_place(self, outcome: RepoOutcome) -> RepoOutcome:
        """--check, --dry-run or --write on the checkout itself: each file's fixes stand on their own
        (written, or pending), so they are counted even when another file of the repository failed."""
        outcome.files_changed, outcome.fixes = self.changed, sum(self.applied.values())
        if self.errors:
            outcome.detail = self._errors()
        elif self.plan.write:
            outcome.status = "fixed" if self.changed else "unchanged"
        else:
            outcome.status = "pending" if self.changed else "clean"
        if self.changed and outcome.status != "failed":
            outcome.detail = _codes(self.applied)
        if self.plan.write and self.changed and self.clone is not None:
            self.keep_clone = True  # the fixes were written there: a temp folder must not take them
            outcome.location = str(self.clone)
            outcome.detail += f" in {self.clone}" if outcome.status == "fixed" else f"; fixes written in {self.clone}"
        return outcome

    def _deliver(self, outcome: RepoOutcome) -> None:
        changed = [p for p in _status_paths(git(_STATUS, self.worktree, "git status")) if p not in self.baseline]
        if not changed:
            outcome.status = "unchanged"
            if self.applied:  # e.g. a file the fixes wrote that .gitignore hides: nothing reached git
                outcome.not_applied = "no change git would commit"
                outcome.detail = "the fixes changed no file git would commit" + self._not_applied()
            return
        dirty = sorted(set(_status_paths(git([*_STATUS, "--", *changed], self.top, "git status"))))
        if dirty:
            outcome.status, outcome.not_applied = "skipped", "repository skipped"
            outcome.detail = (
                "uncommitted changes to " + ", ".join(dirty) + " (commit or stash them, then run again)" + self._not_applied()
            )
            return
        git(["--literal-pathspecs", "add", "--", *changed], self.worktree, "git add")
        message = commit_message(self.applied, changed)
        # the commit is made in the scratch worktree either way: with --branch it becomes the branch; for
        # --patch-dir alone it is only the source of `git format-patch`, and once the worktree is removed
        # nothing refers to it (an unreachable object, which git gc prunes), so no hook runs for it, it is
        # not signed, and no automatic gc is started in the user's repository on its account
        scratch = [] if self.plan.branch else [
            "-c", f"core.hooksPath={os.devnull}", "-c", "commit.gpgSign=false", "-c", "gc.auto=0", "-c", "maintenance.auto=false",
        ]
        git([*scratch, "commit", "--quiet", "--no-edit", "-F", "-"], self.worktree, "git commit",
            stdin=message.encode("utf-8"), env=identity(self.worktree))
        sha = git(["rev-parse", "HEAD"], self.worktree).decode().strip()
        done = []
        patch = None
        if self.plan.patch_dir is not None:
            mail = git([*_FORMAT_PATCH, "-1", sha], self.worktree, "git format-patch")
            patch = self.plan.patch_dir / f"{self.name}.patch"
            try:
                patch.write_bytes(mail)
            except OSError as err:
                raise BulkError(f"cannot write {patch}: {err.strerror or err}") from None
            outcome.status, outcome.patch = "patched", str(patch)
            # git am strips a line's CR unless told not to; git apply keeps it either way
            done.append(f"patch {patch}" + (" (CRLF lines: git am --keep-cr)" if b"\r\n" in mail else ""))
        if self.plan.branch:
            try:
                # the branch is made only now, at a finished commit: a failure above leaves no branch behind
                git(["branch", "--no-track", self.plan.branch, sha], self.top, "git branch")
            except GitError:
                if patch is not None:
                    patch.unlink(missing_ok=True)  # the repository failed: it delivers nothing
                raise
            outcome.status, outcome.branch, outcome.commit = "committed", self.plan.branch, sha
            done.insert(0, f"branch {self.plan.branch} ({sha[:12]})")
            if self.clone is not None:
                self.keep_clone = True
                outcome.location = str(self.clone)
                done[0] += f" in {self.clone}"
        outcome.files = tuple(changed)
        outcome.files_changed, outcome.fixes = self.changed, sum(self.applied.values())
        outcome.detail = f"{', '.join(done)}: {_codes(self.applied)}"

    # -- cleanup ---------------------------------------------------------------------------------

    def cleanup(self) -> None:
        if self.cleaned:
            return
        self.cleaned = True
        if self.worktree is not None and self.top is not None:
            try:
                git(["worktree", "remove", "--force", str(self.worktree)], self.top)
            except GitError:
                shutil.rmtree(self.worktree, ignore_errors=True)
                try:
                    git(["worktree", "prune"], self.top)
                except GitError:
                    pass
        if self.clone is not None and self.workspace.temporary and not self.keep_clone:
            shutil.rmtree(self.clone, ignore_errors=True)
        self.workspace.tidy()


# a patch in `git format-patch` form (git am and git apply both take it), the same whatever the user's
# format.* and diff.* configuration says: one patch, no numbering, extra headers, sign-off or cover letter
_FORMAT_PATCH = (
    "-c", "core.quotepath=false", "-c", "diff.noprefix=false", "-c", "diff.mnemonicPrefix=false",
    "format-patch", "--stdout", "--no-numbered", "--subject-prefix=PATCH", "--no-signoff", "--no-cover-letter",
    "--no-thread", "--no-attach", "--no-add-header", "--no-to", "--no-cc", "--no-from", "--no-base", "--no-notes",
    f"--signature=dfix {__version__}", "--binary", "--full-index", "--no-color", "--no-ext-diff", "--no-textconv",
    "--no-renames", "--no-relative", "--src-prefix=a/", "--dst-prefix=b/",
)
# who a commit is by when git cannot say for a repository (no user.name/user.email in its config or the
# environment): documented in the README
DEFAULT_NAME, DEFAULT_EMAIL = "dfix", "dfix@localhost"


def identity(repository: Path) -> dict[str, str]:
    """The environment a commit in `repository` needs: nothing when git resolves an author and a
    committer from the configuration and the environment (GIT_AUTHOR_NAME and the like) the way it
    would for a commit there, else dfix's default for the role it cannot resolve. Auto-detection from
    the host name is refused (user.useConfigOnly): root@container.(none) is nobody."""
    env = {}
    for role in ("AUTHOR", "COMMITTER"):
        try:
            git(["-c", "user.useConfigOnly=true", "var", f"GIT_{role}_IDENT"], repository)
        except GitError:
            env[f"GIT_{role}_NAME"], env[f"GIT_{role}_EMAIL"] = DEFAULT_NAME, DEFAULT_EMAIL
    return env


_STATUS = ["--literal-pathspecs", "status", "--porcelain=v1", "-z", "--untracked-files=all", "--ignore-submodules=all"]


def _status_paths(output: bytes) -> list[str]:
    """Paths in `git status --porcelain -z` output; a rename's entry is followed by its old path."""
    fields = output.decode("utf-8", "surrogateescape").split("\0")
    paths, i = [], 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if len(entry) < 4:
            continue
        paths.append(entry[3:])
        if entry[0] in "RC":
            i += 1
    return paths


def _codes(applied: Counter) -> str:
    if not applied:
        return "no fixes"
    return ", ".join(f"{code} x{n}" for code, n in sorted(applied.items()))


def commit_message(applied: Counter, files: list[str]) -> str:
    from .rules import BY_CODE

    total = sum(applied.values())
    lines = [f"dfix: {plural(total, 'fix', 'fixes')} in {plural(len(files), 'file')}", ""]
    lines.append("Applied by dfix, by code:")
    for code, count in sorted(applied.items()):
        title = BY_CODE[code].title if code in BY_CODE else ""
        lines.append(f"- {code} x{count}" + (f": {title}" if title else ""))
    lines += ["", "Files:"] + [f"- {path}" for path in files]
    return "\n".join(lines) + "\n"
