"""Plain-language sentences: wording decided by the exact test and the interval."""
import numpy as np
import pandas as pd
import pytest

from outcomes.text import (NO_DIFFERENCE, ae_sentence, bound_sentence, comparison_verdict,
                           fmt_ci, fmt_pct, fmt_points, headline, pooled_sentence,
                           response_sentence, verdict)


def row(**kw):
    base = {"family": "photographic", "group": "comparable", "outcome": "improved", "k": 69,
            "n": 86, "rate": 69 / 86, "ci_low": 0.706, "ci_high": 0.873,
            "benchmark_rate": 0.80, "benchmark_k": np.nan, "benchmark_n": np.nan,
            "p_value": 1.0}
    base.update(kw)
    return base


def test_without_the_study_counts_the_fixed_rate_test_decides_and_says_so():
    assert response_sentence(row()) == (
        "Your improved rate (photographs, mesotherapy alone), 80.2% (95% CI 70.6-87.3%, "
        "69 of 86), shows no evidence of a difference from the published 80% (taken as a "
        "fixed figure: the study's counts are not known; exact test p = 1.000).")


def test_below_and_above_need_test_and_interval():
    # 50/86 vs 80%: R binom.test(50, 86, 0.8)$p.value = 1.6e-06; Wilson 95% CI 47.6-68.4%
    s = response_sentence(row(k=50, rate=50 / 86, ci_low=0.476, ci_high=0.684, p_value=1.6e-6))
    assert "is below the published 80% (taken as a fixed figure" in s
    assert verdict(0.70, 0.60, 0.79, 0.04, 0.80) == "below"
    assert verdict(0.70, 0.60, 0.79, 0.06, 0.80) == "borderline below"
    assert verdict(0.70, 0.60, 0.81, 0.04, 0.80) == "borderline below"
    assert verdict(0.70, 0.60, 0.81, 0.06, 0.80) == NO_DIFFERENCE
    assert verdict(0.90, 0.81, 0.95, np.nan, 0.80) == "above"


def test_with_the_study_counts_fisher_and_newcombe_decide():
    # 50/86 vs 33/86 (marked): fisher.test(matrix(c(50, 36, 33, 53), 2))$p.value = 0.0143
    s = response_sentence(row(outcome="dramatic", k=50, rate=50 / 86, ci_low=0.476,
                              ci_high=0.684, benchmark_rate=33 / 86, benchmark_k=33,
                              benchmark_n=86, p_value=2e-4, fisher_p_value=0.0143, diff=0.198,
                              diff_ci_low=0.049, diff_ci_high=0.333, mdd_below=-0.2,
                              mdd_above=0.22))
    assert "marked-improvement rate" in s
    assert "is above the published 38.4% (33 of 86): difference +19.8 points (95% CI +4.9 to " \
           "+33.3), Fisher's exact test p = 0.014." in s
    assert "at least 20.0 points below or 22.0 points above" in s
    assert "the exact binomial test gives p < 0.001 (shown for reference; it does not " \
           "decide)" in s
    assert comparison_verdict(0.03, -0.04, 0.13, 0.45) == NO_DIFFERENCE
    assert comparison_verdict(-0.2, -0.3, -0.1, 0.001) == "below"
    assert comparison_verdict(0.1, 0.01, 0.2, 0.06) == "borderline above"
    assert comparison_verdict(0.1, -0.01, 0.2, 0.04) == "borderline above"
    assert fmt_points(0.033) == "+3.3" and fmt_points(-0.0004) == "0.0"
    assert fmt_points(-0.067) == "\u22126.7"


def test_bound_sentence():
    c = {"family": "photographic", "group": "comparable", "k": 69, "n": 86, "rate": 69 / 86}
    w = {"family": "photographic", "group": "comparable", "k": 69, "n": 90, "rate": 69 / 90}
    assert bound_sentence(c, w) == (
        "Improved rate (photographs, mesotherapy alone) counting the 4 patients due but not "
        "assessed: between 76.7% if none of them improved (worst case, 69 of 90) and 80.2% if "
        "they fared like those assessed (complete case, 69 of 86).")
    assert "also the worst case" in bound_sentence(c, {**w, "n": 86, "rate": 69 / 86})
    assert "fewer than 5" in bound_sentence({**c, "k": "<5", "rate": np.nan}, w)
    assert "no patient" in bound_sentence({**c, "n": 0, "k": 0, "rate": np.nan},
                                          {**w, "n": 0, "k": 0, "rate": np.nan})


def test_suppressed_and_empty_rows():
    assert "fewer than 5" in response_sentence(row(k="<5", rate=np.nan, ci_low=np.nan,
                                                   ci_high=np.nan))
    assert "not shown" in response_sentence(row(k=3, n="<5", rate=np.nan))
    assert "no patient has reached" in response_sentence(row(k=0, n=0, rate=np.nan))
    s = response_sentence(row(family="density", group="all", benchmark_rate=np.nan))
    assert "no published figure" in s and "hair density, all patients" in s


def test_ae_sentences():
    s = ae_sentence({"term": "injection_site_pain", "k": 120, "n": 290, "rate": 120 / 290,
                     "ci_low": 0.359, "ci_high": 0.471, "benchmark_rate": 246 / 541,
                     "p_value": 0.25})
    assert s == ("Injection site pain: 41.4% of treated patients (95% CI 35.9-47.1%, "
                 "120 of 290), no evidence of a difference from the published 45.5% (taken as "
                 "a fixed figure, exact test p = 0.250).")
    assert "fewer than 5" in ae_sentence({"term": "scarring", "k": "<5", "n": 290})
    s = ae_sentence({"term": "headache", "k": 10, "n": 290, "rate": 10 / 290,
                     "ci_low": 0.02, "ci_high": 0.06, "benchmark_rate": np.nan})
    assert "no published rate" in s


def test_formatting():
    assert fmt_pct(0.80233) == "80.2%" and fmt_pct(np.nan) == "-"
    assert fmt_ci(0.706, 0.873) == "70.6-87.3%" and fmt_ci(None, 0.2) == "-"


def test_headline_uses_only_given_numbers():
    response = pd.DataFrame([row(), row(outcome="dramatic", k=30, rate=30 / 86,
                                        ci_low=0.25, ci_high=0.45, benchmark_rate=33 / 86,
                                        benchmark_k=33, benchmark_n=86, p_value=0.6),
                             row(outcome="worst_case_improved", k=69, n=120,
                                 rate=0.575, ci_low=0.49, ci_high=0.66,
                                 benchmark_rate=np.nan, p_value=np.nan),
                             row(group="all", outcome="worst_case_improved", k=80, n=150,
                                 rate=80 / 150, ci_low=0.45, ci_high=0.61,
                                 benchmark_rate=np.nan, p_value=np.nan)])
    ae = pd.DataFrame({"term": ["injection_site_pain", "headache"], "k": [120, 5],
                       "n": [290, 290], "rate": [120 / 290, 5 / 290], "ci_low": [0.36, 0.01],
                       "ci_high": [0.47, 0.04], "benchmark_rate": [246 / 541, np.nan],
                       "p_value": [0.25, np.nan]})
    flow = pd.DataFrame({"step": ["registered", "treated", "due_12m", "assessed_photographic",
                                  "assessed_density"], "n": [300, 290, 150, 120, 110]})
    lines = headline(response, ae, flow, "2026-09-30")
    assert lines[0].startswith("Of 300 registered patients, 290 were treated; 150 were due")
    assert "30 September 2026" in lines[0]
    assert len(lines) == 5
    # the worst case of the comparable group, as a bound (not tested against the study)
    assert lines[3] == ("Improved rate (photographs, mesotherapy alone) counting the 34 "
                        "patients due but not assessed: between 57.5% if none of them improved "
                        "(worst case, 69 of 120) and 80.2% if they fared like those assessed "
                        "(complete case, 69 of 86).")
    assert lines[4].startswith("Injection site pain")


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_no_small_count_leaks_from_a_suppressed_row(k):
    s = response_sentence(row(k="<5", n=86, rate=np.nan))
    assert f"{k} of" not in s


def test_zero_benchmark_decided_by_the_study_counts():
    # 3/295 serious vs the study's 0/541: binom.test(3, 295, 0) has p = 0 (any event rejects);
    # Fisher's test against 0/541 (R: fisher.test(matrix(c(3, 292, 0, 541), 2))$p.value
    # = 0.0436, also scipy.stats.fisher_exact) and the interval decide instead
    s = ae_sentence({"term": "serious", "k": 3, "n": 295, "rate": 3 / 295, "ci_low": 0.0035,
                     "ci_high": 0.0295, "benchmark_rate": 0.0, "p_value": 0.0,
                     "fisher_p_value": 0.0436})
    assert s.startswith("Serious events: 1.0% of treated patients") and "above" in s
    s = ae_sentence({"term": "serious", "k": 1, "n": 295, "rate": 1 / 295, "ci_low": 0.0006,
                     "ci_high": 0.019, "benchmark_rate": 0.0, "p_value": 0.0,
                     "fisher_p_value": 0.353})
    assert "no evidence of a difference from the published 0%" in s


def test_a_published_count_derived_from_a_percentage_is_said_to_be_derived():
    """The registry records 69/86 as derived from the quoted 80% (not verified in the paper);
    33/86 (marked improvement) is the paper's own count."""
    from outcomes.text import response_sentence

    row = {"family": "photographic", "group": "comparable", "k": 50, "n": 68, "rate": 50 / 68,
           "ci_low": 0.62, "ci_high": 0.826, "p_value": 0.175, "benchmark_n": 86}
    improved = response_sentence({**row, "outcome": "improved", "benchmark_rate": 0.8,
                                  "benchmark_k": 69, "benchmark_id": "saceda2022_improved"})
    marked = response_sentence({**row, "outcome": "dramatic", "benchmark_rate": 0.38,
                                "benchmark_k": 33, "benchmark_id": "saceda2022_marked"})
    assert "(69 of 86, a count derived from the percentage)" in improved
    assert "(33 of 86)" in marked


def test_suppressed_sentence_names_the_configured_threshold():
    # audit defect: with min_cell = 10 (k shown as "<10") the sentences still said "fewer than
    # 5", which is false for a count of 5-9
    s = response_sentence(row(k="<10", rate=np.nan, ci_low=np.nan, ci_high=np.nan))
    assert "fewer than 10 patients" in s and "fewer than 5" not in s
    s = ae_sentence({"term": "scarring", "k": "<10", "n": 290})
    assert "fewer than 10 patients" in s and "fewer than 5" not in s


def test_pooled_sentence_uses_random_effects_when_clinics_differ():
    # issue 11 item 4: 40, 49, 73 of 86 in three clinics; random effects (DL) 64.6%,
    # 40.5-83.0%, I2 92.3%; z-test against 69/86 p = 0.161 (R values in test_meta.py)
    r = row(k=162, n=258, rate=162 / 258, ci_low=0.567, ci_high=0.685, benchmark_k=69,
            benchmark_n=86, p_value=2e-10, fisher_p_value=0.003, diff=-0.17,
            diff_ci_low=-0.26, diff_ci_high=-0.07, re_heterogeneity=True, re_clinics=3,
            re_estimate=0.646, re_ci_low=0.405, re_ci_high=0.830, re_i2=0.923,
            re_p_value=0.161)
    assert pooled_sentence(r) == (
        "Across the 3 clinics, the improved rate (photographs, mesotherapy alone) is 64.6% "
        "(random effects, 95% CI 40.5-83.0%): the clinics differ more than chance alone "
        "explains (I² 92%), so this interval, not that of the summed counts (162 of 258, "
        "62.8%, 95% CI 56.7-68.5%), describes the uncertainty. Compared with the published "
        "80% (69 of 86), the random-effects rate shows no evidence of a difference (z-test "
        "against the study's counts, p = 0.161).")
    # no heterogeneity: the summed counts and the study's counts decide
    s = pooled_sentence({**r, "re_heterogeneity": False})
    assert s.startswith("The pooled improved rate (photographs, mesotherapy alone), 62.8% "
                        "(95% CI 56.7-68.5%, 162 of 258), is below the published 80%")
    assert "is below it" in pooled_sentence({**r, "re_p_value": 0.01})


def test_bound_sentence_with_rounded_counts_states_no_difference():
    # attack F3: 15 due and 10 assessed (rounded) is not "5 patients due but not assessed"
    c = {"family": "photographic", "group": "comparable", "k": 10, "n": 10, "rate": 1.0}
    w = {"family": "photographic", "group": "comparable", "k": 10, "n": 15, "rate": 10 / 15}
    s = bound_sentence(c, w, rounded=True)
    assert "counting the patients due but not assessed" in s and "rounded to 5" in s
    assert "the 5 patients" not in s
    equal = bound_sentence(c, {**w, "n": 10, "rate": 1.0}, rounded=True)
    assert "every patient due was assessed" not in equal
