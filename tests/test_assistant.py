"""The mapping assistant (issue 10, item 5): ``outcomes mapping EXPORT --out mapping.toml``.

Each case is an export of known data written as a practice system would; the assistant's
proposal is accepted as it stands (guesses included), its TODO lines are filled with the
answers only the clinic knows, and the export must then load to exactly the clean tables of
the same data written to the contract.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from corpus.realistic import REAL_CASES, base_tables, write_clean
from corpus.realistic import TODAY as REAL_TODAY
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes import load
from outcomes.assistant import TODO, _toml, propose_mapping
from outcomes.contract import CHOICES, COLUMNS, TABLES
from outcomes.errors import LoadError
from outcomes.recognise import (VALUE_SYNONYMS, Mapping, normalise_header, normalise_value,
                                read_mapping)
from outcomes.sample import sample_path
from outcomes.vocabulary import normalise_term

TODAY = dt.date(2026, 11, 30)
_TODO_LINE = re.compile(r'^("(?:[^"\\]|\\.)*") = "TODO"')
_LINE = re.compile(r'^("(?:[^"\\]|\\.)*") = (.+?)\s+# (recognised|guess \(confidence (\d\.\d\d)\)|'
                   r'TODO):?')


def fill(text: str, answers: dict) -> str:
    """The proposal with each TODO line replaced by the clinic's answer.

    ``answers[(section, key)]``: a value; ``"ignore"`` (a column to drop: moved to its
    section's ``ignore`` list) or ``None`` (delete the line). A TODO without an answer fails
    the test: the assistant asked something the case did not expect.
    """
    out, section, ignore = [], None, {}
    for line in text.splitlines():
        m = re.match(r"^\[([^\]]+)\]", line)
        if m:
            section = m.group(1)
        t = _TODO_LINE.match(line)
        if t:
            key = json.loads(t.group(1))
            assert (section, key) in answers, f"unexpected TODO [{section}] {key!r}: {line}"
            answer = answers[(section, key)]
            if answer == "ignore":
                ignore.setdefault(section, []).append(key)
                continue
            if answer is None:
                continue
            line = f"{t.group(1)} = {json.dumps(answer, ensure_ascii=False)}"
        if line.startswith("ignore = [") and ignore.get(section):
            listed = json.loads(line.split("=", 1)[1])
            line = "ignore = " + json.dumps(listed + ignore[section], ensure_ascii=False)
        out.append(line)
    return "\n".join(out) + "\n"


def todos(text: str) -> set:
    section, found = None, set()
    for line in text.splitlines():
        m = re.match(r"^\[([^\]]+)\]", line)
        if m:
            section = m.group(1)
        t = _TODO_LINE.match(line)
        if t:
            found.add((section, json.loads(t.group(1))))
    return found


# ------------------------------------------------------------------------------ cases
def _sample() -> dict[str, pd.DataFrame]:
    return {t: pd.read_csv(sample_path() / f"{t}.csv", dtype=str, keep_default_na=False)
            for t in TABLES}


_ES_TERMS = {"Pain at injection site": "dolor en el sitio de inyección",
             "forehead swelling": "edema frontal", "Headache": "cefalea",
             "Erythema": "eritema"}


def issue_workbook(folder: Path) -> Path:
    """The export of issue 10: sheets named and ordered by a practice system, Title Case and
    Spanish headers, H/M sex codes, yes/no as Sí/Y/TRUE/1, day/month/year text dates, Spanish
    adverse-event terms, a Notes column."""
    t = _sample()
    p = t["patients"]
    p["sex"] = p["sex"].map({"M": "H", "F": "M"})
    p["minoxidil"] = p["minoxidil"].map({"yes": "Sí", "no": "No", "": ""})
    p["hypersensitivity_5ari"] = p["hypersensitivity_5ari"].map({"yes": "Y", "no": "N", "": ""})
    p["childbearing_potential"] = p["childbearing_potential"].map(
        {"yes": "TRUE", "no": "FALSE", "": ""})
    p["contraception"] = p["contraception"].map({"yes": "1", "no": "0", "": ""})
    p["Notes"] = "see the paper chart"
    p = p.rename(columns={"patient_id": "Patient ID", "sex": "Sexo", "age": "Age",
                          "baseline_scale": "Baseline Scale", "baseline_grade": "Grado",
                          "childbearing_potential": "Childbearing Potential",
                          "contraception": "Contraception", "minoxidil": "Minoxidil",
                          "hypersensitivity_5ari": "Hypersensitivity 5-ARI"})
    s = t["sessions"]
    s["session_date"] = pd.to_datetime(s["session_date"]).dt.strftime("%d/%m/%Y")
    s = s.rename(columns={"session_id": "Session ID", "patient_id": "Patient ID",
                          "session_date": "Session Date", "practitioner_id": "Practitioner",
                          "volume_ml": "Volume (mL)", "concentration_pct": "Concentration (%)",
                          "pregnancy_test": "Pregnancy Test"})
    m = t["measurements"].rename(columns={
        "patient_id": "Patient ID", "measurement_date": "Measurement Date",
        "session_id": "Session ID", "site": "Site", "density_per_cm2": "Density (hairs/cm2)",
        "shaft_diameter_um": "Shaft Diameter (µm)", "gpa_score": "GPA Score",
        "rater_id": "Rater"})
    a = t["adverse_events"]
    a["term"] = a["term"].map(lambda x: _ES_TERMS.get(x, x))
    a = a.rename(columns={"event_id": "Event ID", "patient_id": "Patient ID",
                          "session_id": "Session ID", "onset_date": "Onset Date",
                          "term": "Adverse Event", "severity": "Severity",
                          "duration_days": "Duration (days)", "serious": "Serious"})
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "clinic export.xlsx"
    with pd.ExcelWriter(path) as w:
        a.to_excel(w, sheet_name="Side Effects", index=False)
        p.to_excel(w, sheet_name="Patient List", index=False)
        m.to_excel(w, sheet_name="Hair Measurements", index=False)
        s.to_excel(w, sheet_name="Treatment Sessions", index=False)
    return path


ISSUE_ANSWERS = {
    ("values.patients.sex", "H"): "M", ("values.patients.sex", "M"): "F",
    ("terms", "dolor en el sitio de inyección"): "injection_site_pain",
    ("terms", "edema frontal"): "frontal_edema", ("terms", "cefalea"): "headache",
    ("terms", "eritema"): "erythema",
}


def awkward_folder(folder: Path) -> Path:
    """CSV files named in Spanish, ';' and decimal commas, a misspelt header, a header no
    one would recognise holding the density, a clinic column of no use, sex written out."""
    t = _sample()
    folder.mkdir(parents=True, exist_ok=True)
    p = t["patients"].rename(columns={"hypersensitivity_5ari": "Hypersensitvity to 5-ARI",
                                      "sex": "Sexo"})
    p["Sexo"] = p["Sexo"].map({"M": "Varón", "F": "Mujer"})
    p["Clinic Site"] = "north"
    m = t["measurements"].rename(columns={"density_per_cm2": "Col 5"})
    names = {"patients": ("pacientes", p), "sessions": ("sesiones", t["sessions"]),
             "measurements": ("mediciones", m),
             "adverse_events": ("efectos adversos", t["adverse_events"])}
    for stem, df in names.values():
        df = df.apply(lambda c: c.str.replace(r"^(\d+)\.(\d+)$", r"\1,\2", regex=True))
        df.to_csv(folder / f"{stem}.csv", sep=";", index=False)
    return folder


AWKWARD_ANSWERS = {("columns.measurements", "Col 5"): "density_per_cm2"}


def unnamed_files(folder: Path) -> Path:
    """Files named by an export tool ("tabla1.csv" ...), Spanish headers, a summary file."""
    t = _sample()
    folder.mkdir(parents=True, exist_ok=True)
    spanish = {"patient_id": "Código paciente", "sex": "Sexo", "age": "Edad",
               "session_id": "Id sesión", "session_date": "Fecha de sesión",
               "measurement_date": "Fecha de medición", "density_per_cm2": "Densidad",
               "event_id": "Id evento", "onset_date": "Fecha de inicio",
               "term": "Efecto adverso", "severity": "Gravedad"}
    for i, table in enumerate(TABLES, start=1):
        t[table].rename(columns=spanish).to_csv(folder / f"tabla{i}.csv", index=False)
    (folder / "resumen.csv").write_text("Mes,Total\n2025-01,12\n", encoding="utf-8")
    return folder


CASES = {"issue_workbook": (issue_workbook, ISSUE_ANSWERS),
         "awkward_folder": (awkward_folder, AWKWARD_ANSWERS),
         "unnamed_files": (unnamed_files, {})}


@pytest.fixture(scope="module")
def base():
    return load(sample_path(), today=TODAY)


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    """Each case's export, written once for the module."""
    return {name: make(tmp_path_factory.mktemp(name) / "export")
            for name, (make, _) in CASES.items()}


# ------------------------------------------------------------------------------ tests
def test_every_line_says_what_it_is(exports):
    text = propose_mapping(exports["issue_workbook"]).text
    tomllib.loads(text)                                    # valid TOML as written
    for line in text.splitlines():
        if not line or line.startswith("#") or line.startswith("[") or \
                line.startswith("ignore = "):
            continue
        m = _LINE.match(line)
        assert m, f"a line without its status: {line}"
        if m.group(3).startswith("guess"):
            assert 0 < float(m.group(4)) <= 1


def test_a_conformant_export_needs_nothing():
    proposal = propose_mapping(sample_path())
    assert (proposal.guesses, proposal.todos, proposal.stops, proposal.options) == \
        (0, 0, (), {})
    terms = _sample()["adverse_events"]["term"].map(normalise_term).nunique()
    # 4 sheets, every column, every distinct term (listed in [terms] for the user to see)
    assert proposal.recognised == 4 + sum(len(c) for c in COLUMNS.values()) + terms
    assert set(proposal.tables) == set(TABLES)


def test_ambiguous_sex_codes_are_asked_never_guessed(exports, tmp_path):
    proposal = propose_mapping(exports["issue_workbook"])
    assert {("values.patients.sex", "H"), ("values.patients.sex", "M")} <= todos(proposal.text)
    assert proposal.options == {"date_format": "DMY"}
    assert '"Notes"' in proposal.text and 'ignore = ["Notes"]' in proposal.text
    # left as proposed, the TODOs stop the load (and name the mapping file)
    path = tmp_path / "mapping.toml"
    path.write_text(proposal.text, encoding="utf-8")
    with pytest.raises(LoadError, match="mapping file .*mapping.toml"):
        read_mapping(path)


def test_guesses_are_marked_with_a_confidence(exports):
    proposal = propose_mapping(exports["awkward_folder"])
    guesses = {m.group(1): (m.group(2), float(m.group(4)))
               for m in map(_LINE.match, proposal.text.splitlines())
               if m and m.group(3).startswith("guess")}
    assert guesses['"Hypersensitvity to 5-ARI"'][0] == '"hypersensitivity_5ari"'
    assert 0.8 <= guesses['"Hypersensitvity to 5-ARI"'][1] < 1
    # an unknown header of numbers is asked (it could be density or diameter ...)
    assert ("columns.measurements", "Col 5") in todos(proposal.text)
    assert "# ignore guess (confidence 0.70): \"Clinic Site\"" in proposal.text
    assert proposal.options == {"decimal_comma": True}
    assert proposal.tables.keys() == set(TABLES)


def test_tables_known_by_their_headers_are_guesses(exports):
    text = propose_mapping(exports["unnamed_files"]).text
    sheets = {m.group(1): (m.group(2), m.group(3)) for m in map(_LINE.match, text.splitlines())
              if m and m.group(1).startswith('"tabla')}
    assert {k: v[0] for k, v in sheets.items()} == {
        f'"tabla{i}"': f'"{t}"' for i, t in enumerate(TABLES, start=1)}
    assert all(v[1].startswith("guess") for v in sheets.values())
    assert '# "resumen": not read (nothing in it resembles a table)' in text


def test_identifiers_are_export_fixes_and_never_copied(tmp_path):
    """A column named like an identifier, or holding e-mail addresses or phone numbers under
    an innocent header, is reported as a fix to the export; its values are not in the file."""
    folder = tmp_path / "ids"
    folder.mkdir()
    (folder / "patients.csv").write_text(
        "patient_id,sex,age,Surname,Contacto\nP1,F,40,Smith,ana.perez@example.com\n"
        "P2,M,50,Jones,+34 600 123 456\n", encoding="utf-8")
    (folder / "sessions.csv").write_text("session_id,patient_id,session_date\n"
                                         "S1,P1,2025-01-01\n", encoding="utf-8")
    proposal = propose_mapping(folder)
    assert len(proposal.stops) == 2
    assert "'Surname' looks like it holds a name" in proposal.stops[0]
    assert "'Contacto' holds e-mail addresses or phone/card numbers" in proposal.stops[1]
    for value in ("Smith", "Jones", "ana.perez", "600 123"):
        assert value not in proposal.text


def test_two_sheets_for_one_table_are_asked(tmp_path):
    folder = tmp_path / "two"
    folder.mkdir()
    for stem in ("Patient List", "Pacientes"):
        (folder / f"{stem}.csv").write_text("patient_id,sex,age\nP1,F,40\n", encoding="utf-8")
    (folder / "sessions.csv").write_text("session_id,patient_id,session_date\n"
                                         "S1,P1,2025-01-01\n", encoding="utf-8")
    text = propose_mapping(folder).text
    assert todos(text) >= {("sheets", "Patient List"), ("sheets", "Pacientes")}


@pytest.mark.parametrize("case", sorted(CASES))
def test_accepted_and_filled_proposal_loads_the_clean_tables(case, exports, tmp_path, base):
    answers = CASES[case][1]
    export = exports[case]
    proposal = propose_mapping(export)
    asked = todos(proposal.text)
    assert asked <= set(answers)
    path = tmp_path / "mapping.toml"
    path.write_text(fill(proposal.text, answers), encoding="utf-8")
    got = load(export, mapping=path, today=TODAY, **proposal.options)
    assert got.report.n_quarantined == 0, got.report.quarantine.head()
    for table in TABLES:
        want_t, got_t = base.tables()[table], got.tables()[table]
        if table == "adverse_events":      # the clinic's own words are kept as written
            spanish = want_t["term_as_written"].map(lambda x: _ES_TERMS.get(x, x))
            if case == "issue_workbook":
                assert got_t["term_as_written"].tolist() == spanish.tolist()
            want_t, got_t = (want_t.drop(columns="term_as_written"),
                             got_t.drop(columns="term_as_written"))
        pd.testing.assert_frame_equal(got_t, want_t, check_exact=True)


def test_cli_mapping_end_to_end(exports, tmp_path):
    export = exports["issue_workbook"]
    from conftest import run_cli

    cmd = ["mapping", export, "--out", tmp_path / "m.toml"]
    proc = run_cli(*cmd)
    assert proc.returncode == 0, proc.stderr
    assert "4 tables found" in proc.stdout and "TODO to fill" in proc.stdout
    assert "--date-format DMY" in proc.stdout
    written = (tmp_path / "m.toml").read_bytes()
    proc = run_cli(*cmd)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "already exists; not overwritten" in proc.stderr
    assert (tmp_path / "m.toml").read_bytes() == written


# ------------------------------------------------------------------------------ properties



@given(st.text(), st.text())
def test_any_header_or_value_is_written_as_valid_toml(key, value):
    assert tomllib.loads(f"{_toml(key)} = {_toml(value)}  # comment\n") == {key: value}


_SEX_POOL = ["H", "M", "F", "V", "h", "m", "Mujer", "Hombre", "male", "Female", "Varón", "X"]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(_SEX_POOL), min_size=1, max_size=8))
def test_sex_codes_are_recognised_asked_or_left_never_guessed(tmp_path_factory, codes):
    folder = tmp_path_factory.mktemp("sex")
    rows = "".join(f"P{i},{c},40\n" for i, c in enumerate(codes))
    (folder / "patients.csv").write_text("patient_id,sex,age\n" + rows, encoding="utf-8")
    (folder / "sessions.csv").write_text("session_id,patient_id,session_date\n"
                                         "S1,P0,2025-01-01\n", encoding="utf-8")
    text = propose_mapping(folder).text
    keys = {normalise_value(c) for c in codes}
    # M is mujer (female) beside H (hombre) or V (varón), male in English: ask about both
    asked = {"h", "m"} if {"h", "m"} <= keys else {"v", "m"} if {"v", "m"} <= keys else set()
    lines = {}
    in_sex = False
    for line in text.splitlines():
        if line.startswith("["):
            in_sex = line.startswith("[values.patients.sex]")
            continue
        m = _LINE.match(line)
        if in_sex and m:
            lines[normalise_value(json.loads(m.group(1)))] = json.loads(m.group(2))
    for key, target in lines.items():
        if key in asked or key == "x":                          # asked, never guessed
            assert target == TODO, (codes, key, target)
        else:
            assert target == {"f": "F", "m": "M"}.get(key, VALUE_SYNONYMS["sex"].get(key))
    assert asked <= set(lines)
    if keys <= set(CHOICES["sex"]) and not asked:
        assert not lines                                        # contract spellings: no section
    else:
        assert set(lines) == keys                               # else every code is listed


# ------------------------------------------------------------------------------ the corpus
# The realistic corpus (tests/corpus/realistic.py): one clinic's data written as practice
# systems write it. Cases built by the same function are one export; the answers to the
# assistant's TODOs are taken from the mapping file the corpus gives for that export (what
# the clinic knows), never from the assistant.


#: exports whose fix is in the export itself, not in a mapping file: what the assistant says
_EXPORT_FIX = {"excel_day_numbers": "dates are Excel day numbers"}


def _exports() -> dict:
    """Builder name -> (build, the corpus's mapping for it, its loading case)."""
    out: dict = {}
    for case in REAL_CASES:
        entry = out.setdefault(case.build.__name__, {"build": case.build, "mapping": None,
                                                     "case": None, "names": []})
        entry["names"].append(case.name)
        if case.mapping is not None:
            entry["mapping"] = case.mapping
        if not case.stop:
            entry["case"] = case
    return out


REAL_EXPORTS = _exports()


def _answer(mapping: Mapping, section: str, key: str):
    """The clinic's answer to a TODO, from its mapping file (KeyError: it has none)."""
    if section == "sheets":
        return mapping.sheets[normalise_header(key)]
    if section.startswith("columns."):
        table = section.split(".")[1]
        k = normalise_header(key)
        if k in mapping.ignored_for(table):
            return "ignore"
        return mapping.columns_for(table)[k]
    if section.startswith("values."):
        _, table, column = section.split(".")
        return mapping.values[(table, column)][normalise_value(key)]
    if section == "terms":
        return mapping.terms[normalise_term(key)]
    raise KeyError((section, key))


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    tables = base_tables()
    root = tmp_path_factory.mktemp("real")
    refs = {}
    for entry in REAL_EXPORTS.values():
        case = entry["case"]
        drop = case.drop if case is not None else {}
        key = tuple(sorted((t, tuple(c)) for t, c in drop.items()))
        if key not in refs:
            clean = {t: df.drop(columns=list(drop.get(t, ()))) for t, df in tables.items()}
            refs[key] = load(write_clean(root / f"clean{len(refs)}", clean), today=REAL_TODAY)
    return tables, root, refs


def test_the_corpus_is_covered():
    """Every export of the corpus is either loaded below or its fix is in the export."""
    assert len(REAL_EXPORTS) >= 8
    for name, entry in REAL_EXPORTS.items():
        assert entry["case"] is not None or any(n in _EXPORT_FIX for n in entry["names"]), name


@pytest.mark.parametrize("name", sorted(REAL_EXPORTS))
def test_corpus_loads_equal_after_accepting_the_proposal(name, real, tmp_path):
    entry = REAL_EXPORTS[name]
    tables, _, refs = real
    folder = tmp_path / "export"
    folder.mkdir()
    export = entry["build"](tables, folder)
    proposal = propose_mapping(export)
    fixes = [n for n in entry["names"] if n in _EXPORT_FIX]
    if fixes:                                   # the assistant says what to fix in the export
        assert any(_EXPORT_FIX[fixes[0]] in s for s in proposal.stops), proposal.stops
        return
    case = entry["case"]
    known = Mapping()
    if entry["mapping"] is not None:
        source = tmp_path / "known.toml"
        source.write_text(entry["mapping"], encoding="utf-8")
        known = read_mapping(source)
    answers = {}
    for section, key in todos(proposal.text):
        try:
            answers[(section, key)] = _answer(known, section, key)
        except KeyError:
            raise AssertionError(f"{name}: the assistant asks [{section}] {key!r}, which the "
                                 "clinic's mapping does not answer:\n" + proposal.text) from None
    assert not proposal.stops, proposal.stops
    # the options it proposes are the ones the corpus needs
    assert proposal.options == case.options, (proposal.options, case.options)
    path = tmp_path / "mapping.toml"
    path.write_text(fill(proposal.text, answers), encoding="utf-8")
    got = load(export, mapping=path, today=REAL_TODAY, **proposal.options)
    ref = refs[tuple(sorted((t, tuple(c)) for t, c in case.drop.items()))]
    assert got.report.n_quarantined == 0, got.report.quarantine.head()
    for t in TABLES:
        g, w = getattr(got, t), getattr(ref, t)
        if case.terms_translated and t == "adverse_events":
            g, w = g.drop(columns="term_as_written"), w.drop(columns="term_as_written")
        pd.testing.assert_frame_equal(g, w, check_exact=True)
    assert got.report.other_terms == ref.report.other_terms


def test_parquet_export_with_spanish_file_names(tmp_path, base):
    """Typed Parquet columns (dates, numbers) are read as the loader reads them."""
    from outcomes.sample import write_export

    dates = {"sessions": ["session_date"], "measurements": ["measurement_date"],
             "adverse_events": ["onset_date"]}
    tables = {t: pd.read_csv(sample_path() / f"{t}.csv", keep_default_na=False,
                             na_values=[""], parse_dates=dates.get(t, []))
              for t in TABLES}
    assert str(tables["sessions"]["session_date"].dtype).startswith("datetime64")
    folder = tmp_path / "pq"
    write_export(tables, folder, "parquet")
    for t, stem in zip(TABLES, ("pacientes", "sesiones", "mediciones", "efectos adversos")):
        (folder / f"{t}.parquet").rename(folder / f"{stem}.parquet")
    proposal = propose_mapping(folder)
    assert (proposal.todos, proposal.guesses) == (0, 0), proposal.text
    path = tmp_path / "m.toml"
    path.write_text(proposal.text, encoding="utf-8")
    got = load(folder, mapping=path, today=TODAY, **proposal.options)
    for t in TABLES:
        pd.testing.assert_frame_equal(got.tables()[t], base.tables()[t], check_exact=True)
