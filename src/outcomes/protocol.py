"""Protocol adherence (session intervals, sessions in year one) and safety-screening deviations.

Year one: the first 365 days after the first session (days 0-364). An interval between two
consecutive sessions belongs to year one when its later session falls in year one, else to
maintenance. On schedule: year-one intervals within ``definitions.year_one_interval``
(60-120 days), maintenance intervals within ``definitions.maintenance_interval`` (135-225
days), both ends included. Sessions in year one are judged only for patients whose first
session is at least 365 days before the cut-off.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from outcomes import labels as _labels
from outcomes import stats
from outcomes.cohort import Cohort

__all__ = ["YEAR_DAYS", "DEVIATIONS", "protocol_patients", "protocol_table", "screening_cases",
           "screening_table"]

#: length of year one, days
YEAR_DAYS = 365

#: screening deviations, in display order, with their meaning (their other words:
#: :data:`outcomes.labels.DEVIATIONS`)
DEVIATIONS = {code: words.definition for code, words in _labels.DEVIATIONS.items()}


def _intervals(cohort: Cohort) -> pd.DataFrame:
    """One row per interval: ``_pid``, ``days`` (gap), ``year_one`` (bool), ``on_schedule``."""
    d = cohort.definitions
    s = cohort.sessions
    pid = s["_pid"].to_numpy()
    day = s["day"].to_numpy("int64")
    has_prev = np.r_[False, pid[1:] == pid[:-1]]
    gap = np.diff(day, prepend=0)[has_prev]
    year_one = day[has_prev] < YEAR_DAYS
    lo1, hi1 = d.year_one_interval
    lo2, hi2 = d.maintenance_interval
    on = np.where(year_one, (gap >= lo1) & (gap <= hi1), (gap >= lo2) & (gap <= hi2))
    return pd.DataFrame({"_pid": pid[has_prev], "days": gap, "year_one": year_one,
                         "on_schedule": on})


def protocol_patients(cohort: Cohort) -> pd.DataFrame:
    """Adherence per treated patient (internal only: one row per patient).

    Returns
    -------
    DataFrame
        ``patient_id``; ``year_one_sessions`` (sessions on days 0-364, int64);
        ``year_one_sessions_ok`` (boolean: within ``definitions.year_one_sessions``; NA when
        the first session is less than 365 days before the cut-off); ``year_one_intervals``,
        ``year_one_on_schedule``, ``maintenance_intervals``, ``maintenance_on_schedule``
        (int64 counts of intervals); ``median_interval_days`` (float, NaN with one session).
    """
    d = cohort.definitions
    p = cohort.patients
    n = len(p)
    s = cohort.sessions
    iv = _intervals(cohort)
    ipid, y1, on = iv["_pid"].to_numpy(), iv["year_one"].to_numpy(), iv["on_schedule"].to_numpy()
    in_y1 = np.bincount(s["_pid"].to_numpy()[s["day"].to_numpy() < YEAR_DAYS], minlength=n)
    lo, hi = d.year_one_sessions
    eligible = (p["treated"].to_numpy(bool)
                & (p["t0"] + pd.Timedelta(days=YEAR_DAYS) <= cohort.cutoff).to_numpy(bool))
    ok = pd.arrays.BooleanArray((in_y1 >= lo) & (in_y1 <= hi), ~eligible)
    median = iv.groupby("_pid")["days"].median().reindex(range(n)).to_numpy(float)
    out = pd.DataFrame({
        "patient_id": p["patient_id"],
        "year_one_sessions": in_y1.astype("int64"),
        "year_one_sessions_ok": ok,
        "year_one_intervals": np.bincount(ipid[y1], minlength=n).astype("int64"),
        "year_one_on_schedule": np.bincount(ipid[y1 & on], minlength=n).astype("int64"),
        "maintenance_intervals": np.bincount(ipid[~y1], minlength=n).astype("int64"),
        "maintenance_on_schedule": np.bincount(ipid[~y1 & on], minlength=n).astype("int64"),
        "median_interval_days": median,
    })
    return out.loc[p["treated"].to_numpy(bool)].reset_index(drop=True)


def protocol_table(cohort: Cohort, patients: pd.DataFrame | None = None) -> pd.DataFrame:
    """Clinic-level adherence.

    Parameters
    ----------
    cohort : Cohort
    patients : DataFrame, optional
        :func:`protocol_patients` of the cohort, when already computed.

    Returns
    -------
    DataFrame
        ``measure``, ``k``, ``n``, ``rate``, ``ci_low``, ``ci_high``, one row each:
        ``year_one_intervals_on_schedule`` (intervals), ``year_one_sessions_in_range``
        (eligible patients with 3-4 sessions in year one),
        ``patients_all_year_one_intervals_on_schedule`` (patients with at least one year-one
        interval, all on schedule), ``maintenance_intervals_on_schedule`` (intervals).
    """
    d = cohort.definitions
    pp = protocol_patients(cohort) if patients is None else patients
    ok = pp["year_one_sessions_ok"]
    with_y1 = pp["year_one_intervals"] > 0
    rows = [
        ("year_one_intervals_on_schedule", pp["year_one_on_schedule"].sum(),
         pp["year_one_intervals"].sum()),
        ("year_one_sessions_in_range", ok.fillna(False).sum(), ok.notna().sum()),
        ("patients_all_year_one_intervals_on_schedule",
         (with_y1 & (pp["year_one_on_schedule"] == pp["year_one_intervals"])).sum(),
         with_y1.sum()),
        ("maintenance_intervals_on_schedule", pp["maintenance_on_schedule"].sum(),
         pp["maintenance_intervals"].sum()),
    ]
    props = stats.proportions([int(r[1]) for r in rows], [int(r[2]) for r in rows],
                              level=d.confidence, method=d.interval_method)
    return pd.concat([pd.DataFrame({"measure": pd.Series([r[0] for r in rows], dtype=object)}),
                      props[["k", "n", "rate", "ci_low", "ci_high"]]], axis=1)


def screening_cases(cohort: Cohort) -> pd.DataFrame:
    """Every session given despite a screening finding (internal only).

    Returns
    -------
    DataFrame
        ``session_id``, ``patient_id``, ``session_date``, ``deviation`` (a key of
        :data:`DEVIATIONS`); a session with two findings appears twice. Sorted by deviation
        order, then date.
    """
    s = cohort.sessions
    pt = cohort.patient_table
    pid = s["_pid"].to_numpy()

    def attr(col):
        return pt[col].fillna(False).to_numpy(bool)[pid]

    wocbp = attr("childbearing_potential") & (pt["sex"] == "F").fillna(False).to_numpy(bool)[pid]
    test = s["pregnancy_test"]
    flags = {
        "hypersensitivity_5ari": attr("hypersensitivity_5ari"),
        "wocbp_without_contraception": wocbp & ~attr("contraception"),
        "positive_pregnancy_test": (test == "positive").fillna(False).to_numpy(bool),
        "wocbp_no_pregnancy_test": wocbp & (test.isna() | (test == "not_done")).to_numpy(bool),
    }
    # the flagged rows of every deviation, in order, taken in one go (not a frame per deviation
    # and a concat)
    rows = np.concatenate([np.flatnonzero(mask) for mask in flags.values()])
    names = np.concatenate([np.full(int(mask.sum()), name, dtype=object)
                            for name, mask in flags.items()])
    out = s[["session_id", "patient_id", "session_date"]].iloc[rows].reset_index(drop=True)
    return out.assign(deviation=names).astype({"deviation": object})


def screening_table(cohort: Cohort, cases: pd.DataFrame | None = None) -> pd.DataFrame:
    """Counts of screening deviations.

    Returns
    -------
    DataFrame
        ``deviation`` (every key of :data:`DEVIATIONS`, zero counts included), ``sessions``
        (sessions given despite it), ``patients`` (distinct patients), int64.
    """
    c = screening_cases(cohort) if cases is None else cases
    names = list(DEVIATIONS)
    sessions = c["deviation"].value_counts().reindex(names, fill_value=0)
    patients = (c.drop_duplicates(["deviation", "patient_id"])["deviation"].value_counts()
                .reindex(names, fill_value=0))
    return pd.DataFrame({"deviation": pd.Series(names, dtype=object),
                         "sessions": sessions.to_numpy("int64"),
                         "patients": patients.to_numpy("int64")})
