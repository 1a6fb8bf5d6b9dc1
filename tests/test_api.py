"""The notebook user's API: discoverable with dir/help, a short Analysis summary, warnings."""
from __future__ import annotations

import pydoc
import subprocess
import sys
import warnings

import pytest

import outcomes
from outcomes.analysis import SMALL_N

PUBLIC = ["load", "analyze", "report", "pool", "Analysis", "Export", "LoadReport", "Definitions",
          "generate_sample", "sample_path", "published_figures", "OutcomesError", "LoadError",
          "OutcomesWarning"]


@pytest.fixture(scope="module")
def analysis():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", outcomes.OutcomesWarning)
        return outcomes.analyze(outcomes.sample_path(), cutoff="2026-09-30", model=False)


def test_dir_lists_the_public_api_and_each_name_resolves():
    names = dir(outcomes)
    for name in PUBLIC:
        assert name in names
        assert getattr(outcomes, name) is not None
    assert "import_module" not in names  # no implementation detail offered to tab completion


def test_help_shows_the_api_and_how_to_start():
    text = pydoc.render_doc(outcomes, renderer=pydoc.plaintext)
    assert "oc.load(" in text and "oc.analyze(" in text
    for name in ("load", "analyze", "sample_path", "published_figures"):
        assert f"\n    {name}(" in text, name  # documented as a function, not only mentioned


def test_analysis_repr_is_a_short_summary_with_the_headline(analysis):
    text = repr(analysis)
    assert len(text) < 2000
    assert text.startswith("Analysis at cut-off 2026-09-30: 300 patients, 295 treated")
    # the sample's comparable photographic improved rate, 50 of 68 (test_response pins it too)
    assert "photographic, improved 50 of 68 73.5%" in text
    assert "response" in text and "adverse_events" in text


def test_analysis_html_repr_is_a_table(analysis):
    page = analysis._repr_html_()
    assert page.count("<table") == 1 and "50 of 68" in page and "73.5%" in page
    assert "P0" not in page  # no pseudonym in a summary


def test_analyze_accepts_a_path_and_gives_the_same_numbers(analysis):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", outcomes.OutcomesWarning)
        again = outcomes.analyze(outcomes.load(outcomes.sample_path()), cutoff="2026-09-30",
                                 model=False)
    assert again.to_dict() == analysis.to_dict()


def test_small_n_and_derived_benchmark_warn(sample_tables, tmp_path):
    folder = tmp_path / "small"
    folder.mkdir()
    for name, frame in sample_tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    with pytest.warns(outcomes.OutcomesWarning) as record:
        a = outcomes.analyze(folder, cutoff="2026-09-30", model=False)
    messages = [str(w.message) for w in record]
    n = int(a.headline()["n"].iloc[0])
    assert 0 < n < SMALL_N
    assert any(f"rests on {n} patients" in m for m in messages)
    assert any("derived from a quoted percentage" in m for m in messages)


def test_cli_prints_warnings_as_plain_notes():
    proc = subprocess.run([sys.executable, "-m", "outcomes.cli", "analyze", "data/sample",
                           "--cutoff", "2026-09-30", "--no-model"], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0
    notes = [ln for ln in proc.stderr.splitlines() if ln]
    assert notes and all(ln.startswith("outcomes analyze: note: ") for ln in notes)
    assert "Warning" not in proc.stderr and ".py:" not in proc.stderr


def test_report_and_pool_are_functions_even_after_their_modules_are_imported():
    """No submodule shadows the API functions (the modules are reporting.py and pooling.py)."""
    import outcomes.pooling  # noqa: F401
    import outcomes.reporting  # noqa: F401

    assert callable(outcomes.report) and outcomes.report.__module__ == "outcomes.reporting"
    assert callable(outcomes.pool) and outcomes.pool.__module__ == "outcomes.pooling"
    text = pydoc.render_doc(outcomes, renderer=pydoc.plaintext)
    assert "\n    report(" in text and "\n    pool(" in text


def test_report_takes_the_quarter_as_the_command_does(monkeypatch, tmp_path):
    import datetime as dt

    import outcomes.reporting as reporting

    seen = {}
    monkeypatch.setattr(reporting, "write_report",
                        lambda data, out, **kw: seen.update(data=data, out=out, **kw) or [])
    outcomes.report(None, tmp_path, quarter="2026 q3", shareable=True, pdf=True)
    assert seen["cutoff"] == dt.date(2026, 9, 30) and seen["quarter"] == "2026Q3"
    assert seen["shareable"] is True and seen["pdf"] is True
    assert str(seen["data"]) == str(outcomes.sample_path())


def test_a_singular_model_warns(analysis):
    """model.density_model writes 'was singular' in its note when it fell back (test_model
    checks that note on lme4-checked data); analyze then warns."""
    import dataclasses

    from outcomes.analysis import _warn_about

    singular = dataclasses.replace(analysis, model_note="The random-slope model was singular "
                                   "(correlation +-1); a random intercept only was fitted.")
    with pytest.warns(outcomes.OutcomesWarning, match="random slope was singular"):
        _warn_about(singular)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        _warn_about(analysis)
    assert not any("singular" in str(w.message) for w in seen)
