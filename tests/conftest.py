"""Shared fixtures. Keep small: fixtures that build valid data, used by several test modules."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

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


def pytest_collection_modifyitems(config, items):
    """Tests using a report fixture execute notebooks: they are ``slow`` (``-m "not slow"``
    runs the rest in a few tens of seconds).

    Under pytest-xdist (``make test`` runs ``-n 2 --dist loadgroup``) the tests of one module
    run on one worker (module fixtures are built once), and every test reading the shared
    reports runs on one worker, so that each report is still executed once per session."""
    heavy = {"reports", "pooled_report", "split_root"}
    for item in items:
        if heavy & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.xdist_group("reports"))
        else:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


@pytest.fixture(scope="session")
def sample_context():
    """The bundled sample loaded and analysed once (quarter 2026Q3, with the model), as the
    report notebooks' set-up call gives it (:func:`outcomes.report.report_context`)."""
    import warnings

    from outcomes.report import report_context

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # OutcomesWarning notes (derived benchmark counts)
        return report_context(quarter="2026Q3")


@pytest.fixture(scope="session")
def reports(tmp_path_factory):
    """The sample's internal report (with ``--pdf``) and its shareable report, produced side
    by side by ``outcomes report``: ``{"internal": (folder, CompletedProcess), "shareable":
    ...}``."""
    import subprocess
    import sys

    def start(out: Path, *extra: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "outcomes.cli", "report", str(SAMPLE),
                                 "--quarter", "2026Q3", "--out", str(out), *extra],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    outs = {kind: tmp_path_factory.mktemp(kind) for kind in ("internal", "shareable")}
    procs = {"internal": start(outs["internal"], "--pdf"),
             "shareable": start(outs["shareable"], "--shareable")}
    done = {}
    for kind, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=900)
        done[kind] = (outs[kind], subprocess.CompletedProcess(proc.args, proc.returncode,
                                                              stdout, stderr))
    return done


@pytest.fixture(scope="session")
def split_root(tmp_path_factory):
    """One synthetic export split by patient into three clinics; each and the whole analysed
    with ``outcomes analyze --no-model --pooling-file`` (one clinic key). Returns the folder."""
    import numpy as np

    from outcomes.cli import main
    from outcomes.sample import generate_sample, write_export

    root = tmp_path_factory.mktemp("split")
    tables = generate_sample(240, seed=11, end=SPLIT_CUTOFF)
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
    return root


@pytest.fixture(scope="session")
def pooled_report(split_root, tmp_path_factory):
    """``outcomes pool`` of the three clinics of :func:`split_root` with ``--out``: (folder,
    exit status, stderr)."""
    import contextlib
    import io

    from outcomes.cli import main

    out = tmp_path_factory.mktemp("pooled")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(["pool", *(str(split_root / f"clinic_{c}.json") for c in "abc"),
                       "--out", str(out)])
    return out, status, err.getvalue()
