"""Density over time: a linear mixed model (statsmodels ``MixedLM``).

``density ~ months + sex + minoxidil + severity`` with a random intercept and a random slope
on months per patient, fitted by REML on a seeded random subsample of at most
``definitions.model_max_patients`` patients. When the random-slope fit fails or does not
converge, the random-intercept model is fitted instead, and the note says so. With too few data
the table is empty and the note says why; warnings raised while fitting are caught and
reported in the note, never leaked.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from outcomes.cohort import Cohort, minoxidil_level, severity_group

__all__ = ["MODEL_COLUMNS", "MIN_PATIENTS", "DAYS_PER_MONTH", "model_data", "density_model"]

MODEL_COLUMNS = ("term", "coef", "std_err", "ci_low", "ci_high", "p_value")

#: fewest patients with at least two density visits for a fit to be attempted
MIN_PATIENTS = 10

#: average Gregorian month, days
DAYS_PER_MONTH = 365.25 / 12


def model_data(cohort: Cohort) -> pd.DataFrame:
    """One row per patient and density visit (sites averaged), from baseline on.

    Returns
    -------
    DataFrame
        ``pid`` (int64), ``months`` (since the first session, float), ``density`` (hairs/cm²,
        mean over the sites measured that day), ``sex``, ``minoxidil`` (``yes``/``no``/
        ``not recorded``), ``severity`` (``mild``/``moderate``/``severe``/``not graded``).
    """
    d = cohort.definitions
    m = cohort.measurements
    keep = m["density_per_cm2"].notna() & (m["day"] >= -int(d.baseline_days_before))
    visits = (m.loc[keep, ["_pid", "day", "density_per_cm2"]]
              .groupby(["_pid", "day"], as_index=False)["density_per_cm2"].mean())
    p = cohort.patients
    pid = visits["_pid"].to_numpy("int64")
    mino_txt = minoxidil_level(p)
    sev = severity_group(p["baseline_scale"], p["baseline_grade"]).str.extract(
        r"(mild|moderate|severe)$", expand=False).fillna("not graded")
    return pd.DataFrame({
        "pid": pid,
        "months": visits["day"].to_numpy(float) / DAYS_PER_MONTH,
        "density": visits["density_per_cm2"].to_numpy(float),
        "sex": p["sex"].astype(object).fillna("not recorded").to_numpy(object)[pid],
        "minoxidil": mino_txt.astype(object)[pid],
        "severity": sev.astype(object).to_numpy(object)[pid],
    })


def _empty(note: str) -> tuple[pd.DataFrame, str]:
    return pd.DataFrame({c: pd.Series(dtype=object if c == "term" else float)
                         for c in MODEL_COLUMNS}), note


def _fit(formula: str, data: pd.DataFrame, re_formula: str | None):
    """Fit; return (result or None, list of warning texts, error text)."""
    import statsmodels.formula.api as smf

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = smf.mixedlm(formula, data, groups=data["pid"], re_formula=re_formula)
            result = model.fit(reml=True, method=["lbfgs"])
            error = "" if result.converged else "did not converge"
        except (np.linalg.LinAlgError, ValueError, ZeroDivisionError) as err:
            result, error = None, f"failed ({type(err).__name__}: {err})"
    texts = sorted({f"{w.category.__name__}: {str(w.message).splitlines()[0]}"
                    for w in caught})
    if result is not None and any("Convergence" in t for t in texts):
        error = error or "convergence warnings"
    return result, texts, error


def density_model(cohort: Cohort) -> tuple[pd.DataFrame, str]:
    """Fit the density mixed model.

    Parameters
    ----------
    cohort : Cohort
        Uses ``definitions.model_max_patients`` and ``definitions.model_seed``.

    Returns
    -------
    table : DataFrame
        Fixed effects, one row per term (``Intercept``, ``months``, ``sex[T.M]``, ...):
        ``coef`` (hairs/cm², per month for ``months``), ``std_err``, ``ci_low``, ``ci_high``
        (Wald interval at ``definitions.confidence``), ``p_value``. Empty when not fitted.
    note : str
        What was fitted (random effects, patients, visits, subsample, covariates left out,
        warnings) or why nothing was.

    Notes
    -----
    ``months`` = days since the first session / 30.4375; the baseline window's visits are
    included (negative months). A covariate with one level in the data is left out.
    """
    d = cohort.definitions
    data = model_data(cohort)
    per = data.groupby("pid").size()
    usable = per.index[per >= 2].to_numpy()
    if usable.size < MIN_PATIENTS:
        # a count from 1 to min_cell - 1 is never written: the note goes into shareable output
        few = 0 < usable.size < int(d.min_cell)
        count = f"fewer than {int(d.min_cell)} patients" if few else f"{usable.size} patient(s)"
        return _empty(f"Density model not fitted: {count} with at least two "
                      f"density visits; at least {MIN_PATIENTS} are needed.")
    max_n = int(d.model_max_patients)
    sub = ""
    if usable.size > max_n:
        rng = np.random.default_rng(int(d.model_seed))
        usable = np.sort(rng.choice(np.sort(usable), size=max_n, replace=False))
        sub = (f"a random subsample of {max_n} of {per.index[per >= 2].size} patients "
               f"(seed {d.model_seed}); ")
    data = data.loc[data["pid"].isin(usable)].reset_index(drop=True)
    covariates = [c for c in ("sex", "minoxidil", "severity") if data[c].nunique() > 1]
    dropped = [c for c in ("sex", "minoxidil", "severity") if c not in covariates]
    # fitted on years (better conditioned: faster, fewer convergence failures), reported per
    # month: coefficient, standard error and limits of `years` divided by 12
    data = data.assign(years=data["months"] / 12)
    formula = " + ".join(["density ~ years", *covariates])
    result, texts, error = _fit(formula, data, "~years")
    effects, fallback = "", ""
    if result is None or error:
        why = error if error.startswith(("did", "failed")) else f"gave {error}"
        fallback = f"The random-slope model {why}; a random intercept only was fitted. "
        result2, texts2, error2 = _fit(formula, data, None)
        texts = sorted(set(texts) | set(texts2))
        if result2 is None:
            return _empty(f"density model not fitted: {fallback}the random-intercept model "
                          f"{error2}. " + (f"Warnings: {'; '.join(texts)}." if texts else ""))
        result, error, effects = result2, error2, "random intercept per patient"
    else:
        effects = "random intercept and slope on months per patient"
    names = list(result.fe_params.index)
    ci = result.conf_int(alpha=1 - d.confidence).loc[names]
    per_month = np.where(np.array(names) == "years", 1 / 12, 1.0)
    table = pd.DataFrame({
        "term": pd.Series(["months" if n == "years" else n for n in names], dtype=object),
        "coef": result.fe_params.to_numpy(float) * per_month,
        "std_err": result.bse_fe.loc[names].to_numpy(float) * per_month,
        "ci_low": ci.iloc[:, 0].to_numpy(float) * per_month,
        "ci_high": ci.iloc[:, 1].to_numpy(float) * per_month,
        "p_value": result.pvalues.loc[names].to_numpy(float),
    })
    formula = formula.replace("years", "months")
    effects = effects.replace("years", "months")
    note = (f"Linear mixed model (statsmodels MixedLM, REML): {formula}, {effects}; "
            f"{sub}{data['pid'].nunique()} patients with at least two density visits, "
            f"{len(data)} visits (sites averaged per visit). {fallback}")
    if dropped:
        note += f"Left out (one level only): {', '.join(dropped)}. "
    if error:
        note += f"The fit {error}: read the coefficients with caution. "
    if texts:
        note += f"Warnings while fitting: {'; '.join(texts)}."
    return table, note.strip()
