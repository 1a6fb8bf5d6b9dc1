"""The mapping assistant: read an export and propose a complete mapping file for it.

``outcomes mapping EXPORT --out mapping.toml`` reads the export's sheets (or files), headers
and *distinct* values, and writes a mapping file in the schema of :mod:`outcomes.recognise`:
``[sheets]``, ``[columns.<table>]`` (with ``ignore``), ``[values.<table>.<column>]`` and
``[terms]``. Each line says what it is:

- ``# recognised``: what the loader itself would read (a contract name, a usual synonym);
- ``# guess (confidence 0.xx): ...``: the assistant's guess, to check;
- ``= "TODO"  # TODO: ...``: what it cannot know (an ambiguous code such as ``H``/``M`` in one
  sex column, an unknown header with values that could be several columns, an unknown term).
  ``TODO`` is not a valid target, so a file with a TODO left stops the load.

All recognition is :mod:`outcomes.recognise`'s (no synonym table here); this module only
decides what is certain, what is a guess and what must be asked, and writes the file.
"""
from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from outcomes import read as _read
from outcomes.contract import (CHOICES, COLUMNS, FALSE_SPELLINGS, REQUIRED_TABLES, TABLES,
                               TRUE_SPELLINGS, identifier_reason, looks_like_contact,
                               normalise_name)
from outcomes.errors import LoadError, OutcomesError
from outcomes.recognise import (ambiguous_sex_codes, header_index, match_header, match_sheet,
                                normalise_header, normalise_value, recode_values,
                                suggest_by_content, suggest_header)
from outcomes.vocabulary import SYNONYMS, TERMS, map_terms, normalise_term

__all__ = ["Proposal", "propose_mapping", "write_proposal", "cli_mapping", "TODO"]

#: the placeholder of every line the user must fill (not a valid target anywhere)
TODO = "TODO"
_DISTINCT_LIMIT = 5000            # distinct values looked at per column
_KIND = {t: {c.name: c.kind for c in cols} for t, cols in COLUMNS.items()}
_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+$")
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")


@dataclass(frozen=True)
class _Source:
    """One sheet (or file) of the export: its name, label, headers and text columns."""

    name: str                     # sheet name, or file stem
    label: str                    # "book.xlsx, sheet X" or the file path
    headers: list
    columns: list                 # pa.ChunkedArray per header, trimmed, nulls for "no value"


@dataclass
class _Line:
    key: str
    value: object                 # str, or list of str (ignore)
    status: str                   # "recognised", "guess", "todo"
    note: str = ""
    confidence: float | None = None


@dataclass(frozen=True)
class Proposal:
    """A proposed mapping file.

    Attributes
    ----------
    text : str
        The TOML text, with a comment on every line.
    options : dict
        Load options the export needs (``date_format``, ``decimal_comma``), to give on the
        command line with the mapping file.
    recognised, guesses, todos : int
        Lines the loader would read the same way, the assistant's guesses, and lines the user
        must fill (``TODO``).
    stops : tuple of str
        Problems a mapping file cannot fix (an identifier column to remove from the export).
    tables : dict
        Table -> the sheet or file it was found in.
    """

    text: str
    options: dict = field(default_factory=dict)
    recognised: int = 0
    guesses: int = 0
    todos: int = 0
    stops: tuple = ()
    tables: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------ reading
def _sources(path: Path) -> tuple[list[_Source], list[str]]:
    """Every data file of a folder, or every sheet of a workbook, as text columns."""
    notes: list[str] = []
    if not path.exists():
        raise LoadError(f"{path} does not exist.",
                        fix="Give the export folder or the .xlsx workbook.", file=str(path))
    if path.is_dir():
        files = [p for p in sorted(path.iterdir()) if p.is_file()
                 and p.suffix.lower() in _read.CSV_SUFFIXES + _read.PARQUET_SUFFIXES]
        books = [p for p in sorted(path.iterdir()) if p.suffix.lower() in _read.EXCEL_SUFFIXES
                 and not p.name.startswith("~$")]
        if not files and len(books) == 1:
            path = books[0]
        else:
            out = []
            for p in files:
                headers, table = (_read._parquet_table(p)
                                  if p.suffix.lower() in _read.PARQUET_SUFFIXES
                                  else _read._csv_table(p))
                out.append(_Source(p.stem, str(p), list(headers),
                                   [_read._clean_text(table.column(i))
                                    for i in range(table.num_columns)]))
            if books:
                notes.append(f"workbook(s) {', '.join(b.name for b in books)} beside the "
                             "files: not read.")
            return out, notes
    elif path.suffix.lower() not in _read.EXCEL_SUFFIXES:
        raise LoadError(f"{path} is one file; an export is a folder of tables or a workbook.",
                        fix="Give the folder that holds the files.", file=str(path))
    check = getattr(_read, "_check_workbook", None)
    if check is not None:
        check(path)                        # the loader's bound on what a workbook expands to
    out = []
    try:
        sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object,
                               engine="calamine")
    except Exception as err:  # noqa: BLE001 - a damaged workbook is a clear stop
        raise _read._fail_unreadable(str(path), err) from None
    for sheet, df in sheets.items():
        label = f"{path}, sheet {sheet}"
        if df.shape[0] == 0:
            notes.append(f"sheet {sheet!r} is empty: not read.")
            continue
        headers = ["" if pd.isna(h) else str(h) for h in df.iloc[0]]
        body = df.iloc[1:]
        cols = []
        for j in range(body.shape[1]):
            v = body.iloc[:, j].map(_read._excel_cell, na_action="ignore")
            cols.append(_read._clean_text(pa.chunked_array(
                [pa.array(v.astype(object).where(v.notna(), None).tolist(), type=pa.string())])))
        out.append(_Source(str(sheet), label, headers, cols))
    return out, notes


def _distinct(col: pa.ChunkedArray) -> pd.Series:
    """Distinct non-missing values, most frequent first (at most _DISTINCT_LIMIT)."""
    counts = _counts(col)
    return pd.Series(list(counts.index[:_DISTINCT_LIMIT]), dtype="string")


def _counts(col: pa.ChunkedArray) -> pd.Series:
    """Value -> number of rows, most frequent first (missing left out)."""
    vc = pc.value_counts(col.drop_null()) if len(col) else pa.array([], pa.struct(
        [("values", pa.string()), ("counts", pa.int64())]))
    if len(vc) == 0:
        return pd.Series(dtype="int64")
    values = vc.field("values").to_pylist()
    counts = vc.field("counts").to_pylist()
    s = pd.Series(counts, index=values, dtype="int64")
    return s.sort_values(ascending=False, kind="stable")


def _examples(values: pd.Series, n: int = 4) -> str:
    if len(values) == 0:
        return "all empty"
    shown = [repr(str(v)) for v in values[:n]]
    return ", ".join(shown) + (", ..." if len(values) > n else "")


# ------------------------------------------------------------------------------ deciding
def _assign_tables(sources: list[_Source]) -> tuple[dict[str, str], list[_Line]]:
    """Source name -> table, and the [sheets] lines (recognised, guessed or TODO)."""
    out: dict[str, str] = {}
    lines: list[_Line] = []
    asked: set[str] = set()
    # the loader's own rules, in its order: the contract name, then the usual names
    for rule in (lambda n: normalise_name(n) if normalise_name(n) in TABLES else None,
                 match_sheet):
        found: dict[str, list[str]] = {}
        for s in sources:
            table = None if s.name in out or s.name in asked else rule(s.name)
            if table is not None and table not in out.values():
                found.setdefault(table, []).append(s.name)
        for table, names in found.items():
            if len(names) == 1:
                out[names[0]] = table
                lines.append(_Line(names[0], table, "recognised"))
                continue
            for name in names:                  # two sheets for one table: only you know
                asked.add(name)
                others = ", ".join(repr(n) for n in names if n != name)
                lines.append(_Line(name, TODO, "todo",
                                   f"{others} also looks like {table}: write {table} for "
                                   "one and delete the other line (or name another table)"))
    # the rest: by the share of a table's required columns their headers name
    for s in sources:
        if s.name in out or s.name in asked:
            continue
        scores = {}
        for table in TABLES:
            if table in out.values():
                continue
            named = {match_header(table, h) for h in s.headers} - {None}
            required = [c.name for c in COLUMNS[table] if c.required]
            scores[table] = (sum(c in named for c in required) / len(required),
                             len(named) / len(COLUMNS[table]))
        ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        if ranked and ranked[0][1][0] >= 0.75 and (len(ranked) == 1
                                                   or ranked[1][1] < ranked[0][1]):
            table, (req, share) = ranked[0]
            out[s.name] = table
            lines.append(_Line(s.name, table, "guess",
                               f"its headers name {req:.0%} of the required columns of "
                               f"{table}", confidence=round(0.5 + 0.4 * share, 2)))
        elif ranked and ranked[0][1][1] > 0:
            left = [t for t in TABLES if t not in out.values()]
            lines.append(_Line(s.name, TODO, "todo",
                               f"which table is this? one of {', '.join(left)} (or delete "
                               "this line if it is none)"))
    return out, lines


def _name_confidence(table: str, header: str, column: str) -> float:
    key = normalise_header(header)
    keys = [k for k, c in header_index(table).items() if c == column]
    ratio = max((difflib.SequenceMatcher(None, key, k).ratio() for k in keys), default=0.0)
    return round(max(ratio, 0.5), 2)


def _looks_numeric(values: pd.Series) -> bool:
    return len(values) > 0 and bool(values.str.match(_NUMBER).all())


def _columns(table: str, source: _Source) -> tuple[dict[str, int], list[_Line], list[str],
                                                   list[str]]:
    """Header -> contract column for one table: (found {column: index}, lines, ignored
    headers, stops)."""
    found: dict[str, int] = {}
    lines: list[_Line] = []
    ignored: list[str] = []
    stops: list[str] = []
    unknown: list[int] = []
    for i, header in enumerate(source.headers):
        key = normalise_header(header)
        col = source.columns[i]
        if not key and col.null_count == len(col):
            continue
        builtin = match_header(table, header)
        if builtin is None:
            reason = identifier_reason(header)
            if reason == "free text":
                ignored.append(header)
                lines.append(_Line(header, None, "recognised",
                                   "free text: dropped unread (never used)"))
                continue
            if reason:
                stops.append(f"{source.label}: column {header!r} looks like it holds "
                             f"{reason}, an identifier: remove it from the export (a mapping "
                             "file cannot drop it).")
                continue
            unknown.append(i)
            continue
        if builtin in found:
            first = source.headers[found[builtin]]
            lines.append(_Line(header, TODO, "todo",
                               f"{first!r} already gives {builtin}: map this one to another "
                               "column, or delete this line and add it to ignore"))
            continue
        found[builtin] = i
        lines.append(_Line(header, builtin, "recognised"))
    # first what the names say (a misspelt or longer header), then what the values say
    rest = []
    for i in unknown:
        header = source.headers[i]
        guess = suggest_header(table, header, exclude=list(found))
        if guess is None:
            rest.append(i)
            continue
        found[guess] = i
        lines.append(_Line(header, guess, "guess", f"the header resembles {guess}",
                           confidence=_name_confidence(table, header, guess)))
    for i in rest:
        header = source.headers[i]
        absent = [c.name for c in COLUMNS[table] if c.name not in found]
        values = _distinct(source.columns[i])
        if len(values) and looks_like_contact(values).any():
            stops.append(f"{source.label}: column {header!r} holds e-mail addresses or "
                         "phone/card numbers, identifiers: remove it from the export")
            continue
        # values alone never decide: a yes/no column may be minoxidil or anything else
        by_content = suggest_by_content(table, values, absent) if absent else []
        numeric = [c for c in absent if _KIND[table][c] in ("int", "float")]
        if not by_content and _looks_numeric(values):
            by_content = numeric
        if by_content:
            lines.append(_Line(header, TODO, "todo",
                               f"the header is not known; its values ({_examples(values)}) "
                               f"fit {' or '.join(by_content)}: write the column, or delete "
                               "this line and add the header to ignore"))
            continue
        ignored.append(header)
        lines.append(_Line(header, None, "guess",
                           f"not a contract column (values {_examples(values)}): dropped "
                           "unread", confidence=0.7))
    return found, lines, ignored, stops


def _value_lines(table: str, column: str, col: pa.ChunkedArray) -> list[_Line]:
    """[values.<table>.<column>] lines, or [] when every value is a contract spelling."""
    kind = _KIND[table][column]
    counts = _counts(col)
    if counts.empty:
        return []
    written = pd.Series(list(counts.index), dtype="string")
    keys = written.map(normalise_value)
    if kind == "bool":
        own = written.str.lower().isin(TRUE_SPELLINGS | FALSE_SPELLINGS)
        allowed = "yes, no"
    else:
        contract = {normalise_value(k) for k in CHOICES[column]}
        own = keys.isin(contract)
        allowed = ", ".join(dict.fromkeys(CHOICES[column].values()))
    pair = ambiguous_sex_codes(set(keys)) if column == "sex" else None
    if own.all() and pair is None:
        return []
    recoded = recode_values(column, kind, written)
    lines: list[_Line] = []
    seen: set[str] = set()
    for value, key, target in zip(written, keys, recoded):
        if key in seen:
            continue
        seen.add(key)
        n = int(counts[value])
        if pair is not None and key in pair:
            other = pair[1] if key == pair[0] else pair[0]
            lines.append(_Line(value, TODO, "todo",
                               f"{n} rows; ambiguous: this column also holds "
                               f"{other.upper()!r} (H/V = hombre/varón and M = mujer in "
                               "Spanish; M = male in English): write F or M"))
        elif pd.isna(target):
            lines.append(_Line(value, TODO, "todo",
                               f"{n} rows; not recognised: write one of {allowed} (or delete "
                               "this line: those rows are then quarantined)"))
        else:
            lines.append(_Line(value, str(target), "recognised", f"{n} rows"))
    return lines


def _term_lines(col: pa.ChunkedArray) -> list[_Line]:
    """[terms] lines: every distinct term as written, with its event count."""
    counts = _counts(col)
    if counts.empty:
        return []
    written = pd.Series(list(counts.index), dtype="string")
    mapped = map_terms(written)
    keys = written.map(normalise_term)
    per_key = pd.Series(counts.to_numpy(), index=keys.to_numpy()).groupby(level=0).sum()
    synonym_keys = list(SYNONYMS)
    lines: list[_Line] = []
    seen: set[str] = set()
    for value, key, term in zip(written, keys, mapped):
        if key in seen or not key:
            continue
        seen.add(key)
        n = int(per_key[key])
        events = f"{n} event{'s' if n != 1 else ''}"
        if term != "other" or key == "other":
            lines.append(_Line(value, str(term), "recognised", events))
            continue
        close = difflib.get_close_matches(key, synonym_keys, n=1, cutoff=0.85)
        if close:
            ratio = difflib.SequenceMatcher(None, key, close[0]).ratio()
            lines.append(_Line(value, SYNONYMS[close[0]], "guess",
                               f"{events}; resembles {close[0]!r}", confidence=round(ratio, 2)))
        else:
            lines.append(_Line(value, TODO, "todo",
                               f"{events}; not in the vocabulary: write a term listed above"))
    return lines


def _options(table: str, found: dict[str, int], source: _Source
             ) -> tuple[dict, list[str], list[str]]:
    """Load options the values call for (``date_format``, ``decimal_comma``), what only the
    user can say (day and month both 12 or less everywhere), and what only the export can fix
    (dates pasted as Excel day numbers)."""
    options: dict = {}
    notes: list[str] = []
    stops: list[str] = []
    for column, i in found.items():
        kind = _KIND[table][column]
        if kind not in ("date", "int", "float"):
            continue
        values = _distinct(source.columns[i])
        header = source.headers[i]
        if kind == "date":
            if len(values) and values.str.fullmatch(r"\d{5}(\.0+)?").all():
                stops.append(f"{source.label}, column {header!r}: dates are Excel day "
                             f"numbers ({_examples(values, 2)}): format the column as dates "
                             "in the workbook")
                continue
            parts = values.str.extract(_DMY)
            written = values[parts[0].notna()]
            m = parts.dropna().astype(int)
            if len(m):
                if (m[0] > 12).any() and not (m[1] > 12).any():
                    options["date_format"] = "DMY"
                elif (m[1] > 12).any() and not (m[0] > 12).any():
                    options["date_format"] = "MDY"
                else:
                    notes.append(f"{table}.{column}: dates such as {written.iloc[0]!r} do not "
                                 "say which is the day: give --date-format DMY or MDY (you "
                                 "know which)")
        elif kind in ("int", "float") and values.str.match(_DECIMAL_COMMA).any():
            options["decimal_comma"] = True
    return options, notes, stops


# ------------------------------------------------------------------------------ writing
def _toml(text: object) -> str:
    """A TOML basic string (JSON's escapes are TOML's, but for DEL, which TOML forbids raw)."""
    return json.dumps(str(text), ensure_ascii=False).replace("\x7f", "\\u007f")


def _render(line: _Line) -> str:
    value = (("[" + ", ".join(_toml(v) for v in line.value) + "]")
             if isinstance(line.value, list) else _toml(line.value))
    body = f"{_toml(line.key)} = {value}"
    if line.status == "recognised":
        comment = "recognised" + (f"; {line.note}" if line.note else "")
    elif line.status == "guess":
        comment = f"guess (confidence {line.confidence:.2f}): {line.note}"
    else:
        comment = f"TODO: {line.note}"
    return f"{body:<48}  # {comment}"


def propose_mapping(path: str | Path) -> Proposal:
    """Read an export and propose a complete mapping file for it.

    Parameters
    ----------
    path : str or Path
        The export: a folder of CSV/Parquet files (any names) or an ``.xlsx`` workbook (any
        sheet names), as for :func:`outcomes.load`.

    Returns
    -------
    Proposal
        The mapping file's text and what it holds. Nothing is written.

    Raises
    ------
    outcomes.errors.LoadError
        The export cannot be read (no such path, a damaged or oversized file).
    """
    path = Path(path)
    sources, notes = _sources(path)
    assigned, sheet_lines = _assign_tables(sources)
    by_table = {t: s for s in sources for n, t in assigned.items() if s.name == n}
    by_name = {t: n for n, t in assigned.items()}
    out = [
        f"# Mapping file proposed by `outcomes mapping` for {path.name}.",
        "# Check every line marked 'guess'; replace every \"TODO\" (the load stops while one",
        "# is left). Lines marked 'recognised' are what the loader reads anyway.",
    ]
    options: dict = {}
    option_notes: list[str] = []
    stops: list[str] = []
    counts = {"recognised": 0, "guess": 0, "todo": 0}
    body: list[str] = []

    def emit(header: str, lines: list[_Line]) -> None:
        body.extend(["", header])
        for line in lines:
            counts[line.status] += 1
            body.append(_render(line))

    emit("[sheets]  # sheet (or file) -> table", sheet_lines)
    for s in sources:
        if s.name not in assigned and not any(x.key == s.name for x in sheet_lines):
            also = match_sheet(s.name) or (normalise_name(s.name)
                                           if normalise_name(s.name) in TABLES else None)
            why = (f"named like {also}, but {by_name[also]!r} is read for it" if also
                   else "nothing in it resembles a table")
            body.append(f"# {_toml(s.name)}: not read ({why})")
    for table in REQUIRED_TABLES:
        if table not in assigned.values():
            body.append(f"# TODO: no sheet or file holds {table} (required): add a line "
                        f'"<sheet name>" = "{table}"')
            counts["todo"] += 1
    value_sections: list[tuple[str, list[_Line]]] = []
    term_lines: list[_Line] = []
    for table in TABLES:
        source = by_table.get(table)
        if source is None:
            continue
        found, lines, ignored, table_stops = _columns(table, source)
        stops += table_stops
        missing = [c.name for c in COLUMNS[table] if c.required and c.name not in found]
        column_lines = [x for x in lines if x.value is not None]
        ignore_lines = [x for x in lines if x.value is None]
        emit(f"[columns.{table}]  # from {source.name!r}", column_lines)
        for m in missing:
            body.append(f"# TODO: required column {m} not found: map the header that holds "
                        f'it ("<header>" = "{m}")')
            counts["todo"] += 1
        for x in ignore_lines:
            counts[x.status] += 1
            comment = (f"guess (confidence {x.confidence:.2f}): " if x.status == "guess"
                       else "recognised; ") + f"{_toml(x.key)}: {x.note}"
            body.append(f"# ignore {comment}")
        body.append("ignore = [" + ", ".join(_toml(h) for h in ignored) + "]")
        for column, i in found.items():
            kind = _KIND[table][column]
            if kind in ("choice", "bool"):
                vl = _value_lines(table, column, source.columns[i])
                if vl:
                    value_sections.append((f"[values.{table}.{column}]", vl))
            if table == "adverse_events" and column == "term":
                term_lines = _term_lines(source.columns[i])
        opts, onotes, ostops = _options(table, found, source)
        options.update(opts)
        option_notes += onotes
        stops += ostops
    for header, vl in value_sections:
        emit(header + "  # value as written -> contract value", vl)
    if term_lines:
        emit("[terms]  # adverse-event term as written -> vocabulary term, one of:\n# "
             + ", ".join(TERMS), term_lines)
    if options or option_notes:
        given = " ".join(f"--date-format {v}" if k == "date_format" else "--decimal-comma"
                         for k, v in options.items())
        out.append(f"# Load with: outcomes validate {path.name} --mapping THIS_FILE {given}"
                   .rstrip())
        out += [f"# TODO: {n}" for n in option_notes]
        counts["todo"] += len(option_notes)
    out += [f"# STOP (fix the export): {s}" for s in stops]
    out += [f"# note: {n}" for n in notes]
    out.append(f"# {counts['recognised']} recognised, {counts['guess']} guesses, "
               f"{counts['todo']} TODO.")
    text = "\n".join(out + body) + "\n"
    return Proposal(text=text, options=options, recognised=counts["recognised"],
                    guesses=counts["guess"], todos=counts["todo"], stops=tuple(stops),
                    tables={t: s.label for t, s in by_table.items()})


def write_proposal(path: str | Path, out: str | Path) -> Proposal:
    """:func:`propose_mapping` on ``path``, written to ``out`` (which must not exist)."""
    out = Path(out)
    if out.exists():
        raise OutcomesError(f"{out} already exists; not overwritten. Give a new file name or "
                            "remove the old file.")
    proposal = propose_mapping(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(proposal.text, encoding="utf-8")
    return proposal


def cli_mapping(args) -> int:
    """``outcomes mapping EXPORT --out mapping.toml``: propose a mapping file; returns 0."""
    out = Path(args.out)
    proposal = write_proposal(args.data, out)
    given = " ".join(f"--date-format {v}" if k == "date_format" else "--decimal-comma"
                     for k, v in proposal.options.items())
    print(f"wrote {out}: {len(proposal.tables)} tables found "
          f"({', '.join(f'{t} <- {Path(w).name}' for t, w in proposal.tables.items())})")
    print(f"  {proposal.recognised} recognised, {proposal.guesses} guesses to check, "
          f"{proposal.todos} TODO to fill")
    for s in proposal.stops:
        print(f"  fix the export first: {s}")
    print(f"then: outcomes validate {args.data} --mapping {out} {given}".rstrip())
    return 0
