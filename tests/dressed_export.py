"""The bundled sample dressed as a real clinic's export, for the shareable report the tests walk.

The sample's data (``generate_sample(300, seed=2026, end="2026-09-30")``, as data/sample) with
what a real export carries and a shareable report must never show: practitioner ids that are
staff names, an e-mail and a phone number; recognisable patient ids (``ZQX00017``); an extra
column in the patients file (``referral_source_zqx``) and an extra file in the folder; and two
rows that break rules (a measurement of an unknown patient, an adverse event before the
patient's first session), so that the data-quality page has quarantine reasons to show.

:func:`write_dressed` writes it (:func:`dressed_tables` are its tables); :func:`forbidden`
lists the strings that must not leave. conftest's ``reports`` fixture runs ``outcomes report
--shareable`` on it (test_walk_shareable walks that report; test_report, test_sections and
test_pages check it too).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

CUTOFF = dt.date(2026, 9, 30)
NAMES = {"NP-01": "Dr Jane Doe", "NP-02": "jane.doe@clinic-example.org",
         "NP-03": "+44 20 7946 0958", "NP-04": "Dr Ahmed Khan", "NP-05": "Maria Garcia-Lopez"}
EXTRA_COLUMN = "referral_source_zqx"
EXTRA_FILE = "Jane Doe referral letters.csv"


def renamed(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Synthetic tables (``generate_sample``) with recognisable pseudonyms (``P00017`` ->
    ``ZQX00017``, sessions alike) and staff names as practitioner ids (:data:`NAMES`)."""
    t = {name: df.copy() for name, df in tables.items()}
    ren = lambda s: s.str.replace(r"^P(\d+)", r"ZQX\1", regex=True)  # noqa: E731
    for name in t:
        for col in ("patient_id", "session_id"):
            if col in t[name]:
                t[name][col] = ren(t[name][col].astype("string"))
    t["sessions"]["practitioner_id"] = t["sessions"]["practitioner_id"].map(NAMES)
    assert t["sessions"]["practitioner_id"].notna().all(), "a practitioner without a name"
    return t


def dressed_tables(patients: int = 300, seed: int = 2026,
                   end: str = "2026-09-30") -> dict[str, pd.DataFrame]:
    """The dressed export's tables (default: the bundled sample's data)."""
    from outcomes.sample import generate_sample

    t = renamed(generate_sample(patients, seed=seed, end=end))
    t["patients"][EXTRA_COLUMN] = "GP letter"
    m = t["measurements"]
    bad = m.iloc[[0]].copy()
    bad["patient_id"] = "ZQX99999"  # a patient not in the patients file
    ae = t["adverse_events"]
    early = ae.iloc[[0]].copy()
    early["event_id"] = "E999999"
    first = t["sessions"].groupby("patient_id")["session_date"].min()
    early["onset_date"] = first[early["patient_id"].iloc[0]] - pd.Timedelta(days=40)
    t["measurements"] = pd.concat([m, bad], ignore_index=True)
    t["adverse_events"] = pd.concat([ae, early], ignore_index=True)
    return t


def write_dressed(folder: Path, **sample) -> dict[str, pd.DataFrame]:
    """Write :func:`dressed_tables` (``sample``: its arguments) into ``folder`` as CSV files,
    with the extra file beside them; returns the tables."""
    from outcomes.sample import write_export

    t = dressed_tables(**sample)
    write_export(t, folder)
    (folder / EXTRA_FILE).write_text("patient_id,letter\nZQX00001,Dear Dr Jane Doe\n",
                                     encoding="utf-8")
    return t


def forbidden(tables: dict[str, pd.DataFrame], periods=()) -> dict[str, set[str]]:
    """What must not leave, by kind: pseudonyms, patient dates (any date of the export but the
    cut-off and the first days of the audit ``periods``' first quarters, e.g. "2025Q4": the
    report states when its periods begin; as ISO, "3 March 2026" and 03/03/2026), practitioner
    names, ignored names."""
    ids = set()
    for df in tables.values():
        for col in ("patient_id", "session_id", "event_id"):
            if col in df:
                ids |= set(df[col].dropna().astype(str))
    dates = set()
    for df in tables.values():
        for col in df.columns:
            if pd.api.types.is_datetime64_any_dtype(df[col]):
                dates |= {d.date() for d in df[col].dropna()}
    dates.discard(CUTOFF)
    dates -= {pd.Period(q, freq="Q").start_time.date() for q in periods}
    date_texts = {d.isoformat() for d in dates} | {f"{d.day} {d:%B %Y}" for d in dates} | {
        d.strftime("%d/%m/%Y") for d in dates}
    names = set(NAMES.values()) | {"Jane Doe", "Ahmed Khan", "Garcia-Lopez", "7946 0958",
                                   "jane.doe@"}
    return {"pseudonym": ids, "patient date": date_texts, "practitioner name": names,
            "ignored column or file": {EXTRA_COLUMN, EXTRA_FILE, "referral letters"}}
