"""Cohort: index date, cut-off, windows, medians of raters, due/assessed and the flow.

Expected values are known by construction (tests/cohort_builder.py), not computed by the code
under test.
"""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from cohort_builder import (REFERENCE_CUTOFF, REFERENCE_DENSITY_ABS_MEAN, REFERENCE_FLOW, Rows,
                            make_export, reference_export, synthetic_export)
from outcomes.cohort import COHORT_COLUMNS, build_cohort, parse_cutoff, severity_group
from outcomes.errors import AnalysisError


@pytest.fixture(scope="module")
def ref():
    return build_cohort(reference_export(), cutoff=REFERENCE_CUTOFF)


def _row(cohort, pid):
    p = cohort.patients
    return p.loc[p["patient_id"] == pid].iloc[0]


def test_flow_matches_construction(ref):
    flow = dict(zip(ref.flow["step"], ref.flow["n"]))
    for step, n in REFERENCE_FLOW.items():
        assert flow[step] == n, step
    assert flow["comparable_assessed_photographic"] == 86
    assert flow["comparable_due_12m"] == 90
    assert flow["minoxidil_not_recorded"] == 5
    assert flow["lost_density"] == flow["due_12m"] - flow["assessed_density"]


def test_columns_and_dtypes(ref):
    p = ref.patients
    assert tuple(p.columns) == COHORT_COLUMNS
    assert isinstance(p.index, pd.RangeIndex)
    assert p["t0"].dtype == "datetime64[ns]"
    assert str(p["gpa_improved"].dtype) == "boolean"
    assert p["practitioner_id"].dtype == pd.StringDtype()
    assert p["treated"].dtype == bool and p["n_sessions"].dtype == "int64"


def test_comparable_reproduces_69_33_of_86(ref):
    p = ref.patients
    comp = p.loc[(p["minoxidil"] == False).fillna(False) & p["gpa_assessed"]]  # noqa: E712
    assert len(comp) == 86
    assert int(comp["gpa_improved"].sum()) == 69
    assert int(comp["gpa_dramatic"].sum()) == 33


@pytest.mark.parametrize("pid, expected", [
    ("C000", 1.0),    # only score on day 270: inside
    ("C001", 1.0),    # only score on day 450: inside
    ("C036", 2.0),    # day 270, marked
    ("C037", 3.0),    # day 450
    ("C069", 0.0),    # day 269 (score 3) outside; day 380 used
    ("C070", -1.0),   # day 451 (score 3) outside; day 350 used
    ("C039", 2.0),    # days 355 and 375 equally close: the earlier
    ("C073", 0.0),    # same tie the other way round
])
def test_window_edges_and_ties(ref, pid, expected):
    row = _row(ref, pid)
    assert row["gpa_assessed"]
    assert row["gpa_12m"] == expected


@pytest.mark.parametrize("pid, expected, improved, dramatic", [
    ("C002", 1.5, True, False),    # raters 1, 2 -> 1.5: a half point is kept
    ("C003", 1.0, True, False),    # raters 0, 1, 1
    ("C038", 2.0, True, True),     # raters 1, 2, 3
    ("C071", 0.5, False, False),   # raters 0, 1 -> 0.5 < 1
    ("C072", 0.0, False, False),   # raters -1, 1, 0, 0
])
def test_median_of_raters(ref, pid, expected, improved, dramatic):
    row = _row(ref, pid)
    assert row["gpa_12m"] == expected
    assert bool(row["gpa_improved"]) is improved and bool(row["gpa_dramatic"]) is dramatic


@pytest.mark.parametrize("pid", ["L0", "L1", "L2"])
def test_scores_only_outside_the_window_are_not_assessed(ref, pid):
    row = _row(ref, pid)
    assert row["due_12m"] and not row["gpa_assessed"]
    assert np.isnan(row["gpa_12m"]) and pd.isna(row["gpa_improved"])


def test_not_due_is_not_assessed_even_with_a_score(ref):
    row = _row(ref, "D0")
    assert row["treated"] and not row["due_12m"] and not row["gpa_assessed"]


def test_session_after_cutoff_is_not_treatment(ref):
    row = _row(ref, "U2")
    assert not row["treated"] and row["n_sessions"] == 0 and pd.isna(row["t0"])


@pytest.mark.parametrize("pid, rel, assessed", [
    ("C000", 0.30, True),    # baseline 30 days before t0: inside
    ("C010", 0.10, True),    # exactly +10 %
    ("C020", np.nan, False),  # baseline 31 days before t0: outside
    ("C025", 0.10, True),    # two sites +20 % and 0 %: mean
    ("C040", 0.25, True),    # latest baseline (day -1) used
])
def test_density_baseline_edges(ref, pid, rel, assessed):
    row = _row(ref, pid)
    assert row["density_assessed"] is assessed or bool(row["density_assessed"]) == assessed
    np.testing.assert_allclose(row["density_rel_change"], rel, rtol=1e-12, equal_nan=True)


def test_density_thresholds_inclusive(ref):
    assert bool(_row(ref, "C010")["density_improved"])       # 0.10 >= 0.10
    assert not bool(_row(ref, "C010")["density_dramatic"])
    assert bool(_row(ref, "C040")["density_dramatic"])       # 0.25 >= 0.25
    p = ref.patients
    assert int(p["density_improved"].sum()) == 27 and int(p["density_dramatic"].sum()) == 12
    np.testing.assert_allclose(p["density_abs_change"].mean(), REFERENCE_DENSITY_ABS_MEAN,
                               rtol=1e-12)


def test_session_numbers_and_days(ref):
    s = ref.sessions
    c0 = s.loc[s["patient_id"] == "C000"]
    assert c0["session_number"].tolist() == [1, 2, 3, 4, 5]
    assert c0["day"].tolist() == [0, 90, 180, 270, 450]


def test_rows_after_cutoff_are_counted_and_left_out():
    r = Rows()
    r.add("A", session_days=(0, 90, 400), gpa=[(365, 2)])
    r.adverse_events.append({"event_id": "E1", "patient_id": "A", "session_id": "A-S3",
                             "onset_date": "2025-02-20", "term": "headache"})
    cut = pd.Timestamp("2024-01-15") + pd.Timedelta(days=200)
    c = build_cohort(r.export(), cutoff=cut)
    flow = dict(zip(c.flow["step"], c.flow["n"]))
    assert flow["excluded_after_cutoff_sessions"] == 1
    assert flow["excluded_after_cutoff_measurements"] == 1
    assert flow["excluded_after_cutoff_adverse_events"] == 1
    assert len(c.sessions) == 2 and len(c.measurements) == 0 and len(c.adverse_events) == 0


def test_due_boundary_is_inclusive():
    r = Rows()
    r.add("A", gpa=[(365, 1)])
    t0 = pd.Timestamp("2024-01-15")
    assert bool(build_cohort(r.export(), cutoff=t0 + pd.Timedelta(days=450))
                .patients["due_12m"].iloc[0])
    assert not bool(build_cohort(r.export(), cutoff=t0 + pd.Timedelta(days=449))
                    .patients["due_12m"].iloc[0])


def test_cutoff_before_any_session_raises():
    r = Rows()
    r.add("A")
    with pytest.raises(AnalysisError, match="choose a later --cutoff"):
        build_cohort(r.export(), cutoff="2020-01-01")


def test_empty_measurements_and_events():
    r = Rows()
    r.add("A")
    c = build_cohort(r.export(), cutoff=REFERENCE_CUTOFF)
    assert not c.patients["gpa_assessed"].any() and not c.patients["density_assessed"].any()


def test_bad_cutoff_raises():
    with pytest.raises(AnalysisError, match="YYYY-MM-DD"):
        parse_cutoff("last tuesday")
    assert parse_cutoff("2026-03-31 13:00") == pd.Timestamp("2026-03-31")


def test_input_not_mutated_and_deterministic():
    export = reference_export()
    before = copy.deepcopy(export)
    a = build_cohort(export, cutoff=REFERENCE_CUTOFF)
    b = build_cohort(export, cutoff=REFERENCE_CUTOFF)
    for name in ("patients", "sessions", "measurements", "adverse_events"):
        pd.testing.assert_frame_equal(getattr(export, name), getattr(before, name))
    pd.testing.assert_frame_equal(a.patients, b.patients)
    pd.testing.assert_frame_equal(a.flow, b.flow)


def test_row_order_does_not_change_the_numbers():
    export = reference_export()
    shuffled = make_export(export.patients.sample(frac=1, random_state=1),
                           export.sessions.sample(frac=1, random_state=2),
                           export.measurements.sample(frac=1, random_state=3))
    a = build_cohort(export, cutoff=REFERENCE_CUTOFF).patients
    b = build_cohort(shuffled, cutoff=REFERENCE_CUTOFF).patients
    b = b.set_index("patient_id").loc[a["patient_id"]].reset_index()
    pd.testing.assert_frame_equal(a, b)


def test_severity_group():
    scale = pd.Series(["Norwood-Hamilton", "Norwood-Hamilton", "Norwood-Hamilton", "Ludwig",
                       "Sinclair", "Olsen", None, "Ludwig"], dtype="string")
    grade = pd.Series(["IIIv", "VI", "II", "I-2", "3", None, "II", "x"], dtype="string")
    assert severity_group(scale, grade).tolist() == [
        "Norwood-Hamilton moderate", "Norwood-Hamilton severe", "Norwood-Hamilton mild",
        "Ludwig mild", "Sinclair moderate", "Olsen", "not recorded", "Ludwig grade not read"]


def test_age_bands(ref):
    r = Rows()
    for i, age in enumerate([18, 29, 30, 59, 60, 100]):
        r.add(f"A{i}", age=age)
    bands = build_cohort(r.export(), cutoff=REFERENCE_CUTOFF).patients["age_band"].tolist()
    assert bands == ["18-29", "18-29", "30-39", "50-59", "60-100", "60-100"]


def test_cohort_of_20k_patients():
    # speed is measured by benchmarks/run.py (make bench), not by a timed test
    export = synthetic_export(20_000)
    c = build_cohort(export, cutoff="2026-06-30")
    assert c.patients["treated"].all() and len(c.patients) == 20_000


# ---- property: the vectorised cohort agrees with a plain, loop-based reading of the rules ----
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_gpa = st.tuples(st.integers(250, 470), st.integers(-3, 3), st.sampled_from(["R1", "R2"]))
_dens = st.tuples(st.integers(-45, 470), st.floats(20, 300, allow_nan=False),
                  st.sampled_from(["vertex", "frontal"]))
_patient = st.tuples(st.lists(_gpa, max_size=5), st.lists(_dens, max_size=6))


def _expected_gpa(visits):
    """The definitions read literally (outcome-definitions.md), one patient at a time."""
    inside = [(day, s) for day, s, _ in visits if 270 <= day <= 450]
    if not inside:
        return np.nan
    day = min({d for d, _ in inside}, key=lambda d: (abs(d - 365), d))
    return float(np.median([s for d, s in inside if d == day]))


def _expected_density(visits):
    changes = []
    for site in ("vertex", "frontal"):
        by_day = {}
        for day, v, s in visits:
            if s == site:
                by_day.setdefault(day, []).append(v)
        base = [d for d in by_day if -30 <= d <= 0]
        late = [d for d in by_day if 270 <= d <= 450]
        if base and late:
            d0 = np.mean(by_day[max(base)])
            d12 = np.mean(by_day[min(late, key=lambda d: (abs(d - 365), d))])
            changes.append((d12 - d0) / d0)
    return float(np.mean(changes)) if changes else np.nan


@settings(max_examples=20, deadline=None)
@given(st.lists(_patient, min_size=1, max_size=12))
def test_property_matches_a_literal_reading(patients):
    r = Rows()
    for i, (gpa, dens) in enumerate(patients):
        r.add(f"P{i}", gpa=gpa, density=dens)
    c = build_cohort(r.export(), cutoff=REFERENCE_CUTOFF).patients
    for i, (gpa, dens) in enumerate(patients):
        row = c.iloc[i]
        np.testing.assert_allclose(row["gpa_12m"], _expected_gpa(gpa), equal_nan=True)
        np.testing.assert_allclose(row["density_rel_change"], _expected_density(dens),
                                   rtol=1e-9, equal_nan=True)
        assert bool(row["gpa_assessed"]) == (not np.isnan(_expected_gpa(gpa)))


def test_exact_threshold_changes_in_decimal_data_are_inclusive():
    # audit defect: (58.3 - 53.0) / 53.0 is 0.0999999... in binary floating point, so a patient
    # whose density rose by exactly 10% (53.0 -> 58.3 hairs/cm²) was "not improved", and one up
    # by exactly 25% (51.2 -> 64.0) "not dramatic", against the definitions' ">= +10%"/">= +25%"
    from outcomes.response import density_sensitivity

    r = Rows()
    r.add("E10", density=[(0, 53.0), (365, 58.3)])
    r.add("E25", density=[(0, 51.2), (365, 64.0)])
    r.add("U10", density=[(0, 53.0), (365, 58.2)])   # +9.8%: below
    c = build_cohort(r.export(), cutoff=REFERENCE_CUTOFF)
    p = c.patients.set_index("patient_id")
    assert p["density_improved"].tolist() == [True, True, False]
    assert p["density_dramatic"].tolist() == [False, True, False]
    s = density_sensitivity(c).set_index("threshold")["k"]
    assert s[0.10] == 2 and s[0.25] == 1          # the sensitivity table agrees with the flags


def test_closest_visit_is_what_a_stable_sort_and_first_per_key_give():
    """cohort._closest (one np.lexsort) against the pandas formulation it replaced: sort by
    the keys, the distance to the target day, then the day (stable), keep the first row per
    key; same rows, order and index, ties included (few days, few keys)."""
    from hypothesis import given
    from hypothesis import strategies as st

    from outcomes.cohort import _closest

    def reference(frame, keys, target):
        ranked = frame.assign(_dist=(frame["day"] - target).abs())
        ranked = ranked.sort_values([*keys, "_dist", "day"], kind="stable")
        return ranked.drop_duplicates(keys, keep="first").drop(columns="_dist")

    row = st.tuples(st.integers(0, 5), st.integers(0, 2), st.integers(355, 375))

    @given(st.lists(row, min_size=1, max_size=40), st.sampled_from([["_pid"], ["_pid", "site"]]))
    def check(rows, keys):
        frame = pd.DataFrame(rows, columns=["_pid", "site", "day"]).astype("int64")
        frame["value"] = np.arange(len(frame), dtype=float)
        frame.index = np.arange(len(frame))[::-1] + 10
        pd.testing.assert_frame_equal(_closest(frame, keys, 365), reference(frame, keys, 365))

    check()
