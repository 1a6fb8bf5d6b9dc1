"""Density over time: a linear mixed model (statsmodels ``MixedLM``).

``density ~ months + sites + sex + minoxidil + severity`` with a random intercept and a random
slope on months per patient, fitted by REML on a seeded random subsample of at most
``definitions.model_max_patients`` patients. ``sites`` is the set of scalp sites measured at
the visit (``frontal``, ``vertex``, ``frontal+vertex``): the density of a visit is the mean
over those sites, so a patient measured at the vertex at baseline and at the frontal site a
year later would otherwise mix a site difference into the change.

When the random-slope fit fails, does not converge, or is singular (lme4's ``isSingular``
criterion on the relative covariance factor, an intercept-slope correlation beyond +-0.99, or
a random slope that does not improve the REML criterion: a boundary fit whose slope variance
the data cannot separate), the random-intercept
model is fitted instead and the note says why. With too few data the table is empty and the
note says why; warnings raised while fitting are caught and reported in the note, never leaked.
"""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from outcomes.cohort import Cohort, minoxidil_level, severity_group
from outcomes.stats import _sp  # scipy.special's ufuncs, loaded alone (stats._load_special)

__all__ = ["MODEL_COLUMNS", "MIN_PATIENTS", "DAYS_PER_MONTH", "SINGULAR_TOL",
           "CORRELATION_LIMIT", "model_data", "density_model", "fit_density",
           "singular_fit", "design"]

MODEL_COLUMNS = ("term", "coef", "std_err", "ci_low", "ci_high", "p_value", "patients")

#: fewest patients with at least two density visits for a fit to be attempted
MIN_PATIENTS = 10

#: average Gregorian month, days
DAYS_PER_MONTH = 365.25 / 12

#: lme4's ``isSingular(tol = 1e-4)``: a diagonal element of the relative covariance factor
#: (Cholesky factor of the random-effects covariance / residual variance) below this is zero
SINGULAR_TOL = 1e-4

#: an intercept-slope correlation at least this far from 0 is treated as a boundary fit
CORRELATION_LIMIT = 0.99

#: below this smallest relative-factor element the random-slope fit is compared with the
#: random-intercept one ...
SUSPECT_TOL = 0.05

#: ... and is a boundary fit when it improves the REML criterion (-2 log-likelihood) by less
#: than this: the slope variance is not identified (lme4 puts such fits on the boundary)
REML_GAIN_MIN = 0.01

#: the covariates, in formula order (each left out when it has one level in the data)
COVARIATES = ("sites", "sex", "minoxidil", "severity")


def model_data(cohort: Cohort) -> pd.DataFrame:
    """One row per patient and density visit (sites averaged), from baseline on.

    Returns
    -------
    DataFrame
        ``pid`` (int64), ``months`` (since the first session, float), ``density`` (hairs/cm²,
        mean over the sites measured that day), ``sites`` (the sites measured that day, sorted
        and joined by ``+``, e.g. ``"frontal+vertex"``), ``sex``, ``minoxidil`` (``yes``/``no``/
        ``not recorded``), ``severity`` (``mild``/``moderate``/``severe``/``not graded``).
    """
    d = cohort.definitions
    m = cohort.measurements
    keep = m["density_per_cm2"].notna() & (m["day"] >= -int(d.baseline_days_before))
    rows = m.loc[keep, ["_pid", "day", "density_per_cm2", "site"]]
    rows = rows.assign(site=rows["site"].astype(object).fillna("not recorded"))
    g = rows.groupby(["_pid", "day"], sort=True)
    visits = g["density_per_cm2"].mean().reset_index()
    # the set of sites of each visit as a bit mask (one bit per site, sites in sorted order),
    # summed over the visit's distinct sites; each mask then named once ("frontal+vertex")
    codes, names = pd.factorize(rows["site"], sort=True)
    pairs = rows[["_pid", "day"]].assign(bit=np.left_shift(1, codes.astype("int64")))
    mask = pairs.drop_duplicates().groupby(["_pid", "day"], sort=True)["bit"].sum()
    labels = {v: "+".join(str(nm) for j, nm in enumerate(names) if v >> j & 1)
              for v in np.unique(mask.to_numpy())}
    sites = mask.map(labels)
    p = cohort.patients
    pid = visits["_pid"].to_numpy("int64")
    mino_txt = minoxidil_level(p)
    sev = severity_group(p["baseline_scale"], p["baseline_grade"]).str.extract(
        r"(mild|moderate|severe)$", expand=False).fillna("not graded")
    return pd.DataFrame({
        "pid": pid,
        "months": visits["day"].to_numpy(float) / DAYS_PER_MONTH,
        "density": visits["density_per_cm2"].to_numpy(float),
        "sites": sites.to_numpy(object),
        "sex": p["sex"].astype(object).fillna("not recorded").to_numpy(object)[pid],
        "minoxidil": mino_txt.astype(object)[pid],
        "severity": sev.astype(object).to_numpy(object)[pid],
    })


def _term_patients(names, data: pd.DataFrame, covariates) -> np.ndarray:
    """Patients each fixed effect rests on (int64): for a factor level's contrast the fewer of
    that level's and the reference level's patients; for the intercept the fewest of the
    reference levels; for the slope every patient fitted. The disclosure pass withholds a term
    resting on fewer than ``min_cell`` patients."""
    # patients with a visit at each level (a visit-level covariate such as the sites counts a
    # patient under every level they had)
    counts = {c: data.groupby(data[c].astype(str))["pid"].nunique() for c in covariates}
    ref = {c: int(v[sorted(v.index)[0]]) for c, v in counts.items()}
    total = int(data["pid"].nunique())
    out = []
    for name in names:   # a handful of terms
        m = re.match(r"^(\w+)\[T\.(.+)\]$", str(name))
        if m and m[1] in counts:
            out.append(min(int(counts[m[1]].get(m[2], 0)), ref[m[1]]))
        elif name == "Intercept":
            out.append(min([total, *ref.values()]))
        else:
            out.append(total)
    return np.asarray(out, dtype="int64")


def _empty(note: str) -> tuple[pd.DataFrame, str]:
    return pd.DataFrame({c: pd.Series(dtype=object if c == "term" else
                                      "int64" if c == "patients" else float)
                         for c in MODEL_COLUMNS}), note


def design(data: pd.DataFrame, covariates) -> pd.DataFrame:
    """The fixed-effects design matrix of ``density ~ years + covariates``, as statsmodels'
    formula interface builds it (same columns, names, order and values), built directly so
    that the formula machinery is neither imported nor run.

    Parameters
    ----------
    data : DataFrame
        ``years`` (float) and the covariate columns (text levels).
    covariates : sequence of str
        Categorical covariates, in formula order.

    Returns
    -------
    DataFrame
        ``Intercept`` (1.0), then each covariate's treatment contrasts in formula order
        (``sex[T.M]``: 1.0 where ``sex`` is ``"M"``; levels in sorted order, the first is the
        reference), then ``years``; float64, ``data``'s index.
    """
    columns = {"Intercept": np.ones(len(data))}
    for c in covariates:       # a handful of covariates and levels, never the rows
        values = data[c].astype(str).to_numpy(object)
        for level in sorted(set(values))[1:]:
            columns[f"{c}[T.{level}]"] = (values == level).astype(float)
    columns["years"] = data["years"].to_numpy(float)
    return pd.DataFrame(columns, index=data.index)


def _fit(exog: pd.DataFrame, data: pd.DataFrame, random_slope: bool):
    """Fit by REML; return (result or None, list of warning texts, error text).

    ``exog`` is :func:`design`; the random effects are an intercept and, if ``random_slope``,
    a slope on ``years`` per ``pid`` (statsmodels ``re_formula="~years"``).
    """
    from statsmodels.regression.mixed_linear_model import MixedLM

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            exog_re = (np.column_stack([np.ones(len(data)), data["years"].to_numpy(float)])
                       if random_slope else None)
            model = MixedLM(data["density"], exog, groups=data["pid"].to_numpy(),
                            exog_re=exog_re)
            result = model.fit(reml=True, method=["lbfgs"])
            error = "" if result.converged else "did not converge"
        except (np.linalg.LinAlgError, ValueError, ZeroDivisionError) as err:
            result, error = None, f"failed ({type(err).__name__}: {err})"
    texts = sorted({f"{w.category.__name__}: {str(w.message).splitlines()[0]}"
                    for w in caught})
    if result is not None and any("Convergence" in t for t in texts):
        error = error or "convergence warnings"
    return result, texts, error


def singular_fit(cov_re, scale: float) -> str:
    """Why a fitted random-effects covariance is singular, or ``""`` when it is not.

    Parameters
    ----------
    cov_re : array-like, (q, q)
        Random-effects covariance (statsmodels ``MixedLMResults.cov_re``).
    scale : float
        Residual variance (``MixedLMResults.scale``).

    Returns
    -------
    str
        ``""``, or the reason: a variance of (about) zero, or an intercept-slope correlation
        of (about) +-1. lme4's ``isSingular(tol = 1e-4)`` flags a fit when a diagonal element
        of the relative covariance factor (the Cholesky factor of ``cov_re / scale``) is below
        :data:`SINGULAR_TOL`; a correlation beyond :data:`CORRELATION_LIMIT` is flagged too,
        since statsmodels' optimiser may stop just short of the boundary lme4 reaches.
    """
    cov = np.atleast_2d(np.asarray(cov_re, dtype=float))
    if not (np.isfinite(cov).all() and np.isfinite(scale) and scale > 0):
        return "the random-effects covariance is not finite"
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    if cov.shape[0] >= 2 and sd[0] > 0 and sd[1] > 0:
        r = cov[0, 1] / (sd[0] * sd[1])
        if abs(r) >= CORRELATION_LIMIT:
            return f"the random intercept-slope correlation is {r:+.3f}"
    if _factor_min(cov, scale) < SINGULAR_TOL:
        which = ("a random-effect variance is zero" if (sd ** 2 / scale < SINGULAR_TOL ** 2).any()
                 else "the random-effects covariance is singular (correlation +-1)")
        return which
    return ""


def _fixed_effect_se(result) -> np.ndarray:
    """Standard errors of the fixed effects as lme4's ``vcov()``: :math:`\\sigma^2 (X'V^{-1}X)^{-1}`
    at the estimated variances (statsmodels' ``bse_fe`` comes from the Hessian of the whole
    likelihood and differs from lme4 by up to a few percent for covariates that vary within
    patients).

    With :math:`V_i = \\sigma^2 I + Z_i G Z_i'` per patient, Woodbury gives
    :math:`X'V^{-1}X = \\sigma^{-2}[X'X - \\sum_i A_i' G (\\sigma^2 I + B_i G)^{-1} A_i]`,
    :math:`A_i = Z_i'X_i`, :math:`B_i = Z_i'Z_i`: q x q systems per patient, no loop, and no
    inverse of a singular G.
    """
    model = result.model
    x = np.asarray(model.exog, dtype=float)
    zz = np.asarray(model.exog_re, dtype=float)
    codes = pd.factorize(np.asarray(model.groups))[0]
    n_groups = int(codes.max()) + 1
    q, k = zz.shape[1], x.shape[1]
    a = np.zeros((n_groups, q, k))
    np.add.at(a, codes, zz[:, :, None] * x[:, None, :])
    b = np.zeros((n_groups, q, q))
    np.add.at(b, codes, zz[:, :, None] * zz[:, None, :])
    g = np.atleast_2d(np.asarray(result.cov_re, dtype=float))
    s2 = float(result.scale)
    c = np.linalg.solve(s2 * np.eye(q) + b @ g, a)
    info = (x.T @ x - np.einsum("gqp,qr,grs->ps", a, g, c)) / s2
    return np.sqrt(np.diag(np.linalg.inv(info)))


def _factor_min(cov_re, scale: float) -> float:
    """Smallest diagonal element of the relative covariance factor (lme4's theta)."""
    try:
        return float(np.abs(np.diag(np.linalg.cholesky(
            np.atleast_2d(np.asarray(cov_re, dtype=float)) / scale))).min())
    except np.linalg.LinAlgError:
        return 0.0


@dataclass(frozen=True)
class DensityFit:
    """A fitted density model (:func:`fit_density`).

    Attributes
    ----------
    table : DataFrame
        :data:`MODEL_COLUMNS`, per month for ``months``.
    note : str
        The fit's part of the model note (model, random effects, fallback and why, warnings).
    random_effects : str
        ``"intercept and slope"``, ``"intercept"`` or ``""`` (not fitted).
    singular : str
        Why the random-slope fit was singular (:func:`singular_fit`), else ``""``.
    cov_re : ndarray
        Random-effects covariance of the model kept (time in years), empty when not fitted.
    scale : float
        Residual variance of the model kept.
    model, detail : str
        ``note`` in two parts: the model fitted (one clause, no full stop) and the rest.
    """

    table: pd.DataFrame
    note: str
    random_effects: str
    singular: str
    cov_re: np.ndarray
    scale: float
    model: str = ""
    detail: str = ""


def fit_density(data: pd.DataFrame, *, confidence: float = 0.95,
                covariates: tuple[str, ...] = COVARIATES) -> DensityFit:
    """Fit ``density ~ years + covariates`` with a random intercept and slope per ``pid``
    (REML), falling back to a random intercept when that fit fails, does not converge or is
    singular.

    Parameters
    ----------
    data : DataFrame
        ``pid``, ``months`` and ``density`` (hairs/cm²), and the covariate columns (see
        :func:`model_data`); a covariate with one level in ``data`` is left out.
    confidence : float, default 0.95
        Level of the Wald intervals.
    covariates : tuple of str
        Candidate covariates, in formula order.

    Returns
    -------
    DensityFit
    """
    kept = [c for c in covariates if c in data and data[c].nunique() > 1]
    # fitted on years (better conditioned: faster, fewer convergence failures), reported per
    # month: coefficient, standard error and limits of `years` divided by 12
    data = data.assign(years=data["months"] / 12)
    formula = " + ".join(["density ~ years", *kept])
    exog = design(data, kept)
    result, texts, error = _fit(exog, data, True)
    singular = ""
    pre = None  # the random-intercept fit, when already made for the boundary check
    if result is not None and not error:
        singular = singular_fit(result.cov_re, result.scale)
        if not singular and _factor_min(result.cov_re, result.scale) < SUSPECT_TOL:
            # a small slope factor: statsmodels may have stopped on a flat REML surface short
            # of the boundary lme4 reaches; compare with the random-intercept fit
            pre = _fit(exog, data, False)
            if pre[0] is not None and not pre[2]:
                gain = 2 * (result.llf - pre[0].llf)
                if gain < REML_GAIN_MIN:
                    singular = (f"the random slope improves the REML criterion by {gain:.4f} "
                                f"(< {REML_GAIN_MIN}): its variance is not identified")
    fallback = ""
    if result is None or error or singular:
        why = (f"was singular ({singular}; lme4 would report isSingular)" if singular
               else error if error.startswith(("did", "failed")) else f"gave {error}")
        fallback = f"The random-slope model {why}; a random intercept only was fitted. "
        result2, texts2, error2 = pre if pre is not None else _fit(exog, data, False)
        texts = sorted(set(texts) | set(texts2))
        if result2 is None:
            return DensityFit(_empty("")[0], f"Density model not fitted: {fallback}the "
                              f"random-intercept model {error2}. "
                              + (f"Warnings: {'; '.join(texts)}." if texts else ""),
                              "", singular, np.zeros((0, 0)), float("nan"))
        result, error, effects = result2, error2, "intercept"
        if not error and singular_fit(result.cov_re, result.scale):
            error = "has a random-intercept variance of zero (no between-patient variation)"
    else:
        effects = "intercept and slope"
    names = list(result.fe_params.index)
    coef = result.fe_params.to_numpy(float)
    se = _fixed_effect_se(result)
    z = float(_sp.ndtri(0.5 + confidence / 2))
    per_month = np.where(np.array(names) == "years", 1 / 12, 1.0)
    table = pd.DataFrame({
        "term": pd.Series(["months" if n == "years" else n for n in names], dtype=object),
        "coef": coef * per_month,
        "std_err": se * per_month,
        "ci_low": (coef - z * se) * per_month,
        "ci_high": (coef + z * se) * per_month,
        "p_value": 2 * _sp.ndtr(-np.abs(coef / se)),
        "patients": _term_patients(names, data, kept),
    })
    words = ("random intercept and slope on months per patient" if effects.endswith("slope")
             else "random intercept per patient")
    head = (f"Linear mixed model (statsmodels MixedLM, REML): "
            f"{formula.replace('years', 'months')}, {words}")
    note = fallback
    dropped = [c for c in covariates if c not in kept]
    if dropped:
        note += f"Left out (one level only): {', '.join(dropped)}. "
    if error:
        note += f"The fit {error}: read the coefficients with caution. "
    if texts:
        note += f"Warnings while fitting: {'; '.join(texts)}. "
    return DensityFit(table, f"{head}. {note}".strip(), effects, singular,
                      np.asarray(result.cov_re, dtype=float), float(result.scale), head,
                      note.strip())


def density_model(cohort: Cohort) -> tuple[pd.DataFrame, str]:
    """Fit the density mixed model (:func:`fit_density` on :func:`model_data`).

    Parameters
    ----------
    cohort : Cohort
        Uses ``definitions.model_max_patients``, ``definitions.model_seed``,
        ``definitions.confidence`` and ``definitions.min_cell`` (counts in the note).

    Returns
    -------
    table : DataFrame
        Fixed effects, one row per term (``Intercept``, ``months``, ``sites[T.vertex]``,
        ``sex[T.M]``, ...): ``coef`` (hairs/cm², per month for ``months``), ``std_err``,
        ``ci_low``, ``ci_high`` (Wald interval at ``definitions.confidence``), ``p_value``.
        Empty when not fitted.
    note : str
        What was fitted (random effects, and why the random slope was dropped if it was:
        failed, not converged, singular), patients and visits, subsample, how the scalp sites
        enter, covariates left out, warnings; or why nothing was.

    Notes
    -----
    ``months`` = days since the first session / 30.4375; the baseline window's visits are
    included (negative months). A covariate with one level in the data is left out.
    """
    d = cohort.definitions
    data = model_data(cohort)
    per = data.groupby("pid").size()
    usable = per.index[per >= 2].to_numpy()

    def count(x: int, what: str) -> str:
        # exact here: shareable output publishes the note through disclosure.control_note
        return f"{x} {what}"

    if usable.size < MIN_PATIENTS:
        return _empty(f"Density model not fitted: {count(usable.size, 'patients')} with at "
                      f"least two density visits; at least {MIN_PATIENTS} are needed."
                      .replace(f"{usable.size} patients", f"{usable.size} patient(s)"))
    max_n = int(d.model_max_patients)
    sub = ""
    if usable.size > max_n:
        rng = np.random.default_rng(int(d.model_seed))
        usable = np.sort(rng.choice(np.sort(usable), size=max_n, replace=False))
        sub = (f"a random subsample of {max_n} of {per.index[per >= 2].size} patients "
               f"(seed {d.model_seed}); ")
    data = data.loc[data["pid"].isin(usable)].reset_index(drop=True)
    fit = fit_density(data, confidence=float(d.confidence))
    if fit.random_effects == "":
        return fit.table, fit.note
    mixed = int((data.groupby("pid")["sites"].nunique() > 1).sum())
    site_words = ("the scalp sites measured at each visit (frontal, vertex or both; density "
                  "averaged over them) as a covariate"
                  if data["sites"].nunique() > 1 else
                  f"one scalp site set only ({data['sites'].iloc[0]})")
    head, rest = fit.model, fit.detail
    note = (f"{head}; {sub}{data['pid'].nunique()} patients with at least two density "
            f"visits, {len(data)} visits. Sites: {site_words}; "
            f"{count(mixed, 'patients')} had different sites measured at different visits. "
            f"{rest}")
    return fit.table, note.strip()
