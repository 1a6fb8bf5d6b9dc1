"""Realistic clinic exports of ONE synthetic clinic, written the way practice systems write them.

Every case is built in code from the same clean data (``outcomes.sample.generate_sample``):
Excel workbooks (openpyxl) with renamed and reordered sheets, Title Case, Spanish, Portuguese
and French headers, Spanish adverse-event terms and codes, Excel date cells mixed with
DD/MM/YYYY text, yes/no variants, extra and missing optional columns, a Notes column, a `;`
CSV with decimal commas. Each case says what loading it must give:

- ``stop``: a LoadError whose message contains each of these fragments (naming the fix), or
- ``equal``: exactly the clean tables of the same data (``reference`` says which: the full
  export, or the export without the optional columns the case leaves out), and the same
  ``outcomes analyze --json``.

``mapping`` (TOML text) and ``options`` are what the user passes after reading the stop
message; a case with a mapping is also run without it (``stop_without``) when given.
The mapping assistant's test fills its TODOs from ``mapping``.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from outcomes.sample import generate_sample
from outcomes.vocabulary import map_terms

__all__ = ["RealCase", "REAL_CASES", "base_tables", "CUTOFF", "write_clean"]

CUTOFF = "2026-09-30"
_SEED, _N = 11, 60


def base_tables() -> dict[str, pd.DataFrame]:
    """The clinic's data (typed frames, as :func:`generate_sample` gives them)."""
    return generate_sample(_N, seed=_SEED, end=CUTOFF)


def write_clean(folder: Path, tables: dict[str, pd.DataFrame]) -> Path:
    """The contract's own export of ``tables`` (CSV, contract headers)."""
    from outcomes.sample import write_export

    write_export(tables, folder, "csv")
    return folder


@dataclass(frozen=True)
class RealCase:
    """One realistic export.

    ``build(tables, folder) -> path``: writes the export of ``tables`` into ``folder``.
    ``drop``: optional contract columns the export leaves out (the reference is the clean
    export without them). ``stop``: message fragments when the load must stop (with the
    ``mapping``/``options`` given); ``stop_without``: fragments when run without the mapping.
    ``terms_translated``: ``term_as_written`` differs from the clean export by design.
    """

    name: str
    build: Callable[[dict, Path], Path]
    options: dict = field(default_factory=dict)
    mapping: str | None = None
    stop: tuple = ()
    stop_without: tuple = ()
    drop: dict = field(default_factory=dict)
    terms_translated: bool = False


# ------------------------------------------------------------------------------ helpers
_TITLE = {
    "patients": {"patient_id": "Patient ID", "sex": "Sex", "age": "Age",
                 "baseline_scale": "Baseline Scale", "baseline_grade": "Baseline Grade",
                 "childbearing_potential": "Childbearing Potential",
                 "contraception": "Contraception", "minoxidil": "Minoxidil",
                 "hypersensitivity_5ari": "Hypersensitivity 5-ARI"},
    "sessions": {"session_id": "Session ID", "patient_id": "Patient ID",
                 "session_date": "Session Date", "practitioner_id": "Practitioner",
                 "volume_ml": "Volume (mL)", "concentration_pct": "Concentration (%)",
                 "pregnancy_test": "Pregnancy Test"},
    "measurements": {"patient_id": "Patient ID", "measurement_date": "Date",
                     "session_id": "Session ID", "site": "Site",
                     "density_per_cm2": "Density (hairs/cm2)",
                     "shaft_diameter_um": "Shaft Diameter (µm)", "gpa_score": "GPA Score",
                     "rater_id": "Rater"},
    "adverse_events": {"event_id": "Event ID", "patient_id": "Patient ID",
                       "session_id": "Session ID", "onset_date": "Onset Date",
                       "term": "Side Effect", "severity": "Severity",
                       "duration_days": "Duration (days)", "serious": "Serious"},
}
_SPANISH = {
    "patients": {"patient_id": "ID Paciente", "sex": "Sexo", "age": "Edad",
                 "baseline_scale": "Escala basal", "baseline_grade": "Grado basal",
                 "childbearing_potential": "Potencial reproductivo",
                 "contraception": "Anticoncepción", "minoxidil": "Minoxidil tópico",
                 "hypersensitivity_5ari": "Hipersensibilidad 5-ARI"},
    "sessions": {"session_id": "ID Sesión", "patient_id": "ID Paciente",
                 "session_date": "Fecha de sesión", "practitioner_id": "Profesional",
                 "volume_ml": "Volumen (ml)", "concentration_pct": "Concentración (%)",
                 "pregnancy_test": "Test de embarazo"},
    "measurements": {"patient_id": "ID Paciente", "measurement_date": "Fecha de medición",
                     "session_id": "ID Sesión", "site": "Zona",
                     "density_per_cm2": "Densidad (pelos/cm2)",
                     "shaft_diameter_um": "Diámetro (µm)", "gpa_score": "Puntuación GPA",
                     "rater_id": "Evaluador"},
    "adverse_events": {"event_id": "ID Evento", "patient_id": "ID Paciente",
                       "session_id": "ID Sesión", "onset_date": "Fecha de inicio",
                       "term": "Efecto adverso", "severity": "Severidad",
                       "duration_days": "Duración (días)", "serious": "Grave"},
}
_PORTUGUESE_FRENCH = {   # a Portuguese patients table, French events, English the rest
    "patients": {"patient_id": "Código doente", "sex": "Sexo", "age": "Idade",
                 "baseline_scale": "Escala", "baseline_grade": "Grau",
                 "childbearing_potential": "Idade fértil", "contraception": "Contraceção",
                 "minoxidil": "Minoxidil", "hypersensitivity_5ari": "Hipersensibilidade 5-ARI"},
    "adverse_events": {"event_id": "ID événement", "patient_id": "Identifiant patient",
                       "session_id": "ID séance", "onset_date": "Date de début",
                       "term": "Effet indésirable", "severity": "Sévérité",
                       "duration_days": "Durée (jours)", "serious": "Grave"},
}
_SHEETS_EN = {"patients": "Patient List", "sessions": "Treatment Sessions",
              "measurements": "Hair Measurements", "adverse_events": "Side Effects"}
_SHEETS_ES = {"patients": "Pacientes", "sessions": "Sesiones de tratamiento",
              "measurements": "Mediciones", "adverse_events": "Efectos adversos"}
_TERMS_ES = {"injection_site_pain": "Dolor en el sitio de inyección",
             "frontal_edema": "edema frontal", "burning": "ardor", "erythema": "eritema",
             "headache": "cefalea", "paradoxical_alopecia": "alopecia paradójica",
             "scarring": "cicatriz", "acute_dermatitis": "dermatitis aguda",
             "sperm_abnormality": "oligospermia",
             "sexual_dysfunction": "disminución de la libido"}
_TERMS_FR = {"injection_site_pain": "douleur au point d'injection",
             "frontal_edema": "œdème frontal", "burning": "brûlure", "erythema": "rougeur",
             "headache": "céphalée", "paradoxical_alopecia": "chute de cheveux",
             "scarring": "cicatrice", "acute_dermatitis": "eczéma",
             "sperm_abnormality": "anomalie du sperme",
             "sexual_dysfunction": "baisse de libido"}
_YES_NO = ("childbearing_potential", "contraception", "minoxidil", "hypersensitivity_5ari",
           "serious")


def _copy(tables: dict) -> dict:
    return {k: v.copy() for k, v in tables.items()}


def _rename(tables: dict, names: dict) -> dict:
    return {t: df.rename(columns=names.get(t, {})) for t, df in tables.items()}


def _recode(s: pd.Series, codes: dict) -> pd.Series:
    return s.astype(object).map(lambda v: codes.get(v, v) if isinstance(v, str) else v)


def _variants(s: pd.Series, yes: tuple, no: tuple) -> pd.Series:
    """yes/no -> cycling through the given spellings (row by row)."""
    i = np.arange(len(s))
    out = s.astype(object).copy()
    is_yes = (s == "yes").fillna(False).to_numpy(bool)
    is_no = (s == "no").fillna(False).to_numpy(bool)
    out[is_yes] = np.asarray(yes, dtype=object)[i[is_yes] % len(yes)]
    out[is_no] = np.asarray(no, dtype=object)[i[is_no] % len(no)]
    return out


def _translate_terms(ae: pd.DataFrame, words: dict) -> pd.Series:
    mapped = map_terms(ae["term"])
    return pd.Series([words.get(m, t) if isinstance(t, str) else t
                      for t, m in zip(ae["term"], mapped)], index=ae.index, dtype=object)


def _dmy_text(s: pd.Series, every: int = 1) -> pd.Series:
    """Dates -> an object column: every ``every``-th row DD/MM/YYYY text, the rest Excel date
    cells (datetime)."""
    out = s.astype(object).copy()
    pick = (np.arange(len(s)) % every == 0) & s.notna().to_numpy()
    out[pick] = s[pick].dt.strftime("%d/%m/%Y")
    return out


def _workbook(path: Path, sheets: dict[str, pd.DataFrame], order: list[str]) -> Path:
    with pd.ExcelWriter(path, engine="openpyxl", date_format="DD/MM/YYYY",
                        datetime_format="DD/MM/YYYY") as w:
        for name in order:
            sheets[name].to_excel(w, sheet_name=name, index=False)
    return path


def _csvs(folder: Path, tables: dict, sep: str = ",", decimal: str = ".",
          names: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for t, df in tables.items():
        df.to_csv(folder / f"{(names or {}).get(t, t)}.csv", sep=sep, decimal=decimal,
                  index=False, date_format="%Y-%m-%d", lineterminator="\r\n")
    return folder


# ------------------------------------------------------------------------------ builders
def _issue_workbook(tables: dict, folder: Path, *, notes: bool = True) -> Path:
    """The export of issue 10: sheets renamed and reordered, Title Case headers, Excel date
    cells and DD/MM/YYYY text, yes/no as Y/N/TRUE/1/Sí, Spanish terms, a Notes column."""
    t = _copy(tables)
    p, s, m, e = t["patients"], t["sessions"], t["measurements"], t["adverse_events"]
    for col in ("childbearing_potential", "contraception"):
        p[col] = _variants(p[col], ("Y", "TRUE"), ("N", "FALSE"))
    p["minoxidil"] = _variants(p["minoxidil"], ("1", "Sí"), ("0", "No"))
    p["hypersensitivity_5ari"] = _variants(p["hypersensitivity_5ari"], ("Yes", "Y"),
                                           ("No", "N"))
    p["sex"] = _recode(p["sex"], {"F": "Female", "M": "Male"})
    e["serious"] = _variants(e["serious"], ("Y",), ("N",))
    e["severity"] = _recode(e["severity"], {"mild": "Mild", "moderate": "Moderate",
                                            "severe": "Severe"})
    e["term"] = _translate_terms(e, _TERMS_ES)
    s["session_date"] = _dmy_text(s["session_date"], every=3)   # mixed: text and date cells
    m["measurement_date"] = _dmy_text(m["measurement_date"], every=5)
    if notes:
        p["Notes"] = ["seen by Dr. X" if i % 7 == 0 else None for i in range(len(p))]
    t = _rename(t, _TITLE)
    sheets = {_SHEETS_EN[k]: v for k, v in t.items()}
    return _workbook(folder / "Clinic export.xlsx", sheets,
                     ["Side Effects", "Hair Measurements", "Patient List", "Treatment Sessions"])


def _spanish_csv(tables: dict, folder: Path) -> Path:
    """A Spanish clinic: Spanish file names and headers, sexo H/M, Sí/No, leve/moderada/grave,
    negativo/positivo/no realizado, Spanish terms, `;` and decimal commas, DD/MM/YYYY."""
    t = _copy(tables)
    p, s, e = t["patients"], t["sessions"], t["adverse_events"]
    p["sex"] = _recode(p["sex"], {"F": "M", "M": "H"})
    for col in ("childbearing_potential", "contraception", "minoxidil",
                "hypersensitivity_5ari"):
        p[col] = _recode(p[col], {"yes": "Sí", "no": "No"})
    e["serious"] = _recode(e["serious"], {"yes": "sí", "no": "no"})
    e["severity"] = _recode(e["severity"], {"mild": "leve", "moderate": "moderada",
                                            "severe": "grave"})
    s["pregnancy_test"] = _recode(s["pregnancy_test"], {
        "negative": "negativo", "positive": "positivo", "not_done": "no realizado"})
    e["term"] = _translate_terms(e, _TERMS_ES)
    for df in t.values():
        for c in df.columns:
            if pd.api.types.is_datetime64_any_dtype(df[c]):
                df[c] = df[c].dt.strftime("%d/%m/%Y")
    t = _rename(t, _SPANISH)
    return _csvs(folder / "exportacion", t, sep=";", decimal=",", names={
        "patients": "pacientes", "sessions": "sesiones", "measurements": "mediciones",
        "adverse_events": "efectos adversos"})


def _renamed_sheets(tables: dict, folder: Path) -> Path:
    """Contract headers, but sheets called Hoja1..Hoja4 plus a read-me sheet."""
    sheets = {f"Hoja{i + 1}": df for i, df in enumerate(tables.values())}
    sheets["Léame"] = pd.DataFrame({"info": ["exportado por el sistema"]})
    return _workbook(folder / "export.xlsx", sheets, ["Léame", "Hoja3", "Hoja1", "Hoja4",
                                                      "Hoja2"])


def _portuguese_french(tables: dict, folder: Path) -> Path:
    """Portuguese patients headers (sim/não, Masculino/Feminino), French events (terms,
    légère/modérée/sévère, oui/non), ISO dates, tab-separated."""
    t = _copy(tables)
    p, e = t["patients"], t["adverse_events"]
    p["sex"] = _recode(p["sex"], {"F": "Feminino", "M": "Masculino"})
    for col in ("childbearing_potential", "contraception", "minoxidil",
                "hypersensitivity_5ari"):
        p[col] = _recode(p[col], {"yes": "sim", "no": "não"})
    e["serious"] = _recode(e["serious"], {"yes": "oui", "no": "non"})
    e["severity"] = _recode(e["severity"], {"mild": "légère", "moderate": "modérée",
                                            "severe": "sévère"})
    e["term"] = _translate_terms(e, _TERMS_FR)
    t = _rename(t, _PORTUGUESE_FRENCH)
    return _csvs(folder / "export", t, sep="\t")


def _extra_columns(tables: dict, folder: Path) -> Path:
    """Contract data plus columns a practice system adds (clinic, room, invoice number)."""
    t = _copy(tables)
    t["patients"]["Clinic"] = "Madrid"
    t["sessions"]["Room"] = "2"
    t["sessions"]["Invoice number"] = [f"F-{i:05d}" for i in range(len(t["sessions"]))]
    t["measurements"]["Device"] = "FotoFinder"
    return _csvs(folder / "export", _rename(t, _TITLE))


_DROPPED = {"patients": ("minoxidil", "hypersensitivity_5ari"),
            "measurements": ("shaft_diameter_um", "rater_id"),
            "adverse_events": ("severity", "duration_days")}


def _missing_optional(tables: dict, folder: Path) -> Path:
    """A system that does not record minoxidil, 5-ARI hypersensitivity, shaft diameter,
    rater, severity, duration: the columns are simply absent."""
    t = {k: v.drop(columns=list(_DROPPED.get(k, ()))) for k, v in tables.items()}
    return _csvs(folder / "export", t)


def _lookalike_header(tables: dict, folder: Path) -> Path:
    """A header no synonym covers ('Hipersensibilidad conocida a inhibidores 5-ARI') and
    yes/no values in a column called 'Tratamiento tópico' (minoxidil)."""
    t = _copy(tables)
    t["patients"] = t["patients"].rename(columns={
        "hypersensitivity_5ari": "Hipersensibilidad conocida a inhibidores 5-ARI",
        "minoxidil": "Tratamiento tópico"})
    return _csvs(folder / "export", t)


def _excel_day_numbers(tables: dict, folder: Path) -> Path:
    """Dates pasted as Excel day numbers (45123) in the measurements sheet."""
    t = _copy(tables)
    m = t["measurements"]
    days = (m["measurement_date"] - pd.Timestamp("1899-12-30")).dt.days
    m["measurement_date"] = days.astype("Int64").astype(object)
    return _workbook(folder / "export.xlsx", t, list(t))


def _semicolon_forgotten(tables: dict, folder: Path) -> Path:
    """`;` and decimal commas (a European Excel's CSV); the user forgot --decimal-comma."""
    return _csvs(folder / "export", tables, sep=";", decimal=",")


# ------------------------------------------------------------------------------ the cases
_NOTES_MAPPING = 'ignore = ["Notes"]\n'
_SEX_ES = '[values.patients.sex]\n"H" = "M"\n"M" = "F"\n'

REAL_CASES: tuple[RealCase, ...] = (
    RealCase("issue_workbook_notes_column", _issue_workbook, options={"date_format": "DMY"},
             stop=("column 'Notes' looks like it holds free text", 'ignore = ["Notes"]')),
    RealCase("issue_workbook", _issue_workbook, options={"date_format": "DMY"},
             mapping=_NOTES_MAPPING, terms_translated=True),
    RealCase("issue_workbook_dates_not_said", _issue_workbook, mapping=_NOTES_MAPPING,
             stop=("dates are not written YYYY-MM-DD", "--date-format DMY")),
    RealCase("spanish_csv_sex_codes", _spanish_csv,
             options={"date_format": "DMY", "decimal_comma": True},
             stop=("the codes 'H' and 'M' are both used", "[values.patients.sex]")),
    RealCase("spanish_csv", _spanish_csv, options={"date_format": "DMY", "decimal_comma": True},
             mapping=_SEX_ES, terms_translated=True),
    RealCase("spanish_csv_decimal_comma_forgotten", _spanish_csv,
             options={"date_format": "DMY"}, mapping=_SEX_ES,
             stop=("numbers are written with a decimal comma", "Load with --decimal-comma")),
    RealCase("sheets_named_hoja", _renamed_sheets,
             stop=("no patients sheet (required); sheets found: 'Léame', 'Hoja3'",
                   "[sheets]")),
    RealCase("sheets_named_hoja_mapped", _renamed_sheets,
             mapping='[sheets]\n"Hoja1" = "patients"\n"Hoja2" = "sessions"\n'
                     '"Hoja3" = "measurements"\n"Hoja4" = "adverse_events"\n'),
    RealCase("portuguese_french_tabs", _portuguese_french, terms_translated=True),
    RealCase("extra_columns", _extra_columns),
    RealCase("missing_optional_columns", _missing_optional, drop=_DROPPED),
    RealCase("lookalike_headers", _lookalike_header,
             stop=("column 'Hipersensibilidad conocida a inhibidores 5-ARI' is not "
                   "recognised: did you mean hypersensitivity_5ari?",
                   "column 'Tratamiento tópico' is not recognised: did you mean minoxidil",
                   "[columns.patients]")),
    RealCase("lookalike_headers_mapped", _lookalike_header,
             mapping='[columns.patients]\n'
                     '"Hipersensibilidad conocida a inhibidores 5-ARI" = '
                     '"hypersensitivity_5ari"\n"Tratamiento tópico" = "minoxidil"\n'),
    RealCase("excel_day_numbers", _excel_day_numbers,
             stop=("Excel day numbers", "format the column as dates")),
    RealCase("semicolons_decimal_comma_forgotten", _semicolon_forgotten,
             stop=("numbers are written with a decimal comma", "--decimal-comma")),
    RealCase("semicolons_decimal_comma", _semicolon_forgotten,
             options={"decimal_comma": True}),
)

#: the loader's "today" for the realistic corpus
TODAY = dt.date(2026, 10, 1)
