"""The per-patient cohort: index date, due, baseline and 12-month assessments, and the flow.

One row per registered patient, built from the clean tables with vectorised merges and
group-bys only (no loop over patients or rows). Every metric module starts from the
:class:`Cohort` built here, never from the raw tables, so that all of them see the same
cut-off and the same definitions.

Definitions (outcome-definitions.md; parameters from
:class:`~outcomes.definitions.Definitions`):

- treated: at least one session on or before the cut-off; t0 = the first session's date;
- rows dated after the cut-off (sessions, measurements, adverse events) are left out and
  counted in the flow;
- baseline (density, per site): the latest measurement from ``t0 - baseline_days_before``
  to t0, both ends included;
- 12-month assessment: the measurement dated ``t0 + assessment_window[0]`` to
  ``t0 + assessment_window[1]`` (both included) closest to ``t0 + assessment_target_day``
  (ties: the earlier); per site for density; for the photographic score (a *global*
  assessment against the baseline photographs) the visit date closest to the target among
  dates with a score, the score being the median of all scores given that day (several raters
  or sites), which may be a half point;
- due: treated and ``t0 + assessment_window[1]`` on or before the cut-off; assessed: due and
  with a 12-month assessment of that family.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from outcomes.errors import AnalysisError

if TYPE_CHECKING:
    from outcomes.definitions import Definitions

__all__ = ["Cohort", "build_cohort", "parse_cutoff", "severity_group", "COHORT_COLUMNS",
           "THRESHOLD_TOLERANCE", "comparable_mask", "minoxidil_level"]

#: columns of :attr:`Cohort.patients`, in order (docs/architecture.md, "Analysis")
COHORT_COLUMNS = (
    "patient_id", "sex", "age", "age_band", "baseline_scale", "baseline_grade", "minoxidil",
    "practitioner_id", "t0", "n_sessions", "treated", "due_12m", "gpa_assessed", "gpa_12m",
    "gpa_improved", "gpa_dramatic", "density_assessed", "density_rel_change",
    "density_abs_change", "density_improved", "density_dramatic",
)

_DAY = np.timedelta64(1, "D")

#: slack of a ">= threshold" test: a change of exactly +10% in decimal data, e.g.
#: (58.3 - 53.0) / 53.0, is 0.0999999... in binary floating point and must count as >= 0.10
THRESHOLD_TOLERANCE = 1e-9


@dataclass(frozen=True, eq=False)
class Cohort:
    """The cohort and the clean tables restricted to the cut-off.

    Attributes
    ----------
    patients : DataFrame
        One row per registered patient, columns :data:`COHORT_COLUMNS`: ``t0`` (datetime64),
        ``n_sessions`` (int64, sessions up to the cut-off), ``treated``/``due_12m`` (bool),
        ``gpa_assessed``/``density_assessed`` (bool), ``gpa_12m`` (float, score units -3..3),
        ``density_rel_change`` (fraction), ``density_abs_change`` (hairs/cm²), the four
        ``*_improved``/``*_dramatic`` flags (``boolean``, NA when not assessed),
        ``age_band`` (string, e.g. ``"30-39"``).
    flow : DataFrame
        ``step, n, note``: registered, treated, due, assessed, lost, comparable, excluded rows.
    sessions : DataFrame
        Sessions on or before the cut-off of treated patients, plus ``_pid`` (int64: the
        patient's row in ``patients``), ``_row`` (int64: the row in the export's sessions),
        ``t0``, ``day`` (days since t0, int64) and ``session_number`` (1 for the first,
        int64), sorted by patient and date.
    measurements : DataFrame
        Measurements on or before the cut-off of treated patients, plus ``_pid``, ``t0`` and
        ``day``.
    adverse_events : DataFrame
        Adverse events with onset on or before the cut-off of treated patients, plus ``_pid``
        and, for an export from :func:`outcomes.load`, ``_srow`` (int64: the event's session
        as a row of ``sessions`` above; -1 when it names none on or before the cut-off).
    patient_table : DataFrame
        The clean ``patients`` table (RangeIndex; row i is the patient of cohort row i), for
        the attributes the cohort does not carry (childbearing potential, contraception,
        hypersensitivity) used by the screening checks.
    cutoff : pandas.Timestamp
        The last day the analysis may see (midnight).
    definitions : Definitions
        The definitions used.
    """

    patients: pd.DataFrame
    flow: pd.DataFrame
    sessions: pd.DataFrame
    measurements: pd.DataFrame
    adverse_events: pd.DataFrame
    patient_table: pd.DataFrame
    cutoff: pd.Timestamp
    definitions: Definitions


def parse_cutoff(cutoff=None) -> pd.Timestamp:
    """Turn a date-like cut-off (``None`` = today) into a midnight :class:`pandas.Timestamp`.

    Raises
    ------
    AnalysisError
        When the value is not a date, naming it and the expected form.
    """
    if cutoff is None:
        return pd.Timestamp(_dt.date.today())
    try:
        ts = pd.Timestamp(cutoff)
    except (ValueError, TypeError) as err:
        raise AnalysisError(f"cut-off {cutoff!r} is not a date; write it as YYYY-MM-DD "
                            f"(e.g. --cutoff 2026-09-30).") from err
    if pd.isna(ts):
        raise AnalysisError(f"cut-off {cutoff!r} is not a date; write it as YYYY-MM-DD.")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts.normalize().as_unit("ns")


def _default_definitions():
    from outcomes.definitions import Definitions

    return Definitions()


def _age_band(age: pd.Series, bands) -> pd.Series:
    """Age bands ``"18-29"`` ... from band edges (left-closed); NA outside or missing."""
    edges = list(bands)
    labels = [f"{lo}-{hi - 1}" for lo, hi in zip(edges[:-1], edges[1:])]
    cut = pd.cut(age.astype("float64"), bins=edges, right=False, labels=labels)
    # each label's text taken by its code (-1: NA), not converted row by row
    text = pd.array(labels, dtype="string").take(cut.cat.codes.to_numpy(), allow_fill=True)
    return pd.Series(text, index=age.index, name=age.name)


_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7}
#: scale -> (grade upper bound of "mild", of "moderate"); above is "severe"
_GROUP_BOUNDS = {"Norwood-Hamilton": (2, 4), "Ludwig": (1, 2), "Sinclair": (2, 3)}


def severity_group(scale: pd.Series, grade: pd.Series) -> pd.Series:
    """Coarse baseline-severity level: scale and a mild/moderate/severe group.

    Parameters
    ----------
    scale : Series of str
        ``baseline_scale`` (``Norwood-Hamilton``, ``Ludwig``, ``Sinclair``, ``Olsen`` or NA).
    grade : Series of str
        ``baseline_grade`` as written (``III``, ``IIIv``, ``VI``, ``I-2``, ``3``...).

    Returns
    -------
    Series of string
        E.g. ``"Norwood-Hamilton moderate"``; ``"Olsen"`` (a pattern scale, no grade group);
        ``"<scale> grade not read"`` when the grade cannot be read; ``"not recorded"`` when the
        scale is missing.

    Notes
    -----
    The leading Roman (I-VII) or Arabic numeral of the grade is read (``IIIv`` -> 3,
    ``I-2`` -> 1). Groups: Norwood-Hamilton I-II mild, III-IV moderate, V-VII severe; Ludwig I
    mild, II moderate, III severe; Sinclair 1-2 mild, 3 moderate, 4-5 severe.

    The text is parsed once per distinct (scale, grade) pair, not once per patient: a
    registry of a million patients holds a few dozen pairs.
    """
    pairs = pd.DataFrame({"scale": scale.astype("string"), "grade": grade.astype("string")},
                         index=scale.index)
    code = pairs.groupby(["scale", "grade"], dropna=False, sort=False).ngroup().to_numpy()
    first = np.unique(code, return_index=True)[1]     # first row of each pair, in code order
    distinct = pairs.iloc[first]
    level = _severity_group(distinct["scale"], distinct["grade"]).array
    return pd.Series(level.take(code), index=scale.index)


def _severity_group(scale: pd.Series, grade: pd.Series) -> pd.Series:
    """:func:`severity_group`, parsing every row."""
    sc = scale.astype("string")
    g = grade.astype("string").str.strip().str.upper()
    roman = g.str.extract(r"^(VII|VI|V|IV|III|II|I)", expand=False)
    arabic = pd.to_numeric(g.str.extract(r"^(\d+)", expand=False), errors="coerce")
    number = roman.map(_ROMAN).astype("Float64").fillna(arabic.astype("Float64"))
    # the text is parsed above, column-wise; the level of each (distinct) pair is then named
    # in plain Python: a few dozen pairs, where a dozen masked pandas assignments cost ~10 ms
    levels = [_level_name(s, x) for s, x in zip(sc.tolist(), number.tolist())]
    return pd.Series(levels, index=scale.index, dtype="string")


def _level_name(scale, number) -> str:
    """The severity level of one scale (str or NA) and grade number (float or NA)."""
    if pd.isna(scale):
        return "not recorded"
    if scale == "Olsen":
        return "Olsen"
    bounds = _GROUP_BOUNDS.get(scale)
    if bounds is None or pd.isna(number):
        return f"{scale} grade not read"
    mild, moderate = bounds
    return f"{scale} " + ("mild" if number <= mild else "moderate" if number <= moderate
                          else "severe")


def _in_order(pid: np.ndarray, date: np.ndarray) -> bool:
    """Whether rows are already sorted by patient, then date (as exports often are): a
    stable sort would then change nothing, and is skipped."""
    same = pid[1:] == pid[:-1]
    return bool(((pid[1:] > pid[:-1]) | (same & (date[1:] >= date[:-1]))).all())


def _mean_per_day(dm: pd.DataFrame) -> pd.DataFrame:
    """Mean ``density_per_cm2`` per (``_pid``, ``site``, ``day``; all int64), in order of
    first appearance: ``dm.groupby(["_pid", "site", "day"], sort=False, as_index=False)
    .mean()``, grouped on one integer key that numbers the triples (one hash pass, not one per
    column and one more for their combinations)."""
    pid, site, day = (dm[c].to_numpy("int64") for c in ("_pid", "site", "day"))
    n_site = int(site.max(initial=0)) + 1
    first_day = int(day.min(initial=0))
    n_day = int(day.max(initial=0)) - first_day + 1
    key = (pid * n_site + site) * n_day + (day - first_day)
    mean = dm["density_per_cm2"].groupby(key, sort=False).mean()
    k = mean.index.to_numpy("int64")
    return pd.DataFrame({"_pid": k // n_day // n_site, "site": k // n_day % n_site,
                         "day": k % n_day + first_day, "density_per_cm2": mean.to_numpy()})


def _closest(frame: pd.DataFrame, keys: list[str], target: int) -> pd.DataFrame:
    """Per ``keys``, the row whose ``day`` is closest to ``target`` (ties: the earlier).

    Rows in the order of ``keys``: ``frame.sort_values([*keys, dist, "day"], kind="stable")
    .drop_duplicates(keys)`` with ``dist = |day - target|``, done by one ``np.lexsort`` of the
    integer columns (pandas' multi-column sort factorizes every column first).
    """
    day = frame["day"].to_numpy("int64")
    cols = [frame[k].to_numpy("int64") for k in keys]
    order = np.lexsort((day, np.abs(day - target), *cols[::-1]))   # stable; last = primary
    first = np.ones(order.size, dtype=bool)
    for c in cols:
        ranked = c[order]
        first[1:] &= ranked[1:] == ranked[:-1]
    first[1:] = ~first[1:]                                         # a new key starts here
    return frame.iloc[order[first]]


def _flag(value: np.ndarray, threshold: float, assessed: np.ndarray) -> pd.arrays.BooleanArray:
    """``value >= threshold`` (up to :data:`THRESHOLD_TOLERANCE`) as ``boolean``, NA where not
    assessed."""
    with np.errstate(invalid="ignore"):
        hit = np.asarray(value) >= threshold - THRESHOLD_TOLERANCE
    return pd.arrays.BooleanArray(hit & assessed, ~np.asarray(assessed, bool))


def comparable_mask(patients: pd.DataFrame) -> np.ndarray:
    """True for patients on mesotherapy alone (``minoxidil`` no), as in the published study.

    A patient whose minoxidil use is not recorded is not comparable.
    """
    return (patients["minoxidil"] == False).fillna(False).to_numpy(bool)  # noqa: E712


def minoxidil_level(patients: pd.DataFrame) -> np.ndarray:
    """``"yes"``, ``"no"`` or ``"not recorded"`` for each patient's topical minoxidil (object)."""
    mino = patients["minoxidil"].astype("boolean")
    return np.where(mino.isna(), "not recorded",
                    np.where(mino.fillna(False), "yes", "no")).astype(object)


def _patient_codes(export) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Each session's, measurement's and event's patient as a row of ``export.patients``, and
    each event's session as a row of ``export.sessions`` (-1: none; None when not known).

    :func:`outcomes.load` coded the ids once (``Export.keys``); other exports (frames built
    by hand) are coded here, and must hold unique patient ids that every row refers to.
    """
    keys = getattr(export, "keys", None)
    if keys is not None:
        return (keys["sessions"], keys["measurements"], keys["adverse_events"],
                keys["adverse_events.session"])
    patients = export.patients
    n_pat = len(patients)
    codes, _ = pd.factorize(pd.concat(
        [patients["patient_id"], export.sessions["patient_id"],
         export.measurements["patient_id"], export.adverse_events["patient_id"]],
        ignore_index=True))
    bounds = np.cumsum([n_pat, len(export.sessions), len(export.measurements)])
    s_code, m_code, e_code = np.split(codes, bounds)[1:]
    if codes[:n_pat].size and (codes[:n_pat] != np.arange(n_pat)).any():
        raise AnalysisError("patients: patient_id values repeat; load the export with "
                            "outcomes.load(), which quarantines duplicates.")
    unknown = (s_code >= n_pat).any() or (m_code >= n_pat).any() or (e_code >= n_pat).any()
    if unknown:
        raise AnalysisError("a session, measurement or adverse event names a patient_id that "
                            "is not in patients; load the export with outcomes.load().")
    return s_code, m_code, e_code, None


def build_cohort(export, *, cutoff=None, definitions=None) -> Cohort:
    """Build the per-patient cohort from the clean tables.

    Parameters
    ----------
    export : Export or any object with ``patients``, ``sessions``, ``measurements`` and
        ``adverse_events`` clean-table DataFrames (docs/architecture.md, "Clean tables").
        Not modified.
    cutoff : date-like, optional
        The last day the analysis may see; default today.
    definitions : Definitions, optional
        Default: ``Definitions()``.

    Returns
    -------
    Cohort

    Raises
    ------
    AnalysisError
        When no patient has a session on or before the cut-off.

    Examples
    --------
    >>> c = build_cohort(export, cutoff="2026-09-30")  # doctest: +SKIP
    >>> c.flow[["step", "n"]]  # doctest: +SKIP
    """
    d = definitions if definitions is not None else _default_definitions()
    cut = parse_cutoff(cutoff)
    patients, sessions = export.patients, export.sessions
    measurements, events = export.measurements, export.adverse_events

    # ---- integer patient codes (position in `patients`): fast sorts, group-bys and look-ups
    n_pat = len(patients)
    s_code, m_code, e_code, e_session = _patient_codes(export)

    # ---- cut-off -------------------------------------------------------------------------
    s_keep = (sessions["session_date"] <= cut).to_numpy(bool)
    m_keep = (measurements["measurement_date"] <= cut).to_numpy(bool)
    e_keep = (events["onset_date"] <= cut).to_numpy(bool)
    if len(sessions) and not s_keep.any():
        raise AnalysisError(
            f"no session on or before the cut-off {cut.date()} (the first session is on "
            f"{sessions['session_date'].min().date()}); choose a later --cutoff.")
    if not s_keep.any():
        raise AnalysisError("the sessions table is empty: no patient was treated, so there is "
                            "nothing to analyse; check the export's sessions file.")

    # ---- sessions: t0, first practitioner, numbering (ties on a date: export order) -------
    sess = sessions.loc[s_keep].assign(_pid=s_code[s_keep], _row=np.flatnonzero(s_keep))
    if not _in_order(sess["_pid"].to_numpy(), sess["session_date"].to_numpy()):
        sess = sess.sort_values(["_pid", "session_date"], kind="stable")
    sess = sess.reset_index(drop=True)
    spid = sess["_pid"].to_numpy()
    is_first = np.r_[True, spid[1:] != spid[:-1]]
    first_pid = spid[is_first]
    t0 = np.full(n_pat, np.datetime64("NaT"), dtype="datetime64[ns]")
    t0[first_pid] = sess["session_date"].to_numpy()[is_first]
    n_sessions = np.bincount(spid, minlength=n_pat).astype("int64")
    first_row = np.full(n_pat, -1, dtype=np.int64)      # each patient's first session; -1: none
    first_row[first_pid] = np.flatnonzero(is_first)
    practitioner = pd.Series(sess["practitioner_id"].array.take(first_row, allow_fill=True),
                             index=range(n_pat))
    run_start = np.flatnonzero(is_first)
    sess["t0"] = t0[spid]
    sess["day"] = ((sess["session_date"] - sess["t0"]) // _DAY).astype("int64")
    sess["session_number"] = (np.arange(len(sess)) - np.repeat(run_start, np.diff(
        np.r_[run_start, len(sess)])) + 1).astype("int64")

    # the cohort's columns, gathered here and made one frame at the end (an assignment into
    # the frame per column costs more than the column on these sizes)
    cols: dict[str, Any] = dict(patients[["patient_id", "sex", "age", "baseline_scale",
                                          "baseline_grade", "minoxidil"]]
                                .reset_index(drop=True).items())
    cols["practitioner_id"] = practitioner
    cols["t0"], cols["n_sessions"] = t0, n_sessions
    cols["age_band"] = _age_band(cols["age"], d.age_bands)
    treated = ~np.isnat(t0)
    lo, hi = (int(v) for v in d.assessment_window)
    with np.errstate(invalid="ignore"):
        due = treated & (t0 + np.timedelta64(hi, "D") <= cut.to_datetime64())
    cols["treated"], cols["due_12m"] = treated, due

    # ---- measurements: days since t0 (treated patients only) --------------------------------
    m_treated = m_keep & treated[m_code] if len(m_code) else m_keep
    meas = measurements.loc[m_treated].assign(_pid=m_code[m_treated]).reset_index(drop=True)
    meas["t0"] = t0[meas["_pid"].to_numpy()]
    meas["day"] = ((meas["measurement_date"] - meas["t0"]) // _DAY).astype("int64")
    in_window = meas["day"].between(lo, hi)
    target = int(d.assessment_target_day)

    # photographic: the visit (date with a score) closest to the target, median of its scores
    g = meas.loc[in_window & meas["gpa_score"].notna(), ["_pid", "day", "gpa_score"]]
    g = g.assign(gpa_score=g["gpa_score"].astype("float64"))
    visits = g.groupby(["_pid", "day"], sort=False, as_index=False)["gpa_score"].median()
    best = _closest(visits, ["_pid"], target)
    gpa_12m = np.full(n_pat, np.nan)
    gpa_12m[best["_pid"].to_numpy()] = best["gpa_score"].to_numpy()

    # density: per site, baseline (latest in [-b, 0]) and 12-month (closest to target)
    dm = meas.loc[meas["density_per_cm2"].notna(), ["_pid", "site", "day", "density_per_cm2"]]
    dm = dm.assign(site=pd.factorize(dm["site"], use_na_sentinel=False)[0])
    dm = _mean_per_day(dm)
    base = dm.loc[dm["day"].between(-int(d.baseline_days_before), 0)]
    base = base.sort_values(["_pid", "site", "day"], kind="stable").drop_duplicates(
        ["_pid", "site"], keep="last")
    late = _closest(dm.loc[dm["day"].between(lo, hi)], ["_pid", "site"], target)
    both = base.merge(late, on=["_pid", "site"], suffixes=("_0", "_12"), sort=False)
    both = both.loc[both["density_per_cm2_0"] > 0]
    d0, d12 = both["density_per_cm2_0"], both["density_per_cm2_12"]
    both = both.assign(rel=(d12 - d0) / d0, abs=d12 - d0)
    dens = both.groupby("_pid", sort=False)[["rel", "abs"]].mean()
    rel, absolute = np.full(n_pat, np.nan), np.full(n_pat, np.nan)
    rel[dens.index.to_numpy()] = dens["rel"].to_numpy()
    absolute[dens.index.to_numpy()] = dens["abs"].to_numpy()

    gpa_12m, rel, absolute = (np.where(due, a, np.nan) for a in (gpa_12m, rel, absolute))
    g_ok, d_ok = ~np.isnan(gpa_12m), ~np.isnan(rel)
    cols["gpa_assessed"], cols["gpa_12m"] = g_ok, gpa_12m
    cols["gpa_improved"] = _flag(gpa_12m, d.gpa_improved, g_ok)
    cols["gpa_dramatic"] = _flag(gpa_12m, d.gpa_dramatic, g_ok)
    cols["density_assessed"] = d_ok
    cols["density_rel_change"], cols["density_abs_change"] = rel, absolute
    cols["density_improved"] = _flag(rel, d.density_improved, d_ok)
    cols["density_dramatic"] = _flag(rel, d.density_dramatic, d_ok)
    cohort = pd.DataFrame({c: cols[c] for c in COHORT_COLUMNS}, index=pd.RangeIndex(n_pat))

    e_treated = e_keep & treated[e_code] if len(e_code) else e_keep
    ae = events.loc[e_treated].assign(_pid=e_code[e_treated])
    if e_session is not None:  # the event's session as a row of `sess` (-1: none or later)
        row_in_sess = np.full(len(sessions) + 1, -1, dtype=np.int64)
        row_in_sess[sess["_row"].to_numpy()] = np.arange(len(sess))
        ae["_srow"] = row_in_sess[e_session[e_treated]]
    ae = ae.reset_index(drop=True)
    flow = _flow(cohort, cut, d, excluded=(int((~s_keep).sum()), int((~m_keep).sum()),
                                           int((~e_keep).sum())))
    return Cohort(patients=cohort, flow=flow, sessions=sess, measurements=meas,
                  adverse_events=ae, patient_table=patients.reset_index(drop=True),
                  cutoff=cut, definitions=d)


def _flow(c: pd.DataFrame, cut: pd.Timestamp, d, excluded: tuple[int, int, int]) -> pd.DataFrame:
    """The cohort-flow table: ``step`` (str), ``n`` (int64), ``note`` (str)."""
    treated, due = c["treated"], c["due_12m"]
    comparable = comparable_mask(c)
    mino_na = c["minoxidil"].isna().to_numpy(bool)
    hi = d.assessment_window[1]
    ga, da = c["gpa_assessed"], c["density_assessed"]
    rows = [
        ("registered", len(c), "patients in the export"),
        ("treated", treated.sum(), f"at least one session on or before the cut-off {cut.date()}"),
        ("not_treated", (~treated).sum(), "registered, no session on or before the cut-off"),
        ("due_12m", due.sum(), f"treated, first session + {hi} days on or before the cut-off"),
        ("assessed_photographic", ga.sum(),
         "due, with a photographic score in the 12-month window"),
        ("lost_photographic", (due & ~ga).sum(), "due, no photographic score in the window"),
        ("assessed_density", da.sum(),
         "due, with density at baseline and in the 12-month window at a site"),
        ("lost_density", (due & ~da).sum(), "due, no density pair at any site"),
        ("comparable_treated", (treated & comparable).sum(),
         "treated on mesotherapy alone (minoxidil no)"),
        ("minoxidil_not_recorded", (treated & mino_na).sum(),
         "treated, minoxidil not recorded: not counted as comparable"),
        ("comparable_due_12m", (due & comparable).sum(), "due, minoxidil no"),
        ("comparable_assessed_photographic", (ga & comparable).sum(),
         "assessed (photographic), minoxidil no: the group compared with the study"),
        ("excluded_after_cutoff_sessions", excluded[0], "session rows dated after the cut-off"),
        ("excluded_after_cutoff_measurements", excluded[1],
         "measurement rows dated after the cut-off"),
        ("excluded_after_cutoff_adverse_events", excluded[2],
         "adverse-event rows with onset after the cut-off"),
    ]
    return pd.DataFrame({
        "step": pd.Series([r[0] for r in rows], dtype=object),
        "n": np.array([int(r[1]) for r in rows], dtype="int64"),
        "note": pd.Series([r[2] for r in rows], dtype=object),
    })
