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


def test_the_command_run_as_a_process_ends_with_every_byte_written(tmp_path):
    """Run as a process, analyze and validate end with os._exit (cli._end_now, no interpreter
    teardown): the status and everything written to a pipe (stdout, stderr) and to a file
    must be exactly what main() returns and writes in-process."""
    import contextlib
    import io
    import json

    from outcomes.cli import main

    def argv(dest):
        return ["analyze", "data/sample", "--no-model", "--cutoff", "2026-09-30", "--json",
                str(dest)]

    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # buffered pipes
    proc = subprocess.run([sys.executable, "-m", "outcomes.cli", *argv(tmp_path / "p.json")],
                          capture_output=True, text=True, env=env)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv(tmp_path / "i.json"))
    assert proc.returncode == status == 0
    assert proc.stdout == out.getvalue() and "Density model" in proc.stdout
    assert proc.stderr == err.getvalue()
    written = (tmp_path / "p.json").read_text(encoding="utf-8")
    assert written == (tmp_path / "i.json").read_text(encoding="utf-8")
    assert json.loads(written)["kind"] == "analysis"
    proc = subprocess.run([sys.executable, "-m", "outcomes.cli", "validate", "no/such/folder"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_main_called_from_python_returns_even_on_sys_argv(monkeypatch, capsys):
    """Only the console script (cli.run) ends the process at once; main() called from Python
    with no argv (it then reads sys.argv, as a wrapper or runpy would) returns its status."""
    from outcomes.cli import main

    monkeypatch.setattr(sys, "argv", ["outcomes", "validate", "no/such/folder"])
    assert main() == 2                      # the process (this pytest) is still here
    assert "does not exist" in capsys.readouterr().err
