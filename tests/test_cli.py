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


def test_the_command_run_as_a_process_ends_with_every_byte_written():
    """Run as a process, analyze and validate end with os._exit (cli._end_now, no interpreter
    teardown): the status and everything written to a pipe (stdout, stderr) and to a file
    must be exactly what main() returns and writes in-process."""
    import contextlib
    import io
    import json
    import tempfile

    from outcomes.cli import main

    argv = ["analyze", "data/sample", "--no-model", "--cutoff", "2026-09-30", "--json", "-"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered pipes
    proc = subprocess.run([sys.executable, "-m", "outcomes.cli", *argv], capture_output=True,
                          text=True, env=env)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    assert proc.returncode == status == 0
    assert proc.stdout == out.getvalue() and json.loads(proc.stdout)["kind"] == "analysis"
    assert proc.stderr == err.getvalue() and "Density model" in proc.stderr
    with tempfile.TemporaryDirectory() as tmp:
        dest = os.path.join(tmp, "r.json")
        proc = subprocess.run([sys.executable, "-m", "outcomes.cli", *argv[:-1], dest],
                              capture_output=True, text=True, env=env)
        assert proc.returncode == 0
        with open(dest, encoding="utf-8") as f:
            assert f.read() == out.getvalue()
    proc = subprocess.run([sys.executable, "-m", "outcomes.cli", "validate", "no/such/folder"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "does not exist" in proc.stderr
