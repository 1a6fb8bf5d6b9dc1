"""Plain-language sentences written from the numbers of an Analysis.

Every number in a sentence comes from a row of an :class:`~outcomes.analysis.Analysis` frame
(or its suppressed, shareable version); nothing is recomputed here. Whether a clinic's rate is
"in line with", "below" or "above" a published figure is decided by the exact test's p-value
together with the interval: both must agree that it differs for "below"/"above"; when they
disagree the sentence says the difference is borderline.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from outcomes.registry import benchmark

__all__ = ["fmt_pct", "fmt_ci", "fmt_date", "fmt_p", "verdict", "response_sentence", "ae_sentence",
           "flow_sentence", "headline"]

_OUTCOME = {"improved": "improved rate", "dramatic": "marked-improvement rate",
            "worst_case_improved": "worst-case improved rate"}
_FAMILY = {"photographic": "photographs", "density": "hair density"}
_GROUP = {"comparable": "mesotherapy alone", "all": "all patients"}


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
    """How a rate compares with a published one.

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
        ``"in line with"``, ``"below"``, ``"above"``, ``"borderline below"`` or
        ``"borderline above"`` (test and interval disagree).
    """
    side = "below" if rate < benchmark else "above"
    ci_excludes = ci_high < benchmark or ci_low > benchmark
    test_differs = ci_excludes if _missing(p_value) else p_value < alpha
    if test_differs and ci_excludes:
        return side
    if test_differs or ci_excludes:
        return f"borderline {side}"
    return "in line with"


def response_sentence(row: Mapping, *, confidence: float = 0.95) -> str:
    """One sentence for a row of ``Analysis.response``.

    Examples
    --------
    >>> response_sentence({"family": "photographic", "group": "comparable",
    ...     "outcome": "improved", "k": 69, "n": 86, "rate": 69 / 86, "ci_low": 0.706,
    ...     "ci_high": 0.873, "benchmark_rate": 0.8, "p_value": 1.0})
    'Your improved rate (photographs, mesotherapy alone), 80.2% (95% CI 70.6-87.3%, 69 of 86), is \
in line with the published 80%.'
    """
    what = (f"Your {_OUTCOME.get(row['outcome'], row['outcome'])} "
            f"({_FAMILY.get(row['family'], row['family'])}, "
            f"{_GROUP.get(row['group'], row['group'])})")
    k: Any = row.get("k")
    n: Any = row.get("n")
    if _suppressed(k, n) or (_missing(row.get("rate")) and not _missing(n) and n != 0):
        return f"{what} is not shown: it rests on fewer than {_threshold(k, n)} patients."
    if _missing(n) or n == 0:
        return f"{what}: no patient has reached the 12-month assessment yet."
    level = f"{confidence:.0%} CI"
    numbers = (f"{fmt_pct(row['rate'])} ({level} {fmt_ci(row['ci_low'], row['ci_high'])}, "
               f"{int(k)} of {int(n)})")
    bench = row.get("benchmark_rate")
    if _missing(bench):
        return f"{what}, {numbers}; no published figure uses this measure."
    word = verdict(row["rate"], row["ci_low"], row["ci_high"], row.get("p_value"), bench,
                   alpha=1 - confidence)
    published = _published(bench, row.get("benchmark_k"), row.get("benchmark_n"),
                           row.get("benchmark_id"))
    tail = "" if word == "in line with" or _missing(row.get("p_value")) \
        else f" (exact test {fmt_p(row['p_value'])})"
    return f"{what}, {numbers}, is {word} the published {published}{tail}."


def ae_sentence(row: Mapping, *, confidence: float = 0.95) -> str:
    """One sentence for a row of ``Analysis.adverse_events``.

    Examples
    --------
    >>> ae_sentence({"term": "injection_site_pain", "k": 120, "n": 290, "rate": 120 / 290,
    ...     "ci_low": 0.359, "ci_high": 0.471, "benchmark_rate": 246 / 541, "p_value": 0.25})
    'Injection site pain: 41.4% of treated patients (95% CI 35.9-47.1%, 120 of 290), in line with \
the published 45.5%.'
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
    level = f"{confidence:.0%} CI"
    numbers = (f"{fmt_pct(row['rate'])} of treated patients ({level} "
               f"{fmt_ci(row['ci_low'], row['ci_high'])}, {int(k)} of {int(n)})")
    bench = row.get("benchmark_rate")
    if _missing(bench):
        return f"{term}: {numbers}; no published rate to compare with."
    # against a published 0% (or 100%) the one-sample test rejects at the first event; the
    # study's counts (Fisher's test) carry its own uncertainty, so they decide there
    p = row.get("fisher_p_value") if bench in (0, 1) and not _missing(
        row.get("fisher_p_value")) else row.get("p_value")
    word = verdict(row["rate"], row["ci_low"], row["ci_high"], p, bench, alpha=1 - confidence)
    return f"{term}: {numbers}, {word} the published {_published(bench)}."


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


def headline(response: pd.DataFrame, adverse_events: pd.DataFrame, flow: pd.DataFrame,
             cutoff, *, confidence: float = 0.95) -> list[str]:
    """The report's first sentences: the cohort, the comparable headline rates against the
    published 80% and 38%, the worst case, and the adverse events with a published rate.

    Parameters
    ----------
    response, adverse_events, flow : pandas.DataFrame
        The Analysis frames (suppressed ones in shareable mode).
    cutoff : date-like
        The data cut-off.
    confidence : float, default 0.95

    Returns
    -------
    list of str
    """
    out = [flow_sentence(flow, cutoff)]
    photo = response[response["family"] == "photographic"]
    first = photo[(photo["group"] == "comparable")
                  & photo["outcome"].isin(["improved", "dramatic"])]
    rest = photo[(photo["group"] == "all") & (photo["outcome"] == "worst_case_improved")]
    for _, row in pd.concat([first, rest]).iterrows():  # a handful of summary rows
        out.append(response_sentence(row, confidence=confidence))
    with_bench = adverse_events.dropna(subset=["benchmark_rate"]) \
        if "benchmark_rate" in adverse_events else adverse_events.iloc[:0]
    for _, row in with_bench.iterrows():
        out.append(ae_sentence(row, confidence=confidence))
    return out
