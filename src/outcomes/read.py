"""Files -> raw tables of text: formats, encodings, delimiters, header mapping, identifier guard.

Every cell is read as text (nothing is guessed from the data); :mod:`outcomes.validate` parses
the text. Whole-file problems raise :class:`~outcomes.errors.LoadError` naming the file, the
column and the fix; any other failure while reading a file is turned into one too.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import re
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from outcomes.contract import (COLUMNS, NULL_SPELLINGS, REQUIRED_TABLES, TABLES,
                               identifier_reason, looks_like_contact, normalise_name)
from outcomes.errors import LoadError

__all__ = ["RawTable", "RawExport", "read_export", "read_mapping", "CSV_SUFFIXES",
           "PARQUET_SUFFIXES", "EXCEL_SUFFIXES"]

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
_DELIMITERS = (",", ";", "\t")
_NON_SPACE = re.compile(rb"\S")    # what bytes.strip() keeps: found without copying the file
# files in an export folder worth a note when they are not read
_DATA_SUFFIXES = CSV_SUFFIXES + PARQUET_SUFFIXES + EXCEL_SUFFIXES + (".xls", ".ods", ".json")

def _case_variants(word: str) -> set[str]:
    out = {""}
    for ch in word:
        out = {o + v for o in out for v in {ch.lower(), ch.upper()}}
    return out


# every upper/lower-case variant, so that no lower-casing of whole columns is needed
_NULLS = pa.array(sorted(set().union(*(_case_variants(w) for w in NULL_SPELLINGS))),
                  pa.large_string())


@dataclass(frozen=True)
class RawTable:
    """One table as read, before any rule is checked.

    Attributes
    ----------
    name : str
        Contract table name.
    file : str
        Where it came from (``"patients.csv"`` path, or ``"book.xlsx, sheet patients"``);
        ``""`` when absent.
    frame : pandas.DataFrame
        The contract columns found (contract names), ``string`` dtype, trimmed, missing as NA.
        Wholly blank rows are left out. Index: RangeIndex.
    rows : numpy.ndarray of int
        Spreadsheet row number of each frame row (the header is row 1).
    written : dict
        Contract column name -> the header as written in the file.
    extra_columns : tuple of str
        Headers outside the contract (as written), never used.
    present : bool
        Whether the export holds this table.
    """

    name: str
    file: str = ""
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    written: dict = field(default_factory=dict)
    extra_columns: tuple = ()
    present: bool = False


@dataclass(frozen=True)
class RawExport:
    """The four raw tables and the provenance of the files read.

    ``files`` has columns ``table, path, sha256, bytes``.
    """

    tables: dict
    files: pd.DataFrame
    notes: tuple = ()


# --------------------------------------------------------------------------------------------
def read_mapping(path: str | Path | None) -> dict[str, dict[str, str]]:
    """Read a column-mapping file (TOML).

    Top-level keys apply to every table; a ``[patients]`` (etc.) section applies to one::

        "Patient Code" = "patient_id"
        [sessions]
        "Visit date" = "session_date"

    Returns
    -------
    dict
        ``{"*" or table: {normalised header: contract column}}``.
    """
    if path is None:
        return {}
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise LoadError(f"mapping file {path} not found.",
                        fix="Give the path of an existing mapping file.", file=str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as err:
        raise LoadError(f"mapping file {path} is not valid TOML ({err}).",
                        fix='Write one line per column: "Header in export" = "contract_name".',
                        file=str(path)) from err
    known = {c.name for cols in COLUMNS.values() for c in cols}
    out: dict[str, dict[str, str]] = {"*": {}}
    for key, value in raw.items():
        if isinstance(value, dict):
            table = normalise_name(key)
            if table not in TABLES:
                raise LoadError(f"mapping file {path}: section [{key}] is not a table.",
                                fix=f"Use one of {', '.join(TABLES)}.", file=str(path))
            items, section = list(value.items()), out.setdefault(table, {})
        else:
            items, section = [(key, value)], out["*"]
        for header, target in items:
            target_name = normalise_name(target) if isinstance(target, str) else ""
            if target_name not in known:
                raise LoadError(f"mapping file {path}: {header!r} maps to {target!r}, "
                                "which is not a contract column.",
                                fix="Map it to a column of docs/data-dictionary.md.",
                                file=str(path), column=str(header))
            section[normalise_name(header)] = target_name
    return out


# --------------------------------------------------------------------------------------------
def _fail_unreadable(label: str, err: Exception) -> LoadError:
    return LoadError(f"{label} could not be read ({type(err).__name__}).",
                     fix="Export the table again as CSV (UTF-8), Parquet or an .xlsx sheet.",
                     file=label)


def _csv_table(path: Path) -> tuple[list[str], pa.Table]:
    """Read a delimited text file as all-text columns; returns (headers, table)."""
    data = path.read_bytes()
    label = str(path)
    if _NON_SPACE.search(data) is None:                    # no copy of the file (strip())
        raise LoadError(f"{label} is empty.",
                        fix="Export the table again, with its header row.", file=label)
    if b"\x00" in data[:65536]:
        raise LoadError(f"{label} is not a text file (binary content, or UTF-16).",
                        fix="Save it as CSV UTF-8 (or Windows-1252), Parquet or .xlsx.",
                        file=label)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        if not data.isascii():                             # ASCII is UTF-8: skip the decode
            data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            data = data.decode("cp1252").encode("utf-8")
        except UnicodeDecodeError:
            raise LoadError(f"{label} is neither UTF-8 nor Windows-1252 text.",
                            fix="Save it as CSV UTF-8.", file=label) from None
    nl = data.find(b"\n")
    first = (data if nl < 0 else data[:nl]).decode("utf-8").rstrip("\r")
    delimiter = max(_DELIMITERS, key=first.count) if any(d in first for d in _DELIMITERS) \
        else ","
    headers = next(csv.reader([first], delimiter=delimiter))
    names = [f"c{i}" for i in range(len(headers))]
    if nl < 0 or _NON_SPACE.search(data, nl + 1) is None:  # a header and nothing else
        return headers, pa.table({n: pa.array([], pa.string()) for n in names})
    bad: list[int | None] = []

    def on_invalid(row) -> str:
        bad.append(row.number)
        return "skip"

    table = pacsv.read_csv(
        pa.BufferReader(data),
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                          invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(column_types={n: pa.large_string() for n in names},
                                             strings_can_be_null=False),
    )
    if bad:
        where = f" (first at line {bad[0]})" if bad[0] is not None else ""
        raise LoadError(f"{label}: {len(bad)} line(s) do not have the {len(headers)} fields "
                        f"of the header{where}.",
                        fix=f"Check for a stray {delimiter!r} or quote in those lines.",
                        file=label)
    return headers, table


def _to_text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Any Arrow column -> text (dates as YYYY-MM-DD, numbers as written by Arrow)."""
    t = col.type
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
        t = col.type
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        # strftime is slow (about 0.7 us a value) and a date column repeats a few thousand
        # days: format each distinct second once and spread the text back (same output)
        seconds = col.cast(pa.timestamp("s"))
        days = pc.unique(seconds)
        text = pc.strftime(days, format="%Y-%m-%d")
        return pc.take(text, pc.index_in(seconds, value_set=days))
    return col.cast(pa.string())


def _parquet_table(path: Path) -> tuple[list[str], pa.Table]:
    table = pq.read_table(path)
    headers = [str(n) for n in table.column_names]
    cols = [_to_text(table.column(i)) for i in range(table.num_columns)]
    return headers, pa.table(cols, names=[f"c{i}" for i in range(len(cols))])


def _excel_tables(path: Path) -> dict[str, tuple[str, list[str], pa.Table]]:
    """Every sheet of a workbook named after a table -> (label, headers, table)."""
    sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object)
    out = {}
    for sheet, df in sheets.items():
        table = normalise_name(sheet)
        if table not in TABLES:
            continue
        label = f"{path}, sheet {sheet}"
        if df.shape[0] == 0:
            raise LoadError(f"{label} is empty.", fix="Put the header row in row 1.",
                            file=label)
        headers = ["" if pd.isna(h) else str(h) for h in df.iloc[0]]
        body = df.iloc[1:]
        cols = []
        for j in range(body.shape[1]):
            v = body.iloc[:, j]
            v = v.map(_excel_cell, na_action="ignore")
            cols.append(pa.array(v.astype(object).where(v.notna(), None).tolist(),
                                 type=pa.string()))
        out[table] = (label, headers, pa.table(cols, names=[f"c{i}" for i in range(len(cols))]))
    return out


def _excel_cell(v: object) -> str:
    """A workbook cell -> text: dates as YYYY-MM-DD, whole floats without '.0'."""
    if isinstance(v, pd.Timestamp) or hasattr(v, "strftime"):
        return v.strftime("%Y-%m-%d") if not (getattr(v, "hour", 0) or getattr(v, "minute", 0)) \
            else v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# --------------------------------------------------------------------------------------------
def _clean_text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Trim; the spellings of 'no value' become null."""
    # large_string: what pandas' Arrow-backed ``string`` dtype holds (no cast in to_pandas)
    col = pc.utf8_trim_whitespace(col.cast(pa.large_string()))
    is_null = pc.is_in(col, value_set=_NULLS)
    if not pc.any(is_null).as_py():
        return col
    return pc.if_else(is_null, pa.scalar(None, pa.large_string()), col)


def _resolve(name: str, label: str, headers: list[str], table: pa.Table,
             mapping: dict[str, dict[str, str]]) -> RawTable:
    """Map headers to the contract, guard identifiers, keep the contract columns as text."""
    contract = {c.name: c for c in COLUMNS[name]}
    maps = {**mapping.get("*", {}), **mapping.get(name, {})}
    cleaned = [_clean_text(table.column(i)) for i in range(table.num_columns)]
    keep: dict[str, int] = {}
    written: dict[str, str] = {}
    extra: list[str] = []
    for i, header in enumerate(headers):
        norm = normalise_name(header)
        if not norm and cleaned[i].null_count == len(cleaned[i]):
            continue                                      # an empty trailing column
        if norm not in contract:
            reason = identifier_reason(header)
            if reason:
                raise LoadError(
                    f"{label}: column {header!r} looks like it holds {reason}, an identifier.",
                    fix="Remove the column from the export (the audit needs de-identified "
                        "data only), then load again.", file=label, column=header)
        target = maps.get(norm, norm)
        if target not in contract:
            extra.append(header if header.strip() else f"(unnamed column {i + 1})")
            continue
        if target in keep:
            raise LoadError(f"{label}: columns {written[target]!r} and {header!r} both give "
                            f"{target}.", fix="Keep one of them, or fix the mapping file.",
                            file=label, column=header)
        keep[target], written[target] = i, header
    missing = [c.name for c in COLUMNS[name] if c.required and c.name not in keep]
    if missing:
        raise LoadError(f"{label}: required column(s) missing: {', '.join(missing)}.",
                        fix="Add them, or map your own header to them with --mapping "
                            "(see docs/data-dictionary.md).", file=label, column=missing[0])
    n = table.num_rows
    if n:
        blank = pc.is_null(cleaned[0])
        for c in cleaned[1:]:
            blank = pc.and_(blank, pc.is_null(c))
        if pc.any(blank).as_py():
            keep_rows = pc.invert(blank)
            rows = np.flatnonzero(keep_rows.to_numpy(zero_copy_only=False)) + 2
            cols = {c: cleaned[i].filter(keep_rows) for c, i in keep.items()}
        else:                                             # no wholly blank row: no copy
            rows = np.arange(2, n + 2, dtype=np.int64)
            cols = {c: cleaned[i] for c, i in keep.items()}
    else:
        rows = np.zeros(0, dtype=np.int64)
        cols = {c: cleaned[i] for c, i in keep.items()}
    ordered = [c for c in contract if c in cols]
    as_string = {pa.large_string(): pd.StringDtype()}.get
    frame = pd.DataFrame({c: cols[c].to_pandas(types_mapper=as_string)
                          for c in ordered}) if ordered else pd.DataFrame()
    frame = frame.astype({c: "string" for c in ordered}).reset_index(drop=True)
    if "patient_id" in frame:
        bad = looks_like_contact(frame["patient_id"]).to_numpy()
        if bad.any():
            raise LoadError(
                f"{label}, column {written['patient_id']!r}: {int(bad.sum())} value(s) look "
                f"like e-mail addresses or phone/card numbers (first at row "
                f"{int(rows[bad.argmax()])}).",
                fix="Replace them with pseudonyms (e.g. P0001) and keep the key at the clinic.",
                file=label, column=written["patient_id"])
    return RawTable(name=name, file=label, frame=frame, rows=rows.astype(np.int64),
                    written=written, extra_columns=tuple(extra), present=True)


def _read_table(table: str, label: str, file: Path, sheet: tuple | None,
                mapping: dict[str, dict[str, str]]) -> RawTable:
    """Read and resolve one table (``sheet``: its already-read workbook sheet, if any)."""
    try:
        if sheet is not None:
            _, headers, arrow = sheet
        elif file.suffix.lower() in PARQUET_SUFFIXES:
            headers, arrow = _parquet_table(file)
        else:
            headers, arrow = _csv_table(file)
        return _resolve(table, label, headers, arrow, mapping)
    except LoadError:
        raise
    except Exception as err:  # noqa: BLE001 - any reader failure becomes a clear stop
        raise _fail_unreadable(label, err) from None


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _find_files(folder: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        suffix = p.suffix.lower()
        if not p.is_file() or suffix not in CSV_SUFFIXES + PARQUET_SUFFIXES:
            continue
        table = normalise_name(p.stem)
        if table in TABLES:
            if table in found:
                raise LoadError(f"{folder} holds two files for {table}: {found[table].name} "
                                f"and {p.name}.", fix="Keep one of them.", file=str(p))
            found[table] = p
    return found


def read_export(path: str | Path, *, mapping: str | Path | None = None) -> RawExport:
    """Read an export into raw text tables.

    Parameters
    ----------
    path : str or Path
        A folder holding ``patients.csv`` (or ``.parquet``), ``sessions``, ``measurements``,
        ``adverse_events``; or one ``.xlsx`` workbook with a sheet per table (a folder holding
        only one workbook also works).
    mapping : str or Path, optional
        A TOML mapping file (see :func:`read_mapping`).

    Returns
    -------
    RawExport

    Raises
    ------
    LoadError
        A whole-file problem: no such path, a required table or column missing, an
        identifier column, identifiers in ``patient_id``, an empty, binary or unreadable
        file, a header-only required table.
    """
    path = Path(path)
    maps = read_mapping(mapping)
    if not path.exists():
        raise LoadError(f"{path} does not exist.",
                        fix="Give the export folder or the .xlsx workbook.", file=str(path))
    sources: dict[str, tuple[str, Path, object]] = {}   # table -> (label, file, reader)
    ignored: list[str] = []
    if path.is_dir():
        files = _find_files(path)
        books = [p for p in path.iterdir() if p.suffix.lower() in EXCEL_SUFFIXES
                 and not p.name.startswith("~$")]
        if not files and len(books) == 1:
            path = books[0]
        else:
            for table, p in files.items():
                sources[table] = (str(p), p, None)
            used = set(files.values())
            ignored = sorted(p.name for p in path.iterdir() if p.is_file() and p not in used
                             and p.suffix.lower() in _DATA_SUFFIXES)
    elif path.suffix.lower() not in EXCEL_SUFFIXES:
        raise LoadError(f"{path} is one file; an export is a folder of tables or a workbook.",
                        fix="Give the folder that holds patients, sessions, ... files.",
                        file=str(path))
    excel: dict = {}
    if path.is_file():
        try:
            excel = _excel_tables(path)
        except LoadError:
            raise
        except Exception as err:  # noqa: BLE001 - any reader failure becomes a clear stop
            raise _fail_unreadable(str(path), err) from None
        for table, (label, _, _) in excel.items():
            sources[table] = (label, path, None)
    for table in REQUIRED_TABLES:
        if table not in sources:
            where = "sheet" if path.is_file() else "file"
            found = f" (found: {', '.join(ignored[:5])})" if ignored else ""
            raise LoadError(f"{path}: no {table} {where} (required){found}.",
                            fix=f"Add {table}.csv, {table}.parquet or a sheet named {table} "
                                "(.xls and .ods files: save them as .xlsx or CSV).",
                            file=str(path))
    tables: dict[str, RawTable] = {}
    notes: list[str] = [f"{name}: not a table of the contract; not read." for name in ignored]
    records = []
    # the tables are read two at a time: Arrow's parsing and compute release the GIL, and
    # results (and errors) are taken in table order, as if read one after the other
    pool = ThreadPoolExecutor(max_workers=2)
    try:
        futures = {table: pool.submit(_read_table, table, sources[table][0],
                                      sources[table][1], excel.get(table), maps)
                   for table in TABLES if table in sources}
        for table in TABLES:
            if table not in sources:
                tables[table] = RawTable(name=table, frame=pd.DataFrame(
                    {c.name: pd.Series(dtype="string") for c in COLUMNS[table]}))
                notes.append(f"{table}: no file; no {table.replace('_', ' ')} analysed.")
                continue
            label, file, _ = sources[table]
            raw = futures[table].result()
            if len(raw.frame) == 0:
                if table == "patients":       # nothing to audit: almost surely a failed export
                    raise LoadError(f"{label} has a header but no rows.",
                                    fix=f"Export {table} again with its rows ({table} is "
                                        "required).", file=label)
                notes.append(f"{table}: header only, no rows.")
            tables[table] = raw
            records.append({"table": table, "path": str(file), "sha256": "", "bytes": 0})
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    files = pd.DataFrame(records, columns=["table", "path", "sha256", "bytes"])
    digests = {p: (_sha256(Path(p)), Path(p).stat().st_size) for p in files["path"].unique()}
    files["sha256"] = files["path"].map(lambda p: digests[p][0]).astype(str)
    files["bytes"] = files["path"].map(lambda p: digests[p][1]).astype("int64")
    return RawExport(tables=tables, files=files, notes=tuple(notes))
