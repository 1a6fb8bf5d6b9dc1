"""The outcome definitions: every default of outcome-definitions.md, changeable in a TOML file.

Two reports are comparable only when their definitions match, so every analysis carries the
:class:`Definitions` it used, and results files print them (:meth:`Definitions.to_dict`).

A definitions file holds any subset of the settings at its top level; the others keep their
defaults. Windows are two-element lists; days are whole numbers; thresholds are fractions::

    # definitions.toml
    assessment_window = [300, 430]   # days after the first session
    density_improved = 0.15          # +15 % hair density counts as improved
    interval_method = "clopper-pearson"
"""
from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from outcomes.errors import DefinitionsError
from outcomes.stats import INTERVAL_METHODS  # accepted ``interval_method`` values: stats owns them

__all__ = ["Definitions", "INTERVAL_METHODS"]


@dataclass(frozen=True)
class Definitions:
    """Every outcome definition an analysis depends on (defaults: outcome-definitions.md).

    Attributes
    ----------
    baseline_days_before : int, default 30
        A baseline measurement is the latest one from this many days before t0 up to t0 (days).
    assessment_window : (int, int), default (270, 450)
        The 12-month assessment is dated t0 + low to t0 + high days, inclusive.
    assessment_target_day : int, default 365
        Within the window, the measurement closest to t0 + this many days is used (ties: the
        earlier); must lie inside ``assessment_window``.
    gpa_improved, gpa_dramatic : int, default 1, 2
        Photographic global assessment (-3..+3) at or above which a patient is improved /
        dramatically ("markedly") improved.
    density_improved, density_dramatic : float, default 0.10, 0.25
        Relative density change (fraction) at or above which a patient is improved / dramatic.
    density_sensitivity_thresholds : tuple of float, default (0.0, 0.05, ..., 0.30)
        Thresholds (fractions, increasing) of the density sensitivity table.
    interval_method : {"wilson", "clopper-pearson"}, default "wilson"
        Interval for proportions.
    confidence : float, default 0.95
        Confidence level of every interval.
    year_one_interval : (int, int), default (60, 120)
        Days between sessions in year one that count as on schedule.
    year_one_sessions : (int, int), default (3, 4)
        Sessions in the first 365 days that count as on schedule.
    maintenance_interval : (int, int), default (135, 225)
        Days between maintenance sessions after year one that count as on schedule.
    min_cell : int, default 5
        Shareable output shows counts from 1 to ``min_cell - 1`` as ``"<5"``.
    age_bands : tuple of int, default (18, 30, 40, 50, 60, 101)
        Age-band edges in years (left-closed: 18-29, 30-39, ..., 60-100).
    funnel_levels : tuple of float, default (0.95, 0.998)
        Coverage of the funnel-plot limits.
    model_max_patients : int, default 5000
        The mixed model is fitted on at most this many patients (a seeded random subsample
        above it, so that it stays fast on large exports).
    model_seed : int, default 2026
        Seed of that subsample.
    safety_min_followup_days : int, default 182
        Adverse-event incidence comparable with the study counts only patients followed at
        least this many days (the study required six months): follow-up = last contact
        (session, measurement or event onset, up to the cut-off) minus the first session.
    spc_min_n : int, default 5
        Quarters of the p-chart with fewer patients than this are not plotted (no limits, no
        signal; they neither extend nor break a run).

    Raises
    ------
    DefinitionsError
        On any invalid value; the message lists every problem with the accepted values.

    Examples
    --------
    >>> d = Definitions(density_improved=0.15)
    >>> d.density_improved, d.assessment_window
    (0.15, (270, 450))
    """

    baseline_days_before: int = 30
    assessment_window: tuple[int, int] = (270, 450)
    assessment_target_day: int = 365
    gpa_improved: int = 1
    gpa_dramatic: int = 2
    density_improved: float = 0.10
    density_dramatic: float = 0.25
    density_sensitivity_thresholds: tuple[float, ...] = (0.0, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30)
    interval_method: str = "wilson"
    confidence: float = 0.95
    year_one_interval: tuple[int, int] = (60, 120)
    year_one_sessions: tuple[int, int] = (3, 4)
    maintenance_interval: tuple[int, int] = (135, 225)
    min_cell: int = 5
    age_bands: tuple[int, ...] = (18, 30, 40, 50, 60, 101)
    funnel_levels: tuple[float, ...] = (0.95, 0.998)
    model_max_patients: int = 5000
    model_seed: int = 2026
    safety_min_followup_days: int = 182
    spc_min_n: int = 5

    def __post_init__(self) -> None:
        problems: list[str] = []
        typed: dict[str, Any] = {}
        for f in fields(self):
            value, problem = _coerce(f.name, getattr(self, f.name))
            if problem:
                problems.append(problem)
            else:
                typed[f.name] = value
                object.__setattr__(self, f.name, value)
        problems += _check_ranges(typed)
        if problems:
            raise DefinitionsError("invalid definitions: " + "; ".join(problems))

    # ---------------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, settings: Mapping[str, Any], *, source: str = "definitions") -> Definitions:
        """Definitions from a mapping of settings (others keep their defaults).

        Parameters
        ----------
        settings : mapping
            Setting name -> value, as in :meth:`to_dict` (lists for windows).
        source : str
            Where the settings come from, named in error messages.

        Raises
        ------
        DefinitionsError
            Unknown setting, wrong type or invalid value; names the source and the setting.
        """
        unknown = sorted(set(settings) - set(_SPEC))
        if unknown:
            hints = [f"{u!r} (did you mean {m[0]!r}?)" if (m := get_close_matches(u, _SPEC, 1))
                     else repr(u) for u in unknown]
            raise DefinitionsError(
                f"{source}: unknown setting {', '.join(hints)}. Accepted settings: "
                f"{', '.join(_SPEC)}. Check the spelling (see outcome-definitions.md).")
        try:
            return cls(**dict(settings))
        except DefinitionsError as err:
            raise DefinitionsError(f"{source}: {err}") from None

    @classmethod
    def from_toml(cls, path: str | Path) -> Definitions:
        """Read definitions from a TOML file (top-level settings; others keep their defaults).

        Parameters
        ----------
        path : str or Path
            The definitions file.

        Raises
        ------
        DefinitionsError
            The file cannot be read or parsed, or holds an unknown setting, a value of the
            wrong type, or an invalid value; the message names the file, the setting and the
            accepted values.

        Examples
        --------
        >>> import tempfile, os
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     p = os.path.join(tmp, "defs.toml")
        ...     _ = open(p, "w").write("assessment_window = [300, 430]\\n")
        ...     Definitions.from_toml(p).assessment_window
        (300, 430)
        """
        path = Path(path)
        try:
            with path.open("rb") as f:
                data = tomllib.load(f)
        except FileNotFoundError:
            raise DefinitionsError(f"{path}: definitions file not found; check the path given "
                                   f"to --definitions.") from None
        except OSError as err:
            raise DefinitionsError(f"{path}: cannot read the definitions file ({err}).") from None
        except tomllib.TOMLDecodeError as err:
            raise DefinitionsError(f"{path}: not valid TOML ({err}). Write one setting per "
                                   f"line, e.g. `confidence = 0.95`.") from None
        return cls.from_dict(data, source=str(path))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict of every setting (tuples as lists), in field order.

        Examples
        --------
        >>> Definitions().to_dict()["assessment_window"]
        [270, 450]
        """
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in fields(self)}

    def to_toml(self) -> str:
        """Every setting as a TOML document that :meth:`from_toml` reads back unchanged.

        Examples
        --------
        >>> Definitions().to_toml().splitlines()[1]
        'assessment_window = [270, 450]'
        """
        return "".join(f"{key} = {json.dumps(value)}\n" for key, value in self.to_dict().items())


# --------------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------------
# setting -> (kind, accepted values in words)
_SPEC: dict[str, tuple[str, str]] = {
    "baseline_days_before": ("int", "a whole number of days >= 0, e.g. 30"),
    "assessment_window": ("pair", "two whole numbers of days [low, high], low < high, "
                                  "e.g. [270, 450]"),
    "assessment_target_day": ("int", "a whole number of days inside assessment_window, e.g. 365"),
    "gpa_improved": ("int", "a whole number from 1 to 3, e.g. 1"),
    "gpa_dramatic": ("int", "a whole number from 1 to 3, >= gpa_improved, e.g. 2"),
    "density_improved": ("float", "a fraction between 0 and 1 (exclusive), e.g. 0.10"),
    "density_dramatic": ("float", "a fraction between 0 and 1 (exclusive), >= density_improved, "
                                  "e.g. 0.25"),
    "density_sensitivity_thresholds": ("floats", "a list of increasing fractions from 0 to "
                                                 "below 1, e.g. [0.0, 0.05, 0.10]"),
    "interval_method": ("str", " or ".join(f'"{m}"' for m in INTERVAL_METHODS)),
    "confidence": ("float", "a fraction between 0 and 1 (exclusive), e.g. 0.95"),
    "year_one_interval": ("pair", "two whole numbers of days [low, high], low < high, "
                                  "e.g. [60, 120]"),
    "year_one_sessions": ("pair", "two whole numbers of sessions [low, high], 1 <= low <= high, "
                                  "e.g. [3, 4]"),
    "maintenance_interval": ("pair", "two whole numbers of days [low, high], low < high, "
                                     "e.g. [135, 225]"),
    "min_cell": ("int", "a whole number >= 1, e.g. 5"),
    "age_bands": ("ints", "a list of at least two increasing whole numbers of years >= 0, "
                          "e.g. [18, 30, 40, 50, 60, 101]"),
    "funnel_levels": ("floats", "a list of increasing fractions between 0 and 1 (exclusive), "
                                "e.g. [0.95, 0.998]"),
    "model_max_patients": ("int", "a whole number >= 1, e.g. 5000"),
    "model_seed": ("int", "a whole number >= 0, e.g. 2026"),
    "safety_min_followup_days": ("int", "a whole number of days >= 0, e.g. 182"),
    "spc_min_n": ("int", "a whole number >= 1, e.g. 5"),
}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return (_is_int(v) or isinstance(v, float)) and math.isfinite(v)


def _describe(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def _coerce(name: str, value: Any) -> tuple[Any, str]:
    """Check the type of one setting; return (normalised value, problem or "")."""
    kind, accepted = _SPEC[name]
    wrong = f"{name} = {_describe(value)}: expected {accepted}"
    if kind == "int":
        return (value, "") if _is_int(value) else (None, wrong)
    if kind == "float":
        return (float(value), "") if _is_number(value) else (None, wrong)
    if kind == "str":
        return (value, "") if isinstance(value, str) else (None, wrong)
    if not isinstance(value, (list, tuple)):
        return None, wrong
    if kind == "pair":
        ok = len(value) == 2 and all(_is_int(v) for v in value)
        return (tuple(value), "") if ok else (None, wrong)
    if kind == "ints":
        return (tuple(value), "") if all(_is_int(v) for v in value) else (None, wrong)
    # floats
    ok = all(_is_number(v) for v in value)
    return (tuple(float(v) for v in value), "") if ok else (None, wrong)


def _increasing(values: tuple) -> bool:
    return all(a < b for a, b in zip(values, values[1:]))


# setting -> rule on the well-typed settings (a rule that needs a badly typed one is skipped)
_RULES: dict[str, Any] = {
    "baseline_days_before": lambda d: d["baseline_days_before"] >= 0,
    "assessment_window": lambda d: 0 <= d["assessment_window"][0] < d["assessment_window"][1],
    "assessment_target_day": lambda d: (d["assessment_window"][0] <= d["assessment_target_day"]
                                        <= d["assessment_window"][1]),
    "gpa_improved": lambda d: 1 <= d["gpa_improved"] <= 3,
    "gpa_dramatic": lambda d: d["gpa_improved"] <= d["gpa_dramatic"] <= 3,
    "density_improved": lambda d: 0 < d["density_improved"] < 1,
    "density_dramatic": lambda d: d["density_improved"] <= d["density_dramatic"] < 1,
    "density_sensitivity_thresholds": lambda d: (
        len(t := d["density_sensitivity_thresholds"]) >= 1 and all(0 <= v < 1 for v in t)
        and _increasing(t)),
    "interval_method": lambda d: d["interval_method"] in INTERVAL_METHODS,
    "confidence": lambda d: 0 < d["confidence"] < 1,
    "year_one_interval": lambda d: 0 <= d["year_one_interval"][0] < d["year_one_interval"][1],
    "year_one_sessions": lambda d: 1 <= d["year_one_sessions"][0] <= d["year_one_sessions"][1],
    "maintenance_interval": lambda d: (0 <= d["maintenance_interval"][0]
                                       < d["maintenance_interval"][1]),
    "min_cell": lambda d: d["min_cell"] >= 1,
    "age_bands": lambda d: (len(a := d["age_bands"]) >= 2 and a[0] >= 0 and _increasing(a)),
    "funnel_levels": lambda d: (len(v := d["funnel_levels"]) >= 1
                                and all(0 < x < 1 for x in v) and _increasing(v)),
    "model_max_patients": lambda d: d["model_max_patients"] >= 1,
    "model_seed": lambda d: d["model_seed"] >= 0,
    "safety_min_followup_days": lambda d: d["safety_min_followup_days"] >= 0,
    "spc_min_n": lambda d: d["spc_min_n"] >= 1,
}


def _check_ranges(typed: dict[str, Any]) -> list[str]:
    """Value checks on the well-typed settings; one message per broken rule."""
    problems = []
    for name, rule in _RULES.items():
        try:
            ok = rule(typed)
        except KeyError:  # depends on a setting already reported as badly typed
            continue
        if not ok:
            problems.append(f"{name} = {_shown(typed[name])}: expected {_SPEC[name][1]}")
    return problems


def _shown(value: Any) -> str:
    return json.dumps(list(value)) if isinstance(value, tuple) else repr(value)
