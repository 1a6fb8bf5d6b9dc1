"""Small-count suppression (shareable mode)."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.suppress import (SUPPRESSION_RULES, is_small_count, suppress_frame,
                               suppress_named_frame)


def _frame():
    return pd.DataFrame({
        "outcome": ["improved", "dramatic", "none", "tiny"],
        "k": pd.array([69, 3, 0, 4], dtype="Int64"),
        "n": pd.array([86, 86, 12, 4], dtype="Int64"),
        "rate": [69 / 86, 3 / 86, 0.0, 1.0],
        "ci_low": [0.7, 0.01, 0.0, 0.5],
        "flag": ["ok", "low", "ok", "high"],
    })


def test_counts_one_to_four_become_label_and_rates_are_removed():
    out = suppress_frame(_frame(), ["k", "n"], ["rate", "ci_low", "flag"])
    assert out["k"].tolist() == [69, "<5", 0, "<5"]
    assert out["n"].tolist() == [86, 86, 12, "<5"]
    assert np.isnan(out["rate"].iloc[1]) and np.isnan(out["rate"].iloc[3])
    assert out["rate"].iloc[0] == pytest.approx(69 / 86)
    assert out["rate"].iloc[2] == 0.0           # zero is not a small count
    assert out["flag"].tolist() == ["ok", None, "ok", None]
    assert all(type(v) in (int, str) for v in out["k"])  # JSON-able Python values


def test_input_not_modified():
    df = _frame()
    before = df.copy()
    suppress_frame(df, ["k", "n"], ["rate"])
    pd.testing.assert_frame_equal(df, before)


def test_threshold_is_configurable_and_missing_columns_ignored():
    out = suppress_frame(_frame(), ["k", "absent"], ["rate", "also_absent"], min_cell=11)
    assert out["k"].tolist() == [69, "<11", 0, "<11"]
    with pytest.raises(ValueError):
        suppress_frame(_frame(), ["k"], min_cell=0)


def test_missing_counts_stay_missing():
    df = pd.DataFrame({"n": pd.array([None, 7], dtype="Int64"), "rate": [np.nan, 0.5]})
    out = suppress_frame(df, ["n"], ["rate"])
    assert out["n"].tolist() == [None, 7]


def test_named_rules():
    out = suppress_named_frame("response", _frame())
    assert out["k"].tolist()[1] == "<5"
    assert "response" in SUPPRESSION_RULES and "adverse_events" in SUPPRESSION_RULES
    with pytest.raises(KeyError, match="no suppression rule"):
        suppress_named_frame("cohort", _frame())


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), min_size=1, max_size=20),
       st.integers(1, 12))
def test_no_small_count_survives(pairs, min_cell):
    df = pd.DataFrame(pairs, columns=["k", "n"])
    df["rate"] = df["k"] / df["n"].replace(0, np.nan)
    out = suppress_frame(df, ["k", "n"], ["rate"], min_cell=min_cell)
    shown = pd.to_numeric(pd.concat([out["k"], out["n"]]), errors="coerce").dropna()
    assert not ((shown >= 1) & (shown < min_cell)).any()
    hidden = is_small_count(df["k"], min_cell) | is_small_count(df["n"], min_cell)
    assert out.loc[hidden, "rate"].isna().all()
    pd.testing.assert_series_equal(out.loc[~hidden, "rate"], df.loc[~hidden, "rate"])


def test_pooled_rate_built_on_a_small_total_is_suppressed():
    # Audit defect: the funnel's p0 (clinic rate) and the p-chart's centre (pooled rate) are
    # rates over all rows; with 2 of 3 patients improved overall they showed 0.667 in shareable
    # output although the counts behind them (2, 3) were hidden as "<5".
    from cohort_builder import REFERENCE_CUTOFF, Rows

    from outcomes.cohort import build_cohort
    from outcomes.strata import funnel_table, quarterly_table

    r = Rows()
    for i in range(3):
        r.add(f"A{i}", gpa=[(365, 2 if i < 2 else 0)])
    c = build_cohort(r.export(), cutoff=REFERENCE_CUTOFF)
    funnel = suppress_named_frame("funnel", funnel_table(c))
    quarterly = suppress_named_frame("quarterly", quarterly_table(c))
    assert funnel["p0"].isna().all()
    assert quarterly["centre"].isna().all()
    # a large total keeps its pooled rate (k 40 of n 50 over two rows of small counts)
    big = pd.DataFrame({"k": [3, 37], "n": [4, 46], "rate": [0.75, 37 / 46],
                        "centre": [0.8, 0.8], "lcl": [0.1, 0.6], "ucl": [1.0, 1.0],
                        "beyond_limits": [False, False], "run_flag": [False, False]})
    out = suppress_named_frame("quarterly", big)
    assert out["centre"].tolist() == [0.8, 0.8] and out["k"].tolist() == ["<5", 37]
    # ... and a small total k over a large n is still a rate built on a small count
    few = big.assign(k=[0, 2])
    assert suppress_named_frame("quarterly", few)["centre"].isna().all()


def test_pooled_rate_is_judged_per_family():
    # a pooled results file stacks the quarterly series of several families: each family's
    # centre rests on its own totals (photographic 3 of 40 is small; density 30 of 40 is not)
    q = pd.DataFrame({"family": ["photographic", "photographic", "density", "density"],
                      "k": [1, 2, 10, 20], "n": [20, 20, 20, 20], "rate": np.nan,
                      "centre": [3 / 40, 3 / 40, 0.75, 0.75]})
    out = suppress_named_frame("quarterly", q)
    assert out["centre"].isna().tolist() == [True, True, False, False]
