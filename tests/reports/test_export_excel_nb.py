"""``lmp export --excel-nb`` (issue 19, item 9): a CSV that Norwegian Excel opens as a table.

The machine-readable default (',' and a decimal point) opens in Norwegian Excel as one column.
The Excel-nb CSV has ';' between fields, a decimal comma, Norwegian headers, rounded values,
terms and codes in words, and stays formula-safe. Debian's headless LibreOffice, importing it
the way Norwegian Excel does (';', Norwegian locale), stores the numbers as number cells.
"""

from __future__ import annotations

import csv
import io

import openpyxl
from report_helpers import libreoffice_opens_csv
from typer.testing import CliRunner

from lmp_analytics.cli import app

runner = CliRunner()


def _export(tmp_path, warehouse, *extra: str):
    out = tmp_path / "eksport.csv"
    result = runner.invoke(app, ["export", "--level", "school", "--excel-nb", "--out", str(out),
                                 "-w", str(warehouse), *extra])
    assert result.exit_code == 0, result.output
    return out


def test_excel_nb_csv_is_labelled_rounded_and_in_words(sample_warehouse, tmp_path):
    raw = _export(tmp_path, sample_warehouse).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 (æøå) only with the BOM
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows
    header = list(rows[0])
    assert header[:4] == ["Nivå", "Kommunenr.", "Org.nr.", "Skole"]
    assert "Andel (%)" in header and "Termin" in header and "share" not in header
    terms = {r["Termin"] for r in rows}
    assert terms <= {"høsten 2024", "våren 2025"} and terms, terms
    assert {r["Rolle i LMP"] for r in rows} <= {"deltakerskole", "sammenligningsskole"}
    assert {r["Skjult"] for r in rows} <= {"ja", "nei"}
    methods = {r["Intervallmetode"] for r in rows} - {""}
    assert methods and not methods & {"wilson", "wilson_srs", "cluster_t"}
    shares = [r["Andel (%)"] for r in rows if r["Andel (%)"]]
    assert shares and all("." not in s for s in shares)
    assert any("," in s for s in shares)
    assert all(len(s.split(",")[-1]) <= 1 for s in shares if "," in s)  # one decimal
    assert all(0 <= float(s.replace(",", ".")) <= 100 for s in shares)  # percent, not 0-1
    hidden = [r for r in rows if r["Skjult"] == "ja"]
    assert all(r["Andel (%)"] == "" for r in hidden)


def test_the_machine_readable_csv_stays_the_default(sample_warehouse, tmp_path):
    out = tmp_path / "default.csv"
    result = runner.invoke(app, ["export", "--level", "school", "--out", str(out),
                                 "-w", str(sample_warehouse)])
    assert result.exit_code == 0, result.output
    header = out.read_text("utf-8").splitlines()[0]
    assert header.startswith("level,kommunenummer,") and ";" not in header
    bad = runner.invoke(app, ["export", "--excel-nb", "--format", "xlsx", "--out",
                              str(tmp_path / "x.xlsx"), "-w", str(sample_warehouse)])
    assert bad.exit_code != 0 and "--excel-nb" in bad.output


def test_libreoffice_in_norwegian_reads_numbers_as_numbers(sample_warehouse, tmp_path):
    src = _export(tmp_path, sample_warehouse)
    converted = libreoffice_opens_csv(src, tmp_path, separator=";", language=1044)
    sheet = openpyxl.load_workbook(converted).active
    header = [c.value for c in sheet[1]]
    assert len(header) > 10  # one column per field, not one column per row
    share = header.index("Andel (%)") + 1
    cells = [sheet.cell(r, share) for r in range(2, sheet.max_row + 1)]
    numbers = [c.value for c in cells if c.value is not None]
    assert numbers and all(isinstance(v, float | int) for v in numbers), numbers[:5]
    assert any(v != int(v) for v in numbers)  # the decimal comma was read as a decimal
    assert max(numbers) <= 100
    term = header.index("Termin") + 1
    assert {sheet.cell(r, term).value for r in range(2, sheet.max_row + 1)} <= {
        "høsten 2024", "våren 2025"}
    assert [c for row in sheet.iter_rows() for c in row if c.data_type == "f"] == []
