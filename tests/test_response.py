"""Response rates, benchmarks, density sensitivity and change.

Counts are known by construction (tests/cohort_builder.py). Reference values were computed
once with R 4.2 (Debian r-base); the call is cited beside each value.
"""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from cohort_builder import (REFERENCE, REFERENCE_CUTOFF, REFERENCE_DENSITY_ABS_MEAN,
                            REFERENCE_DENSITY_REL_MEAN, Rows, reference_export)
from outcomes.cohort import build_cohort
from outcomes.response import (RESPONSE_COLUMNS, density_change, density_sensitivity,
                               response_table)


@pytest.fixture(scope="module")
def cohort():
    return build_cohort(reference_export(), cutoff=REFERENCE_CUTOFF)


@pytest.fixture(scope="module")
def table(cohort):
    return response_table(cohort).set_index(["family", "group", "outcome"])


def test_shape_and_columns(cohort):
    t = response_table(cohort)
    assert tuple(t.columns) == RESPONSE_COLUMNS
    assert len(t) == 12 and not t.duplicated(["family", "group", "outcome"]).any()


@pytest.mark.parametrize("key", list(REFERENCE))
def test_counts_by_construction(table, key):
    k, n = REFERENCE[key]
    row = table.loc[key]
    assert (row["k"], row["n"]) == (k, n)
    assert row["rate"] == k / n
    assert row["method"] == "wilson"


def test_comparable_improved_against_quoted_80(table):
    row = table.loc[("photographic", "comparable", "improved")]
    assert row["benchmark_id"] == "saceda2022_improved"
    assert row["benchmark_rate"] == 0.80
    # R: prop.test(69, 86, correct = FALSE)$conf.int -> 0.706040887205377 0.872756481877663
    assert_allclose([row["ci_low"], row["ci_high"]], [0.706040887205377, 0.872756481877663],
                    rtol=1e-9)
    # R: binom.test(69, 86, 0.8)$p.value -> 1
    assert_allclose(row["p_value"], 1.0, rtol=1e-9)


def test_comparable_marked_against_33_of_86(table):
    row = table.loc[("photographic", "comparable", "dramatic")]
    assert row["benchmark_id"] == "saceda2022_marked"
    assert (row["benchmark_k"], row["benchmark_n"]) == (33, 86)
    # R: prop.test(33, 86, correct = FALSE)$conf.int -> 0.288014400019719 0.489371227256035
    assert_allclose([row["ci_low"], row["ci_high"]], [0.288014400019719, 0.489371227256035],
                    rtol=1e-9)
    # R: binom.test(33, 86, 0.38)$p.value -> 1 ; fisher.test(matrix(c(33,33,53,53),2)) -> 1
    assert_allclose([row["p_value"], row["fisher_p_value"]], [1.0, 1.0], rtol=1e-9)
    # Newcombe (1998) method 10 from R's Wilson limits (prop.test, correct = FALSE):
    # diff 0, interval -0.142554288558886 .. 0.142554288558886
    assert_allclose([row["diff"], row["diff_ci_low"], row["diff_ci_high"]],
                    [0.0, -0.142554288558886, 0.142554288558886], atol=1e-12)


def test_all_patients_against_benchmarks(table):
    imp = table.loc[("photographic", "all", "improved")]
    # R: binom.test(88, 111, 0.8)$p.value -> 0.813092387313971
    assert_allclose(imp["p_value"], 0.813092387313971, rtol=1e-9)
    dra = table.loc[("photographic", "all", "dramatic")]
    # R: binom.test(43, 111, 0.38)$p.value -> 0.922161753106537
    assert_allclose(dra["p_value"], 0.922161753106537, rtol=1e-9)
    # Newcombe method 10 (43/111 vs 33/86), Wilson limits from R prop.test:
    # 0.00366645715482922 -0.13218952653933469 0.13707667322165029
    assert_allclose([dra["diff"], dra["diff_ci_low"], dra["diff_ci_high"]],
                    [0.00366645715482922, -0.13218952653933469, 0.13707667322165029],
                    rtol=1e-9)


def test_worst_case_is_a_bound_not_compared_with_the_study(table):
    # issue 11 item 3: improved / due is not like for like with the study's complete-case
    # figure; it has no benchmark and no test (it was tested against 80%: p 0.429)
    for group in ("comparable", "all"):
        row = table.loc[("photographic", group, "worst_case_improved")]
        assert row["benchmark_id"] is None
        assert row[["benchmark_rate", "p_value", "fisher_p_value", "diff", "mdd_below"]] \
            .isna().all()
    assert table.loc[("photographic", "comparable", "worst_case_improved"),
                     ["k", "n"]].tolist() == [69, 90]


def test_density_rows_have_no_benchmark(table):
    dens = table.loc["density"]
    assert dens["benchmark_id"].isna().all()
    assert dens[["benchmark_rate", "p_value", "fisher_p_value", "diff"]].isna().all().all()
    assert dens["benchmark_k"].isna().all()
    # R: prop.test(27, 37, correct = FALSE)$conf.int -> 0.570218316752857 0.846025384889509
    row = table.loc[("density", "all", "improved")]
    assert_allclose([row["ci_low"], row["ci_high"]], [0.570218316752857, 0.846025384889509],
                    rtol=1e-9)


def test_clopper_pearson_on_request():
    from outcomes.definitions import Definitions
    import dataclasses

    defs = dataclasses.replace(Definitions(), interval_method="clopper-pearson")
    c = build_cohort(reference_export(), cutoff=REFERENCE_CUTOFF, definitions=defs)
    t = response_table(c).set_index(["family", "group", "outcome"])
    row = t.loc[("photographic", "comparable", "dramatic")]
    assert row["method"] == "clopper-pearson"
    # R: binom.test(33, 86)$conf.int -> 0.280837866725222 0.494854847523135
    assert_allclose([row["ci_low"], row["ci_high"]], [0.280837866725222, 0.494854847523135],
                    rtol=1e-7)


def _cohort_of(scores, cutoff=REFERENCE_CUTOFF):
    r = Rows()
    for i, s in enumerate(scores):
        r.add(f"P{i}", gpa=[] if s is None else [(365, s)])
    return build_cohort(r.export(), cutoff=cutoff)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_zero_of_n_all_of_n_and_no_data():
    none = response_table(_cohort_of([0] * 20)).set_index(["family", "group", "outcome"])
    row = none.loc[("photographic", "all", "improved")]
    assert (row["k"], row["n"], row["rate"], row["ci_low"]) == (0, 20, 0.0, 0.0)
    assert row["ci_high"] > 0   # the upper limit for 0/n is not 0
    every = response_table(_cohort_of([3] * 20)).set_index(["family", "group", "outcome"])
    row = every.loc[("photographic", "all", "dramatic")]
    assert (row["rate"], row["ci_high"]) == (1.0, 1.0) and row["ci_low"] < 1
    # nobody due yet: n = 0 everywhere -> rate, interval and tests NaN, no warning
    empty = response_table(_cohort_of([1] * 5, cutoff="2024-12-31"))
    assert (empty["n"] == 0).all()
    assert empty[["rate", "ci_low", "ci_high", "p_value", "fisher_p_value"]].isna().all().all()


def test_density_sensitivity(cohort):
    s = density_sensitivity(cohort)
    assert list(s.columns) == ["threshold", "k", "n", "rate", "ci_low", "ci_high"]
    by = dict(zip(s["threshold"], s["k"]))
    # by construction (cohort_builder._density): changes 10 x 0.30, 10 x 0.10, 5 x 0.10,
    # 10 x -0.05, 2 x 0.25
    assert by == {0.0: 27, 0.05: 27, 0.10: 27, 0.15: 12, 0.20: 12, 0.25: 12, 0.30: 10}
    assert (s["n"] == 37).all()


def test_density_change(cohort):
    ch = density_change(cohort).set_index("measure")
    assert ch.loc["absolute_per_cm2", "n"] == 37
    assert_allclose(ch.loc["absolute_per_cm2", "mean"], REFERENCE_DENSITY_ABS_MEAN, rtol=1e-12)
    assert_allclose(ch.loc["relative", "mean"], REFERENCE_DENSITY_REL_MEAN, rtol=1e-12)
    assert ch.loc["relative", "ci_low"] < ch.loc["relative", "mean"] < ch.loc["relative",
                                                                              "ci_high"]


def test_no_density_data_gives_nan_not_warning():
    c = _cohort_of([1, 2])
    ch = density_change(c)
    assert (ch["n"] == 0).all() and ch["mean"].isna().all()
    s = density_sensitivity(c)
    assert (s["n"] == 0).all() and s["rate"].isna().all()


def test_input_not_mutated_and_deterministic(cohort):
    before = copy.deepcopy(cohort.patients)
    a, b = response_table(cohort), response_table(cohort)
    pd.testing.assert_frame_equal(cohort.patients, before)
    pd.testing.assert_frame_equal(a, b)
    assert np.isfinite(a["rate"]).all()
