"""The p-chart read the NHS "Making Data Count" way (outcomes.stats.p_chart, spc_rules).

The rule tests are ports of NHSRplotthedots' own testthat expectations
(github.com/nhs-r-community/NHSRplotthedots at commit 050b07d7, 2025-09-29; file and test named
beside each), so the rules keep its defaults (7-point shift, 7-point trend, two in three beyond
2 sigma on one side) and its semantics. Exact binomial tail probabilities are from R 4.2.2
(``pbinom``, ``pnorm``; the call beside each value; tests/reference/spc.R reproduces them).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.errors import AnalysisError
from outcomes.stats import P_CHART_COLUMNS, p_chart, spc_rules
from outcomes.stats import _part_of_runs, _trend_points, _two_in_three

FAST = settings(max_examples=60, deadline=None)

# R: pnorm(-3); pnorm(-2)
TAIL3, TAIL2 = 0.001349898031630, 0.022750131948179


def _shift(v):
    return _part_of_runs(np.asarray(v, dtype=float), 7).astype(int).tolist()


def _trend(y):
    return _trend_points(np.asarray(y, dtype=float), 7)


# ---------------------------------------------------------------------------------------------
# ports of tests/testthat/test-ptd_calculate_point_type.R
# ---------------------------------------------------------------------------------------------
def test_shift_seven_points_one_side_of_mean_port():
    """'ptd_seven_point_one_side_mean works as expected', composed with
    ptd_part_of_seven_trend as ptd_special_cause_type does: every point of a run of >= 7 on one
    side is part of the signal."""
    assert _shift([]) == []
    assert _shift([1] * 6) == [0] * 6
    assert _shift([1] * 6 + [-1]) == [0] * 7
    # R: ptd_seven_point_one_side_mean(c(rep(1, 8), -1)) == c(0,0,0,0,0,0,1,1,0); its part-of
    # (ptd_part_of_seven_trend) marks the 8 points of the run
    assert _shift([1] * 8 + [-1]) == [1] * 8 + [0]
    assert _shift([-1] * 8 + [1]) == [1] * 8 + [0]


def test_shift_point_on_the_mean_ends_the_run():
    """R/ptd_calculate_point_type.R, ptd_seven_point_one_side_mean:
    ``all(vp[[i]] == vp[i - 1:6]) & vp[[i]] != 0``: side 0 (on the mean) is equal to no side,
    so 4 above, 1 on, 4 above is no shift."""
    assert _shift([1] * 4 + [0] + [1] * 4) == [0] * 9
    assert _shift([1] * 7 + [0] + [1] * 3) == [1] * 7 + [0] * 4


def test_trend_port():
    """'ptd_seven_point_trend works as expected' + 'ptd_part_of_seven_trend works as
    expected'."""
    part, _ = _trend(np.arange(1, 7))
    assert not part.any()                                   # 1:6, six points
    part, _ = _trend([1, 2, 3, 3, 4, 5, 6])                 # c(1:3, 3:6): a tie breaks it
    assert not part.any()
    part, d = _trend(np.arange(1, 8))                       # 1:7
    assert part.all() and (d == 1).all()
    part, d = _trend([2, *range(1, 8), 3])                  # c(2, 1:7, 3)
    assert part.tolist() == [False] + [True] * 7 + [False]
    assert (d[1:8] == 1).all()
    part, d = _trend(np.arange(7, 0, -1))                   # 7:1
    assert part.all() and (d == -1).all()
    part, d = _trend([2, *range(7, 0, -1), 3])              # c(2, 7:1, 3)
    assert part.tolist() == [False] + [True] * 7 + [False]
    assert (d[1:8] == -1).all()


@pytest.mark.parametrize("close, side, expected", [
    # 'ptd_two_in_three works as expected'
    ([], [], []),
    ([1, 0, 1], [1, 1, 1], [1, 1, 1]),
    ([0, 1, 1], [1, 1, 1], [1, 1, 1]),
    ([1, 1, 0], [1, 1, 1], [1, 1, 1]),
    ([0, 0, 1, 0, 1, 0, 0], [1] * 7, [0, 0, 1, 1, 1, 0, 0]),
    ([0, 0, 1, 1, 0, 0, 0], [1] * 7, [0, 1, 1, 1, 1, 0, 0]),
    # '... when points are on opposite sides of the mean'
    ([1, 0, 1], [1, -1, 1], [0, 0, 0]),
    ([0, 1, 1], [1, -1, 1], [0, 0, 0]),
    ([1, 1, 0], [1, -1, 1], [0, 0, 0]),
    ([0, 0, 1, 0, 1, 0, 0], [1, -1, 1, -1, 1, -1, 1], [0] * 7),
    ([0, 0, 1, 1, 0, 0, 0], [-1, 1, -1, 1, -1, 1, -1], [0] * 7),
])
def test_two_in_three_port(close, side, expected):
    got = _two_in_three(np.asarray(close, dtype=bool), np.asarray(side, dtype=float))
    assert got.astype(int).tolist() == expected


@pytest.mark.parametrize("close, expected", [
    # 'ptd_part_of_two_in_three works as expected': only the close points are flagged
    ([1, 0, 1], [1, 0, 1]),
    ([0, 1, 1], [0, 1, 1]),
    ([0, 0, 1, 0, 1, 0, 0], [0, 0, 1, 0, 1, 0, 0]),
    ([1, 0, 0, 1], [0, 0, 0, 0]),
    ([1, 0, 0, 1, 1], [0, 0, 0, 1, 1]),
])
def test_part_of_two_in_three_port(close, expected):
    c = np.asarray(close, dtype=bool)
    got = _two_in_three(c, np.ones(c.size)) & c
    assert got.astype(int).tolist() == expected


def test_special_cause_type_priority_and_labels():
    """'ptd_special_cause_type works as expected' (mocked there; here with real points):
    beyond limits first, then a trend, then two in three, then a shift; labels as its
    case_when; point_type by improvement direction (ptd_point_type)."""
    # centre 0, control limits +-3, 2-sigma lines +-2
    y = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7,    # 7-point increasing trend, above
                  0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5,    # 7 more above: shift (the run is 14)
                  -0.5, -2.5, -0.5, -2.5,               # two in three below
                  -4.0, 0.1])                           # below the limit
    got = spc_rules(y, 0.0, -3.0, 3.0, -2.0, 2.0)
    assert got["special_cause"].tolist() == (
        ["7 Point Trend (Increasing)"] * 7 + ["7 Points Above CL"] * 7
        + ["Common Cause", "2 in 3 Below CL", "Common Cause", "2 in 3 Below CL",
           "Below LCL", "Common Cause"])
    assert got["point_type"].tolist() == (
        ["special_cause_improvement"] * 14
        + ["common_cause", "special_cause_concern", "common_cause", "special_cause_concern",
           "special_cause_concern", "common_cause"])
    flipped = spc_rules(y, 0.0, -3.0, 3.0, -2.0, 2.0, improvement="decrease")
    assert flipped["point_type"].iloc[0] == "special_cause_concern"
    assert flipped["point_type"].iloc[18] == "special_cause_improvement"
    neutral = spc_rules(y, 0.0, -3.0, 3.0, -2.0, 2.0, improvement="neutral")
    assert set(neutral["point_type"]) == {"special_cause_neutral_high",
                                          "special_cause_neutral_low", "common_cause"}


def test_trend_colour_follows_direction_not_side():
    """NHSRplotthedots PR #180 (fixes #171): a falling trend above the mean is a decreasing
    trend, hence a concern when higher is better, although above the centre."""
    y = np.array([2.9, 2.5, 2.1, 1.7, 1.3, 0.9, 0.5])
    got = spc_rules(y, 0.0, -3.0, 3.0, -2.0, 2.0)
    assert (got["special_cause"] == "7 Point Trend (Decreasing)").all()
    assert (got["point_type"] == "special_cause_concern").all()


# ---------------------------------------------------------------------------------------------
# port of tests/testthat/test-ptd_spc_standard.R
# ---------------------------------------------------------------------------------------------
def _xmr_limits(y):
    """ptd_spc_standard's XmR limits: mean +- 2.66 * mean moving range (moving ranges above
    3.267 * the mean screened out), 2/3 of that for the near-limit lines."""
    y = np.asarray(y, dtype=float)
    mr = np.abs(np.diff(y))
    amr = mr[mr < 3.267 * mr.mean()].mean()
    m = y.mean()
    return m, m - 2.66 * amr, m + 2.66 * amr, m - 2 / 3 * 2.66 * amr, m + 2 / 3 * 2.66 * amr


def test_two_of_three_on_opposite_sides_is_common_cause_port():
    """'it only reports special cause for 2of3 points close to limits when they are on the
    same side of the mean': alternating 1, -1 (16 points), the last two set to 5.5 and -5.5;
    expect_equal(tail(s, 2)$point_type, c("common_cause", "common_cause"))."""
    y = np.array([1.0, -1.0] * 8)
    y[14], y[15] = 5.5, -5.5
    m, lpl, upl, nlpl, nupl = _xmr_limits(y)
    assert nupl < 5.5 < upl and lpl < -5.5 < nlpl  # both close to the limits, not beyond
    got = spc_rules(y, m, lpl, upl, nlpl, nupl)
    assert got["point_type"].tail(2).tolist() == ["common_cause", "common_cause"]
    same_side = y.copy()
    # the same two points on one side, and the point before them too (the window of three
    # must lie on one side; ptd_two_in_three pads the end with side 0): special cause
    same_side[13], same_side[15] = 1.0, 5.5
    got = spc_rules(same_side, m, lpl, upl, nlpl, nupl)
    assert got["special_cause"].tail(2).tolist() == ["2 in 3 Above CL"] * 2


# ---------------------------------------------------------------------------------------------
# p_chart: limits
# ---------------------------------------------------------------------------------------------
def test_exact_limits_agree_with_the_exact_tail():
    """Centre 0.24, n = 50: R 1 - pbinom(21, 50, 0.24) = 0.001498 (>= the 3-sigma tail
    pnorm(-3) = 0.00135: 22/50 within) and 1 - pbinom(22, 50, 0.24) = 0.0005527 (< 0.00135:
    23/50 beyond). The normal chart's upper limit 0.24 + 3 sqrt(0.24 * 0.76 / 50) = 0.4212
    flags 22/50 = 0.44 already."""
    got = p_chart([12, 22, 23], [50, 50, 50], centre=0.24)
    assert got["beyond_limits"].tolist() == [False, False, True]
    assert got["special_cause"].tolist() == ["Common Cause", "Common Cause", "Above UCL"]
    assert 22 / 50 <= got["ucl"].iloc[0] < 23 / 50
    normal = p_chart([12, 22, 23], [50, 50, 50], centre=0.24, limits="normal")
    assert normal["ucl"].iloc[0] == pytest.approx(0.4211960264465)
    assert normal["beyond_limits"].tolist() == [False, True, True]
    pooled = p_chart([5, 6, 25], [50, 50, 50])  # centre 36/150 = 0.24 from the data
    assert pooled["centre"].iloc[0] == pytest.approx(0.24)
    assert pooled["point_type"].tolist() == ["common_cause", "common_cause",
                                             "special_cause_improvement"]


def test_no_signal_possible_is_said_not_hidden():
    """At a centre of 0.84, 30 of 30 is not beyond the upper limit: R 0.84^30 = 0.005350
    (> pnorm(-3) = 0.00135), so no improvement can signal at n = 30; from n = 38 it can
    (R 0.84^37 = 0.001579, 0.84^38 = 0.001326). The normal upper limit reaches 100% up to
    n = 47 (0.84 + 3 sqrt(0.84 * 0.16 / 47) = 1.0004; at 48: 0.9987)."""
    n = np.array([30, 37, 38, 47, 48, 200])
    got = p_chart(np.zeros(6, dtype=int), n, centre=0.84)
    assert got["high_possible"].tolist() == [False, False, True, True, True, True]
    assert got["low_possible"].all()
    assert (got["ucl"] <= 1).all()
    full = p_chart(n, n, centre=0.84)  # every patient improved: beyond only where possible
    assert full["beyond_limits"].tolist() == [False, False, True, True, True, True]
    normal = p_chart(np.zeros(6, dtype=int), n, centre=0.84, limits="normal")
    assert normal["high_possible"].tolist() == [False, False, False, False, True, True]


def test_laney_limits_by_hand():
    """Laney p' (Laney 2002): z_i = (p_i - c) / sqrt(c(1-c)/n_i), sigma_z = mean |z_i - z_{i-1}|
    / 1.128, limits c +- 3 sigma_z sqrt(c(1-c)/n_i)."""
    k = np.array([1200, 1500, 1100, 1650, 1300])
    n = np.array([5000, 5200, 4800, 5100, 5000])
    c = k.sum() / n.sum()
    s = np.sqrt(c * (1 - c) / n)
    z = (k / n - c) / s
    sz = np.abs(np.diff(z)).mean() / 1.128
    got = p_chart(k, n, limits="laney")
    np.testing.assert_allclose(got["ucl"], c + 3 * sz * s, rtol=1e-12)
    np.testing.assert_allclose(got["lwl"], c - 2 * sz * s, rtol=1e-12)
    assert sz > 1 and (got["limits"] == "laney").all()
    # auto: every n >= 1000 and sigma_z > 1 -> Laney; binomial limits would flag them all
    assert (p_chart(k, n)["limits"] == "laney").all()
    assert p_chart(k, n, limits="exact")["beyond_limits"].sum() >= 3
    assert (p_chart([5, 6, 25], [50, 50, 50])["limits"] == "exact").all()


# ---------------------------------------------------------------------------------------------
# p_chart: gaps, small periods, direction
# ---------------------------------------------------------------------------------------------
def test_empty_and_small_quarters_neither_extend_nor_break_a_run():
    # centre 0.5; 4 quarters above, an empty one, one of n = 1 at 0%, 3 more above: a shift of
    # 7 plotted points
    k = [7, 7, 7, 7, 0, 0, 7, 7, 7, 3, 3, 3]
    n = [10, 10, 10, 10, 0, 1, 10, 10, 10, 10, 10, 10]
    got = p_chart(k, n, centre=0.5, min_n=5)
    assert got["plotted"].tolist() == [True] * 4 + [False, False] + [True] * 6
    assert got["run_flag"].tolist() == [True] * 4 + [False, False] + [True] * 3 + [False] * 3
    assert got.loc[4:5, "special_cause"].tolist() == ["not plotted"] * 2
    assert np.isnan(got.loc[4:5, ["lcl", "ucl"]].to_numpy(float)).all()
    assert got.loc[5, "rate"] == 0.0  # the rate stays in the table, not on the chart
    # with min_n = 1 the quarter of n = 1 at 0% is plotted and breaks the run (as it should)
    assert not p_chart(k, n, centre=0.5, min_n=1)["run_flag"].any()


def test_p_chart_columns_empty_and_invalid():
    assert list(p_chart([], []).columns) == list(P_CHART_COLUMNS)
    assert p_chart([], []).empty
    with pytest.raises(AnalysisError, match="centre"):
        p_chart([1], [2], centre=1.5)
    with pytest.raises(AnalysisError, match="limits"):
        p_chart([1], [2], limits="poisson")
    with pytest.raises(AnalysisError, match="improvement"):
        p_chart([1], [2], improvement="up")
    all_empty = p_chart([0, 0], [0, 0])
    assert not all_empty["plotted"].any() and all_empty["centre"].isna().all()


counts = st.integers(min_value=0, max_value=300).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n)))


@FAST
@given(st.lists(counts, min_size=1, max_size=30), st.integers(min_value=1, max_value=20))
def test_p_chart_properties(rows, min_n):
    from scipy.stats import binom

    k, n = (np.array(v) for v in zip(*rows))
    got = p_chart(k, n, min_n=min_n, limits="exact")
    shown = got[got["plotted"]]
    assert (got["plotted"] == (n >= min_n) & (n > 0)).all()
    assert ((shown["lcl"] <= shown["lwl"] + 1e-12) & (shown["lwl"] <= shown["centre"] + 1e-12)
            & (shown["centre"] <= shown["uwl"] + 1e-12)
            & (shown["uwl"] <= shown["ucl"] + 1e-12)).all()
    assert shown[["lcl", "ucl"]].stack().between(0, 1).all()
    # beyond the limits exactly when a one-sided exact tail is below the 3-sigma tail
    c = float(got["centre"].iloc[0])
    if len(shown) and 0 < c < 1:
        kk, nn = shown["k"].to_numpy(), shown["n"].to_numpy()
        tail = np.minimum(binom.sf(kk - 1, nn, c), binom.cdf(kk, nn, c))
        far = tail < TAIL3
        close = np.isclose(tail, TAIL3, rtol=1e-6)
        assert (shown["beyond_limits"].to_numpy()[~close] == far[~close]).all()
    # a shift point is strictly on one side; nothing unplotted is flagged
    run = got[got["run_flag"]]
    assert (run["rate"] != run["centre"]).all()
    flags = ["beyond_limits", "run_flag", "trend_flag", "two_in_three_flag"]
    assert not got.loc[~got["plotted"], flags].to_numpy().any()
    assert ((got["point_type"] == "common_cause")
            == (got["plotted"] & (got["special_cause"] == "Common Cause"))).all()


def test_spc_sentence_names_signals_small_quarters_and_blind_spots():
    from outcomes.text import spc_sentence

    k = [0, 10, 10, 10, 10, 10, 10, 10, 1, 30, 100]
    n = [0, 10, 10, 10, 10, 10, 10, 10, 2, 30, 200]
    q = p_chart(k, n, min_n=5, centre=0.84).assign(
        quarter=[f"20{20 + i // 4}Q{i % 4 + 1}" for i in range(11)])
    s = spc_sentence(q, min_n=5)
    assert s.startswith("Of 11 quarters, 9 are plotted (1 with fewer than 5 patients are not).")
    # the 8 quarters above the centre read as one stretch across the quarter not plotted
    assert "Special cause, improvement: 2020Q2 to 2022Q2 (7 Points Above CL; 8 quarters)." in s
    assert "Special cause, concern: 2022Q3 (Below LCL)." in s
    # n = 10 and n = 30 at 84%: 100% cannot cross the upper limit (0.84^30 = 0.0054 > 0.00135)
    assert "In 8 plotted quarters even 100% would not cross the upper limit" in s
    calm = p_chart([40, 42, 41], [50, 50, 50]).assign(quarter=["2025Q1", "2025Q2", "2025Q3"])
    assert "No special cause" in spc_sentence(calm)
    assert spc_sentence(calm.iloc[:0]).startswith("No quarter")
