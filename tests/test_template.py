"""The capture templates (issue 10, item 6): the Excel workbook and the REDCap dictionary.

The expected values are written out here or taken from the contract's spelling tables, never
from :mod:`outcomes.template` itself.
"""
from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outcomes import load
from outcomes.contract import CHOICES, COLUMNS, TABLES
from outcomes.sample import sample_path
from outcomes.template import HELP, redcap_dictionary, write_redcap, write_workbook
from outcomes.validate import parse_yes_no
from outcomes.vocabulary import TERMS, map_terms


def load_workbook(path):
    """openpyxl's ``load_workbook``, imported on the first call: at module level its ~0.1-0.25 s
    of imports were paid by every pytest process collecting the suite."""
    from openpyxl import load_workbook

    return load_workbook(path)


TODAY = dt.date(2026, 11, 30)

#: the columns of a REDCap data dictionary, in order, as REDCap itself names them. Source:
#: the REDCap data-dictionary column list, e.g. "Valid columns in a REDCap data dictionary
#: are: Variable / Field Name, Form Name, Section Header, Field Type, Field Label, Choices,
#: Calculations, OR Slider Labels, Field Note, Text Validation Type OR Show Slider Number, Text
#: Validation Min, Text Validation Max, Identifier?, Branching Logic (Show field only if...),
#: Required Field?, Custom Alignment, Question Number (surveys only), Matrix Group Name,
#: Matrix Ranking?, Field Annotation" (https://rdrr.io/github/Sage-Bionetworks/redcapdd/man/
#: get_dd_cols.html), the same 18 columns A-R of Vanderbilt's "Creating a Data Dictionary in
#: REDCap" (2015) and the header of REDCap's own "Download the current Data Dictionary" CSV.
REDCAP_DOCUMENTED = [
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?",
    "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
]

#: what each drop-down must offer: the contract's canonical values, written out
EXPECTED_LISTS = {
    ("patients", "sex"): ["F", "M"],
    ("patients", "baseline_scale"): ["Norwood-Hamilton", "Ludwig", "Sinclair", "Olsen"],
    ("sessions", "pregnancy_test"): ["negative", "positive", "not_done"],
    ("adverse_events", "severity"): ["mild", "moderate", "severe"],
    ("adverse_events", "term"): ["injection_site_pain", "frontal_edema", "burning", "erythema",
                                 "headache", "paradoxical_alopecia", "scarring",
                                 "acute_dermatitis", "sperm_abnormality", "sexual_dysfunction",
                                 "other"],
    **{(t, c.name): ["yes", "no"] for t in TABLES for c in COLUMNS[t] if c.kind == "bool"},
}


def _squeeze(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> Path:
    return write_workbook(tmp_path_factory.mktemp("tpl") / "clinic.xlsx")


def _validations(ws) -> dict[str, object]:
    """Column letter -> the data validation covering rows 2.. of that column."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            m = re.fullmatch(r"([A-Z]+)2:\1(\d+)", rng)
            assert m, f"{ws.title}: validation on {rng}, not on a whole column from row 2"
            assert int(m.group(2)) == 1_048_576
            assert m.group(1) not in out, f"{ws.title}!{m.group(1)}: two validations"
            out[m.group(1)] = dv
    return out


# ------------------------------------------------------------------------------ workbook
def test_sheets_headers_frozen_and_widths(workbook):
    wb = load_workbook(workbook)
    assert wb.sheetnames == ["read me", *TABLES]
    for table in TABLES:
        ws = wb[table]
        headers = [c.value for c in ws[1]]
        assert headers == [c.name for c in COLUMNS[table]]
        assert ws.max_row == 1                      # empty below the headers
        assert ws.freeze_panes == "A2"
        for j, name in enumerate(headers, start=1):
            width = ws.column_dimensions[ws.cell(1, j).column_letter].width
            assert len(name) <= width <= 42, (table, name, width)


def test_drop_down_lists_hold_exactly_the_contract_values(workbook):
    wb = load_workbook(workbook)
    found = {}
    for table in TABLES:
        ws = wb[table]
        for letter, dv in _validations(ws).items():
            if dv.type != "list":
                continue
            column = ws[f"{letter}1"].value
            found[(table, column)] = dv.formula1.strip('"').split(",")
            assert dv.showErrorMessage and dv.allow_blank
    assert found == EXPECTED_LISTS
    # and each offered value is what the loader reads as that value (independently checked)
    for (_table, column), values in found.items():
        if column == "term":
            assert map_terms(pd.Series(values)).tolist() == values
            assert values == list(TERMS)
        elif values == ["yes", "no"]:
            assert parse_yes_no(pd.Series(values)).tolist() == [True, False]
        else:
            assert [CHOICES[column][_squeeze(v)] for v in values] == values
            assert set(values) == set(CHOICES[column].values())
    # a free-text term is allowed with a warning (kept as 'other'); every other list stops
    styles = {k: None for k in found}
    for table in TABLES:
        for letter, dv in _validations(wb[table]).items():
            if dv.type == "list":
                styles[(table, wb[table][f"{letter}1"].value)] = dv.errorStyle
    assert styles.pop(("adverse_events", "term")) == "warning"
    assert set(styles.values()) == {"stop"}


def test_input_checks_follow_the_contract_ranges(workbook):
    wb = load_workbook(workbook)
    checks = {}
    for table in TABLES:
        ws = wb[table]
        for letter, dv in _validations(ws).items():
            checks[(table, ws[f"{letter}1"].value)] = (dv.type, dv.operator, dv.formula1,
                                                        dv.formula2)
    assert checks[("patients", "age")] == ("whole", "between", "18", "100")
    assert checks[("measurements", "gpa_score")] == ("whole", "between", "-3", "3")
    assert checks[("measurements", "density_per_cm2")] == ("decimal", "between", "0", "600")
    assert checks[("measurements", "shaft_diameter_um")] == ("decimal", "between", "5", "200")
    assert checks[("adverse_events", "duration_days")] == ("decimal", "greaterThanOrEqual",
                                                           "0", None)
    # "more than 0": Excel's between is inclusive, so a formula
    assert checks[("sessions", "volume_ml")] == ("custom", None,
                                                 "AND(ISNUMBER(E2),E2>0,E2<=10)", None)
    assert checks[("sessions", "concentration_pct")] == ("custom", None,
                                                         "AND(ISNUMBER(F2),F2>0,F2<=100)", None)
    assert checks[("sessions", "session_date")] == ("date", "between", "DATE(2000,1,1)",
                                                    "TODAY()")
    for key in (("measurements", "measurement_date"), ("adverse_events", "onset_date")):
        assert checks[key] == ("date", "lessThanOrEqual", "TODAY()", None)
    # unique keys, and patient / session IDs that exist in their sheet
    assert checks[("patients", "patient_id")][2] == "COUNTIF($A:$A,A2)=1"
    assert checks[("sessions", "session_id")][2] == "COUNTIF($A:$A,A2)=1"
    assert checks[("adverse_events", "event_id")][2] == "COUNTIF($A:$A,A2)=1"
    assert checks[("sessions", "patient_id")][2] == "COUNTIF(patients!$A:$A,B2)>0"
    assert checks[("measurements", "session_id")][2] == "COUNTIF(sessions!$A:$A,C2)>0"
    # every number and date column of the contract is checked
    for table in TABLES:
        for c in COLUMNS[table]:
            if c.kind in ("int", "float", "date"):
                assert (table, c.name) in checks, (table, c.name)
    # date columns are shown as YYYY-MM-DD
    assert wb["sessions"].column_dimensions["C"].number_format == "yyyy-mm-dd"


def test_read_me_explains_every_column(workbook):
    ws = load_workbook(workbook)["read me"]
    rows = [tuple(c.value for c in r) for r in ws.iter_rows()]
    top = next(i for i, r in enumerate(rows) if r[:2] == ("sheet", "column"))
    listed = [(r[0], r[1]) for r in rows[top + 1:]]
    assert listed == [(t, c.name) for t in TABLES for c in COLUMNS[t]]
    for r in rows[top + 1:]:
        assert (r[0], r[1]) in HELP            # written for that column, not made from its name
        assert r[5] == f"{HELP[r[0], r[1]][0]}. {HELP[r[0], r[1]][1]}", r
    age = next(r for r in rows if r[:2] == ("patients", "age"))
    assert age[2:5] == ("yes", "whole number", "from 18 to 100")


def _fill(template: Path, folder: Path, out: Path) -> Path:
    """Type the CSV export in ``folder`` into the template, as a clinic would: numbers as
    numbers, dates as dates, text as text, empty cells empty."""
    wb = load_workbook(template)
    for table in TABLES:
        ws = wb[table]
        df = pd.read_csv(folder / f"{table}.csv", dtype=str, keep_default_na=False)
        assert list(df.columns) == [c.name for c in COLUMNS[table]]
        for i, row in enumerate(df.itertuples(index=False), start=2):
            for j, (col, value) in enumerate(zip(COLUMNS[table], row), start=1):
                if value == "":
                    continue
                if col.kind == "date":
                    value = dt.datetime.strptime(value, "%Y-%m-%d")
                elif col.kind == "int":
                    value = int(value)
                elif col.kind == "float":
                    value = float(value)
                ws.cell(row=i, column=j, value=value)
    wb.save(out)
    return out


def test_filled_template_loads_as_the_sample(workbook, tmp_path):
    filled = _fill(workbook, sample_path(), tmp_path / "filled.xlsx")
    got = load(filled, today=TODAY)
    want = load(sample_path(), today=TODAY)
    assert got.report.n_quarantined == 0
    assert got.report.extra_columns == {}
    counts = got.report.counts.set_index("table")
    assert (counts["read"] == counts["accepted"]).all()
    assert counts.loc["sessions", "read"] == len(want.sessions) > 100
    for table in TABLES:
        pd.testing.assert_frame_equal(got.tables()[table], want.tables()[table],
                                      check_exact=True)


def test_template_refuses_to_overwrite_and_non_xlsx(tmp_path):
    from outcomes.errors import OutcomesError

    path = tmp_path / "clinic.xlsx"
    path.write_bytes(b"precious")
    with pytest.raises(OutcomesError, match="already exists; not overwritten"):
        write_workbook(path)
    assert path.read_bytes() == b"precious"
    with pytest.raises(OutcomesError, match="ending in .xlsx"):
        write_workbook(tmp_path / "clinic.csv")


# ------------------------------------------------------------------------------ REDCap
def test_redcap_columns_are_the_documented_ones(tmp_path):
    path = write_redcap(tmp_path / "dictionary.csv")
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == REDCAP_DOCUMENTED
    assert all(len(r) == 18 for r in rows)
    dd = pd.read_csv(path, dtype=str, keep_default_na=False)
    names = dd["Variable / Field Name"]
    # REDCap: lower-case letters, digits, underscores, starting with a letter; unique;
    # 26 characters or fewer recommended
    assert names.str.fullmatch(r"[a-z][a-z0-9_]*").all()
    assert names.str.len().max() <= 26
    assert names.is_unique
    # the record ID first, a text field of the first form; forms contiguous, in contract order
    assert dd.iloc[0][["Variable / Field Name", "Form Name", "Field Type"]].tolist() == \
        ["patient_id", "patients", "text"]
    forms = dd["Form Name"].tolist()
    assert list(dict.fromkeys(forms)) == list(TABLES)
    assert forms == sorted(forms, key=list(TABLES).index)
    assert set(dd["Field Type"]) <= {"text", "radio", "dropdown"}
    ascii_only = dd.apply(lambda c: c.str.isascii()).all().all()
    assert ascii_only


def test_redcap_fields_follow_the_contract():
    dd = redcap_dictionary().set_index("Field Annotation")
    expected = [f"outcomes contract: {t}.{c.name}" for t in TABLES for c in COLUMNS[t]
                if t == "patients" or c.name != "patient_id"]       # the record ID is the patient
    assert dd.index.tolist() == expected
    for table in TABLES:
        for c in COLUMNS[table]:
            key = f"outcomes contract: {table}.{c.name}"
            if key not in dd.index:
                continue
            row = dd.loc[key]
            assert row["Required Field?"] == ("y" if c.required else "")
            validation = row["Text Validation Type OR Show Slider Number"]
            choices = row["Choices, Calculations, OR Slider Labels"]
            if c.kind == "date":
                assert validation == "date_ymd"
            elif c.kind == "bool":
                assert (row["Field Type"], choices) == ("radio", "1, Yes | 0, No")
            elif c.kind == "int":
                assert (validation, row["Text Validation Min"], row["Text Validation Max"]) == \
                    ("integer", f"{c.low:g}", f"{c.high:g}")
            elif c.kind == "float":
                assert validation == "number"
                assert row["Text Validation Min"] == f"{c.low:g}"
            if c.kind == "choice" or c.name == "term":
                codes = [part.split(",")[0].strip() for part in choices.split("|")]
                assert all(re.fullmatch(r"[A-Za-z0-9_]+", code) for code in codes)
                # a REDCap raw export of these codes is what the loader reads as the values
                if c.name == "term":
                    assert map_terms(pd.Series(codes)).tolist() == list(TERMS)
                else:
                    assert [CHOICES[c.name][_squeeze(code)] for code in codes] == \
                        list(dict.fromkeys(CHOICES[c.name].values()))
    assert dd.loc["outcomes contract: sessions.session_date", "Text Validation Min"] == \
        "2000-01-01"
    branching = dd.set_index("Variable / Field Name")["Branching Logic (Show field only if...)"]
    assert branching["childbearing_potential"] == "[sex] = 'F'"
    assert branching["contraception"] == "[childbearing_potential] = '1'"
    # yes/no 1/0 codes are yes/no spellings of the contract
    assert parse_yes_no(pd.Series(["1", "0"])).tolist() == [True, False]


# ------------------------------------------------------------------------------ CLI
def _run(*args, cwd):
    from conftest import run_cli

    return run_cli(*args, cwd=cwd)


def test_cli_template_end_to_end(tmp_path):
    proc = _run("template", "--out", "clinic.xlsx", "--redcap", "redcap.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "wrote clinic.xlsx" in proc.stdout and "wrote redcap.csv" in proc.stdout
    before = {p: (tmp_path / p).read_bytes() for p in ("clinic.xlsx", "redcap.csv")}
    # the empty template is a valid workbook the loader reads (and stops: no patients yet)
    proc = _run("validate", "clinic.xlsx", cwd=tmp_path)
    assert proc.returncode == 2
    assert "sheet patients has a header but no rows" in proc.stderr
    for args in (("--out", "clinic.xlsx"), ("--redcap", "redcap.csv"),
                 ("--out", "new.xlsx", "--redcap", "redcap.csv")):
        proc = _run("template", *args, cwd=tmp_path)
        assert proc.returncode == 2
        assert proc.stderr.count("\n") == 1 and "already exists; not overwritten" in proc.stderr
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "new.xlsx").exists()       # refused before writing anything
    assert {p: (tmp_path / p).read_bytes() for p in before} == before
    proc = _run("template", cwd=tmp_path)
    assert proc.returncode == 2 and "nothing to write" in proc.stderr


def _redcap_export(folder: Path) -> Path:
    """The sample as REDCap exports the dictionary's instruments, one CSV per instrument
    ("raw" data: the record ID, REDCap's repeat columns, the fields with their codes, the
    form's complete status), built from the dictionary's own field names and codes."""
    dd = redcap_dictionary()
    folder.mkdir(parents=True, exist_ok=True)
    field_of = {a.split(": ")[1]: f for f, a in zip(dd["Variable / Field Name"],
                                                    dd["Field Annotation"])}
    for table in TABLES:
        df = pd.read_csv(sample_path() / f"{table}.csv", dtype=str, keep_default_na=False)
        out = pd.DataFrame({"patient_id": df["patient_id"],
                            "redcap_repeat_instrument": "" if table == "patients" else table,
                            "redcap_repeat_instance": "" if table == "patients" else
                            df.groupby("patient_id").cumcount().add(1).astype(str)})
        for c in COLUMNS[table]:
            if c.name == "patient_id":
                continue
            v = df[c.name]
            if c.kind == "bool":
                v = v.map({"yes": "1", "no": "0", "": ""})
            elif c.kind == "choice":
                v = v.map(lambda x: re.sub(r"[^A-Za-z0-9]+", "_", x).lower() if len(x) > 1
                          else x)
            elif c.name == "term":
                v = map_terms(v)
            out[field_of[f"{table}.{c.name}"]] = v
        out[f"{table}_complete"] = "2"
        out.to_csv(folder / f"{table}.csv", index=False)
    return folder


def test_a_redcap_export_loads_with_the_proposed_mapping(tmp_path):
    """REDCap's raw export of the four instruments: the mapping assistant maps the prefixed
    session IDs and sets REDCap's own columns aside; the load equals the sample's."""
    from outcomes.assistant import propose_mapping

    export = _redcap_export(tmp_path / "redcap")
    proposal = propose_mapping(export)
    assert proposal.todos == 0 and not proposal.stops, proposal.text
    assert '"meas_session_id" = "session_id"' in proposal.text
    assert '"ae_session_id" = "session_id"' in proposal.text
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(proposal.text, encoding="utf-8")
    got = load(export, mapping=mapping, today=TODAY, **proposal.options)
    want = load(sample_path(), today=TODAY)
    assert got.report.n_quarantined == 0
    for table in TABLES:
        g, w = got.tables()[table], want.tables()[table]
        if table == "adverse_events":        # REDCap holds the vocabulary code, not the words
            assert g["term_as_written"].tolist() == g["term"].tolist()
            g, w = g.drop(columns="term_as_written"), w.drop(columns="term_as_written")
        pd.testing.assert_frame_equal(g, w, check_exact=True)


# ------------------------------------------------------------------------------ properties

_day = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2026, 11, 29))
_session = st.fixed_dictionaries({
    "session_date": _day,
    # the contract's ranges, both ends included where the contract includes them; at most
    # 15 significant digits, as Excel keeps of a typed number
    "volume_ml": st.floats(min_value=0, max_value=10, exclude_min=True,
                           allow_nan=False).map(lambda x: float(f"{x:.15g}")),
    "concentration_pct": st.floats(min_value=0, max_value=100, exclude_min=True,
                                   allow_nan=False).map(lambda x: float(f"{x:.15g}")),
    "pregnancy_test": st.sampled_from(["negative", "positive", "not_done", None]),
})


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ages=st.lists(st.integers(18, 100), min_size=1, max_size=4),
       sessions=st.lists(_session, min_size=1, max_size=4))
def test_any_value_the_input_checks_allow_loads_unchanged(workbook, tmp_path, ages, sessions):
    """What a clinic can type past the template's checks (whole numbers, numbers, dates in
    the contract's ranges, list values) is read back exactly: as typed, as a number or
    date cell, it is neither quarantined nor changed."""
    wb = load_workbook(workbook)
    ws = wb["patients"]
    for i, age in enumerate(ages, start=2):     # women who may be pregnant: tests apply
        for j, v in enumerate([f"P{i}", "F", age, None, None, "yes", "yes"], start=1):
            ws.cell(i, j, v)
    ws = wb["sessions"]
    for i, s in enumerate(sessions, start=2):
        row = [f"S{i}", "P2", dt.datetime.combine(s["session_date"], dt.time()), None,
               s["volume_ml"], s["concentration_pct"], s["pregnancy_test"]]
        for j, v in enumerate(row, start=1):
            ws.cell(i, j, v)
    path = tmp_path / "typed.xlsx"
    wb.save(path)
    got = load(path, today=TODAY)
    assert got.report.n_quarantined == 0, got.report.quarantine
    assert got.patients["age"].tolist() == ages
    assert got.sessions["volume_ml"].tolist() == [s["volume_ml"] for s in sessions]
    assert got.sessions["concentration_pct"].tolist() == \
        [s["concentration_pct"] for s in sessions]
    assert got.sessions["session_date"].dt.date.tolist() == \
        [s["session_date"] for s in sessions]
    assert got.sessions["pregnancy_test"].tolist() == \
        [s["pregnancy_test"] if s["pregnancy_test"] else pd.NA for s in sessions]
