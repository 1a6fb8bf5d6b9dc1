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

from outcomes.labels import FIGURE, TABLE, label
from outcomes.text import fmt_ci, fmt_pct, fmt_points

__all__ = ["table_one", "flow_table", "response_table", "adverse_event_table", "ae_followup_table",
           "ae_duration_table", "protocol_table", "screening_table", "strata_table",
           "density_change_table", "sensitivity_table", "photographic_sensitivity_table",
           "practitioner_table", "ci_label", "model_table", "load_counts_table",
           "quarantine_table", "quarantine_summary", "published_records", "published_table",
           "benchmark_labels", "sentinel_table", "screening_cases_table", "provenance_table",
           "to_html", "banner_html",
           "sentences_html", "REPORT_CSS", "GPA", "meta_summary_table", "meta_studies_table",
           "published_studies_table"]

#: what GPA stands for, said wherever a table shows photographic results
GPA = ("Photographs: the global photographic assessment (GPA), a rater's score of the change "
       "from -3 (much worse) to +3 (much better)")


def _word(code) -> str:
    """A table's label for a code (:data:`outcomes.labels.TABLE`)."""
    return label(code, TABLE)


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


def _signed(v: float) -> str:
    """``-29.8`` -> ``−29.8`` (a true minus sign, never read as a dash)."""
    return f"{v:.1f}".replace("-", "\u2212")


def _diff_points(diff, low, high) -> list[str]:
    """Differences in percentage points: ``−29.8 (−39.5 to −18.0 points)``."""
    d, lo, hi = (100 * pd.to_numeric(pd.Series(v, dtype="object"), errors="coerce")
                 .to_numpy(float) for v in (diff, low, high))
    return ["-" if np.isnan(x) else (f"{_signed(x)} points" if np.isnan(a) or np.isnan(b)
                                     else f"{_signed(x)} ({_signed(a)} to {_signed(b)} points)")
            for x, a, b in zip(d, lo, hi)]


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
    out = out.rename(columns={"Value": "Patients, n (%)"})
    out.attrs["note"] = ("Read down: who was treated. n (%) of treated patients; mean (SD, the "
                         "spread); median [IQR: the middle half of patients lies in this range].")
    return out


def flow_table(flow: pd.DataFrame) -> pd.DataFrame:
    """``Analysis.flow`` -> ``Step, Patients (n), Note``."""
    out = pd.DataFrame({"Step": [_word(s) for s in flow["step"]],
                        "Patients (n)": _count(flow["n"]),
                        "Who is counted": _col(flow, "note").fillna("").astype(str).to_list()})
    out.attrs["note"] = ("Read down: from every patient in the export to those assessed at 12 "
                         "months; patients due but not assessed are the loss to follow-up.")
    return out


def ci_label(confidence: float = 0.95) -> str:
    """The interval's header from the confidence setting: ``0.9 -> "90% CI"``."""
    return f"{100 * float(confidence):g}% CI"


def _points(values) -> list[str]:
    """Signed percentage points: ``-0.139 -> "−13.9"``, ``0.109 -> "+10.9"``; missing: "-"."""
    v = pd.to_numeric(pd.Series(values, dtype="object"), errors="coerce").to_numpy(float)
    return ["-" if np.isnan(x) else f"{100 * x:+.1f}".replace("-", "\u2212") for x in v]


def response_table(response: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """``Analysis.response`` -> one row per family, group and outcome, with the published
    figure, Fisher's test and the Newcombe difference against the study's counts (what the
    verdict rests on), the differences detectable with 80% power, and the exact test against
    the published rate taken as a fixed figure (shown for reference). A pooled response adds
    the random-effects rate across clinics (``re_*`` columns)."""
    ci = ci_label(confidence)
    r = response.reset_index(drop=True)
    bk, bn = _count(_col(r, "benchmark_k")), _count(_col(r, "benchmark_n"))
    bench = [("-" if p == "-" else p + (f" ({k}/{n})" if k != "-" else ""))
             for p, k, n in zip(_pcts(_col(r, "benchmark_rate")), bk, bn)]
    diff = _diff_points(_col(r, "diff"), _col(r, "diff_ci_low"), _col(r, "diff_ci_high"))
    below, above = _points(_col(r, "mdd_below")), _points(_col(r, "mdd_above"))
    out = pd.DataFrame({
        "Measure": [_word(f) for f in r["family"]], "Group": [_word(g) for g in r["group"]],
        "Outcome": [_word(o) for o in r["outcome"]], "With the outcome (n)": _count(r["k"]),
        "Assessed (n)": _count(r["n"]), "Rate": _pcts(r["rate"]),
        ci: _cis(r["ci_low"], r["ci_high"]), "Published": bench,
        f"Your rate minus the study's ({ci})": diff,
        "p, vs the study's patients": _p(_col(r, "fisher_p_value")),
        "Smallest difference detectable (80% power), points": [
            "-" if b == "-" and a == "-" else f"{b} / {a}" for b, a in zip(below, above)],
        "p, vs the published % taken as fixed": _p(_col(r, "p_value"))})
    if "re_estimate" in r:
        out.insert(7, f"Random effects across clinics ({ci})", [
            "-" if e == "-" else f"{e} ({c})" for e, c in
            zip(_pcts(r["re_estimate"]), _cis(r["re_ci_low"], r["re_ci_high"]))])
    out.attrs["note"] = (f"Read across: n of the assessed patients had the outcome. {GPA}; "
                         "improved and marked improvement as set in the definitions "
                         "(Provenance). Worst case: every patient due but not assessed counted "
                         "as not improved (a bound, not compared). The comparison with the "
                         "study's patients (the difference and Fisher's test) decides; p below "
                         f"{1 - confidence:.2g}: a difference chance alone would rarely give. "
                         "The smallest difference detectable is how far below / above the "
                         "study's rate this comparison would notice 4 times in 5. The exact test "
                         "against the published % taken as fixed ignores that the % is itself "
                         "an estimate, and is shown for reference only.")
    return out


def adverse_event_table(adverse_events: pd.DataFrame, *,
                        confidence: float = 0.95) -> pd.DataFrame:
    """``Analysis.adverse_events`` -> patient incidence, session rate and published rate."""
    a = adverse_events.reset_index(drop=True)
    out = pd.DataFrame({
        "Event": [_word(t) for t in a["term"]], "Patients with it (n)": _count(a["k"]),
        "Treated (n)": _count(a["n"]), "Patients affected": _pcts(a["rate"]),
        ci_label(confidence): _cis(a["ci_low"], a["ci_high"]),
        "Events (n)": _count(_col(a, "events")),
        "Sessions (n)": _count(_col(a, "sessions")),
        "Events per 100 sessions": [("-" if v == "-" else v[:-1])
                                    for v in _pcts(_col(a, "session_rate"))],
        "Published": _pcts(_col(a, "benchmark_rate"))})
    note_left = ""
    if "compared_n" in a and len(a):
        days = int(a["min_followup_days"].iloc[0])
        ck, cn = _col(a, "compared_k"), _col(a, "compared_n")
        nk, nn = (pd.to_numeric(v.astype("object"), errors="coerce") for v in (ck, cn))
        has = ~a["benchmark_rate"].isna().to_numpy() if "benchmark_rate" in a else nn.isna()
        rate = np.where(has & (nn > 0), nk / nn.where(nn > 0, 1), np.nan)
        out.insert(len(out.columns) - 1, f"Followed {days}+ days: affected (n)",
                   ["-" if not h else f"{p_} ({k_} of {n_})" for h, p_, k_, n_ in
                    zip(has, _pcts(pd.Series(rate)), _count(ck), _count(cn))])
        out[f"Difference, points ({ci_label(confidence)})"] = [
            "-" if pd.isna(d) or isinstance(d, str) else
            f"{fmt_points(d)} ({fmt_points(lo)} to {fmt_points(hi)})"
            for d, lo, hi in zip(_col(a, "diff"), _col(a, "diff_ci_low"),
                                 _col(a, "diff_ci_high"))]
        out["p, Fisher vs the study's counts"] = _p(_col(a, "fisher_p_value"))
        r0 = a.iloc[0]
        left = [r0.get("excluded_recent"), r0.get("excluded_stopped"), r0.get("excluded")]
        total = "" if left[2] is None else f"{_count([left[2]])[0]} "
        note_left = (f" The comparison with the published figure (difference, Fisher) uses the "
                     f"patients followed at least {days} days, as the study did; {total}treated "
                     f"patients followed less than {days} days are not in it: {_count(left)[0]} "
                     f"started recently, {_count(left)[1]} stopped attending. The all-treated "
                     f"columns say how many of your patients have had it so far.")
    out["p, vs the published % taken as fixed"] = _p(_col(a, "p_value"))
    out.attrs["note"] = ("Read across: patients with at least one such event, of all treated "
                         "so far; events counts every occurrence, so a patient "
                         "can add several. Serious events: those marked serious plus every event "
                         "of a term serious by nature (paradoxical alopecia, scarring, acute "
                         "dermatitis, sperm abnormality), so there can be more than are marked "
                         "serious." + note_left)
    return out


def ae_followup_table(followup: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """``Analysis.ae_followup`` -> incidence among the patients followed long enough, events
    per 100 sessions and the Kaplan-Meier cumulative incidence by the same day.

    ``confidence``: the interval level, for the headers (e.g. ``"95% CI"``).
    """
    f = followup.reset_index(drop=True)
    days = int(f["min_followup_days"].iloc[0]) if len(f) else 182
    ci = f"{100 * confidence:g}% CI"
    per100 = pd.to_numeric(_col(f, "per_100_sessions").astype("object"), errors="coerce")
    out = pd.DataFrame({
        "Event": [_word(t) for t in f["term"]], "Patients with it (n)": _count(f["k"]),
        f"Followed {days}+ days (n)": _count(f["n"]), "Incidence": _pcts(f["rate"]),
        ci: _cis(f["ci_low"], f["ci_high"]),
        "Events per 100 sessions": ["-" if np.isnan(v) else f"{v:.1f}" for v in per100],
        f"By day {days} (Kaplan-Meier)": _pcts(_col(f, "km_cum_incidence")),
        f"{ci} (KM)": _cis(_col(f, "km_ci_low"), _col(f, "km_ci_high")),
        f"At risk on day {days}": _count(_col(f, "km_at_risk"))})
    out.attrs["note"] = (f"Read across: patients with the event among those followed at least "
                         f"{days} days (as the study counted), events per 100 sessions given, "
                         f"and the share with a first event by day {days} counting every "
                         f"patient until their last contact (Kaplan-Meier).")
    return out


def ae_duration_table(ae_duration: pd.DataFrame,
                      adverse_events: pd.DataFrame | None = None) -> pd.DataFrame:
    """``Analysis.ae_duration`` -> ``Event, Events with a duration (n)[, All events (n)],
    Median days [IQR], Range``.

    Durations are summarised over the events with a duration recorded; given
    ``adverse_events`` (the safety table's frame), each term's count of all its events is
    shown beside, and the reading aid says how many events have no duration (why the two
    tables' event counts differ).
    """
    d = ae_duration.reset_index(drop=True)

    def num(col):
        return pd.to_numeric(_col(d, col).astype("object"), errors="coerce").to_numpy(float)

    med, q1, q3, lo, hi = (num(c) for c in ("median_days", "q1_days", "q3_days", "min_days",
                                            "max_days"))
    out = pd.DataFrame({
        "Event": [_word(t) for t in d["term"]],
        "Events with a duration (n)": _count(d["events"]),
        "Median days [IQR]": ["-" if np.isnan(m) else f"{m:g} [{a:g}-{b:g}]"
                              for m, a, b in zip(med, q1, q3)],
        "Range (days)": ["-" if np.isnan(a) else f"{a:g}-{b:g}" for a, b in zip(lo, hi)]})
    note = ("Read across: how many days each kind of event lasted, over the events whose "
            "duration was recorded (IQR: the middle half of events).")
    if adverse_events is not None:
        every = dict(zip(adverse_events["term"].astype(str), _count(adverse_events["events"])))
        out.insert(2, "All events (n)", [every.get(str(t), "-") for t in d["term"]])
        with_d = pd.to_numeric(d["events"].astype("object"), errors="coerce")
        all_n = pd.to_numeric(pd.Series([every.get(str(t)) for t in d["term"]],
                                        dtype="object"), errors="coerce")
        gaps = [f"{int(w)} of the {int(a)} {_word(t).lower()} events" for t, w, a in
                zip(d["term"], with_d, all_n) if pd.notna(w) and pd.notna(a) and w < a]
        if gaps:
            note += (" Not every event has its duration recorded, so these counts can be "
                     "below the adverse-event table's: a duration is recorded for "
                     + ", ".join(gaps) + ".")
    out.attrs["note"] = note
    return out


def _rate_table(df: pd.DataFrame, first: str, first_values,
                count: str = "Meeting it (n)", *, confidence: float = 0.95) -> pd.DataFrame:
    return pd.DataFrame({first: first_values, count: _count(df["k"]),
                         "Of (n)": _count(df["n"]), "Rate": _pcts(df["rate"]),
                         ci_label(confidence): _cis(df["ci_low"], df["ci_high"])})


def protocol_table(protocol: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """``Analysis.protocol`` -> ``Measure, Meeting it (k), Of (n), Rate, 95% CI`` (the
    interval's level from ``confidence``)."""
    p = protocol.reset_index(drop=True)
    out = _rate_table(p, "Measure", [_word(m) for m in p["measure"]], confidence=confidence)
    out.attrs["note"] = ("Read across: intervals between sessions (or patients, or sessions "
                         "per year) that kept to the protocol's schedule, of all counted.")
    return out


def screening_table(screening: pd.DataFrame) -> pd.DataFrame:
    """``Analysis.screening`` -> ``Deviation, Sessions (n), Patients (n)``."""
    s = screening.reset_index(drop=True)
    out = pd.DataFrame({"Deviation": [_word(d) for d in s["deviation"]],
                        "Sessions (n)": _count(s["sessions"]),
                        "Patients (n)": _count(s["patients"])})
    out.attrs["note"] = ("Read across: sessions given despite the screening finding, and the "
                         "patients who had them; the protocol's target for each is 0.")
    return out


def strata_table(strata: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """``Analysis.strata`` -> ``Measure, Outcome, By, Level, Improved (k), Of (n), Rate,
    95% CI`` and, when the frame has them, ``p (same rate in every level)`` and ``p (Holm)``
    (shown on the first row of each stratum)."""
    s = strata.reset_index(drop=True)
    out = _rate_table(s, "Measure", [_word(f) for f in s["family"]],
                      count="With the outcome (n)", confidence=confidence)
    out.insert(1, "Outcome", [_word(o) for o in s["outcome"]])
    out.insert(2, "By", [_word(x) for x in s["stratum"]])
    out.insert(3, "Level", s["level"].astype("object").fillna("Not recorded").astype(str)
               .to_list())
    note = ("Read across: the rate within each group of patients; small groups have wide "
            "intervals, so compare intervals, not rates alone.")
    if "p_value" in s:
        first = ~s[["family", "outcome", "stratum"]].astype(str).duplicated().to_numpy()
        for col, name in (("p_value", "p, same rate in every group"),
                          ("p_value_holm", "p (Holm)")):
            if col in s:
                out[name] = [v if f else "" for v, f in zip(_p(s[col]), first)]
        note += (" p, on the first row of each way of grouping: a test that the rate is the "
                 "same in every recorded group; p (Holm): the same adjusted for the several "
                 "groupings read together.")
    out.attrs["note"] = note
    return out


def practitioner_table(funnel: pd.DataFrame) -> pd.DataFrame:
    """``Analysis.funnel`` -> ``Practitioner, Improved (k), Assessed (n), Rate, Clinic rate,
    Funnel, p (vs clinic), p (Holm)``: each practitioner against the clinic (exact binomial
    test, and Holm-adjusted across the practitioners read together)."""
    f = funnel.reset_index(drop=True)
    out = pd.DataFrame({
        "Practitioner": f["practitioner_id"].astype(str).to_list(),
        "Improved (n)": _count(f["k"]), "Assessed (n)": _count(f["n"]),
        "Rate": _pcts(f["rate"]), "Clinic rate": _pcts(_col(f, "p0")),
        "Funnel plot": _col(f, "flag").astype("object").fillna("-").astype(str).to_list(),
        "p, vs the clinic": _p(_col(f, "p_value")), "p (Holm)": _p(_col(f, "p_value_holm"))})
    out.attrs["note"] = ("Read across: each practitioner's improved rate against the clinic's "
                         "(exact test); p (Holm) allows for reading all the practitioners "
                         "together, so a single low p is less likely to be chance.")
    return out


def density_change_table(density_change: pd.DataFrame, *,
                         confidence: float = 0.95) -> pd.DataFrame:
    """``Analysis.density_change`` -> ``Measure, Mean (95% CI), Patients (n)``."""
    d = density_change.reset_index(drop=True)
    mean, lo, hi = (pd.to_numeric(d[c].astype("object"), errors="coerce").to_numpy(float)
                    for c in ("mean", "ci_low", "ci_high"))
    rel = (d["measure"] == "relative").to_numpy()
    scale = np.where(rel, 100.0, 1.0)
    text = ["-" if np.isnan(m) else f"{m * s:+.1f} ({a * s:+.1f} to {b * s:+.1f})"
            for m, a, b, s in zip(mean, lo, hi, scale)]
    out = pd.DataFrame({"Measure": [_word(m) for m in d["measure"]],
                        f"Mean change ({ci_label(confidence)})": text,
                        "Patients (n)": _count(d["n"])})
    out.attrs["note"] = ("Read across: the average change in hair density from the start to "
                         "12 months; above 0 means more hair.")
    return out


def sensitivity_table(density_sensitivity: pd.DataFrame, *,
                      confidence: float = 0.95) -> pd.DataFrame:
    """``Analysis.density_sensitivity`` -> improved rate at each density threshold."""
    s = density_sensitivity.reset_index(drop=True)
    out = _rate_table(s, "Improved if density rose by at least",
                      [f"{100 * t:+.0f}%" for t in s["threshold"].astype(float)],
                      count="Improved (n)", confidence=confidence)
    out.attrs["note"] = ("Read down: how the improved rate changes with the density rise "
                         "counted as improvement; the report's rate uses the definition's "
                         "threshold (Provenance).")
    return out


def photographic_sensitivity_table(photographic_sensitivity: pd.DataFrame, *,
                                   confidence: float = 0.95) -> pd.DataFrame:
    """``Analysis.photographic_sensitivity`` -> the rate at each GPA threshold (+1, +2, +3)."""
    s = photographic_sensitivity.reset_index(drop=True)
    out = _rate_table(s, "Photographs scored at least", [f"{int(t):+d}" for t in
                                                         pd.to_numeric(s["threshold"])],
                      count="Patients (n)", confidence=confidence)
    out.attrs["note"] = ("Read down: how the photographic rate changes with the score counted "
                         "(+1 is improved and +2 marked improvement by default), among all "
                         "patients with photographs scored at 12 months.")
    return out


def model_table(model: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """``Analysis.model`` -> ``Term, Estimate (95% CI), p``."""
    m = model.reset_index(drop=True)
    est = [f"{c:.3g} ({a:.3g} to {b:.3g})" for c, a, b in
           zip(m["coef"].astype(float), m["ci_low"].astype(float), m["ci_high"].astype(float))]
    out = pd.DataFrame({"Term": m["term"].astype(str).to_list(),
                        f"Estimate ({ci_label(confidence)})": est,
                        "p": _p(m["p_value"])})
    out.attrs["note"] = ("Read down: each term's effect on hair density (hairs/cm²) in the "
                         "mixed model, other terms held equal.")
    return out


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
    table = pd.DataFrame(out)
    table.attrs["note"] = ("Read across: rows read from each file = rows accepted + rows set "
                           "aside (quarantined); only accepted rows are analysed.")
    return table


def quarantine_table(load_report, *, limit: int | None = 200) -> pd.DataFrame:
    """Internal report only: each quarantined cell (table, spreadsheet row, column, value,
    rule broken and the fix), the first ``limit`` rows."""
    q = load_report.quarantine.reset_index(drop=True)
    if limit is not None:
        q = q.head(limit)
    out = pd.DataFrame({"Table": q["table"].astype(str).to_list(),
                        "Row": _count(q["row"]), "Column": q["column"].astype(str).to_list(),
                        "Value": q["value"].astype("object").fillna("").astype(str).to_list(),
                        "Rule": q["rule"].astype(str).to_list()})
    out.attrs["note"] = ("Read across: the spreadsheet row (header = row 1), the cell's value "
                         "and the rule it broke; correct it in the clinic's system.")
    return out


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
    out = pd.DataFrame({"Table": counts["table"].astype(str).to_list(),
                        "Column": counts["column"].astype(str).to_list(),
                        "Rule": counts["rule"].astype(str).to_list(),
                        "Rows (n)": _count(counts["n"])})
    out.attrs["note"] = "Read across: how many rows broke each rule, most frequent first."
    return out


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
    out = pd.DataFrame({"Study": r["label"].to_list(),
                        "Outcome": [_word(o) for o in r["outcome"]],
                        "Published rate": rate, "Population": r["population"].to_list(),
                        "Protocol": r["protocol"].to_list(),
                        "Comparability": r["comparability"].to_list()})
    out.attrs["note"] = ("Read across: each study's rate (patients improved of those assessed) "
                         "and how far its patients and protocol resemble yours.")
    return out


def benchmark_labels(figures: pd.DataFrame) -> dict[str, str]:
    """Registry id -> ``"Study et al. year"`` (for :func:`outcomes.figures.forest_plot`)."""
    return dict(zip(figures["id"].astype(str),
                    figures["study"].astype(str) + " " + figures["year"].astype(str)))


def sentinel_table(sentinel_cases: pd.DataFrame) -> pd.DataFrame:
    """Internal report only: each sentinel event for review (pseudonym and dates)."""
    s = sentinel_cases.reset_index(drop=True)
    onset = pd.to_datetime(s["onset_date"]).dt.strftime("%Y-%m-%d").fillna("-")
    out = pd.DataFrame({
        "Event": s["event_id"].astype(str).to_list(),
        "Patient": s["patient_id"].astype(str).to_list(),
        "Term": [_word(t) for t in s["term"]], "Onset": onset.to_list(),
        "Session number": s["session_number"].astype("object").fillna("-").astype(str).to_list(),
        "Severity": s["severity"].astype("object").fillna("-").astype(str).to_list(),
        "Serious": s["serious"].astype("object").map({True: "yes", False: "no"})
        .fillna("-").to_list(),
        "Why listed": s["reason"].astype(str).to_list()})
    out.attrs["note"] = ("Read across: one event to review, why it is listed; 'serious by "
                         "nature' events count as serious even when not marked serious.")
    return out


def screening_cases_table(screening_cases: pd.DataFrame) -> pd.DataFrame:
    """Internal report only: each session given despite a screening deviation."""
    s = screening_cases.reset_index(drop=True)
    out = pd.DataFrame({
        "Session": s["session_id"].astype(str).to_list(),
        "Patient": s["patient_id"].astype(str).to_list(),
        "Date": pd.to_datetime(s["session_date"]).dt.strftime("%Y-%m-%d").fillna("-").to_list(),
        "Deviation": [_word(d) for d in s["deviation"]]})
    out.attrs["note"] = "Read across: one session to review, its patient, date and finding."
    return out


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
    out = pd.DataFrame(rows, columns=["Item", "Value"])
    out.attrs["note"] = ("Read down: what produced this page; two reports are comparable only "
                         "when their definitions match.")
    return out


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
                f"&lt;{min_cell}, every other count is rounded to a multiple of "
                f"{ROUNDING_BASE} (up or down), and rates are computed from the rounded counts; "
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
    def pretty(code) -> str:  # a figure's words, as the pooled page's other headings
        return label(code, FIGURE)

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
    out = pd.DataFrame({"Clinic": sel["label"].tolist(), "Improved (n)": _count(sel["k"]),
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
    out = pd.DataFrame({"Study": g["label"].tolist(), "Improved (n)": _count(g["k"]),
                        "Assessed (n)": _count(g["n"]),
                        "Rate (%)": _pct_round(g["rate"]),
                        "CI low (%)": _pct_round(g["ci_low"]),
                        "CI high (%)": _pct_round(g["ci_high"]),
                        "Counts": g["derived"].map({True: "derived", False: ""}).tolist(),
                        "Weight DL (%)": _pct_round(g["weight_dl"])})
    out.attrs["note"] = ("Read across: patients improved of those assessed in each study; "
                         "'derived' counts were computed from a quoted percentage.")
    return out
