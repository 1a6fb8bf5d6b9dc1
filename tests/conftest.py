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
