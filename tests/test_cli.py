import os
import subprocess
import sys


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "outcomes.cli", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for command in ("validate", "sample", "analyze", "report", "pool", "template", "mapping"):
        assert command in out


def test_output_into_a_closed_pipe_is_not_an_error():
    """A reader that stops early (``outcomes analyze ... | head``) must not cause a traceback:
    here the reading end is closed before the command writes anything."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    proc = subprocess.run([sys.executable, "-m", "outcomes.cli", "analyze", "data/sample",
                           "--no-model", "--cutoff", "2026-09-30"],
                          stdout=write_end, stderr=subprocess.PIPE, text=True)
    os.close(write_end)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "BrokenPipeError" not in proc.stderr, proc.stderr
    assert proc.returncode == 0
