"""Bounded resources [issue 10, item 7]: inputs that would expand far beyond their size stop
early, from the zip central directory or the Parquet footer, before anything is decompressed.

The issue's figures: a 1.2 MB .xlsx holding 348 MB of shared strings took 61 s and 878 MB; a
268 KB dictionary-encoded Parquet file took 7.2 GB. Each bomb is loaded in a fresh Python and
must stop with a LoadError within a few seconds and a few hundred MB (peak RSS of the child).
"""
from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SMALL_EXPORT, write_export

from outcomes.errors import LoadError
from outcomes.loader import load
from outcomes.read import MAX_EXPANDED_BYTES

SECONDS, MEGABYTES = 5.0, 400

_CHILD = """
import json, resource, sys, time
t = time.perf_counter()
from outcomes.errors import LoadError
from outcomes.loader import load
t = time.perf_counter()
try:
    load(sys.argv[1])
    message = None
except LoadError as err:
    message = str(err)
seconds = time.perf_counter() - t
try:   # this process's own peak (ru_maxrss keeps the forking parent's peak across exec)
    with open("/proc/self/status") as fh:
        peak = next(int(l.split()[1]) for l in fh if l.startswith("VmHWM:")) / 1024
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "message": message, "peak_mb": peak}))
"""


def _load_in_child(path: Path) -> dict:
    import os

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[1] / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True,
                          text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def baseline_mb(tmp_path_factory) -> float:
    """Peak RSS of loading the small valid export (the interpreter and its imports)."""
    folder = write_export(tmp_path_factory.mktemp("small"), SMALL_EXPORT)
    return _load_in_child(folder)["peak_mb"]


def _deflate(data: bytes) -> bytes:
    """``data`` as raw deflate blocks ending in a full flush: the stream then starts afresh on
    a byte boundary, so such streams can be concatenated (the last one finished)."""
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(zlib.Z_FULL_FLUSH)


def _write_zip(path: Path, members: list[tuple[str, bytes, int, int]]) -> None:
    """A zip archive of raw deflate members ``(name, stream, crc32, size)``, each under 4 GB
    (no zip64), written as zipfile writes one (local headers, central directory, end)."""
    local, central = bytearray(), bytearray()
    for name, stream, crc, size in members:
        n = name.encode()
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc,
                               len(stream), size, len(n), 0, 0, 0, 0, 0, len(local)) + n
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(stream),
                             size, len(n), 0) + n + stream
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central),
                      len(local), 0)
    path.write_bytes(bytes(local + central) + end)


@pytest.fixture(scope="module")
def shared_strings_bomb(tmp_path_factory) -> Path:
    """A real workbook (the small export) whose sharedStrings.xml is replaced by 348 MB of
    shared strings that deflate to about 0.95 MB.

    The 350 identical 1 MB runs of strings are deflated once and the compressed run repeated
    (each ends in a full flush), not deflated 350 times: the same file contents, 0.25 s
    instead of 1.3 s of CPU."""
    import openpyxl

    folder = tmp_path_factory.mktemp("bomb")
    good = folder / "good.xlsx"
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, text in SMALL_EXPORT.items():
        ws = wb.create_sheet(name)
        for line in text.splitlines():
            ws.append(line.split(","))
    wb.save(good)
    with zipfile.ZipFile(good) as src:
        members = [(i.filename, _deflate(src.read(i)), zlib.crc32(src.read(i)), i.file_size)
                   for i in src.infolist() if i.filename != "xl/sharedStrings.xml"]
    head = (b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main">')
    chunk = (b"<si><t>" + b"A" * 1000 + b"</t></si>") * 1024
    runs = 348 * 1024 * 1024 // len(chunk)
    crc = zlib.crc32(head)
    for _ in range(runs):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(b"</sst>", crc)
    finish = zlib.compressobj(6, zlib.DEFLATED, -15)
    stream = (_deflate(head) + _deflate(chunk) * runs + finish.compress(b"</sst>")
              + finish.flush())
    members.append(("xl/sharedStrings.xml", stream, crc, len(head) + runs * len(chunk) + 6))
    bomb = folder / "bomb.xlsx"
    _write_zip(bomb, members)
    return bomb


@pytest.fixture(scope="module")
def dictionary_bomb(tmp_path_factory) -> Path:
    """A Parquet patients table whose text column is dictionary-encoded: one 1 MB string,
    7,000 rows -> about 7 GB once decoded, from a file of a few hundred KB."""
    folder = tmp_path_factory.mktemp("pq")
    write_export(folder, {k: v for k, v in SMALL_EXPORT.items() if k != "patients"})
    n = 7000
    big = pa.DictionaryArray.from_arrays(pa.array([0] * n, pa.int32()), pa.array(["x" * 2**20]))
    table = pa.table({"patient_id": pa.array([f"P{i}" for i in range(n)]),
                      "sex": pa.array(["M"] * n), "age": pa.array([40] * n),
                      "baseline_grade": big})
    pq.write_table(table, folder / "patients.parquet", compression="zstd")
    return folder


def test_shared_strings_bomb_stops_early(shared_strings_bomb, baseline_mb):
    size = shared_strings_bomb.stat().st_size
    assert size < 2 * 2**20                            # about the 1.2 MB file
    got = _load_in_child(shared_strings_bomb)
    assert got["message"] is not None
    assert re.search(r"sharedStrings.xml, 34\d MB\) would expand to about 34\d MB from a "
                     r"\d{3} KB file", got["message"]), got["message"]
    assert "Export the tables again as plain CSV files" in got["message"]
    assert got["seconds"] < SECONDS
    assert got["peak_mb"] < MEGABYTES and got["peak_mb"] - baseline_mb < 50, got


def test_dictionary_bomb_stops_early(dictionary_bomb, baseline_mb):
    size = (dictionary_bomb / "patients.parquet").stat().st_size
    assert size < 512 * 1024
    got = _load_in_child(dictionary_bomb)
    assert got["message"] is not None
    assert re.search(r"patients.parquet: its dictionary-encoded text would expand to about "
                     r"7,000 MB from a \d+ KB file", got["message"]), got
    assert got["seconds"] < SECONDS
    assert got["peak_mb"] < MEGABYTES, got


def test_bounds_leave_ordinary_files_alone(tmp_path, sample_tables):
    """The sample as xlsx and Parquet loads whole (ratios of ordinary files are far below)."""
    from outcomes.sample import write_export as write_sample

    for fmt in ("xlsx", "parquet"):
        write_sample(sample_tables, tmp_path / fmt, fmt)
        assert load(tmp_path / fmt).report.n_quarantined == 0
    with zipfile.ZipFile(tmp_path / "xlsx" / "export.xlsx") as z:
        infos = z.infolist()
    ratio = sum(i.file_size for i in infos) / (tmp_path / "xlsx" / "export.xlsx").stat().st_size
    assert ratio < 20                                  # the bound is 100


def test_the_footer_is_checked_before_reading(tmp_path, monkeypatch):
    """Uncompressed pages and rows x columns (8 bytes a cell at least), from the footer."""
    import outcomes.read as read

    write_export(tmp_path, {k: v for k, v in SMALL_EXPORT.items() if k != "patients"})
    pq.write_table(pa.table({"patient_id": ["P1", "P2"], "sex": ["M", "F"], "age": [40, 50],
                             "childbearing_potential": [None, "no"]}),
                   tmp_path / "patients.parquet")
    monkeypatch.setattr(read, "MAX_EXPANDED_BYTES", 16)
    monkeypatch.setattr(read, "MAX_RATIO", 0)
    with pytest.raises(LoadError, match=r"patients.parquet: its (pages|2 rows) would expand"):
        load(tmp_path)
    assert MAX_EXPANDED_BYTES == 256 * 2**20
