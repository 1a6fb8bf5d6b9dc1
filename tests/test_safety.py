"""Adverse events: incidence, session rate, benchmarks, timing, duration, sentinel cases.

A small export built by hand; reference p-values and intervals from R 4.2 (call cited).
"""
from __future__ import annotations

import copy

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from cohort_builder import REFERENCE_CUTOFF, Rows
from outcomes.cohort import build_cohort
from outcomes.safety import (AE_COLUMNS, adverse_event_table, ae_duration, ae_timing,
                             event_session_numbers, sentinel_cases)
from outcomes.vocabulary import TERMS

T0 = pd.Timestamp("2024-01-15")


def _event(r, eid, pid, term, day, session=None, **kw):
    r.adverse_events.append({"event_id": eid, "patient_id": pid, "term": term,
                             "term_as_written": term, "session_id": session,
                             "onset_date": T0 + pd.Timedelta(days=day), **kw})


def _export():
    r = Rows()
    for i in range(20):   # 20 treated patients, 4 sessions each (days 0, 90, 180, 270)
        r.add(f"P{i:02d}", session_days=(0, 90, 180, 270) if i else (0, 90, 180, 270, 460))
    r.add("U", session_days=())   # registered, never treated
    for i in range(10):   # pain in 10 patients, one of them twice: 11 events
        _event(r, f"pain{i}", f"P{i:02d}", "injection_site_pain", 0, f"P{i:02d}-S1")
    _event(r, "pain10", "P00", "injection_site_pain", 90, "P00-S2")
    _event(r, "ed1", "P01", "frontal_edema", 1, "P01-S1", duration_days=1.0)
    _event(r, "ed2", "P02", "frontal_edema", 93, None, duration_days=2.0)   # after session 2
    _event(r, "ed3", "P00", "frontal_edema", 462, None, duration_days=3.0)  # after session 5
    _event(r, "ed4", "P03", "frontal_edema", -2, None, duration_days=4.0)   # before any
    _event(r, "scar", "P04", "scarring", 200, "P04-S3", severity="mild")
    _event(r, "head", "P05", "headache", 95, "P05-S2", serious=True)
    _event(r, "ery", "P06", "erythema", 181, "P06-S3", severity="severe", serious=False)
    _event(r, "late", "P07", "erythema", 900, "P07-S4")   # onset after the cut-off
    return r.export()


CUTOFF = T0 + pd.Timedelta(days=800)


@pytest.fixture(scope="module")
def cohort():
    return build_cohort(_export(), cutoff=CUTOFF)


def test_columns_and_rows(cohort):
    t = adverse_event_table(cohort)
    assert tuple(t.columns) == AE_COLUMNS
    assert t["term"].tolist() == list(TERMS) + ["serious"]
    assert (t["n"] == 20).all() and (t["sessions"] == 81).all()


def test_pain_against_246_of_541(cohort):
    row = adverse_event_table(cohort).set_index("term").loc["injection_site_pain"]
    assert (row["k"], row["n"], row["events"]) == (10, 20, 11)
    assert row["session_rate"] == 11 / 81
    assert row["benchmark_id"] == "saceda2022_pain" and row["benchmark_rate"] == 0.45
    # R: prop.test(10, 20, correct = FALSE)$conf.int -> 0.299298008198212 0.700701991801788
    assert_allclose([row["ci_low"], row["ci_high"]], [0.299298008198212, 0.700701991801788],
                    rtol=1e-9)
    # R: binom.test(10, 20, 0.45)$p.value -> 0.660644678101936
    assert_allclose(row["p_value"], 0.660644678101936, rtol=1e-9)
    # R: fisher.test(matrix(c(10, 246, 10, 295), 2))$p.value -> 0.820014132879737
    assert_allclose(row["fisher_p_value"], 0.820014132879737, rtol=1e-9)


def test_serious_and_sexual_against_zero_of_541(cohort):
    t = adverse_event_table(cohort).set_index("term")
    serious = t.loc["serious"]   # scarring (serious by nature) + headache marked serious
    assert (serious["k"], serious["events"]) == (2, 2)
    assert serious["benchmark_id"] == "saceda2022_serious"
    # R: fisher.test(matrix(c(2, 0, 18, 541), 2))$p.value -> 0.00120957473898651
    assert_allclose(serious["fisher_p_value"], 0.00120957473898651, rtol=1e-9)
    # R: prop.test(2, 20, correct = FALSE)$conf.int -> 0.0278664812137682 0.3010336452284872
    assert_allclose([serious["ci_low"], serious["ci_high"]],
                    [0.0278664812137682, 0.3010336452284872], rtol=1e-9)
    sexual = t.loc["sexual_dysfunction"]
    assert (sexual["k"], sexual["benchmark_id"]) == (0, "saceda2022_sexual")
    # R: prop.test(0, 20, correct = FALSE)$conf.int -> 0 0.161125158052819 (not degenerate)
    assert_allclose([sexual["ci_low"], sexual["ci_high"]], [0.0, 0.161125158052819],
                    atol=1e-12)
    # 0/20 vs 0/541: both rates 0, p-values 1
    assert sexual["p_value"] == 1.0 and sexual["fisher_p_value"] == 1.0
    assert pd.isna(t.loc["headache", "benchmark_id"]) and pd.isna(t.loc["headache", "p_value"])


def test_event_after_cutoff_left_out(cohort):
    t = adverse_event_table(cohort).set_index("term")
    assert t.loc["erythema", "events"] == 1


def test_session_numbers(cohort):
    num = event_session_numbers(cohort)
    by_id = dict(zip(cohort.adverse_events["event_id"], num))
    assert by_id["pain10"] == 2 and by_id["ed1"] == 1
    assert by_id["ed2"] == 2          # no session_id: latest session on or before onset
    assert by_id["ed3"] == 5
    assert pd.isna(by_id["ed4"])      # onset before the first session


def test_timing(cohort):
    t = ae_timing(cohort)
    edema = t.loc[t["term"] == "frontal_edema"].set_index("session_number")["events"]
    assert edema.to_dict() == {"1": 1, "2": 1, "3": 0, "4+": 1, "unknown": 1}
    assert set(t["term"]) == set(TERMS)
    assert t["events"].sum() == len(cohort.adverse_events)


def test_duration(cohort):
    d = ae_duration(cohort).set_index("term").loc["frontal_edema"]
    # R: quantile(c(1, 2, 3, 4)) -> 1.00 1.75 2.50 3.25 4.00 (type 7)
    assert d["events"] == 4
    assert_allclose(d[["min_days", "q1_days", "median_days", "q3_days", "max_days"]].to_numpy(
        float), [1.0, 1.75, 2.5, 3.25, 4.0])


def test_sentinel_cases(cohort):
    s = sentinel_cases(cohort).set_index("event_id")
    assert sorted(s.index) == ["ery", "head", "scar"]
    assert s.loc["scar", "reason"] == "serious-by-nature term"
    assert s.loc["head", "reason"] == "marked serious"
    assert s.loc["ery", "reason"] == "severe"
    assert s.loc["scar", "session_number"] == 3


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_no_events_table():
    r = Rows()
    r.add("A")
    c = build_cohort(r.export(), cutoff=REFERENCE_CUTOFF)
    t = adverse_event_table(c)
    assert (t["k"] == 0).all() and (t["events"] == 0).all() and (t["ci_high"] > 0).all()
    assert ae_duration(c).empty and sentinel_cases(c).empty
    assert ae_timing(c)["events"].sum() == 0


def test_input_not_mutated_and_deterministic(cohort):
    before = copy.deepcopy(cohort.adverse_events)
    a, b = adverse_event_table(cohort), adverse_event_table(cohort)
    sentinel_cases(cohort), ae_timing(cohort), ae_duration(cohort)
    pd.testing.assert_frame_equal(cohort.adverse_events, before)
    pd.testing.assert_frame_equal(a, b)
