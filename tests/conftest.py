"""Shared fixtures. Keep small: fixtures that build valid data, used by several test modules."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run (derandomize=True: seeded from each test,
# and no example database), so that a rare example cannot fail one run of the suite at random;
# the number of examples is unchanged (each test's max_examples, else hypothesis' 100).
# HYPOTHESIS_PROFILE=random (or --hypothesis-profile=random) explores new examples instead.
settings.register_profile("deterministic", derandomize=True)
settings.register_profile("random", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))

#: the "today" used by loader tests, so that future-date rules do not depend on the calendar
LOAD_TODAY = dt.date(2026, 6, 1)

#: a tiny valid export (CSV text per table) that every rule accepts
SMALL_EXPORT = {
    "patients": (
        "patient_id,sex,age,baseline_scale,baseline_grade,childbearing_potential,"
        "contraception,minoxidil,hypersensitivity_5ari\n"
        "P1,M,40,Norwood-Hamilton,III,,,yes,no\n"
        "P2,F,35,Ludwig,I-2,yes,yes,no,no\n"
        "P3,F,52,Ludwig,II,no,,,\n"
    ),
    "sessions": (
        "session_id,patient_id,session_date,practitioner_id,volume_ml,concentration_pct,"
        "pregnancy_test\n"
        "S1,P1,2025-01-10,NP-01,1,0.01,\n"
        "S2,P2,2025-01-12,NP-02,1,0.01,negative\n"
        "S3,P3,2025-02-01,NP-01,1.5,0.01,\n"
        "S4,P1,2025-04-10,NP-01,1,0.01,\n"
    ),
    "measurements": (
        "patient_id,measurement_date,session_id,site,density_per_cm2,shaft_diameter_um,"
        "gpa_score,rater_id\n"
        "P1,2025-01-10,S1,vertex,120.5,60.2,,R1\n"
        "P1,2026-01-10,,vertex,135,62,1,R1\n"
        "P2,2025-01-12,S2,,,,0,R2\n"
    ),
    "adverse_events": (
        "event_id,patient_id,session_id,onset_date,term,severity,duration_days,serious\n"
        "E1,P1,S1,2025-01-10,pain at injection site,mild,0,no\n"
        "E2,P2,S2,2025-01-13,Frontal oedema,moderate,2.5,no\n"
    ),
}


def write_export(folder: Path, tables: dict[str, str | bytes], suffix: str = ".csv",
                 encoding: str = "utf-8") -> Path:
    """Write ``{table: text or bytes}`` as ``folder/<table><suffix>``; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in tables.items():
        data = content if isinstance(content, bytes) else content.encode(encoding)
        (folder / f"{name}{suffix}").write_bytes(data)
    return folder


def run_cli(*args, cwd: Path | None = None):
    """``outcomes ARGS`` run in this process through :func:`outcomes.cli.main`, returned as a
    ``subprocess.CompletedProcess`` (exit status, stdout, stderr), without the second or so
    that starting an interpreter costs. The console script itself runs as a process in
    test_cli, test_report and test_api."""
    import contextlib
    import io
    import os
    import subprocess
    import warnings

    from outcomes.cli import main

    out, err = io.StringIO(), io.StringIO()
    argv = [str(a) for a in args]
    here = os.getcwd()
    with warnings.catch_warnings(), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):  # main() sets how warnings print: undone here
        try:
            if cwd is not None:
                os.chdir(cwd)
            status = main(argv)
        except SystemExit as stop:  # argparse's usage errors
            status = stop.code if isinstance(stop.code, int) else 2
        finally:
            os.chdir(here)
    return subprocess.CompletedProcess(["outcomes", *argv], status, out.getvalue(),
                                       err.getvalue())


@pytest.fixture
def small_export(tmp_path) -> Path:
    """A folder holding :data:`SMALL_EXPORT` as four UTF-8 CSV files."""
    return write_export(tmp_path / "export", SMALL_EXPORT)


@pytest.fixture(scope="session")
def sample_tables():
    """A small synthetic export from ``outcomes.sample`` (40 patients, seed 7)."""
    from outcomes.sample import generate_sample

    return generate_sample(patients=40, seed=7)


# --- reports executed once per test session --------------------------------------------------
# Executing the report notebooks is most of the suite's time: each report below is produced
# once and read by every test that needs it (test_report, test_pool, test_pages).

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
SPLIT_CUTOFF = "2026-09-30"


HEAVY_FIXTURES = frozenset({"reports", "pooled_report", "split_root"})


def pytest_itemcollected(item):
    """Tests using a report fixture execute notebooks: they are ``slow`` (``-m "not slow"``
    runs the rest in a few tens of seconds)."""
    if HEAVY_FIXTURES & set(getattr(item, "fixturenames", ())):
        item.add_marker(pytest.mark.slow)


#: the modules that take longest, in that order (CPU of each module's tests and of the processes
#: they start, measured serially on main at a06189a, 09:10 UTC): they run first, so that the two
#: workers of ``make test`` end together instead of one waiting for a long module handed out last
#: (``--dist loadfile --no-loadscope-reorder``: pytest-xdist hands out whole modules in
#: collection order; by default it would order them by number of tests)
LONGEST_FIRST = ("test_report.py", "test_attack.py", "test_loader.py", "test_pool.py",
                 "test_analysis.py", "test_model.py", "test_realistic.py", "test_audit.py",
                 "test_assistant.py", "test_sample.py", "test_meta.py",
                 "test_report_statistics.py", "test_sections.py", "test_template.py",
                 "test_cli.py", "test_pages.py", "test_cohort.py", "test_bounds.py",
                 "test_recognise.py", "test_validate.py", "test_walk_shareable.py",
                 "test_multiplicity.py", "test_imports.py")
# test_report builds the shared reports (two processes); the modules that only read them
# (test_sections, test_walk_shareable, test_pages) come later, when they are built


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest as found


def _build_once(request, tmp_path_factory, name: str, build):
    """``build(folder)`` (returning something JSON can hold) run once per test session, also
    across pytest-xdist workers (``make test`` runs ``-n 2 --dist loadfile``): the first worker
    builds into a folder both share, under a file lock; the other waits and reads it.
    Returns ``(folder, value)``."""
    import json

    if not hasattr(request.config, "workerinput"):  # no xdist: a plain session fixture
        folder = tmp_path_factory.mktemp(name)
        return folder, build(folder)
    try:
        import fcntl
    except ImportError:  # Windows: each worker builds its own
        folder = tmp_path_factory.mktemp(name)
        return folder, build(folder)
    root = tmp_path_factory.getbasetemp().parent / f"shared-{name}"
    done = root.parent / f"shared-{name}.json"
    with open(root.parent / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if done.exists():
                return root, json.loads(done.read_text(encoding="utf-8"))
            root.mkdir(parents=True, exist_ok=True)
            value = build(root)
            done.write_text(json.dumps(value), encoding="utf-8")
            return root, value
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _object_once(request, tmp_path_factory, name: str, build):
    """``build()`` run once per test session, also across pytest-xdist workers, as
    :func:`_build_once`: the worker that builds the object keeps it, the others read a pickled
    copy (made before any test used it) instead of building it again."""
    import pickle

    if not hasattr(request.config, "workerinput"):
        return build()
    made = []

    def store(root: Path) -> None:
        made.append(build())
        (root / "value.pickle").write_bytes(pickle.dumps(made[0], pickle.HIGHEST_PROTOCOL))

    root, _ = _build_once(request, tmp_path_factory, name, store)
    return made[0] if made else pickle.loads((root / "value.pickle").read_bytes())


@pytest.fixture(scope="session")
def sample_context(request, tmp_path_factory):
    """The bundled sample loaded and analysed once (quarter 2026Q3, with the model), as the
    report notebooks' set-up call gives it (:func:`outcomes.reporting.report_context`); built
    by one pytest-xdist worker, read by the other (:func:`_object_once`)."""
    import warnings

    from outcomes.reporting import report_context

    def build():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # OutcomesWarning notes (derived benchmark counts)
            return report_context(quarter="2026Q3")

    return _object_once(request, tmp_path_factory, "sample-context", build)


@pytest.fixture(scope="session")
def reports(request, tmp_path_factory):
    """The sample's internal report (with ``--pdf``), and the shareable report of the sample
    dressed as a real clinic's export (:mod:`dressed_export`: staff names as practitioner ids,
    recognisable pseudonyms, an extra column and file, two broken rows), produced side by side
    by ``outcomes report``, once per session: ``{"internal": (folder, CompletedProcess),
    "shareable": (folder, CompletedProcess), "dressed": the dressed export's folder}``."""
    import subprocess
    import sys

    from dressed_export import write_dressed

    def build(root: Path) -> dict:
        write_dressed(root / "dressed")

        def start(data: Path, out: Path, *extra: str) -> subprocess.Popen:
            return subprocess.Popen([sys.executable, "-m", "outcomes.cli", "report",
                                     str(data), "--quarter", "2026Q3", "--out", str(out),
                                     *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)

        procs = {"internal": start(SAMPLE, root / "internal", "--pdf"),
                 "shareable": start(root / "dressed", root / "shareable", "--shareable")}
        done = {}
        for kind, proc in procs.items():
            stdout, stderr = proc.communicate(timeout=900)
            done[kind] = {"args": proc.args, "returncode": proc.returncode,
                          "stdout": stdout, "stderr": stderr}
        return done

    root, done = _build_once(request, tmp_path_factory, "reports", build)
    out: dict = {kind: (root / kind, subprocess.CompletedProcess(**d))
                 for kind, d in done.items()}
    out["dressed"] = root / "dressed"
    return out


@pytest.fixture(scope="session")
def dressed_context(request, tmp_path_factory, reports):
    """The dressed export's shareable report context, as ``outcomes report --shareable``
    builds it without a clinic key (in-process: the same analysis, rounding and sections);
    built by one pytest-xdist worker, read by the other (:func:`_object_once`)."""
    import warnings

    from outcomes.reporting import report_context

    def build():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # OutcomesWarning notes; the random-codes warning
            return report_context(reports["dressed"], quarter="2026Q3", shareable=True)

    return _object_once(request, tmp_path_factory, "dressed-context", build)


def split_tables() -> dict:
    """The export :func:`split_root` splits: 240 synthetic patients, pseudonyms and
    practitioner ids as a clinic's (:func:`dressed_export.renamed`: ZQX ids, staff names)."""
    from dressed_export import renamed

    from outcomes.sample import generate_sample

    return renamed(generate_sample(240, seed=11, end=SPLIT_CUTOFF))


def _split(root: Path) -> None:
    import numpy as np

    from outcomes.cli import main
    from outcomes.sample import write_export

    tables = split_tables()
    ids = tables["patients"]["patient_id"].to_numpy()
    clinic_of = dict(zip(ids, np.random.default_rng(5).integers(0, 3, len(ids)), strict=True))
    for name, part in [("whole", None), ("clinic_a", 0), ("clinic_b", 1), ("clinic_c", 2)]:
        sub = {t: (df if part is None else
                   df[df["patient_id"].map(clinic_of).to_numpy() == part].reset_index(drop=True))
               for t, df in tables.items()}
        write_export(sub, root / name)
        # the pooling file (exact counts, practitioners coded with the clinic key)
        key = root / "clinic.key"
        key.write_text("a clinic key of 32 random characters")
        assert main(["analyze", str(root / name), "--no-model", "--cutoff", SPLIT_CUTOFF,
                     "--pooling-file", str(root / f"{name}.json"),
                     "--key-file", str(key)]) == 0


@pytest.fixture(scope="session")
def split_root(request, tmp_path_factory):
    """One synthetic export (:func:`split_tables`) split by patient into three clinics; each
    and the whole analysed
    with ``outcomes analyze --no-model --pooling-file`` (one clinic key). Returns the
    folder."""
    def build(root: Path) -> None:
        _split(root)

    return _build_once(request, tmp_path_factory, "split", build)[0]


@pytest.fixture(scope="session")
def pooled_report(request, split_root, tmp_path_factory):
    """``outcomes pool`` of the three clinics of :func:`split_root` with ``--out``: (folder,
    exit status, stderr)."""
    import contextlib
    import io

    from outcomes.cli import main

    def build(root: Path) -> list:
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            status = main(["pool", *(str(split_root / f"clinic_{c}.json") for c in "abc"),
                           "--out", str(root / "out")])
        return [status, err.getvalue()]

    root, (status, stderr) = _build_once(request, tmp_path_factory, "pooled", build)
    return root / "out", status, stderr


# --- the test modules' assertion rewriting, once per run across pytest-xdist workers -----------
# Each worker collects every module, and pytest rewrites each module's asserts (parse, rewrite,
# compile: ~2 s of CPU for the whole suite) before importing it. It would cache the rewritten
# code in __pycache__, but not where PYTHONDONTWRITEBYTECODE is set (CI and this machine), so
# both workers of ``make test`` rewrote all of it. Here workers share it through a folder of the
# run (as :func:`_build_once`): whichever worker comes first rewrites a module, the other reads
# the code; gw0 starts from the first module and the others from the last, so the work splits.
# The code is pytest's own rewriting, byte for byte: failure messages are unchanged.

@pytest.hookimpl(tryfirst=True)
def pytest_collection(session):
    workerinput = getattr(session.config, "workerinput", None)
    if workerinput is None:  # a serial run: nothing to share
        return
    try:
        import fcntl

        from _pytest.assertion import rewrite
    except ImportError:  # Windows: each worker rewrites its own
        return
    own = getattr(rewrite, "_rewrite_test", None)
    if own is None or getattr(own, "shared", False):
        return
    import inspect

    # a private pytest function: shared only while it is the one this was written for
    # (pytest 8: ``_rewrite_test(fn, config) -> (stat, code)``); otherwise each worker rewrites
    if list(inspect.signature(own).parameters) != ["fn", "config"]:
        return
    import marshal
    import zlib

    folder = session.config._tmp_path_factory.getbasetemp().parent / "shared-rewrite"
    folder.mkdir(exist_ok=True)

    def shared(fn: Path, config, *, wait: bool = True):
        stat = fn.stat()
        cached = folder / f"{fn.name}.{zlib.crc32(bytes(fn))}.{stat.st_mtime_ns}.marshal"
        with open(cached.with_suffix(".lock"), "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:  # the other worker is rewriting it
                return None
            if cached.exists():
                return marshal.loads(cached.read_bytes()) if wait else None
            done = own(fn, config)
            try:
                data = marshal.dumps(done)
            except ValueError:  # a pytest whose result marshal cannot hold: not shared
                return done
            part = cached.with_suffix(".part")
            part.write_bytes(data)
            part.replace(cached)
            return done

    shared.shared = True  # type: ignore[attr-defined]
    rewrite._rewrite_test = shared
    # ahead of collection: rewrite the modules no worker has taken yet, in opposite orders (the
    # modules this run collects: all of them, or those named on the command line)
    here = Path(__file__).parent
    named = {Path(session.config.invocation_params.dir, arg.split("::")[0]).resolve()
             for arg in session.config.args}
    modules = sorted(fn for fn in here.glob("test_*.py")
                     if fn in named or any(here.is_relative_to(arg) for arg in named))
    if workerinput.get("workerid") != "gw0":
        modules.reverse()
    for fn in modules:
        shared(fn, session.config, wait=False)
