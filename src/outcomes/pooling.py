"""Pool several clinics' results files without moving a patient row.

Each clinic runs ``outcomes analyze --json`` on its own machine and sends only that aggregate
file. :func:`pool_results` checks the files (:func:`read_results`), refuses any that holds
patient-level content, a small-count cell that was suppressed, another format version, or
outcome definitions that differ from the others, then sums the counts per family, group,
outcome, adverse-event term, stratum (and every other count table), recomputes the rates,
intervals and benchmark tests from the pooled counts (:mod:`outcomes.stats`), and adds a
random-effects meta-analysis across the clinics (:mod:`outcomes.meta`). The pooled dict has the
shape of ``analyze``'s results JSON with ``kind = "pooled"`` and a ``clinics`` list.

Decisions
---------
- A suppressed cell (``"<5"``) cannot be summed exactly: the file is refused, and the clinic is
  asked for its ``outcomes analyze --json`` file (aggregate only, not suppressed) instead of
  the shareable report file.
- A pooled file is not pooled again (a clinic could be counted twice): pool the clinics' own
  files. The same file twice (same SHA-256) is refused for the same reason.
- Clinics may have different cut-offs (each is listed in ``clinics``); the pooled ``cutoff``
  is the latest. Their outcome definitions must match exactly, except the density model's
  settings (the model is not pooled) and ``min_cell`` (the pool suppresses with the largest).
- Practitioner pseudonyms are per clinic: the ``practitioner`` stratum's levels and the
  ``funnel``'s ``practitioner_id`` become ``"<clinic>:<pseudonym>"``; the practitioner funnel
  is drawn against the pooled rate.
- What cannot be summed exactly is not invented: ``ae_duration`` keeps events, min and max and
  sets medians and quartiles to ``None``; ``density_change`` means and t intervals are pooled
  exactly from each clinic's mean, n and interval; ``model`` is empty (``model_note`` says
  why). The clinics' own funnel (clinics against the pooled and the published rate) is in
  ``meta``.
- ``pool_results`` returns exact counts (``shareable`` False); the ``outcomes pool`` command
  writes the JSON and the HTML report shareable (counts 1-4 shown as ``"<5"``).
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from outcomes import __version__, meta, stats, strata
from outcomes.errors import ResultsFileError
from outcomes.pool_report import (POOLED_NOTEBOOK, cli_pool, pooled_frames,
                                  render_pooled_report, write_pooled)
from outcomes.results_file import (_COHORT_KEYS, FORMAT_VERSION, TABLES, _is_count, _sha256,
                                   check_definitions, json_records, read_results)

__all__ = ["pool", "FORMAT_VERSION", "TABLES", "POOLED_NOTEBOOK", "read_results", "pool_results",
           "pooled_frames", "write_pooled", "render_pooled_report", "cli_pool"]


def _labels(items: list) -> list[str]:
    labels = [Path(x).stem if not isinstance(x, Mapping) else f"clinic {i + 1}"
              for i, x in enumerate(items)]
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
        out.append(lab if labels.count(lab) == 1 else f"{lab} ({seen[lab]})")
    return out


def _frame(files: Sequence[tuple[str, Mapping]], table: str) -> pd.DataFrame:
    parts = [pd.DataFrame.from_records(list(d.get(table, []))).assign(clinic=label)
             for label, d in files]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _same_or_none(values: pd.Series):
    """A label column kept when every clinic has the same value (a note, a benchmark id)."""
    return values.iloc[0] if values.nunique(dropna=False) == 1 else None


def _sum(df: pd.DataFrame, table: str) -> pd.DataFrame:
    keys, counts = TABLES[table]
    firsts = [c for c in df.columns if c not in (*keys, *counts, "clinic")]
    agg = {c: "sum" for c in counts} | {c: _same_or_none for c in firsts}
    return df.groupby(list(keys), sort=False, dropna=False).agg(agg).reset_index()


def _rates(df: pd.DataFrame, defs: Mapping) -> pd.DataFrame:
    p = stats.proportions(df["k"].to_numpy(np.int64), df["n"].to_numpy(np.int64),
                          level=float(defs.get("confidence", 0.95)),
                          method=str(defs.get("interval_method", "wilson")))
    return df.assign(rate=p["rate"].to_numpy(float), ci_low=p["ci_low"].to_numpy(float),
                     ci_high=p["ci_high"].to_numpy(float), **(
                         {"method": p["method"].to_numpy()} if "method" in df else {}))


def _benchmark_tests(df: pd.DataFrame, defs: Mapping, k="k", n="n") -> pd.DataFrame:
    """Exact binomial vs the quoted rate, Fisher and Newcombe vs the study's counts."""
    df = df.copy()
    rate = pd.to_numeric(df.get("benchmark_rate"), errors="coerce").to_numpy(float) \
        if "benchmark_rate" in df else np.full(len(df), np.nan)
    kk, nn = df[k].to_numpy(np.int64), df[n].to_numpy(np.int64)
    ok = np.isfinite(rate) & (nn > 0)
    pv = np.full(len(df), np.nan)
    if ok.any():
        pv[ok] = stats.binom_test(kk[ok], nn[ok], rate[ok])
    if "p_value" in df:
        df["p_value"] = pv
    if "benchmark_k" in df:
        bk = pd.to_numeric(df["benchmark_k"], errors="coerce").to_numpy(float)
        bn = pd.to_numeric(df["benchmark_n"], errors="coerce").to_numpy(float)
    elif "benchmark_id" in df and "fisher_p_value" in df:
        bk, bn = _registry_counts(df["benchmark_id"])
    else:
        return df
    ok2 = np.isfinite(bk) & np.isfinite(bn) & (bn > 0) & (nn > 0)
    fp, d, lo, hi = (np.full(len(df), np.nan) for _ in range(4))
    if ok2.any():
        fp[ok2] = stats.fisher_test(kk[ok2], nn[ok2], bk[ok2], bn[ok2])
        d[ok2], lo[ok2], hi[ok2] = stats.newcombe_difference(
            kk[ok2], nn[ok2], bk[ok2], bn[ok2], level=float(defs.get("confidence", 0.95)))
    below, above = (np.full(len(df), np.nan) for _ in range(2))
    if ok2.any():
        below[ok2], above[ok2] = stats.detectable_difference(
            nn[ok2], bn[ok2], bk[ok2] / bn[ok2], alpha=1 - float(defs.get("confidence", 0.95)),
            power=0.8)
    for col, values in (("fisher_p_value", fp), ("diff", d), ("diff_ci_low", lo),
                        ("diff_ci_high", hi), ("mdd_below", below), ("mdd_above", above)):
        if col in df:
            df[col] = values
    return df


def _registry_counts(ids: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    from outcomes import registry

    k, n = np.full(len(ids), np.nan), np.full(len(ids), np.nan)
    for i, bid in enumerate(ids.tolist()):  # a handful of benchmark ids, not patients
        if isinstance(bid, str) and bid:
            rec = registry.benchmark(bid)
            if rec.k is not None and rec.n is not None:
                k[i], n[i] = float(rec.k), float(rec.n)
    return k, n


def _pool_density_change(df: pd.DataFrame, defs: Mapping) -> pd.DataFrame:
    """Exact pooled mean and t interval from each clinic's mean, n and t interval."""
    from scipy import stats as sps

    level = float(defs.get("confidence", 0.95))
    rows = []
    for measure, g in df.groupby("measure", sort=False):  # two measures
        n = g["n"].to_numpy(float)
        m = pd.to_numeric(g["mean"], errors="coerce").to_numpy(float)
        hw = (pd.to_numeric(g["ci_high"], errors="coerce").to_numpy(float) - m)
        use = n > 0
        total = n[use].sum()
        if total == 0:
            rows.append({"measure": measure, "mean": np.nan, "ci_low": np.nan,
                         "ci_high": np.nan, "n": 0})
            continue
        mean = float((n[use] * m[use]).sum() / total)
        two = use & (n > 1)
        tcrit = sps.t.ppf((1 + level) / 2, np.where(two, n - 1, 1))
        sd = np.where(two, hw * np.sqrt(n) / tcrit, 0.0)
        ss = ((np.where(use, n - 1, 0) * sd ** 2).sum()
              + (n[use] * (m[use] - mean) ** 2).sum())
        if total > 1 and np.isfinite(ss):
            se = math.sqrt(ss / (total - 1) / total)
            t = float(sps.t.ppf((1 + level) / 2, total - 1))
            lo, hi = mean - t * se, mean + t * se
        else:
            lo = hi = np.nan
        rows.append({"measure": measure, "mean": mean, "ci_low": lo, "ci_high": hi,
                     "n": int(total)})
    return pd.DataFrame(rows, columns=["measure", "mean", "ci_low", "ci_high", "n"])


#: adverse_events count columns of the comparison among the followed patients
_FOLLOWED = ("compared_k", "compared_n", "excluded", "excluded_recent", "excluded_stopped")


def _pool_adverse_events(files, defs) -> pd.DataFrame:
    """Sum per term; a clinic without a row for a term adds its treated and sessions with 0."""
    df = _frame(files, "adverse_events")
    if not len(df):
        return df
    # the followed counts the comparison with the study rests on (issue 11 item 6): summed
    # when every clinic's file has them, else dropped (the comparison then uses k/n)
    followed = [c for c in _FOLLOWED if c in df]
    with_followed = len(followed) == len(_FOLLOWED) and not df[followed].isna().any().any()
    df = df.drop(columns=[c for c in followed + ["min_followup_days"] if c in df]
                 if not with_followed else [])
    per_clinic = ["n", "sessions"] + (list(_FOLLOWED[1:]) if with_followed else [])
    base = df.groupby("clinic", sort=False)[per_clinic].max()
    terms = df.drop_duplicates("term")["term"]
    full = pd.MultiIndex.from_product([base.index, terms], names=["clinic", "term"])
    df = df.set_index(["clinic", "term"]).reindex(full).reset_index()
    fill = base.reindex(df["clinic"]).to_numpy()
    df["n"] = df["n"].fillna(pd.Series(fill[:, 0], index=df.index))
    df["sessions"] = df["sessions"].fillna(pd.Series(fill[:, 1], index=df.index))
    for i, col in enumerate(per_clinic[2:], start=2):
        df[col] = df[col].fillna(pd.Series(fill[:, i], index=df.index))
    zero = ["k", "events"] + (["compared_k"] if with_followed else [])
    df[zero] = df[zero].fillna(0)
    for col in ("k", "n", "events", "sessions") + (_FOLLOWED if with_followed else ()):
        df[col] = df[col].astype(np.int64)
    summed = _sum(df.drop(columns=list(_FOLLOWED) if with_followed else []), "adverse_events")
    if with_followed:
        summed = summed.merge(df.groupby("term", sort=False)[list(_FOLLOWED)].sum()
                              .reset_index(), on="term", how="left")
    out = _rates(summed, defs)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["session_rate"] = np.where(out["sessions"] > 0, out["events"] /
                                       out["sessions"].where(out["sessions"] > 0, 1), np.nan)
    if with_followed:
        return _benchmark_tests(out, defs, k="compared_k", n="compared_n")
    return _benchmark_tests(out, defs)


def _meta_section(files, defs) -> dict:
    """Random-effects meta-analysis and funnel of the clinics, per response row."""
    level = float(defs.get("confidence", 0.95))
    levels = tuple(defs.get("funnel_levels", (0.95, 0.998)))
    df = _frame(files, "response")
    summaries, studies, funnels = [], [], []
    for (family, group, outcome), g in df.groupby(["family", "group", "outcome"], sort=False):
        key = {"family": family, "group": group, "outcome": outcome}
        res = meta.meta_proportion(g["k"], g["n"], g["clinic"].tolist(), level=level,
                                   interval_method=str(defs.get("interval_method", "wilson")))
        summaries.append(res.summary.assign(**key))
        studies.append(res.studies.assign(**key))
        total_n = int(g["n"].sum())
        refs = [("pooled", g["k"].sum() / total_n if total_n else np.nan)]
        bench = pd.to_numeric(g.get("benchmark_rate"), errors="coerce") \
            if "benchmark_rate" in g else pd.Series([np.nan])
        if bench.notna().any():
            refs.append((str(g["benchmark_id"].dropna().iloc[0]), float(bench.dropna().iloc[0])))
        for ref, p0 in refs:
            if np.isfinite(p0):
                funnels.append(meta.funnel_data(g["k"], g["n"], g["clinic"].tolist(), p0,
                                                levels=levels).assign(reference=ref, **key))

    pub_summary, pub_studies = [], []
    pooled = df.groupby(["family", "group", "outcome"], sort=False)[["k", "n"]].sum()
    for family, outcome in (("photographic", "improved"), ("photographic", "dramatic")):
        for group in ("comparable", "all"):
            if (family, group, outcome) in pooled.index:
                k, n = pooled.loc[(family, group, outcome)]
                break
        else:
            continue
        key = {"family": family, "group": group, "outcome": outcome}
        res = meta.compare_with_studies(int(k), int(n), label="all clinics (pooled)",
                                        family=family, outcome=outcome, level=level)
        pub_summary.append(res.summary.assign(**key))
        pub_studies.append(res.studies.assign(**key))

    def records(parts):
        return json_records(pd.concat(parts, ignore_index=True)) if parts else []

    return {"summary": records(summaries), "studies": records(studies),
            "funnel": records(funnels), "published_summary": records(pub_summary),
            "published_studies": records(pub_studies)}


def pool(files: Iterable, *, out=None, labels: list[str] | None = None) -> dict:
    """Pool several clinics' pooling files into the shareable pooled results.

    What ``outcomes pool`` does, for a notebook or a script.

    Parameters
    ----------
    files : iterable of str or path
        At least two pooling files (``outcomes analyze --pooling-file``), one per clinic.
    out : str or path, optional
        Also write the pooled HTML report (forest and funnel plots) to this folder.
    labels : list of str, optional
        Clinic names (default: the file names without extension).

    Returns
    -------
    dict
        The pooled results under the disclosure-control policy (:func:`pool_results` with
        ``shareable=True``): what may be published.
    """
    pooled = pool_results(files, labels=labels, shareable=True)
    if out is not None:
        render_pooled_report(pooled, out)
    return pooled


def pool_results(paths_or_dicts: Iterable, *, labels: list[str] | None = None,
                 shareable: bool = False, coder=None) -> dict:
    """Pool several clinics' results into one results dict of ``kind = "pooled"``.

    Parameters
    ----------
    paths_or_dicts : iterable of str, Path or dict
        At least two results files (``outcomes analyze --json``) or parsed dicts.
    labels : list of str, optional
        Clinic names (default: the file names without extension, or "clinic 1", ...).
    shareable : bool
        Publish under the disclosure-control policy (:func:`_publish`): small counts hidden,
        others rounded to base 5, derived figures from published counts, counts a participant
        could reduce to a small one by subtracting its own file withheld, the meta-analysis
        from published per-clinic counts only.
    coder : optional
        Practitioner codes for the shareable output (default: keep the codes of the pooling
        files, code anything else with a random key).

    Returns
    -------
    dict
        The results shape (``format_version``, ``package_version``, ``kind``, ``cutoff``,
        ``definitions``, ``shareable``, ``cohort``, ``flow``, ``response``,
        ``density_sensitivity``, ``photographic_sensitivity``, ``density_change``,
        ``adverse_events``, ``ae_timing``, ``ae_duration``, ``protocol``, ``screening``,
        ``strata``, ``funnel``, ``quarterly``, ``model``, ``model_note``)
        with counts summed and rates, intervals and tests recomputed, plus ``clinics``
        (list of {``label``, ``sha256``, ``package_version``, ``cutoff``}) and ``meta``
        ({``summary``, ``studies``, ``funnel``}: see :mod:`outcomes.meta`, one block per
        family/group/outcome, funnels against the pooled and the benchmark rate; and
        ``published_summary``, ``published_studies``: the pooled clinics, as one study, with
        the published studies of the registry, for photographic improved and dramatic,
        comparable group).

    Raises
    ------
    ResultsFileError
        Any check of :func:`read_results`; fewer than two files; the same file twice;
        definitions that differ (names the key and both values).
    """
    items = list(paths_or_dicts)
    if len(items) < 2:
        raise ResultsFileError(f"pooling needs at least two results files, received "
                               f"{len(items)}.")
    labels = list(labels) if labels is not None else _labels(items)
    if len(labels) != len(items) or len(set(labels)) != len(labels):
        raise ResultsFileError(f"labels must be unique, one per file: {labels!r}.")
    files: list[tuple[str, dict]] = []
    clinics: list[dict] = []
    seen: dict[str, str] = {}
    for item, label in zip(items, labels, strict=True):
        source = label if isinstance(item, Mapping) else str(item)
        data = read_results(item, source=source)
        sha = _sha256(None if isinstance(item, Mapping) else Path(item), data)
        if sha in seen:
            raise ResultsFileError(f"{source} is the same file as {seen[sha]} (SHA-256 "
                                   f"{sha[:12]}...): a clinic would be counted twice.")
        seen[sha] = source
        files.append((label, data))
        clinics.append({"label": label, "sha256": sha,
                        "package_version": data["package_version"], "cutoff": data["cutoff"]})
    check_definitions([(source, d) for source, (_, d) in zip(seen.values(), files,
                                                               strict=True)])
    defs = dict(files[0][1]["definitions"])
    mins = [d["definitions"].get("min_cell") for _, d in files]
    if all(_is_count(m) for m in mins):
        defs["min_cell"] = max(mins)

    out: dict = {"format_version": FORMAT_VERSION, "package_version": __version__,
                 "kind": "pooled", "cutoff": max(c["cutoff"] for c in clinics),
                 "definitions": defs, "shareable": bool(shareable),
                 "cohort": {k: int(sum(d["cohort"][k] for _, d in files)) for k in _COHORT_KEYS}}
    tables: dict[str, pd.DataFrame] = {}
    for table in ("flow", "ae_timing", "screening"):
        df = _frame(files, table)
        tables[table] = _sum(df, table) if len(df) else df
    for table in ("response", "density_sensitivity", "photographic_sensitivity", "protocol"):
        df = _frame(files, table)
        tables[table] = _rates(_sum(df, table), defs) if len(df) else df
    if len(tables["response"]):
        tables["response"] = _benchmark_tests(tables["response"], defs)
    if len(tables["response"]) and not shareable:
        # the random-effects rate across clinics beside the summed counts (issue 11 item 4);
        # shareable output computes it from the published per-clinic counts instead (_publish)
        resp = _frame(files, "response")
        bk, bn = _registry_counts(resp["benchmark_id"]) if "benchmark_id" in resp else (None,
                                                                                        None)
        tables["response"] = tables["response"].merge(meta.random_effects_by(
            resp, ["family", "group", "outcome"], level=float(defs.get("confidence", 0.95)),
            benchmark_k=bk, benchmark_n=bn), on=["family", "group", "outcome"], how="left")
    tables["adverse_events"] = _pool_adverse_events(files, defs)
    df = _frame(files, "ae_followup")
    if len(df):  # counts summed; Kaplan-Meier needs patient times: not poolable, left empty
        out_f = _rates(_sum(df, "ae_followup"), defs)
        with np.errstate(divide="ignore", invalid="ignore"):
            out_f["per_100_sessions"] = np.where(
                out_f["sessions"] > 0, 100 * out_f["events"] / out_f["sessions"].clip(lower=1),
                np.nan)
        tables["ae_followup"] = out_f.assign(
            min_followup_days=int(defs.get("safety_min_followup_days", 182)),
            km_days=int(defs.get("safety_min_followup_days", 182)), km_at_risk=None,
            km_events=None, km_cum_incidence=None, km_ci_low=None, km_ci_high=None)
        from outcomes.safety import FOLLOWUP_COLUMNS

        tables["ae_followup"] = tables["ae_followup"][list(FOLLOWUP_COLUMNS)]
    else:
        tables["ae_followup"] = df
    df = _frame(files, "strata")
    if len(df):
        prac = df["stratum"] == "practitioner"
        df.loc[prac, "level"] = df.loc[prac, "clinic"] + ":" + df.loc[prac, "level"].astype(str)
        tables["strata"] = strata.strata_tests(_rates(_sum(df, "strata"), defs))
    else:
        tables["strata"] = df
    df = _frame(files, "funnel")
    if len(df):  # practitioners (named per clinic) against the pooled rate
        df["practitioner_id"] = df["clinic"] + ":" + df["practitioner_id"].astype(str)
        g = df.groupby("practitioner_id", sort=False)[["k", "n"]].sum().reset_index()
        p0 = g["k"].sum() / g["n"].sum() if g["n"].sum() else 0.0
        tables["funnel"] = meta.funnel_data(
            g["k"], g["n"], g["practitioner_id"].tolist(), p0,
            levels=tuple(defs.get("funnel_levels", (0.95, 0.998)))
        ).rename(columns={"label": "practitioner_id"})
        tables["funnel"] = pd.concat([tables["funnel"], strata.funnel_tests(
            tables["funnel"]["k"], tables["funnel"]["n"], p0)], axis=1)
    else:
        tables["funnel"] = df
    df = _frame(files, "density_change")
    tables["density_change"] = _pool_density_change(df, defs) if len(df) else df
    df = _frame(files, "ae_duration")
    if len(df):
        g = df.groupby("term", sort=False)
        tables["ae_duration"] = g.agg(events=("events", "sum"), min_days=("min_days", "min"),
                                      max_days=("max_days", "max")).reset_index().assign(
            median_days=None, q1_days=None, q3_days=None)
    else:
        tables["ae_duration"] = df
    df = _frame(files, "quarterly")
    if len(df):
        q = _sum(df, "quarterly").sort_values(["family", "quarter"], kind="stable")
        parts = [pd.concat([g[["family", "quarter"]].reset_index(drop=True),
                            stats.p_chart(g["k"].to_numpy(np.int64), g["n"].to_numpy(np.int64),
                                          min_n=int(defs.get("spc_min_n", 5)),
                                          improvement="increase")],
                           axis=1) for _, g in q.groupby("family", sort=False)]
        tables["quarterly"] = pd.concat(parts, ignore_index=True)
    else:
        tables["quarterly"] = df
    out["model"] = []
    out["model_note"] = "the density model is not pooled: fit it on each clinic's own data"
    out["clinics"] = clinics
    if not shareable:
        for name, df in tables.items():
            out[name] = json_records(df.drop(columns=["clinic"], errors="ignore"))
        out["meta"] = _meta_section(files, defs)
        return out
    return _publish(out, tables, files, defs, coder=coder)


def _publish(out: dict, tables: dict, files, defs: dict, *, coder=None) -> dict:
    """The pooled output under the disclosure-control policy (docs/disclosure-control.md).

    - every table through :func:`outcomes.disclosure.control_frame` (small counts hidden,
      the others rounded to base 5, rates, tests and limits from the published counts);
    - a pooled count that one participant could reduce to a small count by subtracting its
      own (exact) figure -- the total minus one clinic's count is 1 to ``min_cell - 1`` -- is
      withheld (``"*"``);
    - the meta-analysis is computed from each clinic's *published* counts only: a clinic whose
      count is hidden is left out of it, and no weight or estimate rests on an exact count.
    """
    from outcomes import disclosure

    min_cell = int(defs.get("min_cell", 5))
    disclosure.check_shareable_definitions(defs)
    for c in out["clinics"]:
        disclosure.check_shareable_definitions(defs, cutoff=c["cutoff"])
    coder = coder or disclosure.KeepCodes(rounding_key=disclosure.data_key(
        [sorted(json.dumps(d, sort_keys=True, default=str) for _, d in files)]))
    for name, df in tables.items():
        if len(df):
            df = df.drop(columns=["clinic"], errors="ignore")
            re_cols = [c for c in meta.RE_COLUMNS if c in df.columns]
            df = _withhold_subtractable(df.drop(columns=re_cols), files, name, min_cell)
            df = disclosure.control_frame(name, df, definitions=defs, min_cell=min_cell,
                                          coder=coder)
            if name == "response":   # the random-effects columns, from published counts
                df = df.merge(_published_random_effects(files, defs, min_cell, coder),
                              on=["family", "group", "outcome"], how="left")
        out[name] = json_records(df)
    cohort = pd.DataFrame([out["cohort"]])
    parts = pd.DataFrame([{k: d["cohort"][k] for k in _COHORT_KEYS} for _, d in files])
    for k in _COHORT_KEYS:
        rest = cohort[k].iloc[0] - parts[k].to_numpy()
        if cohort[k].iloc[0] >= min_cell and ((rest >= 1) & (rest < min_cell)).any():
            cohort[k] = cohort[k].astype(object)
            cohort.loc[0, k] = "*"
    out["cohort"] = disclosure.control_cohort_counts(cohort.iloc[0].to_dict(), min_cell,
                                                     coder=coder)
    out["meta"] = _published_meta(files, defs, min_cell, coder)
    out["clinics"] = json_records(disclosure.control_frame(
        "clinics", pd.DataFrame.from_records(out["clinics"]), min_cell=min_cell, coder=coder))
    out["disclosure_control"] = {
        "policy": disclosure.POLICY, "description": disclosure.policy_text(min_cell),
        "pooled": "a pooled count that a participating clinic could reduce to 1 to "
                  f"{min_cell - 1} by subtracting its own figure is withheld (*); the "
                  "meta-analysis uses each clinic's published counts only, and leaves out a "
                  "clinic whose count is hidden."}
    return out


def _withhold_subtractable(pooled: pd.DataFrame, files, table: str, min_cell: int):
    """Pooled counts from which one clinic could subtract its own count and be left with
    1 to ``min_cell - 1``: set to ``"*"`` (withheld; the pass withholds what rests on them)."""
    if table not in TABLES or table == "funnel":
        return pooled      # a practitioner belongs to one clinic: nothing to subtract
    keys, counts = TABLES[table]
    df = _frame(files, table)
    if not len(df):
        return pooled
    keys = tuple(k for k in keys if k in df and k in pooled)
    counts = tuple(c for c in counts if c in df and c in pooled)
    work = df[[*keys, *counts]].copy()
    for k in keys:
        work[k] = work[k].astype(str)
    totals = work.groupby(list(keys))[list(counts)].transform("sum")
    rest = totals.to_numpy(float) - work[list(counts)].to_numpy(float)
    big = totals.to_numpy(float) >= min_cell     # a small total is suppressed anyway
    bad = pd.DataFrame((rest >= 1) & (rest < min_cell) & big, columns=list(counts),
                       index=work.index)
    bad[list(keys)] = work[list(keys)]
    flags = bad.groupby(list(keys))[list(counts)].any().reset_index()
    merged = pooled[list(keys)].astype(str).merge(flags, on=list(keys), how="left")
    out = pooled.copy()
    for c in counts:
        hit = merged[c].fillna(False).to_numpy(bool)
        if hit.any():
            values = out[c].astype(object).to_numpy().copy()
            values[hit] = "*"
            out[c] = pd.Series(values, index=out.index, dtype=object)
    return out


def _published_files(files, min_cell: int, coder):
    """The clinics' files with their response counts as published (rows with a hidden count
    left out): what the shareable meta-analysis may rest on."""
    from outcomes import disclosure

    published = []
    for label, d in files:
        rec = pd.DataFrame.from_records(d.get("response", []))
        if len(rec):
            k = disclosure.publish_counts(rec["k"], min_cell, key=coder.rounding_key)
            n = disclosure.publish_counts(rec["n"], min_cell, key=coder.rounding_key)
            ok = np.array([not isinstance(a, str) and not isinstance(b, str)
                           for a, b in zip(k, n, strict=True)], dtype=bool)
            rec = rec.assign(k=k, n=n)[ok]
            rec = rec.assign(k=rec["k"].astype(np.int64), n=rec["n"].astype(np.int64))
        published.append((label, {**d, "response": rec.to_dict("records")}))
    return published


def _published_random_effects(files, defs: dict, min_cell: int, coder) -> pd.DataFrame:
    """The random-effects rate beside the pooled counts, from the published per-clinic counts
    (through the pass as ``pooled_random_effects``)."""
    from outcomes import disclosure

    keys = ["family", "group", "outcome"]
    resp = _frame(_published_files(files, min_cell, coder), "response")
    if not len(resp):
        return pd.DataFrame(columns=keys)
    bk, bn = _registry_counts(resp["benchmark_id"]) if "benchmark_id" in resp else (None, None)
    re = meta.random_effects_by(resp, keys, level=float(defs.get("confidence", 0.95)),
                                benchmark_k=bk, benchmark_n=bn)
    return disclosure.control_frame("pooled_random_effects", re, definitions=defs,
                                    min_cell=min_cell, coder=coder)


def _published_meta(files, defs: dict, min_cell: int, coder) -> dict:
    """The meta-analysis section computed from each clinic's published response counts (a
    clinic whose k or n is hidden is left out), and the pooled published counts against the
    published studies."""
    from outcomes import disclosure

    section = _meta_section(_published_files(files, min_cell, coder), defs)
    for part, name in (("summary", "meta_summary"), ("studies", "meta_studies"),
                       ("funnel", "meta_funnel"), ("published_summary", "meta_summary"),
                       ("published_studies", "meta_studies")):
        df = pd.DataFrame.from_records(section[part])
        if len(df):
            section[part] = json_records(disclosure.control_frame(
                name, df, definitions=defs, min_cell=min_cell, coder=coder))
    return section


