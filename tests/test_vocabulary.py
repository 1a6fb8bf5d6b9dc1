"""The adverse-event vocabulary: terms, synonyms, serious-by-nature, vectorised mapping."""
from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.vocabulary import SERIOUS_BY_NATURE, SYNONYMS, TERMS, map_term, map_terms

# terms as clinics write them (issue 2, data-contract.md, the clinic page) -> vocabulary term
WRITTEN = {
    "pain at injection site": "injection_site_pain",
    "PAIN": "injection_site_pain",
    "injection pain": "injection_site_pain",
    "Injection-site pain.": "injection_site_pain",
    "forehead swelling": "frontal_edema",
    "Frontal oedema": "frontal_edema",
    "frontal edema": "frontal_edema",
    "redness": "erythema",
    "burning sensation": "burning",
    "Headache": "headache",
    "paradoxical hair loss": "paradoxical_alopecia",
    "shedding": "paradoxical_alopecia",
    "Paradoxical alopecia": "paradoxical_alopecia",
    "scarring": "scarring",
    "contact dermatitis": "acute_dermatitis",
    "low sperm count": "sperm_abnormality",
    "reduced motility": "sperm_abnormality",
    "Reduced sperm count": "sperm_abnormality",
    "erectile dysfunction": "sexual_dysfunction",
    "decreased libido": "sexual_dysfunction",
    "injection_site_pain": "injection_site_pain",
    "other": "other",
    "felt dizzy": "other",
}


def test_terms_of_the_contract():
    # data-contract.md, "Event vocabulary"
    assert TERMS == ("injection_site_pain", "frontal_edema", "burning", "erythema", "headache",
                     "paradoxical_alopecia", "scarring", "acute_dermatitis",
                     "sperm_abnormality", "sexual_dysfunction", "other")
    assert SERIOUS_BY_NATURE == {"paradoxical_alopecia", "scarring", "acute_dermatitis",
                                 "sperm_abnormality"}
    assert set(SYNONYMS.values()) == set(TERMS)


@pytest.mark.parametrize("written,term", WRITTEN.items())
def test_written_terms(written, term):
    assert map_term(written) == term


def test_map_terms_vectorised_keeps_index_and_missing():
    s = pd.Series(list(WRITTEN) + [None], index=range(10, 10 + len(WRITTEN) + 1))
    out = map_terms(s)
    assert out.index.equals(s.index)
    assert out.dtype == pd.StringDtype()
    assert out.iloc[:-1].tolist() == list(WRITTEN.values())
    assert out.isna().tolist() == [False] * len(WRITTEN) + [True]


def test_sample_generator_terms_map_to_their_term():
    from outcomes.sample import TERMS_AS_WRITTEN

    for term, written in TERMS_AS_WRITTEN.items():
        assert map_terms(pd.Series([w for w, _ in written])).eq(term).all(), term


@settings(max_examples=50, deadline=None)
@given(text=st.text(max_size=30), case=st.sampled_from([str.upper, str.lower, str.title]),
       pad=st.sampled_from(["", " ", "  .", "!"]))
def test_case_space_punctuation_insensitive_and_total(text, case, pad):
    one = map_term(text)
    assert one in TERMS
    assert map_term(pad + case(text) + pad) == one or case(text).lower() != text.lower()
    assert map_terms(pd.Series([text])).iloc[0] == one
