"""validate.py: parsers and the rules, one at a time (the corpus in test_load covers files)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import LOAD_TODAY, SMALL_EXPORT, write_export
from outcomes.errors import LoadError
from outcomes.read import read_export
from outcomes.validate import parse_dates, parse_numbers, parse_yes_no, validate


def _check(tmp_path, today=LOAD_TODAY, **tables):
    folder = write_export(tmp_path / "x", {**SMALL_EXPORT, **tables})
    return validate(read_export(folder).tables, today=today)


def _q(result):
    q = result.quarantine
    return list(zip(q["table"], q["row"], q["column"], q["value"]))


def test_parse_dates_iso_with_time_and_invalid():
    s = pd.Series(["2025-01-03", "2025-1-3", "2025-01-03 00:00:00", "2025-01-03T14:30",
                   "2025-02-30", "soon", None], dtype="string")
    dates, ambiguous = parse_dates(s)
    expected = pd.to_datetime(["2025-01-03"] * 4 + [None] * 3)
    assert dates.tolist() == list(expected)
    assert dates.dtype == np.dtype("datetime64[ns]")
    assert not ambiguous.any()


@pytest.mark.parametrize("fmt,written,iso", [
    ("DMY", "03/04/2026", "2026-04-03"), ("MDY", "03/04/2026", "2026-03-04"),
    ("DMY", "3.4.2026", "2026-04-03"), ("DMY", "25-12-2025", "2025-12-25"),
    ("DMY", "2026-04-03", "2026-04-03"),          # ISO stays readable with any format
    ("MDY", "12/25/2025 10:00", "2025-12-25"),
])
def test_parse_dates_day_month_orders(fmt, written, iso):
    dates, _ = parse_dates(pd.Series([written]), fmt)
    assert dates[0] == pd.Timestamp(iso)


def test_day_month_year_without_format_is_ambiguous():
    _, ambiguous = parse_dates(pd.Series(["2025-01-03", "03/01/2025", "x"]))
    assert ambiguous.tolist() == [False, True, False]
    with pytest.raises(LoadError, match="Use --date-format ISO, DMY or MDY"):
        parse_dates(pd.Series(["x"]), "YMD")


def test_parse_numbers():
    s = pd.Series(["1.5", "2,5", " 3 ", "1e2", "inf", "abc", None], dtype="string")
    plain = parse_numbers(s).to_numpy()
    np.testing.assert_array_equal(plain, [1.5, np.nan, 3.0, 100.0, np.nan, np.nan, np.nan])
    comma = parse_numbers(s, decimal_comma=True).to_numpy()
    np.testing.assert_array_equal(comma, [1.5, 2.5, 3.0, 100.0, np.nan, np.nan, np.nan])


def test_parse_yes_no():
    s = pd.Series(["yes", "Y", "TRUE", "1", "no", "n", "False", "0", "maybe", None])
    assert parse_yes_no(s).tolist() == [True] * 4 + [False] * 4 + [pd.NA, pd.NA]


def test_whole_numbers_accept_3_point_0(tmp_path):
    r = _check(tmp_path, measurements=SMALL_EXPORT["measurements"].replace(",1,R1", ",1.0,R1"))
    assert _q(r) == []
    assert r.tables["measurements"]["gpa_score"].tolist() == [pd.NA, 1, 0]


@pytest.mark.parametrize("sex", ["female", "F", "f", "Woman"])
def test_sex_spellings(tmp_path, sex):
    r = _check(tmp_path, patients=SMALL_EXPORT["patients"].replace("P2,F", f"P2,{sex}"))
    assert _q(r) == [] and r.tables["patients"]["sex"].tolist() == ["M", "F", "F"]


@pytest.mark.parametrize("written,scale", [("norwood", "Norwood-Hamilton"),
                                           ("Hamilton-Norwood", "Norwood-Hamilton"),
                                           ("LUDWIG", "Ludwig"), ("sinclair", "Sinclair")])
def test_scale_spellings(tmp_path, written, scale):
    r = _check(tmp_path, patients=SMALL_EXPORT["patients"].replace("Norwood-Hamilton", written))
    assert r.tables["patients"]["baseline_scale"][0] == scale


def test_contraception_required_when_childbearing_potential(tmp_path):
    r = _check(tmp_path, patients=SMALL_EXPORT["patients"].replace("I-2,yes,yes", "I-2,yes,"))
    assert ("patients", 3, "contraception", "") in _q(r)


def test_men_need_no_childbearing_answer_and_site_defaults(tmp_path):
    r = _check(tmp_path)
    assert _q(r) == []
    assert r.tables["measurements"]["site"].tolist() == ["vertex", "vertex", "target"]


def test_session_before_2000_and_pregnancy_test_spellings(tmp_path):
    sessions = (SMALL_EXPORT["sessions"].replace("2025-04-10", "1999-04-10")
                .replace("negative", "Not done"))
    r = _check(tmp_path, sessions=sessions)
    assert _q(r) == [("sessions", 5, "session_date", "1999-04-10")]
    assert r.tables["sessions"]["pregnancy_test"].tolist()[1] == "not_done"


def test_first_session_counts_even_when_that_session_is_quarantined(tmp_path):
    # P1's first session (S1) has a bad volume; an event without session_id on 2025-02-01 is
    # still after treatment started (2025-01-10), so only S1 and its children are quarantined
    sessions = SMALL_EXPORT["sessions"].replace("S1,P1,2025-01-10,NP-01,1,",
                                                "S1,P1,2025-01-10,NP-01,x,")
    events = SMALL_EXPORT["adverse_events"] + "E3,P1,,2025-02-01,headache,,,\n"
    r = _check(tmp_path, sessions=sessions, adverse_events=events)
    assert {(t, row) for t, row, *_ in _q(r)} == {("sessions", 2), ("measurements", 2),
                                                  ("adverse_events", 2)}


def test_future_is_after_today(tmp_path):
    today = dt.date(2025, 4, 10)                 # S4 is on this very day: not in the future
    r = _check(tmp_path, today=today)
    assert ("sessions", 5, "session_date", "2025-04-10") not in _q(r)
    assert ("measurements", 3, "measurement_date", "2026-01-10") in _q(r)


def test_other_terms_unique_sorted(tmp_path):
    events = (SMALL_EXPORT["adverse_events"] + "E3,P1,S1,2025-01-11,Itch,,,\n"
              "E4,P2,S2,2025-01-14,itch,,,\nE5,P1,S4,2025-04-11,Dizzy,,,\n"
              "E6,P1,S4,2025-04-11,Itch,,,\n")
    r = _check(tmp_path, adverse_events=events)
    assert r.other_terms == ("Dizzy", "Itch", "itch")
    assert r.tables["adverse_events"]["term"].tolist()[2:] == ["other"] * 4


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["P1", "P2", "P3", "P4", None]), min_size=1, max_size=12))
def test_duplicates_name_the_first_row(ids):
    from outcomes.read import RawTable

    frame = pd.DataFrame({"patient_id": ids, "sex": "M", "age": "40"}).astype("string")
    rows = np.arange(len(ids)) + 2
    raw = RawTable(name="patients", file="p.csv", frame=frame, rows=rows, present=True)
    r = validate({"patients": raw}, today=LOAD_TODAY)
    q = r.quarantine[r.quarantine["rule"].str.startswith("duplicate")]
    first = {}
    for row, pid in zip(rows, ids):
        if pid is None:
            continue
        if pid in first:
            hit = q[q["row"] == row]
            assert len(hit) == 1 and f"the same as row {first[pid]};" in hit["rule"].iloc[0]
        else:
            first.setdefault(pid, row)
    assert len(q) == sum(pd.Series(ids).dropna().duplicated())
    c = r.counts.set_index("table").loc["patients"]
    assert c["read"] == c["accepted"] + c["quarantined"] == len(ids)
