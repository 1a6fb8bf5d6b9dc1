"""Presentation tables: formatted on a copy, suppression respected."""
from types import SimpleNamespace

import numpy as np
import pandas as pd

from outcomes import tables
from outcomes.disclosure import control_frame, table_one_counts


def cohort():
    return pd.DataFrame({
        "patient_id": [f"P{i:03d}" for i in range(12)],
        "treated": [True] * 11 + [False],
        "sex": ["F"] * 3 + ["M"] * 9,
        "age": pd.array([25, 35, 45, 55, 30, 40, 50, 60, 33, 44, 28, 70], dtype="Int64"),
        "age_band": ["18-29", "30-39", "40-49", "50-59", "30-39", "40-49", "50-59", "60-100",
                     "30-39", "40-49", "18-29", "60-100"],
        "baseline_scale": ["Ludwig"] * 3 + ["Norwood-Hamilton"] * 7 + [None, None],
        "minoxidil": pd.array([True, False, None] + [False] * 9, dtype="boolean"),
        "n_sessions": [4, 3, 4, 5, 4, 4, 2, 3, 4, 4, 4, 0],
    })


def test_table_one_counts_percentages_and_summaries():
    t = tables.table_one(cohort())
    val = dict(zip(t["Level"], t["Patients, n (%)"]))
    assert t["Patients, n (%)"].iloc[0] == "11"
    assert val["Female"] == "3 (27.3%)" and val["Male"] == "8 (72.7%)"
    # minoxidil and scale each have one treated patient not recorded (the untreated is left out)
    assert t["Patients, n (%)"][t["Level"] == "Not recorded"].tolist() == ["1 (9.1%)"] * 2
    # ages of the 11 treated, Python statistics.mean / statistics.stdev: 40.45, 11.43;
    # R quantile(age, c(.25, .5, .75)) = 31.5, 40, 47.5 (shown rounded half-even: 32, 48)
    assert val["mean (SD)"] == "40.5 (11.4)"
    assert t["Patients, n (%)"][t["Level"] == "median [IQR]"].tolist() == ["40 [32-48]",
                                                                          "4 [4-4]"]


def test_table_one_shareable_shows_published_counts_only():
    from outcomes.disclosure import PractitionerCoder, publish_counts

    key = b"a clinic key of 32 random bytes!"
    t = tables.table_one(counts=control_frame("table_one", table_one_counts(cohort()),
                                              coder=PractitionerCoder(key)))
    val = dict(zip(t["Level"], t["Patients, n (%)"]))
    # 3 women of 11 treated: "<5"; the 8 men and the 11 treated rounded to multiples of 5, so
    # total - men is no longer the number of women
    men, total = publish_counts([8, 11], key=key)
    assert val["Female"] == "<5" and val["Male"] == f"{men} ({100 * men / total:.1f}%)"
    assert t["Patients, n (%)"].iloc[0] == str(total)
    assert "mean (SD)" not in val and "median [IQR]" not in val   # single patients' ages


def test_input_not_modified_and_percentages_formatted():
    r = pd.DataFrame({"family": ["photographic"], "group": ["comparable"],
                      "outcome": ["dramatic"], "k": [30], "n": [86], "rate": [30 / 86],
                      "ci_low": [0.254], "ci_high": [0.452], "benchmark_rate": [33 / 86],
                      "benchmark_k": [33], "benchmark_n": [86], "p_value": [0.0004],
                      "fisher_p_value": [0.75], "diff": [-3 / 86], "diff_ci_low": [-0.18],
                      "diff_ci_high": [0.11]})
    before = r.copy()
    t = tables.response_table(r)
    pd.testing.assert_frame_equal(r, before)
    row = t.iloc[0]
    assert row["Rate"] == "34.9%" and row["95% CI"] == "25.4\u201145.2%"  # no line break
    assert row["Published"] == "38.4% (33/86)"
    assert row["p, vs the study's patients"] == "0.750"
    # a true minus sign and "to" between the bounds: never "-3.5 (-18.0--11.0)"
    assert row["Your rate minus the study's (95% CI)"] == "\u22123.5 (\u221218.0 to 11.0 points)"
    assert "global photographic assessment (GPA)" in t.attrs["note"]
    # the fixed-rate test is labelled as such and comes after the comparison that decides
    assert row["p, vs the published % taken as fixed"] == "<0.001"
    assert row["Outcome"] == "Marked improvement" and row["Group"] == "Mesotherapy alone"
    cols = list(t.columns)
    assert cols.index("p, vs the study's patients") \
        < cols.index("p, vs the published % taken as fixed")
    mdd = "Smallest difference detectable (80% power), points"
    assert row[mdd] == "-"      # no mdd columns given
    t = tables.response_table(r.assign(mdd_below=[-0.2], mdd_above=[0.225]), confidence=0.9)
    assert t.loc[0, mdd] == "\u221220.0 / +22.5"
    assert "90% CI" in t.columns and "Your rate minus the study's (90% CI)" in t.columns


def test_suppressed_frames_show_label_and_dash():
    ae = pd.DataFrame({"term": ["scarring", "injection_site_pain"], "k": [2, 120],
                       "n": [290, 290], "rate": [2 / 290, 120 / 290], "ci_low": [0.002, 0.36],
                       "ci_high": [0.025, 0.47], "events": [2, 150], "sessions": [900, 900],
                       "session_rate": [2 / 900, 150 / 900], "benchmark_rate": [0.0, 0.455],
                       "p_value": [0.1, 0.25]})
    t = tables.adverse_event_table(control_frame("adverse_events", ae.assign(
        benchmark_id=None)))
    assert t["Patients with it (n)"].tolist() == ["<5", "120"]
    assert t["Patients affected"].tolist() == ["-", "41.4%"]     # 120 / 290, both published
    assert t["Events (n)"].tolist() == ["<5", "150"]
    assert t["Events per 100 sessions"].tolist() == ["-", "16.7"]
    assert "serious by nature" in t.attrs["note"]


def test_protocol_screening_flow_and_html():
    p = tables.protocol_table(pd.DataFrame({"measure": ["year_one_on_schedule"], "k": [150],
                                            "n": [200], "rate": [0.75], "ci_low": [0.69],
                                            "ci_high": [0.8]}))
    assert p.columns.tolist() == ["Measure", "Meeting it (n)", "Of (n)", "Rate", "95% CI"]
    s = tables.screening_table(pd.DataFrame({"deviation": ["no_pregnancy_test"],
                                             "sessions": [7], "patients": [3]}))
    assert s.iloc[0].tolist() == ["No pregnancy test", "7", "3"]
    f = tables.flow_table(pd.DataFrame({"step": ["treated"], "n": [np.int64(290)],
                                        "note": [None]}))
    html = tables.to_html(f)
    assert "outcomes-table" in html and "<td>290</td>" in html
    assert "<script>" not in tables.to_html(pd.DataFrame({"x": ["<script>"]}))


def test_load_tables_and_provenance():
    counts = pd.DataFrame({"table": ["patients", "sessions"],
                           "file": ["/data/clinic/patients.csv", "/data/clinic/sessions.csv"],
                           "present": [True, True], "read": [300, 1200],
                           "accepted": [297, 1200], "quarantined": [3, 0]})
    files = pd.DataFrame({"table": ["patients"], "path": ["/data/clinic/patients.csv"],
                          "sha256": ["ab" * 32], "bytes": [12345]})
    report = SimpleNamespace(counts=counts, files=files, quarantine=pd.DataFrame(
        {"table": ["patients"], "row": [7], "column": ["age"], "value": ["17"],
         "rule": ["age 18 to 100"]}))
    t = tables.load_counts_table(control_frame("load_counts", counts))
    assert t["Quarantined (n)"].tolist() == ["<5", "0"] and "File" not in t
    assert t["Read (n)"].tolist() == ["300", "1200"]
    assert tables.load_counts_table(report)["File"].tolist() == ["/data/clinic/patients.csv",
                                                                "/data/clinic/sessions.csv"]
    assert tables.quarantine_table(report).iloc[0].tolist() == ["patients", "7", "age", "17",
                                                                "age 18 to 100"]
    analysis = SimpleNamespace(cutoff="2026-09-30", load_report=report,
                               definitions=SimpleNamespace(to_dict=lambda: {"min_cell": 5}))
    prov = tables.provenance_table(analysis, run_time="2026-10-01 09:00", shareable=True)
    items = dict(zip(prov["Item"], prov["Value"]))
    assert items["Data cut-off"] == "2026-09-30"
    assert items["Input patients"] == "12,345 bytes, SHA-256 " + "ab" * 32   # no file name
    assert items["Disclosure control"].startswith("outcomes-sdc-1")
    assert items["Definition: min_cell"] == "5"
    assert "outcomes version" in items


def test_every_table_has_a_one_line_reading_aid_shown_under_it(sample_context):
    """Every table builder sets attrs['note']; to_html prints it under the table."""
    import inspect

    ctx = sample_context
    A = ctx.analysis
    built = {
        "table_one": tables.table_one(A.cohort), "flow_table": tables.flow_table(A.flow),
        "response_table": tables.response_table(A.response),
        "adverse_event_table": tables.adverse_event_table(A.adverse_events),
        "ae_duration_table": tables.ae_duration_table(A.ae_duration, A.adverse_events),
        "ae_followup_table": tables.ae_followup_table(A.ae_followup),
        "protocol_table": tables.protocol_table(A.protocol),
        "screening_table": tables.screening_table(A.screening),
        "strata_table": tables.strata_table(A.strata),
        "density_change_table": tables.density_change_table(A.density_change),
        "sensitivity_table": tables.sensitivity_table(A.density_sensitivity),
        "photographic_sensitivity_table": tables.photographic_sensitivity_table(
            A.photographic_sensitivity),
        "practitioner_table": tables.practitioner_table(A.funnel),
        "model_table": tables.model_table(A.model),
        "load_counts_table": tables.load_counts_table(A.load_report),
        "quarantine_table": tables.quarantine_table(A.load_report),
        "quarantine_summary": tables.quarantine_summary(A.load_report),
        "published_table": tables.published_table(tables.published_records(
            __import__("outcomes.registry").registry.published_figures())),
        "sentinel_table": tables.sentinel_table(A.sentinel_cases),
        "screening_cases_table": tables.screening_cases_table(A.screening_cases),
        "provenance_table": tables.provenance_table(A, run_time=ctx.run_time, shareable=False),
    }
    builders = {name for name, f in inspect.getmembers(tables, inspect.isfunction)
                if name.endswith(("_table", "_summary")) and name in tables.__all__
                and not name.startswith("meta_") and name != "published_studies_table"}
    assert builders <= set(built), builders - set(built)
    for name, df in built.items():
        note = df.attrs.get("note", "")
        assert note.startswith("Read ") and "\n" not in note, name
        assert '<p class="outcomes-note">' in tables.to_html(df), name
        assert not [c for c in df.columns if "(k)" in c], name  # plain headers: no 'k'
    # figures that differ between tables are explained where they appear (the sample:
    # 390 injection-site pain events, 349 with a duration)
    pain = A.adverse_events.set_index("term").loc["injection_site_pain", "events"]
    timed = A.ae_duration.set_index("term").loc["injection_site_pain", "events"]
    assert timed < pain
    assert f"{timed} of the {pain} injection site pain events" in built[
        "ae_duration_table"].attrs["note"]
