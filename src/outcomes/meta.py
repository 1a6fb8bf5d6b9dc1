"""Random-effects meta-analysis of a proportion across clinics or published studies.

Each clinic (or study) contributes ``k`` events out of ``n``. The proportions are combined on
the logit scale by DerSimonian-Laird (:func:`statsmodels.stats.meta_analysis.combine_effects`,
``method_re="dl"``, the one-step moment estimator of tau²) and by Paule-Mandel (tau² the root
of the generalised Q equation, :func:`paule_mandel_tau2`), then back-transformed to a rate.
The same numbers as R's ``metafor::rma(measure="PLO", xi=k, ni=n, method="DL"|"PM")``.

Functions return tidy DataFrames; plotting lives in :mod:`outcomes.figures`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from outcomes import stats
from outcomes.errors import AnalysisError

__all__ = [
    "METHODS",
    "MetaResult",
    "logit_effects",
    "meta_proportion",
    "funnel_data",
    "published_studies",
    "compare_with_studies",
    "generalised_q",
    "paule_mandel_tau2",
    "RE_COLUMNS",
    "random_effects_by",
]

#: columns :func:`random_effects_by` adds beside summed counts (pooled response)
RE_COLUMNS = ("re_method", "re_clinics", "re_estimate", "re_ci_low", "re_ci_high", "re_tau2",
              "re_i2", "re_q_p_value", "re_heterogeneity", "re_p_value")

#: method name shown in output -> statsmodels ``method_re``
METHODS = {"DerSimonian-Laird": "dl", "Paule-Mandel": "pm"}

_SUMMARY_COLUMNS = ["method", "estimate", "ci_low", "ci_high", "logit_estimate", "logit_se",
                    "tau2", "i2", "q", "q_df", "q_p_value", "k_studies", "note"]


@dataclass(frozen=True)
class MetaResult:
    """A random-effects meta-analysis of one proportion.

    Attributes
    ----------
    summary : DataFrame
        One row per method (DerSimonian-Laird, Paule-Mandel): ``method``; ``estimate``,
        ``ci_low``, ``ci_high`` (pooled rate and its interval, fractions 0-1, back-transformed
        from the logit scale); ``logit_estimate``, ``logit_se`` (log-odds); ``tau2``
        (between-study variance, log-odds²); ``i2`` (fraction 0-1); ``q`` (Cochran's Q),
        ``q_df``, ``q_p_value``; ``k_studies``; ``note`` ("" or why nothing was estimated).
    studies : DataFrame
        One row per study, for a forest plot: ``label``, ``k``, ``n``, ``rate``, ``ci_low``,
        ``ci_high`` (the study's own interval, :func:`outcomes.stats.proportion_ci`),
        ``yi``, ``vi`` (logit and its variance), ``corrected`` (0.5 added),
        ``weight_dl``, ``weight_pm`` (relative random-effects weights, fractions summing to 1;
        0 for a study with n = 0, which is left out).
    """

    summary: pd.DataFrame
    studies: pd.DataFrame


def logit_effects(k, n) -> pd.DataFrame:
    """Logit-transformed proportions and their sampling variances.

    Parameters
    ----------
    k, n : array_like of int
        Events and totals per study (0 <= k <= n, n > 0).

    Returns
    -------
    DataFrame
        ``k``, ``n``, ``corrected`` (bool: 0.5 was added), ``yi`` (log-odds), ``vi``
        (variance, log-odds²).

    Notes
    -----
    ``yi = log((k + c) / (n - k + c))`` and ``vi = 1/(k + c) + 1/(n - k + c)`` with
    ``c = 0.5`` when ``k = 0`` or ``k = n`` and ``c = 0`` otherwise, as metafor's
    ``escalc(measure="PLO")`` with its default ``add=1/2, to="only0"``.

    Examples
    --------
    >>> logit_effects([0, 5], [10, 10])[["yi", "vi"]].round(3).to_numpy().tolist()
    [[-3.045, 2.095], [0.0, 0.4]]
    """
    k = np.atleast_1d(np.asarray(k, dtype=float))
    n = np.atleast_1d(np.asarray(n, dtype=float))
    bad = ~((n > 0) & (k >= 0) & (k <= n) & (k == np.round(k)) & (n == np.round(n)))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise AnalysisError(f"study {i + 1}: k={k[i]:g}, n={n[i]:g} is not a proportion; "
                            "expected whole numbers with 0 <= k <= n and n > 0.")
    corrected = (k == 0) | (k == n)
    c = np.where(corrected, 0.5, 0.0)
    return pd.DataFrame({"k": k.astype(np.int64), "n": n.astype(np.int64),
                         "corrected": corrected,
                         "yi": np.log((k + c) / (n - k + c)),
                         "vi": 1.0 / (k + c) + 1.0 / (n - k + c)})


@dataclass(frozen=True)
class _Fit:
    """A random-effects fit at a given tau² (the attributes of statsmodels' results used)."""

    tau2: float
    mean_effect_re: float
    sd_eff_w_re: float
    weights_rel_re: np.ndarray
    q: float


def _fit_at(yi: np.ndarray, vi: np.ndarray, tau2: float) -> _Fit:
    """Inverse-variance random-effects estimate at ``tau2``; ``q`` is Cochran's (fixed-effect) Q."""
    w0 = 1.0 / vi
    q = float((w0 * (yi - (w0 * yi).sum() / w0.sum()) ** 2).sum())
    w = 1.0 / (vi + tau2)
    return _Fit(tau2=float(tau2), mean_effect_re=float((w * yi).sum() / w.sum()),
                sd_eff_w_re=float(np.sqrt(1.0 / w.sum())), weights_rel_re=w / w.sum(), q=q)


def generalised_q(tau2, yi, vi) -> float:
    """The generalised Q statistic ``sum w_i (y_i - mu_w)²`` with ``w_i = 1/(v_i + tau²)``.

    Decreasing in ``tau2`` (log-odds²); Paule-Mandel's tau² is where it equals ``k - 1``.
    """
    w = 1.0 / (np.asarray(vi, float) + tau2)
    y = np.asarray(yi, float)
    return float((w * (y - (w * y).sum() / w.sum()) ** 2).sum())


def paule_mandel_tau2(yi, vi) -> float:
    """Paule-Mandel tau²: the root of ``generalised_q(tau2) = k - 1``, 0 if Q(0) <= k - 1.

    Solved with :func:`scipy.optimize.brentq` to ``xtol = 1e-14`` after bracketing the root by
    doubling an upper bound, as metafor's ``rma(method="PM")`` does with ``uniroot`` (metafor
    stops with an error when the root lies above ``tau2.max = 100``; here the bracket grows).
    The iteration in statsmodels' ``combine_effects(method_re="pm")`` is not used: with a
    tight ``atol`` it can land on a rounding error and return tau² = 0 (issue 11).
    """
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    df = yi.size - 1

    def excess(t):
        return generalised_q(t, yi, vi) - df

    if df < 1 or excess(0.0) <= 0:
        return 0.0
    high = max(1.0, float(np.var(yi, ddof=1)))
    while excess(high) > 0:   # Q(tau2) -> 0 < df as tau2 grows: a few doublings at most
        high *= 2.0
    from scipy.optimize import brentq

    return float(brentq(excess, 0.0, high, xtol=1e-14, rtol=4 * np.finfo(float).eps,
                        maxiter=500))


def _one_method(yi: np.ndarray, vi: np.ndarray, code: str, level: float):
    """tau², estimate, se and weights for one method (DL: statsmodels, truncated at 0;
    PM: :func:`paule_mandel_tau2`)."""
    if code == "pm":
        return _fit_at(yi, vi, paule_mandel_tau2(yi, vi))
    from statsmodels.stats.meta_analysis import combine_effects

    with np.errstate(divide="ignore", invalid="ignore"):  # I² of statsmodels when Q == 0
        res = combine_effects(yi, vi, method_re=code, alpha=1 - level)
    if res.tau2 < 0:
        # statsmodels does not truncate the DL estimate; when Q < df the truncated DL and the
        # Paule-Mandel estimates are both exactly 0: the tau² = 0 fit.
        return _fit_at(yi, vi, 0.0)
    return res


def meta_proportion(k, n, labels=None, *, level: float = 0.95,
                    interval_method: str = "wilson") -> MetaResult:
    """Random-effects meta-analysis of a proportion (logit scale, DL and PM).

    Parameters
    ----------
    k, n : array_like of int
        Events and totals per study (clinic or published study). Studies with ``n == 0``
        carry no information and are left out (weight 0).
    labels : sequence of str, optional
        Study names (default "study 1", "study 2", ...).
    level : float
        Confidence level of every interval (default 0.95).
    interval_method : {"wilson", "clopper-pearson"}
        Interval for each study's own rate in ``studies`` (the pooled interval is the
        normal interval on the logit scale, back-transformed).

    Returns
    -------
    MetaResult
        ``summary`` (one row per method) and ``studies`` (one row per study).

    Notes
    -----
    Effects are logits with a 0.5 continuity correction where ``k = 0`` or ``k = n``
    (:func:`logit_effects`). The random-effects estimate is
    ``mu = sum(w_i y_i) / sum(w_i)`` with ``w_i = 1 / (v_i + tau²)``, its standard error
    ``sqrt(1 / sum(w_i))`` and interval ``mu ± z se``, back-transformed with the inverse logit.
    tau² by DerSimonian-Laird, ``max(0, (Q - df) / (sum w - sum w² / sum w))`` with fixed-effect
    weights, or Paule-Mandel (the tau² at which the weighted Q equals df, 0 if none).
    ``I² = tau² / (tau² + s²)``, ``s² = df sum(w) / ((sum w)² - sum w²)`` the typical
    within-study variance (Higgins & Thompson 2002; as metafor reports it, so for DL it equals
    ``max(0, (Q - df) / Q)``). Q's p-value: chi-squared on ``k_studies - 1`` df.
    With fewer than two studies of ``n > 0`` nothing is pooled: the summary has NaN and a note.

    References
    ----------
    DerSimonian R, Laird N. Meta-analysis in clinical trials. Control Clin Trials 1986;7:177-88.
    Paule RC, Mandel J. Consensus values and weighting factors. J Res NBS 1982;87:377-85.
    Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat Softw 2010.

    Examples
    --------
    >>> r = meta_proportion([38, 54], [42, 86], ["A", "B"])
    >>> r.summary[["method", "k_studies"]].to_numpy().tolist()
    [['DerSimonian-Laird', 2], ['Paule-Mandel', 2]]
    """
    # here, not at the top: the pooled report's notebook imports this module for
    # published_studies and needs none of these (~0.5 s of imports, scipy.stats mostly)
    from scipy import stats as sps
    from scipy.special import expit

    k = np.atleast_1d(np.asarray(k, dtype=float))
    n = np.atleast_1d(np.asarray(n, dtype=float))
    if k.shape != n.shape:
        raise AnalysisError(f"k and n differ in length ({k.size} vs {n.size}).")
    labels = [f"study {i + 1}" for i in range(k.size)] if labels is None else list(labels)
    if len(labels) != k.size:
        raise AnalysisError(f"{len(labels)} labels for {k.size} studies.")
    used = n > 0
    eff = logit_effects(k[used], n[used])
    low, high = stats.proportion_ci(k, n, level=level, method=interval_method)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(used, k / np.where(used, n, 1), np.nan)
    studies = pd.DataFrame({"label": pd.array(labels, dtype="string"),
                            "k": k.astype(np.int64), "n": n.astype(np.int64),
                            "rate": rate, "ci_low": np.asarray(low, float),
                            "ci_high": np.asarray(high, float),
                            "yi": np.nan, "vi": np.nan, "corrected": False})
    studies.loc[used, ["yi", "vi"]] = eff[["yi", "vi"]].to_numpy()
    studies.loc[used, "corrected"] = eff["corrected"].to_numpy()

    rows = []
    n_used = int(used.sum())
    for name, code in METHODS.items():
        studies[f"weight_{code}"] = 0.0
        if n_used < 2:
            rows.append({"method": name, "k_studies": n_used,
                         "note": f"{n_used} stud{'y' if n_used == 1 else 'ies'} with n > 0: "
                                 "a meta-analysis needs at least 2"})
            continue
        yi, vi = eff["yi"].to_numpy(), eff["vi"].to_numpy()
        res = _one_method(yi, vi, code, level)
        tau2 = float(max(res.tau2, 0.0))
        w = 1.0 / vi
        s2 = (n_used - 1) * w.sum() / (w.sum() ** 2 - (w ** 2).sum())
        mu, se = float(res.mean_effect_re), float(res.sd_eff_w_re)
        z = sps.norm.isf((1 - level) / 2)
        q = float(res.q)
        studies.loc[used, f"weight_{code}"] = np.asarray(res.weights_rel_re, float)
        rows.append({"method": name, "estimate": float(expit(mu)),
                     "ci_low": float(expit(mu - z * se)), "ci_high": float(expit(mu + z * se)),
                     "logit_estimate": mu, "logit_se": se, "tau2": tau2,
                     "i2": tau2 / (tau2 + s2), "q": q, "q_df": n_used - 1,
                     "q_p_value": float(sps.chi2.sf(q, n_used - 1)), "k_studies": n_used,
                     "note": ""})
    summary = pd.DataFrame(rows).reindex(columns=_SUMMARY_COLUMNS)
    summary["note"] = summary["note"].fillna("").astype("string")
    summary["method"] = summary["method"].astype("string")
    summary["k_studies"] = summary["k_studies"].astype(np.int64)
    summary["q_df"] = summary["q_df"].astype("Int64")
    return MetaResult(summary=summary, studies=studies)


def funnel_data(k, n, labels, p0: float, *, levels=(0.95, 0.998)) -> pd.DataFrame:
    """Each clinic (or study) against a reference rate, with exact binomial funnel limits.

    Parameters
    ----------
    k, n : array_like of int
        Events and totals per clinic.
    labels : sequence of str
        Clinic names.
    p0 : float
        The reference rate (fraction 0-1): the pooled or a published rate.
    levels : sequence of float
        Funnel levels (default 95% and 99.8%).

    Returns
    -------
    DataFrame
        ``label``, ``k``, ``n``, ``rate``, ``p0``, then ``low<L>``, ``high<L>`` per level
        (``low95``, ``high95``, ``low998``, ``high998`` by default; limits for a rate at that
        ``n``, :func:`outcomes.stats.funnel_limits`), ``flag`` (``within``, ``above 95%``,
        ``above 99.8%``, ``below 95%``, ``below 99.8%``: the widest limit crossed), as the
        practitioner ``funnel`` frame of an analysis. Clinics with ``n == 0`` are left out.
    """
    k = np.atleast_1d(np.asarray(k, dtype=float))
    n = np.atleast_1d(np.asarray(n, dtype=float))
    keep = n > 0
    k, n, labels = k[keep], n[keep], [lab for lab, kp in zip(labels, keep, strict=True) if kp]
    out = pd.DataFrame({"label": pd.array(labels, dtype="string"), "k": k.astype(np.int64),
                        "n": n.astype(np.int64)})
    out = pd.concat([out, stats.funnel_flags(k, n, p0, levels=levels)], axis=1)
    out["flag"] = pd.array(out["flag"].to_numpy().astype(str), dtype="string")
    return out


def published_studies(family: str = "photographic", outcome: str = "improved") -> pd.DataFrame:
    """The published studies a clinic's rate is meta-analysed with, from the registry.

    Every treatment-arm record with counts for that family and measure
    (:func:`outcomes.registry.benchmarks_for`); for photographic improvement: Saceda-Corralo
    2022 (69/86, derived from the quoted 80 %), Vañó-Galván 2020 (oral, 38/42), Moftah 2013
    (54/86).

    Parameters
    ----------
    family, outcome : str
        As in the ``response`` frame (``photographic``/``improved`` by default).

    Returns
    -------
    DataFrame
        ``benchmark_id``, ``label`` (first author year), ``k``, ``n``, ``derived`` (bool: the
        count was derived from a quoted percentage, not reported).
    """
    from outcomes import registry

    recs = [r for r in registry.benchmarks_for(family, outcome) if r.has_counts]
    if not recs:
        raise AnalysisError(f"no published study with counts for {family}/{outcome} in the "
                            "registry.")
    return pd.DataFrame({
        "benchmark_id": pd.array([r.id for r in recs], dtype="string"),
        "label": pd.array([_study_label(r) for r in recs], dtype="string"),
        "k": np.array([r.k for r in recs], dtype=np.int64),
        "n": np.array([r.n for r in recs], dtype=np.int64),
        "derived": np.array([bool(getattr(r, "derived", False)) for r in recs]),
    })


def _study_label(rec) -> str:
    return str(getattr(rec, "label", None) or f"{rec.study} {rec.year}")


def compare_with_studies(k: int, n: int, *, label: str = "clinic",
                         family: str = "photographic", outcome: str = "improved",
                         level: float = 0.95) -> MetaResult:
    """A clinic's rate meta-analysed with the published studies in the registry.

    Parameters
    ----------
    k, n : int
        The clinic's events and total (e.g. improved / assessed).
    label : str
        The clinic's name in the forest plot.
    family, outcome : str
        Which published figures (see :func:`published_studies`).
    level : float
        Confidence level.

    Returns
    -------
    MetaResult
        The clinic is the first row of ``studies``; the published studies follow, with a
        ``derived`` column (True where the count was derived from a quoted percentage) and
        ``benchmark_id``.
    """
    pub = published_studies(family, outcome)
    res = meta_proportion(np.r_[k, pub["k"]], np.r_[n, pub["n"]], [label, *pub["label"]],
                          level=level)
    studies = res.studies.copy()
    studies["derived"] = np.r_[False, pub["derived"].to_numpy(bool)]
    studies["benchmark_id"] = pd.array([pd.NA, *pub["benchmark_id"]], dtype="string")
    return MetaResult(summary=res.summary, studies=studies)


def random_effects_by(df: pd.DataFrame, keys, *, clinic: str = "clinic", level: float = 0.95,
                      method: str = "DerSimonian-Laird", benchmark_k=None,
                      benchmark_n=None) -> pd.DataFrame:
    """The random-effects rate across clinics, per group of rows, for beside summed counts.

    Parameters
    ----------
    df : DataFrame
        One row per clinic and group: the ``keys`` columns, ``clinic``, ``k``, ``n``.
    keys : sequence of str
        Columns defining a group (e.g. ``family``, ``group``, ``outcome``).
    clinic : str
        Column naming the clinic (the study of the meta-analysis).
    level : float
        Confidence level.
    method : {"DerSimonian-Laird", "Paule-Mandel"}
        tau² estimator (default DerSimonian-Laird, the interval issue 11 quotes).
    benchmark_k, benchmark_n : Series, optional
        The published study's counts per row of ``df`` (the same on every row of a group;
        NA where none): the random-effects rate is compared with them.

    Returns
    -------
    DataFrame
        One row per group: ``keys`` then :data:`RE_COLUMNS`: ``re_method``, ``re_clinics``
        (clinics with n > 0), ``re_estimate``, ``re_ci_low``, ``re_ci_high`` (fractions),
        ``re_tau2`` (log-odds²), ``re_i2`` (fraction), ``re_q_p_value``,
        ``re_heterogeneity`` (True when tau² > 0: the clinics differ more than chance alone
        explains, so the summed counts' binomial interval is too narrow and the
        random-effects interval is the one to read), ``re_p_value`` (two-sided z-test of the
        random-effects logit against the study's logit with both variances,
        ``(mu - y_s) / sqrt(se² + v_s)``; NaN without study counts). NaN with fewer than two
        clinics of n > 0.
    """
    keys = list(keys)
    if method not in METHODS:
        raise AnalysisError(f"method {method!r}: expected one of {', '.join(METHODS)}.")
    rows = []
    frame = df.assign(_bk=np.nan if benchmark_k is None else pd.to_numeric(
        pd.Series(benchmark_k, index=df.index), errors="coerce"),
        _bn=np.nan if benchmark_n is None else pd.to_numeric(
        pd.Series(benchmark_n, index=df.index), errors="coerce"))
    for key, g in frame.groupby(keys, sort=False, dropna=False):   # a handful of groups
        key = key if isinstance(key, tuple) else (key,)
        res = meta_proportion(g["k"].to_numpy(np.int64), g["n"].to_numpy(np.int64),
                              g[clinic].astype(str).tolist(), level=level)
        s = res.summary.set_index("method").loc[method]
        row = dict(zip(keys, key)) | {
            "re_method": method, "re_clinics": int(s["k_studies"]),
            "re_estimate": s["estimate"], "re_ci_low": s["ci_low"], "re_ci_high": s["ci_high"],
            "re_tau2": s["tau2"], "re_i2": s["i2"], "re_q_p_value": s["q_p_value"],
            "re_heterogeneity": bool(s["tau2"] > 0) if np.isfinite(s["tau2"]) else False,
            "re_p_value": np.nan}
        bk, bn = g["_bk"].dropna(), g["_bn"].dropna()
        if len(bk) and len(bn) and bn.iloc[0] > 0 and np.isfinite(s["logit_estimate"]):
            study = logit_effects([int(bk.iloc[0])], [int(bn.iloc[0])]).iloc[0]
            zstat = (s["logit_estimate"] - study["yi"]) / np.sqrt(s["logit_se"] ** 2
                                                                 + study["vi"])
            from scipy import stats as sps

            row["re_p_value"] = float(2 * sps.norm.sf(abs(zstat)))
        rows.append(row)
    out = pd.DataFrame(rows, columns=[*keys, *RE_COLUMNS])
    return out.astype({"re_method": object, "re_clinics": "int64", "re_heterogeneity": bool})
