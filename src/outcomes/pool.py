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

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from outcomes import __version__, meta, stats, strata
from outcomes.analysis import json_records
from outcomes.errors import ResultsFileError

__all__ = ["FORMAT_VERSION", "TABLES", "POOLED_NOTEBOOK", "read_results", "pool_results",
           "pooled_frames", "write_pooled", "render_pooled_report", "cli_pool"]

#: the bundled notebook that renders a pooled report
POOLED_NOTEBOOK = "90-pooled.ipynb"

#: the results-file format this version reads and writes
FORMAT_VERSION = 1

#: table -> (key columns, count columns summed when pooling)
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "flow": (("step",), ("n",)),
    "response": (("family", "group", "outcome"), ("k", "n")),
    "density_sensitivity": (("threshold",), ("k", "n")),
    "density_change": (("measure",), ("n",)),
    "adverse_events": (("term",), ("k", "n", "events", "sessions")),
    "ae_timing": (("term", "session_number"), ("events",)),
    "ae_duration": (("term",), ("events",)),
    "protocol": (("measure",), ("k", "n")),
    "screening": (("deviation",), ("sessions", "patients")),
    "strata": (("family", "outcome", "stratum", "level"), ("k", "n")),
    "quarterly": (("family", "quarter"), ("k", "n")),
    "funnel": (("practitioner_id",), ("k", "n")),
}
_REQUIRED = ("format_version", "package_version", "kind", "cutoff", "definitions", "cohort",
             "response", "adverse_events", "strata")
_COHORT_KEYS = ("patients", "treated", "due_12m", "assessed_photographic", "assessed_density")
#: keys and tables that only patient-level output carries
_PATIENT_KEYS = re.compile(r"(^|_)(patient|event|session)_id$|^(t0|onset_date|session_date|"
                           r"measurement_date|pseudonym)$", re.IGNORECASE)
_PATIENT_TABLES = ("sentinel_cases", "screening_cases", "protocol_patients", "patients",
                   "sessions", "measurements")
_DATE = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2}([ T]\d.*)?|\d{1,2}[/.]\d{1,2}[/.]\d{4})\s*$")
_SEND_AGGREGATE = ("Ask the clinic to send the file written by `outcomes analyze --json FILE` "
                   "(aggregate counts, not suppressed), not its shareable report file.")


def _fail(source: str, message: str, fix: str = "") -> ResultsFileError:
    return ResultsFileError(f"{source}: {message}" + (f" {fix}" if fix else ""))


def _sha256(path: Path | None, data: Mapping) -> str:
    if path is not None:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _is_count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _check_patient_level(source: str, obj, cutoff: str, where: str = "") -> None:
    """Raise on any key, table or date value that only patient-level output has."""
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            here = f"{where}.{key}" if where else str(key)
            if _PATIENT_KEYS.search(str(key)):
                raise _fail(source, f"holds patient-level content: key {here!r}. A results file "
                            "must be aggregate only.", _SEND_AGGREGATE)
            _check_patient_level(source, value, cutoff, here)
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            _check_patient_level(source, value, cutoff, f"{where}[{i}]")
    elif isinstance(obj, str) and _DATE.match(obj) and obj.strip() != cutoff:
        raise _fail(source, f"holds a date other than the cut-off at {where} ({obj!r}): "
                    "patient dates must not leave the clinic.", _SEND_AGGREGATE)


def _check_tables(source: str, data: Mapping) -> None:
    """Types of every pooled table: records with scalar keys and whole-number counts."""
    for table, (keys, counts) in TABLES.items():
        if table not in data:
            continue
        records = data[table]
        if not isinstance(records, list) or not all(isinstance(r, Mapping) for r in records):
            raise _fail(source, f"{table!r} must be a list of records, "
                        f"received {type(records).__name__}.", "The file is corrupted: "
                        "re-run `outcomes analyze --json FILE`.")
        for i, rec in enumerate(records):
            for col in keys + counts:
                if col not in rec:
                    raise _fail(source, f"{table}[{i}] has no {col!r}.", "The file is "
                                "corrupted or not from `outcomes analyze`: re-run it.")
            for col in keys:
                if isinstance(rec[col], (dict, list)):
                    raise _fail(source, f"{table}[{i}].{col} = {rec[col]!r}: expected a label.")
            for col in counts:
                value = rec[col]
                if isinstance(value, str) and value.startswith("<"):
                    raise _fail(source, f"{table}[{i}].{col} is suppressed ({value!r}): small "
                                "counts cannot be summed exactly.", _SEND_AGGREGATE)
                if not _is_count(value):
                    raise _fail(source, f"{table}[{i}].{col} = {value!r}: expected a whole "
                                "number >= 0.", "The file is corrupted: re-run `outcomes "
                                "analyze --json FILE`.")


def read_results(path, *, source: str | None = None) -> dict:
    """Read and check one clinic's results file (``outcomes analyze --json``).

    Parameters
    ----------
    path : str, Path or dict
        The results JSON file, or an already parsed dict.
    source : str, optional
        Name used in messages (default: the path, or ``"results"``).

    Returns
    -------
    dict
        The parsed results, unchanged.

    Raises
    ------
    ResultsFileError
        Unreadable or not JSON (says where); a required key missing; a ``format_version``
        older or newer than this package reads (says what to run or install); no
        ``package_version``; a pooled file; patient-level content (a ``*_id`` key of a
        patient, event or session, a case list, a date other than the cut-off); a suppressed
        ``"<5"`` count; a count that is not a whole number.
    """
    if isinstance(path, Mapping):
        # a deep, JSON-normalised copy: tuples -> lists as in a file; the input is not touched
        try:
            data = json.loads(json.dumps(path, default=str))
        except (TypeError, ValueError) as err:
            raise _fail(source or "results", f"is not JSON-able ({err}).") from None
        source = source or "results"
    else:
        p = Path(path)
        source = source or str(p)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise _fail(source, f"cannot be read ({err.__class__.__name__}: {err}).",
                        "Check the path, and that it is the UTF-8 JSON file written by "
                        "`outcomes analyze --json FILE`.") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise _fail(source, f"is not valid JSON ({err.msg} at line {err.lineno}, column "
                        f"{err.colno}); the file is truncated or corrupted.",
                        "Ask the clinic to re-run `outcomes analyze --json FILE` and send the "
                        "file again.") from None
    if not isinstance(data, Mapping):
        raise _fail(source, f"expected a JSON object, received {type(data).__name__}.",
                    "Send the file written by `outcomes analyze --json FILE`.")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise _fail(source, f"missing key(s) {', '.join(missing)}: not a results file of "
                    "`outcomes analyze`, or truncated.", "Re-run `outcomes analyze --json FILE`.")
    version = data["format_version"]
    if not _is_count(version):
        raise _fail(source, f"format_version = {version!r}: expected a whole number.")
    if version < FORMAT_VERSION:
        raise _fail(source, f"format_version {version} is older than the version {FORMAT_VERSION}"
                    f" this outcomes {__version__} reads.", "Ask the clinic to update outcomes "
                    "and re-run `outcomes analyze --json FILE`.")
    if version > FORMAT_VERSION:
        raise _fail(source, f"format_version {version} is newer than the version "
                    f"{FORMAT_VERSION} this outcomes {__version__} reads (the file says "
                    f"package_version {data.get('package_version')!r}).",
                    "Update outcomes (`pip install -U outcomes`) on the pooling machine.")
    if not isinstance(data["package_version"], str) or not data["package_version"].strip():
        raise _fail(source, "package_version is missing or empty: the package version that "
                    "wrote the file must be recorded.", "Re-run `outcomes analyze --json FILE`.")
    if data["kind"] != "analysis":
        raise _fail(source, f"kind is {data['kind']!r}; only a clinic's own analysis "
                    "(kind 'analysis') is pooled, so that no clinic is counted twice.",
                    "Pool the clinics' own `outcomes analyze --json` files.")
    cutoff = data["cutoff"]
    if not isinstance(cutoff, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", cutoff):
        raise _fail(source, f"cutoff = {cutoff!r}: expected YYYY-MM-DD.")
    if not isinstance(data["definitions"], Mapping):
        raise _fail(source, "definitions must be an object of the outcome definitions used.")
    cohort = data["cohort"]
    if not isinstance(cohort, Mapping):
        raise _fail(source, f"cohort is a {type(cohort).__name__}, not the object of counts "
                    f"({', '.join(_COHORT_KEYS)}): patient-level content is not pooled.",
                    _SEND_AGGREGATE)
    for table in _PATIENT_TABLES:
        if table in data:
            raise _fail(source, f"holds the patient-level table {table!r}.", _SEND_AGGREGATE)
    _check_patient_level(source, {k: v for k, v in data.items() if k != "cutoff"}, cutoff)
    for key in _COHORT_KEYS:
        value = cohort.get(key)
        if isinstance(value, str) and value.startswith("<"):
            raise _fail(source, f"cohort.{key} is suppressed ({value!r}).", _SEND_AGGREGATE)
        if not _is_count(value):
            raise _fail(source, f"cohort.{key} = {value!r}: expected a whole number >= 0.",
                        "Re-run `outcomes analyze --json FILE`.")
    _check_tables(source, data)
    return dict(data)


#: definitions that do not change a pooled count: the model's settings (the model is not
#: pooled) and ``min_cell`` (suppression only; the pool uses the largest)
_DEFINITIONS_NOT_COMPARED = ("model_max_patients", "model_seed", "min_cell")


def _check_definitions(files: list[tuple[str, Mapping]]) -> None:
    """Refuse files whose outcome definitions differ, naming the key and the values."""
    ref_label, ref = files[0][0], files[0][1]["definitions"]
    for label, data in files[1:]:
        defs = data["definitions"]
        for key in sorted((set(ref) | set(defs)) - set(_DEFINITIONS_NOT_COMPARED)):
            a, b = ref.get(key, "<absent>"), defs.get(key, "<absent>")
            if a != b:
                raise ResultsFileError(
                    f"definitions differ: {key!r} is {a!r} in {ref_label} but {b!r} in {label}. "
                    "Counts are comparable only under the same definitions: ask the clinics to "
                    "re-run `outcomes analyze --json` with the same definitions file.")


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


def _pool_adverse_events(files, defs) -> pd.DataFrame:
    """Sum per term; a clinic without a row for a term adds its treated and sessions with 0."""
    df = _frame(files, "adverse_events")
    if not len(df):
        return df
    base = df.groupby("clinic", sort=False)[["n", "sessions"]].max()
    terms = df.drop_duplicates("term")["term"]
    full = pd.MultiIndex.from_product([base.index, terms], names=["clinic", "term"])
    df = df.set_index(["clinic", "term"]).reindex(full).reset_index()
    fill = base.reindex(df["clinic"]).to_numpy()
    df["n"] = df["n"].fillna(pd.Series(fill[:, 0], index=df.index))
    df["sessions"] = df["sessions"].fillna(pd.Series(fill[:, 1], index=df.index))
    df[["k", "events"]] = df[["k", "events"]].fillna(0)
    for col in ("k", "n", "events", "sessions"):
        df[col] = df[col].astype(np.int64)
    out = _rates(_sum(df, "adverse_events"), defs)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["session_rate"] = np.where(out["sessions"] > 0, out["events"] /
                                       out["sessions"].where(out["sessions"] > 0, 1), np.nan)
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


def pool_results(paths_or_dicts: Iterable, *, labels: list[str] | None = None,
                 shareable: bool = False) -> dict:
    """Pool several clinics' results into one results dict of ``kind = "pooled"``.

    Parameters
    ----------
    paths_or_dicts : iterable of str, Path or dict
        At least two results files (``outcomes analyze --json``) or parsed dicts.
    labels : list of str, optional
        Clinic names (default: the file names without extension, or "clinic 1", ...).
    shareable : bool
        Suppress counts 1-4 (``Definitions.min_cell``) as ``"<5"`` in the output.

    Returns
    -------
    dict
        The results shape (``format_version``, ``package_version``, ``kind``, ``cutoff``,
        ``definitions``, ``shareable``, ``cohort``, ``flow``, ``response``,
        ``density_sensitivity``, ``density_change``, ``adverse_events``, ``ae_timing``,
        ``ae_duration``, ``protocol``, ``screening``, ``strata``, ``funnel``, ``quarterly``,
        ``model``, ``model_note``)
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
    _check_definitions([(source, d) for source, (_, d) in zip(seen.values(), files,
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
    for table in ("response", "density_sensitivity", "protocol"):
        df = _frame(files, table)
        tables[table] = _rates(_sum(df, table), defs) if len(df) else df
    if len(tables["response"]):
        tables["response"] = _benchmark_tests(tables["response"], defs)
        # the random-effects rate across clinics beside the summed counts (issue 11 item 4)
        resp = _frame(files, "response")
        bk, bn = _registry_counts(resp["benchmark_id"]) if "benchmark_id" in resp else (None,
                                                                                        None)
        tables["response"] = tables["response"].merge(meta.random_effects_by(
            resp, ["family", "group", "outcome"], level=float(defs.get("confidence", 0.95)),
            benchmark_k=bk, benchmark_n=bn), on=["family", "group", "outcome"], how="left")
    tables["adverse_events"] = _pool_adverse_events(files, defs)
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
    for name, df in tables.items():
        if len(df):
            df = df.drop(columns=["clinic"], errors="ignore")
            if shareable:
                from outcomes.suppress import suppress_named_frame

                df = suppress_named_frame(name, df, int(defs.get("min_cell", 5)))
        out[name] = json_records(df)
    out["model"] = []
    out["model_note"] = "the density model is not pooled: fit it on each clinic's own data"
    out["clinics"] = clinics
    out["meta"] = _meta_section(files, defs)
    if shareable:
        _suppress_meta(out, int(defs.get("min_cell", 5)))
        _suppress_cohort(out, int(defs.get("min_cell", 5)))
    return out


def _suppress_cohort(out: dict, min_cell: int) -> None:
    from outcomes.suppress import is_small_count, suppressed_label

    for key, value in out["cohort"].items():
        if is_small_count([value], min_cell)[0]:
            out["cohort"][key] = suppressed_label(min_cell)


def _suppress_meta(out: dict, min_cell: int) -> None:
    from outcomes.suppress import suppress_frame

    for part, dependent in (("studies", ("rate", "ci_low", "ci_high", "yi", "vi")),
                            ("published_studies", ("rate", "ci_low", "ci_high", "yi", "vi")),
                            ("funnel", ("rate", "flag"))):
        df = pd.DataFrame.from_records(out["meta"][part])
        if len(df):
            out["meta"][part] = json_records(suppress_frame(df, ["k", "n"], dependent, min_cell))


def pooled_frames(pooled) -> dict[str, pd.DataFrame]:
    """The tables of a pooled results dict (or JSON file) as DataFrames, for the notebook.

    Parameters
    ----------
    pooled : dict, str or Path
        The output of :func:`pool_results`, or a file holding it.

    Returns
    -------
    dict of str -> DataFrame
        Every list-of-records table (``response``, ``adverse_events``, ``strata``,
        ``clinics``...) plus ``meta_summary``, ``meta_studies``, ``meta_funnel`` and
        ``cohort`` (one row: the cohort counts). Counts may be ``"<5"`` in a shareable dict.
    """
    if not isinstance(pooled, Mapping):
        try:
            pooled = json.loads(Path(pooled).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise ResultsFileError(f"{pooled}: cannot read the pooled results ({err}).") from None
    if pooled.get("kind") != "pooled":
        raise ResultsFileError("not a pooled results file (kind is "
                               f"{pooled.get('kind')!r}); run `outcomes pool` first.")
    frames = {k: pd.DataFrame.from_records(v) for k, v in pooled.items()
              if isinstance(v, list) and all(isinstance(r, Mapping) for r in v)}
    frames["cohort"] = pd.DataFrame([pooled["cohort"]])
    for part, records in pooled.get("meta", {}).items():
        frames[f"meta_{part}"] = pd.DataFrame.from_records(records)
    return frames


def render_pooled_report(pooled: Mapping, out) -> Path:
    """Execute the pooled notebook (:data:`POOLED_NOTEBOOK`) into ``out/index.html``.

    Reuses the report machinery (:func:`outcomes.report.find_kernel`,
    :func:`~outcomes.report.run_notebook`, :func:`~outcomes.report.notebook_html`): papermill
    in a kernel of this interpreter, HTML with the code hidden. Also writes
    ``out/pooled.json`` (the dict the report was drawn from).

    Parameters
    ----------
    pooled : dict
        The output of :func:`pool_results` (shareable, for a report that may leave the network).
    out : str or Path
        Folder written (created if needed).

    Returns
    -------
    pathlib.Path
        The HTML file.
    """
    import tempfile

    from outcomes.report import find_kernel, notebook_html, run_notebook

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    data_path = out / "pooled.json"
    write_pooled(pooled, data_path)
    kernel = find_kernel()
    with tempfile.TemporaryDirectory(prefix="outcomes-pool-") as tmp:
        nb = run_notebook(POOLED_NOTEBOOK, {"pooled_path": str(data_path.resolve())},
                          kernel=kernel, cwd=tmp)
    title = (f"Pooled audit of {len(pooled['clinics'])} clinics - cut-off {pooled['cutoff']}"
             + (" (shareable)" if pooled.get("shareable") else ""))
    html_path = out / "index.html"
    html_path.write_text(notebook_html(nb, title), encoding="utf-8")
    return html_path


def write_pooled(pooled: Mapping, dest) -> None:
    """Write a pooled results dict as JSON to ``dest`` (a path, or ``"-"`` for stdout)."""
    import sys

    text = json.dumps(pooled, indent=2, allow_nan=False) + "\n"
    if str(dest) == "-":
        sys.stdout.write(text)
    else:
        Path(dest).write_text(text, encoding="utf-8")


def cli_pool(args) -> int:
    """``outcomes pool RESULTS.json ... [--json FILE|-] [--out DIR]``.

    Pools the files, prints a short summary (or the JSON with ``--json -``), writes the
    shareable pooled JSON and/or HTML report. Returns 0.
    """
    pooled = pool_results(args.results, shareable=True)
    if args.json:
        write_pooled(pooled, args.json)
    if args.out:
        path = render_pooled_report(pooled, args.out)
        print(f"pooled report: {path}")
    if args.json != "-":
        c = pooled["cohort"]
        print(f"pooled {len(pooled['clinics'])} clinics: {c['patients']} patients, "
              f"{c['treated']} treated, {c['assessed_photographic']} assessed (photographic)")
    return 0
