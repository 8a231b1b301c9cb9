"""Of the production Python images that run as root, how many does dfix make non-root? Issue 16's measure.

    python benchmarks/df302_root_coverage.py                 # fixtures/realworld, tests/apps, /work/shared/examples
    python benchmarks/df302_root_coverage.py DIR... --classify   # another corpus; print each file's classification

Every Dockerfile under the given folders (`Dockerfile`, `Dockerfile.*`, `*.Dockerfile`) is read with dfix's
own parser and classified by its FINAL stage (with the stages it is built on, through `FROM <stage>`):

1. **Python is there**: the base image's row in dfix's base-image table (dfix/data/base_images.toml, read
   through dfix.base_images) says `python = true` (python, pypy, conda, tiangolo, jupyter, pytorch, uv,
   UBI python, …); or the stage installs Python with a package manager (a `python…`/`pypy…` package for
   apt-get, apk, dnf/yum/microdnf, conda/mamba/micromamba; `uv python install`; `pyenv install`); or a
   RUN, the ENTRYPOINT or the CMD runs a Python program (python, pip, gunicorn, uvicorn, celery, …).
2. **It is an app image**, not a base image: it copies application code from the build context (`.`, a
   folder, a `.py` file or a Python project manifest — requirements*.txt, pyproject.toml, setup.py,
   Pipfile, poetry.lock, uv.lock, environment.yml — directly, or through `COPY --from` a stage of the
   file that did), or its command starts a Python server or program (gunicorn, uvicorn, celery, …,
   `python app.py`, `python -m pkg`, `uv run …`). Excluded whatever the above says: a final stage with
   ONBUILD triggers (a base for others), a command that is a bare shell or REPL (`python3`, `bash`: the
   docker-library images), and development containers (a devcontainers base image, or a file under a
   `.devcontainer` folder).
3. **It runs as root before dfix**: the last USER of the final stage's chain is `root`/`0` (any group), or
   there is none and the table does not give the base a non-root default user (jovyan, nonroot, …). A USER
   naming a variable counts as non-root (the author chose a user; only the build knows which).

Production Python = 1 and 2. Then dfix runs once over all the folders, as a user runs it (`python -m dfix
--format json DIR...`, default fixes, each file's folder its build context), and each production Python
root stage is **fixed** (DF302 applied, and the rewrite, the diff applied to the original, has a non-root
final user by rule 3) or **left** (DF302 reported, with its reason). Anything else (DF302 neither applied
nor reported, or applied yet the rewrite still runs as root) is listed as a discrepancy.
"""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dfix import base_images  # noqa: E402
from dfix.syntax import tokenize  # noqa: E402

DEFAULT_DIRS = (ROOT / "fixtures" / "realworld", ROOT / "tests" / "apps", Path("/work/shared/examples"))

_ROOT_USER = re.compile(r"^(root|0)(:.*)?$")
_PYTHON_PROGRAM = re.compile(r"^(python|pypy|pip)(\d+(\.\d+)?)?$")
_PYTHON_SERVERS = frozenset({
    "gunicorn", "uvicorn", "hypercorn", "daphne", "granian", "uwsgi", "celery", "streamlit", "flask", "fastapi",
    "waitress-serve", "jupyter", "jupyterhub", "jupyter-lab", "voila", "panel", "gradio", "django-admin",
    "dramatiq", "rq", "huey_consumer", "chainlit", "mlflow", "airflow", "superset", "locust", "scrapy",
})
_PYTHON_TOOLS = frozenset({"poetry", "pipenv", "uv", "pdm", "hatch", "conda", "mamba", "micromamba", "pyenv", "pipx"})
_RUNNERS = frozenset({"uv", "poetry", "pipenv", "pdm", "hatch", "conda", "mamba", "micromamba"})  # `X run prog`
_PYTHON_PACKAGE = re.compile(r"^(python|pypy)(\d+(\.\d+)*)?([-=<>].*)?$")
_INSTALLERS = {"apt-get": "install", "apt": "install", "apk": "add", "dnf": "install", "yum": "install",
               "microdnf": "install", "conda": "install", "mamba": "install", "micromamba": "install"}
_SHELLS_AND_REPLS = frozenset({"sh", "bash", "zsh", "ash", "dash", "python", "python2", "python3", "ipython", "pypy",
                               "pypy3"})
_MANIFESTS = re.compile(r"^(requirements.*\.(txt|in)|pyproject\.toml|setup\.(py|cfg)|Pipfile(\.lock)?|poetry\.lock|"
                        r"uv\.lock|pdm\.lock|environment\.ya?ml|conda-lock\.yml|manage\.py)$")
_DEVCONTAINER_BASE = re.compile(r"(^|/)(devcontainers|vscode/devcontainers)(/|$)")


def dockerfiles(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and (
        p.name == "Dockerfile" or p.name.startswith("Dockerfile.") or p.name.endswith(".Dockerfile")))


def _argv(ins) -> list[str]:
    if ins is None:
        return []
    return list(ins.json_args) if ins.is_json else ins.args.split()


def command_of(chain) -> list[str]:
    """ENTRYPOINT + CMD in force at the end of the chain (a later ENTRYPOINT resets an inherited CMD)."""
    entry = cmd = None
    for link in chain:
        for ins in link.body:
            if ins.keyword == "ENTRYPOINT":
                entry, cmd = ins, None
            elif ins.keyword == "CMD":
                cmd = ins
    return _argv(entry) + _argv(cmd)


def _programs(words: list[str]) -> list[list[str]]:
    """The simple commands a CMD/ENTRYPOINT runs, roughly: `sh -c "a && b"` is a and b."""
    if len(words) >= 3 and posixpath.basename(words[0]) in ("sh", "bash", "ash", "dash") and words[1].startswith("-"):
        text = " ".join(words[2:])
        return [part.split() for part in re.split(r"&&|\|\||;|\|", text) if part.split()]
    return [words] if words else []


def _is_python_command(argv: list[str]) -> bool:
    argv = [w for w in argv if not re.match(r"^\w+=", w)]  # VAR=value prefixes
    while argv and posixpath.basename(argv[0]) in ("exec", "tini", "dumb-init", "--", "env"):
        argv = argv[1:]
    if not argv:
        return False
    name = posixpath.basename(argv[0])
    return bool(_PYTHON_PROGRAM.match(name)) or name in _PYTHON_SERVERS or name in _PYTHON_TOOLS or name.endswith(".py")


def _starts_python_app(argv: list[str]) -> bool:
    """A Python server, or a Python program with something to run (not the bare REPL)."""
    argv = [w for w in argv if not re.match(r"^\w+=", w)]
    while argv and posixpath.basename(argv[0]) in ("exec", "tini", "dumb-init", "--", "env"):
        argv = argv[1:]
    if not argv:
        return False
    name = posixpath.basename(argv[0])
    if name in _RUNNERS and len(argv) > 2 and argv[1] == "run":
        return _starts_python_app(argv[2:]) or not argv[2].startswith("-")
    if name in _PYTHON_SERVERS or name.endswith(".py"):
        return True
    if _PYTHON_PROGRAM.match(name) and not name.startswith("pip"):
        rest = [w for w in argv[1:] if w not in ("-u", "-O", "-B", "-OO")]
        return bool(rest) and (rest[0] == "-m" and len(rest) > 1 and rest[1] not in ("pip", "venv")
                               or not rest[0].startswith("-"))
    return False


def _run_commands(doc, chain):
    """The argv of every RUN command the stages run, a word the shell computes as `$?`."""
    for command in base_images._run_commands(doc, chain):
        yield [w if w is not None else "$?" for w in command.argv]


def _installs_python(argv: list[str]) -> bool:
    if not argv:
        return False
    name = posixpath.basename(argv[0])
    if name in ("uv",) and argv[1:3] == ["python", "install"]:
        return True
    if name == "pyenv" and argv[1:2] == ["install"]:
        return True
    sub = _INSTALLERS.get(name)
    return sub is not None and sub in argv[1:3] and any(_PYTHON_PACKAGE.match(w) for w in argv[2:])


def _copies_code(doc, stage, seen=None) -> bool:
    """The chain of ``stage`` copies application code from the context (or from a stage that did)."""
    seen = seen if seen is not None else set()
    if stage.index in seen:
        return False
    seen.add(stage.index)
    by_name = {s.name.lower(): s for s in doc.stages if s.name}
    for link in doc.stage_chain(stage):
        for ins in link.body:
            if ins.keyword not in ("COPY", "ADD") or ins.heredocs:
                continue
            source_stage = ins.flag("from")
            if source_stage is not None:
                value = (source_stage.value or "").lower()
                other = by_name.get(value) or (doc.stages[int(value)] if value.isdigit() and int(value) < len(doc.stages) else None)
                if other is not None and _copies_code(doc, other, seen):
                    return True
                continue
            args = ins.json_args if ins.is_json else [w for w, _, _ in ins.words]
            for source in args[:-1]:
                if "://" in source or source.startswith("git@"):
                    continue
                base = posixpath.basename(source.rstrip("/"))
                if (source in (".", "./") or source.endswith("/") or "." not in base or base.endswith(".py")
                        or _MANIFESTS.match(base) or "*" in base and ".py" in base):
                    return True
    return False


def _last_user(chain) -> str | None:
    users = [i.args.strip() for link in chain for i in link.body if i.keyword == "USER"]
    return users[-1] if users else None


def runs_as_root(doc) -> bool:
    stage = doc.final_stage
    chain = doc.stage_chain(stage)
    user = _last_user(chain)
    if user is None:
        return not base_images.stage_facts(doc, chain).non_root
    return bool(_ROOT_USER.match(user))


def classify(path: Path, text: str) -> dict:
    """The facts of the file's final stage that decide whether it is a production Python image."""
    doc = tokenize(text)
    stage = doc.final_stage
    if stage is None:
        return {"python": False, "app": False, "root": False, "why": "no stage"}
    chain = doc.stage_chain(stage)
    facts = base_images.stage_facts(doc, chain)
    runs = list(_run_commands(doc, chain))
    command = command_of(chain)
    programs = _programs(command)
    python_why = (f"base {facts.image} (table row {facts.row}: python)" if facts.python else
                  "installs Python" if any(_installs_python(a) for a in runs) else
                  "runs Python" if any(_is_python_command(a) for a in runs + programs) else None)
    not_app = None
    if any(i.keyword == "ONBUILD" for i in stage.body):
        not_app = "ONBUILD base"
    elif _DEVCONTAINER_BASE.search(facts.image) or ".devcontainer" in path.parts:
        not_app = "development container"
    elif len(command) == 1 and posixpath.basename(command[0]) in _SHELLS_AND_REPLS:
        not_app = f"bare {command[0]}: a base image"
    app_why = None
    if not_app is None:
        if _copies_code(doc, stage):
            app_why = "copies app code"
        elif any(_starts_python_app(p) for p in programs):
            app_why = "starts a Python app"
    return {"python": python_why is not None, "app": app_why is not None, "root": runs_as_root(doc),
            "why": "; ".join(x for x in (python_why or "no Python", app_why or not_app or "no app code, no app command") if x)}


def apply_unified_diff(original: str, diff: str) -> str:
    """The rewrite dfix printed as a unified diff, applied to the original (lines keep their own endings)."""
    old = original.splitlines(keepends=True)
    lines = diff.split("\n")
    out: list[str] = []
    at = 0
    k = 0
    while k < len(lines) and not lines[k].startswith("@@"):
        k += 1
    while k < len(lines):
        match = re.match(r"@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@", lines[k])
        if not match:
            k += 1
            continue
        start = int(match.group(1)) - (0 if match.group(2) == "0" else 1)
        out.extend(old[at:start])
        at = start
        k += 1
        pending: list[str] = []
        while k < len(lines) and not lines[k].startswith("@@"):
            line = lines[k]
            if line.startswith("\\"):  # "\ No newline at end of file": the previous line has no newline
                if pending:
                    pending[-1] = pending[-1].removesuffix("\n")
            elif line.startswith((" ", "-")):
                out.extend(pending)
                pending = []
                if line.startswith(" "):
                    out.append(old[at])
                at += 1
            elif line.startswith("+"):
                out.extend(pending)
                pending = [line[1:] + "\n"]
            k += 1
        out.extend(pending)
    out.extend(old[at:])
    return "".join(out)


README_HEADING = "### DF302: why a final stage is left running as root"


def documented_reasons() -> list[str]:
    """The reasons README's DF302 section lists (first cell of each row, `…` for what varies), and the
    guard's reasons of its last paragraph."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.split(r"\n#{2,3} ", text.split(README_HEADING, 1)[1], maxsplit=1)[0]
    rows = [re.match(r"\| (`+) ?(.*?) ?\1 \|", line) for line in section.splitlines() if line.startswith("| `")]
    guard = re.findall(r"`([^`]+)`", section.split("As for every rule", 1)[-1])
    return [row.group(2) for row in rows if row] + guard


def documented_reason(reason: str, documented: list[str]) -> str:
    """The documented reason ``reason`` is an instance of, or "UNDOCUMENTED: reason"."""
    for candidate in documented:
        pattern = ".*?".join(re.escape(part) for part in candidate.split("…"))
        if re.fullmatch(pattern, reason, re.DOTALL):
            return candidate
    return f"UNDOCUMENTED: {reason}"


def run_dfix(folders: list[Path]) -> dict[str, dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "dfix", "--format", "json", *map(str, folders)],
                          capture_output=True, text=True, env=env, check=False)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"dfix failed ({proc.returncode}): {proc.stderr.strip()}")
    return {str(Path(f["path"]).resolve()): f for f in json.loads(proc.stdout)["files"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="*", type=Path)
    parser.add_argument("--classify", action="store_true", help="print every file's classification")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args()
    folders = args.dirs or [d for d in DEFAULT_DIRS if d.is_dir()]
    paths = [p for folder in folders for p in dockerfiles(folder)]
    results = run_dfix(folders)
    counts = Counter()
    left: list[tuple[str, str]] = []
    odd: list[str] = []
    rows = []
    for path in paths:
        try:
            text = path.read_bytes().decode("utf-8-sig")
            facts = classify(path, text)
        except ValueError as error:  # not UTF-8, or a file dfix's parser refuses: not counted
            rows.append((path, "unreadable", str(error)))
            continue
        production = facts["python"] and facts["app"]
        kind = ("production Python, root" if production and facts["root"] else
                "production Python, non-root" if production else "other")
        rows.append((path, kind, facts["why"]))
        counts["files"] += 1
        counts["production Python"] += production
        if not (production and facts["root"]):
            continue
        counts["root"] += 1
        result = results.get(str(path.resolve()), {})
        applied = any(r["code"] == "DF302" for r in result.get("applied", []))
        reported = [r for r in result.get("reported", []) if r["code"] == "DF302"]
        if applied:
            after = apply_unified_diff(text, result.get("diff") or "")
            if classify(path, after)["root"]:
                odd.append(f"{path}: DF302 applied, yet the rewrite still runs as root")
            else:
                counts["fixed"] += 1
        elif reported:
            counts["left"] += 1
            left.append((str(path), reported[0].get("reason") or reported[0]["message"]))
        else:
            odd.append(f"{path}: runs as root, DF302 neither applied nor reported")
    if args.classify and not args.json:
        for path, kind, why in rows:
            print(f"{kind:28} {path}  [{why}]")
        print()
    documented = documented_reasons()
    per_reason = Counter(documented_reason(reason, documented) for _, reason in left)
    odd += [f"{path}: DF302's reason is not in README's list: {reason}" for path, reason in left
            if documented_reason(reason, documented).startswith("UNDOCUMENTED")]
    share = 100 * counts["left"] / counts["root"] if counts["root"] else 0.0
    if args.json:
        out = {**counts, "left_percent": round(share, 1), "per_reason": dict(per_reason), "left_files": dict(left),
               "discrepancies": odd}
        if args.classify:
            out["classified"] = {str(path): {"kind": kind, "why": why} for path, kind, why in rows}
        print(json.dumps(out, indent=1, ensure_ascii=False))
        return 1 if odd else 0
    print(f"{'Dockerfiles':40} {counts['files']:4}")
    print(f"{'production Python final stages':40} {counts['production Python']:4}")
    print(f"{'  running as root before dfix':40} {counts['root']:4}")
    print(f"{'  fixed (non-root after)':40} {counts['fixed']:4}")
    print(f"{'  left (DF302 reported)':40} {counts['left']:4}   {share:.1f}% left")
    print("\nleft, per reason:")
    for reason, n in per_reason.most_common():
        print(f"  {n:3}  {reason}")
    print("\nleft, per file:")
    for path, reason in left:
        print(f"  {path}\n      {reason}")
    for line in odd:
        print(f"DISCREPANCY: {line}")
    return 1 if odd else 0


if __name__ == "__main__":
    raise SystemExit(main())
