"""`outcomes report` end to end on the bundled sample, and the committed notebooks."""
import datetime as dt
import json
import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

from outcomes.errors import ReportError
from outcomes.reporting import NOTEBOOKS, find_kernel, quarter_cutoff

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
COUNT_KEYS = {"k", "n", "events", "sessions", "patients", "read", "accepted", "quarantined",
              "treated", "due_12m", "assessed_photographic", "assessed_density"}


class _Tables(HTMLParser):
    """Every <table> of a page as (headers, rows of cell text)."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell, self._row = [], None, None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append(([], []))
        elif tag == "tr" and self.tables:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(("th" if tag == "th" else "td", "".join(self._cell).strip()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            heads, rows = self.tables[-1]
            if all(kind == "th" for kind, _ in self._row) and not heads:
                heads.extend(text for _, text in self._row)
            else:
                rows.append([text for _, text in self._row])
            self._row = None


# reports: a session fixture of conftest.py (the internal report with --pdf, the shareable
# report), executed once and shared with test_pages.py


@pytest.fixture(scope="module")
def internal(reports):
    return reports["internal"]


@pytest.fixture(scope="module")
def shareable(reports):
    return reports["shareable"]


def _pages(out: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(out.glob("*.html"))}


def _body(page: str) -> str:
    """The page without its <style> and <script> blocks (CSS names jp-InputArea too)."""
    return re.sub(r"<(style|script)\b.*?</\1>", "", page, flags=re.S | re.I)


def test_quarter_cutoff():
    assert quarter_cutoff("2026Q3") == dt.date(2026, 9, 30)
    assert quarter_cutoff("2025q4") == dt.date(2025, 12, 31)
    assert quarter_cutoff("2024Q1") == dt.date(2024, 3, 31)
    with pytest.raises(ReportError, match="YYYYQn"):
        quarter_cutoff("2026-09")


def test_kernel_runs_this_interpreter():
    assert find_kernel()


def test_every_notebook_executed_into_html_without_code_or_errors(internal):
    out, proc = internal
    assert proc.returncode == 0, proc.stderr
    pages = _pages(out)
    expected = {html for _, _, html in NOTEBOOKS}
    assert expected <= set(pages), proc.stderr
    steps = len(NOTEBOOKS) + 2  # load, each notebook, the PDF (--pdf)
    for step in range(1, steps + 1):
        assert f"[{step}/{steps}]" in proc.stderr
    for name, page in pages.items():
        body = _body(page)
        assert "jp-InputArea-editor" not in body and "jp-InputPrompt" not in body, name
        assert "prepare_report(" not in body and "hl-ipython3" not in body, name
        assert "jp-OutputPrompt" not in body and "In&nbsp;[" not in body, name
        assert "Traceback" not in body and 'data-mime-type="application/vnd.jupyter.stderr"' \
            not in body, name
        assert not re.search(r"(Warning|Error|Exception):", body), name
        if name in ("index.html", "02-efficacy.html", "03-safety.html"):
            assert body.count("<img") >= 2, name  # figures drawn
    index = pages["index.html"]
    assert "Quarterly audit report: 2026Q3" in index
    assert "Your improved rate" in index and "Internal report" in index
    assert "SHA-256" in index and "outcomes version" in index
    results = json.loads((out / "results.json").read_text())
    assert results["shareable"] is False and results["cutoff"] == "2026-09-30"


def _patient_ids(export=SAMPLE) -> set[str]:
    return set(pd.read_csv(export / "patients.csv", dtype=str)["patient_id"].str.strip())


def _small_counts_in_tables(page: str) -> list[tuple[str, str]]:
    parser = _Tables()
    parser.feed(_body(page))
    bad = []
    for heads, rows in parser.tables:
        counted = [i for i, h in enumerate(heads)
                   if re.search(r"\((n|k)\)|n \(%\)", h)]
        for row in rows:
            for i in counted:
                if i < len(row) and re.fullmatch(r"[1-4]( \(.*\))?", row[i]):
                    bad.append((heads[i], row[i]))
    return bad


def test_shareable_output_holds_no_patient_and_no_small_count(reports):
    out, proc = reports["shareable"]   # the sample dressed as a clinic's export
    assert proc.returncode == 0, proc.stderr
    ids = _patient_ids(reports["dressed"])
    assert len(ids) > 100
    pages = _pages(out)
    text = "\n".join(pages.values()) + (out / "results.json").read_text()
    assert ids & set(re.findall(r"[\w-]+", text)) == set()
    # the internal report's sentinel list does name patients: this check can fail
    internal_text = "\n".join(_pages(reports["internal"][0]).values())
    assert _patient_ids() & set(re.findall(r"[\w-]+", internal_text))
    for name, page in pages.items():
        # every page holding data says who may read it (the definitions page holds none)
        assert "Shareable version" in page or name == "outcome-definitions.html", name
        assert _small_counts_in_tables(page) == [], name
        # sentences: "3 of 86" (not the Making Data Count rule "2 of 3 beyond the 2-sigma line")
        assert not re.search(r"\b[1-4] of \d+(?! beyond)", _body(page)), name
        assert "Internal report" not in page
    results = json.loads((out / "results.json").read_text())
    assert results["shareable"] is True

    def walk(node, key=None):
        if isinstance(node, dict):
            for k, v in node.items():
                yield from walk(v, k)
        elif isinstance(node, list):
            for v in node:
                yield from walk(v, key)
        else:
            yield key, node

    small = [(k, v) for k, v in walk(results) if k in COUNT_KEYS
             and isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 4]
    assert small == []


def test_bad_period_is_a_clear_error(tmp_path):
    from conftest import run_cli

    proc = run_cli("report", SAMPLE, "--quarter", "Q3", "--out", tmp_path)
    assert proc.returncode == 2 and "YYYYQn" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("path", sorted(
    p for p in resources.files("outcomes").joinpath("notebooks").iterdir()
    if p.name.endswith(".ipynb")), ids=lambda p: p.name)
def test_committed_notebooks_have_no_outputs_and_a_parameters_cell(path):
    import nbformat  # here: ~0.1-0.2 s of imports (jsonschema) to collect

    nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    assert any("parameters" in c.metadata.get("tags", []) for c in code)


def test_notebooks_are_reachable_from_the_repository_folder():
    assert {p.name for p in (ROOT / "notebooks").glob("*.ipynb")} >= {
        name for name, _, _ in NOTEBOOKS}


def test_missing_kernel_says_how_to_install_one(monkeypatch):
    import jupyter_client.kernelspec as ks

    monkeypatch.setattr(ks.KernelSpecManager, "get_all_specs", lambda self: {
        "other": {"spec": {"argv": ["/opt/elsewhere/bin/python3", "-m", "ipykernel"]}}})
    with pytest.raises(ReportError, match="ipykernel install --user"):
        find_kernel()


def test_html_leaves_out_code_prompts_stderr_and_errors():
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from outcomes.reporting import notebook_html

    cell = new_code_cell("secret_code_here = 1", execution_count=1, outputs=[
        new_output("stream", name="stdout", text="shown to the reader\n"),
        new_output("stream", name="stderr", text="UserWarning: hidden\n"),
        new_output("error", ename="ValueError", evalue="boom", traceback=["Traceback..."])])
    body = _body(notebook_html(new_notebook(cells=[cell]), "t"))
    assert "shown to the reader" in body
    for hidden in ("secret_code_here", "UserWarning", "boom", "Traceback", "In&nbsp;["):
        assert hidden not in body


def test_context_frames_are_suppressed_and_patient_lists_refused_when_shareable():
    from types import SimpleNamespace

    from outcomes.reporting import ReportContext

    analysis = SimpleNamespace(
        cutoff=dt.date(2026, 9, 30),
        response=pd.DataFrame({"k": [3, 40], "n": [50, 50], "rate": [0.06, 0.8]}),
        cohort=pd.DataFrame({"patient_id": ["P1"]}))
    now = dt.datetime(2026, 10, 1)
    share = ReportContext(analysis, None, shareable=True, min_cell=5, run_time=now,
                          quarter="2026Q3")
    assert share.frame("response")["k"].tolist() == ["<5", 40]
    assert pd.isna(share.frame("response")["rate"].iloc[0])
    with pytest.raises(ReportError, match="never shown in shareable"):
        share.frame("cohort")
    assert share.cell == 5 and share.period == "2026Q3 (data to 30 September 2026)"
    internal = ReportContext(analysis, None, shareable=False, min_cell=5, run_time=now)
    assert internal.frame("response")["k"].tolist() == [3, 40] and internal.cell is None
    assert internal.frame("cohort") is analysis.cohort


@pytest.fixture(scope="module")
def report_kernel(tmp_path_factory):
    """A kernel started as :func:`write_report` starts its own (:func:`_start_kernel`), and
    what it held before its first cell: ``(kernel manager, (modules of outcomes imported,
    names of the user namespace that are 'outcomes'), execution count of the first cell)``.
    The probe runs as the kernel answers, before any test uses it; the kernel then serves
    the standalone notebook (one kernel start for both tests, not two)."""
    from jupyter_core.utils import run_sync

    from outcomes.reporting import _quiet_kernel_manager, _shutdown_kernel, _start_kernel

    km = _quiet_kernel_manager()(kernel_name=find_kernel())
    _start_kernel(km, str(tmp_path_factory.mktemp("kernel")))
    try:
        kc = km.client()
        try:
            kc.start_channels()
            run_sync(kc.wait_for_ready)(timeout=60)
            out = []
            code = ("import sys; print(repr((sorted(m for m in sys.modules if m.startswith("
                    "'outcomes.')), [k for k in get_ipython().user_ns if k == 'outcomes'])))")
            reply = run_sync(kc.execute_interactive)(
                code, timeout=60,
                output_hook=lambda msg: out.append(msg["content"].get("text", ""))
                if msg["msg_type"] == "stream" else None)
        finally:
            kc.stop_channels()
        yield km, eval("".join(out)), reply["content"]["execution_count"]
    finally:
        _shutdown_kernel(km)


@pytest.mark.slow
def test_a_notebook_runs_standalone_on_the_bundled_sample(report_kernel, tmp_path):
    """As in JupyterLab: no parameters given, it loads and analyses the sample itself (in
    a kernel as the report's, from an empty namespace: every name it uses it imports)."""
    from outcomes.reporting import run_notebook

    nb = run_notebook("05-protocol.ipynb", {}, kernel=find_kernel(), cwd=str(tmp_path),
                      km=report_kernel[0])
    assert nb.metadata.papermill.parameters == {}
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = "".join(str(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert "Year one" in html and "Deviation" in html
    # analysed here with the density model, as the report's pages count its terms
    assert "in the density model" in html


def test_pickled_audit_is_used_unless_min_cell_changes_the_definitions(sample_context,
                                                                        tmp_path, monkeypatch):
    """write_report pickles the audit with the analysis: each notebook's set-up call takes it
    as it is (no second quarterly_audit per page); a shareable page given another min_cell
    has other definitions, so its audit is made again from them."""
    import pickle

    from outcomes import audit
    from outcomes.reporting import prepare_report

    made = []
    original = audit.quarterly_audit

    def counted(*args, **kw):
        made.append(1)
        return original(*args, **kw)

    monkeypatch.setattr(audit, "quarterly_audit", counted)
    ctx = sample_context
    path = tmp_path / "analysis.pickle"
    path.write_bytes(pickle.dumps((ctx.analysis, ctx.export, None, ctx.audit)))
    same = prepare_report(analysis_path=path, quarter="2026Q3").audit
    assert not made
    pd.testing.assert_frame_equal(same.trend, ctx.audit.trend)
    ten = prepare_report(analysis_path=path, quarter="2026Q3", shareable=True, min_cell=10)
    assert len(made) == 1 and ten.analysis.definitions.min_cell == 10
    # a pickle without the audit (as written before it was added) still gives one
    path.write_bytes(pickle.dumps((ctx.analysis, ctx.export, None)))
    again = prepare_report(analysis_path=path, quarter="2026Q3").audit
    assert len(made) == 2
    pd.testing.assert_frame_equal(again.standards, ctx.audit.standards)


def test_each_shareable_frame_is_published_once_per_pickled_run(sample_context, tmp_path,
                                                                monkeypatch):
    """The pages of one report read one pickled run: each frame goes through the disclosure
    pass once, whichever page asks first; later calls get an equal copy (changing it changes
    nothing for the next page); another min_cell or another run publishes again."""
    import pickle

    from outcomes import disclosure
    from outcomes.reporting import prepare_report

    calls = []
    original = disclosure.control_frame

    def counted(name, *args, **kw):
        calls.append(name)
        return original(name, *args, **kw)

    monkeypatch.setattr(disclosure, "control_frame", counted)
    ctx = sample_context
    coder = disclosure.PractitionerCoder(b"a clinic key of 32 random characters")
    path = tmp_path / "analysis.pickle"
    path.write_bytes(pickle.dumps((ctx.analysis, ctx.export, coder, ctx.audit)))
    first = prepare_report(analysis_path=path, quarter="2026Q3", shareable=True)
    funnel = first.frame("funnel")
    assert calls == ["funnel"]
    funnel["practitioner_id"] = "changed"          # a section that changes what it was given
    funnel.drop(columns=funnel.columns[1:], inplace=True)
    second = prepare_report(analysis_path=path, quarter="2026Q3", shareable=True)
    again = second.frame("funnel")
    assert calls == ["funnel"]
    pd.testing.assert_frame_equal(again, original("funnel", ctx.analysis.funnel,
                                                  definitions=ctx.analysis.definitions,
                                                  min_cell=5, coder=coder))
    assert "PR-" in again["practitioner_id"].iloc[0]
    again["practitioner_id"] = "changed"
    pd.testing.assert_frame_equal(second.frame("funnel"), first.frame("funnel"))
    assert "PR-" in second.frame("funnel")["practitioner_id"].iloc[0]
    assert calls == ["funnel"]
    ten = prepare_report(analysis_path=path, quarter="2026Q3", shareable=True, min_cell=10)
    ten.frame("funnel")
    assert calls == ["funnel", "funnel"]
    other = tmp_path / "other.pickle"
    other.write_bytes(path.read_bytes())
    prepare_report(analysis_path=other, quarter="2026Q3", shareable=True).frame("funnel")
    assert calls == ["funnel", "funnel", "funnel"]
    internal = prepare_report(analysis_path=path, quarter="2026Q3")
    assert internal.frame("funnel") is internal.analysis.funnel and len(calls) == 3


def test_collecting_less_restores_the_collector():
    """write_report runs with a larger first generation of the garbage collector; the
    thresholds are as they were afterwards, also after an error."""
    import gc

    from outcomes.reporting import collecting_less

    before = gc.get_threshold()
    with collecting_less():
        assert gc.get_threshold()[0] == max(before[0], 10_000)
        assert gc.get_threshold()[1:] == before[1:]
    assert gc.get_threshold() == before
    with pytest.raises(ZeroDivisionError), collecting_less():
        raise ZeroDivisionError
    assert gc.get_threshold() == before


@pytest.mark.slow
def test_report_kernel_imports_the_sections_as_it_starts(report_kernel):
    """write_report starts the kernel once the export is read: it imports the notebooks'
    modules before its first cell (while the analysis runs), leaving the user namespace and
    the execution count as a fresh kernel's."""
    _, (modules, names), count = report_kernel
    assert {"outcomes.sections", "outcomes.figures", "outcomes.reporting"} <= set(modules)
    assert names == [] and count == 1
