"""outcomes.sections: every section of every page, internal and shareable, as the executed
report shows it (each notebook cell's output, found by the cell's id); a few sections in-process
(no kernel); and the committed notebooks are thin (parameters, one set-up call, one call per
section)."""
from __future__ import annotations

import ast
import re
from importlib import resources

import pytest

from outcomes import sections
from outcomes.reporting import NOTEBOOKS, ReportContext

PAGE_SECTIONS = {
    "data_quality": ["data_quality_intro", "load_counts", "quarantine_reasons",
                     "quarantine_rows"],
    "efficacy": ["efficacy_summary", "who_was_assessed", "against_published", "hair_density",
                 "practitioners_and_quarters", "patient_groups", "density_model"],
    "safety": ["safety_summary", "adverse_events", "edema_by_session", "sentinel_events"],
    "audit": ["headline_figure", "page_links", "patients", "response_summary",
              "safety_overview", "protocol_and_screening"],
    "protocol": ["protocol_adherence", "screening"],
}


#: the page key of each report notebook
_PAGE_OF = {"01-data-quality.ipynb": "data_quality", "02-efficacy.ipynb": "efficacy",
            "03-safety.ipynb": "safety", "05-protocol.ipynb": "protocol",
            "04-quarterly-audit.ipynb": "audit"}


@pytest.fixture(scope="module")
def internal_ctx(sample_context) -> ReportContext:
    return sample_context


@pytest.fixture(scope="module")
def shareable_ctx(dressed_context) -> ReportContext:
    """The context of the shareable report (conftest ``reports``: the sample dressed as a
    clinic's export)."""
    return dressed_context


def executed_sections(folder) -> dict[tuple[str, str], str]:
    """``{(page, section): HTML}`` of an executed report: each notebook cell's output on its
    page, found by the cell's id (nbconvert keeps it as ``id="cell-id=..."``) and named by the
    ``sections.NAME(ctx)`` call of that cell in the committed notebook."""
    from pathlib import Path

    from outcomes.reporting import _read_notebook

    out = {}
    for nb_file, _, html_name in NOTEBOOKS:
        page = _PAGE_OF[nb_file]
        names = {cell.id: m[1] for cell in _read_notebook(nb_file).cells
                 if (m := re.match(r"sections\.(\w+)\(ctx", cell.source))}
        text = (Path(folder) / html_name).read_text(encoding="utf-8")
        for chunk in re.split(r'(?=<div class="jp-Cell )', text):
            m = re.match(r'<div class="jp-Cell [^"]*" id="cell-id=([^"]+)"', chunk)
            if m and m[1] in names:
                body = chunk.split('tabindex="0">', 1)[1] if 'tabindex="0">' in chunk else ""
                out[(page, names[m[1]])] = re.sub(r"(\s*</div>)+\s*$", "", body)
        assert set(names.values()) == {name for p, name in out if p == page}, html_name
    return out


@pytest.fixture(scope="module")
def rendered(reports) -> dict[str, dict[tuple[str, str], str]]:
    """Every section of every page of the internal and shareable reports (conftest
    ``reports``) as ``outcomes report`` executed them: ``{"internal": {(page, section): html},
    ...}``."""
    out = {}
    for kind in ("internal", "shareable"):
        folder, proc = reports[kind]
        assert proc.returncode == 0, proc.stderr
        out[kind] = executed_sections(folder)
        assert {(page, name) for page, names in PAGE_SECTIONS.items() for name in names} <= \
            set(out[kind])
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


def test_figures_are_inlined_png(rendered):
    """The headline figure as the executed audit page holds it (nbconvert orders the
    attributes): one PNG ``data:`` URI, shown 300-1600 px wide."""
    html = rendered["internal"][("audit", "headline_figure")]
    (img,) = re.findall(r"<img\b[^>]*>", html)
    assert 'class="outcomes-figure"' in img
    assert 'src="data:image/png;base64,iVBORw0KGgo' in img
    width = int(re.search(r'width="(\d+)"', img)[1])
    assert 300 < width < 1600


def test_words_come_from_the_definitions_and_the_registry(internal_ctx, rendered):
    """What the notebooks used to hard-code follows the definitions in force (the sample's
    words as its executed report shows them: drawn there, not here again)."""
    from dataclasses import replace

    html = sections.protocol_adherence(internal_ctx).html
    assert "(60-120 days apart counts as on schedule), 3-4 sessions" in html
    assert "then about every 6 months (135-225 days)" in html
    defs = replace(internal_ctx.analysis.definitions, year_one_interval=(70, 110))
    other = replace(internal_ctx, analysis=replace(internal_ctx.analysis, definitions=defs))
    assert "(70-110 days apart" in sections.protocol_adherence(other).html
    page = rendered["internal"]
    assert "246 of 541 patients" in page[("safety", "adverse_events")]
    assert "The published 80% and 38% come from 86 patients" in \
        page[("efficacy", "against_published")]


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


def test_shareable_sections_hold_no_patient(internal_ctx, shareable_ctx, rendered):
    ids = set(internal_ctx.analysis.cohort["patient_id"].astype(str))
    internal = rendered["internal"][("safety", "sentinel_events")] + \
        rendered["internal"][("protocol", "screening")]
    assert ids & set(re.findall(r"[\w-]+", internal))  # the internal lists do name patients
    shared = "".join(rendered["shareable"].values())
    dressed = set(shareable_ctx.analysis.cohort["patient_id"].astype(str))  # ZQX00001, ...
    assert len(dressed) > 100 and not dressed & set(re.findall(r"[\w-]+", shared))
    assert "internal report only" in rendered["shareable"][("safety", "sentinel_events")]


# --- the committed notebooks are thin --------------------------------------------------------

def _notebooks():
    folder = resources.files("outcomes").joinpath("notebooks")
    return sorted((p for p in folder.iterdir() if p.name.endswith(".ipynb")),
                  key=lambda p: p.name)


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.name)
def test_notebook_is_parameters_setup_and_one_call_per_section(path):
    import nbformat  # here: ~0.1-0.2 s of imports (jsonschema) to collect

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


# --- the sections the attack suite renders in-process are the executed ones ----------------



def _tables(html: str) -> list[str]:
    """The ``<table>`` elements of some HTML, with the whitespace between tags removed
    (nbconvert re-indents the notebook's HTML output)."""
    return [re.sub(r">\s+<", "><", t) for t in re.findall(r"<table.*?</table>", html, flags=re.S)]


def test_the_attacked_sections_in_process_are_the_executed_ones(shareable_ctx, rendered):
    """The attack suite (``attack_data.shareable_pages``) renders the two sections that publish
    Table 1 and the load counts in-process: their tables are those of the executed shareable
    report, cell for cell."""
    for page, name in (("audit", "patients"), ("data_quality", "load_counts")):
        here = _tables(getattr(sections, name)(shareable_ctx).html)
        assert here and here == _tables(rendered["shareable"][(page, name)]), name
