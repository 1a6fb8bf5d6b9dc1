"""The one disclosure-control pass: what may leave the package in shareable output.

Every frame that can appear in shareable output (``results.json``, report tables, figure
labels, pooled output) is declared in :data:`SCHEMA`: its key columns (labels), its counts (of
patients, events, sessions) and its derived columns (rates, intervals, tests, limits, weights,
coefficients), each derived column with a role. :func:`control_frame` applies the declaration
by allow-list: a column that is not declared raises :class:`DisclosureError` (nothing leaves by
omission), a column declared ``internal`` is dropped, and

- every count is published under the policy (:data:`POLICY`): 0 stays 0, 1 to
  ``min_cell - 1`` becomes ``"<5"``, every other count is rounded to a multiple of 5 (keyed
  random rounding, :func:`publish_counts`);
- derived columns are recomputed from the *published* counts (a rate from rounded k / rounded
  n, an interval and a test from those, funnel and p-chart limits from the rounded n, a pooled
  rate from rounded totals), or withheld (``None``) when no recomputation is declared;
  on a row where any count is suppressed every derived column is withheld;
- practitioner ids become keyed codes (:class:`PractitionerCoder`).

:func:`check_shareable_definitions` refuses settings that weaken the policy. No other module
suppresses: they take frames from here (``ReportContext.frame``, ``Analysis.to_dict``,
:func:`outcomes.pooling.pool_results`). See docs/disclosure-control.md for the policy and why.
"""
from __future__ import annotations

import copy
import hashlib
import hmac
import os
import re
import secrets
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from outcomes.errors import DefinitionsError, OutcomesError, OutcomesWarning

__all__ = ["POLICY", "MIN_CELL_FLOOR", "ROUNDING_BASE", "KEY_ENV", "ROLES", "DisclosureError",
           "FrameSpec", "SCHEMA", "RECOMPUTE", "PractitionerCoder", "KeepCodes", "clinic_key",
           "data_key", "publish_counts", "published_numbers", "is_small_count",
           "suppressed_label", "control_frame", "control_cohort_counts", "control_note",
           "check_declared", "check_shareable_definitions", "policy_text", "generic_rule",
           "quarantine_frame", "shareable_load_notes", "table_one_counts", "histogram_counts"]

#: the policy's name, written in results.json and on every shareable page
POLICY = "outcomes-sdc-1"
#: smallest ``min_cell`` shareable output accepts
MIN_CELL_FLOOR = 5
#: every published count (other than 0 and the suppressed ones) is a multiple of this
ROUNDING_BASE = 5
#: environment variable holding the clinic key for practitioner codes
KEY_ENV = "OUTCOMES_CLINIC_KEY"

#: roles a derived column may have
ROLES = frozenset({"rate", "interval", "test", "limit", "flag", "summary", "extreme",
                   "coefficient", "weight", "estimate", "published"})


class DisclosureError(OutcomesError):
    """A frame or column that is not declared publishable, or a setting shareable output
    refuses."""


@dataclass(frozen=True)
class FrameSpec:
    """How one frame may leave the package.

    Attributes
    ----------
    keys : tuple of str
        Label columns published as they are (never a name, an id or a patient's date).
    counts : tuple of str
        Whole counts of patients, events or sessions: published under :data:`POLICY`.
    derived : dict str -> role
        Columns computed from the data (roles in :data:`ROLES`). ``published``: a figure from
        the literature copied as is. Others are filled by ``recompute`` from the published
        counts, or withheld.
    recompute : str or None
        Name in :data:`RECOMPUTE`: ``fn(published_frame, definitions) -> frame`` filling derived
        columns from the published counts. Derived columns it does not fill are withheld.
    pseudonyms : tuple of str
        Key columns holding a practitioner id (replaced by a keyed code).
    pseudonym_rows : tuple of (column, where_column, where_value)
        A key column holding a practitioner id only on some rows (``strata.level`` where
        ``stratum == "practitioner"``).
    internal : tuple of str
        Known columns that never leave in shareable output (dropped).
    dynamic : callable or None
        ``fn(definitions) -> {column: role}``: derived columns named after a setting (the
        funnel's ``low95``...: declared by role ``limit``, not by name).
    """

    keys: tuple[str, ...] = ()
    counts: tuple[str, ...] = ()
    derived: Mapping[str, str] = field(default_factory=dict)
    recompute: str | None = None
    pseudonyms: tuple[str, ...] = ()
    pseudonym_rows: tuple[tuple[str, str, str], ...] = ()
    internal: tuple[str, ...] = ()
    dynamic: Callable[[Any], Mapping[str, str]] | None = None

    def roles(self, definitions=None) -> dict[str, str]:
        """Derived column -> role, the dynamic ones included."""
        out = dict(self.derived)
        if self.dynamic is not None:
            out.update(self.dynamic(definitions))
        return out


def _funnel_limit_roles(definitions) -> dict[str, str]:
    from outcomes import stats

    levels = getattr(definitions, "funnel_levels", None)
    if levels is None and isinstance(definitions, Mapping):
        levels = definitions.get("funnel_levels")
    levels = tuple(levels or (0.95, 0.998))
    return {c: "limit" for c in stats.funnel_columns(levels)}


_PROP = {"rate": "rate", "ci_low": "interval", "ci_high": "interval"}
_BENCH = {"benchmark_id": "published", "benchmark_rate": "published",
          "benchmark_k": "published", "benchmark_n": "published", "p_value": "test",
          "fisher_p_value": "test", "diff": "estimate", "diff_ci_low": "interval",
          "diff_ci_high": "interval", "mdd_below": "estimate", "mdd_above": "estimate"}

#: frame name -> declaration. Add yours here (see /work/coord/disclosure.md and
#: docs/disclosure-control.md); tests fail on an undeclared frame or column.
SCHEMA: dict[str, FrameSpec] = {
    "cohort_counts": FrameSpec(counts=("patients", "treated", "due_12m",
                                       "assessed_photographic", "assessed_density")),
    "flow": FrameSpec(keys=("step", "note"), counts=("n",)),
    "response": FrameSpec(keys=("family", "group", "outcome", "method"), counts=("k", "n"),
                          derived=_PROP | _BENCH, recompute="response"),
    "density_sensitivity": FrameSpec(keys=("threshold",), counts=("k", "n"), derived=_PROP,
                                     recompute="proportion"),
    "photographic_sensitivity": FrameSpec(keys=("threshold",), counts=("k", "n"),
                                          derived=_PROP, recompute="proportion"),
    "density_change": FrameSpec(keys=("measure",), counts=("n",),
                                derived={"mean": "summary", "ci_low": "summary",
                                         "ci_high": "summary"}, recompute="coarse_mean"),
    # issue 11 item 6 (ae-followup): the benchmark columns are computed from compared_k/
    # compared_n (the patients followed >= min_followup_days, = ae_followup k/n), not k/n
    "adverse_events": FrameSpec(keys=("term", "min_followup_days"),
                                counts=("k", "n", "events", "sessions", "compared_k",
                                        "compared_n", "excluded", "excluded_recent",
                                        "excluded_stopped"),
                                derived=_PROP | _BENCH | {"session_rate": "rate"},
                                recompute="adverse_events"),
    "ae_timing": FrameSpec(keys=("term", "session_number"), counts=("events",)),
    # issue 11 item 6 (spc-safety): incidence among the patients followed long enough; the
    # Kaplan-Meier columns rest on patient times, not on the published counts: withheld
    "ae_followup": FrameSpec(keys=("term", "min_followup_days", "km_days"),
                             counts=("k", "n", "treated", "excluded", "excluded_recent",
                                     "excluded_stopped", "events", "sessions", "km_at_risk",
                                     "km_events"),
                             derived=_PROP | {"per_100_sessions": "rate",
                                              "km_cum_incidence": "estimate",
                                              "km_ci_low": "interval",
                                              "km_ci_high": "interval"},
                             recompute="ae_followup"),
    "ae_duration": FrameSpec(keys=("term",), counts=("events",),
                             derived={"median_days": "summary", "q1_days": "summary",
                                      "q3_days": "summary", "min_days": "extreme",
                                      "max_days": "extreme"}, recompute="keep_summaries"),
    "protocol": FrameSpec(keys=("measure",), counts=("k", "n"), derived=_PROP,
                          recompute="proportion"),
    "screening": FrameSpec(keys=("deviation",), counts=("sessions", "patients")),
    "strata": FrameSpec(keys=("family", "outcome", "stratum", "level", "method"),
                        counts=("k", "n"), derived=_PROP | {"p_value": "test",
                                                            "p_value_holm": "test"},
                        recompute="strata",
                        pseudonym_rows=(("level", "stratum", "practitioner"),)),
    "funnel": FrameSpec(keys=("practitioner_id",), counts=("k", "n"),
                        derived={"rate": "rate", "p0": "rate", "flag": "flag",
                                 "p_value": "test", "p_value_holm": "test"},
                        recompute="funnel", pseudonyms=("practitioner_id",),
                        dynamic=_funnel_limit_roles),
    "quarterly": FrameSpec(keys=("family", "quarter", "limits"), counts=("k", "n"),
                           derived={"rate": "rate", "centre": "rate", "lcl": "limit",
                                    "ucl": "limit", "lwl": "limit", "uwl": "limit",
                                    "plotted": "flag", "high_possible": "flag",
                                    "low_possible": "flag", "beyond_limits": "flag",
                                    "run_flag": "flag", "trend_flag": "flag",
                                    "two_in_three_flag": "flag", "special_cause": "flag",
                                    "point_type": "flag"}, recompute="p_chart"),
    "model": FrameSpec(keys=("term",), counts=("patients",),
                       derived={"coef": "coefficient", "std_err": "coefficient",
                                "ci_low": "coefficient", "ci_high": "coefficient",
                                "p_value": "coefficient"}, recompute="keep_coefficients"),
    "load_counts": FrameSpec(keys=("table", "present"),
                             counts=("read", "accepted", "quarantined"), internal=("file",)),
    "quarantine_summary": FrameSpec(keys=("table", "column", "rule"), counts=("n",)),
    "table_one": FrameSpec(keys=("characteristic", "level"), counts=("n", "total"),
                           derived={"pct": "rate"}, recompute="table_one"),
    "density_histogram": FrameSpec(keys=("bin_low", "bin_high"), counts=("n",)),
    # what each figure could not assess (outcomes.completeness; issue 10): the share is
    # withheld in shareable output, the sentences then give the published counts only
    "not_recorded": FrameSpec(keys=("figure", "column", "unit", "absent", "first_screen"),
                              counts=("total", "not_recorded"), derived={"share": "rate"},
                              recompute="not_recorded"),
    # pooled output: the meta-analysis blocks (outcomes.pooling), built from the clinics'
    # PUBLISHED counts only (outcomes.pooling._published_meta)
    "meta_studies": FrameSpec(keys=("label", "family", "group", "outcome", "benchmark_id"),
                              counts=("k", "n"),
                              derived={"rate": "rate", "ci_low": "interval",
                                       "ci_high": "interval", "yi": "estimate",
                                       "vi": "estimate", "corrected": "flag",
                                       "weight_dl": "weight", "weight_pm": "weight",
                                       "derived": "published"},
                              recompute="from_published"),
    "meta_summary": FrameSpec(keys=("method", "family", "group", "outcome", "note",
                                    "k_studies", "q_df"),
                              derived={c: "estimate" for c in (
                                  "estimate", "ci_low", "ci_high", "logit_estimate",
                                  "logit_se", "tau2", "i2", "q", "q_p_value")},
                              recompute="from_published"),
    # the pooled output's list of clinics: no SHA-256 of a pooling file (of exact counts, it
    # would confirm a guess of another clinic's counts)
    "clinics": FrameSpec(keys=("label", "cutoff", "package_version"), internal=("sha256",)),
    "pooled_random_effects": FrameSpec(
        keys=("family", "group", "outcome", "re_method", "re_clinics"),
        derived={c: "estimate" for c in ("re_estimate", "re_ci_low", "re_ci_high", "re_tau2",
                                         "re_i2", "re_q_p_value", "re_heterogeneity",
                                         "re_p_value")},
        recompute="from_published"),
    # the quarterly audit (outcomes.audit; issue 12): period labels hold quarter boundaries and
    # the cut-off, never a patient's date; standards' texts come from the standards file
    "periods": FrameSpec(keys=("period", "first_quarter", "last_quarter", "label", "measure"),
                         counts=("k", "n"), derived=_PROP, recompute="proportion"),
    "audit_trend": FrameSpec(keys=("quarter", "label", "measure"), counts=("k", "n"),
                             derived=_PROP, recompute="proportion"),
    "audit_changes": FrameSpec(keys=("measure", "quarter", "previous_quarter"),
                               counts=("k", "n", "previous_k", "previous_n"),
                               derived={"rate": "rate", "previous_rate": "rate",
                                        "diff": "estimate", "diff_ci_low": "interval",
                                        "diff_ci_high": "interval", "p_value": "test"},
                               recompute="audit_changes"),
    "audit_standards": FrameSpec(keys=("id", "standard", "measure", "target_text", "exceptions",
                                       "period", "source"),
                                 counts=("k", "n", "year_k", "year_n"),
                                 derived={"target": "published", "rate": "rate",
                                          "ci_low": "interval", "ci_high": "interval",
                                          "year_rate": "rate", "year_ci_low": "interval",
                                          "year_ci_high": "interval", "status": "flag",
                                          "assurance": "flag"},
                                 recompute="audit_standards"),
    "safety_counts": FrameSpec(keys=("finding", "period"), counts=("cases", "patients")),
    "meta_funnel": FrameSpec(keys=("label", "family", "group", "outcome", "reference"),
                             counts=("k", "n"), derived={"rate": "rate", "p0": "rate",
                                                         "flag": "flag"},
                             recompute="from_published", dynamic=_funnel_limit_roles),
}


# ---------------------------------------------------------------------------------------------
# counts
# ---------------------------------------------------------------------------------------------
def suppressed_label(min_cell: int = 5) -> str:
    """The text shown instead of a small count, e.g. ``"<5"``."""
    return f"<{int(min_cell)}"


def _numeric_array(values) -> np.ndarray | None:
    """``values`` as a numpy array when it is one of plain ints or floats (an ndarray or a
    Series of numpy dtype), else None: such values need no parsing and hold no text."""
    arr = values.to_numpy() if isinstance(values, pd.Series) else values
    if isinstance(arr, np.ndarray) and arr.dtype.kind in "iuf":
        return arr
    return None


def _numbers(values) -> np.ndarray:
    arr = _numeric_array(values)
    if arr is not None:   # fast path (most calls): to_numeric would give the same floats
        return arr.astype(float)
    arr = _published_array(values)
    if arr is not None:   # published counts: the floats to_numeric gives them, without it
        return arr
    return pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce").to_numpy(float)


_EXACT = 2 ** 53   # ints a float holds exactly


def _published_array(values) -> np.ndarray | None:
    """Published counts (an object array or Series whose values are each a Python int or
    float, None, or a withheld count's text: ``"<5"``, ``"*"``) as floats, text and None as
    NaN; None for any other values (parsed by pandas instead)."""
    if isinstance(values, pd.Series):
        if values.dtype != object:
            return None
        values = values.to_numpy()
    if not isinstance(values, np.ndarray) or values.dtype != object or values.ndim != 1:
        return None
    out = np.empty(len(values), dtype=float)
    for i, v in enumerate(values.tolist()):   # a frame's rows (a few dozen), not patients
        t = type(v)
        if (t is int and -_EXACT <= v <= _EXACT) or (t is float and (v or str(v) == "0.0")):
            out[i] = v   # (-0.0 left to pandas, which may give 0.0 or -0.0)
        elif v is None or (t is str and (v[:1] in ("<", "≤") or v == "*")):
            out[i] = np.nan
        else:
            return None
    return out


def is_small_count(values, min_cell: int = 5) -> np.ndarray:
    """Boolean array: True where a value is a count from 1 to ``min_cell - 1``."""
    num = _numbers(values)
    with np.errstate(invalid="ignore"):
        return (num >= 1) & (num < min_cell)


#: key for rounding when the caller gives none (per process: tests and direct calls only;
#: shareable output always passes a clinic key or a key derived from the clinic's own data)
_PROCESS_KEY = secrets.token_bytes(32)


def _round_up(values: np.ndarray, key: bytes) -> np.ndarray:
    """True where a count is rounded up. Each block of 5 (5m .. 5m+4) has a secret threshold
    ``5 u_m`` (``u_m`` uniform, from HMAC-SHA256(key, m)); a count of the block goes up when
    its remainder exceeds it: probability (count mod 5) / 5 (unbiased), and the rounding is
    a non-decreasing function of the count (k <= n stays k <= n once published)."""
    out = np.zeros(values.shape, dtype=bool)
    for v in np.unique(values):   # distinct counts (a few hundred at most), not rows
        r = int(v) % ROUNDING_BASE
        if r == 0:
            continue
        block = int(v) // ROUNDING_BASE
        digest = hmac.new(key, f"{POLICY}:round:{block}".encode(), hashlib.sha256).digest()
        u = int.from_bytes(digest[:8], "big") / 2 ** 64
        out[values == v] = r > ROUNDING_BASE * u
    return out


def publish_counts(values, min_cell: int = 5, *, key: bytes | None = None) -> np.ndarray:
    """Counts as published: 0 -> 0, 1..min_cell-1 -> ``"<5"``, others rounded to base 5.

    Rounding is unbiased and keyed (random rounding, keyed as the ABS cell key): a count ``c`` is
    published as the multiple of 5 below it or the one above, the one above with probability
    ``(c mod 5) / 5``, decided by a secret threshold per block of 5 drawn from HMAC-SHA256 under
    ``key`` (:func:`_round_up`): the same count always publishes the same value under one key
    (repeated and overlapping tables agree), larger counts never publish smaller values, and
    without the key the direction cannot be predicted, so a published ``v`` means
    ``v - 4 .. v + 4``.

    Parameters
    ----------
    values : array-like
        Whole counts (missing -> None; a value already withheld, ``"<5"`` or ``"*"``, stays).
    min_cell : int
        Smallest count published (at least :data:`MIN_CELL_FLOOR` in shareable output).
    key : bytes, optional
        The rounding key (the clinic key, or a key derived from the clinic's own data); default
        a per-process random key.

    Returns
    -------
    numpy.ndarray of object
        Python ints (multiples of :data:`ROUNDING_BASE`), ``"<5"`` or None.

    Examples
    --------
    >>> out = publish_counts([0, 3, 5, 10, 12], key=b"k" * 32).tolist()
    >>> out[:4], out[4] in (10, 15)
    ([0, '<5', 5, 10], True)
    """
    num = _numbers(values)
    out = np.full(num.shape, None, dtype=object)
    ok = np.isfinite(num)
    whole = num[ok].astype(np.int64)
    up = _round_up(whole, key or _PROCESS_KEY)
    rounded = (whole // ROUNDING_BASE + up) * ROUNDING_BASE
    rounded = np.maximum(rounded, np.where(whole >= min_cell, ROUNDING_BASE, 0))
    out[ok] = rounded.astype(np.int64).tolist()
    out[ok & (num == 0)] = 0
    out[is_small_count(num, min_cell)] = suppressed_label(min_cell)
    if _numeric_array(values) is None:   # values of a numeric dtype hold no text
        raw = np.array(pd.Series(values, dtype="object").tolist(), dtype=object)
        text = np.array([isinstance(v, str) for v in raw], dtype=bool)   # "<5", "*": kept
        out[text] = raw[text]
    return out


def published_numbers(values) -> np.ndarray:
    """Published counts as floats (``"<5"``/None -> NaN), for recomputing derived figures."""
    return _numbers(values)


# ---------------------------------------------------------------------------------------------
# practitioner codes
# ---------------------------------------------------------------------------------------------
def clinic_key(key_file=None) -> bytes | None:
    """The clinic key for practitioner codes: ``key_file``'s content, else ``$OUTCOMES_CLINIC_KEY``.

    Returns None when neither is given. The key never enters any output.
    """
    if key_file:
        try:
            data = Path(key_file).read_bytes().strip()
        except OSError as err:
            raise DisclosureError(f"cannot read the clinic key file {str(key_file)!r} "
                                  f"({err.strerror}); give the file holding the clinic's "
                                  "secret key (--key-file) or set OUTCOMES_CLINIC_KEY.") from None
        if len(data) < 16:
            raise DisclosureError(f"the clinic key in {str(key_file)!r} is {len(data)} bytes; "
                                  "use at least 16 random characters, e.g. the output of "
                                  "`python -c \"import secrets; print(secrets.token_hex(32))\"`.")
        return data
    env = os.environ.get(KEY_ENV, "").strip()
    if env:
        if len(env) < 16:
            raise DisclosureError(f"{KEY_ENV} holds {len(env)} characters; use at least 16 "
                                  "random characters (e.g. secrets.token_hex(32)).")
        return env.encode()
    return None


class PractitionerCoder:
    """Practitioner id -> code ``"PR-XXXXXXXX"`` (HMAC-SHA256 of the id under the clinic key).

    With the clinic key (``--key-file`` or ``$OUTCOMES_CLINIC_KEY``) the same practitioner gets
    the same code every quarter and the id cannot be derived from the code without the key.
    Without a key a random key is drawn for this run: codes are valid in this report only and
    a warning says so. ``"not recorded"`` stays as it is.
    """

    def __init__(self, key: bytes | None = None, *, warn: bool = True,
                 rounding_key: bytes | None = None):
        self.stable = key is not None
        if key is None:
            key = secrets.token_bytes(32)
            if warn:
                warnings.warn(f"no clinic key ({KEY_ENV} or --key-file): practitioner codes "
                              "in this shareable output are random and valid for this run "
                              "only.", OutcomesWarning, stacklevel=2)
        self._key = bytes(key)
        #: key of the count rounding (:func:`publish_counts`): the clinic key, else the one
        #: given (derived from the clinic's data, :func:`data_key`), else this coder's key
        self.rounding_key = bytes(rounding_key) if rounding_key and not self.stable \
            else self._key

    def __repr__(self) -> str:   # never show the key
        return f"PractitionerCoder(stable={self.stable})"

    def __reduce__(self):        # pickled into the report run: keep the same codes
        return (_coder_from_state, (self._key, self.stable, self.rounding_key))

    def code(self, value) -> str:
        """The code of one practitioner id."""
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return "not recorded"
        text = str(value)
        if text == "not recorded":
            return text
        digest = hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"PR-{digest[:8].upper()}"

    def codes(self, values) -> np.ndarray:
        """Codes of many ids (one HMAC per distinct id)."""
        s = pd.Series(values, dtype="object")
        uniq = pd.unique(s)
        table = {u: self.code(u) for u in uniq}   # a handful of practitioners
        return np.array([table[v] for v in s], dtype=object)


class KeepCodes(PractitionerCoder):
    """For pooled output: practitioners arrive as codes (``"clinic:PR-XXXXXXXX"``) from the
    pooling files and are kept; anything else is coded with a random key."""

    _CODE = re.compile(r"(^|:)(PR-[0-9A-F]{8}|not recorded)$")

    def __init__(self, rounding_key: bytes | None = None):
        super().__init__(None, warn=False, rounding_key=rounding_key)

    def code(self, value) -> str:
        if isinstance(value, str) and self._CODE.search(value):
            return value
        return super().code(value)


def _coder_from_state(key: bytes, stable: bool, rounding_key: bytes) -> PractitionerCoder:
    c = PractitionerCoder(key, warn=False)
    c.stable = stable
    c.rounding_key = rounding_key
    return c


def data_key(*parts) -> bytes:
    """A rounding key derived from data only the clinic (or the pooling coordinator) holds:
    SHA-256 of the given values (patient pseudonyms and first-session dates; the pooling files'
    exact counts). Used when no clinic key is given, so that re-running a report on the same
    export publishes the same values. Never derived from anything published."""
    h = hashlib.sha256(f"{POLICY}:data-key".encode())
    for part in parts:
        h.update(repr(part).encode("utf-8", "replace"))
    return h.digest()


# ---------------------------------------------------------------------------------------------
# recomputation from published counts
# ---------------------------------------------------------------------------------------------
def _defs(definitions, name, default):
    if definitions is None:
        return default
    if isinstance(definitions, Mapping):
        return definitions.get(name, default)
    return getattr(definitions, name, default)


def _kn(df, k="k", n="n"):
    kk, nn = published_numbers(df[k]), published_numbers(df[n])
    ok = np.isfinite(kk) & np.isfinite(nn)
    return np.where(ok, kk, 0).astype(np.int64), np.where(ok, nn, 0).astype(np.int64), ok


def _proportion(df, definitions, k="k", n="n", prefix=""):
    from outcomes import stats

    kk, nn, ok = _kn(df, k, n)
    props = stats.proportions(kk, nn, level=float(_defs(definitions, "confidence", 0.95)),
                              method=str(_defs(definitions, "interval_method", "wilson")))
    out = df.copy()
    for c in ("rate", "ci_low", "ci_high"):
        if prefix + c in out:
            out[prefix + c] = np.where(ok & (nn > 0), props[c].to_numpy(float), np.nan)
    return out


def _bench(df, definitions):
    """Tests against the published figure of each row, from the published counts: exact
    binomial vs ``benchmark_rate``; Fisher and the Newcombe difference vs ``benchmark_k``/
    ``benchmark_n`` (the figures the row carries; the registry is not consulted)."""
    from outcomes import stats

    out = df.copy()
    kk, nn, ok = _kn(df)
    use = ok & (nn > 0)
    rate = (pd.to_numeric(df["benchmark_rate"], errors="coerce").to_numpy(float)
            if "benchmark_rate" in df else np.full(len(df), np.nan))
    pv = np.full(len(df), np.nan)
    sel = use & np.isfinite(rate)
    if sel.any():
        pv[sel] = stats.binom_test(kk[sel], nn[sel], rate[sel])
    if "p_value" in out:
        out["p_value"] = pv
    if "benchmark_k" in df and "benchmark_n" in df:
        bk = pd.to_numeric(df["benchmark_k"].astype(object), errors="coerce").to_numpy(float)
        bn = pd.to_numeric(df["benchmark_n"].astype(object), errors="coerce").to_numpy(float)
        fp, d, lo, hi = (np.full(len(df), np.nan) for _ in range(4))
        sel = use & np.isfinite(bk) & np.isfinite(bn) & (bn > 0)
        if sel.any():
            fp[sel] = stats.fisher_test(kk[sel], nn[sel], bk[sel].astype(np.int64),
                                        bn[sel].astype(np.int64))
            d[sel], lo[sel], hi[sel] = stats.newcombe_difference(
                kk[sel], nn[sel], bk[sel].astype(np.int64), bn[sel].astype(np.int64),
                level=float(_defs(definitions, "confidence", 0.95)))
        below, above = np.full(len(df), np.nan), np.full(len(df), np.nan)
        if sel.any() and "mdd_below" in out:
            from outcomes.registry import MDD_POWER

            below[sel], above[sel] = stats.detectable_difference(
                nn[sel], bn[sel], bk[sel] / bn[sel],
                alpha=1 - float(_defs(definitions, "confidence", 0.95)), power=MDD_POWER)
        for c, v in (("fisher_p_value", fp), ("diff", d), ("diff_ci_low", lo),
                     ("diff_ci_high", hi), ("mdd_below", below), ("mdd_above", above)):
            if c in out:
                out[c] = v
    elif "fisher_p_value" in out and "benchmark_id" in df:
        # adverse events carry no benchmark counts: the registry's, as analyze uses
        from outcomes.registry import benchmark_columns

        ids = [i if (u and isinstance(i, str)) else None
               for i, u in zip(df["benchmark_id"], use)]
        try:
            b = benchmark_columns(kk, np.where(use, nn, 1), ids,
                                  level=float(_defs(definitions, "confidence", 0.95)))
            out["fisher_p_value"] = np.where(use, b["fisher_p_value"].to_numpy(float), np.nan)
        except OutcomesError:    # an id unknown to this registry: the test is withheld
            out["fisher_p_value"] = np.nan
    return out


def _r_proportion(df, definitions):
    return _proportion(df, definitions)


def _r_response(df, definitions):
    return _bench(_proportion(df, definitions), definitions)


def _r_adverse_events(df, definitions):
    """Incidence from the published k and n; the tests against the study from the published
    compared_k/compared_n (the followed patients) when the frame has them, else k/n."""
    out = _proportion(df, definitions)
    if "compared_k" in df and "compared_n" in df:
        tested = _bench(out.assign(k=df["compared_k"], n=df["compared_n"]), definitions)
        cols = [c for c in _BENCH if c in out]
        out[cols] = tested[cols]
    else:
        out = _bench(out, definitions)
    if "session_rate" in out:
        e, s = published_numbers(df["events"]), published_numbers(df["sessions"])
        with np.errstate(divide="ignore", invalid="ignore"):
            out["session_rate"] = np.where(s > 0, e / s, np.nan)
    return out


def _r_ae_followup(df, definitions):
    """Incidence from the published k and n; events per 100 sessions from the published
    events and sessions; the Kaplan-Meier columns withheld (not rebuilt)."""
    out = _proportion(df, definitions)
    e, s = published_numbers(df["events"]), published_numbers(df["sessions"])
    with np.errstate(divide="ignore", invalid="ignore"):
        out["per_100_sessions"] = np.where(s > 0, 100 * e / s, np.nan)
    for c in ("km_cum_incidence", "km_ci_low", "km_ci_high"):
        if c in out:
            out[c] = np.nan
    return out


def _r_strata(df, definitions):
    """Rates from the published counts; the homogeneity test per stratum (and Holm) over the
    levels whose counts are published (:func:`outcomes.strata.strata_tests`)."""
    from outcomes.strata import strata_tests

    out = _proportion(df, definitions)
    if "p_value" in out or "p_value_holm" in out:
        kk, nn, ok = _kn(df)
        tested = strata_tests(df.assign(k=np.where(ok, kk, 0), n=np.where(ok, nn, 0)))
        for c in ("p_value", "p_value_holm"):
            if c in out:
                out[c] = tested[c].to_numpy(float)
    return out


def _published_share(df, part: str, total: str, into: str):
    """``into`` = published ``part`` / published ``total`` (NaN where the total is 0)."""
    out = df.copy()
    k, n = published_numbers(df[part]), published_numbers(df[total])
    with np.errstate(divide="ignore", invalid="ignore"):
        out[into] = np.where(n > 0, k / n, np.nan)
    return out


def _r_not_recorded(df, definitions):
    """The share not recorded, from the published counts."""
    return _published_share(df, "not_recorded", "total", "share")


def _r_coarse_mean(df, definitions):
    """Means and t intervals of a continuous change, coarsened (0.1 hairs/cm², 0.1 points)."""
    out = df.copy()
    digits = np.where(df["measure"].astype(str) == "relative", 3, 1)
    for c in ("mean", "ci_low", "ci_high"):
        if c in out:
            v = pd.to_numeric(df[c], errors="coerce").to_numpy(float)
            out[c] = [np.nan if np.isnan(x) else round(float(x), int(d))
                      for x, d in zip(v, digits)]
    return out


def _r_keep_summaries(df, definitions):
    """Medians and quartiles of durations (whole days) kept; min and max withheld."""
    out = df.copy()
    for c in ("median_days", "q1_days", "q3_days"):
        if c in out:
            out[c] = np.round(pd.to_numeric(df[c], errors="coerce").to_numpy(float))
    return out


def _r_keep_coefficients(df, definitions):
    """Model coefficients kept where the term rests on ``min_cell`` patients or more (the
    count column ``patients``; rows below it are withheld by the row rule)."""
    return df.copy()


def _r_funnel(df, definitions):
    from outcomes import stats

    kk, nn, ok = _kn(df)
    out = df.copy()
    levels = tuple(_defs(definitions, "funnel_levels", (0.95, 0.998)))
    use = ok & (nn > 0)
    if not use.any():
        return out
    p0 = float(kk[use].sum() / nn[use].sum())
    if "p0" in df and "reference" in df:
        # a reference other than the pooled rate is a published figure: keep it
        ref = pd.to_numeric(df["p0"], errors="coerce").to_numpy(float)
        pooled = df["reference"].astype(str).to_numpy() == "pooled"
        p0s = np.where(pooled, p0, ref)
    else:
        p0s = np.full(len(df), p0)
    cols = stats.funnel_columns(levels)
    res = {c: np.full(len(df), np.nan) for c in cols}
    flag = np.full(len(df), None, dtype=object)
    rate = np.full(len(df), np.nan)
    for value in np.unique(p0s[use & np.isfinite(p0s)]):   # one or two references
        sel = use & (p0s == value)
        f = stats.funnel_flags(kk[sel], nn[sel], float(value), levels=levels)
        for c in cols:
            res[c][sel] = f[c].to_numpy(float)
        flag[sel] = f["flag"].to_numpy(object)
        rate[sel] = f["rate"].to_numpy(float)
    if "p_value" in out or "p_value_holm" in out:
        from outcomes.strata import funnel_tests

        pv = np.full(len(df), np.nan)
        ph = np.full(len(df), np.nan)
        sel = use & np.isfinite(p0s)
        if sel.any():
            t = funnel_tests(kk[sel], nn[sel], float(np.nanmean(p0s[sel])))
            pv[sel], ph[sel] = t["p_value"].to_numpy(float), t["p_value_holm"].to_numpy(float)
        for c, v in (("p_value", pv), ("p_value_holm", ph)):
            if c in out:
                out[c] = v
    for c in cols:
        if c in out:
            out[c] = res[c]
    if "flag" in out:
        out["flag"] = flag
    if "rate" in out:
        out["rate"] = rate
    if "p0" in out:
        out["p0"] = np.where(use, p0s, np.nan)
    return out


def _r_p_chart(df, definitions):
    """The p-chart rebuilt from the published counts (a hidden quarter is charted as empty:
    no point, no limits; it neither extends nor breaks a run)."""
    from outcomes import stats

    kk, nn, ok = _kn(df)
    nn = np.where(ok, nn, 0)
    group = df["family"].astype(str).to_numpy() if "family" in df else np.zeros(len(df))
    cols = [c for c in df.columns if c not in ("family", "quarter", "k", "n")]
    res = {c: np.full(len(df), None, dtype=object) for c in cols}
    for g in pd.unique(group):   # one family per frame, a few when pooled
        sel = np.flatnonzero(group == g)
        chart = stats.p_chart(kk[sel], nn[sel],
                              min_n=int(_defs(definitions, "spc_min_n", 5)),
                              improvement="increase")
        for c in cols:
            if c in chart:
                res[c][sel] = chart[c].to_numpy(object)
    rebuilt = {}
    for c in cols:
        floats = _published_array(res[c]) if pd.api.types.is_float_dtype(df[c]) else None
        if floats is not None:   # what to_numeric gives these plain floats and Nones
            rebuilt[c] = pd.Series(floats, index=df.index)
            continue
        values = pd.Series(res[c], index=df.index, dtype=object)
        if pd.api.types.is_float_dtype(df[c]):
            values = pd.to_numeric(values, errors="coerce").astype(float)
        rebuilt[c] = values
    # one frame (a column assigned into a copy of df costs more than the chart)
    out = pd.DataFrame({c: rebuilt.get(c, df[c]) for c in df.columns}, index=df.index)
    out.attrs = copy.deepcopy(df.attrs)
    return out


def _r_table_one(df, definitions):
    """Table 1 percentages, from the published counts."""
    return _published_share(df, "n", "total", "pct")


def _r_from_published(df, definitions):
    """Frames built only from published counts (the pooled meta-analysis, see
    :func:`outcomes.pooling._published_meta`): their derived columns are kept as built."""
    return df.copy()


#: recompute name -> fn(published_frame, definitions) -> frame
def _r_audit_changes(df, definitions):
    """Change between two quarters from the published counts: Newcombe and Fisher."""
    from outcomes import stats

    out = _proportion(df, definitions)
    out = _proportion(out, definitions, "previous_k", "previous_n", prefix="previous_")
    k1, n1, ok1 = _kn(df)
    k2, n2, ok2 = _kn(df, "previous_k", "previous_n")
    ok = ok1 & ok2 & (n1 > 0) & (n2 > 0)
    level = float(_defs(definitions, "confidence", 0.95))
    diff, low, high = stats.newcombe_difference(k1, n1, k2, n2, level=level)
    p = np.full(len(df), np.nan)
    if ok.any():
        p[ok] = stats.fisher_test(k1[ok], n1[ok], k2[ok], n2[ok])
    for c, v in (("diff", diff), ("diff_ci_low", low), ("diff_ci_high", high), ("p_value", p)):
        out[c] = np.where(ok, np.asarray(v, float), np.nan)
    return out


def _r_audit_standards(df, definitions):
    """Compliance rates, status and assurance of each standard from the published counts."""
    from outcomes.audit import status_and_assurance

    out = _proportion(df, definitions)
    out = _proportion(out, definitions, "year_k", "year_n", prefix="year_")
    by_year = (out["period"] == "rolling_year").to_numpy(bool)
    pick = {c: np.where(by_year, out["year_" + c].to_numpy(object), out[c].to_numpy(object))
            for c in ("k", "n", "ci_low", "ci_high")}
    k = np.where([isinstance(v, str) for v in pick["k"]], np.nan, pick["k"])
    n = np.where([isinstance(v, str) for v in pick["n"]], np.nan, pick["n"])
    status, assurance = status_and_assurance(
        k, n, pick["ci_low"].astype(float), pick["ci_high"].astype(float),
        out["year_ci_low"].astype(float), out["year_ci_high"].astype(float),
        pd.to_numeric(out["target"], errors="coerce"))
    out["status"], out["assurance"] = status, assurance
    return out


RECOMPUTE: dict[str, Callable[[pd.DataFrame, Any], pd.DataFrame]] = {
    "proportion": _r_proportion, "response": _r_response, "strata": _r_strata,
    "not_recorded": _r_not_recorded,
    "adverse_events": _r_adverse_events, "ae_followup": _r_ae_followup,
    "coarse_mean": _r_coarse_mean,
    "keep_summaries": _r_keep_summaries, "keep_coefficients": _r_keep_coefficients,
    "funnel": _r_funnel, "p_chart": _r_p_chart, "table_one": _r_table_one,
    "from_published": _r_from_published,
    "audit_changes": _r_audit_changes, "audit_standards": _r_audit_standards,
}


# ---------------------------------------------------------------------------------------------
# the pass
# ---------------------------------------------------------------------------------------------
def check_declared(name: str, df: pd.DataFrame, definitions=None) -> FrameSpec:
    """The declaration of frame ``name``; raise DisclosureError naming any column of ``df``
    that it does not declare (key, count, derived or internal)."""
    spec = SCHEMA.get(name)
    if spec is None:
        raise DisclosureError(f"frame {name!r} is not declared in outcomes.disclosure.SCHEMA: "
                              "it cannot leave in shareable output. Declare its keys, counts "
                              "and derived columns (docs/disclosure-control.md).")
    known = set(spec.keys) | set(spec.counts) | set(spec.roles(definitions)) | set(spec.internal)
    extra = [c for c in df.columns if c not in known]
    if extra:
        raise DisclosureError(f"frame {name!r} has column(s) {', '.join(map(repr, extra))} not "
                              "declared in outcomes.disclosure.SCHEMA: they cannot leave in "
                              "shareable output. Declare each as a key, count or derived "
                              "column with its role.")
    return spec


def control_frame(name: str, df: pd.DataFrame, *, definitions=None, min_cell: int | None = None,
                  coder: PractitionerCoder | None = None) -> pd.DataFrame:
    """Frame ``name`` as it may leave in shareable output (the one disclosure-control pass).

    Parameters
    ----------
    name : str
        A key of :data:`SCHEMA`.
    df : pandas.DataFrame
        The exact frame (not modified).
    definitions : Definitions or dict, optional
        Interval method, confidence, funnel levels, ``min_cell``.
    min_cell : int, optional
        Default ``definitions.min_cell`` (5).
    coder : PractitionerCoder, optional
        Codes for practitioner ids (a per-run random one when omitted and needed).

    Returns
    -------
    pandas.DataFrame
        Same rows, the declared columns only (internal ones dropped, order kept); counts
        published under :data:`POLICY` (object columns of int / ``"<5"`` / None); derived
        columns recomputed from the published counts or withheld (NaN/None).

    Raises
    ------
    DisclosureError
        Undeclared frame or column.
    """
    spec = check_declared(name, df, definitions)
    if min_cell is None:
        min_cell = int(_defs(definitions, "min_cell", 5))
    roles = spec.roles(definitions)
    index = df.index
    # the columns are held apart and the frame assembled once: on these small frames a
    # column assigned into a DataFrame costs several times the work on the column itself
    cols: dict[Any, Any] = {c: df[c] for c in df.columns if c not in spec.internal}
    small = np.zeros(len(df), dtype=bool)
    counts = [c for c in spec.counts if c in cols]
    published: dict[str, np.ndarray] = {}
    for col in counts:   # a few columns, not rows
        pub = publish_counts(cols[col], min_cell,
                             key=coder.rounding_key if coder is not None else None)
        small |= np.array([isinstance(v, str) for v in pub], dtype=bool)
        published[col] = pub
    if small.any():
        # "0 of <5": a zero beside a suppressed count tells every patient's outcome
        label = suppressed_label(min_cell)
        for col in counts:
            values = published[col].copy()
            values[small & np.array([v == 0 for v in values], dtype=bool)] = label
            published[col] = values
    for col in counts:
        cols[col] = pd.Series(published[col], index=index, dtype="object")
    present = {c: r for c, r in roles.items() if c in cols}
    computed = {c for c, r in present.items() if r == "published"}
    if spec.recompute and len(df):
        fn = RECOMPUTE[spec.recompute]
        rebuilt = fn(_assemble(cols, index, df), definitions)
        for c in present:
            if c in computed:
                continue
            # as a column assigned into the frame: the array's dtype inferred the same way
            cols[c] = pd.Series(rebuilt[c].to_numpy(object) if rebuilt[c].dtype == object
                                else rebuilt[c].to_numpy(), index=index)
        computed |= {c for c, r in present.items() if r != "extreme"}
    for c, role in present.items():
        if c not in computed or role == "extreme":
            cols[c] = _withheld(cols[c], np.ones(len(df), dtype=bool))
        elif role != "published" and small.any():   # nothing small: the column stays as is
            cols[c] = _withheld(cols[c], small)
    out = _assemble(cols, index, df)
    if spec.pseudonyms or spec.pseudonym_rows:
        out = _code_practitioners(out, spec, coder or PractitionerCoder(None))
    return out.reset_index(drop=True)


def _assemble(cols: dict, index: pd.Index, df: pd.DataFrame) -> pd.DataFrame:
    """A frame of ``cols`` (Series on ``index``), in their order; ``df``'s attrs."""
    out = pd.DataFrame(cols, index=index) if cols else df[[]].copy()
    if df.attrs:
        out.attrs = copy.deepcopy(df.attrs)
    return out


def _code_practitioners(out: pd.DataFrame, spec: FrameSpec,
                        coder: PractitionerCoder) -> pd.DataFrame:
    for col in (c for c in spec.pseudonyms if c in out.columns):
        out[col] = coder.codes(out[col])
    for col, where, value in spec.pseudonym_rows:
        if col in out.columns and where in out.columns:
            sel = (out[where].astype(str) == value).to_numpy()
            if sel.any():
                values = out[col].to_numpy(object).copy()
                values[sel] = coder.codes(values[sel])
                out[col] = values
    return _sort_coded(out, spec)


def _sort_coded(out: pd.DataFrame, spec: FrameSpec) -> pd.DataFrame:
    """Rows of coded practitioners sorted by code (the order of the names would leak)."""
    if spec.pseudonyms:
        return out.sort_values(list(spec.pseudonyms), kind="stable")
    col, where, value = spec.pseudonym_rows[0]
    sel = (out[where].astype(str) == value).to_numpy()
    if not sel.any():
        return out
    idx = np.arange(len(out))
    key = np.where(sel, 1, 0)
    # keep the order of every other row; within each block of practitioner rows, by code
    block = np.cumsum(np.r_[True, sel[1:] != sel[:-1]])
    order = pd.DataFrame({"block": block, "k": np.where(sel, out[col].astype(str), ""),
                          "i": idx, "s": key}).sort_values(["block", "k", "i"], kind="stable")
    return out.iloc[order["i"].to_numpy()]


def _withheld(col: pd.Series, mask: np.ndarray) -> pd.Series:
    if not mask.any():
        return col
    if isinstance(col.dtype, np.dtype) and col.dtype.kind == "f":
        # numpy floats: NaN set in a copy of the array (a masked Series assignment costs ~10x)
        values = col.to_numpy(copy=True)
        values[mask] = np.nan
        return pd.Series(values, index=col.index, name=col.name)
    if pd.api.types.is_float_dtype(col):   # nullable Float64
        out = col.copy()
        out[mask] = np.nan
        return out
    values = col.to_numpy(dtype=object, copy=True)   # the values astype(object) gives
    values[mask] = None
    return pd.Series(values, index=col.index, dtype="object")


_NOTE_COUNT = re.compile(r"\b(\d+)(?= (?:patients?|patient\(s\)|visits?|sessions?|events?)\b)")


def control_note(note: str, min_cell: int = 5, *, coder=None) -> str:
    """A free-text note (the model's) with every count of patients, visits, sessions or events
    published under the policy (``"198 patients"`` -> ``"200 patients"``, ``"3 patient(s)"``
    -> ``"<5 patient(s)"``)."""
    key = coder.rounding_key if coder is not None else None
    return _NOTE_COUNT.sub(lambda m: str(publish_counts([int(m[1])], min_cell, key=key)[0]),
                           str(note))


def control_cohort_counts(counts: Mapping[str, int], min_cell: int = 5, *,
                          coder=None) -> dict[str, Any]:
    """The cohort counts dict of results.json, published under the policy."""
    df = pd.DataFrame([dict(counts)])
    out = control_frame("cohort_counts", df, min_cell=min_cell, coder=coder)
    return {k: out[k].iloc[0] for k in counts}


# ---------------------------------------------------------------------------------------------
# settings
# ---------------------------------------------------------------------------------------------
_DEFAULT_FUNNEL = (0.95, 0.998)
_GRID = 0.05


def check_shareable_definitions(definitions, *, cutoff=None) -> None:
    """Refuse settings that weaken the policy in shareable output (DefinitionsError).

    - ``min_cell`` below :data:`MIN_CELL_FLOOR`;
    - age bands whose inner cut-points are not multiples of 10 years (two reports with bands
      one year apart give the outcome of the patients of that one year);
    - density thresholds (improved, dramatic, sensitivity) not on the 5-point grid
      (0, 0.05, 0.10...): thresholds 0.01 apart place single patients' change;
    - ``funnel_levels`` other than (0.95, 0.998);
    - a ``cutoff`` that is not a quarter's last day (daily reports would difference).
    """
    import datetime as dt

    problems = []
    min_cell = int(_defs(definitions, "min_cell", 5))
    if min_cell < MIN_CELL_FLOOR:
        problems.append(f"min_cell = {min_cell} is below the floor of {MIN_CELL_FLOOR}: counts "
                        f"of 1 to {MIN_CELL_FLOOR - 1} patients would be published")
    bands = list(_defs(definitions, "age_bands", (18, 30, 40, 50, 60, 101)))
    inner = bands[1:-1]
    if any(int(b) % 10 for b in inner):
        problems.append(f"age_bands {bands}: inner cut-points must be multiples of 10 years in "
                        "shareable output (bands one year apart give the outcome of the "
                        "patients of that year by difference)")
    for name in ("density_improved", "density_dramatic"):
        v = float(_defs(definitions, name, 0.1))
        if abs(v / _GRID - round(v / _GRID)) > 1e-9:
            problems.append(f"{name} = {v:g} is not a multiple of {_GRID:g}: thresholds off "
                            "the 5-point grid place single patients' change by difference")
    thr = [float(x) for x in _defs(definitions, "density_sensitivity_thresholds", ())]
    off = [x for x in thr if abs(x / _GRID - round(x / _GRID)) > 1e-9]
    if off:
        problems.append(f"density_sensitivity_thresholds {off} are not multiples of {_GRID:g}")
    levels = tuple(float(x) for x in _defs(definitions, "funnel_levels", _DEFAULT_FUNNEL))
    if levels != _DEFAULT_FUNNEL:
        problems.append(f"funnel_levels {list(levels)}: shareable output uses the default "
                        f"{list(_DEFAULT_FUNNEL)} only")
    if cutoff is not None:
        d = pd.Timestamp(cutoff).date()
        if (d + dt.timedelta(days=1)).day != 1 or d.month not in (3, 6, 9, 12):
            problems.append(f"cut-off {d.isoformat()} is not the last day of a quarter: "
                            "shareable output is produced per quarter (--quarter), since "
                            "reports a few days apart give single patients by difference")
    if problems:
        raise DefinitionsError("shareable output refuses these settings under the "
                               f"disclosure-control policy {POLICY} "
                               "(docs/disclosure-control.md): " + "; ".join(problems)
                               + ". Use the defaults, or produce an internal report.")


def policy_text(min_cell: int = 5) -> str:
    """One sentence naming the policy, for results.json and every shareable page."""
    return (f"{POLICY}: counts of 1 to {min_cell - 1} are shown as <{min_cell} (a 0 beside "
            f"them too); every other count is rounded to a multiple of {ROUNDING_BASE}, up or "
            f"down by keyed random rounding (a published v means v-{ROUNDING_BASE - 1} to "
            f"v+{ROUNDING_BASE - 1}); rates, intervals, tests, "
            "limits and weights are computed from the rounded counts; model terms resting "
            f"on fewer than {min_cell} patients are withheld; practitioners appear as codes.")


# ---------------------------------------------------------------------------------------------
# load report, table one, histogram: frames built here from internal objects
# ---------------------------------------------------------------------------------------------
_DATE_TEXT = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}")


def generic_rule(text: str) -> str:
    """A quarantine rule without the values it quotes: no pseudonym, date or row number.

    >>> generic_rule("the session belongs to another patient (patient P00001); fix it")
    'the session belongs to another patient; fix it'
    """
    t = re.sub(r"\s*\([^)]*\)", "", str(text))
    t = _DATE_TEXT.sub("a date", t)
    t = re.sub(r"\brow \d+\b", "another row", t)
    t = re.sub(r"'[^']*'|\"[^\"]*\"", "a value", t)
    return re.sub(r"\s+", " ", t).strip()


def quarantine_frame(load_report) -> pd.DataFrame:
    """Quarantined cells counted by table, column and generic rule (exact counts)."""
    q = load_report.quarantine
    if not len(q):
        return pd.DataFrame({"table": pd.Series(dtype=object), "column": pd.Series(dtype=object),
                             "rule": pd.Series(dtype=object), "n": pd.Series(dtype="int64")})
    rules = q["rule"].astype(str).map(generic_rule)
    return (q.assign(rule=rules).groupby(["table", "column", "rule"], sort=False).size()
            .reset_index(name="n").sort_values("n", ascending=False, kind="stable")
            .reset_index(drop=True))


def shareable_load_notes(load_report) -> list[str]:
    """The load notes for shareable output: ignored files and columns counted, not named."""
    notes = [str(x) for x in load_report.notes]
    ignored = sum(1 for x in notes if x.endswith("not a table of the contract; not read."))
    kept = [x for x in notes if not x.endswith("not a table of the contract; not read.")]
    kept = [x for x in kept if re.match(r"^(patients|sessions|measurements|adverse_events): ", x)]
    out = list(kept)
    if ignored:
        out.append(f"{ignored} other file(s) in the export were not read.")
    extra = {t: len(c) for t, c in load_report.extra_columns.items() if c}
    for t, n in extra.items():
        out.append(f"{t}: {n} column(s) outside the data contract, kept aside and not used.")
    return out


def table_one_counts(cohort: pd.DataFrame) -> pd.DataFrame:
    """Table 1 counts (exact): ``characteristic, level, n, total, pct`` of treated patients."""
    c = cohort[cohort["treated"].astype("boolean").fillna(False)] if "treated" in cohort \
        else cohort
    total = len(c)
    rows = []
    categorical = [("Sex", "sex", {"F": "Female", "M": "Male"}),
                   ("Age band (years)", "age_band", {}),
                   ("Baseline scale", "baseline_scale", {}),
                   ("Topical minoxidil", "minoxidil", {True: "Yes", False: "No"})]
    for label, column, names in categorical:  # a few variables, each vectorised
        if column not in c:
            continue
        values = c[column].astype("object").where(c[column].notna(), "Not recorded")
        counts = values.map(lambda v, names=names: names.get(v, str(v))).value_counts(
            sort=False)
        order = sorted(counts.index, key=lambda s: (s == "Not recorded", s))
        rows += [(label, lvl, int(counts[lvl])) for lvl in order]
    out = pd.DataFrame(rows, columns=["characteristic", "level", "n"])
    out["total"] = total
    out["pct"] = out["n"] / total if total else np.nan
    return out.astype({"characteristic": object, "level": object})


def histogram_counts(changes, *, binwidth: float = 0.10) -> pd.DataFrame:
    """Patients per bin of relative density change (exact): ``bin_low, bin_high, n``."""
    x = pd.to_numeric(pd.Series(changes, dtype=float), errors="coerce").dropna().to_numpy(float)
    if not x.size:
        return pd.DataFrame({"bin_low": pd.Series(dtype=float),
                             "bin_high": pd.Series(dtype=float),
                             "n": pd.Series(dtype="int64")})
    lo = np.floor(x.min() / binwidth) * binwidth
    hi = (np.floor(x.max() / binwidth) + 1) * binwidth
    edges = np.arange(lo, hi + binwidth / 2, binwidth)
    counts, edges = np.histogram(x, bins=edges)
    return pd.DataFrame({"bin_low": edges[:-1], "bin_high": edges[1:],
                         "n": counts.astype("int64")})
