"""The adverse-event vocabulary: terms, the synonyms clinics write, serious-by-nature terms.

A term as written is normalised (lower case; anything but letters and digits becomes one
space; British spellings kept as written) and looked up in :data:`SYNONYMS`. What is not found
maps to ``"other"`` and is listed by the loader, never dropped.

MedDRA preferred terms are given beside each term for reference (published-figures.md).
"""
from __future__ import annotations

import re
import unicodedata

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


_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss"})


def normalise_term(text: str) -> str:
    """Lower-case, drop accents, turn every run of non-letters/digits into one space, trim.

    >>> normalise_term("  Pain at Injection-Site! ")
    'pain at injection site'
    >>> normalise_term("Dolor en el sitio de inyección")
    'dolor en el sitio de inyeccion'
    """
    text = unicodedata.normalize("NFKD", str(text).lower().translate(_LIGATURES))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]+", " ", text).strip()


#: the same terms as clinics write them in Spanish (the seed clinic and the published
#: studies), Portuguese, French, Italian and German
_WRITTEN_OTHER: dict[str, tuple[str, ...]] = {
    "injection_site_pain": (
        # es
        "dolor en el sitio de inyeccion", "dolor en el lugar de inyeccion",
        "dolor en la zona de inyeccion", "dolor en el punto de inyeccion",
        "dolor local", "dolor a la inyeccion", "dolor durante la inyeccion",
        "dolor al inyectar", "dolor en cuero cabelludo", "dolor del cuero cabelludo",
        "molestias", "molestia", "molestias locales", "sensibilidad", "dolorimiento",
        # pt
        "dor", "dor no local da injecao", "dor no local de injecao", "dor local",
        "desconforto",
        # fr
        "douleur au point d injection", "douleur au site d injection", "douleur locale",
        "inconfort",
        # it
        "dolore", "dolore nel sito di iniezione", "dolore in sede di iniezione",
        "dolore locale", "fastidio",
        # de
        "schmerz", "schmerzen", "schmerzen an der injektionsstelle",
        "schmerz an der einstichstelle", "schmerzen an der einstichstelle",
        "lokale schmerzen",
    ),
    "frontal_edema": (
        "edema frontal", "edema de frente", "edema en la frente", "hinchazon frontal",
        "hinchazon de la frente", "hinchazon", "inflamacion de la frente", "edema",
        "edema facial", "edema periorbitario", "edema palpebral", "tumefaccion",
        "inflamacion frontal",
        "edema da testa", "inchaco", "inchaco frontal", "inchaco na testa",
        "oedeme frontal", "oedeme du front", "oedeme", "gonflement", "gonflement du front",
        "edema della fronte", "gonfiore", "gonfiore frontale", "gonfiore della fronte",
        "stirnodem", "odem", "schwellung", "schwellung der stirn", "stirnschwellung",
    ),
    "burning": (
        "ardor", "quemazon", "sensacion de quemazon", "escozor", "sensacion de ardor",
        "picor", "ardencia", "queimacao", "sensacao de queimacao",
        "brulure", "sensation de brulure", "bruciore", "sensazione di bruciore",
        "brennen", "brennendes gefuhl",
    ),
    "erythema": (
        "eritema", "enrojecimiento", "rojez", "eritema local", "enrojecimiento del cuero "
        "cabelludo", "rubor", "vermelhidao", "rougeur", "rougeurs", "erytheme",
        "arrossamento", "eritema locale", "rotung", "erythem",
    ),
    "headache": (
        "cefalea", "cefaleas", "dolor de cabeza", "jaqueca", "migrana", "cefaleia",
        "dor de cabeca", "mal de tete", "cephalee", "mal di testa", "emicrania",
        "kopfschmerz", "kopfschmerzen", "migrane",
    ),
    "paradoxical_alopecia": (
        "alopecia paradojica", "caida paradojica", "caida de pelo", "caida del cabello",
        "aumento de la caida", "efluvio", "efluvio telogeno", "queda de cabelo",
        "queda paradoxal", "chute de cheveux", "alopecie paradoxale", "effluvium telogene",
        "caduta dei capelli", "alopecia paradossa", "effluvio telogen", "haarausfall",
        "paradoxer haarausfall",
    ),
    "scarring": (
        "cicatriz", "cicatrices", "cicatrizacion", "fibrosis", "cicatriz hipertrofica",
        "cicatriz", "cicatrice", "cicatrici", "narbe", "narben", "narbenbildung",
    ),
    "acute_dermatitis": (
        "dermatitis", "dermatitis aguda", "dermatitis de contacto", "eccema", "erupcion",
        "exantema", "urticaria", "reaccion alergica", "reaccion cutanea", "dermatite",
        "dermatite aguda", "reacao alergica", "eczema", "eruption", "reaction allergique",
        "dermatite aigue", "reazione allergica", "eruzione cutanea", "dermatitis akut",
        "kontaktdermatitis", "ausschlag", "allergische reaktion", "ekzem",
    ),
    "sperm_abnormality": (
        "alteracion del semen", "oligospermia", "recuento espermatico bajo",
        "disminucion del recuento de espermatozoides", "astenozoospermia",
        "alteracao do esperma", "anomalie du sperme", "alterazione dello sperma",
        "spermienanomalie",
    ),
    "sexual_dysfunction": (
        "disfuncion sexual", "disfuncion erectil", "disminucion de la libido",
        "perdida de libido", "libido disminuida", "bajo deseo sexual",
        "trastorno de la eyaculacion", "disfuncao sexual", "disfuncao eretil",
        "diminuicao da libido", "dysfonction sexuelle", "dysfonction erectile",
        "baisse de libido", "disfunzione sessuale", "disfunzione erettile",
        "calo della libido", "sexuelle dysfunktion", "erektile dysfunktion",
        "libidoverlust", "verminderte libido",
    ),
    "other": ("otro", "otros", "outro", "autre", "altro", "andere", "sonstiges"),
}

#: normalised spelling -> term (each term's own name, with spaces, maps to itself)
SYNONYMS: dict[str, str] = {
    normalise_term(w): term
    for source in (_WRITTEN, _WRITTEN_OTHER) for term, written in source.items()
    for w in (term, *written)
}


def map_term(text: str | None) -> str | None:
    """Map one term as written to the vocabulary (``"other"`` when unmapped, None if missing)."""
    if text is None or pd.isna(text):
        return None
    return SYNONYMS.get(normalise_term(text), "other")


def map_terms(terms: pd.Series, mapped: dict | None = None) -> pd.Series:
    """Map terms as written to the vocabulary, vectorised.

    Parameters
    ----------
    terms : pandas.Series of str
        Terms as the clinic wrote them; missing values allowed.
    mapped : dict, optional
        Term key (:func:`normalise_term`) -> vocabulary term, from the mapping file's
        ``[terms]``; checked before :data:`SYNONYMS`.

    Returns
    -------
    pandas.Series of string dtype
        One of :data:`TERMS` per value (``"other"`` when unmapped), ``<NA>`` where missing;
        same index as ``terms``.
    """
    s = terms.astype("string")
    table = {**SYNONYMS, **(mapped or {})} if mapped else SYNONYMS
    # the loader passes the distinct terms: a plain loop is far cheaper than Series.map
    out = [None if v is pd.NA else table.get(normalise_term(v), "other")
           for v in s.tolist()]
    return pd.Series(out, index=s.index, dtype="string", name=s.name)
