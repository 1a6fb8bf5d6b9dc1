"""Small-count suppression for shareable output.

In a shareable report or results file, a count from 1 to ``min_cell - 1`` (1-4 by default)
is shown as the string ``"<5"``, and every rate, interval or test built on it is removed
(``NaN`` in a float column, ``None`` otherwise). Zero is not suppressed: "no patient" discloses
nobody. The functions work on any tidy frame with k/n-style columns and never modify their
input.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["suppress_frame", "suppressed_label", "is_small_count", "SUPPRESSION_RULES",
           "POOLED_RATES", "suppress_named_frame"]

#: Analysis frame name -> (count columns, columns built on those counts). The benchmark's own
#: counts (``benchmark_k``, ``benchmark_n``) are published figures and are never suppressed.
SUPPRESSION_RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "flow": (("n",), ()),
    "response": (("k", "n"), ("rate", "ci_low", "ci_high", "p_value", "fisher_p_value", "diff",
                              "diff_ci_low", "diff_ci_high", "mdd_below", "mdd_above",
                              "re_estimate", "re_ci_low", "re_ci_high", "re_tau2", "re_i2",
                              "re_q_p_value", "re_p_value")),
    "density_sensitivity": (("k", "n"), ("rate", "ci_low", "ci_high")),
    "density_change": (("n",), ("mean", "ci_low", "ci_high")),
    "adverse_events": (("k", "n", "events", "sessions"),
                       ("rate", "ci_low", "ci_high", "session_rate", "p_value",
                        "fisher_p_value")),
    "ae_timing": (("events",), ()),
    "ae_duration": (("events",), ("median_days", "q1_days", "q3_days", "min_days",
                                  "max_days")),
    "protocol": (("k", "n"), ("rate", "ci_low", "ci_high")),
    "screening": (("sessions", "patients"), ()),
    "strata": (("k", "n"), ("rate", "ci_low", "ci_high", "p_value", "p_value_holm")),
    "funnel": (("k", "n"), ("rate", "low95", "high95", "low998", "high998", "flag", "p_value",
                            "p_value_holm")),
    "quarterly": (("k", "n"), ("rate", "lcl", "ucl", "lwl", "uwl", "high_possible",
                               "low_possible", "beyond_limits", "run_flag", "trend_flag",
                               "two_in_three_flag", "special_cause", "point_type")),
    "counts": (("read", "accepted", "quarantined"), ()),
}

#: Analysis frame name -> columns holding a rate pooled over all its rows (sum k / sum n: the
#: funnel's clinic rate, the p-chart's centre line); removed when either total (per family) is a
#: small count.
POOLED_RATES: dict[str, tuple[str, ...]] = {"funnel": ("p0",), "quarterly": ("centre",)}


def suppressed_label(min_cell: int = 5) -> str:
    """The text shown instead of a small count, e.g. ``"<5"``."""
    return f"<{int(min_cell)}"


def is_small_count(values, min_cell: int = 5) -> np.ndarray:
    """Boolean array: True where a value is a count from 1 to ``min_cell - 1``.

    Parameters
    ----------
    values : array-like
        Counts (numbers; missing values and text such as an existing ``"<5"`` give False).
    min_cell : int, default 5
        Smallest count shown as it is.

    Returns
    -------
    numpy.ndarray of bool
    """
    num = pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce").to_numpy(float)
    with np.errstate(invalid="ignore"):
        return (num >= 1) & (num < min_cell)


def suppress_frame(df: pd.DataFrame, count_columns: Sequence[str],
                   dependent_columns: Sequence[str] = (), min_cell: int = 5) -> pd.DataFrame:
    """Return a copy of ``df`` with small counts hidden and the figures built on them removed.

    Parameters
    ----------
    df : pandas.DataFrame
        A tidy frame, one row per estimate (not modified).
    count_columns : sequence of str
        Columns holding counts of patients, sessions or events (e.g. ``k``, ``n``). A value from
        1 to ``min_cell - 1`` becomes the string ``"<{min_cell}"``; these columns become
        ``object`` dtype holding Python ``int``, that string, or ``None`` (missing).
    dependent_columns : sequence of str, optional
        Columns computed from the counts of the same row (rate, ci_low, ci_high, p_value...).
        On a row where any count was suppressed they become ``NaN`` (float columns) or ``None``.
    min_cell : int, default 5
        Smallest count shown as it is (``Definitions.min_cell``).

    Returns
    -------
    pandas.DataFrame
        Same index and columns as ``df``. Columns named but absent are ignored.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"k": [3, 40], "n": [9, 50], "rate": [3 / 9, 0.8]})
    >>> suppress_frame(df, ["k", "n"], ["rate"])
        k   n  rate
    0  <5   9   NaN
    1  40  50   0.8
    """
    if min_cell < 1:
        raise ValueError(f"min_cell must be 1 or more, got {min_cell!r}")
    out = df.copy()
    counts = [c for c in count_columns if c in out.columns]
    small = np.zeros(len(out), dtype=bool)
    label = suppressed_label(min_cell)
    for col in counts:  # a loop over a handful of columns, not over rows
        mask = is_small_count(out[col], min_cell)
        small |= mask
        out[col] = pd.Series(_python_counts(out[col], mask, label), index=out.index,
                             dtype="object")
    for col in (c for c in dependent_columns if c in out.columns):
        if pd.api.types.is_float_dtype(out[col]):
            out.loc[small, col] = np.nan
        else:
            values = np.array(out[col].astype("object").tolist(), dtype=object)
            values[small] = None
            out[col] = pd.Series(values, index=out.index, dtype="object")
    return out


def _python_counts(col: pd.Series, mask: np.ndarray, label: str) -> np.ndarray:
    """Object array of Python ints (JSON-able), ``label`` where masked, None where missing."""
    num = pd.to_numeric(col.astype("object"), errors="coerce").to_numpy(float)
    values = np.array(col.astype("object").tolist(), dtype=object)
    ok = ~np.isnan(num)
    values[ok] = num[ok].astype(np.int64).tolist()
    values[np.isnan(num) & pd.isna(col).to_numpy()] = None
    values[mask] = label
    return values


def suppress_named_frame(name: str, df: pd.DataFrame, min_cell: int = 5) -> pd.DataFrame:
    """Suppress an :class:`~outcomes.analysis.Analysis` frame by its name.

    Parameters
    ----------
    name : str
        A key of :data:`SUPPRESSION_RULES` (``"response"``, ``"adverse_events"``...).
    df : pandas.DataFrame
        That frame.
    min_cell : int, default 5

    Returns
    -------
    pandas.DataFrame
        See :func:`suppress_frame`. A rate pooled over every row (:data:`POOLED_RATES`) is
        removed too when the total ``k`` or ``n`` (per ``family``, when there is one) is a
        small count.
    """
    if name not in SUPPRESSION_RULES:
        raise KeyError(f"no suppression rule for frame {name!r}; known: "
                       f"{', '.join(sorted(SUPPRESSION_RULES))}")
    counts, dependents = SUPPRESSION_RULES[name]
    out = suppress_frame(df, counts, dependents, min_cell=min_cell)
    pooled = [c for c in POOLED_RATES.get(name, ()) if c in out.columns]
    if pooled and len(df):
        # totals per family when several families are stacked (a pooled results file)
        group = df["family"].to_numpy(object) if "family" in df else np.zeros(len(df))
        small = np.zeros(len(df), dtype=bool)
        for c in (c for c in ("k", "n") if c in df):
            total = pd.to_numeric(df[c].astype("object"), errors="coerce").groupby(
                group).transform("sum")
            small |= is_small_count(total, min_cell)
        out.loc[small, pooled] = np.nan
    return out
