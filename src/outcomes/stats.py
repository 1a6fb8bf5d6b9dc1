"""Proportions, their intervals, exact tests, and funnel and p-chart limits.

Every function is vectorised: counts may be scalars or equal-length (broadcastable) arrays.
Scalars in give Python floats out; arrays in give numpy arrays out. ``n == 0`` means "no data"
and gives NaN, never a RuntimeWarning. Rates are fractions (0-1), never percentages, never
rounded.

Invalid input (negative or non-whole counts, ``k > n``, a level outside (0, 1), an unknown
method) raises :class:`outcomes.errors.AnalysisError` naming the argument, the value and the fix.
"""
from __future__ import annotations

import importlib
import os
import sys
import types
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from outcomes.errors import AnalysisError

__all__ = [
    "INTERVAL_METHODS",
    "proportion_ci",
    "proportions",
    "binom_test",
    "fisher_test",
    "newcombe_difference",
    "detectable_difference",
    "holm",
    "homogeneity_test",
    "mean_ci",
    "funnel_limits",
    "funnel_columns",
    "funnel_flags",
    "p_chart",
    "spc_rules",
    "km_cumulative_incidence",
    "P_CHART_COLUMNS",
    "P_CHART_LIMITS",
]


def _full_special() -> types.ModuleType:
    import scipy.special

    return scipy.special


def _load_special() -> types.ModuleType:
    """The module holding scipy.special's ufuncs, without the cost of ``import scipy.special``.

    ``import scipy.special`` (scipy 1.15 and later) runs its array-API layer, which clones
    numpy's namespace (``dir(numpy)`` and every attribute) and so imports ``numpy.f2py`` (with
    ``charset_normalizer``), ``numpy.testing`` (``unittest``, ``email``,
    ``importlib.metadata``), ``numpy.polynomial`` and more: 0.15-0.3 s of CPU in every
    ``outcomes analyze``, while the package calls a dozen ufuncs (``ndtri``, ``betaincinv``,
    ``bdtr``...). Those live in the compiled module ``scipy.special._ufuncs``; unless
    ``SCIPY_ARRAY_API`` is set, ``scipy.special.ndtri`` *is* ``scipy.special._ufuncs.ndtri``
    (the same object, so the same results; tests/test_imports.py checks every name used here
    and in model.py).

    That module is loaded alone: ``scipy.special`` is stood in for by an empty package of the
    same folder while ``_ufuncs`` (and the compiled modules it needs) load, then removed, so
    that a later ``import scipy.special`` (statsmodels for the density model, the
    meta-analysis) runs scipy's own ``__init__``, which takes the already loaded ``_ufuncs``.
    When scipy.special is already imported, ``SCIPY_ARRAY_API`` is set or anything goes wrong,
    the ordinary ``import scipy.special`` is used.
    """
    if "scipy.special" in sys.modules or os.environ.get("SCIPY_ARRAY_API"):
        return _full_special()
    try:
        import scipy

        folder = os.path.join(os.path.dirname(scipy.__file__), "special")
        stand_in = types.ModuleType("scipy.special")
        stand_in.__path__ = [folder]
        stand_in.__package__ = "scipy.special"
        sys.modules["scipy.special"] = stand_in
        try:
            module = importlib.import_module("scipy.special._ufuncs")
        finally:
            if sys.modules.get("scipy.special") is stand_in:
                del sys.modules["scipy.special"]
    except Exception:  # noqa: BLE001 - any surprise: the ordinary import
        return _full_special()
    return module


# scipy.special's ufuncs (not scipy.stats, nor scipy.special's package: their imports cost
# about 0.5 s and 0.15 s of every command); model.py uses them too
_sp = _load_special()

#: Interval methods accepted by :func:`proportion_ci` and :func:`proportions`.
INTERVAL_METHODS = ("wilson", "clopper-pearson")

#: Relative tolerance R uses in ``binom.test`` and ``fisher.test`` to decide which outcomes
#: are "as or less likely" than the observed one.
_R_REL_ERR = 1 + 1e-7


# --------------------------------------------------------------------------------------------
# argument checking
# --------------------------------------------------------------------------------------------
def _as_float(x, name: str) -> np.ndarray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as err:
        raise AnalysisError(f"{name}: expected numbers, received {x!r}. "
                            f"Pass whole numbers (counts).") from err
    return arr


def _counts(k, n, kname: str = "k", nname: str = "n") -> tuple[np.ndarray, np.ndarray, bool]:
    """Broadcast and check a pair of count arrays; return (k, n, scalar_input)."""
    ka, na = _as_float(k, kname), _as_float(n, nname)
    scalar = ka.ndim == 0 and na.ndim == 0
    try:
        ka, na = np.broadcast_arrays(ka, na)
    except ValueError as err:
        raise AnalysisError(f"{kname} and {nname} have different lengths "
                            f"({ka.shape} vs {na.shape}); pass equal-length arrays.") from err
    for arr, name in ((ka, kname), (na, nname)):
        bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.round(arr))
        if bad.any():
            value = arr[bad].flat[0]
            raise AnalysisError(f"{name}: expected a whole number >= 0, received {value!r}. "
                                f"Counts must be non-negative integers with no missing values.")
    over = ka > na
    if over.any():
        i = np.flatnonzero(over.ravel())[0]
        raise AnalysisError(f"{kname} > {nname} ({ka.ravel()[i]:g} > {na.ravel()[i]:g}): a count "
                            f"of events cannot exceed its denominator; check the counts.")
    return ka, na, scalar


def _check_level(level: float) -> float:
    if not (isinstance(level, (int, float, np.floating)) and 0 < float(level) < 1):
        raise AnalysisError(f"level: expected a confidence level strictly between 0 and 1 "
                            f"(e.g. 0.95), received {level!r}.")
    return float(level)


def _check_method(method: str) -> str:
    if method not in INTERVAL_METHODS:
        raise AnalysisError(f"method: unknown interval method {method!r}; "
                            f"accepted: {', '.join(INTERVAL_METHODS)}.")
    return method


def _out(x: np.ndarray, scalar: bool):
    return float(x) if scalar else x


def _z(level: float) -> float:
    return float(_sp.ndtri(0.5 + level / 2))


# --------------------------------------------------------------------------------------------
# single proportions
# --------------------------------------------------------------------------------------------
def _wilson(k: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson limits for float arrays k, n (n > 0 wherever the result is used)."""
    ns = np.where(n > 0, n, 1.0)
    z2 = z * z
    centre = (2 * k + z2) / (2 * (ns + z2))
    half = z * np.sqrt(k * (ns - k) / ns + z2 / 4) / (ns + z2)
    low = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(k == ns, 1.0, np.clip(centre + half, 0.0, 1.0))
    nan = n == 0
    return np.where(nan, np.nan, low), np.where(nan, np.nan, high)


def _clopper_pearson(k: np.ndarray, n: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    alpha = 1 - level
    # beta shape parameters must be > 0: substitute 1 where the limit is fixed (0 or 1) anyway
    a_low, b_low = np.where(k > 0, k, 1.0), np.where(k > 0, n - k + 1, 1.0)
    a_high, b_high = np.where(k < n, k + 1, 1.0), np.where(k < n, n - k, 1.0)
    low = np.where(k > 0, _sp.betaincinv(a_low, b_low, alpha / 2), 0.0)
    high = np.where(k < n, _sp.betaincinv(a_high, b_high, 1 - alpha / 2), 1.0)
    nan = n == 0
    return np.where(nan, np.nan, low), np.where(nan, np.nan, high)


def proportion_ci(k, n, *, level: float = 0.95, method: str = "wilson"):
    """Confidence interval for a proportion k/n.

    Parameters
    ----------
    k, n : int or array-like of int
        Events and denominator (patients, sessions...), ``0 <= k <= n``; broadcast together.
    level : float, default 0.95
        Confidence level, strictly between 0 and 1.
    method : {"wilson", "clopper-pearson"}, default "wilson"
        Wilson score interval (as R ``prop.test(k, n, correct = FALSE)$conf.int``) or the exact
        Clopper-Pearson interval (as R ``binom.test(k, n)$conf.int``).

    Returns
    -------
    low, high : float or ndarray
        Limits as fractions in [0, 1]. NaN where ``n == 0`` (no data). For ``k == 0`` the lower
        limit is 0 and the upper limit is > 0; for ``k == n`` the upper limit is 1.

    Notes
    -----
    Wilson: with :math:`\\hat p = k/n` and :math:`z` the normal quantile,
    :math:`(2k + z^2 \\pm z\\sqrt{z^2 + 4k(n-k)/n}) / (2(n + z^2))`.
    Clopper-Pearson: ``Beta(a/2; k, n-k+1)`` and ``Beta(1-a/2; k+1, n-k)`` quantiles.

    References
    ----------
    Newcombe RG (1998). Two-sided confidence intervals for the single proportion: comparison
    of seven methods. Stat Med 17:857-872 (methods 3 and 5).

    Examples
    --------
    >>> low, high = proportion_ci(81, 263)
    >>> round(low, 4), round(high, 4)
    (0.2553, 0.3662)
    """
    level, method = _check_level(level), _check_method(method)
    k, n, scalar = _counts(k, n)
    if method == "wilson":
        low, high = _wilson(k, n, _z(level))
    else:
        low, high = _clopper_pearson(k, n, level)
    return _out(low, scalar), _out(high, scalar)


def proportions(k, n, *, level: float = 0.95, method: str = "wilson") -> pd.DataFrame:
    """Tidy table of proportions with their intervals.

    Parameters
    ----------
    k, n : int or array-like of int
        Events and denominators, ``0 <= k <= n``.
    level : float, default 0.95
        Confidence level.
    method : {"wilson", "clopper-pearson"}, default "wilson"
        Interval method (see :func:`proportion_ci`).

    Returns
    -------
    DataFrame
        One row per proportion: ``k`` (int64), ``n`` (int64), ``rate`` (fraction; NaN when
        ``n == 0``), ``ci_low``, ``ci_high`` (fractions), ``method`` (str).

    Examples
    --------
    >>> proportions([33, 0], [86, 0])[["k", "n", "rate"]]
        k   n      rate
    0  33  86  0.383721
    1   0   0       NaN
    """
    low, high = proportion_ci(k, n, level=level, method=method)
    ka, na, _ = _counts(k, n)
    ka, na = np.atleast_1d(ka), np.atleast_1d(na)
    rate = np.divide(ka, na, out=np.full(ka.shape, np.nan), where=na > 0)
    return pd.DataFrame({
        "k": ka.astype("int64"), "n": na.astype("int64"), "rate": rate,
        "ci_low": np.atleast_1d(low), "ci_high": np.atleast_1d(high),
        "method": pd.Series([method] * ka.size, dtype=object),
    })


# --------------------------------------------------------------------------------------------
# exact tests
# --------------------------------------------------------------------------------------------
def _per_unique(func, *columns: np.ndarray) -> np.ndarray:
    """Apply a scalar ``func`` once per unique row of ``columns`` and broadcast back.

    The exact tests have no closed form to vectorise; a clinic's tables have few distinct
    (k, n) pairs, so one call per distinct pair is cheap.
    """
    stacked = np.column_stack([c.ravel() for c in columns])
    if stacked.shape[0] == 0:
        return np.empty(columns[0].shape)
    uniq, inverse = np.unique(stacked, axis=0, return_inverse=True)
    values = np.array([func(*row) for row in uniq], dtype=float)
    return values[inverse.ravel()].reshape(columns[0].shape)


def _binom_logpmf(k, n, p):
    """log of the binomial pmf (scipy.stats.binom.logpmf's formula, from scipy.special)."""
    return (_sp.gammaln(n + 1) - _sp.gammaln(k + 1) - _sp.gammaln(n - k + 1)
            + _sp.xlogy(k, p) + _sp.xlog1py(n - k, -p))


def _lchoose(n, k):
    """log of the binomial coefficient C(n, k)."""
    return _sp.gammaln(n + 1) - _sp.gammaln(k + 1) - _sp.gammaln(n - k + 1)


def _binom_cdf(k, n, p):
    """P(X <= k) for X ~ Binomial(n, p); 0 below the support (as scipy.stats.binom.cdf)."""
    k = np.floor(k)
    n = np.asarray(n).astype(np.int64)
    return np.where(k < 0, 0.0, _sp.bdtr(np.maximum(k, 0).astype(np.int64), n, p))


def _binom_ppf(q, n, p):
    """Smallest k with P(X <= k) >= q (scipy.stats.binom.ppf's algorithm)."""
    n_int = np.asarray(n).astype(np.int64)
    # bdtrik is NaN at p = 0, where every quantile is 0 (as scipy.stats.binom.ppf)
    vals = np.where(np.asarray(p) == 0, 0.0, np.ceil(_sp.bdtrik(q, n_int, p)))
    ok = ~np.isnan(vals)  # NaN p (no rate to centre on) stays NaN, without an int cast of NaN
    below = np.where(ok, np.maximum(vals - 1, 0), 0).astype(np.int64)
    return np.where(ok & (_sp.bdtr(below, n_int, p) >= q), below, vals)


def _binom_one(k: float, n: float, p: float) -> float:
    """R's ``binom.test(k, n, p)$p.value`` (two-sided), on the whole support."""
    if n == 0:
        return np.nan
    k, n = int(k), int(n)
    support = np.arange(n + 1)
    # logpmf (xlogy/xlog1py) stays finite for tiny p, where scipy's pmf overflows
    d = np.exp(_binom_logpmf(support, n, p))
    m = n * p
    if k == m:
        return 1.0
    cutoff = d[k] * _R_REL_ERR
    if k < m:
        y = int(np.count_nonzero(d[support >= np.ceil(m)] <= cutoff))
        pval = d[: k + 1].sum() + d[n - y + 1:].sum()
    else:
        y = int(np.count_nonzero(d[support <= np.floor(m)] <= cutoff))
        pval = d[:y].sum() + d[k:].sum()
    return float(min(1.0, pval))


def binom_test(k, n, p):
    """Exact two-sided binomial test of k/n against a rate p, as R ``binom.test(k, n, p)``.

    Parameters
    ----------
    k, n : int or array-like of int
        Events and denominator, ``0 <= k <= n``.
    p : float or array-like of float
        The rate under the null hypothesis (e.g. 0.80 for a quoted 80 %), in [0, 1].

    Returns
    -------
    float or ndarray
        Two-sided p-value in [0, 1]; NaN where ``n == 0``.

    Notes
    -----
    Two-sided by the "minimum likelihood" rule: the p-value sums the probabilities of all
    outcomes no more likely than the observed one, with R's relative tolerance
    ``1 + 1e-7``: R's algorithm, written out over the whole support (``0..n``) with
    probabilities from :func:`scipy.stats.binom.logpmf`. (:func:`scipy.stats.binomtest` uses
    the same rule and tolerance but its pmf overflows for rates below about 1e-300.)
    Called once per distinct (k, n, p).

    Examples
    --------
    >>> round(binom_test(60, 86, 0.8), 4)
    0.0217
    """
    k, n, scalar = _counts(k, n)
    pa = _as_float(p, "p")
    if (~np.isfinite(pa) | (pa < 0) | (pa > 1)).any():
        raise AnalysisError(f"p: expected a rate between 0 and 1 (a fraction, not a percentage),"
                            f" received {p!r}.")
    scalar = scalar and pa.ndim == 0
    k, n, pa = np.broadcast_arrays(k, n, pa)
    return _out(_per_unique(_binom_one, k, n, pa), scalar)


def _fisher_one(k1: float, n1: float, k2: float, n2: float) -> float:
    if n1 == 0 or n2 == 0:
        return np.nan
    # R fisher.test on matrix(c(k1, k2, n1 - k1, n2 - k2), 2): m = column-1 total (events),
    # n = column-2 total (non-events), k = row-1 total (n1), x = k1.
    m, nn, kk, x = k1 + k2, (n1 - k1) + (n2 - k2), n1, k1
    support = np.arange(max(0.0, kk - nn), min(kk, m) + 1)
    logd = _lchoose(m, support) + _lchoose(nn, kk - support) - _lchoose(m + nn, kk)
    d = np.exp(logd - logd.max())
    d /= d.sum()
    observed = d[int(x - support[0])]
    return float(min(1.0, d[d <= observed * _R_REL_ERR].sum()))


def fisher_test(k1, n1, k2, n2):
    """Fisher's exact test comparing k1/n1 with k2/n2, two-sided, as R ``fisher.test``.

    Parameters
    ----------
    k1, n1 : int or array-like of int
        Events and denominator of the first group (e.g. the clinic).
    k2, n2 : int or array-like of int
        Events and denominator of the second group (e.g. the published study).

    Returns
    -------
    float or ndarray
        Two-sided p-value in [0, 1]; NaN where ``n1 == 0`` or ``n2 == 0`` (no data; R would
        return 1 for such a table).

    Notes
    -----
    The p-value sums the conditional (hypergeometric) probabilities of every table no more
    likely than the observed one, with R's relative tolerance ``1 + 1e-7``: the algorithm of
    R's ``fisher.test`` for 2 x 2 tables, re-implemented here because
    :func:`scipy.stats.fisher_exact` uses a different tolerance (``1 + 1e-14``).
    Called once per distinct table.

    Examples
    --------
    >>> round(fisher_test(9, 10, 3, 10), 5)
    0.01977
    """
    k1, n1, _s1 = _counts(k1, n1, "k1", "n1")
    k2, n2, _s2 = _counts(k2, n2, "k2", "n2")
    try:
        arrays = np.broadcast_arrays(k1, n1, k2, n2)
    except ValueError as err:
        raise AnalysisError("k1, n1, k2, n2 have different lengths; pass equal-length arrays."
                            ) from err
    return _out(_per_unique(_fisher_one, *arrays), _s1 and _s2)


def newcombe_difference(k1, n1, k2, n2, *, level: float = 0.95):
    """Difference of two independent proportions with Newcombe's hybrid score interval.

    Parameters
    ----------
    k1, n1 : int or array-like of int
        Events and denominator of the first group (e.g. the clinic).
    k2, n2 : int or array-like of int
        Events and denominator of the second group (e.g. the published study).
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    diff, low, high : float or ndarray
        ``k1/n1 - k2/n2`` and its interval, as fractions (in [-1, 1]). NaN where either
        denominator is 0.

    Notes
    -----
    Newcombe (1998b) method 10: with Wilson limits :math:`(l_i, u_i)` for each proportion,
    :math:`\\delta = \\sqrt{(p_1-l_1)^2 + (u_2-p_2)^2}`,
    :math:`\\varepsilon = \\sqrt{(u_1-p_1)^2 + (p_2-l_2)^2}`, interval
    :math:`(p_1 - p_2 - \\delta, p_1 - p_2 + \\varepsilon)`.

    References
    ----------
    Newcombe RG (1998). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. Stat Med 17:873-890.

    Examples
    --------
    >>> d, low, high = newcombe_difference(56, 70, 48, 80)
    >>> round(d, 4), round(low, 4), round(high, 4)
    (0.2, 0.0524, 0.3339)
    """
    level = _check_level(level)
    k1, n1, s1 = _counts(k1, n1, "k1", "n1")
    k2, n2, s2 = _counts(k2, n2, "k2", "n2")
    z = _z(level)
    l1, u1 = _wilson(k1, n1, z)
    l2, u2 = _wilson(k2, n2, z)
    p1 = np.divide(k1, n1, out=np.full(np.shape(k1), np.nan), where=n1 > 0)
    p2 = np.divide(k2, n2, out=np.full(np.shape(k2), np.nan), where=n2 > 0)
    diff = p1 - p2
    low = diff - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = diff + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    scalar = s1 and s2
    return _out(diff, scalar), _out(low, scalar), _out(high, scalar)


def detectable_difference(n1, n2, p0, *, alpha: float = 0.05, power: float = 0.8):
    """The smallest difference from ``p0`` a two-group comparison of ``n1`` against ``n2``
    patients detects with the given power (two-sided, normal approximation, arcsine scale).

    Parameters
    ----------
    n1 : int or array-like of int
        Patients in the first group (the clinic).
    n2 : int or array-like of int
        Patients in the second group (the published study).
    p0 : float or array-like
        The second group's rate (fraction 0-1).
    alpha : float, default 0.05
        Two-sided significance level.
    power : float, default 0.8

    Returns
    -------
    below, above : float or ndarray
        The differences (fractions; ``below`` negative, ``above`` positive) of the first
        group's rate from ``p0`` detected with ``power``. NaN where ``n1`` or ``n2`` is 0 or
        missing, or where no rate in [0, 1] that far from ``p0`` exists.

    Notes
    -----
    Cohen's effect size ``h = 2 asin(sqrt(p1)) - 2 asin(sqrt(p0))`` detected with ``power``
    is ``h = (z_{1-alpha/2} + z_{power}) sqrt(1/n1 + 1/n2)`` (the far tail ignored), as
    ``statsmodels.stats.power.NormalIndPower().solve_power(nobs1=n1, ratio=n2/n1,
    alpha=alpha, power=power)`` and R's ``pwr::pwr.2p2n.test``; then
    ``p1 = sin(asin(sqrt(p0)) ± h/2)²``. An approximation to the power of Fisher's test.

    Examples
    --------
    >>> below, above = detectable_difference(931, 86, 0.8)
    >>> round(below, 3), round(above, 3)
    (-0.139, 0.109)
    """
    n1 = np.asarray(n1, dtype=float)
    n2 = np.asarray(n2, dtype=float)
    p0 = np.asarray(p0, dtype=float)
    scalar = n1.ndim == 0 and n2.ndim == 0 and p0.ndim == 0
    n1, n2, p0 = np.broadcast_arrays(np.atleast_1d(n1), np.atleast_1d(n2), np.atleast_1d(p0))
    ok = (n1 > 0) & (n2 > 0) & (p0 >= 0) & (p0 <= 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = (_sp.ndtri(1 - alpha / 2) + _sp.ndtri(power)) * np.sqrt(1 / n1 + 1 / n2)
        phi = np.arcsin(np.sqrt(np.clip(p0, 0, 1)))
        up, down = phi + h / 2, phi - h / 2
        above = np.where(ok & (up <= np.pi / 2), np.sin(up) ** 2 - p0, np.nan)
        below = np.where(ok & (down >= 0), np.sin(down) ** 2 - p0, np.nan)
    if scalar:
        return float(below[0]), float(above[0])
    return below, above


def homogeneity_test(k, n, groups) -> np.ndarray:
    """Pearson's chi-squared test that a rate is the same in every level of a group.

    Parameters
    ----------
    k, n : array-like of int
        Events and denominator per level.
    groups : array-like
        Which test each level belongs to (e.g. the stratum); one test per group.

    Returns
    -------
    ndarray of float
        The group's p-value on each of its rows: ``X² = sum (k_i - n_i p)² / (n_i p (1 - p))``
        with ``p = sum k / sum n``, on ``levels - 1`` df, as R's
        ``chisq.test(cbind(k, n - k), correct = FALSE)$p.value``. NaN for a group with fewer
        than two levels of ``n > 0`` or a pooled rate of 0 or 1 (R: NaN as well).

    Examples
    --------
    >>> homogeneity_test([10, 20], [50, 50], ["sex", "sex"]).round(4).tolist()
    [0.0291, 0.0291]
    """
    k, n, _ = _counts(k, n)
    k, n = np.atleast_1d(k), np.atleast_1d(n)
    g = pd.factorize(pd.Series(np.asarray(groups, dtype=object)), use_na_sentinel=False)[0]
    used = n > 0
    gk = np.bincount(g, weights=np.where(used, k, 0))
    gn = np.bincount(g, weights=np.where(used, n, 0))
    levels = np.bincount(g, weights=used.astype(float))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = gk / gn
        pi = p[g]
        term = np.where(used, (k - n * pi) ** 2 / (n * pi * (1 - pi)), 0.0)
        x2 = np.bincount(g, weights=term)
        df = levels - 1
        pv = np.where((df >= 1) & (p > 0) & (p < 1), _sp.chdtrc(np.maximum(df, 1), x2), np.nan)
    return pv[g]


def holm(p, groups=None) -> np.ndarray:
    """Holm's step-down adjusted p-values, within each group.

    Parameters
    ----------
    p : array-like of float
        p-values; NaN ones are left NaN and not counted in their group's family.
    groups : array-like, optional
        A family label per p-value (e.g. the family and outcome of a strata row); p-values
        are adjusted within each family. Default: one family.

    Returns
    -------
    ndarray of float
        ``min(1, max_{j <= i} (m - j + 1) p_(j))`` for the i-th smallest of the family's
        ``m`` p-values: the same as R's ``p.adjust(p, method = "holm")`` and
        ``statsmodels.stats.multitest.multipletests(p, method="holm")[1]`` (not imported
        here: it costs ~2 s of every command).

    Examples
    --------
    >>> holm([0.01, 0.04, 0.03]).round(4).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    g = np.zeros(p.shape, dtype=np.int64) if groups is None else pd.factorize(
        pd.Series(np.asarray(groups, dtype=object)), use_na_sentinel=False)[0]
    keep = ~np.isnan(p)
    idx = np.flatnonzero(keep)
    if idx.size == 0:
        return out
    gi, pi = g[idx], p[idx]
    order = np.lexsort((pi, gi))                       # by family, then p ascending
    gs, ps = gi[order], pi[order]
    start = np.r_[0, np.flatnonzero(np.diff(gs)) + 1]  # first position of every family
    size = np.diff(np.r_[start, gs.size])
    first = np.repeat(start, size)
    m = np.repeat(size, size)
    scaled = (m - (np.arange(gs.size) - first)) * ps
    # running maximum within each family: offset every family above the previous ones
    offset = np.repeat(np.arange(start.size) * 2.0, size)   # scaled <= m p: clip first
    run = np.maximum.accumulate(np.minimum(scaled, 1.0) + offset) - offset
    adj = np.empty_like(run)
    adj[order] = np.minimum(run, 1.0)
    out[idx] = adj
    return out


# --------------------------------------------------------------------------------------------
# means
# --------------------------------------------------------------------------------------------
def mean_ci(x, *, level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean with its t-based confidence interval.

    Parameters
    ----------
    x : array-like of float
        Values (e.g. change in hairs/cm²); NaN values are left out.
    level : float, default 0.95
        Confidence level.

    Returns
    -------
    mean, low, high : float
        In the unit of ``x``. With one value the mean is that value and the limits are NaN;
        with none, all three are NaN (no warning).
    n : int
        Number of non-missing values used.

    Notes
    -----
    :math:`\\bar x \\pm t_{n-1, 1-a/2}\\, s/\\sqrt n`, as R ``t.test(x)$conf.int``.

    Examples
    --------
    >>> [round(v, 4) for v in mean_ci([1.0, 2.0, 3.0, 4.0])]
    [2.5, 0.4457, 4.5543, 4]
    """
    level = _check_level(level)
    arr = _as_float(x, "x").ravel()
    arr = arr[~np.isnan(arr)]
    n = int(arr.size)
    if n == 0:
        return np.nan, np.nan, np.nan, 0
    mean = float(arr.mean())
    if n < 2:
        return mean, np.nan, np.nan, n
    half = float(_sp.stdtrit(n - 1, 0.5 + level / 2) * arr.std(ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half, n


# --------------------------------------------------------------------------------------------
# funnel plot and p-chart
# --------------------------------------------------------------------------------------------
def _binomial_lower_limit(q: float, n: np.ndarray, p0: np.ndarray) -> np.ndarray:
    """Spiegelhalter's interpolated exact binomial lower limit at tail probability q."""
    ns = np.where(n > 0, n, 1.0)
    r = _binom_ppf(q, ns, p0)
    f_r = _binom_cdf(r, ns, p0)
    step = f_r - _binom_cdf(r - 1, ns, p0)
    alpha = np.divide(f_r - q, step, out=np.zeros_like(step), where=step > 0)
    limit = np.clip((r - alpha) / ns, 0.0, 1.0)
    return np.where(n > 0, limit, np.nan)


def funnel_limits(n, p0, *, levels: Sequence[float] = (0.95, 0.998)) -> pd.DataFrame:
    """Exact binomial control limits of a funnel plot, as proportions.

    Parameters
    ----------
    n : int or array-like of int
        Denominators (e.g. each practitioner's assessed patients, or a grid for the curve).
    p0 : float or array-like of float
        Target rate (the clinic's overall rate or a benchmark), a fraction in [0, 1];
        broadcast against ``n``.
    levels : sequence of float, default (0.95, 0.998)
        Two-sided coverage of each pair of limits.

    Returns
    -------
    DataFrame
        One row per (n, level), ordered by level then input order: ``n`` (int64), ``p0``,
        ``level``, ``low``, ``high`` (fractions in [0, 1]; NaN where ``n == 0``).

    Notes
    -----
    Lower limit: with :math:`q = (1-level)/2`, let :math:`r` be the binomial
    :math:`q`-quantile (smallest :math:`r` with :math:`F(r) \\ge q`, R ``qbinom(q, n, p0)``)
    and :math:`\\alpha = (F(r) - q) / (F(r) - F(r-1))`; the limit is
    :math:`(r - \\alpha)/n`, clipped to [0, 1]: the interpolation between discrete
    quantiles of Spiegelhalter (2005, Appendix A.1.1), which gives smooth funnels.
    Upper limit: the same formula applied to the non-events (:math:`n - y` with rate
    :math:`1 - p_0`) and reflected, :math:`1 - \\text{lower}(n, 1 - p_0)`. Applying the
    formula at :math:`1 - q` instead would put the upper limit one event too low (for
    n = 10, p0 = 0.5 it would flag 8/10, whose exact tail probability is 0.055). With this
    choice a point :math:`y/n` lies strictly below ``low`` exactly when
    :math:`P(Y \\le y) < q`, and strictly above ``high`` exactly when
    :math:`P(Y \\ge y) < q`: the funnel flags agree with the one-sided exact binomial tests,
    and the funnel is symmetric about 0.5 when :math:`p_0 = 0.5`.

    References
    ----------
    Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance.
    Stat Med 24:1185-1202.

    Examples
    --------
    >>> funnel_limits(100, 0.5, levels=(0.95,))[["low", "high"]].round(4)
          low    high
    0  0.3968  0.6032
    """
    n_arr = _as_float(n, "n")
    _counts(np.zeros_like(n_arr), n_arr, "0", "n")
    p_arr = _as_float(p0, "p0")
    if (~np.isfinite(p_arr) | (p_arr < 0) | (p_arr > 1)).any():
        raise AnalysisError(f"p0: expected a rate between 0 and 1, received {p0!r}.")
    n_arr, p_arr = (np.atleast_1d(a).ravel() for a in np.broadcast_arrays(n_arr, p_arr))
    frames = []
    for level in levels:
        level = _check_level(level)
        frames.append(pd.DataFrame({
            "n": n_arr.astype("int64"), "p0": p_arr, "level": level,
            "low": _binomial_lower_limit((1 - level) / 2, n_arr, p_arr),
            "high": 1.0 - _binomial_lower_limit((1 - level) / 2, n_arr, 1.0 - p_arr),
        }))
    if not frames:
        raise AnalysisError("levels: expected at least one confidence level, e.g. (0.95, 0.998).")
    return pd.concat(frames, ignore_index=True)


def funnel_columns(levels: Sequence[float]) -> list[str]:
    """Names of the limit columns of a funnel frame: ``(0.95, 0.998)`` ->
    ``["low95", "high95", "low998", "high998"]`` (levels in increasing order)."""
    names = [f"{lv:.10g}".split(".")[-1] for lv in sorted(float(v) for v in levels)]
    return [f"{side}{name}" for name in names for side in ("low", "high")]


def funnel_flags(k, n, p0: float, *, levels: Sequence[float] = (0.95, 0.998)) -> pd.DataFrame:
    """Each unit's rate against a reference rate, with its exact funnel limits and flag.

    Parameters
    ----------
    k, n : array-like of int
        Events and denominators per unit (practitioner, clinic); ``n > 0``.
    p0 : float
        The reference rate (fraction 0-1).
    levels : sequence of float, default (0.95, 0.998)
        Funnel levels.

    Returns
    -------
    DataFrame
        One row per unit: ``rate`` (k/n), ``p0``, then the :func:`funnel_columns` limits at
        that unit's ``n`` (:func:`funnel_limits`), and ``flag``: ``"within"``, or ``"above L%"``
        / ``"below L%"`` for the widest level whose limit the rate crosses.
    """
    k = np.atleast_1d(np.asarray(k, dtype=float))
    n = np.atleast_1d(np.asarray(n, dtype=float))
    levels = sorted(float(v) for v in levels)
    rate = k / np.where(n > 0, n, 1)
    out = pd.DataFrame({"rate": rate, "p0": np.full(len(rate), float(p0))})
    lim = funnel_limits(n, float(p0), levels=levels) if len(n) else None
    flag = np.full(len(n), "within", dtype=object)
    names = funnel_columns(levels)
    for i, lv in enumerate(levels):  # widest level last, so it wins
        if lim is None:
            low = high = np.zeros(0)
        else:
            part = lim[np.isclose(lim["level"].to_numpy(float), lv)]
            low, high = part["low"].to_numpy(float), part["high"].to_numpy(float)
        out[names[2 * i]], out[names[2 * i + 1]] = low, high
        pct = f"{lv * 100:.10g}%"
        flag = np.where(rate > high, f"above {pct}", np.where(rate < low, f"below {pct}", flag))
    out["flag"] = flag
    return out


#: tail probability beyond 3 and 2 sigma of a normal distribution (one side): the coverage the
#: exact binomial limits of :func:`p_chart` share with Shewhart's 3-sigma and 2-sigma lines
_TAIL3 = 0.5 * float(_sp.erfc(3 / np.sqrt(2)))   # 0.0013499
_TAIL2 = 0.5 * float(_sp.erfc(2 / np.sqrt(2)))   # 0.0227501

#: ``limits`` accepted by :func:`p_chart`
P_CHART_LIMITS = ("auto", "exact", "laney", "normal")

#: smallest denominator of every plotted point for ``limits="auto"`` to consider Laney p'
LANEY_MIN_N = 1000

#: d2 of a moving range of two: mean |x_i - x_{i-1}| = 1.128 sigma
_D2 = 1.128

#: p-chart columns, in order
P_CHART_COLUMNS = ("k", "n", "rate", "centre", "lcl", "ucl", "lwl", "uwl", "limits",
                   "plotted", "high_possible", "low_possible", "beyond_limits", "run_flag",
                   "trend_flag", "two_in_three_flag", "special_cause", "point_type")

#: improvement direction -> the sign of a change for the better (NHSRplotthedots)
_DIRECTIONS = {"increase": 1, "decrease": -1, "neutral": 0}


def _part_of_runs(values: np.ndarray, length: int) -> np.ndarray:
    """True for every element of a run of at least ``length`` equal non-zero values.

    Equivalent to NHSRplotthedots' ``ptd_part_of_seven_trend(ptd_seven_point_one_side_mean(v))``
    for ``length = 7``: a zero (a point on the mean) ends a run and belongs to none.
    """
    if values.size == 0:
        return np.zeros(0, dtype=bool)
    starts = np.r_[True, values[1:] != values[:-1]]
    run_id = np.cumsum(starts) - 1
    return (values != 0) & (np.bincount(run_id)[run_id] >= int(length))


def _trend_points(y: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Points in a run of at least ``length`` strictly increasing or decreasing values, and
    the direction (+1/-1) NHSRplotthedots gives each (``ptd_special_cause_type``: the
    difference to the next point when that point is in the trend too, else to the previous).

    An equal neighbour (difference 0) breaks a trend, as in ``ptd_seven_point_trend``
    (its test: ``c(1:3, 3:6)`` is no trend).
    """
    m = y.size
    if m < 2:
        return np.zeros(m, dtype=bool), np.zeros(m)
    d = np.sign(np.diff(y))
    in_run = _part_of_runs(d, length - 1)          # diffs of a long enough monotone run
    part = np.zeros(m, dtype=bool)
    part[:-1] |= in_run
    part[1:] |= in_run
    right = np.r_[d, d[-1]]
    left = np.r_[0.0, d]
    nxt = np.r_[part[1:], False]
    direction = np.asarray(np.where(part & nxt, right, left), dtype=float)
    return part, direction


def _two_in_three(close: np.ndarray, side: np.ndarray) -> np.ndarray:
    """NHSRplotthedots' ``ptd_two_in_three``: True where the point lies in a window of three
    consecutive points, all on the same side of the mean, of which two or more are close to
    the limits (beyond 2 sigma, not beyond 3)."""
    m = close.size
    if m == 0:
        return np.zeros(0, dtype=bool)
    vp = np.r_[0, 0, close.astype(float), 0, 0]
    sp = np.r_[0, 0, side.astype(float), 0, 0]
    hit = np.zeros(m, dtype=bool)
    for start in range(3):  # the three windows a point can sit in (first, middle, last)
        a = vp[start:start + m] + vp[start + 1:start + 1 + m] + vp[start + 2:start + 2 + m]
        b = sp[start:start + m] + sp[start + 1:start + 1 + m] + sp[start + 2:start + 2 + m]
        hit |= (a >= 2) & (np.abs(b) == 3)
    return hit


def spc_rules(y, centre, lcl, ucl, lwl, uwl, *, improvement: str = "increase",
              shift: int = 7, trend: int = 7) -> pd.DataFrame:
    """Making Data Count special-cause rules, as NHSRplotthedots applies them.

    Parameters
    ----------
    y, centre, lcl, ucl, lwl, uwl : array-like of float
        The plotted points in time order, the centre line, the 3-sigma (control) and 2-sigma
        (warning) limits at each point. Only plotted points belong here: a gap is not a point.
    improvement : {"increase", "decrease", "neutral"}, default "increase"
        Which direction is better (NHSRplotthedots ``improvement_direction``).
    shift, trend : int, default 7
        Points on one side of the centre, and points steadily increasing or decreasing, that
        make a signal (NHSRplotthedots: 7 and 7).

    Returns
    -------
    DataFrame
        ``beyond_limits``, ``run_flag`` (part of a shift), ``trend_flag``,
        ``two_in_three_flag`` (bool), ``special_cause`` (NHSRplotthedots'
        ``special_cause_type``: ``"Above UCL"``, ``"Below LCL"``, ``"7 Point Trend
        (Increasing)"``, ``"2 in 3 Above CL"``, ``"7 Points Below CL"``, ...,
        ``"Common Cause"``; first matching rule in that order) and ``point_type``
        (``"special_cause_improvement"``, ``"special_cause_concern"``,
        ``"special_cause_neutral_high"``/``"_low"``, ``"common_cause"``).

    Notes
    -----
    Semantics of NHSRplotthedots (R/ptd_calculate_point_type.R, R/ptd_spc_standard.R,
    commit 050b07d): a point exactly on the centre line has side 0 and ends a shift; equal
    consecutive values end a trend; "close to the limits" means beyond the 2-sigma line but
    not beyond the 3-sigma one, and two-in-three needs all three points on the same side of
    the centre; a point beyond the limits is labelled by its side of the centre.
    """
    if improvement not in _DIRECTIONS:
        raise AnalysisError(f"improvement: expected one of {', '.join(_DIRECTIONS)}, "
                            f"received {improvement!r}.")
    for name, length in (("shift", shift), ("trend", trend)):
        if int(length) < 2:
            raise AnalysisError(f"{name}: expected a whole number >= 2, received {length!r}.")
    y, c, lcl, ucl, lwl, uwl = (np.atleast_1d(np.asarray(a, dtype=float)).ravel()
                                for a in np.broadcast_arrays(y, centre, lcl, ucl, lwl, uwl))
    with np.errstate(invalid="ignore"):
        side = np.nan_to_num(np.sign(y - c))
        outside = (y > ucl) | (y < lcl)
        close = ~outside & ((y < lwl) | (y > uwl))
    run = _part_of_runs(side, shift)
    trend_part, trend_dir = _trend_points(y, trend)
    two = _two_in_three(close, side) & close
    above = np.where(side > 0, "Above", "Below")
    cause = np.select(
        [outside, trend_part, two, run],
        [np.where(side == 1, "Above UCL", "Below LCL"),
         np.char.add(np.char.add(f"{trend} Point Trend (",
                                 np.where(trend_dir == 1, "In", "De")), "creasing)"),
         np.char.add(np.char.add("2 in 3 ", above), " CL"),
         np.char.add(np.char.add(f"{shift} Points ", above), " CL")],
        "Common Cause").astype(object)
    # the side a cause names (a few dozen points: plain substring tests, not pandas' regex)
    up = np.array(["Above" in t or "Increasing" in t for t in cause], dtype=bool)
    down = np.array(["Below" in t or "Decreasing" in t for t in cause], dtype=bool)
    v = np.where(up, 1, np.where(down, -1, 0))
    direction = _DIRECTIONS[improvement]
    if direction == 0:
        point = np.select([v > 0, v < 0], ["special_cause_neutral_high",
                                           "special_cause_neutral_low"], "common_cause")
    else:
        point = np.select([v * direction > 0, v * direction < 0],
                          ["special_cause_improvement", "special_cause_concern"],
                          "common_cause")
    return pd.DataFrame({"beyond_limits": outside, "run_flag": run, "trend_flag": trend_part,
                         "two_in_three_flag": two, "special_cause": cause,
                         "point_type": point.astype(object)})


def p_chart(k, n, *, centre: float | None = None, limits: str = "auto", min_n: int = 1,
            improvement: str = "increase", shift: int = 7, trend: int = 7) -> pd.DataFrame:
    """p-chart (proportions over time) read by the NHS "Making Data Count" rules.

    Parameters
    ----------
    k, n : array-like of int
        Events and denominator of each period, in time order (a period may have ``n = 0``).
    centre : float, optional
        Centre line (a fraction). Default: the pooled rate ``sum(k) / sum(n)`` over every
        period (plotted or not).
    limits : {"auto", "exact", "laney", "normal"}, default "auto"
        ``"exact"``: exact binomial limits at the tail probabilities of 3 and 2 sigma
        (0.135% and 2.275% each side), Spiegelhalter's interpolation
        (:func:`funnel_limits`); valid at any n and rate. ``"laney"``: Laney's p' chart,
        :math:`c \\pm 3\\sigma_i\\sigma_z` with :math:`\\sigma_z` = mean moving range of the
        z-scores / 1.128, for large denominators whose periods vary more than binomially.
        ``"normal"``: :math:`c \\pm 3\\sqrt{c(1-c)/n_i}` (the textbook chart; poor at small n
        or a rate near 0 or 1). ``"auto"``: Laney when every plotted period has
        ``n >= LANEY_MIN_N`` (1000) and :math:`\\sigma_z > 1`, exact otherwise.
    min_n : int, default 1
        Periods with fewer than this many (including 0) are not plotted: no limits, no flag,
        and they neither extend nor break a run (a gap is not an observation).
    improvement : {"increase", "decrease", "neutral"}, default "increase"
        Which direction is better: signals are labelled improvement or concern.
    shift, trend : int, default 7
        Lengths of the shift and trend rules (Making Data Count / NHSRplotthedots: 7).

    Returns
    -------
    DataFrame
        One row per period, columns :data:`P_CHART_COLUMNS`: ``k``, ``n`` (int64), ``rate``
        (k/n; NaN when ``n == 0``), ``centre``, ``lcl``/``ucl`` (3-sigma control limits),
        ``lwl``/``uwl`` (2-sigma lines), NaN where not plotted; the limits are kept within
        [0, 1], and ``high_possible``/``low_possible`` say whether any count at this n could
        fall beyond them (False: e.g. at n = 30 and a centre of 84%, even 30 of 30 is within
        the upper limit, so no improvement can signal there); ``limits`` (the method used),
        ``plotted`` (``n >= max(min_n, 1)``), then :func:`spc_rules`' columns
        (``beyond_limits``, ``run_flag``, ``trend_flag``, ``two_in_three_flag``,
        ``special_cause``, ``point_type``; ``"not plotted"`` for periods not plotted).

    Notes
    -----
    Rules (:func:`spc_rules`): a point beyond a control limit; ``shift`` or more consecutive
    points on one side of the centre (a point on the centre line ends the run); ``trend``
    or more consecutive points each higher (or lower) than the one before; two of three
    consecutive points beyond the same 2-sigma line. Exact limits: a point lies strictly
    above ``ucl`` exactly when :math:`P(Y \\ge k) < 0.00135` under the centre rate.

    References
    ----------
    NHS England, Making Data Count (2019); NHSRplotthedots (nhs-r-community, R package).
    Laney DB (2002). Improved control charts for attributes. Quality Engineering 14:531-537.
    Spiegelhalter DJ (2005). Stat Med 24:1185-1202.

    Examples
    --------
    >>> p_chart([5, 6, 25], [50, 50, 50])[["rate", "special_cause", "point_type"]]
       rate special_cause                 point_type
    0  0.10  Common Cause               common_cause
    1  0.12  Common Cause               common_cause
    2  0.50     Above UCL  special_cause_improvement
    """
    ka, na, _ = _counts(k, n)
    ka, na = np.atleast_1d(ka).ravel(), np.atleast_1d(na).ravel()
    if limits not in P_CHART_LIMITS:
        raise AnalysisError(f"limits: expected one of {', '.join(P_CHART_LIMITS)}, "
                            f"received {limits!r}.")
    if int(min_n) != min_n or min_n < 0:
        raise AnalysisError(f"min_n: expected a whole number >= 0, received {min_n!r}.")
    if centre is None:
        total = na.sum()
        c = ka.sum() / total if total > 0 else np.nan
    else:
        c = float(centre)
        if not 0 <= c <= 1:
            raise AnalysisError(f"centre: expected a rate between 0 and 1, received {centre!r}.")
    has = na > 0
    plotted = has & (na >= int(min_n)) & np.isfinite(c)
    ns = np.where(has, na, 1.0)
    rate = np.where(has, ka / ns, np.nan)
    m = int(plotted.sum())
    nan = np.full(ka.shape, np.nan)
    lcl, ucl, lwl, uwl = nan.copy(), nan.copy(), nan.copy(), nan.copy()
    high_ok = np.zeros(ka.shape, dtype=bool)
    low_ok = np.zeros(ka.shape, dtype=bool)
    method = "exact" if limits == "auto" else limits
    if m:
        npl, ppl = na[plotted].astype(float), rate[plotted]
        sigma = np.sqrt(c * (1 - c) / npl)
        sigma_z = 1.0
        if limits in ("auto", "laney") and m >= 2 and c * (1 - c) > 0:
            z = (ppl - c) / sigma
            sigma_z = float(np.mean(np.abs(np.diff(z))) / _D2)
            if limits == "auto" and (npl.min() >= LANEY_MIN_N and sigma_z > 1):
                method = "laney"
        if method in ("laney", "normal"):
            s = sigma * (sigma_z if method == "laney" else 1.0)
            lo3, hi3, lo2, hi2 = c - 3 * s, c + 3 * s, c - 2 * s, c + 2 * s
            high_ok[plotted], low_ok[plotted] = hi3 < 1, lo3 > 0
            lo3, hi3, lo2, hi2 = (np.clip(v, 0.0, 1.0) for v in (lo3, hi3, lo2, hi2))
        elif c * (1 - c) == 0:  # a centre of 0 or 1: every count but that one is beyond
            lo3 = hi3 = lo2 = hi2 = np.full(m, c)
            high_ok[plotted], low_ok[plotted] = c == 0, c == 1
        else:
            pc = np.full(m, c)
            lo3 = _binomial_lower_limit(_TAIL3, npl, pc)
            hi3 = 1.0 - _binomial_lower_limit(_TAIL3, npl, 1.0 - pc)
            lo2 = _binomial_lower_limit(_TAIL2, npl, pc)
            hi2 = 1.0 - _binomial_lower_limit(_TAIL2, npl, 1.0 - pc)
            # the most extreme count, k = n (k = 0), is beyond the limit iff its exact tail
            # probability is below the 3-sigma tail
            with np.errstate(divide="ignore"):
                high_ok[plotted] = npl * np.log(c) < np.log(_TAIL3)
                low_ok[plotted] = npl * np.log1p(-c) < np.log(_TAIL3)
        lcl[plotted], ucl[plotted], lwl[plotted], uwl[plotted] = lo3, hi3, lo2, hi2
    rules = spc_rules(rate[plotted], c, lcl[plotted], ucl[plotted], lwl[plotted],
                      uwl[plotted], improvement=improvement, shift=shift, trend=trend)
    cols: dict[str, Any] = {
        "k": ka.astype("int64"), "n": na.astype("int64"), "rate": rate,
        "centre": np.full(ka.shape, c), "lcl": lcl, "ucl": ucl, "lwl": lwl, "uwl": uwl,
        "limits": pd.Series([method] * len(ka), dtype=object), "plotted": plotted,
        "high_possible": high_ok, "low_possible": low_ok,
    }
    for col in ("beyond_limits", "run_flag", "trend_flag", "two_in_three_flag"):
        vals = np.zeros(len(ka), dtype=bool)
        vals[plotted] = rules[col].to_numpy(bool)
        cols[col] = vals
    for col in ("special_cause", "point_type"):
        vals = np.full(len(ka), "not plotted", dtype=object)
        vals[plotted] = rules[col].to_numpy(object)
        cols[col] = pd.Series(vals, dtype=object)
    return pd.DataFrame({col: cols[col] for col in P_CHART_COLUMNS})   # one frame, built once


# --------------------------------------------------------------------------------------------
# Kaplan-Meier
# --------------------------------------------------------------------------------------------
def km_cumulative_incidence(time, event, horizon: float, *,
                            level: float = 0.95) -> tuple[float, float, float, int]:
    """Kaplan-Meier cumulative incidence 1 - S(horizon), with a log-log interval.

    Parameters
    ----------
    time : array-like of float
        Days from the start of follow-up to the event, or to the last contact (censored);
        whole days are counted in one pass (``bincount``), other values are sorted.
    event : array-like of bool
        True where ``time`` is an event time.
    horizon : float
        The time (days) at which the cumulative incidence is read.
    level : float, default 0.95
        Interval coverage.

    Returns
    -------
    (cum_incidence, ci_low, ci_high, at_risk)
        Fractions; ``at_risk`` = subjects with ``time >= horizon``. The interval is R
        ``survfit(conf.type = "log-log")``'s for S, reflected (Greenwood variance); NaN when
        no event occurred by the horizon (or every subject had one), and everything NaN
        without subjects.

    Notes
    -----
    :math:`\\hat S(t) = \\prod_{t_j \\le t} (1 - d_j / n_j)`, events before censorings at
    tied times (as R ``survival`` and statsmodels ``SurvfuncRight``); Greenwood:
    :math:`\\mathrm{var}\\,\\log \\hat S = \\sum d_j / (n_j (n_j - d_j))`; log-log limits
    :math:`\\hat S^{\\exp(\\pm z\\,se/\\log \\hat S)}`.

    Examples
    --------
    >>> [round(v, 4) for v in km_cumulative_incidence([2, 3, 3, 5, 8], [1, 1, 0, 1, 0], 4)[:3]]
    [0.4, 0.1182, 0.8743]
    """
    level = _check_level(level)
    t = np.atleast_1d(np.asarray(time, dtype=float)).ravel()
    e = np.atleast_1d(np.asarray(event, dtype=bool)).ravel()
    if t.size != e.size:
        raise AnalysisError(f"time and event: expected equal lengths, received {t.size} and "
                            f"{e.size}.")
    if np.isnan(t).any() or (t < 0).any():
        raise AnalysisError("time: expected non-negative numbers of days (no missing value); "
                            "compute follow-up from the first session.")
    if t.size == 0:
        return np.nan, np.nan, np.nan, 0
    at_risk = int((t >= horizon).sum())
    if np.array_equal(t, np.floor(t)) and t.max() < 1e7:
        idx = t.astype(np.int64)
        exits = np.bincount(idx)
        deaths = np.bincount(idx, weights=e, minlength=exits.size)
        times = np.arange(exits.size, dtype=float)
    else:
        times, idx = np.unique(t, return_inverse=True)
        exits = np.bincount(idx)
        deaths = np.bincount(idx, weights=e, minlength=exits.size)
    n_risk = np.cumsum(exits[::-1])[::-1].astype(float)
    use = (times <= horizon) & (deaths > 0)
    d, nr = deaths[use], n_risk[use]
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = float(np.prod(1 - d / nr))
        var_log = float(np.sum(d / (nr * (nr - d))))
    cum = 1 - surv
    if not d.size or surv <= 0 or not np.isfinite(var_log):
        return cum, np.nan, np.nan, at_risk
    z = _z(level)
    log_s = np.log(surv)
    shift = z * np.sqrt(var_log) / log_s
    lower_s = np.exp(-np.exp(np.log(-log_s) - shift))
    upper_s = np.exp(-np.exp(np.log(-log_s) + shift))
    return cum, 1 - upper_s, 1 - lower_s, at_risk
