"""The one disclosure-control pass (outcomes.disclosure): declared schema, policy, codes."""
import dataclasses
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes import disclosure
from outcomes.analysis import SHARED_FRAMES
from outcomes.definitions import Definitions
from outcomes.disclosure import (SCHEMA, DisclosureError, PractitionerCoder, check_declared,
                                 check_shareable_definitions, control_frame, generic_rule,
                                 publish_counts)
from outcomes.errors import DefinitionsError


def _response():
    return pd.DataFrame({
        "family": ["photographic"] * 4, "group": ["all", "comparable", "all", "all"],
        "outcome": ["improved", "improved", "dramatic", "worst_case_improved"],
        "k": [69, 3, 0, 12], "n": [86, 4, 3, 14], "rate": [69 / 86, 0.75, 0.0, 12 / 14],
        "ci_low": [0.7, 0.3, 0.0, 0.6], "ci_high": [0.9, 0.95, 0.5, 0.97],
        "method": "wilson", "benchmark_id": ["saceda2022_improved", None, None, None],
        "benchmark_rate": [0.8, np.nan, np.nan, np.nan],
        "benchmark_k": pd.array([69, None, None, None], dtype="Int64"),
        "benchmark_n": pd.array([86, None, None, None], dtype="Int64"),
        "p_value": [1.0, np.nan, np.nan, np.nan], "fisher_p_value": [1.0, np.nan, np.nan, np.nan],
        "diff": [0.0, np.nan, np.nan, np.nan], "diff_ci_low": [-0.1, np.nan, np.nan, np.nan],
        "diff_ci_high": [0.1, np.nan, np.nan, np.nan]})


KEY = b"a clinic key of 32 random bytes!"


def test_counts_published_under_the_policy():
    out = publish_counts([0, 1, 4, 5, 10, 118, 120], key=KEY).tolist()
    assert out[:5] == [0, "<5", "<5", 5, 10] and out[5] in (115, 120) and out[6] == 120
    assert publish_counts([3, 9, 12], min_cell=10, key=KEY).tolist()[:2] == ["<10", "<10"]
    assert publish_counts([None, np.nan, "<5", "*"]).tolist() == [None, None, "<5", "*"]
    # the same count always publishes the same value under one key, wherever it appears
    assert len({publish_counts([13], key=KEY)[0] for _ in range(3)}) == 1


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 500), min_size=1, max_size=30), st.binary(min_size=16,
                                                                          max_size=32))
def test_published_counts_are_zero_suppressed_or_adjacent_multiples_of_five(values, key):
    out = publish_counts(values, key=key)
    for v, p in zip(values, out):
        if v == 0:
            assert p == 0
        elif v < 5:
            assert p == "<5"
        else:
            assert isinstance(p, int) and p % 5 == 0 and p >= 5 and abs(p - v) <= 4
    # monotone: a larger count never publishes a smaller value (k <= n survives)
    pairs = sorted(zip(values, out))
    nums = [p for v, p in pairs if v >= 5]
    assert nums == sorted(nums)


def test_rounding_is_unbiased_over_keys():
    # P(up) = (count mod 5) / 5: over 2000 keys the mean published 13 is 13 (R: 13 = 10*0.4 +
    # 15*0.6); binomial sd of the share rounded up: sqrt(.6*.4/2000) = 0.011
    ups = np.mean([publish_counts([13], key=i.to_bytes(4, "big"))[0] == 15
                   for i in range(2000)])
    assert abs(ups - 0.6) < 0.045


def test_derived_columns_are_recomputed_from_published_counts():
    coder = PractitionerCoder(KEY)
    out = control_frame("response", _response(), definitions=Definitions(), coder=coder)
    k0, n0, k3, n3 = publish_counts([69, 86, 12, 14], key=KEY)
    assert out["k"].tolist() == [k0, "<5", "<5", k3]   # the 0 beside n = 3 is hidden too
    assert out["n"].tolist() == [n0, "<5", "<5", n3]
    assert out["rate"].iloc[0] == k0 / n0 and out["rate"].iloc[3] == k3 / n3
    for c in ("rate", "ci_low", "ci_high"):
        assert np.isnan(out[c].iloc[1]) and np.isnan(out[c].iloc[2])
    # the exact binomial test is of the published counts, not of the exact 69/86
    from outcomes import stats
    assert out["p_value"].iloc[0] == pytest.approx(stats.binom_test(k0, n0, 0.8))
    assert out["benchmark_k"].iloc[0] == 69        # a published figure, copied


def test_undeclared_frame_or_column_fails_loudly():
    with pytest.raises(DisclosureError, match="not declared"):
        control_frame("my_new_frame", pd.DataFrame({"k": [1]}))
    with pytest.raises(DisclosureError, match="'secret'"):
        control_frame("response", _response().assign(secret=1))


def test_every_frame_of_the_results_is_declared(sample_analysis):
    for name in SHARED_FRAMES:
        check_declared(name, getattr(sample_analysis, name), sample_analysis.definitions)
    for name, spec in SCHEMA.items():
        for role in spec.roles(Definitions()).values():
            assert role in disclosure.ROLES, (name, role)


def test_internal_columns_dropped_and_practitioners_coded():
    f = pd.DataFrame({"practitioner_id": ["Dr Jane Doe", "jane@clinic.example", "not recorded"],
                      "k": [20, 9, 1], "n": [25, 12, 2], "rate": [0.8, 0.75, 0.5],
                      "p0": 0.8, "low95": 0.5, "high95": 0.9, "low998": 0.4, "high998": 0.95,
                      "flag": "within"})
    coder = PractitionerCoder(KEY)
    out = control_frame("funnel", f, coder=coder)
    codes = out["practitioner_id"].tolist()
    assert "not recorded" in codes
    assert all(re.fullmatch(r"PR-[0-9A-F]{8}", c) for c in codes if c != "not recorded")
    assert "Jane" not in repr(out) and "@" not in repr(out)
    # the same key gives the same code every quarter; another key another code
    again = control_frame("funnel", f, coder=PractitionerCoder(KEY))
    assert sorted(again["practitioner_id"]) == sorted(codes)
    other = control_frame("funnel", f, coder=PractitionerCoder(b"another clinic's key, 32 bytes."))
    assert not set(other["practitioner_id"]) - {"not recorded"} & set(codes)
    # limits recomputed from the published n (no exact n inside them): the suppressed row has none
    hidden = out[out["n"] == "<5"]
    assert hidden[["rate", "low95", "high95", "p0"]].isna().all().all()
    assert hidden["flag"].isna().all()
    assert "key" not in repr(coder) or "stable" in repr(coder)


def test_funnel_limits_withheld_by_role_for_any_levels():
    defs = dataclasses.replace(Definitions(), funnel_levels=(0.9, 0.99))
    f = pd.DataFrame({"practitioner_id": ["A", "B"], "k": [2, 20], "n": [3, 25],
                      "rate": [2 / 3, 0.8], "p0": 0.75, "low9": 0.1, "high9": 0.9,
                      "low99": 0.0, "high99": 1.0, "flag": "within"})
    out = control_frame("funnel", f, definitions=defs)
    small = out["n"] == "<5"
    assert out.loc[small, ["low9", "high9", "low99", "high99"]].isna().all().all()


def test_model_term_on_few_patients_withheld():
    m = pd.DataFrame({"term": ["Intercept", "sex[T.M]", "months"], "coef": [100.0, 3.0, 1.0],
                      "std_err": 1.0, "ci_low": 0.0, "ci_high": 2.0, "p_value": 0.01,
                      "patients": [1, 1, 40]})
    out = control_frame("model", m)
    assert out["coef"].isna().tolist() == [True, True, False]
    assert out["patients"].tolist() == ["<5", "<5", 40]


@pytest.mark.parametrize("change, why", [
    ({"min_cell": 1}, "below the floor"),
    ({"age_bands": (18, 45, 101)}, "multiples of 10"),
    ({"density_sensitivity_thresholds": (0.0, 0.11)}, "multiples of 0.05"),
    ({"density_improved": 0.11}, "not a multiple"),
    ({"funnel_levels": (0.9, 0.99)}, "default"),
])
def test_shareable_refuses_weakening_settings(change, why):
    defs = dataclasses.replace(Definitions(), **change)
    with pytest.raises(DefinitionsError, match=why):
        check_shareable_definitions(defs)


def test_shareable_refuses_a_cutoff_inside_a_quarter():
    check_shareable_definitions(Definitions(), cutoff="2026-09-30")
    with pytest.raises(DefinitionsError, match="last day of a quarter"):
        check_shareable_definitions(Definitions(), cutoff="2026-09-29")


def test_quarantine_rules_carry_no_pseudonym_or_date():
    assert generic_rule("the session belongs to another patient (patient P00001); "
                        "session_id must be unique") == (
        "the session belongs to another patient; session_id must be unique")
    assert "2025" not in generic_rule("not before the patient's first session (2025-02-01); "
                                      "correct the date")
    assert "17" not in generic_rule("duplicate patient_id: the same as row 17; IDs must be unique")


def test_model_note_counts_published():
    note = "198 patients with at least two density visits, 533 visits; 3 patient(s)"
    coder = PractitionerCoder(KEY)
    a, b = publish_counts([198, 533], key=KEY)
    assert disclosure.control_note(note, coder=coder) == (
        f"{a} patients with at least two density visits, {b} visits; <5 patient(s)")


@pytest.fixture(scope="module")
def sample_analysis():
    from outcomes.analysis import analyze
    from outcomes.sample import generate_sample

    class E:  # the four clean tables of a small generated export
        pass

    from outcomes.loader import load
    import tempfile
    from pathlib import Path

    tables = generate_sample(patients=40, seed=7)
    with tempfile.TemporaryDirectory() as tmp:
        for name, df in tables.items():
            df.to_csv(Path(tmp) / f"{name}.csv", index=False)
        export = load(tmp)
    return analyze(export, cutoff="2026-09-30", model=False)
