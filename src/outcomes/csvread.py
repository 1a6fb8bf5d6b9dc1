"""A CSV file -> an Arrow table of text, without pandas; reading started before pandas is imported.

This is the part of :mod:`outcomes.read` that needs only pyarrow and the standard library:
the bytes, the encoding, the delimiter, the parse, whether any cell can need trimming, and
the file's SHA-256. :mod:`outcomes.read` does the rest (header mapping, identifier guard,
trimming, the pandas frame).

``outcomes analyze`` and ``outcomes validate`` spend about 0.4 s importing pandas and the
package; reading a 100,000-patient export's CSV files takes about as long, mostly in Arrow's
threads (one core of two idle). So the command line calls :func:`prefetch` before it imports
the sub-command's module: the export folder's CSV files named as the contract's tables are
read in worker threads while pandas is imported, and :func:`outcomes.read.read_export` takes
each one (:func:`take`) instead of reading it again. A file whose size or modification time
changed since is read again; errors are raised by :func:`take`, where reading would have
raised them; what is not taken is dropped by :func:`discard`.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from outcomes.contract import NULL_SPELLINGS, TABLES
from outcomes.errors import LoadError

__all__ = ["CSV_SUFFIXES", "NULL_TEXTS", "CsvFile", "csv_table", "nothing_to_trim",
           "read_csv_file", "prefetch", "take", "discard"]

CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_DELIMITERS = (",", ";", "\t")
_NON_SPACE = re.compile(rb"\S")    # what bytes.strip() keeps: found without copying the file


def _case_variants(word: str) -> set[str]:
    out = {""}
    for ch in word:
        out = {o + v for o in out for v in {ch.lower(), ch.upper()}}
    return out


#: every upper/lower-case variant of the spellings of 'no value', so that no lower-casing of
#: whole columns is needed
NULL_TEXTS = sorted(set().union(*(_case_variants(w) for w in NULL_SPELLINGS)))


def csv_table(path: Path, data: bytes | None = None) -> tuple[list[str], pa.Table]:
    """Read a delimited text file as all-text columns; returns (headers, table).

    ``data``: the file's bytes, when already read.
    """
    data = path.read_bytes() if data is None else data
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
        # a line break inside a value needs quotes: a file without any '"' has none, and
        # Arrow then splits the file between its threads more cheaply
        parse_options=pacsv.ParseOptions(delimiter=delimiter,
                                          newlines_in_values=b'"' in data,
                                          invalid_row_handler=on_invalid),
        # a cell written exactly as a spelling of 'no value' is read as null (by the parser's
        # threads); read._clean_text(nulls_read=True) then checks only the cells it trimmed
        convert_options=pacsv.ConvertOptions(column_types={n: pa.large_string() for n in names},
                                             strings_can_be_null=True,
                                             null_values=NULL_TEXTS),
    )
    if bad:
        where = f" (first at line {bad[0]})" if bad[0] is not None else ""
        raise LoadError(f"{label}: {len(bad)} line(s) do not have the {len(headers)} fields "
                        f"of the header{where}.",
                        fix=f"Check for a stray {delimiter!r} or quote in those lines.",
                        file=label)
    return headers, table


#: the bytes utf8_trim_whitespace removes that an unquoted cell of an ASCII file can hold (a
#: line break ends the row there)
_PADDING = (b" ", b"\t", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f")


def nothing_to_trim(data: bytes) -> bool:
    """Whether no cell of a CSV file's bytes can start or end with white space: the file is
    ASCII, holds no quote (a quoted value may hold a line break) and none of :data:`_PADDING`.
    """
    return data.isascii() and b'"' not in data and not any(b in data for b in _PADDING)


@dataclass(frozen=True)
class CsvFile:
    """One CSV file read: ``headers`` and ``table`` (:func:`csv_table`), ``trim`` (some cell
    may need trimming: not :func:`nothing_to_trim`), ``sha256`` (hex digest of the bytes
    read)."""

    headers: list[str]
    table: pa.Table
    trim: bool
    sha256: str


def read_csv_file(path: Path) -> CsvFile:
    """Read one CSV file (see :class:`CsvFile`); raises what :func:`csv_table` raises."""
    data = path.read_bytes()
    headers, table = csv_table(path, data)
    return CsvFile(headers, table, not nothing_to_trim(data),
                   hashlib.sha256(data).hexdigest())


_lock = threading.Lock()
_pending: dict[str, tuple[tuple[int, int], Future]] = {}   # str(path) -> (stamp, reading)
_pools: list[ThreadPoolExecutor] = []


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def prefetch(data: str | Path) -> None:
    """Start reading the CSV files of the export folder ``data`` named as the contract's
    tables (``patients.csv``, ...), two at a time in worker threads. Anything else (a
    workbook, Parquet, other names, a path that is not a folder) is left to
    :func:`outcomes.read.read_export`; so is any file when listing the folder fails."""
    try:
        folder = Path(data)
        if not folder.is_dir():
            return
        found = {p.stem.lower(): p for p in sorted(folder.iterdir())
                 if p.suffix.lower() in CSV_SUFFIXES and p.is_file()}
        files = [(found[t], _stamp(found[t])) for t in TABLES if t in found]
    except OSError:
        return
    if not files:
        return
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="outcomes-prefetch")
    with _lock:
        _pools.append(pool)
        for path, stamp in files:
            _pending[str(path)] = (stamp, pool.submit(read_csv_file, path))
    pool.shutdown(wait=False)                 # its threads end once the files are read


def take(path: Path) -> CsvFile | None:
    """The prefetched reading of ``path`` (waiting for it), or None when there is none or the
    file changed since it was started. Raises the error reading it raised."""
    with _lock:
        entry = _pending.pop(str(path), None)
    if entry is None:
        return None
    stamp, reading = entry
    error = reading.exception()               # waits
    try:
        if _stamp(path) != stamp:
            return None
    except OSError:
        return None                           # read again: reading says what is wrong
    if error is not None:
        raise error
    return reading.result()


def discard() -> None:
    """Drop every prefetched reading not taken, and wait for the worker threads to end."""
    with _lock:
        pending = list(_pending.values())
        _pending.clear()
        pools = list(_pools)
        _pools.clear()
    for _, reading in pending:
        reading.cancel()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)
