"""Tests of outcomes.pooling: reading, refusing and pooling clinics' results files."""
import copy
import json

import numpy as np
import pytest
from numpy.testing import assert_allclose

from outcomes import meta, stats
from outcomes import pooling as pool
from outcomes.cli import main
from outcomes.errors import ResultsFileError

DEFS = {"baseline_days_before": 30, "assessment_window": [270, 450], "interval_method": "wilson",
        "confidence": 0.95, "min_cell": 5, "funnel_levels": [0.95, 0.998]}


def results(scale: int = 1, **changes) -> dict:
    """A hand-written results dict in the documented shape (format_version 1)."""
    s = scale
    out = {
        "format_version": 1, "package_version": "0.1.0", "kind": "analysis",
        "cutoff": "2026-06-30", "definitions": copy.deepcopy(DEFS), "shareable": False,
        "cohort": {"patients": 100 * s, "treated": 90 * s, "due_12m": 60 * s,
                   "assessed_photographic": 40 * s, "assessed_density": 30 * s},
        "flow": [{"step": "registered", "n": 100 * s, "note": ""},
                 {"step": "treated", "n": 90 * s, "note": ""}],
        "response": [
            {"family": "photographic", "group": "all", "outcome": "improved", "k": 30 * s,
             "n": 40 * s, "rate": 0.75, "ci_low": 0.6, "ci_high": 0.86, "method": "wilson",
             "benchmark_id": "saceda2022_improved", "benchmark_rate": 0.8, "benchmark_k": 69,
             "benchmark_n": 86, "p_value": 0.4, "fisher_p_value": 0.6, "diff": -0.05,
             "diff_ci_low": -0.2, "diff_ci_high": 0.1},
        ],
        "density_sensitivity": [{"threshold": 0.1, "k": 12 * s, "n": 30 * s, "rate": 0.4,
                                 "ci_low": 0.2, "ci_high": 0.6}],
        "density_change": [{"measure": "relative", "mean": 0.1 * s, "ci_low": 0.1 * s - 0.05,
                            "ci_high": 0.1 * s + 0.05, "n": 30 * s}],
        "adverse_events": [
            {"term": "injection_site_pain", "k": 40 * s, "n": 90 * s, "rate": 0.44,
             "ci_low": 0.3, "ci_high": 0.5, "events": 70 * s, "sessions": 300 * s,
             "session_rate": 0.23, "benchmark_id": "saceda2022_pain", "benchmark_rate": 0.455,
             "p_value": 0.9, "fisher_p_value": 0.9}],
        "ae_timing": [{"term": "injection_site_pain", "session_number": "1", "events": 30 * s}],
        "ae_duration": [{"term": "injection_site_pain", "events": 70 * s, "median_days": 1.0,
                         "q1_days": 1.0, "q3_days": 2.0, "min_days": 0.0, "max_days": 3.0 * s}],
        "protocol": [{"measure": "year_one_on_schedule", "k": 50 * s, "n": 80 * s,
                      "rate": 0.625, "ci_low": 0.5, "ci_high": 0.7}],
        "screening": [{"deviation": "no_pregnancy_test", "sessions": 6 * s, "patients": 5 * s}],
        "strata": [{"family": "photographic", "outcome": "improved", "stratum": "sex",
                    "level": "F", "k": 10 * s, "n": 15 * s, "rate": 0.67, "ci_low": 0.4,
                    "ci_high": 0.8},
                   {"family": "photographic", "outcome": "improved", "stratum": "practitioner",
                    "level": "PR-0000AB01", "k": 20 * s, "n": 25 * s, "rate": 0.8, "ci_low": 0.6,
                    "ci_high": 0.9}],
        "quarterly": [{"family": "photographic", "quarter": "2026Q1", "k": 15 * s, "n": 20 * s,
                       "rate": 0.75, "centre": 0.75, "lcl": 0.5, "ucl": 1.0,
                       "beyond_limits": False, "run_flag": False}],
        "model": [], "clinics": [],
    }
    out.update(changes)
    return out


def write(tmp_path, name, data) -> str:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return str(path)


def test_pool_sums_counts_and_recomputes_rates(tmp_path):
    a, b = write(tmp_path, "north", results(1)), write(tmp_path, "south", results(2))
    out = pool.pool_results([a, b])
    assert out["kind"] == "pooled" and out["format_version"] == 1
    assert out["cohort"] == {"patients": 300, "treated": 270, "due_12m": 180,
                             "assessed_photographic": 120, "assessed_density": 90}
    r = out["response"][0]
    assert (r["k"], r["n"]) == (90, 120)
    low, high = stats.proportion_ci(90, 120)
    assert_allclose([r["rate"], r["ci_low"], r["ci_high"]], [0.75, low, high])
    assert_allclose(r["p_value"], stats.binom_test(90, 120, 0.8))
    assert_allclose(r["fisher_p_value"], stats.fisher_test(90, 120, 69, 86))
    assert_allclose([r["diff"], r["diff_ci_low"], r["diff_ci_high"]],
                    stats.newcombe_difference(90, 120, 69, 86))
    ae = out["adverse_events"][0]
    assert (ae["k"], ae["n"], ae["events"], ae["sessions"]) == (120, 270, 210, 900)
    assert_allclose(ae["session_rate"], 210 / 900)
    assert_allclose(ae["p_value"], stats.binom_test(120, 270, 0.455))
    assert out["ae_timing"][0]["events"] == 90 and out["screening"][0]["patients"] == 15
    assert out["ae_duration"][0]["max_days"] == 6.0 and out["ae_duration"][0]["median_days"] is None
    assert [c["label"] for c in out["clinics"]] == ["north", "south"]
    assert all(len(c["sha256"]) == 64 and c["cutoff"] == "2026-06-30" for c in out["clinics"])
    # practitioner pseudonyms are per clinic
    levels = {s["level"] for s in out["strata"] if s["stratum"] == "practitioner"}
    assert levels == {"north:PR-0000AB01", "south:PR-0000AB01"}
    sex = [s for s in out["strata"] if s["stratum"] == "sex"][0]
    assert (sex["k"], sex["n"]) == (30, 45)
    json.dumps(out, allow_nan=False)  # JSON-able, no NaN


def test_density_change_pooled_exactly_from_means_and_t_intervals():
    import numpy as np
    rng = np.random.default_rng(7)
    x1, x2 = rng.normal(0.1, 0.2, 30), rng.normal(0.2, 0.3, 50)
    recs = []
    for x in (x1, x2):
        m, lo, hi, n = stats.mean_ci(x)
        recs.append(results(density_change=[{"measure": "relative", "mean": m, "ci_low": lo,
                                             "ci_high": hi, "n": n}]))
    recs[1]["cohort"]["patients"] += 1  # not the same file
    out = pool.pool_results(recs)
    m, lo, hi, n = stats.mean_ci(np.r_[x1, x2])
    d = out["density_change"][0]
    assert d["n"] == n
    assert_allclose([d["mean"], d["ci_low"], d["ci_high"]], [m, lo, hi], rtol=1e-10)


def test_random_effects_rate_beside_the_summed_counts(tmp_path):
    # issue 11 item 4: clinics 30/40 and 270/360 (results(1), results(9)) summed to 300/400;
    # the random-effects rate across them, DerSimonian-Laird, as meta.meta_proportion
    a, b = write(tmp_path, "a", results(1)), write(tmp_path, "b", results(9))
    r = pool.pool_results([a, b])["response"][0]
    assert (r["k"], r["n"]) == (300, 400)
    s = meta.meta_proportion([30, 270], [40, 360]).summary.set_index("method")
    dl = s.loc["DerSimonian-Laird"]
    assert r["re_method"] == "DerSimonian-Laird" and r["re_clinics"] == 2
    assert_allclose([r["re_estimate"], r["re_ci_low"], r["re_ci_high"], r["re_tau2"]],
                    [dl.estimate, dl.ci_low, dl.ci_high, dl.tau2])
    assert r["re_heterogeneity"] is False        # same rate in both clinics: tau2 = 0
    assert 0 < r["re_p_value"] < 1               # against the study's 69/86
    json.dumps(r, allow_nan=False)


def test_meta_section_per_response_row(tmp_path):
    a, b = write(tmp_path, "a", results(1)), write(tmp_path, "b", results(3))
    m = pool.pool_results([a, b])["meta"]
    assert {s["method"] for s in m["summary"]} == {"DerSimonian-Laird", "Paule-Mandel"}
    assert [s["label"] for s in m["studies"]] == ["a", "b"]
    assert {f["reference"] for f in m["funnel"]} == {"pooled", "saceda2022_improved"}
    # the pooled clinics (120 assessed, 90 improved) beside the published studies
    pub = [s for s in m["published_studies"] if s["outcome"] == "improved"]
    assert [(s["label"], s["k"], s["n"]) for s in pub] == [
        ("all clinics (pooled)", 120, 160), ("Saceda-Corralo 2022", 69, 86),
        ("Vañó-Galván 2020", 38, 42), ("Moftah 2013", 54, 86)]
    assert {s["method"] for s in m["published_summary"]} == {"DerSimonian-Laird", "Paule-Mandel"}


def test_shareable_output_suppresses_small_counts(tmp_path):
    small = results(1)
    small["screening"][0].update(sessions=2, patients=1)
    other = results(1)
    other["screening"][0].update(sessions=1, patients=1)
    out = pool.pool_results([small, other], shareable=True)
    assert out["shareable"] is True
    assert out["screening"][0]["patients"] == "<5" and out["screening"][0]["sessions"] == "<5"
    assert out["response"][0]["k"] == 60


def test_shareable_pool_resists_a_participant_subtracting_its_own_file():
    """Issue 9 item 4: a pooled count from which one clinic could subtract its own count and
    be left with 1-4 is withheld ('*'); the meta-analysis rests on published counts only."""
    a, b = results(1), results(1)
    a["screening"][0].update(sessions=20, patients=2)     # b's 5 + a's 2 = 7: b subtracts 5
    b["screening"][0].update(sessions=20, patients=5)
    b["response"][0].update(k=3, n=4)                      # b hidden in the meta-analysis
    out = pool.pool_results([a, b], labels=["a", "b"], shareable=True)
    assert out["screening"][0]["patients"] == "*"         # 7 - 5 = 2 would be a's count
    assert out["screening"][0]["sessions"] == 40          # 40 - 20 = 20: published
    studies = [s for s in out["meta"]["studies"] if s["outcome"] == "improved"]
    assert [s["label"] for s in studies] == ["a"]          # b's 3 of 4 is not in the meta
    for s in studies:
        assert s["k"] % 5 == 0 and s["n"] % 5 == 0
    assert out["disclosure_control"]["policy"] == "outcomes-sdc-1"
    text = json.dumps(out)
    assert "PR-0000AB01" in text and "P01" not in text.replace("PR-0000AB01", "")


# --- refusals ---------------------------------------------------------------------------

def refuse(tmp_path, data, match, name="bad"):
    path = write(tmp_path, name, data)
    with pytest.raises(ResultsFileError, match=match):
        pool.read_results(path)
    return path


@pytest.mark.parametrize("mutate, match", [
    (lambda d: d["cohort"].update(patient_id="p1"),
     "patient-level content: key 'cohort.patient_id'"),
    (lambda d: d["response"][0].update(session_id="s9"), "patient-level content"),
    (lambda d: d.update(sentinel_cases=[{"term": "scarring"}]),
     "patient-level table 'sentinel_cases'"),
    (lambda d: d.update(screening_cases=[]), "patient-level table 'screening_cases'"),
    (lambda d: d.update(cohort=[{"sex": "F"}]), "cohort is a list"),
    (lambda d: d["ae_timing"][0].update(note="2026-03-04"), "date other than the cut-off"),
    (lambda d: d["flow"][0].update(note="03/04/2026"), "date other than the cut-off"),
])
def test_patient_level_content_refused(tmp_path, mutate, match):
    d = results()
    mutate(d)
    refuse(tmp_path, d, match)


def test_cutoff_inside_records_is_allowed(tmp_path):
    """The cut-off is the one date a results file may hold, anywhere in it; one day off is a
    patient date and refused."""
    d = results()
    assert d["cutoff"] == "2026-06-30"
    d["flow"][0]["note"] = "2026-06-30"
    got = pool.read_results(write(tmp_path, "ok", d))
    assert got["flow"][0]["note"] == "2026-06-30" and got == json.loads(json.dumps(d))
    d["flow"][0]["note"] = "2026-06-29"
    refuse(tmp_path, d, r"date other than the cut-off at flow\[0\]\.note \('2026-06-29'\)")


@pytest.mark.parametrize("text, match", [
    ('{"format_version": 1, "kind": "analys', r"not valid JSON \(Unterminated string"),
    ("[1, 2]", "expected a JSON object"),
    ("", "not valid JSON"),
])
def test_corrupted_body_refused(tmp_path, text, match):
    refuse(tmp_path, text, match)


@pytest.mark.parametrize("mutate, match", [
    (lambda d: d["response"][0].update(k="30"), r"response\[0\].k = '30': expected a whole"),
    (lambda d: d["adverse_events"][0].update(n=-1), r"adverse_events\[0\].n = -1"),
    (lambda d: d["strata"][0].update(n=15.5), r"strata\[0\].n = 15.5"),
    (lambda d: d.update(response={"k": 1}), "'response' must be a list of records"),
    (lambda d: d["cohort"].update(treated=None), "cohort.treated = None"),
    (lambda d: d.pop("definitions"), "missing key"),
    (lambda d: d.pop("package_version"), "missing key.*package_version"),
    (lambda d: d.update(package_version=""), "package_version is missing or empty"),
    (lambda d: d.update(kind="pooled"), "only a clinic's own analysis"),
    (lambda d: d["response"][0].pop("family"), r"response\[0\] has no 'family'"),
])
def test_wrong_types_refused(tmp_path, mutate, match):
    d = results()
    mutate(d)
    refuse(tmp_path, d, match)


def test_suppressed_cells_refused_asking_for_the_aggregate(tmp_path):
    d = results()
    d["strata"][0]["k"] = "<5"
    refuse(tmp_path, d, r"strata\[0\].k is suppressed.*outcomes analyze --pooling-file FILE")


@pytest.mark.parametrize("version, match", [
    (0, "older than.*update outcomes and re-run"),
    (2, "newer than.*pip install -U outcomes"),
    ("1", "expected a whole number"),
])
def test_other_format_version_refused(tmp_path, version, match):
    refuse(tmp_path, results(format_version=version), match)


def test_mismatched_definitions_name_key_and_values(tmp_path):
    other = results(2)
    other["definitions"]["confidence"] = 0.9
    a, b = write(tmp_path, "a", results()), write(tmp_path, "b", other)
    with pytest.raises(ResultsFileError, match=r"'confidence' is 0.95 in .*a.json but 0.9 in "
                                                r".*b.json"):
        pool.pool_results([a, b])


def test_same_file_twice_and_single_file_refused(tmp_path):
    a = write(tmp_path, "a", results())
    with pytest.raises(ResultsFileError, match="same file"):
        pool.pool_results([a, a])
    with pytest.raises(ResultsFileError, match="at least two"):
        pool.pool_results([a])


def test_input_dicts_not_mutated():
    a, b = results(1), results(2)
    before = copy.deepcopy([a, b])
    pool.pool_results([a, b])
    assert [a, b] == before


@pytest.mark.parametrize("body", [
    results(format_version=2), results(cohort=[{"patient_id": "x"}]), "{truncated",
])
def test_cli_refuses_with_exit_2_and_no_traceback(tmp_path, capsys, body):
    good = write(tmp_path, "good", results())
    bad = write(tmp_path, "bad", body)
    assert main(["pool", good, bad]) == 2
    err = capsys.readouterr().err
    assert err.startswith("outcomes pool: ") and "Traceback" not in err and "bad.json" in err


def test_cli_writes_shareable_json(tmp_path, capsys):
    a, b = write(tmp_path, "a", results(1)), write(tmp_path, "b", results(2))
    assert main(["pool", a, b, "--json", "-"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "pooled" and out["shareable"] is True
    assert out["response"][0]["k"] == 90


def test_the_pooled_notebook_imports_no_meta_analysis_library():
    """The pooled report's kernel reads the pooled file (outcomes.pooling) and the published
    studies (outcomes.meta) but fits nothing: statsmodels, scipy.stats and scipy.optimize,
    which the meta-analysis imports when it runs (test_meta), stay out of it (~0.5 s of its
    CPU)."""
    import subprocess
    import sys

    code = ("import sys, outcomes.pooling, outcomes.meta\n"
            "outcomes.meta.published_studies('photographic', 'improved')\n"
            "print([m for m in ('statsmodels', 'scipy.stats', 'scipy.optimize') "
            "if m in sys.modules])\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_cli_pooled_report_html(pooled_report):
    """The pooled notebook runs through the report machinery into one shareable HTML page
    (the three sample clinics of conftest's pooled_report, executed once per session)."""
    out, status, stderr = pooled_report
    assert status == 0, stderr
    html = (out / "index.html").read_text()
    assert "Pooled audit across clinics" in html and "Shareable version" in html
    assert "clinic_a" in html and "clinic_c" in html and "DerSimonian-Laird" in html
    assert "Traceback" not in html
    saved = json.loads((out / "pooled.json").read_text())
    assert saved["kind"] == "pooled" and saved["shareable"] is True


def test_pooled_frames_refuses_a_clinic_file(tmp_path):
    with pytest.raises(ResultsFileError, match="not a pooled results file"):
        pool.pooled_frames(results())


# --- must show: three clinics pooled == the whole export --------------------------------

CUTOFF = "2026-09-30"


# split_root: a session fixture of conftest.py (shared with the pooled report)


@pytest.fixture(scope="module")
def split_and_whole(split_root):
    whole = json.loads((split_root / "whole.json").read_text())
    pooled = pool.pool_results([split_root / f"clinic_{c}.json" for c in "abc"])
    return whole, pooled


def _counts(records, keys, counts):
    return {tuple(r[k] for k in keys): tuple(r[c] for c in counts) for r in records}


def test_three_clinics_pooled_equal_the_whole_export(split_and_whole):
    whole, pooled = split_and_whole
    assert pooled["cohort"] == whole["cohort"]
    for table in ("flow", "response", "adverse_events", "density_sensitivity", "protocol",
                  "screening", "ae_timing", "quarterly"):
        keys, counts = pool.TABLES[table]
        assert _counts(pooled[table], keys, counts) == _counts(whole[table], keys, counts), table
    # rates and intervals recomputed from the pooled counts are the whole's
    for table, cols in (("response", ("rate", "ci_low", "ci_high", "p_value", "fisher_p_value",
                                      "diff", "diff_ci_low", "diff_ci_high", "mdd_below",
                                      "mdd_above")),
                        ("adverse_events", ("rate", "ci_low", "ci_high", "session_rate",
                                            "p_value", "fisher_p_value"))):
        keys = pool.TABLES[table][0]
        got = {tuple(r[k] for k in keys): r for r in pooled[table]}
        for rec in whole[table]:
            other = got[tuple(rec[k] for k in keys)]
            for c in cols:
                if rec.get(c) is None:
                    assert other.get(c) is None, (table, c)
                else:
                    assert_allclose(other[c], rec[c], rtol=1e-9, err_msg=f"{table}.{c}")


def test_three_clinics_other_tables_equal_the_whole(split_and_whole):
    whole, pooled = split_and_whole
    # density change: exact pooled mean and t interval from each clinic's mean, n, interval
    for want, got in zip(whole["density_change"], pooled["density_change"], strict=True):
        assert (got["measure"], got["n"]) == (want["measure"], want["n"])
        assert_allclose([got["mean"], got["ci_low"], got["ci_high"]],
                        [want["mean"], want["ci_low"], want["ci_high"]], rtol=1e-9)
    # durations: events, shortest and longest exactly; medians are not summable
    want = _counts(whole["ae_duration"], ("term",), ("events", "min_days", "max_days"))
    assert _counts(pooled["ae_duration"], ("term",), ("events", "min_days", "max_days")) == want
    # p-chart: centre and limits recomputed from the pooled quarterly counts
    got = {(r["family"], r["quarter"]): r for r in pooled["quarterly"]}
    for r in whole["quarterly"]:
        g = got[(r["family"], r["quarter"])]
        cols = ("centre", "lcl", "ucl", "lwl", "uwl")
        assert_allclose([np.nan if g[c] is None else g[c] for c in cols],
                        [np.nan if r[c] is None else r[c] for c in cols], rtol=1e-12)
        flags = ("plotted", "beyond_limits", "run_flag", "trend_flag", "special_cause",
                 "point_type")
        assert [g[c] for c in flags] == [r[c] for c in flags]
    # practitioner funnel: per-clinic practitioners sum to the whole's, same pooled p0
    per: dict = {}
    for r in pooled["funnel"]:
        key = (r["practitioner_id"].split(":", 1)[1],)
        per[key] = tuple(a + b for a, b in zip(per.get(key, (0, 0)), (r["k"], r["n"])))
    assert per == _counts(whole["funnel"], ("practitioner_id",), ("k", "n"))
    assert_allclose({r["p0"] for r in pooled["funnel"]}.pop(), whole["funnel"][0]["p0"])


def test_three_clinics_strata_equal_the_whole(split_and_whole):
    whole, pooled = split_and_whole
    keys = ("family", "outcome", "stratum", "level")
    want = _counts(whole["strata"], keys, ("k", "n"))
    got: dict = {}
    for r in pooled["strata"]:  # practitioner levels are "clinic:practitioner" in the pool
        level = r["level"].split(":", 1)[1] if r["stratum"] == "practitioner" else r["level"]
        key = (r["family"], r["outcome"], r["stratum"], level)
        k, n = got.get(key, (0, 0))
        got[key] = (k + r["k"], n + r["n"])
    assert {k: v for k, v in got.items() if v[1] or k in want} == want
    assert all(r["level"].startswith(("clinic_a:", "clinic_b:", "clinic_c:"))
               for r in pooled["strata"] if r["stratum"] == "practitioner")


def test_three_clinics_meta_and_provenance(split_and_whole):
    whole, pooled = split_and_whole
    assert [c["label"] for c in pooled["clinics"]] == ["clinic_a", "clinic_b", "clinic_c"]
    assert {c["cutoff"] for c in pooled["clinics"]} == {CUTOFF}
    rows = [s for s in pooled["meta"]["summary"] if s["family"] == "photographic"
            and s["group"] == "all" and s["outcome"] == "improved"]
    assert [r["k_studies"] for r in rows] == [3, 3]
    json.dumps(pooled, allow_nan=False)


def test_real_shareable_file_refused_asking_for_the_aggregate(split_root, tmp_path, capsys):
    from outcomes.analysis import analyze
    from outcomes.loader import load

    shared = analyze(load(split_root / "clinic_a"), cutoff=CUTOFF, model=False)
    path = write(tmp_path, "clinic_a_shareable", shared.to_dict(shareable=True))
    capsys.readouterr()
    assert main(["pool", path, str(split_root / "clinic_b.json")]) == 2
    err = capsys.readouterr().err
    assert "is a shareable results file" in err and "outcomes analyze --pooling-file" in err
    # the internal results (practitioners by name) are refused too: names must not leave
    with pytest.raises(ResultsFileError, match="not a practitioner code"):
        pool.pool_results([shared.to_dict(), split_root / "clinic_b.json"])
    # the same analysis as a pooling file, given as a dict, pools
    out = pool.pool_results([shared.pooling_dict(), split_root / "clinic_b.json"])
    assert out["cohort"]["patients"] == shared.cohort_counts()["patients"] + json.loads(
        (split_root / "clinic_b.json").read_text())["cohort"]["patients"]


def test_real_mismatched_definitions_refused(split_root, tmp_path, capsys):
    toml = tmp_path / "defs.toml"
    toml.write_text("assessment_window = [300, 430]\n")
    other = tmp_path / "clinic_c_other.json"
    assert main(["analyze", str(split_root / "clinic_c"), "--no-model", "--cutoff", CUTOFF,
                 "--definitions", str(toml), "--pooling-file", str(other)]) == 0
    capsys.readouterr()
    assert main(["pool", str(split_root / "clinic_a.json"), str(other)]) == 2
    err = capsys.readouterr().err
    assert ("'assessment_window' is [270, 450] in " + str(split_root / "clinic_a.json")
            + " but [300, 430] in " + str(other)) in err
    assert "Traceback" not in err


def test_missing_file_refused_with_exit_2(tmp_path, capsys):
    good = write(tmp_path, "good", results())
    assert main(["pool", good, str(tmp_path / "absent.json")]) == 2
    err = capsys.readouterr().err
    assert "absent.json: cannot be read" in err and "Traceback" not in err


def test_pooled_notebook_is_committed_without_outputs():
    import nbformat
    from importlib import resources

    text = resources.files("outcomes").joinpath("notebooks", pool.POOLED_NOTEBOOK).read_text()
    nb = nbformat.reads(text, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert "parameters" in code[0].metadata.get("tags", [])
