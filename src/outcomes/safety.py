"""Adverse events: patient incidence and session rate per term, timing, duration, sentinels.

Reads a :class:`~outcomes.cohort.Cohort` (events with onset on or before the cut-off, of
treated patients). Patient incidence of a term = treated patients with at least one event of
that term / treated patients (the study's pain figure is 246/541 patients); session rate =
events / sessions given. Published figures: injection-site pain 246/541, serious and sexual
events 0/541 (Saceda-Corralo 2022).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from outcomes import stats
from outcomes.registry import benchmark_columns
from outcomes.cohort import Cohort
from outcomes.vocabulary import SERIOUS_BY_NATURE, TERMS

__all__ = ["AE_BENCHMARKS", "AE_COLUMNS", "SESSION_NUMBER_LEVELS", "adverse_event_table",
           "event_session_numbers", "ae_timing", "ae_duration", "sentinel_cases",
           "FOLLOWUP_COLUMNS", "followup_days", "ae_followup_table", "followup_sentence"]

#: the row counting serious events (any event marked serious, or of a serious-by-nature term)
SERIOUS = "serious"

#: term -> registry id of the published figure it is compared with
AE_BENCHMARKS = {"injection_site_pain": "saceda2022_pain",
                 "sexual_dysfunction": "saceda2022_sexual",
                 SERIOUS: "saceda2022_serious"}

AE_COLUMNS = ("term", "k", "n", "rate", "ci_low", "ci_high", "events", "sessions",
              "session_rate", "min_followup_days", "compared_k", "compared_n",
              "excluded", "excluded_recent", "excluded_stopped", "benchmark_id", "benchmark_rate",
              "benchmark_k", "benchmark_n", "p_value", "fisher_p_value", "diff", "diff_ci_low",
              "diff_ci_high", "mdd_below", "mdd_above")

#: session-number categories of :func:`ae_timing` ("unknown": no session on or before onset)
SESSION_NUMBER_LEVELS = ("1", "2", "3", "4+")


def _codes_in(values: pd.Series, labels: list[str]) -> np.ndarray:
    """Position of each value in ``labels`` (int64; -1 when missing or not a label), as
    ``pd.Categorical(values, categories=labels).codes``; the text is looked up once per
    distinct value, not per row."""
    code, uniq = pd.factorize(values)                         # missing -> -1
    where = {label: i for i, label in enumerate(labels)}
    lookup = np.array([where.get(u, -1) for u in uniq] + [-1], dtype=np.int64)
    return lookup[code]                                        # code -1 takes the last, -1


def _is_serious(ae: pd.DataFrame) -> np.ndarray:
    marked = ae["serious"].fillna(False).to_numpy(bool)
    return marked | ae["term"].isin(list(SERIOUS_BY_NATURE)).to_numpy(bool)


def adverse_event_table(cohort: Cohort, followup: pd.DataFrame | None = None) -> pd.DataFrame:
    """Patient incidence and session rate per term, against the published figures.

    Parameters
    ----------
    cohort : Cohort
    followup : DataFrame, optional
        :func:`ae_followup_table` of the same cohort, when already computed (the comparison
        with the study uses its ``k`` and ``n``).

    Returns
    -------
    DataFrame
        One row per term of :data:`outcomes.vocabulary.TERMS`, then a ``serious`` row (any
        event marked serious or of a serious-by-nature term). Columns :data:`AE_COLUMNS`:
        ``k`` patients with the event, ``n`` treated patients, ``rate``, ``ci_low``,
        ``ci_high`` (fractions, method from the definitions), ``events``, ``sessions`` (given
        up to the cut-off), ``session_rate`` (events per session), ``benchmark_id``,
        ``benchmark_rate``, ``p_value`` (exact binomial vs ``benchmark_rate``),
        ``fisher_p_value`` (vs the study's counts); benchmark columns NaN where the study
        gives no figure.
    """
    d = cohort.definitions
    ae = cohort.adverse_events
    n_treated = int(cohort.patients["treated"].sum())
    n_sessions = len(cohort.sessions)
    labels = list(TERMS) + [SERIOUS]
    # every event as its label's code, and again as SERIOUS when serious
    serious = _is_serious(ae)
    code = np.r_[_codes_in(ae["term"], labels), np.full(int(serious.sum()), len(TERMS))]
    e_pid = ae["_pid"].to_numpy("int64")
    e_pid = np.r_[e_pid, e_pid[serious]]
    known = code >= 0
    events = np.bincount(code[known], minlength=len(labels)).astype("int64")
    # patients with the event: distinct (label, patient) pairs, counted per label
    n_pat = max(len(cohort.patients), 1)
    pairs = np.unique(code[known] * n_pat + e_pid[known])
    k = np.bincount(pairs // n_pat, minlength=len(labels)).astype("int64")
    n = np.full(len(labels), n_treated, dtype="int64")
    props = stats.proportions(k, n, level=d.confidence, method=d.interval_method)
    session_rate = events / n_sessions if n_sessions else np.full(len(labels), np.nan)
    fu = (ae_followup_table(cohort) if followup is None else followup).set_index("term")
    fu = fu.reindex(labels)
    ck, cn = fu["k"].to_numpy("int64"), fu["n"].to_numpy("int64")
    bench = benchmark_columns(ck, cn, [AE_BENCHMARKS.get(t) for t in labels],
                              level=d.confidence)
    out = pd.concat([pd.DataFrame({"term": pd.Series(labels, dtype=object)}),
                     props[["k", "n", "rate", "ci_low", "ci_high"]],
                     pd.DataFrame({"events": events, "sessions": n_sessions,
                                   "session_rate": session_rate,
                                   "min_followup_days": fu["min_followup_days"].to_numpy(),
                                   "compared_k": ck, "compared_n": cn,
                                   "excluded": fu["excluded"].to_numpy(),
                                   "excluded_recent": fu["excluded_recent"].to_numpy(),
                                   "excluded_stopped": fu["excluded_stopped"].to_numpy()}),
                     bench], axis=1)
    for col in ("sessions", "min_followup_days", "compared_k", "compared_n", "excluded",
                "excluded_recent", "excluded_stopped"):
        out[col] = out[col].astype("int64")
    return out[list(AE_COLUMNS)]


def event_session_numbers(cohort: Cohort) -> pd.Series:
    """The number of the session each event followed (1 = first session), Int64.

    Via the event's ``session_id`` when it names a session on or before the cut-off; otherwise
    the patient's latest session on or before the onset date; NA when there is none.
    Index: that of ``cohort.adverse_events``.
    """
    ae = cohort.adverse_events
    s = cohort.sessions
    if "_srow" in ae:  # the loader coded the ids: each event's session as a row of `s`
        e_code = ae["_srow"].to_numpy()
        number = np.r_[s["session_number"].to_numpy(float), np.nan]
    else:
        codes, _ = pd.factorize(pd.concat([s["session_id"], ae["session_id"]],
                                          ignore_index=True))
        s_code, e_code = codes[:len(s)], codes[len(s):]
        number = np.full(codes.max() + 2 if codes.size else 1, np.nan)
        number[s_code] = s["session_number"].to_numpy(float)
    via_id = pd.Series(np.where(e_code >= 0, number[e_code], np.nan), index=ae.index)
    # the by-date fallback only for the events their session_id did not place (sorting every
    # event and session by date cost seconds at a million patients)
    need = np.flatnonzero(via_id.isna().to_numpy())
    e_date = ae["onset_date"].to_numpy("datetime64[ns]")[need]
    rows, e_pid = need[~np.isnat(e_date)], ae["_pid"].to_numpy("int64")[need][~np.isnat(e_date)]
    e_date = e_date[~np.isnat(e_date)]
    fallback = pd.Series(np.nan, index=np.arange(len(ae)))
    if rows.size:
        # latest session of the patient on or before the onset (ties: the later in `s`), as
        # one search on an integer key (patient, rank of the date) rather than merge_asof
        s_pid = s["_pid"].to_numpy("int64")
        s_date = s["session_date"].to_numpy("datetime64[ns]")
        s_number = s["session_number"].to_numpy(float)
        # only the sessions of the patients whose events are placed here
        placed = np.zeros(max(s_pid.max(initial=0), e_pid.max()) + 1, dtype=bool)
        placed[e_pid] = True
        mine = placed[s_pid]
        s_pid, s_date, s_number = s_pid[mine], s_date[mine], s_number[mine]
        dates, rank = np.unique(np.r_[s_date, e_date].view("int64"), return_inverse=True)
        rank = rank.reshape(-1)
        width = dates.size + 1
        s_key, e_key = s_pid * width + rank[:s_pid.size], e_pid * width + rank[s_pid.size:]
        order = np.argsort(s_key, kind="stable")
        at = np.searchsorted(s_key[order], e_key, side="right") - 1
        found = at >= 0
        found[found] = s_pid[order][at[found]] == e_pid[found]
        number_by_date = np.full(len(ae), np.nan)
        number_by_date[rows[found]] = s_number[order][at[found]]
        fallback = pd.Series(number_by_date, index=np.arange(len(ae)))
    out = via_id.astype("Float64").fillna(pd.Series(fallback.to_numpy(), dtype="Float64",
                                                    index=ae.index))
    return out.astype("Int64")


def ae_timing(cohort: Cohort, session_numbers: pd.Series | None = None) -> pd.DataFrame:
    """Events per term by the number of the session they followed.

    Parameters
    ----------
    cohort : Cohort
    session_numbers : Series, optional
        :func:`event_session_numbers` of the cohort, when already computed.

    Returns
    -------
    DataFrame
        ``term``, ``session_number`` (``"1"``, ``"2"``, ``"3"``, ``"4+"``; plus ``"unknown"``
        for a term with events that follow no session), ``events`` (int64). Every term of the
        vocabulary and every level appear (zero counts included).
    """
    ae = cohort.adverse_events
    num = event_session_numbers(cohort) if session_numbers is None else session_numbers
    # level code per event: session 1, 2, 3 -> 0, 1, 2; 4 or later -> 3; no session -> 4
    has = num.notna().to_numpy(bool)
    level = np.full(len(ae), len(SESSION_NUMBER_LEVELS), dtype=np.int64)
    level[has] = np.minimum(num[has].to_numpy("int64"), 4) - 1
    term = _codes_in(ae["term"], list(TERMS))
    width = len(SESSION_NUMBER_LEVELS) + 1
    known = term >= 0
    counts = np.bincount(term[known] * width + level[known],
                         minlength=len(TERMS) * width).reshape(len(TERMS), width)
    levels = list(SESSION_NUMBER_LEVELS) + (["unknown"] if (~has).any() else [])
    counts = counts[:, :len(levels)]
    out = pd.DataFrame({"term": np.repeat(np.array(TERMS, dtype=object), len(levels)),
                        "session_number": np.tile(np.array(levels, dtype=object), len(TERMS)),
                        "events": counts.reshape(-1).astype("int64")})
    return out.astype({"term": object, "session_number": object, "events": "int64"})


def ae_duration(cohort: Cohort) -> pd.DataFrame:
    """Duration (days) of the events of each term, where recorded.

    Returns
    -------
    DataFrame
        One row per term with at least one recorded duration: ``term``, ``events`` (events
        with a duration), ``median_days``, ``q1_days``, ``q3_days``, ``min_days``,
        ``max_days`` (quartiles by linear interpolation, as R ``quantile(type = 7)``).
    """
    ae = cohort.adverse_events
    # grouped by the term's integer code (factorized once), named after: no text per row
    code, terms = pd.factorize(ae["term"])
    days = ae["duration_days"].to_numpy(float)
    known = (code >= 0) & ~np.isnan(days)
    g = pd.Series(days[known]).groupby(code[known], sort=False)
    q = g.quantile([0.25, 0.5, 0.75]).unstack().reindex(columns=[0.25, 0.5, 0.75])
    out = pd.DataFrame({"events": g.size(), "median_days": q[0.5], "q1_days": q[0.25],
                        "q3_days": q[0.75], "min_days": g.min(), "max_days": g.max()})
    out.index = np.asarray(terms, dtype=object)[out.index.to_numpy("int64")]
    order = [t for t in TERMS if t in out.index] + [t for t in out.index if t not in TERMS]
    out = out.reindex(order).rename_axis("term").reset_index()
    return out.astype({"term": object, "events": "int64"})


def sentinel_cases(cohort: Cohort, session_numbers: pd.Series | None = None) -> pd.DataFrame:
    """Each sentinel event, for case-by-case review (internal only: pseudonyms and dates).

    ``session_numbers``: :func:`event_session_numbers` of the cohort, when already computed.

    Sentinel: a serious-by-nature term (paradoxical alopecia, scarring, acute dermatitis,
    sperm abnormality), or any event marked serious or graded severe.

    Returns
    -------
    DataFrame
        ``event_id``, ``patient_id``, ``term``, ``onset_date``, ``session_number`` (Int64),
        ``severity``, ``serious`` (boolean), ``reason`` (str: why it is listed), sorted by
        onset date and event id.
    """
    ae = cohort.adverse_events
    nature = ae["term"].isin(list(SERIOUS_BY_NATURE)).to_numpy(bool)
    marked = ae["serious"].fillna(False).to_numpy(bool)
    severe = (ae["severity"] == "severe").fillna(False).to_numpy(bool)
    keep = nature | marked | severe
    nature, marked, severe = nature[keep], marked[keep], severe[keep]   # the listed events
    reason = (pd.Series(np.where(nature, "serious-by-nature term", ""), dtype=object)
              + np.where(nature & (marked | severe), "; ", "")
              + np.where(marked, "marked serious", "")
              + np.where(marked & severe, "; ", "")
              + np.where(severe, "severe", ""))
    out = ae.loc[keep, ["event_id", "patient_id", "term", "onset_date", "severity",
                        "serious"]].reset_index(drop=True)
    num = event_session_numbers(cohort) if session_numbers is None else session_numbers
    out.insert(4, "session_number", num[keep].reset_index(drop=True))
    out["reason"] = reason
    return out.sort_values(["onset_date", "event_id"], kind="stable").reset_index(drop=True)


#: columns of :func:`ae_followup_table`
FOLLOWUP_COLUMNS = ("term", "min_followup_days", "k", "n", "rate", "ci_low", "ci_high",
                    "treated", "excluded", "excluded_recent", "excluded_stopped", "events",
                    "sessions", "per_100_sessions", "km_days", "km_at_risk", "km_events",
                    "km_cum_incidence", "km_ci_low", "km_ci_high")


def followup_days(cohort: Cohort) -> pd.DataFrame:
    """Follow-up of every treated patient.

    Returns
    -------
    DataFrame
        One row per treated patient (index: the cohort row, ``_pid``): ``followup_days``
        (last contact - first session, days: the latest session, measurement or event onset
        up to the cut-off), ``possible_days`` (cut-off - first session, days).

    Notes
    -----
    Follow-up is what the clinic observed: a patient who never came back after the first
    session has follow-up 0 however long ago that was, since an event after the last contact
    would not be in the records. ``possible_days`` separates those who could not yet have been
    followed long enough (a young clinic) from those who stopped attending.
    """
    p = cohort.patients
    treated = np.flatnonzero(p["treated"].to_numpy(bool))
    # latest contact per patient, as int64 nanoseconds (NaT = the smallest int64): sessions
    # are sorted by patient and date, so each patient's last row is their last session; the
    # measurements and event onsets take one groupby together
    never = np.iinfo(np.int64).min
    last = np.full(len(p), never, dtype=np.int64)
    s_pid = cohort.sessions["_pid"].to_numpy("int64")
    if s_pid.size:
        end = np.r_[s_pid[1:] != s_pid[:-1], True]
        s_date = cohort.sessions["session_date"].to_numpy("datetime64[ns]").view(np.int64)
        last[s_pid[end]] = s_date[end]
    m, ae = cohort.measurements, cohort.adverse_events
    other_pid = np.r_[m["_pid"].to_numpy("int64"), ae["_pid"].to_numpy("int64")]
    if other_pid.size:
        other = np.r_[m["measurement_date"].to_numpy("datetime64[ns]").view(np.int64),
                      ae["onset_date"].to_numpy("datetime64[ns]").view(np.int64)]
        np.maximum.at(last, other_pid, other)   # each patient's latest of all their rows
    last = np.where(last == never, np.datetime64("NaT", "ns"), last.view("datetime64[ns]"))
    t0 = p["t0"].to_numpy("datetime64[ns]")
    day = np.timedelta64(1, "D")
    follow = ((last - t0) / day)[treated]
    possible = ((np.datetime64(cohort.cutoff.to_datetime64(), "ns") - t0) / day)[treated]
    return pd.DataFrame({"followup_days": np.clip(np.nan_to_num(follow), 0, None),
                         "possible_days": possible}, index=pd.Index(treated, name="_pid"))


def ae_followup_table(cohort: Cohort) -> pd.DataFrame:
    """Adverse-event incidence with follow-up: the study's denominator, per 100 sessions, and
    Kaplan-Meier cumulative incidence.

    Parameters
    ----------
    cohort : Cohort
        Uses ``definitions.safety_min_followup_days`` (default 182: the study required six
        months), ``confidence`` and ``interval_method``.

    Returns
    -------
    DataFrame
        One row per term of :data:`outcomes.vocabulary.TERMS`, then ``serious``; columns
        :data:`FOLLOWUP_COLUMNS`:

        - ``k``/``n``/``rate``/``ci_low``/``ci_high``: patients with the event (at any time up
          to the cut-off) among the ``n`` treated patients followed at least
          ``min_followup_days`` (:func:`followup_days`), as the study counted;
        - ``treated``, ``excluded`` (= treated - n), split into ``excluded_recent`` (first
          session less than ``min_followup_days`` before the cut-off) and
          ``excluded_stopped`` (could have been followed that long but the last contact came
          earlier);
        - ``events``, ``sessions``, ``per_100_sessions``: every event and session of the
          treated patients up to the cut-off (exposure-based, no follow-up restriction);
        - ``km_*``: Kaplan-Meier over all treated patients, time from the first session to
          the patient's first event of the term, censored at the last contact; read at
          ``km_days`` (= ``min_followup_days``): ``km_at_risk`` (still followed, event-free,
          at that day), ``km_events`` (first events by that day), ``km_cum_incidence``,
          ``km_ci_low``, ``km_ci_high`` (:func:`outcomes.stats.km_cumulative_incidence`,
          log-log interval at ``definitions.confidence``).
    """
    d = cohort.definitions
    min_days = int(d.safety_min_followup_days)
    fu = followup_days(cohort)
    pids = fu.index.to_numpy("int64")
    follow = fu["followup_days"].to_numpy(float)
    followed = follow >= min_days
    recent = fu["possible_days"].to_numpy(float) < min_days
    ae = cohort.adverse_events
    labels = list(TERMS) + [SERIOUS]
    # every event as (label code, patient, onset): its term's code, and again as SERIOUS when
    # serious; integer keys, so the per-term first events are one sort, not a dozen look-ups
    serious = _is_serious(ae)
    term_code = _codes_in(ae["term"], list(TERMS))
    code = np.r_[term_code, np.full(int(serious.sum()), len(TERMS), dtype=np.int64)]
    e_pid = ae["_pid"].to_numpy("int64")
    e_pid = np.r_[e_pid, e_pid[serious]]
    e_onset = ae["onset_date"].to_numpy("datetime64[ns]")
    e_onset = np.r_[e_onset, e_onset[serious]]
    known = code >= 0
    events = np.bincount(code[known], minlength=len(labels)).astype("int64")
    n_pat = max(len(cohort.patients), 1)
    key = code[known] * n_pat + e_pid[known]
    onset_known = e_onset[known]
    order = np.lexsort((onset_known, key))
    key = key[order]
    lead = np.r_[True, key[1:] != key[:-1]] if key.size else np.zeros(0, dtype=bool)
    f_key, f_onset = key[lead], onset_known[order][lead]  # first onset per (label, patient)
    f_term, f_pid = f_key // n_pat, f_key % n_pat
    bounds = np.searchsorted(f_term, np.arange(len(labels) + 1))
    # a row position per treated patient, to place each term's first events
    pos = np.full(len(cohort.patients), -1, dtype=np.int64)
    pos[pids] = np.arange(pids.size)
    t0 = cohort.patients["t0"].to_numpy("datetime64[ns]")
    k = np.zeros(len(labels), dtype=np.int64)
    km = np.full((len(labels), 5), np.nan)
    for i in range(len(labels)):  # one pass per term (a dozen), vectorised inside
        time, hit = follow.copy(), np.zeros(pids.size, dtype=bool)
        fp = f_pid[bounds[i]:bounds[i + 1]]
        if fp.size:
            at = pos[fp]
            ok = at >= 0
            onset = (f_onset[bounds[i]:bounds[i + 1]][ok] - t0[fp[ok]]) / np.timedelta64(1, "D")
            hit[at[ok]] = True
            time[at[ok]] = np.clip(onset, 0, None)
        k[i] = int((hit & followed).sum())
        cum, lo, hi, risk = stats.km_cumulative_incidence(time, hit, min_days,
                                                          level=d.confidence)
        km[i] = (risk, int((hit & (time <= min_days)).sum()), cum, lo, hi)
    n_followed = int(followed.sum())
    n = np.full(len(labels), n_followed, dtype=np.int64)
    props = stats.proportions(k, n, level=d.confidence, method=d.interval_method)
    n_sessions = len(cohort.sessions)
    per_100 = 100 * events / n_sessions if n_sessions else np.full(len(labels), np.nan)
    out = pd.concat([pd.DataFrame({"term": pd.Series(labels, dtype=object),
                                   "min_followup_days": min_days}),
                     props[["k", "n", "rate", "ci_low", "ci_high"]],
                     pd.DataFrame({
                         "treated": pids.size, "excluded": pids.size - n_followed,
                         "excluded_recent": int((~followed & recent).sum()),
                         "excluded_stopped": int((~followed & ~recent).sum()),
                         "events": events, "sessions": n_sessions, "per_100_sessions": per_100,
                         "km_days": min_days, "km_at_risk": km[:, 0].astype("int64"),
                         "km_events": km[:, 1].astype("int64"), "km_cum_incidence": km[:, 2],
                         "km_ci_low": km[:, 3], "km_ci_high": km[:, 4]})], axis=1)
    for col in ("min_followup_days", "treated", "excluded", "excluded_recent",
                "excluded_stopped", "sessions", "km_days"):
        out[col] = out[col].astype("int64")
    return out[list(FOLLOWUP_COLUMNS)]


def followup_sentence(followup: pd.DataFrame) -> str:
    """The sentence stating the safety denominator and who it leaves out.

    Parameters
    ----------
    followup : DataFrame
        :func:`ae_followup_table` (its first row is read; counts may be suppressed labels
        such as ``"<5"`` in shareable output).

    Returns
    -------
    str
        E.g. "Incidence is among the 134 of 295 treated patients followed at least 182 days
        (last contact at least 182 days after the first session), as in the study; 161 are
        left out: 120 started less than 182 days before the cut-off, 41 stopped attending
        earlier. Events per 100 sessions count every session; the Kaplan-Meier column uses
        every patient up to their last contact."
    """
    if followup is None or len(followup) == 0:
        return "No treated patient: no adverse-event incidence."
    r = followup.iloc[0]
    days = int(r["min_followup_days"])

    def c(v) -> str:
        return v if isinstance(v, str) else f"{int(v):,}"

    return (f"Incidence is among the {c(r['n'])} of {c(r['treated'])} treated patients "
            f"followed at least {days} days (last contact at least {days} days after the first "
            f"session), as in the study; {c(r['excluded'])} are left out: "
            f"{c(r['excluded_recent'])} started less than {days} days before the cut-off, "
            f"{c(r['excluded_stopped'])} stopped attending earlier. Events per 100 sessions "
            f"count every session; the Kaplan-Meier column uses every patient up to their "
            f"last contact.")
