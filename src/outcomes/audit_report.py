"""The quarterly audit's sections of the report page, one call each (``ctx`` -> HTML).

Each function takes a :class:`~outcomes.reporting.ReportContext` (with its ``audit``) and returns
a :class:`Section` that a notebook shows by leaving it as the cell's last expression. Numbers
come from the :class:`~outcomes.audit.Audit` frames; this module only words and formats them.
In shareable mode every frame comes through ``ctx.frame`` (the one disclosure-control pass,
:mod:`outcomes.disclosure`) and the safety box shows counts only (no pseudonym, no date).
"""
from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from outcomes import audit as _audit
from outcomes.labels import FINDINGS
from outcomes.text import fmt_pct

__all__ = ["Section", "safety_box", "periods_section", "standards_section",
           "reaudit_section", "actions_section", "compared_with_published", "AUDIT_CSS",
           "KEY_MEASURES"]

AUDIT_CSS = """<style>
.audit-box {border: 2px solid #b00020; border-radius: 6px; padding: 0.4em 0.9em 0.6em;
  margin: 0.6em 0 1em; background: #fff7f7;}
.audit-box h3 {margin-top: 0.3em; color: #8a0016;}
.audit-box.clear {border-color: #2e7d32; background: #f5fbf5;}
.audit-box.clear h3 {color: #1b5e20;}
.audit-periods {margin: 0.2em 0 0.6em 1.1em; padding: 0;}
.audit-note {font-size: 12.5px; color: #444; margin: 0.2em 0 1.1em; max-width: 62em;}
.rag {display: inline-block; min-width: 4.2em; text-align: center; border-radius: 3px;
  padding: 0 0.4em; font-weight: 600; color: #fff;}
.rag.green {background: #2e7d32;} .rag.amber {background: #e08e0b; color: #111;}
.rag.red {background: #c62828;} .rag.nodata {background: #9e9e9e;}
.audit-signoff td {padding: 0.9em 0.6em 0.2em 0; min-width: 12em;
  border-bottom: 1px solid #333;}
.audit-signoff td.role {border-bottom: none; font-weight: 600; min-width: 14em;}
.overdue {color: #b00020; font-weight: 600;}
.audit-print-only {display: none;}
.audit-section h2 {margin-top: 1.2em;}
@media print {
  .audit-box details {display: none;}
  .audit-print-only {display: block;}
  .audit-box .audit-note {font-size: 8pt;}
}
</style>"""


@dataclass(frozen=True)
class Section:
    """A piece of report page; a notebook renders it through ``_repr_html_``."""

    html: str

    def _repr_html_(self) -> str:
        return AUDIT_CSS + self.html

    def __str__(self) -> str:
        return self.html


#: the measures of the first-screen table, in order (MEASURES keys)
KEY_MEASURES = ("photographic_improved_comparable", "photographic_improved_all",
                "photographic_improved_worst_case", "followed_up_photographic",
                "density_improved_all", "patients_treated", "new_patients", "sessions_given",
                "pain_patients", "serious_event_patients", "sentinel_events",
                "pregnancy_test_wocbp", "no_hypersensitivity_session",
                "year_one_intervals_on_schedule")

_PERIOD_HEAD = {"quarter": "This quarter", "rolling_year": "Rolling 12 months",
                "cumulative": "All patients"}


def _e(x) -> str:
    return html.escape("" if x is None else str(x))


def _num(x) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return float("nan")
    return v


def _count_text(x) -> str:
    if isinstance(x, str):
        return x
    v = _num(x)
    return "-" if np.isnan(v) else f"{int(v)}"


def _cell(k, n, rate=None, low=None, high=None, *, interval: bool = True) -> str:
    """``"21/22 = 95.5% (78.2-99.2%)"``; a count alone when there is no n."""
    if n is None or (not isinstance(n, str) and np.isnan(_num(n))):
        return _count_text(k)
    head = f"{_count_text(k)}/{_count_text(n)}"
    if np.isnan(_num(rate)):
        return head
    tail = (f" ({100 * _num(low):.1f} to {100 * _num(high):.1f}%)"
            if interval and not np.isnan(_num(low)) else "")
    return f"{head} = {fmt_pct(rate)}{tail}"


def _table(header: list[str], rows: list[list[str]], cls: str = "outcomes-table") -> str:
    """An HTML table from already-escaped cells."""
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return (f'<div class="outcomes-scroll"><table class="{cls}"><thead><tr>{head}</tr>'
            f"</thead><tbody>{body}</tbody></table></div>")


def _note(text: str) -> str:
    return f'<p class="audit-note">{text}</p>'


def _frame(ctx, name: str) -> pd.DataFrame:
    """A frame as the audience may see it: exact (internal) or through the one
    disclosure-control pass (shareable), :meth:`ReportContext.frame`."""
    return ctx.frame(name)


def _level(ctx) -> str:
    return f"{100 * ctx.analysis.definitions.confidence:g}%"


def _periods(ctx) -> pd.DataFrame:
    return ctx.audit.periods.set_index("period")


# ---------------------------------------------------------------------------------------------
def safety_box(ctx) -> Section:
    """The box at the top of the audit page: every sentinel case and screening breach.

    Internal: a count line per period, then this quarter's cases (pseudonym, dates, sessions)
    and the earlier ones under a fold. Shareable: the counts only, small counts as ``<5``.
    """
    a = ctx.audit
    per = _periods(ctx)
    counts = _frame(ctx, "safety_counts")
    wide = {p: counts.loc[counts["period"] == p].set_index("finding") for p in _audit.PERIODS}
    raw = a.finding_counts
    all_cases = int(raw.loc[raw["period"] == "cumulative", "cases"].sum())
    rows = []
    for f in ("sentinel_events", "positive_pregnancy_test", "hypersensitivity_5ari",
              "wocbp_without_contraception", "wocbp_no_pregnancy_test"):
        unit = "event" if f == "sentinel_events" else "session"
        cells = []
        for p in _audit.PERIODS:
            r = wide[p].loc[f]
            cells.append(f"{_plural(r['cases'], unit)}, {_plural(r['patients'], 'patient')}")
        rows.append([_e(FINDINGS[f]), *[_e(c) for c in cells]])
    header = ["Finding", *[f"{_PERIOD_HEAD[p]}<br><small>{_e(per.loc[p, 'first_quarter'])}"
                           f"{'' if p == 'quarter' else ' to ' + _e(per.loc[p, 'last_quarter'])}"
                           "</small>" for p in _audit.PERIODS]]
    parts = [f'<div class="audit-box{" clear" if all_cases == 0 else ""}">',
             f"<h3>{_e(_box_title(ctx, raw))}</h3>",
             _table(header, rows),
             _note("Sentinel events are paradoxical alopecia, scarring, acute dermatitis, sperm "
                   "abnormality and any event marked serious or graded severe. A screening "
                   "breach is a session given despite a contraindication or a missing check. "
                   "Every case is reviewed one by one; none is only counted.")]
    if ctx.shareable:
        parts.append(_note("Shareable version: counts only, without pseudonyms or dates; the "
                           "internal report lists each case."))
    else:
        f = a.findings
        now, earlier = f.loc[f["when"] == "this quarter"], f.loc[f["when"] != "this quarter"]
        parts.append(f"<h4>This quarter ({_e(a.quarter)}): {len(now)} case"
                     f"{'' if len(now) == 1 else 's'} to review</h4>")
        parts.append(_findings_table(now) if len(now) else "<p>None.</p>")
        if len(earlier):
            parts.append(f'<p class="audit-print-only">{len(earlier)} earlier case'
                         f"{'' if len(earlier) == 1 else 's'}, reviewed at earlier audits, are "
                         "listed in the HTML report (index.html).</p>")
            parts.append(f"<details><summary>{len(earlier)} earlier case"
                         f"{'' if len(earlier) == 1 else 's'} (before "
                         f"{_e(per.loc['quarter', 'first_quarter'])}), reviewed at earlier "
                         "audits: show</summary>" + _findings_table(earlier) + "</details>")
    parts.append("</div>")
    return Section("".join(parts))


def _plural(x, unit: str) -> str:
    """``"1 session"``, ``"12 sessions"``, ``"<5 sessions"``."""
    text = _count_text(x)
    return f"{text} {unit}" + ("" if text == "1" else "s")


def _box_title(ctx, counts: pd.DataFrame) -> str:
    """The box's heading: this quarter's and all-time sentinel events and breached sessions
    (internal); no totals in shareable mode (a total beside suppressed cells would give them
    away)."""
    if ctx.shareable:
        return "Safety findings to review (counts)"
    parts = []
    for p, words in (("quarter", "this quarter"), ("cumulative", "since "
                                                   + str(_periods(ctx).loc["cumulative",
                                                                           "first_quarter"]))):
        c = counts.loc[counts["period"] == p]
        events = int(c.loc[c["finding"] == "sentinel_events", "cases"].sum())
        breached = int(c.loc[c["finding"] != "sentinel_events", "cases"].sum())
        parts.append(f"{words}: {_plural(events, 'sentinel event')} and "
                     f"{_plural(breached, 'session')} with a screening breach")
    return "Safety findings to review: " + "; ".join(parts)


def _date(x) -> str:
    return "-" if pd.isna(x) else pd.Timestamp(x).date().isoformat()


def _findings_table(f: pd.DataFrame) -> str:
    rows = []
    for r in f.itertuples(index=False):
        first, last = _date(r.first_date), _date(r.last_date)
        when = first if first == last else f"{first} to {last}"
        n = "-" if pd.isna(r.sessions) else int(r.sessions)
        if r.kind == "screening breach":
            what = FINDINGS.get(r.finding, r.what)
            sessions = f"{n} session{'' if n == 1 else 's'}"
        else:
            what = "Sentinel event: " + r.what
            sessions = f"after session {n}"
        rows.append([_e(what), _e(r.patient_id), _e(when), _e(sessions)])
    return _table(["Finding", "Patient", "Date", "Sessions"], rows)


# ---------------------------------------------------------------------------------------------
def periods_section(ctx) -> Section:
    """The first-screen table: key measures for the quarter, the rolling year and all patients,
    each period labelled with its dates."""
    per = _periods(ctx)
    m = _frame(ctx, "periods")
    rows = []
    for measure in KEY_MEASURES:
        cells = []
        for p in _audit.PERIODS:
            r = m.loc[(m["period"] == p) & (m["measure"] == measure)]
            if r.empty:
                cells.append("-")
                continue
            r = r.iloc[0]
            cells.append(_e(_cell(r["k"], r["n"], r["rate"], r["ci_low"], r["ci_high"])))
        rows.append([_e(_audit.MEASURES[measure][0][:1].upper()
                        + _audit.MEASURES[measure][0][1:]), *cells])
    header = ["Measure", *[_e(_PERIOD_HEAD[p]) for p in _audit.PERIODS]]
    labels = "".join(f"<li>{_e(per.loc[p, 'label'])}</li>" for p in _audit.PERIODS)
    lo, hi = ctx.analysis.definitions.assessment_window
    return Section(
        "<h2>This quarter and the rolling year</h2>"
        f'<ul class="audit-periods">{labels}</ul>' + _table(header, rows)
        + _note(f"How to read: each cell is count/denominator = rate ({_level(ctx)} interval). "
                "Response rows count the patients whose 12-month assessment window (days "
                f"{lo}-{hi} after the first session) closed in the period, so each patient "
                "belongs to one quarter; sessions, screening and adverse events count in the "
                "period of their own date. The comparison with the published figures below "
                "uses all patients."))


# ---------------------------------------------------------------------------------------------
_STATUS_WORD = {"green": "met", "amber": "below, may be chance", "red": "missed",
                "no data": "no data"}


def _rag(status) -> str:
    if status is None or (isinstance(status, float) and np.isnan(status)):
        return '<span class="rag nodata">-</span>'
    cls = "nodata" if status == "no data" else status
    return f'<span class="rag {cls}">{_e(status)}</span> {_e(_STATUS_WORD.get(status, ""))}'


def standards_section(ctx) -> Section:
    """Compliance with each audit standard: target, exceptions, quarter and rolling year,
    red/amber/green status and the assurance statement, with the rules used."""
    st = _frame(ctx, "audit_standards")
    rows = []
    for r in st.itertuples(index=False):
        by = " (status on the rolling 12 months)" if r.period == "rolling_year" else ""
        rows.append([_e(r.standard), _e(r.target_text), _e(r.exceptions),
                     _e(_cell(r.k, r.n, r.rate, r.ci_low, r.ci_high, interval=False)),
                     _e(_cell(r.year_k, r.year_n, r.year_rate, r.year_ci_low,
                              r.year_ci_high)),
                     _rag(r.status) + _e(by), _e(r.assurance if isinstance(r.assurance, str)
                                               else "-")])
    raw = ctx.audit.standards
    missed = raw.loc[raw["status"] == "red", "standard"].tolist()
    met = int((raw["status"] == "green").sum())
    summary = (f"<p><b>{met} of {len(raw)} standards met</b>"
               + (f"; missed: {_e('; '.join(missed))}." if missed else ".") + "</p>")
    if ctx.shareable:
        summary = ""   # a status can rest on a small count; the table shows what may be shown
    level = _level(ctx)
    return Section(
        "<h2>Audit standards</h2>" + summary
        + _table(["Standard", "Target", "Exceptions (not counted)", "This quarter",
                  f"Rolling 12 months ({level} interval)", "Status", "Assurance"], rows)
        + _note("How to read: " + _e(_audit.STATUS_RULE.format(level=level)) + " "
                + _e(_audit.ASSURANCE_RULE.format(level=level))))


# ---------------------------------------------------------------------------------------------
def reaudit_section(ctx) -> Section:
    """Change since the last quarter given (Newcombe interval, Fisher test) and the trend over
    the quarters given; a line saying how to ask for it when no earlier quarter was given."""
    a = ctx.audit
    title = "<h2>Re-audit: this quarter against the last</h2>"
    if not a.previous:
        return Section(title + "<p>No earlier quarter was given. To re-audit, pass the earlier "
                       "quarters' results files: <code>outcomes report DATA --quarter "
                       f"{_e(a.quarter)} --out DIR --previous Q_BEFORE/results.json</code> "
                       "(the internal report's results.json, or <code>outcomes analyze "
                       "--json</code>).</p>")
    ch = _frame(ctx, "audit_changes")
    rows = []
    for r in ch.itertuples(index=False):
        diff = "-"
        if not np.isnan(_num(r.diff)):
            diff = (f"{100 * r.diff:+.1f} points ({100 * r.diff_ci_low:+.1f} to "
                    f"{100 * r.diff_ci_high:+.1f})")
        p = _num(r.p_value)
        rows.append([_e(_audit.MEASURES[r.measure][0][:1].upper()
                        + _audit.MEASURES[r.measure][0][1:]),
                     _e(_cell(r.previous_k, r.previous_n, r.previous_rate, interval=False)),
                     _e(_cell(r.k, r.n, r.rate, interval=False)), _e(diff),
                     "-" if np.isnan(p) else ("&lt;0.001" if p < 0.001 else f"{p:.3f}")])
    prev_q, now_q = (a.changes["previous_quarter"].iloc[0], a.changes["quarter"].iloc[0]) \
        if len(a.changes) else (a.previous[-1], a.quarter)
    level = _level(ctx)
    parts = [title, f"<h4>Change since {_e(prev_q)}</h4>",
             _table(["Measure", _e(prev_q), _e(now_q),
                     f"Change ({level} interval)", "p (Fisher)"], rows),
             _note(f"How to read: the change is {_e(now_q)}'s rate minus {_e(prev_q)}'s, in "
                   f"percentage points, with its {level} interval (Newcombe's method for two "
                   "independent proportions) and Fisher's exact test. An interval that "
                   "includes 0 means the change may be chance. The two quarters' response "
                   "rows share no patient.")]
    tr = _frame(ctx, "audit_trend")
    quarters = sorted(a.trend["quarter"].unique())
    trows = []
    for measure in [m for m in KEY_MEASURES if m in set(a.trend["measure"])]:
        sub = tr.loc[tr["measure"] == measure].set_index("quarter")
        cells = [_e(_cell(sub.loc[q, "k"], sub.loc[q, "n"], sub.loc[q, "rate"], interval=False))
                 if q in sub.index else "-" for q in quarters]
        trows.append([_e(_audit.MEASURES[measure][0][:1].upper()
                         + _audit.MEASURES[measure][0][1:]), *cells])
    from outcomes.figures import audit_trend_plot
    from outcomes.sections import figure_html

    shown = ("photographic_improved_comparable", "followed_up_photographic",
             "pregnancy_test_wocbp", "year_one_intervals_on_schedule")
    audit_trend_plot(tr, shown, labels={m: _audit.MEASURES[m][0] for m in shown},
                     level=ctx.analysis.definitions.confidence)
    parts += [f"<h4>Trend over the quarters given ({_e(quarters[0])} to {_e(quarters[-1])})</h4>",
              figure_html(alt="Quarterly rates over the quarters given, with intervals"),
              _table(["Measure", *[_e(q) for q in quarters]], trows),
              _note("Each quarter's figure as its own report computed it, with the same "
                    "definitions (files with other definitions are refused).")]
    return Section("".join(parts))


# ---------------------------------------------------------------------------------------------
def actions_section(ctx) -> Section:
    """The action plan (carried-forward actions first, with their status) and the sign-off
    block (roles with blank lines to sign)."""
    a = ctx.audit
    parts = ["<h2>Action plan and sign-off</h2>"]
    if a.actions is None:
        parts.append("<p>No action plan was given: write one (action, owner, due, status, "
                     "raised) and pass it with <code>--actions FILE</code>; see the README, "
                     "\"Quarterly audit cycle\".</p>")
    elif a.actions.empty:
        parts.append("<p>The action plan is empty.</p>")
    else:
        rows = []
        for r in a.actions.itertuples(index=False):
            status = _e(r.status) + (' <span class="overdue">overdue</span>' if r.overdue
                                     else "")
            rows.append([_e(r.section), _e(r.action), _e(r.owner), _e(_date(r.due)), status,
                         _e("-" if pd.isna(r.standard) else r.standard)])
        n_carried = int(a.actions["carried"].sum())
        n_overdue = int(a.actions["overdue"].sum())
        parts.append(_table(["Raised", "Action", "Owner", "Due", "Status", "Standard"], rows))
        parts.append(_note(f"How to read: {n_carried} action{'' if n_carried == 1 else 's'} "
                           f"carried forward from earlier audits, "
                           f"{len(a.actions) - n_carried} new; {n_overdue} overdue (not done "
                           f"and due before the cut-off {_e(ctx.analysis.cutoff)})."))
    sign = "".join(f'<tr><td class="role">{_e(role)}</td><td>Name</td><td>Signature</td>'
                   "<td>Date</td></tr>" for role in a.sign_off)
    parts.append(f'<h4>Sign-off</h4><div class="outcomes-scroll"><table class="audit-signoff">'
                 f"{sign}</table></div>")
    return Section("".join(parts))


# ---------------------------------------------------------------------------------------------
def compared_with_published(ctx) -> Section:
    """The headline sentences (all patients against the published figures) under a heading
    naming the cumulative period, so that the reader knows they are not the quarter's."""
    from outcomes import sections

    per = _periods(ctx)
    head = (f"<h2>All patients since {_e(per.loc['cumulative', 'first_quarter'])} compared "
            "with the published figures</h2>")
    return Section(head + sections.headline(ctx)._repr_html_())
