"""outcomes.sections in-process (no kernel): every section of every page, internal and
shareable; and the committed notebooks are thin (parameters, one set-up call, one call per
section)."""
from __future__ import annotations

import ast
import re
from importlib import resources

import nbformat
import pytest

from outcomes import sections
from outcomes.reporting import NOTEBOOKS, ReportContext

PAGE_SECTIONS = {
    "data_quality": ["data_quality_intro", "load_counts", "quarantine_reasons",
                     "quarantine_rows"],
    "efficacy": ["efficacy_summary", "who_was_assessed", "against_published", "hair_density",
                 "practitioners_and_quarters", "patient_groups", "density_model"],
    "safety": ["safety_summary", "adverse_events", "edema_by_session", "sentinel_events"],
    "audit": ["headline", "headline_figure", "page_links", "patients", "response_summary",
              "safety_overview", "protocol_and_screening"],
    "protocol": ["protocol_adherence", "screening"],
}


@pytest.fixture(scope="module")
def internal_ctx(sample_context) -> ReportContext:
    return sample_context


@pytest.fixture(scope="module")
def shareable_ctx(internal_ctx) -> ReportContext:
    """The sample's context as ``outcomes report --shareable`` builds it without a clinic key:
    counts rounded under the data's own key (``prepare_report``), practitioners coded at
    random."""
    from dataclasses import replace

    from outcomes.disclosure import PractitionerCoder

    coder = PractitionerCoder(None, warn=False,
                              rounding_key=internal_ctx.analysis.data_key())
    return replace(internal_ctx, shareable=True, coder=coder)


@pytest.fixture(scope="module")
def rendered(internal_ctx, shareable_ctx) -> dict[str, dict[tuple[str, str], str]]:
    """Every section of every page, internal and shareable, rendered once for this module:
    ``{"internal": {(page, section): html}, "shareable": ...}``."""
    out = {}
    for kind, ctx in (("internal", internal_ctx), ("shareable", shareable_ctx)):
        out[kind] = {(page, name): getattr(sections, name)(ctx)._repr_html_()
                     for page, names in PAGE_SECTIONS.items()
                     for name in names + ["provenance"]}
        out[kind] |= {(page, "title"): sections.title(ctx, page).html for page in PAGE_SECTIONS}
    return out


@pytest.mark.parametrize("kind", ["internal", "shareable"])
def test_every_section_renders(kind, rendered):
    for (page, name), html in rendered[kind].items():
        assert isinstance(html, str), name
        if name == "title":
            assert "2026Q3 (data to 30 September 2026)" in html and "<h1" in html
            continue
        if name == "quarantine_rows" and kind == "shareable":
            assert html == ""  # the rows list patients: internal report only
            continue
        assert html.strip(), (page, name)
        assert "<script" not in html and "Traceback" not in html, name
        assert not re.search(r'src="(?!data:)', html), name  # figures inlined


def test_figures_are_inlined_png(internal_ctx):
    html = sections.headline_figure(internal_ctx).html
    assert html.startswith('<img class="outcomes-figure"')
    assert 'src="data:image/png;base64,iVBORw0KGgo' in html
    width = int(re.search(r'width="(\d+)"', html)[1])
    assert 300 < width < 1600


def test_words_come_from_the_definitions_and_the_registry(internal_ctx):
    """What the notebooks used to hard-code follows the definitions in force."""
    from dataclasses import replace

    html = sections.protocol_adherence(internal_ctx).html
    assert "(60-120 days apart counts as on schedule), 3-4 sessions" in html
    assert "then about every 6 months (135-225 days)" in html
    defs = replace(internal_ctx.analysis.definitions, year_one_interval=(70, 110))
    other = replace(internal_ctx, analysis=replace(internal_ctx.analysis, definitions=defs))
    assert "(70-110 days apart" in sections.protocol_adherence(other).html
    assert "246 of 541 patients" in sections.adverse_events(internal_ctx).html
    assert "The published 80% and 38% come from 86 patients" in \
        sections.against_published(internal_ctx).html


def test_pooled_cohort_counts_are_worded_as_the_flow_table():
    """The pooled page's cohort counts and its flow table show the same numbers: one wording
    ('Due for 12-month assessment' above 'Due for the 12-month assessment' read as two
    counts)."""
    from types import SimpleNamespace

    import pandas as pd

    from outcomes.tables import flow_table

    cohort = {"patients": 550, "treated": 540, "due_12m": 390, "assessed_photographic": 230,
              "assessed_density": 210}
    ctx = SimpleNamespace(frames={"clinics": pd.DataFrame({"label": ["a", "b"]}),
                                  "cohort": pd.DataFrame([cohort])})
    html = sections.pooled_clinics(ctx).html
    flow = pd.DataFrame({"step": list(cohort)[1:], "n": list(cohort.values())[1:],
                         "note": ""})
    for step in flow_table(flow)["Step"]:
        assert f"<th>{step}</th>" in html, step
    assert "Due for the 12-month assessment" in html and "<th>Patients</th>" in html


def test_shareable_sections_hold_no_patient(internal_ctx, rendered):
    ids = set(internal_ctx.analysis.cohort["patient_id"].astype(str))
    internal = rendered["internal"][("safety", "sentinel_events")] + \
        rendered["internal"][("protocol", "screening")]
    assert ids & set(re.findall(r"[\w-]+", internal))  # the internal lists do name patients
    shared = "".join(rendered["shareable"].values())
    assert not ids & set(re.findall(r"[\w-]+", shared))
    assert "internal report only" in rendered["shareable"][("safety", "sentinel_events")]


# --- the committed notebooks are thin --------------------------------------------------------

def _notebooks():
    folder = resources.files("outcomes").joinpath("notebooks")
    return sorted((p for p in folder.iterdir() if p.name.endswith(".ipynb")),
                  key=lambda p: p.name)


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.name)
def test_notebook_is_parameters_setup_and_one_call_per_section(path):
    nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    assert all(c.cell_type == "code" for c in nb.cells), "no hand-written markdown"
    params, setup, *calls = nb.cells
    assert "parameters" in params.metadata.get("tags", [])
    for node in ast.parse(params.source).body:  # values only
        assert isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant), \
            ast.unparse(node)
    setup_calls = [n for n in ast.parse(setup.source).body if not isinstance(n, ast.ImportFrom)]
    assert len(setup_calls) == 1 and ast.unparse(setup_calls[0]).startswith("ctx = ")
    assert calls
    for cell in calls:
        (stmt,) = ast.parse(cell.source).body  # one statement...
        call = stmt.value
        assert isinstance(stmt, ast.Expr) and isinstance(call, ast.Call)  # ...a call
        assert ast.unparse(call.func).startswith("sections."), cell.source
        assert hasattr(sections, call.func.attr), cell.source
        assert ast.unparse(call.args[0]) == "ctx"


def test_every_report_notebook_is_listed():
    assert {f for f, _, _ in NOTEBOOKS} | {"90-pooled.ipynb"} == {p.name for p in _notebooks()}


def test_each_notebook_is_given_only_the_parameters_it_declares():
    """papermill printed 'Passed unknown parameter: previous' for every non-audit notebook."""
    from outcomes.reporting import _declared_parameters, _read_notebook

    audit = _declared_parameters(_read_notebook("04-quarterly-audit.ipynb"))
    quality = _declared_parameters(_read_notebook("01-data-quality.ipynb"))
    assert {"previous", "standards", "actions", "data", "quarter"} <= audit
    assert "data" in quality and "previous" not in quality


# --- what the executed report pages show is what these sections render ------------------------

_PAGE_FILE = {"data_quality": "01-data-quality.html", "efficacy": "02-efficacy.html",
              "safety": "03-safety.html", "protocol": "05-protocol.html", "audit": "index.html"}


def _tables(html: str) -> list[str]:
    """The ``<table>`` elements of a page, with the whitespace between tags removed (nbconvert
    re-indents the notebook's HTML output)."""
    tables = re.findall(r"<table.*?</table>", html, flags=re.S)
    # the internal load counts name each file by its path: the report was run on data/sample,
    # the in-process context on the installed copy of the same files
    return [re.sub(r"<td>[^<>]*/([\w-]+\.csv)</td>", r"<td>\1</td>", re.sub(r">\s+<", "><", t))
            for t in tables]


@pytest.mark.parametrize("kind", ["internal", "shareable"])
def test_executed_pages_show_the_sections_tables(kind, reports, rendered, tmp_path):
    """Every table the sections render in-process (here, and in the attack suite's
    ``attack_data.shareable_pages``) is on the page ``outcomes report`` executed, as it is:
    the in-process rendering is the report. Shareable: the sections without practitioner
    codes (a run without a clinic key codes practitioners at random)."""
    folder, proc = reports[kind]
    assert proc.returncode == 0, proc.stderr
    checked = 0
    for (page, name), html in rendered[kind].items():
        if name == "provenance":  # says when the report was produced
            continue
        on_page = set(_tables((folder / _PAGE_FILE[page]).read_text(encoding="utf-8")))
        for table in _tables(html):
            if kind == "shareable" and "PR-" in table:
                continue
            assert table in on_page, (page, name, table[:300])
            checked += 1
    assert checked >= 10, checked


def test_figure_html_draws_once_and_matches_a_tight_savefig():
    """figure_html lays a constrained figure out itself and saves it with one draw; the PNG is
    the one savefig(bbox_inches="tight") writes (which draws twice), pixel for pixel."""
    import base64
    import io

    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd
    from matplotlib.figure import Figure
    from PIL import Image

    from outcomes import figures

    response = pd.DataFrame({"family": ["photographic"] * 2, "group": ["all", "comparable"],
                             "outcome": ["improved"] * 2, "k": [40, 12], "n": [50, 20],
                             "rate": [0.8, 0.6], "ci_low": [0.67, 0.39],
                             "ci_high": [0.89, 0.78], "benchmark_id": [None, None],
                             "benchmark_rate": [np.nan] * 2, "benchmark_k": [np.nan] * 2,
                             "benchmark_n": [np.nan] * 2})

    def draw():  # constrained layout, and a legend outside the axes
        ax = figures.forest_plot(response)
        ax.figure.legend(["a long legend placed outside the axes"], loc="outside right upper")
        return ax.figure

    fig = draw()
    ref = io.BytesIO()
    fig.savefig(ref, format="png", dpi=150, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    fig = draw()
    draws = []
    original = Figure.draw

    def counted(self, renderer):
        draws.append(1)
        return original(self, renderer)

    Figure.draw = counted
    try:
        tag = sections.figure_html(fig)
    finally:
        Figure.draw = original
    assert len(draws) == 1
    png = base64.b64decode(re.search(r'base64,([^"]+)"', tag)[1])
    new, old = Image.open(io.BytesIO(png)), Image.open(ref)
    assert new.size == old.size
    assert np.array_equal(np.asarray(new), np.asarray(old))
    assert f'width="{round(new.size[0] * 100 / 150)}"' in tag


def test_a_figure_on_two_pages_is_drawn_once(internal_ctx, monkeypatch):
    """The flow chart, p-chart and adverse-event chart are on two pages each: within one
    process the second section takes the first one's <img>; other data draws again."""
    from outcomes import figures

    calls = []
    original = figures.cohort_flow_plot

    def counted(*args, **kw):
        calls.append(1)
        return original(*args, **kw)

    monkeypatch.setattr(figures, "cohort_flow_plot", counted)
    monkeypatch.setattr(sections, "_DRAWN", {})
    first = sections.who_was_assessed(internal_ctx).html
    second = sections.patients(internal_ctx).html
    assert len(calls) == 1
    img = re.search(r"<img [^>]+>", first)[0]
    assert img in second
    flow = internal_ctx.frame("flow")
    assert sections._drawn(figures.cohort_flow_plot, flow.assign(n=flow["n"] + 1)) not in first
    assert len(calls) == 2
