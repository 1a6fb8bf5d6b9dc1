"""The words a reader sees for the codes of an Analysis, in one place.

A code of the tidy frames (a family, group or outcome of ``response``, a step of ``flow``, a
screening deviation) is read in up to three places, and each place words it its own way for a
reason. The tables below set the wordings side by side, so that a change of wording is made
here once and every figure, table and sentence follows:

- **figure**: a short label on an axis, in a legend or a figure title. Space is short and a
  legend puts the counts in brackets after it, so the worst case is "improved, worst case"
  (not "improved (worst case) (12/20)"); the group is lower case after a comma;
- **table**: a cell or row label of a presentation table, capitalised, naming the measure in
  full ("Photographs (GPA)": the table's note says what GPA is);
- **sentence**: the words inside a plain-language sentence, where the outcome is a rate
  ("your marked-improvement rate (photographs, mesotherapy alone)").

A code not listed is shown as written, with spaces for underscores (``frontal_edema`` ->
"Frontal edema"): adverse-event terms and strata levels need no entry.

This module imports nothing of the package; :mod:`outcomes.figures`, :mod:`outcomes.tables`,
:mod:`outcomes.text`, :mod:`outcomes.protocol` and :mod:`outcomes.audit_report` read it.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

__all__ = ["Words", "RESPONSE", "FIGURE", "TABLE", "SENTENCE", "FLOW_STEPS", "Deviation",
           "DEVIATIONS", "FINDINGS", "label"]


class Words(NamedTuple):
    """One code's words: in a figure, in a table, in a sentence."""

    figure: str
    table: str
    sentence: str


#: the family, group and outcome of a ``response`` row
RESPONSE: dict[str, Words] = {
    # code                      figure                   table                     sentence
    "photographic": Words("Photographic", "Photographs (GPA)", "photographs"),
    "density": Words("Density", "Hair density", "hair density"),
    "all": Words("all patients", "All patients", "all patients"),
    "comparable": Words("mesotherapy alone", "Mesotherapy alone", "mesotherapy alone"),
    "improved": Words("improved", "Improved", "improved rate"),
    "dramatic": Words("marked improvement", "Marked improvement", "marked-improvement rate"),
    "worst_case_improved": Words("improved, worst case", "Improved (worst case)",
                                 "worst-case improved rate"),
}

#: the steps of ``flow``, as a table row and a figure's axis label read them
FLOW_STEPS = {
    "registered": "Registered in the export", "treated": "Treated (at least one session)",
    "not_treated": "Registered, never treated", "due_12m": "Due for the 12-month assessment",
    "assessed_photographic": "Assessed at 12 months: photographs",
    "lost_photographic": "Due, no photographs at 12 months",
    "assessed_density": "Assessed at 12 months: hair density",
    "lost_density": "Due, no hair density at 12 months",
    "comparable_treated": "Mesotherapy alone: treated",
    "minoxidil_not_recorded": "Minoxidil not recorded (not counted as mesotherapy alone)",
    "comparable_due_12m": "Mesotherapy alone: due for the 12-month assessment",
    "comparable_assessed_photographic": "Mesotherapy alone: assessed with photographs",
    "excluded_after_cutoff_sessions": "Sessions after the cut-off (left out)",
    "excluded_after_cutoff_measurements": "Measurements after the cut-off (left out)",
    "excluded_after_cutoff_adverse_events": "Adverse events after the cut-off (left out)",
}


class Deviation(NamedTuple):
    """One screening deviation's words."""

    #: what the deviation is (the audit's findings list, :data:`outcomes.protocol.DEVIATIONS`)
    definition: str
    #: the row of the screening tables
    table: str
    #: the row of the audit page's safety box and findings table
    finding: str


#: the screening deviations of ``screening``, in display order
DEVIATIONS: dict[str, Deviation] = {
    "hypersensitivity_5ari": Deviation(
        "session given to a patient with known 5-ARI hypersensitivity",
        "Known 5-alpha-reductase inhibitor hypersensitivity",
        "Session despite known 5-ARI hypersensitivity"),
    "wocbp_without_contraception": Deviation(
        "session given to a woman of childbearing potential without reliable contraception "
        "recorded",
        "Childbearing potential, no contraception",
        "Session without contraception recorded (woman of childbearing potential)"),
    "positive_pregnancy_test": Deviation(
        "session given with a positive pregnancy test",
        "Positive pregnancy test",
        "Session after a positive pregnancy test"),
    "wocbp_no_pregnancy_test": Deviation(
        "session given to a woman of childbearing potential with no pregnancy test recorded "
        "(missing or not done)",
        "Childbearing potential, no pregnancy test recorded",
        "Session with no pregnancy test recorded (woman of childbearing potential)"),
}

#: a figure's words for a code (axis labels, legends, titles)
FIGURE: dict[str, str] = {code: w.figure for code, w in RESPONSE.items()}

#: a presentation table's words for a code (cells, row labels)
TABLE: dict[str, str] = {
    **{code: w.table for code, w in RESPONSE.items()},
    "absolute_per_cm2": "Absolute change (hairs/cm²)", "relative": "Relative change (%)",
    **{code: d.table for code, d in DEVIATIONS.items()},
    "serious": "Serious events",
    **FLOW_STEPS,
}

#: a sentence's words for a family, group or outcome code
SENTENCE: dict[str, str] = {code: w.sentence for code, w in RESPONSE.items()}

#: the audit page's findings: the screening deviations and the sentinel events
FINDINGS: dict[str, str] = {
    "sentinel_events": "Sentinel adverse event",
    **{code: d.finding for code, d in DEVIATIONS.items()},
}


def label(code, words: Mapping[str, str]) -> str:
    """A code's label from one of the tables above, first letter capitalised.

    Parameters
    ----------
    code : object
        A code such as ``"comparable"`` or ``"frontal_edema"``.
    words : mapping
        :data:`FIGURE` or :data:`TABLE`.

    Returns
    -------
    str
        ``words[code]``, else the code with spaces for underscores; first letter upper case.

    Examples
    --------
    >>> label("comparable", TABLE), label("frontal_edema", FIGURE)
    ('Mesotherapy alone', 'Frontal edema')
    """
    text = words.get(str(code), str(code).replace("_", " "))
    return text[:1].upper() + text[1:]
