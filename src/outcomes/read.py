"""Files -> raw tables of text: formats, encodings, delimiters, header mapping, identifier guard.

Every cell is read as text (nothing is guessed from the data); :mod:`outcomes.validate` parses
the text. Whole-file problems raise :class:`~outcomes.errors.LoadError` naming the file, the
column and the fix; any other failure while reading a file is turned into one too.
"""
from __future__ import annotations

import hashlib
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from outcomes import csvread
from outcomes.contract import (COLUMNS, REQUIRED_TABLES, TABLES, identifier_reason,
                               looks_like_contact, normalise_name)
from outcomes.csvread import CSV_SUFFIXES, NULL_TEXTS
from outcomes.csvread import csv_table as _csv_table  # noqa: F401 - assistant reads with it
from outcomes.errors import LoadError
from outcomes.recognise import (Mapping, match_header, match_sheet, normalise_header,
                                read_mapping, suggest_by_content, suggest_header)

__all__ = ["RawTable", "RawExport", "read_export", "read_mapping", "CSV_SUFFIXES",
           "PARQUET_SUFFIXES", "EXCEL_SUFFIXES", "MAX_EXPANDED_BYTES", "MAX_RATIO"]

PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
#: an input that would expand past this many bytes of text stops before it is decompressed
#: (xlsx: the uncompressed size of its parts; Parquet: uncompressed pages, and the text its
#: dictionary-encoded columns would spell out) -- unless the file itself is large, see
#: MAX_RATIO
MAX_EXPANDED_BYTES = 256 * 2**20
#: ... and past this many times the file's own size (a legitimate large export compresses
#: 5-30 times; a "bomb" hundreds or thousands of times)
MAX_RATIO = 100
# files in an export folder worth a note when they are not read
_DATA_SUFFIXES = CSV_SUFFIXES + PARQUET_SUFFIXES + EXCEL_SUFFIXES + (".xls", ".ods", ".json")

_NULLS = pa.array(NULL_TEXTS, pa.large_string())


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
    recode : dict
        Contract column -> {value key: contract value} from the mapping file's
        ``[values.<table>.<column>]`` (see :mod:`outcomes.recognise`).
    terms : dict
        Term key -> vocabulary term from the mapping file's ``[terms]`` (adverse events).
    ignored_columns : tuple of str
        Headers the mapping file declared ignored (dropped unread).
    """

    name: str
    file: str = ""
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    written: dict = field(default_factory=dict)
    extra_columns: tuple = ()
    present: bool = False
    recode: dict = field(default_factory=dict)
    terms: dict = field(default_factory=dict)
    ignored_columns: tuple = ()


@dataclass(frozen=True)
class RawExport:
    """The four raw tables and the provenance of the files read.

    ``files`` has columns ``table, path, sha256, bytes``.
    """

    tables: dict
    files: pd.DataFrame
    notes: tuple = ()


# --------------------------------------------------------------------------------------------
def _fail_unreadable(label: str, err: Exception) -> LoadError:
    return LoadError(f"{label} could not be read ({type(err).__name__}).",
                     fix="Export the table again as CSV (UTF-8), Parquet or an .xlsx sheet.",
                     file=label)


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


def _too_big(label: str, what: str, expanded: float, size: int) -> LoadError:
    small = f"{size / 2**20:,.1f} MB" if size >= 2**20 else f"{max(size, 1) / 1024:,.0f} KB"
    return LoadError(
        f"{label}: {what} would expand to about {expanded / 2**20:,.0f} MB from a "
        f"{small} file (the bound is {MAX_EXPANDED_BYTES / 2**20:,.0f} MB, or "
        f"{MAX_RATIO} times the file's size); it was not read.",
        fix="Export the tables again as plain CSV files (UTF-8); if this file is genuine "
            "and this large, split it by year.", file=label)


def _bound(size: int) -> float:
    return max(MAX_EXPANDED_BYTES, MAX_RATIO * size)


def _parquet_table(path: Path) -> tuple[list[str], pa.Table]:
    """Read a Parquet file as text columns, after checking from its metadata, then from its
    still-encoded dictionaries, that it does not expand past :data:`MAX_EXPANDED_BYTES`."""
    import pyarrow.parquet as pq  # here: a CSV export never needs it (~15 ms of imports)

    label, size = str(path), path.stat().st_size
    pf = pq.ParquetFile(path)
    md = pf.metadata
    # from the footer alone: uncompressed pages, and at least 8 bytes of text per cell
    pages = sum(md.row_group(i).total_byte_size for i in range(md.num_row_groups))
    cells = md.num_rows * max(md.num_columns, 1) * 8
    if max(pages, cells) > _bound(size):
        raise _too_big(label, "its pages" if pages >= cells else f"its {md.num_rows:,} rows",
                       max(pages, cells), size)
    # text columns are read still dictionary-encoded: the text they spell out is measured
    # before any is materialised (a small dictionary of huge strings is the usual bomb)
    texts = [f.name for f in pf.schema_arrow
             if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
             or pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)]
    table = pq.read_table(path, read_dictionary=texts or None)
    expanded = 0
    for col in table.columns:
        if pa.types.is_dictionary(col.type):
            for chunk in col.chunks:
                lengths = pc.binary_length(chunk.dictionary.cast(pa.large_binary()))
                total = pc.sum(pc.take(lengths, chunk.indices)).as_py()
                expanded += total or 0
        if expanded > _bound(size):
            raise _too_big(label, "its dictionary-encoded text", expanded, size)
    headers = [str(n) for n in table.column_names]
    cols = [_to_text(table.column(i)) for i in range(table.num_columns)]
    return headers, pa.table(cols, names=[f"c{i}" for i in range(len(cols))])


def _check_workbook(path: Path) -> None:
    """Stop a workbook whose parts would expand past the bound, from the zip's central
    directory alone (nothing is decompressed)."""
    label, size = str(path), path.stat().st_size
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
    total = sum(i.file_size for i in infos)
    if total > _bound(size) or total > 4 * MAX_EXPANDED_BYTES:
        big = max(infos, key=lambda i: i.file_size)
        raise _too_big(label, f"its parts (largest: {big.filename}, "
                       f"{big.file_size / 2**20:,.0f} MB)", total, size)
    for i in infos:
        if i.file_size > 16 * 2**20 and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            raise _too_big(label, f"its part {i.filename} (compressed {i.compress_size:,} "
                           "bytes)", i.file_size, size)


def _sheet_tables(names: list[str], mapping: Mapping, label: str) -> dict[str, str]:
    """Sheet (or file) name -> table: the mapping file's [sheets] first, then the contract
    names, then the usual names (:data:`outcomes.recognise.SHEET_SYNONYMS`). Two sheets
    found for one table by the same rule stop the load."""
    out: dict[str, str] = {}
    rules = (lambda n: mapping.sheets.get(normalise_header(n)),
             lambda n: normalise_name(n) if normalise_name(n) in TABLES else None,
             match_sheet)
    for rule in rules:
        found: dict[str, list[str]] = {}
        for n in names:
            table = None if n in out else rule(n)
            if table is not None and table not in out.values():
                found.setdefault(table, []).append(n)
        for table, sheets in found.items():
            if len(sheets) > 1:
                raise LoadError(
                    f"{label}: {sheets[0]!r} and {sheets[1]!r} both look like the {table} "
                    "table.", fix=f'Say which one it is in a mapping file: [sheets] '
                    f'"{sheets[0]}" = "{table}" (then --mapping FILE).', file=label)
            out[sheets[0]] = table
    return out


def _excel_tables(path: Path, mapping: Mapping
                  ) -> tuple[dict[str, tuple[str, list[str], pa.Table]], list[str]]:
    """The workbook's sheets that are tables -> (label, headers, table); and every sheet
    name found."""
    _check_workbook(path)
    with pd.ExcelFile(path, engine="calamine") as book:
        names = [str(n) for n in book.sheet_names]
        which = _sheet_tables(names, mapping, str(path))
        sheets = pd.read_excel(book, sheet_name=list(which), header=None, dtype=object) \
            if which else {}
    out = {}
    for sheet, df in sheets.items():
        table = which[str(sheet)]
        label = f"{path}, sheet {sheet}"
        if df.shape[0] == 0:
            raise LoadError(f"{label} is empty.", fix="Put the header row in row 1.",
                            file=label)
        headers = ["" if pd.isna(h) else str(h) for h in df.iloc[0]]
        body = df.iloc[1:]
        # each cell's text (None where blank): the frame's cells and blanks taken once, not
        # a Series built, mapped and masked per column
        cells, blank = body.to_numpy(dtype=object), body.isna().to_numpy()
        cols = [pa.array([None if b else _excel_cell(v) for v, b in zip(cells[:, j], blank[:, j])],
                         type=pa.string()) for j in range(body.shape[1])]
        out[table] = (label, headers, pa.table(cols, names=[f"c{i}" for i in range(len(cols))]))
    return out, names


def _excel_cell(v: object) -> str:
    """A workbook cell -> text: dates as YYYY-MM-DD, whole floats without '.0'."""
    if isinstance(v, pd.Timestamp) or hasattr(v, "strftime"):
        return v.strftime("%Y-%m-%d") if not (getattr(v, "hour", 0) or getattr(v, "minute", 0)) \
            else v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# --------------------------------------------------------------------------------------------
def _text_bytes(col: pa.ChunkedArray) -> int:
    return pc.sum(pc.binary_length(col)).as_py() or 0


def _clean_text(col: pa.ChunkedArray, *, nulls_read: bool = False,
                trim: bool = True) -> pa.ChunkedArray:
    """Trim; the spellings of 'no value' become null.

    ``nulls_read``: the reader already made every cell written exactly as such a spelling
    null (:func:`outcomes.csvread.csv_table`), so only a cell that trimming shortened can
    still be one; when trimming removed nothing, the look-up of every cell is skipped.
    ``trim=False``: no cell has white space to trim (:func:`outcomes.csvread.nothing_to_trim`).
    """
    # large_string: what pandas' Arrow-backed ``string`` dtype holds (no cast in to_pandas)
    written = col.cast(pa.large_string())
    col = pc.utf8_trim_whitespace(written) if trim else written
    if nulls_read and (not trim or _text_bytes(col) == _text_bytes(written)):
        return col
    is_null = pc.is_in(col, value_set=_NULLS)
    if not pc.any(is_null).as_py():
        return col
    return pc.if_else(is_null, pa.scalar(None, pa.large_string()), col)


def _identifier_stop(label: str, header: str, reason: str) -> LoadError:
    fix = ("Remove the column from the export (the audit needs de-identified data only), "
           "then load again.")
    if reason == "free text":
        fix = ("Remove the column from the export (the audit needs de-identified data only), "
               f'or declare it ignored in a mapping file (ignore = ["{header}"]) so that it is '
               "dropped unread, then load again.")
    return LoadError(f"{label}: column {header!r} looks like it holds {reason}, an identifier.",
                     fix=fix, file=label, column=header)


def _distinct(col: pa.ChunkedArray, limit: int = 5000) -> pd.Series:
    u = pc.unique(col.drop_null())
    return pd.Series(u.slice(0, limit).to_pylist(), dtype="string")


def _resolve(name: str, label: str, headers: list[str], table: pa.Table,
             mapping: Mapping, *, nulls_read: bool = False, trim: bool = True) -> RawTable:
    """Map headers to the contract, guard identifiers, keep the contract columns as text.

    A header is the mapping file's, else a contract name or a usual synonym
    (:func:`outcomes.recognise.match_header`). One that is neither but resembles a contract
    column by name or content stops the load with "did you mean", unless declared ignored.
    """
    contract = {c.name: c for c in COLUMNS[name]}
    maps = mapping.columns_for(name)
    ignored_keys = mapping.ignored_for(name)
    cleaned = [_clean_text(table.column(i), nulls_read=nulls_read, trim=trim)
               for i in range(table.num_columns)]
    keep: dict[str, int] = {}
    written: dict[str, str] = {}
    extra: list[str] = []
    ignored: list[str] = []
    unknown: list[int] = []
    for i, header in enumerate(headers):
        key = normalise_header(header)
        if not key and cleaned[i].null_count == len(cleaned[i]):
            continue                                      # an empty trailing column
        builtin = match_header(name, header)
        reason = None if builtin is not None else identifier_reason(header)
        if key and key in ignored_keys:
            if reason and reason != "free text":
                raise _identifier_stop(label, header, reason)
            ignored.append(header)
            continue
        if reason:
            raise _identifier_stop(label, header, reason)
        target = maps.get(key, builtin)
        if target not in contract:
            unknown.append(i)
            continue
        if target in keep:
            raise LoadError(f"{label}: columns {written[target]!r} and {header!r} both give "
                            f"{target}.", fix="Keep one of them, or fix the mapping file "
                            f'(map one elsewhere, or ignore = ["{header}"]).',
                            file=label, column=header)
        keep[target], written[target] = i, header
    absent = [c for c in contract if c not in keep]
    asks: list[tuple[str, list[str]]] = []
    for i in unknown:
        header = headers[i]
        guess = suggest_header(name, header, exclude=keep)
        if guess is not None:
            asks.append((header, [guess]))
            continue
        by_content = suggest_by_content(name, _distinct(cleaned[i]), absent) if absent else []
        if by_content:
            asks.append((header, by_content))
        else:
            extra.append(header if header.strip() else f"(unnamed column {i + 1})")
    if asks:
        header, guesses = asks[0]
        said = "; ".join(f"column {h!r} is not recognised: did you mean {' or '.join(g)}?"
                         for h, g in asks)
        raise LoadError(
            f"{label}: {said}",
            fix=f'If it is, map it in a mapping file ([columns.{name}] "{header}" = '
                f'"{guesses[0]}"); if not, declare it ignored (ignore = ["{header}"]); then '
                "load with --mapping FILE (see docs/data-dictionary.md).",
            file=label, column=header)
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
    # from the columns' arrays on 0..n-1 (a dict of Series would be aligned on their index)
    arrays = {c: cols[c].to_pandas(types_mapper=as_string).array for c in ordered}
    frame = pd.DataFrame(arrays, index=pd.RangeIndex(len(rows)), copy=False) if ordered \
        else pd.DataFrame()
    string = pd.StringDtype()
    other = {c: string for c, d in frame.dtypes.items() if d != string}
    frame = (frame.astype(other) if other else frame).reset_index(drop=True)
    if "patient_id" in frame:
        bad = looks_like_contact(frame["patient_id"]).to_numpy()
        if bad.any():
            raise LoadError(
                f"{label}, column {written['patient_id']!r}: {int(bad.sum())} value(s) look "
                f"like e-mail addresses or phone/card numbers (first at row "
                f"{int(rows[bad.argmax()])}).",
                fix="Replace them with pseudonyms (e.g. P0001) and keep the key at the clinic.",
                file=label, column=written["patient_id"])
    recode = {c: v for (t, c), v in mapping.values.items() if t == name}
    return RawTable(name=name, file=label, frame=frame, rows=rows.astype(np.int64),
                    written=written, extra_columns=tuple(extra), present=True,
                    recode=recode,
                    terms=dict(mapping.terms) if name == "adverse_events" else {},
                    ignored_columns=tuple(ignored))


def _read_table(table: str, label: str, file: Path, sheet: tuple | None,
                mapping: Mapping) -> tuple[RawTable, str | None]:
    """Read and resolve one table (``sheet``: its already-read workbook sheet, if any); with
    the SHA-256 of a CSV file's bytes (None otherwise)."""
    try:
        csv_file = sheet is None and file.suffix.lower() not in PARQUET_SUFFIXES
        trim, digest = True, None
        if sheet is not None:
            _, headers, arrow = sheet
        elif not csv_file:
            headers, arrow = _parquet_table(file)
        else:                                     # started before pandas was imported?
            got = csvread.take(file) or csvread.read_csv_file(file)
            headers, arrow, trim, digest = got.headers, got.table, got.trim, got.sha256
        return _resolve(table, label, headers, arrow, mapping, nulls_read=csv_file,
                        trim=trim), digest
    except LoadError:
        raise
    except Exception as err:  # noqa: BLE001 - any reader failure becomes a clear stop
        raise _fail_unreadable(label, err) from None


def _read_and_hash(table: str, label: str, file: Path, sheet: tuple | None,
                   mapping: Mapping) -> tuple[RawTable, str | None]:
    """:func:`_read_table`, and the file's SHA-256 (None for a workbook sheet: the workbook is
    hashed once), computed in the same worker thread while the other table is read."""
    raw, digest = _read_table(table, label, file, sheet, mapping)
    return raw, (digest if digest is not None or sheet is not None else _sha256(file))


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _find_files(folder: Path, mapping: Mapping) -> dict[str, Path]:
    files = [p for p in sorted(folder.iterdir())
             if p.is_file() and p.suffix.lower() in CSV_SUFFIXES + PARQUET_SUFFIXES]
    by_stem: dict[str, list[Path]] = {}
    for p in files:
        by_stem.setdefault(p.stem, []).append(p)
    for stem, paths in by_stem.items():
        if len(paths) > 1 and _sheet_tables([stem], mapping, str(folder)):
            table = _sheet_tables([stem], mapping, str(folder))[stem]
            raise LoadError(f"{folder} holds two files for {table}: {paths[0].name} "
                            f"and {paths[1].name}.", fix="Keep one of them.", file=str(paths[1]))
    which = _sheet_tables(list(by_stem), mapping, str(folder))
    return {table: by_stem[stem][0] for stem, table in which.items()}


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
        files = _find_files(path, maps)
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
    sheet_names: list[str] = []
    if path.is_file():
        try:
            excel, sheet_names = _excel_tables(path, maps)
        except LoadError:
            raise
        except Exception as err:  # noqa: BLE001 - any reader failure becomes a clear stop
            raise _fail_unreadable(str(path), err) from None
        for table, (label, _, _) in excel.items():
            sources[table] = (label, path, None)
    for table in REQUIRED_TABLES:
        if table not in sources:
            if path.is_file():
                rest = [n for n in sheet_names if n not in
                        {lab.split(", sheet ", 1)[-1] for lab, _, _ in excel.values()}]
                example = rest[0] if len(rest) == 1 else "<sheet name>"
                found = ", ".join(repr(n) for n in sheet_names) or "none"
                raise LoadError(
                    f"{path}: no {table} sheet (required); sheets found: {found}.",
                    fix=f"Rename the sheet that holds the {table.replace('_', ' ')} to "
                        f'{table}, or map it in a mapping file ([sheets] "{example}" = '
                        f'"{table}") and load with --mapping FILE (see '
                        "docs/data-dictionary.md).", file=str(path))
            found = f" (found: {', '.join(ignored[:5])})" if ignored else ""
            raise LoadError(f"{path}: no {table} file (required){found}.",
                            fix=f"Add {table}.csv or {table}.parquet, or map your file's "
                                f'name in a mapping file ([sheets] "<file name>" = "{table}"); '
                                ".xls and .ods files: save them as .xlsx or CSV.",
                            file=str(path))
    tables: dict[str, RawTable] = {}
    notes: list[str] = [f"{name}: not a table of the contract; not read." for name in ignored]
    read_sheets = {lab.split(", sheet ", 1)[-1] for lab, _, _ in excel.values()}
    notes += [f"sheet {n!r}: not a table of the contract; not read." for n in sheet_names
              if n not in read_sheets]
    records = []
    # the tables are read two at a time: Arrow's parsing and compute release the GIL, and
    # results (and errors) are taken in table order, as if read one after the other
    digests: dict[str, str] = {}                           # file -> SHA-256
    pool = ThreadPoolExecutor(max_workers=2)
    try:
        futures = {table: pool.submit(_read_and_hash, table, sources[table][0],
                                      sources[table][1], excel.get(table), maps)
                   for table in TABLES if table in sources}
        for table in TABLES:
            if table not in sources:
                tables[table] = RawTable(name=table, frame=pd.DataFrame(
                    {c.name: pd.Series(dtype="string") for c in COLUMNS[table]}))
                notes.append(f"{table}: no file; no {table.replace('_', ' ')} analysed.")
                continue
            label, file, _ = sources[table]
            raw, digest = futures[table].result()
            if digest is not None:
                digests[str(file)] = digest
            if len(raw.frame) == 0:
                if table == "patients":       # nothing to audit: almost surely a failed export
                    raise LoadError(f"{label} has a header but no rows.",
                                    fix=f"Export {table} again with its rows ({table} is "
                                        "required).", file=label)
                notes.append(f"{table}: header only, no rows.")
            if raw.ignored_columns:
                notes.append(f"column(s) {', '.join(map(repr, raw.ignored_columns))} of "
                             f"{table} ignored, as the mapping file says (dropped unread).")
            tables[table] = raw
            records.append({"table": table, "path": str(file), "sha256": "", "bytes": 0})
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        csvread.discard()                                   # what was prefetched and not read
    files = pd.DataFrame(records, columns=["table", "path", "sha256", "bytes"])
    for p in files["path"].unique():                       # a workbook: hashed once here
        if p not in digests:
            digests[p] = _sha256(Path(p))
    sizes = {p: Path(p).stat().st_size for p in files["path"].unique()}
    files["sha256"] = files["path"].map(digests.__getitem__).astype(str)
    files["bytes"] = files["path"].map(sizes.__getitem__).astype("int64")
    return RawExport(tables=tables, files=files, notes=tuple(notes))
