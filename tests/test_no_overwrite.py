"""Issue 9, item 6: no silent overwrite by ``--out``.

- ``outcomes sample --out`` onto a folder holding an export refuses (it once replaced a
  clinic's patients.csv);
- ``outcomes report --out`` onto a folder holding files other than an earlier report asks for
  ``--force`` (checked before any work);
- a folder ``--out`` (sample, report, pool) naming an existing file ends in one line and exit 2,
  never a traceback.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from outcomes.cli import main
from outcomes.errors import OutcomesError, ReportError
from outcomes.reporting import check_out_folder, report_files
from outcomes.sample import refuse_export_folder

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
PATIENTS = "patient_id,sex,age\nP00001,F,45\n"


def _one_line(err: str) -> None:
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("name", ["patients.csv", "sessions.parquet", "export.xlsx",
                                  "Patients Export 2026.CSV"])
def test_sample_refuses_a_folder_holding_an_export(tmp_path, capsys, name):
    clinic = tmp_path / "clinic"
    clinic.mkdir()
    (clinic / name).write_text(PATIENTS, encoding="utf-8")
    status = main(["sample", "--patients", "5", "--seed", "1", "--out", str(clinic)])
    err = capsys.readouterr().err
    assert status == 2 and name in err and "new or empty folder" in err
    _one_line(err)
    assert (clinic / name).read_text(encoding="utf-8") == PATIENTS  # untouched
    assert sorted(p.name for p in clinic.iterdir()) == [name]  # nothing written beside it


def test_sample_writes_into_a_new_an_empty_or_an_unrelated_folder(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "README.md").write_text("notes\n", encoding="utf-8")
    for out in ("new", "empty", "notes"):
        assert main(["sample", "--patients", "5", "--seed", "1",
                     "--out", str(tmp_path / out)]) == 0
        assert (tmp_path / out / "patients.csv").is_file()
    capsys.readouterr()
    # and a second run onto its own output refuses too: it is an export now
    assert main(["sample", "--patients", "5", "--seed", "2", "--out",
                 str(tmp_path / "new")]) == 2
    _one_line(capsys.readouterr().err)


def test_refuse_export_folder_names_a_few_files_and_counts_the_rest(tmp_path):
    for i in range(6):
        (tmp_path / f"t{i}.csv").write_text("a\n", encoding="utf-8")
    with pytest.raises(OutcomesError, match=r"t0.csv, t1.csv, t2.csv, t3.csv and 2 more"):
        refuse_export_folder(tmp_path)
    refuse_export_folder(tmp_path / "absent")  # a new folder is fine


@pytest.mark.parametrize("command", [
    ["sample", "--patients", "5"],
    ["report", str(SAMPLE), "--quarter", "2026Q3"],
    ["report", str(SAMPLE), "--quarter", "2026Q3", "--force"],
    ["pool", str(SAMPLE / "patients.csv"), str(SAMPLE / "sessions.csv")],
])
def test_out_naming_an_existing_file_is_one_line_exit_2(tmp_path, capsys, command):
    target = tmp_path / "results.json"
    target.write_text("{}\n", encoding="utf-8")
    status = main([*command, "--out", str(target)])
    err = capsys.readouterr().err
    assert status == 2 and "existing file" in err and str(target) in err
    _one_line(err)
    assert target.read_text(encoding="utf-8") == "{}\n"


def test_out_naming_an_existing_file_from_the_shell(tmp_path):
    """The installed command, end to end: exit 2, one line, no traceback."""
    target = tmp_path / "patients.csv"
    target.write_text(PATIENTS, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "outcomes.cli", "sample", "--patients", "5",
                           "--out", str(target)], capture_output=True, text=True)
    assert proc.returncode == 2 and "existing file" in proc.stderr
    _one_line(proc.stderr)
    assert target.read_text(encoding="utf-8") == PATIENTS


def test_report_asks_for_force_before_any_work(tmp_path, capsys):
    """The export's own folder as --out: refused at once (no load, no notebook)."""
    clinic = tmp_path / "clinic"
    clinic.mkdir()
    (clinic / "patients.csv").write_text(PATIENTS, encoding="utf-8")
    (clinic / "minutes.docx").write_bytes(b"x")
    status = main(["report", str(SAMPLE), "--quarter", "2026Q3", "--out", str(clinic)])
    err = capsys.readouterr().err
    assert status == 2 and "--force" in err and "minutes.docx, patients.csv" in err
    _one_line(err)
    assert sorted(p.name for p in clinic.iterdir()) == ["minutes.docx", "patients.csv"]


def test_report_folder_rules(tmp_path):
    earlier = tmp_path / "2026Q2"
    earlier.mkdir()
    for name in report_files():
        (earlier / name).write_text("earlier\n", encoding="utf-8")
    (earlier / ".DS_Store").write_bytes(b"")
    check_out_folder(earlier)  # an earlier report is replaced without --force
    check_out_folder(tmp_path / "new")  # a new folder
    (earlier / "notes.txt").write_text("keep\n", encoding="utf-8")
    with pytest.raises(ReportError, match=r"notes.txt.*--force"):
        check_out_folder(earlier)
    check_out_folder(earlier, force=True)
    with pytest.raises(ReportError, match="existing file"):
        check_out_folder(earlier / "notes.txt", force=True)
    assert {"index.html", "results.json", "report.pdf"} <= report_files()


def test_an_earlier_report_is_recognised_as_one(reports):
    """Every file ``outcomes report`` writes is one of report_files(), so a second run into the
    same folder (the next quarter's report over the last) needs no --force (slow: uses the
    session's rendered reports)."""
    for kind in ("internal", "shareable"):
        folder, proc = reports[kind]
        assert proc.returncode == 0, proc.stderr
        written = {p.name for p in folder.iterdir()}
        assert written and written <= report_files(), written - report_files()
        check_out_folder(folder)
