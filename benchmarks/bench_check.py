"""Time `dfix --check` over N generated Dockerfiles and print files/s.

    python benchmarks/bench_check.py            # 1,000 files, --jobs 2
    python benchmarks/bench_check.py -n 10000 --jobs 2

The files mix what dfix meets in fleets: naive single-stage Python apps (every rule fires), clean
multi-stage builds (nothing to do), heredoc RUNs, CRLF files and Alpine images.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATES = [
    "FROM python:{py}\nMAINTAINER dev{i} <dev{i}@example.com>\nRUN apt-get update\n"
    "RUN apt-get install -y curl {pkg}\nADD . /app\nWORKDIR /app\nRUN pip install -r requirements.txt\n"
    "EXPOSE {port}\nCMD python app.py\n",
    "# syntax=docker/dockerfile:1\nFROM python:{py}-slim AS build\nWORKDIR /src\nCOPY requirements.txt .\n"
    "RUN pip install --no-cache-dir --prefix=/install -r requirements.txt\n\nFROM python:{py}-slim\n"
    "COPY --from=build /install /usr/local\nCOPY . /app\nUSER 10001\nEXPOSE {port}\n"
    'CMD ["gunicorn", "-b", "0.0.0.0:{port}", "app:app"]\n',
    "FROM debian:bookworm-slim\nRUN <<EOF\nset -e\napt-get update\napt-get install -y {pkg}\nEOF\n"
    "COPY <<EOF /etc/motd\nservice {i}\nEOF\nCMD [\"sleep\", \"infinity\"]\n",
    "FROM alpine:3.20\r\nRUN apk update && apk add {pkg} \\\r\n    ca-certificates \\\r\n    # tls\r\n"
    "    openssl\r\nCOPY app /app\r\nENTRYPOINT [\"/app\"]\r\n",
    "FROM node:20-bookworm-slim\nWORKDIR /srv\nCOPY package*.json ./\nRUN npm ci --omit=dev\n"
    "RUN apt-get update && apt-get install -y --no-install-recommends {pkg} \\\n"
    "    && rm -rf /var/lib/apt/lists/*\nCOPY . .\nUSER node\nCMD [\"node\", \"server.js\"]\n",
]
PACKAGES = ["git", "libpq-dev", "gcc", "make", "jq", "unzip", "tini", "procps"]


def generate(root: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    for i in range(count):
        folder = root / f"svc{i:05d}"
        folder.mkdir()
        text = rng.choice(TEMPLATES).format(
            i=i, py=rng.choice(["3.11", "3.12"]), pkg=rng.choice(PACKAGES), port=rng.choice([8000, 8080, 5000])
        )
        (folder / "Dockerfile").write_bytes(text.encode())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--files", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="dfix-bench-"))
    try:
        generate(root, args.files)
        best = None
        for _ in range(args.repeat):
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "dfix", "--check", "--quiet", "--jobs", str(args.jobs), str(root)],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False,
            )
            elapsed = time.perf_counter() - start
            if proc.returncode not in (0, 1):
                print(proc.stderr, file=sys.stderr)
                return 2
            best = elapsed if best is None else min(best, elapsed)
        print(f"dfix --check --jobs {args.jobs}: {args.files} files in {best:.2f} s = {args.files / best:,.0f} files/s "
              f"(best of {args.repeat}, process start included)")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
