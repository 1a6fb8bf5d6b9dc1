"""Strata, practitioner funnel and quarterly p-chart series (counts by construction)."""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from cohort_builder import REFERENCE_CUTOFF, Rows, reference_export
from outcomes import stats
from outcomes.cohort import build_cohort
from outcomes.strata import STRATA, funnel_table, quarterly_table, strata_table


@pytest.fixture(scope="module")
def cohort():
    return build_cohort(reference_export(), cutoff=REFERENCE_CUTOFF)


def _kn(t, family, outcome, stratum, level):
    row = t.loc[(t["family"] == family) & (t["outcome"] == outcome) & (t["stratum"] == stratum)
                & (t["level"] == level)]
    assert len(row) == 1, (family, outcome, stratum, level)
    return int(row["k"].iloc[0]), int(row["n"].iloc[0])


def test_strata_by_construction(cohort):
    t = strata_table(cohort)
    assert list(t.columns) == ["family", "outcome", "stratum", "level", "k", "n", "rate",
                               "ci_low", "ci_high", "p_value", "p_value_holm"]
    # minoxidil: no = the 86 comparable (69 improved, 33 marked); yes 20 (15, 8); NA 5 (4, 2)
    assert _kn(t, "photographic", "improved", "minoxidil", "no") == (69, 86)
    assert _kn(t, "photographic", "improved", "minoxidil", "yes") == (15, 20)
    assert _kn(t, "photographic", "improved", "minoxidil", "not recorded") == (4, 5)
    assert _kn(t, "photographic", "dramatic", "minoxidil", "no") == (33, 86)
    # sex: comparable patient i is F when i % 3 == 0 (29 of 86); improved are i < 69 (23 F)
    assert _kn(t, "photographic", "improved", "sex", "F") == (23, 29)
    assert _kn(t, "photographic", "improved", "sex", "M") == (88 - 23, 111 - 29)
    # every stratum partitions the assessed patients
    for _, part in t.groupby(["family", "outcome"]):
        per = part.groupby("stratum")["n"].sum()
        assert set(per.index) == set(STRATA)
        assert per.nunique() == 1
    dens = t.loc[(t["family"] == "density") & (t["stratum"] == "age_band")]
    assert dens["n"].sum() == 37 and dens["k"].sum() == 27
    sev = t.loc[(t["family"] == "photographic") & (t["outcome"] == "improved")
                & (t["stratum"] == "severity")]
    assert sev["level"].tolist() == ["Norwood-Hamilton moderate"]   # grade III throughout


def test_funnel_by_construction(cohort):
    f = funnel_table(cohort).set_index("practitioner_id")
    # even comparable patients with P2 (43; improved even i < 69: 35); the rest with P1
    assert f.loc["P2", ["k", "n"]].tolist() == [35, 43]
    assert f.loc["P1", ["k", "n"]].tolist() == [53, 68]
    assert (f["p0"] == 88 / 111).all()
    lim = stats.funnel_limits([68, 43], 88 / 111, levels=(0.95, 0.998))
    np.testing.assert_allclose(f.loc[["P1", "P2"], "low95"], lim.loc[lim["level"] == 0.95,
                                                                     "low"])
    np.testing.assert_allclose(f.loc[["P1", "P2"], "high998"], lim.loc[lim["level"] == 0.998,
                                                                       "high"])
    assert (f["flag"] == "within").all()
    bench = funnel_table(cohort, p0=0.8)
    assert (bench["p0"] == 0.8).all()


def test_funnel_flags_an_outlier():
    r = Rows()
    for i in range(60):
        r.add(f"A{i}", practitioner="GOOD", gpa=[(365, 2)])
    for i in range(30):
        r.add(f"B{i}", practitioner="LOW", gpa=[(365, 0 if i < 25 else 2)])
    f = funnel_table(build_cohort(r.export(), cutoff=REFERENCE_CUTOFF)).set_index(
        "practitioner_id")
    assert f.loc["LOW", "flag"] == "below 99.8%"
    assert f.loc["GOOD", "flag"] == "above 99.8%"


def test_quarterly_assignment_and_gaps():
    r = Rows()
    r.add("A", t0="2024-03-31", gpa=[(365, 1)])   # 12-month point 2025-03-31: 2025Q1
    r.add("B", t0="2024-04-01", gpa=[(365, 0)])   # 2025-04-01: 2025Q2
    r.add("C", t0="2024-10-01", gpa=[(365, 1)])   # 2025-10-01: 2025Q4; 2025Q3 has nobody
    q = quarterly_table(build_cohort(r.export(), cutoff=REFERENCE_CUTOFF))
    assert q["quarter"].tolist() == ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    assert q["k"].tolist() == [1, 0, 0, 1] and q["n"].tolist() == [1, 1, 0, 1]
    assert np.isnan(q.loc[2, "rate"]) and q["centre"].iloc[0] == 2 / 3


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_nobody_assessed():
    r = Rows()
    r.add("A", gpa=[(365, 1)])
    c = build_cohort(r.export(), cutoff="2024-12-31")
    assert funnel_table(c).empty and quarterly_table(c).empty
    assert strata_table(c).empty


def test_not_mutated_and_deterministic(cohort):
    before = copy.deepcopy(cohort.patients)
    a, b = strata_table(cohort), strata_table(cohort)
    funnel_table(cohort), quarterly_table(cohort)
    pd.testing.assert_frame_equal(cohort.patients, before)
    pd.testing.assert_frame_equal(a, b)
