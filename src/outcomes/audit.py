"""The quarterly audit cycle: audit periods, re-audit, standards, safety findings, actions.

HQIP's report template ("Documenting local clinical audit", 2020) asks for standards with a
target and their exceptions, compliance per standard, the re-audit against the last cycle and
an action plan; NHS England's "Making Data Count" adds an assurance statement (will the process
meet the target consistently?). This module computes each of them as tidy frames from the
:class:`~outcomes.cohort.Cohort` and the :class:`~outcomes.analysis.Analysis`; it draws nothing.

Audit periods (:func:`period_table`), each labelled with its dates
------------------------------------------------------------------
- ``quarter``: the calendar quarter holding the cut-off (up to the cut-off);
- ``rolling_year``: the four quarters ending with it;
- ``cumulative``: from the quarter of the clinic's first session.

A period's **response cohort** is the patients whose 12-month assessment window
(``t0 + assessment_window``, days 270-450 by default) closed in the period: the patients who
became *due* in it, assessed or not. The quarters therefore partition the cumulative due
cohort (their counts add up to the cumulative counts) and two quarters never share a patient,
so a change between quarters is a difference of independent proportions. (Dating a patient by
the nominal 12-month point instead, as the p-chart does, puts most of the audited quarter's
patients in a window still open at the cut-off: the sample's 2026Q3 then had one patient.)
**Sessions, intervals, screening findings and adverse events** count in the period of their
own date (session date, the later session of an interval, onset date); the patients treated in
a period are those with a session in it.

Every measure of :data:`MEASURES` is a proportion ``k / n`` where a higher rate is better
(compliance), except the activity counts (``n`` missing) and ``serious_event_patients``.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from outcomes import stats
from outcomes.errors import AuditError, ResultsFileError

__all__ = ["PERIODS", "MEASURES", "PERIOD_COLUMNS", "Standard", "Audit", "quarter_label",
           "quarter_bounds", "audit_periods", "period_table", "read_previous",
           "quarter_changes", "quarter_trend", "load_standards", "standards_table",
           "status_and_assurance", "safety_findings", "safety_counts", "read_actions",
           "action_plan", "quarterly_audit", "DEFAULT_SIGN_OFF", "ASSURANCE_RULE",
           "STATUS_RULE"]

#: the audit periods, in display order
PERIODS = ("quarter", "rolling_year", "cumulative")

#: measure -> (plain description, what k counts, what n counts)
MEASURES: dict[str, tuple[str, str, str]] = {
    # response: patients whose 12-month window closed in the period
    "followed_up_photographic": (
        "12-month photographic assessment recorded", "assessed", "due"),
    "photographic_improved_comparable": (
        "improved (photographic, mesotherapy alone)", "improved", "assessed, minoxidil no"),
    "photographic_dramatic_comparable": (
        "marked improvement (photographic, mesotherapy alone)", "marked", "assessed, minoxidil no"),
    "photographic_improved_all": (
        "improved (photographic, all patients)", "improved", "assessed"),
    "photographic_improved_worst_case": (
        "improved, counting every unassessed patient as not improved (photographic, all)",
        "improved", "due"),
    "density_improved_all": ("improved (hair density, all patients)", "improved", "assessed"),
    # activity in the period
    "patients_treated": ("patients with a session in the period", "patients", ""),
    "new_patients": ("patients whose first session fell in the period", "patients", ""),
    "sessions_given": ("sessions given", "sessions", ""),
    "sentinel_events": ("sentinel events (onset in the period)", "events", ""),
    # safety of patients treated in the period
    "pain_patients": ("patients with injection-site pain", "patients with the event",
                      "patients treated in the period"),
    "serious_event_patients": ("patients with a serious event (lower is better)",
                               "patients with the event", "patients treated in the period"),
    # screening: sessions given in the period
    "pregnancy_test_wocbp": ("sessions to a woman of childbearing potential with a pregnancy "
                             "test recorded", "sessions with a test", "sessions to such women"),
    "contraception_wocbp": ("sessions to a woman of childbearing potential with reliable "
                            "contraception recorded", "sessions with contraception",
                            "sessions to such women"),
    "no_positive_test_session": ("sessions not given after a positive pregnancy test",
                                 "sessions", "sessions given"),
    "no_hypersensitivity_session": ("sessions not given to a patient with known 5-ARI "
                                    "hypersensitivity", "sessions", "sessions given"),
    # protocol
    "year_one_intervals_on_schedule": ("year-one intervals between sessions of 60-120 days",
                                       "intervals on schedule", "intervals ending in the period"),
    "year_one_sessions_in_range": ("patients with 3-4 sessions in their first year",
                                   "patients", "patients whose first year ended in the period"),
}

#: columns of :func:`period_table`
PERIOD_COLUMNS = ("period", "first_quarter", "last_quarter", "label", "measure", "k", "n",
                  "rate", "ci_low", "ci_high")

_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")


# ---------------------------------------------------------------------------------------------
# periods
# ---------------------------------------------------------------------------------------------
def quarter_label(date) -> str:
    """The calendar quarter of a date, e.g. ``"2026Q3"``."""
    d = pd.Timestamp(date)
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def quarter_bounds(quarter: str) -> tuple[dt.date, dt.date]:
    """First and last day of a quarter written ``YYYYQn``.

    Raises
    ------
    AuditError
        When the text is not a quarter.
    """
    m = _QUARTER.match(str(quarter))
    if not m:
        raise AuditError(f"{quarter!r} is not a quarter: write it as YYYYQn, e.g. 2026Q3.")
    year, q = int(m[1]), int(m[2])
    start = dt.date(year, 3 * q - 2, 1)
    end = dt.date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1) - dt.timedelta(days=1)
    return start, end


def _shift(quarter: str, by: int) -> str:
    m = _QUARTER.match(quarter)
    assert m is not None, quarter
    i = int(m[1]) * 4 + int(m[2]) - 1 + by
    return f"{i // 4}Q{i % 4 + 1}"


def _words(d: dt.date) -> str:
    return f"{d.day} {d.strftime('%B %Y')}"   # portable: no %-d


def audit_periods(cutoff, first_session) -> pd.DataFrame:
    """The three audit periods of a cut-off, with their dates.

    Parameters
    ----------
    cutoff : date-like
        The last day analysed; the audited quarter is the calendar quarter holding it.
    first_session : date-like
        The clinic's first session (the cumulative period starts on the first day of its
        quarter, not on a patient's date).

    Returns
    -------
    DataFrame
        ``period`` (:data:`PERIODS`), ``first_quarter``, ``last_quarter`` (``"2026Q3"``),
        ``start``, ``end`` (datetime.date; ``end`` is the cut-off), ``label`` (e.g.
        ``"2026Q3: 1 July 2026 to 30 September 2026"``).
    """
    cut = pd.Timestamp(cutoff).date()
    q = quarter_label(cut)
    first = quarter_label(first_session)
    rows = []
    for name, first_q, title in (("quarter", q, "quarter"),
                                 ("rolling_year", _shift(q, -3), "rolling 12 months"),
                                 ("cumulative", first, "all patients")):
        start = quarter_bounds(first_q)[0]
        span = q if first_q == q else f"{first_q} to {q}"
        if name == "quarter":
            span = f"{q}" + ("" if cut == quarter_bounds(q)[1] else " to date")
        rows.append((name, first_q, q, start, cut,
                     f"{title.capitalize() if name != 'quarter' else 'Quarter'} {span}: "
                     f"{_words(start)} to {_words(cut)}"))
    return pd.DataFrame(rows, columns=["period", "first_quarter", "last_quarter", "start", "end",
                                       "label"])


def _n(mask: np.ndarray) -> int:
    """How many True (np.count_nonzero: several times faster than a bool array's sum)."""
    return int(np.count_nonzero(mask))


def _in(dates: pd.Series | np.ndarray, start: dt.date, end: dt.date) -> np.ndarray:
    """Whether each date is from ``start`` to ``end`` (both included); False for NaT."""
    d = np.asarray(dates, dtype="datetime64[ns]")
    return (d >= pd.Timestamp(start).to_datetime64()) & (d <= pd.Timestamp(end).to_datetime64())


def period_table(cohort) -> pd.DataFrame:
    """Every measure of :data:`MEASURES` for each audit period of a cohort.

    Parameters
    ----------
    cohort : Cohort
        From :func:`outcomes.cohort.build_cohort`.

    Returns
    -------
    DataFrame
        Columns :data:`PERIOD_COLUMNS`, one row per period and measure: ``k``, ``n``
        (``Int64``; ``n`` missing for the activity counts), ``rate``, ``ci_low``, ``ci_high``
        (fractions, interval method and level from the definitions; NaN when ``n`` is 0 or
        missing). Aggregate only: no patient, no patient's date (the labels hold quarter
        boundaries and the cut-off).
    """
    d = cohort.definitions
    p = cohort.patients
    s = cohort.sessions
    ae = cohort.adverse_events
    pt = cohort.patient_table
    periods = audit_periods(cohort.cutoff, p["t0"].min())
    lo, hi = (int(v) for v in d.assessment_window)

    # per patient: the day the 12-month window closed; comparable; flags
    closes = p["t0"] + pd.Timedelta(days=hi)
    due = p["due_12m"].to_numpy(bool)
    comparable = (p["minoxidil"] == False).fillna(False).to_numpy(bool)  # noqa: E712
    ga, da = p["gpa_assessed"].to_numpy(bool), p["density_assessed"].to_numpy(bool)
    gi = p["gpa_improved"].fillna(False).to_numpy(bool)
    gd = p["gpa_dramatic"].fillna(False).to_numpy(bool)
    di = p["density_improved"].fillna(False).to_numpy(bool)
    year_end = p["t0"] + pd.Timedelta(days=364)
    n_pat = len(p)

    # per session: patient attributes
    spid = s["_pid"].to_numpy()

    def attr(col):
        return pt[col].fillna(False).to_numpy(bool)[spid]

    wocbp = attr("childbearing_potential") & (pt["sex"] == "F").fillna(False).to_numpy(bool)[spid]
    test = s["pregnancy_test"]
    tested = test.isin(["positive", "negative"]).to_numpy(bool)
    positive = (test == "positive").fillna(False).to_numpy(bool)
    hyper = attr("hypersensitivity_5ari")
    contra = attr("contraception")
    # intervals: the later session's date; year one when its day < 365
    sday = s["day"].to_numpy("int64")
    has_prev = np.r_[False, spid[1:] == spid[:-1]] if len(s) else np.zeros(0, bool)
    gap = np.diff(sday, prepend=0)
    y1 = has_prev & (sday < 365)
    lo1, hi1 = d.year_one_interval
    on = (gap >= lo1) & (gap <= hi1)
    # year-one session counts per patient
    in_y1 = np.bincount(spid[sday < 365], minlength=n_pat)
    slo, shi = d.year_one_sessions
    y1_ok = (in_y1 >= slo) & (in_y1 <= shi)
    # adverse events
    from outcomes.vocabulary import SERIOUS_BY_NATURE

    apid = ae["_pid"].to_numpy()
    nature = ae["term"].isin(list(SERIOUS_BY_NATURE)).to_numpy(bool)
    marked = ae["serious"].fillna(False).to_numpy(bool)
    severe = (ae["severity"] == "severe").fillna(False).to_numpy(bool)
    pain = (ae["term"] == "injection_site_pain").fillna(False).to_numpy(bool)

    def patients(mask_rows: np.ndarray, pids: np.ndarray) -> int:
        """How many distinct patients the rows in ``mask_rows`` belong to."""
        seen = np.zeros(n_pat, bool)
        seen[pids[mask_rows]] = True
        return _n(seen)

    rows = []
    for per in periods.itertuples(index=False):  # three periods, not a loop over rows
        closed = due & _in(closes, per.start, per.end)
        ss = _in(s["session_date"], per.start, per.end)
        ee = _in(ae["onset_date"], per.start, per.end)
        treated_here = np.zeros(n_pat, bool)
        treated_here[spid[ss]] = True
        ended = _in(year_end, per.start, per.end) & (year_end <= cohort.cutoff).to_numpy(bool)
        ended &= p["treated"].to_numpy(bool)
        had_event = np.zeros(n_pat, bool)
        values = {
            "followed_up_photographic": (_n(closed & ga), _n(closed)),
            "photographic_improved_comparable": (_n(closed & ga & comparable & gi),
                                                 _n(closed & ga & comparable)),
            "photographic_dramatic_comparable": (_n(closed & ga & comparable & gd),
                                                 _n(closed & ga & comparable)),
            "photographic_improved_all": (_n(closed & ga & gi), _n(closed & ga)),
            "photographic_improved_worst_case": (_n(closed & ga & gi), _n(closed)),
            "density_improved_all": (_n(closed & da & di), _n(closed & da)),
            "patients_treated": (_n(treated_here), None),
            "new_patients": (_n(_in(p["t0"], per.start, per.end)), None),
            "sessions_given": (_n(ss), None),
            "sentinel_events": (_n(ee & (nature | marked | severe)), None),
            "pain_patients": (patients(ee & pain & treated_here[apid], apid),
                              _n(treated_here)),
            "serious_event_patients": (
                patients(ee & (nature | marked) & treated_here[apid], apid), _n(treated_here)),
            "pregnancy_test_wocbp": (_n(ss & wocbp & tested), _n(ss & wocbp)),
            "contraception_wocbp": (_n(ss & wocbp & contra), _n(ss & wocbp)),
            "no_positive_test_session": (_n(ss & ~positive), _n(ss)),
            "no_hypersensitivity_session": (_n(ss & ~hyper), _n(ss)),
            "year_one_intervals_on_schedule": (_n(ss & y1 & on), _n(ss & y1)),
            "year_one_sessions_in_range": (_n(ended & y1_ok), _n(ended)),
        }
        del had_event
        for measure, (k, n) in values.items():
            rows.append((per.period, per.first_quarter, per.last_quarter, per.label, measure,
                         int(k), None if n is None else int(n)))
    out = pd.DataFrame(rows, columns=list(PERIOD_COLUMNS[:7]))
    out["k"] = out["k"].astype("Int64")
    out["n"] = pd.array(out["n"].tolist(), dtype="Int64")
    return _with_rates(out, level=d.confidence, method=d.interval_method)


def _with_rates(df: pd.DataFrame, *, level: float, method: str) -> pd.DataFrame:
    """``rate``, ``ci_low``, ``ci_high`` from ``k`` and ``n`` (NaN where n is 0 or missing)."""
    k = pd.to_numeric(df["k"], errors="coerce").to_numpy(float)
    n = pd.to_numeric(df["n"], errors="coerce").to_numpy(float)
    ok = ~np.isnan(k) & ~np.isnan(n) & (n > 0)
    rate, low, high = (np.full(len(df), np.nan) for _ in range(3))
    if ok.any():
        props = stats.proportions(k[ok].astype(np.int64), n[ok].astype(np.int64), level=level,
                                  method=method)
        rate[ok] = props["rate"].to_numpy(float)
        low[ok] = props["ci_low"].to_numpy(float)
        high[ok] = props["ci_high"].to_numpy(float)
    return df.assign(rate=rate, ci_low=low, ci_high=high)


# ---------------------------------------------------------------------------------------------
# re-audit
# ---------------------------------------------------------------------------------------------
def _results_quarter(data: Mapping, source: str) -> str:
    rows = [r for r in data.get("periods") or [] if r.get("period") == "quarter"]
    if not rows:
        raise AuditError(f"{source}: has no audit periods (it was written by an outcomes "
                         "older than the quarterly audit). Re-run `outcomes analyze --json "
                         "FILE` (or `outcomes report`) for that quarter with this version.")
    return str(rows[0]["last_quarter"])


def read_previous(paths: Sequence, current: Mapping, *, current_source: str = "this report"
                  ) -> list[tuple[str, dict]]:
    """Read earlier results files for a re-audit and check they are comparable.

    Parameters
    ----------
    paths : sequence of str, Path or dict
        Results files written by ``outcomes analyze --json`` or ``outcomes report``
        (``results.json`` of the internal report: a shareable file's ``"<5"`` cells cannot be
        compared exactly and are refused).
    current : dict
        The results dict of the audited quarter (:meth:`Analysis.to_dict`).
    current_source : str
        Its name in messages.

    Returns
    -------
    list of (quarter, dict)
        Sorted by quarter, oldest first.

    Raises
    ------
    ResultsFileError
        Definitions that differ from the current analysis (the check ``outcomes pool``
        applies, :func:`outcomes.results_file.check_definitions`, naming the key and both
        values).
    AuditError
        A file that cannot be read, is not JSON, of another format version, not a clinic's
        own analysis, shareable (rounded or ``"<5"`` counts cannot be compared exactly) or
        without audit periods; a quarter given twice, or the audited quarter (or a later one)
        given as previous.

    Notes
    -----
    The pool's reader (:func:`outcomes.results_file.read_results`) is not used for the files
    themselves: it refuses practitioner ids, which a clinic's own internal results hold; a
    re-audit never leaves the clinic.
    """
    files = _read_comparable(paths, current["definitions"], current_source)
    now = _results_quarter(current, current_source)
    seen: dict[str, str] = {}
    out = []
    for source, data in files:
        q = _results_quarter(data, source)
        if q in seen:
            raise AuditError(f"{source} and {seen[q]} both audit {q}: give each earlier "
                             "quarter once.")
        if q >= now:
            raise AuditError(f"{source} audits {q}, not a quarter before the audited {now}: "
                             "--previous takes earlier quarters' results files.")
        seen[q] = source
        out.append((q, data))
    return sorted(out, key=lambda t: t[0])


def check_previous(paths: Sequence, definitions, *,
                   current_source: str = "this report") -> None:
    """Refuse earlier results files a re-audit cannot compare, before any analysis.

    What :func:`read_previous` checks of the files themselves and of their definitions
    (the same messages), from the definitions the analysis will use: ``outcomes report
    --previous`` refuses a mismatched file at once, not after the load, the analysis and
    the density model. The quarters are checked by :func:`read_previous`, after the analysis.

    Parameters
    ----------
    paths : sequence of str, Path or dict
        As :func:`read_previous`.
    definitions : Definitions
        The definitions of the coming analysis.
    current_source : str
        The current analysis's name in messages.

    Raises
    ------
    ResultsFileError, AuditError
        As :func:`read_previous`.
    """
    _read_comparable(paths, definitions.to_dict(), current_source)


def _read_comparable(paths: Sequence, definitions: Mapping, current_source: str
                     ) -> list[tuple[str, dict]]:
    """Each earlier results file read and checked (:func:`_read_one`), with definitions
    those of the current analysis (``definitions``, as its results dict holds them)."""
    from outcomes import results_file

    files = []
    for item in paths:
        source = str(item) if not isinstance(item, Mapping) else "previous results"
        files.append((source, _read_one(item, source)))
    try:
        results_file.check_definitions([(current_source, {"definitions": definitions}),
                                        *files])
    except ResultsFileError as err:   # the pool's words speak of clinics; say what to re-run
        what = str(err).split(" Counts are comparable")[0].rstrip(".")
        raise ResultsFileError(f"{what}. A re-audit compares quarters only under the same "
                               "definitions: re-run the earlier quarter with this report's "
                               "--definitions file, or this report with that quarter's."
                               ) from None
    return files


def _read_one(item, source: str) -> dict:
    """One earlier quarter's results (a path or a dict), checked for a re-audit."""
    import json

    from outcomes.results_file import FORMAT_VERSION

    fix = ("Give the internal report's results.json or the file of `outcomes analyze --json "
           "FILE` for that quarter.")
    if isinstance(item, Mapping):
        data = json.loads(json.dumps(item, default=str))
    else:
        try:
            data = json.loads(Path(item).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as err:
            raise AuditError(f"--previous {source} cannot be read ({err.__class__.__name__}: "
                             f"{err}). {fix}") from None
        except json.JSONDecodeError as err:
            raise AuditError(f"--previous {source} is not valid JSON ({err.msg} at line "
                             f"{err.lineno}). {fix}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("definitions"), Mapping):
        raise AuditError(f"--previous {source} is not a results file (no definitions). {fix}")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise AuditError(f"--previous {source}: format_version {version!r}, this outcomes "
                         f"reads {FORMAT_VERSION}. Re-run that quarter with this version.")
    if data.get("kind") != "analysis":
        raise AuditError(f"--previous {source}: kind {data.get('kind')!r}; a re-audit "
                         f"compares a clinic's own quarters (kind 'analysis'). {fix}")
    if data.get("shareable"):
        raise AuditError(f"--previous {source} is a shareable file: its counts are rounded or "
                         f"hidden and cannot be compared exactly. {fix}")
    return dict(data)


def _quarter_rows(data: Mapping) -> pd.DataFrame:
    df = pd.DataFrame.from_records(list(data.get("periods") or []))
    return df.loc[df["period"] == "quarter"].reset_index(drop=True)


def quarter_trend(current: pd.DataFrame, previous: Sequence[tuple[str, Mapping]], *,
                  level: float = 0.95, method: str = "wilson") -> pd.DataFrame:
    """Each measure's quarterly figure over the quarters given, oldest first.

    Parameters
    ----------
    current : DataFrame
        :func:`period_table` of the audited quarter's analysis.
    previous : list of (quarter, dict)
        From :func:`read_previous`.

    Returns
    -------
    DataFrame
        ``quarter``, ``label``, ``measure``, ``k``, ``n``, ``rate``, ``ci_low``, ``ci_high``
        (rates recomputed from the counts with the current interval method).
    """
    parts = [_quarter_rows(d) for _, d in previous]
    parts.append(current.loc[current["period"] == "quarter"])
    df = pd.concat([x[["last_quarter", "label", "measure", "k", "n"]] for x in parts],
                   ignore_index=True).rename(columns={"last_quarter": "quarter"})
    df["k"] = pd.array(pd.to_numeric(df["k"], errors="coerce"), dtype="Int64")
    df["n"] = pd.array(pd.to_numeric(df["n"], errors="coerce"), dtype="Int64")
    df = df.loc[df["measure"].isin(list(MEASURES))]
    order = {m: i for i, m in enumerate(MEASURES)}
    df = df.sort_values(["measure", "quarter"], key=lambda c: c.map(order) if c.name ==
                        "measure" else c, kind="stable").reset_index(drop=True)
    return _with_rates(df, level=level, method=method)


def quarter_changes(trend: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """Change of each proportion since the previous quarter given.

    Parameters
    ----------
    trend : DataFrame
        :func:`quarter_trend` (at least two quarters).

    Returns
    -------
    DataFrame
        ``measure``, ``quarter``, ``k``, ``n``, ``rate`` (audited quarter),
        ``previous_quarter``, ``previous_k``, ``previous_n``, ``previous_rate``, ``diff``
        (rate - previous_rate, fraction), ``diff_ci_low``, ``diff_ci_high`` (Newcombe hybrid
        score interval for the difference of independent proportions, at ``level``),
        ``p_value`` (Fisher's exact test, two-sided). Activity counts (no ``n``) are left out.
        The two quarters' response cohorts share no patient (see the module notes); the
        session-based measures count sessions, which are treated as independent.
    """
    cols = ["measure", "quarter", "k", "n", "rate", "previous_quarter", "previous_k",
            "previous_n", "previous_rate", "diff", "diff_ci_low", "diff_ci_high", "p_value"]
    t = trend.loc[trend["n"].notna()]
    quarters = sorted(t["quarter"].unique())
    if len(quarters) < 2:
        return pd.DataFrame(columns=cols)
    now = t.loc[t["quarter"] == quarters[-1]].set_index("measure")
    before = t.loc[t["quarter"] == quarters[-2]].set_index("measure")
    common = [m for m in now.index if m in before.index]
    now, before = now.loc[common], before.loc[common]
    k1, n1 = now["k"].to_numpy(np.int64), now["n"].to_numpy(np.int64)
    k2, n2 = before["k"].to_numpy(np.int64), before["n"].to_numpy(np.int64)
    diff, low, high = stats.newcombe_difference(k1, n1, k2, n2, level=level)
    p = np.full(len(common), np.nan)
    ok = (n1 > 0) & (n2 > 0)
    if ok.any():
        p[ok] = stats.fisher_test(k1[ok], n1[ok], k2[ok], n2[ok])
    out = pd.DataFrame({
        "measure": pd.Series(common, dtype=object), "quarter": quarters[-1],
        "k": now["k"].to_numpy(), "n": now["n"].to_numpy(), "rate": now["rate"].to_numpy(),
        "previous_quarter": quarters[-2], "previous_k": before["k"].to_numpy(),
        "previous_n": before["n"].to_numpy(), "previous_rate": before["rate"].to_numpy(),
        "diff": np.asarray(diff, float), "diff_ci_low": np.asarray(low, float),
        "diff_ci_high": np.asarray(high, float), "p_value": p})
    return out[cols]


# ---------------------------------------------------------------------------------------------
# standards
# ---------------------------------------------------------------------------------------------
#: the rule behind the red/amber/green status (shown in the report)
STATUS_RULE = ("Green: the rate meets the target. Amber: below the target, but the target "
               "lies inside the rate's {level} interval (the shortfall may be chance). Red: the "
               "whole interval lies below the target. With a 100% target any breach is red.")
#: the rule behind the assurance statement (Making Data Count's assurance icons)
ASSURANCE_RULE = ("Assurance, from the {level} interval of the rolling 12 months (four "
                  "quarters: the process as it runs now), as Making Data Count's assurance "
                  "icons read a chart's process limits: lower bound at or above the target = "
                  "the process will consistently meet it; upper bound below the target = it "
                  "will consistently fail to meet it without a change; otherwise not assured "
                  "(it will meet the target in some quarters and miss it in others). A 100% "
                  "target is never assured: a clean record of n cases still allows a breach "
                  "rate up to 1 - lower bound.")


@dataclass(frozen=True)
class Standard:
    """One audit standard (a row of a standards file).

    Attributes
    ----------
    id : str
        Short key, e.g. ``"pregnancy_test"``.
    title : str
        The standard in words.
    measure : str
        A key of :data:`MEASURES` whose rate is the compliance.
    target : float
        Fraction 0-1 the rate should reach.
    target_text : str
        How the target was set (``"100%"``, ``"lower 95% bound of Saceda-Corralo 2022,
        69/86"``).
    exceptions : str
        Cases the standard does not apply to (left out of ``n``), in words.
    period : str
        Audit period whose rate sets the status (``"quarter"`` or ``"rolling_year"``).
    source : str
        Where the standard comes from.
    """

    id: str
    title: str
    measure: str
    target: float
    target_text: str
    exceptions: str = "None."
    period: str = "quarter"
    source: str = ""


_DEFAULT_STANDARDS = "standards.toml"


def _standard_target(raw, where: str, level: float) -> tuple[float, str]:
    if isinstance(raw, bool):
        raise AuditError(f"{where}: target = {raw!r} is not a rate; write a fraction such as "
                         "0.8 or 1.0, or 'saceda2022_improved:lower'.")
    if isinstance(raw, (int, float)):
        if not 0 <= raw <= 1:
            raise AuditError(f"{where}: target = {raw!r} is outside 0-1; write the target as a "
                             "fraction (0.8 for 80%).")
        return float(raw), f"{100 * raw:g}%"
    if isinstance(raw, str) and raw.endswith(":lower"):
        from outcomes import registry

        bid = raw.removesuffix(":lower")
        try:
            b = registry.benchmark(bid)
        except Exception:
            raise AuditError(f"{where}: target = {raw!r}: no published figure {bid!r} in the "
                             "registry (see `outcomes.published_figures()`).") from None
        if not b.has_counts:
            raise AuditError(f"{where}: target = {raw!r}: {b.label} gives no counts, so it "
                             "has no interval; write a fraction instead.")
        low, _ = stats.proportion_ci(int(b.k or 0), int(b.n or 0), level=level)
        return float(low), (f"{100 * low:.1f}%: lower {100 * level:g}% bound of {b.label} "
                            f"({b.k}/{b.n}{', derived from its %' if b.derived else ''})")
    raise AuditError(f"{where}: target = {raw!r}: write a fraction (0.8 for 80%) or "
                     "'<registry id>:lower' (the published figure's lower bound).")


def load_standards(path=None, *, level: float = 0.95) -> tuple[Standard, ...]:
    """Read a standards file (TOML), or the defaults shipped with the package.

    Parameters
    ----------
    path : str or Path, optional
        A TOML file of ``[[standard]]`` tables with ``id``, ``title``, ``measure``,
        ``target`` (a fraction, or ``"<registry id>:lower"`` for the lower bound of a
        published figure), and optionally ``exceptions``, ``period`` (``"quarter"`` or
        ``"rolling_year"``) and ``source``. Default: ``outcomes/data/standards.toml`` (from
        the protocol the clinic page states).
    level : float
        Confidence level for a ``:lower`` target.

    Returns
    -------
    tuple of Standard

    Raises
    ------
    AuditError
        Unreadable or invalid TOML, a missing key, an unknown measure or period, a target
        outside 0-1, a repeated id; the message names the file, the standard and the fix.
    """
    if path is None:
        text = resources.files("outcomes").joinpath("data", _DEFAULT_STANDARDS).read_text(
            encoding="utf-8")
        source = f"the default standards ({_DEFAULT_STANDARDS})"
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise AuditError(f"standards file {source} cannot be read ({err}); give a UTF-8 "
                             "TOML file to --standards.") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise AuditError(f"standards file {source} is not valid TOML ({err}).") from None
    items = data.get("standard")
    if not isinstance(items, list) or not items:
        raise AuditError(f"standards file {source} has no [[standard]] table; see "
                         "docs/examples/standards.toml.")
    out, seen = [], set()
    for i, item in enumerate(items, start=1):
        where = f"{source}, standard {i}" + (f" ({item.get('id')})" if "id" in item else "")
        missing = [k for k in ("id", "title", "measure", "target") if k not in item]
        if missing:
            raise AuditError(f"{where}: missing {', '.join(missing)}.")
        unknown = set(item) - {"id", "title", "measure", "target", "exceptions", "period",
                               "source"}
        if unknown:
            raise AuditError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; a standard "
                             "has id, title, measure, target, exceptions, period, source.")
        if item["measure"] not in MEASURES or MEASURES[item["measure"]][2] == "":
            names = [m for m, v in MEASURES.items() if v[2]]
            raise AuditError(f"{where}: measure {item['measure']!r} is not a rate the audit "
                             f"computes; choose one of {', '.join(names)}.")
        period = item.get("period", "quarter")
        if period not in ("quarter", "rolling_year"):
            raise AuditError(f"{where}: period {period!r}: write 'quarter' or 'rolling_year'.")
        if item["id"] in seen:
            raise AuditError(f"{where}: id {item['id']!r} is used twice.")
        seen.add(item["id"])
        target, text_ = _standard_target(item["target"], where, level)
        out.append(Standard(id=str(item["id"]), title=str(item["title"]),
                            measure=item["measure"], target=target, target_text=text_,
                            exceptions=str(item.get("exceptions", "None.")), period=period,
                            source=str(item.get("source", ""))))
    return tuple(out)


def status_and_assurance(k, n, ci_low, ci_high, year_ci_low, year_ci_high, target
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Red/amber/green status and assurance of rates against targets (vectorised).

    Parameters
    ----------
    k, n : array-like
        Compliant cases and cases of the status period (n 0 or missing: ``"no data"``).
    ci_low, ci_high : array-like
        The status period's interval (fractions).
    year_ci_low, year_ci_high : array-like
        The rolling year's interval (fractions).
    target : array-like
        Targets (fractions).

    Returns
    -------
    status, assurance : ndarray of str
        ``status`` in ``green``/``amber``/``red``/``no data`` (:data:`STATUS_RULE`);
        ``assurance`` in ``consistently met``/``consistently not met``/``not assured``/
        ``no data`` (:data:`ASSURANCE_RULE`).
    """
    k = pd.to_numeric(pd.Series(k, dtype=object), errors="coerce").to_numpy(float)
    n = pd.to_numeric(pd.Series(n, dtype=object), errors="coerce").to_numpy(float)
    lo, hi, ylo, yhi, t = (np.asarray(x, float) for x in (ci_low, ci_high, year_ci_low,
                                                             year_ci_high, target))
    eps = 1e-12
    has = ~np.isnan(n) & (n > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = k / n
    status = np.where(~has, "no data",
                      np.where(rate >= t - eps, "green",
                               np.where(hi >= t - eps, "amber", "red"))).astype(object)
    yhas = ~np.isnan(ylo) & ~np.isnan(yhi)
    assurance = np.where(~yhas, "no data",
                         np.where((ylo >= t - eps) & (t < 1 - eps), "consistently met",
                                  np.where(yhi < t - eps, "consistently not met",
                                           "not assured"))).astype(object)
    return status, assurance


def standards_table(periods: pd.DataFrame, standards: Sequence[Standard]) -> pd.DataFrame:
    """Compliance of each standard: quarter and rolling year, status, assurance.

    Parameters
    ----------
    periods : DataFrame
        :func:`period_table` of the audited analysis.
    standards : sequence of Standard
        From :func:`load_standards`.

    Returns
    -------
    DataFrame
        ``id``, ``standard`` (title), ``measure``, ``target`` (fraction), ``target_text``,
        ``exceptions``, ``period`` (the status period), ``k``, ``n``, ``rate``, ``ci_low``,
        ``ci_high`` (the quarter), ``year_k``, ``year_n``, ``year_rate``, ``year_ci_low``,
        ``year_ci_high`` (the rolling 12 months), ``status``, ``assurance``, ``source``.
    """
    q = periods.loc[periods["period"] == "quarter"].set_index("measure")
    y = periods.loc[periods["period"] == "rolling_year"].set_index("measure")
    st = pd.DataFrame({
        "id": [s.id for s in standards], "standard": [s.title for s in standards],
        "measure": [s.measure for s in standards], "target": [s.target for s in standards],
        "target_text": [s.target_text for s in standards],
        "exceptions": [s.exceptions for s in standards],
        "period": [s.period for s in standards], "source": [s.source for s in standards]},
        dtype=object).astype({"target": float})
    m = st["measure"]
    for pre, src in (("", q), ("year_", y)):
        for c in ("k", "n", "rate", "ci_low", "ci_high"):
            st[pre + c] = src[c].reindex(m).to_numpy()
    by_year = (st["period"] == "rolling_year").to_numpy()
    pick = {c: np.where(by_year, st["year_" + c].to_numpy(object), st[c].to_numpy(object))
            for c in ("k", "n", "ci_low", "ci_high")}
    st["status"], st["assurance"] = status_and_assurance(
        pick["k"], pick["n"], pick["ci_low"].astype(float), pick["ci_high"].astype(float),
        st["year_ci_low"].astype(float), st["year_ci_high"].astype(float), st["target"])
    cols = ["id", "standard", "measure", "target", "target_text", "exceptions", "period", "k",
            "n", "rate", "ci_low", "ci_high", "year_k", "year_n", "year_rate", "year_ci_low",
            "year_ci_high", "status", "assurance", "source"]
    return st[cols]


# ---------------------------------------------------------------------------------------------
# safety findings
# ---------------------------------------------------------------------------------------------
_FINDING_ORDER = ("positive_pregnancy_test", "hypersensitivity_5ari",
                  "wocbp_without_contraception", "wocbp_no_pregnancy_test")


def safety_findings(sentinel_cases: pd.DataFrame, screening_cases: pd.DataFrame,
                    periods: pd.DataFrame) -> pd.DataFrame:
    """Every sentinel case and screening breach to review (internal only).

    Parameters
    ----------
    sentinel_cases, screening_cases : DataFrame
        :attr:`Analysis.sentinel_cases` and :attr:`Analysis.screening_cases`.
    periods : DataFrame
        :func:`audit_periods` (for the audited quarter's dates).

    Returns
    -------
    DataFrame
        One row per sentinel event, and one per patient and screening deviation (its
        sessions counted): ``kind`` (``"sentinel event"`` / ``"screening breach"``),
        ``finding`` (term or deviation key), ``what`` (in words), ``patient_id``,
        ``first_date``, ``last_date`` (datetime64), ``sessions`` (Int64; the session number
        of a sentinel event, the number of sessions of a breach), ``when``
        (``"this quarter"`` when a date falls in the audited quarter, else ``"earlier"``).
        This quarter's first, then breaches before sentinel events (a positive pregnancy test
        first), then by date.
    """
    from outcomes.protocol import DEVIATIONS

    q = periods.set_index("period").loc["quarter"]
    start, end = pd.Timestamp(q["start"]), pd.Timestamp(q["end"])
    sc = screening_cases
    g = sc.groupby(["deviation", "patient_id"], sort=False)["session_date"]
    br = g.agg(first_date="min", last_date="max", sessions="size").reset_index()
    br["any_in_q"] = sc.assign(_q=sc["session_date"].between(start, end)).groupby(
        ["deviation", "patient_id"], sort=False)["_q"].any().to_numpy() if len(sc) else []
    breaches = pd.DataFrame({
        "kind": "screening breach", "finding": br["deviation"].astype(object),
        "what": br["deviation"].map(DEVIATIONS).astype(object),
        "patient_id": br["patient_id"].astype(object), "first_date": br["first_date"],
        "last_date": br["last_date"], "sessions": br["sessions"].astype("Int64"),
        "_in": br["any_in_q"].astype(bool),
        "_rank": br["deviation"].map({k: i for i, k in enumerate(_FINDING_ORDER)}).fillna(9)})
    sv = sentinel_cases
    words = sv["term"].astype(str).str.replace("_", " ") + " (" + sv["reason"].astype(str) + ")"
    sentinels = pd.DataFrame({
        "kind": "sentinel event", "finding": sv["term"].astype(object), "what": words,
        "patient_id": sv["patient_id"].astype(object), "first_date": sv["onset_date"],
        "last_date": sv["onset_date"], "sessions": sv["session_number"].astype("Int64"),
        "_in": sv["onset_date"].between(start, end).to_numpy(bool), "_rank": 10})
    out = pd.concat([breaches, sentinels], ignore_index=True)
    out["when"] = np.where(out["_in"].to_numpy(bool), "this quarter", "earlier")
    out = out.sort_values(["_in", "_rank", "first_date"], ascending=[False, True, True],
                          kind="stable")
    return out.drop(columns=["_in", "_rank"]).reset_index(drop=True)


def safety_counts(sentinel_cases: pd.DataFrame, screening_cases: pd.DataFrame,
                  periods: pd.DataFrame) -> pd.DataFrame:
    """Counts of the safety findings per audit period (the shareable form of the box).

    Returns
    -------
    DataFrame
        ``finding`` (``"sentinel events"`` then each screening deviation key), ``period``
        (:data:`PERIODS`), ``cases`` (events or sessions), ``patients`` (distinct), int64.
        Suppressed like any count in shareable output.
    """
    from outcomes.protocol import DEVIATIONS

    rows = []
    for per in periods.itertuples(index=False):  # three periods
        a, b = pd.Timestamp(per.start), pd.Timestamp(per.end)
        sv = sentinel_cases.loc[sentinel_cases["onset_date"].between(a, b)]
        rows.append(("sentinel_events", per.period, len(sv), sv["patient_id"].nunique()))
        sc = screening_cases.loc[screening_cases["session_date"].between(a, b)]
        for dev in DEVIATIONS:
            x = sc.loc[sc["deviation"] == dev]
            rows.append((dev, per.period, len(x), x["patient_id"].nunique()))
    out = pd.DataFrame(rows, columns=["finding", "period", "cases", "patients"])
    return out.astype({"finding": object, "period": object, "cases": "int64",
                       "patients": "int64"})


# ---------------------------------------------------------------------------------------------
# actions
# ---------------------------------------------------------------------------------------------
#: action status as written -> the status shown
_STATUS = {"not started": "not started", "open": "not started", "todo": "not started",
           "to do": "not started", "planned": "not started",
           "in progress": "in progress", "ongoing": "in progress", "started": "in progress",
           "done": "done", "complete": "done", "completed": "done", "closed": "done",
           "dropped": "dropped", "cancelled": "dropped", "canceled": "dropped"}
ACTION_COLUMNS = ("action", "owner", "due", "status", "raised", "standard")

#: roles of the sign-off block when the actions file names none
DEFAULT_SIGN_OFF = ("Audit lead", "Clinical lead", "Clinical governance committee chair")


def read_actions(path) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Read an action plan (CSV or TOML).

    Parameters
    ----------
    path : str or Path
        CSV with a header ``action,owner,due,status`` and optionally ``raised`` (the quarter
        the action was agreed, ``2026Q2``) and ``standard`` (a standard's id); or TOML with
        ``[[action]]`` tables of the same keys and optionally ``[sign_off] roles = [...]``.
        ``due`` is YYYY-MM-DD; ``status`` one of not started / in progress / done / dropped
        (open, ongoing, completed, closed, cancelled are read as these).

    Returns
    -------
    actions : DataFrame
        Columns :data:`ACTION_COLUMNS`; ``due`` datetime64; ``raised`` a quarter or NA.
    roles : tuple of str
        The sign-off roles (default :data:`DEFAULT_SIGN_OFF`).

    Raises
    ------
    AuditError
        Unreadable file, missing column, empty action, a due date or status or quarter that
        cannot be read: naming the file, the row, the column, the value and the fix.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise AuditError(f"actions file {p} cannot be read ({err}); give a UTF-8 CSV or TOML "
                         "file to --actions.") from None
    roles: tuple[str, ...] = DEFAULT_SIGN_OFF
    if p.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise AuditError(f"actions file {p} is not valid TOML ({err}).") from None
        records = data.get("action", [])
        if not isinstance(records, list):
            raise AuditError(f"actions file {p}: write each action as an [[action]] table.")
        sign = data.get("sign_off", {})
        if sign.get("roles"):
            roles = tuple(str(r) for r in sign["roles"])
        first_row = 1
    else:
        reader = csv.DictReader(io.StringIO(text))
        records = [dict(r) for r in reader]
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in ("action", "owner", "due", "status") if c not in header]
        if missing:
            raise AuditError(f"actions file {p}: no column {', '.join(missing)}; the header "
                             "is action,owner,due,status[,raised,standard].")
        records = [{k.strip().lower(): v for k, v in r.items() if k} for r in records]
        first_row = 2
    rows = []
    for i, r in enumerate(records, start=first_row):
        where = f"actions file {p}, {'row' if first_row == 2 else 'action'} {i}"
        action = str(r.get("action") or "").strip()
        if not action:
            raise AuditError(f"{where}: the action is empty; describe the action or delete the "
                             "row.")
        due_raw = r.get("due")
        due_text = due_raw.isoformat() if isinstance(due_raw, dt.date) else str(
            due_raw or "").strip()
        try:
            due = pd.Timestamp(dt.date.fromisoformat(due_text)) if due_text else pd.NaT
        except ValueError:
            raise AuditError(f"{where}, column due: {due_text!r} is not a date; write "
                             "YYYY-MM-DD, e.g. 2026-12-31.") from None
        status_raw = str(r.get("status") or "not started").strip()
        status = _STATUS.get(status_raw.lower())
        if status is None:
            raise AuditError(f"{where}, column status: {status_raw!r} is not a status; write "
                             "not started, in progress, done or dropped.")
        raised = str(r.get("raised") or "").strip()
        if raised:
            m = _QUARTER.match(raised)
            if not m:
                raise AuditError(f"{where}, column raised: {raised!r} is not a quarter; write "
                                 "YYYYQn, e.g. 2026Q2.")
            raised = f"{m[1]}Q{m[2]}"
        rows.append((action, str(r.get("owner") or "").strip(), due, status, raised or None,
                     str(r.get("standard") or "").strip() or None))
    out = pd.DataFrame(rows, columns=list(ACTION_COLUMNS))
    out["due"] = pd.to_datetime(out["due"])
    return out.astype({c: object for c in ACTION_COLUMNS if c != "due"}), roles


def action_plan(actions: pd.DataFrame, quarter: str, cutoff) -> pd.DataFrame:
    """The action plan of the audited quarter: carried-forward actions first.

    Parameters
    ----------
    actions : DataFrame
        From :func:`read_actions`.
    quarter : str
        The audited quarter (``"2026Q3"``).
    cutoff : date-like
        The audit's cut-off: an action not done or dropped whose due date is before it is
        overdue.

    Returns
    -------
    DataFrame
        ``action``, ``owner``, ``due``, ``status``, ``raised``, ``standard``, ``carried``
        (bool: raised in an earlier quarter), ``overdue`` (bool), ``section``
        (``"carried forward from <quarter>"`` or ``"new this quarter"``). Actions raised after
        the audited quarter are left out.
    """
    a = actions.copy()
    raised = a["raised"].fillna(quarter).astype(str)
    a = a.loc[(raised <= quarter).to_numpy()].copy()
    raised = raised.loc[a.index]
    a["raised"] = raised
    a["carried"] = (raised < quarter).to_numpy(bool)
    open_ = ~a["status"].isin(["done", "dropped"])
    a["overdue"] = (open_ & (a["due"] < pd.Timestamp(cutoff))).fillna(False).to_numpy(bool)
    a["section"] = np.where(a["carried"], "carried forward from " + raised,
                            "new this quarter")
    a = a.sort_values(["carried", "raised", "due"], ascending=[False, True, True],
                      kind="stable", na_position="last")
    return a.reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# one call
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Audit:
    """The quarterly audit of one analysis (internal frames marked).

    Attributes
    ----------
    quarter : str
        The audited quarter, e.g. ``"2026Q3"``.
    periods : DataFrame
        :func:`audit_periods` (period, quarters, dates, label).
    metrics : DataFrame
        :func:`period_table` (aggregate).
    trend, changes : DataFrame
        :func:`quarter_trend` and :func:`quarter_changes` (empty without ``previous``).
    previous : tuple of str
        The earlier quarters given.
    standards : DataFrame
        :func:`standards_table`.
    findings : DataFrame
        :func:`safety_findings` (internal only: pseudonyms and dates).
    finding_counts : DataFrame
        :func:`safety_counts` (aggregate).
    actions : DataFrame or None
        :func:`action_plan`; None without an actions file.
    sign_off : tuple of str
        Roles of the sign-off block.
    """

    quarter: str
    periods: pd.DataFrame
    metrics: pd.DataFrame
    trend: pd.DataFrame
    changes: pd.DataFrame
    previous: tuple[str, ...]
    standards: pd.DataFrame
    findings: pd.DataFrame
    finding_counts: pd.DataFrame
    actions: pd.DataFrame | None
    sign_off: tuple[str, ...] = field(default=DEFAULT_SIGN_OFF)


def quarterly_audit(analysis, *, previous: Iterable = (), standards=None,
                    actions=None) -> Audit:
    """Everything the quarterly audit shows beyond the analysis itself.

    Parameters
    ----------
    analysis : Analysis
        From :func:`outcomes.analyze` (its ``periods`` frame).
    previous : iterable of str or Path or dict
        Earlier quarters' results files (``outcomes analyze --json`` or the internal report's
        ``results.json``) for the re-audit; their definitions must match.
    standards : str or Path, optional
        A standards TOML file; default the package's standards.
    actions : str or Path, optional
        An actions file (CSV or TOML).

    Returns
    -------
    Audit

    Raises
    ------
    ResultsFileError, AuditError
        A previous file that cannot be compared; a bad standards or actions file.
    """
    d = analysis.definitions
    metrics = analysis.periods
    first = analysis.cohort.loc[analysis.cohort["treated"], "t0"].min()
    periods = audit_periods(analysis.cutoff, first)
    quarter = periods.loc[0, "last_quarter"]
    prev = list(previous or ())
    if prev:
        current = analysis.to_dict()
        earlier = read_previous(prev, current)
    else:
        earlier = []
    trend = quarter_trend(metrics, earlier, level=d.confidence, method=d.interval_method)
    changes = quarter_changes(trend, level=d.confidence)
    st = standards_table(metrics, load_standards(standards, level=d.confidence))
    plan: pd.DataFrame | None = None
    roles: tuple[str, ...] = DEFAULT_SIGN_OFF
    if actions:
        table, roles = read_actions(actions)
        plan = action_plan(table, quarter, analysis.cutoff)
    return Audit(quarter=quarter, periods=periods, metrics=metrics, trend=trend,
                 changes=changes, previous=tuple(q for q, _ in earlier), standards=st,
                 findings=safety_findings(analysis.sentinel_cases, analysis.screening_cases,
                                          periods),
                 finding_counts=safety_counts(analysis.sentinel_cases,
                                              analysis.screening_cases, periods),
                 actions=plan, sign_off=roles)
