"""outcomes: audit a clinic's dutasteride mesotherapy results against the published figures.

The data flow one way::

    files -> load/validate -> clean tables -> per-patient cohort -> metrics
          -> figures/tables -> notebooks/report

In a notebook::

    import outcomes as oc
    export = oc.load("path/to/export")          # or oc.sample_path() for the bundled sample
    a = oc.analyze(export, cutoff="2026-09-30")  # an Analysis: tidy DataFrames, one per metric
    a                                            # a short summary (text, or HTML in Jupyter)
    a.response                                   # improved / dramatic rates against the studies
    oc.report(export_path, "reports", quarter="2026Q3")  # the HTML audit report

The public API (each documented with ``help(oc.NAME)``):

load(path, ...) -> Export
    Read and validate an export (CSV, Excel, Parquet); rows set aside are in ``export.report``.
analyze(export, *, cutoff, definitions, model) -> Analysis
    Every metric of an export at a cut-off.
report(data, out, *, quarter, shareable, ...) -> list of paths
    The quarterly audit report (HTML, results.json; ``pdf=True`` for A4), as ``outcomes report``.
pool(files, *, out) -> dict
    Several clinics' pooling files pooled, with a random-effects meta-analysis, as
    ``outcomes pool``.
Definitions
    Every threshold and window (``Definitions.from_toml(path)`` to change them).
generate_sample(patients, seed) / sample_path()
    A synthetic export, or the bundled 300-patient sample.
published_figures()
    The published figures the clinic is compared with, with their sources.
Export, LoadReport, Analysis
    The frozen dataclasses the functions above return.
OutcomesError, LoadError, OutcomesWarning
    What the package raises (an error names the file, row, column and the fix).

The public API is imported lazily, so that ``outcomes --help`` starts instantly.
"""
from __future__ import annotations

from importlib import import_module

__version__ = "0.1.0"

# name -> module that owns it
_API = {
    "load": "outcomes.loader",
    "Export": "outcomes.loader",
    "LoadReport": "outcomes.loader",
    "generate_sample": "outcomes.sample",
    "sample_path": "outcomes.sample",
    "analyze": "outcomes.analysis",
    "report": "outcomes.reporting",
    "pool": "outcomes.pooling",
    "Analysis": "outcomes.analysis",
    "Definitions": "outcomes.definitions",
    "published_figures": "outcomes.registry",
    "OutcomesError": "outcomes.errors",
    "LoadError": "outcomes.errors",
    "OutcomesWarning": "outcomes.errors",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        return getattr(import_module(_API[name]), name)
    raise AttributeError(f"module 'outcomes' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public API (what tab completion offers) and the module's dunder names."""
    return sorted(set(__all__) | {n for n in globals() if n.startswith("__")})
