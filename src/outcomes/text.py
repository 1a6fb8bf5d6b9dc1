"""Plain-language sentences written from the numbers of an Analysis.

Every number in a sentence comes from a row of an :class:`~outcomes.analysis.Analysis` frame
(or its suppressed, shareable version); nothing is recomputed here. Whether a clinic's rate
shows "no evidence of a difference from", is "below" or "above" a published figure is decided
by the comparison with the study's own counts (Fisher's exact test and the Newcombe interval
of the difference, so the study's uncertainty counts): both must agree that it differs for
"below"/"above"; when they disagree the sentence says the difference is borderline. The test
against the published rate taken as a fixed figure is shown beside it, labelled as such, and
decides only where the study's counts are unknown. Only the group comparable with the study
(mesotherapy alone) is compared.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from outcomes.labels import SENTENCE
from outcomes.registry import benchmark

__all__ = ["fmt_pct", "fmt_ci", "fmt_date", "fmt_p", "fmt_points", "verdict",
           "comparison_verdict", "NO_DIFFERENCE", "response_sentence", "bound_sentence",
           "pooled_sentence",
           "ae_sentence", "multiplicity_sentence", "flow_sentence", "headline",
           "not_recorded_sentences", "spc_sentence"]

#: groups comparable with the mesotherapy-alone study (the only ones compared with it)
_COMPARABLE = ("comparable",)


def _missing(x) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def _suppressed(*values) -> bool:
    return any(isinstance(v, str) for v in values)


def _threshold(*values) -> str:
    """The suppression threshold of a shown label (``"<10"`` -> ``"10"``); default ``"5"``."""
    labels = [v[1:] for v in values if isinstance(v, str) and v.startswith("<")]
    return labels[0] if labels else "5"


def fmt_pct(rate, digits: int = 1) -> str:
    """A fraction as a percentage: ``0.80233 -> "80.2%"``; missing -> ``"-"``."""
    if _missing(rate):
        return "-"
    return f"{100 * float(rate):.{digits}f}%"


def fmt_ci(low, high, digits: int = 1) -> str:
    """An interval of fractions: ``(0.706, 0.873) -> "70.6-87.3%"``."""
    if _missing(low) or _missing(high):
        return "-"
    return f"{100 * float(low):.{digits}f}-{100 * float(high):.{digits}f}%"


def fmt_date(day) -> str:
    """A date as people write it, e.g. ``"30 September 2026"`` (the same on every platform).

    Parameters
    ----------
    day : date-like
        Anything :class:`pandas.Timestamp` accepts.
    """
    t = pd.Timestamp(day)
    return f"{t.day} {t:%B %Y}"


def _difference(row: Mapping, level: str) -> str:
    """The comparison with the study's counts: difference in points, interval, Fisher's test."""
    return (f"difference {fmt_points(row['diff'])} points ({level} "
            f"{fmt_points(row['diff_ci_low'])} to {fmt_points(row['diff_ci_high'])}), Fisher's "
            f"exact test {fmt_p(row['fisher_p_value'])}.")


def fmt_p(p) -> str:
    """A p-value for a reader: ``"p < 0.001"`` or ``"p = 0.012"``."""
    if _missing(p):
        return "p not computed"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _published(rate, k=None, n=None, benchmark_id=None) -> str:
    pct = 100 * float(rate)
    text = f"{pct:.0f}%" if abs(pct - round(pct)) < 1e-9 else f"{pct:.1f}%"
    if not _missing(k) and not _missing(n):
        derived = not _missing(benchmark_id) and benchmark(str(benchmark_id)).derived
        derived_note = ", a count derived from the percentage" if derived else ""
        text += f" ({int(k)} of {int(n)}{derived_note})"
    return text


def verdict(rate, ci_low, ci_high, p_value, benchmark, *, alpha: float = 0.05) -> str:
    """How a rate compares with a published rate taken as a fixed figure.

    Used only where the published study's counts are unknown (its own uncertainty cannot be
    counted); with counts, :func:`comparison_verdict` decides.

    Parameters
    ----------
    rate, ci_low, ci_high : float
        The clinic's rate and interval (fractions).
    p_value : float
        Exact two-sided test against ``benchmark`` (NaN: decide from the interval alone).
    benchmark : float
        The published rate (fraction).
    alpha : float, default 0.05
        ``1 - confidence``.

    Returns
    -------
    str
        ``"no evidence of a difference from"``, ``"below"``, ``"above"``,
        ``"borderline below"`` or ``"borderline above"`` (test and interval disagree).
    """
    side = "below" if rate < benchmark else "above"
    ci_excludes = ci_high < benchmark or ci_low > benchmark
    test_differs = ci_excludes if _missing(p_value) else p_value < alpha
    if test_differs and ci_excludes:
        return side
    if test_differs or ci_excludes:
        return f"borderline {side}"
    return NO_DIFFERENCE


#: the verdict when neither the test nor the interval shows a difference
NO_DIFFERENCE = "no evidence of a difference from"


def comparison_verdict(diff, diff_ci_low, diff_ci_high, p_value, *,
                       alpha: float = 0.05) -> str:
    """How a clinic's rate compares with a study's, both counted with their uncertainty.

    Parameters
    ----------
    diff, diff_ci_low, diff_ci_high : float
        Clinic minus study (fractions) and its interval (Newcombe hybrid score).
    p_value : float
        Fisher's exact test of the clinic's counts against the study's.
    alpha : float, default 0.05
        ``1 - confidence``.

    Returns
    -------
    str
        ``"above"`` or ``"below"`` when the test (p < alpha) and the interval (excluding 0)
        agree; ``"borderline above"``/``"borderline below"`` when only one of them shows a
        difference; :data:`NO_DIFFERENCE` otherwise.

    Examples
    --------
    >>> comparison_verdict(0.033, -0.041, 0.132, 0.45)
    'no evidence of a difference from'
    """
    side = "below" if diff < 0 else "above"
    ci_excludes = diff_ci_high < 0 or diff_ci_low > 0
    test_differs = ci_excludes if _missing(p_value) else p_value < alpha
    if test_differs and ci_excludes:
        return side
    if test_differs or ci_excludes:
        return f"borderline {side}"
    return NO_DIFFERENCE


def fmt_points(x, digits: int = 1) -> str:
    """A difference of fractions in percentage points with its sign: ``0.033 -> "+3.3"``,
    ``-0.067 -> "−6.7"`` (a true minus sign, as the tables, never read as a dash)."""
    if _missing(x):
        return "-"
    v = round(100 * float(x), digits)
    text = f"{'+' if v > 0 else ''}{v:.{digits}f}".replace("-0.0", "0.0")
    return text.replace("-", "\u2212")


def _detectable(row: Mapping, n_clinic: int) -> str:
    """The precision sentence: the smallest differences detected with 80% power."""
    below: Any = row.get("mdd_below")
    above: Any = row.get("mdd_above")
    if _missing(below) and _missing(above):
        return ""
    parts = []
    if not _missing(below):
        parts.append(f"{abs(100 * float(below)):.1f} points below")
    if not _missing(above):
        parts.append(f"{100 * float(above):.1f} points above")
    return (f" With {n_clinic} patients here and {int(row['benchmark_n'])} in the study, "
            f"this comparison has 80% power only for differences of at least "
            f"{' or '.join(parts)} the study's rate.")


def _level(confidence: float) -> str:
    """``0.95 -> "95% CI"``, ``0.9 -> "90% CI"``, ``0.975 -> "97.5% CI"``."""
    return f"{100 * confidence:g}% CI"


def response_sentence(row: Mapping, *, confidence: float = 0.95) -> str:
    """One sentence (or a short paragraph) for a row of ``Analysis.response``.

    The verdict is decided by the comparison with the published study's counts (Fisher's
    exact test and the Newcombe interval of the difference: the study's own uncertainty
    counted), with the precision of that comparison (the smallest differences detected with
    80% power); the exact test against the published rate taken as a fixed figure is given
    after it, labelled as such. Where the study's counts are unknown, the fixed-rate test
    decides and the sentence says so. A group that is not comparable with the study
    (``all`` patients, minoxidil users included) is not compared, and the sentence says why.
    The worst case (``worst_case_improved``) is a bound, never compared (:func:`bound_sentence`).

    Examples
    --------
    >>> response_sentence({"family": "photographic", "group": "comparable",
    ...     "outcome": "improved", "k": 69, "n": 86, "rate": 69 / 86, "ci_low": 0.706,
    ...     "ci_high": 0.873, "benchmark_rate": 0.8, "p_value": 1.0})
    "Your improved rate (photographs, mesotherapy alone), 80.2% (95% CI 70.6-87.3%, 69 of 86), \
shows no evidence of a difference from the published 80% (taken as a fixed figure: the study's \
counts are not known; exact test p = 1.000)."
    """
    what = (f"Your {SENTENCE.get(row['outcome'], row['outcome'])} "
            f"({SENTENCE.get(row['family'], row['family'])}, "
            f"{SENTENCE.get(row['group'], row['group'])})")
    k: Any = row.get("k")
    n: Any = row.get("n")
    if _suppressed(k, n) or (_missing(row.get("rate")) and not _missing(n) and n != 0):
        return f"{what} is not shown: it rests on fewer than {_threshold(k, n)} patients."
    if _missing(n) or n == 0:
        return f"{what}: no patient has reached the 12-month assessment yet."
    level = _level(confidence)
    numbers = (f"{fmt_pct(row['rate'])} ({level} {fmt_ci(row['ci_low'], row['ci_high'])}, "
               f"{int(k)} of {int(n)})")
    if row.get("outcome") == "worst_case_improved":
        return (f"{what}, {numbers}, counts every patient due but not assessed as not "
                f"improved: a lower bound, not compared with a published figure.")
    bench = row.get("benchmark_rate")
    if _missing(bench):
        return f"{what}, {numbers}; no published figure uses this measure."
    published = _published(bench, row.get("benchmark_k"), row.get("benchmark_n"),
                           row.get("benchmark_id"))
    if row.get("group") not in _COMPARABLE:
        return (f"{what}, {numbers}. This group includes patients also using minoxidil, so it "
                f"is not compared with the published {published}, which comes from patients "
                f"on mesotherapy alone; see the mesotherapy-alone rate for the comparison.")
    fixed_p = row.get("p_value")
    if _missing(row.get("fisher_p_value")) or _missing(row.get("diff")):
        word = verdict(row["rate"], row["ci_low"], row["ci_high"], fixed_p, bench,
                       alpha=1 - confidence)
        return (f"{what}, {numbers}, {_verb(word)} the published {published} (taken as a "
                f"fixed figure: the study's counts are not known; exact test {fmt_p(fixed_p)}).")
    word = comparison_verdict(row["diff"], row["diff_ci_low"], row["diff_ci_high"],
                              row["fisher_p_value"], alpha=1 - confidence)
    text = f"{what}, {numbers}, {_verb(word)} the published {published}: {_difference(row, level)}"
    text += _detectable(row, int(n))
    if not _missing(fixed_p):
        text += (f" Against {_published(bench)} taken as a fixed figure, ignoring that it is "
                 f"itself an estimate from {int(row['benchmark_n'])} patients, the exact "
                 f"binomial test gives {fmt_p(fixed_p)} (shown for reference; it does not "
                 f"decide).")
    return text


def _verb(word: str) -> str:
    """``"above" -> "is above"``; :data:`NO_DIFFERENCE` -> ``"shows no evidence of a
    difference from"``."""
    return f"shows {word}" if word == NO_DIFFERENCE else f"is {word}"


def bound_sentence(complete: Mapping, worst: Mapping, *, rounded: bool = False) -> str:
    """The rate as a bound: complete case (assessed patients) and worst case (due patients,
    the unassessed counted as not improved), from two rows of ``Analysis.response`` of the
    same family and group.

    ``rounded``: the counts are shareable output's (rounded to multiples of 5): the number of
    patients due but not assessed is then not stated (a difference of two rounded counts is
    not a count), nor that every patient due was assessed.

    Examples
    --------
    >>> bound_sentence({"family": "photographic", "group": "comparable", "k": 69, "n": 86,
    ...                 "rate": 69 / 86},
    ...                {"family": "photographic", "group": "comparable", "k": 69, "n": 120,
    ...                 "rate": 69 / 120})
    'Improved rate (photographs, mesotherapy alone) counting the 34 patients due but not \
assessed: between 57.5% if none of them improved (worst case, 69 of 120) and 80.2% if they fared \
like those assessed (complete case, 69 of 86).'
    """
    what = (f"Improved rate ({SENTENCE.get(complete['family'], complete['family'])}, "
            f"{SENTENCE.get(complete['group'], complete['group'])})")
    k: Any = complete.get("k")
    n: Any = complete.get("n")
    due: Any = worst.get("n")
    if _suppressed(k, n, due, worst.get("k")) or _missing(complete.get("rate")) \
            or _missing(worst.get("rate")):
        if _missing(due) or due == 0:
            return f"{what}: no patient has reached the 12-month assessment yet."
        return (f"{what} as a bound (complete case to worst case) is not shown: it rests on "
                f"fewer than {_threshold(k, n, due, worst.get('k'))} patients.")
    missing = int(due) - int(n)
    if rounded:
        return (f"{what} counting the patients due but not assessed: between "
                f"{fmt_pct(worst['rate'])} if none of them improved (worst case, "
                f"{int(worst['k'])} of {int(due)}) and {fmt_pct(complete['rate'])} if they fared "
                f"like those assessed (complete case, {int(k)} of {int(n)}; counts rounded "
                "to 5).")
    if missing == 0:
        return (f"{what}: every patient due was assessed, so the complete-case rate "
                f"{fmt_pct(complete['rate'])} ({int(k)} of {int(n)}) is also the worst case.")
    return (f"{what} counting the {missing} patient{'s' if missing != 1 else ''} due but not "
            f"assessed: between {fmt_pct(worst['rate'])} if none of them improved (worst case, "
            f"{int(worst['k'])} of {int(due)}) and {fmt_pct(complete['rate'])} if they fared "
            f"like those assessed (complete case, {int(k)} of {int(n)}).")


def pooled_sentence(row: Mapping, *, confidence: float = 0.95) -> str:
    """One sentence for a row of a pooled ``response`` (``outcomes pool``).

    When the clinics differ more than chance explains (``re_heterogeneity``: tau² > 0), the
    random-effects rate and interval are the figures of the sentence (the summed counts'
    binomial interval is too narrow then, and is quoted only beside it), and the comparison
    with the published study is the random-effects rate against the study's counts
    (``re_p_value``). Otherwise the summed counts are used, as :func:`response_sentence`.

    Examples
    --------
    >>> pooled_sentence({"family": "photographic", "group": "comparable",
    ...     "outcome": "improved", "k": 162, "n": 258, "rate": 162 / 258, "ci_low": 0.567,
    ...     "ci_high": 0.685, "benchmark_rate": 0.8, "benchmark_k": 69, "benchmark_n": 86,
    ...     "re_heterogeneity": True, "re_clinics": 3, "re_estimate": 0.646,
    ...     "re_ci_low": 0.405, "re_ci_high": 0.830, "re_i2": 0.923, "re_p_value": 0.161})[:81]
    'Across the 3 clinics, the improved rate (photographs, mesotherapy alone) is 64.6%'
    """
    het: Any = row.get("re_heterogeneity")
    if _missing(het) or not bool(het) or _missing(row.get("re_estimate")) \
            or _suppressed(row.get("k"), row.get("n")):
        return response_sentence(row, confidence=confidence).replace(
            "Your ", "The pooled ", 1)
    what = (f"the {SENTENCE.get(row['outcome'], row['outcome'])} "
            f"({SENTENCE.get(row['family'], row['family'])}, "
            f"{SENTENCE.get(row['group'], row['group'])})")
    level = _level(confidence)
    text = (f"Across the {int(row['re_clinics'])} clinics, {what} is "
            f"{fmt_pct(row['re_estimate'])} (random effects, {level} "
            f"{fmt_ci(row['re_ci_low'], row['re_ci_high'])}): the clinics differ more than "
            f"chance alone explains (I² {100 * float(row['re_i2']):.0f}%), so this interval, "
            f"not that of the summed counts ({int(row['k'])} of {int(row['n'])}, "
            f"{fmt_pct(row['rate'])}, {level} {fmt_ci(row['ci_low'], row['ci_high'])}), "
            f"describes the uncertainty.")
    bench: Any = row.get("benchmark_rate")
    if _missing(bench):
        return text
    published = _published(bench, row.get("benchmark_k"), row.get("benchmark_n"),
                           row.get("benchmark_id"))
    if row.get("group") not in _COMPARABLE:
        return (text + f" This group includes patients also using minoxidil, so it is not "
                f"compared with the published {published}.")
    p: Any = row.get("re_p_value")
    if _missing(p):
        return text
    side = "below" if float(row["re_estimate"]) < float(bench) else "above"
    verb = f"is {side} it" if p < 1 - confidence else "shows no evidence of a difference"
    return (text + f" Compared with the published {published}, the random-effects rate "
            f"{verb} (z-test against the study's counts, {fmt_p(p)}).")


def ae_sentence(row: Mapping, *, confidence: float = 0.95) -> str:
    """One sentence (or a short paragraph) for a row of ``Analysis.adverse_events``.

    Incidence so far is over all treated patients (``k``/``n``). The comparison with the
    published figure is like for like: among the treated patients followed at least
    ``min_followup_days`` (``compared_k``/``compared_n``; the study required six months),
    decided as in :func:`response_sentence` (Fisher's exact test and the Newcombe interval
    against the study's counts, :func:`comparison_verdict`; the exact test against the
    published rate taken as fixed shown beside it, labelled); the treated patients left out
    of the comparison are counted (started recently / stopped attending). A row without the
    followed counts (an older results file) is compared as it stands, and says so.

    Examples
    --------
    >>> ae_sentence({"term": "injection_site_pain", "k": 120, "n": 290, "rate": 120 / 290,
    ...     "ci_low": 0.359, "ci_high": 0.471, "benchmark_rate": 246 / 541, "p_value": 0.25})
    'Injection site pain: 41.4% of treated patients (95% CI 35.9-47.1%, 120 of 290), no evidence \
of a difference from the published 45.5% (taken as a fixed figure, exact test p = 0.250).'
    """
    term = {"serious": "serious events"}.get(str(row["term"]),
                                             str(row["term"]).replace("_", " "))
    term = term[:1].upper() + term[1:]
    k: Any = row.get("k")
    n: Any = row.get("n")
    if _suppressed(k, n):
        return f"{term}: fewer than {_threshold(k, n)} patients (exact figure not shown)."
    if _missing(n) or n == 0:
        return f"{term}: no treated patient yet."
    level = _level(confidence)
    numbers = (f"{fmt_pct(row['rate'])} of treated patients ({level} "
               f"{fmt_ci(row['ci_low'], row['ci_high'])}, {int(k)} of {int(n)})")
    bench = row.get("benchmark_rate")
    if _missing(bench):
        return f"{term}: {numbers}; no published rate to compare with."
    ck: Any = row.get("compared_k")
    cn: Any = row.get("compared_n")
    if ck is None or cn is None:   # no followed counts: the older, all-treated comparison
        fisher: Any = row.get("fisher_p_value")
        if not _missing(fisher):
            side = "below" if row["rate"] < bench else "above"
            word = side if fisher < 1 - confidence else NO_DIFFERENCE
            how = f"Fisher's exact test against the study's counts {fmt_p(fisher)}"
        else:
            word = verdict(row["rate"], row["ci_low"], row["ci_high"], row.get("p_value"),
                           bench, alpha=1 - confidence)
            how = f"taken as a fixed figure, exact test {fmt_p(row.get('p_value'))}"
        return f"{term}: {numbers}, {word} the published {_published(bench)} ({how})."
    days = int(row["min_followup_days"])
    so_far = f"{term}: {numbers} so far."

    def c(v) -> str:
        return v if isinstance(v, str) else f"{int(v):,}"

    rec, stop = row.get("excluded_recent"), row.get("excluded_stopped")
    out_n: Any = row.get("excluded")
    if out_n is None or _missing(out_n):
        left = (f" Treated patients followed less than {days} days are not in this comparison: "
                f"{c(rec)} started recently, {c(stop)} stopped attending.")
    else:
        one = not isinstance(out_n, str) and int(out_n) == 1
        left = (f" {c(out_n)} treated patient{'' if one else 's'} followed less than "
                f"{days} days {'is' if one else 'are'} not in this comparison: "
                f"{c(rec)} started recently, {c(stop)} stopped attending.")
    published = _published(bench, row.get("benchmark_k"), row.get("benchmark_n"),
                           row.get("benchmark_id"))
    if _suppressed(ck, cn):
        return (f"{so_far} Among the patients followed at least {days} days (as in the study) "
                f"the count rests on fewer than {_threshold(ck, cn)} patients: not compared "
                f"with the published {published}.{left}")
    if _missing(cn) or int(cn) == 0:
        return (f"{so_far} No treated patient has been followed {days} days yet: not compared "
                f"with the published {published}.{left}")
    followed = (f"Among the {int(cn):,} treated patients followed at least {days} days (as in "
                f"the study) it is {fmt_pct(int(ck) / int(cn))} ({int(ck)} of {int(cn)})")
    fixed_p = row.get("p_value")
    if _missing(row.get("fisher_p_value")) or _missing(row.get("diff")):
        word = verdict(int(ck) / int(cn), np.nan, np.nan, fixed_p, bench,
                       alpha=1 - confidence)
        return (f"{so_far} {followed}, {word} the published {published} (taken "
                f"as a fixed figure: the study's counts are not known; exact test "
                f"{fmt_p(fixed_p)}).{left}")
    word = comparison_verdict(row["diff"], row["diff_ci_low"], row["diff_ci_high"],
                              row["fisher_p_value"], alpha=1 - confidence)
    text = f"{so_far} {followed}, {word} the published {published}: {_difference(row, level)}"
    if not _missing(fixed_p):
        text += (f" Against {_published(bench)} taken as a fixed figure, the exact binomial "
                 f"test gives {fmt_p(fixed_p)} (shown for reference; it does not decide).")
    return text + left


def multiplicity_sentence(frames: Mapping[str, pd.DataFrame], *,
                          confidence: float = 0.95) -> str:
    """What a reader should know about the many tests in one report (ICH E9).

    Parameters
    ----------
    frames : mapping of str to DataFrame
        Any of the Analysis frames ``response``, ``adverse_events``, ``strata``, ``funnel``,
        ``quarterly``, ``model`` (missing ones count 0). Counted: comparisons with a
        published figure (rows with a p-value), strata (one homogeneity test per stratum),
        practitioners tested against the clinic, quarters checked against control limits,
        and model terms with a p-value.
    confidence : float, default 0.95

    Returns
    -------
    str

    Examples
    --------
    >>> multiplicity_sentence({"response": pd.DataFrame({"p_value": [0.01, 0.5]})})[:52]
    'This report makes 2 comparisons (2 with published fi'
    """
    counts = _test_counts(frames)
    total = sum(counts.values())
    alpha = 1 - confidence
    names = {"published": "with published figures", "strata": "across patient groups",
             "practitioners": "of practitioners with the clinic",
             "quarters": "of quarters with control limits", "model": "in the density model"}
    parts = [f"{v} {names[k]}" for k, v in counts.items() if v]
    listing = f" ({', '.join(parts)})" if parts else ""
    chance = alpha * total
    return (f"This report makes {total} comparison{'s' if total != 1 else ''}{listing}. "
            f"Each is tested at the {100 * alpha:g}% level, so even if nothing differed about "
            f"{chance:.1f} of them would be expected to be flagged by chance alone: read a "
            f"single flag as a prompt to look, not as a finding. Where a family of comparisons "
            f"is read together (patient groups, practitioners) the p-values are also shown "
            f"Holm-adjusted (column 'p (Holm)'), which keeps the chance of any false flag in "
            f"that family at {100 * alpha:g}%; the headline comparisons are not adjusted.")


def _test_counts(frames: Mapping[str, pd.DataFrame]) -> dict[str, int]:
    """Number of tests per kind in the given frames (see :func:`multiplicity_sentence`)."""
    def n_p(frame, col="p_value"):
        if frame is None or col not in frame:
            return 0
        return int(pd.to_numeric(frame[col], errors="coerce").notna().sum())

    out = {"published": n_p(frames.get("response")) + n_p(frames.get("adverse_events"))}
    st = frames.get("strata")
    out["strata"] = 0 if st is None or "p_value" not in st else int(
        st.loc[pd.to_numeric(st["p_value"], errors="coerce").notna(),
               ["family", "outcome", "stratum"]].drop_duplicates().shape[0])
    out["practitioners"] = n_p(frames.get("funnel"))
    q = frames.get("quarterly")
    if q is None or "n" not in q:
        out["quarters"] = 0
    elif "plotted" in q:    # quarters too small to plot are not checked against limits
        out["quarters"] = int(q["plotted"].fillna(False).astype(bool).sum())
    else:
        out["quarters"] = int((pd.to_numeric(q["n"], errors="coerce") > 0).sum())
    out["model"] = n_p(frames.get("model"))
    return out


def flow_sentence(flow: pd.DataFrame, cutoff) -> str:
    """Who was counted: registered, treated, due and assessed, from ``Analysis.flow``."""
    n = dict(zip(flow["step"], flow["n"]))

    def c(step):
        v = n.get(step)
        return "-" if _missing(v) else str(v)

    date = fmt_date(cutoff)
    return (f"Of {c('registered')} registered patients, {c('treated')} were treated; "
            f"{c('due_12m')} were due for their 12-month assessment by {date}, of whom "
            f"{c('assessed_photographic')} had photographs scored and "
            f"{c('assessed_density')} a density measurement at 12 months.")


def not_recorded_sentences(not_recorded: pd.DataFrame | None,
                           *, first_screen_only: bool = True) -> list[str]:
    """Sentences saying what a figure could not assess because a value was not recorded,
    from ``Analysis.not_recorded`` (or its suppressed version: a count may be ``"<5"``).

    Parameters
    ----------
    not_recorded : DataFrame or None
        :func:`outcomes.completeness.not_recorded_table`.
    first_screen_only : bool, default True
        Only the rows marked ``first_screen`` (a headline or safety figure).

    Returns
    -------
    list of str
        E.g. ``"5-ARI hypersensitivity screening: not recorded for 3 of 120 treated
        patients, who could not be assessed."``
    """
    if not_recorded is None or len(not_recorded) == 0:
        return []
    rows = not_recorded
    if first_screen_only:
        rows = rows[rows["first_screen"].astype(bool)]
    out = []
    for r in rows.itertuples(index=False):
        n, total = r.not_recorded, r.total
        if not _suppressed(n) and (_missing(n) or int(n) == 0):
            continue
        where = " (the column is not in the export)" if bool(r.absent) else ""
        if r.column == "term":
            share = "" if _suppressed(n, total) or _missing(r.share) else \
                f" ({fmt_pct(r.share)})"
            out.append(f"{n} of {total} adverse events{share} had a term outside the "
                       "vocabulary and were counted as 'other': the rates of the named events "
                       "may be understated (the data-quality page lists the terms; map them "
                       "under [terms] in the mapping file).")
        elif r.column == "minoxidil":
            out.append(f"Minoxidil use not recorded for {n} of {total} treated patients"
                       f"{where}: they are left out of the mesotherapy-alone comparison.")
        elif r.column == "serious":
            out.append(f"Serious adverse events: whether the event was serious is not recorded "
                       f"for {n} of {total} adverse events{where}; they are not counted as "
                       "serious unless serious by nature (review them).")
        elif r.unit == "events":
            out.append(f"{r.figure[0].upper()}{r.figure[1:]}: {r.column} not recorded for {n} "
                       f"of {total} adverse events{where}.")
        else:
            who = "treated patients" if r.column != "density_per_cm2" and \
                r.column != "gpa_score" else "patients due at 12 months"
            out.append(f"{r.figure[0].upper()}{r.figure[1:]}: not recorded for {n} of "
                       f"{total} {who}{where}, who could not be assessed.")
    return out


def headline(response: pd.DataFrame, adverse_events: pd.DataFrame, flow: pd.DataFrame,
             cutoff, *, confidence: float = 0.95,
             not_recorded: pd.DataFrame | None = None,
             rounded: bool = False) -> list[str]:
    """The report's first sentences: the cohort, the comparable (mesotherapy-alone) headline
    rates against the published 80% and 38%, the comparable improved rate as a bound
    (complete case to worst case, :func:`bound_sentence`), and the adverse events with a
    published rate.

    Parameters
    ----------
    response, adverse_events, flow : pandas.DataFrame
        The Analysis frames (suppressed ones in shareable mode).
    cutoff : date-like
        The data cut-off.
    confidence : float, default 0.95
    not_recorded : DataFrame, optional
        ``Analysis.not_recorded``: adds :func:`not_recorded_sentences` (what a headline or
        safety figure could not assess).
    rounded : bool, default False
        Shareable counts (rounded to 5): see :func:`bound_sentence`.

    Returns
    -------
    list of str
    """
    out = [flow_sentence(flow, cutoff)]
    photo = response[response["family"] == "photographic"]
    first = photo[(photo["group"] == "comparable")
                  & photo["outcome"].isin(["improved", "dramatic"])]
    for _, row in first.iterrows():  # two summary rows
        out.append(response_sentence(row, confidence=confidence))
    comp = photo[photo["group"] == "comparable"].set_index("outcome")
    if {"improved", "worst_case_improved"} <= set(comp.index):
        out.append(bound_sentence(comp.loc["improved"].to_dict() | {"group": "comparable"},
                                  comp.loc["worst_case_improved"].to_dict()
                                  | {"group": "comparable"}, rounded=rounded))
    with_bench = adverse_events.dropna(subset=["benchmark_rate"]) \
        if "benchmark_rate" in adverse_events else adverse_events.iloc[:0]
    for _, row in with_bench.iterrows():
        out.append(ae_sentence(row, confidence=confidence))
    out += not_recorded_sentences(not_recorded)
    return out


def spc_sentence(quarterly: pd.DataFrame, *, min_n: int = 5) -> str:
    """What the quarterly p-chart says, in words (Making Data Count reading).

    Parameters
    ----------
    quarterly : DataFrame
        ``Analysis.quarterly`` of one family (:func:`outcomes.stats.p_chart` columns).
    min_n : int, default 5
        ``definitions.spc_min_n``, named when quarters are not plotted.

    Returns
    -------
    str
        E.g. "Of 19 quarters, 15 are plotted (4 with fewer than 5 patients are not). No special
        cause: the quarters vary no more than chance would make them." or "Special cause,
        improvement: 2025Q4 (Above UCL); ...". Quarters where no improvement could signal at
        their size are counted.
    """
    if quarterly is None or len(quarterly) == 0:
        return "No quarter with assessed patients yet: no p-chart."
    q = quarterly
    plotted = q["plotted"].astype("boolean").fillna(False).to_numpy(bool) \
        if "plotted" in q else np.ones(len(q), dtype=bool)
    n = pd.to_numeric(q["n"], errors="coerce").fillna(1).to_numpy(float)
    small = int((~plotted & (n > 0)).sum())
    out = f"Of {len(q)} quarters, {int(plotted.sum())} are plotted"
    out += (f" ({small} with fewer than {min_n} patients are not). " if small else ". ")
    kinds = q["point_type"].astype(str).to_numpy() if "point_type" in q else \
        np.full(len(q), "common_cause")
    # consecutive plotted quarters with the same signal and rule read as one stretch (a
    # quarter not plotted in between neither extends nor breaks it)
    shown = np.flatnonzero(plotted)
    kind_s = kinds[shown]
    cause_s = q["special_cause"].astype(str).to_numpy()[shown] if "special_cause" in q \
        else np.full(shown.size, "")
    names = q["quarter"].astype(str).to_numpy()[shown]
    start = np.r_[True, (kind_s[1:] != kind_s[:-1]) | (cause_s[1:] != cause_s[:-1])] \
        if shown.size else np.zeros(0, dtype=bool)
    group = np.cumsum(start) - 1
    parts = []
    for kind, word in (("special_cause_improvement", "improvement"),
                       ("special_cause_concern", "concern")):
        items = []
        for g in np.unique(group[kind_s == kind]):
            members = np.flatnonzero(group == g)
            first, last = names[members[0]], names[members[-1]]
            why = cause_s[members[0]]
            items.append(f"{first} ({why})" if members.size == 1 else
                         f"{first} to {last} ({why}; {members.size} quarters)")
        if items:
            parts.append(f"Special cause, {word}: " + "; ".join(items) + ".")
    out += " ".join(parts) if parts else ("No special cause: the plotted quarters vary no more "
                                          "than chance would make them.")
    if "high_possible" in q:
        blind = int((plotted & ~q["high_possible"].astype("boolean").fillna(True)
                     .to_numpy(bool)).sum())
        if blind:
            out += (f" In {blind} plotted quarter{'s' if blind != 1 else ''} even 100% would "
                    f"not cross the upper limit (too few patients for the rate): an improvement "
                    f"cannot show there as a single point.")
    return out
