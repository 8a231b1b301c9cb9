"""`--repos` for real: git repositories made here (bare remotes and their clones), the CLI run as a
subprocess, and git asked afterwards what is on the branches, in the patches and in the checkouts."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

NAIVE = "FROM python:3.12\nRUN apt-get update\nRUN apt-get install -y curl\nCOPY . /app\n"
NAIVE_CRLF_NO_EOL = b"FROM debian:bookworm\r\nRUN apt-get update && apt-get install -y git\r\nCMD [\"bash\"]"
GOOD = "FROM scratch\nCOPY app /app\n"


@pytest.fixture
def env(tmp_path):
    """A fresh machine: no global or system git config, identity only through the environment."""
    home = tmp_path / "home"
    home.mkdir()
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
        "NO_COLOR": "1", "PYTHONPATH": str(ROOT),
    }


def git(env, cwd, *args) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, check=True)
    return proc.stdout.decode()


def make_repo(env, path: Path, files: dict[str, bytes | str]) -> Path:
    path.mkdir(parents=True)
    git(env, path, "init", "-q", "-b", "main")
    for rel, data in files.items():
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data.encode() if isinstance(data, str) else data)
    git(env, path, "add", "--", *files)
    git(env, path, "commit", "-q", "-m", "initial")
    return path


def make_remote(env, tmp_path: Path, name: str, files) -> tuple[Path, Path]:
    """A bare remote and a clone of it with the files pushed: what a developer's machine has."""
    work = make_repo(env, tmp_path / "seed" / name, files)
    bare = tmp_path / "remotes" / f"{name}.git"
    bare.parent.mkdir(parents=True, exist_ok=True)
    git(env, tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    git(env, work, "push", "-q", str(bare), "main")
    clone = tmp_path / "checkouts" / name
    clone.parent.mkdir(parents=True, exist_ok=True)
    git(env, tmp_path, "clone", "-q", str(bare), str(clone))
    return bare, clone


def dfix(env, *args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "dfix", *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def snapshot(env, repo: Path) -> dict:
    """Everything the user's checkout is: HEAD, branch, status, and the bytes of every file."""
    files = {
        p.relative_to(repo).as_posix(): p.read_bytes()
        for p in sorted(repo.rglob("*")) if p.is_file() and ".git" not in p.relative_to(repo).parts
    }
    return {
        "head": git(env, repo, "rev-parse", "HEAD"), "branch": git(env, repo, "symbolic-ref", "HEAD"),
        "status": git(env, repo, "status", "--porcelain", "--untracked-files=all"), "files": files,
        "index": git(env, repo, "ls-files", "--stage"),
    }


def write_list(tmp_path: Path, *lines: str) -> Path:
    listing = tmp_path / "repos.txt"
    listing.write_text("\n".join(lines) + "\n")
    return listing


def reference(env, tmp_path: Path, source: Path, name: str = "reference") -> tuple[Path, list[str], dict[str, int]]:
    """What `dfix --write` makes of a fresh clone of `source`: the clone, the paths it changed, and
    the fixes applied by code. Bulk runs must produce exactly this, whatever files the rules touch."""
    target = tmp_path / name
    git(env, tmp_path, "clone", "-q", str(source), str(target))
    proc = dfix(env, "--write", "--format", "json", target)
    assert proc.returncode == 0, proc.stderr
    counts: dict[str, int] = {}
    for record in json.loads(proc.stdout)["files"]:
        for fix in record.get("applied", []):
            counts[fix["code"]] = counts.get(fix["code"], 0) + 1
    changed = sorted(line[3:] for line in git(env, target, "status", "--porcelain", "--untracked-files=all").splitlines())
    return target, changed, counts


def show(env, repo: Path, ref: str, rel: str) -> bytes:
    return subprocess.run(["git", "show", f"{ref}:{rel}"], cwd=repo, env=env, capture_output=True, check=True).stdout


def test_branch_and_commit_hold_exactly_the_fixed_files(env, tmp_path):
    bare, repo = make_remote(env, tmp_path, "shop", {
        "Dockerfile": NAIVE,
        "svc/api/Dockerfile": NAIVE_CRLF_NO_EOL,
        "svc/clean/Dockerfile": GOOD,
        "README.md": "shop\n",
    })
    ref, changed, counts = reference(env, tmp_path, bare)
    assert {"Dockerfile", "svc/api/Dockerfile"} <= set(changed)
    (repo / "scratch.Dockerfile").write_text(NAIVE)  # untracked: not in HEAD, so not dfix's to commit
    (repo / "README.md").write_text("edited, not committed\n")  # dirty, but not a file dfix changes
    before = snapshot(env, repo)
    listing = write_list(tmp_path, "# the fleet", "", "checkouts/shop")
    proc = dfix(env, "--repos", listing, "--branch", "dfix/fixes", "--commit")
    assert proc.returncode == 0, proc.stderr
    assert snapshot(env, repo) == before  # HEAD, branch, index, status and every byte untouched
    head = before["head"].strip()
    assert git(env, repo, "rev-parse", "dfix/fixes^").strip() == head
    assert git(env, repo, "diff", "--name-only", head, "dfix/fixes").split() == changed
    for rel in changed:
        assert show(env, repo, "dfix/fixes", rel) == (ref / rel).read_bytes(), rel
    api = show(env, repo, "dfix/fixes", "svc/api/Dockerfile")
    assert api != NAIVE_CRLF_NO_EOL and api.count(b"\r\n") == api.count(b"\n") and not api.endswith(b"\n")
    message = git(env, repo, "log", "-1", "--format=%B", "dfix/fixes")
    for code, n in counts.items():
        assert f"- {code} x{n}" in message
    assert message.startswith(f"dfix: {sum(counts.values())} fixes in {len(changed)} files")
    assert git(env, repo, "worktree", "list", "--porcelain").count("worktree ") == 1  # scratch worktree gone
    assert "committed: branch dfix/fixes" in proc.stderr
    assert "scratch.Dockerfile" not in proc.stdout


def test_files_a_fix_writes_besides_the_dockerfile_are_committed_too(env, tmp_path):
    """The branch holds what `dfix --write` makes of a fresh clone, whatever files that touches
    (a new .dockerignore here), and nothing else."""
    app = "FROM python:3.12-slim\nWORKDIR /app\nCOPY . /app\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n"
    _, repo = make_remote(env, tmp_path, "app", {"svc/Dockerfile": app, "svc/requirements.txt": "flask\n", "svc/app.py": "print(1)\n"})
    reference = tmp_path / "reference"
    git(env, tmp_path, "clone", "-q", str(repo), str(reference))
    assert dfix(env, "--write", reference).returncode == 0
    written = sorted(git(env, reference, "status", "--porcelain", "--untracked-files=all").split("\n")[:-1])
    assert any(".dockerignore" in line for line in written), written  # the case this test is about
    proc = dfix(env, "--repos", write_list(tmp_path, str(repo)), "--branch", "dfix/fixes", "--commit", "--patch-dir", tmp_path / "p")
    assert proc.returncode == 0, proc.stderr
    changed = git(env, repo, "diff", "--name-only", "main", "dfix/fixes").split()
    assert changed == sorted(line[3:] for line in written)
    for rel in changed:
        blob = subprocess.run(["git", "show", f"dfix/fixes:{rel}"], cwd=repo, env=env, capture_output=True, check=True).stdout
        assert blob == (reference / rel).read_bytes(), rel
    check = subprocess.run(["git", "apply", "--check", str(tmp_path / "p" / "app.patch")], cwd=repo, env=env, capture_output=True)
    assert check.returncode == 0, check.stderr
    # an untracked file of the user's where dfix would write one: skipped, the user's file untouched
    git(env, repo, "branch", "-D", "-q", "dfix/fixes")
    (repo / "svc" / ".dockerignore").write_text("mine\n")
    proc = dfix(env, "--repos", write_list(tmp_path, str(repo)), "--branch", "dfix/fixes", "--commit")
    assert "dfix: app: skipped: uncommitted changes to svc/.dockerignore" in proc.stderr
    assert (repo / "svc" / ".dockerignore").read_text() == "mine\n"


def test_dirty_repository_is_skipped_with_the_reason_and_the_others_go_on(env, tmp_path):
    _, dirty = make_remote(env, tmp_path, "dirty", {"Dockerfile": NAIVE, "svc/Dockerfile": NAIVE})
    _, clean = make_remote(env, tmp_path, "clean", {"Dockerfile": NAIVE})
    (dirty / "svc" / "Dockerfile").write_text(NAIVE + "EXPOSE 80\n")
    before = snapshot(env, dirty)
    listing = write_list(tmp_path, str(dirty), str(clean))
    proc = dfix(env, "--repos", listing, "--branch", "dfix/fixes", "--commit", "--format", "json", "--ignore", "DF601")
    assert proc.returncode == 0, proc.stderr
    repos = {r["name"]: r for r in json.loads(proc.stdout)["repositories"]}
    assert repos["dirty"]["status"] == "skipped"
    assert "uncommitted changes to svc/Dockerfile" in repos["dirty"]["detail"]
    assert repos["clean"]["status"] == "committed" and repos["clean"]["files"] == ["Dockerfile"]
    assert snapshot(env, dirty) == before
    assert git(env, dirty, "branch", "--list", "dfix/fixes") == ""  # no branch left behind
    assert git(env, clean, "branch", "--list", "dfix/fixes").strip()
    # a staged change counts as uncommitted too
    git(env, dirty, "checkout", "-q", "--", "svc/Dockerfile")
    (dirty / "Dockerfile").write_text(NAIVE + "# staged\n")
    git(env, dirty, "add", "Dockerfile")
    text = dfix(env, "--repos", write_list(tmp_path, str(dirty)), "--branch", "dfix/fixes", "--commit")
    assert text.returncode == 0 and "dfix: dirty: skipped: uncommitted changes to Dockerfile" in text.stderr


def test_patches_apply_to_the_original_checkouts_byte_for_byte(env, tmp_path):
    bare, local = make_remote(env, tmp_path, "api", {"Dockerfile": NAIVE, "deploy/Containerfile": NAIVE_CRLF_NO_EOL})
    _, other = make_remote(env, tmp_path, "worker", {"build/app.Dockerfile": NAIVE_CRLF_NO_EOL, "x.txt": "x\n"})
    before = snapshot(env, local)
    patches = tmp_path / "patches"
    listing = write_list(tmp_path, str(local), bare.as_uri(), "checkouts/worker")
    proc = dfix(env, "--repos", listing, "--patch-dir", patches, "--work-dir", tmp_path / "work")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in patches.iterdir()) == ["api-2.patch", "api.patch", "worker.patch"]
    assert snapshot(env, local) == before
    assert git(env, local, "branch", "--list") == "* main\n"  # a patch makes no branch
    for name, checkout in (("api", local), ("api-2", local), ("worker", other)):  # api-2: the URL, cloned
        patch = patches / f"{name}.patch"
        check = subprocess.run(["git", "apply", "--check", str(patch)], cwd=checkout, env=env, capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        ref, changed, _ = reference(env, tmp_path, checkout, f"reference-{name}")
        target = tmp_path / "applied" / name
        git(env, tmp_path, "clone", "-q", str(checkout), str(target))
        git(env, target, "apply", str(patch))
        applied = sorted(line[3:] for line in git(env, target, "status", "--porcelain", "--untracked-files=all").splitlines())
        assert applied == changed and changed
        for rel in changed:  # CRLF and missing final newlines exact, byte for byte
            assert (target / rel).read_bytes() == (ref / rel).read_bytes(), (name, rel)


def test_a_repository_that_fails_to_clone_is_reported_and_the_others_go_on(env, tmp_path):
    _, good = make_remote(env, tmp_path, "good", {"Dockerfile": NAIVE})
    missing = (tmp_path / "no-such-remote.git").as_uri()
    listing = write_list(tmp_path, missing, str(good), str(tmp_path / "not-there"))
    proc = dfix(env, "--repos", listing, "--branch", "dfix/fixes", "--commit")
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("dfix: error:")]
    assert len(errors) == 2, proc.stderr
    assert errors[0].startswith("dfix: error: no-such-remote: cannot clone: ")
    assert errors[1] == "dfix: error: not-there: no such directory"
    assert "Traceback" not in proc.stderr
    assert git(env, good, "branch", "--list", "dfix/fixes").strip()


def test_an_existing_branch_is_never_overwritten(env, tmp_path):
    _, repo = make_remote(env, tmp_path, "repo", {"Dockerfile": NAIVE})
    git(env, repo, "branch", "dfix/fixes")
    tip = git(env, repo, "rev-parse", "dfix/fixes")
    proc = dfix(env, "--repos", write_list(tmp_path, str(repo)), "--branch", "dfix/fixes", "--commit")
    assert proc.returncode == 2
    assert "dfix: error: repo: branch dfix/fixes already exists" in proc.stderr
    assert git(env, repo, "rev-parse", "dfix/fixes") == tip


def test_a_symlink_out_of_the_repository_is_not_followed(env, tmp_path):
    outside = tmp_path / "outside.Dockerfile"
    outside.write_text(NAIVE)
    repo = make_repo(env, tmp_path / "repo", {"Dockerfile": NAIVE})
    (repo / "other.Dockerfile").symlink_to(outside)
    git(env, repo, "add", "other.Dockerfile")
    git(env, repo, "commit", "-q", "-m", "link")
    proc = dfix(env, "--repos", write_list(tmp_path, str(repo)), "--branch", "b", "--commit", "--ignore", "DF601")
    assert proc.returncode == 2
    assert "dfix: error: repo/other.Dockerfile: symlink to a file outside the repository" in proc.stderr
    assert outside.read_text() == NAIVE
    # an error in one of its files fails the repository: no branch with only part of its fixes
    assert "dfix: repo: failed: repo/other.Dockerfile: symlink to a file outside the repository" in proc.stderr
    assert git(env, repo, "branch", "--list", "b") == ""


def test_repos_without_branch_check_in_place(env, tmp_path):
    _, one = make_remote(env, tmp_path, "one", {"Dockerfile": NAIVE})
    _, two = make_remote(env, tmp_path, "two", {"svc/Dockerfile": GOOD})
    listing = write_list(tmp_path, str(one), str(two))
    proc = dfix(env, "--repos", listing, "--check")
    assert proc.returncode == 1, proc.stderr
    assert "+++ b/one/Dockerfile" in proc.stdout and "+++ b/two/" not in proc.stdout
    assert (one / "Dockerfile").read_text() == NAIVE
    fixes = json.loads(dfix(env, "--repos", listing, "--format", "json").stdout)["summary"]["fixes"]
    rows = table_rows(proc.stderr)
    assert rows["one"][:3] == ["changes pending", "1", str(fixes)] and rows["two"] == ["clean", "0", "0"]


def test_write_in_place_keeps_the_clones_that_were_fixed(env, tmp_path):
    bare, checkout = make_remote(env, tmp_path, "svc", {"Dockerfile": NAIVE})
    assert dfix(env, "--write", checkout).returncode == 0  # the reference: the same fix on a checkout
    proc = dfix(env, "--repos", write_list(tmp_path, bare.as_uri()), "--write", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    (repo,) = json.loads(proc.stdout)["repositories"]
    clone = Path(repo["location"])  # in a temp folder that was kept for it
    try:
        assert (clone / "Dockerfile").read_bytes() == (checkout / "Dockerfile").read_bytes() != NAIVE.encode()
        status = git(env, clone, "status", "--porcelain", "--untracked-files=all")
        assert status == git(env, checkout, "status", "--porcelain", "--untracked-files=all")
        assert " M Dockerfile\n" in status
    finally:
        shutil.rmtree(clone.parent)


@pytest.mark.parametrize("args, message", [
    (["--branch", "x"], "--branch and --commit go together"),
    (["--commit"], "--branch and --commit go together"),
    (["--write", "--branch", "x", "--commit"], "choose one"),
    (["--branch", "bad..name", "--commit"], "not a valid branch name"),
])
def test_option_mistakes_are_one_line(env, tmp_path, args, message):
    _, repo = make_remote(env, tmp_path, "repo", {"Dockerfile": NAIVE})
    proc = dfix(env, "--repos", write_list(tmp_path, str(repo)), *args)
    assert proc.returncode == 2
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) <= 2, proc.stderr


def test_repository_shards_are_disjoint_and_cover_the_list(env, tmp_path):
    names = [f"r{i}" for i in range(9)]
    for name in names:
        make_repo(env, tmp_path / name, {"Dockerfile": NAIVE})
    listing = write_list(tmp_path, *names)
    seen: list[str] = []
    for index in (1, 2, 3):
        proc = dfix(env, "--repos", listing, "--shard", f"{index}/3", "--format", "json")
        seen += [r["name"] for r in json.loads(proc.stdout)["repositories"]]
    assert sorted(seen) == names


# -- one status per repository, and totals that agree with it -----------------------------------------

BINARY = b"FROM python:3.12\n\x00\n"  # not a Dockerfile dfix can read: an error for that file


def table_rows(stderr: str) -> dict[str, list[str]]:
    """The repository table of the text summary: name -> [status, files changed, fixes, detail]."""
    lines = stderr.splitlines()
    header = re.compile(r"^  repository\s{2,}status\s{2,}files changed\s{2,}fixes\s{2,}detail$")
    start = next(i for i, line in enumerate(lines) if header.match(line))
    rows = {}
    for line in lines[start + 1:]:
        if not line.startswith("  ") or not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip(), maxsplit=4)
        rows[cells[0]] = cells[1:]
    return rows


def applied_by_code(records: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records:
        for fix in record.get("applied", []):
            counts[fix["code"]] = counts.get(fix["code"], 0) + 1
    return counts


def test_a_skipped_repository_s_fixes_are_neither_printed_nor_counted_as_fixed(env, tmp_path):
    _, dirty = make_remote(env, tmp_path, "dirty", {"Dockerfile": NAIVE})
    bare, clean = make_remote(env, tmp_path, "clean", {"Dockerfile": NAIVE, "svc/Dockerfile": NAIVE})
    (dirty / "Dockerfile").write_text(NAIVE + "EXPOSE 80\n")
    _, changed, counts = reference(env, tmp_path, bare)
    listing = write_list(tmp_path, str(dirty), str(clean))
    common = ("--repos", listing, "--commit")

    text = dfix(env, *common, "--branch", "dfix/text")
    assert text.returncode == 0, text.stderr
    dirty_lines = [line for line in text.stdout.splitlines() if line.startswith("dirty/")]
    assert any(line.endswith(" [not applied: repository skipped]") for line in dirty_lines), text.stdout
    assert not any("[fixed]" in line for line in dirty_lines), text.stdout
    assert sum(line.endswith(" [fixed]") for line in text.stdout.splitlines()) == sum(counts.values())
    rows = table_rows(text.stderr)
    assert rows["dirty"][:3] == ["skipped", "0", "0"] and rows["dirty"][3].startswith("uncommitted changes to Dockerfile")
    assert rows["clean"][:3] == ["committed", "2", str(sum(counts.values()))]
    for code, n in counts.items():  # the per-code rows count what the commit holds, no more
        assert re.search(rf"^  {code}\s+{n}  ", text.stderr, re.M), (code, text.stderr)

    proc = dfix(env, *common, "--branch", "dfix/json", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    repos = {r["name"]: r for r in data["repositories"]}
    assert repos["dirty"]["status"] == "skipped" and repos["dirty"]["fixes"] == 0
    assert repos["clean"]["status"] == "committed" and sorted(repos["clean"]["files"]) == changed
    summary = data["summary"]
    assert summary["fixes"] == sum(counts.values()) == sum(r["fixes"] for r in repos.values())
    assert summary["changed"] == 2 == sum(r["files_changed"] for r in repos.values())
    assert summary["fixes_by_code"] == dict(sorted(counts.items()))
    assert summary["repositories"] == {"committed": 1, "skipped": 1}
    skipped = [r for r in data["files"] if r["path"].startswith("dirty/")]
    assert skipped and all(r["not_applied"] == "repository skipped" for r in skipped)
    assert summary["not_applied"] == len(skipped[0]["applied"])


def test_a_repository_with_a_broken_dockerfile_is_failed_and_nothing_else(env, tmp_path):
    _, broken = make_remote(env, tmp_path, "broken", {"Dockerfile": BINARY})
    _, mixed = make_remote(env, tmp_path, "mixed", {"Dockerfile": NAIVE, "bad/Dockerfile": BINARY})
    _, good = make_remote(env, tmp_path, "good", {"Dockerfile": NAIVE})
    listing = write_list(tmp_path, str(broken), str(mixed), str(good))
    common = ("--repos", listing, "--commit", "--ignore", "DF601")

    text = dfix(env, *common, "--branch", "dfix/text")
    assert text.returncode == 2
    assert "nothing to" not in text.stderr and "unchanged" not in text.stderr, text.stderr
    errors = [line for line in text.stderr.splitlines() if line.startswith("dfix: error:")]
    assert errors == ["dfix: error: broken/Dockerfile: binary file (NUL bytes)",
                      "dfix: error: mixed/bad/Dockerfile: binary file (NUL bytes)"]  # each said once
    assert "dfix: broken: failed: broken/Dockerfile: binary file (NUL bytes)" in text.stderr
    rows = table_rows(text.stderr)
    assert rows["broken"] == ["failed", "0", "0", "broken/Dockerfile: binary file (NUL bytes)"]
    assert rows["mixed"][:3] == ["failed", "0", "0"] and rows["mixed"][3].startswith("mixed/bad/Dockerfile: binary file")
    assert rows["good"][0] == "committed"
    assert all(line.endswith("[not applied: repository failed]") for line in text.stdout.splitlines()
               if line.startswith("mixed/") and "[" in line)
    # a failed repository gets no branch: a run after the file is mended starts clean
    assert git(env, mixed, "branch", "--list", "dfix/text") == ""
    assert git(env, good, "branch", "--list", "dfix/text").strip()

    proc = dfix(env, *common, "--branch", "dfix/json", "--format", "json")
    assert proc.returncode == 2
    data = json.loads(proc.stdout)
    repos = {r["name"]: r for r in data["repositories"]}
    assert [repos[n]["status"] for n in ("broken", "mixed", "good")] == ["failed", "failed", "committed"]
    assert repos["broken"]["detail"] == "broken/Dockerfile: binary file (NUL bytes)"
    summary = data["summary"]
    assert summary["errors"] == 2 and summary["repositories"] == {"committed": 1, "failed": 2}
    good_fixes = applied_by_code([r for r in data["files"] if r["path"].startswith("good/")])
    assert summary["fixes_by_code"] == dict(sorted(good_fixes.items()))
    assert summary["fixes"] == repos["good"]["fixes"] == sum(good_fixes.values())


def test_in_place_runs_say_pending_clean_fixed_or_nothing_to_do(env, tmp_path):
    one = make_repo(env, tmp_path / "one", {"Dockerfile": NAIVE, "svc/Dockerfile": NAIVE})
    two = make_repo(env, tmp_path / "two", {"Dockerfile": GOOD})
    bad = make_repo(env, tmp_path / "bad", {"Dockerfile": BINARY})
    listing = write_list(tmp_path, "one", "two", "bad")
    check = dfix(env, "--repos", listing, "--check", "--ignore", "DF601", "--format", "json")
    assert check.returncode == 2  # the bad file
    data = json.loads(check.stdout)
    repos = {r["name"]: r for r in data["repositories"]}
    assert {n: r["status"] for n, r in repos.items()} == {"one": "pending", "two": "clean", "bad": "failed"}
    assert repos["one"]["files_changed"] == 2 == data["summary"]["changed"]
    assert repos["one"]["fixes"] == data["summary"]["fixes"] > 0
    text = dfix(env, "--repos", listing, "--dry-run", "--ignore", "DF601")
    rows = table_rows(text.stderr)
    assert [rows[n][0] for n in ("one", "two", "bad")] == ["changes pending", "clean", "failed"]
    assert rows["one"][1:3] == ["2", str(repos["one"]["fixes"])]
    assert (one / "Dockerfile").read_text() == NAIVE
    write = dfix(env, "--repos", write_list(tmp_path, "one", "two"), "--write", "--ignore", "DF601")
    assert write.returncode == 0, write.stderr
    rows = table_rows(write.stderr)
    assert rows["one"][:3] == ["fixed", "2", str(repos["one"]["fixes"])]
    assert rows["two"][:3] == ["nothing to do", "0", "0"]
    assert (one / "Dockerfile").read_text() != NAIVE


# -- patches in `git format-patch` form ------------------------------------------------------------------


def visible_state(env, repo: Path) -> dict:
    """What a user can see of a repository besides its files: refs, reflogs, worktrees, stashes."""
    logs = repo / ".git" / "logs"
    return {
        "refs": git(env, repo, "for-each-ref"), "worktrees": git(env, repo, "worktree", "list", "--porcelain"),
        "stash": git(env, repo, "stash", "list"), "head": git(env, repo, "rev-parse", "HEAD"),
        "reflogs": {p.relative_to(logs).as_posix(): p.read_bytes() for p in sorted(logs.rglob("*")) if p.is_file()},
    }


def tree_after_apply(env, tmp_path: Path, source: Path, patch: Path, name: str) -> str:
    target = tmp_path / "applied" / name
    git(env, tmp_path, "clone", "-q", str(source), str(target))
    git(env, target, "apply", "--index", str(patch))
    return git(env, target, "write-tree").strip()


def test_patches_are_mails_git_am_applies_with_the_author_and_subject(env, tmp_path):
    bare, repo = make_remote(env, tmp_path, "api", {"Dockerfile": NAIVE, "svc/Dockerfile": NAIVE, "README.md": "api\n"})
    git(env, repo, "config", "user.name", "Ada Lovelace")
    git(env, repo, "config", "user.email", "ada@example.com")
    no_env_identity = {k: v for k, v in env.items() if not k.startswith(("GIT_AUTHOR_", "GIT_COMMITTER_"))}
    _, changed, counts = reference(env, tmp_path, bare)
    hooks = repo / ".git" / "hooks"
    for hook, body in (("pre-commit", "exit 1"), ("post-commit", f"touch '{tmp_path / 'hook-ran'}'")):
        (hooks / hook).write_text(f"#!/bin/sh\n{body}\n")
        (hooks / hook).chmod(0o755)
    before = visible_state(env, repo)
    patches = tmp_path / "patches"
    proc = dfix(no_env_identity, "--repos", write_list(tmp_path, str(repo)), "--patch-dir", patches)
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "hook-ran").exists()  # the commit behind a patch is no commit of the user's
    assert "dfix: api: patch written: patch " in proc.stderr
    patch = patches / "api.patch"
    mail = patch.read_text()
    lines = mail.splitlines()
    assert re.fullmatch(r"From [0-9a-f]{40} Mon Sep 17 00:00:00 2001", lines[0]), lines[0]
    assert lines[1] == "From: Ada Lovelace <ada@example.com>"
    assert lines[2].startswith("Date: ")
    title = f"dfix: {sum(counts.values())} fixes in {len(changed)} files"
    assert lines[3] == f"Subject: [PATCH] {title}"
    assert "\n---\n" in mail and "\n-- \n" in mail  # the end of the message, the signature line

    # git am and git apply make the same tree of a fresh clone at the same HEAD
    am = tmp_path / "am"
    git(env, tmp_path, "clone", "-q", str(bare), str(am))
    git(env, am, "am", "-q", str(patch))
    assert git(env, am, "rev-parse", "HEAD^{tree}").strip() == tree_after_apply(env, tmp_path, bare, patch, "api")
    assert git(env, am, "rev-parse", "HEAD^").strip() == before["head"].strip()
    assert git(env, am, "diff", "--name-only", "HEAD^", "HEAD").split() == changed
    assert git(env, am, "log", "-1", "--format=%an <%ae>%n%s").splitlines() == ["Ada Lovelace <ada@example.com>", title]
    message = git(env, am, "log", "-1", "--format=%b")
    for code, n in counts.items():
        assert f"- {code} x{n}" in message

    # the commit made to write the patch left no branch, ref, reflog or worktree behind; what it left
    # in the object store is unreachable, and git gc takes it
    assert visible_state(env, repo) == before
    git(env, repo, "gc", "-q", "--prune=now")
    assert git(env, repo, "fsck", "--unreachable", "--no-reflogs", "--no-progress") == ""

    # the author as git resolves it: GIT_AUTHOR_* over the repository's config ...
    proc = dfix(env, "--repos", write_list(tmp_path, str(repo)), "--patch-dir", tmp_path / "p2")
    assert proc.returncode == 0, proc.stderr
    assert "\nFrom: Test <test@example.com>\n" in (tmp_path / "p2" / "api.patch").read_text()
    # ... and with no identity at all, dfix's documented default
    git(env, repo, "config", "--unset", "user.name")
    git(env, repo, "config", "--unset", "user.email")
    proc = dfix(no_env_identity, "--repos", write_list(tmp_path, str(repo)), "--patch-dir", tmp_path / "p3")
    assert proc.returncode == 0, proc.stderr
    assert "\nFrom: dfix <dfix@localhost>\n" in (tmp_path / "p3" / "api.patch").read_text()


def test_a_patch_of_crlf_files_applies_with_git_am_keep_cr(env, tmp_path):
    bare, repo = make_remote(env, tmp_path, "win", {"Dockerfile": NAIVE_CRLF_NO_EOL})
    proc = dfix(env, "--repos", write_list(tmp_path, str(repo)), "--patch-dir", tmp_path / "p", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    (outcome,) = json.loads(proc.stdout)["repositories"]
    assert "git am --keep-cr" in outcome["detail"]
    patch = tmp_path / "p" / "win.patch"
    am = tmp_path / "am"
    git(env, tmp_path, "clone", "-q", str(bare), str(am))
    git(env, am, "am", "-q", "--keep-cr", str(patch))
    assert git(env, am, "rev-parse", "HEAD^{tree}").strip() == tree_after_apply(env, tmp_path, bare, patch, "win")
    assert b"\r\n" in (am / "Dockerfile").read_bytes()


def test_a_commit_where_git_has_no_identity_is_by_dfix(env, tmp_path):
    _, repo = make_remote(env, tmp_path, "anon", {"Dockerfile": NAIVE})
    no_identity = {k: v for k, v in env.items() if not k.startswith(("GIT_AUTHOR_", "GIT_COMMITTER_"))}
    proc = dfix(no_identity, "--repos", write_list(tmp_path, str(repo)), "--branch", "dfix/fixes", "--commit")
    assert proc.returncode == 0, proc.stderr
    assert git(env, repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>", "dfix/fixes").strip() == (
        "dfix <dfix@localhost>|dfix <dfix@localhost>"
    )
