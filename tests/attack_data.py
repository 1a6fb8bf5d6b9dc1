"""The published outputs the attack suite works on (issue 9, item 5), built once per session.

Ten small synthetic clinics (``outcomes sample``: 20-56 patients, seeds 101-110), each analysed
at the 2026Q2 and 2026Q3 cut-offs; two definitions differing only in age bands
([18, 45, 101] against [18, 46, 101]); a pooled output of clinics 101+102 (and 101-103).
Shareable output is produced by the package's own shareable paths (``Analysis.to_dict(
shareable=True)`` = the report's results.json, ``pool_results(shareable=True)`` = ``outcomes
pool``); the exact output (``to_dict()``) is the truth, used only to choose targets and to
check the attack's relations.

``python tests/attack_data.py`` prints every scenario's figures (X of Y pinned).
"""
from __future__ import annotations

import datetime as dt
import functools
import inspect
import sys
import warnings
from pathlib import Path

SEEDS = tuple(range(101, 111))
Q2, Q3 = "2026-06-30", "2026-09-30"


def cache(fn):
    """``functools.cache`` keyed on the arguments as bound, defaults applied: ``published(s)``,
    ``published(s, Q3)`` and ``published(s, cutoff=Q3, bands=None)`` are one entry (one
    analysis per clinic, cut-off and definitions, whichever scenario asks first)."""
    sig = inspect.signature(fn)
    cached = functools.cache(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        return cached(*bound.args)

    return wrapper


def patients_of(seed: int) -> int:
    return 20 + 4 * (seed - SEEDS[0])  # 20, 24, ..., 56


@cache
def export(seed: int):
    """The loaded synthetic export of one clinic (generated in memory, loaded from CSV)."""
    import tempfile

    from outcomes.loader import load
    from outcomes.sample import generate_sample, write_export

    folder = Path(tempfile.mkdtemp(prefix=f"attack-{seed}-"))
    write_export(generate_sample(patients_of(seed), seed=seed), folder)
    return load(folder)


@cache
def analysis(seed: int, cutoff: str, bands: tuple | None = None):
    from outcomes.analysis import analyze
    from outcomes.definitions import Definitions

    defs = Definitions(age_bands=list(bands)) if bands else None
    with warnings.catch_warnings():
        # small clinics: OutcomesWarning on wide intervals; stats.funnel_limits casts NaN
        # (reported in /work/coord/attack-findings.md); neither is what this suite tests
        warnings.simplefilter("ignore")
        return analyze(export(seed), cutoff=cutoff, definitions=defs, model=False)


def _coder(seed: int):
    """A fixed practitioner coder per clinic (its key) when the package codes practitioners,
    else None."""
    try:
        from outcomes import disclosure
    except ImportError:
        return None
    coder = getattr(disclosure, "PractitionerCoder", None)
    return coder(f"attack-suite-{seed}".encode(), warn=False) if coder else None


@cache
def published(seed: int, cutoff: str = Q3, bands: tuple | None = None) -> dict | None:
    """The shareable results dict (cached: callers must not modify it); None when shareable
    output refuses these definitions or this cut-off."""
    from outcomes.errors import DefinitionsError

    from outcomes import disclosure
    from outcomes.definitions import Definitions

    try:  # the refusal reads only the definitions and the cut-off: known before analysing
        disclosure.check_shareable_definitions(
            Definitions(age_bands=list(bands)) if bands else Definitions(), cutoff=cutoff)
    except DefinitionsError:
        return None
    a, coder = analysis(seed, cutoff, bands), _coder(seed)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return a.to_dict(shareable=True, coder=coder) if coder else a.to_dict(shareable=True)
    except DefinitionsError:
        return None


def _coded(d: dict, coder) -> dict:
    """Practitioner ids replaced by their codes (so the truth lines up with published rows)."""
    if coder is None:
        return d
    d = dict(d)
    d["funnel"] = [{**r, "practitioner_id": coder.code(r["practitioner_id"])}
                   for r in d.get("funnel", [])]
    d["strata"] = [{**r, "level": coder.code(r["level"])} if r.get("stratum") == "practitioner"
                   else r for r in d.get("strata", [])]
    return d


@cache
def exact(seed: int, cutoff: str = Q3, bands: tuple | None = None) -> dict:
    """The exact results dict: the truth (cached: callers must not modify it); practitioners
    as the codes the shareable output uses."""
    return _coded(analysis(seed, cutoff, bands).to_dict(), _coder(seed))


@cache
def pooling_file(seed: int, cutoff: str = Q3) -> dict:
    """What a clinic sends for pooling (``pooling_dict`` once the disclosure pass exists, the
    exact results dict before): exact counts. Also the participant's own file."""
    a, coder = analysis(seed, cutoff), _coder(seed)
    if hasattr(a, "pooling_dict"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return a.pooling_dict(coder=coder)
    return exact(seed, cutoff)


def label(seed: int) -> str:
    return f"clinic{seed}"


@cache
def pooled(seeds: tuple) -> dict:
    from outcomes.pooling import pool_results

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pool_results([pooling_file(s) for s in seeds],
                            labels=[label(s) for s in seeds], shareable=True)


BANDS_A, BANDS_B = (18, 45, 101), (18, 46, 101)
#: two reports under different definitions: one year apart (the issue's attack), and one
#: decade apart (allowed by a policy that refuses one-year cut-points)
DEF_PAIRS = ((BANDS_A, BANDS_B), ((18, 40, 101), (18, 50, 101)))
DEF_SEEDS = (101, 102, 103)


def run_all(out=sys.stdout) -> dict:
    """Every scenario; prints and returns {scenario: (pinned, targets)}."""
    import attack_lp as A

    figures = {}

    def report(name, prog, targets):
        prog.check_truth()
        r = A.bounds(prog, targets)
        figures[name] = (len(r.pinned), len(r.targets), r.pinned)
        print(f"{name:<40} {r.summary()}", file=out)

    for s in SEEDS:
        report(f"single {s} {Q3}", *A.single(published(s), exact(s)))
    for s in SEEDS:
        report(f"quarters {s} {Q2}->{Q3}", *A.quarters(published(s, Q2), exact(s, Q2),
                                                      published(s), exact(s)))
    for ba, bb in DEF_PAIRS:
        for s in DEF_SEEDS:
            pa, pb = published(s, Q3, ba), published(s, Q3, bb)
            if pa is None or pb is None:
                print(f"definitions {s} {ba} vs {bb}: refused in shareable mode", file=out)
                continue
            report(f"definitions {s} {ba} vs {bb}",
                   *A.definitions_pair(pa, exact(s, Q3, ba), pb, exact(s, Q3, bb)))
    for seeds in ((101, 102), (101, 102, 103)):
        report(f"pooled {seeds} + own file of {seeds[0]}",
               *A.pooled(pooled(seeds), label(seeds[0]), pooling_file(seeds[0]),
                         {label(s): pooling_file(s) for s in seeds[1:]}))
    tot = [sum(v[i] for k, v in figures.items() if k.startswith(p)) for p in
           ("single", "quarters", "definitions", "pooled") for i in (0, 1)]
    print(f"TOTAL single {tot[0]}/{tot[1]}, quarters {tot[2]}/{tot[3]}, definitions "
          f"{tot[4]}/{tot[5]}, pooled {tot[6]}/{tot[7]} ({dt.datetime.now():%H:%M})", file=out)
    return figures


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    run_all()


def exact_html_frames(seed: int, cutoff: str = Q3, bands: tuple | None = None) -> dict:
    """The true Table 1 and load counts (exact ``table_one`` and load report), results shape."""
    import attack_lp as A

    from outcomes.tables import table_one

    a = analysis(seed, cutoff, bands)
    t1 = table_one(a.cohort)
    html = "<table><tr><th>Characteristic</th><th>Level</th><th>Value</th></tr>" + "".join(
        f"<tr><td>{r.iloc[0]}</td><td>{r.iloc[1]}</td><td>{r.iloc[2]}</td></tr>"
        for _, r in t1.iterrows()) + "</table>"
    frames = A.html_frames({"t1": html})
    frames["load"] = [{"table": r.table, "read": int(r.read), "accepted": int(r.accepted),
                       "quarantined": int(r.quarantined)}
                      for r in a.load_report.counts.itertuples(index=False)]
    return frames


def shareable_pages(seed: int, cutoff: str = Q3, bands: tuple | None = None) -> dict:
    """The shareable report's published tables of one clinic: {page: HTML} of the sections
    that publish Table 1 and the load counts (``sections.patients`` on the audit page,
    ``sections.load_counts`` on the data-quality page), rendered in-process from the report
    context as ``outcomes report --shareable`` builds it (same analysis, same disclosure pass),
    and its results.json under ``"results.json"``. ``test_sections`` checks that these sections'
    tables are what the executed report pages show. The sections' figures are not drawn (an
    empty string in place of each ``<img>``): the attack reads the pages' tables only, and a PNG
    carries no text it could parse (``test_walk_shareable`` walks the figures' SVG text)."""
    import json
    from unittest import mock

    from outcomes import disclosure, sections
    from outcomes.reporting import ReportContext

    a = analysis(seed, cutoff, bands)
    disclosure.check_shareable_definitions(a.definitions, cutoff=a.cutoff)
    ctx = ReportContext(analysis=a, export=export(seed), shareable=True,
                        min_cell=int(a.definitions.min_cell), coder=_coder(seed),
                        run_time=dt.datetime(2026, 10, 1, tzinfo=dt.UTC))
    with warnings.catch_warnings(), mock.patch.object(sections, "_drawn", lambda *a, **k: ""):
        warnings.simplefilter("ignore")
        return {"index.html": sections.patients(ctx).html,
                "01-data-quality.html": sections.load_counts(ctx).html,
                "results.json": json.dumps(published(seed, cutoff, bands), default=str)}
