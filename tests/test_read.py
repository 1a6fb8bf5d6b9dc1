"""read.py: formats, encodings, delimiters, header mapping, identifier guard, whole-file stops."""
from __future__ import annotations

import pandas as pd
import pytest

from conftest import SMALL_EXPORT, write_export
from outcomes.contract import COLUMNS, identifier_reason, looks_like_contact, normalise_name
from outcomes.errors import LoadError
from outcomes.read import read_export, read_mapping


def test_reads_text_as_written(small_export):
    raw = read_export(small_export)
    p = raw.tables["patients"]
    assert p.present and p.file == str(small_export / "patients.csv")
    assert list(p.frame.columns) == [c.name for c in COLUMNS["patients"]]
    assert all(dtype == pd.StringDtype() for dtype in p.frame.dtypes)
    assert p.frame["age"].tolist() == ["40", "35", "52"]          # text, not numbers
    assert p.frame["contraception"].tolist() == [pd.NA, "yes", pd.NA]
    assert p.rows.tolist() == [2, 3, 4]
    assert raw.files["table"].tolist() == ["patients", "sessions", "measurements",
                                           "adverse_events"]
    assert (raw.files["bytes"] > 0).all() and raw.files["sha256"].str.len().eq(64).all()


def test_blank_rows_are_skipped_and_row_numbers_kept(tmp_path):
    text = SMALL_EXPORT["patients"].replace("P2,", ",,,,,,,,\nP2,") + ",,,,,,,,\n"
    folder = write_export(tmp_path, {**SMALL_EXPORT, "patients": text})
    p = read_export(folder).tables["patients"]
    assert p.frame["patient_id"].tolist() == ["P1", "P2", "P3"]
    assert p.rows.tolist() == [2, 4, 5]          # the spreadsheet rows, blank row 3 skipped


@pytest.mark.parametrize("null", ["", " ", "NA", "n/a", "NULL", "none", "#N/A"])
def test_spellings_of_no_value(tmp_path, null):
    text = SMALL_EXPORT["patients"].replace("P1,M,40,Norwood-Hamilton,III",
                                            f"P1,M,40,Norwood-Hamilton,{null}")
    folder = write_export(tmp_path, {**SMALL_EXPORT, "patients": text})
    assert read_export(folder).tables["patients"].frame["baseline_grade"].isna()[0]


def test_values_are_trimmed_and_quotes_understood(tmp_path):
    text = SMALL_EXPORT["adverse_events"].replace("pain at injection site",
                                                  '"  pain, at injection site "')
    folder = write_export(tmp_path, {**SMALL_EXPORT, "adverse_events": text})
    terms = read_export(folder).tables["adverse_events"].frame["term"]
    assert terms[0] == "pain, at injection site"


@pytest.mark.parametrize("header,name", [(" Patient-ID ", "patient_id"), ("SEX", "sex"),
                                         ("Baseline  Scale", "baseline_scale"),
                                         ("hypersensitivity.5ari", "hypersensitivity_5ari")])
def test_normalise_name(header, name):
    assert normalise_name(header) == name


@pytest.mark.parametrize("header", ["Name", "Patient Name", "first_name", "LastName", "Surname",
                                    "E-mail", "email address", "Phone", "Mobile", "Telephone",
                                    "tel", "Address", "Street", "Postcode", "DOB",
                                    "Date of Birth", "birth_date", "Health Card #",
                                    "health_card_number", "MRN", "Medical Record Number",
                                    "SIN", "SSN", "Notes", "Comments", "remarks"])
def test_identifier_headers_are_recognised(header):
    assert identifier_reason(header) is not None


def test_contract_names_are_not_identifiers():
    names = {c.name for cols in COLUMNS.values() for c in cols} | {"clinic_site", "visit"}
    assert [n for n in names if identifier_reason(n)] == []


def test_identifier_guard_even_when_mapped(tmp_path):
    text = SMALL_EXPORT["patients"].replace("patient_id,", "MRN,")
    folder = write_export(tmp_path / "x", {**SMALL_EXPORT, "patients": text})
    mapping = tmp_path / "m.toml"
    mapping.write_text('"MRN" = "patient_id"\n')
    with pytest.raises(LoadError) as err:
        read_export(folder, mapping=mapping)
    assert err.value.column == "MRN" and err.value.file == str(folder / "patients.csv")
    assert "medical-record number" in str(err.value)


@pytest.mark.parametrize("value,flag", [("jane@example.com", True), ("+1 416 555 0199", True),
                                        ("(416) 555-0199", True), ("4165550199", True),
                                        ("1234-567-890", True), ("P0001", False),
                                        ("12345", False), ("2024-001", False), (None, False)])
def test_looks_like_contact(value, flag):
    assert looks_like_contact(pd.Series([value], dtype="string")).tolist() == [flag]


def test_mapping_file(tmp_path):
    patients = SMALL_EXPORT["patients"].replace("patient_id,sex,age", "Patient Code,Gender,Age (y)")
    sessions = SMALL_EXPORT["sessions"].replace("patient_id", "Patient Code")
    folder = write_export(tmp_path / "x", {**SMALL_EXPORT, "patients": patients,
                                           "sessions": sessions})
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('"Patient Code" = "patient_id"   # every table\n'
                       '[patients]\n"gender" = "sex"\n"AGE (Y)" = "age"\n')
    raw = read_export(folder, mapping=mapping)
    assert raw.tables["patients"].written["patient_id"] == "Patient Code"
    assert raw.tables["patients"].frame["sex"].tolist() == ["M", "F", "F"]
    assert raw.tables["sessions"].frame["patient_id"].tolist() == ["P1", "P2", "P3", "P1"]


@pytest.mark.parametrize("content,message", [
    ('"A" = "nope"\n', "'A' maps to 'nope', which is not a contract column."),
    ('[visits]\n"A" = "patient_id"\n', "section [visits] is not a table."),
    ("this is = not toml", "is not valid TOML"),
])
def test_bad_mapping_files(tmp_path, content, message):
    mapping = tmp_path / "m.toml"
    mapping.write_text(content)
    with pytest.raises(LoadError, match="mapping file") as err:
        read_mapping(mapping)
    assert message in str(err.value)


def test_two_files_for_one_table(small_export):
    (small_export / "patients.parquet").write_bytes(b"x")
    with pytest.raises(LoadError, match="two files for patients"):
        read_export(small_export)


def test_ragged_line_stops(tmp_path):
    text = SMALL_EXPORT["sessions"].replace("S3,P3,", "S3,P3,extra,")
    folder = write_export(tmp_path, {**SMALL_EXPORT, "sessions": text})
    with pytest.raises(LoadError) as err:
        read_export(folder)
    assert str(err.value).startswith(f"{folder / 'sessions.csv'}: 1 line(s) do not have the 7 "
                                     "fields of the header")


def test_duplicate_columns_stop(tmp_path):
    text = SMALL_EXPORT["patients"].replace("patient_id,sex", "patient_id,Patient-ID")
    folder = write_export(tmp_path, {**SMALL_EXPORT, "patients": text})
    with pytest.raises(LoadError, match="columns 'patient_id' and 'Patient-ID' both give "
                                        "patient_id"):
        read_export(folder)


def test_a_single_file_or_no_path_stops(small_export):
    with pytest.raises(LoadError, match="is one file"):
        read_export(small_export / "patients.csv")
    with pytest.raises(LoadError, match="does not exist"):
        read_export(small_export / "nowhere")


def test_workbook_in_a_folder_and_case_of_sheet_names(tmp_path, sample_tables):
    path = tmp_path / "clinic.xlsx"
    with pd.ExcelWriter(path) as xl:
        for name, df in sample_tables.items():
            df.to_excel(xl, sheet_name=name.upper(), index=False)
        pd.DataFrame({"x": [1]}).to_excel(xl, sheet_name="Read me", index=False)
    raw = read_export(tmp_path)
    assert raw.tables["patients"].file == f"{path}, sheet PATIENTS"
    assert len(raw.tables["sessions"].frame) == len(sample_tables["sessions"])
    assert raw.tables["sessions"].frame["session_date"].str.fullmatch(r"\d{4}-\d\d-\d\d").all()


def test_header_only_without_line_end_is_an_empty_table(small_export):
    (small_export / "adverse_events.csv").write_text("event_id,patient_id,onset_date,term")
    raw = read_export(small_export)
    assert len(raw.tables["adverse_events"].frame) == 0
    assert "adverse_events: header only, no rows." in raw.notes


def test_damaged_parquet_stops_naming_the_file(small_export):
    (small_export / "measurements.csv").unlink()
    (small_export / "measurements.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(LoadError) as err:
        read_export(small_export)
    assert str(err.value) == (f"{small_export / 'measurements.parquet'} could not be read "
                              "(ArrowInvalid). Export the table again as CSV (UTF-8), Parquet "
                              "or an .xlsx sheet.")


def test_other_data_files_are_noted_not_read(small_export):
    (small_export / "contacts.csv").write_text("x\n1\n")
    (small_export / "README.md").write_text("not data")
    raw = read_export(small_export)
    assert raw.notes[0] == "contacts.csv: not a table of the contract; not read."
    assert not any("README" in n for n in raw.notes)


def test_old_excel_files_get_a_hint(tmp_path):
    (tmp_path / "export.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(LoadError) as err:
        read_export(tmp_path)
    assert str(err.value) == (f"{tmp_path}: no patients file (required) (found: export.xls). "
                              "Add patients.csv or patients.parquet, or map your file's name in a "
                              'mapping file ([sheets] "<file name>" = "patients"); .xls and .ods '
                              "files: save them as .xlsx or CSV.")


@pytest.mark.parametrize("arrow_type", ["timestamp[ns]", "timestamp[ms]", "date32[day]"])
def test_typed_parquet_dates_load_as_the_same_csv(tmp_path, arrow_type):
    """Typed Parquet dates (repeated, missing, one in the future, one with a time of day) give
    the text, clean tables and quarantine of the same dates written YYYY-MM-DD in a CSV."""
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    from outcomes.loader import load

    dates = ["2025-01-10", "2025-01-10", None, "2031-05-06"]      # S1, S2, S3 (missing), S4
    text = SMALL_EXPORT["sessions"]
    for old, new in zip(["2025-01-10", "2025-01-12", "2025-02-01", "2025-04-10"], dates):
        text = text.replace(f",{old},", f",{new or ''},", 1)
    csv_dir = write_export(tmp_path / "csv", {**SMALL_EXPORT, "sessions": text})
    pq_dir = write_export(tmp_path / "parquet", {**SMALL_EXPORT, "sessions": text})
    (pq_dir / "sessions.csv").unlink()
    frame = pd.read_csv(csv_dir / "sessions.csv", dtype=str, keep_default_na=False)
    stamps = [None if d is None else dt.datetime.fromisoformat(d) for d in dates]
    stamps[1] = stamps[1].replace(hour=13, minute=45)             # a time of day is dropped
    if arrow_type == "date32[day]":
        column = pa.array([s and s.date() for s in stamps], pa.date32())
    else:
        column = pa.array(stamps, pa.timestamp(arrow_type[10:12]))
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.set_column(table.column_names.index("session_date"), "session_date", column)
    pq.write_table(table, pq_dir / "sessions.parquet")

    raw = read_export(pq_dir).tables["sessions"].frame["session_date"]
    assert raw.tolist() == ["2025-01-10", "2025-01-10", pd.NA, "2031-05-06"]
    a, b = load(csv_dir, today=dt.date(2026, 1, 1)), load(pq_dir, today=dt.date(2026, 1, 1))
    for name in ("patients", "sessions", "measurements", "adverse_events"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    pd.testing.assert_frame_equal(a.report.quarantine, b.report.quarantine)
    quarantined = b.report.quarantine.query("table == 'sessions' and column == 'session_date'")
    assert quarantined[["row", "value"]].values.tolist() == [[4, ""], [5, "2031-05-06"]]


# -- reading ahead (outcomes.csvread.prefetch: the command line starts it before pandas) ------
def _raw_equal(a, b) -> None:
    assert a.notes == b.notes
    pd.testing.assert_frame_equal(a.files, b.files)
    for name, t in a.tables.items():
        u = b.tables[name]
        pd.testing.assert_frame_equal(t.frame, u.frame)
        assert t.rows.tolist() == u.rows.tolist()
        assert (t.file, t.written, t.extra_columns, t.present) == \
            (u.file, u.written, u.extra_columns, u.present)


def test_a_prefetched_export_reads_as_one_read_directly(tmp_path):
    import hashlib
    import threading

    from outcomes import csvread

    text = SMALL_EXPORT["patients"].replace("P2,", " P2 ,")        # a cell to trim
    folder = write_export(tmp_path, {**SMALL_EXPORT, "patients": text})
    direct = read_export(folder)
    csvread.prefetch(folder)
    assert len(csvread._pending) == 4
    ahead = read_export(folder)
    _raw_equal(direct, ahead)
    assert ahead.tables["patients"].frame["patient_id"].tolist() == ["P1", "P2", "P3"]
    assert ahead.files.set_index("table").loc["patients", "sha256"] == \
        hashlib.sha256((folder / "patients.csv").read_bytes()).hexdigest()
    # read_export dropped what it did not take and the reader threads have ended
    assert csvread._pending == {} and csvread._pools == []
    assert not [t for t in threading.enumerate() if t.name.startswith("outcomes-prefetch")]


def test_a_file_changed_after_the_prefetch_is_read_again(tmp_path):
    from outcomes import csvread

    folder = write_export(tmp_path, SMALL_EXPORT)
    csvread.prefetch(folder)
    csvread._pending[str(folder / "patients.csv")][1].result()     # read as it was
    (folder / "patients.csv").write_text(SMALL_EXPORT["patients"] + "P4,F,33,Ludwig,I,no,,no,no\n",
                                         encoding="utf-8")
    assert read_export(folder).tables["patients"].frame["patient_id"].tolist() == \
        ["P1", "P2", "P3", "P4"]


def test_a_prefetched_bad_file_stops_the_load_as_when_read_directly(tmp_path):
    from outcomes import csvread

    folder = write_export(tmp_path, {**SMALL_EXPORT, "sessions": "   \n"})
    with pytest.raises(LoadError) as direct:
        read_export(folder)
    csvread.prefetch(folder)
    with pytest.raises(LoadError) as ahead:
        read_export(folder)
    assert str(ahead.value) == str(direct.value) and "is empty" in str(direct.value)
    assert csvread._pending == {}


def test_the_command_line_reads_ahead_and_leaves_nothing_behind(tmp_path, capsys, monkeypatch):
    import json

    from outcomes import csvread
    from outcomes.cli import main

    folder = write_export(tmp_path, SMALL_EXPORT)
    started = []
    prefetch = csvread.prefetch
    monkeypatch.setattr(csvread, "prefetch", lambda data: started.append(data) or prefetch(data))
    assert main(["validate", str(folder), "--json"]) == 0
    assert started == [str(folder)]
    assert json.loads(capsys.readouterr().out)["tables"]["patients"]["accepted"] == 3
    assert csvread._pending == {} and csvread._pools == []
    # a command that stops before reading (a bad option value) leaves nothing either
    assert main(["analyze", str(folder), "--cutoff", "not-a-date"]) == 2
    assert started == [str(folder)] * 2 and csvread._pending == {} and csvread._pools == []
