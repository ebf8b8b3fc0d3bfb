"""Spreadsheet formula injection (issue 13, item 5), attacked through the real ingest.

A roster names its schools ``=HYPERLINK("http://x","klikk")``, ``+1+2``, ``-2+3`` and
``@SUM(A1)``, a municipality ``=2+2`` and a survey export names its group with a leading tab.
Every CSV and XLSX the package writes from that warehouse (``lmp export`` CSV/XLSX,
``lmp indicators`` and ``lmp compare --format csv``) must hold those names as text: the raw CSV has
no cell that starts a formula, openpyxl finds no formula in the XLSX, and Debian's LibreOffice,
opening the CSV with formula evaluation on, stores every name as a text cell.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import spekter_factory as sf
from report_helpers import libreoffice_opens_csv
from typer.testing import CliRunner

from lmp_analytics import spreadsheet
from lmp_analytics.cli import app
from lmp_analytics.jobs import ingest_and_build
from lmp_analytics.reports.export import to_bytes

runner = CliRunner()
HOSTILE = {  # orgnr (real format) -> school name
    "974590123": '=HYPERLINK("http://x","klikk")',
    "974590247": "+1+2",
    "964338531": "-2+3",
    "964338655": "@SUM(A1)",
}
KOMMUNE = "=2+2"
GROUP = "\t=7A"        # a leading tab, then a formula
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")
NUMBER_COLUMNS = ("n", "count", "share", "ci_low", "ci_high", "mean", "sd", "mean_ci_low",
                  "mean_ci_high")


@pytest.fixture(scope="module")
def hostile_warehouse(tmp_path_factory) -> Path:
    """Four schools with formula names, two rounds (2024H, 2025V), a group with a leading tab."""
    root = tmp_path_factory.mktemp("hostile")
    schools = [(knr, KOMMUNE if knr == "0301" else kommune, orgnr, HOSTILE[orgnr], rolle, pulje,
                oppstart) for knr, kommune, orgnr, _, rolle, pulje, oppstart in sf.SCHOOLS]
    roster = sf.write_roster(root / "roster", schools)
    files = []
    for runde, dato in (("1", "2024-09-24"), ("2", "2025-03-11")):
        for orgnr in HOSTILE:
            for group in (GROUP, "7B"):
                path = root / "spekter" / f"{orgnr}_{runde}_{group.strip()[-2:]}.csv"
                path.parent.mkdir(parents=True, exist_ok=True)
                files.append(sf.write_csv(path, sf.make_rows(orgnr, group, n=12, dato=dato,
                                                             runde=runde)))
    warehouse = root / "warehouse.duckdb"
    result = ingest_and_build(files, roster, warehouse=warehouse, key=sf.TEST_KEY.encode())
    assert result.exit_code == 0, result.outcomes
    return warehouse


def _cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _assert_no_formula_cells(text: str) -> None:
    """No cell of the raw CSV starts a formula; cells starting with '-' or '+' are numbers."""
    reader = csv.reader(io.StringIO(text))
    bad = [(i, cell) for i, row in enumerate(reader) for cell in row
           if cell.startswith(TRIGGERS) and not PLAIN_NUMBER.fullmatch(cell)]
    assert not bad, f"cells a spreadsheet would run as formulas: {bad[:5]}"


def test_export_and_indicators_csv_hold_hostile_names_as_text(hostile_warehouse, tmp_path):
    wh = str(hostile_warehouse)
    out = tmp_path / "export.csv"
    _cli("export", "--level", "school", "--format", "csv", "--out", str(out), "-w", wh)
    outputs = {
        "export --out": out.read_text("utf-8"),
        "export stdout": _cli("export", "--level", "school", "--format", "csv", "-w", wh),
        "indicators": _cli("indicators", "--level", "skole", "--format", "csv", "-w", wh),
        "indicators gruppe": _cli("indicators", "--level", "gruppe", "--role", "forsker",
                                  "--format", "csv", "-w", wh),
        "compare": _cli("compare", "--phase", "runde", "--format", "csv", "-w", wh),
    }
    for name, text in outputs.items():
        _assert_no_formula_cells(text)
        rows = _rows(text)
        assert rows, name
        schools = {r["skole"] for r in rows if r.get("skole")}
        assert schools == {"'" + s for s in HOSTILE.values()}, (name, schools)
        for r in rows:  # numbers stay numbers: never quoted, a negative one stays '-0.03'
            for col in NUMBER_COLUMNS:
                if r.get(col):
                    float(r[col])
    groups = {r["gruppe"] for r in _rows(outputs["indicators gruppe"])}
    assert groups == {"'=7A", "7B"}   # the tab is stripped at ingest, the '=' neutralised
    changes = [float(r["diff_ci_low"]) for r in _rows(outputs["compare"]) if r["diff_ci_low"]]
    assert any(c < 0 for c in changes), "compare should carry a negative number"


def test_xlsx_export_has_no_formula_and_numbers_stay_numbers(hostile_warehouse, tmp_path):
    out = tmp_path / "export.xlsx"
    _cli("export", "--level", "school", "--format", "xlsx", "--out", str(out),
         "-w", str(hostile_warehouse))
    book = openpyxl.load_workbook(out)
    formulas = [(ws.title, c.coordinate, c.value) for ws in book for row in ws.iter_rows()
                for c in row if c.data_type == "f"
                or (isinstance(c.value, str) and c.value.startswith(TRIGGERS))]
    assert not formulas
    assert not any(c.hyperlink for ws in book for row in ws.iter_rows() for c in row)
    ws = book["indikatorer"]
    header = [c.value for c in ws[1]]
    names = {ws.cell(r, header.index("skole") + 1).value for r in range(2, ws.max_row + 1)}
    assert names == {"'" + s for s in HOSTILE.values()}
    shares = [ws.cell(r, header.index("share") + 1) for r in range(2, ws.max_row + 1)]
    assert any(isinstance(c.value, float) for c in shares)
    assert all(c.value is None or c.data_type == "n" for c in shares)


def test_libreoffice_opens_the_csv_export_with_names_as_text(hostile_warehouse, tmp_path):
    """Debian's headless LibreOffice imports the CSV with formula evaluation on (as Excel does)
    and saves it as XLSX: every name is a text cell showing the name, none a formula."""
    src = tmp_path / "export.csv"
    _cli("export", "--level", "school", "--format", "csv", "--out", str(src),
         "-w", str(hostile_warehouse))
    converted = libreoffice_opens_csv(src, tmp_path, separator=",", language=1033)
    shown = openpyxl.load_workbook(converted, data_only=True).active
    book = openpyxl.load_workbook(converted).active
    header = [c.value for c in book[1]]
    col = header.index("skole") + 1
    cells = [book.cell(r, col) for r in range(2, book.max_row + 1)]
    assert [c for c in cells if c.data_type == "f"] == []
    values = {shown.cell(c.row, col).value for c in cells}
    assert values == {"'" + s for s in HOSTILE.values()}
    share = header.index("share") + 1
    numbers = [book.cell(r, share).value for r in range(2, book.max_row + 1)]
    assert any(isinstance(v, float) for v in numbers)
    assert all(v is None or isinstance(v, float | int) for v in numbers)


def test_writers_neutralise_tab_and_carriage_return_and_keep_numbers():
    """What the ingest strips (a leading tab or CR) is still neutralised by every writer."""
    frame = pl.DataFrame({
        "skole": ["\t=1+1", "\rcmd", "=A1", "Vanlig skole", "-3", None],
        "gruppe": pl.Series(["\t7A", "+7B", "7C", "@x", "-0,03", "7D"], dtype=pl.Categorical),
        "share": [-0.03, 0.5, None, 1.0, -1e-7, 0.0],
        "n": [-1, 2, 3, 4, 5, 6],
        "suppressed": [False] * 6,
    })
    rows = _rows(to_bytes(frame, "csv").decode("utf-8"))
    assert [r["skole"] for r in rows] == ["'\t=1+1", "'\rcmd", "'=A1", "Vanlig skole", "-3", ""]
    assert [r["gruppe"] for r in rows] == ["'\t7A", "'+7B", "7C", "'@x", "-0,03", "7D"]
    assert [r["share"] for r in rows] == ["-0.03", "0.5", "", "1.0", "-1e-7", "0.0"]
    assert rows[0]["n"] == "-1"
    book = openpyxl.load_workbook(io.BytesIO(to_bytes(frame, "xlsx")))
    ws = book["indikatorer"]
    cells = [c.value for c in ws["A"][1:4]]   # xlsxwriter stores CR as _x000D_
    assert cells[0] == "'\t=1+1" and cells[1].startswith("'") and cells[2] == "'=A1"
    assert ws["C2"].value == -0.03 and ws["C2"].data_type == "n"
    assert ws["D2"].value == -1
    assert spreadsheet.neutralise("=1") == "'=1" and spreadsheet.neutralise(-3) == -3
    assert spreadsheet.neutralise("-0.03") == "-0.03"
    with pytest.raises(ValueError, match="strings_to_formulas"):
        spreadsheet.xlsx_workbook(io.BytesIO(), strings_to_formulas=True)


WRITERS = re.compile(r"\.write_csv\(|\.write_excel\(|\.to_csv\(|xlsxwriter\.Workbook\(|"
                     r"csv\.writer\(|DictWriter\(")


def test_every_spreadsheet_writer_goes_through_the_one_function():
    """No module of the package or the dashboards writes CSV/XLSX around lmp_analytics.spreadsheet
    (the synthetic Spekter generator writes input files, not reports, and may)."""
    root = Path(__file__).resolve().parents[2]
    allowed = {root / "lmp_analytics" / "spreadsheet.py"}
    offenders = []
    for base in ("lmp_analytics", "dashboards"):
        for path in (root / base).rglob("*.py"):
            if path in allowed or "synth" in path.relative_to(root).parts:
                continue
            for i, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
                if WRITERS.search(line) and "spreadsheet" not in line:
                    offenders.append(f"{path.relative_to(root)}:{i}: {line.strip()}")
    assert offenders == []
