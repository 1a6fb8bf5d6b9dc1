"""Synthetic, conformant clinic exports: ``generate_sample``, ``write_export``, ``outcomes sample``.

The generator imitates a clinic giving dutasteride mesotherapy (1 mL of 0.01 %, every 3 months
in year one, every 6 months after) so that every metric of the package has something to show:
men and women, Norwood-Hamilton / Ludwig / Sinclair grades, topical minoxidil or not, several
practitioners (``NP-04`` with somewhat worse results), drop-outs and loss to follow-up, density
and photographic (GPA) assessments at baseline and months 6, 12 and 18, adverse events at the
rates the clinic page quotes (written the varied ways clinics write them), rare sentinel events
and a few screening deviations. Everything is vectorised (no Python loop over patients or rows)
and seeded: the same ``patients``, ``seed`` and ``end`` give the same tables.

It is synthetic: no row describes a real person.
"""
from __future__ import annotations

import time
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from outcomes.contract import COLUMNS
from outcomes.errors import OutcomesError

__all__ = [
    "TERMS_AS_WRITTEN",
    "PRACTITIONERS",
    "generate_sample",
    "write_export",
    "sample_path",
    "cli_sample",
    "refuse_export_folder",
]

# The contract's columns, per table, in contract order (data-contract.md).
_COLUMNS: dict[str, tuple[str, ...]] = {
    table: tuple(column.name for column in columns) for table, columns in COLUMNS.items()
}

#: Practitioner pseudonyms and the share of patients each treats; NP-04 has worse results.
PRACTITIONERS = ("NP-01", "NP-02", "NP-03", "NP-04", "NP-05")
_PRACTITIONER_SHARE = np.array([0.28, 0.24, 0.20, 0.16, 0.12])
_PRACTITIONER_EFFECT = np.array([0.0, 0.05, 0.0, -0.6, 0.0])  # on the latent response scale
_RATERS = ("R-01", "R-02", "R-03")

#: Adverse-event terms exactly as the generator writes them, per vocabulary term, with weights.
TERMS_AS_WRITTEN: dict[str, tuple[tuple[str, float], ...]] = {
    "injection_site_pain": (("Injection site pain", 0.4), ("Pain at injection site", 0.3),
                            ("injection pain", 0.2), ("Pain", 0.1)),
    "frontal_edema": (("Frontal edema", 0.45), ("Frontal oedema", 0.3),
                      ("forehead swelling", 0.25)),
    "burning": (("Burning", 0.6), ("burning sensation", 0.4)),
    "erythema": (("Erythema", 0.6), ("redness", 0.4)),
    "headache": (("Headache", 0.7), ("headache", 0.3)),
    "paradoxical_alopecia": (("Paradoxical alopecia", 1.0),),
    "scarring": (("Scarring", 1.0),),
    "acute_dermatitis": (("Acute dermatitis", 1.0),),
    "sperm_abnormality": (("Sperm abnormality", 0.5), ("Reduced sperm count", 0.5)),
}

# Per-session event probabilities for the common terms (pain is per susceptible patient).
_PAIN_SUSCEPTIBLE, _PAIN_PER_SESSION = 0.54, 0.50
_EDEMA_BY_SESSION = np.array([0.035, 0.022, 0.004])  # session 1, 2, later
_MINOR_PER_SESSION = {"burning": 0.008, "erythema": 0.010, "headache": 0.008}
# Per-patient probabilities of the rare sentinel events (sperm abnormality: men only).
_SENTINEL_PER_PATIENT = {"paradoxical_alopecia": 0.002, "scarring": 0.0015,
                         "acute_dermatitis": 0.002, "sperm_abnormality": 0.0025}

_DAY = np.timedelta64(1, "D")
_FIRST_T0 = np.datetime64("2021-01-04")
_MAX_SESSIONS = 16
_FOLLOW_UPS = ((182, 15, 150, 215, 0.60),   # month 6: mean, sd, clip low/high (days), recorded
               (365, 25, 300, 420, 0.88),   # month 12
               (548, 25, 490, 610, 0.55))   # month 18
_RESPONSE_MEAN, _RESPONSE_SD, _RATER_SD = 1.265, 0.66, 0.45


def _choice(rng: np.random.Generator, values, p, size) -> np.ndarray:
    """Draw ``size`` items of ``values`` with probabilities ``p`` (an object/str array)."""
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=size, p=p)]


def _exactly(rng: np.random.Generator, eligible: np.ndarray, rate: float,
             at_least: int = 0) -> np.ndarray:
    """Mark exactly ``round(rate * eligible.sum())`` (at least ``at_least``) eligible items.

    Rare features are drawn as exact counts rather than coin flips so that even the 300-patient
    sample holds the cases a metric needs (a positive pregnancy test, a sentinel event).
    """
    where = np.flatnonzero(eligible)
    expected = rate * where.size
    k = int(round(expected))
    if expected >= 0.2:  # a sample big enough to hold a case holds at least ``at_least``
        k = max(k, at_least)
    k = min(k, where.size)
    out = np.zeros(eligible.size, dtype=bool)
    out[rng.choice(where, size=k, replace=False)] = True
    return out


def _yes_no(flag: np.ndarray, missing: np.ndarray | None = None) -> pd.Series:
    """Booleans -> "yes"/"no" text, pd.NA where ``missing``."""
    out = np.where(flag, "yes", "no").astype(object)
    if missing is not None:
        out[missing] = None
    return pd.Series(out, dtype="string")


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pd.Series:
    """Vectorised ``f"{prefix}{number:0{width}d}"``."""
    return prefix + pd.Series(numbers, dtype="int64").astype("string").str.zfill(width)


def _patients(rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The patients table and the latent per-patient quantities the other tables need."""
    male = rng.random(n) < 0.70
    age = np.where(male, rng.normal(39, 11, n), rng.normal(45, 12, n))
    age = np.clip(np.rint(age), 18, 75).astype("int64")

    scale = np.where(male, "Norwood-Hamilton",
                     np.where(rng.random(n) < 0.91, "Ludwig", "Sinclair")).astype(object)
    grade = np.where(
        male,
        _choice(rng, ["II", "III", "IIIv", "IV", "IVa", "V", "VI"],
                [0.12, 0.20, 0.22, 0.18, 0.08, 0.12, 0.08], n),
        np.where(scale == "Ludwig", _choice(rng, ["I", "II", "III"], [0.45, 0.40, 0.15], n),
                 _choice(rng, ["2", "3", "4"], [0.4, 0.4, 0.2], n)))
    # severity index 0 (mild) .. 1 (advanced) for the response model
    severity = np.where(
        male,
        np.select([grade == "II", np.isin(grade, ["III", "IIIv"]), np.isin(grade, ["IV", "IVa"])],
                  [0.0, 0.33, 0.66], 1.0),
        np.select([np.isin(grade, ["I", "2"]), np.isin(grade, ["II", "3"])], [0.0, 0.5], 1.0))
    no_grade = rng.random(n) < 0.03
    scale[no_grade] = None
    grade[no_grade] = None

    female = ~male
    cbp = female & (rng.random(n) < np.where(age < 50, 0.88, np.where(age < 55, 0.15, 0.0)))
    contraception = cbp & ~_exactly(rng, cbp, 0.03, at_least=1)
    minoxidil = rng.random(n) < 0.45
    hyper = _exactly(rng, np.ones(n, bool), 0.01, at_least=1)

    patient_id = _ids("P", np.arange(1, n + 1), max(5, len(str(n))))
    patients = pd.DataFrame({
        "patient_id": patient_id,
        "sex": pd.Series(np.where(male, "M", "F"), dtype="string"),
        "age": pd.Series(age, dtype="Int64"),
        "baseline_scale": pd.Series(scale, dtype="string"),
        "baseline_grade": pd.Series(grade, dtype="string"),
        # recorded for women only (the contract requires it for F); men left blank
        "childbearing_potential": _yes_no(cbp, missing=male),
        # recorded when childbearing potential is yes, and for some other women
        "contraception": _yes_no(contraception, missing=~cbp & ((rng.random(n) < 0.7) | male)),
        "minoxidil": _yes_no(minoxidil, missing=rng.random(n) < 0.03),
        "hypersensitivity_5ari": _yes_no(hyper, missing=rng.random(n) < 0.05),
    })

    practitioner = rng.choice(len(PRACTITIONERS), size=n, p=_PRACTITIONER_SHARE)
    effect = _PRACTITIONER_EFFECT[practitioner] + np.where(male, 0.08, -0.19) - 0.5 * severity
    effect = effect - effect.mean()  # centred: the no-minoxidil mean stays at _RESPONSE_MEAN
    response = _RESPONSE_MEAN + effect + 0.3 * minoxidil + rng.normal(0, _RESPONSE_SD, n)
    latent = {"male": male, "cbp": cbp, "practitioner": practitioner, "response": response}
    return patients, latent


def _sessions(rng: np.random.Generator, n: int, end: np.datetime64,
              patient_id: pd.Series, latent: dict) -> pd.DataFrame:
    """Sessions: 3-monthly in year one, 6-monthly after, with drop-outs; cut at ``end``."""
    span = int((end - _FIRST_T0) / _DAY) - 7
    # a growing clinic: more patients start in later years
    t0 = _FIRST_T0 + (rng.random(n) ** 0.7 * span).astype("int64") * _DAY

    # planned number of sessions: early drop-outs (1-3), mid (4-5), or long-term
    u = rng.random(n)
    planned = np.where(u < 0.22, rng.choice([1, 2, 3], n, p=[0.45, 0.30, 0.25]),
                       np.where(u < 0.32, rng.choice([4, 5], n),
                                4 + rng.geometric(0.15, n)))
    year_one = np.where(rng.random(n) < 0.8, 4, 3)  # sessions in the year-one schedule

    k = np.arange(_MAX_SESSIONS)
    in_year_one = k[None, :] < year_one[:, None]
    late = rng.random((n, _MAX_SESSIONS)) < 0.05  # a missed appointment
    gap = np.where(in_year_one,
                   np.where(late, rng.normal(140, 20, (n, _MAX_SESSIONS)),
                            rng.normal(90, 12, (n, _MAX_SESSIONS))),
                   np.where(late, rng.normal(260, 30, (n, _MAX_SESSIONS)),
                            rng.normal(182, 20, (n, _MAX_SESSIONS))))
    gap[:, 0] = 0
    offset = np.cumsum(np.rint(np.clip(gap, 28, None)).astype("int64"), axis=1)
    date = t0[:, None] + offset * _DAY
    keep = (k[None, :] < planned[:, None]) & (date <= end)

    pi, si = np.nonzero(keep)  # row-major: sorted by patient, then session number
    m = pi.size
    cbp = latent["cbp"][pi]
    practitioner = np.where((si > 0) & (rng.random(m) < 0.10),
                            rng.choice(len(PRACTITIONERS), m, p=_PRACTITIONER_SHARE),
                            latent["practitioner"][pi])
    volume = _choice(rng, [1.0, 0.8, 1.2, 2.0], [0.95, 0.02, 0.02, 0.01], m).astype(float)
    volume[rng.random(m) < 0.02] = np.nan
    conc = _choice(rng, [0.01, 0.02, 0.05], [0.985, 0.01, 0.005], m).astype(float)
    conc[rng.random(m) < 0.01] = np.nan
    test = _choice(rng, ["negative", "not_done", None], [0.935, 0.03, 0.035], m)
    test[_exactly(rng, cbp, 0.002, at_least=1)] = "positive"
    test[~cbp] = None
    pid = patient_id.iloc[pi].reset_index(drop=True)
    return pd.DataFrame({
        "session_id": pid + "-S" + pd.Series(si + 1).astype("string").str.zfill(2),
        "patient_id": pid,
        "session_date": pd.Series(date[pi, si], dtype="datetime64[ns]"),
        "practitioner_id": pd.Series(np.asarray(PRACTITIONERS)[practitioner], dtype="string"),
        "volume_ml": volume,
        "concentration_pct": conc,
        "pregnancy_test": pd.Series(test, dtype="string"),
        # internal helpers, dropped before returning
        "_p": pi, "_k": si + 1,
        "_planned_more": (planned[pi] > keep.sum(axis=1)[pi]),
    })


def _measurements(rng: np.random.Generator, n: int, end: np.datetime64, patients: pd.DataFrame,
                  sessions: pd.DataFrame, latent: dict) -> pd.DataFrame:
    """Baseline and follow-up measurements per site (density, shaft diameter, GPA)."""
    first = sessions[sessions["_k"] == 1]
    treated = first["_p"].to_numpy()
    t0 = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    t0[treated] = first["session_date"].to_numpy()
    last = sessions.groupby("_p")["session_date"].max()
    # still coming to the clinic until 120 days after the last session, unless still treated
    active_until = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    still = sessions.groupby("_p")["_planned_more"].first()
    active_until[last.index] = np.where(still, np.datetime64("2262-01-01"),
                                        last.to_numpy() + 120 * _DAY)

    # sites: vertex, frontal or both; GPA is scored on the first site only
    male = latent["male"]
    u = rng.random(n)
    sites = np.where(u < np.where(male, 0.5, 0.6), 0, np.where(u < np.where(male, 0.7, 0.85), 1, 2))
    two = sites == 2
    p_site = np.concatenate([treated, treated[two[treated]]])
    site = np.concatenate([np.where(sites[treated] == 1, "frontal", "vertex"),
                           np.full(int(two[treated].sum()), "frontal")])
    primary = np.concatenate([np.ones(treated.size, bool), np.zeros(int(two[treated].sum()), bool)])
    ns = p_site.size
    d0 = np.clip(rng.normal(110, 25, n), 20, 250)[p_site] + np.where(primary, 0,
                                                                     rng.normal(-8, 10, ns))
    d0 = np.clip(d0, 20, 250)
    shaft0 = np.clip(rng.normal(63, 7, n)[p_site] + rng.normal(0, 2, ns), 50, 80)
    has_shaft = (rng.random(n) < 0.7)[p_site]
    r = latent["response"][p_site]

    blocks = []
    # baseline: on t0 (70 %) or up to 28 days before; density always, never a GPA
    lag = np.where(rng.random(n) < 0.7, 0, rng.integers(1, 29, n))[p_site]
    base = (rng.random(n) < 0.95)[p_site]
    blocks.append(pd.DataFrame({"_p": p_site, "_date": t0[p_site] - lag * _DAY, "site": site,
                                "density": d0, "shaft": np.where(has_shaft, shaft0, np.nan),
                                "gpa": np.nan})[base])
    for (mean, sd, lo, hi, recorded), scale in zip(_FOLLOW_UPS, (0.6, 1.0, 1.15)):
        day = np.clip(np.rint(rng.normal(mean, sd, n)), lo, hi).astype("int64")[p_site]
        date = t0[p_site] + day * _DAY
        rel = scale * 0.11 * r + rng.normal(0, 0.08, ns)
        gpa = np.clip(np.rint(scale * r + rng.normal(0, _RATER_SD, ns)), -3, 3)
        density = np.where(rng.random(ns) < 0.88, np.clip(d0 * (1 + rel), 0, 600), np.nan)
        gpa = np.where(primary & (rng.random(ns) < 0.93), gpa, np.nan)
        # a visit with neither is scored at least photographically on the first site; a
        # second site with no density is not recorded at all
        gpa = np.where(primary & np.isnan(density) & np.isnan(gpa), np.clip(np.rint(scale * r),
                                                                            -3, 3), gpa)
        shaft = np.clip(shaft0 * (1 + 0.3 * rel) + rng.normal(0, 2, ns), 40, 95)
        ok = ((date <= active_until[p_site]) & (rng.random(n) < recorded)[p_site]
              & ~(np.isnan(density) & np.isnan(gpa)))
        blocks.append(pd.DataFrame({"_p": p_site, "_date": date, "site": site,
                                    "density": density,
                                    "shaft": np.where(has_shaft & ~np.isnan(density), shaft,
                                                      np.nan),
                                    "gpa": gpa})[ok])
    m = pd.concat(blocks, ignore_index=True)

    # a measurement taken within 10 days of a session is taken at that session
    key = sessions[["_p", "session_date", "session_id"]].sort_values("session_date")
    m = m.sort_values("_date", kind="stable")
    m = pd.merge_asof(m, key, left_on="_date", right_on="session_date", by="_p",
                      direction="nearest", tolerance=pd.Timedelta(days=10))
    at_session = m["session_id"].notna().to_numpy()
    m["_date"] = m["session_date"].where(at_session, m["_date"])
    m.loc[at_session & (rng.random(len(m)) < 0.08), "session_id"] = pd.NA  # not always noted
    m = m[m["_date"] <= end]

    # raters: one per scored visit; a second rater on some visits, within one point
    scored = m["gpa"].notna().to_numpy()
    rater = rng.integers(0, len(_RATERS), len(m))
    twice = scored & (rng.random(len(m)) < 0.15)
    second = m[twice].copy()
    second_rater = (rater[twice] + 1 + rng.integers(0, 2, int(twice.sum()))) % len(_RATERS)
    m["rater_id"] = pd.Series(np.asarray(_RATERS)[rater], index=m.index, dtype="string")
    m.loc[~scored, "rater_id"] = pd.NA
    if len(second):
        second["gpa"] = np.clip(second["gpa"] + rng.choice([-1, 0, 1], len(second),
                                                           p=[0.2, 0.6, 0.2]), -3, 3)
        second["density"] = np.nan
        second["shaft"] = np.nan
        second["rater_id"] = pd.Series(np.asarray(_RATERS)[second_rater], index=second.index,
                                       dtype="string")
        m = pd.concat([m, second])
    m = m.sort_values(["_p", "_date", "site", "rater_id"], kind="stable", na_position="first")
    return pd.DataFrame({
        "patient_id": patients["patient_id"].to_numpy()[m["_p"].to_numpy()],
        "measurement_date": m["_date"].to_numpy(),
        "session_id": m["session_id"].astype("string").to_numpy(),
        "site": m["site"].to_numpy(),
        "density_per_cm2": m["density"].round(1).to_numpy(),
        "shaft_diameter_um": m["shaft"].round(1).to_numpy(),
        "gpa_score": pd.array(m["gpa"].to_numpy(), dtype="Int64"),
        "rater_id": m["rater_id"].to_numpy(),
    }).astype({"patient_id": "string", "session_id": "string", "site": "string",
               "rater_id": "string", "measurement_date": "datetime64[ns]"})


def _events(rng: np.random.Generator, end: np.datetime64, sessions: pd.DataFrame,
            latent: dict, n: int) -> pd.DataFrame:
    """Adverse events, drawn per session (common terms) or per patient (sentinel terms)."""
    s = sessions
    m = len(s)
    p = s["_p"].to_numpy()
    k = s["_k"].to_numpy()
    session_date = s["session_date"].to_numpy()
    # each call of add() appends one block of events: columns as arrays, joined once below
    cols: dict[str, list[np.ndarray]] = {c: [] for c in ("_row", "term_key", "_onset",
                                                         "severity", "duration", "serious")}

    def add(term: str, rows: np.ndarray, lag: np.ndarray, severity_p, duration,
            serious_p: float) -> None:
        size = rows.size
        cols["_row"].append(rows)
        cols["term_key"].append(np.full(size, term, dtype=object))
        cols["_onset"].append(session_date[rows] + lag * _DAY)
        cols["severity"].append(_choice(rng, ["mild", "moderate", "severe"], severity_p, size))
        cols["duration"].append(np.asarray(duration, dtype="float64"))
        cols["serious"].append(rng.random(size) < serious_p)

    susceptible = rng.random(n) < _PAIN_SUSCEPTIBLE
    rows = np.flatnonzero(susceptible[p] & (rng.random(m) < _PAIN_PER_SESSION))
    add("injection_site_pain", rows, np.zeros(rows.size, "int64"), [0.76, 0.22, 0.02],
        rng.choice([0.0, 1.0, 2.0], rows.size, p=[0.6, 0.3, 0.1]), 0.0)
    rows = np.flatnonzero(rng.random(m) < _EDEMA_BY_SESSION[np.minimum(k, 3) - 1])
    add("frontal_edema", rows, rng.integers(0, 2, rows.size), [0.7, 0.28, 0.02],
        rng.integers(1, 5, rows.size).astype(float), 0.0)
    for term, rate in _MINOR_PER_SESSION.items():
        rows = np.flatnonzero(rng.random(m) < rate)
        add(term, rows, np.zeros(rows.size, "int64"), [0.85, 0.15, 0.0],
            rng.choice([0.0, 1.0, 2.0, 3.0], rows.size), 0.0)
    # sentinel events: after a random one of the patient's sessions, weeks later
    n_sessions = np.bincount(p, minlength=n)
    first_row = np.concatenate([[0], np.cumsum(n_sessions)[:-1]])
    for term, rate in _SENTINEL_PER_PATIENT.items():
        eligible = (n_sessions > 0) & (latent["male"] if term == "sperm_abnormality" else True)
        who = np.flatnonzero(_exactly(rng, eligible, rate))
        rows = first_row[who] + (rng.random(who.size) * n_sessions[who]).astype("int64")
        duration = np.where(rng.random(who.size) < 0.5, np.nan,
                            rng.integers(14, 120, who.size).astype(float))
        add(term, rows, rng.integers(3, 60, who.size), [0.0, 0.6, 0.4], duration, 0.35)

    e = {c: np.concatenate(v) for c, v in cols.items()}
    # an event is recorded by the end date
    e["_onset"] = np.minimum(e["_onset"].astype("datetime64[ns]"),
                             np.datetime64(pd.Timestamp(end), "ns"))
    order = np.lexsort((e["_onset"], e["_row"]))          # by row, then onset; stable
    e = {c: v[order] for c, v in e.items()}
    q = len(e["_row"])
    written = np.empty(q, dtype=object)
    for term, spellings in TERMS_AS_WRITTEN.items():  # a loop over 9 terms, not over rows
        sel = e["term_key"] == term
        written[sel] = _choice(rng, [t for t, _ in spellings], [w for _, w in spellings],
                               int(sel.sum()))
    severity = e["severity"].astype(object)
    severity[rng.random(q) < 0.05] = None
    duration = e["duration"].copy()
    duration[rng.random(q) < 0.08] = np.nan
    session_id = s["session_id"].to_numpy(dtype=object, na_value=None)[e["_row"]]
    session_id[rng.random(q) < 0.04] = None
    return pd.DataFrame({
        "event_id": _ids("E", np.arange(1, q + 1), max(6, len(str(q)))),
        "patient_id": pd.Series(s["patient_id"].to_numpy()[e["_row"]], dtype="string"),
        "session_id": pd.Series(session_id, dtype="string"),
        "onset_date": pd.Series(e["_onset"], dtype="datetime64[ns]"),
        "term": pd.Series(written, dtype="string"),
        "severity": pd.Series(severity, dtype="string"),
        "duration_days": duration,
        "serious": _yes_no(e["serious"], missing=rng.random(q) < 0.10),
    })


def generate_sample(patients: int = 300, seed: int = 2026,
                    end: str = "2026-09-30") -> dict[str, pd.DataFrame]:
    """Generate a synthetic, conformant clinic export.

    Parameters
    ----------
    patients : int, default 300
        Number of patients (at least 1). One million takes well under a minute.
    seed : int, default 2026
        Seed of the ``numpy.random.default_rng`` generators (one spawned per table from
        ``SeedSequence(seed)``): the same seed, ``patients`` and ``end`` give the same tables.
    end : str, default "2026-09-30"
        Last date (ISO) any row may carry; index dates run from 2021-01-04 to a week before it.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``"patients"``, ``"sessions"``, ``"measurements"``, ``"adverse_events"``, each with
        exactly the contract's columns (``outcomes.contract.COLUMNS``) and a RangeIndex. Dates are
        ``datetime64[ns]`` at midnight; yes/no fields the text ``"yes"``/``"no"``; text
        columns ``string`` dtype; ``age`` and ``gpa_score`` ``Int64``; ``volume_ml`` (mL),
        ``concentration_pct`` (%), ``density_per_cm2`` (hairs/cm², one decimal),
        ``shaft_diameter_um`` (µm, one decimal) and ``duration_days`` (days) float64.
        Blanks are missing values (``pd.NA`` / ``NaN`` / ``NaT``). ``term`` holds the term
        as a clinic writes it (see :data:`TERMS_AS_WRITTEN`).

    Raises
    ------
    OutcomesError
        When ``patients`` is below 1 or ``end`` is not an ISO date after 2021-03-01.

    Notes
    -----
    The 12-month photographic score is ``round(r + e)`` with a patient response
    ``r ~ N(1.234, 0.72)`` (centred practitioner, sex and severity effects; +0.3 with
    minoxidil) and rater noise ``e ~ N(0, 0.45)``, so that without minoxidil about 80 % score
    >= +1 and 38 % >= +2 (Saceda-Corralo 2022). Density changes by ``0.11 r`` plus noise
    (relative), so density and photographic response are correlated.

    Examples
    --------
    >>> tables = generate_sample(50, seed=1)
    >>> sorted(tables)
    ['adverse_events', 'measurements', 'patients', 'sessions']
    >>> len(tables["patients"])
    50
    """
    if int(patients) < 1:
        raise OutcomesError(f"--patients must be at least 1, got {patients}. Use e.g. 300.")
    try:
        end_day = np.datetime64(pd.Timestamp(end).date(), "D")
    except (ValueError, TypeError) as err:
        raise OutcomesError(f"end date {end!r} is not a date; write it as YYYY-MM-DD.") from err
    if end_day < np.datetime64("2021-03-01"):
        raise OutcomesError(f"end date {end} is too early; use a date after 2021-03-01.")
    n = int(patients)
    # one independent stream per table: a change in one table's draws leaves the others alone
    rng = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(4)]
    pat, latent = _patients(rng[0], n)
    ses = _sessions(rng[1], n, end_day, pat["patient_id"], latent)
    mea = _measurements(rng[2], n, end_day, pat, ses, latent)
    ae = _events(rng[3], end_day, ses, latent, n)
    tables = {"patients": pat, "sessions": ses, "measurements": mea, "adverse_events": ae}
    return {name: df.loc[:, list(_COLUMNS[name])].reset_index(drop=True)
            for name, df in tables.items()}


def write_export(tables: dict[str, pd.DataFrame], out_dir, fmt: str = "csv") -> list[Path]:
    """Write an export's tables the way a clinic would hand them over.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        Table name -> frame, e.g. the output of :func:`generate_sample`.
    out_dir : str or pathlib.Path
        Folder to write into (created if absent). Existing files of the same name are replaced.
    fmt : {"csv", "parquet", "xlsx"}
        ``csv``: one UTF-8, comma-separated ``<table>.csv`` per table, dates ``YYYY-MM-DD``,
        blanks empty. ``parquet``: one ``<table>.parquet`` per table. ``xlsx``: one workbook
        ``export.xlsx`` with one sheet per table, dates formatted ``YYYY-MM-DD``.

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    OutcomesError
        On an unknown format, or a table longer than an Excel sheet allows.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        paths = [out / f"{name}.csv" for name in tables]
        for path, df in zip(paths, tables.values()):
            df.to_csv(path, index=False, date_format="%Y-%m-%d", lineterminator="\n")
        return paths
    if fmt == "parquet":
        paths = [out / f"{name}.parquet" for name in tables]
        for path, df in zip(paths, tables.values()):
            df.to_parquet(path, index=False)
        return paths
    if fmt == "xlsx":
        too_long = [name for name, df in tables.items() if len(df) >= 1_048_576]
        if too_long:
            raise OutcomesError(f"table(s) {', '.join(too_long)} have more rows than an Excel "
                                "sheet holds (1,048,575); use --format csv or parquet.")
        path = out / "export.xlsx"
        with pd.ExcelWriter(path, engine="openpyxl", date_format="YYYY-MM-DD",
                            datetime_format="YYYY-MM-DD") as writer:
            for name, df in tables.items():
                df.to_excel(writer, sheet_name=name, index=False)
        return [path]
    raise OutcomesError(f"unknown export format {fmt!r}; use csv, parquet or xlsx.")


def sample_path() -> Path:
    """The bundled sample export (a folder of four CSV files and a README) in the package.

    Returns
    -------
    pathlib.Path
        ``.../outcomes/data/sample``; made by ``outcomes sample --patients 300 --seed 2026``.
    """
    return Path(str(files("outcomes").joinpath("data", "sample")))


#: file types a clinic's export may come in (any name: a mapping file renames columns, not files)
_EXPORT_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".xlsx", ".xls")


def refuse_export_folder(out) -> None:
    """Raise when ``out`` already holds an export (data files), so that ``outcomes sample``
    never replaces a clinic's files.

    Parameters
    ----------
    out : str or pathlib.Path
        The folder ``outcomes sample --out`` would write to.

    Raises
    ------
    OutcomesError
        When ``out`` is an existing file, or a folder holding any CSV, TSV, text, Parquet or
        Excel file (named in the message, with the fix).
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutcomesError(f"--out {out} is an existing file, not a folder; give a new or "
                            "empty folder.")
    if not out.is_dir():
        return
    found = sorted(p.name for p in out.iterdir()
                   if p.is_file() and p.suffix.lower() in _EXPORT_SUFFIXES)
    if found:
        shown = ", ".join(found[:4]) + (f" and {len(found) - 4} more" if len(found) > 4 else "")
        raise OutcomesError(f"--out {out} already holds data files ({shown}): a synthetic "
                            "export is never written over an export. Give a new or empty "
                            "folder, e.g. --out synthetic-export.")


def cli_sample(args) -> int:
    """``outcomes sample --patients N --seed S --out DIR [--format csv|parquet|xlsx]``.

    Prints the files written with their row counts and the time taken (no patient row).
    Returns 0.
    """
    refuse_export_folder(args.out)
    start = time.perf_counter()
    tables = generate_sample(args.patients, seed=args.seed)
    generated = time.perf_counter() - start
    paths = write_export(tables, args.out, fmt=getattr(args, "format", "csv") or "csv")
    total = time.perf_counter() - start
    print(f"synthetic export: {args.patients} patients, seed {args.seed}, format "
          f"{getattr(args, 'format', 'csv')}")
    for name, df in tables.items():
        print(f"  {name:<15} {len(df):>10,} rows")
    for path in paths:
        print(f"  wrote {path}")
    print(f"generated in {generated:.1f} s, written in {total - generated:.1f} s")
    return 0
