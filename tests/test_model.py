"""Density mixed model: recovery of a known slope, subsample, too-little-data, no leaked warning."""
from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cohort_builder import REFERENCE_CUTOFF, Rows, reference_export, synthetic_export
from outcomes.cohort import build_cohort
from outcomes.definitions import Definitions
from outcomes.model import MODEL_COLUMNS, density_model, fit_density, model_data, singular_fit


@pytest.fixture(scope="module")
def synthetic():
    # density = base * (1 + 0.0004 * day + noise), base ~ 100: slope 0.0004 * 100 * 30.4375
    # = 1.2175 hairs/cm2 per month on average (tests/cohort_builder.synthetic_export)
    return build_cohort(synthetic_export(150, seed=7), cutoff="2026-06-30")


def test_recovers_the_known_slope(synthetic):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table, note = density_model(synthetic)
    assert tuple(table.columns) == MODEL_COLUMNS
    row = table.set_index("term").loc["months"]
    assert abs(row["coef"] - 1.2175) < 0.1
    assert row["ci_low"] < row["coef"] < row["ci_high"] and row["p_value"] < 1e-6
    assert {"Intercept", "sex[T.M]", "minoxidil[T.yes]"} <= set(table["term"])
    assert "150 patients" in note and "MixedLM" in note


def test_subsample_is_seeded_and_said(synthetic):
    defs = dataclasses.replace(Definitions(), model_max_patients=60)
    c = dataclasses.replace(synthetic, definitions=defs)
    a, note = density_model(c)
    b, _ = density_model(c)
    assert "subsample of 60 of 150 patients" in note and "seed 2026" in note
    np.testing.assert_array_equal(a["coef"].to_numpy(), b["coef"].to_numpy())
    other = dataclasses.replace(c, definitions=dataclasses.replace(defs, model_seed=1))
    assert not np.array_equal(density_model(other)[0]["coef"].to_numpy(), a["coef"].to_numpy())


def test_too_little_data_gives_empty_table_and_note():
    r = Rows()
    for i in range(3):
        r.add(f"A{i}", density=[(0, 100.0), (365, 110.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table, note = density_model(build_cohort(r.export(), cutoff=REFERENCE_CUTOFF))
    assert table.empty and tuple(table.columns) == MODEL_COLUMNS
    # the note is exact (internal); shareable output publishes it through the one pass
    assert note.startswith("Density model not fitted: 3 patient(s) with at least two")
    from outcomes.disclosure import control_note
    assert control_note(note).startswith("Density model not fitted: <5 patient(s) with")
    assert "3" not in control_note(note)
    r.add("A3", density=[(0, 100.0), (365, 110.0)])
    r.add("A4", density=[(0, 100.0), (365, 110.0)])
    note5 = density_model(build_cohort(r.export(), cutoff=REFERENCE_CUTOFF))[1]
    assert note5.startswith("Density model not fitted: 5 patient(s) with at least two")


def test_convergence_trouble_is_reported_not_leaked():
    # the reference cohort has two density visits per patient: a random slope is not
    # identified, so the slope fit fails and the intercept-only model is used
    c = build_cohort(reference_export(), cutoff=REFERENCE_CUTOFF)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table, note = density_model(c)
    assert "random intercept per patient" in note
    assert "random intercept only was fitted" in note
    assert "Left out (one level only): minoxidil, severity" in note
    assert not table.empty and np.isfinite(table["coef"]).all()


def test_model_data_averages_sites():
    r = Rows()
    r.add("A", density=[(0, 100.0, "vertex"), (0, 120.0, "frontal"), (-40, 90.0)])
    data = model_data(build_cohort(r.export(), cutoff=REFERENCE_CUTOFF))
    assert data["density"].tolist() == [110.0]     # day -40 is before the baseline window
    assert data["months"].tolist() == [0.0]


# ---------------------------------------------------------------------------------------------
# agreement with lme4 (tests/reference/model.R -> model_lme4.csv, R 4.2.2, lme4 1.1.31)
# ---------------------------------------------------------------------------------------------
# model_data.csv was made by this seeded generator (numpy 2.x default_rng):
#   def make(seed, n, sd_slope, corr, visits, sd_int=15.0, sd_res=4.0):
#       rng = np.random.default_rng(seed)
#       sex = rng.choice(["F", "M"], n, p=[0.3, 0.7])
#       site_p = rng.choice(["vertex", "frontal"], n)
#       L = np.array([[sd_int, 0], [corr * sd_slope, sd_slope * np.sqrt(1 - corr**2)]])
#       b = rng.standard_normal((n, 2)) @ L.T
#       for each patient i: months = visits + U(-0.5, 0.5) (the first 0), each visit after the
#       second kept with probability 0.9; sites "frontal+vertex" with probability 0.15 else the
#       patient's site; density = 110 - 3 [M] - 6 [frontal] + b[i, 0]
#                                 + (14 + b[i, 1]) * months / 12 + N(0, sd_res), rounded to 1e-6
#   "slope" = make(11, 150, 4.0, 0.3, [0, 4, 8, 12, 16]);
#   "noslope<s>" = make(s, 60, 0.0, 0.0, [0, 6, 12], sd_res=10.0) for s in 20..29
REFERENCE = Path(__file__).parent / "reference"
LME4_TERMS = {"(Intercept)": "Intercept", "years": "months",
              "sitesfrontal+vertex": "sites[T.frontal+vertex]", "sitesvertex": "sites[T.vertex]",
              "sexM": "sex[T.M]"}


@pytest.fixture(scope="module")
def lme4_reference():
    return (pd.read_csv(REFERENCE / "model_data.csv"),
            pd.read_csv(REFERENCE / "model_lme4.csv"))


@pytest.mark.parametrize("dataset", ["slope"] + [f"noslope{s}" for s in range(20, 30)])
def test_singular_fit_and_estimates_agree_with_lme4(lme4_reference, dataset):
    """lme4 isSingular() TRUE on noslope20, 21, 24, 25 (correlation +-1 at the boundary),
    FALSE on the others. Where lme4 keeps the random slope, fixed effects, standard errors and
    variance components of the random-slope fit agree with lmer(density ~ years + sites + sex
    + (1 + years | pid)); where it is singular, the random-intercept fallback agrees with
    lmer(... + (1 | pid))."""
    data, ref = lme4_reference
    d = data[data["dataset"] == dataset].drop(columns="dataset").reset_index(drop=True)
    r = ref[ref["dataset"] == dataset]
    lme4_singular = bool(r.query("model == 'slope' and quantity == 'singular'")["value"].iloc[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_density(d, covariates=("sites", "sex"))
    assert bool(fit.singular) == lme4_singular
    assert fit.random_effects == ("intercept" if lme4_singular else "intercept and slope")
    if lme4_singular:
        assert "was singular" in fit.note and "random intercept only was fitted" in fit.note
    r = r[r["model"] == ("intercept" if lme4_singular else "slope")]
    per_month = {"months": 1 / 12}
    for quantity, col, rtol in (("coef", "coef", 2e-4), ("std_err", "std_err", 2e-4)):
        want = r[r["quantity"] == quantity].set_index("term")["value"].rename(LME4_TERMS)
        want = want * pd.Series({t: per_month.get(t, 1.0) for t in want.index})
        got = fit.table.set_index("term")[col].reindex(want.index)
        np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=rtol, atol=1e-6,
                                   err_msg=f"{dataset} {quantity}")
    vc = r[r["quantity"] == "vcov"].set_index("term")["value"]
    np.testing.assert_allclose(fit.scale, vc["Residual:NA:NA"], rtol=2e-3)
    np.testing.assert_allclose(fit.cov_re[0, 0], vc["pid:(Intercept):NA"], rtol=2e-3)
    if not lme4_singular:
        np.testing.assert_allclose([fit.cov_re[1, 1], fit.cov_re[0, 1]],
                                   [vc["pid:years:NA"], vc["pid:(Intercept):years"]],
                                   rtol=2e-2, atol=0.05)


def test_singular_fit_rules():
    # lme4 isSingular: a zero variance, or a correlation of +-1 (relative factor diagonal 0)
    assert singular_fit([[100.0, 0.0], [0.0, 0.0]], 25.0) == "a random-effect variance is zero"
    assert "correlation is +1.000" in singular_fit([[100.0, 20.0], [20.0, 4.0]], 25.0)
    assert "correlation is -0.995" in singular_fit([[100.0, -19.9], [-19.9, 4.0]], 25.0)
    assert singular_fit([[100.0, 6.0], [6.0, 4.0]], 25.0) == ""           # correlation 0.3
    assert singular_fit([[100.0]], 25.0) == ""
    assert singular_fit([[1e-12]], 25.0) == "a random-effect variance is zero"


def test_design_is_the_formula_interfaces_design(lme4_reference):
    """model.design builds density ~ years + covariates' fixed-effects matrix without the
    formula machinery: the same columns, names, order and values as statsmodels' formula
    interface (formulaic), so that the fit is the same to the last bit."""
    import statsmodels.formula.api as smf

    from outcomes.model import design

    data = lme4_reference[0]
    d = data[data["dataset"] == "slope"].assign(years=lambda x: x["months"] / 12)
    rng = np.random.default_rng(5)
    d = d.assign(severity=rng.choice(["not graded", "mild", "severe", "moderate"], len(d)),
                 minoxidil=rng.choice(["yes", "no", "not recorded"], len(d)))
    for covariates in (("sites", "sex", "minoxidil", "severity"), ("severity", "sex"), ()):
        formula = " + ".join(["density ~ years", *covariates])
        want = smf.mixedlm(formula, d, groups=d["pid"], re_formula="~years")
        got = design(d, covariates)
        assert list(got.columns) == want.exog_names
        np.testing.assert_array_equal(got.to_numpy(), want.exog)
