"""Every report page stands alone (no request leaves it), reads on a phone, and the audit page
prints to an A4 PDF with no table cut and no heading left at the foot of a page.

The reports are conftest.py's session fixtures (executed once per test session)."""
from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from outcomes.cli import main
from outcomes.errors import ReportError
from outcomes.reporting import PDF_NAME, write_pdf

#: attributes through which a page can make the browser fetch or open something
URL_ATTRS = {"src", "href", "srcset", "action", "formaction", "poster", "data", "background",
             "xlink:href", "manifest", "ping", "longdesc", "cite"}

A4_PT = (595.28, 841.89)  # 210 x 297 mm in PDF points


class _Refs(HTMLParser):
    """Every URL-bearing attribute, element id, <script> and CSS text of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.refs: list[tuple[str, str, str]] = []
        self.ids: set[str] = set()
        self.scripts = 0
        self.css: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts += 1
        if tag == "style":
            self._in_style = True
        for name, value in attrs:
            if value is None:
                continue
            if name in ("id", "name"):
                self.ids.add(value)
            elif name == "style":
                self.css.append(value)
            elif name in URL_ATTRS:
                values = ([v.strip().split(" ")[0] for v in value.split(",")]
                          if name == "srcset" else [value])
                self.refs.extend((tag, name, v.strip()) for v in values)

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.css.append(data)


def outside_references(page: str, folder: Path) -> list[str]:
    """What in ``page`` (the HTML text of a file in ``folder``) refers outside the page:
    anything but a ``#`` anchor to an element of the page, a ``data:`` URI, or a relative
    link to a file beside it that exists. Also any script, CSS ``@import`` or CSS ``url()``
    other than ``data:``."""
    parser = _Refs()
    parser.feed(page)
    bad = [f"{parser.scripts} <script> element(s)"] if parser.scripts else []
    for tag, attr, value in parser.refs:
        parts = urlsplit(value)
        if value.startswith("#"):
            if unquote(value[1:]) not in parser.ids:
                bad.append(f'<{tag} {attr}="{value}">: no such anchor in the page')
        elif parts.scheme == "data":
            continue
        elif parts.scheme or parts.netloc or value.startswith("/") or not parts.path:
            bad.append(f'<{tag} {attr}="{value}">')
        elif "/" in parts.path or not (folder / unquote(parts.path)).is_file():
            bad.append(f'<{tag} {attr}="{value}">: not a page beside this one')
    css = "\n".join(parser.css)
    bad += [f"CSS @import {m}" for m in re.findall(r"@import\s+([^;]+)", css)]
    for target in re.findall(r"url\(\s*([^)]*?)\s*\)", css):
        if not target.strip("'\"").startswith(("data:", "#")):
            bad.append(f"CSS url({target})")
    return bad


def _report_folders(reports, pooled_report) -> dict[str, Path]:
    for kind in ("internal", "shareable"):
        assert reports[kind][1].returncode == 0, (kind, reports[kind][1].stderr)
    out, status, stderr = pooled_report
    assert status == 0, stderr
    return {"internal": reports["internal"][0], "shareable": reports["shareable"][0],
            "pooled": out}


def test_the_check_finds_what_leaves_a_page(tmp_path):
    """The checker itself: each kind of outside reference is caught, the allowed ones pass."""
    (tmp_path / "02-efficacy.html").write_text("x")
    page = ('<html><head><script src="https://cdn.example/require.js"></script>'
            '<link rel="stylesheet" href="//fonts.example/x.css">'
            '<style>@import "x.css"; .a {background: url(https://t.example/p.png)}'
            '.b {background: url(data:image/png;base64,AAAA)}</style></head><body>'
            '<h2 id="Safety">Safety</h2><a href="#Safety">ok</a><a href="#Nowhere">no</a>'
            '<a href="02-efficacy.html">ok</a><a href="03-safety.html">missing</a>'
            '<a href="/etc/passwd">abs</a><a href="file:///tmp/x.html">file</a>'
            '<img src="data:image/png;base64,AAAA"><img srcset="a.png 1x, data:x 2x">'
            '<div style="background: url(\'http://t.example/q.png\')"></div></body></html>')
    bad = outside_references(page, tmp_path)
    assert bad[0] == "1 <script> element(s)"
    joined = "\n".join(bad)
    for caught in ("require.js", "//fonts.example", "#Nowhere", "03-safety.html", "/etc/passwd",
                   "file:///tmp/x.html", "a.png", "@import", "t.example/p.png",
                   "t.example/q.png"):
        assert caught in joined, caught
    for allowed in ('href="#Safety"', 'href="02-efficacy.html"', "AAAA"):
        assert allowed not in joined, allowed
    assert len(bad) == 11


def test_no_page_of_any_report_refers_outside_itself(reports, pooled_report):
    """Internal, shareable and pooled reports: every src, href (and CSS url) of every page
    is an anchor of the page, a data: URI, or a sibling page that exists; no script at all."""
    seen = 0
    for kind, folder in _report_folders(reports, pooled_report).items():
        pages = sorted(folder.glob("*.html"))
        assert pages, kind
        for path in pages:
            page = path.read_text(encoding="utf-8")
            assert outside_references(page, folder) == [], (kind, path.name)
            assert page.count("data:image/png;base64,") >= ("<img" in page), (kind, path.name)
            seen += 1
        assert (folder / "index.html").is_file(), kind
    assert seen == 5 + 5 + 1 + 3   # and outcome-definitions.html beside each report


def test_every_page_reads_on_a_phone(reports, pooled_report):
    """A viewport for phones, and every table in a box that scrolls sideways."""
    for kind, folder in _report_folders(reports, pooled_report).items():
        for path in sorted(folder.glob("*.html")):
            page = path.read_text(encoding="utf-8")
            viewport = re.search(r'<meta\b[^>]*name="viewport"[^>]*>', page)
            assert viewport and "width=device-width" in viewport[0], path.name
            assert "max-width: 640px" in page and "overflow-x: auto" in page, path.name
            tables = len(re.findall(r"<table\b", page))
            wrapped = len(re.findall(r'<div class="outcomes-scroll"><table\b', page))
            assert tables == wrapped, (kind, path.name, tables, wrapped)
            assert tables > 0 or path.name == "outcome-definitions.html", (kind, path.name)


# --- the PDF ------------------------------------------------------------------------------

def _pdf_pages(path: Path):
    pdfplumber = pytest.importorskip("pdfplumber")  # a test dependency (pyproject [test])
    with pdfplumber.open(path) as pdf:
        return [(p.width, p.height, p.chars, p.images, p.rects + p.lines) for p in pdf.pages]


@pytest.fixture(scope="module")
def internal_pdf(reports):
    """The internal report's report.pdf, read once (pdfplumber: ~1.5 s for its 12 pages)."""
    out, proc = reports["internal"]
    assert proc.returncode == 0, proc.stderr
    return _pdf_pages(out / PDF_NAME)


def test_pdf_is_a4_with_no_table_cut(reports, internal_pdf):
    """report.pdf (``--pdf``): A4 pages, a page count that fits the audit page, and nothing
    drawn beyond the right margin: a table wider than the page would put its last columns
    there (checked on a deliberately wide table below)."""
    _, proc = reports["internal"]
    pages = internal_pdf
    m = re.search(r"PDF, (\d+) A4 pages", proc.stderr)
    assert m and int(m[1]) == len(pages)
    assert 3 <= len(pages) <= 20, len(pages)  # the sample's audit page: 12 A4 pages (04:40)
    for number, (width, height, chars, images, rules) in enumerate(pages, start=1):
        assert (round(width, 1), round(height, 1)) == (round(A4_PT[0], 1), round(A4_PT[1], 1))
        assert chars, number
        right = width - 25  # the 11 mm margin is 31 pt
        assert max(c["x1"] for c in chars) <= right, number
        assert min(c["x0"] for c in chars) >= 25, number
        assert all(r["x1"] <= right + 1 for r in rules), number
        assert all(i["x1"] <= right + 1 for i in images), number
    text = " ".join("".join(c["text"] for c in p[2]) for p in pages)
    assert "page 1 of" in text.replace("\xa0", " ")


def test_pdf_keeps_headings_with_what_follows(internal_pdf):
    """No heading is the last thing on a page: below each heading (h1-h3, drawn 14 pt and
    larger) comes text or a figure on the same page."""
    headings = 0
    for number, (_width, height, chars, images, _) in enumerate(internal_pdf, 1):
        foot = height - 40  # the page number sits in the bottom margin
        body = [c for c in chars if c["bottom"] < foot]
        lines = sorted({round(c["bottom"]) for c in body if c["size"] >= 14})
        for bottom in lines:
            headings += 1
            after = [c for c in body if c["top"] > bottom + 1]
            assert after or any(i["top"] > bottom for i in images), \
                f"page {number}: a heading at {bottom} pt ends the page"
    assert headings >= 4


def test_wide_table_would_be_caught(tmp_path):
    """The margin check above can fail: a table too wide for A4 draws past the margin."""
    cells = "".join(f"<td style='white-space: nowrap'>column {i} of a long table</td>"
                    for i in range(14))
    write_pdf(f"<table><tr>{cells}</tr></table>", tmp_path / "wide.pdf")
    width, _, chars, _, _ = _pdf_pages(tmp_path / "wide.pdf")[0]
    assert max(c["x1"] for c in chars) > width


def test_missing_pdf_engine_is_one_clear_line(tmp_path, monkeypatch, capsys):
    """Without WeasyPrint (or the Pango library it loads) --pdf stops at once, exit 2, one
    line naming what to install; nothing is executed or written."""
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import fails as if not installed
    status = main(["report", str(Path(__file__).parents[1] / "data" / "sample"), "--quarter",
                   "2026Q3", "--out", str(tmp_path / "out"), "--pdf"])
    err = capsys.readouterr().err
    assert status == 2 and "pip install weasyprint" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "index.html").exists()

    class NoPango:
        def __getattr__(self, name):
            raise OSError("cannot load library 'libpango-1.0-0': no such file")

    monkeypatch.setitem(sys.modules, "weasyprint", NoPango())
    with pytest.raises(ReportError, match=r"needs the Pango library.*apt-get install "
                                          r"libpango-1.0-0") as info:
        write_pdf("<p>x</p>", tmp_path / "x.pdf")
    assert "\n" not in str(info.value)
