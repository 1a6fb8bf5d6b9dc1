"""``analyze()``: every metric of an export in one :class:`Analysis`; ``outcomes analyze``.

The Analysis holds tidy DataFrames (docs/architecture.md, "Analysis"). Frames marked internal
(``cohort``, ``sentinel_cases``, ``protocol_patients``, ``screening_cases``) hold pseudonyms
and dates; :meth:`Analysis.to_dict` never includes them: the results JSON is aggregate only.
"""
from __future__ import annotations

import datetime as _dt
import html
import json
import os
import pickle
import signal
import sys
import threading
import warnings
from pathlib import Path
import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from outcomes import audit, protocol, registry, response, safety, strata
from outcomes.cohort import build_cohort
from outcomes.completeness import NOT_RECORDED_COLUMNS, not_recorded_table
from outcomes.errors import AnalysisError, OutcomesWarning
from outcomes.results_file import (  # the results format is results_file's
    FORMAT_VERSION,
    json_records,
)
from outcomes.model import MODEL_COLUMNS, density_model

if TYPE_CHECKING:
    from outcomes.definitions import Definitions
    from outcomes.loader import LoadReport

__all__ = ["Analysis", "analyze", "cli_analyze", "format_summary", "FORMAT_VERSION",
           "SHARED_FRAMES", "SMALL_N"]

#: aggregate frames written to the results JSON, in order
SHARED_FRAMES = ("flow", "response", "density_sensitivity", "photographic_sensitivity",
                 "density_change", "adverse_events", "ae_timing", "ae_duration", "ae_followup",
                 "protocol", "screening", "strata", "funnel", "quarterly", "model", "periods")


@dataclass(frozen=True, eq=False)
class Analysis:
    """Every metric of one export at one cut-off (docs/architecture.md, "Analysis").

    Attributes
    ----------
    cutoff : datetime.date
    definitions : Definitions
    load_report : LoadReport or None
        The export's load report (None for frames built without the loader).
    cohort : DataFrame
        One row per patient (internal only); see :class:`outcomes.cohort.Cohort`.
    flow, response, density_sensitivity, photographic_sensitivity, density_change, \
adverse_events, ae_timing, ae_duration, ae_followup, protocol, screening, strata, funnel, \
quarterly, model : DataFrame
        Aggregate tables (see the modules ``cohort``, ``response``, ``safety``, ``protocol``,
        ``strata``, ``model``).
    sentinel_cases, protocol_patients, screening_cases : DataFrame
        Patient-level lists for review (internal only).
    model_note : str
        What the density model fitted, on how many patients and visits, or why it was not.
    not_recorded : DataFrame
        What each figure could not assess because a value was not recorded
        (:func:`outcomes.completeness.not_recorded_table`); aggregate counts.
    periods : DataFrame
        The audit periods' figures (the quarter holding the cut-off, the rolling 12 months,
        the cumulative cohort): :func:`outcomes.audit.period_table`.
    """

    cutoff: _dt.date
    definitions: Definitions
    load_report: LoadReport
    cohort: pd.DataFrame
    flow: pd.DataFrame
    response: pd.DataFrame
    density_sensitivity: pd.DataFrame
    photographic_sensitivity: pd.DataFrame
    density_change: pd.DataFrame
    adverse_events: pd.DataFrame
    ae_timing: pd.DataFrame
    ae_duration: pd.DataFrame
    ae_followup: pd.DataFrame
    sentinel_cases: pd.DataFrame
    protocol: pd.DataFrame
    protocol_patients: pd.DataFrame
    screening: pd.DataFrame
    screening_cases: pd.DataFrame
    strata: pd.DataFrame
    funnel: pd.DataFrame
    quarterly: pd.DataFrame
    model: pd.DataFrame
    model_note: str
    not_recorded: pd.DataFrame = dataclasses.field(default_factory=lambda: pd.DataFrame(
        columns=list(NOT_RECORDED_COLUMNS)))
    periods: pd.DataFrame = field(default_factory=pd.DataFrame)

    def cohort_counts(self) -> dict[str, int]:
        """``patients``, ``treated``, ``due_12m``, ``assessed_photographic``,
        ``assessed_density``."""
        c = self.cohort
        return {"patients": len(c), "treated": int(c["treated"].sum()),
                "due_12m": int(c["due_12m"].sum()),
                "assessed_photographic": int(c["gpa_assessed"].sum()),
                "assessed_density": int(c["density_assessed"].sum())}

    def headline(self) -> pd.DataFrame:
        """The figures a clinician asks for first: response against the published studies.

        Returns
        -------
        DataFrame
            One row per response figure of the comparable group (mesotherapy alone, as in the
            study): ``family``, ``outcome``, ``k``, ``n``, ``rate`` (fraction), ``ci_low``,
            ``ci_high``, ``benchmark_rate`` (fraction).
        """
        r = self.response
        keep = (r["group"] == "comparable") & r["outcome"].isin(["improved", "dramatic"])
        cols = ["family", "outcome", "k", "n", "rate", "ci_low", "ci_high", "benchmark_rate"]
        return r.loc[keep, cols].reset_index(drop=True)

    def _summary_parts(self) -> tuple[str, pd.DataFrame, list[str]]:
        counts = self.cohort_counts()
        title = (f"Analysis at cut-off {self.cutoff.isoformat()}: {counts['patients']} patients, "
                 f"{counts['treated']} treated, {counts['due_12m']} due at 12 months "
                 f"({counts['assessed_photographic']} with photographs scored, "
                 f"{counts['assessed_density']} with a density measurement)")
        level = f"{100 * float(self.definitions.confidence):g}% CI"

        def pct(x):
            return "-" if pd.isna(x) else f"{100 * x:.1f}%"

        h = self.headline()
        table = pd.DataFrame({
            "measure": h["family"] + ", " + h["outcome"],
            "patients": [f"{k} of {n}" for k, n in zip(h["k"], h["n"])],
            "rate": [pct(x) for x in h["rate"]],
            level: [f"{pct(lo)} to {pct(hi)}" if not pd.isna(lo) else "-"
                    for lo, hi in zip(h["ci_low"], h["ci_high"])],
            "published": [pct(x) for x in h["benchmark_rate"]],
        })
        frames = [f.name for f in dataclasses.fields(self)
                  if isinstance(getattr(self, f.name), pd.DataFrame)]
        return title, table, frames

    def __repr__(self) -> str:
        title, table, frames = self._summary_parts()
        return (f"{title}\n\nMesotherapy alone (the published studies' group):\n"
                f"{table.to_string(index=False)}\n\nTables (DataFrames): "
                f"{', '.join(frames)}.\nText summary: print(outcomes.analysis.format_summary(a))")

    def _repr_html_(self) -> str:
        title, table, frames = self._summary_parts()
        return (f"<p><strong>{html.escape(title)}</strong></p>"
                f"<p>Mesotherapy alone (the published studies' group):</p>"
                f"{table.to_html(index=False, border=0)}"
                f"<p>Tables (DataFrames): {html.escape(', '.join(frames))}.</p>")

    def to_dict(self, shareable: bool = False, *, coder=None) -> dict[str, Any]:
        """The results JSON (format_version 1): aggregate only.

        Parameters
        ----------
        shareable : bool, default False
            Pass every frame through the disclosure-control pass
            (:func:`outcomes.disclosure.control_frame`): counts of 1 to ``min_cell - 1`` shown
            as ``"<5"``, every other count rounded to base 5, rates, intervals, tests and
            limits computed from the published counts, practitioners as codes. Settings that
            weaken the policy are refused
            (:func:`~outcomes.disclosure.check_shareable_definitions`).
        coder : PractitionerCoder, optional
            Practitioner codes (default: from ``$OUTCOMES_CLINIC_KEY``, else per-run random).

        Returns
        -------
        dict
            JSON-able (NaN -> None): ``format_version``, ``package_version``, ``kind``
            (``"analysis"``), ``cutoff``, ``definitions``, ``shareable``, ``cohort`` (counts),
            one list of records per frame of :data:`SHARED_FRAMES`, ``model_note``,
            ``clinics`` (empty for a single clinic); shareable only: ``disclosure_control``
            (the policy's name and sentence). No pseudonym, no date of a patient, no
            per-patient row.
        """
        from outcomes import __version__

        counts: dict[str, Any] = self.cohort_counts()
        out: dict[str, Any] = {
            "format_version": FORMAT_VERSION, "package_version": __version__,
            "kind": "analysis", "cutoff": self.cutoff.isoformat(),
            "definitions": self.definitions.to_dict(), "shareable": bool(shareable),
        }
        if not shareable:
            out["cohort"] = counts
            for name in SHARED_FRAMES:
                out[name] = json_records(getattr(self, name))
            out["model_note"] = self.model_note
            out["clinics"] = []
            return out
        from outcomes import disclosure

        disclosure.check_shareable_definitions(self.definitions, cutoff=self.cutoff)
        min_cell = int(self.definitions.min_cell)
        if coder is None:
            coder = disclosure.PractitionerCoder(disclosure.clinic_key(),
                                                 rounding_key=self.data_key())
        out["disclosure_control"] = {"policy": disclosure.POLICY,
                                     "description": disclosure.policy_text(min_cell),
                                     "practitioner_codes": "stable (clinic key)" if coder.stable
                                     else "random, valid for this output only"}
        out["cohort"] = disclosure.control_cohort_counts(counts, min_cell, coder=coder)
        for name in SHARED_FRAMES:
            frame = disclosure.control_frame(name, getattr(self, name),
                                             definitions=self.definitions, coder=coder)
            out[name] = json_records(frame)
        out["model_note"] = disclosure.control_note(self.model_note, min_cell, coder=coder)
        out["clinics"] = []
        return out


    def data_key(self) -> bytes:
        """A key only this clinic can compute (from its patients' pseudonyms and first-session
        dates): the rounding key of shareable output when no clinic key is given
        (:func:`outcomes.disclosure.data_key`)."""
        from outcomes import disclosure

        c = self.cohort
        ids = c["patient_id"].astype(str).tolist() if "patient_id" in c else []
        t0 = c["t0"].astype(str).tolist() if "t0" in c else []
        return disclosure.data_key(ids, t0)

    def pooling_dict(self, *, coder=None) -> dict[str, Any]:
        """The pooling file a clinic sends to its network (``outcomes analyze --pooling-file``).

        Exact aggregate counts (small ones included: pooling needs them) with practitioners as
        keyed codes, no model, no patient row and no date but the cut-off. Only the network's
        pooling coordinator sees it (docs/disclosure-control.md); what the network publishes
        passes the disclosure-control policy (:func:`outcomes.pooling.pool_results`).

        Parameters
        ----------
        coder : PractitionerCoder, optional
            Default: from the clinic key (``$OUTCOMES_CLINIC_KEY``), else per-run random codes.

        Returns
        -------
        dict
            As :meth:`to_dict` (``shareable`` False), with ``funnel.practitioner_id`` and the
            ``strata`` practitioner levels coded, ``model`` empty and ``pooling_file`` True.
        """
        from outcomes import disclosure

        if coder is None:
            coder = disclosure.PractitionerCoder(disclosure.clinic_key())
        out = self.to_dict(shareable=False)
        funnel = self.funnel.copy()
        funnel["practitioner_id"] = coder.codes(funnel["practitioner_id"])
        out["funnel"] = json_records(funnel.sort_values("practitioner_id", kind="stable"))
        strata = self.strata.copy()
        prac = (strata["stratum"] == "practitioner").to_numpy()
        if prac.any():
            levels = strata["level"].to_numpy(object).copy()
            levels[prac] = coder.codes(levels[prac])
            strata["level"] = levels
        out["strata"] = json_records(strata)
        out["model"] = []
        out["model_note"] = "the density model is not sent for pooling"
        out["pooling_file"] = True
        return out


def analyze(export, *, cutoff=None, definitions=None, model: bool = True) -> Analysis:
    """Compute every outcome metric of an export.

    Parameters
    ----------
    export : Export, str or path
        From :func:`outcomes.load` (or any object with the four clean tables); not modified.
        A path is loaded with the default options first.
    cutoff : date-like, optional
        The last day the analysis may see; default today.
    definitions : Definitions, optional
        Default ``Definitions()``.
    model : bool, default True
        Fit the density mixed model (the slow part); ``False`` leaves ``model`` empty.

    Returns
    -------
    Analysis

    Raises
    ------
    AnalysisError
        When the cut-off is not a date or precedes every session.

    Warns
    -----
    OutcomesWarning
        When a headline rate rests on fewer than :data:`SMALL_N` patients, or is compared with
        a published count derived from a percentage rather than reported.

    Examples
    --------
    >>> import outcomes
    >>> a = outcomes.analyze(outcomes.load(outcomes.sample_path()), cutoff="2026-09-30",
    ...                      model=False)  # doctest: +SKIP
    >>> a.response.query("group == 'comparable'")  # doctest: +SKIP
    """
    if isinstance(export, str | os.PathLike):
        from outcomes.loader import load
        export = load(Path(export))
    c = build_cohort(export, cutoff=cutoff, definitions=definitions)
    # about half of the metrics, in a second process for a large cohort (see _beside)
    aside = _beside(lambda: _safety_and_strata(c), len(c.patients) >= PARALLEL_MIN_PATIENTS)
    try:
        numbers = safety.event_session_numbers(c)
        pp = protocol.protocol_patients(c)
        cases = protocol.screening_cases(c)
        if model:
            model_table, note = density_model(c)
        else:
            model_table = pd.DataFrame({k: pd.Series(dtype=object if k == "term" else float)
                                        for k in MODEL_COLUMNS})
            note = "Density model not fitted: skipped on request (model=False, --no-model)."
        here = dict(
            cutoff=c.cutoff.date(), definitions=c.definitions,
            load_report=export.report, cohort=c.patients, flow=c.flow,
            response=response.response_table(c),
            density_sensitivity=response.density_sensitivity(c),
            photographic_sensitivity=response.photographic_sensitivity(c),
            density_change=response.density_change(c),
            ae_timing=safety.ae_timing(c, numbers),
            sentinel_cases=safety.sentinel_cases(c, numbers),
            protocol=protocol.protocol_table(c, pp), protocol_patients=pp,
            screening=protocol.screening_table(c, cases), screening_cases=cases,
            model=model_table, model_note=note,
            not_recorded=not_recorded_table(c, getattr(export, "report", None)),
            periods=audit.period_table(c),
        )
    except BaseException:
        aside.cancel()
        raise
    result = Analysis(**here, **aside.result())
    _warn_about(result)
    return result


def _safety_and_strata(c) -> dict[str, pd.DataFrame]:
    """The metrics :func:`analyze` may compute in a second process (Analysis field -> frame)."""
    followup = safety.ae_followup_table(c)
    return {"ae_followup": followup, "adverse_events": safety.adverse_event_table(c, followup),
            "ae_duration": safety.ae_duration(c), "strata": strata.strata_table(c),
            "funnel": strata.funnel_table(c), "quarterly": strata.quarterly_table(c)}


#: from this many registered patients, :func:`analyze` computes the safety follow-up and the
#: strata in a forked process while this one computes the other metrics (Linux, and only when
#: the process runs no other thread): pandas holds the GIL, so threads would take turns. At
#: 100k patients the two halves take about 0.23 s each; a fork costs about 5 ms.
PARALLEL_MIN_PATIENTS = 20_000


class _beside:
    """``fn()`` run in a forked child process while the caller goes on; :meth:`result` returns
    what it returned, exactly (pickled back through a pipe).

    Without ``parallel``, without ``os.fork`` (Windows), off Linux, on one core, or while the
    process runs other threads (a lock one of them holds would stay held in the child), ``fn``
    simply runs in :meth:`result`. If the child fails in any way (an error, a warning turned
    into one, a crash) :meth:`result` runs ``fn`` here, so that an error is raised as without
    the child. Warnings the child records are issued again here.
    """

    def __init__(self, fn, parallel: bool):
        self.fn, self.pid, self.fd = fn, 0, -1
        if not (parallel and sys.platform.startswith("linux") and hasattr(os, "fork")
                and threading.active_count() == 1 and len(os.sched_getaffinity(0)) > 1):
            return
        read, write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return
        if pid == 0:                                      # the child: compute, send, exit
            status = 1
            try:
                os.close(read)
                with warnings.catch_warnings(record=True) as caught:
                    value = fn()
                said = [(w.message, w.category, w.filename, w.lineno) for w in caught]
                data = pickle.dumps((value, said), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write, "wb") as out:
                    out.write(data)
                status = 0
            finally:
                os._exit(status)                          # no atexit, no stdio flush
        os.close(write)
        self.pid, self.fd = pid, read

    def result(self):
        if not self.pid:
            return self.fn()
        try:
            with os.fdopen(self.fd, "rb") as f:
                self.fd = -1                              # closed by the with, whatever happens
                data = f.read()
            _, status = os.waitpid(self.pid, 0)
            self.pid = 0
        except BaseException:                             # an interrupt: no child left behind
            self.cancel()
            raise
        try:
            value, said = pickle.loads(data) if status == 0 and data else (None, None)
        except Exception:  # noqa: BLE001 - what cannot be rebuilt here is computed here
            said = None
        if said is None:
            return self.fn()
        # once per place, as the warnings would have been issued here (the module's registry)
        registry = globals().setdefault("__warningregistry__", {})
        for message, category, filename, lineno in said:
            warnings.warn_explicit(message, category, filename, lineno, registry=registry)
        return value

    def cancel(self) -> None:
        """Stop the child (the caller failed before asking for the result)."""
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)
            if self.fd >= 0:
                os.close(self.fd)
                self.fd = -1
            os.waitpid(self.pid, 0)
            self.pid = 0


#: a headline rate on fewer patients than this gets an OutcomesWarning (its interval is wide)
SMALL_N = 20


def _warn_about(a: Analysis) -> None:
    """Warn (OutcomesWarning) about what a user should know before reading the headline."""
    h = a.headline()
    for r in h[(h["n"] > 0) & (h["n"] < SMALL_N)].itertuples(index=False):
        warnings.warn(f"the {r.family} {r.outcome} rate rests on {r.n} patients (fewer than "
                      f"{SMALL_N}): its interval is wide; read it with care.", OutcomesWarning,
                      stacklevel=3)
    if "was singular" in a.model_note:  # model.density_model's note for a singular fit
        warnings.warn("the density model's random slope was singular (as lme4's isSingular); "
                      "a random-intercept model was fitted instead: see model_note.",
                      OutcomesWarning, stacklevel=3)
    ids = a.response["benchmark_id"].dropna().unique()
    derived = sorted(str(i) for i in ids if registry.benchmark(str(i)).derived)
    if derived:
        warnings.warn(f"the published counts of {', '.join(derived)} were derived from a quoted "
                      "percentage, not reported by the study; tests against them carry that "
                      "uncertainty.", OutcomesWarning, stacklevel=3)


# ---------------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------------
def _pct(x) -> str:
    return "  n/a" if x is None or pd.isna(x) else f"{100 * x:5.1f}%"


def _ci(lo, hi) -> str:
    if pd.isna(lo) or pd.isna(hi):
        return "(no data)"
    return f"({100 * lo:.1f} to {100 * hi:.1f})"


def _p(x) -> str:
    if pd.isna(x):
        return ""
    return "p<0.001" if x < 0.001 else f"p={x:.3f}"


def format_summary(a: Analysis) -> str:
    """A readable plain-text summary of an Analysis (aggregate only: no patient row).

    Returns
    -------
    str
        Cohort flow; response with rates as % and intervals; adverse events; protocol;
        screening counts; the model note.
    """
    d = a.definitions
    level = f"{100 * d.confidence:g}%"
    lines = [f"outcomes analyze: cut-off {a.cutoff.isoformat()}; {level} {d.interval_method} "
             f"intervals; comparable = minoxidil no (not recorded is not comparable)", ""]
    if a.load_report is not None:
        lines.append("Load")
        for r in a.load_report.counts.itertuples(index=False):
            lines.append(f"  {r.table:<16} {int(r.read):>8} read {int(r.accepted):>8} accepted "
                         f"{int(r.quarantined):>6} quarantined")
        lines.append("")
    from outcomes.text import not_recorded_sentences

    said = not_recorded_sentences(a.not_recorded)
    if said:
        lines += ["Not recorded (missing is never counted as no)"] + [f"  {t}" for t in said]
        lines.append("")
    lines.append("Cohort flow")
    lines += [f"  {s:<38} {n:>8}" for s, n in zip(a.flow["step"], a.flow["n"])]
    lines += ["", f"Response (k/n, rate, {level} interval; benchmark, exact binomial p, "
                  f"Fisher p vs the study's counts)"]
    for r in a.response.itertuples(index=False):
        bench = ""
        if isinstance(r.benchmark_id, str):
            bench = f"  vs {_pct(r.benchmark_rate).strip()} {r.benchmark_id} {_p(r.p_value)}"
            if not pd.isna(r.fisher_p_value):
                derived = " (study k/n derived from its %)" if registry.benchmark(
                    r.benchmark_id).derived else ""
                bench += (f", Fisher {_p(r.fisher_p_value)}, diff {100 * r.diff:+.1f} pts "
                          f"{_ci(r.diff_ci_low, r.diff_ci_high)}{derived}")
        lines.append(f"  {r.family:<13}{r.group:<11}{r.outcome:<20}{r.k:>6}/{r.n:<6}"
                     f"{_pct(r.rate)} {_ci(r.ci_low, r.ci_high):<14}{bench}")
    ch = a.density_change.set_index("measure")
    if "absolute_per_cm2" in ch.index and ch.loc["absolute_per_cm2", "n"] > 0:
        m = ch.loc["absolute_per_cm2"]
        lines.append(f"  density change: {m['mean']:+.1f} hairs/cm2 ({m['ci_low']:+.1f} to "
                     f"{m['ci_high']:+.1f}), n={int(m['n'])}")
    lines += ["", "Adverse events (patients with the event / treated; events per 100 sessions)"]
    for r in a.adverse_events.itertuples(index=False):
        bench = ""
        if isinstance(r.benchmark_id, str):
            bench = f"  vs {_pct(r.benchmark_rate).strip()} {r.benchmark_id} {_p(r.p_value)}"
            if not pd.isna(r.fisher_p_value):
                bench += f", Fisher {_p(r.fisher_p_value)}"
        rate = "" if pd.isna(r.session_rate) else f"{100 * r.session_rate:.1f}"
        lines.append(f"  {r.term:<22}{r.k:>6}/{r.n:<6}{_pct(r.rate)} {_ci(r.ci_low, r.ci_high):<14}"
                     f"{r.events:>6} events {rate:>6}/100 sessions{bench}")
    lines.append(f"  sentinel events for case review (internal report): {len(a.sentinel_cases)}")
    lines += ["", "Protocol"]
    lines += [f"  {r.measure:<46}{r.k:>6}/{r.n:<6}{_pct(r.rate)} {_ci(r.ci_low, r.ci_high)}"
              for r in a.protocol.itertuples(index=False)]
    lines += ["", "Screening deviations (sessions, patients)"]
    lines += [f"  {r.deviation:<30}{r.sessions:>6} {r.patients:>6}"
              for r in a.screening.itertuples(index=False)]
    lines += ["", "Density model", f"  {a.model_note}"]
    if not a.model.empty:
        lines += [f"  {r.term:<24}{r.coef:>10.3f} ({r.ci_low:.3f} to {r.ci_high:.3f}) "
                  f"{_p(r.p_value)}" for r in a.model.itertuples(index=False)]
    return "\n".join(lines)


def _write_json(data: dict, dest: str, what: str) -> None:
    try:
        with open(dest, "w", encoding="utf-8") as f:
            f.write(json.dumps(data, indent=2, allow_nan=False) + "\n")
    except OSError as err:
        raise AnalysisError(f"cannot write the {what} to {dest!r} ({err.strerror}); give a "
                            "writable FILE.") from err


def cli_analyze(args) -> int:
    """``outcomes analyze``: load, analyse, print the summary, optionally write the JSON.

    With ``--json -`` the JSON goes to stdout and the summary to stderr.
    """
    from outcomes.definitions import Definitions
    from outcomes.loader import load

    export = load(args.data, date_format=args.date_format, decimal_comma=args.decimal_comma,
                  mapping=args.mapping)
    defs = Definitions.from_toml(args.definitions) if args.definitions else None
    a = analyze(export, cutoff=args.cutoff, definitions=defs, model=not args.no_model)
    if getattr(args, "pooling_file", None):
        from outcomes import disclosure

        coder = disclosure.PractitionerCoder(disclosure.clinic_key(getattr(args, "key_file",
                                                                           None)))
        _write_json(a.pooling_dict(coder=coder), args.pooling_file, "pooling file")
    text = json.dumps(a.to_dict(), indent=2, allow_nan=False) if args.json else ""
    print(format_summary(a), file=sys.stderr if args.json == "-" else sys.stdout)
    if args.json == "-":
        sys.stdout.write(text + "\n")
    elif args.json:
        try:
            with open(args.json, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        except OSError as err:
            raise AnalysisError(f"cannot write the results JSON to {args.json!r} "
                                f"({err.strerror}); give a writable --json FILE or '-' for "
                                f"stdout.") from err
    return 0
