"""Response by patient group, practitioner funnel data and the quarterly p-chart series.

All three read the per-patient cohort (assessed patients of the family in question) and return
tidy frames; rates are fractions.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from outcomes import stats
from outcomes.cohort import Cohort, minoxidil_level, severity_group

__all__ = ["STRATA", "STRATA_OUTCOMES", "strata_table", "funnel_table", "quarterly_table"]

#: the stratifying variables, in display order
STRATA = ("sex", "severity", "minoxidil", "age_band", "practitioner")

#: (family, outcome) pairs shown by stratum
STRATA_OUTCOMES = (("photographic", "improved"), ("photographic", "dramatic"),
                   ("density", "improved"))

_PREFIX = {"photographic": "gpa", "density": "density"}
_MISSING = "not recorded"


def _levels(p: pd.DataFrame) -> dict[str, np.ndarray]:
    """Level of every stratum for every cohort row (text; missing -> "not recorded")."""
    return {
        "sex": p["sex"].astype(object).fillna(_MISSING).to_numpy(object),
        "severity": severity_group(p["baseline_scale"], p["baseline_grade"]).to_numpy(object),
        "minoxidil": minoxidil_level(p),
        "age_band": p["age_band"].astype(object).fillna(_MISSING).to_numpy(object),
        "practitioner": _practitioner_level(p),
    }


def _practitioner_level(p: pd.DataFrame) -> np.ndarray:
    """Practitioner of every cohort row (text; missing -> "not recorded")."""
    return p["practitioner_id"].astype(object).fillna(_MISSING).to_numpy(object)


def strata_table(cohort: Cohort) -> pd.DataFrame:
    """Response rates by sex, baseline severity, minoxidil, age band and practitioner.

    Returns
    -------
    DataFrame
        ``family``, ``outcome`` (:data:`STRATA_OUTCOMES`), ``stratum`` (:data:`STRATA`),
        ``level`` (text; ``"not recorded"`` for a missing value; severity as
        :func:`outcomes.cohort.severity_group`; practitioner = the first session's), ``k``,
        ``n`` (assessed patients of that family in the level), ``rate``, ``ci_low``,
        ``ci_high``. Levels sorted within a stratum.
    """
    d = cohort.definitions
    p = cohort.patients
    # each stratum's levels as integer codes once; k and n per level by bincount
    codes = {s: pd.factorize(v, use_na_sentinel=False) for s, v in _levels(p).items()}
    frames = []
    for family, outcome in STRATA_OUTCOMES:
        pre = _PREFIX[family]
        assessed = p[f"{pre}_assessed"].to_numpy(bool)
        hit = p[f"{pre}_{outcome}"].fillna(False).to_numpy(bool)[assessed]
        for stratum in STRATA:
            code, uniq = codes[stratum]
            n = np.bincount(code[assessed], minlength=len(uniq))
            k = np.bincount(code[assessed], weights=hit, minlength=len(uniq)).astype("int64")
            seen = n > 0
            frames.append(pd.DataFrame({"family": family, "outcome": outcome,
                                        "stratum": stratum, "level": uniq[seen],
                                        "k": k[seen], "n": n[seen].astype("int64")}))
    out = pd.concat(frames, ignore_index=True)
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
    return out.astype({"family": object, "outcome": object, "stratum": object,
                       "level": object})


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
        ``"below 95%"``, ``"below 99.8%"`` or ``"within"``). Empty when nobody is assessed.
    """
    d = cohort.definitions
    p = cohort.patients
    pre = _PREFIX[family]
    assessed = p[f"{pre}_assessed"].to_numpy(bool)
    who = _practitioner_level(p)[assessed]   # not _levels(): severity is costly at scale
    hit = p[f"{pre}_{outcome}"].fillna(False).to_numpy(bool)[assessed]
    g = pd.DataFrame({"practitioner_id": who, "hit": hit}).groupby("practitioner_id")["hit"]
    out = g.agg(k="sum", n="size").reset_index().astype({"k": "int64", "n": "int64"})
    cols = stats.funnel_columns(d.funnel_levels)
    if out.empty:
        return pd.DataFrame(columns=["practitioner_id", "k", "n", "rate", "p0", *cols, "flag"])
    target = float(out["k"].sum() / out["n"].sum()) if p0 is None else float(p0)
    flags = stats.funnel_flags(out["k"], out["n"], target, levels=d.funnel_levels)
    out = pd.concat([out, flags.set_axis(out.index)], axis=1)
    return out[["practitioner_id", "k", "n", "rate", "p0", *cols, "flag"]].astype(
        {"practitioner_id": object})


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
