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
                "pyarrow.parquet",  # a CSV export needs no Parquet reader (pyarrow.fs, ssl)
                # all of scipy.special (its array-API layer imports numpy.f2py, numpy.testing):
                # outcomes.stats loads its compiled ufuncs alone (stats._load_special)
                "scipy._lib._array_api", "numpy.f2py", "numpy.testing")

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


def test_scipy_special_ufuncs_loaded_alone_are_scipy_special_s_own():
    """Every ``_sp.NAME`` that stats.py and model.py call, loaded without scipy.special's
    package import (stats._load_special), is the very object ``scipy.special.NAME`` (so gives the
    same results), and a later ``import scipy.special`` still works in the same process."""
    import re
    from pathlib import Path

    src = Path(outcomes.__file__).parent
    names = sorted({n for f in ("stats.py", "model.py")
                    for n in re.findall(r"\b_sp\.(\w+)", (src / f).read_text())})
    assert {"ndtri", "betaincinv", "bdtr", "bdtrik"} <= set(names)
    script = ("import sys, json\n"
              "import outcomes.stats as st, outcomes.model as mo\n"
              "alone = 'scipy.special' not in sys.modules\n"
              "import scipy.special as sp\n"
              "names = json.loads(sys.argv[1])\n"
              "print(json.dumps([alone, st._sp is mo._sp, sp._ufuncs is st._sp,\n"
              "                  [n for n in names if getattr(st._sp, n) is not getattr(sp, n)],\n"
              "                  float(sp.ndtri(0.975))]))\n")
    env = dict(os.environ)
    env.pop("SCIPY_ARRAY_API", None)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(outcomes.__file__)),
                                         env.get("PYTHONPATH", "")])
    run = subprocess.run([sys.executable, "-c", script, json.dumps(names)], capture_output=True,
                         text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    alone, shared, same_module, differ, z = json.loads(run.stdout)
    assert alone and shared and same_module
    assert differ == []
    assert abs(z - 1.959963984540054) < 1e-15
