"""The public loader: ``load()`` -> :class:`Export` (clean tables + :class:`LoadReport`).

``load`` reads an export (:mod:`outcomes.read`), checks every contract rule
(:mod:`outcomes.validate`) and returns the accepted rows as clean tables with a report that
accounts for every row read. ``cli_validate`` is the ``outcomes validate`` command.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from outcomes.contract import CLEAN_COLUMNS, COLUMNS, TABLES
from outcomes.errors import LoadError
from outcomes.read import read_export
from outcomes.validate import validate

__all__ = ["load", "Export", "LoadReport", "cli_validate", "format_summary"]


def _empty_frame(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


@dataclass(frozen=True)
class LoadReport:
    """What happened to every row of a load.

    Attributes
    ----------
    counts : DataFrame
        One row per table: ``table``, ``file`` (str, "" if absent), ``present`` (bool),
        ``read``, ``accepted``, ``quarantined`` (int); ``read == accepted + quarantined``.
    quarantine : DataFrame
        ``table, row, column, value, rule``: one row per broken rule; ``row`` is the
        spreadsheet row number (header = row 1). Patient-level: do not share.
    other_terms : tuple of str
        Adverse-event terms as written that were kept as ``other`` (unique, sorted).
    extra_columns : dict
        Table -> tuple of headers outside the contract (kept aside, never used).
    files : DataFrame
        ``table, path, sha256, bytes``: provenance of the files read.
    notes : tuple of str
        E.g. ``"adverse_events: no file; no adverse events analysed."``.
    absent_columns : dict
        Table -> tuple of contract columns the export does not hold (the table is present);
        their values count as not recorded.
    unmapped_terms : DataFrame
        ``term_as_written, events``: each term kept as ``other`` with its number of accepted
        events, most first (map them under ``[terms]`` in the mapping file).
    """

    counts: pd.DataFrame
    quarantine: pd.DataFrame
    other_terms: tuple = ()
    extra_columns: dict = field(default_factory=dict)
    files: pd.DataFrame = field(default_factory=lambda: _empty_frame(
        ("table", "path", "sha256", "bytes")))
    notes: tuple = ()
    absent_columns: dict = field(default_factory=dict)
    unmapped_terms: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {"term_as_written": pd.Series(dtype="string"), "events": pd.Series(dtype="int64")}))

    def to_dict(self) -> dict:
        """JSON-able dict: ``tables``, ``quarantine``, ``other_terms``, ``unmapped_terms``,
        ``absent_columns``, ``extra_columns``, ``notes``, ``files``."""
        tables = {r.table: {"file": r.file, "present": bool(r.present), "read": int(r.read),
                            "accepted": int(r.accepted), "quarantined": int(r.quarantined)}
                  for r in self.counts.itertuples(index=False)}
        q = self.quarantine
        quarantine = [{"table": str(t), "row": int(r), "column": str(c), "value": str(v),
                       "rule": str(u)} for t, r, c, v, u in
                      zip(q["table"], q["row"], q["column"], q["value"], q["rule"])]
        files = [{"table": str(t), "path": str(p), "sha256": str(h), "bytes": int(b)}
                 for t, p, h, b in zip(self.files["table"], self.files["path"],
                                       self.files["sha256"], self.files["bytes"])]
        unmapped = [{"term_as_written": str(t), "events": int(n)} for t, n in
                    zip(self.unmapped_terms["term_as_written"], self.unmapped_terms["events"])]
        return {"tables": tables, "quarantine": quarantine,
                "other_terms": list(self.other_terms), "unmapped_terms": unmapped,
                "absent_columns": {k: list(v) for k, v in self.absent_columns.items()},
                "extra_columns": {k: list(v) for k, v in self.extra_columns.items()},
                "notes": list(self.notes), "files": files}

    @property
    def n_quarantined(self) -> int:
        """Rows quarantined, all tables together."""
        return int(self.counts["quarantined"].sum())


@dataclass(frozen=True)
class Export:
    """A loaded export: the four clean tables (accepted rows only) and the load report.

    Columns and dtypes are those of docs/architecture.md; an absent table is an empty frame
    with its columns.
    """

    patients: pd.DataFrame
    sessions: pd.DataFrame
    measurements: pd.DataFrame
    adverse_events: pd.DataFrame
    report: LoadReport
    #: the ids coded once by the loader (see :attr:`outcomes.validate.Validated.keys`)
    keys: dict | None = field(default=None, repr=False)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The four clean tables by name."""
        return {t: getattr(self, t) for t in TABLES}


def load(path: str | Path, *, date_format: str = "ISO", decimal_comma: bool = False,
         mapping: str | Path | None = None, today: dt.date | None = None) -> Export:
    """Load a clinic export, checking every row against the data contract.

    Parameters
    ----------
    path : str or Path
        A folder of ``patients``, ``sessions``, ``measurements``, ``adverse_events`` files
        (``.csv`` or ``.parquet``) or one ``.xlsx`` workbook with one sheet per table.
    date_format : {"ISO", "DMY", "MDY"}
        How dates are written when not ``YYYY-MM-DD`` (default ``"ISO"``: a day/month/year
        date then stops the load and names the option to use).
    decimal_comma : bool
        Numbers use a decimal comma (European exports).
    mapping : str or Path, optional
        TOML mapping file: sheets, headers, coded values and adverse-event terms of the
        export -> the contract (see :mod:`outcomes.recognise` and docs/data-dictionary.md).
    today : datetime.date, optional
        Dates after this day count as future dates (default: today's date).

    Returns
    -------
    Export
        Clean tables (accepted rows) and the :class:`LoadReport`.

    Raises
    ------
    outcomes.errors.LoadError
        A whole-file problem; its message names the file, the column and the fix.

    Examples
    --------
    >>> from outcomes import load, sample_path          # doctest: +SKIP
    >>> export = load(sample_path())                    # doctest: +SKIP
    >>> export.report.counts                            # doctest: +SKIP
    """
    raw = read_export(path, mapping=mapping)
    try:
        checked = validate(raw.tables, date_format=date_format, decimal_comma=decimal_comma,
                           today=today)
    except LoadError:
        raise
    except Exception as err:  # noqa: BLE001 - bad data must never end in a traceback
        raise LoadError(f"{path}: the export could not be checked "
                        f"({type(err).__name__}: {err}).",
                        fix="Please report this to the outcomes maintainers with this message; "
                            "meanwhile check the export against docs/data-dictionary.md.",
                        file=str(path)) from err
    counts = checked.counts.copy()
    counts.insert(1, "file", [raw.tables[t].file for t in counts["table"]])
    counts.insert(2, "present", [bool(raw.tables[t].present) for t in counts["table"]])
    extra = {t: tuple(raw.tables[t].extra_columns) for t in TABLES
             if raw.tables[t].extra_columns}
    absent = {t: tuple(c.name for c in COLUMNS[t] if c.name not in raw.tables[t].written)
              for t in TABLES if raw.tables[t].present}
    absent = {t: cols for t, cols in absent.items() if cols}
    report = LoadReport(counts=counts, quarantine=checked.quarantine,
                        other_terms=checked.other_terms, extra_columns=extra,
                        files=raw.files, notes=raw.notes,
                        unmapped_terms=checked.unmapped_terms, absent_columns=absent)
    tables = {t: checked.tables[t] if tuple(checked.tables[t].columns) == CLEAN_COLUMNS[t]
              else checked.tables[t][list(CLEAN_COLUMNS[t])] for t in TABLES}
    return Export(**tables, report=report, keys=checked.keys)


# ------------------------------------------------------------------------------ CLI
def format_summary(report: LoadReport, *, limit: int = 20) -> str:
    """The readable load summary ``outcomes validate`` prints.

    Shows rows read/accepted/quarantined per table, the first ``limit`` quarantine rows with
    their rule and how many more there are, unmapped event terms, extra columns and notes.
    Quarantine rows hold patient-level values: the summary is for the clinic, not to share.
    """
    lines = ["Load summary", ""]
    c = report.counts
    width = max(len("table"), *(len(t) for t in c["table"]))
    lines.append(f"  {'table':<{width}}  {'read':>9}  {'accepted':>9}  {'quarantined':>11}  file")
    for r in c.itertuples(index=False):
        lines.append(f"  {r.table:<{width}}  {r.read:>9}  {r.accepted:>9}  "
                     f"{r.quarantined:>11}  {r.file or '(absent)'}")
    q = report.quarantine
    lines.append("")
    if len(q):
        lines.append(f"Quarantined ({report.n_quarantined} rows, {len(q)} broken rules):")
        for r in q.head(limit).itertuples(index=False):
            lines.append(f"  {r.table} row {r.row}, {r.column} = {r.value!r}: {r.rule}")
        if len(q) > limit:
            lines.append(f"  ... and {len(q) - limit} more (use --json for all of them)")
    else:
        lines.append("Nothing quarantined.")
    if report.other_terms:
        u = report.unmapped_terms
        lines += ["", "Adverse-event terms kept as 'other' (not in the vocabulary; map them "
                  "under [terms] in the mapping file), with their events:"]
        lines += [f"  {t!r}: {n}" for t, n in zip(u["term_as_written"], u["events"])]
    if report.absent_columns:
        lines += ["", "Optional columns not in the export (their values count as not recorded):"]
        lines += [f"  {t}: {', '.join(cols)}" for t, cols in report.absent_columns.items()]
    if report.extra_columns:
        lines += ["", "Columns outside the contract (kept aside, not used):"]
        lines += [f"  {t}: {', '.join(cols)}" for t, cols in report.extra_columns.items()]
    if report.notes:
        lines += ["", "Notes:"] + [f"  {n}" for n in report.notes]
    return "\n".join(lines)


def cli_validate(args) -> int:
    """``outcomes validate``: load, print the summary (or ``--json``), return the exit code.

    0 when the load completed; 1 with ``--strict`` when any row was quarantined. A
    :class:`~outcomes.errors.LoadError` propagates (the CLI prints it and exits 2).
    """
    export = load(args.data, date_format=args.date_format, decimal_comma=args.decimal_comma,
                  mapping=args.mapping)
    report = export.report
    text = (json.dumps(report.to_dict(), indent=2, ensure_ascii=False) if args.json
            else format_summary(report))
    print(text)  # a closed pipe (`| head`) is handled once, in outcomes.cli
    return 1 if args.strict and report.n_quarantined else 0

