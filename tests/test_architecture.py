"""The layer rules of docs/architecture.md hold for the code.

Every ``import outcomes.x`` / ``from outcomes(.x) import ...`` in ``src/outcomes/*.py``, at the
top of a module or inside a function (a lazy import is still a dependency), is read with
:mod:`ast` and checked against ``MAY_IMPORT`` below, which mirrors the table of
docs/architecture.md (a test reads the document's table and requires the two to agree). A new
import that the table does not allow fails here: move the code to a module the table allows, or
change the table in both places and say why in docs/architecture.md.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "outcomes"
DOC = ROOT / "docs" / "architecture.md"

_METRIC = {"cohort", "stats", "registry", "definitions", "vocabulary", "labels", "errors"}

#: module -> the package's modules it may import (mirror of the table in docs/architecture.md).
#: Any module may also read the package's ``__version__``.
MAY_IMPORT: dict[str, set[str]] = {
    "__init__": set(),  # imports its API lazily by name (importlib), never by statement
    "errors": set(),
    "labels": set(),
    "vocabulary": set(),
    "cli": {"csvread", "errors"},  # dispatches to the command's module by name (importlib)
    "contract": {"errors"},
    "csvread": {"contract", "errors"},
    "recognise": {"contract", "vocabulary", "errors"},
    "read": {"contract", "csvread", "recognise", "errors"},
    "validate": {"contract", "recognise", "vocabulary", "read", "errors"},
    "loader": {"contract", "read", "validate", "errors"},
    "sample": {"contract", "vocabulary", "errors"},
    "template": {"contract", "vocabulary", "errors"},
    "assistant": {"contract", "recognise", "read", "vocabulary", "errors"},
    "stats": {"errors"},
    "registry": {"stats", "errors"},
    "definitions": {"stats", "errors"},
    "results_file": {"errors"},
    "cohort": {"definitions", "errors"},
    "response": _METRIC,
    "safety": _METRIC,
    "protocol": _METRIC,
    "strata": _METRIC,
    "model": _METRIC,
    "completeness": {"cohort", "errors"},
    "audit": {"cohort", "stats", "registry", "results_file", "protocol", "vocabulary",
              "errors"},
    "analysis": {"cohort", "response", "safety", "protocol", "strata", "model", "completeness",
                 "audit", "registry", "results_file", "definitions", "loader", "disclosure",
                 "text", "errors"},
    "disclosure": {"stats", "registry", "strata", "audit", "errors"},
    "meta": {"stats", "registry", "errors"},
    "pooling": {"stats", "registry", "meta", "strata", "safety", "results_file", "disclosure",
                "pool_report", "errors"},
    "pool_report": {"pooling", "reporting", "errors"},
    "text": {"labels", "registry"},
    "figures": {"labels", "stats", "disclosure"},
    "tables": {"labels", "text", "disclosure"},
    "audit_report": {"audit", "labels", "text", "figures", "sections"},
    "sections": {"audit_report", "labels", "text", "figures", "tables", "meta", "registry",
                 "safety"},
    "reporting": {"analysis", "loader", "sample", "definitions", "audit", "disclosure",
                  "pooling", "text", "sections", "errors"},
}


def _modules(package: Path = PACKAGE) -> list[str]:
    return sorted(p.stem for p in package.glob("*.py"))


def imports_of(source: str, modules: set[str]) -> dict[str, int]:
    """The package's modules a source imports (top-level or inside functions), with the line of
    the first import of each. ``from outcomes import x`` counts as importing ``outcomes.x``
    when ``x`` is a module; ``from outcomes import __version__`` counts as nothing."""
    found: dict[str, int] = {}

    def add(name: str, line: int) -> None:
        found.setdefault(name, line)

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "outcomes":
                    add(parts[1] if len(parts) > 1 else "__init__", node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # a relative import: the package writes none
                add(f"relative import {'.' * node.level}{node.module or ''}", node.lineno)
                continue
            parts = (node.module or "").split(".")
            if parts[0] != "outcomes":
                continue
            if len(parts) > 1:
                add(parts[1], node.lineno)
                continue
            for alias in node.names:
                if alias.name in modules:
                    add(alias.name, node.lineno)
                elif alias.name != "__version__":
                    add("__init__", node.lineno)
    return found


def _crossings(package: Path = PACKAGE) -> list[str]:
    modules = set(_modules(package))
    bad = []
    for name in sorted(modules):
        source = (package / f"{name}.py").read_text(encoding="utf-8")
        allowed = MAY_IMPORT.get(name, set())
        for target, line in sorted(imports_of(source, modules).items()):
            if target != name and target not in allowed:
                bad.append(f"src/outcomes/{name}.py:{line} imports outcomes.{target}, which "
                           f"the layer table does not allow ({name} may import: "
                           f"{', '.join(sorted(allowed)) or 'nothing of the package'})")
    return bad


def test_every_module_is_in_the_layer_table():
    assert set(_modules()) == set(MAY_IMPORT), (
        "a module is missing from MAY_IMPORT (and docs/architecture.md), or one listed there "
        f"no longer exists: {sorted(set(_modules()) ^ set(MAY_IMPORT))}")


def test_every_import_is_allowed_by_the_layer_table():
    bad = _crossings()
    assert not bad, "\n".join(bad)


def test_a_planted_crossing_fails(tmp_path):
    """The check can fail: cohort.py importing the report layer, at the top or lazily."""
    modules = set(_modules())
    source = (PACKAGE / "cohort.py").read_text(encoding="utf-8")
    for planted in ("from outcomes.reporting import write_report\n",
                    "def f():\n    from outcomes import reporting\n",
                    "import outcomes.reporting\n"):
        found = imports_of(source + "\n" + planted, modules)
        assert "reporting" in found and "reporting" not in MAY_IMPORT["cohort"], planted
    # and through the whole check: a copy of the package with the import planted in cohort.py
    copy = tmp_path / "outcomes"
    copy.mkdir()
    for p in PACKAGE.glob("*.py"):
        (copy / p.name).write_text(p.read_text(encoding="utf-8"), encoding="utf-8")
    (copy / "cohort.py").write_text(source + "\nfrom outcomes.reporting import write_report\n",
                                    encoding="utf-8")
    bad = _crossings(copy)
    assert len(bad) == 1 and bad[0].startswith("src/outcomes/cohort.py:") \
        and "imports outcomes.reporting" in bad[0], bad


def _doc_table() -> dict[str, set[str]]:
    """The module table of docs/architecture.md: module -> the modules of its 'may import'
    column (the first column names one or more ``x.py`` files)."""
    names = set(_modules())
    table: dict[str, set[str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not line.startswith("|"):
            continue
        files = re.findall(r"`([\w]+)\.py`", cells[0])
        if not files:
            continue
        may = {w for w in re.findall(r"[a-z_]+", cells[2]) if w in names}
        for f in files:
            table[f] = may
    return table


def test_the_document_and_this_table_agree():
    doc = _doc_table()
    assert set(doc) == set(MAY_IMPORT), sorted(set(doc) ^ set(MAY_IMPORT))
    differ = {m: (sorted(doc[m]), sorted(MAY_IMPORT[m])) for m in MAY_IMPORT
              if doc[m] != MAY_IMPORT[m]}
    assert not differ, differ
