"""Missing is never zero: what each figure could not assess because a value was not recorded.

A yes/no left empty, an optional column absent from the export, or an adverse-event term the
vocabulary does not know is *not recorded*, never "no". :func:`not_recorded_table` counts, for
each figure that depends on such a value, how many patients (or events) it could not assess;
:func:`outcomes.text.not_recorded_sentences` turns the rows that touch a headline or safety
figure into sentences for the report's first screen.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["not_recorded_table", "NOT_RECORDED_COLUMNS", "OTHER_SHARE_THRESHOLD"]

#: the share of adverse events that fell to ``other`` above which the first screen says so
OTHER_SHARE_THRESHOLD = 0.05

NOT_RECORDED_COLUMNS = ("figure", "column", "unit", "total", "not_recorded", "share", "absent",
                        "first_screen")


def _absent(load_report, table: str, column: str) -> bool:
    absent = getattr(load_report, "absent_columns", None) or {}
    return column in absent.get(table, ())


def not_recorded_table(cohort, load_report=None) -> pd.DataFrame:
    """Count what each figure could not assess.

    Parameters
    ----------
    cohort : Cohort
        From :func:`outcomes.cohort.build_cohort`.
    load_report : LoadReport, optional
        Says which optional columns were absent from the export.

    Returns
    -------
    DataFrame
        One row per figure, columns :data:`NOT_RECORDED_COLUMNS`: ``figure`` (what depends on
        the value), ``column`` (contract column), ``unit`` (``"patients"`` or ``"events"``),
        ``total`` and ``not_recorded`` (int64: treated patients, patients due at 12 months, or
        events up to the cut-off; and how many of them have no value), ``share`` (fraction,
        NaN when total is 0), ``absent`` (bool: the column is not in the export at all),
        ``first_screen`` (bool: something is not recorded and it touches a headline or safety
        figure -- for the term row, when the share is above :data:`OTHER_SHARE_THRESHOLD` -- or
        the whole column is absent from the export).
    """
    p, pt, ae = cohort.patients, cohort.patient_table, cohort.adverse_events
    treated = p["treated"].to_numpy(bool)
    due = p["due_12m"].to_numpy(bool)

    def missing(col: str) -> np.ndarray:
        return pt[col].isna().to_numpy(bool)

    rows: list[tuple[str, str, str, str, int, int, bool | None]] = [
        ("5-ARI hypersensitivity screening", "hypersensitivity_5ari", "patients", "patients",
         int(treated.sum()), int((treated & missing("hypersensitivity_5ari")).sum()), True),
        ("mesotherapy-alone comparison (headline rates)", "minoxidil", "patients", "patients",
         int(treated.sum()), int((treated & missing("minoxidil")).sum()), True),
        ("photographic response at 12 months", "gpa_score", "measurements", "patients",
         int(due.sum()), int((due & ~p["gpa_assessed"].to_numpy(bool)).sum()), False),
        ("density response at 12 months", "density_per_cm2", "measurements", "patients",
         int(due.sum()), int((due & ~p["density_assessed"].to_numpy(bool)).sum()), False),
        ("serious adverse events", "serious", "adverse_events", "events",
         len(ae), int(ae["serious"].isna().sum()), True),
        ("adverse-event severity", "severity", "adverse_events", "events",
         len(ae), int(ae["severity"].isna().sum()), False),
    ]
    written = ae["term_as_written"] if "term_as_written" in ae else ae["term"]
    fell = ((ae["term"] == "other").fillna(False).to_numpy(bool)
            & (written.astype("string").str.strip().str.lower() != "other")
            .fillna(True).to_numpy(bool))
    rows.append(("adverse-event rates (terms outside the vocabulary, counted as other)",
                 "term", "adverse_events", "events", len(ae), int(fell.sum()), None))
    out = []
    for figure, column, table, unit, total, n, screen in rows:
        share = n / total if total else np.nan
        if screen is None:                      # the term row: above the threshold only
            screen = bool(total) and share > OTHER_SHARE_THRESHOLD
        absent = _absent(load_report, table, column)
        screen = screen or absent               # a whole column missing is always said
        out.append({"figure": figure, "column": column, "unit": unit, "total": total,
                    "not_recorded": n, "share": share,
                    "absent": absent,
                    "first_screen": bool(screen and n > 0)})
    return pd.DataFrame(out, columns=list(NOT_RECORDED_COLUMNS)).astype(
        {"figure": object, "column": object, "unit": object, "total": "int64",
         "not_recorded": "int64", "share": "float64", "absent": bool, "first_screen": bool})
