"""The quarterly audit report: notebooks executed headless into HTML, plus ``results.json``.

``outcomes report DATA --quarter 2026Q3 --out DIR [--shareable]`` loads and analyses the export
once, then executes the bundled notebooks (``outcomes/notebooks/*.ipynb``, read with
:mod:`importlib.resources`, so it works from an installed package) with papermill in a kernel
running this very interpreter, and converts each to HTML with the code hidden. ``index.html``
is the quarterly audit report; the other notebooks become ``01-data-quality.html`` and so on.

The notebooks stay runnable on their own (in JupyterLab, on the bundled sample): given no
``analysis_path`` they load and analyse the data themselves through :func:`prepare_report`.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import pickle
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from typing import TYPE_CHECKING

from outcomes.errors import ReportError
from outcomes.text import fmt_date

if TYPE_CHECKING:
    from outcomes.analysis import Analysis
    from outcomes.audit import Audit
    from outcomes.disclosure import PractitionerCoder
    from outcomes.loader import Export

__all__ = ["report", "NOTEBOOKS", "quarter_cutoff", "prepare_report", "report_context",
           "pooled_context", "PooledContext", "find_kernel", "run_notebook", "notebook_html",
           "write_report", "check_out_folder", "report_files", "write_pdf", "cli_report",
           "ReportContext", "PDF_NAME"]

#: (notebook file, progress label, HTML file written), in the order they run; the audit report
#: runs last and becomes ``index.html``.
NOTEBOOKS: tuple[tuple[str, str, str], ...] = (
    ("01-data-quality.ipynb", "data quality", "01-data-quality.html"),
    ("02-efficacy.ipynb", "efficacy", "02-efficacy.html"),
    ("03-safety.ipynb", "safety", "03-safety.html"),
    ("05-protocol.ipynb", "protocol", "05-protocol.html"),
    ("04-quarterly-audit.ipynb", "quarterly audit", "index.html"),
)

_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")
_TIMEOUT_S = 600


def quarter_cutoff(quarter: str) -> dt.date:
    """The last day of a quarter written ``YYYYQn``.

    Parameters
    ----------
    quarter : str
        E.g. ``"2026Q3"`` (also ``"2026-Q3"``, ``"2026q3"``).

    Returns
    -------
    datetime.date
        E.g. ``2026-09-30``.

    Examples
    --------
    >>> quarter_cutoff("2026Q3")
    datetime.date(2026, 9, 30)
    """
    m = _QUARTER.match(str(quarter))
    if not m:
        raise ReportError(f"--quarter {quarter!r} is not a quarter: write it as YYYYQn, "
                          "e.g. 2026Q3 (July to September 2026).")
    year, q = int(m[1]), int(m[2])
    first_of_next = dt.date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
    return first_of_next - dt.timedelta(days=1)


def _parse_cutoff(quarter: str | None, cutoff: str | None) -> dt.date:
    if quarter and cutoff:
        raise ReportError("give either --quarter or --cutoff, not both.")
    if quarter:
        return quarter_cutoff(quarter)
    if cutoff:
        try:
            return dt.date.fromisoformat(str(cutoff).strip())
        except ValueError:
            raise ReportError(f"--cutoff {cutoff!r} is not a date: write it as YYYY-MM-DD, "
                              "e.g. 2026-09-30.") from None
    raise ReportError("say which period the report covers: --quarter 2026Q3 (cut-off = the "
                      "quarter's last day) or --cutoff YYYY-MM-DD.")


@dataclass(frozen=True)
class ReportContext:
    """What a report notebook works from: the analysis, the export and the audience.

    Attributes
    ----------
    analysis : Analysis
        From :func:`outcomes.analysis.analyze`.
    export : Export
        The loaded export (for the internal report's per-patient figures).
    shareable : bool
        True: no pseudonym, date or row of a patient; counts 1..min_cell-1 shown as ``"<5"``.
    min_cell : int
        Smallest count shown as it is in shareable mode.
    run_time : datetime.datetime
        When the report was produced (UTC).
    quarter : str or None
        The quarter reported (``"2026Q3"``), if one was given.
    audit : Audit or None
        The quarterly audit (:func:`outcomes.audit.quarterly_audit`): periods, re-audit,
        standards, safety findings, action plan; its frames ``audit_trend``,
        ``audit_changes``, ``audit_standards`` and ``safety_counts`` come through
        :meth:`frame` like the others.
    """

    analysis: Analysis
    export: Export
    shareable: bool
    min_cell: int
    run_time: dt.datetime
    quarter: str | None = None
    coder: PractitionerCoder | None = None
    audit: Audit | None = None
    #: shareable frames already through the disclosure pass, by name (see :meth:`frame`)
    _published: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def frame(self, name: str):
        """An Analysis frame as the audience may see it.

        Internal: the exact frame. Shareable: the frame through the one disclosure-control
        pass (:func:`outcomes.disclosure.control_frame`). Besides the Analysis frames, the
        report's derived frames ``table_one``, ``load_counts``, ``quarantine_summary`` and
        ``density_histogram`` (see :mod:`outcomes.disclosure`). Patient-level frames
        (``cohort``, ``sentinel_cases``, ``screening_cases``, ``protocol_patients``) raise
        ReportError in shareable mode.
        """
        from outcomes import disclosure

        if self.shareable and name in _PATIENT_LEVEL:
            raise ReportError(f"{name} lists patients: it is never shown in shareable output.")
        if self.shareable and name in self._published:
            # the pass is a function of the analysis, min_cell and coder, all fixed for this
            # context: each frame goes through it once (a copy, for a section that changes it)
            return self._published[name].copy()
        a = self.analysis
        if name == "table_one":
            df = disclosure.table_one_counts(a.cohort)
        elif name == "load_counts":
            df = a.load_report.counts.drop(columns=["present"], errors="ignore")
        elif name == "quarantine_summary":
            df = (disclosure.quarantine_frame(a.load_report) if self.shareable
                  else a.load_report.quarantine)
            if not self.shareable:
                return df
        elif name == "density_histogram":
            df = disclosure.histogram_counts(a.cohort["density_rel_change"])
        elif name in _AUDIT_FRAMES:
            df = getattr(self.audit, _AUDIT_FRAMES[name])
        else:
            df = getattr(a, name)
        if not self.shareable:
            return df
        df = disclosure.control_frame(name, df, definitions=getattr(a, "definitions", None),
                                      min_cell=self.min_cell,
                                      coder=self.coder if isinstance(
                                          self.coder, disclosure.PractitionerCoder) else None)
        self._published[name] = df
        return df.copy()

    @property
    def model_note(self) -> str:
        """The density model's note (its counts published under the policy when shareable)."""
        from outcomes import disclosure

        note = str(self.analysis.model_note)
        coder = self.coder if isinstance(self.coder, disclosure.PractitionerCoder) else None
        return (disclosure.control_note(note, self.min_cell, coder=coder) if self.shareable
                else note)

    def load_notes(self) -> list[str]:
        """The load notes: as written (internal); ignored files and columns counted, not
        named (shareable)."""
        from outcomes import disclosure

        rep = self.analysis.load_report
        if self.shareable:
            return disclosure.shareable_load_notes(rep)
        extra = {t: ", ".join(c) for t, c in rep.extra_columns.items() if c}
        return list(rep.notes) + [f"{t}: columns outside the data contract, kept aside and "
                                  f"not used: {c}" for t, c in extra.items()]

    @property
    def cell(self) -> int | None:
        """``min_cell`` in shareable mode, else None (for the ``min_cell=`` arguments)."""
        return self.min_cell if self.shareable else None

    @property
    def period(self) -> str:
        """E.g. ``"2026Q3 (data to 30 September 2026)"``."""
        date = fmt_date(str(self.analysis.cutoff)[:10])
        return f"{self.quarter} (data to {date})" if self.quarter else f"data to {date}"


@dataclass(frozen=True)
class PooledContext:
    """What the pooled report notebook works from (see :func:`pooled_context`).

    Attributes
    ----------
    frames : dict of str to DataFrame
        :func:`outcomes.pooling.pooled_frames` of the pooled results.
    definitions : dict
        The definitions the clinics shared.
    shareable : bool
    min_cell : int
    """

    frames: dict
    definitions: dict
    shareable: bool
    min_cell: int


def pooled_context(pooled_path) -> PooledContext:
    """The pooled notebook's set-up call: read a pooled results file (``outcomes pool
    --json``).

    Raises
    ------
    ReportError
        When no file is given (the notebook is run by hand without one).
    """
    from outcomes.pooling import pooled_frames

    if pooled_path is None:
        raise ReportError("run `outcomes pool A.json B.json ... --out DIR`, or set pooled_path "
                          "to a pooled results file (outcomes pool --json).")
    pooled = json.loads(Path(pooled_path).read_text(encoding="utf-8"))
    return PooledContext(frames=pooled_frames(pooled), definitions=dict(pooled["definitions"]),
                         shareable=bool(pooled["shareable"]),
                         min_cell=int(pooled["definitions"].get("min_cell", 5)))


_PATIENT_LEVEL = frozenset({"cohort", "sentinel_cases", "screening_cases", "protocol_patients"})
#: ReportContext.frame names of the quarterly audit's frames -> Audit attribute
_AUDIT_FRAMES = {"audit_trend": "trend", "audit_changes": "changes",
                 "audit_standards": "standards", "safety_counts": "finding_counts"}


def prepare_report(data=None, *, date_format: str = "ISO", decimal_comma: bool = False,
                   mapping=None, cutoff=None, quarter=None, definitions=None,
                   shareable: bool = False, min_cell=None, analysis_path=None,
                   key_file=None, previous=None, standards=None,
                   actions=None) -> ReportContext:
    """The notebooks' first step: load and analyse (or read the pickled run), and the audience.

    Parameters
    ----------
    data : str or path, optional
        The export; default the bundled sample (:func:`outcomes.sample.sample_path`).
    date_format, decimal_comma, mapping
        Load options (see :func:`outcomes.loader.load`).
    cutoff : str or date, optional
        Last day analysed; or ``quarter`` (``"2026Q3"``) for its last day. Default today.
    definitions : str or path, optional
        A TOML definitions file.
    shareable : bool, default False
    min_cell : int, optional
        Default ``definitions.min_cell``.
    analysis_path : str or path, optional
        A pickled ``(Analysis, Export[, PractitionerCoder[, Audit]])`` written by
        :func:`write_report` (skips the load and the analysis; every page of one report uses
        the same codes; its audit, made from the report's ``previous``, ``standards`` and
        ``actions``, is used as it is unless ``min_cell`` changes the definitions).
    key_file : str or path, optional
        Shareable: the clinic key file for practitioner codes (default
        ``$OUTCOMES_CLINIC_KEY``; without either, codes are random for this run).
    previous : list of str or path, optional
        Earlier quarters' results files for the re-audit (``outcomes report --previous``).
    standards : str or path, optional
        A standards TOML file (default: the package's standards).
    actions : str or path, optional
        An actions file, CSV or TOML.

    Raises
    ------
    DefinitionsError
        Shareable with settings that weaken the disclosure-control policy.

    Returns
    -------
    ReportContext
    """
    pickled_coder = pickled_audit = None
    if analysis_path:
        with open(analysis_path, "rb") as fh:
            loaded = pickle.load(fh)
        analysis, export = loaded[:2]
        pickled_coder = loaded[2] if len(loaded) > 2 else None
        pickled_audit = loaded[3] if len(loaded) > 3 else None
    else:
        if quarter and not cutoff:
            cutoff = quarter_cutoff(quarter)
        export, analysis = _load_and_analyse(data, date_format, decimal_comma, mapping, cutoff,
                                             definitions)
    if min_cell is None:
        min_cell = int(getattr(analysis.definitions, "min_cell", 5))
    coder = None
    if shareable:
        from outcomes import disclosure

        if int(min_cell) != int(analysis.definitions.min_cell):
            analysis = _with_min_cell(analysis, int(min_cell))
            pickled_audit = None
        disclosure.check_shareable_definitions(analysis.definitions, cutoff=analysis.cutoff)
        coder = pickled_coder or disclosure.PractitionerCoder(
            disclosure.clinic_key(key_file), rounding_key=analysis.data_key())
    audit = pickled_audit
    if audit is None:
        from outcomes.audit import quarterly_audit

        audit = quarterly_audit(analysis, previous=previous or (), standards=standards,
                                actions=actions)
    ctx = ReportContext(analysis=analysis, export=export, shareable=bool(shareable),
                        min_cell=int(min_cell), quarter=quarter, coder=coder, audit=audit,
                        run_time=dt.datetime.now(dt.UTC).replace(microsecond=0))
    if shareable and pickled_coder is not None and pickled_audit is not None:
        # every page of one report reads the same pickled run: its frames go through the
        # disclosure pass once per kernel, not once per page
        stat = Path(analysis_path).stat()
        key = (str(Path(analysis_path).resolve()), stat.st_mtime_ns, stat.st_size,
               int(min_cell))
        if key not in _PUBLISHED:
            _PUBLISHED.clear()              # one report run at a time: keep memory small
            _PUBLISHED[key] = {}
        object.__setattr__(ctx, "_published", _PUBLISHED[key])
    return ctx


#: :meth:`ReportContext.frame`'s shareable frames of the pickled run this process last read
#: (:func:`prepare_report` with ``analysis_path``), keyed by that file and ``min_cell``
_PUBLISHED: dict[tuple, dict] = {}


def report_context(data=None, **params) -> ReportContext:
    """The one set-up call of a report notebook (after its parameters cell).

    Takes the notebook's parameters as they are (see :func:`prepare_report`), builds the
    context every section reads. The sections are the functions
    of :mod:`outcomes.sections`, one call per cell.

    Examples
    --------
    >>> from outcomes import sections
    >>> ctx = report_context(quarter="2026Q3")            # doctest: +SKIP
    >>> sections.headline(ctx)                            # doctest: +SKIP
    """
    return prepare_report(data, **params)


def _with_min_cell(analysis, min_cell: int):
    """The analysis with another ``min_cell`` in its definitions (checked like any setting)."""
    import dataclasses

    from outcomes.definitions import Definitions

    defs = Definitions.from_dict({**analysis.definitions.to_dict(), "min_cell": min_cell})
    return dataclasses.replace(analysis, definitions=defs)


def _load_and_analyse(data, date_format, decimal_comma, mapping, cutoff, definitions, *,
                      after_load=None):
    """Load and analyse; ``after_load()`` is called between the two (if given)."""
    from outcomes.analysis import analyze
    from outcomes.definitions import Definitions
    from outcomes.loader import load

    if data is None:
        from outcomes.sample import sample_path
        data = sample_path()
    defs = Definitions.from_toml(definitions) if definitions else None
    export = load(data, date_format=date_format, decimal_comma=decimal_comma, mapping=mapping)
    if after_load is not None:
        after_load()
    return export, analyze(export, cutoff=cutoff, definitions=defs)


def find_kernel() -> str:
    """Name of an installed Jupyter kernel that runs this Python interpreter.

    Returns
    -------
    str
        A kernel name for papermill (``python3`` in a normal installation).

    Raises
    ------
    ReportError
        When no kernel runs this interpreter, saying how to install one.
    """
    try:
        from jupyter_client.kernelspec import KernelSpecManager
        specs = KernelSpecManager().get_all_specs()
    except Exception as err:  # a broken Jupyter installation
        raise ReportError(f"Jupyter is not usable here ({err}). Reinstall outcomes "
                          "(python -m pip install --force-reinstall outcomes).") from None
    me = Path(sys.executable).resolve()
    plain = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    for name in sorted(specs, key=lambda n: n != "python3"):
        argv = specs[name].get("spec", {}).get("argv") or [""]
        if argv[0] in plain or Path(argv[0]).resolve() == me:
            return name
    raise ReportError(
        f"no Jupyter kernel runs this Python ({sys.executable}), so the report notebooks "
        f"cannot be executed. Run `{sys.executable} -m ipykernel install --user` (or reinstall "
        "outcomes, which installs ipykernel) and try again.")


def _read_notebook(filename: str):
    import nbformat

    source = resources.files("outcomes").joinpath("notebooks", filename)
    try:
        return nbformat.reads(source.read_text(encoding="utf-8"), as_version=4)
    except FileNotFoundError:
        raise ReportError(f"the report notebook {filename} is missing from the installed "
                          "package; reinstall outcomes.") from None


def _declared_parameters(nb) -> set[str]:
    """The names assigned in the notebook's cell tagged ``parameters``."""
    import ast

    for cell in nb.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            return {t.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign)
                    for t in node.targets if isinstance(t, ast.Name)}
    return set()


def _quiet_kernel_manager():
    """A kernel manager whose kernel does not write its own log lines (TCP notices, shutdown
    messages) to our stderr; the notebook's outputs still come back through Jupyter."""
    import subprocess

    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw):
            kw.setdefault("stdout", subprocess.DEVNULL)
            kw.setdefault("stderr", subprocess.DEVNULL)
            return await super().start_kernel(**kw)

    return QuietKernelManager


#: allocations between young-generation collections while a report is written, in this
#: process (:func:`collecting_less`) and in the report kernel (:data:`_WARM_UP`)
_GC_FIRST_GENERATION = 10_000

#: imported by the report kernel as it starts (IPython's ``exec_lines``, before the first
#: cell), while :func:`write_report` analyses the data: what the notebooks' cells import; and
#: the kernel's garbage collector set as :func:`collecting_less` sets this process's
_WARM_UP = "; ".join([f"gc = __import__('gc'); gc.set_threshold(max(gc.get_threshold()[0], "
                      f"{_GC_FIRST_GENERATION}), *gc.get_threshold()[1:]); del gc"] + [
    f"__import__({m!r})" for m in (
        "outcomes.reporting", "outcomes.sections", "outcomes.figures", "outcomes.tables",
        "outcomes.audit_report", "outcomes.analysis")])


def _start_kernel(km, cwd) -> None:
    """Start ``km``'s kernel in ``cwd`` as papermill would (IPython history in memory), an
    IPython kernel importing :data:`_WARM_UP` before it answers."""
    from jupyter_core.utils import run_sync

    # no output cache (``_``, ``Out``): the notebooks never read it, and emptying it made
    # each notebook's namespace reset (:data:`_RESET`) run a full garbage collection
    extra = ["--HistoryManager.hist_file=:memory:", "--InteractiveShell.cache_size=0"]
    if km.ipykernel:
        extra.append(f"--IPKernelApp.exec_lines={_WARM_UP}")
    run_sync(km.start_kernel)(cwd=cwd, extra_arguments=extra)


def _shutdown_kernel(km) -> None:
    if km.has_kernel:
        from jupyter_core.utils import run_sync

        run_sync(km.shutdown_kernel)(now=True)


#: run before each notebook in the shared kernel: ``%reset -f`` without the two full garbage
#: collections of the kernel's heap it ran (its own and the output cache's, ~80 ms each)
_RESET = ("# a fresh namespace in the shared kernel (imports stay loaded)\n"
          "get_ipython().reset(new_session=False)\n"
          "__import__('matplotlib.pyplot').pyplot.close('all')")


def run_notebook(filename: str, parameters: dict, *, kernel: str, cwd: str | None = None,
                 km=None):
    """Execute one bundled notebook with papermill; returns the executed notebook.

    Parameters
    ----------
    filename : str
        A notebook of ``outcomes/notebooks`` (e.g. ``"02-efficacy.ipynb"``).
    parameters : dict
        Values for its ``parameters`` cell.
    kernel : str
        From :func:`find_kernel`.
    cwd : str, optional
        Working folder of the kernel.
    km : KernelManager, optional
        A kernel shared by several notebooks (see :func:`write_report`); the notebook then
        starts from an empty namespace. Default: a kernel of its own.

    Raises
    ------
    ReportError
        When a cell fails (naming the notebook, cell and error) or the kernel does not start.
    """
    import papermill as pm

    import nbformat

    nb = _read_notebook(filename)
    # each notebook gets the parameters its parameters cell declares (the audit's inputs go to
    # the audit notebook only), so that papermill prints no "unknown parameter" line
    declared = _declared_parameters(nb)
    parameters = {k: v for k, v in parameters.items() if k in declared}
    # a kernel of its own is stopped at once when done, not asked to exit: a graceful exit
    # runs the interpreter's teardown of pandas and matplotlib (~0.3 s of CPU) for nothing
    engine = {"kernel_manager_class": _quiet_kernel_manager(), "shutdown_kernel": "immediate"}
    if km is not None:
        nb.cells.insert(0, nbformat.v4.new_code_cell(_RESET))
        engine = {"km": km}
    try:
        return pm.execute_notebook(nb, None, parameters=parameters, kernel_name=kernel,
                                   progress_bar=False, log_output=False, cwd=cwd,
                                   execution_timeout=_TIMEOUT_S, **engine)
    except pm.PapermillExecutionError as err:
        raise ReportError(f"notebook {filename} failed in cell {err.exec_count}: "
                          f"{err.ename}: {err.evalue}") from None
    except RuntimeError as err:  # nbclient: "Kernel died before replying to kernel_info"
        raise ReportError(f"the Jupyter kernel did not start for {filename} ({err}). Run "
                          f"`{sys.executable} -m ipykernel install --user` or reinstall "
                          "outcomes, then try again.") from None


#: The page's own style (inlined by the ``outcomes`` nbconvert template): a column that reads
#: on a phone (tables scroll sideways, figures shrink), and A4 print rules used by the browser's
#: print and by ``--pdf``: headings and notes kept with what follows, rows never split, tables
#: fitted to the page width.
PAGE_CSS = """
body.jp-Notebook {max-width: 1120px; margin: 0 auto;}
.jp-OutputArea-output img, .jp-RenderedHTMLCommon img {max-width: 100%; height: auto;}
.outcomes-scroll {overflow-x: auto; max-width: 100%; -webkit-overflow-scrolling: touch;}
.outcomes-scroll .outcomes-table {margin-bottom: 0.2em;}
.outcomes-note {font-size: 12.5px; color: #444; margin: 0.1em 0 1.3em 0; max-width: 60em;}
@media (max-width: 640px) {
  .jp-Cell {padding: 2px 6px;}
  .jp-RenderedHTMLCommon {padding-right: 0;}
  .jp-RenderedHTMLCommon h1 {font-size: 1.55em;}
  .outcomes-headline {font-size: 15px; padding-left: 1.1em;}
}
@page {size: A4; margin: 13mm 11mm 15mm 11mm;
  @bottom-center {content: "page " counter(page) " of " counter(pages); font-size: 8pt;
                  color: #555;}}
@media print {
  body.jp-Notebook {max-width: none; font-size: 9.5pt;}
  .jp-Cell {padding: 0 !important;}
  .jp-RenderedHTMLCommon h1, .jp-RenderedHTMLCommon h2, .jp-RenderedHTMLCommon h3,
  .jp-RenderedHTMLCommon h4, h1, h2, h3, h4 {break-after: avoid; page-break-after: avoid;}
  .jp-MarkdownCell, .outcomes-banner, .outcomes-headline {break-after: avoid;}
  tr, img, li, .outcomes-note, .outcomes-banner {break-inside: avoid;}
  .outcomes-scroll {overflow: visible;}
  .jp-OutputArea-output img {max-height: 125mm; width: auto;}
  .outcomes-table {width: 100%; font-size: 7.8pt;}
  .outcomes-table td, .outcomes-table th {max-width: none !important; padding: 2px 4px;
    overflow-wrap: break-word;}
  .jp-RenderedHTMLCommon a {color: inherit; text-decoration: none;}
}
"""


def notebook_html(nb, title: str) -> str:
    """HTML of an executed notebook with code, prompts, stderr and warnings left out.

    The page is self-contained: the ``outcomes`` template (``outcomes/templates``) loads no
    script, style or font from elsewhere, figures are inlined as ``data:`` URIs, and the style
    is :data:`PAGE_CSS`.
    """
    import nbformat

    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [o for o in cell.get("outputs", [])
                               if not (o.get("output_type") == "stream"
                                       and o.get("name") == "stderr")
                               and o.get("output_type") != "error"]
    nb.metadata["title"] = title
    body, _ = _html_exporter().from_notebook_node(nb, resources={"outcomes_css": PAGE_CSS})
    return body


@functools.lru_cache(maxsize=1)
def _html_exporter():
    """The one HTML exporter of this process: its Jinja environment compiles the ~50 templates
    of the ``outcomes`` template once, not once per page (0.1-0.2 s of CPU a page)."""
    from nbconvert import HTMLExporter

    templates = resources.files("outcomes").joinpath("templates")
    return HTMLExporter(template_name="outcomes", extra_template_basedirs=[str(templates)],
                        exclude_input=True, exclude_input_prompt=True,
                        exclude_output_prompt=True)


def definitions_html() -> str:
    """The outcome definitions page (``docs/outcome-definitions.md``, shipped as
    ``outcomes/data/outcome-definitions.md``) as one self-contained HTML page."""
    import mistune

    text = resources.files("outcomes").joinpath("data", "outcome-definitions.md").read_text(
        encoding="utf-8")
    body = str(mistune.create_markdown(plugins=["table"])(text))
    # every table in a box that scrolls sideways on a phone, as the report pages
    body = body.replace("<table>", '<div class="outcomes-scroll"><table>').replace(
        "</table>", "</table></div>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>Outcome definitions</title><style>"
            "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
            "padding:0 1rem;line-height:1.5;color:#222}table{border-collapse:collapse;"
            "margin:1rem 0}th,td{border-bottom:1px solid #ccc;padding:.3rem .6rem;"
            "text-align:left;vertical-align:top}code{font-size:.9em}"
            ".outcomes-scroll{overflow-x: auto}"
            "@media (max-width: 640px){body{margin:1rem auto;font-size:15px}}"
            f"</style></head><body><main>{body}</main></body></html>\n")


def write_definitions_page(out) -> Path:
    """Write :func:`definitions_html` to ``out/outcome-definitions.html`` (the page every
    report page links to, :data:`outcomes.sections.DEFINITIONS_PAGE`)."""
    from outcomes.sections import DEFINITIONS_PAGE

    path = Path(out) / DEFINITIONS_PAGE
    path.write_text(definitions_html(), encoding="utf-8")
    return path


#: The PDF written by ``outcomes report --pdf``: the audit page (``index.html``) on A4.
PDF_NAME = "report.pdf"

_PANGO_HINT = ("install it with your system's packages (Debian/Ubuntu: apt-get install "
               "libpango-1.0-0 libpangoft2-1.0-0; macOS: brew install pango; Windows: see "
               "WeasyPrint's installation notes), or leave out --pdf and print index.html "
               "from a browser")


def _pdf_engine():
    """WeasyPrint's ``HTML`` class, or a ReportError saying in one line what to install."""
    try:
        from weasyprint import HTML
    except ImportError:
        raise ReportError("--pdf needs WeasyPrint, which is not installed: run `"
                          f"{sys.executable} -m pip install weasyprint` (or reinstall "
                          "outcomes), or leave out --pdf.") from None
    except OSError as err:  # the Pango library that WeasyPrint loads is missing
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ReportError(f"--pdf needs the Pango library, which pip cannot install "
                          f"({first}): {_PANGO_HINT}.") from None
    return HTML


def write_pdf(html: str, path) -> int:
    """Render a report page (its HTML text) to an A4 PDF; returns the number of pages.

    The page's own print rules (:data:`PAGE_CSS`) set the A4 size and margins, keep headings
    with what follows, never split a table row and fit tables to the page width. Links to the
    other pages are dropped (a circulated PDF cannot follow them); figures are inlined already.

    Parameters
    ----------
    html : str
        A page written by :func:`notebook_html`.
    path : str or path
        The PDF written.

    Raises
    ------
    ReportError
        When the PDF engine (WeasyPrint, and the Pango library it uses) is missing.
    """
    import logging

    engine = _pdf_engine()
    # WeasyPrint warns about every CSS property it does not know (JupyterLab's style has many)
    # and about the relative links it drops: none of it is the user's business
    quiet = [logging.getLogger(name) for name in ("weasyprint", "fontTools")]
    levels = [log.level for log in quiet]
    for log in quiet:
        log.setLevel(logging.CRITICAL)
    try:
        document = engine(string=html).render()
        document.write_pdf(str(path))
    finally:
        for log, level in zip(quiet, levels):
            log.setLevel(level)
    return len(document.pages)


def report_files() -> frozenset[str]:
    """Names of the files ``outcomes report`` writes (the HTML pages, the PDF, results.json)."""
    from outcomes.sections import DEFINITIONS_PAGE

    return frozenset({html for _, _, html in NOTEBOOKS}
                     | {PDF_NAME, "results.json", DEFINITIONS_PAGE})


def check_out_folder(out, *, force: bool = False) -> None:
    """Refuse a report folder that is a file, or that holds anything but an earlier report.

    Parameters
    ----------
    out : str or pathlib.Path
        The ``--out`` folder (may not exist yet).
    force : bool, default False
        Accept a folder holding other files (they are left alone; the report's own files are
        replaced). Never accepts a file.

    Raises
    ------
    ReportError
        Naming the path and up to four of the other files, and the fix.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ReportError(f"--out {out} is an existing file, not a folder; give a folder "
                          "(new, empty, or holding an earlier report).")
    if force or not out.is_dir():
        return
    own = report_files()
    other = sorted(p.name for p in out.iterdir()
                   if p.name not in own and not p.name.startswith("."))
    if other:
        shown = ", ".join(other[:4]) + (f" and {len(other) - 4} more" if len(other) > 4
                                        else "")
        raise ReportError(f"--out {out} holds files that are not an earlier report ({shown}); "
                          "give a new or empty folder, or add --force to write the report "
                          "beside them.")


@contextlib.contextmanager
def collecting_less():
    """Python's cyclic garbage collector run less often while a report is written.

    pandas, statsmodels, papermill, nbconvert and WeasyPrint leave ~200,000 objects for every
    full collection to walk (~80 ms each; 7 in a report of the sample with ``--pdf``, half a
    second of CPU). A first generation of 10,000 allocations instead of 700 leaves one full
    collection; nothing written changes. The thresholds are restored on leaving.
    """
    import gc

    old = gc.get_threshold()
    gc.set_threshold(max(old[0], _GC_FIRST_GENERATION), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


@collecting_less()
def write_report(data, out, *, cutoff: dt.date, shareable: bool = False,
                 date_format: str = "ISO", decimal_comma: bool = False, mapping=None,
                 definitions=None, quarter: str | None = None, progress=None,
                 pdf: bool = False, force: bool = False, key_file=None, previous=(),
                 standards=None, actions=None) -> list[Path]:
    """Load, analyse, execute every notebook and write the HTML and ``results.json``.

    Parameters
    ----------
    data : str or path
        The export.
    out : str or path
        Folder written (created if needed).
    cutoff : datetime.date
        Last day analysed.
    shareable : bool, default False
    date_format, decimal_comma, mapping, definitions
        As :func:`prepare_report`.
    quarter : str, optional
        The quarter label shown in the titles.
    progress : callable, optional
        Called with one line of progress text per step (default: print to stderr).
    previous, standards, actions
        The quarterly audit's inputs (see :func:`prepare_report`); the previous files and
        their definitions checked first (:func:`outcomes.audit.check_previous`), the rest
        right after the analysis, before any notebook runs.
    pdf : bool, default False
        Also write :data:`PDF_NAME`, the audit page on A4 (see :func:`write_pdf`); checked
        first, so that a missing PDF engine stops the run before any work.
    force : bool, default False
        Write into ``out`` even when it holds files that are not an earlier report
        (:func:`check_out_folder`).

    Returns
    -------
    list of pathlib.Path
        The files written.

    Raises
    ------
    ReportError
        When ``out`` is a file, or holds other files and ``force`` is False (before any work).
    """
    say = progress or (lambda line: print(line, file=sys.stderr, flush=True))
    out = Path(out)
    check_out_folder(out, force=force)
    if previous:   # a file the re-audit cannot compare is refused before any work
        from outcomes.audit import check_previous
        from outcomes.definitions import Definitions

        check_previous(previous,
                       Definitions.from_toml(definitions) if definitions else Definitions())
    out.mkdir(parents=True, exist_ok=True)
    kernel = find_kernel()
    if pdf:
        _pdf_engine()
    steps = len(NOTEBOOKS) + 1 + bool(pdf)
    written: list[Path] = []
    t = time.perf_counter()
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="outcomes-report-"))
        # one kernel runs every notebook in turn, each from an empty namespace: the kernel
        # starts and the libraries are imported once, not once per notebook; it starts as
        # soon as the export is read, and imports them while this process analyses it
        km = _quiet_kernel_manager()(kernel_name=kernel)
        stack.callback(_shutdown_kernel, km)
        export, analysis = _load_and_analyse(data, date_format, decimal_comma, mapping,
                                             cutoff, definitions,
                                             after_load=lambda: _start_kernel(km, tmp))
        coder = None
        if shareable:
            from outcomes import disclosure

            disclosure.check_shareable_definitions(analysis.definitions,
                                                   cutoff=analysis.cutoff)
            coder = disclosure.PractitionerCoder(disclosure.clinic_key(key_file),
                                                 rounding_key=analysis.data_key())
        from outcomes.audit import quarterly_audit

        audit = quarterly_audit(analysis, previous=previous or (), standards=standards,
                                actions=actions)
        say(f"[1/{steps}] load and analyse ... {time.perf_counter() - t:.1f} s")
        pickled = Path(tmp) / "analysis.pickle"
        with open(pickled, "wb") as fh:
            # the audit too: made once here, not again by each notebook
            pickle.dump((analysis, export, coder, audit), fh, protocol=pickle.HIGHEST_PROTOCOL)
        params = {"data": str(Path(data).resolve()), "date_format": date_format,
                  "decimal_comma": bool(decimal_comma),
                  "mapping": str(Path(mapping).resolve()) if mapping else None,
                  "cutoff": cutoff.isoformat(), "quarter": quarter,
                  "definitions": str(Path(definitions).resolve()) if definitions else None,
                  "shareable": bool(shareable), "min_cell": None,
                  "analysis_path": str(pickled),
                  "previous": [str(Path(x).resolve()) for x in previous] if previous else None,
                  "standards": str(Path(standards).resolve()) if standards else None,
                  "actions": str(Path(actions).resolve()) if actions else None}
        for i, (filename, label, html_name) in enumerate(NOTEBOOKS, start=2):
            start = time.perf_counter()
            nb = run_notebook(filename, params, kernel=kernel, cwd=tmp, km=km)
            title = f"{label.capitalize()} - {quarter or cutoff.isoformat()}"
            path = out / html_name
            path.write_text(notebook_html(nb, title + (" (shareable)" if shareable else "")),
                            encoding="utf-8")
            written.append(path)
            say(f"[{i}/{steps}] {label} ... {time.perf_counter() - start:.1f} s")
    order = {html: i for i, (_, _, html) in enumerate(NOTEBOOKS)}
    written.sort(key=lambda p: order[p.name])
    if pdf:
        start = time.perf_counter()
        pages = write_pdf((out / "index.html").read_text(encoding="utf-8"), out / PDF_NAME)
        written.append(out / PDF_NAME)
        say(f"[{steps}/{steps}] PDF, {pages} A4 pages ... {time.perf_counter() - start:.1f} s")
    written.append(write_definitions_page(out))
    results = out / "results.json"
    results.write_text(json.dumps(analysis.to_dict(shareable=shareable, coder=coder), indent=2,
                                  default=str) + "\n", encoding="utf-8")
    written.append(results)
    return written


def report(data=None, out="reports", *, quarter: str | None = None, cutoff=None,
           shareable: bool = False, **options) -> list[Path]:
    """Write the quarterly audit report of an export: HTML pages and ``results.json``.

    What ``outcomes report`` does, for a notebook or a script.

    Parameters
    ----------
    data : str or path, optional
        The export (default: the bundled sample, :func:`outcomes.sample_path`).
    out : str or path, default "reports"
        Folder written (created if needed; refused when it holds other files, unless
        ``force=True``).
    quarter : str, optional
        The quarter audited, e.g. ``"2026Q3"``: the cut-off is its last day.
    cutoff : date-like, optional
        The last day analysed, instead of ``quarter`` (default today).
    shareable : bool, default False
        Publish under the disclosure-control policy (docs/disclosure-control.md).
    **options
        Any keyword of :func:`write_report`: ``date_format``, ``decimal_comma``, ``mapping``,
        ``definitions``, ``pdf``, ``force``, ``key_file``, ``previous``, ``standards``,
        ``actions``.

    Returns
    -------
    list of pathlib.Path
        The files written (``index.html`` first is the audit page).

    Examples
    --------
    >>> import outcomes as oc
    >>> oc.report(oc.sample_path(), "reports", quarter="2026Q3")  # doctest: +SKIP
    """
    if data is None:
        from outcomes.sample import sample_path
        data = sample_path()
    day = _parse_cutoff(quarter, None if cutoff is None else str(cutoff))
    m = _QUARTER.match(quarter) if quarter else None
    return write_report(data, out, cutoff=day, shareable=shareable,
                        quarter=f"{m[1]}Q{m[2]}" if m else quarter, **options)


def cli_report(args) -> int:
    """``outcomes report``: write the quarterly audit report (HTML) and ``results.json``."""
    cutoff = _parse_cutoff(getattr(args, "quarter", None), getattr(args, "cutoff", None))
    quarter = getattr(args, "quarter", None)
    if quarter:
        m = _QUARTER.match(quarter)
        quarter = f"{m[1]}Q{m[2]}" if m else quarter
    t = time.perf_counter()
    written = write_report(args.data, args.out, cutoff=cutoff, shareable=args.shareable,
                           date_format=args.date_format, decimal_comma=args.decimal_comma,
                           mapping=args.mapping, definitions=args.definitions,
                           quarter=quarter, pdf=bool(getattr(args, "pdf", False)),
                           force=bool(getattr(args, "force", False)),
                           key_file=getattr(args, "key_file", None),
                           previous=getattr(args, "previous", None) or (),
                           standards=getattr(args, "standards", None),
                           actions=getattr(args, "actions", None))
    kind = "shareable report" if args.shareable else "internal report (do not share)"
    print(f"wrote the {kind} to {Path(args.out)}/ in {time.perf_counter() - t:.1f} s: "
          + ", ".join(p.name for p in written), file=sys.stderr)
    print(str(Path(args.out) / "index.html"))
    return 0
