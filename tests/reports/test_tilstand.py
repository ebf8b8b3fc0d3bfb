"""`lmp tilstandsrapport`: the DOCX parses back, its numbers are the API's for the same role,
hidden cells show no number, PDF and HTML carry the same numbers, the bytes are the same on a
rerun, and a kommune role cannot ask for another municipality."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from collections import Counter
from pathlib import Path

import docx
import polars as pl
import pytest
from report_helpers import pdf_text
from typer.testing import CliRunner

from lmp_analytics import api
from lmp_analytics.cli import app
from lmp_analytics.jobs import ingest_national
from lmp_analytics.presentation import fmt
from lmp_analytics.readmodels import catalogue
from lmp_analytics.reports.tilstand import chapter, render_chapter, render_tilstand
from lmp_analytics.reports.tilstand.content import HEADLINE, _term
from lmp_analytics.warehouse.audit import read_log

runner = CliRunner()
KOMMUNE = "5530"  # Vindmark: 4 LMP schools and comparison schools in the report_world
OTHER = "0301"
YEAR = "2025-26"
NUMBER = re.compile(r"[−+]?\d+(?:[ \u00a0]\d{3})*(?:[,.]\d+)?")


@pytest.fixture(scope="module")
def world(report_world, tmp_path_factory) -> Path:
    """The report world with Elevundersøkelsen loaded (a private copy: loading writes)."""
    path = tmp_path_factory.mktemp("tilstand") / "warehouse.duckdb"
    shutil.copyfile(report_world, path)
    ingest_national([report_world.parent / "world" / "elevundersokelsen.csv"], warehouse=path)
    return path


@pytest.fixture(scope="module")
def nb_chapter(world):
    """The chapter read once for the program role in bokmål (each format lays it out)."""
    return chapter(KOMMUNE, YEAR, warehouse=world)


def _docx(data: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(data))


def _tables(doc) -> list[list[list[str]]]:
    return [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]


def _all_text(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    for t in _tables(doc):
        parts += [" | ".join(r) for r in t]
    return "\n".join(parts)


def _numbers(text: str) -> list[str]:
    return sorted(NUMBER.findall(text.replace("\u00a0", " ")))


def _headline_table(doc) -> list[list[str]]:
    heading = catalogue.indicator_catalogue()[HEADLINE].label("nb")
    seen = False
    for block in doc.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p" and docx.text.paragraph.Paragraph(block, doc).text == heading:
            seen = True
        elif tag == "tbl" and seen:
            return [[c.text for c in row.cells] for row in docx.table.Table(block, doc).rows]
    raise AssertionError("no headline table")


@pytest.mark.parametrize("role", ["program", f"kommune:{KOMMUNE}"])
def test_docx_numbers_are_the_apis_for_the_same_role(world, role):
    doc = _docx(render_tilstand(KOMMUNE, YEAR, fmt="docx", role=role, warehouse=world))
    rows = _headline_table(doc)
    cells = api.indicators("skole", indicator=HEADLINE, role=role, warehouse=world)
    names = dict(catalogue.schools(role=role, warehouse=world).select("skole_orgnr", "skole")
                 .iter_rows())
    by_key = {(names[r["skole_orgnr"]], _term(r["term"], "nb")): r
              for r in cells.iter_rows(named=True) if r["kommunenummer"] == KOMMUNE}
    checked = 0
    for row in rows[1:]:
        cell = by_key.get((row[0], row[1]))
        if cell is None:
            continue  # a kommune row
        checked += 1
        if cell["suppressed"]:
            assert row[2] == "skjult"
        else:
            assert row[2] == fmt.value_ci(cell["share"], cell["ci_low"], cell["ci_high"],
                                          "share", "nb")
            assert row[3] == fmt.integer(cell["n"], "nb")
    assert checked >= 8  # four LMP schools and comparison schools, two terms each
    kom = api.indicators("kommune", indicator=HEADLINE, role=role, warehouse=world).filter(
        (pl.col("kommunenummer") == KOMMUNE) & (pl.col("term") == "2026V")
        & ~pl.col("suppressed"))
    shown = {r[2] for r in rows if r[1] == "Vår 2026"}
    for r in kom.iter_rows(named=True):
        assert fmt.value_ci(r["share"], r["ci_low"], r["ci_high"], "share", "nb") in shown


def test_hidden_cells_show_no_number(world, monkeypatch):
    """A stricter reader (LMP_MIN_N=170) hides most school cells: each reads 'skjult', with no
    value, interval or count anywhere in its row of the table."""
    monkeypatch.setenv("LMP_MIN_N", "170")
    cells = api.indicators("skole", indicator=HEADLINE, warehouse=world).filter(
        pl.col("kommunenummer") == KOMMUNE)
    hidden = cells.filter(pl.col("suppressed") & pl.col("term").is_in(["2025H", "2026V"]))
    assert hidden.height >= 3, "the attack needs hidden cells"
    doc = _docx(render_tilstand(KOMMUNE, YEAR, fmt="docx", warehouse=world))
    names = dict(catalogue.schools(warehouse=world).select("skole_orgnr", "skole").iter_rows())
    rows = {(r[0], r[1]): r for r in _headline_table(doc)}
    for h in hidden.iter_rows(named=True):
        row = rows[(names[h["skole_orgnr"]], _term(h["term"], "nb"))]
        assert row[2] == "skjult" and not NUMBER.search(row[2] + row[3].replace("*", "")), row
    # the hidden share is nowhere in the document, in any format of the number
    monkeypatch.delenv("LMP_MIN_N")
    full = api.indicators("skole", indicator=HEADLINE, warehouse=world)
    text = _all_text(doc)
    for h in hidden.iter_rows(named=True):
        true = full.filter((pl.col("skole_orgnr") == h["skole_orgnr"])
                           & (pl.col("term") == h["term"])).row(0, named=True)
        assert fmt.value_ci(true["share"], true["ci_low"], true["ci_high"], "share",
                            "nb") not in text


def test_docx_is_a_word_document_a_template_can_restyle(world):
    data = render_tilstand(KOMMUNE, YEAR, fmt="docx", lang="nn", warehouse=world)
    doc = _docx(data)
    assert doc.core_properties.language == "nn-NO"
    styles = zipfile.ZipFile(io.BytesIO(data)).read("word/styles.xml").decode("utf-8")
    assert re.search(r'<w:rPrDefault>.*w:lang w:val="nn-NO"', styles, re.S)
    headings = [p for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert {p.style.name for p in headings} >= {"Heading 1", "Heading 2"}
    assert "Elevundersøkinga" in {p.text for p in headings}
    assert len(doc.tables) >= 5
    alts = [d.get("descr") for d in doc.element.body.iter(
        "{http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing}docPr")]
    assert alts and all(a and len(a) > 40 for a in alts)
    assert len(doc.inline_shapes) == len(alts) >= 2


def test_same_bytes_for_the_same_input_and_date(world, nb_chapter, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    first = render_tilstand(KOMMUNE, YEAR, fmt="docx", warehouse=world)
    assert render_tilstand(KOMMUNE, YEAR, fmt="docx", warehouse=world) == first
    for f in ("html", "md"):
        assert render_chapter(nb_chapter, f) == render_chapter(nb_chapter, f), f
    doc = _docx(first)
    assert doc.core_properties.created.year == 2026


def test_pdf_and_html_carry_the_docx_numbers(nb_chapter, tmp_path):
    doc = _docx(render_chapter(nb_chapter, "docx"))
    in_docx = _numbers(_all_text(doc))
    page = render_chapter(nb_chapter, "html").decode("utf-8")
    body = re.sub(r'src="data:[^"]*"', "", page.split("<body>", 1)[1])
    html_text = re.sub(r"<[^>]+>", "\n", body).replace("&quot;", '"').replace("&amp;", "&")
    title = doc.paragraphs[0].text  # the HTML repeats the title only in <title>, not here
    assert _numbers(html_text) == sorted(in_docx)
    assert title
    pdf = tmp_path / "t.pdf"
    pdf.write_bytes(render_chapter(nb_chapter, "pdf"))
    # a PDF table wraps cells over lines and pdftotext reads them in its own order: compare
    # the digit groups of every table cell (a thousands group stays whole: no count here
    # reaches 1 000), each as many times as the tables hold it
    digits = re.compile(r"\d+(?:,\d+)?")
    in_pdf = Counter(digits.findall(pdf_text(pdf)))
    in_tables = Counter(d for table in _tables(doc) for row in table[1:] for value in row
                        for d in digits.findall(value))
    assert in_tables and not in_tables - in_pdf, in_tables - in_pdf


def test_cli_writes_audited_and_refuses_another_municipality(world, tmp_path):
    wh = tmp_path / "wh.duckdb"
    shutil.copyfile(world, wh)
    out = tmp_path / "kapittel.docx"
    ok = runner.invoke(app, ["tilstandsrapport", "--kommune", KOMMUNE, "--skoleaar", YEAR,
                             "--lang", "nn", "--out", str(out), "-w", str(wh),
                             "--role", f"kommune:{KOMMUNE}"])
    assert ok.exit_code == 0, ok.output
    assert out.read_bytes() == render_tilstand(KOMMUNE, YEAR, fmt="docx", lang="nn",
                                               role=f"kommune:{KOMMUNE}", warehouse=wh)
    log = read_log(wh)
    assert [(e["action"], e["role"], e["scope"]) for e in log] == [
        ("tilstandsrapport", f"kommune:{KOMMUNE}", f"kommune {KOMMUNE}")]
    nope = tmp_path / "nope.docx"
    refused = runner.invoke(app, ["tilstandsrapport", "--kommune", OTHER, "--skoleaar", YEAR,
                                  "--out", str(nope), "-w", str(wh),
                                  "--role", f"kommune:{KOMMUNE}"])
    assert refused.exit_code == 2
    assert "does not include kommune" in refused.output
    assert not nope.exists() and len(read_log(wh)) == 1
