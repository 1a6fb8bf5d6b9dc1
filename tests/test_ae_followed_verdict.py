"""The comparison of side effects with the published figures is like for like (issue 11 item 6):
among the treated patients followed at least 182 days (the study required six months), the
all-treated figure beside it ("so far"), the excluded counted.

Constructed clinic (cut-off 2026-06-30): 50 patients followed >= 182 days, 36 with injection-site
pain; 30 who started less than 182 days before the cut-off, 2 with pain; 5 who stopped attending
after day 60, none with pain. All treated: 38 of 85 (44.7%), no evidence of a difference from
246/541; followed: 36 of 50 (72.0%), above it.

R 4.x references:
    fisher.test(matrix(c(36, 50-36, 246, 541-246), 2))$p.value  # 0.0003380599
    fisher.test(matrix(c(38, 85-38, 246, 541-246), 2))$p.value  # 0.9073463
    fisher.test(matrix(c(118, 221-118, 246, 541-246), 2))$p.value  # 0.05500618 (sample)
    fisher.test(matrix(c(144, 295-144, 246, 541-246), 2))$p.value  # 0.3841256 (sample, all)
"""
from __future__ import annotations

import pandas as pd
import pytest

from cohort_builder import Rows
from outcomes.cohort import build_cohort
from outcomes.definitions import Definitions
from outcomes.disclosure import SCHEMA
from outcomes.registry import benchmark_columns
from outcomes.safety import adverse_event_table, ae_followup_table
from outcomes.tables import adverse_event_table as ae_table
from outcomes.text import ae_sentence

CUTOFF = "2026-06-30"


def _pain(r, pid, t0):
    r.adverse_events.append({"event_id": f"E-{pid}", "patient_id": pid,
                             "term": "injection_site_pain",
                             "term_as_written": "injection_site_pain", "session_id": None,
                             "onset_date": pd.Timestamp(t0) + pd.Timedelta(days=10)})


@pytest.fixture(scope="module")
def frames():
    r = Rows()
    for i in range(50):
        r.add(f"F{i:02d}", t0="2024-01-15")
        if i < 36:
            _pain(r, f"F{i:02d}", "2024-01-15")
    for i in range(30):
        r.add(f"R{i:02d}", t0="2026-03-01", session_days=(0, 30))
        if i < 2:
            _pain(r, f"R{i:02d}", "2026-03-01")
    for i in range(5):
        r.add(f"S{i:02d}", t0="2024-01-15", session_days=(0, 60))
    c = build_cohort(r.export(), cutoff=CUTOFF, definitions=Definitions())
    fu = ae_followup_table(c)
    return adverse_event_table(c, fu), fu


def test_comparison_uses_the_followed_patients(frames):
    ae, fu = frames
    pain = ae.set_index("term").loc["injection_site_pain"]
    assert (pain["k"], pain["n"]) == (38, 85)                  # all treated, so far
    assert (pain["compared_k"], pain["compared_n"]) == (36, 50)  # followed >= 182 days
    f = fu.set_index("term").loc["injection_site_pain"]
    assert (pain["compared_k"], pain["compared_n"]) == (f["k"], f["n"])  # one source
    assert (pain["excluded"], pain["excluded_recent"], pain["excluded_stopped"]) == (35, 30, 5)
    assert pain["fisher_p_value"] == pytest.approx(0.0003380599, rel=1e-6)   # R, module doc
    # the same helper as the response table decides (single source of the benchmark columns)
    ref = benchmark_columns([36], [50], ["saceda2022_pain"]).iloc[0]
    for col in ("p_value", "fisher_p_value", "diff", "diff_ci_low", "diff_ci_high"):
        assert pain[col] == pytest.approx(ref[col])
    # the all-treated counts would have said no difference
    all_ = benchmark_columns([38], [85], ["saceda2022_pain"]).iloc[0]
    assert all_["fisher_p_value"] == pytest.approx(0.9073463, rel=1e-6)      # R, module doc


def test_sentence_states_both_figures_and_the_excluded(frames):
    ae, _ = frames
    pain = ae.set_index("term").loc["injection_site_pain"].to_dict() | {
        "term": "injection_site_pain"}
    s = ae_sentence(pain)
    assert s.startswith("Injection site pain: 44.7% of treated patients (95% CI ")
    assert ", 38 of 85) so far. Among the 50 treated patients followed at least 182 days (as in " \
           "the study) it is 72.0% (36 of 50), above the published 45% (246 of 541): " in s
    assert "Fisher's exact test p < 0.001." in s
    assert "taken as a fixed figure" in s and "it does not decide" in s
    assert s.endswith("35 treated patients followed less than 182 days are not in this "
                      "comparison: 30 started recently, 5 stopped attending.")


def test_sample_pain_verdict_is_against_the_followed():
    import warnings

    import outcomes as o
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = o.analyze(o.load(o.sample_path()), cutoff="2026-09-30", model=False)
    pain = a.adverse_events.set_index("term").loc["injection_site_pain"]
    assert (pain["compared_k"], pain["compared_n"], pain["k"], pain["n"]) == (118, 221, 144, 295)
    assert pain["fisher_p_value"] == pytest.approx(0.05500618, rel=1e-6)  # R, module doc
    s = ae_sentence(pain.to_dict() | {"term": "injection_site_pain"})
    assert "borderline above the published 45% (246 of 541)" in s
    assert "74 treated patients followed less than 182 days are not in this comparison: " \
           "37 started recently, 37 stopped attending." in s


def test_table_and_schema(frames):
    ae, _ = frames
    t = ae_table(ae)
    col = t.set_index("Event")["Followed 182+ days: affected (n)"]
    assert col.iloc[0] == "72.0% (36 of 50)"      # injection-site pain, benchmarked
    assert col.iloc[1] == "-"                     # frontal edema: no published rate
    assert "p, Fisher vs the study's counts" in t.columns
    assert "35 treated patients followed less than 182 days are not in it: 30 started " \
           "recently, 5 stopped attending" in t.attrs["note"]
    spec = SCHEMA["adverse_events"]
    declared = set(spec.keys) | set(spec.counts) | set(spec.derived) | set(spec.internal)
    assert set(ae.columns) <= declared
