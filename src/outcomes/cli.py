"""The ``outcomes`` command: argument parsing and dispatch only.

Each sub-command's work lives in the module that owns its step (``load``, ``sample``,
``analysis``, ``report``, ``pool``), imported only when that sub-command runs so that
``outcomes --help`` is instant. Any :class:`~outcomes.errors.OutcomesError` becomes one short
message on stderr and exit status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys
from importlib import import_module

__all__ = ["main"]

# sub-command -> (module, function); the function takes the parsed args and returns an exit code
_COMMANDS = {
    "validate": ("outcomes.loader", "cli_validate"),
    "sample": ("outcomes.sample", "cli_sample"),
    "analyze": ("outcomes.analysis", "cli_analyze"),
    "report": ("outcomes.reporting", "cli_report"),
    "pool": ("outcomes.pool_report", "cli_pool"),
    "template": ("outcomes.template", "cli_template"),
    "mapping": ("outcomes.assistant", "cli_mapping"),
}


def _add_load_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help="the export: a folder of CSV/Parquet files or one .xlsx workbook")
    p.add_argument("--date-format", choices=["ISO", "DMY", "MDY"], default="ISO",
                   help="how dates are written when not YYYY-MM-DD (default ISO)")
    p.add_argument("--decimal-comma", action="store_true",
                   help="numbers use a decimal comma (European exports, ';'-separated)")
    p.add_argument("--mapping", metavar="FILE",
                   help="a mapping file for column names that differ from the contract")


def _add_analysis_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cutoff", metavar="YYYY-MM-DD",
                   help="last day the analysis may see (default: today)")
    p.add_argument("--definitions", metavar="FILE",
                   help="a TOML file changing the default outcome definitions")


def _add_key_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--key-file", metavar="FILE",
                   help="the clinic's secret key for practitioner codes (default: "
                        "$OUTCOMES_CLINIC_KEY; without one, codes are random for this run)")


def build_parser() -> argparse.ArgumentParser:
    from outcomes import __version__

    parser = argparse.ArgumentParser(
        prog="outcomes",
        description="Audit a clinic's dutasteride mesotherapy outcomes against the published "
                    "figures.",
    )
    parser.add_argument("--version", action="version", version=f"outcomes {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("validate", help="load an export, check every row, summarise the load")
    _add_load_options(p)
    p.add_argument("--json", action="store_true", help="print the load report as JSON on stdout")
    p.add_argument("--strict", action="store_true", help="exit 1 when any row was quarantined")

    p = sub.add_parser("sample", help="write a synthetic, conformant export")
    p.add_argument("--patients", type=int, default=300, help="number of patients (default 300)")
    p.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the export to")
    p.add_argument("--format", choices=["csv", "parquet", "xlsx"], default="csv",
                   help="file format (default csv)")

    p = sub.add_parser("analyze", help="compute outcomes against the published benchmarks")
    _add_load_options(p)
    _add_analysis_options(p)
    p.add_argument("--no-model", action="store_true", help="skip the density mixed model")
    p.add_argument("--json", metavar="FILE|-", help="write the results as JSON to FILE or stdout")
    p.add_argument("--pooling-file", metavar="FILE",
                   help="write the file to send to a pooling network (exact counts, "
                        "practitioners as codes; see docs/disclosure-control.md)")
    _add_key_option(p)

    p = sub.add_parser("report", help="write the quarterly audit report (HTML) and results.json")
    _add_load_options(p)
    p.add_argument("--quarter", metavar="YYYYQn", help="the quarter audited, e.g. 2026Q3; "
                   "the cut-off is its last day")
    p.add_argument("--cutoff", metavar="YYYY-MM-DD", help="cut-off, instead of --quarter")
    p.add_argument("--definitions", metavar="FILE",
                   help="a TOML file changing the default outcome definitions")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the report to")
    p.add_argument("--shareable", action="store_true",
                   help="disclosure-controlled: no patient row, pseudonym or date; counts 1-4 "
                        "shown as <5, others rounded to 5; practitioners as codes")
    _add_key_option(p)
    p.add_argument("--previous", nargs="+", metavar="RESULTS.json",
                   help="earlier quarters' results files (analyze --json, or an internal "
                   "report's results.json): the re-audit against them")
    p.add_argument("--standards", metavar="FILE",
                   help="audit standards (TOML) with targets; default: the protocol's")
    p.add_argument("--actions", metavar="FILE",
                   help="the action plan (CSV or TOML: action, owner, due, status, raised)")
    p.add_argument("--pdf", action="store_true",
                   help="also write the audit page as an A4 PDF (report.pdf) to circulate; "
                   "needs the Pango library (see the README)")
    p.add_argument("--force", action="store_true",
                   help="write into --out even when it holds files that are not an earlier "
                   "report (they are left alone; the report's own files are replaced)")

    p = sub.add_parser("pool", help="pool several clinics' pooling files "
                       "(outcomes analyze --pooling-file)")
    p.add_argument("results", nargs="+", metavar="RESULTS.json")
    p.add_argument("--json", metavar="FILE|-", help="write the pooled results as JSON")
    p.add_argument("--out", metavar="DIR", help="write a pooled HTML report to DIR")

    p = sub.add_parser("template", help="write an empty capture workbook (and/or a REDCap data "
                                        "dictionary) of the data contract")
    p.add_argument("--out", metavar="FILE.xlsx", help="the Excel workbook to create")
    p.add_argument("--redcap", metavar="FILE.csv",
                   help="a REDCap data dictionary (CSV) of the same four instruments to create")

    p = sub.add_parser("mapping", help="read an export and propose a mapping file for it "
                                       "(guesses marked, TODO lines to fill)")
    p.add_argument("data", help="the export: a folder of CSV/Parquet files or one .xlsx workbook")
    p.add_argument("--out", required=True, metavar="FILE.toml",
                   help="the mapping file to create (never overwritten)")
    return parser


def _notes_as_lines(command: str) -> None:
    """Print the package's warnings as one plain line each (no file name, no line number)."""
    import warnings

    from outcomes.errors import OutcomesWarning

    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, OutcomesWarning):
            print(f"outcomes {command}: note: {message}", file=sys.stderr)
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show


#: sub-commands that load an export first: its CSV files are read ahead (outcomes.csvread)
_PREFETCH = ("validate", "analyze")

#: sub-commands after which the console script ends the process at once (:func:`_end_now`)
_END_NOW = (*_PREFETCH, "report", "pool")

#: sub-commands whose ``--out`` is a folder
_OUT_FOLDER = ("sample", "report", "pool")


def _out_is_file(args) -> str | None:
    """The one-line message when a folder ``--out`` names an existing file, else None."""
    from pathlib import Path

    out = getattr(args, "out", None) if args.command in _OUT_FOLDER else None
    if out and Path(out).exists() and not Path(out).is_dir():
        return (f"outcomes {args.command}: --out {out} is an existing file, not a folder; "
                "give a folder (new or empty) to write into.")
    return None


def main(argv: list[str] | None = None) -> int:
    """Run the ``outcomes`` command on ``argv`` (default: ``sys.argv``); returns the exit
    status. The console script is :func:`run`."""
    return _run(build_parser().parse_args(argv))


def run() -> None:
    """The ``outcomes`` console script (and ``python -m outcomes.cli``): :func:`main` on
    ``sys.argv``, then the process ends with its status; after ``analyze``, ``validate``,
    ``report`` and ``pool`` at once (:func:`_end_now`)."""
    args = build_parser().parse_args()
    status = _run(args)
    if args.command in _END_NOW:
        _end_now(status)
    sys.exit(status)


def _end_now(status: int) -> None:
    """End the process with ``status`` at once, skipping the interpreter's teardown: freeing
    the frames of a 100,000-patient export object by object at exit takes 0.1-0.2 s, and a
    report's modules (pandas, statsmodels, papermill, nbconvert, WeasyPrint) ~0.45 s; nothing
    is left to do (files written are closed, a report's kernel is shut down and its temporary
    folder removed before the command returns; stdout and stderr are flushed here).
    Not under a profiler, a tracer or coverage (which may measure through ``sys.monitoring``),
    which write their results at exit.
    """
    if sys.getprofile() is not None or sys.gettrace() is not None or "coverage" in sys.modules:
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)


def _run(args: argparse.Namespace) -> int:
    """The sub-command of parsed ``args``; returns the exit status."""
    from outcomes.errors import OutcomesError

    module, func = _COMMANDS[args.command]
    message = _out_is_file(args)
    if message:
        print(message, file=sys.stderr)
        return 2
    _notes_as_lines(args.command)
    if args.command in _PREFETCH:
        from outcomes.csvread import prefetch

        prefetch(args.data)            # the export's CSV files are read while pandas is imported
    try:
        status = int(getattr(import_module(module), func)(args) or 0)
        sys.stdout.flush()  # inside the try: a closed pipe surfaces here, not at interpreter exit
        return status
    except OutcomesError as err:
        print(f"outcomes {args.command}: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("outcomes: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading: not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        if args.command in _PREFETCH:
            from outcomes.csvread import discard

            discard()                  # what was read ahead and not used (an early stop)


if __name__ == "__main__":  # pragma: no cover
    run()
