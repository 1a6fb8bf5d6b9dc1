"""Recognition of what clinics write: headers, sheet names, coded values, and the mapping file.

Everything here works on headers, sheet names and *distinct* values only (never row by row),
so it costs nothing at scale. :mod:`outcomes.read` and :mod:`outcomes.validate` apply it; the
mapping assistant (``outcomes mapping``) proposes a mapping file from it.

Vocabulary of this module
-------------------------
key
    A header or sheet name reduced by :func:`normalise_header`: accents, case, spaces,
    punctuation and units in brackets removed (``"Density (hairs/cm2)"`` -> ``"density"``,
    ``"Patient-ID"`` -> ``"patientid"``).
value key
    A cell value reduced by :func:`normalise_value` (``" Sí "`` -> ``"si"``, ``"Varón"`` ->
    ``"varon"``).

The mapping file (TOML) that users write, and that ``outcomes mapping`` proposes::

    ignore = ["Notes", "Clinic site"]      # headers to drop unread, in any table

    [sheets]                               # workbook sheet (or file stem) -> table
    "Patient List" = "patients"

    [columns.patients]                     # header -> contract column, for one table
    "Código paciente" = "patient_id"
    ignore = ["Referido por"]             # headers to drop unread, in this table only

    [values.patients.sex]                  # value as written -> contract value
    "H" = "M"
    "M" = "F"

    [terms]                                # adverse-event term as written -> vocabulary term
    "hinchazón de frente" = "frontal_edema"

The older form (top-level ``"Header" = "column"`` lines, and ``[patients]`` sections holding
``"Header" = "column"`` lines) is still read: top-level lines apply to every table.
See :func:`read_mapping` and :class:`Mapping`.
"""
from __future__ import annotations

import difflib
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from outcomes.contract import COLUMNS, TABLES
from outcomes.errors import LoadError

__all__ = [
    "normalise_header", "normalise_value", "HEADER_SYNONYMS", "SHEET_SYNONYMS",
    "VALUE_SYNONYMS", "YES_WORDS", "NO_WORDS", "AMBIGUOUS_SEX_CODES",
    "match_header", "suggest_header", "suggest_by_content", "match_sheet", "header_index",
    "recode_values", "ambiguous_sex_codes", "Mapping", "read_mapping",
]

_UNITS = re.compile(r"[(\[{][^)\]}]*[)\]}]")   # "(hairs/cm2)", "[mL]", "{%}"


_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})


def _strip_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text.translate(_LIGATURES))
                   if not unicodedata.combining(ch))


def normalise_header(text: object) -> str:
    """Reduce a header (or sheet name) to its key.

    Case, accents, spaces, punctuation and anything in brackets (units) are removed; a
    trailing ``%`` or unit after the words is removed with the punctuation. ``µ`` becomes
    ``u``.

    Examples
    --------
    >>> normalise_header("Density (hairs/cm2)")
    'density'
    >>> normalise_header(" Patient-ID ")
    'patientid'
    >>> normalise_header("Hipersensibilidad 5-ARI")
    'hipersensibilidad5ari'
    """
    s = str(text).replace("\ufeff", "").replace("µ", "u").replace("μ", "u")
    s = _UNITS.sub(" ", s)
    s = _strip_accents(s).lower()
    return re.sub(r"[^0-9a-z]+", "", s)


def normalise_value(text: object) -> str:
    """Reduce a cell value to its key: accents, case and everything but letters and digits
    removed (``" Sí "`` -> ``"si"``, ``"not done"`` -> ``"notdone"``, ``"-1"`` -> ``"1"``
    is *not* wanted for numbers: use this for coded text only)."""
    return re.sub(r"[^0-9a-z]+", "", _strip_accents(str(text)).lower())


# ------------------------------------------------------------------------------ headers
_PID = ("patient id", "patient", "patient code", "patient number", "patient no", "id patient",
        "pseudonym", "subject id", "subject", "case id", "record id",
        "id paciente", "paciente", "codigo paciente", "cod paciente", "codigo del paciente",
        "n paciente", "numero de paciente", "nº paciente", "id del paciente",
        "id doente", "codigo doente", "doente", "identifiant patient", "id patient", "patient",
        "codice paziente", "id paziente", "paziente", "patienten id", "patientennummer",
        "patient nr")
_SID = ("session id", "session", "session code", "session number", "visit id", "visit",
        "treatment id", "treatment session id", "injection id",
        "id sesion", "sesion", "codigo sesion", "n sesion", "id visita", "visita",
        "id sessao", "sessao", "id seance", "seance", "id sessione", "sessione",
        "sitzung", "sitzungs id", "behandlung id")

#: contract column -> how people write its header (English, Spanish, Portuguese, French,
#: Italian, German), per table. The contract name itself is always recognised too.
HEADER_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "patients": {
        "patient_id": _PID,
        "sex": ("sex", "gender", "sexo", "genero", "género", "sexe", "genre", "sesso",
                "genere", "geschlecht", "sex m f", "sex at birth"),
        "age": ("age", "age years", "age at first session", "age at baseline", "edad",
                "edad anos", "años", "idade", "âge", "eta", "età", "alter", "age yrs"),
        "baseline_scale": ("baseline scale", "scale", "classification", "grading scale",
                           "escala", "escala basal", "escala inicial", "clasificacion",
                           "échelle", "echelle", "scala", "skala", "klassifikation"),
        "baseline_grade": ("baseline grade", "grade", "stage", "baseline stage", "grado",
                           "grado basal", "grado inicial", "estadio", "grau", "stade",
                           "grado iniziale", "stadio", "grad", "stadium", "norwood grade",
                           "ludwig grade"),
        "childbearing_potential": (
            "childbearing potential", "child bearing potential", "of childbearing potential",
            "woman of childbearing potential", "wocbp", "cbp", "fertile",
            "potencial reproductivo", "edad fertil", "en edad fertil", "mujer en edad fertil",
            "capacidad de gestacion", "potencial de embarazo", "idade fertil",
            "potentiel de procreer", "en age de procreer", "potenziale riproduttivo",
            "eta fertile", "gebärfähig", "gebarfahig", "gebärfähigkeit"),
        "contraception": ("contraception", "contraceptive", "contraceptive use",
                          "uses contraception", "reliable contraception", "anticoncepcion",
                          "anticonceptivo", "anticonceptivos", "metodo anticonceptivo",
                          "contracepcao", "contracecao", "anticoncepcional", "contraccezione",
                          "verhütung", "verhutung", "kontrazeption"),
        "minoxidil": ("minoxidil", "topical minoxidil", "minoxidil topical", "minoxidil 5",
                      "minoxidil use", "uses minoxidil", "minoxidil topico",
                      "minoxidil tópico", "minoxidil topique", "minoxidil topico",
                      "minoxidil topisch"),
        "hypersensitivity_5ari": (
            "hypersensitivity 5ari", "hypersensitivity 5 ari", "5ari hypersensitivity",
            "5 ari hypersensitivity", "hypersensitivity", "5ari allergy", "allergy 5ari",
            "dutasteride allergy", "allergy to dutasteride", "known hypersensitivity",
            "hipersensibilidad 5ari", "hipersensibilidad", "alergia 5ari",
            "alergia dutasterida", "alergia a dutasterida", "hipersensibilidade",
            "hipersensibilidade 5ari", "hypersensibilite", "hypersensibilité 5ari",
            "ipersensibilita", "ipersensibilità 5ari", "überempfindlichkeit",
            "uberempfindlichkeit", "überempfindlichkeit 5ari"),
    },
    "sessions": {
        "session_id": _SID,
        "patient_id": _PID,
        "session_date": ("session date", "date", "visit date", "treatment date",
                         "date of session", "date of treatment", "injection date",
                         "fecha", "fecha sesion", "fecha de sesion", "fecha de la sesion",
                         "fecha tratamiento", "fecha de tratamiento", "fecha visita",
                         "data", "data sessao", "data da sessao", "date seance",
                         "date de la seance", "data sessione", "data della sessione",
                         "datum", "sitzungsdatum", "behandlungsdatum"),
        "practitioner_id": ("practitioner", "practitioner id", "injector", "clinician",
                            "doctor", "nurse", "physician", "provider", "operator",
                            "treated by", "injected by", "profesional", "medico",
                            "médico", "enfermera", "enfermero", "facultativo",
                            "profissional", "praticien", "medecin", "operatore", "medico",
                            "arzt", "behandler"),
        "volume_ml": ("volume ml", "volume", "vol", "volume injected", "injected volume",
                      "total volume", "volumen", "volumen ml", "volumen inyectado",
                      "volume injetado", "volume injecte", "volume iniettato",
                      "injektionsvolumen"),
        "concentration_pct": ("concentration pct", "concentration", "concentration percent",
                              "dutasteride concentration", "dose concentration",
                              "concentracion", "concentracion dutasterida", "concentracao",
                              "concentrazione", "konzentration"),
        "pregnancy_test": ("pregnancy test", "pregnancy test result", "hcg", "beta hcg",
                           "test de embarazo", "prueba de embarazo", "test embarazo",
                           "teste de gravidez", "test de grossesse", "test di gravidanza",
                           "schwangerschaftstest"),
    },
    "measurements": {
        "patient_id": _PID,
        "measurement_date": ("measurement date", "date", "date measured", "assessment date",
                             "visit date", "date of measurement", "fecha", "fecha medicion",
                             "fecha de medicion", "fecha de la medicion", "fecha medida",
                             "data", "data medicao", "date mesure", "date de mesure",
                             "data misurazione", "datum", "messdatum"),
        "session_id": _SID,
        "site": ("site", "scalp site", "area", "zone", "region", "location", "zona", "sitio",
                 "area", "localizacion", "regiao", "local", "zone", "sito", "zona",
                 "stelle", "bereich"),
        "density_per_cm2": ("density per cm2", "density", "hair density", "density cm2",
                            "hairs per cm2", "hairs cm2", "densidad", "densidad capilar",
                            "densidad pelo", "densidade", "densidade capilar", "densite",
                            "densite capillaire", "densita", "densita capillare",
                            "haardichte", "dichte"),
        "shaft_diameter_um": ("shaft diameter um", "shaft diameter", "diameter",
                              "hair diameter", "hair shaft diameter", "thickness",
                              "hair thickness", "diametro", "diametro del tallo",
                              "grosor", "grosor capilar", "diametro do fio", "diametre",
                              "diametre du cheveu", "diametro del fusto", "haardurchmesser",
                              "durchmesser"),
        "gpa_score": ("gpa score", "gpa", "global photographic assessment",
                      "photographic assessment", "global assessment", "photo score",
                      "evaluacion fotografica", "evaluacion fotografica global",
                      "puntuacion gpa", "avaliacao fotografica", "evaluation photographique",
                      "valutazione fotografica", "fotobewertung"),
        "rater_id": ("rater", "rater id", "assessor", "evaluator", "measured by",
                     "evaluador", "evaluadora", "avaliador", "evaluateur", "valutatore",
                     "bewerter"),
    },
    "adverse_events": {
        "event_id": ("event id", "ae id", "adverse event id",
                     "side effect id", "id evento", "id efecto adverso",
                     "id ea", "id evenement", "id evento avverso", "ereignis id"),
        "patient_id": _PID,
        "session_id": _SID,
        "onset_date": ("onset date", "onset", "date of onset", "start date", "date",
                       "event date", "fecha inicio", "fecha de inicio", "fecha",
                       "fecha de aparicion", "fecha del evento", "data inicio",
                       "data de inicio", "date de debut", "date d apparition",
                       "data di insorgenza", "data inizio", "beginn", "beginndatum",
                       "datum"),
        "term": ("term", "adverse event", "side effect", "event term", "ae term",
                 "reaction", "description", "event description", "efecto adverso",
                 "efecto secundario", "evento adverso", "termino", "reaccion",
                 "descripcion", "evento", "efeito adverso", "efeito colateral",
                 "evenement indesirable", "effet indesirable", "effet secondaire",
                 "evento avverso", "effetto collaterale", "nebenwirkung",
                 "unerwunschtes ereignis"),
        "severity": ("severity", "grade", "intensity", "severidad", "gravedad",
                     "intensidad", "gravidade", "severidade", "intensidade", "severite",
                     "gravite", "intensite", "gravita", "severita", "intensita",
                     "schweregrad", "intensitat"),
        "duration_days": ("duration days", "duration", "duration d", "days", "length days",
                          "duracion", "duracion dias", "dias", "duracao", "duree",
                          "duree jours", "durata", "durata giorni", "dauer",
                          "dauer tage"),
        "serious": ("serious", "serious ae", "sae", "serious adverse event", "grave",
                    "serio", "evento grave", "grave si no", "sério", "grave",
                    "schwerwiegend"),
    },
}

#: table -> how people name its sheet (or file)
SHEET_SYNONYMS: dict[str, tuple[str, ...]] = {
    "patients": ("patients", "patient", "patient list", "patients list", "list of patients",
                 "demographics", "baseline", "pacientes", "paciente", "lista de pacientes",
                 "listado de pacientes", "datos de pacientes", "doentes", "pacientes lista",
                 "liste des patients", "pazienti", "elenco pazienti", "patienten",
                 "patientenliste"),
    "sessions": ("sessions", "session", "treatment sessions", "treatments", "treatment",
                 "visits", "injections", "sesiones", "sesion", "sesiones de tratamiento",
                 "tratamientos", "visitas", "sessoes", "seances", "sessioni",
                 "trattamenti", "sitzungen", "behandlungen"),
    "measurements": ("measurements", "measurement", "hair measurements", "assessments",
                     "trichoscopy", "mediciones", "medicion", "medidas",
                     "mediciones capilares", "tricoscopia", "medicoes", "mesures",
                     "misurazioni", "messungen"),
    "adverse_events": ("adverse events", "adverse event", "side effects", "side effect",
                       "aes", "ae", "safety", "efectos adversos", "efectos secundarios",
                       "eventos adversos", "reacciones adversas", "efeitos adversos",
                       "eventos adversos", "effets indesirables", "evenements indesirables",
                       "eventi avversi", "effetti collaterali", "nebenwirkungen"),
}


def _index(synonyms: dict[str, tuple[str, ...]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for target, words in synonyms.items():
        for w in (target, *words):
            out.setdefault(normalise_header(w), target)
    return out


_HEADER_INDEX = {t: _index(cols) for t, cols in HEADER_SYNONYMS.items()}
_SHEET_INDEX = _index(SHEET_SYNONYMS)
_KIND = {t: {c.name: c.kind for c in cols} for t, cols in COLUMNS.items()}


def header_index(table: str) -> dict[str, str]:
    """Key -> contract column, for one table (the built-in synonyms)."""
    return dict(_HEADER_INDEX[table])


def match_header(table: str, text: object) -> str | None:
    """The contract column of ``table`` a header means, or ``None``.

    Exact match of keys (:func:`normalise_header`) against the contract names and
    :data:`HEADER_SYNONYMS`; no guessing.

    >>> match_header("measurements", "Density (hairs/cm2)")
    'density_per_cm2'
    >>> match_header("patients", "Hypersensitivity 5-ARI")
    'hypersensitivity_5ari'
    >>> match_header("patients", "Notes") is None
    True
    """
    return _HEADER_INDEX[table].get(normalise_header(text))


def suggest_header(table: str, text: object, *, exclude=()) -> str | None:
    """The contract column a header that :func:`match_header` did not recognise most
    resembles by name (a "did you mean"), or ``None``.

    A header resembles a column when its key is close to a synonym's key (difflib ratio
    >= 0.8), or when one contains the other and the shorter has 5 or more characters.
    Columns in ``exclude`` (already found) are not suggested.

    >>> suggest_header("patients", "Hypersensitvity to 5-ARI")
    'hypersensitivity_5ari'
    """
    key = normalise_header(text)
    if not key:
        return None
    index = {k: c for k, c in _HEADER_INDEX[table].items() if c not in set(exclude)}
    close = difflib.get_close_matches(key, list(index), n=1, cutoff=0.8)
    if close:
        return index[close[0]]
    best, best_len = None, 0
    for k, c in index.items():
        short = min(len(k), len(key))
        if short >= 5 and (k in key or key in k) and short > best_len:
            best, best_len = c, short
    return best


def match_sheet(name: object) -> str | None:
    """The table a sheet (or file stem) name means, or ``None``.

    >>> match_sheet("Side Effects")
    'adverse_events'
    >>> match_sheet("Sesiones de tratamiento")
    'sessions'
    """
    return _SHEET_INDEX.get(normalise_header(name))


# ------------------------------------------------------------------------------ values
#: yes and no as people write them (value keys, :func:`normalise_value`)
YES_WORDS = frozenset({"yes", "y", "true", "t", "1", "si", "s", "sim", "oui", "ja", "j",
                       "vero", "verdadero", "verdadeiro", "vrai", "wahr", "checked"})
NO_WORDS = frozenset({"no", "n", "false", "f", "0", "nao", "non", "nein", "falso", "faux",
                      "unchecked"})

#: column -> value key -> contract value (choices and yes/no), all languages together.
#: Single letters that mean different things in different languages are left out of
#: ``sex`` on purpose: see :data:`AMBIGUOUS_SEX_CODES`.
VALUE_SYNONYMS: dict[str, dict[str, str]] = {
    "sex": {
        **dict.fromkeys(("f", "female", "woman", "w", "mujer", "femenino", "femenina",
                         "mulher", "feminino", "femme", "feminin", "donna", "femmina",
                         "femminile", "frau", "weiblich", "fem"), "F"),
        **dict.fromkeys(("m", "male", "man", "hombre", "varon", "masculino", "homem",
                         "homme", "masculin", "uomo", "maschio", "maschile", "mann",
                         "mannlich", "masc", "h", "v"), "M"),
    },
    "severity": {
        **dict.fromkeys(("mild", "leve", "ligero", "ligera", "leger", "legere", "lieve",
                         "leicht", "ligeiro", "ligeira", "1", "grade1", "grado1", "g1"),
                        "mild"),
        **dict.fromkeys(("moderate", "mod", "moderado", "moderada", "modere", "moderee",
                         "moderato", "moderata", "mittel", "mittelschwer", "massig",
                         "2", "grade2", "grado2", "g2"), "moderate"),
        **dict.fromkeys(("severe", "grave", "severo", "severa", "intenso", "intensa",
                         "severe", "grave", "schwer", "3", "grade3", "grado3", "g3"),
                        "severe"),
    },
    "pregnancy_test": {
        **dict.fromkeys(("negative", "neg", "negativo", "negativa", "negatif", "negative",
                         "negativ", "neg"), "negative"),
        **dict.fromkeys(("positive", "pos", "positivo", "positiva", "positif", "positiv"),
                        "positive"),
        **dict.fromkeys(("notdone", "nd", "notperformed", "norealizado", "norealizada",
                         "nohecho", "nohecha", "naorealizado", "nonfait", "nonrealise",
                         "noneseguito", "nichtdurchgefuhrt", "nichtgemacht", "notapplicable"),
                        "not_done"),
    },
}

#: a sex column holding both letters of one of these pairs is ambiguous: ``M`` is male in
#: English, mujer (female) in Spanish and Portuguese (mulher) when the other letter is
#: H (hombre/homem) or V (varón).
AMBIGUOUS_SEX_CODES: tuple[tuple[str, str], ...] = (("h", "m"), ("v", "m"))


def ambiguous_sex_codes(keys) -> tuple[str, str] | None:
    """The ambiguous pair of sex codes (value keys) found among ``keys``, or ``None``.

    >>> ambiguous_sex_codes(["h", "m"])
    ('h', 'm')
    >>> ambiguous_sex_codes(["f", "m"]) is None
    True
    """
    found = set(keys)
    for pair in AMBIGUOUS_SEX_CODES:
        if set(pair) <= found:
            return pair
    return None


def recode_values(column: str, kind: str, values: pd.Series,
                  mapped: dict[str, str] | None = None) -> pd.Series:
    """Recode the *distinct* values of a coded column to contract values.

    Parameters
    ----------
    column : str
        Contract column (``sex``, ``severity``, ``pregnancy_test``, ``baseline_scale`` or a
        yes/no column).
    kind : {"choice", "bool"}
    values : Series of str
        Distinct values as written (missing allowed).
    mapped : dict, optional
        Value key -> contract value from the mapping file; checked first.

    Returns
    -------
    Series
        Contract value (``string``; ``"yes"``/``"no"`` for yes/no columns) or ``<NA>`` where
        unrecognised or missing; same index.
    """
    from outcomes.contract import CHOICES

    values = pd.Series(values, dtype="string")
    if kind == "bool":
        table = {**dict.fromkeys(YES_WORDS, "yes"), **dict.fromkeys(NO_WORDS, "no")}
    else:
        table = {**{normalise_value(k): v for k, v in CHOICES.get(column, {}).items()},
                 **VALUE_SYNONYMS.get(column, {})}
    table.update(mapped or {})
    # a few distinct values: a plain loop is far cheaper than pandas' map machinery
    out = [table.get(normalise_value(v)) if isinstance(v, str) else None
           for v in values.tolist()]
    return pd.Series(out, index=values.index, dtype="string")


def suggest_by_content(table: str, values: pd.Series, candidates) -> list[str]:
    """Contract columns of ``table`` (among ``candidates``, the ones not found) whose kind
    the distinct ``values`` of an unrecognised column fit; ``[]`` when none or unsure.

    Fits: every value a yes/no word (yes/no columns), a recognised choice (choice columns),
    a date ``YYYY-MM-DD`` or ``DD/MM/YYYY`` (date columns). Numbers and free text are not
    matched by content (too many columns hold numbers).
    """
    v = pd.Series(values, dtype="string").dropna()
    v = v[v.str.strip() != ""]
    if len(v) == 0:
        return []
    keys = v.map(normalise_value)
    out = []
    for col in candidates:
        kind = _KIND[table].get(col)
        if kind == "bool":
            ok = keys.isin(YES_WORDS | NO_WORDS).all() and keys.nunique() <= 4
        elif kind == "choice":
            ok = recode_values(col, "choice", v).notna().all()
        elif kind == "date":
            ok = v.str.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}( .*)?|\d{1,2}[/.\-]\d{1,2}[/.\-]"
                                 r"\d{4}").all()
        else:
            ok = False
        if ok:
            out.append(col)
    return out


# ------------------------------------------------------------------------------ mapping file
@dataclass(frozen=True)
class Mapping:
    """A mapping file, read and checked (see the module docstring for the TOML).

    Attributes
    ----------
    path : str
        The file ("" when no mapping file was given).
    sheets : dict
        Sheet (or file stem) key -> table.
    columns : dict
        ``"*"`` or table -> {header key -> contract column}.
    ignore : dict
        ``"*"`` or table -> frozenset of header keys to drop unread.
    values : dict
        ``(table, column)`` -> {value key -> contract value}; yes/no columns map to
        ``"yes"``/``"no"``.
    terms : dict
        Term key (:func:`outcomes.vocabulary.normalise_term`) -> vocabulary term.
    """

    path: str = ""
    sheets: dict = field(default_factory=dict)
    columns: dict = field(default_factory=dict)
    ignore: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    terms: dict = field(default_factory=dict)

    def columns_for(self, table: str) -> dict[str, str]:
        """Header key -> contract column for ``table`` (table entries win over ``*``)."""
        return {**self.columns.get("*", {}), **self.columns.get(table, {})}

    def ignored_for(self, table: str) -> frozenset:
        """Header keys dropped unread in ``table``."""
        return self.ignore.get("*", frozenset()) | self.ignore.get(table, frozenset())


def _fail(path, what: str, fix: str, column: str = "") -> LoadError:
    return LoadError(f"mapping file {path}: {what}", fix=fix, file=str(path), column=column)


def _table_name(path, key: str, section: str) -> str:
    table = key.strip().lower().replace(" ", "_").replace("-", "_")
    if table not in TABLES:
        raise _fail(path, f"section [{section}] is not a table.",
                    f"Use one of {', '.join(TABLES)}.")
    return table


def _ignore_list(path, value, where: str) -> frozenset:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, f"ignore in {where} must be a list of headers.",
                    'Write ignore = ["Notes", "Clinic site"].')
    return frozenset(normalise_header(v) for v in value)


def read_mapping(path: str | Path | None) -> Mapping:
    """Read and check a mapping file (TOML); ``None`` -> an empty :class:`Mapping`.

    Raises
    ------
    LoadError
        Missing file, invalid TOML, a section that is not a table, a target that is not a
        contract column, a value or term the contract does not know.
    """
    if path is None:
        return Mapping()
    from outcomes.contract import CHOICES
    from outcomes.vocabulary import TERMS, normalise_term

    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise LoadError(f"mapping file {path} not found.",
                        fix="Give the path of an existing mapping file.", file=str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as err:
        raise LoadError(f"mapping file {path} is not valid TOML ({err}).",
                        fix='Write one line per column: "Header in export" = "contract_name".',
                        file=str(path)) from err
    known = {t: {c.name for c in cols} for t, cols in COLUMNS.items()}
    every = set().union(*known.values())
    columns: dict[str, dict[str, str]] = {"*": {}}
    ignore: dict[str, frozenset] = {}
    sheets: dict[str, str] = {}
    values: dict[tuple[str, str], dict[str, str]] = {}
    terms: dict[str, str] = {}

    def add_columns(table: str, items, where: str) -> None:
        section = columns.setdefault(table, {})
        allowed = every if table == "*" else known[table]
        for header, target in items:
            if header == "ignore":
                ignore[table] = ignore.get(table, frozenset()) | _ignore_list(path, target,
                                                                              where)
                continue
            name = target.strip().lower() if isinstance(target, str) else ""
            if name not in allowed:
                raise _fail(path, f"{header!r} maps to {target!r}, which is not a contract "
                            f"column{'' if table == '*' else ' of ' + table}.",
                            "Map it to a column of docs/data-dictionary.md.", str(header))
            section[normalise_header(header)] = name

    for key, value in raw.items():
        if key == "ignore":
            ignore["*"] = ignore.get("*", frozenset()) | _ignore_list(path, value, "the top")
        elif key == "sheets":
            if not isinstance(value, dict):
                raise _fail(path, "[sheets] must be a section.", '"Patient List" = "patients"')
            for sheet, table in value.items():
                if not isinstance(table, str) or table not in TABLES:
                    raise _fail(path, f"sheet {sheet!r} maps to {table!r}, not a table.",
                                f"Use one of {', '.join(TABLES)}.")
                sheets[normalise_header(sheet)] = table
        elif key == "columns":
            if not isinstance(value, dict):
                raise _fail(path, "[columns] must hold [columns.<table>] sections.",
                            '[columns.patients] then "Código" = "patient_id".')
            for tkey, items in value.items():
                if not isinstance(items, dict):     # [columns] "Header" = "column": any table
                    add_columns("*", [(tkey, items)], "[columns]")
                    continue
                add_columns(_table_name(path, tkey, f"columns.{tkey}"), items.items(),
                            f"[columns.{tkey}]")
        elif key == "values":
            if not isinstance(value, dict):
                raise _fail(path, "[values] must hold [values.<table>.<column>] sections.",
                            '[values.patients.sex] then "H" = "M".')
            for tkey, cols in value.items():
                table = _table_name(path, tkey, f"values.{tkey}")
                for col, codes in (cols.items() if isinstance(cols, dict) else []):
                    kind = _KIND[table].get(col)
                    if kind not in ("choice", "bool") or not isinstance(codes, dict):
                        raise _fail(path, f"[values.{tkey}.{col}]: {col} is not a coded "
                                    f"column of {table}.",
                                    "Recode only yes/no and choice columns (sex, severity, "
                                    "pregnancy_test, baseline_scale, yes/no columns).", col)
                    allowed = ({"yes", "no"} if kind == "bool"
                               else set(CHOICES[col].values()))
                    out = values.setdefault((table, col), {})
                    for written, target in codes.items():
                        t = target
                        if kind == "bool" and isinstance(t, bool):
                            t = "yes" if t else "no"
                        if kind == "bool" and isinstance(t, str):
                            k = normalise_value(t)
                            t = "yes" if k in YES_WORDS else "no" if k in NO_WORDS else t
                        if t not in allowed:
                            raise _fail(path, f"[values.{tkey}.{col}] {written!r} maps to "
                                        f"{target!r}.", f"Use one of {', '.join(sorted(allowed))}.",
                                        col)
                        out[normalise_value(written)] = t
        elif key == "terms":
            if not isinstance(value, dict):
                raise _fail(path, "[terms] must be a section.", '"cefalea" = "headache"')
            for written, target in value.items():
                if target not in TERMS:
                    raise _fail(path, f"[terms] {written!r} maps to {target!r}, which is not "
                                "a vocabulary term.", f"Use one of {', '.join(TERMS)}.")
                terms[normalise_term(written)] = target
        elif isinstance(value, dict):               # legacy [patients] section
            add_columns(_table_name(path, key, key), value.items(), f"[{key}]")
        else:                                       # legacy top-level line
            add_columns("*", [(key, value)], "the top")
    return Mapping(path=str(path), sheets=sheets, columns=columns, ignore=ignore,
                   values=values, terms=terms)
