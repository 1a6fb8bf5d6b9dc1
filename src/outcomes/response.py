"""Response rates of both outcome families against the published benchmarks.

Reads a :class:`~outcomes.cohort.Cohort`; returns tidy frames (rates as fractions, never
rounded). The photographic family is the one comparable to Saceda-Corralo 2022: its improved
and dramatic rates are tested against the quoted rates (exact binomial) and, where the study's
counts are known, against those counts (Fisher's exact test, Newcombe hybrid-score interval for
the difference, and the smallest difference the comparison detects with 80% power). The
worst-case rate (improved / due) is a bound on the complete-case rate and is not compared. The
density family has no published counterpart: its benchmark columns are empty.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from outcomes import registry, stats
from outcomes.cohort import THRESHOLD_TOLERANCE, Cohort, comparable_mask

__all__ = ["BENCHMARKS", "RESPONSE_COLUMNS", "GPA_SENSITIVITY_THRESHOLDS", "response_table",
           "density_sensitivity", "photographic_sensitivity",
           "density_change"]

#: (family, outcome) -> registry id of the figure it is compared with. The worst case
#: (improved / due) has none: it is a bound on the complete-case rate, not a like-for-like
#: comparison with the study's complete-case figure (issue 11).
BENCHMARKS = {
    ("photographic", "improved"): "saceda2022_improved",
    ("photographic", "dramatic"): "saceda2022_marked",
}

RESPONSE_COLUMNS = (
    "family", "group", "outcome", "k", "n", "rate", "ci_low", "ci_high", "method",
    "benchmark_id", "benchmark_rate", "benchmark_k", "benchmark_n", "p_value", "fisher_p_value",
    "diff", "diff_ci_low", "diff_ci_high", "mdd_below", "mdd_above",
)

#: GPA thresholds of the photographic sensitivity table: every positive step of the -3..+3
#: scale (+1 is the improved definition's default, +2 the marked one's)
GPA_SENSITIVITY_THRESHOLDS = (1, 2, 3)

_FAMILY = {"photographic": "gpa", "density": "density"}


def _counts(cohort: Cohort):
    """(family, group, outcome, k, n) for every response row, in display order."""
    p = cohort.patients
    groups = {"all": np.ones(len(p), bool), "comparable": comparable_mask(p)}
    due = p["due_12m"].to_numpy(bool)
    rows = []
    for family, prefix in _FAMILY.items():
        assessed = p[f"{prefix}_assessed"].to_numpy(bool)
        improved = p[f"{prefix}_improved"].fillna(False).to_numpy(bool)
        dramatic = p[f"{prefix}_dramatic"].fillna(False).to_numpy(bool)
        for group, g in groups.items():
            rows += [
                (family, group, "improved", (improved & g).sum(), (assessed & g).sum()),
                (family, group, "dramatic", (dramatic & g).sum(), (assessed & g).sum()),
                (family, group, "worst_case_improved", (improved & g).sum(), (due & g).sum()),
            ]
    return rows


def response_table(cohort: Cohort) -> pd.DataFrame:
    """Improved, dramatic and worst-case rates per family and group, against the benchmarks.

    Parameters
    ----------
    cohort : Cohort
        From :func:`outcomes.cohort.build_cohort`.

    Returns
    -------
    DataFrame
        12 rows (family ``photographic``/``density`` x group ``all``/``comparable`` x outcome
        ``improved``/``dramatic``/``worst_case_improved``), columns :data:`RESPONSE_COLUMNS`:
        ``k`` patients with the outcome, ``n`` assessed (due for the worst case), ``rate``,
        ``ci_low``, ``ci_high`` (fractions; interval method and level from the definitions),
        then the benchmark columns of :func:`outcomes.registry.benchmark_columns`
        (photographic improved and dramatic rows only: the worst case is a bound, not compared
        with the study).

    Notes
    -----
    Comparable group: ``minoxidil`` no (mesotherapy alone, as in the study's 86 patients);
    a patient whose minoxidil use is not recorded is not comparable. Worst case: improved /
    due, every due but unassessed patient counted as not improved.
    """
    d = cohort.definitions
    rows = _counts(cohort)
    k = np.array([r[3] for r in rows], dtype="int64")
    n = np.array([r[4] for r in rows], dtype="int64")
    props = stats.proportions(k, n, level=d.confidence, method=d.interval_method)
    ids = [BENCHMARKS.get((r[0], r[2])) for r in rows]
    bench = registry.benchmark_columns(k, n, ids, level=d.confidence)
    out = pd.concat([
        pd.DataFrame({"family": [r[0] for r in rows], "group": [r[1] for r in rows],
                      "outcome": [r[2] for r in rows]}, dtype=object),
        props, bench], axis=1)
    return out[list(RESPONSE_COLUMNS)]


def density_sensitivity(cohort: Cohort) -> pd.DataFrame:
    """How the density improved rate moves with the threshold (all density-assessed patients).

    Returns
    -------
    DataFrame
        One row per threshold of ``definitions.density_sensitivity_thresholds``:
        ``threshold`` (relative change, fraction), ``k`` (patients with change >= threshold),
        ``n`` (density-assessed patients), ``rate``, ``ci_low``, ``ci_high``.
    """
    d = cohort.definitions
    p = cohort.patients
    rel = p.loc[p["density_assessed"].to_numpy(bool), "density_rel_change"].to_numpy(float)
    thr = np.asarray(d.density_sensitivity_thresholds, dtype=float)
    k = (rel[:, None] >= thr[None, :] - THRESHOLD_TOLERANCE).sum(axis=0)
    props = stats.proportions(k, np.full(thr.size, rel.size), level=d.confidence,
                              method=d.interval_method)
    return pd.concat([pd.DataFrame({"threshold": thr}),
                      props[["k", "n", "rate", "ci_low", "ci_high"]]], axis=1)


def photographic_sensitivity(cohort: Cohort) -> pd.DataFrame:
    """How the photographic rate moves with the GPA threshold (all photographed patients).

    Returns
    -------
    DataFrame
        One row per threshold of :data:`GPA_SENSITIVITY_THRESHOLDS` (+1, +2, +3):
        ``threshold`` (GPA points, int), ``k`` (patients whose 12-month GPA score, the median
        of the raters, is >= threshold), ``n`` (photographically assessed patients),
        ``rate``, ``ci_low``, ``ci_high`` (interval method and level from the definitions).
        As :func:`density_sensitivity`.
    """
    d = cohort.definitions
    p = cohort.patients
    score = p.loc[p["gpa_assessed"].to_numpy(bool), "gpa_12m"].to_numpy(float)
    thr = np.asarray(GPA_SENSITIVITY_THRESHOLDS, dtype=float)
    k = (score[:, None] >= thr[None, :] - THRESHOLD_TOLERANCE).sum(axis=0)
    props = stats.proportions(k, np.full(thr.size, score.size), level=d.confidence,
                              method=d.interval_method)
    return pd.concat([pd.DataFrame({"threshold": thr.astype("int64")}),
                      props[["k", "n", "rate", "ci_low", "ci_high"]]], axis=1)


def density_change(cohort: Cohort) -> pd.DataFrame:
    """Mean change in density from baseline to 12 months, with its t interval.

    Returns
    -------
    DataFrame
        Two rows, ``measure`` ``absolute_per_cm2`` (hairs/cm²) and ``relative`` (fraction):
        ``mean``, ``ci_low``, ``ci_high`` (NaN with fewer than 2 patients), ``n`` (patients).
    """
    d = cohort.definitions
    p = cohort.patients
    rows = []
    for measure, col in (("absolute_per_cm2", "density_abs_change"),
                         ("relative", "density_rel_change")):
        x = p.loc[p["density_assessed"].to_numpy(bool), col].to_numpy(float)
        rows.append((measure, *stats.mean_ci(x, level=d.confidence)))
    out = pd.DataFrame(rows, columns=["measure", "mean", "ci_low", "ci_high", "n"])
    return out.astype({"measure": object, "n": "int64"})
