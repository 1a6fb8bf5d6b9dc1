"""recognise.py and what the loader does with it: headers, sheets, codes, terms, the mapping
file, implausible combinations, decimal commas, not recorded [issue 10 items 1-4]."""
from __future__ import annotations

import warnings

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from conftest import LOAD_TODAY, SMALL_EXPORT, write_export

from outcomes.errors import LoadError, OutcomesWarning
from outcomes.loader import load
from outcomes.recognise import (ambiguous_sex_codes, match_header, match_sheet,
                                normalise_header, read_mapping, recode_values, suggest_header)


# ------------------------------------------------------------------------------ recognition
@pytest.mark.parametrize("table,header,column", [
    ("patients", "Patient ID", "patient_id"), ("patients", "patient-id", "patient_id"),
    ("patients", "PATIENT_ID", "patient_id"), ("measurements", "Density (hairs/cm2)",
                                               "density_per_cm2"),
    ("patients", "Hypersensitivity 5-ARI", "hypersensitivity_5ari"),
    ("sessions", "Practitioner", "practitioner_id"), ("patients", "Sexo", "sex"),
    ("sessions", "Fecha de la sesión", "session_date"), ("sessions", "Volumen (ml)", "volume_ml"),
    ("adverse_events", "Efecto adverso", "term"), ("adverse_events", "Grave", "serious"),
    ("adverse_events", "Severidad", "severity"), ("patients", "Idade", "age"),
    ("adverse_events", "Effet indésirable", "term"), ("patients", "Geschlecht", "sex"),
    ("measurements", "Diámetro (µm)", "shaft_diameter_um"),
    ("patients", "Età", "age"), ("measurements", "Date", "measurement_date"),
    ("adverse_events", "Date", "onset_date"), ("sessions", "Date", "session_date"),
])
def test_headers_as_people_write_them(table, header, column):
    assert match_header(table, header) == column


def test_no_synonym_means_two_columns_of_one_table():
    from outcomes.recognise import HEADER_SYNONYMS

    for table, cols in HEADER_SYNONYMS.items():
        seen: dict[str, str] = {}
        for col, words in cols.items():
            for w in (col, *words):
                key = normalise_header(w)
                assert seen.setdefault(key, col) == col, (table, w, seen[key], col)


def test_suggestions_and_sheets():
    assert suggest_header("patients", "Hipersensibilidad conocida a 5-ARI") == \
        "hypersensitivity_5ari"
    assert suggest_header("patients", "Clinic Site") is None
    assert suggest_header("patients", "Minoxidl") == "minoxidil"          # a typo
    assert match_sheet("Patient List") == "patients"
    assert match_sheet("Treatment Sessions") == "sessions"
    assert match_sheet("Hair Measurements") == "measurements"
    assert match_sheet("Side Effects") == "adverse_events"
    assert match_sheet("Efectos adversos") == "adverse_events"
    assert match_sheet("Hoja1") is None


def test_value_codes():
    got = recode_values("sex", "choice", pd.Series(["H", "Mujer", "varón", "Femme", "X", None]))
    assert got.tolist()[:5] == ["M", "F", "M", "F", pd.NA]
    yn = recode_values("minoxidil", "bool", pd.Series(["Sí", "N", "TRUE", "1", "não", "maybe"]))
    assert yn.tolist() == ["yes", "no", "yes", "yes", "no", pd.NA]
    sev = recode_values("severity", "choice", pd.Series(["Leve", "moderada", "GRAVE", "3"]))
    assert sev.tolist() == ["mild", "moderate", "severe", "severe"]
    assert ambiguous_sex_codes(["h", "m"]) == ("h", "m")
    assert ambiguous_sex_codes(["v", "m", "f"]) == ("v", "m")
    assert ambiguous_sex_codes(["m", "f", "w"]) is None


@pytest.mark.parametrize("content,message", [
    ('[values.patients.sex]\n"H" = "X"\n', "'H' maps to 'X'. Use one of F, M."),
    ('[values.patients.age]\n"a" = "1"\n', "age is not a coded column of patients"),
    ('[terms]\n"picor" = "itch"\n', "'picor' maps to 'itch', which is not a vocabulary term"),
    ('[sheets]\n"Hoja1" = "people"\n', "sheet 'Hoja1' maps to 'people', not a table"),
    ('[columns.patients]\n"X" = "session_date"\n', "not a contract column of patients"),
    ('[columns.patients]\n"X" = "TODO"\n', "'X' maps to 'TODO'"),
    ('ignore = "Notes"\n', "ignore in the top must be a list of headers"),
])
def test_bad_mapping_entries(tmp_path, content, message):
    path = tmp_path / "m.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LoadError, match="mapping file") as err:
        read_mapping(path)
    assert message in str(err.value)


# ------------------------------------------------------------------------------ the loader
def _export(tmp_path, **tables):
    return write_export(tmp_path / "x", {**SMALL_EXPORT, **tables})


def _mapping(tmp_path, text):
    path = tmp_path / "mapping.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_spanish_sex_codes_are_asked_about_never_guessed(tmp_path):
    folder = _export(tmp_path, patients=SMALL_EXPORT["patients"].replace("P1,M", "P1,H")
                     .replace("P2,F", "P2,M").replace("P3,F", "P3,M"))
    with pytest.raises(LoadError) as err:
        load(folder, today=LOAD_TODAY)
    assert str(err.value) == (
        f"{folder / 'patients.csv'}, column 'sex': the codes 'H' and 'M' are both used; 'M' "
        "means male in English but mujer (female) in Spanish, where 'H' is male. The codes are "
        'not guessed. Say what they mean in a mapping file: [values.patients.sex] "H" = "M" '
        'and "M" = "F" (Spanish), or "M" = "M" (English); then load with --mapping FILE.')
    mapped = load(folder, today=LOAD_TODAY, mapping=_mapping(
        tmp_path, '[values.patients.sex]\n"H" = "M"\n"M" = "F"\n'))
    base = load(_export(tmp_path / "base"), today=LOAD_TODAY)
    pd.testing.assert_frame_equal(mapped.patients, base.patients)


def test_implausible_combinations_are_quarantined_with_a_reason(tmp_path):
    folder = _export(
        tmp_path,
        patients=SMALL_EXPORT["patients"].replace("P1,M,40,Norwood-Hamilton,III,,",
                                                  "P1,M,40,Norwood-Hamilton,III,yes,"),
        sessions=SMALL_EXPORT["sessions"].replace("S4,P1,2025-04-10,NP-01,1,0.01,",
                                                  "S4,P1,2025-04-10,NP-01,1,0.01,negative"),
        adverse_events=SMALL_EXPORT["adverse_events"]
        + "E3,P2,S2,2025-01-14,oligospermia,mild,,no\n")
    q = load(folder, today=LOAD_TODAY).report.quarantine
    rules = {(t, r, c): rule for t, r, c, rule in zip(q["table"], q["row"], q["column"],
                                                      q["rule"])}
    assert rules[("patients", 2, "childbearing_potential")].startswith(
        "childbearing_potential is yes but sex is M: one of them is wrong")
    assert rules[("adverse_events", 4, "term")].startswith(
        "a sperm abnormality is recorded for a patient whose sex is F")
    # the male's session follows his quarantined patient row; on its own it is flagged too
    folder2 = _export(tmp_path / "b", sessions=SMALL_EXPORT["sessions"].replace(
        "S4,P1,2025-04-10,NP-01,1,0.01,", "S4,P1,2025-04-10,NP-01,1,0.01,negativo"))
    q2 = load(folder2, today=LOAD_TODAY).report.quarantine
    assert q2[["table", "row", "column", "value"]].values.tolist() == [
        ["sessions", 5, "pregnancy_test", "negativo"]]
    assert q2["rule"].iloc[0].startswith("a pregnancy test result is recorded but the "
                                         "patient's sex is M")


def test_did_you_mean_by_name_and_by_content(tmp_path):
    folder = _export(tmp_path, patients=SMALL_EXPORT["patients"].replace(
        "minoxidil,hypersensitivity_5ari", "Minoxidil 5% topical lotion,Known 5-ARI allergy"))
    with pytest.raises(LoadError) as err:
        load(folder, today=LOAD_TODAY)
    msg = str(err.value)
    assert "column 'Minoxidil 5% topical lotion' is not recognised: did you mean minoxidil?" \
        in msg
    # no name resembles it, but its yes/no values fit the missing yes/no column
    assert "column 'Known 5-ARI allergy' is not recognised: did you mean hypersensitivity_5ari" \
        in msg
    assert 'ignore = ["Minoxidil 5% topical lotion"]' in msg
    ignored = load(folder, today=LOAD_TODAY, mapping=_mapping(
        tmp_path, 'ignore = ["Minoxidil 5% topical lotion", "Known 5-ARI allergy"]\n'))
    assert ignored.patients["minoxidil"].isna().all()
    assert ignored.report.absent_columns["patients"] == ("minoxidil", "hypersensitivity_5ari")
    assert any("ignored, as the mapping file says" in n for n in ignored.report.notes)


def test_a_notes_column_may_be_ignored_a_name_column_may_not(tmp_path):
    notes = _export(tmp_path, patients=SMALL_EXPORT["patients"].replace("\n", ",x\n").replace(
        "hypersensitivity_5ari,x", "hypersensitivity_5ari,Notes"))
    with pytest.raises(LoadError, match='or declare it ignored in a mapping file'):
        load(notes, today=LOAD_TODAY)
    assert len(load(notes, today=LOAD_TODAY, mapping=_mapping(tmp_path, 'ignore = ["notes"]\n'))
               .patients) == 3
    names = _export(tmp_path / "n", patients=SMALL_EXPORT["patients"].replace(
        "\n", ",x\n").replace("hypersensitivity_5ari,x", "hypersensitivity_5ari,Surname"))
    with pytest.raises(LoadError, match="looks like it holds a name"):
        load(names, today=LOAD_TODAY, mapping=_mapping(tmp_path, 'ignore = ["Surname"]\n'))


def test_terms_in_other_languages_and_the_terms_section(tmp_path):
    ae = SMALL_EXPORT["adverse_events"] + (
        "E3,P1,S1,2025-01-11,Dolor en el sitio de inyección,leve,,no\n"
        "E4,P1,S4,2025-04-11,cefalea,,,\n"
        "E5,P2,S2,2025-01-14,picor intenso,,,\n"
        "E6,P3,S3,2025-02-02,picor intenso,,,\n"
        "E7,P3,S3,2025-02-03,mareo,,,\n")
    folder = _export(tmp_path, adverse_events=ae)
    export = load(folder, today=LOAD_TODAY)
    assert export.adverse_events["term"].tolist() == [
        "injection_site_pain", "frontal_edema", "injection_site_pain", "headache", "other",
        "other", "other"]
    assert export.report.unmapped_terms.values.tolist() == [["picor intenso", 2], ["mareo", 1]]
    mapped = load(folder, today=LOAD_TODAY,
                  mapping=_mapping(tmp_path, '[terms]\n"Picor  intenso" = "burning"\n'))
    assert mapped.adverse_events["term"].tolist()[4:] == ["burning", "burning", "other"]


def test_decimal_commas_everywhere_stop_mixed_ones_are_quarantined(tmp_path):
    semi = {t: v.replace(",", ";") for t, v in SMALL_EXPORT.items()}
    semi["sessions"] = semi["sessions"].replace("1.5", "1,5").replace("0.01", "0,01")
    semi["measurements"] = semi["measurements"].replace("120.5", "120,5").replace("60.2",
                                                                                  "60,2")
    semi["adverse_events"] = semi["adverse_events"].replace("2.5", "2,5")
    folder = write_export(tmp_path / "eu", semi)
    with pytest.raises(LoadError) as err:
        load(folder, today=LOAD_TODAY)
    assert str(err.value) == (
        f"{folder / 'sessions.csv'}, column 'volume_ml': numbers are written with a decimal "
        "comma ('1,5'; 2 distinct value(s) in this table) and none with a decimal point. Load "
        "with --decimal-comma (a European export); nothing was quarantined.")
    assert load(folder, today=LOAD_TODAY, decimal_comma=True).report.n_quarantined == 0


def test_the_issues_missing_screening_is_not_zero(tmp_path):
    """P3's hypersensitivity and minoxidil are empty: the 5-ARI screening could not assess
    1 of the 3 treated patients, and the first screen says so."""
    import outcomes
    from outcomes import text

    export = load(_export(tmp_path), today=LOAD_TODAY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutcomesWarning)
        a = outcomes.analyze(export, cutoff="2026-06-01", model=False)
    nr = a.not_recorded.set_index("column")
    assert nr.loc["hypersensitivity_5ari", ["total", "not_recorded"]].tolist() == [3, 1]
    assert nr.loc["minoxidil", ["total", "not_recorded"]].tolist() == [3, 1]
    assert nr.loc["serious", ["total", "not_recorded"]].tolist() == [2, 0]
    said = text.headline(a.response, a.adverse_events, a.flow, a.cutoff,
                         not_recorded=a.not_recorded)
    assert ("5-ARI hypersensitivity screening: not recorded for 1 of 3 treated patients, who "
            "could not be assessed.") in said
    assert ("Minoxidil use not recorded for 1 of 3 treated patients: they are left out of "
            "the mesotherapy-alone comparison.") in said
    assert not any("serious" in s for s in said)          # 0 not recorded: nothing said


def test_other_share_on_the_first_screen_above_5_percent():
    from outcomes.text import not_recorded_sentences

    frame = pd.DataFrame({"figure": ["adverse-event rates"] * 2, "column": ["term", "term"],
                          "unit": ["events"] * 2, "total": [200, 200],
                          "not_recorded": [10, 11], "share": [0.05, 0.055],
                          "absent": [False, False], "first_screen": [False, True]})
    said = not_recorded_sentences(frame)
    assert said == ["11 of 200 adverse events (5.5%) had a term outside the vocabulary and "
                    "were counted as 'other': the rates of the named events may be understated "
                    "(the data-quality page lists the terms; map them under [terms] in the "
                    "mapping file)."]


def test_first_screen_flag_for_terms_follows_the_threshold(tmp_path):
    """The completeness table marks the term row for the first screen above 5% only."""
    import outcomes
    from outcomes.completeness import OTHER_SHARE_THRESHOLD

    assert OTHER_SHARE_THRESHOLD == 0.05
    ae = SMALL_EXPORT["adverse_events"] + "E3,P1,S1,2025-01-11,mareo,,,\n"
    export = load(_export(tmp_path, adverse_events=ae), today=LOAD_TODAY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutcomesWarning)
        a = outcomes.analyze(export, cutoff="2026-06-01", model=False)
    row = a.not_recorded.set_index("column").loc["term"]
    assert (row["total"], row["not_recorded"], bool(row["first_screen"])) == (3, 1, True)


def test_serious_not_recorded_says_how_it_was_counted():
    from outcomes.text import not_recorded_sentences

    frame = pd.DataFrame({"figure": ["serious adverse events"], "column": ["serious"],
                          "unit": ["events"], "total": [75], "not_recorded": [8],
                          "share": [8 / 75], "absent": [False], "first_screen": [True]})
    assert not_recorded_sentences(frame) == [
        "Serious adverse events: whether the event was serious is not recorded for 8 of 75 "
        "adverse events; they are not counted as serious unless serious by nature (review "
        "them)."]
    # shareable: a small count shows as "<5" and is still said
    frame["not_recorded"] = pd.Series(["<5"], dtype=object)
    assert "is not recorded for <5 of 75" in not_recorded_sentences(frame)[0]


_ALL_SYNONYMS = [(t, c, w) for t, cols in __import__("outcomes.recognise", fromlist=["x"])
                 .HEADER_SYNONYMS.items() for c, words in cols.items() for w in (c, *words)]


@settings(max_examples=300, deadline=None)
@given(item=st.sampled_from(_ALL_SYNONYMS), upper=st.lists(st.booleans(), min_size=60,
                                                          max_size=60),
       sep=st.sampled_from([" ", "_", "-", ".", "  ", " - ", "/"]),
       unit=st.sampled_from(["", " (mL)", " [%]", " (hairs/cm²)", " (µm)", " (días)"]))
def test_any_synonym_written_any_way_is_recognised(item, upper, sep, unit):
    """Case, separators and a unit in brackets never change what a header means."""
    table, column, word = item
    text = "".join(ch.upper() if up else ch.lower() for ch, up in zip(word, upper + [False] * 99))
    text = sep.join(text.replace("_", " ").split()) + unit
    assert match_header(table, text) == column
