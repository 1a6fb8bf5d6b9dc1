"""The adverse-event vocabulary: terms, the synonyms clinics write, serious-by-nature terms.

A term as written is normalised (lower case; anything but letters and digits becomes one
space; British spellings kept as written) and looked up in :data:`SYNONYMS`. What is not found
maps to ``"other"`` and is listed by the loader, never dropped.

MedDRA preferred terms are given beside each term for reference (published-figures.md).
"""
from __future__ import annotations

import re

import pandas as pd

__all__ = ["TERMS", "SYNONYMS", "SERIOUS_BY_NATURE", "normalise_term", "map_term", "map_terms"]

#: the vocabulary, in display order; ``other`` collects everything unmapped
TERMS: tuple[str, ...] = (
    "injection_site_pain",   # MedDRA PT 10022086 injection site pain
    "frontal_edema",         # forehead / periorbital swelling after scalp injections
    "burning",               # burning sensation at the injection site
    "erythema",              # MedDRA PT 10022061 injection site erythema
    "headache",              # MedDRA PT 10019211
    "paradoxical_alopecia",  # shedding or hair loss after injection (sentinel)
    "scarring",              # (sentinel)
    "acute_dermatitis",      # (sentinel)
    "sperm_abnormality",     # reduced sperm count or motility (sentinel)
    "sexual_dysfunction",    # erectile dysfunction, decreased libido, ejaculation disorder
    "other",
)

#: always reviewed case by case (plus any event marked serious)
SERIOUS_BY_NATURE: frozenset[str] = frozenset(
    {"paradoxical_alopecia", "scarring", "acute_dermatitis", "sperm_abnormality"}
)

_WRITTEN: dict[str, tuple[str, ...]] = {
    "injection_site_pain": (
        "injection site pain", "pain at injection site", "pain at the injection site",
        "pain at injection sites", "pain at the injection sites", "injection pain",
        "pain on injection", "pain during injection", "painful injection", "painful injections",
        "pain", "scalp pain", "local pain", "site pain", "injection site tenderness",
        "tenderness", "discomfort", "injection discomfort", "soreness", "sore scalp",
        "procedural pain", "douleur", "dolor",
    ),
    "frontal_edema": (
        "frontal edema", "frontal oedema", "forehead swelling", "swelling of forehead",
        "swelling of the forehead", "forehead edema", "forehead oedema", "frontal swelling",
        "edema", "oedema", "swelling", "facial swelling", "facial edema", "facial oedema",
        "periorbital edema", "periorbital oedema", "eyelid swelling", "swollen forehead",
        "injection site swelling", "scalp swelling",
    ),
    "burning": (
        "burning", "burning sensation", "burn", "burning at injection site",
        "stinging", "sting", "injection site burning",
    ),
    "erythema": (
        "erythema", "redness", "red", "scalp redness", "injection site erythema",
        "injection site redness", "flushing", "red scalp",
    ),
    "headache": ("headache", "headaches", "head ache", "cephalalgia", "migraine"),
    "paradoxical_alopecia": (
        "paradoxical alopecia", "paradoxical hair loss", "paradoxical shedding", "shedding",
        "hair shedding", "increased shedding", "increased hair loss", "hair loss",
        "worsening hair loss", "alopecia", "telogen effluvium", "patchy hair loss",
        "alopecia areata like", "alopecic patch", "alopecic patches",
    ),
    "scarring": ("scarring", "scar", "scars", "scarring alopecia", "fibrosis", "cicatrix"),
    "acute_dermatitis": (
        "acute dermatitis", "dermatitis", "contact dermatitis", "eczema", "rash",
        "allergic reaction", "skin reaction", "allergic dermatitis", "urticaria", "hives",
    ),
    "sperm_abnormality": (
        "sperm abnormality", "low sperm count", "reduced sperm count", "decreased sperm count",
        "oligospermia", "oligozoospermia", "reduced motility", "reduced sperm motility",
        "decreased sperm motility", "low motility", "asthenozoospermia", "abnormal semen",
        "abnormal semen analysis", "semen abnormality", "sperm count decreased",
    ),
    "sexual_dysfunction": (
        "sexual dysfunction", "erectile dysfunction", "ed", "impotence", "decreased libido",
        "reduced libido", "low libido", "loss of libido", "libido decreased", "libido loss",
        "ejaculation disorder", "ejaculatory dysfunction", "reduced ejaculate volume",
        "decreased ejaculate volume", "sexual side effects",
    ),
    "other": ("other",),
}


def normalise_term(text: str) -> str:
    """Lower-case, turn every run of non-letters/digits into one space, trim.

    >>> normalise_term("  Pain at Injection-Site! ")
    'pain at injection site'
    """
    return re.sub(r"[^0-9a-zà-ÿ]+", " ", str(text).lower()).strip()


#: normalised spelling -> term (each term's own name, with spaces, maps to itself)
SYNONYMS: dict[str, str] = {
    normalise_term(w): term for term, written in _WRITTEN.items() for w in (term, *written)
}


def map_term(text: str | None) -> str | None:
    """Map one term as written to the vocabulary (``"other"`` when unmapped, None if missing)."""
    if text is None or pd.isna(text):
        return None
    return SYNONYMS.get(normalise_term(text), "other")


def map_terms(terms: pd.Series) -> pd.Series:
    """Map terms as written to the vocabulary, vectorised.

    Parameters
    ----------
    terms : pandas.Series of str
        Terms as the clinic wrote them; missing values allowed.

    Returns
    -------
    pandas.Series of string dtype
        One of :data:`TERMS` per value (``"other"`` when unmapped), ``<NA>`` where missing;
        same index as ``terms``.
    """
    s = terms.astype("string")
    key = (s.str.lower().str.replace(r"[^0-9a-zà-ÿ]+", " ", regex=True).str.strip())
    mapped = key.map(SYNONYMS).astype("string")
    return mapped.mask(mapped.isna() & s.notna(), "other")
