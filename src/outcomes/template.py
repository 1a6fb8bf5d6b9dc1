"""Capture templates: an empty Excel workbook and a REDCap data dictionary of the contract.

A clinic that captures its data in :func:`write_workbook`'s workbook (or in a REDCap project
built from :func:`redcap_dictionary`) exports exactly what :func:`outcomes.load` reads: the four
tables with the contract's headers, drop-down lists holding the contract's spellings, and
input checks for the contract's ranges and dates. Everything is derived from
:mod:`outcomes.contract` and :mod:`outcomes.vocabulary`; only the help texts live here.
``cli_template`` is the ``outcomes template`` command.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

from outcomes.contract import CHOICES, COLUMNS, MIN_SESSION_DATE, TABLES, Column
from outcomes.errors import OutcomesError
from outcomes.vocabulary import TERMS

__all__ = ["HELP", "YES_NO", "choices_of", "write_workbook", "redcap_dictionary",
           "write_redcap", "REDCAP_COLUMNS", "cli_template"]

#: the yes/no spellings the template offers (both are contract spellings)
YES_NO: tuple[str, ...] = ("yes", "no")

#: (table, column) -> (label, explanation): the read-me sheet, input prompts, REDCap labels
HELP: dict[tuple[str, str], tuple[str, str]] = {
    ("patients", "patient_id"): (
        "Patient pseudonym", "A pseudonym such as P0001, one row per patient; never a name, "
        "e-mail, phone or record number (keep the key at the clinic)."),
    ("patients", "sex"): ("Sex", "F (female) or M (male)."),
    ("patients", "age"): ("Age (years)", "Whole years at the first session, 18 to 100."),
    ("patients", "baseline_scale"): (
        "Baseline scale", "The scale the baseline grade is on: Norwood-Hamilton (men), "
        "Ludwig, Sinclair or Olsen (women)."),
    ("patients", "baseline_grade"): (
        "Baseline grade", "The grade on that scale as written, e.g. III, IIIv, I-2."),
    ("patients", "childbearing_potential"): (
        "Childbearing potential", "yes or no; required when sex is F (leave empty for men)."),
    ("patients", "contraception"): (
        "Reliable contraception", "yes or no; required when childbearing potential is yes."),
    ("patients", "minoxidil"): (
        "Topical minoxidil alongside", "yes or no: topical minoxidil 5% used alongside; "
        "empty = not recorded."),
    ("patients", "hypersensitivity_5ari"): (
        "Hypersensitivity to a 5-ARI", "yes or no: known hypersensitivity to dutasteride or "
        "another 5-alpha-reductase inhibitor; empty = not recorded."),
    ("sessions", "session_id"): ("Session ID", "A unique ID per session, e.g. P0001-S01."),
    ("sessions", "patient_id"): ("Patient pseudonym", "A patient_id of the patients sheet."),
    ("sessions", "session_date"): (
        "Session date", "The day of the injections (YYYY-MM-DD), from 2000-01-01, not after "
        "today."),
    ("sessions", "practitioner_id"): (
        "Practitioner", "A pseudonym of who injected, e.g. NP-01."),
    ("sessions", "volume_ml"): ("Volume injected (mL)", "More than 0, at most 10 mL."),
    ("sessions", "concentration_pct"): (
        "Dutasteride concentration (%)", "More than 0, at most 100 %; the protocol is 0.01."),
    ("sessions", "pregnancy_test"): (
        "Pregnancy test", "negative, positive or not_done (women of childbearing potential)."),
    ("measurements", "patient_id"): (
        "Patient pseudonym", "A patient_id of the patients sheet."),
    ("measurements", "measurement_date"): (
        "Measurement date", "The day of the measurement (YYYY-MM-DD), not after today."),
    ("measurements", "session_id"): (
        "Session ID", "Optional: the session_id of the same patient's session it was taken at."),
    ("measurements", "site"): (
        "Scalp site", "e.g. vertex, frontal; empty = the target site."),
    ("measurements", "density_per_cm2"): (
        "Hair density (hairs/cm2)", "0 to 600 hairs per cm2; at least one of density and GPA "
        "score on each row."),
    ("measurements", "shaft_diameter_um"): (
        "Hair shaft diameter (um)", "5 to 200 micrometres."),
    ("measurements", "gpa_score"): (
        "Global photographic assessment", "A whole number from -3 (greatly worse) to +3 "
        "(greatly improved); at least one of density and GPA score on each row."),
    ("measurements", "rater_id"): (
        "Rater", "A pseudonym of who scored the photographs."),
    ("adverse_events", "event_id"): ("Event ID", "A unique ID per event, e.g. E0001."),
    ("adverse_events", "patient_id"): (
        "Patient pseudonym", "A patient_id of the patients sheet."),
    ("adverse_events", "session_id"): (
        "Session ID", "Recommended: the session_id of the same patient's session the event "
        "followed."),
    ("adverse_events", "onset_date"): (
        "Onset date", "The day the event began (YYYY-MM-DD), not after today, not before the "
        "patient's first session."),
    ("adverse_events", "term"): (
        "Adverse event", "A term of the list (another text is counted as 'other' and listed "
        "for review)."),
    ("adverse_events", "severity"): ("Severity", "mild, moderate or severe."),
    ("adverse_events", "duration_days"): ("Duration (days)", "0 or more days."),
    ("adverse_events", "serious"): (
        "Serious", "yes or no: a serious adverse event (hospitalisation, disability, ...)."),
}

_KIND_TEXT = {"id": "text (ID)", "text": "text", "choice": "one of a list", "bool": "yes/no",
              "int": "whole number", "float": "number", "date": "date"}
# the table whose key a column is (uniqueness), and the tables a column refers to
_KEYS = {"patients": "patient_id", "sessions": "session_id", "adverse_events": "event_id"}
_REFERS = {"patient_id": "patients", "session_id": "sessions"}
_EXCEL_ROWS = 1_048_576


def choices_of(table: str, column: Column) -> tuple[str, ...] | None:
    """The values a template offers for a column (None when it is not a list).

    Choice columns offer the contract's canonical values, yes/no columns :data:`YES_NO`,
    ``adverse_events.term`` the vocabulary's terms.
    """
    if column.kind == "choice":
        return tuple(dict.fromkeys(CHOICES[column.name].values()))
    if column.kind == "bool":
        return YES_NO
    if table == "adverse_events" and column.name == "term":
        return TERMS
    return None


def _help(table: str, column: Column) -> tuple[str, str]:
    return HELP.get((table, column.name), (column.name.replace("_", " ").capitalize(), ""))


def _rule_text(table: str, column: Column) -> str:
    values = choices_of(table, column)
    if values is not None:
        return ", ".join(values)
    if column.low is not None and column.high is not None:
        return (f"more than {column.low:g}, at most {column.high:g}" if column.low_open
                else f"from {column.low:g} to {column.high:g}")
    if column.low is not None:
        return f"{column.low:g} or more"
    if column.kind == "date":
        return "YYYY-MM-DD"
    return ""


def _ensure_new(path: Path) -> None:
    if path.exists():
        raise OutcomesError(f"{path} already exists; not overwritten. Give a new file name "
                            "or remove the old file.")


# ------------------------------------------------------------------------------ workbook
def _validation(table: str, column: Column, letter: str, sheets: dict[str, str]):
    """The Excel data validation of one column (None when nothing is checked)."""
    from openpyxl.worksheet.datavalidation import DataValidation

    first = f"{letter}2"
    label, explanation = _help(table, column)
    values = choices_of(table, column)
    kw: dict = {}
    if values is not None:
        kw = {"type": "list", "formula1": '"' + ",".join(values) + '"'}
        error = "Choose one of: " + ", ".join(values)
    elif column.kind in ("int", "float"):
        kind = "whole" if column.kind == "int" else "decimal"
        if column.low_open:      # Excel's "between" is inclusive: a formula says "more than"
            kw = {"type": "custom", "formula1": f"AND(ISNUMBER({first}),{first}>{column.low:g},"
                                                 f"{first}<={column.high:g})"}
        elif column.high is None:
            kw = {"type": kind, "operator": "greaterThanOrEqual",
                  "formula1": f"{column.low:g}"}
        else:
            kw = {"type": kind, "operator": "between", "formula1": f"{column.low:g}",
                  "formula2": f"{column.high:g}"}
        error = f"A {_KIND_TEXT[column.kind]} {_rule_text(table, column)}."
    elif column.kind == "date":
        if table == "sessions":
            y, m, d = MIN_SESSION_DATE.split("-")
            kw = {"type": "date", "operator": "between",
                  "formula1": f"DATE({int(y)},{int(m)},{int(d)})", "formula2": "TODAY()"}
            error = f"A date from {MIN_SESSION_DATE}, not after today."
        else:
            kw = {"type": "date", "operator": "lessThanOrEqual", "formula1": "TODAY()"}
            error = "A date, not after today."
    elif column.kind == "id" and _KEYS.get(table) == column.name:
        kw = {"type": "custom", "formula1": f"COUNTIF(${letter}:${letter},{first})=1"}
        error = f"{column.name} must be unique: this one is already used."
    elif column.kind == "id" and column.name in _REFERS:
        ref = _REFERS[column.name]
        ref_letter = sheets[ref]
        kw = {"type": "custom", "formula1": f"COUNTIF({ref}!${ref_letter}:${ref_letter},"
                                              f"{first})>0"}
        error = f"Not a {column.name} of the {ref} sheet: add it there first."
    else:
        return None
    # a term outside the vocabulary may still be typed (kept as 'other' and listed)
    style = "warning" if (table, column.name) == ("adverse_events", "term") else "stop"
    return DataValidation(**kw, allow_blank=True, showErrorMessage=True,
                          showInputMessage=True, errorStyle=style,
                          errorTitle=label[:32], error=error[:255],
                          promptTitle=label[:32], prompt=explanation[:255])


def write_workbook(path: str | Path) -> Path:
    """Write the empty capture workbook.

    One sheet per contract table (headers in row 1, frozen; drop-down lists for choices,
    yes/no and adverse-event terms; input checks for whole numbers, numbers and dates in the
    contract's ranges; unique IDs; patient and session IDs that exist), plus a ``read me``
    sheet explaining each column. The loader ignores the ``read me`` sheet.

    Parameters
    ----------
    path : str or Path
        The ``.xlsx`` file to create; it must not exist.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    outcomes.errors.OutcomesError
        The file exists, or its name does not end in ``.xlsx``.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise OutcomesError(f"{path}: the template is an Excel workbook; give a name ending "
                            "in .xlsx.")
    _ensure_new(path)
    wb = Workbook()
    readme = wb.active
    readme.title = "read me"
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    required_fill = PatternFill("solid", fgColor="FCE4D6")
    # the column letter of each table's first column (for cross-sheet checks)
    sheets = {t: get_column_letter(1 + [c.name for c in COLUMNS[t]].index(_KEYS.get(t, "")))
              for t in TABLES if _KEYS.get(t, "") in [c.name for c in COLUMNS[t]]}
    for table in TABLES:
        ws = wb.create_sheet(table)
        for j, col in enumerate(COLUMNS[table], start=1):
            letter = get_column_letter(j)
            cell = ws.cell(row=1, column=j, value=col.name)
            cell.font = bold
            cell.fill = required_fill if col.required else fill
            values = choices_of(table, col) or ()
            width = max(len(col.name), *(len(v) for v in values), 12) + 2
            ws.column_dimensions[letter].width = min(width, 40)
            ws.column_dimensions[letter].number_format = (
                "yyyy-mm-dd" if col.kind == "date" else
                "@" if col.kind in ("id", "text", "choice", "bool") else "General")
            dv = _validation(table, col, letter, sheets)
            if dv is not None:
                dv.add(f"{letter}2:{letter}{_EXCEL_ROWS}")
                ws.add_data_validation(dv)
        ws.freeze_panes = "A2"
    # ---- the read me sheet
    intro = [
        "Capture template for outcomes (dutasteride mesotherapy audit)",
        "One sheet per table; one row per patient, session, measurement or adverse event. "
        "Keep the headers of row 1 as they are.",
        "Dates: type them as dates (shown YYYY-MM-DD). Yes/no and list columns: choose from "
        "the drop-down list. Orange headers: required on every row.",
        "No names, e-mails, phone numbers, dates of birth or record numbers anywhere: use "
        "pseudonyms (P0001) and keep the key at the clinic.",
        "Check the filled workbook with:  outcomes validate THIS_FILE.xlsx",
    ]
    for i, line in enumerate(intro, start=1):
        readme.cell(row=i, column=1, value=line).font = Font(bold=(i == 1), size=13 if i == 1
                                                                 else 11)
    top = len(intro) + 2
    head = ("sheet", "column", "required", "type", "allowed values", "what it is")
    for j, h in enumerate(head, start=1):
        c = readme.cell(row=top, column=j, value=h)
        c.font, c.fill = bold, fill
    r = top
    for table in TABLES:
        for col in COLUMNS[table]:
            r += 1
            label, explanation = _help(table, col)
            row = (table, col.name, "yes" if col.required else "", _KIND_TEXT[col.kind],
                   _rule_text(table, col), f"{label}. {explanation}".strip())
            for j, v in enumerate(row, start=1):
                readme.cell(row=r, column=j, value=v).alignment = Alignment(wrap_text=(j == 6),
                                                                            vertical="top")
    for letter, width in zip("ABCDEF", (16, 24, 10, 14, 48, 90)):
        readme.column_dimensions[letter].width = width
    readme.freeze_panes = f"A{top + 1}"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


# ------------------------------------------------------------------------------ REDCap
#: the 18 columns of a REDCap data dictionary, in order, as REDCap writes them
REDCAP_COLUMNS: tuple[str, ...] = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?",
    "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
)
_REDCAP_YES_NO = "1, Yes | 0, No"
# a field name already used by an earlier form gets its form's prefix (names are project-wide)
_REDCAP_PREFIX = {"measurements": "meas_", "adverse_events": "ae_"}


def _redcap_code(value: str) -> str:
    """A REDCap raw code for a contract value: letters, digits and underscores, lower case
    (``Norwood-Hamilton`` -> ``norwood_hamilton``); one-letter codes as written (``F``)."""
    code = re.sub(r"[^A-Za-z0-9]+", "_", value).strip("_")
    return code if len(code) == 1 else code.lower()


_REDCAP_LABELS = {"F": "Female", "M": "Male"}


def _redcap_label(value: str) -> str:
    if value in _REDCAP_LABELS:
        return _REDCAP_LABELS[value]
    return value.replace("_", " ").capitalize() if value.islower() else value


def redcap_dictionary() -> pd.DataFrame:
    """The REDCap data dictionary of the four instruments.

    One record per patient: ``patient_id`` is the record ID (first field of the first form,
    ``patients``); ``sessions``, ``measurements`` and ``adverse_events`` are meant as repeating
    instruments of that record, so their ``patient_id`` is the record itself and is not
    repeated. A field name used by an earlier form (``session_id``) takes the form's prefix
    (``meas_session_id``, ``ae_session_id``); ``Field Annotation`` names the contract column
    of every field. Choice codes are the contract's values (``F``/``M``, ``not_done``,
    ``norwood_hamilton``), yes/no is ``1, Yes | 0, No``, so a REDCap export holds spellings
    the loader accepts.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`REDCAP_COLUMNS`, one row per field, all text ("" when empty).
    """
    rows = []
    used: set[str] = set()
    for table in TABLES:
        for col in COLUMNS[table]:
            if table != "patients" and col.name == "patient_id":
                continue
            name = col.name if col.name not in used else _REDCAP_PREFIX[table] + col.name
            used.add(name)
            label, explanation = _help(table, col)
            row = dict.fromkeys(REDCAP_COLUMNS, "")
            row.update({"Variable / Field Name": name, "Form Name": table,
                        "Field Type": "text", "Field Label": label, "Field Note": explanation,
                        "Required Field?": "y" if col.required else "",
                        "Field Annotation": f"outcomes contract: {table}.{col.name}"})
            values = choices_of(table, col)
            if col.kind == "bool":
                row.update({"Field Type": "radio", "Choices, Calculations, OR Slider Labels":
                            _REDCAP_YES_NO})
            elif values is not None:
                row.update({"Field Type": "dropdown" if len(values) > 4 else "radio",
                            "Choices, Calculations, OR Slider Labels": " | ".join(
                                f"{_redcap_code(v)}, {_redcap_label(v)}" for v in values)})
            elif col.kind in ("int", "float"):
                row.update({"Text Validation Type OR Show Slider Number":
                            "integer" if col.kind == "int" else "number",
                            "Text Validation Min": "" if col.low is None else f"{col.low:g}",
                            "Text Validation Max": "" if col.high is None else
                            f"{col.high:g}"})
            elif col.kind == "date":
                row.update({"Text Validation Type OR Show Slider Number": "date_ymd",
                            "Text Validation Min": MIN_SESSION_DATE if table == "sessions"
                            else ""})
            rows.append(row)
    dd = pd.DataFrame(rows, columns=list(REDCAP_COLUMNS))
    branching = {"childbearing_potential": "[sex] = 'F'",
                 "contraception": "[childbearing_potential] = '1'"}
    for field, logic in branching.items():
        dd.loc[dd["Variable / Field Name"] == field,
               "Branching Logic (Show field only if...)"] = logic
    return dd


def write_redcap(path: str | Path) -> Path:
    """Write :func:`redcap_dictionary` as a CSV REDCap can upload (UTF-8, every cell quoted).

    Raises
    ------
    outcomes.errors.OutcomesError
        The file exists.
    """
    path = Path(path)
    _ensure_new(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    redcap_dictionary().to_csv(path, index=False, quoting=csv.QUOTE_ALL, lineterminator="\n",
                               encoding="utf-8")
    return path


def cli_template(args) -> int:
    """``outcomes template --out clinic.xlsx [--redcap dictionary.csv]``; returns 0."""
    if not args.out and not args.redcap:
        raise OutcomesError("nothing to write: give --out clinic.xlsx (an Excel capture "
                            "workbook) and/or --redcap dictionary.csv (a REDCap data "
                            "dictionary).")
    for p in (args.out, args.redcap):     # refuse before writing anything
        if p:
            _ensure_new(Path(p))
    if args.out:
        write_workbook(args.out)
        print(f"wrote {args.out}: sheets read me, {', '.join(TABLES)}; fill it in, then run "
              f"outcomes validate {args.out}")
    if args.redcap:
        n = len(redcap_dictionary())
        write_redcap(args.redcap)
        print(f"wrote {args.redcap}: REDCap data dictionary, {n} fields in 4 instruments "
              f"({', '.join(TABLES)}); make sessions, measurements and adverse_events "
              "repeating instruments")
    return 0
