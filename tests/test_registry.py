"""Tests for outcomes.registry: the published-figures registry.

Expected figures are copied from the design note published-figures.md (the table row is named
beside each), itself gathered from the papers' abstracts.
"""
from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest

from outcomes import vocabulary
from outcomes.errors import AnalysisError
from outcomes.registry import FAMILIES, Benchmark, benchmark, benchmarks_for, published_figures

# id -> (k, n, quoted_rate, verified); None = not given
EXPECTED = {
    # "80% showed clinical improvement after one year": not verified; 80% of 86 -> 69/86
    "saceda2022_improved": (69, 86, 0.80, False),
    # "38% experiencing dramatic improvement": 33/86 (38.4%), "marked improvement"
    "saceda2022_marked": (33, 86, 0.38, True),
    # "pain at the injection site ... approximately 45%": 246/541 (45.5%)
    "saceda2022_pain": (246, 541, 0.45, True),
    # "no serious or sexual adverse events": 0/541
    "saceda2022_serious": (0, 541, 0.0, True),
    "saceda2022_sexual": (0, 541, 0.0, True),
    # frontal edema: case series of 14, no denominator
    "melo2022_edema": (None, None, None, True),
    # paradoxical alopecia: 2 case reports
    "reguero2022_paradoxical": (None, None, None, True),
    # reduced sperm count / motility: no figure found
    "sobhy2013_sperm": (None, None, None, False),
    # Vano-Galvan 2020, oral: 38/42 (90%) improved, 10/42 (23.8%) marked
    "vano2020_oral_improved": (38, 42, None, True),
    "vano2020_oral_marked": (10, 42, None, True),
    # Moftah 2013: 54/86 (62.8%) vs 7/40 (17.5%), counts derived from %
    "moftah2013_improved": (54, 86, None, False),
    "moftah2013_saline_improved": (7, 40, None, False),
    # Abdallah 2009: 13/14 (92.9%) vs 1/14, counts derived
    "abdallah2009_density": (13, 14, None, False),
    "abdallah2009_saline_density": (1, 14, None, False),
    # Herz-Ruelas 2020: hair-count mean difference +7.90 (7.14-8.66), not a rate
    "herz2020_hair_count": (None, None, None, True),
}


def test_columns_and_dtypes():
    figs = published_figures()
    assert list(figs.columns) == [
        "id", "study", "year", "population", "protocol", "outcome", "measure", "arm",
        "definition", "k", "n", "quoted_rate", "follow_up", "source", "comparability",
        "verified"]
    assert figs["id"].dtype == "string" and figs["k"].dtype == "Int64"
    assert figs["n"].dtype == "Int64" and figs["verified"].dtype == "boolean"
    assert figs["quoted_rate"].dtype == "float64"
    assert isinstance(figs.index, pd.RangeIndex)


def test_every_published_figure_present_with_its_counts():
    figs = published_figures().set_index("id")
    assert set(EXPECTED) <= set(figs.index)
    for id_, (k, n, quoted, verified) in EXPECTED.items():
        row = figs.loc[id_]
        assert (None if pd.isna(row["k"]) else int(row["k"])) == k, id_
        assert (None if pd.isna(row["n"]) else int(row["n"])) == n, id_
        assert (None if math.isnan(row["quoted_rate"]) else row["quoted_rate"]) == quoted, id_
        assert bool(row["verified"]) is verified, id_


def test_ids_unique_snake_case_and_text_filled():
    figs = published_figures()
    assert figs["id"].is_unique
    assert figs["id"].str.fullmatch(r"[a-z]+\d{4}(_[a-z]+)+").all()
    for col in ("study", "population", "protocol", "definition", "follow_up", "source",
                "comparability"):
        assert (figs[col].str.len() > 0).all(), col


def test_values_in_range_and_consistent():
    figs = published_figures()
    counts = figs.dropna(subset=["n"])
    assert ((counts["k"] >= 0) & (counts["k"] <= counts["n"]) & (counts["n"] > 0)).all()
    assert (figs["k"].isna() == figs["n"].isna()).all()
    quoted = figs["quoted_rate"].dropna()
    assert quoted.between(0, 1).all()
    # a quoted rate agrees with its counts to the rounding the page used (whole percent)
    both = figs.dropna(subset=["quoted_rate", "n"])
    assert ((both["k"] / both["n"] - both["quoted_rate"]).abs() < 0.005 + 1e-9).all()
    assert set(figs["outcome"]) <= set(FAMILIES)
    assert set(figs["arm"]) <= {"treatment", "control"}
    ae = figs[figs["outcome"] == "adverse_event"]
    assert set(ae["measure"]) <= set(vocabulary.TERMS) | {"serious"}
    resp = figs[figs["outcome"].isin(["photographic", "density"]) & figs["n"].notna()]
    assert set(resp["measure"]) <= {"improved", "dramatic"}


def test_sources_cite_doi_or_journal():
    figs = published_figures().set_index("id")
    assert "doi:10.36849/JDD.6610" in figs.loc["saceda2022_marked", "source"]
    assert "PMID 35816059" in figs.loc["saceda2022_pain", "source"]
    assert "doi:10.1111/j.1468-3083.2012.04535.x" in figs.loc["moftah2013_improved", "source"]


def test_benchmark_record_and_rates():
    b = benchmark("saceda2022_marked")
    assert isinstance(b, Benchmark)
    assert (b.k, b.n, b.study, b.year) == (33, 86, "Saceda-Corralo et al.", 2022)
    assert b.rate == 0.38 and b.count_rate == pytest.approx(33 / 86)
    assert b.has_counts and not b.derived and b.label == "Saceda-Corralo 2022"
    with pytest.raises(dataclasses.FrozenInstanceError):
        b.k = 34  # type: ignore[misc]
    improved = benchmark("saceda2022_improved")
    assert improved.rate == 0.80 and improved.derived and not improved.verified
    assert benchmark("vano2020_oral_improved").rate == pytest.approx(38 / 42)
    edema = benchmark("melo2022_edema")
    assert edema.rate is None and edema.count_rate is None and not edema.has_counts
    assert benchmark("abdallah2009_density").label == "Abdallah 2009"


def test_benchmark_unknown_id_lists_known_ones():
    with pytest.raises(AnalysisError, match="unknown benchmark id 'saceda2021'.*saceda2022_pain"):
        benchmark("saceda2021")


def test_benchmarks_for():
    assert [b.id for b in benchmarks_for("photographic", "improved")] == [
        "saceda2022_improved", "vano2020_oral_improved", "moftah2013_improved"]
    assert [b.id for b in benchmarks_for("photographic", "improved", arm="any")][-1] == \
        "moftah2013_saline_improved"
    assert [b.id for b in benchmarks_for("adverse_event", "injection_site_pain")] == [
        "saceda2022_pain"]
    assert benchmarks_for("adverse_event", "headache") == ()
    with pytest.raises(AnalysisError, match="photographic, density, adverse_event"):
        benchmarks_for("efficacy", "improved")


def test_published_figures_returns_a_fresh_copy():
    first = published_figures()
    first.loc[0, "k"] = 999
    assert published_figures().loc[0, "k"] == 69
