"""`outcomes analyze --no-model` on a CSV export imports nothing it does not use (issue 13,
build item 6: start-up counts in the 3x-the-raw-read target)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import outcomes

#: heavy libraries (or parts of them) the metrics never call without the model or a report
NOT_IMPORTED = ("matplotlib", "statsmodels", "papermill", "nbconvert", "nbformat", "mistune",
                "openpyxl", "jinja2", "scipy.stats", "scipy.optimize", "outcomes.figures",
                "outcomes.reporting", "outcomes.sections", "outcomes.disclosure",
                "pyarrow.parquet")  # a CSV export needs no Parquet reader (pyarrow.fs, ssl)

_SCRIPT = """
import json, sys
from outcomes.cli import main
try:
    status = main(sys.argv[1:])
finally:
    print("\\n@@MODULES@@" + json.dumps(sorted(sys.modules)), file=sys.stderr)
sys.exit(status)
"""


def _modules_of(*argv: str, before: str = "") -> tuple[int, set[str]]:
    """Exit status and ``sys.modules`` of ``outcomes ARGV`` in a fresh interpreter."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(outcomes.__file__)),
                                         env.get("PYTHONPATH", "")])
    run = subprocess.run([sys.executable, "-c", before + _SCRIPT, *argv], capture_output=True,
                         text=True, env=env, timeout=300)
    marker = run.stderr.rfind("@@MODULES@@")
    assert marker >= 0, run.stderr
    return run.returncode, set(json.loads(run.stderr[marker + len("@@MODULES@@"):]))


def _loaded(modules: set[str], name: str) -> bool:
    return name in modules or any(m.startswith(name + ".") for m in modules)


def test_analyze_no_model_on_csv_imports_no_heavy_module():
    status, modules = _modules_of("analyze", str(outcomes.sample_path()), "--no-model",
                                  "--cutoff", "2026-09-30")
    assert status == 0
    assert "outcomes.analysis" in modules and "pandas" in modules  # the command did run
    loaded = [name for name in NOT_IMPORTED if _loaded(modules, name)]
    assert loaded == []


def test_the_probe_sees_a_heavy_import():
    """The same probe reports a heavy module when the process does import one."""
    _, plain = _modules_of("--help")
    _, heavy = _modules_of("--help", before="import matplotlib\n")
    assert not _loaded(plain, "matplotlib") and _loaded(heavy, "matplotlib")
