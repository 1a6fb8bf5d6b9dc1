"""Tests of the synthetic export generator (outcomes.sample) and the bundled sample."""
from __future__ import annotations

import datetime as dt
import filecmp
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.contract import COLUMNS
from outcomes.errors import OutcomesError
from outcomes.sample import (TERMS_AS_WRITTEN, cli_sample, generate_sample, sample_path,
                             write_export)
from outcomes.vocabulary import TERMS, map_terms

END = pd.Timestamp("2026-09-30")
NAMES = ("patients", "sessions", "measurements", "adverse_events")
DATES = {"sessions": "session_date", "measurements": "measurement_date",
         "adverse_events": "onset_date"}


@pytest.fixture(scope="module")
def big() -> dict[str, pd.DataFrame]:
    """5000 patients on another seed than the bundled sample: for the rates."""
    return generate_sample(5000, seed=99)


def _load(path: Path) -> tuple[dict, pd.DataFrame]:
    """Clean tables and the quarantine through the package's public loader."""
    from outcomes.loader import load

    export = load(path, today=dt.date(2026, 9, 30))
    counts = export.report.counts
    assert (counts["read"] == counts["accepted"] + counts["quarantined"]).all()
    assert export.report.other_terms == () and export.report.extra_columns == {}
    return export.tables(), export.report.quarantine


def _check_integrity(t: dict[str, pd.DataFrame], end: pd.Timestamp = END) -> None:
    p, s, m, a = (t[name] for name in NAMES)
    assert p["patient_id"].is_unique and s["session_id"].is_unique and a["event_id"].is_unique
    assert s["patient_id"].isin(p["patient_id"]).all()
    owner = s.set_index("session_id")["patient_id"]
    for frame in (m, a):
        assert frame["patient_id"].isin(p["patient_id"]).all()
        linked = frame[frame["session_id"].notna()]
        assert (owner.reindex(linked["session_id"]).to_numpy() == linked["patient_id"]).all()
    for name, column in DATES.items():
        assert t[name][column].notna().all() and (t[name][column] <= end).all()
    first = s.groupby("patient_id")["session_date"].min()
    assert (a["onset_date"].to_numpy() >= first.reindex(a["patient_id"]).to_numpy()).all()
    # a measurement before the first session is a baseline, at most 30 days before it
    lead = (first.reindex(m["patient_id"]).to_numpy() - m["measurement_date"].to_numpy())
    assert (lead <= np.timedelta64(30, "D")).all()
    assert m["density_per_cm2"].notna().add(m["gpa_score"].notna()).ge(1).all()
    assert p["age"].between(18, 100).all()
    assert m["density_per_cm2"].dropna().between(0, 600).all()
    assert m["shaft_diameter_um"].dropna().between(5, 200).all()
    assert m["gpa_score"].dropna().between(-3, 3).all()
    assert s["volume_ml"].dropna().gt(0).all() and s["volume_ml"].dropna().le(10).all()
    assert a["duration_days"].dropna().ge(0).all()
    women = p["sex"] == "F"
    assert p.loc[women, "childbearing_potential"].notna().all()
    assert p.loc[p["childbearing_potential"] == "yes", "contraception"].notna().all()


# ------------------------------------------------------------------------------ API
def test_same_seed_same_tables_other_seed_other_tables():
    a, b, c = generate_sample(400, seed=5), generate_sample(400, seed=5), generate_sample(400, 6)
    for name in NAMES:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["sessions"]["session_date"].equals(c["sessions"]["session_date"])


def test_columns_are_the_contract_columns_with_documented_dtypes():
    t = generate_sample(200, seed=1)
    assert tuple(t) == NAMES
    for name in NAMES:
        assert tuple(t[name].columns) == tuple(c.name for c in COLUMNS[name])
        assert isinstance(t[name].index, pd.RangeIndex)
    for name, column in DATES.items():
        assert t[name][column].dtype == "datetime64[ns]"
        assert (t[name][column] == t[name][column].dt.normalize()).all()
    assert t["patients"]["age"].dtype == "Int64"
    assert t["measurements"]["gpa_score"].dtype == "Int64"
    yes_no = t["patients"][["childbearing_potential", "contraception", "minoxidil",
                            "hypersensitivity_5ari"]].stack().dropna()
    assert set(yes_no) | set(t["adverse_events"]["serious"].dropna()) == {"yes", "no"}


def test_referential_integrity_and_ranges(big):
    _check_integrity(big)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 60), seed=st.integers(0, 2**32 - 1),
       end=st.dates(dt.date(2021, 3, 1), dt.date(2030, 12, 31)))
def test_integrity_holds_for_any_size_seed_and_end(n, seed, end):
    t = generate_sample(n, seed=seed, end=end.isoformat())
    assert len(t["patients"]) == n
    _check_integrity(t, pd.Timestamp(end))


def test_bad_arguments_raise_outcomes_error(tmp_path):
    with pytest.raises(OutcomesError, match="at least 1"):
        generate_sample(0)
    with pytest.raises(OutcomesError, match="YYYY-MM-DD"):
        generate_sample(10, end="not a date")
    with pytest.raises(OutcomesError, match="csv, parquet or xlsx"):
        write_export(generate_sample(5), tmp_path, fmt="json")


def test_every_term_as_written_maps_to_its_vocabulary_term(big):
    written = pd.Series([w for spellings in TERMS_AS_WRITTEN.values() for w, _ in spellings])
    expected = [term for term, spellings in TERMS_AS_WRITTEN.items() for _ in spellings]
    assert map_terms(written).tolist() == expected
    assert set(TERMS_AS_WRITTEN) <= set(TERMS)
    assert set(big["adverse_events"]["term"]) <= set(written)


# ------------------------------------------------------------------------------ rates
def _twelve_month(t: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per patient due at END: t0, minoxidil, the 12-month GPA (median of raters) and the mean
    relative density change over sites (outcome-definitions.md, computed independently)."""
    p, s, m = t["patients"], t["sessions"], t["measurements"]
    t0 = s.groupby("patient_id")["session_date"].min().rename("t0")
    m = m.join(t0, on="patient_id")
    m["day"] = (m["measurement_date"] - m["t0"]).dt.days
    window = m[m["day"].between(270, 450)].assign(dist=lambda d: (d["day"] - 365).abs())

    g = window[window["gpa_score"].notna()].sort_values(["patient_id", "dist", "day"])
    visit = g.groupby("patient_id").head(1)[["patient_id", "measurement_date"]]
    gpa = g.merge(visit).groupby("patient_id")["gpa_score"].median().astype(float)

    d = m[m["density_per_cm2"].notna()]
    base = d[d["day"].between(-30, 0)].sort_values("day").groupby(["patient_id", "site"]).tail(1)
    follow = (window[window["density_per_cm2"].notna()].sort_values(["dist", "day"])
              .groupby(["patient_id", "site"]).head(1))
    both = base.merge(follow, on=["patient_id", "site"], suffixes=("_0", "_12"))
    rel = (both["density_per_cm2_12"] / both["density_per_cm2_0"] - 1).groupby(
        both["patient_id"]).mean()

    out = p.set_index("patient_id").join(t0).join(gpa.rename("gpa")).join(rel.rename("rel"))
    return out[out["t0"] + pd.Timedelta(days=450) <= END]


def test_twelve_month_response_matches_the_published_rates(big):
    due = _twelve_month(big)
    assessed = due[due["gpa"].notna()]
    # loss to follow-up among those due: about a third (brief: 30-40 %)
    assert 0.28 <= 1 - len(assessed) / len(due) <= 0.42
    comparable = assessed[assessed["minoxidil"] == "no"]
    assert len(comparable) > 800
    # Saceda-Corralo 2022: 80 % improved, 38.4 % (33/86) marked, on mesotherapy alone
    assert abs((comparable["gpa"] >= 1).mean() - 0.80) < 0.04
    assert abs((comparable["gpa"] >= 2).mean() - 0.38) < 0.05
    # minoxidil helps a little; density change follows the photographic response
    on = assessed[assessed["minoxidil"] == "yes"]
    assert (on["gpa"] >= 1).mean() > (comparable["gpa"] >= 1).mean()
    both = assessed.dropna(subset=["rel"])
    assert both["gpa"].corr(both["rel"]) > 0.4
    assert 0.5 < (both["rel"] >= 0.10).mean() < 0.85


def test_one_practitioner_has_worse_results(big):
    due = _twelve_month(big)
    first = big["sessions"].sort_values("session_date").groupby("patient_id").head(1)
    due = due.join(first.set_index("patient_id")["practitioner_id"])
    rate = due[due["gpa"].notna()].groupby("practitioner_id")["gpa"].apply(
        lambda g: (g >= 1).mean())
    assert 4 <= len(rate) <= 6 and all(re.fullmatch(r"NP-\d\d", x) for x in rate.index)
    assert rate.idxmin() == "NP-04" and rate.drop("NP-04").min() - rate["NP-04"] > 0.1


def test_patient_mix(big):
    p = big["patients"]
    assert abs((p["sex"] == "M").mean() - 0.70) < 0.03
    assert abs((p["minoxidil"] == "yes").mean() - 0.45) < 0.03
    assert p["age"].min() >= 18 and p["age"].max() <= 75
    men, women = p[p["sex"] == "M"], p[p["sex"] == "F"]
    assert set(men["baseline_scale"].dropna()) == {"Norwood-Hamilton"}
    assert {"IIIv", "IVa", "VI"} <= set(men["baseline_grade"].dropna())
    assert set(women["baseline_scale"].dropna()) == {"Ludwig", "Sinclair"}
    assert (women["baseline_scale"] == "Ludwig").mean() > 0.8
    young = women[women["age"] < 45]
    assert (young["childbearing_potential"] == "yes").mean() > 0.75
    cbp = women[women["childbearing_potential"] == "yes"]
    assert 0.9 < (cbp["contraception"] == "yes").mean() < 1
    assert 0 < (p["hypersensitivity_5ari"] == "yes").mean() < 0.03


def test_schedule_and_dropouts(big):
    s = big["sessions"].sort_values(["patient_id", "session_date"])
    t0 = s.groupby("patient_id")["session_date"].transform("min")
    day = (s["session_date"] - t0).dt.days
    gap = s.groupby("patient_id")["session_date"].diff().dt.days
    assert gap[day < 365].dropna().between(60, 120).mean() > 0.85
    assert gap[day > 450].dropna().between(135, 225).mean() > 0.8
    per_patient = s.groupby("patient_id").size()
    due = t0.groupby(s["patient_id"]).first() + pd.Timedelta(days=450) <= END
    year_one = s[day < 365].groupby("patient_id").size()[due]
    assert year_one.isin([3, 4]).mean() > 0.75  # the rest: drop-outs after 1-2 sessions
    assert 0.1 < (per_patient[due] <= 3).mean() < 0.4
    assert t0.min() < pd.Timestamp("2021-07-01") and t0.max() > pd.Timestamp("2026-06-30")
    assert (s["concentration_pct"] == 0.01).mean() > 0.95
    assert (s["volume_ml"] == 1.0).mean() > 0.9
    assert s["practitioner_id"].nunique() == 5


def test_measurements(big):
    m = big["measurements"]
    t0 = big["sessions"].groupby("patient_id")["session_date"].min()
    day = (m["measurement_date"] - t0.reindex(m["patient_id"]).to_numpy()).dt.days
    baseline = day <= 0
    assert m.loc[baseline, "gpa_score"].isna().all()
    assert m.loc[baseline, "density_per_cm2"].notna().all()
    assert abs(m.loc[baseline, "density_per_cm2"].mean() - 110) < 3
    assert set(m["site"]) == {"vertex", "frontal"}
    assert m["shaft_diameter_um"].dropna().between(40, 95).all()
    assert m.loc[baseline, "shaft_diameter_um"].dropna().between(50, 80).all()
    # follow-ups around months 6, 12 and 18
    for lo, hi in ((140, 225), (290, 430), (480, 620)):
        assert day.between(lo, hi).sum() > 1000
    # two raters sometimes score the same visit, never more than one point apart
    scored = m[m["gpa_score"].notna()]
    visits = scored.groupby(["patient_id", "measurement_date", "site"])["gpa_score"]
    spread = visits.max() - visits.min()
    assert (visits.size() == 2).mean() > 0.05 and visits.size().max() == 2
    assert spread.max() <= 1 and scored["rater_id"].notna().all()


def test_adverse_events(big):
    a, s = big["adverse_events"], big["sessions"]
    a = a.assign(key=map_terms(a["term"]))
    treated = s["patient_id"].nunique()
    incidence = a.groupby("key")["patient_id"].nunique() / treated
    assert abs(incidence["injection_site_pain"] - 0.45) < 0.04  # 246/541 in the study
    for term in ("burning", "erythema", "headache"):
        assert 0.01 < incidence[term] < 0.08
    sentinel = ["paradoxical_alopecia", "scarring", "acute_dermatitis", "sperm_abnormality"]
    assert incidence.reindex(sentinel).fillna(0).sum() < 0.015
    men = big["patients"].loc[big["patients"]["sex"] == "M", "patient_id"]
    assert a.loc[a["key"] == "sperm_abnormality", "patient_id"].isin(men).all()
    # frontal edema mostly after the first two sessions, lasting 1-4 days
    number = s.sort_values("session_date").groupby("patient_id").cumcount().add(1)
    edema = a[a["key"] == "frontal_edema"]
    k = number.set_axis(s.sort_values("session_date")["session_id"]).reindex(edema["session_id"])
    assert (k.dropna() <= 2).mean() > 0.6
    assert edema["duration_days"].dropna().between(1, 4).all()
    assert set(a["severity"].dropna()) == {"mild", "moderate", "severe"}
    assert a["session_id"].notna().mean() > 0.9


# ------------------------------------------------------------------------------ bundled sample
def test_bundled_sample_is_generate_sample_default(tmp_path):
    here = sample_path()
    assert sorted(p.name for p in here.iterdir()) == [
        "README.md", "adverse_events.csv", "measurements.csv", "patients.csv", "sessions.csv"]
    written = write_export(generate_sample(), tmp_path)
    for path in written:
        assert filecmp.cmp(path, here / path.name, shallow=False), path.name
    readme = (here / "README.md").read_text(encoding="utf-8")
    assert "outcomes sample --patients 300 --seed 2026" in readme
    for path in written:  # the README's size table matches the files
        rows = sum(1 for _ in path.open(encoding="utf-8")) - 1
        assert re.search(rf"`{path.name}` \| {rows:,} \|", readme), path.name


def test_bundled_sample_loads_with_nothing_quarantined():
    tables, quarantine = _load(sample_path())
    assert quarantine.empty
    assert [len(tables[n]) for n in NAMES] == [300, 1355, 833, 439]
    p, s, a = tables["patients"], tables["sessions"], tables["adverse_events"]
    assert (a["term"] != "other").all()
    sentinel = a["term"].isin(["paradoxical_alopecia", "scarring", "acute_dermatitis",
                               "sperm_abnormality"])
    assert 1 <= sentinel.sum() <= 3
    # a few screening deviations to find
    w = s.merge(p, on="patient_id")
    cbp = w[w["childbearing_potential"].fillna(False)]
    assert cbp["pregnancy_test"].isna().sum() >= 1
    assert (~cbp["contraception"].fillna(False)).sum() >= 1
    assert (cbp["pregnancy_test"] == "positive").sum() >= 1
    assert w["hypersensitivity_5ari"].fillna(False).sum() >= 1


# ------------------------------------------------------------------------------ formats, CLI
@pytest.mark.parametrize("fmt", ["csv", "parquet", "xlsx"])
def test_every_format_loads_to_the_same_tables(tmp_path, fmt):
    tables = generate_sample(40, seed=3)
    paths = write_export(tables, tmp_path / fmt, fmt=fmt)
    if fmt == "xlsx":
        assert [p.name for p in paths] == ["export.xlsx"]
    else:
        assert sorted(p.name for p in paths) == sorted(f"{n}.{fmt}" for n in NAMES)
    loaded, quarantine = _load(paths[0] if fmt == "xlsx" else tmp_path / fmt)
    assert quarantine.empty
    reference, _ = _load(write_export(tables, tmp_path / "ref", fmt="csv")[0].parent)
    for name in NAMES:
        pd.testing.assert_frame_equal(loaded[name], reference[name])


def test_cli_sample_writes_the_files(tmp_path):
    out = tmp_path / "export"
    run = run_cli("sample", "--patients", "120", "--seed", "4", "--out", out,
                  "--format", "parquet")
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.parquet" for n in NAMES)
    expected = generate_sample(120, seed=4)
    for name in NAMES:
        assert len(pd.read_parquet(out / f"{name}.parquet")) == len(expected[name])
        assert re.search(rf"{name}\s+{len(expected[name]):,} rows", run.stdout)
    assert "P00001" not in run.stdout  # no patient-level row printed


def test_cli_sample_function_and_bad_size(tmp_path, capsys):
    from argparse import Namespace

    assert cli_sample(Namespace(patients=30, seed=1, out=str(tmp_path), format="csv")) == 0
    assert "patients" in capsys.readouterr().out
    assert (tmp_path / "sessions.csv").exists()
    run = run_cli("sample", "--patients", "0", "--out", tmp_path / "x")
    assert run.returncode == 2 and "Traceback" not in run.stderr
