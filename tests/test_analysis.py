"""analyze(), Analysis.to_dict() (aggregate only, shareable suppression) and outcomes analyze."""
from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
import re

import pandas as pd
import pytest

from cohort_builder import (REFERENCE, REFERENCE_CUTOFF, Rows, reference_export,
                            synthetic_export)
from outcomes.analysis import SHARED_FRAMES, Analysis, analyze, format_summary
from outcomes.cli import main


@pytest.fixture(scope="module")
def export():
    e = reference_export()
    r = Rows()   # add events so that the adverse-event frames carry dates and pseudonyms
    r.adverse_events += [
        {"event_id": "E1", "patient_id": "C000", "session_id": "C000-S1",
         "onset_date": "2024-01-16", "term": "injection_site_pain", "duration_days": 1.0},
        {"event_id": "E2", "patient_id": "C001", "session_id": None,
         "onset_date": "2024-04-20", "term": "scarring", "severity": "severe"},
    ]
    return dataclasses.replace(e, adverse_events=r.export().adverse_events)


@pytest.fixture(scope="module")
def analysis(export):
    return analyze(export, cutoff=REFERENCE_CUTOFF, model=True)


def test_fields(analysis):
    assert isinstance(analysis, Analysis)
    assert analysis.cutoff.isoformat() == REFERENCE_CUTOFF
    for name in SHARED_FRAMES + ("cohort", "sentinel_cases", "protocol_patients",
                                 "screening_cases"):
        assert isinstance(getattr(analysis, name), pd.DataFrame), name
    assert len(analysis.sentinel_cases) == 1 and not analysis.model.empty


def test_response_by_construction_through_analyze(analysis):
    t = analysis.response.set_index(["family", "group", "outcome"])
    for key, (k, n) in REFERENCE.items():
        assert (t.loc[key, "k"], t.loc[key, "n"]) == (k, n), key


def test_json_is_aggregate_only(export, analysis):
    d = analysis.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert d["format_version"] == 1 and d["kind"] == "analysis" and d["shareable"] is False
    assert d["cohort"] == {"patients": 121, "treated": 118, "due_12m": 115,
                           "assessed_photographic": 111, "assessed_density": 37}
    assert "patient_id" not in text
    quoted = set(re.findall(r'"([^"]*)"', text))
    ids = set(export.patients["patient_id"]) | set(export.sessions["session_id"])
    ids |= set(export.adverse_events["event_id"])
    assert not quoted & ids
    dates = pd.concat([export.sessions["session_date"], export.measurements["measurement_date"],
                       export.adverse_events["onset_date"]]).dt.strftime("%Y-%m-%d")
    assert not set(dates) & set(re.findall(r"\d{4}-\d{2}-\d{2}", text))
    photo = [r for r in d["response"] if r["group"] == "comparable"
             and r["outcome"] == "improved" and r["family"] == "photographic"][0]
    assert (photo["k"], photo["n"], photo["benchmark_rate"]) == (69, 86, 0.8)
    dens = [r for r in d["response"] if r["family"] == "density"][0]
    assert dens["benchmark_rate"] is None and dens["p_value"] is None
    for key in ("response", "adverse_events", "flow", "model", "quarterly"):
        assert d[key], key


def test_shareable_suppresses_small_counts_and_rounds_the_others(analysis):
    d = analysis.to_dict(shareable=True)
    json.dumps(d, allow_nan=False)
    assert d["disclosure_control"]["policy"] == "outcomes-sdc-1"
    pain = [r for r in d["adverse_events"] if r["term"] == "injection_site_pain"][0]
    assert pain["k"] == "<5" and pain["rate"] is None and pain["ci_high"] is None
    assert pain["n"] in (115, 120)               # 118 rounded to a multiple of 5
    flow = {r["step"]: r["n"] for r in d["flow"]}
    assert flow["lost_photographic"] == "<5" and flow["excluded_after_cutoff_sessions"] == "<5"
    assert flow["registered"] in (120, 125) and flow["excluded_after_cutoff_measurements"] == 0
    # re-running on the same export publishes the same values (key from the clinic's data)
    again = analysis.to_dict(shareable=True)
    assert again["flow"] == d["flow"] and again["response"] == d["response"]
    # every published count is 0, "<5" or a multiple of 5; rates are published k / n
    for name in ("flow", "response", "adverse_events", "strata", "protocol", "screening"):
        for r in d[name]:
            for c in ("k", "n", "events", "sessions", "patients"):
                v = r.get(c)
                assert v is None or v == "<5" or (isinstance(v, int) and v % 5 == 0), (name, r)
            if isinstance(r.get("k"), int) and isinstance(r.get("n"), int) and r["n"]:
                assert r["rate"] == r["k"] / r["n"], (name, r)


def test_internal_results_unchanged_against_snapshot(analysis):
    """The internal results.json of the bundled sample (2026Q3, model fitted) has the numbers
    of the snapshot taken from main before the disclosure pass (e6a78cd, written by
    tests/reference/make_internal_snapshot.py): every value of the snapshot is present and
    equal (columns added later, e.g. model.patients, are allowed)."""
    import outcomes
    from outcomes.loader import load

    snap = json.loads((Path(__file__).parent / "reference"
                       / "internal_results_sample_2026Q3.json").read_text())
    now = analyze(load(outcomes.sample_path()), cutoff="2026-09-30").to_dict(shareable=False)
    for key, value in snap.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            assert len(now[key]) == len(value), key
            for old, new in zip(value, now[key]):
                assert {c: new.get(c, "<absent>") for c in old} == old, (
                    f"{key}: internal numbers changed; if meant (not by disclosure control), "
                    "regenerate with tests/reference/make_internal_snapshot.py and say so")
        else:
            assert now[key] == value, key


def test_not_mutated_and_deterministic(export):
    before = copy.deepcopy(export)
    # (the model's seeded subsample is checked in test_model)
    a = analyze(export, cutoff=REFERENCE_CUTOFF, model=False).to_dict()
    b = analyze(export, cutoff=REFERENCE_CUTOFF, model=False).to_dict()
    assert a == b
    for name in ("patients", "sessions", "measurements", "adverse_events"):
        pd.testing.assert_frame_equal(getattr(export, name), getattr(before, name))


def test_no_model(export):
    a = analyze(export, cutoff=REFERENCE_CUTOFF, model=False)
    assert a.model.empty and "skipped" in a.model_note


def test_summary_has_no_patient_rows(export, analysis):
    text = format_summary(analysis)
    assert "80.2% (70.6 to 87.3)" in text          # 69/86 comparable improved
    assert "C000" not in text and "2024-01-16" not in text
    for heading in ("Cohort flow", "Response", "Adverse events", "Protocol", "Screening",
                    "Density model"):
        assert heading in text


def test_cli_with_reference_export(monkeypatch, export, capsys, tmp_path):
    import outcomes.loader

    monkeypatch.setattr(outcomes.loader, "load", lambda *a, **k: export)
    assert main(["analyze", "ignored", "--cutoff", REFERENCE_CUTOFF, "--no-model",
                 "--json", "-"]) == 0
    out = capsys.readouterr()
    d = json.loads(out.out)
    assert d["cutoff"] == REFERENCE_CUTOFF and "Cohort flow" in out.err
    path = tmp_path / "results.json"
    assert main(["analyze", "ignored", "--cutoff", REFERENCE_CUTOFF, "--no-model",
                 "--json", str(path)]) == 0
    assert json.loads(path.read_text()) == d
    assert "Cohort flow" in capsys.readouterr().out
    assert main(["analyze", "ignored", "--cutoff", "not-a-date", "--no-model"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_cli_on_the_bundled_sample(capsys):
    from outcomes.sample import sample_path

    assert main(["analyze", str(sample_path()), "--cutoff", "2026-09-30", "--no-model",
                 "--json", "-"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["cohort"]["patients"] == 300 and len(d["response"]) == 12


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_nobody_due_yet_gives_defined_results():
    r = Rows()
    r.add("A", gpa=[(365, 1)])
    a = analyze(r.export(), cutoff="2024-12-31", model=True)
    assert (a.response["n"] == 0).all() and a.response["rate"].isna().all()
    assert a.model.empty and "not fitted" in a.model_note
    json.dumps(a.to_dict(shareable=True), allow_nan=False)


def test_analysis_of_10k_patients():
    # speed is measured by benchmarks/run.py (make bench), not here: a timed test fails on a
    # busy machine and passes a slow change on a fast one
    export = synthetic_export(10_000)
    a = analyze(export, cutoff="2026-06-30", model=False)
    assert a.cohort["treated"].sum() == 10_000
    assert a.flow.set_index("step").loc["registered", "n"] == 10_000


def test_ids_coded_by_the_loader_give_the_same_analysis_as_hashing_them(tmp_path):
    """The loader codes ids once (Export.keys); the metrics must give exactly what hashing the
    id texts gives, also when rows were quarantined (positions shift) and events name no
    session or a session after the cut-off."""
    import shutil
    import warnings

    import pandas as pd

    from outcomes import OutcomesWarning
    from outcomes.loader import load
    from outcomes.sample import sample_path

    folder = tmp_path / "export"
    shutil.copytree(sample_path(), folder)
    p = pd.read_csv(folder / "patients.csv", dtype=str, keep_default_na=False)
    p.loc[[3, 50, 120], "sex"] = "X"           # three patients quarantined, and their rows
    p.to_csv(folder / "patients.csv", index=False)
    s = pd.read_csv(folder / "sessions.csv", dtype=str, keep_default_na=False)
    s.loc[[10, 400], "volume_ml"] = "lots"      # two sessions quarantined, and their events
    s.to_csv(folder / "sessions.csv", index=False)
    e = pd.read_csv(folder / "adverse_events.csv", dtype=str, keep_default_na=False)
    e.loc[e.index[::7], "session_id"] = ""      # placed by date instead of by id
    e.to_csv(folder / "adverse_events.csv", index=False)

    export = load(folder)
    assert export.keys is not None
    quarantined = export.report.counts.set_index("table")["quarantined"]
    assert quarantined["patients"] == 3 and quarantined["sessions"] > 2  # 2 + cascade
    hashed = dataclasses.replace(export, keys=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutcomesWarning)
        for cutoff in ("2026-09-30", "2025-03-31"):
            a = analyze(export, cutoff=cutoff, model=False)
            b = analyze(hashed, cutoff=cutoff, model=False)
            assert a.to_dict() == b.to_dict()
            pd.testing.assert_frame_equal(a.sentinel_cases, b.sentinel_cases)
            pd.testing.assert_frame_equal(a.cohort, b.cohort)


_FORK_SCRIPT = r"""
import dataclasses, json, os, sys, warnings
import pandas as pd
import outcomes.analysis as A
from outcomes import OutcomesWarning
from outcomes.loader import load
from outcomes.sample import sample_path

forks = []
real_fork = os.fork
def fork():
    pid = real_fork()
    if pid:
        forks.append(pid)
    return pid
os.fork = fork
os.sched_getaffinity = lambda pid: {0, 1}   # the fork is tested on a one-core machine too

warnings.simplefilter("ignore", OutcomesWarning)
export = load(sample_path())
here = A.analyze(export, cutoff="2026-09-30", model=False)      # 300 patients: one process
assert forks == []
A.PARALLEL_MIN_PATIENTS = 0
aside = A.analyze(export, cutoff="2026-09-30", model=False)
A.PARALLEL_MIN_PATIENTS = 10**9
assert len(forks) == 1, forks
for f in dataclasses.fields(A.Analysis):
    a, b = getattr(here, f.name), getattr(aside, f.name)
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    elif f.name != "load_report":
        assert a == b, f.name
assert json.dumps(here.to_dict()) == json.dumps(aside.to_dict())

# the child's warnings are issued here; its errors are raised here (computed again)
def warns():
    warnings.warn("from the child", UserWarning)
    return {"x": 1}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    got = A._beside(warns, True).result()
assert got == {"x": 1} and [str(w.message) for w in caught] == ["from the child"]
try:
    A._beside(lambda: 1 / 0, True).result()
except ZeroDivisionError:
    pass
else:
    raise AssertionError("no error")
print("FORKS", len(forks))
"""


def test_the_metrics_computed_in_a_second_process_are_those_computed_here():
    """Above PARALLEL_MIN_PATIENTS (on Linux, in a process without other threads) analyze()
    computes the safety follow-up and the strata in a forked process: every frame of the
    Analysis must be exactly the one computed in one process. Run in a fresh interpreter
    (pytest-xdist's workers run threads, where analyze never forks)."""
    import os
    import subprocess
    import sys

    import outcomes

    if not sys.platform.startswith("linux"):
        pytest.skip("analyze() forks only on Linux")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(outcomes.__file__).parents[1]),
                                         env.get("PYTHONPATH", "")])
    run = subprocess.run([sys.executable, "-c", _FORK_SCRIPT], capture_output=True, text=True,
                         env=env, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "FORKS 3" in run.stdout
