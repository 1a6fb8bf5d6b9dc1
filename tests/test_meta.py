"""Tests of outcomes.meta against R's metafor (reference values hard-coded; R not needed).

Reference script (R 4.x, metafor from Debian's r-cran-metafor)::

    library(metafor)
    xi <- c(69, 38, 54, 10, 0); ni <- c(86, 42, 86, 20, 15)
    r <- rma(measure="PLO", xi=xi, ni=ni, method="DL")
    r <- rma(measure="PLO", xi=xi, ni=ni, method="PM", control=list(tol=1e-12))
    c(r$b, r$se, r$tau2, r$I2, r$QE, r$QEp)
    predict(r, transf=transf.ilogit)                     # pred, ci.lb, ci.ub
    weights(r)                                           # percent
"""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from outcomes import meta
from outcomes.errors import AnalysisError

XI, NI = [69, 38, 54, 10, 0], [86, 42, 86, 20, 15]

# rma(measure="PLO", xi=XI, ni=NI, method=...): b, se, tau2, I2 (%), QE, QEp (sprintf %.10e),
# predict(transf=transf.ilogit): pred, ci.lb, ci.ub
R_REFERENCE = {
    "DerSimonian-Laird": (0.6812992196, 0.4607590479, 0.7770143428, 84.5505608226,
                          25.8909074566, 3.3288446578e-05, 0.6640286081, 0.4447831447,
                          0.8298225772),
    # method="PM", control=list(tol=1e-12): metafor's default uniroot tol (~1.2e-4) leaves
    # tau2 off by ~1e-6; statsmodels iterates to |Q - df| < 1e-10 here.
    "Paule-Mandel": (0.4137180610, 0.8678895714, 3.3521632769, 95.9366462770,
                     25.8909074566, 3.3288446578e-05, 0.6019790641, 0.2163077502, 0.8923285913),
}
# weights(r) in percent
R_WEIGHTS = {
    "dl": [24.966630, 20.155020, 25.677709, 21.729353, 7.471287],
    "pm": [21.98910, 20.75890, 22.14131, 21.20489, 13.90579],  # control=list(tol=1e-12)
}


@pytest.mark.parametrize("method", list(R_REFERENCE))
def test_meta_proportion_matches_metafor(method):
    res = meta.meta_proportion(XI, NI, list("ABCDE"))
    row = res.summary.set_index("method").loc[method]
    b, se, tau2, i2, q, qp, pred, lo, hi = R_REFERENCE[method]
    tol = 1e-7
    assert_allclose([row.logit_estimate, row.logit_se, row.tau2, row.i2 * 100],
                    [b, se, tau2, i2], rtol=tol)
    assert_allclose([row.q, row.q_p_value], [q, qp], rtol=1e-6)
    assert_allclose([row.estimate, row.ci_low, row.ci_high], [pred, lo, hi], rtol=tol)
    assert row.k_studies == 5 and row.q_df == 4 and row.note == ""


@pytest.mark.parametrize("code", ["dl", "pm"])
def test_weights_match_metafor(code):
    res = meta.meta_proportion(XI, NI)
    assert_allclose(res.studies[f"weight_{code}"] * 100, R_WEIGHTS[code], rtol=1e-5)


def test_homogeneous_studies_truncate_tau2_at_zero():
    # rma(measure="PLO", xi=c(20,22,19), ni=c(40,40,40), method="DL"|"PM"):
    # b 0.0330814188, se 0.1829557415, tau2 0, I2 0, QE 0.4658823662 (statsmodels' DL
    # alone would give a negative tau2)
    res = meta.meta_proportion([20, 22, 19], [40, 40, 40])
    assert_allclose(res.summary["logit_estimate"], 0.0330814188, rtol=1e-8)
    assert_allclose(res.summary["logit_se"], 0.1829557415, rtol=1e-8)
    assert_allclose(res.summary["q"], 0.4658823662, rtol=1e-8)
    assert (res.summary["tau2"] == 0).all() and (res.summary["i2"] == 0).all()


def test_published_studies_match_metafor():
    # Saceda 2022 69/86 (derived from 80%), Vano-Galvan 2020 38/42, Moftah 2013 54/86:
    # rma(measure="PLO", xi=c(69,38,54), ni=c(86,42,86), method="DL"):
    #   b 1.2964195586 se 0.4507363472 tau2 0.4912871797 I2 83.8980689630 QE 12.4208704870
    # method="PM", control=list(tol=1e-12): b 1.3086465117 se 0.4868549145 tau2 0.5909999327
    #   I2 86.2409751329
    s = meta.meta_proportion([69, 38, 54], [86, 42, 86]).summary.set_index("method")
    assert_allclose(s.loc["DerSimonian-Laird", ["logit_estimate", "logit_se", "tau2", "i2", "q"]]
                    .astype(float), [1.2964195586, 0.4507363472, 0.4912871797, 0.838980689630,
                                     12.4208704870], rtol=1e-7)
    assert_allclose(s.loc["Paule-Mandel", ["logit_estimate", "logit_se", "tau2", "i2"]]
                    .astype(float), [1.3086465117, 0.4868549145, 0.5909999327, 0.862409751329],
                    rtol=1e-7)


def test_logit_effects_continuity_correction_only_at_zero_or_all():
    # escalc(measure="PLO", xi=c(0, 5, 10), ni=c(10, 10, 10)): yi -3.0445, 0, 3.0445;
    # vi 2.0952, 0.4, 2.0952 (0.5 added to both cells only where xi = 0 or xi = ni)
    eff = meta.logit_effects([0, 5, 10], [10, 10, 10])
    assert eff["corrected"].tolist() == [True, False, True]
    assert_allclose(eff["yi"], [np.log(0.5 / 10.5), 0.0, np.log(10.5 / 0.5)])
    assert_allclose(eff["vi"], [1 / 0.5 + 1 / 10.5, 0.4, 1 / 0.5 + 1 / 10.5])


def test_logit_effects_rejects_impossible_counts():
    with pytest.raises(AnalysisError, match="study 2: k=11, n=10"):
        meta.logit_effects([1, 11], [10, 10])


def test_studies_with_no_patients_are_left_out_and_one_study_is_not_pooled():
    res = meta.meta_proportion([5, 0, 7], [10, 0, 12], ["a", "b", "c"])
    assert res.summary["k_studies"].tolist() == [2, 2]
    assert res.studies.loc[1, "weight_dl"] == 0 and np.isnan(res.studies.loc[1, "rate"])
    one = meta.meta_proportion([5, 0], [10, 0])
    assert one.summary["estimate"].isna().all()
    assert one.summary["note"].str.contains("at least 2").all()


def test_funnel_data_flags_against_exact_limits():
    # 30/50 against 0.5: within; 45/50 against 0.5 is far above the 99.8% limit
    out = meta.funnel_data([30, 45, 0], [50, 50, 0], ["a", "b", "c"], 0.5)
    assert out["label"].tolist() == ["a", "b"]  # n = 0 left out
    assert out["flag"].tolist() == ["within", "above 99.8%"]
    assert (out["low998"] < out["low95"]).all() and (out["high95"] < out["high998"]).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(1, 60)), min_size=2, max_size=8))
def test_pooled_rate_lies_between_extremes_and_pm_tau2_nonnegative(pairs):
    k = [min(a, b) for a, b in pairs]
    n = [b for _, b in pairs]
    res = meta.meta_proportion(k, n)
    eff = meta.logit_effects(k, n)
    lo, hi = 1 / (1 + np.exp(-eff["yi"].min())), 1 / (1 + np.exp(-eff["yi"].max()))
    s = res.summary
    assert (s["tau2"] >= 0).all() and ((s["i2"] >= 0) & (s["i2"] < 1)).all()
    assert ((s["estimate"] >= lo - 1e-12) & (s["estimate"] <= hi + 1e-12)).all()
    assert (s["ci_low"] <= s["estimate"]).all() and (s["estimate"] <= s["ci_high"]).all()
    assert_allclose(res.studies[["weight_dl", "weight_pm"]].sum(), [1, 1])


def test_inputs_not_mutated_and_frame_types():
    k, n = np.array([3, 4]), np.array([10, 10])
    res = meta.meta_proportion(k, n)
    assert k.tolist() == [3, 4] and n.tolist() == [10, 10]
    assert isinstance(res.summary, pd.DataFrame)
    assert list(res.summary.columns[:4]) == ["method", "estimate", "ci_low", "ci_high"]


# rma(measure="PLO", xi=c(30, 69, 38, 54), ni=c(40, 86, 42, 86), method="DL"|"PM"):
# c(r$b, r$tau2) with sprintf("%.10f"); PM with control=list(tol=1e-12)
R_CLINIC_VS_STUDIES = {"DL": [1.2229486748, 0.3139865469], "PM": [1.2299049776, 0.3532651776]}


def test_clinic_against_published_studies_from_the_registry():
    res = meta.compare_with_studies(30, 40, label="our clinic")
    st_ = res.studies
    assert st_["label"].tolist() == ["our clinic", "Saceda-Corralo 2022", "Vañó-Galván 2020",
                                     "Moftah 2013"]
    assert st_["k"].tolist() == [30, 69, 38, 54] and st_["n"].tolist() == [40, 86, 42, 86]
    # derived from a percentage: Saceda 69/86 (80 %), Moftah 54/86 (62.8 %): registry "verified" no
    assert st_["derived"].tolist() == [False, True, False, True]
    s = res.summary.set_index("method")
    assert_allclose(s.loc["DerSimonian-Laird", ["logit_estimate", "tau2"]].astype(float),
                    R_CLINIC_VS_STUDIES["DL"], rtol=1e-7)
    assert_allclose(s.loc["Paule-Mandel", ["logit_estimate", "tau2"]].astype(float),
                    R_CLINIC_VS_STUDIES["PM"], rtol=1e-7)


# ---- Paule-Mandel (issue 11): statsmodels' iteration with atol=1e-10 returned tau2 = 0 ----
# rma(measure="PLO", xi=c(40,49,73), ni=c(86,86,86), method="PM"): tau2 0.8825, I2 93.8%,
# predict(r, transf=transf.ilogit): ci.lb 0.379, ci.ub 0.846 (metafor 3.8, R 4.2.2; issue 11)
def test_pm_issue_case_matches_metafor():
    s = meta.meta_proportion([40, 49, 73], [86, 86, 86]).summary.set_index("method")
    pm = s.loc["Paule-Mandel"]
    assert round(pm.tau2, 4) == 0.8825 and round(100 * pm.i2, 1) == 93.8
    assert (round(100 * pm.ci_low, 1), round(100 * pm.ci_high, 1)) == (37.9, 84.6)
    # DerSimonian-Laird unchanged by the fix: the issue's random-effects 40.5-83.0%
    dl = s.loc["DerSimonian-Laird"]
    assert (round(100 * dl.ci_low, 1), round(100 * dl.ci_high, 1)) == (40.5, 83.0)


def test_pm_sample_dramatic_matches_metafor():
    # the sample's marked improvement against the registry's studies:
    # rma(measure="PLO", xi=c(193, ...), ni=c(496, ...), method="PM")$tau2 = 0.0693 (issue 11)
    s = meta.compare_with_studies(193, 496, outcome="dramatic").summary.set_index("method")
    assert round(s.loc["Paule-Mandel", "tau2"], 4) == 0.0693


def _pm_bisection(yi, vi):
    """An independent Paule-Mandel: plain bisection of Q(tau2) - df on [0, 1e4], 200 halvings."""
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)

    def q(t):
        w = 1 / (vi + t)
        return np.sum(w * (yi - np.sum(w * yi) / np.sum(w)) ** 2) - (yi.size - 1)

    if q(0.0) <= 0:
        return 0.0
    lo, hi = 0.0, 1e4
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if q(mid) > 0 else (lo, mid)
    return (lo + hi) / 2


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 200), st.integers(1, 200)), min_size=2, max_size=10))
def test_pm_tau2_is_the_root_of_the_generalised_q_equation(pairs):
    k = [min(a, b) for a, b in pairs]
    n = [b for _, b in pairs]
    eff = meta.logit_effects(k, n)
    yi, vi = eff["yi"].to_numpy(), eff["vi"].to_numpy()
    tau2 = meta.paule_mandel_tau2(yi, vi)
    assert_allclose(tau2, _pm_bisection(yi, vi), rtol=1e-9, atol=1e-12)
    df = len(k) - 1
    if tau2 > 0:   # Q(tau2) = df at the root; Q(0) <= df where tau2 is 0
        assert_allclose(meta.generalised_q(tau2, yi, vi), df, rtol=1e-9)
    else:
        assert meta.generalised_q(0.0, yi, vi) <= df
    s = meta.meta_proportion(k, n).summary.set_index("method")
    assert s.loc["Paule-Mandel", "tau2"] == tau2


# 200 random sets against metafor (tests/reference/meta_random.R wrote meta_random.csv:
# rma(measure="PLO", xi, ni, method="PM"|"DL", control=list(tol=1e-12, maxiter=1000)),
# R 4.2.2, metafor 3.8-1)
def _metafor_random():
    from pathlib import Path

    ref = pd.read_csv(Path(__file__).parent / "reference" / "meta_random.csv")
    ref["xi"] = ref["xi"].str.split(";").map(lambda v: [int(x) for x in v])
    ref["ni"] = ref["ni"].str.split(";").map(lambda v: [int(x) for x in v])
    return ref


def test_random_sets_match_metafor():
    ref = _metafor_random()
    assert len(ref) == 400 and (ref.loc[ref["method"] == "PM", "tau2"] > 0).sum() == 145
    name = {"PM": "Paule-Mandel", "DL": "DerSimonian-Laird"}
    got, fits = [], {}
    for r in ref.itertuples(index=False):   # 200 small fits: each set's PM and DL rows
        key = (tuple(r.xi), tuple(r.ni))    # read off the one fit that gives both methods
        if key not in fits:
            fits[key] = meta.meta_proportion(r.xi, r.ni).summary.set_index("method")
        s = fits[key].loc[name[r.method]]
        got.append([s.logit_estimate, s.logit_se, s.tau2, 100 * s.i2, s.q, s.ci_low,
                    s.ci_high])
    assert len(fits) == 200
    got = np.array(got)
    want = ref[["b", "se", "tau2", "I2", "QE", "ci_lb", "ci_ub"]].to_numpy(float)
    # metafor's uniroot stops at |delta tau2| ~ 1e-12: agreement to 1e-8 absolute on tau2
    assert_allclose(got[:, 2], want[:, 2], rtol=1e-7, atol=1e-8)
    assert_allclose(got[:, [0, 1, 4, 5, 6]], want[:, [0, 1, 4, 5, 6]], rtol=1e-7, atol=1e-9)
    assert_allclose(got[:, 3], want[:, 3], rtol=1e-6, atol=1e-6)


def test_random_effects_by_matches_metafor_and_the_issue():
    # issue 11 item 4: 162/258 summed (binomial 56.7-68.5%), random effects 40.5-83.0%:
    # r <- rma(measure="PLO", xi=c(40,49,73), ni=c(86,86,86), method="DL")
    # predict(r, transf=transf.ilogit): 0.645977635731 0.405414373094 0.830019383354
    # r$tau2 0.695663039857, r$I2 92.2822896248, r$QEp 2.35914623111e-06
    # s <- escalc("PLO", xi=69, ni=86); 2*pnorm(-abs((r$b - s$yi)/sqrt(r$se^2 + s$vi)))
    #   0.161154378316
    df = pd.DataFrame({"family": "photographic", "group": "comparable", "outcome": "improved",
                       "clinic": list("ABC"), "k": [40, 49, 73], "n": [86, 86, 86]})
    out = meta.random_effects_by(df, ["family", "group", "outcome"], benchmark_k=[69] * 3,
                                 benchmark_n=[86] * 3)
    r = out.iloc[0]
    assert list(out.columns[3:]) == list(meta.RE_COLUMNS)
    assert_allclose([r.re_estimate, r.re_ci_low, r.re_ci_high, r.re_tau2, 100 * r.re_i2,
                     r.re_q_p_value, r.re_p_value],
                    [0.645977635731, 0.405414373094, 0.830019383354, 0.695663039857,
                     92.2822896248, 2.35914623111e-06, 0.161154378316], rtol=1e-9)
    assert bool(r.re_heterogeneity) and r.re_clinics == 3
    # homogeneous clinics: tau2 0, no heterogeneity; one clinic: nothing pooled
    # rma(measure="PLO", xi=c(20,22,19), ni=c(40,40,40), method="DL"): tau2 0, pred 0.5082696
    two = pd.DataFrame({"g": ["x", "x", "x", "y"], "clinic": list("ABCA"),
                        "k": [20, 22, 19, 5], "n": [40, 40, 40, 10]})
    out = meta.random_effects_by(two, ["g"]).set_index("g")
    assert out.loc["x", "re_tau2"] == 0 and not out.loc["x", "re_heterogeneity"]
    assert_allclose(out.loc["x", "re_estimate"], 0.508269600534, rtol=1e-9)
    assert np.isnan(out.loc["y", "re_estimate"]) and out.loc["y", "re_clinics"] == 1
    assert np.isnan(out.loc["x", "re_p_value"])   # no study counts given
