"""outcomes: audit a clinic's dutasteride mesotherapy results against the published figures.

The data flow one way::

    files -> load/validate -> clean tables -> per-patient cohort -> metrics
          -> figures/tables -> notebooks/report

The public API is re-exported here lazily, so that ``outcomes --help`` starts instantly.
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
    "Analysis": "outcomes.analysis",
    "Definitions": "outcomes.definitions",
    "published_figures": "outcomes.registry",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str):
    if name in _API:
        return getattr(import_module(_API[name]), name)
    raise AttributeError(f"module 'outcomes' has no attribute {name!r}")
