"""Safety denominators with follow-up (issue 11, item 6): incidence among patients followed at
least ``safety_min_followup_days``, the excluded counted, events per 100 sessions, and
Kaplan-Meier cumulative incidence.

Kaplan-Meier references: R survival 3.5.3 ``survfit(..., conf.type = "log-log")``
(tests/reference/safety.R, output pasted there; the call beside each value) and, on random
data, statsmodels ``SurvfuncRight``; the small clinic below is counted by hand.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cohort_builder import REFERENCE_CUTOFF, Rows
from outcomes.cohort import build_cohort
from outcomes.definitions import Definitions
from outcomes.errors import AnalysisError
from outcomes.safety import (FOLLOWUP_COLUMNS, ae_followup_table, followup_days,
                             followup_sentence)
from outcomes.stats import km_cumulative_incidence
from outcomes.vocabulary import TERMS

T0 = pd.Timestamp("2024-01-15")


def _event(r, eid, pid, term, day, t0=T0, **kw):
    r.adverse_events.append({"event_id": eid, "patient_id": pid, "term": term,
                             "term_as_written": term, "session_id": None,
                             "onset_date": t0 + pd.Timedelta(days=day), **kw})


@pytest.fixture(scope="module")
def clinic():
    """Seven treated patients, cut-off 2026-06-30 (days after first session in brackets):
    A sessions 0, 90; pain day 0                  -> follow-up 90: stopped attending
    B sessions 0, 90, 180, 270; pain day 100      -> 270: followed
    C session 0; a photograph at day 200          -> 200 (a measurement is a contact)
    D first session 2026-03-01, sessions 0, 60; edema day 10 -> 60, could not reach 182
    E sessions 0, 90; erythema onset day 190      -> 190 (an event onset is a contact)
    F sessions 0, 180; pain day 30                -> 180: stopped (two days short of 182)
    G sessions 0, 182                             -> 182: followed (at least 182)
    plus U, registered and never treated."""
    r = Rows()
    r.add("A", session_days=(0, 90))
    r.add("B", session_days=(0, 90, 180, 270))
    r.add("C", session_days=(0,), gpa=[(200, 1)])
    r.add("D", t0="2026-03-01", session_days=(0, 60))
    r.add("E", session_days=(0, 90))
    r.add("F", session_days=(0, 180))
    r.add("G", session_days=(0, 182))
    r.add("U", session_days=())
    _event(r, "a1", "A", "injection_site_pain", 0)
    _event(r, "b1", "B", "injection_site_pain", 100)
    _event(r, "b2", "B", "injection_site_pain", 190)    # a second pain event: 1 patient
    _event(r, "d1", "D", "frontal_edema", 10, t0=pd.Timestamp("2026-03-01"))
    _event(r, "e1", "E", "erythema", 190)
    _event(r, "f1", "F", "injection_site_pain", 30)
    return build_cohort(r.export(), cutoff=REFERENCE_CUTOFF)


def test_followup_days_counts_every_contact(clinic):
    fu = followup_days(clinic)
    ids = clinic.patients["patient_id"].to_numpy()[fu.index.to_numpy()]
    got = dict(zip(ids, fu["followup_days"]))
    assert got == {"A": 90, "B": 270, "C": 200, "D": 60, "E": 190, "F": 180, "G": 182}
    assert dict(zip(ids, fu["possible_days"]))["D"] == 121   # 2026-03-01 -> 2026-06-30


def test_incidence_among_the_followed_and_the_excluded(clinic):
    t = ae_followup_table(clinic).set_index("term")
    assert list(t.reset_index().columns) == list(FOLLOWUP_COLUMNS)
    assert list(t.index) == list(TERMS) + ["serious"]
    assert (t["min_followup_days"] == 182).all()
    # followed: B, C, E, G; left out: D (recent), A and F (stopped attending)
    assert (t["n"] == 4).all() and (t["treated"] == 7).all() and (t["excluded"] == 3).all()
    assert (t["excluded_recent"] == 1).all() and (t["excluded_stopped"] == 2).all()
    assert t.loc["injection_site_pain", ["k", "events"]].tolist() == [1, 4]   # B only
    assert t.loc["frontal_edema", "k"] == 0 and t.loc["erythema", "k"] == 1
    # 15 sessions; 4 pain events -> 26.67 per 100 sessions
    assert (t["sessions"] == 15).all()
    assert t.loc["injection_site_pain", "per_100_sessions"] == pytest.approx(400 / 15)
    assert t.loc["injection_site_pain", "rate"] == pytest.approx(0.25)


def test_kaplan_meier_columns_match_r_survival(clinic):
    t = ae_followup_table(clinic).set_index("term")
    pain = t.loc["injection_site_pain"]
    # R: summary(survfit(Surv(c(0,100,200,60,190,30,182), c(1,1,0,0,0,1,0)) ~ 1,
    #    conf.type = "log-log"), times = 182): n.risk 3, 1 - surv 0.464285714285714,
    #    1 - upper 0.175002957960286, 1 - lower 0.868011823037361
    assert (pain["km_days"], pain["km_at_risk"], pain["km_events"]) == (182, 3, 3)
    np.testing.assert_allclose(pain[["km_cum_incidence", "km_ci_low", "km_ci_high"]]
                               .to_numpy(float),
                               [0.464285714285714, 0.175002957960286, 0.868011823037361],
                               rtol=1e-12)
    edema = t.loc["frontal_edema"]
    # R: survfit(Surv(c(90,270,200,10,190,180,182), c(0,0,0,1,0,0,0)) ~ 1, "log-log"), t=182
    assert (edema["km_at_risk"], edema["km_events"]) == (4, 1)
    np.testing.assert_allclose(edema[["km_cum_incidence", "km_ci_low", "km_ci_high"]]
                               .to_numpy(float),
                               [0.142857142857143, 0.0214389414738245, 0.665946120707778],
                               rtol=1e-12)
    none = t.loc["scarring"]
    assert none["km_cum_incidence"] == 0 and np.isnan(none[["km_ci_low", "km_ci_high"]]
                                                      .to_numpy(float)).all()


def test_threshold_is_the_definition(clinic):
    c = dataclasses.replace(clinic, definitions=dataclasses.replace(
        Definitions(), safety_min_followup_days=100))
    t = ae_followup_table(c).set_index("term")
    # followed >= 100 days: B, C, E, F, G; left out: A (90) and D (60): both stopped, since D
    # could have reached 100 days (121 possible)
    assert (t["n"] == 5).all() and (t["excluded_stopped"] == 2).all()
    assert (t["excluded_recent"] == 0).all()
    assert t.loc["injection_site_pain", "k"] == 2 and (t["km_days"] == 100).all()


def test_sentence_states_the_denominator_and_the_excluded(clinic):
    s = followup_sentence(ae_followup_table(clinic))
    assert s.startswith("Incidence is among the 4 of 7 treated patients followed at least 182 "
                        "days")
    assert "3 are left out: 1 started less than 182 days before the cut-off, 2 stopped " \
           "attending earlier." in s
    shared = ae_followup_table(clinic).astype({"n": object, "excluded_recent": object})
    shared["n"], shared["excluded_recent"] = "<5", "<5"
    assert "among the <5 of 7" in followup_sentence(shared)
    assert followup_sentence(shared.iloc[:0]).startswith("No treated patient")


# ---------------------------------------------------------------------------------------------
# km_cumulative_incidence
# ---------------------------------------------------------------------------------------------
def test_km_by_hand_and_r():
    # by hand: times 2 (5 at risk, 1 event) and 3 (4 at risk, 1 event; one censored at 3):
    # S(4) = 4/5 * 3/4 = 0.6; R survfit(Surv(c(2,3,3,5,8), c(1,1,0,1,0)) ~ 1,
    # conf.type = "log-log") at 4: 1 - upper 0.118243592606468, 1 - lower 0.874269817005569
    cum, lo, hi, risk = km_cumulative_incidence([2, 3, 3, 5, 8], [1, 1, 0, 1, 0], 4)
    assert (cum, risk) == (pytest.approx(0.4), 2)
    np.testing.assert_allclose([lo, hi], [0.118243592606468, 0.874269817005569], rtol=1e-12)
    # non-integer times, ties of events and censorings: R at t = 5 (tests/reference/safety.R)
    got = km_cumulative_incidence([0.5, 1.5, 1.5, 2.25, 2.25, 3, 4.75, 5, 5, 6.5],
                                  [1, 1, 0, 1, 1, 0, 1, 0, 1, 0], 5)
    np.testing.assert_allclose(got[:3], [0.714285714285714, 0.398598097127081,
                                         0.954334466636204], rtol=1e-12)
    assert got[3] == 3


def test_km_edge_cases():
    assert np.isnan(km_cumulative_incidence([], [], 10)[0])
    assert km_cumulative_incidence([5, 6], [0, 0], 10)[:2] == (0.0, pytest.approx(np.nan,
                                                                                   nan_ok=True))
    cum, lo, hi, _ = km_cumulative_incidence([1, 2], [1, 1], 10)
    assert cum == 1 and np.isnan(lo) and np.isnan(hi)
    with pytest.raises(AnalysisError, match="time"):
        km_cumulative_incidence([-1, 2], [1, 0], 5)
    with pytest.raises(AnalysisError, match="equal lengths"):
        km_cumulative_incidence([1, 2], [1], 5)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.booleans()), min_size=1, max_size=80),
       st.integers(0, 70), st.booleans())
def test_km_agrees_with_statsmodels(rows, horizon, halves):
    from statsmodels.duration.survfunc import SurvfuncRight

    time = np.array([t for t, _ in rows], dtype=float) / (2 if halves else 1)
    event = np.array([e for _, e in rows])
    cum, lo, hi, risk = km_cumulative_incidence(time, event, horizon)
    assert risk == int((time >= horizon).sum())
    if not event.any():
        assert cum == 0
        return
    sf = SurvfuncRight(time, event.astype(int))
    before = sf.surv_times <= horizon
    want = 1 - (sf.surv_prob[before][-1] if before.any() else 1.0)
    assert cum == pytest.approx(want, abs=1e-12)
    if before.any() and 0 < sf.surv_prob[before][-1] < 1:
        s, se = sf.surv_prob[before][-1], sf.surv_prob_se[before][-1]
        # statsmodels gives the Greenwood SE of S; log-log limits from it
        shift = 1.959963984540054 * (se / s) / np.log(s)
        np.testing.assert_allclose([lo, hi], [1 - np.exp(-np.exp(np.log(-np.log(s)) + shift)),
                                              1 - np.exp(-np.exp(np.log(-np.log(s)) - shift))],
                                   rtol=1e-9)
