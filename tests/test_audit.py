"""The quarterly audit (issue 12): periods, re-audit, standards, safety findings, actions."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from cohort_builder import Rows

from outcomes import audit
from outcomes.analysis import analyze
from outcomes.cohort import build_cohort
from outcomes.definitions import Definitions
from outcomes.errors import AuditError, ResultsFileError

CUT = "2026-09-30"


def _rows() -> Rows:
    """Patients whose 12-month window (t0 + 450 days) closes in known quarters.

    With the cut-off 2026-09-30: the quarter is 2026Q3 (2026-07-01..09-30), the rolling year
    2025Q4..2026Q3 (from 2025-10-01).
    """
    r = Rows()
    # window closes 2026-07-25 (quarter): improved, comparable; sessions on days 0 and 450
    r.add("A", t0="2025-05-01", session_days=(0, 450), gpa=[(365, 2)])
    # window closes 2026-08-25 (quarter): not assessed (lost)
    r.add("B", t0="2025-06-01", session_days=(0, 90))
    # window closes 2026-03-27 (rolling year only): not improved, on minoxidil
    r.add("C", t0="2025-01-01", session_days=(0,), gpa=[(365, 0)], minoxidil=True)
    # window closes 2025-03-25 (cumulative only): improved, comparable
    r.add("E", t0="2024-01-01", session_days=(0,), gpa=[(365, 1)])
    # not due: window closes in 2026Q4; a woman of childbearing potential treated in the quarter
    r.add("F", t0="2026-07-10", session_days=(0, 60), sex="F", childbearing_potential=True,
          contraception=True)
    # F's first session has a negative test, the second none recorded
    for s in r.sessions:
        if s["session_id"] == "F-S1":
            s["pregnancy_test"] = "negative"
    r.adverse_events.append({"event_id": "E1", "patient_id": "F", "session_id": "F-S1",
                             "onset_date": pd.Timestamp("2026-07-11"),
                             "term": "injection_site_pain", "severity": "mild",
                             "serious": False})
    r.adverse_events.append({"event_id": "E2", "patient_id": "C", "session_id": "C-S1",
                             "onset_date": pd.Timestamp("2025-01-05"), "term": "scarring",
                             "severity": "moderate", "serious": False})
    return r


@pytest.fixture(scope="module")
def constructed():
    return analyze(_rows().export(), cutoff=CUT, model=False)


def _get(periods, period, measure):
    row = periods.loc[(periods["period"] == period) & (periods["measure"] == measure)].iloc[0]
    return (int(row["k"]), None if pd.isna(row["n"]) else int(row["n"]))


def test_periods_labels_and_dates():
    p = audit.audit_periods(CUT, "2024-01-01")
    assert p["period"].tolist() == ["quarter", "rolling_year", "cumulative"]
    assert p["first_quarter"].tolist() == ["2026Q3", "2025Q4", "2024Q1"]
    assert p["label"].tolist() == [
        "Quarter 2026Q3: 1 July 2026 to 30 September 2026",
        "Rolling 12 months 2025Q4 to 2026Q3: 1 October 2025 to 30 September 2026",
        "All patients 2024Q1 to 2026Q3: 1 January 2024 to 30 September 2026"]
    # a cut-off inside a quarter: the quarter to date
    assert audit.audit_periods("2026-08-15", "2024-05-03")["label"][0] == \
        "Quarter 2026Q3 to date: 1 July 2026 to 15 August 2026"


def test_period_counts_on_constructed_cohort(constructed):
    p = constructed.periods
    assert _get(p, "quarter", "followed_up_photographic") == (1, 2)            # A, B
    assert _get(p, "quarter", "photographic_improved_comparable") == (1, 1)    # A
    assert _get(p, "quarter", "photographic_improved_worst_case") == (1, 2)
    assert _get(p, "rolling_year", "followed_up_photographic") == (2, 3)       # + C
    assert _get(p, "rolling_year", "photographic_improved_all") == (1, 2)
    assert _get(p, "rolling_year", "photographic_improved_comparable") == (1, 1)
    assert _get(p, "cumulative", "followed_up_photographic") == (3, 4)         # + E
    assert _get(p, "cumulative", "photographic_improved_comparable") == (2, 2)
    # sessions in the quarter: A day 450 (2026-07-25), F 2026-07-10 and 2026-09-08
    assert _get(p, "quarter", "sessions_given") == (3, None)
    assert _get(p, "quarter", "patients_treated") == (2, None)
    assert _get(p, "quarter", "new_patients") == (1, None)
    assert _get(p, "quarter", "pregnancy_test_wocbp") == (1, 2)
    assert _get(p, "quarter", "contraception_wocbp") == (2, 2)
    assert _get(p, "quarter", "pain_patients") == (1, 2)
    # sentinel (scarring, 2025-01-05) is in the cumulative period only
    assert _get(p, "quarter", "sentinel_events") == (0, None)
    assert _get(p, "cumulative", "sentinel_events") == (1, None)
    # F's interval (60 days, year one) ends in the quarter: on schedule; A's 450 is not year one
    assert _get(p, "quarter", "year_one_intervals_on_schedule") == (1, 1)
    # every rate is k/n with the definitions' interval
    q = p.loc[p["n"].notna() & (p["n"] > 0)]
    np.testing.assert_allclose(q["rate"], q["k"].astype(float) / q["n"].astype(float))
    assert (q["ci_low"] <= q["rate"]).all() and (q["rate"] <= q["ci_high"]).all()


def test_quarters_partition_the_cumulative_cohort():
    """The response cohorts of consecutive quarters add up to the cumulative cohort."""
    r = Rows()
    t0s = pd.date_range("2023-01-03", "2025-06-30", freq="17D")
    for i, t0 in enumerate(t0s):
        r.add(f"P{i:03d}", t0=t0.date().isoformat(), session_days=(0, 90),
              gpa=[(365, i % 4 - 1)] if i % 5 else [], minoxidil=bool(i % 3 == 0))
    export = r.export()
    quarters = pd.period_range("2024Q1", "2026Q3", freq="Q")
    totals = {"followed_up_photographic": [0, 0], "photographic_improved_all": [0, 0]}
    for q in quarters:
        c = build_cohort(export, cutoff=q.end_time.normalize())
        t = audit.period_table(c)
        for m in totals:
            k, n = _get(t, "quarter", m)
            totals[m][0] += k
            totals[m][1] += n
    final = audit.period_table(build_cohort(export, cutoff="2026-09-30"))
    for m, (k, n) in totals.items():
        assert (k, n) == _get(final, "cumulative", m)
        assert n > 20


def test_quarter_changes_against_r():
    trend = pd.DataFrame({"quarter": ["2026Q2", "2026Q3"], "label": ["", ""],
                          "measure": ["followed_up_photographic"] * 2,
                          "k": pd.array([12, 9], dtype="Int64"),
                          "n": pd.array([15, 18], dtype="Int64")})
    trend = audit._with_rates(trend, level=0.95, method="wilson")
    ch = audit.quarter_changes(trend).iloc[0]
    assert (ch["quarter"], ch["previous_quarter"]) == ("2026Q3", "2026Q2")
    # R: w <- function(k, n) prop.test(k, n, correct = FALSE)$conf.int; Newcombe (1998) 10:
    # d - sqrt((p1 - w(9,18)[1])^2 + (w(12,15)[2] - p2)^2) etc. -> -0.3, -0.5464678553,
    # 0.02772013763
    assert ch["diff"] == pytest.approx(-0.3)
    assert ch["diff_ci_low"] == pytest.approx(-0.5464678553, abs=1e-9)
    assert ch["diff_ci_high"] == pytest.approx(0.02772013763, abs=1e-9)
    # R: fisher.test(matrix(c(9, 9, 12, 3), 2))$p.value
    assert ch["p_value"] == pytest.approx(0.1450669826, abs=1e-9)


@pytest.fixture(scope="module")
def sample_two_quarters(sample_export):
    q2 = analyze(sample_export, cutoff="2026-06-30", model=False)
    q3 = analyze(sample_export, cutoff="2026-09-30", model=False)
    return q2, q3


@pytest.fixture(scope="module")
def sample_export():
    import outcomes

    return outcomes.load(outcomes.sample_path())


def test_reaudit_of_two_sample_quarters(sample_two_quarters):
    q2, q3 = sample_two_quarters
    a = audit.quarterly_audit(q3, previous=[q2.to_dict()])
    assert a.quarter == "2026Q3" and a.previous == ("2026Q2",)
    assert sorted(a.trend["quarter"].unique()) == ["2026Q2", "2026Q3"]
    ch = a.changes.set_index("measure")
    for m in ("followed_up_photographic", "pregnancy_test_wocbp"):
        now, before = _get(q3.periods, "quarter", m), _get(q2.periods, "quarter", m)
        assert (ch.loc[m, "k"], ch.loc[m, "n"]) == now
        assert (ch.loc[m, "previous_k"], ch.loc[m, "previous_n"]) == before
        assert ch.loc[m, "diff"] == pytest.approx(now[0] / now[1] - before[0] / before[1])
    assert "sessions_given" not in ch.index           # a count, not a proportion
    assert (ch["diff_ci_low"] <= ch["diff"]).all() and (ch["diff"] <= ch["diff_ci_high"]).all()


def test_reaudit_refuses_other_definitions_and_same_quarter(sample_export, sample_two_quarters):
    q2, q3 = sample_two_quarters
    other = analyze(sample_export, cutoff="2026-06-30", model=False,
                    definitions=Definitions(density_improved=0.15))
    with pytest.raises(ResultsFileError, match="definitions differ: 'density_improved'"):
        audit.quarterly_audit(q3, previous=[other.to_dict()])
    with pytest.raises(AuditError, match="not a quarter before the audited 2026Q3"):
        audit.quarterly_audit(q3, previous=[q3.to_dict()])
    old = q2.to_dict()
    del old["periods"]
    with pytest.raises(AuditError, match="has no audit periods"):
        audit.quarterly_audit(q3, previous=[old])


def test_status_and_assurance_rules():
    # rows: met 100% | one breach of 100% | amber | red | no data | consistently met
    k = [10, 59, 15, 10, 0, 90]
    n = [10, 60, 20, 20, 0, 100]
    lo = [0.72, 0.91, 0.53, 0.30, np.nan, 0.83]
    hi = [1.0, 0.997, 0.89, 0.70, np.nan, 0.95]
    ylo = [0.99, 0.97, 0.70, 0.40, np.nan, 0.85]
    yhi = [1.0, 0.995, 0.85, 0.60, np.nan, 0.93]
    target = [1.0, 1.0, 0.8, 0.8, 0.8, 0.8]
    status, assurance = audit.status_and_assurance(k, n, lo, hi, ylo, yhi, target)
    assert status.tolist() == ["green", "red", "amber", "red", "no data", "green"]
    assert assurance.tolist() == ["not assured", "consistently not met", "not assured",
                                  "consistently not met", "no data", "consistently met"]


def test_default_standards_and_target_from_published_figure():
    st = {s.id: s for s in audit.load_standards()}
    assert st["pregnancy_test"].target == 1.0
    assert st["no_session_hypersensitivity"].measure == "no_hypersensitivity_session"
    # R: prop.test(69, 86, correct = FALSE)$conf.int[1]
    assert st["improved"].target == pytest.approx(0.7060408872, abs=1e-9)
    assert "69/86" in st["improved"].target_text


def test_standards_file_errors(tmp_path):
    bad = tmp_path / "s.toml"
    bad.write_text('[[standard]]\nid = "x"\ntitle = "X"\nmeasure = "sessions_given"\n'
                   'target = 0.5\n')
    with pytest.raises(AuditError, match="measure 'sessions_given' is not a rate"):
        audit.load_standards(bad)
    bad.write_text('[[standard]]\nid = "x"\ntitle = "X"\nmeasure = "pregnancy_test_wocbp"\n'
                   'target = 80\n')
    with pytest.raises(AuditError, match="outside 0-1"):
        audit.load_standards(bad)


def test_standards_table_on_sample(sample_two_quarters):
    _, q3 = sample_two_quarters
    st = audit.standards_table(q3.periods, audit.load_standards()).set_index("id")
    # 2026Q3: 21 of 22 sessions to women of childbearing potential had a test recorded
    assert (st.loc["pregnancy_test", "k"], st.loc["pregnancy_test", "n"]) == (21, 22)
    assert st.loc["pregnancy_test", "status"] == "red"
    assert st.loc["no_session_positive_test", "status"] == "green"
    assert st.loc["no_session_positive_test", "assurance"] == "not assured"


def test_safety_findings_this_quarter_first(sample_two_quarters):
    _, q3 = sample_two_quarters
    a = audit.quarterly_audit(q3)
    f = a.findings
    assert f["when"].tolist() == sorted(f["when"].tolist(), key=lambda w: w != "this quarter")
    # every screening case and every sentinel event is in the box
    sc = q3.screening_cases
    br = f.loc[f["kind"] == "screening breach"]
    assert br["sessions"].sum() == len(sc)
    assert len(br) == len(sc.drop_duplicates(["deviation", "patient_id"]))
    assert (f["kind"] == "sentinel event").sum() == len(q3.sentinel_cases)
    counts = a.finding_counts.set_index(["finding", "period"])
    assert counts.loc[("hypersensitivity_5ari", "cumulative"), "cases"] == \
        (sc["deviation"] == "hypersensitivity_5ari").sum()


ACTIONS = """action,owner,due,status,raised,standard
Pregnancy test prompt at booking,Clinic manager,2026-08-31,in progress,2026Q2,pregnancy_test
Recall patients lost at 12 months,Audit lead,2026-12-31,done,2026Q2,follow_up
Hypersensitivity flag on the session sheet,NP lead,2026-10-31,not started,2026Q3,
Next year's plan,Audit lead,2027-03-31,not started,2026Q4,
"""


def test_actions_carried_forward(tmp_path):
    path = tmp_path / "actions.csv"
    path.write_text(ACTIONS)
    table, roles = audit.read_actions(path)
    plan = audit.action_plan(table, "2026Q3", CUT)
    assert plan["action"].str[:10].tolist() == ["Pregnancy ", "Recall pat", "Hypersensi"]
    assert plan["section"].tolist() == ["carried forward from 2026Q2"] * 2 + ["new this quarter"]
    assert plan["overdue"].tolist() == [True, False, False]
    assert roles == audit.DEFAULT_SIGN_OFF
    path.write_text(ACTIONS.replace("in progress", "half done"))
    with pytest.raises(AuditError, match=r"row 2, column status: 'half done'"):
        audit.read_actions(path)
    toml = tmp_path / "actions.toml"
    toml.write_text('[[action]]\naction = "A"\nowner = "B"\ndue = 2026-09-01\nstatus = "open"\n'
                    'raised = "2026Q2"\n[sign_off]\nroles = ["Audit lead", "Medical director"]\n')
    table, roles = audit.read_actions(toml)
    assert roles == ("Audit lead", "Medical director")
    plan = audit.action_plan(table, "2026Q3", CUT)
    assert plan.loc[0, "status"] == "not started" and bool(plan.loc[0, "overdue"])


def test_periods_in_results_json_pass_the_results_reader(sample_two_quarters):
    from outcomes.results_file import read_results

    _, q3 = sample_two_quarters
    data = read_results(q3.pooling_dict())   # no date but the cut-off, no patient column
    assert {r["period"] for r in data["periods"]} == set(audit.PERIODS)
    shared = q3.to_dict(shareable=True)["periods"]
    small = [r for r in shared if r["measure"] == "sentinel_events" and r["period"] == "quarter"]
    assert small[0]["k"] == "<5"


def test_cli_report_refuses_mismatched_previous(tmp_path, capsys):
    """Definitions that differ end in one line on stderr and exit status 2, before any
    work: no load, analysis or kernel (the output folder is not even made)."""
    import outcomes
    from outcomes.cli import main

    defs = tmp_path / "defs.toml"
    defs.write_text("density_improved = 0.15\n")
    prev = tmp_path / "q2.json"
    assert main(["analyze", str(outcomes.sample_path()), "--cutoff", "2026-06-30",
                 "--no-model", "--definitions", str(defs), "--json", str(prev)]) == 0
    assert json.loads(prev.read_text())["periods"]
    capsys.readouterr()
    status = main(["report", str(outcomes.sample_path()), "--quarter", "2026Q3", "--out",
                   str(tmp_path / "r"), "--previous", str(prev)])
    err = capsys.readouterr().err
    assert status == 2
    lines = [x for x in err.strip().splitlines() if ": note: " not in x]
    assert len(lines) == 1 and "definitions differ: 'density_improved'" in lines[0]
    assert "same definitions" in lines[0] and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def _ctx(analysis, export, shareable, **kw):
    import datetime as dt

    from outcomes.reporting import ReportContext

    return ReportContext(analysis=analysis, export=export, shareable=shareable, min_cell=5,
                         run_time=dt.datetime(2026, 10, 1), quarter="2026Q3",
                         audit=audit.quarterly_audit(analysis, **kw))


def test_sections_internal_and_shareable(sample_export, sample_two_quarters, tmp_path):
    import re

    from outcomes import audit_report

    q2, q3 = sample_two_quarters
    actions = tmp_path / "a.csv"
    actions.write_text(ACTIONS)
    internal = _ctx(q3, sample_export, False, previous=[q2.to_dict()], actions=actions)
    shared = _ctx(q3, sample_export, True, previous=[q2.to_dict()], actions=actions)
    box = audit_report.safety_box(internal)._repr_html_()
    assert "P00238" in box and "2026-08-05" in box          # sentinel: pseudonym and date
    assert "2 sentinel events and 3 sessions with a screening breach" in box
    sbox = audit_report.safety_box(shared)._repr_html_()
    shown = {f: audit_report.__dict__[f](shared)._repr_html_() for f in (
        "safety_box", "periods_section", "standards_section", "reaudit_section")}
    every = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "",  # an image's letters
                   "".join(shown.values()))
    assert not re.search(r"P\d{5}", every)                   # no pseudonym
    assert not re.search(r"20\d\d-\d\d-\d\d", every)         # no date of a patient
    assert "&lt;5 events" in sbox or "<5 events" in sbox     # 2 sentinel events this quarter
    st = audit_report.standards_section(internal)._repr_html_()
    assert "missed: A pregnancy test is recorded" in st
    assert "Making Data Count" in st
    ra = audit_report.reaudit_section(internal)._repr_html_()
    assert "Change since 2026Q2" in ra and "Newcombe" in ra
    assert ra.count("data:image/png;base64,") == 1          # the trend figure, inlined
    sra = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "",   # random letters
                 shown["reaudit_section"])                 # drawn once, for `every`
    assert "Change since 2026Q2" in sra and not re.search(r"P\d{5}", sra)
    ac = audit_report.actions_section(internal)._repr_html_()
    assert ac.count("carried forward from 2026Q2") == 2 and "overdue" in ac
    assert all(role in ac for role in audit.DEFAULT_SIGN_OFF)


# --- property-based: the status and assurance rules, the change interval -------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from outcomes import stats  # noqa: E402


@settings(max_examples=100, deadline=None)
@given(k=st.integers(0, 300), extra=st.integers(0, 300), yk=st.integers(0, 1000),
       yextra=st.integers(0, 1000), target=st.sampled_from([0.5, 0.706, 0.8, 0.85, 0.95, 1.0]))
def test_status_and_assurance_properties(k, extra, yk, yextra, target):
    n, yn = k + extra, yk + yextra
    lo, hi = stats.proportion_ci(k, n) if n else (np.nan, np.nan)
    ylo, yhi = stats.proportion_ci(yk, yn) if yn else (np.nan, np.nan)
    (status,), (assurance,) = audit.status_and_assurance([k], [n], [lo], [hi], [ylo], [yhi],
                                                         [target])
    if n == 0:
        assert status == "no data"
    else:
        assert (status == "green") == (k / n >= target - 1e-12)
        assert (status == "red") == (k / n < target - 1e-12 and hi < target - 1e-12)
        if target == 1.0:
            assert status in ("green", "red")        # a 100% standard: met or missed
    if yn:
        assert (assurance == "consistently met") == (ylo >= target - 1e-12 and target < 1)
        assert (assurance == "consistently not met") == (yhi < target - 1e-12)


@settings(max_examples=100, deadline=None)
@given(k1=st.integers(0, 200), e1=st.integers(0, 200), k2=st.integers(0, 200),
       e2=st.integers(0, 200))
def test_quarter_change_interval_holds_the_difference(k1, e1, k2, e2):
    n1, n2 = k1 + e1, k2 + e2
    trend = pd.DataFrame({"quarter": ["2026Q2", "2026Q3"], "label": ["", ""],
                          "measure": ["pregnancy_test_wocbp"] * 2,
                          "k": pd.array([k2, k1], dtype="Int64"),
                          "n": pd.array([n2, n1], dtype="Int64")})
    ch = audit.quarter_changes(audit._with_rates(trend, level=0.95, method="wilson")).iloc[0]
    if n1 and n2:
        assert ch["diff"] == pytest.approx(k1 / n1 - k2 / n2)
        assert -1 - 1e-9 <= ch["diff_ci_low"] <= ch["diff"] + 1e-12
        assert ch["diff"] - 1e-12 <= ch["diff_ci_high"] <= 1 + 1e-9
        assert 0 <= ch["p_value"] <= 1 + 1e-9
    else:
        assert np.isnan(ch["diff"]) and np.isnan(ch["p_value"])
