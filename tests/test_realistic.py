"""The realistic corpus (tests/corpus/realistic.py): every export of the same clinic either
loads to exactly the clean tables of the same data, or stops naming the fix; none ends with
exit 0 and a different number anywhere in ``outcomes analyze --json`` [issue 10, Must show]."""
from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest
from corpus.realistic import CUTOFF, REAL_CASES, TODAY, base_tables, write_clean

from outcomes.cli import main
from outcomes.contract import TABLES
from outcomes.errors import LoadError, OutcomesWarning
from outcomes.loader import load


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    """The clinic's data, its clean export(s) and their analyze JSON, built once."""
    tables = base_tables()
    root = tmp_path_factory.mktemp("real")
    refs = {}
    for drop in {tuple(sorted((t, tuple(c)) for t, c in case.drop.items()))
                 for case in REAL_CASES}:
        cut = dict(drop)
        clean = {t: df.drop(columns=list(cut.get(t, ()))) for t, df in tables.items()}
        folder = write_clean(root / f"clean{len(refs)}", clean)
        refs[drop] = (folder, load(folder, today=TODAY), _analyze(folder, {}, None)[1])
    return tables, root, refs


def _ref(clinic, case):
    return clinic[2][tuple(sorted((t, tuple(c)) for t, c in case.drop.items()))]


def _analyze(path, options: dict, mapping) -> tuple[int, dict | None, str]:
    """``outcomes analyze PATH --json -`` in-process: (exit status, JSON or None, stderr)."""
    import contextlib
    import io

    argv = ["analyze", str(path), "--cutoff", CUTOFF, "--no-model", "--json", "-"]
    if options.get("date_format"):
        argv += ["--date-format", options["date_format"]]
    if options.get("decimal_comma"):
        argv.append("--decimal-comma")
    if mapping is not None:
        argv += ["--mapping", str(mapping)]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore", OutcomesWarning)
        status = main(argv)
    return status, (json.loads(out.getvalue()) if status == 0 else None), err.getvalue()


def _write(case, clinic, tmp_path):
    tables, _, _ = clinic
    folder = tmp_path / case.name
    folder.mkdir()
    path = case.build(tables, folder)
    mapping = None
    if case.mapping is not None:
        mapping = tmp_path / f"{case.name}.toml"
        mapping.write_text(case.mapping, encoding="utf-8")
    return path, mapping


@pytest.fixture(scope="module")
def written(clinic, tmp_path_factory):
    """``written(case)``: the case's export (and its mapping file, or None), written once for
    the module: the tests below only read it (loading never changes its input: test_loader)."""
    root = tmp_path_factory.mktemp("cases")
    done: dict = {}

    def get(case):
        if case.name not in done:
            done[case.name] = _write(case, clinic, root)
        return done[case.name]
    return get


def test_corpus_covers_the_issue():
    names = {c.name for c in REAL_CASES}
    assert len(names) == len(REAL_CASES) >= 15
    assert sum(bool(c.stop) for c in REAL_CASES) >= 6
    assert sum(not c.stop for c in REAL_CASES) >= 7
    assert sum(c.mapping is not None for c in REAL_CASES) >= 4


@pytest.mark.parametrize("case", REAL_CASES, ids=[c.name for c in REAL_CASES])
def test_loads_equal_or_stops_naming_the_fix(case, clinic, written):
    path, mapping = written(case)
    if case.stop:
        with pytest.raises(LoadError) as err:
            load(path, mapping=mapping, today=TODAY, **case.options)
        for fragment in case.stop:
            assert fragment in str(err.value), str(err.value)
        return
    export = load(path, mapping=mapping, today=TODAY, **case.options)
    _, ref, _ = _ref(clinic, case)
    assert export.report.n_quarantined == 0, export.report.quarantine.head()
    for t in TABLES:
        got, want = getattr(export, t), getattr(ref, t)
        if case.terms_translated and t == "adverse_events":
            # the terms are written in another language by design: the same vocabulary term
            assert (got["term_as_written"] != want["term_as_written"]).any()
            got, want = got.drop(columns="term_as_written"), want.drop(columns="term_as_written")
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert export.report.other_terms == ref.report.other_terms


@pytest.mark.parametrize("case", REAL_CASES, ids=[c.name for c in REAL_CASES])
def test_never_exit_0_with_a_different_number(case, clinic, written):
    """The CLI on the case as given, and without its mapping file: either exit 2 with a
    message and nothing on stdout, or exit 0 and the clean export's JSON, number for number."""
    path, mapping = written(case)
    _, _, ref_json = _ref(clinic, case)
    runs = [(case.options, mapping)]
    if mapping is not None:
        runs.append((case.options, None))
    if case.options:                     # the options forgotten (without options: done above)
        runs.append(({}, mapping))
    for options, m in runs:
        status, got, err = _analyze(path, options, m)
        if status == 0:
            assert got == ref_json, (case.name, options, m)
        else:
            assert status == 2 and got is None and "Traceback" not in err
            assert err.startswith("outcomes analyze: ") and len(err.splitlines()) == 1, err


def test_stops_say_how_without_the_mapping(written):
    """A case that needs its mapping file stops without it, pointing at the mapping file."""
    for case in REAL_CASES:
        if case.mapping is None or case.stop:
            continue
        path, _ = written(case)
        with pytest.raises(LoadError) as err:
            load(path, today=TODAY, **case.options)
        assert "mapping file" in str(err.value), str(err.value)


def test_absent_optional_columns_are_not_recorded_on_the_first_screen(written):
    case = next(c for c in REAL_CASES if c.name == "missing_optional_columns")
    path, _ = written(case)
    export = load(path, today=TODAY)
    assert export.report.absent_columns["patients"] == ("minoxidil", "hypersensitivity_5ari")
    import outcomes
    from outcomes.text import not_recorded_sentences

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OutcomesWarning)
        a = outcomes.analyze(export, cutoff=CUTOFF, model=False)
    nr = a.not_recorded.set_index("column")
    treated = int(a.cohort["treated"].sum())
    assert nr.loc["hypersensitivity_5ari", "not_recorded"] == treated
    assert bool(nr.loc["hypersensitivity_5ari", "absent"])
    said = not_recorded_sentences(a.not_recorded)
    assert (f"5-ARI hypersensitivity screening: not recorded for {treated} of {treated} "
            "treated patients (the column is not in the export), who could not be assessed."
            in said)
    assert any(s.startswith(f"Minoxidil use not recorded for {treated} of {treated}")
               for s in said)
    events = int(nr.loc["severity", "total"])
    assert events > 0 and nr.loc["severity", "not_recorded"] == events
    assert (f"Adverse-event severity: severity not recorded for {events} of {events} adverse "
            "events (the column is not in the export)." in said)     # absent: always said
