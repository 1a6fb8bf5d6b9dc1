"""Clinics' results files for pooling: what is sent, and the checks before anything is pooled.

The file a clinic sends for pooling is its **pooling file**, written by
``outcomes analyze --pooling-file FILE`` (:meth:`outcomes.analysis.Analysis.pooling_dict`):
exact aggregate counts (small ones included: they are needed to pool exactly), practitioners as
keyed codes (never names), no model, no patient row, no date but the cut-off. It is seen by the
network's pooling coordinator only, under the network's data-sharing agreement; what the network
publishes is the shareable pooled output (:func:`outcomes.pooling.pool_results` with
``shareable=True``), which passes the disclosure-control policy (docs/disclosure-control.md).

:func:`read_results` refuses a file holding patient-level content, a suppressed or rounded
(shareable) count, a practitioner that is not a code, another format version, or a pooled
file; :func:`check_definitions` refuses clinics whose outcome definitions differ.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from outcomes import __version__
from outcomes.errors import ResultsFileError

__all__ = ["FORMAT_VERSION", "TABLES", "COHORT_KEYS", "read_results", "check_definitions",
           "json_records",
           "file_sha256", "is_count", "PRACTITIONER_CODE"]

#: the results-file format this version reads and writes
FORMAT_VERSION = 1

#: table -> (key columns, count columns summed when pooling)
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "flow": (("step",), ("n",)),
    "response": (("family", "group", "outcome"), ("k", "n")),
    "density_sensitivity": (("threshold",), ("k", "n")),
    "photographic_sensitivity": (("threshold",), ("k", "n")),
    "density_change": (("measure",), ("n",)),
    "adverse_events": (("term",), ("k", "n", "events", "sessions")),
    "ae_timing": (("term", "session_number"), ("events",)),
    "ae_duration": (("term",), ("events",)),
    "ae_followup": (("term",), ("k", "n", "treated", "excluded", "excluded_recent",
                                "excluded_stopped", "events", "sessions")),
    "protocol": (("measure",), ("k", "n")),
    "screening": (("deviation",), ("sessions", "patients")),
    "strata": (("family", "outcome", "stratum", "level"), ("k", "n")),
    "quarterly": (("family", "quarter"), ("k", "n")),
    "funnel": (("practitioner_id",), ("k", "n")),
}
_REQUIRED = ("format_version", "package_version", "kind", "cutoff", "definitions", "cohort",
             "response", "adverse_events", "strata")
_COHORT_KEYS = ("patients", "treated", "due_12m", "assessed_photographic", "assessed_density")
#: keys and tables that only patient-level output carries
_PATIENT_KEYS = re.compile(r"(^|_)(patient|event|session)_id$|^(t0|onset_date|session_date|"
                           r"measurement_date|pseudonym)$", re.IGNORECASE)
_PATIENT_TABLES = ("sentinel_cases", "screening_cases", "protocol_patients", "patients",
                   "sessions", "measurements")
_DATE = re.compile(r"^\s*(\d{4}-\d{1,2}-\d{1,2}([ T]\d.*)?|\d{1,2}[/.]\d{1,2}[/.]\d{4})\s*$")
_SEND_AGGREGATE = ("Ask the clinic to send its pooling file, written by `outcomes analyze "
                   "--pooling-file FILE` (exact aggregate counts, practitioners as codes), not "
                   "its shareable report file.")
#: a practitioner as it may appear in a pooling file: a keyed code, or not recorded
PRACTITIONER_CODE = re.compile(r"^(PR-[0-9A-F]{8}|not recorded)$")


def _fail(source: str, message: str, fix: str = "") -> ResultsFileError:
    return ResultsFileError(f"{source}: {message}" + (f" {fix}" if fix else ""))


def _sha256(path: Path | None, data: Mapping) -> str:
    if path is not None:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _is_count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _check_patient_level(source: str, obj, cutoff: str, where: str = "") -> None:
    """Raise on any key, table or date value that only patient-level output has."""
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            here = f"{where}.{key}" if where else str(key)
            if _PATIENT_KEYS.search(str(key)):
                raise _fail(source, f"holds patient-level content: key {here!r}. A results file "
                            "must be aggregate only.", _SEND_AGGREGATE)
            _check_patient_level(source, value, cutoff, here)
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            _check_patient_level(source, value, cutoff, f"{where}[{i}]")
    elif isinstance(obj, str) and _DATE.match(obj) and obj.strip() != cutoff:
        raise _fail(source, f"holds a date other than the cut-off at {where} ({obj!r}): "
                    "patient dates must not leave the clinic.", _SEND_AGGREGATE)


def _check_tables(source: str, data: Mapping) -> None:
    """Types of every pooled table: records with scalar keys and whole-number counts."""
    for table, (keys, counts) in TABLES.items():
        if table not in data:
            continue
        records = data[table]
        if not isinstance(records, list) or not all(isinstance(r, Mapping) for r in records):
            raise _fail(source, f"{table!r} must be a list of records, "
                        f"received {type(records).__name__}.", "The file is corrupted: "
                        "re-run `outcomes analyze --json FILE`.")
        for i, rec in enumerate(records):
            for col in keys + counts:
                if col not in rec:
                    raise _fail(source, f"{table}[{i}] has no {col!r}.", "The file is "
                                "corrupted or not from `outcomes analyze`: re-run it.")
            for col in keys:
                if isinstance(rec[col], (dict, list)):
                    raise _fail(source, f"{table}[{i}].{col} = {rec[col]!r}: expected a label.")
            for col in counts:
                value = rec[col]
                if isinstance(value, str) and value.startswith("<"):
                    raise _fail(source, f"{table}[{i}].{col} is suppressed ({value!r}): small "
                                "counts cannot be summed exactly.", _SEND_AGGREGATE)
                if not _is_count(value):
                    raise _fail(source, f"{table}[{i}].{col} = {value!r}: expected a whole "
                                "number >= 0.", "The file is corrupted: re-run `outcomes "
                                "analyze --json FILE`.")


def read_results(path, *, source: str | None = None) -> dict:
    """Read and check one clinic's results file (``outcomes analyze --json``).

    Parameters
    ----------
    path : str, Path or dict
        The results JSON file, or an already parsed dict.
    source : str, optional
        Name used in messages (default: the path, or ``"results"``).

    Returns
    -------
    dict
        The parsed results, unchanged.

    Raises
    ------
    ResultsFileError
        Unreadable or not JSON (says where); a required key missing; a ``format_version``
        older or newer than this package reads (says what to run or install); no
        ``package_version``; a pooled file; patient-level content (a ``*_id`` key of a
        patient, event or session, a case list, a date other than the cut-off); a suppressed
        ``"<5"`` count; a count that is not a whole number.
    """
    if isinstance(path, Mapping):
        # a deep, JSON-normalised copy: tuples -> lists as in a file; the input is not touched
        try:
            data = json.loads(json.dumps(path, default=str))
        except (TypeError, ValueError) as err:
            raise _fail(source or "results", f"is not JSON-able ({err}).") from None
        source = source or "results"
    else:
        p = Path(path)
        source = source or str(p)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise _fail(source, f"cannot be read ({err.__class__.__name__}: {err}).",
                        "Check the path, and that it is the UTF-8 JSON file written by "
                        "`outcomes analyze --json FILE`.") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise _fail(source, f"is not valid JSON ({err.msg} at line {err.lineno}, column "
                        f"{err.colno}); the file is truncated or corrupted.",
                        "Ask the clinic to re-run `outcomes analyze --json FILE` and send the "
                        "file again.") from None
    if not isinstance(data, Mapping):
        raise _fail(source, f"expected a JSON object, received {type(data).__name__}.",
                    "Send the file written by `outcomes analyze --json FILE`.")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise _fail(source, f"missing key(s) {', '.join(missing)}: not a results file of "
                    "`outcomes analyze`, or truncated.", "Re-run `outcomes analyze --json FILE`.")
    version = data["format_version"]
    if not _is_count(version):
        raise _fail(source, f"format_version = {version!r}: expected a whole number.")
    if version < FORMAT_VERSION:
        raise _fail(source, f"format_version {version} is older than the version {FORMAT_VERSION}"
                    f" this outcomes {__version__} reads.", "Ask the clinic to update outcomes "
                    "and re-run `outcomes analyze --json FILE`.")
    if version > FORMAT_VERSION:
        raise _fail(source, f"format_version {version} is newer than the version "
                    f"{FORMAT_VERSION} this outcomes {__version__} reads (the file says "
                    f"package_version {data.get('package_version')!r}).",
                    "Update outcomes (`pip install -U outcomes`) on the pooling machine.")
    if not isinstance(data["package_version"], str) or not data["package_version"].strip():
        raise _fail(source, "package_version is missing or empty: the package version that "
                    "wrote the file must be recorded.", "Re-run `outcomes analyze --json FILE`.")
    if data["kind"] != "analysis":
        raise _fail(source, f"kind is {data['kind']!r}; only a clinic's own analysis "
                    "(kind 'analysis') is pooled, so that no clinic is counted twice.",
                    "Pool the clinics' own `outcomes analyze --json` files.")
    if data.get("shareable") is True:
        raise _fail(source, "is a shareable results file: its counts are rounded and small ones "
                    "hidden, so they cannot be summed exactly.", _SEND_AGGREGATE)
    cutoff = data["cutoff"]
    if not isinstance(cutoff, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", cutoff):
        raise _fail(source, f"cutoff = {cutoff!r}: expected YYYY-MM-DD.")
    if not isinstance(data["definitions"], Mapping):
        raise _fail(source, "definitions must be an object of the outcome definitions used.")
    cohort = data["cohort"]
    if not isinstance(cohort, Mapping):
        raise _fail(source, f"cohort is a {type(cohort).__name__}, not the object of counts "
                    f"({', '.join(_COHORT_KEYS)}): patient-level content is not pooled.",
                    _SEND_AGGREGATE)
    for table in _PATIENT_TABLES:
        if table in data:
            raise _fail(source, f"holds the patient-level table {table!r}.", _SEND_AGGREGATE)
    _check_patient_level(source, {k: v for k, v in data.items() if k != "cutoff"}, cutoff)
    for key in _COHORT_KEYS:
        value = cohort.get(key)
        if isinstance(value, str) and value.startswith("<"):
            raise _fail(source, f"cohort.{key} is suppressed ({value!r}).", _SEND_AGGREGATE)
        if not _is_count(value):
            raise _fail(source, f"cohort.{key} = {value!r}: expected a whole number >= 0.",
                        "Re-run `outcomes analyze --json FILE`.")
    _check_tables(source, data)
    _check_practitioners(source, data)
    return dict(data)


def _check_practitioners(source: str, data: Mapping) -> None:
    """Practitioners must arrive as codes (PR-XXXXXXXX), never as names or ids."""
    where = [(f"funnel[{i}].practitioner_id", r.get("practitioner_id"))
             for i, r in enumerate(data.get("funnel", []))]
    where += [(f"strata[{i}].level", r.get("level")) for i, r in enumerate(data.get("strata", []))
              if r.get("stratum") == "practitioner"]
    for here, value in where:
        if not (isinstance(value, str) and PRACTITIONER_CODE.match(value)):
            raise _fail(source, f"{here} is {value!r}, not a practitioner code (PR-XXXXXXXX): "
                        "practitioners' names or ids must not leave the clinic.",
                        _SEND_AGGREGATE)


#: definitions that do not change a pooled count: the model's settings (the model is not
#: pooled) and ``min_cell`` (suppression only; the pool uses the largest)
_DEFINITIONS_NOT_COMPARED = ("model_max_patients", "model_seed", "min_cell")


def check_definitions(files: list[tuple[str, Mapping]]) -> None:
    """Refuse files whose outcome definitions differ, naming the key and the values."""
    ref_label, ref = files[0][0], files[0][1]["definitions"]
    for label, data in files[1:]:
        defs = data["definitions"]
        for key in sorted((set(ref) | set(defs)) - set(_DEFINITIONS_NOT_COMPARED)):
            a, b = ref.get(key, "<absent>"), defs.get(key, "<absent>")
            if a != b:
                raise ResultsFileError(
                    f"definitions differ: {key!r} is {a!r} in {ref_label} but {b!r} in {label}. "
                    "Counts are comparable only under the same definitions: ask the clinics to "
                    "re-run `outcomes analyze --json` with the same definitions file.")




# public names of the helpers the pool uses
file_sha256 = _sha256
is_count = _is_count
COHORT_KEYS = _COHORT_KEYS


def _plain(value):
    """A JSON-able Python scalar (NaN/NA -> None)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, (pd.Timestamp, _dt.date)):
        return value.isoformat()
    return value


def json_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Records of a small aggregate frame with JSON-able values (NaN/NA -> None, numpy
    scalars -> Python, exact floats); the body of every results-file table."""
    cols = list(frame.columns)
    data = [[_plain(v) for v in frame[c].tolist()] for c in cols]
    return [dict(zip(cols, row)) for row in zip(*data)]
