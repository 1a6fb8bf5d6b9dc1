"""Write tests/reference/internal_results_sample_2026Q3.json: the internal results of the bundled
sample at 2026-09-30 (model fitted), package_version left out.

The snapshot pins the internal report's numbers (issue 9: the disclosure pass must not change
them). Regenerate it only when a change is MEANT to change internal numbers, and say so in the
commit:  PYTHONPATH=src python tests/reference/make_internal_snapshot.py
"""
import json
import sys
from pathlib import Path

import outcomes
from outcomes.analysis import analyze
from outcomes.loader import load

if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else (
        Path(__file__).parent / "internal_results_sample_2026Q3.json")
    d = analyze(load(outcomes.sample_path()), cutoff="2026-09-30").to_dict(shareable=False)
    d.pop("package_version", None)
    out.write_text(json.dumps(d, indent=1, sort_keys=True, allow_nan=False) + "\n")
