"""Raw text tables -> clean tables + quarantine: every contract rule, the cascade, the accounting.

All checks are vectorised over whole columns and all failures are collected in one pass. A
row that breaks any rule is quarantined (one quarantine row per broken rule); a row of a
quarantined or unknown patient or session follows it with that reason. For every table
``read == accepted + quarantined``.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from outcomes.contract import CHOICES, CLEAN_COLUMNS, COLUMNS, MIN_SESSION_DATE, TABLES, Column
from outcomes.errors import LoadError
from outcomes.read import RawTable
from outcomes.recognise import ambiguous_sex_codes, normalise_value, recode_values
from outcomes.vocabulary import map_terms

__all__ = ["Validated", "validate", "QUARANTINE_COLUMNS", "parse_dates", "parse_numbers",
           "parse_yes_no"]

QUARANTINE_COLUMNS = ("table", "row", "column", "value", "rule")
#: column kinds checked once per distinct value (:func:`_per_distinct`)
_PER_DISTINCT = ("choice", "bool", "float", "int", "date")
_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
DATE_FORMATS = ("ISO", "DMY", "MDY")

_DOT_DECIMAL = re.compile(r"^\s*[+-]?\d*\.\d+\s*$")      # a distinct value with a decimal point
_COMMA_DECIMAL = re.compile(r"^\s*[+-]?\d+,\d+\s*$")     # ... with a decimal comma
_ISO = r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
_DAY_FIRST_OR_MONTH_FIRST = (r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})"
                             r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")


@dataclass(frozen=True)
class Validated:
    """What :func:`validate` returns.

    Attributes
    ----------
    tables : dict of str -> DataFrame
        The clean tables (accepted rows only), columns and dtypes of docs/architecture.md.
    quarantine : DataFrame
        ``table, row, column, value, rule``, one row per broken rule, sorted by table and row.
    counts : DataFrame
        ``table, read, accepted, quarantined`` (int), one row per table.
    other_terms : tuple of str
        Adverse-event terms as written that map to ``other`` (unique, sorted).
    unmapped_terms : DataFrame
        ``term_as_written, events``: each of ``other_terms`` with its number of accepted
        events, most events first.
    keys : dict of str -> ndarray of int64
        The ids, coded once: ``"sessions"``, ``"measurements"``, ``"adverse_events"`` give
        each accepted row's patient as a row position in the clean ``patients`` table;
        ``"adverse_events.session"`` each accepted event's session as a row position in the
        clean ``sessions`` table (-1: no session_id). The metrics use them instead of hashing
        the id texts again.
    """

    tables: dict
    quarantine: pd.DataFrame
    counts: pd.DataFrame
    other_terms: tuple
    unmapped_terms: pd.DataFrame = None
    keys: dict | None = None


# ------------------------------------------------------------------------------ parsers
def _ymd(parts: pd.DataFrame, year: int, month: int, day: int) -> pd.Series:
    def num(i: int) -> np.ndarray:
        return pd.to_numeric(parts[i], errors="coerce").to_numpy(dtype="float64",
                                                               na_value=np.nan)

    frame = pd.DataFrame({"year": num(year), "month": num(month), "day": num(day)},
                         index=parts.index)
    return pd.to_datetime(frame, errors="coerce")


def parse_dates(text: pd.Series, date_format: str = "ISO") -> tuple[pd.Series, pd.Series]:
    """Parse dates written as text.

    Parameters
    ----------
    text : pandas.Series of str
        ``YYYY-MM-DD`` (an optional time of day is dropped); with ``date_format`` ``"DMY"`` or
        ``"MDY"`` also ``DD/MM/YYYY`` or ``MM/DD/YYYY`` (separators ``/ . -``).
    date_format : {"ISO", "DMY", "MDY"}

    Returns
    -------
    dates : Series of datetime64[ns]
        Midnight of each date; NaT where missing or not a date.
    ambiguous : Series of bool
        True where the value is a day/month/year date but ``date_format`` is ``"ISO"``.
    """
    if date_format not in DATE_FORMATS:
        raise LoadError(f"date format {date_format!r} is not known.",
                        fix="Use --date-format ISO, DMY or MDY.")
    s = pd.Series(text, dtype="string")
    fast = "%Y-%m-%d" if date_format == "ISO" else \
        ("%d/%m/%Y" if date_format == "DMY" else "%m/%d/%Y")
    out = pd.to_datetime(s, format=fast, errors="coerce").astype("datetime64[ns]")
    ambiguous = pd.Series(False, index=s.index)
    rest = s.notna() & out.isna()
    if rest.any():
        sub = s[rest]
        iso = _ymd(sub.str.extract(_ISO), 0, 1, 2)
        other = sub.str.extract(_DAY_FIRST_OR_MONTH_FIRST)
        is_other = other[0].notna()
        if date_format == "ISO":
            ambiguous[sub.index[is_other.to_numpy()]] = True
            parsed = iso
        else:
            dmy = _ymd(other, 2, 1, 0) if date_format == "DMY" else _ymd(other, 2, 0, 1)
            parsed = iso.fillna(dmy)
        out[rest] = parsed.astype("datetime64[ns]")
    return out.dt.normalize(), ambiguous


def parse_numbers(text: pd.Series, decimal_comma: bool = False) -> pd.Series:
    """Parse numbers written as text -> float64 (NaN where missing or not a finite number).

    Accepted: an optional sign, digits with an optional decimal point, an optional exponent
    (``1.5``, ``-2``, ``.5``, ``1e2``); spaces are ignored. With ``decimal_comma`` a ``,`` is
    read as the decimal point (``"2,5"`` -> 2.5).
    """
    index = text.index if isinstance(text, pd.Series) else None
    arr = pc.replace_substring(_arrow(text), " ", "")
    if decimal_comma:
        arr = pc.replace_substring(arr, ",", ".")
    ok = pc.fill_null(pc.match_substring_regex(arr, _NUMBER), False)
    nums = pc.cast(pc.if_else(ok, arr, pa.scalar(None, arr.type)), pa.float64())
    values = np.asarray(nums.to_numpy(zero_copy_only=False), dtype="float64").copy()
    values[~np.isfinite(values)] = np.nan
    return pd.Series(values, index=index, dtype="float64")


def parse_yes_no(text: pd.Series, mapped: dict | None = None) -> pd.Series:
    """Parse yes/no words -> ``boolean`` dtype (``<NA>`` where none of them).

    Accepted: yes/no, y/n, true/false, t/f, 1/0 and the words of
    :data:`outcomes.recognise.YES_WORDS` / ``NO_WORDS`` (sí, sim, oui, ja, non, não, nein ...),
    any case and accents; ``mapped``: value key -> ``"yes"``/``"no"`` from the mapping file.
    """
    words = recode_values("", "bool", pd.Series(text, dtype="string"), mapped)
    w = words.to_numpy(dtype=object, na_value=None)    # a few distinct values: plain numpy
    yes, no = w == "yes", w == "no"
    return pd.Series(pd.arrays.BooleanArray(yes, ~(yes | no)), index=words.index)


def _per_distinct(s: pd.Series, fn, factorized: tuple | None = None) -> tuple[pd.Series, ...]:
    """Apply an element-wise ``fn`` (text Series -> Series, or tuple of them) to each distinct
    value of ``s`` once and spread the results back to every row (index of ``s``).

    Columns of dates, numbers and choices repeat a few thousand values over many rows.
    ``factorized``: ``_encode(s)``, when already computed (in a worker thread).
    """
    codes, uniques = _encode(s) if factorized is None else factorized
    values = pd.Series(pd.arrays.ArrowStringArray(           # the last value is <NA>
        pa.concat_arrays([uniques, pa.nulls(1, uniques.type)])))
    out = fn(values)
    out = out if isinstance(out, tuple) else (out,)
    # take on the array, not the Series: Series.take also takes (and checks) the index
    return tuple(pd.Series(o.array.take(codes), index=s.index, name=o.name) for o in out)


def _encode(s: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """The distinct values of a text Series in order of appearance (Arrow ``large_string``)
    and each row's position among them, a missing value at position ``len(distinct)``.

    Arrow's dictionary encoding, as ``pandas.factorize`` does it for Arrow strings without
    its per-call overhead (~0.5 ms a column, which a small export pays 21 times); Arrow
    releases the GIL, so this runs well in a worker thread (see :func:`validate`).
    """
    text = s.array
    text = pa.array(text) if isinstance(text, pd.arrays.ArrowStringArray) else _arrow(s)
    if isinstance(text, pa.ChunkedArray):      # (an empty column)
        text = text.combine_chunks()
    encoded = pc.dictionary_encode(text.cast(pa.large_string()))
    uniques = encoded.dictionary
    codes = np.asarray(pc.fill_null(encoded.indices, len(uniques))
                       .to_numpy(zero_copy_only=False), dtype=np.intp)
    return codes, uniques


def _arrow(s) -> pa.Array:
    """A Series (or Index) of text as an Arrow array (no copy for Arrow-backed strings)."""
    return pa.array(pd.Series(s, dtype="string").array).cast(pa.large_string())


def _positions(keys: pd.Series, ids: pd.Series) -> np.ndarray:
    """Index (0-based) of each key's first occurrence in ``ids``; -1 when absent or missing."""
    return _positions_many([keys], ids)[0]


def _positions_many(keys: list[pd.Series], ids: pd.Series) -> list[np.ndarray]:
    """:func:`_positions` for several key columns at once (one hash table of ``ids``)."""
    return _positions_arrow([_arrow(k) for k in keys], _arrow(ids))


def _positions_arrow(arrays: list, ids) -> list[np.ndarray]:
    """:func:`_positions_many` on Arrow arrays (pandas-free: safe in a worker thread)."""
    chunks = [c for a in arrays for c in (a.chunks if isinstance(a, pa.ChunkedArray) else [a])]
    if not chunks or sum(len(c) for c in chunks) == 0:
        return [np.full(len(a), -1, dtype=np.int64) for a in arrays]
    combined = pa.chunked_array(chunks, type=chunks[0].type)
    pos = pc.index_in(combined, value_set=ids, skip_nulls=True)
    flat = np.asarray(pc.fill_null(pos, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
    return np.split(flat, np.cumsum([len(a) for a in arrays])[:-1])


# ------------------------------------------------------------------------------ rule texts
def _range_text(col: Column) -> str:
    if col.low is not None and col.high is not None:
        return (f"more than {col.low:g} and at most {col.high:g}" if col.low_open
                else f"from {col.low:g} to {col.high:g}")
    return f"{col.low:g} or more" if col.low is not None else "any value"


def _choice_text(column: str) -> str:
    names = dict.fromkeys(CHOICES[column].values())
    return "one of " + ", ".join(names)


class _Table:
    """Holds one raw table and collects its broken rules."""

    def __init__(self, raw: RawTable, date_format: str, decimal_comma: bool):
        self.raw, self.name = raw, raw.name
        self.date_format, self.decimal_comma = date_format, decimal_comma
        n = len(raw.frame)
        self.n = n
        self.rows = np.asarray(raw.rows, dtype=np.int64)
        frame = raw.frame if raw.frame.index.equals(pd.RangeIndex(n)) else \
            raw.frame.reset_index(drop=True)              # read_export's frames are 0..n-1
        # the columns' arrays (not Series: nothing to align, the index is 0..n-1), uncopied
        self.text = pd.DataFrame(
            {c.name: (frame[c.name].array if c.name in frame
                      else pd.array([pd.NA] * n, dtype="string"))
             for c in COLUMNS[raw.name]}, index=pd.RangeIndex(n), copy=False)
        other = [c for c, d in self.text.dtypes.items() if d != _CLEAN_DTYPES["text"]]
        if other:                                 # read_export gives string columns
            self.text = self.text.astype(dict.fromkeys(other, "string"))
        self.parsed: dict[str, pd.Series] = {}
        self.parts: list[pd.DataFrame] = []
        #: column -> _encode of its text, computed in a worker thread (see validate)
        self.factorized: dict[str, Future] = {}

    def _factorized(self, column: str) -> tuple | None:
        job = self.factorized.pop(column, None)
        return None if job is None else job.result()

    # -- collecting
    def add(self, column: str, mask, rule, value: pd.Series | None = None) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        idx = np.flatnonzero(mask)
        values = self.text[column] if value is None else value
        if isinstance(rule, pd.Series):
            rules = rule.to_numpy()[idx]
        elif isinstance(rule, np.ndarray):       # one rule per hit, already selected
            rules = rule
        else:
            rules = rule
        self.parts.append(pd.DataFrame({
            "table": self.name, "row": self.rows[idx], "column": column,
            "value": values.iloc[idx].fillna("").astype(str).to_numpy(),
            "rule": rules}))

    def bad_rows(self) -> np.ndarray:
        bad = np.zeros(self.n, dtype=bool)
        for part in self.parts:
            bad[np.searchsorted(self.rows, part["row"].to_numpy())] = True
        return bad

    # -- per-column rules
    def check_columns(self, today: pd.Timestamp) -> None:
        self.comma_values, self.dot_values, self.first_comma = 0, 0, ("", "")
        for col in COLUMNS[self.name]:
            s = self.text[col.name]
            missing = np.asarray(s.array.isna(), dtype=bool)    # (no Series built)
            if col.required:
                self.add(col.name, missing, f"a value is required; fill in {col.name}")
            present = ~missing
            getattr(self, f"_check_{col.kind}")(col, s, present, today)
        self.check_decimal_commas()

    def _check_id(self, col, s, present, today):
        self.parsed[col.name] = s

    def _check_text(self, col, s, present, today):
        self.parsed[col.name] = s

    def _check_choice(self, col, s, present, today):
        mapped_values = self.raw.recode.get(col.name, {})
        if col.name == "sex":
            self._ask_ambiguous_sex(s, mapped_values)
        mapped, = _per_distinct(s, lambda v: recode_values(col.name, "choice", v,
                                                           mapped_values),
                                self._factorized(col.name))
        self.add(col.name, present & mapped.isna().to_numpy(),
                 f"{_choice_text(col.name)} (see docs/data-dictionary.md for accepted "
                 "spellings, or recode it in the mapping file); correct the value")
        self.parsed[col.name] = mapped

    def _ask_ambiguous_sex(self, s: pd.Series, mapped_values: dict) -> None:
        """Stop when the sex column uses both H and M (or V and M), unless mapped."""
        written = {normalise_value(v): v for v in pd.unique(s.dropna())}
        pair = ambiguous_sex_codes(written)
        if pair is None or all(k in mapped_values for k in pair):
            return
        column = self.raw.written.get("sex", "sex")
        a, b = (written[k] for k in pair)
        raise LoadError(
            f"{self.raw.file}, column {column!r}: the codes {a!r} and {b!r} are both used; "
            f"{b!r} means male in English but mujer (female) in Spanish, where {a!r} is "
            "male. The codes are not guessed.",
            fix=f'Say what they mean in a mapping file: [values.patients.sex] "{a}" = "M" '
                f'and "{b}" = "F" (Spanish), or "{b}" = "M" (English); then load with '
                "--mapping FILE.", file=self.raw.file, column=column)

    def _check_bool(self, col, s, present, today):
        mapped_values = self.raw.recode.get(col.name, {})
        parsed, = _per_distinct(s, lambda v: parse_yes_no(v, mapped_values),
                                self._factorized(col.name))
        self.add(col.name, present & parsed.isna().to_numpy(),
                 "yes or no (also y/n, true/false, 1/0, sí/no); correct the value")
        self.parsed[col.name] = parsed

    def check_decimal_commas(self) -> None:
        """Stop when this table writes decimals only with a comma and the option is off.

        Counted by :meth:`_check_number` on the distinct values of the number columns:
        values that are decimal commas (``1,5``) while no value uses a decimal point. With
        both kinds present the comma values are quarantined one by one (with the hint)
        instead.
        """
        if self.decimal_comma or not self.comma_values or self.dot_values:
            return
        name, value = self.first_comma
        column = self.raw.written.get(name, name)
        raise LoadError(
            f"{self.raw.file}, column {column!r}: numbers are written with a decimal comma "
            f"({value!r}; {self.comma_values} distinct value(s) in this table) and none with "
            "a decimal point.",
            fix="Load with --decimal-comma (a European export); nothing was quarantined.",
            file=self.raw.file, column=column)

    def _count_separators(self, name: str, uniques: pd.Series) -> None:
        """Count distinct values written with a decimal point / a decimal comma."""
        if self.decimal_comma or self.dot_values:
            return
        # Python's re, as pandas' str.contains used for these patterns (\s is not RE2's)
        u = uniques.dropna().tolist()
        if any(_DOT_DECIMAL.search(v) for v in u):
            self.dot_values += 1
            return
        comma = [v for v in u if _COMMA_DECIMAL.search(v)]
        if comma:
            self.comma_values += len(comma)
            if not self.first_comma[0]:
                self.first_comma = (name, str(comma[0]))

    def _check_number(self, col, s, present, whole: bool) -> pd.Series:
        def parse(v: pd.Series) -> pd.Series:
            self._count_separators(col.name, v)
            return parse_numbers(v, self.decimal_comma)

        num, = _per_distinct(s, parse, self._factorized(col.name))
        unparsed = present & num.isna().to_numpy()
        kind = "a whole number" if whole else "a number"
        rule = f"{kind} {_range_text(col)}; correct the value"
        if not self.decimal_comma and unparsed.any():
            comma = parse_numbers(s, True).notna().to_numpy() & unparsed
            self.add(col.name, comma, f"{kind} with a decimal point; if the export uses "
                                      "decimal commas, load it with --decimal-comma")
            unparsed &= ~comma
        self.add(col.name, unparsed, rule)
        v = num.to_numpy()
        with np.errstate(invalid="ignore"):
            out = np.zeros(len(v), dtype=bool)
            if whole:
                out |= (v != np.round(v))
            if col.low is not None:
                out |= (v <= col.low) if col.low_open else (v < col.low)
            if col.high is not None:
                out |= v > col.high
        self.add(col.name, out & ~np.isnan(v), rule)
        return num

    def _check_float(self, col, s, present, today):
        self.parsed[col.name] = self._check_number(col, s, present, whole=False)

    def _check_int(self, col, s, present, today):
        num = self._check_number(col, s, present, whole=True)
        whole = num.where(num == np.round(num))
        self.parsed[col.name] = pd.array(whole.round().to_numpy(), dtype="Int64")

    def _check_date(self, col, s, present, today):
        dates, ambiguous = _per_distinct(s, lambda v: parse_dates(v, self.date_format),
                                         self._factorized(col.name))
        if ambiguous.any():
            parts = s[ambiguous].str.extract(_DAY_FIRST_OR_MONTH_FIRST).apply(
                pd.to_numeric, errors="coerce")
            day_first = bool((parts[0] > 12).any())
            month_first = bool((parts[1] > 12).any())
            option = ("--date-format DMY" if day_first and not month_first else
                      "--date-format MDY" if month_first and not day_first else
                      "--date-format DMY (day/month/year) or --date-format MDY "
                      "(month/day/year)")
            column = self.raw.written.get(col.name, col.name)
            first = int(self.rows[np.flatnonzero(ambiguous.to_numpy())[0]])
            raise LoadError(
                f"{self.raw.file}, column {column!r}: dates are not written YYYY-MM-DD "
                f"(first at row {first}); a date such as 03/04/2026 is ambiguous.",
                fix=f"Say how they are written: {option}.", file=self.raw.file, column=column)
        unparsed = present & dates.isna().to_numpy()
        self._stop_on_day_numbers(col, s, unparsed, present)
        how = "YYYY-MM-DD" if self.date_format == "ISO" else \
            f"YYYY-MM-DD or {'DD/MM/YYYY' if self.date_format == 'DMY' else 'MM/DD/YYYY'}"
        self.add(col.name, unparsed, f"a real date written {how}; correct the date")
        v = dates.to_numpy()
        self.add(col.name, ~np.isnat(v) & (v > np.datetime64(today)),
                 f"not after today ({today:%Y-%m-%d}); correct the date")
        if col.name == "session_date":
            self.add(col.name, ~np.isnat(v) & (v < np.datetime64(MIN_SESSION_DATE)),
                     f"not before {MIN_SESSION_DATE}; correct the date")
        self.parsed[col.name] = dates

    def _stop_on_day_numbers(self, col, s, unparsed, present) -> None:
        """Stop when most dates of a column are Excel day numbers (``45123``: a date column
        pasted as numbers): quarantining them all would hide every row."""
        if unparsed.sum() * 2 <= present.sum() or not unparsed.any():
            return
        days = parse_numbers(s[unparsed])
        serial = days.between(20_000, 80_000) & (days == days.round())   # 1954 to 2119
        if serial.sum() * 2 <= present.sum():
            return
        column = self.raw.written.get(col.name, col.name)
        first = int(self.rows[np.flatnonzero(unparsed)[0]])
        raise LoadError(
            f"{self.raw.file}, column {column!r}: the dates are Excel day numbers "
            f"({s[unparsed].iloc[0]!r} at row {first}), not dates.",
            fix="In Excel, format the column as dates (Format Cells > Date, e.g. YYYY-MM-DD) "
                "and export again.", file=self.raw.file, column=column)

    # -- identifiers
    def check_unique(self, column: str, first: np.ndarray | None = None) -> None:
        """Quarantine later rows repeating an ID; ``first``: precomputed positions."""
        ids = self.text[column]
        first = _positions(ids, ids) if first is None else first
        dup = (first >= 0) & (first != np.arange(self.n))
        if dup.any():
            rule = np.array([f"duplicate {column}: the same as row {r}; IDs must be unique "
                             "(the first row stands): remove or renumber this row"
                             for r in self.rows[first[dup]]], dtype=object)
            self.add(column, dup, rule)

    def check_parent(self, column: str, parent: _Table, accepted: np.ndarray,
                     only: np.ndarray | None = None,
                     pos: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Quarantine rows whose ``column`` is not the ID of an accepted ``parent`` row.

        ``only``: check these rows only (e.g. rows whose patient is accepted); ``pos``:
        precomputed positions (see below).

        Returns
        -------
        pos : ndarray of int
            Position of each row's parent in ``parent`` (its first row with that ID), -1 if
            none or missing.
        ok : ndarray of bool
            The parent exists and was accepted.
        """
        ids = self.text[column]
        pos = _positions(ids, parent.text[column]) if pos is None else pos
        known = pos >= 0
        ok = known & accepted[np.maximum(pos, 0)] if len(accepted) else known
        present = ids.notna().to_numpy() & (True if only is None else only)
        unit = parent.name[:-1]
        follows = present & known & ~ok
        if follows.any():
            rule = np.array([f"{unit} quarantined (see {parent.name} row {r}); this row "
                             "follows it: fix that row" for r in parent.rows[pos[follows]]],
                            dtype=object)
            self.add(column, follows, rule)
        self.add(column, present & ~known,
                 f"{column} not in {parent.name}; add the {unit} or correct the ID")
        return pos, ok

    def frame(self, accepted: np.ndarray) -> pd.DataFrame:
        out = pd.DataFrame({c.name: getattr(self.parsed[c.name], "array", self.parsed[c.name])
                            for c in COLUMNS[self.name]}, index=pd.RangeIndex(self.n),
                           copy=False)     # arrays on 0..n-1: nothing to align
        return out if accepted.all() else out[accepted].reset_index(drop=True)


# ------------------------------------------------------------------------------ validate
def validate(tables: dict, *, date_format: str = "ISO", decimal_comma: bool = False,
             today: dt.date | None = None) -> Validated:
    """Check every contract rule on raw tables; split rows into clean tables and quarantine.

    Parameters
    ----------
    tables : dict of str -> RawTable
        From :func:`outcomes.read.read_export` (``RawExport.tables``).
    date_format : {"ISO", "DMY", "MDY"}
        How non-ISO dates are written; with ``"ISO"`` a day/month/year date stops the load.
    decimal_comma : bool
        Numbers use a decimal comma.
    today : datetime.date, optional
        Dates after this day are in the future (default: today's date).

    Returns
    -------
    Validated

    Raises
    ------
    LoadError
        Dates written day/month/year with no ``date_format`` given.
    """
    today = pd.Timestamp(today or dt.date.today()).normalize()
    t = {name: _Table(tables[name] if name in tables else RawTable(name=name),
                      date_format, decimal_comma) for name in TABLES}
    p, s, m, e = (t[n] for n in TABLES)
    # where each ID points: one hash table per key column (the slow part at scale), built in
    # a worker thread (Arrow releases the GIL) while the columns are checked
    pid = [_arrow(x.text["patient_id"]) for x in (p, s, m, e)]
    sid = [_arrow(x.text["session_id"]) for x in (s, m, e)]
    pool = ThreadPoolExecutor(max_workers=1)
    # and the distinct values of the columns checked per distinct value (Arrow hashing too), in
    # another, in the order check_columns asks for them
    coder = ThreadPoolExecutor(max_workers=1)
    try:
        p_job = pool.submit(_positions_arrow, pid, pid[0])
        s_job = pool.submit(_positions_arrow, sid, sid[0])
        eid = _arrow(e.text["event_id"])
        e_job = pool.submit(_positions_arrow, [eid], eid)
        for table in t.values():
            for col in COLUMNS[table.name]:
                if col.kind in _PER_DISTINCT:
                    table.factorized[col.name] = coder.submit(_encode, table.text[col.name])
        term_job = coder.submit(_encode, e.text["term"])
        for table in t.values():
            table.check_columns(today)
        in_p = dict(zip(TABLES, p_job.result()))
        in_s = dict(zip(TABLES[1:], s_job.result()))
        in_e, = e_job.result()
        term_codes = term_job.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        coder.shutdown(wait=True, cancel_futures=True)
    p.check_unique("patient_id", in_p["patients"])
    s.check_unique("session_id", in_s["sessions"])
    e.check_unique("event_id", in_e)

    sex, cbp = p.parsed["sex"], p.parsed["childbearing_potential"]
    p.add("childbearing_potential", (sex == "F").fillna(False).to_numpy(bool)
          & p.text["childbearing_potential"].isna().to_numpy(),
          "yes or no is required when sex is F; fill in childbearing_potential")
    p.add("contraception", cbp.fillna(False).to_numpy(bool)
          & p.text["contraception"].isna().to_numpy(),
          "yes or no is required when childbearing_potential is yes; fill in contraception")
    # implausible combinations: quarantined with the reason, never silently accepted
    male = (sex == "M").fillna(False).to_numpy(bool)
    female = (sex == "F").fillna(False).to_numpy(bool)
    p.add("childbearing_potential", male & cbp.fillna(False).to_numpy(bool),
          "childbearing_potential is yes but sex is M: one of them is wrong (an export coding "
          "sex H/M? recode it under [values.patients.sex] in the mapping file); correct the row")
    patients_ok = ~p.bad_rows()

    s_patient, _ = s.check_parent("patient_id", p, patients_ok, pos=in_p["sessions"])
    s_male = np.zeros(s.n, dtype=bool)
    s_known = s_patient >= 0
    s_male[s_known] = male[s_patient[s_known]]
    tested = s.parsed["pregnancy_test"].isin(["negative", "positive"]).fillna(False)
    s.add("pregnancy_test", s_male & tested.to_numpy(bool),
          "a pregnancy test result is recorded but the patient's sex is M: correct sex (in "
          "patients) or pregnancy_test")
    sessions_ok = ~s.bad_rows()
    # first session per patient (by position in patients): every session row with a plausible
    # date counts (a row quarantined for another reason still shows when treatment started)
    s_dates = s.parsed["session_date"].to_numpy()
    plausible = (~np.isnat(s_dates) & (s_dates <= pd.Timestamp(today).to_datetime64())
                 & (s_dates >= np.datetime64(MIN_SESSION_DATE)) & (s_patient >= 0))
    first_session = np.full(p.n, np.datetime64("NaT"), dtype="datetime64[ns]")
    if plausible.any():
        # each patient's earliest plausible date, as a running minimum over the sessions
        never = np.iinfo(np.int64).max
        first_ns = np.full(p.n, never, dtype=np.int64)
        np.minimum.at(first_ns, s_patient[plausible], s_dates[plausible].view(np.int64))
        seen = first_ns != never
        first_session[seen] = first_ns[seen].view("datetime64[ns]")

    m_patient, m_patient_ok = m.check_parent("patient_id", p, patients_ok,
                                             pos=in_p["measurements"])
    m.add("density_per_cm2", (m.text["density_per_cm2"].isna()
                              & m.text["gpa_score"].isna()).to_numpy(),
          "at least one of density_per_cm2 and gpa_score is required; fill one in")
    e_patient, e_patient_ok = e.check_parent("patient_id", p, patients_ok,
                                             pos=in_p["adverse_events"])
    e_terms, = _per_distinct(e.text["term"], lambda v: map_terms(v, e.raw.terms), term_codes)
    e_female = np.zeros(e.n, dtype=bool)
    e_female[e_patient >= 0] = female[e_patient[e_patient >= 0]]
    e.add("term", e_female & (e_terms == "sperm_abnormality").fillna(False).to_numpy(bool),
          "a sperm abnormality is recorded for a patient whose sex is F: correct the term or "
          "the patient's sex")
    for child, c_patient, c_patient_ok in ((m, m_patient, m_patient_ok),
                                           (e, e_patient, e_patient_ok)):
        # unknown or quarantined session (rows of a quarantined patient already follow it)
        pos, ok = child.check_parent("session_id", s, sessions_ok, only=c_patient_ok,
                                     pos=in_s[child.name])
        owner = s_patient[np.maximum(pos, 0)] if s.n else np.full(child.n, -1)
        other = c_patient_ok & ok & (owner != c_patient)
        if other.any():
            who = p.text["patient_id"].to_numpy()[owner[other]]
            child.add("session_id", other, np.array(
                [f"the session belongs to another patient (patient {w}); session_id must be "
                 "a session of this row's patient" for w in who], dtype=object))
    first = (first_session[np.maximum(e_patient, 0)] if p.n
             else np.full(e.n, np.datetime64("NaT"), dtype="datetime64[ns]"))
    first[e_patient < 0] = np.datetime64("NaT")
    onset = e.parsed["onset_date"].to_numpy()
    early = ~np.isnat(onset) & ~np.isnat(first) & (onset < first)
    if early.any():
        e.add("onset_date", early, np.array(
            [f"not before the patient's first session ({str(d)[:10]}); correct the date or "
             "the patient_id" for d in first[early]], dtype=object))

    clean, counts, accepted = {}, [], {}
    for name, table in t.items():
        bad = table.bad_rows()
        accepted[name] = ~bad
        frame = table.frame(~bad)
        if name == "measurements":
            frame["site"] = frame["site"].str.lower().fillna("target")
        columns = list(CLEAN_COLUMNS[name])
        if name == "adverse_events":
            frame.insert(columns.index("term_as_written"), "term_as_written", frame["term"])
            # the accepted rows' vocabulary terms, mapped above for every row
            frame["term"] = e_terms[~bad].reset_index(drop=True)
        # the columns are in the contract's order: no selection (it copies every column)
        clean[name] = _clean_dtypes(frame if list(frame.columns) == columns else frame[columns],
                                    name)
        counts.append({"table": name, "read": table.n, "accepted": int((~bad).sum()),
                       "quarantined": int(bad.sum())})
    parts = [part for table in t.values() for part in table.parts]
    quarantine = _quarantine(parts) if parts else _quarantine_none().copy()
    ae = clean["adverse_events"]
    other = ae.loc[(ae["term"] == "other").fillna(False).to_numpy(bool), "term_as_written"]
    other_terms = tuple(sorted(set(other.dropna()) - {"other", "Other", "OTHER"}))
    other = other[other.isin(other_terms).fillna(False).to_numpy(bool)]
    unmapped = _unmapped(other) if len(other) else _unmapped_none(other.dtype).copy()
    # every accepted child row's parent is accepted (the cascade), so its position among the
    # accepted parents is the running count of accepted parents before it
    p_new = np.cumsum(accepted["patients"]) - 1
    s_new = np.cumsum(accepted["sessions"]) - 1
    e_session = in_s["adverse_events"][accepted["adverse_events"]]
    keys = {"sessions": p_new[s_patient[accepted["sessions"]]],
            "measurements": p_new[m_patient[accepted["measurements"]]],
            "adverse_events": p_new[e_patient[accepted["adverse_events"]]],
            "adverse_events.session": np.where(e_session >= 0,
                                               s_new[np.maximum(e_session, 0)], -1)}
    return Validated(tables=clean, quarantine=quarantine, keys=keys,
                     counts=_astype(pd.DataFrame(counts), dict.fromkeys(
                         ("read", "accepted", "quarantined"), "int64")),
                     other_terms=other_terms, unmapped_terms=unmapped)


def _quarantine(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The quarantine rows (``parts``, each table's broken rules) sorted by table and row."""
    quarantine = (pd.concat(parts, ignore_index=True) if parts else
                  pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else str)
                                for c in QUARANTINE_COLUMNS}))
    order = quarantine["table"].map({n: i for i, n in enumerate(TABLES)})
    quarantine = (quarantine.assign(_t=order).sort_values(["_t", "row"], kind="stable")
                  .drop(columns="_t").reset_index(drop=True))
    return _astype(quarantine, {"row": "int64"})


def _unmapped(other: pd.Series) -> pd.DataFrame:
    """``term_as_written, events``: each distinct term of ``other``, most events first."""
    unmapped = (other.value_counts().rename_axis("term_as_written").rename("events")
                .reset_index())
    return _astype(unmapped.sort_values(["events", "term_as_written"],
                                        ascending=[False, True], kind="stable")
                   .reset_index(drop=True), {"term_as_written": "string", "events": "int64"})


# an export with nothing to quarantine (or no unmapped term) gets a copy of the empty frame the
# same steps give, made once per process (the steps cost ~3 ms a load of a small export)
@functools.cache
def _quarantine_none() -> pd.DataFrame:
    return _quarantine([])


@functools.cache
def _unmapped_none(dtype) -> pd.DataFrame:
    return _unmapped(pd.Series([], dtype=dtype))


def _astype(frame: pd.DataFrame, dtypes: dict) -> pd.DataFrame:
    """``frame.astype(dtypes)`` for the columns not already of their dtype (same result)."""
    change = {c: d for c, d in dtypes.items()
              if frame[c].dtype != pd.api.types.pandas_dtype(d)}
    return frame.astype(change) if change else frame


_CLEAN_DTYPES = {k: pd.api.types.pandas_dtype(v) for k, v in {
    "id": "string", "text": "string", "choice": "string", "bool": "boolean", "int": "Int64",
    "float": "float64", "date": "datetime64[ns]"}.items()}


def _clean_dtypes(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Exactly the dtypes of docs/architecture.md."""
    kinds = {c.name: c.kind for c in COLUMNS[name]}
    kinds["term_as_written"] = "text"
    # only the columns not already of their dtype (astype costs ~0.1 ms a column even then)
    change = {c: _CLEAN_DTYPES[kinds[c]] for c, d in frame.dtypes.items()
              if d != _CLEAN_DTYPES[kinds[c]]}
    return (frame.astype(change) if change else frame).reset_index(drop=True)
