"""Readers: encoding and delimiter sniffing, exact line numbers, and refusals of broken files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lmp_analytics.errors import FileRejected
from lmp_analytics.ingest.readers import check_duplicate_columns, normalise_column, read_table

HEADER = "skole_orgnr;gruppe;trinn;elev_id;dato;versjon;fritekst"
ROW = "974590123;7A;7;e{i};2024-09-24;spekter-2022-forebyggende;Stemmer svært godt"


def _write(tmp_path: Path, text: str, *, encoding: str = "utf-8", name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _rejected(path: Path) -> FileRejected:
    with pytest.raises(FileRejected) as info:
        read_table(path)
    assert str(path) in str(info.value)
    return info.value


def test_cp1252_semicolon_crlf(tmp_path):
    text = "\r\n".join([HEADER, ROW.format(i=1), ROW.format(i=2)]) + "\r\n"
    table = read_table(_write(tmp_path, text, encoding="cp1252"))
    assert (table.encoding, table.delimiter) == ("cp1252", ";")
    assert table.frame.get_column("fritekst").to_list() == ["Stemmer svært godt"] * 2
    assert table.lines == [2, 3]


def test_utf8_bom_comma(tmp_path):
    text = "\ufeff" + "\n".join([HEADER, ROW.format(i=1)]).replace(";", ",") + "\n"
    table = read_table(_write(tmp_path, text))
    assert (table.encoding, table.delimiter) == ("utf-8-sig", ",")
    assert table.frame.columns[0] == "skole_orgnr"
    assert table.frame.get_column("fritekst")[0] == "Stemmer svært godt"


@pytest.mark.parametrize("newline", ["\r", "\n", "\r\n"])
def test_any_line_end_and_tab(tmp_path, newline):
    text = newline.join(["a\tb", "1\t2", "3\t4"]) + newline
    table = read_table(_write(tmp_path, text))
    assert table.delimiter == "\t"
    assert table.frame.rows() == [("1", "2"), ("3", "4")]
    assert table.lines == [2, 3]


def test_line_numbers_survive_multiline_cells_and_blank_lines(tmp_path):
    text = ('a;b\n1;"two\nlines"\n\n;\n3;x\n')  # record 1 spans lines 2-3; 4-5 are empty
    table = read_table(_write(tmp_path, text))
    assert table.frame.get_column("a").to_list() == ["1", "3"]
    assert table.lines == [2, 6]
    assert table.line_of(1) == 6


def test_short_rows_are_padded_like_excel_writes_them(tmp_path):
    # Excel drops trailing empty fields on some rows; a row with a line end is complete.
    table = read_table(_write(tmp_path, "a;b;c\n1;2;3\n4;5\n"))
    assert table.frame.row(1) == ("4", "5", None)


def test_empty_strings_are_missing(tmp_path):
    table = read_table(_write(tmp_path, "a;b\n1;  \n"))
    assert table.frame.row(0) == ("1", None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" Kjønn ", "kjonn"), ("Skole orgnr", "skole_orgnr"), ("SKOLE-ORGNR", "skole_orgnr"),
     ("\ufeffElev_ID", "elev_id"), ("Formål", "formal"), ("elev  navn", "elev_navn")],
)
def test_column_names_are_normalised(raw, expected):
    assert normalise_column(raw) == expected


# --- refusals -------------------------------------------------------------------------------


def test_utf16_is_refused_with_advice(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes("a;b\n1;2\n".encode("utf-16"))
    err = _rejected(path)
    assert "UTF-16" in err.reason and "CSV UTF-8" in err.reason


def test_utf16_without_bom_is_refused(tmp_path):
    path = tmp_path / "u16le.csv"
    path.write_bytes("a;b\n1;2\n".encode("utf-16-le"))
    assert "NUL bytes" in _rejected(path).reason


def test_bytes_undefined_in_both_encodings(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"a;b\n1;\x81\n")
    err = _rejected(path)
    assert "0x81" in err.reason and "Windows-1252" in err.reason


def test_workbook_with_csv_name(tmp_path):
    path = tmp_path / "book.csv"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    assert "Excel workbook" in _rejected(path).reason


@pytest.mark.parametrize("text", ["", "   \r\n\r\n", ";;;\n"])
def test_empty_file(tmp_path, text):
    assert "is empty" in _rejected(_write(tmp_path, text)).reason


def test_too_many_fields_names_the_line(tmp_path):
    err = _rejected(_write(tmp_path, "a;b\n1;2\n3;4;5\n6;7\n"))
    assert err.row == 3
    assert "3 fields" in err.reason and "2 columns" in err.reason


def test_trailing_empty_fields_are_not_too_many(tmp_path):
    table = read_table(_write(tmp_path, "a;b\n1;2;;\n"))
    assert table.frame.rows() == [("1", "2")]


def test_truncated_last_line(tmp_path):
    text = "\n".join([HEADER, ROW.format(i=1), "974590123;7A;7;e2;2024-0"])
    err = _rejected(_write(tmp_path, text))
    assert err.row == 3
    assert "truncated" in err.reason and "5 of 7 fields" in err.reason


def test_unclosed_quote(tmp_path):
    err = _rejected(_write(tmp_path, 'a;b\n1;2\n3;"four\n5;6\n'))
    assert err.row == 3
    assert "closing quote" in err.reason


def test_duplicate_column_after_normalisation(tmp_path):
    table = read_table(_write(tmp_path, "kjonn;Kjønn;x;X\njente;gutt;1;2\n"))
    assert table.frame.row(0) == ("jente", "1")  # the first of each is kept
    assert table.duplicates == {"kjonn": [1, 2], "x": [3, 4]}
    with pytest.raises(FileRejected) as info:
        check_duplicate_columns(table, {"kjonn"})  # a column the ingest uses: fatal
    assert (info.value.row, info.value.column) == (1, "kjonn")
    assert "more than once" in info.value.reason and "columns 1 and 2" in info.value.reason
    check_duplicate_columns(table, set())  # columns nobody uses: a warning each
    assert len([w for w in table.warnings if "more than once" in w]) == 2


def test_unnamed_columns(tmp_path):
    table = read_table(_write(tmp_path, "a;;b;\n1;x;2;\n"))
    assert table.frame.columns == ["a", "b"]
    assert any("column 2" in w and "no name" in w for w in table.warnings)


@pytest.mark.parametrize("suffix", [".xls", ".ods", ".json"])
def test_unsupported_extension(tmp_path, suffix):
    path = tmp_path / f"f{suffix}"
    path.write_text("a;b\n")
    err = _rejected(path)
    assert suffix in err.reason and ".csv, .xlsx or .parquet" in err.reason


def test_missing_file_and_folder(tmp_path):
    assert "does not exist" in _rejected(tmp_path / "nope.csv").reason
    assert "folder" in _rejected(tmp_path).reason


# --- XLSX and Parquet -----------------------------------------------------------------------


def test_xlsx_numbers_dates_and_sheet_rows(tmp_path):
    import xlsxwriter

    path = tmp_path / "f.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["Skole_orgnr", "trinn", "dato", "kommunenummer"])
    ws.write_number(1, 0, 974590123)
    ws.write_number(1, 1, 7)
    ws.write_datetime(1, 2, dt.datetime(2024, 9, 24), wb.add_format({"num_format": "d.m.yyyy"}))
    ws.write_string(1, 3, "0301")
    ws.write_string(3, 0, "after a blank row")  # row 3 is empty: row 4 keeps its number
    wb.close()
    table = read_table(path)
    assert table.frame.row(0) == ("974590123", "7", "2024-09-24 00:00:00", "0301")
    assert table.lines == [2, 4]


@pytest.mark.parametrize("writer", ["openpyxl", "xlsxwriter"])
def test_xlsx_rows_keep_their_sheet_numbers_below_empty_rows(tmp_path, writer):
    path = tmp_path / "f.xlsx"
    cells = {(3, 2): "skole_orgnr", (3, 3): "trinn", (4, 2): "974590123", (6, 3): "Vg1"}
    if writer == "openpyxl":
        import openpyxl

        wb = openpyxl.Workbook()
        wb.active.title = "Spekter"
        wb.create_sheet("Second")  # the first sheet is read, whatever the others hold
        wb["Second"]["A1"] = "other"
        for (r, c), v in cells.items():
            wb["Spekter"].cell(row=r, column=c, value=v)
        wb.save(path)
    else:
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(path))
        ws = wb.add_worksheet()
        for (r, c), v in cells.items():
            ws.write_string(r - 1, c - 1, v)
        wb.close()
    table = read_table(path)
    assert table.header_line == 3
    assert table.lines == [4, 6]
    assert table.frame.rows() == [("974590123", None), (None, "Vg1")]


def test_broken_xlsx(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    assert "cannot be read as an Excel workbook" in _rejected(path).reason


def test_parquet_types_become_text(tmp_path):
    path = tmp_path / "f.parquet"
    pl.DataFrame({"orgnr": [974590123.0, 1e20], "trinn": [7, None], "svar": [3.5, None],
                  "dato": [dt.date(2024, 9, 24), None],
                  "tid": [dt.datetime(2024, 9, 24, 8, 30), None]}).write_parquet(path)
    table = read_table(path)
    assert table.frame.rows() == [("974590123", "7", "3.5", "2024-09-24", "2024-09-24 08:30:00"),
                                  ("1e+20", None, None, None, None)]
    assert table.line_of(1) == 3


def test_parquet_column_that_is_not_text(tmp_path):
    path = tmp_path / "f.parquet"
    pl.DataFrame({"ok": ["x"], "bytes": pl.Series([b"\xff"], dtype=pl.Binary)}).write_parquet(path)
    err = _rejected(path)
    assert err.column == "bytes" and "cannot be read as text" in err.reason


def test_parquet_nested_and_broken(tmp_path):
    nested = tmp_path / "nested.parquet"
    pl.DataFrame({"a": [[1, 2]]}).write_parquet(nested)
    err = _rejected(nested)
    assert err.column == "a" and "nested" in err.reason
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(nested.read_bytes()[:30])
    assert "cannot be read as Parquet" in _rejected(broken).reason


# --- whatever the bytes, a person gets a message, never a traceback ------------------------

_CSV_ALPHABET = list(';,\t"\r\n ab1Åøæ\x85\u2028\x00')
_FUZZ = settings(max_examples=150, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])


@_FUZZ
@given(text=st.text(alphabet=st.sampled_from(_CSV_ALPHABET), max_size=40),
       encoding=st.sampled_from(["utf-8", "cp1252", "latin-1"]))
def test_any_text_is_read_or_refused(tmp_path, text, encoding):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(text.encode(encoding, errors="replace"))
    try:
        table = read_table(path)
    except FileRejected as exc:
        assert str(path) in str(exc)
    else:
        assert len(table.lines or []) in (0, table.frame.height)
