"""The three verdicts on constructed cohorts (issue 11 item 2, must-show): the clinic better,
worse, and no evidence of a difference once the study's own uncertainty is counted, with the
exact sentences. Each cohort: ``n`` comparable patients (mesotherapy alone), ``k`` of them
improved (GPA +1 at day 365), and 40 minoxidil users (38 improved) who are not comparable.

R 4.2.2 for the numbers in the sentences (benchmark: Saceda-Corralo 2022, 69 of 86)::

    f <- function(a, b) fisher.test(matrix(c(a, b - a, 69, 86 - 69), 2))$p.value
    f(190, 200)   # 0.000240223227
    f(50, 100)    # 1.757587131e-05
    f(778, 931)   # 0.4496827934
    binom.test(190, 200, 0.8)$p.value   # 2.446636229e-09
    binom.test(50, 100, 0.8)$p.value    # 2.139250663e-11
    binom.test(778, 931, 0.8)$p.value   # 0.006022351142
    library(pwr)   # smallest differences with 80% power: tests/test_multiplicity.py (pwr.2p2n.test)
"""
from __future__ import annotations

import pytest
from numpy.testing import assert_allclose

from cohort_builder import REFERENCE_CUTOFF, Rows
from outcomes import response, text
from outcomes.cohort import build_cohort


def _response(k: int, n: int):
    r = Rows()
    for i in range(n):
        r.add(f"C{i:04d}", gpa=[(365, 1 if i < k else 0)])
    for j in range(40):
        r.add(f"M{j:04d}", minoxidil=True, gpa=[(365, 2 if j < 38 else 0)])
    t = response.response_table(build_cohort(r.export(), cutoff=REFERENCE_CUTOFF))
    t = t[(t["family"] == "photographic") & (t["outcome"] == "improved")]
    return t.set_index("group", drop=False)


DERIVED = "the published 80% (69 of 86, a count derived from the percentage)"
FIXED = ("Against 80% taken as a fixed figure, ignoring that it is itself an estimate from 86 "
         "patients, the exact binomial test gives {p} (shown for reference; it does not "
         "decide).")

CASES = {
    "better": (190, 200, 0.000240223227, 2.446636229e-09,
               "Your improved rate (photographs, mesotherapy alone), 95.0% (95% CI 91.0-97.3%, "
               f"190 of 200), is above {DERIVED}: difference +14.8 points (95% CI +6.7 to "
               "+24.7), Fisher's exact test p < 0.001. With 200 patients here and 86 in the "
               "study, this comparison has 80% power only for differences of at least 16.0 "
               "points below or 12.1 points above the study's rate. "
               + FIXED.format(p="p < 0.001")),
    "worse": (50, 100, 1.757587131e-05, 2.139250663e-11,
              "Your improved rate (photographs, mesotherapy alone), 50.0% (95% CI 40.4-59.6%, "
              f"50 of 100), is below {DERIVED}: difference \u221230.2 points (95% CI \u221242.2 to "
              "\u221216.6), Fisher's exact test p < 0.001. With 100 patients here and 86 in the "
              "study, this comparison has 80% power only for differences of at least 18.5 "
              "points below or 13.4 points above the study's rate. "
              + FIXED.format(p="p < 0.001")),
    # the example: against 80% as a constant p = 0.006, against 69/86 p = 0.450
    "no evidence": (778, 931, 0.4496827934, 0.006022351142,
                    "Your improved rate (photographs, mesotherapy alone), 83.6% (95% CI "
                    f"81.0-85.8%, 778 of 931), shows no evidence of a difference from {DERIVED}"
                    ": difference +3.3 points (95% CI \u22124.1 to +13.2), Fisher's exact test "
                    "p = 0.450. With 931 patients here and 86 in the study, this comparison "
                    "has 80% power only for differences of at least 13.9 points below or 10.9 "
                    "points above the study's rate. " + FIXED.format(p="p = 0.006")),
}


@pytest.mark.parametrize("case", list(CASES))
def test_verdict_sentence(case):
    k, n, fisher_p, fixed_p, sentence = CASES[case]
    t = _response(k, n)
    row = t.loc["comparable"]
    assert (row["k"], row["n"]) == (k, n)
    assert_allclose([row["fisher_p_value"], row["p_value"]], [fisher_p, fixed_p], rtol=1e-8)
    assert text.response_sentence(row) == sentence


@pytest.mark.parametrize("case", list(CASES))
def test_the_non_comparable_group_is_not_compared(case):
    k, n = CASES[case][:2]
    row = _response(k, n).loc["all"]
    assert row["n"] == n + 40
    s = text.response_sentence(row)
    assert s.startswith("Your improved rate (photographs, all patients), ")
    assert s.endswith("This group includes patients also using minoxidil, so it is not "
                      f"compared with {DERIVED}, which comes from patients on mesotherapy "
                      "alone; see the mesotherapy-alone rate for the comparison.")
    for word in ("above", "below", "no evidence", "p ="):
        assert word not in s
