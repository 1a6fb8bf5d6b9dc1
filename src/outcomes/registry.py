"""The published figures a clinic compares itself with, one record each, and the comparison.

The records live in the package data file ``outcomes/registry/published_figures.csv`` (read
with :mod:`importlib.resources`, once per process). Every comparison in an analysis names the
record it used by its ``id``; :func:`benchmark_columns` compares a clinic's counts with the
records (for response and for adverse events alike).

Columns of the file (and of :func:`published_figures`):

- ``id``: stable snake_case key, e.g. ``saceda2022_marked``;
- ``study`` (first author et al.), ``year``, ``population``, ``protocol``;
- ``outcome``: the family, ``photographic`` | ``density`` | ``adverse_event``;
- ``measure``: ``improved`` | ``dramatic`` for response; an adverse-event term of
  :data:`outcomes.vocabulary.TERMS` (or ``serious``) for safety; ``hair_count_mean_difference``
  for the one figure that is not a rate;
- ``arm``: ``treatment`` or ``control`` (a placebo arm is recorded but is not a benchmark);
- ``definition``: what the figure counts, in the source's words;
- ``k``, ``n``: events and denominator (empty when the source gives no rate);
- ``quoted_rate``: the rate as quoted on the clinic page (fraction, e.g. 0.80), empty if not
  quoted;
- ``follow_up``, ``source`` (citation, doi, PMID), ``comparability`` (how like the clinic's
  figure it is);
- ``verified``: True when the figure as recorded was found in the source; False when the counts
  were derived from a percentage (e.g. 69/86 from the quoted 80 %) or nothing was found.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from outcomes import stats
from outcomes.errors import AnalysisError

__all__ = ["Benchmark", "published_figures", "benchmark", "benchmarks_for", "FAMILIES",
           "benchmark_columns", "MDD_POWER"]

#: outcome families a record can belong to
FAMILIES = ("photographic", "density", "adverse_event")

#: power at which the smallest detectable difference (``mdd_below``, ``mdd_above``) is given
MDD_POWER = 0.8

_FILE = "published_figures.csv"
_TEXT = ["id", "study", "population", "protocol", "outcome", "measure", "arm", "definition",
         "follow_up", "source", "comparability"]
_COLUMNS = ["id", "study", "year", "population", "protocol", "outcome", "measure", "arm",
            "definition", "k", "n", "quoted_rate", "follow_up", "source", "comparability",
            "verified"]


@dataclass(frozen=True)
class Benchmark:
    """One published figure (one row of the registry).

    Attributes
    ----------
    id, study, population, protocol, outcome, measure, arm, definition, follow_up, source, \
comparability : str
        As in the registry file (see the module docstring).
    year : int
        Publication year.
    k, n : int or None
        Events and denominator; None when the source gives no rate.
    quoted_rate : float or None
        Rate quoted on the clinic page (fraction 0-1), None if not quoted.
    verified : bool
        False when the counts were derived from a percentage or nothing was found.
    """

    id: str
    study: str
    year: int
    population: str
    protocol: str
    outcome: str
    measure: str
    arm: str
    definition: str
    k: int | None
    n: int | None
    quoted_rate: float | None
    follow_up: str
    source: str
    comparability: str
    verified: bool

    @property
    def count_rate(self) -> float | None:
        """``k / n`` as a fraction, or None without counts."""
        if self.k is None or not self.n:
            return None
        return self.k / self.n

    @property
    def rate(self) -> float | None:
        """The rate to test against: the quoted rate where the clinic page quotes one (0.80,
        0.38, 0.45), else ``k / n``; None when the source gives no rate."""
        return self.quoted_rate if self.quoted_rate is not None else self.count_rate

    @property
    def has_counts(self) -> bool:
        """True when ``k`` and ``n`` are known (a two-sample comparison is possible)."""
        return self.k is not None and self.n is not None

    @property
    def derived(self) -> bool:
        """True when ``k`` was derived from a percentage rather than reported."""
        return self.has_counts and not self.verified

    @property
    def label(self) -> str:
        """Short label for tables and plots, e.g. ``"Saceda-Corralo 2022"``."""
        return f"{self.study.removesuffix(' et al.').split(',')[0]} {self.year}"


@lru_cache(maxsize=1)
def _read() -> pd.DataFrame:
    with resources.files("outcomes").joinpath("registry", _FILE).open("r", encoding="utf-8") as f:
        raw = pd.read_csv(f, dtype=str, keep_default_na=False)
    out = pd.DataFrame({c: pd.array(raw[c].str.strip(), dtype="string") for c in _TEXT})
    out["year"] = pd.array(raw["year"].astype(int), dtype="Int64")
    for c in ("k", "n"):
        out[c] = pd.array([int(v) if v else None for v in raw[c]], dtype="Int64")
    out["quoted_rate"] = [float(v) if v else math.nan for v in raw["quoted_rate"]]
    out["verified"] = pd.array(raw["verified"].str.strip().str.lower() == "yes", dtype="boolean")
    return out[_COLUMNS]


def published_figures() -> pd.DataFrame:
    """All published figures, one row each.

    Returns
    -------
    DataFrame
        Columns ``id, study, year, population, protocol, outcome, measure, arm, definition, k,
        n, quoted_rate, follow_up, source, comparability, verified``; text as ``string``,
        ``year``/``k``/``n`` as ``Int64`` (NA without counts), ``quoted_rate`` float (fraction,
        NaN if not quoted), ``verified`` boolean. A fresh copy on every call.

    Examples
    --------
    >>> figs = published_figures()
    >>> figs.set_index("id").loc["saceda2022_marked", ["k", "n"]].tolist()
    [33, 86]
    """
    return _read().copy()


def _record(row: pd.Series) -> Benchmark:
    def opt_int(v):
        return None if pd.isna(v) else int(v)

    return Benchmark(
        **{c: str(row[c]) for c in _TEXT},
        year=int(row["year"]), k=opt_int(row["k"]), n=opt_int(row["n"]),
        quoted_rate=None if pd.isna(row["quoted_rate"]) else float(row["quoted_rate"]),
        verified=bool(row["verified"]),
    )


def benchmark(id: str) -> Benchmark:  # noqa: A002 - the registry's own word
    """The record with this ``id``.

    Raises
    ------
    AnalysisError
        Unknown id (the message lists the known ones).

    Examples
    --------
    >>> b = benchmark("saceda2022_improved")
    >>> b.rate, b.k, b.n, b.verified
    (0.8, 69, 86, False)
    """
    record = _records().get(id)
    if record is None:
        raise AnalysisError(f"unknown benchmark id {id!r}; known ids: "
                            f"{', '.join(_read()['id'])}.")
    return record


@lru_cache(maxsize=1)
def _records() -> dict[str, Benchmark]:
    """Every record by id, built once (Benchmark is frozen; the first row of an id wins)."""
    figs = _read()
    out: dict[str, Benchmark] = {}
    for i in range(len(figs)):  # the registry's dozen rows, once per process
        out.setdefault(str(figs["id"].iloc[i]), _record(figs.iloc[i]))
    return out


def benchmarks_for(family: str, measure: str, *, arm: str = "treatment") -> tuple[Benchmark, ...]:
    """The records for an outcome family and measure, in registry order.

    Parameters
    ----------
    family : {"photographic", "density", "adverse_event"}
        Outcome family.
    measure : str
        ``improved``/``dramatic``, or an adverse-event term (``injection_site_pain``...).
    arm : {"treatment", "control", "any"}, default "treatment"
        Placebo arms are left out unless asked for.

    Returns
    -------
    tuple of Benchmark
        Possibly empty (no published figure for that measure).

    Examples
    --------
    >>> [b.id for b in benchmarks_for("photographic", "dramatic")]
    ['saceda2022_marked', 'vano2020_oral_marked']
    """
    if family not in FAMILIES:
        raise AnalysisError(f"unknown outcome family {family!r}; accepted: {', '.join(FAMILIES)}.")
    figs = _read()
    keep = (figs["outcome"] == family) & (figs["measure"] == measure)
    if arm != "any":
        keep &= figs["arm"] == arm
    return tuple(_record(row) for _, row in figs[keep.fillna(False)].iterrows())


def benchmark_columns(k, n, ids, *, level: float = 0.95) -> pd.DataFrame:
    """Compare counts with registry benchmarks, row by row.

    Parameters
    ----------
    k, n : array-like of int
        The clinic's events and denominators.
    ids : sequence of str or None
        Registry id per row; ``None`` (or NA) for no benchmark.
    level : float
        Confidence level of the difference interval.

    Returns
    -------
    DataFrame
        ``benchmark_id`` (object), ``benchmark_rate`` (``Benchmark.rate``: the quoted rate when
        the clinic page quotes one, else k/n of the study; fraction), ``benchmark_k``,
        ``benchmark_n`` (Int64, NA when the registry has no counts; counts the registry marks
        as derived from a percentage are used as recorded), ``p_value`` (exact two-sided
        binomial test of k/n against ``benchmark_rate``), ``fisher_p_value`` (Fisher's exact
        test against the study's counts), ``diff``, ``diff_ci_low``, ``diff_ci_high`` (clinic
        minus study, Newcombe hybrid score), ``mdd_below``, ``mdd_above`` (the differences
        from the study's rate k/n, fractions, negative and positive, that a comparison of
        this ``n`` with the study's ``n`` detects with 80% power at two-sided
        ``alpha = 1 - level``: :func:`outcomes.stats.detectable_difference`). NaN where there
        is no benchmark, no counts or ``n == 0``.
    """
    k = np.asarray(k, dtype="int64")
    n = np.asarray(n, dtype="int64")
    ids = [None if (i is None or pd.isna(i)) else str(i) for i in ids]
    rows = len(ids)
    b_rate, b_k, b_n = np.full(rows, np.nan), np.full(rows, np.nan), np.full(rows, np.nan)
    for i, bid in enumerate(ids):   # one registry look-up per benchmark row (a handful)
        if bid is None:
            continue
        rec = benchmark(bid)
        b_rate[i] = np.nan if rec.rate is None else rec.rate
        if rec.has_counts:
            b_k[i], b_n[i] = rec.k, rec.n
    p = np.full(rows, np.nan)
    has_rate = ~np.isnan(b_rate)
    if has_rate.any():
        p[has_rate] = stats.binom_test(k[has_rate], n[has_rate], b_rate[has_rate])
    fisher, diff, lo, hi, below, above = (np.full(rows, np.nan) for _ in range(6))
    has_counts = ~np.isnan(b_k)
    if has_counts.any():
        kc, nc = k[has_counts], n[has_counts]
        bk, bn = b_k[has_counts].astype("int64"), b_n[has_counts].astype("int64")
        fisher[has_counts] = stats.fisher_test(kc, nc, bk, bn)
        d, low, high = stats.newcombe_difference(kc, nc, bk, bn, level=level)
        diff[has_counts], lo[has_counts], hi[has_counts] = d, low, high
        below[has_counts], above[has_counts] = stats.detectable_difference(
            nc, bn, bk / bn, alpha=1 - level, power=MDD_POWER)
    # one frame built from the finished columns (benchmark counts NA where the registry has
    # none: integer arrays with that mask), not filled column by column
    return pd.DataFrame({
        "benchmark_id": pd.Series(ids, dtype=object),
        "benchmark_rate": b_rate,
        "benchmark_k": pd.arrays.IntegerArray(np.where(has_counts, b_k, 0).astype("int64"),
                                              ~has_counts),
        "benchmark_n": pd.arrays.IntegerArray(np.where(has_counts, b_n, 0).astype("int64"),
                                              ~has_counts),
        "p_value": p, "fisher_p_value": fisher,
        "diff": diff, "diff_ci_low": lo, "diff_ci_high": hi,
        "mdd_below": below, "mdd_above": above,
    })
