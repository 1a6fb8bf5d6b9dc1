"""Registry-scale benchmarks: wall time and peak memory of ``outcomes`` at 10k to 1M patients.

Run ``make bench`` (or ``.venv/bin/python benchmarks/run.py --help``). The script

1. makes synthetic exports with ``outcomes sample`` (CSV and Parquet), cached in
   ``benchmarks/cache/`` and keyed by size, seed, format and the hash of ``sample.py``;
2. runs ``analyze`` once on the bundled sample with bytecode writing allowed, so that the
   timed processes import the package's compiled ``.pyc`` files as an installed package does,
   even where ``PYTHONDONTWRITEBYTECODE`` is set (see :func:`write_bytecode`);
3. times each step as a whole process, as a user runs it (interpreter start-up and imports
   count), one process per measurement, repeated ``--repeat`` times; wall time is the minimum
   over the repeats (the machine is shared), peak memory the maximum (the child's max RSS, from
   ``os.wait4``);
4. prints a table, writes ``benchmarks/results.json`` and checks the targets of issues 5 and 13,
   printing PASS/FAIL per target.

The steps measured:

``read``      the floor: a ``python -c`` script that reads the four files with pandas
              (``engine="pyarrow"`` for CSV, ``pd.read_parquet``) and nothing else;
``validate``  ``outcomes validate DATA --json`` (load + validate);
``analyze``   ``outcomes analyze DATA --no-model --json FILE`` (load + validate + analyze);
``model``     ``outcomes analyze DATA --json FILE`` with the mixed model, at 100k CSV; the
              model's cost is reported as (analyze with model) - (analyze --no-model);
``help``      ``outcomes --help`` (start-up), beside ``python -c pass`` for reference;
``report``    ``benchmarks/report_time.py`` when present, else
              ``outcomes report data/sample --quarter 2026Q3 --out <tmp>``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / "cache"
SAMPLE_PY = ROOT / "src" / "outcomes" / "sample.py"
TABLES = ("patients", "sessions", "measurements", "adverse_events")
MODEL_SIZE = 100_000
GB = 1024**3

# The floor: read the four files with pandas and nothing else. argv: format, then the files.
READ_SCRIPT = (
    "import sys, pandas as pd\n"
    "fmt, paths = sys.argv[1], sys.argv[2:]\n"
    "for p in paths:\n"
    "    pd.read_csv(p, engine='pyarrow') if fmt == 'csv' else pd.read_parquet(p)\n"
)


@dataclass
class Measurement:
    """One step at one size and format, over its repeats."""

    step: str
    size: int | None
    fmt: str | None
    command: list[str]
    wall_s: list[float] = field(default_factory=list)
    peak_rss_mb: list[float] = field(default_factory=list)
    error: str | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def wall_min(self) -> float | None:
        return min(self.wall_s) if self.wall_s else None

    @property
    def rss_max(self) -> float | None:
        return max(self.peak_rss_mb) if self.peak_rss_mb else None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["wall_s_min"] = self.wall_min
        d["peak_rss_mb_max"] = self.rss_max
        d["us_per_patient"] = (self.wall_min / self.size * 1e6
                               if self.wall_min is not None and self.size else None)
        return d


def run_timed(cmd: list[str], *, timeout: float, stdout_path: Path | None = None,
              cwd: Path = ROOT) -> tuple[float, float, int, str]:
    """Run ``cmd`` as one child process.

    Returns
    -------
    wall_s : float
        Wall time, seconds, from spawn to reap.
    peak_rss_mb : float
        The child's maximum resident set size, MiB (``ru_maxrss`` from ``os.wait4``: that
        child, or the largest of its own waited-for children, whichever is larger).
    returncode : int
    stderr_tail : str
        The last 2,000 characters of stderr (for error messages).
    """
    with tempfile.TemporaryFile() as err, \
            (open(stdout_path, "wb") if stdout_path else open(os.devnull, "wb")) as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd)
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.002)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)  # stop Popen reaping it again
        err.seek(0)
        tail = err.read().decode(errors="replace")[-2000:]
    return wall, usage.ru_maxrss / 1024, proc.returncode, tail


def sample_hash() -> str:
    """First 12 hex digits of the SHA-256 of ``sample.py`` ("none" if it is absent)."""
    if not SAMPLE_PY.exists():
        return "none"
    return hashlib.sha256(SAMPLE_PY.read_bytes()).hexdigest()[:12]


def table_files(folder: Path, fmt: str) -> list[Path]:
    """The export's table files that exist, in contract order."""
    return [folder / f"{t}.{fmt}" for t in TABLES if (folder / f"{t}.{fmt}").exists()]


def ensure_export(outcomes: list[str], size: int, fmt: str, seed: int,
                  timeout: float) -> tuple[Path, dict]:
    """Return the cached export folder for (size, seed, fmt, sample.py hash); make it if needed."""
    key = f"{fmt}-{size}-seed{seed}-{sample_hash()}"
    folder = CACHE / key
    info: dict = {"size": size, "format": fmt, "seed": seed, "path": str(folder.relative_to(ROOT)),
                  "cached": folder.exists()}
    if not folder.exists():
        # drop stale exports of the same size/format/seed made by an older sample.py
        for old in CACHE.glob(f"{fmt}-{size}-seed{seed}-*"):
            shutil.rmtree(old, ignore_errors=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        tmp = CACHE / f".tmp-{key}"
        shutil.rmtree(tmp, ignore_errors=True)
        cmd = [*outcomes, "sample", "--patients", str(size), "--seed", str(seed),
               "--out", str(tmp), "--format", fmt]
        print(f"  making {key} ...", end=" ", flush=True)
        wall, rss, rc, err = run_timed(cmd, timeout=timeout)
        if rc != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            raise RuntimeError(f"`{' '.join(cmd)}` failed (exit {rc}):\n{err}")
        tmp.rename(folder)
        print(f"{wall:.1f} s, {rss:.0f} MiB")
        info.update(generate_s=round(wall, 2), generate_peak_rss_mb=round(rss, 1))
    files = table_files(folder, fmt)
    info["bytes"] = {f.stem: f.stat().st_size for f in files}
    return folder, info


def outcomes_command() -> list[str]:
    """The ``outcomes`` console script beside this interpreter (as a user runs it)."""
    script = Path(sys.executable).parent / "outcomes"
    return [str(script)] if script.exists() else [sys.executable, "-m", "outcomes.cli"]


def write_bytecode(outcomes: list[str], folder: Path, tmpdir: Path, timeout: float) -> bool:
    """Run ``analyze`` once on a small export with bytecode writing allowed, so that the
    measured runs import the package's compiled ``.pyc`` files, as an installed package does
    (pip compiles them at install time; pandas and numpy, in the floor, are compiled too).

    Without it, ``PYTHONDONTWRITEBYTECODE=1`` (set in some environments, e.g. this project's
    shared machine) makes every measured process compile the package's source again: about
    0.15-0.3 s of every ``outcomes`` run, which no user's installed package pays.
    Returns whether the run succeeded.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cmd = [*outcomes, "analyze", str(folder), "--no-model", "--json",
           str(tmpdir / "bytecode-run.json")]
    try:
        done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def measure(m: Measurement, *, timeout: float, stdout_path: Path | None = None) -> None:
    """Run ``m.command`` once and append its figures, or record the failure.

    A step that fails on its first run is not run again (a missing module, a bad export);
    one that failed on a later run (e.g. a crash under load) keeps its good runs, and the
    failure is listed in ``m.failures``.
    """
    if m.error:
        return
    wall, rss, rc, err = run_timed(m.command, timeout=timeout, stdout_path=stdout_path)
    if rc != 0:
        lines = [ln for ln in err.strip().splitlines() if ln.strip()] or ["(no message)"]
        msg = f"exit {rc}: {lines[-1].strip()[:300]}"
        m.failures.append(msg)
        if not m.wall_s and len(m.failures) == 1 and rc > 0:
            m.error = msg          # fails outright (exit status > 0): do not repeat it
        print(f"FAILED ({msg})", end="")
        return
    m.wall_s.append(round(wall, 3))
    m.peak_rss_mb.append(round(rss, 1))


def find(ms: list[Measurement], step: str, size: int | None = None,
         fmt: str | None = None) -> Measurement | None:
    """The measurement of ``step`` at ``size`` and ``fmt`` (measured or failed), or None."""
    for m in ms:
        if m.step == step and m.size == size and m.fmt == fmt:
            return m
    return None


def paired_ratios(a: Measurement, r: Measurement) -> list[float]:
    """``a``'s run i over ``r``'s run i: both ran in the same round, under the same load."""
    if len(a.wall_s) != len(r.wall_s):  # a run was left out: pair the minima instead
        return [a.wall_min / r.wall_min]
    return [x / y for x, y in zip(a.wall_s, r.wall_s)]


def paired_ratio(a: Measurement, r: Measurement) -> float:
    """The median of :func:`paired_ratios`."""
    return statistics.median(paired_ratios(a, r))


def check_targets(ms: list[Measurement]) -> list[dict]:
    """The targets of issues 5 and 13, each as {target, value, limit, unit, status, detail}.

    PASS/FAIL on the figure; FAIL too when a step it needs failed; SKIP when a step it needs
    was not asked for (``--sizes``, ``--formats``, ``--no-model``, ``--no-report``).
    """
    out: list[dict] = []

    def add(target: str, needs: list[tuple], limit: float, unit: str, value_of, detail_of):
        got = [find(ms, *n) for n in needs]
        missing = [n for n, m in zip(needs, got) if m is None]
        failed = [m for m in got if m is not None and (m.error or not m.wall_s)]
        if missing:
            status, value, detail = "SKIP", None, "not measured: " + ", ".join(
                " ".join(str(x) for x in n if x is not None) for n in missing)
        elif failed:
            status, value, detail = "FAIL", None, "; ".join(
                f"{m.step} {m.size or ''} {m.fmt or ''} failed: {m.error}" for m in failed)
        else:
            value, detail = value_of(*got), detail_of(*got)
            status = "PASS" if value <= limit else "FAIL"
        out.append({"target": target, "value": None if value is None else round(value, 3),
                    "limit": limit, "unit": unit, "status": status, "detail": detail})

    add("analyze --no-model, 100k CSV, within 3x the raw read (median of paired runs)",
        [("analyze", MODEL_SIZE, "csv"), ("read", MODEL_SIZE, "csv")], 3.0, "x raw read",
        paired_ratio,
        lambda a, r: (f"paired ratios {', '.join(f'{x:.2f}' for x in paired_ratios(a, r))}; "
                      f"analyze min {a.wall_min:.2f} s / read min {r.wall_min:.2f} s"))
    for fmt in ("csv", "parquet"):
        add(f"time per patient at 1M within 1.5x that at 100k (analyze, {fmt})",
            [("analyze", 1_000_000, fmt), ("analyze", MODEL_SIZE, fmt)], 1.5,
            "x the per-patient time at 100k",
            lambda a2, a1: (a2.wall_min / a2.size) / (a1.wall_min / a1.size),
            lambda a2, a1: f"{a2.wall_min / a2.size * 1e6:.1f} vs "
                           f"{a1.wall_min / a1.size * 1e6:.1f} us/patient")
    for fmt in ("csv", "parquet"):
        add(f"1M patients within 8 GB peak memory ({fmt})",
            [("validate", 1_000_000, fmt), ("analyze", 1_000_000, fmt)], 8.0, "GiB",
            lambda v, a: max(v.rss_max, a.rss_max) / 1024,
            lambda v, a: f"max RSS: validate {v.rss_max:.0f} MiB, analyze {a.rss_max:.0f} MiB")
    add("mixed model within 60 s at 100k",
        [("model", MODEL_SIZE, "csv"), ("analyze", MODEL_SIZE, "csv")], 60.0, "s",
        lambda mo, a: mo.wall_min - a.wall_min,
        lambda mo, a: f"analyze with model {mo.wall_min:.2f} s - without {a.wall_min:.2f} s")
    add("report on the sample within 30 s", [("report",)], 30.0, "s",
        lambda r: r.wall_min,
        lambda r: "whole process: " + " ".join(Path(c).name if i < 2 else c
                                               for i, c in enumerate(r.command)))
    return out


def print_table(ms: list[Measurement], read_of: dict) -> None:
    head = (f"{'step':<9} {'patients':>9} {'fmt':<7} {'wall s (min)':>12} {'us/patient':>10} "
            f"{'x read':>7} {'peak MiB':>9}  runs")
    print("\n" + head + "\n" + "-" * len(head))
    for m in ms:
        if m.error:
            print(f"{m.step:<9} {m.size or '':>9} {m.fmt or '':<7} {'FAILED':>12}  "
                  f"{m.error[:70]}")
            continue
        if not m.wall_s:
            continue
        upp = f"{m.wall_min / m.size * 1e6:.1f}" if m.size else ""
        r = read_of.get((m.size, m.fmt))
        xr = f"{m.wall_min / r:.2f}" if r and m.step != "read" else ""
        print(f"{m.step:<9} {m.size or '':>9} {m.fmt or '':<7} {m.wall_min:>12.3f} {upp:>10} "
              f"{xr:>7} {m.rss_max:>9.0f}  {len(m.wall_s)}")
    for m in ms:
        if m.failures and m.wall_s:
            print(f"note: {m.step} {m.size or ''} {m.fmt or ''}: {len(m.failures)} run(s) "
                  f"failed and were left out: {m.failures[0]}")


def git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def versions() -> dict:
    code = ("import json, numpy, pandas, pyarrow, scipy, statsmodels; print(json.dumps({m.__name__:"
            " m.__version__ for m in (numpy, pandas, pyarrow, scipy, statsmodels)}))")
    try:
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True)
        return json.loads(res.stdout)
    except (OSError, subprocess.CalledProcessError, ValueError):
        return {}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000,100000,1000000",
                   help="patients per export, comma-separated (default 10000,100000,1000000)")
    p.add_argument("--formats", default="csv,parquet", help="csv,parquet (default both)")
    p.add_argument("--repeat", type=int, default=3,
                   help="runs per measurement; wall time is the minimum, memory the maximum "
                        "(default 3)")
    p.add_argument("--seed", type=int, default=2026, help="sample seed (default 2026)")
    p.add_argument("--cutoff", metavar="YYYY-MM-DD",
                   help="passed to analyze (default: none, i.e. today, as a user runs it)")
    p.add_argument("--no-model", action="store_true", help="skip the mixed-model measurement")
    p.add_argument("--no-report", action="store_true", help="skip the report measurement")
    p.add_argument("--timeout", type=float, default=3600, help="per process, seconds")
    p.add_argument("--outcomes", metavar="CMD",
                   help="the outcomes command to measure, e.g. another checkout's "
                        ".venv/bin/outcomes for a before/after comparison (default: the one "
                        "beside this python)")
    p.add_argument("--out", default=str(HERE / "results.json"),
                   help="results file (default benchmarks/results.json)")
    args = p.parse_args(argv)
    args.sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    args.formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    bad = set(args.formats) - {"csv", "parquet"}
    if bad:
        p.error(f"unknown format(s) {sorted(bad)}: use csv and/or parquet")
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    outcomes = args.outcomes.split() if args.outcomes else outcomes_command()
    started = dt.datetime.now(dt.UTC)
    load_start = os.getloadavg()
    tmpdir = Path(tempfile.mkdtemp(prefix="outcomes-bench-"))
    cutoff = ["--cutoff", args.cutoff] if args.cutoff else []
    print(f"outcomes benchmarks: sizes {args.sizes}, formats {args.formats}, "
          f"repeat {args.repeat}, {os.cpu_count()} CPUs, load average {load_start[0]:.2f}")

    print("exports (benchmarks/cache/):")
    exports, folders = [], {}
    for size in args.sizes:
        for fmt in args.formats:
            # always this checkout's generator: the cache key is this checkout's sample.py
            folders[size, fmt], info = ensure_export(outcomes_command(), size, fmt, args.seed,
                                                     args.timeout)
            exports.append(info)

    small = ROOT / "data" / "sample"
    small = small if small.is_dir() else folders[min(folders)]
    bytecode = write_bytecode(outcomes, small, tmpdir, args.timeout)
    print(f"bytecode: {'written' if bytecode else 'NOT written (the run failed)'} by one "
          f"analyze of {small.name} before the measured runs (as pip install compiles it)")

    ms: list[Measurement] = [
        Measurement("startup", None, None, [sys.executable, "-c", "pass"]),
        Measurement("help", None, None, [*outcomes, "--help"]),
    ]
    for size in args.sizes:
        for fmt in args.formats:
            d = str(folders[size, fmt])
            files = [str(f) for f in table_files(folders[size, fmt], fmt)]
            ms.append(Measurement("read", size, fmt, [sys.executable, "-c", READ_SCRIPT, fmt,
                                                      *files]))
            ms.append(Measurement("validate", size, fmt, [*outcomes, "validate", d, "--json"]))
            ms.append(Measurement("analyze", size, fmt,
                                  [*outcomes, "analyze", d, "--no-model", *cutoff,
                                   "--json", str(tmpdir / f"analysis-{size}-{fmt}.json")]))
            if size == MODEL_SIZE and fmt == "csv" and not args.no_model:
                ms.append(Measurement("model", size, fmt,
                                      [*outcomes, "analyze", d, *cutoff,
                                       "--json", str(tmpdir / f"model-{size}-{fmt}.json")]))
    if not args.no_report:
        report_time = HERE / "report_time.py"
        cmd = ([sys.executable, str(report_time)] if report_time.exists() else
               [*outcomes, "report", "data/sample", "--quarter", "2026Q3",
                "--out", str(tmpdir / "report")])
        ms.append(Measurement("report", None, None, cmd))

    # rounds: each repeat runs every measurement once, so that load from other users of the
    # machine spreads over all steps rather than hitting one step's every run
    validate_out: dict = {}
    for rep in range(args.repeat):
        print(f"round {rep + 1}/{args.repeat}")
        for m in ms:
            print(f"  {m.step} {m.size or ''} {m.fmt or ''}".rstrip(), end=" ", flush=True)
            stdout = tmpdir / f"stdout-{m.step}-{m.size}-{m.fmt}"
            measure(m, timeout=args.timeout, stdout_path=stdout)
            if m.wall_s and not m.error:
                print(f"{m.wall_s[-1]:.2f} s {m.peak_rss_mb[-1]:.0f} MiB")
            else:
                print()
            if m.step == "validate" and (m.size, m.fmt) not in validate_out and stdout.exists():
                try:
                    tables = json.loads(stdout.read_text()).get("tables")
                    validate_out[m.size, m.fmt] = tables
                except (ValueError, AttributeError):
                    pass
    for m in ms:
        if not m.wall_s and m.failures and not m.error:
            m.error = m.failures[-1]
    for info in exports:
        info["tables"] = validate_out.get((info["size"], info["format"]))

    read_of = {(m.size, m.fmt): m.wall_min for m in ms if m.step == "read" and m.wall_s}
    print_table(ms, read_of)
    targets = check_targets(ms)
    print("\ntargets (issues 5 and 13):")
    for t in targets:
        print(f"  {t['status']:<4}  {t['target']}: "
              f"{'-' if t['value'] is None else t['value']} (limit {t['limit']} {t['unit']}; "
              f"{t['detail']})")

    results = {
        "generated_utc": started.isoformat(timespec="seconds"),
        "elapsed_s": round((dt.datetime.now(dt.UTC) - started).total_seconds(), 1),
        "git_commit": git_commit(),
        "machine": {"cpus": os.cpu_count(), "memory_gib": round(
            os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GB, 1),
            "platform": platform.platform(), "python": platform.python_version(),
            "load_average_start": round(load_start[0], 2),
            "load_average_end": round(os.getloadavg()[0], 2)},
        "versions": versions(),
        "method": ("each figure is one whole process per run (start-up and imports count); "
                   "wall_s_min is the minimum over the runs, peak_rss_mb_max the maximum of the "
                   "child's max RSS (os.wait4); model cost = analyze with model - analyze "
                   "--no-model at 100k CSV"),
        "repeat": args.repeat, "seed": args.seed, "cutoff": args.cutoff,
        "bytecode_written_before": bytecode,
        "exports": exports,
        "measurements": [m.to_dict() for m in ms],
        "targets": targets,
    }
    out = Path(args.out)
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwrote {out}")
    shutil.rmtree(tmpdir, ignore_errors=True)
    return 1 if any(t["status"] == "FAIL" for t in targets) or any(m.error for m in ms) else 0


if __name__ == "__main__":
    sys.exit(main())
