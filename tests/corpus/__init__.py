"""A corpus of malformed (and awkward-but-valid) clinic exports, built from the small valid
export of ``tests/conftest.py``: each case changes one thing and says exactly what the loader
must do: stop with a given message, or quarantine given rows (or accept everything).

``{dir}`` in a stop message stands for the export folder.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from conftest import SMALL_EXPORT

__all__ = ["Case", "CASES", "base_files", "edit"]


@dataclass(frozen=True)
class Case:
    """One export and what loading it must give.

    ``quarantine``: (table, row, column, value, part of the rule) per broken rule.
    ``same_as_base``: the clean tables must equal those of the unmodified export.
    """

    name: str
    files: dict
    options: dict = field(default_factory=dict)
    stop: str | None = None
    quarantine: tuple = ()
    same_as_base: bool = False
    other_terms: tuple = ()
    extra_columns: dict = field(default_factory=dict)
    notes: tuple = ()


def base_files(**tables: str | bytes | None) -> dict[str, str | bytes]:
    """The small export as ``{file name: content}``, with tables replaced (None removes)."""
    files = {f"{t}.csv": text for t, text in SMALL_EXPORT.items()}
    for t, text in tables.items():
        files.pop(f"{t}.csv")
        if text is not None:
            files[f"{t}.csv"] = text
    return files


def edit(table: str, old: str, new: str) -> str:
    """The small export's ``table`` text with one substring replaced (it must be there)."""
    text = SMALL_EXPORT[table]
    assert old in text, (table, old)
    return text.replace(old, new, 1)


def _add(table: str, line: str) -> str:
    return SMALL_EXPORT[table] + line + "\n"


def _semicolons(text: str, decimal_comma: bool) -> str:
    lines = []
    for line in text.splitlines():
        cells = line.split(",")
        if decimal_comma:
            cells = [c.replace(".", ",") if c.replace(".", "").isdigit() else c for c in cells]
        lines.append(";".join(cells))
    return "\n".join(lines) + "\n"


_P_HEADER = SMALL_EXPORT["patients"].splitlines()[0]
_FIX_ID = "Replace them with pseudonyms (e.g. P0001) and keep the key at the clinic."
_REMOVE = ("Remove the column from the export (the audit needs de-identified data only), "
           "then load again.")

CASES: tuple[Case, ...] = (
    # ---- whole-file stops ------------------------------------------------------------------
    Case("identifier_column",
         base_files(patients=SMALL_EXPORT["patients"].replace("\n", ",Smith\n").replace(
             "hypersensitivity_5ari,Smith", "hypersensitivity_5ari,Surname")),
         stop=f"{{dir}}/patients.csv: column 'Surname' looks like it holds a name, an "
              f"identifier. {_REMOVE}"),
    Case("date_of_birth_column",
         base_files(sessions="session_id,patient_id,session_date,DOB\n"
                             "S1,P1,2025-01-10,1980-02-03\n"),
         stop=f"{{dir}}/sessions.csv: column 'DOB' looks like it holds a date of birth, an "
              f"identifier. {_REMOVE}"),
    Case("email_as_patient_id",
         base_files(patients=edit("patients", "P2,F", "jane.doe@example.com,F")),
         stop="{dir}/patients.csv, column 'patient_id': 1 value(s) look like e-mail addresses "
              f"or phone/card numbers (first at row 3). {_FIX_ID}"),
    Case("phone_as_patient_id",
         base_files(sessions=edit("sessions", "S3,P3", "S3,416-555-0199")),
         stop="{dir}/sessions.csv, column 'patient_id': 1 value(s) look like e-mail addresses "
              f"or phone/card numbers (first at row 4). {_FIX_ID}"),
    Case("missing_required_column",
         base_files(sessions="session_id,patient_id,volume_ml\nS1,P1,1\n"),
         stop="{dir}/sessions.csv: required column(s) missing: session_date. Add them, or map "
              "your own header to them with --mapping (see docs/data-dictionary.md)."),
    Case("missing_required_table",
         base_files(sessions=None),
         stop="{dir}: no sessions file (required). Add sessions.csv or sessions.parquet, or "
              "map your file's name in a mapping file ([sheets] \"<file name>\" = "
              "\"sessions\"); .xls and .ods files: save them as .xlsx or CSV."),
    Case("ambiguous_dates",
         base_files(sessions=SMALL_EXPORT["sessions"].replace("2025-01-10", "10/01/2025")
                    .replace("2025-01-12", "12/01/2025").replace("2025-02-01", "01/02/2025")
                    .replace("2025-04-10", "10/04/2025")),
         stop="{dir}/sessions.csv, column 'session_date': dates are not written YYYY-MM-DD "
              "(first at row 2); a date such as 03/04/2026 is ambiguous. Say how they are "
              "written: --date-format DMY (day/month/year) or --date-format MDY "
              "(month/day/year)."),
    Case("day_first_dates",
         base_files(measurements=edit("measurements", "2026-01-10", "25/01/2026")),
         stop="{dir}/measurements.csv, column 'measurement_date': dates are not written "
              "YYYY-MM-DD (first at row 3); a date such as 03/04/2026 is ambiguous. Say how "
              "they are written: --date-format DMY."),
    Case("empty_file",
         base_files(measurements=b""),
         stop="{dir}/measurements.csv is empty. Export the table again, with its header row."),
    Case("binary_file",
         base_files(patients=b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01"),
         stop="{dir}/patients.csv is not a text file (binary content, or UTF-16). Save it as "
              "CSV UTF-8 (or Windows-1252), Parquet or .xlsx."),
    Case("header_only_required",
         base_files(patients=_P_HEADER + "\n"),
         stop="{dir}/patients.csv has a header but no rows. Export patients again with its "
              "rows (patients is required)."),
    Case("unknown_encoding",
         base_files(patients=edit("patients", "III", "I\x81I").encode("latin-1")),
         stop="{dir}/patients.csv is neither UTF-8 nor Windows-1252 text. Save it as CSV "
              "UTF-8."),
    Case("corrupt_workbook",
         {"export.xlsx": b"PK\x03\x04 this is not really a workbook"},
         stop="{dir}/export.xlsx could not be read (BadZipFile). Export the table again as CSV "
              "(UTF-8), Parquet or an .xlsx sheet."),
    # ---- row-level quarantine ---------------------------------------------------------------
    Case("orphan_rows",
         base_files(measurements=_add("measurements", "P9,2025-03-01,,vertex,100,,,"),
                    adverse_events=_add("adverse_events", "E3,P1,S99,2025-02-01,headache,,,")),
         quarantine=(("measurements", 5, "patient_id", "P9", "patient_id not in patients"),
                     ("adverse_events", 4, "session_id", "S99",
                      "session_id not in sessions"))),
    Case("duplicate_ids",
         base_files(patients=_add("patients", "P1,M,41,,,,,,"),
                    sessions=_add("sessions", "S2,P3,2025-05-01,NP-01,1,0.01,")),
         quarantine=(("patients", 5, "patient_id", "P1",
                      "duplicate patient_id: the same as row 2"),
                     ("sessions", 6, "session_id", "S2",
                      "duplicate session_id: the same as row 3"))),
    Case("out_of_range_values",
         base_files(patients=edit("patients", "P3,F,52", "P3,F,17"),
                    sessions=edit("sessions", "S4,P1,2025-04-10,NP-01,1,",
                                  "S4,P1,2025-04-10,NP-01,12,"),
                    measurements=edit("measurements", ",,,0,R2", ",,,5,R2"),
                    adverse_events=edit("adverse_events", "2.5", "-1")),
         quarantine=(("patients", 4, "age", "17", "a whole number from 18 to 100"),
                     ("sessions", 4, "patient_id", "P3", "patient quarantined (see patients "
                                                         "row 4)"),
                     ("sessions", 5, "volume_ml", "12", "a number more than 0 and at most 10"),
                     ("measurements", 4, "gpa_score", "5", "a whole number from -3 to 3"),
                     ("adverse_events", 3, "duration_days", "-1", "a number 0 or more"))),
    Case("future_dates",
         base_files(sessions=edit("sessions", "2025-04-10", "2026-07-01"),
                    adverse_events=edit("adverse_events", "2025-01-13", "2027-01-01")),
         quarantine=(("sessions", 5, "session_date", "2026-07-01",
                      "not after today (2026-06-01)"),
                     ("adverse_events", 3, "onset_date", "2027-01-01",
                      "not after today (2026-06-01)"))),
    Case("event_on_another_patients_session",
         base_files(adverse_events=edit("adverse_events", "E2,P2,S2", "E2,P2,S1"),
                    measurements=edit("measurements", "P2,2025-01-12,S2", "P2,2025-01-12,S3")),
         quarantine=(("measurements", 4, "session_id", "S3",
                      "the session belongs to another patient (patient P3)"),
                     ("adverse_events", 3, "session_id", "S1",
                      "the session belongs to another patient (patient P1)"))),
    Case("cascade_from_a_session",
         base_files(sessions=edit("sessions", "S1,P1,2025-01-10,NP-01,1,",
                                  "S1,P1,2025-01-10,NP-01,0,")),
         quarantine=(("sessions", 2, "volume_ml", "0", "a number more than 0 and at most 10"),
                     ("measurements", 2, "session_id", "S1",
                      "session quarantined (see sessions row 2)"),
                     ("adverse_events", 2, "session_id", "S1",
                      "session quarantined (see sessions row 2)"))),
    Case("cascade_from_a_patient",
         base_files(patients=edit("patients", "P1,M", "P1,X")),
         quarantine=(("patients", 2, "sex", "X", "one of F, M"),
                     ("sessions", 2, "patient_id", "P1", "patient quarantined (see patients "
                                                         "row 2)"),
                     ("sessions", 5, "patient_id", "P1", "patient quarantined"),
                     ("measurements", 2, "patient_id", "P1", "patient quarantined"),
                     ("measurements", 3, "patient_id", "P1", "patient quarantined"),
                     ("adverse_events", 2, "patient_id", "P1", "patient quarantined"))),
    Case("onset_before_first_session",
         base_files(adverse_events=edit("adverse_events", "2025-01-13", "2025-01-01")),
         quarantine=(("adverse_events", 3, "onset_date", "2025-01-01",
                      "not before the patient's first session (2025-01-12)"),)),
    Case("missing_required_values",
         base_files(patients=edit("patients", "P2,F,35,Ludwig,I-2,yes", "P2,F,35,Ludwig,I-2,"),
                    measurements=edit("measurements", "P1,2026-01-10,,vertex,135,62,1",
                                      "P1,2026-01-10,,vertex,,62,")),
         quarantine=(("patients", 3, "childbearing_potential", "",
                      "yes or no is required when sex is F"),
                     ("sessions", 3, "patient_id", "P2", "patient quarantined"),
                     ("measurements", 3, "density_per_cm2", "",
                      "at least one of density_per_cm2 and gpa_score is required"),
                     ("measurements", 4, "patient_id", "P2", "patient quarantined"),
                     ("adverse_events", 3, "patient_id", "P2", "patient quarantined"))),
    Case("unreadable_values",
         base_files(sessions=edit("sessions", "2025-02-01", "2025-02-30"),
                    adverse_events=edit("adverse_events", "moderate", "extreme")),
         quarantine=(("sessions", 4, "session_date", "2025-02-30",
                      "a real date written YYYY-MM-DD"),
                     ("adverse_events", 3, "severity", "extreme", "one of mild, moderate, "
                                                                  "severe"))),
    Case("yes_no_spellings",
         base_files(patients=SMALL_EXPORT["patients"]
                    .replace("III,,,yes,no", "III,,,Y,N")
                    .replace("I-2,yes,yes,no,no", "I-2,TRUE,1,false,0")
                    .replace("II,no,,,", "II,No,,maybe,")),
         quarantine=(("patients", 4, "minoxidil", "maybe", "yes or no"),
                     ("sessions", 4, "patient_id", "P3", "patient quarantined"))),
    Case("decimal_comma_without_option",
         base_files(sessions=_semicolons(SMALL_EXPORT["sessions"], False).replace("1.5", "1,5")),
         quarantine=(("sessions", 4, "volume_ml", "1,5",
                      "if the export uses decimal commas, load it with --decimal-comma"),)),
    Case("header_only_optional",
         base_files(adverse_events=SMALL_EXPORT["adverse_events"].splitlines()[0] + "\n"),
         notes=("adverse_events: header only, no rows.",)),
    # ---- awkward but valid: the same clean tables as the plain export -----------------------
    Case("bom_and_crlf",
         {k: b"\xef\xbb\xbf" + v.replace("\n", "\r\n").encode() for k, v in
          base_files().items()}, same_as_base=True),
    Case("windows_1252",
         {**{k: v.encode("cp1252") for k, v in base_files().items()},
          "adverse_events.csv": _add("adverse_events",
                                     "E3,P3,S3,2025-02-02,brûlure,élevée,,").encode("cp1252")},
         quarantine=(("adverse_events", 4, "severity", "élevée", "one of mild"),)),
    Case("windows_1252_term",
         {**base_files(), "adverse_events.csv": _add(
             "adverse_events", "E3,P3,S3,2025-02-02,vértigo,mild,,").encode("cp1252")},
         other_terms=("vértigo",)),
    Case("semicolons_with_decimal_commas",
         {k: _semicolons(v, True) for k, v in base_files().items()},
         options={"decimal_comma": True}, same_as_base=True),
    Case("tab_separated",
         {k: v.replace(",", "\t") for k, v in base_files().items()}, same_as_base=True),
    Case("messy_headers",
         base_files(patients=SMALL_EXPORT["patients"].replace(
             _P_HEADER, "  Patient-ID ,SEX, Age ,Baseline Scale,baseline grade,"
                        "Childbearing-Potential,CONTRACEPTION,Minoxidil,Hypersensitivity 5ARI")),
         same_as_base=True),
    Case("extra_columns",
         base_files(patients=SMALL_EXPORT["patients"].replace("\n", ",north\n").replace(
             "hypersensitivity_5ari,north", "hypersensitivity_5ari,Clinic Site")),
         same_as_base=True, extra_columns={"patients": ("Clinic Site",)}),
    Case("day_month_year_with_option",
         base_files(sessions=SMALL_EXPORT["sessions"].replace("2025-01-10", "10/01/2025")
                    .replace("2025-02-01", "01.02.2025")),
         options={"date_format": "DMY"}, same_as_base=True),
)

#: the loader's "today" for the corpus (see conftest.LOAD_TODAY)
TODAY = dt.date(2026, 6, 1)
