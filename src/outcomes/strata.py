"""Response by patient group, practitioner funnel data and the quarterly p-chart series.

All three read the per-patient cohort (assessed patients of the family in question) and return
tidy frames; rates are fractions.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from outcomes import stats
from outcomes.cohort import Cohort, severity_group

__all__ = ["STRATA", "STRATA_OUTCOMES", "strata_table", "strata_tests", "funnel_table",
           "funnel_tests", "quarterly_table"]

#: the stratifying variables, in display order
STRATA = ("sex", "severity", "minoxidil", "age_band", "practitioner")

#: (family, outcome) pairs shown by stratum
STRATA_OUTCOMES = (("photographic", "improved"), ("photographic", "dramatic"),
                   ("density", "improved"))

_PREFIX = {"photographic": "gpa", "density": "density"}
_MISSING = "not recorded"


def _codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer code of every row and the levels (object) of a text column; missing ->
    ``"not recorded"``. Factorizes the column as stored (no per-row Python strings)."""
    code, uniq = pd.factorize(values)
    levels = np.asarray(uniq, dtype=object)
    missing = code < 0
    if missing.any():
        same = np.flatnonzero(levels == _MISSING)
        if not same.size:
            levels = np.append(levels, np.array([_MISSING], dtype=object))
        code = np.where(missing, same[0] if same.size else levels.size - 1, code)
    return code, levels


def _level_codes(p: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every stratum as (code of every cohort row, levels); missing -> "not recorded"."""
    mino = p["minoxidil"].astype("boolean")
    yes = mino.fillna(False).to_numpy(bool)
    mino_code = np.where(mino.isna().to_numpy(bool), 2, np.where(yes, 0, 1))
    return {
        "sex": _codes(p["sex"]),
        "severity": _codes(severity_group(p["baseline_scale"], p["baseline_grade"])),
        "minoxidil": (mino_code, np.array(["yes", "no", _MISSING], dtype=object)),
        "age_band": _codes(p["age_band"]),
        "practitioner": _codes(p["practitioner_id"]),
    }


def _practitioner_level(p: pd.DataFrame) -> np.ndarray:
    """Practitioner of every cohort row (text; missing -> "not recorded")."""
    code, levels = _codes(p["practitioner_id"])
    return levels[code]


def strata_table(cohort: Cohort) -> pd.DataFrame:
    """Response rates by sex, baseline severity, minoxidil, age band and practitioner.

    Returns
    -------
    DataFrame
        ``family``, ``outcome`` (:data:`STRATA_OUTCOMES`), ``stratum`` (:data:`STRATA`),
        ``level`` (text; ``"not recorded"`` for a missing value; severity as
        :func:`outcomes.cohort.severity_group`; practitioner = the first session's), ``k``,
        ``n`` (assessed patients of that family in the level), ``rate``, ``ci_low``,
        ``ci_high``, ``p_value`` (Pearson's chi-squared test that the rate is the same in
        every recorded level of the stratum, :func:`outcomes.stats.homogeneity_test`; the
        ``"not recorded"`` level is left out of the test; one p-value per stratum, on each of
        its rows), ``p_value_holm`` (Holm-adjusted across the strata of the same family and
        outcome, read together: :func:`outcomes.stats.holm`). Levels sorted within a stratum.
    """
    d = cohort.definitions
    p = cohort.patients
    # each stratum's levels as integer codes once; k and n per level by bincount
    codes = _level_codes(p)
    # the columns gathered as arrays, one piece per (family, outcome, stratum), and one frame
    # built at the end (a frame per piece and a concat cost more than the counting)
    cols: dict[str, list] = {c: [] for c in ("family", "outcome", "stratum", "level", "k", "n")}
    for family, outcome in STRATA_OUTCOMES:
        pre = _PREFIX[family]
        assessed = p[f"{pre}_assessed"].to_numpy(bool)
        hit = p[f"{pre}_{outcome}"].fillna(False).to_numpy(bool)[assessed]
        for stratum in STRATA:
            code, uniq = codes[stratum]
            n = np.bincount(code[assessed], minlength=len(uniq))
            k = np.bincount(code[assessed], weights=hit, minlength=len(uniq)).astype("int64")
            seen = n > 0
            for c, v in (("family", family), ("outcome", outcome), ("stratum", stratum)):
                cols[c].append(np.full(int(seen.sum()), v, dtype=object))
            cols["level"].append(uniq[seen].astype(object))
            cols["k"].append(k[seen])
            cols["n"].append(n[seen].astype("int64"))
    out = pd.DataFrame({c: np.concatenate(v) for c, v in cols.items()})
    order = {s: i for i, s in enumerate(STRATA)}
    fam = {f: i for i, f in enumerate(STRATA_OUTCOMES)}
    out = out.assign(_o=[fam[(f, o)] for f, o in zip(out["family"], out["outcome"])],
                     _s=out["stratum"].map(order))
    out = out.sort_values(["_o", "_s", "level"], kind="stable").drop(columns=["_o", "_s"])
    out = out.reset_index(drop=True)
    props = stats.proportions(out["k"].to_numpy("int64"), out["n"].to_numpy("int64"),
                              level=d.confidence, method=d.interval_method)
    out[["k", "n", "rate", "ci_low", "ci_high"]] = props[["k", "n", "rate", "ci_low",
                                                          "ci_high"]]
    out = strata_tests(out)
    return out.astype({"family": object, "outcome": object, "stratum": object,
                       "level": object})


def strata_tests(strata: pd.DataFrame) -> pd.DataFrame:
    """Add ``p_value`` and ``p_value_holm`` to a strata frame (see :func:`strata_table`).

    Parameters
    ----------
    strata : DataFrame
        ``family``, ``outcome``, ``stratum``, ``level``, ``k``, ``n`` (whole counts), any other
        columns; not modified.

    Returns
    -------
    DataFrame
        A copy with ``p_value`` (Pearson's chi-squared test that the rate is the same in every
        level of the stratum other than ``"not recorded"``, one per stratum, on each of its
        rows) and ``p_value_holm`` (Holm across the strata of one family and outcome).
    """
    out = strata.copy()
    if out.empty:
        return out.assign(p_value=pd.Series(dtype=float), p_value_holm=pd.Series(dtype=float))
    test_id = (out["family"].astype(str) + "\x1f" + out["outcome"].astype(str) + "\x1f"
               + out["stratum"].astype(str))
    recorded = (out["level"].astype(str) != _MISSING).to_numpy()
    kk = pd.to_numeric(out["k"]).to_numpy("int64")
    nn = pd.to_numeric(out["n"]).to_numpy("int64")
    out["p_value"] = stats.homogeneity_test(np.where(recorded, kk, 0),
                                            np.where(recorded, nn, 0), test_id)
    first = ~test_id.duplicated().to_numpy()
    family = (out["family"].astype(str) + "\x1f" + out["outcome"].astype(str)).to_numpy(object)
    adj = stats.holm(out["p_value"].to_numpy(float)[first], family[first])
    out["p_value_holm"] = pd.Series(adj, index=test_id[first].to_numpy()).reindex(
        test_id.to_numpy()).to_numpy(float)
    return out


def funnel_tests(k, n, p0: float) -> pd.DataFrame:
    """Exact two-sided binomial test of each unit's k/n against ``p0``, with Holm's adjustment
    across the units (read together on one funnel plot).

    Returns
    -------
    DataFrame
        ``p_value`` (as R's ``binom.test(k, n, p0)``; NaN where ``n == 0``), ``p_value_holm``.
    """
    k = np.asarray(k, dtype="int64")
    n = np.asarray(n, dtype="int64")
    p = np.asarray(stats.binom_test(k, n, float(p0)), dtype=float).reshape(k.shape)
    return pd.DataFrame({"p_value": p, "p_value_holm": stats.holm(p)})


def funnel_table(cohort: Cohort, *, p0: float | None = None, family: str = "photographic",
                 outcome: str = "improved") -> pd.DataFrame:
    """Funnel-plot data: each practitioner's rate against the clinic rate or a benchmark.

    Parameters
    ----------
    cohort : Cohort
    p0 : float, optional
        Target rate (fraction), e.g. a benchmark's; default the clinic's overall rate.
    family, outcome : str
        Which response (default photographic improved), among assessed patients, by the
        practitioner of each patient's first session.

    Returns
    -------
    DataFrame
        ``practitioner_id`` (``"not recorded"`` when missing), ``k``, ``n``, ``rate``, ``p0``,
        then ``low<L>``/``high<L>`` for every level of ``definitions.funnel_levels``
        (``low95``, ``high95``, ``low998``, ``high998`` by default: exact binomial limits,
        :func:`outcomes.stats.funnel_limits`), ``flag`` (``"above 99.8%"``, ``"above 95%"``,
        ``"below 95%"``, ``"below 99.8%"`` or ``"within"``), ``p_value`` (exact two-sided
        binomial test of the practitioner's k/n against ``p0``, as R's ``binom.test``),
        ``p_value_holm`` (Holm-adjusted across the practitioners, read together). Empty when
        nobody is assessed.
    """
    d = cohort.definitions
    p = cohort.patients
    pre = _PREFIX[family]
    assessed = p[f"{pre}_assessed"].to_numpy(bool)
    who = _practitioner_level(p)[assessed]   # not _level_codes(): severity is costly at scale
    hit = p[f"{pre}_{outcome}"].fillna(False).to_numpy(bool)[assessed]
    g = pd.DataFrame({"practitioner_id": who, "hit": hit}).groupby("practitioner_id")["hit"]
    out = g.agg(k="sum", n="size").reset_index().astype({"k": "int64", "n": "int64"})
    cols = stats.funnel_columns(d.funnel_levels)
    if out.empty:
        return pd.DataFrame(columns=["practitioner_id", "k", "n", "rate", "p0", *cols, "flag",
                                     "p_value", "p_value_holm"])
    target = float(out["k"].sum() / out["n"].sum()) if p0 is None else float(p0)
    flags = stats.funnel_flags(out["k"], out["n"], target, levels=d.funnel_levels)
    out = pd.concat([out, flags.set_axis(out.index)], axis=1)
    out = pd.concat([out, funnel_tests(out["k"], out["n"], target).set_axis(out.index)], axis=1)
    return out[["practitioner_id", "k", "n", "rate", "p0", *cols, "flag", "p_value",
                "p_value_holm"]].astype({"practitioner_id": object})


def quarterly_table(cohort: Cohort, *, family: str = "photographic",
                    outcome: str = "improved") -> pd.DataFrame:
    """Quarterly series of a response rate, read as a Making Data Count p-chart.

    Each assessed patient counts in the calendar quarter of ``t0 + assessment_target_day``
    (the nominal 12-month point). Quarters between the first and last with no patient are
    kept (``n = 0``). Quarters with fewer than ``definitions.spc_min_n`` patients are not
    plotted: no limits, no signal, and they neither extend nor break a run.

    Returns
    -------
    DataFrame
        ``family``, ``quarter`` (e.g. ``"2026Q1"``), then :data:`outcomes.stats.P_CHART_COLUMNS`
        of :func:`outcomes.stats.p_chart` (exact binomial limits, or Laney p' for large
        overdispersed quarters; higher is better, so signals read improvement or concern):
        ``k``, ``n``, ``rate``, ``centre`` (pooled rate), ``lcl``, ``ucl``, ``lwl``, ``uwl``,
        ``limits``, ``plotted``, ``high_possible``, ``low_possible``, ``beyond_limits``,
        ``run_flag``, ``trend_flag``, ``two_in_three_flag``, ``special_cause``,
        ``point_type``.
    """
    d = cohort.definitions
    p = cohort.patients
    pre = _PREFIX[family]
    assessed = p[f"{pre}_assessed"].to_numpy(bool)
    when = (p["t0"] + pd.Timedelta(days=int(d.assessment_target_day)))[assessed]
    hit = p[f"{pre}_{outcome}"].fillna(False).to_numpy(bool)[assessed]
    cols = ["family", "quarter", *stats.P_CHART_COLUMNS]
    if not assessed.any():
        return pd.DataFrame(columns=cols)
    # quarters as consecutive integers (year * 4 + quarter - 1), counted by bincount: no
    # Period object per patient
    dated = when.notna().to_numpy()
    qi = (when.dt.year.to_numpy()[dated].astype("int64") * 4
          + (when.dt.month.to_numpy()[dated].astype("int64") - 1) // 3)
    lo, hi = int(qi.min()), int(qi.max())
    n = np.bincount(qi - lo, minlength=hi - lo + 1)
    k = np.bincount(qi - lo, weights=hit[dated], minlength=hi - lo + 1).astype("int64")
    span = pd.period_range(pd.Period(year=lo // 4, quarter=lo % 4 + 1, freq="Q"),
                           periods=hi - lo + 1, freq="Q")
    chart = stats.p_chart(k, n.astype("int64"), min_n=int(d.spc_min_n),
                          improvement="increase")
    chart.insert(0, "quarter", pd.Series([str(x) for x in span], dtype=object))
    chart.insert(0, "family", family)
    return chart[cols].astype({"family": object})
