"""Issue 9, "Must show": walk every shareable output and find nothing that should not leave.

The bundled sample dressed as a real clinic's export (:mod:`dressed_export`): practitioner ids
are staff names, an e-mail and a phone number; patient ids are recognisable (``ZQX00017``); the
patients file carries an extra column (``referral_source_zqx``), the folder an extra file, and
two rows break rules (a measurement of an unknown patient, an adverse event before the patient's
first session) so that the data-quality page has quarantine reasons to show. Its shareable
report, as ``outcomes report --shareable`` wrote it (conftest ``reports``; every HTML page:
tables, text, alt texts and titles; every figure's texts, read in-process from the matplotlib
figures the report sections draw) and results.json, and ``outcomes pool``'s output (JSON and
HTML) of three clinics whose exports carry staff names and ZQX pseudonyms too, are walked:

- no patient id, no practitioner name / e-mail / phone, no patient date (any date of the export
  other than the cut-off), no name of an ignored column or file;
- results.json and the pooled JSON hold only frames and columns the disclosure schema declares
  (``outcomes.disclosure.SCHEMA``), and every count is 0, ``"<5"``, ``"*"`` or a multiple of 5.
"""
from __future__ import annotations

import json
import re
import warnings

import pytest

import attack_lp as A
from conftest import split_tables
from dressed_export import dressed_tables, forbidden


@pytest.fixture(scope="module")
def shareable_outputs(reports, dressed_context, pooled_report):
    """{output name: text} of every shareable output, and the forbidden strings: every file
    of the dressed export's shareable report (conftest ``reports``) and the texts of its
    figures; every file of ``outcomes pool --out`` of three clinics whose exports carry staff
    names and ZQX pseudonyms (conftest ``pooled_report``) and the texts of its figures."""
    from outcomes.reporting import pooled_context

    folder, proc = reports["shareable"]
    assert proc.returncode == 0, proc.stderr
    outputs = {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}
    assert {"index.html", "results.json", "01-data-quality.html"} <= set(outputs)
    pooled, status, stderr = pooled_report
    assert status == 0, stderr
    outputs |= {f"pooled/{p.name}": p.read_text(encoding="utf-8")
                for p in sorted(pooled.iterdir()) if p.suffix in (".html", ".json")}
    assert {"pooled/index.html", "pooled/pooled.json"} <= set(outputs)
    mp = pytest.MonkeyPatch()
    try:
        outputs["figures (report)"] = "\n".join(_figure_texts(
            mp, lambda: dressed_context, pooled=False))
        outputs["figures (pooled)"] = "\n".join(_figure_texts(
            mp, lambda: pooled_context(pooled / "pooled.json"), pooled=True))
    finally:
        mp.undo()
    periods = set(dressed_context.analysis.periods["first_quarter"])
    assert "2025Q4" in periods  # the rolling year begins on 1 October 2025, a date of the export
    out = forbidden(dressed_tables(), periods)
    for what, values in forbidden(split_tables(), periods).items():
        out[what] |= values
    return outputs, out


def _section_names(pooled: bool) -> list[str]:
    """The sections the report notebooks call (``sections.NAME(ctx)``)."""
    from importlib import resources

    names = set()
    for nb in resources.files("outcomes").joinpath("notebooks").iterdir():
        if nb.name.endswith(".ipynb") and nb.name.startswith("90") == pooled:
            names |= set(re.findall(r"sections\.([a-z_]+)\(ctx\)", nb.read_text("utf-8")))
    return sorted(names)


def _figure_texts(mp, make_ctx, *, pooled: bool) -> list[str]:
    """Every text of every figure the report's sections draw (titles, axis labels, tick
    labels, legends, annotations, alt texts), run in-process: figure_html is wrapped to read the
    figure (instead of drawing its PNG)."""
    import matplotlib.text

    from outcomes import sections

    texts: list[str] = []

    def reading(fig=None, **kw):
        import matplotlib.pyplot as plt

        f = plt.gcf() if fig is None else fig
        texts.extend(t.get_text() for t in f.findobj(matplotlib.text.Text) if t.get_text())
        texts.append(kw.get("alt", ""))
        plt.close(f)  # the texts are read; the PNG itself is walked in the report's pages
        return ""

    mp.setattr(sections, "figure_html", reading)
    # an empty figure cache (sections._drawn), restored after: a figure another test already
    # drew for the same data would be taken from it and its texts never read here, and the
    # "" returned above must not be kept for later tests
    mp.setattr(sections, "_DRAWN", {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctx = make_ctx()
        for name in _section_names(pooled):
            getattr(sections, name)(ctx)
    assert texts, "no figure was drawn"
    return texts


def _texts(name: str, text: str) -> list[str]:
    """Every published string of one output: JSON keys and values; HTML tables, text, alt
    texts, titles and SVG text."""
    if name.endswith(".json"):
        out = []

        def walk(x):
            if isinstance(x, dict):
                for k, v in x.items():
                    out.append(str(k))
                    walk(v)
            elif isinstance(x, list):
                for v in x:
                    walk(v)
            elif x is not None:
                out.append(str(x))
        walk(json.loads(text))
        return out
    tables, rest = A.html_tables(text)
    return [rest] + [c for t in tables for row in t for c in row] + _svg_texts(text)


def _svg_texts(html: str) -> list[str]:
    """The text of every SVG figure (inline or as a base64 data URI): labels, titles, ticks,
    legends, annotations."""
    import base64
    import html as _html

    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    for b64 in re.findall(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", html):
        svgs.append(base64.b64decode(b64).decode("utf-8", "replace"))
    out = []
    for svg in svgs:
        for t in re.findall(r"<(?:text|title|desc)\b[^>]*>(.*?)</(?:text|title|desc)>", svg,
                            flags=re.S):
            out.append(_html.unescape(re.sub(r"<[^>]+>", "", t)))
    return out


@pytest.mark.slow
def test_no_pseudonym_name_date_or_ignored_name_in_any_shareable_output(shareable_outputs):
    outputs, forbidden = shareable_outputs
    assert outputs["figures (report)"] and outputs["figures (pooled)"]
    found = []
    for name, text in outputs.items():
        blob = "\n".join(_texts(name, text))
        for what, values in forbidden.items():
            hits = sorted(v for v in values if v in blob)
            if what == "pseudonym":  # whole tokens only (ZQX00001 must not match ZQX000012)
                hits = sorted(set(re.findall(r"ZQX\d{5}(?:-S\d+)?|E\d{6}", blob)) & values)
            if hits:
                found.append(f"{name}: {what}: {hits[:5]}")
    assert not found, "\n".join(found)


#: results-file part -> the SCHEMA entries declaring it (a pooled response carries the
#: random-effects columns too; the meta-analysis blocks have their own entries)
_SPECS = {"cohort": ("cohort_counts",), "response": ("response", "pooled_random_effects"),
          "meta.studies": ("meta_studies",), "meta.published_studies": ("meta_studies",),
          "meta.summary": ("meta_summary",), "meta.published_summary": ("meta_summary",),
          "meta.funnel": ("meta_funnel",)}


def _parts(data: dict):
    """(name, rows) of every table of a results dict, the meta blocks and the cohort too."""
    for name, rows in data.items():
        if name == "meta" and isinstance(rows, dict):
            for part, sub in rows.items():
                if isinstance(sub, list) and sub and isinstance(sub[0], dict):
                    yield f"meta.{part}", sub
        elif name == "cohort" and isinstance(rows, dict):
            yield name, [rows]
        elif isinstance(rows, list) and rows and isinstance(rows[0], dict):
            yield name, rows


@pytest.mark.slow
def test_json_outputs_hold_only_the_declared_schema(shareable_outputs):
    """Every table of results.json and of the pooled JSON is declared in
    ``outcomes.disclosure.SCHEMA`` (keys, counts, derived roles), and every count is 0, "<5",
    "*" (withheld in pooled output) or a multiple of 5."""
    from outcomes import disclosure  # the one disclosure-control pass (issue 9, item 1)

    from outcomes.definitions import Definitions

    outputs, _ = shareable_outputs
    bad = []
    for name in ("results.json", "pooled/pooled.json"):
        data = json.loads(outputs[name])
        defs = Definitions(**{k: v for k, v in data["definitions"].items()
                              if k in Definitions.__dataclass_fields__})
        for frame, rows in _parts(data):
            specs = [disclosure.SCHEMA[s] for s in _SPECS.get(frame, (frame,))
                     if s in disclosure.SCHEMA]
            if not specs:
                bad.append(f"{name}: {frame} is not declared ({sorted(rows[0])})")
                continue
            declared = set().union(*(set(sp.keys) | set(sp.counts) | set(sp.roles(defs))
                                     for sp in specs))
            extra = {c for r in rows for c in r} - declared
            if extra:
                bad.append(f"{name}: {frame}: undeclared columns {sorted(extra)}")
            counts = set().union(*(sp.counts for sp in specs))
            for r in rows:
                for c in counts:
                    v = r.get(c)
                    if not (v is None or v == 0 or v in ("*", "<5")
                            or (isinstance(v, int) and not isinstance(v, bool) and v % 5 == 0)):
                        bad.append(f"{name}: {frame}.{c} = {v!r} (not 0, <5, * or base 5)")
    assert not bad, "\n".join(bad[:30])
