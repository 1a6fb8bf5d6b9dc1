"""outcomes.labels: every code the sample's analysis shows has its words, in every use."""
from __future__ import annotations

from outcomes import labels


def test_every_response_code_has_figure_table_and_sentence_words(sample_context):
    a = sample_context.analysis
    codes = set(a.response["family"]) | set(a.response["group"]) | set(a.response["outcome"])
    assert codes <= set(labels.RESPONSE), codes - set(labels.RESPONSE)
    for words in (labels.FIGURE, labels.TABLE, labels.SENTENCE):
        assert codes <= set(words)


def test_every_flow_step_and_deviation_has_words(sample_context):
    from outcomes.audit import _FINDING_ORDER
    from outcomes.protocol import DEVIATIONS

    a = sample_context.analysis
    assert set(a.flow["step"]) <= set(labels.FLOW_STEPS), \
        set(a.flow["step"]) - set(labels.FLOW_STEPS)
    assert list(DEVIATIONS) == list(labels.DEVIATIONS) == list(a.screening["deviation"])
    assert set(_FINDING_ORDER) | {"sentinel_events"} == set(labels.FINDINGS)
    assert set(labels.DEVIATIONS) <= set(labels.TABLE)


def test_label_capitalises_and_falls_back_to_the_code():
    assert labels.label("comparable", labels.FIGURE) == "Mesotherapy alone"
    assert labels.label("comparable", labels.TABLE) == "Mesotherapy alone"
    assert labels.label("photographic", labels.TABLE) == "Photographs (GPA)"
    assert labels.label("frontal_edema", labels.TABLE) == "Frontal edema"
    assert labels.label(3, labels.FIGURE) == "3"
