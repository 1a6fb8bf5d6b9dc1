"""Tests for outcomes.stats.

Reference values come from R 4.2.2 (tests/reference/stats.R, whose printed output is pasted
at its end) and from Newcombe's 1998 papers; the R call or the table is cited beside each value.
The tests do not need R.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from outcomes.errors import AnalysisError
from outcomes.stats import (
    binom_test,
    fisher_test,
    funnel_limits,
    mean_ci,
    newcombe_difference,
    proportion_ci,
    proportions,
)

FAST = settings(max_examples=50, deadline=None)

# (k, n, low, high) from R: prop.test(k, n, correct = FALSE)$conf.int
WILSON_R = [
    (81, 263, 0.255288519878274, 0.3662095769828),
    (15, 148, 0.0623863995307363, 0.160487241723308),
    (0, 20, 0, 0.161125158052819),
    (1, 29, 0.00611321429276266, 0.171755218793203),
    (29, 29, 0.883030201500259, 1),
    (33, 86, 0.288014400019719, 0.489371227256035),
    (69, 86, 0.706040887205377, 0.872756481877663),
    (246, 541, 0.413220209479539, 0.496845371605168),
    (0, 541, 0, 0.00705059932298276),
    (5, 10, 0.236593090512564, 0.763406909487436),
]

# (k, n, low, high) from R: binom.test(k, n)$conf.int
CLOPPER_PEARSON_R = [
    (81, 263, 0.252736745585271, 0.367621922601351),
    (15, 148, 0.0578440100834486, 0.161650490349479),
    (0, 20, 0, 0.168433470983085),
    (1, 29, 0.000872646883579923, 0.177644295488723),
    (29, 29, 0.880555130930497, 1),
    (33, 86, 0.280837866725222, 0.494854847523135),
    (69, 86, 0.70247855467039, 0.880422264142097),
    (246, 541, 0.412176597111928, 0.497747602129349),
    (0, 541, 0, 0.00679543703554564),
    (5, 10, 0.187086028447399, 0.812913971552601),
]

# (k, n, p, p_value) from R: binom.test(k, n, p)$p.value
BINOM_R = [
    (69, 86, 0.8, 1),
    (33, 86, 0.38, 1),
    (60, 86, 0.8, 0.0217295533438221),
    (246, 541, 0.45, 0.829073534817804),
    (0, 20, 0.1, 0.254529978024905),
    (3, 10, 0.5, 0.34375),
    (2, 6, 0.5, 0.6875),
    (20, 86, 0.38, 0.00517163398936989),
    (86, 86, 0.8, 6.70840544015734e-09),
    (0, 541, 0.01, 0.00805333023304274),
    (1, 1, 0.5, 1),
    (7, 12, 1 / 3, 0.120399065935824),
    (5, 100, 0, 0),
    (0, 100, 0, 1),
    (100, 100, 1, 1),
]

# (k1, n1, k2, n2, p_value) from R: fisher.test(matrix(c(k1, k2, n1 - k1, n2 - k2), 2))$p.value
FISHER_R = [
    (56, 70, 48, 80, 0.0125211297492092),
    (9, 10, 3, 10, 0.0197666110978804),
    (6, 7, 2, 7, 0.102564102564103),
    (5, 56, 0, 29, 0.160621443209471),
    (60, 86, 33, 86, 6.11035102975079e-05),
    (10, 40, 246, 541, 0.0129350532713241),
    (0, 30, 0, 541, 1),
    (3, 12, 5, 20, 1),
    (1, 2, 1, 2, 1),
    (40, 50, 69, 86, 1),
]

# (n, p0, level, low, high): Spiegelhalter (2005) Appendix A.1.1 interpolated limits computed in
# R from qbinom/pbinom, q = (1 - level) / 2: spieg <- function(q, n, p0) {r <- qbinom(q, n, p0);
# a <- (pbinom(r, n, p0) - q) / (pbinom(r, n, p0) - pbinom(r - 1, n, p0)); (r - a) / n}
# (clipped to [0, 1]); low = spieg(q, n, p0), high = 1 - spieg(q, n, 1 - p0)
FUNNEL_R = [
    (10, 0.38, 0.950, 0.0322836439859249, 0.749905247497425),
    (10, 0.38, 0.998, 0, 0.908505180013759),
    (10, 0.80, 0.950, 0.470506117078993, 1),
    (10, 0.80, 0.998, 0.302463960193452, 1),
    (50, 0.38, 0.950, 0.237976100777165, 0.527391528146411),
    (50, 0.38, 0.998, 0.165894525336673, 0.607808890804421),
    (50, 0.80, 0.950, 0.672906116647942, 0.915595177987731),
    (50, 0.80, 0.998, 0.600855902324962, 0.965223856792492),
    (100, 0.38, 0.950, 0.281045361014469, 0.481231597543496),
    (100, 0.38, 0.998, 0.229470778682657, 0.537889656252706),
    (100, 0.80, 0.950, 0.713523914966408, 0.880257767284931),
    (100, 0.80, 0.998, 0.663234148483358, 0.919021747435401),
    (541, 0.38, 0.950, 0.338393194926509, 0.422051045491792),
    (541, 0.38, 0.998, 0.315247685264762, 0.446005634853499),
    (541, 0.80, 0.950, 0.764837834288738, 0.834115418209979),
    (541, 0.80, 0.998, 0.74439572105135, 0.852416477070448),
]

counts = st.integers(min_value=1, max_value=400).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n)))
methods = st.sampled_from(["wilson", "clopper-pearson"])


# --------------------------------------------------------------------------------------------
# proportion_ci / proportions
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("k", "n", "low", "high"), WILSON_R)
def test_wilson_matches_r_prop_test(k, n, low, high):
    assert_allclose(proportion_ci(k, n), (low, high), rtol=1e-10, atol=1e-12)


def test_wilson_vectorised_matches_r():
    k, n, low, high = map(np.array, zip(*WILSON_R))
    got_low, got_high = proportion_ci(k, n)
    assert isinstance(got_low, np.ndarray) and got_low.shape == k.shape
    assert_allclose(got_low, low, rtol=1e-10, atol=1e-12)
    assert_allclose(got_high, high, rtol=1e-10, atol=1e-12)


def test_wilson_other_level_matches_r():
    # R: prop.test(33, 86, correct = FALSE, conf.level = 0.99)$conf.int
    assert_allclose(proportion_ci(33, 86, level=0.99), (0.261638491449998, 0.522460150273109),
                    rtol=1e-10)


@pytest.mark.parametrize(("k", "n", "low", "high"), [
    # Newcombe RG (1998) Stat Med 17:857-872, Table I, method 3 (score interval, no c.c.)
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_matches_newcombe_table_i(k, n, low, high):
    assert_allclose(proportion_ci(k, n), (low, high), atol=5e-5)


@pytest.mark.parametrize(("k", "n", "low", "high"), CLOPPER_PEARSON_R)
def test_clopper_pearson_matches_r_binom_test(k, n, low, high):
    got = proportion_ci(k, n, method="clopper-pearson")
    assert_allclose(got, (low, high), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("method", ["wilson", "clopper-pearson"])
def test_edge_counts_are_defined_without_warnings(method):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        low0, high0 = proportion_ci(0, 20, method=method)
        lown, highn = proportion_ci(20, 20, method=method)
        lowe, highe = proportion_ci(0, 0, method=method)
        arr_low, arr_high = proportion_ci([0, 3, 0], [0, 10, 5], method=method)
    assert low0 == 0 and 0 < high0 < 1
    assert 0 < lown < 1 and highn == 1
    assert np.isnan(lowe) and np.isnan(highe)
    assert np.isnan(arr_low[0]) and np.isnan(arr_high[0]) and not np.isnan(arr_low[1:]).any()


def test_scalars_in_give_floats_out():
    low, high = proportion_ci(3, 10)
    assert type(low) is float and type(high) is float


@pytest.mark.parametrize(("kwargs", "fragment"), [
    ({"k": -1, "n": 10}, "k: expected a whole number"),
    ({"k": 1.5, "n": 10}, "k: expected a whole number"),
    ({"k": 11, "n": 10}, "cannot exceed"),
    ({"k": np.nan, "n": 10}, "no missing values"),
    ({"k": 1, "n": 10, "level": 95}, "level"),
    ({"k": 1, "n": 10, "method": "wald"}, "wilson, clopper-pearson"),
    ({"k": [1, 2, 3], "n": [5, 6]}, "different lengths"),
])
def test_invalid_input_raises_analysis_error(kwargs, fragment):
    with pytest.raises(AnalysisError, match=fragment):
        proportion_ci(**kwargs)


def test_proportions_frame():
    df = proportions([33, 0, 5], [86, 0, 5], method="clopper-pearson")
    assert list(df.columns) == ["k", "n", "rate", "ci_low", "ci_high", "method"]
    assert df["k"].dtype == "int64" and df["n"].dtype == "int64"
    assert_allclose(df["rate"].to_numpy(), [33 / 86, np.nan, 1.0])
    # R: binom.test(33, 86)$conf.int
    assert_allclose(df.loc[0, ["ci_low", "ci_high"]].to_numpy(dtype=float),
                    [0.280837866725222, 0.494854847523135], rtol=1e-8)
    assert np.isnan(df.loc[1, "ci_low"]) and df.loc[2, "ci_high"] == 1.0
    assert (df["method"] == "clopper-pearson").all()


def test_proportions_accepts_nullable_series_and_does_not_mutate():
    k = pd.Series([1, 2], dtype="Int64")
    n = pd.Series([4, 8], dtype="Int64")
    before = (k.copy(), n.copy())
    df = proportions(k, n)
    pd.testing.assert_series_equal(k, before[0])
    pd.testing.assert_series_equal(n, before[1])
    assert_allclose(df["rate"], [0.25, 0.25])


@FAST
@given(counts, methods, st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_interval_contains_rate_and_lies_in_unit_interval(kn, method, level):
    k, n = kn
    low, high = proportion_ci(k, n, level=level, method=method)
    assert 0.0 <= low <= k / n <= high <= 1.0
    assert low < high


@FAST
@given(counts, methods)
def test_interval_symmetry(kn, method):
    k, n = kn
    low, high = proportion_ci(k, n, method=method)
    low_c, high_c = proportion_ci(n - k, n, method=method)
    assert_allclose((low, high), (1 - high_c, 1 - low_c), atol=1e-12)


@FAST
@given(st.integers(min_value=1, max_value=50), st.integers(min_value=1, max_value=20),
       st.integers(min_value=2, max_value=10))
def test_wilson_narrows_as_n_grows_for_fixed_rate(k, extra, factor):
    n = k + extra
    low1, high1 = proportion_ci(k, n)
    low2, high2 = proportion_ci(k * factor, n * factor)
    assert high2 - low2 < high1 - low1


@FAST
@given(st.integers(min_value=1, max_value=30).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))))
def test_clopper_pearson_contains_wilson_at_small_n(kn):
    k, n = kn
    w_low, w_high = proportion_ci(k, n)
    c_low, c_high = proportion_ci(k, n, method="clopper-pearson")
    assert c_low <= w_low + 1e-12 and w_high <= c_high + 1e-12


# --------------------------------------------------------------------------------------------
# exact tests
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("k", "n", "p", "expected"), BINOM_R)
def test_binom_test_matches_r(k, n, p, expected):
    assert_allclose(binom_test(k, n, p), expected, rtol=1e-9, atol=1e-15)


def test_binom_test_vectorised_and_no_data():
    k, n, p, expected = map(np.array, zip(*BINOM_R))
    assert_allclose(binom_test(k, n, p), expected, rtol=1e-9, atol=1e-15)
    got = binom_test([0, 33], [0, 86], 0.38)
    assert np.isnan(got[0]) and got[1] == pytest.approx(1.0)


def test_binom_test_rejects_a_percentage():
    with pytest.raises(AnalysisError, match="fraction, not a percentage"):
        binom_test(33, 86, 38)


@pytest.mark.parametrize(("k1", "n1", "k2", "n2", "expected"), FISHER_R)
def test_fisher_test_matches_r(k1, n1, k2, n2, expected):
    assert_allclose(fisher_test(k1, n1, k2, n2), expected, rtol=1e-9)


def test_fisher_test_vectorised_and_no_data():
    k1, n1, k2, n2, expected = map(np.array, zip(*FISHER_R))
    assert_allclose(fisher_test(k1, n1, k2, n2), expected, rtol=1e-9)
    got = fisher_test([0, 9], [0, 10], 3, 10)
    assert np.isnan(got[0]) and got[1] == pytest.approx(0.0197666110978804)


@FAST
@given(counts, st.floats(min_value=0, max_value=1))
def test_binom_p_value_in_unit_interval_and_symmetric(kn, p):
    k, n = kn
    pv = binom_test(k, n, p)
    assert 0.0 <= pv <= 1.0
    assert_allclose(pv, binom_test(n - k, n, 1 - p), rtol=1e-7, atol=1e-12)


@FAST
@given(counts, counts)
def test_fisher_p_value_in_unit_interval_and_symmetric(a, b):
    pv = fisher_test(*a, *b)
    assert 0.0 <= pv <= 1.0
    assert_allclose(pv, fisher_test(*b, *a), rtol=1e-9)
    assert_allclose(pv, fisher_test(a[1] - a[0], a[1], b[1] - b[0], b[1]), rtol=1e-9)


# --------------------------------------------------------------------------------------------
# Newcombe difference
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("k1", "n1", "k2", "n2", "low", "high"), [
    # Newcombe RG (1998) Stat Med 17:873-890, Table II, method 10 (hybrid score, no c.c.)
    (56, 70, 48, 80, 0.0524, 0.3339),
    (9, 10, 3, 10, 0.1705, 0.8090),
    (6, 7, 2, 7, 0.0582, 0.8062),
    (5, 56, 0, 29, -0.0381, 0.1926),
])
def test_newcombe_matches_paper_table_ii(k1, n1, k2, n2, low, high):
    diff, got_low, got_high = newcombe_difference(k1, n1, k2, n2)
    assert diff == pytest.approx(k1 / n1 - k2 / n2)
    assert_allclose((got_low, got_high), (low, high), atol=5e-5)


def test_newcombe_from_r_wilson_limits():
    # delta/epsilon built from the R Wilson limits above (prop.test(..., correct = FALSE)):
    # 69/86 vs 33/86
    p1, l1, u1 = 69 / 86, 0.706040887205377, 0.872756481877663
    p2, l2, u2 = 33 / 86, 0.288014400019719, 0.489371227256035
    low = p1 - p2 - np.hypot(p1 - l1, u2 - p2)
    high = p1 - p2 + np.hypot(u1 - p1, p2 - l2)
    assert_allclose(newcombe_difference(69, 86, 33, 86)[1:], (low, high), rtol=1e-10)


def test_newcombe_vectorised_and_no_data():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        diff, low, high = newcombe_difference([56, 0], [70, 0], [48, 3], [80, 10])
    assert_allclose([diff[0], low[0], high[0]], [0.2, 0.0524, 0.3339], atol=5e-5)
    assert np.isnan([diff[1], low[1], high[1]]).all()


@FAST
@given(counts, counts)
def test_newcombe_contains_difference_and_is_antisymmetric(a, b):
    diff, low, high = newcombe_difference(*a, *b)
    assert -1 <= low <= diff <= high <= 1
    rdiff, rlow, rhigh = newcombe_difference(*b, *a)
    assert_allclose((rdiff, rlow, rhigh), (-diff, -high, -low), atol=1e-12)


# --------------------------------------------------------------------------------------------
# mean_ci
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("x", "level", "expected"), [
    # R: mean(x); t.test(x)$conf.int
    ([1, 2, 3, 4], 0.95, (2.5, 0.445739743239479, 4.55426025676052, 4)),
    ([12.5, -3, 7.25, 0, 4.5], 0.95, (4.25, -3.29636553788186, 11.7963655378819, 5)),
    ([8.1, 9.9], 0.95, (9.0, -2.43558426255723, 20.4355842625572, 2)),
    # R: t.test(c(12.5, -3, 7.25, 0, 4.5), conf.level = 0.9)$conf.int
    ([12.5, -3, 7.25, 0, 4.5], 0.90, (4.25, -1.5443501531011, 10.0443501531011, 5)),
])
def test_mean_ci_matches_r_t_test(x, level, expected):
    got = mean_ci(np.array(x, dtype=float), level=level)
    assert_allclose(got[:3], expected[:3], rtol=1e-10)
    assert got[3] == expected[3]


def test_mean_ci_small_samples_and_missing_values():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        one = mean_ci([3.0])
        none = mean_ci([])
        all_nan = mean_ci([np.nan, np.nan])
        with_nan = mean_ci([1.0, np.nan, 2.0, 3.0, 4.0])
    assert one[0] == 3.0 and np.isnan(one[1:3]).all() and one[3] == 1
    assert np.isnan(none[:3]).all() and none[3] == 0
    assert np.isnan(all_nan[:3]).all() and all_nan[3] == 0
    assert_allclose(with_nan[:3], (2.5, 0.445739743239479, 4.55426025676052), rtol=1e-10)
    assert with_nan[3] == 4


# --------------------------------------------------------------------------------------------
# funnel_limits
# --------------------------------------------------------------------------------------------
def test_funnel_limits_match_r_quantiles():
    n = np.array([10, 50, 100, 541])
    got = pd.concat([funnel_limits(n, p0) for p0 in (0.38, 0.80)], ignore_index=True)
    assert list(got.columns) == ["n", "p0", "level", "low", "high"]
    expected = pd.DataFrame(FUNNEL_R, columns=["n", "p0", "level", "low", "high"])
    merged = expected.merge(got, on=["n", "p0", "level"], suffixes=("_r", ""))
    assert len(merged) == len(expected) == len(got)
    assert_allclose(merged["low"], merged["low_r"], rtol=1e-9, atol=1e-12)
    assert_allclose(merged["high"], merged["high_r"], rtol=1e-9, atol=1e-12)


def test_funnel_limit_by_hand():
    # n = 10, p0 = 0.5, lower 95% limit: qbinom(0.025, 10, 0.5) = 2;
    # pbinom(2, 10, .5) = 56/1024, pbinom(1, 10, .5) = 11/1024;
    # alpha = (56/1024 - 0.025) / (45/1024); limit = (2 - alpha) / 10; upper by symmetry
    alpha = (56 / 1024 - 0.025) / (45 / 1024)
    got = funnel_limits(10, 0.5, levels=(0.95,))
    assert got.loc[0, "low"] == pytest.approx((2 - alpha) / 10, rel=1e-12)
    assert got.loc[0, "high"] == pytest.approx(1 - (2 - alpha) / 10, rel=1e-12)
    # so 2/10 and 8/10 (exact one-sided tails 0.0547, R: pbinom(2, 10, .5)) are inside,
    # 1/10 and 9/10 (tails 0.0107) outside
    assert got.loc[0, "low"] < 0.2 and got.loc[0, "high"] > 0.8
    assert got.loc[0, "low"] > 0.1 and got.loc[0, "high"] < 0.9


@FAST
@given(st.integers(min_value=1, max_value=300), st.floats(min_value=0.001, max_value=0.999),
       st.sampled_from([0.8, 0.95, 0.998]))
def test_funnel_flags_agree_with_exact_one_sided_tests(n, p0, level):
    from scipy.stats import binom

    q = (1 - level) / 2
    got = funnel_limits(n, p0, levels=(level,)).iloc[0]
    y = np.arange(n + 1)
    lower_tail, upper_tail = binom.cdf(y, n, p0), binom.sf(y - 1, n, p0)
    # skip outcomes whose tail probability is within rounding of q (ties are undefined)
    clear = (np.abs(lower_tail - q) > 1e-9) & (np.abs(upper_tail - q) > 1e-9)
    assert ((y / n < got["low"]) == (lower_tail < q))[clear].all()
    assert ((y / n > got["high"]) == (upper_tail < q))[clear].all()


def test_funnel_limits_no_data_and_narrowing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = funnel_limits([0, 20, 200, 2000], 0.3)
    assert got.loc[got["n"] == 0, ["low", "high"]].isna().all().all()
    for _, part in got[got["n"] > 0].groupby("level"):
        width = (part["high"] - part["low"]).to_numpy()
        assert (np.diff(width) < 0).all()
    wide, narrow = got[got["level"] == 0.998], got[got["level"] == 0.95]
    ok = narrow["n"].to_numpy() > 0
    assert (wide["low"].to_numpy()[ok] <= narrow["low"].to_numpy()[ok]).all()
    assert (wide["high"].to_numpy()[ok] >= narrow["high"].to_numpy()[ok]).all()


@FAST
@given(st.integers(min_value=1, max_value=2000), st.floats(min_value=0.01, max_value=0.99))
def test_funnel_limits_bracket_target(n, p0):
    got = funnel_limits(n, p0)
    assert (got["low"] <= p0 + 1e-12).all() and (got["high"] >= p0 - 1e-12).all()
    assert got[["low", "high"]].stack().between(0, 1).all()


def test_funnel_flags_wide_frame_and_widest_limit_crossed():
    """One shared builder for the practitioner funnel (strata) and the clinic funnel (meta).
    At p0 = 0.5, n = 10: R 1 - pbinom(8, 10, 0.5) = 0.01074 (>= 0.001, < 0.025) and
    pbinom(0, 10, 0.5) = 0.000977 (< 0.001); so 9/10 is above the 95% limit only, 0/10 below
    the 99.8% limit, 5/10 within."""
    from outcomes.stats import funnel_columns, funnel_flags

    assert funnel_columns((0.998, 0.95)) == ["low95", "high95", "low998", "high998"]
    f = funnel_flags([9, 0, 5], [10, 10, 10], 0.5)
    assert f.columns.tolist() == ["rate", "p0", "low95", "high95", "low998", "high998", "flag"]
    assert f["flag"].tolist() == ["above 95%", "below 99.8%", "within"]
    assert f["rate"].tolist() == [0.9, 0.0, 0.5] and (f["p0"] == 0.5).all()
    assert len(funnel_flags([], [], 0.5)) == 0


def test_binom_ppf_matches_scipy_at_the_edges_without_warnings():
    """p0 = 0, 1 or NaN (a clinic or practitioner with no or every patient improved, or none
    assessed): the quantiles scipy.stats.binom.ppf gives, and no RuntimeWarning (a NaN cast to
    int raised one on 20-patient clinics, seeds 101 and 103)."""
    import warnings

    from scipy.stats import binom

    from outcomes.stats import _binom_ppf

    q = np.array([0.001, 0.025, 0.5, 0.975, 0.999])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for n in (1, 3, 10, 57):
            for p in (0.0, 1.0, 0.3, 0.84):
                np.testing.assert_array_equal(_binom_ppf(q, n, p), binom.ppf(q, n, p))
            assert np.isnan(_binom_ppf(q, n, np.nan)).all()
