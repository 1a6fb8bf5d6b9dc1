"""Rendering pooled results: the pooled notebook into HTML, the JSON, ``outcomes pool``.

Everything here receives a pooled dict already built (and, for anything leaving the network,
already published under the disclosure-control policy) by :func:`outcomes.pooling.pool_results`.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from outcomes.errors import ResultsFileError

__all__ = ["POOLED_NOTEBOOK", "pooled_frames", "render_pooled_report", "write_pooled",
           "cli_pool"]

#: the bundled notebook that renders a pooled report
POOLED_NOTEBOOK = "90-pooled.ipynb"


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

    Reuses the report machinery (:func:`outcomes.reporting.find_kernel`,
    :func:`~outcomes.reporting.run_notebook`, :func:`~outcomes.reporting.notebook_html`): papermill
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

    from outcomes.reporting import find_kernel, notebook_html, run_notebook, \
        write_definitions_page

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
    write_definitions_page(out)
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
    from outcomes.pooling import pool_results

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
