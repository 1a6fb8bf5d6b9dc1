"""Time to produce the quarterly audit report on the bundled sample (target: under 30 s).

Runs ``outcomes report data/sample --quarter 2026Q3 --out <tmp>`` as a user would (a fresh
process: imports, load, analysis, every notebook in its own kernel, HTML, results.json) and
prints the wall time, with the per-step progress the command prints.

    .venv/bin/python benchmarks/report_time.py [--shareable] [--repeat 3]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 30.0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shareable", action="store_true")
    p.add_argument("--repeat", type=int, default=1)
    args = p.parse_args()
    times = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as out:
            cmd = [sys.executable, "-m", "outcomes.cli", "report", str(ROOT / "data" / "sample"),
                   "--quarter", "2026Q3", "--out", out]
            if args.shareable:
                cmd.append("--shareable")
            start = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            if proc.returncode:
                print(proc.stderr, file=sys.stderr)
                return proc.returncode
            print(proc.stderr.strip())
    best, med = min(times), statistics.median(times)
    verdict = "within" if med < TARGET_S else "OVER"
    print(f"report on the sample ({'shareable' if args.shareable else 'internal'}): "
          f"median {med:.1f} s, best {best:.1f} s over {len(times)} run(s); "
          f"{verdict} the {TARGET_S:.0f} s target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
