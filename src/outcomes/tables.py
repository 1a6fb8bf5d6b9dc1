"""Presentation tables: the Analysis frames with readable headers and formatted numbers.

Every function returns a new DataFrame of text (the input is never modified; numbers are
rounded only here, on the copy). Count columns are headed ``... (n)`` or ``... (k)``; a
suppressed count (``"<5"``) is shown as it is and a rate built on it as ``"-"``. Nothing here
decides what may be shown: in shareable mode every function receives frames that went through
the one disclosure-control pass (:func:`outcomes.disclosure.control_frame`, via
``ReportContext.frame``).
"""
from __future__ import annotations

import html

import numpy as np
import pandas as pd

from outcomes.text import fmt_ci, fmt_pct

__all__ = ["table_one", "flow_table", "response_table", "adverse_event_table",
           "ae_duration_table", "protocol_table", "screening_table", "strata_table",
           "density_change_table", "sensitivity_table", "model_table", "load_counts_table",
           "quarantine_table", "quarantine_summary", "published_records", "published_table",
           "benchmark_labels", "sentinel_table", "screening_cases_table", "provenance_table",
           "to_html", "banner_html",
           "sentences_html", "REPORT_CSS", "meta_summary_table", "meta_studies_table",
           "published_studies_table"]

_WORDS = {"photographic": "Photographs (GPA)", "density": "Hair density", "all": "All patients",
          "comparable": "Mesotherapy alone", "improved": "Improved",
          "dramatic": "Marked improvement", "worst_case_improved": "Improved (worst case)",
          "absolute_per_cm2": "Absolute change (hairs/cm²)",
          "relative": "Relative change (%)",
          "hypersensitivity_5ari": "Known 5-alpha-reductase inhibitor hypersensitivity",
          "wocbp_without_contraception": "Childbearing potential, no contraception",
          "positive_pregnancy_test": "Positive pregnancy test",
          "wocbp_no_pregnancy_test": "Childbearing potential, no pregnancy test recorded",
          "serious": "Serious events"}


def _word(code) -> str:
    text = _WORDS.get(str(code), str(code).replace("_", " "))
    return text[:1].upper() + text[1:]


def _count(values) -> list[str]:
    """Counts as text: ints, ``"<5"`` kept, missing -> ``"-"``."""
    num = pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce")
    raw = pd.Series(values, dtype="object").reset_index(drop=True)
    return [r if isinstance(r, str) else ("-" if np.isnan(v) else f"{int(v)}")
            for r, v in zip(raw, num.to_numpy(float))]


def _pcts(values, digits: int = 1) -> list[str]:
    return [fmt_pct(v, digits) for v in pd.to_numeric(pd.Series(values, dtype="object"),
                                                      errors="coerce")]


def _cis(low, high) -> list[str]:
    """Intervals as text, joined by a non-breaking hyphen so that a cell never splits one."""
    lo = pd.to_numeric(pd.Series(low, dtype="object"), errors="coerce")
    hi = pd.to_numeric(pd.Series(high, dtype="object"), errors="coerce")
    return [_nb(fmt_ci(a, b)) for a, b in zip(lo, hi)]


def _nb(text: str) -> str:
    """``70.1-84.0%`` -> ``70.1‑84.0%``: U+2011 between the bounds (a leading minus stays)."""
    if text == "-":
        return text
    return text[:1] + text[1:].replace("-", "\u2011", 1)


def _p(values) -> list[str]:
    num = pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce").to_numpy(float)
    return ["-" if np.isnan(v) else ("<0.001" if v < 0.001 else f"{v:.3f}") for v in num]


def _col(df: pd.DataFrame, name: str):
    return df[name] if name in df else pd.Series([np.nan] * len(df), index=df.index)


def table_one(cohort: pd.DataFrame | None = None, *, counts: pd.DataFrame | None = None
              ) -> pd.DataFrame:
    """Cohort characteristics of the treated patients ("Table 1").

    Parameters
    ----------
    cohort : pandas.DataFrame, optional
        ``Analysis.cohort`` (``treated, sex, age, age_band, baseline_scale, minoxidil,
        n_sessions``): internal report (exact counts, age and sessions summaries).
    counts : pandas.DataFrame, optional
        Shareable report: ``ReportContext.frame("table_one")`` (``characteristic, level, n,
        total, pct`` after the disclosure pass); only the counts are shown (no age or
        sessions summary: those rest on single patients' values).

    Returns
    -------
    pandas.DataFrame
        ``Characteristic, Level, Value``: categorical rows as ``n (%)`` of treated patients,
        age (years) as mean (SD) and median [IQR], sessions per patient as median [IQR].
    """
    from outcomes.disclosure import table_one_counts

    shareable = counts is not None
    if counts is None:
        if cohort is None:
            raise ValueError("table_one needs the cohort (internal) or counts (shareable)")
        counts = table_one_counts(cohort)
    total = counts["total"].iloc[0] if len(counts) else (
        int(cohort["treated"].astype("boolean").fillna(False).sum()) if cohort is not None
        and "treated" in cohort else 0)
    rows = [("Patients treated", "", _count([total])[0])]
    c = None
    if not shareable and cohort is not None:
        c = cohort[cohort["treated"].astype("boolean").fillna(False)] if "treated" in cohort \
            else cohort
        age = pd.to_numeric(c["age"], errors="coerce").astype(float).dropna()
        if len(age):
            q1, med, q3 = np.percentile(age, [25, 50, 75])
            rows.append(("Age (years)", "mean (SD)", f"{age.mean():.1f} ({age.std():.1f})"))
            rows.append(("Age (years)", "median [IQR]", f"{med:.0f} [{q1:.0f}-{q3:.0f}]"))
    pct = pd.to_numeric(counts["pct"], errors="coerce").to_numpy(float)
    for ch, lvl, n, p in zip(counts["characteristic"], counts["level"], _count(counts["n"]),
                             pct):
        rows.append((ch, lvl, n if n in ("-",) or n.startswith("<") or np.isnan(p)
                     else f"{n} ({100 * p:.1f}%)"))
    if c is not None and "n_sessions" in c:
        s = pd.to_numeric(c["n_sessions"], errors="coerce").astype(float).dropna()
        if len(s):
            q1, med, q3 = np.percentile(s, [25, 50, 75])
            rows.append(("Sessions per patient", "median [IQR]",
                         f"{med:.0f} [{q1:.0f}-{q3:.0f}]"))
    out = pd.DataFrame(rows, columns=["Characteristic", "Level", "Value"])
    out.loc[out["Characteristic"].duplicated(), "Characteristic"] = ""
    return out.rename(columns={"Value": "Patients, n (%)"})


def flow_table(flow: pd.DataFrame) -> pd.DataFrame:
    """``Analysis.flow`` -> ``Step, Patients (n), Note``."""
    return pd.DataFrame({"Step": [_word(s) for s in flow["step"]],
                         "Patients (n)": _count(flow["n"]),
                         "Note": _col(flow, "note").fillna("").astype(str).to_list()})


def response_table(response: pd.DataFrame) -> pd.DataFrame:
    """``Analysis.response`` -> one row per family, group and outcome, with the published
    figure, the exact test against its rate and Fisher's test and the Newcombe difference
    against its counts."""
    r = response.reset_index(drop=True)
    bk, bn = _count(_col(r, "benchmark_k")), _count(_col(r, "benchmark_n"))
    bench = [("-" if p == "-" else p + (f" ({k}/{n})" if k != "-" else ""))
             for p, k, n in zip(_pcts(_col(r, "benchmark_rate")), bk, bn)]
    diff = [("-" if d == "-" else f"{d} ({ci.replace('%', '')} points)".replace("%", ""))
            for d, ci in zip(_pcts(_col(r, "diff")), _cis(_col(r, "diff_ci_low"),
                                                            _col(r, "diff_ci_high")))]
    return pd.DataFrame({
        "Measure": [_word(f) for f in r["family"]], "Group": [_word(g) for g in r["group"]],
        "Outcome": [_word(o) for o in r["outcome"]], "Patients (k)": _count(r["k"]),
        "Assessed (n)": _count(r["n"]), "Rate": _pcts(r["rate"]),
        "95% CI": _cis(r["ci_low"], r["ci_high"]), "Published": bench,
        "p (vs published rate)": _p(_col(r, "p_value")),
        "p (Fisher, vs study counts)": _p(_col(r, "fisher_p_value")),
        "Difference, points (95% CI)": diff})


def adverse_event_table(adverse_events: pd.DataFrame) -> pd.DataFrame:
    """``Analysis.adverse_events`` -> patient incidence, session rate and published rate."""
    a = adverse_events.reset_index(drop=True)
    return pd.DataFrame({
        "Event": [_word(t) for t in a["term"]], "Patients (k)": _count(a["k"]),
        "Treated (n)": _count(a["n"]), "Patients affected": _pcts(a["rate"]),
        "95% CI": _cis(a["ci_low"], a["ci_high"]), "Events (n)": _count(_col(a, "events")),
        "Sessions (n)": _count(_col(a, "sessions")),
        "Per 100 sessions": [("-" if v == "-" else v[:-1])
                             for v in _pcts(_col(a, "session_rate"))],
        "Published": _pcts(_col(a, "benchmark_rate")),
        "p (vs published)": _p(_col(a, "p_value"))})


def ae_duration_table(ae_duration: pd.DataFrame) -> pd.DataFrame:
    """``Analysis.ae_duration`` -> ``Event, Events (n), Median days [IQR], Range``."""
    d = ae_duration.reset_index(drop=True)

    def num(col):
        return pd.to_numeric(_col(d, col).astype("object"), errors="coerce").to_numpy(float)

    med, q1, q3, lo, hi = (num(c) for c in ("median_days", "q1_days", "q3_days", "min_days",
                                            "max_days"))
    return pd.DataFrame({
        "Event": [_word(t) for t in d["term"]], "Events (n)": _count(d["events"]),
        "Median days [IQR]": ["-" if np.isnan(m) else f"{m:g} [{a:g}-{b:g}]"
                              for m, a, b in zip(med, q1, q3)],
        "Range (days)": ["-" if np.isnan(a) else f"{a:g}-{b:g}" for a, b in zip(lo, hi)]})


def _rate_table(df: pd.DataFrame, first: str, first_values) -> pd.DataFrame:
    return pd.DataFrame({first: first_values, "Meeting it (k)": _count(df["k"]),
                         "Of (n)": _count(df["n"]), "Rate": _pcts(df["rate"]),
                         "95% CI": _cis(df["ci_low"], df["ci_high"])})


def protocol_table(protocol: pd.DataFrame) -> pd.DataFrame:
    """``Analysis.protocol`` -> ``Measure, Meeting it (k), Of (n), Rate, 95% CI``."""
    p = protocol.reset_index(drop=True)
    return _rate_table(p, "Measure", [_word(m) for m in p["measure"]])


def screening_table(screening: pd.DataFrame) -> pd.DataFrame:
    """``Analysis.screening`` -> ``Deviation, Sessions (n), Patients (n)``."""
    s = screening.reset_index(drop=True)
    return pd.DataFrame({"Deviation": [_word(d) for d in s["deviation"]],
                         "Sessions (n)": _count(s["sessions"]),
                         "Patients (n)": _count(s["patients"])})


def strata_table(strata: pd.DataFrame) -> pd.DataFrame:
    """``Analysis.strata`` -> ``Measure, Outcome, By, Level, Improved (k), Of (n), Rate,
    95% CI``."""
    s = strata.reset_index(drop=True)
    out = _rate_table(s, "Measure", [_word(f) for f in s["family"]])
    out.insert(1, "Outcome", [_word(o) for o in s["outcome"]])
    out.insert(2, "By", [_word(x) for x in s["stratum"]])
    out.insert(3, "Level", s["level"].astype("object").fillna("Not recorded").astype(str)
               .to_list())
    return out


def density_change_table(density_change: pd.DataFrame) -> pd.DataFrame:
    """``Analysis.density_change`` -> ``Measure, Mean (95% CI), Patients (n)``."""
    d = density_change.reset_index(drop=True)
    mean, lo, hi = (pd.to_numeric(d[c].astype("object"), errors="coerce").to_numpy(float)
                    for c in ("mean", "ci_low", "ci_high"))
    rel = (d["measure"] == "relative").to_numpy()
    scale = np.where(rel, 100.0, 1.0)
    text = ["-" if np.isnan(m) else f"{m * s:+.1f} ({a * s:+.1f} to {b * s:+.1f})"
            for m, a, b, s in zip(mean, lo, hi, scale)]
    return pd.DataFrame({"Measure": [_word(m) for m in d["measure"]],
                         "Mean (95% CI)": text, "Patients (n)": _count(d["n"])})


def sensitivity_table(density_sensitivity: pd.DataFrame) -> pd.DataFrame:
    """``Analysis.density_sensitivity`` -> improved rate at each density threshold."""
    s = density_sensitivity.reset_index(drop=True)
    return _rate_table(s, "Threshold (% change)", [f"{100 * t:+.0f}%" for t in
                                                   s["threshold"].astype(float)])


def model_table(model: pd.DataFrame) -> pd.DataFrame:
    """``Analysis.model`` -> ``Term, Estimate (95% CI), p``."""
    m = model.reset_index(drop=True)
    est = [f"{c:.3g} ({a:.3g} to {b:.3g})" for c, a, b in
           zip(m["coef"].astype(float), m["ci_low"].astype(float), m["ci_high"].astype(float))]
    return pd.DataFrame({"Term": m["term"].astype(str).to_list(), "Estimate (95% CI)": est,
                         "p": _p(m["p_value"])})


def load_counts_table(counts) -> pd.DataFrame:
    """Rows read per table -> ``Table, [File,] Read (n), Accepted (n), Quarantined (n)``.

    Parameters
    ----------
    counts : LoadReport or pandas.DataFrame
        ``LoadReport`` or its ``counts`` (internal: with the file path), or
        ``ReportContext.frame("load_counts")`` (shareable: no file column, counts published).
    """
    c = getattr(counts, "counts", counts).reset_index(drop=True)
    out = {"Table": c["table"].astype(str).to_list()}
    if "file" in c:
        files = c["file"].astype("object").fillna("").astype(str)
        out["File"] = [f or "(absent)" for f in files]
    out |= {"Read (n)": _count(c["read"]), "Accepted (n)": _count(c["accepted"]),
            "Quarantined (n)": _count(c["quarantined"])}
    return pd.DataFrame(out)


def quarantine_table(load_report, *, limit: int | None = 200) -> pd.DataFrame:
    """Internal report only: each quarantined cell (table, spreadsheet row, column, value,
    rule broken and the fix), the first ``limit`` rows."""
    q = load_report.quarantine.reset_index(drop=True)
    if limit is not None:
        q = q.head(limit)
    return pd.DataFrame({"Table": q["table"].astype(str).to_list(),
                         "Row": _count(q["row"]), "Column": q["column"].astype(str).to_list(),
                         "Value": q["value"].astype("object").fillna("").astype(str).to_list(),
                         "Rule": q["rule"].astype(str).to_list()})


def quarantine_summary(quarantine) -> pd.DataFrame:
    """Quarantined cells counted by table, column and rule.

    Parameters
    ----------
    quarantine : LoadReport or pandas.DataFrame
        Internal: the ``LoadReport`` (or its ``quarantine`` frame: ``table, row, column, value,
        rule``), counted here by rule as written. Shareable: ``ReportContext.frame(
        "quarantine_summary")`` (``table, column, rule, n``: rules without the values they
        quote, counts published by the disclosure pass).

    Returns
    -------
    pandas.DataFrame
        ``Table, Column, Rule, Rows (n)``, most frequent first.
    """
    q = getattr(quarantine, "quarantine", quarantine)
    if "n" in q.columns and "row" not in q.columns:
        counts = q
    else:
        counts = (q.groupby(["table", "column", "rule"], sort=False).size()
                  .reset_index(name="n").sort_values("n", ascending=False, kind="stable"))
    return pd.DataFrame({"Table": counts["table"].astype(str).to_list(),
                         "Column": counts["column"].astype(str).to_list(),
                         "Rule": counts["rule"].astype(str).to_list(),
                         "Rows (n)": _count(counts["n"])})


def published_records(figures: pd.DataFrame, *, exclude=()) -> pd.DataFrame:
    """Other published rates worth showing beside the clinic's (for the forest plot).

    Parameters
    ----------
    figures : pandas.DataFrame
        :func:`outcomes.registry.published_figures`.
    exclude : iterable of str
        Record ids already shown (the response frame's ``benchmark_id``).

    Returns
    -------
    pandas.DataFrame
        ``id, label, outcome, k, n, population, protocol, comparability``: treatment arms of
        the photographic and density families with counts, ``outcome`` = the measure.
    """
    f = figures[figures["outcome"].isin(["photographic", "density"])
                & (figures["arm"] == "treatment") & figures["k"].notna()
                & figures["n"].notna() & ~figures["id"].isin(list(exclude))
                & figures["measure"].isin(["improved", "dramatic"])]
    return pd.DataFrame({"id": f["id"].astype(str), "label": (f["study"].astype(str) + " "
                         + f["year"].astype(str) + ", " + f["outcome"].astype(str)),
                         "outcome": f["measure"].astype(str), "k": f["k"].astype(int),
                         "n": f["n"].astype(int), "population": f["population"].astype(str),
                         "protocol": f["protocol"].astype(str),
                         "comparability": f["comparability"].astype(str)}).reset_index(drop=True)


def published_table(records: pd.DataFrame) -> pd.DataFrame:
    """:func:`published_records` for reading: ``Study, Outcome, Published rate, Population,
    Protocol, Comparability``."""
    r = records.reset_index(drop=True)
    rate = [f"{fmt_pct(k / n)} ({k}/{n})" for k, n in zip(r["k"].astype(int), r["n"].astype(int))]
    return pd.DataFrame({"Study": r["label"].to_list(), "Outcome": [_word(o) for o in r["outcome"]],
                         "Published rate": rate, "Population": r["population"].to_list(),
                         "Protocol": r["protocol"].to_list(),
                         "Comparability": r["comparability"].to_list()})


def benchmark_labels(figures: pd.DataFrame) -> dict[str, str]:
    """Registry id -> ``"Study et al. year"`` (for :func:`outcomes.figures.forest_plot`)."""
    return dict(zip(figures["id"].astype(str),
                    figures["study"].astype(str) + " " + figures["year"].astype(str)))


def sentinel_table(sentinel_cases: pd.DataFrame) -> pd.DataFrame:
    """Internal report only: each sentinel event for review (pseudonym and dates)."""
    s = sentinel_cases.reset_index(drop=True)
    onset = pd.to_datetime(s["onset_date"]).dt.strftime("%Y-%m-%d").fillna("-")
    return pd.DataFrame({
        "Event": s["event_id"].astype(str).to_list(),
        "Patient": s["patient_id"].astype(str).to_list(),
        "Term": [_word(t) for t in s["term"]], "Onset": onset.to_list(),
        "Session number": s["session_number"].astype("object").fillna("-").astype(str).to_list(),
        "Severity": s["severity"].astype("object").fillna("-").astype(str).to_list(),
        "Serious": s["serious"].astype("object").map({True: "yes", False: "no"})
        .fillna("-").to_list(),
        "Why listed": s["reason"].astype(str).to_list()})


def screening_cases_table(screening_cases: pd.DataFrame) -> pd.DataFrame:
    """Internal report only: each session given despite a screening deviation."""
    s = screening_cases.reset_index(drop=True)
    return pd.DataFrame({
        "Session": s["session_id"].astype(str).to_list(),
        "Patient": s["patient_id"].astype(str).to_list(),
        "Date": pd.to_datetime(s["session_date"]).dt.strftime("%Y-%m-%d").fillna("-").to_list(),
        "Deviation": [_word(d) for d in s["deviation"]]})


def provenance_table(analysis, *, run_time, shareable: bool) -> pd.DataFrame:
    """What produced the report: package version, cut-off, run time, definitions and the
    SHA-256 of each input file (``LoadReport.files``).

    Returns
    -------
    pandas.DataFrame
        ``Item, Value``.
    """
    from outcomes import __version__

    rows = [("outcomes version", __version__),
            ("Data cut-off", str(analysis.cutoff)),
            ("Report produced", pd.Timestamp(run_time).strftime("%Y-%m-%d %H:%M UTC")),
            ("Audience", "shareable (small counts suppressed)" if shareable
             else "internal: holds patient pseudonyms, do not share")]
    if shareable:
        from outcomes.disclosure import policy_text

        rows.append(("Disclosure control", policy_text(int(analysis.definitions.to_dict()
                                                           .get("min_cell", 5)))))
    files = analysis.load_report.files
    for table, path, sha, size in zip(files["table"], files["path"], files["sha256"],
                                      files["bytes"]):
        if shareable:   # the file's name may name the clinic or a person: not shown
            rows.append((f"Input {table}", f"{int(size):,} bytes, SHA-256 {sha}"))
        else:
            rows.append((f"Input {table}", f"{path}, {int(size):,} bytes, SHA-256 {sha}"))
    defs = analysis.definitions.to_dict()
    rows.extend((f"Definition: {k}", str(v)) for k, v in defs.items())
    return pd.DataFrame(rows, columns=["Item", "Value"])


#: Styling of the tables and the banner in the HTML report.
REPORT_CSS = """
<style>
.outcomes-table {border-collapse: collapse; font-size: 13px; margin: 0.4em 0 1.2em 0;}
.outcomes-table th {background: #eef3f8; text-align: left; padding: 4px 8px;
  border-bottom: 2px solid #0072B2;}
.outcomes-table td {padding: 3px 8px; border-bottom: 1px solid #e3e3e3;
  text-align: left !important; max-width: 34em;}
.outcomes-table th {text-align: left !important;}
.outcomes-banner {padding: 10px 14px; margin: 0 0 12px 0; border-radius: 4px;
  font-weight: 600; font-size: 14px;}
.outcomes-banner.shareable {background: #e6f4ee; border-left: 6px solid #009E73;}
.outcomes-banner.internal {background: #fdf0e6; border-left: 6px solid #D55E00;}
.outcomes-headline {font-size: 16px; line-height: 1.5;}
</style>
"""


def to_html(df: pd.DataFrame, note: str | None = None) -> str:
    """A presentation table as HTML (escaped, no index), styled by :data:`REPORT_CSS`.

    The table sits in a box that scrolls sideways on a narrow screen, followed by its one-line
    reading aid: ``note``, or else the table's ``attrs["note"]`` set by the builders here.
    """
    note = df.attrs.get("note") if note is None else note
    table = df.to_html(index=False, escape=True, border=0, classes="outcomes-table",
                       na_rep="-")
    aid = f'<p class="outcomes-note">{html.escape(note)}</p>' if note else ""
    return f'<div class="outcomes-scroll">{table}</div>{aid}'


def banner_html(shareable: bool, min_cell: int = 5) -> str:
    """The banner at the top of every report page, saying who may read it."""
    if shareable:
        from outcomes.disclosure import POLICY, ROUNDING_BASE

        text = (f"Shareable version (disclosure control {POLICY}): no patient pseudonym, date "
                f"or row appears; counts from 1 to {min_cell - 1} are shown as "
                f"&lt;{min_cell}, every other count is rounded to the nearest "
                f"{ROUNDING_BASE}, and rates are computed from the rounded counts; "
                "practitioners appear as codes.")
        return f'{REPORT_CSS}<div class="outcomes-banner shareable">{text}</div>'
    text = ("Internal report: it lists patient pseudonyms and dates for review. Do not share "
            "it outside the clinic; use <code>outcomes report --shareable</code> for that.")
    return f'{REPORT_CSS}<div class="outcomes-banner internal">{text}</div>'


def sentences_html(sentences) -> str:
    """Sentences as an HTML list (escaped)."""
    items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
    return f'<ul class="outcomes-headline">{items}</ul>'


def _pct_round(values) -> list:
    return (100 * pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce")).round(1) \
        .tolist()


def meta_summary_table(meta_summary: pd.DataFrame) -> pd.DataFrame:
    """The pooled report's random-effects summary of each rate across clinics."""
    from outcomes.figures import pretty

    m = meta_summary
    out = pd.DataFrame({
        "Measure": m["family"].map(pretty), "Group": m["group"].map(pretty),
        "Outcome": m["outcome"].map(pretty), "Method": m["method"],
        "Clinics": _count(m["k_studies"]), "Pooled rate (%)": _pct_round(m["estimate"]),
        "CI low (%)": _pct_round(m["ci_low"]), "CI high (%)": _pct_round(m["ci_high"]),
        "tau²": pd.to_numeric(m["tau2"], errors="coerce").round(3).tolist(),
        "I² (%)": _pct_round(m["i2"]),
        "Q": pd.to_numeric(m["q"], errors="coerce").round(3).tolist(),
        "p (Q)": pd.to_numeric(m["q_p_value"], errors="coerce").round(4).tolist(),
        "Note": m["note"].tolist()})
    out.attrs["note"] = ("Read across: the rate pooled over clinics with its interval; I² near "
                         "0% means the clinics differ no more than chance would make them.")
    return out


def meta_studies_table(meta_studies: pd.DataFrame, *, family: str = "photographic",
                       group: str = "comparable", outcome: str = "improved") -> pd.DataFrame:
    """Each clinic's rate and its weight in the pooled estimate, for one outcome."""
    st = meta_studies
    sel = st[(st["family"] == family) & (st["group"] == group) & (st["outcome"] == outcome)]
    out = pd.DataFrame({"Clinic": sel["label"].tolist(), "Improved (k)": _count(sel["k"]),
                        "Assessed (n)": _count(sel["n"]), "Rate (%)": _pct_round(sel["rate"]),
                        "CI low (%)": _pct_round(sel["ci_low"]),
                        "CI high (%)": _pct_round(sel["ci_high"]),
                        "Weight DL (%)": _pct_round(sel["weight_dl"]),
                        "Weight PM (%)": _pct_round(sel["weight_pm"])})
    out.attrs["note"] = ("Read across: each clinic's patients improved of those assessed, and "
                         "its share of the pooled estimate under each method.")
    return out


def published_studies_table(studies: pd.DataFrame) -> pd.DataFrame:
    """The pooled clinics beside each published study with counts (one outcome)."""
    g = studies
    out = pd.DataFrame({"Study": g["label"].tolist(), "k": _count(g["k"]), "n": _count(g["n"]),
                        "Rate (%)": _pct_round(g["rate"]),
                        "CI low (%)": _pct_round(g["ci_low"]),
                        "CI high (%)": _pct_round(g["ci_high"]),
                        "Counts": g["derived"].map({True: "derived", False: ""}).tolist(),
                        "Weight DL (%)": _pct_round(g["weight_dl"])})
    out.attrs["note"] = ("Read across: k of n patients improved in each study; 'derived' "
                         "counts were computed from a quoted percentage.")
    return out
