"""Issue 11 items 5 and 9 in the report: interval labels follow the confidence setting, every
page states the multiplicity and links the outcome definitions, the photographic sensitivity
table, and docs/outcome-definitions.md holds every definition (in-process, no kernel)."""
from __future__ import annotations

import json
import re
from dataclasses import fields
from importlib import resources
from pathlib import Path

import pytest

from cohort_builder import REFERENCE_CUTOFF, reference_export
from outcomes import response, sections, tables
from outcomes.cohort import build_cohort
from outcomes.definitions import Definitions
from outcomes.reporting import definitions_html, report_context, write_definitions_page

ROOT = Path(__file__).resolve().parents[1]

PAGES = {
    "efficacy": ["efficacy_summary", "against_published", "hair_density",
                 "practitioners_and_quarters", "patient_groups", "density_model",
                 "reading_notes"],
    "safety": ["safety_summary", "adverse_events", "reading_notes"],
    "audit": ["headline", "response_summary", "protocol_and_screening", "reading_notes"],
}


@pytest.fixture(scope="module")
def ctx90(tmp_path_factory):
    toml = tmp_path_factory.mktemp("defs") / "definitions.toml"
    toml.write_text("confidence = 0.9\n")
    return report_context(quarter="2026Q3", definitions=str(toml))


def test_interval_labels_follow_the_confidence_setting(ctx90):
    assert ctx90.analysis.definitions.confidence == 0.9
    for page, names in PAGES.items():
        for name in names:
            html = getattr(sections, name)(ctx90).html
            text = re.sub(r'src="data:[^"]+"', "", html)
            # the one published interval quoted as such (Herz-Ruelas: 95% CI 7.14 to 8.66) is
            # a published figure, not ours
            assert "95% CI" not in text.replace("95% CI 7.14", ""), (page, name)
    html = sections.against_published(ctx90).html
    assert "<th>90% CI</th>" in html and "Your rate minus the study's (90% CI)" in html
    assert "(90% CI" in sections.efficacy_summary(ctx90).html


def _legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_figure_labels_follow_the_level(ctx90):
    import matplotlib.pyplot  # here, not at module level: ~0.5 s of imports to collect

    from outcomes import figures  # (sets the Agg backend)

    a = ctx90.analysis
    ax = figures.density_sensitivity_plot(a.density_sensitivity, level=0.9)
    assert "90% CI" in _legend(ax)
    ax = figures.ae_incidence_plot(a.adverse_events, level=0.9)
    assert "Your clinic (90% CI)" in _legend(ax)
    ax = figures.forest_plot(a.response, level=0.9)
    assert any("90% CI" in t for t in _legend(ax))
    ax = figures.funnel_plot(a.funnel.assign(flag="above 99.8%"), levels=(0.9, 0.99))
    assert "Practitioner outside 90% limits" in _legend(ax)
    matplotlib.pyplot.close("all")


def test_photographic_sensitivity_by_construction():
    # the reference cohort's 111 photographed patients: 88 at >= +1, 43 at >= +2 and 17 at
    # +3 (15 comparable: the day-450 +3 and the 14 odd j of the 29 marked at 2 + j % 2; and
    # 2 with minoxidil not recorded). R: prop.test(17, 111, correct = FALSE)$conf.int
    # 0.0978747637 0.2316356692
    c = build_cohort(reference_export(), cutoff=REFERENCE_CUTOFF)
    t = response.photographic_sensitivity(c)
    assert t["threshold"].tolist() == [1, 2, 3]
    assert list(zip(t["k"], t["n"])) == [(88, 111), (43, 111), (17, 111)]
    assert t.loc[2, "ci_low"] == pytest.approx(0.0978747637, abs=1e-9)
    assert t.loc[2, "ci_high"] == pytest.approx(0.2316356692, abs=1e-9)
    shown = tables.photographic_sensitivity_table(t, confidence=0.9)
    assert shown.columns.tolist() == ["Photographs scored at least", "Patients (n)", "Of (n)",
                                      "Rate", "90% CI"]
    assert shown["Photographs scored at least"].tolist() == ["+1", "+2", "+3"]


def test_sample_sensitivity_and_efficacy_page(ctx90):
    t = ctx90.analysis.photographic_sensitivity
    # the sample at 2026Q3: 105, 61 and 14 of the 135 photographed patients
    assert list(zip(t["k"], t["n"])) == [(105, 135), (61, 135), (14, 135)]
    html = sections.against_published(ctx90).html
    assert "Photographic threshold" in html and "Photographs scored at least" in html


def test_every_report_page_states_multiplicity_and_links_the_definitions():
    for nb_name in ("01-data-quality", "02-efficacy", "03-safety", "04-quarterly-audit",
                    "05-protocol", "90-pooled"):
        nb = json.loads(resources.files("outcomes").joinpath(
            "notebooks", f"{nb_name}.ipynb").read_text(encoding="utf-8"))
        sources = ["".join(c["source"]).strip() for c in nb["cells"]]
        assert "sections.reading_notes(ctx)" in sources, nb_name


def test_reading_notes_section(ctx90):
    html = sections.reading_notes(ctx90).html
    assert "This report makes " in html and "at the 10% level" in html
    assert f'<a href="{sections.DEFINITIONS_PAGE}">outcome definitions</a>' in html
    assert "Holm-adjusted" in html


def test_definitions_page_and_docs(tmp_path):
    doc = (ROOT / "docs" / "outcome-definitions.md").read_text(encoding="utf-8")
    # every definition a report uses is in the document, by its setting's name
    for f in fields(Definitions):
        assert f"`{f.name}`" in doc, f.name
    for words in ("69 / 86", "33 / 86", "246 / 541", "0 / 541", "doi:10.36849/JDD.6610",
                  "derived", "worst case", "Fisher", "Newcombe", "80% power", "Holm",
                  "Paule-Mandel", "mesotherapy alone"):
        assert words in doc, words
    # the package's copy is the same document, and the report writes it as a page
    assert resources.files("outcomes").joinpath("data", "outcome-definitions.md").read_text(
        encoding="utf-8") == doc
    page = write_definitions_page(tmp_path)
    assert page.name == sections.DEFINITIONS_PAGE
    html = page.read_text(encoding="utf-8")
    assert html == definitions_html() and "<table>" in html and "<script" not in html
    assert "Saceda-Corralo" in html and 'src="http' not in html
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/outcome-definitions.md)" in readme
