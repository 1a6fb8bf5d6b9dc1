"""Holm adjustment, strata homogeneity tests, practitioner tests and detectable differences
(issue 11 items 2 and 5). R values from tests/reference/multiplicity.R (R 4.2.2)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import outcomes
from outcomes import stats, text


@pytest.fixture(scope="module")
def sample():
    return outcomes.analyze(outcomes.load(outcomes.sample_path()), cutoff="2026-09-30",
                            model=False)


def test_holm_matches_r_p_adjust():
    # p.adjust(c(0.01, 0.04, 0.03, 0.005, 0.5, NA, 0.04), "holm")
    assert_allclose(stats.holm([0.01, 0.04, 0.03, 0.005, 0.5, np.nan, 0.04]),
                    [0.05, 0.12, 0.12, 0.03, 0.5, np.nan, 0.12])
    # p.adjust(c(0.190284, 0.200264, 0.336153, 0.161490, 0.212778), "holm"): all 0.80745
    assert_allclose(stats.holm([0.190284, 0.200264, 0.336153, 0.161490, 0.212778]),
                    [0.80745] * 5)


def _holm_textbook(p):
    """Holm (1979) step by step: sort, multiply the i-th smallest by m - i + 1, running max."""
    order = sorted(range(len(p)), key=lambda i: p[i])
    out, running = [0.0] * len(p), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        out[i] = running
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.integers(0, 3)), min_size=1, max_size=15))
def test_holm_is_the_textbook_step_down_within_each_family(pairs):
    p = np.array([a for a, _ in pairs])
    g = np.array([b for _, b in pairs])
    adj = stats.holm(p, g)
    for fam in np.unique(g):
        assert_allclose(adj[g == fam], _holm_textbook(p[g == fam].tolist()), rtol=1e-12,
                        atol=1e-15)


def test_holm_matches_statsmodels_multipletests():
    from statsmodels.stats.multitest import multipletests  # here: ~1 s of imports to collect

    rng = np.random.default_rng(11)
    for size in (1, 2, 5, 12):
        p = rng.uniform(0, 0.2, size)
        p[-1] = p[0]   # a tie
        assert_allclose(stats.holm(p), multipletests(p, method="holm")[1], rtol=1e-12)


def test_homogeneity_matches_r_chisq_test():
    # chisq.test(cbind(k, n - k), correct = FALSE)$p.value
    assert_allclose(stats.homogeneity_test([10, 20], [50, 50], ["a", "a"]),
                    [0.0290963317412522] * 2, rtol=1e-12)
    assert_allclose(stats.homogeneity_test([0, 4, 2], [10, 12, 9], [1, 1, 1]),
                    [0.138787011161716] * 3, rtol=1e-12)
    # two tests at once; a level with n = 0 is left out; one level or p 0/1: NaN (R: NaN)
    out = stats.homogeneity_test([10, 20, 0, 0, 0, 5], [50, 50, 0, 7, 9, 9],
                                 ["a", "a", "a", "b", "b", "c"])
    assert_allclose(out[:3], 0.0290963317412522, rtol=1e-12)
    assert np.isnan(out[3:]).all()


# sample (data/sample, cut-off 2026-09-30); chisq.test over the recorded levels and
# p.adjust(p, "holm") across the five strata (tests/reference/multiplicity.R)
R_STRATA = {
    ("density", "improved"): (
        [0.0490150766376799, 0.0213732187478424, 0.105343399425934, 0.258958912170671,
         0.140441361236499],
        [0.19606030655072, 0.106866093739212, 0.316030198277802, 0.316030198277802,
         0.316030198277802]),
    ("photographic", "dramatic"): (
        [0.684167706721087, 0.313474967032395, 0.000970890003537708, 0.432309051135073,
         0.78662010092617],
        [1, 1, 0.00485445001768854, 1, 1]),
}


@pytest.mark.parametrize("family,outcome", list(R_STRATA))
def test_sample_strata_p_values_match_r(sample, family, outcome):
    t = sample.strata[(sample.strata["family"] == family) & (sample.strata["outcome"] == outcome)]
    per = t.groupby("stratum", sort=False)[["p_value", "p_value_holm"]].agg(["min", "max"])
    assert (per[("p_value", "min")] == per[("p_value", "max")]).all()   # one p per stratum
    per = per.loc[["sex", "severity", "minoxidil", "age_band", "practitioner"]]
    p, holm = R_STRATA[(family, outcome)]
    assert_allclose(per[("p_value", "min")], p, rtol=1e-10)
    assert_allclose(per[("p_value_holm", "min")], holm, rtol=1e-10)


def test_sample_funnel_p_values_match_r(sample):
    # binom.test(k, n, 105/135)$p.value per practitioner; p.adjust(., "holm")
    f = sample.funnel.set_index("practitioner_id").loc[["NP-01", "NP-02", "NP-03", "NP-04",
                                                        "NP-05"]]
    assert_allclose(f["p0"], 105 / 135)
    assert_allclose(f["p_value"], [0.837309195891525, 0.439754376473488, 0.655401673588549,
                                   0.0766649865401909, 0.3931910354378], rtol=1e-9)
    assert_allclose(f["p_value_holm"], [1, 1, 1, 0.383324932700954, 1], rtol=1e-9)


def test_detectable_difference_matches_statsmodels_power():
    from statsmodels.stats.power import NormalIndPower  # here: ~1 s of imports to collect

    # NormalIndPower solves the power equation numerically (both tails counted): agreement
    # to ~1e-6 shows the closed form and its back-transformation
    for n1, n2, p0 in [(931, 86, 0.8), (68, 86, 69 / 86), (68, 86, 33 / 86), (20, 541, 0.45),
                       (5000, 86, 0.5)]:
        below, above = stats.detectable_difference(n1, n2, p0)
        h = NormalIndPower().solve_power(nobs1=n1, ratio=n2 / n1, alpha=0.05, power=0.8)
        phi = np.arcsin(np.sqrt(p0))
        assert_allclose(above, np.sin(phi + h / 2) ** 2 - p0, rtol=1e-5)
        assert_allclose(below, np.sin(phi - h / 2) ** 2 - p0, rtol=1e-5)
        # and the power at that difference is 80% (statsmodels' power function)
        p1 = p0 + above
        h1 = 2 * np.arcsin(np.sqrt(p1)) - 2 * np.arcsin(np.sqrt(p0))
        assert_allclose(NormalIndPower().power(h1, n1, 0.05, ratio=n2 / n1), 0.8, atol=1e-6)


def test_detectable_difference_edges_and_vectors():
    below, above = stats.detectable_difference([931, 0, 10], [86, 86, 86], [0.8, 0.8, 0.97])
    assert below[0] < 0 < above[0]
    assert np.isnan(below[1]) and np.isnan(above[1])     # no patient: nothing to detect
    assert np.isnan(above[2]) and below[2] < 0           # no rate far enough above 97%
    # a larger clinic detects smaller differences, but never below the study's own limit
    b_small, a_small = stats.detectable_difference(100, 86, 0.8)
    b_big, a_big = stats.detectable_difference(100_000, 86, 0.8)
    assert abs(b_big) < abs(b_small) and a_big < a_small and abs(b_big) > 0.1


def test_response_frame_carries_the_precision(sample):
    r = sample.response.set_index(["family", "group", "outcome"])
    row = r.loc[("photographic", "comparable", "improved")]
    below, above = stats.detectable_difference(68, 86, 69 / 86)
    assert_allclose([row["mdd_below"], row["mdd_above"]], [below, above])
    # the worst case is a bound: no benchmark, no test (issue 11 item 3)
    wc = r.loc[("photographic", "comparable", "worst_case_improved")]
    assert pd.isna(wc["benchmark_id"]) and np.isnan(wc["p_value"]) and np.isnan(wc["mdd_below"])


def test_multiplicity_sentence_counts_the_report_tests(sample):
    frames = {n: getattr(sample, n) for n in ("response", "adverse_events", "strata",
                                               "funnel", "quarterly", "model")}
    s = text.multiplicity_sentence(frames)
    n_quarters = int(sample.quarterly["plotted"].sum())   # quarters checked against limits
    n_pub = int(sample.response["p_value"].notna().sum()
                + sample.adverse_events["p_value"].notna().sum())
    total = n_pub + 15 + 5 + n_quarters   # 3 outcomes x 5 strata; 5 practitioners; no model
    assert s.startswith(f"This report makes {total} comparisons ({n_pub} with published "
                        f"figures, 15 across patient groups, 5 of practitioners with the "
                        f"clinic, {n_quarters} of quarters with control limits)")
    assert f"about {0.05 * total:.1f} of them would be expected to be flagged by chance" in s
    assert "Holm-adjusted" in s
    s90 = text.multiplicity_sentence(frames, confidence=0.9)
    assert "at the 10% level" in s90 and f"about {0.1 * total:.1f} of them" in s90


def test_detectable_difference_matches_r_pwr():
    # library(pwr); h <- pwr.2p2n.test(n1 = n1, n2 = n2, sig.level = 0.05, power = 0.8)$h
    # phi <- asin(sqrt(p0)); c(sin(phi - h/2)^2 - p0, sin(phi + h/2)^2 - p0)
    # (R 4.2.2, pwr 1.3-0; pwr solves for h with uniroot, both tails counted: ~1e-5 apart)
    r_values = {(931, 86, 0.8): (-0.1390523933, 0.1093868149),
                (68, 86, 69 / 86): (-0.2055987290, 0.1441759894),
                (68, 86, 33 / 86): (-0.2017402669, 0.2253643975),
                (20, 541, 0.45): (-0.2864397940, 0.3061066009)}
    for (n1, n2, p0), want in r_values.items():
        assert_allclose(stats.detectable_difference(n1, n2, p0), want, atol=5e-5)
