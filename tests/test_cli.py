import subprocess
import sys


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "outcomes.cli", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for command in ("validate", "sample", "analyze", "report", "pool"):
        assert command in out
