"""Protocol adherence and screening deviations, on a hand-built export (counts by construction)."""
from __future__ import annotations

import copy

import pandas as pd
import pytest

from cohort_builder import Rows
from outcomes.cohort import build_cohort
from outcomes.protocol import (DEVIATIONS, protocol_patients, protocol_table, screening_cases,
                               screening_table)

T0 = pd.Timestamp("2024-01-15")
CUTOFF = T0 + pd.Timedelta(days=1000)


@pytest.fixture(scope="module")
def cohort():
    r = Rows()
    # A: year one 60, 120, 120 (edges on schedule); maintenance 136, 135; 4 sessions in year one
    r.add("A", session_days=(0, 60, 180, 300, 436, 571))
    # B: 59 and 121 (just off); 3 sessions in year one
    r.add("B", session_days=(0, 59, 180))
    # C: four 90-day intervals but 5 sessions in year one; maintenance 225 (on), 226 (off)
    r.add("C", session_days=(0, 90, 180, 270, 360, 585, 811))
    # D: first session 100 days before the cut-off: year-one sessions not judged
    r.add("D", t0=CUTOFF - pd.Timedelta(days=100), session_days=(0, 90))
    # screening
    r.add("W1", sex="F", childbearing_potential=True, contraception=False, session_days=(0, 90))
    r.add("W2", sex="F", childbearing_potential=True, contraception=True,
          session_days=(0, 90, 180, 270))
    r.add("H", hypersensitivity_5ari=True, session_days=(0, 90))
    r.add("F0", sex="F", childbearing_potential=False, session_days=(0,))
    tests = {"W1-S1": "negative", "W1-S2": "negative", "W2-S1": "negative",
             "W2-S2": "not_done", "W2-S4": "positive"}
    for s in r.sessions:
        s["pregnancy_test"] = tests.get(s["session_id"])
    return build_cohort(r.export(), cutoff=CUTOFF)


def _sub(cohort, ids):
    """Protocol measures restricted to patients A-D (the screening patients add intervals)."""
    pp = protocol_patients(cohort)
    return protocol_table(cohort, pp.loc[pp["patient_id"].isin(ids)])


def test_protocol_patients(cohort):
    pp = protocol_patients(cohort).set_index("patient_id")
    assert pp.loc["A", ["year_one_sessions", "year_one_intervals", "year_one_on_schedule",
                        "maintenance_intervals", "maintenance_on_schedule"]].tolist() == [
        4, 3, 3, 2, 2]
    assert pp.loc["B", ["year_one_intervals", "year_one_on_schedule"]].tolist() == [2, 0]
    assert pp.loc["C", ["year_one_sessions", "maintenance_on_schedule",
                        "maintenance_intervals"]].tolist() == [5, 1, 2]
    assert bool(pp.loc["A", "year_one_sessions_ok"]) and bool(pp.loc["B", "year_one_sessions_ok"])
    assert not bool(pp.loc["C", "year_one_sessions_ok"])
    assert pd.isna(pp.loc["D", "year_one_sessions_ok"])
    assert pp.loc["A", "median_interval_days"] == 120


def test_protocol_table(cohort):
    t = _sub(cohort, ["A", "B", "C", "D"]).set_index("measure")
    assert t.loc["year_one_intervals_on_schedule", ["k", "n"]].tolist() == [8, 10]
    assert t.loc["year_one_sessions_in_range", ["k", "n"]].tolist() == [2, 3]
    assert t.loc["patients_all_year_one_intervals_on_schedule", ["k", "n"]].tolist() == [3, 4]
    assert t.loc["maintenance_intervals_on_schedule", ["k", "n"]].tolist() == [3, 4]
    assert t.loc["year_one_sessions_in_range", "rate"] == 2 / 3


def test_screening(cohort):
    t = screening_table(cohort).set_index("deviation")
    assert list(t.index) == list(DEVIATIONS)
    assert t.loc["hypersensitivity_5ari"].tolist() == [2, 1]
    assert t.loc["wocbp_without_contraception"].tolist() == [2, 1]
    assert t.loc["positive_pregnancy_test"].tolist() == [1, 1]
    # W2: not_done (S2) and missing (S3); W1's sessions had a negative test; F0 not WOCBP
    assert t.loc["wocbp_no_pregnancy_test"].tolist() == [2, 1]
    cases = screening_cases(cohort)
    assert set(cases.loc[cases["deviation"] == "wocbp_no_pregnancy_test", "session_id"]) == {
        "W2-S2", "W2-S3"}
    assert list(cases.columns) == ["session_id", "patient_id", "session_date", "deviation"]


def test_empty_and_no_warning():
    r = Rows()
    r.add("A", session_days=(0,))
    c = build_cohort(r.export(), cutoff=CUTOFF)
    t = protocol_table(c).set_index("measure")
    assert t.loc["year_one_intervals_on_schedule", "n"] == 0
    assert pd.isna(t.loc["year_one_intervals_on_schedule", "rate"])
    assert (screening_table(c)[["sessions", "patients"]] == 0).all().all()


def test_not_mutated_and_deterministic(cohort):
    before = copy.deepcopy(cohort.sessions)
    a, b = protocol_table(cohort), protocol_table(cohort)
    screening_table(cohort)
    pd.testing.assert_frame_equal(cohort.sessions, before)
    pd.testing.assert_frame_equal(a, b)
