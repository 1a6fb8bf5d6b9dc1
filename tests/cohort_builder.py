"""Build clean tables directly (the documented columns and dtypes), independent of the loader.

``make_export`` turns lists of row dicts into an Export-like object; ``reference_export``
builds the cohort whose every figure is known by construction (86 comparable patients, 69
improved, 33 marked, window and baseline edges, medians of raters); ``synthetic_export``
builds a large random export, vectorised, for timing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DTYPES = {
    "patients": {
        "patient_id": "string", "sex": "string", "age": "Int64", "baseline_scale": "string",
        "baseline_grade": "string", "childbearing_potential": "boolean",
        "contraception": "boolean", "minoxidil": "boolean", "hypersensitivity_5ari": "boolean",
    },
    "sessions": {
        "session_id": "string", "patient_id": "string", "session_date": "datetime64[ns]",
        "practitioner_id": "string", "volume_ml": "float64", "concentration_pct": "float64",
        "pregnancy_test": "string",
    },
    "measurements": {
        "patient_id": "string", "measurement_date": "datetime64[ns]", "session_id": "string",
        "site": "string", "density_per_cm2": "float64", "shaft_diameter_um": "float64",
        "gpa_score": "Int64", "rater_id": "string",
    },
    "adverse_events": {
        "event_id": "string", "patient_id": "string", "session_id": "string",
        "onset_date": "datetime64[ns]", "term": "string", "term_as_written": "string",
        "severity": "string", "duration_days": "float64", "serious": "boolean",
    },
}


@dataclass(frozen=True)
class FakeExport:
    """Stand-in for ``outcomes.loader.Export`` (same four table attributes)."""

    patients: pd.DataFrame
    sessions: pd.DataFrame
    measurements: pd.DataFrame
    adverse_events: pd.DataFrame
    report: object = None


def table(name: str, rows) -> pd.DataFrame:
    """A clean table from row dicts (or a DataFrame); absent columns are missing values."""
    dtypes = DTYPES[name]
    raw = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows))
    out = {}
    for col, dt in dtypes.items():
        values = raw[col] if col in raw.columns else pd.Series([None] * len(raw), dtype=object)
        values = values.reset_index(drop=True)
        if dt.startswith("datetime"):
            out[col] = pd.to_datetime(values).astype(dt)
        elif dt == "float64":
            out[col] = pd.to_numeric(values).astype("float64")
        elif dt == "boolean":
            out[col] = values.astype(object).where(values.notna(), None).astype("boolean")
        else:
            out[col] = values.astype(object).where(values.notna(), None).astype(dt)
    return pd.DataFrame(out, columns=list(dtypes))


def make_export(patients=(), sessions=(), measurements=(), adverse_events=()) -> FakeExport:
    """An Export-like object from row dicts."""
    return FakeExport(table("patients", patients), table("sessions", sessions),
                      table("measurements", measurements),
                      table("adverse_events", adverse_events))


@dataclass
class Rows:
    """Accumulates rows of the four tables; ``add`` writes one patient with its visits."""

    patients: list = field(default_factory=list)
    sessions: list = field(default_factory=list)
    measurements: list = field(default_factory=list)
    adverse_events: list = field(default_factory=list)

    def add(self, pid, *, t0="2024-01-15", session_days=(0, 90, 180, 270, 450), gpa=(),
            density=(), practitioner="P1", **patient):
        """One patient. gpa: (day, score[, rater]); density: (day, value[, site])."""
        t0 = pd.Timestamp(t0)
        row = {"patient_id": pid, "sex": "M", "age": 40, "baseline_scale": "Norwood-Hamilton",
               "baseline_grade": "III", "minoxidil": False}
        row.update(patient)
        self.patients.append(row)
        for i, day in enumerate(session_days):
            self.sessions.append({"session_id": f"{pid}-S{i + 1}", "patient_id": pid,
                                  "session_date": t0 + pd.Timedelta(days=day),
                                  "practitioner_id": practitioner, "volume_ml": 1.0,
                                  "concentration_pct": 0.01})
        for item in gpa:
            day, score, rater = (*item, "R1")[:3]
            self.measurements.append({"patient_id": pid, "site": "target", "rater_id": rater,
                                      "measurement_date": t0 + pd.Timedelta(days=day),
                                      "gpa_score": score})
        for item in density:
            day, value, site = (*item, "target")[:3]
            self.measurements.append({"patient_id": pid, "site": site,
                                      "measurement_date": t0 + pd.Timedelta(days=day),
                                      "density_per_cm2": value})

    def export(self) -> FakeExport:
        return make_export(self.patients, self.sessions, self.measurements, self.adverse_events)


REFERENCE_CUTOFF = "2026-06-30"

#: the figures the reference export holds by construction
REFERENCE = {
    ("photographic", "comparable", "improved"): (69, 86),
    ("photographic", "comparable", "dramatic"): (33, 86),
    ("photographic", "comparable", "worst_case_improved"): (69, 90),
    ("photographic", "all", "improved"): (88, 111),
    ("photographic", "all", "dramatic"): (43, 111),
    ("photographic", "all", "worst_case_improved"): (88, 115),
    ("density", "all", "improved"): (27, 37),
    ("density", "all", "dramatic"): (12, 37),
    ("density", "all", "worst_case_improved"): (27, 115),
    ("density", "comparable", "improved"): (27, 37),
    ("density", "comparable", "dramatic"): (12, 37),
    ("density", "comparable", "worst_case_improved"): (27, 90),
}
REFERENCE_FLOW = {"registered": 121, "treated": 118, "not_treated": 3, "due_12m": 115,
                  "assessed_photographic": 111, "lost_photographic": 4,
                  "assessed_density": 37, "excluded_after_cutoff_sessions": 1}
# mean changes over the 37 density-assessed patients (see _density below)
REFERENCE_DENSITY_ABS_MEAN = 390 / 37
REFERENCE_DENSITY_REL_MEAN = 4.5 / 37


def _density(i: int):
    """Density visits of the i-th comparable assessed patient (by construction)."""
    if i < 10:                      # baseline 30 days before t0 (inside): +30 %, dramatic
        return [(-30, 100.0), (365, 130.0)]
    if i < 20:                      # exactly +10 %: improved, not dramatic
        return [(0, 100.0), (365, 110.0)]
    if i < 25:                      # baseline 31 days before t0 (outside): not assessed
        return [(-31, 100.0), (365, 150.0)]
    if i < 30:                      # two sites, +20 % and 0 %: mean +10 %, improved
        return [(0, 100.0, "vertex"), (365, 120.0, "vertex"),
                (0, 100.0, "frontal"), (365, 100.0, "frontal")]
    if i < 40:                      # -5 %
        return [(-10, 200.0), (365, 190.0)]
    if i < 42:                      # latest baseline (day -1, 80) counts: +25 %, dramatic
        return [(-5, 100.0), (-1, 80.0), (365, 100.0)]
    return []


def reference_export() -> FakeExport:
    """The export whose every figure is in :data:`REFERENCE` / :data:`REFERENCE_FLOW`.

    86 comparable (minoxidil no) assessed patients: 69 improved of whom 33 marked, with the
    window edges (day 270 and 450 inside, 269 and 451 outside), ties (day 355 beats 375), and
    medians of two, three and four raters; 4 comparable due patients not assessed; 20 on
    minoxidil (15 improved, 8 marked); 5 minoxidil not recorded (4 improved, 2 marked);
    3 comparable treated but not yet due; 3 not treated (one only after the cut-off).
    """
    r = Rows()
    comparable = []  # gpa visit lists of the 86 assessed comparable patients
    # improved, not marked (36)
    comparable += [[(270, 1)], [(450, 1)], [(365, 1, "R1"), (365, 2, "R2")],
                   [(365, 0, "R1"), (365, 1, "R2"), (365, 1, "R3")]]
    comparable += [[(365, 1)]] * 32
    # marked (33)
    comparable += [[(270, 2)], [(450, 3)], [(365, 1, "R1"), (365, 2, "R2"), (365, 3, "R3")],
                   [(355, 2), (375, 0)]]
    comparable += [[(365, 2 + (j % 2))] for j in range(29)]
    # not improved (17)
    comparable += [[(269, 3), (380, 0)], [(451, 3), (350, -1)],
                   [(365, 0, "R1"), (365, 1, "R2")],
                   [(365, -1, "R1"), (365, 1, "R2"), (365, 0, "R3"), (365, 0, "R4")],
                   [(355, 0), (375, 3)]]
    comparable += [[(365, 0)]] * 12
    assert len(comparable) == 86
    for i, visits in enumerate(comparable):
        r.add(f"C{i:03d}", gpa=visits, density=_density(i),
              practitioner="P1" if i % 2 else "P2", sex="F" if i % 3 == 0 else "M",
              childbearing_potential=False if i % 3 == 0 else None)
    # comparable, due, lost to follow-up (4)
    for j, visits in enumerate([[(269, 2)], [(451, 2)], [], []]):
        r.add(f"L{j}", gpa=visits)
    # minoxidil yes (20): 15 improved, 8 of them marked
    for j in range(20):
        r.add(f"M{j:02d}", minoxidil=True, gpa=[(365, 2 if j < 8 else (1 if j < 15 else 0))])
    # minoxidil not recorded (5): 4 improved, 2 marked
    for j in range(5):
        r.add(f"N{j}", minoxidil=None, gpa=[(365, 3 if j < 2 else (1 if j < 4 else -1))])
    # treated, not yet due (t0 + 450 after the cut-off)
    for j in range(3):
        r.add(f"D{j}", t0="2025-06-01", session_days=(0, 90), gpa=[(300, 3)])
    # not treated: no session, and a session only after the cut-off
    r.add("U0", session_days=())
    r.add("U1", session_days=())
    r.add("U2", t0="2026-07-01", session_days=(0,))
    return r.export()


def synthetic_export(n_patients: int, *, seed: int = 1) -> FakeExport:
    """A large random export (vectorised): ~7 sessions, ~10 measurements per patient."""
    rng = np.random.default_rng(seed)
    ids = pd.Series([f"P{i:06d}" for i in range(n_patients)], dtype="string")
    t0 = pd.Timestamp("2022-01-03") + pd.to_timedelta(rng.integers(0, 900, n_patients), "D")
    patients = pd.DataFrame({
        "patient_id": ids,
        "sex": pd.Series(rng.choice(["F", "M"], n_patients), dtype="string"),
        "age": pd.array(rng.integers(18, 90, n_patients), dtype="Int64"),
        "baseline_scale": pd.Series(rng.choice(["Norwood-Hamilton", "Ludwig"], n_patients),
                                    dtype="string"),
        "baseline_grade": pd.Series(rng.choice(["I", "II", "III", "IV", "V"], n_patients),
                                    dtype="string"),
        "childbearing_potential": pd.array(rng.random(n_patients) < 0.3, dtype="boolean"),
        "contraception": pd.array(rng.random(n_patients) < 0.9, dtype="boolean"),
        "minoxidil": pd.array(rng.random(n_patients) < 0.4, dtype="boolean"),
        "hypersensitivity_5ari": pd.array(rng.random(n_patients) < 0.01, dtype="boolean"),
    })
    n_sess = 7
    pidx = np.repeat(np.arange(n_patients), n_sess)
    sday = (np.tile(np.arange(n_sess) * 90, n_patients)
            + rng.integers(-10, 11, pidx.size) * (np.tile(np.arange(n_sess), n_patients) > 0))
    sessions = pd.DataFrame({
        "session_id": pd.Series([f"S{i:07d}" for i in range(pidx.size)], dtype="string"),
        "patient_id": ids.iloc[pidx].reset_index(drop=True),
        "session_date": (t0[pidx] + pd.to_timedelta(sday, "D")).astype("datetime64[ns]"),
        "practitioner_id": pd.Series(rng.choice(["A", "B", "C", "D"], pidx.size),
                                     dtype="string"),
        "volume_ml": np.ones(pidx.size), "concentration_pct": np.full(pidx.size, 0.01),
        "pregnancy_test": pd.Series(rng.choice(["negative", "not_done"], pidx.size),
                                    dtype="string"),
    })
    n_meas = 10
    midx = np.repeat(np.arange(n_patients), n_meas)
    slot = np.tile(np.arange(n_meas), n_patients)
    mday = np.where(slot < 8, slot * 60 - 5, 365 + rng.integers(-20, 21, midx.size))
    is_gpa = slot >= 8
    base = 100 + 20 * rng.standard_normal(n_patients)
    density = base[midx] * (1 + 0.0004 * mday + 0.05 * rng.standard_normal(midx.size))
    measurements = pd.DataFrame({
        "patient_id": ids.iloc[midx].reset_index(drop=True),
        "measurement_date": (t0[midx] + pd.to_timedelta(mday, "D")).astype("datetime64[ns]"),
        "session_id": pd.Series([None] * midx.size, dtype="string"),
        "site": pd.Series(["target"] * midx.size, dtype="string"),
        "density_per_cm2": np.where(is_gpa, np.nan, density),
        "shaft_diameter_um": np.full(midx.size, np.nan),
        "gpa_score": pd.array(np.where(is_gpa, rng.integers(-1, 4, midx.size), 0),
                              dtype="Int64").astype("Int64"),
        "rater_id": pd.Series(np.where(slot == 8, "R1", "R2"), dtype="string"),
    })
    measurements.loc[~is_gpa, "gpa_score"] = pd.NA
    n_ev = n_patients // 2
    eidx = rng.integers(0, pidx.size, n_ev)
    terms = np.array(["injection_site_pain", "frontal_edema", "erythema", "headache",
                      "burning", "scarring"])
    adverse_events = pd.DataFrame({
        "event_id": pd.Series([f"E{i:07d}" for i in range(n_ev)], dtype="string"),
        "patient_id": sessions["patient_id"].iloc[eidx].reset_index(drop=True),
        "session_id": sessions["session_id"].iloc[eidx].reset_index(drop=True),
        "onset_date": (sessions["session_date"].iloc[eidx] + pd.Timedelta(days=1)
                       ).reset_index(drop=True),
        "term": pd.Series(rng.choice(terms, n_ev, p=[.6, .1, .1, .1, .09, .01]),
                          dtype="string"),
        "term_as_written": pd.Series(["as written"] * n_ev, dtype="string"),
        "severity": pd.Series(rng.choice(["mild", "moderate", "severe"], n_ev,
                                         p=[.8, .19, .01]), dtype="string"),
        "duration_days": rng.integers(0, 5, n_ev).astype("float64"),
        "serious": pd.array(rng.random(n_ev) < 0.001, dtype="boolean"),
    })
    return FakeExport(patients, sessions, measurements, adverse_events)
