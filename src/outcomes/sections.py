"""The sections of the report notebooks: one call per notebook cell, everything it shows.

A report notebook holds a parameters cell (values only), one set-up call
(:func:`outcomes.reporting.report_context`) and then one call per section, e.g.
``sections.response(ctx)``. Each function here takes the :class:`~outcomes.reporting.ReportContext`
and returns a :class:`Section`: HTML that a notebook displays (``_repr_html_``), with its
figures inlined as PNG ``data:`` URIs. Headings, explanations and definitions are written here
from the analysis, its definitions and the registry of published figures, never by hand in a
notebook; so a definitions file that changes a window changes the words too.

Shareable mode: every frame comes through ``ctx.frame`` (the one disclosure pass); the
patient-level sections say that their list is in the internal report only.
"""
from __future__ import annotations

import dataclasses

import base64
import html
import io
import re
import struct
from dataclasses import dataclass

import pandas as pd

__all__ = ["Section", "figure_html", "heading", "title", "provenance",
           # 01 data quality
           "data_quality_intro", "load_counts", "quarantine_reasons", "quarantine_rows",
           # 02 efficacy
           "efficacy_summary", "who_was_assessed", "against_published", "hair_density",
           "practitioners_and_quarters", "patient_groups", "density_model",
           # 03 safety
           "safety_summary", "adverse_events", "safety_followup", "edema_by_session",
           "sentinel_events",
           # 04 quarterly audit
           "headline", "headline_figure", "page_links", "patients", "response_summary",
           "safety_overview", "protocol_and_screening",
           # 04 quarterly audit cycle (outcomes.audit_report)
           "safety_findings", "audit_periods", "audit_standards", "reaudit", "action_plan",
           "compared_with_published",
           # 05 protocol
           "protocol_adherence", "screening",
           # 90 pooled
           "pooled_intro", "pooled_clinics", "pooled_flow", "pooled_response",
           "pooled_heterogeneity", "pooled_clinic_rates", "pooled_funnel",
           "pooled_against_published", "pooled_adverse_events", "pooled_protocol",
           "pooled_not_pooled", "reading_notes", "DEFINITIONS_PAGE"]


@dataclass(frozen=True)
class Section:
    """A piece of a report page: HTML shown by a notebook (and kept by nbconvert)."""

    html: str

    def _repr_html_(self) -> str:
        return self.html

    def __add__(self, other: Section) -> Section:
        return Section(self.html + other.html)


def _join(*parts) -> Section:
    return Section("".join(p.html if isinstance(p, Section) else str(p) for p in parts if p))


def _slug(text: str) -> str:
    return re.sub(r"[^\w-]+", "-", text.strip()).strip("-")


def heading(text: str, level: int = 2) -> str:
    """``<h2 id="...">text</h2>``: an anchor other pages and the table of contents can use."""
    return f'<h{level} id="{html.escape(_slug(text))}">{html.escape(text)}</h{level}>'


def _p(text: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<p{attr}>{html.escape(text)}</p>"


def _png_width(png: bytes) -> int:
    return struct.unpack(">I", png[16:20])[0]


def _laid_out_box(fig, dpi: int):
    """The figure's tight bounding box (inches, padded as ``savefig`` pads it) for a figure
    laid out by its layout engine (constrained layout), or ``"tight"``.

    ``savefig(bbox_inches="tight")`` of a figure with a layout engine draws it twice: once
    (layout, then every artist, not rendered) to find the box, once to render. Here the engine
    lays the figure out at the saving ``dpi`` and is then switched off, so that ``savefig``
    draws once; the PNG is the same, pixel for pixel.
    """
    import matplotlib as mpl

    engine = fig.get_layout_engine()
    get_renderer = getattr(fig.canvas, "get_renderer", None)
    pad = mpl.rcParams["savefig.pad_inches"]
    if engine is None or get_renderer is None or isinstance(pad, str):
        return "tight"
    fig.set_dpi(dpi)
    engine.execute(fig)
    fig.set_layout_engine(None)
    if fig.get_layout_engine() is not None:  # rcParams ask for an engine on every figure
        return "tight"
    return fig.get_tightbbox(get_renderer()).padded(pad)


def _png(fig, dpi: int, box, facecolor="white") -> bytes:
    """The figure drawn as ``savefig(format="png", dpi=dpi, bbox_inches=box,
    facecolor=facecolor)`` draws it, written as matplotlib writes a PNG (its ``Software``
    text, the dpi), but in RGB when every pixel is opaque (a white face: the report's
    figures): the same pixels in three channels instead of four, ~40% less CPU to compress
    and ~10% fewer bytes. A ``"tight"`` box, or a figure with a transparent pixel, is
    written as ``savefig`` writes it, byte for byte."""
    import matplotlib as mpl
    import numpy as np
    from PIL import Image, PngImagePlugin

    buf = io.BytesIO()
    if isinstance(box, str):
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches=box, facecolor=facecolor)
        return buf.getvalue()
    # matplotlib's Agg canvas for a box: RendererAgg(int(width * dpi), int(height * dpi))
    width, height = (int(v * dpi) for v in box.size)
    fig.savefig(buf, format="rgba", dpi=dpi, bbox_inches=box, facecolor=facecolor)
    rgba = np.frombuffer(buf.getbuffer(), dtype=np.uint8)
    if rgba.size != width * height * 4:   # not the canvas foreseen: matplotlib's PNG
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches=box, facecolor=facecolor)
        return buf.getvalue()
    image = Image.frombuffer("RGBA", (width, height), rgba, "raw", "RGBA", 0, 1)
    if rgba[3::4].min() == 255:
        image = image.convert("RGB")
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", f"Matplotlib version{mpl.__version__}, https://matplotlib.org/")
    out = io.BytesIO()
    image.save(out, format="png", pnginfo=info, dpi=(dpi, dpi))
    return out.getvalue()


def figure_html(fig=None, *, alt: str = "", dpi: int = 150) -> str:
    """A matplotlib figure (default: the current one) as an ``<img>`` with a PNG ``data:`` URI,
    drawn at ``dpi`` and shown at 100 px per inch (sharp on high-density screens); the figure
    is closed."""
    import matplotlib.pyplot as plt

    fig = plt.gcf() if fig is None else fig
    if not alt:
        alt = "; ".join(ax.get_title() for ax in fig.axes if ax.get_title()) or "figure"
    png = _png(fig, dpi, _laid_out_box(fig, dpi))
    plt.close(fig)
    width = round(_png_width(png) * 100 / dpi)
    data = base64.b64encode(png).decode("ascii")
    return (f'<img class="outcomes-figure" width="{width}" alt="{html.escape(alt)}" '
            f'src="data:image/png;base64,{data}"/>')


#: :func:`_drawn`'s figures of this process, by a digest of the plot and its inputs
_DRAWN: dict[bytes, str] = {}


def _drawn(plot, *args, **kwargs) -> str:
    """:func:`figure_html` of ``plot(*args, **kwargs)`` (an :mod:`outcomes.figures`
    function), drawn once per process for the same inputs.

    The flow chart, the p-chart and the adverse-event chart are on two pages of one report,
    whose notebooks run in one kernel: the second page takes the first page's ``<img>``. The
    key is a digest of the function, its arguments (pickled: frames equal in content and
    layout) and matplotlib's settings, so that other data or another style draws again.
    """
    import hashlib
    import pickle

    import matplotlib as mpl

    try:
        key = hashlib.sha256(pickle.dumps(
            (plot.__module__, plot.__qualname__, args, kwargs,
             repr(sorted(mpl.rcParams.items()))), protocol=pickle.HIGHEST_PROTOCOL)).digest()
    except (pickle.PicklingError, TypeError, AttributeError):
        key = None
    if key is not None and key in _DRAWN:
        return _DRAWN[key]
    plot(*args, **kwargs)
    tag = figure_html()
    if key is not None:
        if len(_DRAWN) >= 16:               # a report has a handful; keep memory small
            _DRAWN.pop(next(iter(_DRAWN)))
        _DRAWN[key] = tag
    return tag


def _table(df: pd.DataFrame, empty: str = "None.") -> str:
    from outcomes.tables import to_html

    return to_html(df) if len(df) else _p(empty)


def _sentences(lines) -> str:
    from outcomes.tables import sentences_html

    return sentences_html(list(lines))


def _ax_pair(width: float, height: float):
    import matplotlib.pyplot as plt

    return plt.subplots(1, 2, figsize=(width, height), layout="constrained")


# --- every page ---------------------------------------------------------------------------

#: page titles by notebook
_TITLES = {"data_quality": "Data quality", "efficacy": "Efficacy at 12 months",
           "safety": "Safety", "audit": "Quarterly audit report",
           "protocol": "Protocol and screening"}


def title(ctx, page: str) -> Section:
    """The banner saying who may read the page, and its title with the period."""
    from outcomes.tables import banner_html

    return _join(banner_html(ctx.shareable, ctx.min_cell),
                 heading(f"{_TITLES.get(page, page)}: {ctx.period}", 1))


#: the page holding every outcome definition, written beside the report pages
DEFINITIONS_PAGE = "outcome-definitions.html"


def reading_notes(ctx) -> Section:
    """Every page: how many comparisons the report makes (multiplicity) and where every
    outcome definition is written (:data:`DEFINITIONS_PAGE`)."""
    from outcomes import text

    if hasattr(ctx, "analysis"):
        frames = {name: ctx.frame(name)
                  for name in ("response", "adverse_events", "strata", "funnel", "quarterly",
                               "model")}
        conf = _conf(ctx)
    else:   # the pooled report
        frames = {name: ctx.frames.get(name) for name in ("response", "adverse_events",
                                                          "strata", "funnel", "quarterly")}
        conf = float(ctx.definitions.get("confidence", 0.95))
    return _join(heading("Reading the numbers"),
                 _p(text.multiplicity_sentence(frames, confidence=conf)),
                 f'<p>What every figure counts (improved, marked improvement, worst case, '
                 f'the comparable group, the published figures and their denominators): '
                 f'<a href="{DEFINITIONS_PAGE}">outcome definitions</a>.</p>')


def provenance(ctx) -> Section:
    """What produced the page: version, cut-off, run time, input fingerprints, definitions."""
    from outcomes.tables import provenance_table

    return _join(heading("Provenance"),
                 _p("What produced this page: the package version, the data cut-off, when it "
                    "ran, the SHA-256 fingerprint of each input file and every outcome "
                    "definition used. Two reports are comparable only when their definitions "
                    "match."),
                 _table(provenance_table(ctx.analysis, run_time=ctx.run_time,
                                         shareable=ctx.shareable)))


# --- 01 data quality ----------------------------------------------------------------------

def data_quality_intro(ctx) -> Section:
    return Section(_p("Every row of the export is accounted for: accepted, or set aside "
                      "(quarantined) with the rule it broke. Only accepted rows are analysed."))


def load_counts(ctx) -> Section:
    """Rows read, accepted and set aside per table, and the loader's notes."""
    from outcomes.tables import load_counts_table

    report = ctx.analysis.load_report
    lines = ctx.load_notes()     # shareable: ignored files and columns counted, not named
    if report.other_terms and not ctx.shareable:
        u = getattr(report, "unmapped_terms", None)
        listed = ("; ".join(f"{t} ({n})" for t, n in zip(u["term_as_written"], u["events"]))
                  if u is not None and len(u) else "; ".join(report.other_terms))
        lines.append("Adverse-event terms not in the vocabulary (analysed as 'other'; map them "
                     "under [terms] in the mapping file), with their events: " + listed)
    lines += [f"{t}: optional column(s) not in the export, counted as not recorded: "
              f"{', '.join(c)}." for t, c in getattr(report, "absent_columns", {}).items()]
    if "not_recorded" in {f.name for f in dataclasses.fields(ctx.analysis)}:
        from outcomes.text import not_recorded_sentences

        lines += not_recorded_sentences(ctx.frame("not_recorded"), first_screen_only=False)
    return _join(heading("Rows read, accepted and set aside"),
                 _table(load_counts_table(ctx.frame("load_counts"))),
                 _sentences(lines or ["No notes: every table was present and every column "
                                      "is in the contract."]))


def quarantine_reasons(ctx) -> Section:
    from outcomes.tables import quarantine_summary

    return _join(heading("Why rows were set aside"),
                 _table(quarantine_summary(ctx.frame("quarantine_summary")),
                        "No row was set aside."))


def quarantine_rows(ctx) -> Section:
    """Internal only: each cell set aside, with its spreadsheet row and the fix."""
    from outcomes.tables import quarantine_table

    if ctx.shareable:
        return Section("")
    return _join(heading("Quarantined rows (internal)"),
                 _p("Each cell set aside, with its spreadsheet row (the header is row 1) and "
                    "the fix. The first 200 are shown; outcomes validate lists them all."),
                 _table(quarantine_table(ctx.analysis.load_report), "No row was set aside."))


# --- 02 efficacy --------------------------------------------------------------------------

def _conf(ctx) -> float:
    return float(ctx.analysis.definitions.confidence)


def efficacy_summary(ctx) -> Section:
    from outcomes import text

    response = ctx.frame("response")
    photo = response[response["family"] == "photographic"]
    lines = [text.flow_sentence(ctx.frame("flow"), ctx.analysis.cutoff)]
    # the group comparable with the study first; each group's worst case as a bound
    for group in ("comparable", "all"):
        g = photo[photo["group"] == group].set_index("outcome", drop=False)
        lines += [text.response_sentence(g.loc[o], confidence=_conf(ctx))
                  for o in ("improved", "dramatic") if o in g.index]
        if {"improved", "worst_case_improved"} <= set(g.index):
            lines.append(text.bound_sentence(g.loc["improved"], g.loc["worst_case_improved"],
                                             rounded=ctx.shareable))
    return Section(_sentences(lines))


def who_was_assessed(ctx) -> Section:
    from outcomes import figures
    from outcomes.tables import flow_table

    return _join(heading("Who was assessed"),
                 _p("Loss to follow-up is the largest bias of a retrospective audit: the "
                    "worst-case rate counts every patient due but not assessed as not "
                    "improved."),
                 _drawn(figures.cohort_flow_plot, ctx.frame("flow")),
                 _table(flow_table(ctx.frame("flow"))))


def _published_sentence() -> str:
    """'The published 80% and 38% come from 86 patients ...', from the registry."""
    from outcomes.registry import published_figures

    pub = published_figures().set_index("id")
    imp, marked = pub.loc["saceda2022_improved"], pub.loc["saceda2022_marked"]
    return (f"The published {100 * imp['quoted_rate']:.0f}% and "
            f"{100 * marked['quoted_rate']:.0f}% come from {int(imp['n'])} patients on "
            f"mesotherapy alone assessed at one year ({imp['study']} {int(imp['year'])}); the "
            "comparable group is your patients without topical minoxidil. Both intervals are "
            "shown: a published figure is a count with its own uncertainty.")


def against_published(ctx) -> Section:
    from outcomes import figures
    from outcomes.registry import published_figures
    from outcomes.tables import benchmark_labels, published_records, published_table, \
        response_table

    from outcomes.tables import photographic_sensitivity_table

    response = ctx.frame("response")
    others = published_records(published_figures(),
                               exclude=ctx.analysis.response["benchmark_id"].dropna())
    figures.forest_plot(response, published=others, level=_conf(ctx),
                        benchmark_labels=benchmark_labels(published_figures()))
    d = ctx.analysis.definitions
    return _join(heading("Against the published figures"), _p(_published_sentence()),
                 figure_html(), _table(response_table(response, confidence=_conf(ctx))),
                 _p("Other published figures in the plot, and how comparable they are:"),
                 _table(published_table(others)),
                 heading("Photographic threshold", 3),
                 _p(f"How the photographic rate moves with the GPA threshold (improved is "
                    f">= {d.gpa_improved:+d}, marked improvement >= {d.gpa_dramatic:+d}), "
                    "among all photographed patients:"),
                 _table(photographic_sensitivity_table(ctx.frame("photographic_sensitivity"),
                                                       confidence=_conf(ctx))))


def hair_density(ctx) -> Section:
    from outcomes import figures
    from outcomes.tables import density_change_table, sensitivity_table

    A = ctx.analysis
    parts = [heading("Hair density"),
             _table(density_change_table(ctx.frame("density_change"),
                                         confidence=_conf(ctx)))]
    _, (ax1, ax2) = _ax_pair(12, 4.2)
    figures.density_change_histogram(counts=ctx.frame("density_histogram"),
                                     threshold=A.definitions.density_improved, ax=ax1)
    figures.density_sensitivity_plot(ctx.frame("density_sensitivity"),
                                     chosen=A.definitions.density_improved, ax=ax2,
                                     level=_conf(ctx))
    parts += [figure_html(), _table(sensitivity_table(ctx.frame("density_sensitivity"),
                                                      confidence=_conf(ctx)))]
    if not ctx.shareable:
        figures.density_trajectories(ctx.export.measurements, A.cohort)
        parts += [heading("Density over time (internal: one line per patient)", 3),
                  figure_html()]
    return _join(*parts)


def practitioners_and_quarters(ctx) -> Section:
    from outcomes import figures, text
    from outcomes.tables import practitioner_table

    A = ctx.analysis
    figures.funnel_plot(ctx.frame("funnel"), levels=A.definitions.funnel_levels)
    funnel = figure_html()
    p_chart = _drawn(figures.p_chart_plot, ctx.frame("quarterly"), family="photographic")
    return _join(heading("By practitioner and by quarter"),
                 _p("The funnel plot shows each practitioner's improved rate against the "
                    "clinic's, with exact binomial limits; the p-chart shows each quarter's "
                    "rate (by the quarter of the 12-month assessment) with exact binomial "
                    "limits from its own denominator, read by the NHS Making Data Count rules: "
                    "a point beyond the limits, 7 quarters in a row on one side of the centre, "
                    "7 rising or falling, or two of three beyond the 2-sigma line; blue marks an "
                    "improvement, orange a concern. Quarters with fewer than "
                    f"{int(A.definitions.spc_min_n)} patients are not plotted."),
                 funnel, p_chart,
                 _p(text.spc_sentence(ctx.frame("quarterly"),
                                      min_n=int(A.definitions.spc_min_n))),
                 _p("Each practitioner against the clinic: the exact test and, because the "
                    "practitioners are read together, its Holm adjustment."),
                 _table(practitioner_table(ctx.frame("funnel"))))


def patient_groups(ctx) -> Section:
    from outcomes.tables import strata_table

    return _join(heading("By patient group"),
                 _p("For each grouping, one test that the rate is the same in every recorded "
                    "level (chi-squared); the groupings of one outcome are read together, so "
                    "the Holm-adjusted p-value is shown beside it."),
                 _table(strata_table(ctx.frame("strata"), confidence=_conf(ctx))))


def density_model(ctx) -> Section:
    from outcomes.tables import model_table

    A = ctx.analysis
    parts = [heading("Density model"), _p(ctx.model_note)]
    if len(A.model):
        parts.append(_table(model_table(ctx.frame("model"), confidence=_conf(ctx))))
    return _join(*parts)


# --- 03 safety ----------------------------------------------------------------------------

def safety_summary(ctx) -> Section:
    from outcomes import text

    ae = ctx.frame("adverse_events")
    return Section(_sentences(text.ae_sentence(r, confidence=_conf(ctx))
                              for _, r in ae.iterrows()))


def adverse_events(ctx) -> Section:
    from outcomes import figures
    from outcomes.registry import published_figures
    from outcomes.tables import adverse_event_table

    pain = published_figures().set_index("id").loc["saceda2022_pain"]
    ae = ctx.frame("adverse_events")
    return _join(heading("Adverse events against the published figures"),
                 _p("Patient incidence: treated patients with at least one event of the term, "
                    "over treated patients (so far). The comparison with the published figures "
                    f"(the study's pain figure is {int(pain['k'])} of {int(pain['n'])} patients, "
                    "all followed at least six months) uses the treated patients followed at "
                    "least as long (the columns \"Followed ... days\"), as the study counted."),
                 _drawn(figures.ae_incidence_plot, ae, level=_conf(ctx)),
                 _table(adverse_event_table(ae, confidence=_conf(ctx))))


def safety_followup(ctx) -> Section:
    """Incidence among patients followed as long as the study required, who is left out,
    events per 100 sessions and the Kaplan-Meier cumulative incidence (issue 11, item 6)."""
    from outcomes.safety import followup_sentence
    from outcomes.tables import ae_followup_table

    f = ctx.frame("ae_followup")
    days = int(ctx.analysis.definitions.safety_min_followup_days)
    return _join(heading(f"Adverse events with follow-up ({days}+ days)"),
                 _p(followup_sentence(f)),
                 _p("The table above counts every treated patient, however short their "
                    "follow-up; the Kaplan-Meier figure is the share with a first event of the "
                    f"term by day {days} after the first session, each patient counted until "
                    "their last contact."),
                 _table(ae_followup_table(f, confidence=_conf(ctx))))


def edema_by_session(ctx) -> Section:
    from outcomes import figures
    from outcomes.registry import published_figures
    from outcomes.tables import ae_duration_table

    edema = published_figures().set_index("id").loc["melo2022_edema"]
    figures.edema_by_session_plot(ctx.frame("ae_timing"))
    return _join(heading("Frontal edema by session"),
                 _p(f"Published: {edema['definition']} ({edema['population']})."),
                 figure_html(), _table(ae_duration_table(ctx.frame("ae_duration"),
                                                         ctx.frame("adverse_events"))))


def sentinel_events(ctx) -> Section:
    from outcomes.tables import sentinel_table

    parts = [heading("Sentinel events"),
             _p("Paradoxical alopecia, scarring, acute dermatitis, sperm abnormality and any "
                "event marked serious or severe: each case is reviewed, never just counted.")]
    if ctx.shareable:
        parts.append(_p("The case list is in the internal report only."))
    else:
        cases = ctx.analysis.sentinel_cases
        parts.append(_table(sentinel_table(cases), "No sentinel event up to the cut-off."))
        parts.append(_p(_serious_sentence(cases)))
    return _join(*parts)


def _serious_sentence(cases: pd.DataFrame) -> str:
    """Why the serious count of the safety table can exceed the events marked serious."""
    reason = cases["reason"].astype(str)
    nature = reason.str.contains("serious-by-nature")
    marked = cases["serious"].astype("boolean").fillna(False).to_numpy(bool)
    total = int((nature.to_numpy() | marked).sum())
    n_marked = int(marked.sum())
    return (f"Serious events: {total} in the safety table, of which {n_marked} "
            f"{'is' if n_marked == 1 else 'are'} marked serious in the export and "
            f"{total - n_marked} {'is' if total - n_marked == 1 else 'are'} serious by nature "
            "of the term (paradoxical alopecia, scarring, acute dermatitis, sperm abnormality) "
            "without being marked.")


# --- 04 quarterly audit -------------------------------------------------------------------

def headline(ctx) -> Section:
    """The first screen's sentences: are the results in line with the published figures?"""
    from outcomes import text

    return Section(_sentences(text.headline(
        ctx.frame("response"), ctx.frame("adverse_events"), ctx.frame("flow"),
        ctx.analysis.cutoff, confidence=_conf(ctx), not_recorded=ctx.frame("not_recorded"),
        rounded=ctx.shareable)))


def headline_figure(ctx) -> Section:
    from outcomes import figures
    from outcomes.registry import published_figures
    from outcomes.tables import benchmark_labels

    figures.forest_plot(ctx.frame("response"), level=_conf(ctx),
                        benchmark_labels=benchmark_labels(published_figures()))
    return Section(figure_html())


#: the detail pages linked from the audit page: (file, words)
_PAGES = (("01-data-quality.html", "data quality"), ("02-efficacy.html", "efficacy"),
          ("03-safety.html", "safety"), ("05-protocol.html", "protocol and screening"))


def page_links(ctx) -> Section:
    links = " · ".join(f'<a href="{f}">{html.escape(w)}</a>' for f, w in _PAGES)
    return Section(f'<p class="outcomes-links">Details: {links} · results file: '
                   '<a href="results.json">results.json</a></p>')


def patients(ctx) -> Section:
    from outcomes import figures
    from outcomes.tables import table_one

    return _join(heading("Patients"), _drawn(figures.cohort_flow_plot, ctx.frame("flow")),
                 _drawn(figures.p_chart_plot, ctx.frame("quarterly"), family="photographic"),
                 _table(table_one(counts=ctx.frame("table_one")) if ctx.shareable
                        else table_one(ctx.analysis.cohort)))


def response_summary(ctx) -> Section:
    from outcomes.tables import response_table

    return _join(heading("Response"),
                 _table(response_table(ctx.frame("response"), confidence=_conf(ctx))))


def safety_overview(ctx) -> Section:
    from outcomes import figures

    return _join(heading("Safety"),
                 _drawn(figures.ae_incidence_plot, ctx.frame("adverse_events"),
                        level=_conf(ctx)))


def protocol_and_screening(ctx) -> Section:
    from outcomes.tables import protocol_table, screening_table

    return _join(heading("Protocol and screening"),
                 _table(protocol_table(ctx.frame("protocol"), confidence=_conf(ctx))),
                 _table(screening_table(ctx.frame("screening"))))


# --- 05 protocol --------------------------------------------------------------------------

def _schedule_sentence(definitions) -> str:
    """The protocol in words, from the definitions in force."""
    lo, hi = definitions.year_one_interval
    s_lo, s_hi = definitions.year_one_sessions
    m_lo, m_hi = definitions.maintenance_interval
    return (f"Year one: a session about every {round((lo + hi) / 2 / 30)} months ({lo}-{hi} "
            f"days apart counts as on schedule), {s_lo}-{s_hi} sessions in the first 365 days; "
            f"then about every {round((m_lo + m_hi) / 2 / 30)} months ({m_lo}-{m_hi} days).")


def protocol_adherence(ctx) -> Section:
    from outcomes.tables import protocol_table

    return _join(_p(_schedule_sentence(ctx.analysis.definitions)),
                 _table(protocol_table(ctx.frame("protocol"), confidence=_conf(ctx))))


def screening(ctx) -> Section:
    from outcomes.tables import screening_cases_table, screening_table

    parts = [heading("Screening deviations"),
             _p("Sessions given to a patient with known 5-alpha-reductase inhibitor "
                "hypersensitivity; to a woman of childbearing potential without "
                "contraception, with a positive pregnancy test, or with no test recorded."),
             _table(screening_table(ctx.frame("screening")))]
    if not ctx.shareable:
        parts += [heading("Sessions to review (internal)", 3),
                  _table(screening_cases_table(ctx.analysis.screening_cases),
                         "No session to review.")]
    return _join(*parts)


# --- 90 pooled (ctx: outcomes.reporting.PooledContext) ---------------------------------------

def pooled_intro(ctx) -> Section:
    from outcomes.tables import banner_html

    return _join(heading("Pooled audit across clinics", 1),
                 banner_html(ctx.shareable, ctx.min_cell),
                 _p("Each clinic analysed its own export and sent its pooling file (outcomes "
                    "analyze --pooling-file: aggregate counts, practitioners as codes); no "
                    "patient row or name left any clinic. Counts are summed "
                    "across clinics; rates, intervals and tests are recomputed from the pooled "
                    "counts. Heterogeneity between clinics is shown by a random-effects "
                    "meta-analysis (DerSimonian-Laird and Paule-Mandel, logit scale) and a "
                    "funnel plot."))


def pooled_clinics(ctx) -> Section:
    from outcomes.labels import TABLE, label
    from outcomes.tables import to_html

    clinics = ctx.frames["clinics"]
    if "sha256" in clinics:   # the exact pooled dict (network-internal) only
        clinics = clinics.assign(sha256=lambda d: d["sha256"].str[:12] + "...")
    clinics = clinics.rename(columns={"label": "Clinic", "sha256": "File SHA-256",
                                      "package_version": "outcomes version",
                                      "cutoff": "Cut-off"})
    return _join(heading("Clinics pooled"), to_html(clinics),
                 to_html(ctx.frames["cohort"].rename(columns=lambda c: label(c, TABLE))))


def pooled_flow(ctx) -> Section:
    from outcomes.tables import flow_table

    return _join(heading("Cohort flow (all clinics)"), _table(flow_table(ctx.frames["flow"])))


def pooled_response(ctx) -> Section:
    from outcomes import figures, meta, text
    from outcomes.registry import published_figures
    from outcomes.tables import benchmark_labels, response_table

    F = ctx.frames
    others = meta.published_studies("photographic", "improved")
    others = others[~others["benchmark_id"].isin(F["response"]["benchmark_id"].dropna())]
    figures.forest_plot(F["response"], published=others.assign(outcome="improved"),
                        level=float(ctx.definitions.get("confidence", 0.95)),
                        title="The clinics pooled against the published figures",
                        benchmark_labels=benchmark_labels(published_figures()))
    conf = float(ctx.definitions.get("confidence", 0.95))
    resp = F["response"]
    rows = resp[(resp["family"] == "photographic") & (resp["group"] == "comparable")
                & resp["outcome"].isin(["improved", "dramatic"])]
    return _join(heading("Response against the published figures (pooled counts)"),
                 _sentences(text.pooled_sentence(r, confidence=conf)
                            for _, r in rows.iterrows()),
                 _table(response_table(resp, confidence=conf)), figure_html())


def pooled_heterogeneity(ctx) -> Section:
    from outcomes.tables import meta_summary_table

    return _join(heading("Heterogeneity between clinics"),
                 _p("Random-effects meta-analysis of each rate across clinics (logit scale, "
                    "0.5 added where a clinic has 0 or all; tau² by DerSimonian-Laird and by "
                    "Paule-Mandel). I² is the share of the variation between clinics not "
                    "explained by chance."),
                 _table(meta_summary_table(ctx.frames["meta_summary"])))


def pooled_clinic_rates(ctx) -> Section:
    from outcomes.tables import meta_studies_table

    return _join(heading("Clinics: photographic improvement (mesotherapy alone)", 3),
                 _table(meta_studies_table(ctx.frames["meta_studies"])))


def pooled_funnel(ctx) -> Section:
    from outcomes import figures

    fu = ctx.frames["meta_funnel"]
    sel = ((fu["family"] == "photographic") & (fu["group"] == "comparable")
           & (fu["outcome"] == "improved") & (fu["reference"] == "pooled"))
    parts = [heading("Funnel plot: each clinic against the pooled rate", 3)]
    if sel.any():
        figures.funnel_plot(fu[sel].rename(columns={"label": "practitioner_id"}),
                            levels=tuple(ctx.definitions.get("funnel_levels", (0.95, 0.998))),
                            title="Photographic improvement by clinic", unit="clinic",
                            centre="Pooled")
        parts.append(figure_html())
    else:
        parts.append(_p("No clinic has patients assessed for this outcome."))
    return _join(*parts)


def pooled_against_published(ctx) -> Section:
    from outcomes import figures
    from outcomes.tables import published_studies_table

    ps, summary = ctx.frames["meta_published_studies"], ctx.frames["meta_published_summary"]
    parts = [heading("The clinics pooled against the published studies", 3),
             _p("The pooled clinics as one study beside each published study with counts "
                "(random effects). Counts marked derived were computed from a quoted "
                "percentage.")]
    for (fam, grp, out), g in ps.groupby(["family", "group", "outcome"], sort=False):
        s = summary[(summary["family"] == fam) & (summary["group"] == grp)
                    & (summary["outcome"] == out)]
        est = "; ".join(f"{m}: {100 * e:.1f}% ({100 * lo:.1f} to {100 * hi:.1f}), "
                        f"I² {100 * i2:.0f}%"
                        for m, e, lo, hi, i2 in zip(s["method"], s["estimate"], s["ci_low"],
                                                    s["ci_high"], s["i2"], strict=True))
        parts += [heading(f"{figures.pretty(fam)}, {figures.pretty(grp).lower()}, "
                          f"{figures.pretty(out).lower()}", 4),
                  _table(published_studies_table(g)),
                  _p(f"Random-effects estimate: {est}")]
    return _join(*parts)


def pooled_adverse_events(ctx) -> Section:
    from outcomes import figures
    from outcomes.tables import adverse_event_table

    conf = float(ctx.definitions.get("confidence", 0.95))
    figures.ae_incidence_plot(ctx.frames["adverse_events"], level=conf)
    return _join(heading("Adverse events (pooled)"),
                 _table(adverse_event_table(ctx.frames["adverse_events"], confidence=conf)),
                 figure_html())


def pooled_protocol(ctx) -> Section:
    from outcomes.tables import protocol_table, screening_table

    return _join(heading("Protocol and screening (pooled)"),
                 _table(protocol_table(ctx.frames["protocol"], confidence=float(
                     ctx.definitions.get("confidence", 0.95)))),
                 _table(screening_table(ctx.frames["screening"])))


def pooled_not_pooled(ctx) -> Section:
    return _join(heading("What is not pooled"),
                 _p("The density mixed model is fitted per clinic, not pooled. Event "
                    "durations keep the number of events and the shortest and longest "
                    "duration; medians cannot be summed. Practitioners are named per clinic "
                    "(clinic:practitioner)."))


# ---------------------------------------------------------------------------------------------
# 04 quarterly audit cycle: periods, standards, re-audit, safety findings, action plan
# (written in outcomes.audit_report from outcomes.audit; listed here so that a notebook cell is
# one ``sections.`` call like every other)
# ---------------------------------------------------------------------------------------------
from outcomes.audit_report import (  # noqa: E402
    actions_section as action_plan,
    compared_with_published,
    periods_section as audit_periods,
    reaudit_section as reaudit,
    safety_box as safety_findings,
    standards_section as audit_standards,
)
