"""Figures: headless (Agg); assertions on what was drawn."""
import re

import numpy as np
import pandas as pd
import pytest

from outcomes.disclosure import PractitionerCoder, control_frame, histogram_counts, publish_counts

KEY = b"a clinic key of 32 random bytes!"

#: matplotlib, its pyplot and outcomes.figures (which sets the Agg backend), bound by
#: :func:`_pyplot` when this module's tests run: imported here, they cost every pytest process
#: that collects the suite ~0.5 s of CPU (both workers of ``make test``), whichever runs them
matplotlib = plt = figures = None


@pytest.fixture(autouse=True, scope="module")
def _pyplot():
    global matplotlib, plt, figures
    import matplotlib
    import matplotlib.pyplot as plt

    from outcomes import figures


def suppress_named_frame(name, df):
    return control_frame(name, df, coder=PractitionerCoder(KEY))


@pytest.fixture(autouse=True)
def _close(_pyplot):
    yield
    plt.close("all")


def response():
    return pd.DataFrame({
        "family": ["photographic"] * 4 + ["density"] * 2,
        "group": ["comparable", "comparable", "all", "all", "all", "all"],
        "outcome": ["improved", "dramatic", "improved", "dramatic", "improved", "dramatic"],
        "k": [69, 3, 90, 40, 50, 20], "n": [86, 86, 120, 120, 100, 100],
        "rate": [69 / 86, 3 / 86, 0.75, 40 / 120, 0.5, 0.2],
        "ci_low": [0.706, 0.012, 0.66, 0.25, 0.4, 0.13],
        "ci_high": [0.873, 0.098, 0.82, 0.42, 0.6, 0.29],
        "method": "wilson",
        "benchmark_id": ["saceda2022_improved", "saceda2022_dramatic"] * 2 + [None, None],
        "benchmark_rate": [0.80, 33 / 86, 0.80, 33 / 86, np.nan, np.nan],
        "benchmark_k": [np.nan, 33, np.nan, 33, np.nan, np.nan],
        "benchmark_n": [np.nan, 86, np.nan, 86, np.nan, np.nan],
        "p_value": [0.9, 0.0, 0.2, 0.3, np.nan, np.nan],
    })


def points(ax):
    """(x, y) of every marker drawn by errorbar/plot lines with a marker."""
    out = []
    for line in ax.get_lines():
        if line.get_marker() not in (None, "None", "") and line.get_linestyle() in ("None", ""):
            out.extend(zip(line.get_xdata(), line.get_ydata()))
    return out


def test_forest_plot_draws_clinic_and_published_with_intervals():
    ax = figures.forest_plot(response())
    labels = [t.get_text() for t in ax.get_yticklabels()]
    # 6 clinic rows + 2 published records (improved quoted rate, dramatic 33/86)
    assert len(labels) == 8
    assert any("Clinic" in s and "69/86" in s for s in labels)
    assert any("Published" in s and "33/86" in s for s in labels)
    xs = sorted(round(x, 1) for x, _ in points(ax))
    assert 80.2 in xs and 80.0 in xs and 38.4 in xs
    assert ax.get_title() and ax.get_xlabel() == "Patients (%)"
    assert ax.get_xlim() == (0, 100)
    # published 33/86 drawn with its own (Wilson) interval: an error bar spanning ~29-49%
    segs = [s for c in ax.collections for s in c.get_segments()]
    spans = [(round(s[0][0]), round(s[1][0])) for s in segs if len(s) == 2]
    assert (29, 49) in spans


def test_forest_plot_shareable_hides_small_rows():
    ax = figures.forest_plot(suppress_named_frame("response", response()))
    labels = [t.get_text() for t in ax.get_yticklabels()]
    n86 = publish_counts([86], key=KEY)[0]
    assert any(f"<5/{n86}" in s for s in labels)       # 86 published rounded
    assert not any(round(x, 1) == 3.5 for x, _ in points(ax))
    assert any("not shown: too few patients" in t.get_text() for t in ax.texts)


def test_forest_plot_other_published_records():
    pub = pd.DataFrame({"label": ["Vano-Galvan 2020 oral"], "k": [38], "n": [42],
                        "outcome": ["improved"]})
    ax = figures.forest_plot(response(), published=pub)
    assert any("38/42" in t.get_text() for t in ax.get_yticklabels())


def test_cohort_flow():
    flow = pd.DataFrame({"step": ["registered", "treated", "due_12m", "assessed_photographic",
                                  "lost_photographic"], "n": [300, 290, 150, 120, 30],
                         "note": [""] * 5})
    ax = figures.cohort_flow_plot(flow)
    assert len(ax.patches) == 5
    assert [p.get_width() for p in ax.patches] == [300, 290, 150, 120, 30]
    assert "300" in [t.get_text() for t in ax.texts]
    assert ax.get_xlabel() == "Patients (n)" and ax.get_title() == "Cohort flow"


def test_density_histogram_and_suppressed_bins():
    x = np.r_[np.full(10, 0.12), np.full(3, -0.05), np.full(6, 0.31)]
    ax = figures.density_change_histogram(x)
    assert sum(p.get_height() for p in ax.patches) == 19
    assert "n = 19" in ax.get_title()
    ax = figures.density_change_histogram(counts=suppress_named_frame("density_histogram",
                                                                      histogram_counts(x)))
    heights = [p.get_height() for p in ax.patches]
    assert sum(heights) == sum(publish_counts([10, 6], key=KEY)) and 3 not in heights
    assert "<5" in [t.get_text() for t in ax.texts]


def test_density_sensitivity():
    sens = pd.DataFrame({"threshold": [0.0, 0.1, 0.2], "k": [80, 50, 20], "n": [100] * 3,
                         "rate": [0.8, 0.5, 0.2], "ci_low": [0.7, 0.4, 0.1],
                         "ci_high": [0.9, 0.6, 0.3]})
    ax = figures.density_sensitivity_plot(sens)
    line = [ln for ln in ax.get_lines() if ln.get_marker() == "o"][0]
    assert list(line.get_ydata()) == pytest.approx([80, 50, 20])
    assert "n = 100" in ax.get_title()


def test_trajectories_one_line_per_patient():
    t0 = pd.Timestamp("2025-01-01")
    cohort = pd.DataFrame({"patient_id": ["P1", "P2", "P3"], "t0": [t0] * 3})
    meas = pd.DataFrame({
        "patient_id": ["P1", "P1", "P1", "P2", "P2", "P3", "P3"],
        "measurement_date": pd.to_datetime(["2025-01-01", "2025-01-01", "2026-01-01",
                                            "2025-01-01", "2026-01-10", "2025-01-01",
                                            "2025-06-01"]),
        "density_per_cm2": [100.0, 120.0, 130.0, 90.0, 95.0, 140.0, 150.0]})
    ax = figures.density_trajectories(meas, cohort)
    segs = ax.collections[0].get_segments()
    assert len(segs) == 3
    assert segs[0][0][1] == pytest.approx(110)  # two sites on one day averaged
    assert "n = 3 patients" in ax.get_title() and "hairs/cm²" in ax.get_ylabel()


def test_funnel_plot():
    f = pd.DataFrame({"practitioner_id": ["N1", "N2", "D1", "X9"], "k": [40, 10, 30, 2],
                      "n": [50, 30, 35, 3], "rate": [0.8, 1 / 3, 30 / 35, 2 / 3],
                      "p0": 0.7, "flag": ["within", "below_998", "within", "within"]})
    ax = figures.funnel_plot(suppress_named_frame("funnel", f))
    offsets = [c.get_offsets() for c in ax.collections]
    assert sum(len(o) for o in offsets) == 3            # X9 (n = 3) suppressed
    # flags recomputed from the published counts against the published clinic rate:
    # N2 (10/30) below, D1 (30/35) above (multiples of 5: published as they are)
    assert sorted(x for x, _ in offsets[1]) == [30, 35]
    assert "1 with too few patients not shown" in ax.get_title()
    assert len(ax.get_lines()) == 5                     # 2 levels x 2 limits + centre
    names = {t.get_text() for t in ax.texts}     # practitioners as codes, never names
    assert len(names) == 3 and all(re.fullmatch(r"PR-[0-9A-F]{8}", t) for t in names)
    assert "(3 practitioners; " in ax.get_title()
    # the centre is the clinic rate of the published counts, 80/115
    assert "Clinic overall 69.6%" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_funnel_plot_of_clinics_says_clinics_and_pooled():
    f = pd.DataFrame({"practitioner_id": ["A", "B"], "k": [40, 20], "n": [50, 30],
                      "rate": [0.8, 2 / 3], "p0": 0.75, "flag": ["within", "within"]})
    ax = figures.funnel_plot(f, unit="clinic", centre="Pooled", title="By clinic")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert ax.get_title() == "By clinic (2 clinics)"
    assert "Pooled 75.0%" in legend and "Clinic" in legend
    assert not any("ractitioner" in t for t in legend)


def test_p_chart_marks_special_causes():
    q = pd.DataFrame({"family": "photographic", "quarter": ["2025Q1", "2025Q2", "2025Q3"],
                      "k": [20, 10, 25], "n": [25, 25, 30], "rate": [0.8, 0.4, 25 / 30],
                      "centre": 55 / 80, "lcl": [0.45, 0.45, 0.47], "ucl": [0.93, 0.93, 0.9],
                      "beyond_limits": [False, True, False], "run_flag": [False, False, True]})
    ax = figures.p_chart_plot(q)   # an older frame: flags drawn, direction unknown
    handles, labels = ax.get_legend_handles_labels()
    special = [h for h, label in zip(handles, labels) if label == "Special cause"]
    assert "Special cause: improvement" not in labels   # no empty legend entry
    # readable ticks, never rotated: quarter over its n, the year under each year's first
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Q1\n25\n2025", "Q2\n25",
                                                            "Q3\n30"]
    assert {t.get_rotation() for t in ax.get_xticklabels()} == {0.0}
    assert "photographic" in ax.get_title()
    assert special and len(special[0].get_offsets()) == 2


def test_p_chart_plot_improvement_concern_and_small_quarters():
    from outcomes.stats import p_chart

    k = [0, 10, 10, 10, 10, 10, 10, 10, 1, 30, 100]
    n = [0, 10, 10, 10, 10, 10, 10, 10, 2, 30, 200]
    chart = p_chart(k, n, min_n=5, centre=0.84)   # 7 quarters above: a shift (improvement)
    q = pd.concat([pd.DataFrame({"family": "photographic",
                                 "quarter": [f"20{20 + i // 4}Q{i % 4 + 1}" for i in range(11)]}),
                   chart], axis=1)
    ax = figures.p_chart_plot(q)
    handles, labels = ax.get_legend_handles_labels()
    by_label = dict(zip(labels, handles))
    concern = by_label["Special cause: concern"].get_offsets()
    improvement = by_label["Special cause: improvement"].get_offsets()
    assert chart["point_type"].tolist().count("special_cause_improvement") == len(improvement)
    assert len(concern) == (chart["point_type"] == "special_cause_concern").sum()
    assert len(improvement) >= 1
    ticks = ax.get_xticklabels()
    assert ticks[8].get_text().split("\n")[1] == "2"  # the quarter's n, under it
    # a quarter not plotted has a grey tick, and the axis label says so
    grey = matplotlib.colors.to_rgba(figures.PALETTE["grey"])
    assert matplotlib.colors.to_rgba(ticks[8].get_color()) == grey
    shown = int(np.flatnonzero(chart["plotted"].to_numpy(bool))[0])
    assert matplotlib.colors.to_rgba(ticks[shown].get_color()) != grey
    assert "grey: not plotted" in ax.get_xlabel()
    assert "(1 quarter with too few patients not plotted)" in ax.get_title()
    # 30 of 30 at a centre of 0.84: no improvement signal possible there, said in the legend
    assert not chart["high_possible"].iloc[9]
    assert "Upper limit at 100%: no improvement signal possible" in labels
    assert "exact binomial" in labels[0]


def test_ae_incidence_and_edema():
    ae = pd.DataFrame({"term": ["injection_site_pain", "frontal_edema", "scarring"],
                       "k": [120, 30, 0], "n": [290] * 3, "rate": [120 / 290, 30 / 290, 0.0],
                       "ci_low": [0.36, 0.07, 0.0], "ci_high": [0.47, 0.14, 0.013],
                       "benchmark_rate": [246 / 541, np.nan, 0.0]})
    ax = figures.ae_incidence_plot(ae)
    assert len(ax.collections[-1].get_offsets()) == 2   # two published rates
    assert "Injection site pain (120/290)" in [t.get_text() for t in ax.get_yticklabels()]
    timing = pd.DataFrame({"term": "frontal_edema", "session_number": ["1", "2", "3", "4+"],
                           "events": [20, 8, 2, 0]})
    ax = figures.edema_by_session_plot(suppress_named_frame("ae_timing", timing))
    eight = publish_counts([8], key=KEY)[0]                          # 5 or 10
    assert [p.get_height() for p in ax.patches] == [20, eight, 0, 0]
    assert [t.get_text() for t in ax.texts] == ["20", str(eight), "<5", "0"]
    assert "Frontal edema" in ax.get_title()


def test_every_function_accepts_an_axes(sample_context):
    """Each plotting function of ``figures.__all__`` draws on the Axes it is given (the
    audit trend on the row of Axes, one per measure) and returns it; a new plotting function
    without a case here fails the test."""
    a, audit = sample_context.analysis, sample_context.audit
    measures = list(dict.fromkeys(audit.trend["measure"]))[:2]
    calls = {
        "forest_plot": lambda ax: figures.forest_plot(a.response, ax=ax),
        "cohort_flow_plot": lambda ax: figures.cohort_flow_plot(a.flow, ax=ax),
        "density_change_histogram": lambda ax: figures.density_change_histogram(
            a.cohort["density_rel_change"], ax=ax),
        "density_sensitivity_plot": lambda ax: figures.density_sensitivity_plot(
            a.density_sensitivity, ax=ax),
        "density_trajectories": lambda ax: figures.density_trajectories(
            sample_context.export.measurements, a.cohort, ax=ax),
        "funnel_plot": lambda ax: figures.funnel_plot(a.funnel, ax=ax),
        "p_chart_plot": lambda ax: figures.p_chart_plot(a.quarterly, family="photographic",
                                                        ax=ax),
        "ae_incidence_plot": lambda ax: figures.ae_incidence_plot(a.adverse_events, ax=ax),
        "edema_by_session_plot": lambda ax: figures.edema_by_session_plot(a.ae_timing, ax=ax),
    }
    plotting = {name for name in figures.__all__
                if callable(getattr(figures, name)) and name != "pretty"}
    assert plotting == set(calls) | {"audit_trend_plot"}
    for name, call in calls.items():
        fig, ax = plt.subplots()
        assert call(ax) is ax, name
        assert ax.has_data() or ax.patches or ax.texts, name  # it drew on the given Axes
        assert fig.axes[0] is ax, name
        plt.close(fig)
    fig, axes = plt.subplots(1, len(measures), squeeze=False)
    got = figures.audit_trend_plot(audit.trend, measures, axes=axes[0])
    assert list(got) == list(axes[0]) and all(ax.has_data() for ax in axes[0])
    plt.close("all")
    assert set(figures.PALETTE.values()) >= {figures.CLINIC, figures.PUBLISHED}


def test_funnel_and_p_chart_with_suppressed_pooled_rate_draw_without_warning():
    # shareable mode removes the clinic rate p0 / the centre when every row is suppressed
    # (outcomes.disclosure): the plots must still draw, with no RuntimeWarning
    import warnings
    funnel = suppress_named_frame("funnel", pd.DataFrame({
        "practitioner_id": ["P1"], "k": [2], "n": [3], "rate": [2 / 3], "p0": [2 / 3],
        "low95": [0.0], "high95": [1.0], "low998": [0.0], "high998": [1.0], "flag": ["within"]}))
    assert funnel["p0"].isna().all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = figures.funnel_plot(funnel)
    assert not any("Clinic overall" in label for label in ax.get_legend_handles_labels()[1])


def test_density_histogram_title_hides_a_small_n_when_shareable():
    # audit defect: in shareable mode the bins of 1-4 patients were hidden but the title still
    # said "n = 3 patients"
    counts = control_frame("density_histogram", histogram_counts([0.1, 0.2, 0.3, np.nan]))
    ax = figures.density_change_histogram(counts=counts)
    assert "3" not in ax.get_title() and "not drawn" in ax.get_title()
    ax = figures.density_change_histogram([0.1, 0.2, 0.3, np.nan])      # internal: exact
    assert "n = 3 patients" in ax.get_title()


@pytest.mark.parametrize("face", ["white", "none"])
def test_report_png_has_the_pixels_savefig_draws(face):
    """sections.figure_html writes an opaque figure's PNG in RGB (fewer bytes, less CPU): the
    pixels, size, dpi and Software text are those of matplotlib's own RGBA PNG; a figure with
    transparent pixels keeps matplotlib's PNG, byte for byte."""
    import io

    from PIL import Image

    from outcomes.sections import _laid_out_box, _png

    def drawn():
        fig, ax = plt.subplots(figsize=(4, 3), layout="constrained")
        ax.plot([1, 3, 2], label="a line")
        ax.set_title("a title")
        ax.legend()
        fig.patch.set_alpha(1.0 if face == "white" else 0.0)
        return fig

    fig = drawn()
    buf = io.BytesIO()
    box = _laid_out_box(fig, 150)
    fig.savefig(buf, format="png", dpi=150, bbox_inches=box, facecolor=face)
    ref = Image.open(io.BytesIO(buf.getvalue()))
    fig = drawn()
    png = _png(fig, 150, _laid_out_box(fig, 150), facecolor=face)
    mine = Image.open(io.BytesIO(png))
    assert mine.size == ref.size and mine.info["dpi"] == ref.info["dpi"]
    assert mine.info["Software"] == ref.info["Software"]
    assert np.array_equal(np.asarray(mine.convert("RGBA")), np.asarray(ref))
    if face == "white":
        assert mine.mode == "RGB" and len(png) < len(buf.getvalue())
    else:
        assert png == buf.getvalue()
