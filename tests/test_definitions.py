"""Tests for outcomes.definitions (defaults from outcome-definitions.md and architecture.md)."""
from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes import stats
from outcomes.definitions import INTERVAL_METHODS, Definitions
from outcomes.errors import DefinitionsError

# docs/architecture.md "Definitions" (plus the mixed-model subsample settings)
DEFAULTS = {
    "baseline_days_before": 30,
    "assessment_window": (270, 450),
    "assessment_target_day": 365,
    "gpa_improved": 1,
    "gpa_dramatic": 2,
    "density_improved": 0.10,
    "density_dramatic": 0.25,
    "density_sensitivity_thresholds": (0.0, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30),
    "interval_method": "wilson",
    "confidence": 0.95,
    "year_one_interval": (60, 120),
    "year_one_sessions": (3, 4),
    "maintenance_interval": (135, 225),
    "min_cell": 5,
    "age_bands": (18, 30, 40, 50, 60, 101),
    "funnel_levels": (0.95, 0.998),
    "model_max_patients": 5000,
    "model_seed": 2026,
    "safety_min_followup_days": 182,   # issue 11: the study required six months
    "spc_min_n": 5,
}


def write(tmp_path, text: str):
    path = tmp_path / "definitions.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_exactly_the_documented_fields_and_defaults():
    d = Definitions()
    assert [f.name for f in dataclasses.fields(d)] == list(DEFAULTS)
    assert dataclasses.asdict(d) == DEFAULTS


def test_frozen_and_hashable():
    d = Definitions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.confidence = 0.9  # type: ignore[misc]
    assert hash(d) == hash(Definitions()) and d == Definitions()


def test_interval_methods_match_stats():
    assert INTERVAL_METHODS == stats.INTERVAL_METHODS


def test_lists_become_tuples_and_ints_become_floats_where_fractions():
    d = Definitions(assessment_window=[300, 430], funnel_levels=[0.9, 0.99],
                    density_sensitivity_thresholds=[0, 0.1])
    assert d.assessment_window == (300, 430) and isinstance(d.funnel_levels, tuple)
    assert d.density_sensitivity_thresholds == (0.0, 0.1)
    assert isinstance(d.density_sensitivity_thresholds[0], float)


def test_to_dict_is_json_able_with_lists():
    out = Definitions().to_dict()
    assert list(out) == list(DEFAULTS)
    assert out["assessment_window"] == [270, 450] and out["age_bands"][-1] == 101
    assert json.loads(json.dumps(out)) == out


def test_round_trip_to_dict_toml_from_toml(tmp_path):
    d = Definitions(assessment_window=(300, 430), density_improved=0.15, density_dramatic=0.3,
                    interval_method="clopper-pearson", confidence=0.9, model_seed=7)
    back = Definitions.from_toml(write(tmp_path, d.to_toml()))
    assert back == d and back.to_dict() == d.to_dict()


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 200), st.integers(1, 300), st.floats(0.01, 0.49), st.floats(0.5, 0.99),
       st.sampled_from(INTERVAL_METHODS))
def test_round_trip_property(low, width, improved, dramatic, method):
    d = Definitions(assessment_window=(low, low + width), assessment_target_day=low,
                    density_improved=improved, density_dramatic=dramatic,
                    interval_method=method)
    assert Definitions.from_dict(json.loads(json.dumps(d.to_dict()))) == d


def test_from_toml_partial_file_keeps_other_defaults(tmp_path):
    path = write(tmp_path, '# clinic A\nassessment_window = [300, 430]\n'
                           'interval_method = "clopper-pearson"\nmin_cell = 10\n')
    d = Definitions.from_toml(path)
    assert d == dataclasses.replace(Definitions(), assessment_window=(300, 430),
                                    interval_method="clopper-pearson", min_cell=10)


def test_empty_file_gives_defaults(tmp_path):
    assert Definitions.from_toml(write(tmp_path, "")) == Definitions()


def test_unknown_key_names_key_file_and_accepted(tmp_path):
    path = write(tmp_path, "confidance = 0.9\n")
    with pytest.raises(DefinitionsError) as err:
        Definitions.from_toml(path)
    msg = str(err.value)
    assert str(path) in msg and "'confidance'" in msg and "did you mean 'confidence'" in msg
    assert "Accepted settings: baseline_days_before" in msg


def test_table_is_an_unknown_key(tmp_path):
    with pytest.raises(DefinitionsError, match="unknown setting 'response'"):
        Definitions.from_toml(write(tmp_path, "[response]\ngpa_improved = 1\n"))


@pytest.mark.parametrize(("text", "fragments"), [
    ('confidence = "high"\n', ["confidence = 'high' (str)", "between 0 and 1"]),
    ("baseline_days_before = 30.5\n", ["baseline_days_before = 30.5 (float)", "whole number"]),
    ("gpa_improved = true\n", ["gpa_improved = True (bool)"]),
    ("assessment_window = [270, 450, 500]\n", ["assessment_window = [270, 450, 500] (list)",
                                               "two whole numbers"]),
    ("assessment_window = 365\n", ["assessment_window = 365 (int)", "[low, high]"]),
    ("year_one_interval = [60.0, 120.0]\n", ["year_one_interval", "two whole numbers"]),
    ('funnel_levels = ["95%"]\n', ["funnel_levels", "fractions"]),
    ('interval_method = "wald"\n', ["interval_method = 'wald'",
                                    '"wilson" or "clopper-pearson"']),
])
def test_wrong_type_or_value_names_key_file_and_accepted(tmp_path, text, fragments):
    path = write(tmp_path, text)
    with pytest.raises(DefinitionsError) as err:
        Definitions.from_toml(path)
    msg = str(err.value)
    assert str(path) in msg
    for fragment in fragments:
        assert fragment in msg


@pytest.mark.parametrize("changes", [
    {"assessment_window": (450, 270)},
    {"assessment_window": (300, 300)},
    {"assessment_target_day": 500},
    {"baseline_days_before": -1},
    {"gpa_improved": 0},
    {"gpa_dramatic": 4},
    {"gpa_improved": 3, "gpa_dramatic": 2},
    {"density_improved": 0.0},
    {"density_improved": 1.0},
    {"density_dramatic": 0.05},
    {"density_sensitivity_thresholds": ()},
    {"density_sensitivity_thresholds": (0.1, 0.05)},
    {"confidence": 0.0},
    {"confidence": 1.0},
    {"confidence": 95},
    {"year_one_interval": (120, 60)},
    {"year_one_sessions": (0, 4)},
    {"year_one_sessions": (4, 3)},
    {"maintenance_interval": (-5, 225)},
    {"min_cell": 0},
    {"age_bands": (18,)},
    {"age_bands": (30, 18)},
    {"funnel_levels": (0.998, 0.95)},
    {"funnel_levels": (1.5,)},
    {"model_max_patients": 0},
    {"model_seed": -1},
    {"confidence": float("nan")},
])
def test_invalid_values_raise(changes):
    with pytest.raises(DefinitionsError) as err:
        Definitions(**changes)
    assert any(key in str(err.value) for key in changes)


def test_all_problems_reported_at_once():
    with pytest.raises(DefinitionsError) as err:
        Definitions(confidence=95, gpa_improved=True, assessment_window=(400, 300))
    msg = str(err.value)
    for key in ("confidence", "gpa_improved", "assessment_window", "assessment_target_day"):
        assert key in msg


def test_replace_revalidates():
    with pytest.raises(DefinitionsError, match="min_cell"):
        dataclasses.replace(Definitions(), min_cell=0)


def test_unreadable_files(tmp_path):
    with pytest.raises(DefinitionsError, match="not found"):
        Definitions.from_toml(tmp_path / "missing.toml")
    with pytest.raises(DefinitionsError, match="not valid TOML"):
        Definitions.from_toml(write(tmp_path, "confidence = \n"))
