"""The data contract in code: tables, columns, types, requirements, ranges and spellings.

This module is the single place that says what a clinic export must hold (see
``docs/data-dictionary.md`` for the user-facing version). It holds no logic beyond a few tiny
helpers on names; :mod:`outcomes.read` and :mod:`outcomes.validate` apply it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# no pandas at import (looks_like_contact imports it): outcomes.csvread, which starts reading
# files before pandas is imported, takes its names from here

__all__ = [
    "Column",
    "TABLES",
    "REQUIRED_TABLES",
    "COLUMNS",
    "CLEAN_COLUMNS",
    "MIN_SESSION_DATE",
    "TRUE_SPELLINGS",
    "FALSE_SPELLINGS",
    "NULL_SPELLINGS",
    "SEX_SPELLINGS",
    "SCALE_SPELLINGS",
    "PREGNANCY_TEST_SPELLINGS",
    "SEVERITY_SPELLINGS",
    "normalise_name",
    "identifier_reason",
    "looks_like_contact",
]


@dataclass(frozen=True)
class Column:
    """One column of the contract.

    Parameters
    ----------
    name : str
        The contract name (snake_case).
    kind : str
        ``"id"`` (text key), ``"text"``, ``"choice"`` (one of a few spellings), ``"bool"``
        (yes/no), ``"int"`` (whole number), ``"float"`` (number) or ``"date"``.
    required : bool
        Whether every row must have a value (conditional requirements live in validate).
    low, high : float, optional
        Inclusive range for numbers; ``low_open`` makes the lower bound exclusive.
    """

    name: str
    kind: str
    required: bool = False
    low: float | None = None
    high: float | None = None
    low_open: bool = False


TABLES: tuple[str, ...] = ("patients", "sessions", "measurements", "adverse_events")
REQUIRED_TABLES: tuple[str, ...] = ("patients", "sessions")

#: every column a clinic may export, per table, in contract order
COLUMNS: dict[str, tuple[Column, ...]] = {
    "patients": (
        Column("patient_id", "id", True),
        Column("sex", "choice", True),
        Column("age", "int", True, 18, 100),
        Column("baseline_scale", "choice"),
        Column("baseline_grade", "text"),
        Column("childbearing_potential", "bool"),   # required when sex is F
        Column("contraception", "bool"),            # required when childbearing_potential
        Column("minoxidil", "bool"),
        Column("hypersensitivity_5ari", "bool"),
    ),
    "sessions": (
        Column("session_id", "id", True),
        Column("patient_id", "id", True),
        Column("session_date", "date", True),
        Column("practitioner_id", "text"),
        Column("volume_ml", "float", False, 0, 10, low_open=True),
        Column("concentration_pct", "float", False, 0, 100, low_open=True),
        Column("pregnancy_test", "choice"),
    ),
    "measurements": (
        Column("patient_id", "id", True),
        Column("measurement_date", "date", True),
        Column("session_id", "id"),
        Column("site", "text"),
        Column("density_per_cm2", "float", False, 0, 600),
        Column("shaft_diameter_um", "float", False, 5, 200),
        Column("gpa_score", "int", False, -3, 3),
        Column("rater_id", "text"),
    ),
    "adverse_events": (
        Column("event_id", "id", True),
        Column("patient_id", "id", True),
        Column("session_id", "id"),
        Column("onset_date", "date", True),
        Column("term", "text", True),
        Column("severity", "choice"),
        Column("duration_days", "float", False, 0, None),
        Column("serious", "bool"),
    ),
}

#: the columns of the clean tables load() returns, in order (adds ``term_as_written``)
CLEAN_COLUMNS: dict[str, tuple[str, ...]] = {
    t: tuple(c.name for c in cols) for t, cols in COLUMNS.items()
}
CLEAN_COLUMNS["adverse_events"] = (
    "event_id", "patient_id", "session_id", "onset_date", "term", "term_as_written",
    "severity", "duration_days", "serious",
)

#: sessions before this day are treated as typing errors
MIN_SESSION_DATE = "2000-01-01"

# Spellings are compared after lower-casing and stripping spaces at both ends.
TRUE_SPELLINGS = frozenset({"yes", "y", "true", "t", "1", "oui", "si", "sí", "ja"})
FALSE_SPELLINGS = frozenset({"no", "n", "false", "f", "0", "non", "nein"})
#: cell contents read as "no value"
NULL_SPELLINGS = frozenset({"", "na", "n/a", "nan", "null", "none", "#n/a"})

# Choice spellings: compared after lower-casing and removing everything but letters and digits.
SEX_SPELLINGS = {"f": "F", "female": "F", "woman": "F", "w": "F",
                 "m": "M", "male": "M", "man": "M"}
SCALE_SPELLINGS = {
    "norwoodhamilton": "Norwood-Hamilton", "hamiltonnorwood": "Norwood-Hamilton",
    "norwood": "Norwood-Hamilton", "hamilton": "Norwood-Hamilton", "nh": "Norwood-Hamilton",
    "ludwig": "Ludwig", "sinclair": "Sinclair", "olsen": "Olsen",
}
PREGNANCY_TEST_SPELLINGS = {"negative": "negative", "neg": "negative",
                            "positive": "positive", "pos": "positive",
                            "notdone": "not_done", "nd": "not_done", "notperformed": "not_done"}
SEVERITY_SPELLINGS = {"mild": "mild", "moderate": "moderate", "mod": "moderate",
                      "severe": "severe"}

#: the accepted spellings of each choice column (after normalisation)
CHOICES: dict[str, dict[str, str]] = {
    "sex": SEX_SPELLINGS,
    "baseline_scale": SCALE_SPELLINGS,
    "pregnancy_test": PREGNANCY_TEST_SPELLINGS,
    "severity": SEVERITY_SPELLINGS,
}

# --- identifier guard ---------------------------------------------------------------------
# Checked on the header squeezed to letters and digits ("Date of Birth" -> "dateofbirth").
_IDENTIFIER_PARTS = {
    "name": "a name", "email": "an e-mail address", "phone": "a phone number",
    "mobile": "a phone number", "telephone": "a phone number", "address": "an address",
    "street": "an address", "postcode": "an address", "postalcode": "an address",
    "zipcode": "an address", "birth": "a date of birth", "dob": "a date of birth",
    "healthcard": "a health-card number", "medicalrecord": "a medical-record number",
    "mrn": "a medical-record number", "socialinsurance": "a social insurance number",
    "socialsecurity": "a social security number", "note": "free text",
    "comment": "free text", "remark": "free text",
}
# Checked as whole words of the header ("SIN", "ssn", "tel", "zip").
_IDENTIFIER_WORDS = {
    "sin": "a social insurance number", "ssn": "a social security number",
    "tel": "a phone number", "zip": "an address", "nhs": "a health-card number",
    "ohip": "a health-card number", "ramq": "a health-card number",
}

_EMAIL = r"[^@\s]+@[^@\s]+\.[^@\s]+"
# a phone or card number: optional +, then digits with spaces, dots, dashes or brackets,
# nine or more digits in all
_PHONE = r"\+?[\s().\-/]*(\d[\s().\-/]*){9,}"
_CONTACT = f"^{_EMAIL}$|^{_PHONE}$"


def normalise_name(name: object) -> str:
    """Return a header as the contract writes it.

    Lower-case, trimmed, runs of spaces, hyphens and dots made one underscore,
    e.g. ``" Patient-ID "`` -> ``"patient_id"``.
    """
    text = str(name).replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s\-.]+", "_", text).strip("_")


def identifier_reason(name: str) -> str | None:
    """Say what identifier a column name marks, or ``None`` when it marks none.

    Examples
    --------
    >>> identifier_reason("Date of Birth")
    'a date of birth'
    >>> identifier_reason("practitioner_id") is None
    True
    """
    squeezed = re.sub(r"[^a-z0-9]", "", str(name).lower())
    for part, reason in _IDENTIFIER_PARTS.items():
        if part in squeezed:
            return reason
    words = set(re.split(r"[^a-z0-9]+", str(name).lower()))
    for word, reason in _IDENTIFIER_WORDS.items():
        if word in words:
            return reason
    return None


def looks_like_contact(values):
    """Flag identifier values that look like e-mail addresses or phone/card numbers.

    Parameters
    ----------
    values : pandas.Series of str
        Identifier values (missing allowed).

    Returns
    -------
    pandas.Series of bool
        True where the value is an e-mail address, or is made of nine or more digits
        (optionally with ``+``, spaces, dots, dashes, slashes or brackets).
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values.astype("string").array)
    # only a value with an "@" or of nine or more characters can match (an e-mail address
    # needs its "@", a phone/card number nine digits): the regex runs on those alone
    maybe = pc.or_(pc.match_substring(arr, "@"), pc.greater_equal(pc.utf8_length(arr), 9))
    where = np.flatnonzero(np.asarray(pc.fill_null(maybe, False).to_numpy(zero_copy_only=False),
                                      dtype=bool))
    flag = np.zeros(len(arr), dtype=bool)
    if where.size:
        hit = pc.fill_null(pc.match_substring_regex(arr.take(where), _CONTACT), False)
        flag[where] = np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)
    return pd.Series(flag, index=values.index)
