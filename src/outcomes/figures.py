"""Figures of the audit report (matplotlib, headless-safe).

Every function takes the tidy frame(s) of an :class:`~outcomes.analysis.Analysis` (or their
shareable, suppressed version: a count shown as ``"<5"`` and a rate of ``NaN`` are drawn as a
"<5" note, never as a point), an optional ``ax`` and returns the Axes. Each figure is titled,
says its units and ``n``, and uses the Okabe-Ito colour-blind-safe palette; none calls
``plt.show()``. Rates are fractions in the frames and drawn as percentages.
"""
from __future__ import annotations

import matplotlib

if not any(word in str(matplotlib.rcParams["backend"]).lower()
           for word in ("inline", "ipympl", "widget", "agg")):
    matplotlib.use("Agg")  # never needs a display; a notebook's inline backend is kept

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402

from outcomes.labels import FIGURE, FLOW_STEPS, label  # noqa: E402

__all__ = ["PALETTE", "CLINIC", "PUBLISHED", "forest_plot", "cohort_flow_plot", "audit_trend_plot",
           "density_change_histogram", "density_sensitivity_plot", "density_trajectories",
           "funnel_plot", "p_chart_plot", "ae_incidence_plot", "edema_by_session_plot",
           "pretty"]

#: Okabe & Ito (2008) colour-blind-safe palette.
PALETTE = {"black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9",
           "green": "#009E73", "yellow": "#F0E442", "blue": "#0072B2",
           "vermillion": "#D55E00", "purple": "#CC79A7", "grey": "#999999"}
CLINIC = PALETTE["blue"]
PUBLISHED = PALETTE["vermillion"]
ALERT = PALETTE["vermillion"]

def pretty(name) -> str:
    """A figure's label for a code (:data:`outcomes.labels.FIGURE`): ``frontal_edema`` ->
    ``Frontal edema``."""
    return label(name, FIGURE)


def _axes(ax, size=(7.5, 4.5)):
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def _num(values) -> np.ndarray:
    """Numbers from a (possibly suppressed) column: ``"<5"``/None -> NaN."""
    return pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce").to_numpy(float)


def _count(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return "-"
    return str(value) if isinstance(value, str) else f"{int(value)}"


def _interval(ax, y, rate, low, high, *, colour, marker, label, size=7):
    ok = ~np.isnan(rate)
    lo = np.where(np.isnan(low), rate, low)
    hi = np.where(np.isnan(high), rate, high)
    ax.errorbar(100 * rate[ok], y[ok], xerr=[100 * (rate - lo)[ok], 100 * (hi - rate)[ok]],
                fmt=marker, color=colour, ecolor=colour, capsize=3, markersize=size,
                label=label, linestyle="none")


def _flagged(flag: pd.Series) -> np.ndarray:
    """True where a funnel flag marks a practitioner outside the limits (bool or text)."""
    if pd.api.types.is_bool_dtype(flag):
        return flag.astype("boolean").fillna(False).to_numpy(bool)
    text = flag.astype("string").str.strip().str.lower()
    return (text.notna() & ~text.isin(["", "within", "none", "false", "ok", "in control"])
            ).to_numpy(bool)


def _wilson(k, n, level=0.95):
    from outcomes.stats import proportion_ci

    return proportion_ci(np.asarray(k, float), np.asarray(n, float), level=level)


def forest_plot(response: pd.DataFrame, *, published: pd.DataFrame | None = None,
                outcomes=("improved", "dramatic"), level: float = 0.95, ax=None,
                benchmark_labels: dict | None = None,
                title: str = "Your clinic against the published figures"):
    """Forest-style plot: the clinic's rates and each published record, both with intervals.

    Parameters
    ----------
    response : pandas.DataFrame
        ``Analysis.response`` (``family, group, outcome, k, n, rate, ci_low, ci_high,
        benchmark_id, benchmark_rate, benchmark_k, benchmark_n``), possibly suppressed.
    published : pandas.DataFrame, optional
        Other published records to show, columns ``label, k, n`` (e.g. the oral-dutasteride
        study), drawn with their Wilson interval.
    outcomes : sequence of str
        Outcomes drawn (``improved``, ``dramatic``, ``worst_case_improved``).
    level : float, default 0.95
        Level of the published records' Wilson intervals (the clinic's come from the frame).
    ax : matplotlib.axes.Axes, optional
    benchmark_labels : dict, optional
        ``benchmark_id`` -> label (e.g. ``"Saceda-Corralo et al. 2022"``); default the id.

    Returns
    -------
    matplotlib.axes.Axes
        One row per clinic estimate (blue circle, its interval) and per published record
        (vermillion diamond; its Wilson interval when its counts are known). x: percent of
        patients, 0-100.
    """
    rows = response[response["outcome"].isin(list(outcomes))].reset_index(drop=True)
    clinic = pd.DataFrame({
        "label": [f"Clinic: {pretty(f)}, {FIGURE.get(g, g)}, {pretty(o).lower()} "
                  f"({_count(k)}/{_count(n)})"
                  for f, g, o, k, n in zip(rows["family"], rows["group"], rows["outcome"],
                                           rows["k"], rows["n"])],
        "rate": _num(rows["rate"]), "low": _num(rows["ci_low"]), "high": _num(rows["ci_high"]),
        "outcome": rows["outcome"]})
    bench = rows.dropna(subset=["benchmark_rate"]).drop_duplicates(
        ["benchmark_id", "outcome"]) if "benchmark_rate" in rows else rows.iloc[:0]
    bk, bn = _num(bench.get("benchmark_k", pd.Series(np.nan, index=bench.index))), \
        _num(bench.get("benchmark_n", pd.Series(np.nan, index=bench.index)))
    blow, bhigh = _wilson(np.nan_to_num(bk), np.where(np.isnan(bn), 0, bn), level)
    pub = pd.DataFrame({
        "label": [f"Published {(benchmark_labels or {}).get(b, b)}: {pretty(o).lower()} "
                  + (f"({int(k)}/{int(n)})" if not np.isnan(k) else "(quoted rate)")
                  for b, o, k, n in zip(bench["benchmark_id"], bench["outcome"], bk, bn)],
        "rate": _num(bench["benchmark_rate"]), "low": np.where(np.isnan(bn), np.nan, blow),
        "high": np.where(np.isnan(bn), np.nan, bhigh), "outcome": bench["outcome"]})
    if published is not None and len(published):
        pk, pn = _num(published["k"]), _num(published["n"])
        plow, phigh = _wilson(pk, pn, level)
        pub = pd.concat([pub, pd.DataFrame({
            "label": [f"Published {lab}: {pretty(o).lower()} ({int(k)}/{int(n)})"
                      for lab, o, k, n in zip(published["label"],
                                              published.get("outcome", ["other"] * len(pk)),
                                              pk, pn)],
            "rate": pk / pn, "low": plow, "high": phigh,
            "outcome": published.get("outcome", "other")})], ignore_index=True)
    # clinic rows of an outcome, then its published records, outcome by outcome, top to bottom
    both = pd.concat([clinic.assign(src=0), pub.assign(src=1)], ignore_index=True)
    order = {o: i for i, o in enumerate(outcomes)}
    both["o"] = both["outcome"].map(order).fillna(len(order))
    both = both.sort_values(["o", "src"], kind="stable").reset_index(drop=True)
    y = np.arange(len(both))[::-1].astype(float)
    ax = _axes(ax, (8.5, 0.45 * len(both) + 1.6))
    is_clinic = (both["src"] == 0).to_numpy()
    _interval(ax, y[is_clinic], both["rate"].to_numpy(float)[is_clinic],
              both["low"].to_numpy(float)[is_clinic], both["high"].to_numpy(float)[is_clinic],
              colour=CLINIC, marker="o", label=f"Your clinic ({level:.0%} CI)")
    _interval(ax, y[~is_clinic], both["rate"].to_numpy(float)[~is_clinic],
              both["low"].to_numpy(float)[~is_clinic],
              both["high"].to_numpy(float)[~is_clinic],
              colour=PUBLISHED, marker="D", label=f"Published ({level:.0%} CI)")
    for yy in y[np.isnan(both["rate"].to_numpy(float))]:
        ax.text(1, yy, "not shown: too few patients", va="center", fontsize=8,
                color=PALETTE["grey"])
    ax.set_yticks(y, both["label"], fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.8, len(both) - 0.2)
    ax.set_xlabel("Patients (%)")
    ax.set_title(title, pad=24)
    ax.grid(axis="x", color="#dddddd")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8,
              frameon=False)
    return ax


def cohort_flow_plot(flow: pd.DataFrame, ax=None, title: str = "Cohort flow"):
    """Horizontal bars: patients at each step of the cohort flow.

    Parameters
    ----------
    flow : pandas.DataFrame
        ``Analysis.flow`` (``step, n, note``), in the order of the steps.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One bar per step, its count written at its end; x: patients (n).
    """
    n = _num(flow["n"])
    y = np.arange(len(flow))[::-1]
    ax = _axes(ax, (7.5, 0.42 * len(flow) + 1.4))
    colours = [PALETTE["grey"] if str(s).startswith(("lost", "excluded")) else CLINIC
               for s in flow["step"]]
    ax.barh(y, np.nan_to_num(n), color=colours)
    top = np.nanmax(n) if np.isfinite(n).any() else 1
    for yy, v, raw in zip(y, n, flow["n"]):
        ax.text((0 if np.isnan(v) else v) + top * 0.01, yy, _count(raw), va="center",
                fontsize=8)
    ax.set_yticks(y, [FLOW_STEPS.get(str(s), pretty(s)) for s in flow["step"]], fontsize=8)
    ax.set_xlim(0, top * 1.12)
    ax.set_xlabel("Patients (n)")
    ax.set_title(title)
    return ax


def density_change_histogram(changes=None, *, counts: pd.DataFrame | None = None,
                             threshold: float = 0.10, binwidth: float = 0.10, ax=None,
                             title: str = "Change in hair density at 12 months"):
    """Histogram of the patients' relative density change, with the "improved" threshold.

    Parameters
    ----------
    changes : array-like of float, optional
        Relative changes (d12 - d0) / d0 as fractions, one per assessed patient (NaN ignored):
        the internal report.
    counts : pandas.DataFrame, optional
        Instead of ``changes``: patients per bin, ``bin_low, bin_high, n``
        (:func:`outcomes.disclosure.histogram_counts`; in shareable mode
        ``ReportContext.frame("density_histogram")``, where a bin may read ``"<5"``: drawn
        empty and marked so).
    threshold : float, default 0.10
        The improved threshold, drawn as a dashed line.
    binwidth : float, default 0.10
        Width of a bin when ``changes`` is given (fraction; 0.10 = 10 percentage points).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Bars of patients per bin; x: relative change (%); y: patients (n).
    """
    from outcomes.disclosure import histogram_counts

    if counts is None:
        counts = histogram_counts(changes if changes is not None else [], binwidth=binwidth)
    ax = _axes(ax)
    n = _num(counts["n"])
    labels = pd.Series(counts["n"], dtype="object").tolist()
    small = np.array([isinstance(v, str) for v in labels], dtype=bool)
    if len(counts) == 0:
        ax.text(0.5, 0.5, "No patient assessed yet", ha="center", transform=ax.transAxes)
    else:
        left = _num(counts["bin_low"])
        width = _num(counts["bin_high"]) - left
        ax.bar(100 * left, np.where(small, 0, n), width=100 * width,
               align="edge", color=PALETTE["sky_blue"], edgecolor="white")
        for x, w, lab in zip(left[small], width[small], np.array(labels, dtype=object)[small]):
            ax.text(100 * (x + w / 2), 0.2, str(lab), ha="center",
                    va="bottom", fontsize=7, color=PALETTE["grey"])
    ax.axvline(100 * threshold, color=PALETTE["black"], linestyle="--",
               label=f"Improved: {threshold:+.0%} or more")
    ax.axvline(0, color=PALETTE["grey"], linewidth=0.8)
    ax.set_xlabel("Relative change in density from baseline (%)")
    ax.set_ylabel("Patients (n)")
    if small.any():   # the total would give the hidden bins back: not shown
        ax.set_title(f"{title} (bins of {labels[int(np.argmax(small))]} patients not drawn)")
    else:
        ax.set_title(f"{title} (n = {int(np.nansum(n))} patients)")
    ax.legend(fontsize=8, frameon=False)
    return ax


def density_sensitivity_plot(sensitivity: pd.DataFrame, *, chosen: float = 0.10, ax=None,
                             title: str = "Density improved rate by threshold",
                             level: float = 0.95):
    """Improved rate (with interval) as the density threshold moves.

    Parameters
    ----------
    sensitivity : pandas.DataFrame
        ``Analysis.density_sensitivity`` (``threshold, k, n, rate, ci_low, ci_high``).
    chosen : float, default 0.10
        The threshold in use, marked.
    ax : matplotlib.axes.Axes, optional
    level : float, default 0.95
        The intervals' confidence level (``definitions.confidence``), for the legend.

    Returns
    -------
    matplotlib.axes.Axes
        A line with markers and a shaded interval; x: threshold (% change); y: patients (%).
    """
    t = 100 * _num(sensitivity["threshold"])
    rate, low, high = (100 * _num(sensitivity[c]) for c in ("rate", "ci_low", "ci_high"))
    ax = _axes(ax)
    ax.fill_between(t, low, high, color=PALETTE["sky_blue"], alpha=0.35,
                    label=f"{100 * level:g}% CI")
    ax.plot(t, rate, "o-", color=CLINIC, label="Improved rate")
    ax.axvline(100 * chosen, color=PALETTE["black"], linestyle="--",
               label=f"Threshold used ({chosen:+.0%})")
    n = _num(sensitivity["n"])
    n_text = f"{int(np.nanmax(n))}" if np.isfinite(n).any() else "<5"
    ax.set_ylim(0, 100)
    ax.set_xlabel("Density threshold for 'improved' (% change from baseline)")
    ax.set_ylabel("Patients improved (%)")
    ax.set_title(f"{title} (n = {n_text} assessed)")
    ax.legend(fontsize=8, frameon=False)
    return ax


def density_trajectories(measurements: pd.DataFrame, cohort: pd.DataFrame, *,
                         max_days: int = 540, ax=None,
                         title: str = "Hair density over time (internal)"):
    """Each patient's density over time since the first session, with the median.

    Internal report only: it draws one line per patient.

    Parameters
    ----------
    measurements : pandas.DataFrame
        ``Export.measurements`` (``patient_id, measurement_date, density_per_cm2``).
    cohort : pandas.DataFrame
        ``Analysis.cohort`` (``patient_id, t0``).
    max_days : int, default 540
        Last day after t0 drawn.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One thin line per patient (a LineCollection), the median per 90-day window in bold;
        x: days since first session; y: hairs/cm² (mean of the patient's sites that day).
    """
    m = measurements.dropna(subset=["density_per_cm2"]).merge(
        cohort[["patient_id", "t0"]].dropna(), on="patient_id")
    m = m.assign(day=(m["measurement_date"] - m["t0"]).dt.days)
    m = m[(m["day"] >= -60) & (m["day"] <= max_days)]
    per_visit = (m.groupby(["patient_id", "day"], sort=True)["density_per_cm2"].mean()
                 .reset_index())
    ax = _axes(ax)
    # per_visit is sorted by patient: one (day, density) array per patient, split at the rows
    # where the patient changes
    xy = per_visit[["day", "density_per_cm2"]].to_numpy(float)
    pid = per_visit["patient_id"].to_numpy()
    segments = np.split(xy, np.flatnonzero(pid[1:] != pid[:-1]) + 1) if len(xy) else []
    ax.add_collection(LineCollection(segments, colors=PALETTE["sky_blue"], linewidths=0.6,
                                     alpha=0.5, label="One patient"))
    window = (per_visit["day"] // 90) * 90 + 45
    median = per_visit.groupby(window)["density_per_cm2"].median()
    ax.plot(median.index, median.to_numpy(), "o-", color=CLINIC, linewidth=2.5,
            label="Median per 90 days")
    ax.autoscale_view()
    ax.set_xlabel("Days since first session")
    ax.set_ylabel("Hair density (hairs/cm²)")
    ax.set_title(f"{title} (n = {per_visit['patient_id'].nunique()} patients)")
    ax.legend(fontsize=8, frameon=False)
    return ax


def funnel_plot(funnel: pd.DataFrame, *, levels=(0.95, 0.998), ax=None,
                title: str = "Improved rate by practitioner", what: str = "Patients improved",
                unit: str = "practitioner", centre: str = "Clinic overall"):
    """Funnel plot: each unit's rate (practitioner, or clinic in a pool) against its n, with
    exact binomial limits.

    Parameters
    ----------
    funnel : pandas.DataFrame
        ``Analysis.funnel`` (``practitioner_id, k, n, rate, p0, flag``), possibly suppressed
        (a suppressed practitioner is left out and counted in the title).
    levels : tuple of float, default (0.95, 0.998)
        Control limits drawn (from :func:`outcomes.stats.funnel_limits`).
    ax : matplotlib.axes.Axes, optional
    unit : str, default "practitioner"
        What a point is, for the legend and title (``"clinic"`` in a pooled report).
    centre : str, default "Clinic overall"
        Legend label of the centre line (e.g. ``"Pooled"``).

    Returns
    -------
    matplotlib.axes.Axes
        One point per practitioner (labelled), the centre line (p0) and the limit curves;
        x: patients (n); y: percent.
    """
    from outcomes.stats import funnel_limits

    n, rate = _num(funnel["n"]), _num(funnel["rate"])
    shown = ~np.isnan(n) & ~np.isnan(rate)
    p0s = _num(funnel["p0"]) if len(funnel) else np.array([np.nan])
    p0 = float(np.nanmean(p0s)) if (~np.isnan(p0s)).any() else np.nan   # NaN: suppressed
    ax = _axes(ax)
    if np.isfinite(p0) and shown.any():
        grid = np.arange(1, int(np.nanmax(n[shown]) * 1.15) + 2)
        lim = funnel_limits(grid, np.full(len(grid), p0), levels=tuple(levels))
        for level, style in zip(sorted(levels), ("--", ":")):
            part = lim[np.isclose(lim["level"], level)]
            ax.plot(part["n"], 100 * part["low"], style, color=PALETTE["grey"],
                    label=f"{level:.1%} limits".replace(".0%", "%"))
            ax.plot(part["n"], 100 * part["high"], style, color=PALETTE["grey"])
        ax.axhline(100 * p0, color=PALETTE["black"], linewidth=1,
                   label=f"{centre} {p0:.1%}")
    flagged = _flagged(funnel["flag"]) if "flag" in funnel else np.zeros(len(funnel), bool)
    ax.scatter(n[shown & ~flagged], 100 * rate[shown & ~flagged], color=CLINIC, zorder=3,
               label=unit.capitalize())
    ax.scatter(n[shown & flagged], 100 * rate[shown & flagged], color=ALERT, marker="s",
               zorder=3, label=f"{unit.capitalize()} outside "
                                   f"{100 * min(levels):g}% limits")
    for x, yv, name in zip(n[shown], rate[shown], funnel["practitioner_id"][shown]):
        ax.annotate(str(name), (x, 100 * yv), textcoords="offset points", xytext=(4, 4),
                    fontsize=7)
    hidden = int((~shown).sum())
    ax.set_ylim(0, 100)
    ax.set_xlabel("Patients assessed (n)")
    ax.set_ylabel(f"{what} (%)")
    ax.set_title(f"{title} ({int(shown.sum())} {unit}s"
                 + (f"; {hidden} with too few patients not shown)" if hidden else ")"))
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    return ax


#: p-chart point colours, Making Data Count style: blue improvement, orange concern, grey common
SIGNAL_COLOURS = {"improvement": PALETTE["blue"], "concern": PALETTE["orange"],
                  "neutral": PALETTE["purple"], "common": PALETTE["grey"]}

_LIMIT_WORDS = {"exact": "exact binomial, 3-sigma equivalent", "laney": "Laney p\u2032, 3 sigma",
                "normal": "normal approximation, 3 sigma"}


def _bools(q: pd.DataFrame, col: str, default) -> np.ndarray:
    if col not in q:
        return np.asarray(default, dtype=bool)
    return q[col].astype("boolean").fillna(False).to_numpy(bool)


def p_chart_plot(quarterly: pd.DataFrame, *, family: str | None = None, ax=None,
                 title: str = "Improved rate by quarter (p-chart)"):
    """Quarterly p-chart read the Making Data Count way: each plotted quarter's rate, the
    centre line, control limits, and signals coloured improvement (blue) or concern (orange).

    Parameters
    ----------
    quarterly : pandas.DataFrame
        ``Analysis.quarterly`` (``family, quarter, k, n, rate, centre, lcl, ucl, plotted,
        high_possible, point_type, special_cause, limits``; older frames with only
        ``beyond_limits``/``run_flag`` are drawn with those marks).
    family : str, optional
        Family drawn (default: the first in the frame).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Plotted quarters joined by a line (a gap where a quarter is not plotted: too few
        patients), step limits; where no upper signal is possible at that n, the upper limit is
        drawn dotted; x: quarter of the 12-month assessment (ticks give n, and "not plotted");
        y: percent improved.
    """
    q = quarterly
    if family is None and "family" in q and len(q):
        family = q["family"].iloc[0]
    if family is not None and "family" in q:
        q = q[q["family"] == family]
    q = q.sort_values("quarter").reset_index(drop=True)
    x = np.arange(len(q))
    n = pd.to_numeric(q["n"], errors="coerce").to_numpy(float) if len(q) else np.zeros(0)
    shown = _bools(q, "plotted", ~np.isnan(_num(q["rate"])))
    rate, lcl, ucl, centre = (100 * _num(q[c]) for c in ("rate", "lcl", "ucl", "centre"))
    rate = np.where(shown, rate, np.nan)
    ax = _axes(ax)
    ax.plot(x, rate, "-", color=PALETTE["grey"], linewidth=1, zorder=2)
    method = str(q["limits"].iloc[0]) if "limits" in q and len(q) else ""
    words = _LIMIT_WORDS.get(method, "3 sigma")
    ax.step(x, ucl, where="mid", color=PALETTE["grey"], linestyle="--",
            label=f"Control limits ({words})")
    ax.step(x, lcl, where="mid", color=PALETTE["grey"], linestyle="--")
    no_high = shown & ~_bools(q, "high_possible", np.ones(len(q), bool))
    if no_high.any():
        ax.scatter(x[no_high], np.minimum(ucl[no_high], 100), marker="_", s=250,
                   linewidths=3, color=PALETTE["black"], zorder=5, clip_on=False,
                   label="Upper limit at 100%: no improvement signal possible")
    ax.plot(x, centre, color=PALETTE["black"], linewidth=1, label="Centre line (pooled rate)")
    if "point_type" in q:
        kind = q["point_type"].astype(str).str.replace("special_cause_", "", regex=False)
        kind = np.where(kind.str.startswith("neutral"), "neutral", kind.to_numpy(object))
        kind = np.where(kind == "common_cause", "common", kind)
    else:  # an older frame: any flag is a signal, direction unknown
        flagged = _bools(q, "beyond_limits", np.zeros(len(q), bool)) | _bools(
            q, "run_flag", np.zeros(len(q), bool))
        kind = np.where(flagged, "neutral", "common")
    labels = {"common": "Common cause", "improvement": "Special cause: improvement",
              "concern": "Special cause: concern", "neutral": "Special cause"}
    for name, marker in (("common", "o"), ("improvement", "^"), ("concern", "v"),
                         ("neutral", "s")):
        pick = shown & (kind == name)
        if name != "common" and not pick.any():
            continue  # no empty legend entry for a signal that does not occur
        ax.scatter(x[pick], rate[pick], s=60 if name == "common" else 90, marker=marker,
                   color=SIGNAL_COLOURS[name], zorder=4, label=labels[name])
    ax.set_xticks(x, _quarter_ticks(q["quarter"], q["n"]), fontsize=7)
    for tick, ok in zip(ax.get_xticklabels(), shown):
        if not ok:
            tick.set_color(PALETTE["grey"])
    ax.set_ylim(0, 103)  # room for a limit at 100%
    ax.set_xlabel("Quarter of the 12-month assessment (second line: patients assessed; "
                  "grey: not plotted)" if len(x) else "Quarter of the 12-month assessment")
    ax.set_ylabel("Patients improved (%)")
    hidden = int((~shown & (np.nan_to_num(n) > 0)).sum())
    ax.set_title(title + (f": {pretty(family).lower()}" if family else "")
                 + (f" ({hidden} quarter{'s' if hidden != 1 else ''} with too few patients "
                    f"not plotted)" if hidden else ""))
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def _quarter_ticks(quarters, ns) -> list[str]:
    """Readable quarter ticks, never rotated: ``Q3`` over its n, and the year under the
    first quarter of each year (and under the first tick)."""
    out, last = [], None
    for quarter, n in zip(quarters, ns):
        text = str(quarter)
        year, part = (text[:4], text[4:]) if len(text) == 6 and text[4] == "Q" else (text, "")
        out.append(f"{part or year}\n{_count(n)}" + (f"\n{year}" if part and year != last
                                                     else ""))
        last = year
    return out


def ae_incidence_plot(adverse_events: pd.DataFrame, *, ax=None,
                      title: str = "Adverse events: patients affected", level: float = 0.95):
    """Patient incidence of each adverse-event term with its interval, beside the published
    rate where there is one.

    Parameters
    ----------
    adverse_events : pandas.DataFrame
        ``Analysis.adverse_events`` (``term, k, n, rate, ci_low, ci_high, benchmark_rate``).
    ax : matplotlib.axes.Axes, optional
    level : float, default 0.95
        The intervals' confidence level (``definitions.confidence``), for the legend.

    Returns
    -------
    matplotlib.axes.Axes
        One row per term: blue circle with interval (clinic), vermillion diamond (published);
        x: treated patients with the event (%).
    """
    ae = adverse_events.reset_index(drop=True)
    y = np.arange(len(ae))[::-1].astype(float)
    ax = _axes(ax, (8, 0.4 * len(ae) + 1.6))
    _interval(ax, y, _num(ae["rate"]), _num(ae["ci_low"]), _num(ae["ci_high"]),
              colour=CLINIC, marker="o", label=f"Your clinic ({100 * level:g}% CI)")
    bench = _num(ae["benchmark_rate"]) if "benchmark_rate" in ae else np.full(len(ae), np.nan)
    ok = ~np.isnan(bench)
    ax.scatter(100 * bench[ok], y[ok], marker="D", color=PUBLISHED, zorder=3,
               label="Published")
    labels = [f"{pretty(t)} ({_count(k)}/{_count(n)})"
              for t, k, n in zip(ae["term"], ae["k"], ae["n"])]
    ax.set_yticks(y, labels, fontsize=8)
    top = np.nanmax(np.r_[_num(ae["ci_high"]), bench, 0.1]) if len(ae) else 0.1
    ax.set_xlim(0, min(100, 100 * top * 1.15))
    ax.set_ylim(-0.8, max(len(ae), 1) - 0.2)
    n = _num(ae["n"])
    n_text = f"{int(np.nanmax(n))}" if np.isfinite(n).any() else "<5"
    ax.set_xlabel("Treated patients with the event (%)")
    ax.set_title(f"{title} (n = {n_text} treated)")
    ax.grid(axis="x", color="#dddddd")
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    return ax


def edema_by_session_plot(ae_timing: pd.DataFrame, *, term: str = "frontal_edema", ax=None):
    """Events of one term by session number (1st, 2nd, 3rd, later).

    Parameters
    ----------
    ae_timing : pandas.DataFrame
        ``Analysis.ae_timing`` (``term, session_number, events``), possibly suppressed.
    term : str, default ``"frontal_edema"``
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One bar per session number, its count on top (``"<5"`` when suppressed); y: events.
    """
    t = ae_timing[ae_timing["term"] == term]
    order = ["1", "2", "3", "4+"]
    t = t.assign(s=t["session_number"].astype(str)).set_index("s").reindex(order)
    events = _num(t["events"])
    ax = _axes(ax, (6, 4))
    x = np.arange(len(order))
    ax.bar(x, np.nan_to_num(events), color=PALETTE["orange"])
    raw = t["events"].where(t["events"].notna(), 0)
    for xx, v, r in zip(x, np.nan_to_num(events), raw):
        ax.text(xx, v, _count(r), ha="center", va="bottom", fontsize=8)
    ax.set_xticks(x, ["1st", "2nd", "3rd", "4th or later"])
    ax.set_xlabel("Session after which the event began")
    ax.set_ylabel("Events (n)")
    total = int(np.nansum(events))
    hidden = int(np.sum(pd.Series(t["events"]).map(lambda v: isinstance(v, str))))
    ax.set_title(f"{pretty(term)} by session number (n = {total} events"
                 + (" shown)" if hidden else ")"))
    ax.margins(y=0.15)
    return ax


def audit_trend_plot(trend: pd.DataFrame, measures, *, labels=None, level: float = 0.95,
                     axes=None):
    """Each measure's quarterly rate over the quarters of a re-audit, with its interval.

    Parameters
    ----------
    trend : DataFrame
        :func:`outcomes.audit.quarter_trend` (``quarter``, ``measure``, ``k``, ``n``, ``rate``,
        ``ci_low``, ``ci_high``; counts may be ``"<5"`` in shareable mode: no point then).
    measures : sequence of str
        The measures drawn, one panel each.
    labels : dict, optional
        Measure -> panel title.
    level : float
        Confidence level named in the legend.

    Returns
    -------
    array of Axes
    """
    import matplotlib.pyplot as plt

    measures = [m for m in measures if m in set(trend["measure"])]
    if axes is None:
        _, axes = plt.subplots(1, max(len(measures), 1), figsize=(3.1 * max(len(measures), 1),
                                                                   2.8),
                               sharey=True, layout="constrained", squeeze=False)
        axes = axes[0]
    quarters = sorted(trend["quarter"].unique())
    x = np.arange(len(quarters))
    for ax, m in zip(axes, measures):
        sub = trend.loc[trend["measure"] == m].set_index("quarter").reindex(quarters)
        rate, low, high = (_num(sub[c]) * 100 for c in ("rate", "ci_low", "ci_high"))
        ok = ~np.isnan(rate)
        ax.vlines(x[ok], low[ok], high[ok], color=CLINIC, lw=2, alpha=0.6)
        ax.plot(x[ok], rate[ok], "o-", color=CLINIC, ms=5)
        ax.set_xticks(x, quarters, fontsize=9)
        ax.set_ylim(0, 102)
        import textwrap

        title = str((labels or {}).get(m, pretty(m)))
        ax.set_title("\n".join(textwrap.wrap(title[:1].upper() + title[1:], 30)), fontsize=9)
        ax.set_xlim(-0.5, len(quarters) - 0.5)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel(f"rate, % ({100 * level:g}% interval)")
    return axes
