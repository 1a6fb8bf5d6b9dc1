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
from outcomes.cohort import Cohort
from outcomes.response import benchmark_columns
from outcomes.vocabulary import SERIOUS_BY_NATURE, TERMS

__all__ = ["AE_BENCHMARKS", "AE_COLUMNS", "SESSION_NUMBER_LEVELS", "adverse_event_table",
           "event_session_numbers", "ae_timing", "ae_duration", "sentinel_cases"]

#: the row counting serious events (any event marked serious, or of a serious-by-nature term)
SERIOUS = "serious"

#: term -> registry id of the published figure it is compared with
AE_BENCHMARKS = {"injection_site_pain": "saceda2022_pain",
                 "sexual_dysfunction": "saceda2022_sexual",
                 SERIOUS: "saceda2022_serious"}

AE_COLUMNS = ("term", "k", "n", "rate", "ci_low", "ci_high", "events", "sessions",
              "session_rate", "benchmark_id", "benchmark_rate", "p_value", "fisher_p_value")

#: session-number categories of :func:`ae_timing` ("unknown": no session on or before onset)
SESSION_NUMBER_LEVELS = ("1", "2", "3", "4+")


def _is_serious(ae: pd.DataFrame) -> np.ndarray:
    marked = ae["serious"].fillna(False).to_numpy(bool)
    return marked | ae["term"].isin(list(SERIOUS_BY_NATURE)).to_numpy(bool)


def adverse_event_table(cohort: Cohort) -> pd.DataFrame:
    """Patient incidence and session rate per term, against the published figures.

    Parameters
    ----------
    cohort : Cohort

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
    tagged = pd.concat([ae[["_pid", "term"]].astype({"term": object}),
                        ae.loc[_is_serious(ae), ["_pid"]].assign(term=SERIOUS)],
                       ignore_index=True)
    events = tagged["term"].value_counts().reindex(labels, fill_value=0).to_numpy("int64")
    k = (tagged.drop_duplicates(["_pid", "term"])["term"].value_counts()
         .reindex(labels, fill_value=0).to_numpy("int64"))
    n = np.full(len(labels), n_treated, dtype="int64")
    props = stats.proportions(k, n, level=d.confidence, method=d.interval_method)
    session_rate = events / n_sessions if n_sessions else np.full(len(labels), np.nan)
    bench = benchmark_columns(k, n, [AE_BENCHMARKS.get(t) for t in labels], level=d.confidence)
    out = pd.concat([pd.DataFrame({"term": pd.Series(labels, dtype=object)}),
                     props[["k", "n", "rate", "ci_low", "ci_high"]],
                     pd.DataFrame({"events": events, "sessions": n_sessions,
                                   "session_rate": session_rate}),
                     bench], axis=1)
    out["sessions"] = out["sessions"].astype("int64")
    return out[list(AE_COLUMNS)]


def event_session_numbers(cohort: Cohort) -> pd.Series:
    """The number of the session each event followed (1 = first session), Int64.

    Via the event's ``session_id`` when it names a session on or before the cut-off; otherwise
    the patient's latest session on or before the onset date; NA when there is none.
    Index: that of ``cohort.adverse_events``.
    """
    ae = cohort.adverse_events
    s = cohort.sessions
    codes, _ = pd.factorize(pd.concat([s["session_id"], ae["session_id"]], ignore_index=True))
    s_code, e_code = codes[:len(s)], codes[len(s):]
    number = np.full(codes.max() + 2 if codes.size else 1, np.nan)
    number[s_code] = s["session_number"].to_numpy(float)
    via_id = pd.Series(np.where(e_code >= 0, number[e_code], np.nan), index=ae.index)
    # the by-date fallback only for the events their session_id did not place (sorting every
    # event and session by date cost seconds at a million patients)
    need = np.flatnonzero(via_id.isna().to_numpy())
    left = pd.DataFrame({"row": need, "_pid": ae["_pid"].to_numpy("int64")[need],
                         "date": ae["onset_date"].to_numpy("datetime64[ns]")[need]}
                        ).dropna(subset=["date"])
    fallback = pd.Series(np.nan, index=np.arange(len(ae)))
    if len(left):
        right = pd.DataFrame({"_pid": s["_pid"].to_numpy("int64"),
                              "date": s["session_date"].to_numpy("datetime64[ns]"),
                              "number": s["session_number"].to_numpy()})
        asof = pd.merge_asof(left.sort_values("date", kind="stable"),
                             right.sort_values("date", kind="stable"), on="date", by="_pid",
                             direction="backward")
        fallback = pd.Series(asof["number"].to_numpy(), index=asof["row"].to_numpy())
        fallback = fallback.reindex(np.arange(len(ae)))
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
    level = pd.Series("unknown", index=ae.index, dtype=object)
    has = num.notna().to_numpy(bool)
    level[has] = np.where(num[has].to_numpy("int64") >= 4, "4+",
                          num[has].to_numpy("int64").astype(str))
    counts = pd.crosstab(ae["term"].astype(object), level)
    levels = list(SESSION_NUMBER_LEVELS) + (["unknown"] if (level == "unknown").any() else [])
    counts = counts.reindex(index=list(TERMS), columns=levels, fill_value=0)
    out = counts.stack().rename("events").reset_index()
    out.columns = ["term", "session_number", "events"]
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
    dur = pd.DataFrame({"term": ae["term"].astype(object),
                        "days": ae["duration_days"].to_numpy(float)}).dropna()
    g = dur.groupby("term", sort=False)["days"]
    q = g.quantile([0.25, 0.5, 0.75]).unstack().reindex(columns=[0.25, 0.5, 0.75])
    out = pd.DataFrame({"events": g.size(), "median_days": q[0.5], "q1_days": q[0.25],
                        "q3_days": q[0.75], "min_days": g.min(), "max_days": g.max()})
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
    reason = (pd.Series(np.where(nature, "serious-by-nature term", ""), dtype=object)
              + np.where(nature & (marked | severe), "; ", "")
              + np.where(marked, "marked serious", "")
              + np.where(marked & severe, "; ", "")
              + np.where(severe, "severe", ""))[keep].reset_index(drop=True)
    out = ae.loc[keep, ["event_id", "patient_id", "term", "onset_date", "severity",
                        "serious"]].reset_index(drop=True)
    num = event_session_numbers(cohort) if session_numbers is None else session_numbers
    out.insert(4, "session_number", num[keep].reset_index(drop=True))
    out["reason"] = reason
    return out.sort_values(["onset_date", "event_id"], kind="stable").reset_index(drop=True)
